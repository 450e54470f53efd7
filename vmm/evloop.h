/*
 * evloop: the VMM's one event-loop thread, on io_uring. Every host fd the
 * VM's devices use (stdin, stdout, signals, later ioeventfds, irqfds, disk
 * images, taps and sockets) is read and written here, never on a vCPU
 * thread, so a slow or stuck fd can stall the loop but never a vCPU.
 *
 * Contract: evloop_* calls other than evloop_wake() are made only from the
 * loop thread (the one in evloop_run) or before it starts. Completions run
 * on the loop thread, one at a time. evloop_wake() is safe from any thread.
 */
#ifndef VMM_EVLOOP_H
#define VMM_EVLOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>

/* One operation in flight. Embed it in the owner's struct; complete() gets
 * the result as io_uring gives it (bytes, or -errno), and finds the owner
 * with container_of(op, struct owner, member). */
struct ev_op {
	void (*complete)(struct ev_op *op, int res);
};

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

#define EVLOOP_MAX_FILES 16 /* fixed-file slots (evloop_register_file) */

struct evloop {
	struct io_uring ring;
	/* The fixed-file table: the fd in each slot, -1 when free; the table
	 * is registered with the ring on the first evloop_register_file. */
	int files[EVLOOP_MAX_FILES];
	bool files_registered;
	int wake_fd; /* eventfd: evloop_wake() from other threads */
	unsigned long long wake_buf;
	struct ev_op wake_op;
	void (*poll)(void *opaque); /* after each batch of completions */
	void *opaque;
	bool stop;
};

/* Sets up the ring and the wake eventfd. poll(opaque) runs on the loop
 * thread after every batch of completions, which includes every
 * evloop_wake(): it is where level-triggered state (pending output, a stop
 * request) is looked at. Returns 0 or -errno; evloop_destroy() is only for
 * a loop that was set up. */
int evloop_init(struct evloop *l, void (*poll)(void *), void *opaque);

/* Queue a read/write of fd into buf; complete() follows. The buffer must
 * stay valid until then. Offset -1 means the file's current position. */
void evloop_read(struct evloop *l, struct ev_op *op, int fd, void *buf, size_t len);
void evloop_write(struct evloop *l, struct ev_op *op, int fd, const void *buf, size_t len);

/* Queue a readv/writev at offset, or an fdatasync, of fd. The iovecs must
 * stay valid until complete(). */
void evloop_readv(struct evloop *l, struct ev_op *op, int fd, const struct iovec *iov, int n,
		  uint64_t offset);
void evloop_writev(struct evloop *l, struct ev_op *op, int fd, const struct iovec *iov, int n,
		   uint64_t offset);
void evloop_fdatasync(struct evloop *l, struct ev_op *op, int fd);
void evloop_fallocate(struct evloop *l, struct ev_op *op, int fd, int mode, uint64_t offset,
		      uint64_t len);

/* Socket operations. sendmsg/recvmsg: *msg and its iovecs must stay
 * valid until complete(); res is bytes or -errno. accept: res is the new
 * fd (flags as accept4's). connect: *addr must stay valid; res 0 or
 * -errno. */
void evloop_sendmsg(struct evloop *l, struct ev_op *op, int fd, const struct msghdr *msg,
		    unsigned flags);
void evloop_recvmsg(struct evloop *l, struct ev_op *op, int fd, struct msghdr *msg, unsigned flags);
void evloop_accept(struct evloop *l, struct ev_op *op, int fd, int flags);
void evloop_connect(struct evloop *l, struct ev_op *op, int fd, const struct sockaddr *addr,
		    socklen_t len);

/* Cancels every operation in flight on fd (each completes, most with
 * -ECANCELED); complete() follows with how many, or -ENOENT for none. */
void evloop_cancel_fd(struct evloop *l, struct ev_op *op, int fd);

/* Queue a timer: complete() runs after ms milliseconds with res -ETIME.
 * *ts is the timer's storage and must stay valid until then. */
void evloop_timeout(struct evloop *l, struct ev_op *op, struct __kernel_timespec *ts, unsigned ms);

/* Registers fd with the ring as a fixed file (io_uring_register_files,
 * IOSQE_FIXED_FILE): the kernel then skips the per-operation lookup and
 * reference counting of the fd, which matters for a disk's many small
 * requests. Returns the slot for the *_fixed calls, or -errno: -ENFILE
 * when all EVLOOP_MAX_FILES are taken, or the kernel's refusal; the caller
 * then keeps using the fd with the plain calls. The ring holds its own
 * reference to the file until evloop_unregister_file() or
 * evloop_destroy(), so closing fd alone does not release it. */
int evloop_register_file(struct evloop *l, int fd);

/* Frees slot file; operations already queued on it keep their reference. */
void evloop_unregister_file(struct evloop *l, int file);

/* evloop_readv() and the rest on a registered file, by its slot. */
void evloop_readv_fixed(struct evloop *l, struct ev_op *op, int file, const struct iovec *iov,
			int n, uint64_t offset);
void evloop_writev_fixed(struct evloop *l, struct ev_op *op, int file, const struct iovec *iov,
			 int n, uint64_t offset);
void evloop_fdatasync_fixed(struct evloop *l, struct ev_op *op, int file);
void evloop_fallocate_fixed(struct evloop *l, struct ev_op *op, int file, int mode, uint64_t offset,
			    uint64_t len);

/* Runs completions until evloop_stop(). Returns 0, or -errno if the ring
 * itself failed (a host failure: the caller ends the VM). */
int evloop_run(struct evloop *l);

/* Makes evloop_run() return after the current completion. Loop thread. */
void evloop_stop(struct evloop *l);

/* Wakes the loop to run on_wake. Any thread; never blocks. */
void evloop_wake(struct evloop *l);

void evloop_destroy(struct evloop *l);

#endif
