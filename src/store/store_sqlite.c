/*
 * store_sqlite: the embedded storage backend, one SQLite file under the data
 * folder. WAL journal with synchronous=FULL, so a transaction that returned
 * from COMMIT survives kill -9 and power loss; a busy timeout, so a second
 * process (a `shenggu provision` next to a running serve) waits for the lock
 * instead of failing at once; foreign keys on, so deleting a user deletes
 * its credentials and bindings.
 *
 * The schema is a list of migrations (data, below); opening a file applies
 * the ones it has not seen, each in its own transaction, and records them in
 * schema_version. Statements are prepared once per connection and kept.
 *
 * Not here: anything about JSON documents or validation (src/prov/); the
 * SQL is plain enough that the PostgreSQL backend can mirror it (the
 * upserts use ON CONFLICT ... DO UPDATE ... WHERE, which both engines have).
 */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "base/log.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 5000

/* Append-only: a released version is never edited, a change is a new entry. */
static const struct {
	int version;
	const char *sql;
} migrations[] = {
    {1, "CREATE TABLE tenants ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  domain TEXT NOT NULL UNIQUE,"
	"  seats INTEGER NOT NULL CHECK (seats >= 0),"
	"  district TEXT NOT NULL,"
	"  park TEXT NOT NULL);"
	"CREATE TABLE numbers ("
	"  number TEXT PRIMARY KEY,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  route TEXT NOT NULL CHECK (json_valid(route)));"
	"CREATE INDEX numbers_tenant ON numbers(tenant_id);"
	"CREATE TABLE users ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  roles TEXT NOT NULL CHECK (json_valid(roles)),"
	"  skills TEXT NOT NULL CHECK (json_valid(skills)),"
	"  PRIMARY KEY (tenant_id, id));"
	/* HA1 only (RFC 7616 §3.4.2): the password itself is never stored. */
	"CREATE TABLE credentials ("
	"  tenant_id TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  alg TEXT NOT NULL CHECK (alg IN ('MD5', 'SHA-256')),"
	"  realm TEXT NOT NULL,"
	"  ha1 TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id, alg),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE TABLE queues ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  strategy TEXT NOT NULL,"
	"  skills TEXT NOT NULL CHECK (json_valid(skills)),"
	"  overflow TEXT CHECK (overflow IS NULL OR json_valid(overflow)),"
	"  priority INTEGER NOT NULL,"
	"  wrapup_s INTEGER NOT NULL,"
	"  ring_timeout_s INTEGER NOT NULL,"
	"  max_wait_s INTEGER NOT NULL,"
	"  max_len INTEGER NOT NULL,"
	"  sl_seconds INTEGER NOT NULL,"
	"  sl_percent INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, id));"
	"CREATE TABLE ivr ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  definition TEXT NOT NULL CHECK (json_valid(definition)),"
	"  PRIMARY KEY (tenant_id, id));"},
    {2, "CREATE TABLE bindings ("
	"  tenant_id TEXT NOT NULL,"
	"  aor TEXT NOT NULL,"
	"  contact TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  call_id TEXT NOT NULL,"
	"  cseq INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  received TEXT NOT NULL,"
	"  instance TEXT NOT NULL,"
	"  PRIMARY KEY (tenant_id, aor, contact),"
	"  FOREIGN KEY (tenant_id, aor) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE INDEX bindings_expires ON bindings(expires_at);"},
    /* IVR flows: the tenant's time zone and calendar (business hours and
     * holidays) for hours nodes; trunks: who may call the tenant's numbers. */
    {3, "ALTER TABLE tenants ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';"
	"ALTER TABLE tenants ADD COLUMN calendar TEXT NOT NULL DEFAULT '{}'"
	"  CHECK (json_valid(calendar));"
	"CREATE TABLE trunks ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  sources TEXT NOT NULL CHECK (json_valid(sources)),"
	"  PRIMARY KEY (tenant_id, id));"},
    /* Call detail records and recordings: history, so no foreign key (a
     * removed tenant's calls stay on record until deleted on purpose). */
    {4, "CREATE TABLE cdrs ("
	"  uuid TEXT PRIMARY KEY,"
	"  tenant_id TEXT NOT NULL,"
	"  caller TEXT NOT NULL, callee TEXT NOT NULL, route TEXT NOT NULL,"
	"  ivr_path TEXT NOT NULL, agent TEXT NOT NULL,"
	"  start_ms INTEGER NOT NULL, answer_ms INTEGER NOT NULL,"
	"  bridge_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
	"  hangup_side TEXT NOT NULL, status INTEGER NOT NULL, cause TEXT NOT NULL,"
	"  recording TEXT NOT NULL);"
	"CREATE INDEX cdrs_tenant_start ON cdrs(tenant_id, start_ms);"
	"CREATE TABLE recordings ("
	"  path TEXT PRIMARY KEY,"
	"  tenant_id TEXT NOT NULL, call_uuid TEXT NOT NULL,"
	"  duration_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE INDEX recordings_tenant ON recordings(tenant_id, created_ms);"},
    /* The tenant's recording policy as JSON text: "none", "all" or
     * {"queues": [...]}; existing tenants record nothing. */
    {5, "ALTER TABLE tenants ADD COLUMN recording TEXT NOT NULL DEFAULT '\"none\"'"
	"  CHECK (json_valid(recording));"},
    /* The ACD: queue members and announcements, pause reasons, the
     * queue_log (history: no foreign key), and agents' presence. */
    {6, "ALTER TABLE queues ADD COLUMN members TEXT"
	"  CHECK (members IS NULL OR json_valid(members));"
	"ALTER TABLE queues ADD COLUMN announce_s INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE queues ADD COLUMN tier_wait_s INTEGER NOT NULL DEFAULT 30;"
	"ALTER TABLE queues ADD COLUMN join_empty INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE tenants ADD COLUMN pause_reasons TEXT NOT NULL DEFAULT '{}'"
	"  CHECK (json_valid(pause_reasons));"
	"CREATE TABLE queue_log ("
	"  seq INTEGER PRIMARY KEY,"
	"  tenant_id TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  line TEXT NOT NULL);"
	"CREATE INDEX queue_log_tenant ON queue_log(tenant_id, time);"
	"CREATE TABLE presence ("
	"  tenant_id TEXT NOT NULL,"
	"  user_id TEXT NOT NULL,"
	"  ready INTEGER NOT NULL,"
	"  reason INTEGER NOT NULL,"
	"  since_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant_id, user_id),"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"},
    /* Accounts for the platform API: users' login passwords (argon2id PHC
     * strings, NULL: none), platform operators, bearer tokens by their
     * SHA-256 (a user's go with the user; tenant_id NULL: an operator's,
     * deleted with it by the operators' prune), and the audit log (history:
     * no foreign key). */
    {7, "ALTER TABLE users ADD COLUMN pw_hash TEXT;"
	"CREATE TABLE operators ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  pw_hash TEXT);"
	"CREATE TABLE tokens ("
	"  hash TEXT PRIMARY KEY,"
	"  tenant_id TEXT,"
	"  user_id TEXT NOT NULL,"
	"  roles TEXT NOT NULL CHECK (json_valid(roles)),"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE);"
	"CREATE INDEX tokens_user ON tokens(tenant_id, user_id);"
	"CREATE INDEX tokens_expires ON tokens(expires_ms);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time_ms INTEGER NOT NULL,"
	"  tenant_id TEXT,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  detail TEXT NOT NULL CHECK (json_valid(detail)));"
	"CREATE INDEX audit_tenant ON audit(tenant_id, id);"},
    /* Webhooks per tenant, and their outbox: deliveries to make, kept past
     * a webhook's removal (no foreign key; the sender gives them up) and,
     * once failed for good, for inspection. AUTOINCREMENT: a delivery id
     * is never reused, receivers deduplicate by it. */
    {8, "CREATE TABLE webhooks ("
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  events TEXT NOT NULL CHECK (json_valid(events)),"
	"  PRIMARY KEY (tenant_id, id));"
	"CREATE TABLE webhook_outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tenant_id TEXT NOT NULL,"
	"  webhook_id TEXT NOT NULL,"
	"  event_id TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  body TEXT NOT NULL CHECK (json_valid(body)),"
	"  created_ms INTEGER NOT NULL,"
	"  next_ms INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),"
	"  last_error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_ms);"
	"CREATE INDEX webhook_outbox_tenant ON webhook_outbox(tenant_id, id);"},
    /* Seat requests of tenant admins and the operator's decisions (history:
     * they go only with their tenant); recordings found by their call. */
    {9, "CREATE TABLE seat_requests ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  seats INTEGER NOT NULL CHECK (seats >= 0),"
	"  reason TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (status IN ('pending', 'approved', 'refused')),"
	"  requested_by TEXT NOT NULL,"
	"  decided_by TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  decided_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX seat_requests_tenant ON seat_requests(tenant_id, id);"
	"CREATE INDEX recordings_call ON recordings(tenant_id, call_uuid);"},
    /* The agent's wrap-up on the CDR. */
    {10, "ALTER TABLE cdrs ADD COLUMN disposition TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE cdrs ADD COLUMN notes TEXT NOT NULL DEFAULT '';"},
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_TENANT_PUT,
	S_TENANT_GET_ID,
	S_TENANT_GET_DOMAIN,
	S_TENANT_LIST,
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
	S_PRUNE_TRUNK,
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
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
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

/* "... WHERE x IS NOT excluded.x ...": an equal row is not rewritten, so
 * sqlite3_changes() tells whether anything changed (idempotent apply). */
static const char *const sql[S_N] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_TENANT_PUT] = "INSERT INTO tenants (id, name, domain, seats, district, park, timezone)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET"
		     " name = excluded.name, domain = excluded.domain, seats = excluded.seats,"
		     " district = excluded.district, park = excluded.park,"
		     " timezone = excluded.timezone"
		     " WHERE name IS NOT excluded.name OR domain IS NOT excluded.domain"
		     " OR seats IS NOT excluded.seats OR district IS NOT excluded.district"
		     " OR park IS NOT excluded.park OR timezone IS NOT excluded.timezone",
    [S_TENANT_GET_ID] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
			" WHERE id = ?1",
    [S_TENANT_GET_DOMAIN] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
			    " WHERE domain = ?1",
    [S_TENANT_LIST] = "SELECT id, name, domain, seats, district, park, timezone FROM tenants"
		      " ORDER BY id",
    /* '#' is in no DNS name, and ids are unique, so the placeholder is too. */
    [S_TENANT_RELEASE] = "UPDATE tenants SET domain = '#' || id WHERE id = ?1 AND domain <> ?2",
    [S_CALENDAR_PUT] = "UPDATE tenants SET calendar = ?2 WHERE id = ?1 AND calendar IS NOT ?2",
    [S_CALENDAR_GET] = "SELECT calendar FROM tenants WHERE id = ?1",
    [S_RECPOL_PUT] = "UPDATE tenants SET recording = ?2 WHERE id = ?1 AND recording IS NOT ?2",
    [S_RECPOL_GET] = "SELECT recording FROM tenants WHERE id = ?1",
    [S_PAUSE_PUT] = "UPDATE tenants SET pause_reasons = ?2 WHERE id = ?1"
		    " AND pause_reasons IS NOT ?2",
    [S_PAUSE_GET] = "SELECT pause_reasons FROM tenants WHERE id = ?1",
    [S_QUEUE_LIST] = "SELECT id, strategy, skills, overflow, members, priority, wrapup_s,"
		     " ring_timeout_s, max_wait_s, max_len, sl_seconds, sl_percent, announce_s,"
		     " tier_wait_s, join_empty FROM queues WHERE tenant_id = ?1 ORDER BY id",
    [S_USER_LIST] = "SELECT id, name, roles, skills FROM users WHERE tenant_id = ?1 ORDER BY id",
    [S_QLOG_PUT] = "INSERT INTO queue_log (tenant_id, time, line) VALUES (?1, ?2, ?3)",
    [S_QLOG_LIST] = "SELECT time, line FROM queue_log WHERE tenant_id = ?1 AND time >= ?2"
		    " AND time < ?3 ORDER BY seq",
    [S_PRES_PUT] =
	"INSERT INTO presence (tenant_id, user_id, ready, reason, since_ms)"
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, user_id) DO UPDATE SET"
	" ready = excluded.ready, reason = excluded.reason, since_ms = excluded.since_ms",
    [S_PRES_DEL] = "DELETE FROM presence WHERE tenant_id = ?1 AND user_id = ?2",
    [S_PRES_LIST] = "SELECT user_id, ready, reason, since_ms FROM presence WHERE tenant_id = ?1"
		    " ORDER BY user_id",
    [S_TRUNK_PUT] = "INSERT INTO trunks (tenant_id, id, sources) VALUES (?1, ?2, ?3)"
		    " ON CONFLICT (tenant_id, id) DO UPDATE SET sources = excluded.sources"
		    " WHERE sources IS NOT excluded.sources",
    [S_TRUNK_SOURCES] = "SELECT t.id, j.value FROM trunks t, json_each(t.sources) j"
			" WHERE t.tenant_id = ?1 AND j.type = 'text' ORDER BY t.id, j.key",
    [S_PRUNE_TRUNK] = "DELETE FROM trunks WHERE tenant_id = ?1"
		      " AND id NOT IN (SELECT value FROM json_each(?2))",
    [S_NUMBER_PUT] = "INSERT INTO numbers (number, tenant_id, route) VALUES (?1, ?2, ?3)"
		     " ON CONFLICT (number) DO UPDATE SET"
		     " tenant_id = excluded.tenant_id, route = excluded.route"
		     " WHERE tenant_id IS NOT excluded.tenant_id OR route IS NOT excluded.route",
    [S_NUMBER_GET] = "SELECT number, tenant_id, route FROM numbers WHERE number = ?1",
    [S_CDR_WRAPUP] = "UPDATE cdrs SET disposition = ?4, notes = ?5"
		     " WHERE tenant_id = ?1 AND uuid = ?2 AND (?3 IS NULL OR agent = ?3)",
    [S_NUMBER_LIST] = "SELECT number, tenant_id, route FROM numbers WHERE tenant_id = ?1"
		      " ORDER BY number",
    [S_USER_PUT] = "INSERT INTO users (tenant_id, id, name, roles, skills, pw_hash)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, id) DO UPDATE SET"
		   " name = excluded.name, roles = excluded.roles, skills = excluded.skills,"
		   " pw_hash = excluded.pw_hash"
		   " WHERE name IS NOT excluded.name OR roles IS NOT excluded.roles"
		   " OR skills IS NOT excluded.skills OR pw_hash IS NOT excluded.pw_hash",
    [S_CRED_PUT] = "INSERT INTO credentials (tenant_id, user_id, alg, realm, ha1)"
		   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, user_id, alg)"
		   " DO UPDATE SET realm = excluded.realm, ha1 = excluded.ha1"
		   " WHERE realm IS NOT excluded.realm OR ha1 IS NOT excluded.ha1",
    [S_CRED_DEL] = "DELETE FROM credentials WHERE tenant_id = ?1 AND user_id = ?2",
    [S_HA1_GET] = "SELECT c.ha1 FROM credentials c JOIN tenants t ON t.id = c.tenant_id"
		  " WHERE t.domain = ?1 AND c.user_id = ?2 AND c.alg = ?3"
		  " AND c.realm = t.domain",
    [S_QUEUE_PUT] =
	"INSERT INTO queues (tenant_id, id, strategy, skills, overflow, priority, wrapup_s,"
	" ring_timeout_s, max_wait_s, max_len, sl_seconds, sl_percent, members, announce_s,"
	" tier_wait_s, join_empty)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
	" ON CONFLICT (tenant_id, id) DO UPDATE SET strategy = excluded.strategy,"
	" skills = excluded.skills, overflow = excluded.overflow, priority = excluded.priority,"
	" wrapup_s = excluded.wrapup_s, ring_timeout_s = excluded.ring_timeout_s,"
	" max_wait_s = excluded.max_wait_s, max_len = excluded.max_len,"
	" sl_seconds = excluded.sl_seconds, sl_percent = excluded.sl_percent,"
	" members = excluded.members, announce_s = excluded.announce_s,"
	" tier_wait_s = excluded.tier_wait_s, join_empty = excluded.join_empty"
	" WHERE strategy IS NOT excluded.strategy OR skills IS NOT excluded.skills"
	" OR overflow IS NOT excluded.overflow OR priority IS NOT excluded.priority"
	" OR wrapup_s IS NOT excluded.wrapup_s OR ring_timeout_s IS NOT excluded.ring_timeout_s"
	" OR max_wait_s IS NOT excluded.max_wait_s OR max_len IS NOT excluded.max_len"
	" OR sl_seconds IS NOT excluded.sl_seconds OR sl_percent IS NOT excluded.sl_percent"
	" OR members IS NOT excluded.members OR announce_s IS NOT excluded.announce_s"
	" OR tier_wait_s IS NOT excluded.tier_wait_s OR join_empty IS NOT excluded.join_empty",
    [S_IVR_PUT] = "INSERT INTO ivr (tenant_id, id, definition) VALUES (?1, ?2, ?3)"
		  " ON CONFLICT (tenant_id, id) DO UPDATE SET definition = excluded.definition"
		  " WHERE definition IS NOT excluded.definition",
    [S_IVR_GET] = "SELECT definition FROM ivr WHERE tenant_id = ?1 AND id = ?2",
    /* ?2 is a JSON array of the ids to keep. */
    [S_PRUNE_USER] = "DELETE FROM users WHERE tenant_id = ?1"
		     " AND id NOT IN (SELECT value FROM json_each(?2))",
    [S_PRUNE_QUEUE] = "DELETE FROM queues WHERE tenant_id = ?1"
		      " AND id NOT IN (SELECT value FROM json_each(?2))",
    [S_PRUNE_IVR] = "DELETE FROM ivr WHERE tenant_id = ?1"
		    " AND id NOT IN (SELECT value FROM json_each(?2))",
    [S_PRUNE_NUMBER] = "DELETE FROM numbers WHERE tenant_id = ?1"
		       " AND number NOT IN (SELECT value FROM json_each(?2))",
    [S_BIND_PUT] = "INSERT INTO bindings (tenant_id, aor, contact, expires_at, call_id, cseq,"
		   " path, received, instance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		   " ON CONFLICT (tenant_id, aor, contact) DO UPDATE SET"
		   " expires_at = excluded.expires_at, call_id = excluded.call_id,"
		   " cseq = excluded.cseq, path = excluded.path, received = excluded.received,"
		   " instance = excluded.instance",
    [S_BIND_DEL] = "DELETE FROM bindings WHERE tenant_id = ?1 AND aor = ?2 AND contact = ?3",
    [S_BIND_EXPIRE] = "DELETE FROM bindings WHERE expires_at <= ?1",
    [S_BIND_LIST] = "SELECT tenant_id, aor, contact, expires_at, call_id, cseq, path,"
		    " received, instance FROM bindings ORDER BY tenant_id, aor, contact",
    [S_CDR_PUT] = "INSERT INTO cdrs (uuid, tenant_id, caller, callee, route, ivr_path, agent,"
		  " start_ms, answer_ms, bridge_ms, end_ms, hangup_side, status, cause, recording)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
		  " ON CONFLICT (uuid) DO NOTHING",
    [S_CDR_LIST] = "SELECT uuid, tenant_id, caller, callee, route, ivr_path, agent, start_ms,"
		   " answer_ms, bridge_ms, end_ms, hangup_side, status, cause, recording,"
		   " disposition, notes"
		   " FROM cdrs WHERE tenant_id = ?1 AND start_ms >= ?2 AND start_ms < ?3"
		   " ORDER BY start_ms, uuid",
    [S_REC_PUT] = "INSERT INTO recordings (path, tenant_id, call_uuid, duration_ms, bytes,"
		  " sha256, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		  " ON CONFLICT (path) DO UPDATE SET duration_ms = excluded.duration_ms,"
		  " bytes = excluded.bytes, sha256 = excluded.sha256",
    [S_REC_GET] = "SELECT tenant_id, call_uuid, duration_ms, bytes, sha256, created_ms"
		  " FROM recordings WHERE path = ?1",
    /* The columns of store_row_recording() and store_row_seat_request(). */
    [S_REC_LIST] = "SELECT path, tenant_id, call_uuid, duration_ms, bytes, sha256, created_ms"
		   " FROM recordings WHERE tenant_id = ?1 AND created_ms >= ?2 AND created_ms < ?3"
		   " ORDER BY created_ms, path",
    [S_REC_LIST_CALL] = "SELECT path, tenant_id, call_uuid, duration_ms, bytes, sha256,"
			" created_ms FROM recordings WHERE tenant_id = ?1 AND call_uuid = ?2"
			" ORDER BY created_ms, path",
    [S_SEAT_ADD] = "INSERT INTO seat_requests (tenant_id, seats, reason, requested_by,"
		   " created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_SEAT_LIST] = "SELECT id, tenant_id, seats, reason, status, requested_by, decided_by,"
		    " created_ms, decided_ms FROM seat_requests WHERE tenant_id = ?1"
		    " ORDER BY id DESC LIMIT ?2",
    [S_SEAT_LIST_ALL] = "SELECT id, tenant_id, seats, reason, status, requested_by,"
			" decided_by, created_ms, decided_ms FROM seat_requests"
			" ORDER BY id DESC LIMIT ?1",
    [S_SEAT_GET] = "SELECT id, tenant_id, seats, reason, status, requested_by, decided_by,"
		   " created_ms, decided_ms FROM seat_requests WHERE id = ?1",
    [S_SEAT_SET] = "UPDATE seat_requests SET status = ?2, decided_by = ?3, decided_ms = ?4"
		   " WHERE id = ?1 AND status = 'pending'",
    [S_SAVEPOINT] = "SAVEPOINT store_put",
    [S_RELEASE] = "RELEASE store_put",
    [S_ROLLBACK_TO] = "ROLLBACK TO store_put",
    [S_USER_GET] = "SELECT u.name, u.roles, u.skills, u.pw_hash, c.realm, c.ha1 FROM users u"
		   " LEFT JOIN credentials c ON c.tenant_id = u.tenant_id AND c.user_id = u.id"
		   " AND c.alg = 'SHA-256' WHERE u.tenant_id = ?1 AND u.id = ?2",
    [S_OP_PUT] = "INSERT INTO operators (id, name, pw_hash) VALUES (?1, ?2, ?3)"
		 " ON CONFLICT (id) DO UPDATE SET name = excluded.name, pw_hash = excluded.pw_hash"
		 " WHERE name IS NOT excluded.name OR pw_hash IS NOT excluded.pw_hash",
    [S_OP_GET] = "SELECT name, pw_hash FROM operators WHERE id = ?1",
    [S_PRUNE_OPERATOR] = "DELETE FROM operators WHERE id NOT IN (SELECT value FROM json_each(?1))",
    [S_OP_TOKENS_DEL] = "DELETE FROM tokens WHERE tenant_id IS NULL"
			" AND user_id NOT IN (SELECT id FROM operators)",
    /* No row inserted (and no error) when the account does not exist: an
     * operator's token has no foreign key to catch it. */
    [S_TOKEN_PUT] = "INSERT INTO tokens (hash, tenant_id, user_id, roles, created_ms, expires_ms)"
		    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE CASE WHEN ?2 IS NULL"
		    " THEN EXISTS (SELECT 1 FROM operators WHERE id = ?3)"
		    " ELSE EXISTS (SELECT 1 FROM users WHERE tenant_id = ?2 AND id = ?3) END",
    [S_TOKEN_GET] = "SELECT tenant_id, user_id, roles, created_ms, expires_ms, revoked"
		    " FROM tokens WHERE hash = ?1",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked = 1 WHERE hash = ?1",
    [S_TOKEN_REVOKE_USER] = "UPDATE tokens SET revoked = 1 WHERE tenant_id IS ?1"
			    " AND user_id = ?2 AND revoked = 0",
    [S_TOKEN_PRUNE] = "DELETE FROM tokens WHERE revoked <> 0 OR expires_ms <= ?1",
    [S_AUDIT_PUT] = "INSERT INTO audit (time_ms, tenant_id, actor, action, object, detail)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* Two statements rather than "?1 IS NULL OR": each keeps its index. */
    [S_AUDIT_LIST] = "SELECT id, time_ms, tenant_id, actor, action, object, detail FROM audit"
		     " WHERE tenant_id = ?1 AND time_ms >= ?2 AND time_ms < ?3 AND id > ?4"
		     " ORDER BY id LIMIT ?5",
    [S_AUDIT_LIST_ALL] = "SELECT id, time_ms, tenant_id, actor, action, object, detail FROM audit"
			 " WHERE time_ms >= ?2 AND time_ms < ?3 AND id > ?4 ORDER BY id LIMIT ?5",
    [S_HOOK_PUT] = "INSERT INTO webhooks (tenant_id, id, url, secret, events)"
		   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, id) DO UPDATE SET"
		   " url = excluded.url, secret = excluded.secret, events = excluded.events"
		   " WHERE url IS NOT excluded.url OR secret IS NOT excluded.secret"
		   " OR events IS NOT excluded.events",
    [S_HOOK_LIST] = "SELECT id, url, secret, events FROM webhooks WHERE tenant_id = ?1"
		    " ORDER BY id",
    [S_PRUNE_HOOK] = "DELETE FROM webhooks WHERE tenant_id = ?1"
		     " AND id NOT IN (SELECT value FROM json_each(?2))",
    [S_OUTBOX_PUT] = "INSERT INTO webhook_outbox (tenant_id, webhook_id, event_id, type, body,"
		     " created_ms, next_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* The columns of store_row_outbox(), with the webhook as it is now. */
    [S_OUTBOX_DUE] = "SELECT o.id, o.tenant_id, o.webhook_id, o.event_id, o.type, o.body,"
		     " o.created_ms, o.next_ms, o.attempts, o.status, o.last_error, w.url,"
		     " w.secret FROM webhook_outbox o LEFT JOIN webhooks w"
		     " ON w.tenant_id = o.tenant_id AND w.id = o.webhook_id"
		     " WHERE o.status = 'pending' AND o.next_ms <= ?1 ORDER BY o.id LIMIT ?2",
    [S_OUTBOX_DONE] = "DELETE FROM webhook_outbox WHERE id = ?1",
    [S_OUTBOX_RETRY] = "UPDATE webhook_outbox SET attempts = ?2, next_ms = ?3,"
		       " last_error = ?4, status = ?5 WHERE id = ?1",
    [S_OUTBOX_LIST] = "SELECT o.id, o.tenant_id, o.webhook_id, o.event_id, o.type, o.body,"
		      " o.created_ms, o.next_ms, o.attempts, o.status, o.last_error, w.url,"
		      " w.secret FROM webhook_outbox o LEFT JOIN webhooks w"
		      " ON w.tenant_id = o.tenant_id AND w.id = o.webhook_id"
		      " WHERE o.tenant_id = ?1 AND o.id > ?2 ORDER BY o.id LIMIT ?3",
};

