/*
 * store_ha1: the HA1 digests SIP credentials are stored as (RFC 7616 §3.4.2,
 * RFC 8760 for SHA-256 in SIP). Storing HA1 instead of the password means a
 * stolen database gives no password, and an HA1 is bound to one realm (the
 * tenant's domain). The digest itself is auth_ha1(), the same code the
 * registrar verifies with.
 */
#include <errno.h>
#include <string.h>

#include "auth/auth_digest.h"
#include "store/store.h"

int store_ha1(enum store_ha1_alg alg, const char *user, const char *realm, const char *password,
	      char out[STORE_HA1_SIZE])
{
	struct str u, r, p;

	if (!user || !realm || !password || !out ||
	    (alg != STORE_HA1_MD5 && alg != STORE_HA1_SHA256))
		return -EINVAL;
	u = str_cstr(user);
	r = str_cstr(realm);
	p = str_cstr(password);
	return auth_ha1(alg == STORE_HA1_SHA256 ? AUTH_HASH_SHA256 : AUTH_HASH_MD5, &u, &r, &p, out,
			STORE_HA1_SIZE);
}
