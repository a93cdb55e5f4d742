/*
 * sip_internal: what the parser's .c files share and nobody else includes:
 * character classes from the RFC 3261 ABNF, a bounded lexer over one header
 * value, and the sub-parsers each file provides to sip_msg.c.
 */
#ifndef SIP_INTERNAL_H
#define SIP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/arena.h"
#include "base/str.h"
#include "sip/sip_msg.h"
#include "sip/sip_uri.h"

/* Character classes (RFC 3261 §25.1); one table lookup per byte. */
enum {
	CC_TOKEN = 1 << 0, /* token */
	CC_UNRES = 1 << 1, /* unreserved */
	CC_USER = 1 << 2,  /* unreserved / user-unreserved */
	CC_PASS = 1 << 3,  /* password characters */
	CC_PARAM = 1 << 4, /* paramchar (without escapes) */
	CC_HNV = 1 << 5,   /* hname / hvalue characters */
	CC_HOST = 1 << 6,  /* hostname characters */
	CC_WORD = 1 << 7,  /* Call-ID word */
	CC_DIGIT = 1 << 8,
	CC_HEX = 1 << 9,
	CC_TEL = 1 << 10,    /* tel: number characters (RFC 3966, leniently) */
	CC_LWS = 1 << 11,    /* SP, HTAB, CR, LF */
	CC_CTL = 1 << 12,    /* control characters but HTAB: 0x00-0x08, 0x0a-0x1f, 0x7f */
	CC_NUMDOT = 1 << 13, /* digits and '.': what an IPv4 host is made of */
	CC_QSAFE = 1 << 14,  /* qdtext needing no second look: not '"', '\\', CR, LF, CTL */
};

extern const uint16_t sip_cc[256];

static inline bool cc_is(char c, unsigned cls)
{
	return (sip_cc[(unsigned char)c] & cls) != 0;
}

/* SP, HTAB and the CR LF of folded lines (a value view holds no other CR/LF). */
static inline bool is_lws(char c)
{
	return cc_is(c, CC_LWS);
}

/*
 * First @c in [p, end), or NULL. Header lines are short, so a libc memchr
 * call costs more in set-up than in scanning; SSE2 (baseline on x86-64)
 * checks 16 bytes a step inline, and memchr takes the tail or other CPUs.
 */
static inline const char *find_byte(const char *p, const char *end, char c)
{
#ifdef __SSE2__
	const __m128i want = _mm_set1_epi8(c);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, want));

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	return p < end ? memchr(p, c, (size_t)(end - p)) : NULL;
}

/*
 * Case-insensitive comparison of @n bytes of @s with @lower, a lower-case
 * literal of letters, digits and '-'. A byte may differ from @lower only in
 * bit 0x20 and only where @lower has a letter (bit 0x40 set): then it is the
 * same letter in upper case, as no other byte lies 0x20 away from a
 * lower-case letter. Exact for any input; eight bytes a step.
 */
static inline bool lower_word_eq(const char *s, const char *lower)
{
	uint64_t a, b;

	memcpy(&a, s, 8);
	memcpy(&b, lower, 8);
	return ((a ^ b) & ~((b & 0x4040404040404040ull) >> 1)) == 0;
}

static inline bool lower_eq(const char *s, const char *lower, size_t n)
{
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			if (!lower_word_eq(s + i, lower + i))
				return false;
		}
		/* The tail as one overlapping word. */
		return i == n || lower_word_eq(s + n - 8, lower + n - 8);
	}
	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s[i], b = (unsigned char)lower[i];

		if ((a ^ b) & ~((b & 0x40u) >> 1))
			return false;
	}
	return true;
}

/* A view equals a lower-case literal (letters, digits, '-'), any case. */
#define lower_eq_lit(v, lit) \
	((v)->len == sizeof(lit) - 1 && lower_eq((v)->p, (lit), sizeof(lit) - 1))

