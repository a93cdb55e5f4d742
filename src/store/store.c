/*
 * store: the backend-independent half of the storage interface. It picks a
 * backend from the URL, checks arguments once, and forwards to the ops
 * table, so a backend only does database work. No SQL here.
 */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/cidr.h"
#include "base/log.h"
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

int store_tenant_calendar_put(struct store *st, const char *tenant_id, const char *json)
{
	if (!st || !tenant_id || !json)
		return -EINVAL;
	return st->ops->calendar_put(st, tenant_id, json);
}

int store_tenant_calendar_get(struct store *st, const char *tenant_id, char **jsonp)
{
	if (!st || !tenant_id || !jsonp)
		return -EINVAL;
	return st->ops->calendar_get(st, tenant_id, jsonp);
}

int store_tenant_recording_put(struct store *st, const char *tenant_id, const char *json)
{
	if (!st || !tenant_id || !json)
		return -EINVAL;
	return st->ops->recording_policy_put(st, tenant_id, json);
}

int store_tenant_recording_get(struct store *st, const char *tenant_id, char **jsonp)
{
	if (!st || !tenant_id || !jsonp)
		return -EINVAL;
	return st->ops->recording_policy_get(st, tenant_id, jsonp);
}

int store_trunk_put(struct store *st, const struct store_trunk *t)
{
	if (!st || !t || !t->tenant_id || !t->id || !t->sources)
		return -EINVAL;
	return st->ops->trunk_put(st, t);
}

int store_trunk_sources(struct store *st, const char *tenant_id, store_trunk_source_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->trunk_sources(st, tenant_id, h, arg);
}

struct trunk_match {
	const struct sockaddr *src;
	char *trunk_id;
	bool any; /* the tenant has at least one source block */
};

/* 1 stops the walk at the first trunk that lists the source. */
static int trunk_match_h(const char *trunk_id, const char *text, void *arg)
{
	struct trunk_match *m = arg;
	struct cidr c;

	m->any = true;
	if (cidr_parse(&c, text)) {
		log_warn("trunk %s: stored source \"%s\" is not an address block, skipped",
			 trunk_id, text);
		return 0;
	}
	if (!cidr_match(&c, m->src))
		return 0;
	if (m->trunk_id)
		snprintf(m->trunk_id, STORE_ID_SIZE, "%s", trunk_id);
	return 1;
}

int store_trunk_allowed(struct store *st, const char *tenant_id, const struct sockaddr *src,
			char trunk_id[STORE_ID_SIZE])
{
	struct trunk_match m = {.src = src, .trunk_id = trunk_id};
	int err;

	if (!st || !tenant_id || !src)
		return -EINVAL;
	/* Matching is done here, not in SQL, so every backend answers alike. */
	err = st->ops->trunk_sources(st, tenant_id, trunk_match_h, &m);
	if (err < 0)
		return err;
	if (err == 1)
		return STORE_TRUNK_ALLOWED;
	return m.any ? STORE_TRUNK_DENIED : STORE_TRUNK_NONE;
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

int store_queue_list(struct store *st, const char *tenant_id, store_queue_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->queue_list(st, tenant_id, h, arg);
}

int store_user_list(struct store *st, const char *tenant_id, store_user_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->user_list(st, tenant_id, h, arg);
}

int store_tenant_pause_reasons_put(struct store *st, const char *tenant_id, const char *json)
{
	if (!st || !tenant_id || !json)
		return -EINVAL;
	return st->ops->pause_reasons_put(st, tenant_id, json);
}

int store_tenant_pause_reasons_get(struct store *st, const char *tenant_id, char **jsonp)
{
	if (!st || !tenant_id || !jsonp)
		return -EINVAL;
	return st->ops->pause_reasons_get(st, tenant_id, jsonp);
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
	if (!st || !tenant_id || (n && !keep) || kind < STORE_KIND_USER || kind > STORE_KIND_TRUNK)
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

int store_cdr_put(struct store *st, const struct store_cdr *c)
{
	if (!st || !c || !c->uuid || !c->tenant_id || !c->caller || !c->callee || !c->route ||
	    !c->ivr_path || !c->agent || !c->hangup_side || !c->cause || !c->recording)
		return -EINVAL;
	return st->ops->cdr_put(st, c);
}

int store_cdr_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		   store_cdr_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->cdr_list(st, tenant_id, from_ms, to_ms, h, arg);
}

int store_recording_put(struct store *st, const struct store_recording *r)
{
	if (!st || !r || !r->path || !r->tenant_id || !r->call_uuid || !r->sha256)
		return -EINVAL;
	return st->ops->recording_put(st, r);
}

int store_recording_get(struct store *st, const char *path, struct store_recording *out)
{
	if (!st || !path || !out)
		return -EINVAL;
	return st->ops->recording_get(st, path, out);
}

int store_qlog_append(struct store *st, const char *tenant_id, int64_t time_s, const char *line)
{
	if (!st || !tenant_id || !line || strchr(line, '\n'))
		return -EINVAL;
	return st->ops->qlog_append(st, tenant_id, time_s, line);
}

int store_qlog_list(struct store *st, const char *tenant_id, int64_t from_s, int64_t to_s,
		    store_qlog_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->qlog_list(st, tenant_id, from_s, to_s, h, arg);
}

int store_presence_put(struct store *st, const struct store_presence *p)
{
	if (!st || !p || !p->tenant_id || !p->user_id)
		return -EINVAL;
	return st->ops->presence_put(st, p);
}

int store_presence_del(struct store *st, const char *tenant_id, const char *user_id)
{
	if (!st || !tenant_id || !user_id)
		return -EINVAL;
	return st->ops->presence_del(st, tenant_id, user_id);
}

int store_presence_list(struct store *st, const char *tenant_id, store_presence_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->presence_list(st, tenant_id, h, arg);
}