struct sq {
	struct store st; /* first: the ops cast back */
	sqlite3 *db;
	sqlite3_stmt *stmt[S_N]; /* prepared on first use */
};

static struct sq *sq_of(struct store *st)
{
	return (struct sq *)st;
}

/* SQLite result -> -errno. Expected outcomes (a unique value taken, a missing
 * parent row) are not logged: the caller turns them into its own message. */
static int sq_err(struct sq *s, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		return -EINVAL;
	case SQLITE_TOOBIG:
		return -EMSGSIZE;
	default:
		log_warn("sqlite error %d: %s", rc, s->db ? sqlite3_errmsg(s->db) : "?");
		return -EIO;
	}
}

static int stmt_get(struct sq *s, enum stmt_id id, sqlite3_stmt **qp)
{
	if (!s->stmt[id]) {
		int rc = sqlite3_prepare_v3(s->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[id], NULL);

		if (rc != SQLITE_OK)
			return sq_err(s, rc);
	}
	*qp = s->stmt[id];
	return 0;
}

/* NOTE: bound texts are SQLITE_STATIC: they must outlive the step, and
 * every statement is reset (dropping them) before its function returns. */
static void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

static int bind_text(sqlite3_stmt *q, int i, const char *v)
{
	return v ? sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

/* Run a statement to completion; >= 0 rows changed, or -errno. */
static const char *col_str(sqlite3_stmt *q, int col)
{
	return (const char *)sqlite3_column_text(q, col);
}

/* The row @q stepped to, for the shared record builders (store_row_*). */
static const char *row_text(const void *q, int col)
{
	return col_str((sqlite3_stmt *)q, col);
}

static int64_t row_i64(const void *q, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)q, col);
}

