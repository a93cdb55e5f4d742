/*
 * Unit tests for call records (schema version 4 on), in SQLite or, with
 * SHENGGU_TEST_PG, PostgreSQL (tmpdb.h):
 * CDRs written once per call (a second put of a uuid changes nothing),
 * listed per tenant and time window in start order, surviving a reopen;
 * recording metadata put, updated by a second put (a repair), and read.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static struct store_cdr cdr(const char *uuid, const char *tenant, int64_t start)
{
	return (struct store_cdr){
	    .uuid = uuid,
	    .tenant_id = tenant,
	    .caller = "5551234",
	    .callee = "8585100001",
	    .route = "ivr:main",
	    .ivr_path = "main>menu:1>queue:loans",
	    .agent = "1002",
	    .start_ms = start,
	    .answer_ms = start + 1000,
	    .bridge_ms = start + 5000,
	    .end_ms = start + 65000,
	    .hangup_side = "caller",
	    .status = 200,
	    .cause = "normal",
	    .recording = "",
	};
}

struct seen {
	unsigned n;
	char uuids[8][16];
	int64_t talk_ms;
};

static int on_cdr(const struct store_cdr *c, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->uuids[s->n], sizeof(s->uuids[0]), "%s", c->uuid);
	s->n++;
	s->talk_ms = c->end_ms - c->answer_ms;
	return 0;
}

TEST(test_store_cdrs)
{
	struct tmpdb db;
	struct store *st = NULL;
	struct store_cdr c;
	struct seen s;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	c = cdr("c2", "acme", 2000000);
	TEST_ERR(store_cdr_put(st, &c));
	c = cdr("c1", "acme", 1000000);
	TEST_ERR(store_cdr_put(st, &c));
	c = cdr("g1", "globex", 1500000);
	TEST_ERR(store_cdr_put(st, &c));
	/* The same call again (a retried write) changes nothing. */
	c = cdr("c1", "acme", 9000000);
	TEST_ERR(store_cdr_put(st, &c));
	c.caller = NULL;
	TEST_EQUALS(-EINVAL, store_cdr_put(st, &c));

	/* Per tenant, oldest first, never another tenant's. */
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(2, store_cdr_list(st, "acme", 0, INT64_MAX, on_cdr, &s));
	TEST_STR("c1", str_cstr(s.uuids[0]));
	TEST_STR("c2", str_cstr(s.uuids[1]));
	TEST_EQUALS(64000, s.talk_ms);
	/* A window: [from, to). */
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(1, store_cdr_list(st, "acme", 1000001, 2000001, on_cdr, &s));
	TEST_STR("c2", str_cstr(s.uuids[0]));
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(0, store_cdr_list(st, "nobody", 0, INT64_MAX, on_cdr, &s));

	/* Written records survive a reopen. */
	st = store_close(st);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(1, store_cdr_list(st, "globex", 0, INT64_MAX, on_cdr, &s));
	TEST_STR("g1", str_cstr(s.uuids[0]));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_recordings)
{
	struct tmpdb db;
	struct store *st = NULL;
	struct store_recording r = {
	    .path = "recordings/acme/c1.wav",
	    .tenant_id = "acme",
	    .call_uuid = "c1",
	    .duration_ms = 1000,
	    .bytes = 32044,
	    .sha256 = "00",
	    .created_ms = 1000000,
	};
	struct store_recording got;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(-ENOENT, store_recording_get(st, r.path, &got));
	TEST_ERR(store_recording_put(st, &r));
	/* A repair at start-up updates the figures. */
	r.duration_ms = 900;
	r.bytes = 28844;
	r.sha256 = "ab";
	TEST_ERR(store_recording_put(st, &r));
	TEST_ERR(store_recording_get(st, r.path, &got));
	TEST_STR("acme", str_cstr(got.tenant_id));
	TEST_STR("c1", str_cstr(got.call_uuid));
	TEST_STR("ab", str_cstr(got.sha256));
	TEST_EQUALS(900, got.duration_ms);
	TEST_EQUALS(28844, got.bytes);
	TEST_EQUALS(1000000, got.created_ms);
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
