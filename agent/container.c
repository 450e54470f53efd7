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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
	/* A shared read-only image gets a tmpfs on top (overlayfs) for the
	 * container's writes, unless it asked for a read-only root. */
	bool overlay = c->rootfs_overlay && !c->rootfs_readonly;
	char lower[300], rw[300], upper[320], work[320], opts[1024];
	snprintf(lower, sizeof(lower), "%s.lower", root);
	snprintf(rw, sizeof(rw), "%s.rw", root);
	snprintf(upper, sizeof(upper), "%s/upper", rw);
	snprintf(work, sizeof(work), "%s/work", rw);
	const char *target = overlay ? lower : root;
	mkdirs(target);
	if (mount(c->rootfs_source, target, c->rootfs_fstype,
		  c->rootfs_readonly || c->rootfs_overlay ? MS_RDONLY : 0, NULL))
		die(efd, "mount the rootfs %s (%s): %s", c->rootfs_source, c->rootfs_fstype,
		    strerror(errno));
	if (overlay) {
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
			 work);
		mkdirs(rw);
		if (mount("tmpfs", rw, "tmpfs", 0, "mode=0755"))
			die(efd, "tmpfs for the container's writes: %s", strerror(errno));
		mkdirs(upper);
		mkdirs(work);
		if (mount("overlay", root, "overlay", 0, opts))
			die(efd, "overlay on the rootfs: %s", strerror(errno));
	}
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
	/* A terminal: its own session with the pty as controlling tty. */
	if (p->terminal && (setsid() < 0 || ioctl(in, TIOCSCTTY, 0)))
		die(efd, "terminal: %s", strerror(errno));
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		die(efd, "stdio: %s", strerror(errno));
	/* Limits before the ids change: raising a hard limit needs root. */
	for (int i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl))
			die(efd, "%s: %s", proto_rlimit_name(p->rlimits[i].resource),
			    strerror(errno));
	}
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

/* A process's stdio: three pipes, or a pty. A pty must come from the
 * container's own devpts (so ttyname(), stty and job control work in
 * there): the process's side opens it after entering the container and
 * passes the master to the agent over a socketpair. */
struct stdio {
	int in[2], out[2], err[2]; /* [0] read end, [1] write end */
	int sock[2];		   /* tty: [1] the process's side sends the master */
	int pty_slave;		   /* tty, in the process's side */
	bool tty;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void stdio_close(struct stdio *io)
{
	for (int i = 0; i < 2; i++) {
		close_fd(&io->in[i]);
		close_fd(&io->out[i]);
		close_fd(&io->err[i]);
		close_fd(&io->sock[i]);
	}
	close_fd(&io->pty_slave);
}

static int stdio_open(struct stdio *io, bool tty, char *err, size_t errlen)
{
	*io = (struct stdio){{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, -1, tty};
	int rc = tty ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io->sock)
		     : (pipe2(io->in, O_CLOEXEC) || pipe2(io->out, O_CLOEXEC) ||
			pipe2(io->err, O_CLOEXEC));
	if (rc) {
		snprintf(err, errlen, "%s: %s", tty ? "socketpair" : "pipes", strerror(errno));
		stdio_close(io);
		return -1;
	}
	return 0;
}

/* The process's side, inside the container: a pty from its devpts, the
 * master sent to the agent. On failure returns the reason. */
static const char *stdio_pty(struct stdio *io)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *name =
		master < 0 || grantpt(master) || unlockpt(master) ? NULL : ptsname(master);
	if (name)
		io->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	char c = 'm';
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &master, sizeof(int));
	const char *why = io->pty_slave < 0		     ? "cannot open a pty in the container"
			  : sendmsg(io->sock[1], &m, 0) != 1 ? "cannot pass the pty on"
							     : NULL;
	if (master >= 0)
		close(master);
	close_fd(&io->sock[1]);
	return why;
}

