/*
 * rtp: the RTP and RTCP wire formats (RFC 3550), per-source receive
 * statistics (RFC 3550 Appendix A.1, A.3, A.8) and DTMF telephone events
 * (RFC 4733), as the primitives of the RTP relay.
 *
 * Everything here works on bytes the caller holds: no sockets, no threads,
 * no clock (times come in as arguments) and no allocation, so the relay can
 * parse, account and rewrite each packet in its own receive buffer with zero
 * per-packet allocations. Decoders read only within the length they are
 * given; the pointers and views they return point into the caller's buffer
 * and live exactly as long as it does.
 *
 * It is deliberately not a jitter buffer, an SRTP layer or an RTCP
 * scheduler (the RFC 3550 §6.2 interval): the relay does those with these
 * pieces. Any thread may call these functions; a struct rtp_source,
 * detector or generator belongs to one thread at a time.
 *
 * Errors: 0 or a negative errno. -EBADMSG is malformed input (never fatal:
 * drop the packet), -EMSGSIZE a buffer too small to build into, -EINVAL a
 * caller's argument out of range. Encoders return the bytes written.
 */
#ifndef MEDIA_RTP_H
#define MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

/* ---- RTP data packets (RFC 3550 §5.1) ---------------------------------- */

#define RTP_VERSION  2
#define RTP_HDR_SIZE 12 /* the fixed header, without CSRCs or extension */
#define RTP_MAX_CSRC 15

struct rtp_hdr {
	uint8_t pt; /* payload type, 0..127 */
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc; /* CSRC count, 0..15 */
	uint32_t csrc[RTP_MAX_CSRC];
	bool ext;		 /* X bit: a header extension follows the CSRCs */
	uint16_t ext_profile;	 /* the extension's "defined by profile" word */
	const uint8_t *ext_data; /* extension words, into the packet (NULL when !ext) */
	size_t ext_len;		 /* bytes of ext_data, a multiple of 4 */
	const uint8_t *payload;	 /* into the packet: after the header, before padding */
	size_t payload_len;	 /* may be 0 */
	size_t hdr_len;		 /* bytes before the payload */
	size_t pad_len;		 /* padding bytes at the end (P bit), count byte included */
};

/*
 * Decode the header of the RTP packet @buf[0..@len) into @h: version 2,
 * CSRCs, extension and padding all within @len (RFC 3550 A.1's validity
 * checks that need no state). Returns 0, or -EBADMSG with @h untouched.
 * @h's pointers borrow @buf.
 */
int rtp_hdr_decode(struct rtp_hdr *h, const uint8_t *buf, size_t len);

/*
 * Write @h's header (fixed part, CSRCs, and the extension when h->ext, copied
 * from h->ext_data) at @buf. The P bit is written clear: padding, if any, is
 * the caller's to add and flag. Returns the bytes written (h->hdr_len is not
 * used), -EINVAL (pt > 127, cc > 15, ext_len not a multiple of 4 or too
 * large) or -EMSGSIZE (@size too small; nothing written).
 */
int rtp_hdr_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h);

/*
 * In-place rewrites for the relay (new SSRC, sequence and timestamp on the
 * way out). @pkt must begin with at least RTP_HDR_SIZE bytes of a header that
 * rtp_hdr_decode() accepted; nothing else is touched.
 */
static inline void rtp_set_seq(uint8_t *pkt, uint16_t seq)
{
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
}

static inline void rtp_set_ts(uint8_t *pkt, uint32_t ts)
{
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
}

static inline void rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc)
{
	pkt[8] = (uint8_t)(ssrc >> 24);
	pkt[9] = (uint8_t)(ssrc >> 16);
	pkt[10] = (uint8_t)(ssrc >> 8);
	pkt[11] = (uint8_t)ssrc;
}

/* Payload type (low 7 bits of @pt); the marker bit is kept. */
static inline void rtp_set_pt(uint8_t *pkt, uint8_t pt)
{
	pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7f));
}

