/* hooks: OCI lifecycle hooks; see hooks.h. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
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

/* Waits for pid, at most timeout seconds (0: no limit): its wait status,
 * or -1 after killing it at the timeout. */
static int wait_for(pid_t pid, int timeout)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, timeout ? WNOHANG : 0);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout && now.tv_sec - start.tv_sec >= timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (timeout)
			usleep(10000);
	}
}

static int run_one(const struct oci_hook *h, const char *state, char *err, size_t errlen)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC))
		return errf(err, errlen, "%s: pipe: %s", h->path, strerror(errno));
	char *deflt[] = {(char *)h->path, NULL};
	char *const *argv = h->args && h->args[0] ? h->args : deflt;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		/* The hook's output must not land in the container's stdio
		 * (ours, in create); stderr stays for its messages. */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(h->path, argv, h->env);
		fprintf(stderr, "hook %s: %s\n", h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	if (pid < 0) {
		close(in[1]);
		return errf(err, errlen, "%s: fork: %s", h->path, strerror(errno));
	}
	/* A hook that does not read its stdin must not block us. */
	signal(SIGPIPE, SIG_IGN);
	(void)!write(in[1], state, strlen(state));
	close(in[1]);
	int status = wait_for(pid, h->timeout);
	if (status < 0)
		return errf(err, errlen, "%s: timed out after %d s", h->path, h->timeout);
	if (WIFSIGNALED(status))
		return errf(err, errlen, "%s: killed by signal %d", h->path, WTERMSIG(status));
	if (WEXITSTATUS(status))
		return errf(err, errlen, "%s: exit status %d", h->path, WEXITSTATUS(status));
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
		char why[400];
		rc = run_one(&cfg->hooks[kind][i], s, why, sizeof(why));
		if (rc)
			snprintf(err, errlen, "%s hook %s", kind_name[kind], why);
	}
	free(s);
	return rc;
}
