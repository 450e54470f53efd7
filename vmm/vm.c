/* vm: one microVM: memory, KVM VM, buses, legacy devices and vCPU threads. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_KICK_SIGNAL SIGUSR1

static const struct bus_ops serial_ops = {serial_read, serial_write};
static const struct bus_ops i8042_ops = {i8042_read, i8042_write};

static void console_out(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;
	while (write(vm->cfg.console_fd, &byte, 1) < 0 && errno == EINTR)
		;
}

static void serial_irq(void *opaque, int level)
{
	struct vm *vm = opaque;
	kvm_irq_line(&vm->kvm, SERIAL_COM1_IRQ, level);
}

static void guest_reset(void *opaque)
{
	vm_stop(opaque, 0, NULL);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, char *why, size_t whylen)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->kvm.vm_fd = vm->kvm.kvm_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	int err = gm_alloc(&vm->mem, cfg->mem_size, cfg->hugepages);
	if (err) {
		snprintf(why, whylen, "cannot allocate %llu MiB of guest memory%s: %s",
			 (unsigned long long)(cfg->mem_size >> 20),
			 cfg->hugepages ? " in hugepages" : "", strerror(-err));
		return err;
	}
	err = kvm_vm_create(&vm->kvm, &vm->mem, why, whylen);
	if (err)
		goto fail;
	serial_init(&vm->serial, console_out, serial_irq, vm);
	vm->i8042 = (struct i8042){.reset = guest_reset, .opaque = vm};
	/* The device table: every device and its place, in one spot. */
	if ((err = bus_register(&vm->pio, SERIAL_COM1_BASE, SERIAL_NREGS, &serial_ops,
				&vm->serial)) ||
	    (err = bus_register(&vm->pio, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1,
				&i8042_ops, &vm->i8042))) {
		snprintf(why, whylen, "device registration: %s", strerror(-err));
		goto fail;
	}
	return 0;
fail:
	vm_destroy(vm);
	return err;
}

void vm_stop(struct vm *vm, int status, const char *why)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!atomic_load(&vm->stopping)) {
		vm->exit_status = status;
		if (why)
			fprintf(stderr, "vmm: %s\n", why);
		atomic_store(&vm->stopping, true);
		/* immediate_exit covers a vCPU about to enter KVM_RUN; the
		 * signal interrupts one already inside it. */
		for (int i = 0; i < vm->cfg.ncpus; i++) {
			struct vcpu *c = &vm->vcpu[i];
			if (c->started && !pthread_equal(c->thread, pthread_self())) {
				c->run->immediate_exit = 1;
				pthread_kill(c->thread, VCPU_KICK_SIGNAL);
			}
		}
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

static void handle_io(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	/* A rep ins/outs arrives as count accesses laid out one after another. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vm->pio, run->io.port, data, run->io.size);
		else
			bus_read(&vm->pio, run->io.port, data, run->io.size);
	}
}

static void handle_mmio(struct vm *vm, struct kvm_run *run)
{
	uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

/* Returns false when the vCPU should stop. */
static bool handle_exit(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct kvm_run *run = c->run;
	char why[160];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm, run);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vm, run);
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: a reset, which for a microVM is the end. */
		vm_stop(vm, 0, "guest reset (triple fault)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stop(vm, 0, NULL);
		return false;
	case KVM_EXIT_HLT:
		vm_stop(vm, 0, "guest halted");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "vCPU %d: entry failed, hardware reason 0x%llx", c->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "vCPU %d: KVM internal error, suberror %u", c->id,
			 run->internal.suberror);
		break;
	default:
		snprintf(why, sizeof(why), "vCPU %d: unexpected exit reason %u", c->id,
			 run->exit_reason);
		break;
	}
	vm_stop(vm, 1, why);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	while (!atomic_load(&vm->stopping)) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char why[96];
			snprintf(why, sizeof(why), "vCPU %d: KVM_RUN: %s", c->id, strerror(errno));
			vm_stop(vm, 1, why);
			break;
		}
		if (!handle_exit(c))
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return EINTR */
}

int vm_run(struct vm *vm, const struct boot_entry *entry)
{
	struct sigaction sa = {.sa_handler = kick_handler}; /* no SA_RESTART */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	for (int i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		c->vm = vm;
		c->id = i;
		c->fd = kvm_vcpu_create(&vm->kvm, i, vm->cfg.ncpus, entry, &c->run);
		if (c->fd < 0) {
			char why[96];
			snprintf(why, sizeof(why), "create vCPU %d: %s", i, strerror(-c->fd));
			vm_stop(vm, 1, why);
			break;
		}
	}
	pthread_mutex_lock(&vm->stop_lock);
	for (int i = 0; i < vm->cfg.ncpus && !atomic_load(&vm->stopping); i++) {
		struct vcpu *c = &vm->vcpu[i];
		int err = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (err) {
			pthread_mutex_unlock(&vm->stop_lock);
			vm_stop(vm, 1, "cannot start a vCPU thread");
			pthread_mutex_lock(&vm->stop_lock);
			break;
		}
		c->started = true;
	}
	pthread_mutex_unlock(&vm->stop_lock);
	for (int i = 0; i < vm->cfg.ncpus; i++)
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; i < VM_MAX_CPUS; i++) {
		struct vcpu *c = &vm->vcpu[i];
		if (c->run && c->run != MAP_FAILED)
			munmap(c->run, vm->kvm.run_size);
		if (c->fd > 0)
			close(c->fd);
	}
	kvm_vm_destroy(&vm->kvm);
	gm_free(&vm->mem);
}
