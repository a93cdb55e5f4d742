/*
 * call: the B2BUA (see call.h). Layout: the manager and its dialog index;
 * printing our requests and responses; the A leg (new INVITE, answer,
 * 2xx retransmission, CANCEL, re-INVITE); the B leg (forks, responses,
 * ACK, CANCEL of the losers); ending a call and its CDR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define LOG_MODULE "call"
#include "base/clock.h"
#include "base/hash.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "call/call.h"

/* INVITEs out at once, over every user being rung (ring all): bounds
 * what one call can make us send. */
#define CALL_MAX_FORKS 64
#define CALL_MAX_DIAL  32 /* users rung at once */
/* Our branches: the RFC 3261 cookie and a mark of ours, so that an INVITE
 * that comes back with one of our Vias is seen as a loop (482). */
#define CALL_BRANCH    "z9hG4bKsg"
#define SERVER_HDR     "Server: Shenggu/" SHENGGU_VERSION "\r\n"
#define ALLOW_HDR      "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER\r\n"

enum call_state {
	CALL_ROUTING = 0, /* the application decides */
	CALL_ANSWERED,	  /* the caller has our 200 */
	CALL_ENDED,
};

/* One side of a dialog (RFC 3261 §12): what our requests in it carry. */
struct dlg {
	char *call_id;
	char *local;  /* our From (in our requests) value, with our tag */
	char *remote; /* their address value, with their tag */
	char *target; /* remote target: Request-URI of our requests */
	char *routes; /* "Route: ...\r\n" lines, or NULL */
	char *key;    /* call_id "\n" our tag: the index key */
	uint32_t local_cseq, remote_cseq;
	uint32_t max_forwards; /* of our requests; 0: 70 */
	struct sip_peer peer;  /* where our requests go */
};

struct dialee;

/* One INVITE of the B leg to one contact of a user; freed at its final
 * response. A fork still waiting for a provisional response when its call
 * ends outlives the call as an orphan (c NULL, in the manager's list), so
 * that its CANCEL goes out when the phone's 1xx comes (§9.1). */
struct fork {
	struct list_elem le;
	struct call_mgr *m;
	struct call *c;
	struct dialee *d;
	struct sip_tx *ct; /* ours until its final report */
	struct sip_peer dst;
	bool prov, cancel, cancel_sent;
};

/*
 * A user being rung: its forks (one per registered contact) and its ring
 * timer. "Cancelled" dialees (the application stopped them, or another one
 * won) report nothing more and go when their last fork is answered.
 */
struct dialee {
	struct list_elem le;
	struct call *c;
	char user[CALL_TARGET_SIZE];
	unsigned live; /* forks without a final response */
	unsigned best; /* the most telling final status of its failed forks */
	bool cancelled;
	struct timer tmr;
};

struct call {
	struct call_mgr *m;
	struct list_elem le;
	enum call_state state;
	char uuid[CALL_UUID_SIZE];
	struct call_route route;
	void *app;

	/* A leg */
	struct sip_tx *inv; /* the INVITE's server transaction until its final response */
	struct mbuf invite; /* a copy of it, to answer it later */
	struct dlg a;
	struct mbuf a_sdp; /* our answer to the caller's offer */
	struct mbuf a_2xx; /* our last 2xx to the caller, re-sent until its ACK */
	struct sip_peer a_2xx_peer;
	uint64_t a_2xx_interval, a_2xx_elapsed;
	struct timer a_2xx_tmr;
	bool a_ringing;	 /* 180 sent */
	bool late_offer; /* the INVITE had no SDP: our 200 offers, the ACK answers */
	struct sdp_local a_local, b_local;

	/* B leg */
	struct list forks;   /* struct fork */
	struct list dialees; /* struct dialee */
	unsigned nforks;     /* forks without a final response */
	unsigned ndial;	     /* dialees in the list */
	bool bridged;
	struct dlg b;
	struct mbuf b_ack; /* our ACK to the B leg's 2xx, re-sent for its retransmissions */
	char b_tag[128];   /* the To tag of that 2xx: the winning fork */
	char agent[CALL_TARGET_SIZE]; /* the user who answered */
	uint32_t max_forwards;	      /* of the B leg's INVITE */

	/* media */
	uint64_t sid;
	bool has_media;

	/* CDR */
	char caller[128], callee[128];
	uint64_t start_ms, answer_ms, bridge_ms;
};

struct call_mgr {
	struct call_conf conf;
	struct call_ops ops;
	void *arg;
	struct sip_txl *txl;
	struct timer_wheel *tw;
	struct hash *dlgs; /* dlg key -> struct call */
	struct list calls;
	struct list orphans; /* struct fork of ended calls, CANCEL pending */
	size_t count;
	char via_host[64]; /* "192.0.2.1:5060" or "[2001:db8::1]:5060" */
};

/* ---- small helpers ---- */

static char *dup_str(const struct str *s)
{
	char *p = mem_alloc(s->len + 1);

	if (p) {
		if (s->len)
			memcpy(p, s->p, s->len);
		p[s->len] = '\0';
	}
	return p;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
	struct mbuf mb;
	va_list ap;
	char *p = NULL;
	int err;

	mbuf_init(&mb, 0);
	va_start(ap, fmt);
	err = mbuf_vprintf(&mb, fmt, ap);
	va_end(ap);
	if (!err) {
		struct str s = mbuf_str(&mb);

		p = dup_str(&s);
	}
	mbuf_reset(&mb);
	return p;
}

/* @n random bytes as 2n hex digits. */
static void rand_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[32];

	if (n > sizeof(b))
		n = sizeof(b);
	if (getrandom(b, n, 0) != (ssize_t)n) {
		/* getrandom() of up to 256 bytes does not fail once the pool is
		 * ready; should it, a clock-based value still keeps tags apart. */
		uint64_t t = clock_mono_ns();

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
	}
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void dlg_free(struct call_mgr *m, struct dlg *d)
{
	if (d->key) {
		struct str k = str_cstr(d->key);

		hash_del(m->dlgs, &k);
	}
	mem_free(d->call_id);
	mem_free(d->local);
	mem_free(d->remote);
	mem_free(d->target);
	mem_free(d->routes);
	mem_free(d->key);
	memset(d, 0, sizeof(*d));
}

/* Index @d under its Call-ID and our tag. */
static int dlg_index(struct call *c, struct dlg *d, const char *local_tag)
{
	struct str k;

	d->key = dup_printf("%s\n%s", d->call_id, local_tag);
	if (!d->key)
		return -ENOMEM;
	k = str_cstr(d->key);
	return hash_put(c->m->dlgs, &k, c, NULL);
}

