/*
 * Unit tests for provisioning IVR flows, calendars and trunks: a table of
 * bad documents with the exact message each must give (node kinds, routes,
 * prompts, unreachable nodes, loops that never wait for input, within and
 * across flows; time zones, hours, holidays; trunk addresses), then
 * tests/data/prov/flows.json applied to a real store: the stored time zone,
 * calendar and trunks (store_trunk_allowed for IPv4, IPv6 and mapped
 * sources), idempotency, a trunk change counted as a tenant change, and
 * every stored flow loading and running in the IVR engine, so provisioning
 * and the engine can never disagree about what a valid flow is.
 *
 * Documents are written with ' for " to stay readable; q2d() converts them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/mem.h"
#include "base/tz.h"
#include "ivr/ivr.h"
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
#define F0  ",'ivr':[{'id':'main','nodes':["
#define FE  "]}]" END
#define P   "'prompt':{'tts':'Hi'}"
#define HUP "{'hangup':true}"
#define N0  "tenants[0].ivr[0].nodes[0]"

static const struct {
	const char *doc;
	const char *msg;
} bad_docs[] = {
    /* Calendar. */
    {T0 ",'timezone':'Mars/Olympus'" END,
     "tenants[0].timezone: unknown time zone \"Mars/Olympus\" (not in /usr/share/zoneinfo)"},
    {T0 ",'timezone':'../etc/passwd'" END,
     "tenants[0].timezone: invalid time zone \"../etc/passwd\": expected an IANA name such as "
     "\"Asia/Shanghai\""},
    {T0 ",'timezone':8" END, "tenants[0].timezone: expected a string, got an integer"},
    {T0 ",'hours':{'mon':['18:00-09:00']}" END,
     "tenants[0].hours.mon[0]: invalid time range \"18:00-09:00\": expected \"HH:MM-HH:MM\" "
     "(00:00 to 24:00, start before end)"},
    {T0 ",'hours':{'mon':['9-5']}" END,
     "tenants[0].hours.mon[0]: invalid time range \"9-5\": expected \"HH:MM-HH:MM\" "
     "(00:00 to 24:00, start before end)"},
    {T0 ",'hours':{'mon-fri':['09:00-18:00'],'fri':['10:00-12:00']}" END,
     "tenants[0].hours.fri: fri is also given by \"mon-fri\""},
    {T0 ",'hours':{'monday':[]}" END,
     "tenants[0].hours.monday: not a day: use mon, tue, wed, thu, fri, sat, sun or a range "
     "such as mon-fri"},
    {T0 ",'hours':{'fri-mon':[]}" END,
     "tenants[0].hours.fri-mon: not a day: use mon, tue, wed, thu, fri, sat, sun or a "
     "range such as mon-fri"},
    {T0 ",'hours':{'mon':['09:00-12:00','11:00-13:00']}" END,
     "tenants[0].hours.mon[1]: overlaps \"09:00-12:00\""},
    {T0 ",'hours':{'mon':'09:00-12:00'}" END,
     "tenants[0].hours.mon: expected an array of \"HH:MM-HH:MM\", got a string"},
    {T0 ",'holidays':['2026-02-30']" END,
     "tenants[0].holidays[0]: invalid date \"2026-02-30\": expected \"YYYY-MM-DD\" or "
     "\"YYYY-MM-DD/YYYY-MM-DD\""},
    {T0 ",'holidays':['2026-10-07/2026-10-01']" END,
     "tenants[0].holidays[0]: \"2026-10-07/2026-10-01\": the last day must follow the first, "
     "within 366 days"},
    /* Trunks. */
    {T0 ",'trunks':[{'id':'pstn','from':['192.0.2.7/24']}]" END,
     "tenants[0].trunks[0].from[0]: \"192.0.2.7/24\" has address bits set past the prefix: "
     "did you mean \"192.0.2.0/24\"?"},
    {T0 ",'trunks':[{'id':'pstn','from':['2001:db8::1/32']}]" END,
     "tenants[0].trunks[0].from[0]: \"2001:db8::1/32\" has address bits set past the prefix: "
     "did you mean \"2001:db8::/32\"?"},
    {T0 ",'trunks':[{'id':'pstn','from':['carrier.example']}]" END,
     "tenants[0].trunks[0].from[0]: invalid address \"carrier.example\": expected an IPv4 or "
     "IPv6 address, optionally with /prefix"},
    {T0 ",'trunks':[{'id':'pstn','from':[]}]" END,
     "tenants[0].trunks[0].from: needs 1 to 64 addresses"},
    {T0 ",'trunks':[{'id':'pstn','from':['0.0.0.0/0']}]" END,
     "tenants[0].trunks[0].from[0]: \"0.0.0.0/0\" allows every address: list the trunk's own "
     "addresses"},
    {T0 ",'trunks':[{'id':'a','from':['192.0.2.1']},{'id':'a','from':['192.0.2.2']}]" END,
     "tenants[0].trunks[1].id: duplicate trunk id \"a\" (also trunks[0])"},
    {T0 ",'trunks':[{'id':'a'}]" END, "tenants[0].trunks[0].from: required field missing"},
    {T0 ",'trunks':[{'id':'a','from':['192.0.2.1'],'port':5060}]" END,
     "tenants[0].trunks[0].port: unknown field"},
    /* Flows: nodes. */
    {T0 F0 "{'id':'a','type':'dance'}" FE,
     N0 ".type: unknown node type \"dance\": use play, menu, collect, hours, language, set or "
	"branch"},
    {T0 F0 "{'id':'a'," P ",'next':" HUP "}" FE, N0 ".type: required field missing"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':" HUP ",'options':{}}" FE,
     N0 ".options: unknown field"},
    {T0 F0 "{'id':'a','type':'play'," P "}" FE, N0 ".next: required field missing"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'node':'b'}}" FE,
     N0 ".next.node: no node \"b\" in ivr \"main\""},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':" HUP "},{'id':'a','type':'play'," P ",'next':" HUP
	   "}" FE,
     "tenants[0].ivr[0].nodes[1].id: duplicate node id \"a\" (also nodes[0])"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':" HUP "},{'id':'b','type':'play'," P ",'next':" HUP
	   "}" FE,
     "tenants[0].ivr[0].nodes[1]: node \"b\" is never reached from the start node \"a\""},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'node':'b'}},{'id':'b','type':'set','var':"
	   "'x','value':'1','next':{'node':'a'}}" FE,
     N0 ": loop that never waits for input: a > b > a"},
    {T0 F0 "{'id':'a','type':'language','lang':'en','next':{'node':'a'}}" FE,
     N0 ": loop that never waits for input: a > a"},
    /* ...but a loop through a menu waits for the caller, so it is fine:
     * see the good document. Across flows: */
    {T0 ",'ivr':[{'id':'main','nodes':[{'id':'a','type':'play'," P ",'next':{'ivr':'other'}}]},"
	"{'id':'other','nodes':[{'id':'s','type':'set','var':'v','value':'1','next':{'ivr':"
	"'main'}}]}]" END,
     N0 ": loop that never waits for input: main:a > other:s > main:a"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'hangup':false}}" FE,
     N0 ".next.hangup: must be true"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'hangup':true,'queue':'q'}}" FE,
     N0 ".next: needs exactly one of \"node\", \"queue\", \"user\", \"ivr\" or \"hangup\""},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'node':'b'," P "}},{'id':'b','type':'play'," P
	   ",'next':" HUP "}" FE,
     N0 ".next.prompt: goes with \"queue\", \"user\" or \"hangup\" only (a node or flow plays "
	"its own)"},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'ivr':'x'}}" FE,
     N0 ".next.ivr: no ivr \"x\" in tenant \"acme\""},
    {T0 F0 "{'id':'a','type':'play'," P ",'next':{'queue':'q'}}" FE,
     N0 ".next.queue: no queue \"q\" in tenant \"acme\""},
    {T0 F0 "{'id':'a','type':'collect'," P ",'var':'n','min_digits':6,'max_digits':4,'next':" HUP
	   "}" FE,
     N0 ".max_digits: must be at least min_digits (6)"},
    {T0 F0 "{'id':'a','type':'collect'," P ",'var':'n','terminator':'x','next':" HUP "}" FE,
     N0 ".terminator: must be \"#\", \"*\" or \"\" (none)"},
    {T0 F0 "{'id':'a','type':'collect'," P ",'var':'Account','next':" HUP "}" FE,
     N0 ".var: invalid variable name \"Account\": use a-z, 0-9 and '_', not starting with a "
	"digit"},
    {T0 F0 "{'id':'a','type':'collect'," P ",'var':'n','min_digits':33,'next':" HUP "}" FE,
     N0 ".min_digits: must be between 1 and 32, got 33"},
    {T0 F0 "{'id':'a','type':'collect'," P ",'var':'n','mask':'yes','next':" HUP "}" FE,
     N0 ".mask: expected a boolean, got a string"},
    {T0 F0 "{'id':'a','type':'hours','open':" HUP ",'closed':" HUP "}" FE,
     N0 ": needs business hours: give the tenant \"hours\" or this node its own"},
    {T0 F0 "{'id':'a','type':'hours','hours':{'sun':['25:00-26:00']},'open':" HUP ",'closed':" HUP
	   "}" FE,
     N0 ".hours.sun[0]: invalid time range \"25:00-26:00\": expected \"HH:MM-HH:MM\" (00:00 "
	"to 24:00, start before end)"},
    {T0 ",'hours':{}" F0 "{'id':'a','type':'hours','open':" HUP "}" FE,
     N0 ".closed: required field missing"},
    {T0 F0 "{'id':'a','type':'language','lang':'English','next':" HUP "}" FE,
     N0 ".lang: invalid language \"English\": expected a tag such as en, cmn or en-us"},
    {T0 F0 "{'id':'a','type':'set','var':'x','next':" HUP "}" FE,
     N0 ".value: required field missing"},
    {T0 F0 "{'id':'a','type':'branch','var':'x','cases':{},'default':" HUP "}" FE,
     N0 ".cases: needs 1 to 64 cases"},
    {T0 F0 "{'id':'a','type':'branch','var':'x','cases':{'1':" HUP "}}" FE,
     N0 ".default: required field missing"},
    {T0 F0 "{'id':'a','type':'menu'," P "}" FE,
     N0 ": needs \"options\" or \"timeout\": a menu with no way on"},
    {T0 F0 "{'id':'a','type':'menu'," P ",'options':{'1':" HUP "},'retries':10}" FE,
     N0 ".retries: must be between 0 and 9, got 10"},
    {T0 F0 "{'id':'a','type':'menu'," P ",'options':{'1':" HUP "},'invalid':{'file':'/x.wav'}}" FE,
     N0 ".invalid.file: must be a relative path inside the tenant's media folder"},
    /* Prompts. */
    {T0 F0 "{'id':'a','type':'play','prompt':{'file':'a.wav','voice':'en'},'next':" HUP "}" FE,
     N0 ".prompt.voice: goes with \"tts\" only"},
    {T0 F0 "{'id':'a','type':'play','prompt':{'tts':'Hi','voice':'en+F3'},'next':" HUP "}" FE,
     N0 ".prompt.voice: invalid voice \"en+F3\": expected an espeak-ng voice such as en, cmn, "
	"en-us or en+f3"},
    {T0 F0 "{'id':'a','type':'play','prompt':{'tts':{'EN':'Hi'}},'next':" HUP "}" FE,
     N0 ".prompt.tts.EN: not a language tag: use one such as en, cmn or en-us"},
    {T0 F0 "{'id':'a','type':'play','prompt':{'tts':{}},'next':" HUP "}" FE,
     N0 ".prompt.tts: needs 1 to 16 languages"},
    {T0 F0 "{'id':'a','type':'play','prompt':{'tts':'Hi','barge_in':'no'},'next':" HUP "}" FE,
     N0 ".prompt.barge_in: expected a boolean, got a string"},
    {T0 F0 "{'id':'a','type':'play','prompt':{'tts':'Hi','speed':2},'next':" HUP "}" FE,
     N0 ".prompt.speed: unknown field"},
    /* Flows. */
    {T0 ",'ivr':[{'id':'main','start':'z','nodes':[{'id':'a','type':'play'," P ",'next':" HUP
	"}]}]" END,
     "tenants[0].ivr[0].start: no node \"z\" in ivr \"main\""},
    {T0 F0 FE, "tenants[0].ivr[0].nodes: needs 1 to 256 nodes"},
    {T0 ",'ivr':[{'id':'main','nodes':{}}]" END,
     "tenants[0].ivr[0].nodes: expected an array, got an object"},
    {T0 ",'ivr':[{'id':'main'," P ",'nodes':[]}]" END, "tenants[0].ivr[0].prompt: unknown field"},
    {T0 ",'ivr':[{'id':'main','lang':'x','nodes':[]}]" END,
     "tenants[0].ivr[0].lang: invalid language \"x\": expected a tag such as en, cmn or en-us"},
    /* The single-menu shape takes IVR routes too. */
    {T0 ",'ivr':[{'id':'main'," P ",'options':{'1':{'node':'x'}}}]" END,
     "tenants[0].ivr[0].options.1.node: no node \"x\" in ivr \"main\""},
};

