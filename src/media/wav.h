/*
 * wav: RIFF/WAVE files: a parser for untrusted files held in memory
 * (prompts uploaded by tenants), and a crash-tolerant writer for call
 * recordings.
 *
 * The parser accepts what telephony uses: PCM 16-bit and 8-bit, μ-law and
 * A-law, mono or stereo, any non-zero sample rate, also inside
 * WAVE_FORMAT_EXTENSIBLE. Unknown chunks are skipped and every length is
 * checked against the buffer; it returns a view of the samples, not a copy.
 *
 * The writer makes stereo 16-bit PCM (one party per channel). It writes the
 * header first with placeholder sizes and appends frames with plain write(2);
 * wav_finish() patches the sizes at a clean close, and wav_repair() fixes a
 * file left by a crash so that it plays. There is no buffering: the caller
 * hands over a batch of frames per call, and nothing is allocated.
 *
 * Not a converter: g711.h decodes, resample.h changes the rate.
 */
#ifndef MEDIA_WAV_H
#define MEDIA_WAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wav_codec {
	WAV_PCM16 = 1, /* signed 16-bit little-endian */
	WAV_PCM8,      /* unsigned 8-bit, 128 = silence */
	WAV_ULAW,      /* G.711 μ-law */
	WAV_ALAW,      /* G.711 A-law */
};

struct wav_info {
	enum wav_codec codec;
	uint16_t channels;    /* 1 or 2, interleaved */
	uint32_t rate;	      /* frames per second, > 0 */
	uint16_t bits;	      /* bits per sample: 16 or 8 */
	uint16_t block_align; /* bytes per frame: channels * bits / 8 */
	const uint8_t *data;  /* the samples, into the caller's buffer */
	size_t data_len;      /* bytes, a whole number of frames */
	size_t frames;
	bool truncated; /* the data chunk claimed more bytes than the file has */
};

/*
 * Parse the WAVE file @buf[0..@len) into @wi. A data chunk that runs past
 * the end of the buffer (a file cut short, or a streaming writer's
 * placeholder size) is clamped to the whole frames at hand and flagged; a
 * partial last frame is dropped. Returns 0, -EBADMSG (not RIFF/WAVE, a
 * broken chunk, no or duplicate fmt or data, inconsistent fmt fields) or
 * -ENOTSUP (a valid WAVE in a format not listed above: float, ADPCM, 24-bit,
 * more than two channels). @wi is written on success only and borrows @buf.
 */
int wav_parse(struct wav_info *wi, const uint8_t *buf, size_t len);

#define WAV_HDR_SIZE 44 /* of the files the writer makes */

/* A recording being written; fields are private. */
struct wav_writer {
	int fd;
	uint32_t rate;
	uint64_t data_len; /* bytes of whole frames written */
	int err;	   /* first write error, kept for wav_finish() */
};

/*
 * Create @path (it must not exist: -EEXIST; mode 0600, since a recording is
 * personal data) and write a 44-byte stereo 16-bit PCM header for @rate Hz
 * with placeholder sizes. 0 or -errno; on failure no file is left behind and
 * @w is not open.
 */
int wav_writer_open(struct wav_writer *w, const char *path, uint32_t rate);

/*
 * Append @n frames of interleaved samples (@frames holds 2 * @n int16_t,
 * left then right, host order). 0, -EFBIG (past the 4 GiB a RIFF size can
 * say; nothing written) or -errno of write(2). After an error the writer
 * writes nothing more and the error comes back from wav_finish().
 */
int wav_writer_write(struct wav_writer *w, const int16_t *frames, size_t n);

/*
 * Close the recording: cut any partial frame a failed write left, write the
 * true RIFF and data sizes, fsync and close. Returns 0 or the first error of
 * the writer's life; the descriptor is closed either way.
 */
int wav_finish(struct wav_writer *w);

/*
 * Fix a WAVE file whose data chunk is the last chunk and whose sizes are
 * placeholders or wrong (a writer that crashed or was killed): the data size
 * becomes what the file holds, cut to whole frames (the file is truncated to
 * match), the RIFF size follows, and the file is fsynced. A file whose sizes
 * already agree with its length is left untouched. Returns 0, -EBADMSG (no
 * fmt and data chunk to go by, e.g. a crash during the header), -ENOTSUP,
 * -EFBIG, or -errno of the file calls.
 */
int wav_repair(const char *path);

#endif