/* "Route: <v>\r\n" for every Record-Route value of @msg, in order or reversed (§12.1). */
static char *route_set(const struct sip_msg *msg, bool reverse)
{
	const struct sip_hdr *rr[32];
	unsigned n = 0;
	struct mbuf mb;
	char *p = NULL;
	int err = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE); h && n < 32;
	     h = sip_hdr_next(msg, h))
		rr[n++] = h;
	if (!n)
		return NULL;
	mbuf_init(&mb, 0);
	for (unsigned i = 0; i < n && !err; i++) {
		const struct sip_hdr *h = rr[reverse ? n - 1 - i : i];

		err = mbuf_printf(&mb, "Route: %.*s\r\n", STR_FMT(&h->value));
	}
	if (!err) {
		struct str s = mbuf_str(&mb);

		p = dup_str(&s);
	}
	mbuf_reset(&mb);
	return p;
}

/* The Contact URI of @msg (the remote target), or an empty view. */
static struct str contact_uri(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);

	if (!h || !h->p.addr || h->p.addr->star)
		return STR_NULL;
	return h->p.addr->uri.raw;
}

/* ---- the manager ---- */

int call_mgr_alloc(struct call_mgr **mp, const struct call_conf *conf, const struct call_ops *ops,
		   void *arg, struct sip_txl *txl, struct timer_wheel *tw)
{
	struct call_mgr *m;
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	int err;

	if (!mp || !conf || !ops || !txl || !tw || !ops->number || !ops->user ||
	    !ops->authenticate || !ops->contacts || !ops->media_create || !ops->media_remote ||
	    !ops->media_bridge || !ops->media_destroy || !ops->routed || !ops->ended)
		return -EINVAL;
	if (conf->sip_addr.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&conf->sip_addr;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
	} else if (conf->sip_addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&conf->sip_addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
	} else {
		return -EINVAL;
	}
	m = mem_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->conf = *conf;
	if (!m->conf.ring_timeout_s)
		m->conf.ring_timeout_s = 60;
	if (!m->conf.max_calls)
		m->conf.max_calls = 10000;
	if (!m->conf.t1_ms)
		m->conf.t1_ms = 500;
	m->ops = *ops;
	m->arg = arg;
	m->txl = txl;
	m->tw = tw;
	list_init(&m->calls);
	list_init(&m->orphans);
	if (conf->sip_addr.ss_family == AF_INET6)
		snprintf(m->via_host, sizeof(m->via_host), "[%s]:%u", ip, port);
	else
		snprintf(m->via_host, sizeof(m->via_host), "%s:%u", ip, port);
	err = hash_alloc(&m->dlgs, 0, 0);
	if (err) {
		mem_free(m);
		return err;
	}
	*mp = m;
	return 0;
}

size_t call_mgr_count(const struct call_mgr *m)
{
	return m ? m->count : 0;
}

/* ---- printing ---- */

static const char *transport_name(enum sip_transport t)
{
	switch (t) {
	case SIP_TRANSPORT_TCP:
		return "TCP";
	case SIP_TRANSPORT_TLS:
		return "TLS";
	default:
		return "UDP";
	}
}

/* A request of ours inside dialog @d (or, for the first INVITE, of it). */
static int print_request(struct call_mgr *m, struct mbuf *mb, const char *method,
			 const struct dlg *d, uint32_t cseq, const char *extra,
			 const struct mbuf *sdp)
{
	char branch[33];
	int err;

	rand_hex(branch, 12);
	err = mbuf_printf(mb,
			  "%s %s SIP/2.0\r\n"
			  "Via: SIP/2.0/%s %s;branch=" CALL_BRANCH "%s;rport\r\n"
			  "Max-Forwards: %u\r\n"
			  "%s"
			  "From: %s\r\n"
			  "To: %s\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u %s\r\n"
			  "%s" SERVER_HDR,
			  method, d->target, transport_name(d->peer.transport), m->via_host, branch,
			  d->max_forwards ? d->max_forwards : 70, d->routes ? d->routes : "",
			  d->local, d->remote, d->call_id, cseq, method, extra ? extra : "");
	if (!err && (!strcmp(method, "INVITE")))
		err = mbuf_printf(mb, "Contact: <sip:shenggu@%s>\r\n" ALLOW_HDR, m->via_host);
	if (!err && sdp && sdp->end)
		err = mbuf_printf(
		    mb, "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n", sdp->end);
	else if (!err)
		err = mbuf_write_cstr(mb, "Content-Length: 0\r\n\r\n");
	if (!err && sdp && sdp->end)
		err = mbuf_write(mb, sdp->buf, sdp->end);
	return err;
}

/* A response to the caller's INVITE (kept in c->invite), sent on c->inv. */
static int reply_invite(struct call *c, unsigned status, const char *reason, const char *hdrs,
			bool with_sdp)
{
	_Alignas(16) char abuf[16384];
	struct arena a;
	struct sip_msg *req;
	struct mbuf out, extra;
	struct sip_reply r = {.status = status};
	const char *tag = c->a.key ? strrchr(c->a.key, '\n') + 1 : c->uuid;
	int err;

	if (!c->inv)
		return -EALREADY;
	arena_init(&a, abuf, sizeof(abuf), 0);
	mbuf_init(&out, 0);
	mbuf_init(&extra, 0);
	err = sip_msg_parse(&req, &a, (const char *)c->invite.buf, c->invite.end, 0, NULL, NULL);
	if (err)
		goto out;
	if (status >= 200 && status < 300)
		err =
		    mbuf_printf(&extra, "Contact: <sip:shenggu@%s>\r\n" ALLOW_HDR, c->m->via_host);
	err = err ? err : mbuf_printf(&extra, "%s" SERVER_HDR, hdrs ? hdrs : "");
	if (err)
		goto out;
	r.reason = str_cstr(reason);
	r.to_tag = str_cstr(tag);
	r.headers = mbuf_str(&extra);
	if (with_sdp) {
		r.content_type = STR("application/sdp");
		r.body = mbuf_str(&c->a_sdp);
	}
	err = sip_tx_reply_print(&out, req, &c->a.peer, &r);
	if (err)
		goto out;
	if (status >= 200 && status < 300) {
		/* The 2xx is ours to re-send until the ACK (RFC 6026, §13.3.1.4). */
		mbuf_reset(&c->a_2xx);
		c->a_2xx = out;
		mbuf_init(&out, 0);
		c->a_2xx_peer = *sip_tx_peer(c->inv);
		err = sip_tx_respond(c->inv, c->a_2xx.buf, c->a_2xx.end);
	} else {
		err = sip_tx_respond(c->inv, out.buf, out.end);
	}
	if (status >= 200)
		c->inv = NULL; /* no longer ours */
out:
	mbuf_reset(&out);
	mbuf_reset(&extra);
	arena_reset(&a);
	return err;
}

/* Answer @st (a request other than the INVITE) with @status. */
static void reply_simple(struct sip_tx *st, const struct sip_msg *req, unsigned status,
			 const char *reason, const char *hdrs)
{
	struct sip_reply r = {
	    .status = status,
	    .reason = str_cstr(reason),
	    .headers = str_cstr(hdrs ? hdrs : SERVER_HDR),
	};
	char tag[17];

	if (!req->to->tag.len) {
		rand_hex(tag, 8);
		r.to_tag = str_cstr(tag);
	}
	sip_tx_reply(st, req, &r);
}

/* ---- ending ---- */

