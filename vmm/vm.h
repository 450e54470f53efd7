/*
 * vm: one microVM: guest memory, the KVM VM, the buses and legacy devices,
 * one thread per vCPU that only runs KVM_RUN and dispatches exits, and the
 * event loop (run on the thread that calls vm_run) that owns the host fds.
 *
 * How a run ends, and the status vm_run returns:
 *   0             the guest reset itself (reboot), or halted or powered off
 *                 (every vCPU halted with interrupts off: see halt_tick)
 *   VM_EXIT_ERROR a host-side failure (KVM, the event loop)
 *   VM_EXIT_CRASH the guest kernel panicked or triple-faulted
 *   VM_EXIT_BOOT_TIMEOUT  the guest did not boot (write the boot-timer
 *                 port, or connect its agent) within cfg.boot_timeout_s
 *   128 + signo   SIGTERM, SIGINT or SIGHUP stopped the guest
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/signalfd.h>

#include "boot_timer.h"
#include "bus.h"
#include "console.h"
#include "disk.h"
#include "evloop.h"
#include "exitstats.h"
#include "fs.h"
#include "guestmem.h"
#include "i8042.h"
#include "kvm.h"
#include "net.h"
#include "serial.h"
#include "vsock.h"
#include "x86boot.h"

#define VM_MAX_CPUS	     64
#define VM_EXIT_ERROR	     1
#define VM_EXIT_CRASH	     3
#define VM_EXIT_BOOT_TIMEOUT 4
/* The longest boot timeout, seconds. */
#define VM_MAX_BOOT_TIMEOUT  (24 * 3600)

/* virtio-mmio devices: slot i at VM_VIRTIO_BASE + i * 4 KiB (in the gap
 * below 4 GiB), on an ISA interrupt no legacy device here uses. The
 * kernel learns of them from virtio_mmio.device= on its command line. */
#define VM_VIRTIO_BASE	0xd0000000ULL
#define VM_VIRTIO_SLOTS 10
static inline int vm_virtio_irq(int slot)
{
	static const int irq[VM_VIRTIO_SLOTS] = {5, 6, 7, 9, 10, 11, 12, 13, 14, 15};
	return irq[slot];
}

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct exit_stats stats;
	atomic_bool check_stopped; /* the loop asks: are you stopped for good? */
	atomic_bool stopped;	   /* the answer, from the vCPU's thread */
};

struct vm_config {
	int ncpus;
	int console_in, console_out; /* the guest's serial console; -1: none */
	bool boot_timer;	     /* report the guest's boot-timer writes */
	bool exit_stats;	     /* print VM exit counts at the end */
	/* Seconds the guest has to boot before the run is stopped with
	 * VM_EXIT_BOOT_TIMEOUT; 0: no limit. Booted means its boot-timer
	 * write (its init started) or, with boot_is_agent, its agent's
	 * connection (t.agent, marked by whoever accepts it). */
	unsigned boot_timeout_s;
	bool boot_is_agent;
	struct disk *disks; /* opened, in slot order from 0 */
	int ndisks;
	struct vsock *vsock; /* listening; in the slot after the disks; or NULL */
	struct net *nets;    /* taps open; in the slots after the vsock */
	int nnets;
	struct fs *fs; /* --fs shares (opened), in the slots after the nets */
	int nfs;
	/* SIGTERM/SIGINT/SIGHUP (or the set in signals, when given) go here
	 * (loop thread) instead of stopping the guest, when set: `vmm run`
	 * and vmm-runtime pass them to the container. */
	void (*on_signal)(void *opaque, int signo);
	void *signal_opaque;
	const sigset_t *signals;
	uint64_t start_ns;  /* CLOCK_MONOTONIC when the VMM started */
	uint64_t loaded_ns; /* ... when the kernel was in guest RAM */
};

struct vm {
	struct vm_config cfg;
	struct guestmem mem;
	struct kvm_vm kvm;
	struct bus pio, mmio;
	struct serial serial;
	struct i8042 i8042;
	struct boot_timer boot_timer;
	struct evloop loop;
	bool loop_ready;
	struct console console;
	int signal_fd;
	struct signalfd_siginfo siginfo;
	struct ev_op signal_op;
	struct ev_op halt_op; /* the halt-detection tick */
	struct __kernel_timespec halt_ts;
	bool halt_asked;      /* a round of checks was asked on the last tick */
	struct ev_op boot_op; /* cfg.boot_timeout_s's timer */
	struct __kernel_timespec boot_ts;
	struct vcpu vcpu[VM_MAX_CPUS];
	/* Milestones on vm_clock_ns(), for --boot-timer's timeline; 0 = not
	 * reached. first_run/first_exit are vCPU 0's. agent, started and
	 * exited are the container's as `vmm run`'s client thread sees them
	 * (the agent connected, the start answer, the wait answer); atomic
	 * because that thread writes them while the loop thread may read. */
	struct {
		_Atomic uint64_t created, first_run, first_exit, init, agent, started, exited, stop,
			done;
	} t;
	atomic_bool stopping;
	int exit_status; /* set once, by the first vm_stop */
	pthread_mutex_t stop_lock;
};

/* The signals the loop thread reads from its signalfd: SIGTERM, SIGINT
 * and SIGHUP, or cfg->signals with an on_signal hook. Every thread but
 * the loop's must keep them blocked. */
void vm_signals(const struct vm_config *cfg, sigset_t *set);

/* Creates the KVM VM over mem (guest RAM, already loaded with the kernel;
 * the VM takes it over and *mem is cleared, even on failure) and the
 * devices. On failure writes a reason into why and returns -errno. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct guestmem *mem, char *why,
	      size_t whylen);

/* Creates the vCPUs with entry as the boot state, runs them and the event
 * loop (on the calling thread) until the run ends, and returns the exit
 * status above. SIGTERM, SIGINT and SIGHUP are blocked for the run and
 * taken through a signalfd. */
int vm_run(struct vm *vm, const struct boot_entry *entry);

/* Ends the run with status; the first call wins. Safe from any thread. */
void vm_stop(struct vm *vm, int status, const char *why);

/* What a VM_EXIT_BOOT_TIMEOUT means for cfg, as one line: "the guest did
 * not boot within N s", or for an agent's boot that its agent did not
 * connect. */
void vm_boot_timeout_reason(const struct vm_config *cfg, char *buf, size_t len);

void vm_destroy(struct vm *vm);

/* CLOCK_MONOTONIC in ns: the clock of vm_config.start_ns. */
uint64_t vm_clock_ns(void);

#endif
