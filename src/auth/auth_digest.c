/*
 * auth_digest: digest computations over OpenSSL's EVP, signed nonces, and
 * the nonce-count table (see auth_digest.h).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "auth/auth_digest.h"
#include "base/hash.h"
#include "base/list.h"
#include "base/mem.h"

static const EVP_MD *md_of(enum auth_hash h)
{
	switch (h) {
	case AUTH_HASH_MD5:
		return EVP_md5();
	case AUTH_HASH_SHA256:
		return EVP_sha256();
	case AUTH_HASH_SHA512_256:
		return EVP_sha512_256();
	}
	return NULL;
}

size_t auth_hash_hexlen(enum auth_hash h)
{
	return h == AUTH_HASH_MD5 ? 32 : 64;
}

int auth_hash_from_alg(enum sip_auth_alg alg, enum auth_hash *h)
{
	switch (alg) {
	case SIP_AUTH_ALG_NONE:
	case SIP_AUTH_ALG_MD5:
		*h = AUTH_HASH_MD5;
		return 0;
	case SIP_AUTH_ALG_SHA256:
		*h = AUTH_HASH_SHA256;
		return 0;
	case SIP_AUTH_ALG_SHA512_256:
		*h = AUTH_HASH_SHA512_256;
		return 0;
	case SIP_AUTH_ALG_MD5_SESS:
	case SIP_AUTH_ALG_SHA256_SESS:
	case SIP_AUTH_ALG_SHA512_256_SESS:
	case SIP_AUTH_ALG_OTHER:
		break;
	}
	return -EINVAL;
}

const char *auth_hash_name(enum auth_hash h)
{
	switch (h) {
	case AUTH_HASH_MD5:
		return "MD5";
	case AUTH_HASH_SHA256:
		return "SHA-256";
	case AUTH_HASH_SHA512_256:
		return "SHA-512-256";
	}
	return "MD5";
}

/* H(parts[0] ":" parts[1] ":" ...) as lower-case hex. */
static int digest_hex(enum auth_hash h, const struct str *const *parts, size_t n, char *out,
		      size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (size < auth_hash_hexlen(h) + 1)
		return -ENOSPC;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md_of(h), NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i]->len)
			ok = EVP_DigestUpdate(ctx, parts[i]->p, parts[i]->len);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen * 2 != auth_hash_hexlen(h))
		return -EIO;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	return 0;
}

int auth_ha1(enum auth_hash h, const struct str *user, const struct str *realm,
	     const struct str *password, char *out, size_t size)
{
	const struct str *parts[] = {user, realm, password};

	return digest_hex(h, parts, 3, out, size);
}

int auth_response(enum auth_hash h, const struct str *ha1, const struct str *method,
		  const struct str *uri, const struct str *nonce, const struct str *nc,
		  const struct str *cnonce, const struct str *qop, char *out, size_t size)
{
	char ha2[65];
	struct str ha2s;
	const struct str *a2[] = {method, uri};
	int err = digest_hex(h, a2, 2, ha2, sizeof(ha2));

	if (err)
		return err;
	ha2s = str_cstr(ha2);
	if (qop->len) {
		const struct str *parts[] = {ha1, nonce, nc, cnonce, qop, &ha2s};

		return digest_hex(h, parts, 6, out, size);
	} else {
		const struct str *parts[] = {ha1, nonce, &ha2s};

		return digest_hex(h, parts, 3, out, size);
	}
}

int auth_key_random(struct auth_key *key)
{
	return RAND_bytes(key->k, sizeof(key->k)) == 1 ? 0 : -EIO;
}

/* ---- nonces --------------------------------------------------------------- */

#define NONCE_RAW 32 /* 8 bytes expiry, 8 random, 16 of MAC */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of 32 bytes: 43 characters. */
static void b64_encode(const uint8_t in[NONCE_RAW], char out[AUTH_NONCE_SIZE])
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < NONCE_RAW; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

static bool b64_decode(const struct str *in, uint8_t out[NONCE_RAW])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (in->len != 43)
		return false;
	for (size_t i = 0; i < in->len; i++) {
		int v = b64_val(in->p[i]);

		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < NONCE_RAW)
				out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o == NONCE_RAW;
}

/* HMAC-SHA-256(key, expiry || random || realm), first 16 bytes. */
static int nonce_mac(const struct auth_key *key, const struct str *realm, const uint8_t head[16],
		     uint8_t mac[16])
{
	uint8_t msg[16 + 256], full[32];
	unsigned int len = 0;

	/* Realms are domain names: 253 bytes at most. */
	if (realm->len > 256)
		return -EINVAL;
	memcpy(msg, head, 16);
	if (realm->len)
		memcpy(msg + 16, realm->p, realm->len);
	if (!HMAC(EVP_sha256(), key->k, sizeof(key->k), msg, 16 + realm->len, full, &len) ||
	    len != sizeof(full))
		return -EIO;
	memcpy(mac, full, 16);
	return 0;
}

