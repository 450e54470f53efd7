/*
 * cmd_create: `create --bundle B --pid-file P [--console-socket S] ID`.
 * Boots the container's microVM and creates the container in it (not yet
 * started), runs the prestart and createRuntime hooks, writes the pid
 * file and exits, leaving the shim (shim.h) behind as the pid-file
 * process.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "files.h"
#include "hooks.h"
#include "launch.h"
#include "oci.h"
#include "rt.h"
#include "rtnet.h"
#include "shim.h"

/* Undoes a create that got as far as a shim: it goes, and so does its
 * state. */
static void undo(struct rt_container *c, pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	rm_rf(c->dir);
	rt_close(c);
}

/* Whether the shim (the VM) has already ended, said at the end of err:
 * a hook or the network step that failed because the VM went away would
 * hide why (Docker's hook says only "no such file or directory" when the
 * namespace it binds is gone). Reaps it if so. */
static bool shim_ended(pid_t pid, char *err, size_t errlen)
{
	int status;
	if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid)
		return false;
	size_t n = strlen(err);
	if (WIFSIGNALED(status))
		snprintf(err + n, errlen - n, "; the container's VM (pid %d) had ended: signal %d",
			 (int)pid, WTERMSIG(status));
	else
		snprintf(err + n, errlen - n, "; the container's VM (pid %d) had ended: status %d",
			 (int)pid, WEXITSTATUS(status));
	return true;
}

/* The interface the hooks put in the shim's network namespace, joined
 * to the VM's (rtnet.h). */
static int create_network(struct rt_container *c, pid_t pid, char *err, size_t errlen)
{
	bool configured;
	if (rtnet_connect(pid, c->dir_fd, &configured, err, errlen))
		return -1;
	rt_debug("%s: %s", c->id, configured ? "network joined to the guest's eth0" : "no network");
	return 0;
}

/* A memory limit above the host's RAM, refused before anything is made:
 * guest memory is mapped MAP_NORESERVE, so such a VM would boot and be
 * OOM-killed once the guest used more than the host has (`vmm run
 * --memory` refuses the same, with the same words). Without a limit the VM
 * gets SHIM_DEFAULT_MEM, a small fixed size, not checked. */
static int memory_fits(const char *config, const struct oci_config *cfg, char *err, size_t errlen)
{
	if (cfg->memory_limit <= 0)
		return 0;
	char what[PATH_MAX + 64], limit[32];
	snprintf(what, sizeof(what), "%s: linux.resources.memory.limit", config);
	snprintf(limit, sizeof(limit), "%lld", (long long)cfg->memory_limit);
	return launch_mem_fits_host(what, limit, oci_memory(cfg, SHIM_DEFAULT_MEM), err, errlen);
}

int rt_create(const char *id, const char *bundle, const char *pid_file, const char *console_socket,
	      bool foreground, pid_t *out)
{
	char err[1024], dir[PATH_MAX], path[PATH_MAX + 16];
	if (!rt_valid_id(id))
		return rt_error("invalid container id '%.80s': 1 to 64 of A-Z a-z 0-9 _ . -", id);
	if (!realpath(bundle ? bundle : ".", dir))
		return rt_error("bundle %s: %s", bundle ? bundle : ".",
				errno == ENOENT ? "does not exist" : strerror(errno));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	struct oci_config cfg;
	if (oci_config_load(path, &cfg, err, sizeof(err)))
		return rt_error("%s", err);
	if (cfg.process.terminal && !console_socket && !foreground) {
		oci_config_free(&cfg);
		return rt_error("process.terminal is true: --console-socket is required");
	}
	if (memory_fits(path, &cfg, err, sizeof(err))) {
		oci_config_free(&cfg);
		return rt_error("%s", err);
	}
	struct rt_container c;
	if (rt_make(id, &c, err, sizeof(err))) {
		oci_config_free(&cfg);
		return rt_error("%s", err);
	}
	struct shim_create sc = {
		.c = &c, .bundle = dir, .cfg = &cfg, .console_socket = console_socket};
	pid_t pid = shim_fork(&sc, NULL, foreground, err, sizeof(err));
	if (pid < 0) {
		undo(&c, -1);
		oci_config_free(&cfg);
		return rt_error("create %s: %s", id, err);
	}
	char now[64];
	rt_now(now, sizeof(now));
	json_t *ann = json_object_get(cfg.json, "annotations");
	c.pid = pid;
	c.state = json_pack("{s:s, s:i, s:I, s:s, s:s, s:b, s:b, s:o}", "id", id, "pid", (int)pid,
			    "pid_start", (json_int_t)rt_pid_start(pid), "bundle", dir, "created",
			    now, "started", 0, "paused", 0, "annotations",
			    ann ? json_incref(ann) : json_object());
	int rc = c.state ? rt_save(&c, err, sizeof(err)) : -1;
	json_t *st = rc ? NULL : rt_state_json(&c);
	if (rc == 0 && (hooks_run(&cfg, OCI_PRESTART, st, err, sizeof(err)) ||
			hooks_run(&cfg, OCI_CREATE_RUNTIME, st, err, sizeof(err)) ||
			(cfg.netns && create_network(&c, pid, err, sizeof(err))) ||
			(pid_file && rt_write_pid_file(pid_file, pid, err, sizeof(err)))))
		rc = -1;
	json_decref(st);
	oci_config_free(&cfg);
	if (rc) {
		undo(&c, shim_ended(pid, err, sizeof(err)) ? -1 : pid);
		return rt_error("create %s: %s", id, err);
	}
	rt_debug("created %s: pid %d", id, (int)pid);
	rt_close(&c);
	*out = pid;
	return 0;
}

int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"pid-file", required_argument, NULL, 'P'},
		{"console-socket", required_argument, NULL, 'c'},
		{"no-pivot", no_argument, NULL, 'n'},
		{"no-new-keyring", no_argument, NULL, 'k'},
		{"preserve-fds", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *bundle = NULL, *pid_file = NULL, *console = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'P':
			pid_file = optarg;
			break;
		case 'c':
			console = optarg;
			break;
		case 'n':
		case 'k':
		case 'f':
			break; /* nothing of the host's to pivot, key or pass on */
		case 'h':
			printf("Usage: " RT_NAME " create [--bundle DIR] [--pid-file FILE] "
			       "[--console-socket SOCKET] ID\n");
			return 0;
		default:
			return rt_usage("create", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return rt_usage("create", "needs exactly one container id");
	pid_t pid;
	return rt_create(argv[optind], bundle, pid_file, console, false, &pid);
}
