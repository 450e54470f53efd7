/* Unit tests for vmm/evloop.c's fixed files: reads, writes, fdatasync and
 * fallocate on a registered image file, several in flight at once, the
 * slot table filling up and freeing, plain fd operations alongside, and
 * the ring's restrictions.
 * Needs io_uring (not KVM); skips where the kernel refuses it. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"

#define FILE_SIZE (256 * 1024)
#define NOPS	  32

static struct evloop l;
static int fd;

/* An operation that records its result; the loop stops when `want` of
 * them have completed. */
struct rec {
	struct ev_op op;
	int res;
	bool done;
};
static int done, want;

static void rec_done(struct ev_op *op, int res)
{
	struct rec *r = container_of(op, struct rec, op);
	r->res = res;
	r->done = true;
	if (++done == want)
		evloop_stop(&l);
}

/* Runs the loop until n more operations have completed. */
static void run(int n)
{
	done = 0;
	want = n;
	l.stop = false; /* white box: evloop_stop() is for good otherwise */
	ck_assert_int_eq(evloop_run(&l), 0);
	ck_assert_int_eq(done, n);
}

static void setup(void)
{
	ck_assert_int_eq(evloop_init(&l, NULL, NULL), 0);
	char path[] = "/tmp/test_evloop.XXXXXX";
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(fd, FILE_SIZE), 0);
}

static void teardown(void)
{
	evloop_destroy(&l);
	close(fd);
}

static void fill(uint8_t *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

START_TEST(fixed_file_read_write_sync)
{
	int file = evloop_register_file(&l, fd);
	ck_assert_int_ge(file, 0);
	/* The slot is not the fd: an op without IOSQE_FIXED_FILE would go to
	 * some other file (fd 0 is stdin) and fail the checks below. */
	ck_assert_int_ne(file, fd);
	static uint8_t a[4096], b2[4096], back[8192];
	fill(a, sizeof(a), 1);
	fill(b2, sizeof(b2), 2);
	struct iovec w[2] = {{a, sizeof(a)}, {b2, sizeof(b2)}};
	struct rec r = {.op = {rec_done}};
	evloop_writev_fixed(&l, &r.op, file, w, 2, 8192);
	run(1);
	ck_assert_int_eq(r.res, 8192);
	evloop_fdatasync_fixed(&l, &r.op, file);
	run(1);
	ck_assert_int_eq(r.res, 0);
	struct iovec rd = {back, sizeof(back)};
	evloop_readv_fixed(&l, &r.op, file, &rd, 1, 8192);
	run(1);
	ck_assert_int_eq(r.res, 8192);
	ck_assert_mem_eq(back, a, 4096);
	ck_assert_mem_eq(back + 4096, b2, 4096);
	/* The same bytes through the plain fd: the slot was that file. */
	ck_assert_int_eq(pread(fd, back, 8192, 8192), 8192);
	ck_assert_mem_eq(back, a, 4096);
	/* Punch the first page: it reads as zeros (where the file system can). */
	evloop_fallocate_fixed(&l, &r.op, file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192,
			       4096);
	run(1);
	if (r.res != -EOPNOTSUPP) {
		static const uint8_t zero[4096];
		ck_assert_int_eq(r.res, 0);
		ck_assert_int_eq(pread(fd, back, 4096, 8192), 4096);
		ck_assert_mem_eq(back, zero, 4096);
	}
}
END_TEST

START_TEST(several_in_flight)
{
	static uint8_t data[FILE_SIZE], got[NOPS][4096];
	fill(data, sizeof(data), 3);
	ck_assert_int_eq(pwrite(fd, data, sizeof(data), 0), FILE_SIZE);
	int file = evloop_register_file(&l, fd);
	ck_assert_int_ge(file, 0);
	/* More than the ring's entries, queued before any is reaped. */
	static struct rec r[NOPS * 3];
	static struct iovec iov[NOPS * 3];
	int n = 0;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < NOPS; i++, n++) {
			r[n] = (struct rec){.op = {rec_done}};
			iov[n] = (struct iovec){got[i], 4096};
			evloop_readv_fixed(&l, &r[n].op, file, &iov[n], 1,
					   (uint64_t)((i * 5 + round) % 64) * 4096);
		}
	run(n);
	for (int k = 0; k < n; k++) {
		ck_assert(r[k].done);
		ck_assert_int_eq(r[k].res, 4096);
	}
	/* The last round's data landed where each read asked. */
	for (int i = 0; i < NOPS; i++)
		ck_assert_mem_eq(got[i], data + ((i * 5 + 2) % 64) * 4096, 4096);
}
END_TEST

