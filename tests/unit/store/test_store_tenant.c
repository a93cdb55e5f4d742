/*
 * Unit tests for the tenant settings of schema version 3, in SQLite (or in
 * PostgreSQL with SHENGGU_TEST_PG: tmpdb.h): a version 2 database migrated
 * in place (existing tenants get "UTC" and an empty calendar), the time
 * zone column, calendar put/get (1 when written, 0 when equal, -ENOENT for
 * no tenant, JSON checked by the schema), and trunks: put, prune, the
 * source walk, and store_trunk_allowed() with its three verdicts and a
 * damaged row skipped; and the recording policy of schema version 5 (a
 * version 4 file migrated: existing tenants record nothing; put/get like
 * the calendar's).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static struct store_tenant tenant(const char *id, const char *domain, const char *tz)
{
	struct store_tenant t = {.seats = 1};

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.name, sizeof(t.name), "Tenant %s", id);
	snprintf(t.domain, sizeof(t.domain), "%s", domain);
	snprintf(t.timezone, sizeof(t.timezone), "%s", tz);
	return t;
}

/*
 * The PostgreSQL counterpart of the old files below: the tables later
 * migrations alter or refer to (PostgreSQL checks a foreign key's table
 * when it is created, SQLite only when it is used).
 */
#define PG_OLD_SCHEMA                                                                  \
	"CREATE TABLE schema_version (version BIGINT PRIMARY KEY,"                     \
	" applied_at TIMESTAMPTZ NOT NULL DEFAULT now());"                             \
	"CREATE TABLE tenants (id TEXT COLLATE \"C\" PRIMARY KEY, name TEXT NOT NULL," \
	" domain TEXT COLLATE \"C\" NOT NULL UNIQUE, seats BIGINT NOT NULL,"           \
	" district TEXT NOT NULL, park TEXT NOT NULL);"                                \
	"CREATE TABLE users (tenant_id TEXT COLLATE \"C\", id TEXT COLLATE \"C\","     \
	" PRIMARY KEY (tenant_id, id));"                                               \
	"CREATE TABLE queues (tenant_id TEXT NOT NULL, id TEXT NOT NULL);"

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in s = {.sin_family = AF_INET};

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

TEST(test_store_migrate_v2_to_v3)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant t;
	char *cal = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	/* What a version 2 file holds, as far as tenants go. */
	if (tmpdb_pg(&db))
		TEST_ERR(tmpdb_exec(
		    &db, PG_OLD_SCHEMA
		    "INSERT INTO schema_version (version) VALUES (1), (2);"
		    "INSERT INTO tenants VALUES ('old', 'Old', 'old.example', 3, '', '');"));
	else
		TEST_ERR(tmpdb_exec(
		    &db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
			 " applied_at TEXT NOT NULL DEFAULT (datetime('now')));"
			 "INSERT INTO schema_version (version) VALUES (1), (2);"
			 "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
			 " domain TEXT NOT NULL UNIQUE, seats INTEGER NOT NULL,"
			 " district TEXT NOT NULL, park TEXT NOT NULL);"
			 "CREATE TABLE queues (tenant_id TEXT NOT NULL, id TEXT NOT NULL);"
			 "CREATE TABLE users (tenant_id TEXT NOT NULL, id TEXT NOT NULL,"
			 " PRIMARY KEY (tenant_id, id));"
			 "INSERT INTO tenants VALUES ('old', 'Old', 'old.example', 3, '', '');"));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	TEST_ASSERT(store_schema_latest() >= 3);
	TEST_ERR(store_tenant_get(st, "old", &t));
	TEST_ASSERT(!strcmp(t.timezone, "UTC"));
	TEST_EQUALS(3, t.seats);
	TEST_ERR(store_tenant_calendar_get(st, "old", &cal));
	TEST_ASSERT(!strcmp(cal, "{}"));
