/* cmd_ps: `ps [--format table|json] ID`: the host pids of the container:
 * its processes live in the guest, so the one host process that stands
 * for them is the shim. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "table";
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: " RT_NAME " ps [--format table|json] ID\n");
			return 0;
		}
		if (c != 'f')
			return rt_usage("ps", "unknown option '%s'", argv[optind - 1]);
		format = optarg;
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return rt_usage("ps", "--format must be table or json");
	if (optind != argc - 1)
		return rt_usage("ps", "needs exactly one container id");
	char err[1024];
	struct rt_container ct;
	if (rt_open(argv[optind], false, &ct, err, sizeof(err)))
		return rt_error("%s", err);
	bool alive = strcmp(rt_status(&ct), "stopped") != 0;
	if (!strcmp(format, "json"))
		alive ? printf("[%d]\n", (int)ct.pid) : printf("[]\n");
	else
		alive ? printf("PID\n%d\n", (int)ct.pid) : printf("PID\n");
	rt_close(&ct);
	return 0;
}
