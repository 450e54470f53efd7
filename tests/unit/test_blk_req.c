/* Unit tests for devices/blk_req.c: requests as Linux's virtio_blk lays them out. */
#include <check.h>
#include <linux/virtio_blk.h>
#include <string.h>

#include "blk_req.h"
#include "check_main.h"

static struct virtq_chain c;
static struct virtio_blk_outhdr hdr;
static uint8_t data[4][4096];
static uint8_t status;
static struct blk_req r;

/* A chain: header, n data buffers of len bytes (writable or not), status. */
static void chain(uint32_t type, uint64_t sector, int n, uint32_t len, bool writable)
{
	memset(&c, 0, sizeof(c));
	hdr = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	c.buf[c.n++] = (struct virtq_buf){(uint8_t *)&hdr, sizeof(hdr), false};
	for (int i = 0; i < n; i++)
		c.buf[c.n++] = (struct virtq_buf){data[i], len, writable};
	c.buf[c.n++] = (struct virtq_buf){&status, 1, true};
}

START_TEST(read_request)
{
	chain(VIRTIO_BLK_T_IN, 8, 2, 4096, true);
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_OK);
	ck_assert_uint_eq(r.type, VIRTIO_BLK_T_IN);
	ck_assert_uint_eq(r.offset, 8 * 512);
	ck_assert_int_eq(r.ndata, 2);
	ck_assert_uint_eq(r.len, 8192);
	ck_assert_ptr_eq(r.data[0].host, data[0]);
	ck_assert_ptr_eq(r.status, &status);
}
END_TEST

START_TEST(write_request_and_read_only)
{
	chain(VIRTIO_BLK_T_OUT, 0, 1, 512, false);
	ck_assert_int_eq(blk_req_parse(&c, 1, false, &r), BLK_REQ_OK);
	ck_assert_int_eq(blk_req_parse(&c, 1, true, &r), BLK_REQ_ERO);
	ck_assert_uint_eq(blk_req_status(BLK_REQ_ERO), VIRTIO_BLK_S_IOERR);
	ck_assert_ptr_eq(r.status, &status); /* still answerable */
}
END_TEST

START_TEST(range_checks)
{
	chain(VIRTIO_BLK_T_IN, 999, 1, 512, true);
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_OK); /* the last sector */
	chain(VIRTIO_BLK_T_IN, 999, 1, 1024, true);
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_ERANGE);
	chain(VIRTIO_BLK_T_IN, 1000, 1, 0, true);
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_OK); /* empty, at the end */
	chain(VIRTIO_BLK_T_OUT, UINT64_MAX, 1, 512, false); /* sector * 512 would wrap */
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_ERANGE);
	chain(VIRTIO_BLK_T_IN, 0, 1, 500, true);
	ck_assert_int_eq(blk_req_parse(&c, 1000, false, &r), BLK_REQ_EALIGN);
}
END_TEST

START_TEST(direction_checks)
{
	chain(VIRTIO_BLK_T_IN, 0, 1, 512, false); /* read into a readable buffer */
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_EDIR);
	chain(VIRTIO_BLK_T_OUT, 0, 1, 512, true);
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_EDIR);
	chain(VIRTIO_BLK_T_GET_ID, 0, 1, 20, false);
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_EDIR);
	chain(VIRTIO_BLK_T_GET_ID, 0, 1, 20, true);
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_OK);
}
END_TEST

START_TEST(flush_and_unsupported)
{
	chain(VIRTIO_BLK_T_FLUSH, 12345678, 0, 0, false);
	ck_assert_int_eq(blk_req_parse(&c, 10, true, &r), BLK_REQ_OK);
	chain(VIRTIO_BLK_T_SCSI_CMD, 0, 1, 512, false);
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_EUNSUPP);
	ck_assert_uint_eq(blk_req_status(BLK_REQ_EUNSUPP), VIRTIO_BLK_S_UNSUPP);
}
END_TEST

