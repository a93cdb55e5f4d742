/*
 * prompt: audio prompts as the call legs play them, 8000 Hz mono 16-bit
 * PCM: loading a prompt file of any common WAVE format and rate (uploaded
 * by a tenant, or made by tts.h and moh.h), and saving one atomically.
 *
 * Blocking file I/O: run it where disk access is allowed (a worker of the
 * pool, start-up), never on an event loop. No state; any thread.
 *
 * Not a player: pacing samples into RTP is the media engine's job.
 */
#ifndef MEDIA_PROMPT_H
#define MEDIA_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#define PROMPT_RATE	8000
#define PROMPT_FILE_MAX (64u << 20) /* bytes: some 35 minutes of 16-bit 16 kHz */

/*
 * Read the WAVE file at @path (PCM 16/8-bit, μ-law or A-law, mono or
 * stereo, RESAMPLE_RATE_MIN..MAX Hz; see wav.h) and convert it to
 * PROMPT_RATE mono. On success *@pcmp is a mem_alloc() buffer the caller
 * frees with mem_free() (NULL when the file has no samples) and *@np its
 * samples. -ENOENT/-EACCES/... from opening it, -EFBIG (larger than
 * PROMPT_FILE_MAX), -EBADMSG (not a WAVE file), -ENOTSUP (a format or rate
 * not listed), -ENOMEM.
 */
int prompt_load_file(const char *path, int16_t **pcmp, size_t *np);

/*
 * Write @n samples at PROMPT_RATE mono as a 16-bit PCM WAVE file at @path,
 * atomically: a temporary file in the same folder, fsync, rename over
 * @path, fsync of the folder. A reader sees the old file or the whole new
 * one, never a part; a crash leaves at most a "*.tmp.*" file behind.
 * 0 or -errno.
 */
int prompt_save_file(const char *path, const int16_t *pcm, size_t n);

#endif
