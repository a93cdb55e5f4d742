/*
 * Unit tests for prompt.h and moh.h: WAVE prompts at 16 kHz, 44.1 kHz
 * (stereo) and 8 kHz μ-law load as 8 kHz mono of the right length and
 * pitch; missing, foreign and folder paths are refused; saving is atomic
 * and round-trips. The music on hold is non-silent throughout, bounded in
 * level, deterministic, and continuous across the loop point.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/mem.h"
#include "media/g711.h"
#include "media/moh.h"
#include "media/prompt.h"
#include "test.h"

#define PI 3.14159265358979323846

/* Taylor sine, as test_resample.c: no libm in the tests. */
static double tsin(double x)
{
	double term, sum;

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

static void le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

/* A WAVE file of @secs of a 440 Hz tone: PCM16 (or μ-law when @ulaw). */
static int write_tone(const char *path, uint32_t rate, uint16_t ch, bool ulaw, double secs)
{
	size_t frames = (size_t)(rate * secs), bps = ulaw ? 1 : 2;
	size_t data = frames * ch * bps, len = 44 + data;
	uint8_t *buf = malloc(len);
	FILE *f;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, "RIFF", 4);
	le32(buf + 4, (uint32_t)(len - 8));
	memcpy(buf + 8, "WAVEfmt ", 8);
	le32(buf + 16, 16);
	le16(buf + 20, ulaw ? 7 : 1);
	le16(buf + 22, ch);
	le32(buf + 24, rate);
	le32(buf + 28, (uint32_t)(rate * ch * bps));
	le16(buf + 32, (unsigned)(ch * bps));
	le16(buf + 34, (unsigned)(8 * bps));
	memcpy(buf + 36, "data", 4);
	le32(buf + 40, (uint32_t)data);
	for (size_t i = 0; i < frames; i++) {
		int16_t s = (int16_t)(12000 * tsin(2 * PI * 440 * (double)i / rate));

		for (unsigned c = 0; c < ch; c++) {
			uint8_t *p = buf + 44 + (i * ch + c) * bps;

			if (ulaw)
				*p = g711_ulaw_encode(s);
			else
				le16(p, (uint16_t)s);
		}
	}
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len)
		err = -EIO;
	if (f)
		fclose(f);
	free(buf);
	return err;
}

/* Upward zero crossings in the middle part: cycles of the tone. */
static size_t cycles(const int16_t *p, size_t from, size_t to)
{
	size_t c = 0;

	for (size_t i = from + 1; i < to; i++)
		c += p[i - 1] < 0 && p[i] >= 0;
	return c;
}

static void rm_dir(const char *dir)
{
	char p[512];
	DIR *d = opendir(dir);

	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

TEST(test_prompt_load_rates)
{
	static const struct {
		uint32_t rate;
		uint16_t ch;
		bool ulaw;
	} cases[] = {{16000, 1, false}, {44100, 2, false}, {8000, 1, true}, {48000, 1, false}};
	char dir[] = "/tmp/shenggu-prompt-XXXXXX", path[128];
	int16_t *pcm = NULL;
	size_t n = 0;
	int err = 0;

	TEST_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tone.wav", dir);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		TEST_ERR(write_tone(path, cases[k].rate, cases[k].ch, cases[k].ulaw, 1.0));
		TEST_ERR(prompt_load_file(path, &pcm, &n));
		/* One second at 8 kHz, a few samples either way for the filter. */
		TEST_ASSERT(n >= 7990 && n <= 8010);
		/* 440 Hz kept: 440 cycles a second, measured over 0.5 s. */
		TEST_ASSERT(cycles(pcm, 2000, 6000) >= 218 && cycles(pcm, 2000, 6000) <= 222);
		pcm = (mem_free(pcm), NULL);
	}
	/* What is not a prompt file. */
	TEST_EQUALS(-ENOENT, prompt_load_file("/nonexistent/x.wav", &pcm, &n));
	TEST_EQUALS(-EINVAL, prompt_load_file(dir, &pcm, &n));
	{
		FILE *f = fopen(path, "wb");

		TEST_ASSERT(f);
		fputs("ID3 this is an mp3, really", f);
		fclose(f);
	}
	TEST_EQUALS(-EBADMSG, prompt_load_file(path, &pcm, &n));
	TEST_ASSERT(!pcm);
out:
	mem_free(pcm);
	rm_dir(dir);
	return err;
}

