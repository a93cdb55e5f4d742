/*
 * sdp_neg: offer/answer for a B2BUA that anchors one audio stream per call
 * leg (RFC 3264), and what the media engine needs from the result (see
 * sdp.h).
 *
 * sdp_answer() and sdp_stream_get() choose the stream and the codec with
 * the same rule (usable() below), so the stream the media engine runs is
 * always the one our answer accepted, with the codec our answer named.
 *
 * Not here: codecs beyond G.711 and telephone-event, SRTP, ICE, several
 * audio streams, re-offer rules that depend on the previous exchange (the
 * caller keeps the previous session and bumps sess_version).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sdp/sdp.h"

#define TEL_EVENT_DEFAULT_PT 101
/* RFC 4733 §3.3: DTMF 0-9 * # A-D are events 0-15, 16 is flash. */
#define TEL_EVENT_FMTP	     "0-16"

void sdp_local_init(struct sdp_local *local)
{
	memset(local, 0, sizeof(*local));
	local->codecs[0] = SDP_CODEC_PCMU;
	local->codecs[1] = SDP_CODEC_PCMA;
	local->codecs[2] = SDP_CODEC_TEL_EVENT;
	local->ncodecs = 3;
	local->tel_event_pt = TEL_EVENT_DEFAULT_PT;
	local->ptime = 20;
	local->dir = SDP_DIR_SENDRECV;
}

const char *sdp_codec_name(enum sdp_codec c)
{
	switch (c) {
	case SDP_CODEC_PCMU:
		return "PCMU";
	case SDP_CODEC_PCMA:
		return "PCMA";
	case SDP_CODEC_TEL_EVENT:
		return "telephone-event";
	default:
		return "none";
	}
}

enum sdp_codec sdp_fmt_codec(const struct sdp_fmt *f)
{
	/* Every codec we speak runs at 8000 Hz, mono (RFC 3551 §4.5.14,
	 * RFC 4733 §2.3: telephone-event at another rate goes with another
	 * voice codec). */
	if (f->pt < 0 || f->clock != 8000 || f->channels != 1)
		return SDP_CODEC_NONE;
	if (str_ieq_lit(&f->encoding, "PCMU"))
		return SDP_CODEC_PCMU;
	if (str_ieq_lit(&f->encoding, "PCMA"))
		return SDP_CODEC_PCMA;
	if (str_ieq_lit(&f->encoding, "telephone-event"))
		return SDP_CODEC_TEL_EVENT;
	return SDP_CODEC_NONE;
}

bool sdp_media_is_hold(const struct sdp_media *m)
{
	if (m->dir == SDP_DIR_SENDONLY || m->dir == SDP_DIR_INACTIVE)
		return true;
	/* RFC 3264 §8.4: the RFC 2543 way, still sent by old phones. */
	return m->conn.type != SDP_ADDR_NONE && m->conn.unspecified;
}

static bool local_has(const struct sdp_local *local, enum sdp_codec c)
{
	if (!local)
		return c != SDP_CODEC_NONE;
	for (unsigned i = 0; i < local->ncodecs && i < SDP_CODEC__COUNT; i++)
		if (local->codecs[i] == c)
			return true;
	return false;
}

static bool is_voice(enum sdp_codec c)
{
	return c == SDP_CODEC_PCMU || c == SDP_CODEC_PCMA;
}

static enum sdp_addrtype local_type(const struct sdp_local *local)
{
	if (local->addr.ss_family == AF_INET)
		return SDP_ADDR_IP4;
	if (local->addr.ss_family == AF_INET6)
		return SDP_ADDR_IP6;
	return SDP_ADDR_NONE;
}

static uint16_t local_port(const struct sdp_local *local)
{
	if (local->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)&local->addr)->sin_port);
	if (local->addr.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)&local->addr)->sin6_port);
	return 0;
}

static bool is_multicast(const struct sdp_conn *c)
{
	if (c->type == SDP_ADDR_IP4)
		return IN_MULTICAST(ntohl(c->ip.v4.s_addr));
	return IN6_IS_ADDR_MULTICAST(&c->ip.v6);
}

/*
 * Whether @m can be our audio stream; NULL when it can, with the index of
 * the voice format in *@voice and of telephone-event in *@te (-1 when
 * none), else why not.
 */
