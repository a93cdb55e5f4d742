/*
 * Unit tests for the metrics (qstats.h): a scripted stretch of a queue's
 * life, as queue_log lines, with every figure worked out by hand in the
 * comments (offered, answered, abandons, SL, ASA, AHT, agents' times and
 * occupancy); the window sliding past old buckets; ring all; a call whose
 * end never came; and a replay of the same lines giving identical JSON.
 */
#include <stdio.h>
#include <stdlib.h>

#include "qlog/qstats.h"
#include "test.h"

#define T0 INT64_C(1773021600) /* a minute boundary */

/* "+offset|rest of the line": the scenario's times relative to T0. */
static const char *const script[] = {
    "0|NONE|NONE|1001|AGENTLOGIN|PJSIP/1001",
    "0|NONE|sales|1001|ADDMEMBER|",
    "0|NONE|NONE|1002|AGENTLOGIN|PJSIP/1002",
    "0|NONE|sales|1002|ADDMEMBER|",
    /* c1: answered in 5 s by 1001, talk 60, wrap-up 10 */
    "10|c1|sales|NONE|ENTERQUEUE||8585100001|1",
    "12|c1|sales|1001|RINGSTART|15000",
    "15|c1|sales|1001|CONNECT|5|c1b|3",
    /* c2: rings 1002 for 15 s unanswered (1002 not ready "missed"), abandons after 30 s */
    "20|c2|sales|NONE|ENTERQUEUE||8585100002|2",
    "21|c2|sales|1002|RINGNOANSWER|0", /* not ringing: ignored */
    "21|c2|sales|1002|RINGSTART|15000",
    "30|c3|sales|NONE|ENTERQUEUE||8585100003|2",
    "32|c3|sales|NONE|ABANDON|2|2|2", /* short abandon */
    "36|c2|sales|1002|RINGNOANSWER|15000",
    "36|NONE|NONE|1002|PAUSEALL|missed",
    "50|c2|sales|NONE|ABANDON|1|1|30",
    "75|c1|sales|1001|COMPLETECALLER|5|60|1",
    "85|c1|sales|1001|WRAPUPEND|10",
    /* c4: 1001 again, pauses for lunch during the call: lunch after wrap-up */
    "90|c4|sales|NONE|ENTERQUEUE||8585100004|1",
    "91|c4|sales|1001|RINGSTART|15000",
    "95|c4|sales|1001|CONNECT|5|c4b|4",
    "100|c5|sales|NONE|ENTERQUEUE||8585100005|1",
    "100|NONE|NONE|1001|PAUSEALL|lunch",
    "110|c6|sales|NONE|EXITFULL|3|3|0",
    "130|NONE|NONE|1002|UNPAUSEALL|",
    "131|c5|sales|1002|RINGSTART|15000",
    "135|c5|sales|1002|CONNECT|35|c5b|4",
    "140|c7|sales|NONE|ENTERQUEUE||8585100007|1",
    "195|c4|sales|1001|COMPLETEAGENT|5|100|1",
    "200|c4|sales|1001|WRAPUPEND|5",
    "235|c5|sales|1002|COMPLETECALLER|35|100|1",
    "240|c5|sales|1002|WRAPUPEND|5",
};

/* Parse "+off|..." into an absolute line and feed it. */
static int feed_line(struct qstats *s, const char *rel, char *line, size_t size)
{
	struct qlog_event ev;
	char *end;
	long off = strtol(rel, &end, 10);
	int n = snprintf(line, size, "%lld%s", (long long)(T0 + off), end);

	if (n < 0 || (size_t)n >= size)
		return -EMSGSIZE;
	n = qlog_parse(&ev, line, (size_t)n, NULL);
	return n ? n : qstats_feed(s, &ev);
}

static int feed_script(struct qstats *s)
{
	char line[256];

	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		int err = feed_line(s, script[i], line, sizeof(line));

		if (err)
			return err;
	}
	return 0;
}

/* Figures equal to 2 decimals. */
static bool near(double a, double b)
{
	return a - b < 0.005 && b - a < 0.005;
}

