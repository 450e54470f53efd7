/*
 * cmd_run: `vmm run --rootfs DIR -- CMD [ARG...]`: runs one command in a
 * container in a fresh microVM and exits with its status.
 *
 * The VM boots the guest kernel with the agent's initramfs, a vsock
 * device and the rootfs: an image from the store as its ext4 image on
 * virtio-blk (shared read-only, an overlay in the guest), a directory as
 * a virtio-fs share; each -v volume is one more share. A
 * client thread talks to the agent (agent_client.h): create, the three
 * stdio streams, start, wait; it relays this process's stdin, stdout and
 * stderr, and passes SIGTERM/SIGINT/SIGHUP on to the container. When the
 * process has exited and all its output is out, it asks the agent to shut
 * the VM down. The serial console goes to a log, shown if the VM fails.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "commands.h"
#include "console.h"
#include "errf.h"
#include "image.h"
#include "launch.h"
#include "parse.h"
#include "proto.h"
#include "run_net.h"
#include "runspec.h"
#include "sandbox.h"
#include "selfmem.h"
#include "session.h"
#include "state.h"

#define DEFAULT_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXIT_RUN_ERROR	125 /* as docker run: the run itself failed */
#define EXIT_VM_LOST	255 /* the VM went away under the running container (as Kata) */
/* -v volumes: virtio-fs shares next to the rootfs's, one slot left for
 * a network device (VM_VIRTIO_SLOTS: the disk or rootfs share, vsock,
 * volumes, net). */
#define RUN_MAX_VOLUMES (FS_MAX - 1)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmm run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
		"       vmm run --rootfs DIR [OPTIONS] -- COMMAND [ARG...]\n"
		"Run a command in a container in a new microVM; exits with its status.\n"
		"\n"
		"IMAGE is a name[:tag] or id in the store (vmm images), an OCI image layout\n"
		"directory, a docker save or OCI archive (loaded into the store first), or\n"
		"a plain root file system directory or tar. The image's Entrypoint, Cmd,\n"
		"Env, WorkingDir and User apply as in docker run.\n"
		"\n"
		"  -r, --rootfs DIR       a root file system directory instead of an image\n"
		"                         (stdin is always attached then)\n"
		"  -i, --interactive      attach stdin (IMAGE form)\n"
		"  -v, --volume HOSTPATH:CTRPATH[:ro]  share a host directory or file\n"
		"                         with the container at CTRPATH (repeatable)\n"
		"  -e, --env KEY=VALUE    set an environment variable (repeatable)\n"
		"      --env-file FILE    KEY=VALUE lines\n"
		"  -w, --workdir DIR      working directory in the container\n"
		"  -u, --user USER[:GROUP] user and group, names or ids (default: the image's)\n"
		"      --entrypoint CMD   replace the image's Entrypoint (\"\" clears it)\n"
		"      --hostname NAME    the container's hostname (default: its id)\n"
		"      --name NAME        the container's id (default: 12 random hex digits)\n"
		"      --read-only        mount the container's root file system read-only\n"
		"      --rm               -d: remove its state when it ends (else a no-op)\n"
		"      --ulimit NAME=SOFT[:HARD]  a resource limit, e.g. nofile=1024:2048\n"
		"  -p, --cpus N           vCPUs (default 1)\n"
		"  -m, --memory SIZE      guest memory (default 256M; at most the host's RAM)\n"
		"      --kernel PATH      guest kernel (default: guest/bzImage next to vmm)\n"
		"      --initrd PATH      agent initramfs (default: "
		"guest/agent-initramfs.cpio.gz)\n"
		"      --net none|tap=NAME[,mac=MAC][,ip=CIDR][,ip6=CIDR][,gw=ADDR][,gw6=ADDR]"
		"[,mtu=N]\n"
		"                         eth0 on tap NAME (attached, or created for the run)\n"
		"                         with these addresses, default routes and MTU (the\n"
		"                         tap's by default); none (default): loopback only\n"
		"      --boot-timer       report the guest's boot-timer write and, at the end,\n"
		"                         the run's timeline on stderr\n"
		"      --boot-timeout DURATION  stop the VM if its agent has not connected\n"
		"                         within DURATION (N seconds, or Ns, Nm, Nh; default\n"
		"                         %ds)\n"
		"      --exit-stats       print VM exits by reason, the busiest I/O ports and\n"
		"                         vmm's memory and CPU time at the end\n"
		"      --no-seccomp       no system call filters (debugging)\n"
		"  -h, --help             show this help\n"
		"\n"
		"stdout and stderr are the container process's. SIGTERM, SIGINT and SIGHUP\n"
		"are passed on to it. Exit status: the command's, 128+N if signal N ended\n"
		"it, 127 if it does not exist, 126 if it cannot be run, 125 if the run\n"
		"itself failed, 255 if the VM stopped under the running container, 2 on\n"
		"a usage error.\n",
		AGENT_BOOT_TIMEOUT);
}

