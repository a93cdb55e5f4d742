/*
 * shenggu: one binary, subcommands. This file only dispatches; each
 * subcommand lives in src/cmd/ and does its own wiring.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
    {"serve", cmd_serve, "run the platform daemon"},
    {"demo", cmd_demo, "serve with a ready demo tenant and say how to call it"},
    {"provision", cmd_provision, "apply a provisioning document (tenants, users, queues...)"},
    {"cdr", cmd_cdr, "print a tenant's call detail records as CSV"},
    {"queue-log", cmd_queue_log, "print a tenant's queue_log (Asterisk's format)"},
    {"metrics", cmd_metrics, "a tenant's queue and agent metrics from its queue_log (JSON)"},
    {"sip-lint", cmd_sip_lint, "check one raw SIP message from stdin, print a JSON summary"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: shenggu <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'shenggu <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("shenggu %s\n", SHENGGU_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "shenggu: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
