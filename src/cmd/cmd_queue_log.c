/*
 * queue-log: print a tenant's queue_log, one event a line in Asterisk's
 * format (epoch|callid|queue|agent|event|data...; docs/ACD.md), in the
 * order the events happened, optionally within a time window: what
 * existing queue_log reporting tools read. Exit 0, 1 when the database
 * cannot be read, 2 for a usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cmd/cmd.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: shenggu queue-log --tenant ID [--from TIME] [--to TIME] [--data DIR] "
		   "[--db URL]\n"
		   "  --tenant ID  the tenant whose queue events to print (required)\n"
		   "  --from TIME  events at or after TIME (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)\n"
		   "  --to TIME    events before TIME\n"
		   "  --data DIR   data folder (default ./var)\n"
		   "  --db URL     database (default sqlite:<data>/shenggu.db)\n");
}

static int print_line(int64_t time_s, const char *line, void *arg)
{
	(void)time_s;
	(void)arg;
	fputs(line, stdout);
	putchar('\n');
	return 0;
}

int cmd_queue_log(int argc, char **argv)
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
		} else if ((!strcmp(argv[i], "--from") || !strcmp(argv[i], "--to")) &&
			   i + 1 < argc) {
			int64_t *t = argv[i][2] == 'f' ? &from : &to;

			if (cmd_parse_time(argv[i + 1], t)) {
				fprintf(stderr, "queue-log: %s: not a time: %s\n", argv[i],
					argv[i + 1]);
				return 2;
			}
			i++;
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
	if (cmd_store_open("queue-log", data, db, &st))
		return 1;
	e = store_qlog_list(st, tenant, from / 1000, to == INT64_MAX ? INT64_MAX : to / 1000,
			    print_line, NULL);
	store_close(st);
	if (e < 0) {
		fprintf(stderr, "queue-log: cannot read the queue_log: %s\n", err_str(e));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}
