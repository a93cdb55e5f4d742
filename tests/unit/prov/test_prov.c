/*
 * Unit tests for prov: a table of bad documents, each with the exact
 * message it must give (JSON path and problem); then documents applied to a
 * real SQLite store in a mkdtemp folder: idempotency (a second apply leaves
 * every table byte for byte equal), what a tenant no longer lists is removed
 * while other tenants stay, claims on another tenant's number or domain,
 * domain swaps and number moves, a failure injected mid-apply rolling
 * everything back, registrations kept across re-applies, and the stored HA1
 * values (with no plaintext password anywhere in the file), and the
 * tenant's recording policy (stored canonical, idempotent, a change of the
 * tenant).
 *
 * Documents are written with ' for " to stay readable; q2d() converts them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "prov/prov.h"
#include "store/store.h"
#include "store/tmpdb.h"
#include "test.h"

static void q2d(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = src[i] == '\'' ? '"' : src[i];
	dst[i] = '\0';
}

#define T0  "{'tenants':[{'id':'acme','name':'ACME','domain':'acme.example'"
#define END "}]}"
#define U0  ",'users':[{'id':'1001','password':'s3cret','roles':['agent']"
#define Q0  ",'queues':[{'id':'general'"
#define I0  ",'ivr':[{'id':'main','prompt':{'tts':'Hi'}"
#define N0  ",'numbers':[{'number':'8585100001'"
#define WH  ",'webhooks':"
#define WH0 "[{'id':'crm','url':'http://127.0.0.1:9000/hook','secret':'0123456789abcdef'"
#define WEV ",'events':['task.answered']"

static const struct {
	const char *doc;
	const char *msg; /* exact, or a prefix when it ends with '*' */
} bad_docs[] = {
    {T0 Q0 "},{'id':'loans','strategy':'fastest'}]" END,
     "tenants[0].queues[1].strategy: unknown strategy \"fastest\""},
    {"[]", "document: expected an object, got an array"},
    {"{}", "tenants: required field missing"},
    {"{'tenants':{}}", "tenants: expected an array, got an object"},
    {"{'tenants':[],'extra':1}", "extra: unknown field"},
    {"{'version':2,'tenants':[]}", "version: must be between 1 and 1, got 2"},
    {"{'tenants':[5]}", "tenants[0]: expected an object, got an integer"},
    {"{'tenants':[{'name':'A','domain':'a.example'}]}", "tenants[0].id: required field missing"},
    {"{'tenants':[{'id':'ac me','name':'A','domain':'a.example'}]}",
     "tenants[0].id: invalid id \"ac me\": use letters, digits, '.', '_' and '-', starting "
     "with a letter or digit"},
    {"{'tenants':[{'id':'acme','domain':'a.example'}]}", "tenants[0].name: required field missing"},
    {"{'tenants':[{'id':'acme','name':'A','domain':'ACME.example'}]}",
     "tenants[0].domain: invalid domain \"ACME.example\": expected a lowercase DNS name"},
    {"{'tenants':[{'id':'acme','name':'A','domain':'localhost'}]}",
     "tenants[0].domain: invalid domain \"localhost\": expected a lowercase DNS name"},
    {"{'tenants':[{'id':'acme','name':'A','domain':'-a.example'}]}",
     "tenants[0].domain: invalid domain \"-a.example\": expected a lowercase DNS name"},
    {T0 ",'seats':-1" END, "tenants[0].seats: must be between 0 and 100000, got -1"},
    {T0 ",'seats':'50'" END, "tenants[0].seats: expected an integer, got a string"},
    {T0 ",'seats':1.5" END, "tenants[0].seats: expected an integer, got a number with a fraction"},
    {T0 ",'colour':'red'" END, "tenants[0].colour: unknown field"},
    {T0 ",'district':'Gu\\u0001an'" END,
     "tenants[0].district: must not contain control characters"},
    {"{'tenants':[{'id':'acme','name':'A\\u0000B','domain':'a.example'}]}",
     "document: invalid JSON at line 1, column 42: \\u0000 is not allowed*"},
    {T0 ",'users':{}" END, "tenants[0].users: expected an array, got an object"},
    {T0 U0 "},{'id':'1001','roles':['agent']}]" END,
     "tenants[0].users[1].id: duplicate user id \"1001\" (also users[0])"},
    {T0 ",'users':[{'id':'1001','password':'abc','roles':['agent']}]" END,
     "tenants[0].users[0].password: too short: at least 6 bytes"},
    {T0 ",'users':[{'id':'1001'}]" END, "tenants[0].users[0].roles: required field missing"},
    {T0 ",'users':[{'id':'1001','roles':['boss']}]" END,
     "tenants[0].users[0].roles[0]: unknown role \"boss\""},
    {T0 ",'users':[{'id':'1001','roles':['agent','agent']}]" END,
     "tenants[0].users[0].roles[1]: duplicate role \"agent\""},
    {T0 ",'users':[{'id':'1001','roles':[]}]" END,
     "tenants[0].users[0].roles: needs at least one role"},
    {T0 U0 ",'skills':{'loans':0}}]" END,
     "tenants[0].users[0].skills.loans: must be between 1 and 100, got 0"},
    {T0 U0 ",'email':'li@acme.example'}]" END, "tenants[0].users[0].email: unknown field"},
    {T0 U0 ",'password':7}]" END, "document: invalid JSON at line 1*"}, /* duplicate key */
    {T0 Q0 ",'wrapup_s':4000}]" END,
     "tenants[0].queues[0].wrapup_s: must be between 0 and 3600, got 4000"},
    {T0 Q0 ",'skills':[]}]" END, "tenants[0].queues[0].skills: expected an object, got an array"},
    {T0 Q0 ",'strategy':1}]" END,
     "tenants[0].queues[0].strategy: expected a string, got an integer"},
    {T0 Q0 ",'overflow':{'queue':'nowhere'}}]" END,
     "tenants[0].queues[0].overflow.queue: no queue \"nowhere\" in tenant \"acme\""},
    {T0 ",'queues':[{'id':'a','overflow':{'queue':'b'}},{'id':'b','overflow':{'queue':'a'}}]" END,
     "tenants[0].queues[0].overflow.queue: overflow loops back to queue \"a\""},
    {T0 Q0 ",'overflow':{'queue':'general'}}]" END,
     "tenants[0].queues[0].overflow.queue: overflow loops back to queue \"general\""},
    {T0 Q0 ",'service_level':{'percent':101}}]" END,
     "tenants[0].queues[0].service_level.percent: must be between 1 and 100, got 101"},
    {T0 Q0 ",'service_level':{'target':5}}]" END,
     "tenants[0].queues[0].service_level.target: unknown field"},
    {T0 Q0 "},{'id':'general'}]" END,
     "tenants[0].queues[1].id: duplicate queue id \"general\" (also queues[0])"},
    {T0 Q0 ",'members':[{'user':'1001'}]}]" END,
     "tenants[0].queues[0].members[0].user: no user \"1001\" in tenant \"acme\""},
    {T0 U0 "}]" Q0 ",'members':[{'user':'1001'},{'user':'1001','penalty':2}]}]" END,
     "tenants[0].queues[0].members[1].user: duplicate member \"1001\" (also members[0])"},
    {T0 U0 "}]" Q0 ",'members':[{'user':'1001','penalty':16}]}]" END,
     "tenants[0].queues[0].members[0].penalty: must be between 0 and 15, got 16"},
    {T0 U0 "}]" Q0 ",'members':[{'user':'1001','tier':1}]}]" END,
     "tenants[0].queues[0].members[0].tier: unknown field"},
    {T0 Q0 ",'members':{}}]" END, "tenants[0].queues[0].members: expected an array, got an object"},
    {T0 Q0 ",'announce_s':5}]" END,
     "tenants[0].queues[0].announce_s: must be 0 (none) or at least 10, got 5"},
    {T0 Q0 ",'join_empty':1}]" END,
     "tenants[0].queues[0].join_empty: expected true or false, got an integer"},
    {T0 Q0 ",'tier_wait_s':0}]" END,
     "tenants[0].queues[0].tier_wait_s: must be between 1 and 3600, got 0"},
    {T0 ",'pause_reasons':{'1':'lunch'}" END,
     "tenants[0].pause_reasons.1: reason codes are 2 to 99 (1 is \"missed\")"},
    {T0 ",'pause_reasons':{'02':'lunch'}" END,
     "tenants[0].pause_reasons.02: reason codes are 2 to 99 (1 is \"missed\")"},
    {T0 ",'pause_reasons':{'2':'missed'}" END,
     "tenants[0].pause_reasons.2: \"missed\" is the platform's reason 1"},
    {T0 ",'pause_reasons':{'2':'a b'}" END, "tenants[0].pause_reasons.2: *"},
    {T0 ",'pause_reasons':[]" END, "tenants[0].pause_reasons: expected an object, got an array"},
    {T0 ",'ivr':[{'id':'main','timeout':{'queue':'x'}}]" END,
     "tenants[0].ivr[0].prompt: required field missing"},
    {T0 ",'ivr':[{'id':'main','prompt':{'tts':'Hi','file':'a.wav'}}]" END,
     "tenants[0].ivr[0].prompt: needs exactly one of \"tts\" or \"file\""},
    {T0 ",'ivr':[{'id':'main','prompt':{'file':'../../etc/passwd'}}]" END,
     "tenants[0].ivr[0].prompt.file: must be a relative path inside the tenant's media folder"},
    {T0 I0 ",'options':{'x':{'ivr':'main'}}}]" END,
     "tenants[0].ivr[0].options.x: not a DTMF key: use 0-9, * or #"},
    {T0 I0 ",'options':{'*':{'user':'9'}}}]" END,
     "tenants[0].ivr[0].options[\"*\"].user: no user \"9\" in tenant \"acme\""},
    {T0 I0 "}]" END, "tenants[0].ivr[0]: needs \"options\" or \"timeout\": a menu with no way on"},
    {T0 I0 ",'timeout':{'queue':'general'},'timeout_s':0}]" END,
     "tenants[0].ivr[0].timeout_s: must be between 1 and 60, got 0"},
    {T0 N0 ",'route':{'ivr':'main'}}],'numbers':[]" END, "document: invalid JSON at line 1*"},
    {T0 ",'numbers':[{'number':'abc','route':{'ivr':'main'}}]" END,
     "tenants[0].numbers[0].number: invalid number \"abc\": expected 3 to 20 digits, "
     "optionally after '+'"},
    {T0 N0 "}]" END, "tenants[0].numbers[0].route: required field missing"},
    {T0 Q0 "}]" I0 ",'timeout':{'queue':'general'}}]" N0
	   ",'route':{'ivr':'main','queue':'general'}}]" END,
     "tenants[0].numbers[0].route: needs exactly one of \"ivr\", \"queue\" or \"user\""},
    {T0 N0 ",'route':{'voicemail':'1001'}}]" END,
     "tenants[0].numbers[0].route.voicemail: unknown field"},
    {T0 N0 ",'route':{'ivr':'main'}}]" END,
     "tenants[0].numbers[0].route.ivr: no ivr \"main\" in tenant \"acme\""},
    {T0 N0 ",'route':{'queue':5}}]" END,
     "tenants[0].numbers[0].route.queue: expected a string, got an integer"},
    {T0 N0 ",'route':'main'}]" END,
     "tenants[0].numbers[0].route: expected an object, got a string"},
    {"{'tenants':[{'id':'acme','name':'A','domain':'a.example'},"
     "{'id':'acme','name':'B','domain':'b.example'}]}",
     "tenants[1].id: duplicate tenant id \"acme\" (also tenants[0])"},
    {"{'tenants':[{'id':'acme','name':'A','domain':'a.example'},"
     "{'id':'globex','name':'B','domain':'a.example'}]}",
     "tenants[1].domain: domain \"a.example\" is also used by tenants[0]"},
    /* A route names an object of its own tenant only. */
    {"{'tenants':[{'id':'acme','name':'A','domain':'a.example','queues':[{'id':'q'}]},"
     "{'id':'globex','name':'B','domain':'b.example',"
     "'numbers':[{'number':'123','route':{'queue':'q'}}]}]}",
     "tenants[1].numbers[0].route.queue: no queue \"q\" in tenant \"globex\""},
    {"{'tenants':[{'id':'acme','name':'A','domain':'a.example','queues':[{'id':'q'}],"
     "'numbers':[{'number':'123','route':{'queue':'q'}}]},"
     "{'id':'globex','name':'B','domain':'b.example','queues':[{'id':'q'}],"
     "'numbers':[{'number':'123','route':{'queue':'q'}}]}]}",
     "tenants[1].numbers[0].number: number \"123\" is also listed at tenants[0].numbers[0]"},
    {"{'tenants': [}", "document: invalid JSON at line 1, column 14*"},
    /* The recording policy: "none", "all" or queues of the tenant. */
    {T0 ",'recording':'some'" END,
     "tenants[0].recording: unknown recording policy \"some\": use \"none\", \"all\" or "
     "{\"queues\": [...]}"},
    {T0 ",'recording':true" END,
     "tenants[0].recording: expected a string or an object, got a boolean"},
    {T0 ",'recording':{'queue':'general'}" END, "tenants[0].recording.queue: unknown field"},
    {T0 ",'recording':{}" END, "tenants[0].recording.queues: required field missing"},
    {T0 ",'recording':{'queues':'general'}" END,
     "tenants[0].recording.queues: expected an array, got a string"},
    {T0 Q0 "}],'recording':{'queues':[]}" END,
     "tenants[0].recording.queues: needs at least one queue (\"none\" records nothing)"},
    {T0 Q0 "}],'recording':{'queues':['general','loans']}" END,
     "tenants[0].recording.queues[1]: no queue \"loans\" in tenant \"acme\""},
    {T0 Q0 "}],'recording':{'queues':['general','general']}" END,
     "tenants[0].recording.queues[1]: duplicate queue \"general\" (also queues[0])"},
    {T0 Q0 "}],'recording':{'queues':[7]}" END,
     "tenants[0].recording.queues[0]: expected a string, got an integer"},
    /* Platform operators (docs/PROVISIONING.md "Operator"). */
    {"{'tenants':[],'operators':{}}", "operators: expected an array, got an object"},
    {"{'tenants':[],'operators':[1]}", "operators[0]: expected an object, got an integer"},
    {"{'tenants':[],'operators':[{'name':'Ops'}]}", "operators[0].id: required field missing"},
    {"{'tenants':[],'operators':[{'id':'ops'}]}", "operators[0].password: required field missing"},
    {"{'tenants':[],'operators':[{'id':'ops','password':'short-pass'}]}",
     "operators[0].password: too short: at least 12 bytes"},
    {"{'tenants':[],'operators':[{'id':'ops','password':'long-enough-pass','roles':[]}]}",
     "operators[0].roles: unknown field"},
    {"{'tenants':[],'operators':[{'id':'ops','password':'long-enough-pass'},"
     "{'id':'ops','password':'long-enough-pass'}]}",
     "operators[1].id: duplicate operator id \"ops\" (also operators[0])"},
    {"{'tenants':[],'operators':[{'id':'ops','name':7,'password':'long-enough-pass'}]}",
     "operators[0].name: expected a string, got an integer"},
    {"{'operators':[]}", "tenants: required field missing"},
    /* Found by fuzz_prov: what a message quotes from the document is
     * escaped and cut, so it stays one readable line. */
    {"{'tenants':[],'a\\nb':1}", "[\"a\\x0ab\"]: unknown field"},
    {"{'tenants':[],'"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx':1}",
     "[\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"]: unknown field"},
    /* Webhooks (docs/PROVISIONING.md "Webhook"). */
    {T0 WH "{}" END, "tenants[0].webhooks: expected an array, got an object"},
    {T0 WH "[5]" END, "tenants[0].webhooks[0]: expected an object, got an integer"},
    {T0 WH WH0 WEV ",'method':'PUT'}]" END, "tenants[0].webhooks[0].method: unknown field"},
    {T0 WH "[{'url':'http://a.example/','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].id: required field missing"},
    {T0 WH "[{'id':'crm','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].url: required field missing"},
    {T0 WH "[{'id':'crm','url':'ftp://a.example/','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].url: \"ftp://a.example/\" is not an http:// or https:// URL"},
    {T0 WH "[{'id':'crm','url':'https:///x','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].url: \"https:///x\" has no host"},
    {T0 WH "[{'id':'crm','url':'http://u:p@a.example/','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].url: \"http://u:p@a.example/\" has credentials: the webhook's "
     "secret authenticates"},
    {T0 WH "[{'id':'crm','url':'http://a.example/a b','secret':'0123456789abcdef'" WEV "}]" END,
     "tenants[0].webhooks[0].url: \"http://a.example/a b\" has characters a URL must escape"},
    {T0 WH "[{'id':'crm','url':'http://a.example/','secret':'short'" WEV "}]" END,
     "tenants[0].webhooks[0].secret: too short: at least 16 bytes"},
    {T0 WH "[{'id':'crm','url':'http://a.example/'" WEV "}]" END,
     "tenants[0].webhooks[0].secret: required field missing"},
    {T0 WH WH0 "}]" END, "tenants[0].webhooks[0].events: required field missing"},
    {T0 WH WH0 ",'events':'*'}]" END,
     "tenants[0].webhooks[0].events: expected an array, got a string"},
    {T0 WH WH0 ",'events':[]}]" END,
     "tenants[0].webhooks[0].events: must name at least one event type (or \"*\": all)"},
    {T0 WH WH0 ",'events':['task.answered','call.started']}]" END,
     "tenants[0].webhooks[0].events[1]: unknown event type \"call.started\": use agent.state, "
     "task.queued, task.offered, task.answered, task.ended, task.missed, queue.metrics, "
     "config.changed, registration or \"*\""},
    {T0 WH WH0 ",'events':['task.ended','task.ended']}]" END,
     "tenants[0].webhooks[0].events[1]: \"task.ended\" is listed twice (also events[0])"},
    {T0 WH WH0 ",'events':[3]}]" END,
     "tenants[0].webhooks[0].events[0]: expected a string, got an integer"},
    {T0 WH WH0 WEV "},"
		   "{'id':'crm','url':'https://b.example/','secret':'0123456789abcdef'" WEV
		   "}]" END,
     "tenants[0].webhooks[1].id: duplicate webhook id \"crm\" (also webhooks[0])"},
    {"{'tenants':[{'id':'a\\tb','name':'A','domain':'a.example'}]}",
     "tenants[0].id: invalid id \"a\\x09b\": use letters, digits, '.', '_' and '-', starting "
     "with a letter or digit"},
};

