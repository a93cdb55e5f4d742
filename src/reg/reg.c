/*
 * reg: REGISTER handling (RFC 3261 §10.3) and digest authentication of it
 * (RFC 7616, RFC 8760): the steps in order, the challenge, the checks that
 * keep tenants apart and users unguessable, and the responses. Bindings
 * live in reg_location.c, failure counting in reg_throttle.c.
 *
 * Not here: sockets, transactions, storage; other methods.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>

#define LOG_MODULE "reg"
#include "base/log.h"
#include "base/mem.h"
#include "reg/reg_internal.h"
#include "sip/sip_print.h"
#include "sip/sip_tx.h"

void reg_conf_default(struct reg_conf *conf)
{
	*conf = (struct reg_conf){
	    .default_expires = 3600,
	    .min_expires = 60,
	    .max_expires = 7200,
	    .nonce_ttl_ms = 300000,
	    .max_contacts = 10,
	    .max_bindings = 200000,
	    .max_nonces = 65536,
	    .fail_window_ms = 60000,
	    .fail_max_src = 20,
	    .fail_max_aor = 10,
	    .block_ms = 600000,
	    .max_tracked = 10000,
	    .nonce_key = NULL,
	};
}

static bool conf_ok(const struct reg_conf *c)
{
	return c->default_expires && c->min_expires && c->min_expires <= c->max_expires &&
	       c->nonce_ttl_ms && c->max_contacts && c->max_bindings && c->max_nonces &&
	       c->fail_window_ms && c->fail_max_src && c->fail_max_aor && c->block_ms &&
	       c->max_tracked;
}

static void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int reg_alloc(struct reg **regp, const struct reg_conf *conf, const struct reg_ops *ops, void *arg,
	      struct timer_wheel *tw)
{
	struct auth_key secret;
	struct reg *reg;
	int err;

	if (!regp || !conf || !ops || !tw || !ops->domain || !ops->ha1 || !conf_ok(conf))
		return -EINVAL;
	reg = mem_zalloc(sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->conf = *conf;
	reg->conf.nonce_key = NULL; /* copied below, not borrowed */
	reg->ops = *ops;
	reg->arg = arg;
	reg->tw = tw;
	list_init(&reg->thr_watch);
	list_init(&reg->thr_blocked);
	if (conf->nonce_key)
		reg->key = *conf->nonce_key;
	else if (auth_key_random(&reg->key)) {
		err = -EIO;
		goto out;
	}
	if (auth_key_random(&secret)) {
		err = -EIO;
		goto out;
	}
	hex_encode(reg->secret, secret.k, sizeof(secret.k));
	err = auth_nc_alloc(&reg->nc, conf->max_nonces);
	if (err)
		goto out;
	err = hash_alloc(&reg->aors, 64, 0);
	if (err)
		goto out;
	err = hash_alloc(&reg->thr, 64, 0);
out:
	if (err)
		reg_free(reg);
	else
		*regp = reg;
	return err;
}

void reg_free(struct reg *reg)
{
	if (!reg)
		return;
	if (reg->aors)
		reg_loc_clear(reg);
	if (reg->thr)
		reg_thr_clear(reg);
	hash_free(reg->aors);
	hash_free(reg->thr);
	auth_nc_free(reg->nc);
	mem_free(reg);
}

/* ---- sources -------------------------------------------------------------- */

/*
 * The source's IP as text: the throttling key. An IPv4-mapped IPv6 address
 * (a dual-stack socket) counts as the IPv4 address it is.
 */
