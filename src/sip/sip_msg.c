/*
 * sip_msg: the message parser (see sip_msg.h).
 *
 * One pass over the bytes: the start line, then each header field (with its
 * folded continuation lines) is cut, named, split at top-level commas when
 * it is a list header, and handed to the sub-parser for its grammar. The
 * parsed form lives in the caller's arena; every string is a view into the
 * caller's buffer. The checks that need the whole message (mandatory
 * headers, CSeq method, Content-Length against the body) run at the end.
 */
#include <errno.h>

#include "sip/sip_internal.h"

const struct sip_limits sip_limits_default = {
    .max_msg = 65535,
    .max_hdrs = 256,
    .max_uri = 2048,
    .max_arena = 256 * 1024,
};

struct parser {
	const char *buf; /* start of the message, for error offsets */
	struct sip_msg *msg;
	struct arena *arena;
	const struct sip_limits *lim;
	struct sip_perr *perr;
	size_t arena_start; /* arena->used when the parse began */
	bool over_limit;    /* an allocation failed on lim->max_arena */
	uint32_t hdr_cap;
	uint32_t line_cap;
	int32_t last[SIP_HDR__COUNT];
};

static int fail(struct parser *ps, int err, const char *at, struct str hdr, const char *reason)
{
	if (ps->perr) {
		ps->perr->offset = (size_t)(at - ps->buf);
		ps->perr->hdr = hdr;
		ps->perr->reason = reason;
	}
	return err;
}

static void *palloc(struct parser *ps, size_t size)
{
	if (ps->arena->used - ps->arena_start + size > ps->lim->max_arena) {
		ps->over_limit = true;
		return NULL;
	}
	return arena_alloc(ps->arena, size);
}

static int nomem(struct parser *ps, const char *at, struct str hdr)
{
	if (ps->over_limit)
		return fail(ps, -EMSGSIZE, at, hdr, "message too complex");
	return fail(ps, -ENOMEM, at, hdr, "out of memory");
}

/* Grow an arena array of @elem-byte items from *@cap to twice as many. */
static void *grow(struct parser *ps, void *old, uint32_t n, uint32_t *cap, size_t elem)
{
	uint32_t ncap = *cap ? *cap * 2 : 32;
	void *p = palloc(ps, (size_t)ncap * elem);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, old, (size_t)n * elem);
	*cap = ncap;
	return p;
}

static int hdr_push(struct parser *ps, struct sip_line *line, enum sip_hdr_id id, struct str name,
		    struct str value, const void *parsed)
{
	struct sip_msg *msg = ps->msg;
	struct sip_hdr *h;
	uint32_t idx = msg->nhdrs;

	if (idx >= ps->lim->max_hdrs)
		return fail(ps, -EMSGSIZE, value.p, name, "too many headers");
	if (idx == ps->hdr_cap) {
		struct sip_hdr *n = grow(ps, msg->hdrs, idx, &ps->hdr_cap, sizeof(*n));

		if (!n)
			return nomem(ps, value.p, name);
		msg->hdrs = n;
	}
	h = &msg->hdrs[idx];
	h->id = id;
	h->name = name;
	h->value = value;
	h->line = msg->nlines - 1;
	h->next = -1;
	h->p.any = parsed;
	if (ps->last[id] >= 0)
		msg->hdrs[ps->last[id]].next = (int32_t)idx;
	else
		msg->first[id] = (int32_t)idx;
	ps->last[id] = (int32_t)idx;
	msg->nhdrs++;
	line->nhdrs++;
	return 0;
}

static inline bool is_ctl(unsigned char c)
{
	return cc_is((char)c, CC_CTL);
}

/* Values whose grammar we do not check: only no control characters, and CR
 * and LF only as the line folding that joined them. */
static const char *ctl_check(struct str v)
{
	size_t i = 0;

#ifdef __SSE2__
	/* Skip 16-byte blocks holding no byte <= 0x1f and no DEL. */
	const __m128i c1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);

	for (; i + 16 <= v.len; i += 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(v.p + i));
		__m128i low = _mm_cmpeq_epi8(_mm_max_epu8(b, c1f), c1f);

		if (_mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(b, del))))
			break;
	}
