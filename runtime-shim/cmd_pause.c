/* cmd_pause: `pause ID` and `resume ID`: the whole microVM stops (its
 * VMM, vCPUs included, gets SIGSTOP) and goes on (SIGCONT). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

static int set_paused(int argc, char **argv, bool pause)
{
	const char *name = pause ? "pause" : "resume";
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " RT_NAME " %s ID\n", name);
		return 0;
	}
	if (argc != 2)
		return rt_usage(name, "needs exactly one container id");
	char err[1024];
	struct rt_container ct;
	if (rt_open(argv[1], true, &ct, err, sizeof(err)))
		return rt_error("%s", err);
	const char *status = rt_status(&ct);
	int rc = 0;
	if (strcmp(status, pause ? "running" : "paused")) {
		rc = rt_error("%s %s: the container is %s", name, argv[1], status);
	} else if (kill(ct.pid, pause ? SIGSTOP : SIGCONT)) {
		rc = rt_error("%s %s: container not running", name, argv[1]);
	} else {
		json_object_set_new(ct.state, "paused", json_boolean(pause));
		if (rt_save(&ct, err, sizeof(err)))
			rc = rt_error("%s", err);
	}
	rt_close(&ct);
	return rc;
}

int cmd_pause(int argc, char **argv)
{
	return set_paused(argc, argv, true);
}

int cmd_resume(int argc, char **argv)
{
	return set_paused(argc, argv, false);
}
