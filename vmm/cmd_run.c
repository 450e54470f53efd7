/*
 * cmd_run: `vmm run --rootfs DIR -- CMD [ARG...]`: runs one command in a
 * container in a fresh microVM and exits with its status.
 *
 * The VM boots the guest kernel with the agent's initramfs, the rootfs as
 * an ext4 image on virtio-blk (until virtio-fs) and a vsock device. A
 * client thread talks to the agent (agent_client.h): create, the three
 * stdio streams, start, wait; it relays this process's stdin, stdout and
 * stderr, and passes SIGTERM/SIGINT/SIGHUP on to the container. When the
 * process has exited and all its output is out, it asks the agent to shut
 * the VM down. The serial console goes to a log, shown if the VM fails.
 */
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
#include <unistd.h>

#include "agent_client.h"
#include "commands.h"
#include "image.h"
#include "launch.h"
#include "parse.h"
#include "proto.h"
#include "rootfs.h"
#include "runspec.h"

/* random.trust_cpu=on: the guest's CRNG is ready at boot (from RDRAND)
 * rather than after seconds of jitter entropy gathering, which anything
 * reading /dev/urandom early (jansson in the agent does) would wait for. */
#define RUN_CMDLINE    "console=ttyS0 reboot=k,panic_w panic=-1 quiet random.trust_cpu=on"
#define DEFAULT_PATH   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXIT_RUN_ERROR 125 /* as docker run: the run itself failed */

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
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
		   "  -e, --env KEY=VALUE    set an environment variable (repeatable)\n"
		   "      --env-file FILE    KEY=VALUE lines\n"
		   "  -w, --workdir DIR      working directory in the container\n"
		   "  -u, --user USER[:GROUP] user and group, names or ids (default: the image's)\n"
		   "      --entrypoint CMD   replace the image's Entrypoint (\"\" clears it)\n"
		   "      --hostname NAME    the container's hostname (default: its id)\n"
		   "      --name NAME        the container's id (default: 12 random hex digits)\n"
		   "      --read-only        mount the container's root file system read-only\n"
		   "      --rm               accepted: a run never leaves anything behind\n"
		   "  -p, --cpus N           vCPUs (default 1)\n"
		   "  -m, --memory SIZE      guest memory (default 256M)\n"
		   "      --kernel PATH      guest kernel (default: guest/bzImage next to vmm)\n"
		   "      --initrd PATH      agent initramfs (default: "
		   "guest/agent-initramfs.cpio.gz)\n"
		   "      --boot-timer       report the guest's boot-timer write on stderr\n"
		   "  -h, --help             show this help\n"
		   "\n"
		   "stdout and stderr are the container process's. SIGTERM, SIGINT and SIGHUP\n"
		   "are passed on to it. Exit status: the command's, 128+N if signal N ended\n"
		   "it, 127 if it does not exist, 126 if it cannot be run, 125 if the run\n"
		   "itself failed, 2 on a usage error. Not yet: -v, --net, -d.\n");
}

struct run {
	struct agent_client agent;
	struct vm *vm;
	struct proto_create create;
	int sig_pipe[2];  /* signals from the loop thread to the client */
	bool interactive; /* relay this process's stdin */
	bool tty;	  /* the process has a terminal (-t) */
	pthread_t thread;
	bool thread_started;
	int status;    /* the command's exit status; -1 until known */
	int exit_code; /* ... or the one a failure to start it gives, if not 0 */
	char err[512];
};

static void on_signal(void *opaque, int signo)
{
	struct run *r = opaque;
	unsigned char s = (unsigned char)signo;
	(void)!write(r->sig_pipe[1], &s, 1); /* nonblocking: a full pipe drops it */
}

/* Errors from the agent's answer r (NULL: err is set already). */
static bool failed(struct run *r, json_t *resp, const char *what)
{
	if (!resp)
		return true;
	if (json_is_true(json_object_get(resp, "ok")))
		return false;
	/* The agent's error names the request already. */
	const char *e = json_string_value(json_object_get(resp, "error"));
	snprintf(r->err, sizeof(r->err), "%s", e ? e : what);
	const json_t *code = json_object_get(resp, "exit_code");
	if (json_is_integer(code))
		r->exit_code = (int)json_integer_value(code);
	json_decref(resp);
	return true;
}

/* Copies what is readable on from to to; false at EOF or error. */
static bool pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return true; /* our own stdout is gone: drop, keep draining */
		off += w;
	}
	return true;
}

/* Relays stdio until the process has exited and its output is all out. */
/* Tells the agent our terminal's size (-t with a terminal here). */
static void send_size(struct run *r)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		return;
	if (!ws.ws_row || !ws.ws_col)
		return;
	char e[256];
	agent_send(&r->agent,
		   json_pack("{s:s, s:s, s:i, s:i}", "type", "resize", "container",
			     r->create.container, "rows", ws.ws_row, "cols", ws.ws_col),
		   e, sizeof(e));
}

