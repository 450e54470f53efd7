/*
 * bus: dispatches guest port I/O and MMIO accesses to devices by address.
 * Devices register fixed ranges once, before vCPUs start; lookups are then
 * read-only and safe from every vCPU thread. A device's callbacks run on
 * the vCPU thread that exited, so a device shared by vCPUs locks itself.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdint.h>

#define BUS_MAX_RANGES 32

struct bus_ops {
	/* offset is relative to the range base; len is 1, 2, 4 or 8. Read
	 * data arrives zero-filled, so a device may leave bytes untouched. */
	void (*read)(void *dev, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
};

struct bus {
	struct bus_range range[BUS_MAX_RANGES];
	int n;
};

/* Registers [base, base + len). Returns 0, -EEXIST on overlap, -ENOSPC. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *dev);

/* Dispatches one access. Returns 0, or -ENOENT when nothing is there (a
 * read then returns zeros; a write is dropped). */
int bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
int bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
