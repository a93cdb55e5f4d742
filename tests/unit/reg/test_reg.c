/*
 * Registrar: REGISTER end to end against a fake ops table with two tenants
 * (acme.example and beta.example, each with a user "1001" and a different
 * password), acting as the phone with real digest responses (auth_response)
 * on a fake clock and the real timer wheel.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "auth/auth_digest.h"
#include "base/arena.h"
#include "base/mbuf.h"
#include "base/timer.h"
#include "reg/reg.h"
#include "sip/sip_msg.h"
#include "test.h"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */

#define CONTACT "Contact: <sip:1001@192.0.2.10:5060;transport=udp>\r\n"

static bool str_is(const struct str *s, const char *c)
{
	struct str t = str_cstr(c);

	return str_eq(s, &t);
}

/* ---- the fake outside world ------------------------------------------------ */

struct user_rec {
	const char *domain, *tenant, *user, *password;
};

static const struct user_rec users[] = {
    {"acme.example", "t-acme", "1001", "acme-secret"},
    {"acme.example", "t-acme", "1002", "acme-other"},
    {"beta.example", "t-beta", "1001", "beta-secret"},
};

struct saved {
	char tenant[65], domain[254], user[64], contact[256], call_id[128], path[256];
	char instance[128];
	uint32_t cseq;
	uint64_t expires_ms;
	bool has_q;
	uint16_t q;
	struct sip_peer src;
};

struct env {
	struct timer_wheel *tw;
	struct reg *reg;
	uint64_t now;	/* wall clock given to the registrar */
	uint64_t wheel; /* the wheel's own clock */
	unsigned ha1_calls, saved_n, removed_n, blocks;
	enum reg_removed last_why;
	char last_removed[256];
	char blocked_src[64], blocked_user[64];
	struct saved saved[16]; /* the last binding_saved calls, oldest first */
	char req[4096];
	size_t req_len;
	struct mbuf out;
	struct arena ra, sa; /* request, response */
	char rabuf[32768], sabuf[32768];
	struct sip_msg *resp;
	int status;
	struct reg_tenant tenant; /* reg_authenticate() */
	unsigned nreq;
};

static int fake_domain(void *arg, const struct str *domain, struct reg_tenant *out)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (str_ieq_cstr(domain, users[i].domain)) {
			snprintf(out->id, sizeof(out->id), "%s", users[i].tenant);
			snprintf(out->realm, sizeof(out->realm), "%s", users[i].domain);
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_ha1(void *arg, const struct reg_tenant *t, const struct str *user, enum auth_hash h,
		    char *out, size_t size)
{
	struct env *e = arg;

	e->ha1_calls++;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (!strcmp(t->realm, users[i].domain) && str_is(user, users[i].user)) {
			struct str realm = str_cstr(t->realm), pw = str_cstr(users[i].password);

			return auth_ha1(h, user, &realm, &pw, out, size);
		}
	}
	return -ENOENT;
}

static void fake_saved(void *arg, const struct reg_binding *b)
{
	struct env *e = arg;
	struct saved *s;

	if (e->saved_n == 16)
		memmove(&e->saved[0], &e->saved[1], sizeof(e->saved[0]) * 15);
	s = &e->saved[e->saved_n < 16 ? e->saved_n : 15];
	e->saved_n += e->saved_n < 16;
	memset(s, 0, sizeof(*s));
	str_copy_cstr(s->tenant, sizeof(s->tenant), &b->tenant_id);
	str_copy_cstr(s->domain, sizeof(s->domain), &b->domain);
	str_copy_cstr(s->user, sizeof(s->user), &b->user);
	str_copy_cstr(s->contact, sizeof(s->contact), &b->contact);
	str_copy_cstr(s->call_id, sizeof(s->call_id), &b->call_id);
	str_copy_cstr(s->path, sizeof(s->path), &b->path);
	str_copy_cstr(s->instance, sizeof(s->instance), &b->instance);
	s->cseq = b->cseq;
	s->expires_ms = b->expires_ms;
	s->has_q = b->has_q;
	s->q = b->q;
	s->src = b->src;
}

static void fake_removed(void *arg, const struct reg_binding *b, enum reg_removed why)
{
	struct env *e = arg;

	e->removed_n++;
	e->last_why = why;
	str_copy_cstr(e->last_removed, sizeof(e->last_removed), &b->contact);
}

static void fake_blocked(void *arg, const struct reg_block *blk)
{
	struct env *e = arg;

	e->blocks++;
	str_copy_cstr(e->blocked_src, sizeof(e->blocked_src), &blk->src);
	str_copy_cstr(e->blocked_user, sizeof(e->blocked_user), &blk->user);
}

static const struct reg_ops fake_ops = {
    .domain = fake_domain,
    .ha1 = fake_ha1,
    .binding_saved = fake_saved,
    .binding_removed = fake_removed,
    .blocked = fake_blocked,
};

static int env_init(struct env *e, const struct reg_conf *conf)
{
	struct reg_conf def;
	int err;

	memset(e, 0, sizeof(*e));
	e->now = T0;
	mbuf_init(&e->out, 0);
	arena_init(&e->ra, e->rabuf, sizeof(e->rabuf), 0);
	arena_init(&e->sa, e->sabuf, sizeof(e->sabuf), 0);
	reg_conf_default(&def);
	err = timer_wheel_alloc(&e->tw, 0);
	if (err)
		return err;
	return reg_alloc(&e->reg, conf ? conf : &def, &fake_ops, e, e->tw);
}

static void env_close(struct env *e)
{
	reg_free(e->reg);
	e->reg = NULL;
	timer_wheel_free(e->tw);
	e->tw = NULL;
	mbuf_reset(&e->out);
	arena_reset(&e->ra);
	arena_reset(&e->sa);
}

/* Time passes: the wall clock and the wheel move together. */
static void advance(struct env *e, uint64_t ms)
{
	e->now += ms;
	e->wheel += ms;
	timer_wheel_advance(e->tw, e->wheel);
}

static struct sip_peer src4(const char *ip, uint16_t port)
{
	struct sip_peer s;
	struct sockaddr_in *sin = (struct sockaddr_in *)&s.addr;

	memset(&s, 0, sizeof(s));
	s.transport = SIP_TRANSPORT_UDP;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return s;
}