TEST(test_prov_bad_documents)
{
	char doc[2048], msg[512];
	int err = 0;

	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		const char *exp = bad_docs[i].msg;
		size_t len = strlen(exp);
		struct prov_doc *d = NULL;
		int e;

		q2d(doc, sizeof(doc), bad_docs[i].doc);
		msg[0] = '\0';
		e = prov_parse(&d, doc, strlen(doc), msg, sizeof(msg));
		d = prov_doc_free(d);
		if (e == -ENOMEM) {
			err = e;
			goto out;
		}
		if (e != -EINVAL)
			test_fail(__FILE__, __LINE__, "case %zu: accepted (%d): %s", i, e, doc);
		if (exp[len - 1] == '*' ? strncmp(msg, exp, len - 1) != 0 : strcmp(msg, exp) != 0)
			test_fail(__FILE__, __LINE__, "case %zu:\n    expected %s\n    got      %s",
				  i, exp, msg);
		if (e != -EINVAL ||
		    (exp[len - 1] == '*' ? strncmp(msg, exp, len - 1) != 0 : strcmp(msg, exp) != 0))
			err = -EINVAL;
	}
	TEST_ASSERT(sizeof(bad_docs) / sizeof(bad_docs[0]) >= 30);
out:
	return err;
}

TEST(test_prov_parse_limits)
{
	struct prov_doc *d = NULL;
	char msg[128];
	int err = 0;

	TEST_EQUALS(-EINVAL, prov_parse(&d, "", 0, msg, sizeof(msg)));
	TEST_ASSERT(!strncmp(msg, "document: invalid JSON", 22));
	TEST_EQUALS(-EINVAL, prov_parse(&d, "{}", PROV_DOC_MAX + 1, msg, sizeof(msg)));
	TEST_ASSERT(!strcmp(msg, "document: too large: at most 16777216 bytes"));
	/* A tiny error buffer truncates and never overruns. */
	TEST_EQUALS(-EINVAL, prov_parse(&d, "{}", 2, msg, 5));
	TEST_ASSERT(!strcmp(msg, "tena"));
	TEST_EQUALS(-EINVAL, prov_parse(&d, "{}", 2, NULL, 0));
	TEST_ERR(prov_parse(&d, "{\"tenants\":[]}", 14, msg, sizeof(msg)));
out:
	prov_doc_free(d);
	return err;
}

