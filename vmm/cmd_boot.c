/* cmd_boot: `vmm boot`, boots a kernel with an optional initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"
#define DEFAULT_MEM	(256ULL << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmm boot --kernel PATH [OPTIONS]\n"
		"Boot a Linux bzImage in a microVM; ends when the guest resets or powers off.\n"
		"\n"
		"  -k, --kernel PATH    bzImage to boot (required)\n"
		"  -i, --initrd PATH    initramfs (cpio, optionally compressed)\n"
		"  -c, --cmdline STR    kernel command line (default: \"%s\")\n"
		"  -p, --cpus N         number of vCPUs, 1-%d (default 1)\n"
		"  -m, --mem SIZE       guest memory, e.g. 512M or 2G; no suffix means MiB\n"
		"                       (default 256M)\n"
		"      --hugepages      back guest memory with 2 MiB hugepages\n"
		"  -h, --help           show this help\n"
		"\n"
		"Exit status: 0 when the guest resets itself (reboot=k), 1 on a VM error,\n"
		"2 on a usage error.\n",
		DEFAULT_CMDLINE, VM_MAX_CPUS);
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
		{"kernel", required_argument, NULL, 'k'},  {"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'c'}, {"cpus", required_argument, NULL, 'p'},
		{"mem", required_argument, NULL, 'm'},	   {"hugepages", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},	   {0},
	};
	const char *kernel = NULL, *initrd = NULL, *cmdline = DEFAULT_CMDLINE;
	struct vm_config cfg = {.mem_size = DEFAULT_MEM, .ncpus = 1, .console_fd = STDOUT_FILENO};
	long n;
	int c;
	while ((c = getopt_long(argc, argv, "k:i:c:p:m:h", opts, NULL)) != -1) {
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
			if (parse_mem_size(optarg, &cfg.mem_size) || cfg.mem_size < (16ULL << 20) ||
			    cfg.mem_size % 4096) {
				fprintf(stderr,
					"vmm boot: --mem: '%s' is not a size of at least 16M in "
					"whole pages\n",
					optarg);
				return 2;
			}
			break;
		case 'H':
			cfg.hugepages = true;
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
	if (cfg.hugepages && cfg.mem_size % (2ULL << 20)) {
		fprintf(stderr, "vmm boot: --hugepages needs --mem in whole 2 MiB pages\n");
		return 2;
	}

	struct mapped k = {0}, rd = {0};
	if (map_file("kernel", kernel, &k) || (initrd && map_file("initrd", initrd, &rd)))
		return 1;
	/* Reject a bad kernel before any KVM work. */
	struct bzimage bz;
	int bz_err = bzimage_parse(k.data, k.len, &bz);
	if (bz_err) {
		fprintf(stderr, "vmm: kernel %s: %s\n", kernel, bzimage_strerror(bz_err));
		return 1;
	}

	static struct vm vm;
	char why[256];
	if (vm_create(&vm, &cfg, why, sizeof(why))) {
		fprintf(stderr, "vmm: %s\n", why);
		return 1;
	}
	struct boot_input in = {k.data, k.len, rd.data, rd.len, cmdline, cfg.ncpus};
	struct boot_entry entry;
	int err = x86boot_load(&vm.mem, &in, &entry, &bz_err);
	if (err == BOOT_EKERNEL) {
		fprintf(stderr, "vmm: kernel %s: %s\n", kernel, bzimage_strerror(bz_err));
	} else if (err) {
		fprintf(stderr, "vmm: %s\n", x86boot_strerror(err));
	}
	/* The images now live in guest memory. */
	munmap((void *)k.data, k.len);
	if (rd.data)
		munmap((void *)rd.data, rd.len);
	int status = err ? 1 : vm_run(&vm, &entry);
	vm_destroy(&vm);
	return status;
}
