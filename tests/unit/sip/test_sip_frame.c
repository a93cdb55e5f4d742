/*
 * Unit tests for sip_frame: cutting a TCP/TLS byte stream into messages
 * (RFC 3261 §18.3) and reporting CRLF keep-alives (RFC 5626 §3.5.1). Inputs
 * sit at the end of exact-size heap blocks so an over-read shows under ASan.
 * Not here: validating the messages themselves (test_sip_msg).
 */
#include <stdio.h>

#include "base/arena.h"
#include "base/mem.h"
#include "sip/sip_frame.h"
#include "sip/sip_msg.h"
#include "test.h"

#define CRLF "\r\n"
#define HDRS                                                                     \
	"Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF        \
	"To: Bob <sip:bob@biloxi.example.com>" CRLF                              \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "Max-Forwards: 70" CRLF

/* A body that itself looks like headers, so only Content-Length can delimit it. */
#define M1                                                                          \
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF HDRS "CSeq: 1 INVITE" CRLF \
	"X-Content-Length: 99" CRLF "Content-Length: 24" CRLF CRLF "Content-Length: 99\r\n\r\nab"
#define M2                                                                    \
	"BYE sip:bob@biloxi.example.com SIP/2.0" CRLF HDRS "CSeq: 2 BYE" CRLF \
	"content-length:   0" CRLF CRLF
#define M3                                                                            \
	"MESSAGE sip:bob@biloxi.example.com SIP/2.0" CRLF HDRS "CSeq: 3 MESSAGE" CRLF \
	"c: text/plain" CRLF "l: 5" CRLF CRLF "hello"

/* Run sip_frame on an exact-size heap copy of @s[0..@len). */
static int frame(const char *s, size_t len, const struct sip_limits *lim, size_t *used,
		 struct sip_perr *pe)
{
	char *buf = mem_alloc(len ? len : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, s, len);
	memset(pe, 0, sizeof(*pe));
	r = sip_frame(buf, len, lim, used, pe);
	/* perr.hdr points into the copy: move it to the caller's bytes. */
	if (pe->hdr.len && pe->hdr.p >= buf && pe->hdr.p < buf + len)
		pe->hdr.p = s + (pe->hdr.p - buf);
	mem_free(buf);
	return r;
}

TEST(test_sip_frame_one)
{
	static const char m1[] = M1;
	_Alignas(16) char abuf[16384];
	struct arena a;
	struct sip_msg *m;
	struct sip_perr pe;
	size_t used = 0;
	int err = 0;

	arena_init(&a, abuf, sizeof(abuf), 0);
	TEST_EQUALS(SIP_FRAME_MSG, frame(m1, sizeof(m1) - 1, NULL, &used, &pe));
	TEST_EQUALS(sizeof(m1) - 1, used);
	/* What the framer cut is one whole message for the parser. */
	TEST_ERR(sip_msg_parse(&m, &a, m1, used, 0, NULL, &pe));
	TEST_STR("Content-Length: 99\r\n\r\nab", m->body);
out:
	arena_reset(&a);
	return err;
}

TEST(test_sip_frame_two)
{
	static const char two[] = M1 M2 M3;
	static const size_t l1 = sizeof(M1) - 1, l2 = sizeof(M2) - 1, l3 = sizeof(M3) - 1;
	struct sip_perr pe;
	size_t used = 0;
	int err = 0;

	TEST_EQUALS(SIP_FRAME_MSG, frame(two, sizeof(two) - 1, NULL, &used, &pe));
	TEST_EQUALS(l1, used);
	TEST_EQUALS(SIP_FRAME_MSG, frame(two + l1, l2 + l3, NULL, &used, &pe));
	TEST_EQUALS(l2, used);
	TEST_EQUALS(SIP_FRAME_MSG, frame(two + l1 + l2, l3, NULL, &used, &pe));
	TEST_EQUALS(l3, used);
	/* The second message followed by part of the third. */
	TEST_EQUALS(SIP_FRAME_MSG, frame(two + l1, l2 + 10, NULL, &used, &pe));
	TEST_EQUALS(l2, used);
out:
	return err;
}

/* Every strict prefix, in the headers or in the body, asks for more. */
TEST(test_sip_frame_partial)
{
	static const char m1[] = M1;
	struct sip_perr pe;
	size_t used;
	int err = 0;

	for (size_t i = 0; i < sizeof(m1) - 1; i++) {
		int r = frame(m1, i, NULL, &used, &pe);

		if (r == -ENOMEM && test_oom_mode())
			goto out;
		if (r != SIP_FRAME_MORE) {
			test_fail(__FILE__, __LINE__, "prefix of %zu bytes: %d", i, r);
			err = -EINVAL;
			goto out;
		}
	}
out:
	return err;
}