/* ---- the phone ---------------------------------------------------------------- */

struct ph {
	const char *user;      /* To and From user */
	const char *domain;    /* Request-URI (and To) domain */
	const char *to_domain; /* NULL: domain */
	const char *auth_user; /* NULL: user */
	const char *username;  /* in the credentials only, not the HA1; NULL: auth_user */
	const char *realm;     /* NULL: domain */
	const char *password;
	enum auth_hash hash;
	const char *nonce; /* NULL: no Authorization */
	unsigned nc;	   /* 0: 1 */
	const char *call_id;
	uint32_t cseq;
	const char *hdrs;	/* Contact, Expires... lines with CRLF; NULL: CONTACT */
	const char *auth_extra; /* replaces ", qop=auth" in the credentials */
	const char *method;	/* NULL: REGISTER; else reg_authenticate() */
};

/* Send @p from @src; the response lands in e->resp and e->status. */
static int send_req(struct env *e, const struct sip_peer *src, const struct ph *p)
{
	const char *to_dom = p->to_domain ? p->to_domain : p->domain;
	const char *call_id = p->call_id ? p->call_id : "call-1@phone";
	const char *meth = p->method ? p->method : "REGISTER";
	char auth[1024] = "";
	int len, err;

	if (p->nonce) {
		const char *auser = p->auth_user ? p->auth_user : p->user;
		const char *realm = p->realm ? p->realm : p->domain;
		char ha1[65], resp[65], ncs[9], uri[300];
		struct str su = str_cstr(auser), sr = str_cstr(realm), pw = str_cstr(p->password),
			   ha1s, method = str_cstr(meth), suri, nonce = str_cstr(p->nonce), snc,
			   cnonce = STR("c0ffee"), qop = STR("auth");

		snprintf(ncs, sizeof(ncs), "%08x", p->nc ? p->nc : 1);
		snprintf(uri, sizeof(uri), "sip:%s", p->domain);
		suri = str_cstr(uri);
		snc = str_cstr(ncs);
		err = auth_ha1(p->hash, &su, &sr, &pw, ha1, sizeof(ha1));
		if (err)
			return err;
		ha1s = str_cstr(ha1);
		err = auth_response(p->hash, &ha1s, &method, &suri, &nonce, &snc, &cnonce, &qop,
				    resp, sizeof(resp));
		if (err)
			return err;
		snprintf(
		    auth, sizeof(auth),
		    "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		    "uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"c0ffee\", nc=%s%s\r\n",
		    p->username ? p->username : auser, realm, p->nonce, uri, resp,
		    auth_hash_name(p->hash), ncs, p->auth_extra ? p->auth_extra : ", qop=auth");
	}
	len = snprintf(e->req, sizeof(e->req),
		       "%s sip:%s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%u-%u\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:%s@%s>;tag=ft42\r\n"
		       "To: <sip:%s@%s>\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: %u %s\r\n"
		       "%s%s"
		       "Content-Length: 0\r\n\r\n",
		       meth, p->domain, p->cseq, ++e->nreq, p->user, to_dom, p->user, to_dom,
		       call_id, p->cseq, meth, auth, p->hdrs ? p->hdrs : CONTACT);
	if (len < 0 || (size_t)len >= sizeof(e->req))
		return -ENOSPC;
	e->req_len = (size_t)len;
	arena_reset(&e->ra);
	arena_reset(&e->sa);
	e->resp = NULL;
	{
		struct sip_msg *m;

		struct sip_perr pe = {0};

		err = sip_msg_parse(&m, &e->ra, e->req, e->req_len, 0, NULL, &pe);
		if (err) {
			/* The test built a bad request: say where. */
			fprintf(stderr, "  request does not parse: %s at %zu\n", pe.reason,
				pe.offset);
			return err;
		}
		mbuf_reset(&e->out);
		if (p->method) {
			e->status = reg_authenticate(e->reg, m, src, e->now, &e->tenant, &e->out);
			if (e->status == 0)
				return 0; /* authenticated: no response */
		} else {
			e->status = reg_request(e->reg, m, src, e->now, &e->out);
		}
		if (e->status < 0)
			return e->status;
	}
	return sip_msg_parse(&e->resp, &e->sa, (const char *)e->out.buf, e->out.end, 0, NULL, NULL);
}

/* The nonce of the challenge for @h in the last response. */
static int nonce_of(const struct env *e, enum auth_hash h, char out[AUTH_NONCE_SIZE])
{
	for (const struct sip_hdr *x = sip_msg_hdr(e->resp, SIP_HDR_WWW_AUTHENTICATE); x;
	     x = sip_hdr_next(e->resp, x)) {
		enum auth_hash xh;

		if (!auth_hash_from_alg(x->p.auth->alg, &xh) && xh == h) {
			if (x->p.auth->nonce.len >= AUTH_NONCE_SIZE)
				return -EINVAL;
			str_copy_cstr(out, AUTH_NONCE_SIZE, &x->p.auth->nonce);
			return 0;
		}
	}
	return -ENOENT;
}

/* Unauthenticated first (expect 401), then answer the challenge with CSeq + 1. */
static int register_auth(struct env *e, const struct sip_peer *src, const struct ph *p0)
{
	char nonce[AUTH_NONCE_SIZE];
	struct ph p = *p0;
	int err;

	p.nonce = NULL;
	err = send_req(e, src, &p);
	if (err)
		return err;
	if (e->status != 401)
		return -EPROTO;
	err = nonce_of(e, p.hash, nonce);
	if (err)
		return err;
	p.nonce = nonce;
	p.cseq++;
	return send_req(e, src, &p);
}

/* Remaining ;expires of the 200's Contact for @uri, or -1. */
static long contact_expires(const struct env *e, const char *uri)
{
	for (const struct sip_hdr *x = sip_msg_hdr(e->resp, SIP_HDR_CONTACT); x;
	     x = sip_hdr_next(e->resp, x)) {
		if (str_is(&x->p.addr->uri.raw, uri))
			return x->p.addr->has_expires ? (long)x->p.addr->expires : -2;
	}
	return -1;
}

static int count_cb(const struct reg_binding *b, void *arg)
{
	(void)b;
	(*(unsigned *)arg)++;
	return 0;
}

