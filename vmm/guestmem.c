/* guestmem: guest RAM and the one checked helper every guest address uses. */
#include "guestmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_2M (2ULL << 20)

/*
 * Maps a region of guest RAM. Without hugetlb pages, the mapping is put on
 * a 2 MiB boundary and marked MADV_HUGEPAGE: KVM can map guest memory with
 * 2 MiB pages only where the guest-physical and host-virtual addresses
 * agree modulo 2 MiB and the host page is huge, and a boot measured 1.6x
 * slower in the guest without (every TLB miss walks two sets of tables).
 */
static int map_region(struct gm_region *r, uint64_t gpa, uint64_t size, bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (huge ? MAP_HUGETLB : 0);
	uint64_t slack = huge ? 0 : HUGE_2M; /* hugetlb mappings come aligned */
	uint8_t *p = mmap(NULL, size + slack, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (slack) {
		uint8_t *aligned = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(HUGE_2M - 1));
		if (aligned > p)
			munmap(p, aligned - p);
		if (aligned + size < p + size + slack)
			munmap(aligned + size, p + size + slack - (aligned + size));
		p = aligned;
		madvise(p, size, MADV_HUGEPAGE); /* a hint: fine if THP is off */
	}
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	return 0;
}

int gm_alloc(struct guestmem *gm, uint64_t ram_size, bool hugepages)
{
	uint64_t align = hugepages ? (2ULL << 20) : 4096;
	memset(gm, 0, sizeof(*gm));
	if (ram_size < (1ULL << 20) || ram_size % align)
		return -EINVAL;
	uint64_t low = ram_size < GM_LOW_RAM_END ? ram_size : GM_LOW_RAM_END;
	int err = map_region(&gm->region[0], 0, low, hugepages);
	if (err)
		return err;
	gm->nregions = 1;
	if (ram_size > low) {
		err = map_region(&gm->region[1], GM_HIGH_RAM_START, ram_size - low, hugepages);
		if (err) {
			gm_free(gm);
			return err;
		}
		gm->nregions = 2;
	}
	gm->ram_size = ram_size;
	return 0;
}

void gm_free(struct guestmem *gm)
{
	for (int i = 0; i < gm->nregions; i++)
		munmap(gm->region[i].host, gm->region[i].size);
	memset(gm, 0, sizeof(*gm));
}

void *gm_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->region[i];
		/* Written so that nothing can overflow: gpa - r->gpa only after
		 * gpa >= r->gpa, and len compared against what is left. */
		if (gpa < r->gpa || gpa - r->gpa > r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->host + (gpa - r->gpa);
	}
	return NULL;
}

uint64_t gm_low_end(const struct guestmem *gm)
{
	return gm->nregions ? gm->region[0].size : 0;
}
