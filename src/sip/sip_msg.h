/*
 * sip_msg: the SIP message parser (RFC 3261 §7, §20, §25; RFC 3581 rport;
 * RFC 7616 / RFC 8760 SHA-256 digest parameters).
 *
 * sip_msg_parse() reads one whole message from a buffer it borrows and
 * builds the parsed form in an arena: every string is a view into the
 * buffer, nothing is copied or unescaped. All headers the platform acts on
 * are parsed and validated up front (Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Contact, Route, Record-Route, Content-Length, Content-Type,
 * Expires, the four authentication headers, Allow, Supported, Require...);
 * others are kept as name/value views. The comma-separated values of
 * address lists (Via, Contact, Route, Record-Route, Path) become one struct
 * sip_hdr each; token lists (Allow, Supported, Require, Proxy-Require,
 * Unsupported, Content-Encoding) and Accept are validated element by
 * element but stay one struct sip_hdr per line, read with sip_list_next()
 * or sip_msg_has_token(): they are asked "is X in the set?", never edited
 * one element at a time, and a header per element would be pure cost.
 *
 * Bad input never crashes or over-reads; it returns -EBADMSG (malformed),
 * -EMSGSIZE (a limit was exceeded) or -EPROTONOSUPPORT (not SIP/2.0), with a
 * struct sip_perr naming the header, the byte offset and the problem.
 *
 * Not here: message construction and editing (sip_print.h), cutting a byte
 * stream into messages (sip_frame.h), transactions and dialogs.
 */
#ifndef SIP_MSG_H
#define SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/str.h"
#include "sip/sip_uri.h"

enum sip_method {
	SIP_METHOD_OTHER = 0, /* an extension method: see method_str */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
	SIP_METHOD__COUNT,
};

/* Headers known by name (long and compact forms, any case). */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTACT,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_PATH,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_ALLOW,
	SIP_HDR_SUPPORTED,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_DATE,
	SIP_HDR_SUBJECT,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_ACCEPT,
	SIP_HDR_EVENT,
	SIP_HDR_REFER_TO,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR__COUNT,
};

enum sip_transport {
	SIP_TRANSPORT_OTHER = 0,
	SIP_TRANSPORT_UDP,
	SIP_TRANSPORT_TCP,
	SIP_TRANSPORT_TLS,
	SIP_TRANSPORT_SCTP,
	SIP_TRANSPORT_WS,
	SIP_TRANSPORT_WSS,
};

/* One Via value (RFC 3261 §20.42, RFC 3581). */
struct sip_via {
	struct str proto;     /* "SIP/2.0/UDP" as written (may hold LWS) */
	struct str transport; /* "UDP" */
	enum sip_transport transport_id;
	struct str host; /* sent-by host; IPv6 without brackets */
	enum sip_host_type host_type;
	uint16_t port;	     /* 0 when absent */
	struct str params;   /* ";branch=...;rport" raw, or empty */
	struct str branch;   /* empty when absent */
	struct str received; /* empty when absent; brackets removed */
	struct str maddr;
	bool has_rport; /* ;rport present (with or without a value) */
	uint16_t rport; /* its value, 0 when none was given */
	bool has_ttl;
	uint8_t ttl;
};

/* From, To, Contact, Route, Record-Route, Path, Refer-To (name-addr / addr-spec). */
struct sip_addr {
	struct str display; /* display name: quotes removed, quoted-pairs kept; or empty */
	bool name_addr;	    /* the URI was in <...> */
	bool star;	    /* Contact: * */
	struct sip_uri uri;
	struct str params; /* header params after the URI (";tag=..;expires=..") */
	struct str tag;	   /* ;tag value, empty when absent */
	bool has_expires;  /* Contact ;expires */
	uint32_t expires;  /* clamped to UINT32_MAX */
	bool has_q;
	uint16_t q; /* ;q in thousandths (0..1000) */
};

struct sip_cseq {
	uint32_t seq;
	struct str method_str;
	enum sip_method method;
};

enum sip_auth_alg {
	SIP_AUTH_ALG_NONE = 0, /* no algorithm parameter: MD5 by default */
	SIP_AUTH_ALG_MD5,
	SIP_AUTH_ALG_MD5_SESS,
	SIP_AUTH_ALG_SHA256,
	SIP_AUTH_ALG_SHA256_SESS,
	SIP_AUTH_ALG_SHA512_256,
	SIP_AUTH_ALG_SHA512_256_SESS,
	SIP_AUTH_ALG_OTHER,
};

/*
 * Authorization / Proxy-Authorization (credentials) and WWW-Authenticate /
 * Proxy-Authenticate (challenges). Quoted values are given without quotes.
 */
struct sip_auth {
	struct str scheme; /* "Digest", or an unknown scheme */
	struct str params; /* all auth-params, raw */
	struct str realm, nonce, opaque, algorithm, qop;
	struct str username, uri, response, cnonce, nc; /* credentials */
	struct str domain, stale;			/* challenges */
	bool userhash;					/* RFC 7616 userhash=true */
	enum sip_auth_alg alg;
};