static int count_cb_block(const struct reg_block *b, void *arg)
{
	(void)b;
	(*(unsigned *)arg)++;
	return 0;
}

static int lookup_n(struct env *e, const char *domain, const char *user)
{
	struct str d = str_cstr(domain), u = str_cstr(user);
	unsigned n = 0;
	int r = reg_lookup(e->reg, &d, &u, e->now, count_cb, &n);

	return r < 0 ? r : (int)n;
}

static const struct ph acme1001 = {
    .user = "1001",
    .domain = "acme.example",
    .password = "acme-secret",
    .hash = AUTH_HASH_SHA256,
    .cseq = 1,
};

/* ---- tests -------------------------------------------------------------------- */

TEST(test_reg_challenge)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	const struct sip_hdr *h;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &acme1001));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	/* RFC 8760 §2.4: the preferred algorithm first. */
	h = sip_msg_hdr(e.resp, SIP_HDR_WWW_AUTHENTICATE);
	TEST_EQUALS(SIP_AUTH_ALG_SHA256, h->p.auth->alg);
	TEST_STR("Digest", h->p.auth->scheme);
	TEST_STR("acme.example", h->p.auth->realm);
	TEST_STR("auth", h->p.auth->qop);
	TEST_EQUALS(43, h->p.auth->nonce.len);
	TEST_EQUALS(0, h->p.auth->stale.len);
	h = sip_hdr_next(e.resp, h);
	TEST_EQUALS(SIP_AUTH_ALG_MD5, h->p.auth->alg);
	TEST_STR("acme.example", h->p.auth->realm);
	TEST_STR("auth", h->p.auth->qop);
	/* The response has a To tag and no binding was made or user looked up. */
	TEST_ASSERT(e.resp->to->tag.len > 0);
	TEST_EQUALS(0, e.ha1_calls);
	TEST_EQUALS(0, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

/* --digest-order: MD5 first for clients reading one header, MD5 only for
 * clients refusing any algorithm they do not know. */
TEST(test_reg_challenge_digest_order)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct reg_conf conf;
	const struct sip_hdr *h;
	int err;

	reg_conf_default(&conf);
	conf.digest = REG_DIGEST_MD5_FIRST;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &acme1001));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	h = sip_msg_hdr(e.resp, SIP_HDR_WWW_AUTHENTICATE);
	TEST_EQUALS(SIP_AUTH_ALG_MD5, h->p.auth->alg);
	TEST_EQUALS(SIP_AUTH_ALG_SHA256, sip_hdr_next(e.resp, h)->p.auth->alg);
	env_close(&e);

	conf.digest = REG_DIGEST_MD5_ONLY;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &acme1001));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(1, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	TEST_EQUALS(SIP_AUTH_ALG_MD5, sip_msg_hdr(e.resp, SIP_HDR_WWW_AUTHENTICATE)->p.auth->alg);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_register_sha256)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	char buf[64];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(register_auth(&e, &s, &acme1001));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(1, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(3600, contact_expires(&e, "sip:1001@192.0.2.10:5060;transport=udp"));
	TEST_ASSERT(sip_msg_hdr(e.resp, SIP_HDR_DATE) != NULL);
	TEST_STR("Tue, 14 Nov 2023 22:13:20 GMT", sip_msg_hdr(e.resp, SIP_HDR_DATE)->value);
	TEST_EQUALS(1, reg_count(e.reg));
	TEST_EQUALS(1, e.saved_n);
	TEST_ASSERT(!strcmp(e.saved[0].tenant, "t-acme"));
	TEST_ASSERT(!strcmp(e.saved[0].user, "1001"));
	TEST_ASSERT(!strcmp(e.saved[0].domain, "acme.example"));
	TEST_ASSERT(!strcmp(e.saved[0].contact, "sip:1001@192.0.2.10:5060;transport=udp"));
	TEST_ASSERT(!strcmp(e.saved[0].call_id, "call-1@phone"));
	TEST_EQUALS(2, e.saved[0].cseq);
	TEST_EQUALS(T0 + 3600000, e.saved[0].expires_ms);
	TEST_ERR(reg_src_print(&e.saved[0].src, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "192.0.2.10:5060"));
	TEST_EQUALS(1, lookup_n(&e, "ACME.example", "1001"));
	TEST_EQUALS(0, lookup_n(&e, "beta.example", "1001"));
out:
	env_close(&e);
	return err;
}

/*
 * Two phones challenged in the same millisecond get different nonces, so
 * the second one's nc=1 is not taken for a replay of the first one's.
 */
