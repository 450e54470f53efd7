/* Unit tests for devices/virtq.c: chains laid out by a fake driver in plain memory. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "fake_virtq.h"

static struct fake_vq f;
static struct virtq_chain *c;

static void setup(void)
{
	fake_vq_init(&f, 16, true, false);
	ck_assert_int_eq(virtq_start(&f.q), 0);
	c = malloc(sizeof(*c));
}

static void teardown(void)
{
	free(c);
	fake_vq_free(&f);
}

START_TEST(start_checks_size_and_rings)
{
	const uint16_t bad_sizes[] = {0, 3, 48};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		f.q.size = bad_sizes[i];
		ck_assert_int_eq(virtq_start(&f.q), -VIRTQ_ESIZE);
	}
	f.q.size = 16;
	f.q.desc_gpa = FAKE_DESC + 8; /* the table needs 16-byte alignment */
	ck_assert_int_eq(virtq_start(&f.q), -VIRTQ_ERING);
	f.q.desc_gpa = FAKE_DESC;
	f.q.used_gpa = FAKE_MEM - 64; /* runs past the end of RAM */
	ck_assert_int_eq(virtq_start(&f.q), -VIRTQ_ERING);
	f.q.used_gpa = UINT64_MAX - 3; /* wraps */
	ck_assert_int_eq(virtq_start(&f.q), -VIRTQ_ERING);
	f.q.used_gpa = FAKE_USED;
	f.q.size = 32768;
	ck_assert_int_eq(virtq_start(&f.q), 0);
}
END_TEST

START_TEST(pops_a_chain_readable_then_writable)
{
	ck_assert_int_eq(virtq_pop(&f.q, c), 0); /* nothing available yet */
	fake_desc(&f, 5, FAKE_BUFS, 16, VRING_DESC_F_NEXT, 2);
	fake_desc(&f, 2, FAKE_BUFS + 0x100, 512, VRING_DESC_F_NEXT, 9);
	fake_desc(&f, 9, FAKE_BUFS + 0x1000, 1, VRING_DESC_F_WRITE, 0);
	fake_publish(&f, 5);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	ck_assert_uint_eq(c->head, 5);
	ck_assert_int_eq(c->n, 3);
	ck_assert_int_eq(c->nread, 2);
	ck_assert_uint_eq(c->read_len, 528);
	ck_assert_uint_eq(c->write_len, 1);
	ck_assert_ptr_eq(c->buf[0].host, gm_ptr(&f.gm, FAKE_BUFS, 16));
	ck_assert_ptr_eq(c->buf[1].host, gm_ptr(&f.gm, FAKE_BUFS + 0x100, 512));
	ck_assert(!c->buf[1].writable);
	ck_assert(c->buf[2].writable);
	ck_assert_int_eq(virtq_pop(&f.q, c), 0); /* taken once only */
}
END_TEST

START_TEST(push_fills_the_used_ring)
{
	fake_desc(&f, 0, FAKE_BUFS, 8, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < 20; i++) { /* past the ring's end: indexes wrap */
		fake_publish(&f, 0);
		ck_assert_int_eq(virtq_pop(&f.q, c), 1);
		virtq_push(&f.q, c->head, 7 + i);
		struct vring_used_elem e = fake_used(&f, i % 16);
		ck_assert_uint_eq(e.id, 0);
		ck_assert_uint_eq(e.len, 7 + i);
		ck_assert_uint_eq(*fake_u16(&f, FAKE_USED + 2), i + 1);
	}
}
END_TEST

START_TEST(zero_length_buffer_is_allowed)
{
	fake_desc(&f, 0, UINT64_MAX, 0, VRING_DESC_F_NEXT, 1); /* address never used */
	fake_desc(&f, 1, FAKE_BUFS, 4, 0, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	ck_assert_int_eq(c->n, 2);
	ck_assert_ptr_null(c->buf[0].host);
	ck_assert_uint_eq(c->buf[0].len, 0);
}
END_TEST

START_TEST(loop_is_caught)
{
	fake_desc(&f, 0, FAKE_BUFS, 4, VRING_DESC_F_NEXT, 1);
	fake_desc(&f, 1, FAKE_BUFS, 4, VRING_DESC_F_NEXT, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ELOOP);
}
END_TEST

START_TEST(self_loop_is_caught)
{
	fake_desc(&f, 3, FAKE_BUFS, 4, VRING_DESC_F_NEXT, 3);
	fake_publish(&f, 3);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ELOOP);
}
END_TEST

