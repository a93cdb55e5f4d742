/*
 * store: durable configuration and state behind one interface.
 *
 * A struct store is a connection to one database, opened from a URL:
 * "sqlite:<path>" (store_sqlite.c, the embedded default) or
 * "postgresql://..." / "postgres://..." (store_pg.c, a libpq URI: several
 * nodes share one PostgreSQL database). Both backends give the same results
 * and errors for the same calls (the same unit tests run against both).
 * Callers see only the typed functions below; each backend fills an ops
 * table (store_internal.h), so a new backend changes no caller.
 *
 * What is stored: tenants (with their SIP domain, time zone, business
 * hours and recording policy), numbers (platform-wide, each owned by one tenant, with a route),
 * trunks (the source addresses allowed to call a tenant's numbers), users
 * (roles and skills as JSON text, SIP credentials as HA1 digests and the API
 * password as an argon2id hash only: never a plaintext password), queues,
 * IVR flows (validated JSON text), registrar bindings, call detail records
 * and the metadata of recordings; and for the platform API: operators,
 * bearer tokens (hashed) and the audit log.
 * It is not a cache: hot state lives in memory in its owners and is written
 * through here.
 *
 * Contract for every function:
 * - 0 (or a count, where stated) on success, a negative errno on failure:
 *   -EINVAL bad arguments or a value the schema refuses, -ENOENT no such
 *   row (or a reference to a missing row), -EEXIST a unique value taken,
 *   -EBUSY the database stayed locked past the busy timeout, -ENOSPC disk
 *   full, -EIO anything else from the backend, -ENOMEM.
 * - Strings in input records are borrowed for the call only.
 * - A struct store is used by one thread at a time (the database thread of
 *   the pool, or a command-line tool); it holds no global state, so several
 *   stores can be open in one process.
 * - Writes outside store_begin()/store_commit() are each their own
 *   transaction; committed data survives kill -9 (the SQLite backend uses
 *   WAL with synchronous=FULL).
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct store;

/* Sizes of the fixed fields of records, terminating NUL included. */
#define STORE_ID_SIZE	  65  /* tenant, user, queue and IVR ids */
#define STORE_NAME_SIZE	  129 /* display names, districts, parks */
#define STORE_DOMAIN_SIZE 254 /* a DNS name: 253 octets */
#define STORE_NUMBER_SIZE 33  /* a number (DID), digits with an optional '+' */
#define STORE_ROUTE_SIZE  160 /* route JSON: {"queue":"<id>"} and the like */
#define STORE_HA1_SIZE	  65  /* 64 hex digits of SHA-256, or 32 of MD5 */
#define STORE_TZ_SIZE	  64  /* an IANA time zone name (base/tz.h TZ_NAME_MAX + 1) */

/* Accounts of the platform API. */
#define STORE_PW_HASH_SIZE    128 /* an argon2id PHC string (acct/acct.h ACCT_PW_HASH_SIZE) */
#define STORE_ROLES_SIZE      128 /* a JSON array of role names */
#define STORE_TOKEN_HASH_SIZE 65  /* SHA-256 of a bearer token: 64 lowercase hex digits */

/*
 * Open the database at @url and bring its schema up to date (migrations run
 * in one transaction each). On failure a one-line reason goes to @errbuf
 * (may be NULL) and *@stp is untouched:
 *   -EPROTONOSUPPORT  an unknown scheme,
 *   -EPROTO           a database written by a newer schema than this binary,
 *   -EACCES/-ENOENT/-EIO as opening the file fails,
 *   -ECONNREFUSED     no PostgreSQL server answered (-EIO: one answered and
 *                     refused, e.g. authentication or no such database),
 *   -EINVAL           a postgresql:// URL libpq cannot parse.
 * The caller owns the store and closes it with store_close().
 */
int store_open(struct store **stp, const char *url, char *errbuf, size_t errlen);
/* Close and free; NULL is fine. Rolls back an open transaction. Returns NULL. */
struct store *store_close(struct store *st);
/* "sqlite:<data_dir>/shenggu.db" into @buf; -ENAMETOOLONG when it does not fit. */
int store_url_default(char *buf, size_t size, const char *data_dir);
/* Version of the schema in the database, >= 1. */
int store_schema_version(struct store *st);
/* Version this binary migrates to. */
int store_schema_latest(void);

