/*
 * sandbox: each VMM thread confines itself once its setup is done, so a
 * guest that takes over a thread (through a device emulation bug) can make
 * only the system calls that thread needs; any other kills the whole VMM
 * (SIGSYS, SECCOMP_RET_KILL_PROCESS) rather than failing or succeeding.
 *
 * (Named so as not to shadow libseccomp's <seccomp.h>, which builds the
 * filters at build time: sandbox_filters.h.) The kinds, and where each
 * confines itself:
 *   SANDBOX_VCPU    a vCPU thread, before its first KVM_RUN
 *   SANDBOX_FS      a virtio-fs worker, before it serves its first request
 *   SANDBOX_CLIENT  `vmm run`'s and vmm-runtime's agent client thread
 *                   (agent calls, the session relay), first thing
 *   SANDBOX_LOOP    the thread that runs the event loop (the main thread),
 *                   after every other VM thread exists and just before
 *                   evloop_run; its list covers the run's teardown and the
 *                   process's exit too (removing the sockets, the scratch
 *                   and state directories), which follow on that thread
 *
 * A seccomp filter is inherited by threads created after it, and stacked
 * filters all apply; so the loop thread confines itself last, after it has
 * started every other thread. Before its filter, each thread sets
 * PR_SET_NO_NEW_PRIVS and drops the capabilities its kind never uses
 * (capabilities are per thread): vCPU and client threads keep none, the
 * workers keep the file-system ones, the loop thread the few its teardown
 * may need. Those drops apply even with seccomp switched off.
 *
 * Switching off (debugging, strace of an unexpected death): `--no-seccomp`
 * on vmm boot/run, or VMM_NO_SECCOMP=1 in the environment (vmm-runtime).
 */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <stdbool.h>

enum sandbox_kind {
	SANDBOX_VCPU,
	SANDBOX_FS,
	SANDBOX_CLIENT,
	SANDBOX_LOOP,
};

/* No filters from now on in this process (--no-seccomp). Call before the
 * VM's threads start. */
void sandbox_disable(void);

/* Confines the calling thread as kind (see above). Returns 0, or -errno
 * when the filter could not be loaded: the caller then ends the run, as a
 * VMM that cannot confine itself does not run a guest. */
int sandbox_confine(enum sandbox_kind kind);

/* The test hook: when VMM_SECCOMP_TEST names kind ("vcpu", "fs", "client"
 * or "loop"), says so on stderr and makes one forbidden system call
 * (socket(AF_PACKET, SOCK_RAW, 0)): confined, the VMM dies of SIGSYS
 * before the next line; unconfined (or if the filter let it through) it
 * prints what the call returned. Each kind's thread calls it at one point
 * where the guest is running; it fires once per process. */
void sandbox_test_hook(enum sandbox_kind kind);

#endif
