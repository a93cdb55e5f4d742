/*
 * tts: espeak-ng behind a mutex, and the cache in front of it.
 *
 * espeak-ng is driven in AUDIO_OUTPUT_SYNCHRONOUS mode: espeak_Synth()
 * returns once the whole text is spoken, having handed the samples to our
 * callback piece by piece. Its state (initialisation, current voice, the
 * callback) is process-wide, hence the one lock around all of it; the
 * library is initialised once, on the first synthesis, and never
 * terminated (it holds no descriptors, and tearing it down under other
 * users would be worse than the memory it keeps).
 */
#define LOG_MODULE "tts"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <espeak-ng/speak_lib.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "media/media_internal.h"
#include "media/prompt.h"
#include "media/resample.h"
#include "media/tts.h"
#include "media/wav.h"

/* Part of every cache key: change it when the synthesis settings change,
 * so old renders are not served for new settings. */
#define CACHE_TAG  "shenggu-tts/1 espeak-ng rate=160 out=8000"
#define SPEECH_WPM 160 /* a little slower than espeak's 175: phone lines, all callers */

struct tts {
	char *dir;
	uint64_t synthesized, cached; /* updated atomically */
};

/* espeak-ng's process-wide state, and its sample rate once initialised
 * (0: not yet, < 0: initialisation failed, not retried). */
static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_rate;

/* Samples from the callback: little-endian bytes, so the buffer is a WAVE
 * data chunk that resample_wav() reads whatever the host's byte order. */
struct synth {
	uint8_t *buf;
	size_t len, cap, max;
	int err;
};

static int mkdirs(const char *path)
{
	char p[4096];
	size_t len = strlen(path);

	if (!len || len >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, len + 1);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0750) && errno != EEXIST)
				return -errno;
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int tts_alloc(struct tts **ttsp, const char *cache_dir)
{
	struct tts *t;
	size_t len;
	int err;

	if (!ttsp || !cache_dir || !*cache_dir)
		return -EINVAL;
	err = mkdirs(cache_dir);
	if (err)
		return err;
	len = strlen(cache_dir);
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->dir = mem_alloc(len + 1);
	if (!t->dir) {
		mem_free(t);
		return -ENOMEM;
	}
	memcpy(t->dir, cache_dir, len + 1);
	*ttsp = t;
	return 0;
}

struct tts *tts_free(struct tts *tts)
{
	if (tts) {
		mem_free(tts->dir);
		mem_free(tts);
	}
	return NULL;
}

void tts_stats_get(const struct tts *tts, struct tts_stats *st)
{
	if (!tts || !st)
		return;
	st->synthesized = __atomic_load_n(&tts->synthesized, __ATOMIC_RELAXED);
	st->cached = __atomic_load_n(&tts->cached, __ATOMIC_RELAXED);
}

static bool voice_ok(const char *v)
{
	size_t n = 0;

	if (!v)
		return false;
	for (; v[n]; n++) {
		char c = v[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '+' ||
		      c == '_'))
			return false;
	}
	return n > 0 && n <= TTS_VOICE_MAX;
}

static bool text_ok(const char *t)
{
	size_t n = 0;

	if (!t)
		return false;
	for (; t[n]; n++) {
		if ((unsigned char)t[n] < 0x20 || t[n] == 0x7f)
			return false;
	}
	return n > 0 && n <= TTS_TEXT_MAX;
}

int tts_cache_path(const struct tts *tts, const char *voice, const char *text, char *buf,
		   size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char name[2 * 32 + 1];
	size_t lt, lv, lx, n;
	char *key;
	int w;

	if (!tts || !voice_ok(voice) || !text_ok(text) || !buf)
		return -EINVAL;
	lt = strlen(CACHE_TAG);
	lv = strlen(voice);
	lx = strlen(text);
	n = lt + 1 + lv + 1 + lx;
	key = mem_alloc(n);
	if (!key)
		return -ENOMEM;
	/* "tag \n voice \n text": neither the tag nor a voice holds a newline,
	 * so no two (voice, text) pairs give the same key. */
	memcpy(key, CACHE_TAG "\n", lt + 1);
	memcpy(key + lt + 1, voice, lv);
	key[lt + 1 + lv] = '\n';
	memcpy(key + lt + 2 + lv, text, lx);
	w = EVP_Digest(key, n, md, &mdlen, EVP_sha256(), NULL);
	mem_free(key);
	if (!w || mdlen != 32)
		return -EIO;
	for (unsigned i = 0; i < 32; i++) {
		name[2 * i] = hex[md[i] >> 4];
		name[2 * i + 1] = hex[md[i] & 15];
	}
	name[64] = '\0';
	w = snprintf(buf, size, "%s/%s.wav", tts->dir, name);
	return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
}

