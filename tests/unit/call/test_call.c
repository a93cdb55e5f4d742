/*
 * Unit tests for call: the B2BUA over the real transaction layer, with a
 * fake wire (every message sent is kept and parsed back), a fake directory
 * (tenant "acme", domain acme.example, number 8585100001 routed to user
 * 1002 or to an IVR; trunk 192.0.2.200), a fake media engine and a CDR
 * sink. The tests play the caller and the agent's phone by answering what
 * the B2BUA sends, with responses built by sip_reply_print().
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "base/mem.h"
#include "base/timer.h"
#include "call/call.h"
#include "test.h"

#define NSENT 32
#define CRLF  "\r\n"

struct sent {
	struct sip_peer peer;
	size_t len;
	char buf[4096];
};

struct fx {
	uint64_t now;
	struct timer_wheel *tw;
	struct sip_txl *txl;
	struct call_mgr *cm;

	struct sent sent[NSENT];
	unsigned nsent;

	/* the application */
	enum call_route_kind route; /* what the number routes to */
	int dial_err;
	unsigned routed, connected, ended, dial_failed;
	char failed_user[32];
	unsigned failed_status;
	struct call *last;
	char cdr_cause[32], cdr_agent[32], cdr_route[32];
	unsigned cdr_status;
	enum call_end_side cdr_side;
	bool cdr_answered, cdr_bridged;

	/* the media engine */
	unsigned media_created, media_destroyed, remote_set[2], bridged;
	bool last_hold;

	/* parsing */
	struct arena arena;
	_Alignas(16) char abuf[65536];
	char text[8][4096];
	unsigned slot;
};

static struct sip_peer peer4(const char *ip, uint16_t port)
{
	struct sip_peer p;
	struct sockaddr_in *sa = (struct sockaddr_in *)(void *)&p.addr;

	memset(&p, 0, sizeof(p));
	p.transport = SIP_TRANSPORT_UDP;
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
	return p;
}

static bool peer_is(const struct sip_peer *p, const char *ip, uint16_t port)
{
	struct sip_peer q = peer4(ip, port);

	return !memcmp(&((const struct sockaddr_in *)(const void *)&p->addr)->sin_addr,
		       &((const struct sockaddr_in *)(const void *)&q.addr)->sin_addr, 4) &&
	       ((const struct sockaddr_in *)(const void *)&p->addr)->sin_port ==
		   ((const struct sockaddr_in *)(const void *)&q.addr)->sin_port;
}

/* ---- the fake wire ---- */

static int fake_send(void *arg, const struct sip_peer *peer, const void *buf, size_t len)
{
	struct fx *f = arg;
	struct sent *s;

	if (f->nsent == NSENT || len >= sizeof(s->buf))
		return -ENOBUFS;
	s = &f->sent[f->nsent++];
	s->peer = *peer;
	s->len = len;
	memcpy(s->buf, buf, len);
	return 0;
}

static void on_request(void *arg, struct sip_tx *st, const struct sip_msg *req,
		       const struct sip_peer *src)
{
	struct fx *f = arg;

	if (!call_mgr_request(f->cm, st, req, src) && st) {
		struct sip_reply r = {.status = 501, .to_tag = STR("x")};

		sip_tx_reply(st, req, &r);
	}
}

static void on_stray(void *arg, const struct sip_msg *resp, const struct sip_peer *src)
{
	struct fx *f = arg;

	call_mgr_stray(f->cm, resp, src);
}

/* ---- the fake directory ---- */

static int op_number(void *arg, const struct str *number, struct call_route *out)
{
	struct fx *f = arg;

	if (!str_eq(number, &STR("8585100001")))
		return -ENOENT;
	out->kind = f->route;
	snprintf(out->tenant_id, sizeof(out->tenant_id), "acme");
	snprintf(out->domain, sizeof(out->domain), "acme.example");
	snprintf(out->target, sizeof(out->target), "%s",
		 f->route == CALL_ROUTE_USER ? "1002" : "main");
	return 0;
}

static int op_user(void *arg, const struct str *domain, const struct str *user,
		   struct call_route *out)
{
	(void)arg;
	if (!str_ieq_cstr(domain, "acme.example") ||
	    (!str_eq(user, &STR("1002")) && !str_eq(user, &STR("1003"))))
		return -ENOENT;
	out->kind = CALL_ROUTE_USER;
	snprintf(out->tenant_id, sizeof(out->tenant_id), "acme");
	snprintf(out->domain, sizeof(out->domain), "acme.example");
	str_copy_cstr(out->target, sizeof(out->target), user);
	return 0;
}

static bool op_trunk(void *arg, const char *tenant_id, const struct sip_peer *src)
{
	(void)arg;
	return !strcmp(tenant_id, "acme") && peer_is(src, "192.0.2.200", 5060);
}

