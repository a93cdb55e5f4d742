/*
 * Unit tests for the platform operator's records in the store (schema 9
 * on), in SQLite or, with SHENGGU_TEST_PG, PostgreSQL (tmpdb.h): seat
 * requests (added pending, listed newest first per tenant or for all,
 * approved once, which sets the tenant's seats in the same transaction,
 * refused, gone with their tenant), recordings listed by time or by
 * call, and a tenant's numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static int tenant(struct store *st, const char *id, const char *domain, uint32_t seats)
{
	struct store_tenant t = {.seats = seats};
	int n;

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.name, sizeof(t.name), "%s", id);
	snprintf(t.domain, sizeof(t.domain), "%s", domain);
	snprintf(t.timezone, sizeof(t.timezone), "UTC");
	n = store_tenant_put(st, &t);
	return n < 0 ? n : 0;
}

struct seen {
	int n;
	int64_t ids[8];
	char status[8][STORE_NUMBER_SIZE];
	uint32_t seats[8];
};

static int on_request(const struct store_seat_request *r, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->ids[s->n] = r->id;
		snprintf(s->status[s->n], sizeof(s->status[0]), "%s", r->status);
		s->seats[s->n] = r->seats;
	}
	s->n++;
	return 0;
}

TEST(test_store_seat_requests)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_seat_request r = {.tenant_id = "acme",
				       .seats = 80,
				       .reason = "campaign",
				       .requested_by = "acme/admin",
				       .created_ms = 1000};
	struct store_tenant t;
	struct seen seen = {0};
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ASSERT(store_schema_latest() >= 9);
	TEST_ERR(tenant(st, "acme", "acme.example", 50));
	TEST_ERR(tenant(st, "beta", "beta.example", 10));
	TEST_ERR(store_seat_request_add(st, &r, &id1));
	r.seats = 60;
	r.created_ms = 2000;
	TEST_ERR(store_seat_request_add(st, &r, &id2));
	r.tenant_id = "beta";
	r.seats = 20;
	TEST_ERR(store_seat_request_add(st, &r, &id3));
	TEST_ASSERT(id1 > 0 && id2 > id1 && id3 > id2);
	r.tenant_id = "nosuch";
	TEST_EQUALS(-ENOENT, store_seat_request_add(st, &r, NULL));

	/* Newest first, per tenant or for all. */
	TEST_EQUALS(2, store_seat_request_list(st, "acme", 10, on_request, &seen));
	TEST_EQUALS(id2, seen.ids[0]);
	TEST_EQUALS(id1, seen.ids[1]);
	TEST_STR("pending", str_cstr(seen.status[0]));
	memset(&seen, 0, sizeof(seen));
	TEST_EQUALS(2, store_seat_request_list(st, NULL, 2, on_request, &seen));
	TEST_EQUALS(id3, seen.ids[0]);

	/* Approve: the tenant's seats follow; only once. */
	TEST_ERR(store_seat_request_decide(st, id1, true, "operator/ops", 3000));
	TEST_ERR(store_tenant_get(st, "acme", &t));
	TEST_EQUALS(80, t.seats);
	TEST_EQUALS(-EPERM, store_seat_request_decide(st, id1, false, "operator/ops", 3001));
	TEST_EQUALS(-ENOENT, store_seat_request_decide(st, 9999, true, "operator/ops", 3001));
	/* Refuse: the seats stay. */
	TEST_ERR(store_seat_request_decide(st, id2, false, "operator/ops", 4000));
	TEST_ERR(store_tenant_get(st, "acme", &t));
	TEST_EQUALS(80, t.seats);
	memset(&seen, 0, sizeof(seen));
	TEST_EQUALS(2, store_seat_request_list(st, "acme", 10, on_request, &seen));
	TEST_STR("refused", str_cstr(seen.status[0]));
	TEST_STR("approved", str_cstr(seen.status[1]));
	/* Not inside a transaction of the caller's. */
	TEST_ERR(store_begin(st));
	TEST_EQUALS(-EALREADY, store_seat_request_decide(st, id3, true, "operator/ops", 5000));
	TEST_ERR(store_rollback(st));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

static int on_recording(const struct store_recording *r, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->seats[s->n] = (uint32_t)r->bytes;
	s->n++;
	return strcmp(r->tenant_id, "acme") ? -EINVAL : 0;
}

