/*
 * metrics: a tenant's queue and agent metrics (docs/METRICS.md) as one
 * JSON document, derived by replaying its queue_log from the store through
 * src/qlog's qstats: the same code and the same durable events for the
 * figures of now (the running server writes its events within 10 ms) and
 * for any past time (--at). Exit 0, 1 when the database cannot be read,
 * 2 for a usage error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "base/mem.h"
#include "cmd/cmd.h"
#include "qlog/qstats.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shenggu metrics --tenant ID [--at TIME] [--window SECONDS] [--data DIR] "
		"[--db URL]\n"
		"  --tenant ID        the tenant (required)\n"
		"  --at TIME          the figures at TIME (Unix seconds or YYYY-MM-DDTHH:MM:SSZ;\n"
		"                     default now): events after it are not read\n"
		"  --window SECONDS   the sliding window, a multiple of 60 (default 900)\n"
		"  --data DIR         data folder (default ./var)\n"
		"  --db URL           database (default sqlite:<data>/shenggu.db)\n");
}

struct replay {
	struct qstats *qs;
	long lines, bad;
};

static int feed_line(int64_t time_s, const char *line, void *arg)
{
	struct replay *r = arg;
	struct qlog_event ev;
	const char *why = NULL;

	(void)time_s;
	r->lines++;
	if (qlog_parse(&ev, line, strlen(line), &why) || qstats_feed(r->qs, &ev))
		r->bad++; /* never written by serve; counted, not fatal */
	return 0;
}

static int queue_conf(const struct store_queue *q, void *arg)
{
	struct str id = str_cstr(q->id);

	return qstats_queue_conf(arg, &id, q->sl_seconds);
}

/* {"queues": {id: {...}}, "agents": {id: {...}}} at @now. */
static json_t *report(const struct qstats *qs, int64_t now)
{
	json_t *root = json_object(), *queues = json_object(), *agents = json_object(), *one;
	size_t it = 0;
	struct str id;
	char key[QSTATS_ID_MAX + 1];

	json_object_set_new(root, "at", json_integer(now));
	while (qstats_queue_next(qs, &it, &id)) {
		if (!qstats_queue_json(qs, &id, now, &one)) {
			str_copy_cstr(key, sizeof(key), &id);
			json_object_set_new(queues, key, one);
		}
	}
	it = 0;
	while (qstats_agent_next(qs, &it, &id)) {
		if (!qstats_agent_json(qs, &id, now, &one)) {
			str_copy_cstr(key, sizeof(key), &id);
			json_object_set_new(agents, key, one);
		}
	}
	json_object_set_new(root, "queues", queues);
	json_object_set_new(root, "agents", agents);
	return root;
}

int cmd_metrics(int argc, char **argv)
{
	const char *tenant = NULL, *data = "./var", *db = NULL;
	int64_t at_ms = (int64_t)time(NULL) * 1000;
	struct qstats_conf conf = {0};
	struct replay r = {0};
	struct store *st = NULL;
	json_t *out;
	char *end;
	int e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--tenant") && i + 1 < argc) {
			tenant = argv[++i];
		} else if (!strcmp(argv[i], "--at") && i + 1 < argc) {
			if (cmd_parse_time(argv[++i], &at_ms)) {
				fprintf(stderr, "metrics: --at: not a time: %s\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
			unsigned long w = strtoul(argv[++i], &end, 10);

			if (*end || !w || w % 60 || w > 7 * 86400) {
				fprintf(stderr,
					"metrics: --window: a multiple of 60 up to a week, "
					"got %s\n",
					argv[i]);
				return 2;
			}
			conf.window_s = (uint32_t)w;
			conf.bucket_s = w > 86400 ? 3600 : w > 3600 ? 900 : 60;
		} else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data = argv[++i];
		} else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			db = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!tenant) {
		usage(stderr);
		return 2;
	}
	if (cmd_store_open("metrics", data, db, &st))
		return 1;
	e = qstats_alloc(&r.qs, &conf);
	if (!e)
		e = store_queue_list(st, tenant, queue_conf, r.qs);
	if (e >= 0)
		e = store_qlog_list(st, tenant, 0, at_ms / 1000 + 1, feed_line, &r);
	store_close(st);
	if (e < 0) {
		fprintf(stderr, "metrics: cannot read the queue_log: %s\n", err_str(e));
		qstats_free(r.qs);
		return 1;
	}
	if (r.bad)
		fprintf(stderr, "metrics: %ld of %ld lines not understood, skipped\n", r.bad,
			r.lines);
	out = report(r.qs, at_ms / 1000);
	e = json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(out);
	qstats_free(r.qs);
	return e || fflush(stdout) ? 1 : 0;
}
