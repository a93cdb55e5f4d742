/*
 * Unit tests for sdp: the parser (RFC 4566) on offers from real clients
 * (baresip, SIPp, an IPv6 phone, hold re-INVITEs) and on malformed bodies
 * with their reasons and offsets; offer/answer (RFC 3264) and the stream
 * handed to the media engine; the printer, by exact text and by printing and
 * parsing again. Every body is parsed from a heap copy of exactly its size,
 * so an over-read shows under AddressSanitizer, and the arena has no first
 * buffer, so every record comes from mem_alloc and --oom reaches each one.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "sdp/sdp.h"
#include "test.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct arena a;
	char *in[2]; /* exact-size copies of the bodies parsed; views point into them */
	struct sdp_perr pe;
	struct mbuf mb;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	arena_init(&f->a, NULL, 0, 0);
	mbuf_init(&f->mb, 0);
}

static void fx_reset(struct fx *f)
{
	arena_reset(&f->a);
	mbuf_reset(&f->mb);
	for (size_t i = 0; i < 2; i++) {
		mem_free(f->in[i]);
		f->in[i] = NULL;
	}
}

/* Parse @len bytes of @text from heap copy @slot. */
static int fx_parse_n(struct fx *f, unsigned slot, const char *text, size_t len,
		      struct sdp_session **sp)
{
	mem_free(f->in[slot]);
	f->in[slot] = mem_alloc(len ? len : 1);
	if (!f->in[slot])
		return -ENOMEM;
	if (len)
		memcpy(f->in[slot], text, len);
	memset(&f->pe, 0, sizeof(f->pe));
	return sdp_parse(sp, &f->a, f->in[slot], len, &f->pe);
}

static int fx_parse(struct fx *f, unsigned slot, const char *text, struct sdp_session **sp)
{
	return fx_parse_n(f, slot, text, strlen(text), sp);
}

/* Parse what the mbuf holds (a printed description) from slot 1. */
static int fx_reparse(struct fx *f, struct sdp_session **sp)
{
	struct str s = mbuf_str(&f->mb);

	return fx_parse_n(f, 1, s.p, s.len, sp);
}

static void local4(struct sdp_local *l, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&l->addr;

	sdp_local_init(l);
	l->username = STR("shenggu");
	l->sess_id = 42;
	l->sess_version = 1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void local6(struct sdp_local *l, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&l->addr;

	sdp_local_init(l);
	l->username = STR("shenggu");
	l->sess_id = 42;
	l->sess_version = 1;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
}

static bool sin_is(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	char text[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		return !strcmp(text, ip) && ntohs(sin->sin_port) == port;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		return !strcmp(text, ip) && ntohs(sin6->sin6_port) == port;
	}
	return false;
}

#define CRLF "\r\n"

/* ---- real offers --------------------------------------------------------- */

/* SIPp 3.x uac scenario (sipp -sn uac). */
static const char sipp_offer[] = "v=0" CRLF "o=user1 53655765 2353687637 IN IP4 127.0.0.1" CRLF
				 "s=-" CRLF "c=IN IP4 127.0.0.1" CRLF "t=0 0" CRLF
				 "m=audio 6000 RTP/AVP 0" CRLF "a=rtpmap:0 PCMU/8000" CRLF;

/* baresip 1.0 (Debian 12): opus and G.722 first, attributes we do not know. */
static const char baresip_offer[] =
    "v=0" CRLF "o=- 2304476547 3594326193 IN IP4 192.168.1.10" CRLF "s=-" CRLF
    "c=IN IP4 192.168.1.10" CRLF "t=0 0" CRLF "a=tool:baresip 1.0.0" CRLF
    "m=audio 10102 RTP/AVP 96 9 0 8 101" CRLF "b=AS:128" CRLF "a=rtpmap:96 opus/48000/2" CRLF
    "a=fmtp:96 stereo=1;sprop-stereo=1" CRLF "a=rtpmap:9 G722/8000" CRLF "a=rtpmap:0 PCMU/8000" CRLF
    "a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-15" CRLF
    "a=rtcp-rsize" CRLF "a=ptime:20" CRLF "a=sendrecv" CRLF "a=label:1" CRLF
    "a=ssrc:3471812337 cname:4a2f7c1e-3bb1-4d6a" CRLF;

TEST(test_sdp_parse_sipp)
{
	struct sdp_session *s = NULL;
	const struct sdp_media *m;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse(&f, 0, sipp_offer, &s));
	TEST_ASSERT(s->buf == f.in[0]);
	TEST_STR("user1", s->username);
	TEST_STR("53655765", s->sess_id);
	TEST_EQUALS(2353687637u, s->sess_version);
	TEST_EQUALS(SDP_ADDR_IP4, s->origin_type);
	TEST_STR("127.0.0.1", s->origin_addr);
	TEST_STR("-", s->name);
	TEST_EQUALS(SDP_ADDR_IP4, s->conn.type);
	TEST_STR("127.0.0.1", s->conn.addr);
	TEST_ASSERT(s->conn.numeric && !s->conn.unspecified);
	TEST_EQUALS(htonl(0x7f000001), s->conn.ip.v4.s_addr);
	TEST_EQUALS(0, s->t_start);
	TEST_EQUALS(0, s->t_stop);
	TEST_EQUALS(1, s->nmedia);
	m = &s->media[0];
	TEST_EQUALS(SDP_MEDIA_AUDIO, m->type);
	TEST_STR("audio", m->media);
	TEST_EQUALS(6000, m->port);
	TEST_EQUALS(1, m->nports);
	TEST_EQUALS(SDP_PROTO_RTP_AVP, m->proto_id);
	TEST_STR("RTP/AVP", m->proto);
	TEST_EQUALS(1, m->nfmts);
	TEST_STR("0", m->fmts[0].id);
	TEST_EQUALS(0, m->fmts[0].pt);
	TEST_STR("PCMU", m->fmts[0].encoding);
	TEST_EQUALS(8000, m->fmts[0].clock);
	TEST_EQUALS(1, m->fmts[0].channels);
	TEST_ASSERT(m->fmts[0].has_rtpmap);
	TEST_EQUALS(SDP_CODEC_PCMU, sdp_fmt_codec(&m->fmts[0]));
	/* Effective values come from the session. */
	TEST_ASSERT(!m->conn_own);
	TEST_STR("127.0.0.1", m->conn.addr);
	TEST_EQUALS(SDP_DIR_SENDRECV, m->dir);
	TEST_EQUALS(0, m->ptime);
	TEST_ASSERT(!sdp_media_is_hold(m));
out:
	fx_reset(&f);
	return err;
}