static bool row_null(const void *q, int col)
{
	return sqlite3_column_type((sqlite3_stmt *)q, col) == SQLITE_NULL;
}

#define SQ_ROW(stmt) (&(const struct store_row){row_text, row_i64, row_null, (stmt)})

static int step_changes(struct sq *s, sqlite3_stmt *q, int rc)
{
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	stmt_done(q);
	return rc == SQLITE_OK ? sqlite3_changes(s->db) : sq_err(s, rc);
}

static int exec_simple(struct sq *s, enum stmt_id id)
{
	sqlite3_stmt *q = NULL;
	int n = stmt_get(s, id, &q);

	if (!n)
		n = step_changes(s, q, SQLITE_OK);
	return n < 0 ? n : 0;
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *q, int col)
{
	const unsigned char *v = sqlite3_column_text(q, col);

	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static void sq_close(struct store *st)
{
	struct sq *s = sq_of(st);

	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(s->stmt[i]);
	/* sqlite3_close_v2 rolls back an open transaction. */
	sqlite3_close_v2(s->db);
	mem_free(s);
}

static int sq_schema_version(struct store *st)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, v = -EIO;

	rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_version", -1,
				&q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	else
		v = sq_err(s, rc);
	sqlite3_finalize(q);
	return v;
}

static int sq_begin(struct store *st)
{
	struct sq *s = sq_of(st);

	if (!sqlite3_get_autocommit(s->db))
		return -EALREADY;
	return exec_simple(s, S_BEGIN);
}

