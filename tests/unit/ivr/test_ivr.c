/*
 * Unit tests for the IVR engine (ivr.h): every node kind driven through
 * events, with the actions of each step written out as one line
 * ("stop | play(cmn,b):...") so each test reads as a call script. Menus with
 * retries, invalid keys and timeouts; collect with terminator, bounds,
 * masking and timeouts; business hours in Asia/Shanghai and across New
 * York's daylight-saving change, holidays by local date; language, set and
 * branch; barge-in and type-ahead; stale prompt and timer answers; routes
 * with prompts; moving to another flow; the engine's loop guard; and the
 * loader refusing damaged flow texts.
 *
 * Flows are written with ' for " to stay readable; q2d() converts them.
 */
#include <stdio.h>

#include "base/mem.h"
#include "base/tz.h"
#include "ivr/ivr.h"
#include "test.h"

static char jbuf[8192];

static const char *q2d(const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < sizeof(jbuf); i++)
		jbuf[i] = src[i] == '\'' ? '"' : src[i];
	jbuf[i] = '\0';
	return jbuf;
}

/* A run and what its last step asked for. */
struct h {
	struct ivr_run *run;
	struct ivr_action acts[IVR_ACTIONS_MAX];
	int n;
	uint32_t play_id, timer_id;
	int64_t now;
	char line[1024];
};

static const char *fmt(struct h *h)
{
	size_t len = 0;

	h->line[0] = '\0';
	for (int i = 0; i < h->n; i++) {
		const struct ivr_action *a = &h->acts[i];
		const struct ivr_prompt *p = &a->prompt;
		char pr[600] = "";

		if (p->text)
			snprintf(pr, sizeof(pr), "play(%s%s):%s",
				 p->kind == IVR_PROMPT_FILE ? "file" : p->voice,
				 p->barge_in ? ",b" : "", p->text);
		len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "%s", i ? " | " : "");
		switch (a->type) {
		case IVR_ACT_PLAY:
			h->play_id = a->id;
			len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "%s", pr);
			break;
		case IVR_ACT_STOP_PLAY:
			len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "stop");
			break;
		case IVR_ACT_START_TIMER:
			h->timer_id = a->id;
			len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "timer:%u",
						a->ms);
			break;
		case IVR_ACT_CANCEL_TIMER:
			len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "cancel");
			break;
		case IVR_ACT_ROUTE:
			len += (size_t)snprintf(h->line + len, sizeof(h->line) - len, "%s%s%s%s%s",
						a->route == IVR_ROUTE_QUEUE  ? "queue"
						: a->route == IVR_ROUTE_USER ? "user"
						: a->route == IVR_ROUTE_IVR  ? "ivr"
									     : "hangup",
						a->target ? ":" : "", a->target ? a->target : "",
						p->text ? "+" : "", pr);
			break;
		}
		if (len >= sizeof(h->line))
			len = sizeof(h->line) - 1;
	}
	return h->line;
}

static const char *ev(struct h *h, enum ivr_event_type type, uint32_t id, char digit)
{
	struct ivr_event e = {.type = type, .id = id, .digit = digit, .now = h->now};

	h->n = ivr_run_step(h->run, &e, h->acts, IVR_ACTIONS_MAX);
	if (h->n < 0) {
		snprintf(h->line, sizeof(h->line), "error %d", h->n);
		return h->line;
	}
	return fmt(h);
}

static const char *start(struct h *h)
{
	return ev(h, IVR_EV_START, 0, 0);
}

static const char *done(struct h *h)
{
	return ev(h, IVR_EV_PROMPT_DONE, h->play_id, 0);
}

static const char *tick(struct h *h)
{
	return ev(h, IVR_EV_TIMER, h->timer_id, 0);
}

static const char *key(struct h *h, char k)
{
	return ev(h, IVR_EV_DIGIT, 0, k);
}

