/* mmio_regs: a driver's 32-bit register accesses to a virtio-mmio
 * transport, for the device tests (fake_driver.h and the tests that bring
 * a device up by hand) and the fuzz targets that drive a device through
 * its registers; so it needs no Check. */
#ifndef VMM_TESTS_MMIO_REGS_H
#define VMM_TESTS_MMIO_REGS_H

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

#endif
