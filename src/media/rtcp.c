/*
 * rtcp: walking compound RTCP packets and decoding and building SR, RR,
 * SDES and BYE (RFC 3550 §6.4-6.6; see rtp.h). Every length comes from the
 * peer, so each is checked against the bytes at hand before it is used; APP
 * and the feedback types are walked over but not decoded.
 */
#include <errno.h>
#include <string.h>

#include "media/media_internal.h"
#include "media/rtp.h"

/* Seconds from 1900 (NTP's epoch) to 1970 (Unix's). */
#define NTP_UNIX_OFFSET 2208988800u

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len)
{
	it->p = buf;
	it->left = buf ? len : 0;
	it->failed = false;
}

int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *pkt)
{
	const uint8_t *p = it->p;
	size_t len, pad = 0;

	if (it->failed)
		return -EBADMSG;
	if (!it->left)
		return 0;
	if (it->left < RTCP_HDR_SIZE || p[0] >> 6 != RTP_VERSION)
		goto bad;
	/* The length field counts 32-bit words minus one, so it never
	 * overflows a size_t and a packet is at least its 4-byte header. */
	len = ((size_t)get_be16(p + 2) + 1) * 4;
	if (len > it->left)
		goto bad;
	if (p[0] & 0x20) {
		/* RFC 3550 §6.4.1: only the last packet of a compound may be
		 * padded, and the count (itself included) must fit in the body. */
		if (len != it->left)
			goto bad;
		pad = p[len - 1];
		if (pad == 0 || pad > len - RTCP_HDR_SIZE)
			goto bad;
	}
	pkt->pt = p[1];
	pkt->count = p[0] & 0x1f;
	pkt->body = p + RTCP_HDR_SIZE;
	pkt->body_len = len - RTCP_HDR_SIZE - pad;
	pkt->len = len;
	it->p += len;
	it->left -= len;
	return 1;
bad:
	it->failed = true;
	return -EBADMSG;
}

int rtcp_validate(const uint8_t *buf, size_t len)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	unsigned n = 0;
	int r;

	rtcp_iter_init(&it, buf, len);
	while ((r = rtcp_iter_next(&it, &pkt)) == 1) {
		/* A.2: a compound packet begins with a report, and an SR or RR
		 * with no block still gives the receiver the reporter's SSRC. */
		if (n++ == 0 && pkt.pt != RTCP_SR && pkt.pt != RTCP_RR)
			return -EBADMSG;
	}
	if (r < 0 || n == 0)
		return -EBADMSG;
	return 0;
}

static void rb_decode(struct rtcp_rb *rb, const uint8_t *p)
{
	uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];

	rb->ssrc = get_be32(p);
	rb->fraction = p[4];
	/* 24-bit two's complement: sign-extend through the top byte. */
	rb->lost = (int32_t)(lost & 0x800000 ? lost | 0xff000000u : lost);
	rb->ext_seq = get_be32(p + 8);
	rb->jitter = get_be32(p + 12);
	rb->lsr = get_be32(p + 16);
	rb->dlsr = get_be32(p + 20);
}

