/* Unit tests for devices/fuse_req.c and devices/virtio_fs.c: FUSE requests
 * laid out as a driver does in plain memory (fake_virtq.h), parsed and
 * answered; and the device brought up through the transport's registers
 * with a fake backend that records the slots it is given. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_mmio.h>
#include <string.h>

#include "check_main.h"
#include "fake_virtq.h"
#include "fuse_req.h"
#include "mmio_regs.h"
#include "virtio_fs.h"

static struct fake_vq f;
static struct virtq_chain chain;
static struct fuse_req req;

/* Lays out one request: a header with opcode and len, then args split
 * into pieces at the given cut, then nout writable buffers of outsz. Pops
 * it into chain. */
static void make_req(uint32_t opcode, uint32_t hlen, const void *args, uint32_t arglen,
		     uint32_t cut, int nout, uint32_t outsz)
{
	fake_vq_init(&f, 16, false, false);
	struct fuse_in_header h = {.len = hlen, .opcode = opcode, .unique = 77, .nodeid = 5};
	uint64_t gpa = FAKE_BUFS;
	uint16_t d = 0;
	memcpy(gm_ptr(&f.gm, gpa, sizeof(h)), &h, sizeof(h));
	fake_desc(&f, d, gpa, sizeof(h), VRING_DESC_F_NEXT, (uint16_t)(d + 1));
	d++, gpa += 0x1000;
	if (cut > arglen)
		cut = arglen;
	uint32_t piece[2] = {cut, arglen - cut};
	const uint8_t *a = args;
	for (int i = 0; i < 2; i++) {
		if (!piece[i])
			continue;
		memcpy(gm_ptr(&f.gm, gpa, piece[i]), a, piece[i]);
		fake_desc(&f, d, gpa, piece[i], VRING_DESC_F_NEXT, (uint16_t)(d + 1));
		a += piece[i], d++, gpa += 0x10000;
	}
	for (int i = 0; i < nout; i++) {
		fake_desc(&f, d, gpa, outsz, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			  (uint16_t)(d + 1));
		d++, gpa += 0x10000;
	}
	/* Clear NEXT on the last descriptor. */
	struct vring_desc *last = gm_ptr(&f.gm, FAKE_DESC + 16 * (uint64_t)(d - 1), 16);
	last->flags &= ~VRING_DESC_F_NEXT;
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_start(&f.q), 0);
	ck_assert_int_eq(virtq_pop(&f.q, &chain), 1);
}

static uint32_t hl(uint32_t arglen)
{
	return (uint32_t)sizeof(struct fuse_in_header) + arglen;
}

START_TEST(lookup_name_split_over_buffers)
{
	const char name[] = "hello.txt";
	make_req(FUSE_LOOKUP, hl(sizeof(name)), name, sizeof(name), 4, 1, 256);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	ck_assert_uint_eq(req.h.unique, 77);
	ck_assert_uint_eq(req.h.nodeid, 5);
	ck_assert_str_eq(req.name, "hello.txt");
	ck_assert_uint_eq(req.outlen, 256);
	fake_vq_free(&f);
}
END_TEST

