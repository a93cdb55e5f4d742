/*
 * store_pg: the scale-out storage backend, a PostgreSQL database that
 * several `shenggu serve` nodes share, through libpq. Same contract as the
 * SQLite backend, operation for operation: the same rows, the same "1 when
 * written, 0 when equal", the same errno for the same refusal, lists in the
 * same order (key columns are COLLATE "C": byte order, as SQLite's BINARY).
 *
 * JSON values (routes, roles, skills, flows, calendars...) are TEXT checked
 * by a cast to json: callers get back the bytes they stored, as with
 * SQLite (jsonb would normalise spacing and key order).
 *
 * Transactions: store_begin() is BEGIN plus a transaction-scoped advisory
 * lock, the write lock SQLite's BEGIN IMMEDIATE takes, so read-check-write
 * sequences of two nodes cannot interleave. A failing statement in
 * PostgreSQL aborts the whole transaction, where SQLite undoes only that
 * statement and callers (the journal's writer) go on; so inside a
 * transaction every write runs under a savepoint. Outside one, a statement
 * is its own transaction, and a write of several statements (a user and
 * its credentials) gets one of its own.
 *
 * The schema is a list of migrations numbered as SQLite's (the version is
 * one number for both backends); each runs in its own transaction under a
 * second advisory lock, so nodes starting together migrate once. Both locks
 * are per schema (a hash of current_schema()), so platforms that share a
 * database in separate schemas do not wait for each other.
 *
 * Every value travels as a parameter of a statement prepared once per
 * connection; SQL is never built from values. A connection that broke is
 * re-opened by the next call made outside a transaction.
 *
 * Not here: the nonblocking libpq API (the store is called from a database
 * thread, store.h), connection pooling, replicas.
 */
#define LOG_MODULE "store"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/log.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "store/store_internal.h"

/* As SQLite's busy timeout: a lock held longer than this is -EBUSY. */
#define LOCK_TIMEOUT	  "5s"
/* Unless the URL says otherwise: an unreachable host fails in bounded time. */
#define CONNECT_TIMEOUT_S "10"

/* Advisory lock classes ("SG" + 1, 2); the second key is the schema's hash. */
#define LOCK_WRITE_SQL \
	"SELECT pg_advisory_xact_lock(1397161985, hashtext(coalesce(current_schema(), '')))"
#define LOCK_MIGRATE_SQL \
	"SELECT pg_advisory_xact_lock(1397161986, hashtext(coalesce(current_schema(), '')))"

/* Key columns compare and sort bytewise, as in SQLite. JSON columns are
 * TEXT kept as given, with CHECK (col::json IS NOT NULL): the cast refuses
 * what is not JSON (SQLSTATE 22P02, -EINVAL). */
#define KEY "TEXT COLLATE \"C\""

/* Append-only, numbered as store_sqlite.c's list: a released version is
 * never edited, a change is a new entry in both files. */
static const struct {
	int version;
	const char *sql;
} migrations[] = {
    {1, "CREATE TABLE tenants ("
	"  id " KEY " PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  domain " KEY " NOT NULL UNIQUE,"
	"  seats BIGINT NOT NULL CHECK (seats >= 0),"
	"  district TEXT NOT NULL,"
	"  park TEXT NOT NULL);"
	"CREATE TABLE numbers ("
	"  number " KEY " PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  route TEXT NOT NULL CHECK (route::json IS NOT NULL));"
	"CREATE INDEX numbers_tenant ON numbers(tenant_id);"
	"CREATE TABLE users ("
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id " KEY " NOT NULL,"
	"  name TEXT NOT NULL,"
	"  roles TEXT NOT NULL CHECK (roles::json IS NOT NULL),"
	"  skills TEXT NOT NULL CHECK (skills::json IS NOT NULL),"
	"  PRIMARY KEY (tenant_id, id));"
	/* HA1 only (RFC 7616 §3.4.2): the password itself is never stored. */
	"CREATE TABLE credentials ("
	"  tenant_id " KEY " NOT NULL,"
	"  user_id " KEY " NOT NULL,"
	"  alg TEXT NOT NULL CHECK (alg IN ('MD5', 'SHA-256')),"
	"  realm TEXT NOT NULL,"
	"  ha1 TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id, alg),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE TABLE queues ("
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id " KEY " NOT NULL,"
	"  strategy TEXT NOT NULL,"
	"  skills TEXT NOT NULL CHECK (skills::json IS NOT NULL),"
	"  overflow TEXT CHECK (overflow IS NULL OR overflow::json IS NOT NULL),"
	"  priority BIGINT NOT NULL,"
	"  wrapup_s BIGINT NOT NULL,"
	"  ring_timeout_s BIGINT NOT NULL,"
	"  max_wait_s BIGINT NOT NULL,"
	"  max_len BIGINT NOT NULL,"
	"  sl_seconds BIGINT NOT NULL,"
	"  sl_percent BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, id));"
	"CREATE TABLE ivr ("
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id " KEY " NOT NULL,"
	"  definition TEXT NOT NULL CHECK (definition::json IS NOT NULL),"
	"  PRIMARY KEY (tenant_id, id));"},
    {2, "CREATE TABLE bindings ("
	"  tenant_id " KEY " NOT NULL,"
	"  aor " KEY " NOT NULL,"
	"  contact " KEY " NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  call_id TEXT NOT NULL,"
	"  cseq BIGINT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  received TEXT NOT NULL,"
	"  instance TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, aor, contact),"
	"  FOREIGN KEY (tenant_id, aor) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE INDEX bindings_expires ON bindings(expires_at);"},
    {3, "ALTER TABLE tenants ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';"
	"ALTER TABLE tenants ADD COLUMN calendar TEXT NOT NULL DEFAULT '{}'"
	"  CHECK (calendar::json IS NOT NULL);"
	"CREATE TABLE trunks ("
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id " KEY " NOT NULL,"
	"  sources TEXT NOT NULL CHECK (sources::json IS NOT NULL),"
	"  PRIMARY KEY (tenant_id, id));"},
    /* History: no foreign key (a removed tenant's calls stay on record). */
    {4, "CREATE TABLE cdrs ("
	"  uuid " KEY " PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL,"
	"  caller TEXT NOT NULL, callee TEXT NOT NULL, route TEXT NOT NULL,"
	"  ivr_path TEXT NOT NULL, agent TEXT NOT NULL,"
	"  start_ms BIGINT NOT NULL, answer_ms BIGINT NOT NULL,"
	"  bridge_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,"
	"  hangup_side TEXT NOT NULL, status BIGINT NOT NULL, cause TEXT NOT NULL,"
	"  recording TEXT NOT NULL);"
	"CREATE INDEX cdrs_tenant_start ON cdrs(tenant_id, start_ms);"
	"CREATE TABLE recordings ("
	"  path " KEY " PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL, call_uuid TEXT NOT NULL,"
	"  duration_ms BIGINT NOT NULL, bytes BIGINT NOT NULL, sha256 TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL);"
	"CREATE INDEX recordings_tenant ON recordings(tenant_id, created_ms);"},
    {5, "ALTER TABLE tenants ADD COLUMN recording TEXT NOT NULL DEFAULT '\"none\"'"
	"  CHECK (recording::json IS NOT NULL);"},
    {6, "ALTER TABLE queues ADD COLUMN members TEXT"
	"  CHECK (members IS NULL OR members::json IS NOT NULL);"
	"ALTER TABLE queues ADD COLUMN announce_s BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE queues ADD COLUMN tier_wait_s BIGINT NOT NULL DEFAULT 30;"
	"ALTER TABLE queues ADD COLUMN join_empty BOOLEAN NOT NULL DEFAULT true;"
	"ALTER TABLE tenants ADD COLUMN pause_reasons TEXT NOT NULL DEFAULT '{}'"
	"  CHECK (pause_reasons::json IS NOT NULL);"
	"CREATE TABLE queue_log ("
	"  seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL,"
	"  time BIGINT NOT NULL,"
	"  line TEXT NOT NULL);"
	"CREATE INDEX queue_log_tenant ON queue_log(tenant_id, time);"
	"CREATE TABLE presence ("
	"  tenant_id " KEY " NOT NULL,"
	"  user_id " KEY " NOT NULL,"
	"  ready BOOLEAN NOT NULL,"
	"  reason BIGINT NOT NULL,"
	"  since_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"},
    /* Accounts for the platform API (store_sqlite.c says why each). A
     * foreign key with a NULL column is not checked, as in SQLite: an
     * operator's token (tenant_id NULL) needs no user. */
    {7, "ALTER TABLE users ADD COLUMN pw_hash TEXT;"
	"CREATE TABLE operators ("
	"  id " KEY " PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  pw_hash TEXT);"
	"CREATE TABLE tokens ("
	"  hash " KEY " PRIMARY KEY,"
	"  tenant_id " KEY ","
	"  user_id " KEY " NOT NULL,"
	"  roles TEXT NOT NULL CHECK (roles::json IS NOT NULL),"
	"  created_ms BIGINT NOT NULL,"
	"  expires_ms BIGINT NOT NULL,"
	"  revoked BOOLEAN NOT NULL DEFAULT false,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE INDEX tokens_user ON tokens(tenant_id, user_id);"
	"CREATE INDEX tokens_expires ON tokens(expires_ms);"
	"CREATE TABLE audit ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  time_ms BIGINT NOT NULL,"
	"  tenant_id " KEY ","
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  detail TEXT NOT NULL CHECK (detail::json IS NOT NULL));"
	"CREATE INDEX audit_tenant ON audit(tenant_id, id);"},
    /* Webhooks and their outbox (store_sqlite.c says why each). An
     * identity never hands out an id twice, as AUTOINCREMENT. */
    {8, "CREATE TABLE webhooks ("
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id " KEY " NOT NULL,"
	"  url TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  events TEXT NOT NULL CHECK (events::json IS NOT NULL),"
	"  PRIMARY KEY (tenant_id, id));"
	"CREATE TABLE webhook_outbox ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL,"
	"  webhook_id " KEY " NOT NULL,"
	"  event_id TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  body TEXT NOT NULL CHECK (body::json IS NOT NULL),"
	"  created_ms BIGINT NOT NULL,"
	"  next_ms BIGINT NOT NULL,"
	"  attempts BIGINT NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),"
	"  last_error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_ms);"
	"CREATE INDEX webhook_outbox_tenant ON webhook_outbox(tenant_id, id);"},
    /* Seat requests and recordings by call (store_sqlite.c says why). */
    {9, "CREATE TABLE seat_requests ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  tenant_id " KEY " NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  seats BIGINT NOT NULL CHECK (seats >= 0),"
	"  reason TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (status IN ('pending', 'approved', 'refused')),"
	"  requested_by TEXT NOT NULL,"
	"  decided_by TEXT NOT NULL DEFAULT '',"
	"  created_ms BIGINT NOT NULL,"
	"  decided_ms BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX seat_requests_tenant ON seat_requests(tenant_id, id);"
	"CREATE INDEX recordings_call ON recordings(tenant_id, call_uuid);"},
    /* The agent's wrap-up on the CDR. */
    {10, "ALTER TABLE cdrs ADD COLUMN disposition TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE cdrs ADD COLUMN notes TEXT NOT NULL DEFAULT '';"},
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
#define NV(v)	    ((int)(sizeof(v) / sizeof((v)[0])))