/* The agent's side: the master the process's side sent, or -1. */
static int recv_master(int sock)
{
	char c;
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

/* The process's three fds (in the child). */
static void stdio_child(const struct stdio *io, int *in, int *out, int *err)
{
	*in = io->tty ? io->pty_slave : io->in[0];
	*out = io->tty ? io->pty_slave : io->out[1];
	*err = io->tty ? io->pty_slave : io->err[1];
}

/* Ours (in the agent): stdin to write, stdout and stderr to read; a pty's
 * master (received, for a tty) serves as both stdin and stdout, and there
 * is no stderr. Closes the process's ends. Returns -1 if no master came. */
static int stdio_parent(struct stdio *io, struct container_proc *p)
{
	int rc = 0;
	if (io->tty) {
		close_fd(&io->sock[1]);
		int master = recv_master(io->sock[0]);
		p->stdout_fd = master;
		p->stdin_fd = master < 0 ? -1 : dup(master);
		p->stderr_fd = -1;
		rc = master < 0 ? -1 : 0;
	} else {
		p->stdin_fd = io->in[1];
		p->stdout_fd = io->out[0];
		p->stderr_fd = io->err[0];
		io->in[1] = io->out[0] = io->err[0] = -1;
	}
	stdio_close(io);
	return rc;
}

/* The container's pid 1, from fork to exec of the process. */
__attribute__((noreturn)) static void child(const struct proto_create *c, const struct stdio *io,
					    const int status[2], const int start[2],
					    const int error[2])
{
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
	struct stdio mine = *io;
	const char *why = mine.tty ? stdio_pty(&mine) : NULL;
	if (why)
		die(efd, "%s: %s", why, strerror(errno));
	/* Setup is done: one byte says so; then wait for start. */
	if (write(efd, "", 1) != 1)
		_exit(127);
	char go;
	if (read(start[0], &go, 1) != 1)
		_exit(0); /* the agent gave up on it */
	int in, out, err;
	stdio_child(&mine, &in, &out, &err);
	pid_t pid = fork();
	if (pid < 0)
		die(efd, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_process(efd, &c->process, in, out, err);
	close(efd);
	/* pid 1 keeps no end of the process's stdio: the agent must see EOF
	 * (or EIO on a pty) when the process and its children are done. */
	stdio_close(&mine);
	prctl(PR_SET_NAME, "init", 0, 0, 0); /* what ps shows for pid 1 */
	init_loop(pid, status[1]);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* Reads the error pipe until EOF: "" when the other side only closed it
 * (exec worked), else its text; 126/127 as the first byte of an exec
 * failure become *code. Returns 0 when it was empty. */
static int read_error(int fd, char *err, size_t errlen, int *code)
{
	char msg[512];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(msg) - 1 && (n = read(fd, msg + len, sizeof(msg) - 1 - len)) > 0)
		len += (size_t)n;
	msg[len] = '\0';
	if (len == 0)
		return 0;
	const char *text = msg;
	if (code && (msg[0] == 126 || msg[0] == 127))
		*code = *text++;
	snprintf(err, errlen, "%s", text);
	return -1;
}

int container_spawn(const struct proto_create *c, struct container_proc *p, char *err,
		    size_t errlen)
{
	struct stdio io;
	int status[2] = {-1, -1}, start[2] = {-1, -1}, error[2] = {-1, -1};
	if (stdio_open(&io, c->process.terminal, err, errlen))
		return -1;
	if (pipe2(status, O_CLOEXEC) || pipe2(start, O_CLOEXEC) || pipe2(error, O_CLOEXEC)) {
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
		child(c, &io, status, start, error);
	close(status[1]);
	close(start[0]);
	close(error[1]);
	*p = (struct container_proc){.pid = pid,
				     .stdin_fd = -1,
				     .stdout_fd = -1,
				     .stderr_fd = -1,
				     .status_fd = status[0],
				     .start_fd = start[1],
				     .error_fd = error[0]};
	/* The first byte: NUL when setup went well, else the reason. */
	char msg[512];
	ssize_t n = read(p->error_fd, msg, 1);
	if (n == 1 && msg[0] == '\0' && stdio_parent(&io, p) == 0)
		return 0;
	stdio_close(&io);
	if (read_error(p->error_fd, err, errlen, NULL) == 0)
		snprintf(err, errlen, "container setup died");
	int fds[] = {p->stdin_fd,  p->stdout_fd, p->stderr_fd,
		     p->status_fd, p->start_fd,	 p->error_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	waitpid(pid, NULL, 0);
	return -1;
fail:
	stdio_close(&io);
	close_pair(status);
	close_pair(start);
	close_pair(error);
	return -1;
}

int container_exec(pid_t init, const struct proto_process *proc, struct container_proc *p,
		   char *err, size_t errlen, int *exit_code)
{
	*exit_code = 0;
	static const char *const kinds[] = {"ipc", "uts", "mnt"};
	int ns[3] = {-1, -1, -1}, pidns = -1, self = -1, error[2] = {-1, -1};
	struct stdio io;
	if (stdio_open(&io, proc->terminal, err, errlen))
		return -1;
	char path[64];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, kinds[i]);
		ns[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	pidns = open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	int rc = -1;
	if (ns[0] < 0 || ns[1] < 0 || ns[2] < 0 || pidns < 0 || self < 0 ||
	    pipe2(error, O_CLOEXEC)) {
		snprintf(err, errlen, "the container's namespaces: %s", strerror(errno));
		goto out;
	}
	/* Our children go into the container's pid namespace from here (only
	 * children: setns on a pid namespace never moves the caller), so the
	 * process is ours to reap; then back to our own. */
	if (setns(pidns, CLONE_NEWPID)) {
		snprintf(err, errlen, "setns pid: %s", strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(error[0]);
		for (int i = 0; i < 3; i++)
			if (setns(ns[i], 0))
				die(error[1], "setns %s: %s", kinds[i], strerror(errno));
		const char *why = io.tty ? stdio_pty(&io) : NULL;
		if (why)
			die(error[1], "%s: %s", why, strerror(errno));
		int in, out, errfd;
		stdio_child(&io, &in, &out, &errfd);
		exec_process(error[1], proc, in, out, errfd);
	}
	int saved = errno;
	if (setns(self, CLONE_NEWPID))
		abort(); /* cannot happen: our own namespace; and must not be left */
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(saved));
		goto out;
	}
	close_fd(&error[1]);
	*p = (struct container_proc){.pid = pid, .status_fd = -1, .start_fd = -1, .error_fd = -1};
	int got = stdio_parent(&io, p);
	rc = read_error(error[0], err, errlen, exit_code);
	if (!rc && got) {
		snprintf(err, errlen, "no terminal came from the process");
		rc = -1;
	}
	if (rc) {
		/* Not started: the caller never hears of it, we reap it here. */
		int fds[] = {p->stdin_fd, p->stdout_fd, p->stderr_fd};
		for (size_t i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		waitpid(pid, NULL, 0);
	}
out:
	stdio_close(&io);
	for (int i = 0; i < 3; i++)
		close_fd(&ns[i]);
	close_fd(&pidns);
	close_fd(&self);
	close_pair(error);
	return rc;
}

int container_start(struct container_proc *p, char *err, size_t errlen, int *exit_code)
{
	*exit_code = 0;
	if (write(p->start_fd, "s", 1) != 1) {
		snprintf(err, errlen, "the container's init is gone");
		return -1;
	}
	close_fd(&p->start_fd);
	/* EOF: the process was exec'd (the pipe is close-on-exec). */
	int rc = read_error(p->error_fd, err, errlen, exit_code);
	close_fd(&p->error_fd);
	return rc;
}
