/*
 * session: one process's life with the agent, seen from the host: its
 * stdio streams opened, then relayed against this process's own stdin,
 * stdout and stderr until the wait answer has come *and* both output
 * streams have ended (so the status never overtakes output), signals
 * passed on as signal requests and, with a terminal, window sizes as
 * resize requests. Used by `vmm run` (the container's own process) and
 * `vmm exec` (another one). Blocking; one thread.
 */
#ifndef VMM_SESSION_H
#define VMM_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent_client.h"

struct session {
	struct agent_client *agent;
	const char *container;
	const char *exec_id; /* NULL: the container's own process */
	bool interactive;    /* relay our stdin (else the process reads EOF) */
	bool tty;	     /* the process has a terminal: one output stream */
	int sig_fd;	     /* one byte per signal to pass on, or -1 */
	int fds[3];	     /* the streams: stdin, stdout, stderr (-1: none) */
	int status;	     /* the exit status (128+N for signal N); -1 until known */
	int exit_code;	     /* a failure to start's status (126, 127), or 0 */
	uint64_t exited_ns;  /* CLOCK_MONOTONIC when the wait answer came, or 0 */
	char err[512];
};

/* Sets s up (status -1, no streams). */
void session_init(struct session *s, struct agent_client *agent, const char *container,
		  const char *exec_id);

/* Opens the streams (before start/exec). Returns 0 or -1 with s->err. */
int session_open(struct session *s);

/* An answer from the agent: false if it is a success (and frees it);
 * true if not, with its error in s->err (and exit_code if it gives one),
 * or if resp is NULL (s->err already says why). */
bool session_failed(struct session *s, json_t *resp);

/* After start/exec: sends wait, relays until the end, closes the
 * streams. s->status is set unless the agent was lost (s->err). SIGWINCH
 * must be blocked in this thread when s->tty. */
void session_run(struct session *s);

/* Closes whatever streams are still open. */
void session_close(struct session *s);

#endif
