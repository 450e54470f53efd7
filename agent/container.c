/* container: namespaces, the rootfs and the process, inside the guest. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
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

#include "errf.h"
#include "netcfg.h"

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

/* openat2 beneath rootfd as if it were "/": ".." and absolute symlinks
 * in the (untrusted) image lead back inside it, never out. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
}

/* What mount(2) takes to reach exactly the file an fd holds. */
static const char *fd_path(char buf[32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* The mount point dst (absolute, without . or ..) inside the container's
 * root at rootfd, made where missing: directories, and for a file mount
 * an empty file as the last component. Each prefix is resolved inside
 * the root, symlinks included, so a link in the image such as
 * /escape -> /../../../run only leads to the root's own /run; a link to
 * something missing is followed by hand (its target made inside the
 * root), as openat2 only says ENOENT. Returns an O_PATH fd on it (dies
 * on failure). */
static int mount_point(int efd, int rootfd, const char *dst, bool file)
{
	char walk[4096], prefix[4096], link[4096];
	size_t len = 0;
	int links = 0;
	snprintf(walk, sizeof(walk), "%s", dst);
	int fd = open_in_root(rootfd, "", O_PATH | O_DIRECTORY);
	if (fd < 0)
		die(efd, "the container's root: %s", strerror(errno));
	for (const char *c = walk;;) {
		c += strspn(c, "/");
		size_t n = strcspn(c, "/");
		if (n == 0)
			break;
		if (len + 1 + n >= sizeof(prefix) || n > NAME_MAX)
			die(efd, "mount point %s: name too long", dst);
		bool last = c[n + strspn(c + n, "/")] == '\0';
		char name[NAME_MAX + 1];
		memcpy(name, c, n);
		name[n] = '\0';
		size_t parent_len = len;
		prefix[len++] = '/';
		memcpy(prefix + len, name, n + 1);
		len += n;
		int next = open_in_root(rootfd, prefix, O_PATH);
		if (next < 0 && errno == ENOENT) {
			/* Made in the parent as resolved; a dangling symlink
			 * there gives EEXIST. */
			int r = last && file ? mknodat(fd, name, S_IFREG | 0644, 0)
					     : mkdirat(fd, name, 0755);
			if (r && errno != EEXIST)
				die(efd, "mount point %s: make %s: %s", dst, prefix,
				    strerror(errno));
			ssize_t ln = r ? readlinkat(fd, name, link, sizeof(link) - 1) : -1;
			if (ln > 0) {
				/* The link's target in place of this
				 * component, then the rest: walked again from
				 * the root, so ".." in it stops there. */
				link[ln] = '\0';
				char again[4096];
				prefix[parent_len] = '\0';
				int w = snprintf(again, sizeof(again), "%s/%s/%s",
						 link[0] == '/' ? "" : prefix, link, c + n);
				if (++links > 40 || w < 0 || (size_t)w >= sizeof(again))
					die(efd, "mount point %s: %s", dst, strerror(ELOOP));
				memcpy(walk, again, (size_t)w + 1);
				close(fd);
				if ((fd = open_in_root(rootfd, "", O_PATH | O_DIRECTORY)) < 0)
					die(efd, "the container's root: %s", strerror(errno));
				len = 0;
				c = walk;
				continue;
			}
			next = open_in_root(rootfd, prefix, O_PATH);
		}
		if (next < 0)
			die(efd, "mount point %s: %s: %s", dst, prefix, strerror(errno));
		close(fd);
		fd = next;
		c += n;
	}
	struct stat st;
	if (fstat(fd, &st))
		die(efd, "mount point %s: %s", dst, strerror(errno));
	if (file == !!S_ISDIR(st.st_mode))
		die(efd, "mount point %s: %s", dst,
		    file ? "a directory, and the source is a file" : "not a directory");
	return fd;
}

/* mount() on dst inside the container's root, the mount point made if
 * missing. */
static void mount_in(int efd, int rootfd, const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	char p[32];
	int fd = mount_point(efd, rootfd, dst, false);
	if (mount(src, fd_path(p, fd), type, flags, data))
		die(efd, "mount %s on %s: %s", type ? type : src, dst, strerror(errno));
	close(fd);
}

/* /dev as a container expects it: a tmpfs with the usual nodes, made
 * through an fd on the new tmpfs (a /dev symlink in the image cannot
 * send them elsewhere). */
static void make_dev(int efd, int rootfd)
{
	mount_in(efd, rootfd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755");
	int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		die(efd, "/dev: %s", strerror(errno));
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3},   {"zero", 1, 5},	  {"full", 1, 7},
		     {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (mknodat(dev, nodes[i].name, S_IFCHR | 0666,
			    makedev(nodes[i].maj, nodes[i].min)))
			die(efd, "mknod /dev/%s: %s", nodes[i].name, strerror(errno));
		fchmodat(dev, nodes[i].name, 0666, 0); /* past the umask */
	}
	mount_in(efd, rootfd, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		 "newinstance,ptmxmode=0666,mode=0620");
	mount_in(efd, rootfd, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		 "mode=1777");
	static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
					       {"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1]))
			die(efd, "symlink /dev/%s: %s", links[i][1], strerror(errno));
	close(dev);
}

/* Read-ahead for the virtio-fs mount at dir: Linux gives a FUSE file
 * system's bdi 128 KiB and lets the server's INIT reply only lower it, so
 * a sequential read goes out as 128 KiB requests, each a round trip to
 * the VMM. 512 KiB is the VMM's largest READ (max_pages 128), as 9p gets
 * about its msize. Best effort: without sysfs the default stays. */
#define VIRTIOFS_READ_AHEAD_KB "512"
static void virtiofs_read_ahead(const char *dir)
{
	struct stat st;
	char path[64];
	if (stat(dir, &st))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, VIRTIOFS_READ_AHEAD_KB, strlen(VIRTIOFS_READ_AHEAD_KB));
		close(fd);
	}
}

/* The virtio-fs shares bind mounts come from, each mounted once under
 * /run/shares/TAG in the container's mount namespace (the pivot drops
 * them; only the binds stay). */
struct shares {
	char tag[PROTO_MAX_MOUNTS][37];
	int fd[PROTO_MAX_MOUNTS]; /* O_PATH on the share's root */
	int n;
};

static int share_root(int efd, struct shares *sh, const char *tag)
{
	for (int i = 0; i < sh->n; i++)
		if (!strcmp(sh->tag[i], tag))
			return sh->fd[i];
	if (sh->n == PROTO_MAX_MOUNTS)
		die(efd, "too many shares");
	char dir[64];
	snprintf(dir, sizeof(dir), "/run/shares/%s", tag);
	mkdirs(dir);
	int fd = -1;
	if (mount(tag, dir, "virtiofs", 0, NULL) ||
	    (fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(efd, "mount the virtio-fs share %s: %s", tag, strerror(errno));
	virtiofs_read_ahead(dir);
	snprintf(sh->tag[sh->n], sizeof(sh->tag[0]), "%s", tag);
	sh->fd[sh->n++] = fd;
	return fd;
}

/* One of the request's mounts, on its destination inside the root. */
static void extra_mount(int efd, int rootfd, struct shares *sh, const struct proto_mount *m)
{
	unsigned long flags, prop;
	char data[PROTO_MAX_MOUNT_DATA], sp[32], dp[32];
	if (proto_mount_flags(m, &flags, &prop, data, sizeof(data)))
		die(efd, "mount %s: options too long", m->destination);
	bool bind = !strcmp(m->type, "bind");
	const char *source = m->source ? m->source : m->type;
	int sfd = -1;
	bool file = false;
	if (bind) {
		/* The path inside the share is resolved inside it too. */
		char tag[37];
		const char *path;
		if (proto_mount_source(m->source, tag, &path))
			die(efd, "mount %s: bad source %s", m->destination, m->source);
		sfd = open_in_root(share_root(efd, sh, tag), path, O_PATH);
		struct stat st;
		if (sfd < 0 || fstat(sfd, &st))
			die(efd, "mount %s: source %s: %s", m->destination, m->source,
			    strerror(errno));
		file = !S_ISDIR(st.st_mode);
		source = fd_path(sp, sfd);
	} else {
		flags &= ~(unsigned long)(MS_BIND | MS_REC); /* only a bind binds */
	}
	int dfd = mount_point(efd, rootfd, m->destination, file);
	/* A bind's first call takes no flags but MS_REC: ro, nosuid and the
	 * like come with a remount of the new mount. */
	if (mount(source, fd_path(dp, dfd), bind ? NULL : m->type,
		  bind ? flags & (MS_BIND | MS_REC) : flags, bind || !data[0] ? NULL : data))
		die(efd, "mount %s on %s: %s", bind ? m->source : m->type, m->destination,
		    strerror(errno));
	close(dfd);
	if (sfd >= 0)
		close(sfd);
	unsigned long rest = flags & ~(unsigned long)(MS_BIND | MS_REC);
	if (!(bind && rest) && !prop)
		return;
	/* The fd we mounted on is beneath the new mount: look again to get
	 * the mount itself. */
	if ((dfd = open_in_root(rootfd, m->destination, O_PATH)) < 0)
		die(efd, "mount %s: %s", m->destination, strerror(errno));
	if (bind && rest && mount(NULL, fd_path(dp, dfd), NULL, MS_REMOUNT | MS_BIND | rest, NULL))
		die(efd, "remount %s with its options: %s", m->destination, strerror(errno));
	if (prop && mount(NULL, fd_path(dp, dfd), NULL, prop, NULL))
		die(efd, "propagation of %s: %s", m->destination, strerror(errno));
	close(dfd);
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
	if (!strcmp(c->rootfs_fstype, "virtiofs"))
		virtiofs_read_ahead(target);
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
	/* Everything inside the root goes through an fd on it, resolved
	 * inside it: the image is untrusted. A read-only root needs its
	 * mount points to exist already. */
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die(efd, "the container's root: %s", strerror(errno));
	mount_in(efd, rootfd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_in(efd, rootfd, "sysfs", "/sys", "sysfs",
		 MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	make_dev(efd, rootfd);
	/* The request's own mounts, in order, over what is there by now. */
	struct shares sh = {.n = 0};
	for (int i = 0; i < c->nmounts; i++)
		extra_mount(efd, rootfd, &sh, &c->mounts[i]);
	for (int i = 0; i < sh.n; i++)
		close(sh.fd[i]);
	close(rootfd);
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
__attribute__((noreturn)) static void child(const struct proto_create *c, bool own_netns,
					    const struct stdio *io, const int status[2],
					    const int start[2], const int error[2])
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
	/* A new network namespace has lo down: up, as runc leaves it. (sysfs,
	 * mounted next, shows the namespace it was mounted in.) */
	char why_lo[128];
	if (own_netns && netcfg_loopback_up(why_lo, sizeof(why_lo)))
		die(efd, "%s", why_lo);
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
	return errf(err, errlen, "%s", text);
}

int container_spawn(const struct proto_create *c, bool own_netns, struct container_proc *p,
		    char *err, size_t errlen)
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
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	if (own_netns)
		flags |= CLONE_NEWNET;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		snprintf(err, errlen, "clone: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(c, own_netns, &io, status, start, error);
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
	/* A byte other than NUL was the reason's first. */
	char rest[512] = "";
	bool got = read_error(p->error_fd, rest, sizeof(rest), NULL) != 0;
	if (n == 1 && msg[0] != '\0')
		snprintf(err, errlen, "%c%s", msg[0], rest);
	else if (got)
		snprintf(err, errlen, "%s", rest);
	else
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
	/* net: the container's own, or the VM's when it shares that. */
	static const char *const kinds[] = {"ipc", "uts", "net", "mnt"};
	enum { NKINDS = sizeof(kinds) / sizeof(kinds[0]) };
	int ns[NKINDS], pidns = -1, self = -1, error[2] = {-1, -1};
	struct stdio io;
	if (stdio_open(&io, proc->terminal, err, errlen))
		return -1;
	char path[64];
	for (int i = 0; i < NKINDS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, kinds[i]);
		ns[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	pidns = open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	int rc = -1;
	bool missing = pidns < 0 || self < 0;
	for (int i = 0; i < NKINDS; i++)
		missing |= ns[i] < 0;
	if (missing || pipe2(error, O_CLOEXEC)) {
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
		for (int i = 0; i < NKINDS; i++)
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
	for (int i = 0; i < NKINDS; i++)
		close_fd(&ns[i]);
	close_fd(&pidns);
	close_fd(&self);
	close_pair(error);
	return rc;
}

int container_start(struct container_proc *p, char *err, size_t errlen, int *exit_code)
{
	*exit_code = 0;
	if (write(p->start_fd, "s", 1) != 1)
		return errf(err, errlen, "the container's init is gone");
	close_fd(&p->start_fd);
	/* EOF: the process was exec'd (the pipe is close-on-exec). */
	int rc = read_error(p->error_fd, err, errlen, exit_code);
	close_fd(&p->error_fd);
	return rc;
}