enum stmt_id {
	S_VERSION,
	S_VERSION_PUT,
	S_TENANT_PUT,
	S_TENANT_GET_ID,
	S_TENANT_GET_DOMAIN,
	S_TENANT_RELEASE,
	S_CALENDAR_PUT,
	S_CALENDAR_GET,
	S_RECPOL_PUT,
	S_RECPOL_GET,
	S_PAUSE_PUT,
	S_PAUSE_GET,
	S_QUEUE_LIST,
	S_USER_LIST,
	S_QLOG_PUT,
	S_QLOG_LIST,
	S_PRES_PUT,
	S_PRES_DEL,
	S_PRES_LIST,
	S_TRUNK_PUT,
	S_TRUNK_SOURCES,
	S_NUMBER_PUT,
	S_NUMBER_GET,
	S_USER_PUT,
	S_CRED_PUT,
	S_CRED_DEL,
	S_HA1_GET,
	S_QUEUE_PUT,
	S_IVR_PUT,
	S_IVR_GET,
	S_PRUNE_USER,
	S_PRUNE_QUEUE,
	S_PRUNE_IVR,
	S_PRUNE_NUMBER,
	S_PRUNE_TRUNK,
	S_BIND_PUT,
	S_BIND_DEL,
	S_BIND_EXPIRE,
	S_BIND_LIST,
	S_CDR_PUT,
	S_CDR_LIST,
	S_REC_PUT,
	S_REC_GET,
	S_REC_LIST,
	S_NUMBER_LIST,
	S_CDR_WRAPUP,
	S_REC_LIST_CALL,
	S_SEAT_ADD,
	S_SEAT_LIST,
	S_SEAT_LIST_ALL,
	S_SEAT_GET,
	S_SEAT_SET,
	S_TENANT_LIST,
	S_USER_GET,
	S_OP_PUT,
	S_OP_GET,
	S_PRUNE_OPERATOR,
	S_OP_TOKENS_DEL,
	S_TOKEN_PUT,
	S_TOKEN_GET,
	S_TOKEN_REVOKE,
	S_TOKEN_REVOKE_USER,
	S_TOKEN_PRUNE,
	S_AUDIT_PUT,
	S_AUDIT_LIST,
	S_AUDIT_LIST_ALL,
	S_HOOK_PUT,
	S_HOOK_LIST,
	S_PRUNE_HOOK,
	S_OUTBOX_PUT,
	S_OUTBOX_DUE,
	S_OUTBOX_DONE,
	S_OUTBOX_RETRY,
	S_OUTBOX_LIST,
	S_N,
};

/* "... WHERE x IS DISTINCT FROM excluded.x ...": an equal row is not
 * rewritten, so the row count tells whether anything changed. */
