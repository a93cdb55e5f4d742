/*
 * sdp: the parser (see sdp.h).
 *
 * One pass over the lines of an untrusted body. Session-level lines fill
 * struct sdp_session; an m= line opens a media section whose connection,
 * direction and ptime start as the session's and are overridden by its own
 * lines. The media array is sized by counting m= lines before the pass, and
 * each format array by counting the m= line's fields, so nothing is ever
 * grown or copied: a parse is 2 + (number of m= lines) arena allocations.
 * Unknown line types and attributes are skipped without being stored, so
 * the arena use is bounded by the limits whatever the body holds.
 *
 * Not here: anything about what the description means for us (sdp_neg.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sdp/sdp.h"

struct parser {
	const char *buf; /* the body, for error offsets */
	size_t len;
	struct arena *arena;
	struct sdp_perr *perr;
	struct sdp_session *s;
	struct sdp_media *m; /* the open media section, NULL at session level */
	unsigned media_cap;  /* entries allocated in s->media */
	struct str line;     /* the line being parsed, for perr */
	struct str m_line;   /* the open media section's m= line */
	bool seen_o, seen_s, seen_t;
	bool sess_dir;	/* a direction attribute was seen at session level */
	bool media_dir; /* ... in the open media section */
	/* Session-level a=ptime and a=maxptime: not in RFC 4566, but phones
	 * send them, meaning "for every stream". */
	uint32_t ptime, maxptime;
};

static int fail(struct parser *ps, int err, size_t off, const char *reason)
{
	if (ps->perr) {
		ps->perr->offset = off;
		ps->perr->line = ps->line;
		ps->perr->reason = reason;
	}
	return err;
}

/* Malformed, pointing at @at inside the body. */
static int bad(struct parser *ps, const char *at, const char *reason)
{
	return fail(ps, -EBADMSG, (size_t)(at - ps->buf), reason);
}

static int nomem(struct parser *ps)
{
	return fail(ps, -ENOMEM, (size_t)(ps->line.p ? ps->line.p - ps->buf : 0), "out of memory");
}

/* Name equality for attribute names and keywords: case-sensitive (RFC 4566 §5). */
#define IS(s, lit) ((s)->len == sizeof(lit) - 1 && !memcmp((s)->p, (lit), sizeof(lit) - 1))

static bool is_sep(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Next field of @rest: fields are separated by one SP in RFC 4566, by runs
 * of blanks in what some phones write. False when none is left.
 */
static bool next_field(struct str *rest, struct str *f)
{
	size_t i = 0, j;

	while (i < rest->len && is_sep(rest->p[i]))
		i++;
	if (i == rest->len)
		return false;
	j = i;
	while (j < rest->len && !is_sep(rest->p[j]))
		j++;
	*f = str_make(rest->p + i, j - i);
	*rest = str_make(rest->p + j, rest->len - j);
	return true;
}

/* @rest without its leading blanks. */
static struct str skip_sep(struct str rest)
{
	while (rest.len && is_sep(rest.p[0]))
		rest = str_make(rest.p + 1, rest.len - 1);
	return rest;
}

static bool at_end(const struct str *rest)
{
	return skip_sep(*rest).len == 0;
}

/* RFC 4566 token-char: visible ASCII but "(),/:;<=>?@[\]. */
static bool is_token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return !strchr("\"(),/:;<=>?@[\\]", c);
}

static bool is_token(const struct str *s)
{
	if (!s->len)
		return false;
	for (size_t i = 0; i < s->len; i++)
		if (!is_token_char((unsigned char)s->p[i]))
			return false;
	return true;
}

/* RFC 4566 non-ws-string: visible ASCII or any byte >= 0x80. */
static bool is_nonws(const struct str *s)
{
	if (!s->len)
		return false;
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* proto: token *("/" token) */
static bool is_proto(const struct str *s)
{
	bool want_token = true;

	if (!s->len)
		return false;
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (c == '/' && !want_token)
			want_token = true;
		else if (is_token_char(c))
			want_token = false;
		else
			return false;
	}
	return !want_token;
}