/* A cursor over [p, end): every read checks end. */
struct lex {
	const char *p;
	const char *end;
};

static inline struct lex lex_of(struct str s)
{
	/* An empty view may have a NULL pointer; NULL + 0 is undefined in C. */
	return (struct lex){s.p, s.p ? s.p + s.len : s.p};
}

static inline bool lex_eof(const struct lex *l)
{
	return l->p >= l->end;
}

static inline bool lex_is(const struct lex *l, char c)
{
	return l->p < l->end && *l->p == c;
}

/* Skip LWS; returns true when any was skipped. */
static inline bool lex_sws(struct lex *l)
{
	const char *s = l->p, *p = l->p, *end = l->end;

	/* Locals, not l->p: the compiler keeps them in registers. */
	while (p < end && is_lws(*p))
		p++;
	l->p = p;
	return p != s;
}

/* Take 1* chars of @cls (possibly none). */
static inline struct str lex_span(struct lex *l, unsigned cls)
{
	const char *s = l->p, *p = l->p, *end = l->end;

	/* Four bytes per bounds check: tokens are most of a header's bytes. */
	while (end - p >= 4) {
		if (!cc_is(p[0], cls))
			goto out;
		if (!cc_is(p[1], cls)) {
			p += 1;
			goto out;
		}
		if (!cc_is(p[2], cls)) {
			p += 2;
			goto out;
		}
		if (!cc_is(p[3], cls)) {
			p += 3;
			goto out;
		}
		p += 4;
	}
	while (p < end && cc_is(*p, cls))
		p++;
out:
	l->p = p;
	return str_make(s, (size_t)(p - s));
}

/* SWS c SWS: true when c was there (the cursor then sits after the SWS). */
static inline bool lex_sep(struct lex *l, char c)
{
	struct lex t = *l;

	lex_sws(&t);
	if (!lex_is(&t, c))
		return false;
	t.p++;
	lex_sws(&t);
	*l = t;
	return true;
}

/*
 * quoted-string at the cursor (which is on '"'): *out gets the contents
 * without the quotes (quoted-pairs kept). Returns NULL or a reason.
 */
const char *lex_quoted(struct lex *l, struct str *out);

/*
 * A ";name[=value]" list of generic-params (RFC 3261 §25.1) from the cursor
 * to the end or to a byte that cannot continue it. For each param @cb gets
 * the name and value (quotes removed) and may return a reason to reject.
 * *@raw gets the whole list. Returns NULL or a reason.
 */
typedef const char *(param_h)(struct str name, struct str val, bool quoted, void *arg);
const char *sip_params_parse(struct lex *l, struct str *raw, param_h *cb, void *arg);

/* host (name, IPv4 or [IPv6]) at the cursor. Returns NULL or a reason. */
const char *sip_host_parse(struct lex *l, struct str *host, enum sip_host_type *type);
/* 1*DIGIT up to 65535. */
const char *sip_port_parse(struct lex *l, uint16_t *port);

/*
 * Sub-parsers: fill @out from one value; NULL or a reason. Unlike the public
 * functions they write @out as they go (it is arena memory that a failed
 * parse discards), which saves a copy per header.
 */
const char *sip_uri_parse_in(struct sip_uri *out, struct str s, enum sip_uri_ctx ctx);
const char *sip_via_parse(struct sip_via *out, struct str value);

enum sip_addr_kind {
	SIP_ADDR_FROM_TO = 0, /* name-addr or addr-spec, ;tag */
	SIP_ADDR_CONTACT,     /* also '*', ;expires, ;q */
	SIP_ADDR_ROUTE,	      /* name-addr only */
};
const char *sip_addr_parse(struct sip_addr *out, struct str value, enum sip_addr_kind kind,
			   size_t max_uri, bool *too_long);
const char *sip_auth_parse(struct sip_auth *out, struct str value, bool challenge);
const char *sip_date_check(struct str value);

#endif
