/*
 * Unit tests for tts.h over the real espeak-ng: English and Mandarin speech
 * comes out non-silent and of a plausible length at 8 kHz; the second
 * render of a text is read from the cache (the synthesis counter does not
 * move, the file is not rewritten); a deleted or corrupted cache file is
 * rendered again; bad voices and texts are refused. Each test works in its
 * own mkdtemp folder and removes it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "media/tts.h"
#include "test.h"

struct tmp {
	char dir[64];
	char cache[128];
};

static int tmp_init(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/shenggu-tts-XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -errno;
	}
	/* Two levels that do not exist yet: tts_alloc() makes them. */
	snprintf(t->cache, sizeof(t->cache), "%s/prompts/cache", t->dir);
	return 0;
}

static void tmp_cleanup(struct tmp *t)
{
	char p[512];
	DIR *d;

	if (!t->dir[0])
		return;
	d = opendir(t->cache);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->cache, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(t->cache);
	snprintf(p, sizeof(p), "%s/prompts", t->dir);
	rmdir(p);
	rmdir(t->dir);
}

/* Mean square of the samples (compared against squared levels: no libm). */
static double power(const int16_t *p, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)p[i] * p[i];
	return n ? sum / (double)n : 0;
}

static int peak(const int16_t *p, size_t n)
{
	int m = 0;

	for (size_t i = 0; i < n; i++)
		m = abs(p[i]) > m ? abs(p[i]) : m;
	return m;
}

TEST(test_tts_english_and_mandarin)
{
	struct tts_stats st = {0};
	struct tts *tts = NULL;
	struct tmp t = {0};
	int16_t *pcm = NULL;
	size_t n = 0;
	int err = 0;

	TEST_ERR(tmp_init(&t));
	TEST_ERR(tts_alloc(&tts, t.cache));
	/* Starting ahead of the first render is harmless, twice too. */
	TEST_ERR(tts_warm(tts));
	TEST_ERR(tts_warm(tts));
	TEST_EQUALS(-EINVAL, tts_warm(NULL));
	TEST_ERR(tts_render(tts, "en", "Welcome to ACME Bank. For loans, press 1.", &pcm, &n));
	/* Some 2 to 4 seconds of speech at 8 kHz; clearly not silence. */
	TEST_ASSERT(n > 8000 * 3 / 2 && n < 8000 * 8);
	TEST_ASSERT(power(pcm, n) > 500.0 * 500.0);
	TEST_ASSERT(peak(pcm, n) > 4000);
	pcm = (mem_free(pcm), NULL);
	TEST_ERR(tts_render(tts, "cmn", "欢迎致电ACME银行。贷款请按一。", &pcm, &n));
	TEST_ASSERT(n > 8000 && n < 8000 * 10);
	TEST_ASSERT(power(pcm, n) > 500.0 * 500.0);
	tts_stats_get(tts, &st);
	TEST_EQUALS(2, st.synthesized);
	TEST_EQUALS(0, st.cached);
out:
	mem_free(pcm);
	tts_free(tts);
	tmp_cleanup(&t);
	return err;
}

TEST(test_tts_cache)
{
	static const char text[] = "Please hold.";
	struct stat before, after;
	struct tts_stats st = {0};
	struct tts *tts = NULL;
	struct tmp t = {0};
	int16_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	char path[512];
	int err = 0, fd;

	TEST_ERR(tmp_init(&t));
	TEST_ERR(tts_alloc(&tts, t.cache));
	TEST_ERR(tts_cache_path(tts, "en", text, path, sizeof(path)));
	TEST_ASSERT(!strncmp(path, t.cache, strlen(t.cache)));
	TEST_EQUALS(strlen(t.cache) + 1 + 64 + 4, strlen(path));
	TEST_ERR(tts_render(tts, "en", text, &a, &na));
	TEST_ERR(stat(path, &before) ? -errno : 0);
	TEST_ERR(tts_render(tts, "en", text, &b, &nb));
	TEST_ERR(stat(path, &after) ? -errno : 0);
	tts_stats_get(tts, &st);
	TEST_EQUALS(1, st.synthesized);
	TEST_EQUALS(1, st.cached);
	TEST_EQUALS(before.st_ino, after.st_ino); /* not rewritten */
	TEST_EQUALS(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	TEST_EQUALS(na, nb);
	TEST_ASSERT(!memcmp(a, b, na * sizeof(*a)));
	b = (mem_free(b), NULL);
	/* Another voice is another entry. */
	TEST_ERR(tts_render(tts, "en-us", text, &b, &nb));
	b = (mem_free(b), NULL);
	tts_stats_get(tts, &st);
	TEST_EQUALS(2, st.synthesized);
	/* A torn or foreign file is rendered again and replaced. */
	fd = open(path, O_WRONLY | O_TRUNC);
	TEST_ASSERT(fd >= 0);
	TEST_EQUALS(7, write(fd, "garbage", 7));
	close(fd);
	TEST_ERR(tts_render(tts, "en", text, &b, &nb));
	tts_stats_get(tts, &st);
	TEST_EQUALS(3, st.synthesized);
	/* espeak-ng carries a little state from voice to voice: about the same. */
	TEST_ASSERT(nb + na / 50 > na && nb < na + na / 50);
	b = (mem_free(b), NULL);
	/* A deleted one too. */
	unlink(path);
	TEST_ERR(tts_render(tts, "en", text, &b, &nb));
	tts_stats_get(tts, &st);
	TEST_EQUALS(4, st.synthesized);
	TEST_ERR(stat(path, &after) ? -errno : 0);
out:
	mem_free(a);
	mem_free(b);
	tts_free(tts);
	tmp_cleanup(&t);
	return err;
}

TEST(test_tts_refuses)
{
	static char big[TTS_TEXT_MAX + 2];
	struct tts *tts = NULL;
	struct tmp t = {0};
	int16_t *pcm = NULL;
	size_t n = 0;
	int err = 0;

	TEST_ERR(tmp_init(&t));
	TEST_EQUALS(-EINVAL, tts_alloc(&tts, ""));
	TEST_EQUALS(-EINVAL, tts_alloc(NULL, t.cache));
	TEST_ERR(tts_alloc(&tts, t.cache));
	TEST_EQUALS(-EINVAL, tts_render(tts, "EN", "Hello", &pcm, &n));
	TEST_EQUALS(-EINVAL, tts_render(tts, "../en", "Hello", &pcm, &n));
	TEST_EQUALS(-EINVAL, tts_render(tts, "", "Hello", &pcm, &n));
	TEST_EQUALS(-EINVAL, tts_render(tts, "en", "", &pcm, &n));
	TEST_EQUALS(-EINVAL, tts_render(tts, "en", "two\nlines", &pcm, &n));
	memset(big, 'a', sizeof(big) - 1);
	TEST_EQUALS(-EINVAL, tts_render(tts, "en", big, &pcm, &n));
	TEST_EQUALS(-ENOENT, tts_render(tts, "zz-nowhere", "Hello", &pcm, &n));
	TEST_ASSERT(!pcm);
out:
	mem_free(pcm);
	tts_free(tts);
	tmp_cleanup(&t);
	return err;
}
