/*
 * Unit tests for wav.h: parsing files built here byte by byte (every
 * supported format, unknown and odd-sized chunks, WAVE_FORMAT_EXTENSIBLE,
 * and a table of malformed and unsupported ones), then the recording writer
 * and wav_repair() on real files in a mkdtemp folder: a clean close, a
 * writer killed after a partial frame, a crash inside the header, and a
 * repair run twice.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "media/wav.h"
#include "test.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A file under construction. */
struct wb {
	uint8_t b[512];
	size_t n;
};

static void wb_bytes(struct wb *w, const void *p, size_t len)
{
	if (w->n + len <= sizeof(w->b))
		memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void wb_u16(struct wb *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	wb_bytes(w, b, 2);
}

static void wb_u32(struct wb *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	wb_bytes(w, b, 4);
}

static void wb_riff(struct wb *w)
{
	w->n = 0;
	wb_bytes(w, "RIFF", 4);
	wb_u32(w, 0); /* patched by wb_done() */
	wb_bytes(w, "WAVE", 4);
}

static void wb_fmt(struct wb *w, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits,
		   uint16_t align)
{
	wb_bytes(w, "fmt ", 4);
	wb_u32(w, 16);
	wb_u16(w, tag);
	wb_u16(w, ch);
	wb_u32(w, rate);
	wb_u32(w, rate * align);
	wb_u16(w, align);
	wb_u16(w, bits);
}

/* WAVE_FORMAT_EXTENSIBLE with subformat code @sub. */
static void wb_fmt_ext(struct wb *w, uint16_t sub, uint16_t ch, uint32_t rate, uint16_t bits,
		       uint16_t cb_size)
{
	static const uint8_t tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
	uint16_t align = (uint16_t)(ch * bits / 8);

	wb_bytes(w, "fmt ", 4);
	wb_u32(w, 40);
	wb_u16(w, 0xfffe);
	wb_u16(w, ch);
	wb_u32(w, rate);
	wb_u32(w, rate * align);
	wb_u16(w, align);
	wb_u16(w, bits);
	wb_u16(w, cb_size);
	wb_u16(w, bits); /* valid bits */
	wb_u32(w, ch == 2 ? 3 : 4);
	wb_u16(w, sub);
	wb_bytes(w, tail, sizeof(tail));
}

static void wb_chunk(struct wb *w, const char *id, const void *p, uint32_t len)
{
	wb_bytes(w, id, 4);
	wb_u32(w, len);
	wb_bytes(w, p, len);
	if (len & 1)
		wb_bytes(w, "", 1);
}

static void wb_done(struct wb *w)
{
	uint32_t v = (uint32_t)w->n - 8;

	w->b[4] = (uint8_t)v;
	w->b[5] = (uint8_t)(v >> 8);
	w->b[6] = (uint8_t)(v >> 16);
	w->b[7] = (uint8_t)(v >> 24);
}

TEST(test_wav_parse_pcm16)
{
	static const uint8_t samples[8] = {0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f};
	struct wb w;
	struct wav_info wi;
	int err = 0;

	/* An odd-sized LIST chunk (with its pad byte) before fmt, a fact
	 * chunk between fmt and data, a trailing chunk after data. */
	wb_riff(&w);
	wb_chunk(&w, "LIST", "INFOx", 5);
	wb_fmt(&w, 1, 1, 8000, 16, 2);
	wb_chunk(&w, "fact", "\x04\x00\x00\x00", 4);
	wb_chunk(&w, "data", samples, sizeof(samples));
	wb_chunk(&w, "id3 ", "tag", 3);
	wb_done(&w);

	TEST_ERR(wav_parse(&wi, w.b, w.n));
	TEST_EQUALS(WAV_PCM16, wi.codec);
	TEST_EQUALS(1, wi.channels);
	TEST_EQUALS(8000, wi.rate);
	TEST_EQUALS(16, wi.bits);
	TEST_EQUALS(2, wi.block_align);
	TEST_EQUALS(8, wi.data_len);
	TEST_EQUALS(4, wi.frames);
	TEST_ASSERT(!wi.truncated);
	TEST_ASSERT(wi.data > w.b && wi.data + wi.data_len <= w.b + w.n);
	TEST_ASSERT(!memcmp(wi.data, samples, sizeof(samples)));
out:
	return err;
}

TEST(test_wav_parse_formats)
{
	static const struct {
		uint16_t tag, ch, bits;
		bool ext;
		enum wav_codec codec;
	} ok[] = {
	    {1, 1, 8, false, WAV_PCM8}, {1, 2, 16, false, WAV_PCM16}, {7, 1, 8, false, WAV_ULAW},
	    {7, 2, 8, false, WAV_ULAW}, {6, 1, 8, false, WAV_ALAW},   {1, 2, 16, true, WAV_PCM16},
	    {1, 1, 8, true, WAV_PCM8},	{7, 1, 8, true, WAV_ULAW},    {6, 2, 8, true, WAV_ALAW},
	};
	static const uint32_t rates[] = {8000, 11025, 16000, 22050, 44100, 48000, 7, 384000};
	struct wav_info wi;
	struct wb w;
	int err = 0;

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		uint16_t align = (uint16_t)(ok[i].ch * ok[i].bits / 8);
		uint32_t rate = rates[i % ARRAY_LEN(rates)];

		wb_riff(&w);
		if (ok[i].ext)
			wb_fmt_ext(&w, ok[i].tag, ok[i].ch, rate, ok[i].bits, 22);
		else
			wb_fmt(&w, ok[i].tag, ok[i].ch, rate, ok[i].bits, align);
		wb_chunk(&w, "data", "0123456789abcdef", 12);
		wb_done(&w);
		TEST_ERR(wav_parse(&wi, w.b, w.n));
		TEST_EQUALS(ok[i].codec, wi.codec);
		TEST_EQUALS(ok[i].ch, wi.channels);
		TEST_EQUALS(rate, wi.rate);
		TEST_EQUALS(align, wi.block_align);
		TEST_EQUALS(12 / align, wi.frames);
	}
out:
	return err;
}