static const char *const sql[S_N] = {
    [S_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [S_VERSION_PUT] = "INSERT INTO schema_version (version) VALUES ($1)",
    [S_TENANT_PUT] = "INSERT INTO tenants AS t (id, name, domain, seats, district, park, timezone)"
		     " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET"
		     " name = excluded.name, domain = excluded.domain, seats = excluded.seats,"
		     " district = excluded.district, park = excluded.park,"
		     " timezone = excluded.timezone"
		     " WHERE t.name IS DISTINCT FROM excluded.name"
		     " OR t.domain IS DISTINCT FROM excluded.domain"
		     " OR t.seats IS DISTINCT FROM excluded.seats"
		     " OR t.district IS DISTINCT FROM excluded.district"
		     " OR t.park IS DISTINCT FROM excluded.park"
		     " OR t.timezone IS DISTINCT FROM excluded.timezone",
    [S_TENANT_GET_ID] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
			" WHERE id = $1",
    [S_TENANT_GET_DOMAIN] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
			    " WHERE domain = $1",
    /* '#' is in no DNS name, and ids are unique, so the placeholder is too. */
    [S_TENANT_RELEASE] = "UPDATE tenants SET domain = '#' || id WHERE id = $1 AND domain <> $2",
    [S_CALENDAR_PUT] = "UPDATE tenants SET calendar = $2 WHERE id = $1"
		       " AND calendar IS DISTINCT FROM $2",
    [S_CALENDAR_GET] = "SELECT calendar FROM tenants WHERE id = $1",
    [S_RECPOL_PUT] = "UPDATE tenants SET recording = $2 WHERE id = $1"
		     " AND recording IS DISTINCT FROM $2",
    [S_RECPOL_GET] = "SELECT recording FROM tenants WHERE id = $1",
    [S_PAUSE_PUT] = "UPDATE tenants SET pause_reasons = $2 WHERE id = $1"
		    " AND pause_reasons IS DISTINCT FROM $2",
    [S_PAUSE_GET] = "SELECT pause_reasons FROM tenants WHERE id = $1",
    [S_QUEUE_LIST] = "SELECT id, strategy, skills, overflow, members, priority, wrapup_s,"
		     " ring_timeout_s, max_wait_s, max_len, sl_seconds, sl_percent, announce_s,"
		     " tier_wait_s, join_empty FROM queues WHERE tenant_id = $1 ORDER BY id",
    [S_USER_LIST] = "SELECT id, name, roles, skills FROM users WHERE tenant_id = $1 ORDER BY id",
    [S_QLOG_PUT] = "INSERT INTO queue_log (tenant_id, time, line) VALUES ($1, $2, $3)",
    [S_QLOG_LIST] = "SELECT time, line FROM queue_log WHERE tenant_id = $1 AND time >= $2"
		    " AND time < $3 ORDER BY seq",
    [S_PRES_PUT] =
	"INSERT INTO presence (tenant_id, user_id, ready, reason, since_ms)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id) DO UPDATE SET"
	" ready = excluded.ready, reason = excluded.reason, since_ms = excluded.since_ms",
    [S_PRES_DEL] = "DELETE FROM presence WHERE tenant_id = $1 AND user_id = $2",
    [S_PRES_LIST] = "SELECT user_id, ready, reason, since_ms FROM presence WHERE tenant_id = $1"
		    " ORDER BY user_id",
    [S_TRUNK_PUT] = "INSERT INTO trunks AS t (tenant_id, id, sources) VALUES ($1, $2, $3)"
		    " ON CONFLICT (tenant_id, id) DO UPDATE SET sources = excluded.sources"
		    " WHERE t.sources IS DISTINCT FROM excluded.sources",
    /* The string elements of each trunk's array, in (trunk, list) order, as
     * SQLite's json_each(...) WHERE type = 'text'. */
    [S_TRUNK_SOURCES] = "SELECT t.id, e.v #>> '{}' FROM trunks t,"
			" json_array_elements(CASE json_typeof(t.sources::json)"
			" WHEN 'array' THEN t.sources::json ELSE '[]' END)"
			" WITH ORDINALITY AS e(v, i)"
			" WHERE t.tenant_id = $1 AND json_typeof(e.v) = 'string'"
			" ORDER BY t.id, e.i",
    [S_NUMBER_PUT] = "INSERT INTO numbers AS n (number, tenant_id, route) VALUES ($1, $2, $3)"
		     " ON CONFLICT (number) DO UPDATE SET"
		     " tenant_id = excluded.tenant_id, route = excluded.route"
		     " WHERE n.tenant_id IS DISTINCT FROM excluded.tenant_id"
		     " OR n.route IS DISTINCT FROM excluded.route",
    [S_NUMBER_GET] = "SELECT number, tenant_id, route FROM numbers WHERE number = $1",
    [S_CDR_WRAPUP] = "UPDATE cdrs SET disposition = $4, notes = $5"
		     " WHERE tenant_id = $1 AND uuid = $2 AND ($3::text IS NULL OR agent = $3)",
    [S_NUMBER_LIST] = "SELECT number, tenant_id, route FROM numbers WHERE tenant_id = $1"
		      " ORDER BY number",
    [S_USER_PUT] = "INSERT INTO users AS u (tenant_id, id, name, roles, skills, pw_hash)"
		   " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, id) DO UPDATE SET"
		   " name = excluded.name, roles = excluded.roles, skills = excluded.skills,"
		   " pw_hash = excluded.pw_hash"
		   " WHERE (u.name, u.roles, u.skills, u.pw_hash) IS DISTINCT FROM"
		   " (excluded.name, excluded.roles, excluded.skills, excluded.pw_hash)",
    [S_CRED_PUT] = "INSERT INTO credentials AS c (tenant_id, user_id, alg, realm, ha1)"
		   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id, alg)"
		   " DO UPDATE SET realm = excluded.realm, ha1 = excluded.ha1"
		   " WHERE c.realm IS DISTINCT FROM excluded.realm"
		   " OR c.ha1 IS DISTINCT FROM excluded.ha1",
    [S_CRED_DEL] = "DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2",
    [S_HA1_GET] = "SELECT c.ha1 FROM credentials c JOIN tenants t ON t.id = c.tenant_id"
		  " WHERE t.domain = $1 AND c.user_id = $2 AND c.alg = $3"
		  " AND c.realm = t.domain",
    [S_QUEUE_PUT] =
	"INSERT INTO queues AS q (tenant_id, id, strategy, skills, overflow, priority, wrapup_s,"
	" ring_timeout_s, max_wait_s, max_len, sl_seconds, sl_percent, members, announce_s,"
	" tier_wait_s, join_empty)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET strategy = excluded.strategy,"
	" skills = excluded.skills, overflow = excluded.overflow, priority = excluded.priority,"
	" wrapup_s = excluded.wrapup_s, ring_timeout_s = excluded.ring_timeout_s,"
	" max_wait_s = excluded.max_wait_s, max_len = excluded.max_len,"
	" sl_seconds = excluded.sl_seconds, sl_percent = excluded.sl_percent,"
	" members = excluded.members, announce_s = excluded.announce_s,"
	" tier_wait_s = excluded.tier_wait_s, join_empty = excluded.join_empty"
	" WHERE (q.strategy, q.skills, q.overflow, q.priority, q.wrapup_s, q.ring_timeout_s,"
	" q.max_wait_s, q.max_len, q.sl_seconds, q.sl_percent, q.members, q.announce_s,"
	" q.tier_wait_s, q.join_empty) IS DISTINCT FROM (excluded.strategy, excluded.skills,"
	" excluded.overflow, excluded.priority, excluded.wrapup_s, excluded.ring_timeout_s,"
	" excluded.max_wait_s, excluded.max_len, excluded.sl_seconds, excluded.sl_percent,"
	" excluded.members, excluded.announce_s, excluded.tier_wait_s, excluded.join_empty)",
    [S_IVR_PUT] = "INSERT INTO ivr AS i (tenant_id, id, definition) VALUES ($1, $2, $3)"
		  " ON CONFLICT (tenant_id, id) DO UPDATE SET definition = excluded.definition"
		  " WHERE i.definition IS DISTINCT FROM excluded.definition",
    [S_IVR_GET] = "SELECT definition FROM ivr WHERE tenant_id = $1 AND id = $2",
    /* $2 is a JSON array of the ids to keep (store_json_strings). */
    [S_PRUNE_USER] = "DELETE FROM users WHERE tenant_id = $1"
		     " AND id NOT IN (SELECT json_array_elements_text($2::json))",
    [S_PRUNE_QUEUE] = "DELETE FROM queues WHERE tenant_id = $1"
		      " AND id NOT IN (SELECT json_array_elements_text($2::json))",
    [S_PRUNE_IVR] = "DELETE FROM ivr WHERE tenant_id = $1"
		    " AND id NOT IN (SELECT json_array_elements_text($2::json))",
    [S_PRUNE_NUMBER] = "DELETE FROM numbers WHERE tenant_id = $1"
		       " AND number NOT IN (SELECT json_array_elements_text($2::json))",
    [S_PRUNE_TRUNK] = "DELETE FROM trunks WHERE tenant_id = $1"
		      " AND id NOT IN (SELECT json_array_elements_text($2::json))",
    [S_BIND_PUT] = "INSERT INTO bindings (tenant_id, aor, contact, expires_at, call_id, cseq,"
		   " path, received, instance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
		   " ON CONFLICT (tenant_id, aor, contact) DO UPDATE SET"
		   " expires_at = excluded.expires_at, call_id = excluded.call_id,"
		   " cseq = excluded.cseq, path = excluded.path, received = excluded.received,"
		   " instance = excluded.instance",
    [S_BIND_DEL] = "DELETE FROM bindings WHERE tenant_id = $1 AND aor = $2 AND contact = $3",
    [S_BIND_EXPIRE] = "DELETE FROM bindings WHERE expires_at <= $1",
    [S_BIND_LIST] = "SELECT tenant_id, aor, contact, expires_at, call_id, cseq, path,"
		    " received, instance FROM bindings ORDER BY tenant_id, aor, contact",
    [S_CDR_PUT] = "INSERT INTO cdrs (uuid, tenant_id, caller, callee, route, ivr_path, agent,"
		  " start_ms, answer_ms, bridge_ms, end_ms, hangup_side, status, cause, recording)"
		  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
		  " ON CONFLICT (uuid) DO NOTHING",
    [S_CDR_LIST] = "SELECT uuid, tenant_id, caller, callee, route, ivr_path, agent, start_ms,"
		   " answer_ms, bridge_ms, end_ms, hangup_side, status, cause, recording,"
		   " disposition, notes"
		   " FROM cdrs WHERE tenant_id = $1 AND start_ms >= $2 AND start_ms < $3"
		   " ORDER BY start_ms, uuid",
    [S_REC_PUT] = "INSERT INTO recordings (path, tenant_id, call_uuid, duration_ms, bytes,"
		  " sha256, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)"
		  " ON CONFLICT (path) DO UPDATE SET duration_ms = excluded.duration_ms,"
		  " bytes = excluded.bytes, sha256 = excluded.sha256",
    [S_REC_GET] = "SELECT tenant_id, call_uuid, duration_ms, bytes, sha256, created_ms"
		  " FROM recordings WHERE path = $1",
    [S_REC_LIST] = "SELECT path, tenant_id, call_uuid, duration_ms, bytes, sha256, created_ms"
		   " FROM recordings WHERE tenant_id = $1 AND created_ms >= $2 AND created_ms < $3"
		   " ORDER BY created_ms, path",
    [S_REC_LIST_CALL] = "SELECT path, tenant_id, call_uuid, duration_ms, bytes, sha256,"
			" created_ms FROM recordings WHERE tenant_id = $1 AND call_uuid = $2"
			" ORDER BY created_ms, path",
    [S_SEAT_ADD] = "INSERT INTO seat_requests (tenant_id, seats, reason, requested_by,"
		   " created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [S_SEAT_LIST] = "SELECT id, tenant_id, seats, reason, status, requested_by, decided_by,"
		    " created_ms, decided_ms FROM seat_requests WHERE tenant_id = $1"
		    " ORDER BY id DESC LIMIT $2",
    [S_SEAT_LIST_ALL] = "SELECT id, tenant_id, seats, reason, status, requested_by,"
			" decided_by, created_ms, decided_ms FROM seat_requests"
			" ORDER BY id DESC LIMIT $1",
    [S_SEAT_GET] = "SELECT id, tenant_id, seats, reason, status, requested_by, decided_by,"
		   " created_ms, decided_ms FROM seat_requests WHERE id = $1",
    [S_SEAT_SET] = "UPDATE seat_requests SET status = $2, decided_by = $3, decided_ms = $4"
		   " WHERE id = $1 AND status = 'pending'",
    [S_TENANT_LIST] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
		      " ORDER BY id",
    [S_USER_GET] = "SELECT u.name, u.roles, u.skills, u.pw_hash, c.realm, c.ha1 FROM users u"
		   " LEFT JOIN credentials c ON c.tenant_id = u.tenant_id AND c.user_id = u.id"
		   " AND c.alg = 'SHA-256' WHERE u.tenant_id = $1 AND u.id = $2",
    [S_OP_PUT] = "INSERT INTO operators AS o (id, name, pw_hash) VALUES ($1, $2, $3)"
		 " ON CONFLICT (id) DO UPDATE SET name = excluded.name, pw_hash = excluded.pw_hash"
		 " WHERE (o.name, o.pw_hash) IS DISTINCT FROM (excluded.name, excluded.pw_hash)",
    [S_OP_GET] = "SELECT name, pw_hash FROM operators WHERE id = $1",
    [S_PRUNE_OPERATOR] = "DELETE FROM operators"
			 " WHERE id NOT IN (SELECT json_array_elements_text($1::json))",
    [S_OP_TOKENS_DEL] = "DELETE FROM tokens WHERE tenant_id IS NULL"
			" AND user_id NOT IN (SELECT id FROM operators)",
    /* No row inserted (and no error) when the account does not exist: an
     * operator's token has no foreign key to catch it. The casts type the
     * parameters, which a SELECT list alone leaves as text. */
    [S_TOKEN_PUT] =
	"INSERT INTO tokens (hash, tenant_id, user_id, roles, created_ms, expires_ms)"
	" SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint"
	" WHERE CASE WHEN $2::text IS NULL"
	" THEN EXISTS (SELECT 1 FROM operators WHERE id = $3::text)"
	" ELSE EXISTS (SELECT 1 FROM users WHERE tenant_id = $2::text AND id = $3::text)"
	" END",
    [S_TOKEN_GET] = "SELECT tenant_id, user_id, roles, created_ms, expires_ms, revoked"
		    " FROM tokens WHERE hash = $1",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked = true WHERE hash = $1",
    [S_TOKEN_REVOKE_USER] = "UPDATE tokens SET revoked = true"
			    " WHERE tenant_id IS NOT DISTINCT FROM $1 AND user_id = $2"
			    " AND NOT revoked",
    [S_TOKEN_PRUNE] = "DELETE FROM tokens WHERE revoked OR expires_ms <= $1",
    [S_AUDIT_PUT] = "INSERT INTO audit (time_ms, tenant_id, actor, action, object, detail)"
		    " VALUES ($1, $2, $3, $4, $5, $6)",
    /* Two statements rather than "$1 IS NULL OR": each keeps its index. */
    [S_AUDIT_LIST] = "SELECT id, time_ms, tenant_id, actor, action, object, detail FROM audit"
		     " WHERE tenant_id = $1 AND time_ms >= $2 AND time_ms < $3 AND id > $4"
		     " ORDER BY id LIMIT $5",
    [S_AUDIT_LIST_ALL] = "SELECT id, time_ms, tenant_id, actor, action, object, detail FROM audit"
			 " WHERE time_ms >= $1 AND time_ms < $2 AND id > $3 ORDER BY id LIMIT $4",
    [S_HOOK_PUT] = "INSERT INTO webhooks AS w (tenant_id, id, url, secret, events)"
		   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET"
		   " url = excluded.url, secret = excluded.secret, events = excluded.events"
		   " WHERE w.url IS DISTINCT FROM excluded.url"
		   " OR w.secret IS DISTINCT FROM excluded.secret"
		   " OR w.events IS DISTINCT FROM excluded.events",
    [S_HOOK_LIST] = "SELECT id, url, secret, events FROM webhooks WHERE tenant_id = $1"
		    " ORDER BY id",
    [S_PRUNE_HOOK] = "DELETE FROM webhooks WHERE tenant_id = $1"
		     " AND id NOT IN (SELECT json_array_elements_text($2::json))",
    [S_OUTBOX_PUT] = "INSERT INTO webhook_outbox (tenant_id, webhook_id, event_id, type, body,"
		     " created_ms, next_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    /* The columns of store_row_outbox(), with the webhook as it is now. */
    [S_OUTBOX_DUE] = "SELECT o.id, o.tenant_id, o.webhook_id, o.event_id, o.type, o.body,"
		     " o.created_ms, o.next_ms, o.attempts, o.status, o.last_error, w.url,"
		     " w.secret FROM webhook_outbox o LEFT JOIN webhooks w"
		     " ON w.tenant_id = o.tenant_id AND w.id = o.webhook_id"
		     " WHERE o.status = 'pending' AND o.next_ms <= $1 ORDER BY o.id LIMIT $2",
    [S_OUTBOX_DONE] = "DELETE FROM webhook_outbox WHERE id = $1",
    [S_OUTBOX_RETRY] = "UPDATE webhook_outbox SET attempts = $2, next_ms = $3,"
		       " last_error = $4, status = $5 WHERE id = $1",
    [S_OUTBOX_LIST] = "SELECT o.id, o.tenant_id, o.webhook_id, o.event_id, o.type, o.body,"
		      " o.created_ms, o.next_ms, o.attempts, o.status, o.last_error, w.url,"
		      " w.secret FROM webhook_outbox o LEFT JOIN webhooks w"
		      " ON w.tenant_id = o.tenant_id AND w.id = o.webhook_id"
		      " WHERE o.tenant_id = $1 AND o.id > $2 ORDER BY o.id LIMIT $3",
};

