/*
 * provision: apply a provisioning document (docs/PROVISIONING.md) to the
 * database and say what changed. Exit 0 with a one-line summary on stdout,
 * 1 with the path-naming reason on stderr when the document is bad or the
 * database cannot be used (nothing is written then), 2 for a usage error.
 * `shenggu serve --provision FILE` does the same through prov_apply_file().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "cmd/cmd.h"
#include "prov/prov.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: shenggu provision FILE [--data DIR] [--db URL]\n"
		   "  --data DIR  data folder (default ./var), created when missing\n"
		   "  --db URL    database (default sqlite:<data>/shenggu.db)\n");
}

int cmd_provision(int argc, char **argv)
{
	const char *file = NULL, *data = "./var", *db = NULL;
	char url[4096], err[1024] = "", line[512];
	struct prov_summary sum;
	struct store *st = NULL;
	int e, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data = argv[++i];
		} else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			db = argv[++i];
		} else if (argv[i][0] == '-' || file) {
			usage(stderr);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	if (!db) {
		/* Only the default database lives in the data folder; with --db
		 * the folder is not needed and not created. */
		if (mkdir(data, 0750) && errno != EEXIST) {
			fprintf(stderr, "provision: cannot create data folder %s: %s\n", data,
				strerror(errno));
			return 1;
		}
		if (store_url_default(url, sizeof(url), data)) {
			fprintf(stderr, "provision: data folder path too long\n");
			return 1;
		}
		db = url;
	}
	e = store_open(&st, db, err, sizeof(err));
	if (e) {
		fprintf(stderr, "provision: %s\n", err);
		return 1;
	}
	e = prov_apply_file(st, file, &sum, err, sizeof(err));
	if (e) {
		/* File errors already name the file; document errors name a path in it. */
		if (!strncmp(err, "cannot read ", 12))
			fprintf(stderr, "provision: %s\n", err);
		else
			fprintf(stderr, "provision: %s: %s\n", file, err[0] ? err : err_str(e));
		goto out;
	}
	if (prov_summary_format(&sum, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "applied");
	printf("provisioned: %s\n", line);
	rc = 0;
out:
	store_close(st);
	return rc;
}