/* A good mono PCM16 file, then @mutate applied to its bytes. */
static int parse_mutated(void (*mutate)(struct wb *w))
{
	struct wav_info wi, before;
	struct wb w;
	int r;

	wb_riff(&w);
	wb_fmt(&w, 1, 1, 8000, 16, 2);
	wb_chunk(&w, "data", "\x01\x02\x03\x04", 4);
	wb_done(&w);
	mutate(&w);
	memset(&wi, 0x5a, sizeof(wi));
	before = wi;
	r = wav_parse(&wi, w.b, w.n);
	if (r && memcmp(&wi, &before, sizeof(wi)))
		return 1000; /* written on failure */
	return r;
}

/* Offsets in the good file: fmt body at 20, data header at 36. */
static void m_rifx(struct wb *w)
{
	w->b[3] = 'X';
}
static void m_wave(struct wb *w)
{
	w->b[11] = 'X';
}
static void m_short(struct wb *w)
{
	w->n = 11;
}
static void m_no_fmt(struct wb *w)
{
	memcpy(w->b + 12, "fmtX", 4);
}
static void m_no_data(struct wb *w)
{
	memcpy(w->b + 36, "dat ", 4);
}
static void m_fmt_small(struct wb *w)
{
	w->b[16] = 14;
}
static void m_fmt_huge(struct wb *w)
{
	w->b[16] = 200;
}
static void m_channels0(struct wb *w)
{
	w->b[22] = 0;
}
static void m_rate0(struct wb *w)
{
	memset(w->b + 24, 0, 4);
}
static void m_align(struct wb *w)
{
	w->b[32] = 4;
}
static void m_bits0(struct wb *w)
{
	w->b[34] = 0;
}
static void m_3ch(struct wb *w)
{
	w->b[22] = 3;
	w->b[32] = 6;
}
static void m_float(struct wb *w)
{
	w->b[20] = 3;
}
static void m_24bit(struct wb *w)
{
	w->b[32] = 3;
	w->b[34] = 24;
}
static void m_ulaw16(struct wb *w)
{
	w->b[20] = 7;
}
static void m_adpcm(struct wb *w)
{
	w->b[20] = 0x11;
}
static void m_two_data(struct wb *w)
{
	wb_chunk(w, "data", "ab", 2);
	wb_done(w);
}
static void m_two_fmt(struct wb *w)
{
	uint8_t fmt[24];

	memcpy(fmt, w->b + 12, 24);
	wb_bytes(w, fmt, 24);
	wb_done(w);
}
static void m_chunk_huge(struct wb *w)
{
	/* An unknown chunk claiming 4 GiB before the data hides the data. */
	memcpy(w->b + 12, "junk", 4);
	memset(w->b + 16, 0xff, 4);
}
static void m_ext_cb(struct wb *w)
{
	wb_riff(w);
	wb_fmt_ext(w, 1, 1, 8000, 16, 0);
	wb_chunk(w, "data", "ab", 2);
	wb_done(w);
}
static void m_ext_short(struct wb *w)
{
	m_ext_cb(w);
	w->b[16] = 18; /* fmt of 18 bytes: cbSize but no extension */
}
static void m_ext_float(struct wb *w)
{
	wb_riff(w);
	wb_fmt_ext(w, 3, 1, 8000, 16, 22);
	wb_chunk(w, "data", "ab", 2);
	wb_done(w);
}
static void m_ext_valid(struct wb *w)
{
	wb_riff(w);
	wb_fmt_ext(w, 1, 1, 8000, 16, 22);
	w->b[38] = 20; /* 20 valid bits in a 16-bit container */
	wb_chunk(w, "data", "ab", 2);
	wb_done(w);
}
static void m_ext_guid(struct wb *w)
{
	wb_riff(w);
	wb_fmt_ext(w, 1, 1, 8000, 16, 22);
	w->b[59] ^= 1; /* the last byte of the GUID */
	wb_chunk(w, "data", "ab", 2);
	wb_done(w);
}

