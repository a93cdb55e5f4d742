/*
 * cdr: print a tenant's call detail records as CSV (RFC 4180: a header
 * line, CRLF line ends, fields quoted when they hold a comma, a quote or a
 * line end), oldest first, optionally within a time window. Exit 0, 1 when
 * the database cannot be read, 2 for a usage error. Times are UTC in
 * ISO 8601 with milliseconds; an empty field means "never" (a call that
 * was not answered has no answer time).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cmd/cmd.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shenggu cdr --tenant ID [--from TIME] [--to TIME] [--data DIR] [--db URL]\n"
		"  --tenant ID  the tenant whose calls to print (required)\n"
		"  --from TIME  calls that started at or after TIME (Unix seconds or\n"
		"               YYYY-MM-DDTHH:MM:SSZ)\n"
		"  --to TIME    calls that started before TIME\n"
		"  --data DIR   data folder (default ./var)\n"
		"  --db URL     database (default sqlite:<data>/shenggu.db)\n");
}

int cmd_store_open(const char *prog, const char *data, const char *db, struct store **stp)
{
	char url[4096], err[1024] = "";

	if (!db) {
		if (store_url_default(url, sizeof(url), data)) {
			fprintf(stderr, "%s: data folder path too long\n", prog);
			return -ENAMETOOLONG;
		}
		db = url;
	}
	if (store_open(stp, db, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -EIO;
	}
	return 0;
}

int cmd_parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	char *end;
	long long v;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end && !*end) {
		*ms = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > INT64_MAX / 1000)
		return -EINVAL;
	*ms = (int64_t)v * 1000;
	return 0;
}

static void put_field(const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n")) {
		putchar('"');
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	} else {
		fputs(v, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

static void put_time(int64_t ms, bool last)
{
	char buf[96] = "";

	if (ms > 0) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ms % 1000));
	}
	put_field(buf, last);
}

static int print_cdr(const struct store_cdr *c, void *arg)
{
	char num[24];

	(void)arg;
	put_field(c->uuid, false);
	put_field(c->caller, false);
	put_field(c->callee, false);
	put_field(c->route, false);
	put_field(c->ivr_path, false);
	put_field(c->agent, false);
	put_time(c->start_ms, false);
	put_time(c->answer_ms, false);
	put_time(c->bridge_ms, false);
	put_time(c->end_ms, false);
	snprintf(num, sizeof(num), "%" PRId64,
		 c->answer_ms > 0 && c->end_ms > c->answer_ms ? (c->end_ms - c->answer_ms) / 1000
							      : 0);
	put_field(num, false);
	put_field(c->hangup_side, false);
	snprintf(num, sizeof(num), "%u", c->status);
	put_field(num, false);
	put_field(c->cause, false);
	put_field(c->recording, true);
	return 0;
}

int cmd_cdr(int argc, char **argv)
{
	const char *tenant = NULL, *data = "./var", *db = NULL;
	int64_t from = 0, to = INT64_MAX;
	struct store *st = NULL;
	int e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--tenant") && i + 1 < argc) {
			tenant = argv[++i];
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			if (cmd_parse_time(argv[++i], &from)) {
				fprintf(stderr, "cdr: --from: not a time: %s\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
			if (cmd_parse_time(argv[++i], &to)) {
				fprintf(stderr, "cdr: --to: not a time: %s\n", argv[i]);
				return 2;
			}
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
	if (cmd_store_open("cdr", data, db, &st))
		return 1;
	fputs("uuid,caller,callee,route,ivr_path,agent,start,answer,bridge,end,talk_s,"
	      "hangup_side,status,cause,recording\r\n",
	      stdout);
	e = store_cdr_list(st, tenant, from, to, print_cdr, NULL);
	store_close(st);
	if (e < 0) {
		fprintf(stderr, "cdr: cannot read the records: %s\n", err_str(e));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}
