/* cmd_update: `update [--resources FILE|-] [flags] ID`: a microVM's vCPUs
 * and memory are fixed at boot, so this is refused with a clear error
 * (after checking the container exists) rather than pretending. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

int cmd_update(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " RT_NAME " update [OPTIONS] ID\n");
		return 0;
	}
	if (argc < 2)
		return rt_usage("update", "needs a container id");
	const char *id = argv[argc - 1];
	char err[1024];
	struct rt_container ct;
	if (rt_open(id, false, &ct, err, sizeof(err)))
		return rt_error("%s", err);
	rt_close(&ct);
	return rt_error("update %s: a running microVM's resources cannot be changed", id);
}