static void send_bye(struct call *c, struct dlg *d)
{
	struct mbuf mb;

	if (!d->call_id)
		return;
	mbuf_init(&mb, 0);
	if (!print_request(c->m, &mb, "BYE", d, ++d->local_cseq, NULL, NULL))
		sip_tx_request(NULL, c->m->txl, &d->peer, mb.buf, mb.end, NULL, NULL);
	mbuf_reset(&mb);
}

/* CANCEL @f unless it has been; a fork without a provisional response yet
 * gets its CANCEL when one comes (§9.1). */
static void fork_cancel(struct fork *f)
{
	struct mbuf mb;

	f->cancel = true;
	if (!f->prov || f->cancel_sent)
		return;
	f->cancel_sent = true;
	mbuf_init(&mb, 0);
	if (!sip_tx_cancel_print(&mb, f->ct))
		sip_tx_request(NULL, f->m->txl, &f->dst, mb.buf, mb.end, NULL, NULL);
	mbuf_reset(&mb);
}

/* Stop ringing dialee @d (NULL: every one); it reports nothing more. */
static void dialees_cancel(struct call *c, struct dialee *only)
{
	struct list_elem *e;

	for (e = list_head(&c->dialees); e; e = list_next(&c->dialees, e)) {
		struct dialee *d = list_entry(e, struct dialee, le);

		if (only && d != only)
			continue;
		d->cancelled = true;
		timer_cancel(&d->tmr);
	}
	for (e = list_head(&c->forks); e; e = list_next(&c->forks, e)) {
		struct fork *f = list_entry(e, struct fork, le);

		if (!only || f->d == only)
			fork_cancel(f);
	}
}

static void cancel_forks(struct call *c)
{
	dialees_cancel(c, NULL);
}

static const char *route_text(const struct call_route *r, char *buf, size_t size)
{
	static const char *const kinds[] = {"", "user", "ivr", "queue", "hangup", "feature"};

	if (r->kind == CALL_ROUTE_NONE)
		return "";
	snprintf(buf, size, "%s%s%s", kinds[r->kind], r->target[0] ? ":" : "", r->target);
	return buf;
}

static void call_free(struct call *c)
{
	struct call_mgr *m = c->m;

	timer_cancel(&c->a_2xx_tmr);
	while (!list_empty(&c->forks)) {
		struct fork *f = list_entry(list_head(&c->forks), struct fork, le);

		list_unlink(&f->le);
		if (f->cancel && !f->cancel_sent) {
			f->c = NULL;
			f->d = NULL;
			list_append(&m->orphans, &f->le);
			continue;
		}
		sip_tx_detach(f->ct);
		mem_free(f);
	}
	while (!list_empty(&c->dialees)) {
		struct dialee *d = list_entry(list_head(&c->dialees), struct dialee, le);

		timer_cancel(&d->tmr);
		list_unlink(&d->le);
		mem_free(d);
	}
	dlg_free(m, &c->a);
	dlg_free(m, &c->b);
	mbuf_reset(&c->invite);
	mbuf_reset(&c->a_sdp);
	mbuf_reset(&c->a_2xx);
	mbuf_reset(&c->b_ack);
	list_unlink(&c->le);
	m->count--;
	mem_free(c);
}

/*
 * End @c: the caller gets @status when never answered, BYE otherwise; the
 * B leg gets CANCEL or BYE; the media goes; the CDR is reported.
 */
static void call_end(struct call *c, enum call_end_side side, unsigned status, const char *cause,
		     bool bye_a, bool bye_b)
{
	struct call_mgr *m = c->m;
	struct call_cdr cdr;
	char route[96];
	unsigned final = c->answer_ms ? 200 : status;

	if (c->state == CALL_ENDED)
		return;
	c->state = CALL_ENDED;
	if (c->inv)
		reply_invite(c, status, NULL, NULL, false);
	else if (bye_a && c->answer_ms)
		send_bye(c, &c->a);
	cancel_forks(c);
	if (bye_b && c->bridged)
		send_bye(c, &c->b);
	if (c->has_media)
		m->ops.media_destroy(m->arg, c->sid);
	cdr = (struct call_cdr){
	    .uuid = c->uuid,
	    .tenant_id = c->route.tenant_id,
	    .caller = c->caller,
	    .callee = c->callee,
	    .route = route_text(&c->route, route, sizeof(route)),
	    .agent = c->agent,
	    .start_ms = c->start_ms,
	    .answer_ms = c->answer_ms,
	    .bridge_ms = c->bridge_ms,
	    .end_ms = clock_real_ms(),
	    .side = side,
	    .status = final,
	    .cause = cause,
	};
	log_info("call ended uuid=%s tenant=%s route=%s status=%u cause=%s", c->uuid,
		 c->route.tenant_id, cdr.route, final, cause);
	m->ops.ended(m->arg, c, &cdr);
	call_free(c);
}

void call_hangup(struct call *c, unsigned status, const char *cause)
{
	if (!c || c->state == CALL_ENDED)
		return;
	call_end(c, CALL_END_SYSTEM, status >= 400 && status < 700 ? status : 480,
		 cause ? cause : "hangup", true, true);
}

void call_mgr_free(struct call_mgr *m)
{
	struct list_elem *e, *tmp;

	if (!m)
		return;
	list_for_each_safe(&m->calls, e, tmp)
	{
		call_end(list_entry(e, struct call, le), CALL_END_SYSTEM, 503, "shutdown", true,
			 true);
	}
	list_for_each_safe(&m->orphans, e, tmp)
	{
		struct fork *f = list_entry(e, struct fork, le);

		list_unlink(e);
		sip_tx_detach(f->ct);
		mem_free(f);
	}
	hash_free(m->dlgs);
	mem_free(m);
}

void call_mgr_media_timeout(struct call_mgr *m, uint64_t sid)
{
	struct list_elem *e, *tmp;

	list_for_each_safe(&m->calls, e, tmp)
	{
		struct call *c = list_entry(e, struct call, le);

		if (c->has_media && c->sid == sid) {
			call_end(c, CALL_END_SYSTEM, 408, "rtp-timeout", true, true);
			return;
		}
	}
}

/* ---- the A leg ---- */

/* §13.3.1.4: the 2xx again at T1, 2T1... up to T2, until the ACK or 64*T1. */
static void a_2xx_h(void *arg)
{
	struct call *c = arg;
	struct call_mgr *m = c->m;

	c->a_2xx_elapsed += c->a_2xx_interval;
	if (c->a_2xx_elapsed >= 64 * (uint64_t)m->conf.t1_ms) {
		call_end(c, CALL_END_SYSTEM, 408, "no-ack", true, true);
		return;
	}
	sip_txl_send(m->txl, &c->a_2xx_peer, c->a_2xx.buf, c->a_2xx.end);
	c->a_2xx_interval = c->a_2xx_interval * 2 < 4000 ? c->a_2xx_interval * 2 : 4000;
	timer_start(m->tw, &c->a_2xx_tmr, c->a_2xx_interval, a_2xx_h, c);
}