START_TEST(slots_fill_and_free)
{
	int slot[EVLOOP_MAX_FILES];
	for (int i = 0; i < EVLOOP_MAX_FILES; i++) {
		slot[i] = evloop_register_file(&l, fd);
		ck_assert_int_eq(slot[i], i);
	}
	ck_assert_int_eq(evloop_register_file(&l, fd), -ENFILE);
	evloop_unregister_file(&l, slot[5]);
	ck_assert_int_eq(evloop_register_file(&l, fd), 5);
	ck_assert_int_eq(evloop_register_file(&l, -1), -EBADF);
}
END_TEST

START_TEST(registered_file_outlives_its_fd)
{
	static uint8_t data[4096], back[4096];
	fill(data, sizeof(data), 4);
	ck_assert_int_eq(pwrite(fd, data, sizeof(data), 0), 4096);
	int dup_fd = dup(fd);
	int file = evloop_register_file(&l, dup_fd);
	close(dup_fd); /* the ring keeps its own reference */
	struct rec r = {.op = {rec_done}};
	struct iovec rd = {back, sizeof(back)};
	evloop_readv_fixed(&l, &r.op, file, &rd, 1, 0);
	run(1);
	ck_assert_int_eq(r.res, 4096);
	ck_assert_mem_eq(back, data, 4096);
	/* An unregistered slot is refused, not some other file. */
	evloop_unregister_file(&l, file);
	evloop_readv_fixed(&l, &r.op, file, &rd, 1, 0);
	run(1);
	ck_assert_int_eq(r.res, -EBADF);
}
END_TEST

START_TEST(plain_fd_ops_alongside)
{
	static uint8_t data[4096], back[4096];
	fill(data, sizeof(data), 5);
	ck_assert_int_ge(evloop_register_file(&l, fd), 0);
	struct rec r = {.op = {rec_done}};
	struct iovec w = {data, sizeof(data)}, rd = {back, sizeof(back)};
	evloop_writev(&l, &r.op, fd, &w, 1, 4096);
	run(1);
	ck_assert_int_eq(r.res, 4096);
	evloop_fdatasync(&l, &r.op, fd);
	run(1);
	ck_assert_int_eq(r.res, 0);
	evloop_readv(&l, &r.op, fd, &rd, 1, 4096);
	run(1);
	ck_assert_int_eq(r.res, 4096);
	ck_assert_mem_eq(back, data, 4096);
}
END_TEST

/* The ring takes only the operations the loop's calls make: an openat
 * submitted behind its back (as an exploited device might) is refused, so
 * are other flags and other register calls; allowed ones still work. */
START_TEST(ring_refuses_other_ops)
{
	struct rec r = {.op = {rec_done}};
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l.ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	io_uring_sqe_set_data(sqe, &r.op);
	run(1);
	ck_assert_int_eq(r.res, -EACCES);

	static uint8_t buf[512];
	sqe = io_uring_get_sqe(&l.ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, &r.op);
	run(1);
	ck_assert_int_eq(r.res, -EACCES);

	struct iovec iov = {buf, sizeof(buf)};
	ck_assert_int_eq(
		io_uring_register((unsigned)l.ring.ring_fd, IORING_REGISTER_BUFFERS, &iov, 1),
		-EACCES);

	evloop_read(&l, &r.op, fd, buf, sizeof(buf));
	run(1);
	ck_assert_int_eq(r.res, (int)sizeof(buf));
}
END_TEST

int main(void)
{
	struct evloop probe;
	if (evloop_init(&probe, NULL, NULL)) {
		printf("SKIP: io_uring is not available here\n");
		return 77;
	}
	evloop_destroy(&probe);
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("evloop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fixed_file_read_write_sync);
	tcase_add_test(tc, several_in_flight);
	tcase_add_test(tc, slots_fill_and_free);
	tcase_add_test(tc, registered_file_outlives_its_fd);
	tcase_add_test(tc, plain_fd_ops_alongside);
	tcase_add_test(tc, ring_refuses_other_ops);
	suite_add_tcase(s, tc);
	return check_run(s);
}
