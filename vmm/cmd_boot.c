/* cmd_boot: `vmm boot`, boots a kernel with an optional initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "parse.h"
#include "vm.h"
#include "x86boot.h"

/* reboot=k: reset through the i8042, which ends the VM. panic=-1 with
 * panic_w: a panic resets at once, flagged as a warm reset, which is how
 * the VMM tells a panic from a reboot (see vm.c). */
#define DEFAULT_CMDLINE "console=ttyS0 reboot=k,panic_w panic=-1"
#define DEFAULT_MEM	(256ULL << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmm boot --kernel PATH [OPTIONS]\n"
		"Boot a Linux kernel in a microVM; ends when the guest reboots.\n"
		"\n"
		"  -k, --kernel PATH    kernel to boot (required): a bzImage, or an\n"
		"                       uncompressed vmlinux (ELF), which skips decompression\n"
		"  -i, --initrd PATH    initramfs (cpio, optionally compressed)\n"
		"  -c, --cmdline STR    kernel command line (default: \"%s\")\n"
		"  -p, --cpus N         number of vCPUs, 1-%d (default 1)\n"
		"  -m, --mem SIZE       guest memory, e.g. 512M or 2G; no suffix means MiB\n"
		"                       (default 256M)\n"
		"      --hugepages      back guest memory with 2 MiB hugepages\n"
		"  -d, --disk PATH[,ro] a disk image (a file whose size is a multiple of 512)\n"
		"                       as virtio-blk; repeat for more: /dev/vda, vdb, ...\n"
		"  -s, --vsock CID,PATH a virtio-vsock device with guest CID CID (3 or more)\n"
		"                       and its host side as Unix sockets: connect to PATH\n"
		"                       and write \"CONNECT <port>\\n\" to reach a guest port\n"
		"                       (answered \"OK <n>\\n\"); the guest's connections to\n"
		"                       port P of CID 2 go to PATH_P\n"
		"  -n, --net tap=NAME[,mac=MAC]\n"
		"                       a virtio-net device on tap NAME (opened, or created\n"
		"                       for the run); repeat for more: eth0, eth1, ...\n"
		"      --boot-timer     report on stderr when the guest writes %d to port 0x%x\n"
		"                       (its init started), in ms since vmm started\n"
		"      --exit-stats     print VM exits by reason and the busiest I/O ports\n"
		"                       on stderr at the end\n"
		"  -h, --help           show this help\n"
		"\n"
		"The guest's serial console is this terminal: its output on stdout, stdin\n"
		"as its input (a terminal is put in raw mode). SIGTERM, SIGINT and SIGHUP\n"
		"stop the guest.\n"
		"\n"
		"Exit status: 0 when the guest reboots, halts or powers off; 1 on a VM or\n"
		"host error; 2 on a usage error; 3 when the guest kernel panics or\n"
		"triple-faults (a command line of your own needs reboot=k,panic_w panic=-1\n"
		"for panics to be seen); 128+N when stopped by signal N.\n",
		DEFAULT_CMDLINE, VM_MAX_CPUS, BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
}

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

