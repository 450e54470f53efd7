/* container: namespaces, the rootfs and the process, inside the guest. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* In the child: reports why setup failed and ends it. */
__attribute__((format(printf, 2, 3), noreturn)) static void die(int fd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(127);
}

static void mkdirs(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

/* mount() under the rootfs, making the mount point if it is missing. */
static void mount_in(int efd, const char *root, const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", root, dst);
	mkdirs(path);
	if (mount(src, path, type, flags, data))
		die(efd, "mount %s on %s: %s", type ? type : src, dst, strerror(errno));
}

/* /dev as a container expects it: a tmpfs with the usual nodes. */
static void make_dev(int efd, const char *root)
{
	mount_in(efd, root, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755");
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3},   {"zero", 1, 5},	  {"full", 1, 7},
		     {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	char path[4096];
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, nodes[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)))
			die(efd, "mknod /dev/%s: %s", nodes[i].name, strerror(errno));
		chmod(path, 0666); /* past the umask */
	}
	mount_in(efd, root, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		 "newinstance,ptmxmode=0666,mode=0620");
	mount_in(efd, root, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		 "mode=1777");
	static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
					       {"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, links[i][1]);
		if (symlink(links[i][0], path))
			die(efd, "symlink /dev/%s: %s", links[i][1], strerror(errno));
	}
}

/* In the new namespaces: the rootfs and its mounts, then pivot into it. */
static void setup_root(int efd, const struct proto_create *c)
{
	char root[256];
	snprintf(root, sizeof(root), "/run/containers/%s", c->container);
	/* Nothing mounted here may leak back to the agent's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die(efd, "make / private: %s", strerror(errno));
	mkdirs(root);
	if (mount(c->rootfs_source, root, c->rootfs_fstype, c->rootfs_readonly ? MS_RDONLY : 0,
		  NULL))
		die(efd, "mount the rootfs %s (%s): %s", c->rootfs_source, c->rootfs_fstype,
		    strerror(errno));
	/* A read-only rootfs still needs its mount points: they go on
	 * tmpfs-backed paths only when they exist already. */
	mount_in(efd, root, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_in(efd, root, "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
		 NULL);
	make_dev(efd, root);
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)))
		die(efd, "sethostname: %s", strerror(errno));
	/* pivot_root(".", "."): the old root ends up on top of the new one
	 * and is detached at once; no directory needed in the rootfs. */
	if (chdir(root) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) ||
	    chdir("/"))
		die(efd, "pivot_root into the rootfs: %s", strerror(errno));
}

/* The user's process, in the container (never returns). */
__attribute__((noreturn)) static void exec_process(int efd, const struct proto_process *p, int in,
						   int out, int err)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		die(efd, "stdio: %s", strerror(errno));
	if (setgroups(p->ngroups, p->groups) || setgid(p->gid) || setuid(p->uid))
		die(efd, "set user %u, group %u: %s", (unsigned)p->uid, (unsigned)p->gid,
		    strerror(errno));
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die(efd, "no_new_privs: %s", strerror(errno));
	if (chdir(p->cwd))
		die(efd, "cwd %s: %s", p->cwd, strerror(errno));
	/* Dispositions the agent set (it ignores SIGPIPE) survive exec:
	 * the process starts with every signal at its default, unblocked. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = p->env; /* execvp looks up PATH in the process's own env */
	execvp(p->args[0], p->args);
	/* A leading byte of 126 or 127 tells the agent which status a
	 * shell would give: not found, or found but not runnable. */
	int e = errno;
	die(efd, "%cexec %s: %s", e == ENOENT ? 127 : 126, p->args[0], strerror(e));
}

static void on_signal(int sig)
{
	(void)sig; /* never runs: the signals are blocked and taken by sigwait */
}

/* Signals pid 1 passes on to the process. */
static const int forwarded[] = {SIGHUP,	 SIGINT,  SIGQUIT,  SIGTERM, SIGUSR1,
				SIGUSR2, SIGCONT, SIGWINCH, SIGALRM};

