/*
 * Unit tests for sip_msg: the SIP message parser, checked against the RFC 3261
 * grammar (§7, §20, §25), RFC 3581 (rport), RFC 4475 (torture messages),
 * RFC 5118 (IPv6) and RFC 7616 / RFC 8760 (SHA-256 digest parameters).
 *
 * Table-driven: well-formed messages, each with a function checking the parsed
 * fields, and malformed ones, each with the error code and the header that
 * perr must name. Larger samples live in tests/data/sip/ as .sip files (CRLF line
 * ends). Every input is parsed from a heap copy of exactly its size, so an
 * over-read shows under AddressSanitizer. Not here: URIs alone (test_sip_uri),
 * framing (test_sip_frame), printing (test_sip_print).
 */
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/mem.h"
#include "sip/sip_msg.h"
#include "test.h"

/* ---- fixture ---------------------------------------------------------- */

/* One parse: the arena's first chunk is on the caller's stack. */
struct fx {
	_Alignas(16) char abuf[32768];
	struct arena a;
	char *buf; /* exact-size heap copy of the input; the views point into it */
	size_t len;
	struct sip_msg *m;
	struct sip_perr pe;
};

static void fx_init(struct fx *f)
{
	arena_init(&f->a, f->abuf, sizeof(f->abuf), 0);
	f->buf = NULL;
	f->len = 0;
	f->m = NULL;
	memset(&f->pe, 0, sizeof(f->pe));
}

static void fx_reset(struct fx *f)
{
	arena_reset(&f->a);
	mem_free(f->buf);
	f->buf = NULL;
	f->m = NULL;
}

/* Copy @s to the end of a heap block of exactly @len bytes and parse it. */
static int fx_parse(struct fx *f, const char *s, size_t len, unsigned flags,
		    const struct sip_limits *lim)
{
	fx_reset(f);
	f->buf = mem_alloc(len ? len : 1);
	if (!f->buf)
		return -ENOMEM;
	if (len)
		memcpy(f->buf, s, len);
	f->len = len;
	memset(&f->pe, 0, sizeof(f->pe));
	return sip_msg_parse(&f->m, &f->a, f->buf, len, flags, lim, &f->pe);
}

/* Read tests/data/sip/@name into a heap block of exactly its size. */
static int load_file(const char *name, char **bufp, size_t *lenp)
{
	char path[512];
	FILE *fp;
	long n;
	char *buf = NULL;
	int err = 0;

	snprintf(path, sizeof(path), "%s/sip/%s", test_data_dir(), name);
	fp = fopen(path, "rb");
	if (!fp) {
		test_fail(__FILE__, __LINE__, "cannot open %s", path);
		return -ENOENT;
	}
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) <= 0 || fseek(fp, 0, SEEK_SET)) {
		err = -EIO;
		goto out;
	}
	buf = mem_alloc((size_t)n);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		err = -EIO;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
out:
	mem_free(buf);
	fclose(fp);
	return err;
}

/* Parse a sample file into @f (f->buf owns the bytes). */
static int fx_parse_file(struct fx *f, const char *name, unsigned flags)
{
	char *buf;
	size_t len;
	int err;

	fx_reset(f);
	err = load_file(name, &buf, &len);
	if (err)
		return err;
	f->buf = buf;
	f->len = len;
	return sip_msg_parse(&f->m, &f->a, f->buf, len, flags, NULL, &f->pe);
}

/* The @n-th (0-based) value of @id, by iteration. */
static const struct sip_hdr *nth(const struct sip_msg *m, enum sip_hdr_id id, unsigned n)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	while (h && n--)
		h = sip_hdr_next(m, h);
	return h;
}

static bool view_in(const struct sip_msg *m, struct str s)
{
	return s.len == 0 || (s.p >= m->buf && s.p + s.len <= m->buf + m->len);
}

/*
 * Invariants every parsed message keeps: lines tile the header section, each
 * header sits in its line, iteration agrees with sip_msg_hdr_count, and the
 * body is what follows the empty line.
 */
static int check_structure(const struct sip_msg *m)
{
	int err = 0;
	size_t off = m->start_line.len + 2;

	TEST_ASSERT(m->start_line.p == m->buf);
	for (uint32_t k = 0; k < m->nlines; k++) {
		const struct sip_line *ln = &m->lines[k];

		TEST_EQUALS(off, ln->off);
		TEST_ASSERT(ln->len >= 3);
		TEST_ASSERT(!memcmp(m->buf + ln->off + ln->len - 2, "\r\n", 2));
		for (uint32_t j = 0; j < ln->nhdrs; j++) {
			const struct sip_hdr *h = &m->hdrs[ln->first_hdr + j];

			TEST_ASSERT(ln->first_hdr + j < m->nhdrs);
			TEST_EQUALS(k, h->line);
			TEST_ASSERT(h->value.len == 0 ||
				    (h->value.p >= m->buf + ln->off &&
				     h->value.p + h->value.len <= m->buf + ln->off + ln->len - 2));
		}
		off += ln->len;
	}
	TEST_EQUALS(off + 2, m->body_off);
	TEST_ASSERT(!memcmp(m->buf + off, "\r\n", 2));
	TEST_ASSERT(m->body.len == 0 || m->body.p == m->buf + m->body_off);
	TEST_ASSERT(m->body_off + m->body.len <= m->len);
	for (unsigned id = 0; id < SIP_HDR__COUNT; id++) {
		unsigned n = 0;

		for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_hdr_next(m, h)) {
			TEST_ASSERT(h >= m->hdrs && h < m->hdrs + m->nhdrs);
			TEST_EQUALS(id, h->id);
			TEST_ASSERT(view_in(m, h->name) && view_in(m, h->value));
			TEST_ASSERT(n++ < m->nhdrs);
		}
		TEST_EQUALS(n, sip_msg_hdr_count(m, id));
		TEST_EQUALS(n ? (int32_t)(sip_msg_hdr(m, id) - m->hdrs) : -1, m->first[id]);
	}
out:
	return err;
}

/* ---- messages ---------------------------------------------------------- */

#define CRLF		  "\r\n"
#define H_VIA		  "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF
#define H_FROM		  "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
#define H_TO		  "To: Bob <sip:bob@biloxi.example.com>" CRLF
#define H_TO_TAG	  "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
#define H_CALLID	  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define H_CSEQ		  "CSeq: 314159 INVITE" CRLF
#define H_MAXF		  "Max-Forwards: 70" CRLF
#define H_CL0		  "Content-Length: 0" CRLF
#define RLINE		  "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
/* The mandatory headers of an INVITE, without Content-Length. */
#define STD		  H_VIA H_FROM H_TO H_CALLID H_CSEQ H_MAXF
/* An INVITE with @extra header lines and no body. */
#define INV(extra)	  RLINE STD extra H_CL0 CRLF
/* A request or response with start line @line and @hdrs, and no body. */
#define MSG(line, hdrs)	  line CRLF hdrs H_CL0 CRLF
/* A response with start line @line. */
#define RESP(line, extra) line CRLF H_VIA H_FROM H_TO_TAG H_CALLID H_CSEQ extra H_CL0 CRLF

/* A literal with its length, so embedded NULs count. */
#define LIT(s) (s), sizeof(s) - 1

/* ---- well-formed messages ---------------------------------------------- */

typedef int(check_fn)(const struct sip_msg *m);

struct good_case {
	const char *name;
	const char *file; /* tests/data/sip/<file>, or NULL for msg */
	const char *msg;
	size_t len;
	unsigned flags;
	check_fn *check;
};

static int chk_invite(const struct sip_msg *m)
{
	static const char *const allow[] = {"INVITE", "ACK", "CANCEL", "OPTIONS", "BYE"};
	const struct sip_hdr *h;
	const struct sip_via *v;
	int err = 0;

	TEST_ASSERT(m->is_request);
	TEST_EQUALS(SIP_METHOD_INVITE, m->method);
	TEST_STR("INVITE", m->method_str);
	TEST_STR("INVITE sip:bob@biloxi.example.com SIP/2.0", m->start_line);
	TEST_STR("sip:bob@biloxi.example.com", m->ruri.raw);
	TEST_EQUALS(SIP_URI_SIP, m->ruri.scheme);
	TEST_STR("bob", m->ruri.user);
	TEST_STR("biloxi.example.com", m->ruri.host);
	TEST_EQUALS(0, m->ruri.port);

	/* Three Via values: one line, then two on one line (RFC 3261 §7.3.1). */
	TEST_EQUALS(3, sip_msg_hdr_count(m, SIP_HDR_VIA));
	h = nth(m, SIP_HDR_VIA, 0);
	TEST_ASSERT(h && h->p.via == m->via);
	v = m->via;
	TEST_STR("Via", h->name);
	TEST_STR("SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;"
		 "received=192.0.2.101;rport=5060",
		 h->value);
	TEST_STR("SIP/2.0/TCP", v->proto);
	TEST_STR("TCP", v->transport);
	TEST_EQUALS(SIP_TRANSPORT_TCP, v->transport_id);
	TEST_STR("client.atlanta.example.com", v->host);
	TEST_EQUALS(SIP_HOST_NAME, v->host_type);
	TEST_EQUALS(5060, v->port);
	TEST_STR(";branch=z9hG4bK74bf9;received=192.0.2.101;rport=5060", v->params);
	TEST_STR("z9hG4bK74bf9", v->branch);
	TEST_STR("192.0.2.101", v->received);
	TEST_ASSERT(v->has_rport);
	TEST_EQUALS(5060, v->rport);
	TEST_STR("", v->maddr);
	TEST_ASSERT(!v->has_ttl);

	h = nth(m, SIP_HDR_VIA, 1);
	TEST_ASSERT(h);
	TEST_STR("SIP/2.0/UDP proxy.atlanta.example.com;branch=z9hG4bK2d4790.1", h->value);
	v = h->p.via;
	TEST_EQUALS(SIP_TRANSPORT_UDP, v->transport_id);
	TEST_STR("proxy.atlanta.example.com", v->host);
	TEST_EQUALS(0, v->port);
	TEST_STR("z9hG4bK2d4790.1", v->branch);
	TEST_ASSERT(!v->has_rport);
	TEST_STR("", v->received);
	TEST_EQUALS(2, m->lines[h->line].nhdrs);

	h = nth(m, SIP_HDR_VIA, 2);
	TEST_ASSERT(h);
	TEST_STR("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3", h->value);
	TEST_EQUALS(nth(m, SIP_HDR_VIA, 1)->line, h->line);
	v = h->p.via;
	TEST_STR("2001:db8::9:1", v->host);
	TEST_EQUALS(SIP_HOST_IPV6, v->host_type);
	TEST_EQUALS(5070, v->port);
	TEST_STR("z9hG4bKas3", v->branch);
	TEST_ASSERT(!sip_hdr_next(m, h));

	TEST_ASSERT(m->has_max_forwards);
	TEST_EQUALS(70, m->max_forwards);

	TEST_EQUALS(3, sip_msg_hdr_count(m, SIP_HDR_ROUTE));
	for (unsigned k = 0; k < 3; k++) {
		static const char *const host[] = {"p1.example.com", "p2.example.com",
						   "p3.example.com"};

		h = nth(m, SIP_HDR_ROUTE, k);
		TEST_ASSERT(h && h->p.addr);
		TEST_ASSERT(h->p.addr->name_addr);
		TEST_STR(host[k], h->p.addr->uri.host);
		TEST_STR(";lr", h->p.addr->uri.params);
	}
	TEST_EQUALS(1, m->lines[nth(m, SIP_HDR_ROUTE, 2)->line].nhdrs);

	/* quoted-pairs stay in the view (RFC 3261 §25.1 quoted-pair). */
	TEST_STR("Alice \\\"Al\\\" Liddell", m->from->display);
	TEST_ASSERT(m->from->name_addr);
	TEST_STR("sip:alice@atlanta.example.com", m->from->uri.raw);
	TEST_STR("9fxced76sl", m->from->tag);
	TEST_STR(";tag=9fxced76sl", m->from->params);
	TEST_STR("Bob", m->to->display);
	TEST_STR("", m->to->tag);
	TEST_STR("biloxi.example.com", m->to->uri.host);
	TEST_STR("3848276298220188511@atlanta.example.com", m->call_id);
	TEST_EQUALS(31862, m->cseq.seq);
	TEST_EQUALS(SIP_METHOD_INVITE, m->cseq.method);
	TEST_STR("INVITE", m->cseq.method_str);

	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	TEST_STR("client.atlanta.example.com", h->p.addr->uri.host);
	TEST_STR(";transport=tcp", h->p.addr->uri.params);
	TEST_STR("", h->p.addr->params);

	/* Token lists: one header per line, read with sip_list_next(). */
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_ALLOW));
	{
		const struct sip_hdr *ah = sip_msg_hdr(m, SIP_HDR_ALLOW);
		struct str item;
		size_t pos = 0;
		unsigned k = 0;

		while (sip_list_next(&ah->value, &pos, &item)) {
			TEST_ASSERT(k < 5);
			TEST_STR(allow[k], item);
			k++;
		}
		TEST_EQUALS(5, k);
	}
	TEST_ASSERT(sip_msg_has_token(m, SIP_HDR_ALLOW, "CANCEL"));
	TEST_ASSERT(!sip_msg_has_token(m, SIP_HDR_ALLOW, "cancel")); /* methods: case-sensitive */
	TEST_ASSERT(!sip_msg_has_token(m, SIP_HDR_ALLOW, "REFER"));
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_SUPPORTED));
	TEST_ASSERT(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "replaces"));
	TEST_ASSERT(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "TIMER")); /* tags: case-insensitive */
	TEST_ASSERT(!sip_msg_has_token(m, SIP_HDR_SUPPORTED, "100rel"));
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_REQUIRE));
	TEST_STR("100rel", sip_msg_hdr(m, SIP_HDR_REQUIRE)->value);
	TEST_STR("lunch?", sip_msg_hdr(m, SIP_HDR_SUBJECT)->value);
	TEST_STR("Shenggu-Test/1.0", sip_msg_hdr(m, SIP_HDR_USER_AGENT)->value);

	/* Unknown headers, in order, chained through SIP_HDR_OTHER. */
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_OTHER));
	h = sip_msg_hdr(m, SIP_HDR_OTHER);
	TEST_ASSERT(h);
	TEST_STR("X-Tenant-Id", h->name);
	TEST_STR("t-42", h->value);
	TEST_ASSERT(h->p.any == NULL);
	h = sip_hdr_next(m, h);
	TEST_ASSERT(h);
	TEST_STR("X-Trace", h->name);
	TEST_STR("a1", h->value);
	TEST_ASSERT(!sip_hdr_next(m, h));

	TEST_STR("application/sdp", m->content_type);
	TEST_ASSERT(m->has_content_length);
	TEST_EQUALS(m->body.len, m->content_length);
	TEST_EQUALS(m->len, m->body_off + m->body.len);
	TEST_ASSERT(m->body.len > 0);
	TEST_ASSERT(!memcmp(m->body.p, "v=0\r\no=alice ", 13));
	TEST_ASSERT(!memcmp(m->body.p + m->body.len - 22, "a=rtpmap:0 PCMU/8000\r\n", 22));

	TEST_EQUALS(19, m->nlines);
	TEST_EQUALS(21, m->nhdrs); /* token lists are one header a line */
	TEST_ASSERT(!m->has_expires);
