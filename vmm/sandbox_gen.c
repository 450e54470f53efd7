/*
 * sandbox_gen: the sandbox kinds' allowlists (see sandbox.h), compiled to
 * seccomp BPF by libseccomp at build time. Run by the build as
 * `sandbox_gen OUT.c`; it writes sandbox_filters.c (sandbox_filters.h's
 * table), which vmm loads as it is. Nothing here runs in vmm.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox_filters.h"

/*
 * What every thread does between its first instruction and its exit:
 * glibc's malloc (brk, mmap, munmap, madvise, mprotect of new arenas),
 * locks and condition variables (futex), the vCPU kick's handler
 * (rt_sigreturn), clocks (a syscall when the clocksource has no vDSO, as
 * under nested virtualization), stderr lines, pthread_kill (tgkill),
 * abort(), who we are (the fs server chowns new files only as root), and
 * the thread's or the process's end.
 */
static const int common[] = {
	SCMP_SYS(read),		SCMP_SYS(write),	  SCMP_SYS(readv),
	SCMP_SYS(writev),	SCMP_SYS(close),	  SCMP_SYS(futex),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(brk),		SCMP_SYS(munmap),	  SCMP_SYS(mremap),
	SCMP_SYS(madvise),	SCMP_SYS(clock_gettime),  SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),	SCMP_SYS(gettimeofday),	  SCMP_SYS(getpid),
	SCMP_SYS(gettid),	SCMP_SYS(getuid),	  SCMP_SYS(geteuid),
	SCMP_SYS(getgid),	SCMP_SYS(getegid),	  SCMP_SYS(tgkill),
	SCMP_SYS(sched_yield),	SCMP_SYS(getrandom),	  SCMP_SYS(newfstatat),
	SCMP_SYS(fstat),	SCMP_SYS(lseek),	  SCMP_SYS(getrusage),
	SCMP_SYS(exit),		SCMP_SYS(exit_group),
};

/* vCPU threads: only the common calls (the exits' handlers write device
 * eventfds and wake the loop and the fs workers) and these ioctls: KVM_RUN,
 * the halt check's two, the serial port's interrupt line. */
static const unsigned long vcpu_ioctls[] = {KVM_RUN, KVM_GET_MP_STATE, KVM_GET_REGS, KVM_IRQ_LINE};

/* virtio-fs workers: the passthrough FUSE server (fs_ops.c, fs_dir.c),
 * every path relative to an O_PATH fd or /proc/self/fd/N. */
static const int fs[] = {
	SCMP_SYS(openat),      SCMP_SYS(openat2),	  SCMP_SYS(fstatfs),  SCMP_SYS(getdents64),
	SCMP_SYS(readlinkat),  SCMP_SYS(mknodat),	  SCMP_SYS(mkdirat),  SCMP_SYS(unlinkat),
	SCMP_SYS(renameat2),   SCMP_SYS(renameat),	  SCMP_SYS(linkat),   SCMP_SYS(symlinkat),
	SCMP_SYS(fchmodat),    SCMP_SYS(fchown),	  SCMP_SYS(fchownat), SCMP_SYS(utimensat),
	SCMP_SYS(ftruncate),   SCMP_SYS(getxattr),	  SCMP_SYS(setxattr), SCMP_SYS(listxattr),
	SCMP_SYS(removexattr), SCMP_SYS(copy_file_range), SCMP_SYS(fsync),    SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate),   SCMP_SYS(syncfs),	  SCMP_SYS(preadv),   SCMP_SYS(pwritev),
	SCMP_SYS(faccessat),   SCMP_SYS(faccessat2),	  SCMP_SYS(fcntl),
};

/* The agent client and session relay: Unix sockets to the VM's vsock
 * (accept the agent, connect the streams), poll, a signalfd for SIGWINCH,
 * the terminal's size, and vmm-runtime's `exit` file. */
static const int client[] = {
	SCMP_SYS(accept4),    SCMP_SYS(connect),   SCMP_SYS(shutdown), SCMP_SYS(poll),
	SCMP_SYS(ppoll),      SCMP_SYS(signalfd4), SCMP_SYS(fcntl),    SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),   SCMP_SYS(sendmsg),   SCMP_SYS(recvmsg),  SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(openat),
};
static const unsigned long client_ioctls[] = {TIOCGWINSZ, TCGETS};

/* The event loop: io_uring, the vsock's host side (a guest connection to
 * the host is a new Unix socket, connected through the ring; "OK" is a
 * plain send), the tap's offloads, the serial interrupt line, the
 * terminal put back; then the teardown on the same thread: the vsock
 * socket unlinked, the console log shown, the exit and state files of a
 * detached run written or removed, scratch directories removed (nftw);
 * --exit-stats's host cost (smaps_rollup, and mincore over guest RAM). */
static const int loop[] = {
	SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
	SCMP_SYS(accept4),	  SCMP_SYS(connect),
	SCMP_SYS(shutdown),	  SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),	  SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),	  SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),	  SCMP_SYS(fcntl),
	SCMP_SYS(openat),	  SCMP_SYS(getdents64),
	SCMP_SYS(unlink),	  SCMP_SYS(unlinkat),
	SCMP_SYS(rmdir),	  SCMP_SYS(mincore),
};
static const unsigned long loop_ioctls[] = {KVM_IRQ_LINE, TUNSETOFFLOAD, TCGETS,    TCSETS,
					    TCSETSW,	  TCSETSF,	 TIOCGWINSZ};