/* Parse the '-quoted @sq and apply it. */
static int apply_text(struct store *st, const char *sq, struct prov_summary *sum, char *msg,
		      size_t len)
{
	static char doc[8192];
	struct prov_doc *d = NULL;
	int err;

	q2d(doc, sizeof(doc), sq);
	err = prov_parse(&d, doc, strlen(doc), msg, len);
	if (!err)
		err = prov_apply(st, d, sum, msg, len);
	prov_doc_free(d);
	return err;
}

/*
 * The good document. Under --oom, good-oom.json: the same without the
 * users' passwords, since every failure iteration would hash them with
 * argon2id again (minutes in all); passwords under --oom are the business
 * of test_prov_ha1_no_plaintext (@passwords) and test_prov_acct.c.
 */
static int good_doc(char *buf, size_t size, bool passwords)
{
	int n = snprintf(buf, size, "%s/prov/%s", test_data_dir(),
			 test_oom_mode() && !passwords ? "good-oom.json" : "good.json");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int good_path(char *buf, size_t size)
{
	return good_doc(buf, size, false);
}

static bool dump_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

TEST(test_prov_apply_idempotent)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	char path[512], msg[512], line[256];
	char *d1 = NULL, *d2 = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, &sum, msg, sizeof(msg)));
	TEST_EQUALS(2, sum.tenants.total);
	TEST_EQUALS(2, sum.tenants.changed);
	TEST_EQUALS(4, sum.users.changed);
	TEST_EQUALS(3, sum.numbers.changed);
	TEST_EQUALS(3, sum.queues.changed);
	TEST_EQUALS(1, sum.ivr.changed);
	d1 = tmpdb_dump(&db);
	TEST_ERR(prov_apply_file(st, path, &sum, msg, sizeof(msg)));
	d2 = tmpdb_dump(&db);
	TEST_ASSERT(dump_eq(d1, d2));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line, "tenants 2, users 4, numbers 3, queues 3, ivr 1: unchanged"));
	/* The same document through a fresh connection: still nothing. */
	st = store_close(st);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.tenants.changed + sum.users.changed + sum.numbers.changed +
			   sum.queues.changed + sum.ivr.changed);
