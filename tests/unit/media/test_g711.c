/*
 * Unit tests for g711.h: known values from G.711 and its digital milliwatt,
 * every 16-bit input against a port of the ITU-T G.191 reference
 * compressors (written here loop by loop, as G.191 does, so it shares no
 * code with the bit tricks under test), every code against G.191's
 * expanders, and the buffer forms.
 */
#include "media/g711.h"
#include "test.h"

/* G.191 ulaw_compress() for one sample. */
static uint8_t ref_ulaw(int16_t x)
{
	int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
	int i, segno = 1, high, low;

	if (absno > 0x1fff)
		absno = 0x1fff;
	for (i = absno >> 6; i; i >>= 1)
		segno++;
	high = 8 - segno;
	low = 15 - ((absno >> segno) & 0x0f);
	return (uint8_t)((high << 4 | low) | (x >= 0 ? 0x80 : 0));
}

/* G.191 alaw_compress() for one sample. */
static uint8_t ref_alaw(int16_t x)
{
	int ix = x < 0 ? (~x) >> 4 : x >> 4;

	if (ix > 15) {
		int iexp = 1;

		while (ix > 16 + 15) {
			ix >>= 1;
			iexp++;
		}
		ix -= 16;
		ix += iexp << 4;
	}
	if (x >= 0)
		ix |= 0x80;
	return (uint8_t)(ix ^ 0x55);
}

/* G.191 ulaw_expand() and alaw_expand() for one code. */
static int ref_ulaw_dec(uint8_t c)
{
	int sign = c < 0x80 ? -1 : 1, m = ~c, exp = (m >> 4) & 7, step = 4 << (exp + 1);

	m &= 0x0f;
	return sign * ((0x80 << exp) + step * m + step / 2 - 4 * 33);
}

static int ref_alaw_dec(uint8_t c)
{
	int ix = (c ^ 0x55) & 0x7f, iexp = ix >> 4, mant = ix & 0x0f;

	if (iexp > 0)
		mant += 16;
	mant = (mant << 4) + 8;
	if (iexp > 1)
		mant <<= iexp - 1;
	return c > 127 ? mant : -mant;
}

TEST(test_g711_known_values)
{
	/* G.711 Table 5 / 6: the digital milliwatt (1 kHz at 0 dBm0). */
	static const uint8_t dmw_u[8] = {0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e};
	static const uint8_t dmw_a[8] = {0x34, 0x21, 0x21, 0x34, 0xb4, 0xa1, 0xa1, 0xb4};
	int err = 0;

	TEST_EQUALS(0xff, g711_ulaw_encode(0));
	TEST_EQUALS(0x7f, g711_ulaw_encode(-1));
	TEST_EQUALS(0x80, g711_ulaw_encode(32767));
	TEST_EQUALS(0x00, g711_ulaw_encode(-32768));
	TEST_EQUALS(0, g711_ulaw_decode(0xff));
	TEST_EQUALS(0, g711_ulaw_decode(0x7f));
	TEST_EQUALS(32124, g711_ulaw_decode(0x80));
	TEST_EQUALS(-32124, g711_ulaw_decode(0x00));

	TEST_EQUALS(0xd5, g711_alaw_encode(0));
	TEST_EQUALS(0x55, g711_alaw_encode(-1));
	TEST_EQUALS(0xaa, g711_alaw_encode(32767));
	TEST_EQUALS(0x2a, g711_alaw_encode(-32768));
	TEST_EQUALS(8, g711_alaw_decode(0xd5));
	TEST_EQUALS(-8, g711_alaw_decode(0x55));
	TEST_EQUALS(32256, g711_alaw_decode(0xaa));
	TEST_EQUALS(-32256, g711_alaw_decode(0x2a));

	/* The milliwatt decodes to a symmetric sine: the two halves mirror,
	 * peaks at sin(67.5°) / sin(22.5°) of each other, and the codes
	 * survive a round trip. */
	for (int i = 0; i < 4; i++) {
		TEST_EQUALS(-g711_ulaw_decode(dmw_u[i]), g711_ulaw_decode(dmw_u[i + 4]));
		TEST_EQUALS(-g711_alaw_decode(dmw_a[i]), g711_alaw_decode(dmw_a[i + 4]));
	}
	TEST_EQUALS(8828, g711_ulaw_decode(0x9e));
	TEST_EQUALS(20860, g711_ulaw_decode(0x8b));
	TEST_EQUALS(8960, g711_alaw_decode(0xb4));
	TEST_EQUALS(20992, g711_alaw_decode(0xa1));
	for (int i = 0; i < 8; i++) {
		TEST_EQUALS(dmw_u[i], g711_ulaw_encode(g711_ulaw_decode(dmw_u[i])));
		TEST_EQUALS(dmw_a[i], g711_alaw_encode(g711_alaw_decode(dmw_a[i])));
	}
out:
	return err;
}

