/*
 * sip_lex: the character-class table and the small lexing pieces shared by
 * every header parser (quoted strings, generic parameters, hosts, ports).
 */
#include <errno.h>

#include "sip/sip_internal.h"

/* Generated from the RFC 3261 §25.1 character sets; bits as in sip_internal.h. */
const uint16_t sip_cc[256] = {
    0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x4800, 0x1800, 0x1000,
    0x1000, 0x1800, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000,
    0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0x4800, 0x40bf, 0x0080, 0x4400,
    0x403c, 0x4081, 0x401c, 0x40bf, 0x44be, 0x44be, 0x44bf, 0x44bd, 0x400c, 0x44ff, 0x64ff, 0x40b4,
    0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x67ff, 0x40b0, 0x4004,
    0x4080, 0x400c, 0x4080, 0x40a4, 0x4000, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x40ff,
    0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff,
    0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40b0, 0x0080, 0x40b0, 0x4000, 0x40bf,
    0x4081, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x46ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff,
    0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff, 0x40ff,
    0x40ff, 0x40ff, 0x40ff, 0x4080, 0x4000, 0x4080, 0x40bf, 0x1000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000, 0x4000,
    0x4000, 0x4000, 0x4000, 0x4000,
};

const char *lex_quoted(struct lex *l, struct str *out)
{
	const char *s, *p, *end = l->end;

	if (!lex_is(l, '"'))
		return "expected a quoted string";
	s = p = l->p + 1;
	while (p < end) {
		unsigned char c;

		/* The common bytes in a tight loop; the rest one by one below. */
#ifdef __SSE2__
		while (end - p >= 16) {
			const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			const __m128i c1f = _mm_set1_epi8(0x1f);
			__m128i stop = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);
			unsigned m;

			stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
			stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
			stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
			m = (unsigned)_mm_movemask_epi8(stop);
			if (m) {
				p += __builtin_ctz(m);
				break;
			}
			p += 16;
		}
#endif
		while (p < end && cc_is(*p, CC_QSAFE))
			p++;
		if (p == end)
			break;
		c = (unsigned char)*p;
		if (c == '"') {
			*out = str_make(s, (size_t)(p - s));
			l->p = p + 1;
			return NULL;
		}
		if (c == '\\') {
			/* quoted-pair: any octet but CR and LF (RFC 3261 §25.1). */
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return "bad quoted-pair";
			p += 2;
			continue;
		}
		/* qdtext: LWS or printable; other control characters are invalid. */
		if (!is_lws((char)c))
			return "control character in quoted string";
		p++;
	}
	return "unterminated quoted string";
}

/* gen-value = token / host / quoted-string; hosts add ':' '[' ']'. */
static bool is_genval(char c)
{
	return cc_is(c, CC_TOKEN) || c == ':' || c == '[' || c == ']';
}

const char *sip_params_parse(struct lex *l, struct str *raw, param_h *cb, void *arg)
{
	const char *start = l->p, *p = l->p, *end = l->end, *why;

	for (;;) {
		struct str name, val = STR_NULL;
		bool quoted = false;

		/* SEMI = SWS ";" SWS; the usual case has no LWS at all. */
		while (p < end && is_lws(*p))
			p++;
		if (p == end || *p != ';')
			break;
		p++;
		while (p < end && is_lws(*p))
			p++;
		name.p = p;
		while (p < end && cc_is(*p, CC_TOKEN))
			p++;
		name.len = (size_t)(p - name.p);
		if (!name.len)
			return "empty parameter";
		{
			struct lex t = {p, end};

			if (lex_sep(&t, '=')) {
				if (lex_is(&t, '"')) {
					why = lex_quoted(&t, &val);
					if (why)
						return why;
					quoted = true;
				} else {
					val.p = t.p;
					while (t.p < end && is_genval(*t.p))
						t.p++;
					val.len = (size_t)(t.p - val.p);
					if (!val.len)
						return "empty parameter value";
				}
				p = t.p;
			}
		}
		if (cb) {
			why = cb(name, val, quoted, arg);
			if (why)
				return why;
		}
		l->p = p;
	}
	/* Trailing LWS is not part of the list. */
	*raw = str_make(start, (size_t)(l->p - start));
	return NULL;
}