out:
	sqlite3_free(d1);
	sqlite3_free(d2);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_ha1_no_plaintext)
{
	static char bytes[1 << 20];
	struct tmpdb db = {0};
	struct store *st = NULL;
	char path[512], msg[512], ha1[STORE_HA1_SIZE];
	char *dump = NULL;
	ssize_t n;
	int fd, err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_doc(path, sizeof(path), true));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	/* md5sum / sha256sum of "1001:acme.example:s3cret-1001". */
	TEST_ERR(store_user_get_ha1(st, "acme.example", "1001", STORE_HA1_MD5, ha1));
	TEST_ASSERT(!strcmp(ha1, "288a9cf9d3ff086df6de1ecfac3e6dbf"));
	TEST_ERR(store_user_get_ha1(st, "acme.example", "1001", STORE_HA1_SHA256, ha1));
	TEST_ASSERT(
	    !strcmp(ha1, "c68884ee93216c70b93efa6e605ee4d310d9e81c4912fa77350747e89d1137d3"));
	/* Same user id, other tenant: another realm, another password. */
	TEST_ERR(store_user_get_ha1(st, "globex.example", "1001", STORE_HA1_MD5, ha1));
	TEST_ASSERT(strcmp(ha1, "288a9cf9d3ff086df6de1ecfac3e6dbf") != 0);
	st = store_close(st); /* checkpoints the WAL into the file */
	/* Every stored value, whatever the backend: HA1s, no password. */
	dump = tmpdb_dump(&db);
	TEST_ASSERT(dump && strstr(dump, "288a9cf9d3ff086df6de1ecfac3e6dbf") != NULL);
	TEST_ASSERT(strstr(dump, "s3cret") == NULL && strstr(dump, "adm1n-pass") == NULL);
	/* The bytes on disk too; a PostgreSQL server's files are not ours to
	 * read (another host, another user), the dump above stands for them. */
	if (tmpdb_pg(&db))
		goto out;
	fd = open(db.path, O_RDONLY);
	TEST_ASSERT(fd >= 0);
	n = read(fd, bytes, sizeof(bytes));
	close(fd);
	TEST_ASSERT(n > 0 && (size_t)n < sizeof(bytes));
	TEST_ASSERT(memmem(bytes, (size_t)n, "s3cret", 6) == NULL);
	TEST_ASSERT(memmem(bytes, (size_t)n, "adm1n-pass", 10) == NULL);
	TEST_ASSERT(memmem(bytes, (size_t)n, "288a9cf9d3ff086df6de1ecfac3e6dbf", 32) != NULL);
