/* sandbox: per-thread system call allowlists and capability drops; see sandbox.h. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static atomic_bool disabled;

/* VMM_SECCOMP_LOG=FILE: a refused call is appended to FILE (kind and
 * number) and fails with ENOSYS instead of killing the VMM, so one run
 * lists every call a kind's list lacks. For finding the lists only. */
static int log_fd = -1;
static __thread const char *thread_kind;

void sandbox_disable(void)
{
	atomic_store(&disabled, true);
}

static bool is_disabled(void)
{
	const char *e = getenv("VMM_NO_SECCOMP");
	return atomic_load(&disabled) || (e && *e && strcmp(e, "0") != 0);
}

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

/* The capabilities each kind keeps (as a bit mask); all others go. */
#define CAP(c) (1ULL << (c))
static uint64_t keep_caps(enum sandbox_kind kind)
{
	switch (kind) {
	case SANDBOX_FS:
		/* Files made as the guest's caller (chown), modes and times
		 * on files the VMM does not own, device nodes, xattrs in
		 * the trusted and security namespaces. */
		return CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_DAC_READ_SEARCH) |
		       CAP(CAP_FOWNER) | CAP(CAP_FSETID) | CAP(CAP_MKNOD) | CAP(CAP_SETFCAP) |
		       CAP(CAP_SYS_ADMIN) | CAP(CAP_SYS_RESOURCE);
	case SANDBOX_LOOP:
		/* The teardown removes what the run made, possibly a tar's
		 * unpacked tree with directories not writable by their owner. */
		return CAP(CAP_DAC_OVERRIDE) | CAP(CAP_DAC_READ_SEARCH) | CAP(CAP_FOWNER);
	case SANDBOX_VCPU:
	case SANDBOX_CLIENT:
		break;
	}
	return 0;
}

/* Drops every capability but keep from this thread's effective,
 * permitted and inheritable sets (a no-op for an unprivileged VMM). */
static int drop_caps(uint64_t keep)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

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

/* Appends "KIND NR\n" with async-signal-safe calls only. */
static void log_refused(int sig, siginfo_t *si, void *ucontext)
{
	(void)sig;
	char line[64], digits[16];
	size_t n = 0, d = 0;
	for (const char *k = thread_kind ? thread_kind : "?"; *k && n < 32; k++)
		line[n++] = *k;
	line[n++] = ' ';
	unsigned nr = (unsigned)si->si_syscall;
	do
		digits[d++] = (char)('0' + nr % 10);
	while ((nr /= 10) && d < sizeof(digits));
	while (d)
		line[n++] = digits[--d];
	line[n++] = '\n';
	(void)!write(log_fd, line, n);
	((ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

static int log_setup(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *path = getenv("VMM_SECCOMP_LOG");
	if (!path || !*path)
		return 0;
	pthread_mutex_lock(&lock);
	if (log_fd < 0) {
		log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		struct sigaction sa = {.sa_sigaction = log_refused, .sa_flags = SA_SIGINFO};
		sigaction(SIGSYS, &sa, NULL);
	}
	pthread_mutex_unlock(&lock);
	/* A blocked SIGSYS would kill instead (vCPU and fs threads block
	 * every other signal). */
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	return log_fd >= 0;
}

int sandbox_confine(enum sandbox_kind kind)
{
	/* Threads are named for ps -L and strace; the main thread keeps the
	 * process's name. */
	static const char *const names[] = {"vmm-vcpu", "vmm-fs", "vmm-client", NULL};
	if (names[kind])
		prctl(PR_SET_NAME, names[kind]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	int err = drop_caps(keep_caps(kind));
	if (err || is_disabled())
		return err;
	static const char *const kinds[] = {"vcpu", "fs", "client", "loop"};
	thread_kind = kinds[kind];
	scmp_filter_ctx ctx = seccomp_init(log_setup() ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	/* A syscall through another ABI (int 0x80, x32) is as forbidden. */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!err)
		err = rules(ctx, kind);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

void sandbox_test_hook(enum sandbox_kind kind)
{
	static const char *const names[] = {"vcpu", "fs", "client", "loop"};
	static atomic_bool fired;
	const char *want = getenv("VMM_SECCOMP_TEST");
	if (!want || strcmp(want, names[kind]) || atomic_exchange(&fired, true))
		return;
	fprintf(stderr, "vmm: seccomp test: %s thread calls socket(AF_PACKET)\n", names[kind]);
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	fprintf(stderr, "vmm: seccomp test: socket(AF_PACKET) returned %d (%s)\n", fd,
		fd < 0 ? strerror(errno) : "allowed");
	if (fd >= 0)
		close(fd);
}
