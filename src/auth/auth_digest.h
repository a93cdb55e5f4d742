/*
 * auth_digest: SIP digest authentication (RFC 3261 §22.4, RFC 7616,
 * RFC 8760): HA1 values, responses, stateless nonces and nonce-count
 * tracking.
 *
 * Passwords are never kept: the store holds HA1 = H(user:realm:password)
 * per algorithm, and verification needs only that. Nonces carry their own
 * expiry and are signed with a node key (HMAC-SHA-256), so a challenge needs
 * no state; what needs state is replay protection, which the nc table keeps
 * per nonce for as long as the nonce lives.
 *
 * Not here: which requests to challenge, throttling, the registrar.
 */
#ifndef AUTH_DIGEST_H
#define AUTH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"
#include "sip/sip_msg.h"

enum auth_hash {
	AUTH_HASH_MD5 = 0,    /* 32 hex digits */
	AUTH_HASH_SHA256,     /* 64 */
	AUTH_HASH_SHA512_256, /* 64 */
};

/* Hex digits of a digest of @h (32 or 64); buffers need one more for NUL. */
size_t auth_hash_hexlen(enum auth_hash h);
/* The hash an algorithm parameter names; -EINVAL for -sess and unknown ones. */
int auth_hash_from_alg(enum sip_auth_alg alg, enum auth_hash *h);
/* "MD5", "SHA-256", "SHA-512-256": the algorithm= value for challenges. */
const char *auth_hash_name(enum auth_hash h);

/* HA1 = H(user ":" realm ":" password), lower-case hex into @out (NUL-ended). */
int auth_ha1(enum auth_hash h, const struct str *user, const struct str *realm,
	     const struct str *password, char *out, size_t size);

/*
 * request-digest (RFC 7616 §3.4.1, qop=auth):
 *   H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
 * and, with an empty @qop, the RFC 2069 form H(HA1 ":" nonce ":" H(A2)).
 */
int auth_response(enum auth_hash h, const struct str *ha1, const struct str *method,
		  const struct str *uri, const struct str *nonce, const struct str *nc,
		  const struct str *cnonce, const struct str *qop, char *out, size_t size);

/* The node's nonce key; random at start (a cluster shares one later). */
struct auth_key {
	uint8_t k[32];
};

int auth_key_random(struct auth_key *key);

/* Room for a nonce: 43 base64url characters and a NUL. */
#define AUTH_NONCE_SIZE 48

/*
 * A nonce for @realm that expires @ttl_ms after @now_ms: base64url of
 * expiry (8 bytes) || random (8) || HMAC-SHA-256(key, expiry || random ||
 * realm) cut to 16 bytes. Every nonce is unique, so nonce-counts of two
 * clients challenged at once never collide.
 */
int auth_nonce_make(const struct auth_key *key, const struct str *realm, uint64_t now_ms,
		    uint32_t ttl_ms, char out[AUTH_NONCE_SIZE]);

enum auth_nonce_state {
	AUTH_NONCE_VALID = 0,
	AUTH_NONCE_STALE, /* ours and intact, but expired: challenge again with stale=true */
	AUTH_NONCE_BAD,	  /* not ours, or for another realm */
};

/* Check a nonce's signature, realm and expiry; *@expires gets its expiry. */
enum auth_nonce_state auth_nonce_check(const struct auth_key *key, const struct str *realm,
				       const struct str *nonce, uint64_t now_ms, uint64_t *expires);

/*
 * Check Digest credentials against @ha1 for a request of @method: the
 * response must match (compared in constant time). Only qop=auth or no qop
 * is accepted. Returns true when it does.
 */
bool auth_digest_verify(const struct sip_auth *cred, enum auth_hash h, const struct str *ha1,
			const struct str *method);

/*
 * Replay protection (RFC 7616 §3.3 nc): the highest nonce-count seen per
 * nonce; a request must bring a higher one. Entries leave when their nonce
 * expires; at most @max entries, the soonest to expire evicted first.
 */
struct auth_nc_table;

int auth_nc_alloc(struct auth_nc_table **tp, size_t max);
void auth_nc_free(struct auth_nc_table *t);
/*
 * Record @nc (8 hex digits) for @nonce (which expires at @expires).
 * 0 when @nc is higher than any seen before, -EALREADY for a replay,
 * -EINVAL for a malformed nc, -ENOMEM.
 */
int auth_nc_use(struct auth_nc_table *t, const struct str *nonce, const struct str *nc,
		uint64_t expires, uint64_t now_ms);
size_t auth_nc_count(const struct auth_nc_table *t);

#endif