TEST(test_prompt_save_roundtrip)
{
	char dir[] = "/tmp/shenggu-prompt-XXXXXX", path[128];
	int16_t src[1000], *pcm = NULL;
	size_t n = 0, files = 0;
	int err = 0;
	DIR *d = NULL;

	TEST_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.wav", dir);
	for (int i = 0; i < 1000; i++)
		src[i] = (int16_t)(i * 37 - 16000);
	TEST_ERR(prompt_save_file(path, src, 1000));
	TEST_ERR(prompt_save_file(path, src, 1000)); /* replaces */
	TEST_ERR(prompt_load_file(path, &pcm, &n));
	TEST_EQUALS(1000, n);
	TEST_ASSERT(!memcmp(src, pcm, sizeof(src)));
	/* No temporary file left behind. */
	d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		files += e->d_name[0] != '.';
	TEST_EQUALS(1, files);
	TEST_EQUALS(-EINVAL, prompt_save_file(path, NULL, 3));
	TEST_ASSERT(prompt_save_file("/nonexistent/dir/p.wav", src, 10) < 0);
out:
	if (d)
		closedir(d);
	mem_free(pcm);
	rm_dir(dir);
	return err;
}

TEST(test_moh_loop)
{
	int16_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	int err = 0, jump, step = 0, pk = 0;

	TEST_EQUALS(-EINVAL, moh_generate(&a, &na, MOH_SECONDS_MIN - 1));
	TEST_EQUALS(-EINVAL, moh_generate(&a, &na, MOH_SECONDS_MAX + 1));
	TEST_ERR(moh_generate(&a, &na, MOH_SECONDS_DEFAULT));
	TEST_EQUALS(8000 * MOH_SECONDS_DEFAULT, na);
	for (size_t i = 0; i < na; i++) {
		int d = i ? abs(a[i] - a[i - 1]) : 0;

		step = d > step ? d : step;
		pk = abs(a[i]) > pk ? abs(a[i]) : pk;
	}
	/* A modest level: loud enough to hear, never near full scale. */
	TEST_ASSERT(pk < MOH_PEAK_MAX);
	TEST_ASSERT(pk > 4000);
	/* Never silent: every quarter second carries sound. */
	for (size_t w = 0; w + 2000 <= na; w += 2000) {
		double sum = 0;

		for (size_t i = w; i < w + 2000; i++)
			sum += (double)a[i] * a[i];
		if (sum / 2000 < 300.0 * 300.0) {
			test_fail(__FILE__, __LINE__, "quiet at %zu: power %.0f", w, sum / 2000);
			err = -EINVAL;
			goto out;
		}
	}
	/* Seamless: the step from the last sample to the first is no larger
	 * than the steps inside the loop. */
	jump = abs(a[0] - a[na - 1]);
	TEST_ASSERT(jump <= step);
	/* ...and the loop played twice looks the same around the seam as
	 * anywhere: compare the slope there with the slope a sample later. */
	TEST_ASSERT(abs((a[0] - a[na - 1]) - (a[1] - a[0])) <= step / 4 + 64);
	/* Deterministic; and a short loop is seamless too. */
	TEST_ERR(moh_generate(&b, &nb, MOH_SECONDS_DEFAULT));
	TEST_ASSERT(nb == na && !memcmp(a, b, na * sizeof(*a)));
	b = (mem_free(b), NULL);
	TEST_ERR(moh_generate(&b, &nb, MOH_SECONDS_MIN));
	TEST_EQUALS(8000 * MOH_SECONDS_MIN, nb);
	TEST_ASSERT(abs(b[0] - b[nb - 1]) <= step);
out:
	mem_free(a);
	mem_free(b);
	return err;
}