TEST(test_reg_nonces_unique)
{
	struct env e;
	struct sip_peer s1 = src4("192.0.2.10", 5060), s2 = src4("192.0.2.11", 5060);
	struct ph p1 = acme1001, p2 = acme1001;
	char n1[AUTH_NONCE_SIZE], n2[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p2.user = "1002";
	p2.password = "acme-other";
	p2.call_id = "call-2@other";
	TEST_ERR(send_req(&e, &s1, &p1));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, n1));
	TEST_ERR(send_req(&e, &s2, &p2));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, n2));
	TEST_ASSERT(strcmp(n1, n2) != 0);
	p1.nonce = n1;
	p1.cseq = 2;
	p2.nonce = n2;
	p2.cseq = 2;
	TEST_ERR(send_req(&e, &s1, &p1));
	TEST_EQUALS(200, e.status);
	TEST_ERR(send_req(&e, &s2, &p2));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(2, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_register_md5)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hash = AUTH_HASH_MD5;
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(1, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_multiple_contacts)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs =
	    "Contact: <sip:1001@192.0.2.10:5060>;expires=600, <sip:1001@10.0.0.5:5062>;q=0.5\r\n"
	    "Expires: 1800\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(600, contact_expires(&e, "sip:1001@192.0.2.10:5060"));
	TEST_EQUALS(1800, contact_expires(&e, "sip:1001@10.0.0.5:5062"));
	TEST_EQUALS(2, e.saved_n);
	TEST_ASSERT(e.saved[1].has_q);
	TEST_EQUALS(500, e.saved[1].q);
	/* A second phone of the same user, another Call-ID: a third binding. */
	p.hdrs = "Contact: <sip:1001@198.51.100.7:5060>\r\n";
	p.call_id = "call-2@desk";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(3, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(3600, contact_expires(&e, "sip:1001@198.51.100.7:5060"));
	TEST_EQUALS(3, reg_count(e.reg));
	TEST_EQUALS(3, lookup_n(&e, "acme.example", "1001"));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_refresh)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	advance(&e, 1000 * 1000);
	/* Before the refresh, the 200 of a query shows the time left. */
	p.cseq = 3;
	p.hdrs = "";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(2600, contact_expires(&e, "sip:1001@192.0.2.10:5060;transport=udp"));
	p.cseq = 5;
	p.hdrs = NULL;
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(3600, contact_expires(&e, "sip:1001@192.0.2.10:5060;transport=udp"));
	TEST_EQUALS(1, reg_count(e.reg));
	TEST_EQUALS(2, e.saved_n);
	TEST_EQUALS(6, e.saved[1].cseq);
	/* The first expiry time passes: the refreshed binding stays. */
	advance(&e, 2700 * 1000);
	TEST_EQUALS(1, reg_count(e.reg));
	TEST_EQUALS(0, e.removed_n);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_expiry_by_timer)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060>;expires=120\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(120, contact_expires(&e, "sip:1001@192.0.2.10:5060"));
	advance(&e, 119 * 1000);
	TEST_EQUALS(1, lookup_n(&e, "acme.example", "1001"));
	TEST_EQUALS(0, e.removed_n);
	advance(&e, 1000);
	TEST_EQUALS(1, e.removed_n);
	TEST_EQUALS(REG_REMOVED_EXPIRED, e.last_why);
	TEST_ASSERT(!strcmp(e.last_removed, "sip:1001@192.0.2.10:5060"));
	TEST_EQUALS(0, reg_count(e.reg));
	TEST_EQUALS(0, lookup_n(&e, "acme.example", "1001"));
	TEST_EQUALS(0, timer_wheel_count(e.tw));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_unregister_expires0)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060>, <sip:1001@10.0.0.5>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(2, reg_count(e.reg));
	p.cseq = 3;
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060>;expires=0\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(1, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(-1, contact_expires(&e, "sip:1001@192.0.2.10:5060"));
	TEST_EQUALS(1, e.removed_n);
	TEST_EQUALS(REG_REMOVED_UNREGISTERED, e.last_why);
	/* Expires: 0 as a header removes the last one too. */
	p.cseq = 5;
	p.hdrs = "Contact: <sip:1001@10.0.0.5>\r\nExpires: 0\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(0, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(0, reg_count(e.reg));
	TEST_EQUALS(2, e.removed_n);
	TEST_EQUALS(0, timer_wheel_count(e.tw));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_unregister_star)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060>, <sip:1001@10.0.0.5>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	p.call_id = "other-call";
	p.hdrs = "Contact: <sip:1001@10.0.0.9>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(3, reg_count(e.reg));
	/* RFC 3261 §10.2.2: * needs Expires: 0 and no other contact. */
	p.cseq = 10;
	p.hdrs = "Contact: *\r\nExpires: 3600\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(400, e.status);
	p.cseq = 12;
	p.hdrs = "Contact: *\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(400, e.status);
	/* ("*" among other contacts never parses: sip_msg refuses it.) */
	TEST_EQUALS(3, reg_count(e.reg));
	p.cseq = 16;
	p.hdrs = "Contact: *\r\nExpires: 0\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(0, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(0, reg_count(e.reg));
	TEST_EQUALS(3, e.removed_n);
	TEST_EQUALS(REG_REMOVED_UNREGISTERED, e.last_why);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_interval_too_brief)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060>;expires=30\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(423, e.status);
	TEST_ASSERT(sip_msg_hdr(e.resp, SIP_HDR_MIN_EXPIRES) != NULL);
	TEST_STR("60", sip_msg_hdr(e.resp, SIP_HDR_MIN_EXPIRES)->value);
	TEST_EQUALS(0, reg_count(e.reg));
	/* One brief contact refuses the whole request, even with good ones. */
	p.cseq = 5;
	p.hdrs = "Contact: <sip:1001@10.0.0.1>, <sip:1001@10.0.0.2>;expires=59\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(423, e.status);
	TEST_EQUALS(0, reg_count(e.reg));
	TEST_EQUALS(0, e.saved_n);
	/* 60 is enough. */
	p.cseq = 7;
	p.hdrs = "Contact: <sip:1001@10.0.0.1>\r\nExpires: 60\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(60, contact_expires(&e, "sip:1001@10.0.0.1"));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_expires_clamped)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@10.0.0.1>;expires=100000\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(7200, contact_expires(&e, "sip:1001@10.0.0.1"));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_unknown_domain)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.domain = "nowhere.example";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(404, e.status);
	TEST_EQUALS(0, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	/* The AOR's domain must be the Request-URI's (RFC 3261 §10.3 step 5). */
	p.domain = "acme.example";
	p.to_domain = "beta.example";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(404, e.status);
	TEST_EQUALS(0, e.ha1_calls);
out:
	env_close(&e);
	return err;
}

/* The response without the lines copied from the request. */
static size_t strip_copied(const char *in, size_t len, char *out)
{
	static const char *const skip[] = {"Via:", "From:", "To:", "Call-ID:", "CSeq:"};
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
		bool drop = false;

		for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			drop = drop || !strncmp(in + i, skip[k], strlen(skip[k]));
		if (!drop) {
			char *line = out + o, *nv;

			memcpy(line, in + i, l);
			o += l;
			/* Every challenge has a nonce of its own. */
			nv = memmem(line, l, "nonce=\"", 7);
			if (nv && nv + 7 + 43 <= line + l)
				memset(nv + 7, 'x', 43);
		}
		i += l;
	}
	return o;
}