static inline void rtp_set_marker(uint8_t *pkt, bool marker)
{
	pkt[1] = (uint8_t)((pkt[1] & 0x7f) | (marker ? 0x80 : 0));
}

/* ---- RTCP (RFC 3550 §6.4-6.6) ------------------------------------------- */

enum rtcp_type {
	RTCP_SR = 200,
	RTCP_RR = 201,
	RTCP_SDES = 202,
	RTCP_BYE = 203,
	RTCP_APP = 204,
};

#define RTCP_HDR_SIZE 4
#define RTCP_MAX_RB   31 /* the 5-bit count field */

/* One packet of a compound RTCP packet. */
struct rtcp_pkt {
	uint8_t pt;	     /* enum rtcp_type, or any other type (RTPFB, XR...) */
	uint8_t count;	     /* the 5-bit RC / SC / subtype field */
	const uint8_t *body; /* into the buffer: after the 4-byte header, padding removed */
	size_t body_len;
	size_t len; /* the whole packet: header, body and padding */
};

/* Walk state over a compound packet; fields are private. */
struct rtcp_iter {
	const uint8_t *p;
	size_t left;
	bool failed;
};

/* Start a walk over @buf[0..@len), which the iterator borrows. */
void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len);

/*
 * The next packet: 1 with @pkt filled, 0 at the end, or -EBADMSG (version
 * not 2, a length past the buffer, fewer than 4 bytes left, padding that is
 * not on the last packet or whose count is wrong); after -EBADMSG the walk
 * stays failed. Packets of unknown types are returned too: skip them.
 */
int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *pkt);

/*
 * RFC 3550 A.2's check of a whole compound packet: every packet well formed,
 * the lengths add up to @len, padding only on the last, and the first packet
 * an SR or RR. 0 or -EBADMSG. Reduced-size RTCP (RFC 5506) does not start
 * with a report: walk it with rtcp_iter_next() alone.
 */
int rtcp_validate(const uint8_t *buf, size_t len);

/* A reception report block (RFC 3550 §6.4.1). */
struct rtcp_rb {
	uint32_t ssrc;	  /* the source this block reports on */
	uint8_t fraction; /* fraction lost since the previous report, in 1/256 */
	int32_t lost;	  /* cumulative packets lost, 24-bit signed (duplicates make it < 0) */
	uint32_t ext_seq; /* extended highest sequence number received */
	uint32_t jitter;  /* interarrival jitter, timestamp units */
	uint32_t lsr;	  /* middle 32 bits of the last SR's NTP time, 0 = no SR yet */
	uint32_t dlsr;	  /* delay since that SR, in 1/65536 s */
};

/* An SR or an RR. */
struct rtcp_report {
	uint32_t ssrc; /* the reporter */
	bool sr;       /* an SR: the sender info below is set */
	uint64_t ntp;  /* NTP time, 32.32 fixed point */
	uint32_t rtp_ts;
	uint32_t pkt_count;
	uint32_t octet_count;
	uint8_t rc; /* blocks in rb[] */
	struct rtcp_rb rb[RTCP_MAX_RB];
};

/*
 * Decode an SR or RR packet from rtcp_iter_next(). Bytes past the report
 * blocks (profile-specific extensions) are ignored. 0, -EBADMSG (too short
 * for its count) or -EPROTOTYPE (@pkt is neither SR nor RR); @r is written
 * on success only.
 */
int rtcp_report_decode(struct rtcp_report *r, const struct rtcp_pkt *pkt);

/*
 * Write @r as an SR (r->sr) or RR with r->rc blocks. A lost count outside
 * 24 bits is clamped (RFC 3550 A.3). Returns the bytes written (4 + 24 for
 * an SR + 24 per block), -EINVAL (rc > 31) or -EMSGSIZE.
 */
int rtcp_report_encode(uint8_t *buf, size_t size, const struct rtcp_report *r);

