/*
 * store: the backend-independent half of the storage interface. It picks a
 * backend from the URL, checks arguments once, and forwards to the ops
 * table, so a backend only does database work. No SQL here.
 */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/cidr.h"
#include "base/log.h"
#include "base/mbuf.h"
#include "store/store_internal.h"

static void set_err(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", msg);
}

bool store_ops_complete(const struct store_ops *ops)
{
	typedef void(any_fn)(void);
	size_t first = offsetof(struct store_ops, close);

	/* Every member after the name is a function pointer. */
	_Static_assert(
	    (sizeof(struct store_ops) - offsetof(struct store_ops, close)) % sizeof(any_fn *) == 0,
	    "struct store_ops: only function pointers after the name");
	for (size_t off = first; off < sizeof(*ops); off += sizeof(any_fn *)) {
		any_fn *fn;

		memcpy(&fn, (const char *)ops + off, sizeof(fn));
		if (!fn)
			return false;
	}
	return true;
}

static int open_url(struct store **stp, const char *url, char *errbuf, size_t errlen)
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
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
		return store_pg_open(stp, url, errbuf, errlen);
	set_err(errbuf, errlen,
		"unknown database URL scheme (expected sqlite:<path> or postgresql://...)");
	return -EPROTONOSUPPORT;
}

int store_json_strings(struct mbuf *mb, const char *const *v, size_t n)
{
	int err = mbuf_write_u8(mb, '[');

	for (size_t i = 0; i < n && !err; i++) {
		err = mbuf_write_cstr(mb, i ? ",\"" : "\"");
		for (const unsigned char *p = (const unsigned char *)v[i]; *p && !err; p++) {
			if (*p == '"' || *p == '\\')
				err = mbuf_printf(mb, "\\%c", *p);
			else if (*p < 0x20)
				err = mbuf_printf(mb, "\\u%04x", *p);
			else
				err = mbuf_write_u8(mb, *p);
		}
		err = err ? err : mbuf_write_u8(mb, '"');
	}
	err = err ? err : mbuf_write_u8(mb, ']');
	return err ? err : mbuf_write_u8(mb, '\0');
}

int store_open(struct store **stp, const char *url, char *errbuf, size_t errlen)
{
	struct store *st = NULL;
	int err = open_url(&st, url, errbuf, errlen);

	if (err)
		return err;
	if (!store_ops_complete(st->ops)) {
		set_err(errbuf, errlen, "storage backend incomplete (an op is missing)");
		log_error("%s backend lacks an op: refusing to dispatch to NULL", st->ops->name);
		store_close(st);
		return -ENOSYS;
	}
	*stp = st;
	return 0;
}

static const char *row_text(const struct store_row *r, int col)
{
	return r->text(r->q, col);
}

/* A column that may be NULL: false when its text is missing for want of
 * memory (SQLite), so the caller gives -ENOMEM. */
static bool row_opt(const struct store_row *r, int col, const char **v)
{
	*v = r->text(r->q, col);
	return *v || r->null(r->q, col);
}

