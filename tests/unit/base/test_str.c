/*
 * Unit tests for str: comparisons, trimming, slicing, searching and the
 * strict number parsers. Views are often cut out of longer strings on
 * purpose, so a function reading past len (as a C string function would)
 * gives a wrong answer here.
 */
#include "base/mem.h"
#include "base/str.h"
#include "test.h"

TEST(test_str_compare)
{
	struct str a = STR("Via"), b = STR("via"), empty = STR(""), null = STR_NULL;
	struct str hay = STR("Content-Length");
	int err = 0;

	TEST_ASSERT(str_eq(&a, &a));
	TEST_ASSERT(!str_eq(&a, &b));
	TEST_ASSERT(str_ieq(&a, &b));
	TEST_ASSERT(str_ieq_cstr(&a, "VIA"));
	TEST_ASSERT(!str_ieq_cstr(&a, "VIAS"));
	TEST_ASSERT(str_eq(&empty, &null));
	TEST_ASSERT(str_ieq(&empty, &null));
	TEST_ASSERT(str_ieq_cstr(&null, NULL));
	/* Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit. */
	TEST_ASSERT(!str_ieq_cstr(&STR("@"), "`"));

	TEST_ASSERT(str_has_prefix(&hay, &STR("Content-")));
	TEST_ASSERT(!str_has_prefix(&hay, &STR("content-")));
	TEST_ASSERT(str_ihas_prefix(&hay, &STR("content-")));
	TEST_ASSERT(str_has_prefix(&hay, &empty));
	TEST_ASSERT(!str_has_prefix(&empty, &hay));
	TEST_ASSERT(!str_ihas_prefix(&STR("Con"), &hay));

	TEST_ASSERT(str_cmp(&a, &a) == 0);
	TEST_ASSERT(str_cmp(&a, &b) < 0); /* 'V' < 'v' */
	TEST_ASSERT(str_cmp(&b, &a) > 0);
	TEST_ASSERT(str_cmp(&STR("ab"), &STR("abc")) < 0);
	TEST_ASSERT(str_cmp(&STR("abc"), &STR("ab")) > 0);
	TEST_ASSERT(str_cmp(&empty, &null) == 0);
	TEST_ASSERT(str_cmp(&empty, &a) < 0);
	/* Bytes compare unsigned, like memcmp. */
	TEST_ASSERT(str_cmp(&STR("\x80"), &STR("\x7f")) > 0);
out:
	return err;
}

TEST(test_str_trim_sub)
{
	struct str s = STR("  \t\r\nINVITE sip:a@b SIP/2.0 \r\n");
	int err = 0;

	TEST_STR("INVITE sip:a@b SIP/2.0", str_trim(s));
	TEST_STR("", str_trim(STR(" \t\r\n ")));
	TEST_STR("", str_trim(STR("")));
	TEST_STR("x", str_trim(STR("x")));
	/* Only SP, HTAB, CR, LF count as white space. */
	TEST_STR("\v x \f", str_trim(STR("\v x \f")));

	s = STR("sip:alice@example.com");
	TEST_STR("alice", str_sub(&s, 4, 5));
	TEST_STR("example.com", str_sub(&s, 10, 1000));
	TEST_STR("", str_sub(&s, 21, 1));
	TEST_STR("", str_sub(&s, 1000, 1000));
	TEST_STR("", str_sub(&s, 3, 0));
	TEST_ASSERT(str_sub(&s, 1000, 1).p == s.p + s.len);
	TEST_ASSERT(str_sub(&STR_NULL, 5, 5).p == NULL);
out:
	return err;
}

TEST(test_str_find)
{
	const char buf[] = "branch=z9hG4bK776;rport";
	struct str s = str_make(buf, 17); /* "branch=z9hG4bK776", ";rport" is outside */
	int err = 0;

	TEST_EQUALS(6, str_chr(&s, '='));
	TEST_EQUALS(0, str_chr(&s, 'b'));
	TEST_EQUALS(16, str_chr(&s, '6'));
	TEST_EQUALS(-1, str_chr(&s, ';'));
	TEST_EQUALS(-1, str_chr(&STR_NULL, 'a'));

	TEST_EQUALS(7, str_find(&s, &STR("z9hG4bK")));
	TEST_EQUALS(0, str_find(&s, &STR("branch")));
	TEST_EQUALS(14, str_find(&s, &STR("776")));
	TEST_EQUALS(-1, str_find(&s, &STR("776;")));
	TEST_EQUALS(-1, str_find(&s, &STR("rport")));
	TEST_EQUALS(-1, str_find(&s, &STR("Branch")));
	TEST_EQUALS(0, str_find(&s, &STR("")));
	TEST_EQUALS(-1, str_find(&STR("ab"), &STR("abc")));
	TEST_EQUALS(-1, str_find(&STR_NULL, &STR("a")));
	/* The first of overlapping candidates wins. */
	TEST_EQUALS(1, str_find(&STR("aaab"), &STR("aab")));
out:
	return err;
}