#endif
	for (; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (!is_ctl(c))
			continue;
		if (c == '\r' && i + 1 < v.len && v.p[i + 1] == '\n')
			continue;
		if (c == '\n' && i + 1 < v.len && (v.p[i + 1] == ' ' || v.p[i + 1] == '\t'))
			continue;
		return "control character in header value";
	}
	return NULL;
}

/*
 * Next element of a comma-separated list: commas inside quoted strings and
 * <...> do not count. Returns false at the end; *@why is set for an empty
 * element.
 */
static bool next_elem(struct lex *l, struct str *elem, const char **why)
{
	const char *s = l->p;
	bool in_q = false, in_angle = false;

	if (lex_eof(l))
		return false;
	/* Most list lines hold one value: without a comma, no scan is needed. */
	if (!find_byte(l->p, l->end, ',')) {
		/* The value's end came trimmed from header(); after a comma the
		 * start may have LWS. */
		lex_sws(l);
		*elem = str_make(l->p, (size_t)(l->end - l->p));
		l->p = l->end;
		return true;
	}
	while (l->p < l->end) {
		char c = *l->p;

		if (in_q) {
			if (c == '\\' && l->p + 1 < l->end)
				l->p++;
			else if (c == '"')
				in_q = false;
		} else if (c == '"') {
			in_q = true;
		} else if (c == '<') {
			in_angle = true;
		} else if (c == '>') {
			in_angle = false;
		} else if (c == ',' && !in_angle) {
			break;
		}
		l->p++;
	}
	*elem = str_trim(str_make(s, (size_t)(l->p - s)));
	if (l->p < l->end) {
		l->p++; /* the comma */
		if (lex_eof(l))
			*why = "empty list element";
	}
	if (!elem->len)
		*why = "empty list element";
	return true;
}

/* 1*DIGIT, overflow clamped to UINT32_MAX when @clamp (delta-seconds). */
static const char *number(struct str v, bool clamp, uint32_t *out, const char *bad)
{
	uint64_t n;
	int err = str_to_u64(&v, &n);

	if (err == -ERANGE && clamp)
		n = UINT32_MAX;
	else if (err)
		return bad;
	if (n > UINT32_MAX) {
		if (!clamp)
			return bad;
		n = UINT32_MAX;
	}
	*out = (uint32_t)n;
	return NULL;
}

static const char *cseq_parse(struct sip_cseq *c, struct str v)
{
	struct lex l = lex_of(v);
	struct str d = lex_span(&l, CC_DIGIT);
	int err;

	if (!d.len)
		return "bad CSeq number";
	err = str_to_u32(&d, &c->seq);
	if (err)
		return err == -ERANGE ? "CSeq number out of range" : "bad CSeq number";
	if (!lex_sws(&l))
		return "bad CSeq";
	c->method_str = lex_span(&l, CC_TOKEN);
	if (!c->method_str.len || !lex_eof(&l))
		return "bad CSeq method";
	c->method = sip_method_from_str(&c->method_str);
	return NULL;
}

/* callid = word [ "@" word ] */
static const char *callid_check(struct str v)
{
	struct lex l = lex_of(v);

	if (!lex_span(&l, CC_WORD).len)
		return "bad Call-ID";
	if (lex_is(&l, '@')) {
		l.p++;
		if (!lex_span(&l, CC_WORD).len)
			return "bad Call-ID";
	}
	return lex_eof(&l) ? NULL : "bad Call-ID";
}

/* media-type = m-type SLASH m-subtype *( SEMI m-parameter ); Accept also
 * takes "*" wildcards, which are token characters. */
static const char *media_check(struct str v)
{
	struct lex l = lex_of(v);
	struct str raw;

	if (!lex_span(&l, CC_TOKEN).len || !lex_sep(&l, '/') || !lex_span(&l, CC_TOKEN).len)
		return "bad media type";
	if (sip_params_parse(&l, &raw, NULL, NULL))
		return "bad media type parameter";
	lex_sws(&l);
	return lex_eof(&l) ? NULL : "bad media type";
}

