/*
 * sip_tx: the transaction layer's common part (see sip_tx.h): the layer
 * object, dispatch of received messages, transaction keys and lifetime, and
 * where responses go and what their top Via says (RFC 3261 §18.2,
 * RFC 3581). The state machines are in sip_tx_client.c and sip_tx_server.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#define LOG_MODULE "sip"
#include "base/log.h"
#include "base/mem.h"
#include "sip/sip_tx_internal.h"

static const struct sip_tx_conf conf_default = {
    .t1_ms = 500,
    .t2_ms = 4000,
    .t4_ms = 5000,
    .timer_d_ms = 32000,
    .trying_ms = 200,
    .max_tx = 262144, /* ~4,000 non-INVITE requests/s held 32 s (Timer J) */
    .retry_after_s = 5,
    .done_mib = 256, /* ~450,000 answered REGISTERs: 14,000/s held for Timer J */
};

#define DEFAULT(field) (conf && conf->field ? conf->field : conf_default.field)

int sip_txl_alloc(struct sip_txl **txlp, const struct sip_tx_conf *conf, struct timer_wheel *tw,
		  const struct sip_tx_ops *ops, void *arg)
{
	struct sip_txl *txl;
	int err;

	if (!txlp || !tw || !ops || !ops->send || !ops->request)
		return -EINVAL;
	txl = mem_zalloc(sizeof(*txl));
	if (!txl)
		return -ENOMEM;
	txl->tw = tw;
	txl->ops = *ops;
	txl->arg = arg;
	txl->conf.t1_ms = DEFAULT(t1_ms);
	txl->conf.t2_ms = DEFAULT(t2_ms);
	txl->conf.t4_ms = DEFAULT(t4_ms);
	txl->conf.timer_d_ms = DEFAULT(timer_d_ms);
	txl->conf.trying_ms = DEFAULT(trying_ms);
	txl->conf.max_tx = DEFAULT(max_tx);
	txl->conf.retry_after_s = DEFAULT(retry_after_s);
	txl->conf.done_mib = DEFAULT(done_mib);
	txl->done_max_bytes = (size_t)txl->conf.done_mib << 20;
	list_init(&txl->all);
	list_init(&txl->done_fifo);
	timer_init(&txl->done_timer);
	err = hash_alloc(&txl->txs, 0, 0);
	if (!err) {
		err = hash_alloc(&txl->done, 0, 0);
		if (err)
			hash_free(txl->txs);
	}
	if (err)
		mem_free(txl);
	else
		*txlp = txl;
	return err;
}

void sip_txl_free(struct sip_txl *txl)
{
	struct list_elem *e, *tmp;

	if (!txl)
		return;
	list_for_each_safe(&txl->all, e, tmp)
	{
		tx_free(list_entry(e, struct sip_tx, le));
	}
	list_for_each_safe(&txl->done_fifo, e, tmp)
	{
		mem_free(list_entry(e, struct tx_done, le));
	}
	timer_cancel(&txl->done_timer);
	hash_free(txl->done);
	hash_free(txl->txs);
	mem_free(txl);
}

size_t sip_txl_count(const struct sip_txl *txl)
{
	return txl ? txl->count + txl->done_count : 0;
}

void sip_txl_stats(const struct sip_txl *txl, struct sip_txl_stats *st)
{
	*st = (struct sip_txl_stats){
	    .open = txl->count,
	    .done = txl->done_count,
	    .done_bytes = txl->done_bytes,
	    .rejected = txl->rejected,
	    .done_early = txl->done_early,
	    .stateless = txl->stateless,
	};
}

int sip_txl_recv(struct sip_txl *txl, const struct sip_msg *msg, const struct sip_peer *src)
{
	if (!txl || !msg || !src || !msg->via)
		return -EINVAL;
	return msg->is_request ? tx_server_recv(txl, msg, src) : tx_client_recv(txl, msg, src);
}

int sip_txl_send(struct sip_txl *txl, const struct sip_peer *dst, const void *buf, size_t len)
{
	if (!txl || !dst || !buf)
		return -EINVAL;
	return txl->ops.send(txl->arg, dst, buf, len);
}

enum sip_tx_state sip_tx_state(const struct sip_tx *t)
{
	return t->state;
}