static bool op_is_domain(void *arg, const struct str *domain)
{
	(void)arg;
	return str_ieq_cstr(domain, "acme.example") || str_ieq_cstr(domain, "globex.example");
}

/* Users of acme authenticate from 192.0.2.1; globex users from 192.0.2.2;
 * anyone else gets a 401 (the real one comes from reg_authenticate()). */
static int op_auth(void *arg, const struct sip_msg *req, const struct sip_peer *src,
		   char tenant_id[CALL_TENANT_SIZE], struct mbuf *out)
{
	struct sip_reply r = {.status = 401, .to_tag = STR("t401")};
	int err;

	(void)arg;
	if (peer_is(src, "192.0.2.1", 5060) && str_ieq_cstr(&req->from->uri.host, "acme.example")) {
		snprintf(tenant_id, CALL_TENANT_SIZE, "acme");
		return 0;
	}
	if (peer_is(src, "192.0.2.2", 5060)) {
		snprintf(tenant_id, CALL_TENANT_SIZE, "globex");
		return 0;
	}
	err = sip_reply_print(out, req, &r);
	return err ? err : 401;
}

static int op_contacts(void *arg, const char *domain, const char *user, call_contact_h *h,
		       void *harg)
{
	struct call_contact ct;
	int err;

	(void)arg;
	if (strcmp(domain, "acme.example"))
		return 0;
	if (!strcmp(user, "1002")) {
		ct.uri = STR("sip:1002@192.0.2.50:5070");
		ct.dst = peer4("192.0.2.50", 5070);
		err = h(&ct, harg);
		if (err)
			return err;
		/* A second phone of the same user: the call forks. */
		ct.uri = STR("sip:1002@192.0.2.51:5070");
		ct.dst = peer4("192.0.2.51", 5070);
		err = h(&ct, harg);
		return err ? err : 2;
	}
	if (!strcmp(user, "1005")) {
		ct.uri = STR("sip:1005@192.0.2.60:5070");
		ct.dst = peer4("192.0.2.60", 5070);
		err = h(&ct, harg);
		return err ? err : 1;
	}
	return 0;
}

/* ---- the fake media engine ---- */

static int op_media_create(void *arg, uint64_t *sid, struct sockaddr_storage local[2])
{
	struct fx *f = arg;
	struct sip_peer a = peer4("192.0.2.100", 20000), b = peer4("192.0.2.100", 20002);

	f->media_created++;
	*sid = 77;
	local[0] = a.addr;
	local[1] = b.addr;
	return 0;
}

static int op_media_remote(void *arg, uint64_t sid, enum call_leg_id leg,
			   const struct sdp_stream *st)
{
	struct fx *f = arg;

	(void)sid;
	f->remote_set[leg]++;
	f->last_hold = st->hold;
	return 0;
}

static int op_media_bridge(void *arg, uint64_t sid, bool on)
{
	struct fx *f = arg;

	(void)sid;
	f->bridged += on;
	return 0;
}

static void op_media_destroy(void *arg, uint64_t sid)
{
	struct fx *f = arg;

	(void)sid;
	f->media_destroyed++;
}

/* ---- the application ---- */

static void op_routed(void *arg, struct call *c, const struct call_route *r)
{
	struct fx *f = arg;

	f->routed++;
	f->last = c;
	if (r->kind == CALL_ROUTE_USER) {
		f->dial_err = call_dial_user(c, r->target, 0);
		if (f->dial_err)
			call_hangup(c, 480, "no-contact");
	} else {
		call_answer(c);
	}
}

static void op_connected(void *arg, struct call *c)
{
	struct fx *f = arg;

	(void)c;
	f->connected++;
}

static void op_dial_failed(void *arg, struct call *c, const char *user, unsigned status)
{
	struct fx *f = arg;

	(void)c;
	f->dial_failed++;
	snprintf(f->failed_user, sizeof(f->failed_user), "%s", user);
	f->failed_status = status;
}

static void op_ended(void *arg, struct call *c, const struct call_cdr *cdr)
{
	struct fx *f = arg;

	(void)c;
	f->ended++;
	f->last = NULL;
	snprintf(f->cdr_cause, sizeof(f->cdr_cause), "%s", cdr->cause);
	snprintf(f->cdr_agent, sizeof(f->cdr_agent), "%s", cdr->agent);
	snprintf(f->cdr_route, sizeof(f->cdr_route), "%s", cdr->route);
	f->cdr_status = cdr->status;
	f->cdr_side = cdr->side;
	f->cdr_answered = cdr->answer_ms != 0;
	f->cdr_bridged = cdr->bridge_ms != 0;
}

static const struct call_ops ops = {
    .number = op_number,
    .user = op_user,
    .trunk_allowed = op_trunk,
    .is_domain = op_is_domain,
    .authenticate = op_auth,
    .contacts = op_contacts,
    .media_create = op_media_create,
    .media_remote = op_media_remote,
    .media_bridge = op_media_bridge,
    .media_destroy = op_media_destroy,
    .routed = op_routed,
    .connected = op_connected,
    .dial_failed = op_dial_failed,
    .ended = op_ended,
};

