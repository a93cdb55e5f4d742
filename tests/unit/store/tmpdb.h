/*
 * tmpdb: helpers shared by the store and provisioning tests: a database
 * file in a fresh mkdtemp folder (removed with everything in it), and a
 * dump of every table as text, to compare the stored state before and after.
 * The dump and the raw connection use SQLite's own allocator, so they never
 * count as the code under test's allocations.
 */
#ifndef TEST_TMPDB_H
#define TEST_TMPDB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

struct tmpdb {
	char dir[64];
	char path[128]; /* the database file */
	char url[160];	/* "sqlite:" + path */
};

static inline int tmpdb_init(struct tmpdb *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/shenggu-test-XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -errno;
	}
	snprintf(t->path, sizeof(t->path), "%s/shenggu.db", t->dir);
	snprintf(t->url, sizeof(t->url), "sqlite:%s", t->path);
	return 0;
}

static inline void tmpdb_cleanup(struct tmpdb *t)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[160];

	if (!t->dir[0])
		return;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, suffix[i]);
		unlink(p);
	}
	rmdir(t->dir);
	t->dir[0] = '\0';
}

/* Run @sql on a second connection to the file (what another process or a
 * fault would do). 0 or -EIO. */
static inline int tmpdb_exec(const struct tmpdb *t, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(t->path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/* Integer result of a one-value query, or -1. */
static inline long long tmpdb_int(const struct tmpdb *t, const char *sql)
{
	sqlite3_stmt *q = NULL;
	sqlite3 *db = NULL;
	long long v = -1;

	if (sqlite3_open(t->path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* Every row of every configuration table, in key order, as one string
 * (sqlite3_free() it), or NULL. */
static inline char *tmpdb_dump(const struct tmpdb *t)
{
	static const char *const tables[] = {
	    "SELECT * FROM tenants ORDER BY id",
	    "SELECT * FROM numbers ORDER BY number",
	    "SELECT * FROM users ORDER BY tenant_id, id",
	    "SELECT * FROM credentials ORDER BY tenant_id, user_id, alg",
	    "SELECT * FROM queues ORDER BY tenant_id, id",
	    "SELECT * FROM ivr ORDER BY tenant_id, id",
	    "SELECT * FROM trunks ORDER BY tenant_id, id",
	    "SELECT * FROM bindings ORDER BY tenant_id, aor, contact",
	};
	sqlite3_str *s = sqlite3_str_new(NULL);
	sqlite3 *db = NULL;

	if (sqlite3_open(t->path, &db) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		sqlite3_stmt *q = NULL;

		sqlite3_str_appendf(s, "-- %s\n", tables[i]);
		if (sqlite3_prepare_v2(db, tables[i], -1, &q, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(q) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(q); c++)
				sqlite3_str_appendf(s, "%s|", sqlite3_column_text(q, c));
			sqlite3_str_appendf(s, "\n");
		}
		sqlite3_finalize(q);
	}
out:
	sqlite3_close(db);
	return sqlite3_str_finish(s);
}

#endif