static int sq_commit(struct store *st)
{
	struct sq *s = sq_of(st);

	if (sqlite3_get_autocommit(s->db))
		return -EINVAL;
	return exec_simple(s, S_COMMIT);
}

static int sq_rollback(struct store *st)
{
	struct sq *s = sq_of(st);

	if (sqlite3_get_autocommit(s->db))
		return 0;
	return exec_simple(s, S_ROLLBACK);
}

static int sq_tenant_put(struct store *st, const struct store_tenant *t)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TENANT_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, t->id);
	bind_text(q, 2, t->name);
	bind_text(q, 3, t->domain);
	sqlite3_bind_int64(q, 4, t->seats);
	bind_text(q, 5, t->district);
	bind_text(q, 6, t->park);
	return step_changes(s, q, bind_text(q, 7, t->timezone[0] ? t->timezone : "UTC"));
}

/* The tenant row @q stepped to (the columns of S_TENANT_GET_ID) into @out. */
static void tenant_copy(sqlite3_stmt *q, struct store_tenant *out)
{
	store_row_tenant(SQ_ROW(q), out);
}

static int sq_tenant_get(struct store *st, const char *id, const char *domain,
			 struct store_tenant *out)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, id ? S_TENANT_GET_ID : S_TENANT_GET_DOMAIN, &q);

	if (err)
		return err;
	bind_text(q, 1, id ? id : domain);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		tenant_copy(q, out);
	err = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	stmt_done(q);
	return err;
}

static int sq_tenant_release_domain(struct store *st, const char *id, const char *domain)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TENANT_RELEASE, &q);

	if (err)
		return err;
	bind_text(q, 1, id);
	err = step_changes(s, q, bind_text(q, 2, domain));
	return err < 0 ? err : 0;
}

/* A copy of text column @col of the row @q stepped to, with mem_alloc(). */
static int col_dup(sqlite3_stmt *q, int col, char **out)
{
	const unsigned char *v = sqlite3_column_text(q, col);
	size_t len = (size_t)sqlite3_column_bytes(q, col);
	char *copy = v ? mem_alloc(len + 1) : NULL;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, v, len);
	copy[len] = '\0';
	*out = copy;
	return 0;
}

/* A text column of a tenant (its calendar, its recording policy), copied. */
static int tenant_text_get(struct sq *s, enum stmt_id id, const char *tenant_id, char **out)
{
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, id, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		err = col_dup(q, 0, out);
	else
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	stmt_done(q);
	return err;
}

/* Update it: 1 when written, 0 when equal, -ENOENT when no such tenant. */
static int tenant_text_put(struct sq *s, enum stmt_id put, enum stmt_id get, const char *tenant_id,
			   const char *json)
{
	sqlite3_stmt *q = NULL;
	char *old = NULL;
	int n, err = stmt_get(s, put, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	n = step_changes(s, q, bind_text(q, 2, json));
	if (n != 0)
		return n;
	/* Nothing changed: an equal value, or no such tenant. */
	err = tenant_text_get(s, get, tenant_id, &old);
	mem_free(old);
	return err;
}

static int sq_calendar_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(sq_of(st), S_CALENDAR_GET, tenant_id, jsonp);
}