TEST(test_sdp_parse_baresip)
{
	struct sdp_session *s = NULL;
	const struct sdp_media *m;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse(&f, 0, baresip_offer, &s));
	TEST_STR("-", s->username);
	TEST_EQUALS(3594326193u, s->sess_version);
	TEST_EQUALS(1, s->nmedia);
	m = &s->media[0];
	TEST_EQUALS(10102, m->port);
	TEST_EQUALS(128, m->bw_as);
	TEST_EQUALS(5, m->nfmts);
	TEST_STR("opus", m->fmts[0].encoding);
	TEST_EQUALS(48000, m->fmts[0].clock);
	TEST_EQUALS(2, m->fmts[0].channels);
	TEST_ASSERT(m->fmts[0].has_fmtp);
	TEST_STR("stereo=1;sprop-stereo=1", m->fmts[0].fmtp);
	TEST_EQUALS(SDP_CODEC_NONE, sdp_fmt_codec(&m->fmts[0]));
	TEST_STR("G722", m->fmts[1].encoding);
	TEST_EQUALS(SDP_CODEC_PCMU, sdp_fmt_codec(&m->fmts[2]));
	TEST_EQUALS(SDP_CODEC_PCMA, sdp_fmt_codec(&m->fmts[3]));
	TEST_EQUALS(SDP_CODEC_TEL_EVENT, sdp_fmt_codec(&m->fmts[4]));
	TEST_EQUALS(101, m->fmts[4].pt);
	TEST_STR("0-15", m->fmts[4].fmtp);
	TEST_EQUALS(20, m->ptime);
	TEST_EQUALS(SDP_DIR_SENDRECV, m->dir);
	TEST_ASSERT(!m->rtcp_mux && !m->has_rtcp);
	/* Views into the body; encoding names from rtpmap are too. */
	TEST_ASSERT(m->fmts[2].encoding.p >= f.in[0] &&
		    m->fmts[2].encoding.p < f.in[0] + strlen(baresip_offer));
out:
	fx_reset(&f);
	return err;
}

/* What phones get wrong that does no harm. */
TEST(test_sdp_parse_tolerant)
{
	static const char in[] = "v=0\n"
				 "o=alice 1 2 IN IP4 host.example.com\n"
				 "c=IN IP4 192.0.2.1  \n"
				 "y=0100000001\n"		   /* GB28181 SSRC line */
				 "a=ptime:30\n"			   /* session level */
				 "a=x-unknown\n"		   /* unknown attribute */
				 "m=audio  4000  RTP/AVP  8   0\n" /* runs of spaces */
				 "a=rtpmap:18 G729/8000\n"	   /* not on the m= line */
				 "a=maxptime:40.0\n"
				 "\n\n"; /* blank lines at the end, no s= or t= */
	struct sdp_session *s = NULL;
	const struct sdp_media *m;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse(&f, 0, in, &s));
	TEST_STR("host.example.com", s->origin_addr);
	TEST_EQUALS(0, s->name.len);
	TEST_STR("192.0.2.1", s->conn.addr);
	TEST_EQUALS(1, s->nmedia);
	m = &s->media[0];
	TEST_EQUALS(4000, m->port);
	TEST_EQUALS(2, m->nfmts);
	/* Static payload types need no rtpmap (RFC 3551 §6). */
	TEST_STR("PCMA", m->fmts[0].encoding);
	TEST_ASSERT(!m->fmts[0].has_rtpmap);
	TEST_EQUALS(8000, m->fmts[0].clock);
	TEST_STR("PCMU", m->fmts[1].encoding);
	TEST_EQUALS(30, m->ptime);
	TEST_EQUALS(40, m->maxptime);

	/* No final line end at all. */
	TEST_ERR(fx_parse(&f, 0, "v=0\r\no=- 0 0 IN IP6 ::1\r\nc=IN IP6 ::1\r\nm=audio 1 RTP/AVP 0",
			  &s));
	TEST_EQUALS(1, s->nmedia);
	TEST_EQUALS(1, s->media[0].port);
out:
	fx_reset(&f);
	return err;
}

