/* evloop: the io_uring event loop thread. */
#include "evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RING_ENTRIES 256 /* as many completions as a full disk queue */

/* An SQE, submitting queued ones first if the ring is full. */
static struct io_uring_sqe *get_sqe(struct evloop *l)
{
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&l->ring)))
		io_uring_submit(&l->ring);
	return sqe;
}

static void arm_wake(struct evloop *l);

static void wake_done(struct ev_op *op, int res)
{
	struct evloop *l = container_of(op, struct evloop, wake_op);
	(void)res; /* the count does not matter: poll() looks at all state */
	arm_wake(l);
}

static void arm_wake(struct evloop *l)
{
	evloop_read(l, &l->wake_op, l->wake_fd, &l->wake_buf, sizeof(l->wake_buf));
}

/* The ring may do only what the loop's own calls ask of it. Seccomp sees
 * io_uring_enter, not the operations inside: without this a device bug
 * exploited by the guest could open files or sockets through the ring
 * though the thread's filter forbids openat and socket. */
static int restrict_ring(struct io_uring *ring)
{
	static const unsigned char ops[] = {
		IORING_OP_READ,	  IORING_OP_WRITE,     IORING_OP_READV,	       IORING_OP_WRITEV,
		IORING_OP_FSYNC,  IORING_OP_FALLOCATE, IORING_OP_SENDMSG,      IORING_OP_RECVMSG,
		IORING_OP_ACCEPT, IORING_OP_CONNECT,   IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT,
	};
	struct io_uring_restriction res[sizeof(ops) + 3];
	memset(res, 0, sizeof(res));
	unsigned n = 0;
	for (; n < sizeof(ops); n++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = ops[n];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	/* evloop_register_file's table and its updates; nothing else. */
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_FILES;
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_FILES_UPDATE;
	/* Through io_uring_register(): Debian's liburing 2.3 declares
	 * io_uring_register_restrictions and io_uring_enable_rings but its
	 * shared library does not export them. */
	int err = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res, n);
	if (err >= 0)
		err = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
					0);
	return err < 0 ? err : 0;
}

int evloop_init(struct evloop *l, void (*poll)(void *), void *opaque)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < EVLOOP_MAX_FILES; i++)
		l->files[i] = -1;
	l->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (l->wake_fd < 0)
		return -errno;
	/* Created disabled so that its restrictions are in force before the
	 * first operation; see restrict_ring. */
	int err = io_uring_queue_init(RING_ENTRIES, &l->ring, IORING_SETUP_R_DISABLED);
	if (!err) {
		err = restrict_ring(&l->ring);
		if (err)
			io_uring_queue_exit(&l->ring);
	}
	if (err) {
		close(l->wake_fd);
		l->wake_fd = -1;
		return err;
	}
	l->poll = poll;
	l->opaque = opaque;
	l->wake_op.complete = wake_done;
	arm_wake(l);
	return 0;
}

void evloop_read(struct evloop *l, struct ev_op *op, int fd, void *buf, size_t len)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_read(sqe, fd, buf, len, -1);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_write(struct evloop *l, struct ev_op *op, int fd, const void *buf, size_t len)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_write(sqe, fd, buf, len, -1);
	io_uring_sqe_set_data(sqe, op);
}

/* The last step of queueing an operation on a file: fd is a registered
 * slot when fixed. */
static void on_file(struct io_uring_sqe *sqe, bool fixed, struct ev_op *op)
{
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, op);
}

static void readv_at(struct evloop *l, struct ev_op *op, int fd, bool fixed,
		     const struct iovec *iov, int n, uint64_t offset)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_readv(sqe, fd, iov, n, offset);
	on_file(sqe, fixed, op);
}

static void writev_at(struct evloop *l, struct ev_op *op, int fd, bool fixed,
		      const struct iovec *iov, int n, uint64_t offset)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_writev(sqe, fd, iov, n, offset);
	on_file(sqe, fixed, op);
}

static void fdatasync_on(struct evloop *l, struct ev_op *op, int fd, bool fixed)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	on_file(sqe, fixed, op);
}

static void fallocate_on(struct evloop *l, struct ev_op *op, int fd, bool fixed, int mode,
			 uint64_t offset, uint64_t len)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_fallocate(sqe, fd, mode, offset, len);
	on_file(sqe, fixed, op);
}

void evloop_readv(struct evloop *l, struct ev_op *op, int fd, const struct iovec *iov, int n,
		  uint64_t offset)
{
	readv_at(l, op, fd, false, iov, n, offset);
}

