/* cmd_state: `state ID`: the OCI state JSON. A container whose pid-file
 * process has gone is "stopped" without anybody having to reap it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

int cmd_state(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " RT_NAME " state ID\n");
		return 0;
	}
	if (argc != 2)
		return rt_usage("state", "needs exactly one container id");
	char err[1024];
	struct rt_container c;
	if (rt_open(argv[1], false, &c, err, sizeof(err)))
		return rt_error("%s", err);
	json_t *st = rt_state_json(&c);
	rt_close(&c);
	if (!st)
		return rt_error("state %s: out of memory", argv[1]);
	json_dumpf(st, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(st);
	return 0;
}