TEST(test_qstats_queue_figures)
{
	struct qstats *s = NULL;
	struct qstats_queue_info qi;
	double v = 0;
	int err;

	err = qstats_alloc(&s, NULL);
	TEST_ERR(err);
	TEST_ERR(feed_script(s));
	TEST_ERR(qstats_queue_get(s, &STR("sales"), T0 + 299, &qi));
	/* c1..c5 and c7 entered, c6 was refused full: 7 offered. */
	TEST_EQUALS(7, qi.total.offered);
	TEST_EQUALS(3, qi.total.answered);	      /* c1, c4, c5 */
	TEST_EQUALS(2, qi.total.answered_in_sl);      /* c1 5 s, c4 5 s; c5 35 s > 20 */
	TEST_EQUALS(2, qi.total.abandoned);	      /* c2, c3 */
	TEST_EQUALS(1, qi.total.short_abandoned);     /* c3 after 2 s */
	TEST_EQUALS(1, qi.total.unanswered_after_sl); /* c2 after 30 s */
	TEST_EQUALS(1, qi.total.exit_full);
	TEST_EQUALS(0, qi.total.exit_timeout + qi.total.exit_empty + qi.total.exit_key);
	TEST_EQUALS(3, qi.total.handled);
	TEST_EQUALS(45, qi.total.hold_s);   /* 5 + 5 + 35 */
	TEST_EQUALS(260, qi.total.talk_s);  /* 60 + 100 + 100 */
	TEST_EQUALS(20, qi.total.wrapup_s); /* 10 + 5 + 5 */
	/* SL = 2 / (3 answered + 1 abandoned after 20 s) */
	TEST_ASSERT(qstats_service_level(&qi.total, &v) && near(v, 50.0));
	TEST_ASSERT(qstats_asa(&qi.total, &v) && near(v, 15.0));  /* 45 / 3 */
	TEST_ASSERT(qstats_aht(&qi.total, &v) && near(v, 93.33)); /* 280 / 3 */
	/* (2 - 1 short) / (3 + 2 - 1) */
	TEST_ASSERT(qstats_abandon_rate(&qi.total, &v) && near(v, 25.0));
	/* Everything happened within the last 15 minutes. */
	TEST_ASSERT(!memcmp(&qi.total, &qi.window, sizeof(qi.total)));
	/* Now: c7 waits since +140. */
	TEST_EQUALS(1, qi.waiting);
	TEST_EQUALS(159, qi.longest_wait_s);
	TEST_EQUALS(0, qi.agents[QSTATS_LOGGED_OUT]);
	TEST_EQUALS(1, qi.agents[QSTATS_AVAILABLE]); /* 1002 */
	TEST_EQUALS(1, qi.agents[QSTATS_NOT_READY]); /* 1001 at lunch */
	TEST_EQUALS(20, qi.sl_threshold_s);
	TEST_EQUALS(-ENOENT, qstats_queue_get(s, &STR("nope"), T0, &qi));
out:
	qstats_free(s);
	return err;
}