TEST(test_str_to_u32)
{
	uint32_t v = 7;
	int err = 0;

	TEST_ERR(str_to_u32(&STR("0"), &v));
	TEST_EQUALS(0, v);
	TEST_ERR(str_to_u32(&STR("4294967295"), &v));
	TEST_EQUALS(UINT32_MAX, v);
	TEST_ERR(str_to_u32(&STR("0004294967295"), &v));
	TEST_EQUALS(UINT32_MAX, v);

	v = 7;
	TEST_EQUALS(-ERANGE, str_to_u32(&STR("4294967296"), &v));
	TEST_EQUALS(-ERANGE, str_to_u32(&STR("99999999999999999999999"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR(""), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR_NULL, &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("-1"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("+1"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR(" 1"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("1 "), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("12a"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("0x10"), &v));
	/* Characters just outside '0'..'9'. */
	TEST_EQUALS(-EINVAL, str_to_u32(&STR("/"), &v));
	TEST_EQUALS(-EINVAL, str_to_u32(&STR(":"), &v));
	TEST_EQUALS(7, v); /* untouched by every failure */

	/* A view of "123" inside "1234" must not see the 4. */
	TEST_ERR(str_to_u32(&(struct str){"1234", 3}, &v));
	TEST_EQUALS(123, v);
	/* "4294967295" followed by a digit outside the view still fits. */
	TEST_ERR(str_to_u32(&(struct str){"42949672950", 10}, &v));
	TEST_EQUALS(UINT32_MAX, v);
out:
	return err;
}

TEST(test_str_to_u64)
{
	uint64_t v = 7;
	int err = 0;

	TEST_ERR(str_to_u64(&STR("18446744073709551615"), &v));
	TEST_ASSERT(v == UINT64_MAX);
	TEST_ERR(str_to_u64(&STR("18446744073709551614"), &v));
	TEST_ASSERT(v == UINT64_MAX - 1);

	v = 7;
	TEST_EQUALS(-ERANGE, str_to_u64(&STR("18446744073709551616"), &v));
	TEST_EQUALS(-ERANGE, str_to_u64(&STR("18446744073709551620"), &v));
	TEST_EQUALS(-ERANGE, str_to_u64(&STR("184467440737095516150"), &v));
	TEST_EQUALS(-EINVAL, str_to_u64(&STR("1.5"), &v));
	TEST_EQUALS(7, v);

	TEST_ERR(str_to_u64(&(struct str){"184467440737095516159", 20}, &v));
	TEST_ASSERT(v == UINT64_MAX);
	TEST_ERR(str_to_u64(&(struct str){"5x", 1}, &v));
	TEST_EQUALS(5, v);
out:
	return err;
}

TEST(test_str_to_i64)
{
	int64_t v = 7;
	int err = 0;

	TEST_ERR(str_to_i64(&STR("9223372036854775807"), &v));
	TEST_ASSERT(v == INT64_MAX);
	TEST_ERR(str_to_i64(&STR("-9223372036854775808"), &v));
	TEST_ASSERT(v == INT64_MIN);
	TEST_ERR(str_to_i64(&STR("+42"), &v));
	TEST_EQUALS(42, v);
	TEST_ERR(str_to_i64(&STR("-0"), &v));
	TEST_EQUALS(0, v);

	v = 7;
	TEST_EQUALS(-ERANGE, str_to_i64(&STR("9223372036854775808"), &v));
	TEST_EQUALS(-ERANGE, str_to_i64(&STR("-9223372036854775809"), &v));
	TEST_EQUALS(-ERANGE, str_to_i64(&STR("-18446744073709551616"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR("-"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR("+"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR("--1"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR("+-1"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR(" -1"), &v));
	TEST_EQUALS(-EINVAL, str_to_i64(&STR(""), &v));
	TEST_EQUALS(7, v);

	/* "-12" out of "-123". */
	TEST_ERR(str_to_i64(&(struct str){"-123", 3}, &v));
	TEST_EQUALS(-12, v);
	TEST_EQUALS(-EINVAL, str_to_i64(&(struct str){"-123", 1}, &v));
out:
	return err;
}

TEST(test_str_hash)
{
	struct str a = STR("Call-ID"), b = STR("call-id"), c = STR("Call-Id!");
	int err = 0;

	TEST_ASSERT(str_hash(&a) == str_hash(&STR("Call-ID")));
	TEST_ASSERT(str_hash(&a) != str_hash(&b));
	TEST_ASSERT(str_hash_ci(&a) == str_hash_ci(&b));
	/* A view hashes its own bytes only. */
	TEST_ASSERT(str_hash(&(struct str){c.p, 7}) == str_hash(&STR("Call-Id")));
	TEST_ASSERT(str_hash_ci(&(struct str){c.p, 7}) == str_hash_ci(&a));
	/* FNV-1a offset basis for the empty string. */
	TEST_EQUALS(2166136261u, str_hash(&STR_NULL));
out:
	return err;
}

TEST(test_str_dup_copy)
{
	struct str src = str_make("tenant-42;x", 9), dup = STR_NULL;
	char small[6];
	int err = 0;

	err = str_dup(&dup, &src);
	TEST_ERR(err);
	TEST_STR("tenant-42", dup);
	TEST_ASSERT(dup.p != src.p);
	TEST_EQUALS('\0', dup.p[dup.len]);

	TEST_EQUALS(5, str_copy_cstr(small, sizeof(small), &src));
	TEST_ASSERT(!strcmp(small, "tenan"));
	TEST_EQUALS(0, str_copy_cstr(small, sizeof(small), &STR_NULL));
	TEST_ASSERT(!strcmp(small, ""));
	TEST_EQUALS(0, str_copy_cstr(small, 0, &src));
out:
	mem_free((void *)dup.p);
	return err;
}