out:
	mem_free(cal);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_migrate_v4_to_v5)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char *pol = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	/* What a version 4 file holds, as far as tenants go. */
	if (tmpdb_pg(&db))
		TEST_ERR(tmpdb_exec(
		    &db, PG_OLD_SCHEMA
		    "CREATE TABLE recordings (tenant_id TEXT NOT NULL, call_uuid TEXT NOT NULL);"
		    "CREATE TABLE cdrs (uuid TEXT PRIMARY KEY);"
		    "INSERT INTO schema_version (version) VALUES (1), (2), (3), (4);"
		    "ALTER TABLE tenants ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC',"
		    " ADD COLUMN calendar TEXT NOT NULL DEFAULT '{}';"
		    "INSERT INTO tenants (id, name, domain, seats, district, park)"
		    " VALUES ('old', 'Old', 'old.example', 3, '', '');"));
	else
		TEST_ERR(tmpdb_exec(
		    &db,
		    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
		    " applied_at TEXT NOT NULL DEFAULT (datetime('now')));"
		    "INSERT INTO schema_version (version) VALUES (1), (2), (3), (4);"
		    "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
		    " domain TEXT NOT NULL UNIQUE, seats INTEGER NOT NULL,"
		    " district TEXT NOT NULL, park TEXT NOT NULL,"
		    " timezone TEXT NOT NULL DEFAULT 'UTC', calendar TEXT NOT NULL DEFAULT '{}');"
		    "CREATE TABLE queues (tenant_id TEXT NOT NULL, id TEXT NOT NULL);"
		    "CREATE TABLE recordings (tenant_id TEXT NOT NULL, call_uuid TEXT NOT NULL);"
		    "CREATE TABLE cdrs (uuid TEXT PRIMARY KEY);"
		    "CREATE TABLE users (tenant_id TEXT NOT NULL, id TEXT NOT NULL,"
		    " PRIMARY KEY (tenant_id, id));"
		    "INSERT INTO tenants (id, name, domain, seats, district, park)"
		    " VALUES ('old', 'Old', 'old.example', 3, '', '');"));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	TEST_ASSERT(store_schema_latest() >= 5);
	/* Tenants from before policies existed record nothing. */
	TEST_ERR(store_tenant_recording_get(st, "old", &pol));
	TEST_ASSERT(!strcmp(pol, "\"none\""));