/* token *( COMMA token ), or nothing at all when @empty_ok. */
static const char *token_list_check(struct str v, bool empty_ok)
{
	struct lex l = lex_of(v);

	if (lex_eof(&l))
		return empty_ok ? NULL : "empty header value";
	for (;;) {
		if (!lex_span(&l, CC_TOKEN).len)
			return "bad token in list";
		if (lex_eof(&l))
			return NULL;
		if (!lex_sep(&l, ','))
			return "bad token in list";
	}
}

/* Accept = [ accept-range *(COMMA accept-range) ], each a media-range. */
static const char *accept_check(struct str v)
{
	struct lex l = lex_of(v);
	struct str raw;

	while (!lex_eof(&l)) {
		if (!lex_span(&l, CC_TOKEN).len || !lex_sep(&l, '/') || !lex_span(&l, CC_TOKEN).len)
			return "bad media type";
		if (sip_params_parse(&l, &raw, NULL, NULL))
			return "bad media type parameter";
		if (!lex_eof(&l) && !lex_sep(&l, ','))
			return "bad media type";
	}
	return NULL;
}

static bool is_single(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CSEQ:
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
	case SIP_HDR_EXPIRES:
	case SIP_HDR_DATE:
		return true;
	default:
		return false;
	}
}

/* One list element of a list header: parse it and record it. */
static int list_elem(struct parser *ps, struct sip_line *line, enum sip_hdr_id id, struct str name,
		     struct str e)
{
	const char *why = NULL;
	const void *parsed = NULL;
	bool too_long = false;

	switch (id) {
	case SIP_HDR_VIA: {
		struct sip_via *v = palloc(ps, sizeof(*v));

		if (!v)
			return nomem(ps, e.p, name);
		why = sip_via_parse(v, e);
		if (!why && !ps->msg->via)
			ps->msg->via = v;
		parsed = v;
		break;
	}
	case SIP_HDR_CONTACT:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH: {
		struct sip_addr *a = palloc(ps, sizeof(*a));

		if (!a)
			return nomem(ps, e.p, name);
		why =
		    sip_addr_parse(a, e, id == SIP_HDR_CONTACT ? SIP_ADDR_CONTACT : SIP_ADDR_ROUTE,
				   ps->lim->max_uri, &too_long);
		parsed = a;
		break;
	}
	default:
		break;
	}
	if (why)
		return fail(ps, too_long ? -EMSGSIZE : -EBADMSG, e.p, name, why);
	return hdr_push(ps, line, id, name, e, parsed);
}

static int list_header(struct parser *ps, struct sip_line *line, enum sip_hdr_id id,
		       struct str name, struct str value)
{
	struct lex l = lex_of(value);
	struct str e;
	const char *why = NULL;
	int err;

	if (!value.len)
		return fail(ps, -EBADMSG, value.p, name, "empty header value");
	while (next_elem(&l, &e, &why)) {
		if (why)
			return fail(ps, -EBADMSG, e.p, name, why);
		err = list_elem(ps, line, id, name, e);
		if (err)
			return err;
	}
	return 0;
}

static int single_header(struct parser *ps, struct sip_line *line, enum sip_hdr_id id,
			 struct str name, struct str v)
{
	struct sip_msg *msg = ps->msg;
	const void *parsed = NULL;
	const char *why = NULL;
	bool too_long = false;

