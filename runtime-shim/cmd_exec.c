/*
 * cmd_exec: `exec [--process FILE] [--detach] [--pid-file P]
 * [--console-socket S] [--tty] [--cwd D] [--env K=V] [--user U[:G]] ID
 * [COMMAND [ARG...]]`: another process in the running container. With
 * --detach an exec shim (shim.h) is left behind as the pid-file process,
 * else we wait for it and exit with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "commands.h"
#include "oci.h"
#include "rt.h"
#include "shim.h"

#define MAX_ENV 256

/* The process from the command line, when there is no --process. */
static int process_from_args(char **args, char **env, int nenv, const char *cwd, const char *user,
			     bool tty, struct proto_process *p)
{
	memset(p, 0, sizeof(*p));
	p->args = args;
	p->env = env;
	env[nenv] = NULL;
	p->cwd = cwd ? cwd : "/";
	p->terminal = tty;
	if (user) {
		char *end;
		unsigned long uid = strtoul(user, &end, 10), gid = 0;
		if (end == user || (*end && *end != ':'))
			return -1;
		if (*end == ':') {
			char *g = end + 1;
			gid = strtoul(g, &end, 10);
			if (end == g || *end)
				return -1;
		}
		p->uid = (uid_t)uid;
		p->gid = (gid_t)gid;
	}
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"process", required_argument, NULL, 'p'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'P'},
		{"console-socket", required_argument, NULL, 'c'},
		{"tty", no_argument, NULL, 't'},
		{"cwd", required_argument, NULL, 'w'},
		{"env", required_argument, NULL, 'e'},
		{"user", required_argument, NULL, 'u'},
		{"no-new-privs", no_argument, NULL, 'N'},
		{"preserve-fds", required_argument, NULL, 'f'},
		{"cap", required_argument, NULL, 'C'},
		{"additional-gids", required_argument, NULL, 'g'},
		{"process-label", required_argument, NULL, 'L'},
		{"apparmor", required_argument, NULL, 'A'},
		{"cgroup", required_argument, NULL, 'G'},
		{"ignore-paused", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *process = NULL, *pid_file = NULL, *console = NULL, *cwd = NULL, *user = NULL;
	bool detach = false, tty = false;
	static char *env[MAX_ENV + 1];
	int nenv = 0, c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+p:dtu:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			process = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'P':
			pid_file = optarg;
			break;
		case 'c':
			console = optarg;
			break;
		case 't':
			tty = true;
			break;
		case 'w':
			cwd = optarg;
			break;
		case 'e':
			if (nenv == MAX_ENV)
				return rt_usage("exec", "at most %d --env", MAX_ENV);
			env[nenv++] = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'N':
		case 'f':
		case 'C':
		case 'g':
		case 'L':
		case 'A':
		case 'G':
		case 'I':
			break; /* the VM is the boundary: no host-side labels or caps */
		case 'h':
			printf("Usage: " RT_NAME
			       " exec [--process FILE] [--detach] [--pid-file FILE] "
			       "[--console-socket SOCKET] [--tty] ID [COMMAND [ARG...]]\n");
			return 0;
		default:
			return rt_usage("exec", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rt_usage("exec", "needs a container id");
	const char *id = argv[optind];
	if (!process && optind == argc - 1)
		return rt_usage("exec", "needs --process FILE or a command");
	char err[1024];
	struct oci_config file = {0}; /* --process: its JSON owns the strings */
	struct proto_process p;
	unsigned rows = 0, cols = 0;
	if (process) {
		FILE *f = fopen(process, "r");
		json_error_t je;
		file.json = f ? json_loadf(f, JSON_REJECT_DUPLICATES, &je) : NULL;
		if (f)
			fclose(f);
		if (!file.json)
			return rt_error("exec: --process %s: %s", process,
					f ? je.text
					  : (errno == ENOENT ? "does not exist" : strerror(errno)));
		if (oci_process_parse(file.json, "process", &p, &rows, &cols, err, sizeof(err))) {
			json_decref(file.json);
			return rt_error("exec: --process %s: %s", process, err);
		}
	} else if (process_from_args(argv + optind + 1, env, nenv, cwd, user, tty, &p)) {
		return rt_usage("exec", "--user must be UID[:GID]");
	}
	int rc = 1;
	if (p.terminal && !console && detach) {
		rt_error("exec: a terminal needs --console-socket");
		goto out;
	}
	struct rt_container ct;
	if (rt_open(id, false, &ct, err, sizeof(err))) {
		rt_error("%s", err);
		goto out;
	}
	const char *status = rt_status(&ct);
	if (strcmp(status, "running")) {
		rt_error("exec %s: cannot exec in a container that is %s", id, status);
		rt_close(&ct);
		goto out;
	}
	unsigned char rnd[8];
	char exec_id[17];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		rt_error("exec: getrandom: %s", strerror(errno));
		rt_close(&ct);
		goto out;
	}
	for (int i = 0; i < 8; i++)
		snprintf(exec_id + 2 * i, 3, "%02x", rnd[i]);
	struct shim_exec se = {.c = &ct,
			       .process = &p,
			       .rows = rows,
			       .cols = cols,
			       .exec_id = exec_id,
			       .console_socket = console};
	pid_t pid = shim_fork(NULL, &se, !detach, err, sizeof(err));
	rt_close(&ct);
	if (pid < 0) {
		rt_error("exec %s: %s", id, err);
		goto out;
	}
	if (pid_file && rt_write_pid_file(pid_file, pid, err, sizeof(err))) {
		rt_error("%s", err);
		goto out;
	}
	rc = detach ? 0 : shim_wait(pid);
out:
	if (process) {
		proto_process_free(&p);
		json_decref(file.json);
	} else {
		free(p.groups);
	}
	return rc;
}
