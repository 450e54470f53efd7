/*
 * vmm-runtime: a runc-compatible OCI runtime that runs each container in a
 * microVM. Global flags as runc spells them (go-runc passes them before the
 * subcommand), then one subcommand per file. The contract followed is the
 * one Docker 20.10, containerd 1.6, podman 4.3 and conmon rely on.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "rt.h"
#include "selfmem.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"create", cmd_create, "create a container (boots its microVM)"},
	{"start", cmd_start, "start the process of a created container"},
	{"run", cmd_run, "create and start a container"},
	{"state", cmd_state, "output the state of a container"},
	{"kill", cmd_kill, "send a signal to the container's process"},
	{"delete", cmd_delete, "delete a container and its microVM"},
	{"exec", cmd_exec, "run another process in a running container"},
	{"ps", cmd_ps, "the host pids of a container"},
	{"list", cmd_list, "list the containers"},
	{"pause", cmd_pause, "pause a container's microVM"},
	{"resume", cmd_resume, "resume a paused container"},
	{"update", cmd_update, "update resources (accepted, not applied)"},
	{"features", cmd_features, "the runtime's features as JSON"},
	{"spec", cmd_spec, "write a default config.json"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: " RT_NAME " [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n"
		   "An OCI runtime (runc's command line) that runs each container in a microVM.\n\n"
		   "Global options:\n"
		   "  --root DIR          state directory (default " RT_DEFAULT_ROOT ")\n"
		   "  --log FILE          log errors to FILE\n"
		   "  --log-format FMT    text or json\n"
		   "  --debug             debug lines in the log\n"
		   "  --systemd-cgroup    accepted (the microVM is the resource boundary)\n"
		   "  --version, --help\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int rt_usage(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt_error("%s: %s", cmd, msg);
	fprintf(stderr, "Try '" RT_NAME " %s --help'.\n", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	selfmem_setup();
	enum { ROOT = 1, LOG, LOG_FORMAT, DEBUG, SYSTEMD, CRIU, ROOTLESS, VERSION, HELP };
	static const struct option opts[] = {
		{"root", required_argument, NULL, ROOT},
		{"log", required_argument, NULL, LOG},
		{"log-format", required_argument, NULL, LOG_FORMAT},
		{"debug", no_argument, NULL, DEBUG},
		{"systemd-cgroup", no_argument, NULL, SYSTEMD},
		{"criu", required_argument, NULL, CRIU},
		{"rootless", required_argument, NULL, ROOTLESS},
		{"version", no_argument, NULL, VERSION},
		{"help", no_argument, NULL, HELP},
		{0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case ROOT:
			rt.root = optarg;
			break;
		case LOG:
			rt.log = optarg;
			break;
		case LOG_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, RT_NAME ": --log-format must be text or json\n");
				return 2;
			}
			rt.log_json = !strcmp(optarg, "json");
			break;
		case DEBUG:
			rt.debug = true;
			break;
		case SYSTEMD:
			rt.systemd_cgroup = true;
			break;
		case CRIU:
		case ROOTLESS:
			break; /* no checkpointing; the VM needs /dev/kvm, not root */
		case 'v':
		case VERSION:
			printf(RT_NAME " version " RT_VERSION "\nspec: " RT_OCI_VERSION "\n");
			return 0;
		case 'h':
		case HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, RT_NAME ": unknown global option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* The shim works from inside the state directory: the root must not
	 * depend on the working directory. */
	static char abs_root[4096];
	if (rt.root[0] != '/') {
		char cwd[2048];
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, RT_NAME ": the working directory: %m\n");
			return 1;
		}
		snprintf(abs_root, sizeof(abs_root), "%s/%s", cwd, rt.root);
		rt.root = abs_root;
	}
	int first = optind;
	const char *cmd = argv[first];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name)) {
			optind = 0; /* a fresh getopt for the subcommand */
			return commands[i].run(argc - first, argv + first);
		}
	rt_error("unknown command '%s'", cmd);
	return 2;
}