static void relay(struct run *r, int in, int out, int err, json_int_t wait_id)
{
	int outs[2] = {out, err}, dst[2] = {STDOUT_FILENO, STDERR_FILENO};
	bool stdin_open = r->interactive;
	if (!stdin_open)
		shutdown(in, SHUT_WR); /* the process reads EOF at once */
	/* SIGWINCH is blocked in every thread (cmd_run): read it here. */
	int winch = -1;
	if (r->tty) {
		sigset_t w;
		sigemptyset(&w);
		sigaddset(&w, SIGWINCH);
		winch = signalfd(-1, &w, SFD_CLOEXEC);
		send_size(r);
	}
	while (r->status < 0 || outs[0] >= 0 || outs[1] >= 0) {
		struct pollfd p[6] = {
			{stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
			{outs[0], POLLIN, 0},
			{outs[1], POLLIN, 0},
			{r->agent.ctl, POLLIN, 0},
			{r->sig_pipe[0], POLLIN, 0},
			{winch, POLLIN, 0},
		};
		if (poll(p, 6, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			/* A blocking write: the agent buffers 64 KiB and the
			 * process's stdin pipe more; a process that never reads
			 * its stdin stalls only more stdin. */
			if (!pump(STDIN_FILENO, in)) {
				stdin_open = false;
				shutdown(in, SHUT_WR);
			}
		}
		for (int k = 0; k < 2; k++)
			if (p[1 + k].revents && !pump(outs[k], dst[k])) {
				close(outs[k]);
				outs[k] = -1;
			}
		if (p[3].revents) {
			char e[256];
			json_t *m = proto_recv(r->agent.ctl, e, sizeof(e));
			if (!m) {
				snprintf(r->err, sizeof(r->err), "lost the agent: %s",
					 e[0] ? e : "connection closed");
				break;
			}
			if (json_integer_value(json_object_get(m, "id")) == wait_id) {
				const json_t *sig = json_object_get(m, "signal");
				r->status = sig ? 128 + (int)json_integer_value(sig)
						: (int)json_integer_value(
							  json_object_get(m, "exit_code"));
			}
			json_decref(m);
		}
		if (p[5].revents) {
			struct signalfd_siginfo si;
			if (read(winch, &si, sizeof(si)) == sizeof(si))
				send_size(r);
		}
		if (p[4].revents) {
			unsigned char s;
			if (read(r->sig_pipe[0], &s, 1) == 1) {
				json_t *req =
					json_pack("{s:s, s:s, s:i}", "type", "signal", "container",
						  r->create.container, "signal", (int)s);
				char e[256];
				agent_send(&r->agent, req, e, sizeof(e));
			}
		}
	}
	if (winch >= 0)
		close(winch);
	for (int k = 0; k < 2; k++)
		if (outs[k] >= 0)
			close(outs[k]);
}

static void *client(void *opaque)
{
	struct run *r = opaque;
	char e[256];
	int in = -1, out = -1, err = -1;
	if (agent_accept(&r->agent, r->err, sizeof(r->err)))
		return NULL;
	json_t *resp = agent_call(&r->agent, proto_create_json(&r->create), r->err, sizeof(r->err));
	if (failed(r, resp, "create")) {
		resp = NULL;
		goto out;
	}
	json_decref(resp);
	const char *id = r->create.container;
	/* A terminal has one output: the pty (stderr goes there too). */
	if ((out = agent_stream(&r->agent, "stdout", id, r->err, sizeof(r->err))) < 0 ||
	    (!r->tty &&
	     (err = agent_stream(&r->agent, "stderr", id, r->err, sizeof(r->err))) < 0) ||
	    (in = agent_stream(&r->agent, "stdin", id, r->err, sizeof(r->err))) < 0) {
		resp = NULL;
		goto out;
	}
	resp = agent_call(&r->agent, json_pack("{s:s, s:s}", "type", "start", "container", id),
			  r->err, sizeof(r->err));
	if (failed(r, resp, "start")) {
		resp = NULL;
		goto out;
	}
	json_decref(resp);
	resp = NULL;
	json_int_t wait_id = agent_send(
		&r->agent, json_pack("{s:s, s:s}", "type", "wait", "container", id), e, sizeof(e));
	if (wait_id > 0) {
		relay(r, in, out, err, wait_id);
		out = err = -1; /* relay closed them */
	}
out:
	json_decref(resp);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	/* Whatever happened, the VM's work is done. */
	agent_send(&r->agent, json_pack("{s:s}", "type", "shutdown"), e, sizeof(e));
	return NULL;
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

static void show_console(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char lines[20][256];
	int n = 0;
	while (fgets(lines[n % 20], sizeof(lines[0]), f))
		n++;
	fclose(f);
	fprintf(stderr, "vmm run: the guest's console said:\n");
	for (int i = n > 20 ? n - 20 : 0; i < n; i++)
		fprintf(stderr, "  %s", lines[i % 20]);
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
		{"read-only", no_argument, NULL, 'O'},
		{"cpus", required_argument, NULL, 'p'},
		{"memory", required_argument, NULL, 'm'},
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'I'},
		{"boot-timer", no_argument, NULL, 'T'},
		{"debug", no_argument, NULL, 'D'},
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
	bool boot_timer = false, interactive = false, read_only = false, debug = false, tty = false;
	int c;
	while ((c = getopt_long(argc, argv, "+r:e:w:u:p:m:ith", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rootfs = optarg;
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
			break; /* every run leaves nothing behind already */
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
		case 'm':
			if (parse_mem_size(optarg, &mem) || mem < (64ULL << 20) || mem % 4096) {
				fprintf(stderr,
					"vmm run: --memory: '%s' is not a size of at least 64M\n",
					optarg);
				return 2;
			}
			break;
		case 'k':
			snprintf(kernel, sizeof(kernel), "%s", optarg);
			break;
		case 'I':
			snprintf(initrd, sizeof(initrd), "%s", optarg);
			break;
		case 'T':
			boot_timer = true;
			break;
		case 'D':
			debug = true;
			break;
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
		interactive = true;
	} else if (optind < argc) {
		ref = argv[optind++];
	} else {
		fprintf(stderr, "vmm run: no image given\nTry 'vmm run --help'.\n");
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

	/* Scratch: the rootfs image, the vsock socket and the console log. */
	const char *tmp = getenv("TMPDIR");
	static char dir[PATH_MAX], image[PATH_MAX + 16], sock[PATH_MAX + 16], log[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/vmm-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "vmm run: scratch directory %s: %s\n", dir, strerror(errno));
		return EXIT_RUN_ERROR;
	}
	snprintf(image, sizeof(image), "%s/rootfs.img", dir);
	snprintf(sock, sizeof(sock), "%s/vsock", dir);
	snprintf(log, sizeof(log), "%s/console.log", dir);
	int status = EXIT_RUN_ERROR;
	static struct run r = {.status = -1, .sig_pipe = {-1, -1}};
	static struct disk disk;
	static struct vsock vsock;
	char spec_s[PATH_MAX + 32];
	int console = -1;
	r.agent.listen_fd = r.agent.ctl = -1;
	r.interactive = interactive;
	r.tty = tty;
	if (rootfs_image(img.rootfs, image, err, sizeof(err))) {
		fprintf(stderr, "vmm run: %s\n", err);
		goto out;
	}
	disk_parse_spec(image, &disk);
	snprintf(spec_s, sizeof(spec_s), "3,%s", sock);
	console = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (disk_open(&disk) || vsock_parse_spec(spec_s, &vsock, err, sizeof(err)) || console < 0 ||
	    pipe2(r.sig_pipe, O_CLOEXEC | O_NONBLOCK) ||
	    agent_listen(&r.agent, sock, err, sizeof(err))) {
		fprintf(stderr, "vmm run: cannot set up the VM: %s\n",
			err[0] ? err : strerror(errno));
		goto out;
	}
	r.create = (struct proto_create){
		.container = id,
		.rootfs_source = "/dev/vda",
		.rootfs_fstype = "ext4",
		.rootfs_readonly = read_only,
		.hostname = ro.hostname,
		.process = {.args = spec.args,
			    .env = spec.env,
			    .cwd = spec.cwd,
			    .uid = spec.uid,
			    .gid = spec.gid,
			    .terminal = tty},
	};
	struct launch l = {
		.kernel = kernel,
		.initrd = initrd,
		.cmdline = RUN_CMDLINE,
		.mem_size = mem,
		.cfg = {.ncpus = (int)ncpus,
			.console_in = -1,
			.console_out = console,
			.boot_timer = boot_timer,
			.disks = &disk,
			.ndisks = 1,
			.vsock = &vsock,
			.on_signal = on_signal,
			.signal_opaque = &r,
			.start_ns = vm_clock_ns()},
		.before_run = before_run,
		.opaque = &r,
	};
	static char cmdline[256];
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", RUN_CMDLINE,
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
	int vm_status = launch_run(&l);
	if (r.thread_started) {
		agent_abort(&r.agent);
		pthread_join(r.thread, NULL);
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (r.status >= 0) {
		status = r.status;
	} else if (r.exit_code) {
		fprintf(stderr, "vmm run: %s\n", r.err);
		status = r.exit_code;
	} else {
		fprintf(stderr, "vmm run: %s\n",
			r.err[0] ? r.err : "the VM stopped before the container ran");
		if (vm_status != 0 || !r.err[0])
			show_console(log);
	}
	if (debug)
		show_console(log);
out:
	runspec_free(&spec);
	image_release(&img);
	agent_close(&r.agent);
	disk_close(&disk);
	if (console >= 0)
		close(console);
	unlink(image);
	unlink(log);
	unlink(sock);
	rmdir(dir);
	return status;
}
