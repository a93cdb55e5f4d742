/*
 * Unit tests for acct: argon2id PHC strings (shape, parameters, verify,
 * mismatch, malformed and over-costly strings, password limits), tokens
 * (shape, uniqueness, syntax check, SHA-256 against a known vector), the
 * throttling policy step by step on a fake clock with a full table, and
 * role names both ways.
 */
#include <stdio.h>
#include <string.h>

#include "acct/acct.h"
#include "test.h"

/* Hashing costs ~20-60 ms: one hash serves every check of the test. */
TEST(test_acct_password_hash_verify)
{
	char phc[ACCT_PW_HASH_SIZE], other[ACCT_PW_HASH_SIZE], small[64];
	char pw[ACCT_PASSWORD_MAX + 2];
	int err = 0;

	TEST_ERR(acct_password_hash("s3cret-1001", phc, sizeof(phc)));
	TEST_ASSERT(!strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31));
	/* 16 bytes of salt and 32 of hash, unpadded base64. */
	TEST_EQUALS(31 + 22 + 1 + 43, strlen(phc));
	TEST_ERR(acct_password_verify(phc, "s3cret-1001"));
	TEST_EQUALS(-EACCES, acct_password_verify(phc, "s3cret-1002"));
	TEST_EQUALS(-EACCES, acct_password_verify(phc, ""));
	TEST_ASSERT(!acct_password_needs_rehash(phc));
	/* The same password again: another salt, another string. */
	TEST_ERR(acct_password_hash("s3cret-1001", other, sizeof(other)));
	TEST_ASSERT(strcmp(phc, other) != 0);
	/* Limits: empty, too long, a buffer too small (untouched). */
	memset(pw, 'x', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	TEST_EQUALS(-EINVAL, acct_password_hash("", other, sizeof(other)));
	TEST_EQUALS(-EINVAL, acct_password_hash(pw, other, sizeof(other)));
	TEST_EQUALS(-EACCES, acct_password_verify(phc, pw));
	TEST_EQUALS(-EINVAL, acct_password_hash(NULL, other, sizeof(other)));
	small[0] = '\0';
	TEST_EQUALS(-ENOSPC, acct_password_hash("s3cret-1001", small, sizeof(small)));
	TEST_EQUALS(0, small[0]);
out:
	return err;
}