struct run {
	struct agent_client agent;
	struct session session; /* the container's own process */
	struct vm *vm;
	struct proto_create create;
	const struct proto_network *network; /* --net: sent before create */
	int sig_pipe[2];		     /* signals from the loop thread to the client */
	pthread_t thread;
	bool thread_started;
	int ready_fd;	  /* -d: tells the caller the container started (or not) */
	int ready_status; /* the caller's exit status, as it learnt it */
	bool started;	  /* the container's process was started */
};

static void on_signal(void *opaque, int signo)
{
	struct run *r = opaque;
	unsigned char s = (unsigned char)signo;
	(void)!write(r->sig_pipe[1], &s, 1); /* nonblocking: a full pipe drops it */
}

/* -d: one byte to the waiting caller (0: started, else its exit status),
 * then why; once. */
static void tell_caller(struct run *r, unsigned char code, const char *why)
{
	if (r->ready_fd < 0)
		return;
	(void)!write(r->ready_fd, &code, 1);
	if (why)
		(void)!write(r->ready_fd, why, strlen(why));
	close(r->ready_fd);
	r->ready_fd = -1;
}

/* The client thread: create, the streams, start, relay, shut down. */
static void *client(void *opaque)
{
	struct run *r = opaque;
	struct session *s = &r->session;
	char e[256];
	int err = sandbox_confine(SANDBOX_CLIENT);
	if (err) {
		snprintf(e, sizeof(e), "seccomp: %s (--no-seccomp runs without)", strerror(-err));
		vm_stop(r->vm, VM_EXIT_ERROR, e);
		return NULL;
	}
	if (agent_accept(&r->agent, s->err, sizeof(s->err)))
		return NULL;
	r->vm->t.agent = vm_clock_ns();
	sandbox_test_hook(SANDBOX_CLIENT);
	const char *id = r->create.container;
	if ((!r->network || !session_failed(s, agent_call(&r->agent, proto_network_json(r->network),
							  s->err, sizeof(s->err)))) &&
	    !session_failed(s, agent_call(&r->agent, proto_create_json(&r->create), s->err,
					  sizeof(s->err))) &&
	    session_open(s) == 0 &&
	    !session_failed(s, agent_call(&r->agent,
					  json_pack("{s:s, s:s}", "type", "start", "container", id),
					  s->err, sizeof(s->err)))) {
		r->vm->t.started = vm_clock_ns();
		r->started = true;
		tell_caller(r, 0, NULL);
		session_run(s);
		r->vm->t.exited = s->exited_ns;
	}
	session_close(s);
	/* Whatever happened, the VM's work is done. */
	agent_send(&r->agent, json_pack("{s:s}", "type", "shutdown"), e, sizeof(e));
	return NULL;
}

/* -d: the caller waits here until the container has started and exits
 * with what it hears (returns true in it); the child goes on as a daemon
 * (a session of its own, stdin /dev/null, stdout and stderr to
 * output.log) and returns false. */
