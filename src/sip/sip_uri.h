/*
 * sip_uri: SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), parsed
 * in place into views, and helpers for ;param lists shared with headers.
 *
 * Escapes (%HH) are validated but kept as on the wire: comparing or
 * unescaping is the caller's choice (sip_uri_unescape). Other schemes are
 * accepted as opaque absolute URIs (scheme ":" anything) so a parser never
 * rejects a message only for a URI it does not route (RFC 4475 §3.3.2).
 */
#ifndef SIP_URI_H
#define SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/str.h"

enum sip_uri_scheme {
	SIP_URI_SIP = 0,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* only scheme and raw are set */
};

enum sip_host_type {
	SIP_HOST_NAME = 0,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host holds the address without the brackets */
};

/* Every view points into the buffer the URI was parsed from. */
struct sip_uri {
	struct str raw; /* the whole URI */
	enum sip_uri_scheme scheme;
	struct str scheme_str;
	struct str user;     /* userinfo user (escapes kept); tel: the number */
	struct str password; /* empty when absent */
	struct str host;
	enum sip_host_type host_type;
	uint16_t port;	    /* 0 when absent */
	struct str params;  /* ";a=b;lr" with the leading ';', or empty */
	struct str headers; /* after '?', without it, or empty */
	bool has_headers;   /* a '?' with at least one header was present */
};

/* Where parsing a URI stops: each rule is the grammar of one context. */
enum sip_uri_ctx {
	SIP_URI_CTX_NAME_ADDR = 0, /* inside <...>: params and headers belong to the URI */
	SIP_URI_CTX_ADDR_SPEC,	   /* bare in a header: no ';' params, no '?' headers, no ',' */
	SIP_URI_CTX_REQUEST,	   /* Request-URI: params allowed, headers are an error */
};

/*
 * Parse @s (exactly the URI, nothing around it) into @uri. Returns 0, or
 * -EBADMSG with *@why set to a short static reason. @uri is written whole on
 * success only.
 */
int sip_uri_parse(struct sip_uri *uri, struct str s, enum sip_uri_ctx ctx, const char **why);

/*
 * Find parameter @name (case-insensitive) in a ";a=b;c" list as stored in
 * struct sip_uri.params or a header's params. Returns true when present;
 * *@val gets its value (without quotes for quoted values; empty for a bare
 * flag). LWS around ';' and '=' is allowed (header parameters may be folded).
 */
bool sip_param_get(const struct str *params, const char *name, struct str *val);

/*
 * Decode %HH escapes of @in into the arena (NUL-terminated). Returns 0,
 * -EBADMSG for a bad escape or -ENOMEM; @out is written on success only.
 */
int sip_uri_unescape(struct arena *a, const struct str *in, struct str *out);

#endif
