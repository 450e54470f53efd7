/* sandbox: per-thread seccomp filters (compiled at build time: sandbox_filters.h)
 * and capability drops; see sandbox.h. */
#include "sandbox.h"
#include "sandbox_filters.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* sandbox_gen's table follows the enum's order. */
_Static_assert(SANDBOX_LOOP + 1 == SANDBOX_KINDS, "one filter per kind");

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
	const struct sandbox_filter *f =
		&sandbox_filters[kind][log_setup() ? SANDBOX_TRAP : SANDBOX_KILL];
	struct sock_fprog prog = {.len = f->len, .filter = (struct sock_filter *)f->insns};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? -errno : 0;
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
