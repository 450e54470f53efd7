/* cmd_list: `list [--format table|json] [--quiet]`: every container under
 * --root. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "table";
	bool quiet = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "f:qh", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: " RT_NAME " list [--format table|json] [--quiet]\n");
			return 0;
		}
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return rt_usage("list", "unknown option '%s'", argv[optind - 1]);
	}
	bool json = !strcmp(format, "json");
	if (!json && strcmp(format, "table"))
		return rt_usage("list", "--format must be table or json");
	if (optind != argc)
		return rt_usage("list", "takes no arguments");
	json_t *all = json_array();
	DIR *d = opendir(rt.root);
	struct dirent *e;
	if (!quiet && !json)
		printf("%-20s %-8s %-8s %-30s %s\n", "ID", "PID", "STATUS", "CREATED", "BUNDLE");
	while (d && (e = readdir(d))) {
		struct rt_container ct;
		char err[256];
		if (e->d_name[0] == '.' || rt_open(e->d_name, false, &ct, err, sizeof(err)))
			continue;
		json_t *st = rt_state_json(&ct);
		rt_close(&ct);
		if (!st)
			continue;
		if (quiet && !json)
			printf("%s\n", e->d_name);
		else if (!json)
			printf("%-20s %-8lld %-8s %-30s %s\n", e->d_name,
			       json_integer_value(json_object_get(st, "pid")),
			       json_string_value(json_object_get(st, "status")),
			       json_string_value(json_object_get(st, "created")),
			       json_string_value(json_object_get(st, "bundle")));
		json_array_append_new(all, st);
	}
	if (d)
		closedir(d);
	if (json) {
		json_dumpf(all, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(all);
	return 0;
}