struct pg {
	struct store st; /* first: the ops cast back */
	PGconn *conn;
	bool in_tx;	    /* between store_begin() and commit or rollback */
	bool sp_open;	    /* the write savepoint exists in that transaction */
	bool prepared[S_N]; /* prepared on this session (a reconnect clears them) */
};

static struct pg *pg_of(struct store *st)
{
	return (struct pg *)st;
}

/* The first line of a libpq message, for a one-line log or errbuf, without
 * the severity the server puts first ("ERROR:  "). */
static void first_line(char *dst, size_t size, const char *msg)
{
	const char *m = msg ? msg : "unknown error";

	if (!strncmp(m, "ERROR:  ", 8))
		m += 8;
	snprintf(dst, size, "%.*s", (int)strcspn(m, "\r\n"), m);
}

/* Integers travel as text parameters; each needs a buffer of its own. */
static const char *i64(char buf[24], int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/*
 * SQLSTATE -> -errno, as sq_err() maps SQLite's codes. Expected outcomes (a
 * unique value taken, a missing parent row, a refused value) are not
 * logged: the caller turns them into its own message.
 */
static int pg_err(struct pg *p, const PGresult *r)
{
	static const struct {
		const char *state; /* a class ("22") or a full code */
		int err;
	} states[] = {
	    {"23505", -EEXIST},	  /* unique_violation */
	    {"23503", -ENOENT},	  /* foreign_key_violation */
	    {"23514", -EINVAL},	  /* check_violation */
	    {"23502", -EINVAL},	  /* not_null_violation */
	    {"22", -EINVAL},	  /* data exception: not JSON, out of range */
	    {"40001", -EBUSY},	  /* serialization_failure */
	    {"40P01", -EBUSY},	  /* deadlock_detected */
	    {"55P03", -EBUSY},	  /* lock_not_available: lock_timeout */
	    {"57014", -EBUSY},	  /* query_canceled: statement_timeout */
	    {"53100", -ENOSPC},	  /* disk_full */
	    {"53200", -ENOMEM},	  /* out_of_memory */
	    {"42501", -EACCES},	  /* insufficient_privilege */
	    {"54000", -EMSGSIZE}, /* program_limit_exceeded */
	};
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[256];

	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++) {
		if (!strncmp(state, states[i].state, strlen(states[i].state)))
			return states[i].err;
	}
	first_line(msg, sizeof(msg), r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn));
	log_warn("postgresql error %s: %s", state ? state : "-", msg);
	return -EIO;
}

/* 0 for a result that is not an error, else pg_err(). Clears it on error. */
static int res_check(struct pg *p, PGresult *r)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int err;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return 0;
	err = pg_err(p, r);
	PQclear(r);
	return err;
}

static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Constant SQL only (no values): several statements may follow each other. */
static int exec_raw(struct pg *p, const char *q)
{
	PGresult *r = PQexec(p->conn, q);
	int err = res_check(p, r);

	if (!err)
		PQclear(r);
	return err;
}

/* What every session needs, at open and after a reconnect. */
static int session_setup(struct pg *p)
{
	return exec_raw(p, "SET lock_timeout = '" LOCK_TIMEOUT "'");
}

/*
 * A usable connection: a broken one is re-opened, unless a transaction was
 * open on it (that transaction is gone: -EIO until the caller rolls back).
 */
static int pg_ready(struct pg *p)
{
	char msg[256];

	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	if (p->in_tx)
		return -EIO;
	PQreset(p->conn);
	memset(p->prepared, 0, sizeof(p->prepared));
	if (PQstatus(p->conn) != CONNECTION_OK) {
		first_line(msg, sizeof(msg), PQerrorMessage(p->conn));
		log_warn("postgresql: reconnect failed: %s", msg);
		return -EIO;
	}
	log_info("postgresql: reconnected");
	return session_setup(p);
}

static int exec_simple(struct pg *p, const char *q)
{
	int err = pg_ready(p);

	return err ? err : exec_raw(p, q);
}

static int prepare(struct pg *p, enum stmt_id id, char name[8])
{
	PGresult *r;
	int err = pg_ready(p);

	snprintf(name, 8, "s%d", (int)id);
	if (err || p->prepared[id])
		return err;
	r = PQprepare(p->conn, name, sql[id], 0, NULL);
	err = res_check(p, r);
	if (!err) {
		PQclear(r);
		p->prepared[id] = true;
	}
	return err;
}

/* Run statement @id with @n text parameters (NULL for SQL NULL); the
 * result into *@rp on success, for the caller to PQclear(). */
static int run(struct pg *p, enum stmt_id id, int n, const char *const *v, PGresult **rp)
{
	char name[8];
	PGresult *r;
	int err = prepare(p, id, name);

	if (err)
		return err;
	r = PQexecPrepared(p->conn, name, n, v, NULL, NULL, 0);
	err = res_check(p, r);
	if (!err)
		*rp = r;
	return err;
}

/* Rows changed by a write, or -errno. */
static int run_count(struct pg *p, enum stmt_id id, int n, const char *const *v)
{
	PGresult *r = NULL;
	int err = run(p, id, n, v, &r);

	if (err)
		return err;
	n = atoi(PQcmdTuples(r));
	PQclear(r);
	return n;
}

/*
 * Open a unit of work that applies whole or not at all and, when it fails,
 * leaves the caller's transaction usable (as a failed statement does in
 * SQLite): inside store_begin() a savepoint, released lazily by the next
 * unit (one round trip for both) or by COMMIT; outside, a transaction of
 * its own when the unit has several statements (@multi).
 */
static int unit_begin(struct pg *p, bool multi)
{
	int err;

	if (p->in_tx) {
		err =
		    exec_simple(p, p->sp_open ? "RELEASE SAVEPOINT w; SAVEPOINT w" : "SAVEPOINT w");
		if (!err)
			p->sp_open = true;
		return err;
	}
	return multi ? exec_simple(p, "BEGIN") : 0;
}

/* Close it: @err < 0 undoes the unit. Returns @err, or the commit's error. */
static int unit_end(struct pg *p, bool multi, int err)
{
	int e;

	if (p->in_tx) {
		if (err < 0)
			exec_raw(p, "ROLLBACK TO SAVEPOINT w");
		return err;
	}
	if (!multi)
		return err;
	if (err < 0) {
		exec_raw(p, "ROLLBACK");
		return err;
	}
	e = exec_raw(p, "COMMIT");
	return e ? e : err;
}

/* A write of one statement: rows changed, or -errno. */
static int run_write(struct pg *p, enum stmt_id id, int n, const char *const *v)
{
	int err = unit_begin(p, false);

	return err ? err : unit_end(p, false, run_count(p, id, n, v));
}

