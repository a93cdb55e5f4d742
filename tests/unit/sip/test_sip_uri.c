/*
 * Unit tests for sip_uri: SIP, SIPS, tel and opaque URIs (RFC 3261 §19.1,
 * §25.1; RFC 3966; RFC 5118 IPv6 references), parameter lookup and
 * unescaping. Table-driven; every input is parsed from a heap copy of exactly
 * its size so an over-read shows under AddressSanitizer. Not here: URIs inside
 * whole messages (test_sip_msg).
 */
#include "base/arena.h"
#include "base/mem.h"
#include "sip/sip_uri.h"
#include "test.h"

/* Parse @in from an exact-size heap copy; *@copy keeps the bytes for the views. */
static int parse_copy(struct sip_uri *uri, const char *in, enum sip_uri_ctx ctx, char **copy,
		      const char **why)
{
	size_t len = strlen(in);
	char *p = mem_alloc(len ? len : 1);

	*copy = p;
	if (!p)
		return -ENOMEM;
	memcpy(p, in, len);
	return sip_uri_parse(uri, str_make(p, len), ctx, why);
}

/* ---- well-formed URIs --------------------------------------------------- */

struct uri_case {
	const char *in;
	enum sip_uri_ctx ctx;
	enum sip_uri_scheme scheme;
	const char *scheme_str;
	const char *user, *password, *host;
	enum sip_host_type host_type;
	uint16_t port;
	const char *params, *headers;
	bool has_headers;
};

#define NA SIP_URI_CTX_NAME_ADDR
#define AS SIP_URI_CTX_ADDR_SPEC
#define RQ SIP_URI_CTX_REQUEST