/*
 * Transactions. store_begin() takes the write lock at once (so a
 * read-check-write sequence cannot race another writer); one level only
 * (-EALREADY when one is open). store_rollback() without one is a no-op.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/*
 * Put functions insert a row or update it in place, and return 1 when
 * something was written (inserted or changed), 0 when the stored row was
 * already equal: applying the same data twice writes nothing. Updates in
 * place never delete the row, so rows that depend on it (a user's bindings)
 * stay.
 */

struct store_tenant {
	char id[STORE_ID_SIZE];
	char name[STORE_NAME_SIZE];
	char domain[STORE_DOMAIN_SIZE]; /* unique platform-wide: the SIP realm */
	uint32_t seats;
	char district[STORE_NAME_SIZE];
	char park[STORE_NAME_SIZE];
	/* IANA zone of the tenant's business hours and reports; "" is stored
	 * as "UTC" (records made before time zones existed). */
	char timezone[STORE_TZ_SIZE];
};

int store_tenant_put(struct store *st, const struct store_tenant *t);
/* -ENOENT when there is none; @out is written only on success. */
int store_tenant_get(struct store *st, const char *id, struct store_tenant *out);
int store_tenant_by_domain(struct store *st, const char *domain, struct store_tenant *out);
/* Every tenant, by id; @h's non-zero return stops the walk and is returned.
 * Returns how many were visited, or -errno. */
typedef int(store_tenant_h)(const struct store_tenant *t, void *arg);
int store_tenant_list(struct store *st, store_tenant_h *h, void *arg);
/*
 * Give tenant @id a placeholder domain when its domain is not @domain, so
 * that tenants in one transaction can swap domains without tripping the
 * unique index halfway. The placeholder is no valid DNS name and never
 * matches a lookup; the caller puts the real domain before committing.
 */
int store_tenant_release_domain(struct store *st, const char *id, const char *domain);

/*
 * The tenant's calendar: a JSON object with its weekly business hours and
 * holidays, {"holidays": [...], "hours": {...}} (docs/PROVISIONING.md; "{}"
 * when it has none), read by the IVR engine's hours nodes (ivr/ivr.h
 * ivr_hours_load). Put returns 1 when it changed, 0 when equal, -ENOENT
 * when there is no such tenant. Get allocates *@jsonp with mem_alloc(); the
 * caller frees it with mem_free().
 */
int store_tenant_calendar_put(struct store *st, const char *tenant_id, const char *json);
int store_tenant_calendar_get(struct store *st, const char *tenant_id, char **jsonp);

/*
 * The tenant's recording policy (docs/PROVISIONING.md) as JSON text:
 * "\"none\"" (also what tenants made before policies existed have),
 * "\"all\"", or {"queues": ["loans", ...]} (calls that reach one of those
 * queues). Not to be confused with store_recording_put(), the metadata of
 * one recorded file. Put returns 1 when it changed, 0 when equal, -ENOENT
 * when there is no such tenant, -EINVAL for text that is not JSON. Get
 * allocates *@jsonp with mem_alloc(); the caller frees it with mem_free().
 */
int store_tenant_recording_put(struct store *st, const char *tenant_id, const char *json);
int store_tenant_recording_get(struct store *st, const char *tenant_id, char **jsonp);

/*
 * The tenant's not-ready (pause) reasons as JSON text: an object from a
 * code ("2".."99", dialled after the not-ready feature code) to a reason
 * name, e.g. {"2": "break", "3": "training"}; "{}" when it has none. Code 1
 * is the platform's ("missed": an offer not answered). Put and get as the
 * recording policy.
 */
int store_tenant_pause_reasons_put(struct store *st, const char *tenant_id, const char *json);
int store_tenant_pause_reasons_get(struct store *st, const char *tenant_id, char **jsonp);

