/*
 * sip_uri: URI parsing (RFC 3261 §19.1 and §25.1, RFC 3966 tel) into views.
 *
 * The grammar decides where a URI ends only in context, so callers cut the
 * URI first (between < and >, up to ';' for an addr-spec, between the
 * spaces of a Request-Line) and hand over exactly its bytes.
 */
#include <errno.h>

#include "sip/sip_internal.h"

/*
 * *( chars of @cls / escaped ): NULL, or a reason. An empty span is an error
 * (@empty_why) unless @empty_why is NULL.
 */
static const char *span_escaped(struct lex *l, unsigned cls, struct str *out, const char *empty_why)
{
	const char *s = l->p;

	while (l->p < l->end) {
		if (*l->p == '%') {
			if (l->end - l->p < 3 || !cc_is(l->p[1], CC_HEX) || !cc_is(l->p[2], CC_HEX))
				return "bad escape in URI";
			l->p += 3;
		} else if (cc_is(*l->p, cls)) {
			l->p++;
		} else {
			break;
		}
	}
	*out = str_make(s, (size_t)(l->p - s));
	if (!out->len && empty_why)
		return empty_why;
	return NULL;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), no LWS inside a URI. */
static const char *uri_params(struct lex *l, struct str *params)
{
	const char *s = l->p;
	struct str t;
	const char *why;

	while (lex_is(l, ';')) {
		l->p++;
		why = span_escaped(l, CC_PARAM, &t, "empty URI parameter");
		if (why)
			return why;
		if (lex_is(l, '=')) {
			l->p++;
			why = span_escaped(l, CC_PARAM, &t, "empty URI parameter value");
			if (why)
				return why;
		}
	}
	*params = str_make(s, (size_t)(l->p - s));
	return NULL;
}

/* headers: hname "=" hvalue *( "&" hname "=" hvalue ). */
static const char *uri_headers(struct lex *l, struct str *headers)
{
	const char *s = l->p;
	struct str t;
	const char *why;

	for (;;) {
		why = span_escaped(l, CC_HNV, &t, "empty URI header name");
		if (why)
			return why;
		if (!lex_is(l, '='))
			return "URI header without '='";
		l->p++;
		why = span_escaped(l, CC_HNV, &t, NULL);
		if (why)
			return why;
		if (!lex_is(l, '&'))
			break;
		l->p++;
	}
	*headers = str_make(s, (size_t)(l->p - s));
	return NULL;
}

static const char *parse_sip(struct sip_uri *u, struct lex *l, enum sip_uri_ctx ctx)
{
	const char *at, *why;

	/* The first '@' ends the userinfo: no other part of a SIP URI may hold
	 * a raw '@', while the user part may hold ';', '?' and '/'. */
	at = find_byte(l->p, l->end, '@');
	if (at) {
		struct lex ui = {l->p, at};

		why = span_escaped(&ui, CC_USER, &u->user, "empty user in URI");
		if (why)
			return why;
		if (lex_is(&ui, ':')) {
			ui.p++;
			why = span_escaped(&ui, CC_PASS, &u->password, NULL);
			if (why)
				return why;
		}
		if (!lex_eof(&ui))
			return "bad character in URI user part";
		l->p = at + 1;
	}
	why = sip_host_parse(l, &u->host, &u->host_type);
	if (why)
		return why;
	if (lex_is(l, ':')) {
		l->p++;
		why = sip_port_parse(l, &u->port);
		if (why)
			return why;
	}
	why = uri_params(l, &u->params);
	if (why)
		return why;
	/* RFC 3261 §20: a URI with parameters must be in <>, or its ';' would
	 * start the header's own parameters. */
	if (u->params.len && ctx == SIP_URI_CTX_ADDR_SPEC)
		return "URI with parameters outside <>";
	if (lex_is(l, '?')) {
		/* RFC 3261 §19.1.1: headers are not allowed in a Request-URI, and a
		 * bare addr-spec cannot carry them (§20: such URIs need <>). */
		if (ctx != SIP_URI_CTX_NAME_ADDR)
			return ctx == SIP_URI_CTX_REQUEST ? "headers in Request-URI"
							  : "URI with headers outside <>";
		l->p++;
		u->has_headers = true;
		why = uri_headers(l, &u->headers);
		if (why)
			return why;
	}
	if (!lex_eof(l))
		return "bad character in URI";
	return NULL;
}

