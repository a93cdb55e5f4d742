/*
 * store_internal: the ops table a storage backend fills. Shared only by the
 * files of src/store/ (and the store tests); callers use store.h.
 *
 * A backend embeds struct store as the first member of its own connection
 * struct and casts back in its ops. store.c checks the arguments once, so
 * backends receive valid pointers and only do the database work.
 */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include "store/store.h"

struct store_ops {
	const char *name; /* "sqlite" */
	void (*close)(struct store *st);
	int (*schema_version)(struct store *st);
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	int (*tenant_put)(struct store *st, const struct store_tenant *t);
	int (*tenant_get)(struct store *st, const char *id, const char *domain,
			  struct store_tenant *out); /* by id, or by domain when id is NULL */
	int (*tenant_release_domain)(struct store *st, const char *id, const char *domain);
	int (*calendar_put)(struct store *st, const char *tenant_id, const char *json);
	int (*calendar_get)(struct store *st, const char *tenant_id, char **jsonp);
	int (*recording_policy_put)(struct store *st, const char *tenant_id, const char *json);
	int (*recording_policy_get)(struct store *st, const char *tenant_id, char **jsonp);
	int (*pause_reasons_put)(struct store *st, const char *tenant_id, const char *json);
	int (*pause_reasons_get)(struct store *st, const char *tenant_id, char **jsonp);
	int (*trunk_put)(struct store *st, const struct store_trunk *t);
	int (*trunk_sources)(struct store *st, const char *tenant_id, store_trunk_source_h *h,
			     void *arg);
	int (*number_put)(struct store *st, const struct store_number *n);
	int (*number_get)(struct store *st, const char *number, struct store_number *out);
	int (*user_put)(struct store *st, const struct store_user *u);
	int (*user_get_ha1)(struct store *st, const char *domain, const char *user, const char *alg,
			    char out[STORE_HA1_SIZE]);
	int (*queue_put)(struct store *st, const struct store_queue *q);
	int (*queue_list)(struct store *st, const char *tenant_id, store_queue_h *h, void *arg);
	int (*user_list)(struct store *st, const char *tenant_id, store_user_h *h, void *arg);
	int (*ivr_put)(struct store *st, const char *tenant_id, const char *id, const char *json);
	int (*ivr_get)(struct store *st, const char *tenant_id, const char *id, char **jsonp);
	int (*prune)(struct store *st, enum store_kind kind, const char *tenant_id,
		     const char *const *keep, size_t n);
	int (*binding_put)(struct store *st, const struct store_binding *b);
	int (*binding_del)(struct store *st, const char *tenant_id, const char *aor,
			   const char *contact);
	int (*binding_expire)(struct store *st, int64_t now);
	int (*binding_list)(struct store *st, store_binding_h *h, void *arg);
	int (*cdr_put)(struct store *st, const struct store_cdr *c);
	int (*cdr_list)(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
			store_cdr_h *h, void *arg);
	int (*recording_put)(struct store *st, const struct store_recording *r);
	int (*recording_get)(struct store *st, const char *path, struct store_recording *out);
	int (*qlog_append)(struct store *st, const char *tenant_id, int64_t time_s,
			   const char *line);
	int (*qlog_list)(struct store *st, const char *tenant_id, int64_t from_s, int64_t to_s,
			 store_qlog_h *h, void *arg);
	int (*presence_put)(struct store *st, const struct store_presence *p);
	int (*presence_del)(struct store *st, const char *tenant_id, const char *user_id);
	int (*presence_list)(struct store *st, const char *tenant_id, store_presence_h *h,
			     void *arg);
};

struct store {
	const struct store_ops *ops;
};

/* The SQLite backend: @path is the file (or ":memory:"). */
int store_sqlite_open(struct store **stp, const char *path, char *errbuf, size_t errlen);

#endif
