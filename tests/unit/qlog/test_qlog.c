/*
 * Unit tests for queue_log lines (qlog.h): every event type read and written
 * back byte for byte, the values of the typed fields, NONE, sanitizing on
 * output, unknown events kept, lines from old Asterisk versions with fewer
 * fields, and a table of damaged lines refused with their reason.
 */
#include <stdio.h>

#include "qlog/qlog.h"
#include "test.h"

/* One canonical line of every type (as Asterisk and Shenggu write them). */
static const struct {
	enum qlog_type type;
	const char *line;
} lines[] = {
    {QLOG_ENTERQUEUE, "1773021600|c-1|sales|NONE|ENTERQUEUE||8585100001|1\n"},
    {QLOG_CONNECT, "1773021615|c-1|sales|1001|CONNECT|5|c-1b|3\n"},
    {QLOG_COMPLETECALLER, "1773021675|c-1|sales|1001|COMPLETECALLER|5|60|1\n"},
    {QLOG_COMPLETEAGENT, "1773021675|c-1|sales|1001|COMPLETEAGENT|5|60|1\n"},
    {QLOG_ABANDON, "1773021650|c-2|sales|NONE|ABANDON|1|2|30\n"},
    {QLOG_EXITEMPTY, "1773021650|c-2|sales|NONE|EXITEMPTY|1|1|0\n"},
    {QLOG_EXITWITHTIMEOUT, "1773021900|c-2|sales|NONE|EXITWITHTIMEOUT|3|4|300\n"},
    {QLOG_EXITWITHKEY, "1773021650|c-2|sales|NONE|EXITWITHKEY|9|1|1|12\n"},
    {QLOG_RINGNOANSWER, "1773021636|c-2|sales|1002|RINGNOANSWER|15000\n"},
    {QLOG_TRANSFER, "1773021700|c-3|sales|1001|TRANSFER|2000|default|4|80|2\n"},
    {QLOG_BLINDTRANSFER, "1773021700|c-3|sales|1001|BLINDTRANSFER|2000|default|4|80|2\n"},
    {QLOG_ATTENDEDTRANSFER, "1773021700|c-3|sales|1001|ATTENDEDTRANSFER|BRIDGE|c-9|4|80|2\n"},
    {QLOG_AGENTLOGIN, "1773021600|NONE|NONE|1001|AGENTLOGIN|PJSIP/1001\n"},
    {QLOG_AGENTLOGOFF, "1773025200|NONE|NONE|1001|AGENTLOGOFF|PJSIP/1001|3600\n"},
    {QLOG_PAUSE, "1773021700|NONE|sales|1001|PAUSE|lunch\n"},
    {QLOG_UNPAUSE, "1773021800|NONE|sales|1001|UNPAUSE|\n"},
    {QLOG_PAUSEALL, "1773021700|NONE|NONE|1001|PAUSEALL|lunch\n"},
    {QLOG_UNPAUSEALL, "1773021800|NONE|NONE|1001|UNPAUSEALL|\n"},
    {QLOG_ADDMEMBER, "1773021600|NONE|sales|1001|ADDMEMBER|\n"},
    {QLOG_REMOVEMEMBER, "1773021600|NONE|sales|1001|REMOVEMEMBER|\n"},
    {QLOG_EXITFULL, "1773021600|c-6|sales|NONE|EXITFULL|4|4|0\n"},
    {QLOG_RINGSTART, "1773021612|c-1|sales|1001|RINGSTART|15000\n"},
    {QLOG_WRAPUPEND, "1773021685|c-1|sales|1001|WRAPUPEND|10\n"},
    {QLOG_UNKNOWN, "1773021600|NONE|NONE|NONE|QUEUESTART|\n"},
    {QLOG_UNKNOWN, "1773021600|c-1|sales|NONE|FUTUREEVENT|a|b|c|d|e\n"},
};

TEST(test_qlog_round_trip_every_type)
{
	char buf[QLOG_LINE_MAX];
	bool seen[QLOG_TYPE_COUNT] = {false};
	int err = 0;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct qlog_event ev;
		const char *why = NULL;
		size_t len = strlen(lines[i].line);

		TEST_ERR(qlog_parse(&ev, lines[i].line, len, &why));
		TEST_EQUALS(lines[i].type, ev.type);
		TEST_EQUALS(len, qlog_format(buf, sizeof(buf), &ev));
		TEST_STR(lines[i].line, str_cstr(buf));
		/* Without the line end it reads the same. */
		TEST_ERR(qlog_parse(&ev, lines[i].line, len - 1, &why));
		TEST_EQUALS(len, qlog_format(buf, sizeof(buf), &ev));
		seen[ev.type] = true;
	}
	for (unsigned t = 0; t < QLOG_TYPE_COUNT; t++)
		TEST_ASSERT(seen[t]);
out:
	return err;
}