TEST(test_prov_ivr_bad_documents)
{
	char doc[4096], msg[512];
	int err = 0;

	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
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
		if (e != -EINVAL || strcmp(msg, bad_docs[i].msg)) {
			test_fail(__FILE__, __LINE__, "case %zu (%d):\n    want %s\n    got  %s", i,
				  e, bad_docs[i].msg, msg);
			err = -EINVAL;
		}
	}
out:
	return err;
}

static int flows_path(char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/prov/flows.json", test_data_dir());

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss = {0};

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return ss;
}

static int allowed(struct store *st, const char *tenant, const char *ip, char *trunk)
{
	struct sockaddr_storage ss = addr(ip);

	return store_trunk_allowed(st, tenant, (struct sockaddr *)&ss, trunk);
}

TEST(test_prov_flows_stored)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	struct store_tenant t;
	char path[512], msg[512], trunk[STORE_ID_SIZE], *cal = NULL, *d1 = NULL, *d2 = NULL;
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(flows_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	err = prov_apply_file(st, path, &sum, msg, sizeof(msg));
	if (err && err != -ENOMEM)
		test_fail(__FILE__, __LINE__, "%s", msg);
	TEST_ERR(err);
	TEST_EQUALS(2, sum.ivr.changed);
	TEST_ERR(store_tenant_get(st, "acme", &t));
	TEST_ASSERT(!strcmp(t.timezone, "Asia/Shanghai"));
	TEST_ERR(store_tenant_get(st, "globex", &t));
	TEST_ASSERT(!strcmp(t.timezone, "UTC"));
	TEST_ERR(store_tenant_calendar_get(st, "acme", &cal));
	TEST_ASSERT(!strcmp(cal, "{\"holidays\":[\"2026-10-01/2026-10-07\",\"2027-01-01\"],"
				 "\"hours\":{\"mon-fri\":[\"09:00-12:00\",\"13:00-18:00\"],"
				 "\"sat\":[\"10:00-14:00\"]}}"));
	cal = (mem_free(cal), NULL);
	TEST_ERR(store_tenant_calendar_get(st, "globex", &cal));
	TEST_ASSERT(!strcmp(cal, "{}"));
	cal = (mem_free(cal), NULL);
	/* Trunks: IPv4 block, single address, IPv6 block, a mapped source. */
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "198.51.100.77", trunk));
	TEST_ASSERT(!strcmp(trunk, "carrier"));
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "192.0.2.10", trunk));
	TEST_ASSERT(!strcmp(trunk, "pbx"));
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "2001:db8:5:1::9", NULL));
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "::ffff:198.51.100.1", trunk));
	TEST_EQUALS(STORE_TRUNK_DENIED, allowed(st, "acme", "192.0.2.11", trunk));
	TEST_EQUALS(STORE_TRUNK_DENIED, allowed(st, "acme", "2001:db8:6::1", trunk));
	TEST_EQUALS(STORE_TRUNK_NONE, allowed(st, "globex", "198.51.100.77", trunk));
	/* Idempotent, trunks and calendar included. */
	d1 = tmpdb_dump(&db);
	TEST_ERR(prov_apply_file(st, path, &sum, msg, sizeof(msg)));
	d2 = tmpdb_dump(&db);
	TEST_ASSERT(d1 && d2 && !strcmp(d1, d2));
	TEST_ASSERT(strstr(d1, "198.51.100.0/24") != NULL);
	TEST_EQUALS(0, sum.tenants.changed + sum.ivr.changed + sum.numbers.changed);