TEST(test_reg_unknown_user_same_as_wrong_password)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE], a[2048], b[2048], ca[2048], cb[2048];
	size_t alen, blen, la, lb;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	/* The challenge itself is the same for both (but for its nonce). */
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	alen = strip_copied((const char *)e.out.buf, e.out.end, ca);
	p.user = "9999";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	blen = strip_copied((const char *)e.out.buf, e.out.end, cb);
	TEST_EQUALS(alen, blen);
	TEST_ASSERT(!memcmp(ca, cb, alen));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));

	/* An existing user with a wrong password... */
	p = acme1001;
	p.password = "guess";
	p.nonce = nonce;
	p.cseq = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	TEST_STR("Forbidden", e.resp->reason);
	TEST_EQUALS(1, e.ha1_calls);
	la = e.out.end;
	memcpy(a, e.out.buf, la);
	/* ...and a user that does not exist: the same bytes after the same work. */
	p.user = "9999";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	TEST_EQUALS(2, e.ha1_calls);
	lb = e.out.end;
	memcpy(b, e.out.buf, lb);
	alen = strip_copied(a, la, ca);
	blen = strip_copied(b, lb, cb);
	TEST_EQUALS(alen, blen);
	TEST_ASSERT(!memcmp(ca, cb, alen));
	/* Only From and To differ, by the user's name. */
	TEST_EQUALS(la, lb);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_cross_tenant_refused)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	/* beta's 1001 with beta's password and realm, at acme: 403. */
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.password = "beta-secret";
	p.realm = "beta.example";
	p.nonce = nonce;
	p.cseq = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	/* beta's password in acme's realm: 403 too. */
	p.realm = NULL;
	p.cseq = 3;
	p.nc = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	TEST_EQUALS(0, reg_count(e.reg));
	/* A nonce made for beta is no good at acme either: a new challenge. */
	p = acme1001;
	p.domain = "beta.example";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.domain = "acme.example";
	p.nonce = nonce;
	p.cseq = 4;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	/* Each 1001 registers in its own tenant, and the bindings stay apart. */
	p = acme1001;
	p.domain = "beta.example";
	p.password = "beta-secret";
	p.hdrs = "Contact: <sip:1001@10.9.9.9>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_ASSERT(!strcmp(e.saved[0].tenant, "t-beta"));
	TEST_EQUALS(1, lookup_n(&e, "beta.example", "1001"));
	TEST_EQUALS(0, lookup_n(&e, "acme.example", "1001"));
	p = acme1001;
	p.call_id = "acme-call";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(1, sip_msg_hdr_count(e.resp, SIP_HDR_CONTACT));
	TEST_EQUALS(1, lookup_n(&e, "acme.example", "1001"));
	TEST_EQUALS(2, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_auth_user_must_be_aor)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	/* 1002's valid credentials cannot register 1001. */
	p.auth_user = "1002";
	p.password = "acme-other";
	p.nonce = nonce;
	p.cseq = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	/* Nor does a response made with 1001's HA1 under another username. */
	p.auth_user = NULL;
	p.password = "acme-secret";
	p.username = "1002";
	p.cseq = 3;
	p.nc = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	TEST_EQUALS(0, reg_count(e.reg));
	/* The same with the right username goes through. */
	p.username = NULL;
	p.cseq = 4;
	p.nc = 3;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(200, e.status);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_nc_replay)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.nonce = nonce;
	p.cseq = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	/* The same request again (a captured one replayed): a fresh challenge. */
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	/* A lower count too; a higher one with the same nonce is fine. */
	p.cseq = 3;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	p.nc = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	/* Replays are not failures: nobody gets blocked for them. */
	TEST_EQUALS(0, e.blocks);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_stale_nonce)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	const struct sip_hdr *h;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	advance(&e, 300 * 1000);
	p.nonce = nonce;
	p.cseq = 2;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	for (h = sip_msg_hdr(e.resp, SIP_HDR_WWW_AUTHENTICATE); h; h = sip_hdr_next(e.resp, h)) {
		TEST_STR("true", h->p.auth->stale);
		TEST_ASSERT(!str_is(&h->p.auth->nonce, nonce));
	}
	/* A nonce that was never ours: a challenge without stale. */
	p.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	p.cseq = 3;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(0, sip_msg_hdr(e.resp, SIP_HDR_WWW_AUTHENTICATE)->p.auth->stale.len);
	/* The fresh nonce works. */
	TEST_ERR(register_auth(&e, &s, &acme1001));
	TEST_EQUALS(200, e.status);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_unusable_credentials)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.nonce = nonce;
	p.cseq = 2;
	/* No qop (RFC 2069 style): no nonce count, so no replay protection. */
	p.auth_extra = "";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	p.auth_extra = ", qop=auth-int";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	TEST_EQUALS(0, e.ha1_calls);
	TEST_EQUALS(0, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_throttle_blocks_attacker_only)
{
	struct env e;
	struct sip_peer bad = src4("203.0.113.66", 40000), good = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	unsigned n = 0;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.nonce = nonce;
	p.password = "wrong";
	for (unsigned i = 0; i < 10; i++) {
		p.cseq = 2 + i;
		p.nc = 1 + i;
		TEST_ERR(send_req(&e, &bad, &p));
		TEST_EQUALS(403, e.status);
		TEST_STR("Forbidden", e.resp->reason);
	}
	TEST_EQUALS(1, e.blocks);
	TEST_ASSERT(!strcmp(e.blocked_src, "203.0.113.66"));
	TEST_ASSERT(!strcmp(e.blocked_user, "1001"));
	/* Now even the right password from that source is refused, unchecked. */
	p.password = "acme-secret";
	p.cseq = 20;
	p.nc = 20;
	e.ha1_calls = 0;
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(403, e.status);
	TEST_STR("Blocked", e.resp->reason);
	TEST_EQUALS(0, e.ha1_calls);
	TEST_EQUALS(0, reg_count(e.reg));
	/* The real agent on another source registers. */
	TEST_ERR(register_auth(&e, &good, &acme1001));
	TEST_EQUALS(200, e.status);
	/* The operator sees the block. */
	TEST_EQUALS(1, reg_blocked_list(e.reg, e.now, count_cb_block, &n));
	TEST_EQUALS(1, n);
	/* It ends after block_ms (10 minutes by default). */
	advance(&e, 600 * 1000);
	TEST_EQUALS(0, reg_blocked_list(e.reg, e.now, count_cb_block, &n));
	p.nonce = NULL;
	p.cseq = 30;
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(401, e.status);
out:
	env_close(&e);
	return err;
}

struct block_seen {
	unsigned n;
	char src[64], user[64], domain[64];
	uint64_t since, until;
	uint32_t count;
};

