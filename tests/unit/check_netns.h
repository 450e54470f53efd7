/* check_netns: main() for Check tests that make network namespaces and
 * taps of their own: they skip (77, with the reason) where this process
 * may not (not root). */
#ifndef VMM_TESTS_CHECK_NETNS_H
#define VMM_TESTS_CHECK_NETNS_H

#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"

/* Whether a child may make a network namespace and open /dev/net/tun. */
static inline bool check_can_netns(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = unshare(CLONE_NEWNET) ? -1 : open("/dev/net/tun", O_RDWR);
		_exit(fd >= 0 ? 0 : 1);
	}
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static inline int check_run_netns(Suite *s)
{
	if (!check_can_netns()) {
		printf("SKIP: needs root to make a network namespace and a tap\n");
		srunner_free(srunner_create(s)); /* the suite is the runner's to free */
		return 77;
	}
	return check_run(s);
}

#endif