TEST(test_sdp_parse_ipv6)
{
	static const char in[] =
	    "v=0" CRLF "o=bob 2890844730 2890844731 IN IP6 2001:db8::10" CRLF "s=IPv6 call" CRLF
	    "c=IN IP6 2001:DB8::10" CRLF "t=0 0" CRLF "m=audio 49172 RTP/AVP 8 100" CRLF
	    "a=rtpmap:100 telephone-event/8000" CRLF "a=fmtp:100 0-11" CRLF
	    "a=rtcp:49180 IN IP6 2001:db8::11" CRLF;
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_ERR(fx_parse(&f, 0, in, &s));
	TEST_EQUALS(SDP_ADDR_IP6, s->origin_type);
	TEST_STR("IPv6 call", s->name);
	TEST_EQUALS(SDP_ADDR_IP6, s->conn.type);
	TEST_ASSERT(s->conn.numeric);
	TEST_STR("2001:DB8::10", s->conn.addr);
	TEST_ASSERT(s->media[0].has_rtcp);
	TEST_EQUALS(49180, s->media[0].rtcp_port);
	TEST_EQUALS(SDP_ADDR_IP6, s->media[0].rtcp_conn.type);

	TEST_ERR(sdp_stream_get(&st, s, NULL, &why));
	TEST_ASSERT(sin_is(&st.remote, "2001:db8::10", 49172));
	TEST_ASSERT(sin_is(&st.rtcp, "2001:db8::11", 49180));
	TEST_EQUALS(SDP_CODEC_PCMA, st.codec);
	TEST_EQUALS(8, st.pt);
	TEST_EQUALS(100, st.tel_event_pt);

	/* Our media socket is IPv4: we could not send there. */
	local4(&l, "203.0.113.5", 40000);
	TEST_EQUALS(SDP_ANSWER_NO_CODEC, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ASSERT(ans == NULL);
	TEST_ASSERT(!strcmp(why, "address family mismatch"));
	TEST_EQUALS(-ENOENT, sdp_stream_get(&st, s, &l, &why));

	local6(&l, "2001:db8::99", 40000);
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ERR(sdp_print(&f.mb, ans));
	TEST_STR("v=0" CRLF "o=shenggu 42 1 IN IP6 2001:db8::99" CRLF "s=-" CRLF
		 "c=IN IP6 2001:db8::99" CRLF "t=0 0" CRLF "m=audio 40000 RTP/AVP 8 100" CRLF
		 "a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:100 telephone-event/8000" CRLF
		 "a=fmtp:100 0-16" CRLF "a=ptime:20" CRLF "a=sendrecv" CRLF,
		 mbuf_str(&f.mb));
out:
	fx_reset(&f);
	return err;
}

/* ---- offer/answer --------------------------------------------------------- */

TEST(test_sdp_answer_baresip)
{
	struct sdp_session *s = NULL, *ans = NULL, *back = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	TEST_ERR(fx_parse(&f, 0, baresip_offer, &s));
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ERR(sdp_print(&f.mb, ans));
	/* Opus and G.722 are not ours: PCMU is the offerer's first we have. */
	TEST_STR("v=0" CRLF "o=shenggu 42 1 IN IP4 203.0.113.5" CRLF "s=-" CRLF
		 "c=IN IP4 203.0.113.5" CRLF "t=0 0" CRLF "m=audio 40000 RTP/AVP 0 101" CRLF
		 "a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:101 telephone-event/8000" CRLF
		 "a=fmtp:101 0-16" CRLF "a=ptime:20" CRLF "a=sendrecv" CRLF,
		 mbuf_str(&f.mb));
	TEST_ERR(fx_reparse(&f, &back));
	TEST_EQUALS(1, back->nmedia);

	/* The media engine gets the same stream and codec. */
	TEST_ERR(sdp_stream_get(&st, s, &l, &why));
	TEST_EQUALS(0, st.index);
	TEST_ASSERT(sin_is(&st.remote, "192.168.1.10", 10102));
	TEST_ASSERT(sin_is(&st.rtcp, "192.168.1.10", 10103));
	TEST_EQUALS(SDP_CODEC_PCMU, st.codec);
	TEST_EQUALS(0, st.pt);
	TEST_EQUALS(8000, st.clock);
	TEST_EQUALS(101, st.tel_event_pt);
	TEST_EQUALS(20, st.ptime);
	TEST_EQUALS(SDP_DIR_SENDRECV, st.dir);
	TEST_ASSERT(!st.hold && !st.rtcp_mux);

	/* A tenant without PCMU: PCMA, the next one the offerer listed. */
	l.codecs[0] = SDP_CODEC_PCMA;
	l.codecs[1] = SDP_CODEC_TEL_EVENT;
	l.ncodecs = 2;
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_EQUALS(8, ans->media[0].fmts[0].pt);
	TEST_ERR(sdp_stream_get(&st, s, &l, &why));
	TEST_EQUALS(8, st.pt);
	TEST_EQUALS(SDP_CODEC_PCMA, st.codec);
out:
	fx_reset(&f);
	return err;
}

TEST(test_sdp_answer_sipp)
{
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "127.0.0.1", 20000);
	l.sess_version = 7;
	TEST_ERR(fx_parse(&f, 0, sipp_offer, &s));
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ERR(sdp_print(&f.mb, ans));
	/* No telephone-event offered: none answered. */
	TEST_STR("v=0" CRLF "o=shenggu 42 7 IN IP4 127.0.0.1" CRLF "s=-" CRLF
		 "c=IN IP4 127.0.0.1" CRLF "t=0 0" CRLF "m=audio 20000 RTP/AVP 0" CRLF
		 "a=rtpmap:0 PCMU/8000" CRLF "a=ptime:20" CRLF "a=sendrecv" CRLF,
		 mbuf_str(&f.mb));
out:
	fx_reset(&f);
	return err;
}