static int src_ip(const struct sip_peer *src, char ip[INET6_ADDRSTRLEN], uint16_t *port)
{
	if (src->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&src->addr;

		*port = ntohs(sin->sin_port);
		return inet_ntop(AF_INET, &sin->sin_addr, ip, INET6_ADDRSTRLEN) ? 0 : -EINVAL;
	}
	if (src->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&src->addr;

		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip,
					 INET6_ADDRSTRLEN)
				   ? 0
				   : -EINVAL;
		return inet_ntop(AF_INET6, &sin6->sin6_addr, ip, INET6_ADDRSTRLEN) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int reg_src_print(const struct sip_peer *src, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	int n;

	if (!src || !buf || src_ip(src, ip, &port))
		return -EINVAL;
	n = snprintf(buf, size, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int reg_src_parse(struct sip_peer *src, const struct str *s, enum sip_transport transport)
{
	char ip[INET6_ADDRSTRLEN];
	struct str host, ports;
	struct sip_peer r = {.transport = transport};
	uint32_t port;
	long colon;

	if (!src || !s || !s->len)
		return -EINVAL;
	if (s->p[0] == '[') {
		long close = str_chr(s, ']');

		if (close < 0 || (size_t)close + 1 >= s->len || s->p[close + 1] != ':')
			return -EINVAL;
		host = str_sub(s, 1, (size_t)close - 1);
		ports = str_sub(s, (size_t)close + 2, s->len);
	} else {
		colon = str_chr(s, ':');
		if (colon < 0)
			return -EINVAL;
		host = str_sub(s, 0, (size_t)colon);
		ports = str_sub(s, (size_t)colon + 1, s->len);
	}
	if (!host.len || host.len >= sizeof(ip) || str_to_u32(&ports, &port) || port > 65535)
		return -EINVAL;
	str_copy_cstr(ip, sizeof(ip), &host);
	if (s->p[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r.addr;

		if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&r.addr;

		if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	}
	*src = r;
	return 0;
}

/* ---- responses ------------------------------------------------------------ */

/*
 * The To tag: a function of the request (Call-ID and From tag) and the
 * instance's secret, so a retransmission gets the same tag and two answers
 * never differ by a random value.
 */
static void to_tag(const struct reg *reg, const struct sip_msg *msg, char out[17])
{
	const struct str parts[] = {str_cstr(reg->secret), msg->call_id, msg->from->tag};
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t raw[8];

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (size_t k = 0; k < parts[i].len; k++) {
			h ^= (uint8_t)parts[i].p[k];
			h *= 0x100000001b3ull;
		}
		h ^= 0xff; /* separator: ("ab","c") and ("a","bc") differ */
		h *= 0x100000001b3ull;
	}
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(h >> (56 - 8 * i));
	hex_encode(out, raw, sizeof(raw));
}

/* RFC 3261 §20.17: rfc1123-date, always GMT; names spelled out, never from the locale. */
static int put_date(struct mbuf *mb, uint64_t now_ms)
{
	static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	return mbuf_printf(mb, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wday[tm.tm_wday],
			   tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			   tm.tm_sec);
}

/*
 * Two challenges with one nonce, SHA-256 first: RFC 8760 §2.4 has the
 * server list algorithms in its order of preference, and a UA take the
 * first it supports; MD5 stays for the phones that know nothing else.
 */
static int put_challenge(struct reg *reg, struct mbuf *mb, const char *realm, uint64_t now_ms,
			 bool stale)
{
	static const enum auth_hash sha_first[] = {AUTH_HASH_SHA256, AUTH_HASH_MD5};
	static const enum auth_hash md5_first[] = {AUTH_HASH_MD5, AUTH_HASH_SHA256};
	const enum auth_hash *order =
	    reg->conf.digest == REG_DIGEST_SHA256_FIRST ? sha_first : md5_first;
	size_t n = reg->conf.digest == REG_DIGEST_MD5_ONLY ? 1 : 2;
	struct str r = str_cstr(realm);
	char nonce[AUTH_NONCE_SIZE];
	int err;

	/* Every nonce is unique (it holds random bytes), so two phones
	 * challenged at once never share a nonce-count space. */
	err = auth_nonce_make(&reg->key, &r, now_ms, reg->conf.nonce_ttl_ms, nonce);

	for (size_t i = 0; !err && i < n; i++)
		err = mbuf_printf(mb,
				  "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
				  "qop=\"auth\", algorithm=%s%s\r\n",
				  realm, nonce, auth_hash_name(order[i]),
				  stale ? ", stale=true" : "");
	return err;
}

/* RFC 3327 §5.3: a registrar that stores Path returns it in the 200. */
static int put_path(struct mbuf *mb, const struct sip_msg *msg)
{
	int err = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PATH); h && !err;
	     h = sip_hdr_next(msg, h)) {
		err = mbuf_write_cstr(mb, "Path: ");
		err = err ? err : mbuf_write_str(mb, &h->value);
		err = err ? err : mbuf_write(mb, "\r\n", 2);
	}
	return err;
}

/* RFC 3261 §8.2.2.3: every Require option we do not support, in a 420. */
static int check_require(const struct sip_msg *msg, struct mbuf *mb, bool *bad)
{
	int err = 0;

	*bad = false;
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REQUIRE); h && !err;
	     h = sip_hdr_next(msg, h)) {
		struct str tok;
		size_t pos = 0;

		while (!err && sip_list_next(&h->value, &pos, &tok)) {
			if (str_ieq_lit(&tok, "path"))
				continue;
			*bad = true;
			err = mbuf_write_cstr(mb, "Unsupported: ");
			err = err ? err : mbuf_write_str(mb, &tok);
			err = err ? err : mbuf_write(mb, "\r\n", 2);
		}
	}
	return err;
}