	if (is_single(id) && msg->first[id] >= 0)
		return fail(ps, -EBADMSG, name.p, name, "duplicate header");
	switch (id) {
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_REFER_TO: {
		struct sip_addr *a = palloc(ps, sizeof(*a));

		if (!a)
			return nomem(ps, v.p, name);
		why = sip_addr_parse(a, v, SIP_ADDR_FROM_TO, ps->lim->max_uri, &too_long);
		if (id == SIP_HDR_FROM)
			msg->from = a;
		else if (id == SIP_HDR_TO)
			msg->to = a;
		parsed = a;
		break;
	}
	case SIP_HDR_CALL_ID:
		why = callid_check(v);
		msg->call_id = v;
		break;
	case SIP_HDR_CSEQ:
		why = cseq_parse(&msg->cseq, v);
		break;
	case SIP_HDR_MAX_FORWARDS:
		why = number(v, false, &msg->max_forwards, "bad Max-Forwards");
		/* RFC 3261 §20.22: an integer in the range 0-255. */
		if (!why && msg->max_forwards > 255)
			why = "Max-Forwards out of range";
		msg->has_max_forwards = true;
		break;
	case SIP_HDR_CONTENT_LENGTH:
		why = number(v, false, &msg->content_length, "bad Content-Length");
		msg->has_content_length = true;
		break;
	case SIP_HDR_EXPIRES:
		why = number(v, true, &msg->expires, "bad Expires");
		msg->has_expires = true;
		break;
	case SIP_HDR_MIN_EXPIRES: {
		uint32_t n;

		why = number(v, true, &n, "bad Min-Expires");
		break;
	}
	case SIP_HDR_CONTENT_TYPE:
		why = media_check(v);
		msg->content_type = v;
		break;
	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHORIZATION:
	case SIP_HDR_WWW_AUTHENTICATE:
	case SIP_HDR_PROXY_AUTHENTICATE: {
		struct sip_auth *a = palloc(ps, sizeof(*a));

		if (!a)
			return nomem(ps, v.p, name);
		why = sip_auth_parse(
		    a, v, id == SIP_HDR_WWW_AUTHENTICATE || id == SIP_HDR_PROXY_AUTHENTICATE);
		parsed = a;
		break;
	}
	case SIP_HDR_DATE:
		why = sip_date_check(v);
		break;
	case SIP_HDR_ALLOW:
	case SIP_HDR_SUPPORTED:
	case SIP_HDR_UNSUPPORTED:
		/* These three may be empty (RFC 3261 §25.1). */
		why = token_list_check(v, true);
		break;
	case SIP_HDR_REQUIRE:
	case SIP_HDR_PROXY_REQUIRE:
	case SIP_HDR_CONTENT_ENCODING:
		why = token_list_check(v, false);
		break;
	case SIP_HDR_ACCEPT:
		why = accept_check(v);
		break;
	default:
		why = ctl_check(v);
		break;
	}
	if (why)
		return fail(ps, too_long ? -EMSGSIZE : -EBADMSG, v.p, name, why);
	return hdr_push(ps, line, id, name, v, parsed);
}

static bool is_list(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_VIA:
	case SIP_HDR_CONTACT:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH:
		return true;
	default:
		return false;
	}
}

/* One header field: bytes [s, ve) hold "name: value" (folding included),
 * [s, re) the field with its line ends. */
