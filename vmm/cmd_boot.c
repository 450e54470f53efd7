/* cmd_boot: `vmm boot`, boots a kernel with an optional initramfs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "launch.h"
#include "parse.h"
#include "sandbox.h"
#include "selfmem.h"

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
		"                       (default 256M; at most the host's RAM)\n"
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
		"  -f, --fs TAG=DIR[,ro][,cache=none|auto|always]\n"
		"                       share host directory DIR as virtio-fs; the guest\n"
		"                       mounts it with mount -t virtiofs TAG /mnt; ro is\n"
		"                       enforced on the host; cache=none shows host changes\n"
		"                       at once (default auto: 1 s); repeat for more\n"
		"      --boot-timer     report on stderr when the guest writes %d to port 0x%x\n"
		"                       (its init started), in ms since vmm started\n"
		"      --boot-timeout DURATION\n"
		"                       stop the guest with status 4 if it has not booted\n"
		"                       within DURATION (N seconds, or Ns, Nm, Nh; up to 24h)\n"
		"                       from its start; booted means that boot-timer write,\n"
		"                       so the guest's init must make it\n"
		"      --exit-stats     print VM exits by reason and the busiest I/O ports\n"
		"                       on stderr at the end\n"
		"      --no-seccomp     no system call filters (debugging; see ARCHITECTURE.md)\n"
		"  -h, --help           show this help\n"
		"\n"
		"The guest's serial console is this terminal: its output on stdout, stdin\n"
		"as its input (a terminal is put in raw mode). SIGTERM, SIGINT and SIGHUP\n"
		"stop the guest.\n"
		"\n"
		"Exit status: 0 when the guest reboots, halts or powers off; 1 on a VM or\n"
		"host error; 2 on a usage error; 3 when the guest kernel panics or\n"
		"triple-faults (a command line of your own needs reboot=k,panic_w panic=-1\n"
		"for panics to be seen); %d when it did not boot within --boot-timeout;\n"
		"128+N when stopped by signal N.\n",
		DEFAULT_CMDLINE, VM_MAX_CPUS, BOOT_TIMER_MAGIC, BOOT_TIMER_PORT,
		VM_EXIT_BOOT_TIMEOUT);
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
		{"fs", required_argument, NULL, 'f'},
		{"boot-timer", no_argument, NULL, 'T'},
		{"boot-timeout", required_argument, NULL, 'B'},
		{"exit-stats", no_argument, NULL, 'X'},
		{"no-seccomp", no_argument, NULL, 'S'},
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
	static struct vsock vsock;
	/* The device tables (selfmem.h says why not static); for the
	 * process's life. */
	struct disk *disks = selfmem_zalloc(sizeof(*disks) * VM_VIRTIO_SLOTS);
	struct net *nets = selfmem_zalloc(sizeof(*nets) * VM_VIRTIO_SLOTS);
	struct fs *fss = selfmem_zalloc(sizeof(*fss) * FS_MAX);
	int ndisks = 0, nnets = 0, nfs = 0;
	if (!disks || !nets || !fss) {
		perror("vmm boot: device tables");
		return 1;
	}
	char why[256];
	while ((c = getopt_long(argc, argv, "k:i:c:p:m:d:s:n:f:h", opts, NULL)) != -1) {
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
			if (launch_mem_fits_host("--mem", optarg, mem_size, why, sizeof(why))) {
				fprintf(stderr, "vmm boot: %s\n", why);
				return 2;
			}
			break;
		case 'H':
			hugepages = true;
			break;
		case 'T':
			cfg.boot_timer = true;
			break;
		case 'B':
			if (parse_duration(optarg, VM_MAX_BOOT_TIMEOUT, &cfg.boot_timeout_s)) {
				fprintf(stderr,
					"vmm boot: --boot-timeout: '%s' is not a duration from 1 s "
					"to 24h (N, Ns, Nm or Nh)\n",
					optarg);
				return 2;
			}
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
		case 'f':
			if (nfs == FS_MAX) {
				fprintf(stderr, "vmm boot: --fs: at most %d\n", FS_MAX);
				return 2;
			}
			if (fs_parse_spec(optarg, &fss[nfs], why, sizeof(why))) {
				fprintf(stderr, "vmm boot: --fs: %s\n", why);
				return 2;
			}
			nfs++;
			break;
		case 'X':
			cfg.exit_stats = true;
			break;
		case 'S':
			sandbox_disable();
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
	for (int i = 0; i < nfs; i++)
		if (fs_open(&fss[i], nfs, 0, 0))
			return 1;
	cfg.fs = fss;
	cfg.nfs = nfs;
	if (ndisks + (cfg.vsock ? 1 : 0) + nnets + nfs > VM_VIRTIO_SLOTS) {
		fprintf(stderr, "vmm boot: at most %d virtio devices (disks, vsock, nets, fs)\n",
			VM_VIRTIO_SLOTS);
		return 2;
	}
	struct launch l = {.kernel = kernel,
			   .initrd = initrd,
			   .cmdline = cmdline,
			   .mem_size = mem_size,
			   .hugepages = hugepages,
			   .cfg = cfg};
	int status = launch_run(&l);
	for (int i = 0; i < ndisks; i++)
		disk_close(&disks[i]);
	for (int i = 0; i < nnets; i++)
		net_close(&nets[i]);
	for (int i = 0; i < nfs; i++)
		fs_close(&fss[i]);
	return status;
}
