/* guestmem: guest RAM and the one checked helper every guest address uses. */
#ifndef VMM_GUESTMEM_H
#define VMM_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RAM above this is moved past 4 GiB, leaving room for MMIO devices. */
#define GM_LOW_RAM_END	  0xc0000000ULL
#define GM_HIGH_RAM_START 0x100000000ULL
#define GM_MAX_REGIONS	  2

struct gm_region {
	uint64_t gpa;  /* guest physical start */
	uint64_t size; /* bytes */
	uint8_t *host; /* where it is mapped in this process */
};

struct guestmem {
	struct gm_region region[GM_MAX_REGIONS];
	int nregions;
	uint64_t ram_size; /* sum of the region sizes */
};

/*
 * Maps ram_size bytes of anonymous memory (MAP_HUGETLB when hugepages) and
 * lays them out as [0, min(ram, 3 GiB)) plus the rest from 4 GiB. ram_size
 * must be a multiple of 4 KiB (2 MiB with hugepages) and at least 1 MiB.
 * Returns 0 or -errno.
 */
int gm_alloc(struct guestmem *gm, uint64_t ram_size, bool hugepages);
void gm_free(struct guestmem *gm);

/*
 * The host address of guest range [gpa, gpa + len), or NULL when any byte
 * of it is outside one region or the sum overflows. len 0 is allowed and
 * must still point inside (or at the end of) a region. Every access to an
 * address that came from the guest or from a file goes through here.
 */
void *gm_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t len);

/* End of the RAM region that starts at 0 (where boot structures go). */
uint64_t gm_low_end(const struct guestmem *gm);

#endif
