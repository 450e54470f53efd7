/* libFuzzer target: a hostile driver's register accesses to the virtio-mmio
 * transport. Input: a sequence of 7-byte accesses (1 byte kind and size, 2
 * bytes offset, 4 bytes value) against a transport over 1 MiB of guest
 * memory whose contents the accesses' queue addresses may point into. */
#include <linux/virtio_config.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guestmem.h"
#include "virtio_mmio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cfg_read(void *dev, uint32_t off, uint8_t *d, uint32_t len)
{
	(void)dev;
	if (len > 8 || off + len > VIRTIO_MMIO_SIZE - 0x100)
		abort(); /* the transport passed an access outside its range */
	memset(d, 0x5a, len);
}

static int activate(void *dev, uint64_t features)
{
	struct virtio_mmio *m = dev;
	/* Only reachable through FEATURES_OK, with features we offered. */
	if (!(m->status & VIRTIO_CONFIG_S_FEATURES_OK) || (features & ~m->device_features))
		abort();
	return 0;
}

static const struct virtio_dev_ops ops = {.config_read = cfg_read, .activate = activate};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guestmem gm;
	static struct virtio_mmio m;
	if (!gm.nregions && gm_alloc(&gm, 1 << 20, false))
		abort();
	virtio_mmio_init(&m, 2, 0x3ffULL | 1ULL << 28 | 1ULL << 29, 2, 256, &gm, &ops, &m);
	for (; size >= 7; data += 7, size -= 7) {
		uint32_t len = 1u << (data[0] & 3); /* 1, 2, 4 or 8 */
		uint64_t off = (data[1] | data[2] << 8) % (VIRTIO_MMIO_SIZE - len + 1);
		uint8_t buf[8] = {0};
		memcpy(buf, data + 3, 4);
		if (data[0] & 4)
			virtio_mmio_write(&m, off, buf, len);
		else
			virtio_mmio_read(&m, off, buf, len);
		for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
			if (m.queue_ready[q] &&
			    (q >= m.nqueues || !m.queue[q].desc || m.queue[q].size > m.queue_max))
				abort(); /* a ready queue is always a started, valid one */
	}
	return 0;
}
