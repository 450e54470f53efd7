/*
 * virtio_blk: a virtio block device (virtio 1.2, section 5.2) over one
 * request queue. The device parses and answers requests; the I/O itself is
 * done by a backend (struct blk_io: io_uring in the VMM, something
 * synchronous in the tests), which reports each completion back through
 * virtio_blk_complete(). Several requests are in flight at once, one slot
 * per queue entry.
 *
 * Threading: virtio_blk_process() and virtio_blk_complete() run on the
 * event loop thread; the transport callbacks (config, activate, reset)
 * run on vCPU threads under the transport's lock.
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
	bool broken; /* the queue was malformed: waiting for a reset */
	int inflight;
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

/* A backend operation for slot ended with result. Loop thread. */
void virtio_blk_complete(struct virtio_blk *b, int slot, int result);

#endif
