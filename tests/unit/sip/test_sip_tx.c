/*
 * Unit tests for sip_tx, the transaction layer (RFC 3261 §17): a fake
 * transport records every send with the fake clock's time, and the clock
 * drives the timer wheel from deadline to deadline, so each timer is checked
 * at its exact millisecond. Not here: the parser (test_sip_msg) and the
 * printer (test_sip_print).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/timer.h"
#include "sip/sip_msg.h"
#include "sip/sip_tx.h"
#include "test.h"

#define CRLF "\r\n"

#define NSENT  80
#define NSLOTS 6

struct sent {
	uint64_t at;
	struct sip_peer peer;
	size_t len;
	char buf[1536];
};

struct fx {
	uint64_t now;
	struct timer_wheel *tw;
	struct sip_txl *txl;

	/* fake transport */
	struct sent sent[NSENT];
	unsigned nsent;
	int send_err;

	/* TU, server side */
	unsigned nreq, nack;
	struct sip_tx *st;	   /* last new server transaction */
	const struct sip_msg *req; /* last request handed up */
	unsigned auto_status;	   /* answer from inside the callback */
	int auto_err;

	/* TU, client side */
	unsigned nresp, nstray;
	int last_err;
	unsigned last_status;
	bool last_had_msg;

	/* parsed messages: a ring of buffers and arenas */
	unsigned slot;
	struct arena arena[NSLOTS];
	_Alignas(16) char abuf[NSLOTS][16384];
	char text[NSLOTS][2048];
};

static int fake_send(void *arg, const struct sip_peer *peer, const void *buf, size_t len)
{
	struct fx *f = arg;
	struct sent *s;

	if (f->send_err)
		return f->send_err;
	if (f->nsent == NSENT || len > sizeof(s->buf))
		return -ENOBUFS;
	s = &f->sent[f->nsent++];
	s->at = f->now;
	s->peer = *peer;
	s->len = len;
	memcpy(s->buf, buf, len);
	return 0;
}

static int fx_reply(struct sip_tx *st, const struct sip_msg *req, unsigned status)
{
	struct sip_reply r = {.status = status, .to_tag = STR("uas-tag")};

	return sip_tx_reply(st, req, &r);
}

static void tu_request(void *arg, struct sip_tx *st, const struct sip_msg *req,
		       const struct sip_peer *src)
{
	struct fx *f = arg;

	(void)src;
	f->req = req;
	if (!st) {
		f->nack++;
		return;
	}
	f->nreq++;
	f->st = st;
	if (f->auto_status)
		f->auto_err = fx_reply(st, req, f->auto_status);
}

static void tu_stray(void *arg, const struct sip_msg *resp, const struct sip_peer *src)
{
	struct fx *f = arg;

	(void)resp;
	(void)src;
	f->nstray++;
}

static void tu_resp(int err, unsigned status, const struct sip_msg *resp, void *arg)
{
	struct fx *f = arg;

	f->nresp++;
	f->last_err = err;
	f->last_status = status;
	f->last_had_msg = resp != NULL;
}

static const struct sip_tx_ops fx_ops = {
    .send = fake_send,
    .request = tu_request,
    .stray = tu_stray,
};

static void fx_free(struct fx *f)
{
	if (!f)
		return;
	sip_txl_free(f->txl);
	timer_wheel_free(f->tw);
	for (unsigned i = 0; i < NSLOTS; i++)
		arena_reset(&f->arena[i]);
	mem_free(f);
}

static int fx_alloc(struct fx **fp, const struct sip_tx_conf *conf)
{
	struct fx *f = mem_zalloc(sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	for (unsigned i = 0; i < NSLOTS; i++)
		arena_init(&f->arena[i], f->abuf[i], sizeof(f->abuf[i]), 0);
	err = timer_wheel_alloc(&f->tw, 0);
	err = err ? err : sip_txl_alloc(&f->txl, conf, f->tw, &fx_ops, f);
	if (err)
		fx_free(f);
	else
		*fp = f;
	return err;
}

/* Move the clock to @t, stopping at every deadline so sends carry their exact time. */
static void fx_run_to(struct fx *f, uint64_t t)
{
	for (;;) {
		int64_t n = timer_wheel_next(f->tw);

		if (n < 0 || f->now + (uint64_t)n > t)
			break;
		f->now += (uint64_t)n;
		timer_wheel_advance(f->tw, f->now);
	}
	f->now = t;
	timer_wheel_advance(f->tw, t);
}

static int fx_parse(struct fx *f, const char *text, const struct sip_msg **msgp)
{
	unsigned i = f->slot;
	struct sip_msg *m;
	size_t len = strlen(text);
	int err;

	f->slot = (f->slot + 1) % NSLOTS;
	arena_reset(&f->arena[i]);
	if (len >= sizeof(f->text[i]))
		return -EMSGSIZE;
	memcpy(f->text[i], text, len);
	err = sip_msg_parse(&m, &f->arena[i], f->text[i], len, 0, NULL, NULL);
	if (!err)
		*msgp = m;
	return err;
}

static int fx_sent_msg(struct fx *f, unsigned n, const struct sip_msg **msgp)
{
	char text[sizeof(f->sent[0].buf) + 1];

	if (n >= f->nsent)
		return -ENOENT;
	memcpy(text, f->sent[n].buf, f->sent[n].len);
	text[f->sent[n].len] = '\0';
	return fx_parse(f, text, msgp);
}

static struct sip_peer peer_make(enum sip_transport tp, const char *ip, uint16_t port,
				 uint64_t conn)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	p.transport = tp;
	p.conn_id = conn;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)(void *)&p.addr;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &sa->sin6_addr);
	} else {
		struct sockaddr_in *sa = (struct sockaddr_in *)(void *)&p.addr;

		sa->sin_family = AF_INET;
		sa->sin_port = htons(port);
		inet_pton(AF_INET, ip, &sa->sin_addr);
	}
	return p;
}