static void a_2xx_start(struct call *c)
{
	c->a_2xx_interval = c->m->conf.t1_ms;
	c->a_2xx_elapsed = 0;
	if (!sip_peer_reliable(&c->a_2xx_peer))
		timer_start(c->m->tw, &c->a_2xx_tmr, c->a_2xx_interval, a_2xx_h, c);
}

int call_answer(struct call *c)
{
	int err;

	if (!c || c->state == CALL_ENDED)
		return -EINVAL;
	if (c->answer_ms || !c->inv)
		return -EALREADY;
	err = reply_invite(c, 200, NULL, NULL, true);
	if (err)
		return err;
	c->state = CALL_ANSWERED;
	c->answer_ms = clock_real_ms();
	a_2xx_start(c);
	return 0;
}

/* Our answer to a remote offer on @leg into @out; the stream for the engine in @st. */
static int answer_offer(struct call *c, enum call_leg_id leg, const struct sip_msg *req,
			struct mbuf *out, struct sdp_stream *st, const char **why)
{
	_Alignas(16) char abuf[16384];
	struct sdp_local *local = leg == CALL_LEG_A ? &c->a_local : &c->b_local;
	struct sdp_session *offer, *ans;
	struct sdp_perr pe = {0};
	struct arena a;
	int err;

	*why = "no SDP offer";
	if (!req->body.len || !str_ieq_cstr(&req->content_type, "application/sdp"))
		return SDP_ANSWER_NO_CODEC;
	arena_init(&a, abuf, sizeof(abuf), 0);
	err = sdp_parse(&offer, &a, req->body.p, req->body.len, &pe);
	if (err) {
		*why = pe.reason ? pe.reason : "bad SDP";
		err = err == -ENOMEM ? err : SDP_ANSWER_NO_CODEC;
		goto out;
	}
	err = sdp_answer(&ans, &a, offer, local, why);
	if (err)
		goto out;
	err = sdp_stream_get(st, offer, local, why);
	if (err) {
		err = SDP_ANSWER_NO_CODEC;
		goto out;
	}
	out->pos = out->end = 0;
	err = sdp_print(out, ans);
out:
	arena_reset(&a);
	return err;
}

/* Our offer from @local into @out. */
static int our_offer(struct call *c, struct sdp_local *local, struct mbuf *out)
{
	_Alignas(16) char abuf[4096];
	struct sdp_session *offer;
	struct arena a;
	int err;

	(void)c;
	arena_init(&a, abuf, sizeof(abuf), 0);
	out->pos = out->end = 0;
	err = sdp_offer(&offer, &a, local);
	err = err ? err : sdp_print(out, offer);
	arena_reset(&a);
	return err;
}

/*
 * The caller's ACK to our 200 with a late offer: its body is the answer
 * (RFC 3264 §4). Without a usable one the call cannot have media: BYE
 * (RFC 3261 §13.3.1.4 leaves the UAS nothing else). True when the call went on.
 */
static bool late_answer(struct call *c, const struct sip_msg *ack)
{
	_Alignas(16) char abuf[16384];
	struct sdp_session *ans;
	struct sdp_stream stream;
	struct sdp_perr pe = {0};
	struct arena a;
	const char *why = "no SDP answer";
	int err = -EINVAL;

	c->late_offer = false;
	arena_init(&a, abuf, sizeof(abuf), 0);
	if (ack->body.len && str_ieq_cstr(&ack->content_type, "application/sdp")) {
		err = sdp_parse(&ans, &a, ack->body.p, ack->body.len, &pe);
		if (err)
			why = pe.reason ? pe.reason : "bad SDP";
		else
			err = sdp_stream_get(&stream, ans, &c->a_local, &why);
	}
	arena_reset(&a);
	if (!err)
		err = c->m->ops.media_remote(c->m->arg, c->sid, CALL_LEG_A, &stream);
	if (err) {
		log_info("call without an answer in the ACK uuid=%s why=%s", c->uuid, why);
		call_end(c, CALL_END_SYSTEM, 488, "no-codec", true, true);
		return false;
	}
	return true;
}

/* Where our media is for @leg: a struct sdp_local. */
static void local_init(struct sdp_local *l, const struct sockaddr_storage *addr)
{
	uint64_t id;

	sdp_local_init(l);
	l->addr = *addr;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = clock_mono_ns();
	l->sess_id = id >> 2; /* NTP-like, fits in 62 bits */
	l->sess_version = 1;
	l->username = STR("shenggu");
}

/*
 * The caller's identity for the CDR and the B leg's From: the From user,
 * or the whole URI when it has none.
 */
static void caller_of(const struct sip_msg *req, char *out, size_t size)
{
	const struct sip_uri *u = &req->from->uri;

	if (u->user.len)
		str_copy_cstr(out, size, &u->user);
	else
		str_copy_cstr(out, size, &u->raw);
}

/* Route a new INVITE: 0 with @r, or a status already answered on @st. */
static int route_invite(struct call_mgr *m, struct sip_tx *st, const struct sip_msg *req,
			const struct sip_peer *src, struct call_route *r)
{
	char tenant[CALL_TENANT_SIZE];
	struct mbuf out;
	int err;

	if (req->ruri.scheme != SIP_URI_SIP && req->ruri.scheme != SIP_URI_SIPS) {
		reply_simple(st, req, 416, NULL, NULL);
		return 416;
	}
	if (!req->ruri.user.len) {
		reply_simple(st, req, 404, NULL, NULL);
		return 404;
	}
	memset(r, 0, sizeof(*r));
	err = m->ops.number(m->arg, &req->ruri.user, r);
	if (err && err != -ENOENT)
		return err;
	if (!err) {
		/* A number: its trunks need no credentials; a caller who says it
		 * is a user of the tenant (From in its domain) is challenged;
		 * everybody else is refused. */
		if (m->ops.trunk_allowed && m->ops.trunk_allowed(m->arg, r->tenant_id, src))
			return 0;
		if (!str_ieq_cstr(&req->from->uri.host, r->domain)) {
			reply_simple(st, req, 403, "Forbidden (source not allowed)", NULL);
			return 403;
		}
	} else if (m->ops.is_domain && !m->ops.is_domain(m->arg, &req->from->uri.host)) {
		/* Neither a number nor a caller who could call a user by id. */
		reply_simple(st, req, 404, NULL, NULL);
		return 404;
	}
	mbuf_init(&out, 0);
	err = m->ops.authenticate(m->arg, req, src, tenant, &out);
	if (err > 0) {
		sip_tx_respond(st, out.buf, out.end);
		mbuf_reset(&out);
		return err;
	}
	mbuf_reset(&out);
	if (err < 0)
		return err;
	if (r->kind != CALL_ROUTE_NONE) {
		/* A user calling a number: of its own tenant only. */
		if (strcmp(tenant, r->tenant_id)) {
			reply_simple(st, req, 403, "Forbidden (number of another tenant)", NULL);
			return 403;
		}
		return 0;
	}
	/* A user calling a user, by id, in the caller's own tenant. */
	err = m->ops.user(m->arg, &req->ruri.host, &req->ruri.user, r);
	if (err == -ENOENT || (!err && strcmp(tenant, r->tenant_id))) {
		reply_simple(st, req, 404, NULL, NULL);
		return 404;
	}
	return err;
}