TEST(test_wav_parse_malformed)
{
	static const struct {
		const char *what;
		void (*mutate)(struct wb *w);
		int err;
	} bad[] = {
	    {"RIFX", m_rifx, -EBADMSG},
	    {"not WAVE", m_wave, -EBADMSG},
	    {"11 bytes", m_short, -EBADMSG},
	    {"no fmt", m_no_fmt, -EBADMSG},
	    {"no data", m_no_data, -EBADMSG},
	    {"fmt of 14 bytes", m_fmt_small, -EBADMSG},
	    {"fmt past the end", m_fmt_huge, -EBADMSG},
	    {"0 channels", m_channels0, -EBADMSG},
	    {"rate 0", m_rate0, -EBADMSG},
	    {"block align wrong", m_align, -EBADMSG},
	    {"0 bits", m_bits0, -EBADMSG},
	    {"two data chunks", m_two_data, -EBADMSG},
	    {"two fmt chunks", m_two_fmt, -EBADMSG},
	    {"huge chunk before data", m_chunk_huge, -EBADMSG},
	    {"extensible, cbSize 0", m_ext_cb, -EBADMSG},
	    {"extensible, 18-byte fmt", m_ext_short, -EBADMSG},
	    {"extensible, more valid bits than bits", m_ext_valid, -EBADMSG},
	    {"3 channels", m_3ch, -ENOTSUP},
	    {"float", m_float, -ENOTSUP},
	    {"24-bit PCM", m_24bit, -ENOTSUP},
	    {"16-bit mu-law", m_ulaw16, -ENOTSUP},
	    {"ADPCM", m_adpcm, -ENOTSUP},
	    {"extensible float", m_ext_float, -ENOTSUP},
	    {"extensible, foreign GUID", m_ext_guid, -ENOTSUP},
	};
	struct wav_info wi;
	int err = 0;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int r = parse_mutated(bad[i].mutate);

		if (r != bad[i].err) {
			test_fail(__FILE__, __LINE__, "%s: expected %d, got %d", bad[i].what,
				  bad[i].err, r);
			err = -EINVAL;
			goto out;
		}
	}
	TEST_EQUALS(-EINVAL, wav_parse(NULL, (const uint8_t *)"RIFF", 4));
	TEST_EQUALS(-EBADMSG, wav_parse(&wi, NULL, 0));
out:
	return err;
}

TEST(test_wav_parse_truncated)
{
	struct wav_info wi;
	struct wb w;
	int err = 0;

	/* A streaming writer's placeholders and a cut in a stereo frame. */
	wb_riff(&w);
	wb_fmt(&w, 1, 2, 8000, 16, 4);
	wb_bytes(&w, "data", 4);
	wb_u32(&w, 0xffffffffu);
	wb_bytes(&w, "\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00", 10);
	memset(w.b + 4, 0xff, 4);
	TEST_ERR(wav_parse(&wi, w.b, w.n));
	TEST_ASSERT(wi.truncated);
	TEST_EQUALS(8, wi.data_len);
	TEST_EQUALS(2, wi.frames);

	/* A RIFF size of 0 (another placeholder) reads to the end too. */
	memset(w.b + 4, 0, 4);
	TEST_ERR(wav_parse(&wi, w.b, w.n));
	TEST_EQUALS(2, wi.frames);

	/* Bytes after a RIFF that ends with the data are not audio. */
	wb_riff(&w);
	wb_fmt(&w, 7, 1, 8000, 8, 1);
	wb_chunk(&w, "data", "\xff\xff\xff\xff", 4);
	wb_done(&w);
	wb_bytes(&w, "TAG+garbage", 11);
	TEST_ERR(wav_parse(&wi, w.b, w.n));
	TEST_ASSERT(!wi.truncated);
	TEST_EQUALS(4, wi.frames);

	/* Only a partial frame: a valid, empty file. */
	wb_riff(&w);
	wb_fmt(&w, 1, 2, 8000, 16, 4);
	wb_chunk(&w, "data", "\x01\x00", 2);
	wb_done(&w);
	TEST_ERR(wav_parse(&wi, w.b, w.n));
	TEST_EQUALS(0, wi.frames);
	TEST_EQUALS(0, wi.data_len);
out:
	return err;
}

