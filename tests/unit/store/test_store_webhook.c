/*
 * Unit tests for webhooks in the store (schema version 8 on), in SQLite or,
 * with SHENGGU_TEST_PG, PostgreSQL (tmpdb.h): a tenant's webhooks (put
 * idempotently, listed in id order, pruned, gone with their tenant) and the
 * outbox (put, due oldest first and only when due, retried later, done
 * deleted, failed kept for inspection and never due again, the webhook's
 * URL and secret as they are now, NULL once it was removed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static int acme(struct store *st)
{
	struct store_tenant t = {
	    .id = "acme", .name = "ACME", .domain = "acme.example", .timezone = "UTC"};
	int n = store_tenant_put(st, &t);

	return n < 0 ? n : 0;
}

static const struct store_webhook crm = {"acme", "crm", "http://127.0.0.1:9000/hook",
					 "0123456789abcdef", "[\"task.answered\"]"};

/* "id url secret events" of each webhook listed, one a line. */
static int on_webhook(const struct store_webhook *w, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s %s %s %s %s\n", w->tenant_id, w->id, w->url, w->secret,
		 w->events);
	return 0;
}

TEST(test_store_webhook_config)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_webhook w = crm, erp = crm;
	const char *keep[] = {"erp"};
	char seen[512] = "";
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ASSERT(store_schema_latest() >= 8);
	/* No tenant yet. */
	TEST_EQUALS(-ENOENT, store_webhook_put(st, &w));
	TEST_ERR(acme(st));
	TEST_EQUALS(1, store_webhook_put(st, &w));
	TEST_EQUALS(0, store_webhook_put(st, &w));
	w.events = "[\"*\"]";
	TEST_EQUALS(1, store_webhook_put(st, &w));
	erp.id = "erp";
	erp.url = "https://erp.example/in";
	TEST_EQUALS(1, store_webhook_put(st, &erp));
	TEST_EQUALS(2, store_webhook_list(st, "acme", on_webhook, seen));
	TEST_ASSERT(!strcmp(seen, "acme crm http://127.0.0.1:9000/hook 0123456789abcdef [\"*\"]\n"
				  "acme erp https://erp.example/in 0123456789abcdef "
				  "[\"task.answered\"]\n"));
	TEST_EQUALS(0, store_webhook_list(st, "globex", on_webhook, seen));
	/* Pruned like the other kinds. */
	TEST_EQUALS(1, store_webhook_prune(st, "acme", keep, 1));
	TEST_EQUALS(0, store_webhook_prune(st, "acme", keep, 1));
	seen[0] = '\0';
	TEST_EQUALS(1, store_webhook_list(st, "acme", on_webhook, seen));
	TEST_ASSERT(!strncmp(seen, "acme erp ", 9));
	TEST_EQUALS(1, store_webhook_prune(st, "acme", NULL, 0));
	/* Refused. */
	w.events = "[";
	TEST_EQUALS(-EINVAL, store_webhook_put(st, &w));
	w.events = NULL;
	TEST_EQUALS(-EINVAL, store_webhook_put(st, &w));
	TEST_EQUALS(-EINVAL, store_webhook_list(st, "acme", NULL, NULL));
	TEST_EQUALS(-EINVAL, store_webhook_prune(st, "acme", NULL, 1));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* A delivery for acme/crm, due at @at. */
static struct store_outbox delivery(const char *event_id, const char *type, const char *body,
				    int64_t at)
{
	return (struct store_outbox){
	    .tenant_id = "acme",
	    .webhook_id = "crm",
	    .event_id = event_id,
	    .type = type,
	    .body = body,
	    .created_ms = at,
	    .next_ms = at,
	};
}

struct seen {
	char text[8][160];
	int64_t id[8];
	size_t n;
};

static int on_outbox(const struct store_outbox *o, void *arg)
{
	struct seen *s = arg;

	if (s->n == 8)
		return -E2BIG;
	s->id[s->n] = o->id;
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %s %s %s %s %lld %u %s [%s] %s %s",
		 o->tenant_id, o->webhook_id, o->event_id, o->type, o->body, (long long)o->next_ms,
		 o->attempts, o->status, o->last_error, o->url ? o->url : "-",
		 o->secret ? o->secret : "-");
	return 0;
}

