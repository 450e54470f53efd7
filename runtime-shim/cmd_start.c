/* cmd_start: `start ID`: the created container's process runs (the agent
 * is told directly); then the poststart hooks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hooks.h"
#include "rt.h"

int rt_start(const char *id)
{
	char err[1024];
	struct rt_container c;
	if (rt_open(id, true, &c, err, sizeof(err)))
		return rt_error("%s", err);
	const char *status = rt_status(&c);
	if (strcmp(status, "created")) {
		rt_close(&c);
		return rt_error("cannot start container %s: it is %s, not created", id, status);
	}
	if (rt_agent_call(c.dir_fd, json_pack("{s:s, s:s}", "type", "start", "container", id), err,
			  sizeof(err))) {
		rt_close(&c);
		return rt_error("start %s: %s", id, err);
	}
	json_object_set_new(c.state, "started", json_true());
	if (rt_save(&c, err, sizeof(err))) {
		rt_close(&c);
		return rt_error("%s", err);
	}
	/* poststart: after the process has started; a failure only warns. */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json",
		 json_string_value(json_object_get(c.state, "bundle")));
	struct oci_config cfg;
	if (oci_config_load(path, &cfg, err, sizeof(err)) == 0) {
		json_t *st = rt_state_json(&c);
		if (hooks_run(&cfg, OCI_POSTSTART, st, err, sizeof(err)))
			rt_warn("%s", err);
		json_decref(st);
		oci_config_free(&cfg);
	}
	rt_close(&c);
	return 0;
}

int cmd_start(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " RT_NAME " start ID\n");
		return 0;
	}
	if (argc != 2)
		return rt_usage("start", "needs exactly one container id");
	return rt_start(argv[1]);
}
