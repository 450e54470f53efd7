/* Unit tests for devices/virtio_blk.c: a driver brings the device up
 * through the transport's registers and sends requests on a fake ring; the
 * backend is a RAM disk that completes when the test says so, or from
 * another thread while a reset waits for it. */
#include <check.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check_main.h"
#include "fake_virtq.h"
#include "mmio_regs.h"
#include "virtio_blk.h"

#define DISK_SIZE (64 * 1024)
#define HDR	  (FAKE_BUFS)	       /* request header */
#define DATA	  (FAKE_BUFS + 0x1000) /* data buffer */
#define STATUS	  (FAKE_BUFS + 0x3000) /* status byte */

static struct fake_vq f;
static struct virtio_blk b;
static uint8_t disk[DISK_SIZE];
static int irqs;

/* The RAM-disk backend: remembers the operation; io_complete() runs it. */
static struct {
	int slot;
	bool write, flush, pending;
	const struct iovec *iov;
	int iovcnt;
	uint64_t offset, discard_len;
	bool punch;
} op;
static int fail_start;

static int io_rw(struct blk_io *io, struct virtio_blk *dev, int slot, bool write,
		 const struct iovec *iov, int iovcnt, uint64_t offset)
{
	(void)io, (void)dev;
	if (fail_start)
		return -EIO;
	op = (typeof(op)){.slot = slot,
			  .write = write,
			  .pending = true,
			  .iov = iov,
			  .iovcnt = iovcnt,
			  .offset = offset};
	return 0;
}

static int io_flush(struct blk_io *io, struct virtio_blk *dev, int slot)
{
	(void)io, (void)dev;
	op = (typeof(op)){.slot = slot, .flush = true, .pending = true};
	return 0;
}

static int io_discard(struct blk_io *io, struct virtio_blk *dev, int slot, uint64_t offset,
		      uint64_t len, bool punch)
{
	(void)io, (void)dev;
	op = (typeof(op)){.slot = slot, .pending = true, .offset = offset};
	op.discard_len = len;
	op.punch = punch;
	return 0;
}

static struct blk_io io = {io_rw, io_flush, io_discard};

static void io_complete(int result_override)
{
	ck_assert(op.pending);
	op.pending = false;
	int done = 0;
	for (int i = 0; i < op.iovcnt; i++) {
		uint8_t *p = disk + op.offset + done;
		if (op.write)
			memcpy(p, op.iov[i].iov_base, op.iov[i].iov_len);
		else
			memcpy(op.iov[i].iov_base, p, op.iov[i].iov_len);
		done += op.iov[i].iov_len;
	}
	virtio_blk_complete(&b, op.slot, result_override ? result_override : done);
}

static void on_irq(void *opaque)
{
	(void)opaque;
	irqs++;
}

/* What Linux does to bring the device up, with one 16-entry queue. */
static void bring_up(unsigned allow)
{
	virtio_blk_init(&b, DISK_SIZE, allow, "test-disk", &f.gm, &io, on_irq, NULL);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&b.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(&b.transport, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0xb);
	mmio_wr(&b.transport, VIRTIO_MMIO_QUEUE_NUM, 16);
	mmio_wr(&b.transport, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)FAKE_DESC);
	mmio_wr(&b.transport, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)FAKE_AVAIL);
	mmio_wr(&b.transport, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)FAKE_USED);
	mmio_wr(&b.transport, VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(mmio_rd(&b.transport, VIRTIO_MMIO_STATUS), 0xf);
}

static void setup(void)
{
	fake_vq_init(&f, 16, false, false);
	for (int i = 0; i < DISK_SIZE; i++)
		disk[i] = (uint8_t)(i * 31 + 7);
	irqs = fail_start = 0;
	memset(&op, 0, sizeof(op));
	bring_up(BLK_REQ_DISCARD | BLK_REQ_WRITE_ZEROES);
}

static void teardown(void)
{
	fake_vq_free(&f);
}

/* Queues header + data (len, device-writable if in) + status at head 0. */
static void request(uint32_t type, uint64_t sector, uint32_t len, bool in)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = sector};
	memcpy(gm_ptr(&f.gm, HDR, sizeof(h)), &h, sizeof(h));
	*(uint8_t *)gm_ptr(&f.gm, STATUS, 1) = 0xff;
	fake_desc(&f, 0, HDR, sizeof(h), VRING_DESC_F_NEXT, 1);
	if (len) {
		fake_desc(&f, 1, DATA, len, VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0), 2);
		fake_desc(&f, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	} else {
		fake_desc(&f, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	}
	fake_publish(&f, 0);
	virtio_blk_process(&b);
}

static uint8_t status(void)
{
	return *(uint8_t *)gm_ptr(&f.gm, STATUS, 1);
}

static uint16_t used_idx(void)
{
	return *fake_u16(&f, FAKE_USED + 2);
}