TEST(test_acct_password_malformed)
{
	static const char *const bad[] = {
	    "",
	    "s3cret",
	    "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$!!!",
	    "$argon2id$v=19$m=19456,t=2,p=1$",
	    /* Costs no stored value may ask for. */
	    "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (acct_password_verify(bad[i], "s3cret-1001") != -EINVAL)
			test_fail(__FILE__, __LINE__, "case %zu accepted: %s", i, bad[i]);
		TEST_ASSERT(acct_password_verify(bad[i], "s3cret-1001") == -EINVAL);
	}
	TEST_EQUALS(-EINVAL, acct_password_verify(NULL, "s3cret-1001"));
	TEST_ASSERT(acct_password_needs_rehash("s3cret") && acct_password_needs_rehash(NULL));
	/* Cheaper parameters than today's still verify (RFC 9106 test
	 * parameters are not ours), but ask for a re-hash. */
	TEST_ASSERT(acct_password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$"
					       "c2FsdHNhbHRzYWx0c2FsdA$"
					       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
out:
	return err;
}

/* A known answer: the argon2id vector of the reference implementation's
 * tests (phc-winner-argon2 src/test.c: t=2, m=64 MiB, p=1). */
TEST(test_acct_password_known_answer)
{
	static const char phc[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$"
				  "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
	int err = 0;

	TEST_ERR(acct_password_verify(phc, "password"));
	TEST_EQUALS(-EACCES, acct_password_verify(phc, "passwore"));
	TEST_ASSERT(acct_password_needs_rehash(phc));
out:
	return err;
}

TEST(test_acct_token)
{
	char a[ACCT_TOKEN_SIZE], b[ACCT_TOKEN_SIZE], hex[ACCT_TOKEN_HASH_SIZE],
	    bad[ACCT_TOKEN_SIZE];
	int err = 0;

	TEST_ERR(acct_token_new(a));
	TEST_ERR(acct_token_new(b));
	TEST_EQUALS(ACCT_TOKEN_LEN, strlen(a));
	TEST_ASSERT(!strncmp(a, "sgt_", 4));
	TEST_ASSERT(strcmp(a, b) != 0);
	TEST_ASSERT(acct_token_valid_syntax(a, strlen(a)));
	TEST_ASSERT(acct_token_valid_syntax(b, strlen(b)));
	/* Not a token: short, long, other prefix, padding, standard base64,
	 * a last character no 32 bytes end with. */
	TEST_ASSERT(!acct_token_valid_syntax(a, strlen(a) - 1));
	TEST_ASSERT(!acct_token_valid_syntax(NULL, 0));
	memcpy(bad, a, sizeof(bad));
	bad[0] = 'x';
	TEST_ASSERT(!acct_token_valid_syntax(bad, strlen(bad)));
	memcpy(bad, a, sizeof(bad));
	bad[10] = '+';
	TEST_ASSERT(!acct_token_valid_syntax(bad, strlen(bad)));
	memcpy(bad, a, sizeof(bad));
	bad[ACCT_TOKEN_LEN - 1] = '=';
	TEST_ASSERT(!acct_token_valid_syntax(bad, strlen(bad)));
	bad[ACCT_TOKEN_LEN - 1] = 'B';
	TEST_ASSERT(!acct_token_valid_syntax(bad, strlen(bad)));
	bad[ACCT_TOKEN_LEN - 1] = 'E';
	TEST_ASSERT(acct_token_valid_syntax(bad, strlen(bad)));
	/* sha256sum of "abc" (FIPS 180-2 B.1); the length is honoured. */
	TEST_ERR(acct_token_hash("abcdef", 3, hex));
	TEST_ASSERT(
	    !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	TEST_ERR(acct_token_hash(a, strlen(a), hex));
	TEST_EQUALS(64, strlen(hex));
	TEST_EQUALS(-EINVAL, acct_token_hash(NULL, 0, hex));
out:
	return err;
}

TEST(test_acct_throttle_policy)
{
	struct acct_throttle *t = NULL;
	const char *k = "acme/1001";
	int64_t now = 1000000, wait = -1;
	int err = acct_throttle_alloc(&t, 8);

	TEST_ERR(err);
	/* Four failures: still allowed. The fifth locks for 30 s. */
	for (int i = 0; i < 4; i++) {
		TEST_ERR(acct_throttle_fail(t, k, now + i * 1000));
		TEST_ERR(acct_throttle_check(t, k, now + i * 1000, &wait));
	}
	now += 4000;
	TEST_ERR(acct_throttle_fail(t, k, now));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, k, now, &wait));
	TEST_EQUALS(30000, wait);
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, k, now + 29999, &wait));
	TEST_EQUALS(1, wait);
	TEST_ERR(acct_throttle_check(t, k, now + 30000, &wait));
	/* Each further failure doubles the lock, up to 15 minutes. */
	now += 30000;
	TEST_ERR(acct_throttle_fail(t, k, now));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, k, now, &wait));
	TEST_EQUALS(60000, wait);
	for (int i = 0; i < 8; i++)
		TEST_ERR(acct_throttle_fail(t, k, now));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, k, now, &wait));
	TEST_EQUALS(ACCT_THROTTLE_LOCK_MAX_MS, wait);
	/* Other keys are not affected. */
	TEST_ERR(acct_throttle_check(t, "acme/1002", now, NULL));
	/* 15 quiet minutes after the lock ended: forgotten; one failure does
	 * not lock again. */
	now += ACCT_THROTTLE_LOCK_MAX_MS + ACCT_THROTTLE_WINDOW_MS;
	TEST_ERR(acct_throttle_fail(t, k, now));
	TEST_ERR(acct_throttle_check(t, k, now, NULL));
	/* A success forgets the key. */
	for (int i = 0; i < 3; i++)
		TEST_ERR(acct_throttle_fail(t, k, now));
	acct_throttle_ok(t, k);
	TEST_EQUALS(0, acct_throttle_count(t));
	TEST_ERR(acct_throttle_fail(t, k, now));
	TEST_ERR(acct_throttle_check(t, k, now, NULL));
	/* Failures spread over more than 15 minutes do not add up. */
	for (int i = 0; i < 8; i++)
		TEST_ERR(acct_throttle_fail(t, "198.51.100.7", now + i * 4 * 60 * 1000));
	TEST_ERR(acct_throttle_check(t, "198.51.100.7", now + 8 * 4 * 60 * 1000, NULL));
out:
	acct_throttle_free(t);
	return err;
}

