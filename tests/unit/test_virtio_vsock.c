/* Unit tests for devices/virtio_vsock.c: a fake driver brings the device
 * up through the transport's registers and exchanges packets on RX and TX
 * rings in plain memory; a fake backend records what the device asks of
 * the host side, and the test answers for it. */
#include <check.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <string.h>

#include "check_main.h"
#include "fake_driver.h"
#include "guestmem.h"
#include "virtio_vsock.h"

#define CID	 42
#define QSIZE	 16
#define MEM	 (4ULL << 20)
#define BUFS	 0x100000ULL /* packet buffers from here */
#define BUF_SIZE 0x2000ULL

static struct virtio_vsock v;
static int irqs, wakes;

/* ---- the fake driver (fake_driver.h) ---- */

static struct fake_driver drv;

static void put_hdr(uint8_t *p, const struct vsock_hdr *h)
{
	struct virtio_vsock_hdr w = {
		.src_cid = h->src_cid,
		.dst_cid = h->dst_cid,
		.src_port = h->src_port,
		.dst_port = h->dst_port,
		.len = h->len,
		.type = h->type,
		.op = h->op,
		.flags = h->flags,
		.buf_alloc = h->buf_alloc,
		.fwd_cnt = h->fwd_cnt,
	};
	memcpy(p, &w, sizeof(w));
}

static struct vsock_hdr get_hdr(const uint8_t *p)
{
	struct virtio_vsock_hdr w;
	memcpy(&w, p, sizeof(w));
	return (struct vsock_hdr){w.src_cid, w.dst_cid, w.src_port, w.dst_port,	 w.len,
				  w.type,    w.op,	w.flags,    w.buf_alloc, w.fwd_cnt};
}

/* The guest's side of one connection: its port, the host port, credit. */
struct gsock {
	uint32_t port, host_port;
	uint32_t buf_alloc, fwd_cnt;
};

/* The guest sends a packet: header and payload in two descriptors, as
 * Linux 6.1 does (one descriptor when there is no payload). */
static void guest_send(const struct gsock *s, uint16_t op, uint32_t flags, const void *data,
		       uint32_t len)
{
	struct vsock_hdr h = {
		CID, VSOCK_HOST_CID, s->port,	   s->host_port, len, VIRTIO_VSOCK_TYPE_STREAM,
		op,  flags,	     s->buf_alloc, s->fwd_cnt};
	uint64_t gpa[2] = {fd_alloc_buf(&drv), 0};
	uint32_t lens[2] = {VSOCK_HDR_SIZE, len};
	put_hdr(fd_at(&drv, gpa[0], VSOCK_HDR_SIZE), &h);
	if (len) {
		gpa[1] = fd_alloc_buf(&drv);
		ck_assert_uint_le(len, BUF_SIZE);
		memcpy(fd_at(&drv, gpa[1], len), data, len);
	}
	fd_post(&drv, VSOCK_TXQ, len ? 2 : 1, gpa, lens, false);
	virtio_vsock_tx_kick(&v);
}

/* Makes n RX buffers of size bytes (header and payload in one) available;
 * a driver never has more than the queue size outstanding. */
static void rx_buffers(int n, uint32_t size)
{
	for (int i = 0; i < n; i++) {
		ck_assert_uint_lt(
			(uint16_t)(drv.q[VSOCK_RXQ].avail_idx - fd_used_idx(&drv, VSOCK_RXQ)),
			QSIZE);
		uint64_t gpa = fd_alloc_buf(&drv);
		ck_assert_uint_le(size, BUF_SIZE);
		fd_post(&drv, VSOCK_RXQ, 1, &gpa, &size, true);
	}
	virtio_vsock_rx_kick(&v);
}

/* The next packet the device put in the RX queue; payload copied to data. */
static bool guest_recv(struct vsock_hdr *h, void *data)
{
	uint64_t gpa;
	uint32_t len;
	if (!fd_take_used(&drv, VSOCK_RXQ, &gpa, &len))
		return false;
	ck_assert_uint_ge(len, VSOCK_HDR_SIZE);
	*h = get_hdr(fd_at(&drv, gpa, VSOCK_HDR_SIZE));
	ck_assert_uint_eq(len, VSOCK_HDR_SIZE + h->len);
	if (data && h->len)
		memcpy(data, fd_at(&drv, gpa + VSOCK_HDR_SIZE, h->len), h->len);
	return true;
}

