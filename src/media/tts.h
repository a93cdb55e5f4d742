/*
 * tts: text-to-speech for prompts, over espeak-ng, with a disk cache so
 * each (voice, text) is synthesized once: an IVR says "Welcome to ACME
 * Bank" to every caller, and synthesis costs far more than reading a file.
 *
 * Output is what the call legs play: 8000 Hz mono 16-bit PCM (espeak-ng
 * speaks at its own rate, 22050 Hz, and media/resample.h converts). The
 * cache is a folder, by convention <data>/prompts/cache, of WAVE files
 * named <sha256 of a version tag, the voice and the text>.wav, written
 * atomically (media/prompt.h prompt_save_file), so a crash or two
 * processes rendering the same text can never leave a torn file; a cached
 * file that does not parse is synthesized again.
 *
 * Threads: espeak-ng keeps global state (one voice, one output callback),
 * so every synthesis in the process is serialized by one mutex; a cache
 * hit takes no lock but the file system's. tts_render() blocks for the
 * whole synthesis (tens to hundreds of milliseconds): call it on a worker
 * thread of the pool and answer the event loop by message, never on an
 * event loop thread.
 *
 * Voices: espeak-ng names, "en" (English), "cmn" (Mandarin), "en-us",
 * "yue"... and variants ("en+f3"). Not a player, nor SSML: the text is
 * spoken as plain text.
 */
#ifndef MEDIA_TTS_H
#define MEDIA_TTS_H

#include <stddef.h>
#include <stdint.h>

#define TTS_TEXT_MAX	4096 /* bytes of text, as provisioning allows in a prompt */
#define TTS_VOICE_MAX	40
#define TTS_SECONDS_MAX 600 /* of speech; longer is cut (and not cached) */

struct tts;

struct tts_stats {
	uint64_t synthesized; /* renders that ran espeak-ng */
	uint64_t cached;      /* renders answered from the cache */
};

/*
 * A renderer caching in folder @cache_dir (borrowed for the call: copied),
 * created with its parents (mode 0750) when missing. 0, -EINVAL, -ENOMEM
 * or the errno of mkdir. Freed with tts_free(); shared by any threads.
 */
int tts_alloc(struct tts **ttsp, const char *cache_dir);
struct tts *tts_free(struct tts *tts);

/*
 * Speak @text (UTF-8, 1..TTS_TEXT_MAX bytes, no control characters) in
 * @voice. Blocking, thread-safe. On success *@pcmp is a mem_alloc() buffer
 * of *@np samples at 8000 Hz the caller frees with mem_free(). -EINVAL (bad
 * voice name or text), -ENOENT (espeak-ng has no such voice), -EIO
 * (espeak-ng failed or its data is not installed), -ENOMEM. A cache that
 * cannot be written (disk full) is logged and the audio returned anyway:
 * the cache saves work, the caller still needs the prompt.
 */
int tts_render(struct tts *tts, const char *voice, const char *text, int16_t **pcmp, size_t *np);

/*
 * Start the synthesizer now rather than at the first render: espeak-ng
 * loads its data and starts a thread of its own then, which a server
 * wants at start-up, not in the middle of its first call. Blocking,
 * thread-safe. 0 or -EIO (espeak-ng or its data is missing).
 */
int tts_warm(struct tts *tts);

/* The cache file @voice and @text map to, into @buf. 0, -EINVAL, -ENAMETOOLONG. */
int tts_cache_path(const struct tts *tts, const char *voice, const char *text, char *buf,
		   size_t size);

/* Counters since tts_alloc(). */
void tts_stats_get(const struct tts *tts, struct tts_stats *st);

#endif