TEST(test_qstats_agent_figures)
{
	struct qstats *s = NULL;
	struct qstats_agent_info ai;
	double v = 0;
	int err;

	err = qstats_alloc(&s, NULL);
	TEST_ERR(err);
	TEST_ERR(feed_script(s));
	/*
	 * 1001: 0-12 available, 12-15 ringing, 15-75 talk, 75-85 wrap-up,
	 * 85-91 available, 91-95 ringing, 95-195 talk, 195-200 wrap-up,
	 * 200- lunch (asked at 100, during the call).
	 */
	TEST_ERR(qstats_agent_get(s, &STR("1001"), T0 + 299, &ai));
	TEST_EQUALS(QSTATS_NOT_READY, ai.state);
	TEST_EQUALS(T0 + 200, ai.since);
	TEST_STR("lunch", ai.reason);
	TEST_ASSERT(!ai.pause_pending);
	TEST_EQUALS(299, ai.total.logged_in_s);
	TEST_EQUALS(7, ai.total.ringing_s);
	TEST_EQUALS(160, ai.total.talk_s);
	TEST_EQUALS(15, ai.total.wrapup_s);
	TEST_EQUALS(99, ai.total.not_ready_s);
	TEST_EQUALS(2, ai.total.handled);
	TEST_EQUALS(1, ai.nreasons);
	TEST_EQUALS(99, ai.reasons[0].total_s);
	/* (160 + 15) / (299 - 99) */
	TEST_ASSERT(qstats_occupancy(&ai.total, &v) && near(v, 87.5));
	TEST_ASSERT(!memcmp(&ai.total, &ai.window, sizeof(ai.total)));
	/*
	 * 1002: 0-21 available, 21-36 ringing, 36-130 missed, 130-131
	 * available, 131-135 ringing, 135-235 talk, 235-240 wrap-up, 240-
	 * available.
	 */
	TEST_ERR(qstats_agent_get(s, &STR("1002"), T0 + 299, &ai));
	TEST_EQUALS(QSTATS_AVAILABLE, ai.state);
	TEST_EQUALS(T0 + 240, ai.since);
	TEST_EQUALS(299, ai.total.logged_in_s);
	TEST_EQUALS(19, ai.total.ringing_s);
	TEST_EQUALS(100, ai.total.talk_s);
	TEST_EQUALS(5, ai.total.wrapup_s);
	TEST_EQUALS(94, ai.total.not_ready_s);
	TEST_EQUALS(1, ai.total.handled);
	TEST_STR("missed", ai.reasons[0].reason);
	TEST_EQUALS(94, ai.reasons[0].window_s);
	/* 105 / 205 = 51.22 % */
	TEST_ASSERT(qstats_occupancy(&ai.total, &v) && near(v, 51.22));
	TEST_EQUALS(-ENOENT, qstats_agent_get(s, &STR("9"), T0, &ai));
out:
	qstats_free(s);
	return err;
}

/* At +1020 the 15-minute window starts at +180 (minute 3): only what
 * happened from there on is in it; totals stay. */
TEST(test_qstats_window_slides)
{
	struct qstats *s = NULL;
	struct qstats_queue_info qi;
	struct qstats_agent_info ai;
	double v = 0;
	int err;

	err = qstats_alloc(&s, NULL);
	TEST_ERR(err);
	TEST_ERR(feed_script(s));
	TEST_ERR(qstats_queue_get(s, &STR("sales"), T0 + 1020, &qi));
	TEST_EQUALS(0, qi.window.offered);
	TEST_EQUALS(0, qi.window.answered);
	TEST_EQUALS(2, qi.window.handled);   /* c4 at +195, c5 at +235 */
	TEST_EQUALS(200, qi.window.talk_s);  /* 100 + 100 */
	TEST_EQUALS(10, qi.window.wrapup_s); /* 5 + 5 */
	TEST_ASSERT(qstats_aht(&qi.window, &v) && near(v, 105.0));
	TEST_ASSERT(!qstats_service_level(&qi.window, &v));
	TEST_ASSERT(!qstats_asa(&qi.window, &v));
	TEST_EQUALS(7, qi.total.offered);
	TEST_EQUALS(880, qi.longest_wait_s); /* c7 still waits */
	/* 1001 in [+180, +1020): talk 180-195, wrap-up 195-200, lunch 200-. */
	TEST_ERR(qstats_agent_get(s, &STR("1001"), T0 + 1020, &ai));
	TEST_EQUALS(840, ai.window.logged_in_s);
	TEST_EQUALS(15, ai.window.talk_s);
	TEST_EQUALS(5, ai.window.wrapup_s);
	TEST_EQUALS(820, ai.window.not_ready_s);
	TEST_EQUALS(820, ai.reasons[0].window_s);
	TEST_EQUALS(1, ai.window.handled);
	TEST_EQUALS(0, ai.window.ringing_s);
	TEST_ASSERT(qstats_occupancy(&ai.window, &v) && near(v, 100.0));
	TEST_EQUALS(1020, ai.total.logged_in_s);
	/* A day later, after one more event, the old buckets are gone. */
	TEST_ERR(feed_line(s, "90000|c8|sales|NONE|ENTERQUEUE||1|2", (char[256]){0}, 256));
	TEST_ERR(qstats_queue_get(s, &STR("sales"), T0 + 90000, &qi));
	TEST_EQUALS(1, qi.window.offered);
	TEST_EQUALS(0, qi.window.handled);
	TEST_EQUALS(8, qi.total.offered);
	/* c7 entered more than call_max_age_s (a day) ago: dropped. */
	TEST_EQUALS(1, qi.waiting);
	TEST_EQUALS(0, qi.longest_wait_s);
out:
	qstats_free(s);
	return err;
}