/* The first row of a query into *@rp (0), or -ENOENT when there is none. */
static int run_row(struct pg *p, enum stmt_id id, int n, const char *const *v, PGresult **rp)
{
	PGresult *r = NULL;
	int err = run(p, id, n, v, &r);

	if (err)
		return err;
	if (PQntuples(r) < 1) {
		PQclear(r);
		return -ENOENT;
	}
	*rp = r;
	return 0;
}

/*
 * Row 0 of a result (every row, in single-row mode), read as text: the
 * accessors of the shared record builders (store_row_*), which read
 * booleans as integers too.
 */
static const char *row_text(const void *r, int i)
{
	return PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
}

static int64_t row_i64(const void *r, int i)
{
	const char *v = PQgetvalue(r, 0, i);

	return v[0] == 't' ? 1 : v[0] == 'f' ? 0 : strtoll(v, NULL, 10);
}

static bool row_null(const void *r, int i)
{
	return PQgetisnull(r, 0, i);
}

#define PG_ROW(res) (&(const struct store_row){row_text, row_i64, row_null, (res)})

static void copy_col(char *dst, size_t size, const PGresult *r, int i)
{
	snprintf(dst, size, "%s", PQgetvalue(r, 0, i));
}

/* Column @i into @dst: "" for NULL, -EMSGSIZE when it does not fit
 * (never cut: a cut JSON or hash would be wrong, not short). */
static int copy_fit(char *dst, size_t size, const PGresult *r, int i)
{
	size_t len = (size_t)PQgetlength(r, 0, i);

	if (len >= size)
		return -EMSGSIZE;
	memcpy(dst, PQgetvalue(r, 0, i), len + 1);
	return 0;
}

/* A copy of column @i with mem_alloc(), for the caller to mem_free(). */
static int col_dup(const PGresult *r, int i, char **out)
{
	size_t len = (size_t)PQgetlength(r, 0, i);
	char *copy = mem_alloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, PQgetvalue(r, 0, i), len);
	copy[len] = '\0';
	*out = copy;
	return 0;
}

/* The caller's handler and its argument, for the row functions below. */
struct each {
	const char *tenant_id;
	void *h; /* the store_*_h of the list */
	void *arg;
};

typedef int(row_h)(const PGresult *r, const struct each *e);

/*
 * Run a query and hand each row to @row as it arrives (single-row mode: a
 * month of CDRs is never held in memory at once). 0 with the number of
 * rows visited in *@countp, the first non-zero return of @row, or -errno.
 * After a stop the rest of the answer is read and dropped: the connection
 * must be idle before the next statement.
 */
static int run_each(struct pg *p, enum stmt_id id, int n, const char *const *v, row_h *row,
		    const struct each *e, int *countp)
{
	char name[8];
	PGresult *r;
	int count = 0, err = prepare(p, id, name);

	if (err)
		return err;
	if (!PQsendQueryPrepared(p->conn, name, n, v, NULL, NULL, 0))
		return pg_err(p, NULL);
	PQsetSingleRowMode(p->conn);
	while ((r = PQgetResult(p->conn))) {
		ExecStatusType s = PQresultStatus(r);

		if (s == PGRES_SINGLE_TUPLE) {
			if (!err) {
				err = row(r, e);
				count++;
			}
		} else if (s == PGRES_TUPLES_OK) {
			/* The end of the rows: none of its own in single-row
			 * mode, which cannot be refused right after a send. */
			if (!err && PQntuples(r) > 0)
				err = pg_err(p, r);
		} else if (!err) {
			err = pg_err(p, r);
		}
		PQclear(r);
	}
	if (countp)
		*countp = count;
	return err;
}

/* A list: how many rows were visited, the handler's non-zero return, or
 * -errno. */
static int run_list(struct pg *p, enum stmt_id id, int n, const char *const *v, row_h *row,
		    const struct each *e)
{
	int count = 0, err = run_each(p, id, n, v, row, e, &count);

	return err ? err : count;
}

static void pg_close(struct store *st)
{
	struct pg *p = pg_of(st);

	/* Closing the session rolls back an open transaction. */
	PQfinish(p->conn);
	mem_free(p);
}

static int pg_schema_version(struct store *st)
{
	PGresult *r = NULL;
	int v = run_row(pg_of(st), S_VERSION, 0, NULL, &r);

	if (v)
		return v == -ENOENT ? 0 : v;
	v = (int)row_i64(r, 0);
	PQclear(r);
	return v;
}

static int pg_begin(struct store *st)
{
	struct pg *p = pg_of(st);
	int err;

	if (p->in_tx)
		return -EALREADY;
	err = exec_simple(p, "BEGIN; " LOCK_WRITE_SQL);
	if (err) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return err;
	}
	p->in_tx = true;
	p->sp_open = false;
	return 0;
}

/* NOTE: no reconnect here: COMMIT on a fresh session would "succeed". */
static int pg_commit(struct store *st)
{
	struct pg *p = pg_of(st);
	PGresult *r;
	int err;

	if (!p->in_tx)
		return -EINVAL;
	/* Whatever COMMIT answers, the transaction is over in PostgreSQL (a
	 * failed one rolled back): store_rollback() after it is a no-op. */
	p->in_tx = false;
	r = PQexec(p->conn, "COMMIT");
	err = res_check(p, r);
	if (!err) {
		/* COMMIT of an aborted transaction answers ROLLBACK. */
		err = strcmp(PQcmdStatus(r), "COMMIT") ? -EIO : 0;
		PQclear(r);
	}
	return err;
}

static int pg_rollback(struct store *st)
{
	struct pg *p = pg_of(st);

	if (!p->in_tx)
		return 0;
	p->in_tx = false;
	if (PQstatus(p->conn) != CONNECTION_OK)
		return 0; /* the server rolled it back when the session died */
	return exec_raw(p, "ROLLBACK");
}

static int pg_tenant_put(struct store *st, const struct store_tenant *t)
{
	char seats[24];
	const char *v[] = {
	    t->id,
	    t->name,
	    t->domain,
	    i64(seats, t->seats),
	    t->district,
	    t->park,
	    t->timezone[0] ? t->timezone : "UTC",
	};

	return run_write(pg_of(st), S_TENANT_PUT, NV(v), v);
}

static int pg_tenant_get(struct store *st, const char *id, const char *domain,
			 struct store_tenant *out)
{
	const char *v[] = {id ? id : domain};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), id ? S_TENANT_GET_ID : S_TENANT_GET_DOMAIN, NV(v), v, &r);

	if (err)
		return err;
	store_row_tenant(PG_ROW(r), out);
	PQclear(r);
	return 0;
}

static int tenant_row(const PGresult *r, const struct each *e)
{
	struct store_tenant t;

	store_row_tenant(PG_ROW(r), &t);
	return ((store_tenant_h *)e->h)(&t, e->arg);
}

static int pg_tenant_list(struct store *st, store_tenant_h *h, void *arg)
{
	struct each e = {NULL, (void *)h, arg};

	return run_list(pg_of(st), S_TENANT_LIST, 0, NULL, tenant_row, &e);
}

static int pg_tenant_release_domain(struct store *st, const char *id, const char *domain)
{
	const char *v[] = {id, domain};
	int n = run_write(pg_of(st), S_TENANT_RELEASE, NV(v), v);

	return n < 0 ? n : 0;
}

/* A text column of a tenant (its calendar, its recording policy), copied;
 * @out NULL only checks that the tenant exists. */
static int tenant_text_get(struct pg *p, enum stmt_id id, const char *tenant_id, char **out)
{
	const char *v[] = {tenant_id};
	PGresult *r = NULL;
	int err = run_row(p, id, NV(v), v, &r);

	if (err)
		return err;
	err = out ? col_dup(r, 0, out) : 0;
	PQclear(r);
	return err;
}

/* Update it: 1 when written, 0 when equal, -ENOENT when no such tenant. */
static int tenant_text_put(struct pg *p, enum stmt_id put, enum stmt_id get, const char *tenant_id,
			   const char *json)
{
	const char *v[] = {tenant_id, json};
	int n = run_write(p, put, NV(v), v);

	/* Nothing changed: an equal value, or no such tenant. */
	return n != 0 ? n : tenant_text_get(p, get, tenant_id, NULL);
}

static int pg_calendar_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(pg_of(st), S_CALENDAR_GET, tenant_id, jsonp);
}

static int pg_calendar_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(pg_of(st), S_CALENDAR_PUT, S_CALENDAR_GET, tenant_id, json);
}

static int pg_recpol_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(pg_of(st), S_RECPOL_GET, tenant_id, jsonp);
}

static int pg_recpol_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(pg_of(st), S_RECPOL_PUT, S_RECPOL_GET, tenant_id, json);
}

static int pg_pause_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(pg_of(st), S_PAUSE_GET, tenant_id, jsonp);
}

static int pg_pause_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(pg_of(st), S_PAUSE_PUT, S_PAUSE_GET, tenant_id, json);
}

static int pg_trunk_put(struct store *st, const struct store_trunk *t)
{
	const char *v[] = {t->tenant_id, t->id, t->sources};

	return run_write(pg_of(st), S_TRUNK_PUT, NV(v), v);
}

static int trunk_row(const PGresult *r, const struct each *e)
{
	return ((store_trunk_source_h *)e->h)(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), e->arg);
}

static int pg_trunk_sources(struct store *st, const char *tenant_id, store_trunk_source_h *h,
			    void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_each(pg_of(st), S_TRUNK_SOURCES, NV(v), v, trunk_row, &e, NULL);
}

static int pg_number_put(struct store *st, const struct store_number *n)
{
	const char *v[] = {n->number, n->tenant_id, n->route};

	return run_write(pg_of(st), S_NUMBER_PUT, NV(v), v);
}