TEST(test_store_webhook_outbox)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_outbox o = delivery("7", "task.answered", "{\"id\":7}", 1000);
	struct seen s = {0};
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(acme(st));
	TEST_ASSERT(store_webhook_put(st, &crm) == 1);
	TEST_ERR(store_begin(st));
	TEST_ERR(store_outbox_put(st, &o, &id1));
	o.event_id = "8";
	o.body = "{\"id\":8}";
	o.next_ms = 3000;
	TEST_ERR(store_outbox_put(st, &o, &id2));
	o.webhook_id = "gone";
	o.next_ms = 1500;
	TEST_ERR(store_outbox_put(st, &o, &id3));
	TEST_ERR(store_commit(st));
	TEST_ASSERT(id1 > 0 && id2 > id1 && id3 > id2);
	/* Due at 2000: the first and the one of a removed webhook, oldest first. */
	TEST_EQUALS(2, store_outbox_due(st, 2000, 10, on_outbox, &s));
	TEST_ASSERT(!strcmp(s.text[0], "acme crm 7 task.answered {\"id\":7} 1000 0 pending [] "
				       "http://127.0.0.1:9000/hook 0123456789abcdef"));
	TEST_ASSERT(
	    !strcmp(s.text[1], "acme gone 8 task.answered {\"id\":8} 1500 0 pending [] - -"));
	TEST_EQUALS(id1, s.id[0]);
	s.n = 0;
	TEST_EQUALS(1, store_outbox_due(st, 2000, 1, on_outbox, &s));
	TEST_EQUALS(id1, s.id[0]);
	/* A failed attempt: due again later, with its count and outcome. */
	TEST_ERR(store_outbox_retry(st, id1, 1, 9000, "HTTP 500"));
	s.n = 0;
	TEST_EQUALS(2, store_outbox_due(st, 5000, 10, on_outbox, &s));
	TEST_EQUALS(id2, s.id[0]);
	s.n = 0;
	TEST_EQUALS(3, store_outbox_due(st, 9000, 10, on_outbox, &s));
	TEST_ASSERT(strstr(s.text[0], " 9000 1 pending [HTTP 500] "));
	/* Delivered: gone. Given up: kept, never due. */
	TEST_ERR(store_outbox_done(st, id2));
	TEST_EQUALS(-ENOENT, store_outbox_done(st, id2));
	TEST_ERR(store_outbox_fail(st, id3, 12, "webhook removed"));
	s.n = 0;
	TEST_EQUALS(1, store_outbox_due(st, INT64_MAX, 10, on_outbox, &s));
	TEST_EQUALS(id1, s.id[0]);
	s.n = 0;
	TEST_EQUALS(2, store_outbox_list(st, "acme", 0, 10, on_outbox, &s));
	TEST_ASSERT(strstr(s.text[1], " 12 failed [webhook removed] - -"));
	s.n = 0;
	TEST_EQUALS(1, store_outbox_list(st, "acme", id1, 10, on_outbox, &s));
	TEST_EQUALS(0, store_outbox_list(st, "globex", 0, 10, on_outbox, &s));
	TEST_EQUALS(-ENOENT, store_outbox_retry(st, id2, 1, 0, ""));
	TEST_EQUALS(-ENOENT, store_outbox_fail(st, id2, 1, ""));
	/* Ids are never reused, even after the newest is deleted. */
	TEST_ERR(store_outbox_done(st, id3));
	TEST_ERR(store_outbox_put(st, &o, &id2));
	TEST_ASSERT(id2 > id3);
	/* Refused. */
	o.body = "not json";
	TEST_EQUALS(-EINVAL, store_outbox_put(st, &o, NULL));
	o.body = NULL;
	TEST_EQUALS(-EINVAL, store_outbox_put(st, &o, NULL));
	TEST_EQUALS(-EINVAL, store_outbox_due(st, 0, 0, on_outbox, &s));
	TEST_EQUALS(-EINVAL, store_outbox_due(st, 0, 1, NULL, &s));
	TEST_EQUALS(-EINVAL, store_outbox_retry(st, id1, 1, 0, NULL));
	TEST_EQUALS(-EINVAL, store_outbox_list(st, NULL, 0, 1, on_outbox, &s));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* Outbox rows survive closing the connection (what a restart sees). */
TEST(test_store_webhook_outbox_reopen)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_outbox o = delivery("1", "agent.state", "{}", 5);
	struct seen s = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(store_outbox_put(st, &o, NULL));
	st = store_close(st);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_outbox_due(st, 5, 10, on_outbox, &s));
	TEST_ASSERT(!strcmp(s.text[0], "acme crm 1 agent.state {} 5 0 pending [] - -"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