static int synth_cb(short *wav, int n, espeak_EVENT *events)
{
	struct synth *s = events ? events->user_data : NULL;

	if (!s || s->err)
		return 1;
	if (!wav || n <= 0)
		return 0;
	if (s->len + 2 * (size_t)n > s->max) {
		s->err = -EFBIG;
		return 1;
	}
	if (s->len + 2 * (size_t)n > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		uint8_t *nb;

		while (cap < s->len + 2 * (size_t)n)
			cap *= 2;
		nb = mem_realloc(s->buf, cap);
		if (!nb) {
			s->err = -ENOMEM;
			return 1; /* abort the synthesis */
		}
		s->buf = nb;
		s->cap = cap;
	}
	for (int i = 0; i < n; i++)
		put_le16(s->buf + s->len + 2 * (size_t)i, (uint16_t)wav[i]);
	s->len += 2 * (size_t)n;
	return 0;
}

/* With espeak_lock held. */
static int espeak_init_locked(void)
{
	if (!espeak_rate) {
		/* DONT_EXIT: a missing data folder must be an error, not exit(). */
		int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL,
					     espeakINITIALIZE_DONT_EXIT);

		espeak_rate = rate >= RESAMPLE_RATE_MIN && rate <= RESAMPLE_RATE_MAX ? rate : -1;
		if (espeak_rate < 0)
			log_error("espeak-ng failed to initialise (is espeak-ng-data installed?)");
		else
			espeak_SetSynthCallback(synth_cb);
	}
	return espeak_rate > 0 ? 0 : -EIO;
}

int tts_warm(struct tts *tts)
{
	int err;

	if (!tts)
		return -EINVAL;
	pthread_mutex_lock(&espeak_lock);
	err = espeak_init_locked();
	pthread_mutex_unlock(&espeak_lock);
	return err;
}

/* Speak @text into @s at espeak_rate; with espeak_lock held. */
static int synthesize_locked(const char *voice, const char *text, struct synth *s)
{
	espeak_ERROR e;
	int err = espeak_init_locked();

	if (err)
		return err;
	e = espeak_SetVoiceByName(voice);
	if (e == EE_NOT_FOUND)
		return -ENOENT;
	if (e != EE_OK)
		return -EIO;
	espeak_SetParameter(espeakRATE, SPEECH_WPM, 0);
	s->max = (size_t)TTS_SECONDS_MAX * (size_t)espeak_rate * 2;
	e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, s);
	if (s->err)
		return s->err;
	if (e != EE_OK)
		return -EIO;
	return espeak_Synchronize() == EE_OK ? 0 : -EIO;
}

int tts_render(struct tts *tts, const char *voice, const char *text, int16_t **pcmp, size_t *np)
{
	struct synth s = {0};
	struct wav_info wi;
	int16_t *pcm = NULL;
	size_t n = 0;
	char path[4096];
	int err, e, rate = 0;

	if (!pcmp || !np)
		return -EINVAL;
	err = tts_cache_path(tts, voice, text, path, sizeof(path));
	if (err)
		return err;
	err = prompt_load_file(path, pcmp, np);
	if (!err) {
		__atomic_fetch_add(&tts->cached, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (err == -ENOMEM)
		return err;
	pthread_mutex_lock(&espeak_lock);
	/* Another thread may have rendered it while we waited for the lock. */
	if (err == -ENOENT && !prompt_load_file(path, pcmp, np)) {
		pthread_mutex_unlock(&espeak_lock);
		__atomic_fetch_add(&tts->cached, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (err != -ENOENT)
		log_warn("cached prompt %s unusable (%d), rendering it again", path, err);
	err = synthesize_locked(voice, text, &s);
	rate = espeak_rate;
	pthread_mutex_unlock(&espeak_lock);
	if (err)
		goto out;
	if (!s.len) {
		err = -EIO; /* espeak-ng said nothing: nothing worth caching either */
		goto out;
	}
	wi = (struct wav_info){
	    .codec = WAV_PCM16,
	    .channels = 1,
	    .rate = (uint32_t)rate,
	    .bits = 16,
	    .block_align = 2,
	    .data = s.buf,
	    .data_len = s.len,
	    .frames = s.len / 2,
	};
	err = resample_wav(&pcm, &n, &wi, PROMPT_RATE);
	if (err)
		goto out;
	__atomic_fetch_add(&tts->synthesized, 1, __ATOMIC_RELAXED);
	/* The cache is an optimisation: a failure to write it costs a render
	 * next time, not this prompt. */
	e = prompt_save_file(path, pcm, n);
	if (e)
		log_warn("cannot cache prompt %s: %s", path, err_str(e));
	*pcmp = pcm;
	*np = n;
out:
	mem_free(s.buf);
	return err;
}
