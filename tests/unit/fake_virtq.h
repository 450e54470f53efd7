/* fake_virtq: a fake virtio driver that lays out a split virtqueue in plain
 * memory (a guestmem without a VM) and makes chains available, so the
 * device-side code is tested without KVM. */
#ifndef VMM_TESTS_FAKE_VIRTQ_H
#define VMM_TESTS_FAKE_VIRTQ_H

#include <check.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "guestmem.h"
#include "virtq.h"

#define FAKE_DESC  0x10000ULL
#define FAKE_AVAIL 0x20000ULL
#define FAKE_USED  0x30000ULL
#define FAKE_BUFS  0x40000ULL /* buffers and indirect tables from here */
#define FAKE_MEM   (1ULL << 20)

struct fake_vq {
	struct guestmem gm;
	struct virtq q;
	uint16_t avail_idx;
};

static inline void fake_vq_init(struct fake_vq *f, uint16_t size, bool indirect, bool event_idx)
{
	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(gm_alloc(&f->gm, FAKE_MEM, false), 0);
	f->q.gm = &f->gm;
	f->q.size = size;
	f->q.desc_gpa = FAKE_DESC;
	f->q.avail_gpa = FAKE_AVAIL;
	f->q.used_gpa = FAKE_USED;
	f->q.indirect = indirect;
	f->q.event_idx = event_idx;
}

static inline void fake_vq_free(struct fake_vq *f)
{
	gm_free(&f->gm);
}

/* Writes descriptor i of the table at table_gpa. */
static inline void fake_desc_at(struct fake_vq *f, uint64_t table_gpa, uint16_t i, uint64_t addr,
				uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {addr, len, flags, next};
	memcpy(gm_ptr(&f->gm, table_gpa + 16 * (uint64_t)i, 16), &d, 16);
}

static inline void fake_desc(struct fake_vq *f, uint16_t i, uint64_t addr, uint32_t len,
			     uint16_t flags, uint16_t next)
{
	fake_desc_at(f, FAKE_DESC, i, addr, len, flags, next);
}

static inline uint16_t *fake_u16(struct fake_vq *f, uint64_t gpa)
{
	return gm_ptr(&f->gm, gpa, 2);
}

/* Makes the chain at head available, as a driver does: entry, then idx. */
static inline void fake_publish(struct fake_vq *f, uint16_t head)
{
	*fake_u16(f, FAKE_AVAIL + 4 + 2 * (f->avail_idx % f->q.size)) = head;
	f->avail_idx++;
	*fake_u16(f, FAKE_AVAIL + 2) = f->avail_idx;
}

static inline struct vring_used_elem fake_used(struct fake_vq *f, uint16_t slot)
{
	struct vring_used_elem e;
	memcpy(&e, gm_ptr(&f->gm, FAKE_USED + 4 + 8 * (uint64_t)slot, 8), 8);
	return e;
}

#endif
