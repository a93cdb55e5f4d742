/*
 * Unit tests for store, each on a fresh database (SQLite in a mkdtemp
 * folder, or a PostgreSQL schema with SHENGGU_TEST_PG: tmpdb.h): URLs and
 * errors, migrations from an empty file and on re-open, refusing a newer
 * schema, the put/get/prune contract (1 when written, 0 when equal), HA1
 * vectors from the RFCs, transactions, and registrar bindings surviving a
 * re-open.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/tmpdb.h"
#include "test.h"

static struct store_tenant tenant(const char *id, const char *domain)
{
	struct store_tenant t = {.seats = 10};

	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.name, sizeof(t.name), "Tenant %s", id);
	snprintf(t.domain, sizeof(t.domain), "%s", domain);
	snprintf(t.district, sizeof(t.district), "Guanshanhu");
	return t;
}

/* A user "1001" of @tenant with credentials for @realm and @password. */
static int put_user(struct store *st, const char *tenant_id, const char *id, const char *realm,
		    const char *password)
{
	char md5[STORE_HA1_SIZE], sha[STORE_HA1_SIZE];
	struct store_user u = {
	    .tenant_id = tenant_id,
	    .id = id,
	    .name = "Li Na",
	    .roles = "[\"agent\"]",
	    .skills = "{\"loans\":5}",
	};
	int err;

	if (password) {
		err = store_ha1(STORE_HA1_MD5, id, realm, password, md5);
		if (err)
			return err;
		err = store_ha1(STORE_HA1_SHA256, id, realm, password, sha);
		if (err)
			return err;
		u.realm = realm;
		u.ha1_md5 = md5;
		u.ha1_sha256 = sha;
	}
	return store_user_put(st, &u);
}