/* Compare a line; on a mismatch say both and fail the test. */
#define EXPECT(want, got)                                                                        \
	do {                                                                                     \
		const char *g_ = (got);                                                          \
		if (strcmp((want), g_)) {                                                        \
			test_fail(__FILE__, __LINE__, "\n    want %s\n    got  %s", (want), g_); \
			err = -EINVAL;                                                           \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* 00:00 UTC of a date, in Unix seconds, plus hours and minutes. */
static int64_t utc(int y, int m, int d, int hh, int mm)
{
	return tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

#define LEGACY                                                                                 \
	"{'id':'main','prompt':{'tts':'For loans press 1.'},'options':{'1':{'queue':'loans'}," \
	"'0':{'user':'admin'}},'timeout':{'queue':'general'}}"

TEST(test_ivr_legacy_menu)
{
	struct ivr_flow *f = NULL;
	struct h h = {0};
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(LEGACY)));
	TEST_ASSERT(!strcmp(ivr_flow_id(f), "main"));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	EXPECT("play(en,b):For loans press 1.", start(&h));
	EXPECT("", start(&h)); /* a second start is ignored */
	EXPECT("stop | queue:loans", key(&h, '1'));
	TEST_ASSERT(ivr_run_done(h.run));
	EXPECT("main>menu:1>queue:loans", ivr_run_path(h.run));
	EXPECT("", key(&h, '0')); /* the run is over */
	h.run = ivr_run_free(h.run);

	/* Nobody presses: two retries, then the timeout route. */
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	start(&h);
	EXPECT("timer:5000", done(&h));
	EXPECT("play(en,b):For loans press 1.", tick(&h));
	EXPECT("timer:5000", done(&h));
	EXPECT("play(en,b):For loans press 1.", tick(&h));
	EXPECT("timer:5000", done(&h));
	EXPECT("queue:general", tick(&h));
	EXPECT("main>menu:T,T,T>queue:general", ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);

	/* A key after the prompt: the timer is cancelled. */
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	start(&h);
	done(&h);
	EXPECT("cancel | user:admin", key(&h, '0'));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

#define BANK                                                                                       \
	"{'id':'main','lang':'en','nodes':["                                                       \
	"{'id':'welcome','type':'play','prompt':{'tts':{'en':'Welcome to ACME.','cmn':'欢迎'}}," \
	"'next':{'node':'open'}},"                                                                 \
	"{'id':'open','type':'hours','open':{'node':'lang'},'closed':{'node':'closed'},"           \
	"'holiday':{'node':'holiday'}},"                                                           \
	"{'id':'lang','type':'menu','prompt':{'tts':'For English press 1. 中文请按2。'},"     \
	"'options':{'1':{'node':'en'},'2':{'node':'zh'}},'timeout':{'node':'en'}},"                \
	"{'id':'en','type':'language','lang':'en','next':{'node':'menu'}},"                        \
	"{'id':'zh','type':'language','lang':'cmn','next':{'node':'menu'}},"                       \
	"{'id':'menu','type':'menu','prompt':{'tts':{'en':'Loans 1, account "                      \
	"2.','cmn':'贷款1，账户"                                                              \
	"2。'}},'options':{'1':{'queue':'loans'},'2':{'node':'acct'},'*':{'node':'menu'}},"       \
	"'invalid':{'tts':{'en':'Sorry.','cmn':'对不起。'}},'retries':1,'timeout_s':3},"       \
	"{'id':'acct','type':'collect','prompt':{'tts':'Account number, then hash.'},"             \
	"'var':'account','min_digits':4,'max_digits':8,'next':{'node':'vip'},"                     \
	"'timeout':{'queue':'general'}},"                                                          \
	"{'id':'vip','type':'branch','var':'account','cases':{'1234':{'node':'setvip'}},"          \
	"'default':{'queue':'general'}},"                                                          \
	"{'id':'setvip','type':'set','var':'priority','value':'vip',"                              \
	"'next':{'queue':'vip','prompt':{'tts':'Please hold.'}}},"                                 \
	"{'id':'closed','type':'play','prompt':{'file':'closed.wav'},'next':{'hangup':true}},"     \
	"{'id':'holiday','type':'play','prompt':{'tts':'Closed for the holiday.'},"                \
	"'next':{'hangup':true,'prompt':{'tts':'Goodbye.'}}}]}"

#define CAL \
	"{'hours':{'mon-fri':['09:00-12:00','13:00-18:00']},'holidays':['2026-10-01/2026-10-07']}"

struct bank {
	struct ivr_flow *flow;
	struct ivr_hours *hours;
	struct tz *tz;
};

static int bank_load(struct bank *b, const char *zone)
{
	int err = ivr_flow_load(&b->flow, q2d(BANK));

	if (!err)
		err = ivr_hours_load(&b->hours, q2d(CAL));
	if (!err)
		err = tz_load(&b->tz, NULL, zone);
	return err;
}

static void bank_free(struct bank *b)
{
	ivr_flow_free(b->flow);
	ivr_hours_free(b->hours);
	tz_free(b->tz);
}

static int bank_run(struct h *h, const struct bank *b)
{
	struct ivr_ctx ctx = {.tz = b->tz, .hours = b->hours};

	return ivr_run_alloc(&h->run, b->flow, &ctx);
}

TEST(test_ivr_flow_chinese_account_vip)
{
	struct bank b = {0};
	struct h h = {.now = utc(2026, 3, 9, 2, 0)}; /* Monday 10:00 in Shanghai */
	int err = 0;

	TEST_ERR(bank_load(&b, "Asia/Shanghai"));
	TEST_ERR(bank_run(&h, &b));
	EXPECT("play(en):Welcome to ACME.", start(&h));
	EXPECT("", key(&h, '1')); /* a play node is heard out by default */
	EXPECT("", ev(&h, IVR_EV_PROMPT_DONE, h.play_id + 7, 0)); /* not its id */
	EXPECT("play(en,b):For English press 1. 中文请按2。", done(&h));
	EXPECT("stop | play(cmn,b):贷款1，账户2。", key(&h, '2'));
	EXPECT("stop | play(cmn,b):Account number, then hash.", key(&h, '2'));
	EXPECT("stop | timer:5000", key(&h, '1'));
	EXPECT("cancel | timer:5000", key(&h, '2'));
	EXPECT("cancel | timer:5000", key(&h, '3'));
	EXPECT("cancel | timer:5000", key(&h, '4'));
	EXPECT("cancel | queue:vip+play(cmn):Please hold.", key(&h, '#'));
	EXPECT("main>welcome>open=open>lang:2>zh=cmn>menu:2>acct:1234>vip>setvip>queue:vip",
	       ivr_run_path(h.run));
	EXPECT("vip", ivr_run_var_get(h.run, "priority"));
	EXPECT("1234", ivr_run_var_get(h.run, "account"));
	EXPECT("cmn", ivr_run_var_get(h.run, "lang"));
	TEST_ASSERT(!ivr_run_var_get(h.run, "nothing"));
out:
	ivr_run_free(h.run);
	bank_free(&b);
	return err;
}

TEST(test_ivr_menu_invalid_and_retries)
{
	struct bank b = {0};
	struct h h = {.now = utc(2026, 3, 9, 2, 0)};
	uint32_t stale;
	int err = 0;

	TEST_ERR(bank_load(&b, "Asia/Shanghai"));
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	done(&h);
	EXPECT("stop | play(en,b):Loans 1, account 2.", key(&h, '1'));
	stale = h.play_id;
	/* A wrong key: the invalid prompt, then the menu again. */
	EXPECT("stop | play(en,b):Sorry.", key(&h, '9'));
	EXPECT("", ev(&h, IVR_EV_PROMPT_DONE, stale, 0)); /* the stopped prompt's late answer */
	EXPECT("play(en,b):Loans 1, account 2.", done(&h));
	EXPECT("timer:3000", done(&h));
	stale = h.timer_id;
	/* '*' routes to the menu itself: a fresh menu, retries reset. */
	EXPECT("cancel | play(en,b):Loans 1, account 2.", key(&h, '*'));
	EXPECT("", ev(&h, IVR_EV_TIMER, stale, 0)); /* cancelled timer */
	EXPECT("timer:3000", done(&h));
	EXPECT("play(en,b):Loans 1, account 2.", tick(&h)); /* retry 1 of 1 */
	EXPECT("timer:3000", done(&h));
	EXPECT("hangup", tick(&h)); /* no timeout route: hang up */
	EXPECT("main>welcome>open=open>lang:1>en=en>menu:9,*>menu:T,T>hangup", ivr_run_path(h.run));
out:
	ivr_run_free(h.run);
	bank_free(&b);
	return err;
}

TEST(test_ivr_collect)
{
	struct bank b = {0};
	struct h h = {.now = utc(2026, 3, 9, 2, 0)};
	int err = 0;

	TEST_ERR(bank_load(&b, "Asia/Shanghai"));
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	done(&h);
	key(&h, '1');
	key(&h, '2');
	/* Too short at the terminator: no invalid prompt, so the prompt again. */
	EXPECT("stop | timer:5000", key(&h, '1'));
	EXPECT("cancel | timer:5000", key(&h, '2'));
	EXPECT("cancel | play(en,b):Account number, then hash.", key(&h, '#'));
	/* Nothing at all before the timeout. */
	EXPECT("timer:5000", done(&h));
	EXPECT("play(en,b):Account number, then hash.", tick(&h));
	/* A '*' is not a digit: ignored, the wait goes on. */
	EXPECT("timer:5000", done(&h));
	EXPECT("cancel | timer:5000", key(&h, '*'));
	/* Eight digits fill it: no terminator needed. */
	for (int i = 0; i < 7; i++)
		EXPECT("cancel | timer:5000", key(&h, (char)('1' + i)));
	EXPECT("cancel | queue:general", key(&h, '8'));
	EXPECT("12345678", ivr_run_var_get(h.run, "account"));
	EXPECT("main>welcome>open=open>lang:1>en=en>menu:2>acct:12,T,12345678>vip>queue:general",
	       ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);

	/* Enough digits when the timer fires: accepted. */
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	done(&h);
	key(&h, '1');
	key(&h, '2');
	done(&h);
	key(&h, '1');
	key(&h, '2');
	key(&h, '3');
	key(&h, '4');
	key(&h, '5');
	EXPECT("queue:general", tick(&h));
	EXPECT("12345", ivr_run_var_get(h.run, "account"));
	h.run = ivr_run_free(h.run);

	/* Three failed attempts: the timeout route. */
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	done(&h);
	key(&h, '1');
	key(&h, '2');
	done(&h);
	tick(&h);
	done(&h);
	tick(&h);
	done(&h);
	EXPECT("queue:general", tick(&h));
	EXPECT("main>welcome>open=open>lang:1>en=en>menu:2>acct:T,T,T>queue:general",
	       ivr_run_path(h.run));
out:
	ivr_run_free(h.run);
	bank_free(&b);
	return err;
}

TEST(test_ivr_collect_mask_and_typeahead)
{
	static const char *const flow =
	    "{'id':'pin','nodes':[{'id':'hi','type':'play','prompt':{'tts':'Hello',"
	    "'barge_in':true},'next':{'node':'p'}},{'id':'p','type':'collect','prompt':"
	    "{'tts':'PIN'},'var':'pin','min_digits':4,'max_digits':4,'terminator':'','mask':true,"
	    "'invalid':{'file':'bad.wav'},'next':{'user':'1001'}}]}";
	struct ivr_flow *f = NULL;
	struct h h = {0};
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	EXPECT("play(en,b):Hello", start(&h));
	/* Typed during the greeting: it stops, the PIN prompt is skipped. */
	EXPECT("stop | timer:5000", key(&h, '4'));
	EXPECT("cancel | timer:5000", key(&h, '3'));
	EXPECT("cancel | timer:5000", key(&h, '#')); /* no terminator: ignored */
	/* Two digits at the timeout: too few, the invalid prompt. */
	EXPECT("play(file,b):bad.wav", tick(&h));
	EXPECT("play(en,b):PIN", done(&h));
	key(&h, '9');
	key(&h, '8');
	key(&h, '7');
	EXPECT("cancel | user:1001", key(&h, '6'));
	EXPECT("9876", ivr_run_var_get(h.run, "pin"));
	EXPECT("pin>hi>p:**,****>user:1001", ivr_run_path(h.run));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

TEST(test_ivr_typeahead_menu)
{
	static const char *const flow =
	    "{'id':'t','nodes':[{'id':'hi','type':'play','prompt':{'tts':'Hello',"
	    "'barge_in':true},'next':{'node':'m'}},{'id':'m','type':'menu','prompt':"
	    "{'tts':'Press 1'},'options':{'1':{'user':'1001'}}}]}";
	struct ivr_flow *f = NULL;
	struct h h = {0};
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	start(&h);
	EXPECT("stop | user:1001", key(&h, '1'));
	EXPECT("t>hi>m:1>user:1001", ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);
	/* A wrong key typed ahead: the menu's invalid handling (no prompt: replay). */
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	start(&h);
	EXPECT("stop | play(en,b):Press 1", key(&h, '5'));
	EXPECT("", key(&h, 'x')); /* not a DTMF key */
	EXPECT("stop | user:1001", key(&h, '1'));
	EXPECT("t>hi>m:5,1>user:1001", ivr_run_path(h.run));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

TEST(test_ivr_hours_closed_and_holiday)
{
	struct bank b = {0};
	struct h h = {.now = utc(2026, 3, 8, 2, 0)}; /* Sunday in Shanghai */
	int err = 0;

	TEST_ERR(bank_load(&b, "Asia/Shanghai"));
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	EXPECT("play(file):closed.wav", done(&h));
	EXPECT("hangup", done(&h));
	EXPECT("main>welcome>open=closed>closed>hangup", ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);

	/* 2026-09-30 16:30 UTC is Oct 1, 00:30 in Shanghai: a holiday there. */
	h.now = utc(2026, 9, 30, 16, 30);
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	EXPECT("play(en):Closed for the holiday.", done(&h));
	EXPECT("hangup+play(en):Goodbye.", done(&h));
	EXPECT("main>welcome>open=holiday>holiday>hangup", ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);

	/* The lunch break, 12:00-13:00 local, is closed. */
	h.now = utc(2026, 3, 9, 4, 30);
	TEST_ERR(bank_run(&h, &b));
	start(&h);
	EXPECT("play(file):closed.wav", done(&h));
out:
	ivr_run_free(h.run);
	bank_free(&b);
	return err;
}

TEST(test_ivr_hours_calendar)
{
	struct ivr_hours *hrs = NULL;
	struct tz *ny = NULL, *sh = NULL;
	int err = 0;

	TEST_ERR(ivr_hours_load(&hrs, q2d(CAL)));
	TEST_ERR(tz_load(&ny, NULL, "America/New_York"));
	TEST_ERR(tz_load(&sh, NULL, "Asia/Shanghai"));
	/* New York: 13:30 UTC is 08:30 EST on Friday March 6 (closed) but
	 * 09:30 EDT on Monday March 9, after the clocks moved (open). */
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, ny, utc(2026, 3, 6, 13, 30)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, ny, utc(2026, 3, 6, 14, 0)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, ny, utc(2026, 3, 9, 13, 30)));
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, ny, utc(2026, 3, 9, 12, 59)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, ny, utc(2026, 3, 9, 13, 0)));
	/* Closing time 18:00 EDT = 22:00 UTC; after November's change 23:00. */
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, ny, utc(2026, 3, 9, 21, 59)));
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, ny, utc(2026, 3, 9, 22, 0)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, ny, utc(2026, 11, 2, 22, 30)));
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, ny, utc(2026, 11, 2, 23, 0)));
	/* Shanghai: 09:00 CST is 01:00 UTC; Saturday is closed. */
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, sh, utc(2026, 3, 9, 0, 59)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, sh, utc(2026, 3, 9, 1, 0)));
	TEST_EQUALS(IVR_HOURS_CLOSED, ivr_hours_at(hrs, sh, utc(2026, 3, 14, 3, 0)));
	/* Holidays go by the local date: Oct 7 ends at 16:00 UTC. */
	TEST_EQUALS(IVR_HOURS_HOLIDAY, ivr_hours_at(hrs, sh, utc(2026, 10, 7, 15, 59)));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, sh, utc(2026, 10, 8, 1, 0)));
	TEST_EQUALS(IVR_HOURS_HOLIDAY, ivr_hours_at(hrs, ny, utc(2026, 10, 8, 3, 0)));
	/* No zone is UTC; no weekly hours is open. */
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, NULL, utc(2026, 3, 9, 9, 0)));
	hrs = ivr_hours_free(hrs);
	TEST_ERR(ivr_hours_load(&hrs, "{}"));
	TEST_EQUALS(IVR_HOURS_OPEN, ivr_hours_at(hrs, sh, utc(2026, 3, 8, 3, 0)));
	hrs = ivr_hours_free(hrs);
	TEST_EQUALS(-EINVAL, ivr_hours_load(&hrs, "{\"hours\":{\"mon\":[\"18:00-09:00\"]}}"));
	TEST_EQUALS(-EINVAL, ivr_hours_load(&hrs, "{\"hours\":{\"fri-mon\":[]}}"));
	TEST_EQUALS(-EINVAL, ivr_hours_load(&hrs, "{\"holidays\":[\"2026-02-30\"]}"));
	TEST_EQUALS(-EINVAL, ivr_hours_load(&hrs, "[]"));
