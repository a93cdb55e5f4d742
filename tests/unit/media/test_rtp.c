/*
 * Unit tests for rtp.h: the RTP header (real and malformed packets, in-place
 * rewrites), RTCP compound packets (built, walked, decoded, and broken on
 * purpose), the RFC 3550 Appendix A statistics (sequence wrap, probation,
 * restart, loss and a jitter worked out by hand), and RFC 4733 DTMF (the
 * detector must make exactly one digit of each key press however many
 * updates and end retransmissions the sender emits, and the generator's
 * packets must come back out of it as the same digit).
 */
#include <string.h>

#include "media/rtp.h"
#include "test.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

TEST(test_rtp_hdr_decode)
{
	/* PCMA, marker, seq 0x1234, ts 1000, SSRC deadbeef, 4 payload bytes. */
	static const uint8_t plain[] = {0x80, 0x88, 0x12, 0x34, 0x00, 0x00, 0x03, 0xe8,
					0xde, 0xad, 0xbe, 0xef, 0xd5, 0xd5, 0x55, 0x55};
	/* 2 CSRCs, a one-word extension (RFC 8285's 0xBEDE), 2 payload bytes,
	 * then 3 bytes of padding whose last byte is the count. */
	static const uint8_t full[] = {0xb2, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00,
				       0x00, 0x00, 0x02, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22,
				       0x22, 0x22, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00,
				       0x00, 0x7f, 0x7f, 0x00, 0x00, 0x03};
	struct rtp_hdr h;
	int err = 0;

	TEST_ERR(rtp_hdr_decode(&h, plain, sizeof(plain)));
	TEST_EQUALS(8, h.pt);
	TEST_ASSERT(h.marker);
	TEST_EQUALS(0x1234, h.seq);
	TEST_EQUALS(1000, h.ts);
	TEST_EQUALS(0xdeadbeef, h.ssrc);
	TEST_EQUALS(0, h.cc);
	TEST_ASSERT(!h.ext);
	TEST_EQUALS(12, h.hdr_len);
	TEST_ASSERT(h.payload == plain + 12);
	TEST_EQUALS(4, h.payload_len);
	TEST_EQUALS(0, h.pad_len);

	TEST_ERR(rtp_hdr_decode(&h, full, sizeof(full)));
	TEST_EQUALS(0, h.pt);
	TEST_ASSERT(!h.marker);
	TEST_EQUALS(0xffff, h.seq);
	TEST_EQUALS(2, h.cc);
	TEST_EQUALS(0x11111111, h.csrc[0]);
	TEST_EQUALS(0x22222222, h.csrc[1]);
	TEST_ASSERT(h.ext);
	TEST_EQUALS(0xbede, h.ext_profile);
	TEST_ASSERT(h.ext_data == full + 24);
	TEST_EQUALS(4, h.ext_len);
	TEST_EQUALS(28, h.hdr_len);
	TEST_EQUALS(3, h.pad_len);
	TEST_EQUALS(2, h.payload_len);
	TEST_EQUALS(0x7f, h.payload[0]);

	/* Header only, no payload: valid, an empty payload. */
	TEST_ERR(rtp_hdr_decode(&h, plain, 12));
	TEST_EQUALS(0, h.payload_len);
out:
	return err;
}