static uint16_t peer_port_of(const struct sip_peer *p)
{
	return ntohs(((const struct sockaddr_in *)(const void *)&p->addr)->sin_port);
}

static bool peer_ip_is(const struct sip_peer *p, const char *ip)
{
	struct in_addr a;

	inet_pton(AF_INET, ip, &a);
	return p->addr.ss_family == AF_INET &&
	       ((const struct sockaddr_in *)(const void *)&p->addr)->sin_addr.s_addr == a.s_addr;
}

#define VIA_UDP "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK776asdhds"
#define VIA_TCP "SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bK776asdhds"
#define VIA_OLD "SIP/2.0/UDP 192.0.2.1:5062;branch=1234.old"

/* A request with @via on top; @to_tag may be NULL. */
static void mkreq(char *buf, size_t size, const char *method, const char *via, const char *to_tag,
		  unsigned cseq)
{
	snprintf(buf, size,
		 "%s sip:bob@biloxi.example.com SIP/2.0" CRLF "Via: %s" CRLF
		 "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlower" CRLF "Max-Forwards: 70" CRLF
		 "Route: <sip:p1.example.com;lr>" CRLF "Route: <sip:p2.example.com;lr>" CRLF
		 "To: Bob <sip:bob@biloxi.example.com>%s%s" CRLF
		 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: %u %s" CRLF
		 "Contact: <sip:alice@192.0.2.1:5062>" CRLF "Content-Length: 0" CRLF CRLF,
		 method, via, to_tag ? ";tag=" : "", to_tag ? to_tag : "", cseq, method);
}

static void mkresp(char *buf, size_t size, unsigned status, const char *via, const char *method,
		   unsigned cseq)
{
	snprintf(buf, size,
		 "SIP/2.0 %u Whatever" CRLF "Via: %s" CRLF
		 "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356" CRLF
		 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: %u %s" CRLF
		 "Content-Length: 0" CRLF CRLF,
		 status, via, cseq, method);
}

/* Receive a request from 192.0.2.1:5062 (UDP) or connection 7 (TCP). */
static int fx_recv_req(struct fx *f, const char *method, const char *via, const char *to_tag,
		       unsigned cseq, bool tcp)
{
	char buf[2048];
	const struct sip_msg *m;
	struct sip_peer src = tcp ? peer_make(SIP_TRANSPORT_TCP, "192.0.2.1", 40001, 7)
				  : peer_make(SIP_TRANSPORT_UDP, "192.0.2.1", 5062, 0);
	int err;

	mkreq(buf, sizeof(buf), method, via, to_tag, cseq);
	err = fx_parse(f, buf, &m);
	return err ? err : sip_txl_recv(f->txl, m, &src);
}

static int fx_recv_resp(struct fx *f, unsigned status, const char *via, const char *method,
			unsigned cseq)
{
	char buf[2048];
	const struct sip_msg *m;
	struct sip_peer src = peer_make(SIP_TRANSPORT_UDP, "192.0.2.4", 5060, 0);
	int err;

	mkresp(buf, sizeof(buf), status, via, method, cseq);
	err = fx_parse(f, buf, &m);
	return err ? err : sip_txl_recv(f->txl, m, &src);
}

/* Start a client transaction for @method with @via to 192.0.2.4:5060. */
static int fx_request(struct fx *f, struct sip_tx **ctp, const char *method, const char *via,
		      bool tcp)
{
	char buf[2048];
	struct sip_peer dst = tcp ? peer_make(SIP_TRANSPORT_TCP, "192.0.2.4", 5060, 9)
				  : peer_make(SIP_TRANSPORT_UDP, "192.0.2.4", 5060, 0);

	mkreq(buf, sizeof(buf), method, via, NULL, 1);
	return sip_tx_request(ctp, f->txl, &dst, buf, strlen(buf), tu_resp, f);
}

static unsigned sent_status(const struct fx *f, unsigned n)
{
	const char *b = f->sent[n].buf;

	if (n >= f->nsent || f->sent[n].len < 12 || memcmp(b, "SIP/2.0 ", 8))
		return 0;
	return (unsigned)((b[8] - '0') * 100 + (b[9] - '0') * 10 + (b[10] - '0'));
}

static bool sent_same(const struct fx *f, unsigned a, unsigned b)
{
	return a < f->nsent && b < f->nsent && f->sent[a].len == f->sent[b].len &&
	       !memcmp(f->sent[a].buf, f->sent[b].buf, f->sent[a].len);
}

/* ---------------- Server, non-INVITE (Figure 8) ---------------- */

