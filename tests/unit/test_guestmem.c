/* Unit tests for vmm/guestmem.c: layout and the checked address helper. */
#include <check.h>
#include <errno.h>

#include "check_main.h"
#include "guestmem.h"

START_TEST(small_ram_is_one_region)
{
	struct guestmem gm;
	ck_assert_int_eq(gm_alloc(&gm, 64 << 20, false), 0);
	ck_assert_int_eq(gm.nregions, 1);
	ck_assert_uint_eq(gm.region[0].gpa, 0);
	ck_assert_uint_eq(gm_low_end(&gm), 64 << 20);
	ck_assert_uint_eq(gm.ram_size, 64 << 20);
	gm_free(&gm);
}
END_TEST

START_TEST(large_ram_splits_around_the_mmio_gap)
{
	struct guestmem gm;
	/* MAP_NORESERVE: nothing is touched, so 4 GiB costs nothing. */
	ck_assert_int_eq(gm_alloc(&gm, 4ULL << 30, false), 0);
	ck_assert_int_eq(gm.nregions, 2);
	ck_assert_uint_eq(gm.region[0].size, GM_LOW_RAM_END);
	ck_assert_uint_eq(gm.region[1].gpa, GM_HIGH_RAM_START);
	ck_assert_uint_eq(gm.region[1].size, (4ULL << 30) - GM_LOW_RAM_END);
	/* The gap itself is not RAM. */
	ck_assert_ptr_null(gm_ptr(&gm, GM_LOW_RAM_END, 1));
	ck_assert_ptr_nonnull(gm_ptr(&gm, GM_HIGH_RAM_START, 4096));
	/* A range spanning the gap is refused even though both ends are RAM. */
	ck_assert_ptr_null(
		gm_ptr(&gm, GM_LOW_RAM_END - 8, GM_HIGH_RAM_START - GM_LOW_RAM_END + 16));
	gm_free(&gm);
}
END_TEST

START_TEST(bad_sizes_rejected)
{
	struct guestmem gm;
	ck_assert_int_eq(gm_alloc(&gm, 4096, false), -EINVAL);
	ck_assert_int_eq(gm_alloc(&gm, (16 << 20) + 1, false), -EINVAL);
	ck_assert_int_eq(gm_alloc(&gm, (16 << 20) + 4096, true), -EINVAL);
}
END_TEST

START_TEST(ptr_bounds)
{
	struct guestmem gm;
	const uint64_t size = 16 << 20;
	ck_assert_int_eq(gm_alloc(&gm, size, false), 0);
	uint8_t *base = gm.region[0].host;
	ck_assert_ptr_eq(gm_ptr(&gm, 0, size), base);
	ck_assert_ptr_eq(gm_ptr(&gm, size - 1, 1), base + size - 1);
	ck_assert_ptr_eq(gm_ptr(&gm, size, 0), base + size); /* empty, at the end */
	ck_assert_ptr_null(gm_ptr(&gm, size, 1));
	ck_assert_ptr_null(gm_ptr(&gm, size - 1, 2));
	ck_assert_ptr_null(gm_ptr(&gm, 0, size + 1));
	ck_assert_ptr_null(gm_ptr(&gm, size + 1, 0));
	/* Sums that wrap around 64 bits must not pass. */
	ck_assert_ptr_null(gm_ptr(&gm, 4096, UINT64_MAX));
	ck_assert_ptr_null(gm_ptr(&gm, UINT64_MAX, 2));
	ck_assert_ptr_null(gm_ptr(&gm, UINT64_MAX - 10, 20));
	gm_free(&gm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guestmem");
	TCase *tc = tcase_create("guestmem");
	tcase_add_test(tc, small_ram_is_one_region);
	tcase_add_test(tc, large_ram_splits_around_the_mmio_gap);
	tcase_add_test(tc, bad_sizes_rejected);
	tcase_add_test(tc, ptr_bounds);
	suite_add_tcase(s, tc);
	return check_run(s);
}