static void fx_free(struct fx *f)
{
	if (!f)
		return;
	call_mgr_free(f->cm);
	sip_txl_free(f->txl);
	timer_wheel_free(f->tw);
	arena_reset(&f->arena);
	mem_free(f);
}

static int fx_alloc(struct fx **fp, enum call_route_kind route)
{
	const struct sip_tx_ops tx_ops = {
	    .send = fake_send, .request = on_request, .stray = on_stray};
	struct call_conf conf = {.ring_timeout_s = 30};
	struct sip_peer us = peer4("192.0.2.100", 5060);
	struct fx *f = mem_zalloc(sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->route = route;
	conf.sip_addr = us.addr;
	arena_init(&f->arena, f->abuf, sizeof(f->abuf), 0);
	err = timer_wheel_alloc(&f->tw, 0);
	err = err ? err : sip_txl_alloc(&f->txl, NULL, f->tw, &tx_ops, f);
	err = err ? err : call_mgr_alloc(&f->cm, &conf, &ops, f, f->txl, f->tw);
	if (err)
		fx_free(f);
	else
		*fp = f;
	return err;
}

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

/* Parse @len bytes of @text (copied into a slot that outlives the call). */
static int fx_parse(struct fx *f, const char *text, size_t len, struct sip_msg **mp)
{
	char *buf = f->text[f->slot];

	f->slot = (f->slot + 1) % 8;
	if (len >= sizeof(f->text[0]))
		return -EMSGSIZE;
	memcpy(buf, text, len);
	return sip_msg_parse(mp, &f->arena, buf, len, 0, NULL, NULL);
}

/* The @n-th message sent (parsed). */
static int fx_sent(struct fx *f, unsigned n, struct sip_msg **mp)
{
	if (n >= f->nsent)
		return -ENOENT;
	return fx_parse(f, f->sent[n].buf, f->sent[n].len, mp);
}

/* The index of the last message sent that starts with @prefix, or -1. */
static int fx_find(const struct fx *f, const char *prefix)
{
	for (int i = (int)f->nsent - 1; i >= 0; i--) {
		if (!strncmp(f->sent[i].buf, prefix, strlen(prefix)))
			return i;
	}
	return -1;
}

static int fx_recv(struct fx *f, const char *text, const struct sip_peer *src)
{
	struct sip_msg *m;
	int err = fx_parse(f, text, strlen(text), &m);

	return err ? err : sip_txl_recv(f->txl, m, src);
}

#define SDP_PCMU                                                                        \
	"v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF \
	"t=0 0" CRLF "m=audio 4000 RTP/AVP 0 101" CRLF "a=rtpmap:101 telephone-event/8000" CRLF

/* The caller's INVITE to @ruri_user from @from_host. */
static int send_invite(struct fx *f, const char *ruri_user, const char *from_host,
		       const struct sip_peer *src, const char *sdp, const char *branch)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "INVITE sip:%s@acme.example SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s" CRLF "Max-Forwards: 70" CRLF
		 "From: <sip:5551234@%s>;tag=caller1" CRLF "To: <sip:%s@192.0.2.100>" CRLF
		 "Call-ID: call-a@192.0.2.1" CRLF "CSeq: 1 INVITE" CRLF
		 "Contact: <sip:5551234@192.0.2.1:5060>" CRLF "Content-Type: application/sdp" CRLF
		 "Content-Length: %zu" CRLF CRLF "%s",
		 ruri_user, branch, from_host, ruri_user, strlen(sdp), sdp);
	return fx_recv(f, buf, src);
}

/* A request of the caller inside the A dialog (To tag: ours, from the 200 or 180). */
static int send_in_dialog(struct fx *f, const char *method, unsigned cseq, const char *to_tag,
			  const char *sdp, const struct sip_peer *src)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "%s sip:shenggu@192.0.2.100:5060 SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s-%u" CRLF "Max-Forwards: 70" CRLF
		 "From: <sip:5551234@192.0.2.1>;tag=caller1" CRLF
		 "To: <sip:8585100001@192.0.2.100>;tag=%s" CRLF "Call-ID: call-a@192.0.2.1" CRLF
		 "CSeq: %u %s" CRLF "Contact: <sip:5551234@192.0.2.1:5060>" CRLF "%s"
		 "Content-Length: %zu" CRLF CRLF "%s",
		 method, method, cseq, to_tag, cseq, method,
		 sdp ? "Content-Type: application/sdp" CRLF : "", sdp ? strlen(sdp) : 0,
		 sdp ? sdp : "");
	return fx_recv(f, buf, src);
}

