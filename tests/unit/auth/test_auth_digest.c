/*
 * Digest authentication: HA1 and responses against the worked examples of
 * RFC 7616 §3.9.1 (MD5 and SHA-256; SHA-512/256 computed independently),
 * verification of parsed credentials, signed nonces, nonce-count replay.
 */
#include <stdio.h>

#include "auth/auth_digest.h"
#include "base/arena.h"
#include "test.h"

#define USER   "Mufasa"
#define REALM  "http-auth@example.org"
#define PASS   "Circle of Life"
#define NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

TEST(test_auth_ha1_vectors)
{
	static const struct {
		enum auth_hash h;
		const char *ha1;
	} v[] = {
	    {AUTH_HASH_MD5, "3d78807defe7de2157e2b0b6573a855f"},
	    {AUTH_HASH_SHA256, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"},
	    {AUTH_HASH_SHA512_256,
	     "fb174f5c3c7802721517cae13b98e2b8dae2e0118cb705d94ee29946319204ce"},
	};
	struct str user = STR(USER), realm = STR(REALM), pass = STR(PASS);
	char out[65];
	int err = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		TEST_ERR(auth_ha1(v[i].h, &user, &realm, &pass, out, sizeof(out)));
		TEST_STR(v[i].ha1, str_cstr(out));
		TEST_EQUALS(strlen(v[i].ha1), auth_hash_hexlen(v[i].h));
	}
	/* Too small a buffer is refused, not overrun. */
	TEST_EQUALS(-ENOSPC, auth_ha1(AUTH_HASH_SHA256, &user, &realm, &pass, out, 64));
out:
	return err;
}

/* RFC 7616 §3.9.1: GET /dir/index.html, nc=00000001, qop=auth. */
TEST(test_auth_response_vectors)
{
	static const struct {
		enum auth_hash h;
		const char *resp;
	} v[] = {
	    {AUTH_HASH_MD5, "8ca523f5e9506fed4657c9700eebdbec"},
	    {AUTH_HASH_SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	    {AUTH_HASH_SHA512_256,
	     "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0"},
	};
	struct str user = STR(USER), realm = STR(REALM), pass = STR(PASS), method = STR("GET"),
		   uri = STR("/dir/index.html"), nonce = STR(NONCE), nc = STR("00000001"),
		   cnonce = STR(CNONCE), qop = STR("auth"), none = STR("");
	char ha1[65], out[65];
	struct str ha1s;
	int err = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		TEST_ERR(auth_ha1(v[i].h, &user, &realm, &pass, ha1, sizeof(ha1)));
		ha1s = str_cstr(ha1);
		TEST_ERR(auth_response(v[i].h, &ha1s, &method, &uri, &nonce, &nc, &cnonce, &qop,
				       out, sizeof(out)));
		TEST_STR(v[i].resp, str_cstr(out));
	}
	/* RFC 2069 form (no qop): H(HA1:nonce:H(A2)). */
	TEST_ERR(auth_ha1(AUTH_HASH_MD5, &user, &realm, &pass, ha1, sizeof(ha1)));
	ha1s = str_cstr(ha1);
	method = STR("REGISTER");
	uri = STR("sip:acme.example");
	nonce = STR("abc");
	TEST_ERR(auth_response(AUTH_HASH_MD5, &ha1s, &method, &uri, &nonce, &none, &none, &none,
			       out, sizeof(out)));
	TEST_STR("100464d9b3f2fce3b9bbd5955935476b", str_cstr(out));
out:
	return err;
}