out:
	sqlite3_free(dump);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* acme again, without user 1002, number +8585100002 and the IVR; queue
 * general now round-robin; globex not listed. */
static const char acme_v2[] =
    "{'tenants':[{'id':'acme','name':'ACME Bank','domain':'acme.example','seats':50,"
    "'district':'Guanshanhu','park':'Big Data Valley',"
    "'numbers':[{'number':'8585100001','route':{'queue':'loans'}}],"
    "'users':[{'id':'1001','name':'Li Na','password':'s3cret-1001','roles':['agent'],"
    "'skills':{'loans':5,'cards':2}},"
    "{'id':'admin','password':'adm1n-pass','roles':['tenant-admin','supervisor']}],"
    "'queues':[{'id':'loans','strategy':'longest-idle','skills':{'loans':1},"
    "'wrapup_s':10,'max_wait_s':300,'overflow':{'queue':'general'}},"
    "{'id':'general','strategy':'round-robin','priority':1,"
    "'service_level':{'seconds':30,'percent':90}}]}]}";

TEST(test_prov_prune_listed_tenant_only)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	struct store_tenant t;
	char path[512], msg[512], line[256];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	TEST_ERR(apply_text(st, acme_v2, &sum, msg, sizeof(msg)));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line,
			    "tenants 1, users 2 (1 removed), numbers 1 (1 changed, 1 removed),"
			    " queues 2 (1 changed), ivr 0 (1 removed)"));
	TEST_EQUALS(2, tmpdb_int(&db, "SELECT count(*) FROM users WHERE tenant_id = 'acme'"));
	TEST_EQUALS(0, tmpdb_int(&db, "SELECT count(*) FROM credentials WHERE user_id = '1002'"));
	TEST_EQUALS(0, tmpdb_int(&db, "SELECT count(*) FROM ivr"));
	/* globex is not in the document: left alone. */
	TEST_ERR(store_tenant_get(st, "globex", &t));
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM users WHERE tenant_id = 'globex'"));
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM numbers WHERE tenant_id = 'globex'"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_rollback_on_failure)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char path[512], msg[512];
	char *d1 = NULL, *d2 = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	/* A fault halfway: the tenant, user and queue writes come first and
	 * succeed, then any write to numbers fails (a trigger, as a full disk
	 * or a constraint would). */
	if (tmpdb_pg(&db))
		TEST_ERR(tmpdb_exec(&db,
				    "CREATE FUNCTION fail_write() RETURNS trigger"
				    " LANGUAGE plpgsql AS $$BEGIN RAISE 'injected'; END$$;"
				    "CREATE TRIGGER fail_ins BEFORE INSERT OR UPDATE ON numbers"
				    " FOR EACH ROW EXECUTE FUNCTION fail_write();"));
	else
		TEST_ERR(tmpdb_exec(&db, "CREATE TRIGGER fail_ins BEFORE INSERT ON numbers"
					 " BEGIN SELECT RAISE(ABORT, 'injected'); END;"
					 "CREATE TRIGGER fail_upd BEFORE UPDATE ON numbers"
					 " BEGIN SELECT RAISE(ABORT, 'injected'); END;"));
	d1 = tmpdb_dump(&db);
	err = apply_text(st, acme_v2, NULL, msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_ASSERT(err < 0);
	err = 0;
	TEST_ASSERT(!strncmp(msg, "store: ", 7));
	d2 = tmpdb_dump(&db);
	TEST_ASSERT(dump_eq(d1, d2));
	/* The store is usable afterwards, outside any transaction. */
	TEST_ERR(store_begin(st));
	TEST_ERR(store_rollback(st));
out:
	sqlite3_free(d1);
	sqlite3_free(d2);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_claims_of_other_tenants)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char path[512], msg[512];
	char *d1 = NULL, *d2 = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	d1 = tmpdb_dump(&db);
	err = apply_text(st,
			 "{'tenants':[{'id':'initech','name':'Initech','domain':'initech.example',"
			 "'queues':[{'id':'q'}],'numbers':[{'number':'8585200001',"
			 "'route':{'queue':'q'}}]}]}",
			 NULL, msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_EQUALS(-EEXIST, err);
	TEST_ASSERT(!strcmp(msg, "tenants[0].numbers[0].number: number \"8585200001\" is already "
				 "owned by tenant \"globex\""));
	err = apply_text(st, "{'tenants':[{'id':'initech','name':'I','domain':'globex.example'}]}",
			 NULL, msg, sizeof(msg));
	if (err == -ENOMEM)
		goto out;
	TEST_EQUALS(-EEXIST, err);
	err = 0;
	TEST_ASSERT(!strcmp(msg, "tenants[0].domain: domain \"globex.example\" is already used by "
				 "tenant \"globex\""));
	d2 = tmpdb_dump(&db);
	TEST_ASSERT(dump_eq(d1, d2));
out:
	sqlite3_free(d1);
	sqlite3_free(d2);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_swap_domains_move_number)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_number n;
	struct store_tenant t;
	char path[512], msg[512];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	/* Both tenants in the document: they may swap domains and hand over a
	 * number between them. */
	TEST_ERR(apply_text(st,
			    "{'tenants':[{'id':'acme','name':'A','domain':'globex.example',"
			    "'queues':[{'id':'q'}],'numbers':[{'number':'8585200001',"
			    "'route':{'queue':'q'}}]},"
			    "{'id':'globex','name':'G','domain':'acme.example'}]}",
			    NULL, msg, sizeof(msg)));
	TEST_ERR(store_tenant_by_domain(st, "acme.example", &t));
	TEST_ASSERT(!strcmp(t.id, "globex"));
	TEST_ERR(store_number_get(st, "8585200001", &n));
	TEST_ASSERT(!strcmp(n.tenant_id, "acme"));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

