/*
 * virtio_fs: the virtio file system device (virtio 1.2, section 5.11):
 * config space = tag[36] + num_request_queues, queue 0 the high-priority
 * queue (FORGET), queue 1 the one request queue. The device only moves
 * chains: it pops them and hands each to a backend (struct fs_backend: the
 * FUSE server, vmm/fs.c, or a fake in the tests) in a slot, and the
 * backend gives it back with virtio_fs_complete() and the bytes it wrote.
 *
 * Threading: virtio_fs_process() runs on the event loop thread (the queue
 * kicks); virtio_fs_complete() on any thread (the server's workers); the
 * transport callbacks on vCPU threads; all under the transport's lock.
 * backend->submit() is called with that lock held and must not block nor
 * call back into the device (it queues the slot for a worker).
 *
 * A reset drains as virtio-blk's does: it returns only once every slot the
 * backend holds has completed (a condition variable on the transport's
 * lock), so no reply is written into memory the driver took back; the
 * workers never wait for a vCPU, so the wait ends. virtio_fs_stop()
 * releases a waiting reset when the server stops.
 */
#ifndef VMM_DEVICES_VIRTIO_FS_H
#define VMM_DEVICES_VIRTIO_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_mmio.h"

#define VIRTIO_FS_QUEUE_SIZE 128
#define VIRTIO_FS_NQUEUES    2 /* hiprio + one request queue */
#define VIRTIO_FS_SLOTS	     (VIRTIO_FS_QUEUE_SIZE * VIRTIO_FS_NQUEUES)
#define VIRTIO_FS_TAG_MAX    36

struct fs_slot {
	bool busy;
	bool orphan; /* a reset came while the backend had it: not answered */
	int queue;
	struct virtq_chain chain;
};

struct virtio_fs;

struct fs_backend {
	/* Takes slot (its chain popped from queue slot->queue) and ends it
	 * later with virtio_fs_complete(). Transport lock held: no blocking,
	 * no call back into the device. */
	void (*submit)(struct fs_backend *be, struct virtio_fs *dev, int slot);
};

struct virtio_fs {
	struct virtio_mmio transport;
	struct fs_backend *be;
	char tag[VIRTIO_FS_TAG_MAX]; /* zero-padded, not terminated when full */
	bool active;
	bool broken; /* a malformed ring: waiting for a reset */
	int inflight, orphans;
	bool stopped;
	pthread_cond_t drained; /* with transport.lock: orphans == 0 or stopped */
	struct fs_slot slot[VIRTIO_FS_SLOTS];
	void (*irq)(void *opaque);
	void *opaque;
};

/* Sets up the device with tag (1 to 36 bytes; longer is cut). */
void virtio_fs_init(struct virtio_fs *f, const char *tag, const struct guestmem *gm,
		    struct fs_backend *be, void (*irq)(void *), void *opaque);

/* Queue q was kicked: pops every available chain into a free slot and
 * submits it. Loop thread. */
void virtio_fs_process(struct virtio_fs *f, int q);

/* The backend is done with slot; written bytes went into its writable
 * buffers. Any thread. An orphaned slot is not pushed. */
void virtio_fs_complete(struct virtio_fs *f, int slot, uint32_t written);

/* No more completions will come: releases a waiting reset. */
void virtio_fs_stop(struct virtio_fs *f);

#endif