START_TEST(config_space)
{
	struct virtio_blk_config c;
	virtio_mmio_read(&b.transport, VIRTIO_MMIO_CONFIG, (uint8_t *)&c.capacity, 8);
	ck_assert_uint_eq(c.capacity, DISK_SIZE / 512);
	uint32_t v = 0;
	virtio_mmio_read(&b.transport, VIRTIO_MMIO_CONFIG + 12, (uint8_t *)&v, 4);
	ck_assert_uint_eq(v, VIRTIO_BLK_SEG_MAX);
	mmio_wr(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(
		mmio_rd(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO), 0);
	v = 0xffffffff;
	virtio_mmio_read(&b.transport, VIRTIO_MMIO_CONFIG + 0xf0, (uint8_t *)&v, 4);
	ck_assert_uint_eq(v, 0); /* past the config: zeros */
}
END_TEST

START_TEST(read_completes_later)
{
	request(VIRTIO_BLK_T_IN, 2, 1024, true);
	ck_assert(op.pending);
	ck_assert_uint_eq(op.offset, 1024);
	ck_assert_uint_eq(used_idx(), 0); /* not before the backend is done */
	ck_assert_int_eq(irqs, 0);
	io_complete(0);
	ck_assert_uint_eq(used_idx(), 1);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake_used(&f, 0).len, 1025); /* data and status */
	ck_assert_mem_eq(gm_ptr(&f.gm, DATA, 1024), disk + 1024, 1024);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(mmio_rd(&b.transport, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
}
END_TEST

START_TEST(write_and_short_write)
{
	memset(gm_ptr(&f.gm, DATA, 512), 0xab, 512);
	request(VIRTIO_BLK_T_OUT, 1, 512, false);
	io_complete(0);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(disk[512], 0xab);
	ck_assert_uint_eq(fake_used(&f, 0).len, 1);
	request(VIRTIO_BLK_T_OUT, 1, 512, false);
	io_complete(100); /* the backend moved less than asked */
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_OUT, 1, 512, false);
	io_complete(-ENOSPC);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(read_only_disk)
{
	bring_up(BLK_REQ_RO | BLK_REQ_DISCARD);
	mmio_wr(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_ne(
		mmio_rd(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO), 0);
	/* Read-only wins: no discard offered. */
	ck_assert_uint_eq(mmio_rd(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES) &
				  (1u << VIRTIO_BLK_F_DISCARD),
			  0);
	request(VIRTIO_BLK_T_OUT, 0, 512, false);
	ck_assert(!op.pending); /* never reaches the backend */
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used_idx(), 1);
}
END_TEST

START_TEST(flush_get_id_unsupported_and_out_of_range)
{
	request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	ck_assert(op.pending && op.flush);
	virtio_blk_complete(&b, op.slot, 0);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	request(VIRTIO_BLK_T_GET_ID, 0, 20, true);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(gm_ptr(&f.gm, DATA, 10), "test-disk", 10);
	request(VIRTIO_BLK_T_SCSI_CMD, 0, 16, false);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
	request(VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512, true);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	fail_start = 1; /* the backend cannot take it */
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used_idx(), 5);
}
END_TEST

/* Puts one discard/write-zeroes segment in the data buffer. */
static void segment(uint64_t sector, uint32_t n, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes seg = {sector, n, flags};
	memcpy(gm_ptr(&f.gm, DATA, sizeof(seg)), &seg, sizeof(seg));
}

START_TEST(discard_and_write_zeroes)
{
	mmio_wr(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t feat = mmio_rd(&b.transport, VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert_uint_ne(feat & (1u << VIRTIO_BLK_F_DISCARD), 0);
	ck_assert_uint_ne(feat & (1u << VIRTIO_BLK_F_WRITE_ZEROES), 0);
	segment(4, 8, 0);
	request(VIRTIO_BLK_T_DISCARD, 0, 16, false);
	ck_assert(op.pending && op.punch);
	ck_assert_uint_eq(op.offset, 4 * 512);
	ck_assert_uint_eq(op.discard_len, 8 * 512);
	virtio_blk_complete(&b, op.slot, 0);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	/* WRITE_ZEROES zeroes in place unless UNMAP allows punching. */
	segment(0, 1, 0);
	request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	ck_assert(op.pending && !op.punch);
	virtio_blk_complete(&b, op.slot, -EOPNOTSUPP);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
	ck_assert(op.pending && op.punch);
	virtio_blk_complete(&b, op.slot, 0);
	/* Out of range, or a flag DISCARD does not have. */
	segment(DISK_SIZE / 512 - 1, 2, 0);
	op.pending = false;
	request(VIRTIO_BLK_T_DISCARD, 0, 16, false);
	ck_assert(!op.pending);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
	segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	request(VIRTIO_BLK_T_DISCARD, 0, 16, false);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
	/* Not offered: UNSUPP. */
	bring_up(0);
	f.avail_idx = 0;
	memset(f.gm.region[0].host + FAKE_AVAIL, 0, 0x20000);
	bring_up(0);
	segment(0, 1, 0);
	request(VIRTIO_BLK_T_DISCARD, 0, 16, false);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
}
END_TEST

START_TEST(malformed_ring_needs_reset)
{
	fake_desc(&f, 0, HDR, 16, VRING_DESC_F_NEXT, 0); /* a loop */
	fake_publish(&f, 0);
	virtio_blk_process(&b);
	ck_assert_uint_eq(mmio_rd(&b.transport, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
			  VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(irqs, 1); /* a config interrupt tells the driver */
	/* The device takes no more requests until reset. */
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	ck_assert(!op.pending);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(mmio_rd(&b.transport, VIRTIO_MMIO_STATUS), 0);
}
END_TEST

/* The backend's other thread (the event loop in the VMM): waits until a
 * reset is waiting for the request in flight, then, a little later,
 * delivers the completion (or, with stop, says none will come). */
struct backend_thread {
	pthread_t t;
	bool stop;
	atomic_bool done; /* the call that releases the reset is about to be made */
};

static bool reset_waiting(void)
{
	pthread_mutex_lock(&b.transport.lock);
	bool w = b.orphans > 0;
	pthread_mutex_unlock(&b.transport.lock);
	return w;
}

static void *backend_main(void *arg)
{
	struct backend_thread *bt = arg;
	while (!reset_waiting())
		usleep(1000);
	usleep(20000); /* a reset that did not wait would be back by now */
	/* Said before the call that releases the reset, not after: the reset
	 * may return (and the test look) as soon as that call signals it. */
	atomic_store(&bt->done, true);
	if (bt->stop) {
		virtio_blk_stop(&b);
	} else {
		memset(op.iov[0].iov_base, 0x5a, op.iov[0].iov_len); /* the read lands */
		op.pending = false;
		virtio_blk_complete(&b, op.slot, (int)op.iov[0].iov_len);
	}
	return NULL;
}

START_TEST(reset_waits_for_requests_in_flight)
{
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	ck_assert(op.pending);
	struct backend_thread bt = {0};
	ck_assert_int_eq(pthread_create(&bt.t, NULL, backend_main, &bt), 0);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS,
		0); /* the driver resets with the read in flight */
	/* The reset came back only after the completion, ... */
	ck_assert_msg(atomic_load(&bt.done), "reset returned with a request in flight");
	pthread_join(bt.t, NULL);
	/* ... which was not answered: nothing in the used ring or status. */
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status(), 0xff);
	ck_assert_int_eq(irqs, 0);
	ck_assert_int_eq(b.inflight, 0);
	ck_assert_int_eq(b.orphans, 0);
	/* A reset with nothing in flight does not wait. */
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0);
	/* And the device comes up again. */
	memset(f.gm.region[0].host + FAKE_AVAIL, 0, 0x20000);
	f.avail_idx = 0;
	bring_up(0);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	io_complete(0);
	ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used_idx(), 1);
}
END_TEST

START_TEST(stop_releases_a_waiting_reset)
{
	request(VIRTIO_BLK_T_OUT, 0, 512, false);
	struct backend_thread bt = {.stop = true};
	ck_assert_int_eq(pthread_create(&bt.t, NULL, backend_main, &bt), 0);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0); /* returns once the loop says it is done */
	ck_assert_msg(atomic_load(&bt.done), "reset returned before the stop");
	pthread_join(bt.t, NULL);
	ck_assert(op.pending);
	ck_assert_int_eq(b.orphans, 1);
	/* A completion arriving after all the same is dropped, ... */
	io_complete(0);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status(), 0xff);
	ck_assert_int_eq(b.orphans, 0);
	/* ... and after a stop a reset never waits. */
	memset(f.gm.region[0].host + FAKE_AVAIL, 0, 0x20000);
	f.avail_idx = 0;
	bring_up(0);
	virtio_blk_stop(&b);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	ck_assert(op.pending);
	mmio_wr(&b.transport, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(b.orphans, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("virtio_blk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_space);
	tcase_add_test(tc, read_completes_later);
	tcase_add_test(tc, write_and_short_write);
	tcase_add_test(tc, read_only_disk);
	tcase_add_test(tc, flush_get_id_unsupported_and_out_of_range);
	tcase_add_test(tc, malformed_ring_needs_reset);
	tcase_add_test(tc, discard_and_write_zeroes);
	tcase_add_test(tc, reset_waits_for_requests_in_flight);
	tcase_add_test(tc, stop_releases_a_waiting_reset);
	suite_add_tcase(s, tc);
	return check_run(s);
}
