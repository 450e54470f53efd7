/*
 * runspec: what a container's process gets, from the image's config and
 * `vmm run`'s options, the way `docker run` decides it:
 *   args  Entrypoint (or --entrypoint; "" clears it) followed by COMMAND,
 *         or by the image's Cmd when no COMMAND is given;
 *   env   the image's Env (or a default PATH), -e entries replacing the
 *         same key or added, then HOSTNAME, then HOME if still unset (the
 *         user's home from the image's /etc/passwd, else /root or /), and
 *         with -t TERM=xterm if still unset;
 *   cwd   -w, else WorkingDir, else /;
 *   user  -u, else User: "uid", "name", "uid:gid", "name:group"; names and
 *         the default group come from the image's /etc/passwd and
 *         /etc/group, read inside the rootfs (symlinks never leave it).
 * Pure apart from reading those two files; unit-tested.
 */
#ifndef VMM_RUNSPEC_H
#define VMM_RUNSPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct run_opts {
	const char *entrypoint; /* NULL: the image's */
	char **cmd;		/* COMMAND [ARG...]; ncmd 0: the image's Cmd */
	int ncmd;
	char **env; /* -e KEY=VALUE */
	int nenv;
	const char *workdir; /* NULL: the image's */
	const char *user;    /* NULL: the image's */
	const char *hostname;
	bool tty; /* -t: TERM=xterm unless set, as docker */
};

struct run_spec {
	char **args; /* NULL-terminated, malloc'd */
	char **env;
	char *cwd;
	uid_t uid;
	gid_t gid;
};

/* config: the image config's "config" object, or NULL (a plain rootfs).
 * Returns 0, or -1 with one line in err. */
int runspec_build(const json_t *config, const char *rootfs, const struct run_opts *o,
		  struct run_spec *s, char *err, size_t errlen);

void runspec_free(struct run_spec *s);

#endif