void evloop_writev(struct evloop *l, struct ev_op *op, int fd, const struct iovec *iov, int n,
		   uint64_t offset)
{
	writev_at(l, op, fd, false, iov, n, offset);
}

void evloop_fdatasync(struct evloop *l, struct ev_op *op, int fd)
{
	fdatasync_on(l, op, fd, false);
}

void evloop_fallocate(struct evloop *l, struct ev_op *op, int fd, int mode, uint64_t offset,
		      uint64_t len)
{
	fallocate_on(l, op, fd, false, mode, offset, len);
}

int evloop_register_file(struct evloop *l, int fd)
{
	if (fd < 0)
		return -EBADF;
	if (!l->files_registered) {
		/* A table of empty (-1) slots, registered once; files come and
		 * go with updates, so the ring is never re-registered (which
		 * would wait for it to go idle). */
		int err = io_uring_register_files(&l->ring, l->files, EVLOOP_MAX_FILES);
		if (err)
			return err;
		l->files_registered = true;
	}
	int i = 0;
	while (i < EVLOOP_MAX_FILES && l->files[i] >= 0)
		i++;
	if (i == EVLOOP_MAX_FILES)
		return -ENFILE;
	int err = io_uring_register_files_update(&l->ring, i, &fd, 1);
	if (err < 0)
		return err;
	l->files[i] = fd;
	return i;
}

void evloop_unregister_file(struct evloop *l, int file)
{
	int none = -1;
	if (file < 0 || file >= EVLOOP_MAX_FILES || l->files[file] < 0)
		return;
	io_uring_register_files_update(&l->ring, file, &none, 1);
	l->files[file] = -1;
}

void evloop_readv_fixed(struct evloop *l, struct ev_op *op, int file, const struct iovec *iov,
			int n, uint64_t offset)
{
	readv_at(l, op, file, true, iov, n, offset);
}

void evloop_writev_fixed(struct evloop *l, struct ev_op *op, int file, const struct iovec *iov,
			 int n, uint64_t offset)
{
	writev_at(l, op, file, true, iov, n, offset);
}

void evloop_fdatasync_fixed(struct evloop *l, struct ev_op *op, int file)
{
	fdatasync_on(l, op, file, true);
}

void evloop_fallocate_fixed(struct evloop *l, struct ev_op *op, int file, int mode, uint64_t offset,
			    uint64_t len)
{
	fallocate_on(l, op, file, true, mode, offset, len);
}

void evloop_sendmsg(struct evloop *l, struct ev_op *op, int fd, const struct msghdr *msg,
		    unsigned flags)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_sendmsg(sqe, fd, msg, flags);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_recvmsg(struct evloop *l, struct ev_op *op, int fd, struct msghdr *msg, unsigned flags)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_recvmsg(sqe, fd, msg, flags);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_accept(struct evloop *l, struct ev_op *op, int fd, int flags)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_accept(sqe, fd, NULL, NULL, flags);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_connect(struct evloop *l, struct ev_op *op, int fd, const struct sockaddr *addr,
		    socklen_t len)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_connect(sqe, fd, addr, len);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_cancel_fd(struct evloop *l, struct ev_op *op, int fd)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data(sqe, op);
}

void evloop_timeout(struct evloop *l, struct ev_op *op, struct __kernel_timespec *ts, unsigned ms)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long long)(ms % 1000) * 1000000;
	struct io_uring_sqe *sqe = get_sqe(l);
	io_uring_prep_timeout(sqe, ts, 0, 0);
	io_uring_sqe_set_data(sqe, op);
}

int evloop_run(struct evloop *l)
{
	while (!l->stop) {
		struct io_uring_cqe *cqe;
		int err = io_uring_submit_and_wait(&l->ring, 1);
		if (err < 0 && err != -EINTR)
			return err;
		/* Drain every completion that is ready before waiting again. */
		while (!l->stop && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
			struct ev_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			io_uring_cqe_seen(&l->ring, cqe);
			if (op)
				op->complete(op, res);
		}
		if (!l->stop && l->poll)
			l->poll(l->opaque);
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	l->stop = true;
}

void evloop_wake(struct evloop *l)
{
	/* An eventfd write only fails if the counter would overflow, and
	 * then a wake-up is pending anyway. */
	eventfd_write(l->wake_fd, 1);
}

void evloop_destroy(struct evloop *l)
{
	if (l->wake_fd >= 0) {
		/* Exiting the ring cancels what is still in flight and drops
		 * its references to the registered files. */
		io_uring_queue_exit(&l->ring);
		close(l->wake_fd);
		l->wake_fd = -1;
	}
}