int auth_nonce_make(const struct auth_key *key, const struct str *realm, uint64_t now_ms,
		    uint32_t ttl_ms, char out[AUTH_NONCE_SIZE])
{
	uint8_t raw[NONCE_RAW];
	uint64_t exp = now_ms + ttl_ms;
	int err;

	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(exp >> (56 - 8 * i));
	/* Random bytes make every nonce unique, even two in one millisecond,
	 * so one client's nonce-counts never collide with another's. */
	if (RAND_bytes(raw + 8, 8) != 1)
		return -EIO;
	err = nonce_mac(key, realm, raw, raw + 16);
	if (err)
		return err;
	b64_encode(raw, out);
	return 0;
}

enum auth_nonce_state auth_nonce_check(const struct auth_key *key, const struct str *realm,
				       const struct str *nonce, uint64_t now_ms, uint64_t *expires)
{
	uint8_t raw[NONCE_RAW], mac[16];
	uint64_t exp = 0;

	if (!b64_decode(nonce, raw) || nonce_mac(key, realm, raw, mac) ||
	    CRYPTO_memcmp(mac, raw + 16, sizeof(mac)) != 0)
		return AUTH_NONCE_BAD;
	for (int i = 0; i < 8; i++)
		exp = exp << 8 | raw[i];
	if (expires)
		*expires = exp;
	return now_ms >= exp ? AUTH_NONCE_STALE : AUTH_NONCE_VALID;
}

bool auth_digest_verify(const struct sip_auth *cred, enum auth_hash h, const struct str *ha1,
			const struct str *method)
{
	char want[65];
	size_t n = auth_hash_hexlen(h);

	/* qop=auth only: auth-int would need the body's hash, which no SIP
	 * phone we serve sends. */
	if (cred->qop.len && !str_ieq_lit(&cred->qop, "auth"))
		return false;
	if (cred->qop.len && (!cred->nc.len || !cred->cnonce.len))
		return false;
	if (cred->response.len != n || ha1->len != n)
		return false;
	if (auth_response(h, ha1, method, &cred->uri, &cred->nonce, &cred->nc, &cred->cnonce,
			  &cred->qop, want, sizeof(want)))
		return false;
	/* Hex digits may come in upper case; compare case-folded, in constant time. */
	{
		unsigned diff = 0;

		for (size_t i = 0; i < n; i++)
			diff |= (unsigned)((cred->response.p[i] | 0x20) ^ want[i]);
		return diff == 0;
	}
}

/* ---- nonce counts --------------------------------------------------------- */

struct nc_entry {
	struct list_elem le; /* in the order of arrival: nonces share one lifetime */
	struct str key;	     /* points into name[] */
	uint64_t expires;
	uint32_t nc;
	char name[];
};

struct auth_nc_table {
	struct hash *by_nonce;
	struct list fifo;
	size_t count;
	size_t max;
};

int auth_nc_alloc(struct auth_nc_table **tp, size_t max)
{
	struct auth_nc_table *t = mem_zalloc(sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	list_init(&t->fifo);
	t->max = max ? max : 1;
	err = hash_alloc(&t->by_nonce, 64, 0);
	if (err) {
		mem_free(t);
		return err;
	}
	*tp = t;
	return 0;
}

static void nc_drop(struct auth_nc_table *t, struct nc_entry *e)
{
	hash_del(t->by_nonce, &e->key);
	list_unlink(&e->le);
	t->count--;
	mem_free(e);
}

void auth_nc_free(struct auth_nc_table *t)
{
	struct list_elem *e, *tmp;

	if (!t)
		return;
	list_for_each_safe(&t->fifo, e, tmp)
	{
		nc_drop(t, list_entry(e, struct nc_entry, le));
	}
	hash_free(t->by_nonce);
	mem_free(t);
}

/* nc = 8LHEX (RFC 7616 §3.4); upper case is tolerated. */
static int parse_nc(const struct str *nc, uint32_t *v)
{
	uint32_t n = 0;

	if (nc->len != 8)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++) {
		char c = nc->p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -EINVAL;
		n = n << 4 | d;
	}
	*v = n;
	return 0;
}

int auth_nc_use(struct auth_nc_table *t, const struct str *nonce, const struct str *nc,
		uint64_t expires, uint64_t now_ms)
{
	struct nc_entry *e;
	uint32_t v;
	int err;

	if (parse_nc(nc, &v) || v == 0)
		return -EINVAL;
	/* Forget what has expired; those nonces are refused as stale anyway. */
	while (!list_empty(&t->fifo)) {
		e = list_entry(list_head(&t->fifo), struct nc_entry, le);
		if (e->expires > now_ms)
			break;
		nc_drop(t, e);
	}
	e = hash_get(t->by_nonce, nonce);
	if (e) {
		if (v <= e->nc)
			return -EALREADY;
		e->nc = v;
		return 0;
	}
	if (t->count >= t->max)
		nc_drop(t, list_entry(list_head(&t->fifo), struct nc_entry, le));
	e = mem_alloc(sizeof(*e) + nonce->len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, nonce->p, nonce->len);
	e->name[nonce->len] = '\0';
	e->key = str_make(e->name, nonce->len);
	e->expires = expires;
	e->nc = v;
	err = hash_put(t->by_nonce, &e->key, e, NULL);
	if (err) {
		mem_free(e);
		return err;
	}
	list_append(&t->fifo, &e->le);
	t->count++;
	return 0;
}

size_t auth_nc_count(const struct auth_nc_table *t)
{
	return t->count;
}