static bool daemonize(struct run *r, const char *state, const char *id, const char *image,
		      const struct run_spec *spec)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC)) {
		fprintf(stderr, "vmm run: %s\n", strerror(errno));
		r->ready_status = EXIT_RUN_ERROR;
		return true;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0 || pid > 0) {
		close(ready[1]);
		unsigned char code = EXIT_RUN_ERROR;
		char why[512] = "";
		ssize_t n = pid > 0 ? read(ready[0], &code, 1) : -1;
		if (n == 1) {
			n = read(ready[0], why, sizeof(why) - 1);
			why[n > 0 ? n : 0] = '\0';
		}
		if (n >= 0 && code == 0) {
			printf("%s\n", id);
		} else {
			fprintf(stderr, "vmm run: %s\n",
				why[0] ? why : "the container did not start; see its output.log");
		}
		r->ready_status = code;
		fflush(stdout);
		return true;
	}
	close(ready[0]);
	r->ready_fd = ready[1];
	setsid();
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/output.log", state);
	int out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (out >= 0 && null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	}
	if (out >= 0)
		close(out);
	if (null >= 0)
		close(null);
	json_t *args = json_array(), *env = json_array();
	for (char **a = spec->args; a && *a; a++)
		json_array_append_new(args, json_string(*a));
	for (char **e = spec->env; e && *e; e++)
		json_array_append_new(env, json_string(*e));
	json_t *j = json_pack("{s:s, s:i, s:s, s:o, s:o, s:s, s:I, s:I, s:I}", "id", id, "pid",
			      (int)getpid(), "image", image, "command", args, "env", env, "cwd",
			      spec->cwd, "uid", (json_int_t)spec->uid, "gid", (json_int_t)spec->gid,
			      "created", (json_int_t)time(NULL));
	if (!j || state_write(state, j)) {
		tell_caller(r, EXIT_RUN_ERROR, "cannot write the container's state");
		_exit(EXIT_RUN_ERROR);
	}
	json_decref(j);
	return false;
}

/* -d, at the end: the caller hears of a failure to start if it has not
 * heard yet; the exit status is kept for ps; --rm takes it all away. */
static void finish_detached(struct run *r, const char *state, int status, bool remove)
{
	struct session *s = &r->session;
	if (r->ready_fd >= 0)
		tell_caller(r, (unsigned char)(s->exit_code ? s->exit_code : EXIT_RUN_ERROR),
			    s->err[0] ? s->err : "the VM stopped before the container ran");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/exit", state);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", status);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/vsock", state);
	unlink(path);
	if (remove)
		state_remove(state);
}

static int before_run(struct vm *vm, void *opaque)
{
	struct run *r = opaque;
	r->vm = vm;
	if (pthread_create(&r->thread, NULL, client, r)) {
		fprintf(stderr, "vmm run: cannot start a thread\n");
		return -1;
	}
	r->thread_started = true;
	return 0;
}

/* dir/name of the directory vmm lives in (build/ or an install prefix). */
static void beside_vmm(char *out, size_t len, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s/%s", n > 0 ? dirname(exe) : ".", name);
}

/* The end of the guest's console, indented, after a failure's reason. */
static void show_console(const char *path)
{
	static char tail[4096];
	console_log_tail(path, tail, sizeof(tail));
	if (!tail[0])
		return;
	fprintf(stderr, "vmm run: the guest's console said:\n");
	for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  %s\n", line);
}

/* --ulimit NAME=SOFT[:HARD], docker's spelling: nofile=1024:2048. */
static int parse_ulimit(const char *arg, struct proto_rlimit *out)
{
	char name[32] = "RLIMIT_";
	size_t n = strcspn(arg, "=");
	if (!arg[n] || n == 0 || n > sizeof(name) - 8)
		return -1;
	for (size_t i = 0; i < n; i++)
		name[7 + i] = (char)toupper((unsigned char)arg[i]);
	name[7 + n] = '\0';
	int res = proto_rlimit_resource(name);
	char *end;
	errno = 0;
	unsigned long long soft = strtoull(arg + n + 1, &end, 10), hard = soft;
	if (res < 0 || end == arg + n + 1 || errno || (*end && *end != ':'))
		return -1;
	if (*end == ':') {
		const char *h = end + 1;
		hard = strtoull(h, &end, 10);
		if (end == h || *end || errno)
			return -1;
	}
	if (soft > hard)
		return -1;
	*out = (struct proto_rlimit){res, soft, hard};
	return 0;
}