/* Ring all: the agents that lose go back to what they were; an abandon
 * while ringing frees the agent; a pause while ringing waits. */
TEST(test_qstats_ringall_and_abandon)
{
	static const char *const lines[] = {
	    "0|NONE|NONE|a|AGENTLOGIN|x",  "0|NONE|NONE|b|AGENTLOGIN|x",
	    "0|NONE|NONE|c|PAUSEALL|away", "10|k1|q|NONE|ENTERQUEUE||1|1",
	    "11|k1|q|a|RINGSTART|0",	   "11|k1|q|b|RINGSTART|0",
	    "11|k1|q|c|RINGSTART|0",	   "12|NONE|NONE|b|PAUSEALL|break",
	    "14|k1|q|a|CONNECT|4|x|3",	   "20|k2|q|NONE|ENTERQUEUE||1|1",
	    "21|k2|q|b|RINGSTART|0",	   "25|k2|q|NONE|ABANDON|1|1|5",
	};
	struct qstats *s = NULL;
	struct qstats_agent_info ai;
	struct qstats_queue_info qi;
	char line[256];
	int err;

	err = qstats_alloc(&s, NULL);
	TEST_ERR(err);
	for (size_t i = 0; i < 9; i++)
		TEST_ERR(feed_line(s, lines[i], line, sizeof(line)));
	TEST_ERR(qstats_agent_get(s, &STR("a"), T0 + 14, &ai));
	TEST_EQUALS(QSTATS_ON_CALL, ai.state);
	/* b asked for a break while ringing: it takes it once the ring ends. */
	TEST_ERR(qstats_agent_get(s, &STR("b"), T0 + 14, &ai));
	TEST_EQUALS(QSTATS_NOT_READY, ai.state);
	TEST_STR("break", ai.reason);
	TEST_EQUALS(3, ai.total.ringing_s);
	/* c was not ready when rung (implicitly logged in by its pause). */
	TEST_ERR(qstats_agent_get(s, &STR("c"), T0 + 14, &ai));
	TEST_EQUALS(QSTATS_NOT_READY, ai.state);
	TEST_STR("away", ai.reason);
	TEST_EQUALS(T0 + 14, ai.since);
	TEST_ERR(qstats_queue_get(s, &STR("q"), T0 + 14, &qi));
	TEST_EQUALS(0, qi.waiting);
	TEST_EQUALS(1, qi.agents[QSTATS_ON_CALL]);
	TEST_EQUALS(2, qi.agents[QSTATS_NOT_READY]);
	for (size_t i = 9; i < sizeof(lines) / sizeof(lines[0]); i++)
		TEST_ERR(feed_line(s, lines[i], line, sizeof(line)));
	/* b was not ready when rung (the unpause never came): back to it. */
	TEST_ERR(qstats_agent_get(s, &STR("b"), T0 + 25, &ai));
	TEST_EQUALS(QSTATS_NOT_READY, ai.state);
	TEST_EQUALS(T0 + 25, ai.since);
	TEST_ERR(qstats_queue_get(s, &STR("q"), T0 + 25, &qi));
	TEST_EQUALS(1, qi.total.short_abandoned);
	TEST_EQUALS(0, qi.waiting);
	TEST_EQUALS(0, qi.agents[QSTATS_RINGING]);
out:
	qstats_free(s);
	return err;
}

