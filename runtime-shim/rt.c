/* rt: vmm-runtime's shared state and error reporting; see rt.h. */
#include "rt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "errf.h"
#include "files.h"
#include "proto.h"

struct rt_globals rt = {.root = RT_DEFAULT_ROOT};

void rt_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

static void log_line(const char *level, const char *msg)
{
	if (!rt.log)
		return;
	int fd = open(rt.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char t[64];
	rt_now(t, sizeof(t));
	char *line = NULL;
	if (rt.log_json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", t);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (s && asprintf(&line, "%s\n", s) < 0)
			line = NULL;
		free(s);
	} else if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg) < 0) {
		line = NULL;
	}
	/* One write per line, so concurrent runtimes' lines never mix. */
	if (line)
		(void)!write(fd, line, strlen(line));
	free(line);
	close(fd);
}

static void vlog(const char *level, bool to_stderr, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_line(level, msg);
	if (to_stderr)
		fprintf(stderr, RT_NAME ": %s\n", msg);
}

int rt_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", true, fmt, ap);
	va_end(ap);
	return 1;
}

void rt_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning", true, fmt, ap);
	va_end(ap);
}

void rt_debug(const char *fmt, ...)
{
	if (!rt.debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog("debug", false, fmt, ap);
	va_end(ap);
}

bool rt_valid_id(const char *id)
{
	return proto_valid_id(id);
}

static int container_dir(const char *id, char *dir, size_t len, char *err, size_t errlen)
{
	if (!rt_valid_id(id))
		return errf(err, errlen,
			    "invalid container id '%.80s': 1 to 64 of A-Z a-z 0-9 _ . -", id);
	if ((size_t)snprintf(dir, len, "%s/%s", rt.root, id) >= len)
		return errf(err, errlen, "--root %s is too long", rt.root);
	return 0;
}

static int lock_dir(struct rt_container *c, char *err, size_t errlen)
{
	c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0 || flock(c->dir_fd, LOCK_EX))
		return errf(err, errlen, "%s: %s", c->dir, strerror(errno));
	return 0;
}

int rt_open(const char *id, bool lock, struct rt_container *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->dir_fd = -1;
	if (container_dir(id, c->dir, sizeof(c->dir), err, errlen))
		return -1;
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (access(c->dir, F_OK))
		return errf(err, errlen, "container %s does not exist", id);
	if (lock ? lock_dir(c, err, errlen)
		 : (c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "container %s does not exist", id);
		rt_close(c);
		return -1;
	}
	/* A directory without state.json is a create still under way (or
	 * one that died before writing it): not a container yet. */
	int fd = openat(c->dir_fd, "state.json", O_RDONLY | O_CLOEXEC);
	json_error_t je;
	c->state = fd >= 0 ? json_loadfd(fd, 0, &je) : NULL;
	if (fd >= 0)
		close(fd);
	if (!json_is_object(c->state)) {
		snprintf(err, errlen, "container %s does not exist", id);
		rt_close(c);
		return -1;
	}
	c->pid = (pid_t)json_integer_value(json_object_get(c->state, "pid"));
	return 0;
}

int rt_make(const char *id, struct rt_container *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->dir_fd = -1;
	if (container_dir(id, c->dir, sizeof(c->dir), err, errlen))
		return -1;
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (mkdir_p(rt.root))
		return errf(err, errlen, "--root %s: %s", rt.root, strerror(errno));
	if (mkdir(c->dir, 0711)) {
		if (errno == EEXIST)
			return errf(err, errlen, "container with id %s already exists", id);
		return errf(err, errlen, "%s: %s", c->dir, strerror(errno));
	}
	return lock_dir(c, err, errlen);
}

int rt_save(struct rt_container *c, char *err, size_t errlen)
{
	char *s = json_dumps(c->state, JSON_COMPACT);
	int fd = s ? openat(c->dir_fd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0600)
		   : -1;
	size_t n = s ? strlen(s) : 0;
	bool ok = fd >= 0 && write(fd, s, n) == (ssize_t)n && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	free(s);
	if (!ok || renameat(c->dir_fd, "state.json.tmp", c->dir_fd, "state.json")) {
		snprintf(err, errlen, "%s/state.json: %s", c->dir, strerror(errno ? errno : EIO));
		unlinkat(c->dir_fd, "state.json.tmp", 0);
		return -1;
	}
	return 0;
}

void rt_close(struct rt_container *c)
{
	if (c->dir_fd >= 0)
		close(c->dir_fd); /* drops the flock */
	c->dir_fd = -1;
	json_decref(c->state);
	c->state = NULL;
}

