/*
 * fuzz_qlog: queue_log lines as they come from a file of unknown origin
 * (qlog_parse), folded into metrics (qstats_feed). Input: one byte choosing
 * the window (bucket of 1 to 256 s, window of 1 to 4 buckets, so the rings
 * wrap quickly), then lines separated by '\n'.
 *
 * Contracts checked: qlog_parse returns 0 or -EINVAL with a reason, and its
 * views lie inside the line; what it parsed formats into a line that parses
 * to the same type, time and ids, and formats again byte for byte; feeding
 * returns 0, -EINVAL or -ENOMEM; every queue and agent seen renders as
 * JSON, with waiting calls and agents by state that add up.
 */
#include <errno.h>

#include "fuzz.h"
#include "qlog/qlog.h"
#include "qlog/qstats.h"

static void check_views(const struct qlog_event *ev, const char *line, size_t len)
{
	fuzz_view(&ev->callid, line, len);
	fuzz_view(&ev->queue, line, len);
	fuzz_view(&ev->agent, line, len);
	fuzz_view(&ev->name, line, len);
}

static void check_reformat(const struct qlog_event *ev)
{
	char a[QLOG_LINE_MAX * 8], b[sizeof(a)];
	struct qlog_event back;
	int n = qlog_format(a, sizeof(a), ev), m;

	FUZZ_CHECK(n > 0 || n == -EMSGSIZE);
	if (n < 0)
		return;
	FUZZ_CHECK((size_t)n == strlen(a) && a[n - 1] == '\n');
	FUZZ_CHECK(qlog_parse(&back, a, (size_t)n, NULL) == 0);
	FUZZ_CHECK(back.type == ev->type && back.time == ev->time);
	FUZZ_CHECK(back.queue.len == ev->queue.len && back.agent.len == ev->agent.len);
	m = qlog_format(b, sizeof(b), &back);
	FUZZ_CHECK(m == n && !memcmp(a, b, (size_t)n));
}

static void check_report(const struct qstats *s, int64_t now)
{
	size_t it = 0;
	struct str id;

	while (qstats_queue_next(s, &it, &id)) {
		struct qstats_queue_info qi;
		json_t *j = NULL;

		FUZZ_CHECK(qstats_queue_get(s, &id, now, &qi) == 0);
		FUZZ_CHECK(qi.window.answered_in_sl <= qi.window.answered);
		FUZZ_CHECK(qi.total.short_abandoned <= qi.total.abandoned);
		FUZZ_CHECK(qstats_queue_json(s, &id, now, &j) == 0 && j);
		json_decref(j);
	}
	it = 0;
	while (qstats_agent_next(s, &it, &id)) {
		struct qstats_agent_info ai;
		json_t *j = NULL;

		FUZZ_CHECK(qstats_agent_get(s, &id, now, &ai) == 0);
		FUZZ_CHECK(ai.total.not_ready_s <= ai.total.logged_in_s);
		FUZZ_CHECK(ai.window.talk_s <= ai.window.logged_in_s);
		FUZZ_CHECK(qstats_agent_json(s, &id, now, &j) == 0 && j);
		json_decref(j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qstats_conf conf = {0};
	struct qstats *s = NULL;
	int64_t last = 0;
	size_t i = 1, n = 0;

	if (!size)
		return 0;
	conf.bucket_s = 1u + (data[0] & 0x3f) * 4u;
	conf.window_s = conf.bucket_s * (1u + (data[0] >> 6));
	conf.call_max_age_s = 600;
	FUZZ_CHECK(qstats_alloc(&s, &conf) == 0);
	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (data + i)) + 1 : size - i;
		char *line = fuzz_dup(data + i, len);
		struct qlog_event ev;
		const char *why = NULL;
		int err = qlog_parse(&ev, line, len, &why);

		FUZZ_CHECK(err == 0 || (err == -EINVAL && why));
		if (!err) {
			check_views(&ev, line, len);
			check_reformat(&ev);
			err = qstats_feed(s, &ev);
			FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
			last = ev.time > last ? ev.time : last;
			if (++n % 16 == 0)
				check_report(s, last);
		}
		free(line);
		i += len;
	}
	check_report(s, last);
	check_report(s, last + 100000);
	qstats_free(s);
	return 0;
}