START_TEST(bad_names_refused)
{
	const char *bad[] = {"a/b", "", "x"};
	/* unterminated, empty, with a slash */
	make_req(FUSE_LOOKUP, hl(1), bad[2], 1, 1, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ENAME);
	fake_vq_free(&f);
	make_req(FUSE_LOOKUP, hl(1), bad[1], 1, 1, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ENAME);
	fake_vq_free(&f);
	make_req(FUSE_LOOKUP, hl(4), bad[0], 4, 2, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ENAME);
	fake_vq_free(&f);
	char longname[NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[NAME_MAX + 1] = '\0';
	make_req(FUSE_LOOKUP, hl(sizeof(longname)), longname, sizeof(longname), 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ENAME);
	fake_vq_free(&f);
}
END_TEST

START_TEST(symlink_target_may_have_slashes)
{
	const char args[] = "ln\0../../etc/shadow";
	make_req(FUSE_SYMLINK, hl(sizeof(args)), args, sizeof(args), 5, 1, 256);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	ck_assert_str_eq(req.name, "ln");
	ck_assert_str_eq(req.name2, "../../etc/shadow");
	fake_vq_free(&f);
}
END_TEST

START_TEST(length_must_match_chain)
{
	const char name[] = "x";
	make_req(FUSE_LOOKUP, hl(sizeof(name)) + 1, name, sizeof(name), 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ELEN);
	fake_vq_free(&f);
	make_req(FUSE_GETATTR, hl(4), "abcd", 4, 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_EARGS);
	fake_vq_free(&f);
}
END_TEST

START_TEST(write_payload_in_place)
{
	uint8_t args[sizeof(struct fuse_write_in) + 3000];
	struct fuse_write_in w = {.fh = 9, .offset = 4096, .size = 3000};
	memcpy(args, &w, sizeof(w));
	memset(args + sizeof(w), 0xab, 3000);
	make_req(FUSE_WRITE, hl(sizeof(args)), args, sizeof(args), sizeof(w) + 1000, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	ck_assert_uint_eq(req.wlen, 3000);
	ck_assert_int_eq(req.nwdata, 2);
	ck_assert_uint_eq(req.wdata[0].iov_len, 1000);
	ck_assert_uint_eq(req.wdata[1].iov_len, 2000);
	/* In guest memory, not a copy. */
	ck_assert_ptr_eq(req.wdata[1].iov_base, chain.buf[2].host);
	ck_assert_uint_eq(((uint8_t *)req.wdata[1].iov_base)[1999], 0xab);
	fake_vq_free(&f);

	w.size = 3001; /* more than the chain carries */
	memcpy(args, &w, sizeof(w));
	make_req(FUSE_WRITE, hl(sizeof(args)), args, sizeof(args), 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_EARGS);
	ck_assert_int_eq(req.nwdata, 0);
	fake_vq_free(&f);
}
END_TEST

START_TEST(setxattr_value_bounded)
{
	uint8_t args[8 + 16 + 4];
	struct fuse_setxattr_in x = {.size = 4};
	memcpy(args, &x, 8);
	memcpy(args + 8, "user.some/name\0\0", 16);
	memcpy(args + 24, "vvvv", 4);
	make_req(FUSE_SETXATTR, hl(sizeof(args) - 1), args, sizeof(args) - 1, 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	ck_assert_str_eq(req.name, "user.some/name");
	/* The name's NUL ends at 23; the value is what follows. */
	ck_assert_uint_eq(req.vsize, 4);
	fake_vq_free(&f);
	x.size = 100;
	memcpy(args, &x, 8);
	make_req(FUSE_SETXATTR, hl(sizeof(args)), args, sizeof(args), 0, 1, 64);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_EARGS);
	fake_vq_free(&f);
}
END_TEST

START_TEST(batch_forget_count_bounded)
{
	uint8_t args[8 + 2 * sizeof(struct fuse_forget_one)] = {0};
	struct fuse_batch_forget_in b = {.count = 3};
	memcpy(args, &b, sizeof(b));
	make_req(FUSE_BATCH_FORGET, hl(sizeof(args)), args, sizeof(args), 0, 0, 0);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_EARGS);
	fake_vq_free(&f);
	b.count = 2;
	memcpy(args, &b, sizeof(b));
	make_req(FUSE_BATCH_FORGET, hl(sizeof(args)), args, sizeof(args), 0, 0, 0);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	ck_assert(req.no_reply);
	fake_vq_free(&f);
}
END_TEST

START_TEST(reply_across_buffers)
{
	make_req(FUSE_STATFS, hl(0), NULL, 0, 0, 2, 20);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	uint8_t payload[24];
	for (int i = 0; i < 24; i++)
		payload[i] = (uint8_t)i;
	ck_assert_uint_eq(fuse_req_reply(&req, 0, payload, sizeof(payload)), 40);
	struct fuse_out_header o;
	memcpy(&o, chain.buf[1].host, sizeof(o));
	ck_assert_uint_eq(o.len, 40);
	ck_assert_int_eq(o.error, 0);
	ck_assert_uint_eq(o.unique, 77);
	ck_assert_uint_eq(chain.buf[1].host[16], 0);
	ck_assert_uint_eq(chain.buf[1].host[19], 3);
	ck_assert_uint_eq(chain.buf[2].host[0], 4);
	/* An error carries no payload; more than fits is cut. */
	ck_assert_uint_eq(fuse_req_reply(&req, -ENOENT, payload, 24), 16);
	uint8_t big[64] = {0};
	ck_assert_uint_eq(fuse_req_reply(&req, 0, big, sizeof(big)), 40);
	struct iovec iov[4];
	uint32_t total;
	ck_assert_int_eq(fuse_req_out_iov(&req, 100, iov, 4, &total), 2);
	ck_assert_uint_eq(total, 24);
	ck_assert_ptr_eq(iov[0].iov_base, chain.buf[1].host + 16);
	ck_assert_uint_eq(fuse_req_reply_len(&req, 25), 0); /* does not fit */
	ck_assert_uint_eq(fuse_req_reply_len(&req, 24), 40);
	fake_vq_free(&f);
}
END_TEST

START_TEST(no_room_for_reply)
{
	make_req(FUSE_STATFS, hl(0), NULL, 0, 0, 1, 8);
	ck_assert_int_eq(fuse_req_parse(&chain, &req), FUSE_REQ_ENOOUT);
	fake_vq_free(&f);
}
END_TEST

/* ---- the device through the transport ---- */

static struct virtio_fs dev;
static int submitted[VIRTIO_FS_SLOTS], nsubmitted, irqs;

static void be_submit(struct fs_backend *be, struct virtio_fs *d, int slot)
{
	(void)be, (void)d;
	submitted[nsubmitted++] = slot;
}

static struct fs_backend be = {be_submit};

static void on_irq(void *opaque)
{
	(void)opaque;
	irqs++;
}

#define QS 16
static uint64_t qbase(int q)
{
	return 0x10000 + 0x4000 * (uint64_t)q;
}

static void bring_up(void)
{
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&dev.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(&dev.transport, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0xb);
	for (int q = 0; q < VIRTIO_FS_NQUEUES; q++) {
		mmio_queue(&dev.transport, (uint32_t)q, QS, qbase(q), qbase(q) + 0x1000,
			   qbase(q) + 0x2000);
	}
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(mmio_rd(&dev.transport, VIRTIO_MMIO_STATUS), 0xf);
}

/* Puts a one-buffer writable chain on queue q (descriptor d) and makes it
 * available. */
static void post(int q, uint16_t d, uint16_t avail_idx)
{
	struct guestmem *gm = &f.gm;
	struct vring_desc desc = {0x80000 + 0x1000 * (uint64_t)d, 64, VRING_DESC_F_WRITE, 0};
	memcpy(gm_ptr(gm, qbase(q) + 16 * (uint64_t)d, 16), &desc, 16);
	*(uint16_t *)gm_ptr(gm, qbase(q) + 0x1000 + 4 + 2 * (avail_idx % QS), 2) = d;
	*(uint16_t *)gm_ptr(gm, qbase(q) + 0x1000 + 2, 2) = (uint16_t)(avail_idx + 1);
}

static uint16_t used_idx(int q)
{
	return *(uint16_t *)gm_ptr(&f.gm, qbase(q) + 0x2000 + 2, 2);
}

static void dev_setup(void)
{
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(gm_alloc(&f.gm, FAKE_MEM, false), 0);
	nsubmitted = irqs = 0;
	virtio_fs_init(&dev, "share", &f.gm, &be, on_irq, NULL);
	bring_up();
}

static void dev_teardown(void)
{
	gm_free(&f.gm);
}

START_TEST(config_has_tag_and_one_request_queue)
{
	ck_assert_uint_eq(mmio_rd(&dev.transport, VIRTIO_MMIO_DEVICE_ID), 26);
	struct virtio_fs_config c;
	for (uint32_t i = 0; i < sizeof(c); i++)
		virtio_mmio_read(&dev.transport, 0x100 + i, (uint8_t *)&c + i, 1);
	ck_assert_int_eq(memcmp(c.tag, "share\0", 6), 0);
	ck_assert_uint_eq(c.num_request_queues, 1);
}
END_TEST

START_TEST(chains_go_to_backend_and_back)
{
	post(1, 0, 0);
	virtio_fs_process(&dev, 1);
	post(0, 3, 0);
	virtio_fs_process(&dev, 0);
	ck_assert_int_eq(nsubmitted, 2);
	ck_assert_int_eq(dev.slot[submitted[0]].queue, 1);
	ck_assert_int_eq(dev.slot[submitted[1]].queue, 0);
	ck_assert_uint_eq(dev.slot[submitted[1]].chain.head, 3);
	virtio_fs_complete(&dev, submitted[0], 40);
	ck_assert_uint_eq(used_idx(1), 1);
	ck_assert_uint_eq(used_idx(0), 0);
	struct vring_used_elem e;
	memcpy(&e, gm_ptr(&f.gm, qbase(1) + 0x2000 + 4, 8), 8);
	ck_assert_uint_eq(e.id, 0);
	ck_assert_uint_eq(e.len, 40);
	ck_assert_int_eq(irqs, 1);
	/* A second completion of the same slot is ignored. */
	virtio_fs_complete(&dev, submitted[0], 40);
	ck_assert_uint_eq(used_idx(1), 1);
	virtio_fs_complete(&dev, submitted[1], 0);
	ck_assert_uint_eq(used_idx(0), 1);
}
END_TEST

START_TEST(reset_with_nothing_in_flight_and_after_stop)
{
	post(1, 0, 0);
	virtio_fs_process(&dev, 1);
	ck_assert_int_eq(nsubmitted, 1);
	/* The backend still has it: a stopped device does not wait. */
	virtio_fs_stop(&dev);
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(mmio_rd(&dev.transport, VIRTIO_MMIO_STATUS), 0);
	/* Its late completion is not pushed into the reset queue. */
	virtio_fs_complete(&dev, submitted[0], 16);
	ck_assert_uint_eq(used_idx(1), 0);
	ck_assert_int_eq(irqs, 0);
}
END_TEST

START_TEST(bad_ring_needs_reset)
{
	/* A head index beyond the queue size. */
	*(uint16_t *)gm_ptr(&f.gm, qbase(1) + 0x1000 + 4, 2) = QS + 1;
	*(uint16_t *)gm_ptr(&f.gm, qbase(1) + 0x1000 + 2, 2) = 1;
	virtio_fs_process(&dev, 1);
	ck_assert_int_eq(nsubmitted, 0);
	ck_assert_uint_ne(mmio_rd(&dev.transport, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
			  0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_fs");
	TCase *t = tcase_create("fuse_req");
	tcase_add_test(t, lookup_name_split_over_buffers);
	tcase_add_test(t, bad_names_refused);
	tcase_add_test(t, symlink_target_may_have_slashes);
	tcase_add_test(t, length_must_match_chain);
	tcase_add_test(t, write_payload_in_place);
	tcase_add_test(t, setxattr_value_bounded);
	tcase_add_test(t, batch_forget_count_bounded);
	tcase_add_test(t, reply_across_buffers);
	tcase_add_test(t, no_room_for_reply);
	suite_add_tcase(s, t);
	t = tcase_create("device");
	tcase_add_checked_fixture(t, dev_setup, dev_teardown);
	tcase_add_test(t, config_has_tag_and_one_request_queue);
	tcase_add_test(t, chains_go_to_backend_and_back);
	tcase_add_test(t, reset_with_nothing_in_flight_and_after_stop);
	tcase_add_test(t, bad_ring_needs_reset);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
