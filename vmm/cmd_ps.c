/* cmd_ps: `vmm ps`, `vmm stop`, `vmm logs`, `vmm rm`: detached containers
 * (vmm run -d) through their directories (state.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "parse.h"
#include "state.h"

/* The status column: running, or how it ended. */
static void status_of(const struct ct_state *st, char *out, size_t len)
{
	if (state_running(st)) {
		snprintf(out, len, "running");
		return;
	}
	char path[PATH_MAX], buf[32] = "";
	snprintf(path, sizeof(path), "%s/exit", st->dir);
	FILE *f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f))
		snprintf(out, len, "exited (%d)", atoi(buf));
	else
		snprintf(out, len, "dead"); /* its VMM was killed */
	if (f)
		fclose(f);
}

static void list_one(const char *id, void *opaque)
{
	(void)opaque;
	struct ct_state st;
	char err[256], status[32], cmd[64] = "";
	if (state_load(id, &st, err, sizeof(err)))
		return;
	status_of(&st, status, sizeof(status));
	const json_t *c = json_object_get(st.json, "command");
	size_t used = 0;
	for (size_t i = 0; i < json_array_size(c) && used < sizeof(cmd); i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "",
					 json_string_value(json_array_get(c, i)));
	printf("%-20s %-24s %-14s %s\n", id, json_string_value(json_object_get(st.json, "image")),
	       status, cmd);
	state_free(&st);
}

int cmd_ps(int argc, char **argv)
{
	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
		fprintf(help ? stdout : stderr,
			"Usage: vmm ps\nList the containers started with vmm run -d.\n");
		return help ? 0 : 2;
	}
	printf("%-20s %-24s %-14s %s\n", "NAME", "IMAGE", "STATUS", "COMMAND");
	state_each(list_one, NULL);
	return 0;
}

/* The one NAME argument of stop/logs/rm (after options), or NULL. */
static const char *name_arg(int argc, char **argv, int first, const char *usage)
{
	if (first < argc && (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h"))) {
		printf("Usage: %s\n", usage);
		return "";
	}
	if (argc - first != 1) {
		fprintf(stderr, "Usage: %s\n", usage);
		return NULL;
	}
	return argv[first];
}

int cmd_stop(int argc, char **argv)
{
	long secs = 10;
	int first = 1;
	if (argc > 2 && (!strcmp(argv[1], "-t") || !strcmp(argv[1], "--time"))) {
		if (parse_int_range(argv[2], 0, 3600, &secs)) {
			fprintf(stderr, "vmm stop: -t: '%s' is not a number of seconds\n", argv[2]);
			return 2;
		}
		first = 3;
	}
	const char *name = name_arg(argc, argv, first,
				    "vmm stop [-t SECONDS] NAME\nSend the container SIGTERM; "
				    "after SECONDS (10), end its VM.");
	if (!name)
		return 2;
	if (!*name)
		return 0;
	struct ct_state st;
	char err[512];
	if (state_load(name, &st, err, sizeof(err))) {
		fprintf(stderr, "vmm stop: %s\n", err);
		return 1;
	}
	if (state_running(&st)) {
		/* The VMM passes SIGTERM on to the container's process. */
		kill(st.pid, SIGTERM);
		for (long i = 0; i < secs * 10 && state_running(&st); i++)
			nanosleep(&(struct timespec){0, 100000000}, NULL);
		if (state_running(&st)) {
			kill(st.pid, SIGKILL); /* the VM goes with it */
			for (int i = 0; i < 50 && kill(st.pid, 0) == 0; i++)
				nanosleep(&(struct timespec){0, 100000000}, NULL);
		}
	}
	state_free(&st);
	printf("%s\n", name);
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	const char *name =
		name_arg(argc, argv, 1, "vmm logs NAME\nShow a container's stdout and stderr.");
	if (!name)
		return 2;
	if (!*name)
		return 0;
	struct ct_state st;
	char err[512], path[PATH_MAX];
	if (state_load(name, &st, err, sizeof(err))) {
		fprintf(stderr, "vmm logs: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/output.log", st.dir);
	state_free(&st);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	if (fd >= 0)
		close(fd);
	return 0;
}

int cmd_rm(int argc, char **argv)
{
	const char *name = name_arg(argc, argv, 1, "vmm rm NAME\nRemove a stopped container.");
	if (!name)
		return 2;
	if (!*name)
		return 0;
	struct ct_state st;
	char err[512];
	if (state_load(name, &st, err, sizeof(err))) {
		fprintf(stderr, "vmm rm: %s\n", err);
		return 1;
	}
	int rc = 0;
	if (state_running(&st)) {
		fprintf(stderr, "vmm rm: %s is running (vmm stop %s first)\n", name, name);
		rc = 1;
	} else {
		state_remove(st.dir);
		printf("%s\n", name);
	}
	state_free(&st);
	return rc;
}
