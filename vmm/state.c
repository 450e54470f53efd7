/* state: detached containers' directories on the host. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "files.h"
#include "proto.h"

static void base(char *out, size_t len)
{
	const char *env = getenv("VMM_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "/run/vmm");
	else if (xdg && *xdg)
		snprintf(out, len, "%s/vmm", xdg);
	else
		snprintf(out, len, "/tmp/vmm-%u", (unsigned)geteuid());
}

int state_dir(const char *id, char *dir, size_t len, char *err, size_t errlen)
{
	if (!proto_valid_id(id))
		return errf(err, errlen,
			    "'%s' is not a container name (1 to 64 of A-Z a-z 0-9 _ . -)", id);
	char b[PATH_MAX / 4];
	base(b, sizeof(b));
	if ((size_t)snprintf(dir, len, "%s/%s", b, id) >= len)
		return errf(err, errlen, "the run directory's path is too long");
	return 0;
}

void state_remove(const char *dir)
{
	rm_rf(dir);
}

int state_claim(const char *id, char *dir, size_t len, char *err, size_t errlen)
{
	char b[PATH_MAX / 4];
	base(b, sizeof(b));
	mkdir(b, 0700);
	if (state_dir(id, dir, len, err, errlen))
		return -1;
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	struct ct_state st;
	if (state_load(id, &st, err, errlen) == 0 && state_running(&st)) {
		snprintf(err, errlen, "a container named %s is running (vmm stop %s)", id, id);
		state_free(&st);
		return -1;
	}
	state_free(&st);
	/* Ended (or half made by a VMM that died): its name is free. */
	state_remove(dir);
	if (mkdir(dir, 0700))
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	return 0;
}

int state_write(const char *dir, const json_t *j)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", dir);
	if (json_dump_file(j, tmp, JSON_COMPACT) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int state_load(const char *id, struct ct_state *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	if (state_dir(id, st->dir, sizeof(st->dir), err, errlen))
		return -1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	json_error_t je;
	st->json = json_load_file(path, 0, &je);
	if (!st->json)
		return errf(err, errlen, "no container named %s (vmm ps lists them)", id);
	st->pid = (pid_t)json_integer_value(json_object_get(st->json, "pid"));
	return 0;
}

void state_free(struct ct_state *st)
{
	json_decref(st->json);
	st->json = NULL;
}

bool state_running(const struct ct_state *st)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/exit", st->dir);
	return st->pid > 0 && access(path, F_OK) != 0 && (kill(st->pid, 0) == 0 || errno == EPERM);
}

void state_each(void (*fn)(const char *id, void *opaque), void *opaque)
{
	char b[PATH_MAX / 4];
	base(b, sizeof(b));
	DIR *d = opendir(b);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && proto_valid_id(e->d_name))
			fn(e->d_name, opaque);
	if (d)
		closedir(d);
}
