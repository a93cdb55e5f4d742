/*
 * Unit tests for resample.h: prompt conversion of tones at common rates to
 * 8 kHz (a tone below 4 kHz keeps its level and phase, one above it is
 * filtered out), every codec and stereo mixdown, the bounds on rates, and
 * the streaming converter fed in odd-sized pieces. Tones come from a
 * Taylor-series sine so that the tests need no libm.
 */
#include "base/mem.h"
#include "media/g711.h"
#include "media/resample.h"
#include "test.h"

#define PI 3.14159265358979323846

static double tsin(double x)
{
	double term, sum;

	/* Reduce to [-pi, pi], where 12 terms are accurate to 1e-9. */
	while (x > PI)
		x -= 2 * PI;
	while (x < -PI)
		x += 2 * PI;
	term = sum = x;
	for (int k = 1; k < 12; k++) {
		term *= -x * x / ((2 * k) * (2 * k + 1));
		sum += term;
	}
	return sum;
}

static int16_t tone(double hz, uint32_t rate, size_t i, double amp)
{
	return (int16_t)(amp * tsin(2 * PI * hz * (double)i / rate));
}

/* A PCM16 file's data of @n frames, @ch channels, tone @hz at @rate. */
static uint8_t pcm[2 * 2 * 44100 / 4];

static void make_pcm16(struct wav_info *wi, uint32_t rate, uint16_t ch, size_t n, double hz)
{
	for (size_t i = 0; i < n; i++) {
		int16_t s = tone(hz, rate, i, 16000);

		for (unsigned c = 0; c < ch; c++) {
			pcm[(i * ch + c) * 2] = (uint8_t)s;
			pcm[(i * ch + c) * 2 + 1] = (uint8_t)((uint16_t)s >> 8);
		}
	}
	*wi = (struct wav_info){.codec = WAV_PCM16,
				.channels = ch,
				.rate = rate,
				.bits = 16,
				.block_align = (uint16_t)(2 * ch),
				.data = pcm,
				.data_len = n * 2 * ch,
				.frames = n};
}

/* Root mean square of @p[from..to). */
static double rms(const int16_t *p, size_t from, size_t to)
{
	double sum = 0, m, r;

	for (size_t i = from; i < to; i++)
		sum += (double)p[i] * p[i];
	/* sqrt without libm: Newton steps from a fair start. */
	m = sum / (double)(to - from);
	r = m > 1 ? m / 2 : 1;
	for (int k = 0; k < 60; k++)
		r = (r + m / r) / 2;
	return r;
}

TEST(test_resample_tone)
{
	static const uint32_t rates[] = {16000, 11025, 22050, 44100, 48000};
	int16_t *out = NULL;
	struct wav_info wi;
	size_t n = 0;
	int err = 0;

	for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		size_t frames = rates[k] / 4; /* 250 ms */
		double e = 0;

		make_pcm16(&wi, rates[k], 1, frames, 1000);
		err = resample_wav(&out, &n, &wi, RESAMPLE_PROMPT_RATE);
		TEST_ERR(err);
		/* 2000 samples at 8 kHz, give or take the filter's rounding. */
		TEST_ASSERT(n >= 1995 && n <= 2000);
		/* In phase with the input (no leading delay) and at its level:
		 * compare with the ideal 1 kHz tone away from the edges. */
		for (size_t i = 100; i < 1900; i++) {
			double d = out[i] - 16000 * tsin(2 * PI * 1000 * (double)i / 8000);

			e += d * d;
		}
		e /= 1800;
		/* Error power below -40 dB of the tone (16000^2 / 2). */
		TEST_ASSERT(e < 1.28e8 / 10000);
		mem_free(out);
		out = NULL;
	}
out:
	mem_free(out);
	return err;
}

TEST(test_resample_filters)
{
	int16_t *out = NULL;
	struct wav_info wi;
	size_t n = 0;
	int err = 0;
	double level;

	/* Stereo 44.1 kHz, 3 kHz: below the new Nyquist frequency, kept. */
	make_pcm16(&wi, 44100, 2, 44100 / 4, 3000);
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	level = rms(out, 100, n - 100);
	TEST_ASSERT(level > 16000 * 0.707 * 0.9 && level < 16000 * 0.707 * 1.1);
	mem_free(out);
	out = NULL;

	/* 6 kHz would alias to 2 kHz at 8 kHz: the filter removes it. */
	make_pcm16(&wi, 44100, 2, 44100 / 4, 6000);
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	level = rms(out, 100, n - 100);
	TEST_ASSERT(level < 16000 * 0.707 / 100); /* -40 dB */
out:
	mem_free(out);
	return err;
}