TEST(test_rtp_hdr_malformed)
{
	static const struct {
		const char *what;
		uint8_t b[20];
		size_t len;
	} bad[] = {
	    {"empty", {0}, 0},
	    {"11 bytes", {0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 11},
	    {"version 0", {0x00, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 12},
	    {"version 1", {0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 12},
	    {"version 3", {0xc0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 12},
	    {"CSRC count past the end", {0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 16},
	    {"one CSRC cut short", {0x81, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 15},
	    {"extension header missing", {0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde}, 14},
	    {"extension past the end",
	     {0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 2, 1, 2, 3, 4},
	     20},
	    {"padding count 0", {0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 0}, 16},
	    {"padding into the header", {0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 5}, 16},
	    {"padding eats the CSRC",
	     {0xa1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5},
	     20},
	    {"padding with no room", {0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 12},
	};
	struct rtp_hdr h, before;
	int err = 0;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int r;

		memset(&h, 0xa5, sizeof(h));
		before = h;
		r = rtp_hdr_decode(&h, bad[i].b, bad[i].len);
		if (r != -EBADMSG) {
			test_fail(__FILE__, __LINE__, "%s: got %d", bad[i].what, r);
			err = -EINVAL;
			goto out;
		}
		TEST_ASSERT(!memcmp(&h, &before, sizeof(h))); /* written on success only */
	}
	TEST_EQUALS(-EINVAL, rtp_hdr_decode(NULL, bad[2].b, 12));
out:
	return err;
}

TEST(test_rtp_hdr_encode_rewrite)
{
	static const uint8_t ext[8] = {0x10, 0xaa, 0, 0, 0x21, 0x01, 0x02, 0};
	struct rtp_hdr h = {.pt = 101,
			    .marker = true,
			    .seq = 65535,
			    .ts = 0xfffffff0u,
			    .ssrc = 0x01020304,
			    .cc = 1,
			    .csrc = {0xcafef00d},
			    .ext = true,
			    .ext_profile = 0xbede,
			    .ext_data = ext,
			    .ext_len = sizeof(ext)};
	uint8_t buf[64];
	struct rtp_hdr d;
	int err = 0, n;

	n = rtp_hdr_encode(buf, sizeof(buf), &h);
	TEST_EQUALS(12 + 4 + 4 + 8, n);
	memcpy(buf + n, "\x01\x02\x03", 3);
	TEST_ERR(rtp_hdr_decode(&d, buf, (size_t)n + 3));
	TEST_EQUALS(101, d.pt);
	TEST_ASSERT(d.marker);
	TEST_EQUALS(65535, d.seq);
	TEST_EQUALS(0xfffffff0u, d.ts);
	TEST_EQUALS(0x01020304, d.ssrc);
	TEST_EQUALS(1, d.cc);
	TEST_EQUALS(0xcafef00d, d.csrc[0]);
	TEST_EQUALS(0xbede, d.ext_profile);
	TEST_ASSERT(d.ext_len == 8 && !memcmp(d.ext_data, ext, 8));
	TEST_EQUALS(3, d.payload_len);
	TEST_EQUALS(0, d.pad_len);

	/* The relay's rewrite: new SSRC, sequence, timestamp, payload type. */
	rtp_set_ssrc(buf, 0xa1b2c3d4);
	rtp_set_seq(buf, 7);
	rtp_set_ts(buf, 123456789);
	rtp_set_pt(buf, 0x80 | 96); /* the high bit is not the payload type's */
	rtp_set_marker(buf, false);
	TEST_ERR(rtp_hdr_decode(&d, buf, (size_t)n + 3));
	TEST_EQUALS(0xa1b2c3d4, d.ssrc);
	TEST_EQUALS(7, d.seq);
	TEST_EQUALS(123456789, d.ts);
	TEST_EQUALS(96, d.pt);
	TEST_ASSERT(!d.marker);
	TEST_EQUALS(1, d.cc); /* the rest is untouched */
	TEST_EQUALS(3, d.payload_len);
	rtp_set_marker(buf, true);
	rtp_set_pt(buf, 0);
	TEST_ERR(rtp_hdr_decode(&d, buf, (size_t)n + 3));
	TEST_ASSERT(d.marker);
	TEST_EQUALS(0, d.pt);

	TEST_EQUALS(-EMSGSIZE, rtp_hdr_encode(buf, (size_t)n - 1, &h));
	h.pt = 128;
	TEST_EQUALS(-EINVAL, rtp_hdr_encode(buf, sizeof(buf), &h));
	h.pt = 0;
	h.ext_len = 6;
	TEST_EQUALS(-EINVAL, rtp_hdr_encode(buf, sizeof(buf), &h));
	h.ext = false;
	h.cc = 16;
	TEST_EQUALS(-EINVAL, rtp_hdr_encode(buf, sizeof(buf), &h));
	h.cc = 0;
	TEST_EQUALS(12, rtp_hdr_encode(buf, 12, &h));
out:
	return err;
}

TEST(test_rtcp_compound)
{
	struct rtcp_report sr = {
	    .ssrc = 0x11223344,
	    .sr = true,
	    .ntp = 0xe8f1a2b380000000ull,
	    .rtp_ts = 160000,
	    .pkt_count = 1000,
	    .octet_count = 160000,
	    .rc = 2,
	    .rb = {{.ssrc = 0xaabbccdd,
		    .fraction = 51,
		    .lost = -3,
		    .ext_seq = 0x0001000a,
		    .jitter = 18,
		    .lsr = 0xa2b38000,
		    .dlsr = 65536},
		   {.ssrc = 2, .lost = 0x7fffff + 10}},
	};
	struct rtcp_report r;
	struct rtcp_pkt pkt;
	struct rtcp_iter it;
	struct rtcp_bye bye;
	struct str cname;
	uint8_t buf[256];
	uint32_t ssrc = 0;
	size_t len = 0;
	int err = 0, n;

	n = rtcp_report_encode(buf, sizeof(buf), &sr);
	TEST_EQUALS(4 + 4 + 20 + 2 * 24, n);
	len += (size_t)n;
	n = rtcp_sdes_encode(buf + len, sizeof(buf) - len, 0x11223344, &STR("alice@host"));
	TEST_EQUALS(4 + 4 + 2 + 10 + 4, n); /* text, then a null octet and padding to 4 */
	len += (size_t)n;
	n = rtcp_bye_encode(buf + len, sizeof(buf) - len, 0x11223344, &STR("hangup"));
	TEST_EQUALS(4 + 4 + 8, n);
	len += (size_t)n;
	TEST_ERR(rtcp_validate(buf, len));

	rtcp_iter_init(&it, buf, len);
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(RTCP_SR, pkt.pt);
	TEST_EQUALS(2, pkt.count);
	TEST_EQUALS(76, pkt.len);
	TEST_ERR(rtcp_report_decode(&r, &pkt));
	TEST_ASSERT(r.sr);
	TEST_EQUALS(0x11223344, r.ssrc);
	TEST_ASSERT(r.ntp == sr.ntp);
	TEST_EQUALS(160000, r.rtp_ts);
	TEST_EQUALS(1000, r.pkt_count);
	TEST_EQUALS(160000, r.octet_count);
	TEST_EQUALS(2, r.rc);
	TEST_EQUALS(0xaabbccdd, r.rb[0].ssrc);
	TEST_EQUALS(51, r.rb[0].fraction);
	TEST_EQUALS(-3, r.rb[0].lost); /* 24-bit sign extension */
	TEST_EQUALS(0x0001000a, r.rb[0].ext_seq);
	TEST_EQUALS(18, r.rb[0].jitter);
	TEST_EQUALS(0xa2b38000, r.rb[0].lsr);
	TEST_EQUALS(65536, r.rb[0].dlsr);
	TEST_EQUALS(0x7fffff, r.rb[1].lost); /* clamped on the way out */
	TEST_EQUALS(-EPROTOTYPE, rtcp_sdes_cname(&pkt, &ssrc, &cname));

	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(RTCP_SDES, pkt.pt);
	TEST_ERR(rtcp_sdes_cname(&pkt, &ssrc, &cname));
	TEST_EQUALS(0x11223344, ssrc);
	TEST_STR("alice@host", cname);
	TEST_EQUALS(-EPROTOTYPE, rtcp_report_decode(&r, &pkt));

	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(RTCP_BYE, pkt.pt);
	TEST_ERR(rtcp_bye_decode(&bye, &pkt));
	TEST_EQUALS(1, bye.n);
	TEST_EQUALS(0x11223344, bye.ssrc[0]);
	TEST_STR("hangup", bye.reason);
	TEST_EQUALS(0, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(0, rtcp_iter_next(&it, &pkt));

	/* An RR with no block and a BYE without reason. */
	r = (struct rtcp_report){.ssrc = 9};
	n = rtcp_report_encode(buf, sizeof(buf), &r);
	TEST_EQUALS(8, n);
	len = (size_t)n;
	n = rtcp_bye_encode(buf + len, sizeof(buf) - len, 9, NULL);
	TEST_EQUALS(8, n);
	len += (size_t)n;
	TEST_ERR(rtcp_validate(buf, len));
	rtcp_iter_init(&it, buf, len);
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_ERR(rtcp_report_decode(&r, &pkt));
	TEST_ASSERT(!r.sr);
	TEST_EQUALS(0, r.rc);
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_ERR(rtcp_bye_decode(&bye, &pkt));
	TEST_EQUALS(0, bye.reason.len);

	TEST_EQUALS(-EMSGSIZE, rtcp_report_encode(buf, 7, &r));
	TEST_EQUALS(-EMSGSIZE, rtcp_sdes_encode(buf, 15, 1, &STR("abc")));
	TEST_EQUALS(16, rtcp_sdes_encode(buf, 16, 1, &STR("abc")));
	TEST_EQUALS(12, rtcp_sdes_encode(buf, 16, 1, &STR(""))); /* 2 + 0 + null, padded */
	r.rc = 32;
	TEST_EQUALS(-EINVAL, rtcp_report_encode(buf, sizeof(buf), &r));
out:
	return err;
}

TEST(test_rtcp_real_packet)
{
	/* An RR with one block, SDES with CNAME then NAME in one chunk and a
	 * second chunk with a TOOL, as a softphone sends them; then an APP. */
	static const uint8_t pkt_bytes[] = {
	    0x81, 0xc9, 0x00, 0x07, 0x5e, 0x1f, 0x00, 0x01, 0x3c, 0x55, 0x1a, 0x02, 0x0c, 0x00,
	    0x00, 0x05, 0x00, 0x00, 0x4e, 0x21, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, /* RR: 32 bytes */
	    0x82, 0xca, 0x00, 0x06, 0x5e, 0x1f, 0x00, 0x01, 0x01, 0x03, 'b', 'o', 'b', 0x02, 0x01,
	    'B', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x06, 0x01, 'x', 0x00,
	    /* SDES: 28 bytes */
	    0x80, 0xcc, 0x00, 0x02, 0x5e, 0x1f, 0x00, 0x01, 'a', 'b', 'c', 'd', /* APP */
	};
	static const struct {
		uint32_t ssrc;
		uint8_t type;
		const char *text;
	} items[] = {
	    {0x5e1f0001, RTCP_SDES_CNAME, "bob"},
	    {0x5e1f0001, RTCP_SDES_NAME, "B"},
	    {0x00000002, RTCP_SDES_TOOL, "x"},
	};
	struct rtcp_sdes_iter si;
	struct rtcp_sdes_item item;
	struct rtcp_report r;
	struct rtcp_pkt pkt;
	struct rtcp_iter it;
	int err = 0;

	TEST_ERR(rtcp_validate(pkt_bytes, sizeof(pkt_bytes)));
	rtcp_iter_init(&it, pkt_bytes, sizeof(pkt_bytes));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_ERR(rtcp_report_decode(&r, &pkt));
	TEST_EQUALS(1, r.rc);
	TEST_EQUALS(0x3c551a02, r.rb[0].ssrc);
	TEST_EQUALS(12, r.rb[0].fraction);
	TEST_EQUALS(5, r.rb[0].lost);
	TEST_EQUALS(20001, r.rb[0].ext_seq);
	TEST_EQUALS(42, r.rb[0].jitter);

	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	rtcp_sdes_iter_init(&si, &pkt);
	for (size_t i = 0; i < ARRAY_LEN(items); i++) {
		TEST_EQUALS(1, rtcp_sdes_next(&si, &item));
		TEST_EQUALS(items[i].ssrc, item.ssrc);
		TEST_EQUALS(items[i].type, item.type);
		TEST_STR(items[i].text, item.text);
	}
	TEST_EQUALS(0, rtcp_sdes_next(&si, &item));

	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(RTCP_APP, pkt.pt);
	TEST_EQUALS(8, pkt.body_len);
	TEST_EQUALS(0, rtcp_iter_next(&it, &pkt));

	/* Reduced-size RTCP (RFC 5506) starts elsewhere: the walk takes it,
	 * the A.2 check does not. */
	TEST_EQUALS(-EBADMSG, rtcp_validate(pkt_bytes + 32, sizeof(pkt_bytes) - 32));
	rtcp_iter_init(&it, pkt_bytes + 32, sizeof(pkt_bytes) - 32);
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(RTCP_SDES, pkt.pt);
out:
	return err;
}

TEST(test_rtcp_malformed)
{
	/* SR whose count says 1 block but holds none. */
	static const uint8_t short_sr[] = {0x81, 0xc8, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
					   0,	 0,    0,    0,	   0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	/* Length 2 words past a 8-byte buffer. */
	static const uint8_t long_len[] = {0x80, 0xc9, 0x00, 0x02, 0, 0, 0, 1};
	/* Padding on the first of two packets. */
	static const uint8_t pad_first[] = {0xa0, 0xc9, 0x00, 0x01, 0,	  0,
					    0,	  1,	0x80, 0xca, 0x00, 0x00};
	/* Padding count 0, and a count larger than the body. */
	static const uint8_t pad_zero[] = {0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 0};
	static const uint8_t pad_big[] = {0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 9};
	/* Version 1. */
	static const uint8_t v1[] = {0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 1};
	/* Two stray bytes after a good RR. */
	static const uint8_t tail[] = {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1, 0x80, 0xc9};
	/* SDES chunk without its null terminator; an item running past the end. */
	static const uint8_t sdes_noend[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 1, 2, 'a', 'b'};
	static const uint8_t sdes_long[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 1, 9, 'a', 'b'};
	static const uint8_t sdes_chunks[] = {0x82, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0};
	/* BYE of 2 SSRCs holding one; BYE whose reason runs past the end. */
	static const uint8_t bye_short[] = {0x82, 0xcb, 0x00, 0x01, 0, 0, 0, 1};
	static const uint8_t bye_reason[] = {0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 5, 'a', 'b', 0};
	struct rtcp_sdes_item item;
	struct rtcp_sdes_iter si;
	struct rtcp_report r;
	struct rtcp_bye bye;
	struct rtcp_pkt pkt;
	struct rtcp_iter it;
	struct str cname = STR_NULL;
	uint32_t ssrc = 0;
	int err = 0;

	rtcp_iter_init(&it, short_sr, sizeof(short_sr));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_report_decode(&r, &pkt));

	TEST_EQUALS(-EBADMSG, rtcp_validate(long_len, sizeof(long_len)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(pad_first, sizeof(pad_first)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(pad_zero, sizeof(pad_zero)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(pad_big, sizeof(pad_big)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(v1, sizeof(v1)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(tail, sizeof(tail)));
	TEST_EQUALS(-EBADMSG, rtcp_validate(tail, 0));
	TEST_EQUALS(-EBADMSG, rtcp_validate(NULL, 0));

	/* The walk yields the good packet, then fails and stays failed. */
	rtcp_iter_init(&it, tail, sizeof(tail));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_iter_next(&it, &pkt));

	/* A padded last packet: the body loses the padding. */
	{
		static const uint8_t padded[] = {0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4};

		rtcp_iter_init(&it, padded, sizeof(padded));
		TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
		TEST_EQUALS(4, pkt.body_len);
		TEST_EQUALS(12, pkt.len);
	}

	rtcp_iter_init(&it, sdes_noend, sizeof(sdes_noend));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	rtcp_sdes_iter_init(&si, &pkt);
	TEST_EQUALS(1, rtcp_sdes_next(&si, &item)); /* the item is whole */
	TEST_EQUALS(-EBADMSG, rtcp_sdes_next(&si, &item));
	TEST_EQUALS(0, rtcp_sdes_next(&si, &item)); /* stopped for good */

	rtcp_iter_init(&it, sdes_long, sizeof(sdes_long));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_sdes_cname(&pkt, &ssrc, &cname));
	TEST_ASSERT(cname.p == NULL && ssrc == 0);

	rtcp_iter_init(&it, sdes_chunks, sizeof(sdes_chunks));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_sdes_cname(&pkt, &ssrc, &cname));

	rtcp_iter_init(&it, bye_short, sizeof(bye_short));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_bye_decode(&bye, &pkt));
	rtcp_iter_init(&it, bye_reason, sizeof(bye_reason));
	TEST_EQUALS(1, rtcp_iter_next(&it, &pkt));
	TEST_EQUALS(-EBADMSG, rtcp_bye_decode(&bye, &pkt));
out:
	return err;
}

TEST(test_rtcp_ntp_clock)
{
	int err = 0;

	TEST_ASSERT(rtcp_ntp_from_unix_ns(0) == (uint64_t)2208988800u << 32);
	TEST_ASSERT(rtcp_ntp_from_unix_ns(1500000000ull) ==
		    ((uint64_t)(2208988800u + 1) << 32 | 0x80000000u));
	TEST_EQUALS(0x00018000, rtcp_ntp_mid(0x0000000180000000ull));
	/* 1.5 s at 8 kHz; and a clock far from its origin still wraps right. */
	TEST_EQUALS(12000, rtp_clock_ts(1500000000ull, 8000));
	TEST_EQUALS((uint32_t)(1000000ull * 48000 + 24000),
		    rtp_clock_ts(1000000ull * 1000000000 + 500000000, 48000));
out:
	return err;
}

TEST(test_rtp_source_wrap)
{
	struct rtp_source s;
	struct rtcp_rb rb;
	uint16_t seq = 65530;
	int err = 0;

	rtp_source_init(&s, 42, RTP_MIN_SEQUENTIAL);
	TEST_EQUALS(RTP_SEQ_PROBATION, rtp_source_update(&s, seq, 0, 0));
	TEST_EQUALS(0, rtp_source_expected(&s));
	/* Through the wrap: 65531 .. 65535, 0 .. 4. */
	for (int i = 1; i <= 10; i++)
		TEST_EQUALS(RTP_SEQ_OK,
			    rtp_source_update(&s, (uint16_t)(seq + i), 160u * i, 160u * i));
	TEST_EQUALS(1u << 16, s.cycles);
	TEST_EQUALS(65536 + 4, rtp_source_ext_max(&s));
	TEST_EQUALS(10, s.received);
	TEST_EQUALS(10, rtp_source_expected(&s));
	TEST_EQUALS(0, rtp_source_lost(&s));

	/* Lose 5, 6: two of the next 10 expected. */
	for (int i = 7; i <= 14; i++)
		TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, (uint16_t)i, 0, 0));
	TEST_EQUALS(20, rtp_source_expected(&s));
	TEST_EQUALS(2, rtp_source_lost(&s));
	rtp_source_report(&s, &rb, 0);
	TEST_EQUALS(42, rb.ssrc);
	TEST_EQUALS(2 * 256 / 20, rb.fraction);
	TEST_EQUALS(2, rb.lost);
	TEST_EQUALS(65536 + 14, rb.ext_seq);
	TEST_EQUALS(0, rb.lsr);
	TEST_EQUALS(0, rb.dlsr);

	/* Next interval: 10 expected, 8 arrive, one of them a duplicate:
	 * A.3 counts 10 - 8 = 2 lost, fraction 2/10. */
	for (int i = 15; i <= 24; i++) {
		if (i == 17 || i == 18 || i == 19)
			continue;
		TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, (uint16_t)i, 0, 0));
	}
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 20, 0, 0));
	rtp_source_sr(&s, 0x0000123456780000ull, 1000);
	rtp_source_report(&s, &rb, 1000 + 32768);
	TEST_EQUALS((2 << 8) / 10, rb.fraction);
	TEST_EQUALS(4, rb.lost);
	TEST_EQUALS(0x12345678, rb.lsr);
	TEST_EQUALS(32768, rb.dlsr); /* half a second */

	/* Only duplicates: negative loss in the interval reports 0. */
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 23, 0, 0));
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 24, 0, 0));
	rtp_source_report(&s, &rb, 0);
	TEST_EQUALS(0, rb.fraction);
	TEST_EQUALS(2, rb.lost);