static const char *usable(const struct sdp_media *m, const struct sdp_local *local, unsigned *voice,
			  int *te)
{
	unsigned v = m->nfmts;

	if (!m->port)
		return "stream disabled";
	if (m->type != SDP_MEDIA_AUDIO)
		return "no audio stream";
	switch (m->proto_id) {
	case SDP_PROTO_RTP_AVP:
	case SDP_PROTO_RTP_AVPF: /* feedback we never send, same media */
		break;
	case SDP_PROTO_RTP_SAVP:
	case SDP_PROTO_RTP_SAVPF:
	case SDP_PROTO_UDP_TLS_RTP_SAVP:
	case SDP_PROTO_UDP_TLS_RTP_SAVPF:
		return "SRTP is not supported";
	default:
		return "transport protocol is not RTP/AVP";
	}
	if (m->conn.type == SDP_ADDR_NONE)
		return "no connection address";
	if (!m->conn.numeric)
		return "connection address is not an IP address";
	if (is_multicast(&m->conn))
		return "multicast is not supported";
	/* Our media socket has one family; we could not send to the other. */
	if (local && local_type(local) != m->conn.type)
		return "address family mismatch";
	/* The offerer's order is its preference (RFC 3264 §5.1); ours only
	 * says what we have. */
	for (unsigned i = 0; i < m->nfmts; i++) {
		enum sdp_codec c = sdp_fmt_codec(&m->fmts[i]);

		if (is_voice(c) && local_has(local, c)) {
			v = i;
			break;
		}
	}
	if (v == m->nfmts)
		return "no common codec";
	*voice = v;
	*te = -1;
	if (local_has(local, SDP_CODEC_TEL_EVENT)) {
		for (unsigned i = 0; i < m->nfmts; i++) {
			if (sdp_fmt_codec(&m->fmts[i]) == SDP_CODEC_TEL_EVENT) {
				*te = (int)i;
				break;
			}
		}
	}
	return NULL;
}

/*
 * The first usable audio stream of @s: its index, or -1 with *@why: the
 * reason of the first active audio stream, which is what an operator
 * reading a 488's Warning wants to know.
 */
static int pick(const struct sdp_session *s, const struct sdp_local *local, unsigned *voice,
		int *te, const char **why)
{
	const char *reason = NULL;

	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];
		const char *r = usable(m, local, voice, te);

		if (!r)
			return (int)i;
		if (!reason && m->port && m->type == SDP_MEDIA_AUDIO)
			reason = r;
	}
	*why = reason ? reason : "no audio stream";
	return -1;
}

/* ---- building our descriptions ------------------------------------------ */

static int check_local(const struct sdp_local *local)
{
	bool voice = false;

	if (local_type(local) == SDP_ADDR_NONE || !local_port(local))
		return -EINVAL;
	if (local->ncodecs > SDP_CODEC__COUNT || local->dir > SDP_DIR_INACTIVE)
		return -EINVAL;
	for (unsigned i = 0; i < local->ncodecs; i++)
		voice |= is_voice(local->codecs[i]);
	return voice ? 0 : -EINVAL;
}

/* Decimal text of @v in the arena. */
static struct str arena_u64(struct arena *arena, uint64_t v)
{
	char *p = arena_alloc(arena, 21);

	if (!p)
		return STR_NULL;
	return str_make(p, (size_t)snprintf(p, 21, "%" PRIu64, v));
}

/* A session with our o=, s=, c= and t= and @nmedia zeroed media. */
static int session_new(struct sdp_session **sp, struct arena *arena, const struct sdp_local *local,
		       unsigned nmedia)
{
	struct sdp_session *s = arena_zalloc(arena, sizeof(*s));
	const void *ip;
	char *text;

	if (!s)
		return -ENOMEM;
	if (nmedia) {
		s->media = arena_zalloc(arena, nmedia * sizeof(*s->media));
		if (!s->media)
			return -ENOMEM;
	}
	s->nmedia = nmedia;
	s->username = local->username.len ? local->username : STR("-");
	s->sess_id = arena_u64(arena, local->sess_id);
	if (!s->sess_id.p)
		return -ENOMEM;
	s->sess_version = local->sess_version;
	s->name = STR("-");

	s->conn.type = local_type(local);
	s->conn.numeric = true;
	if (s->conn.type == SDP_ADDR_IP4) {
		s->conn.ip.v4 = ((const struct sockaddr_in *)(const void *)&local->addr)->sin_addr;
		s->conn.unspecified = s->conn.ip.v4.s_addr == 0;
		ip = &s->conn.ip.v4;
	} else {
		s->conn.ip.v6 =
		    ((const struct sockaddr_in6 *)(const void *)&local->addr)->sin6_addr;
		s->conn.unspecified = IN6_IS_ADDR_UNSPECIFIED(&s->conn.ip.v6);
		ip = &s->conn.ip.v6;
	}
	text = arena_alloc(arena, INET6_ADDRSTRLEN);
	if (!text)
		return -ENOMEM;
	if (!inet_ntop(local->addr.ss_family, ip, text, INET6_ADDRSTRLEN))
		return -EINVAL;
	s->conn.addr = str_cstr(text);
	s->origin_type = s->conn.type;
	s->origin_addr = s->conn.addr;
	*sp = s;
	return 0;
}