const struct sip_peer *sip_tx_peer(const struct sip_tx *t)
{
	return &t->peer;
}

/* ---- Keys ---- */

int tx_key_make(struct tx_key *k, char kind, const struct str *parts, size_t n, unsigned lower_mask)
{
	size_t len = 2; /* kind, and room for sprintf's NUL */
	char *w;

	for (size_t i = 0; i < n; i++)
		len += parts[i].len + 21; /* up to 20 digits and ':' */
	k->p = len <= sizeof(k->small) ? k->small : mem_alloc(len);
	if (!k->p)
		return -ENOMEM;
	w = k->p;
	*w++ = kind;
	for (size_t i = 0; i < n; i++) {
		w += sprintf(w, "%zu:", parts[i].len);
		for (size_t j = 0; j < parts[i].len; j++) {
			char c = parts[i].p[j];

			if ((lower_mask & (1u << i)) && c >= 'A' && c <= 'Z')
				c = (char)(c | 0x20);
			*w++ = c;
		}
	}
	k->len = (size_t)(w - k->p);
	return 0;
}

void tx_key_release(struct tx_key *k)
{
	if (k->p != k->small)
		mem_free(k->p);
	k->p = NULL;
}

/* ---- Transaction lifetime ---- */

struct sip_tx *tx_alloc(struct sip_txl *txl, const struct tx_key *k)
{
	struct sip_tx *t = mem_zalloc(sizeof(*t) + k->len);

	if (!t)
		return NULL;
	t->txl = txl;
	list_elem_init(&t->le);
	mbuf_init(&t->msg, 0);
	mbuf_init(&t->ack, 0);
	timer_init(&t->retx);
	timer_init(&t->life);
	memcpy(t->keybuf, k->p, k->len);
	t->key = str_make(t->keybuf, k->len);
	return t;
}

int tx_link(struct sip_tx *t)
{
	int err = hash_put(t->txl->txs, &t->key, t, NULL);

	if (err)
		return err;
	list_append(&t->txl->all, &t->le);
	t->txl->count++;
	return 0;
}

void tx_free(struct sip_tx *t)
{
	if (list_elem_linked(&t->le)) {
		list_unlink(&t->le);
		hash_del(t->txl->txs, &t->key);
		t->txl->count--;
	}
	t->state = SIP_TX_TERMINATED;
	timer_cancel(&t->retx);
	timer_cancel(&t->life);
	mbuf_reset(&t->msg);
	mbuf_reset(&t->ack);
	mem_free((void *)t->resp_to_tag.p);
	mem_free(t);
}

/* ---- Completed non-INVITE server transactions, compact ---- */

/* What a record costs: its allocation, with malloc's rounding, and its hash slot. */
static size_t done_size(const struct tx_done *d)
{
	return ((sizeof(*d) + d->key_len + d->resp_len + 15) & ~(size_t)15) + 48;
}

static void done_drop(struct sip_txl *txl, struct tx_done *d)
{
	struct str key = str_make(d->data, d->key_len);

	hash_del(txl->done, &key);
	list_unlink(&d->le);
	txl->done_count--;
	txl->done_bytes -= done_size(d);
	mem_free(d);
}

static void done_timer_h(void *arg);

static void done_arm(struct sip_txl *txl)
{
	struct list_elem *e = list_head(&txl->done_fifo);
	uint64_t now = timer_wheel_now(txl->tw);
	struct tx_done *d;

	if (!e)
		return;
	d = list_entry(e, struct tx_done, le);
	timer_start(txl->tw, &txl->done_timer, d->expires > now ? d->expires - now : 0,
		    done_timer_h, txl);
}

/* Timer J of every record due, oldest first; then wait for the next one. */
static void done_timer_h(void *arg)
{
	struct sip_txl *txl = arg;
	uint64_t now = timer_wheel_now(txl->tw);
	struct list_elem *e;

	while ((e = list_head(&txl->done_fifo))) {
		struct tx_done *d = list_entry(e, struct tx_done, le);

		if (d->expires > now)
			break;
		done_drop(txl, d);
	}
	done_arm(txl);
}

