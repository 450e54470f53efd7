/* shim: the pid-file process of create and exec; see shim.h. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent_client.h"
#include "console.h"
#include "errf.h"
#include "files.h"
#include "launch.h"
#include "mounts.h"
#include "parse.h"
#include "rtnet.h"
#include "sandbox.h"
#include "selfmem.h"
#include "session.h"

void shim_guest_file(const char *env, const char *name, char *out, size_t len)
{
	const char *e = getenv(env);
	if (e && *e) {
		snprintf(out, len, "%s", e);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s/guest/%s", n > 0 ? dirname(exe) : ".", name);
}

/* The signals passed on to the container: all a process can catch, but
 * those that are about this process itself (faults, SIGPIPE, SIGCHLD),
 * SIGWINCH (a resize) and the VMM's vCPU kick. */
static void forward_set(sigset_t *set)
{
	sigemptyset(set);
	for (int s = 1; s <= SIGRTMAX; s++)
		sigaddset(set, s);
	static const int not [] = {SIGKILL, SIGSTOP, SIGCHLD, SIGWINCH, SIGPIPE, SIGSEGV, SIGBUS,
				   SIGFPE,  SIGILL,  SIGTRAP, SIGABRT,	SIGSYS,	 SIGURG};
	for (size_t i = 0; i < sizeof(not ) / sizeof(not [0]); i++)
		sigdelset(set, not [i]);
	sigdelset(set, SIGRTMIN);
	/* glibc's own (32, 33) are not ours to take either. */
	for (int s = 32; s < SIGRTMIN; s++)
		sigdelset(set, s);
}

/* A terminal: a pty pair, the master sent over the console socket as
 * runc does (the pty's name as data, the fd as SCM_RIGHTS), the slave
 * our controlling terminal and stdio, raw (the guest's pty does the line
 * discipline), sized as the config asks. */
