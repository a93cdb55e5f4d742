/*
 * resample: sample-rate conversion of 16-bit mono audio, over the speexdsp
 * resampler, chiefly to turn prompt files of any rate into the 8000 Hz mono
 * 16-bit the call legs play.
 *
 * struct resample converts a stream in pieces; resample_wav() does a whole
 * parsed WAVE file at once (decoding G.711 or 8-bit PCM and mixing stereo
 * down first). Rates are bounded (RESAMPLE_RATE_MIN..MAX) so that an
 * untrusted file cannot make the output more than 48 times its input.
 *
 * NOTE: speexdsp allocates its filter state with its own allocator, so
 * only this module's allocations go through base/mem.h (and --oom). A
 * converter belongs to one thread at a time. Not a mixer or a codec.
 */
#ifndef MEDIA_RESAMPLE_H
#define MEDIA_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "media/wav.h"

#define RESAMPLE_RATE_MIN	4000
#define RESAMPLE_RATE_MAX	192000
#define RESAMPLE_PROMPT_RATE	8000
/* speexdsp quality 0..10; prompts are converted once, so favour quality. */
#define RESAMPLE_QUALITY_PROMPT 8

struct resample;

/*
 * A mono converter from @in_rate to @out_rate (each within
 * RESAMPLE_RATE_MIN..MAX) at @quality 0..10. 0, -EINVAL or -ENOMEM; the
 * caller owns *@rp and frees it with resample_free().
 */
int resample_alloc(struct resample **rp, uint32_t in_rate, uint32_t out_rate, int quality);
void resample_free(struct resample *r);

/*
 * Convert up to *@in_n samples of @in into at most *@out_n samples at @out;
 * on return *@in_n and *@out_n hold the samples consumed and produced. A
 * NULL @in feeds *@in_n zeros, which drains the filter at the end of a
 * stream. The first samples out are the filter's delay unless
 * resample_skip_delay() was called first. 0 or -EINVAL.
 */
int resample_process(struct resample *r, const int16_t *in, size_t *in_n, int16_t *out,
		     size_t *out_n);

/* Drop the filter's delay from the start of the output. */
void resample_skip_delay(struct resample *r);

/* Input samples it takes to push the last real sample out: feed that many zeros at the end. */
size_t resample_delay(const struct resample *r);

/*
 * The whole of @wi (from wav_parse(), any codec, stereo mixed down) as
 * 16-bit mono at @out_rate, aligned with the input (no leading delay) and
 * about frames * out_rate / rate samples long. On success *@outp is a
 * mem_alloc() buffer the caller frees with mem_free() (NULL when there are
 * no samples) and *@np its samples. 0, -EINVAL, -ENOTSUP (a rate outside
 * RESAMPLE_RATE_MIN..MAX) or -ENOMEM; nothing is written on failure.
 */
int resample_wav(int16_t **outp, size_t *np, const struct wav_info *wi, uint32_t out_rate);

#endif
