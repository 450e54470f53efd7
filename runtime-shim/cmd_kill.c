/* cmd_kill: `kill [--all] ID [SIGNAL]`: the signal (a number, KILL or
 * SIGKILL; default SIGTERM) to the container's process, through the
 * agent. The container's pid 1 is its init, so --all is the same. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "rt.h"

int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "ah", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: " RT_NAME " kill [--all] ID [SIGNAL]\n");
			return 0;
		}
		if (c != 'a')
			return rt_usage("kill", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1 && optind != argc - 2)
		return rt_usage("kill", "needs a container id and at most one signal");
	const char *id = argv[optind];
	const char *sig_s = optind == argc - 2 ? argv[optind + 1] : "SIGTERM";
	int sig = rt_parse_signal(sig_s);
	if (sig < 0)
		return rt_error("kill: unknown signal '%s'", sig_s);
	char err[1024] = "";
	struct rt_container ct;
	if (rt_open(id, true, &ct, err, sizeof(err)))
		return rt_error("%s", err);
	const char *status = rt_status(&ct);
	int rc = 0;
	if (!strcmp(status, "stopped")) {
		rc = rt_error("kill %s: container not running", id);
	} else if (!strcmp(status, "paused") && sig != SIGKILL) {
		rc = rt_error("kill %s: the container is paused (resume it first)", id);
	} else {
		/* A paused VM cannot answer: SIGKILL ends it from here. */
		bool ok = strcmp(status, "paused") &&
			  rt_agent_call(ct.dir_fd,
					json_pack("{s:s, s:s, s:i}", "type", "signal", "container",
						  id, "signal", sig),
					err, sizeof(err)) == 0;
		if (!ok && sig == SIGKILL && kill(ct.pid, SIGKILL) == 0)
			ok = true;
		else if (!ok && !err[0])
			snprintf(err, sizeof(err), "%s", strerror(errno));
		if (!ok)
			rc = !strcmp(rt_status(&ct), "stopped")
				     ? rt_error("kill %s: container not running", id)
				     : rt_error("kill %s: %s", id, err);
	}
	rt_close(&ct);
	return rc;
}
