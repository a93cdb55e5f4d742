/*
 * sip_tx_server: server transactions (RFC 3261 §17.2): matching of received
 * requests (§17.2.3, RFC 3261 and RFC 2543 rules), the INVITE machine of
 * Figure 7 with the Accepted state of RFC 6026 §7.1, the non-INVITE machine
 * of Figure 8, the 100 Trying of §17.2.1, CANCEL matching (§9.2) and the
 * stateless 503 over the transaction limit. Not here: deciding what to
 * answer, which is the TU's.
 */
#include <errno.h>
#include <stdio.h>

#define LOG_MODULE "sip"
#include "base/log.h"
#include "base/mem.h"
#include "sip/sip_tx_internal.h"

/* The method part of a server key: an ACK matches its INVITE (§17.2.3). */
static struct str key_method(const struct sip_msg *req)
{
	if (req->method == SIP_METHOD_ACK)
		return STR("INVITE");
	return req->method_str;
}

static bool has_cookie(const struct sip_msg *req)
{
	return str_has_prefix(&req->via->branch, &STR(SIP_TX_COOKIE));
}

/*
 * RFC 3261 §17.2.3: branch, sent-by (host case-insensitive, port as
 * written) and method.
 */
static int key_3261(struct tx_key *k, const struct sip_msg *req, struct str method)
{
	const struct sip_via *via = req->via;
	char port[8];
	struct str parts[4];

	snprintf(port, sizeof(port), "%u", via->port);
	parts[0] = via->branch;
	parts[1] = via->host;
	parts[2] = str_cstr(port);
	parts[3] = method;
	return tx_key_make(k, 's', parts, 4, 1u << 1);
}

/*
 * RFC 2543 (RFC 3261 §17.2.3, last paragraphs): Request-URI, To tag, From
 * tag, Call-ID, CSeq number and method, and the whole top Via value.
 */
static int key_2543(struct tx_key *k, const struct sip_msg *req, struct str method,
		    struct str to_tag)
{
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	char cseq[16];
	struct str parts[7];

	snprintf(cseq, sizeof(cseq), "%u", req->cseq.seq);
	parts[0] = req->ruri.raw;
	parts[1] = to_tag;
	parts[2] = req->from->tag;
	parts[3] = req->call_id;
	parts[4] = str_cstr(cseq);
	parts[5] = method;
	parts[6] = via ? via->value : STR_NULL;
	return tx_key_make(k, '2', parts, 7, 0);
}

static int key_of(struct tx_key *k, const struct sip_msg *req, struct str method, struct str to_tag)
{
	return has_cookie(req) ? key_3261(k, req, method) : key_2543(k, req, method, to_tag);
}

static struct sip_tx *lookup(struct sip_txl *txl, const struct tx_key *k)
{
	struct str key = str_make(k->p, k->len);
	struct sip_tx *t = hash_get(txl->txs, &key);

	return t && !t->client ? t : NULL;
}

/*
 * The INVITE server transaction an ACK or CANCEL belongs to. RFC 2543 rule:
 * a CANCEL has the INVITE's To tag; an ACK to our non-2xx response has the
 * To tag of that response, which the INVITE had not (or, for a re-INVITE,
 * the same tag the INVITE had).
 */
static int find_invite(struct sip_txl *txl, const struct sip_msg *req, struct sip_tx **stp)
{
	struct tx_key k;
	struct sip_tx *st;
	int err;

	err = key_of(&k, req, STR("INVITE"), req->to->tag);
	if (err)
		return err;
	st = lookup(txl, &k);
	tx_key_release(&k);
	if (!st && !has_cookie(req) && req->method == SIP_METHOD_ACK && req->to->tag.len) {
		err = key_2543(&k, req, STR("INVITE"), STR_NULL);
		if (err)
			return err;
		st = lookup(txl, &k);
		tx_key_release(&k);
		if (st && st->resp_to_tag.len && !str_eq(&st->resp_to_tag, &req->to->tag))
			st = NULL;
	}
	*stp = st && st->invite ? st : NULL;
	return 0;
}

static void server_retx_h(void *arg);
static void server_life_h(void *arg);

static uint64_t t1(const struct sip_tx *t)
{
	return t->txl->conf.t1_ms;
}

/* ---- Retransmitted requests ---- */