static int console_setup(const char *sock, unsigned rows, unsigned cols, char *err, size_t errlen)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave = -1, s = -1;
	char name[64] = "";
	struct sockaddr_un a;
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, name, sizeof(name)) ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "a pty: %s", strerror(errno));
		goto fail;
	}
	if (unix_addr(sock, &a)) {
		snprintf(err, errlen, "--console-socket %s: path too long", sock);
		goto fail;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "--console-socket %s: %s", sock, strerror(errno));
		goto fail;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "--console-socket %s: %s", sock, strerror(errno));
		goto fail;
	}
	close(s);
	close(master);
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	if (rows && cols) {
		struct winsize ws = {.ws_row = (unsigned short)rows,
				     .ws_col = (unsigned short)cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	/* Our controlling terminal: its SIGWINCH is how a resize reaches us. */
	setsid();
	ioctl(slave, TIOCSCTTY, 0);
	for (int fd = 0; fd < 3; fd++)
		dup2(slave, fd);
	close(slave);
	return 0;
fail:
	if (s >= 0)
		close(s);
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
	return -1;
}

/* ---- create: the VMM ---- */

struct vmshim {
	struct agent_client agent;
	struct session session;
	struct proto_create create;
	struct vm *vm;
	int sig_pipe[2];
	pthread_t thread;
	bool thread_started;
	int ready_fd;
	bool created; /* the container exists and ready was reported */
};

static void on_signal(void *opaque, int signo)
{
	struct vmshim *v = opaque;
	unsigned char s = (unsigned char)signo;
	(void)!write(v->sig_pipe[1], &s, 1); /* nonblocking: a full pipe drops it */
}

/* The client thread: create, the streams, ready; then relay until the
 * container has ended (start comes from `vmm-runtime start`). */
static void *client(void *opaque)
{
	struct vmshim *v = opaque;
	struct session *s = &v->session;
	char e[256];
	int err = sandbox_confine(SANDBOX_CLIENT);
	if (err) {
		snprintf(e, sizeof(e), "seccomp: %s (VMM_NO_SECCOMP=1 runs without)",
			 strerror(-err));
		vm_stop(v->vm, VM_EXIT_ERROR, e);
		return NULL;
	}
	if (agent_accept(&v->agent, s->err, sizeof(s->err)))
		return NULL;
	v->vm->t.agent = vm_clock_ns();
	sandbox_test_hook(SANDBOX_CLIENT);
	if (!session_failed(s, agent_call(&v->agent, proto_create_json(&v->create), s->err,
					  sizeof(s->err))) &&
	    session_open(s) == 0) {
		rt_report(&v->ready_fd, 0, NULL);
		v->created = true;
		session_run(s);
	}
	session_close(s);
	/* Stopped as far as `state` is concerned, before the VM goes. */
	if (s->status >= 0) {
		FILE *f = fopen("exit", "w");
		if (f) {
			fprintf(f, "%d\n", s->status);
			fclose(f);
		}
	}
	agent_send(&v->agent, json_pack("{s:s}", "type", "shutdown"), e, sizeof(e));
	return NULL;
}

static int before_run(struct vm *vm, void *opaque)
{
	struct vmshim *v = opaque;
	v->vm = vm;
	if (pthread_create(&v->thread, NULL, client, v))
		return -1;
	v->thread_started = true;
	return 0;
}

/* The container's network namespace: the config's path joined, or a new
 * one (no network entry: the host's, as runc would leave it). */
static int enter_netns(const struct oci_config *cfg, char *err, size_t errlen)
{
	if (!cfg->netns)
		return 0;
	if (!cfg->netns_path) {
		if (unshare(CLONE_NEWNET))
			return errf(err, errlen, "a network namespace: %s", strerror(errno));
		return 0;
	}
	int fd = open(cfg->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		snprintf(err, errlen, "network namespace %s: %s", cfg->netns_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The files of single-file binds, each bind-mounted onto an empty file
 * in a tmpfs at ./files, in a mount namespace of our own: the guest sees
 * those files and nothing beside them, and the mounts go when we do. Before
 * any thread exists (unshare(CLONE_NEWNS) refuses a threaded process). */
static int stage_files(const struct rt_mounts *plan, char *err, size_t errlen)
{
	if (!plan->nfiles)
		return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    (mkdir("files", 0700) && errno != EEXIST) ||
	    mount("tmpfs", "files", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"))
		return errf(err, errlen, "a staging directory for bind-mounted files: %s",
			    strerror(errno));
	for (int i = 0; i < plan->nfiles; i++) {
		char path[32];
		snprintf(path, sizeof(path), "files/%s", plan->files[i].name);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		if (fd < 0 || mount(plan->files[i].source, path, NULL, MS_BIND, NULL))
			return errf(err, errlen, "bind mount of %.200s: %s", plan->files[i].source,
				    strerror(errno));
	}
	return 0;
}

static int run_create(const struct shim_create *a, int ready_fd)
{
	static struct vmshim v = {.sig_pipe = {-1, -1}};
	/* [0]: the rootfs. Not static: selfmem.h says why. */
	struct fs *shares = selfmem_zalloc(sizeof(*shares) * (1 + RT_MAX_SHARES));
	static struct rt_mounts plan;
	static char files_dir[PATH_MAX + 8];
	int nshares = 1;
	static struct vsock vsock;
	static char fs_spec[PATH_MAX + 16], vs_spec[] = "3,vsock";
	char err[512] = "", kernel[PATH_MAX], initrd[PATH_MAX];
	const struct oci_config *cfg = a->cfg;
	v.ready_fd = ready_fd;
	v.agent.listen_fd = v.agent.ctl = -1;
	/* Every signal we pass on is read from the loop's signalfd, and
	 * SIGWINCH from the session's: blocked in every thread from here. */
	sigset_t fwd, block;
	forward_set(&fwd);
	block = fwd;
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	shim_guest_file("VMM_KERNEL", "bzImage", kernel, sizeof(kernel));
	shim_guest_file("VMM_INITRD", "agent-initramfs.cpio.gz", initrd, sizeof(initrd));
	if (!shares) {
		snprintf(err, sizeof(err), "device tables: %s", strerror(errno));
		goto fail;
	}
	unsigned boot_timeout = AGENT_BOOT_TIMEOUT;
	const char *bt = getenv("VMM_BOOT_TIMEOUT");
	if (bt && *bt && parse_duration(bt, VM_MAX_BOOT_TIMEOUT, &boot_timeout)) {
		snprintf(err, sizeof(err),
			 "VMM_BOOT_TIMEOUT: '%.64s' is not a duration from 1 s to 24h (N, Ns, Nm "
			 "or Nh)",
			 bt);
		goto fail;
	}
	if (cfg->root_path[0] == '/')
		snprintf(fs_spec, sizeof(fs_spec), "rootfs=%s", cfg->root_path);
	else
		snprintf(fs_spec, sizeof(fs_spec), "rootfs=%s/%s", a->bundle, cfg->root_path);
	if (cfg->root_readonly)
		strcat(fs_spec, ",ro");
	/* From here the socket paths are relative to the state directory. */
	if (fchdir(a->c->dir_fd)) {
		snprintf(err, sizeof(err), "%.300s: %s", a->c->dir, strerror(errno));
		goto fail;
	}
	close(a->c->dir_fd); /* the create's lock is the parent's to drop */
	if (a->console_socket && console_setup(a->console_socket, cfg->console_rows,
					       cfg->console_cols, err, sizeof(err)))
		goto fail;
	if (!a->console_socket)
		setsid(); /* the caller's terminal signals are not ours */
	if (enter_netns(cfg, err, sizeof(err)) || rt_mounts_plan(cfg, &plan, err, sizeof(err)) ||
	    stage_files(&plan, err, sizeof(err)))
		goto fail;
	/* The VM's NIC, only in a namespace of the container's own: the
	 * engine puts the container's interface there after we have booted
	 * (rtnet.h). */
	static struct net nic;
	if (cfg->netns && rtnet_open_tap(&nic, err, sizeof(err)))
		goto fail;
	if (fs_parse_spec(fs_spec, &shares[0], err, sizeof(err)) ||
	    vsock_parse_spec(vs_spec, &vsock, err, sizeof(err)))
		goto fail;
	snprintf(files_dir, sizeof(files_dir), "%s/files", a->c->dir);
	for (int i = 0; i < plan.nshares; i++) {
		const struct rt_share *sh = &plan.shares[i];
		fs_init(&shares[nshares++], sh->tag, sh->dir ? sh->dir : files_dir, sh->ro,
			FS_CACHE_AUTO);
	}
	int console = open("console.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (console < 0 || pipe2(v.sig_pipe, O_CLOEXEC | O_NONBLOCK) ||
	    agent_listen(&v.agent, "vsock", err, sizeof(err))) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < nshares; i++)
		if (fs_open(&shares[i], nshares, 0, 0)) {
			snprintf(err, sizeof(err), "cannot share %.400s", shares[i].dir);
			goto fail;
		}
	session_init(&v.session, &v.agent, a->c->id, NULL);
	v.session.interactive = true; /* our stdin is the container's, EOF included */
	v.session.tty = cfg->process.terminal;
	v.session.sig_fd = v.sig_pipe[0];
	v.create = (struct proto_create){
		.container = a->c->id,
		.rootfs_source = "rootfs",
		.rootfs_fstype = "virtiofs",
		.rootfs_readonly = cfg->root_readonly,
		.hostname = cfg->hostname,
		.process = cfg->process,
		.nmounts = plan.nmounts,
	};
	memcpy(v.create.mounts, plan.mounts, sizeof(plan.mounts[0]) * (size_t)plan.nmounts);
	struct launch l = {
		.kernel = kernel,
		.initrd = initrd,
		.cmdline = AGENT_CMDLINE,
		.mem_size = oci_memory(cfg, SHIM_DEFAULT_MEM),
		.cfg = {.ncpus = oci_vcpus(cfg, (int)sysconf(_SC_NPROCESSORS_ONLN)),
			.console_in = -1,
			.console_out = console,
			.vsock = &vsock,
			.fs = shares,
			.nfs = nshares,
			.nets = cfg->netns ? &nic : NULL,
			.nnets = cfg->netns ? 1 : 0,
			.on_signal = on_signal,
			.signal_opaque = &v,
			.signals = &fwd,
			.boot_timeout_s = boot_timeout,
			.boot_is_agent = true,
			.start_ns = vm_clock_ns()},
		.before_run = before_run,
		.opaque = &v,
	};
	int vm_status = launch_run(&l);
	if (v.thread_started) {
		agent_abort(&v.agent);
		pthread_join(v.thread, NULL);
	}
	for (int i = 0; i < nshares; i++)
		fs_close(&shares[i]);
	if (cfg->netns)
		net_close(&nic);
	agent_close(&v.agent);
	struct session *s = &v.session;
	if (s->status >= 0)
		return s->status;
	if (v.created) {
		/* No exit status: the VM, and with it the agent (the guest's
		 * PID 1, whose death is a guest panic), went away under the
		 * container. 255, as Kata reports a lost sandbox; the VM's
		 * reason is the line before this one on stderr. */
		rt_error("container %s: the VM stopped (status %d) while the container ran; see "
			 "%.300s/console.log",
			 a->c->id, vm_status, a->c->dir);
		return 255;
	}
	/* The failed create removes the state directory, console.log with it:
	 * the report carries the console's end instead of its path. */
	if (vm_status == VM_EXIT_BOOT_TIMEOUT)
		vm_boot_timeout_reason(&l.cfg, s->err, sizeof(s->err));
	else if (!s->err[0])
		snprintf(s->err, sizeof(s->err),
			 "the VM stopped (status %d) before the container was created", vm_status);
	/* All of it within the report's 1 KiB (rt_report), the console's
	 * last lines first to go short, not cut off. */
	char tail[1024 - sizeof(s->err) - 32], why[1024];
	console_log_tail("console.log", tail, sizeof(tail));
	snprintf(why, sizeof(why), "%s; %s%s", s->err,
		 tail[0] ? "the end of its console:\n" : "its console is empty", tail);
	rt_report(&v.ready_fd, 1, why);
	return s->exit_code ? s->exit_code : 1;
fail:
	rt_report(&v.ready_fd, 1, err);
	return 1;
}

/* ---- exec: a relay to the running VM's agent ---- */

static int exec_sig_pipe = -1;

static void exec_on_signal(int signo)
{
	int saved = errno;
	unsigned char s = (unsigned char)signo;
	(void)!write(exec_sig_pipe, &s, 1);
	errno = saved;
}

static int run_exec(const struct shim_exec *a, bool foreground, int ready_fd)
{
	char err[512] = "";
	struct agent_client agent = {.listen_fd = -1, .ctl = -1};
	struct session s;
	int sig_pipe[2] = {-1, -1};
	sigset_t fwd, winch;
	forward_set(&fwd);
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &winch, NULL);
	if (fchdir(a->c->dir_fd)) {
		snprintf(err, sizeof(err), "%.300s: %s", a->c->dir, strerror(errno));
		goto fail;
	}
	close(a->c->dir_fd);
	if (a->console_socket &&
	    console_setup(a->console_socket, a->rows, a->cols, err, sizeof(err)))
		goto fail;
	if (!a->console_socket && !foreground)
		setsid();
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		goto fail;
	}
	exec_sig_pipe = sig_pipe[1];
	struct sigaction sa = {.sa_handler = exec_on_signal, .sa_flags = SA_RESTART};
	sigfillset(&sa.sa_mask);
	for (int n = 1; n <= SIGRTMAX; n++)
		if (sigismember(&fwd, n))
			sigaction(n, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (agent_connect(&agent, "vsock", err, sizeof(err)))
		goto fail;
	session_init(&s, &agent, a->c->id, a->exec_id);
	s.interactive = true;
	s.tty = a->process->terminal;
	s.sig_fd = sig_pipe[0];
	json_t *req = json_pack("{s:s, s:s, s:s, s:o}", "type", "exec", "container", a->c->id,
				"exec_id", a->exec_id, "process", proto_process_json(a->process));
	/* The process exists once exec has answered; its output waits in
	 * the agent until the streams attach. */
	if (session_failed(&s, agent_call(&agent, req, s.err, sizeof(s.err))) || session_open(&s)) {
		session_close(&s);
		agent_close(&agent);
		rt_report(&ready_fd, (unsigned char)(s.exit_code ? s.exit_code : 1), s.err);
		return s.exit_code ? s.exit_code : 1;
	}
	rt_report(&ready_fd, 0, NULL);
	session_run(&s);
	agent_close(&agent);
	if (s.status >= 0)
		return s.status;
	fprintf(stderr, RT_NAME ": exec %s: %s\n", a->exec_id, s.err);
	return 1;
fail:
	agent_close(&agent);
	rt_report(&ready_fd, 1, err);
	return 1;
}

pid_t shim_fork(const struct shim_create *create, const struct shim_exec *exec, bool foreground,
		char *err, size_t errlen)
{
	int fd;
	pid_t pid = rt_fork_report(&fd, err, errlen);
	if (pid == 0) {
		int status = create ? run_create(create, fd) : run_exec(exec, foreground, fd);
		fflush(NULL);
		_exit(status);
	}
	if (pid < 0)
		return -1;
	char why[512];
	if (rt_read_report(fd, why, sizeof(why)) == 0)
		return pid;
	/* It has said why, or died: either way it ends now, and nothing of
	 * it (VM, sockets) may outlive the failed command. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return errf(err, errlen, "%s", why[0] ? why : "the shim process died before it was ready");
}

static volatile sig_atomic_t waited_child;

static void pass_on(int signo)
{
	if (waited_child > 0)
		kill((pid_t)waited_child, signo);
}

int shim_wait(pid_t pid)
{
	waited_child = pid;
	struct sigaction sa = {.sa_handler = pass_on, .sa_flags = SA_RESTART};
	static const int sigs[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGINT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
