/*
 * fuzz_rtp: libFuzzer target for the RTP relay's packet primitives
 * (media/rtp.h): the RTP header, compound RTCP with SR, RR, SDES and BYE,
 * telephone events, the key-press detector and the receive statistics.
 *
 * Input: the whole input is decoded as one RTP packet, walked as one
 * compound RTCP packet and decoded as one telephone event. It is also cut
 * into records (a length byte, then up to 63 bytes) that are decoded as a
 * stream of RTP packets of one call and fed to the detector and to the
 * statistics. The first bytes also pick a digit for the generator.
 *
 * Checked: pointers and views stay inside the input, out-parameters are
 * left alone on failure, what is built decodes back to the same fields,
 * the detector reports at most one end per press and nothing but DTMF
 * digits, and the generator's packets make exactly one press.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "media/rtp.h"

/* A pointer + length that must lie inside the input. */
static void check_bytes(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
	struct str s = str_make((const char *)p, len);

	fuzz_view(&s, (const char *)base, size);
}

static void check_rtp(const uint8_t *data, size_t size)
{
	struct rtp_hdr h, before, back;
	uint8_t buf[12 + 60 + 4 + 8192];
	int err, n;

	memset(&h, 0xa5, sizeof(h));
	before = h;
	err = rtp_hdr_decode(&h, data, size);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG);
		FUZZ_CHECK(!memcmp(&h, &before, sizeof(h)));
		return;
	}
	FUZZ_CHECK(h.pt < 128 && h.cc <= RTP_MAX_CSRC);
	FUZZ_CHECK(h.hdr_len + h.payload_len + h.pad_len == size);
	FUZZ_CHECK(h.payload == data + h.hdr_len);
	check_bytes(h.payload, h.payload_len, data, size);
	if (h.ext)
		check_bytes(h.ext_data, h.ext_len, data, size);

	/* Built again, the header decodes to the same fields. */
	n = rtp_hdr_encode(buf, sizeof(buf), &h);
	if (n < 0) {
		FUZZ_CHECK(n == -EMSGSIZE && h.ext_len + 76 > sizeof(buf));
		return;
	}
	FUZZ_CHECK((size_t)n == h.hdr_len);
	FUZZ_CHECK(rtp_hdr_decode(&back, buf, (size_t)n) == 0);
	FUZZ_CHECK(back.pt == h.pt && back.marker == h.marker && back.seq == h.seq &&
		   back.ts == h.ts && back.ssrc == h.ssrc && back.cc == h.cc && back.ext == h.ext &&
		   back.ext_len == h.ext_len && back.payload_len == 0);
	FUZZ_CHECK(!memcmp(back.csrc, h.csrc, h.cc * sizeof(h.csrc[0])));
	FUZZ_CHECK(!h.ext_len || !memcmp(back.ext_data, h.ext_data, h.ext_len));
	rtp_set_seq(buf, (uint16_t)~h.seq);
	rtp_set_ts(buf, ~h.ts);
	rtp_set_ssrc(buf, ~h.ssrc);
	rtp_set_pt(buf, (uint8_t)(h.pt ^ 0x7f));
	rtp_set_marker(buf, !h.marker);
	FUZZ_CHECK(rtp_hdr_decode(&back, buf, (size_t)n) == 0);
	FUZZ_CHECK(back.seq == (uint16_t)~h.seq && back.ts == ~h.ts && back.ssrc == ~h.ssrc &&
		   back.pt == (h.pt ^ 0x7f) && back.marker == !h.marker && back.cc == h.cc);
}

