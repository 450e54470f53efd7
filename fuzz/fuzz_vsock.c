/* libFuzzer target: the virtio-vsock device fed by a hostile guest. The
 * input is the guest's TX queue (rings and packets) and a script of host
 * events; the device runs with a fake backend whose operations the
 * script completes (connects succeed or fail, sends take some bytes,
 * receives bring some bytes or end of stream) over several rounds, with
 * the guest's RX queue always holding buffers.
 *
 * Input: byte 0 = TX queue size (1 << (b % 9)) and features; byte 1 =
 * rounds; then up to 32 KiB copied to guest memory at 0 (TX desc at 0,
 * avail 0x1000, used 0x2000, packets anywhere below 32 KiB); the bytes
 * after the first 32 KiB drive the host side. */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "guestmem.h"
#include "mmio_regs.h"
#include "virtio_vsock.h"

#define MEM	 (1024 * 1024)
#define TXMEM	 (32 * 1024)
#define RX_DESC	 0x10000
#define RX_AVAIL 0x11000
#define RX_USED	 0x12000
#define RX_BUFS	 0x20000
#define RX_N	 64
#define RX_LEN	 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct virtio_vsock v;
static struct guestmem gm;
static const uint8_t *script, *script_end;

static uint8_t next_byte(void)
{
	return script < script_end ? *script++ : 0;
}

/* What the device asked of the host side, per connection. */
static struct {
	bool connect, send, recv, close;
	struct iovec iov[2];
	int n;
} pend[VSOCK_MAX_CONNS];

static int idx(struct vsock_conn *c)
{
	long i = c - v.conn;
	if (i < 0 || i >= VSOCK_MAX_CONNS)
		abort();
	return (int)i;
}

static int be_connect(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	if (pend[idx(c)].connect || c->state != VSOCK_CONNECTING)
		abort();
	if (next_byte() == 0xff)
		return -1; /* cannot even start */
	pend[idx(c)].connect = true;
	return 0;
}

static void be_accepted(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	if (c->state != VSOCK_ESTABLISHED)
		abort();
}

static void be_io(struct vsock_conn *c, bool *flag, const struct iovec *iov, int n)
{
	if (*flag || n < 1 || n > 2 || c->state != VSOCK_ESTABLISHED)
		abort(); /* one at a time, on live connections only */
	*flag = true;
	memcpy(pend[idx(c)].iov, iov, (size_t)n * sizeof(*iov));
	pend[idx(c)].n = n;
	for (int i = 0; i < n; i++) /* ASan checks the ranges */
		if (iov[i].iov_len)
			((volatile uint8_t *)iov[i].iov_base)[iov[i].iov_len - 1];
}

static void be_send(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	(void)b;
	be_io(c, &pend[idx(c)].send, iov, n);
}

static void be_recv(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n)
{
	(void)b;
	be_io(c, &pend[idx(c)].recv, iov, n);
}

static void be_shutdown(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b, (void)c;
}

static void be_close(struct vsock_backend *b, struct vsock_conn *c)
{
	(void)b;
	if (pend[idx(c)].close)
		abort(); /* closed twice */
	pend[idx(c)].close = true;
}

static struct vsock_backend be = {be_connect, be_accepted, be_send, be_recv, be_shutdown, be_close};

static void nop(void *o)
{
	(void)o;
}

/* Gives the device RX_N fresh RX buffers (all used ones recycled). */
static void refill_rx(uint16_t *avail_idx)
{
	uint8_t *ram = gm.region[0].host;
	for (int i = 0; i < RX_N; i++) {
		struct vring_desc d = {RX_BUFS + (uint64_t)i * RX_LEN, RX_LEN, VRING_DESC_F_WRITE,
				       0};
		memcpy(ram + RX_DESC + 16 * i, &d, 16);
	}
	uint16_t used = *(uint16_t *)(ram + RX_USED + 2);
	while ((uint16_t)(*avail_idx - used) < RX_N) {
		*(uint16_t *)(ram + RX_AVAIL + 4 + 2 * (*avail_idx % RX_N)) =
			(uint16_t)(*avail_idx % RX_N);
		(*avail_idx)++;
	}
	*(uint16_t *)(ram + RX_AVAIL + 2) = *avail_idx;
}

/* The host side answers whatever is pending, as the script says. */
static void host_round(void)
{
	static uint8_t junk[VSOCK_BUF_SIZE];
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v.conn[i];
		if (pend[i].connect) {
			pend[i].connect = false;
			virtio_vsock_connect_done(&v, c, next_byte() & 1 ? 0 : -111);
		}
		if (pend[i].send) {
			pend[i].send = false;
			size_t have = pend[i].iov[0].iov_len +
				      (pend[i].n > 1 ? pend[i].iov[1].iov_len : 0);
			uint8_t b = next_byte();
			virtio_vsock_sent(&v, c,
					  b == 0xff ? -32 : (int)(have * (b % 5) / 4 % (have + 1)));
		}
		if (pend[i].recv) {
			pend[i].recv = false;
			uint8_t b = next_byte();
			size_t room = pend[i].iov[0].iov_len;
			size_t n = b == 0xff ? 0 : (size_t)b * 97 % (room + 1);
			memcpy(pend[i].iov[0].iov_base, junk, n);
			virtio_vsock_received(&v, c, (int)n);
		}
		if (pend[i].close && !pend[i].send && !pend[i].recv && !pend[i].connect) {
			pend[i].close = false;
			virtio_vsock_closed(&v, c);
		}
	}
	if (next_byte() % 4 == 0)
		virtio_vsock_host_connect(&v, next_byte(), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!gm.nregions && gm_alloc(&gm, MEM, false))
		abort();
	if (size < 2)
		return 0;
	uint8_t *ram = gm.region[0].host;
	memset(ram, 0, 0x30000 + RX_N * RX_LEN);
	size_t mem_len = size - 2 < TXMEM ? size - 2 : TXMEM;
	memcpy(ram, data + 2, mem_len);
	script = data + 2 + mem_len;
	script_end = data + size;
	memset(pend, 0, sizeof(pend));

	virtio_vsock_init(&v, 3, &gm, &be, nop, nop, NULL);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES,
		(data[0] & 0x80 ? 1u << VIRTIO_RING_F_EVENT_IDX : 0) |
			(data[0] & 0x40 ? 1u << VIRTIO_RING_F_INDIRECT_DESC : 0));
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0xb);
	mmio_queue(&v.transport, VSOCK_RXQ, RX_N, RX_DESC, RX_AVAIL, RX_USED);
	mmio_queue(&v.transport, VSOCK_TXQ, (uint16_t)(1u << (data[0] % 9)), 0, 0x1000, 0x2000);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0xf);
	uint16_t rx_avail = 0;
	int rounds = 1 + data[1] % 8;
	for (int r = 0; r < rounds; r++) {
		refill_rx(&rx_avail);
		virtio_vsock_rx_kick(&v);
		virtio_vsock_tx_kick(&v);
		host_round();
	}
	/* A reset drops everything; the backend then closes what it held. */
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0);
	virtio_vsock_poll(&v);
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (pend[i].close)
			virtio_vsock_closed(&v, &v.conn[i]);
		else if (v.conn[i].state != VSOCK_FREE && v.conn[i].backend_open)
			abort(); /* a connection the backend was never told to close */
	}
	virtio_vsock_destroy(&v);
	return 0;
}