/* Dynamic payload types keep the offerer's numbers (RFC 3264 §6.1). */
TEST(test_sdp_answer_dynamic_pt)
{
	static const char in[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "t=0 0" CRLF "m=audio 5004 RTP/AVPF 97 98 120" CRLF "a=rtpmap:97 iLBC/8000" CRLF
	    "a=rtpmap:98 pcma/8000" CRLF "a=rtpmap:120 Telephone-Event/8000" CRLF "a=rtcp-mux" CRLF
	    "a=mid:audio0" CRLF;
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	l.rtcp_mux = true;
	TEST_ERR(fx_parse(&f, 0, in, &s));
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ERR(sdp_print(&f.mb, ans));
	TEST_STR("v=0" CRLF "o=shenggu 42 1 IN IP4 203.0.113.5" CRLF "s=-" CRLF
		 "c=IN IP4 203.0.113.5" CRLF "t=0 0" CRLF "m=audio 40000 RTP/AVPF 98 120" CRLF
		 "a=rtpmap:98 PCMA/8000" CRLF "a=rtpmap:120 telephone-event/8000" CRLF
		 "a=fmtp:120 0-16" CRLF "a=ptime:20" CRLF "a=rtcp-mux" CRLF "a=mid:audio0" CRLF
		 "a=sendrecv" CRLF,
		 mbuf_str(&f.mb));
	TEST_ERR(sdp_stream_get(&st, s, &l, &why));
	TEST_EQUALS(98, st.pt);
	TEST_EQUALS(120, st.tel_event_pt);
	TEST_ASSERT(st.rtcp_mux);
	TEST_ASSERT(sin_is(&st.rtcp, "192.0.2.1", 5004));

	/* Without rtcp-mux on our side it is not answered, and RTCP goes to
	 * the next port up. */
	l.rtcp_mux = false;
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ASSERT(!ans->media[0].rtcp_mux);
	TEST_ERR(sdp_stream_get(&st, s, &l, &why));
	TEST_ASSERT(!st.rtcp_mux);
	TEST_ASSERT(sin_is(&st.rtcp, "192.0.2.1", 5005));
out:
	fx_reset(&f);
	return err;
}

/* Same number of m= lines in the same order; all but one audio stream rejected. */
TEST(test_sdp_answer_multi_stream)
{
	static const char in[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "t=0 0" CRLF
	    "m=video 5006 RTP/AVP 96" CRLF "c=IN IP4 192.0.2.1" CRLF "a=rtpmap:96 H264/90000" CRLF
	    "a=mid:v" CRLF "m=audio 5008 RTP/SAVP 0" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" CRLF "m=audio 5004 RTP/AVP 18 8" CRLF
	    "c=IN IP4 192.0.2.2" CRLF "a=mid:a" CRLF "m=audio 5010 RTP/AVP 0" CRLF
	    "c=IN IP4 192.0.2.3" CRLF "m=image 0 udptl t38" CRLF;
	struct sdp_session *s = NULL, *ans = NULL, *back = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	TEST_ERR(fx_parse(&f, 0, in, &s));
	TEST_EQUALS(5, s->nmedia);
	TEST_ASSERT(s->media[0].conn_own);
	TEST_EQUALS(SDP_PROTO_UDPTL, s->media[4].proto_id);
	TEST_EQUALS(-1, s->media[4].fmts[0].pt);
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_ERR(sdp_print(&f.mb, ans));
	TEST_STR("v=0" CRLF "o=shenggu 42 1 IN IP4 203.0.113.5" CRLF "s=-" CRLF
		 "c=IN IP4 203.0.113.5" CRLF "t=0 0" CRLF "m=video 0 RTP/AVP 96" CRLF "a=mid:v" CRLF
		 "m=audio 0 RTP/SAVP 0" CRLF "m=audio 40000 RTP/AVP 8" CRLF
		 "a=rtpmap:8 PCMA/8000" CRLF "a=ptime:20" CRLF "a=mid:a" CRLF "a=sendrecv" CRLF
		 "m=audio 0 RTP/AVP 0" CRLF "m=image 0 udptl t38" CRLF,
		 mbuf_str(&f.mb));
	TEST_ERR(fx_reparse(&f, &back));
	TEST_EQUALS(5, back->nmedia);

	TEST_ERR(sdp_stream_get(&st, s, &l, &why));
	TEST_EQUALS(2, st.index);
	TEST_ASSERT(sin_is(&st.remote, "192.0.2.2", 5004));
	TEST_EQUALS(-1, st.tel_event_pt);
out:
	fx_reset(&f);
	return err;
}

TEST(test_sdp_answer_no_common_codec)
{
	static const char g729[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "t=0 0" CRLF "m=audio 5004 RTP/AVP 18 101" CRLF "a=rtpmap:18 G729/8000" CRLF
	    "a=fmtp:18 annexb=no" CRLF "a=rtpmap:101 telephone-event/8000" CRLF;
	static const char srtp[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "t=0 0" CRLF "m=audio 5004 UDP/TLS/RTP/SAVPF 0" CRLF "m=video 5006 RTP/AVP 96" CRLF;
	static const char video[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "t=0 0" CRLF "m=video 5006 RTP/AVP 96" CRLF;
	/* PCMU at 16 kHz is not the G.711 we speak. */
	static const char wide[] =
	    "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF
	    "t=0 0" CRLF "m=audio 5004 RTP/AVP 96" CRLF "a=rtpmap:96 PCMU/16000" CRLF;
	static const char *const cases[][2] = {
	    {g729, "no common codec"},
	    {srtp, "SRTP is not supported"},
	    {video, "no audio stream"},
	    {wide, "no common codec"},
	};
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		why = NULL;
		TEST_ERR(fx_parse(&f, 0, cases[k][0], &s));
		TEST_EQUALS(SDP_ANSWER_NO_CODEC, sdp_answer(&ans, &f.a, s, &l, &why));
		TEST_ASSERT(ans == NULL);
		if (!why || strcmp(why, cases[k][1])) {
			test_fail(__FILE__, __LINE__, "case %zu: why \"%s\", expected \"%s\"", k,
				  why ? why : "(null)", cases[k][1]);
			err = -EINVAL;
			goto out;
		}
		TEST_EQUALS(-ENOENT, sdp_stream_get(&st, s, &l, &why));
	}
out:
	fx_reset(&f);
	return err;
}

/* An offer with every stream disabled gets them all disabled back. */
TEST(test_sdp_answer_all_disabled)
{
	static const char in[] = "v=0" CRLF "o=- 1 2 IN IP4 192.0.2.1" CRLF "s=-" CRLF "t=0 0" CRLF
				 "m=audio 0 RTP/AVP" CRLF;
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	const char *why = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	TEST_ERR(fx_parse(&f, 0, in, &s));
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_EQUALS(1, ans->nmedia);
	TEST_EQUALS(0, ans->media[0].port);
	TEST_ERR(sdp_print(&f.mb, ans));
	TEST_STR("v=0" CRLF "o=shenggu 42 1 IN IP4 203.0.113.5" CRLF "s=-" CRLF
		 "c=IN IP4 203.0.113.5" CRLF "t=0 0" CRLF "m=audio 0 RTP/AVP" CRLF,
		 mbuf_str(&f.mb));
out:
	fx_reset(&f);
	return err;
}

/* ---- hold ------------------------------------------------------------------ */

/* The baresip call's re-INVITEs: same o= id, the version one up each time. */
TEST(test_sdp_hold)
{
	static const struct {
		const char *in;
		enum sdp_dir offered, answered;
		bool hold;
	} cases[] = {
	    {"v=0" CRLF "o=- 2304476547 3594326194 IN IP4 192.168.1.10" CRLF "s=-" CRLF
	     "c=IN IP4 192.168.1.10" CRLF "t=0 0" CRLF "m=audio 10102 RTP/AVP 0 101" CRLF
	     "a=rtpmap:101 telephone-event/8000" CRLF "a=sendonly" CRLF,
	     SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, true},
	    /* RFC 2543 hold: no attribute, the address zeroed. */
	    {"v=0" CRLF "o=- 2304476547 3594326195 IN IP4 192.168.1.10" CRLF "s=-" CRLF
	     "c=IN IP4 0.0.0.0" CRLF "t=0 0" CRLF "m=audio 10102 RTP/AVP 0" CRLF,
	     SDP_DIR_SENDRECV, SDP_DIR_RECVONLY, true},
	    /* Session-level inactive. */
	    {"v=0" CRLF "o=- 2304476547 3594326196 IN IP4 192.168.1.10" CRLF "s=-" CRLF
	     "c=IN IP4 192.168.1.10" CRLF "t=0 0" CRLF "a=inactive" CRLF
	     "m=audio 10102 RTP/AVP 0" CRLF,
	     SDP_DIR_INACTIVE, SDP_DIR_INACTIVE, true},
	    /* Media level overrides session level. */
	    {"v=0" CRLF "o=- 2304476547 3594326197 IN IP4 192.168.1.10" CRLF "s=-" CRLF
	     "c=IN IP4 192.168.1.10" CRLF "t=0 0" CRLF "a=sendonly" CRLF
	     "m=audio 10102 RTP/AVP 0" CRLF "a=recvonly" CRLF,
	     SDP_DIR_RECVONLY, SDP_DIR_SENDONLY, false},
	    /* Resume. */
	    {"v=0" CRLF "o=- 2304476547 3594326198 IN IP4 192.168.1.10" CRLF "s=-" CRLF
	     "c=IN IP4 192.168.1.10" CRLF "t=0 0" CRLF "m=audio 10102 RTP/AVP 0" CRLF
	     "a=sendrecv" CRLF,
	     SDP_DIR_SENDRECV, SDP_DIR_SENDRECV, false},
	};
	struct sdp_session *s = NULL, *ans = NULL;
	struct sdp_local l;
	struct sdp_stream st;
	const char *why = NULL;
	uint64_t version = 3594326193u;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		TEST_ERR(fx_parse(&f, 0, cases[k].in, &s));
		TEST_STR("2304476547", s->sess_id);
		TEST_EQUALS(version + 1, s->sess_version);
		version = s->sess_version;
		TEST_EQUALS(cases[k].offered, s->media[0].dir);
		TEST_EQUALS(cases[k].hold, sdp_media_is_hold(&s->media[0]));
		TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
		TEST_EQUALS(cases[k].answered, ans->media[0].dir);
		TEST_ERR(sdp_stream_get(&st, s, &l, &why));
		TEST_EQUALS(cases[k].hold, st.hold);
		TEST_EQUALS(cases[k].offered, st.dir);
	}

	/* We hold: our sendonly meets their sendrecv. */
	l.dir = SDP_DIR_SENDONLY;
	TEST_EQUALS(SDP_ANSWER_OK, sdp_answer(&ans, &f.a, s, &l, &why));
	TEST_EQUALS(SDP_DIR_SENDONLY, ans->media[0].dir);
out:
	fx_reset(&f);
	return err;
}

/* ---- our offer and the printer ---------------------------------------------- */

TEST(test_sdp_offer)
{
	struct sdp_session *s = NULL, *back = NULL;
	struct sdp_local l;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	l.username = STR_NULL;
	l.sess_id = 1234567890123ull;
	l.sess_version = 3;
	l.codecs[0] = SDP_CODEC_PCMA; /* a European tenant */
	l.codecs[1] = SDP_CODEC_PCMU;
	l.rtcp_mux = true;
	TEST_ERR(sdp_offer(&s, &f.a, &l));
	TEST_ERR(sdp_print(&f.mb, s));
	TEST_STR("v=0" CRLF "o=- 1234567890123 3 IN IP4 203.0.113.5" CRLF "s=-" CRLF
		 "c=IN IP4 203.0.113.5" CRLF "t=0 0" CRLF "m=audio 40000 RTP/AVP 8 0 101" CRLF
		 "a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:0 PCMU/8000" CRLF
		 "a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-16" CRLF "a=ptime:20" CRLF
		 "a=rtcp-mux" CRLF "a=sendrecv" CRLF,
		 mbuf_str(&f.mb));
	TEST_ERR(fx_reparse(&f, &back));
	TEST_EQUALS(3, back->media[0].nfmts);

	/* Bad locals. */
	l.tel_event_pt = 5;
	TEST_EQUALS(-EINVAL, sdp_offer(&s, &f.a, &l));
	l.tel_event_pt = 101;
	l.codecs[0] = SDP_CODEC_TEL_EVENT;
	l.ncodecs = 1;
	TEST_EQUALS(-EINVAL, sdp_offer(&s, &f.a, &l));
	local4(&l, "203.0.113.5", 0);
	TEST_EQUALS(-EINVAL, sdp_offer(&s, &f.a, &l));
out:
	fx_reset(&f);
	return err;
}

/* Print a parsed description, parse it again: the same values, and printing
 * that gives the same bytes. */
TEST(test_sdp_print_round_trip)
{
	static const char in[] = "v=0\n"
				 "o=carol 77 88 IN IP4 192.0.2.7\n"
				 "s=conference\n"
				 "c=IN IP4 192.0.2.7\n"
				 "b=AS:256\n"
				 "t=3034423619 3042462419\n"
				 "a=recvonly\n"
				 "m=audio 49170/2 RTP/AVP 0 96 13\n"
				 "b=TIAS:64000\n"
				 "a=rtpmap:96 L16/16000/2\n"
				 "a=fmtp:96 \n"
				 "a=ptime:30\n"
				 "a=maxptime:60\n"
				 "a=rtcp:53020 IN IP4 192.0.2.8\n"
				 "m=video 51372 RTP/AVP 31\n"
				 "c=IN IP6 2001:db8::7\n"
				 "a=mid:1\n"
				 "a=inactive\n"
				 "m=application 0 TCP/MSRP *\n";
	struct sdp_session *a = NULL, *b = NULL;
	struct str first, second;
	struct mbuf again;
	struct fx f;
	int err = 0;

	fx_init(&f);
	mbuf_init(&again, 0);
	TEST_ERR(fx_parse(&f, 0, in, &a));
	TEST_ERR(sdp_print(&f.mb, a));
	TEST_STR("v=0" CRLF "o=carol 77 88 IN IP4 192.0.2.7" CRLF "s=conference" CRLF
		 "c=IN IP4 192.0.2.7" CRLF "b=AS:256" CRLF "t=3034423619 3042462419" CRLF
		 "m=audio 49170/2 RTP/AVP 0 96 13" CRLF "b=TIAS:64000" CRLF
		 "a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:96 L16/16000/2" CRLF "a=fmtp:96" CRLF
		 "a=rtpmap:13 CN/8000" CRLF "a=ptime:30" CRLF "a=maxptime:60" CRLF
		 "a=rtcp:53020 IN IP4 192.0.2.8" CRLF "a=recvonly" CRLF
		 "m=video 51372 RTP/AVP 31" CRLF "c=IN IP6 2001:db8::7" CRLF "a=mid:1" CRLF
		 "a=inactive" CRLF "m=application 0 TCP/MSRP *" CRLF,
		 mbuf_str(&f.mb));
	TEST_ERR(fx_reparse(&f, &b));
	TEST_EQUALS(a->sess_version, b->sess_version);
	TEST_EQUALS(a->t_start, b->t_start);
	TEST_EQUALS(a->nmedia, b->nmedia);
	for (unsigned i = 0; i < a->nmedia; i++) {
		const struct sdp_media *x = &a->media[i], *y = &b->media[i];

		TEST_EQUALS(x->port, y->port);
		TEST_EQUALS(x->nports, y->nports);
		TEST_EQUALS(x->proto_id, y->proto_id);
		if (x->port) { /* a rejected stream's attributes are not printed */
			TEST_EQUALS(x->dir, y->dir);
			TEST_EQUALS(x->ptime, y->ptime);
		}
		TEST_EQUALS(x->nfmts, y->nfmts);
		TEST_ASSERT(str_eq(&x->conn.addr, &y->conn.addr));
		for (unsigned k = 0; k < x->nfmts; k++) {
			TEST_EQUALS(x->fmts[k].pt, y->fmts[k].pt);
			TEST_ASSERT(str_eq(&x->fmts[k].encoding, &y->fmts[k].encoding));
			TEST_EQUALS(x->fmts[k].clock, y->fmts[k].clock);
			TEST_EQUALS(x->fmts[k].channels, y->fmts[k].channels);
		}
	}
	TEST_ERR(sdp_print(&again, b));
	first = mbuf_str(&f.mb);
	second = mbuf_str(&again);
	TEST_ASSERT(str_eq(&first, &second));
out:
	mbuf_reset(&again);
	fx_reset(&f);
	return err;
}

/* Fields that would split or shift a line are refused, and nothing is written. */
TEST(test_sdp_print_refuses)
{
	struct sdp_session *s = NULL;
	struct sdp_local l;
	struct fx f;
	int err = 0;

	fx_init(&f);
	local4(&l, "203.0.113.5", 40000);
	TEST_ERR(sdp_offer(&s, &f.a, &l));
	TEST_ERR(mbuf_write_cstr(&f.mb, "X"));
	s->name = STR("a\r\nm=audio 1 RTP/AVP 0");
	TEST_EQUALS(-EINVAL, sdp_print(&f.mb, s));
	TEST_STR("X", mbuf_str(&f.mb));
	s->name = STR("-");
	s->username = STR("two words");
	TEST_EQUALS(-EINVAL, sdp_print(&f.mb, s));
	s->username = STR("-");
	s->media[0].fmts[0].id = STR_NULL;
	TEST_EQUALS(-EINVAL, sdp_print(&f.mb, s));
	TEST_STR("X", mbuf_str(&f.mb));
	TEST_EQUALS(-EINVAL, sdp_print(NULL, s));

	/* The mbuf's limit. */
	mbuf_reset(&f.mb);
	f.mb.limit = 32;
	s->media[0].fmts[0].id = STR("0");
	TEST_EQUALS(-EMSGSIZE, sdp_print(&f.mb, s));
	TEST_EQUALS(0, mbuf_left(&f.mb));
out:
	fx_reset(&f);
	return err;
}

/* ---- malformed ------------------------------------------------------------- */

#define HEAD  "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF
#define HEADC HEAD "c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF

/* perr.offset is where @tail starts: the error is in the last lines, so a
 * tail of the input names the spot without counting bytes by hand. */
static const struct {
	const char *in;
	int err;
	const char *reason;
	const char *tail;
} bad_sdps[] = {
    {"", -EBADMSG, "empty description", ""},
    {"o=- 1 1 IN IP4 192.0.2.1" CRLF, -EBADMSG,
     "description does not start with v=", "o=- 1 1 IN IP4 192.0.2.1" CRLF},
    {CRLF "v=0" CRLF, -EBADMSG, "description does not start with v=", CRLF "v=0" CRLF},
    {"v=1" CRLF, -EBADMSG, "v= is not 0", "1" CRLF},
    {"v=0" CRLF "s=-" CRLF "t=0 0" CRLF, -EBADMSG, "no o= line", ""},
    {HEAD "v=0" CRLF, -EBADMSG, "repeated v= line", "v=0" CRLF},
    {HEAD "o=- 1 1 IN IP4 192.0.2.1" CRLF, -EBADMSG, "repeated o= line",
     "o=- 1 1 IN IP4 192.0.2.1" CRLF},
    {"v=0" CRLF "o=- 1 1 IN IP4" CRLF, -EBADMSG,
     "o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address>",
     "o=- 1 1 IN IP4" CRLF},
    {"v=0" CRLF "o=- 1 x IN IP4 h" CRLF, -EBADMSG, "o= session version is not a number",
     "x IN IP4 h" CRLF},
    {"v=0" CRLF "o=- 1 99999999999999999999 IN IP4 h" CRLF, -EBADMSG,
     "o= session version out of range", "99999999999999999999 IN IP4 h" CRLF},
    {"v=0" CRLF "o=- 1a 1 IN IP4 h" CRLF, -EBADMSG, "o= session id is not a number",
     "1a 1 IN IP4 h" CRLF},
    {"v=0" CRLF "o=- 1 1 IN IPX h" CRLF, -EBADMSG, "o= address type is not IP4 or IP6",
     "IPX h" CRLF},
    {"v=0" CRLF "o=- 1 1 XX IP4 h" CRLF, -EBADMSG, "o= network type is not IN", "XX IP4 h" CRLF},
    {HEAD "x" CRLF, -EBADMSG, "line is not <type>=<value>", "x" CRLF},
    {HEAD "M=audio 1 RTP/AVP 0" CRLF, -EBADMSG, "line is not <type>=<value>",
     "M=audio 1 RTP/AVP 0" CRLF},
    {HEAD "s=-" CRLF, -EBADMSG, "repeated s= line", "s=-" CRLF},
    {HEAD "s=a\rb" CRLF, -EBADMSG, "CR inside a line", "\rb" CRLF},
    {HEAD CRLF "t=0 0" CRLF, -EBADMSG, "blank line inside the description", CRLF "t=0 0" CRLF},
    {HEAD "t=0" CRLF, -EBADMSG, "t= needs <start-time> <stop-time>", "t=0" CRLF},
    {HEAD "t=now 0" CRLF, -EBADMSG, "t= times are not numbers", "now 0" CRLF},
    {HEAD "c=XX IP4 192.0.2.1" CRLF, -EBADMSG, "c= network type is not IN",
     "XX IP4 192.0.2.1" CRLF},
    {HEAD "c=IN IP5 192.0.2.1" CRLF, -EBADMSG, "c= address type is not IP4 or IP6",
     "IP5 192.0.2.1" CRLF},
    {HEAD "c=IN IP4" CRLF, -EBADMSG, "c= needs <nettype> <addrtype> <address>", "c=IN IP4" CRLF},
    {HEAD "c=IN IP4 300.1.1.1" CRLF, -EBADMSG, "c= address is malformed", "300.1.1.1" CRLF},
    {HEAD "c=IN IP6 192.0.2.1" CRLF, -EBADMSG, "c= address is malformed", "192.0.2.1" CRLF},
    {HEAD "c=IN IP4 192.0.2.1/x" CRLF, -EBADMSG, "c= address is malformed", "x" CRLF},
    {HEAD "c=IN IP4 bad_host" CRLF, -EBADMSG, "c= address is malformed", "bad_host" CRLF},
    {HEADC "c=IN IP4 192.0.2.2" CRLF, -EBADMSG, "repeated c= line", "c=IN IP4 192.0.2.2" CRLF},
    {HEADC "b=AS" CRLF, -EBADMSG, "b= needs <bwtype>:<bandwidth>", "AS" CRLF},
    {HEADC "b=AS:x" CRLF, -EBADMSG, "b= bandwidth is not a number within 32 bits", "x" CRLF},
    {HEADC "m=audio 5000" CRLF, -EBADMSG, "m= needs <media> <port> <proto> <fmt> ...",
     "m=audio 5000" CRLF},
    {HEADC "m=audio x RTP/AVP 0" CRLF, -EBADMSG, "m= port is not a number", "x RTP/AVP 0" CRLF},
    {HEADC "m=audio 70000 RTP/AVP 0" CRLF, -EBADMSG, "m= port out of range",
     "70000 RTP/AVP 0" CRLF},
    {HEADC "m=audio 5000/0 RTP/AVP 0" CRLF, -EBADMSG, "m= number of ports out of range",
     "0 RTP/AVP 0" CRLF},
    {HEADC "m=audio 5000 RTP/ 0" CRLF, -EBADMSG, "m= transport protocol is malformed",
     "RTP/ 0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP" CRLF, -EBADMSG, "m= lists no format",
     "m=audio 5000 RTP/AVP" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 128" CRLF, -EBADMSG, "m= payload type is not 0-127", "128" CRLF},
    {HEADC "m=audio 5000 RTP/AVP PCMU" CRLF, -EBADMSG, "m= payload type is not 0-127", "PCMU" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0 8 0" CRLF, -EBADMSG, "m= lists a payload type twice", "0" CRLF},
    {HEADC "m=image 5000 udptl t38 t38" CRLF, -EBADMSG, "m= lists a format twice", "t38" CRLF},
    {HEADC "m=image 5000 udptl t(38" CRLF, -EBADMSG, "m= format is malformed", "t(38" CRLF},
    {HEAD "t=0 0" CRLF "m=audio 5000 RTP/AVP 0" CRLF, -EBADMSG,
     "m= stream has no c= line, nor the session", "m=audio 5000 RTP/AVP 0" CRLF},
    {HEAD "t=0 0" CRLF "m=audio 5000 RTP/AVP 0" CRLF "m=audio 0 RTP/AVP 0" CRLF, -EBADMSG,
     "m= stream has no c= line, nor the session",
     "m=audio 5000 RTP/AVP 0" CRLF "m=audio 0 RTP/AVP 0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "o=- 1 1 IN IP4 h" CRLF, -EBADMSG,
     "o= line inside a media section", "o=- 1 1 IN IP4 h" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "s=x" CRLF, -EBADMSG, "s= line inside a media section",
     "s=x" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "t=0 0" CRLF, -EBADMSG, "t= line inside a media section",
     "t=0 0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96 opus" CRLF, -EBADMSG,
     "a=rtpmap needs <payload type> <encoding>/<clock rate>", "opus" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96" CRLF, -EBADMSG,
     "a=rtpmap needs <payload type> <encoding>/<clock rate>", "a=rtpmap:96" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:x opus/48000" CRLF, -EBADMSG,
     "a=rtpmap payload type is not 0-127", "x opus/48000" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96 opus/fast" CRLF, -EBADMSG,
     "a=rtpmap clock rate is malformed", "fast" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96 opus/0" CRLF, -EBADMSG,
     "a=rtpmap clock rate is malformed", "0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96 opus/48000/0" CRLF, -EBADMSG,
     "a=rtpmap channels out of range", "0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 96" CRLF "a=rtpmap:96 op;us/48000" CRLF, -EBADMSG,
     "a=rtpmap encoding name is malformed", "op;us/48000" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:0 pcmu/8000" CRLF,
     -EBADMSG, "repeated a=rtpmap for one payload type", "0 pcmu/8000" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=fmtp:0 x" CRLF "a=fmtp:0 y" CRLF, -EBADMSG,
     "repeated a=fmtp for one format", "0 y" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=fmtp:" CRLF, -EBADMSG,
     "a=fmtp needs <format> <parameters>", "a=fmtp:" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=fmtp:abc x" CRLF, -EBADMSG,
     "a=fmtp payload type is not 0-127", "abc x" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=sendonly" CRLF "a=recvonly" CRLF, -EBADMSG,
     "conflicting direction attributes", "a=recvonly" CRLF},
    {HEADC "a=inactive" CRLF "a=sendrecv" CRLF, -EBADMSG, "conflicting direction attributes",
     "a=sendrecv" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=ptime:0" CRLF, -EBADMSG,
     "a=ptime is not a duration of 1 to 10000 ms", "0" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=ptime:20ms" CRLF, -EBADMSG,
     "a=ptime is not a duration of 1 to 10000 ms", "20ms" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=maxptime:20." CRLF, -EBADMSG,
     "a=maxptime is not a duration of 1 to 10000 ms", "20." CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtcp:70000" CRLF, -EBADMSG, "a=rtcp port out of range",
     "70000" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtcp:" CRLF, -EBADMSG, "a=rtcp needs <port>",
     "a=rtcp:" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtcp:5001 IN IP4" CRLF, -EBADMSG,
     "a=rtcp address needs <nettype> <addrtype> <address>", "a=rtcp:5001 IN IP4" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtcp:5001 IN IP4 300.0.0.1" CRLF, -EBADMSG,
     "a=rtcp address is malformed", "300.0.0.1" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=rtcp:5001" CRLF "a=rtcp:5003" CRLF, -EBADMSG,
     "repeated a=rtcp", "a=rtcp:5003" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=mid:1" CRLF "a=mid:2" CRLF, -EBADMSG, "repeated a=mid",
     "a=mid:2" CRLF},
    {HEADC "m=audio 5000 RTP/AVP 0" CRLF "a=mid:" CRLF, -EBADMSG, "a=mid is not a token", CRLF},
};

TEST(test_sdp_parse_malformed)
{
	static struct sdp_session untouched;
	struct sdp_session *s;
	struct fx f;
	int err = 0;

	fx_init(&f);
	for (size_t k = 0; k < sizeof(bad_sdps) / sizeof(bad_sdps[0]); k++) {
		size_t len = strlen(bad_sdps[k].in);
		size_t off = len - strlen(bad_sdps[k].tail);
		int r;

		s = &untouched;
		r = fx_parse_n(&f, 0, bad_sdps[k].in, len, &s);
		if (test_oom_mode() && r == -ENOMEM)
			continue;
		if (r != bad_sdps[k].err || !f.pe.reason ||
		    strcmp(f.pe.reason, bad_sdps[k].reason) || f.pe.offset != off ||
		    s != &untouched) {
			test_fail(__FILE__, __LINE__,
				  "case %zu: got %d \"%s\" at %zu, expected %d \"%s\" at %zu", k, r,
				  f.pe.reason ? f.pe.reason : "(none)", f.pe.offset,
				  bad_sdps[k].err, bad_sdps[k].reason, off);
			err = -EINVAL;
		}
	}
	fx_reset(&f);
	return err;
}

/* A NUL can hide a line end from code that stops at it: refused. */
TEST(test_sdp_parse_nul)
{
	static const char in[] = HEAD "i=a\0b" CRLF;
	struct sdp_session *s = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_EQUALS(-EBADMSG, fx_parse_n(&f, 0, in, sizeof(in) - 1, &s));
	TEST_ASSERT(!strcmp(f.pe.reason, "NUL byte in a line"));
	TEST_EQUALS(sizeof(HEAD "i=a") - 1, f.pe.offset);
out:
	fx_reset(&f);
	return err;
}

/* The reason names the line, which a log or a 488 Warning can show. */
TEST(test_sdp_perr_line)
{
	struct sdp_session *s = NULL;
	struct fx f;
	int err = 0;

	fx_init(&f);
	TEST_EQUALS(-EBADMSG, fx_parse(&f, 0, HEADC "m=audio 5000 RTP/AVP 0 1000\n", &s));
	TEST_STR("m=audio 5000 RTP/AVP 0 1000", f.pe.line);
	TEST_ASSERT(f.pe.line.p >= f.in[0]);
	/* No perr at all. */
	TEST_EQUALS(-EBADMSG, sdp_parse(&s, &f.a, "v=1", 3, NULL));
	TEST_EQUALS(-EINVAL, sdp_parse(NULL, &f.a, "v=0", 3, NULL));
out:
	fx_reset(&f);
	return err;
}

/* ---- limits ------------------------------------------------------------------ */

TEST(test_sdp_limits)
{
	char *big = NULL;
	struct sdp_session *s = NULL;
	struct mbuf mb;
	struct fx f;
	int err = 0;

	fx_init(&f);
	mbuf_init(&mb, 0);

	/* 16 m= lines pass, 17 do not. */
	TEST_ERR(mbuf_write_cstr(&mb, HEADC));
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		TEST_ERR(mbuf_printf(&mb, "m=audio %u RTP/AVP 0\r\n", 5000 + 2 * i));
	TEST_ERR(fx_parse_n(&f, 0, mbuf_str(&mb).p, mbuf_str(&mb).len, &s));
	TEST_EQUALS(SDP_MAX_MEDIA, s->nmedia);
	TEST_ERR(mbuf_write_cstr(&mb, "m=audio 7000 RTP/AVP 0\r\n"));
	TEST_EQUALS(-EMSGSIZE, fx_parse_n(&f, 0, mbuf_str(&mb).p, mbuf_str(&mb).len, &s));
	TEST_ASSERT(!strcmp(f.pe.reason, "more than 16 m= lines"));
	TEST_EQUALS(mbuf_str(&mb).len - strlen("m=audio 7000 RTP/AVP 0\r\n"), f.pe.offset);

	/* 32 formats pass, 33 do not. */
	mbuf_reset(&mb);
	TEST_ERR(mbuf_write_cstr(&mb, HEADC "m=audio 5000 RTP/AVP"));
	for (unsigned i = 0; i < SDP_MAX_FMTS; i++)
		TEST_ERR(mbuf_printf(&mb, " %u", 96 + i));
	TEST_ERR(fx_parse_n(&f, 0, mbuf_str(&mb).p, mbuf_str(&mb).len, &s));
	TEST_EQUALS(SDP_MAX_FMTS, s->media[0].nfmts);
	TEST_ERR(mbuf_write_cstr(&mb, " 0"));
	TEST_EQUALS(-EMSGSIZE, fx_parse_n(&f, 0, mbuf_str(&mb).p, mbuf_str(&mb).len, &s));
	TEST_ASSERT(!strcmp(f.pe.reason, "more than 32 formats on an m= line"));
	TEST_EQUALS(mbuf_str(&mb).len - 1, f.pe.offset);

	/* 16 KiB pass (unknown attributes are skipped), one byte more does not. */
	big = mem_alloc(SDP_MAX_SIZE + 1);
	if (!big) {
		err = -ENOMEM;
		goto out;
	}
	memset(big, 'x', SDP_MAX_SIZE + 1);
	memcpy(big, HEADC "a=", strlen(HEADC "a="));
	TEST_ERR(fx_parse_n(&f, 0, big, SDP_MAX_SIZE, &s));
	TEST_EQUALS(-EMSGSIZE, fx_parse_n(&f, 0, big, SDP_MAX_SIZE + 1, &s));
	TEST_ASSERT(!strcmp(f.pe.reason, "description larger than 16384 bytes"));
	TEST_EQUALS(SDP_MAX_SIZE, f.pe.offset);
out:
	mem_free(big);
	mbuf_reset(&mb);
	fx_reset(&f);
	return err;
}
