/*
 * sdp: session descriptions for a B2BUA that anchors media (RFC 4566 syntax,
 * RFC 3264 offer/answer, RFC 3551 static payload types, RFC 4733
 * telephone-event).
 *
 * Three jobs. sdp_parse() reads an untrusted body into a struct sdp_session
 * whose strings are views into the body and whose records live in the
 * caller's arena. sdp_print() writes a struct sdp_session (ours, or a parsed
 * one) as SDP text. sdp_offer(), sdp_answer() and sdp_stream_get() are the
 * offer/answer helpers: our offer, our answer to a remote offer, and the one
 * audio stream the media engine sends to and receives from.
 *
 * The parser is strict where a mistake would make media go wrong (ports,
 * payload types, rtpmap, addresses, directions) and tolerant of what real
 * phones do that does no harm: LF-only line ends, a missing final line end,
 * trailing blanks, blank lines at the end, missing s= and t= lines, runs of
 * spaces between fields, attributes and line types it does not know (skipped,
 * never stored), a=rtpmap/a=fmtp for formats the m= line does not list.
 *
 * Errors: functions return 0 or a negative errno. Parse errors are -EBADMSG
 * (malformed) or -EMSGSIZE (a limit below was crossed), each with a struct
 * sdp_perr giving the byte offset and a static reason; -ENOMEM when the
 * arena is exhausted. A remote offer we cannot accept is not an error:
 * sdp_answer() returns SDP_ANSWER_NO_CODEC so the caller can answer 488.
 *
 * Threads: no state of its own; a session belongs to whoever owns its arena.
 *
 * Not here: SRTP (RTP/SAVP, DTLS), ICE, video, T.38, more than one audio
 * stream, transcoding decisions, and SIP (Content-Type, the 488 itself).
 */
#ifndef SDP_SDP_H
#define SDP_SDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/arena.h"
#include "base/mbuf.h"
#include "base/str.h"

/* Limits on untrusted input; crossing one gives -EMSGSIZE and a reason. */
#define SDP_MAX_SIZE  16384u /* bytes of a whole description */
#define SDP_MAX_MEDIA 16u    /* m= lines */
#define SDP_MAX_FMTS  32u    /* formats on one m= line */

enum sdp_addrtype {
	SDP_ADDR_NONE = 0, /* no c= line (or no a=rtcp address) */
	SDP_ADDR_IP4,
	SDP_ADDR_IP6,
};

/* Media direction (RFC 3264 §5.1, §6.1), from the point of view of the
 * description's author: SENDONLY in a remote offer means the remote sends. */
enum sdp_dir {
	SDP_DIR_SENDRECV = 0, /* the default when no attribute is given */
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

enum sdp_media_type {
	SDP_MEDIA_OTHER = 0,
	SDP_MEDIA_AUDIO,
	SDP_MEDIA_VIDEO,
	SDP_MEDIA_TEXT,
	SDP_MEDIA_APPLICATION,
	SDP_MEDIA_MESSAGE,
	SDP_MEDIA_IMAGE, /* T.38 */
};

enum sdp_proto {
	SDP_PROTO_OTHER = 0, /* formats are opaque tokens */
	SDP_PROTO_RTP_AVP,   /* RTP protos: formats are payload types 0-127 */
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,
	SDP_PROTO_UDP_TLS_RTP_SAVPF,
	SDP_PROTO_UDPTL, /* T.38 */
};

/* The codecs the platform speaks; every other format is SDP_CODEC_NONE. */
enum sdp_codec {
	SDP_CODEC_NONE = 0,
	SDP_CODEC_PCMU,	     /* G.711 µ-law, static pt 0, 8000 Hz */
	SDP_CODEC_PCMA,	     /* G.711 A-law, static pt 8, 8000 Hz */
	SDP_CODEC_TEL_EVENT, /* RFC 4733 telephone-event/8000, dynamic pt */
	SDP_CODEC__COUNT,
};

/* A connection address: c= at session or media level, or a=rtcp's address. */
struct sdp_conn {
	enum sdp_addrtype type; /* SDP_ADDR_NONE: absent, the rest is unset */
	struct str addr;	/* as written, without a /ttl or /count suffix */
	bool numeric;		/* @addr is an IP literal of @type, held in @ip */
	bool unspecified;	/* 0.0.0.0 (RFC 2543 hold) or :: */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} ip;
};