static int allow_all(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);
		if (err)
			return err;
	}
	return 0;
}

/* ioctl with one of cmds. The command is an int widened to the
 * argument's 64 bits: only its low 32 bits count. */
static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, cmds[i]));
		if (err)
			return err;
	}
	return 0;
}

#define ALLOW(ctx, list)  allow_all(ctx, list, sizeof(list) / sizeof(list[0]))
#define IOCTLS(ctx, list) allow_ioctls(ctx, list, sizeof(list) / sizeof(list[0]))

static int rules(scmp_filter_ctx ctx, enum sandbox_kind kind)
{
	int err = ALLOW(ctx, common);
	/* New mappings and protections, never executable ones: no thread
	 * loads code after setup. */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (err)
		return err;
	switch (kind) {
	case SANDBOX_VCPU:
		return IOCTLS(ctx, vcpu_ioctls);
	case SANDBOX_FS:
		return ALLOW(ctx, fs);
	/* (The unused datum_b is spelt out: clang wants every field.) */
	case SANDBOX_CLIENT:
		return ALLOW(ctx, client) ?: IOCTLS(ctx, client_ioctls)
					   ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
							       1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	case SANDBOX_LOOP:
		return ALLOW(ctx, loop) ?: IOCTLS(ctx, loop_ioctls)
					 ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
							     1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	}
	return -EINVAL;
}

/* Builds kind's filter and writes its BPF to fd (libseccomp 2.5 exports
 * to a file descriptor only). Returns 0 or a negative errno. */
static int export_filter(enum sandbox_kind kind, enum sandbox_refusal refusal, int fd)
{
	scmp_filter_ctx ctx =
		seccomp_init(refusal == SANDBOX_TRAP ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	/* A syscall through another ABI (int 0x80, x32) is as forbidden. */
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!err)
		err = rules(ctx, kind);
	if (!err)
		err = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return err;
}

/* Leaves kind's BPF in *insns (malloc'd) and its length in *n. Returns 0
 * or a negative errno (then *insns is NULL). */
static int compile(enum sandbox_kind kind, enum sandbox_refusal refusal, struct sock_filter **insns,
		   size_t *n)
{
	*insns = NULL;
	FILE *f = tmpfile();
	if (!f)
		return -errno;
	int err = export_filter(kind, refusal, fileno(f));
	if (err)
		goto out;
	long size = lseek(fileno(f), 0, SEEK_END);
	err = -EINVAL;
	if (size <= 0 || size % sizeof(**insns))
		goto out;
	err = -ENOMEM;
	*insns = malloc((size_t)size);
	if (!*insns)
		goto out;
	err = pread(fileno(f), *insns, (size_t)size, 0) == size ? 0 : -EIO;
	*n = (size_t)size / sizeof(**insns);
out:
	if (err) {
		free(*insns);
		*insns = NULL;
	}
	fclose(f);
	return err;
}

int main(int argc, char **argv)
{
	static const char *const kinds[SANDBOX_KINDS] = {"vcpu", "fs", "client", "loop"};
	static const char *const refusals[] = {"kill", "trap"};
	if (argc != 2) {
		fprintf(stderr, "usage: sandbox_gen OUT.c\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "sandbox_gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(out,
		"/* Generated by sandbox_gen (vmm/sandbox_gen.c) with libseccomp %u.%u.%u: "
		"do not edit. */\n#include \"sandbox_filters.h\"\n",
		seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
	size_t lens[SANDBOX_KINDS][2];
	for (int k = 0; k < SANDBOX_KINDS; k++) {
		for (int r = 0; r < 2; r++) {
			struct sock_filter *insns;
			int err = compile((enum sandbox_kind)k, (enum sandbox_refusal)r, &insns,
					  &lens[k][r]);
			if (err || lens[k][r] > BPF_MAXINSNS) {
				fprintf(stderr, "sandbox_gen: the %s filter: %s\n", kinds[k],
					err ? strerror(-err) : "too long");
				fclose(out);
				remove(argv[1]);
				return 1;
			}
			fprintf(out, "\nstatic const struct sock_filter %s_%s[] = {\n", kinds[k],
				refusals[r]);
			for (size_t i = 0; i < lens[k][r]; i++)
				fprintf(out, "\t{0x%04x, %u, %u, 0x%08x},\n", insns[i].code,
					insns[i].jt, insns[i].jf, insns[i].k);
			fprintf(out, "};\n");
			free(insns);
		}
	}
	fprintf(out, "\nconst struct sandbox_filter sandbox_filters[SANDBOX_KINDS][2] = {\n");
	for (int k = 0; k < SANDBOX_KINDS; k++)
		fprintf(out, "\t{{%s_kill, %zu}, {%s_trap, %zu}},\n", kinds[k], lens[k][0],
			kinds[k], lens[k][1]);
	fprintf(out, "};\n");
	if (fclose(out)) {
		fprintf(stderr, "sandbox_gen: %s: %s\n", argv[1], strerror(errno));
		remove(argv[1]);
		return 1;
	}
	return 0;
}