int rtcp_report_decode(struct rtcp_report *r, const struct rtcp_pkt *pkt)
{
	const uint8_t *p;
	size_t need;
	bool sr;

	if (!r || !pkt)
		return -EINVAL;
	if (pkt->pt != RTCP_SR && pkt->pt != RTCP_RR)
		return -EPROTOTYPE;
	sr = pkt->pt == RTCP_SR;
	need = 4 + (sr ? 20 : 0) + (size_t)pkt->count * 24;
	if (pkt->body_len < need)
		return -EBADMSG;
	p = pkt->body;
	r->ssrc = get_be32(p);
	r->sr = sr;
	p += 4;
	if (sr) {
		r->ntp = (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
		r->rtp_ts = get_be32(p + 8);
		r->pkt_count = get_be32(p + 12);
		r->octet_count = get_be32(p + 16);
		p += 20;
	} else {
		r->ntp = 0;
		r->rtp_ts = r->pkt_count = r->octet_count = 0;
	}
	r->rc = pkt->count;
	for (unsigned i = 0; i < r->rc; i++, p += 24)
		rb_decode(&r->rb[i], p);
	return 0;
}

static void rb_encode(uint8_t *p, const struct rtcp_rb *rb)
{
	int32_t lost = rb->lost;

	/* RFC 3550 A.3: clamp to what 24 signed bits hold. */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;
	put_be32(p, rb->ssrc);
	p[4] = rb->fraction;
	p[5] = (uint8_t)((uint32_t)lost >> 16);
	p[6] = (uint8_t)((uint32_t)lost >> 8);
	p[7] = (uint8_t)lost;
	put_be32(p + 8, rb->ext_seq);
	put_be32(p + 12, rb->jitter);
	put_be32(p + 16, rb->lsr);
	put_be32(p + 20, rb->dlsr);
}

/* Common header of a packet of @len bytes (a multiple of 4). */
static void hdr_encode(uint8_t *p, uint8_t count, uint8_t pt, size_t len)
{
	p[0] = (uint8_t)(RTP_VERSION << 6 | count);
	p[1] = pt;
	put_be16(p + 2, (uint16_t)(len / 4 - 1));
}

int rtcp_report_encode(uint8_t *buf, size_t size, const struct rtcp_report *r)
{
	size_t len;
	uint8_t *p;

	if (!buf || !r || r->rc > RTCP_MAX_RB)
		return -EINVAL;
	len = RTCP_HDR_SIZE + 4 + (r->sr ? 20 : 0) + (size_t)r->rc * 24;
	if (size < len)
		return -EMSGSIZE;
	hdr_encode(buf, r->rc, r->sr ? RTCP_SR : RTCP_RR, len);
	put_be32(buf + 4, r->ssrc);
	p = buf + 8;
	if (r->sr) {
		put_be32(p, (uint32_t)(r->ntp >> 32));
		put_be32(p + 4, (uint32_t)r->ntp);
		put_be32(p + 8, r->rtp_ts);
		put_be32(p + 12, r->pkt_count);
		put_be32(p + 16, r->octet_count);
		p += 20;
	}
	for (unsigned i = 0; i < r->rc; i++, p += 24)
		rb_encode(p, &r->rb[i]);
	return (int)len;
}

void rtcp_sdes_iter_init(struct rtcp_sdes_iter *it, const struct rtcp_pkt *pkt)
{
	it->body = it->p = pkt->body;
	it->end = pkt->body + pkt->body_len;
	it->chunks_left = pkt->pt == RTCP_SDES ? pkt->count : 0;
	it->ssrc = 0;
	it->in_chunk = false;
}

int rtcp_sdes_next(struct rtcp_sdes_iter *it, struct rtcp_sdes_item *item)
{
	size_t n;

	for (;;) {
		if (!it->in_chunk) {
			if (!it->chunks_left)
				return 0;
			if (it->end - it->p < 4)
				goto bad;
			it->ssrc = get_be32(it->p);
			it->p += 4;
			it->chunks_left--;
			it->in_chunk = true;
		}
		/* RFC 3550 §6.5: the item list ends with a null octet, and null
		 * octets pad the chunk to the next 32-bit boundary. */
		if (it->p >= it->end)
			goto bad;
		if (*it->p == RTCP_SDES_END) {
			size_t off = (size_t)(it->p - it->body) + 1;

			off = (off + 3) & ~(size_t)3;
			if (off > (size_t)(it->end - it->body))
				goto bad;
			it->p = it->body + off;
			it->in_chunk = false;
			continue;
		}
		if (it->end - it->p < 2)
			goto bad;
		n = it->p[1];
		if ((size_t)(it->end - it->p) - 2 < n)
			goto bad;
		item->ssrc = it->ssrc;
		item->type = it->p[0];
		item->text = str_make((const char *)it->p + 2, n);
		it->p += 2 + n;
		return 1;
	}
bad:
	/* Stop the walk for good: a later call must not misread the rest. */
	it->chunks_left = 0;
	it->in_chunk = false;
	it->p = it->end;
	return -EBADMSG;
}

int rtcp_sdes_cname(const struct rtcp_pkt *pkt, uint32_t *ssrc, struct str *cname)
{
	struct rtcp_sdes_iter it;
	struct rtcp_sdes_item item;
	int r;

	if (!pkt || !ssrc || !cname)
		return -EINVAL;
	if (pkt->pt != RTCP_SDES)
		return -EPROTOTYPE;
	rtcp_sdes_iter_init(&it, pkt);
	while ((r = rtcp_sdes_next(&it, &item)) == 1) {
		if (item.type == RTCP_SDES_CNAME) {
			*ssrc = item.ssrc;
			*cname = item.text;
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

int rtcp_sdes_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct str *cname)
{
	size_t len;

	if (!buf || !cname || cname->len > 255 || (cname->len && !cname->p))
		return -EINVAL;
	/* header, SSRC, type, length, text, then at least one null octet up to
	 * the 32-bit boundary */
	len = (RTCP_HDR_SIZE + 4 + 2 + cname->len + 1 + 3) & ~(size_t)3;
	if (size < len)
		return -EMSGSIZE;
	memset(buf, 0, len);
	hdr_encode(buf, 1, RTCP_SDES, len);
	put_be32(buf + 4, ssrc);
	buf[8] = RTCP_SDES_CNAME;
	buf[9] = (uint8_t)cname->len;
	if (cname->len)
		memcpy(buf + 10, cname->p, cname->len);
	return (int)len;
}

int rtcp_bye_decode(struct rtcp_bye *bye, const struct rtcp_pkt *pkt)
{
	size_t off, n;

	if (!bye || !pkt)
		return -EINVAL;
	if (pkt->pt != RTCP_BYE)
		return -EPROTOTYPE;
	off = (size_t)pkt->count * 4;
	if (pkt->body_len < off)
		return -EBADMSG;
	/* RFC 3550 §6.6: an optional reason, a length octet then text. */
	if (pkt->body_len > off) {
		n = pkt->body[off];
		if (pkt->body_len - off - 1 < n)
			return -EBADMSG;
		bye->reason = str_make((const char *)pkt->body + off + 1, n);
	} else {
		bye->reason = str_make((const char *)pkt->body + off, 0);
	}
	bye->n = pkt->count;
	for (unsigned i = 0; i < bye->n; i++)
		bye->ssrc[i] = get_be32(pkt->body + 4 * i);
	return 0;
}

int rtcp_bye_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct str *reason)
{
	size_t rlen = reason ? reason->len : 0, len;

	if (!buf || rlen > 255 || (rlen && !reason->p))
		return -EINVAL;
	len = RTCP_HDR_SIZE + 4 + (rlen ? (1 + rlen + 3) & ~(size_t)3 : 0);
	if (size < len)
		return -EMSGSIZE;
	memset(buf, 0, len);
	hdr_encode(buf, 1, RTCP_BYE, len);
	put_be32(buf + 4, ssrc);
	if (rlen) {
		buf[8] = (uint8_t)rlen;
		memcpy(buf + 9, reason->p, rlen);
	}
	return (int)len;
}

uint64_t rtcp_ntp_from_unix_ns(uint64_t unix_ns)
{
	uint64_t sec = unix_ns / 1000000000u + NTP_UNIX_OFFSET;
	uint64_t frac = ((unix_ns % 1000000000u) << 32) / 1000000000u;

	/* NTP seconds wrap in 2036 (era 1); the 32 bits kept are what goes
	 * on the wire either way. */
	return (sec & 0xffffffffu) << 32 | frac;
}