out:
	return err;
}

static int chk_by_name(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	h = sip_msg_hdr_by_name(m, &STR("X-Tenant-Id"));
	TEST_ASSERT(h);
	TEST_STR("t-42", h->value);
	TEST_EQUALS(SIP_HDR_OTHER, h->id);
	TEST_ASSERT(h == sip_msg_hdr_by_name(m, &STR("x-tenant-ID")));
	TEST_ASSERT(!sip_msg_hdr_by_name(m, &STR("X-Tenant")));
	TEST_ASSERT(!sip_msg_hdr_by_name(m, &STR("X-Tenant-Id-2")));
	TEST_ASSERT(!sip_msg_hdr_by_name(m, &STR("X-Absent")));
	/* Known names, long and compact, find the first value. */
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("Via")) == sip_msg_hdr(m, SIP_HDR_VIA));
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("v")) == sip_msg_hdr(m, SIP_HDR_VIA));
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("RECORD-ROUTE")) == NULL);
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("user-agent")) ==
		    sip_msg_hdr(m, SIP_HDR_USER_AGENT));
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("l")) == sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH));
out:
	return err;
}

static int chk_register(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	const struct sip_addr *c;
	const struct sip_auth *au;
	int err = 0;

	TEST_EQUALS(SIP_METHOD_REGISTER, m->method);
	TEST_STR("registrar.biloxi.example.com", m->ruri.host);
	/* RFC 3581: a bare ;rport. */
	TEST_ASSERT(m->via->has_rport);
	TEST_EQUALS(0, m->via->rport);
	TEST_EQUALS(5060, m->via->port);
	TEST_STR("456248", m->from->tag);
	TEST_STR("Bob", m->from->display);
	TEST_EQUALS(1826, m->cseq.seq);
	TEST_EQUALS(SIP_METHOD_REGISTER, m->cseq.method);

	TEST_EQUALS(3, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	c = nth(m, SIP_HDR_CONTACT, 0)->p.addr;
	TEST_STR("<sip:bob@192.0.2.4>;expires=3600;q=0.7", nth(m, SIP_HDR_CONTACT, 0)->value);
	TEST_ASSERT(c->name_addr && !c->star);
	TEST_STR("", c->display);
	TEST_STR("192.0.2.4", c->uri.host);
	TEST_EQUALS(SIP_HOST_IPV4, c->uri.host_type);
	TEST_STR(";expires=3600;q=0.7", c->params);
	TEST_ASSERT(c->has_expires);
	TEST_EQUALS(3600, c->expires);
	TEST_ASSERT(c->has_q);
	TEST_EQUALS(700, c->q);
	/* A comma inside a quoted display name does not split the list. */
	h = nth(m, SIP_HDR_CONTACT, 1);
	c = h->p.addr;
	TEST_STR("\"Mr. Watson, Esq.\" <sip:watson@bell-telephone.com>;q=1.0", h->value);
	TEST_STR("Mr. Watson, Esq.", c->display);
	TEST_STR("watson", c->uri.user);
	TEST_ASSERT(c->has_q);
	TEST_EQUALS(1000, c->q);
	TEST_ASSERT(!c->has_expires);
	TEST_EQUALS(nth(m, SIP_HDR_CONTACT, 0)->line, h->line);
	/* addr-spec form: the parameters are header parameters (RFC 3261 §20.10). */
	c = nth(m, SIP_HDR_CONTACT, 2)->p.addr;
	TEST_ASSERT(!c->name_addr);
	TEST_STR("sip:bob@198.51.100.7", c->uri.raw);
	TEST_STR("", c->uri.params);
	TEST_STR(";expires=60", c->params);
	TEST_ASSERT(c->has_expires);
	TEST_EQUALS(60, c->expires);
	TEST_ASSERT(!c->has_q);

	/* RFC 7616 / RFC 8760 credentials. */
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_AUTHORIZATION));
	au = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION)->p.auth;
	TEST_ASSERT(au);
	TEST_STR("Digest", au->scheme);
	TEST_STR("488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", au->username);
	TEST_STR("biloxi.example.com", au->realm);
	TEST_STR("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", au->nonce);
	TEST_STR("sip:registrar.biloxi.example.com", au->uri);
	TEST_STR("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", au->response);
	TEST_STR("SHA-256", au->algorithm);
	TEST_EQUALS(SIP_AUTH_ALG_SHA256, au->alg);
	TEST_STR("auth", au->qop);
	TEST_STR("00000001", au->nc);
	TEST_STR("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", au->cnonce);
	TEST_STR("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", au->opaque);
	TEST_ASSERT(au->userhash);
	TEST_STR("", au->stale);
	TEST_STR("", au->domain);

	TEST_ASSERT(m->has_expires);
	TEST_EQUALS(7200, m->expires);
	TEST_ASSERT(m->has_content_length);
	TEST_EQUALS(0, m->content_length);
	TEST_EQUALS(0, m->body.len);
	TEST_EQUALS(m->len, m->body_off);
out:
	return err;
}

static int chk_401(const struct sip_msg *m)
{
	const struct sip_auth *au;
	int err = 0;

	TEST_ASSERT(!m->is_request);
	TEST_EQUALS(401, m->status);
	TEST_STR("Unauthorized", m->reason);
	TEST_STR("SIP/2.0 401 Unauthorized", m->start_line);
	TEST_STR("192.0.2.4", m->via->received);
	TEST_ASSERT(m->via->has_rport);
	TEST_EQUALS(5062, m->via->rport);
	TEST_STR("2493k59kd", m->to->tag);
	TEST_EQUALS(SIP_METHOD_REGISTER, m->cseq.method);
	TEST_ASSERT(!m->has_max_forwards);

	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_WWW_AUTHENTICATE));
	au = nth(m, SIP_HDR_WWW_AUTHENTICATE, 0)->p.auth;
	TEST_STR("Digest", au->scheme);
	TEST_STR("biloxi.example.com", au->realm);
	TEST_STR("sip:ss1.example.com sip:ss2.example.com", au->domain);
	TEST_STR("auth,auth-int", au->qop);
	TEST_STR("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", au->nonce);
	TEST_STR("", au->opaque);
	TEST_STR("FALSE", au->stale);
	TEST_STR("SHA-256", au->algorithm);
	TEST_EQUALS(SIP_AUTH_ALG_SHA256, au->alg);
	TEST_ASSERT(au->userhash);
	TEST_STR("", au->username);
	au = nth(m, SIP_HDR_WWW_AUTHENTICATE, 1)->p.auth;
	TEST_STR("auth", au->qop);
	TEST_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093", au->nonce);
	TEST_STR("5ccc069c403ebaf9f0171e9517f40e41", au->opaque);
	TEST_STR("TRUE", au->stale);
	TEST_EQUALS(SIP_AUTH_ALG_MD5, au->alg);
	TEST_ASSERT(!au->userhash);
	TEST_EQUALS(0, m->body.len);
out:
	return err;
}

static int chk_compact(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	TEST_EQUALS(SIP_METHOD_OPTIONS, m->method);
	h = sip_msg_hdr(m, SIP_HDR_VIA);
	TEST_STR("v", h->name);
	TEST_STR("z9hG4bKhjhs8ass877", m->via->branch);
	TEST_STR("t", sip_msg_hdr(m, SIP_HDR_TO)->name);
	TEST_STR("chicago.example.com", m->to->uri.host);
	TEST_STR("f", sip_msg_hdr(m, SIP_HDR_FROM)->name);
	TEST_STR("Alice", m->from->display);
	TEST_STR("1928301774", m->from->tag);
	TEST_STR("i", sip_msg_hdr(m, SIP_HDR_CALL_ID)->name);
	TEST_STR("a84b4c76e66710", m->call_id);
	TEST_STR("m", sip_msg_hdr(m, SIP_HDR_CONTACT)->name);
	TEST_STR("pc33.atlanta.example.com", sip_msg_hdr(m, SIP_HDR_CONTACT)->p.addr->uri.host);
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_SUPPORTED));
	TEST_STR("k", sip_msg_hdr(m, SIP_HDR_SUPPORTED)->name);
	TEST_ASSERT(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "path"));
	TEST_ASSERT(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "gruu"));
	TEST_STR("s", sip_msg_hdr(m, SIP_HDR_SUBJECT)->name);
	TEST_STR("status check", sip_msg_hdr(m, SIP_HDR_SUBJECT)->value);
	TEST_STR("c", sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE)->name);
	TEST_STR("text/plain", m->content_type);
	TEST_STR("e", sip_msg_hdr(m, SIP_HDR_CONTENT_ENCODING)->name);
	TEST_STR("gzip", sip_msg_hdr(m, SIP_HDR_CONTENT_ENCODING)->value);
	TEST_STR("l", sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH)->name);
	TEST_EQUALS(7, m->content_length);
	TEST_STR("hello\r\n", m->body);
	/* Lookups by name accept either form. */
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("Call-ID")) == sip_msg_hdr(m, SIP_HDR_CALL_ID));
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("I")) == sip_msg_hdr(m, SIP_HDR_CALL_ID));
	TEST_ASSERT(sip_msg_hdr_by_name(m, &STR("content-type")) ==
		    sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE));
	TEST_EQUALS(0, sip_msg_hdr_count(m, SIP_HDR_OTHER));
