/*
 * virtio_blk: a virtio block device (virtio 1.2, section 5.2) over one
 * request queue. The device parses and answers requests; the I/O itself is
 * done by a backend (struct blk_io: io_uring in the VMM, something
 * synchronous in the tests), which reports each completion back through
 * virtio_blk_complete(). Several requests are in flight at once, one slot
 * per queue entry.
 *
 * Threading: virtio_blk_process(), virtio_blk_complete() and
 * virtio_blk_stop() run on the event loop thread (the one thread that
 * delivers completions); the transport callbacks (config, activate, reset)
 * run on vCPU threads under the transport's lock.
 *
 * A reset drains: it returns to the driver only once every request the
 * backend had when the reset came has completed, so no completion writes
 * into guest memory the driver has taken back (virtio 1.2, 2.4: after a
 * reset the device must not use the driver's buffers). It waits on a
 * condition variable with the transport's lock, which is released while it
 * waits. That is safe because the waiter is a vCPU thread and the
 * completions come from the loop thread, which never waits for a vCPU and
 * never writes device registers (so it never runs reset itself); once the
 * loop delivers no more completions it calls virtio_blk_stop(), which
 * releases any waiting reset, so a stopping VM can join its vCPU threads.
 */
#ifndef VMM_DEVICES_VIRTIO_BLK_H
#define VMM_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk_req.h"
#include "virtio_mmio.h"

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_SEG_MAX    126 /* data buffers per request we accept */

/* One request in flight. */
struct blk_slot {
	bool busy;
	bool orphan; /* a reset came while at the backend: not answered */
	uint16_t head;
	uint8_t *status;
	uint32_t written; /* bytes the device writes into the chain's data */
	uint64_t expect;  /* bytes the backend must move for success */
	struct iovec iov[VIRTIO_BLK_SEG_MAX];
};

struct virtio_blk;

/* The backend. Each call starts one operation for slot and returns 0, or
 * -errno if it could not be started; a started one ends with
 * virtio_blk_complete(dev, slot, result) where result is bytes or -errno. */
struct blk_io {
	int (*rw)(struct blk_io *io, struct virtio_blk *dev, int slot, bool write,
		  const struct iovec *iov, int iovcnt, uint64_t offset);
	int (*flush)(struct blk_io *io, struct virtio_blk *dev, int slot);
	/* Deallocate (punch) or zero [offset, offset + len); the result on
	 * success is 0. Only called for what virtio_blk_init was allowed. */
	int (*discard)(struct blk_io *io, struct virtio_blk *dev, int slot, uint64_t offset,
		       uint64_t len, bool punch);
};

struct virtio_blk {
	struct virtio_mmio transport;
	struct blk_io *io;
	uint64_t capacity;     /* in 512-byte sectors */
	unsigned allow;	       /* BLK_REQ_RO, BLK_REQ_DISCARD, BLK_REQ_WRITE_ZEROES */
	char id[BLK_ID_BYTES]; /* GET_ID answer: not NUL-terminated when full */
	bool active;
	bool broken;		/* the queue was malformed: waiting for a reset */
	int inflight;		/* slots at the backend, orphans included */
	int orphans;		/* of them, the ones a reset is waiting for */
	bool stopped;		/* no more completions will come (virtio_blk_stop) */
	pthread_cond_t drained; /* with transport.lock: orphans is 0 or stopped */
	struct blk_slot slot[VIRTIO_BLK_QUEUE_SIZE];
	struct virtq_chain chain; /* scratch for the chain being parsed */
	/* The interrupt line; called on the loop thread and under the
	 * transport's lock. */
	void (*irq)(void *opaque);
	void *opaque;
};

/* Sets up the device for a disk of size bytes (a multiple of 512) that
 * allows what allow (BLK_REQ_*) says: read-only, DISCARD, WRITE_ZEROES.
 * WRITE_ZEROES without UNMAP needs a backend that can zero a range. */
void virtio_blk_init(struct virtio_blk *b, uint64_t size, unsigned allow, const char *id,
		     const struct guestmem *gm, struct blk_io *io, void (*irq)(void *),
		     void *opaque);

/* The queue was notified: takes every available request and starts it.
 * Loop thread. */
void virtio_blk_process(struct virtio_blk *b);

/* A backend operation for slot ended with result. Loop thread. A slot a
 * reset orphaned is not answered; its completion may release the reset. */
void virtio_blk_complete(struct virtio_blk *b, int slot, int result);

/* No completion will be delivered any more (the loop has ended): a reset
 * waiting for requests in flight returns at once, and so do later ones.
 * Their I/O may still land in guest memory, which is fine only because the
 * VM is going away. Loop thread, after its last completion. */
void virtio_blk_stop(struct virtio_blk *b);

#endif
