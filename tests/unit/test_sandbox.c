/* Unit tests for vmm/sandbox.c and the filters sandbox_gen compiles at
 * build time (sandbox_filters.h): each kind, confined in a child process,
 * makes a call on its list (which returns) or one off it (which kills the
 * child with SIGSYS); ioctls are told apart by their command, mmap by
 * PROT_EXEC, socket by its family; another ABI (int 0x80, x32) kills;
 * VMM_SECCOMP_LOG turns a refusal into ENOSYS and a line; sandbox_disable
 * loads nothing. No KVM needed: seccomp is the host kernel's. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "sandbox.h"

/* Each call returns 0 when it came back as a kind's list wants (the
 * child's exit status); a refused one never returns. */
typedef int (*call_fn)(void);

static int call_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : 1;
}

/* Allowed on the vCPU list: fails (a bad fd), but returns. */
static int call_kvm_run(void)
{
	return ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF ? 0 : 1;
}

/* An ioctl no vCPU makes. */
static int call_tcgets(void)
{
	char buf[64];
	return ioctl(-1, TCGETS, buf) < 0 && errno == EBADF ? 0 : 1;
}

static int call_openat(void)
{
	int fd = openat(AT_FDCWD, "/", O_PATH | O_CLOEXEC);
	return fd >= 0 ? 0 : 1;
}

static int call_unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int call_inet_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

/* Every kind maps memory (malloc), none executable memory. */
static int call_mmap_rw(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
			       MAP_FAILED
		       ? 0
		       : 1;
}

static int call_mmap_exec(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
			       MAP_FAILED
		       ? 0
		       : 1;
}

/* getpid through the i386 ABI. */
static int call_int80(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 1;
}

/* getpid through the x32 ABI. */
static int call_x32(void)
{
	return syscall(0x40000000L | SYS_getpid) > 0 ? 0 : 1;
}

/* Runs call in a child confined as kind; returns its wait status. */
static int confined(enum sandbox_kind kind, bool disable, call_fn call)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		if (disable)
			sandbox_disable();
		/* exit_group directly: the sanitizers' hook before a
		 * noreturn call (_exit) makes calls no list has. */
		int res = sandbox_confine(kind) ? 100 : call();
		syscall(SYS_exit_group, res);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void allowed(enum sandbox_kind kind, call_fn call, const char *what)
{
	int status = confined(kind, false, call);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "kind %d, %s: status 0x%x, want exit 0", kind, what, status);
}

static void killed(enum sandbox_kind kind, call_fn call, const char *what)
{
	int status = confined(kind, false, call);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "kind %d, %s: status 0x%x, want death by SIGSYS", kind, what, status);
}

static const enum sandbox_kind kinds[] = {SANDBOX_VCPU, SANDBOX_FS, SANDBOX_CLIENT, SANDBOX_LOOP};

START_TEST(every_kind_keeps_the_common_calls)
{
	enum sandbox_kind k = kinds[_i];
	allowed(k, call_getpid, "getpid");
	allowed(k, call_mmap_rw, "mmap rw");
	killed(k, call_mmap_exec, "mmap PROT_EXEC");
	killed(k, call_inet_socket, "socket(AF_INET)");
	killed(k, call_int80, "int 0x80");
	killed(k, call_x32, "x32 getpid");
}
END_TEST

START_TEST(each_kind_has_its_own_list)
{
	allowed(SANDBOX_VCPU, call_kvm_run, "KVM_RUN");
	killed(SANDBOX_VCPU, call_tcgets, "TCGETS");
	killed(SANDBOX_VCPU, call_openat, "openat");
	killed(SANDBOX_VCPU, call_unix_socket, "socket(AF_UNIX)");

	allowed(SANDBOX_FS, call_openat, "openat");
	killed(SANDBOX_FS, call_unix_socket, "socket(AF_UNIX)");
	killed(SANDBOX_FS, call_kvm_run, "KVM_RUN");

	allowed(SANDBOX_CLIENT, call_unix_socket, "socket(AF_UNIX)");
	allowed(SANDBOX_CLIENT, call_tcgets, "TCGETS");
	killed(SANDBOX_CLIENT, call_kvm_run, "KVM_RUN");

	allowed(SANDBOX_LOOP, call_unix_socket, "socket(AF_UNIX)");
	allowed(SANDBOX_LOOP, call_openat, "openat");
	allowed(SANDBOX_LOOP, call_tcgets, "TCGETS");
	killed(SANDBOX_LOOP, call_kvm_run, "KVM_RUN");
}
END_TEST

START_TEST(disabled_loads_no_filter)
{
	int status = confined(SANDBOX_VCPU, true, call_openat);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}
END_TEST

/* VMM_SECCOMP_LOG: the refused call fails with ENOSYS and is logged. */
static int call_inet_socket_enosys(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == ENOSYS ? 0 : 1;
}

START_TEST(log_mode_turns_refusals_into_enosys)
{
	char path[] = "/tmp/test_sandbox_log.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	setenv("VMM_SECCOMP_LOG", path, 1);
	int status = confined(SANDBOX_FS, false, call_inet_socket_enosys);
	unsetenv("VMM_SECCOMP_LOG");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	char buf[64] = {0};
	ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
	char want[32];
	snprintf(want, sizeof(want), "fs %d\n", SYS_socket);
	ck_assert_str_eq(buf, want);
	close(fd);
	unlink(path);
	/* Another ABI still kills. */
	setenv("VMM_SECCOMP_LOG", "/dev/null", 1);
	status = confined(SANDBOX_FS, false, call_x32);
	unsetenv("VMM_SECCOMP_LOG");
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "status 0x%x", status);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filters");
	tcase_add_loop_test(tc, every_kind_keeps_the_common_calls, 0,
			    sizeof(kinds) / sizeof(kinds[0]));
	tcase_add_test(tc, each_kind_has_its_own_list);
	tcase_add_test(tc, disabled_loads_no_filter);
	tcase_add_test(tc, log_mode_turns_refusals_into_enosys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