struct store_number {
	char number[STORE_NUMBER_SIZE]; /* unique platform-wide */
	char tenant_id[STORE_ID_SIZE];
	char route[STORE_ROUTE_SIZE]; /* JSON: {"ivr"|"queue"|"user": "<id>"} */
};

/* Moves the number to @n->tenant_id if another tenant owned it. */
int store_number_put(struct store *st, const struct store_number *n);
int store_number_get(struct store *st, const char *number, struct store_number *out);
/* The numbers of @tenant_id, in number order. Returns how many were
 * visited, the handler's non-zero return, or -errno. */
typedef int(store_number_h)(const struct store_number *n, void *arg);
int store_number_list(struct store *st, const char *tenant_id, store_number_h *h, void *arg);

struct store_user {
	const char *tenant_id, *id;
	const char *name;   /* "" when none */
	const char *roles;  /* JSON array of role names */
	const char *skills; /* JSON object: skill -> level */
	/* HA1 digests as lowercase hex, both or neither (NULL: the user has no
	 * SIP credentials). @realm is the tenant's domain they were made with. */
	const char *realm, *ha1_md5, *ha1_sha256;
	/*
	 * The login password for the API as an argon2id PHC string
	 * (acct_password_hash), never the password. Put stores exactly this
	 * value, like the HA1s: NULL means "the user has no password" and
	 * clears a stored one; it does not mean "leave it unchanged" (callers
	 * that keep the stored hash pass it back: store_user_get). At most
	 * STORE_PW_HASH_SIZE - 1 bytes. Lists give NULL.
	 */
	const char *pw_hash;
};

/* -ENOENT when the tenant does not exist. 1 when the user, its password
 * hash or its credentials changed. */
int store_user_put(struct store *st, const struct store_user *u);

/*
 * One user as login and the API read it. Every field is a copy; "" stands
 * for NULL (no password, no SIP credentials).
 */
struct store_user_row {
	char tenant_id[STORE_ID_SIZE], id[STORE_ID_SIZE];
	char name[STORE_NAME_SIZE];
	char roles[STORE_ROLES_SIZE];	  /* JSON array of role names */
	char pw_hash[STORE_PW_HASH_SIZE]; /* argon2id PHC string, "" when none */
	/* The SHA-256 HA1 and the realm it was made for, "" when the user has
	 * no SIP credentials: provisioning compares them to tell whether the
	 * password changed without hashing it again. */
	char realm[STORE_DOMAIN_SIZE], ha1_sha256[STORE_HA1_SIZE];
	/* JSON object skill -> level, allocated with mem_alloc(): the caller
	 * frees it with mem_free() (it has no size limit). */
	char *skills;
};

/* User @user_id of @tenant_id into @out (written only on success: then the
 * caller owns out->skills). -ENOENT when there is no such user, -EMSGSIZE
 * when a stored value does not fit its field (nothing provisioning writes). */
int store_user_get(struct store *st, const char *tenant_id, const char *user_id,
		   struct store_user_row *out);
/*
 * Every user of @tenant_id in id order (realm and HA1s NULL: credentials
 * are not listed). The strings are the backend's, valid during the call
 * only. Returns how many were visited, the handler's non-zero return, or
 * -errno.
 */
typedef int(store_user_h)(const struct store_user *u, void *arg);
int store_user_list(struct store *st, const char *tenant_id, store_user_h *h, void *arg);

enum store_ha1_alg {
	STORE_HA1_MD5,	  /* RFC 2617/7616: MD5(user ":" realm ":" password) */
	STORE_HA1_SHA256, /* RFC 7616/8760: SHA-256 of the same */
};

/* "MD5" or "SHA-256", the names of the Digest algorithm parameter. */
const char *store_ha1_alg_name(enum store_ha1_alg alg);
/*
 * HA1 = H(user ":" realm ":" password) as lowercase hex into @out (32 digits
 * for MD5, 64 for SHA-256) with OpenSSL's EVP. The password is only hashed,
 * never kept. -EIO when OpenSSL fails.
 */
int store_ha1(enum store_ha1_alg alg, const char *user, const char *realm, const char *password,
	      char out[STORE_HA1_SIZE]);