TEST(test_store_recording_list)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_recording r = {.tenant_id = "acme", .sha256 = "00", .duration_ms = 1000};
	struct seen seen = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(tenant(st, "acme", "acme.example", 0));
	TEST_ERR(tenant(st, "beta", "beta.example", 0));
	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "recordings/acme/r%d.wav", i);
		r.path = path;
		r.call_uuid = i == 2 ? "call-b" : "call-a";
		r.bytes = 100 + i;
		r.created_ms = 1000 * (i + 1);
		TEST_ERR(store_recording_put(st, &r));
	}
	r.path = "recordings/beta/x.wav";
	r.tenant_id = "beta";
	r.call_uuid = "call-a";
	TEST_ERR(store_recording_put(st, &r));

	TEST_EQUALS(2, store_recording_list(st, "acme", NULL, 1000, 3000, on_recording, &seen));
	TEST_EQUALS(100, seen.seats[0]);
	TEST_EQUALS(101, seen.seats[1]);
	memset(&seen, 0, sizeof(seen));
	TEST_EQUALS(2, store_recording_list(st, "acme", "call-a", 0, 0, on_recording, &seen));
	memset(&seen, 0, sizeof(seen));
	TEST_EQUALS(1, store_recording_list(st, "acme", "call-b", 0, 0, on_recording, &seen));
	TEST_EQUALS(102, seen.seats[0]);
	TEST_EQUALS(0, store_recording_list(st, "acme", "nosuch", 0, 0, on_recording, &seen));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

static int on_number(const struct store_number *n, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->status[s->n], sizeof(s->status[0]), "%s", n->number);
	s->n++;
	return strcmp(n->tenant_id, "acme") ? -EINVAL : 0;
}

TEST(test_store_number_list)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_number n = {.tenant_id = "acme", .route = "{\"queue\":\"loans\"}"};
	static const char *const nums[] = {"8585100002", "8585100001", "+8651200003"};
	struct seen seen = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(tenant(st, "acme", "acme.example", 0));
	TEST_ERR(tenant(st, "beta", "beta.example", 0));
	for (size_t i = 0; i < 3; i++) {
		snprintf(n.number, sizeof(n.number), "%s", nums[i]);
		TEST_ASSERT(store_number_put(st, &n) >= 0);
	}
	snprintf(n.number, sizeof(n.number), "999");
	snprintf(n.tenant_id, sizeof(n.tenant_id), "beta");
	TEST_ASSERT(store_number_put(st, &n) >= 0);
	TEST_EQUALS(3, store_number_list(st, "acme", on_number, &seen));
	TEST_STR("+8651200003", str_cstr(seen.status[0]));
	TEST_STR("8585100001", str_cstr(seen.status[1]));
	TEST_EQUALS(0, store_number_list(st, "nosuch", on_number, &seen));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

struct wrap {
	char disposition[32], notes[64];
	int n;
};

static int on_cdr(const struct store_cdr *c, void *arg)
{
	struct wrap *w = arg;

	snprintf(w->disposition, sizeof(w->disposition), "%s", c->disposition);
	snprintf(w->notes, sizeof(w->notes), "%s", c->notes);
	w->n++;
	return 0;
}

TEST(test_store_cdr_wrapup)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_cdr c = {.uuid = "u1",
			      .tenant_id = "acme",
			      .caller = "5551234",
			      .callee = "100",
			      .route = "queue:loans",
			      .ivr_path = "",
			      .agent = "1001",
			      .start_ms = 1000,
			      .answer_ms = 1500,
			      .bridge_ms = 1500,
			      .end_ms = 9000,
			      .hangup_side = "caller",
			      .status = 200,
			      .cause = "normal",
			      .recording = ""};
	struct wrap w = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(tenant(st, "acme", "acme.example", 0));
	TEST_ERR(store_cdr_put(st, &c));
	TEST_EQUALS(1, store_cdr_list(st, "acme", 0, 10000, on_cdr, &w));
	TEST_STR("", str_cstr(w.disposition));
	TEST_ERR(store_cdr_wrapup(st, "acme", "u1", "1001", "sale", "wants the gold card"));
	TEST_EQUALS(-ENOENT, store_cdr_wrapup(st, "acme", "u1", "1002", "x", ""));
	TEST_EQUALS(-ENOENT, store_cdr_wrapup(st, "beta", "u1", NULL, "x", ""));
	TEST_EQUALS(-ENOENT, store_cdr_wrapup(st, "acme", "nosuch", NULL, "x", ""));
	TEST_EQUALS(1, store_cdr_list(st, "acme", 0, 10000, on_cdr, &w));
	TEST_STR("sale", str_cstr(w.disposition));
	TEST_STR("wants the gold card", str_cstr(w.notes));
	/* A supervisor (no agent) may correct it. */
	TEST_ERR(store_cdr_wrapup(st, "acme", "u1", NULL, "callback", ""));
	TEST_EQUALS(1, store_cdr_list(st, "acme", 0, 10000, on_cdr, &w));
	TEST_STR("callback", str_cstr(w.disposition));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
