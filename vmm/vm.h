/*
 * vm: one microVM: guest memory, the KVM VM, the buses and legacy devices,
 * and one thread per vCPU that only runs KVM_RUN and dispatches exits.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bus.h"
#include "guestmem.h"
#include "i8042.h"
#include "kvm.h"
#include "serial.h"
#include "x86boot.h"

#define VM_MAX_CPUS 64

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct vm_config {
	uint64_t mem_size;
	int ncpus;
	bool hugepages;
	int console_fd; /* where the guest's serial output goes */
};

struct vm {
	struct vm_config cfg;
	struct guestmem mem;
	struct kvm_vm kvm;
	struct bus pio, mmio;
	struct serial serial;
	struct i8042 i8042;
	struct vcpu vcpu[VM_MAX_CPUS];
	atomic_bool stopping;
	int exit_status; /* set once, by the first vm_stop */
	pthread_mutex_t stop_lock;
};

/* Allocates memory, creates the KVM VM and the devices. On failure writes
 * a reason into why and returns -errno. */
int vm_create(struct vm *vm, const struct vm_config *cfg, char *why, size_t whylen);

/* Creates the vCPUs with entry as the boot state, runs them until the
 * guest resets or a vCPU fails, and returns the VM's exit status (0 for a
 * guest-requested reset). */
int vm_run(struct vm *vm, const struct boot_entry *entry);

/* Ends the run with status; the first call wins. Safe from any thread. */
void vm_stop(struct vm *vm, int status, const char *why);

void vm_destroy(struct vm *vm);

#endif