TEST(test_sip_frame_keepalive)
{
	static const char ping_msg[] = "\r\n\r\n" M2;
	static const char pong_msg[] = "\r\n" M2;
	struct sip_perr pe;
	size_t used = 0;
	int r, err = 0;

	TEST_EQUALS(SIP_FRAME_KEEPALIVE, frame("\r\n\r\n", 4, NULL, &used, &pe));
	TEST_EQUALS(4, used);
	TEST_EQUALS(SIP_FRAME_KEEPALIVE, frame(ping_msg, sizeof(ping_msg) - 1, NULL, &used, &pe));
	TEST_EQUALS(4, used);
	TEST_EQUALS(SIP_FRAME_MSG, frame(ping_msg + 4, sizeof(ping_msg) - 5, NULL, &used, &pe));
	TEST_EQUALS(sizeof(M2) - 1, used);
	TEST_EQUALS(SIP_FRAME_KEEPALIVE, frame(pong_msg, sizeof(pong_msg) - 1, NULL, &used, &pe));
	TEST_EQUALS(2, used);
	/* A lone CRLF is a pong, or the start of a ping: either answer is sound. */
	used = 0;
	r = frame("\r\n", 2, NULL, &used, &pe);
	TEST_ASSERT(r == SIP_FRAME_MORE || (r == SIP_FRAME_KEEPALIVE && used == 2));
	TEST_EQUALS(SIP_FRAME_MORE, frame("\r", 1, NULL, &used, &pe));
	TEST_EQUALS(SIP_FRAME_MORE, frame("", 0, NULL, &used, &pe));
out:
	return err;
}

