/*
 * container: makes a container inside the guest and runs its process, as
 * the agent's helper. container_spawn() forks a child in new mount, pid,
 * uts and ipc namespaces (and network, when asked: lo alone, up) that
 * mounts the rootfs, sets up /proc, /sys and
 * /dev in it and pivots into it; on container_start() it forks the
 * user's process (pid 2 in the namespace) and stays as the namespace's
 * pid 1: it reaps every orphan, forwards signals to the process, and when
 * the process ends, reports its wait status and exits. So a process that
 * ignores SIGTERM as an init would (no handler) still gets it.
 */
#ifndef VMM_AGENT_CONTAINER_H
#define VMM_AGENT_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"

struct container_proc {
	pid_t pid;     /* the namespace's pid 1, in the agent's pid namespace */
	int stdin_fd;  /* write end of the process's stdin pipe */
	int stdout_fd; /* read ends of its stdout and stderr pipes; with a */
	int stderr_fd; /* terminal, both stdin_fd and stdout_fd are the pty
			* master and stderr_fd is -1 */
	int status_fd; /* pid 1 writes the process's wait status here */
	int start_fd;  /* a byte here lets the process run */
	int error_fd;  /* setup and exec errors, as text; EOF when exec'd */
};

/* Forks the container's pid 1 and waits until its setup is done; with
 * own_netns, in a network namespace of its own (else the caller's).
 * Returns 0, or -1 with the reason in err (the child is gone then). */
int container_spawn(const struct proto_create *c, bool own_netns, struct container_proc *p,
		    char *err, size_t errlen);

/* Starts another process in the running container whose pid 1 is init
 * (in the agent's pid namespace): into its pid, mount, uts, ipc and
 * network namespaces, exec'd with proc's user, env, cwd and terminal. Waits until
 * it was exec'd. Returns 0 with p filled in (its pid is ours to reap; no
 * status pipe), or -1 as container_start. */
int container_exec(pid_t init, const struct proto_process *proc, struct container_proc *p,
		   char *err, size_t errlen, int *exit_code);

/* Lets the process run and waits until it was exec'd. Returns 0, or -1
 * with why it could not start in err and, when exec itself failed, the
 * status a shell would give in *exit_code (127 not found, 126 not
 * runnable; else 0). */
int container_start(struct container_proc *p, char *err, size_t errlen, int *exit_code);

#endif
