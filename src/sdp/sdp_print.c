/*
 * sdp_print: SDP text from a struct sdp_session (see sdp.h).
 *
 * The same struct serves our own descriptions (sdp_offer, sdp_answer) and
 * parsed ones, so what we print parses back to the same values. Every field
 * is checked before it is written: a view holding CR, LF or NUL would split
 * a line and let text from one call forge lines in a description sent to
 * another, and a space inside a field would shift the fields after it.
 *
 * Not here: deciding what to offer or answer (sdp_neg.c).
 */
#include <errno.h>

#include "sdp/sdp.h"

/* Writes accumulate the first error, so a line reads as one sequence. */
struct out {
	struct mbuf *mb;
	int err;
};

static void put(struct out *o, const char *s)
{
	if (!o->err)
		o->err = mbuf_write_cstr(o->mb, s);
}

static void put_u64(struct out *o, uint64_t v)
{
	if (!o->err)
		o->err = mbuf_write_u64(o->mb, v);
}

/* Free text (s=, a=fmtp parameters): anything but the line breakers. */
static void put_text(struct out *o, const struct str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		if (s->p[i] == '\r' || s->p[i] == '\n' || s->p[i] == '\0') {
			if (!o->err)
				o->err = -EINVAL;
			return;
		}
	}
	if (!o->err)
		o->err = mbuf_write_str(o->mb, s);
}

/* One field of a line: non-empty, no blanks either. */
static void put_word(struct out *o, const struct str *s)
{
	if (!s->len) {
		if (!o->err)
			o->err = -EINVAL;
		return;
	}
	for (size_t i = 0; i < s->len; i++) {
		if (s->p[i] == ' ' || s->p[i] == '\t') {
			if (!o->err)
				o->err = -EINVAL;
			return;
		}
	}
	put_text(o, s);
}

static void put_addrtype(struct out *o, enum sdp_addrtype t)
{
	if (t == SDP_ADDR_IP4)
		put(o, "IN IP4 ");
	else if (t == SDP_ADDR_IP6)
		put(o, "IN IP6 ");
	else if (!o->err)
		o->err = -EINVAL;
}

static void put_conn(struct out *o, const struct sdp_conn *c)
{
	if (c->type == SDP_ADDR_NONE)
		return;
	put(o, "c=");
	put_addrtype(o, c->type);
	put_word(o, &c->addr);
	put(o, "\r\n");
}

static void put_bw(struct out *o, uint32_t as, uint32_t tias)
{
	if (as) {
		put(o, "b=AS:");
		put_u64(o, as);
		put(o, "\r\n");
	}
	if (tias) {
		put(o, "b=TIAS:");
		put_u64(o, tias);
		put(o, "\r\n");
	}
}

static void put_fmt_attrs(struct out *o, const struct sdp_fmt *f)
{
	/* Only RTP formats have an rtpmap; every known one gets it, static
	 * types too (RFC 4566 §6 recommends it, and some phones need it). */
	if (f->pt >= 0 && f->encoding.len && f->clock) {
		put(o, "a=rtpmap:");
		put_word(o, &f->id);
		put(o, " ");
		put_word(o, &f->encoding);
		put(o, "/");
		put_u64(o, f->clock);
		if (f->channels > 1) {
			put(o, "/");
			put_u64(o, f->channels);
		}
		put(o, "\r\n");
	}
	if (f->has_fmtp) {
		put(o, "a=fmtp:");
		put_word(o, &f->id);
		if (f->fmtp.len) {
			put(o, " ");
			put_text(o, &f->fmtp);
		}
		put(o, "\r\n");
	}
}

static void put_media(struct out *o, const struct sdp_media *m)
{
	if (m->port && !m->nfmts && !o->err)
		o->err = -EINVAL; /* RFC 4566 §5.14: an active stream lists a format */
	put(o, "m=");
	put_word(o, &m->media);
	put(o, " ");
	put_u64(o, m->port);
	if (m->nports > 1) {
		put(o, "/");
		put_u64(o, m->nports);
	}
	put(o, " ");
	put_word(o, &m->proto);
	for (unsigned i = 0; i < m->nfmts; i++) {
		put(o, " ");
		put_word(o, &m->fmts[i].id);
	}
	put(o, "\r\n");
	if (m->conn_own)
		put_conn(o, &m->conn);
	/* A rejected stream's attributes mean nothing (RFC 3264 §6), but its
	 * mid still names it for BUNDLE and grouping (RFC 5888). */
	if (m->port) {
		put_bw(o, m->bw_as, m->bw_tias);
		for (unsigned i = 0; i < m->nfmts; i++)
			put_fmt_attrs(o, &m->fmts[i]);
		if (m->ptime) {
			put(o, "a=ptime:");
			put_u64(o, m->ptime);
			put(o, "\r\n");
		}
		if (m->maxptime) {
			put(o, "a=maxptime:");
			put_u64(o, m->maxptime);
			put(o, "\r\n");
		}
		if (m->has_rtcp) {
			put(o, "a=rtcp:");
			put_u64(o, m->rtcp_port);
			if (m->rtcp_conn.type != SDP_ADDR_NONE) {
				put(o, " ");
				put_addrtype(o, m->rtcp_conn.type);
				put_word(o, &m->rtcp_conn.addr);
			}
			put(o, "\r\n");
		}
		if (m->rtcp_mux)
			put(o, "a=rtcp-mux\r\n");
	}
	if (m->mid.len) {
		put(o, "a=mid:");
		put_word(o, &m->mid);
		put(o, "\r\n");
	}
	if (m->port) {
		put(o, "a=");
		put(o, sdp_dir_name(m->dir));
		put(o, "\r\n");
	}
}

int sdp_print(struct mbuf *mb, const struct sdp_session *s)
{
	struct out o = {mb, 0};
	size_t start;

	if (!mb || !s || (s->nmedia && !s->media))
		return -EINVAL;
	start = mb->end;

	put(&o, "v=0\r\no=");
	if (s->username.len)
		put_word(&o, &s->username);
	else
		put(&o, "-");
	put(&o, " ");
	put_word(&o, &s->sess_id);
	put(&o, " ");
	put_u64(&o, s->sess_version);
	put(&o, " ");
	put_addrtype(&o, s->origin_type);
	put_word(&o, &s->origin_addr);
	put(&o, "\r\ns=");
	/* RFC 4566 §5.3: s= is never empty; "-" is the customary nothing. */
	if (s->name.len)
		put_text(&o, &s->name);
	else
		put(&o, "-");
	put(&o, "\r\n");
	put_conn(&o, &s->conn);
	put_bw(&o, s->bw_as, s->bw_tias);
	put(&o, "t=");
	put_u64(&o, s->t_start);
	put(&o, " ");
	put_u64(&o, s->t_stop);
	put(&o, "\r\n");
	for (unsigned i = 0; i < s->nmedia; i++)
		put_media(&o, &s->media[i]);

	/* Nothing half-written: the caller may retry or send something else. */
	if (o.err)
		mb->end = start;
	return o.err;
}
