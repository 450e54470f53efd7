/*
 * kvm: the VM and vCPU ioctls, kept in this one file. Functions return 0 or
 * -errno and leave messages to the caller, except where noted.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "guestmem.h"
#include "x86boot.h"

struct kvm_vm {
	int kvm_fd, vm_fd;
	int run_size;		  /* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid; /* what KVM supports, filtered per vCPU */
	int tsc_deadline;	  /* the in-kernel LAPIC has the TSC-deadline timer */
};

/*
 * Opens /dev/kvm, checks the API version and the extensions we rely on,
 * creates the VM with in-kernel irqchip and PIT, and maps guest memory.
 * On failure writes a one-line reason into why (size whylen).
 */
int kvm_vm_create(struct kvm_vm *vm, const struct guestmem *gm, char *why, size_t whylen);
void kvm_vm_destroy(struct kvm_vm *vm);

/* Creates vCPU id (0 = boot CPU) with CPUID, MSRs, LAPIC LINT0/1 and FPU
 * set; the boot CPU also gets the 64-bit entry state. Returns the fd or
 * -errno; *run gets the mapped struct kvm_run. */
int kvm_vcpu_create(struct kvm_vm *vm, int id, int ncpus, const struct boot_entry *entry,
		    struct kvm_run **run);

/* Whether vCPU fd is stopped for good: halted with interrupts disabled,
 * which only an NMI, INIT or SMI could end, and the VMM sends none. That
 * is where Linux parks CPUs on halt/poweroff without ACPI. Returns 1, 0,
 * or -errno. Call from the vCPU's own thread, outside KVM_RUN. */
int kvm_vcpu_stopped(int fd);

/* Makes a guest write of len bytes equal to datamatch at MMIO address addr
 * signal eventfd fd instead of exiting to us (a virtqueue notification). */
int kvm_ioeventfd(struct kvm_vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch, int fd);

/* Makes a write to eventfd fd pulse GSI gsi (an edge interrupt). */
int kvm_irqfd(struct kvm_vm *vm, uint32_t gsi, int fd);

/* Raises or lowers a GSI on the in-kernel irqchip. */
int kvm_irq_line(struct kvm_vm *vm, uint32_t irq, int level);

#endif