/* The agent's phone answers the request sent as message @n with @status. */
static int phone_answer(struct fx *f, unsigned n, unsigned status, const char *tag, const char *sdp)
{
	struct sip_msg *req, *resp;
	struct mbuf out;
	struct sip_reply r = {.status = status, .to_tag = str_cstr(tag)};
	struct sip_peer src = f->sent[n].peer;
	int err;

	err = fx_sent(f, n, &req);
	if (err)
		return err;
	if (sdp) {
		r.content_type = STR("application/sdp");
		r.body = str_cstr(sdp);
	}
	r.headers = STR("Contact: <sip:1002@192.0.2.50:5070>" CRLF);
	mbuf_init(&out, 0);
	err = sip_reply_print(&out, req, &r);
	if (!err)
		err = fx_parse(f, (const char *)out.buf, out.end, &resp);
	mbuf_reset(&out);
	if (err)
		return err;
	err = sip_txl_recv(f->txl, resp, &src);
	return err < 0 ? err : 0;
}

/* The To tag of sent message @n. */
static void to_tag_of(struct fx *f, unsigned n, char *out, size_t size)
{
	struct sip_msg *m;

	out[0] = '\0';
	if (!fx_sent(f, n, &m))
		str_copy_cstr(out, size, &m->to->tag);
}

#define SDP_PHONE                                                                         \
	"v=0" CRLF "o=- 2 2 IN IP4 192.0.2.50" CRLF "s=-" CRLF "c=IN IP4 192.0.2.50" CRLF \
	"t=0 0" CRLF "m=audio 5000 RTP/AVP 0" CRLF

TEST(test_call_number_to_user)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060), phone = peer4("192.0.2.50", 5070);
	struct fx *f = NULL;
	struct sip_msg *m;
	char tag[64], btag[64], buf[1024];
	int i1, i2, n, err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_USER));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "a1"));
	TEST_EQUALS(1, f->routed);
	TEST_EQUALS(0, f->dial_err);
	TEST_EQUALS(1, f->media_created);
	TEST_EQUALS(1, f->remote_set[CALL_LEG_A]);
	/* Forked to both phones of 1002, each with our offer for the B leg. */
	TEST_EQUALS(2, f->nsent);
	TEST_ASSERT(!strncmp(f->sent[0].buf, "INVITE sip:1002@192.0.2.50:5070 SIP/2.0", 39));
	TEST_ASSERT(peer_is(&f->sent[0].peer, "192.0.2.50", 5070));
	TEST_ASSERT(peer_is(&f->sent[1].peer, "192.0.2.51", 5070));
	TEST_ERR(fx_sent(f, 0, &m));
	TEST_ASSERT(strstr(m->body.p, "m=audio 20002 RTP/AVP") != NULL);
	TEST_ASSERT(str_eq(&m->from->uri.user, &STR("5551234")));
	TEST_ASSERT(str_eq(&m->from->uri.host, &STR("acme.example")));
	TEST_EQUALS(69, m->max_forwards); /* one hop less than the caller's */

	/* The first phone rings: the caller hears 180. */
	TEST_ERR(phone_answer(f, 0, 180, "ph1", NULL));
	i1 = fx_find(f, "SIP/2.0 180");
	TEST_ASSERT(i1 >= 0);
	TEST_ASSERT(peer_is(&f->sent[i1].peer, "192.0.2.200", 5060));
	/* It answers: ACK to it, CANCEL to the other (once it rings), 200 to the caller. */
	TEST_ERR(phone_answer(f, 0, 200, "ph1", SDP_PHONE));
	TEST_EQUALS(1, f->connected);
	TEST_EQUALS(1, f->bridged);
	TEST_EQUALS(1, f->remote_set[CALL_LEG_B]);
	TEST_ASSERT(fx_find(f, "ACK sip:1002@192.0.2.50:5070") >= 0);
	i2 = fx_find(f, "SIP/2.0 200");
	TEST_ASSERT(i2 >= 0);
	TEST_ERR(fx_sent(f, (unsigned)i2, &m));
	TEST_ASSERT(strstr(m->body.p, "m=audio 20000 RTP/AVP 0") != NULL);
	to_tag_of(f, (unsigned)i2, tag, sizeof(tag));
	TEST_ASSERT(tag[0] != '\0');
	n = (int)f->nsent;
	TEST_ERR(phone_answer(f, 1, 180, "ph2", NULL));
	TEST_ASSERT(fx_find(f, "CANCEL sip:1002@192.0.2.51:5070") >= n);
	/* ...and answered anyway, as the CANCEL crossed it: ACK and BYE, the call goes on. */
	n = (int)f->nsent;
	TEST_ERR(phone_answer(f, 1, 200, "ph2", SDP_PHONE));
	TEST_ASSERT(fx_find(f, "ACK sip:1002@192.0.2.50:5070") >= n);
	TEST_ASSERT(fx_find(f, "BYE sip:1002@192.0.2.50:5070") == (int)f->nsent - 1);
	TEST_ASSERT(peer_is(&f->sent[f->nsent - 1].peer, "192.0.2.51", 5070));
	TEST_EQUALS(0, f->ended);
	/* The caller's ACK stops the 2xx retransmissions. */
	TEST_ERR(send_in_dialog(f, "ACK", 1, tag, NULL, &trunk) < 0);
	n = (int)f->nsent;
	fx_run_to(f, 10000);
	TEST_EQUALS(-1, fx_find(f, "SIP/2.0 200 OK") >= n ? 0 : -1);

	/* The agent hangs up: 200 to it, BYE to the caller, the CDR. */
	TEST_ERR(fx_sent(f, 0, &m));
	str_copy_cstr(btag, sizeof(btag), &m->from->tag);
	snprintf(buf, sizeof(buf),
		 "BYE sip:shenggu@192.0.2.100:5060 SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP 192.0.2.50:5070;branch=z9hG4bKbye1" CRLF "Max-Forwards: 70" CRLF
		 "From: <sip:1002@acme.example>;tag=ph1" CRLF
		 "To: <sip:5551234@acme.example>;tag=%s" CRLF "Call-ID: %.*s" CRLF
		 "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF,
		 btag, STR_FMT(&m->call_id));
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv(f, buf, &phone));
	TEST_ASSERT(fx_find(f, "SIP/2.0 200") == (int)f->nsent - 2);
	TEST_ASSERT(fx_find(f, "BYE sip:5551234@192.0.2.1:5060") == (int)f->nsent - 1);
	TEST_EQUALS(1, f->ended);
	TEST_EQUALS(CALL_END_CALLEE, f->cdr_side);
	TEST_STR("1002", str_cstr(f->cdr_agent));
	TEST_STR("user:1002", str_cstr(f->cdr_route));
	TEST_ASSERT(f->cdr_answered && f->cdr_bridged);
	TEST_EQUALS(1, f->media_destroyed);
	TEST_EQUALS(0, call_mgr_count(f->cm));
