/* mmio_regs: a driver's 32-bit register accesses to a virtio-mmio
 * transport and the queue setup made of them, for the device tests
 * (fake_driver.h and the tests that bring a device up by hand) and the
 * fuzz targets that drive a device through its registers; so it needs no
 * Check. */
#ifndef VMM_TESTS_MMIO_REGS_H
#define VMM_TESTS_MMIO_REGS_H

#include <linux/virtio_mmio.h>
#include <stdint.h>

#include "virtio_mmio.h"

static inline void mmio_wr(struct virtio_mmio *t, uint32_t off, uint32_t val)
{
	virtio_mmio_write(t, off, (const uint8_t *)&val, 4);
}

/* Starts from a poison value, not 0: a register read the transport fails
 * to fill must not pass for a register that reads zero. */
static inline uint32_t mmio_rd(struct virtio_mmio *t, uint32_t off)
{
	uint32_t val = 0xdeadbeef;
	virtio_mmio_read(t, off, (uint8_t *)&val, 4);
	return val;
}

/* The writes of virtqueue configuration (virtio 1.2 §4.2.3.2): selects
 * queue q, writes its size and its rings' addresses, then READY. Only the
 * LOW halves are written: callers put their rings below 4 GiB. */
static inline void mmio_queue(struct virtio_mmio *t, uint32_t q, uint32_t size, uint64_t desc,
			      uint64_t avail, uint64_t used)
{
	mmio_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_NUM, size);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	mmio_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

#endif