out:
	return err;
}

TEST(test_rtp_source_probation)
{
	struct rtp_source s;
	int err = 0;

	rtp_source_init(&s, 1, RTP_MIN_SEQUENTIAL);
	/* Out of sequence during probation: probation starts over. */
	TEST_EQUALS(RTP_SEQ_PROBATION, rtp_source_update(&s, 100, 0, 0));
	TEST_EQUALS(RTP_SEQ_PROBATION, rtp_source_update(&s, 300, 0, 0));
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 301, 0, 0));
	TEST_EQUALS(301, s.base_seq);
	TEST_EQUALS(1, s.received);
	TEST_EQUALS(1, rtp_source_expected(&s));

	/* Probation across the wrap (A.1 as printed misses this one). */
	rtp_source_init(&s, 1, RTP_MIN_SEQUENTIAL);
	TEST_EQUALS(RTP_SEQ_PROBATION, rtp_source_update(&s, 65535, 0, 0));
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 0, 0, 0));
	TEST_EQUALS(0, rtp_source_ext_max(&s));

	/* A source vouched for by signalling counts from its first packet. */
	rtp_source_init(&s, 1, 0);
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 5000, 0, 0));
	TEST_EQUALS(1, s.received);
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 5002, 0, 0));
	TEST_EQUALS(1, rtp_source_lost(&s));
