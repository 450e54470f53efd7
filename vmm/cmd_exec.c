/* cmd_exec: `vmm exec [-i] [-t] [-e KEY=VALUE] [-w DIR] [-u UID[:GID]] NAME
 * COMMAND [ARG...]`: another process in a detached container (vmm run -d),
 * through the VM's vsock socket to its agent; exits with its status. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "agent_client.h"
#include "commands.h"
#include "parse.h"
#include "proto.h"
#include "session.h"
#include "state.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm exec [OPTIONS] NAME COMMAND [ARG...]\n"
		   "Run another command in a running container (vmm run -d).\n"
		   "\n"
		   "  -i, --interactive      attach stdin\n"
		   "  -t, --tty              give the command a terminal\n"
		   "  -e, --env KEY=VALUE    set an environment variable (repeatable)\n"
		   "  -w, --workdir DIR      working directory (default: the container's)\n"
		   "  -u, --user UID[:GID]   user and group ids (default: the container's)\n"
		   "  -h, --help             show this help\n"
		   "\n"
		   "Exit status: the command's (128+N for signal N), 127 if it does not\n"
		   "exist, 126 if it cannot be run, 125 if the exec itself failed.\n");
}

/* KEY=VALUE into env (a JSON array): replaces the same key, or appends. */
static void set_env(json_t *env, const char *kv)
{
	size_t k = strcspn(kv, "=");
	for (size_t i = 0; i < json_array_size(env); i++) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && !strncmp(e, kv, k) && e[k] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"interactive", no_argument, NULL, 'i'},
		{"tty", no_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},
		{"workdir", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool interactive = false, tty = false;
	const char *cwd = NULL, *user = NULL;
	/* -e entries: pointers into argv, so an early exit frees nothing. */
	static const char *extra[4096];
	int nextra = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+ite:w:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interactive = true;
			break;
		case 't':
			tty = true;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "vmm exec: --env: '%s' is not KEY=VALUE\n", optarg);
				return 2;
			}
			if (nextra == (int)(sizeof(extra) / sizeof(extra[0]))) {
				fprintf(stderr, "vmm exec: --env: too many\n");
				return 2;
			}
			extra[nextra++] = optarg;
			break;
		case 'w':
			if (optarg[0] != '/') {
				fprintf(stderr, "vmm exec: --workdir: '%s' is not absolute\n",
					optarg);
				return 2;
			}
			cwd = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'vmm exec --help'.\n");
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "vmm exec: a container name and a command are needed\n"
				"Try 'vmm exec --help'.\n");
		return 2;
	}
	const char *name = argv[optind++];
	long uid = 0, gid = 0;
	if (user) {
		char u[64], *colon;
		snprintf(u, sizeof(u), "%s", user);
		if ((colon = strchr(u, ':')))
			*colon = '\0';
		if (parse_int_range(u, 0, UINT32_MAX - 1, &uid) ||
		    (colon && parse_int_range(colon + 1, 0, UINT32_MAX - 1, &gid))) {
			fprintf(stderr, "vmm exec: --user: not UID or UID:GID (numbers)\n");
			return 2;
		}
	}
	struct ct_state st;
	char err[512];
	if (state_load(name, &st, err, sizeof(err))) {
		fprintf(stderr, "vmm exec: %s\n", err);
		return 125;
	}
	if (!state_running(&st)) {
		fprintf(stderr, "vmm exec: container %s is not running\n", name);
		state_free(&st);
		return 125;
	}
	/* The container's own process's env, cwd and ids, -e/-w/-u on top. */
	json_t *env = json_deep_copy(json_object_get(st.json, "env"));
	if (!json_is_array(env))
		env = json_array();
	for (int i = 0; i < nextra; i++)
		set_env(env, extra[i]);
	if (tty)
		set_env(env, "TERM=xterm");
	if (!user) {
		uid = json_integer_value(json_object_get(st.json, "uid"));
		gid = json_integer_value(json_object_get(st.json, "gid"));
	}
	json_t *args = json_array();
	for (int i = optind; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	char exec_id[16];
	unsigned char rnd[6] = {0};
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memcpy(rnd, &(pid_t){getpid()}, sizeof(pid_t));
	snprintf(exec_id, sizeof(exec_id), "x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
		 rnd[3], rnd[4], rnd[5]);
	json_t *req = json_pack(
		"{s:s, s:s, s:s, s:{s:o, s:o, s:s, s:I, s:I, s:b}}", "type", "exec", "container",
		name, "exec_id", exec_id, "process", "args", args, "env", env, "cwd",
		cwd ? cwd : json_string_value(json_object_get(st.json, "cwd")) ?: "/", "uid",
		(json_int_t)uid, "gid", (json_int_t)gid, "terminal", tty);

	char sock[PATH_MAX];
	snprintf(sock, sizeof(sock), "%s/vsock", st.dir);
	state_free(&st);
	struct agent_client agent;
	if (agent_connect(&agent, sock, err, sizeof(err))) {
		fprintf(stderr, "vmm exec: %s\n", err);
		json_decref(req);
		return 125;
	}
	struct session s;
	session_init(&s, &agent, name, exec_id);
	s.interactive = interactive;
	s.tty = tty;
	/* exec first: the process's output waits in its pipe until the
	 * streams are attached, and nothing of it is lost. */
	struct termios saved;
	bool raw =
		tty && interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	sigset_t winch;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, NULL);
	int status = 125;
	if (!session_failed(&s, agent_call(&agent, req, s.err, sizeof(s.err))) &&
	    session_open(&s) == 0) {
		if (raw) {
			struct termios t = saved;
			cfmakeraw(&t);
			tcsetattr(STDIN_FILENO, TCSANOW, &t);
		}
		session_run(&s);
		if (raw)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	}
	session_close(&s);
	agent_close(&agent);
	if (s.status >= 0)
		status = s.status;
	else {
		fprintf(stderr, "vmm exec: %s\n", s.err);
		status = s.exit_code ? s.exit_code : 125;
	}
	return status;
}