TEST(test_sip_tx_srv_new_request)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(1, f->nreq);
	TEST_ASSERT(f->st != NULL);
	TEST_EQUALS(SIP_TX_TRYING, sip_tx_state(f->st));
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_STR("OPTIONS", f->req->method_str);
	/* Non-INVITE: no 100 Trying from the layer. */
	fx_run_to(f, 10000);
	TEST_EQUALS(0, f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_retrans_in_trying_absorbed)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(1, f->nreq);
	TEST_EQUALS(0, f->nsent);
	TEST_EQUALS(1, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_final_resent_on_retrans)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_ERR(f->auto_err);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(200, sent_status(f, 0));
	fx_run_to(f, 700);
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(3, f->nsent);
	TEST_ASSERT(sent_same(f, 0, 1) && sent_same(f, 0, 2));
	TEST_EQUALS(700, f->sent[1].at);
	TEST_EQUALS(1, f->nreq);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_provisional_resent_on_retrans)
{
	struct fx *f = NULL;
	struct sip_tx *st;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "MESSAGE", VIA_UDP, NULL, 1, false));
	st = f->st;
	TEST_ERR(fx_reply(st, f->req, 183));
	TEST_EQUALS(SIP_TX_PROCEEDING, sip_tx_state(st));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "MESSAGE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(183, sent_status(f, 1));
	/* The final response replaces it as "the last response". */
	TEST_ERR(fx_reply(st, f->req, 202));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "MESSAGE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(4, f->nsent);
	TEST_EQUALS(202, sent_status(f, 3));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_timer_j_udp)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	fx_run_to(f, 1000);
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	/* RFC 3261 §17.2.2: J = 64*T1 over UDP. */
	fx_run_to(f, 1000 + 32000 - 1);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	fx_run_to(f, 1000 + 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	/* A request after J is new again. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nreq);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_timer_j_tcp_zero)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_TCP, NULL, 1, true));
	/* J is zero: the transaction ends with its answer. */
	TEST_EQUALS(0, sip_txl_count(f->txl));
	/* Responses go back on the request's connection (§18.2.2). */
	TEST_EQUALS(SIP_TRANSPORT_TCP, f->sent[0].peer.transport);
	TEST_EQUALS(7, f->sent[0].peer.conn_id);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_respond_after_final_refused)
{
	struct fx *f = NULL;
	struct sip_tx *st;
	const struct sip_msg *req;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	/* An INVITE: its transaction outlives the 2xx (Accepted), so the stale
	 * handle is still valid memory; a non-INVITE one is gone at once. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	st = f->st;
	req = f->req;
	TEST_EQUALS(-EINVAL, sip_tx_respond(st, "garbage", 7));
	TEST_ERR(fx_reply(st, req, 200));
	TEST_EQUALS(-EINVAL, fx_reply(st, req, 500));
	TEST_EQUALS(1, f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_respond_raw_bytes)
{
	struct fx *f = NULL;
	struct mbuf mb;
	struct sip_reply r = {.status = 404, .to_tag = STR("t1")};
	int err = 0;

	mbuf_init(&mb, 0);
	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "SUBSCRIBE", VIA_UDP, NULL, 1, false));
	TEST_ERR(sip_reply_print(&mb, f->req, &r));
	TEST_ERR(sip_tx_respond(f->st, mb.buf, mb.end));
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(mb.end, f->sent[0].len);
	TEST_ASSERT(!memcmp(mb.buf, f->sent[0].buf, mb.end));
out:
	mbuf_reset(&mb);
	fx_free(f);
	return err;
}

/* ---------------- Server, INVITE (Figure 7, RFC 6026) ---------------- */

TEST(test_sip_tx_srv_invite_100_trying_after_200ms)
{
	struct fx *f = NULL;
	const struct sip_msg *m;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP ";rport", NULL, 1, false));
	TEST_EQUALS(SIP_TX_PROCEEDING, sip_tx_state(f->st));
	fx_run_to(f, 199);
	TEST_EQUALS(0, f->nsent);
	fx_run_to(f, 200);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(200, f->sent[0].at);
	TEST_ERR(fx_sent_msg(f, 0, &m));
	TEST_EQUALS(100, m->status);
	TEST_EQUALS(0, m->to->tag.len); /* §8.2.6.2: no tag on 100 */
	TEST_STR("192.0.2.1", m->via->received);
	TEST_EQUALS(5062, m->via->rport);
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_VIA));
	/* Sent once only. */
	fx_run_to(f, 5000);
	TEST_EQUALS(1, f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_no_trying_when_tu_answers)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	fx_run_to(f, 150);
	TEST_ERR(fx_reply(f->st, f->req, 180));
	fx_run_to(f, 1000);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(180, sent_status(f, 0));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_retrans_gets_last_provisional)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	/* Before any response, a retransmission is only absorbed. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(0, f->nsent);
	fx_run_to(f, 200);
	TEST_EQUALS(1, f->nsent);
	fx_run_to(f, 500);
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(100, sent_status(f, 1));
	TEST_EQUALS(1, f->nreq);
out:
	fx_free(f);
	return err;
}

/* G at 500, 1500, 3500, 7500 then every T2, H at 64*T1 (RFC 3261 §17.2.1). */
TEST(test_sip_tx_srv_invite_timers_g_h_udp)
{
	static const uint64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
				      15500, 19500, 23500, 27500, 31500};
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 486;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_COMPLETED, sip_tx_state(f->st));
	fx_run_to(f, 31999);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
	for (unsigned i = 0; i < f->nsent; i++) {
		TEST_EQUALS(at[i], f->sent[i].at);
		TEST_ASSERT(sent_same(f, 0, i));
	}
	fx_run_to(f, 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	fx_run_to(f, 60000);
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_completed_retrans_resends_final)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 486;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	fx_run_to(f, 100);
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(100, f->sent[1].at);
	TEST_ASSERT(sent_same(f, 0, 1));
	TEST_EQUALS(1, f->nreq);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_ack_timer_i)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 603;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	fx_run_to(f, 700);
	TEST_EQUALS(2, f->nsent); /* 0 and G at 500 */
	/* The ACK to a non-2xx has the INVITE's branch and belongs to its transaction. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "ACK", VIA_UDP, "uas-tag", 1, false));
	TEST_EQUALS(SIP_TX_CONFIRMED, sip_tx_state(f->st));
	TEST_EQUALS(0, f->nack);
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "ACK", VIA_UDP, "uas-tag", 1, false));
	TEST_EQUALS(0, f->nack);
	/* No more G; I = T4 from the ACK. */
	fx_run_to(f, 700 + 5000 - 1);
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, 700 + 5000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_tcp_no_g_and_i_zero)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 486;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_TCP, NULL, 1, true));
	fx_run_to(f, 20000);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "ACK", VIA_TCP, "uas-tag", 1, true));
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, 20000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_tcp_timer_h)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 486;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_TCP, NULL, 1, true));
	fx_run_to(f, 31999);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_invite_2xx_accepted_timer_l)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_ACCEPTED, sip_tx_state(f->st));
	/* RFC 6026 §7.1: retransmitted INVITEs absorbed, the TU re-sends 2xx itself. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(1, f->nreq);
	/* No G for a 2xx. */
	fx_run_to(f, 31999);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_ack_to_2xx_passed_up)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	/* The 2xx ACK is a new transaction at the UAC: another branch (§17.1.1.3). */
	TEST_EQUALS(SIP_TX_RECV_ACK,
		    fx_recv_req(f, "ACK", "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKack2",
				"uas-tag", 1, false));
	TEST_EQUALS(1, f->nack);
	TEST_STR("ACK", f->req->method_str);
	/* ACKs never create transactions nor get answers. */
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nsent);
	/* Same branch (a broken UAC) in Accepted: also the dialog's. */
	TEST_EQUALS(SIP_TX_RECV_ACK, fx_recv_req(f, "ACK", VIA_UDP, "uas-tag", 1, false));
	TEST_EQUALS(2, f->nack);
