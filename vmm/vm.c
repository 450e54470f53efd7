/* vm: one microVM: memory, KVM VM, buses, legacy devices and vCPU threads. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

/* A real-time signal, so every classic one (SIGUSR1 too) stays free to be
 * passed on to the container. */
#define VCPU_KICK_SIGNAL SIGRTMIN

/* The BIOS data area's warm-boot flag (physical 0x472). Linux writes
 * 0x1234 there before a reset when reboot_mode is "warm", else 0. The
 * default command line asks for cold reboots but warm ones on panic
 * ("reboot=k,panic_w"), so the reset's cause can be told apart. */
#define BDA_RESET_FLAG	0x472
#define RESET_FLAG_WARM 0x1234

static const struct bus_ops serial_bus = {serial_read, serial_write};
static const struct bus_ops i8042_bus = {i8042_read, i8042_write};
static const struct bus_ops boot_timer_bus = {boot_timer_read, boot_timer_write};
static const struct bus_ops virtio_bus = {virtio_mmio_read, virtio_mmio_write};

static void serial_out(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;
	console_out_byte(&vm->console, byte);
}

static void serial_irq(void *opaque, int level)
{
	struct vm *vm = opaque;
	kvm_irq_line(&vm->kvm, SERIAL_COM1_IRQ, level);
}

static void serial_rx_ready(void *opaque)
{
	struct vm *vm = opaque;
	console_rx_ready(&vm->console);
}

static const struct serial_ops serial_cb = {serial_out, serial_irq, serial_rx_ready};

uint64_t vm_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void guest_reset(void *opaque)
{
	struct vm *vm = opaque;
	uint16_t *flag = gm_ptr(&vm->mem, BDA_RESET_FLAG, sizeof(*flag));
	if (flag && *flag == RESET_FLAG_WARM)
		vm_stop(vm, VM_EXIT_CRASH, "guest kernel panicked");
	else
		vm_stop(vm, 0, NULL);
}

/* The port is there for --boot-timer (report the write) and for
 * --boot-timeout (the write is the guest's "booted"); t.init is what the
 * timeout looks at. */
static void boot_timer_mark(void *opaque)
{
	struct vm *vm = opaque;
	struct rusage ru;
	uint64_t now = vm_clock_ns();
	if (!vm->t.init)
		vm->t.init = now;
	if (!vm->cfg.boot_timer)
		return;
	getrusage(RUSAGE_SELF, &ru);
	double ms = (now - vm->cfg.start_ns) / 1e6;
	double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	fprintf(stderr, "vmm: boot-timer: guest init after %.1f ms (vmm CPU %.1f ms)\n", ms, cpu);
}

/* The loop's poll hook: move console data; end the loop once a stop was
 * asked for and the console output is out. */