out:
	ivr_hours_free(hrs);
	tz_free(ny);
	tz_free(sh);
	return err;
}

TEST(test_ivr_hours_node_own_schedule)
{
	static const char *const flow =
	    "{'id':'h','nodes':[{'id':'o','type':'hours','hours':{'sat-sun':['10:00-14:00']},"
	    "'open':{'queue':'weekend'},'closed':{'hangup':true}}]}";
	struct ivr_flow *f = NULL;
	struct ivr_hours *cal = NULL;
	struct tz *tz = NULL;
	struct ivr_ctx ctx = {0};
	struct h h = {.now = utc(2026, 3, 8, 3, 0)}; /* Sunday 11:00 in Shanghai */
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_hours_load(&cal, q2d(CAL)));
	TEST_ERR(tz_load(&tz, NULL, "Asia/Shanghai"));
	ctx.tz = tz;
	ctx.hours = cal;
	TEST_ERR(ivr_run_alloc(&h.run, f, &ctx));
	EXPECT("queue:weekend", start(&h));
	h.run = ivr_run_free(h.run);
	/* Its own weekly hours, the tenant's holidays: Oct 3 2026 is a Saturday. */
	h.now = utc(2026, 10, 3, 3, 0);
	TEST_ERR(ivr_run_alloc(&h.run, f, &ctx));
	EXPECT("hangup", start(&h));
	EXPECT("h>o=holiday>hangup", ivr_run_path(h.run));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	ivr_hours_free(cal);
	tz_free(tz);
	return err;
}