static int header(struct parser *ps, const char *s, const char *ve, const char *re)
{
	struct sip_msg *msg = ps->msg;
	struct lex l = {s, ve};
	struct str name, value;
	struct sip_line *line;
	enum sip_hdr_id id;

	name = lex_span(&l, CC_TOKEN);
	if (!name.len)
		return fail(ps, -EBADMSG, s, STR_NULL, "bad header name");
	/* HCOLON = *( SP / HTAB ) ":" SWS */
	while (l.p < l.end && (*l.p == ' ' || *l.p == '\t'))
		l.p++;
	if (!lex_is(&l, ':'))
		return fail(ps, -EBADMSG, l.p, name,
			    lex_eof(&l) ? "header line without colon" : "bad header name");
	l.p++;
	/* The value without LWS around it; @ve is already past any CRLF. */
	lex_sws(&l);
	while (ve > l.p && is_lws(ve[-1]))
		ve--;
	value = str_make(l.p, (size_t)(ve - l.p));
	id = sip_hdr_id_from_name(&name);

	if (msg->nlines == ps->line_cap) {
		struct sip_line *n = grow(ps, msg->lines, msg->nlines, &ps->line_cap, sizeof(*n));

		if (!n)
			return nomem(ps, s, name);
		msg->lines = n;
	}
	line = &msg->lines[msg->nlines++];
	line->off = (uint32_t)(s - msg->buf);
	line->len = (uint32_t)(re - s);
	line->first_hdr = msg->nhdrs;
	line->nhdrs = 0;
	line->id = id;

	if (is_list(id))
		return list_header(ps, line, id, name, value);
	return single_header(ps, line, id, name, value);
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive, §7.1). */
static int version(struct parser *ps, struct str v)
{
	struct lex l = lex_of(v);

	if (v.len < 4 || !str_ihas_prefix(&v, &STR("SIP/")))
		return fail(ps, -EBADMSG, v.p, STR_NULL, "bad SIP version");
	l.p += 4;
	if (!lex_span(&l, CC_DIGIT).len || !lex_is(&l, '.'))
		return fail(ps, -EBADMSG, v.p, STR_NULL, "bad SIP version");
	l.p++;
	if (!lex_span(&l, CC_DIGIT).len || !lex_eof(&l))
		return fail(ps, -EBADMSG, v.p, STR_NULL, "bad SIP version");
	if (memcmp(v.p + 4, "2.0", 3) != 0 || v.len != 7)
		return fail(ps, -EPROTONOSUPPORT, v.p, STR_NULL, "SIP version not supported");
	return 0;
}

static int response_line(struct parser *ps, struct lex *l)
{
	struct sip_msg *msg = ps->msg;
	const char *s = l->p;
	struct str code;
	int err;

	while (l->p < l->end && *l->p != ' ')
		l->p++;
	err = version(ps, str_make(s, (size_t)(l->p - s)));
	if (err)
		return err;
	if (!lex_is(l, ' '))
		return fail(ps, -EBADMSG, l->p, STR_NULL, "bad status line");
	l->p++;
	code = lex_span(l, CC_DIGIT);
	if (code.len != 3 || code.p[0] < '1' || code.p[0] > '6')
		return fail(ps, -EBADMSG, code.p, STR_NULL, "bad status code");
	msg->status =
	    (uint16_t)((code.p[0] - '0') * 100 + (code.p[1] - '0') * 10 + code.p[2] - '0');
	if (!lex_is(l, ' '))
		return fail(ps, -EBADMSG, l->p, STR_NULL, "bad status line");
	l->p++;
	/* Reason-Phrase: any text but control characters (UTF-8 allowed). */
	msg->reason = str_make(l->p, (size_t)(l->end - l->p));
	for (size_t i = 0; i < msg->reason.len; i++) {
		if (is_ctl((unsigned char)msg->reason.p[i]))
			return fail(ps, -EBADMSG, msg->reason.p + i, STR_NULL, "bad reason phrase");
	}
	return 0;
}

static int request_line(struct parser *ps, struct lex *l)
{
	struct sip_msg *msg = ps->msg;
	const char *last_sp = NULL, *why = NULL;
	struct str uri;
	int err;

	msg->is_request = true;
	msg->method_str = lex_span(l, CC_TOKEN);
	if (!msg->method_str.len || !lex_is(l, ' '))
		return fail(ps, -EBADMSG, l->p, STR_NULL, "bad method");
	msg->method = sip_method_from_str(&msg->method_str);
	l->p++;
	for (const char *q = l->end; q > l->p; q--) {
		if (q[-1] == ' ') {
			last_sp = q - 1;
			break;
		}
	}
	if (!last_sp)
		return fail(ps, -EBADMSG, l->end, STR_NULL, "request line without SIP version");
	err = version(ps, str_make(last_sp + 1, (size_t)(l->end - last_sp - 1)));
	if (err)
		return err;
	/* Exactly one SP around the Request-URI (RFC 4475 §3.1.2.8-10). */
	uri = str_make(l->p, (size_t)(last_sp - l->p));
	if (uri.len > ps->lim->max_uri)
		return fail(ps, -EMSGSIZE, uri.p, STR_NULL, "Request-URI too long");
	if (!uri.len || memchr(uri.p, ' ', uri.len))
		return fail(ps, -EBADMSG, uri.p, STR_NULL, "space in Request-URI");
	if (sip_uri_parse(&msg->ruri, uri, SIP_URI_CTX_REQUEST, &why))
		return fail(ps, -EBADMSG, uri.p, STR_NULL, why);
	return 0;
}

