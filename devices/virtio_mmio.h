/*
 * virtio_mmio: the virtio-mmio transport, version 2 ("modern", virtio 1.2
 * section 4.2.2), as a pure state machine between the guest's register
 * accesses and one device: feature negotiation, the device status as a
 * table of allowed transitions, queue setup, config space and interrupts.
 *
 * A device supplies struct virtio_dev_ops. Register accesses arrive on
 * vCPU threads; the transport serialises them with its own lock and calls
 * the device with that lock held (the device must not block or call back
 * in; only reset may wait, on a condition variable with that lock, for
 * its work in flight to drain, which releases the lock meanwhile). Anything the guest gets wrong fails softly: a write in the wrong
 * state is ignored, a bad status transition or a queue that cannot start
 * sets DEVICE_NEEDS_RESET (and raises a config interrupt once the driver
 * is running), never more.
 */
#ifndef VMM_DEVICES_VIRTIO_MMIO_H
#define VMM_DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define VIRTIO_MMIO_SIZE       0x200 /* registers and config space */
#define VIRTIO_MMIO_MAX_QUEUES 8

struct virtio_dev_ops {
	/* Config space: offset from 0x100, offset + len <= 0x100, any len
	 * from 1 to 8 (the device bounds it by its own config size); reads
	 * arrive zero-filled. */
	void (*config_read)(void *dev, uint32_t offset, uint8_t *data, uint32_t len);
	void (*config_write)(void *dev, uint32_t offset, const uint8_t *data, uint32_t len);
	/* DRIVER_OK: the features are final and the ready queues started.
	 * Returns 0, or nonzero to refuse (the device then needs a reset). */
	int (*activate)(void *dev, uint64_t features);
	/* The driver reset the device (status 0): stop using the queues,
	 * and return only once nothing will touch them again (it may wait
	 * with the lock released: the transport is already reset and relies
	 * on none of its state across the call). */
	void (*reset)(void *dev);
	/* A queue notification that came through the register, not an
	 * ioeventfd. Optional. */
	void (*notify)(void *dev, int queue);
	/* The interrupt line: raised when InterruptStatus becomes nonzero. */
	void (*irq)(void *dev);
};

struct virtio_mmio {
	pthread_mutex_t lock;
	uint32_t device_id;
	uint64_t device_features; /* must include VIRTIO_F_VERSION_1 */
	uint64_t driver_features;
	uint32_t dev_features_sel, drv_features_sel;
	uint32_t queue_sel;
	int nqueues;
	uint16_t queue_max;
	struct virtq queue[VIRTIO_MMIO_MAX_QUEUES];
	bool queue_ready[VIRTIO_MMIO_MAX_QUEUES];
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	const struct virtio_dev_ops *ops;
	void *dev;
};

/* Sets up a transport for one device with nqueues queues of at most
 * queue_max entries each, over guest memory gm. */
void virtio_mmio_init(struct virtio_mmio *m, uint32_t device_id, uint64_t features, int nqueues,
		      uint16_t queue_max, const struct guestmem *gm,
		      const struct virtio_dev_ops *ops, void *dev);

/* Bus callbacks for the VIRTIO_MMIO_SIZE range. Registers take 4-byte
 * accesses; config space any size. */
void virtio_mmio_read(void *m, uint64_t offset, uint8_t *data, uint32_t len);
void virtio_mmio_write(void *m, uint64_t offset, const uint8_t *data, uint32_t len);

/* The device used buffers / changed its config: sets the interrupt
 * status bit and raises the interrupt. Any thread. */
void virtio_mmio_signal_used(struct virtio_mmio *m);
void virtio_mmio_signal_config(struct virtio_mmio *m);

/* The device hit a fatal problem (a malformed queue): DEVICE_NEEDS_RESET
 * and a config interrupt if the driver is running. Any thread. */
void virtio_mmio_needs_reset(struct virtio_mmio *m);

/* Whether status moves from `from` to `to` are allowed (the table). */
bool virtio_status_allowed(uint32_t from, uint32_t to);

#endif