void tx_done_add(struct sip_tx *st, const void *resp, size_t len)
{
	struct sip_txl *txl = st->txl;
	size_t dst_len = st->peer.addr.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							    : sizeof(struct sockaddr_in6);
	struct tx_done *d = NULL;
	struct str key;
	bool first;

	if (st->key.len > UINT16_MAX || len > UINT32_MAX)
		goto out;
	d = mem_alloc(sizeof(*d) + st->key.len + len);
	if (!d)
		goto out;
	memset(&d->dst, 0, sizeof(d->dst));
	memcpy(&d->dst, &st->peer.addr, dst_len);
	d->key_len = (uint16_t)st->key.len;
	d->resp_len = (uint32_t)len;
	memcpy(d->data, st->key.p, st->key.len);
	memcpy(d->data + st->key.len, resp, len);
	d->expires = timer_wheel_now(txl->tw) + 64 * (uint64_t)txl->conf.t1_ms;
	key = str_make(d->data, d->key_len);
	/* Unlink the transaction first: the record takes over its key. */
	tx_free(st);
	st = NULL;
	if (hash_put(txl->done, &key, d, NULL)) {
		mem_free(d);
		goto out;
	}
	first = list_empty(&txl->done_fifo);
	list_append(&txl->done_fifo, &d->le);
	txl->done_count++;
	txl->done_bytes += done_size(d);
	/* Over the budget, the oldest go first (see sip_tx.h). */
	while (txl->done_bytes > txl->done_max_bytes && txl->done_count > 1) {
		struct tx_done *old = list_entry(list_head(&txl->done_fifo), struct tx_done, le);

		if (txl->done_early++ % 10000 == 0)
			log_warn(
			    "completed transactions over their memory, dropping the oldest early "
			    "limit_mib=%u dropped=%llu",
			    txl->conf.done_mib, (unsigned long long)txl->done_early);
		done_drop(txl, old); /* the timer, set for an older head, re-arms itself */
	}
	if (first)
		done_arm(txl);
out:
	if (st)
		tx_free(st);
}

struct tx_done *tx_done_get(struct sip_txl *txl, const struct str *key)
{
	return hash_get(txl->done, key);
}

void tx_done_resend(struct sip_txl *txl, const struct tx_done *d)
{
	struct sip_peer p = {.transport = SIP_TRANSPORT_UDP};
	int err;

	memcpy(&p.addr, &d->dst, sizeof(d->dst));
	err = txl->ops.send(txl->arg, &p, d->data + d->key_len, d->resp_len);
	if (err)
		log_debug("transaction send failed err=%d", err);
}

int tx_send(struct sip_txl *txl, const struct sip_peer *peer, const struct mbuf *mb)
{
	struct str s = mbuf_str(mb);
	int err = txl->ops.send(txl->arg, peer, s.p, s.len);

	if (err)
		log_debug("transaction send failed err=%d", err);
	return err;
}

int tx_parse(struct sip_msg **msgp, struct arena *a, const void *buf, size_t len)
{
	return sip_msg_parse(msgp, a, buf, len, 0, NULL, NULL);
}

/* ---- Where responses go, and their top Via (RFC 3261 §18.2, RFC 3581) ---- */

static uint16_t peer_port(const struct sip_peer *p)
{
	if (p->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)&p->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)&p->addr)->sin6_port);
}

static void peer_set_port(struct sip_peer *p, uint16_t port)
{
	if (p->addr.ss_family == AF_INET)
		((struct sockaddr_in *)(void *)&p->addr)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)&p->addr)->sin6_port = htons(port);
}

static const void *peer_ip(const struct sip_peer *p, size_t *len)
{
	if (p->addr.ss_family == AF_INET) {
		*len = 4;
		return &((const struct sockaddr_in *)(const void *)&p->addr)->sin_addr;
	}
	*len = 16;
	return &((const struct sockaddr_in6 *)(const void *)&p->addr)->sin6_addr;
}

static bool peer_valid(const struct sip_peer *p)
{
	return p->addr.ss_family == AF_INET || p->addr.ss_family == AF_INET6;
}

int sip_tx_resp_peer(struct sip_peer *dst, const struct sip_msg *req, const struct sip_peer *src)
{
	if (!dst || !req || !src || !req->via || !peer_valid(src))
		return -EINVAL;
	*dst = *src;
	/* §18.2.2: reliable transports answer on the connection the request came on;
	 * RFC 3581 §4: with rport, to the source address and port. */
	if (sip_peer_reliable(src) || req->via->has_rport)
		return 0;
	/* §18.2.2: the received address (our source address) and the sent-by port. */
	peer_set_port(dst, req->via->port ? req->via->port : 5060);
	return 0;
}