/* One of the request's Vias is ours, with our branch mark: it came back (§16.3 item 4). */
static bool is_loop(const struct call_mgr *m, const struct sip_msg *req)
{
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h; h = sip_hdr_next(req, h)) {
		const struct sip_via *v = h->p.via;
		char hp[80];

		if (!v || !str_has_prefix(&v->branch, &STR(CALL_BRANCH)))
			continue;
		if (v->host_type == SIP_HOST_IPV6)
			snprintf(hp, sizeof(hp), "[%.*s]:%u", STR_FMT(&v->host),
				 v->port ? v->port : 5060);
		else
			snprintf(hp, sizeof(hp), "%.*s:%u", STR_FMT(&v->host),
				 v->port ? v->port : 5060);
		if (!strcmp(hp, m->via_host))
			return true;
	}
	return false;
}

/*
 * §8.2.2.3: an extension the caller requires and we do not have (we have
 * none: no 100rel, no session timers yet) gets 420 listing them. True when
 * answered so.
 */
static bool unsupported(struct sip_tx *st, const struct sip_msg *req)
{
	struct mbuf hdrs;
	bool bad = false;
	int err = 0;

	mbuf_init(&hdrs, 0);
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REQUIRE); h && !err;
	     h = sip_hdr_next(req, h)) {
		struct str tok;
		size_t pos = 0;

		while (!err && sip_list_next(&h->value, &pos, &tok)) {
			bad = true;
			err = mbuf_printf(&hdrs, "Unsupported: %.*s\r\n", STR_FMT(&tok));
		}
	}
	if (bad) {
		err = err ? err : mbuf_write_cstr(&hdrs, SERVER_HDR);
		if (!err) {
			mbuf_write_u8(&hdrs, 0);
			reply_simple(st, req, 420, NULL, (const char *)hdrs.buf);
		} else {
			reply_simple(st, req, 500, NULL, NULL);
		}
	}
	mbuf_reset(&hdrs);
	return bad;
}

static void new_invite(struct call_mgr *m, struct sip_tx *st, const struct sip_msg *req,
		       const struct sip_peer *src)
{
	struct sockaddr_storage local[2];
	struct call_route r;
	struct sdp_stream stream;
	struct call *c = NULL;
	struct str target = contact_uri(req);
	const char *why = NULL;
	char tag[17];
	int err;

	if (m->count >= m->conf.max_calls) {
		reply_simple(st, req, 503, NULL, "Retry-After: 10\r\n" SERVER_HDR);
		return;
	}
	if (!target.len) {
		reply_simple(st, req, 400, "Bad Request (no Contact)", NULL);
		return;
	}
	/* The B leg goes on with one hop less (§16.6 step 3 in spirit: a B2BUA
	 * must not let two of them bounce a call forever). */
	if (req->has_max_forwards && req->max_forwards == 0) {
		reply_simple(st, req, 483, NULL, NULL);
		return;
	}
	if (is_loop(m, req)) {
		reply_simple(st, req, 482, NULL, NULL);
		return;
	}
	if (unsupported(st, req))
		return;
	err = route_invite(m, st, req, src, &r);
	if (err > 0)
		return;
	if (err) {
		reply_simple(st, req, 500, NULL, NULL);
		return;
	}
	c = mem_zalloc(sizeof(*c));
	if (!c) {
		reply_simple(st, req, 503, NULL, "Retry-After: 10\r\n" SERVER_HDR);
		return;
	}
	c->m = m;
	c->inv = st;
	c->route = r;
	c->start_ms = clock_real_ms();
	c->max_forwards =
	    req->has_max_forwards && req->max_forwards <= 70 ? req->max_forwards - 1 : 69;
	rand_hex(c->uuid, 16);
	timer_init(&c->a_2xx_tmr);
	list_init(&c->forks);
	list_init(&c->dialees);
	mbuf_init(&c->invite, 0);
	mbuf_init(&c->a_sdp, 0);
	mbuf_init(&c->a_2xx, 0);
	mbuf_init(&c->b_ack, 0);
	list_append(&m->calls, &c->le);
	m->count++;
	caller_of(req, c->caller, sizeof(c->caller));
	str_copy_cstr(c->callee, sizeof(c->callee), &req->ruri.user);

	/* The A dialog (§12.1.1): their From is the remote, their To + our tag ours. */
	rand_hex(tag, 8);
	c->a.call_id = dup_str(&req->call_id);
	c->a.remote = dup_printf("%.*s", STR_FMT(&sip_msg_hdr(req, SIP_HDR_FROM)->value));
	c->a.local = dup_printf("%.*s;tag=%s", STR_FMT(&sip_msg_hdr(req, SIP_HDR_TO)->value), tag);
	c->a.target = dup_str(&target);
	c->a.routes = route_set(req, false);
	c->a.remote_cseq = req->cseq.seq;
	c->a.local_cseq = 1;
	c->a.peer = *src;
	err = mbuf_write(&c->invite, req->buf, req->len);
	if (!c->a.call_id || !c->a.remote || !c->a.local || !c->a.target || err)
		goto fail;
	err = dlg_index(c, &c->a, tag);
	if (err)
		goto fail;
	err = m->ops.media_create(m->arg, &c->sid, local);
	if (err) {
		log_warn("no media for a call err=%d", err);
		call_end(c, CALL_END_SYSTEM, 503, "no-media", false, false);
		return;
	}
	c->has_media = true;
	local_init(&c->a_local, &local[CALL_LEG_A]);
	local_init(&c->b_local, &local[CALL_LEG_B]);
	if (!req->body.len) {
		/* A late offer (RFC 3261 §13.2.1, RFC 3264 §4): our 200 carries
		 * the offer and the caller's ACK the answer. */
		c->late_offer = true;
		err = our_offer(c, &c->a_local, &c->a_sdp);
		if (err)
			goto fail;
		log_info("call uuid=%s tenant=%s from=%s to=%s offer=late", c->uuid, r.tenant_id,
			 c->caller, c->callee);
		m->ops.routed(m->arg, c, &c->route);
		return;
	}
	err = answer_offer(c, CALL_LEG_A, req, &c->a_sdp, &stream, &why);
	if (err == SDP_ANSWER_NO_CODEC) {
		char reason[96];

		snprintf(reason, sizeof(reason), "Not Acceptable Here (%s)", why);
		reply_invite(c, 488, reason, NULL, false);
		call_end(c, CALL_END_SYSTEM, 488, "no-codec", false, false);
		return;
	}
	if (err)
		goto fail;
	err = m->ops.media_remote(m->arg, c->sid, CALL_LEG_A, &stream);
	if (err)
		goto fail;
	log_info("call uuid=%s tenant=%s from=%s to=%s", c->uuid, r.tenant_id, c->caller,
		 c->callee);
	m->ops.routed(m->arg, c, &c->route);
	return;
fail:
	log_warn("call setup failed err=%d", err);
	call_end(c, CALL_END_SYSTEM, 500, "error", false, false);
}

