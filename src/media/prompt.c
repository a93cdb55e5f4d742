/*
 * prompt: WAVE prompt files in and out. Loading is wav_parse() (which
 * treats the file as untrusted) and resample_wav(); saving writes the
 * 44-byte header of a mono 16-bit file and the samples, little-endian, into
 * a temporary file that replaces the target only once it is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "media/media_internal.h"
#include "media/prompt.h"
#include "media/resample.h"
#include "media/wav.h"

static int read_file(const char *path, uint8_t **bufp, size_t *lenp)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)sb.st_size > PROMPT_FILE_MAX) {
		err = -EFBIG;
		goto out;
	}
	buf = mem_alloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
out:
	close(fd);
	if (err) {
		mem_free(buf);
		return err;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int prompt_load_file(const char *path, int16_t **pcmp, size_t *np)
{
	struct wav_info wi;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (!path || !pcmp || !np)
		return -EINVAL;
	err = read_file(path, &buf, &len);
	if (err)
		return err;
	err = wav_parse(&wi, buf, len);
	if (!err)
		err = resample_wav(pcmp, np, &wi, PROMPT_RATE);
	mem_free(buf);
	return err;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the folder of @path, so the rename itself survives a crash. */
static int sync_dir(const char *path)
{
	char dir[4096];
	int fd, err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int prompt_save_file(const char *path, const int16_t *pcm, size_t n)
{
	const size_t chunk = 4096;
	uint8_t hdr[44], *buf = NULL;
	uint64_t data = (uint64_t)n * 2;
	char tmp[4096];
	int fd, err = 0;

	if (!path || (n && !pcm))
		return -EINVAL;
	if (data > UINT32_MAX - 36)
		return -EFBIG;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	buf = mem_alloc(chunk * 2);
	if (!buf)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		mem_free(buf);
		return err;
	}
	/* RIFF/WAVE, "fmt " of 16 bytes: PCM, mono, 8000 Hz, 16 bits. */
	memcpy(hdr, "RIFF", 4);
	put_le32(hdr + 4, (uint32_t)(36 + data));
	memcpy(hdr + 8, "WAVEfmt ", 8);
	put_le32(hdr + 16, 16);
	put_le16(hdr + 20, 1);
	put_le16(hdr + 22, 1);
	put_le32(hdr + 24, PROMPT_RATE);
	put_le32(hdr + 28, PROMPT_RATE * 2);
	put_le16(hdr + 32, 2);
	put_le16(hdr + 34, 16);
	memcpy(hdr + 36, "data", 4);
	put_le32(hdr + 40, (uint32_t)data);
	err = write_all(fd, hdr, sizeof(hdr));
	for (size_t i = 0; !err && i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk;

		for (size_t j = 0; j < k; j++)
			put_le16(buf + 2 * j, (uint16_t)pcm[i + j]);
		err = write_all(fd, buf, 2 * k);
	}
	if (!err && fchmod(fd, 0640))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		err = sync_dir(path);
	mem_free(buf);
	return err;
}
