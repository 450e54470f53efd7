/*
 * vmm-agent: PID 1 of the guest. It mounts the basic file systems, brings
 * up loopback (other interfaces when the host asks: netcfg.h), marks the
 * boot, then serves the host over vsock (see
 * proto.h): it connects to the host's port PROTO_AGENT_PORT to say it is
 * ready (that connection is a control connection) and listens on the same
 * port for more (stream and control connections). It reaps every orphan.
 *
 * One poll() loop, single-threaded: control messages are small and
 * answered at once; the stdio streams are relayed through 64 KiB buffers
 * with nonblocking fds, so a slow reader stalls only its own stream.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot_timer.h"
#include "container.h"
#include "netcfg.h"
#include "proto.h"

#define MAX_CONNS 32
#define BUF_SIZE  65536

enum role { R_HELLO, R_CONTROL, R_STDIN, R_STDOUT, R_STDERR };

/* A host connection; for a stream, its relay buffer. */
struct conn {
	int fd;
	enum role role;
	uint8_t *buf; /* frames being read (R_HELLO, R_CONTROL) or relayed bytes */
	size_t len;
	bool eof; /* the host closed its side (stdin) */
};

/* One output stream of a process: pipe (or pty) -> buffer -> connection. */
struct out_stream {
	int pipe_fd; /* -1 once at EOF */
	int conn;    /* index in conns, -1 until attached */
	uint8_t buf[BUF_SIZE];
	size_t len;
	bool done; /* at EOF, or nobody to deliver to */
	bool shut; /* ... and the connection's write side shut */
};

#define MAX_PROCS 16

/* A process of the container: its own (exec_id "") or an exec'd one. */
struct proc {
	bool used;
	char exec_id[65];
	struct container_proc p; /* pid, stdio fds, status/start/error pipes */
	bool terminal;		 /* p.stdout_fd is a pty master; no stderr */
	bool started, exited;
	int status; /* the wait status */
	struct out_stream out[2];
	int stdin_conn;
	uint8_t in_buf[BUF_SIZE];
	size_t in_len;
	int waiter; /* control connection waiting for the exit, or -1 */
	json_int_t wait_id;
	bool release; /* answered and done with: to be freed */
};

static struct conn conns[MAX_CONNS];
static int nconns;

/* The one container (the host runs one per VM). */
static struct {
	bool exists;
	char id[65];
	json_t *create; /* the request it came from (owns the strings) */
	struct proto_create c;
	struct proc procs[MAX_PROCS]; /* [0]: the container's own process */
	/* In the VM's network namespace rather than one of its own: the
	 * host configured the network before create (vmm run --net). */
	bool vm_netns;
} ct;

/* A network request applied before create (the guest's, then: the
 * container shares it). */
static bool network_early;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vmm-agent: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* With vmm_agent_debug=1 on the command line: what the agent does, with
 * the time since boot, on the console (`vmm run --debug` shows it). */