/*
 * A domain name in c=: letters, digits, '-' and '.', and a last label that
 * is not all digits (RFC 1123 §2.1), so "300.1.1.1" is a bad address rather
 * than a name.
 */
static bool is_hostname(const struct str *s)
{
	bool digits_only = true;
	size_t len = s->len;

	if (len > 1 && s->p[len - 1] == '.')
		len--; /* the root: "example.com." */
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (c == '.') {
			digits_only = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (c < '0' || c > '9')
			digits_only = false;
	}
	return !digits_only;
}

static bool is_digits(const struct str *s)
{
	if (!s->len)
		return false;
	for (size_t i = 0; i < s->len; i++)
		if (s->p[i] < '0' || s->p[i] > '9')
			return false;
	return true;
}

static enum sdp_addrtype addrtype(const struct str *s)
{
	if (IS(s, "IP4"))
		return SDP_ADDR_IP4;
	if (IS(s, "IP6"))
		return SDP_ADDR_IP6;
	return SDP_ADDR_NONE;
}

static bool is_rtp(enum sdp_proto p)
{
	return p >= SDP_PROTO_RTP_AVP && p <= SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

const char *sdp_dir_name(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_DIR_SENDONLY:
		return "sendonly";
	case SDP_DIR_RECVONLY:
		return "recvonly";
	case SDP_DIR_INACTIVE:
		return "inactive";
	case SDP_DIR_SENDRECV:
	default:
		return "sendrecv";
	}
}

/* ---- c= and the address of a=rtcp -------------------------------------- */

enum { CONN_C, CONN_RTCP };

static const char *const conn_reasons[2][4] = {
    {"c= needs <nettype> <addrtype> <address>", "c= network type is not IN",
     "c= address type is not IP4 or IP6", "c= address is malformed"},
    {"a=rtcp address needs <nettype> <addrtype> <address>", "a=rtcp network type is not IN",
     "a=rtcp address type is not IP4 or IP6", "a=rtcp address is malformed"},
};

/*
 * "IN IP4 192.0.2.1", "IN IP4 224.2.1.1/127/3", "IN IP6 2001:db8::1",
 * "IN IP4 host.example.com". Domain names are valid SDP and kept, with
 * numeric false: whoever needs an address to send to rejects them there.
 */
static int conn_parse(struct parser *ps, struct str rest, struct sdp_conn *c, int which)
{
	const char *const *why = conn_reasons[which];
	struct str net, type, addr, suffix;
	struct sdp_conn tmp;
	char text[INET6_ADDRSTRLEN];
	long slash;

	if (!next_field(&rest, &net) || !next_field(&rest, &type) || !next_field(&rest, &addr) ||
	    !at_end(&rest))
		return bad(ps, ps->line.p, why[0]);
	if (!IS(&net, "IN"))
		return bad(ps, net.p, why[1]);
	memset(&tmp, 0, sizeof(tmp));
	tmp.type = addrtype(&type);
	if (tmp.type == SDP_ADDR_NONE)
		return bad(ps, type.p, why[2]);

	/* Multicast: IP4 "/ttl[/count]", IP6 "/count" (RFC 4566 §5.7). */
	slash = str_chr(&addr, '/');
	if (slash >= 0) {
		long second;

		suffix = str_make(addr.p + slash + 1, addr.len - (size_t)slash - 1);
		addr.len = (size_t)slash;
		second = str_chr(&suffix, '/');
		if (second >= 0) {
			struct str ttl = str_make(suffix.p, (size_t)second);
			struct str count =
			    str_make(suffix.p + second + 1, suffix.len - (size_t)second - 1);

			if (tmp.type != SDP_ADDR_IP4 || !is_digits(&ttl) || !is_digits(&count))
				return bad(ps, suffix.p, why[3]);
		} else if (!is_digits(&suffix)) {
			return bad(ps, suffix.p, why[3]);
		}
	}
	tmp.addr = addr;
	if (addr.len < sizeof(text)) {
		str_copy_cstr(text, sizeof(text), &addr);
		if (tmp.type == SDP_ADDR_IP4)
			tmp.numeric = inet_pton(AF_INET, text, &tmp.ip.v4) == 1;
		else
			tmp.numeric = inet_pton(AF_INET6, text, &tmp.ip.v6) == 1;
	}
	if (tmp.numeric)
		tmp.unspecified = tmp.type == SDP_ADDR_IP4 ? tmp.ip.v4.s_addr == 0
							   : IN6_IS_ADDR_UNSPECIFIED(&tmp.ip.v6);
	else if (!is_hostname(&addr))
		return bad(ps, addr.p, why[3]);
	*c = tmp;
	return 0;
}

