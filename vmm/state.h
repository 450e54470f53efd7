/*
 * state: where a detached container (`vmm run -d`) lives on the host, so
 * `vmm exec`, `ps`, `stop`, `logs` and `rm` find it: a directory per
 * container under $VMM_RUN_DIR (default /run/vmm as root, else
 * $XDG_RUNTIME_DIR/vmm or /tmp/vmm-UID) holding
 *   state.json   {"id", "pid" (the VMM's), "image", "command", "env", "cwd",
 *                 "uid", "gid", "created"}
 *   vsock        the VM's vsock socket (the agent answers "CONNECT 1024")
 *   output.log   the container's stdout and stderr
 *   console.log  the guest's serial console
 *   exit         the exit status, once it has ended
 */
#ifndef VMM_STATE_H
#define VMM_STATE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ct_state {
	char dir[PATH_MAX / 2];
	json_t *json; /* state.json */
	pid_t pid;
};

/* The directory for container id (not made). Returns 0 or -1 with err
 * (id not valid, path too long). */
int state_dir(const char *id, char *dir, size_t len, char *err, size_t errlen);

/* Makes the directory for id. One left by a container that has ended is
 * replaced; a running one is an error. Returns 0 or -1 with err. */
int state_claim(const char *id, char *dir, size_t len, char *err, size_t errlen);

/* Writes j as dir/state.json (atomically). */
int state_write(const char *dir, const json_t *j);

/* Reads id's state. Returns 0, or -1 with err ("no container ..."). */
int state_load(const char *id, struct ct_state *st, char *err, size_t errlen);
void state_free(struct ct_state *st);

/* Whether its VMM is still running. */
bool state_running(const struct ct_state *st);

/* rm -rf of a container's directory. */
void state_remove(const char *dir);

/* Calls fn for every container's id, in no order. */
void state_each(void (*fn)(const char *id, void *opaque), void *opaque);

#endif