out:
	fx_free(f);
	return err;
}

/*
 * Ringing several users at once (an ACD's ring all), as the application
 * of an answered caller (user 1005 has one phone): one is stopped by the application (CANCEL, no
 * report), one fails (busy on one phone, its ring time runs out on the
 * other: one report for the user), then rung again and answers.
 */
TEST(test_call_ring_several_users)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060);
	struct fx *f = NULL;
	struct call *c;
	int n, i, err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_IVR));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "r1"));
	c = f->last;
	TEST_ASSERT(c && call_answered(c));
	n = (int)f->nsent;
	TEST_ERR(call_dial_user(c, "1002", 5));
	TEST_ERR(call_dial_user(c, "1005", 10));
	TEST_EQUALS(-EALREADY, call_dial_user(c, "1002", 5));
	TEST_EQUALS(-ENOENT, call_dial_user(c, "1004", 5));
	TEST_EQUALS(n + 3, (int)f->nsent); /* two phones of 1002, one of 1005 */
	TEST_ASSERT(call_agent(c) == NULL);

	/* 1005 rings; the application stops it: CANCEL, 487, nothing reported. */
	TEST_ERR(phone_answer(f, (unsigned)n + 2, 180, "p3", NULL));
	TEST_ERR(call_dial_cancel(c, "1005"));
	i = fx_find(f, "CANCEL sip:1005@192.0.2.60:5070");
	TEST_ASSERT(i >= n);
	TEST_ERR(phone_answer(f, (unsigned)n + 2, 487, "p3", NULL));
	TEST_EQUALS(-ENOENT, call_dial_cancel(c, "1005"));
	TEST_EQUALS(0, f->dial_failed);

	/* 1002: one phone busy, the other rings out after 5 s: one report. */
	TEST_ERR(phone_answer(f, (unsigned)n, 486, "p1", NULL));
	TEST_EQUALS(0, f->dial_failed);
	TEST_ERR(phone_answer(f, (unsigned)n + 1, 180, "p2", NULL));
	fx_run_to(f, f->now + 5000);
	TEST_EQUALS(1, f->dial_failed);
	TEST_STR("1002", str_cstr(f->failed_user));
	TEST_EQUALS(480, f->failed_status);
	TEST_ASSERT(fx_find(f, "CANCEL sip:1002@192.0.2.51:5070") >= n);
	TEST_ERR(phone_answer(f, (unsigned)n + 1, 487, "p2", NULL));
	TEST_EQUALS(0, f->ended);

	/* Rung again at once (its old forks are gone): it answers, bridged. */
	n = (int)f->nsent;
	TEST_ERR(call_dial_user(c, "1002", 5));
	TEST_EQUALS(n + 2, (int)f->nsent);
	TEST_ERR(phone_answer(f, (unsigned)n + 1, 180, "p5", NULL));
	TEST_ERR(phone_answer(f, (unsigned)n, 200, "p4", SDP_PHONE));
	TEST_EQUALS(1, f->connected);
	TEST_STR("1002", str_cstr(call_agent(c)));
	TEST_EQUALS(-EBUSY, call_dial_user(c, "1005", 5));
	TEST_ASSERT(fx_find(f, "CANCEL sip:1002@192.0.2.51:5070") >= n);
	TEST_EQUALS(1, f->dial_failed);
	call_hangup(c, 480, "test");
	TEST_EQUALS(1, f->ended);
	TEST_STR("1002", str_cstr(f->cdr_agent));