/* A re-INVITE on @leg (hold, resume): answered from our side of the media. */
static void re_invite(struct call *c, enum call_leg_id leg, struct sip_tx *st,
		      const struct sip_msg *req)
{
	struct call_mgr *m = c->m;
	struct sdp_local *local = leg == CALL_LEG_A ? &c->a_local : &c->b_local;
	struct sdp_stream stream;
	struct mbuf sdp, out;
	const char *why = NULL;
	struct sip_reply r = {.status = 200};
	char hdrs[256];
	int err;

	mbuf_init(&sdp, 0);
	mbuf_init(&out, 0);
	local->sess_version++;
	err = answer_offer(c, leg, req, &sdp, &stream, &why);
	if (err) {
		reply_simple(st, req, 488, "Not Acceptable Here", NULL);
		goto out;
	}
	m->ops.media_remote(m->arg, c->sid, leg, &stream);
	snprintf(hdrs, sizeof(hdrs), "Contact: <sip:shenggu@%s>\r\n" ALLOW_HDR SERVER_HDR,
		 m->via_host);
	r.headers = str_cstr(hdrs);
	r.content_type = STR("application/sdp");
	r.body = mbuf_str(&sdp);
	err = sip_tx_reply_print(&out, req, NULL, &r);
	if (!err && leg == CALL_LEG_A) {
		/* Re-sent until its ACK like the first 2xx. */
		mbuf_reset(&c->a_2xx);
		c->a_2xx = out;
		mbuf_init(&out, 0);
		c->a_2xx_peer = *sip_tx_peer(st);
		sip_tx_respond(st, c->a_2xx.buf, c->a_2xx.end);
		a_2xx_start(c);
	} else if (!err) {
		sip_tx_respond(st, out.buf, out.end);
	}
	log_info("call re-INVITE uuid=%s leg=%c hold=%d", c->uuid, leg == CALL_LEG_A ? 'A' : 'B',
		 stream.hold);
out:
	mbuf_reset(&sdp);
	mbuf_reset(&out);
}

/* ---- the B leg ---- */

static bool dialing(const struct call *c)
{
	struct list_elem *e;

	for (e = list_head(&c->dialees); e; e = list_next(&c->dialees, e)) {
		if (!list_entry(e, struct dialee, le)->cancelled)
			return true;
	}
	return false;
}

static void dialee_free(struct dialee *d)
{
	timer_cancel(&d->tmr);
	list_unlink(&d->le);
	d->c->ndial--;
	mem_free(d);
}

/*
 * Dialee @d failed with @status (no answer, busy, every fork refused): the
 * application hears of it when it answered the caller; otherwise a caller
 * left with no one else ringing gets @status. @d goes once its forks are
 * answered. NOTE: @c may be gone when this returns.
 */
static void dialee_failed(struct dialee *d, unsigned status)
{
	struct call *c = d->c;
	char user[CALL_TARGET_SIZE];

	memcpy(user, d->user, sizeof(user));
	d->cancelled = true;
	timer_cancel(&d->tmr);
	if (!d->live)
		dialee_free(d);
	if (c->bridged || c->state == CALL_ENDED)
		return;
	if (c->m->ops.dial_failed && c->answer_ms) {
		c->m->ops.dial_failed(c->m->arg, c, user, status);
		return;
	}
	if (dialing(c))
		return;
	call_end(c, CALL_END_CALLEE, status,
		 status == 486 || status == 600 ? "busy"
		 : status == 603		? "declined"
		 : status == 480		? "no-answer"
						: "failed",
		 true, true);
}

static void ring_timeout_h(void *arg)
{
	struct dialee *d = arg;
	struct list_elem *e;

	for (e = list_head(&d->c->forks); e; e = list_next(&d->c->forks, e)) {
		struct fork *f = list_entry(e, struct fork, le);

		if (f->d == d)
			fork_cancel(f);
	}
	dialee_failed(d, 480);
}

/* ACK to a 2xx of @d's INVITE with CSeq @cseq (§13.2.2.4), kept for re-sending. */
static int send_ack(struct call *c, const struct dlg *d, uint32_t cseq, struct mbuf *keep)
{
	struct mbuf mb;
	int err;

	mbuf_init(&mb, 0);
	err = print_request(c->m, &mb, "ACK", d, cseq, NULL, NULL);
	if (!err)
		sip_txl_send(c->m->txl, &d->peer, mb.buf, mb.end);
	if (!err && keep) {
		mbuf_reset(keep);
		*keep = mb;
	} else {
		mbuf_reset(&mb);
	}
	return err;
}

/* The B dialog from the winning 2xx (§12.1.2): route set reversed. */
static int b_dialog(struct call *c, const struct fork *f, const struct sip_msg *resp)
{
	struct str target = contact_uri(resp);

	mem_free(c->b.remote);
	mem_free(c->b.target);
	mem_free(c->b.routes);
	c->b.remote = dup_printf("%.*s", STR_FMT(&sip_msg_hdr(resp, SIP_HDR_TO)->value));
	c->b.target = target.len ? dup_str(&target) : NULL;
	c->b.routes = route_set(resp, true);
	c->b.peer = f->dst;
	str_copy_cstr(c->b_tag, sizeof(c->b_tag), &resp->to->tag);
	if (!c->b.remote || !c->b.target)
		return -ENOMEM;
	return 0;
}

/*
 * A 2xx to one of our INVITEs that no call wants (a fork that lost, a
 * call that ended): ACK it and BYE the dialog it made (§13.2.2.4,
 * §15), statelessly, so the phone stops ringing into nothing at once
 * rather than after 32 s of retransmissions.
 */
static void stray_ack_bye(struct call_mgr *m, const struct sip_msg *resp,
			  const struct sip_peer *src)
{
	struct str target = contact_uri(resp);
	struct dlg d = {0};
	struct mbuf mb;

	if (!target.len)
		return;
	d.call_id = dup_str(&resp->call_id);
	d.local = dup_str(&sip_msg_hdr(resp, SIP_HDR_FROM)->value);
	d.remote = dup_str(&sip_msg_hdr(resp, SIP_HDR_TO)->value);
	d.target = dup_str(&target);
	d.peer = *src;
	mbuf_init(&mb, 0);
	if (d.call_id && d.local && d.remote && d.target) {
		if (!print_request(m, &mb, "ACK", &d, resp->cseq.seq, NULL, NULL))
			sip_txl_send(m->txl, &d.peer, mb.buf, mb.end);
		mb.pos = mb.end = 0;
		if (!print_request(m, &mb, "BYE", &d, resp->cseq.seq + 1, NULL, NULL))
			sip_tx_request(NULL, m->txl, &d.peer, mb.buf, mb.end, NULL, NULL);
		log_info("stray 2xx acknowledged and ended call_id=%.*s", STR_FMT(&resp->call_id));
	}
	mbuf_reset(&mb);
	mem_free(d.call_id);
	mem_free(d.local);
	mem_free(d.remote);
	mem_free(d.target);
}

