/*
 * rt: what vmm-runtime's subcommands share: the global flags, error
 * reporting as runc does it, and the state of a container on the host.
 *
 * State: a directory per container under --root (default /run/vmm-runtime)
 * holding
 *   state.json   {"id","pid","pid_start","bundle","created","started",
 *                 "paused","annotations"}  written atomically (rename)
 *   exit         the container's exit status, written by the pid-file
 *                process when the container ends (before the VM goes)
 *   vsock        the VM's hybrid vsock socket (the agent at port 1024)
 *   vsock_1024   where the agent's first connection arrives
 *   console.log  the guest's serial console
 * Every subcommand that changes a container holds an flock on its
 * directory, so concurrent calls on one container are safe. The socket
 * paths are used relative to the directory (Unix socket paths are at most
 * 107 bytes, and Docker's --root plus a 64-digit id is longer).
 */
#ifndef VMM_RT_H
#define VMM_RT_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define RT_NAME		"vmm-runtime"
#define RT_VERSION	"0.1.0"
#define RT_OCI_VERSION	"1.1.0"
#define RT_DEFAULT_ROOT "/run/vmm-runtime"

/* The global flags, as runc spells them. */
struct rt_globals {
	const char *root;
	const char *log; /* --log FILE, or NULL: stderr only */
	bool log_json;	 /* --log-format json */
	bool debug;
	bool systemd_cgroup; /* accepted; the VM is the cgroup boundary */
};
extern struct rt_globals rt;

/* One error: on stderr, and as a JSON line ({"level","msg","time"}) or a
 * text line in --log. Returns 1 (the failure exit status). */
int rt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line in --log at "debug" level, only with --debug. */
void rt_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning in --log and on stderr; goes on. */
void rt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Now as RFC 3339 with nanoseconds in UTC ("2026-11-28T03:04:05.123Z"). */
void rt_now(char *buf, size_t len);

struct rt_container {
	char id[65];
	char dir[PATH_MAX];
	int dir_fd; /* O_DIRECTORY, flock'd when locked */
	json_t *state;
	pid_t pid; /* the pid-file process */
};

/* Opens id's state (lock: an exclusive flock held until rt_close).
 * Returns 0, or -1 with err ("container ID does not exist"). */
int rt_open(const char *id, bool lock, struct rt_container *c, char *err, size_t errlen);

/* Makes id's directory (an existing one is an error), locked. */
int rt_make(const char *id, struct rt_container *c, char *err, size_t errlen);

/* Writes c->state atomically. Returns 0 or -1 with err. */
int rt_save(struct rt_container *c, char *err, size_t errlen);

void rt_close(struct rt_container *c);

/* "created", "running", "paused" or "stopped": a pid-file process that is
 * gone (or a zombie, or a reused pid) or an exit file means stopped. */
const char *rt_status(const struct rt_container *c);

/* The OCI state JSON (runtime-spec "state"), pid 0 once stopped. */
json_t *rt_state_json(const struct rt_container *c);

/* The start time of pid from /proc/PID/stat (field 22), 0 if it is gone
 * or a zombie. */
unsigned long long rt_pid_start(pid_t pid);

/* Writes pid as decimal digits only (no newline) to path, atomically.
 * Returns 0 or -1 with err. */
int rt_write_pid_file(const char *path, pid_t pid, char *err, size_t errlen);

/* A child that reports to its parent once: a status byte (0: all well)
 * and, on failure, why. rt_fork_report forks: in the child it returns 0
 * with *fd the pipe's write end, in the parent the child's pid with *fd
 * the read end, or -1 with err. */
pid_t rt_fork_report(int *fd, char *err, size_t errlen);

/* The child's report, in one write; closes *fd and sets it to -1 (a
 * second call does nothing). */
void rt_report(int *fd, unsigned char code, const char *why);

/* The parent's side: reads the report until the child closes its end,
 * why into why (NUL-terminated). Closes fd. Returns the status byte, or
 * -1 if the child ended without a word. */
int rt_read_report(int fd, char *why, size_t len);

/* Seconds a one-shot request to a container's agent may take. */
#define RT_AGENT_TIMEOUT 30

/* One request (taking req's reference) to the agent of the VM whose state
 * directory is dir_fd, on a control connection of its own, bounded by
 * RT_AGENT_TIMEOUT. Changes the working directory to the state directory
 * (the socket paths are relative). Returns 0 if the agent answered ok;
 * else -1 with err (the agent's error, or why it could not be asked). */
int rt_agent_call(int dir_fd, json_t *req, char *err, size_t errlen);

/* A signal as a number ("9"), a name ("KILL") or "SIGKILL": its number,
 * or -1. */
int rt_parse_signal(const char *s);

/* Whether id is a valid container id (1 to 64 of [A-Za-z0-9_.-]). */
bool rt_valid_id(const char *id);

#endif
