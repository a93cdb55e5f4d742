/*
 * sip_print: editing and printing parsed messages, and building replies
 * (see sip_print.h).
 *
 * Printing walks the original header lines in order. A line no edit
 * touches is copied as it was received (folding and all); a line with a
 * removed or replaced value is rewritten as "Name: v1, v2". Content-Length
 * is rewritten only when the body changes or the original had none.
 */
#include <errno.h>

#include "sip/sip_internal.h"
#include "sip/sip_print.h"

enum edit_kind {
	EDIT_REMOVE,
	EDIT_REPLACE,
	EDIT_INSERT, /* before a line, or at the end (line == UINT32_MAX) */
};

struct sip_edit_op {
	struct sip_edit_op *next;
	enum edit_kind kind;
	uint32_t hdr;  /* REMOVE, REPLACE: index of the value */
	uint32_t line; /* INSERT: line to print before */
	struct str name;
	struct str value;
};

void sip_edit_init(struct sip_edit *e, const struct sip_msg *msg, struct arena *arena)
{
	memset(e, 0, sizeof(*e));
	e->msg = msg;
	e->arena = arena;
}

static int add_op(struct sip_edit *e, enum edit_kind kind, uint32_t hdr, uint32_t line,
		  struct str name, struct str value)
{
	struct sip_edit_op *op = arena_alloc(e->arena, sizeof(*op));

	if (!op)
		return -ENOMEM;
	op->next = NULL;
	op->kind = kind;
	op->hdr = hdr;
	op->line = line;
	op->name = name;
	op->value = value;
	if (e->last)
		e->last->next = op;
	else
		e->ops = op;
	e->last = op;
	return 0;
}

static uint32_t hdr_index(const struct sip_edit *e, const struct sip_hdr *h)
{
	return (uint32_t)(h - e->msg->hdrs);
}

int sip_edit_remove(struct sip_edit *e, const struct sip_hdr *h)
{
	return add_op(e, EDIT_REMOVE, hdr_index(e, h), 0, h->name, STR_NULL);
}

int sip_edit_replace(struct sip_edit *e, const struct sip_hdr *h, struct str value)
{
	return add_op(e, EDIT_REPLACE, hdr_index(e, h), 0, h->name, value);
}

int sip_edit_insert(struct sip_edit *e, const struct sip_hdr *before, struct str name,
		    struct str value)
{
	return add_op(e, EDIT_INSERT, 0, before ? before->line : UINT32_MAX, name, value);
}

int sip_edit_prepend(struct sip_edit *e, enum sip_hdr_id id, struct str name, struct str value)
{
	const struct sip_hdr *h = sip_msg_hdr(e->msg, id);

	return add_op(e, EDIT_INSERT, 0, h ? h->line : 0, name, value);
}

void sip_edit_set_ruri(struct sip_edit *e, struct str uri)
{
	e->ruri = uri;
}

void sip_edit_set_body(struct sip_edit *e, struct str content_type, struct str body)
{
	e->body_set = true;
	e->content_type = content_type;
	e->body = body;
}

/* "name: value", without the line end. */
static int put_hdr_start(struct mbuf *out, struct str name, struct str value)
{
	int err = mbuf_write_str(out, &name);

	err = err ? err : mbuf_write(out, ": ", 2);
	return err ? err : mbuf_write_str(out, &value);
}

static int put_hdr(struct mbuf *out, struct str name, struct str value)
{
	int err = put_hdr_start(out, name, value);

	return err ? err : mbuf_write(out, "\r\n", 2);
}

static int put_inserts(const struct sip_edit *e, struct mbuf *out, uint32_t line)
{
	for (const struct sip_edit_op *op = e->ops; op; op = op->next) {
		if (op->kind == EDIT_INSERT && op->line == line) {
			int err = put_hdr(out, op->name, op->value);

			if (err)
				return err;
		}
	}
	return 0;
}

/* The edit for value @hdr (the last one recorded wins), or NULL. */
static const struct sip_edit_op *value_op(const struct sip_edit *e, uint32_t hdr)
{
	const struct sip_edit_op *found = NULL;

	for (const struct sip_edit_op *op = e->ops; op; op = op->next) {
		if (op->kind != EDIT_INSERT && op->hdr == hdr)
			found = op;
	}
	return found;
}

/* Print line @ln with its edited values: "Name: v1, v2", or nothing when
 * every value was removed. */
