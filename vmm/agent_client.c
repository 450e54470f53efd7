/* agent_client: the host's end of the agent protocol. */
#include "agent_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "errf.h"
#include "files.h"
#include "proto.h"

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int agent_listen(struct agent_client *a, const char *vsock_path, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->ctl = -1;
	a->next_id = 1;
	snprintf(a->vsock_path, sizeof(a->vsock_path), "%s", vsock_path);
	snprintf(a->listen_path, sizeof(a->listen_path), "%s_%d", vsock_path, PROTO_AGENT_PORT);
	struct sockaddr_un addr;
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0 || unix_addr(a->listen_path, &addr) ||
	    bind(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(a->listen_fd, 4))
		return errf(err, errlen, "listen on %s: %s", a->listen_path, strerror(errno));
	return 0;
}

static json_t *hello(const char *role, const char *container, const char *exec_id)
{
	json_t *h = json_pack("{s:s, s:i, s:s}", "type", "hello", "version", PROTO_VERSION, "role",
			      role);
	if (h && container)
		json_object_set_new(h, "container", json_string(container));
	if (h && exec_id)
		json_object_set_new(h, "exec_id", json_string(exec_id));
	return h;
}

static int greet_send(int fd, const char *role, const char *container, const char *exec_id,
		      char *err, size_t errlen)
{
	json_t *h = hello(role, container, exec_id);
	int r = h ? proto_send(fd, h) : -1;
	json_decref(h);
	return r ? errf(err, errlen, "cannot talk to the agent: %s", strerror(errno)) : 0;
}

static int greet_recv(int fd, char *err, size_t errlen)
{
	json_t *back = proto_recv(fd, err, errlen);
	if (!back) {
		if (!err[0])
			snprintf(err, errlen, "the agent closed the connection");
		return -1;
	}
	char why[256];
	int rc = proto_check_hello(back, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "the agent refused: %s", why);
	json_decref(back);
	return rc ? -1 : 0;
}

/* hello out, hello back. */
static int greet(int fd, const char *role, const char *container, const char *exec_id, char *err,
		 size_t errlen)
{
	return greet_send(fd, role, container, exec_id, err, errlen) ?: greet_recv(fd, err, errlen);
}

int agent_accept(struct agent_client *a, char *err, size_t errlen)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errf(err, errlen, "the VM ended before its agent was ready");
	if (greet(fd, "control", NULL, NULL, err, errlen)) {
		close(fd);
		return -1;
	}
	a->ctl = fd;
	return 0;
}

void agent_abort(struct agent_client *a)
{
	/* Wakes a blocked accept (it fails with EINVAL). */
	shutdown(a->listen_fd, SHUT_RDWR);
}

json_int_t agent_send(struct agent_client *a, json_t *req, char *err, size_t errlen)
{
	json_int_t id = a->next_id++;
	int r = req ? json_object_set_new(req, "id", json_integer(id)) : -1;
	if (!r)
		r = proto_send(a->ctl, req);
	json_decref(req);
	if (r)
		return errf(err, errlen, "cannot send to the agent");
	return id;
}

json_t *agent_call(struct agent_client *a, json_t *req, char *err, size_t errlen)
{
	json_int_t id = agent_send(a, req, err, errlen);
	if (id < 0)
		return NULL;
	json_t *r = proto_recv(a->ctl, err, errlen);
	if (!r) {
		if (!err[0])
			snprintf(err, errlen, "the agent closed the connection");
		return NULL;
	}
	if (json_integer_value(json_object_get(r, "id")) != id) {
		snprintf(err, errlen, "the agent answered out of turn");
		json_decref(r);
		return NULL;
	}
	return r;
}

int agent_set_timeout(struct agent_client *a, int seconds)
{
	if (a->ctl < 0)
		return -1;
	set_timeout(a->ctl, seconds);
	return 0;
}

/* A connection to the agent's port through the VM's vsock PATH, in two
 * halves (so several can be under way at once): dial_start connects and
 * asks for the port, dial_finish reads the answer. The handshake is
 * bounded (AGENT_DIAL_TIMEOUT): a VMM that is going away may still accept
 * on its socket while its guest will never answer. */
static int dial_start(struct agent_client *a, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		set_timeout(fd, AGENT_DIAL_TIMEOUT);
	if (fd < 0 || unix_addr(a->vsock_path, &addr) ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(err, errlen, "connect to %s: %s", a->vsock_path, strerror(errno));
		goto fail;
	}
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %d\n", PROTO_AGENT_PORT);
	if (write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "connect to the agent: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int dial_finish(int fd, char *err, size_t errlen)
{
	/* "OK <port>\n", a byte at a time: what follows is the agent's. */
	char line[32];
	int len = 0;
	while (len < (int)sizeof(line) - 1 && read(fd, line + len, 1) == 1)
		if (line[len++] == '\n')
			break;
	line[len] = '\0';
	if (strncmp(line, "OK ", 3))
		return errf(err, errlen, "the agent did not answer (is the VM running?)");
	return 0;
}

static int dial(struct agent_client *a, char *err, size_t errlen)
{
	int fd = dial_start(a, err, errlen);
	if (fd >= 0 && dial_finish(fd, err, errlen)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int agent_streams(struct agent_client *a, const char *const *roles, int n, const char *container,
		  const char *exec_id, int *fds, char *err, size_t errlen)
{
	int rc = 0;
	for (int i = 0; i < n; i++)
		fds[i] = -1;
	for (int i = 0; i < n && !rc; i++)
		rc = (fds[i] = dial_start(a, err, errlen)) < 0 ? -1 : 0;
	for (int i = 0; i < n && !rc; i++)
		rc = dial_finish(fds[i], err, errlen);
	for (int i = 0; i < n && !rc; i++)
		rc = greet_send(fds[i], roles[i], container, exec_id, err, errlen);
	for (int i = 0; i < n && !rc; i++)
		rc = greet_recv(fds[i], err, errlen);
	for (int i = 0; i < n; i++) {
		if (rc && fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		} else if (!rc) {
			set_timeout(fds[i], 0); /* a stream may wait for data as long as it likes */
		}
	}
	return rc;
}

int agent_connect(struct agent_client *a, const char *vsock_path, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->listen_fd = -1;
	a->next_id = 1;
	snprintf(a->vsock_path, sizeof(a->vsock_path), "%s", vsock_path);
	int fd = dial(a, err, errlen);
	if (fd < 0 || greet(fd, "control", NULL, NULL, err, errlen)) {
		if (fd >= 0)
			close(fd);
		a->ctl = -1;
		return -1;
	}
	set_timeout(fd, 0); /* a wait may take as long as the process runs */
	a->ctl = fd;
	return 0;
}

void agent_close(struct agent_client *a)
{
	if (a->ctl >= 0)
		close(a->ctl);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->listen_path);
	}
	a->ctl = a->listen_fd = -1;
}