TEST(test_store_ha1_vectors)
{
	char out[STORE_HA1_SIZE];
	int err = 0;

	/* RFC 2617 §3.5: HA1 of the Mufasa example. */
	TEST_ERR(store_ha1(STORE_HA1_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", out));
	TEST_ASSERT(!strcmp(out, "939e7578ed9e3c518a452acee763bce9"));
	/* RFC 7616 §3.9.1: the same user in realm http-auth@example.org. */
	TEST_ERR(
	    store_ha1(STORE_HA1_MD5, "Mufasa", "http-auth@example.org", "Circle of Life", out));
	TEST_ASSERT(!strcmp(out, "3d78807defe7de2157e2b0b6573a855f"));
	TEST_ERR(
	    store_ha1(STORE_HA1_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", out));
	TEST_ASSERT(
	    !strcmp(out, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"));
	TEST_EQUALS(-EINVAL, store_ha1((enum store_ha1_alg)7, "a", "b", "c", out));
	TEST_EQUALS(-EINVAL, store_ha1(STORE_HA1_MD5, NULL, "b", "c", out));
	TEST_ASSERT(!strcmp(store_ha1_alg_name(STORE_HA1_SHA256), "SHA-256"));
out:
	return err;
}

TEST(test_store_url)
{
	struct store *st = NULL;
	char msg[256] = "", url[64];
	int err = 0;

	/* PostgreSQL by either scheme; nothing listens on port 1: refused,
	 * with a one-line reason. */
	err =
	    store_open(&st, "postgresql://127.0.0.1:1/shenggu?connect_timeout=5", msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_EQUALS(-ECONNREFUSED, err);
	err = 0;
	TEST_ASSERT(strstr(msg, "cannot connect to PostgreSQL") != NULL);
	TEST_ASSERT(strchr(msg, '\n') == NULL);
	TEST_ASSERT(st == NULL);
	err = store_open(&st, "postgres://127.0.0.1:1/shenggu?connect_timeout=5", msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_EQUALS(-ECONNREFUSED, err);
	err = 0;
	TEST_EQUALS(-EINVAL, store_open(&st, "postgresql://[::1/shenggu", msg, sizeof(msg)));
	TEST_ASSERT(strstr(msg, "bad PostgreSQL URL") != NULL);
	TEST_ASSERT(st == NULL);
	TEST_EQUALS(-EPROTONOSUPPORT, store_open(&st, "mysql://x", msg, sizeof(msg)));
	TEST_EQUALS(-EINVAL, store_open(&st, "sqlite:", msg, sizeof(msg)));
	TEST_EQUALS(-EINVAL, store_open(&st, NULL, NULL, 0));
	TEST_ERR(store_url_default(url, sizeof(url), "./var"));
	TEST_ASSERT(!strcmp(url, "sqlite:./var/shenggu.db"));
	TEST_EQUALS(-ENAMETOOLONG, store_url_default(url, 8, "./var"));
	TEST_ASSERT(store_close(NULL) == NULL);
out:
	return err;
}

/* Each backend fills every op: store.c dispatches without a NULL check. */
TEST(test_store_ops_complete)
{
	struct store_ops partial = store_pg_ops;
	struct store *st = NULL;
	int err = 0;

	TEST_ASSERT(store_ops_complete(&store_pg_ops));
	TEST_ERR(store_open(&st, "sqlite::memory:", NULL, 0));
	TEST_ASSERT(store_ops_complete(st->ops));
	partial.close = NULL;
	TEST_ASSERT(!store_ops_complete(&partial));
	partial = store_pg_ops;
	partial.audit_list = NULL;
	TEST_ASSERT(!store_ops_complete(&partial));
out:
	store_close(st);
	return err;
}

TEST(test_store_migrate_and_reopen)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant t = tenant("acme", "acme.example"), got;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	TEST_ASSERT(store_schema_latest() >= 2);
	TEST_EQUALS(1, store_tenant_put(st, &t));
	st = store_close(st);

	/* Re-open: nothing to migrate, the data is there, WAL is on. */
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_ASSERT(!strcmp(got.domain, "acme.example"));
	st = store_close(st);
	TEST_EQUALS(store_schema_latest(), tmpdb_int(&db, "SELECT count(*) FROM schema_version"));
	/* The journal mode is SQLite's setting; PostgreSQL always logs ahead. */
	if (!tmpdb_pg(&db))
		TEST_EQUALS(1,
			    tmpdb_int(&db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_newer_schema_refused)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char msg[256] = "";
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	st = store_close(st);
	TEST_ERR(tmpdb_exec(&db, "INSERT INTO schema_version (version) VALUES (999)"));
	err = store_open(&st, db.url, msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_EQUALS(-EPROTO, err);
	err = 0;
	TEST_ASSERT(strstr(msg, "newer than this binary") != NULL);
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_not_a_database)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char msg[256] = "";
	FILE *f;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	if (tmpdb_pg(&db)) {
		/* No file to spoil on a server: a schema that is not ours. */
		TEST_ERR(tmpdb_exec(&db, "CREATE TABLE schema_version (name TEXT)"));
	} else {
		f = fopen(db.path, "w");
		TEST_ASSERT(f != NULL);
		for (int i = 0; i < 200; i++)
			fputs("this is not a database, just text. ", f);
		fclose(f);
	}
	err = store_open(&st, db.url, msg, sizeof(msg));
	TEST_ASSERT(err < 0);
	err = 0;
	TEST_ASSERT(st == NULL);
	TEST_ASSERT(msg[0] != '\0');
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_tenants_numbers)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example"),
			    b = tenant("globex", "globex.example");
	struct store_tenant got;
	struct store_number n = {.number = "8585100001", .tenant_id = "acme"}, ng;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(0, store_tenant_put(st, &a)); /* equal: nothing written */
	a.seats = 60;
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, store_tenant_put(st, &b));
	TEST_ERR(store_tenant_by_domain(st, "globex.example", &got));
	TEST_ASSERT(!strcmp(got.id, "globex"));
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_EQUALS(60, got.seats);
	TEST_ASSERT(!strcmp(got.district, "Guanshanhu"));
	TEST_EQUALS(-ENOENT, store_tenant_by_domain(st, "nobody.example", &got));
	TEST_EQUALS(-ENOENT, store_tenant_get(st, "nobody", &got));

	/* The domain is unique platform-wide. */
	snprintf(b.domain, sizeof(b.domain), "acme.example");
	TEST_EQUALS(-EEXIST, store_tenant_put(st, &b));
	/* Releasing it first lets two tenants swap. */
	snprintf(a.domain, sizeof(a.domain), "globex.example");
	TEST_ERR(store_begin(st));
	TEST_ERR(store_tenant_release_domain(st, "acme", a.domain));
	TEST_ERR(store_tenant_release_domain(st, "globex", b.domain));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, store_tenant_put(st, &b));
	TEST_ERR(store_commit(st));
	TEST_ERR(store_tenant_by_domain(st, "acme.example", &got));
	TEST_ASSERT(!strcmp(got.id, "globex"));

	snprintf(n.route, sizeof(n.route), "{\"queue\":\"loans\"}");
	TEST_EQUALS(1, store_number_put(st, &n));
	TEST_EQUALS(0, store_number_put(st, &n));
	TEST_ERR(store_number_get(st, "8585100001", &ng));
	TEST_ASSERT(!strcmp(ng.tenant_id, "acme") && !strcmp(ng.route, "{\"queue\":\"loans\"}"));
	/* A number moves by being put for another tenant. */
	snprintf(n.tenant_id, sizeof(n.tenant_id), "globex");
	TEST_EQUALS(1, store_number_put(st, &n));
	TEST_ERR(store_number_get(st, "8585100001", &ng));
	TEST_ASSERT(!strcmp(ng.tenant_id, "globex"));
	TEST_EQUALS(-ENOENT, store_number_get(st, "999", &ng));
	/* No such tenant: the foreign key refuses it. */
	snprintf(n.tenant_id, sizeof(n.tenant_id), "nobody");
	TEST_EQUALS(-ENOENT, store_number_put(st, &n));
	/* Route must be JSON. */
	snprintf(n.tenant_id, sizeof(n.tenant_id), "acme");
	snprintf(n.route, sizeof(n.route), "{not json");
	TEST_EQUALS(-EINVAL, store_number_put(st, &n));
	TEST_EQUALS(1, store_prune(st, STORE_KIND_NUMBER, "globex", NULL, 0));
	TEST_EQUALS(-ENOENT, store_number_get(st, "8585100001", &ng));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_users_ha1)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example");
	const char *keep[] = {"1002"};
	char ha1[STORE_HA1_SIZE];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(-ENOENT, put_user(st, "acme", "1001", "acme.example", "s3cret"));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, put_user(st, "acme", "1001", "acme.example", "s3cret"));
	TEST_EQUALS(0, put_user(st, "acme", "1001", "acme.example", "s3cret"));
	TEST_ERR(store_user_get_ha1(st, "acme.example", "1001", STORE_HA1_MD5, ha1));
	/* MD5("1001:acme.example:s3cret"), computed independently (md5sum). */
	TEST_ASSERT(!strcmp(ha1, "b0ec7810fd030ec4753023b1823afa74"));
	TEST_ERR(store_user_get_ha1(st, "acme.example", "1001", STORE_HA1_SHA256, ha1));
	TEST_EQUALS(64, strlen(ha1));
	TEST_EQUALS(-ENOENT, store_user_get_ha1(st, "other.example", "1001", STORE_HA1_MD5, ha1));
	TEST_EQUALS(-ENOENT, store_user_get_ha1(st, "acme.example", "1002", STORE_HA1_MD5, ha1));

	/* A password change is a change; no password removes the credentials. */
	TEST_EQUALS(1, put_user(st, "acme", "1001", "acme.example", "n3w-pass"));
	TEST_EQUALS(1, put_user(st, "acme", "1001", NULL, NULL));
	TEST_EQUALS(-ENOENT, store_user_get_ha1(st, "acme.example", "1001", STORE_HA1_MD5, ha1));
	TEST_EQUALS(0, put_user(st, "acme", "1001", NULL, NULL));

	/* An HA1 made for another realm is not handed out for this one. */
	TEST_EQUALS(1, put_user(st, "acme", "1002", "old.example", "s3cret"));
	TEST_EQUALS(-ENOENT, store_user_get_ha1(st, "acme.example", "1002", STORE_HA1_MD5, ha1));

	TEST_EQUALS(1, store_prune(st, STORE_KIND_USER, "acme", keep, 1));
	TEST_EQUALS(0, store_prune(st, STORE_KIND_USER, "acme", keep, 1));
	TEST_EQUALS(0, tmpdb_int(&db, "SELECT count(*) FROM credentials WHERE user_id = '1001'"));
	TEST_EQUALS(-EINVAL, store_prune(st, (enum store_kind)9, "acme", keep, 1));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_queue_ivr)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example");
	struct store_queue q = {
	    .tenant_id = "acme",
	    .id = "loans",
	    .strategy = "longest-idle",
	    .skills = "{\"loans\":1}",
	    .ring_timeout_s = 20,
	    .sl_seconds = 20,
	    .sl_percent = 80,
	};
	const char *def = "{\"id\":\"main\",\"prompt\":{\"tts\":\"Hello\"}}";
	char *json = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(1, store_queue_put(st, &q));
	TEST_EQUALS(0, store_queue_put(st, &q));
	q.overflow = "{\"queue\":\"general\"}";
	TEST_EQUALS(1, store_queue_put(st, &q));
	TEST_EQUALS(0, store_queue_put(st, &q));
	q.overflow = NULL;
	TEST_EQUALS(1, store_queue_put(st, &q));

	TEST_EQUALS(1, store_ivr_put(st, "acme", "main", def));
	TEST_EQUALS(0, store_ivr_put(st, "acme", "main", def));
	TEST_ERR(store_ivr_get(st, "acme", "main", &json));
	TEST_ASSERT(!strcmp(json, def));
	TEST_EQUALS(-ENOENT, store_ivr_get(st, "acme", "none", &json));
	TEST_EQUALS(-EINVAL, store_ivr_put(st, "acme", "bad", "{oops"));
	TEST_EQUALS(1, store_prune(st, STORE_KIND_IVR, "acme", NULL, 0));
	TEST_EQUALS(1, store_prune(st, STORE_KIND_QUEUE, "acme", NULL, 0));
out:
	mem_free(json);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_transactions)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example"), got;
	struct store_tenant b = tenant("globex", "globex.example");
	struct store_tenant dup = tenant("initech", "acme.example");
	struct store_number n = {"8585100001", "nobody", "{\"queue\":\"q\"}"};
	struct store_user u = {
	    .tenant_id = "nobody", .id = "1001", .name = "", .roles = "[]", .skills = "{}"};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(store_rollback(st)); /* none open: no-op */
	TEST_EQUALS(-EINVAL, store_commit(st));
	TEST_ERR(store_begin(st));
	TEST_EQUALS(-EALREADY, store_begin(st));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_ERR(store_tenant_get(st, "acme", &got)); /* visible inside */
	TEST_ERR(store_rollback(st));
	TEST_EQUALS(-ENOENT, store_tenant_get(st, "acme", &got));

	TEST_ERR(store_begin(st));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_ERR(store_commit(st));
	/* Committed means on disk: another connection sees it. */
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM tenants"));

	/* A refused write undoes itself only: the transaction goes on (the
	 * journal's writer skips a fact it can never write). */
	TEST_ERR(store_begin(st));
	TEST_EQUALS(-ENOENT, store_number_put(st, &n));
	TEST_EQUALS(-ENOENT, store_user_put(st, &u));
	TEST_EQUALS(-EEXIST, store_tenant_put(st, &dup));
	TEST_EQUALS(1, store_tenant_put(st, &b));
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_ERR(store_commit(st));
	TEST_EQUALS(2, tmpdb_int(&db, "SELECT count(*) FROM tenants"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/*
 * PostgreSQL only (an SQLite file has no connection to lose): a session
 * the server ended is opened again by the next call outside a transaction;
 * the call that found it dead may fail, and is not retried (a write may
 * have been committed before the answer was lost).
 */
TEST(test_store_reconnect)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example"), got;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	if (!tmpdb_pg(&db))
		goto out;
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_ERR(tmpdb_exec(&db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
				 " WHERE application_name = 'shenggu'"
				 " AND datname = current_database()"));
	err = store_tenant_get(st, "acme", &got);
	TEST_ASSERT(err == 0 || err == -EIO);
	err = 0;
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_EQUALS(0, store_tenant_put(st, &a));
	/* Inside a transaction the loss is an error until rollback. */
	TEST_ERR(store_begin(st));
	TEST_ERR(tmpdb_exec(&db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
				 " WHERE application_name = 'shenggu'"
				 " AND datname = current_database()"));
	TEST_ASSERT(store_tenant_put(st, &a) < 0);
	TEST_ASSERT(store_tenant_get(st, "acme", &got) < 0);
	TEST_ASSERT(store_commit(st) < 0);
	TEST_ERR(store_rollback(st));
	TEST_ERR(store_tenant_get(st, "acme", &got));
	TEST_ASSERT(!strcmp(got.domain, "acme.example"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

struct seen {
	int n;
	char contacts[4][64];
	int64_t expires[4];
	uint32_t cseq[4];
};

static int on_binding(const struct store_binding *b, void *arg)
{
	struct seen *s = arg;

	if (s->n >= 4)
		return -E2BIG;
	snprintf(s->contacts[s->n], sizeof(s->contacts[0]), "%s@%s/%s", b->contact, b->tenant_id,
		 b->aor);
	s->expires[s->n] = b->expires_at;
	s->cseq[s->n] = b->cseq;
	s->n++;
	return 0;
}

static int stop_at_first(const struct store_binding *b, void *arg)
{
	(void)b;
	(void)arg;
	return -ECANCELED;
}

TEST(test_store_bindings_survive_reopen)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_tenant a = tenant("acme", "acme.example");
	struct store_binding b = {
	    .tenant_id = "acme",
	    .aor = "1001",
	    .contact = "sip:1001@192.0.2.10:5060",
	    .expires_at = 2000000000,
	    .call_id = "a84b4c76e66710",
	    .cseq = 1826,
	    .path = "",
	    .received = "192.0.2.10:5060",
	    .instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
	};
	struct seen seen = {0};
	const char *keep[] = {"1002"};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_tenant_put(st, &a));
	TEST_EQUALS(-ENOENT, store_binding_put(st, &b)); /* no such user yet */
	TEST_EQUALS(1, put_user(st, "acme", "1001", "acme.example", "s3cret"));
	TEST_EQUALS(1, put_user(st, "acme", "1002", "acme.example", "s3cret"));
	TEST_ERR(store_binding_put(st, &b));
	b.contact = "sip:1001@198.51.100.7:5062;transport=tcp";
	b.expires_at = 1000;
	TEST_ERR(store_binding_put(st, &b));
	b.aor = "1002";
	b.contact = "sip:1002@192.0.2.11";
	b.expires_at = 2000000000;
	TEST_ERR(store_binding_put(st, &b));
	/* A refresh updates in place. */
	b.cseq = 1827;
	TEST_ERR(store_binding_put(st, &b));
	/* Re-putting the user (unchanged or not) keeps its bindings. */
	TEST_EQUALS(0, put_user(st, "acme", "1001", "acme.example", "s3cret"));
	st = store_close(st);

	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(store_binding_list(st, on_binding, &seen));
	TEST_EQUALS(3, seen.n);
	TEST_ASSERT(!strcmp(seen.contacts[0], "sip:1001@192.0.2.10:5060@acme/1001"));
	TEST_EQUALS(2000000000, seen.expires[0]);
	TEST_EQUALS(1827, seen.cseq[2]);
	TEST_EQUALS(-ECANCELED, store_binding_list(st, stop_at_first, NULL));

	TEST_EQUALS(1, store_binding_expire(st, 1500));
	TEST_EQUALS(0, store_binding_expire(st, 1500));
	TEST_ERR(store_binding_del(st, "acme", "1001", "sip:1001@192.0.2.10:5060"));
	TEST_EQUALS(-ENOENT, store_binding_del(st, "acme", "1001", "sip:1001@192.0.2.10:5060"));
	/* Deleting a user deletes its bindings. */
	keep[0] = "1001";
	TEST_EQUALS(1, store_prune(st, STORE_KIND_USER, "acme", keep, 1));
	seen.n = 0;
	TEST_ERR(store_binding_list(st, on_binding, &seen));
	TEST_EQUALS(0, seen.n);
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
