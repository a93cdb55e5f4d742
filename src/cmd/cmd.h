/*
 * cmd: the subcommands of the shenggu binary. Each takes the arguments after
 * its own name and returns the process exit status.
 */
#ifndef CMD_H
#define CMD_H

#include <stdint.h>

int cmd_cdr(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_queue_log(int argc, char **argv);
int cmd_sip_lint(int argc, char **argv);

struct store;

/* Open the database at @db, or the default one in folder @data when @db is
 * NULL; 0, or -errno after a line on stderr that starts with @prog. */
int cmd_store_open(const char *prog, const char *data, const char *db, struct store **stp);
/* A time argument: Unix seconds or YYYY-MM-DDTHH:MM:SSZ, into ms. 0 or -EINVAL. */
int cmd_parse_time(const char *s, int64_t *ms);

#endif
