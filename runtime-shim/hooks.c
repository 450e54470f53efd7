/* hooks: OCI lifecycle hooks; see hooks.h. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errf.h"

static const char *const kind_name[OCI_NHOOKS] = {"prestart", "createRuntime", "poststart",
						  "poststop"};

/* What a hook said (its stdout and stderr, one pipe): the first
 * HOOK_SAID bytes are kept for the error, the rest read and dropped. */
#define HOOK_SAID 240
struct said {
	char buf[HOOK_SAID + 1];
	size_t len;
};

/* Reads what is there on fd (nonblocking) into s: 1 if it read some, 0
 * at EOF or error, -1 if there is nothing now. */
static int drain(int fd, struct said *s)
{
	char b[4096];
	ssize_t n = read(fd, b, sizeof(b));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0)
		return 0;
	size_t take = (size_t)n < HOOK_SAID - s->len ? (size_t)n : HOOK_SAID - s->len;
	memcpy(s->buf + s->len, b, take);
	s->len += take;
	return 1;
}

/* Waits for pid, at most timeout seconds (0: no limit), reading its output
 * from out meanwhile (so a hook that writes much never blocks on us): its
 * wait status, or -1 after killing it at the timeout. */
static int wait_for(pid_t pid, int timeout, int out, struct said *said)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool open = true;
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			/* What it wrote before it ended (a child of its own may
			 * hold the pipe open: not waited for). */
			while (open && drain(out, said) == 1)
				;
			return status;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout && now.tv_sec - start.tv_sec >= timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		/* Its output, or 10 ms: the exit is polled (no SIGCHLD here). */
		struct pollfd p = {.fd = out, .events = POLLIN};
		if (open && poll(&p, 1, 10) > 0)
			open = drain(out, said) != 0;
		else if (!open)
			usleep(10000);
	}
}

/* ", it said: ..." with what the hook wrote (trailing newlines and spaces
 * dropped, other newlines as spaces, any other byte outside printable
 * ASCII as '?'), or "" if it said nothing. */
static const char *what_it_said(struct said *s, char *out, size_t len)
{
	while (s->len && (s->buf[s->len - 1] == '\n' || s->buf[s->len - 1] == ' '))
		s->len--;
	for (size_t i = 0; i < s->len; i++)
		if (s->buf[i] < 0x20 || s->buf[i] > 0x7e)
			s->buf[i] = s->buf[i] == '\n' ? ' ' : '?';
	s->buf[s->len] = '\0';
	snprintf(out, len, "%s%s", s->len ? ", it said: " : "", s->buf);
	return out;
}

static int run_one(const struct oci_hook *h, const char *state, char *err, size_t errlen)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC))
		return errf(err, errlen, "%s: pipe: %s", h->path, strerror(errno));
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return errf(err, errlen, "%s: pipe: %s", h->path, strerror(errno));
	}
	char *deflt[] = {(char *)h->path, NULL};
	char *const *argv = h->args && h->args[0] ? h->args : deflt;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The hook's output must not land in the container's stdio
		 * (ours, in create): it goes to us, and into the error if the
		 * hook fails, as runc reports it. */
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(h->path, argv, h->env);
		fprintf(stderr, "hook %s: %s\n", h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return errf(err, errlen, "%s: fork: %s", h->path, strerror(errno));
	}
	/* A hook that does not read its stdin must not block us. */
	signal(SIGPIPE, SIG_IGN);
	(void)!write(in[1], state, strlen(state));
	close(in[1]);
	struct said said = {.len = 0};
	int status = wait_for(pid, h->timeout, out[0], &said);
	close(out[0]);
	char told[HOOK_SAID + 16];
	what_it_said(&said, told, sizeof(told));
	if (status < 0)
		return errf(err, errlen, "%s: timed out after %d s%s", h->path, h->timeout, told);
	if (WIFSIGNALED(status))
		return errf(err, errlen, "%s: killed by signal %d%s", h->path, WTERMSIG(status),
			    told);
	if (WEXITSTATUS(status))
		return errf(err, errlen, "%s: exit status %d%s", h->path, WEXITSTATUS(status),
			    told);
	return 0;
}

int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const json_t *state, char *err,
	      size_t errlen)
{
	if (!cfg->nhooks[kind])
		return 0;
	char *s = json_dumps(state, JSON_COMPACT);
	if (!s)
		return errf(err, errlen, "%s hook: out of memory", kind_name[kind]);
	int rc = 0;
	for (int i = 0; i < cfg->nhooks[kind] && !rc; i++) {
		char why[700];
		rc = run_one(&cfg->hooks[kind][i], s, why, sizeof(why));
		if (rc)
			snprintf(err, errlen, "%s hook %s", kind_name[kind], why);
	}
	free(s);
	return rc;
}
