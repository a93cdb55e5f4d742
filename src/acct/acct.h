/*
 * acct: the building blocks of accounts for the platform API: password
 * hashing (argon2id), bearer tokens, failed-login throttling and role names.
 *
 * It is a library of pure functions and one small table: no storage (the
 * rows live in store.h: users' and operators' pw_hash, tokens, the audit
 * log), no HTTP, no clock (callers pass the time), no global state.
 *
 * Passwords: argon2id (RFC 9106) with OWASP's current recommendation for it,
 * m = 19 MiB, t = 2, p = 1, a 16-byte random salt and a 32-byte hash, kept
 * as the standard PHC string "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
 * (unpadded base64), so the parameters travel with each hash and can be
 * raised later without invalidating stored ones (acct_password_needs_rehash).
 *
 * WARNING: hashing and verifying take 20-60 ms of CPU and 19 MiB of memory
 * each, on purpose. Callers run them off the event loop (in the pool, like
 * SQL), never in a loop callback.
 *
 * Tokens: "sgt_" and 32 random bytes in unpadded base64url (47 characters).
 * Only their SHA-256 is stored (store_token_*), so a copy of the database
 * gives no usable token.
 */
#ifndef ACCT_ACCT_H
#define ACCT_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Passwords ---- */

/* OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1. */
#define ACCT_ARGON2_M_KIB 19456u
#define ACCT_ARGON2_T	  2u
#define ACCT_ARGON2_P	  1u
#define ACCT_SALT_LEN	  16u
#define ACCT_HASH_LEN	  32u
/* Longest password accepted, in bytes: more is no stronger, and hashing an
 * attacker's megabyte costs the server. */
#define ACCT_PASSWORD_MAX 256u
/* A PHC string of the parameters above is 97 bytes; room to raise them. */
#define ACCT_PW_HASH_SIZE 128u

/*
 * Hash @pw (a NUL-ended password of 1..ACCT_PASSWORD_MAX bytes) with a fresh
 * random salt into @out as a PHC string. Returns 0; -EINVAL for an empty or
 * too long password, -ENOSPC when @outlen is too small (ACCT_PW_HASH_SIZE is
 * enough), -ENOMEM when argon2 cannot get its memory, -EIO when the random
 * generator fails. @out is written only on success. Off the event loop.
 */
int acct_password_hash(const char *pw, char *out, size_t outlen);
/*
 * Does @pw match the PHC string @phc? 0 when it does, -EACCES when it does
 * not (the comparison is argon2_verify's, in constant time), -EINVAL when
 * @phc is no argon2id PHC string or asks for more than a sane cost
 * (m > 1 GiB, t > 16, p > 16: a stored value must not stall the pool),
 * -ENOMEM. A password longer than ACCT_PASSWORD_MAX or empty never matches
 * (-EACCES). Off the event loop.
 */
int acct_password_verify(const char *phc, const char *pw);
/* True when @phc was made with other parameters than today's (a caller may
 * then re-hash the password it has just verified), or does not parse. */
bool acct_password_needs_rehash(const char *phc);

/* ---- Bearer tokens ---- */

#define ACCT_TOKEN_PREFIX    "sgt_"
#define ACCT_TOKEN_BYTES     32u
#define ACCT_TOKEN_LEN	     (4u + 43u) /* prefix + unpadded base64url of 32 bytes */
#define ACCT_TOKEN_SIZE	     (ACCT_TOKEN_LEN + 1u)
#define ACCT_TOKEN_HASH_SIZE 65u /* SHA-256 in lowercase hex, NUL-ended */

/* A new token from OpenSSL's RAND_bytes into @out (NUL-ended). -EIO when
 * the generator fails; @out is then untouched. */
int acct_token_new(char out[ACCT_TOKEN_SIZE]);
/* SHA-256 of the @len bytes at @token (not NUL-ended: an Authorization
 * header's view) as lowercase hex: what the store keys tokens by. -EINVAL
 * for NULL, -EIO when OpenSSL fails. */
int acct_token_hash(const char *token, size_t len, char hex[ACCT_TOKEN_HASH_SIZE]);
/* Could @token (@len bytes) be one acct_token_new() made? The prefix, the
 * length and the alphabet, including the canonical last character: a cheap
 * filter before any lookup. */