static const struct {
	const char *name;
	const char *msg;
	const char *hdr; /* perr.hdr, or NULL when not checked */
} bad_frames[] = {
    {"no Content-Length",
     "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF CRLF, NULL},
    {"negative",
     "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS "Content-Length: -4" CRLF CRLF "abcd",
     "Content-Length"},
    {"garbled",
     "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS "Content-Length: 12a" CRLF CRLF "abcd",
     "Content-Length"},
    {"empty", "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS "Content-Length:" CRLF CRLF,
     "Content-Length"},
    {"conflicting",
     "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS "Content-Length: 4" CRLF "l: 2" CRLF CRLF
     "abcd",
     NULL},
    {"overflowing",
     "OPTIONS sip:a@b.example.com SIP/2.0" CRLF HDRS
     "Content-Length: 99999999999999999999999" CRLF CRLF,
     NULL},
};

TEST(test_sip_frame_bad_length)
{
	struct sip_perr pe;
	size_t used;
	int err = 0;

	for (size_t k = 0; k < sizeof(bad_frames) / sizeof(bad_frames[0]); k++) {
		const char *s = bad_frames[k].msg;
		int r = frame(s, strlen(s), NULL, &used, &pe);

		if (r == -ENOMEM && test_oom_mode())
			continue;
		/* A big number is a size problem or a bad value: either way, unrecoverable. */
		if (r != -EBADMSG && !(k == 5 && r == -EMSGSIZE)) {
			test_fail(__FILE__, __LINE__, "%s: got %d", bad_frames[k].name, r);
			err = -EINVAL;
			continue;
		}
		if (!pe.reason || !pe.reason[0]) {
			test_fail(__FILE__, __LINE__, "%s: no reason", bad_frames[k].name);
			err = -EINVAL;
		}
		if (bad_frames[k].hdr && !str_ieq_cstr(&pe.hdr, bad_frames[k].hdr)) {
			test_fail(__FILE__, __LINE__, "%s: hdr \"%.*s\"", bad_frames[k].name,
				  STR_FMT(&pe.hdr));
			err = -EINVAL;
		}
	}
	return err;
}

TEST(test_sip_frame_oversize)
{
	static const char m1[] = M1;
	struct sip_limits lim = sip_limits_default;
	struct sip_perr pe;
	size_t used = 0;
	char *big = NULL;
	int err = 0;

	lim.max_msg = sizeof(m1) - 1;
	TEST_EQUALS(SIP_FRAME_MSG, frame(m1, sizeof(m1) - 1, &lim, &used, &pe));
	lim.max_msg = sizeof(m1) - 2;
	TEST_EQUALS(-EMSGSIZE, frame(m1, sizeof(m1) - 1, &lim, &used, &pe));
	TEST_ASSERT(pe.reason && pe.reason[0]);
	/* Known too big as soon as Content-Length is read, before the body arrives. */
	TEST_EQUALS(-EMSGSIZE, frame(m1, sizeof(m1) - 1 - 24, &lim, &used, &pe));
	/* Headers that never end must not be waited for past the limit. */
	lim.max_msg = 100;
	TEST_EQUALS(-EMSGSIZE, frame(m1, 150, &lim, &used, &pe));
	/* Default limit: a declared body of 70000 bytes. */
	{
		static const char head[] = "MESSAGE sip:a@b.example.com SIP/2.0" CRLF HDRS
					   "CSeq: 1 MESSAGE" CRLF "Content-Length: 70000" CRLF CRLF;

		TEST_EQUALS(-EMSGSIZE, frame(head, sizeof(head) - 1, NULL, &used, &pe));
	}
	/* Default limit: 70000 bytes of headers without an end. */
	big = mem_alloc(70000);
	if (!big) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(big, "OPTIONS sip:a@b.example.com SIP/2.0\r\n", 38);
	for (size_t i = 38; i + 8 <= 70000; i += 8)
		memcpy(big + i, "X-A: b\r\n", 8);
	TEST_EQUALS(-EMSGSIZE, frame(big, 70000, NULL, &used, &pe));
out:
	mem_free(big);
	return err;
}

/*
 * A stream fed 1, 3, 7... bytes at a time: each message comes out whole and
 * in order, the keep-alives in between are consumed, nothing is left over.
 */
TEST(test_sip_frame_stream)
{
	static const char stream[] = "\r\n\r\n" M1 "\r\n" M2 M3 "\r\n\r\n";
	static const size_t want[] = {sizeof(M1) - 1, sizeof(M2) - 1, sizeof(M3) - 1};
	static const size_t steps[] = {1, 3, 7, 64, sizeof(stream) - 1};
	const size_t total = sizeof(stream) - 1;
	char *buf = NULL;
	int err = 0;

	buf = mem_alloc(total);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		size_t have = 0, pos = 0, nmsg = 0, ka = 0;

		while (have < total) {
			size_t n = steps[s] < total - have ? steps[s] : total - have;

			memcpy(buf + have, stream + have, n);
			have += n;
			for (;;) {
				struct sip_perr pe;
				size_t used = 0;
				int r = sip_frame(buf + pos, have - pos, NULL, &used, &pe);

				if (r == SIP_FRAME_MORE)
					break;
				if (r == SIP_FRAME_KEEPALIVE) {
					TEST_ASSERT(used == 2 || used == 4);
					ka += used;
				} else {
					TEST_EQUALS(SIP_FRAME_MSG, r);
					TEST_ASSERT(nmsg < 3);
					TEST_EQUALS(want[nmsg], used);
					TEST_ASSERT(!memcmp(buf + pos,
							    nmsg == 0	? M1
							    : nmsg == 1 ? M2
									: M3,
							    used));
					nmsg++;
				}
				TEST_ASSERT(used > 0 && used <= have - pos);
				pos += used;
			}
		}
		TEST_EQUALS(3, nmsg);
		/* The trailing CRLFCRLF is a complete ping. */
		TEST_EQUALS(total, pos);
		TEST_EQUALS(10, ka);
	}
out:
	mem_free(buf);
	return err;
}

/*
 * Regression (found by fuzz_sip_msg): stray CR and LF bytes before a start
 * line, which the parser skips, made the framer fail with "stray CR" on a
 * stream the parser accepts. The framer now skips them too.
 */
TEST(test_sip_frame_stray_cr_lf)
{
	static const char in[] = "\n\n\r\r\n\n\r\n\r"
				 "OPTIONS sip:a@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
				 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
				 "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	size_t off = 0, used = 0, len = sizeof(in) - 1;
	struct sip_perr perr = {0};
	int r, err = 0;

	while ((r = sip_frame(in + off, len - off, NULL, &used, &perr)) == SIP_FRAME_KEEPALIVE) {
		TEST_ASSERT(used >= 1 && used <= 4);
		off += used;
	}
	TEST_EQUALS(SIP_FRAME_MSG, r);
	TEST_EQUALS(9, off);
	TEST_EQUALS(len - 9, used);
out:
	return err;
}
