/*
 * sip_tport: UDP and TCP listeners, TCP connections with framing and
 * limits, stateless answers to malformed requests (see sip_tport.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>

#define LOG_MODULE "sip"
#include "base/arena.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "sip/sip_frame.h"
#include "sip/sip_print.h"
#include "sip/sip_tport.h"

struct sip_conn {
	struct sip_tport *t;
	struct loop_conn *lc;
	uint64_t id;
	char key[24]; /* decimal id: the hash key, lives with the conn */
	struct sockaddr_storage peer;
	struct mbuf in; /* received bytes not framed yet */
	struct timer idle;
};

struct sip_tport {
	struct loop *loop;
	struct sip_tport_conf conf;
	sip_tport_recv_h *h;
	void *arg;
	struct loop_udp *udp;
	struct loop_listener *listener;
	struct hash *conns; /* key: decimal id -> struct sip_conn */
	uint64_t next_id;
	struct sip_tport_stats st;
	struct arena arena; /* per message */
	struct mbuf out;    /* stateless answers */
	char abuf[16384];
};

void sip_tport_conf_default(struct sip_tport_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_conns = 1000;
	conf->max_conn_buf = 128 * 1024;
	conf->idle_ms = 10 * 60 * 1000;
	conf->udp_rcvbuf = 4 * 1024 * 1024;
}

static const struct sip_limits *limits(const struct sip_tport *t)
{
	return t->conf.limits ? t->conf.limits : &sip_limits_default;
}

/* Status and phrase for a parse error; @buf receives the phrase. */
static unsigned error_status(int err, const struct sip_perr *perr, char *buf, size_t size)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		snprintf(buf, size, "Version Not Supported");
		return 505;
	case -EMSGSIZE:
		snprintf(buf, size, "Message Too Large (%s)",
			 perr->reason ? perr->reason : "limit");
		return 513;
	default:
		/* The header name is a token from the message: no CR, LF. */
		if (perr->hdr.len)
			snprintf(buf, size, "Bad Request (%.*s: %s)", (int)perr->hdr.len,
				 perr->hdr.p, perr->reason ? perr->reason : "malformed");
		else
			snprintf(buf, size, "Bad Request (%s)",
				 perr->reason ? perr->reason : "malformed");
		return 400;
	}
}

/* Parse one whole message and hand it up, or answer it statelessly. */
static void deliver(struct sip_tport *t, const char *buf, size_t len, unsigned flags,
		    const struct sip_peer *from)
{
	struct sip_perr perr = {0};
	struct sip_msg *msg;
	int err;

	err = sip_msg_parse(&msg, &t->arena, buf, len, flags, limits(t), &perr);
	if (!err) {
		t->st.rx++;
		t->h(msg, from, t->arg);
	} else {
		char phrase[160];
		unsigned status = error_status(err, &perr, phrase, sizeof(phrase));

		t->st.bad++;
		log_debug("malformed message proto=%s bytes=%zu status=%u reason=\"%s\" "
			  "offset=%zu",
			  from->transport == SIP_TRANSPORT_TCP ? "tcp" : "udp", len, status,
			  perr.reason ? perr.reason : "-", perr.offset);
		t->out.pos = t->out.end = 0;
		if (!sip_reply_print_raw(&t->out, buf, len, status, str_cstr(phrase)))
			sip_tport_send(t, from, t->out.buf, t->out.end);
	}
	arena_reset(&t->arena);
}

/* ---- UDP ---------------------------------------------------------------- */

static bool only_crlf(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\r' && buf[i] != '\n')
			return false;
	}
	return true;
}

static void on_udp(const char *buf, size_t len, const struct sockaddr *from, void *arg)
{
	struct sip_tport *t = arg;
	struct sip_peer peer = {.transport = SIP_TRANSPORT_UDP};

	/* Keep-alive datagrams of CRLFs carry nothing to answer. */
	if (only_crlf(buf, len))
		return;
	memcpy(&peer.addr, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in));
	deliver(t, buf, len, SIP_PARSE_DGRAM, &peer);
}

/* ---- TCP ---------------------------------------------------------------- */

static void conn_free(struct sip_conn *c)
{
	struct str key = str_cstr(c->key);

	hash_del(c->t->conns, &key);
	timer_cancel(&c->idle);
	mbuf_reset(&c->in);
	c->t->st.conns--;
	mem_free(c);
}

static void conn_close(struct sip_conn *c)
{
	loop_conn_close(c->lc);
	conn_free(c);
}

static void on_idle(void *arg)
{
	struct sip_conn *c = arg;

	log_debug("tcp connection idle, closing conn=%" PRIu64, c->id);
	conn_close(c);
}

static void on_conn_closed(struct loop_conn *lc, int err, void *arg)
{
	struct sip_conn *c = arg;

	(void)lc;
	(void)err;
	conn_free(c); /* the loop closes lc itself */
}