/*
 * The stored HA1 of @user in the tenant whose SIP domain is @tenant_domain:
 * what the registrar compares a Digest response against. -ENOENT when the
 * domain, the user or its credentials do not exist, or when they were made
 * for another realm (the tenant's domain changed and they were not
 * re-provisioned).
 */
int store_user_get_ha1(struct store *st, const char *tenant_domain, const char *user,
		       enum store_ha1_alg alg, char out[STORE_HA1_SIZE]);

struct store_queue {
	const char *tenant_id, *id;
	const char *strategy; /* a name from docs/PROVISIONING.md */
	const char *skills;   /* JSON object: skill -> minimum level */
	const char *overflow; /* JSON route, or NULL for none */
	/* JSON array of {"user": id, "penalty": n}, or NULL: the members are
	 * the tenant's agents that have the queue's skills. */
	const char *members;
	uint32_t priority, wrapup_s, ring_timeout_s, max_wait_s, max_len;
	uint32_t sl_seconds, sl_percent; /* service level: sl_percent% within sl_seconds */
	uint32_t announce_s;		 /* position announcements every ...; 0: none */
	uint32_t tier_wait_s;		 /* bullseye: a tier joins every ... */
	bool join_empty;		 /* callers may wait when no member is logged in */
};

int store_queue_put(struct store *st, const struct store_queue *q);
/* Every queue of @tenant_id in id order; as store_user_list(). */
typedef int(store_queue_h)(const struct store_queue *q, void *arg);
int store_queue_list(struct store *st, const char *tenant_id, store_queue_h *h, void *arg);

/* @json: the IVR flow (or menu) as validated JSON text. */
int store_ivr_put(struct store *st, const char *tenant_id, const char *id, const char *json);
/* The definition into *@jsonp, allocated with mem_alloc(): the caller frees
 * it with mem_free(). */
int store_ivr_get(struct store *st, const char *tenant_id, const char *id, char **jsonp);

/*
 * A trunk: a carrier or PBX that may send calls to the tenant's numbers,
 * known by its source addresses. @sources is a JSON array of address blocks
 * in canonical text ("192.0.2.10/32", "2001:db8::/32": base/cidr.h
 * cidr_format), as provisioning writes them.
 */
struct store_trunk {
	const char *tenant_id, *id;
	const char *sources;
};

/* -ENOENT when the tenant does not exist. 1 when inserted or changed. */
int store_trunk_put(struct store *st, const struct store_trunk *t);

/*
 * Called for each source block of each trunk of a tenant, in (trunk id,
 * list) order; the strings are the backend's, valid during the call only. A
 * non-zero return stops the walk and is returned by store_trunk_sources().
 */
typedef int(store_trunk_source_h)(const char *trunk_id, const char *cidr, void *arg);
int store_trunk_sources(struct store *st, const char *tenant_id, store_trunk_source_h *h,
			void *arg);

enum store_trunk_verdict {
	STORE_TRUNK_DENIED,  /* the tenant has trunks and none lists @src */
	STORE_TRUNK_ALLOWED, /* a trunk lists @src; its id is in @trunk_id */
	STORE_TRUNK_NONE,    /* the tenant lists no trunk: the caller's policy decides */
};

/*
 * May a call from @src (AF_INET or AF_INET6; an IPv4-mapped IPv6 address
 * counts as its IPv4 address) enter tenant @tenant_id's numbers? Returns an
 * enum store_trunk_verdict (>= 0) or -errno; @trunk_id (may be NULL) gets
 * the id of the first trunk that allows it. A stored block that does not
 * parse is skipped with a warning (provisioning never writes one). One
 * query per call: call control keeps its own copy (store_trunk_sources) if
 * it needs the answer on every INVITE.
 */
int store_trunk_allowed(struct store *st, const char *tenant_id, const struct sockaddr *src,
			char trunk_id[STORE_ID_SIZE]);

enum store_kind {
	STORE_KIND_USER,
	STORE_KIND_QUEUE,
	STORE_KIND_IVR,
	STORE_KIND_NUMBER,
	STORE_KIND_TRUNK,
};

