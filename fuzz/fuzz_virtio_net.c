/* libFuzzer target: the virtio-net device's transmit path (and the
 * receive merging behind it) fed by a hostile guest. The input is the
 * guest's memory, both rings included, and a script of loop events:
 * kicks, the host side ending a write or a read (a frame of a scripted
 * length and header), link changes and driver resets. The fake backend
 * checks that every buffer the device hands it lies in guest memory (ASan
 * sees each byte), one operation at a time each way, and that every frame
 * sent starts with a header net_tx_parse allowed.
 *
 * Input: byte 0 = driver features (bit 0 MRG_RXBUF, 1 CSUM, 2 HOST_TSO4,
 * 3 GUEST_CSUM, 4 GUEST_TSO4, 5 EVENT_IDX, 6 INDIRECT_DESC, 7 HOST_UFO);
 * byte 1 = queue sizes; then up to 32 KiB copied to guest memory at 0 (TX
 * rings at 0/0x1000/0x2000, RX rings at 0x3000/0x4000/0x5000, buffers
 * anywhere); the rest is the script. */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "guestmem.h"
#include "mmio_regs.h"
#include "virtio_net.h"

#define MEM   (1024 * 1024)
#define GUEST (32 * 1024)
#define F(b)  (1ULL << (b))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct virtio_net v;
static struct guestmem gm;
static const uint8_t *script, *script_end;
static struct {
	bool send, recv;
	struct iovec recv_iov[NET_RX_IOV_MAX];
	int recv_n;
	size_t send_len;
} pend;

static uint8_t next_byte(void)
{
	return script < script_end ? *script++ : 0;
}

static void in_guest(const struct iovec *iov, int n)
{
	uint8_t *ram = gm.region[0].host;
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		if (!iov[i].iov_len)
			continue;
		if (p < ram || p + iov[i].iov_len > ram + MEM)
			abort();
		((volatile uint8_t *)p)[iov[i].iov_len - 1]; /* ASan checks the range */
	}
}

static int be_set_offload(struct net_backend *b, uint64_t features)
{
	(void)b, (void)features;
	return 0;
}

static void be_recv(struct net_backend *b, const struct iovec *iov, int n)
{
	(void)b;
	if (pend.recv || n < 1 || n > NET_RX_IOV_MAX || !v.link_up)
		abort();
	in_guest(iov, n);
	memcpy(pend.recv_iov, iov, (size_t)n * sizeof(*iov));
	pend.recv_n = n;
	pend.recv = true;
}

static void be_send(struct net_backend *b, const struct iovec *iov, int n)
{
	(void)b;
	if (pend.send || n < 2 || iov[0].iov_len != NET_HDR_LEN || !v.link_up)
		abort();
	/* The header sent is the checked copy, and it passes the checks. */
	struct virtio_net_hdr_v1 h;
	memcpy(&h, iov[0].iov_base, NET_HDR_LEN);
	if (h.num_buffers || (h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM))
		abort();
	in_guest(iov + 1, n - 1);
	size_t len = 0;
	for (int i = 1; i < n; i++)
		len += iov[i].iov_len;
	if (len < NET_ETH_HLEN || len > NET_MAX_FRAME || len != v.tx.len)
		abort();
	pend.send = true;
	pend.send_len = len + NET_HDR_LEN;
}

static void be_cancel_recv(struct net_backend *b)
{
	(void)b;
	if (!pend.recv)
		abort(); /* nothing to cancel */
}

static struct net_backend be = {be_set_offload, be_recv, be_send, be_cancel_recv};

static void nop(void *o)
{
	(void)o;
}

static void bring_up(uint8_t f, uint8_t sizes)
{
	static const int bit[8] = {
		VIRTIO_NET_F_MRG_RXBUF,	     VIRTIO_NET_F_CSUM,	      VIRTIO_NET_F_HOST_TSO4,
		VIRTIO_NET_F_GUEST_CSUM,     VIRTIO_NET_F_GUEST_TSO4, VIRTIO_RING_F_EVENT_IDX,
		VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_NET_F_HOST_UFO,
	};
	uint64_t features = F(VIRTIO_F_VERSION_1);
	for (int i = 0; i < 8; i++)
		features |= f & (1u << i) ? F(bit[i]) : 0;
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(&v.transport, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0xb);
	mmio_queue(&v.transport, NET_TXQ, (uint16_t)(1u << (sizes % 9)), 0, 0x1000, 0x2000);
	mmio_queue(&v.transport, NET_RXQ, (uint16_t)(1u << (sizes / 16 % 9)), 0x3000, 0x4000,
		   0x5000);
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0xf);
	virtio_net_poll(&v);
}

/* The host side reads a frame of a scripted length into what the device
 * offered: a header with scripted flags and GSO type first. */
static void host_frame(void)
{
	size_t room = 0;
	for (int i = 0; i < pend.recv_n; i++)
		room += pend.recv_iov[i].iov_len;
	uint8_t b = next_byte(), c = next_byte();
	if (b == 0xff) { /* a read error */
		pend.recv = false;
		virtio_net_received(&v, -5);
		return;
	}
	size_t len = ((size_t)b << 8 | c) % (room + 64); /* sometimes "truncated" */
	uint8_t hdr[NET_HDR_LEN] = {next_byte() & 7, next_byte(), 0};
	size_t done = 0;
	for (int i = 0; i < pend.recv_n && done < len; i++) {
		size_t n = pend.recv_iov[i].iov_len < len - done ? pend.recv_iov[i].iov_len
								 : len - done;
		for (size_t k = 0; k < n; k++)
			((uint8_t *)pend.recv_iov[i].iov_base)[k] =
				done + k < NET_HDR_LEN ? hdr[done + k] : (uint8_t)k;
		done += n;
	}
	pend.recv = false;
	virtio_net_received(&v, (int)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!gm.nregions && gm_alloc(&gm, MEM, false))
		abort();
	if (size < 2)
		return 0;
	uint8_t *ram = gm.region[0].host;
	memset(ram, 0, MEM);
	size_t mem_len = size - 2 < GUEST ? size - 2 : GUEST;
	memcpy(ram, data + 2, mem_len);
	script = data + 2 + mem_len;
	script_end = data + size;
	memset(&pend, 0, sizeof(pend));
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	virtio_net_init(&v, mac,
			F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
				F(VIRTIO_NET_F_GUEST_TSO6),
			true, &gm, &be, nop, nop, NULL);
	bring_up(data[0], data[1]);
	virtio_net_tx_kick(&v);
	virtio_net_rx_kick(&v);
	for (int steps = 0; steps < 64 && script < script_end; steps++) {
		switch (next_byte() % 8) {
		case 0:
			virtio_net_tx_kick(&v);
			break;
		case 1:
			virtio_net_rx_kick(&v);
			break;
		case 2:
		case 3:
			if (pend.send) {
				pend.send = false;
				virtio_net_sent(&v, next_byte() & 1 ? (int)pend.send_len : -5);
			}
			break;
		case 4:
		case 5:
			if (pend.recv)
				host_frame();
			break;
		case 6:
			virtio_net_set_link(&v, next_byte() & 1);
			break;
		case 7:
			bring_up(next_byte(), next_byte());
			break;
		}
	}
	/* Whatever is still at the backend ends, after a reset. */
	mmio_wr(&v.transport, VIRTIO_MMIO_STATUS, 0);
	virtio_net_poll(&v);
	if (pend.send)
		virtio_net_sent(&v, 0);
	if (pend.recv)
		virtio_net_received(&v, 0);
	return 0;
}