static void on_conn_read(struct loop_conn *lc, const char *buf, size_t len, void *arg)
{
	struct sip_conn *c = arg;
	struct sip_tport *t = c->t;
	struct sip_peer peer = {.transport = SIP_TRANSPORT_TCP, .conn_id = c->id};
	int err;

	(void)lc;
	memcpy(&peer.addr, &c->peer, sizeof(peer.addr));
	timer_start(loop_timers(t->loop), &c->idle, t->conf.idle_ms, on_idle, c);
	err = mbuf_write(&c->in, buf, len);
	if (err) {
		log_info("tcp connection buffer full, closing conn=%" PRIu64, c->id);
		conn_close(c);
		return;
	}
	for (;;) {
		struct str s = mbuf_str(&c->in);
		struct sip_perr perr = {0};
		size_t used = 0;
		int r = sip_frame(s.p, s.len, limits(t), &used, &perr);

		if (r == SIP_FRAME_MORE)
			break;
		if (r < 0) {
			char phrase[160];
			unsigned status = error_status(r, &perr, phrase, sizeof(phrase));

			/* RFC 3261 §18.3: no way to find the next message. */
			t->st.bad++;
			t->out.pos = t->out.end = 0;
			if (!sip_reply_print_raw(&t->out, s.p, s.len, status, str_cstr(phrase)))
				loop_conn_write(c->lc, t->out.buf, t->out.end);
			log_debug("tcp framing error, closing conn=%" PRIu64 " reason=\"%s\"",
				  c->id, perr.reason);
			conn_close(c);
			return;
		}
		if (r == SIP_FRAME_KEEPALIVE) {
			if (used == 4 && loop_conn_write(c->lc, "\r\n", 2)) {
				conn_close(c);
				return;
			}
		} else {
			deliver(t, s.p, used, 0, &peer);
		}
		mbuf_advance(&c->in, used);
	}
	mbuf_compact(&c->in);
}

static void on_accept(struct loop_conn *lc, void *arg)
{
	struct sip_tport *t = arg;
	struct sip_conn *c;
	int err;

	if (t->st.conns >= t->conf.max_conns) {
		t->st.refused++;
		log_warn("tcp connection refused: %u connections open", t->conf.max_conns);
		loop_conn_close(lc);
		return;
	}
	c = mem_zalloc(sizeof(*c));
	if (!c) {
		loop_conn_close(lc);
		return;
	}
	c->t = t;
	c->lc = lc;
	c->id = ++t->next_id;
	snprintf(c->key, sizeof(c->key), "%" PRIu64, c->id);
	mbuf_init(&c->in, t->conf.max_conn_buf);
	timer_init(&c->idle);
	loop_conn_peer(lc, &c->peer);
	{
		struct str key = str_cstr(c->key);

		err = hash_put(t->conns, &key, c, NULL);
	}
	if (err) {
		mbuf_reset(&c->in);
		mem_free(c);
		loop_conn_close(lc);
		return;
	}
	t->st.conns++;
	timer_start(loop_timers(t->loop), &c->idle, t->conf.idle_ms, on_idle, c);
	loop_conn_start(lc, t->conf.max_conn_buf, on_conn_read, on_conn_closed, c);
}

/* ---- the transport ------------------------------------------------------ */

int sip_tport_alloc(struct sip_tport **tp, struct loop *l, const struct sip_tport_conf *conf,
		    sip_tport_recv_h *h, void *arg)
{
	const struct sockaddr *sa = (const struct sockaddr *)&conf->addr;
	struct sockaddr_storage bound;
	struct sip_tport *t;
	int err;

	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = l;
	t->conf = *conf;
	t->h = h;
	t->arg = arg;
	arena_init(&t->arena, t->abuf, sizeof(t->abuf), 0);
	mbuf_init(&t->out, 65535);
	err = hash_alloc(&t->conns, 64, 0);
	if (err)
		goto out;
	err = loop_udp_open(l, sa, conf->udp_rcvbuf, on_udp, t, &t->udp);
	if (err)
		goto out;
	/* Port 0 picks a free UDP port; TCP takes the same one. */
	err = loop_udp_local(t->udp, &bound);
	if (err)
		goto out;
	err = loop_listen(l, (const struct sockaddr *)&bound, on_accept, t, &t->listener);
out:
	if (err)
		sip_tport_free(t);
	else
		*tp = t;
	return err;
}

void sip_tport_free(struct sip_tport *t)
{
	size_t it = 0;
	struct str key;
	void *val;

	if (!t)
		return;
	while (t->conns && hash_next(t->conns, &it, &key, &val)) {
		conn_close(val);
		it = 0; /* the map changed: start over */
	}
	hash_free(t->conns);
	loop_udp_close(t->udp);
	loop_listener_close(t->listener);
	mbuf_reset(&t->out);
	arena_reset(&t->arena);
	mem_free(t);
}

int sip_tport_send(struct sip_tport *t, const struct sip_peer *to, const void *buf, size_t len)
{
	int err;

	if (to->transport == SIP_TRANSPORT_TCP) {
		char id[24];
		struct str key;
		struct sip_conn *c;

		snprintf(id, sizeof(id), "%" PRIu64, to->conn_id);
		key = str_cstr(id);
		c = hash_get(t->conns, &key);
		if (!c)
			return -ENOTCONN;
		err = loop_conn_write(c->lc, buf, len);
	} else {
		err = loop_udp_send(t->udp, (const struct sockaddr *)&to->addr, buf, len);
	}
	if (!err)
		t->st.tx++;
	return err;
}

int sip_tport_local(const struct sip_tport *t, struct sockaddr_storage *ss)
{
	return loop_udp_local(t->udp, ss);
}

void sip_tport_stats(const struct sip_tport *t, struct sip_tport_stats *st)
{
	*st = t->st;
}
