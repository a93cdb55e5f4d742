/*
 * store: the backend-independent half of the storage interface. It picks a
 * backend from the URL, checks arguments once, and forwards to the ops
 * table, so a backend only does database work. No SQL here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

static void set_err(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", msg);
}

int store_open(struct store **stp, const char *url, char *errbuf, size_t errlen)
{
	if (!stp || !url) {
		set_err(errbuf, errlen, "no database URL");
		return -EINVAL;
	}
	if (!strncmp(url, "sqlite:", 7)) {
		if (!url[7]) {
			set_err(errbuf, errlen, "sqlite: URL needs a path (sqlite:<path>)");
			return -EINVAL;
		}
		return store_sqlite_open(stp, url + 7, errbuf, errlen);
	}
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
		set_err(errbuf, errlen,
			"PostgreSQL backend not built yet: use sqlite:<path> for now");
		return -EPROTONOSUPPORT;
	}
	set_err(errbuf, errlen, "unknown database URL scheme (expected sqlite:<path>)");
	return -EPROTONOSUPPORT;
}

struct store *store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
	return NULL;
}

int store_url_default(char *buf, size_t size, const char *data_dir)
{
	int n;

	if (!buf || !data_dir)
		return -EINVAL;
	n = snprintf(buf, size, "sqlite:%s/shenggu.db", data_dir);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int store_schema_version(struct store *st)
{
	return st ? st->ops->schema_version(st) : -EINVAL;
}

int store_begin(struct store *st)
{
	return st ? st->ops->begin(st) : -EINVAL;
}

int store_commit(struct store *st)
{
	return st ? st->ops->commit(st) : -EINVAL;
}

int store_rollback(struct store *st)
{
	return st ? st->ops->rollback(st) : -EINVAL;
}

int store_tenant_put(struct store *st, const struct store_tenant *t)
{
	if (!st || !t || !t->id[0] || !t->domain[0])
		return -EINVAL;
	return st->ops->tenant_put(st, t);
}

int store_tenant_get(struct store *st, const char *id, struct store_tenant *out)
{
	if (!st || !id || !out)
		return -EINVAL;
	return st->ops->tenant_get(st, id, NULL, out);
}

int store_tenant_by_domain(struct store *st, const char *domain, struct store_tenant *out)
{
	if (!st || !domain || !out)
		return -EINVAL;
	return st->ops->tenant_get(st, NULL, domain, out);
}

int store_tenant_release_domain(struct store *st, const char *id, const char *domain)
{
	if (!st || !id || !domain)
		return -EINVAL;
	return st->ops->tenant_release_domain(st, id, domain);
}

int store_number_put(struct store *st, const struct store_number *n)
{
	if (!st || !n || !n->number[0] || !n->tenant_id[0] || !n->route[0])
		return -EINVAL;
	return st->ops->number_put(st, n);
}

int store_number_get(struct store *st, const char *number, struct store_number *out)
{
	if (!st || !number || !out)
		return -EINVAL;
	return st->ops->number_get(st, number, out);
}

int store_user_put(struct store *st, const struct store_user *u)
{
	if (!st || !u || !u->tenant_id || !u->id || !u->name || !u->roles || !u->skills)
		return -EINVAL;
	/* Both digests or neither: a registrar must be able to offer both. */
	if (!u->ha1_md5 != !u->ha1_sha256 || (u->ha1_md5 && !u->realm))
		return -EINVAL;
	return st->ops->user_put(st, u);
}

const char *store_ha1_alg_name(enum store_ha1_alg alg)
{
	return alg == STORE_HA1_SHA256 ? "SHA-256" : "MD5";
}

int store_user_get_ha1(struct store *st, const char *tenant_domain, const char *user,
		       enum store_ha1_alg alg, char out[STORE_HA1_SIZE])
{
	if (!st || !tenant_domain || !user || !out ||
	    (alg != STORE_HA1_MD5 && alg != STORE_HA1_SHA256))
		return -EINVAL;
	return st->ops->user_get_ha1(st, tenant_domain, user, store_ha1_alg_name(alg), out);
}

int store_queue_put(struct store *st, const struct store_queue *q)
{
	if (!st || !q || !q->tenant_id || !q->id || !q->strategy || !q->skills)
		return -EINVAL;
	return st->ops->queue_put(st, q);
}

int store_ivr_put(struct store *st, const char *tenant_id, const char *id, const char *json)
{
	if (!st || !tenant_id || !id || !json)
		return -EINVAL;
	return st->ops->ivr_put(st, tenant_id, id, json);
}

int store_ivr_get(struct store *st, const char *tenant_id, const char *id, char **jsonp)
{
	if (!st || !tenant_id || !id || !jsonp)
		return -EINVAL;
	return st->ops->ivr_get(st, tenant_id, id, jsonp);
}

int store_prune(struct store *st, enum store_kind kind, const char *tenant_id,
		const char *const *keep, size_t n)
{
	if (!st || !tenant_id || (n && !keep) || kind < STORE_KIND_USER || kind > STORE_KIND_NUMBER)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			return -EINVAL;
	}
	return st->ops->prune(st, kind, tenant_id, keep, n);
}

int store_binding_put(struct store *st, const struct store_binding *b)
{
	if (!st || !b || !b->tenant_id || !b->aor || !b->contact || !b->call_id || !b->path ||
	    !b->received || !b->instance)
		return -EINVAL;
	return st->ops->binding_put(st, b);
}

int store_binding_del(struct store *st, const char *tenant_id, const char *aor, const char *contact)
{
	if (!st || !tenant_id || !aor || !contact)
		return -EINVAL;
	return st->ops->binding_del(st, tenant_id, aor, contact);
}

int store_binding_expire(struct store *st, int64_t now)
{
	return st ? st->ops->binding_expire(st, now) : -EINVAL;
}

int store_binding_list(struct store *st, store_binding_h *h, void *arg)
{
	if (!st || !h)
		return -EINVAL;
	return st->ops->binding_list(st, h, arg);
}
