/*
 * fuzz_auth: the digest-authentication inputs a client controls: a nonce
 * (decoded and checked against a fixed key), a nonce-count, and whole
 * credentials verified against a fixed HA1.
 *
 * Input: byte 0 picks the realm length used (so realm mismatches are
 * reached), the rest is split at the first '\n': before it a nonce and nc,
 * after it an Authorization header value.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth_digest.h"
#include "base/arena.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct auth_key key = {{1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10, 11,
					     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					     23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};
	static const char realm_text[] = "acme.example";
	char msg[4096], abuf[8192];
	struct str realm, nonce, rest, ha1 = STR("3d78807defe7de2157e2b0b6573a855f");
	struct auth_nc_table *nc = NULL;
	const char *nl;
	struct arena a;
	struct sip_msg *m;
	uint64_t exp = 0;
	int n;

	if (size < 1)
		return 0;
	realm = str_make(realm_text, data[0] % sizeof(realm_text));
	rest = str_make((const char *)data + 1, size - 1);
	nl = memchr(rest.p, '\n', rest.len);
	nonce = nl ? str_make(rest.p, (size_t)(nl - rest.p)) : rest;

	FUZZ_CHECK(auth_nonce_check(&key, &realm, &nonce, 1000, &exp) <= AUTH_NONCE_BAD);
	if (!auth_nc_alloc(&nc, 4)) {
		struct str count = str_sub(&nonce, 0, 8);
		int r = auth_nc_use(nc, &nonce, &count, 5000, 1000);

		FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
		if (r == 0)
			FUZZ_CHECK(auth_nc_use(nc, &nonce, &count, 5000, 1000) == -EALREADY);
		auth_nc_free(nc);
	}
	if (!nl)
		return 0;
	n = snprintf(msg, sizeof(msg),
		     "REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:a@acme.example>;tag=1\r\nTo: <sip:a@acme.example>\r\n"
		     "Call-ID: f\r\nCSeq: 1 REGISTER\r\nAuthorization: %.*s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     (int)(rest.len - (size_t)(nl + 1 - rest.p)), nl + 1);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return 0;
	arena_init(&a, abuf, sizeof(abuf), 0);
	if (!sip_msg_parse(&m, &a, msg, (size_t)n, 0, NULL, NULL)) {
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
		struct str method = STR("REGISTER");
		enum auth_hash hash = AUTH_HASH_MD5;

		if (h && h->p.auth && !auth_hash_from_alg(h->p.auth->alg, &hash) &&
		    hash == AUTH_HASH_MD5)
			(void)auth_digest_verify(h->p.auth, hash, &ha1, &method);
	}
	arena_reset(&a);
	return 0;
}
