/* commands: vmm-runtime's subcommands, one file each, dispatched by
 * main.c. Each takes its own argv (argv[0] is its name) and returns the
 * exit status: 0 success, 1 failure (the error already reported through
 * rt_error), 2 usage error. */
#ifndef VMM_RT_COMMANDS_H
#define VMM_RT_COMMANDS_H

#include <stdbool.h>
#include <sys/types.h>

int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_update(int argc, char **argv);

/* create's work, shared with run: the container made and its shim
 * (pid in *pid) ready, hooks run, pid file written. Returns 0 or 1 (the
 * error reported). */
int rt_create(const char *id, const char *bundle, const char *pid_file, const char *console_socket,
	      bool foreground, pid_t *pid);

/* start's work, shared with run. Returns 0 or 1 (reported). */
int rt_start(const char *id);

/* delete's work, shared with run: the state of container id removed
 * (with force, its shim killed first if it still runs), the poststop
 * hooks run. Returns 0 or 1 (the error reported). */
int rt_delete(const char *id, bool force);

/* A usage error: the message and a hint, status 2. */
int rt_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
