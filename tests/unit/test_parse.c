/* Unit tests for vmm/parse.c. */
#include <check.h>
#include <errno.h>

#include "check_main.h"
#include "parse.h"

START_TEST(mem_sizes)
{
	uint64_t b;
	ck_assert_int_eq(parse_mem_size("256", &b), 0);
	ck_assert_uint_eq(b, 256ULL << 20);
	ck_assert_int_eq(parse_mem_size("512M", &b), 0);
	ck_assert_uint_eq(b, 512ULL << 20);
	ck_assert_int_eq(parse_mem_size("2g", &b), 0);
	ck_assert_uint_eq(b, 2ULL << 30);
	ck_assert_int_eq(parse_mem_size("64KiB", &b), 0);
	ck_assert_uint_eq(b, 64ULL << 10);
	ck_assert_int_eq(parse_mem_size("1TB", &b), 0);
	ck_assert_uint_eq(b, 1ULL << 40);
}
END_TEST

START_TEST(mem_sizes_rejected)
{
	uint64_t b = 7;
	const char *bad[] = {"",   "M",	 "-1",	"+5",  " 5",  "0",
			     "0G", "5X", "5MM", "5Mx", "5 M", "1.5G"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_mem_size(bad[i], &b) == -EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(parse_mem_size(NULL, &b), -EINVAL);
	ck_assert_int_eq(parse_mem_size("99999999999999999999", &b), -ERANGE);
	ck_assert_int_eq(parse_mem_size("17179869184G", &b), -ERANGE);
	ck_assert_uint_eq(b, 7); /* untouched on error */
}
END_TEST

START_TEST(int_ranges)
{
	long v;
	ck_assert_int_eq(parse_int_range("4", 1, 64, &v), 0);
	ck_assert_int_eq(v, 4);
	ck_assert_int_eq(parse_int_range("0", 1, 64, &v), -ERANGE);
	ck_assert_int_eq(parse_int_range("65", 1, 64, &v), -ERANGE);
	ck_assert_int_eq(parse_int_range("4x", 1, 64, &v), -EINVAL);
	ck_assert_int_eq(parse_int_range("", 1, 64, &v), -EINVAL);
	ck_assert_int_eq(parse_int_range("99999999999999999999", 1, 64, &v), -ERANGE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, mem_sizes);
	tcase_add_test(tc, mem_sizes_rejected);
	tcase_add_test(tc, int_ranges);
	suite_add_tcase(s, tc);
	return check_run(s);
}
