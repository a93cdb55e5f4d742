/*
 * Unit tests for what the platform API keeps in the store (schema version 7
 * on), in SQLite or, with SHENGGU_TEST_PG, PostgreSQL (tmpdb.h): users'
 * password hashes (put exactly, read back with the user for login, never
 * listed), platform operators (put, get, prune with their tokens), bearer
 * tokens by hash (put for users and operators only, get, revoke one or a
 * user's, prune, gone with their user), the audit log (per tenant or all,
 * time range, pages by id), and a version 6 file migrating with its users.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

#define PHC_A                                                    \
	"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$" \
	"CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
#define PHC_B                                                    \
	"$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0b3RoZXJzYQ$" \
	"vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw"
#define HASH_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HASH_2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HASH_3 "3333333333333333333333333333333333333333333333333333333333333333"

/* User 1001 of acme, with SIP credentials and the password hash @pw_hash. */
static struct store_user user_1001(const char *pw_hash)
{
	return (struct store_user){
	    .tenant_id = "acme",
	    .id = "1001",
	    .name = "Li Na",
	    .roles = "[\"agent\",\"supervisor\"]",
	    .skills = "{\"loans\":5}",
	    .realm = "acme.example",
	    .ha1_md5 = "288a9cf9d3ff086df6de1ecfac3e6dbf",
	    .ha1_sha256 = "c68884ee93216c70b93efa6e605ee4d310d9e81c4912fa77350747e89d1137d3",
	    .pw_hash = pw_hash,
	};
}

/* Tenant "acme" (acme.example) with user_1001(@pw_hash). */
static int acme_with_user(struct store *st, const char *pw_hash)
{
	struct store_tenant t = {
	    .id = "acme", .name = "ACME", .domain = "acme.example", .timezone = "UTC"};
	struct store_user u = user_1001(pw_hash);
	int n = store_tenant_put(st, &t);

	if (n >= 0)
		n = store_user_put(st, &u);
	return n < 0 ? n : 0;
}

static int on_user_pw(const struct store_user *u, void *arg)
{
	*(int *)arg += u->pw_hash == NULL;
	return 0;
}

