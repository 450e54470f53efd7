/* runspec: the process a container runs, from image config and options. */
#include "runspec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errf.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_LIST     4096

/* A growing NULL-terminated list of malloc'd strings. */
struct list {
	char **v;
	int n, cap;
};

static int push(struct list *l, const char *s)
{
	if (l->n + 2 > l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		char **v = cap <= MAX_LIST ? realloc(l->v, (size_t)cap * sizeof(*v)) : NULL;
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->v[++l->n] = NULL;
	return 0;
}

static void free_list(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* Appends a JSON array of strings; a non-array (null) adds nothing. */
static int push_json(struct list *l, const json_t *a, const char *what, char *err, size_t errlen)
{
	if (a && !json_is_array(a) && !json_is_null(a))
		return errf(err, errlen, "the image's %s is not a list of strings", what);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s)
			return errf(err, errlen, "the image's %s is not a list of strings", what);
		if (push(l, s))
			goto oom;
	}
	return 0;
oom:
	return errf(err, errlen, "out of memory");
}

/* Sets KEY=VALUE, replacing an entry with the same key. */
static int set_env(struct list *l, const char *kv)
{
	size_t k = strcspn(kv, "=");
	for (int i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], kv, k) && l->v[i][k] == '=') {
			char *s = strdup(kv);
			if (!s)
				return -1;
			free(l->v[i]);
			l->v[i] = s;
			return 0;
		}
	return push(l, kv);
}

static bool has_env(const struct list *l, const char *key)
{
	size_t k = strlen(key);
	for (int i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], key, k) && l->v[i][k] == '=')
			return true;
	return false;
}

/* Reads rootfs/etc/<name> with the rootfs as root: a symlink in the
 * image cannot make us read a host file. NULL if it is not there. */
static char *read_in_root(const char *rootfs, const char *name)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = root < 0 ? -1 : (int)syscall(SYS_openat2, root, name, &how, sizeof(how));
	if (root >= 0)
		close(root);
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 20, len = 0; /* bigger is not a passwd file */
	char *buf = malloc(cap + 1);
	ssize_t n;
	while (buf && len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static bool number(const char *s, unsigned long *v)
{
	char *end;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno && *v < 0xffffffffUL;
}

/* Finds a passwd or group line by name or by id (field 3); returns the
 * fields in f (up to 7), or false. */
static bool find_entry(char *file, const char *name, unsigned long id, bool by_id, char **f)
{
	for (char *line = file, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		memset(f, 0, 7 * sizeof(*f)); /* no fields left from the last line */
		int n = 0;
		for (char *p = line; n < 7; n++) {
			f[n] = p;
			p = strchr(p, ':');
			if (!p) {
				n++;
				break;
			}
			*p++ = '\0';
		}
		if (n < 3)
			continue;
		unsigned long v;
		if (by_id ? number(f[2], &v) && v == id : !strcmp(f[0], name))
			return true;
	}
	return false;
}

static int resolve_user(const char *rootfs, const char *user, struct run_spec *s, char **home,
			char *err, size_t errlen)
{
	s->uid = 0;
	s->gid = 0;
	*home = NULL;
	if (!user || !*user)
		user = "0";
	char u[256], *g;
	snprintf(u, sizeof(u), "%s", user);
	if ((g = strchr(u, ':')))
		*g++ = '\0';
	unsigned long v;
	char *passwd = rootfs ? read_in_root(rootfs, "etc/passwd") : NULL, *f[7] = {0};
	bool uid_num = number(u, &v);
	if (find_entry(passwd, u, v, uid_num, f) && f[3] &&
	    (uid_num || number(f[2], &v))) { /* the entry's uid, gid and home */
		unsigned long gid;
		s->uid = (uid_t)v;
		s->gid = f[3] && number(f[3], &gid) ? (gid_t)gid : 0;
		*home = f[5] && *f[5] ? strdup(f[5]) : NULL;
	} else if (uid_num) {
		s->uid = (uid_t)v; /* a number not in passwd: group 0, as docker */
	} else {
		snprintf(err, errlen, "user '%s' is not in the image's /etc/passwd", u);
		free(passwd);
		return -1;
	}
	free(passwd);
	if (g) {
		char *group = rootfs ? read_in_root(rootfs, "etc/group") : NULL;
		if (number(g, &v))
			s->gid = (gid_t)v;
		else if (find_entry(group, g, 0, false, f) && number(f[2], &v))
			s->gid = (gid_t)v;
		else {
			snprintf(err, errlen, "group '%s' is not in the image's /etc/group", g);
			free(group);
			free(*home);
			*home = NULL;
			return -1;
		}
		free(group);
	}
	return 0;
}

int runspec_build(const json_t *config, const char *rootfs, const struct run_opts *o,
		  struct run_spec *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	struct list args = {0}, env = {0};
	char *home = NULL;
	/* args */
	if (o->entrypoint) {
		if (*o->entrypoint && push(&args, o->entrypoint))
			goto oom;
	} else if (push_json(&args, json_object_get(config, "Entrypoint"), "Entrypoint", err,
			     errlen)) {
		goto fail;
	}
	if (o->ncmd) {
		for (int i = 0; i < o->ncmd; i++)
			if (push(&args, o->cmd[i]))
				goto oom;
	} else if (!o->entrypoint || !*o->entrypoint) {
		/* docker: --entrypoint drops the image's Cmd too */
		if (!o->entrypoint &&
		    push_json(&args, json_object_get(config, "Cmd"), "Cmd", err, errlen))
			goto fail;
	}
	if (args.n == 0) {
		snprintf(err, errlen, "no command: the image has none, give one after IMAGE");
		goto fail;
	}
	/* user, before env: HOME may come from passwd */
	const char *user = o->user ? o->user : json_string_value(json_object_get(config, "User"));
	if (resolve_user(rootfs, user, s, &home, err, errlen))
		goto fail;
	/* env */
	const json_t *ienv = json_object_get(config, "Env");
	if (json_array_size(ienv) == 0 && push(&env, DEFAULT_PATH))
		goto oom;
	if (push_json(&env, ienv, "Env", err, errlen))
		goto fail;
	for (int i = 0; i < o->nenv; i++)
		if (set_env(&env, o->env[i]))
			goto oom;
	char kv[512];
	if (o->hostname && !has_env(&env, "HOSTNAME")) {
		snprintf(kv, sizeof(kv), "HOSTNAME=%s", o->hostname);
		if (push(&env, kv))
			goto oom;
	}
	if (!has_env(&env, "HOME")) {
		snprintf(kv, sizeof(kv), "HOME=%s", home ? home : s->uid == 0 ? "/root" : "/");
		if (push(&env, kv))
			goto oom;
	}
	if (o->tty && !has_env(&env, "TERM") && push(&env, "TERM=xterm"))
		goto oom;
	/* cwd */
	const char *wd =
		o->workdir ? o->workdir : json_string_value(json_object_get(config, "WorkingDir"));
	if (!wd || !*wd)
		wd = "/";
	if (wd[0] != '/') {
		snprintf(err, errlen, "working directory '%s' is not absolute", wd);
		goto fail;
	}
	if (!(s->cwd = strdup(wd)))
		goto oom;
	free(home);
	s->args = args.v;
	s->env = env.v;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(home);
	free_list(args.v);
	free_list(env.v);
	free(s->cwd);
	memset(s, 0, sizeof(*s));
	return -1;
}

void runspec_free(struct run_spec *s)
{
	free_list(s->args);
	free_list(s->env);
	free(s->cwd);
	memset(s, 0, sizeof(*s));
}
