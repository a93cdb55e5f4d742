/*
 * api_auth: logins, bearer tokens and the audit log.
 *
 * POST /api/v1/login {"tenant": "acme", "user": "admin", "password": "..."}
 * ("tenant" left out for a platform operator). The argon2id check takes
 * tens of milliseconds by design, so it runs on libuv's thread pool; the
 * loop keeps serving calls meanwhile. Unknown users are checked against a
 * dummy hash all the same, so the answer's timing does not tell which users
 * exist. Failures are throttled per user and per client address
 * (acct_throttle: 429 with Retry-After).
 *
 * A token is 32 random bytes; only its SHA-256 is stored (tokens table),
 * with its expiry. Sessions are cached in memory by that hash, so checking a
 * token costs one hash lookup; a cache miss (another node's token, or after
 * a restart) reads the store once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define LOG_MODULE "api"
#include "api/api_internal.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "loop/loop.h"

#define SESSIONS_MAX 200000 /* cached sessions; beyond, the store is read */
#define LOGINS_MAX   64	    /* password checks in flight; beyond, 503 */

struct login {
	uv_work_t work;
	struct list_elem le;
	struct api *api; /* NULL once the api is gone */
	struct http_req *req;
	char tenant[STORE_ID_SIZE], user[STORE_ID_SIZE];
	char peer[48];
	char pw_hash[ACCT_PW_HASH_SIZE]; /* "" when no such user */
	char password[ACCT_PASSWORD_MAX + 1];
	unsigned roles;
	bool unknown;
	int result; /* of the check, on the pool thread */
};

static void sessions_free(struct hash *h)
{
	size_t it = 0;
	struct str key;
	void *val;

	while (h && hash_next(h, &it, &key, &val)) {
		memset(val, 0, sizeof(struct api_session)); /* tokens */
		mem_free(val);
	}
	hash_free(h);
}

int api_auth_init(struct api *a)
{
	int err = hash_alloc(&a->sessions, 1024, 0);

	if (!err)
		err = acct_throttle_alloc(&a->throttle, 65536);
	list_init(&a->logins);
	if (!err) {
		char pw[ACCT_TOKEN_SIZE];

		err = acct_token_new(pw);
		err = err ? err : acct_password_hash(pw, a->dummy_hash, sizeof(a->dummy_hash));
	}
	return err;
}

void api_auth_free(struct api *a)
{
	struct list_elem *e, *tmp;

	/* Checks still on the pool finish without us. */
	list_for_each_safe(&a->logins, e, tmp)
	{
		struct login *l = list_entry(e, struct login, le);

		list_unlink(&l->le);
		l->api = NULL;
	}
	sessions_free(a->sessions);
	acct_throttle_free(a->throttle);
}

static struct api_session *cache_put(struct api *a, const struct api_session *s)
{
	struct api_session *c;
	struct str k;

	if (hash_count(a->sessions) >= SESSIONS_MAX) { /* start again: refilled from the store */
		struct hash *fresh;

		if (hash_alloc(&fresh, 1024, 0))
			return NULL;
		sessions_free(a->sessions);
		a->sessions = fresh;
	}
	c = mem_alloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *s;
	k = str_cstr(c->token);
	if (hash_put(a->sessions, &k, c, NULL)) {
		mem_free(c);
		return NULL;
	}
	return c;
}

static void cache_del(struct api *a, const char *token)
{
	struct str k = str_cstr(token);
	struct api_session *c = hash_del(a->sessions, &k);

	if (c)
		memset(c->token, 0, sizeof(c->token)); /* no live token left in freed memory */
	mem_free(c);
}

/* The token of @r: "Authorization: Bearer T", or ?token=T (WebSockets from browsers). */
static struct str bearer(const struct http_req *r)
{
	struct str h = http_req_header(r, HTTP_HDR_AUTHORIZATION);

	if (h.p) {
		if (h.len > 7 && str_ieq_mem(h.p, "Bearer ", 7))
			return str_trim(str_make(h.p + 7, h.len - 7));
		return STR_NULL;
	}
	return http_req_arg(r, "token");
}

const struct api_session *api_auth_session(struct api *a, const struct http_req *r)
{
	struct str tok = bearer(r);
	struct api_session s = {0}, *c;
	struct store_token t;
	int64_t now = clock_real_ms();

	/* The cache is keyed by the token itself: a hit costs no SHA-256 (the
	 * store, which must never hold a usable token, is keyed by the hash). */
	if (!tok.p || !acct_token_valid_syntax(tok.p, tok.len) || tok.len >= sizeof(s.token))
		return NULL;
	c = hash_get(a->sessions, &tok);
	if (c) {
		if (c->expires_ms > now)
			return c;
		cache_del(a, c->token);
		return NULL;
	}
	memcpy(s.token, tok.p, tok.len);
	if (acct_token_hash(tok.p, tok.len, s.hash))
		return NULL;
	if (store_token_get(a->conf.store, s.hash, &t) || t.revoked || t.expires_ms <= now)
		return NULL;
	if (acct_roles_parse(t.roles, &s.roles))
		return NULL;
	snprintf(s.tenant, sizeof(s.tenant), "%s", t.tenant_id ? t.tenant_id : "");
	snprintf(s.user, sizeof(s.user), "%s", t.user_id);
	s.expires_ms = t.expires_ms;
	return cache_put(a, &s); /* NULL (401) only when out of memory */
}

