/* Unit tests for devices/virtio_mmio.c: the driver's side of the register
 * protocol, played against a recording fake device. */
#include <check.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "check_main.h"
#include "fake_virtq.h"
#include "mmio_regs.h"
#include "virtio_mmio.h"

static struct fake_vq f; /* guest memory and ring addresses */
static struct virtio_mmio m;
static int activated, resets, irqs, notified;
static uint64_t active_features;
static int refuse_activate;
static uint8_t config[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void cfg_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	for (uint32_t i = 0; i < len; i++)
		data[i] = off + i < sizeof(config) ? config[off + i] : 0;
}

static void cfg_write(void *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	(void)dev;
	for (uint32_t i = 0; i < len && off + i < sizeof(config); i++)
		config[off + i] = data[i];
}

static int activate(void *dev, uint64_t features)
{
	(void)dev;
	activated++;
	active_features = features;
	return refuse_activate;
}

static void reset(void *dev)
{
	(void)dev;
	resets++;
}

static void irq(void *dev)
{
	(void)dev;
	irqs++;
}

static void notify(void *dev, int queue)
{
	(void)dev;
	notified = queue;
}

static const struct virtio_dev_ops ops = {cfg_read, cfg_write, activate, reset, notify, irq};

#define FEATURE_X 5 /* some device feature bit */

static void setup(void)
{
	fake_vq_init(&f, 16, false, false);
	virtio_mmio_init(&m, 2, 1ULL << FEATURE_X, 2, 256, &f.gm, &ops, NULL);
	activated = resets = irqs = refuse_activate = 0;
	notified = -1;
	active_features = 0;
}

static void teardown(void)
{
	fake_vq_free(&f);
}

/* The Linux driver's order: ACK, DRIVER, features, FEATURES_OK. */
static void negotiate(uint64_t features)
{
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 3 | VIRTIO_CONFIG_S_FEATURES_OK);
}

static void setup_queue0(uint32_t size)
{
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NUM, size);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)FAKE_DESC);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)FAKE_AVAIL);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)FAKE_USED);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_READY, 1);
}

static const uint64_t V1 = 1ULL << VIRTIO_F_VERSION_1;

START_TEST(identity_registers)
{
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_DEVICE_ID), 2);
	mmio_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), 1u << FEATURE_X);
	mmio_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 is bit 32 */
	mmio_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	/* A 2-byte register access reads zeros and writes nothing. */
	uint16_t h = 0xffff;
	virtio_mmio_read(&m, VIRTIO_MMIO_MAGIC_VALUE, (uint8_t *)&h, 2);
	ck_assert_uint_eq(h, 0);
	virtio_mmio_write(&m, VIRTIO_MMIO_STATUS, (const uint8_t *)&h, 2);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 0);
}
END_TEST

START_TEST(full_initialisation)
{
	negotiate(V1 | 1ULL << FEATURE_X);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 3 | VIRTIO_CONFIG_S_FEATURES_OK);
	setup_queue0(16);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_READY), 1);
	ck_assert_ptr_nonnull(m.queue[0].desc);
	ck_assert_int_eq(activated, 0);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 0xf);
	ck_assert_int_eq(activated, 1);
	ck_assert_uint_eq(active_features, V1 | 1ULL << FEATURE_X);
	ck_assert_int_eq(irqs, 0);
}
END_TEST

START_TEST(features_ok_refused)
{
	negotiate(V1 | 1ULL << 7); /* bit 7 was not offered */
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 3);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(1ULL << FEATURE_X); /* a legacy driver: no VERSION_1 */
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 3);
	/* Features cannot change once accepted. */
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(V1);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1u << FEATURE_X);
	ck_assert_uint_eq(m.driver_features, V1);
}
END_TEST

