/* Unit tests for vmm/bus.c and devices/i8042.c. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "check_main.h"
#include "i8042.h"

static uint64_t last_off;
static uint8_t last_val;
static void dev_read(void *d, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)d;
	(void)len;
	data[0] = (uint8_t)(0x10 + off);
}
static void dev_write(void *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	(void)d;
	(void)len;
	last_off = off;
	last_val = data[0];
}
static const struct bus_ops ops = {dev_read, dev_write};

START_TEST(dispatch_and_overlap)
{
	struct bus b = {0};
	ck_assert_int_eq(bus_register(&b, 0x100, 8, &ops, NULL), 0);
	ck_assert_int_eq(bus_register(&b, 0x104, 8, &ops, NULL), -EEXIST);
	ck_assert_int_eq(bus_register(&b, 0xfc, 8, &ops, NULL), -EEXIST);
	ck_assert_int_eq(bus_register(&b, 0x108, 8, &ops, NULL), 0);
	ck_assert_int_eq(bus_register(&b, UINT64_MAX - 2, 8, &ops, NULL), -EINVAL);
	ck_assert_int_eq(bus_register(&b, 0x200, 0, &ops, NULL), -EINVAL);

	uint8_t v[4] = {0xff, 0xff, 0xff, 0xff};
	ck_assert_int_eq(bus_read(&b, 0x103, v, 1), 0);
	ck_assert_uint_eq(v[0], 0x13);
	ck_assert_int_eq(bus_write(&b, 0x10a, (const uint8_t *)"\x77", 1), 0);
	ck_assert_uint_eq(last_off, 2);
	ck_assert_uint_eq(last_val, 0x77);

	/* Nothing there, or an access straddling the end: zeros, -ENOENT. */
	memset(v, 0xff, sizeof(v));
	ck_assert_int_eq(bus_read(&b, 0x300, v, 4), -ENOENT);
	ck_assert_uint_eq(v[0] | v[1] | v[2] | v[3], 0);
	ck_assert_int_eq(bus_read(&b, 0x10e, v, 4), -ENOENT);
}
END_TEST

START_TEST(full_bus)
{
	struct bus b = {0};
	for (int i = 0; i < BUS_MAX_RANGES; i++)
		ck_assert_int_eq(bus_register(&b, i * 16, 16, &ops, NULL), 0);
	ck_assert_int_eq(bus_register(&b, 0x10000, 16, &ops, NULL), -ENOSPC);
}
END_TEST

static int resets;
static void on_reset(void *o)
{
	(void)o;
	resets++;
}

START_TEST(i8042_reset_only_on_0xfe_to_port_0x64)
{
	struct i8042 k = {.reset = on_reset};
	uint8_t v = 0xfe;
	i8042_write(&k, 0, &v, 1); /* port 0x60 */
	v = 0xd1;
	i8042_write(&k, 4, &v, 1); /* another command */
	ck_assert_int_eq(resets, 0);
	v = 0xfe;
	i8042_write(&k, 4, &v, 1);
	ck_assert_int_eq(resets, 1);
	uint8_t st = 0;
	i8042_read(&k, 4, &st, 1);
	ck_assert_uint_eq(st & 0x02, 0); /* input buffer empty */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");
	tcase_add_test(tc, dispatch_and_overlap);
	tcase_add_test(tc, full_bus);
	tcase_add_test(tc, i8042_reset_only_on_0xfe_to_port_0x64);
	suite_add_tcase(s, tc);
	return check_run(s);
}