out:
	fx_free(f);
	return err;
}

/* ---------------- Matching (§17.2.3) ---------------- */

TEST(test_sip_tx_srv_match_sent_by_and_method)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	/* Same branch, another sent-by: another transaction. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    fx_recv_req(f, "OPTIONS", "SIP/2.0/UDP 192.0.2.1:5063;branch=z9hG4bK776asdhds",
				NULL, 1, false));
	/* Same branch and sent-by, another method: another transaction. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INFO", VIA_UDP, NULL, 1, false));
	/* Host of sent-by compares case-insensitively. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    fx_recv_req(f, "OPTIONS", "SIP/2.0/UDP Host.Example:5062;branch=z9hG4bKh", NULL,
				1, false));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED,
		    fx_recv_req(f, "OPTIONS", "SIP/2.0/UDP host.example:5062;branch=z9hG4bKh", NULL,
				1, false));
	TEST_EQUALS(4, f->nreq);
	TEST_EQUALS(4, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_cancel_matches_invite)
{
	struct fx *f = NULL;
	struct sip_tx *inv, *cst, *found = NULL;
	const struct sip_msg *inv_req;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	inv = f->st;
	inv_req = f->req;
	/* The CANCEL has the INVITE's branch but is a transaction of its own. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "CANCEL", VIA_UDP, NULL, 1, false));
	cst = f->st;
	TEST_ASSERT(cst != inv);
	TEST_EQUALS(2, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_CANCEL_PENDING, sip_tx_cancel_match(f->txl, f->req, &found));
	TEST_ASSERT(found == inv);
	TEST_ERR(fx_reply(cst, f->req, 200));
	/* A retransmitted CANCEL is absorbed by the CANCEL transaction. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "CANCEL", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(200, sent_status(f, f->nsent - 1));
	TEST_EQUALS(SIP_TX_CANCEL_PENDING, sip_tx_cancel_match(f->txl, f->req, &found));
	TEST_ERR(fx_reply(inv, inv_req, 487));
	TEST_EQUALS(487, sent_status(f, f->nsent - 1));
	TEST_EQUALS(SIP_TX_COMPLETED, sip_tx_state(inv));
	TEST_EQUALS(SIP_TX_CANCEL_ANSWERED, sip_tx_cancel_match(f->txl, f->req, &found));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_cancel_no_match)
{
	struct fx *f = NULL;
	struct sip_tx *found = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    fx_recv_req(f, "CANCEL", "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKother", NULL,
				1, false));
	TEST_EQUALS(SIP_TX_CANCEL_NONE, sip_tx_cancel_match(f->txl, f->req, &found));
	TEST_ASSERT(found == NULL);
	/* Not a CANCEL at all. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_CANCEL_NONE, sip_tx_cancel_match(f->txl, f->req, &found));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_rfc2543_retrans_and_cseq)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_OLD, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "REGISTER", VIA_OLD, NULL, 1, false));
	TEST_EQUALS(2, f->nsent);
	TEST_ASSERT(sent_same(f, 0, 1));
	/* Another CSeq, or another To tag: another transaction. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_OLD, NULL, 2, false));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_OLD, "x", 1, false));
	TEST_EQUALS(3, f->nreq);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_rfc2543_ack_matches_by_to_tag)
{
	struct fx *f = NULL;
	struct sip_tx *inv;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 486;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_OLD, NULL, 1, false));
	inv = f->st;
	/* An ACK with another To tag is not for our 486. */
	TEST_EQUALS(SIP_TX_RECV_ACK, fx_recv_req(f, "ACK", VIA_OLD, "someone-else", 1, false));
	TEST_EQUALS(SIP_TX_COMPLETED, sip_tx_state(inv));
	/* The To tag of our 486 (uas-tag): it is. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "ACK", VIA_OLD, "uas-tag", 1, false));
	TEST_EQUALS(SIP_TX_CONFIRMED, sip_tx_state(inv));
	TEST_EQUALS(1, f->nack);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_rfc2543_cancel)
{
	struct fx *f = NULL;
	struct sip_tx *inv, *found = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_OLD, NULL, 1, false));
	inv = f->st;
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "CANCEL", VIA_OLD, NULL, 1, false));
	TEST_ASSERT(f->st != inv);
	TEST_EQUALS(SIP_TX_CANCEL_PENDING, sip_tx_cancel_match(f->txl, f->req, &found));
	TEST_ASSERT(found == inv);
	/* Another CSeq number cancels nothing. */
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "CANCEL", VIA_OLD, NULL, 5, false));
	TEST_EQUALS(SIP_TX_CANCEL_NONE, sip_tx_cancel_match(f->txl, f->req, &found));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_srv_stateless)
{
	struct fx *f = NULL;
	struct sip_txl_stats ts;
	char resp[] = "SIP/2.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
	char prov[] = "SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n";
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	/* Only a final response may end a transaction statelessly. */
	TEST_EQUALS(-EINVAL, sip_tx_respond_stateless(f->st, prov, strlen(prov)));
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_ERR(sip_tx_respond_stateless(f->st, resp, strlen(resp)));
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(401, sent_status(f, 0));
	TEST_ASSERT(peer_ip_is(&f->sent[0].peer, "192.0.2.1"));
	/* §8.2.7: nothing is remembered; a retransmission is a new request. */
	TEST_EQUALS(0, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "REGISTER", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nreq);
	sip_txl_stats(f->txl, &ts);
	TEST_EQUALS(1, ts.stateless);
	TEST_EQUALS(1, ts.open);
out:
	fx_free(f);
	return err;
}