/* Parse a REGISTER carrying @auth and verify it against Mufasa's HA1. */
static int verify(const char *auth, enum auth_hash h, bool *ok)
{
	char buf[2048], ha1[65], abuf[8192];
	struct str user = STR(USER), realm = STR(REALM), pass = STR(PASS), method;
	struct arena a;
	struct sip_msg *m;
	struct str ha1s;
	int n, err;

	n = snprintf(buf, sizeof(buf),
		     "REGISTER sip:acme.example SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
		     "From: <sip:Mufasa@acme.example>;tag=1\r\nTo: <sip:Mufasa@acme.example>\r\n"
		     "Call-ID: v1\r\nCSeq: 1 REGISTER\r\nAuthorization: %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     auth);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	arena_init(&a, abuf, sizeof(abuf), 0);
	err = sip_msg_parse(&m, &a, buf, (size_t)n, 0, NULL, NULL);
	if (err)
		goto out;
	err = auth_ha1(h, &user, &realm, &pass, ha1, sizeof(ha1));
	if (err)
		goto out;
	ha1s = str_cstr(ha1);
	method = STR("GET"); /* the RFC example's method, whatever the request */
	*ok = auth_digest_verify(sip_msg_hdr(m, SIP_HDR_AUTHORIZATION)->p.auth, h, &ha1s, &method);
out:
	arena_reset(&a);
	return err;
}

#define CRED(resp, extra)                                                            \
	"Digest username=\"Mufasa\", realm=\"" REALM "\", uri=\"/dir/index.html\", " \
	"nonce=\"" NONCE "\", nc=00000001, cnonce=\"" CNONCE "\", response=\"" resp "\"" extra

TEST(test_auth_digest_verify)
{
	bool ok = false;
	int err = 0;

	TEST_ERR(verify(CRED("8ca523f5e9506fed4657c9700eebdbec", ", qop=auth, algorithm=MD5"),
			AUTH_HASH_MD5, &ok));
	TEST_ASSERT(ok);
	TEST_ERR(verify(CRED("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
			     ", qop=auth, algorithm=SHA-256"),
			AUTH_HASH_SHA256, &ok));
	TEST_ASSERT(ok);
	/* Upper-case hex is the same digest. */
	TEST_ERR(
	    verify(CRED("8CA523F5E9506FED4657C9700EEBDBEC", ", qop=auth"), AUTH_HASH_MD5, &ok));
	TEST_ASSERT(ok);
	/* One digit off, the wrong hash, auth-int, or no cnonce: refused. */
	TEST_ERR(
	    verify(CRED("8ca523f5e9506fed4657c9700eebdbed", ", qop=auth"), AUTH_HASH_MD5, &ok));
	TEST_ASSERT(!ok);
	TEST_ERR(
	    verify(CRED("8ca523f5e9506fed4657c9700eebdbec", ", qop=auth"), AUTH_HASH_SHA256, &ok));
	TEST_ASSERT(!ok);
	TEST_ERR(
	    verify(CRED("8ca523f5e9506fed4657c9700eebdbec", ", qop=auth-int"), AUTH_HASH_MD5, &ok));
	TEST_ASSERT(!ok);
	TEST_ERR(verify("Digest username=\"Mufasa\", realm=\"" REALM "\", uri=\"/dir/index.html\", "
			"nonce=\"" NONCE "\", nc=00000001, qop=auth, "
			"response=\"8ca523f5e9506fed4657c9700eebdbec\"",
			AUTH_HASH_MD5, &ok));
	TEST_ASSERT(!ok);
out:
	return err;
}

TEST(test_auth_nonce)
{
	struct auth_key key, other;
	struct str realm = STR("acme.example"), realm2 = STR("other.example"), n;
	char nonce[AUTH_NONCE_SIZE], bad[AUTH_NONCE_SIZE];
	uint64_t exp = 0;
	int err = 0;

	TEST_ERR(auth_key_random(&key));
	TEST_ERR(auth_key_random(&other));
	TEST_ERR(auth_nonce_make(&key, &realm, 1000000, 30000, nonce));
	n = str_cstr(nonce);
	TEST_EQUALS(43, n.len);
	TEST_EQUALS(AUTH_NONCE_VALID, auth_nonce_check(&key, &realm, &n, 1000000, &exp));
	TEST_EQUALS(1030000, exp);
	TEST_EQUALS(AUTH_NONCE_VALID, auth_nonce_check(&key, &realm, &n, 1029999, NULL));
	TEST_EQUALS(AUTH_NONCE_STALE, auth_nonce_check(&key, &realm, &n, 1030000, NULL));
	/* Another realm, another key, a changed character, a cut: not ours. */
	TEST_EQUALS(AUTH_NONCE_BAD, auth_nonce_check(&key, &realm2, &n, 1000000, NULL));
	TEST_EQUALS(AUTH_NONCE_BAD, auth_nonce_check(&other, &realm, &n, 1000000, NULL));
	memcpy(bad, nonce, sizeof(bad));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	n = str_cstr(bad);
	TEST_EQUALS(AUTH_NONCE_BAD, auth_nonce_check(&key, &realm, &n, 1000000, NULL));
	n = str_make(nonce, 42);
	TEST_EQUALS(AUTH_NONCE_BAD, auth_nonce_check(&key, &realm, &n, 1000000, NULL));
	n = STR("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
	TEST_EQUALS(AUTH_NONCE_BAD, auth_nonce_check(&key, &realm, &n, 1000000, NULL));
out:
	return err;
}

TEST(test_auth_nc_replay)
{
	struct auth_nc_table *t = NULL;
	struct str n1 = STR("nonce-one"), n2 = STR("nonce-two"), n3 = STR("nonce-three");
	int err = 0;

	TEST_ERR(auth_nc_alloc(&t, 2));
	TEST_ERR(auth_nc_use(t, &n1, &STR("00000001"), 5000, 1000));
	TEST_EQUALS(-EALREADY, auth_nc_use(t, &n1, &STR("00000001"), 5000, 1000));
	TEST_ERR(auth_nc_use(t, &n1, &STR("0000000A"), 5000, 1000));
	TEST_EQUALS(-EALREADY, auth_nc_use(t, &n1, &STR("00000009"), 5000, 1000));
	TEST_EQUALS(-EINVAL, auth_nc_use(t, &n1, &STR("0000000g"), 5000, 1000));
	TEST_EQUALS(-EINVAL, auth_nc_use(t, &n1, &STR("1"), 5000, 1000));
	TEST_EQUALS(-EINVAL, auth_nc_use(t, &n1, &STR("00000000"), 5000, 1000));
	/* A second nonce has its own count; a third evicts the oldest. */
	TEST_ERR(auth_nc_use(t, &n2, &STR("00000001"), 6000, 1000));
	TEST_EQUALS(2, auth_nc_count(t));
	TEST_ERR(auth_nc_use(t, &n3, &STR("00000001"), 7000, 1000));
	TEST_EQUALS(2, auth_nc_count(t));
	/* Expired entries leave on the next use. */
	TEST_ERR(auth_nc_use(t, &n3, &STR("00000002"), 7000, 6500));
	TEST_EQUALS(1, auth_nc_count(t));
out:
	auth_nc_free(t);
	return err;
}
