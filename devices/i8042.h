/*
 * i8042: just enough of the PS/2 controller for Linux's reboot=k path: the
 * status port reads "input buffer empty", and the pulse-reset command
 * (0xfe to port 0x64) ends the VM through the reset callback.
 */
#ifndef VMM_DEVICES_I8042_H
#define VMM_DEVICES_I8042_H

#include <stdint.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT	0x64
#define I8042_CMD_RESET 0xfe

struct i8042 {
	void (*reset)(void *opaque); /* called on the vCPU thread */
	void *opaque;
};

/* Bus callbacks for a range at port 0x60 of length 5 (0x60..0x64). */
void i8042_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len);
void i8042_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len);

#endif
