/* cmd_run: `run [--bundle B] [--pid-file P] [--console-socket S]
 * [--detach] [--keep] ID`: create and start; without --detach, wait for
 * the container and exit with its status, then delete it (unless
 * --keep). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "files.h"
#include "rt.h"
#include "shim.h"

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"pid-file", required_argument, NULL, 'P'},
		{"console-socket", required_argument, NULL, 'c'},
		{"detach", no_argument, NULL, 'd'},
		{"keep", no_argument, NULL, 'k'},
		{"no-pivot", no_argument, NULL, 'n'},
		{"no-new-keyring", no_argument, NULL, 'K'},
		{"preserve-fds", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *bundle = NULL, *pid_file = NULL, *console = NULL;
	bool detach = false, keep = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "b:dh", opts, NULL)) != -1) {
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
		case 'd':
			detach = true;
			break;
		case 'k':
			keep = true;
			break;
		case 'n':
		case 'K':
		case 'f':
			break;
		case 'h':
			printf("Usage: " RT_NAME " run [--bundle DIR] [--pid-file FILE] "
			       "[--console-socket SOCKET] [--detach] [--keep] ID\n");
			return 0;
		default:
			return rt_usage("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return rt_usage("run", "needs exactly one container id");
	const char *id = argv[optind];
	pid_t pid;
	if (rt_create(id, bundle, pid_file, console, !detach, &pid))
		return 1;
	if (rt_start(id)) {
		rt_delete(id, true);
		return 1;
	}
	if (detach)
		return 0;
	int status = shim_wait(pid);
	if (!keep)
		rt_delete(id, false);
	return status;
}