/* A realm goes into a quoted string and a nonce's MAC: printable, no '"' or '\\'. */
static bool realm_ok(const char *realm)
{
	size_t len = strlen(realm);

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)realm[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static bool sip_scheme(const struct sip_uri *u)
{
	return u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS;
}

/* ---- authentication ------------------------------------------------------- */

enum auth_outcome {
	AUTH_OK = 0,
	AUTH_CHALLENGE,	      /* 401 */
	AUTH_CHALLENGE_STALE, /* 401 with stale=true */
	AUTH_FORBIDDEN,	      /* 403, counted toward a block */
};

/* Count a failure against @ip and the AOR; -errno or AUTH_FORBIDDEN. */
static int auth_fail(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *realm, uint64_t now_ms)
{
	int err = reg_thr_fail(reg, ip, user, realm, now_ms);

	return err ? err : AUTH_FORBIDDEN;
}

/*
 * RFC 3261 §22.4, RFC 7616 §3.4: find, check and verify the credentials.
 * Returns an enum auth_outcome or -errno.
 *
 * WARNING: an unknown user and a wrong password must take the same path
 * and the same work: both look the user up, both compute the fake HA1, both
 * verify a response, both count a failure and answer the same 403.
 */
static int authenticate(struct reg *reg, const struct sip_msg *msg, const struct reg_tenant *t,
			const struct str *user, const char *ip, uint64_t now_ms)
{
	struct str realm = str_cstr(t->realm), secret = str_cstr(reg->secret), ha1s;
	const struct sip_auth *cred = NULL;
	char ha1[72], fake[72];
	bool other_realm = false;
	enum auth_hash hash;
	uint64_t nonce_exp = 0;
	int err;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION); h;
	     h = sip_hdr_next(msg, h)) {
		const struct sip_auth *a = h->p.auth;

		if (!a || !str_ieq_lit(&a->scheme, "Digest"))
			continue;
		if (str_eq(&a->realm, &realm)) {
			cred = a;
			break;
		}
		other_realm = true;
	}
	if (!cred) {
		/* Another tenant's credentials are never good here. */
		return other_realm ? auth_fail(reg, ip, user, &realm, now_ms) : AUTH_CHALLENGE;
	}
	/* The authentication user must be the AOR's user (no registering for others). */
	if (cred->userhash || !str_eq(&cred->username, user))
		return auth_fail(reg, ip, user, &realm, now_ms);
	/* Unusable credentials are not failures: challenge again. We offer only
	 * MD5 and SHA-256 with qop=auth, so nothing else is expected. */
	if (auth_hash_from_alg(cred->alg, &hash) || hash == AUTH_HASH_SHA512_256 ||
	    !str_ieq_lit(&cred->qop, "auth") || !cred->nc.len || !cred->cnonce.len ||
	    !cred->response.len || !cred->uri.len)
		return AUTH_CHALLENGE;
	switch (auth_nonce_check(&reg->key, &realm, &cred->nonce, now_ms, &nonce_exp)) {
	case AUTH_NONCE_VALID:
		break;
	case AUTH_NONCE_STALE:
		return AUTH_CHALLENGE_STALE;
	case AUTH_NONCE_BAD:
		return AUTH_CHALLENGE;
	}

	err = auth_ha1(hash, user, &realm, &secret, fake, sizeof(fake));
	if (err)
		return err;
	err = reg->ops.ha1(reg->arg, t, user, hash, ha1, sizeof(ha1));
	if (err && err != -ENOENT)
		return err;
	ha1[sizeof(ha1) - 1] = '\0';
	ha1s = str_cstr(err ? fake : ha1);
	if (!auth_digest_verify(cred, hash, &ha1s, &msg->method_str))
		return auth_fail(reg, ip, user, &realm, now_ms);

	/* Only a verified request spends a nonce count, so forged requests
	 * cannot burn a real UA's counts. A replay gets a fresh challenge. */
	err = auth_nc_use(reg->nc, &cred->nonce, &cred->nc, nonce_exp, now_ms);
	if (err == -EALREADY || err == -EINVAL)
		return AUTH_CHALLENGE;
	if (err)
		return err;
	reg_thr_success(reg, ip, user, &realm);
	return AUTH_OK;
}

