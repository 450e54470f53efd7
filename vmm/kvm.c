/* kvm: the VM and vCPU ioctls, kept in this one file. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"

#define RFLAGS_IF 0x200 /* interrupts enabled */

/* Addresses KVM needs for its own use on Intel (real-mode TSS and
 * identity map); just below 4 GiB, out of the way of RAM and devices. */
#define KVM_TSS_ADDR	      0xfffbd000
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_IA32_TSC		0x10
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1

#define X86_CR0_PE  0x1ULL
#define X86_CR0_ET  0x10ULL
#define X86_CR0_PG  0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME    0x100ULL
#define EFER_LMA    0x400ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

int kvm_vm_create(struct kvm_vm *vm, const struct guestmem *gm, char *why, size_t whylen)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = -errno;
		snprintf(why, whylen, "open /dev/kvm: %s", strerror(errno));
		return err;
	}
	int ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(why, whylen, "/dev/kvm: API version %d, need %d", ver, KVM_API_VERSION);
		goto fail_inval;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, whylen, "/dev/kvm lacks %s", required_caps[i].name);
			goto fail_inval;
		}
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->cpuid = supported_cpuid(vm->kvm_fd);
	vm->tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	if (vm->run_size <= 0 || !vm->cpuid) {
		snprintf(why, whylen, "KVM_GET_VCPU_MMAP_SIZE/KVM_GET_SUPPORTED_CPUID: %s",
			 strerror(errno));
		goto fail_errno;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(why, whylen, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail_errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){KVM_IDENTITY_MAP_ADDR}) < 0) {
		snprintf(why, whylen, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto fail_errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(why, whylen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto fail_errno;
	}
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		snprintf(why, whylen, "KVM_CREATE_PIT2: %s", strerror(errno));
		goto fail_errno;
	}
	for (int i = 0; i < gm->nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = gm->region[i].gpa,
			.memory_size = gm->region[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)gm->region[i].host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			snprintf(why, whylen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			goto fail_errno;
		}
	}
	return 0;
fail_inval:
	errno = EINVAL;
fail_errno:;
	int err = -errno;
	kvm_vm_destroy(vm);
	return err;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	vm->vm_fd = vm->kvm_fd = -1;
	vm->cpuid = NULL;
}

/* KVM's supported CPUID, with this vCPU's APIC ID and the topology. */
static int set_cpuid(struct kvm_vm *vm, int fd, int id, int ncpus)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, sz);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] logical CPUs. */
			e->ebx = (e->ebx & 0xffff) | (uint32_t)id << 24 | (uint32_t)ncpus << 16;
			if (ncpus > 1)
				e->edx |= 1u << 28; /* HTT: the count above is valid */
			/* ECX[31]: running under a hypervisor, so Linux looks at
			 * the 0x40000000 leaves and finds kvm-clock. */
			e->ecx |= 1u << 31;
			/* ECX[24]: TSC-deadline timer. KVM's LAPIC emulates it
			 * but KVM_GET_SUPPORTED_CPUID cannot say so. Without it
			 * Linux calibrates the LAPIC timer against the PIT at
			 * boot, which took about 400 ms of a 1 s boot. */
			if (vm->tsc_deadline)
				e->ecx |= 1u << 24;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: EDX is the x2APIC ID on every level. */
			e->edx = id;
			break;
		}
	}
	int ret = ioctl(fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return ret;
}

static int set_msrs(int fd)
{
	static const uint32_t zero[] = {MSR_IA32_SYSENTER_CS,
					MSR_IA32_SYSENTER_ESP,
					MSR_IA32_SYSENTER_EIP,
					MSR_STAR,
					MSR_CSTAR,
					MSR_KERNEL_GS_BASE,
					MSR_SYSCALL_MASK,
					MSR_LSTAR,
					MSR_IA32_TSC};
	const uint32_t n = sizeof(zero) / sizeof(zero[0]) + 1;
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	m->nmsrs = n;
	for (uint32_t i = 0; i < n - 1; i++)
		m->entries[i].index = zero[i];
	m->entries[n - 1].index = MSR_IA32_MISC_ENABLE;
	m->entries[n - 1].data = MISC_ENABLE_FAST_STRING;
	int set = ioctl(fd, KVM_SET_MSRS, m);
	int err = set < 0 ? -errno : 0;
	free(m);
	/* KVM_SET_MSRS returns how many it set; stopping short means the
	 * one after them was refused. */
	return err ? err : (uint32_t)set == n ? 0 : -EINVAL;
}

/* LINT0 delivers the legacy PIC's ExtINT, LINT1 the NMI, as a BIOS would
 * leave them (Intel SDM 10.5.1). */
static int set_lint(int fd)
{
	struct kvm_lapic_state l;
	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	uint32_t *lvt0 = (uint32_t *)&l.regs[0x350], *lvt1 = (uint32_t *)&l.regs[0x360];
	*lvt0 = (*lvt0 & ~0x700u) | (0x7u << 8); /* ExtINT */
	*lvt1 = (*lvt1 & ~0x700u) | (0x4u << 8); /* NMI */
	return ioctl(fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

/* The 64-bit boot protocol's entry state: long mode with paging, CS =
 * __BOOT_CS and DS/ES/SS = __BOOT_DS, both flat; rsi = zero page. */
static int set_boot_regs(int fd, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_segment(&sregs.cs, BOOT_CS, 0xb, 1);
	flat_segment(&sregs.ds, BOOT_DS, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.selector = BOOT_TSS, .limit = 0xfffff, .type = 0xb, .present = 1, .g = 1};
	sregs.gdt.base = entry->gdt_base;
	sregs.gdt.limit = entry->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.cr3 = entry->cr3;
	sregs.cr4 = X86_CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_regs regs = {
		.rip = entry->rip,
		.rsi = entry->rsi,
		.rsp = entry->rsp,
		.rbp = entry->rsp,
		.rflags = 0x2, /* bit 1 is always set; IF clear */
	};
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	return ioctl(fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int kvm_vcpu_create(struct kvm_vm *vm, int id, int ncpus, const struct boot_entry *entry,
		    struct kvm_run **run)
{
	int fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (fd < 0)
		return -errno;
	int err = set_cpuid(vm, fd, id, ncpus);
	if (!err)
		err = set_msrs(fd);
	if (!err)
		err = set_lint(fd);
	/* Other vCPUs wait for INIT/SIPI from the boot CPU's kernel. */
	if (!err && id == 0)
		err = set_boot_regs(fd, entry);
	if (!err) {
		*run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (*run == MAP_FAILED)
			err = -errno;
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int kvm_ioeventfd(struct kvm_vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch, int fd)
{
	struct kvm_ioeventfd e = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

int kvm_irqfd(struct kvm_vm *vm, uint32_t gsi, int fd)
{
	struct kvm_irqfd i = {.fd = (uint32_t)fd, .gsi = gsi};
	return ioctl(vm->vm_fd, KVM_IRQFD, &i) < 0 ? -errno : 0;
}

int kvm_irq_line(struct kvm_vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = {.irq = irq, .level = level};
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_vcpu_stopped(int fd)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	if (ioctl(fd, KVM_GET_MP_STATE, &mp) < 0 || ioctl(fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	return mp.mp_state == KVM_MP_STATE_HALTED && !(regs.rflags & RFLAGS_IF);
}