/* Completed non-INVITE transactions are compact records with a memory budget. */
TEST(test_sip_tx_srv_done_budget)
{
	struct sip_tx_conf conf = {.done_mib = 1};
	struct fx *f = NULL;
	struct sip_txl_stats ts;
	char via[128];
	unsigned n = 0;
	int err = 0;

	if (test_oom_mode()) /* thousands of requests: too slow to fail each allocation */
		goto out;
	TEST_ERR(fx_alloc(&f, &conf));
	f->auto_status = 200;
	/* Answer requests until the first record is dropped early (about 1 MiB). */
	for (n = 0; n < 20000; n++) {
		snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-%u", n);
		TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", via, NULL, 1, false));
		f->nsent = 0;
		sip_txl_stats(f->txl, &ts);
		if (ts.done_early)
			break;
	}
	TEST_ASSERT(n > 1000 && n < 20000);
	TEST_EQUALS(0, ts.open);
	TEST_ASSERT(ts.done_bytes <= (1u << 20));
	TEST_EQUALS(n, ts.done); /* n + 1 answered, the oldest dropped */
	/* The newest still absorbs its retransmissions... */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "OPTIONS", via, NULL, 1, false));
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(200, sent_status(f, 0));
	/* ...the oldest reaches the TU again. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    fx_recv_req(f, "OPTIONS", "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-0", NULL,
				1, false));
	/* Timer J still ends the rest at 32 s, oldest first. */
	fx_run_to(f, 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

/* ---------------- Limit ---------------- */

TEST(test_sip_tx_limit_503)
{
	struct sip_tx_conf conf = {.max_tx = 2, .retry_after_s = 30};
	struct fx *f = NULL;
	const struct sip_msg *m;
	const struct sip_hdr *ra;
	unsigned tag_len;
	int err = 0;

	TEST_ERR(fx_alloc(&f, &conf));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INFO", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_RECV_REJECTED, fx_recv_req(f, "MESSAGE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(2, f->nreq);
	TEST_EQUALS(2, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nsent);
	TEST_ERR(fx_sent_msg(f, 0, &m));
	TEST_EQUALS(503, m->status);
	ra = sip_msg_hdr(m, SIP_HDR_RETRY_AFTER);
	TEST_ASSERT(ra != NULL);
	TEST_STR("30", ra->value);
	TEST_ASSERT(m->to->tag.len > 0);
	tag_len = (unsigned)m->to->tag.len;
	/* A retransmission gets the same tag (§8.2.6.2). */
	TEST_EQUALS(SIP_TX_RECV_REJECTED, fx_recv_req(f, "MESSAGE", VIA_UDP, NULL, 1, false));
	TEST_ASSERT(sent_same(f, 0, 1));
	/* Retransmissions of existing transactions are still absorbed. */
	TEST_EQUALS(SIP_TX_RECV_ABSORBED, fx_recv_req(f, "OPTIONS", VIA_UDP, NULL, 1, false));
	/* ACKs are never rejected. */
	TEST_EQUALS(SIP_TX_RECV_ACK, fx_recv_req(f, "ACK", VIA_UDP, "x", 1, false));
	/* Client transactions are refused too. */
	TEST_EQUALS(-EBUSY, fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	TEST_EQUALS(8, tag_len);
out:
	fx_free(f);
	return err;
}

/* ---------------- Where responses go (§18.2.2, RFC 3581) ---------------- */

static int recv_from(struct fx *f, const char *via, const struct sip_peer *src)
{
	char buf[2048];
	const struct sip_msg *m;
	int err;

	mkreq(buf, sizeof(buf), "OPTIONS", via, NULL, 1);
	err = fx_parse(f, buf, &m);
	return err ? err : sip_txl_recv(f->txl, m, src);
}

TEST(test_sip_tx_resp_to_source_port_with_rport)
{
	struct fx *f = NULL;
	struct sip_peer nat = peer_make(SIP_TRANSPORT_UDP, "198.51.100.7", 40000, 0);
	const struct sip_msg *m;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    recv_from(f, "SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff", &nat));
	TEST_ASSERT(peer_ip_is(&f->sent[0].peer, "198.51.100.7"));
	TEST_EQUALS(40000, peer_port_of(&f->sent[0].peer));
	TEST_ERR(fx_sent_msg(f, 0, &m));
	/* RFC 3581 §4 example: received and rport filled in, branch kept. */
	TEST_STR("SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKkjshdyff;received=198.51.100.7;"
		 "rport=40000",
		 sip_msg_hdr(m, SIP_HDR_VIA)->value);
	TEST_STR("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlower",
		 sip_hdr_next(m, sip_msg_hdr(m, SIP_HDR_VIA))->value);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_resp_to_sent_by_port_without_rport)
{
	struct fx *f = NULL;
	struct sip_peer nat = peer_make(SIP_TRANSPORT_UDP, "198.51.100.7", 40000, 0);
	const struct sip_msg *m;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    recv_from(f, "SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bKa", &nat));
	/* §18.2.2: the received address with the sent-by port. */
	TEST_ASSERT(peer_ip_is(&f->sent[0].peer, "198.51.100.7"));
	TEST_EQUALS(5070, peer_port_of(&f->sent[0].peer));
	TEST_ERR(fx_sent_msg(f, 0, &m));
	TEST_STR("198.51.100.7", m->via->received);
	TEST_ASSERT(!m->via->has_rport);
	/* No port in sent-by: 5060. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    recv_from(f, "SIP/2.0/UDP pc33.example.com;branch=z9hG4bKb", &nat));
	TEST_EQUALS(5060, peer_port_of(&f->sent[1].peer));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_resp_via_untouched_when_sent_by_is_source)
{
	struct fx *f = NULL;
	struct sip_peer src = peer_make(SIP_TRANSPORT_UDP, "192.0.2.1", 5062, 0);
	const struct sip_msg *m;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	f->auto_status = 200;
	TEST_EQUALS(SIP_TX_RECV_NEW, recv_from(f, VIA_UDP, &src));
	TEST_ERR(fx_sent_msg(f, 0, &m));
	TEST_STR(VIA_UDP, sip_msg_hdr(m, SIP_HDR_VIA)->value);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_via_received_replaces_old_values)
{
	struct fx *f = NULL;
	struct sip_peer src = peer_make(SIP_TRANSPORT_UDP, "203.0.113.5", 1024, 0);
	struct sip_peer dst;
	const struct sip_msg *m;
	char buf[2048];
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 0);
	TEST_ERR(fx_alloc(&f, NULL));
	mkreq(buf, sizeof(buf), "OPTIONS",
	      "SIP/2.0/UDP 10.0.0.1:5060 ; received=1.2.3.4;rport=9;x=\"a;b\";branch=z9hG4bKq",
	      NULL, 1);
	TEST_ERR(fx_parse(f, buf, &m));
	TEST_EQUALS(1, sip_tx_via_received(&mb, m, &src));
	TEST_STR("SIP/2.0/UDP 10.0.0.1:5060;x=\"a;b\";branch=z9hG4bKq;received=203.0.113.5;"
		 "rport=1024",
		 mbuf_str(&mb));
	TEST_ERR(sip_tx_resp_peer(&dst, m, &src));
	TEST_EQUALS(1024, peer_port_of(&dst));
out:
	mbuf_reset(&mb);
	fx_free(f);
	return err;
}

TEST(test_sip_tx_resp_peer_ipv6_and_tcp)
{
	struct fx *f = NULL;
	struct sip_peer src6 = peer_make(SIP_TRANSPORT_UDP, "2001:db8::5", 5060, 0);
	struct sip_peer tcp = peer_make(SIP_TRANSPORT_TCP, "192.0.2.1", 33333, 42);
	struct sip_peer dst;
	const struct sip_msg *m;
	char buf[2048];
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 0);
	TEST_ERR(fx_alloc(&f, NULL));
	mkreq(buf, sizeof(buf), "OPTIONS", "SIP/2.0/UDP [2001:db8::5];branch=z9hG4bK6", NULL, 1);
	TEST_ERR(fx_parse(f, buf, &m));
	/* Same address written another way: no received needed. */
	TEST_EQUALS(0, sip_tx_via_received(&mb, m, &src6));
	mkreq(buf, sizeof(buf), "OPTIONS", "SIP/2.0/UDP [2001:db8::6];branch=z9hG4bK6", NULL, 1);
	TEST_ERR(fx_parse(f, buf, &m));
	TEST_EQUALS(1, sip_tx_via_received(&mb, m, &src6));
	TEST_STR("SIP/2.0/UDP [2001:db8::6];branch=z9hG4bK6;received=2001:db8::5", mbuf_str(&mb));
	/* A stream: the same connection, whatever Via says. */
	mkreq(buf, sizeof(buf), "OPTIONS", "SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bK7", NULL, 1);
	TEST_ERR(fx_parse(f, buf, &m));
	TEST_ERR(sip_tx_resp_peer(&dst, m, &tcp));
	TEST_EQUALS(42, dst.conn_id);
	TEST_EQUALS(33333, peer_port_of(&dst));
	TEST_EQUALS(SIP_TRANSPORT_TCP, dst.transport);
out:
	mbuf_reset(&mb);
	fx_free(f);
	return err;
}