out:
	return err;
}

/* RFC 4475 §3.1.1.1: legal but unusual whitespace, folding and case. */
static int chk_wsinv(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	const struct sip_addr *c;
	struct str val;
	int err = 0;

	TEST_STR("sip:vivekg@chair-dnrc.example.com;unknownparam", m->ruri.raw);
	TEST_STR(";unknownparam", m->ruri.params);
	TEST_STR("TO", sip_msg_hdr(m, SIP_HDR_TO)->name);
	TEST_ASSERT(!m->to->name_addr);
	TEST_STR("sip:vivekg@chair-dnrc.example.com", m->to->uri.raw);
	TEST_STR("1918181833n", m->to->tag);
	TEST_STR("from", sip_msg_hdr(m, SIP_HDR_FROM)->name);
	TEST_STR("J Rosenberg \\\\\\\"", m->from->display);
	TEST_STR("98asjd8", m->from->tag);
	TEST_STR("MaX-fOrWaRdS", sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS)->name);
	TEST_EQUALS(68, m->max_forwards);
	TEST_STR("wsinv.ndaksdj@192.0.2.1", m->call_id);
	TEST_EQUALS(9, m->cseq.seq);
	TEST_EQUALS(SIP_METHOD_INVITE, m->cseq.method);

	TEST_EQUALS(3, sip_msg_hdr_count(m, SIP_HDR_VIA));
	TEST_EQUALS(SIP_TRANSPORT_UDP, m->via->transport_id);
	TEST_STR("UDP", m->via->transport);
	TEST_STR("192.0.2.2", m->via->host);
	TEST_EQUALS(SIP_HOST_IPV4, m->via->host_type);
	TEST_STR("390skdjuw", m->via->branch);
	h = nth(m, SIP_HDR_VIA, 1);
	TEST_STR("v", h->name);
	TEST_EQUALS(SIP_TRANSPORT_TCP, h->p.via->transport_id);
	TEST_STR("spindle.example.com", h->p.via->host);
	TEST_STR("z9hG4bK9ikj8", h->p.via->branch);
	h = nth(m, SIP_HDR_VIA, 2);
	TEST_EQUALS(SIP_TRANSPORT_UDP, h->p.via->transport_id);
	TEST_STR("192.168.255.111", h->p.via->host);
	TEST_STR("z9hG4bK30239", h->p.via->branch);

	h = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	TEST_ASSERT(h);
	TEST_STR("s", h->name);
	TEST_STR("", h->value);
	h = sip_msg_hdr_by_name(m, &STR("NewFangledHeader"));
	TEST_ASSERT(h);
	TEST_STR("newfangled value\r\n continued newfangled value", h->value);
	/* An unknown header is one value, whatever commas it holds. */
	h = sip_msg_hdr_by_name(m, &STR("UnknownHeaderWithUnusualValue"));
	TEST_ASSERT(h);
	TEST_STR(";;,,;;,;", h->value);
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_OTHER));

	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_ROUTE));
	TEST_STR(";lr;unknownwith=value;unknown-no-value",
		 sip_msg_hdr(m, SIP_HDR_ROUTE)->p.addr->uri.params);

	c = sip_msg_hdr(m, SIP_HDR_CONTACT)->p.addr;
	TEST_STR("Quoted string \\\"\\\"", c->display);
	TEST_STR("sip:jdrosen@example.com", c->uri.raw);
	TEST_ASSERT(c->has_q);
	TEST_EQUALS(330, c->q);
	TEST_ASSERT(sip_param_get(&c->params, "newparam", &val));
	TEST_STR("newvalue", val);
	TEST_ASSERT(sip_param_get(&c->params, "secondparam", &val));
	TEST_STR("", val);

	TEST_STR("application/sdp", m->content_type);
	TEST_EQUALS(m->content_length, m->body.len);
	TEST_ASSERT(m->body.len > 0 && !memcmp(m->body.p, "v=0\r\n", 5));
out:
	return err;
}

static int chk_200(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	TEST_ASSERT(!m->is_request);
	TEST_EQUALS(200, m->status);
	TEST_STR("OK", m->reason);
	TEST_EQUALS(3, sip_msg_hdr_count(m, SIP_HDR_RECORD_ROUTE));
	TEST_STR("p2.example.com", nth(m, SIP_HDR_RECORD_ROUTE, 0)->p.addr->uri.host);
	TEST_STR("<sip:p2.example.com;lr>", nth(m, SIP_HDR_RECORD_ROUTE, 0)->value);
	TEST_STR("p1.example.com", nth(m, SIP_HDR_RECORD_ROUTE, 1)->p.addr->uri.host);
	h = nth(m, SIP_HDR_RECORD_ROUTE, 2);
	TEST_STR("2001:db8::1", h->p.addr->uri.host);
	TEST_EQUALS(SIP_HOST_IPV6, h->p.addr->uri.host_type);
	TEST_EQUALS(5070, h->p.addr->uri.port);
	TEST_STR(";lr;transport=tcp", h->p.addr->uri.params);
	TEST_STR("Alice", m->from->display);
	TEST_STR("8321234356", m->to->tag);
	TEST_EQUALS(SIP_METHOD_INVITE, m->cseq.method);
	TEST_EQUALS(m->content_length, m->body.len);
	TEST_ASSERT(m->body.len > 0);
out:
	return err;
}

/* RFC 5118 §4.3, §4.4, §4.5, §4.9, §4.10. */
static int chk_ipv6(const struct sip_msg *m)
{
	static const char *const chost[] = {"2001:db8:::192.0.2.1", "2001:db8::192.0.2.1",
					    "::ffff:192.0.2.2", "2001:db8::10"};
	const struct sip_via *v;
	int err = 0;

	TEST_STR("2001:db8::10:5070", m->ruri.host);
	TEST_EQUALS(SIP_HOST_IPV6, m->ruri.host_type);
	TEST_EQUALS(0, m->ruri.port);
	v = m->via;
	TEST_STR("2001:db8::9:1", v->host);
	TEST_EQUALS(SIP_HOST_IPV6, v->host_type);
	TEST_EQUALS(0, v->port);
	TEST_STR("2001:db8::9:255", v->received);
	v = nth(m, SIP_HDR_VIA, 1)->p.via;
	TEST_STR("2001:db8::9:2", v->host);
	TEST_EQUALS(5070, v->port);
	TEST_STR("2001:db8::9:256", v->received);
	TEST_EQUALS(5071, v->rport);
	v = nth(m, SIP_HDR_VIA, 2)->p.via;
	TEST_STR("::ffff:192.0.2.10", v->host);
	TEST_EQUALS(SIP_HOST_IPV6, v->host_type);
	TEST_EQUALS(19823, v->port);
	TEST_ASSERT(!m->from->name_addr);
	TEST_STR("81x2", m->from->tag);
	TEST_STR("2001:db8::10:5070", m->to->uri.host);
	TEST_EQUALS(0, m->to->uri.port);
	TEST_EQUALS(4, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	TEST_STR("Caller", sip_msg_hdr(m, SIP_HDR_CONTACT)->p.addr->display);
	for (unsigned k = 0; k < 4; k++) {
		const struct sip_addr *c = nth(m, SIP_HDR_CONTACT, k)->p.addr;

		TEST_STR(chost[k], c->uri.host);
		TEST_EQUALS(SIP_HOST_IPV6, c->uri.host_type);
		TEST_EQUALS(k == 3 ? 5070 : 0, c->uri.port);
	}
out:
	return err;
}

/* RFC 3261 §7.1: "The SIP-Version string is case-insensitive". */
static int chk_lower_version(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_METHOD_INVITE, m->method);
	TEST_STR("INVITE sip:bob@biloxi.example.com sip/2.0", m->start_line);
out:
	return err;
}

/* Reason-Phrase may be empty (RFC 3261 §25.1 Status-Line). */
static int chk_no_reason(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(!m->is_request);
	TEST_EQUALS(603, m->status);
	TEST_STR("", m->reason);
	TEST_STR("a6c85cf", m->to->tag);
out:
	return err;
}

static int chk_utf8_reason(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(486, m->status);
	TEST_STR("Besetzt \xe2\x80\x93 bitte sp\xc3\xa4ter \xe5\xbf\x99", m->reason);
out:
	return err;
}

static int chk_reason_spaces(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(180, m->status);
	TEST_STR("Ringing  twice\tnow", m->reason);
	TEST_ASSERT(m->is_request == false);
out:
	return err;
}

static int chk_status_699(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(699, m->status);
	TEST_STR("Whatever", m->reason);
out:
	return err;
}

static int chk_status_100(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(100, m->status);
	TEST_STR("Trying", m->reason);
	TEST_STR("", m->to->tag);
out:
	return err;
}

/* Method names are case-sensitive (RFC 3261 §7.1): "invite" is an extension. */
static int chk_ext_method(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_METHOD_OTHER, m->method);
	TEST_STR("invite", m->method_str);
	TEST_EQUALS(SIP_METHOD_OTHER, m->cseq.method);
	TEST_STR("invite", m->cseq.method_str);
out:
	return err;
}

static int chk_star(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	TEST_EQUALS(SIP_METHOD_REGISTER, m->method);
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	TEST_STR("*", h->value);
	TEST_ASSERT(h->p.addr && h->p.addr->star);
	TEST_ASSERT(m->has_expires);
	TEST_EQUALS(0, m->expires);
out:
	return err;
}

static int chk_cseq_max(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(4294967295u, m->cseq.seq);
	TEST_EQUALS(SIP_METHOD_INVITE, m->cseq.method);
out:
	return err;
}

/* RFC 3261 §16.6 step 3: a proxy adds Max-Forwards when absent, so accept it. */
static int chk_no_maxf(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(!m->has_max_forwards);
	TEST_EQUALS(0, sip_msg_hdr_count(m, SIP_HDR_MAX_FORWARDS));
out:
	return err;
}

static int chk_maxf0(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(m->has_max_forwards);
	TEST_EQUALS(0, m->max_forwards);
out:
	return err;
}

static int chk_cl_zeros(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(4, m->content_length);
	TEST_STR("abcd", m->body);
out:
	return err;
}

/* HCOLON = *( SP / HTAB ) ":" SWS; an empty Subject is TEXT-UTF8-TRIM optional. */
static int chk_hcolon(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_SUBJECT));
	h = nth(m, SIP_HDR_SUBJECT, 0);
	TEST_STR("Subject", h->name);
	TEST_STR("hi there", h->value);
	h = nth(m, SIP_HDR_SUBJECT, 1);
	TEST_STR("", h->value);
	h = sip_msg_hdr_by_name(m, &STR("X-Tab"));
	TEST_ASSERT(h);
	TEST_STR("X-Tab", h->name);
	TEST_STR("tabbed", h->value);
out:
	return err;
}

