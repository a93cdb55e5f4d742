/*
 * fuzz_sdp: libFuzzer target for the SDP parser, printer and offer/answer
 * helpers (sdp.h).
 *
 * Input: the whole input is one SDP body. Seeds are in fuzz/corpus/fuzz_sdp/.
 *
 * Each run parses; a failure must come with a reason, an offset inside the
 * body and *sp untouched. A parsed body has every view checked inside the
 * body (encoding names from RFC 3551's table excepted) and the limits
 * respected; it is printed and parsed again (what we print must parse, to
 * the same streams and formats, and print to the same bytes), then answered
 * as an IPv4 and as an IPv6 B2BUA: the answer mirrors the offer's m= lines,
 * accepts at most one, prints and parses again, and sdp_stream_get() picks
 * the stream and payload type the answer accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/mbuf.h"
#include "fuzz.h"
#include "sdp/sdp.h"

#define ARENA_BUF 32768

static void check_conn(const struct sdp_conn *c, const char *buf, size_t len)
{
	FUZZ_CHECK(c->type <= SDP_ADDR_IP6);
	if (c->type == SDP_ADDR_NONE)
		return;
	FUZZ_CHECK(c->addr.len > 0);
	fuzz_view(&c->addr, buf, len);
	FUZZ_CHECK(!c->unspecified || c->numeric);
}

static void check_session(const struct sdp_session *s, const char *buf, size_t len)
{
	FUZZ_CHECK(s->buf == buf && s->len == len);
	FUZZ_CHECK(s->username.len && s->sess_id.len && s->origin_addr.len);
	fuzz_view(&s->username, buf, len);
	fuzz_view(&s->sess_id, buf, len);
	fuzz_view(&s->origin_addr, buf, len);
	fuzz_view(&s->name, buf, len);
	FUZZ_CHECK(s->origin_type == SDP_ADDR_IP4 || s->origin_type == SDP_ADDR_IP6);
	FUZZ_CHECK(s->dir <= SDP_DIR_INACTIVE);
	check_conn(&s->conn, buf, len);
	FUZZ_CHECK(s->nmedia <= SDP_MAX_MEDIA);
	FUZZ_CHECK(!s->nmedia || s->media);

	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];

		fuzz_view(&m->media, buf, len);
		fuzz_view(&m->proto, buf, len);
		fuzz_view(&m->mid, buf, len);
		FUZZ_CHECK(m->media.len && m->proto.len);
		FUZZ_CHECK(m->nports >= 1);
		FUZZ_CHECK(m->dir <= SDP_DIR_INACTIVE);
		FUZZ_CHECK(m->nfmts <= SDP_MAX_FMTS);
		FUZZ_CHECK(m->nfmts || !m->port);
		check_conn(&m->conn, buf, len);
		check_conn(&m->rtcp_conn, buf, len);
		FUZZ_CHECK(m->conn.type != SDP_ADDR_NONE || !m->port); /* RFC 4566 §5.7 */
		FUZZ_CHECK(!m->has_rtcp || m->rtcp_port);
		for (unsigned k = 0; k < m->nfmts; k++) {
			const struct sdp_fmt *f = &m->fmts[k];

			fuzz_view(&f->id, buf, len);
			FUZZ_CHECK(f->id.len > 0);
			FUZZ_CHECK(f->pt >= -1 && f->pt <= 127);
			FUZZ_CHECK(f->channels >= 1);
			if (f->has_rtpmap) {
				fuzz_view(&f->encoding, buf, len);
				FUZZ_CHECK(f->encoding.len && f->clock);
			} else {
				fuzz_touch(&f->encoding); /* the static table */
			}
			if (f->has_fmtp)
				fuzz_view(&f->fmtp, buf, len);
			else
				FUZZ_CHECK(!f->fmtp.len);
			/* Payload types are unique on a line. */
			for (unsigned j = 0; j < k; j++)
				FUZZ_CHECK(f->pt < 0 || m->fmts[j].pt != f->pt);
		}
	}
}