static int put_edited_line(const struct sip_edit *e, struct mbuf *out, const struct sip_line *ln)
{
	const struct sip_msg *msg = e->msg;
	bool first = true;
	int err = 0;

	for (uint32_t i = ln->first_hdr; i < ln->first_hdr + ln->nhdrs && !err; i++) {
		const struct sip_edit_op *op = value_op(e, i);
		struct str v = msg->hdrs[i].value;

		if (op && op->kind == EDIT_REMOVE)
			continue;
		if (op)
			v = op->value;
		if (first)
			err = mbuf_write_str(out, &msg->hdrs[i].name);
		err = err ? err : mbuf_write(out, first ? ": " : ", ", 2);
		err = err ? err : mbuf_write_str(out, &v);
		first = false;
	}
	if (!err && !first)
		err = mbuf_write(out, "\r\n", 2);
	return err;
}

static bool line_edited(const struct sip_edit *e, const struct sip_line *ln)
{
	for (const struct sip_edit_op *op = e->ops; op; op = op->next) {
		if (op->kind != EDIT_INSERT && op->hdr >= ln->first_hdr &&
		    op->hdr < ln->first_hdr + ln->nhdrs)
			return true;
	}
	return false;
}

static int put_start_line(const struct sip_edit *e, struct mbuf *out)
{
	const struct sip_msg *msg = e->msg;
	int err;

	if (!msg->is_request || !e->ruri.len) {
		err = mbuf_write_str(out, &msg->start_line);
		return err ? err : mbuf_write(out, "\r\n", 2);
	}
	/* Views are written with mbuf_write, never "%.*s": a view may hold a NUL. */
	err = mbuf_write_str(out, &msg->method_str);
	err = err ? err : mbuf_write_u8(out, ' ');
	err = err ? err : mbuf_write_str(out, &e->ruri);
	return err ? err : mbuf_write(out, " SIP/2.0\r\n", 10);
}

int sip_edit_print(const struct sip_edit *e, struct mbuf *out)
{
	const struct sip_msg *msg = e->msg;
	struct str body = e->body_set ? e->body : msg->body;
	size_t mark = out->end;
	int err;

	err = put_start_line(e, out);
	for (uint32_t i = 0; i < msg->nlines && !err; i++) {
		const struct sip_line *ln = &msg->lines[i];

		err = put_inserts(e, out, i);
		if (err)
			break;
		/* A new body brings its own Content-Type and Content-Length. */
		if (ln->id == SIP_HDR_CONTENT_LENGTH ||
		    (e->body_set && ln->id == SIP_HDR_CONTENT_TYPE))
			continue;
		if (line_edited(e, ln))
			err = put_edited_line(e, out, ln);
		else
			err = mbuf_write(out, msg->buf + ln->off, ln->len);
	}
	err = err ? err : put_inserts(e, out, UINT32_MAX);
	if (!err && e->body_set && e->content_type.len)
		err = put_hdr(out, STR("Content-Type"), e->content_type);
	err = err ? err : mbuf_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
	err = err ? err : mbuf_write_str(out, &body);
	if (err)
		out->end = mark; /* nothing half-written */
	return err;
}