static int chk_addr_spec(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(!m->from->name_addr);
	TEST_STR("", m->from->display);
	TEST_STR("sip:alice@atlanta.example.com", m->from->uri.raw);
	TEST_STR("", m->from->uri.params);
	TEST_STR("88sja8x", m->from->tag);
	TEST_ASSERT(!m->to->name_addr);
	TEST_STR("sip:bob@biloxi.example.com", m->to->uri.raw);
	TEST_STR("", m->to->tag);
out:
	return err;
}

static int chk_display(const struct sip_msg *m)
{
	int err = 0;

	/* token display names: LWS before '<' is not part of them. */
	TEST_STR("Dr. Bob  Smith", m->to->display);
	TEST_STR(";transport=tcp", m->to->uri.params);
	TEST_STR("a6c85cf", m->to->tag);
	TEST_STR("", m->from->display);
	TEST_ASSERT(m->from->name_addr);
	TEST_STR("1928301774", m->from->tag);
out:
	return err;
}

static int chk_utf8_display(const struct sip_msg *m)
{
	int err = 0;

	TEST_STR("Zo\xc3\xab \xe5\xbc\xa0", m->from->display);
	TEST_EQUALS(SIP_URI_TEL, m->to->uri.scheme);
	TEST_STR("+15551234567", m->to->uri.user);
out:
	return err;
}

/* Supported = ("Supported" / "k") HCOLON [option-tag *(COMMA option-tag)]. */
static int chk_empty_list(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	/* An empty list is one header with an empty value, and no tokens. */
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_SUPPORTED));
	TEST_STR("", sip_msg_hdr(m, SIP_HDR_SUPPORTED)->value);
	TEST_ASSERT(!sip_msg_has_token(m, SIP_HDR_SUPPORTED, "timer"));
	TEST_EQUALS(8, m->nlines);
	TEST_EQUALS(1, m->lines[6].nhdrs);
	TEST_ASSERT(!memcmp(m->buf + m->lines[6].off, "Supported:\r\n", 12));
	h = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	TEST_EQUALS(7, h->line);
out:
	return err;
}

static int chk_clamp(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(m->has_expires);
	TEST_EQUALS(UINT32_MAX, m->expires);
	TEST_ASSERT(sip_msg_hdr(m, SIP_HDR_CONTACT)->p.addr->has_expires);
	TEST_EQUALS(UINT32_MAX, sip_msg_hdr(m, SIP_HDR_CONTACT)->p.addr->expires);
out:
	return err;
}

static int chk_qvalues(const struct sip_msg *m)
{
	static const uint16_t q[] = {0, 1, 500, 1000, 1000};
	int err = 0;

	TEST_EQUALS(5, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	for (unsigned k = 0; k < 5; k++) {
		const struct sip_addr *c = nth(m, SIP_HDR_CONTACT, k)->p.addr;

		TEST_ASSERT(c->has_q);
		TEST_EQUALS(q[k], c->q);
	}
out:
	return err;
}

static int chk_via_kinds(const struct sip_msg *m)
{
	static const enum sip_transport tr[] = {SIP_TRANSPORT_TLS, SIP_TRANSPORT_SCTP,
						SIP_TRANSPORT_WS, SIP_TRANSPORT_WSS,
						SIP_TRANSPORT_OTHER};
	const struct sip_via *v;
	int err = 0;

	TEST_EQUALS(7, sip_msg_hdr_count(m, SIP_HDR_VIA));
	for (unsigned k = 0; k < 5; k++)
		TEST_EQUALS(tr[k], nth(m, SIP_HDR_VIA, k)->p.via->transport_id);
	TEST_STR("FOO", nth(m, SIP_HDR_VIA, 4)->p.via->transport);
	TEST_STR("SIP / 2.0 / TLS", m->via->proto);
	TEST_STR("TLS", m->via->transport);
	TEST_STR("client.example.com", m->via->host);
	TEST_EQUALS(5061, m->via->port);
	/* Multicast: maddr and ttl (RFC 3261 §18.1.1). */
	v = nth(m, SIP_HDR_VIA, 5)->p.via;
	TEST_STR("224.2.0.1", v->maddr);
	TEST_ASSERT(v->has_ttl);
	TEST_EQUALS(16, v->ttl);
	TEST_STR("", v->branch);
	/* Parameter names are case-insensitive (RFC 3261 §7.3.1). */
	v = nth(m, SIP_HDR_VIA, 6)->p.via;
	TEST_STR("z9hG4bKcase", v->branch);
	TEST_ASSERT(v->has_rport);
	TEST_EQUALS(5090, v->rport);
	TEST_STR("198.51.100.1", v->received);
out:
	return err;
}

static int chk_proxy_auth(const struct sip_msg *m)
{
	const struct sip_auth *au;
	int err = 0;

	au = sip_msg_hdr(m, SIP_HDR_PROXY_AUTHORIZATION)->p.auth;
	TEST_ASSERT(au);
	TEST_STR("Digest", au->scheme);
	TEST_STR("alice", au->username);
	TEST_STR("atlanta.example.com", au->realm);
	TEST_STR("wf84f1ceczx41ae6cbe5aea9c8e88d359", au->nonce);
	TEST_STR("sip:bob@biloxi.example.com", au->uri);
	TEST_STR("42ce3cef44b22f50c6a6071bc8", au->response);
	TEST_EQUALS(SIP_AUTH_ALG_NONE, au->alg);
	TEST_STR("", au->algorithm);
	TEST_STR("", au->qop);
	TEST_ASSERT(!au->userhash);
	au = sip_msg_hdr(m, SIP_HDR_PROXY_AUTHENTICATE)->p.auth;
	TEST_ASSERT(au);
	TEST_STR("atlanta.example.com", au->realm);
	TEST_STR("auth-int", au->qop);
	TEST_EQUALS(SIP_AUTH_ALG_SHA512_256_SESS, au->alg);
	TEST_STR("true", au->stale);
	/* Authorization values are not split at the commas between parameters. */
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_PROXY_AUTHORIZATION));
	TEST_EQUALS(1, sip_msg_hdr_count(m, SIP_HDR_PROXY_AUTHENTICATE));
out:
	return err;
}

static int chk_other_scheme(const struct sip_msg *m)
{
	const struct sip_auth *au;
	int err = 0;

	au = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION)->p.auth;
	TEST_ASSERT(au);
	TEST_STR("NewScheme", au->scheme);
	TEST_STR("realm=\"x\", foo=bar", au->params);
	TEST_STR("x", au->realm);
out:
	return err;
}

static int chk_dgram_nocl(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(!m->has_content_length);
	TEST_STR("hello\r\nworld", m->body);
	TEST_EQUALS(m->body_off + 12, m->len);
out:
	return err;
}

static int chk_dgram_extra(const struct sip_msg *m)
{
	int err = 0;

	TEST_ASSERT(m->has_content_length);
	TEST_EQUALS(5, m->content_length);
	TEST_STR("hello", m->body);
	TEST_EQUALS(m->body_off + 5, m->len);
out:
	return err;
}

static int chk_dgram_cl0(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(0, m->content_length);
	TEST_EQUALS(0, m->body.len);
	TEST_EQUALS(m->body_off, m->len);
out:
	return err;
}

static int chk_body_crlf(const struct sip_msg *m)
{
	int err = 0;

	TEST_STR("a\r\n\r\nb\r\n", m->body);
	TEST_EQUALS(8, m->content_length);
out:
	return err;
}

static int chk_ruri_tel(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_URI_TEL, m->ruri.scheme);
	TEST_STR("+1-201-555-0123", m->ruri.user);
out:
	return err;
}

static int chk_ruri_urn(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_URI_OTHER, m->ruri.scheme);
	TEST_STR("urn:service:sos", m->ruri.raw);
	TEST_STR("urn", m->ruri.scheme_str);
out:
	return err;
}

static int chk_ruri_sips(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_URI_SIPS, m->ruri.scheme);
	TEST_STR("bob", m->ruri.user);
	TEST_STR("sips:bob@[2001:db8::10]:5070;transport=tcp", m->ruri.raw);
	TEST_STR("2001:db8::10", m->ruri.host);
	TEST_EQUALS(5070, m->ruri.port);
	TEST_STR(";transport=tcp", m->ruri.params);
	TEST_ASSERT(!m->ruri.has_headers);
out:
	return err;
}

static int chk_case_names(const struct sip_msg *m)
{
	int err = 0;

	TEST_STR("VIA", sip_msg_hdr(m, SIP_HDR_VIA)->name);
	TEST_STR("z9hG4bK776asdhds", m->via->branch);
	TEST_STR("fRoM", sip_msg_hdr(m, SIP_HDR_FROM)->name);
	TEST_STR("1928301774", m->from->tag);
	TEST_STR("call-id", sip_msg_hdr(m, SIP_HDR_CALL_ID)->name);
	TEST_EQUALS(314159, m->cseq.seq);
	TEST_EQUALS(70, m->max_forwards);
	TEST_EQUALS(3, m->content_length);
	TEST_STR("www-authenticate", sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE)->name);
	TEST_STR("RECORD-route", sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE)->name);
	TEST_STR("application/sdp", m->content_type);
out:
	return err;
}

static int chk_folded(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	int err = 0;

	TEST_STR("I know you're there,\r\n pick up the phone\r\n\tand talk to me!",
		 sip_msg_hdr(m, SIP_HDR_SUBJECT)->value);
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_VIA));
	TEST_STR("a.example.com", m->via->host);
	h = nth(m, SIP_HDR_VIA, 1);
	TEST_STR("b.example.com", h->p.via->host);
	TEST_STR("z9hG4bK2", h->p.via->branch);
	TEST_EQUALS(nth(m, SIP_HDR_VIA, 0)->line, h->line);
	TEST_STR("Alice", m->from->display);
	TEST_STR("1928301774", m->from->tag);
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_CONTACT));
	TEST_STR("c.example.com", nth(m, SIP_HDR_CONTACT, 1)->p.addr->uri.host);
	TEST_EQUALS(8, m->nlines); /* a folded field is one line */
out:
	return err;
}

static int chk_content_type_params(const struct sip_msg *m)
{
	int err = 0;

	TEST_STR("multipart/mixed;boundary=unique-boundary-1", m->content_type);
	TEST_STR("--unique-boundary-1--\r\n", m->body);
out:
	return err;
}

static int chk_refer_path(const struct sip_msg *m)
{
	int err = 0;

	TEST_EQUALS(SIP_METHOD_REFER, m->method);
	TEST_STR("sip:carol@chicago.example.com",
		 sip_msg_hdr(m, SIP_HDR_REFER_TO)->p.addr->uri.raw);
	TEST_STR("r", sip_msg_hdr(m, SIP_HDR_REFER_TO)->name);
	TEST_EQUALS(2, sip_msg_hdr_count(m, SIP_HDR_PATH));
	TEST_STR("pcscf.example.com", nth(m, SIP_HDR_PATH, 1)->p.addr->uri.host);
	TEST_STR("refer", sip_msg_hdr(m, SIP_HDR_EVENT)->value);
	TEST_STR("o", sip_msg_hdr(m, SIP_HDR_EVENT)->name);
out:
	return err;
}

static int chk_any(const struct sip_msg *m)
{
	(void)m;
	return 0;
}

#define GOOD(n, msg, flags, chk)              \
	{                                     \
		n, NULL, LIT(msg), flags, chk \
	}
#define GOODF(n, file, chk)              \
	{                                \
		n, file, NULL, 0, 0, chk \
	}

