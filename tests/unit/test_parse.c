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

START_TEST(durations)
{
	unsigned v;
	ck_assert_int_eq(parse_duration("5", 86400, &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(parse_duration("30s", 86400, &v), 0);
	ck_assert_uint_eq(v, 30);
	ck_assert_int_eq(parse_duration("2m", 86400, &v), 0);
	ck_assert_uint_eq(v, 120);
	ck_assert_int_eq(parse_duration("24h", 86400, &v), 0);
	ck_assert_uint_eq(v, 86400);
	const char *bad[] = {"",   "0",	  "0s",	 "-5", "+5", " 5", "5 ",
			     "5S", "5ms", "1.5", "5d", "s",  "5ss"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_duration(bad[i], 86400, &v) == -EINVAL, "accepted '%s'",
			      bad[i]);
	ck_assert_int_eq(parse_duration(NULL, 86400, &v), -EINVAL);
	ck_assert_int_eq(parse_duration("86401", 86400, &v), -ERANGE);
	ck_assert_int_eq(parse_duration("25h", 86400, &v), -ERANGE);
	ck_assert_int_eq(parse_duration("99999999999999999999", 86400, &v), -ERANGE);
	ck_assert_int_eq(parse_duration("1440m", 86400, &v), 0);
	ck_assert_uint_eq(v, 86400);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, mem_sizes);
	tcase_add_test(tc, mem_sizes_rejected);
	tcase_add_test(tc, int_ranges);
	tcase_add_test(tc, durations);
	suite_add_tcase(s, tc);
	return check_run(s);
}