static int sq_calendar_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(sq_of(st), S_CALENDAR_PUT, S_CALENDAR_GET, tenant_id, json);
}

static int sq_recpol_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(sq_of(st), S_RECPOL_GET, tenant_id, jsonp);
}

static int sq_recpol_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(sq_of(st), S_RECPOL_PUT, S_RECPOL_GET, tenant_id, json);
}

static int sq_trunk_put(struct store *st, const struct store_trunk *t)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TRUNK_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, t->tenant_id);
	bind_text(q, 2, t->id);
	return step_changes(s, q, bind_text(q, 3, t->sources));
}

static int sq_trunk_sources(struct store *st, const char *tenant_id, store_trunk_source_h *h,
			    void *arg)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_TRUNK_SOURCES, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		const char *cidr = (const char *)sqlite3_column_text(q, 1);

		if (!id || !cidr) {
			err = -ENOMEM;
			break;
		}
		err = h(id, cidr, arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_err(s, rc);
	stmt_done(q);
	return err;
}

static int sq_number_put(struct store *st, const struct store_number *n)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_NUMBER_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, n->number);
	bind_text(q, 2, n->tenant_id);
	return step_changes(s, q, bind_text(q, 3, n->route));
}

static int sq_number_get(struct store *st, const char *number, struct store_number *out)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_NUMBER_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, number);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		copy_col(out->number, sizeof(out->number), q, 0);
		copy_col(out->tenant_id, sizeof(out->tenant_id), q, 1);
		copy_col(out->route, sizeof(out->route), q, 2);
	}
	err = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	stmt_done(q);
	return err;
}

static int cred_put(struct sq *s, const struct store_user *u, const char *alg, const char *ha1)
{
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_CRED_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, u->tenant_id);
	bind_text(q, 2, u->id);
	bind_text(q, 3, alg);
	bind_text(q, 4, u->realm);
	return step_changes(s, q, bind_text(q, 5, ha1));
}

/* End the savepoint of a write of several statements: released after
 * them, or rolled back to when @err. Returns @err, or the release's. */
static int savepoint_end(struct sq *s, int err)
{
	if (err) {
		exec_simple(s, S_ROLLBACK_TO);
		exec_simple(s, S_RELEASE);
		return err;
	}
	return exec_simple(s, S_RELEASE);
}

/* The user row and its credentials change together or not at all, inside
 * the caller's transaction or without one: hence the savepoint. */
static int sq_user_put(struct store *st, const struct store_user *u)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, changed = 0, err = exec_simple(s, S_SAVEPOINT);

	if (err)
		return err;
	err = stmt_get(s, S_USER_PUT, &q);
	if (err)
		goto out;
	bind_text(q, 1, u->tenant_id);
	bind_text(q, 2, u->id);
	bind_text(q, 3, u->name);
	bind_text(q, 4, u->roles);
	bind_text(q, 5, u->skills);
	n = step_changes(s, q, bind_text(q, 6, u->pw_hash));
	if (n < 0) {
		err = n;
		goto out;
	}
	changed += n;
	if (u->ha1_md5) {
		n = cred_put(s, u, "MD5", u->ha1_md5);
		if (n >= 0) {
			changed += n;
			n = cred_put(s, u, "SHA-256", u->ha1_sha256);
		}
	} else {
		err = stmt_get(s, S_CRED_DEL, &q);
		if (err)
			goto out;
		bind_text(q, 1, u->tenant_id);
		n = step_changes(s, q, bind_text(q, 2, u->id));
	}
	if (n < 0) {
		err = n;
		goto out;
	}
	changed += n;
out:
	err = savepoint_end(s, err);
	return err ? err : changed > 0;
}

static int sq_user_get_ha1(struct store *st, const char *domain, const char *user, const char *alg,
			   char out[STORE_HA1_SIZE])
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_HA1_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, domain);
	bind_text(q, 2, user);
	bind_text(q, 3, alg);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		copy_col(out, STORE_HA1_SIZE, q, 0);
	err = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	stmt_done(q);
	return err;
}

static int sq_queue_put(struct store *st, const struct store_queue *qu)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_QUEUE_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, qu->tenant_id);
	bind_text(q, 2, qu->id);
	bind_text(q, 3, qu->strategy);
	bind_text(q, 4, qu->skills);
	bind_text(q, 5, qu->overflow);
	sqlite3_bind_int64(q, 6, qu->priority);
	sqlite3_bind_int64(q, 7, qu->wrapup_s);
	sqlite3_bind_int64(q, 8, qu->ring_timeout_s);
	sqlite3_bind_int64(q, 9, qu->max_wait_s);
	sqlite3_bind_int64(q, 10, qu->max_len);
	sqlite3_bind_int64(q, 11, qu->sl_seconds);
	sqlite3_bind_int64(q, 12, qu->sl_percent);
	bind_text(q, 13, qu->members);
	sqlite3_bind_int64(q, 14, qu->announce_s);
	sqlite3_bind_int64(q, 15, qu->tier_wait_s);
	return step_changes(s, q, sqlite3_bind_int64(q, 16, qu->join_empty));
}

/* The caller's handler and its argument, for the row functions below. */
struct each {
	const char *tenant_id;
	void *h; /* the store_*_h of the list */
	void *arg;
};

typedef int(row_h)(sqlite3_stmt *q, const struct each *e);

/*
 * Step @q (prepared and bound) to its end, handing each row to @row: how
 * many rows were visited, the first non-zero return of @row, or -errno.
 * Row functions give -ENOMEM for a NULL in a NOT NULL text column: that is
 * SQLite out of memory.
 */
static int each_row(struct sq *s, sqlite3_stmt *q, row_h *row, const struct each *e)
{
	int rc, n = 0, err = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = row(q, e);
		if (err)
			break;
		n++;
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_err(s, rc);
	stmt_done(q);
	return err ? err : n;
}

static int queue_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_queue(SQ_ROW(q), e->tenant_id, (store_queue_h *)e->h, e->arg);
}

static int tenant_row(sqlite3_stmt *q, const struct each *e)
{
	struct store_tenant t;

	tenant_copy(q, &t);
	return ((store_tenant_h *)e->h)(&t, e->arg);
}

static int sq_tenant_list(struct store *st, store_tenant_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {NULL, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TENANT_LIST, &q);

	return err ? err : each_row(s, q, tenant_row, &e);
}

static int sq_queue_list(struct store *st, const char *tenant_id, store_queue_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_QUEUE_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return each_row(s, q, queue_row, &e);
}

static int user_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_user(SQ_ROW(q), e->tenant_id, (store_user_h *)e->h, e->arg);
}

static int sq_user_list(struct store *st, const char *tenant_id, store_user_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_USER_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return each_row(s, q, user_row, &e);
}

static int sq_pause_get(struct store *st, const char *tenant_id, char **jsonp)
{
	return tenant_text_get(sq_of(st), S_PAUSE_GET, tenant_id, jsonp);
}

static int sq_pause_put(struct store *st, const char *tenant_id, const char *json)
{
	return tenant_text_put(sq_of(st), S_PAUSE_PUT, S_PAUSE_GET, tenant_id, json);
}

static int sq_qlog_append(struct store *st, const char *tenant_id, int64_t time_s, const char *line)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_QLOG_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	sqlite3_bind_int64(q, 2, time_s);
	err = step_changes(s, q, bind_text(q, 3, line));
	return err < 0 ? err : 0;
}

static int qlog_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_qlog(SQ_ROW(q), (store_qlog_h *)e->h, e->arg);
}

static int sq_qlog_list(struct store *st, const char *tenant_id, int64_t from_s, int64_t to_s,
			store_qlog_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_QLOG_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	sqlite3_bind_int64(q, 2, from_s);
	sqlite3_bind_int64(q, 3, to_s);
	return each_row(s, q, qlog_row, &e);
}

static int sq_presence_put(struct store *st, const struct store_presence *p)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_PRES_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, p->tenant_id);
	bind_text(q, 2, p->user_id);
	sqlite3_bind_int64(q, 3, p->ready);
	sqlite3_bind_int64(q, 4, p->reason);
	err = step_changes(s, q, sqlite3_bind_int64(q, 5, p->since_ms));
	return err < 0 ? err : 0;
}

static int sq_presence_del(struct store *st, const char *tenant_id, const char *user_id)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_PRES_DEL, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	err = step_changes(s, q, bind_text(q, 2, user_id));
	return err < 0 ? err : err ? 0 : -ENOENT;
}