TEST(test_acct_throttle_bounded)
{
	struct acct_throttle *t = NULL;
	char key[ACCT_THROTTLE_KEY_MAX + 2];
	int64_t now = 5000;
	int err = acct_throttle_alloc(&t, 4);

	TEST_ERR(err);
	/* "locked" is locked; then more keys than the table holds fail once
	 * each: the counting ones are forgotten first, the lock stays. */
	for (int i = 0; i < 5; i++)
		TEST_ERR(acct_throttle_fail(t, "locked", now));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, "locked", now, NULL));
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "203.0.113.%d", i);
		TEST_ERR(acct_throttle_fail(t, key, now + i));
		TEST_ASSERT(acct_throttle_count(t) <= 4);
	}
	TEST_EQUALS(4, acct_throttle_count(t));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, "locked", now, NULL));
	/* Only locked keys: the oldest goes. */
	for (int i = 0; i < 5; i++) {
		TEST_ERR(acct_throttle_fail(t, "b", now + 1));
		TEST_ERR(acct_throttle_fail(t, "c", now + 2));
		TEST_ERR(acct_throttle_fail(t, "d", now + 3));
	}
	TEST_ERR(acct_throttle_fail(t, "e", now + 4));
	TEST_ERR(acct_throttle_check(t, "locked", now + 4, NULL));
	TEST_EQUALS(-EAGAIN, acct_throttle_check(t, "b", now + 4, NULL));
	/* Bad keys and arguments. */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	TEST_EQUALS(-EINVAL, acct_throttle_fail(t, key, now));
	TEST_EQUALS(-EINVAL, acct_throttle_check(t, key, now, NULL));
	TEST_EQUALS(-EINVAL, acct_throttle_fail(t, "", now));
	TEST_EQUALS(-EINVAL, acct_throttle_check(NULL, "a", now, NULL));
	key[ACCT_THROTTLE_KEY_MAX] = '\0';
	TEST_ERR(acct_throttle_fail(t, key, now));
	acct_throttle_ok(t, NULL);
	TEST_EQUALS(-EINVAL, acct_throttle_alloc(&t, 0));
out:
	acct_throttle_free(t);
	return err;
}

TEST(test_acct_roles)
{
	char buf[80];
	unsigned m = 99;
	int err = 0;

	TEST_ASSERT(!strcmp("operator", acct_role_name(ACCT_ROLE_OPERATOR)));
	TEST_ASSERT(!strcmp("tenant-admin", acct_role_name(ACCT_ROLE_TENANT_ADMIN)));
	TEST_ASSERT(!strcmp("supervisor", acct_role_name(ACCT_ROLE_SUPERVISOR)));
	TEST_ASSERT(!strcmp("agent", acct_role_name(ACCT_ROLE_AGENT)));
	TEST_ASSERT(!acct_role_name(ACCT_ROLE_AGENT | ACCT_ROLE_SUPERVISOR));
	TEST_ASSERT(!acct_role_name(0));
	TEST_EQUALS(ACCT_ROLE_SUPERVISOR, acct_role_from_name("supervisor"));
	TEST_EQUALS(0, acct_role_from_name("Agent"));
	TEST_ERR(acct_roles_parse("[\"tenant-admin\", \"supervisor\"]", &m));
	TEST_EQUALS(ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR, m);
	TEST_ERR(acct_roles_parse("[]", &m));
	TEST_EQUALS(0, m);
	TEST_ERR(acct_roles_parse("[\"agent\",\"agent\"]", &m));
	TEST_EQUALS(ACCT_ROLE_AGENT, m);
	m = 99;
	TEST_EQUALS(-EINVAL, acct_roles_parse("[\"boss\"]", &m));
	TEST_EQUALS(-EINVAL, acct_roles_parse("[1]", &m));
	TEST_EQUALS(-EINVAL, acct_roles_parse("{\"agent\":1}", &m));
	TEST_EQUALS(-EINVAL, acct_roles_parse("[\"agent\"", &m));
	TEST_EQUALS(-EINVAL, acct_roles_parse(NULL, &m));
	TEST_EQUALS(99, m);
	TEST_EQUALS(48, acct_roles_format(ACCT_ROLES_ALL, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "[\"operator\",\"tenant-admin\",\"supervisor\",\"agent\"]"));
	TEST_EQUALS(2, acct_roles_format(0, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(buf, "[]"));
	TEST_ERR(acct_roles_parse(buf, &m));
	TEST_EQUALS(9, acct_roles_format(ACCT_ROLE_AGENT, buf, sizeof(buf)));
	TEST_EQUALS(-ENOSPC, acct_roles_format(ACCT_ROLE_AGENT, buf, 9));
	TEST_EQUALS(-EINVAL, acct_roles_format(1u << 7, buf, sizeof(buf)));
out:
	return err;
}