/* What we say about a stream, the same in offers and answers. */
static void media_ours(struct sdp_media *m, const struct sdp_session *s,
		       const struct sdp_local *local)
{
	m->type = SDP_MEDIA_AUDIO;
	m->media = STR("audio");
	m->port = local_port(local);
	m->nports = 1;
	m->conn = s->conn; /* printed once, at session level */
	m->ptime = local->ptime;
}

static void fmt_set(struct sdp_fmt *f, struct str id, int pt, enum sdp_codec c)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->pt = pt;
	f->encoding = str_cstr(sdp_codec_name(c));
	f->clock = 8000;
	f->channels = 1;
	f->has_rtpmap = true;
	if (c == SDP_CODEC_TEL_EVENT) {
		f->has_fmtp = true;
		f->fmtp = STR(TEL_EVENT_FMTP);
	}
}

static bool has_pt(const struct sdp_media *m, int pt)
{
	for (unsigned k = 0; k < m->nfmts; k++)
		if (m->fmts[k].pt == pt)
			return true;
	return false;
}

int sdp_offer(struct sdp_session **sp, struct arena *arena, const struct sdp_local *local)
{
	struct sdp_session *s;
	struct sdp_media *m;
	unsigned te_pt;
	int err;

	if (!sp || !arena || !local)
		return -EINVAL;
	err = check_local(local);
	if (err)
		return err;
	te_pt = local->tel_event_pt ? local->tel_event_pt : TEL_EVENT_DEFAULT_PT;
	if (te_pt < 96 || te_pt > 127)
		return -EINVAL; /* RFC 3551 §3: the dynamic range */
	err = session_new(&s, arena, local, 1);
	if (err)
		return err;
	m = &s->media[0];
	media_ours(m, s, local);
	m->proto_id = SDP_PROTO_RTP_AVP;
	m->proto = STR("RTP/AVP");
	m->dir = local->dir;
	m->rtcp_mux = local->rtcp_mux;
	m->fmts = arena_zalloc(arena, local->ncodecs * sizeof(*m->fmts));
	if (!m->fmts)
		return -ENOMEM;
	for (unsigned i = 0; i < local->ncodecs; i++) {
		enum sdp_codec c = local->codecs[i];
		struct str id;
		int pt;

		switch (c) {
		case SDP_CODEC_PCMU:
			id = STR("0");
			pt = 0;
			break;
		case SDP_CODEC_PCMA:
			id = STR("8");
			pt = 8;
			break;
		case SDP_CODEC_TEL_EVENT:
			id = arena_u64(arena, te_pt);
			if (!id.p)
				return -ENOMEM;
			pt = (int)te_pt;
			break;
		default:
			continue;
		}
		/* A codec listed twice in @local is offered once. */
		if (!has_pt(m, pt))
			fmt_set(&m->fmts[m->nfmts++], id, pt, c);
	}
	*sp = s;
	return 0;
}

/* RFC 3264 §6.1: the answer's direction mirrors the offer's, narrowed by ours. */
static enum sdp_dir answer_dir(const struct sdp_media *offered, enum sdp_dir ours)
{
	enum sdp_dir d = offered->dir;
	bool they_send = d == SDP_DIR_SENDRECV || d == SDP_DIR_SENDONLY;
	/* c=0.0.0.0 (RFC 2543 hold): the offerer wants nothing sent to it. */
	bool they_recv =
	    (d == SDP_DIR_SENDRECV || d == SDP_DIR_RECVONLY) && !offered->conn.unspecified;
	bool we_send = (ours == SDP_DIR_SENDRECV || ours == SDP_DIR_SENDONLY) && they_recv;
	bool we_recv = (ours == SDP_DIR_SENDRECV || ours == SDP_DIR_RECVONLY) && they_send;

	if (we_send && we_recv)
		return SDP_DIR_SENDRECV;
	if (we_send)
		return SDP_DIR_SENDONLY;
	if (we_recv)
		return SDP_DIR_RECVONLY;
	return SDP_DIR_INACTIVE;
}

