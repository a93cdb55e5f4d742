/*
 * Unit tests for what provisioning writes for the platform API: users'
 * argon2id password hashes (made on the first apply, kept while the HA1
 * shows the same password, made again when the password or the realm
 * changes, filled in when missing), the tokens a password or role change
 * revokes, and the "operators" array (idempotent applies, prunes only when
 * the array is there; its errors are in test_prov.c's table). No password
 * is stored in plaintext.
 *
 * Hashing costs ~20-60 ms, and --oom runs a test once per allocation, so
 * each test hashes only a few times.
 */
#include <stdio.h>
#include <string.h>

#include "acct/acct.h"
#include "base/mem.h"
#include "prov/prov.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

#define TOKEN_1001 "1111111111111111111111111111111111111111111111111111111111111111"
#define TOKEN_OPS  "2222222222222222222222222222222222222222222222222222222222222222"

/* Parse @json ('-quoted) and apply it. */
static int apply(struct store *st, const char *sq, struct prov_summary *sum, char *msg, size_t len)
{
	static char doc[4096];
	struct prov_doc *d = NULL;
	size_t i;
	int err;

	for (i = 0; sq[i] && i + 1 < sizeof(doc); i++)
		doc[i] = sq[i] == '\'' ? '"' : sq[i];
	doc[i] = '\0';
	err = prov_parse(&d, doc, strlen(doc), msg, len);
	if (!err)
		err = prov_apply(st, d, sum, msg, len);
	prov_doc_free(d);
	return err;
}

static int pw_hash_of(struct store *st, const char *tenant, const char *user, char *out)
{
	struct store_user_row row;
	int err = store_user_get(st, tenant, user, &row);

	if (!err) {
		memcpy(out, row.pw_hash, sizeof(row.pw_hash));
		mem_free(row.skills);
	}
	return err;
}

static int token_revoked(struct store *st, const char *hash)
{
	struct store_token t;
	int err = store_token_get(st, hash, &t);

	return err ? err : t.revoked;
}

#define DOC(domain, pw, roles)                                            \
	"{'tenants':[{'id':'acme','name':'ACME','domain':'" domain "',"   \
	"'users':[{'id':'1001','password':'" pw "','roles':[" roles "]}," \
	"{'id':'1002','roles':['agent']}]}]}"

/* A store with tenant acme applied: user 1001 with a password (its hash
 * in h1) and a token, 1002 without a password. */
struct acme {
	struct tmpdb db;
	struct store *st;
	struct prov_summary sum;
	char h1[STORE_PW_HASH_SIZE], h2[STORE_PW_HASH_SIZE], msg[512];
};

static int acme_setup(struct acme *a)
{
	struct store_token tok = {.hash = TOKEN_1001,
				  .tenant_id = "acme",
				  .user_id = "1001",
				  .roles = "[\"agent\"]",
				  .created_ms = 1,
				  .expires_ms = 4000000000000};
	int err = tmpdb_init(&a->db);

	a->st = NULL;
	if (!err)
		err = store_open(&a->st, a->db.url, NULL, 0);
	if (!err)
		err = apply(a->st, DOC("acme.example", "s3cret-1001", "'agent'"), NULL, a->msg,
			    sizeof(a->msg));
	if (!err)
		err = pw_hash_of(a->st, "acme", "1001", a->h1);
	if (!err)
		err = pw_hash_of(a->st, "acme", "1002", a->h2);
	if (!err && (strncmp(a->h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31) || a->h2[0]))
		err = -EINVAL;
	return err ? err : store_token_put(a->st, &tok);
}

static void acme_cleanup(struct acme *a)
{
	store_close(a->st);
	tmpdb_cleanup(&a->db);
}

/* Apply DOC(@domain, @pw, @roles) to the fixture. */
#define APPLY(domain, pw, roles) apply(a.st, DOC(domain, pw, roles), &a.sum, a.msg, sizeof(a.msg))

TEST(test_prov_acct_user_password_kept)
{
	struct acme a;
	int err = acme_setup(&a);

	TEST_ERR(err);
	TEST_ERR(acct_password_verify(a.h1, "s3cret-1001"));
	/* Again: the stored HA1 shows the same password, so the hash is kept,
	 * nothing changes and the token stays valid. */
	TEST_ERR(APPLY("acme.example", "s3cret-1001", "'agent'"));
	TEST_EQUALS(0, a.sum.users.changed);
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h2));
	TEST_ASSERT(!strcmp(a.h1, a.h2));
	TEST_EQUALS(0, token_revoked(a.st, TOKEN_1001));
	/* Other roles: same hash, but the token goes. */
	TEST_ERR(APPLY("acme.example", "s3cret-1001", "'agent','supervisor'"));
	TEST_EQUALS(1, a.sum.users.changed);
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h2));
	TEST_ASSERT(!strcmp(a.h1, a.h2));
	TEST_EQUALS(1, token_revoked(a.st, TOKEN_1001));
	/* Nothing in plaintext. */
	TEST_EQUALS(0,
		    tmpdb_int(&a.db, "SELECT count(*) FROM users WHERE pw_hash LIKE '%s3cret%'"));