static int presence_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_presence(SQ_ROW(q), e->tenant_id, (store_presence_h *)e->h, e->arg);
}

static int sq_presence_list(struct store *st, const char *tenant_id, store_presence_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_PRES_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return each_row(s, q, presence_row, &e);
}

static int sq_ivr_put(struct store *st, const char *tenant_id, const char *id, const char *json)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_IVR_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	bind_text(q, 2, id);
	return step_changes(s, q, bind_text(q, 3, json));
}

static int sq_ivr_get(struct store *st, const char *tenant_id, const char *id, char **jsonp)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_IVR_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	bind_text(q, 2, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(q, 0);
		size_t len = (size_t)sqlite3_column_bytes(q, 0);
		char *copy = v ? mem_alloc(len + 1) : NULL;

		if (copy) {
			memcpy(copy, v, len);
			copy[len] = '\0';
			*jsonp = copy;
		}
		err = copy ? 0 : -ENOMEM;
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	}
	stmt_done(q);
	return err;
}

static int sq_prune(struct store *st, enum store_kind kind, const char *tenant_id,
		    const char *const *keep, size_t n)
{
	static const enum stmt_id ids[] = {
	    [STORE_KIND_USER] = S_PRUNE_USER,	[STORE_KIND_QUEUE] = S_PRUNE_QUEUE,
	    [STORE_KIND_IVR] = S_PRUNE_IVR,	[STORE_KIND_NUMBER] = S_PRUNE_NUMBER,
	    [STORE_KIND_TRUNK] = S_PRUNE_TRUNK,
	};
	struct sq *s = sq_of(st);
	struct mbuf mb;
	sqlite3_stmt *q = NULL;
	int err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (err)
		goto out;
	err = stmt_get(s, ids[kind], &q);
	if (err)
		goto out;
	bind_text(q, 1, tenant_id);
	err = step_changes(s, q, bind_text(q, 2, (const char *)mb.buf));
out:
	mbuf_reset(&mb);
	return err;
}

static int sq_binding_put(struct store *st, const struct store_binding *b)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_BIND_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, b->tenant_id);
	bind_text(q, 2, b->aor);
	bind_text(q, 3, b->contact);
	sqlite3_bind_int64(q, 4, b->expires_at);
	bind_text(q, 5, b->call_id);
	sqlite3_bind_int64(q, 6, b->cseq);
	bind_text(q, 7, b->path);
	bind_text(q, 8, b->received);
	err = step_changes(s, q, bind_text(q, 9, b->instance));
	return err < 0 ? err : 0;
}

static int sq_binding_del(struct store *st, const char *tenant_id, const char *aor,
			  const char *contact)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_BIND_DEL, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	bind_text(q, 2, aor);
	err = step_changes(s, q, bind_text(q, 3, contact));
	return err < 0 ? err : err == 0 ? -ENOENT : 0;
}

static int sq_binding_expire(struct store *st, int64_t now)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_BIND_EXPIRE, &q);

	if (err)
		return err;
	return step_changes(s, q, sqlite3_bind_int64(q, 1, now));
}

/* Not each_row(): a walk returns the handler's return, not a count. */
static int sq_binding_list(struct store *st, store_binding_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_BIND_LIST, &q);

	if (err)
		return err;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = store_row_binding(SQ_ROW(q), h, arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_err(s, rc);
	stmt_done(q);
	return err;
}

static int sq_cdr_put(struct store *st, const struct store_cdr *c)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_CDR_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, c->uuid);
	bind_text(q, 2, c->tenant_id);
	bind_text(q, 3, c->caller);
	bind_text(q, 4, c->callee);
	bind_text(q, 5, c->route);
	bind_text(q, 6, c->ivr_path);
	bind_text(q, 7, c->agent);
	sqlite3_bind_int64(q, 8, c->start_ms);
	sqlite3_bind_int64(q, 9, c->answer_ms);
	sqlite3_bind_int64(q, 10, c->bridge_ms);
	sqlite3_bind_int64(q, 11, c->end_ms);
	bind_text(q, 12, c->hangup_side);
	sqlite3_bind_int64(q, 13, c->status);
	bind_text(q, 14, c->cause);
	err = step_changes(s, q, bind_text(q, 15, c->recording));
	return err < 0 ? err : 0;
}

static int cdr_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_cdr(SQ_ROW(q), (store_cdr_h *)e->h, e->arg);
}

static int sq_cdr_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
		       store_cdr_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_CDR_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	sqlite3_bind_int64(q, 2, from_ms);
	sqlite3_bind_int64(q, 3, to_ms);
	return each_row(s, q, cdr_row, &e);
}

static int sq_recording_put(struct store *st, const struct store_recording *r)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_REC_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, r->path);
	bind_text(q, 2, r->tenant_id);
	bind_text(q, 3, r->call_uuid);
	sqlite3_bind_int64(q, 4, r->duration_ms);
	sqlite3_bind_int64(q, 5, r->bytes);
	bind_text(q, 6, r->sha256);
	err = step_changes(s, q, sqlite3_bind_int64(q, 7, r->created_ms));
	return err < 0 ? err : 0;
}

static int sq_recording_get(struct store *st, const char *path, struct store_recording *out)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_REC_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, path);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *t = col_str(q, 0), *u = col_str(q, 1), *h = col_str(q, 4);

		if (!t || !u || !h)
			err = -ENOMEM;
		else {
			snprintf(out->tenant_buf, sizeof(out->tenant_buf), "%s", t);
			snprintf(out->uuid_buf, sizeof(out->uuid_buf), "%s", u);
			snprintf(out->sha256_buf, sizeof(out->sha256_buf), "%s", h);
			out->path = path;
			out->tenant_id = out->tenant_buf;
			out->call_uuid = out->uuid_buf;
			out->sha256 = out->sha256_buf;
			out->duration_ms = sqlite3_column_int64(q, 2);
			out->bytes = sqlite3_column_int64(q, 3);
			out->created_ms = sqlite3_column_int64(q, 5);
		}
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	}
	stmt_done(q);
	return err;
}

/* Text column @col into @dst: "" for NULL, -EMSGSIZE when it does not fit
 * (never cut: a cut JSON or hash would be wrong, not short). */
static int copy_fit(char *dst, size_t size, sqlite3_stmt *q, int col)
{
	const unsigned char *v = sqlite3_column_text(q, col);
	size_t len = (size_t)sqlite3_column_bytes(q, col);

	if (!v) {
		dst[0] = '\0';
		return sqlite3_column_type(q, col) == SQLITE_NULL ? 0 : -ENOMEM;
	}
	if (len >= size)
		return -EMSGSIZE;
	memcpy(dst, v, len + 1);
	return 0;
}

static int sq_user_get(struct store *st, const char *tenant_id, const char *user_id,
		       struct store_user_row *out)
{
	struct sq *s = sq_of(st);
	struct store_user_row r;
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_USER_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	bind_text(q, 2, user_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		r.skills = NULL;
		err = strlen(tenant_id) < sizeof(r.tenant_id) && strlen(user_id) < sizeof(r.id)
			  ? 0
			  : -EMSGSIZE;
		err = err ? err : copy_fit(r.name, sizeof(r.name), q, 0);
		err = err ? err : copy_fit(r.roles, sizeof(r.roles), q, 1);
		err = err ? err : copy_fit(r.pw_hash, sizeof(r.pw_hash), q, 3);
		err = err ? err : copy_fit(r.realm, sizeof(r.realm), q, 4);
		err = err ? err : copy_fit(r.ha1_sha256, sizeof(r.ha1_sha256), q, 5);
		err = err ? err : col_dup(q, 2, &r.skills);
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	}
	stmt_done(q);
	if (!err) {
		snprintf(r.tenant_id, sizeof(r.tenant_id), "%s", tenant_id);
		snprintf(r.id, sizeof(r.id), "%s", user_id);
		*out = r;
	}
	return err;
}

static int sq_operator_put(struct store *st, const struct store_operator *op)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_OP_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, op->id);
	bind_text(q, 2, op->name);
	return step_changes(s, q, bind_text(q, 3, op->pw_hash[0] ? op->pw_hash : NULL));
}

static int sq_operator_get(struct store *st, const char *id, struct store_operator *out)
{
	struct sq *s = sq_of(st);
	struct store_operator op;
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_OP_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		err = strlen(id) < sizeof(op.id) ? 0 : -EMSGSIZE;
		err = err ? err : copy_fit(op.name, sizeof(op.name), q, 0);
		err = err ? err : copy_fit(op.pw_hash, sizeof(op.pw_hash), q, 1);
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	}
	stmt_done(q);
	if (!err) {
		snprintf(op.id, sizeof(op.id), "%s", id);
		*out = op;
	}
	return err;
}