/* ---------------- Client, INVITE (Figure 5) ---------------- */

TEST(test_sip_tx_cli_invite_timers_a_b_udp)
{
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "INVITE", VIA_UDP, false));
	TEST_EQUALS(SIP_TX_CALLING, sip_tx_state(ct));
	fx_run_to(f, 31999);
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
	for (unsigned i = 0; i < f->nsent; i++) {
		TEST_EQUALS(at[i], f->sent[i].at);
		TEST_ASSERT(sent_same(f, 0, i));
	}
	TEST_EQUALS(0, f->nresp);
	/* Timer B = 64*T1: a 408 to the TU. */
	fx_run_to(f, 32000);
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(-ETIMEDOUT, f->last_err);
	TEST_EQUALS(408, f->last_status);
	TEST_ASSERT(!f->last_had_msg);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_invite_tcp_no_retransmission)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "INVITE", VIA_TCP, true));
	fx_run_to(f, 31999);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(9, f->sent[0].peer.conn_id);
	fx_run_to(f, 32000);
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(408, f->last_status);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_invite_provisional_stops_a_and_b)
{
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "INVITE", VIA_UDP, false));
	fx_run_to(f, 600);
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 180, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(SIP_TX_PROCEEDING, sip_tx_state(ct));
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(180, f->last_status);
	/* Each provisional goes up. */
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 183, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(2, f->nresp);
	fx_run_to(f, 120000);
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(2, f->nresp);
	TEST_EQUALS(1, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_invite_2xx_ends_and_strays)
{
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "INVITE", VIA_UDP, false));
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 200, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(200, f->last_status);
	TEST_EQUALS(0, f->last_err);
	TEST_ASSERT(f->last_had_msg);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	/* No ACK from the transaction for a 2xx: the dialog sends it. */
	TEST_EQUALS(1, f->nsent);
	/* Retransmitted 2xx: the transaction is gone, the core gets it. */
	TEST_EQUALS(SIP_TX_RECV_STRAY, fx_recv_resp(f, 200, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(1, f->nstray);
	TEST_EQUALS(1, f->nresp);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_invite_non2xx_ack)
{
	struct fx *f = NULL;
	const struct sip_msg *ack;
	const struct sip_hdr *h;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "INVITE", VIA_UDP, false));
	fx_run_to(f, 100);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 486, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(486, f->last_status);
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(100, f->sent[1].at);
	TEST_ASSERT(peer_ip_is(&f->sent[1].peer, "192.0.2.4"));
	TEST_EQUALS(5060, peer_port_of(&f->sent[1].peer));
	TEST_ERR(fx_sent_msg(f, 1, &ack));
	/* §17.1.1.3: the request's Request-URI, one Via (the same branch), Route,
	 * From, Call-ID, CSeq number; To from the response. */
	TEST_STR("ACK", ack->method_str);
	TEST_STR("sip:bob@biloxi.example.com", ack->ruri.raw);
	TEST_EQUALS(1, sip_msg_hdr_count(ack, SIP_HDR_VIA));
	TEST_STR(VIA_UDP, sip_msg_hdr(ack, SIP_HDR_VIA)->value);
	TEST_EQUALS(2, sip_msg_hdr_count(ack, SIP_HDR_ROUTE));
	h = sip_msg_hdr(ack, SIP_HDR_ROUTE);
	TEST_STR("<sip:p1.example.com;lr>", h->value);
	TEST_STR("<sip:p2.example.com;lr>", sip_hdr_next(ack, h)->value);
	TEST_STR("8321234356", ack->to->tag);
	TEST_STR("1928301774", ack->from->tag);
	TEST_STR("a84b4c76e66710@pc33.atlanta.example.com", ack->call_id);
	TEST_EQUALS(1, ack->cseq.seq);
	TEST_EQUALS(SIP_METHOD_ACK, ack->cseq.method);
	TEST_EQUALS(70, ack->max_forwards);
	TEST_EQUALS(0, ack->body.len);
	/* No more A retransmissions; a retransmitted 486 gets the ACK again, not the TU. */
	fx_run_to(f, 5000);
	TEST_EQUALS(2, f->nsent);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 486, VIA_UDP, "INVITE", 1));
	TEST_EQUALS(3, f->nsent);
	TEST_ASSERT(sent_same(f, 1, 2));
	TEST_EQUALS(1, f->nresp);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_invite_timer_d)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "INVITE", VIA_UDP, false));
	fx_run_to(f, 100);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 404, VIA_UDP, "INVITE", 1));
	fx_run_to(f, 100 + 32000 - 1);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, 100 + 32000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nresp);
	/* Over TCP, D is zero. */
	TEST_ERR(fx_request(f, NULL, "INVITE", VIA_TCP, true));
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 404, VIA_TCP, "INVITE", 1));
	TEST_EQUALS(1, sip_txl_count(f->txl));
	fx_run_to(f, f->now);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_cancel_print)
{
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	const struct sip_msg *c;
	struct mbuf mb;
	char buf[2048];
	int err = 0;

	mbuf_init(&mb, 0);
	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "INVITE", VIA_UDP, false));
	TEST_ERR(sip_tx_cancel_print(&mb, ct));
	TEST_ASSERT(mb.end < sizeof(buf));
	memcpy(buf, mb.buf, mb.end);
	buf[mb.end] = '\0';
	TEST_ERR(fx_parse(f, buf, &c));
	TEST_STR("CANCEL", c->method_str);
	TEST_STR("sip:bob@biloxi.example.com", c->ruri.raw);
	TEST_EQUALS(1, sip_msg_hdr_count(c, SIP_HDR_VIA));
	TEST_STR(VIA_UDP, sip_msg_hdr(c, SIP_HDR_VIA)->value);
	TEST_EQUALS(0, c->to->tag.len);
	TEST_EQUALS(1, c->cseq.seq);
	TEST_EQUALS(SIP_METHOD_CANCEL, c->cseq.method);
	TEST_EQUALS(2, sip_msg_hdr_count(c, SIP_HDR_ROUTE));
	/* It goes out as its own transaction (same branch, other method). */
	TEST_ERR(sip_tx_request(NULL, f->txl, sip_tx_peer(ct), mb.buf, mb.end, tu_resp, f));
	TEST_EQUALS(2, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 200, VIA_UDP, "CANCEL", 1));
	TEST_EQUALS(SIP_TX_CALLING, sip_tx_state(ct));
	TEST_EQUALS(-EINVAL, sip_tx_cancel_print(&mb, NULL));