/* @b is @a printed and parsed again: the same streams and formats. */
static void check_same(const struct sdp_session *a, const struct sdp_session *b)
{
	FUZZ_CHECK(a->sess_version == b->sess_version);
	FUZZ_CHECK(str_eq(&a->sess_id, &b->sess_id));
	FUZZ_CHECK(a->nmedia == b->nmedia);
	for (unsigned i = 0; i < a->nmedia; i++) {
		const struct sdp_media *x = &a->media[i], *y = &b->media[i];

		FUZZ_CHECK(x->type == y->type && x->port == y->port && x->nports == y->nports);
		FUZZ_CHECK(x->proto_id == y->proto_id && x->nfmts == y->nfmts);
		FUZZ_CHECK(x->conn.type == y->conn.type && str_eq(&x->conn.addr, &y->conn.addr));
		FUZZ_CHECK(str_eq(&x->mid, &y->mid));
		for (unsigned k = 0; k < x->nfmts; k++)
			FUZZ_CHECK(x->fmts[k].pt == y->fmts[k].pt &&
				   str_eq(&x->fmts[k].id, &y->fmts[k].id));
		if (!x->port)
			continue; /* a rejected stream's attributes are not printed */
		FUZZ_CHECK(x->dir == y->dir && x->ptime == y->ptime && x->maxptime == y->maxptime);
		FUZZ_CHECK(x->rtcp_mux == y->rtcp_mux && x->has_rtcp == y->has_rtcp);
		FUZZ_CHECK(x->rtcp_port == y->rtcp_port);
		for (unsigned k = 0; k < x->nfmts; k++) {
			const struct sdp_fmt *f = &x->fmts[k], *g = &y->fmts[k];

			/* A format with an encoding gets an rtpmap; one without
			 * stays without. */
			FUZZ_CHECK(str_eq(&f->encoding, &g->encoding));
			FUZZ_CHECK(f->clock == g->clock && f->channels == g->channels);
			FUZZ_CHECK(f->has_fmtp == g->has_fmtp && str_eq(&f->fmtp, &g->fmtp));
			FUZZ_CHECK(sdp_fmt_codec(f) == sdp_fmt_codec(g));
		}
	}
}

/*
 * Print @s, parse it again into @a, and check it. Returns the printed
 * copy's session, or NULL when the printed text is past the size limit
 * (an unknown-free body near the limit can print a little longer: static
 * payload types gain an rtpmap line each).
 */
static struct sdp_session *reprint(const struct sdp_session *s, struct arena *a, char **copy)
{
	struct sdp_session *b = NULL, *untouched = (struct sdp_session *)(uintptr_t)1;
	struct sdp_perr pe = {0};
	struct mbuf mb, again;
	struct str text, text2;
	int err;

	mbuf_init(&mb, 0);
	mbuf_init(&again, 0);
	FUZZ_CHECK(sdp_print(&mb, s) == 0);
	text = mbuf_str(&mb);
	*copy = fuzz_dup(text.p, text.len);
	b = untouched;
	err = sdp_parse(&b, a, *copy, text.len, &pe);
	if (err == -EMSGSIZE && text.len > SDP_MAX_SIZE) {
		FUZZ_CHECK(b == untouched);
		b = NULL;
		goto out;
	}
	if (err)
		fprintf(stderr, "fuzz: printed SDP does not parse: %s at %zu\n%.*s\n",
			pe.reason ? pe.reason : "?", pe.offset, (int)text.len, text.p);
	FUZZ_CHECK(err == 0);
	FUZZ_CHECK(sdp_print(&again, b) == 0);
	text2 = mbuf_str(&again);
	FUZZ_CHECK(str_eq(&text, &text2)); /* printing is a fixed point */
out:
	mbuf_reset(&mb);
	mbuf_reset(&again);
	return b;
}

static void local_set(struct sdp_local *l, bool v6)
{
	sdp_local_init(l);
	l->sess_id = 1;
	l->sess_version = 1;
	l->rtcp_mux = v6;
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&l->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
		inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&l->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
		inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
		l->codecs[0] = SDP_CODEC_PCMA; /* another order than the v6 one */
		l->codecs[1] = SDP_CODEC_PCMU;
	}
}

