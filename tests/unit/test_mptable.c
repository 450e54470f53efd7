/* Unit tests for boot/mptable.c: parse back what it wrote, as Linux would. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "layout.h"
#include "mptable.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void check_table(int ncpus)
{
	struct guestmem gm;
	ck_assert_int_eq(gm_alloc(&gm, 16 << 20, false), 0);
	ck_assert_int_eq(mptable_write(&gm, ncpus), 0);

	/* Linux finds the floating pointer by scanning 16-byte boundaries of
	 * the last KiB of base memory for "_MP_" with a zero checksum. */
	const uint8_t *mpf = gm_ptr(&gm, 639 * 1024, 16);
	ck_assert_mem_eq(mpf, "_MP_", 4);
	ck_assert_uint_eq(sum(mpf, 16), 0);
	ck_assert_uint_eq(mpf[8], 1);
	ck_assert_uint_eq(mpf[9], 4);

	const uint8_t *h = gm_ptr(&gm, rd32(mpf + 4), 44);
	ck_assert_mem_eq(h, "PCMP", 4);
	uint16_t len = rd16(h + 4);
	ck_assert_uint_eq(sum(gm_ptr(&gm, rd32(mpf + 4), len), len), 0);
	ck_assert_uint_eq(rd32(h + 36), MPTABLE_LAPIC_ADDR);

	/* Walk the entries: count each type, check the CPUs. */
	int cpus = 0, buses = 0, ioapics = 0, ioints = 0, extints = 0, lints = 0, bsps = 0;
	const uint8_t *p = h + 44, *end = h + len;
	for (int i = 0; i < rd16(h + 34); i++) {
		ck_assert(p < end);
		switch (p[0]) {
		case 0:
			ck_assert_uint_eq(p[1], cpus);
			ck_assert(p[3] & 1);
			bsps += !!(p[3] & 2);
			cpus++;
			p += 20;
			break;
		case 1:
			ck_assert_mem_eq(p + 2, "ISA   ", 6);
			buses++;
			p += 8;
			break;
		case 2:
			ck_assert_uint_eq(p[1], ncpus); /* IOAPIC ID after the CPUs */
			ck_assert_uint_eq(rd32(p + 4), MPTABLE_IOAPIC_ADDR);
			ioapics++;
			p += 8;
			break;
		case 3:
			ck_assert_uint_eq(p[5], p[7]); /* ISA IRQ n on pin n */
			extints += p[1] == 3;
			ioints++;
			p += 8;
			break;
		case 4:
			lints++;
			p += 8;
			break;
		default:
			ck_abort_msg("unknown entry type %u", p[0]);
		}
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_int_eq(cpus, ncpus);
	ck_assert_int_eq(bsps, 1);
	ck_assert_int_eq(buses, 1);
	ck_assert_int_eq(ioapics, 1);
	ck_assert_int_eq(ioints, MPTABLE_IOAPIC_PINS + 1); /* every pin, and ExtINT on 0 */
	ck_assert_int_eq(extints, 1);
	ck_assert_int_eq(lints, 2);
	gm_free(&gm);
}

START_TEST(one_cpu)
{
	check_table(1);
}
END_TEST

START_TEST(four_cpus)
{
	check_table(4);
}
END_TEST

START_TEST(max_cpus_fits_below_the_floating_pointer)
{
	check_table(MPTABLE_MAX_CPUS);
}
END_TEST

START_TEST(bad_counts)
{
	struct guestmem gm;
	ck_assert_int_eq(gm_alloc(&gm, 16 << 20, false), 0);
	ck_assert_int_eq(mptable_write(&gm, 0), -EINVAL);
	ck_assert_int_eq(mptable_write(&gm, MPTABLE_MAX_CPUS + 1), -EINVAL);
	gm_free(&gm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mptable");
	TCase *tc = tcase_create("mptable");
	tcase_add_test(tc, one_cpu);
	tcase_add_test(tc, four_cpus);
	tcase_add_test(tc, max_cpus_fits_below_the_floating_pointer);
	tcase_add_test(tc, bad_counts);
	suite_add_tcase(s, tc);
	return check_run(s);
}
