/*
 * shim: the process a client sees as the container (its pid is the pid
 * file's), as kata-shim was: it holds the container's stdio (the runtime's
 * own fds 0/1/2, or a pty whose master went to --console-socket), relays
 * them to the agent's streams, passes on every signal it gets, turns
 * SIGWINCH into resizes, and exits with the container's status (128+N for
 * signal N) once all output is out.
 *
 * For `create` it is also the VMM: in the container's network namespace
 * it boots the microVM (the bundle's root shared over virtio-fs), creates
 * the container in the guest and waits for `start` (which another
 * vmm-runtime sends to the agent directly). For `exec` it only talks to
 * the running VM's agent.
 *
 * shim_fork() forks it; the parent waits until the child says it is ready
 * (container created / process started) or why it is not.
 */
#ifndef VMM_RT_SHIM_H
#define VMM_RT_SHIM_H

#include <stddef.h>
#include <sys/types.h>

#include "oci.h"
#include "rt.h"

/* The VM's memory when the config sets no limit (oci_memory). */
#define SHIM_DEFAULT_MEM (256ULL << 20)

struct shim_create {
	const struct rt_container *c; /* the state directory */
	const char *bundle;	      /* absolute */
	const struct oci_config *cfg;
	const char *console_socket; /* NULL: no terminal */
};

struct shim_exec {
	const struct rt_container *c;
	const struct proto_process *process;
	unsigned rows, cols;
	const char *exec_id;
	const char *console_socket;
};

/* Forks the shim for create (exec NULL) or exec (create NULL). In the
 * parent: returns the child's pid once it is ready, or -1 with err (the
 * child has then exited). Never returns in the child. foreground: the
 * child stays in our session (runc run/exec without --detach). */
pid_t shim_fork(const struct shim_create *create, const struct shim_exec *exec, bool foreground,
		char *err, size_t errlen);

/* Waits for a foreground shim (our child), passing on the signals we get
 * meanwhile. Returns its exit status (128+N if signal N ended it). */
int shim_wait(pid_t pid);

/* The guest kernel and the agent's initramfs: $VMM_KERNEL / $VMM_INITRD,
 * else guest/bzImage and guest/agent-initramfs.cpio.gz beside this
 * program. */
void shim_guest_file(const char *env, const char *name, char *out, size_t len);

#endif