static const struct good_case good_cases[] = {
    GOODF("invite.sip", "invite.sip", chk_invite),
    GOODF("invite.sip by name", "invite.sip", chk_by_name),
    GOODF("register_auth.sip", "register_auth.sip", chk_register),
    GOODF("401.sip", "401.sip", chk_401),
    GOODF("compact.sip", "compact.sip", chk_compact),
    GOODF("wsinv.sip (RFC 4475 3.1.1.1)", "wsinv.sip", chk_wsinv),
    GOODF("200ok.sip", "200ok.sip", chk_200),
    GOODF("ipv6.sip (RFC 5118)", "ipv6.sip", chk_ipv6),
    GOOD("lowercase SIP-Version", MSG("INVITE sip:bob@biloxi.example.com sip/2.0", STD), 0,
	 chk_lower_version),
    GOOD("response without reason phrase", RESP("SIP/2.0 603 ", ""), 0, chk_no_reason),
    GOOD("response with UTF-8 reason",
	 RESP("SIP/2.0 486 Besetzt \xe2\x80\x93 bitte sp\xc3\xa4ter \xe5\xbf\x99", ""), 0,
	 chk_utf8_reason),
    GOOD("reason with SP and HTAB", RESP("SIP/2.0 180 Ringing  twice\tnow", ""), 0,
	 chk_reason_spaces),
    GOOD("status 699", RESP("SIP/2.0 699 Whatever", ""), 0, chk_status_699),
    GOOD("100 Trying without To tag",
	 "SIP/2.0 100 Trying" CRLF H_VIA H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF, 0, chk_status_100),
    GOOD("extension method is case-sensitive",
	 "invite sip:bob@biloxi.example.com SIP/2.0" CRLF H_VIA H_FROM H_TO H_CALLID
	 "CSeq: 1 invite" CRLF H_CL0 CRLF,
	 0, chk_ext_method),
    GOOD("Contact: * with Expires: 0",
	 "REGISTER sip:registrar.biloxi.example.com SIP/2.0" CRLF H_VIA H_FROM H_TO H_CALLID
	 "CSeq: 2 REGISTER" CRLF "Contact: *" CRLF "Expires: 0" CRLF H_CL0 CRLF,
	 0, chk_star),
    GOOD("CSeq 2^32-1", RLINE H_VIA H_FROM H_TO H_CALLID "CSeq: 4294967295 INVITE" CRLF H_CL0 CRLF,
	 0, chk_cseq_max),
    GOOD("CSeq with extra LWS",
	 RLINE H_VIA H_FROM H_TO H_CALLID "CSeq:   4294967295 \t INVITE  " CRLF H_CL0 CRLF, 0,
	 chk_cseq_max),
    GOOD("no Max-Forwards", RLINE H_VIA H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF, 0, chk_no_maxf),
    GOOD("Max-Forwards: 0",
	 RLINE H_VIA H_FROM H_TO H_CALLID H_CSEQ "Max-Forwards: 0" CRLF H_CL0 CRLF, 0, chk_maxf0),
    GOOD("Content-Length with leading zeros", RLINE STD "Content-Length: 0004" CRLF CRLF "abcd", 0,
	 chk_cl_zeros),
    GOOD("HCOLON whitespace and empty values",
	 INV("Subject  : hi there" CRLF "Subject:" CRLF "X-Tab\t:\ttabbed" CRLF), 0, chk_hcolon),
    GOOD("From/To addr-spec",
	 RLINE H_VIA "From: sip:alice@atlanta.example.com;tag=88sja8x" CRLF
		     "To: sip:bob@biloxi.example.com" CRLF H_CALLID H_CSEQ H_CL0 CRLF,
	 0, chk_addr_spec),
    GOOD("token display name and empty quoted one",
	 RLINE H_VIA
	 "From: \"\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	 "To: Dr. Bob  Smith   <sip:bob@biloxi.example.com;transport=tcp>;tag=a6c85cf" CRLF H_CALLID
	     H_CSEQ H_CL0 CRLF,
	 0, chk_display),
    GOOD("UTF-8 display name, tel To",
	 RLINE H_VIA "From: \"Zo\xc3\xab \xe5\xbc\xa0\" <sip:zoe@atlanta.example.com>;tag=9" CRLF
		     "To: <tel:+15551234567>" CRLF H_CALLID H_CSEQ H_CL0 CRLF,
	 0, chk_utf8_display),
    GOOD("empty Supported", INV("Supported:" CRLF), 0, chk_empty_list),
    GOOD("Expires and Contact expires clamp",
	 INV("Contact: <sip:alice@192.0.2.1>;expires=99999999999" CRLF "Expires: 4294967296" CRLF),
	 0, chk_clamp),
    GOOD("Contact q values",
	 INV("Contact: <sip:a@192.0.2.1>;q=0, <sip:b@192.0.2.1>;q=0.001, "
	     "<sip:c@192.0.2.1>;q=0.5" CRLF
	     "Contact: <sip:d@192.0.2.1>;q=1, <sip:e@192.0.2.1>;Q=1.000" CRLF),
	 0, chk_qvalues),
    GOOD(
	"Via transports, maddr, ttl, param case",
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
	"Via: SIP / 2.0 / TLS client.example.com:5061;branch=z9hG4bK1" CRLF
	"Via: SIP/2.0/SCTP s.example.com;branch=z9hG4bK2, SIP/2.0/WS w.invalid;branch=z9hG4bK3" CRLF
	"Via: SIP/2.0/WSS w.invalid;branch=z9hG4bK4" CRLF
	"Via: SIP/2.0/FOO f.example.com;branch=z9hG4bK5" CRLF
	"Via: SIP/2.0/UDP 224.2.0.1;maddr=224.2.0.1;ttl=16" CRLF
	"Via: SIP/2.0/UDP 198.51.100.1;BRANCH=z9hG4bKcase;RPort=5090;Received=198.51.100.1" CRLF
	    H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	0, chk_via_kinds),
    GOOD("Proxy-Authorization and Proxy-Authenticate",
	 INV("Proxy-Authorization: Digest username=\"alice\",realm=\"atlanta.example.com\" ,"
	     " nonce=\"wf84f1ceczx41ae6cbe5aea9c8e88d359\", uri=\"sip:bob@biloxi.example.com\","
	     " response=\"42ce3cef44b22f50c6a6071bc8\"" CRLF
	     "Proxy-Authenticate: Digest realm=\"atlanta.example.com\", qop=\"auth-int\","
	     " nonce=\"abc\", algorithm=SHA-512-256-sess, stale=true" CRLF),
	 0, chk_proxy_auth),
    GOOD("Authorization with another scheme",
	 INV("Authorization: NewScheme realm=\"x\", foo=bar" CRLF), 0, chk_other_scheme),
    GOOD("DGRAM: no Content-Length, body is the rest", RLINE STD CRLF "hello\r\nworld",
	 SIP_PARSE_DGRAM, chk_dgram_nocl),
    GOOD("DGRAM: bytes past Content-Length ignored",
	 RLINE STD "Content-Length: 5" CRLF CRLF "helloEXTRA\r\n", SIP_PARSE_DGRAM,
	 chk_dgram_extra),
    GOOD("DGRAM: Content-Length 0, trailing bytes ignored", RLINE STD H_CL0 CRLF "garbage\r\n\r\n",
	 SIP_PARSE_DGRAM, chk_dgram_cl0),
    GOOD("DGRAM: exact body", RLINE STD "Content-Length: 5" CRLF CRLF "hello", SIP_PARSE_DGRAM,
	 chk_dgram_extra),
    GOOD("body holding CRLFCRLF", RLINE STD "Content-Length: 8" CRLF CRLF "a\r\n\r\nb\r\n", 0,
	 chk_body_crlf),
    GOOD("tel Request-URI", MSG("INVITE tel:+1-201-555-0123 SIP/2.0", STD), 0, chk_ruri_tel),
    GOOD("urn Request-URI is kept opaque", MSG("INVITE urn:service:sos SIP/2.0", STD), 0,
	 chk_ruri_urn),
    GOOD("sips IPv6 Request-URI",
	 MSG("INVITE sips:bob@[2001:db8::10]:5070;transport=tcp SIP/2.0", STD), 0, chk_ruri_sips),
    GOOD("header names in any case",
	 RLINE "VIA: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF
	       "fRoM: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	       "tO: <sip:bob@biloxi.example.com>" CRLF "call-id: a84b4c76e66710" CRLF
	       "cseq: 314159 INVITE" CRLF "max-forwards: 70" CRLF
	       "www-authenticate: Digest realm=\"a\", nonce=\"b\"" CRLF
	       "RECORD-route: <sip:p1.example.com;lr>" CRLF "CONTENT-TYPE: application/sdp" CRLF
	       "content-length: 3" CRLF CRLF "v=0",
	 0, chk_case_names),
    GOOD("folded header lines",
	 RLINE "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,\r\n SIP/2.0/UDP b.example.com"
	       ";branch=z9hG4bK2" CRLF
	       "From: \"Alice\"\r\n <sip:alice@atlanta.example.com>\r\n ;tag=1928301774" CRLF H_TO
		   H_CALLID H_CSEQ
	       "Subject: I know you're there,\r\n pick up the phone\r\n\tand talk to me!" CRLF
	       "Contact: <sip:a@a.example.com>,\r\n\t<sip:c@c.example.com>" CRLF H_CL0 CRLF,
	 0, chk_folded),
    GOOD("Content-Type with parameters",
	 RLINE STD "Content-Type: multipart/mixed;boundary=unique-boundary-1" CRLF
		   "Content-Length: 23" CRLF CRLF "--unique-boundary-1--\r\n",
	 0, chk_content_type_params),
    GOOD("REFER with Refer-To, Path and Event",
	 "REFER sip:bob@biloxi.example.com SIP/2.0" CRLF H_VIA H_FROM H_TO H_CALLID
	 "CSeq: 5 REFER" CRLF "r: <sip:carol@chicago.example.com>" CRLF
	 "Path: <sip:p1.example.com;lr>, <sip:pcscf.example.com;lr>" CRLF
	 "o: refer" CRLF H_CL0 CRLF,
	 0, chk_refer_path),
    GOOD("ACK with CSeq ACK",
	 "ACK sip:bob@biloxi.example.com SIP/2.0" CRLF H_VIA H_FROM H_TO_TAG H_CALLID
	 "CSeq: 314159 ACK" CRLF H_CL0 CRLF,
	 0, chk_any),
    GOOD("response to BYE (any CSeq method)",
	 "SIP/2.0 200 OK" CRLF H_VIA H_FROM H_TO_TAG H_CALLID "CSeq: 2 BYE" CRLF H_CL0 CRLF, 0,
	 chk_any),
    GOOD("Via received IPv6 in brackets, rport first",
	 RLINE
	 "Via: SIP/2.0/UDP [2001:db8::1];rport;received=[2001:db8::2];branch=z9hG4bK1" CRLF H_FROM
	     H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	 0, chk_any),
};

static int run_good(const struct good_case *c)
{
	struct fx f;
	int err = 0;

	fx_init(&f);
	if (c->file)
		err = fx_parse_file(&f, c->file, c->flags);
	else
		err = fx_parse(&f, c->msg, c->len, c->flags, NULL);
	if (err) {
		if (!test_oom_mode())
			test_fail(__FILE__, __LINE__, "%s: parse: %d (%s) at %zu hdr \"%.*s\": %s",
				  c->name, err, err_str(err), f.pe.offset, STR_FMT(&f.pe.hdr),
				  f.pe.reason ? f.pe.reason : "(no reason)");
		goto out;
	}
	TEST_ASSERT(f.m);
	TEST_ASSERT(f.m->buf == f.buf);
	TEST_ERR(check_structure(f.m));
	err = c->check(f.m);
out:
	fx_reset(&f);
	return err;
}

TEST(test_sip_msg_good)
{
	int err = 0;

	for (size_t k = 0; k < sizeof(good_cases) / sizeof(good_cases[0]); k++) {
		int e = run_good(&good_cases[k]);

		if (e) {
			test_fail(__FILE__, __LINE__, "good case \"%s\" failed",
				  good_cases[k].name);
			err = e;
		}
	}
	return err;
}