/* SDES item types (RFC 3550 §6.5). */
enum rtcp_sdes_type {
	RTCP_SDES_END = 0,
	RTCP_SDES_CNAME = 1,
	RTCP_SDES_NAME = 2,
	RTCP_SDES_EMAIL = 3,
	RTCP_SDES_PHONE = 4,
	RTCP_SDES_LOC = 5,
	RTCP_SDES_TOOL = 6,
	RTCP_SDES_NOTE = 7,
	RTCP_SDES_PRIV = 8,
};

struct rtcp_sdes_item {
	uint32_t ssrc;	 /* the chunk's SSRC/CSRC */
	uint8_t type;	 /* enum rtcp_sdes_type, never RTCP_SDES_END */
	struct str text; /* into the packet; not NUL-terminated, may hold any byte */
};

/* Walk state over the items of an SDES packet; fields are private. */
struct rtcp_sdes_iter {
	const uint8_t *body, *p, *end;
	unsigned chunks_left;
	uint32_t ssrc;
	bool in_chunk;
};

/* Start a walk over the SDES packet @pkt (borrowed, with its buffer). */
void rtcp_sdes_iter_init(struct rtcp_sdes_iter *it, const struct rtcp_pkt *pkt);

/* The next item: 1 with @item filled, 0 at the end, or -EBADMSG. */
int rtcp_sdes_next(struct rtcp_sdes_iter *it, struct rtcp_sdes_item *item);

/*
 * The first CNAME of the SDES packet @pkt and its chunk's SSRC: 0, -ENOENT
 * (no CNAME), -EBADMSG, or -EPROTOTYPE (not SDES). Written on success only.
 */
int rtcp_sdes_cname(const struct rtcp_pkt *pkt, uint32_t *ssrc, struct str *cname);

/*
 * Write an SDES packet of one chunk, @ssrc with its CNAME (at most 255
 * bytes: -EINVAL past that). Returns the bytes written or -EMSGSIZE.
 */
int rtcp_sdes_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct str *cname);

struct rtcp_bye {
	uint8_t n; /* SSRCs in ssrc[] */
	uint32_t ssrc[RTCP_MAX_RB];
	struct str reason; /* into the packet, empty when absent */
};

/* Decode a BYE packet: 0, -EBADMSG or -EPROTOTYPE; @bye written on success only. */
int rtcp_bye_decode(struct rtcp_bye *bye, const struct rtcp_pkt *pkt);

/*
 * Write a BYE for @ssrc with an optional @reason (NULL or empty: none; at
 * most 255 bytes). Returns the bytes written, -EINVAL or -EMSGSIZE.
 */
int rtcp_bye_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct str *reason);

/* NTP time (32.32 fixed point, RFC 3550 §4) of Unix time @unix_ns. */
uint64_t rtcp_ntp_from_unix_ns(uint64_t unix_ns);

/* The middle 32 bits of an NTP time: the unit of LSR, DLSR and round trips. */
static inline uint32_t rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* ---- Receive statistics (RFC 3550 A.1, A.3, A.8) ------------------------ */

#define RTP_MIN_SEQUENTIAL 2	/* packets in sequence before a new source counts */
#define RTP_MAX_DROPOUT	   3000 /* a larger forward jump is suspect */
#define RTP_MAX_MISORDER   100	/* fewer than this behind is late, not a jump */

enum rtp_seq_result {
	RTP_SEQ_OK = 0,	   /* in order, or ahead by less than MAX_DROPOUT (the gap is loss) */
	RTP_SEQ_LATE,	   /* a duplicate or a reordered packet: counted as received (A.1) */
	RTP_SEQ_RESTART,   /* follows a large jump: the sender restarted, counts begin anew */
	RTP_SEQ_PROBATION, /* a new source not confirmed yet: not counted */
	RTP_SEQ_JUMP,	   /* a large jump: not counted unless the next packet follows it */
};

