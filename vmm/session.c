/* session: a process's stdio, signals and exit status through the agent. */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

void session_init(struct session *s, struct agent_client *agent, const char *container,
		  const char *exec_id)
{
	*s = (struct session){.agent = agent,
			      .container = container,
			      .exec_id = exec_id,
			      .sig_fd = -1,
			      .fds = {-1, -1, -1},
			      .status = -1};
}

/* A request about this process: {"type", "container", "exec_id"?}. */
static json_t *request(const struct session *s, const char *type)
{
	json_t *r = json_pack("{s:s, s:s}", "type", type, "container", s->container);
	if (r && s->exec_id)
		json_object_set_new(r, "exec_id", json_string(s->exec_id));
	return r;
}

int session_open(struct session *s)
{
	/* A terminal has one output, the pty (stderr goes there too). */
	static const char *const roles[3] = {"stdin", "stdout", "stderr"};
	return agent_streams(s->agent, roles, s->tty ? 2 : 3, s->container, s->exec_id, s->fds,
			     s->err, sizeof(s->err));
}

bool session_failed(struct session *s, json_t *resp)
{
	if (!resp)
		return true;
	if (json_is_true(json_object_get(resp, "ok"))) {
		json_decref(resp);
		return false;
	}
	/* The agent's error names the request already. */
	const char *e = json_string_value(json_object_get(resp, "error"));
	snprintf(s->err, sizeof(s->err), "%s", e ? e : "refused");
	const json_t *code = json_object_get(resp, "exit_code");
	if (json_is_integer(code))
		s->exit_code = (int)json_integer_value(code);
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

/* Tells the agent our terminal's size. */
static void send_size(struct session *s)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		return;
	if (!ws.ws_row || !ws.ws_col)
		return;
	json_t *r = request(s, "resize");
	json_object_set_new(r, "rows", json_integer(ws.ws_row));
	json_object_set_new(r, "cols", json_integer(ws.ws_col));
	char e[256];
	agent_send(s->agent, r, e, sizeof(e));
}

void session_run(struct session *s)
{
	char e[256];
	json_int_t wait_id = agent_send(s->agent, request(s, "wait"), s->err, sizeof(s->err));
	if (wait_id < 0)
		return;
	int in = s->fds[0], *outs = s->fds + 1, dst[2] = {STDOUT_FILENO, STDERR_FILENO};
	bool stdin_open = s->interactive;
	if (!stdin_open)
		shutdown(in, SHUT_WR); /* the process reads EOF at once */
	int winch = -1;
	if (s->tty) {
		sigset_t w;
		sigemptyset(&w);
		sigaddset(&w, SIGWINCH);
		winch = signalfd(-1, &w, SFD_CLOEXEC);
		send_size(s);
	}
	while (s->status < 0 || outs[0] >= 0 || outs[1] >= 0) {
		struct pollfd p[6] = {
			{stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
			{outs[0], POLLIN, 0},
			{outs[1], POLLIN, 0},
			{s->agent->ctl, POLLIN, 0},
			{s->sig_fd, POLLIN, 0},
			{winch, POLLIN, 0},
		};
		if (poll(p, 6, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* stdin: a blocking write; the agent buffers 64 KiB and the
		 * process's pipe more, so a process that never reads its stdin
		 * stalls only more stdin. */
		if (p[0].revents && !pump(STDIN_FILENO, in)) {
			stdin_open = false;
			shutdown(in, SHUT_WR);
		}
		for (int k = 0; k < 2; k++)
			if (p[1 + k].revents && !pump(outs[k], dst[k])) {
				close(outs[k]);
				outs[k] = -1;
			}
		if (p[3].revents) {
			json_t *m = proto_recv(s->agent->ctl, e, sizeof(e));
			if (!m) {
				snprintf(s->err, sizeof(s->err), "lost the agent: %s",
					 e[0] ? e : "connection closed");
				break;
			}
			if (json_integer_value(json_object_get(m, "id")) == wait_id) {
				/* Timed here, not when the output ends: the
				 * benchmarks' "container exit". */
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				s->exited_ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
				const json_t *sig = json_object_get(m, "signal");
				s->status = sig ? 128 + (int)json_integer_value(sig)
						: (int)json_integer_value(
							  json_object_get(m, "exit_code"));
			}
			json_decref(m);
		}
		unsigned char sig;
		if (p[4].revents && read(s->sig_fd, &sig, 1) == 1) {
			json_t *r = request(s, "signal");
			json_object_set_new(r, "signal", json_integer(sig));
			agent_send(s->agent, r, e, sizeof(e));
		}
		struct signalfd_siginfo si;
		if (p[5].revents && read(winch, &si, sizeof(si)) == sizeof(si))
			send_size(s);
	}
	if (winch >= 0)
		close(winch);
	session_close(s);
}

void session_close(struct session *s)
{
	for (int i = 0; i < 3; i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		s->fds[i] = -1;
	}
}