/* ---- the fake backend ---- */

static struct {
	int connects, accepts, sends, recvs, shutdowns, closes;
	struct vsock_conn *last;
	struct iovec send_iov[2], recv_iov[2];
	int send_n, recv_n;
} be_log;

static int connect_err; /* be_connect fails to start with it */

static int be_connect(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	be_log.connects++;
	be_log.last = c;
	return connect_err;
}

static void be_accepted(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	be_log.accepts++;
	be_log.last = c;
}

static void be_send(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	(void)b, (void)c;
	ck_assert_int_le(n, 2);
	be_log.sends++;
	memcpy(be_log.send_iov, iov, n * sizeof(*iov));
	be_log.send_n = n;
}

static void be_recv(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	(void)b, (void)c;
	ck_assert_int_le(n, 2);
	be_log.recvs++;
	memcpy(be_log.recv_iov, iov, n * sizeof(*iov));
	be_log.recv_n = n;
}

static void be_shutdown(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b, (void)c;
	be_log.shutdowns++;
}

static void be_close(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	be_log.closes++;
	be_log.last = c;
}

static struct vsock_backend be = {be_connect, be_accepted, be_send, be_recv, be_shutdown, be_close};

/* The bytes the device asked the backend to send, gathered. */
static size_t sent_bytes(uint8_t *out)
{
	size_t n = 0;
	for (int i = 0; i < be_log.send_n; i++) {
		memcpy(out + n, be_log.send_iov[i].iov_base, be_log.send_iov[i].iov_len);
		n += be_log.send_iov[i].iov_len;
	}
	return n;
}

/* The host side "receives" len bytes of data into the device's buffers,
 * as many reads as it takes (each needs a recv the device asked for). */
static void host_data(struct vsock_conn *c, const uint8_t *data, size_t len)
{
	while (len) {
		ck_assert(c->receiving);
		size_t done = 0;
		for (int i = 0; i < be_log.recv_n && done < len; i++) {
			size_t n = be_log.recv_iov[i].iov_len < len - done
					   ? be_log.recv_iov[i].iov_len
					   : len - done;
			memcpy(be_log.recv_iov[i].iov_base, data + done, n);
			done += n;
		}
		virtio_vsock_received(&v, c, (int)done);
		data += done;
		len -= done;
	}
}

static void on_irq(void *o)
{
	(void)o;
	irqs++;
}

static void on_wake(void *o)
{
	(void)o;
	wakes++;
}

static void bring_up(void)
{
	fd_bring_up(&drv, &v.transport, VSOCK_NQUEUES, 1ULL << VIRTIO_F_VERSION_1);
}

static void setup(void)
{
	fd_init(&drv, MEM, QSIZE, BUFS, BUF_SIZE);
	memset(&be_log, 0, sizeof(be_log));
	irqs = wakes = connect_err = 0;
	virtio_vsock_init(&v, CID, &drv.gm, &be, on_irq, on_wake, NULL);
	bring_up();
}

static void teardown(void)
{
	virtio_vsock_destroy(&v);
	fd_free(&drv);
}

/* The guest connects to host port 1234 and the host side accepts. */
static struct vsock_conn *guest_connects(struct gsock *s)
{
	*s = (struct gsock){.port = 5000, .host_port = 1234, .buf_alloc = 65536};
	guest_send(s, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	ck_assert_int_eq(be_log.connects, 1);
	struct vsock_conn *c = be_log.last;
	ck_assert_uint_eq(c->local_port, 1234);
	ck_assert_uint_eq(c->peer_port, 5000);
	virtio_vsock_connect_done(&v, c, 0);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(h.src_cid, VSOCK_HOST_CID);
	ck_assert_uint_eq(h.dst_cid, CID);
	ck_assert_uint_eq(h.src_port, 1234);
	ck_assert_uint_eq(h.dst_port, 5000);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_SIZE);
	ck_assert_int_eq(be_log.recvs, 1); /* listening to the host at once */
	return c;
}