TEST(test_g711_reference)
{
	int err = 0;

	for (int x = -32768; x <= 32767; x++) {
		TEST_EQUALS(ref_ulaw((int16_t)x), g711_ulaw_encode((int16_t)x));
		TEST_EQUALS(ref_alaw((int16_t)x), g711_alaw_encode((int16_t)x));
	}
	for (int c = 0; c < 256; c++) {
		TEST_EQUALS(ref_ulaw_dec((uint8_t)c), g711_ulaw_decode((uint8_t)c));
		TEST_EQUALS(ref_alaw_dec((uint8_t)c), g711_alaw_decode((uint8_t)c));
		/* Every code is a fixed point of decode-then-encode, but μ-law's
		 * negative zero (0x7F), which comes back as 0xFF. */
		TEST_EQUALS(c == 0x7f ? 0xff : c, g711_ulaw_encode(g711_ulaw_decode((uint8_t)c)));
		TEST_EQUALS(c, g711_alaw_encode(g711_alaw_decode((uint8_t)c)));
	}
out:
	return err;
}

TEST(test_g711_monotonic)
{
	int err = 0;
	int prev_u = g711_ulaw_decode(g711_ulaw_encode(-32768));
	int prev_a = g711_alaw_decode(g711_alaw_encode(-32768));

	/* Companding never reverses order, and the error stays within half
	 * the largest step (1024 in both laws) plus what clipping costs. */
	for (int x = -32767; x <= 32767; x++) {
		int u = g711_ulaw_decode(g711_ulaw_encode((int16_t)x));
		int a = g711_alaw_decode(g711_alaw_encode((int16_t)x));

		TEST_ASSERT(u >= prev_u);
		TEST_ASSERT(a >= prev_a);
		TEST_ASSERT(u - x <= 1024 && x - u <= 1024);
		TEST_ASSERT(a - x <= 1024 && x - a <= 1024);
		prev_u = u;
		prev_a = a;
	}
out:
	return err;
}

TEST(test_g711_buffers)
{
	static const int16_t pcm[6] = {0, -1, 1000, -1000, 32767, -32768};
	uint8_t u[6], a[6];
	int16_t back[6];
	int err = 0;

	g711_ulaw_encode_buf(u, pcm, 6);
	g711_alaw_encode_buf(a, pcm, 6);
	for (int i = 0; i < 6; i++) {
		TEST_EQUALS(g711_ulaw_encode(pcm[i]), u[i]);
		TEST_EQUALS(g711_alaw_encode(pcm[i]), a[i]);
	}
	g711_ulaw_decode_buf(back, u, 6);
	for (int i = 0; i < 6; i++)
		TEST_EQUALS(g711_ulaw_decode(u[i]), back[i]);
	g711_alaw_decode_buf(back, a, 6);
	for (int i = 0; i < 6; i++)
		TEST_EQUALS(g711_alaw_decode(a[i]), back[i]);
	g711_ulaw_decode_buf(back, u, 0); /* nothing, no crash */
out:
	return err;
}