int sdp_answer(struct sdp_session **ansp, struct arena *arena, const struct sdp_session *offer,
	       const struct sdp_local *local, const char **why)
{
	const char *reason = NULL;
	struct sdp_session *s;
	unsigned voice = 0;
	int accept, te = -1, err;
	bool active = false;

	if (!ansp || !arena || !offer || !local || (offer->nmedia && !offer->media))
		return -EINVAL;
	err = check_local(local);
	if (err)
		return err;
	accept = pick(offer, local, &voice, &te, &reason);
	for (unsigned i = 0; i < offer->nmedia; i++)
		active |= offer->media[i].port != 0;
	/* An offer whose streams are all disabled gets them all disabled back
	 * (RFC 3264 §6); one with an active stream we cannot take is a 488. */
	if (accept < 0 && active) {
		if (why)
			*why = reason;
		return SDP_ANSWER_NO_CODEC;
	}

	err = session_new(&s, arena, local, offer->nmedia);
	if (err)
		return err;
	for (unsigned i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *om = &offer->media[i];
		struct sdp_media *m = &s->media[i];

		m->type = om->type;
		m->media = om->media;
		m->proto_id = om->proto_id;
		m->proto = om->proto;
		m->nports = 1;
		m->mid = om->mid; /* RFC 5888 §9.1: the answer keeps each mid */
		if ((int)i != accept) {
			/* Rejected (RFC 3264 §6): port 0, the offered formats
			 * listed back so the m= line stays well-formed. */
			if (om->nfmts) {
				m->fmts = arena_zalloc(arena, om->nfmts * sizeof(*m->fmts));
				if (!m->fmts)
					return -ENOMEM;
			}
			for (unsigned k = 0; k < om->nfmts; k++) {
				m->fmts[k].id = om->fmts[k].id;
				m->fmts[k].pt = om->fmts[k].pt;
				m->fmts[k].channels = 1;
			}
			m->nfmts = om->nfmts;
			m->dir = SDP_DIR_INACTIVE;
			continue;
		}
		media_ours(m, s, local);
		m->dir = answer_dir(om, local->dir);
		m->rtcp_mux = om->rtcp_mux && local->rtcp_mux;
		m->fmts = arena_zalloc(arena, 2 * sizeof(*m->fmts));
		if (!m->fmts)
			return -ENOMEM;
		/* RFC 3264 §6.1: the offerer's payload type numbers, so the
		 * RTP it sends needs no mapping. */
		fmt_set(&m->fmts[m->nfmts++], om->fmts[voice].id, om->fmts[voice].pt,
			sdp_fmt_codec(&om->fmts[voice]));
		if (te >= 0)
			fmt_set(&m->fmts[m->nfmts++], om->fmts[te].id, om->fmts[te].pt,
				SDP_CODEC_TEL_EVENT);
	}
	*ansp = s;
	return SDP_ANSWER_OK;
}

/* ---- the stream the media engine runs ----------------------------------- */

static void sockaddr_set(struct sockaddr_storage *ss, const struct sdp_conn *c, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (c->type == SDP_ADDR_IP4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = c->ip.v4;
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = c->ip.v6;
		sin6->sin6_port = htons(port);
	}
}

int sdp_stream_get(struct sdp_stream *st, const struct sdp_session *s,
		   const struct sdp_local *local, const char **why)
{
	const struct sdp_media *m;
	const char *reason = NULL;
	unsigned voice = 0;
	int idx, te = -1;

	if (!st || !s || (s->nmedia && !s->media))
		return -EINVAL;
	idx = pick(s, local, &voice, &te, &reason);
	if (idx < 0) {
		if (why)
			*why = reason;
		return -ENOENT;
	}
	m = &s->media[idx];
	memset(st, 0, sizeof(*st));
	st->index = (unsigned)idx;
	sockaddr_set(&st->remote, &m->conn, m->port);
	/* RFC 5761 §5.1.1: multiplexed only when both sides said so; a remote
	 * offer of it we did not answer still sends RTCP apart. */
	st->rtcp_mux = m->rtcp_mux && (!local || local->rtcp_mux);
	if (st->rtcp_mux) {
		st->rtcp = st->remote;
	} else if (m->has_rtcp) {
		/* RFC 3605: a=rtcp's own address when it is one we can reach. */
		const struct sdp_conn *c = &m->rtcp_conn;

		if (c->type != m->conn.type || !c->numeric)
			c = &m->conn;
		sockaddr_set(&st->rtcp, c, m->rtcp_port);
	} else {
		/* RFC 3550 §11: the next port up. m=...65535 leaves none. */
		sockaddr_set(&st->rtcp, &m->conn, m->port < 65535 ? (uint16_t)(m->port + 1) : 0);
	}
	st->codec = sdp_fmt_codec(&m->fmts[voice]);
	st->pt = m->fmts[voice].pt;
	st->clock = m->fmts[voice].clock;
	st->tel_event_pt = te >= 0 ? m->fmts[te].pt : -1;
	st->ptime = m->ptime;
	st->dir = m->dir;
	st->hold = sdp_media_is_hold(m);
	return 0;
}