static void check_report(const struct rtcp_pkt *pkt)
{
	struct rtcp_report r, back;
	uint8_t buf[4 + 4 + 20 + RTCP_MAX_RB * 24];
	int err, n;

	memset(&r, 0xa5, sizeof(r));
	back = r;
	err = rtcp_report_decode(&r, pkt);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -EPROTOTYPE);
		FUZZ_CHECK(!memcmp(&r, &back, sizeof(r)));
		return;
	}
	FUZZ_CHECK(r.rc == pkt->count && r.sr == (pkt->pt == RTCP_SR));
	for (unsigned i = 0; i < r.rc; i++)
		FUZZ_CHECK(r.rb[i].lost >= -0x800000 && r.rb[i].lost <= 0x7fffff);
	n = rtcp_report_encode(buf, sizeof(buf), &r);
	FUZZ_CHECK(n == (int)(8 + (r.sr ? 20 : 0) + r.rc * 24));
	memset(&back, 0, sizeof(back));
	{
		struct rtcp_iter it;
		struct rtcp_pkt p2;

		rtcp_iter_init(&it, buf, (size_t)n);
		FUZZ_CHECK(rtcp_iter_next(&it, &p2) == 1);
		FUZZ_CHECK(rtcp_report_decode(&back, &p2) == 0);
		FUZZ_CHECK(rtcp_iter_next(&it, &p2) == 0);
	}
	FUZZ_CHECK(back.ssrc == r.ssrc && back.sr == r.sr && back.ntp == r.ntp &&
		   back.rtp_ts == r.rtp_ts && back.pkt_count == r.pkt_count &&
		   back.octet_count == r.octet_count && back.rc == r.rc);
	/* Field by field: struct rtcp_rb has padding. */
	for (unsigned i = 0; i < r.rc; i++)
		FUZZ_CHECK(
		    back.rb[i].ssrc == r.rb[i].ssrc && back.rb[i].fraction == r.rb[i].fraction &&
		    back.rb[i].lost == r.rb[i].lost && back.rb[i].ext_seq == r.rb[i].ext_seq &&
		    back.rb[i].jitter == r.rb[i].jitter && back.rb[i].lsr == r.rb[i].lsr &&
		    back.rb[i].dlsr == r.rb[i].dlsr);
}

static void check_sdes(const struct rtcp_pkt *pkt, const uint8_t *data, size_t size)
{
	struct rtcp_sdes_iter it;
	struct rtcp_sdes_item item;
	struct str cname = STR("untouched");
	uint32_t ssrc = 0x5a5a5a5a;
	unsigned n = 0;
	int r;

	rtcp_sdes_iter_init(&it, pkt);
	while ((r = rtcp_sdes_next(&it, &item)) == 1) {
		FUZZ_CHECK(item.type != RTCP_SDES_END);
		fuzz_view(&item.text, (const char *)pkt->body, pkt->body_len);
		FUZZ_CHECK(++n <= pkt->body_len / 2);
	}
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	FUZZ_CHECK(rtcp_sdes_next(&it, &item) == 0); /* ended or failed, the walk stays stopped */

	r = rtcp_sdes_cname(pkt, &ssrc, &cname);
	if (r) {
		FUZZ_CHECK(r == -ENOENT || r == -EBADMSG || r == -EPROTOTYPE);
		FUZZ_CHECK(ssrc == 0x5a5a5a5a && cname.len == 9);
	} else {
		uint8_t buf[4 + 4 + 2 + 255 + 4];
		struct rtcp_iter i2;
		struct rtcp_pkt p2;
		struct str c2;
		uint32_t s2;
		int n2;

		fuzz_view(&cname, (const char *)data, size);
		n2 = rtcp_sdes_encode(buf, sizeof(buf), ssrc, &cname);
		FUZZ_CHECK(n2 > 0 && n2 % 4 == 0);
		rtcp_iter_init(&i2, buf, (size_t)n2);
		FUZZ_CHECK(rtcp_iter_next(&i2, &p2) == 1);
		FUZZ_CHECK(rtcp_sdes_cname(&p2, &s2, &c2) == 0);
		FUZZ_CHECK(s2 == ssrc && str_eq(&c2, &cname));
	}
}