/* Copy every line of @id as received. */
static int copy_lines(struct mbuf *out, const struct sip_msg *msg, enum sip_hdr_id id)
{
	for (uint32_t i = 0; i < msg->nlines; i++) {
		const struct sip_line *ln = &msg->lines[i];

		if (ln->id == id) {
			int err = mbuf_write(out, msg->buf + ln->off, ln->len);

			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * The Via lines with the first value replaced by @top: its line is rewritten
 * ("Via: top, other values"), the other lines copied as received.
 */
static int put_vias(struct mbuf *out, const struct sip_msg *req, struct str top)
{
	const struct sip_hdr *first = sip_msg_hdr(req, SIP_HDR_VIA);
	int err = 0;

	for (uint32_t i = 0; i < req->nlines && !err; i++) {
		const struct sip_line *ln = &req->lines[i];

		if (ln->id != SIP_HDR_VIA)
			continue;
		if (!first || i != first->line) {
			err = mbuf_write(out, req->buf + ln->off, ln->len);
			continue;
		}
		err = put_hdr_start(out, req->hdrs[ln->first_hdr].name, top);
		for (uint32_t k = ln->first_hdr + 1; !err && k < ln->first_hdr + ln->nhdrs; k++) {
			err = mbuf_write(out, ", ", 2);
			err = err ? err : mbuf_write_str(out, &req->hdrs[k].value);
		}
		err = err ? err : mbuf_write(out, "\r\n", 2);
	}
	return err;
}

int sip_reply_print(struct mbuf *out, const struct sip_msg *req, const struct sip_reply *r)
{
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	struct str reason = r->reason;
	size_t mark = out->end;
	int err;

	if (!req->is_request || r->status < 100 || r->status > 699 || !to)
		return -EINVAL;
	if (!reason.len)
		reason = str_cstr(sip_reason_phrase(r->status));
	err = mbuf_printf(out, "SIP/2.0 %u ", r->status);
	err = err ? err : mbuf_write_str(out, &reason);
	err = err ? err : mbuf_write(out, "\r\n", 2);
	/* RFC 3261 §8.2.6.2: Via, From, Call-ID and CSeq copied, To gets our tag. */
	if (!err && r->top_via.len)
		err = put_vias(out, req, r->top_via);
	else if (!err)
		err = copy_lines(out, req, SIP_HDR_VIA);
	err = err ? err : copy_lines(out, req, SIP_HDR_FROM);
	if (!err && !req->to->tag.len && r->to_tag.len && r->status > 100) {
		err = mbuf_write_cstr(out, "To: ");
		err = err ? err : mbuf_write_str(out, &to->value);
		err = err ? err : mbuf_write_cstr(out, ";tag=");
		err = err ? err : mbuf_write_str(out, &r->to_tag);
		err = err ? err : mbuf_write(out, "\r\n", 2);
	} else if (!err) {
		err = put_hdr(out, STR("To"), to->value);
	}
	err = err ? err : copy_lines(out, req, SIP_HDR_CALL_ID);
	err = err ? err : copy_lines(out, req, SIP_HDR_CSEQ);
	err = err ? err : mbuf_write_str(out, &r->headers);
	if (!err && r->body.len && r->content_type.len)
		err = put_hdr(out, STR("Content-Type"), r->content_type);
	err = err ? err : mbuf_printf(out, "Content-Length: %zu\r\n\r\n", r->body.len);
	err = err ? err : mbuf_write_str(out, &r->body);
	if (err)
		out->end = mark;
	return err;
}

/* The id of a raw header field's name, for the few a raw reply copies. */
static enum sip_hdr_id raw_name_id(const char *p, const char *end)
{
	struct lex l = {p, end};
	struct str name = lex_span(&l, CC_TOKEN);

	while (l.p < l.end && (*l.p == ' ' || *l.p == '\t'))
		l.p++;
	if (!name.len || !lex_is(&l, ':'))
		return SIP_HDR_OTHER;
	return sip_hdr_id_from_name(&name);
}

int sip_reply_print_raw(struct mbuf *out, const char *buf, size_t len, unsigned status,
			struct str reason)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t mark = out->end;
	bool via = false;
	int err;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (end - p < 4 || !memcmp(p, "SIP/", 4) || status < 300 || status > 699)
		return -EINVAL;
	nl = find_byte(p, end, '\n');
	if (!nl)
		return -EINVAL;
	err = mbuf_printf(out, "SIP/2.0 %u ", status);
	err = err ? err : mbuf_write_str(out, &reason);
	err = err ? err : mbuf_write(out, "\r\n", 2);
	/* Header fields up to the empty line; folded lines go with their field. */
	for (p = nl + 1; !err && p < end;) {
		const char *s = p;
		enum sip_hdr_id id;

		nl = find_byte(p, end, '\n');
		if (!nl || nl == p || (nl == p + 1 && *p == '\r'))
			break;
		p = nl + 1;
		while (p < end && (*p == ' ' || *p == '\t')) {
			nl = find_byte(p, end, '\n');
			if (!nl)
				break;
			p = nl + 1;
		}
		if (!nl)
			break;
		id = raw_name_id(s, p);
		if (id == SIP_HDR_VIA || id == SIP_HDR_FROM || id == SIP_HDR_TO ||
		    id == SIP_HDR_CALL_ID || id == SIP_HDR_CSEQ) {
			/* Normalise the line end: a bare LF gets its CR back. */
			size_t n = (size_t)(p - s) - 1;

			if (n && s[n - 1] == '\r')
				n--;
			via |= id == SIP_HDR_VIA;
			err = mbuf_write(out, s, n);
			err = err ? err : mbuf_write(out, "\r\n", 2);
		}
	}
	if (!err && !via)
		err = -EINVAL;
	err = err ? err : mbuf_write_cstr(out, "Content-Length: 0\r\n\r\n");
	if (err)
		out->end = mark;
	return err;
}