/* A mkdtemp folder with up to two files in it. */
struct tmpdir {
	char dir[64];
	char a[96], b[96];
};

static int tmpdir_init(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/shenggu-test-XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -errno;
	}
	snprintf(t->a, sizeof(t->a), "%s/a.wav", t->dir);
	snprintf(t->b, sizeof(t->b), "%s/b.wav", t->dir);
	return 0;
}

static void tmpdir_cleanup(struct tmpdir *t)
{
	if (!t->dir[0])
		return;
	unlink(t->a);
	unlink(t->b);
	rmdir(t->dir);
	t->dir[0] = '\0';
}

/* The whole file at @path into @buf: its length, or -errno. */
static long slurp(const char *path, uint8_t *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	close(fd);
	return n < 0 ? -EIO : (long)n;
}

static int append(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, p, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* @n stereo frames, left counting up, right counting down, from @first. */
static void fill(int16_t *f, size_t n, int first)
{
	for (size_t i = 0; i < n; i++) {
		f[2 * i] = (int16_t)(first + (int)i);
		f[2 * i + 1] = (int16_t)(-first - (int)i);
	}
}

static bool samples_ok(const struct wav_info *wi, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = wi->data + 4 * i;
		int16_t l = (int16_t)(p[0] | p[1] << 8), r = (int16_t)(p[2] | p[3] << 8);

		if (l != (int16_t)i || r != (int16_t) - (int)i)
			return false;
	}
	return true;
}

static uint8_t filebuf[16384], filebuf2[16384];

TEST(test_wav_writer_finish)
{
	struct wav_writer w = {.fd = -1};
	struct tmpdir t = {.dir = ""};
	struct wav_info wi;
	int16_t frames[2 * 160];
	long n;
	int err = tmpdir_init(&t);

	TEST_ERR(err);
	TEST_ERR(wav_writer_open(&w, t.a, 8000));
	for (int k = 0; k < 3; k++) {
		fill(frames, 160, 160 * k);
		TEST_ERR(wav_writer_write(&w, frames, 160));
	}
	TEST_ERR(wav_writer_write(&w, frames, 0));
	TEST_ERR(wav_finish(&w));
	TEST_EQUALS(-EBADF, wav_finish(&w));
	TEST_EQUALS(-EINVAL, wav_writer_write(&w, frames, 1));

	n = slurp(t.a, filebuf, sizeof(filebuf));
	TEST_EQUALS(WAV_HDR_SIZE + 480 * 4, n);
	TEST_EQUALS(n - 8, le32_at(filebuf + 4));
	TEST_EQUALS(480 * 4, le32_at(filebuf + 40));
	TEST_ERR(wav_parse(&wi, filebuf, (size_t)n));
	TEST_EQUALS(WAV_PCM16, wi.codec);
	TEST_EQUALS(2, wi.channels);
	TEST_EQUALS(8000, wi.rate);
	TEST_EQUALS(480, wi.frames);
	TEST_ASSERT(!wi.truncated);
	TEST_ASSERT(samples_ok(&wi, 480));

	/* A clean file needs no repair and is left as it is. */
	TEST_ERR(wav_repair(t.a));
	TEST_EQUALS(n, slurp(t.a, filebuf2, sizeof(filebuf2)));
	TEST_ASSERT(!memcmp(filebuf, filebuf2, (size_t)n));

	/* Recordings never overwrite. */
	TEST_EQUALS(-EEXIST, wav_writer_open(&w, t.a, 8000));
	TEST_EQUALS(-EINVAL, wav_writer_open(&w, t.b, 0));
	TEST_EQUALS(-ENOENT, wav_writer_open(&w, "/nonexistent-dir/x.wav", 8000));
out:
	if (w.fd >= 0)
		wav_finish(&w);
	tmpdir_cleanup(&t);
	return err;
}