out:
	return err;
}

TEST(test_rtp_source_restart)
{
	struct rtp_source s;
	int err = 0;

	rtp_source_init(&s, 1, 1);
	for (uint16_t q = 10; q < 20; q++)
		TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, q, 0, 0));
	/* A jump of 10000: suspect, not counted. */
	TEST_EQUALS(RTP_SEQ_JUMP, rtp_source_update(&s, 10019, 0, 0));
	TEST_EQUALS(10, s.received);
	/* A stray late packet in between does not confirm it. */
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 15, 0, 0));
	TEST_EQUALS(RTP_SEQ_JUMP, rtp_source_update(&s, 30000, 0, 0));
	/* The next in sequence: the sender restarted; counts begin again. */
	TEST_EQUALS(RTP_SEQ_RESTART, rtp_source_update(&s, 30001, 0, 0));
	TEST_EQUALS(1, s.received);
	TEST_EQUALS(30001, s.base_seq);
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 30002, 0, 0));
	TEST_EQUALS(2, rtp_source_expected(&s));
	TEST_EQUALS(0, rtp_source_lost(&s));
	/* Up to 99 behind is a late packet, 100 behind a jump (A.1's bounds);
	 * the newest again is a duplicate. */
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 30002 - 99, 0, 0));
	TEST_EQUALS(RTP_SEQ_LATE, rtp_source_update(&s, 30002, 0, 0));
	TEST_EQUALS(RTP_SEQ_JUMP, rtp_source_update(&s, 30002 - 100, 0, 0));
	/* 2999 ahead is in order with a gap. */
	TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, 30002 + 2999, 0, 0));
	TEST_EQUALS(RTP_SEQ_JUMP, rtp_source_update(&s, 33001 + 3000, 0, 0));