/* Every known method parses to its enum, with CSeq naming it. */
TEST(test_sip_msg_methods)
{
	static const char *const names[] = {"INVITE",  "ACK",	"BYE",	   "CANCEL",  "REGISTER",
					    "OPTIONS", "INFO",	"PRACK",   "UPDATE",  "SUBSCRIBE",
					    "NOTIFY",  "REFER", "MESSAGE", "PUBLISH", "FOO-BAR.x!"};
	char msg[512];
	struct fx f;
	int err = 0;

	fx_init(&f);
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		enum sip_method want =
		    k + 1 < SIP_METHOD__COUNT ? (enum sip_method)(k + 1) : SIP_METHOD_OTHER;
		int n =
		    snprintf(msg, sizeof(msg),
			     "%s sip:bob@biloxi.example.com SIP/2.0\r\n" H_VIA H_FROM H_TO H_CALLID
			     "CSeq: 7 %s\r\n" H_MAXF H_CL0 CRLF,
			     names[k], names[k]);

		TEST_ERR(fx_parse(&f, msg, (size_t)n, 0, NULL));
		TEST_EQUALS(want, f.m->method);
		TEST_STR(names[k], f.m->method_str);
		TEST_EQUALS(want, f.m->cseq.method);
		TEST_EQUALS(want, sip_method_from_str(&f.m->method_str));
		if (want != SIP_METHOD_OTHER)
			TEST_ASSERT(!strcmp(names[k], sip_method_name(want)));
	}
	TEST_ASSERT(sip_method_name(SIP_METHOD_OTHER) == NULL);
	TEST_EQUALS(SIP_METHOD_OTHER, sip_method_from_str(&STR("Invite")));
	TEST_EQUALS(SIP_METHOD_OTHER, sip_method_from_str(&STR("")));
out:
	fx_reset(&f);
	return err;
}