static const char *parse_tel(struct sip_uri *u, struct lex *l)
{
	const char *why;

	u->user = lex_span(l, CC_TEL);
	if (!u->user.len)
		return "empty telephone number";
	why = uri_params(l, &u->params);
	if (why)
		return why;
	/* RFC 3966 §3: a local number needs its phone-context. */
	if (u->user.p[0] != '+' && !sip_param_get(&u->params, "phone-context", NULL))
		return "local tel number without phone-context";
	if (!lex_eof(l))
		return "bad character in tel URI";
	return NULL;
}

const char *sip_uri_parse_in(struct sip_uri *u, struct str s, enum sip_uri_ctx ctx)
{
	struct lex l = lex_of(s);
	const char *r = NULL;
	struct str scheme;

	memset(u, 0, sizeof(*u));
	u->raw = s;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (lex_eof(&l) || !((*l.p | 0x20) >= 'a' && (*l.p | 0x20) <= 'z')) {
		return "URI without scheme";
	}
	while (l.p < l.end && (cc_is(*l.p, CC_HOST) || *l.p == '+'))
		l.p++;
	scheme = str_make(s.p, (size_t)(l.p - s.p));
	if (!lex_is(&l, ':')) {
		return "URI without scheme";
	}
	l.p++;
	u->scheme_str = scheme;
	if (lower_eq_lit(&scheme, "sip")) {
		u->scheme = SIP_URI_SIP;
		r = parse_sip(u, &l, ctx);
	} else if (lower_eq_lit(&scheme, "sips")) {
		u->scheme = SIP_URI_SIPS;
		r = parse_sip(u, &l, ctx);
	} else if (lower_eq_lit(&scheme, "tel")) {
		u->scheme = SIP_URI_TEL;
		r = parse_tel(u, &l);
	} else {
		/* An absolute URI of a scheme we do not route: opaque, but still
		 * without spaces, controls or the delimiters around URIs. */
		u->scheme = SIP_URI_OTHER;
		if (lex_eof(&l))
			r = "empty URI";
		for (; !r && l.p < l.end; l.p++) {
			unsigned char c = (unsigned char)*l.p;

			if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
				r = "bad character in URI";
		}
	}
	return r;
}

int sip_uri_parse(struct sip_uri *uri, struct str s, enum sip_uri_ctx ctx, const char **why)
{
	struct sip_uri u;
	const char *r = sip_uri_parse_in(&u, s, ctx);

	if (r) {
		if (why)
			*why = r;
		return -EBADMSG;
	}
	*uri = u;
	return 0;
}

bool sip_param_get(const struct str *params, const char *name, struct str *val)
{
	struct lex l = lex_of(*params);
	struct str want = str_cstr(name);

	for (;;) {
		struct str n, v = STR_NULL;

		if (!lex_sep(&l, ';'))
			return false;
		n = lex_span(&l, CC_TOKEN | CC_PARAM);
		/* URI params may be escaped; a name with '%' is compared raw. */
		while (lex_is(&l, '%') && l.end - l.p >= 3) {
			l.p += 3;
			lex_span(&l, CC_TOKEN | CC_PARAM);
			n.len = (size_t)(l.p - n.p);
		}
		if (!n.len)
			return false;
		if (lex_sep(&l, '=')) {
			if (lex_is(&l, '"')) {
				if (lex_quoted(&l, &v))
					return false;
			} else {
				const char *s = l.p;

				while (l.p < l.end && *l.p != ';' && !is_lws(*l.p))
					l.p++;
				v = str_make(s, (size_t)(l.p - s));
			}
		}
		if (str_ieq(&n, &want)) {
			if (val)
				*val = v;
			return true;
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int sip_uri_unescape(struct arena *a, const struct str *in, struct str *out)
{
	char *buf = arena_alloc(a, in->len + 1);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < in->len; i++) {
		if (in->p[i] == '%') {
			int hi, lo;

			if (in->len - i < 3)
				return -EBADMSG;
			hi = hexval(in->p[i + 1]);
			lo = hexval(in->p[i + 2]);
			if (hi < 0 || lo < 0)
				return -EBADMSG;
			buf[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			buf[n++] = in->p[i];
		}
	}
	buf[n] = '\0';
	*out = str_make(buf, n);
	return 0;
}
