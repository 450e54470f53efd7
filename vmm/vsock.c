/* vsock: a --vsock device with Unix sockets on the host side, on io_uring. */
#include "vsock.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "files.h"

/* Longest PATH: PATH_4294967295 must fit a sockaddr_un. */
#define PATH_MAX_LEN (sizeof(((struct sockaddr_un *)0)->sun_path) - 12)

int vsock_parse_spec(char *spec, struct vsock *vs, char *why, size_t whylen)
{
	memset(vs, 0, sizeof(*vs));
	vs->listen_fd = vs->kick_fd[0] = vs->kick_fd[1] = vs->irq_fd = -1;
	char *comma = strchr(spec, ','), *end;
	errno = 0;
	unsigned long long cid = strtoull(spec, &end, 10);
	if (!comma || end != comma || spec == comma || errno || cid < 3 || cid > 0xfffffffeULL)
		return errf(why, whylen, "'%s' is not CID,PATH with a CID from 3 to 4294967294",
			    spec);
	const char *path = comma + 1;
	if (!*path || strlen(path) > PATH_MAX_LEN)
		return errf(why, whylen, "the socket path must be 1 to %zu bytes long",
			    (size_t)PATH_MAX_LEN);
	vs->cid = cid;
	vs->path = path;
	return 0;
}

int vsock_open(struct vsock *vs)
{
	struct sockaddr_un a;
	unix_addr(vs->path, &a); /* fits: vsock_parse_spec checked its length */
	struct stat st;
	if (lstat(vs->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vmm: vsock %s: exists and is not a socket\n", vs->path);
			return -1;
		}
		/* Someone listening: in use. Nobody: left by a VMM that died. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err = probe < 0 || connect(probe, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
		if (probe >= 0)
			close(probe);
		if (!err) {
			fprintf(stderr, "vmm: vsock %s: in use by another process\n", vs->path);
			return -1;
		}
		if (err != ECONNREFUSED || unlink(vs->path)) {
			fprintf(stderr, "vmm: vsock %s: cannot replace it: %s\n", vs->path,
				strerror(err != ECONNREFUSED ? err : errno));
			return -1;
		}
	}
	vs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vs->listen_fd >= 0 && bind(vs->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		vs->listening = true; /* ours to remove from now on */
		if (listen(vs->listen_fd, 128) == 0)
			return 0;
	}
	fprintf(stderr, "vmm: vsock %s: %s\n", vs->path, strerror(errno));
	vsock_close(vs);
	return -1;
}

/* ---- host-side sockets ---- */

static struct vsock_sock *sock_new(struct vsock *vs, int fd)
{
	struct vsock_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->vs = vs;
	s->fd = fd;
	s->next = vs->socks;
	if (vs->socks)
		vs->socks->prev = s;
	vs->socks = s;
	vs->nsocks++;
	return s;
}

static void sock_free(struct vsock_sock *s)
{
	struct vsock *vs = s->vs;
	if (s->prev)
		s->prev->next = s->next;
	else
		vs->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	vs->nsocks--;
	free(s);
}

/* A closing socket with nothing in flight is closed, and the device told. */
static void finish(struct vsock_sock *s)
{
	if (!s->closing || s->inflight)
		return;
	struct vsock *vs = s->vs;
	struct vsock_conn *c = s->conn;
	close(s->fd);
	sock_free(s);
	if (c)
		virtio_vsock_closed(&vs->dev, c);
}

static void cancel_done(struct ev_op *op, int res)
{
	struct vsock_sock *s = container_of(op, struct vsock_sock, cancel_op);
	(void)res;
	s->inflight--;
	finish(s);
}

/* Ends everything in flight on s (shutdown wakes a pending recv or send,
 * the cancel takes a pending connect), then finish() closes it. */
static void sock_close(struct vsock_sock *s)
{
	if (s->closing)
		return;
	s->closing = true;
	s->cancel_op.complete = cancel_done;
	s->inflight++;
	shutdown(s->fd, SHUT_RDWR);
	evloop_cancel_fd(s->vs->loop, &s->cancel_op, s->fd);
}

static void read_line_byte(struct vsock_sock *s);

/* "CONNECT <port>\n" from a host program: the guest port it wants. */
static int parse_connect(const char *line, uint32_t *port)
{
	const char *p = line + strlen("CONNECT ");
	if (strncmp(line, "CONNECT ", strlen("CONNECT ")) || *p < '0' || *p > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || v > UINT32_MAX || strcmp(end, "\n"))
		return -1;
	*port = (uint32_t)v;
	return 0;
}