static void loop_poll(void *opaque)
{
	struct vm *vm = opaque;
	sandbox_test_hook(SANDBOX_LOOP);
	if (vm->cfg.vsock)
		vsock_poll(vm->cfg.vsock);
	for (int i = 0; i < vm->cfg.nnets; i++)
		net_poll(&vm->cfg.nets[i]);
	bool idle = console_poll(&vm->console);
	if (atomic_load(&vm->stopping) && idle)
		evloop_stop(&vm->loop);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct guestmem *mem, char *why,
	      size_t whylen)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->mem = *mem;
	memset(mem, 0, sizeof(*mem));
	vm->kvm.vm_fd = vm->kvm.kvm_fd = -1;
	vm->signal_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	int err = kvm_vm_create(&vm->kvm, &vm->mem, why, whylen);
	if (err)
		goto fail;
	err = evloop_init(&vm->loop, loop_poll, vm);
	if (err) {
		snprintf(why, whylen, "io_uring setup: %s", strerror(-err));
		goto fail;
	}
	vm->loop_ready = true;
	console_init(&vm->console, &vm->loop, &vm->serial, cfg->console_in, cfg->console_out);
	serial_init(&vm->serial, &serial_cb, vm);
	vm->i8042 = (struct i8042){.reset = guest_reset, .opaque = vm};
	vm->boot_timer = (struct boot_timer){.mark = boot_timer_mark, .opaque = vm};
	/* The device table: every device and its place, in one spot. */
	if ((err = bus_register(&vm->pio, SERIAL_COM1_BASE, SERIAL_NREGS, &serial_bus,
				&vm->serial)) ||
	    (err = bus_register(&vm->pio, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1,
				&i8042_bus, &vm->i8042)) ||
	    ((cfg->boot_timer || cfg->boot_timeout_s) &&
	     (err = bus_register(&vm->pio, BOOT_TIMER_PORT, 1, &boot_timer_bus,
				 &vm->boot_timer)))) {
		snprintf(why, whylen, "device registration: %s", strerror(-err));
		goto fail;
	}
	for (int i = 0; i < cfg->ndisks; i++) {
		struct disk *d = &cfg->disks[i];
		uint64_t base = VM_VIRTIO_BASE + (uint64_t)i * 0x1000;
		err = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_bus,
				   &d->blk.transport);
		if (err) {
			snprintf(why, whylen, "device registration: %s", strerror(-err));
			goto fail;
		}
		err = disk_attach(d, &vm->kvm, &vm->mem, &vm->loop, base, vm_virtio_irq(i), why,
				  whylen);
		if (err)
			goto fail;
	}
	if (cfg->vsock) {
		int slot = cfg->ndisks;
		uint64_t base = VM_VIRTIO_BASE + (uint64_t)slot * 0x1000;
		err = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_bus,
				   &cfg->vsock->dev.transport);
		if (err) {
			snprintf(why, whylen, "device registration: %s", strerror(-err));
			goto fail;
		}
		err = vsock_attach(cfg->vsock, &vm->kvm, &vm->mem, &vm->loop, base,
				   vm_virtio_irq(slot), why, whylen);
		if (err)
			goto fail;
	}
	for (int i = 0; i < cfg->nnets; i++) {
		int slot = cfg->ndisks + (cfg->vsock ? 1 : 0) + i;
		uint64_t base = VM_VIRTIO_BASE + (uint64_t)slot * 0x1000;
		struct net *n = &cfg->nets[i];
		err = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_bus,
				   &n->dev.transport);
		if (err) {
			snprintf(why, whylen, "device registration: %s", strerror(-err));
			goto fail;
		}
		err = net_attach(n, &vm->kvm, &vm->mem, &vm->loop, base, vm_virtio_irq(slot), why,
				 whylen);
		if (err)
			goto fail;
	}
	for (int i = 0; i < cfg->nfs; i++) {
		int slot = cfg->ndisks + (cfg->vsock ? 1 : 0) + cfg->nnets + i;
		uint64_t base = VM_VIRTIO_BASE + (uint64_t)slot * 0x1000;
		err = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_bus,
				   &cfg->fs[i].dev.transport);
		if (!err)
			err = fs_attach(&cfg->fs[i], &vm->kvm, &vm->mem, &vm->loop, base,
					vm_virtio_irq(slot), why, whylen);
		else
			snprintf(why, whylen, "device registration: %s", strerror(-err));
		if (err)
			goto fail;
	}
	vm->t.created = vm_clock_ns();
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
		vm->t.stop = vm_clock_ns();
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
		if (vm->loop_ready)
			evloop_wake(&vm->loop);
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
	exit_stats_count(&c->stats, run);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm, run);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vm, run);
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault. Linux only resets this way when told to
		 * (reboot=t); otherwise it is a guest that crashed hard. */
		vm_stop(vm, VM_EXIT_CRASH, "guest triple fault (CPU shutdown)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH)
			vm_stop(vm, VM_EXIT_CRASH, "guest reported a crash");
		else
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
	vm_stop(vm, VM_EXIT_ERROR, why);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	/* Only the kick interrupts KVM_RUN; every other signal is the loop
	 * thread's (its signalfd) and must not land here. */
	sigset_t only_kick;
	sigfillset(&only_kick);
	sigdelset(&only_kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &only_kick, NULL);
	int err = sandbox_confine(SANDBOX_VCPU);
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "vCPU %d: seccomp: %s (--no-seccomp runs without)",
			 c->id, strerror(-err));
		vm_stop(vm, VM_EXIT_ERROR, why);
		return NULL;
	}
	if (c->id == 0)
		vm->t.first_run = vm_clock_ns();
	while (!atomic_load(&vm->stopping)) {
		if (atomic_exchange(&c->check_stopped, false))
			atomic_store(&c->stopped, kvm_vcpu_stopped(c->fd) == 1);
		int ret = ioctl(c->fd, KVM_RUN, 0);
		if (c->id == 0 && !vm->t.first_exit)
			vm->t.first_exit = vm_clock_ns();
		sandbox_test_hook(SANDBOX_VCPU);
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char why[96];
			snprintf(why, sizeof(why), "vCPU %d: KVM_RUN: %s", c->id, strerror(errno));
			vm_stop(vm, VM_EXIT_ERROR, why);
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

static void signal_done(struct ev_op *op, int res)
{
	struct vm *vm = container_of(op, struct vm, signal_op);
	if (res != (int)sizeof(vm->siginfo)) {
		vm_stop(vm, VM_EXIT_ERROR, "signalfd read failed");
		return;
	}
	int sig = (int)vm->siginfo.ssi_signo;
	if (vm->cfg.on_signal) {
		vm->cfg.on_signal(vm->cfg.signal_opaque, sig);
		evloop_read(&vm->loop, &vm->signal_op, vm->signal_fd, &vm->siginfo,
			    sizeof(vm->siginfo));
		return;
	}
	char why[64];
	snprintf(why, sizeof(why), "stopping the guest on SIG%s", sigabbrev_np(sig));
	vm_stop(vm, 128 + sig, why);
}

/* Creates the vCPUs and starts their threads, which inherit the blocked
 * stop signals. Failures stop the VM. */
static void start_vcpus(struct vm *vm, const struct boot_entry *entry)
{
	for (int i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		c->vm = vm;
		c->id = i;
		exit_stats_init(&c->stats, vm->cfg.exit_stats);
		c->fd = kvm_vcpu_create(&vm->kvm, i, vm->cfg.ncpus, entry, &c->run);
		if (c->fd < 0) {
			char why[96];
			snprintf(why, sizeof(why), "create vCPU %d: %s", i, strerror(-c->fd));
			vm_stop(vm, VM_EXIT_ERROR, why);
			return;
		}
	}
	pthread_mutex_lock(&vm->stop_lock);
	for (int i = 0; i < vm->cfg.ncpus && !atomic_load(&vm->stopping); i++) {
		struct vcpu *c = &vm->vcpu[i];
		int err = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (err) {
			pthread_mutex_unlock(&vm->stop_lock);
			vm_stop(vm, VM_EXIT_ERROR, "cannot start a vCPU thread");
			pthread_mutex_lock(&vm->stop_lock);
			break;
		}
		c->started = true;
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

/*
 * Without ACPI, Linux's halt and poweroff end with every CPU halted with
 * interrupts off, which no exit reports: the in-kernel LAPIC handles HLT.
 * So every HALT_TICK_MS the loop asks each vCPU (a kick out of KVM_RUN)
 * whether it is stopped for good, and ends the run when, on the next tick,
 * all said yes. A guest that halts is powered off: status 0.
 */
#define HALT_TICK_MS 500

static void halt_tick(struct ev_op *op, int res)
{
	struct vm *vm = container_of(op, struct vm, halt_op);
	(void)res; /* -ETIME: the timer expired */
	if (atomic_load(&vm->stopping))
		return;
	bool all = vm->halt_asked;
	for (int i = 0; i < vm->cfg.ncpus; i++)
		all = all && vm->vcpu[i].started && atomic_load(&vm->vcpu[i].stopped);
	if (all) {
		vm_stop(vm, 0, NULL);
		return;
	}
	for (int i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		if (!c->started)
			continue;
		atomic_store(&c->stopped, false);
		atomic_store(&c->check_stopped, true);
		pthread_kill(c->thread, VCPU_KICK_SIGNAL);
	}
	vm->halt_asked = true;
	evloop_timeout(&vm->loop, &vm->halt_op, &vm->halt_ts, HALT_TICK_MS);
}

void vm_boot_timeout_reason(const struct vm_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s within %u s",
		 cfg->boot_is_agent ? "the guest's agent did not connect" : "guest did not boot",
		 cfg->boot_timeout_s);
}

/* The boot timeout: the guest had its time. "Booted" is the boot-timer
 * write (t.init), the one sign of life from the guest's userspace that any
 * init can give with one outb, or where the guest runs an agent, the
 * agent's connection: a guest that never makes it (hung in the kernel, no
 * init, an agent that never comes up) is stopped. */
static void boot_timeout_done(struct ev_op *op, int res)
{
	struct vm *vm = container_of(op, struct vm, boot_op);
	(void)res; /* -ETIME: the timer expired */
	uint64_t booted =
		vm->cfg.boot_is_agent ? atomic_load(&vm->t.agent) : atomic_load(&vm->t.init);
	if (booted || atomic_load(&vm->stopping))
		return;
	char why[80];
	vm_boot_timeout_reason(&vm->cfg, why, sizeof(why));
	vm_stop(vm, VM_EXIT_BOOT_TIMEOUT, why);
}

/* Two lines: ms since vmm started for people, and every mark as absolute
 * CLOCK_MONOTONIC ns for tools (bench/boot-time relates them to when it
 * spawned vmm, on the same clock). */
static void print_timeline(const struct vm *vm)
{
	const struct {
		const char *name;
		uint64_t ns;
	} mark[] = {
		{"start", vm->cfg.start_ns},
		{"loaded", vm->cfg.loaded_ns},
		{"vm-created", vm->t.created},
		{"first-run", vm->t.first_run},
		{"first-exit", vm->t.first_exit},
		{"init", vm->t.init},
		{"agent", vm->t.agent},
		{"started", vm->t.started},
		{"exited", vm->t.exited},
		{"stop", vm->t.stop},
		{"done", vm->t.done},
	};
	const size_t n = sizeof(mark) / sizeof(mark[0]);
	fprintf(stderr, "vmm: boot-timer: ms since vmm start:");
	for (size_t i = 1; i < n; i++)
		if (mark[i].ns)
			fprintf(stderr, " %s %.1f", mark[i].name,
				(mark[i].ns - vm->cfg.start_ns) / 1e6);
	fprintf(stderr, "\nvmm: timeline-ns:");
	for (size_t i = 0; i < n; i++)
		if (mark[i].ns)
			fprintf(stderr, " %s=%llu", mark[i].name, (unsigned long long)mark[i].ns);
	fputc('\n', stderr);
}

static void print_exit_stats(struct vm *vm)
{
	struct exit_stats all;
	exit_stats_init(&all, 1);
	for (int i = 0; i < vm->cfg.ncpus; i++)
		exit_stats_add(&all, &vm->vcpu[i].stats);
	exit_stats_print(&all, stderr);
	exit_stats_free(&all);
}

/* Guest RAM this process has faulted in (the guest's writes and reads,
 * and the kernel and initrd vmm loaded), by mincore() in chunks so the
 * vector stays small for big guests. */
static uint64_t guest_touched_kib(const struct guestmem *gm)
{
	enum { CHUNK_PAGES = 16384 };
	static unsigned char vec[CHUNK_PAGES];
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t pages = 0;
	for (int r = 0; r < gm->nregions; r++)
		for (uint64_t off = 0; off < gm->region[r].size; off += CHUNK_PAGES * page) {
			uint64_t len = gm->region[r].size - off;
			if (len > CHUNK_PAGES * page)
				len = CHUNK_PAGES * page;
			if (mincore(gm->region[r].host + off, len, vec))
				return 0;
			for (uint64_t i = 0; i < (len + page - 1) / page; i++)
				pages += vec[i] & 1;
		}
	return pages * page / 1024;
}

/* With --exit-stats: what the run cost the host, read before guest RAM
 * is unmapped. The VMM's own memory is its PSS minus the guest RAM it
 * touched (that part grows with what the guest does, not with vmm). */
static void print_host_cost(const struct vm *vm)
{
	unsigned long long rss = 0, pss = 0, v;
	char line[256];
	FILE *f = fopen("/proc/self/smaps_rollup", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %llu kB", &v) == 1)
			rss = v;
		else if (sscanf(line, "Pss: %llu kB", &v) == 1)
			pss = v;
	}
	if (f)
		fclose(f);
	uint64_t guest = guest_touched_kib(&vm->mem);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr,
		"vmm: host: rss %llu KiB, pss %llu KiB, guest touched %llu KiB, vmm pss %lld KiB;"
		" cpu user %.1f ms, sys %.1f ms\n",
		rss, pss, (unsigned long long)guest, (long long)pss - (long long)guest,
		ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
		ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
}

void vm_signals(const struct vm_config *cfg, sigset_t *set)
{
	if (cfg->on_signal && cfg->signals) {
		*set = *cfg->signals;
		return;
	}
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int vm_run(struct vm *vm, const struct boot_entry *entry)
{
	struct sigaction sa = {.sa_handler = kick_handler}; /* no SA_RESTART */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	sigset_t stop_sigs;
	vm_signals(&vm->cfg, &stop_sigs);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	vm->signal_fd = signalfd(-1, &stop_sigs, SFD_CLOEXEC);
	if (vm->signal_fd < 0) {
		char why[96];
		snprintf(why, sizeof(why), "signalfd: %s", strerror(errno));
		vm_stop(vm, VM_EXIT_ERROR, why);
	} else {
		vm->signal_op.complete = signal_done;
		evloop_read(&vm->loop, &vm->signal_op, vm->signal_fd, &vm->siginfo,
			    sizeof(vm->siginfo));
	}
	console_start(&vm->console);
	for (int i = 0; i < vm->cfg.ndisks; i++)
		disk_start(&vm->cfg.disks[i]);
	if (vm->cfg.vsock)
		vsock_start(vm->cfg.vsock);
	for (int i = 0; i < vm->cfg.nnets; i++)
		net_start(&vm->cfg.nets[i]);
	for (int i = 0; i < vm->cfg.nfs; i++)
		fs_start(&vm->cfg.fs[i]);
	start_vcpus(vm, entry);
	vm->halt_op.complete = halt_tick;
	evloop_timeout(&vm->loop, &vm->halt_op, &vm->halt_ts, HALT_TICK_MS);
	if (vm->cfg.boot_timeout_s) {
		/* Left in flight when the run ends first: the ring goes with it. */
		vm->boot_op.complete = boot_timeout_done;
		evloop_timeout(&vm->loop, &vm->boot_op, &vm->boot_ts,
			       vm->cfg.boot_timeout_s * 1000);
	}

	/* Last: every other thread of the VM exists by now (filters are
	 * inherited by threads created after them). */
	int err = sandbox_confine(SANDBOX_LOOP);
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "seccomp: %s (--no-seccomp runs without)",
			 strerror(-err));
		vm_stop(vm, VM_EXIT_ERROR, why);
	}
	err = evloop_run(&vm->loop);
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "event loop: %s", strerror(-err));
		vm_stop(vm, VM_EXIT_ERROR, why);
	}
	/* A vCPU may be in a disk reset waiting for completions the loop
	 * will no longer deliver: release it, or the join never returns. */
	for (int i = 0; i < vm->cfg.ndisks; i++)
		disk_stop(&vm->cfg.disks[i]);
	for (int i = 0; i < vm->cfg.nfs; i++)
		fs_stop(&vm->cfg.fs[i]);
	for (int i = 0; i < vm->cfg.ncpus; i++)
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
	console_finish(&vm->console);
	vm->t.done = vm_clock_ns();
	if (vm->cfg.boot_timer)
		print_timeline(vm);
	if (vm->cfg.exit_stats) {
		print_exit_stats(vm);
		print_host_cost(vm);
	}
	evloop_destroy(&vm->loop);
	vm->loop_ready = false;
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	vm->signal_fd = -1;
	/* The stop signals stay blocked: one more arriving now must not kill
	 * the process half-way through its cleanup. */
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
		exit_stats_free(&c->stats);
	}
	if (vm->loop_ready)
		evloop_destroy(&vm->loop);
	vm->loop_ready = false;
	kvm_vm_destroy(&vm->kvm);
	gm_free(&vm->mem);
}
