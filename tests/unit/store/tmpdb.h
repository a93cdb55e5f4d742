/*
 * tmpdb: helpers shared by the store and provisioning tests: a database
 * file in a fresh mkdtemp folder (removed with everything in it), and a
 * dump of every table as text, to compare the stored state before and after.
 * The dump and the raw connection use SQLite's own allocator, so they never
 * count as the code under test's allocations.
 *
 * With SHENGGU_TEST_PG set to a PostgreSQL URL (without options=, e.g.
 * postgresql://shenggu@127.0.0.1:54329/shenggu_test), every tmpdb is a
 * fresh schema in that database instead, dropped by tmpdb_cleanup(), and
 * url selects it through search_path: the same tests then run against the
 * PostgreSQL backend (tests/system/test_store_pg.sh). tmpdb_exec(),
 * tmpdb_int() and tmpdb_dump() go through libpq then (its allocations are
 * not ours either); tmpdb_pg() tells a test which SQL dialect to speak.
 */
#ifndef TEST_TMPDB_H
#define TEST_TMPDB_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

struct tmpdb {
	char dir[64];
	char path[128];	  /* the database file */
	char url[640];	  /* "sqlite:" + path, or the PostgreSQL URL with search_path */
	char schema[48];  /* PostgreSQL: the test's schema, "" for SQLite */
	char server[512]; /* PostgreSQL: $SHENGGU_TEST_PG */
};

static inline bool tmpdb_pg(const struct tmpdb *t)
{
	return t->schema[0] != '\0';
}

static inline void tmpdb_pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Run @sql (constant test SQL, several statements allowed) on a connection
 * of its own to @url. 0, or -EIO with the server's message on stderr. */
static inline int tmpdb_pg_exec(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	ExecStatusType s;
	int err;

	PQsetNoticeProcessor(c, tmpdb_pg_quiet, NULL); /* "drop cascades to..." */
	r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
	s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	err = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -EIO;
	if (err)
		fprintf(stderr, "  tmpdb: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return err;
}

static inline int tmpdb_pg_init(struct tmpdb *t, const char *server)
{
	static unsigned seq;
	char sql[160];

	snprintf(t->server, sizeof(t->server), "%s", server);
	/* Each test file has its own copy of seq: its address tells them apart. */
	snprintf(t->schema, sizeof(t->schema), "t%ld_%lx_%u", (long)getpid(),
		 (unsigned long)((uintptr_t)&seq >> 4 & 0xfffff), ++seq);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", t->schema,
		 t->schema);
	if (tmpdb_pg_exec(server, sql)) {
		t->schema[0] = '\0';
		return -EIO;
	}
	snprintf(t->url, sizeof(t->url), "%s%coptions=-csearch_path%%3D%s", server,
		 strchr(server, '?') ? '&' : '?', t->schema);
	return 0;
}

static inline int tmpdb_init(struct tmpdb *t)
{
	const char *pg = getenv("SHENGGU_TEST_PG");

	memset(t, 0, sizeof(*t));
	/* The folder also with PostgreSQL: tests keep files of their own there. */
	snprintf(t->dir, sizeof(t->dir), "/tmp/shenggu-test-XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -errno;
	}
	snprintf(t->path, sizeof(t->path), "%s/shenggu.db", t->dir);
	snprintf(t->url, sizeof(t->url), "sqlite:%s", t->path);
	if (pg && *pg && tmpdb_pg_init(t, pg)) {
		rmdir(t->dir);
		t->dir[0] = '\0';
		return -EIO;
	}
	return 0;
}

static inline void tmpdb_cleanup(struct tmpdb *t)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[160];

	if (tmpdb_pg(t)) {
		snprintf(p, sizeof(p), "DROP SCHEMA %s CASCADE", t->schema);
		tmpdb_pg_exec(t->server, p);
		t->schema[0] = '\0';
	}
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
	int rc;

	if (tmpdb_pg(t))
		return tmpdb_pg_exec(t->url, sql);
	rc = sqlite3_open(t->path, &db);
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

	if (tmpdb_pg(t)) {
		PGconn *c = PQconnectdb(t->url);
		PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return v;
	}
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

	if (tmpdb_pg(t)) {
		PGconn *c = PQconnectdb(t->url);

		for (size_t i = 0;
		     PQstatus(c) == CONNECTION_OK && i < sizeof(tables) / sizeof(tables[0]); i++) {
			PGresult *r = PQexec(c, tables[i]);

			sqlite3_str_appendf(s, "-- %s\n", tables[i]);
			for (int row = 0;
			     PQresultStatus(r) == PGRES_TUPLES_OK && row < PQntuples(r); row++) {
				for (int col = 0; col < PQnfields(r); col++)
					sqlite3_str_appendf(s, "%s|", PQgetvalue(r, row, col));
				sqlite3_str_appendf(s, "\n");
			}
			PQclear(r);
		}
		PQfinish(c);
		return sqlite3_str_finish(s);
	}
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