static int dump_all(struct qstats *s, int64_t now, char **out)
{
	json_t *all = json_object(), *j = NULL;
	size_t it = 0;
	struct str id;
	int err = 0;

	while (!err && qstats_queue_next(s, &it, &id)) {
		char key[300];

		err = qstats_queue_json(s, &id, now, &j);
		str_copy_cstr(key + 2, sizeof(key) - 2, &id);
		memcpy(key, "q:", 2);
		if (!err && json_object_set_new(all, key, j))
			err = -ENOMEM;
	}
	it = 0;
	while (!err && qstats_agent_next(s, &it, &id)) {
		char key[300];

		err = qstats_agent_json(s, &id, now, &j);
		str_copy_cstr(key + 2, sizeof(key) - 2, &id);
		memcpy(key, "a:", 2);
		if (!err && json_object_set_new(all, key, j))
			err = -ENOMEM;
	}
	*out =
	    err ? NULL : json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(all);
	return err ? err : *out ? 0 : -ENOMEM;
}

/* The same lines, written out and read back into a fresh qstats, give the
 * same report, byte for byte. */
TEST(test_qstats_replay_identical_json)
{
	struct qstats *a = NULL, *b = NULL;
	char *ja = NULL, *jb = NULL, line[256], out[QLOG_LINE_MAX];
	int err;

	err = qstats_alloc(&a, NULL);
	TEST_ERR(err);
	TEST_ERR(qstats_alloc(&b, NULL));
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		struct qlog_event ev;
		int n;

		TEST_ERR(feed_line(a, script[i], line, sizeof(line)));
		TEST_ERR(qlog_parse(&ev, line, strlen(line), NULL));
		n = qlog_format(out, sizeof(out), &ev);
		TEST_ASSERT(n > 0);
		TEST_EQUALS(strlen(line) + 1, n); /* the same line, plus "\n" */
		TEST_ERR(qlog_parse(&ev, out, (size_t)n, NULL));
		TEST_ERR(qstats_feed(b, &ev));
	}
	TEST_ERR(dump_all(a, T0 + 299, &ja));
	TEST_ERR(dump_all(b, T0 + 299, &jb));
	TEST_STR(ja, str_cstr(jb));
	/* One figure of the report, as the REST API will show it. */
	TEST_ASSERT(strstr(ja, "\"service_level_pct\":50.0") != NULL);
	TEST_ASSERT(strstr(ja, "\"aht_s\":93.33") != NULL);
	TEST_ASSERT(strstr(ja, "\"state\":\"not_ready\"") != NULL);
out:
	free(ja);
	free(jb);
	qstats_free(a);
	qstats_free(b);
	return err;
}

TEST(test_qstats_conf)
{
	struct qstats *s = NULL;
	struct qstats_queue_info qi;
	struct qlog_event ev = {.type = QLOG_CONNECT, .time = T0};
	char longid[QSTATS_ID_MAX + 2];
	int err = 0;

	TEST_EQUALS(-EINVAL, qstats_alloc(&s, &(struct qstats_conf){.window_s = 90}));
	TEST_EQUALS(-EINVAL,
		    qstats_alloc(&s, &(struct qstats_conf){.window_s = 86400, .bucket_s = 1}));
	TEST_ASSERT(s == NULL);
	TEST_ERR(qstats_alloc(&s, &(struct qstats_conf){.window_s = 86400, .bucket_s = 900}));
	/* A 40 s threshold makes c5's 35 s answer count. */
	TEST_ERR(qstats_queue_conf(s, &STR("sales"), 40));
	TEST_ERR(feed_script(s));
	TEST_ERR(qstats_queue_get(s, &STR("sales"), T0 + 299, &qi));
	TEST_EQUALS(40, qi.sl_threshold_s);
	TEST_EQUALS(3, qi.total.answered_in_sl);
	TEST_EQUALS(0, qi.total.unanswered_after_sl);
	memset(longid, 'x', sizeof(longid));
	ev.queue = str_make(longid, sizeof(longid));
	TEST_EQUALS(-EINVAL, qstats_feed(s, &ev));
	TEST_EQUALS(-EINVAL, qstats_queue_conf(s, &STR(""), 5));
	TEST_EQUALS(-EINVAL, qstats_feed(NULL, &ev));
out:
	qstats_free(s);
	return err;
}