/*
 * Delete every @kind row of tenant @tenant_id whose id (or number) is not
 * one of the @n in @keep. Deleting a user deletes its credentials and
 * bindings. Returns the number of rows deleted.
 */
int store_prune(struct store *st, enum store_kind kind, const char *tenant_id,
		const char *const *keep, size_t n);

/* One registrar binding (RFC 3261 §10.3): a contact of an address of record. */
struct store_binding {
	const char *tenant_id;
	const char *aor;      /* the user part; the user must exist */
	const char *contact;  /* Contact URI */
	int64_t expires_at;   /* Unix seconds */
	const char *call_id;  /* of the REGISTER that made or refreshed it */
	uint32_t cseq;	      /* likewise */
	const char *path;     /* RFC 3327 Path, "" when none */
	const char *received; /* source "ip:port" the REGISTER came from */
	const char *instance; /* RFC 5626 +sip.instance, "" when none */
};

/* Insert or refresh the binding of (tenant, aor, contact). */
int store_binding_put(struct store *st, const struct store_binding *b);
/* -ENOENT when there was none. */
int store_binding_del(struct store *st, const char *tenant_id, const char *aor,
		      const char *contact);
/* Delete bindings that expired at or before @now; returns how many. */
int store_binding_expire(struct store *st, int64_t now);

/*
 * Called once per binding. The strings in @b are the backend's and valid
 * only during the call: copy what you keep. A non-zero return stops the
 * walk and is returned by store_binding_list().
 */
typedef int(store_binding_h)(const struct store_binding *b, void *arg);
/* Every binding of every tenant, in (tenant, aor, contact) order: what a
 * restarting registrar loads. */
int store_binding_list(struct store *st, store_binding_h *h, void *arg);

/* ---- Calls ---- */

/*
 * A call detail record (issue M3): one per call that entered a tenant,
 * written once when the call ends (a second put of the same uuid changes
 * nothing). Times are wall-clock ms since the Unix epoch, 0 for "never".
 */
struct store_cdr {
	const char *uuid, *tenant_id;
	const char *caller, *callee; /* From user; the number or user dialled */
	const char *route;	     /* "ivr:main", "user:1002", "queue:loans" */
	const char *ivr_path;	     /* the IVR's path and digits, "" when none */
	const char *agent;	     /* the user whose phone answered, "" when none */
	int64_t start_ms, answer_ms, bridge_ms, end_ms;
	const char *hangup_side; /* "caller", "callee", "system" */
	unsigned status;	 /* 200 when answered, else the final status sent */
	const char *cause;	 /* "normal", "cancel", "no-answer", "rtp-timeout"... */
	const char *recording;	 /* the recording's path, "" when none */
	/* The agent's wrap-up (store_cdr_wrapup()): list only, "" until set. */
	const char *disposition, *notes;
};

typedef int(store_cdr_h)(const struct store_cdr *c, void *arg);

int store_cdr_put(struct store *st, const struct store_cdr *c);
/*
 * The wrap-up of call @uuid of @tenant_id: the agent's disposition and
 * notes, replacing earlier ones. With @agent (not NULL), only a call that
 * agent answered. 0, or -ENOENT (no such call, or not that agent's: the
 * CDR may not be written yet, a few ms after the call ended).
 */
int store_cdr_wrapup(struct store *st, const char *tenant_id, const char *uuid, const char *agent,
		     const char *disposition, const char *notes);
/*
 * The records of @tenant_id that started in [@from_ms, @to_ms), oldest
 * first. Returns how many were visited, or the handler's non-zero return,
 * or -errno. The strings are valid during the call only.
 */
int store_cdr_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		   store_cdr_h *h, void *arg);

/*
 * A recording's metadata, keyed by its path (relative to the data folder):
 * put again (e.g. after a repair at start-up) updates duration, size and
 * checksum. Get fills @out's buffers; -ENOENT when there is none.
 */