TEST(test_ivr_branch_on_caller_vars)
{
	static const char *const flow =
	    "{'id':'b','nodes':[{'id':'who','type':'branch','var':'caller','cases':{"
	    "'8585100001':{'node':'v'}},'default':{'queue':'general'}},"
	    "{'id':'v','type':'set','var':'priority','value':'vip','next':{'queue':'general'}}]}";
	struct ivr_flow *f = NULL;
	struct h h = {0};
	char big[IVR_VAR_VALUE_MAX + 2];
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	TEST_ERR(ivr_run_var_set(h.run, "caller", "8585100001"));
	EXPECT("queue:general", start(&h));
	EXPECT("vip", ivr_run_var_get(h.run, "priority"));
	EXPECT("b>who>v>queue:general", ivr_run_path(h.run));
	h.run = ivr_run_free(h.run);
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	EXPECT("queue:general", start(&h));
	TEST_ASSERT(!ivr_run_var_get(h.run, "priority"));
	/* Variable rules. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TEST_EQUALS(-EINVAL, ivr_run_var_set(h.run, "Caller", "1"));
	TEST_EQUALS(-EINVAL, ivr_run_var_set(h.run, "1x", "1"));
	TEST_EQUALS(-EINVAL, ivr_run_var_set(h.run, "x", big));
	for (int i = 0; i < IVR_VARS_MAX; i++) {
		char name[8];

		snprintf(name, sizeof(name), "v%d", i);
		if (ivr_run_var_set(h.run, name, "1"))
			break;
	}
	TEST_EQUALS(-ENOSPC, ivr_run_var_set(h.run, "one_more", "1"));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

TEST(test_ivr_goto_other_flow)
{
	static const char *const x = "{'id':'x','prompt':{'tts':'Sales 9'},'options':{'9':{'ivr':"
				     "'y'}},'timeout':{'hangup':true}}";
	static const char *const y =
	    "{'id':'y','lang':'cmn','nodes':[{'id':'p','type':'play','prompt':{'tts':{'en':'In Y',"
	    "'cmn':'这是Y'}},'next':{'ivr':'x'}}]}";
	struct ivr_flow *fx = NULL, *fy = NULL;
	struct h h = {0};
	struct ivr_ctx ctx = {.lang = "en"};
	int err = 0;

	TEST_ERR(ivr_flow_load(&fx, q2d(x)));
	TEST_ERR(ivr_flow_load(&fy, q2d(y)));
	TEST_ERR(ivr_run_alloc(&h.run, fx, &ctx));
	start(&h);
	EXPECT("stop | ivr:y", key(&h, '9'));
	TEST_ASSERT(ivr_run_done(h.run));
	/* The language chosen so far stays; the path goes on. */
	h.n = ivr_run_enter(h.run, fy, h.now, h.acts, IVR_ACTIONS_MAX);
	EXPECT("play(en):In Y", fmt(&h));
	EXPECT("ivr:x", done(&h));
	h.n = ivr_run_enter(h.run, fx, h.now, h.acts, IVR_ACTIONS_MAX);
	EXPECT("play(en,b):Sales 9", fmt(&h));
	EXPECT("x>menu:9>ivr:y>p>ivr:x>menu", ivr_run_path(h.run));
	/* Not after a route elsewhere. */
	EXPECT("stop | ivr:y", key(&h, '9'));
	h.n = ivr_run_enter(h.run, fy, h.now, h.acts, IVR_ACTIONS_MAX);
	EXPECT("play(en):In Y", fmt(&h));
	TEST_EQUALS(-EINVAL, ivr_run_enter(h.run, fy, h.now, h.acts, IVR_ACTIONS_MAX));
out:
	ivr_run_free(h.run);
	ivr_flow_free(fx);
	ivr_flow_free(fy);
	return err;
}

