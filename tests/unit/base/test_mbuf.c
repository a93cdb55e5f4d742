/*
 * Unit tests for mbuf: appending every kind of value, printf growing the
 * buffer, the limit (-EMSGSIZE, nothing appended), and consuming with
 * advance/compact the way a stream reader does, and a failed growth that
 * leaves the buffer as it was.
 */
#include <stdio.h>

#include "base/mbuf.h"
#include "base/mem.h"
#include "test.h"

TEST(test_mbuf_write)
{
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 0);
	/* Nothing to append allocates nothing. */
	TEST_ERR(mbuf_write(&mb, NULL, 0));
	TEST_ERR(mbuf_write_str(&mb, &STR_NULL));
	TEST_ASSERT(mb.buf == NULL);
	TEST_EQUALS(0, mbuf_left(&mb));

	TEST_ERR(mbuf_write_cstr(&mb, "SIP/2.0 "));
	TEST_ERR(mbuf_write_u64(&mb, 200));
	TEST_ERR(mbuf_write_u8(&mb, ' '));
	TEST_ERR(mbuf_write_str(&mb, &(struct str){"OK\r\nVia", 4}));
	TEST_ERR(mbuf_write(&mb, "\0x", 2));
	TEST_EQUALS(18, mbuf_left(&mb));
	TEST_STR("SIP/2.0 200 OK\r\n", str_make(mbuf_str(&mb).p, 16));
	TEST_EQUALS('\0', mb.buf[16]);
	TEST_EQUALS('x', mb.buf[17]);

	mbuf_reset(&mb);
	TEST_ERR(mbuf_write_u64(&mb, 0));
	TEST_ERR(mbuf_write_u8(&mb, ','));
	TEST_ERR(mbuf_write_u64(&mb, UINT64_MAX));
	TEST_ERR(mbuf_write_u8(&mb, ','));
	TEST_ERR(mbuf_write_u64(&mb, 10));
	TEST_STR("0,18446744073709551615,10", mbuf_str(&mb));
out:
	mbuf_reset(&mb);
	return err;
}

TEST(test_mbuf_printf_growth)
{
	char expect[8192];
	size_t len = 0;
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 0);
	for (int i = 0; i < 300; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "CSeq: %d INVITE\r\n", i * 7919);

		TEST_ERR(mbuf_printf(&mb, "CSeq: %d %s\r\n", i * 7919, "INVITE"));
		memcpy(expect + len, line, (size_t)n);
		len += (size_t)n;
		TEST_ASSERT(mb.size >= mb.end);
	}
	TEST_EQUALS(len, mbuf_left(&mb));
	TEST_ASSERT(!memcmp(mbuf_str(&mb).p, expect, len));

	/* One printf much bigger than the buffer grows it at once. */
	memset(expect, 'a', 5000);
	expect[5000] = '\0';
	TEST_ERR(mbuf_printf(&mb, "[%s]", expect));
	TEST_EQUALS(len + 5002, mbuf_left(&mb));
	TEST_EQUALS('[', mb.buf[len]);
	TEST_EQUALS('a', mb.buf[len + 5000]);
	TEST_EQUALS(']', mb.buf[len + 5001]);
	TEST_ERR(mbuf_printf(&mb, "%s", ""));
	TEST_EQUALS(len + 5002, mbuf_left(&mb));
out:
	mbuf_reset(&mb);
	return err;
}