bool acct_token_valid_syntax(const char *token, size_t len);

/* ---- Failed-login throttling ---- */

/*
 * Policy, per key ("tenant/user" for an account, an IP address for a
 * source; the caller checks both):
 * - Failures are counted in a window that opens at the first one; 5
 *   failures within 15 minutes lock the key for 30 s.
 * - Each further failure (a caller that tries while locked, or after the
 *   lock ends) locks it again from that failure, for twice as long as the
 *   last lock (30 s, 60 s, 2 min, ...) up to 15 minutes.
 * - A success (acct_throttle_ok) forgets the key; so do 15 minutes without
 *   a failure once any lock has ended.
 * - Memory is bounded: a table of a fixed number of keys, allocated up
 *   front. When it is full, the key whose last failure is oldest is
 *   forgotten first among those not locked, then among the locked ones.
 *   (An attacker who fills the table can thus shorten other keys' counts:
 *   size it well above the keys expected within 15 minutes.)
 * One table belongs to one thread; no global state.
 */
#define ACCT_THROTTLE_FAILS	  5
#define ACCT_THROTTLE_WINDOW_MS	  (15 * 60 * 1000)
#define ACCT_THROTTLE_LOCK_MS	  (30 * 1000)
#define ACCT_THROTTLE_LOCK_MAX_MS (15 * 60 * 1000)
/* Longest key, in bytes ("tenant/user": two ids of 64 and a slash). */
#define ACCT_THROTTLE_KEY_MAX	  160

struct acct_throttle;

/* A table for @capacity keys (1..1000000). 0, -EINVAL or -ENOMEM. */
int acct_throttle_alloc(struct acct_throttle **tp, size_t capacity);
/* NULL is fine. Returns NULL. */
struct acct_throttle *acct_throttle_free(struct acct_throttle *t);
/*
 * May @key try now (@now_ms, any clock that only moves forward)? 0 when it
 * may, -EAGAIN when it is locked, with the milliseconds to wait in
 * *@retry_after_ms (may be NULL; written only then); -EINVAL for a missing
 * key or one longer than ACCT_THROTTLE_KEY_MAX. Changes nothing.
 */
int acct_throttle_check(struct acct_throttle *t, const char *key, int64_t now_ms,
			int64_t *retry_after_ms);
/* Count a failed attempt of @key at @now_ms. 0, or -EINVAL. Never
 * allocates. */
int acct_throttle_fail(struct acct_throttle *t, const char *key, int64_t now_ms);
/* A successful login: forget @key. */
void acct_throttle_ok(struct acct_throttle *t, const char *key);
/* How many keys the table holds now. */
size_t acct_throttle_count(const struct acct_throttle *t);

/* ---- Roles ---- */

/* The roles of provisioning documents and tokens, as bit flags. */
enum acct_role {
	ACCT_ROLE_OPERATOR = 1u << 0,	  /* "operator": the platform's, not a tenant's */
	ACCT_ROLE_TENANT_ADMIN = 1u << 1, /* "tenant-admin" */
	ACCT_ROLE_SUPERVISOR = 1u << 2,	  /* "supervisor" */
	ACCT_ROLE_AGENT = 1u << 3,	  /* "agent" */
};

#define ACCT_ROLES_ALL	  0xfu
/* Roles a tenant's user may have (every one but the platform operator's). */
#define ACCT_ROLES_TENANT (ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR | ACCT_ROLE_AGENT)

/* "operator", "tenant-admin"...; NULL for anything but one known flag. */
const char *acct_role_name(enum acct_role role);
/* The flag named @name (NUL-ended), or 0 when there is none. */
unsigned acct_role_from_name(const char *name);
/*
 * A JSON array of role names (as stored: users.roles, tokens.roles) into
 * the mask *@mask. 0, or -EINVAL when @json_array is not an array of known
 * role names (an empty array gives 0). Repeated names are harmless.
 */
int acct_roles_parse(const char *json_array, unsigned *mask);
/* The JSON array of the roles in @mask, in the order of enum acct_role
 * (["operator","tenant-admin","supervisor","agent"] for all): the length, or
 * -EINVAL for unknown bits, -ENOSPC when it does not fit @size. */
int acct_roles_format(unsigned mask, char *buf, size_t size);

#endif