static int block_cb(const struct reg_block *b, void *arg)
{
	struct block_seen *bs = arg;

	bs->n++;
	str_copy_cstr(bs->src, sizeof(bs->src), &b->src);
	str_copy_cstr(bs->user, sizeof(bs->user), &b->user);
	str_copy_cstr(bs->domain, sizeof(bs->domain), &b->domain);
	bs->since = b->since_ms;
	bs->until = b->until_ms;
	bs->count = b->count;
	return 0;
}

TEST(test_reg_throttle_source_scan)
{
	struct env e;
	struct sip_peer bad = src4("203.0.113.7", 5060), good = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	struct block_seen bs = {0};
	char nonce[AUTH_NONCE_SIZE], user[16];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	/* An account scanner: a different user each time, 20 in a minute. */
	p.nonce = nonce;
	p.password = "123456";
	for (unsigned i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "%u", 2000 + i);
		p.user = user;
		p.cseq = 2 + i;
		TEST_ERR(send_req(&e, &bad, &p));
		TEST_EQUALS(403, e.status);
		TEST_STR("Forbidden", e.resp->reason);
		advance(&e, 1000);
	}
	TEST_EQUALS(1, e.blocks);
	TEST_EQUALS(1, reg_blocked_list(e.reg, e.now, block_cb, &bs));
	TEST_ASSERT(!strcmp(bs.src, "203.0.113.7"));
	TEST_ASSERT(!strcmp(bs.user, ""));
	TEST_EQUALS(20, bs.count);
	TEST_EQUALS(T0 + 19000, bs.since);
	TEST_EQUALS(T0 + 19000 + 600000, bs.until);
	/* Blocked before anything: no challenge, not even a 404. */
	p = acme1001;
	p.user = "1002";
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(403, e.status);
	TEST_STR("Blocked", e.resp->reason);
	TEST_EQUALS(0, sip_msg_hdr_count(e.resp, SIP_HDR_WWW_AUTHENTICATE));
	p.domain = "nowhere.example";
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(403, e.status);
	/* Another source is challenged as usual. */
	p.domain = "acme.example";
	TEST_ERR(send_req(&e, &good, &p));
	TEST_EQUALS(401, e.status);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_throttle_window)
{
	struct env e;
	struct sip_peer bad = src4("203.0.113.9", 5060);
	struct reg_conf conf;
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err;

	reg_conf_default(&conf);
	conf.fail_max_aor = 3;
	conf.nonce_ttl_ms = 3600000;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	p.nonce = nonce;
	p.password = "wrong";
	for (unsigned i = 0; i < 2; i++) {
		p.cseq++;
		p.nc++;
		TEST_ERR(send_req(&e, &bad, &p));
		TEST_EQUALS(403, e.status);
	}
	/* The window (60 s) passes: the count starts again. */
	advance(&e, 61 * 1000);
	for (unsigned i = 0; i < 2; i++) {
		p.cseq++;
		p.nc++;
		TEST_ERR(send_req(&e, &bad, &p));
		TEST_STR("Forbidden", e.resp->reason);
	}
	TEST_EQUALS(0, e.blocks);
	p.cseq++;
	p.nc++;
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(1, e.blocks);
	p.cseq++;
	p.nc++;
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_STR("Blocked", e.resp->reason);
	/* Only 1001 is blocked from there; 1002 is still challenged. */
	p = acme1001;
	p.user = "1002";
	TEST_ERR(send_req(&e, &bad, &p));
	TEST_EQUALS(401, e.status);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_success_resets_failures)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct reg_conf conf;
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err;

	reg_conf_default(&conf);
	conf.fail_max_aor = 3;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	/* A user mistyping twice, then getting it right, then mistyping twice again. */
	for (unsigned round = 0; round < 2; round++) {
		p = acme1001;
		p.cseq = 1 + 10 * round;
		TEST_ERR(send_req(&e, &s, &p));
		TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
		p.nonce = nonce;
		p.password = "typo";
		for (unsigned i = 0; i < 2; i++) {
			p.cseq++;
			p.nc++;
			TEST_ERR(send_req(&e, &s, &p));
			TEST_EQUALS(403, e.status);
		}
		p.password = "acme-secret";
		p.cseq++;
		p.nc++;
		TEST_ERR(send_req(&e, &s, &p));
		TEST_EQUALS(200, e.status);
	}
	TEST_EQUALS(0, e.blocks);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_cseq_out_of_order)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.cseq = 10;
	TEST_ERR(register_auth(&e, &s, &p)); /* binding made with CSeq 11 */
	TEST_EQUALS(200, e.status);
	p.cseq = 20;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_ERR(nonce_of(&e, AUTH_HASH_SHA256, nonce));
	/* Same Call-ID, CSeq not higher than the binding's: refused, unchanged. */
	p.nonce = nonce;
	p.cseq = 11;
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060;transport=udp>;expires=600\r\n";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(400, e.status);
	TEST_STR("Bad Request (CSeq out of order)", e.resp->reason);
	TEST_EQUALS(1, e.saved_n);
	/* Same for an unregistration with *. */
	p.cseq = 5;
	p.nc = 2;
	p.hdrs = "Contact: *\r\nExpires: 0\r\n";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(400, e.status);
	TEST_EQUALS(1, reg_count(e.reg));
	/* Another Call-ID (the phone rebooted) may have any CSeq. */
	p.call_id = "after-reboot";
	p.cseq = 1;
	p.nc = 3;
	p.hdrs = "Contact: <sip:1001@192.0.2.10:5060;transport=udp>;expires=600\r\n";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(600, contact_expires(&e, "sip:1001@192.0.2.10:5060;transport=udp"));
	TEST_EQUALS(1, reg_count(e.reg));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_max_contacts)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct reg_conf conf;
	struct ph p = acme1001;
	int err;

	reg_conf_default(&conf);
	conf.max_contacts = 3;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@10.0.0.1>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	advance(&e, 1000);
	p.cseq = 10;
	p.hdrs = "Contact: <sip:1001@10.0.0.2>, <sip:1001@10.0.0.3>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(3, reg_count(e.reg));
	/* A fourth contact pushes out the least recently refreshed one. */
	advance(&e, 1000);
	p.cseq = 20;
	p.hdrs = "Contact: <sip:1001@10.0.0.4>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	TEST_EQUALS(3, reg_count(e.reg));
	TEST_EQUALS(1, e.removed_n);
	TEST_EQUALS(REG_REMOVED_EVICTED, e.last_why);
	TEST_ASSERT(!strcmp(e.last_removed, "sip:1001@10.0.0.1"));
	TEST_EQUALS(-1, contact_expires(&e, "sip:1001@10.0.0.1"));
	TEST_EQUALS(3600, contact_expires(&e, "sip:1001@10.0.0.4"));
	/* More contacts than allowed in one request: refused, nothing changes. */
	p.cseq = 30;
	p.hdrs = "Contact: <sip:1001@10.0.1.1>, <sip:1001@10.0.1.2>, <sip:1001@10.0.1.3>, "
		 "<sip:1001@10.0.1.4>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	TEST_STR("Too Many Contacts", e.resp->reason);
	TEST_EQUALS(3, reg_count(e.reg));
	TEST_EQUALS(1, e.removed_n);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_max_bindings)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct reg_conf conf;
	struct ph p = acme1001;
	int err;

	reg_conf_default(&conf);
	conf.max_bindings = 2;
	err = env_init(&e, &conf);
	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@10.0.0.1>, <sip:1001@10.0.0.2>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	p = acme1001;
	p.user = "1002";
	p.password = "acme-other";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(503, e.status);
	TEST_ASSERT(sip_msg_hdr(e.resp, SIP_HDR_RETRY_AFTER) != NULL);
	TEST_EQUALS(2, reg_count(e.reg));
	/* Refreshing what exists is still fine when full. */
	p = acme1001;
	p.cseq = 10;
	p.hdrs = "Contact: <sip:1001@10.0.0.1>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