TEST(test_mbuf_limit)
{
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 16);
	TEST_ERR(mbuf_write_cstr(&mb, "0123456789"));
	TEST_EQUALS(-EMSGSIZE, mbuf_write_cstr(&mb, "abcdefg"));
	TEST_EQUALS(-EMSGSIZE, mbuf_printf(&mb, "%s", "abcdefg"));
	TEST_EQUALS(-EMSGSIZE, mbuf_reserve(&mb, 7));
	TEST_EQUALS(-EMSGSIZE, mbuf_reserve(&mb, SIZE_MAX));
	TEST_STR("0123456789", mbuf_str(&mb));
	TEST_ERR(mbuf_write_cstr(&mb, "abcdef")); /* exactly at the limit */
	TEST_EQUALS(-EMSGSIZE, mbuf_write_u8(&mb, 'x'));
	TEST_EQUALS(-EMSGSIZE, mbuf_write_u64(&mb, 0));
	TEST_ERR(mbuf_write(&mb, NULL, 0));
	TEST_STR("0123456789abcdef", mbuf_str(&mb));
	TEST_ASSERT(mb.size <= 16);

	/* Consumed bytes still count until compacted. */
	mbuf_advance(&mb, 10);
	TEST_EQUALS(-EMSGSIZE, mbuf_write_u8(&mb, 'x'));
	mbuf_compact(&mb);
	TEST_ERR(mbuf_write_cstr(&mb, "0123456789"));
	TEST_STR("abcdef0123456789", mbuf_str(&mb));

	/* printf may fill the buffer to the limit exactly, even from empty. */
	mbuf_reset(&mb);
	TEST_EQUALS(16, mb.limit);
	TEST_ERR(mbuf_printf(&mb, "%08d%s", 42, "ABCDEFGH"));
	TEST_STR("00000042ABCDEFGH", mbuf_str(&mb));
	TEST_EQUALS(-EMSGSIZE, mbuf_printf(&mb, "x"));
	TEST_ERR(mbuf_printf(&mb, "%s", ""));
	TEST_EQUALS(16, mbuf_left(&mb));
out:
	mbuf_reset(&mb);
	return err;
}

/* A stream reader: bytes come in pieces, whole lines are cut off the front. */
TEST(test_mbuf_advance_compact)
{
	static const char *const pieces[] = {"REGISTER sip:a", " SIP/2.0\nOPTIONS",
					     " sip:b SIP/2.0\n", "BYE sip:c", " SIP/2.0\n"};
	static const char *const lines[] = {"REGISTER sip:a SIP/2.0", "OPTIONS sip:b SIP/2.0",
					    "BYE sip:c SIP/2.0"};
	size_t nlines = 0;
	struct mbuf mb;
	int err = 0;

	mbuf_init(&mb, 64);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct str s;
		long nl;

		TEST_ERR(mbuf_write_cstr(&mb, pieces[i]));
		while (s = mbuf_str(&mb), (nl = str_chr(&s, '\n')) >= 0) {
			TEST_ASSERT(nlines < 3);
			TEST_STR(lines[nlines], str_make(s.p, (size_t)nl));
			nlines++;
			mbuf_advance(&mb, (size_t)nl + 1);
		}
		mbuf_compact(&mb);
		TEST_EQUALS(0, mb.pos);
	}
	TEST_EQUALS(3, nlines);
	TEST_EQUALS(0, mbuf_left(&mb));

	TEST_ERR(mbuf_write_cstr(&mb, "hello world"));
	mbuf_advance(&mb, 6);
	TEST_STR("world", mbuf_str(&mb));
	mbuf_advance(&mb, 100); /* clamped */
	TEST_EQUALS(0, mbuf_left(&mb));
	TEST_EQUALS(mb.end, mb.pos);
	mbuf_compact(&mb);
	TEST_EQUALS(0, mb.end);
out:
	mbuf_reset(&mb);
	return err;
}

/* Outside --oom only: there the runner owns the failure point. */
TEST(test_mbuf_enomem_appends_nothing)
{
	char big[300];
	struct mbuf mb;
	int err = 0, ret;

	mbuf_init(&mb, 0);
	if (test_oom_mode())
		goto out;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TEST_ERR(mbuf_write_cstr(&mb, "abc"));

	mem_fail_at(1);
	ret = mbuf_printf(&mb, "%s", big);
	mem_fail_at(0);
	TEST_EQUALS(-ENOMEM, ret);
	TEST_STR("abc", mbuf_str(&mb));

	mem_fail_at(1);
	ret = mbuf_write_cstr(&mb, big);
	mem_fail_at(0);
	TEST_EQUALS(-ENOMEM, ret);
	TEST_STR("abc", mbuf_str(&mb));

	TEST_ERR(mbuf_write_cstr(&mb, big));
	TEST_EQUALS(3 + strlen(big), mbuf_left(&mb));
out:
	mbuf_reset(&mb);
	return err;
}