out:
	return err;
}

TEST(test_rtp_source_jitter)
{
	/* 20 ms packets at 8 kHz (160 units apart). Arrivals (in timestamp
	 * units) alternate between on time and 10 units late, so every
	 * transit difference |D| is 10. By hand, with A.8's integer form
	 * J += |D| - ((J + 8) >> 4) and J scaled by 16:
	 *   J1 = 0 + 10 - 0 = 10, J2 = 10 + 10 - 1 = 19, J3 = 19 + 10 - 1 = 28,
	 *   J4 = 28 + 10 - 2 = 36: jitter 36 >> 4 = 2 units.
	 * The float form gives 0.625, 1.211, 1.760, 2.275: also 2. */
	static const uint32_t arrival[] = {1000, 1170, 1320, 1490, 1640};
	struct rtp_source s;
	struct rtcp_rb rb;
	int err = 0;

	rtp_source_init(&s, 7, 1);
	for (unsigned i = 0; i < ARRAY_LEN(arrival); i++)
		TEST_EQUALS(RTP_SEQ_OK, rtp_source_update(&s, (uint16_t)i, 160 * i, arrival[i]));
	TEST_EQUALS(36, s.jitter);
	TEST_EQUALS(2, rtp_source_jitter(&s));

	/* |D| = 80 each time: J 80, 155, 225, 291 (>> 4: 18); the float
	 * form gives 18.2. Timestamps wrap on the way, harmlessly. */
	rtp_source_init(&s, 7, 1);
	for (unsigned i = 0; i < 5; i++) {
		uint32_t ts = 0xfffffe00u + 160 * i;

		TEST_EQUALS(RTP_SEQ_OK,
			    rtp_source_update(&s, (uint16_t)i, ts, ts + 5 + (i % 2 ? 80 : 0)));
	}
	TEST_EQUALS(291, s.jitter);
	rtp_source_report(&s, &rb, 0);
	TEST_EQUALS(18, rb.jitter);

	/* A steady variation of 32 converges on it; the integer form settles
	 * where (J + 8) >> 4 reaches |D|, up to one unit low (J = 504: 31). */
	rtp_source_init(&s, 7, 1);
	for (unsigned i = 0; i < 400; i++)
		rtp_source_update(&s, (uint16_t)i, 160 * i, 160 * i + (i % 2 ? 32 : 0));
	TEST_EQUALS(504, s.jitter);
	TEST_EQUALS(31, rtp_source_jitter(&s));

	/* A timestamp leap is clamped instead of overflowing the estimate. */
	rtp_source_update(&s, 400, 0x80000000u, 0);
	TEST_ASSERT(rtp_source_jitter(&s) <= (1u << 27) / 16 + 32);
out:
	return err;
}

