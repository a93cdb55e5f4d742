/*
 * fuzz_wav: libFuzzer target for the WAVE parser (media/wav.h), the prompt
 * conversion behind it (media/resample.h) and wav_repair().
 *
 * Input: a whole file. It is parsed from an exact-size copy; a parsed file
 * of up to 8192 frames is converted to 8 kHz mono. Then the input is
 * written to a scratch file and repaired: a file the repair rewrote must
 * parse, whole.
 *
 * Checked: the sample view lies inside the input and holds whole frames,
 * the format fields are ones the header promises, @wi is left alone on
 * failure, the conversion's length follows the rates, and repair's result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "base/mem.h"
#include "fuzz.h"
#include "media/resample.h"
#include "media/wav.h"

static char scratch_dir[64];
static char scratch[96];

static void scratch_cleanup(void)
{
	unlink(scratch);
	rmdir(scratch_dir);
}

static bool scratch_init(void)
{
	if (scratch[0])
		return true;
	/* tmpfs when there is one: wav_repair() fsyncs, and on a disk that
	 * wait would be most of each run. */
	snprintf(scratch_dir, sizeof(scratch_dir), "%s/fuzz-wav-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm"
		 : getenv("TMPDIR")	       ? getenv("TMPDIR")
					       : "/tmp");
	if (!mkdtemp(scratch_dir))
		return false;
	snprintf(scratch, sizeof(scratch), "%s/f.wav", scratch_dir);
	atexit(scratch_cleanup);
	return true;
}

static void check_info(const struct wav_info *wi, const uint8_t *buf, size_t size)
{
	struct str s = str_make((const char *)wi->data, wi->data_len);

	FUZZ_CHECK(wi->codec >= WAV_PCM16 && wi->codec <= WAV_ALAW);
	FUZZ_CHECK(wi->channels == 1 || wi->channels == 2);
	FUZZ_CHECK(wi->rate > 0);
	FUZZ_CHECK(wi->bits == (wi->codec == WAV_PCM16 ? 16 : 8));
	FUZZ_CHECK(wi->block_align == wi->channels * wi->bits / 8);
	FUZZ_CHECK(wi->data_len % wi->block_align == 0);
	FUZZ_CHECK(wi->frames * wi->block_align == wi->data_len);
	FUZZ_CHECK(wi->data != NULL);
	fuzz_view(&s, (const char *)buf, size);
}

static void check_resample(const struct wav_info *wi)
{
	int16_t *out = NULL;
	size_t n = 0;
	uint64_t cap;
	int err;

	if (wi->frames > 8192)
		return;
	err = resample_wav(&out, &n, wi, RESAMPLE_PROMPT_RATE);
	if (err) {
		FUZZ_CHECK(err == -ENOTSUP || err == -ENOMEM);
		FUZZ_CHECK(err != -ENOTSUP || wi->rate < RESAMPLE_RATE_MIN ||
			   wi->rate > RESAMPLE_RATE_MAX);
		FUZZ_CHECK(out == NULL);
		return;
	}
	cap = ((uint64_t)wi->frames * RESAMPLE_PROMPT_RATE + wi->rate - 1) / wi->rate;
	FUZZ_CHECK(n <= cap);
	FUZZ_CHECK(out != NULL || n == 0);
	for (size_t i = 0; i < n; i++)
		fuzz_sink ^= (uint8_t)out[i];
	mem_free(out);
}

static void check_repair(const uint8_t *data, size_t size)
{
	uint8_t back[8192 + 64];
	struct wav_info wi;
	ssize_t n;
	int fd, err;

	if (size > 8192 || !scratch_init())
		return;
	fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);

	err = wav_repair(scratch);
	FUZZ_CHECK(err == 0 || err == -EBADMSG || err == -ENOTSUP);
	fd = open(scratch, O_RDONLY);
	FUZZ_CHECK(fd >= 0);
	n = read(fd, back, sizeof(back));
	close(fd);
	FUZZ_CHECK(n >= 0);
	if (err) {
		FUZZ_CHECK((size_t)n == size && !memcmp(back, data, size)); /* untouched */
		return;
	}
	/* Grown by at most the pad byte; cut by at most a partial frame, or
	 * by whatever followed a data chunk that claimed less. */
	FUZZ_CHECK((size_t)n <= size + 1);
	if ((size_t)n == size && !memcmp(back, data, size))
		return; /* already consistent, left alone */
	err = wav_parse(&wi, back, (size_t)n);
	FUZZ_CHECK(err == 0);
	FUZZ_CHECK(!wi.truncated);
	check_info(&wi, back, (size_t)n);
	/* The data chunk is the last: the file ends with it (and its pad). */
	FUZZ_CHECK(wi.data + wi.data_len + (wi.data_len & 1) == back + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wav_info wi, before;
	char *copy = fuzz_dup(data, size);
	int err;

	memset(&wi, 0xa5, sizeof(wi));
	before = wi;
	err = wav_parse(&wi, (const uint8_t *)copy, size);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -ENOTSUP);
		FUZZ_CHECK(!memcmp(&wi, &before, sizeof(wi)));
	} else {
		check_info(&wi, (const uint8_t *)copy, size);
		check_resample(&wi);
	}
	free(copy);
	check_repair(data, size);
	return 0;
}