struct store_recording {
	const char *path, *tenant_id, *call_uuid;
	int64_t duration_ms, bytes, created_ms;
	const char *sha256; /* hex */
	/* get: where the strings are copied */
	char tenant_buf[STORE_ID_SIZE], uuid_buf[40], sha256_buf[65];
};

int store_recording_put(struct store *st, const struct store_recording *r);
int store_recording_get(struct store *st, const char *path, struct store_recording *out);
/*
 * Recordings of @tenant_id created in [@from_ms, @to_ms), oldest first, or
 * (@call_uuid not NULL) those of one call whenever made. The strings are
 * valid during the call only. Returns how many were visited, the handler's
 * non-zero return, or -errno.
 */
typedef int(store_recording_h)(const struct store_recording *r, void *arg);
int store_recording_list(struct store *st, const char *tenant_id, const char *call_uuid,
			 int64_t from_ms, int64_t to_ms, store_recording_h *h, void *arg);

/* ---- Seat requests (the platform operator's approvals) ---- */

/*
 * A tenant admin asks for a new seat quota (@seats in all, not on top);
 * the platform operator approves it (the tenant's seats become @seats, in
 * the same transaction) or refuses it. Kept as history.
 */
struct store_seat_request {
	int64_t id; /* add: ignored (assigned) */
	const char *tenant_id;
	uint32_t seats;
	const char *reason;		/* "" when none */
	const char *status;		/* "pending", "approved", "refused"; add: ignored */
	const char *requested_by;	/* who asked: "acme/admin" */
	const char *decided_by;		/* "" until decided; add: ignored */
	int64_t created_ms, decided_ms; /* wall clock ms; decided_ms 0 until decided */
};

/* Add a pending request; its id into *@idp (may be NULL). -ENOENT when the
 * tenant does not exist. */
int store_seat_request_add(struct store *st, const struct store_seat_request *r, int64_t *idp);
/* Requests of @tenant_id (NULL: every tenant's), newest first, at most
 * @limit. Returns how many were visited, the handler's non-zero return, or
 * -errno. */
typedef int(store_seat_request_h)(const struct store_seat_request *r, void *arg);
int store_seat_request_list(struct store *st, const char *tenant_id, unsigned limit,
			    store_seat_request_h *h, void *arg);
/*
 * Decide pending request @id: @approve sets the tenant's seats to the
 * request's. One transaction (not inside store_begin(): -EALREADY). 0;
 * -ENOENT no such request, -EPERM decided already.
 */
int store_seat_request_decide(struct store *st, int64_t id, bool approve, const char *by,
			      int64_t now_ms);

/* ---- ACD ---- */

/*
 * The queue_log of a tenant (docs/ACD.md): lines in Asterisk's format,
 * appended in order, never changed. @time_s is the line's epoch (its first
 * field), kept apart for range queries. Many appends in one
 * store_begin()/store_commit() cost one sync.
 */
int store_qlog_append(struct store *st, const char *tenant_id, int64_t time_s, const char *line);
/*
 * The lines of @tenant_id with @from_s <= time < @to_s, in the order they
 * were appended. @line is valid during the call only. Returns how many were
 * visited, the handler's non-zero return, or -errno.
 */
typedef int(store_qlog_h)(int64_t time_s, const char *line, void *arg);
int store_qlog_list(struct store *st, const char *tenant_id, int64_t from_s, int64_t to_s,
		    store_qlog_h *h, void *arg);

/*
 * An agent's presence: logged in (ready, or not ready with a reason code)
 * since @since_ms; logged-out agents have no row. What an ACD restores
 * after a restart.
 */
struct store_presence {
	const char *tenant_id, *user_id;
	bool ready;
	uint32_t reason; /* not ready: the code; 0 when ready */
	int64_t since_ms;
};

int store_presence_put(struct store *st, const struct store_presence *p);
/* 0, or -ENOENT when the agent was logged out already. */
int store_presence_del(struct store *st, const char *tenant_id, const char *user_id);
typedef int(store_presence_h)(const struct store_presence *p, void *arg);
int store_presence_list(struct store *st, const char *tenant_id, store_presence_h *h, void *arg);

/* ---- Accounts (the platform API) ---- */

