/*
 * resample: the speexdsp resampler behind resample.h. speexdsp is a
 * well-kept, Debian-packaged polyphase resampler with good stop-band
 * rejection; this file only adapts its lengths (32-bit) and errors to ours
 * and adds the whole-file conversion used for prompts.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <speex/speex_resampler.h>

#include "base/mem.h"
#include "media/g711.h"
#include "media/media_internal.h"
#include "media/resample.h"

struct resample {
	SpeexResamplerState *st;
};

/* speexdsp takes 32-bit lengths: longer requests go in pieces. */
#define CHUNK_MAX (1u << 20)

static const int16_t zeros[256];

static bool rate_ok(uint32_t rate)
{
	return rate >= RESAMPLE_RATE_MIN && rate <= RESAMPLE_RATE_MAX;
}

int resample_alloc(struct resample **rp, uint32_t in_rate, uint32_t out_rate, int quality)
{
	struct resample *r;
	int serr = 0;

	if (!rp || !rate_ok(in_rate) || !rate_ok(out_rate) || quality < 0 || quality > 10)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->st = speex_resampler_init(1, in_rate, out_rate, quality, &serr);
	if (!r->st) {
		mem_free(r);
		return serr == RESAMPLER_ERR_ALLOC_FAILED ? -ENOMEM : -EINVAL;
	}
	*rp = r;
	return 0;
}

void resample_free(struct resample *r)
{
	if (!r)
		return;
	speex_resampler_destroy(r->st);
	mem_free(r);
}

int resample_process(struct resample *r, const int16_t *in, size_t *in_n, int16_t *out,
		     size_t *out_n)
{
	size_t in_left, out_left, used = 0, made = 0;

	if (!r || !in_n || !out_n || !out)
		return -EINVAL;
	in_left = *in_n;
	out_left = *out_n;
	while (in_left && out_left) {
		spx_uint32_t il = in_left < CHUNK_MAX ? (spx_uint32_t)in_left : CHUNK_MAX;
		spx_uint32_t ol = out_left < CHUNK_MAX ? (spx_uint32_t)out_left : CHUNK_MAX;
		const int16_t *src = in ? in + used : zeros;

		/* Zeros come from a fixed buffer, one buffer's worth at a time. */
		if (!in && il > sizeof(zeros) / sizeof(zeros[0]))
			il = sizeof(zeros) / sizeof(zeros[0]);
		if (speex_resampler_process_int(r->st, 0, src, &il, out + made, &ol))
			return -EINVAL;
		if (!il && !ol)
			break; /* nothing moves: the output is full for this input */
		used += il;
		made += ol;
		in_left -= il;
		out_left -= ol;
	}
	*in_n = used;
	*out_n = made;
	return 0;
}

void resample_skip_delay(struct resample *r)
{
	speex_resampler_skip_zeros(r->st);
}

size_t resample_delay(const struct resample *r)
{
	int n = speex_resampler_get_input_latency(r->st);

	return n > 0 ? (size_t)n : 0;
}

/* Frame @i of @wi as one mono sample (the mean of the channels). */
static int16_t frame_mono(const struct wav_info *wi, size_t i)
{
	const uint8_t *p = wi->data + i * wi->block_align;
	int32_t sum = 0;

	for (unsigned c = 0; c < wi->channels; c++) {
		switch (wi->codec) {
		case WAV_PCM16:
			sum += (int16_t)get_le16(p + 2 * c);
			break;
		case WAV_PCM8:
			sum += ((int32_t)p[c] - 128) * 256;
			break;
		case WAV_ULAW:
			sum += g711_ulaw_decode(p[c]);
			break;
		case WAV_ALAW:
			sum += g711_alaw_decode(p[c]);
			break;
		}
	}
	return (int16_t)(sum / wi->channels);
}

static bool wav_info_ok(const struct wav_info *wi)
{
	unsigned size = wi->codec == WAV_PCM16 ? 2 : 1;

	if (wi->codec < WAV_PCM16 || wi->codec > WAV_ALAW)
		return false;
	if (wi->channels < 1 || wi->channels > 2 || wi->block_align != wi->channels * size)
		return false;
	if (wi->frames > wi->data_len / wi->block_align || (wi->frames && !wi->data))
		return false;
	return true;
}

int resample_wav(int16_t **outp, size_t *np, const struct wav_info *wi, uint32_t out_rate)
{
	int16_t *mono = NULL, *out = NULL;
	struct resample *r = NULL;
	size_t n = wi ? wi->frames : 0, cap, made = 0, in_n, out_n, tail;
	int err;

	if (!outp || !np || !wi || !wav_info_ok(wi) || !rate_ok(out_rate))
		return -EINVAL;
	if (!rate_ok(wi->rate))
		return -ENOTSUP;
	if (n == 0) {
		*outp = NULL;
		*np = 0;
		return 0;
	}
	if (n > SIZE_MAX / sizeof(*mono))
		return -ENOMEM;
	mono = mem_alloc(n * sizeof(*mono));
	if (!mono)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		mono[i] = frame_mono(wi, i);
	if (wi->rate == out_rate) {
		*outp = mono;
		*np = n;
		return 0;
	}

	/* Rounded up; the rates' bounds keep this within 48 times n. */
	cap = (size_t)(((uint64_t)n * out_rate + wi->rate - 1) / wi->rate);
	if (cap > SIZE_MAX / sizeof(*out)) {
		err = -ENOMEM;
		goto out;
	}
	out = mem_alloc(cap * sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	err = resample_alloc(&r, wi->rate, out_rate, RESAMPLE_QUALITY_PROMPT);
	if (err)
		goto out;
	resample_skip_delay(r);
	in_n = n;
	out_n = cap;
	err = resample_process(r, mono, &in_n, out, &out_n);
	if (err)
		goto out;
	made = out_n;
	/* Push the last samples through the filter's delay with zeros. */
	tail = resample_delay(r);
	while (tail && made < cap) {
		in_n = tail;
		out_n = cap - made;
		err = resample_process(r, NULL, &in_n, out + made, &out_n);
		if (err)
			goto out;
		if (!in_n)
			break;
		tail -= in_n;
		made += out_n;
	}
out:
	resample_free(r);
	mem_free(mono);
	if (err) {
		mem_free(out);
		return err;
	}
	*outp = out;
	*np = made;
	return 0;
}
