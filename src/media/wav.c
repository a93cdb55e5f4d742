/*
 * wav: RIFF/WAVE parsing, writing and repair (see wav.h). The parser trusts
 * nothing in the file; the writer and the repair use plain POSIX calls
 * (open, write, pwrite, ftruncate, fsync) on one descriptor and allocate
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/media_internal.h"
#include "media/wav.h"

#define WAVE_FORMAT_PCM	       0x0001
#define WAVE_FORMAT_ALAW       0x0006
#define WAVE_FORMAT_MULAW      0x0007
#define WAVE_FORMAT_EXTENSIBLE 0xfffe

/* What the writer puts in the size fields until wav_finish(): the
 * streaming convention for "unknown length", which readers (this parser
 * too) take as "up to the end of the file". */
#define SIZE_PLACEHOLDER 0xffffffffu

/* KSDATAFORMAT_SUBTYPE_*: the format code in the first two bytes, then
 * these 14 bytes of the base GUID 0000xxxx-0000-0010-8000-00aa00389b71. */
static const uint8_t subformat_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					   0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

/* Decode the fmt chunk body @p[0..@n) into the format fields of @wi. */
static int parse_fmt(struct wav_info *wi, const uint8_t *p, size_t n)
{
	uint16_t tag, channels, align, bits;
	uint32_t rate;

	if (n < 16)
		return -EBADMSG;
	tag = get_le16(p);
	channels = get_le16(p + 2);
	rate = get_le32(p + 4);
	/* The byte rate at p + 8 is redundant; writers get it wrong and
	 * nothing here needs it, so it is not checked. */
	align = get_le16(p + 12);
	bits = get_le16(p + 14);
	if (tag == WAVE_FORMAT_EXTENSIBLE) {
		uint16_t valid;

		/* cbSize 22: valid bits, channel mask, subformat GUID. */
		if (n < 40 || get_le16(p + 16) < 22)
			return -EBADMSG;
		valid = get_le16(p + 18);
		if (valid > bits)
			return -EBADMSG;
		if (memcmp(p + 26, subformat_tail, sizeof(subformat_tail)))
			return -ENOTSUP;
		tag = get_le16(p + 24);
	}
	if (channels == 0 || rate == 0 || bits == 0)
		return -EBADMSG;
	switch (tag) {
	case WAVE_FORMAT_PCM:
		if (bits == 16)
			wi->codec = WAV_PCM16;
		else if (bits == 8)
			wi->codec = WAV_PCM8;
		else
			return -ENOTSUP;
		break;
	case WAVE_FORMAT_ALAW:
	case WAVE_FORMAT_MULAW:
		if (bits != 8)
			return -ENOTSUP;
		wi->codec = tag == WAVE_FORMAT_ALAW ? WAV_ALAW : WAV_ULAW;
		break;
	default:
		return -ENOTSUP;
	}
	if (channels > 2)
		return -ENOTSUP;
	if (align != channels * (bits / 8))
		return -EBADMSG;
	wi->channels = channels;
	wi->rate = rate;
	wi->bits = bits;
	wi->block_align = align;
	return 0;
}

int wav_parse(struct wav_info *wi, const uint8_t *buf, size_t len)
{
	struct wav_info t = {0};
	bool have_fmt = false, have_data = false;
	size_t off = 12, end;
	uint32_t riff;
	int err;

	if (!wi || (!buf && len))
		return -EINVAL;
	if (len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4))
		return -EBADMSG;
	/* A RIFF size past the buffer is a placeholder or a cut file: walk to
	 * the end of what is here. Bytes after a smaller RIFF (tags some tools
	 * append) are not part of the file. */
	riff = get_le32(buf + 4);
	end = riff < 4 || riff > len - 8 ? len : (size_t)riff + 8;

	while (end - off >= 8) {
		const uint8_t *id = buf + off;
		uint32_t size = get_le32(buf + off + 4);
		size_t avail;

		off += 8;
		avail = end - off;
		if (!memcmp(id, "fmt ", 4)) {
			if (have_fmt || size > avail)
				return -EBADMSG;
			err = parse_fmt(&t, buf + off, size);
			if (err)
				return err;
			have_fmt = true;
		} else if (!memcmp(id, "data", 4)) {
			if (have_data)
				return -EBADMSG;
			have_data = true;
			t.data = buf + off;
			t.data_len = size > avail ? avail : size;
			t.truncated = size > avail;
		}
		/* A chunk running past the end can only be the last one. */
		if (size > avail)
			break;
		off += size;
		/* RIFF pads a chunk of odd size with one byte. */
		if ((size & 1) && off < end)
			off++;
	}
	if (!have_fmt || !have_data)
		return -EBADMSG;
	t.data_len -= t.data_len % t.block_align;
	t.frames = t.data_len / t.block_align;
	*wi = t;
	return 0;
}

/* write(2) all of @p, across short writes and signals. 0 or -errno. */
static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_le32(int fd, uint32_t v, off_t off)
{
	uint8_t b[4];
	ssize_t n;

	put_le32(b, v);
	do {
		n = pwrite(fd, b, sizeof(b), off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(b) ? 0 : -EIO;
}

int wav_writer_open(struct wav_writer *w, const char *path, uint32_t rate)
{
	uint8_t h[WAV_HDR_SIZE];
	int fd, err;

	if (!w || !path || rate == 0 || rate > UINT32_MAX / 4)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, SIZE_PLACEHOLDER);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	put_le16(h + 20, WAVE_FORMAT_PCM);
	put_le16(h + 22, 2);
	put_le32(h + 24, rate);
	put_le32(h + 28, rate * 4);
	put_le16(h + 32, 4);
	put_le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, SIZE_PLACEHOLDER);
	err = write_all(fd, h, sizeof(h));
	if (err) {
		close(fd);
		unlink(path);
		return err;
	}
	*w = (struct wav_writer){.fd = fd, .rate = rate};
	return 0;
}

