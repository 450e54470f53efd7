/* commands: the CLI's subcommands, one file each, dispatched by main.c. */
#ifndef VMM_COMMANDS_H
#define VMM_COMMANDS_H

/* Each takes the subcommand's own argv (argv[0] is its name) and returns
 * the process exit status: 0 success, 1 failure, 2 usage error. */
int cmd_boot(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_rm(int argc, char **argv);

#endif