static int start_line(struct parser *ps, const char *s, const char *e)
{
	struct lex l = {s, e};

	/* Each part checks its own characters (method token, URI, version,
	 * reason phrase), so no pass over the whole line is needed. */
	ps->msg->start_line = str_make(s, (size_t)(e - s));
	/* A method is a token and has no '/': "SIP/" starts a status line. */
	if (e - s >= 4 && str_ihas_prefix(&ps->msg->start_line, &STR("SIP/")))
		return response_line(ps, &l);
	return request_line(ps, &l);
}

/* Whole-message rules once all headers are in. */
static int finish(struct parser *ps, const char *hdr_end, unsigned flags)
{
	static const enum sip_hdr_id mandatory[] = {
	    SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID, SIP_HDR_CSEQ,
	};
	struct sip_msg *msg = ps->msg;
	size_t avail;

	for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
		if (msg->first[mandatory[i]] < 0)
			return fail(ps, -EBADMSG, hdr_end, str_cstr(sip_hdr_name(mandatory[i])),
				    "missing mandatory header");
	}
	if (msg->first[SIP_HDR_CONTACT] >= 0 && sip_msg_hdr_count(msg, SIP_HDR_CONTACT) > 1) {
		for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT); h;
		     h = sip_hdr_next(msg, h)) {
			if (h->p.addr->star)
				return fail(ps, -EBADMSG, h->value.p, h->name,
					    "Contact '*' with other values");
		}
	}
	if (msg->is_request && !str_eq(&msg->cseq.method_str, &msg->method_str))
		return fail(ps, -EBADMSG, msg->hdrs[msg->first[SIP_HDR_CSEQ]].value.p,
			    msg->hdrs[msg->first[SIP_HDR_CSEQ]].name,
			    "CSeq method does not match the request method");

	avail = msg->len - msg->body_off;
	if (msg->has_content_length) {
		const struct sip_hdr *cl = &msg->hdrs[msg->first[SIP_HDR_CONTENT_LENGTH]];

		if (msg->content_length > avail)
			return fail(ps, -EBADMSG, cl->value.p, cl->name,
				    "Content-Length larger than the body");
		/* RFC 3261 §18.3: a datagram's octets past the body are ignored. */
		if (msg->content_length < avail && !(flags & SIP_PARSE_DGRAM))
			return fail(ps, -EBADMSG, msg->buf + msg->body_off + msg->content_length,
				    STR_NULL, "bytes after the body");
		msg->len = msg->body_off + msg->content_length;
	} else if (!(flags & SIP_PARSE_DGRAM)) {
		return fail(ps, -EBADMSG, hdr_end, STR("Content-Length"),
			    "Content-Length missing on a stream");
	}
	msg->body = str_make(msg->buf + msg->body_off, msg->len - msg->body_off);
	return 0;
}