static void check_answer(const struct sdp_session *offer, struct arena *a, bool v6)
{
	struct sdp_session *ans = NULL, *back;
	struct sdp_stream st;
	struct sdp_local l;
	const char *why = NULL, *why2 = NULL;
	char *copy = NULL;
	int r, accepted = -1, got;

	local_set(&l, v6);
	r = sdp_answer(&ans, a, offer, &l, &why);
	got = sdp_stream_get(&st, offer, &l, &why2);
	if (r == SDP_ANSWER_NO_CODEC) {
		FUZZ_CHECK(ans == NULL && why != NULL);
		FUZZ_CHECK(got == -ENOENT && why2 != NULL);
		return;
	}
	FUZZ_CHECK(r == SDP_ANSWER_OK);
	FUZZ_CHECK(ans->nmedia == offer->nmedia); /* RFC 3264 §6 */
	for (unsigned i = 0; i < ans->nmedia; i++) {
		const struct sdp_media *m = &ans->media[i], *om = &offer->media[i];

		FUZZ_CHECK(m->type == om->type && m->proto_id == om->proto_id);
		if (!m->port)
			continue;
		FUZZ_CHECK(accepted < 0); /* one stream at most */
		accepted = (int)i;
		FUZZ_CHECK(om->port != 0 && om->type == SDP_MEDIA_AUDIO);
		FUZZ_CHECK(m->nfmts >= 1 && m->nfmts <= 2);
		FUZZ_CHECK(sdp_fmt_codec(&m->fmts[0]) == SDP_CODEC_PCMU ||
			   sdp_fmt_codec(&m->fmts[0]) == SDP_CODEC_PCMA);
		/* The offerer's payload type numbers, from its m= line. */
		for (unsigned k = 0; k < m->nfmts; k++) {
			bool found = false;

			for (unsigned j = 0; j < om->nfmts; j++)
				found |= om->fmts[j].pt == m->fmts[k].pt;
			FUZZ_CHECK(found);
		}
		/* Direction: never more than the offer allows. */
		if (om->dir == SDP_DIR_SENDONLY)
			FUZZ_CHECK(m->dir == SDP_DIR_RECVONLY || m->dir == SDP_DIR_INACTIVE);
		if (om->dir == SDP_DIR_RECVONLY)
			FUZZ_CHECK(m->dir == SDP_DIR_SENDONLY || m->dir == SDP_DIR_INACTIVE);
		if (om->dir == SDP_DIR_INACTIVE)
			FUZZ_CHECK(m->dir == SDP_DIR_INACTIVE);
	}
	if (accepted < 0) {
		FUZZ_CHECK(got == -ENOENT);
	} else {
		FUZZ_CHECK(got == 0);
		FUZZ_CHECK(st.index == (unsigned)accepted);
		FUZZ_CHECK(st.pt == ans->media[accepted].fmts[0].pt);
		FUZZ_CHECK(st.codec == sdp_fmt_codec(&ans->media[accepted].fmts[0]));
		FUZZ_CHECK(st.remote.ss_family == (v6 ? AF_INET6 : AF_INET));
		FUZZ_CHECK(st.hold == sdp_media_is_hold(&offer->media[accepted]));
	}
	back = reprint(ans, a, &copy);
	if (back)
		FUZZ_CHECK(back->nmedia == ans->nmedia);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alignas(max_align_t) char abuf[ARENA_BUF];
	struct sdp_session *s, *back, *untouched = (struct sdp_session *)(uintptr_t)1;
	const char *buf = (const char *)data;
	struct sdp_stream st;
	struct sdp_perr pe;
	const char *why = NULL;
	char *copy = NULL;
	struct arena a;
	int err;

	arena_init(&a, abuf, sizeof(abuf), 0);
	memset(&pe, 0, sizeof(pe));
	s = untouched;
	err = sdp_parse(&s, &a, buf, size, &pe);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -EMSGSIZE);
		FUZZ_CHECK(s == untouched); /* written on success only */
		FUZZ_CHECK(pe.reason != NULL);
		FUZZ_CHECK(pe.offset <= size);
		fuzz_view(&pe.line, buf, size);
		arena_reset(&a);
		return 0;
	}
	check_session(s, buf, size);

	back = reprint(s, &a, &copy);
	if (back)
		check_same(s, back);
	free(copy);

	/* Any codec, any family: the first active audio stream with G.711. */
	if (sdp_stream_get(&st, s, NULL, &why) == 0) {
		FUZZ_CHECK(st.index < s->nmedia);
		FUZZ_CHECK(st.codec == SDP_CODEC_PCMU || st.codec == SDP_CODEC_PCMA);
		FUZZ_CHECK(st.pt >= 0 && st.pt <= 127 && st.clock == 8000);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	check_answer(s, &a, false);
	check_answer(s, &a, true);
	arena_reset(&a);
	return 0;
}