out:
	fx_free(f);
	return err;
}

/*
 * A call that ends while a phone has not answered its INVITE yet with any
 * provisional response: the CANCEL goes out when the 1xx comes (§9.1),
 * after the call is gone; a 2xx instead gets ACK and BYE.
 */
TEST(test_call_cancel_after_call_ended)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060);
	struct fx *f = NULL;
	int n, i, err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_IVR));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "o1"));
	n = (int)f->nsent;
	TEST_ERR(call_dial_user(f->last, "1005", 10));
	call_hangup(f->last, 480, "test");
	TEST_EQUALS(1, f->ended);
	TEST_EQUALS(-1, fx_find(f, "CANCEL"));
	TEST_ERR(phone_answer(f, (unsigned)n, 180, "late", NULL));
	i = fx_find(f, "CANCEL sip:1005@192.0.2.60:5070");
	TEST_ASSERT(i > n);
	TEST_ERR(phone_answer(f, (unsigned)n, 487, "late", NULL));
	TEST_EQUALS(0, f->dial_failed);

	/* The same, answered instead: the dialog it made is ended. */
	f->nsent = 0;
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "o2"));
	n = (int)f->nsent;
	TEST_ERR(call_dial_user(f->last, "1005", 10));
	call_hangup(f->last, 480, "test");
	TEST_ERR(phone_answer(f, (unsigned)n, 200, "late2", SDP_PHONE));
	TEST_ASSERT(fx_find(f, "ACK sip:1002@192.0.2.50:5070") > n);
	TEST_ASSERT(fx_find(f, "BYE sip:1002@192.0.2.50:5070") > n);
	TEST_EQUALS(0, f->connected);
out:
	fx_free(f);
	return err;
}

TEST(test_call_cancel_before_answer)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060);
	struct fx *f = NULL;
	char buf[1024];
	int err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_USER));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "c1"));
	TEST_ERR(phone_answer(f, 0, 180, "ph1", NULL));
	snprintf(buf, sizeof(buf),
		 "CANCEL sip:8585100001@192.0.2.100 SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc1" CRLF "Max-Forwards: 70" CRLF
		 "From: <sip:5551234@carrier.example>;tag=caller1" CRLF
		 "To: <sip:8585100001@192.0.2.100>" CRLF "Call-ID: call-a@192.0.2.1" CRLF
		 "CSeq: 1 CANCEL" CRLF "Content-Length: 0" CRLF CRLF);
	TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv(f, buf, &trunk));
	/* §9.2: 200 to the CANCEL, 487 to the INVITE; the ringing fork is cancelled. */
	TEST_ASSERT(fx_find(f, "SIP/2.0 487") >= 0);
	TEST_ASSERT(fx_find(f, "CANCEL sip:1002@192.0.2.50:5070") >= 0);
	TEST_EQUALS(1, f->ended);
	TEST_STR("cancel", str_cstr(f->cdr_cause));
	TEST_EQUALS(487, f->cdr_status);
	TEST_EQUALS(CALL_END_CALLER, f->cdr_side);
	/* The phone's 487 is acknowledged by its transaction; nothing else happens. */
	TEST_ERR(phone_answer(f, 0, 487, "ph1", NULL));
	TEST_ASSERT(fx_find(f, "ACK sip:1002@192.0.2.50:5070") >= 0);
	TEST_EQUALS(1, f->ended);
	/* The other phone answered as the CANCEL crossed it: its 2xx (and the
	 * retransmissions) get an ACK and a BYE, with no call behind them. */
	TEST_ERR(phone_answer(f, 1, 200, "ph2", SDP_PHONE));
	TEST_ERR(phone_answer(f, 1, 200, "ph2", SDP_PHONE));
	TEST_ASSERT(fx_find(f, "ACK sip:1002@192.0.2.50:5070") >= 0);
	TEST_ASSERT(fx_find(f, "BYE sip:1002@192.0.2.50:5070") == (int)f->nsent - 1);
	TEST_ASSERT(peer_is(&f->sent[f->nsent - 1].peer, "192.0.2.51", 5070));
	TEST_EQUALS(1, f->ended);
out:
	fx_free(f);
	return err;
}

