/*
 * cmd: the subcommands of the shenggu binary. Each takes the arguments after
 * its own name and returns the process exit status.
 */
#ifndef CMD_H
#define CMD_H

int cmd_cdr(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_sip_lint(int argc, char **argv);

#endif
