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
	const char *name; /* "sqlite", "postgresql" */
	void (*close)(struct store *st);
	int (*schema_version)(struct store *st);
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	int (*tenant_put)(struct store *st, const struct store_tenant *t);
	int (*tenant_get)(struct store *st, const char *id, const char *domain,
			  struct store_tenant *out); /* by id, or by domain when id is NULL */
	int (*tenant_release_domain)(struct store *st, const char *id, const char *domain);
	int (*tenant_list)(struct store *st, store_tenant_h *h, void *arg);
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
	/* Accounts for the platform API (schema version 7). */
	int (*user_get)(struct store *st, const char *tenant_id, const char *user_id,
			struct store_user_row *out);
	int (*operator_put)(struct store *st, const struct store_operator *op);
	int (*operator_get)(struct store *st, const char *id, struct store_operator *out);
	int (*operator_prune)(struct store *st, const char *const *keep, size_t n);
	int (*token_put)(struct store *st, const struct store_token *t);
	int (*token_get)(struct store *st, const char *hash, struct store_token *out);
	int (*token_revoke)(struct store *st, const char *hash);
	int (*token_revoke_user)(struct store *st, const char *tenant_id, const char *user_id);
	int (*token_prune)(struct store *st, int64_t now_ms);
	int (*audit_put)(struct store *st, const struct store_audit *a);
	int (*audit_list)(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
			  int64_t after_id, unsigned limit, store_audit_h *h, void *arg);
	/* Webhooks and their outbox (schema version 8). */
	int (*webhook_put)(struct store *st, const struct store_webhook *w);
	int (*webhook_list)(struct store *st, const char *tenant_id, store_webhook_h *h, void *arg);
	int (*webhook_prune)(struct store *st, const char *tenant_id, const char *const *keep,
			     size_t n);
	int (*outbox_put)(struct store *st, const struct store_outbox *o, int64_t *idp);
	int (*outbox_due)(struct store *st, int64_t now_ms, unsigned limit, store_outbox_h *h,
			  void *arg);
	int (*outbox_done)(struct store *st, int64_t id);
	/* status "pending" with @next_ms, or "failed" when @fail */
	int (*outbox_retry)(struct store *st, int64_t id, uint32_t attempts, int64_t next_ms,
			    const char *last_error, bool fail);
	int (*outbox_list)(struct store *st, const char *tenant_id, int64_t after_id,
			   unsigned limit, store_outbox_h *h, void *arg);
	int (*recording_list)(struct store *st, const char *tenant_id, const char *call_uuid,
			      int64_t from_ms, int64_t to_ms, store_recording_h *h, void *arg);
	int (*seat_request_add)(struct store *st, const struct store_seat_request *r, int64_t *idp);
	int (*seat_request_list)(struct store *st, const char *tenant_id, int64_t id,
				 unsigned limit, store_seat_request_h *h, void *arg);
	/* Set pending request @id's status: rows changed (0: not pending or none). */
	int (*seat_request_set)(struct store *st, int64_t id, const char *status, const char *by,
				int64_t now_ms);
	int (*number_list)(struct store *st, const char *tenant_id, store_number_h *h, void *arg);
	/* Rows changed. */
	int (*cdr_wrapup)(struct store *st, const char *tenant_id, const char *uuid,
			  const char *agent, const char *disposition, const char *notes);
};

struct store {
	const struct store_ops *ops;
};

/* The SQLite backend: @path is the file (or ":memory:"). */
int store_sqlite_open(struct store **stp, const char *path, char *errbuf, size_t errlen);
/* The PostgreSQL backend: @url is a libpq URI (postgresql:// or postgres://). */
int store_pg_open(struct store **stp, const char *url, char *errbuf, size_t errlen);
extern const struct store_ops store_pg_ops;

/* True when every op of @ops is set: store.c dispatches without checking,
 * so a backend that lacks one would crash. */
bool store_ops_complete(const struct store_ops *ops);

/*
 * One row of a backend's result, read by column: the store_row_*()
 * functions turn it into a record, so both backends fill records alike
 * from the same columns (each backend's SELECT lists them in the order the
 * function documents). text() is NULL for SQL NULL, and in SQLite also when
 * it ran out of memory: a NULL text where null() says there is a value
 * gives -ENOMEM. i64() reads integers and booleans (0 or 1).
 */
struct store_row {
	const char *(*text)(const void *q, int col);
	int64_t (*i64)(const void *q, int col);
	/* SQL NULL, for the columns that may be */
	bool (*null)(const void *q, int col);
	/* the backend's statement or result, at the row */
	const void *q;
};

/* id, name, domain, seats, district, park, timezone. Never fails. */
void store_row_tenant(const struct store_row *r, struct store_tenant *out);
/* The list rows: each fills its record (strings borrowed from the row) and
 * returns the handler's return, or -ENOMEM. */
/* id, strategy, skills, overflow, members, priority, wrapup_s,
 * ring_timeout_s, max_wait_s, max_len, sl_seconds, sl_percent, announce_s,
 * tier_wait_s, join_empty */
int store_row_queue(const struct store_row *r, const char *tenant_id, store_queue_h *h, void *arg);
/* id, name, roles, skills */
int store_row_user(const struct store_row *r, const char *tenant_id, store_user_h *h, void *arg);
/* time, line */
int store_row_qlog(const struct store_row *r, store_qlog_h *h, void *arg);
/* user_id, ready, reason, since_ms */
int store_row_presence(const struct store_row *r, const char *tenant_id, store_presence_h *h,
		       void *arg);
/* tenant_id, aor, contact, expires_at, call_id, cseq, path, received, instance */
int store_row_binding(const struct store_row *r, store_binding_h *h, void *arg);
/* uuid, tenant_id, caller, callee, route, ivr_path, agent, start_ms,
 * answer_ms, bridge_ms, end_ms, hangup_side, status, cause, recording, disposition,
 * notes */
int store_row_cdr(const struct store_row *r, store_cdr_h *h, void *arg);
/* id, time_ms, tenant_id (NULL for the platform), actor, action, object, detail */
int store_row_audit(const struct store_row *r, store_audit_h *h, void *arg);
/* number, tenant_id, route */
int store_row_number(const struct store_row *r, store_number_h *h, void *arg);
/* path, tenant_id, call_uuid, duration_ms, bytes, sha256, created_ms */
int store_row_recording(const struct store_row *r, store_recording_h *h, void *arg);
/* id, tenant_id, seats, reason, status, requested_by, decided_by, created_ms, decided_ms */
int store_row_seat_request(const struct store_row *r, store_seat_request_h *h, void *arg);
/* id, url, secret, events */
int store_row_webhook(const struct store_row *r, const char *tenant_id, store_webhook_h *h,
		      void *arg);
/* id, tenant_id, webhook_id, event_id, type, body, created_ms, next_ms,
 * attempts, status, last_error, url (NULL), secret (NULL) */
int store_row_outbox(const struct store_row *r, store_outbox_h *h, void *arg);

struct mbuf;
/*
 * The @n strings of @v as a JSON array, NUL-terminated, appended to @mb:
 * the keep-list of a prune, bound as one value (each backend expands it
 * with its own JSON functions). 0 or -ENOMEM.
 */
int store_json_strings(struct mbuf *mb, const char *const *v, size_t n);

#endif
