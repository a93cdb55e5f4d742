/*
 * fuzz_sip_frame: libFuzzer target for the stream framer (sip_frame.h).
 *
 * Input: byte 0 seeds the chunk sizes (and, with bit 7 set, a small
 * max_msg); the rest is a TCP byte stream. The stream is fed to sip_frame()
 * the way a connection reads it, in chunks of varied size appended to a
 * growing buffer, consuming each message or keep-alive as it is reported.
 *
 * Checked: every report makes progress within the buffer, keep-alives are
 * CR/LF only, errors come with a reason, each framed message goes through
 * sip_msg_parse() (stream mode) without crashing and, when the parser can
 * read its Content-Length, both agree on where the message ends; and the
 * message boundaries do not depend on how the stream was chunked (the same
 * bytes fed in one piece frame identically).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "fuzz.h"
#include "sip/sip_frame.h"
#include "sip/sip_msg.h"

#define MAX_MSGS 1024

/* What one pass over the stream saw. */
struct run {
	size_t ends[MAX_MSGS]; /* stream offset just past each message (first MAX_MSGS) */
	size_t n;	       /* messages framed */
	int err;	       /* the error that closed the stream, or 0 */
};

static uint32_t next_rand(uint32_t *s)
{
	/* xorshift32: cheap, and the same sizes for the same input byte. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Mostly small chunks (split CRLFs, split header names), some large ones. */
static size_t next_chunk(uint32_t *s)
{
	uint32_t r = next_rand(s);

	return (r & 3) ? 1 + (r >> 8) % 16 : 1 + (r >> 8) % 700;
}

/* One framed message: it must never crash the parser, and must agree with it. */
static void parse_framed(const char *p, size_t used, const struct sip_limits *lim)
{
	alignas(max_align_t) char abuf[16384];
	struct sip_msg *msg = NULL;
	struct sip_perr perr = {0};
	struct arena a;
	char *copy = fuzz_dup(p, used);
	int err;

	arena_init(&a, abuf, sizeof(abuf), 0);
	err = sip_msg_parse(&msg, &a, copy, used, 0, lim, &perr);
	if (!err) {
		FUZZ_CHECK(msg->len == used);
		FUZZ_CHECK(msg->has_content_length && msg->content_length == msg->body.len);
		fuzz_view(&msg->body, copy, used);
		fuzz_view(&msg->call_id, copy, used);
	} else {
		FUZZ_CHECK(perr.reason != NULL && perr.offset <= used);
		/*
		 * Rejected as a stream message. As a datagram, a parsed
		 * Content-Length fixes where the message ends: if the parser
		 * reads a different one than the framer, a peer could smuggle
		 * a message inside another's body.
		 */
		arena_reset(&a);
		msg = NULL;
		if (!sip_msg_parse(&msg, &a, copy, used, SIP_PARSE_DGRAM, lim, NULL) &&
		    msg->has_content_length)
			FUZZ_CHECK(msg->len == used);
	}
	arena_reset(&a);
	free(copy);
}

/*
 * Feed @data to sip_frame(): in chunks drawn from @seed, or in one piece
 * when @seed is 0. Framed messages are parsed when @parse is set.
 */
static void feed(struct run *run, const uint8_t *data, size_t size, uint32_t seed,
		 const struct sip_limits *lim, bool parse)
{
	char *buf = fuzz_dup("", 0);
	size_t len = 0;	 /* bytes in buf */
	size_t base = 0; /* stream offset of buf[0] */
	size_t in = 0;	 /* bytes of data read so far */

	run->n = 0;
	run->err = 0;
	while (in < size) {
		size_t chunk = seed ? next_chunk(&seed) : size;
		char *nb;

		if (chunk > size - in)
			chunk = size - in;
		/* Exact-size buffers, so a read past the end is an ASan report. */
		nb = malloc(len + chunk);
		FUZZ_CHECK(nb != NULL);
		memcpy(nb, buf, len);
		memcpy(nb + len, data + in, chunk);
		free(buf);
		buf = nb;
		len += chunk;
		in += chunk;

		for (;;) {
			struct sip_perr perr = {0};
			size_t used = 0;
			int r = sip_frame(buf, len, lim, &used, &perr);

			if (r < 0) {
				FUZZ_CHECK(r == -EBADMSG || r == -EMSGSIZE);
				FUZZ_CHECK(perr.reason != NULL);
				FUZZ_CHECK(perr.offset <= len);
				fuzz_touch(&perr.hdr);
				run->err = r;
				goto out; /* unrecoverable: the connection is closed */
			}
			FUZZ_CHECK(r == SIP_FRAME_MSG || r == SIP_FRAME_MORE ||
				   r == SIP_FRAME_KEEPALIVE);
			if (r == SIP_FRAME_MORE)
				break;
			FUZZ_CHECK(used > 0 && used <= len);
			if (r == SIP_FRAME_KEEPALIVE) {
				for (size_t i = 0; i < used; i++)
					FUZZ_CHECK(buf[i] == '\r' || buf[i] == '\n');
			} else {
				if (run->n < MAX_MSGS)
					run->ends[run->n] = base + used;
				run->n++;
				if (parse)
					parse_framed(buf, used, lim);
			}
			nb = fuzz_dup(buf + used, len - used);
			free(buf);
			buf = nb;
			len -= used;
			base += used;
		}
	}
out:
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run chunked, whole;
	struct sip_limits lim = sip_limits_default;
	uint32_t seed;
	size_t n;

	if (size < 1)
		return 0;
	seed = 2654435761u * ((uint32_t)data[0] + 1);
	if (data[0] & 0x80)
		lim.max_msg = 128 + 16 * (size_t)(data[0] & 0x7f);

	feed(&chunked, data + 1, size - 1, seed, &lim, true);
	feed(&whole, data + 1, size - 1, 0, &lim, false);

	/*
	 * Keep-alives may be reported differently ("\r\n" twice, or one
	 * "\r\n\r\n"), and leading CRLFs counted with a message or not, so
	 * compare where messages end and whether the stream failed.
	 */
	FUZZ_CHECK((chunked.err != 0) == (whole.err != 0));
	FUZZ_CHECK(chunked.n == whole.n);
	n = chunked.n < MAX_MSGS ? chunked.n : MAX_MSGS;
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(chunked.ends[i] == whole.ends[i]);
	return 0;
}