static uint32_t row_u32(const struct store_row *r, int col)
{
	int64_t v = r->i64(r->q, col);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void row_copy(const struct store_row *r, int col, char *dst, size_t size)
{
	const char *v = row_text(r, col);

	snprintf(dst, size, "%s", v ? v : "");
}

void store_row_tenant(const struct store_row *r, struct store_tenant *out)
{
	row_copy(r, 0, out->id, sizeof(out->id));
	row_copy(r, 1, out->name, sizeof(out->name));
	row_copy(r, 2, out->domain, sizeof(out->domain));
	out->seats = row_u32(r, 3);
	row_copy(r, 4, out->district, sizeof(out->district));
	row_copy(r, 5, out->park, sizeof(out->park));
	row_copy(r, 6, out->timezone, sizeof(out->timezone));
}

int store_row_queue(const struct store_row *r, const char *tenant_id, store_queue_h *h, void *arg)
{
	struct store_queue q = {
	    .tenant_id = tenant_id,
	    .id = row_text(r, 0),
	    .strategy = row_text(r, 1),
	    .skills = row_text(r, 2),
	    .priority = row_u32(r, 5),
	    .wrapup_s = row_u32(r, 6),
	    .ring_timeout_s = row_u32(r, 7),
	    .max_wait_s = row_u32(r, 8),
	    .max_len = row_u32(r, 9),
	    .sl_seconds = row_u32(r, 10),
	    .sl_percent = row_u32(r, 11),
	    .announce_s = row_u32(r, 12),
	    .tier_wait_s = row_u32(r, 13),
	    .join_empty = r->i64(r->q, 14) != 0,
	};

	if (!q.id || !q.strategy || !q.skills || !row_opt(r, 3, &q.overflow) ||
	    !row_opt(r, 4, &q.members))
		return -ENOMEM;
	return h(&q, arg);
}

int store_row_user(const struct store_row *r, const char *tenant_id, store_user_h *h, void *arg)
{
	struct store_user u = {
	    .tenant_id = tenant_id,
	    .id = row_text(r, 0),
	    .name = row_text(r, 1),
	    .roles = row_text(r, 2),
	    .skills = row_text(r, 3),
	};

	if (!u.id || !u.name || !u.roles || !u.skills)
		return -ENOMEM;
	return h(&u, arg);
}

int store_row_qlog(const struct store_row *r, store_qlog_h *h, void *arg)
{
	const char *line = row_text(r, 1);

	return line ? h(r->i64(r->q, 0), line, arg) : -ENOMEM;
}

int store_row_presence(const struct store_row *r, const char *tenant_id, store_presence_h *h,
		       void *arg)
{
	struct store_presence p = {
	    .tenant_id = tenant_id,
	    .user_id = row_text(r, 0),
	    .ready = r->i64(r->q, 1) != 0,
	    .reason = row_u32(r, 2),
	    .since_ms = r->i64(r->q, 3),
	};

	return p.user_id ? h(&p, arg) : -ENOMEM;
}

int store_row_binding(const struct store_row *r, store_binding_h *h, void *arg)
{
	struct store_binding b = {
	    .tenant_id = row_text(r, 0),
	    .aor = row_text(r, 1),
	    .contact = row_text(r, 2),
	    .expires_at = r->i64(r->q, 3),
	    .call_id = row_text(r, 4),
	    .cseq = row_u32(r, 5),
	    .path = row_text(r, 6),
	    .received = row_text(r, 7),
	    .instance = row_text(r, 8),
	};

	if (!b.tenant_id || !b.aor || !b.contact || !b.call_id || !b.path || !b.received ||
	    !b.instance)
		return -ENOMEM;
	return h(&b, arg);
}

int store_row_cdr(const struct store_row *r, store_cdr_h *h, void *arg)
{
	struct store_cdr c = {
	    .uuid = row_text(r, 0),
	    .tenant_id = row_text(r, 1),
	    .caller = row_text(r, 2),
	    .callee = row_text(r, 3),
	    .route = row_text(r, 4),
	    .ivr_path = row_text(r, 5),
	    .agent = row_text(r, 6),
	    .start_ms = r->i64(r->q, 7),
	    .answer_ms = r->i64(r->q, 8),
	    .bridge_ms = r->i64(r->q, 9),
	    .end_ms = r->i64(r->q, 10),
	    .hangup_side = row_text(r, 11),
	    .status = row_u32(r, 12),
	    .cause = row_text(r, 13),
	    .recording = row_text(r, 14),
	    .disposition = row_text(r, 15),
	    .notes = row_text(r, 16),
	};

	if (!c.uuid || !c.tenant_id || !c.caller || !c.callee || !c.route || !c.ivr_path ||
	    !c.agent || !c.hangup_side || !c.cause || !c.recording || !c.disposition || !c.notes)
		return -ENOMEM;
	return h(&c, arg);
}

int store_row_audit(const struct store_row *r, store_audit_h *h, void *arg)
{
	struct store_audit a = {
	    .id = r->i64(r->q, 0),
	    .time_ms = r->i64(r->q, 1),
	    .actor = row_text(r, 3),
	    .action = row_text(r, 4),
	    .object = row_text(r, 5),
	    .detail = row_text(r, 6),
	};

	if (!row_opt(r, 2, &a.tenant_id) || !a.actor || !a.action || !a.object || !a.detail)
		return -ENOMEM;
	return h(&a, arg);
}

int store_row_number(const struct store_row *r, store_number_h *h, void *arg)
{
	struct store_number n;
	const char *num = row_text(r, 0), *tenant = row_text(r, 1), *route = row_text(r, 2);

	if (!num || !tenant || !route)
		return -ENOMEM;
	snprintf(n.number, sizeof(n.number), "%s", num);
	snprintf(n.tenant_id, sizeof(n.tenant_id), "%s", tenant);
	snprintf(n.route, sizeof(n.route), "%s", route);
	return h(&n, arg);
}

int store_row_recording(const struct store_row *r, store_recording_h *h, void *arg)
{
	struct store_recording rec = {
	    .path = row_text(r, 0),
	    .tenant_id = row_text(r, 1),
	    .call_uuid = row_text(r, 2),
	    .duration_ms = r->i64(r->q, 3),
	    .bytes = r->i64(r->q, 4),
	    .sha256 = row_text(r, 5),
	    .created_ms = r->i64(r->q, 6),
	};

	if (!rec.path || !rec.tenant_id || !rec.call_uuid || !rec.sha256)
		return -ENOMEM;
	return h(&rec, arg);
}

int store_row_seat_request(const struct store_row *r, store_seat_request_h *h, void *arg)
{
	struct store_seat_request q = {
	    .id = r->i64(r->q, 0),
	    .tenant_id = row_text(r, 1),
	    .seats = (uint32_t)r->i64(r->q, 2),
	    .reason = row_text(r, 3),
	    .status = row_text(r, 4),
	    .requested_by = row_text(r, 5),
	    .decided_by = row_text(r, 6),
	    .created_ms = r->i64(r->q, 7),
	    .decided_ms = r->i64(r->q, 8),
	};

	if (!q.tenant_id || !q.reason || !q.status || !q.requested_by || !q.decided_by)
		return -ENOMEM;
	return h(&q, arg);
}

int store_row_webhook(const struct store_row *r, const char *tenant_id, store_webhook_h *h,
		      void *arg)
{
	struct store_webhook w = {
	    .tenant_id = tenant_id,
	    .id = row_text(r, 0),
	    .url = row_text(r, 1),
	    .secret = row_text(r, 2),
	    .events = row_text(r, 3),
	};

	if (!w.id || !w.url || !w.secret || !w.events)
		return -ENOMEM;
	return h(&w, arg);
}

int store_row_outbox(const struct store_row *r, store_outbox_h *h, void *arg)
{
	struct store_outbox o = {
	    .id = r->i64(r->q, 0),
	    .tenant_id = row_text(r, 1),
	    .webhook_id = row_text(r, 2),
	    .event_id = row_text(r, 3),
	    .type = row_text(r, 4),
	    .body = row_text(r, 5),
	    .created_ms = r->i64(r->q, 6),
	    .next_ms = r->i64(r->q, 7),
	    .attempts = row_u32(r, 8),
	    .status = row_text(r, 9),
	    .last_error = row_text(r, 10),
	};

	if (!o.tenant_id || !o.webhook_id || !o.event_id || !o.type || !o.body || !o.status ||
	    !o.last_error || !row_opt(r, 11, &o.url) || !row_opt(r, 12, &o.secret))
		return -ENOMEM;
	return h(&o, arg);
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

int store_tenant_list(struct store *st, store_tenant_h *h, void *arg)
{
	if (!st || !h)
		return -EINVAL;
	return st->ops->tenant_list(st, h, arg);
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
	if (u->pw_hash && (!u->pw_hash[0] || strlen(u->pw_hash) >= STORE_PW_HASH_SIZE))
		return -EINVAL;
	return st->ops->user_put(st, u);
}

int store_user_get(struct store *st, const char *tenant_id, const char *user_id,
		   struct store_user_row *out)
{
	if (!st || !tenant_id || !user_id || !out)
		return -EINVAL;
	return st->ops->user_get(st, tenant_id, user_id, out);
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

static bool keep_ok(const char *const *keep, size_t n)
{
	if (n && !keep)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			return false;
	}
	return true;
}

int store_prune(struct store *st, enum store_kind kind, const char *tenant_id,
		const char *const *keep, size_t n)
{
	if (!st || !tenant_id || !keep_ok(keep, n) || kind < STORE_KIND_USER ||
	    kind > STORE_KIND_TRUNK)
		return -EINVAL;
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

int store_cdr_wrapup(struct store *st, const char *tenant_id, const char *uuid, const char *agent,
		     const char *disposition, const char *notes)
{
	int n;

	if (!st || !tenant_id || !uuid || !disposition || !notes)
		return -EINVAL;
	n = st->ops->cdr_wrapup(st, tenant_id, uuid, agent, disposition, notes);
	return n < 0 ? n : n ? 0 : -ENOENT;
}

int store_number_list(struct store *st, const char *tenant_id, store_number_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->number_list(st, tenant_id, h, arg);
}

int store_recording_list(struct store *st, const char *tenant_id, const char *call_uuid,
			 int64_t from_ms, int64_t to_ms, store_recording_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->recording_list(st, tenant_id, call_uuid, from_ms, to_ms, h, arg);
}

int store_seat_request_add(struct store *st, const struct store_seat_request *r, int64_t *idp)
{
	if (!st || !r || !r->tenant_id || !r->requested_by)
		return -EINVAL;
	return st->ops->seat_request_add(st, r, idp);
}

int store_seat_request_list(struct store *st, const char *tenant_id, unsigned limit,
			    store_seat_request_h *h, void *arg)
{
	if (!st || !h || !limit)
		return -EINVAL;
	return st->ops->seat_request_list(st, tenant_id, 0, limit, h, arg);
}

/* The one request a list by id gives. */
static int seat_request_copy(const struct store_seat_request *r, void *arg)
{
	struct store_seat_request *out = arg;

	out->id = r->id;
	out->seats = r->seats;
	snprintf((char *)out->tenant_id, STORE_ID_SIZE, "%s", r->tenant_id);
	return 1;
}

int store_seat_request_decide(struct store *st, int64_t id, bool approve, const char *by,
			      int64_t now_ms)
{
	char tenant[STORE_ID_SIZE] = "";
	struct store_seat_request r = {.tenant_id = tenant};
	struct store_tenant t;
	int err;

	if (!st || id <= 0 || !by)
		return -EINVAL;
	err = store_begin(st);
	if (err)
		return err;
	err = st->ops->seat_request_list(st, NULL, id, 1, seat_request_copy, &r);
	if (err == 0)
		err = -ENOENT;
	if (err > 0)
		err =
		    st->ops->seat_request_set(st, id, approve ? "approved" : "refused", by, now_ms);
	if (err == 0)
		err = -EPERM; /* the request is there but not pending */
	if (err > 0 && approve) {
		err = st->ops->tenant_get(st, tenant, NULL, &t);
		if (!err) {
			t.seats = r.seats;
			err = st->ops->tenant_put(st, &t);
		}
	}
	if (err < 0) {
		store_rollback(st);
		return err;
	}
	return store_commit(st);
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

int store_operator_put(struct store *st, const struct store_operator *op)
{
	if (!st || !op || !op->id[0])
		return -EINVAL;
	return st->ops->operator_put(st, op);
}

int store_operator_get(struct store *st, const char *id, struct store_operator *out)
{
	if (!st || !id || !out)
		return -EINVAL;
	return st->ops->operator_get(st, id, out);
}

int store_operator_prune(struct store *st, const char *const *keep, size_t n)
{
	if (!st || !keep_ok(keep, n))
		return -EINVAL;
	return st->ops->operator_prune(st, keep, n);
}

/* 64 lowercase hex digits: what acct_token_hash() gives. */
static bool token_hash_ok(const char *hash)
{
	size_t n = 0;

	for (; hash[n]; n++) {
		if (!((hash[n] >= '0' && hash[n] <= '9') || (hash[n] >= 'a' && hash[n] <= 'f')))
			return false;
	}
	return n == STORE_TOKEN_HASH_SIZE - 1;
}

int store_token_put(struct store *st, const struct store_token *t)
{
	if (!st || !t || !t->hash || !t->user_id || !t->roles || !token_hash_ok(t->hash) ||
	    strlen(t->roles) >= STORE_ROLES_SIZE)
		return -EINVAL;
	return st->ops->token_put(st, t);
}

int store_token_get(struct store *st, const char *hash, struct store_token *out)
{
	if (!st || !hash || !out)
		return -EINVAL;
	return st->ops->token_get(st, hash, out);
}

int store_token_revoke(struct store *st, const char *hash)
{
	if (!st || !hash)
		return -EINVAL;
	return st->ops->token_revoke(st, hash);
}

int store_token_revoke_user(struct store *st, const char *tenant_id, const char *user_id)
{
	if (!st || !user_id)
		return -EINVAL;
	return st->ops->token_revoke_user(st, tenant_id, user_id);
}

int store_token_prune(struct store *st, int64_t now_ms)
{
	return st ? st->ops->token_prune(st, now_ms) : -EINVAL;
}

int store_audit_put(struct store *st, const struct store_audit *a)
{
	if (!st || !a || !a->actor || !a->action || !a->object || !a->detail)
		return -EINVAL;
	return st->ops->audit_put(st, a);
}

int store_audit_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		     int64_t after_id, unsigned limit, store_audit_h *h, void *arg)
{
	if (!st || !h || !limit)
		return -EINVAL;
	return st->ops->audit_list(st, tenant_id, from_ms, to_ms, after_id, limit, h, arg);
}

int store_webhook_put(struct store *st, const struct store_webhook *w)
{
	if (!st || !w || !w->tenant_id || !w->id || !w->url || !w->secret || !w->events ||
	    strlen(w->url) >= STORE_URL_SIZE || strlen(w->secret) >= STORE_SECRET_SIZE)
		return -EINVAL;
	return st->ops->webhook_put(st, w);
}

int store_webhook_list(struct store *st, const char *tenant_id, store_webhook_h *h, void *arg)
{
	if (!st || !tenant_id || !h)
		return -EINVAL;
	return st->ops->webhook_list(st, tenant_id, h, arg);
}

int store_webhook_prune(struct store *st, const char *tenant_id, const char *const *keep, size_t n)
{
	if (!st || !tenant_id || !keep_ok(keep, n))
		return -EINVAL;
	return st->ops->webhook_prune(st, tenant_id, keep, n);
}

int store_outbox_put(struct store *st, const struct store_outbox *o, int64_t *idp)
{
	if (!st || !o || !o->tenant_id || !o->webhook_id || !o->event_id || !o->type || !o->body)
		return -EINVAL;
	return st->ops->outbox_put(st, o, idp);
}

int store_outbox_due(struct store *st, int64_t now_ms, unsigned limit, store_outbox_h *h, void *arg)
{
	if (!st || !h || !limit)
		return -EINVAL;
	return st->ops->outbox_due(st, now_ms, limit, h, arg);
}

int store_outbox_done(struct store *st, int64_t id)
{
	return st ? st->ops->outbox_done(st, id) : -EINVAL;
}

int store_outbox_retry(struct store *st, int64_t id, uint32_t attempts, int64_t next_ms,
		       const char *last_error)
{
	if (!st || !last_error)
		return -EINVAL;
	return st->ops->outbox_retry(st, id, attempts, next_ms, last_error, false);
}

int store_outbox_fail(struct store *st, int64_t id, uint32_t attempts, const char *last_error)
{
	if (!st || !last_error)
		return -EINVAL;
	return st->ops->outbox_retry(st, id, attempts, 0, last_error, true);
}

int store_outbox_list(struct store *st, const char *tenant_id, int64_t after_id, unsigned limit,
		      store_outbox_h *h, void *arg)
{
	if (!st || !tenant_id || !h || !limit)
		return -EINVAL;
	return st->ops->outbox_list(st, tenant_id, after_id, limit, h, arg);
}