static int absorb(struct sip_tx *st, const struct sip_msg *req)
{
	struct sip_txl *txl = st->txl;

	if (req->method == SIP_METHOD_ACK) {
		switch (st->state) {
		case SIP_TX_COMPLETED:
			/* §17.2.1: ACK to our non-2xx; timer I absorbs its retransmissions. */
			st->state = SIP_TX_CONFIRMED;
			timer_cancel(&st->retx);
			timer_start(txl->tw, &st->life, st->reliable ? 0 : txl->conf.t4_ms,
				    server_life_h, st);
			return SIP_TX_RECV_ABSORBED;
		case SIP_TX_ACCEPTED:
			/* RFC 6026 §7.1: the ACK to a 2xx goes to the TU. */
			return -EAGAIN;
		default:
			return SIP_TX_RECV_ABSORBED;
		}
	}
	/*
	 * §17.2.1, §17.2.2: a retransmitted request gets the last response
	 * again (a provisional in Proceeding, the final in Completed); nothing
	 * in Trying, Confirmed or Accepted (RFC 6026: the TU re-sends its 2xx).
	 */
	if ((st->state == SIP_TX_PROCEEDING || st->state == SIP_TX_COMPLETED) && st->last_status)
		tx_send(txl, &st->peer, &st->msg);
	return SIP_TX_RECV_ABSORBED;
}

/* ---- New requests ---- */

/* The layer's own responses: the 100 Trying and the 503 over the limit. */
static int print_own(struct mbuf *out, const struct sip_txl *txl, const struct sip_msg *req,
		     const struct sip_peer *src, unsigned status)
{
	struct sip_reply r = {.status = status};
	char tag[16], hdr[48];
	uint32_t h;

	if (status == 503) {
		/* The same tag for every retransmission of the request (§8.2.6.2). */
		h = str_hash(&req->call_id) ^ str_hash(&req->via->branch) ^ req->cseq.seq;
		snprintf(tag, sizeof(tag), "%08x", h);
		snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n", txl->conf.retry_after_s);
		r.to_tag = str_cstr(tag);
		r.headers = str_cstr(hdr);
	}
	return sip_tx_reply_print(out, req, src, &r);
}

static int reject_busy(struct sip_txl *txl, const struct sip_msg *req, const struct sip_peer *src)
{
	struct sip_peer dst;
	struct mbuf mb;
	int err;

	mbuf_init(&mb, 0);
	err = sip_tx_resp_peer(&dst, req, src);
	err = err ? err : print_own(&mb, txl, req, src, 503);
	if (!err) {
		/* An operator must see this, but not once per request. */
		if (txl->rejected++ % 1000 == 0)
			log_warn("transaction limit reached, answering 503 limit=%u rejected=%llu",
				 txl->conf.max_tx, (unsigned long long)txl->rejected);
		tx_send(txl, &dst, &mb);
	}
	mbuf_reset(&mb);
	return err ? err : SIP_TX_RECV_REJECTED;
}

static int server_create(struct sip_tx **stp, struct sip_txl *txl, const struct tx_key *k,
			 const struct sip_msg *req, const struct sip_peer *src)
{
	struct sip_tx *st = tx_alloc(txl, k);
	int err;

	if (!st)
		return -ENOMEM;
	st->invite = req->method == SIP_METHOD_INVITE;
	st->rfc2543 = !has_cookie(req);
	st->state = st->invite ? SIP_TX_PROCEEDING : SIP_TX_TRYING;
	st->src = *src;
	st->reliable = sip_peer_reliable(src);
	err = sip_tx_resp_peer(&st->peer, req, src);
	if (err)
		goto out;
	if (st->invite) {
		/* §17.2.1: built now, while the request is at hand; sent if the TU
		 * has not answered within 200 ms. */
		err = print_own(&st->msg, txl, req, src, 100);
		if (err)
			goto out;
		st->trying_pending = true;
	}
	err = tx_link(st);
	if (err)
		goto out;
	if (st->invite)
		timer_start(txl->tw, &st->retx, txl->conf.trying_ms, server_retx_h, st);
out:
	if (err)
		tx_free(st);
	else
		*stp = st;
	return err;
}