static const struct uri_case good_uris[] = {
    /* RFC 3261 §19.1.3 examples. */
    {"sip:alice@atlanta.com", NA, SIP_URI_SIP, "sip", "alice", "", "atlanta.com", SIP_HOST_NAME, 0,
     "", "", false},
    {"sip:alice:secretword@atlanta.com;transport=tcp", NA, SIP_URI_SIP, "sip", "alice",
     "secretword", "atlanta.com", SIP_HOST_NAME, 0, ";transport=tcp", "", false},
    {"sips:alice@atlanta.com?subject=project%20x&priority=urgent", NA, SIP_URI_SIPS, "sips",
     "alice", "", "atlanta.com", SIP_HOST_NAME, 0, "", "subject=project%20x&priority=urgent", true},
    {"sip:+1-212-555-1212:1234@gateway.com;user=phone", NA, SIP_URI_SIP, "sip", "+1-212-555-1212",
     "1234", "gateway.com", SIP_HOST_NAME, 0, ";user=phone", "", false},
    {"sips:1212@gateway.com", NA, SIP_URI_SIPS, "sips", "1212", "", "gateway.com", SIP_HOST_NAME, 0,
     "", "", false},
    {"sip:alice@192.0.2.4", NA, SIP_URI_SIP, "sip", "alice", "", "192.0.2.4", SIP_HOST_IPV4, 0, "",
     "", false},
    {"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", NA, SIP_URI_SIP, "sip", "", "",
     "atlanta.com", SIP_HOST_NAME, 0, ";method=REGISTER", "to=alice%40atlanta.com", true},
    /* user-unreserved includes ';': this is a user, not a parameter. */
    {"sip:alice;day=tuesday@atlanta.com", NA, SIP_URI_SIP, "sip", "alice;day=tuesday", "",
     "atlanta.com", SIP_HOST_NAME, 0, "", "", false},
    {"sip:a-_.!~*'()&=+$,;?/b@x.example.com", NA, SIP_URI_SIP, "sip", "a-_.!~*'()&=+$,;?/b", "",
     "x.example.com", SIP_HOST_NAME, 0, "", "", false},
    {"sip:alice:p%40ss&=+$,@atlanta.com", NA, SIP_URI_SIP, "sip", "alice", "p%40ss&=+$,",
     "atlanta.com", SIP_HOST_NAME, 0, "", "", false},
    /* RFC 5118. */
    {"sip:[2001:db8::10]", NA, SIP_URI_SIP, "sip", "", "", "2001:db8::10", SIP_HOST_IPV6, 0, "", "",
     false},
    {"sip:[2001:db8::10:5070]", NA, SIP_URI_SIP, "sip", "", "", "2001:db8::10:5070", SIP_HOST_IPV6,
     0, "", "", false},
    {"sip:[2001:db8::10]:5070", NA, SIP_URI_SIP, "sip", "", "", "2001:db8::10", SIP_HOST_IPV6, 5070,
     "", "", false},
    {"sip:user@[2001:db8:::192.0.2.1]", NA, SIP_URI_SIP, "sip", "user", "", "2001:db8:::192.0.2.1",
     SIP_HOST_IPV6, 0, "", "", false},
    {"sip:user@[2001:db8::192.0.2.1]", NA, SIP_URI_SIP, "sip", "user", "", "2001:db8::192.0.2.1",
     SIP_HOST_IPV6, 0, "", "", false},
    {"sip:user@[::ffff:192.0.2.1]", NA, SIP_URI_SIP, "sip", "user", "", "::ffff:192.0.2.1",
     SIP_HOST_IPV6, 0, "", "", false},
    {"sips:user@[::1]:5061;transport=tls", RQ, SIP_URI_SIPS, "sips", "user", "", "::1",
     SIP_HOST_IPV6, 5061, ";transport=tls", "", false},
    {"sip:user@[FE80:0:0:0:0:0:0:1]", NA, SIP_URI_SIP, "sip", "user", "", "FE80:0:0:0:0:0:0:1",
     SIP_HOST_IPV6, 0, "", "", false},
    /* Scheme is case-insensitive (RFC 3261 §19.1.4); the views keep the case. */
    {"SIP:Bob@Example.COM:5060", NA, SIP_URI_SIP, "SIP", "Bob", "", "Example.COM", SIP_HOST_NAME,
     5060, "", "", false},
    {"Sips:bob@biloxi.example.com:65535", RQ, SIP_URI_SIPS, "Sips", "bob", "", "biloxi.example.com",
     SIP_HOST_NAME, 65535, "", "", false},
    {"sip:bob@biloxi.example.com:0", RQ, SIP_URI_SIP, "sip", "bob", "", "biloxi.example.com",
     SIP_HOST_NAME, 0, "", "", false},
    /* Escapes are validated but kept. */
    {"sip:%61lice@atlanta.com;x=%41", NA, SIP_URI_SIP, "sip", "%61lice", "", "atlanta.com",
     SIP_HOST_NAME, 0, ";x=%41", "", false},
    {"sip:alice@atlanta.com;maddr=239.255.255.1;ttl=15;lr", RQ, SIP_URI_SIP, "sip", "alice", "",
     "atlanta.com", SIP_HOST_NAME, 0, ";maddr=239.255.255.1;ttl=15;lr", "", false},
    {"sip:host-with-dash.example.com.", AS, SIP_URI_SIP, "sip", "", "",
     "host-with-dash.example.com.", SIP_HOST_NAME, 0, "", "", false},
    {"sip:bob@biloxi.example.com", AS, SIP_URI_SIP, "sip", "bob", "", "biloxi.example.com",
     SIP_HOST_NAME, 0, "", "", false},
    {"sip:alice@atlanta.com;lr;transport=udp", RQ, SIP_URI_SIP, "sip", "alice", "", "atlanta.com",
     SIP_HOST_NAME, 0, ";lr;transport=udp", "", false},
    /* RFC 3966 tel URIs: the number is the user part. */
    {"tel:+1-201-555-0123", NA, SIP_URI_TEL, "tel", "+1-201-555-0123", "", "", SIP_HOST_NAME, 0, "",
     "", false},
    {"tel:7042;phone-context=example.com", RQ, SIP_URI_TEL, "tel", "7042", "", "", SIP_HOST_NAME, 0,
     ";phone-context=example.com", "", false},
    {"tel:863-1234;phone-context=+1-914-555", AS, SIP_URI_TEL, "tel", "863-1234", "", "",
     SIP_HOST_NAME, 0, ";phone-context=+1-914-555", "", false},
    {"TEL:+15551234567;ext=22", NA, SIP_URI_TEL, "TEL", "+15551234567", "", "", SIP_HOST_NAME, 0,
     ";ext=22", "", false},
};