TEST(test_call_refusals)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060), stranger = peer4("203.0.113.9", 5060),
			globex = peer4("192.0.2.2", 5060), acme = peer4("192.0.2.1", 5060);
	struct fx *f = NULL;
	int err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_USER));
	/* An unknown number or user: 404 (after authentication for users). */
	TEST_EQUALS(SIP_TX_RECV_NEW, send_invite(f, "999", "acme.example", &acme, SDP_PCMU, "r1"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 404") == (int)f->nsent - 1);
	/* An unknown number from a caller of no tenant: 404 at once. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585999999", "carrier.example", &trunk, SDP_PCMU, "r0"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 404") == (int)f->nsent - 1);
	/* A number from a source not on its trunks, not claiming the tenant: 403. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &stranger, SDP_PCMU, "r2"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 403 Forbidden (source not allowed)") == (int)f->nsent - 1);
	/* Claiming to be a user of the tenant: challenged. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "acme.example", &stranger, SDP_PCMU, "r3"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 401") == (int)f->nsent - 1);
	/* A user of another tenant: never across tenants. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "acme.example", &globex, SDP_PCMU, "r4"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 403") == (int)f->nsent - 1);
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "1002", "acme.example", &globex, SDP_PCMU, "r5"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 404") == (int)f->nsent - 1);
	/* No common codec: 488 with the reason. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk,
				"v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF
				"c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF
				"m=audio 4000 RTP/AVP 18" CRLF "a=rtpmap:18 G729/8000" CRLF,
				"r6"));
	TEST_ASSERT(fx_find(f, "SIP/2.0 488 Not Acceptable Here (no common codec)") ==
		    (int)f->nsent - 1);
	TEST_EQUALS(1, f->ended);
	TEST_STR("no-codec", str_cstr(f->cdr_cause));
	TEST_EQUALS(1, f->media_destroyed);
	TEST_EQUALS(0, call_mgr_count(f->cm));
	/* No hops left: 483; one of our own INVITEs come back: 482 (a loop). */
	{
		static const char *const vias[] = {
		    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKmf0" CRLF,
		    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKloop" CRLF
		    "Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKsg0123;rport" CRLF,
		};
		static const unsigned mf[] = {0, 69}, status[] = {483, 482};
		char buf[2048], exp[32];

		for (unsigned k = 0; k < 2; k++) {
			snprintf(buf, sizeof(buf),
				 "INVITE sip:8585100001@acme.example SIP/2.0" CRLF "%s"
				 "Max-Forwards: %u" CRLF
				 "From: <sip:5551234@carrier.example>;tag=f%u" CRLF
				 "To: <sip:8585100001@acme.example>" CRLF
				 "Call-ID: mf%u@192.0.2.1" CRLF "CSeq: 1 INVITE" CRLF
				 "Contact: <sip:5551234@192.0.2.1:5060>" CRLF
				 "Content-Type: application/sdp" CRLF
				 "Content-Length: %zu" CRLF CRLF "%s",
				 vias[k], mf[k], k, k, strlen(SDP_PCMU), SDP_PCMU);
			TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv(f, buf, &trunk));
			snprintf(exp, sizeof(exp), "SIP/2.0 %u", status[k]);
			TEST_ASSERT(fx_find(f, exp) == (int)f->nsent - 1);
		}
	}
	/* An extension we do not have, required: 420 naming it (§8.2.2.3). */
	{
		char buf[2048];

		snprintf(buf, sizeof(buf),
			 "INVITE sip:8585100001@acme.example SIP/2.0" CRLF
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreq" CRLF
			 "Max-Forwards: 70" CRLF "From: <sip:5551234@carrier.example>;tag=rq" CRLF
			 "To: <sip:8585100001@acme.example>" CRLF "Call-ID: rq@192.0.2.1" CRLF
			 "CSeq: 1 INVITE" CRLF "Contact: <sip:5551234@192.0.2.1:5060>" CRLF
			 "Require: 100rel" CRLF "Content-Type: application/sdp" CRLF
			 "Content-Length: %zu" CRLF CRLF "%s",
			 strlen(SDP_PCMU), SDP_PCMU);
		TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv(f, buf, &trunk));
		TEST_ASSERT(fx_find(f, "SIP/2.0 420") == (int)f->nsent - 1);
		TEST_ASSERT(strstr(f->sent[f->nsent - 1].buf, "Unsupported: 100rel\r\n") != NULL);
	}
	/* A user calling a user of its own tenant by id: both phones ring. */
	f->nsent = 0;
	TEST_EQUALS(SIP_TX_RECV_NEW, send_invite(f, "1002", "acme.example", &acme, SDP_PCMU, "r7"));
	TEST_EQUALS(2, fx_find(f, "INVITE sip:1002@192.0.2.51:5070") + 1);
	/* A user with no phone registered: the application hangs up with 480. */
	TEST_EQUALS(SIP_TX_RECV_NEW, send_invite(f, "1003", "acme.example", &acme, SDP_PCMU, "r8"));
	TEST_EQUALS(-ENOENT, f->dial_err);
	TEST_ASSERT(fx_find(f, "SIP/2.0 480") == (int)f->nsent - 1);