/* dotted-quad, each part 1-3 digits up to 255. */
static const char *ipv4_check(struct str s)
{
	const char *p = s.p, *end = s.p + s.len;

	for (unsigned part = 0; part < 4; part++) {
		unsigned val = 0, digits = 0;

		while (p < end && *p >= '0' && *p <= '9' && digits < 3) {
			val = val * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (!digits || val > 255)
			return "bad IPv4 address";
		if (part < 3) {
			if (p == end || *p != '.')
				return "bad IPv4 address";
			p++;
		}
	}
	return p == end ? NULL : "bad IPv4 address";
}

/*
 * IPv6reference contents. RFC 5118 §4.10: tolerate the three-colon form that
 * RFC 3261's ABNF admits, so the check is on characters and shape, not a
 * strict inet_pton.
 */
static const char *ipv6_check(struct str s)
{
	unsigned colons = 0;
	long dot = -1, dbl = -1;

	if (s.len < 2 || s.len > 45)
		return "bad IPv6 address";
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (c == ':') {
			colons++;
			if (i + 1 < s.len && s.p[i + 1] == ':') {
				/* One "::" only; ":::" counts once (RFC 5118 §4.10). */
				if (dbl >= 0 && (long)i > dbl + 1)
					return "bad IPv6 address";
				if (dbl < 0)
					dbl = (long)i;
			}
		} else if (c == '.') {
			if (dot < 0)
				dot = (long)i;
		} else if (!cc_is(c, CC_HEX)) {
			return "bad IPv6 address";
		}
	}
	/* Eight groups need 7 colons; "::" may stand for the first or last
	 * group and add one, the three-colon form one more. */
	if (colons < 2 || colons > (dbl >= 0 ? 9u : 7u))
		return "bad IPv6 address";
	if (dot >= 0) {
		/* An embedded IPv4 address ends it: from after the last colon. */
		size_t k = s.len;

		while (k > 0 && s.p[k - 1] != ':')
			k--;
		if ((long)k > dot)
			return "bad IPv6 address";
		return ipv4_check(str_make(s.p + k, s.len - k));
	}
	return NULL;
}

const char *sip_host_parse(struct lex *l, struct str *host, enum sip_host_type *type)
{
	struct str h;
	bool alpha = false;

	if (lex_is(l, '[')) {
		const char *s = ++l->p;

		while (l->p < l->end && *l->p != ']')
			l->p++;
		if (lex_eof(l))
			return "unterminated IPv6 reference";
		h = str_make(s, (size_t)(l->p - s));
		l->p++;
		if (ipv6_check(h))
			return "bad IPv6 address";
		*host = h;
		*type = SIP_HOST_IPV6;
		return NULL;
	}
	/* One table lookup a byte: the span, and whether it has a letter. */
	{
		const char *p = l->p, *end = l->end;
		unsigned seen = CC_NUMDOT;

		h.p = p;
		while (p < end) {
			unsigned f = sip_cc[(unsigned char)*p];

			if (!(f & CC_HOST))
				break;
			seen &= f;
			p++;
		}
		h.len = (size_t)(p - h.p);
		l->p = p;
		if (!h.len)
			return "empty host";
		alpha = !(seen & CC_NUMDOT);
	}
	if (alpha) {
		/* Labels are not empty and do not start with '-'. */
		if (h.p[0] == '.' || h.p[0] == '-')
			return "bad host name";
		for (size_t i = 1; i + 1 < h.len; i++) {
			if (h.p[i] == '.' && (h.p[i + 1] == '.' || h.p[i + 1] == '-'))
				return "bad host name";
		}
	}
	if (!alpha) {
		/* Only digits and dots: it must be an IPv4 address (a hostname's
		 * top label starts with a letter). */
		if (ipv4_check(h))
			return "bad IPv4 address";
		*type = SIP_HOST_IPV4;
	} else {
		*type = SIP_HOST_NAME;
	}
	*host = h;
	return NULL;
}

const char *sip_port_parse(struct lex *l, uint16_t *port)
{
	struct str d = lex_span(l, CC_DIGIT);
	uint32_t v;

	if (!d.len)
		return "empty port";
	if (d.len > 5 || str_to_u32(&d, &v) || v > 65535)
		return "port out of range";
	*port = (uint16_t)v;
	return NULL;
}