void api_audit(struct api_call *c, const char *action, const char *object, json_t *detail)
{
	struct store_audit au = {
	    .time_ms = clock_real_ms(),
	    .tenant_id = c->tenant_id[0] ? c->tenant_id : (c->who ? c->who->tenant : ""),
	    .action = action,
	    .object = object ? object : "",
	};
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL, actor[2 * STORE_ID_SIZE + 16];
	int err;

	json_decref(detail);
	if (c->who)
		snprintf(actor, sizeof(actor), "%s/%s",
			 c->who->tenant[0] ? c->who->tenant : "operator", c->who->user);
	else
		snprintf(actor, sizeof(actor), "anonymous");
	au.actor = actor;
	if (au.tenant_id && !au.tenant_id[0])
		au.tenant_id = NULL;
	au.detail = d ? d : "{}";
	if (c->api->conf.live && c->api->conf.live->audit)
		err = c->api->conf.live->audit(c->api->conf.live_arg, &au);
	else
		err = store_audit_put(c->api->conf.store, &au);
	if (err)
		log_warn("audit not stored action=%s object=%s err=%d", action, au.object, err);
	free(d);
}

static void login_work(uv_work_t *w)
{
	struct login *l = w->data;

	/* Unknown users are checked against the dummy hash (made at start
	 * from a random password), so they take as long as known ones. */
	l->result = acct_password_verify(l->pw_hash, l->password);
	if (l->unknown)
		l->result = -EACCES;
}

static void login_done(uv_work_t *w, int status)
{
	struct login *l = w->data;
	struct api *a = l->api;
	char token[ACCT_TOKEN_SIZE], key[ACCT_THROTTLE_KEY_MAX + 1], roles[96];
	struct api_session s = {0};
	struct api_call c = {0};
	int64_t now = clock_real_ms();
	int err;

	memset(l->password, 0, sizeof(l->password));
	if (!a) { /* the api has gone: the server is stopping */
		http_respond(l->req, 503, NULL, NULL, NULL, 0);
		mem_free(l);
		return;
	}
	list_unlink(&l->le);
	a->nlogins--;
	snprintf(key, sizeof(key), "%s/%s", l->tenant, l->user);
	if (status || l->result) {
		acct_throttle_fail(a->throttle, key, now);
		acct_throttle_fail(a->throttle, l->peer, now);
		log_info("login refused tenant=%s user=%s from=%s", l->tenant, l->user, l->peer);
		api_error(l->req, 401, "unauthorized", "login: wrong tenant, user or password");
		mem_free(l);
		return;
	}
	acct_throttle_ok(a->throttle, key);
	err = acct_token_new(token);
	err = err ? err : acct_token_hash(token, strlen(token), s.hash);
	snprintf(s.token, sizeof(s.token), "%s", token);
	snprintf(s.tenant, sizeof(s.tenant), "%s", l->tenant);
	snprintf(s.user, sizeof(s.user), "%s", l->user);
	s.roles = l->roles;
	s.expires_ms = now + a->conf.token_ttl_ms;
	if (!err)
		err = acct_roles_format(s.roles, roles, sizeof(roles)) < 0 ? -EINVAL : 0;
	if (!err) {
		struct store_token t = {
		    .hash = s.hash,
		    .tenant_id = s.tenant[0] ? s.tenant : NULL,
		    .user_id = s.user,
		    .roles = roles,
		    .created_ms = now,
		    .expires_ms = s.expires_ms,
		};

		err = store_token_put(a->conf.store, &t);
	}
	if (err) {
		api_store_error(l->req, err, "token");
		mem_free(l);
		return;
	}
	cache_put(a, &s);
	c.api = a;
	c.who = &s;
	snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", s.tenant);
	api_audit(&c, "login", s.user, json_pack("{ss}", "from", l->peer));
	api_json(l->req, 200,
		 json_pack("{sssssssIso}", "token", token, "tenant", s.tenant, "user", s.user,
			   "expires", (json_int_t)s.expires_ms, "roles",
			   json_loads(roles, 0, NULL)));
	memset(token, 0, sizeof(token));
	mem_free(l);
}