TEST(test_resample_codecs)
{
	static const uint8_t ulaw[4] = {0x1e, 0x0b, 0x9e, 0x8b};
	static const uint8_t pcm8[4] = {128, 255, 0, 129};
	/* Stereo A-law: frames (+8, -8) and (+32256, +32256). */
	static const uint8_t alaw[4] = {0xd5, 0x55, 0xaa, 0xaa};
	struct wav_info wi = {.codec = WAV_ULAW,
			      .channels = 1,
			      .rate = 8000,
			      .bits = 8,
			      .block_align = 1,
			      .data = ulaw,
			      .data_len = 4,
			      .frames = 4};
	int16_t *out = NULL;
	size_t n = 0;
	int err = 0;

	/* 8 kHz mono is decoded, not filtered. */
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	TEST_EQUALS(4, n);
	for (int i = 0; i < 4; i++)
		TEST_EQUALS(g711_ulaw_decode(ulaw[i]), out[i]);
	mem_free(out);
	out = NULL;

	wi.codec = WAV_PCM8;
	wi.data = pcm8;
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	TEST_EQUALS(0, out[0]);
	TEST_EQUALS(127 * 256, out[1]);
	TEST_EQUALS(-128 * 256, out[2]);
	TEST_EQUALS(256, out[3]);
	mem_free(out);
	out = NULL;

	wi.codec = WAV_ALAW;
	wi.channels = 2;
	wi.block_align = 2;
	wi.frames = 2;
	wi.data = alaw;
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	TEST_EQUALS(2, n);
	TEST_EQUALS(0, out[0]);
	TEST_EQUALS(32256, out[1]);
	mem_free(out);
	out = NULL;

	/* No samples: no buffer. */
	wi.frames = 0;
	wi.data_len = 0;
	n = 7;
	err = resample_wav(&out, &n, &wi, 8000);
	TEST_ERR(err);
	TEST_ASSERT(out == NULL && n == 0);

	/* Rates outside the bounds. */
	wi.frames = 2;
	wi.data_len = 4;
	wi.rate = 3999;
	TEST_EQUALS(-ENOTSUP, resample_wav(&out, &n, &wi, 8000));
	wi.rate = 192001;
	TEST_EQUALS(-ENOTSUP, resample_wav(&out, &n, &wi, 8000));
	wi.rate = 8000;
	TEST_EQUALS(-EINVAL, resample_wav(&out, &n, &wi, 0));
	wi.block_align = 4; /* inconsistent with A-law stereo */
	TEST_EQUALS(-EINVAL, resample_wav(&out, &n, &wi, 8000));
	TEST_ASSERT(out == NULL);
out:
	mem_free(out);
	return err;
}

TEST(test_resample_stream)
{
	static int16_t in[16000], outbuf[8000 + 64];
	struct resample *r = NULL;
	size_t made = 0, used = 0, tail;
	int err = 0;

	for (size_t i = 0; i < 16000; i++)
		in[i] = tone(440, 16000, i, 8000);
	err = resample_alloc(&r, 16000, 8000, 3);
	TEST_ERR(err);
	resample_skip_delay(r);
	/* Odd-sized pieces, as packets come. */
	while (used < 16000) {
		size_t in_n = 16000 - used < 37 ? 16000 - used : 37;
		size_t out_n = sizeof(outbuf) / sizeof(outbuf[0]) - made;

		TEST_ERR(resample_process(r, in + used, &in_n, outbuf + made, &out_n));
		TEST_ASSERT(in_n > 0);
		used += in_n;
		made += out_n;
	}
	tail = resample_delay(r);
	TEST_ASSERT(tail > 0);
	{
		size_t in_n = tail, out_n = sizeof(outbuf) / sizeof(outbuf[0]) - made;

		TEST_ERR(resample_process(r, NULL, &in_n, outbuf + made, &out_n));
		TEST_EQUALS(tail, in_n);
		made += out_n;
	}
	TEST_ASSERT(made >= 7995 && made <= 8001);

	TEST_EQUALS(-EINVAL, resample_alloc(&r, 16000, 8000, 11)); /* r untouched */
	TEST_EQUALS(-EINVAL, resample_alloc(&r, 1000, 8000, 3));
out:
	resample_free(r);
	return err;
}