out:
	acme_cleanup(&a);
	return err;
}

TEST(test_prov_acct_user_password_changed)
{
	struct acme a;
	int err = acme_setup(&a);

	TEST_ERR(err);
	/* A new password: a new hash, and the old tokens are revoked. */
	TEST_ERR(APPLY("acme.example", "n3w-pass", "'agent'"));
	TEST_EQUALS(1, a.sum.users.changed);
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h2));
	TEST_ASSERT(strcmp(a.h1, a.h2) != 0);
	TEST_ERR(acct_password_verify(a.h2, "n3w-pass"));
	TEST_EQUALS(-EACCES, acct_password_verify(a.h2, "s3cret-1001"));
	TEST_EQUALS(1, token_revoked(a.st, TOKEN_1001));
	/* A hash missing beside a matching HA1 (users made before version 7):
	 * filled in. */
	TEST_ERR(tmpdb_exec(&a.db, "UPDATE users SET pw_hash = NULL"));
	TEST_ERR(APPLY("acme.example", "n3w-pass", "'agent'"));
	TEST_EQUALS(1, a.sum.users.changed);
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h1));
	TEST_ERR(acct_password_verify(a.h1, "n3w-pass"));
out:
	acme_cleanup(&a);
	return err;
}

/* Another realm means other HA1s: the password cannot be told equal, so it
 * is hashed again (and still verifies). */
TEST(test_prov_acct_user_realm_changed)
{
	struct acme a;
	int err = acme_setup(&a);

	TEST_ERR(err);
	TEST_ERR(APPLY("acme.test", "s3cret-1001", "'agent'"));
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h2));
	TEST_ASSERT(strcmp(a.h1, a.h2) != 0);
	TEST_ERR(acct_password_verify(a.h2, "s3cret-1001"));
	/* Dropping the password drops the hash. */
	TEST_ERR(apply(a.st,
		       "{'tenants':[{'id':'acme','name':'ACME','domain':'acme.test',"
		       "'users':[{'id':'1001','roles':['agent']}]}]}",
		       NULL, a.msg, sizeof(a.msg)));
	TEST_ERR(pw_hash_of(a.st, "acme", "1001", a.h2));
	TEST_ASSERT(!a.h2[0]);
out:
	acme_cleanup(&a);
	return err;
}

#define OPS(pw) \
	"{'tenants':[],'operators':[{'id':'ops','name':'Platform operator','password':'" pw "'}]}"

TEST(test_prov_acct_operators)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	struct store_operator op;
	struct store_token tok = {.hash = TOKEN_OPS,
				  .user_id = "ops",
				  .roles = "[\"operator\"]",
				  .created_ms = 1,
				  .expires_ms = 4000000000000};
	char h1[STORE_PW_HASH_SIZE], msg[512], line[256];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(apply(st, OPS("operator-pass-1"), &sum, msg, sizeof(msg)));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line, "tenants 0, users 0, numbers 0, queues 0, ivr 0, "
				  "operators 1 (1 changed)"));
	TEST_ERR(store_operator_get(st, "ops", &op));
	TEST_ASSERT(!strcmp(op.name, "Platform operator"));
	TEST_ERR(acct_password_verify(op.pw_hash, "operator-pass-1"));
	memcpy(h1, op.pw_hash, sizeof(h1));
	TEST_ERR(store_token_put(st, &tok));
	/* Again: the stored hash still verifies, so nothing changes. */
	TEST_ERR(apply(st, OPS("operator-pass-1"), &sum, msg, sizeof(msg)));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line, "tenants 0, users 0, numbers 0, queues 0, ivr 0, "
				  "operators 1: unchanged"));
	TEST_ERR(store_operator_get(st, "ops", &op));
	TEST_ASSERT(!strcmp(op.pw_hash, h1));
	TEST_EQUALS(0, token_revoked(st, TOKEN_OPS));
	/* A document without the array leaves operators alone. */
	TEST_ERR(apply(st, "{'tenants':[]}", &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.operators.removed);
	TEST_ERR(store_operator_get(st, "ops", &op));
	/* A new password: new hash, tokens revoked. */
	TEST_ERR(apply(st, OPS("operator-pass-2"), &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.operators.changed);
	TEST_ERR(store_operator_get(st, "ops", &op));
	TEST_ERR(acct_password_verify(op.pw_hash, "operator-pass-2"));
	TEST_EQUALS(1, token_revoked(st, TOKEN_OPS));
	/* An empty array: every operator goes, with its tokens. */
	TEST_ERR(apply(st, "{'tenants':[],'operators':[]}", &sum, msg, sizeof(msg)));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line, "tenants 0, users 0, numbers 0, queues 0, ivr 0, "
				  "operators 0 (1 removed)"));
	TEST_EQUALS(-ENOENT, store_operator_get(st, "ops", &op));
	TEST_EQUALS(-ENOENT, token_revoked(st, TOKEN_OPS));
	TEST_EQUALS(0, tmpdb_int(&db, "SELECT count(*) FROM operators"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