TEST(test_qlog_fields)
{
	struct qlog_event ev;
	const char *l;
	int err = 0;

	l = "1773021615|c-1|sales|1001|CONNECT|5|c-1b|3\r\n";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_EQUALS(1773021615, ev.time);
	TEST_STR("c-1", ev.callid);
	TEST_STR("sales", ev.queue);
	TEST_STR("1001", ev.agent);
	TEST_STR("CONNECT", ev.name);
	TEST_EQUALS(5, ev.d.connect.holdtime);
	TEST_STR("c-1b", ev.d.connect.bridged);
	TEST_EQUALS(3, ev.d.connect.ringtime);

	l = "1773021650|c-2|sales|NONE|EXITWITHKEY|9|1|2|12";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_STR("", ev.agent);
	TEST_STR("9", ev.d.exitkey.key);
	TEST_EQUALS(1, ev.d.exitkey.position);
	TEST_EQUALS(2, ev.d.exitkey.origpos);
	TEST_EQUALS(12, ev.d.exitkey.waittime);

	l = "1773021700|NONE|NONE|1001|AGENTLOGOFF|PJSIP/1001|3600";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_STR("", ev.callid);
	TEST_STR("", ev.queue);
	TEST_STR("PJSIP/1001", ev.d.login.channel);
out:
	return err;
}

/* Old Asterisk versions wrote fewer fields (CONNECT without ringtime);
 * missing numbers read as 0, and extra fields of a newer writer are ignored. */
TEST(test_qlog_short_and_long_lines)
{
	char buf[QLOG_LINE_MAX];
	struct qlog_event ev;
	const char *l;
	int err = 0;

	l = "1366720340|1366720340.303267|MYQUEUE|SIP/1000|CONNECT|6|1366720346.303268";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_EQUALS(QLOG_CONNECT, ev.type);
	TEST_EQUALS(6, ev.d.connect.holdtime);
	TEST_EQUALS(0, ev.d.connect.ringtime);
	TEST_EQUALS(strlen(l) + 3, qlog_format(buf, sizeof(buf), &ev));
	TEST_STR("1366720340|1366720340.303267|MYQUEUE|SIP/1000|CONNECT|6|1366720346.303268|0\n",
		 str_cstr(buf));

	l = "1366720340|NONE|NONE|NONE|QUEUESTART";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_EQUALS(QLOG_UNKNOWN, ev.type);
	TEST_STR("QUEUESTART", ev.name);
	TEST_EQUALS(0, ev.d.raw.n);
	TEST_EQUALS(strlen(l) + 2, qlog_format(buf, sizeof(buf), &ev));

	l = "1366720340|c|q|a|RINGNOANSWER|1000|extra|more";
	TEST_ERR(qlog_parse(&ev, l, strlen(l), NULL));
	TEST_EQUALS(1000, ev.d.ring.ms);
out:
	return err;
}

TEST(test_qlog_bad_lines)
{
	static const struct {
		const char *line, *reason;
	} bad[] = {
	    {"", "empty line"},
	    {"\n", "fewer than 5 fields"},
	    {"1773021600|c|q|a", "fewer than 5 fields"},
	    {"1773021600|c|q|a|E|1|2|3|4|5|6", "more than 10 fields"},
	    {"x|c|q|a|ABANDON|1|1|1", "the epoch is not a number of seconds"},
	    {"-1|c|q|a|ABANDON|1|1|1", "the epoch is not a number of seconds"},
	    {"99999999999999999999|c|q|a|ABANDON|1|1|1", "the epoch is not a number of seconds"},
	    {"253402300800|c|q|a|ABANDON|1|1|1", "the epoch is not a number of seconds"},
	    {"|c|q|a|ABANDON|1|1|1", "the epoch is not a number of seconds"},
	    {"1773021600|c|q|a||1|1|1", "empty event name"},
	    {"1773021600|c|q|a|ABANDON|1|x|1", "a numeric data field is not a number"},
	    {"1773021600|c|q|a|ABANDON|1|-1|1", "a numeric data field is not a number"},
	    {"1773021600|c|q|a|ABANDON|1|4294967296|1", "a numeric data field is not a number"},
	    {"1773021600|c|q|a|CONNECT|1 |b|1", "a numeric data field is not a number"},
	    {"1773021600|c|q|a|PAUSE|lu\nnch", "control character in the line"},
	    {"1773021600|c|q|a|PAUSE|lu\rnch", "control character in the line"},
	    {"1773021600|c\x01|q|a|PAUSE|x", "control character in the line"},
	    {"1773021600|c|q|a|PAUSE|x\n\n", "control character in the line"},
	};
	struct qlog_event ev = {.time = 42};
	int err = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		TEST_EQUALS(-EINVAL, qlog_parse(&ev, bad[i].line, strlen(bad[i].line), &why));
		TEST_ASSERT(why != NULL);
		TEST_STR(bad[i].reason, str_cstr(why));
		TEST_EQUALS(42, ev.time); /* untouched on failure */
	}
	/* A NUL inside the line is a control byte too. */
	TEST_EQUALS(-EINVAL, qlog_parse(&ev, "1|c|q|a|P\0USE|x", 15, NULL));
	TEST_EQUALS(-EINVAL, qlog_parse(NULL, "1|c|q|a|PAUSE|x", 15, NULL));
	TEST_EQUALS(-EINVAL, qlog_parse(&ev, NULL, 3, NULL));