/* ---- session-level lines ------------------------------------------------ */

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_o(struct parser *ps, struct str v)
{
	struct sdp_session *s = ps->s;
	struct str user, id, ver, net, type, addr;
	int err;

	if (!next_field(&v, &user) || !next_field(&v, &id) || !next_field(&v, &ver) ||
	    !next_field(&v, &net) || !next_field(&v, &type) || !next_field(&v, &addr) ||
	    !at_end(&v))
		return bad(ps, ps->line.p,
			   "o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> "
			   "<address>");
	if (!is_nonws(&user))
		return bad(ps, user.p, "o= username is malformed");
	if (!is_digits(&id))
		return bad(ps, id.p, "o= session id is not a number");
	err = str_to_u64(&ver, &s->sess_version);
	if (err == -ERANGE)
		return bad(ps, ver.p, "o= session version out of range");
	if (err)
		return bad(ps, ver.p, "o= session version is not a number");
	if (!IS(&net, "IN"))
		return bad(ps, net.p, "o= network type is not IN");
	s->origin_type = addrtype(&type);
	if (s->origin_type == SDP_ADDR_NONE)
		return bad(ps, type.p, "o= address type is not IP4 or IP6");
	if (!is_nonws(&addr))
		return bad(ps, addr.p, "o= address is malformed");
	s->username = user;
	s->sess_id = id;
	s->origin_addr = addr;
	return 0;
}

/* t=<start-time> <stop-time>; only the first one is kept. */
static int parse_t(struct parser *ps, struct str v)
{
	struct str start, stop;
	uint64_t a, b;

	if (!next_field(&v, &start) || !next_field(&v, &stop) || !at_end(&v))
		return bad(ps, ps->line.p, "t= needs <start-time> <stop-time>");
	if (str_to_u64(&start, &a) || str_to_u64(&stop, &b))
		return bad(ps, start.p, "t= times are not numbers");
	if (!ps->seen_t) {
		ps->s->t_start = a;
		ps->s->t_stop = b;
	}
	ps->seen_t = true;
	return 0;
}

/* b=<bwtype>:<bandwidth>; types other than AS and TIAS are skipped. */
static int parse_b(struct parser *ps, struct str v)
{
	long colon = str_chr(&v, ':');
	struct str type, val;
	uint32_t *dst, bw;

	if (colon <= 0)
		return bad(ps, v.p, "b= needs <bwtype>:<bandwidth>");
	type = str_make(v.p, (size_t)colon);
	val = str_make(v.p + colon + 1, v.len - (size_t)colon - 1);
	if (!is_token(&type))
		return bad(ps, v.p, "b= bandwidth type is malformed");
	if (IS(&type, "AS"))
		dst = ps->m ? &ps->m->bw_as : &ps->s->bw_as;
	else if (IS(&type, "TIAS"))
		dst = ps->m ? &ps->m->bw_tias : &ps->s->bw_tias;
	else
		return 0;
	if (str_to_u32(&val, &bw))
		return bad(ps, val.p, "b= bandwidth is not a number within 32 bits");
	*dst = bw;
	return 0;
}

/* ---- m= ----------------------------------------------------------------- */