/* One format of an m= line and what a=rtpmap and a=fmtp say about it. */
struct sdp_fmt {
	struct str id; /* the token as written on the m= line */
	int pt;	       /* payload type 0-127, or -1 when the proto is not RTP */
	/* "PCMU": a view into the body when has_rtpmap, else a static string
	 * from RFC 3551's table (pt 0, 3, 4, 8, 9, 13, 18), else empty. */
	struct str encoding;
	uint32_t clock;	  /* Hz, 0 when unknown */
	uint8_t channels; /* 1 when a=rtpmap gives none */
	bool has_rtpmap;
	bool has_fmtp;
	struct str fmtp; /* a=fmtp parameters, may be empty */
};

struct sdp_media {
	enum sdp_media_type type;
	struct str media; /* "audio", as written */
	uint16_t port;	  /* 0: a rejected or disabled stream */
	uint16_t nports;  /* m=<media> <port>/<count>; 1 when no count */
	enum sdp_proto proto_id;
	struct str proto; /* "RTP/AVP", as written */
	struct sdp_fmt *fmts;
	unsigned nfmts;

	/* Effective values: the media-level line or attribute, else the
	 * session-level one, else the default. */
	struct sdp_conn conn; /* type NONE only when port is 0 */
	bool conn_own;	      /* conn came from a media-level c= line */
	enum sdp_dir dir;
	uint32_t ptime;	   /* ms, 0 when absent */
	uint32_t maxptime; /* ms, 0 when absent */

	uint32_t bw_as;	  /* b=AS (kbit/s), 0 when absent */
	uint32_t bw_tias; /* b=TIAS (bit/s, RFC 3890), 0 when absent */
	bool has_rtcp;	  /* a=rtcp (RFC 3605) */
	uint16_t rtcp_port;
	struct sdp_conn rtcp_conn; /* its optional address; type NONE when not given */
	bool rtcp_mux;		   /* a=rtcp-mux (RFC 5761) */
	struct str mid;		   /* a=mid (RFC 5888), or empty */
};

struct sdp_session {
	const char *buf; /* borrowed: the parsed body, NULL for a built session */
	size_t len;

	/* o= (RFC 4566 §5.2). sess_id is kept as text: some peers use more
	 * digits than 64 bits hold, and we only ever compare it. */
	struct str username;
	struct str sess_id;
	uint64_t sess_version; /* increases when the description changes (RFC 3264 §8) */
	enum sdp_addrtype origin_type;
	struct str origin_addr;

	struct str name;      /* s=, or empty when absent */
	struct sdp_conn conn; /* session-level c=, type NONE when absent */
	uint32_t bw_as, bw_tias;
	uint64_t t_start, t_stop; /* the first t= line; 0 0 when absent */
	enum sdp_dir dir;	  /* session-level attribute; media[k].dir is what applies */

	struct sdp_media *media; /* in order; m= line k is media[k] */
	unsigned nmedia;
};

/* Why a body was rejected. */
struct sdp_perr {
	size_t offset;	    /* bytes from the start of the body */
	struct str line;    /* the offending line without its line end, or empty */
	const char *reason; /* static text, e.g. "m= port out of range" */
};

/*
 * Parse the SDP body @buf[0..@len). Records come from @arena (the caller
 * resets it as a whole); every view points into @buf, which must stay valid
 * and unchanged while *@sp is used, except the static encoding names of
 * struct sdp_fmt. @perr may be NULL. Returns 0 and *@sp, or -EBADMSG,
 * -EMSGSIZE or -ENOMEM with @perr filled (-EINVAL for NULL arguments);
 * *@sp is written only on success.
 */
int sdp_parse(struct sdp_session **sp, struct arena *arena, const char *buf, size_t len,
	      struct sdp_perr *perr);

/*
 * Append @s as SDP text to @mb, CRLF line ends, lines in RFC 4566 order. The
 * media direction, ptime and rtpmap/fmtp lines are written per m= line;
 * a rejected stream (port 0) gets only its m=, c= and a=mid lines.
 * Returns 0, -EINVAL (a field is missing or holds CR, LF or NUL), -ENOMEM
 * or -EMSGSIZE (@mb's limit); on error nothing is appended.
 */
int sdp_print(struct mbuf *mb, const struct sdp_session *s);

