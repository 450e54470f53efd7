/* boot_timer: the guest marks a boot milestone with one port write. */
#include "boot_timer.h"

void boot_timer_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	/* Write-only: reads see the bus's zero fill. */
	(void)dev;
	(void)offset;
	(void)data;
	(void)len;
}

void boot_timer_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct boot_timer *t = dev;
	if (offset == 0 && len == 1 && data[0] == BOOT_TIMER_MAGIC && t->mark)
		t->mark(t->opaque);
}