TEST(test_store_acct_user_password)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_user_row row = {0};
	char big[STORE_PW_HASH_SIZE + 1];
	struct store_user u = user_1001(PHC_A);
	int listed = 0, err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ASSERT(store_schema_latest() >= 7);
	TEST_ERR(acme_with_user(st, PHC_A));
	TEST_ERR(store_user_get(st, "acme", "1001", &row));
	TEST_ASSERT(!strcmp(row.tenant_id, "acme") && !strcmp(row.id, "1001"));
	TEST_ASSERT(!strcmp(row.name, "Li Na"));
	TEST_ASSERT(!strcmp(row.roles, "[\"agent\",\"supervisor\"]"));
	TEST_ASSERT(!strcmp(row.skills, "{\"loans\":5}"));
	TEST_ASSERT(!strcmp(row.pw_hash, PHC_A));
	TEST_ASSERT(!strcmp(row.realm, "acme.example"));
	TEST_ASSERT(!strcmp(row.ha1_sha256, u.ha1_sha256));
	mem_free(row.skills);
	row.skills = NULL;
	/* The same again writes nothing; a new hash is a change. */
	TEST_EQUALS(0, store_user_put(st, &u));
	u.pw_hash = PHC_B;
	TEST_EQUALS(1, store_user_put(st, &u));
	/* NULL is "no password", not "unchanged"; credentials likewise. */
	u.pw_hash = NULL;
	u.realm = u.ha1_md5 = u.ha1_sha256 = NULL;
	TEST_EQUALS(1, store_user_put(st, &u));
	TEST_ERR(store_user_get(st, "acme", "1001", &row));
	TEST_ASSERT(!row.pw_hash[0] && !row.realm[0] && !row.ha1_sha256[0]);
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM users WHERE pw_hash IS NULL"));
	/* Hashes are never listed. */
	u.pw_hash = PHC_A;
	TEST_EQUALS(1, store_user_put(st, &u));
	TEST_EQUALS(1, store_user_list(st, "acme", on_user_pw, &listed));
	TEST_EQUALS(1, listed);
	/* Refused: an empty or oversized hash; missing users. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u.pw_hash = big;
	TEST_EQUALS(-EINVAL, store_user_put(st, &u));
	u.pw_hash = "";
	TEST_EQUALS(-EINVAL, store_user_put(st, &u));
	mem_free(row.skills);
	row.skills = NULL;
	TEST_EQUALS(-ENOENT, store_user_get(st, "acme", "1002", &row));
	TEST_EQUALS(-ENOENT, store_user_get(st, "globex", "1001", &row));
	TEST_ASSERT(row.skills == NULL);
	TEST_EQUALS(-EINVAL, store_user_get(st, "acme", NULL, &row));
out:
	mem_free(row.skills);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

static struct store_operator operator(const char *id, const char *name, const char *pw_hash)
{
	struct store_operator op;

	snprintf(op.id, sizeof(op.id), "%s", id);
	snprintf(op.name, sizeof(op.name), "%s", name);
	snprintf(op.pw_hash, sizeof(op.pw_hash), "%s", pw_hash);
	return op;
}

TEST(test_store_acct_operators)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_operator op = operator("ops", "Platform operator", PHC_A), got;
	struct store_token tok = {.hash = HASH_1,
				  .user_id = "ops",
				  .roles = "[\"operator\"]",
				  .created_ms = 1000,
				  .expires_ms = 2000};
	const char *keep[] = {"ops"};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(1, store_operator_put(st, &op));
	TEST_EQUALS(0, store_operator_put(st, &op));
	TEST_ERR(store_operator_get(st, "ops", &got));
	TEST_ASSERT(!strcmp(got.id, "ops") && !strcmp(got.name, "Platform operator"));
	TEST_ASSERT(!strcmp(got.pw_hash, PHC_A));
	/* No password: stored as NULL, read back as "". */
	op = operator("ops", "Platform operator", "");
	TEST_EQUALS(1, store_operator_put(st, &op));
	TEST_ERR(store_operator_get(st, "ops", &got));
	TEST_ASSERT(!got.pw_hash[0]);
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM operators WHERE pw_hash IS NULL"));
	op = operator("night", "Night shift", PHC_B);
	TEST_EQUALS(1, store_operator_put(st, &op));
	TEST_EQUALS(-ENOENT, store_operator_get(st, "nobody", &got));
	op.id[0] = '\0';
	TEST_EQUALS(-EINVAL, store_operator_put(st, &op));
	/* Pruned with their tokens; the kept operator's token stays. */
	TEST_ERR(store_token_put(st, &tok));
	tok.hash = HASH_2;
	tok.user_id = "night";
	TEST_ERR(store_token_put(st, &tok));
	TEST_EQUALS(1, store_operator_prune(st, keep, 1));
	TEST_EQUALS(-ENOENT, store_operator_get(st, "night", &got));
	TEST_ERR(store_operator_get(st, "ops", &got));
	TEST_EQUALS(-ENOENT, store_token_get(st, HASH_2, &tok));
	TEST_ERR(store_token_get(st, HASH_1, &tok));
	TEST_EQUALS(0, store_operator_prune(st, keep, 1));
	TEST_EQUALS(-EINVAL, store_operator_prune(st, NULL, 1));
	TEST_EQUALS(1, store_operator_prune(st, NULL, 0));
	TEST_EQUALS(-ENOENT, store_token_get(st, HASH_1, &tok));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_store_acct_tokens)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_operator op = operator("ops", "Ops", PHC_A);
	struct store_token got, t = {
				    .hash = HASH_1,
				    .tenant_id = "acme",
				    .user_id = "1001",
				    .roles = "[\"agent\"]",
				    .created_ms = 1000,
				    .expires_ms = 5000,
				};
	const char *none[] = {"nobody"};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(acme_with_user(st, PHC_A));
	TEST_ERR(store_token_put(st, &t));
	TEST_EQUALS(-EEXIST, store_token_put(st, &t));
	TEST_ERR(store_token_get(st, HASH_1, &got));
	TEST_ASSERT(!strcmp(got.hash, HASH_1) && !strcmp(got.tenant_id, "acme"));
	TEST_ASSERT(!strcmp(got.user_id, "1001") && !strcmp(got.roles, "[\"agent\"]"));
	TEST_EQUALS(1000, got.created_ms);
	TEST_EQUALS(5000, got.expires_ms);
	TEST_ASSERT(!got.revoked);
	/* Only for accounts that exist; hashes as acct_token_hash makes them. */
	t.hash = HASH_2;
	t.user_id = "1002";
	TEST_EQUALS(-ENOENT, store_token_put(st, &t));
	t.tenant_id = NULL;
	t.user_id = "ops";
	TEST_EQUALS(-ENOENT, store_token_put(st, &t));
	TEST_EQUALS(1, store_operator_put(st, &op));
	t.roles = "[\"operator\"]";
	TEST_ERR(store_token_put(st, &t));
	TEST_ERR(store_token_get(st, HASH_2, &got));
	TEST_ASSERT(got.tenant_id == NULL && !strcmp(got.user_id, "ops"));
	t.hash = "1111";
	TEST_EQUALS(-EINVAL, store_token_put(st, &t));
	t.hash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	TEST_EQUALS(-EINVAL, store_token_put(st, &t));
	t.hash = HASH_3;
	t.roles = "not json";
	TEST_EQUALS(-EINVAL, store_token_put(st, &t));
	TEST_EQUALS(-ENOENT, store_token_get(st, HASH_3, &got));
	/* Revoking: one token (twice is fine), every token of a user. */
	TEST_ERR(store_token_revoke(st, HASH_1));
	TEST_ERR(store_token_revoke(st, HASH_1));
	TEST_EQUALS(-ENOENT, store_token_revoke(st, HASH_3));
	TEST_ERR(store_token_get(st, HASH_1, &got));
	TEST_ASSERT(got.revoked);
	TEST_EQUALS(0, store_token_revoke_user(st, "acme", "1001"));
	TEST_EQUALS(1, store_token_revoke_user(st, NULL, "ops"));
	TEST_EQUALS(0, store_token_revoke_user(st, NULL, "ops"));
	TEST_EQUALS(-EINVAL, store_token_revoke_user(st, NULL, NULL));
	/* Pruning: revoked ones, and expired ones. */
	t = (struct store_token){.hash = HASH_3,
				 .tenant_id = "acme",
				 .user_id = "1001",
				 .roles = "[]",
				 .created_ms = 1000,
				 .expires_ms = 5000};
	TEST_ERR(store_token_put(st, &t));
	TEST_EQUALS(2, store_token_prune(st, 4999));
	TEST_EQUALS(0, store_token_prune(st, 4999));
	TEST_ERR(store_token_get(st, HASH_3, &got));
	TEST_EQUALS(1, store_token_prune(st, 5000));
	/* A deleted user's tokens go with it. */
	t.hash = HASH_1;
	TEST_ERR(store_token_put(st, &t));
	TEST_EQUALS(1, store_prune(st, STORE_KIND_USER, "acme", none, 1));
	TEST_EQUALS(-ENOENT, store_token_get(st, HASH_1, &got));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