/* RFC 3551 §6 static payload types, so an m= line needs no a=rtpmap for them. */
static const struct {
	uint8_t pt;
	const char *name;
	uint32_t clock;
} static_pts[] = {
    {0, "PCMU", 8000}, {3, "GSM", 8000}, {4, "G723", 8000},  {8, "PCMA", 8000},
    {9, "G722", 8000}, {13, "CN", 8000}, {18, "G729", 8000},
};

static void fmt_static(struct sdp_fmt *f)
{
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++) {
		if (static_pts[i].pt == f->pt) {
			f->encoding = str_cstr(static_pts[i].name);
			f->clock = static_pts[i].clock;
			return;
		}
	}
}

static enum sdp_media_type media_type(const struct str *s)
{
	if (IS(s, "audio"))
		return SDP_MEDIA_AUDIO;
	if (IS(s, "video"))
		return SDP_MEDIA_VIDEO;
	if (IS(s, "text"))
		return SDP_MEDIA_TEXT;
	if (IS(s, "application"))
		return SDP_MEDIA_APPLICATION;
	if (IS(s, "message"))
		return SDP_MEDIA_MESSAGE;
	if (IS(s, "image"))
		return SDP_MEDIA_IMAGE;
	return SDP_MEDIA_OTHER;
}

static enum sdp_proto proto_id(const struct str *s)
{
	if (IS(s, "RTP/AVP"))
		return SDP_PROTO_RTP_AVP;
	if (IS(s, "RTP/AVPF"))
		return SDP_PROTO_RTP_AVPF;
	if (IS(s, "RTP/SAVP"))
		return SDP_PROTO_RTP_SAVP;
	if (IS(s, "RTP/SAVPF"))
		return SDP_PROTO_RTP_SAVPF;
	if (IS(s, "UDP/TLS/RTP/SAVP"))
		return SDP_PROTO_UDP_TLS_RTP_SAVP;
	if (IS(s, "UDP/TLS/RTP/SAVPF"))
		return SDP_PROTO_UDP_TLS_RTP_SAVPF;
	/* RFC 4566 §5.14: udptl; some T.38 gateways write UDPTL. */
	if (IS(s, "udptl") || IS(s, "UDPTL"))
		return SDP_PROTO_UDPTL;
	return SDP_PROTO_OTHER;
}

/* Close the open media section: checks that need all of its lines. */
static int media_end(struct parser *ps)
{
	struct sdp_media *m = ps->m;

	if (!m)
		return 0;
	/* RFC 4566 §5.7: every stream needs a c= at one level or the other.
	 * A rejected stream (port 0) sends nothing anywhere. */
	if (m->port && m->conn.type == SDP_ADDR_NONE) {
		ps->line = ps->m_line;
		return bad(ps, ps->m_line.p, "m= stream has no c= line, nor the session");
	}
	ps->m = NULL;
	return 0;
}

static struct sdp_fmt *find_pt(const struct sdp_media *m, int pt)
{
	for (unsigned i = 0; i < m->nfmts; i++)
		if (m->fmts[i].pt == pt)
			return &m->fmts[i];
	return NULL;
}

static struct sdp_fmt *find_fmt(const struct sdp_media *m, const struct str *id)
{
	for (unsigned i = 0; i < m->nfmts; i++)
		if (str_eq(&m->fmts[i].id, id))
			return &m->fmts[i];
	return NULL;
}