/* True when sent-by is an IP literal equal to the source address (§18.2.1). */
static bool sent_by_is_source(const struct sip_via *via, const struct sip_peer *src)
{
	unsigned char bin[16];
	char host[64];
	size_t len;
	const void *ip = peer_ip(src, &len);
	int af = src->addr.ss_family;

	if (via->host_type == SIP_HOST_NAME || via->host.len >= sizeof(host))
		return false;
	str_copy_cstr(host, sizeof(host), &via->host);
	return inet_pton(af, host, bin) == 1 && memcmp(bin, ip, len) == 0;
}

/* Append the params of @params but received and rport, each as ";param". */
static int copy_other_params(struct mbuf *out, struct str params)
{
	const char *p = params.p, *end = params.p + params.len;
	int err = 0;

	while (p < end && !err) {
		const char *start;
		bool quoted = false;
		struct str elem, name;
		long eq;

		/* One element runs to the next ';' outside a quoted string. */
		if (*p == ';')
			p++;
		start = p;
		while (p < end && (quoted || *p != ';')) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p + 1 < end)
				p++;
			p++;
		}
		elem = str_trim(str_make(start, (size_t)(p - start)));
		if (!elem.len)
			continue;
		eq = str_chr(&elem, '=');
		name = str_trim(eq < 0 ? elem : str_make(elem.p, (size_t)eq));
		if (str_ieq_lit(&name, "received") || str_ieq_lit(&name, "rport"))
			continue;
		err = mbuf_write_u8(out, ';');
		err = err ? err : mbuf_write_str(out, &elem);
	}
	return err;
}

int sip_tx_via_received(struct mbuf *out, const struct sip_msg *req, const struct sip_peer *src)
{
	const struct sip_hdr *h;
	const struct sip_via *via;
	char ip[INET6_ADDRSTRLEN];
	size_t iplen, mark;
	struct str head;
	int err;

	if (!out || !req || !src || !req->via || !peer_valid(src))
		return -EINVAL;
	via = req->via;
	h = sip_msg_hdr(req, SIP_HDR_VIA);
	if (!h)
		return -EINVAL;
	if (!via->has_rport && sent_by_is_source(via, src))
		return 0;
	if (!inet_ntop(src->addr.ss_family, peer_ip(src, &iplen), ip, sizeof(ip)))
		return -EINVAL;
	/* The value up to its parameters as written, then the parameters. */
	head = h->value;
	if (via->params.len && via->params.p >= h->value.p &&
	    via->params.p <= h->value.p + h->value.len)
		head = str_make(h->value.p, (size_t)(via->params.p - h->value.p));
	head = str_trim(head);
	mark = out->end;
	err = mbuf_write_str(out, &head);
	err = err ? err : copy_other_params(out, via->params);
	/* §18.2.1 received, RFC 3581 §4 rport: "...;received=192.0.2.1;rport=9988". */
	err = err ? err : mbuf_write_cstr(out, ";received=");
	err = err ? err : mbuf_write_cstr(out, ip);
	if (!err && via->has_rport) {
		err = mbuf_write_cstr(out, ";rport=");
		err = err ? err : mbuf_write_u64(out, peer_port(src));
	}
	if (err) {
		out->end = mark;
		return err;
	}
	return 1;
}

int sip_tx_reply_print(struct mbuf *out, const struct sip_msg *req, const struct sip_peer *src,
		       const struct sip_reply *r)
{
	struct sip_reply with_via;
	struct mbuf via;
	int n, err;

	if (!out || !req || !r || !req->is_request)
		return -EINVAL;
	if (!src)
		return sip_reply_print(out, req, r);
	mbuf_init(&via, 0);
	n = sip_tx_via_received(&via, req, src);
	if (n < 0) {
		err = n;
		goto out;
	}
	with_via = *r;
	if (n > 0)
		with_via.top_via = mbuf_str(&via);
	err = sip_reply_print(out, req, &with_via);
out:
	mbuf_reset(&via);
	return err;
}
