/*
 * sip_print: serialise SIP messages.
 *
 * Two jobs. sip_edit_*: take a parsed message, record changes (remove,
 * replace or insert header values, a new Request-URI, a new body) and print
 * the result; header lines that no change touches are copied byte for byte,
 * so forwarding a request never re-parses or re-formats the rest of it.
 * sip_reply_print: build a response to a parsed request (RFC 3261 §8.2.6).
 *
 * The printer always writes a correct Content-Length, and only CRLF line
 * ends in what it writes itself. Values given to it are trusted to be
 * well-formed header text (no CR or LF): they come from our own code.
 */
#ifndef SIP_PRINT_H
#define SIP_PRINT_H

#include "base/arena.h"
#include "base/mbuf.h"
#include "base/str.h"
#include "sip/sip_msg.h"

struct sip_edit_op;

/* Lives on the caller's stack or in a struct; its memory is in @arena. */
struct sip_edit {
	const struct sip_msg *msg; /* borrowed; must outlive the edit */
	struct arena *arena;
	struct sip_edit_op *ops; /* in the order recorded */
	struct sip_edit_op *last;
	struct str ruri; /* new Request-URI, or empty to keep */
	bool body_set;
	struct str body;
	struct str content_type; /* with body_set: empty removes Content-Type */
};

void sip_edit_init(struct sip_edit *e, const struct sip_msg *msg, struct arena *arena);

/* Drop one header value (its line disappears when no value is left). 0 or -ENOMEM. */
int sip_edit_remove(struct sip_edit *e, const struct sip_hdr *h);
/* Replace one header value, keeping its name and place. 0 or -ENOMEM. */
int sip_edit_replace(struct sip_edit *e, const struct sip_hdr *h, struct str value);
/*
 * Add a header line "@name: @value" before the line holding @before, or
 * after the last header when @before is NULL. 0 or -ENOMEM.
 */
int sip_edit_insert(struct sip_edit *e, const struct sip_hdr *before, struct str name,
		    struct str value);
/*
 * Add "@name: @value" above the first header of @id (a new top Via, a
 * Record-Route); at the top of the header section when there is none.
 */
int sip_edit_prepend(struct sip_edit *e, enum sip_hdr_id id, struct str name, struct str value);
/* New Request-URI (requests only). */
void sip_edit_set_ruri(struct sip_edit *e, struct str uri);
/* New body and Content-Type (empty type: no Content-Type line). */
void sip_edit_set_body(struct sip_edit *e, struct str content_type, struct str body);

/* Append the edited message to @out. 0, -ENOMEM or -EMSGSIZE (out's limit). */
int sip_edit_print(const struct sip_edit *e, struct mbuf *out);

struct sip_reply {
	unsigned status;	 /* 100..699 */
	struct str reason;	 /* empty: sip_reason_phrase(status) */
	struct str to_tag;	 /* added to To when the request's To has no tag */
	struct str headers;	 /* extra header lines, each ending in CRLF, or empty */
	struct str content_type; /* with a body */
	struct str body;
	struct str top_via; /* replaces the top Via value (received, rport), or empty */
};

/*
 * Append a response to @req: status line, every Via, From, To (with the tag),
 * Call-ID and CSeq as the request wrote them, then @r->headers, then the
 * body with its Content-Type and Content-Length. 0, -ENOMEM or -EMSGSIZE.
 */
int sip_reply_print(struct mbuf *out, const struct sip_msg *req, const struct sip_reply *r);

/*
 * Answer a request that did not parse (RFC 3261 §8.2: a malformed request
 * still deserves a response when one can be routed): if @buf starts like a
 * request (not "SIP/"), copy its Via, From, To, Call-ID and CSeq lines as
 * received, under "SIP/2.0 @status @reason", with Content-Length: 0.
 * @buf is untrusted and not parsed: only line ends and header names are
 * looked at. Returns 0, -EINVAL when it is not a request or has no Via (no
 * way to route an answer), -ENOMEM or -EMSGSIZE. @reason must not hold CR
 * or LF.
 */
int sip_reply_print_raw(struct mbuf *out, const char *buf, size_t len, unsigned status,
			struct str reason);

#endif
