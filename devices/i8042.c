/* i8042: the PS/2 controller's reset line, for reboot=k. */
#include "i8042.h"

void i8042_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	(void)len;
	/* Status and data read as 0: no data, input buffer empty, so the
	 * kernel's kb_wait() passes at once. The bus zero-filled data. */
	(void)data;
}

void i8042_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	if (len == 1 && offset == I8042_CMD_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET &&
	    k->reset)
		k->reset(k->opaque);
}
