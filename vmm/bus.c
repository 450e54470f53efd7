/* bus: dispatches guest port I/O and MMIO accesses to devices by address. */
#include "bus.h"

#include <errno.h>
#include <string.h>

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	for (int i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->range[i];
		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->range[bus->n++] = (struct bus_range){base, len, ops, dev};
	return 0;
}

/* The range holding all of [addr, addr + len), or NULL. */
static const struct bus_range *find(const struct bus *bus, uint64_t addr, uint32_t len)
{
	for (int i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->range[i];
		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

int bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	const struct bus_range *r = find(bus, addr, len);
	if (!r)
		return -ENOENT;
	if (r->ops->read)
		r->ops->read(r->dev, addr - r->base, data, len);
	return 0;
}

int bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
	const struct bus_range *r = find(bus, addr, len);
	if (!r)
		return -ENOENT;
	if (r->ops->write)
		r->ops->write(r->dev, addr - r->base, data, len);
	return 0;
}