TEST(test_wav_repair_crash)
{
	struct wav_writer w = {.fd = -1};
	struct tmpdir t = {.dir = ""};
	struct wav_info wi;
	int16_t frames[2 * 100];
	long n, n2;
	int err = tmpdir_init(&t);

	TEST_ERR(err);
	/* A writer killed mid-recording: the header still has placeholders
	 * and the last write stopped 3 bytes into a frame. */
	TEST_ERR(wav_writer_open(&w, t.a, 16000));
	fill(frames, 100, 0);
	TEST_ERR(wav_writer_write(&w, frames, 100));
	fill(frames, 100, 100);
	TEST_ERR(wav_writer_write(&w, frames, 100));
	close(w.fd);
	w.fd = -1;
	TEST_ERR(append(t.a, "\x01\x02\x03", 3));

	/* Even before the repair the parser reads what is there. */
	n = slurp(t.a, filebuf, sizeof(filebuf));
	TEST_EQUALS(WAV_HDR_SIZE + 800 + 3, n);
	TEST_ERR(wav_parse(&wi, filebuf, (size_t)n));
	TEST_ASSERT(wi.truncated);
	TEST_EQUALS(200, wi.frames);

	TEST_ERR(wav_repair(t.a));
	n = slurp(t.a, filebuf, sizeof(filebuf));
	TEST_EQUALS(WAV_HDR_SIZE + 800, n); /* the partial frame is gone */
	TEST_EQUALS(n - 8, le32_at(filebuf + 4));
	TEST_EQUALS(800, le32_at(filebuf + 40));
	TEST_ERR(wav_parse(&wi, filebuf, (size_t)n));
	TEST_ASSERT(!wi.truncated);
	TEST_EQUALS(16000, wi.rate);
	TEST_EQUALS(200, wi.frames);
	TEST_ASSERT(samples_ok(&wi, 200));

	/* A second repair changes nothing. */
	TEST_ERR(wav_repair(t.a));
	n2 = slurp(t.a, filebuf2, sizeof(filebuf2));
	TEST_EQUALS(n, n2);
	TEST_ASSERT(!memcmp(filebuf, filebuf2, (size_t)n));

	/* Killed right after the header: a valid empty recording. */
	TEST_ERR(wav_writer_open(&w, t.b, 8000));
	close(w.fd);
	w.fd = -1;
	TEST_ERR(wav_repair(t.b));
	n = slurp(t.b, filebuf, sizeof(filebuf));
	TEST_EQUALS(WAV_HDR_SIZE, n);
	TEST_EQUALS(36, le32_at(filebuf + 4));
	TEST_EQUALS(0, le32_at(filebuf + 40));
	TEST_ERR(wav_parse(&wi, filebuf, (size_t)n));
	TEST_EQUALS(0, wi.frames);

	/* Killed inside the header: nothing to go by. */
	TEST_EQUALS(0, truncate(t.b, 30));
	TEST_EQUALS(-EBADMSG, wav_repair(t.b));
	TEST_EQUALS(0, truncate(t.b, 0));
	TEST_EQUALS(-EBADMSG, wav_repair(t.b));
	TEST_EQUALS(-ENOENT, wav_repair("/nonexistent-dir/x.wav"));
out:
	if (w.fd >= 0)
		close(w.fd);
	tmpdir_cleanup(&t);
	return err;
}

TEST(test_wav_repair_odd)
{
	struct tmpdir t = {.dir = ""};
	struct wav_info wi;
	struct wb w;
	long n;
	int fd, err = tmpdir_init(&t);

	TEST_ERR(err);
	/* Mono 8-bit with an odd number of samples left by a crash: RIFF
	 * wants the pad byte after the data, and the repair adds it. */
	wb_riff(&w);
	wb_fmt(&w, 1, 1, 8000, 8, 1);
	wb_bytes(&w, "data", 4);
	wb_u32(&w, 0xffffffffu);
	wb_bytes(&w, "\x80\x81\x82\x83\x84", 5);
	memset(w.b + 4, 0xff, 4);
	fd = open(t.a, O_WRONLY | O_CREAT | O_EXCL, 0600);
	TEST_ASSERT(fd >= 0);
	TEST_EQUALS((long)w.n, write(fd, w.b, w.n));
	close(fd);

	TEST_ERR(wav_repair(t.a));
	n = slurp(t.a, filebuf, sizeof(filebuf));
	TEST_EQUALS(WAV_HDR_SIZE + 5 + 1, n);
	TEST_EQUALS(n - 8, le32_at(filebuf + 4));
	TEST_EQUALS(5, le32_at(filebuf + 40));
	TEST_ERR(wav_parse(&wi, filebuf, (size_t)n));
	TEST_EQUALS(WAV_PCM8, wi.codec);
	TEST_EQUALS(5, wi.frames);
	TEST_ASSERT(!wi.truncated);
out:
	tmpdir_cleanup(&t);
	return err;
}