static int count_bindings(const struct store_binding *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

TEST(test_prov_keeps_registrations)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct store_binding b = {
	    .tenant_id = "acme",
	    .aor = "1001",
	    .contact = "sip:1001@192.0.2.10",
	    .expires_at = 2000000000,
	    .call_id = "c1",
	    .cseq = 1,
	    .path = "",
	    .received = "192.0.2.10:5060",
	    .instance = "",
	};
	char path[512], msg[512];
	int n = 0, err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(good_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	TEST_ERR(store_binding_put(st, &b));
	b.aor = "1002";
	TEST_ERR(store_binding_put(st, &b));
	/* Re-applying keeps them; the document without 1002 drops its one. */
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	TEST_ERR(store_binding_list(st, count_bindings, &n));
	TEST_EQUALS(2, n);
	TEST_ERR(apply_text(st, acme_v2, NULL, msg, sizeof(msg)));
	n = 0;
	TEST_ERR(store_binding_list(st, count_bindings, &n));
	TEST_EQUALS(1, n);
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* The stored policy as text, or "" when it cannot be read. */
static void policy_of(struct store *st, const char *tenant, char *buf, size_t size)
{
	char *json = NULL;

	buf[0] = '\0';
	if (!store_tenant_recording_get(st, tenant, &json))
		snprintf(buf, size, "%s", json);
	mem_free(json);
}

TEST(test_prov_recording_policy)
{
	static const char all[] = "{'tenants':[{'id':'acme','name':'A','domain':'a.example',"
				  "'queues':[{'id':'loans'},{'id':'cards'}],'recording':'all'}]}";
	static const char queues[] =
	    "{'tenants':[{'id':'acme','name':'A','domain':'a.example',"
	    "'queues':[{'id':'loans'},{'id':'cards'}],'recording':{'queues':['loans','cards']}}]}";
	static const char none[] = "{'tenants':[{'id':'acme','name':'A','domain':'a.example',"
				   "'queues':[{'id':'loans'},{'id':'cards'}]}]}";
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	char msg[512], pol[128];
	char *d1 = NULL, *d2 = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(apply_text(st, all, &sum, msg, sizeof(msg)));
	policy_of(st, "acme", pol, sizeof(pol));
	TEST_ASSERT(!strcmp(pol, "\"all\""));
	/* Applying it again writes nothing. */
	d1 = tmpdb_dump(&db);
	TEST_ERR(apply_text(st, all, &sum, msg, sizeof(msg)));
	d2 = tmpdb_dump(&db);
	TEST_ASSERT(dump_eq(d1, d2));
	TEST_EQUALS(0, sum.tenants.changed);
	/* A new policy is a change of the tenant; stored as canonical JSON. */
	TEST_ERR(apply_text(st, queues, &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	policy_of(st, "acme", pol, sizeof(pol));
	TEST_ASSERT(!strcmp(pol, "{\"queues\":[\"loans\",\"cards\"]}"));
	TEST_ERR(apply_text(st, queues, &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.tenants.changed);
	/* Left out: back to recording nothing. */
	TEST_ERR(apply_text(st, none, &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	policy_of(st, "acme", pol, sizeof(pol));
	TEST_ASSERT(!strcmp(pol, "\"none\""));
out:
	sqlite3_free(d1);
	sqlite3_free(d2);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

static int acd_queue_row(const struct store_queue *q, void *arg)
{
	char *out = arg;

	snprintf(out, 256, "%s|%s|%s|%u|%u|%d", q->id, q->strategy, q->members ? q->members : "-",
		 q->announce_s, q->tier_wait_s, q->join_empty);
	return 0;
}

/* Queue members, announcements and pause reasons are stored canonical and
 * applied idempotently. */
TEST(test_prov_acd_settings)
{
	static const char doc[] =
	    "{'tenants':[{'id':'acme','name':'A','domain':'a.example',"
	    "'pause_reasons':{'3':'lunch','2':'break'},"
	    "'users':[{'id':'1001','roles':['agent']},{'id':'1002','roles':['agent']}],"
	    "'queues':[{'id':'vip','strategy':'bullseye','announce_s':30,'tier_wait_s':15,"
	    "'join_empty':false,'members':[{'user':'1002','penalty':1},{'user':'1001'}]}]}]}";
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	char msg[512], row[256] = "";
	char *json = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(apply_text(st, doc, &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, store_queue_list(st, "acme", acd_queue_row, row));
	TEST_ASSERT(!strcmp(row, "vip|bullseye|[{\"penalty\":1,\"user\":\"1002\"},"
				 "{\"user\":\"1001\"}]|30|15|0"));
	TEST_ERR(store_tenant_pause_reasons_get(st, "acme", &json));
	TEST_ASSERT(!strcmp(json, "{\"2\":\"break\",\"3\":\"lunch\"}"));
	TEST_ERR(apply_text(st, doc, &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.queues.changed);
	TEST_EQUALS(0, sum.tenants.changed);
out:
	mem_free(json);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_apply_file_errors)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	char msg[512];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_EQUALS(-ENOENT, prov_apply_file(st, "/nonexistent/doc.json", NULL, msg, sizeof(msg)));
	TEST_ASSERT(!strcmp(msg, "cannot read /nonexistent/doc.json: No such file or directory"));
	err = prov_apply_file(st, db.dir, NULL, msg, sizeof(msg));
	TEST_ASSERT(err == -EISDIR || err == -ENOMEM);
	err = 0;
	/* Inside a caller's transaction: refused, and theirs is left open. */
	TEST_ERR(store_begin(st));
	TEST_EQUALS(-EALREADY, apply_text(st, "{'tenants':[]}", NULL, msg, sizeof(msg)));
	TEST_ERR(store_rollback(st));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* A tenant's webhooks: stored with canonical events, idempotent, a change
 * of the tenant, pruned when no longer listed. */
static int webhook_row(const struct store_webhook *w, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s %s %s %s\n", w->id, w->url, w->secret, w->events);
	return 0;
}

TEST(test_prov_webhook_apply)
{
	static const char two[] =
	    T0 WH WH0 ",'events':['task.ended','agent.state']},"
		      "{'id':'erp','url':'https://erp.example/in?k=1','secret':'fedcba9876543210',"
		      "'events':['*']}]" END;
	static const char one[] = T0 WH WH0 ",'events':['task.ended']}]" END;
	static const char none[] = "{'tenants':[{'id':'acme','name':'ACME','domain':'acme.example'"
				   "}]}";
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	char seen[512] = "", msg[512];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(apply_text(st, two, &sum, msg, sizeof(msg)));
	TEST_EQUALS(2, store_webhook_list(st, "acme", webhook_row, seen));
	TEST_ASSERT(!strcmp(seen, "crm http://127.0.0.1:9000/hook 0123456789abcdef "
				  "[\"task.ended\",\"agent.state\"]\n"
				  "erp https://erp.example/in?k=1 fedcba9876543210 [\"*\"]\n"));
	TEST_ERR(apply_text(st, two, &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.tenants.changed);
	/* One left, with other events: a change of the tenant. */
	TEST_ERR(apply_text(st, one, &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	seen[0] = '\0';
	TEST_EQUALS(1, store_webhook_list(st, "acme", webhook_row, seen));
	TEST_ASSERT(!strcmp(seen, "crm http://127.0.0.1:9000/hook 0123456789abcdef "
				  "[\"task.ended\"]\n"));
	/* Not listed any more: none. */
	TEST_ERR(apply_text(st, none, &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	TEST_EQUALS(0, store_webhook_list(st, "acme", webhook_row, seen));
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

TEST(test_prov_summary_format)
{
	struct prov_summary s = {.tenants = {1, 1, 0}, .users = {3, 1, 2}, .numbers = {2, 0, 1}};
	char line[256];
	int err = 0;

	TEST_ASSERT(prov_summary_format(&s, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line,
			    "tenants 1 (1 changed), users 3 (1 changed, 2 removed), numbers 2 "
			    "(1 removed), queues 0, ivr 0"));
	TEST_EQUALS(-ENOSPC, prov_summary_format(&s, line, 10));
	TEST_EQUALS(-EINVAL, prov_summary_format(NULL, line, sizeof(line)));
out:
	return err;
}
