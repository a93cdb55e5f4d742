/*
 * sip_frame: stream framing (see sip_frame.h). Finds the empty line that
 * ends the header section and reads Content-Length (long or compact name,
 * folded or not); it checks nothing else.
 */
#include <errno.h>

#include "sip/sip_frame.h"
#include "sip/sip_internal.h"

static int frame_err(struct sip_perr *perr, int err, size_t off, struct str hdr, const char *reason)
{
	if (perr) {
		perr->offset = off;
		perr->hdr = hdr;
		perr->reason = reason;
	}
	return err;
}

/* Content-Length value of the field [s, e) when it is one: 1 found, 0 not. */
static int content_length(const char *s, const char *e, struct str *name, struct str *val)
{
	struct lex l = {s, e};

	*name = lex_span(&l, CC_TOKEN);
	if (!(name->len == 1 && (name->p[0] | 0x20) == 'l') &&
	    !lower_eq_lit(name, "content-length"))
		return 0;
	while (l.p < l.end && (*l.p == ' ' || *l.p == '\t'))
		l.p++;
	if (!lex_is(&l, ':'))
		return 0;
	l.p++;
	*val = str_trim(str_make(l.p, (size_t)(l.end - l.p)));
	return 1;
}

int sip_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *used,
	      struct sip_perr *perr)
{
	const char *p = buf, *end = buf + len, *field = NULL, *field_end = NULL;
	struct str cl_name = STR("Content-Length");
	bool have_cl = false;
	uint32_t cl = 0;
	size_t hdr_len, total;

	if (!lim)
		lim = &sip_limits_default;
	/* RFC 5626 §3.5.1 keep-alives: a CRLFCRLF ping or a CRLF pong. Any
	 * other CR or LF before a start line is skipped a byte at a time, as
	 * the parser skips it (RFC 3261 §7.5 asks to ignore CRLFs there). */
	if (len >= 1 && (buf[0] == '\r' || buf[0] == '\n')) {
		if (len >= 4 && !memcmp(buf, "\r\n\r\n", 4)) {
			*used = 4;
			return SIP_FRAME_KEEPALIVE;
		}
		if (len < 4 && !memcmp(buf, "\r\n\r\n", len))
			return SIP_FRAME_MORE; /* maybe a ping still arriving */
		*used = (len >= 2 && buf[0] == '\r' && buf[1] == '\n') ? 2 : 1;
		return SIP_FRAME_KEEPALIVE;
	}

	/* Walk the lines; a field is a line plus its folded continuations. */
	for (;;) {
		const char *nl = find_byte(p, end, '\n');
		const char *le;

		if (!nl) {
			if (len > lim->max_msg)
				return frame_err(perr, -EMSGSIZE, lim->max_msg, STR_NULL,
						 "message too large");
			return SIP_FRAME_MORE;
		}
		le = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
		if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t') && le != p) {
			/* Folded: the field goes on; remember where it started. */
			if (!field)
				field = p;
			p = nl + 1;
			continue;
		}
		if (nl + 1 == end && le != p) {
			/* Cannot tell yet whether the next line folds into this one. */
			if (len > lim->max_msg)
				return frame_err(perr, -EMSGSIZE, lim->max_msg, STR_NULL,
						 "message too large");
			return SIP_FRAME_MORE;
		}
		if (!field)
			field = p;
		field_end = le;
		if (le == p) { /* the empty line */
			p = nl + 1;
			break;
		}
		if (field != buf) { /* not the start line */
			struct str name, val;

			if (content_length(field, field_end, &name, &val)) {
				uint32_t n;
				int err = str_to_u32(&val, &n);

				if (err)
					return frame_err(perr, -EBADMSG, (size_t)(val.p - buf),
							 name, "bad Content-Length");
				if (have_cl && n != cl)
					return frame_err(perr, -EBADMSG, (size_t)(val.p - buf),
							 name, "conflicting Content-Length");
				have_cl = true;
				cl = n;
				cl_name = name;
			}
		}
		field = NULL;
		p = nl + 1;
	}
	hdr_len = (size_t)(p - buf);
	if (!have_cl)
		return frame_err(perr, -EBADMSG, hdr_len, STR("Content-Length"),
				 "Content-Length missing on a stream");
	total = hdr_len + cl;
	if (total > lim->max_msg)
		return frame_err(perr, -EMSGSIZE, hdr_len, cl_name, "message too large");
	if (len < total)
		return SIP_FRAME_MORE;
	*used = total;
	return SIP_FRAME_MSG;
}