out:
	env_close(&e);
	return err;
}

static struct reg_binding binding_of(const struct saved *sv)
{
	return (struct reg_binding){
	    .tenant_id = str_cstr(sv->tenant),
	    .domain = str_cstr(sv->domain),
	    .user = str_cstr(sv->user),
	    .contact = str_cstr(sv->contact),
	    .call_id = str_cstr(sv->call_id),
	    .cseq = sv->cseq,
	    .expires_ms = sv->expires_ms,
	    .has_q = sv->has_q,
	    .q = sv->q,
	    .path = str_cstr(sv->path),
	    .instance = str_cstr(sv->instance),
	    .src = sv->src,
	};
}

struct seen {
	char contact[256], call_id[128], path[256], instance[128], tenant[65];
	uint32_t cseq;
	uint64_t expires;
	struct sip_peer src;
};

static int seen_cb(const struct reg_binding *b, void *arg)
{
	struct seen *sn = arg;

	str_copy_cstr(sn->contact, sizeof(sn->contact), &b->contact);
	str_copy_cstr(sn->call_id, sizeof(sn->call_id), &b->call_id);
	str_copy_cstr(sn->path, sizeof(sn->path), &b->path);
	str_copy_cstr(sn->instance, sizeof(sn->instance), &b->instance);
	str_copy_cstr(sn->tenant, sizeof(sn->tenant), &b->tenant_id);
	sn->cseq = b->cseq;
	sn->expires = b->expires_ms;
	sn->src = b->src;
	return 0;
}

TEST(test_reg_restore)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	struct saved sv[2];
	struct reg_binding b;
	struct seen sn;
	struct reg_conf conf;
	struct str dom = STR("acme.example"), user = STR("1001");
	char buf[64];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = "Contact: <sip:1001@10.0.0.1>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
		 "000A95A0E128>\";expires=600\r\n"
		 "Path: <sip:edge.acme.example;lr>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	p.call_id = "second";
	p.hdrs = "Contact: <sip:1001@10.0.0.2>;expires=120\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(2, e.saved_n);
	memcpy(sv, e.saved, sizeof(sv));

	/* Restart: a new registrar, the stored bindings loaded back, 200 s later. */
	reg_free(e.reg);
	e.reg = NULL;
	advance(&e, 200 * 1000);
	reg_conf_default(&conf);
	TEST_ERR(reg_alloc(&e.reg, &conf, &fake_ops, &e, e.tw));
	e.saved_n = 0;
	b = binding_of(&sv[0]);
	TEST_ERR(reg_binding_restore(e.reg, &b, e.now));
	b = binding_of(&sv[1]);
	TEST_EQUALS(-ETIMEDOUT, reg_binding_restore(e.reg, &b, e.now));
	b = binding_of(&sv[0]);
	b.tenant_id = STR("t-beta");
	TEST_EQUALS(-ENOENT, reg_binding_restore(e.reg, &b, e.now));
	b.domain = STR("gone.example");
	TEST_EQUALS(-ENOENT, reg_binding_restore(e.reg, &b, e.now));
	TEST_EQUALS(0, e.saved_n); /* restoring writes nothing back */
	TEST_EQUALS(1, reg_count(e.reg));

	memset(&sn, 0, sizeof(sn));
	TEST_EQUALS(1, reg_lookup(e.reg, &dom, &user, e.now, seen_cb, &sn));
	TEST_ASSERT(!strcmp(sn.contact, "sip:1001@10.0.0.1"));
	TEST_ASSERT(!strcmp(sn.call_id, "call-1@phone"));
	TEST_ASSERT(!strcmp(sn.tenant, "t-acme"));
	TEST_ASSERT(!strcmp(sn.path, "<sip:edge.acme.example;lr>"));
	TEST_ASSERT(!strcmp(sn.instance, "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"));
	TEST_EQUALS(2, sn.cseq);
	TEST_EQUALS(T0 + 600000, sn.expires);
	TEST_ERR(reg_src_print(&sn.src, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "192.0.2.10:5060"));

	/* A refresh after the restart is checked against the restored CSeq. */
	p = acme1001;
	p.cseq = 1;
	p.hdrs = "Contact: <sip:1001@10.0.0.1>\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(400, e.status);
	/* And it still expires on time. */
	advance(&e, 400 * 1000);
	TEST_EQUALS(0, reg_count(e.reg));
	TEST_EQUALS(REG_REMOVED_EXPIRED, e.last_why);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_path_and_ipv6_source)
{
	struct env e;
	struct sip_peer s;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s.addr;
	struct ph p = acme1001;
	char buf[64];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	memset(&s, 0, sizeof(s));
	s.transport = SIP_TRANSPORT_TCP;
	s.conn_id = 42;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(5070);
	inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
	p.hdrs = "Contact: <sip:1001@[2001:db8::1]:5070;transport=tcp>\r\n"
		 "Path: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
		 "Require: path\r\n";
	TEST_ERR(register_auth(&e, &s, &p));
	TEST_EQUALS(200, e.status);
	/* RFC 3327 §5.3: the Path comes back in the 200. */
	TEST_EQUALS(2, sip_msg_hdr_count(e.resp, SIP_HDR_PATH));
	TEST_ASSERT(!strcmp(e.saved[0].path, "<sip:p1.example;lr>, <sip:p2.example;lr>"));
	TEST_EQUALS(SIP_TRANSPORT_TCP, e.saved[0].src.transport);
	TEST_EQUALS(42, e.saved[0].src.conn_id);
	TEST_ERR(reg_src_print(&e.saved[0].src, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "[2001:db8::1]:5070"));
out:
	env_close(&e);
	return err;
}