static int pg_number_get(struct store *st, const char *number, struct store_number *out)
{
	const char *v[] = {number};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_NUMBER_GET, NV(v), v, &r);

	if (err)
		return err;
	copy_col(out->number, sizeof(out->number), r, 0);
	copy_col(out->tenant_id, sizeof(out->tenant_id), r, 1);
	copy_col(out->route, sizeof(out->route), r, 2);
	PQclear(r);
	return 0;
}

static int cred_put(struct pg *p, const struct store_user *u, const char *alg, const char *ha1)
{
	const char *v[] = {u->tenant_id, u->id, alg, u->realm, ha1};

	return run_count(p, S_CRED_PUT, NV(v), v);
}

/* The user row and its credentials change together or not at all. */
static int pg_user_put(struct store *st, const struct store_user *u)
{
	struct pg *p = pg_of(st);
	const char *v[] = {u->tenant_id, u->id, u->name, u->roles, u->skills, u->pw_hash};
	int n, changed = 0, err = unit_begin(p, true);

	if (err)
		return err;
	n = run_count(p, S_USER_PUT, NV(v), v);
	if (n >= 0) {
		changed += n;
		if (u->ha1_md5) {
			n = cred_put(p, u, "MD5", u->ha1_md5);
			if (n >= 0) {
				changed += n;
				n = cred_put(p, u, "SHA-256", u->ha1_sha256);
			}
		} else {
			n = run_count(p, S_CRED_DEL, 2, v);
		}
	}
	if (n >= 0)
		changed += n;
	err = unit_end(p, true, n < 0 ? n : 0);
	return err ? err : changed > 0;
}

static int pg_user_get_ha1(struct store *st, const char *domain, const char *user, const char *alg,
			   char out[STORE_HA1_SIZE])
{
	const char *v[] = {domain, user, alg};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_HA1_GET, NV(v), v, &r);

	if (err)
		return err;
	copy_col(out, STORE_HA1_SIZE, r, 0);
	PQclear(r);
	return 0;
}

static int pg_queue_put(struct store *st, const struct store_queue *q)
{
	char b[11][24];
	const char *v[] = {
	    q->tenant_id,
	    q->id,
	    q->strategy,
	    q->skills,
	    q->overflow,
	    i64(b[0], q->priority),
	    i64(b[1], q->wrapup_s),
	    i64(b[2], q->ring_timeout_s),
	    i64(b[3], q->max_wait_s),
	    i64(b[4], q->max_len),
	    i64(b[5], q->sl_seconds),
	    i64(b[6], q->sl_percent),
	    q->members,
	    i64(b[7], q->announce_s),
	    i64(b[8], q->tier_wait_s),
	    q->join_empty ? "true" : "false",
	};

	return run_write(pg_of(st), S_QUEUE_PUT, NV(v), v);
}

static int queue_row(const PGresult *r, const struct each *e)
{
	return store_row_queue(PG_ROW(r), e->tenant_id, (store_queue_h *)e->h, e->arg);
}

static int pg_queue_list(struct store *st, const char *tenant_id, store_queue_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_list(pg_of(st), S_QUEUE_LIST, NV(v), v, queue_row, &e);
}

static int user_row(const PGresult *r, const struct each *e)
{
	return store_row_user(PG_ROW(r), e->tenant_id, (store_user_h *)e->h, e->arg);
}

static int pg_user_list(struct store *st, const char *tenant_id, store_user_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_list(pg_of(st), S_USER_LIST, NV(v), v, user_row, &e);
}

static int pg_ivr_put(struct store *st, const char *tenant_id, const char *id, const char *json)
{
	const char *v[] = {tenant_id, id, json};

	return run_write(pg_of(st), S_IVR_PUT, NV(v), v);
}

static int pg_ivr_get(struct store *st, const char *tenant_id, const char *id, char **jsonp)
{
	const char *v[] = {tenant_id, id};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_IVR_GET, NV(v), v, &r);

	if (err)
		return err;
	err = col_dup(r, 0, jsonp);
	PQclear(r);
	return err;
}

static int pg_prune(struct store *st, enum store_kind kind, const char *tenant_id,
		    const char *const *keep, size_t n)
{
	static const enum stmt_id ids[] = {
	    [STORE_KIND_USER] = S_PRUNE_USER,	[STORE_KIND_QUEUE] = S_PRUNE_QUEUE,
	    [STORE_KIND_IVR] = S_PRUNE_IVR,	[STORE_KIND_NUMBER] = S_PRUNE_NUMBER,
	    [STORE_KIND_TRUNK] = S_PRUNE_TRUNK,
	};
	struct mbuf mb;
	int err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (!err) {
		const char *v[] = {tenant_id, (const char *)mb.buf};

		err = run_write(pg_of(st), ids[kind], NV(v), v);
	}
	mbuf_reset(&mb);
	return err;
}