static void check_bye(const struct rtcp_pkt *pkt, const uint8_t *data, size_t size)
{
	struct rtcp_bye bye, before;
	int r;

	memset(&bye, 0xa5, sizeof(bye));
	before = bye;
	r = rtcp_bye_decode(&bye, pkt);
	if (r) {
		FUZZ_CHECK(r == -EBADMSG || r == -EPROTOTYPE);
		FUZZ_CHECK(!memcmp(&bye, &before, sizeof(bye)));
		return;
	}
	FUZZ_CHECK(bye.n == pkt->count);
	fuzz_view(&bye.reason, (const char *)data, size);
	if (bye.n) {
		uint8_t buf[4 + 4 + 1 + 255 + 3];
		struct rtcp_iter it;
		struct rtcp_pkt p2;
		struct rtcp_bye b2;
		int n = rtcp_bye_encode(buf, sizeof(buf), bye.ssrc[0], &bye.reason);

		FUZZ_CHECK(n > 0 && n % 4 == 0);
		rtcp_iter_init(&it, buf, (size_t)n);
		FUZZ_CHECK(rtcp_iter_next(&it, &p2) == 1);
		FUZZ_CHECK(rtcp_bye_decode(&b2, &p2) == 0);
		FUZZ_CHECK(b2.n == 1 && b2.ssrc[0] == bye.ssrc[0] &&
			   str_eq(&b2.reason, &bye.reason));
	}
}

static void check_rtcp(const uint8_t *data, size_t size)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	size_t total = 0;
	unsigned n = 0;
	bool first_report = false;
	int r;

	rtcp_iter_init(&it, data, size);
	while ((r = rtcp_iter_next(&it, &pkt)) == 1) {
		FUZZ_CHECK(pkt.len >= RTCP_HDR_SIZE && pkt.len % 4 == 0);
		FUZZ_CHECK(pkt.body == data + total + RTCP_HDR_SIZE);
		FUZZ_CHECK(pkt.body_len <= pkt.len - RTCP_HDR_SIZE);
		check_bytes(pkt.body, pkt.body_len, data, size);
		if (n++ == 0)
			first_report = pkt.pt == RTCP_SR || pkt.pt == RTCP_RR;
		total += pkt.len;
		check_report(&pkt);
		check_sdes(&pkt, data, size);
		check_bye(&pkt, data, size);
	}
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	FUZZ_CHECK(total <= size);
	if (r == 0)
		FUZZ_CHECK(total == size);
	/* A.2's check agrees with the walk. */
	FUZZ_CHECK((rtcp_validate(data, size) == 0) == (r == 0 && n > 0 && first_report));
}

/* Generator packets for a digit picked by the input must make exactly one press. */
static void check_generator(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789*#ABCDabcd";
	struct rtp_dtmf_press press = {0};
	struct rtp_dtmf_det det;
	struct rtp_dtmf_gen g;
	struct rtp_dtmf ev;
	uint16_t duration, ptime;
	unsigned packets = 0, presses = 0, ends = 0;
	bool marker;
	char c;

	if (size < 5)
		return;
	c = digits[data[0] % (sizeof(digits) - 1)];
	duration = (uint16_t)(data[1] << 8 | data[2]);
	ptime = (uint16_t)(data[3] << 8 | data[4]);
	/* At most ~256 packets: a 1-unit ptime would make every run slow. */
	if (ptime && ptime < duration / 256)
		ptime = (uint16_t)(duration / 256);
	if (rtp_dtmf_gen_start(&g, c, duration, ptime, 10)) {
		FUZZ_CHECK(duration == 0 || ptime == 0);
		return;
	}
	rtp_dtmf_det_init(&det);
	while (rtp_dtmf_gen_next(&g, &ev, &marker) == 1) {
		uint8_t pl[4];
		struct rtp_hdr h = {.pt = 101,
				    .marker = marker,
				    .seq = (uint16_t)packets,
				    .ts = 1234,
				    .ssrc = 1,
				    .payload = pl,
				    .payload_len = 4};
		int r;

		FUZZ_CHECK(rtp_dtmf_encode(pl, sizeof(pl), &ev) == 4);
		FUZZ_CHECK(marker == (packets == 0));
		FUZZ_CHECK(ev.duration <= duration);
		r = rtp_dtmf_det_push(&det, &h, &press);
		FUZZ_CHECK(r >= 0);
		presses += !!(r & RTP_DTMF_DIGIT);
		ends += !!(r & RTP_DTMF_END);
		FUZZ_CHECK(++packets <= (unsigned)duration / ptime + RTP_DTMF_END_PACKETS + 1);
	}
	FUZZ_CHECK(presses == 1 && ends == 1);
	FUZZ_CHECK(press.digit == (c >= 'a' ? c - 'a' + 'A' : c) && press.duration == duration);
}