int wav_writer_write(struct wav_writer *w, const int16_t *frames, size_t n)
{
	size_t len;
	int err;

	if (!w || w->fd < 0 || (!frames && n))
		return -EINVAL;
	if (w->err)
		return w->err;
	if (!n)
		return 0;
	/* The RIFF size (36 + data) must fit its 32 bits. */
	if (n > (UINT32_MAX - 36 - w->data_len) / 4)
		return -EFBIG;
	len = n * 4;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	err = write_all(w->fd, frames, len);
#else
	/* WAVE is little-endian: swap through a small stack buffer. */
	err = 0;
	for (size_t i = 0; i < n * 2 && !err;) {
		uint8_t b[1024];
		size_t k = 0;

		for (; i < n * 2 && k < sizeof(b); i++, k += 2)
			put_le16(b + k, (uint16_t)frames[i]);
		err = write_all(w->fd, b, k);
	}
#endif
	if (err) {
		/* Some bytes may have gone out: wav_finish() cuts them off. */
		w->err = err;
		return err;
	}
	w->data_len += len;
	return 0;
}

int wav_finish(struct wav_writer *w)
{
	int err, e;

	if (!w || w->fd < 0)
		return -EBADF;
	err = w->err;
	/* Cut what a failed write left past the last whole frame, then make
	 * the sizes true; a crash before this point is wav_repair()'s case. */
	if (ftruncate(w->fd, (off_t)(WAV_HDR_SIZE + w->data_len)) && !err)
		err = -errno;
	e = pwrite_le32(w->fd, (uint32_t)(36 + w->data_len), 4);
	if (e && !err)
		err = e;
	e = pwrite_le32(w->fd, (uint32_t)w->data_len, 40);
	if (e && !err)
		err = e;
	if (fsync(w->fd) && !err)
		err = -errno;
	if (close(w->fd) && !err)
		err = -errno;
	w->fd = -1;
	return err;
}

/* pread(2) exactly @len bytes at @off: 0, -EBADMSG (the file ends first) or -errno. */
static int pread_all(int fd, void *p, size_t len, off_t off)
{
	uint8_t *b = p;

	while (len) {
		ssize_t n = pread(fd, b, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;
		b += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Find the fmt and data chunks of the open file @fd of @size bytes. */
static int repair_scan(int fd, uint64_t size, struct wav_info *wi, uint64_t *data_off,
		       uint32_t *data_size, uint32_t *riff)
{
	uint8_t h[12], fmt[40];
	bool have_fmt = false;
	uint64_t off = 12;
	int err;

	err = pread_all(fd, h, sizeof(h), 0);
	if (err)
		return err;
	if (memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
		return -EBADMSG;
	*riff = get_le32(h + 4);
	/* Each step moves at least 8 bytes on, so the walk ends. */
	while (size - off >= 8) {
		uint32_t csize;

		err = pread_all(fd, h, 8, (off_t)off);
		if (err)
			return err;
		csize = get_le32(h + 4);
		off += 8;
		if (!memcmp(h, "data", 4)) {
			if (!have_fmt)
				return -EBADMSG;
			*data_off = off;
			*data_size = csize;
			return 0;
		}
		if (!memcmp(h, "fmt ", 4)) {
			size_t n = csize < sizeof(fmt) ? csize : sizeof(fmt);

			if (have_fmt || csize > size - off)
				return -EBADMSG;
			err = pread_all(fd, fmt, n, (off_t)off);
			if (!err)
				err = parse_fmt(wi, fmt, n);
			if (err)
				return err;
			have_fmt = true;
		}
		off += csize + (uint64_t)(csize & 1);
		if (off > size)
			return -EBADMSG;
	}
	return -EBADMSG;
}

int wav_repair(const char *path)
{
	struct wav_info wi = {0};
	uint64_t data_off = 0, avail, data_len, new_size;
	uint32_t data_size = 0, riff = 0;
	struct stat st;
	int fd, err;

	if (!path)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	err = repair_scan(fd, (uint64_t)st.st_size, &wi, &data_off, &data_size, &riff);
	if (err)
		goto out;
	avail = (uint64_t)st.st_size - data_off;
	/* Already consistent (a clean close, or chunks after the data that
	 * the RIFF size accounts for): leave the file alone. */
	if (data_size <= avail && (uint64_t)riff + 8 == (uint64_t)st.st_size)
		goto out;

	data_len = avail - avail % wi.block_align;
	new_size = data_off + data_len + (data_len & 1);
	if (new_size - 8 > UINT32_MAX) {
		err = -EFBIG;
		goto out;
	}
	/* Cutting a partial frame, or adding the pad byte RIFF wants after
	 * an odd-sized chunk (zero-filled by ftruncate). */
	if (new_size != (uint64_t)st.st_size && ftruncate(fd, (off_t)new_size)) {
		err = -errno;
		goto out;
	}
	err = pwrite_le32(fd, (uint32_t)data_len, (off_t)data_off - 4);
	if (!err)
		err = pwrite_le32(fd, (uint32_t)(new_size - 8), 4);
	if (!err && fsync(fd))
		err = -errno;
out:
	if (close(fd) && !err)
		err = -errno;
	return err;
}