START_TEST(bad_indexes)
{
	fake_publish(&f, 16); /* head == size */
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EHEAD);
	fake_desc(&f, 0, FAKE_BUFS, 4, VRING_DESC_F_NEXT, 200);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ENEXT);
	fake_desc(&f, 0, FAKE_BUFS, 4, VRING_DESC_F_NEXT, 16); /* == size */
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ENEXT);
	/* The driver claims 17 new entries on a 16-entry ring. */
	*fake_u16(&f, FAKE_AVAIL + 2) = f.q.last_avail + 17;
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EAVAIL);
}
END_TEST

START_TEST(out_of_range_buffers)
{
	fake_desc(&f, 0, FAKE_MEM - 4, 8, 0, 0); /* runs past RAM */
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EADDR);
	fake_desc(&f, 0, UINT64_MAX - 2, 8, 0, 0); /* wraps */
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EADDR);
	fake_desc(&f, 0, 0xfee00000, 4, 0, 0); /* not RAM at all */
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EADDR);
}
END_TEST

START_TEST(readable_after_writable_is_refused)
{
	fake_desc(&f, 0, FAKE_BUFS, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fake_desc(&f, 1, FAKE_BUFS, 4, 0, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EORDER);
}
END_TEST

START_TEST(indirect_table)
{
	const uint64_t table = FAKE_BUFS + 0x8000;
	fake_desc_at(&f, table, 0, FAKE_BUFS, 16, VRING_DESC_F_NEXT, 2);
	fake_desc_at(&f, table, 2, FAKE_BUFS + 0x100, 100, VRING_DESC_F_NEXT, 1);
	fake_desc_at(&f, table, 1, FAKE_BUFS + 0x200, 1, VRING_DESC_F_WRITE, 0);
	fake_desc(&f, 7, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	fake_publish(&f, 7);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	ck_assert_uint_eq(c->head, 7);
	ck_assert_int_eq(c->n, 3);
	ck_assert_int_eq(c->nread, 2);
	ck_assert_uint_eq(c->read_len, 116);
	ck_assert_ptr_eq(c->buf[2].host, gm_ptr(&f.gm, FAKE_BUFS + 0x200, 1));

	/* next is checked against the table's own length, not the queue's. */
	fake_desc_at(&f, table, 1, FAKE_BUFS, 1, VRING_DESC_F_NEXT, 3);
	fake_publish(&f, 7);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ENEXT);

	/* A loop inside the table is bounded by the table's length. */
	fake_desc_at(&f, table, 1, FAKE_BUFS, 1, VRING_DESC_F_NEXT, 0);
	fake_publish(&f, 7);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ELOOP);
}
END_TEST

START_TEST(indirect_misuse)
{
	const uint64_t table = FAKE_BUFS + 0x8000;
	fake_desc_at(&f, table, 0, FAKE_BUFS, 16, 0, 0);
	/* INDIRECT together with NEXT. */
	fake_desc(&f, 0, table, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EINDIRECT);
	/* Not a whole number of descriptors; empty; outside memory. */
	const uint32_t lens[] = {24, 0};
	for (int i = 0; i < 2; i++) {
		fake_desc(&f, 0, table, lens[i], VRING_DESC_F_INDIRECT, 0);
		fake_publish(&f, 0);
		ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EINDIRECT);
	}
	fake_desc(&f, 0, FAKE_MEM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EINDIRECT);
	/* Nested: an indirect descriptor inside an indirect table. */
	fake_desc_at(&f, table, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	fake_desc(&f, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EINDIRECT);
	/* Not negotiated. */
	fake_desc_at(&f, table, 0, FAKE_BUFS, 16, 0, 0);
	f.q.indirect = false;
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_EINDIRECT);
}
END_TEST

