/*
 * sip_auth: the four authentication headers (RFC 3261 §20.7, §20.27,
 * §20.28, §20.44, §25.1; RFC 7616 and RFC 8760 for the SHA-256 and
 * SHA-512/256 algorithms and userhash), and the Date check (§20.17).
 *
 *   credentials = auth-scheme LWS auth-param *( COMMA auth-param )
 *   auth-param  = auth-param-name EQUAL ( token / quoted-string )
 *
 * Values stay views (quotes removed, quoted-pairs kept); computing and
 * checking digests belongs to the registrar, not the parser.
 */
#include "sip/sip_internal.h"

static const struct {
	const char *name;
	enum sip_auth_alg alg;
} algs[] = {
    {"MD5", SIP_AUTH_ALG_MD5},
    {"MD5-sess", SIP_AUTH_ALG_MD5_SESS},
    {"SHA-256", SIP_AUTH_ALG_SHA256},
    {"SHA-256-sess", SIP_AUTH_ALG_SHA256_SESS},
    {"SHA-512-256", SIP_AUTH_ALG_SHA512_256},
    {"SHA-512-256-sess", SIP_AUTH_ALG_SHA512_256_SESS},
};

/* Length first, then one comparison: a REGISTER carries ten of these. */
static void auth_set(struct sip_auth *a, struct str name, struct str val)
{
	struct str *f = NULL;

	switch (name.len) {
	case 2:
		if (lower_eq_lit(&name, "nc"))
			f = &a->nc;
		break;
	case 3:
		if (lower_eq_lit(&name, "qop"))
			f = &a->qop;
		else if (lower_eq_lit(&name, "uri"))
			f = &a->uri;
		break;
	case 5:
		if (lower_eq_lit(&name, "realm"))
			f = &a->realm;
		else if (lower_eq_lit(&name, "nonce"))
			f = &a->nonce;
		else if (lower_eq_lit(&name, "stale"))
			f = &a->stale;
		break;
	case 6:
		if (lower_eq_lit(&name, "opaque"))
			f = &a->opaque;
		else if (lower_eq_lit(&name, "cnonce"))
			f = &a->cnonce;
		else if (lower_eq_lit(&name, "domain"))
			f = &a->domain;
		break;
	case 8:
		if (lower_eq_lit(&name, "username"))
			f = &a->username;
		else if (lower_eq_lit(&name, "response"))
			f = &a->response;
		else if (lower_eq_lit(&name, "userhash"))
			a->userhash = lower_eq_lit(&val, "true");
		break;
	case 9:
		if (lower_eq_lit(&name, "algorithm"))
			f = &a->algorithm;
		break;
	default:
		break;
	}
	if (f)
		*f = val;
}

const char *sip_auth_parse(struct sip_auth *out, struct str value, bool challenge)
{
	struct lex l = lex_of(value);
	struct sip_auth a;
	const char *why;

	(void)challenge; /* one grammar for both; the fields differ by use */
	memset(&a, 0, sizeof(a));
	a.scheme = lex_span(&l, CC_TOKEN);
	if (!a.scheme.len)
		return "missing auth scheme";
	if (!lex_sws(&l))
		return lex_eof(&l) ? "missing auth parameters" : "bad auth scheme";
	a.params = str_make(l.p, (size_t)(l.end - l.p));
	for (;;) {
		struct str name, val;

		name = lex_span(&l, CC_TOKEN);
		if (!name.len)
			return "bad auth parameter";
		if (!lex_sep(&l, '='))
			return "auth parameter without '='";
		if (lex_is(&l, '"')) {
			why = lex_quoted(&l, &val);
			if (why)
				return why;
		} else {
			val = lex_span(&l, CC_TOKEN);
			if (!val.len)
				return "empty auth parameter value";
		}
		auth_set(&a, name, val);
		if (lex_eof(&l))
			break;
		if (!lex_sep(&l, ','))
			return "bad character in auth header";
	}
	if (a.algorithm.len) {
		a.alg = SIP_AUTH_ALG_OTHER;
		for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
			if (a.algorithm.len == strlen(algs[i].name) &&
			    str_ieq_mem(a.algorithm.p, algs[i].name, a.algorithm.len)) {
				a.alg = algs[i].alg;
				break;
			}
		}
	}
	*out = a;
	return NULL;
}

static bool fixed_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!cc_is(p[i], CC_DIGIT))
			return false;
	}
	return true;
}

/*
 * rfc1123-date = wkday "," SP date1 SP time SP "GMT"
 * e.g. "Sat, 13 Nov 2010 23:29:00 GMT": exactly 29 octets. SIP allows only
 * GMT (RFC 3261 §20.17; RFC 4475 §3.1.2.12 rejects "EST").
 */
const char *sip_date_check(struct str v)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	bool ok = false;

	if (v.len != 29)
		return "bad Date";
	for (size_t i = 0; i < 7; i++)
		ok |= memcmp(v.p, days + 3 * i, 3) == 0;
	if (!ok || v.p[3] != ',' || v.p[4] != ' ' || v.p[7] != ' ' || v.p[11] != ' ' ||
	    v.p[16] != ' ' || v.p[19] != ':' || v.p[22] != ':' || v.p[25] != ' ')
		return "bad Date";
	ok = false;
	for (size_t i = 0; i < 12; i++)
		ok |= memcmp(v.p + 8, months + 3 * i, 3) == 0;
	if (!ok || !fixed_digits(v.p + 5, 2) || !fixed_digits(v.p + 12, 4) ||
	    !fixed_digits(v.p + 17, 2) || !fixed_digits(v.p + 20, 2) || !fixed_digits(v.p + 23, 2))
		return "bad Date";
	if (memcmp(v.p + 26, "GMT", 3) != 0)
		return "Date not in GMT";
	return NULL;
}