/* A payload type field: 0-127 (RFC 3551 §3; the 7 bits of the RTP header). */
static bool parse_pt(const struct str *s, int *pt)
{
	uint32_t v;

	if (str_to_u32(s, &v) || v > 127)
		return false;
	*pt = (int)v;
	return true;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_m(struct parser *ps, struct str v)
{
	struct sdp_session *s = ps->s;
	struct str media, port, proto, f, rest;
	struct sdp_media *m;
	uint32_t n, val;
	unsigned nfmts = 0;
	long slash;
	int err;

	err = media_end(ps);
	if (err)
		return err;
	if (s->nmedia >= SDP_MAX_MEDIA)
		return fail(ps, -EMSGSIZE, (size_t)(ps->line.p - ps->buf), "more than 16 m= lines");
	/* The count before the pass saw every m= line, so this cannot happen;
	 * checked anyway because the array must never be overrun. */
	if (s->nmedia >= ps->media_cap)
		return bad(ps, ps->line.p, "m= line miscounted");
	m = &s->media[s->nmedia];

	if (!next_field(&v, &media) || !next_field(&v, &port) || !next_field(&v, &proto))
		return bad(ps, ps->line.p, "m= needs <media> <port> <proto> <fmt> ...");
	if (!is_token(&media))
		return bad(ps, media.p, "m= media type is malformed");
	m->media = media;
	m->type = media_type(&media);
	m->nports = 1;
	slash = str_chr(&port, '/');
	if (slash >= 0) {
		struct str count = str_make(port.p + slash + 1, port.len - (size_t)slash - 1);

		port.len = (size_t)slash;
		if (str_to_u32(&count, &n) || n == 0 || n > 65535)
			return bad(ps, count.p, "m= number of ports out of range");
		m->nports = (uint16_t)n;
	}
	err = str_to_u32(&port, &val);
	if (err == -EINVAL)
		return bad(ps, port.p, "m= port is not a number");
	if (err || val > 65535)
		return bad(ps, port.p, "m= port out of range");
	m->port = (uint16_t)val;
	if (!is_proto(&proto))
		return bad(ps, proto.p, "m= transport protocol is malformed");
	m->proto = proto;
	m->proto_id = proto_id(&proto);

	rest = v;
	while (next_field(&rest, &f)) {
		if (++nfmts > SDP_MAX_FMTS)
			return fail(ps, -EMSGSIZE, (size_t)(f.p - ps->buf),
				    "more than 32 formats on an m= line");
	}
	/* RFC 4566 needs one format; a rejected stream from some phones has none,
	 * and it is harmless there. */
	if (!nfmts && m->port)
		return bad(ps, ps->line.p, "m= lists no format");
	if (nfmts) {
		m->fmts = arena_zalloc(ps->arena, nfmts * sizeof(*m->fmts));
		if (!m->fmts)
			return nomem(ps);
	}
	rest = v;
	while (next_field(&rest, &f)) {
		struct sdp_fmt *fmt = &m->fmts[m->nfmts];

		fmt->id = f;
		fmt->pt = -1;
		fmt->channels = 1;
		if (is_rtp(m->proto_id)) {
			if (!parse_pt(&f, &fmt->pt))
				return bad(ps, f.p, "m= payload type is not 0-127");
			if (find_pt(m, fmt->pt))
				return bad(ps, f.p, "m= lists a payload type twice");
			fmt_static(fmt);
		} else {
			if (!is_token(&f))
				return bad(ps, f.p, "m= format is malformed");
			if (find_fmt(m, &f))
				return bad(ps, f.p, "m= lists a format twice");
		}
		m->nfmts++;
	}

	/* Session-level values are the defaults; the section's lines override. */
	m->conn = s->conn;
	m->dir = s->dir;
	m->ptime = ps->ptime;
	m->maxptime = ps->maxptime;
	s->nmedia++;
	ps->m = m;
	ps->m_line = ps->line;
	ps->media_dir = false;
	return 0;
}

/* ---- a= ----------------------------------------------------------------- */

static int set_dir(struct parser *ps, enum sdp_dir dir)
{
	bool *seen = ps->m ? &ps->media_dir : &ps->sess_dir;
	enum sdp_dir *cur = ps->m ? &ps->m->dir : &ps->s->dir;

	/* The same attribute twice is harmless; two different ones leave us
	 * guessing whether to send, which is what hold depends on. */
	if (*seen && *cur != dir)
		return bad(ps, ps->line.p, "conflicting direction attributes");
	*seen = true;
	*cur = dir;
	return 0;
}

/* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] */
static int parse_rtpmap(struct parser *ps, struct str v)
{
	struct str ptf, enc, name, clock, chans;
	struct sdp_fmt *f;
	uint32_t rate, ch = 1;
	long slash;
	int pt;

	if (!ps->m || !is_rtp(ps->m->proto_id))
		return 0; /* means nothing there */
	if (!next_field(&v, &ptf) || !next_field(&v, &enc) || !at_end(&v))
		return bad(ps, ps->line.p, "a=rtpmap needs <payload type> <encoding>/<clock rate>");
	if (!parse_pt(&ptf, &pt))
		return bad(ps, ptf.p, "a=rtpmap payload type is not 0-127");
	slash = str_chr(&enc, '/');
	if (slash < 0)
		return bad(ps, enc.p, "a=rtpmap needs <payload type> <encoding>/<clock rate>");
	name = str_make(enc.p, (size_t)slash);
	clock = str_make(enc.p + slash + 1, enc.len - (size_t)slash - 1);
	chans = STR_NULL;
	slash = str_chr(&clock, '/');
	if (slash >= 0) {
		chans = str_make(clock.p + slash + 1, clock.len - (size_t)slash - 1);
		clock.len = (size_t)slash;
	}
	if (!is_token(&name))
		return bad(ps, enc.p, "a=rtpmap encoding name is malformed");
	if (str_to_u32(&clock, &rate) || rate == 0)
		return bad(ps, clock.p, "a=rtpmap clock rate is malformed");
	if (chans.p && (str_to_u32(&chans, &ch) || ch == 0 || ch > 255))
		return bad(ps, chans.p, "a=rtpmap channels out of range");

	/* An rtpmap for a payload type the m= line does not list is useless but
	 * common (phones that print one table for every stream): skip it. */
	f = find_pt(ps->m, pt);
	if (!f)
		return 0;
	if (f->has_rtpmap)
		return bad(ps, ptf.p, "repeated a=rtpmap for one payload type");
	f->has_rtpmap = true;
	f->encoding = name;
	f->clock = rate;
	f->channels = (uint8_t)ch;
	return 0;
}

/* a=fmtp:<format> <format specific parameters> */
static int parse_fmtp(struct parser *ps, struct str v)
{
	struct str id;
	struct sdp_fmt *f;
	int pt;

	if (!ps->m)
		return 0;
	if (!next_field(&v, &id))
		return bad(ps, ps->line.p, "a=fmtp needs <format> <parameters>");
	if (is_rtp(ps->m->proto_id)) {
		if (!parse_pt(&id, &pt))
			return bad(ps, id.p, "a=fmtp payload type is not 0-127");
		f = find_pt(ps->m, pt);
	} else {
		f = find_fmt(ps->m, &id);
	}
	if (!f)
		return 0;
	if (f->has_fmtp)
		return bad(ps, id.p, "repeated a=fmtp for one format");
	f->has_fmtp = true;
	f->fmtp = skip_sep(v);
	return 0;
}

/* a=ptime / a=maxptime: milliseconds; "20.0" is read as 20 (RFC 4566 allows a fraction). */
static int parse_ms(struct parser *ps, struct str v, uint32_t *ms, const char *reason)
{
	long dot = str_chr(&v, '.');
	struct str whole = dot < 0 ? v : str_make(v.p, (size_t)dot);
	uint32_t n;

	if (dot >= 0) {
		struct str frac = str_make(v.p + dot + 1, v.len - (size_t)dot - 1);

		if (!is_digits(&frac))
			return bad(ps, v.p, reason);
	}
	if (str_to_u32(&whole, &n) || n == 0 || n > 10000)
		return bad(ps, v.p, reason);
	*ms = n;
	return 0;
}

/* a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605) */
static int parse_rtcp(struct parser *ps, struct str v)
{
	struct sdp_media *m = ps->m;
	struct str port;
	uint32_t n;
	int err;

	if (!m)
		return 0;
	if (m->has_rtcp)
		return bad(ps, ps->line.p, "repeated a=rtcp");
	if (!next_field(&v, &port))
		return bad(ps, ps->line.p, "a=rtcp needs <port>");
	if (str_to_u32(&port, &n) || n == 0 || n > 65535)
		return bad(ps, port.p, "a=rtcp port out of range");
	if (!at_end(&v)) {
		err = conn_parse(ps, v, &m->rtcp_conn, CONN_RTCP);
		if (err)
			return err;
	}
	m->has_rtcp = true;
	m->rtcp_port = (uint16_t)n;
	return 0;
}

static int parse_a(struct parser *ps, struct str v)
{
	long colon = str_chr(&v, ':');
	struct str name = colon < 0 ? v : str_make(v.p, (size_t)colon);
	struct str val = colon < 0 ? str_make(v.p + v.len, 0)
				   : str_make(v.p + colon + 1, v.len - (size_t)colon - 1);
	uint32_t *ms;

	if (IS(&name, "sendrecv"))
		return set_dir(ps, SDP_DIR_SENDRECV);
	if (IS(&name, "sendonly"))
		return set_dir(ps, SDP_DIR_SENDONLY);
	if (IS(&name, "recvonly"))
		return set_dir(ps, SDP_DIR_RECVONLY);
	if (IS(&name, "inactive"))
		return set_dir(ps, SDP_DIR_INACTIVE);
	if (IS(&name, "rtpmap"))
		return parse_rtpmap(ps, val);
	if (IS(&name, "fmtp"))
		return parse_fmtp(ps, val);
	if (IS(&name, "ptime")) {
		ms = ps->m ? &ps->m->ptime : &ps->ptime;
		return parse_ms(ps, val, ms, "a=ptime is not a duration of 1 to 10000 ms");
	}
	if (IS(&name, "maxptime")) {
		ms = ps->m ? &ps->m->maxptime : &ps->maxptime;
		return parse_ms(ps, val, ms, "a=maxptime is not a duration of 1 to 10000 ms");
	}
	if (IS(&name, "rtcp"))
		return parse_rtcp(ps, val);
	if (IS(&name, "rtcp-mux")) {
		if (ps->m)
			ps->m->rtcp_mux = true;
		return 0;
	}
	if (IS(&name, "mid")) {
		if (!ps->m)
			return 0;
		if (ps->m->mid.len)
			return bad(ps, ps->line.p, "repeated a=mid");
		if (!is_token(&val))
			return bad(ps, val.p, "a=mid is not a token");
		ps->m->mid = val;
		return 0;
	}
	return 0; /* RFC 4566 §5.13: unknown attributes are ignored */
}

/* ---- lines -------------------------------------------------------------- */

/* One line without its line end: "<type>=<value>". */
static int parse_line(struct parser *ps, char type, struct str v)
{
	struct sdp_session *s = ps->s;

	switch (type) {
	case 'v':
		return bad(ps, ps->line.p, "repeated v= line");
	case 'o':
		if (ps->m)
			return bad(ps, ps->line.p, "o= line inside a media section");
		if (ps->seen_o)
			return bad(ps, ps->line.p, "repeated o= line");
		ps->seen_o = true;
		return parse_o(ps, v);
	case 's':
		if (ps->m)
			return bad(ps, ps->line.p, "s= line inside a media section");
		if (ps->seen_s)
			return bad(ps, ps->line.p, "repeated s= line");
		ps->seen_s = true;
		s->name = v;
		return 0;
	case 't':
		if (ps->m)
			return bad(ps, ps->line.p, "t= line inside a media section");
		return parse_t(ps, v);
	case 'c':
		if (ps->m) {
			if (ps->m->conn_own)
				return bad(ps, ps->line.p, "repeated c= line");
			ps->m->conn_own = true;
			return conn_parse(ps, v, &ps->m->conn, CONN_C);
		}
		if (s->conn.type != SDP_ADDR_NONE)
			return bad(ps, ps->line.p, "repeated c= line");
		return conn_parse(ps, v, &s->conn, CONN_C);
	case 'b':
		return parse_b(ps, v);
	case 'm':
		return parse_m(ps, v);
	case 'a':
		return parse_a(ps, v);
	default:
		/* i= u= e= p= r= z= k= carry nothing we use. RFC 4566 §5 wants a
		 * description with an unknown type rejected whole; phones that
		 * add their own (y= and f= of GB28181 cameras) would then get no
		 * call at all, so unknown types are skipped like attributes. */
		return 0;
	}
}

/* Lines starting with "m=": the size of the media array. Capped at the
 * limit, which the pass itself reports with the line's offset. */
static unsigned count_media(const char *buf, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i + 1 < len && n < SDP_MAX_MEDIA; i++) {
		if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'm' && buf[i + 1] == '=')
			n++;
	}
	return n;
}