/*
 * A platform operator: an account of the platform itself (role "operator"),
 * outside every tenant, provisioned by the "operators" array of a
 * provisioning document. @pw_hash as a user's ("" when none: stored NULL).
 */
struct store_operator {
	char id[STORE_ID_SIZE];
	char name[STORE_NAME_SIZE];
	char pw_hash[STORE_PW_HASH_SIZE];
};

/* 1 when inserted or changed, 0 when equal. */
int store_operator_put(struct store *st, const struct store_operator *op);
/* -ENOENT when there is none; @out is written only on success. */
int store_operator_get(struct store *st, const char *id, struct store_operator *out);
/* Delete every operator whose id is not one of the @n in @keep, and their
 * tokens. Returns the number of operators deleted. */
int store_operator_prune(struct store *st, const char *const *keep, size_t n);

/*
 * A bearer token of the API, stored by its hash only (acct_token_hash): the
 * token itself is shown once to whoever logged in and never kept. Tokens
 * of a tenant's user go when the user is deleted. Times are wall-clock ms
 * since the Unix epoch.
 */
struct store_token {
	const char *hash;      /* SHA-256 of the token, 64 lowercase hex digits */
	const char *tenant_id; /* NULL for a platform operator's token */
	const char *user_id;   /* the user's id, or the operator's */
	const char *roles;     /* JSON array of the role names it grants */
	int64_t created_ms, expires_ms;
	bool revoked;
	/* get: where the strings are copied */
	char hash_buf[STORE_TOKEN_HASH_SIZE], tenant_buf[STORE_ID_SIZE], user_buf[STORE_ID_SIZE];
	char roles_buf[STORE_ROLES_SIZE];
};

/* Insert a new token (@t->revoked is ignored: new tokens are valid). 0;
 * -EEXIST when the hash is taken, -ENOENT when the user (or the operator)
 * does not exist, -EINVAL for a hash that is not 64 lowercase hex digits. */
int store_token_put(struct store *st, const struct store_token *t);
/*
 * The token with @hash into @out, whatever its state: the caller checks
 * out->revoked and out->expires_ms. -ENOENT when there is none (pruned, or
 * never issued); @out is written only on success.
 */
int store_token_get(struct store *st, const char *hash, struct store_token *out);
/* Revoke one token: 0 (also when it was revoked already), -ENOENT. */
int store_token_revoke(struct store *st, const char *hash);
/* Revoke every token of a user (@tenant_id NULL: of an operator); returns
 * how many were valid until now. */
int store_token_revoke_user(struct store *st, const char *tenant_id, const char *user_id);
/* Delete tokens that are revoked or expired at or before @now_ms; returns
 * how many. */
int store_token_prune(struct store *st, int64_t now_ms);

/*
 * The audit log: who changed what through the API, appended, never
 * changed (history: it outlives the tenants and users it names).
 */
struct store_audit {
	int64_t id;	       /* list: ascending in insertion order; put: ignored */
	int64_t time_ms;       /* wall-clock ms since the Unix epoch */
	const char *tenant_id; /* NULL for the platform's own entries */
	const char *actor;     /* who: "acme/admin", "operator/ops" */
	const char *action;    /* what: "queue.update", "login"... */
	const char *object;    /* on what: "queue/loans", "" when none */
	const char *detail;    /* JSON text ("{}" when none) */
};

/* 0; -EINVAL when @detail is not JSON. Many puts in one
 * store_begin()/store_commit() cost one sync. */
int store_audit_put(struct store *st, const struct store_audit *a);
/*
 * The entries of @tenant_id (NULL: of every tenant and the platform) with
 * @from_ms <= time < @to_ms and id > @after_id, oldest (lowest id) first,
 * at most @limit (>= 1) of them: the next page starts after the last id
 * seen. The strings are valid during the call only. Returns how many were
 * visited, the handler's non-zero return, or -errno.
 */
typedef int(store_audit_h)(const struct store_audit *a, void *arg);
int store_audit_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		     int64_t after_id, unsigned limit, store_audit_h *h, void *arg);