TEST(test_rtp_dtmf_payload)
{
	static const uint8_t end5[] = {5, 0x8a, 0x03, 0x20};
	struct rtp_dtmf ev;
	uint8_t buf[4];
	int err = 0;

	TEST_ERR(rtp_dtmf_decode(&ev, end5, sizeof(end5)));
	TEST_EQUALS(5, ev.event);
	TEST_ASSERT(ev.end);
	TEST_EQUALS(10, ev.volume);
	TEST_EQUALS(800, ev.duration);
	TEST_EQUALS(4, rtp_dtmf_encode(buf, sizeof(buf), &ev));
	TEST_ASSERT(!memcmp(buf, end5, 4));
	/* The reserved R bit is ignored. */
	TEST_ERR(rtp_dtmf_decode(&ev, (const uint8_t *)"\x0b\x4f\x00\xa0", 4));
	TEST_ASSERT(!ev.end);
	TEST_EQUALS(15, ev.volume);
	TEST_EQUALS(-EBADMSG, rtp_dtmf_decode(&ev, end5, 3));
	TEST_EQUALS(-EMSGSIZE, rtp_dtmf_encode(buf, 3, &ev));
	ev.volume = 64;
	TEST_EQUALS(-EINVAL, rtp_dtmf_encode(buf, 4, &ev));

	for (int e = 0; e < 16; e++)
		TEST_EQUALS(e, rtp_dtmf_event(rtp_dtmf_char((uint8_t)e)));
	TEST_EQUALS('*', rtp_dtmf_char(10));
	TEST_EQUALS('#', rtp_dtmf_char(11));
	TEST_EQUALS('D', rtp_dtmf_char(15));
	TEST_EQUALS('\0', rtp_dtmf_char(16));
	TEST_EQUALS(13, rtp_dtmf_event('b'));
	TEST_EQUALS(-EINVAL, rtp_dtmf_event('E'));
	TEST_EQUALS(-EINVAL, rtp_dtmf_event(' '));
out:
	return err;
}