/* What a receiver keeps per source; fields are private but may be read. */
struct rtp_source {
	uint32_t ssrc;
	uint16_t max_seq;	 /* highest sequence number seen */
	uint32_t cycles;	 /* sequence wraps, shifted left 16 */
	uint32_t base_seq;	 /* first counted sequence number */
	uint32_t bad_seq;	 /* after a jump: the number that would confirm it */
	uint32_t probation;	 /* sequential packets still needed */
	uint32_t received;	 /* packets counted */
	uint32_t expected_prior; /* at the previous report */
	uint32_t received_prior; /* at the previous report */
	uint32_t transit;	 /* arrival - ts of the previous packet */
	uint32_t jitter;	 /* scaled by 16 (A.8's integer form) */
	uint32_t lsr;		 /* middle 32 bits of the last SR's NTP time */
	uint32_t lsr_arrival;	 /* its arrival, same unit */
	bool have_transit;
	bool started;
};

/*
 * Start tracking @ssrc. @probation: packets in sequence needed before the
 * source counts (RTP_MIN_SEQUENTIAL as in RFC 3550; 0 or 1 counts the very
 * first packet, for a source the signalling already vouched for).
 */
void rtp_source_init(struct rtp_source *s, uint32_t ssrc, unsigned probation);

/*
 * Account one received packet (A.1 sequence tracking with wraps, probation
 * and restarts; A.8 jitter). @arrival is the arrival time in the stream's
 * timestamp units on any fixed origin (see rtp_clock_ts()). Jitter is
 * updated for counted packets only.
 */
enum rtp_seq_result rtp_source_update(struct rtp_source *s, uint16_t seq, uint32_t ts,
				      uint32_t arrival);

/* Extended highest sequence number received: cycles + max_seq. */
static inline uint32_t rtp_source_ext_max(const struct rtp_source *s)
{
	return s->cycles + s->max_seq;
}

/* Packets expected since the first counted one (A.3); 0 before any. */
uint32_t rtp_source_expected(const struct rtp_source *s);

/* Cumulative packets lost (A.3), clamped to RTCP's 24-bit signed range. */
int32_t rtp_source_lost(const struct rtp_source *s);

/* Interarrival jitter in timestamp units (A.8). */
static inline uint32_t rtp_source_jitter(const struct rtp_source *s)
{
	return s->jitter >> 4;
}

/*
 * Note an SR from this source (sender info @ntp) that arrived at NTP-middle
 * time @arrival_mid, for the LSR and DLSR of the next report.
 */
void rtp_source_sr(struct rtp_source *s, uint64_t ntp, uint32_t arrival_mid);

/*
 * Fill the report block @rb for this source at NTP-middle time @now_mid and
 * start a new reporting interval: the fraction lost covers the packets since
 * the previous call (A.3).
 */
void rtp_source_report(struct rtp_source *s, struct rtcp_rb *rb, uint32_t now_mid);

/* Time @ns (any origin, e.g. CLOCK_MONOTONIC) in units of a @rate Hz clock, wrapping. */
static inline uint32_t rtp_clock_ts(uint64_t ns, uint32_t rate)
{
	return (uint32_t)((ns / 1000000000u) * rate + (ns % 1000000000u) * rate / 1000000000u);
}

/* ---- DTMF telephone events (RFC 4733) ------------------------------------ */

#define RTP_DTMF_SIZE	     4 /* bytes of one event payload */
#define RTP_DTMF_END_PACKETS 3 /* the end packet is sent this many times (RFC 4733 §2.5.1.4) */

/* A telephone-event payload (RFC 4733 §2.3). */
struct rtp_dtmf {
	uint8_t event;	   /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D'; higher: other tones */
	bool end;	   /* E bit: the event has ended */
	uint8_t volume;	   /* 0..63, in -dBm0 */
	uint16_t duration; /* timestamp units since the event began */
};

/*
 * Decode the event payload @p[0..@len). Bytes after the first 4 are ignored
 * (RFC 2198 redundancy is unwrapped by the caller). 0 or -EBADMSG (fewer
 * than 4 bytes); @ev written on success only.
 */
int rtp_dtmf_decode(struct rtp_dtmf *ev, const uint8_t *p, size_t len);

