/*
 * vsock: one `--vsock CID,PATH`: a virtio-vsock device whose host side is
 * Unix sockets, not a host kernel module (Firecracker's "hybrid vsock"):
 *
 *   host -> guest  a host program connects to PATH and writes
 *                  "CONNECT <port>\n"; once the guest accepts, it reads
 *                  "OK <host port>\n" and the socket is the stream.
 *                  A guest that refuses (nothing listening) closes it.
 *   guest -> host  a guest connect to CID 2, port P connects to the Unix
 *                  socket PATH_P; if that fails the guest sees a reset.
 *
 * Every socket is read and written with io_uring on the event loop; the
 * queue kicks are KVM ioeventfds and the interrupt a KVM irqfd.
 */
#ifndef VMM_VSOCK_H
#define VMM_VSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "evloop.h"
#include "kvm.h"
#include "virtio_vsock.h"

#define VSOCK_LINE_MAX 32 /* "CONNECT 4294967295\n" and some slack */

struct vsock;

/* One host-side Unix socket. */
struct vsock_sock {
	struct vsock *vs;
	int fd;
	struct vsock_conn *conn; /* NULL while the CONNECT line is read */
	int inflight;		 /* io_uring operations on fd */
	bool closing;
	struct ev_op read_op, write_op, connect_op, cancel_op;
	struct msghdr rmsg, wmsg;
	struct iovec riov[2], wiov[2];
	char line[VSOCK_LINE_MAX];
	int linelen;
	struct sockaddr_un addr; /* PATH_P, for a guest-initiated connect */
	struct vsock_sock *prev, *next;
};

struct vsock {
	uint64_t cid;
	const char *path;
	int listen_fd;
	bool listening; /* we bound path: unlink it at the end */
	struct evloop *loop;
	struct virtio_vsock dev;
	struct vsock_backend be;
	int kick_fd[2], irq_fd; /* RX and TX queue kicks */
	uint64_t kick_buf[2];
	struct ev_op kick_op[2], accept_op;
	struct vsock_sock *socks; /* every open one, for the end */
	int nsocks;
};

/* Parses "CID,PATH" (CID from 3 to 4294967294). Returns 0, or -1 with a
 * message in why. spec must outlive vs. */
int vsock_parse_spec(char *spec, struct vsock *vs, char *why, size_t whylen);

/* Binds and listens on vs->path, before any KVM work. A stale socket left
 * by a VMM that died is replaced; one that a live process listens on is
 * an error. On failure prints one line and returns -1. */
int vsock_open(struct vsock *vs);

/* Creates the device at MMIO base with interrupt gsi and wires the
 * ioeventfds and the irqfd. On failure writes why and returns -errno. */
int vsock_attach(struct vsock *vs, struct kvm_vm *kvm, const struct guestmem *gm,
		 struct evloop *loop, uint64_t base, int gsi, char *why, size_t whylen);

/* Loop thread: starts accepting and listening for queue kicks. */
void vsock_start(struct vsock *vs);

/* Loop thread, after every batch of completions: acts on a device reset. */
void vsock_poll(struct vsock *vs);

/* After the loop has stopped: closes every socket and removes PATH. */
void vsock_close(struct vsock *vs);

#endif
