/*
 * boot_timer: a write-only I/O port the guest writes a magic byte to when
 * it reaches a point worth timing (its init started), so boot time is
 * measured from the VMM's start to that point with the VMM's own clock.
 * Firecracker's boot-timer device does the same with the same magic value.
 */
#ifndef VMM_DEVICES_BOOT_TIMER_H
#define VMM_DEVICES_BOOT_TIMER_H

#include <stdint.h>

/* A port no PC device uses. */
#define BOOT_TIMER_PORT	 0x440
#define BOOT_TIMER_MAGIC 123

struct boot_timer {
	void (*mark)(void *opaque); /* on each magic write, vCPU thread */
	void *opaque;
};

/* Bus callbacks for a 1-port range. Other values and sizes are ignored. */
void boot_timer_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len);
void boot_timer_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len);

#endif