START_TEST(malformed_layouts)
{
	chain(VIRTIO_BLK_T_IN, 0, 1, 512, true);
	c.buf[0].len = 15; /* short header */
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_ENOHDR);
	chain(VIRTIO_BLK_T_IN, 0, 1, 512, true);
	c.buf[0].writable = true; /* header the device could write */
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_ENOHDR);
	chain(VIRTIO_BLK_T_OUT, 0, 1, 512, false);
	c.buf[c.n - 1].writable = false; /* nowhere to put the status */
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_ENOSTATUS);
	ck_assert_ptr_null(r.status);
	chain(VIRTIO_BLK_T_IN, 0, 0, 0, false);
	c.n = 1; /* one buffer only */
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_ENOSTATUS);
	c.n = 0;
	ck_assert_int_eq(blk_req_parse(&c, 10, false, &r), BLK_REQ_ENOSTATUS);
}
END_TEST

START_TEST(discard_and_write_zeroes_segments)
{
	const unsigned both = BLK_REQ_DISCARD | BLK_REQ_WRITE_ZEROES;
	struct virtio_blk_discard_write_zeroes seg = {.sector = 10, .num_sectors = 20};
	chain(VIRTIO_BLK_T_DISCARD, 0, 1, sizeof(seg), false);
	memcpy(data[0], &seg, sizeof(seg));
	ck_assert_int_eq(blk_req_parse(&c, 30, both, &r), BLK_REQ_OK);
	ck_assert_uint_eq(r.offset, 10 * 512);
	ck_assert_uint_eq(r.len, 20 * 512);
	ck_assert_int_eq(blk_req_parse(&c, 29, both, &r), BLK_REQ_ERANGE);
	ck_assert_int_eq(blk_req_parse(&c, 30, BLK_REQ_WRITE_ZEROES, &r), BLK_REQ_EUNSUPP);
	ck_assert_int_eq(blk_req_parse(&c, 30, both | BLK_REQ_RO, &r), BLK_REQ_ERO);
	seg.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP; /* not a DISCARD flag */
	memcpy(data[0], &seg, sizeof(seg));
	ck_assert_int_eq(blk_req_parse(&c, 30, both, &r), BLK_REQ_EUNSUPP);
	hdr.type = VIRTIO_BLK_T_WRITE_ZEROES;
	ck_assert_int_eq(blk_req_parse(&c, 30, both, &r), BLK_REQ_OK);
	ck_assert(r.unmap);
	/* Two segments (we offer one), or a segment in a writable buffer. */
	chain(VIRTIO_BLK_T_DISCARD, 0, 1, 2 * sizeof(seg), false);
	ck_assert_int_eq(blk_req_parse(&c, 30, both, &r), BLK_REQ_ESEGMENT);
	chain(VIRTIO_BLK_T_DISCARD, 0, 1, sizeof(seg), true);
	ck_assert_int_eq(blk_req_parse(&c, 30, both, &r), BLK_REQ_EDIR);
}
END_TEST

START_TEST(every_error_has_its_own_message)
{
	for (int i = 0; i < BLK_REQ_ERROR_COUNT; i++)
		for (int j = i + 1; j < BLK_REQ_ERROR_COUNT; j++)
			ck_assert_str_ne(blk_req_strerror(i), blk_req_strerror(j));
	ck_assert_str_eq(blk_req_strerror(-1), "unknown blk request error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk_req");
	TCase *tc = tcase_create("blk_req");
	tcase_add_test(tc, read_request);
	tcase_add_test(tc, write_request_and_read_only);
	tcase_add_test(tc, range_checks);
	tcase_add_test(tc, direction_checks);
	tcase_add_test(tc, flush_and_unsupported);
	tcase_add_test(tc, malformed_layouts);
	tcase_add_test(tc, discard_and_write_zeroes_segments);
	tcase_add_test(tc, every_error_has_its_own_message);
	suite_add_tcase(s, tc);
	return check_run(s);
}