int tx_server_recv(struct sip_txl *txl, const struct sip_msg *req, const struct sip_peer *src)
{
	struct sip_tx *st = NULL;
	struct tx_key k;
	int err;

	if (!req->to || !req->from)
		return -EINVAL;
	if (req->method == SIP_METHOD_ACK) {
		err = find_invite(txl, req, &st);
		if (err)
			return err;
		if (st) {
			err = absorb(st, req);
			if (err != -EAGAIN)
				return err;
		}
		/* The ACK to a 2xx is the dialog's (§17.2.1, §13.3.1.4). */
		txl->ops.request(txl->arg, NULL, req, src);
		return SIP_TX_RECV_ACK;
	}
	err = key_of(&k, req, key_method(req), req->to->tag);
	if (err)
		return err;
	st = lookup(txl, &k);
	if (st) {
		err = absorb(st, req);
		goto out;
	}
	{
		struct str key = str_make(k.p, k.len);
		const struct tx_done *d = tx_done_get(txl, &key);

		if (d) {
			/* §17.2.2: Completed re-sends the final response. */
			tx_done_resend(txl, d);
			err = SIP_TX_RECV_ABSORBED;
			goto out;
		}
	}
	if (txl->count >= txl->conf.max_tx) {
		err = reject_busy(txl, req, src);
		goto out;
	}
	err = server_create(&st, txl, &k, req, src);
	if (err)
		goto out;
	txl->ops.request(txl->arg, st, req, src);
	err = SIP_TX_RECV_NEW;
out:
	tx_key_release(&k);
	return err;
}

/* ---- Timers ---- */

/* 100 Trying (§17.2.1) in Proceeding; timer G in Completed. */
static void server_retx_h(void *arg)
{
	struct sip_tx *st = arg;
	struct sip_txl *txl = st->txl;
	int err;

	if (st->state == SIP_TX_PROCEEDING) {
		if (st->trying_pending) {
			st->trying_pending = false;
			st->last_status = 100;
			tx_send(txl, &st->peer, &st->msg);
		}
		return;
	}
	if (st->state != SIP_TX_COMPLETED)
		return;
	err = tx_send(txl, &st->peer, &st->msg);
	if (err) {
		/* §17.2.4: a transport error ends the transaction. */
		tx_free(st);
		return;
	}
	/* §17.2.1: G doubles up to T2. */
	st->interval = st->interval * 2 < txl->conf.t2_ms ? st->interval * 2 : txl->conf.t2_ms;
	timer_start(txl->tw, &st->retx, st->interval, server_retx_h, st);
}

/* H, I, J and L: each ends the transaction. */
static void server_life_h(void *arg)
{
	struct sip_tx *st = arg;

	if (st->state == SIP_TX_COMPLETED && st->invite)
		log_debug("INVITE transaction: no ACK before timer H");
	tx_free(st);
}

/* ---- Responses from the TU ---- */

/* "SIP/2.0 NNN" at the start of @buf, or 0. */
static unsigned status_of(const char *buf, size_t len)
{
	struct str s = str_make(buf, len);
	unsigned v;

	if (len < 12 || !str_has_prefix(&s, &STR("SIP/2.0 ")) || buf[11] != ' ')
		return 0;
	if (buf[8] < '1' || buf[8] > '6' || buf[9] < '0' || buf[9] > '9' || buf[10] < '0' ||
	    buf[10] > '9')
		return 0;
	v = (unsigned)(buf[8] - '0') * 100 + (unsigned)(buf[9] - '0') * 10 +
	    (unsigned)(buf[10] - '0');
	return v;
}

/* The To tag of a final response to an RFC 2543 INVITE, for matching its ACK. */
static int keep_to_tag(struct sip_tx *st, const char *buf, size_t len, struct str *tag)
{
	_Alignas(16) char abuf[4096];
	struct arena a;
	struct sip_msg *resp;
	int err;

	arena_init(&a, abuf, sizeof(abuf), 0);
	err = tx_parse(&resp, &a, buf, len);
	if (!err && resp->to->tag.len)
		err = str_dup(tag, &resp->to->tag);
	else if (!err)
		*tag = STR_NULL;
	arena_reset(&a);
	(void)st;
	return err;
}