START_TEST(status_transition_table)
{
	const uint32_t A = 1, D = 2, FO = 8, DO = 4, FAIL = 0x80, NR = 0x40;
	ck_assert(virtio_status_allowed(0, A));
	ck_assert(virtio_status_allowed(A, A | D));
	ck_assert(virtio_status_allowed(A | D, A | D | FO));
	ck_assert(virtio_status_allowed(A | D | FO, A | D | FO | DO));
	ck_assert(virtio_status_allowed(A | D | FO | DO, 0));
	ck_assert(virtio_status_allowed(A | D, A | D | FAIL));
	ck_assert(virtio_status_allowed(A | D | FO | DO | NR, 0));
	ck_assert(!virtio_status_allowed(0, D));	       /* skips ACK */
	ck_assert(!virtio_status_allowed(A | D, A | D | DO));  /* skips FEATURES_OK */
	ck_assert(!virtio_status_allowed(A | D | FO, A | FO)); /* clears a bit */
	ck_assert(!virtio_status_allowed(A, A | NR));	       /* the device's bit */
	ck_assert(!virtio_status_allowed(A | FAIL, A | D | FAIL));

	/* A bad write before DRIVER_OK: NEEDS_RESET, but no interrupt. */
	mmio_wr(&m, VIRTIO_MMIO_STATUS, D);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), NR);
	ck_assert_int_eq(irqs, 0);
	/* After DRIVER_OK: NEEDS_RESET and a config interrupt. */
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(V1);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, A | D | FO | DO);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, A);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), A | D | FO | DO | NR);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irqs, 1);
}
END_TEST

START_TEST(queue_setup_only_in_its_window)
{
	/* Before FEATURES_OK: ignored. */
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 16);
	ck_assert_uint_eq(m.queue[0].size, 0);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(V1);
	setup_queue0(16);
	/* A ready queue cannot be moved. */
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x50000);
	ck_assert_uint_eq(m.queue[0].desc_gpa, FAKE_DESC);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0xf);
	/* After DRIVER_OK: ignored. */
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 1);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 16);
	ck_assert_uint_eq(m.queue[1].size, 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS) & 0x40, 0);
}
END_TEST

START_TEST(bad_queue_needs_reset)
{
	negotiate(V1);
	setup_queue0(12); /* not a power of 2 */
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS) & 0x40, 0x40);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(V1);
	setup_queue0(512); /* above QueueNumMax */
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS) & 0x40, 0x40);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	negotiate(V1);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 16);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_USED_HIGH, 0x10); /* far outside guest memory */
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS) & 0x40, 0x40);
}
END_TEST

START_TEST(activate_refused_needs_reset)
{
	refuse_activate = 1;
	negotiate(V1);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 0xf | 0x40);
	ck_assert_int_eq(irqs, 1);
}
END_TEST

START_TEST(reset_clears_everything)
{
	negotiate(V1);
	setup_queue0(16);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0xf);
	virtio_mmio_signal_used(&m);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(resets, 1);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(m.driver_features, 0);
	ck_assert_ptr_null(m.queue[0].desc);
	ck_assert_ptr_eq(m.queue[0].gm, &f.gm); /* ready for the next driver */
}
END_TEST

START_TEST(interrupts_and_ack)
{
	virtio_mmio_signal_used(&m);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	virtio_mmio_signal_config(&m);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	mmio_wr(&m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(mmio_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}
END_TEST

START_TEST(notify_only_when_running)
{
	negotiate(V1);
	setup_queue0(16);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_int_eq(notified, -1); /* not DRIVER_OK yet */
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 0xf);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* queue 1 never became ready */
	ck_assert_int_eq(notified, -1);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	ck_assert_int_eq(notified, -1);
	mmio_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_int_eq(notified, 0);
}
END_TEST

START_TEST(config_space)
{
	uint8_t b[3] = {0};
	virtio_mmio_read(&m, VIRTIO_MMIO_CONFIG + 2, b, 3);
	ck_assert_uint_eq(b[0], 3);
	ck_assert_uint_eq(b[2], 5);
	b[0] = 0x99;
	virtio_mmio_write(&m, VIRTIO_MMIO_CONFIG + 1, b, 1); /* before DRIVER: ignored */
	ck_assert_uint_eq(config[1], 2);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&m, VIRTIO_MMIO_STATUS, 3);
	virtio_mmio_write(&m, VIRTIO_MMIO_CONFIG + 1, b, 1);
	ck_assert_uint_eq(config[1], 0x99);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_mmio");
	TCase *tc = tcase_create("virtio_mmio");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_registers);
	tcase_add_test(tc, full_initialisation);
	tcase_add_test(tc, features_ok_refused);
	tcase_add_test(tc, status_transition_table);
	tcase_add_test(tc, queue_setup_only_in_its_window);
	tcase_add_test(tc, bad_queue_needs_reset);
	tcase_add_test(tc, activate_refused_needs_reset);
	tcase_add_test(tc, reset_clears_everything);
	tcase_add_test(tc, interrupts_and_ack);
	tcase_add_test(tc, notify_only_when_running);
	tcase_add_test(tc, config_space);
	suite_add_tcase(s, tc);
	return check_run(s);
}