out:
	return err;
}

/* Text typed by people (a caller's name, a reason) cannot forge fields or
 * lines: '|', CR, LF and control bytes are written as '?'. */
TEST(test_qlog_format_sanitizes)
{
	char buf[QLOG_LINE_MAX];
	struct qlog_event ev = {.type = QLOG_ENTERQUEUE, .time = 1773021600};
	struct qlog_event back;
	int err = 0;
	int n;

	ev.callid = STR("c|1");
	ev.queue = STR("sales");
	ev.d.enter.callerid = STR("Li|Na\n1773021600|x|y|z|ABANDON|1|1|1\r\x7f");
	ev.d.enter.position = 2;
	n = qlog_format(buf, sizeof(buf), &ev);
	TEST_ASSERT(n > 0);
	TEST_STR("1773021600|c?1|sales|NONE|ENTERQUEUE||Li?Na?1773021600?x?y?z?ABANDON?1?1?1??|2\n",
		 str_cstr(buf));
	TEST_ERR(qlog_parse(&back, buf, (size_t)n, NULL));
	TEST_EQUALS(2, back.d.enter.position);
out:
	return err;
}

TEST(test_qlog_format_errors)
{
	char buf[64];
	struct qlog_event ev = {.type = QLOG_RINGNOANSWER, .time = 1773021600};
	int err = 0;

	ev.agent = STR("1001");
	ev.d.ring.ms = 15000;
	TEST_EQUALS(45, qlog_format(buf, sizeof(buf), &ev));
	TEST_STR("1773021600|NONE|NONE|1001|RINGNOANSWER|15000\n", str_cstr(buf));
	/* 45 bytes and the NUL need 46. */
	TEST_EQUALS(-EMSGSIZE, qlog_format(buf, 45, &ev));
	TEST_STR("", str_cstr(buf));
	TEST_EQUALS(45, qlog_format(buf, 46, &ev));
	TEST_EQUALS(-EMSGSIZE, qlog_format(buf, 0, &ev));
	ev.type = QLOG_UNKNOWN; /* an unknown event needs its name */
	TEST_EQUALS(-EINVAL, qlog_format(buf, sizeof(buf), &ev));
	ev.name = STR("CUSTOM");
	ev.d.raw.n = QLOG_DATA_MAX + 1;
	TEST_EQUALS(-EINVAL, qlog_format(buf, sizeof(buf), &ev));
	ev.d.raw.n = 0;
	TEST_EQUALS(34, qlog_format(buf, sizeof(buf), &ev));
	TEST_STR("1773021600|NONE|NONE|1001|CUSTOM|\n", str_cstr(buf));
	ev.type = QLOG_TYPE_COUNT;
	TEST_EQUALS(-EINVAL, qlog_format(buf, sizeof(buf), &ev));
	ev.type = QLOG_PAUSE;
	ev.time = -1;
	TEST_EQUALS(-EINVAL, qlog_format(buf, sizeof(buf), &ev));
	TEST_EQUALS(-EINVAL, qlog_format(NULL, sizeof(buf), &ev));
out:
	return err;
}

TEST(test_qlog_type_names)
{
	int err = 0;

	for (unsigned t = 1; t < QLOG_TYPE_COUNT; t++) {
		const char *name = qlog_type_name(t);
		struct str n = str_cstr(name);

		TEST_ASSERT(name != NULL);
		TEST_EQUALS(t, qlog_type_from_name(&n));
	}
	TEST_ASSERT(qlog_type_name(QLOG_UNKNOWN) == NULL);
	TEST_ASSERT(qlog_type_name(QLOG_TYPE_COUNT) == NULL);
	TEST_EQUALS(QLOG_UNKNOWN, qlog_type_from_name(&STR("connect")));
	TEST_EQUALS(QLOG_UNKNOWN, qlog_type_from_name(&STR("CONNECTX")));
	TEST_ASSERT(qlog_type_is_extension(QLOG_EXITFULL));
	TEST_ASSERT(qlog_type_is_extension(QLOG_RINGSTART));
	TEST_ASSERT(qlog_type_is_extension(QLOG_WRAPUPEND));
	TEST_ASSERT(!qlog_type_is_extension(QLOG_CONNECT));
out:
	return err;
}