/* The operators and their tokens go together: hence the savepoint. */
static int sq_operator_prune(struct store *st, const char *const *keep, size_t n)
{
	struct sq *s = sq_of(st);
	struct mbuf mb;
	sqlite3_stmt *q = NULL;
	int deleted = 0, err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (err)
		goto out;
	err = exec_simple(s, S_SAVEPOINT);
	if (err)
		goto out;
	err = stmt_get(s, S_PRUNE_OPERATOR, &q);
	if (!err) {
		deleted = step_changes(s, q, bind_text(q, 1, (const char *)mb.buf));
		err = deleted < 0 ? deleted : 0;
	}
	if (!err)
		err = exec_simple(s, S_OP_TOKENS_DEL);
	err = savepoint_end(s, err);
out:
	mbuf_reset(&mb);
	return err ? err : deleted;
}

static int sq_token_put(struct store *st, const struct store_token *t)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_TOKEN_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, t->hash);
	bind_text(q, 2, t->tenant_id);
	bind_text(q, 3, t->user_id);
	bind_text(q, 4, t->roles);
	sqlite3_bind_int64(q, 5, t->created_ms);
	n = step_changes(s, q, sqlite3_bind_int64(q, 6, t->expires_ms));
	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int sq_token_get(struct store *st, const char *hash, struct store_token *out)
{
	struct sq *s = sq_of(st);
	struct store_token t;
	sqlite3_stmt *q = NULL;
	int rc, err = stmt_get(s, S_TOKEN_GET, &q);

	if (err)
		return err;
	bind_text(q, 1, hash);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		err = strlen(hash) < sizeof(t.hash_buf) ? 0 : -EMSGSIZE;
		err = err ? err : copy_fit(t.tenant_buf, sizeof(t.tenant_buf), q, 0);
		err = err ? err : copy_fit(t.user_buf, sizeof(t.user_buf), q, 1);
		err = err ? err : copy_fit(t.roles_buf, sizeof(t.roles_buf), q, 2);
		t.tenant_id = sqlite3_column_type(q, 0) == SQLITE_NULL ? NULL : out->tenant_buf;
		t.created_ms = sqlite3_column_int64(q, 3);
		t.expires_ms = sqlite3_column_int64(q, 4);
		t.revoked = sqlite3_column_int64(q, 5) != 0;
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : sq_err(s, rc);
	}
	stmt_done(q);
	if (!err) {
		snprintf(t.hash_buf, sizeof(t.hash_buf), "%s", hash);
		*out = t;
		out->hash = out->hash_buf;
		out->user_id = out->user_buf;
		out->roles = out->roles_buf;
	}
	return err;
}

static int sq_token_revoke(struct store *st, const char *hash)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_TOKEN_REVOKE, &q);

	if (err)
		return err;
	n = step_changes(s, q, bind_text(q, 1, hash));
	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int sq_token_revoke_user(struct store *st, const char *tenant_id, const char *user_id)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TOKEN_REVOKE_USER, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return step_changes(s, q, bind_text(q, 2, user_id));
}

static int sq_token_prune(struct store *st, int64_t now_ms)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_TOKEN_PRUNE, &q);

	if (err)
		return err;
	return step_changes(s, q, sqlite3_bind_int64(q, 1, now_ms));
}

static int sq_audit_put(struct store *st, const struct store_audit *a)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_AUDIT_PUT, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, a->time_ms);
	bind_text(q, 2, a->tenant_id);
	bind_text(q, 3, a->actor);
	bind_text(q, 4, a->action);
	bind_text(q, 5, a->object);
	err = step_changes(s, q, bind_text(q, 6, a->detail));
	return err < 0 ? err : 0;
}

static int audit_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_audit(SQ_ROW(q), (store_audit_h *)e->h, e->arg);
}

static int sq_audit_list(struct store *st, const char *tenant_id, int64_t from_ms, int64_t to_ms,
			 int64_t after_id, unsigned limit, store_audit_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, tenant_id ? S_AUDIT_LIST : S_AUDIT_LIST_ALL, &q);

	if (err)
		return err;
	if (tenant_id)
		bind_text(q, 1, tenant_id);
	sqlite3_bind_int64(q, 2, from_ms);
	sqlite3_bind_int64(q, 3, to_ms);
	sqlite3_bind_int64(q, 4, after_id);
	sqlite3_bind_int64(q, 5, limit);
	return each_row(s, q, audit_row, &e);
}

static int sq_webhook_put(struct store *st, const struct store_webhook *w)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_HOOK_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, w->tenant_id);
	bind_text(q, 2, w->id);
	bind_text(q, 3, w->url);
	bind_text(q, 4, w->secret);
	return step_changes(s, q, bind_text(q, 5, w->events));
}

static int webhook_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_webhook(SQ_ROW(q), e->tenant_id, (store_webhook_h *)e->h, e->arg);
}

static int sq_webhook_list(struct store *st, const char *tenant_id, store_webhook_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_HOOK_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return each_row(s, q, webhook_row, &e);
}

static int sq_webhook_prune(struct store *st, const char *tenant_id, const char *const *keep,
			    size_t n)
{
	struct sq *s = sq_of(st);
	struct mbuf mb;
	sqlite3_stmt *q = NULL;
	int err;

	mbuf_init(&mb, 0);
	err = store_json_strings(&mb, keep, n);
	if (!err)
		err = stmt_get(s, S_PRUNE_HOOK, &q);
	if (!err) {
		bind_text(q, 1, tenant_id);
		err = step_changes(s, q, bind_text(q, 2, (const char *)mb.buf));
	}
	mbuf_reset(&mb);
	return err;
}

static int sq_outbox_put(struct store *st, const struct store_outbox *o, int64_t *idp)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_OUTBOX_PUT, &q);

	if (err)
		return err;
	bind_text(q, 1, o->tenant_id);
	bind_text(q, 2, o->webhook_id);
	bind_text(q, 3, o->event_id);
	bind_text(q, 4, o->type);
	bind_text(q, 5, o->body);
	sqlite3_bind_int64(q, 6, o->created_ms);
	n = step_changes(s, q, sqlite3_bind_int64(q, 7, o->next_ms));
	if (n < 0)
		return n;
	if (idp)
		*idp = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int outbox_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_outbox(SQ_ROW(q), (store_outbox_h *)e->h, e->arg);
}

static int sq_outbox_due(struct store *st, int64_t now_ms, unsigned limit, store_outbox_h *h,
			 void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {NULL, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_OUTBOX_DUE, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, now_ms);
	sqlite3_bind_int64(q, 2, limit);
	return each_row(s, q, outbox_row, &e);
}

static int sq_outbox_done(struct store *st, int64_t id)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_OUTBOX_DONE, &q);

	if (err)
		return err;
	n = step_changes(s, q, sqlite3_bind_int64(q, 1, id));
	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int sq_outbox_retry(struct store *st, int64_t id, uint32_t attempts, int64_t next_ms,
			   const char *last_error, bool fail)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_OUTBOX_RETRY, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, attempts);
	sqlite3_bind_int64(q, 3, next_ms);
	bind_text(q, 4, last_error);
	n = step_changes(s, q, bind_text(q, 5, fail ? "failed" : "pending"));
	return n < 0 ? n : n ? 0 : -ENOENT;
}

static int sq_outbox_list(struct store *st, const char *tenant_id, int64_t after_id, unsigned limit,
			  store_outbox_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_OUTBOX_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	sqlite3_bind_int64(q, 2, after_id);
	sqlite3_bind_int64(q, 3, limit);
	return each_row(s, q, outbox_row, &e);
}

static int sq_cdr_wrapup(struct store *st, const char *tenant_id, const char *uuid,
			 const char *agent, const char *disposition, const char *notes)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_CDR_WRAPUP, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	bind_text(q, 2, uuid);
	bind_text(q, 3, agent);
	bind_text(q, 4, disposition);
	return step_changes(s, q, bind_text(q, 5, notes));
}

static int number_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_number(SQ_ROW(q), (store_number_h *)e->h, e->arg);
}

static int sq_number_list(struct store *st, const char *tenant_id, store_number_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_NUMBER_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	return each_row(s, q, number_row, &e);
}

