/*
 * rtp_dtmf: RFC 4733 telephone events (see rtp.h): the 4-byte payload, a
 * detector that makes one key press out of the many packets a sender emits
 * for it, and a generator of those packets for one digit. Only DTMF (events
 * 0-15) is handled; other tones (flash, fax tones) are not key presses.
 */
#include <errno.h>

#include "media/media_internal.h"
#include "media/rtp.h"

static const char dtmf_chars[16] = "0123456789*#ABCD";

/* §2.5.1.3: a long event's next segment starts where the previous one
 * reached the largest duration; some senders round that to 0x10000. */
#define SEGMENT_MIN 0xffffu
#define SEGMENT_MAX 0x10000u

int rtp_dtmf_decode(struct rtp_dtmf *ev, const uint8_t *p, size_t len)
{
	if (!ev || (!p && len))
		return -EINVAL;
	if (len < RTP_DTMF_SIZE)
		return -EBADMSG;
	ev->event = p[0];
	ev->end = p[1] & 0x80;
	/* The R bit (0x40) is reserved: senders set it to 0, receivers ignore it. */
	ev->volume = p[1] & 0x3f;
	ev->duration = get_be16(p + 2);
	return 0;
}

int rtp_dtmf_encode(uint8_t *buf, size_t size, const struct rtp_dtmf *ev)
{
	if (!buf || !ev || ev->volume > 63)
		return -EINVAL;
	if (size < RTP_DTMF_SIZE)
		return -EMSGSIZE;
	buf[0] = ev->event;
	buf[1] = (uint8_t)((ev->end ? 0x80 : 0) | ev->volume);
	put_be16(buf + 2, ev->duration);
	return RTP_DTMF_SIZE;
}

char rtp_dtmf_char(uint8_t event)
{
	return event < 16 ? dtmf_chars[event] : '\0';
}

int rtp_dtmf_event(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'D')
		return 12 + (c - 'A');
	if (c >= 'a' && c <= 'd')
		return 12 + (c - 'a');
	if (c == '*')
		return 10;
	if (c == '#')
		return 11;
	return -EINVAL;
}

void rtp_dtmf_det_init(struct rtp_dtmf_det *d)
{
	*d = (struct rtp_dtmf_det){0};
}

static void fill_press(const struct rtp_dtmf_det *d, struct rtp_dtmf_press *press)
{
	press->digit = dtmf_chars[d->event];
	press->event = d->event;
	press->volume = d->volume;
	press->ts = d->start;
	press->duration = (d->ts - d->start) + d->duration;
}

int rtp_dtmf_det_push(struct rtp_dtmf_det *d, const struct rtp_hdr *h, struct rtp_dtmf_press *press)
{
	struct rtp_dtmf ev;
	int32_t dts;
	int16_t dseq;
	int err;

	if (!d || !h || !press)
		return -EINVAL;
	err = rtp_dtmf_decode(&ev, h->payload, h->payload_len);
	if (err)
		return err;
	if (ev.event > 15)
		return RTP_DTMF_NONE;
	if (d->have && h->ssrc != d->ssrc)
		d->have = false; /* another stream: nothing from the old one applies */
	if (!d->have)
		goto new_event;

	dts = (int32_t)(h->ts - d->ts);
	dseq = (int16_t)(h->seq - d->seq);
	if (dseq > 0)
		d->seq = h->seq;
	if (dts == 0) {
		/* The same event again: an update, the end, or a retransmitted
		 * end (§2.5.1.4: same timestamp, new sequence numbers). */
		if (ev.event != d->event || d->ended)
			return RTP_DTMF_NONE;
		if (ev.duration > d->duration)
			d->duration = ev.duration;
		d->volume = ev.volume;
		if (!ev.end)
			return RTP_DTMF_NONE;
		d->ended = true;
		fill_press(d, press);
		return RTP_DTMF_END;
	}
	/* Older by both clocks: a late packet of an earlier press. Older by
	 * one only is a sender that reset a clock, and what follows is new. */
	if (dts < 0 && dseq <= 0)
		return RTP_DTMF_NONE;
	if (!d->ended && ev.event == d->event && (uint32_t)dts >= SEGMENT_MIN &&
	    (uint32_t)dts <= SEGMENT_MAX && d->ts - d->start <= UINT32_MAX - SEGMENT_MAX) {
		/* The next segment of one long press: same press, later start. */
		d->ts = h->ts;
		d->duration = ev.duration;
		d->volume = ev.volume;
		if (!ev.end)
			return RTP_DTMF_NONE;
		d->ended = true;
		fill_press(d, press);
		return RTP_DTMF_END;
	}

new_event:
	/* A new timestamp is a new press even without the marker bit: the
	 * packet that carried it may be the one lost. */
	d->have = true;
	d->ssrc = h->ssrc;
	d->ts = d->start = h->ts;
	d->seq = h->seq;
	d->event = ev.event;
	d->duration = ev.duration;
	d->volume = ev.volume;
	d->ended = ev.end;
	fill_press(d, press);
	return RTP_DTMF_DIGIT | (ev.end ? RTP_DTMF_END : 0);
}

int rtp_dtmf_gen_start(struct rtp_dtmf_gen *g, char digit, uint16_t duration, uint16_t ptime,
		       uint8_t volume)
{
	int event = rtp_dtmf_event(digit);

	if (!g || event < 0 || duration == 0 || ptime == 0 || volume > 63)
		return -EINVAL;
	*g = (struct rtp_dtmf_gen){
	    .event = (uint8_t)event,
	    .volume = volume,
	    .ptime = ptime,
	    .duration = duration,
	    .first = true,
	};
	return 0;
}

int rtp_dtmf_gen_next(struct rtp_dtmf_gen *g, struct rtp_dtmf *ev, bool *marker)
{
	uint32_t next;

	if (!g || !ev || !marker)
		return -EINVAL;
	if (g->ends >= RTP_DTMF_END_PACKETS)
		return 0;
	ev->event = g->event;
	ev->volume = g->volume;
	*marker = g->first; /* §2.5.1.2: the first packet of an event */
	g->first = false;
	next = (uint32_t)g->cur + g->ptime;
	if (g->ends == 0 && next < g->duration) {
		g->cur = (uint16_t)next;
		ev->end = false;
		ev->duration = g->cur;
		return 1;
	}
	g->cur = g->duration;
	g->ends++;
	ev->end = true;
	ev->duration = g->duration;
	return 1;
}