/* A final response of fork @f: it goes, its dialee keeps the best status. */
static struct dialee *fork_done(struct fork *f, unsigned status)
{
	struct dialee *d = f->d;

	if (!d->best || status >= 600 || (status == 486 && d->best < 600))
		d->best = status; /* §16.7 in spirit: 6xx, then busy */
	d->live--;
	f->c->nforks--;
	list_unlink(&f->le);
	mem_free(f);
	return d;
}

/* The B leg answered through fork @f: bridge it, the others lose. */
static void fork_won(struct fork *f, const struct sip_msg *resp)
{
	struct call *c = f->c;
	struct call_mgr *m = c->m;
	struct sdp_stream stream;
	struct sdp_session *ans;
	struct sdp_perr pe;
	_Alignas(16) char abuf[16384];
	struct arena a;
	const char *why;
	int err;

	err = b_dialog(c, f, resp);
	snprintf(c->agent, sizeof(c->agent), "%s", f->d->user);
	fork_done(f, resp->status);
	if (err) {
		stray_ack_bye(m, resp, &c->b.peer);
		call_end(c, CALL_END_SYSTEM, 500, "error", true, false);
		return;
	}
	c->bridged = true;
	c->bridge_ms = clock_real_ms();
	send_ack(c, &c->b, resp->cseq.seq, &c->b_ack);
	cancel_forks(c);
	arena_init(&a, abuf, sizeof(abuf), 0);
	if (!resp->body.len || sdp_parse(&ans, &a, resp->body.p, resp->body.len, &pe) ||
	    sdp_stream_get(&stream, ans, &c->b_local, &why)) {
		arena_reset(&a);
		log_warn("call B leg answer without usable SDP uuid=%s", c->uuid);
		call_end(c, CALL_END_SYSTEM, 488, "no-codec", true, true);
		return;
	}
	arena_reset(&a);
	m->ops.media_remote(m->arg, c->sid, CALL_LEG_B, &stream);
	m->ops.media_bridge(m->arg, c->sid, true);
	log_info("call connected uuid=%s agent=%s", c->uuid, c->agent);
	if (!c->answer_ms && call_answer(c)) {
		call_end(c, CALL_END_SYSTEM, 500, "error", true, true);
		return;
	}
	if (m->ops.connected)
		m->ops.connected(m->arg, c);
}

/* A response to the INVITE of a fork whose call is gone: CANCEL it at its
 * first 1xx, end a dialog its 2xx made; it goes at its final response. */
static void orphan_resp(struct fork *f, int err, unsigned status, const struct sip_msg *resp)
{
	if (!err && status < 200) {
		f->prov = true;
		fork_cancel(f);
		return;
	}
	if (!err && status < 300)
		stray_ack_bye(f->m, resp, &f->dst);
	list_unlink(&f->le);
	mem_free(f);
}

static void fork_resp_h(int err, unsigned status, const struct sip_msg *resp, void *arg)
{
	struct fork *f = arg;
	struct call *c = f->c;
	struct dialee *d;

	if (!c) {
		orphan_resp(f, err, status, resp);
		return;
	}

	if (!err && status < 200) {
		f->prov = true;
		if (f->cancel) {
			fork_cancel(f); /* now it can be sent */
			return;
		}
		if ((status == 180 || status == 183) && c->inv && !c->a_ringing) {
			c->a_ringing = true;
			reply_invite(c, 180, NULL, NULL, false);
		}
		return;
	}
	if (!err && status < 300) {
		if (c->bridged || f->cancel || f->d->cancelled || c->state == CALL_ENDED) {
			stray_ack_bye(c->m, resp, &f->dst);
			d = fork_done(f, status);
			if (!d->live && d->cancelled)
				dialee_free(d);
			return;
		}
		fork_won(f, resp);
		return;
	}
	d = fork_done(f, err ? (status ? status : 408) : status);
	if (d->live)
		return;
	if (d->cancelled) {
		dialee_free(d);
		return;
	}
	dialee_failed(d, d->best ? d->best : 480);
}

struct dial_ctx {
	struct dialee *d;
	struct mbuf sdp;
};

static int dial_contact(const struct call_contact *ct, void *arg)
{
	struct dial_ctx *x = arg;
	struct call *c = x->d->c;
	struct fork *f;
	struct mbuf mb;
	int err;

	if (c->nforks >= CALL_MAX_FORKS)
		return 0;
	f = mem_zalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->m = c->m;
	f->c = c;
	f->d = x->d;
	f->dst = ct->dst;
	mem_free(c->b.target);
	c->b.target = dup_str(&ct->uri);
	c->b.peer = ct->dst;
	if (!c->b.target) {
		mem_free(f);
		return -ENOMEM;
	}
	mbuf_init(&mb, 0);
	err = print_request(c->m, &mb, "INVITE", &c->b, c->b.local_cseq, NULL, &x->sdp);
	if (!err)
		err = sip_tx_request(&f->ct, c->m->txl, &f->dst, mb.buf, mb.end, fork_resp_h, f);
	mbuf_reset(&mb);
	if (err) {
		log_warn("call fork not sent uuid=%s err=%d", c->uuid, err);
		mem_free(f);
		return 0;
	}
	list_append(&c->forks, &f->le);
	c->nforks++;
	x->d->live++;
	return 0;
}

/* A new B dialog (our Call-ID and tag; From is the caller at the tenant)
 * when no one is being rung; the users of one ring-all share it, as the
 * forks of one user do. */
static int b_dialog_new(struct call *c)
{
	struct call_mgr *m = c->m;
	char tag[17];

	if (dialing(c))
		return 0;
	dlg_free(m, &c->b);
	rand_hex(tag, 8);
	c->b.call_id = dup_printf("%s@shenggu", c->uuid);
	c->b.local = dup_printf("<sip:%s@%s>;tag=%s", c->caller, c->route.domain, tag);
	c->b.local_cseq = 1;
	c->b.max_forwards = c->max_forwards;
	if (!c->b.call_id || !c->b.local)
		return -ENOMEM;
	return dlg_index(c, &c->b, tag);
}

static struct dialee *dialee_find(struct call *c, const char *user)
{
	struct list_elem *e;

	for (e = list_head(&c->dialees); e; e = list_next(&c->dialees, e)) {
		struct dialee *d = list_entry(e, struct dialee, le);

		if (!d->cancelled && !strcmp(d->user, user))
			return d;
	}
	return NULL;
}

