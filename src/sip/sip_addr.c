/*
 * sip_addr: From, To, Contact, Route, Record-Route, Path and Refer-To values
 * (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39, §25.1):
 *
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *
 * In the addr-spec form the URI ends at the first ';', which starts the
 * header's own parameters (RFC 3261 §20; RFC 4475 §3.3.12).
 */
#include <errno.h>

#include "sip/sip_internal.h"

/* q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static bool qvalue(struct str v, uint16_t *q)
{
	unsigned n = 0, scale = 1000;

	if (!v.len || (v.p[0] != '0' && v.p[0] != '1'))
		return false;
	n = (unsigned)(v.p[0] - '0') * 1000;
	if (v.len == 1)
		goto out;
	if (v.p[1] != '.' || v.len > 5)
		return false;
	for (size_t i = 2; i < v.len; i++) {
		if (!cc_is(v.p[i], CC_DIGIT))
			return false;
		scale /= 10;
		n += (unsigned)(v.p[i] - '0') * scale;
	}
	if (n > 1000)
		return false;
out:
	*q = (uint16_t)n;
	return true;
}

struct addr_ctx {
	struct sip_addr *a;
	enum sip_addr_kind kind;
};

static const char *addr_param(struct str name, struct str val, bool quoted, void *arg)
{
	struct addr_ctx *c = arg;
	struct sip_addr *a = c->a;

	if (lower_eq_lit(&name, "tag")) {
		if (!val.len || quoted)
			return "bad tag";
		a->tag = val;
	} else if (c->kind == SIP_ADDR_CONTACT && lower_eq_lit(&name, "expires")) {
		uint64_t n;
		int err = str_to_u64(&val, &n);

		/* RFC 3261 §20.19: an overflowing delta-seconds is just very long. */
		if (err == -ERANGE || (!err && n > UINT32_MAX))
			n = UINT32_MAX;
		else if (err || quoted)
			return "bad Contact expires";
		a->has_expires = true;
		a->expires = (uint32_t)n;
	} else if (c->kind == SIP_ADDR_CONTACT && lower_eq_lit(&name, "q")) {
		if (quoted || !qvalue(val, &a->q))
			return "bad Contact q";
		a->has_q = true;
	}
	return NULL;
}

/* display-name = *(token LWS) / quoted-string; returns true at a '<'. */
static bool token_display(struct lex *l, struct str *display)
{
	struct lex t = *l;
	const char *s = t.p, *e = t.p;

	for (;;) {
		struct str tok = lex_span(&t, CC_TOKEN);

		if (!tok.len)
			break;
		e = t.p;
		lex_sws(&t);
	}
	if (!lex_is(&t, '<'))
		return false;
	*display = str_make(s, (size_t)(e - s));
	*l = t;
	return true;
}

const char *sip_addr_parse(struct sip_addr *out, struct str value, enum sip_addr_kind kind,
			   size_t max_uri, bool *too_long)
{
	struct lex l = lex_of(value);
	struct addr_ctx ctx;
	struct sip_addr *a = out;
	struct str uri;
	const char *why = NULL;

	memset(a, 0, offsetof(struct sip_addr, uri));
	memset(&a->params, 0, sizeof(*a) - offsetof(struct sip_addr, params));
	*too_long = false;
	if (kind == SIP_ADDR_CONTACT && lex_is(&l, '*')) {
		l.p++;
		lex_sws(&l);
		if (!lex_eof(&l))
			return "bad Contact '*'";
		memset(&a->uri, 0, sizeof(a->uri));
		a->star = true;
		return NULL;
	}
	if (lex_is(&l, '"')) {
		why = lex_quoted(&l, &a->display);
		if (why)
			return why;
		lex_sws(&l);
		if (!lex_is(&l, '<'))
			return "expected '<' after display name";
	} else if (!lex_is(&l, '<') && !token_display(&l, &a->display)) {
		/* addr-spec: the URI runs to the first ';' or LWS. */
		const char *s = l.p;

		if (kind == SIP_ADDR_ROUTE)
			return "route must be in <>";
		while (l.p < l.end && *l.p != ';' && !is_lws(*l.p))
			l.p++;
		uri = str_make(s, (size_t)(l.p - s));
		/* A '<' before the parameters means a display name that is
		 * neither tokens nor quoted (RFC 4475 §3.1.2.15). */
		for (const char *q = s; q < l.end && *q != ';'; q++) {
			if (*q == '<')
				return "bad display name";
		}
		goto have_uri;
	}
	/* name-addr: LAQUOT addr-spec RAQUOT, nothing between the brackets and
	 * the URI (RFC 4475 §3.1.2.14). */
	a->name_addr = true;
	{
		const char *s = ++l.p, *gt = find_byte(s, l.end, '>');

		if (!gt)
			return "missing '>'";
		uri = str_make(s, (size_t)(gt - s));
		l.p = gt + 1;
		if (uri.len && (is_lws(uri.p[0]) || is_lws(uri.p[uri.len - 1])))
			return "space inside <>";
	}
have_uri:
	if (uri.len > max_uri) {
		*too_long = true;
		return "URI too long";
	}
	why = sip_uri_parse_in(&a->uri, uri,
			       a->name_addr ? SIP_URI_CTX_NAME_ADDR : SIP_URI_CTX_ADDR_SPEC);
	if (why)
		return why;
	ctx.a = a;
	ctx.kind = kind;
	why = sip_params_parse(&l, &a->params, addr_param, &ctx);
	if (why)
		return why;
	lex_sws(&l);
	if (!lex_eof(&l))
		return a->name_addr ? "bad character after '>'" : "bad character in address";
	return NULL;
}