/* The namespace's pid 1 after the process started: reap, forward, and
 * report the process's status (never returns). */
__attribute__((noreturn)) static void init_loop(pid_t child, int status_fd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == child) {
				(void)!write(status_fd, &status, sizeof(status));
				_exit(0);
			}
	}
}

/* The container's pid 1, from fork to exec of the process. */
__attribute__((noreturn)) static void child(const struct proto_create *c, const int in[2],
					    const int out[2], const int err[2], const int status[2],
					    const int start[2], const int error[2])
{
	close(in[1]);
	close(out[0]);
	close(err[0]);
	close(status[0]);
	close(start[1]);
	close(error[0]);
	int efd = error[1];
	/* Handlers (not SIG_DFL) so that, as a namespace init, pid 1 still
	 * receives these from the agent; blocked, so sigwait takes them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		signal(forwarded[i], on_signal);
		sigaddset(&set, forwarded[i]);
	}
	signal(SIGCHLD, on_signal);
	sigprocmask(SIG_BLOCK, &set, NULL);
	setup_root(efd, c);
	/* Setup is done: one byte says so; then wait for start. */
	if (write(efd, "", 1) != 1)
		_exit(127);
	char go;
	if (read(start[0], &go, 1) != 1)
		_exit(0); /* the agent gave up on it */
	pid_t pid = fork();
	if (pid < 0)
		die(efd, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_process(efd, &c->process, in[0], out[1], err[1]);
	close(efd);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	prctl(PR_SET_NAME, "init", 0, 0, 0); /* what ps shows for pid 1 */
	init_loop(pid, status[1]);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int container_spawn(const struct proto_create *c, struct container_proc *p, char *err,
		    size_t errlen)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, status[2] = {-1, -1},
	    start[2] = {-1, -1}, error[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) ||
	    pipe2(status, O_CLOEXEC) || pipe2(start, O_CLOEXEC) || pipe2(error, O_CLOEXEC)) {
		snprintf(err, errlen, "pipes: %s", strerror(errno));
		goto fail;
	}
	/* fork with new namespaces: the child is pid 1 of its own. */
	pid_t pid = (pid_t)syscall(
		SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL,
		NULL, NULL, NULL);
	if (pid < 0) {
		snprintf(err, errlen, "clone: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(c, in, out, errp, status, start, error);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	close(status[1]);
	close(start[0]);
	close(error[1]);
	*p = (struct container_proc){pid, in[1], out[0], errp[0], status[0], start[1], error[0]};
	/* The first byte: NUL when setup went well, else the reason. */
	char msg[512];
	ssize_t n = read(p->error_fd, msg, sizeof(msg) - 1);
	if (n == 1 && msg[0] == '\0')
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	snprintf(err, errlen, "%s", n > 0 ? msg : "container setup died");
	int fds[] = {p->stdin_fd,  p->stdout_fd, p->stderr_fd,
		     p->status_fd, p->start_fd,	 p->error_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
	waitpid(pid, NULL, 0);
	return -1;
fail:
	close_pair(in);
	close_pair(out);
	close_pair(errp);
	close_pair(status);
	close_pair(start);
	close_pair(error);
	return -1;
}

int container_start(struct container_proc *p, char *err, size_t errlen, int *exit_code)
{
	*exit_code = 0;
	if (write(p->start_fd, "s", 1) != 1) {
		snprintf(err, errlen, "the container's init is gone");
		return -1;
	}
	close(p->start_fd);
	p->start_fd = -1;
	/* EOF: the process was exec'd (the pipe is close-on-exec). */
	char msg[512];
	ssize_t n = read(p->error_fd, msg, sizeof(msg) - 1);
	close(p->error_fd);
	p->error_fd = -1;
	if (n <= 0)
		return 0;
	msg[n] = '\0';
	const char *text = msg;
	if (msg[0] == 126 || msg[0] == 127)
		*exit_code = *text++;
	snprintf(err, errlen, "%s", text);
	return -1;
}