/* -v HOSTPATH:CTRPATH[:ro|rw]: a virtio-fs share of HOSTPATH (its parent
 * directory for a file) bound at CTRPATH. */
struct volume {
	char spec[2 * PATH_MAX];
	const char *host, *ctr;
	bool ro;
	char tag[16];	       /* vol0, vol1, ... */
	char dir[PATH_MAX];    /* the shared directory */
	char source[16 + 256]; /* TAG or TAG/NAME for a file */
};

/* An absolute path without "." or ".." components, as the agent takes
 * mount destinations. */
static bool clean_abs_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; *c;) {
		c += strspn(c, "/");
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return false;
		c += n;
	}
	return true;
}

/* Splits the spec (docker's spelling; HOSTPATH may hold ':'). Returns 0
 * or -1 if it is malformed. */
static int parse_volume(const char *arg, struct volume *v)
{
	if (strlen(arg) >= sizeof(v->spec))
		return -1;
	snprintf(v->spec, sizeof(v->spec), "%s", arg);
	size_t n = strlen(v->spec);
	if (n > 3 && (!strcmp(v->spec + n - 3, ":ro") || !strcmp(v->spec + n - 3, ":rw"))) {
		v->ro = v->spec[n - 1] == 'o';
		v->spec[n - 3] = '\0';
	}
	char *colon = strrchr(v->spec, ':');
	if (!colon || colon == v->spec)
		return -1;
	*colon = '\0';
	v->host = v->spec;
	v->ctr = colon + 1;
	return clean_abs_path(v->ctr) ? 0 : -1;
}

/* The host side of a volume: HOSTPATH must exist; a file is shared as
 * its directory and bound alone. Returns 0, or -1 with err. */
static int open_volume(struct volume *v, int i, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	struct stat st;
	if (!realpath(v->host, abs) || stat(abs, &st))
		return errf(err, errlen, "-v %s: %s", v->host, strerror(errno));
	snprintf(v->tag, sizeof(v->tag), "vol%d", i);
	if (S_ISDIR(st.st_mode)) {
		snprintf(v->dir, sizeof(v->dir), "%s", abs);
		snprintf(v->source, sizeof(v->source), "%s", v->tag);
		return 0;
	}
	char *slash = strrchr(abs, '/');
	if (!slash[1] || strlen(slash + 1) > 255)
		return errf(err, errlen, "-v %s: not a file or directory", v->host);
	snprintf(v->source, sizeof(v->source), "%s/%s", v->tag, slash + 1);
	*slash = '\0';
	snprintf(v->dir, sizeof(v->dir), "%s", abs[0] ? abs : "/");
	return 0;
}