struct dtmf_pkt {
	uint16_t seq;
	uint32_t ts;
	bool marker;
	uint8_t event;
	bool end;
	uint16_t duration;
};

/* Feed @n packets of SSRC @ssrc; write the digits reported into @digits
 * and the END count into *@ends. Returns the number of digits. */
static int feed(struct rtp_dtmf_det *d, uint32_t ssrc, const struct dtmf_pkt *p, size_t n,
		char *digits, size_t size, int *ends, struct rtp_dtmf_press *last_end)
{
	int ndig = 0;

	*ends = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t pl[4] = {p[i].event, (uint8_t)((p[i].end ? 0x80 : 0) | 10),
				 (uint8_t)(p[i].duration >> 8), (uint8_t)p[i].duration};
		struct rtp_hdr h = {.pt = 101,
				    .marker = p[i].marker,
				    .seq = p[i].seq,
				    .ts = p[i].ts,
				    .ssrc = ssrc,
				    .payload = pl,
				    .payload_len = 4};
		struct rtp_dtmf_press press;
		int r = rtp_dtmf_det_push(d, &h, &press);

		if (r < 0)
			return r;
		if (r & RTP_DTMF_DIGIT) {
			if ((size_t)ndig + 1 < size)
				digits[ndig] = press.digit;
			ndig++;
		}
		if (r & RTP_DTMF_END) {
			(*ends)++;
			if (last_end)
				*last_end = press;
		}
	}
	if (size)
		digits[(size_t)ndig < size ? (size_t)ndig : size - 1] = '\0';
	return ndig;
}

TEST(test_rtp_dtmf_detector)
{
	/* '5': start with the marker, two updates, the end sent three times. */
	static const struct dtmf_pkt press5[] = {
	    {100, 8000, true, 5, false, 160},  {101, 8000, false, 5, false, 320},
	    {102, 8000, false, 5, false, 480}, {103, 8000, false, 5, true, 640},
	    {104, 8000, false, 5, true, 640},  {105, 8000, false, 5, true, 640},
	};
	/* '5' pressed twice: two events, two digits, though the same key. */
	static const struct dtmf_pkt twice[] = {
	    {200, 16000, true, 5, false, 160}, {201, 16000, false, 5, true, 320},
	    {202, 16000, false, 5, true, 320}, {203, 16000, false, 5, true, 320},
	    {204, 17600, true, 5, false, 160}, {205, 17600, false, 5, true, 320},
	    {206, 17600, false, 5, true, 320}, {207, 17600, false, 5, true, 320},
	};
	/* '#' whose start (and marker) is lost, updates repeated, ends
	 * reordered with a late update after them. */
	static const struct dtmf_pkt lossy[] = {
	    {301, 24000, false, 11, false, 320}, {301, 24000, false, 11, false, 320},
	    {302, 24000, false, 11, false, 480}, {304, 24000, false, 11, true, 800},
	    {303, 24000, false, 11, false, 640}, {305, 24000, false, 11, true, 800},
	    {306, 24000, false, 11, true, 800},
	};
	/* Only an end packet of '9' arrives: digit and end at once. Then a
	 * late retransmission of the previous press ('#' at 24000) arrives
	 * after the next press began: it is dropped. */
	static const struct dtmf_pkt end_only[] = {
	    {401, 32000, false, 9, true, 480},
	    {402, 33600, true, 1, false, 160},
	    {306, 24000, false, 11, true, 800},
	    {403, 33600, false, 1, true, 320},
	};
	/* A flash (event 16) is not a digit. */
	static const struct dtmf_pkt flash[] = {
	    {500, 40000, true, 16, false, 160},
	    {501, 40000, false, 16, true, 320},
	};
	/* A press longer than 0xFFFF units: a second segment at ts + 0xFFFF. */
	static const struct dtmf_pkt long_press[] = {
	    {600, 50000, true, 0, false, 160},
	    {601, 50000, false, 0, false, 0xffff},
	    {602, 50000 + 0xffff, false, 0, false, 160},
	    {603, 50000 + 0xffff, false, 0, true, 1000},
	    {604, 50000 + 0xffff, false, 0, true, 1000},
	};
	struct rtp_dtmf_press last = {0};
	struct rtp_dtmf_det d;
	char digits[16];
	int err = 0, ends;

	rtp_dtmf_det_init(&d);
	TEST_EQUALS(1,
		    feed(&d, 1, press5, ARRAY_LEN(press5), digits, sizeof(digits), &ends, &last));
	TEST_STR("5", str_cstr(digits));
	TEST_EQUALS(1, ends);
	TEST_EQUALS(640, last.duration);
	TEST_EQUALS(8000, last.ts);
	TEST_EQUALS(10, last.volume);
	/* The same packets again (a duplicated burst): nothing new. */
	TEST_EQUALS(0, feed(&d, 1, press5, ARRAY_LEN(press5), digits, sizeof(digits), &ends, NULL));
	TEST_EQUALS(0, ends);

	TEST_EQUALS(2, feed(&d, 1, twice, ARRAY_LEN(twice), digits, sizeof(digits), &ends, NULL));
	TEST_STR("55", str_cstr(digits));
	TEST_EQUALS(2, ends);

	TEST_EQUALS(1, feed(&d, 1, lossy, ARRAY_LEN(lossy), digits, sizeof(digits), &ends, &last));
	TEST_STR("#", str_cstr(digits));
	TEST_EQUALS(1, ends);
	TEST_EQUALS(800, last.duration);

	TEST_EQUALS(
	    2, feed(&d, 1, end_only, ARRAY_LEN(end_only), digits, sizeof(digits), &ends, &last));
	TEST_STR("91", str_cstr(digits));
	TEST_EQUALS(2, ends);

	TEST_EQUALS(0, feed(&d, 1, flash, ARRAY_LEN(flash), digits, sizeof(digits), &ends, NULL));
	TEST_EQUALS(0, ends);

	TEST_EQUALS(1, feed(&d, 1, long_press, ARRAY_LEN(long_press), digits, sizeof(digits), &ends,
			    &last));
	TEST_STR("0", str_cstr(digits));
	TEST_EQUALS(1, ends);
	TEST_EQUALS(0xffff + 1000, last.duration);
	TEST_EQUALS(50000, last.ts);

	/* Another SSRC (a re-INVITE switched the source): its first packet
	 * is a press even with an old-looking timestamp and sequence. */
	TEST_EQUALS(1, feed(&d, 2, press5, 1, digits, sizeof(digits), &ends, NULL));
	TEST_STR("5", str_cstr(digits));

	/* A payload too short. */
	{
		struct rtp_hdr h = {.payload = (const uint8_t *)"\x01\x02", .payload_len = 2};
		struct rtp_dtmf_press p;

		TEST_EQUALS(-EBADMSG, rtp_dtmf_det_push(&d, &h, &p));
	}
out:
	return err;
}