/* ---- Webhooks (docs/API.md "Webhooks") ---- */

#define STORE_URL_SIZE	  2049 /* a webhook's URL */
#define STORE_SECRET_SIZE 257  /* a webhook's signing secret */

/*
 * A webhook of a tenant: events of the types in @events (a JSON array of
 * type names, or ["*"]) are POSTed to @url, signed with @secret. The secret
 * is stored as given: it is a key the platform signs with, not a password
 * it checks, so it cannot be hashed.
 */
struct store_webhook {
	const char *tenant_id, *id;
	const char *url, *secret;
	const char *events;
};

/* 1 when inserted or changed, 0 when equal; -ENOENT when the tenant does
 * not exist, -EINVAL when @events is not JSON. */
int store_webhook_put(struct store *st, const struct store_webhook *w);
/* Every webhook of @tenant_id in id order; the strings are the backend's,
 * valid during the call only. Returns how many were visited, the
 * handler's non-zero return, or -errno. */
typedef int(store_webhook_h)(const struct store_webhook *w, void *arg);
int store_webhook_list(struct store *st, const char *tenant_id, store_webhook_h *h, void *arg);
/* Delete every webhook of @tenant_id whose id is not one of the @n in
 * @keep (its deliveries stay in the outbox: see store_outbox_due). Returns
 * how many were deleted. */
int store_webhook_prune(struct store *st, const char *tenant_id, const char *const *keep, size_t n);

/*
 * The webhook outbox: one row per (event, webhook) to deliver, written in
 * the same transaction that acknowledges the event, so a delivery survives
 * kill -9 until store_outbox_done() deletes it. A delivery that exhausted
 * its attempts stays, with status "failed", for inspection. Times are
 * wall-clock ms since the Unix epoch.
 */
struct store_outbox {
	int64_t id; /* unique, ascending, never reused: the delivery's id */
	const char *tenant_id, *webhook_id;
	const char *event_id; /* the event's own id (its "id" in @body) */
	const char *type;     /* "agent.state", "task.answered"... */
	const char *body;     /* the event as JSON text: what is POSTed */
	int64_t created_ms;
	int64_t next_ms;	/* when the next attempt is due */
	uint32_t attempts;	/* made so far */
	const char *status;	/* list and due: "pending" or "failed"; put: ignored */
	const char *last_error; /* list and due: the last attempt's outcome, "" none */
	/* due and list: the webhook's URL and secret now, NULL when the
	 * tenant no longer has that webhook */
	const char *url, *secret;
};

/* Queue a delivery (status "pending", no attempt yet): 0 and its id in
 * *@idp (may be NULL); -EINVAL when @body is not JSON. */
int store_outbox_put(struct store *st, const struct store_outbox *o, int64_t *idp);
/*
 * Pending deliveries with next_ms <= @now_ms, oldest (lowest id) first, at
 * most @limit (>= 1). The strings are valid during the call only. Returns
 * how many were visited, the handler's non-zero return, or -errno.
 */
typedef int(store_outbox_h)(const struct store_outbox *o, void *arg);
int store_outbox_due(struct store *st, int64_t now_ms, unsigned limit, store_outbox_h *h,
		     void *arg);
/* Delivered: delete it. 0, or -ENOENT when there is no such delivery. */
int store_outbox_done(struct store *st, int64_t id);
/* An attempt failed: record @attempts made so far and the outcome
 * (@last_error), and try again at @next_ms. 0 or -ENOENT. */
int store_outbox_retry(struct store *st, int64_t id, uint32_t attempts, int64_t next_ms,
		       const char *last_error);
/* Give up: status "failed", kept for inspection, never due again. 0 or -ENOENT. */
int store_outbox_fail(struct store *st, int64_t id, uint32_t attempts, const char *last_error);
/* Every delivery of @tenant_id (pending and failed) with id > @after_id,
 * oldest first, at most @limit (>= 1): as store_outbox_due(). */
int store_outbox_list(struct store *st, const char *tenant_id, int64_t after_id, unsigned limit,
		      store_outbox_h *h, void *arg);

#endif