static void line_done(struct ev_op *op, int res)
{
	struct vsock_sock *s = container_of(op, struct vsock_sock, read_op);
	s->inflight--;
	if (s->closing) {
		finish(s);
		return;
	}
	/* A host program that hangs up or says something else is closed:
	 * there is nobody to tell. */
	if (res <= 0) {
		sock_close(s);
		return;
	}
	char ch = s->line[s->linelen++];
	if (ch != '\n') {
		if (s->linelen == VSOCK_LINE_MAX - 1)
			sock_close(s);
		else
			read_line_byte(s);
		return;
	}
	s->line[s->linelen] = '\0';
	uint32_t port;
	if (parse_connect(s->line, &port) ||
	    !(s->conn = virtio_vsock_host_connect(&s->vs->dev, port, s)))
		sock_close(s);
}

/* One byte at a time: what follows the line is the stream's, and must
 * stay in the socket until the guest has accepted. */
static void read_line_byte(struct vsock_sock *s)
{
	s->read_op.complete = line_done;
	s->inflight++;
	evloop_read(s->vs->loop, &s->read_op, s->fd, s->line + s->linelen, 1);
}

/* Host programs still writing their CONNECT line, at most. */
#define MAX_PENDING 64

static void arm_accept(struct vsock *vs);

static void accept_done(struct ev_op *op, int res)
{
	struct vsock *vs = container_of(op, struct vsock, accept_op);
	if (res >= 0) {
		struct vsock_sock *s = NULL;
		if (vs->nsocks < VSOCK_MAX_CONNS + MAX_PENDING)
			s = sock_new(vs, res);
		if (s)
			read_line_byte(s);
		else
			close(res); /* too many: the host program sees EOF */
	} else if (res != -EINTR && res != -ECONNABORTED && res != -EAGAIN) {
		fprintf(stderr, "vmm: vsock %s: accept: %s; no more host connections\n", vs->path,
			strerror(-res));
		return;
	}
	arm_accept(vs);
}

static void arm_accept(struct vsock *vs)
{
	vs->accept_op.complete = accept_done;
	evloop_accept(vs->loop, &vs->accept_op, vs->listen_fd, SOCK_CLOEXEC);
}

/* ---- the backend the device drives ---- */

static struct vsock *of(struct vsock_backend *b)
{
	return container_of(b, struct vsock, be);
}

static void connect_done(struct ev_op *op, int res)
{
	struct vsock_sock *s = container_of(op, struct vsock_sock, connect_op);
	s->inflight--;
	virtio_vsock_connect_done(&s->vs->dev, s->conn, res);
	finish(s);
}

static int be_connect(struct vsock_backend *b, struct vsock_conn *c)
{
	struct vsock *vs = of(b);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct vsock_sock *s = fd < 0 ? NULL : sock_new(vs, fd);
	if (!s) {
		int err = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		return err;
	}
	s->conn = c;
	c->host = s;
	char path[sizeof(s->addr.sun_path)];
	snprintf(path, sizeof(path), "%s_%" PRIu32, vs->path, c->local_port);
	unix_addr(path, &s->addr); /* fits: PATH_MAX_LEN leaves room for _PORT */
	s->connect_op.complete = connect_done;
	s->inflight++;
	evloop_connect(vs->loop, &s->connect_op, s->fd, (struct sockaddr *)&s->addr,
		       sizeof(s->addr));
	return 0;
}

