/* main: the `vmm` command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "selfmem.h"

#define VMM_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"boot", cmd_boot, "boot a kernel in a microVM"},
	{"run", cmd_run, "run a command in a container in a microVM"},
	{"exec", cmd_exec, "run another command in a running container"},
	{"ps", cmd_ps, "list the containers started with run -d"},
	{"stop", cmd_stop, "stop a running container"},
	{"logs", cmd_logs, "show a container's output"},
	{"rm", cmd_rm, "remove a stopped container"},
	{"load", cmd_load, "load an image (docker save or OCI) into the store"},
	{"images", cmd_images, "list the images in the store"},
	{"rmi", cmd_rmi, "remove an image from the store"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'vmm COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	selfmem_setup();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vmm: unknown command '%s'\nTry 'vmm --help'.\n", argv[1]);
	return 2;
}