/* One header value (one element of a comma-separated list). */
struct sip_hdr {
	enum sip_hdr_id id;
	struct str name;  /* as written */
	struct str value; /* this element, trimmed; may contain folded LWS */
	uint32_t line;	  /* index into sip_msg.lines of the header line holding it */
	int32_t next;	  /* next header of the same id (-1 at the end); OTHER: next unknown */
	union {		  /* the parsed form, by id; NULL for unparsed ids */
		const struct sip_via *via;
		const struct sip_addr *addr;
		const struct sip_auth *auth;
		const void *any;
	} p;
};

/* One header field as written: its bytes from the name to the CRLF included. */
struct sip_line {
	uint32_t off;
	uint32_t len;
	uint32_t first_hdr; /* index of its first struct sip_hdr */
	uint32_t nhdrs;	    /* how many values it holds */
	enum sip_hdr_id id;
};

struct sip_limits {
	size_t max_msg;	  /* whole message, headers and body */
	size_t max_hdrs;  /* header values */
	size_t max_uri;	  /* length of any URI */
	size_t max_arena; /* parsed form */
};

/* 65535-byte messages, 256 header values, 2 KiB URIs, 256 KiB of parsed form. */
extern const struct sip_limits sip_limits_default;

/* Why a message was rejected. */
struct sip_perr {
	size_t offset;	    /* bytes from the start of the message */
	struct str hdr;	    /* the header's name as written, or empty (start line, body) */
	const char *reason; /* static text, e.g. "CSeq number out of range" */
};

enum sip_parse_flags {
	/*
	 * The buffer is one datagram (RFC 3261 §18.3): without Content-Length the
	 * body runs to the end; bytes past Content-Length are ignored. Without
	 * this flag the buffer must be exactly one framed message (sip_frame.h)
	 * and Content-Length is mandatory.
	 */
	SIP_PARSE_DGRAM = 1 << 0,
};

struct sip_msg {
	const char *buf; /* borrowed: the caller's buffer */
	size_t len;	 /* bytes of this message (headers + body) */
	bool is_request;

	/* request */
	struct str method_str;
	enum sip_method method;
	struct sip_uri ruri;

	/* response */
	uint16_t status;
	struct str reason;

	struct str start_line; /* without CRLF */

	struct sip_hdr *hdrs; /* in order of appearance */
	uint32_t nhdrs;
	struct sip_line *lines;
	uint32_t nlines;
	int32_t first[SIP_HDR__COUNT]; /* first header of each id, -1 when absent */

	/* Mandatory and single-valued headers, parsed. */
	const struct sip_via *via; /* top Via */
	const struct sip_addr *from;
	const struct sip_addr *to;
	struct str call_id;
	struct sip_cseq cseq;
	bool has_max_forwards;
	uint32_t max_forwards;
	bool has_content_length;
	uint32_t content_length;
	bool has_expires;
	uint32_t expires; /* clamped to UINT32_MAX */
	struct str content_type;

	size_t body_off; /* offset of the body (after the empty line) */
	struct str body;
};

/*
 * Parse the message in @buf[0..@len). The parsed form is allocated from
 * @arena (the caller resets it when done); @buf must stay valid and unchanged
 * while *@msgp is used. @lim may be NULL for sip_limits_default. @perr may be
 * NULL. Returns 0 and *@msgp, or -EBADMSG, -EMSGSIZE, -EPROTONOSUPPORT or
 * -ENOMEM with @perr filled.
 */
int sip_msg_parse(struct sip_msg **msgp, struct arena *arena, const char *buf, size_t len,
		  unsigned flags, const struct sip_limits *lim, struct sip_perr *perr);

/* First header with @id, or NULL. Iterate with sip_hdr_next(). */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id);
const struct sip_hdr *sip_hdr_next(const struct sip_msg *msg, const struct sip_hdr *h);
/* First header whose name equals @name (case-insensitive, compact forms too), or NULL. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg, const struct str *name);
/* Number of values of @id. */
unsigned sip_msg_hdr_count(const struct sip_msg *msg, enum sip_hdr_id id);

/*
 * Next token of a token-list value (Allow, Supported, Require...): start
 * with *@pos = 0; returns false at the end. @item points into @list.
 */
bool sip_list_next(const struct str *list, size_t *pos, struct str *item);
/* True when a header of @id lists @token (Allow: case-sensitive, as methods are). */
bool sip_msg_has_token(const struct sip_msg *msg, enum sip_hdr_id id, const char *token);

/* Names and lookups. */
enum sip_method sip_method_from_str(const struct str *s);
const char *sip_method_name(enum sip_method m); /* "INVITE"...; NULL for OTHER */
enum sip_hdr_id sip_hdr_id_from_name(const struct str *name);
const char *sip_hdr_name(enum sip_hdr_id id); /* canonical long form; NULL for OTHER */
/* Default reason phrase for a status code ("Not Found"), or "Unknown". */
const char *sip_reason_phrase(unsigned status);

#endif