out:
	mbuf_reset(&mb);
	fx_free(f);
	return err;
}

/* ---------------- Client, non-INVITE (Figure 6) ---------------- */

TEST(test_sip_tx_cli_non_invite_timers_e_f_udp)
{
	static const uint64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
				      15500, 19500, 23500, 27500, 31500};
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "REGISTER", VIA_UDP, false));
	fx_run_to(f, 31999);
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
	for (unsigned i = 0; i < f->nsent; i++)
		TEST_EQUALS(at[i], f->sent[i].at);
	TEST_EQUALS(0, f->nresp);
	fx_run_to(f, 32000);
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(-ETIMEDOUT, f->last_err);
	TEST_EQUALS(408, f->last_status);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_non_invite_proceeding_uses_t2)
{
	static const uint64_t at[] = {0, 500, 1500, 5500, 9500};
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "OPTIONS", VIA_UDP, false));
	fx_run_to(f, 600);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 100, VIA_UDP, "OPTIONS", 1));
	TEST_EQUALS(SIP_TX_PROCEEDING, sip_tx_state(ct));
	/* E already set for 1500 fires, then every T2 (Figure 6). */
	fx_run_to(f, 10000);
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
	for (unsigned i = 0; i < f->nsent; i++)
		TEST_EQUALS(at[i], f->sent[i].at);
	/* F still runs in Proceeding. */
	fx_run_to(f, 32000);
	TEST_EQUALS(2, f->nresp);
	TEST_EQUALS(408, f->last_status);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_non_invite_timer_k)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "REGISTER", VIA_UDP, false));
	fx_run_to(f, 200);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 200, VIA_UDP, "REGISTER", 1));
	TEST_EQUALS(1, f->nresp);
	/* Retransmitted finals are absorbed until K = T4. */
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 200, VIA_UDP, "REGISTER", 1));
	TEST_EQUALS(1, f->nresp);
	fx_run_to(f, 200 + 5000 - 1);
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nsent); /* E stopped at 200 ms, before its 500 ms */
	fx_run_to(f, 200 + 5000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
	TEST_EQUALS(SIP_TX_RECV_STRAY, fx_recv_resp(f, 200, VIA_UDP, "REGISTER", 1));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_non_invite_tcp_k_zero)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "REGISTER", VIA_TCP, true));
	fx_run_to(f, 10000);
	TEST_EQUALS(1, f->nsent);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 401, VIA_TCP, "REGISTER", 1));
	TEST_EQUALS(401, f->last_status);
	fx_run_to(f, 10000);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_match_branch_and_method)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "REGISTER", VIA_UDP, false));
	/* §17.1.3: another CSeq method or another branch is not ours. */
	TEST_EQUALS(SIP_TX_RECV_STRAY, fx_recv_resp(f, 200, VIA_UDP, "OPTIONS", 1));
	TEST_EQUALS(
	    SIP_TX_RECV_STRAY,
	    fx_recv_resp(f, 200, "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKnope", "REGISTER", 1));
	TEST_EQUALS(SIP_TX_RECV_STRAY, fx_recv_resp(f, 200, VIA_OLD, "REGISTER", 1));
	TEST_EQUALS(0, f->nresp);
	TEST_EQUALS(3, f->nstray);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 200, VIA_UDP, "REGISTER", 1));
	TEST_EQUALS(1, f->nresp);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_transport_error)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	/* The first send fails: an error, and nothing left behind. */
	f->send_err = -EHOSTUNREACH;
	TEST_EQUALS(-EHOSTUNREACH, fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	TEST_EQUALS(0, sip_txl_count(f->txl));
	/* A retransmission fails: §17.1.4, reported as 503, and the end. */
	f->send_err = 0;
	TEST_ERR(fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	f->send_err = -ECONNREFUSED;
	fx_run_to(f, 500);
	TEST_EQUALS(1, f->nresp);
	TEST_EQUALS(-ECONNREFUSED, f->last_err);
	TEST_EQUALS(503, f->last_status);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_detach_silences)
{
	struct fx *f = NULL;
	struct sip_tx *ct = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, &ct, "OPTIONS", VIA_UDP, false));
	sip_tx_detach(ct);
	TEST_EQUALS(SIP_TX_RECV_RESPONSE, fx_recv_resp(f, 180, VIA_UDP, "OPTIONS", 1));
	fx_run_to(f, 40000);
	TEST_EQUALS(0, f->nresp);
	TEST_EQUALS(0, sip_txl_count(f->txl));
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_cli_bad_requests)
{
	struct fx *f = NULL;
	struct sip_peer dst = peer_make(SIP_TRANSPORT_UDP, "192.0.2.4", 5060, 0);
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_EQUALS(-EINVAL, fx_request(f, NULL, "OPTIONS", VIA_OLD, false));
	TEST_EQUALS(-EINVAL, fx_request(f, NULL, "ACK", VIA_UDP, false));
	TEST_EQUALS(-EINVAL, sip_tx_request(NULL, f->txl, &dst, "junk", 4, tu_resp, f));
	TEST_ERR(fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	TEST_EQUALS(-EEXIST, fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	TEST_EQUALS(1, sip_txl_count(f->txl));
	TEST_EQUALS(1, f->nsent);
out:
	fx_free(f);
	return err;
}

TEST(test_sip_tx_custom_timers)
{
	struct sip_tx_conf conf = {.t1_ms = 100, .t2_ms = 300, .t4_ms = 700};
	static const uint64_t at[] = {0,    100,  300,	600,  900,  1200, 1500, 1800,
				      2100, 2400, 2700, 3000, 3300, 3600, 3900, 4200,
				      4500, 4800, 5100, 5400, 5700, 6000, 6300};
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, &conf));
	TEST_ERR(fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	fx_run_to(f, 6399);
	TEST_EQUALS(sizeof(at) / sizeof(at[0]), f->nsent);
	for (unsigned i = 0; i < f->nsent; i++)
		TEST_EQUALS(at[i], f->sent[i].at);
	fx_run_to(f, 6400); /* F = 64*T1 */
	TEST_EQUALS(1, f->nresp);
out:
	fx_free(f);
	return err;
}

/* Every kind of transaction in every waiting state, freed by sip_txl_free(). */
TEST(test_sip_tx_free_everything)
{
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, NULL));
	TEST_ERR(fx_request(f, NULL, "INVITE", VIA_UDP, false));
	TEST_ERR(fx_request(f, NULL, "OPTIONS", VIA_UDP, false));
	TEST_ERR(fx_request(f, NULL, "INVITE", "SIP/2.0/UDP h;branch=z9hG4bK2", false));
	TEST_EQUALS(SIP_TX_RECV_RESPONSE,
		    fx_recv_resp(f, 500, "SIP/2.0/UDP h;branch=z9hG4bK2", "INVITE", 1));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INFO", VIA_UDP, NULL, 1, false));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv_req(f, "INVITE", VIA_OLD, NULL, 1, false));
	TEST_ERR(fx_reply(f->st, f->req, 480));
	TEST_EQUALS(6, sip_txl_count(f->txl));
	fx_run_to(f, 1000);
out:
	fx_free(f); /* the runner fails the test if anything is left */
	return err;
}