int call_dial_user(struct call *c, const char *user, uint32_t ring_s)
{
	struct call_mgr *m;
	struct dial_ctx x = {0};
	struct sdp_session *offer;
	_Alignas(16) char abuf[4096];
	struct arena a;
	struct dialee *d;
	int err;

	if (!c || !user || !user[0] || strlen(user) >= CALL_TARGET_SIZE || c->state == CALL_ENDED)
		return -EINVAL;
	if (c->bridged)
		return -EBUSY;
	if (dialee_find(c, user))
		return -EALREADY;
	if (c->ndial >= CALL_MAX_DIAL)
		return -EBUSY;
	m = c->m;
	err = b_dialog_new(c);
	if (err)
		return err;
	d = mem_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->c = c;
	snprintf(d->user, sizeof(d->user), "%s", user);
	timer_init(&d->tmr);
	list_append(&c->dialees, &d->le);
	c->ndial++;
	x.d = d;
	mbuf_init(&x.sdp, 0);
	arena_init(&a, abuf, sizeof(abuf), 0);
	c->b_local.sess_version++;
	err = sdp_offer(&offer, &a, &c->b_local);
	err = err ? err : sdp_print(&x.sdp, offer);
	arena_reset(&a);
	mem_free(c->b.remote);
	c->b.remote = dup_printf("<sip:%s@%s>", user, c->route.domain);
	if (!err && !c->b.remote)
		err = -ENOMEM;
	if (!err)
		err = m->ops.contacts(m->arg, c->route.domain, user, dial_contact, &x);
	mbuf_reset(&x.sdp);
	if (err >= 0 && !d->live)
		err = -ENOENT;
	if (err < 0) {
		/* Forks already out stay until answered, and report nothing. */
		d->cancelled = true;
		dialees_cancel(c, d);
		if (!d->live)
			dialee_free(d);
		return err;
	}
	timer_start(m->tw, &d->tmr, (uint64_t)(ring_s ? ring_s : m->conf.ring_timeout_s) * 1000,
		    ring_timeout_h, d);
	return 0;
}

int call_dial_cancel(struct call *c, const char *user)
{
	struct dialee *d;

	if (!c || c->state == CALL_ENDED)
		return -EINVAL;
	if (!user) {
		cancel_forks(c);
	} else {
		d = dialee_find(c, user);
		if (!d)
			return -ENOENT;
		dialees_cancel(c, d);
		if (!d->live)
			dialee_free(d);
	}
	return 0;
}

/* ---- requests ---- */

static struct call *find_dialog(struct call_mgr *m, const struct sip_msg *req,
				enum call_leg_id *leg)
{
	char key[512];
	struct str k;
	struct call *c;
	int n = snprintf(key, sizeof(key), "%.*s\n%.*s", STR_FMT(&req->call_id),
			 STR_FMT(&req->to->tag));

	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	k = str_make(key, (size_t)n);
	c = hash_get(m->dlgs, &k);
	if (c)
		*leg = c->a.key && !strcmp(c->a.key, key) ? CALL_LEG_A : CALL_LEG_B;
	return c;
}

bool call_mgr_request(struct call_mgr *m, struct sip_tx *st, const struct sip_msg *req,
		      const struct sip_peer *src)
{
	enum call_leg_id leg = CALL_LEG_A;
	struct sip_tx *inv = NULL;
	struct call *c;

	if (req->method == SIP_METHOD_CANCEL) {
		struct list_elem *e;

		if (!st)
			return true;
		switch (sip_tx_cancel_match(m->txl, req, &inv)) {
		case SIP_TX_CANCEL_NONE:
			reply_simple(st, req, 481, NULL, NULL);
			return true;
		case SIP_TX_CANCEL_ANSWERED:
			reply_simple(st, req, 200, NULL, NULL);
			return true;
		case SIP_TX_CANCEL_PENDING:
			break;
		}
		reply_simple(st, req, 200, NULL, NULL);
		for (e = list_head(&m->calls); e; e = list_next(&m->calls, e)) {
			c = list_entry(e, struct call, le);
			if (c->inv == inv) {
				/* §9.2: the INVITE gets 487. */
				call_end(c, CALL_END_CALLER, 487, "cancel", false, true);
				break;
			}
		}
		return true;
	}
	if (!req->to->tag.len) {
		if (req->method != SIP_METHOD_INVITE)
			return false;
		new_invite(m, st, req, src);
		return true;
	}
	c = find_dialog(m, req, &leg);
	if (!c) {
		if (req->method == SIP_METHOD_ACK)
			return true; /* nothing to acknowledge any more */
		if (st)
			reply_simple(st, req, 481, NULL, NULL);
		return true;
	}
	switch (req->method) {
	case SIP_METHOD_ACK:
		if (leg == CALL_LEG_A) {
			timer_cancel(&c->a_2xx_tmr);
			if (c->late_offer && c->answer_ms)
				late_answer(c, req);
		}
		return true;
	case SIP_METHOD_BYE:
		reply_simple(st, req, 200, NULL, NULL);
		if (leg == CALL_LEG_A)
			call_end(c, CALL_END_CALLER, 487, "normal", false, true);
		else
			call_end(c, CALL_END_CALLEE, 487, "normal", true, false);
		return true;
	case SIP_METHOD_INVITE:
		if (c->inv || (leg == CALL_LEG_A && timer_pending(&c->a_2xx_tmr))) {
			/* §14.2: one INVITE transaction at a time. */
			reply_simple(st, req, 491, NULL, NULL);
			return true;
		}
		re_invite(c, leg, st, req);
		return true;
	case SIP_METHOD_INFO:
	case SIP_METHOD_OPTIONS:
		reply_simple(st, req, 200, NULL, NULL);
		return true;
	default:
		reply_simple(st, req, 501, NULL, ALLOW_HDR SERVER_HDR);
		return true;
	}
}

void call_mgr_stray(struct call_mgr *m, const struct sip_msg *resp, const struct sip_peer *src)
{
	struct call *c;
	char key[512];
	struct str k;
	int n;

	if (resp->status < 200 || resp->status >= 300 || resp->cseq.method != SIP_METHOD_INVITE ||
	    !resp->from || !resp->to || !resp->from->tag.len || !resp->via)
		return;
	/* Our tag is in From on the B leg. */
	n = snprintf(key, sizeof(key), "%.*s\n%.*s", STR_FMT(&resp->call_id),
		     STR_FMT(&resp->from->tag));
	if (n < 0 || (size_t)n >= sizeof(key))
		return;
	k = str_make(key, (size_t)n);
	c = hash_get(m->dlgs, &k);
	if (c && c->b_ack.end &&
	    str_eq(&resp->to->tag, &(struct str){c->b_tag, strlen(c->b_tag)})) {
		/* The winner's 2xx again: its ACK again (§13.2.2.4). */
		sip_txl_send(m->txl, &c->b.peer, c->b_ack.buf, c->b_ack.end);
		return;
	}
	if (str_has_prefix(&resp->via->branch, &STR(CALL_BRANCH)))
		stray_ack_bye(m, resp, src);
}

/* ---- accessors ---- */

const char *call_uuid(const struct call *c)
{
	return c->uuid;
}

const char *call_caller(const struct call *c)
{
	return c->caller;
}

const char *call_agent(const struct call *c)
{
	return c->bridged ? c->agent : NULL;
}

const char *call_tenant(const struct call *c)
{
	return c->route.tenant_id;
}

uint64_t call_media_sid(const struct call *c)
{
	return c->sid;
}

bool call_answered(const struct call *c)
{
	return c->answer_ms != 0;
}

void call_set_app(struct call *c, void *app)
{
	c->app = app;
}

void *call_app(const struct call *c)
{
	return c->app;
}
