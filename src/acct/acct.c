/*
 * acct: password hashing with libargon2, bearer tokens with OpenSSL, and the
 * role names (acct.h). The throttling table is acct_throttle.c.
 *
 * Not here: where hashes and tokens are stored (store.h), who may do what
 * with a role (the API's permission table).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acct/acct.h"

/* The most verify accepts from a stored string: more would let one bad row
 * tie up a pool thread for seconds and a gigabyte. */
#define VERIFY_M_KIB_MAX (1024u * 1024u)
#define VERIFY_T_MAX	 16u
#define VERIFY_P_MAX	 16u

static const char *const role_names[] = {"operator", "tenant-admin", "supervisor", "agent"};

#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

static int argon2_errno(int rc)
{
	switch (rc) {
	case ARGON2_OK:
		return 0;
	case ARGON2_VERIFY_MISMATCH:
		return -EACCES;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return -ENOMEM;
	case ARGON2_ENCODING_FAIL:
		return -ENOSPC;
	default:
		return -EINVAL;
	}
}

static bool password_ok(const char *pw, size_t *lenp)
{
	size_t len = pw ? strnlen(pw, ACCT_PASSWORD_MAX + 1) : 0;

	*lenp = len;
	return len > 0 && len <= ACCT_PASSWORD_MAX;
}

int acct_password_hash(const char *pw, char *out, size_t outlen)
{
	unsigned char salt[ACCT_SALT_LEN];
	char buf[ACCT_PW_HASH_SIZE];
	size_t len;
	int err;

	if (!password_ok(pw, &len) || !out)
		return -EINVAL;
	if (argon2_encodedlen(ACCT_ARGON2_T, ACCT_ARGON2_M_KIB, ACCT_ARGON2_P, ACCT_SALT_LEN,
			      ACCT_HASH_LEN, Argon2_id) > outlen)
		return -ENOSPC;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	/* argon2 wipes its own memory blocks (FLAG_clear_internal_memory). */
	err = argon2_errno(argon2id_hash_encoded(ACCT_ARGON2_T, ACCT_ARGON2_M_KIB, ACCT_ARGON2_P,
						 pw, len, salt, sizeof(salt), ACCT_HASH_LEN, buf,
						 sizeof(buf)));
	if (!err)
		memcpy(out, buf, strlen(buf) + 1);
	return err;
}

/* The cost parameters of an argon2id PHC string; false when it is none. */
static bool phc_params(const char *phc, unsigned *m, unsigned *t, unsigned *p)
{
	int n = 0;

	if (!phc || sscanf(phc, "$argon2id$v=19$m=%u,t=%u,p=%u$%n", m, t, p, &n) != 3 || !n)
		return false;
	return true;
}

int acct_password_verify(const char *phc, const char *pw)
{
	unsigned m, t, p;
	size_t len;

	if (!phc_params(phc, &m, &t, &p) || m > VERIFY_M_KIB_MAX || t > VERIFY_T_MAX ||
	    p > VERIFY_P_MAX || strlen(phc) >= ACCT_PW_HASH_SIZE)
		return -EINVAL;
	if (!password_ok(pw, &len))
		return -EACCES;
	return argon2_errno(argon2_verify(phc, pw, len, Argon2_id));
}

bool acct_password_needs_rehash(const char *phc)
{
	unsigned m, t, p;

	if (!phc_params(phc, &m, &t, &p))
		return true;
	return m != ACCT_ARGON2_M_KIB || t != ACCT_ARGON2_T || p != ACCT_ARGON2_P;
}

/* RFC 4648 §5, unpadded. */
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_encode(char *out, const unsigned char *in, size_t len)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		out[o++] = b64url[in[i] >> 2];
		out[o++] = b64url[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = b64url[v >> 10];
		out[o++] = b64url[(v >> 4) & 63];
		out[o++] = b64url[(v & 15) << 2];
	}
	return o;
}

int acct_token_new(char out[ACCT_TOKEN_SIZE])
{
	unsigned char raw[ACCT_TOKEN_BYTES];
	size_t n;

	if (!out)
		return -EINVAL;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	memcpy(out, ACCT_TOKEN_PREFIX, 4);
	n = b64url_encode(out + 4, raw, sizeof(raw));
	out[4 + n] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int acct_token_hash(const char *token, size_t len, char hex[ACCT_TOKEN_HASH_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!token || !hex)
		return -EINVAL;
	if (EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -EIO;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool acct_token_valid_syntax(const char *token, size_t len)
{
	const char *last;

	if (!token || len != ACCT_TOKEN_LEN || memcmp(token, ACCT_TOKEN_PREFIX, 4))
		return false;
	for (size_t i = 4; i < len; i++) {
		if (!memchr(b64url, token[i], sizeof(b64url) - 1))
			return false;
	}
	/* 32 bytes are 256 bits in 43 characters of 6: the last one carries 4
	 * bits and two zero bits, so only every fourth letter can end a token. */
	last = memchr(b64url, token[len - 1], sizeof(b64url) - 1);
	return ((last - b64url) & 3) == 0;
}

const char *acct_role_name(enum acct_role role)
{
	for (size_t i = 0; i < NROLES; i++) {
		if ((unsigned)role == 1u << i)
			return role_names[i];
	}
	return NULL;
}

unsigned acct_role_from_name(const char *name)
{
	for (size_t i = 0; name && i < NROLES; i++) {
		if (!strcmp(name, role_names[i]))
			return 1u << i;
	}
	return 0;
}

int acct_roles_parse(const char *json_array, unsigned *mask)
{
	unsigned m = 0;
	json_t *arr, *e;
	size_t i;
	int err = 0;

	if (!json_array || !mask)
		return -EINVAL;
	arr = json_loads(json_array, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -EINVAL;
	}
	json_array_foreach(arr, i, e)
	{
		unsigned r = acct_role_from_name(json_string_value(e));

		if (!r) {
			err = -EINVAL;
			break;
		}
		m |= r;
	}
	json_decref(arr);
	if (!err)
		*mask = m;
	return err;
}

int acct_roles_format(unsigned mask, char *buf, size_t size)
{
	size_t len = 0;
	int n;

	if (!buf || (mask & ~ACCT_ROLES_ALL))
		return -EINVAL;
	for (size_t i = 0; i <= NROLES; i++) {
		if (i < NROLES && !(mask & (1u << i)))
			continue;
		if (i == NROLES)
			n = snprintf(buf + len, size - len, "%s]", len ? "" : "[");
		else
			n = snprintf(buf + len, size - len, "%s\"%s\"", len ? "," : "[",
				     role_names[i]);
		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	return (int)len;
}