START_TEST(chain_longer_than_the_limit)
{
	/* A 1024-entry queue and one chain through all of it: longer than
	 * VIRTQ_MAX_CHAIN buffers, though not a loop. */
	fake_vq_free(&f);
	fake_vq_init(&f, 1024, false, false);
	ck_assert_int_eq(virtq_start(&f.q), 0);
	for (int i = 0; i < 1024; i++)
		fake_desc(&f, i, FAKE_BUFS, 1, i < 1023 ? VRING_DESC_F_NEXT : 0, i + 1);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), -VIRTQ_ELOOP);
	/* Exactly the limit is fine. */
	fake_desc(&f, VIRTQ_MAX_CHAIN - 1, FAKE_BUFS, 1, 0, 0);
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	ck_assert_int_eq(c->n, VIRTQ_MAX_CHAIN);
}
END_TEST

START_TEST(notify_without_event_idx)
{
	fake_desc(&f, 0, FAKE_BUFS, 1, VRING_DESC_F_WRITE, 0);
	ck_assert(!virtq_should_notify(&f.q) || true); /* nothing pushed: either is harmless */
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	virtq_push(&f.q, 0, 1);
	ck_assert(virtq_should_notify(&f.q));
	ck_assert(!virtq_should_notify(&f.q)); /* nothing new since */
	*fake_u16(&f, FAKE_AVAIL) = VRING_AVAIL_F_NO_INTERRUPT;
	fake_publish(&f, 0);
	ck_assert_int_eq(virtq_pop(&f.q, c), 1);
	virtq_push(&f.q, 0, 1);
	ck_assert(!virtq_should_notify(&f.q));
}
END_TEST

START_TEST(notify_with_event_idx)
{
	fake_vq_free(&f);
	fake_vq_init(&f, 16, false, true);
	ck_assert_int_eq(virtq_start(&f.q), 0);
	uint16_t *used_event = fake_u16(&f, FAKE_AVAIL + 4 + 2 * 16);
	fake_desc(&f, 0, FAKE_BUFS, 1, VRING_DESC_F_WRITE, 0);
	/* The driver wants an interrupt once used idx passes 2 (i.e. when
	 * entry 2 is used, idx becomes 3). */
	*used_event = 2;
	int notified_at = -1;
	for (int i = 1; i <= 5; i++) {
		fake_publish(&f, 0);
		ck_assert_int_eq(virtq_pop(&f.q, c), 1);
		virtq_push(&f.q, 0, 1);
		bool n = virtq_should_notify(&f.q);
		if (i == 1)
			ck_assert(n); /* the first one always: no state yet */
		else if (n && notified_at < 0)
			notified_at = i;
	}
	ck_assert_int_eq(notified_at, 3);

	/* avail_event tells the driver how far we have consumed. */
	virtq_set_avail_event(&f.q);
	ck_assert_uint_eq(*fake_u16(&f, FAKE_USED + 4 + 8 * 16), 5);
}
END_TEST

START_TEST(every_error_has_its_own_message)
{
	for (int i = 0; i < VIRTQ_ERROR_COUNT; i++)
		for (int j = i + 1; j < VIRTQ_ERROR_COUNT; j++)
			ck_assert_str_ne(virtq_strerror(i), virtq_strerror(j));
	ck_assert_str_eq(virtq_strerror(-VIRTQ_ELOOP), virtq_strerror(VIRTQ_ELOOP));
	ck_assert_str_eq(virtq_strerror(VIRTQ_ERROR_COUNT), "unknown virtqueue error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("virtq");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, start_checks_size_and_rings);
	tcase_add_test(tc, pops_a_chain_readable_then_writable);
	tcase_add_test(tc, push_fills_the_used_ring);
	tcase_add_test(tc, zero_length_buffer_is_allowed);
	tcase_add_test(tc, loop_is_caught);
	tcase_add_test(tc, self_loop_is_caught);
	tcase_add_test(tc, bad_indexes);
	tcase_add_test(tc, out_of_range_buffers);
	tcase_add_test(tc, readable_after_writable_is_refused);
	tcase_add_test(tc, indirect_table);
	tcase_add_test(tc, indirect_misuse);
	tcase_add_test(tc, chain_longer_than_the_limit);
	tcase_add_test(tc, notify_without_event_idx);
	tcase_add_test(tc, notify_with_event_idx);
	tcase_add_test(tc, every_error_has_its_own_message);
	suite_add_tcase(s, tc);
	return check_run(s);
}