static bool debug;

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	if (!debug)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vmm-agent: [%lld.%03ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- PID 1 setup ---- */

/* The kernel's initramfs root ("rootfs") cannot be pivoted away from,
 * and containers pivot_root: put a tmpfs over it as our root first. The
 * agent already runs, so nothing needs copying. */
static void leave_rootfs(void)
{
	if (mkdir("/newroot", 0755) || mount("tmpfs", "/newroot", "tmpfs", 0, "mode=0755") ||
	    chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		say("cannot leave the initramfs root: %s (containers cannot pivot_root)",
		    strerror(errno));
}

static void mount_basic(void)
{
	static const struct {
		const char *src, *dst, *type, *data;
		unsigned long flags;
	} m[] = {
		{"proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
		{"sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
		{"devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID},
		{"devpts", "/dev/pts", "devpts", "ptmxmode=0666,mode=0620", MS_NOSUID | MS_NOEXEC},
		{"shm", "/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
		{"run", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dst, 0755);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data) && errno != EBUSY)
			say("mount %s: %s", m[i].dst, strerror(errno));
	}
}

/* The boot-timer port, when the command line asks (vmm_boot_timer=1). */
static void mark_boot(void)
{
	char cmdline[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);
		cmdline[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	debug = strstr(cmdline, "vmm_agent_debug=1") != NULL;
	if (strstr(cmdline, "vmm_boot_timer=1") && ioperm(BOOT_TIMER_PORT, 1, 1) == 0)
		outb(BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
}

/* ---- connections ---- */

static int add_conn(int fd, enum role role)
{
	/* A closed slot first: connections come and go with every exec. */
	int i = 0;
	while (i < nconns && conns[i].fd >= 0)
		i++;
	if (i == MAX_CONNS) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	conns[i] = (struct conn){.fd = fd, .role = role, .buf = malloc(BUF_SIZE)};
	if (!conns[i].buf) {
		close(fd);
		conns[i].fd = -1;
		return -1;
	}
	if (i == nconns)
		nconns++;
	return i;
}

/* Writes all of msg, waiting for room: control messages are small. */
static int send_msg(int i, json_t *msg)
{
	uint8_t *buf;
	size_t len, off = 0;
	int r = msg && proto_encode(msg, &buf, &len) == 0 ? 0 : -1;
	json_decref(msg);
	while (r == 0 && off < len) {
		ssize_t w = write(conns[i].fd, buf + off, len - off);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {conns[i].fd, POLLOUT, 0};
			poll(&p, 1, -1);
		} else if (!(w < 0 && errno == EINTR)) {
			r = -1;
		}
	}
	if (msg && r == 0)
		free(buf);
	return r;
}

static int out_index(enum role r)
{
	return r == R_STDOUT ? 0 : 1;
}

static void close_conn(int i);

/* ---- processes ---- */

static bool same_container(const json_t *req)
{
	const char *c = json_string_value(json_object_get(req, "container"));
	return ct.exists && c && !strcmp(c, ct.id);
}

/* The process a request names: "exec_id" (absent or "": the container's
 * own). NULL if there is none. */
static struct proc *find_proc(const json_t *req)
{
	const char *e = json_string_value(json_object_get(req, "exec_id"));
	if (!same_container(req))
		return NULL;
	for (int i = 0; i < MAX_PROCS; i++)
		if (ct.procs[i].used && !strcmp(ct.procs[i].exec_id, e ? e : ""))
			return &ct.procs[i];
	return NULL;
}

/* Takes over a spawned process's fds: nonblocking, streams unattached. */
static void adopt(struct proc *pr, const char *exec_id, const struct container_proc *cp,
		  bool terminal)
{
	*pr = (struct proc){
		.used = true, .p = *cp, .terminal = terminal, .stdin_conn = -1, .waiter = -1};
	snprintf(pr->exec_id, sizeof(pr->exec_id), "%s", exec_id);
	for (int i = 0; i < 2; i++) {
		pr->out[i].pipe_fd = i == 0 ? cp->stdout_fd : cp->stderr_fd;
		pr->out[i].conn = -1;
		if (pr->out[i].pipe_fd >= 0)
			fcntl(pr->out[i].pipe_fd, F_SETFL, O_NONBLOCK);
		else
			pr->out[i].done = true; /* a terminal has one output */
	}
	if (!terminal)
		fcntl(cp->stdin_fd, F_SETFL, O_NONBLOCK);
}

static json_t *do_create(const json_t *req, json_int_t id)
{
	char err[512];
	if (ct.exists)
		return proto_error(id, "a container exists already");
	json_t *copy = json_deep_copy(req);
	if (!copy || proto_create_parse(copy, &ct.c, err, sizeof(err))) {
		json_decref(copy);
		return proto_error(id, "create: %s", copy ? err : "out of memory");
	}
	struct container_proc cp;
	/* A network the host set up before create is the VM's, so the
	 * container shares it. Otherwise it gets a namespace of its own with
	 * lo alone, as runc's container without a network has: the VM's
	 * NIC, when there is one, is not the container's unless a network
	 * request moves it there (vmm-runtime sends it after create, once
	 * the engine's hooks made the interface it mirrors). */
	bool vm_netns = network_early;
	trace("spawning the container (%s)", vm_netns ? "the VM's network" : "its own network");
	if (container_spawn(&ct.c, !vm_netns, &cp, err, sizeof(err))) {
		proto_process_free(&ct.c.process);
		json_decref(copy);
		return proto_error(id, "create: %s", err);
	}
	ct.exists = true;
	ct.vm_netns = vm_netns;
	ct.create = copy;
	snprintf(ct.id, sizeof(ct.id), "%s", ct.c.container);
	adopt(&ct.procs[0], "", &cp, ct.c.process.terminal);
	return proto_ok(id);
}

/* A start's or an exec's failure: "exit_code" when exec itself failed. */
static json_t *start_error(json_int_t id, const char *what, const char *err, int code)
{
	json_t *r = proto_error(id, "%s: %s", what, err);
	if (code)
		json_object_set_new(r, "exit_code", json_integer(code));
	return r;
}

static json_t *do_start(const json_t *req, json_int_t id)
{
	char err[512];
	if (!same_container(req))
		return proto_error(id, "start: no such container");
	struct proc *pr = &ct.procs[0];
	if (pr->started)
		return proto_error(id, "start: already started");
	int code;
	if (container_start(&pr->p, err, sizeof(err), &code))
		return start_error(id, "start", err, code);
	pr->started = true;
	return proto_ok(id);
}

static json_t *do_exec(const json_t *req, json_int_t id)
{
	char err[512];
	const char *eid = json_string_value(json_object_get(req, "exec_id"));
	if (!same_container(req))
		return proto_error(id, "exec: no such container");
	if (!eid || !proto_valid_id(eid))
		return proto_error(id, "exec: exec_id must be 1 to 64 of A-Z a-z 0-9 _ . -");
	if (find_proc(req))
		return proto_error(id, "exec: %s exists already", eid);
	struct proc *init = &ct.procs[0];
	if (!init->started || init->exited)
		return proto_error(id, "exec: the container is not running");
	struct proc *pr = NULL;
	for (int i = 1; i < MAX_PROCS && !pr; i++)
		if (!ct.procs[i].used)
			pr = &ct.procs[i];
	if (!pr)
		return proto_error(id, "exec: too many processes (%d)", MAX_PROCS);
	struct proto_process proc;
	if (proto_process_parse(json_object_get(req, "process"), &proc, err, sizeof(err)))
		return proto_error(id, "exec: %s", err);
	struct container_proc cp;
	int code;
	int rc = container_exec(init->p.pid, &proc, &cp, err, sizeof(err), &code);
	bool terminal = proc.terminal;
	proto_process_free(&proc);
	if (rc)
		return start_error(id, "exec", err, code);
	adopt(pr, eid, &cp, terminal);
	pr->started = true;
	return proto_ok(id);
}

static json_t *do_signal(const json_t *req, json_int_t id)
{
	const json_t *s = json_object_get(req, "signal");
	struct proc *pr = find_proc(req);
	if (!pr)
		return proto_error(id, "signal: no such container or process");
	if (!json_is_integer(s) || json_integer_value(s) < 1 || json_integer_value(s) > 64)
		return proto_error(id, "signal: signal must be a number from 1 to 64");
	/* The container's own: to its pid 1, which passes it on. */
	if (!pr->exited && kill(pr->p.pid, (int)json_integer_value(s)))
		return proto_error(id, "signal: %s", strerror(errno));
	return proto_ok(id);
}

static void close_stdin(struct proc *pr)
{
	if (pr->p.stdin_fd >= 0 && !pr->terminal)
		close(pr->p.stdin_fd);
	pr->p.stdin_fd = -1;
	pr->in_len = 0;
}

static json_t *do_close_stdin(const json_t *req, json_int_t id)
{
	struct proc *pr = find_proc(req);
	if (!pr)
		return proto_error(id, "close_stdin: no such container or process");
	close_stdin(pr);
	return proto_ok(id);
}

static json_t *do_resize(const json_t *req, json_int_t id)
{
	struct proc *pr = find_proc(req);
	const json_t *r = json_object_get(req, "rows"), *c = json_object_get(req, "cols");
	if (!pr || !pr->terminal || pr->p.stdout_fd < 0)
		return proto_error(id, "resize: no such process with a terminal");
	if (!json_is_integer(r) || !json_is_integer(c) || json_integer_value(r) < 1 ||
	    json_integer_value(r) > 65535 || json_integer_value(c) < 1 ||
	    json_integer_value(c) > 65535)
		return proto_error(id, "resize: rows and cols must be numbers from 1 to 65535");
	struct winsize ws = {.ws_row = (unsigned short)json_integer_value(r),
			     .ws_col = (unsigned short)json_integer_value(c)};
	if (ioctl(pr->p.stdout_fd, TIOCSWINSZ, &ws))
		return proto_error(id, "resize: %s", strerror(errno));
	return proto_ok(id);
}

/* The pids of the container's processes, as the container sees them. */
static json_t *do_list(const json_t *req, json_int_t id)
{
	if (!same_container(req) || !ct.procs[0].started)
		return proto_error(id, "list: no such running container");
	char path[300], ns[64], want[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)ct.procs[0].p.pid);
	ssize_t n = readlink(path, want, sizeof(want) - 1);
	if (n <= 0)
		return proto_error(id, "list: the container has ended");
	want[n] = '\0';
	json_t *pids = json_array();
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", e->d_name);
		n = readlink(path, ns, sizeof(ns) - 1);
		if (n <= 0)
			continue;
		ns[n] = '\0';
		if (strcmp(ns, want))
			continue;
		/* NSpid's last field: the pid inside the container. */
		char line[256];
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "NSpid:", 6)) {
				char *last = strrchr(line, '\t');
				json_array_append_new(
					pids, json_integer(atoi(last ? last + 1 : line + 6)));
			}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	json_t *r = proto_ok(id);
	json_object_set_new(r, "pids", pids);
	return r;
}

/* The interfaces, addresses and routes (netcfg.h). Before create they
 * are the VM's, which the container will share; after, they go into the
 * container's own network namespace (moved from the VM's). */
static json_t *do_network(const json_t *req, json_int_t id)
{
	char err[512];
	struct proto_network n;
	if (proto_network_parse(req, &n, err, sizeof(err)))
		return proto_error(id, "network: %s", err);
	trace("network: %d interfaces, %d routes, %s", n.nifaces, n.nroutes,
	      !ct.exists ? "before create" : "the container's");
	if (!ct.exists || ct.vm_netns) {
		if (netcfg_apply(&n, err, sizeof(err)))
			return proto_error(id, "network: %s", err);
		network_early |= !ct.exists;
		return proto_ok(id);
	}
	/* Its pid 1's namespace; once reaped, the pid may be another's. */
	if (ct.procs[0].exited)
		return proto_error(id, "network: the container has ended");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ct.procs[0].p.pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return proto_error(id, "network: the container's network namespace: %s",
				   strerror(errno));
	int rc = netcfg_apply_in(&n, ns, err, sizeof(err));
	close(ns);
	return rc ? proto_error(id, "network: %s", err) : proto_ok(id);
}

/* The wait answer, once the process has exited and its output is out. */
static void answer_wait(struct proc *pr)
{
	if (pr->waiter < 0 || !pr->exited || !pr->out[0].done || !pr->out[1].done)
		return;
	json_t *r = proto_ok(pr->wait_id);
	if (WIFSIGNALED(pr->status))
		json_object_set_new(r, "signal", json_integer(WTERMSIG(pr->status)));
	else
		json_object_set_new(r, "exit_code", json_integer(WEXITSTATUS(pr->status)));
	send_msg(pr->waiter, r);
	pr->waiter = -1;
	/* An exec'd process is done with: the main loop frees it (not here:
	 * a relay may still be looking at it). The container's own stays;
	 * the VM ends with it. */
	pr->release = pr != &ct.procs[0];
}

/* Frees an exec'd process's slot, its streams and fds. */
static void release_proc(struct proc *pr)
{
	int conn[3] = {pr->stdin_conn, pr->out[0].conn, pr->out[1].conn};
	for (int k = 0; k < 3; k++)
		if (conn[k] >= 0)
			close_conn(conn[k]);
	int fds[3] = {pr->p.stdin_fd, pr->out[0].pipe_fd, pr->out[1].pipe_fd};
	for (int k = 0; k < 3; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	pr->used = false;
}

static void handle_request(int i, json_t *req)
{
	const char *type = json_string_value(json_object_get(req, "type"));
	trace("request %s", type);
	const json_t *idj = json_object_get(req, "id");
	json_int_t id = json_is_integer(idj) ? json_integer_value(idj) : 0;
	json_t *r;
	if (!json_is_integer(idj) || id < 1)
		r = proto_error(0, "%s: a request needs an integer id from 1", type);
	else if (!strcmp(type, "create"))
		r = do_create(req, id);
	else if (!strcmp(type, "start"))
		r = do_start(req, id);
	else if (!strcmp(type, "exec"))
		r = do_exec(req, id);
	else if (!strcmp(type, "signal"))
		r = do_signal(req, id);
	else if (!strcmp(type, "close_stdin"))
		r = do_close_stdin(req, id);
	else if (!strcmp(type, "resize"))
		r = do_resize(req, id);
	else if (!strcmp(type, "list"))
		r = do_list(req, id);
	else if (!strcmp(type, "network"))
		r = do_network(req, id);
	else if (!strcmp(type, "wait")) {
		struct proc *pr = find_proc(req);
		if (!pr) {
			r = proto_error(id, "wait: no such container or process");
		} else {
			pr->waiter = i;
			pr->wait_id = id;
			answer_wait(pr);
			return;
		}
	} else if (!strcmp(type, "shutdown")) {
		send_msg(i, proto_ok(id));
		sync();
		reboot(LINUX_REBOOT_CMD_RESTART); /* the VMM ends on the reset */
		_exit(1);
	} else
		r = proto_error(id, "unknown request type '%s'", type);
	send_msg(i, r);
	trace("answered %s", type);
}

/* A stream connection's hello: attach it to a process's stdio. */
static json_t *attach(int i, const json_t *hello)
{
	const char *role = json_string_value(json_object_get(hello, "role"));
	struct proc *pr = find_proc(hello);
	if (!pr)
		return proto_error(0, "hello: no such container or process");
	if (!strcmp(role, "stdin")) {
		if (pr->stdin_conn >= 0)
			return proto_error(0, "hello: stdin is attached already");
		conns[i].role = R_STDIN;
		pr->stdin_conn = i;
	} else {
		enum role r = strcmp(role, "stdout") ? R_STDERR : R_STDOUT;
		struct out_stream *o = &pr->out[out_index(r)];
		if (o->conn >= 0 || (o->done && o->pipe_fd >= 0))
			return proto_error(0, "hello: %s is attached already", role);
		conns[i].role = r;
		o->conn = i;
	}
	conns[i].len = 0;
	return json_pack("{s:s, s:i}", "type", "hello", "version", PROTO_VERSION);
}

static void handle_hello(int i, json_t *msg)
{
	const char *role = json_string_value(json_object_get(msg, "role"));
	char err[256];
	json_t *r;
	trace("hello (%s)", role ? role : "control");
	if (proto_check_hello(msg, err, sizeof(err)))
		r = proto_error(0, "%s", err);
	else if (!role || !strcmp(role, "control")) {
		conns[i].role = R_CONTROL;
		r = json_pack("{s:s, s:i}", "type", "hello", "version", PROTO_VERSION);
	} else if (!strcmp(role, "stdin") || !strcmp(role, "stdout") || !strcmp(role, "stderr"))
		r = attach(i, msg);
	else
		r = proto_error(0, "unknown role '%s'", role);
	send_msg(i, r);
}

/* Reads frames from a hello or control connection. Returns -1 to drop it. */
static int read_frames(int i)
{
	struct conn *c = &conns[i];
	ssize_t n = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	c->len += (size_t)n;
	for (;;) {
		const uint8_t *body;
		long len = proto_frame(c->buf, c->len, &body);
		if (len == 0 && c->len == BUF_SIZE)
			len = -1; /* bigger than we take on a connection */
		if (len < 0) {
			send_msg(i, proto_error(0, "bad frame"));
			return -1;
		}
		if (len == 0)
			return 0;
		char err[256];
		json_t *m = proto_decode(body, (size_t)len, err, sizeof(err));
		size_t used = (size_t)len + 4;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (!m) {
			send_msg(i, proto_error(0, "%s", err));
			return -1;
		}
		enum role before = c->role;
		if (before == R_HELLO)
			handle_hello(i, m);
		else
			handle_request(i, m);
		json_decref(m);
		if (conns[i].role != R_CONTROL && conns[i].role != R_HELLO)
			return 0; /* now a stream: what follows is raw bytes */
		if (before == R_HELLO && conns[i].role == R_HELLO)
			return -1; /* a refused hello */
	}
}

static void close_conn(int i)
{
	if (conns[i].fd < 0)
		return;
	trace("close connection %d", i);
	close(conns[i].fd);
	conns[i].fd = -1;
	free(conns[i].buf);
	conns[i].buf = NULL;
	for (int k = 0; k < MAX_PROCS; k++) {
		struct proc *pr = &ct.procs[k];
		if (!pr->used)
			continue;
		if (pr->waiter == i)
			pr->waiter = -1;
		if (pr->stdin_conn == i)
			pr->stdin_conn = -1;
		for (int o = 0; o < 2; o++)
			if (pr->out[o].conn == i) {
				pr->out[o].conn = -1;
				pr->out[o].done = true; /* nobody to deliver to any more */
			}
	}
}

/* ---- stream relays ---- */

static void relay_stdin(struct proc *pr)
{
	int i = pr->stdin_conn;
	if (i < 0 || pr->p.stdin_fd < 0)
		return;
	if (!conns[i].eof && pr->in_len < BUF_SIZE) {
		ssize_t n = read(conns[i].fd, pr->in_buf + pr->in_len, BUF_SIZE - pr->in_len);
		if (n > 0)
			pr->in_len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conns[i].eof = true;
	}
	if (pr->in_len) {
		ssize_t w = write(pr->p.stdin_fd, pr->in_buf, pr->in_len);
		if (w > 0) {
			memmove(pr->in_buf, pr->in_buf + w, pr->in_len - (size_t)w);
			pr->in_len -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			close_stdin(pr); /* the process closed its stdin */
		}
	}
	/* A terminal has no stdin of its own to close: EOF is ^D's business. */
	if (conns[i].eof && pr->in_len == 0 && !pr->terminal)
		close_stdin(pr);
}

static void relay_out(struct proc *pr, struct out_stream *o)
{
	if (o->conn < 0 || o->shut)
		return;
	if (!o->done && o->pipe_fd >= 0 && o->len < BUF_SIZE) {
		ssize_t n = read(o->pipe_fd, o->buf + o->len, BUF_SIZE - o->len);
		if (n > 0) {
			o->len += (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* EOF, or EIO from a pty whose other side is all closed */
			close(o->pipe_fd);
			o->pipe_fd = -1;
		}
	}
	if (o->len) {
		ssize_t w = write(conns[o->conn].fd, o->buf, o->len);
		if (w > 0) {
			memmove(o->buf, o->buf + w, o->len - (size_t)w);
			o->len -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			o->len = 0; /* the host went away: drop the rest */
			if (o->pipe_fd >= 0)
				close(o->pipe_fd);
			o->pipe_fd = -1;
		}
	}
	if (o->pipe_fd < 0 && o->len == 0)
		o->done = true;
	if (o->done) {
		/* Everything out: the host sees EOF after the last byte. */
		shutdown(conns[o->conn].fd, SHUT_WR);
		o->shut = true;
		answer_wait(pr);
	}
}

/* ---- children ---- */

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct proc *pr = NULL;
		for (int k = 0; k < MAX_PROCS && !pr; k++)
			if (ct.procs[k].used && ct.procs[k].p.pid == pid)
				pr = &ct.procs[k];
		if (!pr)
			continue; /* an orphan: reaped, that is all */
		/* The container's pid 1 reports its process's own status. */
		int st;
		if (pr->p.status_fd >= 0 && read(pr->p.status_fd, &st, sizeof(st)) == sizeof(st))
			status = st;
		pr->status = status;
		pr->exited = true;
		answer_wait(pr);
	}
}

static void connect_host(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = PROTO_AGENT_PORT};
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		add_conn(fd, R_HELLO);
		return;
	}
	/* Nobody on the host asked for us: serve whoever connects. */
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	if (getpid() != 1)
		say("not PID 1: running anyway");
	else
		leave_rootfs();
	mount_basic();
	mark_boot();
	char lo_err[128];
	if (netcfg_loopback_up(lo_err, sizeof(lo_err)))
		say("%s", lo_err);
	signal(SIGPIPE, SIG_IGN);
	/* jansson seeds its hash tables from /dev/urandom on first use, which
	 * can wait seconds for the guest's CRNG: seed it ourselves. */
	uint32_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
	}
	json_object_seed(seed ? seed : 1);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = PROTO_AGENT_PORT};
	if (sfd < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16)) {
		say("cannot listen on vsock port %d: %s", PROTO_AGENT_PORT, strerror(errno));
		for (;;)
			pause(); /* PID 1 must not exit: the host sees no agent */
	}
	trace("ready, connecting to the host");
	connect_host();
	trace("connected");
	for (;;) {
		struct pollfd p[2 + MAX_CONNS + 3 * MAX_PROCS];
		int n = 0;
		p[n++] = (struct pollfd){sfd, POLLIN, 0};
		p[n++] = (struct pollfd){lfd, POLLIN, 0};
		for (int i = 0; i < nconns; i++) {
			short ev = 0;
			if (conns[i].role == R_HELLO || conns[i].role == R_CONTROL ||
			    (conns[i].role == R_STDIN && !conns[i].eof))
				ev = POLLIN;
			p[n++] = (struct pollfd){ev ? conns[i].fd : -1, ev, 0};
		}
		for (int k = 0; k < MAX_PROCS; k++) {
			struct proc *pr = &ct.procs[k];
			for (int o = 0; o < 2; o++) {
				struct out_stream *os = &pr->out[o];
				bool attached = pr->used && os->conn >= 0 && !os->shut;
				/* Data waiting: room on the connection; else the pipe. */
				if (attached && os->len)
					p[n++] = (struct pollfd){conns[os->conn].fd, POLLOUT, 0};
				else if (attached && os->pipe_fd >= 0)
					p[n++] = (struct pollfd){os->pipe_fd, POLLIN, 0};
				else
					p[n++] = (struct pollfd){-1, 0, 0};
			}
			p[n++] = (struct pollfd){pr->used && pr->in_len ? pr->p.stdin_fd : -1,
						 POLLOUT, 0};
		}
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			say("poll: %s", strerror(errno));
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			reap();
		}
		/* Connections polled this round: an accept below adds one. */
		int polled = nconns;
		if (p[1].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			trace("accept: fd %d", fd);
			if (fd >= 0)
				add_conn(fd, R_HELLO);
		}
		for (int i = 0; i < polled; i++) {
			if (!p[i + 2].revents || conns[i].fd < 0)
				continue;
			if ((conns[i].role == R_HELLO || conns[i].role == R_CONTROL) &&
			    read_frames(i) < 0)
				close_conn(i);
		}
		/* Relays are cheap to try: every fd is nonblocking. */
		for (int k = 0; k < MAX_PROCS; k++) {
			struct proc *pr = &ct.procs[k];
			if (!pr->used)
				continue;
			relay_stdin(pr);
			relay_out(pr, &pr->out[0]);
			relay_out(pr, &pr->out[1]);
			if (pr->release)
				release_proc(pr);
		}
	}
}