int cmd_boot(int argc, char **argv)
{
	static const struct option opts[] = {
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'c'},
		{"cpus", required_argument, NULL, 'p'},
		{"mem", required_argument, NULL, 'm'},
		{"hugepages", no_argument, NULL, 'H'},
		{"disk", required_argument, NULL, 'd'},
		{"vsock", required_argument, NULL, 's'},
		{"net", required_argument, NULL, 'n'},
		{"boot-timer", no_argument, NULL, 'T'},
		{"exit-stats", no_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *kernel = NULL, *initrd = NULL, *cmdline = DEFAULT_CMDLINE;
	uint64_t mem_size = DEFAULT_MEM;
	bool hugepages = false;
	struct vm_config cfg = {.ncpus = 1,
				.console_in = STDIN_FILENO,
				.console_out = STDOUT_FILENO,
				.start_ns = vm_clock_ns()};
	long n;
	int c;
	static struct disk disks[VM_VIRTIO_SLOTS];
	int ndisks = 0;
	static struct vsock vsock;
	static struct net nets[VM_VIRTIO_SLOTS];
	int nnets = 0;
	char why[256];
	while ((c = getopt_long(argc, argv, "k:i:c:p:m:d:s:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'p':
			if (parse_int_range(optarg, 1, VM_MAX_CPUS, &n)) {
				fprintf(stderr,
					"vmm boot: --cpus: '%s' is not a number from 1 to %d\n",
					optarg, VM_MAX_CPUS);
				return 2;
			}
			cfg.ncpus = (int)n;
			break;
		case 'm':
			if (parse_mem_size(optarg, &mem_size) || mem_size < (16ULL << 20) ||
			    mem_size % 4096) {
				fprintf(stderr,
					"vmm boot: --mem: '%s' is not a size of at least 16M in "
					"whole pages\n",
					optarg);
				return 2;
			}
			break;
		case 'H':
			hugepages = true;
			break;
		case 'T':
			cfg.boot_timer = true;
			break;
		case 'd':
			if (ndisks == VM_VIRTIO_SLOTS) {
				fprintf(stderr, "vmm boot: --disk: at most %d disks\n",
					VM_VIRTIO_SLOTS);
				return 2;
			}
			if (disk_parse_spec(optarg, &disks[ndisks]) || !*disks[ndisks].path) {
				fprintf(stderr, "vmm boot: --disk: '%s' is not PATH or PATH,ro\n",
					optarg);
				return 2;
			}
			ndisks++;
			break;
		case 's':
			/* Linux drives one virtio-vsock device per guest. */
			if (cfg.vsock) {
				fprintf(stderr, "vmm boot: --vsock: only one is allowed\n");
				return 2;
			}
			if (vsock_parse_spec(optarg, &vsock, why, sizeof(why))) {
				fprintf(stderr, "vmm boot: --vsock: %s\n", why);
				return 2;
			}
			cfg.vsock = &vsock;
			break;
		case 'n':
			if (nnets == VM_VIRTIO_SLOTS) {
				fprintf(stderr, "vmm boot: --net: at most %d\n", VM_VIRTIO_SLOTS);
				return 2;
			}
			if (net_parse_spec(optarg, nnets, &nets[nnets], why, sizeof(why))) {
				fprintf(stderr, "vmm boot: --net: %s\n", why);
				return 2;
			}
			nnets++;
			break;
		case 'X':
			cfg.exit_stats = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'vmm boot --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmm boot: unexpected argument '%s'\nTry 'vmm boot --help'.\n",
			argv[optind]);
		return 2;
	}
	if (!kernel) {
		fprintf(stderr, "vmm boot: --kernel is required\nTry 'vmm boot --help'.\n");
		return 2;
	}
	if (hugepages && mem_size % (2ULL << 20)) {
		fprintf(stderr, "vmm boot: --hugepages needs --mem in whole 2 MiB pages\n");
		return 2;
	}

	struct mapped k = {0}, rd = {0};
	if (map_file("kernel", kernel, &k) || (initrd && map_file("initrd", initrd, &rd)))
		return 1;
	for (int i = 0; i < ndisks; i++)
		if (disk_open(&disks[i]))
			return 1;
	cfg.disks = disks;
	cfg.ndisks = ndisks;
	for (int i = 0; i < nnets; i++)
		if (net_open(&nets[i]))
			return 1;
	cfg.nets = nets;
	cfg.nnets = nnets;
	int nslots = ndisks + (cfg.vsock ? 1 : 0) + nnets;
	if (nslots > VM_VIRTIO_SLOTS) {
		fprintf(stderr, "vmm boot: at most %d virtio devices (disks, vsock and nets)\n",
			VM_VIRTIO_SLOTS);
		return 2;
	}
	/* Announce the virtio-mmio devices on the command line, in slot
	 * order, which is the order the guest names them in. */
	static char full_cmdline[4096];
	size_t used = snprintf(full_cmdline, sizeof(full_cmdline), "%s", cmdline);
	for (int i = 0; i < nslots && used < sizeof(full_cmdline); i++)
		used += snprintf(full_cmdline + used, sizeof(full_cmdline) - used,
				 " virtio_mmio.device=4K@0x%llx:%d",
				 (unsigned long long)(VM_VIRTIO_BASE + 0x1000ULL * i),
				 vm_virtio_irq(i));
	if (used >= sizeof(full_cmdline)) {
		fprintf(stderr, "vmm: command line too long\n");
		return 1;
	}
	cmdline = full_cmdline;
	/* Reject a bad kernel before any KVM work. */
	struct kernel_image image;
	const char *bad = x86boot_parse_kernel(k.data, k.len, &image);
	if (bad) {
		fprintf(stderr, "vmm: kernel %s: %s\n", kernel, bad);
		return 1;
	}

	/* Guest RAM is laid out before /dev/kvm is opened, so every problem
	 * with the kernel, initrd or memory size shows without KVM. */
	struct guestmem mem;
	int err = gm_alloc(&mem, mem_size, hugepages);
	if (err) {
		fprintf(stderr, "vmm: cannot allocate %llu MiB of guest memory%s: %s\n",
			(unsigned long long)(mem_size >> 20), hugepages ? " in hugepages" : "",
			strerror(-err));
		return 1;
	}
	struct boot_input in = {&image, rd.data, rd.len, cmdline, cfg.ncpus};
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
	cfg.loaded_ns = vm_clock_ns();

	/* A console reader that goes away must not kill the VMM: the write
	 * fails with EPIPE instead, and the guest runs on. */
	signal(SIGPIPE, SIG_IGN);
	/* Last before KVM: the socket is the one thing a failure here would
	 * have to clean up. */
	if (cfg.vsock && vsock_open(cfg.vsock)) {
		gm_free(&mem);
		return 1;
	}
	static struct vm vm;
	if (vm_create(&vm, &cfg, &mem, why, sizeof(why))) {
		fprintf(stderr, "vmm: %s\n", why);
		if (cfg.vsock)
			vsock_close(cfg.vsock);
		return 1;
	}
	int status = vm_run(&vm, &entry);
	vm_destroy(&vm);
	if (cfg.vsock)
		vsock_close(cfg.vsock);
	for (int i = 0; i < ndisks; i++)
		disk_close(&disks[i]);
	for (int i = 0; i < nnets; i++)
		net_close(&nets[i]);
	return status;
}