/* Write @ev (4 bytes): 4, -EINVAL (volume > 63) or -EMSGSIZE. */
int rtp_dtmf_encode(uint8_t *buf, size_t size, const struct rtp_dtmf *ev);

/* The character of DTMF event @event ("0123456789*#ABCD"), or '\0' above 15. */
char rtp_dtmf_char(uint8_t event);

/* The event of digit @c (0-9 * # A-D, a-d too): 0..15, or -EINVAL. */
int rtp_dtmf_event(char c);

/* Detector results: a mask, both bits for an event seen only by its end. */
enum rtp_dtmf_det_result {
	RTP_DTMF_NONE = 0,
	RTP_DTMF_DIGIT = 1 << 0, /* a key press began: once per press */
	RTP_DTMF_END = 1 << 1,	 /* that press ended: at most once, after or with DIGIT */
};

struct rtp_dtmf_press {
	char digit;	   /* '0'-'9', '*', '#', 'A'-'D' */
	uint8_t event;	   /* 0..15 */
	uint8_t volume;	   /* of the latest packet */
	uint32_t ts;	   /* RTP timestamp of the event's start */
	uint32_t duration; /* timestamp units so far (a long event's segments added up);
			      final with RTP_DTMF_END */
};

/* Key-press detector for one RTP stream; fields are private. */
struct rtp_dtmf_det {
	uint32_t ssrc;
	uint32_t start;	   /* timestamp of the current event's first segment */
	uint32_t ts;	   /* the current segment's timestamp */
	uint16_t seq;	   /* of the newest packet taken */
	uint16_t duration; /* longest seen in the current event */
	uint8_t event;	   /* current event */
	uint8_t volume;	   /* of the newest packet */
	bool have;	   /* an event has been seen */
	bool ended;	   /* the current event's end was reported */
};

void rtp_dtmf_det_init(struct rtp_dtmf_det *d);

/*
 * Feed one packet of the telephone-event payload type (the caller checks
 * h->pt), with its decoded header @h. Every packet of one event carries the
 * event's start timestamp (RFC 4733 §2.5.1): a new timestamp is a new key
 * press, so repeated updates and the retransmitted end packets give nothing,
 * and a press is still reported once when its first packets or its end
 * packets are lost. Packets older than the current event (by sequence number
 * and timestamp) are dropped, a new SSRC starts over, and the segments of an
 * event longer than 0xFFFF units (§2.5.1.3) stay one press. Tones above 15
 * are ignored.
 *
 * Returns an enum rtp_dtmf_det_result mask with @press filled when not NONE,
 * or -EBADMSG (payload shorter than 4 bytes).
 */
int rtp_dtmf_det_push(struct rtp_dtmf_det *d, const struct rtp_hdr *h,
		      struct rtp_dtmf_press *press);

/* Packet generator for sending one digit; fields are private. */
struct rtp_dtmf_gen {
	uint8_t event;
	uint8_t volume;
	uint16_t ptime;	   /* timestamp units between packets */
	uint16_t duration; /* of the whole tone */
	uint16_t cur;	   /* duration in the last packet */
	uint8_t ends;	   /* end packets produced */
	bool first;
};

/*
 * Prepare the packets of digit @digit lasting @duration timestamp units (1 to
 * 0xFFFF), one update every @ptime units (> 0), at @volume (0..63, typically
 * 10). 0 or -EINVAL.
 */
int rtp_dtmf_gen_start(struct rtp_dtmf_gen *g, char digit, uint16_t duration, uint16_t ptime,
		       uint8_t volume);

/*
 * The next packet's payload @ev and marker bit: 1, or 0 when the digit is
 * complete. Send one per @ptime: the first has the marker, updates carry a
 * growing duration, then the end packet goes out RTP_DTMF_END_PACKETS times
 * with the full duration. Every packet carries the RTP timestamp at which the
 * digit started and its own sequence number; afterwards the stream's
 * timestamp moves on by @duration.
 */
int rtp_dtmf_gen_next(struct rtp_dtmf_gen *g, struct rtp_dtmf *ev, bool *marker);

#endif