TEST(test_sip_msg_names)
{
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} tab[] = {
	    {"i", SIP_HDR_CALL_ID},
	    {"m", SIP_HDR_CONTACT},
	    {"e", SIP_HDR_CONTENT_ENCODING},
	    {"l", SIP_HDR_CONTENT_LENGTH},
	    {"c", SIP_HDR_CONTENT_TYPE},
	    {"f", SIP_HDR_FROM},
	    {"s", SIP_HDR_SUBJECT},
	    {"k", SIP_HDR_SUPPORTED},
	    {"t", SIP_HDR_TO},
	    {"v", SIP_HDR_VIA},
	    {"r", SIP_HDR_REFER_TO},
	    {"o", SIP_HDR_EVENT},
	    {"V", SIP_HDR_VIA},
	    {"Call-ID", SIP_HDR_CALL_ID},
	    {"call-id", SIP_HDR_CALL_ID},
	    {"CSEQ", SIP_HDR_CSEQ},
	    {"Max-Forwards", SIP_HDR_MAX_FORWARDS},
	    {"record-route", SIP_HDR_RECORD_ROUTE},
	    {"WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE},
	    {"Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION},
	    {"X-Foo", SIP_HDR_OTHER},
	    {"Vi", SIP_HDR_OTHER},
	    {"x", SIP_HDR_OTHER},
	    {"", SIP_HDR_OTHER},
	};
	int err = 0;

	for (unsigned k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		struct str s = str_cstr(tab[k].name);

		if (sip_hdr_id_from_name(&s) != tab[k].id) {
			test_fail(__FILE__, __LINE__, "header name \"%s\"", tab[k].name);
			TEST_EQUALS(tab[k].id, sip_hdr_id_from_name(&s));
		}
	}
	TEST_ASSERT(!strcmp("Call-ID", sip_hdr_name(SIP_HDR_CALL_ID)));
	TEST_ASSERT(!strcmp("CSeq", sip_hdr_name(SIP_HDR_CSEQ)));
	TEST_ASSERT(!strcmp("Via", sip_hdr_name(SIP_HDR_VIA)));
	TEST_ASSERT(!strcmp("WWW-Authenticate", sip_hdr_name(SIP_HDR_WWW_AUTHENTICATE)));
	TEST_ASSERT(!strcmp("Record-Route", sip_hdr_name(SIP_HDR_RECORD_ROUTE)));
	TEST_ASSERT(!strcmp("Content-Length", sip_hdr_name(SIP_HDR_CONTENT_LENGTH)));
	TEST_ASSERT(sip_hdr_name(SIP_HDR_OTHER) == NULL);
	for (unsigned id = 1; id < SIP_HDR__COUNT; id++) {
		const char *n = sip_hdr_name(id);
		struct str s = str_cstr(n);

		TEST_ASSERT(n != NULL);
		TEST_EQUALS(id, sip_hdr_id_from_name(&s));
	}
	TEST_ASSERT(!strcmp("Trying", sip_reason_phrase(100)));
	TEST_ASSERT(!strcmp("Ringing", sip_reason_phrase(180)));
	TEST_ASSERT(!strcmp("OK", sip_reason_phrase(200)));
	TEST_ASSERT(!strcmp("Not Found", sip_reason_phrase(404)));
	TEST_ASSERT(!strcmp("Busy Here", sip_reason_phrase(486)));
	TEST_ASSERT(!strcmp("Decline", sip_reason_phrase(603)));
	TEST_ASSERT(!strcmp("Unknown", sip_reason_phrase(299)));
	TEST_ASSERT(!strcmp("Unknown", sip_reason_phrase(0)));
	TEST_ASSERT(sip_limits_default.max_msg == 65535);
	TEST_ASSERT(sip_limits_default.max_hdrs == 256);
	TEST_ASSERT(sip_limits_default.max_uri == 2048);
out:
	return err;
}

/* ---- malformed messages ------------------------------------------------ */

struct bad_case {
	const char *name;
	const char *msg;
	size_t len;
	unsigned flags;
	int err;
	const char *hdr; /* NULL: not checked; "": must be empty; else the name as written */
};

#define BAD(n, msg, err, hdr)            \
	{                                \
		n, LIT(msg), 0, err, hdr \
	}
#define BADD(n, msg, err, hdr)                         \
	{                                              \
		n, LIT(msg), SIP_PARSE_DGRAM, err, hdr \
	}
/* The same input in both modes. */
#define BAD2(n, msg, err, hdr) BAD(n, msg, err, hdr), BADD(n " (dgram)", msg, err, hdr)
/* An INVITE whose CSeq line is @cseq. */
#define INV_CSEQ(cseq)	       RLINE H_VIA H_FROM H_TO H_CALLID cseq CRLF H_MAXF H_CL0 CRLF

static const struct bad_case bad_cases[] = {
    /* Start lines: Method SP Request-URI SP SIP-Version CRLF (RFC 3261 §7.1, §25.1). */
    BAD2("request line without version", MSG("INVITE sip:bob@biloxi.example.com", STD), -EBADMSG,
	 ""),
    BAD("request line without URI", MSG("INVITE SIP/2.0", STD), -EBADMSG, ""),
    BAD("request line with method only", MSG("INVITE", STD), -EBADMSG, ""),
    BAD("empty start line", MSG("", STD), -EBADMSG, ""),
    BAD2("two spaces before URI", MSG("INVITE  sip:bob@biloxi.example.com SIP/2.0", STD), -EBADMSG,
	 ""),
    BAD("two spaces before version", MSG("INVITE sip:bob@biloxi.example.com  SIP/2.0", STD),
	-EBADMSG, ""),
    BAD2("space after version", MSG("INVITE sip:bob@biloxi.example.com SIP/2.0 ", STD), -EBADMSG,
	 ""),
    BAD("space before method", MSG(" INVITE sip:bob@biloxi.example.com SIP/2.0", STD), -EBADMSG,
	""),
    BAD("tab as separator", MSG("INVITE\tsip:bob@biloxi.example.com SIP/2.0", STD), -EBADMSG, ""),
    BAD("method not a token", MSG("INV@TE sip:bob@biloxi.example.com SIP/2.0", STD), -EBADMSG,
	NULL),
    BAD2("SIP/3.0 request (RFC 4475 3.1.2.16)",
	 MSG("INVITE sip:bob@biloxi.example.com SIP/3.0", STD), -EPROTONOSUPPORT, ""),
    BAD("SIP/3.0 response", RESP("SIP/3.0 200 OK", ""), -EPROTONOSUPPORT, ""),
    BAD("status code of 2 digits", RESP("SIP/2.0 20 OK", ""), -EBADMSG, ""),
    BAD("status code of 4 digits", RESP("SIP/2.0 2000 OK", ""), -EBADMSG, ""),
    BAD("status code 099", RESP("SIP/2.0 099 Low", ""), -EBADMSG, ""),
    BAD("status code 700", RESP("SIP/2.0 700 High", ""), -EBADMSG, ""),
    BAD("status code with a letter", RESP("SIP/2.0 2x0 OK", ""), -EBADMSG, ""),
    BAD("status line without code", RESP("SIP/2.0 OK", ""), -EBADMSG, ""),
    BAD("status line with two spaces", RESP("SIP/2.0  200 OK", ""), -EBADMSG, ""),
    BAD("control character in reason", RESP("SIP/2.0 200 O\x01K", ""), -EBADMSG, ""),
    /* Request-URI (RFC 3261 §19.1.1, §25.1; RFC 4475 3.1.2.11; RFC 5118 §4.2). */
    BAD("Request-URI in <>", MSG("INVITE <sip:bob@biloxi.example.com> SIP/2.0", STD), -EBADMSG, ""),
    BAD("Request-URI with headers",
	MSG("INVITE sip:bob@biloxi.example.com?Subject=hi SIP/2.0", STD), -EBADMSG, ""),
    BAD("Request-URI escape %G1", MSG("INVITE sip:b%G1ob@biloxi.example.com SIP/2.0", STD),
	-EBADMSG, ""),
    BAD("Request-URI trailing %", MSG("INVITE sip:bob@biloxi.example.com;x=1% SIP/2.0", STD),
	-EBADMSG, ""),
    BAD("Request-URI % before @", MSG("INVITE sip:bob%@biloxi.example.com SIP/2.0", STD), -EBADMSG,
	""),
    BAD("Request-URI IPv6 without brackets", MSG("INVITE sip:user@2001:db8::10 SIP/2.0", STD),
	-EBADMSG, ""),
    BAD("Request-URI port 65536", MSG("INVITE sip:bob@biloxi.example.com:65536 SIP/2.0", STD),
	-EBADMSG, ""),
    BAD("Request-URI port with letters", MSG("INVITE sip:bob@biloxi.example.com:50a0 SIP/2.0", STD),
	-EBADMSG, ""),
    BAD("Request-URI empty host", MSG("INVITE sip:bob@ SIP/2.0", STD), -EBADMSG, ""),
    BAD("Request-URI empty host with port", MSG("INVITE sip:bob@:5060 SIP/2.0", STD), -EBADMSG, ""),
    BAD("Request-URI scheme only", MSG("INVITE sip: SIP/2.0", STD), -EBADMSG, ""),
    BAD("Request-URI empty parameter", MSG("INVITE sip:bob@biloxi.example.com;;lr SIP/2.0", STD),
	-EBADMSG, ""),
    /* Mandatory headers (RFC 3261 §8.1.1). */
    BAD2("no Via", RLINE H_FROM H_TO H_CALLID H_CSEQ H_MAXF H_CL0 CRLF, -EBADMSG, NULL),
    BAD("no From", RLINE H_VIA H_TO H_CALLID H_CSEQ H_MAXF H_CL0 CRLF, -EBADMSG, NULL),
    BAD("no To", RLINE H_VIA H_FROM H_CALLID H_CSEQ H_MAXF H_CL0 CRLF, -EBADMSG, NULL),
    BAD("no Call-ID", RLINE H_VIA H_FROM H_TO H_CSEQ H_MAXF H_CL0 CRLF, -EBADMSG, NULL),
    BAD("no CSeq", RLINE H_VIA H_FROM H_TO H_CALLID H_MAXF H_CL0 CRLF, -EBADMSG, NULL),
    BAD("response without Via", "SIP/2.0 200 OK" CRLF H_FROM H_TO_TAG H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, NULL),
    BAD("response without CSeq", "SIP/2.0 200 OK" CRLF H_VIA H_FROM H_TO_TAG H_CALLID H_CL0 CRLF,
	-EBADMSG, NULL),
    /* message-header = field-name HCOLON value (RFC 3261 §7.3.1, §25.1). */
    BAD2("header without colon", INV("Subject hello" CRLF), -EBADMSG, NULL),
    BAD("header name with @", INV("X-Bad@Name: 1" CRLF), -EBADMSG, NULL),
    BAD("header name with space", INV("X Bad: 1" CRLF), -EBADMSG, NULL),
    BAD("header name with [", INV("X[1]: 1" CRLF), -EBADMSG, NULL),
    BAD("header name with a control character", INV("X-\x02: 1" CRLF), -EBADMSG, NULL),
    BAD("empty header name", INV(": value" CRLF), -EBADMSG, NULL),
    BAD("continuation line before any header", RLINE " X-Folded: 1" CRLF STD H_CL0 CRLF, -EBADMSG,
	NULL),
    /* Content-Length (RFC 3261 §18.3, §20.14). */
    BADD("Content-Length longer than the datagram", RLINE STD "Content-Length: 10" CRLF CRLF "abcd",
	 -EBADMSG, NULL),
    BAD("Content-Length longer than the body", RLINE STD "Content-Length: 10" CRLF CRLF "abcd",
	-EBADMSG, NULL),
    BAD("body longer than Content-Length", RLINE STD "Content-Length: 2" CRLF CRLF "abcd", -EBADMSG,
	NULL),
    BAD2("negative Content-Length", RLINE STD "Content-Length: -1" CRLF CRLF, -EBADMSG,
	 "Content-Length"),
    BAD2("non-numeric Content-Length", RLINE STD "Content-Length: four" CRLF CRLF "abcd", -EBADMSG,
	 "Content-Length"),
    BAD2("empty Content-Length", RLINE STD "Content-Length:" CRLF CRLF, -EBADMSG, "Content-Length"),
    BAD2("compact l with junk", RLINE STD "l: 4x" CRLF CRLF "abcd", -EBADMSG, "l"),
    BAD2("two different Content-Lengths",
	 RLINE STD "Content-Length: 4" CRLF "Content-Length: 5" CRLF CRLF "abcd", -EBADMSG,
	 "Content-Length"),
    BAD("Content-Length over 2^32", RLINE STD "Content-Length: 4294967300" CRLF CRLF "abcd",
	-EBADMSG, NULL),
    BAD("no Content-Length", RLINE STD CRLF, -EBADMSG, NULL),
    BAD("no Content-Length, with a body", RLINE STD CRLF "abcd", -EBADMSG, NULL),
    /* CSeq = "CSeq" HCOLON 1*DIGIT LWS Method (RFC 3261 §20.16, §8.1.1.5). */
    BAD2("CSeq 2^32", INV_CSEQ("CSeq: 4294967296 INVITE"), -EBADMSG, "CSeq"),
    BAD("CSeq much too large", INV_CSEQ("CSeq: 99999999999999999999 INVITE"), -EBADMSG, "CSeq"),
    BAD2("CSeq method differs from the request's", INV_CSEQ("CSeq: 314159 BYE"), -EBADMSG, "CSeq"),
    BAD("CSeq method differs in case", INV_CSEQ("CSeq: 314159 invite"), -EBADMSG, "CSeq"),
    BAD("CSeq without method", INV_CSEQ("CSeq: 314159"), -EBADMSG, "CSeq"),
    BAD("CSeq without number", INV_CSEQ("CSeq: INVITE"), -EBADMSG, "CSeq"),
    BAD("CSeq negative", INV_CSEQ("CSeq: -1 INVITE"), -EBADMSG, "CSeq"),
    BAD("CSeq without LWS", INV_CSEQ("CSeq: 1INVITE"), -EBADMSG, "CSeq"),
    BAD("two CSeq headers", INV("CSeq: 314160 INVITE" CRLF), -EBADMSG, "CSeq"),
    BAD("Max-Forwards not a number", INV("Max-Forwards: ten" CRLF), -EBADMSG, "Max-Forwards"),
    BAD("Expires not delta-seconds", INV("Expires: soon" CRLF), -EBADMSG, "Expires"),
    /* name-addr / addr-spec (RFC 3261 §20.10, §20.20, §20.39, §25.1). */
    BAD2("unterminated quoted display name",
	 RLINE H_VIA
	 "From: \"Alice <sip:alice@atlanta.example.com>;tag=1" CRLF H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	 -EBADMSG, "From"),
    BAD("unquoted display name with @",
	RLINE H_VIA "From: Alice@Home <sip:alice@atlanta.example.com>;tag=1" CRLF H_TO H_CALLID
	    H_CSEQ H_CL0 CRLF,
	-EBADMSG, "From"),
    BAD("space inside <> (RFC 4475 3.1.2.7)",
	RLINE H_VIA H_FROM "To: <sip:bob@ biloxi.example.com>" CRLF H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "To"),
    BAD("unterminated <",
	RLINE H_VIA H_FROM "To: Bob <sip:bob@biloxi.example.com" CRLF H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "To"),
    BAD("two values in To",
	RLINE H_VIA H_FROM
	"To: <sip:bob@biloxi.example.com>, <sip:carol@chicago.example.com>" CRLF H_CALLID H_CSEQ
	    H_CL0 CRLF,
	-EBADMSG, "To"),
    BAD("two From headers", INV("From: Eve <sip:eve@example.com>;tag=2" CRLF), -EBADMSG, "From"),
    BAD("bad escape in From URI",
	RLINE H_VIA
	"From: <sip:al%ZZice@atlanta.example.com>;tag=1" CRLF H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "From"),
    BAD("Call-ID with a space", RLINE H_VIA H_FROM H_TO "Call-ID: abc def" CRLF H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Call-ID"),
    BAD("empty Call-ID", RLINE H_VIA H_FROM H_TO "Call-ID:" CRLF H_CSEQ H_CL0 CRLF, -EBADMSG,
	"Call-ID"),
    BAD("two different Call-IDs", INV("Call-ID: other@example.com" CRLF), -EBADMSG, "Call-ID"),
    BAD("Route with a bare addr-spec", INV("Route: sip:p1.example.com;lr" CRLF), -EBADMSG, "Route"),
    BAD("Contact * with another value", INV("Contact: *, <sip:alice@192.0.2.1>" CRLF), -EBADMSG,
	"Contact"),
    BAD("Contact port 65536", INV("Contact: <sip:alice@192.0.2.1:65536>" CRLF), -EBADMSG,
	"Contact"),
    BAD("Contact with spaces inside <>", INV("Contact: < sip:alice@192.0.2.1 >" CRLF), -EBADMSG,
	"Contact"),
    /* Comma lists have no empty elements (RFC 3261 §7.3.1). */
    BAD2("empty element in Via",
	 RLINE "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,,SIP/2.0/UDP b.example.com"
	       ";branch=z9hG4bK2" CRLF H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	 -EBADMSG, "Via"),
    BAD("trailing comma in Via",
	RLINE "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ," CRLF H_FROM H_TO H_CALLID H_CSEQ
	    H_CL0 CRLF,
	-EBADMSG, "Via"),
    BAD("empty element in Contact", INV("Contact: <sip:a@192.0.2.1>, ,<sip:b@192.0.2.1>" CRLF),
	-EBADMSG, "Contact"),
    BAD("leading comma in Contact", INV("Contact: , <sip:a@192.0.2.1>" CRLF), -EBADMSG, "Contact"),
    BAD("empty element in Allow", INV("Allow: INVITE,,ACK" CRLF), -EBADMSG, "Allow"),
    /* Parameters are 1*char names (RFC 3261 §25.1 generic-param, via-params). */
    BAD2("empty Via parameter",
	 RLINE "Via: SIP/2.0/UDP a.example.com;;branch=z9hG4bK1" CRLF H_FROM H_TO H_CALLID H_CSEQ
	     H_CL0 CRLF,
	 -EBADMSG, "Via"),
    BAD("trailing ; in Via",
	RLINE "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;" CRLF H_FROM H_TO H_CALLID H_CSEQ
	    H_CL0 CRLF,
	-EBADMSG, "Via"),
    BAD("empty To parameter",
	RLINE H_VIA H_FROM
	"To: <sip:bob@biloxi.example.com>;;tag=1" CRLF H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "To"),
    BAD("empty Contact parameter", INV("Contact: <sip:a@192.0.2.1>;;expires=5" CRLF), -EBADMSG,
	"Contact"),
    /* Via = sent-protocol LWS sent-by *( SEMI via-params ) (RFC 3261 §20.42). */
    BAD("Via without sent-by", RLINE "Via: SIP/2.0/UDP" CRLF H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Via"),
    BAD("Via without transport",
	RLINE
	"Via: SIP/2.0 a.example.com;branch=z9hG4bK1" CRLF H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Via"),
    BAD("Via port 70000",
	RLINE "Via: SIP/2.0/UDP a.example.com:70000;branch=z9hG4bK1" CRLF H_FROM H_TO H_CALLID
	    H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Via"),
    BAD("Via IPv6 without brackets",
	RLINE
	"Via: SIP/2.0/UDP 2001:db8::1;branch=z9hG4bK1" CRLF H_FROM H_TO H_CALLID H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Via"),
    /* TEXT-UTF8char = %x21-7E / UTF8-NONASCII: no raw controls (RFC 3261 §25.1). */
    BAD2("control character in a value", INV("Subject: hello\x01world" CRLF), -EBADMSG, "Subject"),
    BAD("NUL in a value", INV("Subject: hello\0world" CRLF), -EBADMSG, "Subject"),
    BAD("DEL in an unknown header", INV("X-Custom: a\x7f" CRLF), -EBADMSG, "X-Custom"),
    BAD("ESC in Call-ID", RLINE H_VIA H_FROM H_TO "Call-ID: abc\x1b" CRLF H_CSEQ H_CL0 CRLF,
	-EBADMSG, "Call-ID"),
    BAD("bare CR in a value", INV("Subject: a\rb" CRLF), -EBADMSG, NULL),
    BAD("bare LF in a value", INV("Subject: a\nb" CRLF), -EBADMSG, NULL),
    /* Authentication headers (RFC 3261 §25.1 credentials / challenge, RFC 7616). */
    BAD("unterminated quote in Authorization",
	INV("Authorization: Digest username=\"bob, realm=\"a\"" CRLF), -EBADMSG, "Authorization"),
    BAD("empty Authorization", INV("Authorization:" CRLF), -EBADMSG, "Authorization"),
    BAD("WWW-Authenticate parameters without commas",
	RESP("SIP/2.0 401 Unauthorized", "WWW-Authenticate: Digest realm=\"a\" nonce=\"b\"" CRLF),
	-EBADMSG, "WWW-Authenticate"),
    BAD("Content-Type without subtype", INV("Content-Type: application" CRLF), -EBADMSG,
	"Content-Type"),
    /* The header section ends with an empty line (RFC 3261 §7). */
    BAD2("no empty line after the headers", RLINE STD H_CL0, -EBADMSG, NULL),
    BAD2("start line only, no CRLF", "INVITE sip:bob@biloxi.example.com SIP/2.0", -EBADMSG, NULL),
    BAD2("start line only", RLINE, -EBADMSG, NULL),
    BAD2("start line and empty line", RLINE CRLF, -EBADMSG, NULL),
    BAD2("empty input", "", -EBADMSG, NULL),
    BAD2("CRLF only", CRLF, -EBADMSG, NULL),
    BAD("binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", -EBADMSG, NULL),
};

static int run_bad(const struct bad_case *c)
{
	struct fx f;
	int err = 0, r;

	fx_init(&f);
	r = fx_parse(&f, c->msg, c->len, c->flags, NULL);
	if (r != c->err) {
		if (!test_oom_mode())
			test_fail(__FILE__, __LINE__, "%s: expected %d (%s), got %d (%s)", c->name,
				  c->err, err_str(c->err), r, r ? err_str(r) : "parsed");
		err = -EINVAL;
		goto out;
	}
	/* Out-parameters are written only on success. */
	TEST_ASSERT(f.m == NULL);
	TEST_ASSERT(f.pe.reason != NULL && f.pe.reason[0] != '\0');
	TEST_ASSERT(f.pe.offset <= c->len);
	if (c->hdr && !str_ieq_cstr(&f.pe.hdr, c->hdr)) {
		test_fail(__FILE__, __LINE__, "%s: perr.hdr \"%.*s\", expected \"%s\" (%s)",
			  c->name, STR_FMT(&f.pe.hdr), c->hdr, f.pe.reason);
		err = -EINVAL;
	}
	/* A header that is present is named as written: a view into the message. */
	if (c->hdr && c->hdr[0])
		TEST_ASSERT(f.pe.hdr.p >= f.buf && f.pe.hdr.p + f.pe.hdr.len <= f.buf + f.len);
out:
	fx_reset(&f);
	return err;
}

TEST(test_sip_msg_bad)
{
	int err = 0;

	for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
		int e = run_bad(&bad_cases[k]);

		if (e) {
			test_fail(__FILE__, __LINE__, "bad case \"%s\" failed", bad_cases[k].name);
			err = e;
		}
	}
	return err;
}

/* perr.offset points into the offending line; perr may be NULL. */
TEST(test_sip_msg_perr_offset)
{
	static const char msg[] = INV("Subject: ok" CRLF "Max-Forwards: ten" CRLF);
	const char *line = strstr(msg, "Max-Forwards: ten");
	struct fx f;
	struct sip_msg *m = NULL;
	int err = 0;

	fx_init(&f);
	TEST_EQUALS(-EBADMSG, fx_parse(&f, msg, sizeof(msg) - 1, 0, NULL));
	TEST_ASSERT(f.pe.offset >= (size_t)(line - msg));
	TEST_ASSERT(f.pe.offset <= (size_t)(line - msg) + strlen("Max-Forwards: ten"));
	TEST_STR("Max-Forwards", f.pe.hdr);
	/* Start-line errors point into the start line. */
	TEST_EQUALS(-EBADMSG, fx_parse(&f, LIT(RESP("SIP/2.0 20 OK", "")), 0, NULL));
	TEST_ASSERT(f.pe.offset < strlen("SIP/2.0 20 OK") + 2);
	TEST_EQUALS(0, f.pe.hdr.len);
	/* No perr, default limits. */
	TEST_EQUALS(-EBADMSG, sip_msg_parse(&m, &f.a, msg, sizeof(msg) - 1, 0, NULL, NULL));
	TEST_ASSERT(m == NULL);
out:
	fx_reset(&f);
	return err;
}

/* RFC 3261 §18.3: without the flag a buffer must hold exactly one framed message. */
TEST(test_sip_msg_dgram_flag)
{
	static const char nocl[] = RLINE STD CRLF "hello";
	static const char extra[] = RLINE STD "Content-Length: 2" CRLF CRLF "hello";
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse(&f, LIT(nocl), SIP_PARSE_DGRAM, NULL));
	TEST_STR("hello", f.m->body);
	TEST_EQUALS(-EBADMSG, fx_parse(&f, LIT(nocl), 0, NULL));
	TEST_ERR(fx_parse(&f, LIT(extra), SIP_PARSE_DGRAM, NULL));
	TEST_STR("he", f.m->body);
	TEST_EQUALS(sizeof(extra) - 1 - 3, f.m->len);
	TEST_EQUALS(-EBADMSG, fx_parse(&f, LIT(extra), 0, NULL));
out:
	fx_reset(&f);
	return err;
}

/* ---- limits ------------------------------------------------------------ */

TEST(test_sip_msg_limit_msg)
{
	struct sip_limits lim = sip_limits_default;
	struct fx f;
	int err = 0;
	size_t len;

	fx_init(&f);
	TEST_ERR(fx_parse_file(&f, "invite.sip", 0));
	len = f.len;
	lim.max_msg = len;
	TEST_ERR(sip_msg_parse(&f.m, &f.a, f.buf, f.len, 0, &lim, &f.pe));
	arena_reset(&f.a);
	f.m = NULL;
	lim.max_msg = len - 1;
	TEST_EQUALS(-EMSGSIZE, sip_msg_parse(&f.m, &f.a, f.buf, f.len, 0, &lim, &f.pe));
	TEST_ASSERT(f.pe.reason && f.pe.reason[0]);
	TEST_ASSERT(f.m == NULL);
	/* The limit holds in datagram mode too, before anything else is checked. */
	lim.max_msg = 100;
	TEST_EQUALS(-EMSGSIZE,
		    sip_msg_parse(&f.m, &f.a, f.buf, f.len, SIP_PARSE_DGRAM, &lim, &f.pe));
out:
	fx_reset(&f);
	return err;
}

TEST(test_sip_msg_limit_hdrs)
{
	struct sip_limits lim = sip_limits_default;
	struct fx f;
	uint32_t n;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse_file(&f, "invite.sip", 0));
	n = f.m->nhdrs;
	arena_reset(&f.a);
	lim.max_hdrs = n;
	TEST_ERR(sip_msg_parse(&f.m, &f.a, f.buf, f.len, 0, &lim, &f.pe));
	arena_reset(&f.a);
	f.m = NULL;
	lim.max_hdrs = n - 1;
	TEST_EQUALS(-EMSGSIZE, sip_msg_parse(&f.m, &f.a, f.buf, f.len, 0, &lim, &f.pe));
	TEST_ASSERT(f.pe.reason && f.pe.reason[0]);
out:
	fx_reset(&f);
	return err;
}

/* 300 header values with the default limit of 256. */
TEST(test_sip_msg_limit_hdrs_default)
{
	static const char head[] = RLINE STD;
	static const char tail[] = H_CL0 CRLF;
	char *buf = NULL;
	size_t len = 0;
	struct fx f;
	int err = 0;

	fx_init(&f);
	buf = mem_alloc(sizeof(head) + 300 * 16 + sizeof(tail));
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(buf, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (int k = 0; k < 300; k++)
		len += (size_t)sprintf(buf + len, "X-H%03d: v\r\n", k);
	memcpy(buf + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, buf, len, 0, NULL));
	/* One line of many address values counts each value. */
	len = sizeof(head) - 1;
	len += (size_t)sprintf(buf + len, "Route: <sip:a;lr>");
	for (int k = 0; k < 300; k++)
		len += (size_t)sprintf(buf + len, ",<sip:b%d;lr>", k);
	len += (size_t)sprintf(buf + len, "\r\n");
	memcpy(buf + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, buf, len, 0, NULL));
out:
	fx_reset(&f);
	mem_free(buf);
	return err;
}

TEST(test_sip_msg_limit_uri)
{
	static const char msg[] =
	    "INVITE sip:a-rather-long-user-name-for-the-limit@biloxi.example.com SIP/2.0" CRLF STD
		H_CL0 CRLF;
	static const char contact[] = INV("Contact: <sip:a-rather-long-user-name-for-the-"
					  "limit-too@client.example.com>" CRLF);
	struct sip_limits lim = sip_limits_default;
	size_t ulen = strlen("sip:a-rather-long-user-name-for-the-limit@biloxi.example.com");
	struct fx f;
	int err = 0;

	fx_init(&f);
	lim.max_uri = ulen;
	TEST_ERR(fx_parse(&f, LIT(msg), 0, &lim));
	lim.max_uri = ulen - 1;
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, LIT(msg), 0, &lim));
	TEST_EQUALS(0, f.pe.hdr.len);
	lim.max_uri = 40;
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, LIT(contact), 0, &lim));
	TEST_STR("Contact", f.pe.hdr);