TEST(test_rtp_dtmf_generator)
{
	static const uint16_t want[] = {160, 320, 480, 640, 800, 800, 800};
	struct rtp_dtmf_press press = {0};
	struct rtp_dtmf_gen g;
	struct rtp_dtmf_det d;
	struct rtp_dtmf ev;
	uint8_t pkt[64];
	uint16_t seq = 1000;
	int err = 0, n = 0, digits = 0, ends = 0;
	bool marker;

	/* '7' for 100 ms at 8 kHz, a packet every 20 ms. */
	TEST_ERR(rtp_dtmf_gen_start(&g, '7', 800, 160, 10));
	rtp_dtmf_det_init(&d);
	while (rtp_dtmf_gen_next(&g, &ev, &marker) == 1) {
		struct rtp_hdr h = {
		    .pt = 101, .marker = marker, .seq = seq++, .ts = 4242, .ssrc = 99};
		struct rtp_hdr rx;
		int len, r;

		TEST_ASSERT(n < (int)ARRAY_LEN(want));
		TEST_EQUALS(7, ev.event);
		TEST_EQUALS(10, ev.volume);
		TEST_EQUALS(want[n], ev.duration);
		TEST_EQUALS(n >= 4, ev.end);
		TEST_EQUALS(n == 0, marker);
		n++;

		/* Through the wire format and into the detector. */
		len = rtp_hdr_encode(pkt, sizeof(pkt), &h);
		TEST_ASSERT(len == 12);
		TEST_EQUALS(4, rtp_dtmf_encode(pkt + len, sizeof(pkt) - (size_t)len, &ev));
		TEST_ERR(rtp_hdr_decode(&rx, pkt, (size_t)len + 4));
		r = rtp_dtmf_det_push(&d, &rx, &press);
		TEST_ASSERT(r >= 0);
		digits += !!(r & RTP_DTMF_DIGIT);
		ends += !!(r & RTP_DTMF_END);
	}
	TEST_EQUALS(7, n);
	TEST_EQUALS(0, rtp_dtmf_gen_next(&g, &ev, &marker));
	TEST_EQUALS(1, digits);
	TEST_EQUALS(1, ends);
	TEST_EQUALS('7', press.digit);
	TEST_EQUALS(800, press.duration);

	/* Shorter than one packet: the first packet is already the end. */
	TEST_ERR(rtp_dtmf_gen_start(&g, '#', 100, 160, 0));
	n = 0;
	while (rtp_dtmf_gen_next(&g, &ev, &marker) == 1) {
		TEST_ASSERT(ev.end);
		TEST_EQUALS(100, ev.duration);
		TEST_EQUALS(11, ev.event);
		TEST_EQUALS(n == 0, marker);
		n++;
	}
	TEST_EQUALS(RTP_DTMF_END_PACKETS, n);

	/* Duration a multiple of ptime near the top of the 16-bit range. */
	TEST_ERR(rtp_dtmf_gen_start(&g, 'A', 0xffff, 0x8000, 63));
	TEST_EQUALS(1, rtp_dtmf_gen_next(&g, &ev, &marker));
	TEST_EQUALS(0x8000, ev.duration);
	TEST_EQUALS(1, rtp_dtmf_gen_next(&g, &ev, &marker));
	TEST_EQUALS(0xffff, ev.duration);
	TEST_ASSERT(ev.end);

	TEST_EQUALS(-EINVAL, rtp_dtmf_gen_start(&g, 'x', 800, 160, 10));
	TEST_EQUALS(-EINVAL, rtp_dtmf_gen_start(&g, '1', 0, 160, 10));
	TEST_EQUALS(-EINVAL, rtp_dtmf_gen_start(&g, '1', 800, 0, 10));
	TEST_EQUALS(-EINVAL, rtp_dtmf_gen_start(&g, '1', 800, 160, 64));
out:
	return err;
}
