/* fake_driver: a fake virtio driver for devices with several queues, over
 * a virtio-mmio transport: it brings the device up through the registers
 * (as Linux does), lays out each queue's rings in plain memory, posts
 * chains and takes used entries, so device tests need no KVM. */
#ifndef VMM_TESTS_FAKE_DRIVER_H
#define VMM_TESTS_FAKE_DRIVER_H

#include <check.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <string.h>

#include "guestmem.h"
#include "mmio_regs.h"
#include "virtio_mmio.h"

#define FAKE_DRV_QUEUES 4
#define FAKE_DRV_STRIDE 0x4000ULL /* a queue's rings: desc, avail, used */

struct fake_drvq {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct fake_driver {
	struct guestmem gm;
	struct virtio_mmio *t;
	uint16_t qsize;
	uint64_t bufs, next_buf, buf_size; /* buffers from bufs, buf_size each */
	struct fake_drvq q[FAKE_DRV_QUEUES];
};

/* mem bytes of guest memory; queues of qsize; buffers from bufs on. */
static inline void fd_init(struct fake_driver *d, uint64_t mem, uint16_t qsize, uint64_t bufs,
			   uint64_t buf_size)
{
	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(gm_alloc(&d->gm, mem, false), 0);
	d->qsize = qsize;
	d->bufs = d->next_buf = bufs;
	d->buf_size = buf_size;
}

static inline void fd_free(struct fake_driver *d)
{
	gm_free(&d->gm);
}

static inline void *fd_at(struct fake_driver *d, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(&d->gm, gpa, len);
	ck_assert_ptr_nonnull(p);
	return p;
}

static inline uint64_t fd_alloc_buf(struct fake_driver *d)
{
	uint64_t b = d->next_buf;
	d->next_buf += d->buf_size;
	ck_assert_uint_le(d->next_buf, d->gm.ram_size);
	return b;
}

/* Brings the device at transport t up with features and nqueues queues
 * (rings at 0x1000 + i * FAKE_DRV_STRIDE). */
static inline void fd_bring_up(struct fake_driver *d, struct virtio_mmio *t, int nqueues,
			       uint64_t features)
{
	d->t = t;
	mmio_wr(t, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(t, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_wr(t, VIRTIO_MMIO_STATUS, 0xb);
	ck_assert_uint_eq(mmio_rd(t, VIRTIO_MMIO_STATUS), 0xb);
	for (int i = 0; i < nqueues; i++) {
		uint64_t base = 0x1000 + FAKE_DRV_STRIDE * (uint64_t)i;
		d->q[i] = (struct fake_drvq){
			.desc = base, .avail = base + 0x1000, .used = base + 0x2000};
		memset(fd_at(d, base, FAKE_DRV_STRIDE), 0, FAKE_DRV_STRIDE);
		mmio_queue(t, (uint32_t)i, d->qsize, d->q[i].desc, d->q[i].avail, d->q[i].used);
	}
	mmio_wr(t, VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(mmio_rd(t, VIRTIO_MMIO_STATUS), 0xf);
}

/* Adds a chain of n buffers (gpa, len, all writable or all readable) to
 * queue qi and makes it available. */
static inline void fd_post(struct fake_driver *d, int qi, int n, const uint64_t *gpa,
			   const uint32_t *len, bool writable)
{
	struct fake_drvq *q = &d->q[qi];
	uint16_t head = q->next_desc;
	for (int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % d->qsize);
		struct vring_desc desc = {
			.addr = gpa[i],
			.len = len[i],
			.flags = (uint16_t)((writable ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % d->qsize),
		};
		memcpy(fd_at(d, q->desc + 16 * idx, 16), &desc, 16);
	}
	q->next_desc = (uint16_t)((head + n) % d->qsize);
	*(uint16_t *)fd_at(d, q->avail + 4 + 2 * (q->avail_idx % d->qsize), 2) = head;
	q->avail_idx++;
	*(uint16_t *)fd_at(d, q->avail + 2, 2) = q->avail_idx;
}

static inline uint16_t fd_used_idx(struct fake_driver *d, int qi)
{
	return *(uint16_t *)fd_at(d, d->q[qi].used + 2, 2);
}

/* The next used entry of queue qi: its head's first buffer and the used
 * length; false when there is none. */
static inline bool fd_take_used(struct fake_driver *d, int qi, uint64_t *gpa, uint32_t *len)
{
	struct fake_drvq *q = &d->q[qi];
	if (q->used_seen == fd_used_idx(d, qi))
		return false;
	struct vring_used_elem e;
	memcpy(&e, fd_at(d, q->used + 4 + 8 * (q->used_seen % d->qsize), 8), 8);
	q->used_seen++;
	struct vring_desc desc;
	memcpy(&desc, fd_at(d, q->desc + 16 * e.id, 16), 16);
	*gpa = desc.addr;
	*len = e.len;
	return true;
}

#endif
