/* Unit tests for devices/byte_ring.c: the FIFO across its wrap, and
 * iov_copy between unevenly split iovec lists. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "byte_ring.h"
#include "check_main.h"

START_TEST(sizes)
{
	struct byte_ring r;
	ck_assert_int_eq(byte_ring_init(&r, 0), -EINVAL);
	ck_assert_int_eq(byte_ring_init(&r, 24), -EINVAL);
	ck_assert_int_eq(byte_ring_init(&r, 16), 0);
	ck_assert_uint_eq(byte_ring_space(&r), 16);
	byte_ring_free(&r);
}
END_TEST

/* Writes len bytes of value base+i through the free-space iovecs. */
static void put(struct byte_ring *r, uint8_t base, uint32_t len)
{
	struct iovec iov[2];
	int n = byte_ring_free_space(r, iov);
	uint8_t src[64];
	for (uint32_t i = 0; i < len; i++)
		src[i] = (uint8_t)(base + i);
	iov_copy(iov, n, 0, &(struct iovec){src, len}, 1, 0, len);
	byte_ring_produce(r, len);
}

START_TEST(wraps_in_order)
{
	struct byte_ring r;
	ck_assert_int_eq(byte_ring_init(&r, 16), 0);
	uint8_t next = 0, expect = 0;
	/* Uneven puts and takes walk the counters far past the size and
	 * past the u32 wrap. */
	r.rd = r.wr = UINT32_MAX - 40;
	for (int round = 0; round < 50; round++) {
		uint32_t n = (uint32_t)(round % 7) + 3;
		if (n > byte_ring_space(&r))
			n = byte_ring_space(&r);
		put(&r, next, n);
		next = (uint8_t)(next + n);
		struct iovec iov[2];
		uint32_t take = (uint32_t)(round % 5) + 2;
		int k = byte_ring_data(&r, take, iov);
		uint32_t got = 0;
		for (int i = 0; i < k; i++)
			for (size_t j = 0; j < iov[i].iov_len; j++, got++)
				ck_assert_uint_eq(((uint8_t *)iov[i].iov_base)[j],
						  (uint8_t)(expect + got));
		ck_assert_uint_le(got, take);
		byte_ring_consume(&r, got);
		expect = (uint8_t)(expect + got);
		ck_assert_uint_eq(byte_ring_used(&r), (uint8_t)(next - expect));
	}
	byte_ring_free(&r);
}
END_TEST

START_TEST(full_and_empty)
{
	struct byte_ring r;
	ck_assert_int_eq(byte_ring_init(&r, 8), 0);
	struct iovec iov[2];
	ck_assert_int_eq(byte_ring_data(&r, 100, iov), 0);
	put(&r, 0, 5);
	byte_ring_consume(&r, 5);
	put(&r, 10, 8); /* 3 at the end, 5 at the start */
	ck_assert_int_eq(byte_ring_free_space(&r, iov), 0);
	ck_assert_int_eq(byte_ring_data(&r, 100, iov), 2);
	ck_assert_uint_eq(iov[0].iov_len, 3);
	ck_assert_uint_eq(iov[1].iov_len, 5);
	ck_assert_uint_eq(((uint8_t *)iov[1].iov_base)[0], 13);
	byte_ring_free(&r);
}
END_TEST

START_TEST(iov_copy_offsets)
{
	uint8_t a[3] = {1, 2, 3}, b[1] = {4}, c[4] = {5, 6, 7, 8};
	struct iovec src[] = {{a, 3}, {NULL, 0}, {b, 1}, {c, 4}};
	uint8_t x[2], y[5];
	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	struct iovec dst[] = {{x, 2}, {y, 5}};
	iov_copy(dst, 2, 1, src, 4, 2, 5); /* src bytes 3..7 to dst bytes 1..5 */
	ck_assert_uint_eq(x[0], 0);
	ck_assert_uint_eq(x[1], 3);
	ck_assert_uint_eq(y[0], 4);
	ck_assert_uint_eq(y[1], 5);
	ck_assert_uint_eq(y[2], 6);
	ck_assert_uint_eq(y[3], 7);
	ck_assert_uint_eq(y[4], 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("byte_ring");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, wraps_in_order);
	tcase_add_test(tc, full_and_empty);
	tcase_add_test(tc, iov_copy_offsets);
	suite_add_tcase(s, tc);
	return check_run(s);
}