out:
	mem_free(cal);
	sqlite3_free(d1);
	sqlite3_free(d2);
	store_close(st);
	tmpdb_cleanup(&db);
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

TEST(test_prov_trunks_and_calendar_changes)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct prov_summary sum;
	char msg[512], line[256];
	int err = tmpdb_init(&db);

	TEST_ERR(err);
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(apply_text(st, T0 ",'trunks':[{'id':'a','from':['192.0.2.1']}]" END, &sum, msg,
			    sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "192.0.2.1", NULL));
	/* A new source: the tenant changed. */
	TEST_ERR(apply_text(st, T0 ",'trunks':[{'id':'a','from':['192.0.2.1','192.0.2.2']}]" END,
			    &sum, msg, sizeof(msg)));
	TEST_ASSERT(prov_summary_format(&sum, line, sizeof(line)) > 0);
	TEST_ASSERT(!strcmp(line, "tenants 1 (1 changed), users 0, numbers 0, queues 0, ivr 0"));
	TEST_EQUALS(STORE_TRUNK_ALLOWED, allowed(st, "acme", "192.0.2.2", NULL));
	/* Trunks no longer listed are removed; hours and a zone appear. */
	TEST_ERR(apply_text(st,
			    T0 ",'timezone':'America/New_York','hours':{'mon':['09:00-17:00']}" END,
			    &sum, msg, sizeof(msg)));
	TEST_EQUALS(1, sum.tenants.changed);
	TEST_EQUALS(STORE_TRUNK_NONE, allowed(st, "acme", "192.0.2.2", NULL));
	TEST_EQUALS(0, tmpdb_int(&db, "SELECT count(*) FROM trunks"));
	TEST_EQUALS(1, tmpdb_int(&db, "SELECT count(*) FROM tenants WHERE timezone = "
				      "'America/New_York' AND calendar LIKE '%09:00-17:00%'"));
	TEST_ERR(apply_text(st,
			    T0 ",'timezone':'America/New_York','hours':{'mon':['09:00-17:00']}" END,
			    &sum, msg, sizeof(msg)));
	TEST_EQUALS(0, sum.tenants.changed);