int sdp_parse(struct sdp_session **sp, struct arena *arena, const char *buf, size_t len,
	      struct sdp_perr *perr)
{
	struct parser ps;
	struct sdp_session *s;
	size_t pos = 0, blank = SIZE_MAX;
	unsigned nmedia;
	int err;

	if (!sp || !arena || (!buf && len))
		return -EINVAL;
	memset(&ps, 0, sizeof(ps));
	ps.buf = buf;
	ps.len = len;
	ps.arena = arena;
	ps.perr = perr;
	if (!len)
		return fail(&ps, -EBADMSG, 0, "empty description");
	if (len > SDP_MAX_SIZE)
		return fail(&ps, -EMSGSIZE, SDP_MAX_SIZE, "description larger than 16384 bytes");

	s = arena_zalloc(arena, sizeof(*s));
	if (!s)
		return nomem(&ps);
	s->buf = buf;
	s->len = len;
	ps.s = s;
	nmedia = count_media(buf, len);
	if (nmedia) {
		s->media = arena_zalloc(arena, nmedia * sizeof(*s->media));
		if (!s->media)
			return nomem(&ps);
		ps.media_cap = nmedia;
	}

	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;

		pos += llen + (nl ? 1 : 0);
		/* CRLF or a bare LF (RFC 4566 §5 asks parsers to accept both);
		 * trailing blanks are dropped, some phones leave them. */
		if (llen && line[llen - 1] == '\r')
			llen--;
		while (llen && is_sep(line[llen - 1]))
			llen--;
		ps.line = str_make(line, llen);
		if (!llen) {
			/* Blank lines are tolerated at the end only: in the middle
			 * they mean a body glued to something else. */
			if (line == buf)
				return bad(&ps, line, "description does not start with v=");
			if (blank == SIZE_MAX)
				blank = (size_t)(line - buf);
			continue;
		}
		if (blank != SIZE_MAX) {
			ps.line = STR_NULL;
			return fail(&ps, -EBADMSG, blank, "blank line inside the description");
		}
		if (memchr(line, '\0', llen))
			return bad(&ps, memchr(line, '\0', llen), "NUL byte in a line");
		if (memchr(line, '\r', llen))
			return bad(&ps, memchr(line, '\r', llen), "CR inside a line");
		if (llen < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=')
			return bad(&ps, line, "line is not <type>=<value>");
		if (line == buf) {
			/* RFC 4566 §5: v= comes first, and version 0 is all there is. */
			if (line[0] != 'v')
				return bad(&ps, line, "description does not start with v=");
			if (llen != 3 || line[2] != '0')
				return bad(&ps, line + 2, "v= is not 0");
			continue;
		}
		err = parse_line(&ps, line[0], str_make(line + 2, llen - 2));
		if (err)
			return err;
	}
	err = media_end(&ps);
	if (err)
		return err;
	if (!ps.seen_o) {
		ps.line = STR_NULL;
		return fail(&ps, -EBADMSG, len, "no o= line");
	}
	*sp = s;
	return 0;
}