/* --env-file: KEY=VALUE lines (blank lines and # comments skipped). */
static int read_env_file(const char *path, char **env, int *nenv, int max)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmm run: --env-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!strchr(line, '=') || line[0] == '=' || *nenv >= max ||
		    !(env[*nenv] = strdup(line))) {
			fprintf(stderr, "vmm run: --env-file %s: '%s' is not KEY=VALUE\n", path,
				line);
			fclose(f);
			return -1;
		}
		(*nenv)++;
	}
	fclose(f);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rootfs", required_argument, NULL, 'r'},
		{"volume", required_argument, NULL, 'v'},
		{"env", required_argument, NULL, 'e'},
		{"env-file", required_argument, NULL, 'E'},
		{"workdir", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"entrypoint", required_argument, NULL, 'P'},
		{"hostname", required_argument, NULL, 'H'},
		{"name", required_argument, NULL, 'N'},
		{"interactive", no_argument, NULL, 'i'},
		{"tty", no_argument, NULL, 't'},
		{"rm", no_argument, NULL, 'R'},
		{"detach", no_argument, NULL, 'd'},
		{"ulimit", required_argument, NULL, 'L'},
		{"read-only", no_argument, NULL, 'O'},
		{"cpus", required_argument, NULL, 'p'},
		{"memory", required_argument, NULL, 'm'},
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'I'},
		{"boot-timer", no_argument, NULL, 'T'},
		{"boot-timeout", required_argument, NULL, 'B'},
		{"exit-stats", no_argument, NULL, 'X'},
		{"debug", no_argument, NULL, 'D'},
		{"no-seccomp", no_argument, NULL, 'S'},
		{"net", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *rootfs = NULL, *hostname = NULL, *name = NULL;
	static char kernel[PATH_MAX], initrd[PATH_MAX];
	beside_vmm(kernel, sizeof(kernel), "guest/bzImage");
	beside_vmm(initrd, sizeof(initrd), "guest/agent-initramfs.cpio.gz");
	static char *env[PROTO_MAX_ARGS];
	struct run_opts ro = {.env = env};
	uint64_t mem = 256ULL << 20;
	long ncpus = 1;
	unsigned boot_timeout = AGENT_BOOT_TIMEOUT;
	bool boot_timer = false, interactive = false, read_only = false, debug = false, tty = false;
	bool detach = false, remove = false, exit_stats = false;
	static struct proto_rlimit rlimits[PROTO_MAX_RLIMITS];
	int nrlimits = 0;
	static struct run_net net;
	run_net_parse("none", &net, NULL, 0);
	static struct volume vols[RUN_MAX_VOLUMES];
	int nvols = 0;
	/* The device tables (selfmem.h says why not static); for the
	 * process's life. */
	struct disk *disk = selfmem_zalloc(sizeof(*disk));
	struct fs *fss = selfmem_zalloc(sizeof(*fss) * FS_MAX);
	if (!disk || !fss) {
		perror("vmm run: device tables");
		return EXIT_RUN_ERROR;
	}
	disk->fd = disk->file = disk->kick_fd = disk->irq_fd = -1;
	int c;
	while ((c = getopt_long(argc, argv, "+r:v:e:w:u:p:m:itdh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rootfs = optarg;
			break;
		case 'v':
			if (nvols == RUN_MAX_VOLUMES) {
				fprintf(stderr, "vmm run: -v: at most %d volumes\n",
					RUN_MAX_VOLUMES);
				return 2;
			}
			if (parse_volume(optarg, &vols[nvols])) {
				fprintf(stderr,
					"vmm run: -v: '%s' is not HOSTPATH:CTRPATH[:ro] (CTRPATH "
					"absolute, without . or ..)\n",
					optarg);
				return 2;
			}
			nvols++;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=' || ro.nenv >= PROTO_MAX_ARGS) {
				fprintf(stderr, "vmm run: --env: '%s' is not KEY=VALUE\n", optarg);
				return 2;
			}
			env[ro.nenv++] = optarg;
			break;
		case 'E':
			if (read_env_file(optarg, env, &ro.nenv, PROTO_MAX_ARGS))
				return 2;
			break;
		case 'w':
			if (optarg[0] != '/') {
				fprintf(stderr, "vmm run: --workdir: '%s' is not absolute\n",
					optarg);
				return 2;
			}
			ro.workdir = optarg;
			break;
		case 'u':
			ro.user = optarg;
			break;
		case 'P':
			ro.entrypoint = optarg;
			break;
		case 'H':
			hostname = optarg;
			break;
		case 'N':
			if (!proto_valid_id(optarg)) {
				fprintf(stderr,
					"vmm run: --name: '%s' is not 1 to 64 of A-Z a-z 0-9 _ . "
					"-\n",
					optarg);
				return 2;
			}
			name = optarg;
			break;
		case 'i':
			interactive = true;
			break;
		case 't':
			tty = true;
			break;
		case 'R':
			remove = true; /* -d: its state goes at the end too */
			break;
		case 'd':
			detach = true;
			break;
		case 'L':
			if (nrlimits == PROTO_MAX_RLIMITS ||
			    parse_ulimit(optarg, &rlimits[nrlimits])) {
				fprintf(stderr,
					"vmm run: --ulimit: '%s' is not NAME=SOFT[:HARD] "
					"(nofile=1024:2048)\n",
					optarg);
				return 2;
			}
			nrlimits++;
			break;
		case 'O':
			read_only = true;
			break;
		case 'p':
			if (parse_int_range(optarg, 1, VM_MAX_CPUS, &ncpus)) {
				fprintf(stderr,
					"vmm run: --cpus: '%s' is not a number from 1 to %d\n",
					optarg, VM_MAX_CPUS);
				return 2;
			}
			break;
		case 'm': {
			char why[256];
			if (parse_mem_size(optarg, &mem) || mem < (64ULL << 20) || mem % 4096) {
				fprintf(stderr,
					"vmm run: --memory: '%s' is not a size of at least 64M\n",
					optarg);
				return 2;
			}
			if (launch_mem_fits_host("--memory", optarg, mem, why, sizeof(why))) {
				fprintf(stderr, "vmm run: %s\n", why);
				return 2;
			}
			break;
		}
		case 'k':
			snprintf(kernel, sizeof(kernel), "%s", optarg);
			break;
		case 'I':
			snprintf(initrd, sizeof(initrd), "%s", optarg);
			break;
		case 'T':
			boot_timer = true;
			break;
		case 'B':
			if (parse_duration(optarg, VM_MAX_BOOT_TIMEOUT, &boot_timeout)) {
				fprintf(stderr,
					"vmm run: --boot-timeout: '%s' is not a duration from 1 s "
					"to 24h (N, Ns, Nm or Nh)\n",
					optarg);
				return 2;
			}
			break;
		case 'X':
			exit_stats = true;
			break;
		case 'D':
			debug = true;
			break;
		case 'S':
			sandbox_disable();
			break;
		case 'n': {
			/* 125 as docker run has it for a bad network. */
			char why[256];
			if (run_net_parse(optarg, &net, why, sizeof(why))) {
				fprintf(stderr, "vmm run: --net: %s\n", why);
				return EXIT_RUN_ERROR;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'vmm run --help'.\n");
			return 2;
		}
	}
	/* --rootfs DIR -- CMD...: stdin always attached; IMAGE [CMD...]:
	 * as docker run, stdin only with -i. */
	const char *ref = NULL;
	if (rootfs) {
		interactive = !detach;
	} else if (optind < argc) {
		ref = argv[optind++];
	} else {
		fprintf(stderr, "vmm run: no image given\nTry 'vmm run --help'.\n");
		return 2;
	}
	if (detach && (interactive || tty)) {
		fprintf(stderr, "vmm run: -d does not go with -i or -t\n");
		return 2;
	}
	ro.tty = tty;
	ro.cmd = argv + optind;
	ro.ncmd = argc - optind;
	if (rootfs && ro.ncmd == 0) {
		fprintf(stderr, "vmm run: no command to run\nTry 'vmm run --help'.\n");
		return 2;
	}

	/* The container's id and default hostname: --name, or 12 random hex
	 * digits. */
	static char id[65];
	unsigned char rnd[6] = {0};
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memcpy(rnd, &(pid_t){getpid()}, sizeof(pid_t));
	for (int i = 0; i < 6; i++)
		sprintf(id + 2 * i, "%02x", rnd[i]);
	if (name)
		snprintf(id, sizeof(id), "%s", name);
	ro.hostname = hostname ? hostname : id;

	static struct image img;
	struct image_store store;
	char err[512];
	/* Volumes first: a missing HOSTPATH is the user's to fix before
	 * anything is resolved or made. */
	for (int i = 0; i < nvols; i++)
		if (open_volume(&vols[i], i, err, sizeof(err))) {
			fprintf(stderr, "vmm run: %s\n", err);
			return EXIT_RUN_ERROR;
		}
	if (rootfs) {
		snprintf(img.rootfs, sizeof(img.rootfs), "%s", rootfs);
	} else if (store_open(&store, err, sizeof(err)) ||
		   image_resolve(&store, ref, &img, err, sizeof(err))) {
		fprintf(stderr, "vmm run: %s\n", err);
		return EXIT_RUN_ERROR;
	}
	static struct run_spec spec;
	if (runspec_build(img.config, img.rootfs, &ro, &spec, err, sizeof(err))) {
		fprintf(stderr, "vmm run: %s\n", err);
		image_release(&img);
		return EXIT_RUN_ERROR;
	}

	/* -d: the container's own directory (state.h) holds its socket and
	 * logs, so vmm exec, ps, stop and logs find it. */
	static char state[PATH_MAX / 2];
	if (detach && state_claim(id, state, sizeof(state), err, sizeof(err))) {
		fprintf(stderr, "vmm run: %s\n", err);
		runspec_free(&spec);
		image_release(&img);
		return EXIT_RUN_ERROR;
	}
	/* Scratch: the rootfs image, the vsock socket and the console log. */
	const char *tmp = getenv("TMPDIR");
	static char dir[PATH_MAX], sock[PATH_MAX + 16], log[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/vmm-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "vmm run: scratch directory %s: %s\n", dir, strerror(errno));
		return EXIT_RUN_ERROR;
	}
	snprintf(sock, sizeof(sock), "%s/vsock", detach ? state : dir);
	snprintf(log, sizeof(log), "%s/console.log", detach ? state : dir);
	int status = EXIT_RUN_ERROR;
	static struct run r = {.sig_pipe = {-1, -1}, .ready_fd = -1};
	int nfs = 0;
	static struct vsock vsock;
	char spec_s[PATH_MAX + 32];
	int console = -1;
	r.agent.listen_fd = r.agent.ctl = -1;
	session_init(&r.session, &r.agent, id, NULL);
	r.session.interactive = interactive;
	r.session.tty = tty;
	/* An image from the store: its ext4 image, made once and shared
	 * read-only, with the container's writes on an overlay in the guest.
	 * A --rootfs directory: a virtio-fs share the container writes
	 * directly, as runc does with a rootfs directory (read-only on the
	 * host side too with --read-only). Any other directory (a plain
	 * rootfs IMAGE, or a tar unpacked for the run): a read-only share
	 * with an overlay, so the run changes nothing there. */
	static char shared[PATH_MAX + 4];
	bool on_disk = img.id[0], overlay = !rootfs;
	if (on_disk) {
		if (image_disk(&store, &img, shared, sizeof(shared) - 3, err, sizeof(err))) {
			fprintf(stderr, "vmm run: %s\n", err);
			goto out;
		}
		strcat(shared, ",ro");
		disk_parse_spec(shared, disk);
	} else {
		fs_init(&fss[nfs++], "rootfs", img.rootfs, read_only || overlay, FS_CACHE_AUTO);
	}
	/* Volumes: one share each, bound where asked. */
	static struct proto_mount mounts[RUN_MAX_VOLUMES];
	for (int i = 0; i < nvols; i++) {
		fs_init(&fss[nfs++], vols[i].tag, vols[i].dir, vols[i].ro, FS_CACHE_AUTO);
		mounts[i] = (struct proto_mount){.destination = vols[i].ctr,
						 .type = "bind",
						 .source = vols[i].source,
						 .options = {"rbind", vols[i].ro ? "ro" : "rw"},
						 .noptions = 2};
	}
	for (int i = 0; i < nfs; i++)
		if (fs_open(&fss[i], nfs, 0, 0))
			goto out; /* it said why */
	snprintf(spec_s, sizeof(spec_s), "3,%s", sock);
	console = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if ((on_disk && disk_open(disk)) || vsock_parse_spec(spec_s, &vsock, err, sizeof(err)) ||
	    console < 0 || pipe2(r.sig_pipe, O_CLOEXEC | O_NONBLOCK) ||
	    agent_listen(&r.agent, sock, err, sizeof(err))) {
		fprintf(stderr, "vmm run: cannot set up the VM: %s\n",
			err[0] ? err : strerror(errno));
		goto out;
	}
	r.session.sig_fd = r.sig_pipe[0];
	r.create = (struct proto_create){
		.container = id,
		.rootfs_source = on_disk ? "/dev/vda" : "rootfs",
		.rootfs_fstype = on_disk ? "ext4" : "virtiofs",
		.rootfs_readonly = read_only,
		.rootfs_overlay = overlay,
		.hostname = ro.hostname,
		.process = {.args = spec.args,
			    .env = spec.env,
			    .cwd = spec.cwd,
			    .uid = spec.uid,
			    .gid = spec.gid,
			    .terminal = tty},
	};
	memcpy(r.create.process.rlimits, rlimits, sizeof(rlimits));
	memcpy(r.create.mounts, mounts, sizeof(mounts));
	r.create.nmounts = nvols;
	r.create.process.nrlimits = nrlimits;
	if (run_net_open(&net))
		goto out;
	r.network = net.enabled ? &net.cfg : NULL;
	struct launch l = {
		.kernel = kernel,
		.initrd = initrd,
		.cmdline = AGENT_CMDLINE,
		.mem_size = mem,
		.cfg = {.ncpus = (int)ncpus,
			.console_in = -1,
			.console_out = console,
			.boot_timer = boot_timer,
			.boot_timeout_s = boot_timeout,
			.boot_is_agent = true,
			.exit_stats = exit_stats,
			.disks = disk,
			.ndisks = on_disk ? 1 : 0,
			.fs = fss,
			.nfs = nfs,
			.vsock = &vsock,
			.nets = net.enabled ? &net.net : NULL,
			.nnets = net.enabled ? 1 : 0,
			.on_signal = on_signal,
			.signal_opaque = &r,
			.start_ns = vm_clock_ns()},
		.before_run = before_run,
		.opaque = &r,
	};
	static char cmdline[256];
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", AGENT_CMDLINE,
		 boot_timer ? " vmm_boot_timer=1" : "", debug ? " vmm_agent_debug=1" : "");
	l.cmdline = cmdline;
	/* -t on a terminal: ours goes raw for the run (the container's pty
	 * does the line editing and ^C), and SIGWINCH is blocked in every
	 * thread so the client reads it from a signalfd. */
	struct termios saved;
	bool raw =
		tty && interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	sigset_t winch;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &winch, NULL);
	if (detach && daemonize(&r, state, id, ref ? ref : rootfs, &spec))
		_exit(r.ready_status); /* the caller's side: it has said it all */
	int vm_status = launch_run(&l);
	if (r.thread_started) {
		agent_abort(&r.agent);
		pthread_join(r.thread, NULL);
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	struct session *ses = &r.session;
	if (ses->status >= 0) {
		status = ses->status;
	} else if (ses->exit_code) {
		fprintf(stderr, "vmm run: %s\n", ses->err);
		status = ses->exit_code;
	} else if (r.started) {
		/* No exit status: the guest (and the agent, its PID 1) died
		 * under the container; the VM's reason is on the line before. */
		fprintf(stderr, "vmm run: the VM stopped (status %d) while the container ran\n",
			vm_status);
		show_console(log);
		status = EXIT_VM_LOST;
	} else if (!r.vm) {
		/* No VM was made: launch_run has said why in one line (a
		 * kernel or initrd it could not load, memory, KVM). */
	} else {
		fprintf(stderr, "vmm run: %s\n",
			ses->err[0] ? ses->err : "the VM stopped before the container ran");
		if (vm_status != 0 || !ses->err[0])
			show_console(log);
	}
	if (debug)
		show_console(log);
	if (detach)
		finish_detached(&r, state, status, remove);
out:
	runspec_free(&spec);
	image_release(&img);
	agent_close(&r.agent);
	disk_close(disk);
	run_net_close(&net);
	for (int i = 0; i < nfs; i++)
		fs_close(&fss[i]);
	if (console >= 0)
		close(console);
	if (!detach) {
		unlink(log);
		unlink(sock);
	}
	rmdir(dir);
	return status;
}
