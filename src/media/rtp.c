/*
 * rtp: the RTP data packet header (see rtp.h): decoding with the bounds
 * checks of RFC 3550 A.1 and building a header in the caller's buffer.
 * RTCP, statistics and DTMF live in rtcp.c, rtp_source.c and rtp_dtmf.c.
 */
#include <errno.h>
#include <string.h>

#include "media/media_internal.h"
#include "media/rtp.h"

int rtp_hdr_decode(struct rtp_hdr *h, const uint8_t *buf, size_t len)
{
	struct rtp_hdr t;
	size_t off, end = len;

	if (!h || (!buf && len))
		return -EINVAL;
	if (len < RTP_HDR_SIZE || buf[0] >> 6 != RTP_VERSION)
		return -EBADMSG;
	memset(&t, 0, sizeof(t));
	t.cc = buf[0] & 0x0f;
	t.ext = buf[0] & 0x10;
	t.marker = buf[1] & 0x80;
	t.pt = buf[1] & 0x7f;
	t.seq = get_be16(buf + 2);
	t.ts = get_be32(buf + 4);
	t.ssrc = get_be32(buf + 8);
	off = RTP_HDR_SIZE;

	/* RFC 3550 A.1: the padding count must fit inside the packet past the
	 * fixed header; a count of 0 is meaningless (it includes itself). */
	if (buf[0] & 0x20) {
		t.pad_len = buf[len - 1];
		if (t.pad_len == 0 || t.pad_len > len - RTP_HDR_SIZE)
			return -EBADMSG;
		end = len - t.pad_len;
	}
	if ((size_t)t.cc * 4 > end - off)
		return -EBADMSG;
	for (unsigned i = 0; i < t.cc; i++, off += 4)
		t.csrc[i] = get_be32(buf + off);
	if (t.ext) {
		if (end - off < 4)
			return -EBADMSG;
		t.ext_profile = get_be16(buf + off);
		t.ext_len = (size_t)get_be16(buf + off + 2) * 4;
		off += 4;
		if (t.ext_len > end - off)
			return -EBADMSG;
		t.ext_data = buf + off;
		off += t.ext_len;
	}
	t.hdr_len = off;
	/* NULL + 0 would be undefined; an empty payload still points at its place. */
	t.payload = buf + off;
	t.payload_len = end - off;
	*h = t;
	return 0;
}

int rtp_hdr_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h)
{
	size_t len;

	if (!buf || !h || h->pt > 127 || h->cc > RTP_MAX_CSRC)
		return -EINVAL;
	if (h->ext && (h->ext_len % 4 || h->ext_len / 4 > 0xffff || (h->ext_len && !h->ext_data)))
		return -EINVAL;
	len = RTP_HDR_SIZE + (size_t)h->cc * 4 + (h->ext ? 4 + h->ext_len : 0);
	if (size < len)
		return -EMSGSIZE;
	buf[0] = (uint8_t)(RTP_VERSION << 6 | (h->ext ? 0x10 : 0) | h->cc);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	put_be16(buf + 2, h->seq);
	put_be32(buf + 4, h->ts);
	put_be32(buf + 8, h->ssrc);
	for (unsigned i = 0; i < h->cc; i++)
		put_be32(buf + RTP_HDR_SIZE + 4 * i, h->csrc[i]);
	if (h->ext) {
		uint8_t *x = buf + RTP_HDR_SIZE + (size_t)h->cc * 4;

		put_be16(x, h->ext_profile);
		put_be16(x + 2, (uint16_t)(h->ext_len / 4));
		/* memmove: building in place over a received packet may overlap. */
		if (h->ext_len)
			memmove(x + 4, h->ext_data, h->ext_len);
	}
	return (int)len;
}