/* What we offer and answer with: our side of the media, set up by the caller. */
struct sdp_local {
	struct str username; /* o= username; empty gives "-" */
	uint64_t sess_id;
	uint64_t sess_version;	      /* the caller increments it whenever our media
					 description changes (RFC 3264 §8) */
	struct sockaddr_storage addr; /* advertised RTP address and port (AF_INET or AF_INET6);
					 streams of the other family are rejected */
	enum sdp_codec codecs[SDP_CODEC__COUNT]; /* ours, in our order of preference */
	unsigned ncodecs;
	uint8_t tel_event_pt; /* dynamic pt for telephone-event in our offers (96-127) */
	uint32_t ptime;	      /* ms for a=ptime, 0 for none */
	enum sdp_dir dir;     /* what we want: SENDONLY while we hold the remote */
	bool rtcp_mux;	      /* we accept RTCP on the RTP port when offered */
};

/*
 * Build our offer from @local: one m=audio with @local's codecs in their
 * order. Records come from @arena; views point into @arena and @local,
 * which must outlive *@sp. Returns 0 and *@sp, -EINVAL (bad @local: no
 * voice codec, port 0, family other than IPv4/IPv6) or -ENOMEM.
 */
int sdp_offer(struct sdp_session **sp, struct arena *arena, const struct sdp_local *local);

enum sdp_answer_result {
	SDP_ANSWER_OK = 0,
	/* No offered stream can be accepted: no audio stream, or none with a
	 * codec, profile or address family we have. The caller answers 488. */
	SDP_ANSWER_NO_CODEC = 1,
};

/*
 * Answer the remote @offer (RFC 3264 §6): as many m= lines in the same
 * order, the first usable audio stream accepted and every other one
 * rejected with port 0. The accepted stream keeps the offerer's payload
 * type numbers and carries the first format of the offer that is one of
 * @local's voice codecs (one codec: the media engine knows what it will
 * get), plus telephone-event when both sides have it. Its direction is the
 * offer's mirrored (sendonly -> recvonly, recvonly -> sendonly, inactive ->
 * inactive; c=0.0.0.0 counts as the offerer not receiving) and narrowed by
 * @local->dir.
 *
 * Records come from @arena; views point into @arena, @local and @offer's
 * body, which must all outlive *@ansp. Returns SDP_ANSWER_OK and *@ansp,
 * SDP_ANSWER_NO_CODEC with *@why (static text, e.g. "no common codec";
 * *@ansp is not written), -EINVAL or -ENOMEM. @why may be NULL.
 */
int sdp_answer(struct sdp_session **ansp, struct arena *arena, const struct sdp_session *offer,
	       const struct sdp_local *local, const char **why);

/* The audio stream the media engine runs, taken from a remote description. */
struct sdp_stream {
	unsigned index;			/* its m= line */
	struct sockaddr_storage remote; /* where to send RTP: c= address, m= port */
	struct sockaddr_storage rtcp;	/* where to send RTCP: a=rtcp, else port + 1
					   (port 0: none); the RTP address when rtcp_mux */
	bool rtcp_mux;			/* RTCP on the RTP port: the remote wrote
					   a=rtcp-mux and @local accepts it */
	enum sdp_codec codec;		/* the voice codec */
	int pt;				/* its payload type */
	uint32_t clock;			/* its RTP clock rate */
	int tel_event_pt;		/* telephone-event/8000, -1 when absent */
	uint32_t ptime;			/* ms, 0 when the remote gave none */
	enum sdp_dir dir;		/* as the remote wrote it */
	bool hold;			/* the remote put us on hold: sdp_media_is_hold() */
};

/*
 * The first usable audio stream of the remote description @s (an offer we
 * answered with sdp_answer() and the same @local, so both pick the same
 * stream and codec; or the answer to our offer). @local may be NULL to
 * accept any codec the platform speaks and either address family.
 * Returns 0 and *@st, or -ENOENT with *@why when there is none.
 */
int sdp_stream_get(struct sdp_stream *st, const struct sdp_session *s,
		   const struct sdp_local *local, const char **why);

/* Hold (RFC 3264 §8.4): sendonly or inactive, or the RFC 2543 c=0.0.0.0. */
bool sdp_media_is_hold(const struct sdp_media *m);

/* Which of our codecs @f is (encoding names compare without case). */
enum sdp_codec sdp_fmt_codec(const struct sdp_fmt *f);

/* "sendrecv"...; "PCMU"...: static, never NULL. */
const char *sdp_dir_name(enum sdp_dir dir);
const char *sdp_codec_name(enum sdp_codec c);

/* A default @local: PCMU, PCMA, telephone-event 101, ptime 20, sendrecv; the
 * caller sets addr, sess_id and sess_version. */
void sdp_local_init(struct sdp_local *local);

#endif