START_TEST(config_cid)
{
	uint64_t cid = 0;
	virtio_mmio_read(&v.transport, VIRTIO_MMIO_CONFIG, (uint8_t *)&cid, 8);
	ck_assert_uint_eq(cid, CID);
	uint32_t hi = 0xffffffff;
	virtio_mmio_read(&v.transport, VIRTIO_MMIO_CONFIG + 4, (uint8_t *)&hi, 4);
	ck_assert_uint_eq(hi, 0);
	ck_assert_uint_eq(mmio_rd(drv.t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
}
END_TEST

START_TEST(guest_connect_accepted)
{
	rx_buffers(4, 4096);
	struct gsock s;
	guest_connects(&s);
	ck_assert_uint_eq(fd_used_idx(&drv, VSOCK_TXQ), 1); /* the REQUEST's buffer came back */
	ck_assert_int_gt(irqs, 0);
}
END_TEST

START_TEST(guest_connect_refused)
{
	rx_buffers(4, 4096);
	struct gsock s = {.port = 5001, .host_port = 99, .buf_alloc = 65536};
	guest_send(&s, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	struct vsock_conn *c = be_log.last;
	virtio_vsock_connect_done(&v, c, -ECONNREFUSED);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.dst_port, 5001);
	ck_assert_int_eq(be_log.closes, 1);
	ck_assert_int_eq(c->state, VSOCK_CLOSING);
	virtio_vsock_closed(&v, c);
	ck_assert_int_eq(c->state, VSOCK_FREE);
}
END_TEST

START_TEST(guest_connect_cannot_start)
{
	rx_buffers(4, 4096);
	connect_err = -EMFILE;
	struct gsock s = {.port = 5002, .host_port = 98, .buf_alloc = 65536};
	guest_send(&s, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	struct vsock_conn *c = be_log.last;
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(be_log.closes, 0); /* nothing to close */
	ck_assert_int_eq(c->state, VSOCK_FREE);
}
END_TEST

START_TEST(host_connect_accepted)
{
	struct vsock_conn *c = virtio_vsock_host_connect(&v, 52, (void *)&v);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(c->host, &v);
	rx_buffers(2, 4096); /* the REQUEST waits for a buffer */
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(h.dst_port, 52);
	ck_assert_uint_ge(h.src_port, VSOCK_LOCAL_PORT0);
	struct gsock s = {.port = 52, .host_port = h.src_port, .buf_alloc = 4096};
	guest_send(&s, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	ck_assert_int_eq(be_log.accepts, 1);
	ck_assert_int_eq(c->state, VSOCK_ESTABLISHED);
	ck_assert_int_eq(be_log.recvs, 1);
	/* A second one gets another local port. */
	struct vsock_conn *c2 = virtio_vsock_host_connect(&v, 52, NULL);
	ck_assert_ptr_nonnull(c2);
	ck_assert_uint_ne(c2->local_port, c->local_port);
}
END_TEST

START_TEST(host_connect_refused_by_guest)
{
	rx_buffers(2, 4096);
	struct vsock_conn *c = virtio_vsock_host_connect(&v, 53, NULL);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	struct gsock s = {.port = 53, .host_port = h.src_port};
	guest_send(&s, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	ck_assert_int_eq(be_log.closes, 1);
	ck_assert_int_eq(be_log.accepts, 0);
	ck_assert(!guest_recv(&h, NULL)); /* no RST answers an RST */
	virtio_vsock_closed(&v, c);
	ck_assert_int_eq(c->state, VSOCK_FREE);
}
END_TEST

START_TEST(host_connect_before_driver)
{
	mmio_wr(drv.t, VIRTIO_MMIO_STATUS, 0);
	ck_assert_ptr_null(virtio_vsock_host_connect(&v, 52, NULL));
}
END_TEST

START_TEST(guest_to_host_data_and_credit)
{
	rx_buffers(8, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	static uint8_t data[4096], out[2 * VSOCK_BUF_SIZE];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, sizeof(data));
	ck_assert_int_eq(be_log.sends, 1);
	ck_assert_uint_eq(sent_bytes(out), sizeof(data));
	ck_assert_mem_eq(out, data, sizeof(data));
	/* More arrives while the first send is in flight: queued behind it. */
	guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, 100);
	ck_assert_int_eq(be_log.sends, 1);
	virtio_vsock_sent(&v, c, 4000); /* a short write */
	ck_assert_int_eq(be_log.sends, 2);
	ck_assert_uint_eq(sent_bytes(out), 196);
	ck_assert_mem_eq(out, data + 4000, 96);
	ck_assert_mem_eq(out + 96, data, 100);
	virtio_vsock_sent(&v, c, 196);
	ck_assert_uint_eq(c->fwd_cnt, 4196);
	/* Little in flight: no credit update needed yet. */
	struct vsock_hdr h;
	ck_assert(!guest_recv(&h, NULL));
	ck_assert_int_eq(be_log.sends, 2);
}
END_TEST

/* The guest fills its whole credit; the host side drains it; the guest
 * hears of the space before it runs dry. */
START_TEST(credit_update_when_guest_is_low)
{
	rx_buffers(8, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	static uint8_t data[4096];
	int chunks = VSOCK_BUF_SIZE / (int)sizeof(data);
	for (int i = 0; i < chunks; i++) {
		guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, sizeof(data));
		drv.next_buf = BUFS + 64 * BUF_SIZE; /* reuse: the device copied it */
	}
	ck_assert_uint_eq(byte_ring_space(&c->tx), 0);
	struct vsock_hdr h;
	ck_assert(!guest_recv(&h, NULL));
	/* The host side takes a page at a time. */
	int sends = 0;
	while (!guest_recv(&h, NULL)) {
		ck_assert_int_lt(sends++, chunks);
		virtio_vsock_sent(&v, c, 4096);
	}
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h.fwd_cnt, VSOCK_BUF_SIZE / 8);
	ck_assert_uint_eq(h.fwd_cnt, c->fwd_cnt);
	ck_assert(!guest_recv(&h, NULL)); /* not again for the next page */
	virtio_vsock_sent(&v, c, 4096);
	ck_assert(!guest_recv(&h, NULL));
	ck_assert_int_eq(c->state, VSOCK_ESTABLISHED);
}
END_TEST

START_TEST(credit_overrun_resets)
{
	rx_buffers(8, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	static uint8_t data[4096];
	int chunks = VSOCK_BUF_SIZE / (int)sizeof(data);
	for (int i = 0; i <= chunks; i++) {
		guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, sizeof(data));
		drv.next_buf = BUFS + 64 * BUF_SIZE;
	}
	ck_assert_int_eq(c->state, VSOCK_CLOSING);
	ck_assert_int_eq(be_log.closes, 1);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
}
END_TEST

START_TEST(host_to_guest_data_in_order)
{
	rx_buffers(2, 1024 + VSOCK_HDR_SIZE);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	static uint8_t data[5000], got[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	host_data(c, data, sizeof(data));
	ck_assert_int_eq(be_log.recvs, 2); /* and reading on */
	size_t n = 0;
	struct vsock_hdr h;
	while (n < sizeof(data)) {
		if (!guest_recv(&h, got + n)) {
			rx_buffers(1, 1024 + VSOCK_HDR_SIZE);
			continue;
		}
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_le(h.len, 1024);
		n += h.len;
	}
	ck_assert_uint_eq(n, sizeof(data));
	ck_assert_mem_eq(got, data, sizeof(data));
	ck_assert_uint_eq(c->rx_cnt, sizeof(data));
}
END_TEST

START_TEST(host_to_guest_waits_for_credit)
{
	rx_buffers(8, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s); /* buf_alloc 65536 */
	static uint8_t data[VSOCK_RX_BUF_SIZE];
	host_data(c, data, VSOCK_RX_BUF_SIZE); /* fills the device's buffer */
	struct vsock_hdr h;
	uint32_t got = 0;
	for (;;) {
		if (!guest_recv(&h, NULL)) {
			rx_buffers(4, 4096);
			if (!guest_recv(&h, NULL))
				break;
		}
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
		got += h.len;
	}
	ck_assert_uint_eq(got, 65536); /* exactly the guest's buf_alloc */
	/* The buffer drained into the guest: reading on. More data, but no
	 * credit left: the device asks the guest for its credit, once. */
	ck_assert_int_eq(be_log.recvs, 2);
	ck_assert_uint_eq(byte_ring_used(&c->rx), 0);
	host_data(c, data, 100000 - VSOCK_RX_BUF_SIZE);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	ck_assert(!guest_recv(&h, NULL));
	/* The guest's reader consumed it all. */
	s.fwd_cnt = 65536;
	guest_send(&s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	while (got < 100000) {
		if (!guest_recv(&h, NULL)) {
			rx_buffers(4, 4096);
			ck_assert(guest_recv(&h, NULL));
		}
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
		got += h.len;
	}
	ck_assert_uint_eq(got, 100000);
}
END_TEST

START_TEST(guest_credit_request_answered)
{
	rx_buffers(4, 4096);
	struct gsock s;
	guest_connects(&s);
	guest_send(&s, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, NULL, 0);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_SIZE);
}
END_TEST

START_TEST(guest_half_close_then_close)
{
	rx_buffers(4, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	uint8_t data[10] = "0123456789";
	guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, sizeof(data));
	guest_send(&s, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	ck_assert_int_eq(be_log.shutdowns, 0); /* not before the data is out */
	virtio_vsock_sent(&v, c, sizeof(data));
	ck_assert_int_eq(be_log.shutdowns, 1);
	ck_assert_int_eq(c->state, VSOCK_ESTABLISHED); /* the host may still answer */
	guest_send(&s, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV, NULL, 0);
	ck_assert_int_eq(c->state, VSOCK_CLOSING);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(be_log.closes, 1);
}
END_TEST

START_TEST(host_eof_after_data)
{
	rx_buffers(4, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	uint8_t data[3] = "abc", got[3];
	host_data(c, data, 3);
	virtio_vsock_received(&v, c, 0);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, got));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_mem_eq(got, data, 3);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(be_log.recvs, 2); /* no reading past the end */
	guest_send(&s, VIRTIO_VSOCK_OP_SHUTDOWN,
		   VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
}
END_TEST

START_TEST(host_error_resets)
{
	rx_buffers(4, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	uint8_t data[8] = {0};
	guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, data, sizeof(data));
	virtio_vsock_sent(&v, c, -EPIPE);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(be_log.closes, 1);
	/* Late results for the closing connection change nothing. */
	virtio_vsock_received(&v, c, -ECANCELED);
	ck_assert(!guest_recv(&h, NULL));
	virtio_vsock_closed(&v, c);
	ck_assert_int_eq(c->state, VSOCK_FREE);
}
END_TEST

START_TEST(strays_get_rst)
{
	rx_buffers(8, 4096);
	struct vsock_hdr h;
	struct gsock s = {.port = 7, .host_port = 8};
	guest_send(&s, VIRTIO_VSOCK_OP_RW, 0, "x", 1);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.src_port, 8);
	ck_assert_uint_eq(h.dst_port, 7);
	guest_send(&s, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	ck_assert(!guest_recv(&h, NULL));
	ck_assert_int_eq(be_log.connects + be_log.closes, 0);
}
END_TEST

START_TEST(foreign_and_malformed_packets)
{
	rx_buffers(8, 4096);
	/* From a CID that is not the guest's: dropped without a word. */
	struct vsock_hdr f = {.src_cid = CID + 1,
			      .dst_cid = VSOCK_HOST_CID,
			      .src_port = 1,
			      .dst_port = 2,
			      .type = VIRTIO_VSOCK_TYPE_STREAM,
			      .op = VIRTIO_VSOCK_OP_REQUEST};
	uint64_t gpa = fd_alloc_buf(&drv);
	uint32_t len = VSOCK_HDR_SIZE;
	put_hdr(fd_at(&drv, gpa, len), &f);
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	/* Shorter than a header, and a length past the end. */
	len = 20;
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	f.src_cid = CID;
	f.len = 100;
	gpa = fd_alloc_buf(&drv);
	len = VSOCK_HDR_SIZE + 10;
	put_hdr(fd_at(&drv, gpa, len), &f);
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	/* To another CID: RST. SEQPACKET (not offered): RST. */
	f.len = 0;
	f.dst_cid = 7;
	gpa = fd_alloc_buf(&drv);
	len = VSOCK_HDR_SIZE;
	put_hdr(fd_at(&drv, gpa, len), &f);
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	f.dst_cid = VSOCK_HOST_CID;
	f.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	gpa = fd_alloc_buf(&drv);
	put_hdr(fd_at(&drv, gpa, len), &f);
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	virtio_vsock_tx_kick(&v);
	ck_assert_uint_eq(fd_used_idx(&drv, VSOCK_TXQ), 5); /* every buffer came back */
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RST);
	ck_assert(!guest_recv(&h, NULL));
	ck_assert_int_eq(be_log.connects, 0);
	ck_assert_uint_eq(mmio_rd(drv.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(malformed_ring_needs_reset)
{
	/* A descriptor pointing outside guest memory. */
	uint64_t gpa = MEM + 0x1000;
	uint32_t len = VSOCK_HDR_SIZE;
	fd_post(&drv, VSOCK_TXQ, 1, &gpa, &len, false);
	virtio_vsock_tx_kick(&v);
	ck_assert_uint_ne(mmio_rd(drv.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(reset_drops_connections)
{
	rx_buffers(4, 4096);
	struct gsock s;
	struct vsock_conn *c = guest_connects(&s);
	mmio_wr(drv.t, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(wakes, 1);
	ck_assert_int_eq(be_log.closes, 0); /* not on the vCPU thread */
	virtio_vsock_poll(&v);
	ck_assert_int_eq(be_log.closes, 1);
	ck_assert_int_eq(c->state, VSOCK_CLOSING);
	virtio_vsock_closed(&v, c);
	ck_assert_int_eq(c->state, VSOCK_FREE);
	/* And the device comes back with the driver. */
	drv.next_buf = BUFS;
	bring_up();
	rx_buffers(4, 4096);
	be_log.connects = be_log.recvs = 0;
	guest_connects(&s);
}
END_TEST

START_TEST(streams_take_turns)
{
	rx_buffers(2, 4096);
	struct gsock s1, s2;
	struct vsock_conn *c1 = guest_connects(&s1);
	s2 = (struct gsock){.port = 6000, .host_port = 1234, .buf_alloc = 65536};
	guest_send(&s2, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	struct vsock_conn *c2 = be_log.last;
	virtio_vsock_connect_done(&v, c2, 0);
	struct vsock_hdr h;
	ck_assert(guest_recv(&h, NULL)); /* RESPONSE */
	static uint8_t data[20000];
	host_data(c1, data, sizeof(data));
	host_data(c2, data, sizeof(data));
	rx_buffers(4, 4096);
	uint32_t seen[4];
	for (int i = 0; i < 4; i++) {
		ck_assert(guest_recv(&h, NULL));
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
		seen[i] = h.dst_port;
	}
	ck_assert_uint_ne(seen[0], seen[1]);
	ck_assert_uint_ne(seen[1], seen[2]);
	ck_assert_uint_ne(seen[2], seen[3]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_vsock");
	TCase *tc = tcase_create("device");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_cid);
	tcase_add_test(tc, guest_connect_accepted);
	tcase_add_test(tc, guest_connect_refused);
	tcase_add_test(tc, guest_connect_cannot_start);
	tcase_add_test(tc, host_connect_accepted);
	tcase_add_test(tc, host_connect_refused_by_guest);
	tcase_add_test(tc, host_connect_before_driver);
	tcase_add_test(tc, guest_to_host_data_and_credit);
	tcase_add_test(tc, credit_update_when_guest_is_low);
	tcase_add_test(tc, credit_overrun_resets);
	tcase_add_test(tc, host_to_guest_data_in_order);
	tcase_add_test(tc, host_to_guest_waits_for_credit);
	tcase_add_test(tc, guest_credit_request_answered);
	tcase_add_test(tc, guest_half_close_then_close);
	tcase_add_test(tc, host_eof_after_data);
	tcase_add_test(tc, host_error_resets);
	tcase_add_test(tc, strays_get_rst);
	tcase_add_test(tc, foreign_and_malformed_packets);
	tcase_add_test(tc, malformed_ring_needs_reset);
	tcase_add_test(tc, reset_drops_connections);
	tcase_add_test(tc, streams_take_turns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
