/* launch: kernel file + VM config -> a finished run. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "errf.h"

/* A read-only mapping of a whole file. */
struct mapped {
	const uint8_t *data;
	size_t len;
};

static int map_file(const char *what, const char *path, struct mapped *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "vmm: %s %s: %s\n", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "vmm: %s %s: %s\n", what, path,
			S_ISREG(st.st_mode) ? "file is empty" : "not a regular file");
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vmm: %s %s: %s\n", what, path, strerror(saved));
		return -1;
	}
	m->data = p;
	m->len = st.st_size;
	return 0;
}

int launch_mem_fits_host(const char *what, const char *arg, uint64_t size, char *err, size_t errlen)
{
	struct sysinfo si;
	if (sysinfo(&si))
		return 0; /* cannot tell: let the mapping decide */
	uint64_t host = (uint64_t)si.totalram * si.mem_unit;
	if (size <= host)
		return 0;
	return errf(err, errlen, "%s: '%s' (%llu MiB) is more than this host's memory (%llu MiB)",
		    what, arg, (unsigned long long)(size >> 20), (unsigned long long)(host >> 20));
}

int launch_run(struct launch *l)
{
	struct vm_config *cfg = &l->cfg;
	int nslots = cfg->ndisks + (cfg->vsock ? 1 : 0) + cfg->nnets + cfg->nfs;
	if (nslots > VM_VIRTIO_SLOTS) {
		fprintf(stderr, "vmm: at most %d virtio devices (disks, vsock, nets, fs)\n",
			VM_VIRTIO_SLOTS);
		return 1;
	}
	struct mapped k = {0}, rd = {0};
	if (map_file("kernel", l->kernel, &k) || (l->initrd && map_file("initrd", l->initrd, &rd)))
		return 1;
	/* Announce the virtio-mmio devices on the command line, in slot
	 * order, which is the order the guest names them in. */
	static char cmdline[4096];
	size_t used = snprintf(cmdline, sizeof(cmdline), "%s", l->cmdline);
	for (int i = 0; i < nslots && used < sizeof(cmdline); i++)
		used += snprintf(
			cmdline + used, sizeof(cmdline) - used, " virtio_mmio.device=4K@0x%llx:%d",
			(unsigned long long)(VM_VIRTIO_BASE + 0x1000ULL * i), vm_virtio_irq(i));
	if (used >= sizeof(cmdline)) {
		fprintf(stderr, "vmm: command line too long\n");
		return 1;
	}
	/* Reject a bad kernel before any KVM work. */
	struct kernel_image image;
	const char *bad = x86boot_parse_kernel(k.data, k.len, &image);
	if (bad) {
		fprintf(stderr, "vmm: kernel %s: %s\n", l->kernel, bad);
		return 1;
	}

	/* Guest RAM is laid out before /dev/kvm is opened, so every problem
	 * with the kernel, initrd or memory size shows without KVM. */
	struct guestmem mem;
	int err = gm_alloc(&mem, l->mem_size, l->hugepages);
	if (err) {
		fprintf(stderr, "vmm: cannot allocate %llu MiB of guest memory%s: %s\n",
			(unsigned long long)(l->mem_size >> 20),
			l->hugepages ? " in hugepages" : "", strerror(-err));
		return 1;
	}
	struct boot_input in = {&image, rd.data, rd.len, cmdline, cfg->ncpus};
	struct boot_entry entry;
	err = x86boot_load(&mem, &in, &entry);
	/* The images now live in guest memory. */
	munmap((void *)k.data, k.len);
	if (rd.data)
		munmap((void *)rd.data, rd.len);
	if (err) {
		fprintf(stderr, "vmm: %s\n", x86boot_strerror(err));
		gm_free(&mem);
		return 1;
	}
	cfg->loaded_ns = vm_clock_ns();

	/* A console reader that goes away must not kill the VMM: the write
	 * fails with EPIPE instead, and the guest runs on. */
	signal(SIGPIPE, SIG_IGN);
	/* Last before KVM: the socket is the one thing a failure here would
	 * have to clean up. */
	if (cfg->vsock && vsock_open(cfg->vsock)) {
		gm_free(&mem);
		return 1;
	}
	static struct vm vm;
	char why[256];
	int status = 1;
	if (vm_create(&vm, cfg, &mem, why, sizeof(why))) {
		fprintf(stderr, "vmm: %s\n", why);
	} else {
		/* Threads the hook starts must not take the stop signals the
		 * loop reads from its signalfd. */
		sigset_t stop;
		vm_signals(cfg, &stop);
		pthread_sigmask(SIG_BLOCK, &stop, NULL);
		if (!l->before_run || l->before_run(&vm, l->opaque) == 0)
			status = vm_run(&vm, &entry);
		vm_destroy(&vm);
	}
	if (cfg->vsock)
		vsock_close(cfg->vsock);
	return status;
}