TEST(test_ivr_loop_guard)
{
	/* Provisioning refuses this; the engine must still not spin on it. */
	static const char *const flow =
	    "{'id':'l','nodes':[{'id':'a','type':'set','var':'x','value':'1','next':{'node':"
	    "'b'}},{'id':'b','type':'branch','var':'x','cases':{'1':{'node':'a'}},'default':{"
	    "'hangup':true}}]}";
	static const char *const x = "{'id':'x','nodes':[{'id':'s','type':'set','var':'a','value':"
				     "'1','next':{'ivr':'x'}}]}";
	struct ivr_flow *f = NULL;
	struct h h = {0};
	int err = 0, n = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	EXPECT("error -40", start(&h));
	TEST_ASSERT(ivr_run_done(h.run));
	h.run = ivr_run_free(h.run);
	f = ivr_flow_free(f);
	/* A flow that sends the caller to itself without waiting. */
	TEST_ERR(ivr_flow_load(&f, q2d(x)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	EXPECT("ivr:x", start(&h));
	while (n >= 0 && n < 100)
		n = ivr_run_enter(h.run, f, 0, h.acts, IVR_ACTIONS_MAX) < 0 ? -1 : n + 1;
	TEST_EQUALS(-1, n);
	/* Too little room for the actions is an error, not an overrun. */
	h.run = ivr_run_free(h.run);
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	{
		struct ivr_event e = {.type = IVR_EV_START};

		TEST_EQUALS(-ENOSPC, ivr_run_step(h.run, &e, h.acts, 0));
	}
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

TEST(test_ivr_path_bounded)
{
	static const char *const flow = "{'id':'p','prompt':{'tts':'x'},'options':{'1':{'node':"
					"'menu'}},'timeout':{'hangup':true}}";
	struct ivr_flow *f = NULL;
	struct h h = {0};
	int err = 0;

	TEST_ERR(ivr_flow_load(&f, q2d(flow)));
	TEST_ERR(ivr_run_alloc(&h.run, f, NULL));
	start(&h);
	for (int i = 0; i < 400; i++)
		key(&h, '1');
	TEST_ASSERT(strlen(ivr_run_path(h.run)) < IVR_PATH_SIZE);
	TEST_ASSERT(strstr(ivr_run_path(h.run), "...") != NULL);
	TEST_ASSERT(!strncmp(ivr_run_path(h.run), "p>menu:1>menu:1>", 16));
out:
	ivr_run_free(h.run);
	ivr_flow_free(f);
	return err;
}

TEST(test_ivr_flow_load_refuses)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{}",
	    "{'id':'x'}",
	    "{'id':'','prompt':{'tts':'a'},'timeout':{'hangup':true}}",
	    "{'id':'x','nodes':[]}",
	    "{'id':'x','nodes':{}}",
	    "{'id':'x','nodes':[{'id':'a','type':'dance'}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'play','prompt':{'tts':'a'},'next':{'node':'b'}}]"
	    "}",
	    "{'id':'x','nodes':[{'id':'a','type':'play','prompt':{'tts':'a'},'next':{'hangup':1}}]"
	    "}",
	    "{'id':'x','nodes':[{'id':'a','type':'play','prompt':{'tts':'a','file':'b'},"
	    "'next':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'play','prompt':{'tts':'a'},'next':{'hangup':"
	    "true}},{'id':'a','type':'play','prompt':{'tts':'a'},'next':{'hangup':true}}]}",
	    "{'id':'x','start':'z','nodes':[{'id':'a','type':'play','prompt':{'tts':'a'},'next':"
	    "{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'collect','prompt':{'tts':'a'},'var':'v',"
	    "'min_digits':5,'max_digits':4,'next':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'collect','prompt':{'tts':'a'},'var':'V',"
	    "'next':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'collect','prompt':{'tts':'a'},'var':'v',"
	    "'terminator':'1','next':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'hours','hours':{'mon':['9-5']},'open':{'hangup':"
	    "true},'closed':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'menu','prompt':{'tts':'a'},'timeout_s':0,"
	    "'timeout':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'set','var':'v','next':{'hangup':true}}]}",
	    "{'id':'x','nodes':[{'id':'a','type':'branch','var':'v','cases':[],'default':{"
	    "'hangup':true}}]}",
	    "{'id':'x','prompt':{'tts':'a'},'options':{'12':{'hangup':true}}}",
	    "{'id':'x','prompt':{'tts':{}},'timeout':{'hangup':true}}",
	    "{'id':'x','prompt':{'tts':'a'},'options':{'1':{'queue':'a','user':'b'}}}",
	};
	struct ivr_flow *f = NULL;
	struct ivr_run *r = NULL;
	int err = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = ivr_flow_load(&f, q2d(bad[i]));

		if (e == -ENOMEM) {
			err = e;
			goto out;
		}
		if (e != -EINVAL) {
			test_fail(__FILE__, __LINE__, "case %zu loaded (%d): %s", i, e, bad[i]);
			f = ivr_flow_free(f);
			err = -EINVAL;
		}
	}
	TEST_EQUALS(-EINVAL, ivr_flow_load(&f, NULL));
	TEST_EQUALS(-EINVAL, ivr_run_alloc(&r, NULL, NULL));
out:
	ivr_flow_free(f);
	return err;
}