/* Other schemes are opaque (RFC 4475 §3.3.2): only scheme and raw are set. */
static const struct {
	const char *in;
	const char *scheme_str;
	enum sip_uri_ctx ctx;
} other_uris[] = {
    {"urn:service:sos", "urn", RQ},
    {"http://www.example.com/x?y=1", "http", NA},
    {"mailto:alice@example.com", "mailto", AS},
    {"im:alice@example.com", "im", NA},
    {"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "urn", NA},
};

static int check_uri(const struct uri_case *c)
{
	struct sip_uri uri;
	const char *why = NULL;
	char *copy = NULL;
	int err = 0, r;

	memset(&uri, 0, sizeof(uri));
	r = parse_copy(&uri, c->in, c->ctx, &copy, &why);
	if (r) {
		if (!test_oom_mode())
			test_fail(__FILE__, __LINE__, "%s: %d (%s)", c->in, r, why ? why : "?");
		err = r;
		goto out;
	}
	TEST_ASSERT(uri.raw.p == copy);
	TEST_EQUALS(strlen(c->in), uri.raw.len);
	TEST_EQUALS(c->scheme, uri.scheme);
	TEST_STR(c->scheme_str, uri.scheme_str);
	TEST_STR(c->user, uri.user);
	TEST_STR(c->password, uri.password);
	TEST_STR(c->host, uri.host);
	TEST_EQUALS(c->host_type, uri.host_type);
	TEST_EQUALS(c->port, uri.port);
	TEST_STR(c->params, uri.params);
	TEST_STR(c->headers, uri.headers);
	TEST_EQUALS(c->has_headers, uri.has_headers);
out:
	mem_free(copy);
	return err;
}

TEST(test_sip_uri_good)
{
	int err = 0;

	for (size_t k = 0; k < sizeof(good_uris) / sizeof(good_uris[0]); k++) {
		int e = check_uri(&good_uris[k]);

		if (e) {
			test_fail(__FILE__, __LINE__, "URI \"%s\" failed", good_uris[k].in);
			err = e;
		}
	}
	return err;
}

TEST(test_sip_uri_other_schemes)
{
	struct sip_uri uri;
	const char *why;
	char *copy = NULL;
	int err = 0;

	for (size_t k = 0; k < sizeof(other_uris) / sizeof(other_uris[0]); k++) {
		memset(&uri, 0, sizeof(uri));
		why = NULL;
		TEST_ERR(parse_copy(&uri, other_uris[k].in, other_uris[k].ctx, &copy, &why));
		TEST_EQUALS(SIP_URI_OTHER, uri.scheme);
		TEST_STR(other_uris[k].scheme_str, uri.scheme_str);
		TEST_STR(other_uris[k].in, uri.raw);
		mem_free(copy);
		copy = NULL;
	}
out:
	mem_free(copy);
	return err;
}

/* ---- malformed URIs ----------------------------------------------------- */

static const struct {
	const char *in;
	enum sip_uri_ctx ctx;
} bad_uris[] = {
    {"", NA},
    {"sip:", NA},
    {"sip", NA},
    {"sipatlanta.com", NA},
    {":alice@atlanta.com", NA},
    {"1sip:alice@atlanta.com", NA},
    {"sip:@atlanta.com", NA}, /* user = 1*(...) */
    {"sip:alice@", NA},	      /* empty host */
    {"sip:alice@:5060", NA},
    {"sip:alice@atlanta.com:", NA}, /* port = 1*DIGIT */
    {"sip:alice@atlanta.com:65536", NA},
    {"sip:alice@atlanta.com:99999999999", NA},
    {"sip:alice@atlanta.com:5x", NA},
    {"sip:alice@atlanta.com:-1", NA},
    {"sip:b%G1ob@atlanta.com", NA}, /* escaped = "%" HEXDIG HEXDIG */
    {"sip:bob%@atlanta.com", NA},
    {"sip:bob%4@atlanta.com", NA},
    {"sip:bob@atlanta.com;x=%", NA},
    {"sip:bob@atlanta.com;x=%4", RQ},
    {"sip:bob@atlanta.com?a=%zz", NA},
    {"sip:bob@atlanta.com?", NA}, /* hname = 1*(...) */
    {"sip:bob@atlanta.com?=x", NA},
    {"sip:bob:pa%Gss@atlanta.com", NA},
    {"sip:user@2001:db8::10", NA}, /* RFC 5118 §4.2 */
    {"sip:user@[2001:db8::10", NA},
    {"sip:user@2001:db8::10]", NA},
    {"sip:user@[2001:db8::10]x", NA},
    {"sip:user@[2001:db8::10]:", NA},
    {"sip:user@[]", NA},
    {"sip:user@[hello]", NA},
    {"sip:user@[2001:db8::10::1]", NA}, /* two "::" */
    {"sip:bob@atl anta.com", NA},
    {"sip:bob@host..example.com", NA}, /* empty domainlabel */
    {"sip:bob@exa<mple.com", NA},
    {"sip:bob@atlanta.com>", NA},
    {"<sip:bob@atlanta.com>", NA},
    {"sip:bob@atlanta.com;;lr", NA}, /* pname = 1*paramchar */
    {"sip:bob@atlanta.com;", NA},
    {"sip:bob@atlanta.com;=x", RQ},
    {"sip:bob@atlanta.com\x01", NA},
    {"sip:bob\x7f@atlanta.com", NA},
    {"sip:bob@atlanta.com?x=1", RQ}, /* headers: not in a Request-URI */
    {"sip:bob@atlanta.com?", RQ},
    {"sip:bob@atlanta.com;lr", AS}, /* bare in a header: params are the header's */
    {"sip:bob@atlanta.com?x=1", AS},
    {"sip:bob@atlanta.com,sip:carol@chicago.com", AS},
    {"tel:", NA},
    {"tel:+1-201-555-0123@example.com", NA},
    {"tel:7042", NA}, /* RFC 3966 §5.1.5: a local number needs phone-context */
    {"urn:", NA},     /* absoluteURI: scheme ":" 1*char */
    {"urn:a b", NA},
};

TEST(test_sip_uri_bad)
{
	struct sip_uri uri;
	const char *why;
	char *copy = NULL;
	int err = 0;

	for (size_t k = 0; k < sizeof(bad_uris) / sizeof(bad_uris[0]); k++) {
		int r;

		uri.raw = STR("sentinel");
		why = NULL;
		r = parse_copy(&uri, bad_uris[k].in, bad_uris[k].ctx, &copy, &why);
		mem_free(copy);
		copy = NULL;
		if (r == -ENOMEM && test_oom_mode())
			continue;
		if (r != -EBADMSG) {
			test_fail(__FILE__, __LINE__,
				  "URI \"%s\" (ctx %d): expected -EBADMSG, got %d", bad_uris[k].in,
				  bad_uris[k].ctx, r);
			err = -EINVAL;
			continue;
		}
		if (!why || !why[0]) {
			test_fail(__FILE__, __LINE__, "URI \"%s\": no reason", bad_uris[k].in);
			err = -EINVAL;
		}
		/* Written whole on success only. */
		if (!str_eq(&uri.raw, &STR("sentinel"))) {
			test_fail(__FILE__, __LINE__, "URI \"%s\": *uri written on failure",
				  bad_uris[k].in);
			err = -EINVAL;
		}
	}
	return err;
}

/* The view given may sit inside a larger buffer: parsing stops at its end. */
TEST(test_sip_uri_bounded)
{
	static const char text[] = "<sip:bob@biloxi.example.com:5060;lr>;tag=1";
	struct sip_uri uri;
	const char *why = NULL;
	int err = 0;

	TEST_ERR(sip_uri_parse(&uri, str_make(text + 1, 34), NA, &why));
	TEST_STR("sip:bob@biloxi.example.com:5060;lr", uri.raw);
	TEST_EQUALS(5060, uri.port);
	TEST_STR(";lr", uri.params);
	TEST_ERR(sip_uri_parse(&uri, str_make(text + 1, 29), NA, &why));
	TEST_EQUALS(50, uri.port);
	TEST_STR("", uri.params);
out:
	return err;
}

/* ---- sip_param_get ------------------------------------------------------ */

TEST(test_sip_param_get)
{
	static const struct {
		const char *params, *name;
		bool found;
		const char *val;
	} tab[] = {
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "lr", true, ""},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "LR", true, ""},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "transport", true, "tcp"},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "TransPort", true, "tcp"},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "ttl", true, "15"},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "maddr", true, "239.255.255.1"},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "tt", false, NULL},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "t", false, NULL},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "transportx", false, NULL},
	    {";transport=tcp;lr;ttl=15;maddr=239.255.255.1", "user", false, NULL},
	    {";transport=tcp;lr", "tcp", false, NULL}, /* a value is not a name */
	    {";a=lr;b", "lr", false, NULL},
	    {";a=lr;b", "b", true, ""},
	    {"", "lr", false, NULL},
	    {";tag=AbC", "tag", true, "AbC"}, /* values keep their case */
	    /* LWS around ';' and '=' (header parameters may be folded). */
	    {" ; transport = tcp ;\r\n lr ; x = 5", "transport", true, "tcp"},
	    {" ; transport = tcp ;\r\n lr ; x = 5", "lr", true, ""},
	    {" ; transport = tcp ;\r\n lr ; x = 5", "x", true, "5"},
	    {";expires=60 ;q=0.5", "expires", true, "60"},
	    /* Quoted values come without the quotes; ';' inside them is not a separator. */
	    {";x=\"a;y=2\";y=3", "x", true, "a;y=2"},
	    {";x=\"a;y=2\";y=3", "y", true, "3"},
	    {";x=\"a\\\"b\";z", "x", true, "a\\\"b"},
	    {";x=\"a\\\"b\";z", "z", true, ""},
	    {";x=\"\"", "x", true, ""},
	    {";received=[2001:db8::1];rport=5060", "received", true, "[2001:db8::1]"},
	    {";received=[2001:db8::1];rport=5060", "rport", true, "5060"},
	    {";branch=z9hG4bK1;branch=z9hG4bK2", "branch", true, "z9hG4bK1"}, /* the first */
	};
	int err = 0;

	for (size_t k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		struct str params = str_cstr(tab[k].params);
		struct str val = STR("untouched");
		bool found = sip_param_get(&params, tab[k].name, &val);

		if (found != tab[k].found ||
		    (found && !str_eq(&val, &(struct str){tab[k].val, strlen(tab[k].val)}))) {
			test_fail(__FILE__, __LINE__, "param \"%s\" in \"%s\": found %d \"%.*s\"",
				  tab[k].name, tab[k].params, found, STR_FMT(&val));
			err = -EINVAL;
		}
	}
	return err;
}