int sip_msg_parse(struct sip_msg **msgp, struct arena *arena, const char *buf, size_t len,
		  unsigned flags, const struct sip_limits *lim, struct sip_perr *perr)
{
	const char *p = buf, *end = buf + len, *nl;
	struct sip_msg *msg;
	struct parser ps;
	int err;

	/* Not a zeroing initialiser: last[] is set below with first[]. */
	ps.buf = buf;
	ps.msg = NULL;
	ps.arena = arena;
	ps.perr = perr;
	ps.over_limit = false;
	ps.hdr_cap = ps.line_cap = 0;
	ps.lim = lim ? lim : &sip_limits_default;
	ps.arena_start = arena->used;
	if (len > ps.lim->max_msg)
		return fail(&ps, -EMSGSIZE, buf + ps.lim->max_msg, STR_NULL, "message too large");
	msg = palloc(&ps, sizeof(*msg));
	if (!msg)
		return nomem(&ps, buf, STR_NULL);
	memset(msg, 0, sizeof(*msg));
	/* All bits set is -1 in every int32_t: "no header of this id yet". */
	memset(msg->first, 0xff, sizeof(msg->first));
	memset(ps.last, 0xff, sizeof(ps.last));
	msg->buf = buf;
	msg->len = len;
	ps.msg = msg;

	/* RFC 3261 §7.5: CRLFs before the start line are ignored. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end)
		return fail(&ps, -EBADMSG, p, STR_NULL, "empty message");
	nl = find_byte(p, end, '\n');
	if (!nl)
		return fail(&ps, -EBADMSG, end, STR_NULL, "start line not terminated");
	err = start_line(&ps, p, (nl > p && nl[-1] == '\r') ? nl - 1 : nl);
	if (err)
		return err;
	p = nl + 1;

	for (;;) {
		const char *s = p, *ve;

		if (p >= end)
			return fail(&ps, -EBADMSG, end, STR_NULL, "header section not terminated");
		nl = find_byte(p, end, '\n');
		if (!nl)
			return fail(&ps, -EBADMSG, end, STR_NULL, "header section not terminated");
		ve = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
		if (ve == p) {
			msg->body_off = (size_t)(nl + 1 - buf);
			break;
		}
		if (*p == ' ' || *p == '\t')
			return fail(&ps, -EBADMSG, p, STR_NULL, "continuation line without header");
		p = nl + 1;
		/* Folded lines (starting with SP or HTAB) continue this field. */
		while (p < end && (*p == ' ' || *p == '\t')) {
			nl = find_byte(p, end, '\n');
			if (!nl)
				return fail(&ps, -EBADMSG, end, STR_NULL,
					    "header section not terminated");
			ve = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
			p = nl + 1;
		}
		err = header(&ps, s, ve, p);
		if (err)
			return err;
	}
	err = finish(&ps, buf + msg->body_off, flags);
	if (err)
		return err;
	*msgp = msg;
	return 0;
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT || msg->first[id] < 0)
		return NULL;
	return &msg->hdrs[msg->first[id]];
}

const struct sip_hdr *sip_hdr_next(const struct sip_msg *msg, const struct sip_hdr *h)
{
	return h->next < 0 ? NULL : &msg->hdrs[h->next];
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg, const struct str *name)
{
	enum sip_hdr_id id = sip_hdr_id_from_name(name);

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_OTHER); h;
	     h = sip_hdr_next(msg, h)) {
		if (str_ieq(&h->name, name))
			return h;
	}
	return NULL;
}

unsigned sip_msg_hdr_count(const struct sip_msg *msg, enum sip_hdr_id id)
{
	unsigned n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_hdr_next(msg, h))
		n++;
	return n;
}

bool sip_list_next(const struct str *list, size_t *pos, struct str *item)
{
	struct lex l;

	if (*pos >= list->len)
		return false;
	l = (struct lex){list->p + *pos, list->p + list->len};
	if (*pos > 0 && !lex_sep(&l, ','))
		return false;
	lex_sws(&l);
	*item = lex_span(&l, CC_TOKEN);
	*pos = (size_t)(l.p - list->p);
	return item->len > 0;
}

bool sip_msg_has_token(const struct sip_msg *msg, enum sip_hdr_id id, const char *token)
{
	struct str want = str_cstr(token), item;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_hdr_next(msg, h)) {
		size_t pos = 0;

		while (sip_list_next(&h->value, &pos, &item)) {
			/* Methods are case-sensitive (§7.1), other tokens not (§7.3.1). */
			if (id == SIP_HDR_ALLOW ? str_eq(&item, &want) : str_ieq(&item, &want))
				return true;
		}
	}
	return false;
}