static int respond(struct sip_tx *st, unsigned status, const void *buf, size_t len)
{
	struct sip_txl *txl = st->txl;
	struct str tag = STR_NULL;
	struct mbuf mb;
	int err;

	if (st->state != SIP_TX_TRYING && st->state != SIP_TX_PROCEEDING)
		return -EINVAL;
	if (!st->invite && status >= 200) {
		/* §17.2.2: Completed; timer J (64*T1 over UDP, 0 otherwise) only
		 * absorbs retransmissions, which a compact record does. */
		st->state = SIP_TX_COMPLETED;
		timer_cancel(&st->retx);
		err = txl->ops.send(txl->arg, &st->peer, buf, len);
		if (err)
			log_debug("transaction send failed err=%d", err);
		if (st->reliable)
			tx_free(st);
		else
			tx_done_add(st, buf, len);
		return err;
	}
	if (st->rfc2543 && st->invite && status >= 300) {
		err = keep_to_tag(st, buf, len, &tag);
		if (err == -ENOMEM)
			return err;
		/* A response that does not parse only loses the To tag check. */
	}
	/* Copy first: on -ENOMEM the transaction keeps its previous response.
	 * Exactly @len long: an INVITE transaction may keep it for 32 s. */
	mbuf_init(&mb, len);
	err = mbuf_write(&mb, buf, len);
	if (err) {
		mem_free((void *)tag.p);
		return err;
	}
	mbuf_reset(&st->msg);
	st->msg = mb;
	if (tag.len) {
		mem_free((void *)st->resp_to_tag.p);
		st->resp_to_tag = tag;
	}
	st->trying_pending = false;
	st->last_status = status;
	if (status < 200) {
		timer_cancel(&st->retx);
		st->state = SIP_TX_PROCEEDING;
		return tx_send(txl, &st->peer, &st->msg);
	}
	timer_cancel(&st->retx);
	if (status < 300) {
		/* RFC 6026 §7.1: Accepted, timer L = 64*T1. */
		st->state = SIP_TX_ACCEPTED;
		timer_start(txl->tw, &st->life, 64 * t1(st), server_life_h, st);
	} else {
		/* §17.2.1: timer G (UDP only) re-sends, timer H waits for the ACK. */
		st->state = SIP_TX_COMPLETED;
		if (!st->reliable) {
			st->interval = t1(st);
			timer_start(txl->tw, &st->retx, st->interval, server_retx_h, st);
		}
		timer_start(txl->tw, &st->life, 64 * t1(st), server_life_h, st);
	}
	return tx_send(txl, &st->peer, &st->msg);
}

int sip_tx_respond(struct sip_tx *st, const void *buf, size_t len)
{
	unsigned status;

	if (!st || st->client || !buf)
		return -EINVAL;
	status = status_of(buf, len);
	if (!status)
		return -EINVAL;
	return respond(st, status, buf, len);
}

int sip_tx_respond_stateless(struct sip_tx *st, const void *buf, size_t len)
{
	struct sip_txl *txl;
	int err;

	if (!st || st->client || !buf || status_of(buf, len) < 200 ||
	    (st->state != SIP_TX_TRYING && st->state != SIP_TX_PROCEEDING))
		return -EINVAL;
	txl = st->txl;
	txl->stateless++;
	err = txl->ops.send(txl->arg, &st->peer, buf, len);
	if (err)
		log_debug("transaction send failed err=%d", err);
	tx_free(st);
	return err;
}

int sip_tx_reply(struct sip_tx *st, const struct sip_msg *req, const struct sip_reply *r)
{
	struct mbuf mb;
	int err;

	if (!st || st->client || !req || !r)
		return -EINVAL;
	mbuf_init(&mb, 0);
	err = sip_tx_reply_print(&mb, req, &st->src, r);
	if (!err)
		err = respond(st, r->status, mb.buf, mb.end);
	mbuf_reset(&mb);
	return err;
}

enum sip_tx_cancel_result sip_tx_cancel_match(struct sip_txl *txl, const struct sip_msg *cancel,
					      struct sip_tx **invp)
{
	struct sip_tx *st = NULL;

	if (!txl || !cancel || !cancel->is_request || cancel->method != SIP_METHOD_CANCEL ||
	    !cancel->via || !cancel->to || !cancel->from)
		return SIP_TX_CANCEL_NONE;
	if (find_invite(txl, cancel, &st) || !st)
		return SIP_TX_CANCEL_NONE;
	if (st->state != SIP_TX_PROCEEDING)
		return SIP_TX_CANCEL_ANSWERED;
	if (invp)
		*invp = st;
	return SIP_TX_CANCEL_PENDING;
}