/* ---- the request ---------------------------------------------------------- */

struct answer {
	unsigned status;
	const char *reason; /* NULL: the default phrase */
};

static int handle(struct reg *reg, const struct sip_msg *msg, const struct sip_peer *src,
		  const char *ip, uint64_t now_ms, struct mbuf *hdrs, struct answer *ans)
{
	const struct sip_addr *to = msg->to;
	struct reg_tenant t;
	struct str realm;
	bool bad;
	int err;

	/* A blocked source learns nothing more, not even whether the domain exists. */
	if (reg_thr_blocked(reg, ip, NULL, NULL, now_ms)) {
		*ans = (struct answer){403, "Blocked"};
		return 0;
	}
	/* §10.3 step 1: the Request-URI names the domain, hence the tenant. */
	if (!sip_scheme(&msg->ruri)) {
		ans->status = 416;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	err = reg->ops.domain(reg->arg, &msg->ruri.host, &t);
	if (err == -ENOENT) {
		ans->status = 404;
		return 0;
	}
	if (err)
		return err;
	t.id[sizeof(t.id) - 1] = '\0';
	t.realm[sizeof(t.realm) - 1] = '\0';
	if (!realm_ok(t.realm))
		return -EINVAL;
	realm = str_cstr(t.realm);
	/* Step 2. */
	err = check_require(msg, hdrs, &bad);
	if (err)
		return err;
	if (bad) {
		ans->status = 420;
		return 0;
	}
	/* Step 5, ahead of authentication (it needs the AOR's user): the AOR
	 * must belong to the Request-URI's domain, else 404. */
	if (!sip_scheme(&to->uri) || !to->uri.user.len || to->uri.user.len > REG_USER_MAX ||
	    !str_ieq(&to->uri.host, &realm)) {
		ans->status = 404;
		return 0;
	}
	if (reg_thr_blocked(reg, ip, &to->uri.user, &realm, now_ms)) {
		*ans = (struct answer){403, "Blocked"};
		return 0;
	}
	/* Steps 3, 4 and 6. */
	err = authenticate(reg, msg, &t, &to->uri.user, ip, now_ms);
	if (err < 0)
		return err;
	if (err == AUTH_CHALLENGE || err == AUTH_CHALLENGE_STALE) {
		ans->status = 401;
		return put_challenge(reg, hdrs, t.realm, now_ms, err == AUTH_CHALLENGE_STALE);
	}
	if (err == AUTH_FORBIDDEN) {
		ans->status = 403;
		return 0;
	}
	/* Steps 6-8. */
	err = reg_loc_update(reg, &t, &to->uri.user, msg, src, now_ms, hdrs);
	switch (err) {
	case REG_LOC_OK:
		ans->status = 200;
		err = put_date(hdrs, now_ms);
		return err ? err : put_path(hdrs, msg);
	case REG_LOC_BAD_STAR:
		*ans = (struct answer){400, "Bad Request (Contact: * needs Expires: 0 alone)"};
		return 0;
	case REG_LOC_OUT_OF_ORDER:
		/* §10.3 step 7 asks for a failure without naming one: 400
		 * like Kamailio, with the reason spelled out. */
		*ans = (struct answer){400, "Bad Request (CSeq out of order)"};
		return 0;
	case REG_LOC_TOO_BRIEF:
		ans->status = 423;
		return mbuf_printf(hdrs, "Min-Expires: %u\r\n", reg->conf.min_expires);
	case REG_LOC_TOO_MANY_CONTACTS:
		*ans = (struct answer){403, "Too Many Contacts"};
		return 0;
	case REG_LOC_FULL:
		ans->status = 503;
		return mbuf_write_cstr(hdrs, "Retry-After: 300\r\n");
	}
	return err;
}

int reg_request(struct reg *reg, const struct sip_msg *msg, const struct sip_peer *src,
		uint64_t now_ms, struct mbuf *out)
{
	char ip[INET6_ADDRSTRLEN], tag[17];
	struct answer ans = {0, NULL};
	struct sip_reply r;
	struct mbuf hdrs;
	uint16_t port;
	int err;

	if (!reg || !msg || !src || !out || !msg->is_request ||
	    msg->method != SIP_METHOD_REGISTER || !msg->to || !msg->from)
		return -EINVAL;
	if (src_ip(src, ip, &port))
		return -EINVAL;
	mbuf_init(&hdrs, 0);
	err = handle(reg, msg, src, ip, now_ms, &hdrs, &ans);
	if (err)
		goto out;
	to_tag(reg, msg, tag);
	r = (struct sip_reply){
	    .status = ans.status,
	    .reason = str_cstr(ans.reason),
	    .to_tag = str_cstr(tag),
	    .headers = mbuf_str(&hdrs),
	};
	/* With received/rport in the top Via (RFC 3581): a phone behind NAT
	 * learns its public address from the 200 of its REGISTER. */
	err = sip_tx_reply_print(out, msg, src, &r);
out:
	mbuf_reset(&hdrs);
	if (err)
		return err;
	log_debug("register aor=%.*s@%.*s src=%s status=%u", STR_FMT(&msg->to->uri.user),
		  STR_FMT(&msg->to->uri.host), ip, ans.status);
	return (int)ans.status;
}

int reg_authenticate(struct reg *reg, const struct sip_msg *msg, const struct sip_peer *src,
		     uint64_t now_ms, struct reg_tenant *tenant, struct mbuf *out)
{
	const struct sip_addr *from = msg ? msg->from : NULL;
	char ip[INET6_ADDRSTRLEN], tag[17];
	struct answer ans = {0, NULL};
	struct reg_tenant t;
	struct sip_reply r;
	struct mbuf hdrs;
	uint16_t port;
	int err;

	if (!reg || !msg || !src || !out || !tenant || !msg->is_request || !from || !msg->to ||
	    msg->method == SIP_METHOD_REGISTER || msg->method == SIP_METHOD_ACK ||
	    msg->method == SIP_METHOD_CANCEL)
		return -EINVAL;
	if (src_ip(src, ip, &port))
		return -EINVAL;
	mbuf_init(&hdrs, 0);
	memset(&t, 0, sizeof(t));
	/* The same order as REGISTER: a blocked source learns nothing. */
	if (reg_thr_blocked(reg, ip, NULL, NULL, now_ms)) {
		ans = (struct answer){403, "Blocked"};
		goto answer;
	}
	/* The identity is the From address: a user of the tenant of its domain. */
	if (!sip_scheme(&from->uri) || !from->uri.user.len || from->uri.user.len > REG_USER_MAX) {
		ans.status = 403;
		goto answer;
	}
	err = reg->ops.domain(reg->arg, &from->uri.host, &t);
	if (err == -ENOENT) {
		ans.status = 403; /* not 404: the Request-URI may well exist */
		goto answer;
	}
	if (err)
		goto out;
	t.id[sizeof(t.id) - 1] = '\0';
	t.realm[sizeof(t.realm) - 1] = '\0';
	if (!realm_ok(t.realm)) {
		err = -EINVAL;
		goto out;
	}
	{
		struct str realm = str_cstr(t.realm);

		if (reg_thr_blocked(reg, ip, &from->uri.user, &realm, now_ms)) {
			ans = (struct answer){403, "Blocked"};
			goto answer;
		}
	}
	err = authenticate(reg, msg, &t, &from->uri.user, ip, now_ms);
	if (err < 0)
		goto out;
	if (err == AUTH_OK) {
		*tenant = t;
		err = 0;
		goto out;
	}
	if (err == AUTH_FORBIDDEN) {
		ans.status = 403;
		goto answer;
	}
	ans.status = 401;
	err = put_challenge(reg, &hdrs, t.realm, now_ms, err == AUTH_CHALLENGE_STALE);
	if (err)
		goto out;
answer:
	to_tag(reg, msg, tag);
	r = (struct sip_reply){
	    .status = ans.status,
	    .reason = str_cstr(ans.reason),
	    .to_tag = str_cstr(tag),
	    .headers = mbuf_str(&hdrs),
	};
	err = sip_tx_reply_print(out, msg, src, &r);
	if (!err)
		err = (int)ans.status;
out:
	mbuf_reset(&hdrs);
	return err;
}