static int recording_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_recording(SQ_ROW(q), (store_recording_h *)e->h, e->arg);
}

static int sq_recording_list(struct store *st, const char *tenant_id, const char *call_uuid,
			     int64_t from_ms, int64_t to_ms, store_recording_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, call_uuid ? S_REC_LIST_CALL : S_REC_LIST, &q);

	if (err)
		return err;
	bind_text(q, 1, tenant_id);
	if (call_uuid) {
		bind_text(q, 2, call_uuid);
	} else {
		sqlite3_bind_int64(q, 2, from_ms);
		sqlite3_bind_int64(q, 3, to_ms);
	}
	return each_row(s, q, recording_row, &e);
}

static int sq_seat_request_add(struct store *st, const struct store_seat_request *r, int64_t *idp)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int n, err = stmt_get(s, S_SEAT_ADD, &q);

	if (err)
		return err;
	bind_text(q, 1, r->tenant_id);
	sqlite3_bind_int64(q, 2, r->seats);
	bind_text(q, 3, r->reason ? r->reason : "");
	bind_text(q, 4, r->requested_by);
	n = step_changes(s, q, sqlite3_bind_int64(q, 5, r->created_ms));
	if (n < 0)
		return n;
	if (idp)
		*idp = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int seat_row(sqlite3_stmt *q, const struct each *e)
{
	return store_row_seat_request(SQ_ROW(q), (store_seat_request_h *)e->h, e->arg);
}

/* By tenant (or every tenant's) newest first, or the one with @id (> 0). */
static int sq_seat_request_list(struct store *st, const char *tenant_id, int64_t id, unsigned limit,
				store_seat_request_h *h, void *arg)
{
	struct sq *s = sq_of(st);
	struct each e = {tenant_id, (void *)h, arg};
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, id > 0 ? S_SEAT_GET : tenant_id ? S_SEAT_LIST : S_SEAT_LIST_ALL, &q);

	if (err)
		return err;
	if (id > 0) {
		sqlite3_bind_int64(q, 1, id);
	} else if (tenant_id) {
		bind_text(q, 1, tenant_id);
		sqlite3_bind_int64(q, 2, limit);
	} else {
		sqlite3_bind_int64(q, 1, limit);
	}
	return each_row(s, q, seat_row, &e);
}

static int sq_seat_request_set(struct store *st, int64_t id, const char *status, const char *by,
			       int64_t now_ms)
{
	struct sq *s = sq_of(st);
	sqlite3_stmt *q = NULL;
	int err = stmt_get(s, S_SEAT_SET, &q);

	if (err)
		return err;
	sqlite3_bind_int64(q, 1, id);
	bind_text(q, 2, status);
	bind_text(q, 3, by);
	return step_changes(s, q, sqlite3_bind_int64(q, 4, now_ms));
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .tenant_put = sq_tenant_put,
    .tenant_get = sq_tenant_get,
    .tenant_release_domain = sq_tenant_release_domain,
    .calendar_put = sq_calendar_put,
    .calendar_get = sq_calendar_get,
    .recording_policy_put = sq_recpol_put,
    .recording_policy_get = sq_recpol_get,
    .pause_reasons_put = sq_pause_put,
    .pause_reasons_get = sq_pause_get,
    .queue_list = sq_queue_list,
    .tenant_list = sq_tenant_list,
    .user_list = sq_user_list,
    .qlog_append = sq_qlog_append,
    .qlog_list = sq_qlog_list,
    .presence_put = sq_presence_put,
    .presence_del = sq_presence_del,
    .presence_list = sq_presence_list,
    .trunk_put = sq_trunk_put,
    .trunk_sources = sq_trunk_sources,
    .number_put = sq_number_put,
    .number_get = sq_number_get,
    .user_put = sq_user_put,
    .user_get_ha1 = sq_user_get_ha1,
    .queue_put = sq_queue_put,
    .ivr_put = sq_ivr_put,
    .ivr_get = sq_ivr_get,
    .prune = sq_prune,
    .binding_put = sq_binding_put,
    .binding_del = sq_binding_del,
    .binding_expire = sq_binding_expire,
    .binding_list = sq_binding_list,
    .cdr_put = sq_cdr_put,
    .cdr_list = sq_cdr_list,
    .recording_put = sq_recording_put,
    .recording_get = sq_recording_get,
    .recording_list = sq_recording_list,
    .number_list = sq_number_list,
    .cdr_wrapup = sq_cdr_wrapup,
    .seat_request_add = sq_seat_request_add,
    .seat_request_list = sq_seat_request_list,
    .seat_request_set = sq_seat_request_set,
    .user_get = sq_user_get,
    .operator_put = sq_operator_put,
    .operator_get = sq_operator_get,
    .operator_prune = sq_operator_prune,
    .token_put = sq_token_put,
    .token_get = sq_token_get,
    .token_revoke = sq_token_revoke,
    .token_revoke_user = sq_token_revoke_user,
    .token_prune = sq_token_prune,
    .audit_put = sq_audit_put,
    .audit_list = sq_audit_list,
    .webhook_put = sq_webhook_put,
    .webhook_list = sq_webhook_list,
    .webhook_prune = sq_webhook_prune,
    .outbox_put = sq_outbox_put,
    .outbox_due = sq_outbox_due,
    .outbox_done = sq_outbox_done,
    .outbox_retry = sq_outbox_retry,
    .outbox_list = sq_outbox_list,
};

int store_schema_latest(void)
{
	return migrations[NMIGRATIONS - 1].version;
}

/* Each pending migration in its own IMMEDIATE transaction, re-reading the
 * version inside it: two processes opening a new file at once both end up
 * with one schema, applied once. */
static int migrate(struct sq *s, char *errbuf, size_t errlen)
{
	int rc, v, first = -1, err = 0;

	rc = sqlite3_exec(s->db,
			  "CREATE TABLE IF NOT EXISTS schema_version ("
			  " version INTEGER PRIMARY KEY,"
			  " applied_at TEXT NOT NULL DEFAULT (datetime('now')))",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot read the database: %s", sqlite3_errmsg(s->db));
		return rc == SQLITE_NOTADB ? -EPROTO : sq_err(s, rc);
	}
	for (size_t i = 0; i < NMIGRATIONS; i++) {
		char ins[96];

		rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
		v = sq_schema_version(&s->st);
		if (v < 0) {
			err = v;
			goto fail;
		}
		if (first < 0)
			first = v;
		if (v > store_schema_latest()) {
			snprintf(errbuf, errlen,
				 "database schema version %d is newer than this binary's (%d)", v,
				 store_schema_latest());
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -EPROTO;
		}
		if (v < migrations[i].version) {
			snprintf(ins, sizeof(ins),
				 "INSERT INTO schema_version (version) VALUES (%d)",
				 migrations[i].version);
			rc = sqlite3_exec(s->db, migrations[i].sql, NULL, NULL, NULL);
			if (rc == SQLITE_OK)
				rc = sqlite3_exec(s->db, ins, NULL, NULL, NULL);
			if (rc != SQLITE_OK)
				goto fail;
			/* Upgrading existing data is worth an operator's notice;
			 * creating a new file is not. */
			if (first > 0)
				log_info("schema migrated from version %d to %d", v,
					 migrations[i].version);
			else
				log_debug("schema created at version %d", migrations[i].version);
		}
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	return 0;
fail:
	snprintf(errbuf, errlen, "schema migration failed: %s", sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err ? err : sq_err(s, rc);
}

int store_sqlite_open(struct store **stp, const char *path, char *errbuf, size_t errlen)
{
	char dummy[1];
	struct sq *s;
	int rc, err;

	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	s = mem_zalloc(sizeof(*s));
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	s->st.ops = &sqlite_ops;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot open database %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		err = rc == SQLITE_CANTOPEN ? -EACCES : sq_err(s, rc);
		goto out;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* WAL: readers never block the writer. synchronous=FULL: COMMIT returns
	 * only once the WAL is on disk (NORMAL could lose the last commits on
	 * power loss, and DESIGN §6 says acknowledged data survives). */
	rc = sqlite3_exec(s->db,
			  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			  " PRAGMA foreign_keys = ON;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot use database %s: %s", path, sqlite3_errmsg(s->db));
		err = (rc & 0xff) == SQLITE_NOTADB ? -EPROTO : sq_err(s, rc);
		goto out;
	}
	err = migrate(s, errbuf, errlen);
out:
	if (err)
		sq_close(&s->st);
	else
		*stp = &s->st;
	return err;
}