unsigned long long rt_pid_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields count from the last
	 * ')'. Then: state (3), ... starttime (22). */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[2] == 'Z' || p[2] == 'X')
		return 0;
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}

const char *rt_status(const struct rt_container *c)
{
	json_int_t start = json_integer_value(json_object_get(c->state, "pid_start"));
	if (faccessat(c->dir_fd, "exit", F_OK, 0) == 0 || c->pid <= 0 ||
	    rt_pid_start(c->pid) != (unsigned long long)start)
		return "stopped";
	if (json_is_true(json_object_get(c->state, "paused")))
		return "paused";
	return json_is_true(json_object_get(c->state, "started")) ? "running" : "created";
}

json_t *rt_state_json(const struct rt_container *c)
{
	const char *status = rt_status(c);
	json_t *ann = json_object_get(c->state, "annotations");
	return json_pack("{s:s, s:s, s:s, s:i, s:O, s:o, s:O}", "ociVersion", RT_OCI_VERSION, "id",
			 c->id, "status", status, "pid",
			 strcmp(status, "stopped") ? (int)c->pid : 0, "bundle",
			 json_object_get(c->state, "bundle"), "annotations",
			 ann ? json_incref(ann) : json_object(), "created",
			 json_object_get(c->state, "created"));
}

int rt_write_pid_file(const char *path, pid_t pid, char *err, size_t errlen)
{
	char tmp[PATH_MAX], digits[24];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return errf(err, errlen, "--pid-file %s: too long", path);
	int n = snprintf(digits, sizeof(digits), "%d", (int)pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, digits, (size_t)n) == n;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path)) {
		snprintf(err, errlen, "--pid-file %s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int rt_parse_signal(const char *s)
{
	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long n = strtol(s, &end, 10);
		return *end || n < 1 || n > SIGRTMAX ? -1 : (int)n;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int n = 1; n < SIGRTMIN; n++) {
		const char *name = sigabbrev_np(n);
		if (name && !strcasecmp(name, s))
			return n;
	}
	/* RTMIN, RTMIN+N, RTMAX-N as runc knows them. */
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		bool min = !strncasecmp(s, "RTMIN", 5);
		long off = 0;
		if (s[5]) {
			char *end;
			off = strtol(s + 5, &end, 10);
			if (*end || (min && off < 0) || (!min && off > 0))
				return -1;
		}
		long n = (min ? SIGRTMIN : SIGRTMAX) + off;
		return n < SIGRTMIN || n > SIGRTMAX ? -1 : (int)n;
	}
	return -1;
}

int rt_agent_call(int dir_fd, json_t *req, char *err, size_t errlen)
{
	struct agent_client a = {.listen_fd = -1, .ctl = -1};
	json_t *r = NULL;
	if (fchdir(dir_fd)) {
		snprintf(err, errlen, "the state directory: %s", strerror(errno));
		json_decref(req);
		return -1;
	}
	if (agent_connect(&a, "vsock", err, errlen) == 0 &&
	    agent_set_timeout(&a, RT_AGENT_TIMEOUT) == 0)
		r = agent_call(&a, req, err, errlen);
	else
		json_decref(req);
	agent_close(&a);
	if (!r)
		return -1;
	int rc = 0;
	if (!json_is_true(json_object_get(r, "ok"))) {
		const char *why = json_string_value(json_object_get(r, "error"));
		snprintf(err, errlen, "%s", why ? why : "refused");
		rc = -1;
	}
	json_decref(r);
	return rc;
}

pid_t rt_fork_report(int *fd, char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return errf(err, errlen, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[pid == 0 ? 0 : 1]);
	*fd = p[pid == 0 ? 1 : 0];
	return pid;
}

void rt_report(int *fd, unsigned char code, const char *why)
{
	if (*fd < 0)
		return;
	char msg[1024];
	size_t len = code && why ? strnlen(why, sizeof(msg) - 1) : 0;
	msg[0] = (char)code;
	memcpy(msg + 1, why, len);
	(void)!write(*fd, msg, len + 1);
	close(*fd);
	*fd = -1;
}

int rt_read_report(int fd, char *why, size_t len)
{
	char msg[1024];
	size_t got = 0;
	while (got < sizeof(msg)) {
		ssize_t n = read(fd, msg + got, sizeof(msg) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	snprintf(why, len, "%.*s", got > 1 ? (int)(got - 1) : 0, msg + 1);
	return got ? (unsigned char)msg[0] : -1;
}
