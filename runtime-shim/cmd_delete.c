/* cmd_delete: `delete [--force] ID`: a stopped container's state goes
 * (a running one only with --force: its shim, and with it the VM, is
 * killed first); then the poststop hooks, whose failures only warn. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "files.h"
#include "hooks.h"
#include "rt.h"

/* Waits up to 10 s for the shim to be gone (exited, or a zombie whose
 * reaper is elsewhere). */
static bool wait_gone(pid_t pid, unsigned long long start)
{
	for (int i = 0; i < 1000; i++) {
		unsigned long long now = rt_pid_start(pid);
		if (now == 0 || now != start)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	}
	return false;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool force = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: " RT_NAME " delete [--force] ID\n");
			return 0;
		}
		if (c != 'f')
			return rt_usage("delete", "unknown option '%s'", argv[optind - 1]);
		force = true;
	}
	if (optind != argc - 1)
		return rt_usage("delete", "needs exactly one container id");
	return rt_delete(argv[optind], force);
}

int rt_delete(const char *id, bool force)
{
	char err[1024];
	struct rt_container ct;
	if (rt_open(id, true, &ct, err, sizeof(err)))
		return rt_error("%s", err);
	const char *status = rt_status(&ct);
	if (strcmp(status, "stopped")) {
		if (!force) {
			rt_close(&ct);
			return rt_error("cannot delete container %s that is not stopped: %s", id,
					status);
		}
		unsigned long long start = (unsigned long long)json_integer_value(
			json_object_get(ct.state, "pid_start"));
		kill(ct.pid, SIGKILL);
		if (!strcmp(status, "paused"))
			kill(ct.pid, SIGCONT); /* SIGKILL acts on a stopped process, but be sure */
		if (!wait_gone(ct.pid, start)) {
			rt_close(&ct);
			return rt_error("delete %s: its process %d did not end", id, (int)ct.pid);
		}
	}
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json",
		 json_string_value(json_object_get(ct.state, "bundle")));
	struct oci_config cfg;
	json_t *st = rt_state_json(&ct);
	if (oci_config_load(path, &cfg, err, sizeof(err)) == 0) {
		if (hooks_run(&cfg, OCI_POSTSTOP, st, err, sizeof(err)))
			rt_warn("%s", err);
		oci_config_free(&cfg);
	}
	json_decref(st);
	int rc = rm_rf(ct.dir) ? rt_error("delete %s: %s: %s", id, ct.dir, strerror(errno)) : 0;
	rt_close(&ct);
	return rc;
}
