/*
 * Unit tests for what the ACD keeps in the store (schema version 6 on), in
 * SQLite or, with SHENGGU_TEST_PG, PostgreSQL (tmpdb.h): queues listed
 * with their members and announcement settings, users listed without
 * credentials, pause reasons, the queue_log (appended in order, listed by
 * tenant and time, surviving a reopen) and agents' presence (put,
 * replaced, deleted, gone with the user).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static struct store_tenant tenant(const char *id, const char *domain)
{
	struct store_tenant t = {.seats = 10};

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.name, sizeof(t.name), "%s", id);
	snprintf(t.domain, sizeof(t.domain), "%s", domain);
	snprintf(t.timezone, sizeof(t.timezone), "UTC");
	return t;
}

struct seen {
	unsigned n;
	char text[8][96];
};

static int on_queue(const struct store_queue *q, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s %s %u %u %d %s", q->id,
			 q->members ? q->members : "-", q->announce_s, q->tier_wait_s,
			 q->join_empty, q->overflow ? q->overflow : "-");
	s->n++;
	return 0;
}

static int on_user(const struct store_user *u, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s %s %d", u->id, u->skills,
			 u->ha1_md5 == NULL);
	s->n++;
	return 0;
}

static int on_line(int64_t t, const char *line, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%lld %s", (long long)t, line);
	s->n++;
	return 0;
}

static int on_presence(const struct store_presence *p, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s %d %u %lld", p->user_id, p->ready,
			 p->reason, (long long)p->since_ms);
	s->n++;
	return 0;
}

TEST(test_store_acd_config)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example");
	struct store_user u = {.tenant_id = "acme",
			       .id = "1001",
			       .name = "",
			       .roles = "[\"agent\"]",
			       .skills = "{\"loans\":5}"};
	struct store_queue q = {
	    .tenant_id = "acme",
	    .id = "loans",
	    .strategy = "ring-all",
	    .skills = "{}",
	    .members = "[{\"user\":\"1001\",\"penalty\":0}]",
	    .announce_s = 30,
	    .tier_wait_s = 10,
	    .join_empty = true,
	};
	struct seen s = {0};
	char *json = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, store_user_put(st, &u));
	TEST_EQUALS(1, store_queue_put(st, &q));
	TEST_EQUALS(0, store_queue_put(st, &q));
	q.announce_s = 20;
	TEST_EQUALS(1, store_queue_put(st, &q));
	q.id = "general";
	q.members = NULL;
	q.join_empty = false;
	q.overflow = "{\"user\":\"1001\"}";
	TEST_EQUALS(1, store_queue_put(st, &q));

	TEST_EQUALS(2, store_queue_list(st, "acme", on_queue, &s));
	TEST_ASSERT(!strcmp(s.text[0], "general - 20 10 0 {\"user\":\"1001\"}"));
	TEST_ASSERT(!strcmp(s.text[1], "loans [{\"user\":\"1001\",\"penalty\":0}] 20 10 1 -"));
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(0, store_queue_list(st, "other", on_queue, &s));
	TEST_EQUALS(1, store_user_list(st, "acme", on_user, &s));
	TEST_ASSERT(!strcmp(s.text[0], "1001 {\"loans\":5} 1"));

	TEST_ERR(store_tenant_pause_reasons_get(st, "acme", &json));
	TEST_ASSERT(!strcmp(json, "{}"));
	mem_free(json);
	json = NULL;
	TEST_EQUALS(1, store_tenant_pause_reasons_put(st, "acme", "{\"2\":\"break\"}"));
	TEST_EQUALS(0, store_tenant_pause_reasons_put(st, "acme", "{\"2\":\"break\"}"));
	TEST_EQUALS(-ENOENT, store_tenant_pause_reasons_put(st, "none", "{}"));
	TEST_ERR(store_tenant_pause_reasons_get(st, "acme", &json));
	TEST_ASSERT(!strcmp(json, "{\"2\":\"break\"}"));
out:
	mem_free(json);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_acd_qlog_presence)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example");
	struct store_user u = {
	    .tenant_id = "acme", .id = "1001", .name = "", .roles = "[\"agent\"]", .skills = "{}"};
	struct store_presence p = {
	    .tenant_id = "acme", .user_id = "1001", .ready = true, .since_ms = 5000};
	struct seen s = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, store_user_put(st, &u));
	TEST_ERR(store_begin(st));
	TEST_ERR(store_qlog_append(st, "acme", 200, "200|c1|loans|NONE|ENTERQUEUE||555|1"));
	TEST_ERR(store_qlog_append(st, "other", 200, "200|c9|x|NONE|ENTERQUEUE||555|1"));
	/* Appended order wins over time order: a line is never reordered. */
	TEST_ERR(store_qlog_append(st, "acme", 100, "100|NONE|NONE|1001|AGENTLOGIN|"));
	TEST_ERR(store_commit(st));
	TEST_EQUALS(-EINVAL, store_qlog_append(st, "acme", 1, "a\nb"));
	store_close(st);
	st = NULL;
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(2, store_qlog_list(st, "acme", 0, 1000, on_line, &s));
	TEST_ASSERT(!strcmp(s.text[0], "200 200|c1|loans|NONE|ENTERQUEUE||555|1"));
	TEST_ASSERT(!strcmp(s.text[1], "100 100|NONE|NONE|1001|AGENTLOGIN|"));
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(1, store_qlog_list(st, "acme", 150, 201, on_line, &s));

	TEST_ERR(store_presence_put(st, &p));
	p.ready = false;
	p.reason = 2;
	p.since_ms = 6000;
	TEST_ERR(store_presence_put(st, &p));
	memset(&s, 0, sizeof(s));
	TEST_EQUALS(1, store_presence_list(st, "acme", on_presence, &s));
	TEST_ASSERT(!strcmp(s.text[0], "1001 0 2 6000"));
	TEST_ERR(store_presence_del(st, "acme", "1001"));
	TEST_EQUALS(-ENOENT, store_presence_del(st, "acme", "1001"));
	TEST_ERR(store_presence_put(st, &p));
	/* A deleted user is logged out with it. */
	TEST_EQUALS(1, store_prune(st, STORE_KIND_USER, "acme", NULL, 0));
	TEST_EQUALS(0, store_presence_list(st, "acme", on_presence, &s));
	p.user_id = "ghost";
	TEST_EQUALS(-ENOENT, store_presence_put(st, &p));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
