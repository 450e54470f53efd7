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
 * (exec: the process started) or why it is not. create has two steps, so
 * the VM boots while the runtime runs the hooks: shim_fork returns once
 * the VM exists and is booting (the guest's agent not yet there), and
 * shim_go, after the hooks, lets the shim create the container in the
 * guest and waits until it has. Hooks so still run before the container
 * exists, as with runc, but no longer after a whole boot: Docker's
 * prestart hook alone (libnetwork-setkey) takes about as long as the
 * boot under emulation.
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
	int report_fd, go_fd;	    /* set by shim_fork: the parent's ends, for shim_go */
};

struct shim_exec {
	const struct rt_container *c;
	const struct proto_process *process;
	unsigned rows, cols;
	const char *exec_id;
	const char *console_socket;
};

/* Forks the shim for create (exec NULL) or exec (create NULL). In the
 * parent: returns the child's pid once it is ready (create: once its VM
 * is booting; then shim_go), or -1 with err (the child has then exited).
 * Never returns in the child. foreground: the child stays in our session
 * (runc run/exec without --detach). */
pid_t shim_fork(struct shim_create *create, const struct shim_exec *exec, bool foreground,
		char *err, size_t errlen);

/* create's second step, once for each shim_fork that returned a pid:
 * lets the shim create the container in its guest (after the agent has
 * come up) and waits until it has. Returns 0, or -1 with err (the child
 * has then exited). A create that ends without calling it (a hook failed)
 * kills the child; one that dies leaves the child waiting for nothing:
 * it stops its VM and exits. */
int shim_go(struct shim_create *create, pid_t pid, char *err, size_t errlen);

/* Waits for a foreground shim (our child), passing on the signals we get
 * meanwhile. Returns its exit status (128+N if signal N ended it). */
int shim_wait(pid_t pid);

/* The guest kernel and the agent's initramfs: $VMM_KERNEL / $VMM_INITRD,
 * else guest/bzImage and guest/agent-initramfs.cpio.gz beside this
 * program. */
void shim_guest_file(const char *env, const char *name, char *out, size_t len);

#endif