out:
	mem_free(pol);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_recording_policy)
{
	struct store_tenant a = tenant("acme", "acme.example", "UTC");
	struct tmpdb db = {0};
	struct store *st = NULL;
	char *pol = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_ERR(store_tenant_recording_get(st, "acme", &pol));
	TEST_ASSERT(!strcmp(pol, "\"none\""));
	mem_free(pol);
	pol = NULL;
	TEST_EQUALS(1, store_tenant_recording_put(st, "acme", "{\"queues\":[\"loans\"]}"));
	TEST_EQUALS(0, store_tenant_recording_put(st, "acme", "{\"queues\":[\"loans\"]}"));
	TEST_ERR(store_tenant_recording_get(st, "acme", &pol));
	TEST_ASSERT(!strcmp(pol, "{\"queues\":[\"loans\"]}"));
	/* The tenant row itself is put again unchanged: the policy stays. */
	TEST_EQUALS(0, store_tenant_put(st, &a));
	TEST_EQUALS(0, store_tenant_recording_put(st, "acme", "{\"queues\":[\"loans\"]}"));
	TEST_EQUALS(1, store_tenant_recording_put(st, "acme", "\"all\""));
	TEST_EQUALS(-ENOENT, store_tenant_recording_put(st, "nobody", "\"all\""));
	TEST_EQUALS(-ENOENT, store_tenant_recording_get(st, "nobody", &pol));
	TEST_EQUALS(-EINVAL, store_tenant_recording_put(st, "acme", "all"));
	TEST_EQUALS(-EINVAL, store_tenant_recording_put(st, "acme", NULL));
	TEST_EQUALS(-EINVAL, store_tenant_recording_get(st, NULL, &pol));
out:
	mem_free(pol);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_timezone_and_calendar)
{
	struct store_tenant a = tenant("acme", "acme.example", "Asia/Shanghai"), got;
	struct store_tenant b = tenant("globex", "globex.example", "");
	struct tmpdb db = {0};
	struct store *st = NULL;
	char *cal = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(0, store_tenant_put(st, &a));
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_ASSERT(!strcmp(got.timezone, "Asia/Shanghai"));
	snprintf(a.timezone, sizeof(a.timezone), "America/New_York");
	TEST_EQUALS(1, store_tenant_put(st, &a));
	/* No zone given: stored as UTC, and equal on the next put. */
	TEST_EQUALS(1, store_tenant_put(st, &b));
	TEST_EQUALS(0, store_tenant_put(st, &b));
	TEST_ERR(store_tenant_by_domain(st, "globex.example", &got));
	TEST_ASSERT(!strcmp(got.timezone, "UTC"));

	TEST_EQUALS(1, store_tenant_calendar_put(st, "acme", "{\"hours\":{\"mon\":[]}}"));
	TEST_EQUALS(0, store_tenant_calendar_put(st, "acme", "{\"hours\":{\"mon\":[]}}"));
	TEST_ERR(store_tenant_calendar_get(st, "acme", &cal));
	TEST_ASSERT(!strcmp(cal, "{\"hours\":{\"mon\":[]}}"));
	TEST_EQUALS(-ENOENT, store_tenant_calendar_put(st, "nobody", "{}"));
	TEST_EQUALS(-ENOENT, store_tenant_calendar_get(st, "nobody", &cal));
	TEST_EQUALS(-EINVAL, store_tenant_calendar_put(st, "acme", "{not json"));
	TEST_EQUALS(-EINVAL, store_tenant_calendar_put(st, NULL, "{}"));
out:
	mem_free(cal);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

struct walk {
	char seen[512];
	int stop_after;
};

static int walk_h(const char *trunk, const char *cidr, void *arg)
{
	struct walk *w = arg;
	size_t len = strlen(w->seen);

	snprintf(w->seen + len, sizeof(w->seen) - len, "%s=%s;", trunk, cidr);
	return --w->stop_after == 0 ? 7 : 0;
}

TEST(test_store_trunks)
{
	struct store_tenant a = tenant("acme", "acme.example", "UTC");
	struct store_trunk t1 = {"acme", "pbx", "[\"192.0.2.10/32\"]"};
	struct store_trunk t2 = {"acme", "carrier", "[\"198.51.100.0/24\",\"2001:db8::/32\"]"};
	struct store_trunk bad = {"acme", "broken", "[\"not-an-address\"]"};
	struct sockaddr_in s = v4("198.51.100.9");
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct walk w = {.stop_after = -1};
	const char *keep[] = {"carrier", "broken"};
	char id[STORE_ID_SIZE];
	struct tmpdb db = {0};
	struct store *st = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(-ENOENT, store_trunk_put(st, &t1)); /* no tenant yet */
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(STORE_TRUNK_NONE, store_trunk_allowed(st, "acme", (struct sockaddr *)&s, id));
	TEST_EQUALS(1, store_trunk_put(st, &t1));
	TEST_EQUALS(0, store_trunk_put(st, &t1));
	TEST_EQUALS(1, store_trunk_put(st, &t2));
	TEST_ERR(store_trunk_sources(st, "acme", walk_h, &w));
	TEST_ASSERT(!strcmp(w.seen, "carrier=198.51.100.0/24;carrier=2001:db8::/32;"
				    "pbx=192.0.2.10/32;"));
	w = (struct walk){.stop_after = 1};
	TEST_EQUALS(7, store_trunk_sources(st, "acme", walk_h, &w));
	TEST_EQUALS(STORE_TRUNK_ALLOWED,
		    store_trunk_allowed(st, "acme", (struct sockaddr *)&s, id));
	TEST_ASSERT(!strcmp(id, "carrier"));
	inet_pton(AF_INET6, "2001:db8:1::5", &s6.sin6_addr);
	TEST_EQUALS(STORE_TRUNK_ALLOWED,
		    store_trunk_allowed(st, "acme", (struct sockaddr *)&s6, NULL));
	s = v4("203.0.113.5");
	TEST_EQUALS(STORE_TRUNK_DENIED, store_trunk_allowed(st, "acme", (struct sockaddr *)&s, id));
	/* A damaged row is skipped, the others still answer. */
	TEST_EQUALS(1, store_trunk_put(st, &bad));
	s = v4("192.0.2.10");
	TEST_EQUALS(STORE_TRUNK_ALLOWED,
		    store_trunk_allowed(st, "acme", (struct sockaddr *)&s, id));
	TEST_ASSERT(!strcmp(id, "pbx"));
	/* Prune keeps what is listed. */
	TEST_EQUALS(1, store_prune(st, STORE_KIND_TRUNK, "acme", keep, 2));
	TEST_EQUALS(STORE_TRUNK_DENIED, store_trunk_allowed(st, "acme", (struct sockaddr *)&s, id));
	TEST_EQUALS(-EINVAL, store_trunk_allowed(st, "acme", NULL, id));
	TEST_EQUALS(-EINVAL, store_trunk_put(st, &(struct store_trunk){"acme", "x", "nope"}));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