TEST(test_reg_src_print_parse)
{
	struct sip_peer s = src4("198.51.100.2", 5080), r;
	char buf[64];
	int err = 0;

	TEST_ERR(reg_src_print(&s, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "198.51.100.2:5080"));
	{
		struct str sb = str_cstr(buf);

		TEST_ERR(reg_src_parse(&r, &sb, SIP_TRANSPORT_UDP));
	}
	TEST_ASSERT(!memcmp(&r.addr, &s.addr, sizeof(struct sockaddr_in)));
	TEST_ERR(reg_src_parse(&r, &STR("[2001:db8::7]:5060"), SIP_TRANSPORT_TCP));
	TEST_ERR(reg_src_print(&r, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "[2001:db8::7]:5060"));
	TEST_EQUALS(SIP_TRANSPORT_TCP, r.transport);
	TEST_EQUALS(-EINVAL, reg_src_parse(&r, &STR("198.51.100.2"), SIP_TRANSPORT_UDP));
	TEST_EQUALS(-EINVAL, reg_src_parse(&r, &STR("198.51.100.2:70000"), SIP_TRANSPORT_UDP));
	TEST_EQUALS(-EINVAL, reg_src_parse(&r, &STR("host.example:5060"), SIP_TRANSPORT_UDP));
	TEST_EQUALS(-EINVAL, reg_src_parse(&r, &STR("[2001:db8::7]5060"), SIP_TRANSPORT_UDP));
	TEST_EQUALS(-ENOSPC, reg_src_print(&s, buf, 8));
out:
	return err;
}

TEST(test_reg_require_and_scheme)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	const struct sip_hdr *h;
	char longuser[301];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.hdrs = CONTACT "Require: path, foo\r\n";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(420, e.status);
	h = sip_msg_hdr(e.resp, SIP_HDR_UNSUPPORTED);
	TEST_ASSERT(h != NULL);
	TEST_STR("foo", h->value);
	TEST_EQUALS(1, sip_msg_hdr_count(e.resp, SIP_HDR_UNSUPPORTED));
	/* No AOR has a user name this long (nor is it kept in memory). */
	memset(longuser, '7', 300);
	longuser[300] = '\0';
	p.hdrs = NULL;
	p.user = longuser;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(404, e.status);
out:
	env_close(&e);
	return err;
}

TEST(test_reg_bad_arguments)
{
	struct env e;
	struct reg_conf conf;
	struct reg *r = NULL;
	struct reg_ops ops = fake_ops;
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	reg_conf_default(&conf);
	conf.min_expires = 8000; /* above max_expires */
	TEST_EQUALS(-EINVAL, reg_alloc(&r, &conf, &fake_ops, NULL, e.tw));
	reg_conf_default(&conf);
	ops.ha1 = NULL;
	TEST_EQUALS(-EINVAL, reg_alloc(&r, &conf, &ops, NULL, e.tw));
	TEST_EQUALS(-EINVAL, reg_alloc(&r, &conf, &fake_ops, NULL, NULL));
	TEST_ASSERT(r == NULL);
	/* Not a REGISTER: the caller's mistake, nothing written. */
	{
		static const char opt[] = "OPTIONS sip:acme.example SIP/2.0\r\n"
					  "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-o\r\n"
					  "From: <sip:1001@acme.example>;tag=a\r\n"
					  "To: <sip:acme.example>\r\nCall-ID: o1\r\n"
					  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
		struct sip_peer s = src4("192.0.2.10", 5060);
		struct sip_msg *m;

		TEST_ERR(sip_msg_parse(&m, &e.ra, opt, sizeof(opt) - 1, 0, NULL, NULL));
		TEST_EQUALS(-EINVAL, reg_request(e.reg, m, &s, e.now, &e.out));
		TEST_EQUALS(0, e.out.end);
		s.addr.ss_family = AF_UNIX;
		TEST_EQUALS(-EINVAL, reg_request(e.reg, m, &s, e.now, &e.out));
	}
out:
	env_close(&e);
	return err;
}

/* INVITE (any request but REGISTER) from an agent: the same digest rules. */
TEST(test_reg_authenticate_invite)
{
	struct env e;
	struct sip_peer s = src4("192.0.2.10", 5060);
	struct ph p = acme1001;
	char nonce[AUTH_NONCE_SIZE];
	int err = env_init(&e, NULL);

	TEST_ERR(err);
	p.method = "INVITE";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	TEST_STR("INVITE", e.resp->cseq.method_str);
	TEST_ERR(nonce_of(&e, p.hash, nonce));
	p.nonce = nonce;
	p.cseq++;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(0, e.status);
	TEST_ASSERT(!strcmp(e.tenant.realm, "acme.example"));
	/* The same nonce count again is a replay: a new challenge. */
	p.cseq++;
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(401, e.status);
	/* A wrong password: 403, as for REGISTER. */
	p.nc = 2;
	p.password = "wrong";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	/* An unknown From domain: 403, never a 404 that would tell domains apart. */
	p = acme1001;
	p.method = "MESSAGE";
	p.domain = "nowhere.example";
	TEST_ERR(send_req(&e, &s, &p));
	TEST_EQUALS(403, e.status);
	/* REGISTER is not for this function. */
	p = acme1001;
	p.method = "REGISTER";
	TEST_EQUALS(-EINVAL, send_req(&e, &s, &p));
out:
	env_close(&e);
	return err;
}