out:
	fx_reset(&f);
	return err;
}

/* A body that takes the message past the default 65535 bytes. */
TEST(test_sip_msg_limit_body_default)
{
	static const char head[] = RLINE STD "Content-Length: 70000" CRLF CRLF;
	size_t len = sizeof(head) - 1 + 70000;
	char *buf = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	buf = mem_alloc(len);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', 70000);
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, buf, len, 0, NULL));
	TEST_EQUALS(-EMSGSIZE, fx_parse(&f, buf, len, SIP_PARSE_DGRAM, NULL));
out:
	fx_reset(&f);
	mem_free(buf);
	return err;
}

/* ---- truncation --------------------------------------------------------- */

/*
 * Every strict prefix of a good INVITE is an error in both modes (it has a
 * Content-Length, so even a datagram cut in the body is short). Each prefix
 * sits at the very end of a heap block so an over-read trips ASan.
 */
TEST(test_sip_msg_truncated)
{
	static const char *const files[] = {"invite.sip", "wsinv.sip", "401.sip"};
	char *full = NULL, *buf = NULL;
	size_t len = 0;
	struct sip_msg *m;
	struct sip_perr pe;
	_Alignas(16) char abuf[32768];
	struct arena a;
	int err = 0;

	arena_init(&a, abuf, sizeof(abuf), 0);
	for (unsigned k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		TEST_ERR(load_file(files[k], &full, &len));
		buf = mem_alloc(len);
		if (!buf) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < len; i++) {
			for (unsigned flags = 0; flags <= SIP_PARSE_DGRAM;
			     flags += SIP_PARSE_DGRAM) {
				int r;

				memcpy(buf + len - i, full, i);
				m = NULL;
				r = sip_msg_parse(&m, &a, buf + len - i, i, flags, NULL, &pe);
				arena_reset(&a);
				if (r == 0 || m != NULL) {
					test_fail(__FILE__, __LINE__,
						  "%s: prefix of %zu bytes (flags %u) parsed",
						  files[k], i, flags);
					err = -EINVAL;
					goto out;
				}
				if (r != -ENOMEM)
					TEST_ASSERT(r == -EBADMSG || r == -EPROTONOSUPPORT);
			}
		}
		memcpy(buf, full, len);
		TEST_ERR(sip_msg_parse(&m, &a, buf, len, 0, NULL, &pe));
		arena_reset(&a);
		mem_free(buf);
		mem_free(full);
		buf = full = NULL;
	}
out:
	arena_reset(&a);
	mem_free(buf);
	mem_free(full);
	return err;
}

/* Flipping any byte of a good message must never crash or over-read. */
TEST(test_sip_msg_mutated)
{
	static const unsigned char subst[] = {'\0', '\r', '\n', ' ',  ',',  ';', '"', '<',
					      '>',  ':',  '%',	'\\', 0xff, '[', ']', '\t'};
	char *full = NULL, *buf = NULL;
	size_t len = 0;
	struct sip_msg *m;
	_Alignas(16) char abuf[32768];
	struct arena a;
	int err = 0;

	arena_init(&a, abuf, sizeof(abuf), 0);
	TEST_ERR(load_file("wsinv.sip", &full, &len));
	buf = mem_alloc(len);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		for (unsigned s = 0; s < sizeof(subst); s++) {
			memcpy(buf, full, len);
			buf[i] = (char)subst[s];
			m = NULL;
			(void)sip_msg_parse(&m, &a, buf, len, s & 1 ? SIP_PARSE_DGRAM : 0, NULL,
					    NULL);
			arena_reset(&a);
		}
	}
out:
	arena_reset(&a);
	mem_free(buf);
	mem_free(full);
	return err;
}