/* Copy string field @name of @body into @out; an answer of 400 and -EINVAL when bad. */
static int field(struct http_req *r, json_t *body, const char *name, bool required, char *out,
		 size_t size)
{
	json_t *v = json_object_get(body, name);
	const char *s;

	out[0] = '\0';
	if (!v && !required)
		return 0;
	s = json_string_value(v);
	if (!s || !*s || strlen(s) >= size) {
		api_error(r, 400, "invalid", "%s: expected a string of 1 to %zu bytes", name,
			  size - 1);
		return -EINVAL;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

void api_auth_login(struct api_call *c)
{
	struct api *a = c->api;
	struct http_req *r = c->req;
	json_t *body = api_body_object(r);
	struct login *l;
	char key[ACCT_THROTTLE_KEY_MAX + 1];
	int64_t wait_ms = 0, now = clock_real_ms();
	int err;

	if (!body)
		return;
	if (a->nlogins >= LOGINS_MAX) {
		json_decref(body);
		api_error_hdr(r, 503, "Retry-After: 1\r\n", "busy", "login: too many at once");
		return;
	}
	l = mem_zalloc(sizeof(*l));
	if (!l) {
		json_decref(body);
		api_error(r, 503, "unavailable", "out of memory");
		return;
	}
	l->api = a;
	l->req = r;
	l->work.data = l;
	snprintf(l->peer, sizeof(l->peer), "%s", http_req_peer(r));
	if (field(r, body, "tenant", false, l->tenant, sizeof(l->tenant)) ||
	    field(r, body, "user", true, l->user, sizeof(l->user)) ||
	    field(r, body, "password", true, l->password, sizeof(l->password))) {
		json_decref(body);
		mem_free(l);
		return;
	}
	json_decref(body);
	snprintf(key, sizeof(key), "%s/%s", l->tenant, l->user);
	if (acct_throttle_check(a->throttle, key, now, &wait_ms) == -EAGAIN ||
	    acct_throttle_check(a->throttle, l->peer, now, &wait_ms) == -EAGAIN) {
		char hdr[48];

		snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n",
			 (long long)(wait_ms + 999) / 1000);
		memset(l->password, 0, sizeof(l->password));
		mem_free(l);
		api_error_hdr(r, 429, hdr, "throttled",
			      "login: too many failures, try again in %lld s",
			      (long long)(wait_ms + 999) / 1000);
		return;
	}
	if (l->tenant[0]) {
		struct store_user_row u;

		err = store_user_get(a->conf.store, l->tenant, l->user, &u);
		if (!err) {
			if (u.pw_hash[0] && !acct_roles_parse(u.roles, &l->roles)) {
				l->roles &= ACCT_ROLES_TENANT;
				snprintf(l->pw_hash, sizeof(l->pw_hash), "%s", u.pw_hash);
			}
			mem_free(u.skills);
		}
	} else {
		struct store_operator op;

		err = store_operator_get(a->conf.store, l->user, &op);
		if (!err && op.pw_hash[0]) {
			l->roles = ACCT_ROLE_OPERATOR;
			snprintf(l->pw_hash, sizeof(l->pw_hash), "%s", op.pw_hash);
		}
	}
	if (err && err != -ENOENT) {
		memset(l->password, 0, sizeof(l->password));
		mem_free(l);
		api_store_error(r, err, "user");
		return;
	}
	if (!l->roles || !l->pw_hash[0]) { /* no such user, no password or no role */
		l->unknown = true;
		snprintf(l->pw_hash, sizeof(l->pw_hash), "%s", a->dummy_hash);
	}
	err = uv_queue_work(loop_uv(a->conf.loop), &l->work, login_work, login_done);
	if (err) {
		memset(l->password, 0, sizeof(l->password));
		mem_free(l);
		api_error(r, 503, "unavailable", "login: no worker");
		return;
	}
	list_append(&a->logins, &l->le);
	a->nlogins++;
}

void api_auth_logout(struct api_call *c)
{
	struct api *a = c->api;
	char hash[sizeof(c->who->hash)], token[sizeof(c->who->token)];
	int err;

	memcpy(hash, c->who->hash, sizeof(hash));
	memcpy(token, c->who->token, sizeof(token));
	err = store_token_revoke(a->conf.store, hash);
	if (err && err != -ENOENT) {
		api_store_error(c->req, err, "token");
		return;
	}
	api_audit(c, "logout", c->who->user, NULL);
	cache_del(a, token); /* c->who points into the cache: last use above */
	http_respond(c->req, 204, NULL, NULL, NULL, 0);
}

void api_auth_me(struct api_call *c)
{
	char roles[96];

	acct_roles_format(c->who->roles, roles, sizeof(roles));
	api_json(c->req, 200,
		 json_pack("{sssssIso}", "tenant", c->who->tenant, "user", c->who->user, "expires",
			   (json_int_t)c->who->expires_ms, "roles", json_loads(roles, 0, NULL)));
}