static void be_accepted(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	struct vsock_sock *s = c->host;
	char ok[VSOCK_LINE_MAX];
	int n = snprintf(ok, sizeof(ok), "OK %" PRIu32 "\n", c->local_port);
	/* A few bytes into a fresh socket: never blocks. If the host program
	 * has gone, the next recv or send tells the device. */
	(void)!send(s->fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void sent(struct ev_op *op, int res)
{
	struct vsock_sock *s = container_of(op, struct vsock_sock, write_op);
	s->inflight--;
	virtio_vsock_sent(&s->vs->dev, s->conn, res);
	finish(s);
}

static void be_send(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	struct vsock_sock *s = c->host;
	memcpy(s->wiov, iov, (size_t)n * sizeof(*iov));
	s->wmsg = (struct msghdr){.msg_iov = s->wiov, .msg_iovlen = (size_t)n};
	s->write_op.complete = sent;
	s->inflight++;
	evloop_sendmsg(of(b)->loop, &s->write_op, s->fd, &s->wmsg, MSG_NOSIGNAL);
}

static void received(struct ev_op *op, int res)
{
	struct vsock_sock *s = container_of(op, struct vsock_sock, read_op);
	s->inflight--;
	virtio_vsock_received(&s->vs->dev, s->conn, res);
	finish(s);
}

static void be_recv(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	struct vsock_sock *s = c->host;
	memcpy(s->riov, iov, (size_t)n * sizeof(*iov));
	s->rmsg = (struct msghdr){.msg_iov = s->riov, .msg_iovlen = (size_t)n};
	s->read_op.complete = received;
	s->inflight++;
	evloop_recvmsg(of(b)->loop, &s->read_op, s->fd, &s->rmsg, 0);
}

static void be_shutdown_write(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	struct vsock_sock *s = c->host;
	shutdown(s->fd, SHUT_WR);
}

static void be_close(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	sock_close(c->host);
}

/* ---- the device on the VM ---- */

static void raise_irq(void *opaque)
{
	struct vsock *vs = opaque;
	eventfd_write(vs->irq_fd, 1); /* never blocks; see disk.c */
}

static void wake(void *opaque)
{
	struct vsock *vs = opaque;
	evloop_wake(vs->loop);
}

static void arm_kick(struct vsock *vs, int q);

static void rx_kicked(struct ev_op *op, int res)
{
	struct vsock *vs = container_of(op, struct vsock, kick_op[VSOCK_RXQ]);
	(void)res;
	virtio_vsock_rx_kick(&vs->dev);
	arm_kick(vs, VSOCK_RXQ);
}

static void tx_kicked(struct ev_op *op, int res)
{
	struct vsock *vs = container_of(op, struct vsock, kick_op[VSOCK_TXQ]);
	(void)res;
	virtio_vsock_tx_kick(&vs->dev);
	arm_kick(vs, VSOCK_TXQ);
}

static void arm_kick(struct vsock *vs, int q)
{
	evloop_read(vs->loop, &vs->kick_op[q], vs->kick_fd[q], &vs->kick_buf[q],
		    sizeof(vs->kick_buf[q]));
}

int vsock_attach(struct vsock *vs, struct kvm_vm *kvm, const struct guestmem *gm,
		 struct evloop *loop, uint64_t base, int gsi, char *why, size_t whylen)
{
	vs->loop = loop;
	vs->be = (struct vsock_backend){be_connect, be_accepted,       be_send,
					be_recv,    be_shutdown_write, be_close};
	virtio_vsock_init(&vs->dev, vs->cid, gm, &vs->be, raise_irq, wake, vs);
	int err = 0;
	vs->kick_op[VSOCK_RXQ].complete = rx_kicked;
	vs->kick_op[VSOCK_TXQ].complete = tx_kicked;
	for (int q = 0; q < 2 && !err; q++) {
		vs->kick_fd[q] = eventfd(0, EFD_CLOEXEC);
		err = vs->kick_fd[q] < 0 ? -errno
					 : kvm_ioeventfd(kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
							 (uint64_t)q, vs->kick_fd[q]);
	}
	if (!err) {
		vs->irq_fd = eventfd(0, EFD_CLOEXEC);
		err = vs->irq_fd < 0 ? -errno : kvm_irqfd(kvm, gsi, vs->irq_fd);
	}
	if (err)
		snprintf(why, whylen, "vsock %s: eventfds: %s", vs->path, strerror(-err));
	return err;
}

void vsock_start(struct vsock *vs)
{
	arm_kick(vs, VSOCK_RXQ);
	arm_kick(vs, VSOCK_TXQ);
	arm_accept(vs);
}

void vsock_poll(struct vsock *vs)
{
	virtio_vsock_poll(&vs->dev);
}

void vsock_close(struct vsock *vs)
{
	while (vs->socks) {
		close(vs->socks->fd);
		sock_free(vs->socks);
	}
	int *fds[] = {&vs->listen_fd, &vs->kick_fd[0], &vs->kick_fd[1], &vs->irq_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	if (vs->listening)
		unlink(vs->path);
	vs->listening = false;
	virtio_vsock_destroy(&vs->dev);
}