struct audit_seen {
	unsigned n;
	int64_t last_id;
	char text[8][128];
};

static int on_audit(const struct store_audit *a, void *arg)
{
	struct audit_seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%lld %s %s %s %s %s",
			 (long long)a->time_ms, a->tenant_id ? a->tenant_id : "-", a->actor,
			 a->action, a->object, a->detail);
	s->last_id = a->id;
	s->n++;
	return 0;
}

static int stop_audit(const struct store_audit *a, void *arg)
{
	(void)a;
	(void)arg;
	return 7;
}

TEST(test_store_acct_audit)
{
	static const struct store_audit log[] = {
	    {0, 1000, "acme", "acme/admin", "login", "", "{}"},
	    {0, 2000, NULL, "operator/ops", "tenant.create", "tenant/globex", "{\"seats\":5}"},
	    {0, 3000, "acme", "acme/admin", "queue.update", "queue/loans", "{\"wrapup_s\":10}"},
	    {0, 4000, "globex", "globex/boss", "login", "", "{}"},
	    {0, 5000, "acme", "acme/admin", "user.delete", "user/1002", "{}"},
	};
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_audit bad = log[0];
	struct audit_seen s = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(store_begin(st));
	for (size_t i = 0; i < sizeof(log) / sizeof(log[0]); i++)
		TEST_ERR(store_audit_put(st, &log[i]));
	TEST_ERR(store_commit(st));
	/* One tenant, oldest first. */
	TEST_EQUALS(3, store_audit_list(st, "acme", 0, INT64_MAX, 0, 100, on_audit, &s));
	TEST_ASSERT(!strcmp(s.text[0], "1000 acme acme/admin login  {}"));
	TEST_ASSERT(
	    !strcmp(s.text[1], "3000 acme acme/admin queue.update queue/loans {\"wrapup_s\":10}"));
	TEST_ASSERT(!strcmp(s.text[2], "5000 acme acme/admin user.delete user/1002 {}"));
	/* Everything, including the platform's own entries, in pages of 2. */
	s = (struct audit_seen){0};
	TEST_EQUALS(2, store_audit_list(st, NULL, 0, INT64_MAX, 0, 2, on_audit, &s));
	TEST_ASSERT(
	    !strcmp(s.text[1], "2000 - operator/ops tenant.create tenant/globex {\"seats\":5}"));
	TEST_EQUALS(2, store_audit_list(st, NULL, 0, INT64_MAX, s.last_id, 2, on_audit, &s));
	TEST_ASSERT(!strcmp(s.text[3], "4000 globex globex/boss login  {}"));
	TEST_EQUALS(1, store_audit_list(st, NULL, 0, INT64_MAX, s.last_id, 2, on_audit, &s));
	TEST_EQUALS(0, store_audit_list(st, NULL, 0, INT64_MAX, s.last_id, 2, on_audit, &s));
	/* A time range: [2000, 4000). */
	s = (struct audit_seen){0};
	TEST_EQUALS(2, store_audit_list(st, NULL, 2000, 4000, 0, 100, on_audit, &s));
	TEST_ASSERT(!strncmp(s.text[0], "2000 ", 5) && !strncmp(s.text[1], "3000 ", 5));
	TEST_EQUALS(7, store_audit_list(st, "acme", 0, INT64_MAX, 0, 100, stop_audit, NULL));
	/* Refused: detail that is not JSON, no limit, no handler. */
	bad.detail = "{";
	TEST_EQUALS(-EINVAL, store_audit_put(st, &bad));
	bad.detail = NULL;
	TEST_EQUALS(-EINVAL, store_audit_put(st, &bad));
	TEST_EQUALS(-EINVAL, store_audit_list(st, NULL, 0, INT64_MAX, 0, 0, on_audit, &s));
	TEST_EQUALS(-EINVAL, store_audit_list(st, NULL, 0, INT64_MAX, 0, 1, NULL, &s));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* A version 6 file (made by taking version 7 away again) keeps its users,
 * who have no password until provisioning gives them one. */
TEST(test_store_acct_migrate_v6_to_v7)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_user_row row = {0};
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(acme_with_user(st, NULL));
	st = store_close(st);
	TEST_ERR(tmpdb_exec(&db, "ALTER TABLE cdrs DROP COLUMN notes;"
				 "ALTER TABLE cdrs DROP COLUMN disposition;"
				 "DROP TABLE seat_requests; DROP INDEX recordings_call;"
				 "DROP TABLE webhook_outbox; DROP TABLE webhooks;"
				 "DROP TABLE audit; DROP TABLE tokens; DROP TABLE operators;"
				 "ALTER TABLE users DROP COLUMN pw_hash;"
				 "DELETE FROM schema_version WHERE version >= 7;"));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(store_schema_latest(), store_schema_version(st));
	TEST_ERR(store_user_get(st, "acme", "1001", &row));
	TEST_ASSERT(!row.pw_hash[0] && !strcmp(row.realm, "acme.example"));
out:
	mem_free(row.skills);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