/* ---- sip_uri_unescape --------------------------------------------------- */

TEST(test_sip_uri_unescape)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"alice%40home", "alice@home"},
	    {"%41%62c", "Abc"},
	    {"%4a%4A", "JJ"},
	    {"", ""},
	    {"plain", "plain"},
	    {"project%20x", "project x"},
	    {"%e5%bc%a0", "\xe5\xbc\xa0"},
	    {"100%25", "100%"},
	};
	static const char *const bad[] = {"%G1", "abc%", "abc%4", "%%41", "%4g", "a%-1"};
	_Alignas(16) char abuf[1024];
	struct arena a;
	struct str out;
	int err = 0;

	arena_init(&a, abuf, sizeof(abuf), 0);
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		struct str in = str_cstr(good[k].in);

		out = STR_NULL;
		TEST_ERR(sip_uri_unescape(&a, &in, &out));
		TEST_STR(good[k].out, out);
		TEST_ASSERT(out.p && out.p[out.len] == '\0');
	}
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct str in = str_cstr(bad[k]);

		out = STR("untouched");
		TEST_EQUALS(-EBADMSG, sip_uri_unescape(&a, &in, &out));
		TEST_STR("untouched", out);
	}
	/* Arena exhausted: -ENOMEM, nothing written. */
	arena_reset(&a);
	arena_init(&a, NULL, 0, 4);
	out = STR("untouched");
	TEST_EQUALS(-ENOMEM, sip_uri_unescape(&a, &STR("abcdefgh%41"), &out));
	TEST_STR("untouched", out);
out:
	arena_reset(&a);
	return err;
}

/*
 * Regression (found by fuzz_sip_msg): the params of a non-SIP URI are an
 * empty view with a NULL pointer; looking into them computed NULL + 0.
 */
TEST(test_sip_param_get_null_view)
{
	struct sip_uri uri;
	struct str v = STR("unchanged");
	const char *why = NULL;
	int err = 0;

	TEST_ERR(sip_uri_parse(&uri, STR("urn:service:sos"), SIP_URI_CTX_NAME_ADDR, &why));
	TEST_EQUALS(SIP_URI_OTHER, uri.scheme);
	TEST_ASSERT(!sip_param_get(&uri.params, "lr", &v));
	TEST_ASSERT(!sip_param_get(&STR_NULL, "lr", &v));
	TEST_STR("unchanged", v);
out:
	return err;
}