/* The input as a stream of length-prefixed RTP packets of one call. */
static void check_stream(const uint8_t *data, size_t size)
{
	struct rtp_dtmf_det det;
	struct rtp_source src;
	struct rtcp_rb rb;
	unsigned packets = 0, counted = 0, digits = 0, ends = 0;
	bool open = false;
	size_t off = 0;

	rtp_dtmf_det_init(&det);
	rtp_source_init(&src, 0, size ? data[0] % 3 : 0);
	while (off < size) {
		size_t len = data[off] % 64;
		struct rtp_dtmf_press press;
		enum rtp_seq_result res;
		struct rtp_hdr h;
		int r;

		off++;
		if (len > size - off)
			len = size - off;
		if (rtp_hdr_decode(&h, data + off, len) == 0) {
			packets++;
			res = rtp_source_update(&src, h.seq, h.ts, packets * 160 + (len & 7));
			FUZZ_CHECK(res <= RTP_SEQ_JUMP);
			if (res == RTP_SEQ_OK || res == RTP_SEQ_LATE || res == RTP_SEQ_RESTART)
				counted++;
			if (res == RTP_SEQ_RESTART)
				counted = 1;
			FUZZ_CHECK(src.received <= counted);
			r = rtp_dtmf_det_push(&det, &h, &press);
			if (r < 0) {
				FUZZ_CHECK(r == -EBADMSG && h.payload_len < 4);
			} else {
				if (r & RTP_DTMF_DIGIT) {
					FUZZ_CHECK(press.digit &&
						   strchr("0123456789*#ABCD", press.digit));
					digits++;
					open = true;
				}
				if (r & RTP_DTMF_END) {
					/* One end per press, after (or with) its digit. */
					FUZZ_CHECK(open);
					open = false;
					ends++;
				}
			}
			if (packets % 8 == 0) {
				rtp_source_report(&src, &rb, packets);
				FUZZ_CHECK(rb.lost >= -0x800000 && rb.lost <= 0x7fffff);
				FUZZ_CHECK(rb.ext_seq == rtp_source_ext_max(&src));
			}
		}
		off += len;
	}
	FUZZ_CHECK(digits <= packets && ends <= digits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_dtmf ev, before;
	int r;

	check_rtp(data, size);
	check_rtcp(data, size);

	memset(&ev, 0xa5, sizeof(ev));
	before = ev;
	r = rtp_dtmf_decode(&ev, data, size);
	if (r) {
		FUZZ_CHECK(r == -EBADMSG && size < 4 && !memcmp(&ev, &before, sizeof(ev)));
	} else {
		uint8_t b[4];

		FUZZ_CHECK(ev.volume <= 63);
		FUZZ_CHECK(rtp_dtmf_encode(b, sizeof(b), &ev) == 4);
		FUZZ_CHECK(b[0] == data[0] && (b[1] & 0xbf) == (data[1] & 0xbf) &&
			   b[2] == data[2] && b[3] == data[3]);
	}

	check_generator(data, size);
	check_stream(data, size);
	return 0;
}