out:
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}

/* Every flow provisioning accepts, the engine loads and runs. */
TEST(test_prov_flows_run_in_engine)
{
	struct tmpdb db = {0};
	struct store *st = NULL;
	struct ivr_flow *main_flow = NULL, *simple = NULL;
	struct ivr_hours *hours = NULL;
	struct ivr_run *run = NULL;
	struct tz *tz = NULL;
	struct ivr_action acts[IVR_ACTIONS_MAX];
	/* Monday 2026-03-09, 10:00 in Shanghai. */
	struct ivr_event ev = {.type = IVR_EV_START, .now = INT64_C(1773021600)};
	struct store_tenant t;
	char path[512], msg[512], *json = NULL;
	int err = tmpdb_init(&db), n;

	TEST_ERR(err);
	TEST_ERR(flows_path(path, sizeof(path)));
	TEST_ERR(store_open(&st, db.url, NULL, 0));
	TEST_ERR(prov_apply_file(st, path, NULL, msg, sizeof(msg)));
	TEST_ERR(store_ivr_get(st, "acme", "main", &json));
	TEST_ERR(ivr_flow_load(&main_flow, json));
	json = (mem_free(json), NULL);
	TEST_ERR(store_ivr_get(st, "acme", "simple", &json));
	TEST_ERR(ivr_flow_load(&simple, json));
	json = (mem_free(json), NULL);
	TEST_ERR(store_tenant_calendar_get(st, "acme", &json));
	TEST_ERR(ivr_hours_load(&hours, json));
	TEST_ERR(store_tenant_get(st, "acme", &t));
	TEST_ERR(tz_load(&tz, NULL, t.timezone));
	{
		struct ivr_ctx ctx = {.tz = tz, .hours = hours};

		TEST_ERR(ivr_run_alloc(&run, simple, &ctx));
	}
	/* simple: hold for the main menu, which greets and finds the bank open. */
	n = ivr_run_step(run, &ev, acts, IVR_ACTIONS_MAX);
	TEST_EQUALS(1, n);
	TEST_EQUALS(IVR_ACT_PLAY, acts[0].type);
	ev = (struct ivr_event){.type = IVR_EV_DIGIT, .digit = '9', .now = ev.now};
	n = ivr_run_step(run, &ev, acts, IVR_ACTIONS_MAX);
	TEST_EQUALS(2, n);
	TEST_EQUALS(IVR_ROUTE_IVR, acts[1].route);
	TEST_ASSERT(!strcmp(acts[1].target, "main"));
	n = ivr_run_enter(run, main_flow, ev.now, acts, IVR_ACTIONS_MAX);
	TEST_EQUALS(1, n);
	TEST_ASSERT(!strcmp(acts[0].prompt.text, "Welcome to ACME Bank."));
	ev = (struct ivr_event){.type = IVR_EV_PROMPT_DONE, .id = acts[0].id, .now = ev.now};
	n = ivr_run_step(run, &ev, acts, IVR_ACTIONS_MAX);
	TEST_EQUALS(1, n);
	TEST_ASSERT(!strcmp(acts[0].prompt.text, "For English, press 1. 中文服务请按2。"));
	TEST_ASSERT(
	    !strcmp(ivr_run_path(run), "simple>menu:9>ivr:main>welcome>open=open>language"));
	/* docs/IVR.md's example caller: 2 (Mandarin), 3 (account), 1234567#. */
	for (const char *k = "231234567#"; *k; k++) {
		ev = (struct ivr_event){.type = IVR_EV_DIGIT, .digit = *k, .now = ev.now};
		n = ivr_run_step(run, &ev, acts, IVR_ACTIONS_MAX);
		TEST_ASSERT(n > 0);
	}
	TEST_EQUALS(IVR_ACT_ROUTE, acts[n - 1].type);
	TEST_ASSERT(!strcmp(acts[n - 1].target, "general"));
	TEST_ASSERT(!strcmp(ivr_run_path(run),
			    "simple>menu:9>ivr:main>welcome>open=open>language:2>"
			    "zh=cmn>menu:3>account:1234567>tier>queue:general"));
	TEST_ASSERT(!strcmp(ivr_run_var_get(run, "account"), "1234567"));
out:
	mem_free(json);
	ivr_run_free(run);
	ivr_flow_free(main_flow);
	ivr_flow_free(simple);
	ivr_hours_free(hours);
	tz_free(tz);
	store_close(st);
	tmpdb_cleanup(&db);
	return err;
}
