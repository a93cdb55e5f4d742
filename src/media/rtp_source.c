/*
 * rtp_source: a receiver's statistics for one RTP source (see rtp.h), the
 * algorithms of RFC 3550 Appendix A: sequence tracking with wraps,
 * probation and restarts (A.1), expected and lost packets (A.3) and
 * interarrival jitter in the integer form of A.8. It keeps counters only;
 * when to send a report is the relay's business.
 */
#include <string.h>

#include "media/rtp.h"

#define SEQ_MOD (1u << 16)

/* A.1 init_seq(): counting starts over at @seq. */
static void init_seq(struct rtp_source *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1; /* so that seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

void rtp_source_init(struct rtp_source *s, uint32_t ssrc, unsigned probation)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->probation = probation ? probation : 1;
}

/* A.1 update_seq(), returning why a packet is not counted instead of 0. */
static enum rtp_seq_result update_seq(struct rtp_source *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	enum rtp_seq_result res = RTP_SEQ_OK;

	if (s->probation) {
		/* NOTE: A.1 compares seq with max_seq + 1 in int, which misses
		 * the wrap from 65535 to 0; compare in 16 bits. */
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return RTP_SEQ_OK;
			}
		} else {
			s->probation = RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return RTP_SEQ_PROBATION;
	} else if (udelta == 0) {
		/* A duplicate of the newest packet: A.1 files it as in order, but
		 * it is no news, and the caller may want to drop it. */
		res = RTP_SEQ_LATE;
	} else if (udelta < RTP_MAX_DROPOUT) {
		/* In order, with a permissible gap; a smaller number means a wrap. */
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - RTP_MAX_MISORDER) {
		/* A very large jump. Two sequential packets mean the sender
		 * restarted without telling us: resync on them. */
		if (seq == s->bad_seq) {
			init_seq(s, seq);
			res = RTP_SEQ_RESTART;
		} else {
			s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
			return RTP_SEQ_JUMP;
		}
	} else {
		res = RTP_SEQ_LATE; /* a duplicate or reordered packet */
	}
	s->received++;
	return res;
}

enum rtp_seq_result rtp_source_update(struct rtp_source *s, uint16_t seq, uint32_t ts,
				      uint32_t arrival)
{
	enum rtp_seq_result res;
	uint32_t transit, d;
	int64_t j;

	if (!s->started) {
		/* A.1: a new source starts in probation, as if the packet
		 * before this one had been the last seen. */
		uint32_t probation = s->probation;

		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = probation;
		s->started = true;
	}
	res = update_seq(s, seq);
	if (res == RTP_SEQ_PROBATION || res == RTP_SEQ_JUMP)
		return res;
	if (res == RTP_SEQ_RESTART)
		s->have_transit = false; /* the timestamps restarted too */

	/* A.8: transit times differ by the network's variation; their
	 * difference, not their value, matters, so wrapping is harmless. */
	transit = arrival - ts;
	if (!s->have_transit) {
		s->transit = transit;
		s->have_transit = true;
		return res;
	}
	d = transit - s->transit;
	s->transit = transit;
	if (d & 0x80000000u)
		d = 0u - d;
	/* A timestamp jump (a new talk spurt from a mixer, a clock reset)
	 * would otherwise overflow the estimate; 2^27 units is over four
	 * hours at 8 kHz, far beyond any real jitter. */
	if (d > (1u << 27))
		d = 1u << 27;
	/* J += (|D| - J) / 16, with J kept scaled by 16 (A.8). */
	j = (int64_t)s->jitter + d - ((s->jitter + 8) >> 4);
	s->jitter = (uint32_t)j;
	return res;
}

uint32_t rtp_source_expected(const struct rtp_source *s)
{
	if (!s->started || s->probation)
		return 0;
	return rtp_source_ext_max(s) - s->base_seq + 1;
}

int32_t rtp_source_lost(const struct rtp_source *s)
{
	int64_t lost = (int64_t)rtp_source_expected(s) - s->received;

	if (lost > 0x7fffff)
		return 0x7fffff;
	if (lost < -0x800000)
		return -0x800000;
	return (int32_t)lost;
}

void rtp_source_sr(struct rtp_source *s, uint64_t ntp, uint32_t arrival_mid)
{
	s->lsr = rtcp_ntp_mid(ntp);
	s->lsr_arrival = arrival_mid;
}

void rtp_source_report(struct rtp_source *s, struct rtcp_rb *rb, uint32_t now_mid)
{
	uint32_t expected = rtp_source_expected(s);
	uint32_t expected_interval = expected - s->expected_prior;
	uint32_t received_interval = s->received - s->received_prior;
	int64_t lost_interval = (int64_t)expected_interval - received_interval;

	s->expected_prior = expected;
	s->received_prior = s->received;
	rb->ssrc = s->ssrc;
	/* A.3: duplicates can make the interval's loss negative; report 0. A
	 * counted packet always comes with what raised expected, so the
	 * fraction stays below 256; the clamp only guards that reasoning. */
	if (expected_interval == 0 || lost_interval <= 0) {
		rb->fraction = 0;
	} else {
		uint64_t f = ((uint64_t)lost_interval << 8) / expected_interval;

		rb->fraction = (uint8_t)(f > 255 ? 255 : f);
	}
	rb->lost = rtp_source_lost(s);
	rb->ext_seq = rtp_source_ext_max(s);
	rb->jitter = rtp_source_jitter(s);
	rb->lsr = s->lsr;
	rb->dlsr = s->lsr ? now_mid - s->lsr_arrival : 0;
}