out:
	fx_free(f);
	return err;
}

TEST(test_call_answered_hold_and_no_ack)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060);
	struct fx *f = NULL;
	struct sip_msg *m;
	char tag[64];
	int i, n, err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_IVR));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, SDP_PCMU, "h1"));
	i = fx_find(f, "SIP/2.0 200");
	TEST_ASSERT(i >= 0);
	to_tag_of(f, (unsigned)i, tag, sizeof(tag));
	TEST_ERR(send_in_dialog(f, "ACK", 1, tag, NULL, &trunk) < 0);
	/* Hold: our answer mirrors sendonly, the engine hears about it. */
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_in_dialog(f, "INVITE", 2, tag, SDP_PCMU "a=sendonly" CRLF, &trunk));
	i = fx_find(f, "SIP/2.0 200");
	TEST_ERR(fx_sent(f, (unsigned)i, &m));
	TEST_ASSERT(strstr(m->body.p, "a=recvonly") != NULL);
	TEST_ASSERT(f->last_hold);
	TEST_EQUALS(2, f->remote_set[CALL_LEG_A]);
	/* ...never acknowledged: re-sent, then the call ends with BYE after 64*T1. */
	n = (int)f->nsent;
	fx_run_to(f, 40000);
	TEST_ASSERT(f->nsent >= (unsigned)n + 5);
	TEST_ASSERT(fx_find(f, "BYE sip:5551234@192.0.2.1:5060") >= 0);
	TEST_EQUALS(1, f->ended);
	TEST_STR("no-ack", str_cstr(f->cdr_cause));
	TEST_STR("ivr:main", str_cstr(f->cdr_route));
out:
	fx_free(f);
	return err;
}

/* A late offer (no SDP in the INVITE): our 200 offers, the ACK answers. */
TEST(test_call_late_offer)
{
	struct sip_peer trunk = peer4("192.0.2.200", 5060);
	struct fx *f = NULL;
	struct sip_msg *m;
	char tag[64];
	int i, err = 0;

	TEST_ERR(fx_alloc(&f, CALL_ROUTE_IVR));
	TEST_EQUALS(SIP_TX_RECV_NEW,
		    send_invite(f, "8585100001", "carrier.example", &trunk, "", "lo1"));
	i = fx_find(f, "SIP/2.0 200");
	TEST_ASSERT(i >= 0);
	TEST_ERR(fx_sent(f, (unsigned)i, &m));
	/* Our offer: every codec we have, and telephone-event. */
	TEST_ASSERT(strstr(m->body.p, "m=audio 20000 RTP/AVP 0 8 101") != NULL);
	TEST_EQUALS(0, f->remote_set[CALL_LEG_A]);
	to_tag_of(f, (unsigned)i, tag, sizeof(tag));
	TEST_ERR(send_in_dialog(f, "ACK", 1, tag, SDP_PCMU, &trunk) < 0);
	TEST_EQUALS(1, f->remote_set[CALL_LEG_A]);
	TEST_EQUALS(0, f->ended);
	/* Another one whose ACK has no answer: the call ends with BYE. */
	f->nsent = 0;
	{
		char buf[2048];

		snprintf(buf, sizeof(buf),
			 "INVITE sip:8585100001@acme.example SIP/2.0" CRLF
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlo2" CRLF
			 "Max-Forwards: 70" CRLF "From: <sip:5551234@carrier.example>;tag=lo2" CRLF
			 "To: <sip:8585100001@acme.example>" CRLF "Call-ID: lo2@192.0.2.1" CRLF
			 "CSeq: 1 INVITE" CRLF "Contact: <sip:5551234@192.0.2.1:5060>" CRLF
			 "Content-Length: 0" CRLF CRLF);
		TEST_EQUALS(SIP_TX_RECV_NEW, fx_recv(f, buf, &trunk));
		i = fx_find(f, "SIP/2.0 200");
		TEST_ASSERT(i >= 0);
		to_tag_of(f, (unsigned)i, tag, sizeof(tag));
		snprintf(buf, sizeof(buf),
			 "ACK sip:shenggu@192.0.2.100:5060 SIP/2.0" CRLF
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlo2ack" CRLF
			 "Max-Forwards: 70" CRLF "From: <sip:5551234@carrier.example>;tag=lo2" CRLF
			 "To: <sip:8585100001@acme.example>;tag=%s" CRLF
			 "Call-ID: lo2@192.0.2.1" CRLF "CSeq: 1 ACK" CRLF
			 "Content-Length: 0" CRLF CRLF,
			 tag);
		TEST_ASSERT(fx_recv(f, buf, &trunk) >= 0);
	}
	TEST_ASSERT(fx_find(f, "BYE sip:5551234@192.0.2.1:5060") >= 0);
	TEST_EQUALS(1, f->ended);
	TEST_STR("no-codec", str_cstr(f->cdr_cause));
out:
	fx_free(f);
	return err;
}
