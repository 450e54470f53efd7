/*
 * launch: from a kernel file and a VM config to a finished run, shared by
 * `vmm boot` and `vmm run`: maps the kernel and initrd, announces the
 * virtio devices on the command line, lays out guest memory (all before
 * /dev/kvm is opened, so bad input is reported without KVM), opens the
 * vsock socket, creates the VM and runs it on the calling thread.
 */
#ifndef VMM_LAUNCH_H
#define VMM_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

struct launch {
	const char *kernel, *initrd; /* initrd may be NULL */
	const char *cmdline;	     /* before the virtio_mmio.device= entries */
	uint64_t mem_size;
	bool hugepages;
	struct vm_config cfg; /* disks opened; vsock parsed, not yet opened */
	/* Called on this thread once the VM exists, just before it runs
	 * (stop signals already blocked, so threads it starts inherit
	 * that); nonzero aborts the launch. Optional. */
	int (*before_run)(struct vm *vm, void *opaque);
	void *opaque;
};

/* Whether a guest of size bytes fits in the host's RAM (sysinfo's
 * totalram, /proc/meminfo's MemTotal). Guest memory is mapped with
 * MAP_NORESERVE, so an oversized guest would otherwise start and be
 * OOM-killed later. If not, returns -1 with one line in err, "WHAT: 'ARG'
 * (N MiB) is more than this host's memory (M MiB)", WHAT naming where
 * the size came from (an option, a config field) and ARG as given there.
 * 0 when it fits, or when the host's size cannot be read. */
int launch_mem_fits_host(const char *what, const char *arg, uint64_t size, char *err,
			 size_t errlen);

/* Prints one line on any failure. Returns the run's status (see vm.h),
 * or 1 if the VM could not be set up. */
int launch_run(struct launch *l);

#endif