static int pg_binding_put(struct store *st, const struct store_binding *b)
{
	char exp[24], cseq[24];
	const char *v[] = {
	    b->tenant_id, b->aor,
	    b->contact,	  i64(exp, b->expires_at),
	    b->call_id,	  i64(cseq, b->cseq),
	    b->path,	  b->received,
	    b->instance,
	};
	int n = run_write(pg_of(st), S_BIND_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int pg_binding_del(struct store *st, const char *tenant_id, const char *aor,
			  const char *contact)
{
	const char *v[] = {tenant_id, aor, contact};
	int n = run_write(pg_of(st), S_BIND_DEL, NV(v), v);

	return n < 0 ? n : n == 0 ? -ENOENT : 0;
}

static int pg_binding_expire(struct store *st, int64_t now)
{
	char b[24];
	const char *v[] = {i64(b, now)};

	return run_write(pg_of(st), S_BIND_EXPIRE, NV(v), v);
}

static int binding_row(const PGresult *r, const struct each *e)
{
	return store_row_binding(PG_ROW(r), (store_binding_h *)e->h, e->arg);
}

static int pg_binding_list(struct store *st, store_binding_h *h, void *arg)
{
	struct each e = {NULL, (void *)h, arg};

	return run_each(pg_of(st), S_BIND_LIST, 0, NULL, binding_row, &e, NULL);
}

static int pg_cdr_put(struct store *st, const struct store_cdr *c)
{
	char b[5][24];
	const char *v[] = {
	    c->uuid,
	    c->tenant_id,
	    c->caller,
	    c->callee,
	    c->route,
	    c->ivr_path,
	    c->agent,
	    i64(b[0], c->start_ms),
	    i64(b[1], c->answer_ms),
	    i64(b[2], c->bridge_ms),
	    i64(b[3], c->end_ms),
	    c->hangup_side,
	    i64(b[4], c->status),
	    c->cause,
	    c->recording,
	};
	int n = run_write(pg_of(st), S_CDR_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int cdr_row(const PGresult *r, const struct each *e)
{
	return store_row_cdr(PG_ROW(r), (store_cdr_h *)e->h, e->arg);
}

static int pg_cdr_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		       store_cdr_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char from[24], to[24];
	const char *v[] = {tenant_id, i64(from, from_ms), i64(to, to_ms)};

	return run_list(pg_of(st), S_CDR_LIST, NV(v), v, cdr_row, &e);
}

static int pg_recording_put(struct store *st, const struct store_recording *rec)
{
	char b[3][24];
	const char *v[] = {
	    rec->path,
	    rec->tenant_id,
	    rec->call_uuid,
	    i64(b[0], rec->duration_ms),
	    i64(b[1], rec->bytes),
	    rec->sha256,
	    i64(b[2], rec->created_ms),
	};
	int n = run_write(pg_of(st), S_REC_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int pg_recording_get(struct store *st, const char *path, struct store_recording *out)
{
	const char *v[] = {path};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_REC_GET, NV(v), v, &r);

	if (err)
		return err;
	copy_col(out->tenant_buf, sizeof(out->tenant_buf), r, 0);
	copy_col(out->uuid_buf, sizeof(out->uuid_buf), r, 1);
	copy_col(out->sha256_buf, sizeof(out->sha256_buf), r, 4);
	out->path = path;
	out->tenant_id = out->tenant_buf;
	out->call_uuid = out->uuid_buf;
	out->sha256 = out->sha256_buf;
	out->duration_ms = row_i64(r, 2);
	out->bytes = row_i64(r, 3);
	out->created_ms = row_i64(r, 5);
	PQclear(r);
	return 0;
}

static int pg_qlog_append(struct store *st, const char *tenant_id, int64_t time_s, const char *line)
{
	char t[24];
	const char *v[] = {tenant_id, i64(t, time_s), line};
	int n = run_write(pg_of(st), S_QLOG_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int qlog_row(const PGresult *r, const struct each *e)
{
	return store_row_qlog(PG_ROW(r), (store_qlog_h *)e->h, e->arg);
}

static int pg_qlog_list(struct store *st, const char *tenant_id, int64_t from_s, int64_t to_s,
			store_qlog_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char from[24], to[24];
	const char *v[] = {tenant_id, i64(from, from_s), i64(to, to_s)};

	return run_list(pg_of(st), S_QLOG_LIST, NV(v), v, qlog_row, &e);
}

static int pg_presence_put(struct store *st, const struct store_presence *pr)
{
	char reason[24], since[24];
	const char *v[] = {
	    pr->tenant_id,
	    pr->user_id,
	    pr->ready ? "true" : "false",
	    i64(reason, pr->reason),
	    i64(since, pr->since_ms),
	};
	int n = run_write(pg_of(st), S_PRES_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int pg_presence_del(struct store *st, const char *tenant_id, const char *user_id)
{
	const char *v[] = {tenant_id, user_id};
	int n = run_write(pg_of(st), S_PRES_DEL, NV(v), v);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int presence_row(const PGresult *r, const struct each *e)
{
	return store_row_presence(PG_ROW(r), e->tenant_id, (store_presence_h *)e->h, e->arg);
}

static int pg_presence_list(struct store *st, const char *tenant_id, store_presence_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_list(pg_of(st), S_PRES_LIST, NV(v), v, presence_row, &e);
}

static int pg_user_get(struct store *st, const char *tenant_id, const char *user_id,
		       struct store_user_row *out)
{
	const char *v[] = {tenant_id, user_id};
	struct store_user_row u = {.skills = NULL};
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_USER_GET, NV(v), v, &r);

	if (err)
		return err;
	err = strlen(tenant_id) < sizeof(u.tenant_id) && strlen(user_id) < sizeof(u.id) ? 0
											: -EMSGSIZE;
	err = err ? err : copy_fit(u.name, sizeof(u.name), r, 0);
	err = err ? err : copy_fit(u.roles, sizeof(u.roles), r, 1);
	err = err ? err : copy_fit(u.pw_hash, sizeof(u.pw_hash), r, 3);
	err = err ? err : copy_fit(u.realm, sizeof(u.realm), r, 4);
	err = err ? err : copy_fit(u.ha1_sha256, sizeof(u.ha1_sha256), r, 5);
	err = err ? err : col_dup(r, 2, &u.skills);
	PQclear(r);
	if (err)
		return err;
	snprintf(u.tenant_id, sizeof(u.tenant_id), "%s", tenant_id);
	snprintf(u.id, sizeof(u.id), "%s", user_id);
	*out = u;
	return 0;
}

static int pg_operator_put(struct store *st, const struct store_operator *op)
{
	const char *v[] = {op->id, op->name, op->pw_hash[0] ? op->pw_hash : NULL};

	return run_write(pg_of(st), S_OP_PUT, NV(v), v);
}

static int pg_operator_get(struct store *st, const char *id, struct store_operator *out)
{
	const char *v[] = {id};
	struct store_operator op;
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_OP_GET, NV(v), v, &r);

	if (err)
		return err;
	err = strlen(id) < sizeof(op.id) ? 0 : -EMSGSIZE;
	err = err ? err : copy_fit(op.name, sizeof(op.name), r, 0);
	err = err ? err : copy_fit(op.pw_hash, sizeof(op.pw_hash), r, 1);
	PQclear(r);
	if (err)
		return err;
	snprintf(op.id, sizeof(op.id), "%s", id);
	*out = op;
	return 0;
}

/* The operators and their tokens go together. */
static int pg_operator_prune(struct store *st, const char *const *keep, size_t n)
{
	struct pg *p = pg_of(st);
	struct mbuf mb;
	int deleted = 0, err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (!err)
		err = unit_begin(p, true);
	if (!err) {
		const char *v[] = {(const char *)mb.buf};

		deleted = run_count(p, S_PRUNE_OPERATOR, NV(v), v);
		err = deleted < 0 ? deleted : run_count(p, S_OP_TOKENS_DEL, 0, NULL);
		err = unit_end(p, true, err < 0 ? err : 0);
	}
	mbuf_reset(&mb);
	return err ? err : deleted;
}

static int pg_token_put(struct store *st, const struct store_token *t)
{
	char created[24], expires[24];
	const char *v[] = {
	    t->hash,
	    t->tenant_id,
	    t->user_id,
	    t->roles,
	    i64(created, t->created_ms),
	    i64(expires, t->expires_ms),
	};
	int n = run_write(pg_of(st), S_TOKEN_PUT, NV(v), v);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int pg_token_get(struct store *st, const char *hash, struct store_token *out)
{
	const char *v[] = {hash};
	struct store_token t;
	PGresult *r = NULL;
	int err = run_row(pg_of(st), S_TOKEN_GET, NV(v), v, &r);

	if (err)
		return err;
	err = strlen(hash) < sizeof(t.hash_buf) ? 0 : -EMSGSIZE;
	err = err ? err : copy_fit(t.tenant_buf, sizeof(t.tenant_buf), r, 0);
	err = err ? err : copy_fit(t.user_buf, sizeof(t.user_buf), r, 1);
	err = err ? err : copy_fit(t.roles_buf, sizeof(t.roles_buf), r, 2);
	t.created_ms = row_i64(r, 3);
	t.expires_ms = row_i64(r, 4);
	t.revoked = row_i64(r, 5) != 0;
	if (!err) {
		snprintf(t.hash_buf, sizeof(t.hash_buf), "%s", hash);
		*out = t;
		out->hash = out->hash_buf;
		out->tenant_id = PQgetisnull(r, 0, 0) ? NULL : out->tenant_buf;
		out->user_id = out->user_buf;
		out->roles = out->roles_buf;
	}
	PQclear(r);
	return err;
}

static int pg_token_revoke(struct store *st, const char *hash)
{
	const char *v[] = {hash};
	int n = run_write(pg_of(st), S_TOKEN_REVOKE, NV(v), v);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int pg_token_revoke_user(struct store *st, const char *tenant_id, const char *user_id)
{
	const char *v[] = {tenant_id, user_id};

	return run_write(pg_of(st), S_TOKEN_REVOKE_USER, NV(v), v);
}

static int pg_token_prune(struct store *st, int64_t now_ms)
{
	char now[24];
	const char *v[] = {i64(now, now_ms)};

	return run_write(pg_of(st), S_TOKEN_PRUNE, NV(v), v);
}

static int pg_audit_put(struct store *st, const struct store_audit *a)
{
	char t[24];
	const char *v[] = {i64(t, a->time_ms), a->tenant_id, a->actor,
			   a->action,	       a->object,    a->detail};
	int n = run_write(pg_of(st), S_AUDIT_PUT, NV(v), v);

	return n < 0 ? n : 0;
}

static int audit_row(const PGresult *r, const struct each *e)
{
	return store_row_audit(PG_ROW(r), (store_audit_h *)e->h, e->arg);
}

static int pg_audit_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
			 int64_t after_id, unsigned limit, store_audit_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char b[4][24];
	const char *v[] = {tenant_id, i64(b[0], from_ms), i64(b[1], to_ms), i64(b[2], after_id),
			   i64(b[3], limit)};

	/* Without a tenant the statement has no $1: the others move up. */
	if (!tenant_id)
		return run_list(pg_of(st), S_AUDIT_LIST_ALL, NV(v) - 1, v + 1, audit_row, &e);
	return run_list(pg_of(st), S_AUDIT_LIST, NV(v), v, audit_row, &e);
}

static int pg_webhook_put(struct store *st, const struct store_webhook *w)
{
	const char *v[] = {w->tenant_id, w->id, w->url, w->secret, w->events};

	return run_write(pg_of(st), S_HOOK_PUT, NV(v), v);
}

static int webhook_row(const PGresult *r, const struct each *e)
{
	return store_row_webhook(PG_ROW(r), e->tenant_id, (store_webhook_h *)e->h, e->arg);
}

static int pg_webhook_list(struct store *st, const char *tenant_id, store_webhook_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_list(pg_of(st), S_HOOK_LIST, NV(v), v, webhook_row, &e);
}

static int pg_webhook_prune(struct store *st, const char *tenant_id, const char *const *keep,
			    size_t n)
{
	struct mbuf mb;
	int err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (!err) {
		const char *v[] = {tenant_id, (const char *)mb.buf};

		err = run_write(pg_of(st), S_PRUNE_HOOK, NV(v), v);
	}
	mbuf_reset(&mb);
	return err;
}

static int pg_outbox_put(struct store *st, const struct store_outbox *o, int64_t *idp)
{
	struct pg *p = pg_of(st);
	char b[2][24];
	const char *v[] = {o->tenant_id,
			   o->webhook_id,
			   o->event_id,
			   o->type,
			   o->body,
			   i64(b[0], o->created_ms),
			   i64(b[1], o->next_ms)};
	PGresult *r = NULL;
	int err = unit_begin(p, false);

	if (!err)
		err = run(p, S_OUTBOX_PUT, NV(v), v, &r);
	err = unit_end(p, false, err);
	if (!err && idp)
		*idp = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return err;
}

static int outbox_row(const PGresult *r, const struct each *e)
{
	return store_row_outbox(PG_ROW(r), (store_outbox_h *)e->h, e->arg);
}

static int pg_outbox_due(struct store *st, int64_t now_ms, unsigned limit, store_outbox_h *h,
			 void *arg)
{
	struct each e = {NULL, (void *)h, arg};
	char b[2][24];
	const char *v[] = {i64(b[0], now_ms), i64(b[1], limit)};

	return run_list(pg_of(st), S_OUTBOX_DUE, NV(v), v, outbox_row, &e);
}

static int pg_outbox_done(struct store *st, int64_t id)
{
	char b[24];
	const char *v[] = {i64(b, id)};
	int n = run_write(pg_of(st), S_OUTBOX_DONE, NV(v), v);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int pg_outbox_retry(struct store *st, int64_t id, uint32_t attempts, int64_t next_ms,
			   const char *last_error, bool fail)
{
	char b[3][24];
	const char *v[] = {i64(b[0], id), i64(b[1], attempts), i64(b[2], next_ms), last_error,
			   fail ? "failed" : "pending"};
	int n = run_write(pg_of(st), S_OUTBOX_RETRY, NV(v), v);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int pg_outbox_list(struct store *st, const char *tenant_id, int64_t after_id, unsigned limit,
			  store_outbox_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char b[2][24];
	const char *v[] = {tenant_id, i64(b[0], after_id), i64(b[1], limit)};

	return run_list(pg_of(st), S_OUTBOX_LIST, NV(v), v, outbox_row, &e);
}

static int pg_cdr_wrapup(struct store *st, const char *tenant_id, const char *uuid,
			 const char *agent, const char *disposition, const char *notes)
{
	const char *v[] = {tenant_id, uuid, agent, disposition, notes};

	return run_write(pg_of(st), S_CDR_WRAPUP, NV(v), v);
}

static int number_row(const PGresult *r, const struct each *e)
{
	return store_row_number(PG_ROW(r), (store_number_h *)e->h, e->arg);
}

static int pg_number_list(struct store *st, const char *tenant_id, store_number_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	const char *v[] = {tenant_id};

	return run_list(pg_of(st), S_NUMBER_LIST, NV(v), v, number_row, &e);
}

static int recording_row(const PGresult *r, const struct each *e)
{
	return store_row_recording(PG_ROW(r), (store_recording_h *)e->h, e->arg);
}

static int pg_recording_list(struct store *st, const char *tenant_id, const char *call_uuid,
			     int64_t from_ms, int64_t to_ms, store_recording_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char b[2][24];
	const char *v[] = {tenant_id, i64(b[0], from_ms), i64(b[1], to_ms)};

	if (call_uuid) {
		v[1] = call_uuid;
		return run_list(pg_of(st), S_REC_LIST_CALL, 2, v, recording_row, &e);
	}
	return run_list(pg_of(st), S_REC_LIST, NV(v), v, recording_row, &e);
}

static int pg_seat_request_add(struct store *st, const struct store_seat_request *r, int64_t *idp)
{
	struct pg *p = pg_of(st);
	char b[2][24];
	const char *v[] = {r->tenant_id, i64(b[0], r->seats), r->reason ? r->reason : "",
			   r->requested_by, i64(b[1], r->created_ms)};
	PGresult *res = NULL;
	int err = unit_begin(p, false);

	if (!err)
		err = run(p, S_SEAT_ADD, NV(v), v, &res);
	err = unit_end(p, false, err);
	if (!err && idp)
		*idp = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return err;
}

static int seat_row(const PGresult *r, const struct each *e)
{
	return store_row_seat_request(PG_ROW(r), (store_seat_request_h *)e->h, e->arg);
}

static int pg_seat_request_list(struct store *st, const char *tenant_id, int64_t id, unsigned limit,
				store_seat_request_h *h, void *arg)
{
	struct each e = {tenant_id, (void *)h, arg};
	char b[2][24];
	const char *v[] = {tenant_id, i64(b[0], limit)};

	if (id > 0) {
		v[0] = i64(b[1], id);
		return run_list(pg_of(st), S_SEAT_GET, 1, v, seat_row, &e);
	}
	if (!tenant_id)
		return run_list(pg_of(st), S_SEAT_LIST_ALL, 1, v + 1, seat_row, &e);
	return run_list(pg_of(st), S_SEAT_LIST, NV(v), v, seat_row, &e);
}

static int pg_seat_request_set(struct store *st, int64_t id, const char *status, const char *by,
			       int64_t now_ms)
{
	char b[2][24];
	const char *v[] = {i64(b[0], id), status, by, i64(b[1], now_ms)};

	return run_write(pg_of(st), S_SEAT_SET, NV(v), v);
}

/* Designated initializers: an op added to store_internal.h and missing
 * here is NULL, which store_ops_complete() finds (in the tests, and in
 * store_open() before anything is dispatched). */
const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .tenant_put = pg_tenant_put,
    .tenant_get = pg_tenant_get,
    .tenant_release_domain = pg_tenant_release_domain,
    .calendar_put = pg_calendar_put,
    .calendar_get = pg_calendar_get,
    .recording_policy_put = pg_recpol_put,
    .recording_policy_get = pg_recpol_get,
    .pause_reasons_put = pg_pause_put,
    .pause_reasons_get = pg_pause_get,
    .trunk_put = pg_trunk_put,
    .trunk_sources = pg_trunk_sources,
    .number_put = pg_number_put,
    .number_get = pg_number_get,
    .user_put = pg_user_put,
    .user_get_ha1 = pg_user_get_ha1,
    .queue_put = pg_queue_put,
    .queue_list = pg_queue_list,
    .user_list = pg_user_list,
    .ivr_put = pg_ivr_put,
    .ivr_get = pg_ivr_get,
    .prune = pg_prune,
    .binding_put = pg_binding_put,
    .binding_del = pg_binding_del,
    .binding_expire = pg_binding_expire,
    .binding_list = pg_binding_list,
    .cdr_put = pg_cdr_put,
    .cdr_list = pg_cdr_list,
    .recording_put = pg_recording_put,
    .recording_get = pg_recording_get,
    .recording_list = pg_recording_list,
    .number_list = pg_number_list,
    .cdr_wrapup = pg_cdr_wrapup,
    .seat_request_add = pg_seat_request_add,
    .seat_request_list = pg_seat_request_list,
    .seat_request_set = pg_seat_request_set,
    .qlog_append = pg_qlog_append,
    .qlog_list = pg_qlog_list,
    .presence_put = pg_presence_put,
    .presence_del = pg_presence_del,
    .presence_list = pg_presence_list,
    .tenant_list = pg_tenant_list,
    .user_get = pg_user_get,
    .operator_put = pg_operator_put,
    .operator_get = pg_operator_get,
    .operator_prune = pg_operator_prune,
    .token_put = pg_token_put,
    .token_get = pg_token_get,
    .token_revoke = pg_token_revoke,
    .token_revoke_user = pg_token_revoke_user,
    .token_prune = pg_token_prune,
    .audit_put = pg_audit_put,
    .audit_list = pg_audit_list,
    .webhook_put = pg_webhook_put,
    .webhook_list = pg_webhook_list,
    .webhook_prune = pg_webhook_prune,
    .outbox_put = pg_outbox_put,
    .outbox_due = pg_outbox_due,
    .outbox_done = pg_outbox_done,
    .outbox_retry = pg_outbox_retry,
    .outbox_list = pg_outbox_list,
};

/*
 * Each pending migration in its own transaction, under the migration lock,
 * re-reading the version inside it: nodes opening a new database at once
 * end up with one schema, applied once.
 */
static int migrate(struct pg *p, char *errbuf, size_t errlen)
{
	int latest = migrations[NMIGRATIONS - 1].version, first = -1, v, err;
	char msg[256];

	for (;;) {
		size_t i = 0;
		char ver[24];
		const char *val[1];

		err = exec_simple(p, "BEGIN; " LOCK_MIGRATE_SQL ";"
				     " CREATE TABLE IF NOT EXISTS schema_version ("
				     " version BIGINT PRIMARY KEY,"
				     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
		if (err)
			goto fail;
		v = pg_schema_version(&p->st);
		if (v < 0) {
			err = v;
			goto fail;
		}
		if (first < 0)
			first = v;
		if (v > latest) {
			snprintf(errbuf, errlen,
				 "database schema version %d is newer than this binary's (%d)", v,
				 latest);
			exec_raw(p, "ROLLBACK");
			return -EPROTO;
		}
		if (v == latest) {
			err = exec_raw(p, "COMMIT");
			if (err)
				goto fail;
			return 0;
		}
		while (migrations[i].version <= v)
			i++;
		err = exec_raw(p, migrations[i].sql);
		val[0] = i64(ver, migrations[i].version);
		if (!err)
			err = run_count(p, S_VERSION_PUT, 1, val);
		if (err < 0)
			goto fail;
		err = exec_raw(p, "COMMIT");
		if (err)
			goto fail;
		/* Upgrading existing data is worth an operator's notice;
		 * creating a new schema is not. */
		if (first > 0)
			log_info("schema migrated from version %d to %d", v, migrations[i].version);
		else
			log_debug("schema created at version %d", migrations[i].version);
	}
fail:
	first_line(msg, sizeof(msg), PQerrorMessage(p->conn));
	snprintf(errbuf, errlen, "schema migration failed: %s", msg);
	PQclear(PQexec(p->conn, "ROLLBACK"));
	return err;
}

int store_pg_open(struct store **stp, const char *url, char *errbuf, size_t errlen)
{
	/* The URL may override the timeout; its own options come after ours. */
	static const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name",
					   "client_encoding", NULL};
	const char *vals[] = {CONNECT_TIMEOUT_S, url, "shenggu", "UTF8", NULL};
	char dummy[1], msg[256], *perr = NULL;
	PQconninfoOption *opts;
	struct pg *p;
	int err;

	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	if (migrations[NMIGRATIONS - 1].version != store_schema_latest()) {
		/* store_sqlite.c has a migration this file lacks. */
		snprintf(errbuf, errlen, "PostgreSQL schema (version %d) lags this binary's (%d)",
			 migrations[NMIGRATIONS - 1].version, store_schema_latest());
		return -EPROTONOSUPPORT;
	}
	opts = PQconninfoParse(url, &perr);
	if (!opts) {
		first_line(msg, sizeof(msg), perr ? perr : "out of memory");
		snprintf(errbuf, errlen, "bad PostgreSQL URL: %s", msg);
		err = perr ? -EINVAL : -ENOMEM;
		PQfreemem(perr);
		return err;
	}
	PQconninfoFree(opts);
	p = mem_zalloc(sizeof(*p));
	if (!p) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	p->st.ops = &store_pg_ops;
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		first_line(msg, sizeof(msg), p->conn ? PQerrorMessage(p->conn) : "out of memory");
		snprintf(errbuf, errlen, "cannot connect to PostgreSQL: %s", msg);
		/* Language-independent: did a server answer at all? */
		err = PQpingParams(keys, vals, 1) == PQPING_NO_RESPONSE ? -ECONNREFUSED : -EIO;
		goto out;
	}
	PQsetNoticeProcessor(p->conn, on_notice, NULL);
	err = session_setup(p);
	if (err) {
		first_line(msg, sizeof(msg), PQerrorMessage(p->conn));
		snprintf(errbuf, errlen, "cannot use the PostgreSQL session: %s", msg);
		goto out;
	}
	err = migrate(p, errbuf, errlen);
out:
	if (err)
		pg_close(&p->st);
	else
		*stp = &p->st;
	return err;
}
