/* Unit tests for devices/net_hdr.c and devices/virtio_net.c: a fake driver
 * brings the device up through the transport's registers with the
 * features a test chooses and posts receive buffers and transmit frames
 * on rings in plain memory; a fake backend records what the device asks
 * of the host side, and the test answers for it. */
#include <check.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "check_main.h"
#include "fake_driver.h"
#include "guestmem.h"
#include "virtio_net.h"

#define QSIZE	 128
#define MEM	 (8ULL << 20)
#define BUFS	 0x100000ULL /* buffers from here */
#define BUF_SIZE 0x2000ULL
#define F(bit)	 (1ULL << (bit))

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
#define ALL_GUEST                                                                                  \
	(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |    \
	 F(VIRTIO_NET_F_GUEST_ECN))
/* What Linux 6.1 takes of what we offer. */
#define LINUX                                                                                      \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |                    \
	 F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |            \
	 F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN) | ALL_GUEST)

static struct virtio_net v;
static int irqs, wakes;

/* ---- the fake driver (fake_driver.h) ---- */

static struct fake_driver drv;

/* n receive buffers of size bytes, one per chain (as Linux's mergeable
 * buffers are). Returns the first one's address. */
static uint64_t rx_buffers(int n, uint32_t size)
{
	uint64_t first = 0;
	for (int i = 0; i < n; i++) {
		uint64_t gpa = fd_alloc_buf(&drv);
		ck_assert_uint_le(size, BUF_SIZE);
		first = i ? first : gpa;
		fd_post(&drv, NET_RXQ, 1, &gpa, &size, true);
	}
	virtio_net_rx_kick(&v);
	return first;
}

/* The guest transmits hdr + frame, cut into buffers at the offsets given
 * (ascending, 0-terminated), e.g. {5, 20, 0}: 5 bytes, 15 bytes, the rest. */
static void guest_send(const struct virtio_net_hdr_v1 *h, const uint8_t *frame, uint32_t len,
		       const uint32_t *cuts)
{
	uint8_t all[NET_HDR_LEN + 4096];
	ck_assert_uint_le(len, 4096);
	memcpy(all, h, NET_HDR_LEN);
	memcpy(all + NET_HDR_LEN, frame, len);
	uint32_t total = NET_HDR_LEN + len, from = 0;
	uint64_t gpa[8];
	uint32_t lens[8];
	int n = 0;
	for (int i = 0; from < total; i++) {
		uint32_t to = cuts && cuts[i] && cuts[i] < total ? cuts[i] : total;
		gpa[n] = fd_alloc_buf(&drv);
		lens[n] = to - from;
		memcpy(fd_at(&drv, gpa[n], lens[n]), all + from, lens[n]);
		n++;
		from = to;
	}
	fd_post(&drv, NET_TXQ, n, gpa, lens, false);
	virtio_net_tx_kick(&v);
}

/* ---- the fake backend ---- */

static struct {
	int offloads, recvs, sends, cancels;
	uint64_t offload;
	struct iovec recv_iov[NET_RX_IOV_MAX], send_iov[VIRTQ_MAX_CHAIN + 1];
	int recv_n, send_n;
} be_log;

static int be_set_offload(struct net_backend *b, uint64_t features)
{
	(void)b;
	be_log.offloads++;
	be_log.offload = features;
	return 0;
}

static void be_recv(struct net_backend *b, const struct iovec *iov, int n)
{
	(void)b;
	ck_assert_int_le(n, NET_RX_IOV_MAX);
	be_log.recvs++;
	memcpy(be_log.recv_iov, iov, (size_t)n * sizeof(*iov));
	be_log.recv_n = n;
}

static void be_send(struct net_backend *b, const struct iovec *iov, int n)
{
	(void)b;
	be_log.sends++;
	memcpy(be_log.send_iov, iov, (size_t)n * sizeof(*iov));
	be_log.send_n = n;
}

static void be_cancel_recv(struct net_backend *b)
{
	(void)b;
	be_log.cancels++;
}

static struct net_backend be = {be_set_offload, be_recv, be_send, be_cancel_recv};

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

/* The host side "reads" a frame (header first) into the buffers the
 * device offered, as a tap does (it returns the full length even when it
 * had to cut the frame short). */
static void host_frame(const struct virtio_net_hdr_v1 *h, const uint8_t *frame, uint32_t len)
{
	static uint8_t all[NET_HDR_LEN + NET_MAX_FRAME];
	memcpy(all, h, NET_HDR_LEN);
	memcpy(all + NET_HDR_LEN, frame, len);
	size_t done = 0, total = NET_HDR_LEN + len;
	for (int i = 0; i < be_log.recv_n && done < total; i++) {
		size_t n = be_log.recv_iov[i].iov_len < total - done ? be_log.recv_iov[i].iov_len
								     : total - done;
		memcpy(be_log.recv_iov[i].iov_base, all + done, n);
		done += n;
	}
	virtio_net_received(&v, (int)total);
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

static void bring_up(uint64_t features)
{
	fd_bring_up(&drv, &v.transport, NET_NQUEUES, features);
	virtio_net_poll(&v); /* the loop, woken by the activation */
}

static void setup(void)
{
	fd_init(&drv, MEM, QSIZE, BUFS, BUF_SIZE);
	memset(&be_log, 0, sizeof(be_log));
	irqs = wakes = 0;
	virtio_net_init(&v, MAC, ALL_GUEST, false, &drv.gm, &be, on_irq, on_wake, NULL);
	drv.t = &v.transport; /* some tests read registers before bring_up */
}

static void teardown(void)
{
	fd_free(&drv);
}

static uint64_t offered(void)
{
	uint64_t f;
	mmio_wr(drv.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = mmio_rd(drv.t, VIRTIO_MMIO_DEVICE_FEATURES);
	mmio_wr(drv.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)mmio_rd(drv.t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void frame_bytes(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* ---- net_hdr ---- */

/* A chain of readable buffers over bytes, cut at the offsets given. */
static void make_chain(struct virtq_chain *c, uint8_t *bytes, uint32_t len, const uint32_t *cuts)
{
	memset(c, 0, sizeof(*c));
	uint32_t from = 0;
	for (int i = 0; from < len; i++) {
		uint32_t to = cuts && cuts[i] && cuts[i] < len ? cuts[i] : len;
		c->buf[c->n++] = (struct virtq_buf){bytes + from, to - from, false};
		from = to;
	}
	c->nread = c->n;
	c->read_len = len;
}

START_TEST(tx_parse_split_header)
{
	static uint8_t bytes[NET_HDR_LEN + 100];
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = 34,
				      .csum_offset = 16,
				      .num_buffers = 77};
	memcpy(bytes, &h, NET_HDR_LEN);
	frame_bytes(bytes + NET_HDR_LEN, 100, 1);
	/* The header cut in three, the frame starting inside a buffer. */
	static const uint32_t cuts[] = {3, 7, 30, 0};
	static struct virtq_chain c;
	static struct net_tx_pkt p;
	make_chain(&c, bytes, sizeof(bytes), cuts);
	ck_assert_int_eq(net_tx_parse(&c, F(VIRTIO_NET_F_CSUM), &p), NET_TX_OK);
	ck_assert_uint_eq(p.len, 100);
	ck_assert_uint_eq(p.hdr.csum_start, 34);
	ck_assert_uint_eq(p.hdr.num_buffers, 0);
	ck_assert_int_eq(p.niov, 2);
	ck_assert_ptr_eq(p.iov[0].iov_base, bytes + NET_HDR_LEN);
	ck_assert_uint_eq(p.iov[0].iov_len, 30 - NET_HDR_LEN);
	ck_assert_uint_eq(p.iov[0].iov_len + p.iov[1].iov_len, 100);
	/* The same without CSUM negotiated: refused. */
	ck_assert_int_eq(net_tx_parse(&c, 0, &p), NET_TX_EFLAGS);
}
END_TEST

START_TEST(tx_parse_refusals)
{
	static uint8_t bytes[NET_HDR_LEN + 60];
	static struct virtq_chain c;
	static struct net_tx_pkt p;
	uint64_t all = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4);
	struct {
		struct virtio_net_hdr_v1 h;
		uint64_t features;
		int want;
	} cases[] = {
		{{.flags = VIRTIO_NET_HDR_F_DATA_VALID}, all, NET_TX_EFLAGS},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 50, .csum_offset = 9},
		 all,
		 NET_TX_ECSUM},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 50, .csum_offset = 8},
		 all,
		 NET_TX_OK},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		  .gso_size = 1448},
		 all,
		 NET_TX_OK},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
		  .gso_size = 1448},
		 all,
		 NET_TX_EGSO},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4},
		 all,
		 NET_TX_EGSO},
		{{.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448}, all, NET_TX_EGSO},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		  .gso_size = 1448},
		 all,
		 NET_TX_EGSO},
		{{.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = VIRTIO_NET_HDR_GSO_UDP,
		  .gso_size = 1448},
		 all | F(VIRTIO_NET_F_HOST_UFO),
		 NET_TX_OK},
		{{.gso_type = 5 /* UDP_L4: never offered */}, all, NET_TX_EGSO},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bytes, &cases[i].h, NET_HDR_LEN);
		make_chain(&c, bytes, sizeof(bytes), NULL);
		ck_assert_msg(net_tx_parse(&c, cases[i].features, &p) == cases[i].want, "case %zu",
			      i);
	}
	memset(bytes, 0, sizeof(bytes));
	make_chain(&c, bytes, NET_HDR_LEN + NET_ETH_HLEN - 1, NULL);
	ck_assert_int_eq(net_tx_parse(&c, all, &p), NET_TX_ESHORT);
	make_chain(&c, bytes, sizeof(bytes), NULL);
	c.buf[c.n++] = (struct virtq_buf){bytes, 4, true};
	ck_assert_int_eq(net_tx_parse(&c, all, &p), NET_TX_EWRITABLE);
	make_chain(&c, bytes, sizeof(bytes), NULL);
	c.read_len = NET_HDR_LEN + NET_MAX_FRAME + 1;
	ck_assert_int_eq(net_tx_parse(&c, all, &p), NET_TX_ELONG);
}
END_TEST

START_TEST(rx_fix_hdr_rules)
{
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	ck_assert_int_eq(net_rx_fix_hdr(&h, 0, 1), 0);
	ck_assert_uint_eq(h.flags, 0); /* 5.1.6.4.1: no flags without GUEST_CSUM */
	ck_assert_uint_eq(h.num_buffers, 1);
	h = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	ck_assert_int_eq(net_rx_fix_hdr(&h, 0, 1), -1);
	ck_assert_int_eq(net_rx_fix_hdr(&h, F(VIRTIO_NET_F_GUEST_CSUM), 3), 0);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.num_buffers, 3);
	h = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .gso_type = VIRTIO_NET_HDR_GSO_TCPV6};
	ck_assert_int_eq(net_rx_fix_hdr(&h, ALL_GUEST & ~F(VIRTIO_NET_F_GUEST_TSO6), 1), -1);
	ck_assert_int_eq(net_rx_fix_hdr(&h, ALL_GUEST, 1), 0);
}
END_TEST

/* ---- the device ---- */

START_TEST(config_mac_features_and_link)
{
	uint8_t cfg[8] = {0};
	for (int i = 0; i < 8; i++)
		virtio_mmio_read(&v.transport, 0x100 + i, cfg + i, 1);
	ck_assert_mem_eq(cfg, MAC, 6);
	ck_assert_uint_eq(cfg[6], VIRTIO_NET_S_LINK_UP);
	uint64_t f = offered();
	ck_assert_uint_eq(f & LINUX, LINUX);
	ck_assert_uint_eq(f & (F(VIRTIO_NET_F_GUEST_UFO) | F(VIRTIO_NET_F_HOST_UFO)), 0);
	ck_assert_uint_eq(f & F(VIRTIO_NET_F_CTRL_VQ), 0);
	/* A backend without TSO: none offered. */
	virtio_net_init(&v, MAC, F(VIRTIO_NET_F_GUEST_CSUM), true, &drv.gm, &be, on_irq, on_wake,
			NULL);
	f = offered();
	ck_assert_uint_eq(f & ALL_GUEST, F(VIRTIO_NET_F_GUEST_CSUM));
	ck_assert_uint_ne(f & F(VIRTIO_NET_F_HOST_UFO), 0);

	bring_up(LINUX & ~ALL_GUEST);
	uint32_t gen = mmio_rd(drv.t, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_net_set_link(&v, false);
	virtio_mmio_read(&v.transport, 0x106, cfg, 1);
	ck_assert_uint_eq(cfg[0], 0);
	ck_assert_uint_ne(mmio_rd(drv.t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG, 0);
	ck_assert_uint_ne(mmio_rd(drv.t, VIRTIO_MMIO_CONFIG_GENERATION), gen);
}
END_TEST

START_TEST(offloads_follow_the_driver)
{
	bring_up(LINUX & ~F(VIRTIO_NET_F_GUEST_TSO6));
	ck_assert_int_eq(be_log.offloads, 1);
	ck_assert_uint_eq(be_log.offload, ALL_GUEST & ~F(VIRTIO_NET_F_GUEST_TSO6));
	/* A reset and a driver that takes no offloads: none left on. */
	mmio_wr(drv.t, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(wakes, 2);
	bring_up(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC));
	ck_assert_int_eq(be_log.offloads, 2);
	ck_assert_uint_eq(be_log.offload, 0);
}
END_TEST

START_TEST(tx_frame_to_backend_one_at_a_time)
{
	bring_up(LINUX);
	uint8_t frame[200], got[NET_HDR_LEN + 200];
	frame_bytes(frame, sizeof(frame), 3);
	struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	static const uint32_t cuts[] = {5, 40, 0};
	guest_send(&h, frame, sizeof(frame), cuts);
	guest_send(&h, frame, 100, NULL);
	ck_assert_int_eq(be_log.sends, 1);
	ck_assert_uint_eq(sent_bytes(got), NET_HDR_LEN + sizeof(frame));
	ck_assert_mem_eq(got, &h, NET_HDR_LEN);
	ck_assert_mem_eq(got + NET_HDR_LEN, frame, sizeof(frame));
	ck_assert_uint_eq(fd_used_idx(&drv, NET_TXQ), 0); /* held until written */
	virtio_net_sent(&v, NET_HDR_LEN + sizeof(frame));
	ck_assert_uint_eq(fd_used_idx(&drv, NET_TXQ), 1);
	ck_assert_int_eq(irqs, 1);
	ck_assert_int_eq(be_log.sends, 2); /* the next one went at once */
	ck_assert_uint_eq(sent_bytes(got), NET_HDR_LEN + 100);
	virtio_net_sent(&v, -EIO); /* refused by the host: dropped all the same */
	ck_assert_uint_eq(fd_used_idx(&drv, NET_TXQ), 2);
	ck_assert_uint_eq(v.stats.tx_packets, 1);
	ck_assert_uint_eq(v.stats.tx_dropped, 1);
}
END_TEST

START_TEST(tx_bad_header_dropped)
{
	bring_up(LINUX);
	uint8_t frame[60] = {0};
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	guest_send(&h, frame, sizeof(frame), NULL);
	h = (struct virtio_net_hdr_v1){.gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 100};
	guest_send(&h, frame, sizeof(frame), NULL);
	ck_assert_int_eq(be_log.sends, 0);
	ck_assert_uint_eq(fd_used_idx(&drv, NET_TXQ), 2);
	ck_assert_uint_eq(v.stats.tx_errors, 2);
	ck_assert_uint_eq(mmio_rd(drv.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(rx_waits_for_enough_buffers)
{
	bring_up(LINUX); /* MRG_RXBUF with TSO: room for a 64 KiB frame first */
	rx_buffers(10, 4096);
	ck_assert_int_eq(be_log.recvs, 0);
	rx_buffers(7, 4096); /* 17 * 4096 >= 12 + 65553 */
	ck_assert_int_eq(be_log.recvs, 1);
	ck_assert_int_eq(be_log.recv_n, 17);
	/* Without TSO a full-size Ethernet frame is all a read needs room
	 * for. */
	uint8_t frame[60] = {0};
	struct virtio_net_hdr_v1 h = {0};
	host_frame(&h, frame, sizeof(frame));
	ck_assert_int_eq(be_log.recvs, 1); /* 16 * 4096 is not room enough */
	mmio_wr(drv.t, VIRTIO_MMIO_STATUS, 0);
	bring_up(LINUX & ~ALL_GUEST);
	rx_buffers(1, 1024);
	ck_assert_int_eq(be_log.recvs, 1);
	rx_buffers(1, 1024);
	ck_assert_int_eq(be_log.recvs, 2);
}
END_TEST

START_TEST(rx_merges_buffers)
{
	bring_up(LINUX);
	uint64_t first = rx_buffers(20, 4096);
	ck_assert_int_eq(be_log.recvs, 1);
	static uint8_t frame[10000];
	frame_bytes(frame, sizeof(frame), 9);
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				      .gso_size = 1448,
				      .csum_start = 34,
				      .csum_offset = 16,
				      .num_buffers = 0xffff /* a tap leaves it as it was */};
	host_frame(&h, frame, sizeof(frame));
	/* 10012 bytes: three 4 KiB chains, all published at once. */
	ck_assert_uint_eq(fd_used_idx(&drv, NET_RXQ), 3);
	ck_assert_int_eq(irqs, 1);
	static uint8_t got[3 * 4096];
	uint32_t total = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t gpa;
		uint32_t len;
		ck_assert(fd_take_used(&drv, NET_RXQ, &gpa, &len));
		ck_assert_uint_eq(gpa, first + i * BUF_SIZE); /* in the order given */
		ck_assert_uint_eq(len, i < 2 ? 4096 : 10012 - 2 * 4096);
		memcpy(got + total, fd_at(&drv, gpa, len), len);
		total += len;
	}
	struct virtio_net_hdr_v1 gh;
	memcpy(&gh, got, NET_HDR_LEN);
	ck_assert_uint_eq(gh.num_buffers, 3);
	ck_assert_uint_eq(gh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(gh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_mem_eq(got + NET_HDR_LEN, frame, sizeof(frame));
	/* 17 chains left are room enough: the next read starts with the
	 * fourth buffer. */
	ck_assert_int_eq(be_log.recvs, 2);
	ck_assert_ptr_eq(be_log.recv_iov[0].iov_base, fd_at(&drv, first + 3 * BUF_SIZE, 1));
	h = (struct virtio_net_hdr_v1){0};
	host_frame(&h, frame, 60);
	uint64_t gpa;
	uint32_t len;
	ck_assert(fd_take_used(&drv, NET_RXQ, &gpa, &len));
	ck_assert_uint_eq(len, NET_HDR_LEN + 60);
	memcpy(&gh, fd_at(&drv, gpa, NET_HDR_LEN), NET_HDR_LEN);
	ck_assert_uint_eq(gh.num_buffers, 1);
	ck_assert_uint_eq(v.stats.rx_packets, 2);
}
END_TEST

START_TEST(rx_without_merging_one_chain_a_frame)
{
	bring_up(LINUX & ~F(VIRTIO_NET_F_MRG_RXBUF) & ~ALL_GUEST);
	rx_buffers(2, 1600);
	ck_assert_int_eq(be_log.recvs, 1);
	ck_assert_int_eq(be_log.recv_n, 1); /* only the first chain offered */
	uint8_t frame[1514];
	frame_bytes(frame, sizeof(frame), 1);
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	host_frame(&h, frame, sizeof(frame));
	uint64_t gpa;
	uint32_t len;
	ck_assert(fd_take_used(&drv, NET_RXQ, &gpa, &len));
	ck_assert_uint_eq(len, NET_HDR_LEN + sizeof(frame));
	struct virtio_net_hdr_v1 gh;
	memcpy(&gh, fd_at(&drv, gpa, NET_HDR_LEN), NET_HDR_LEN);
	ck_assert_uint_eq(gh.num_buffers, 1);
	ck_assert_uint_eq(gh.flags, 0); /* no GUEST_CSUM: no flags */
	ck_assert_mem_eq(fd_at(&drv, gpa + NET_HDR_LEN, sizeof(frame)), frame, sizeof(frame));
	ck_assert_int_eq(be_log.recvs, 2);
}
END_TEST

START_TEST(rx_drops_what_the_driver_cannot_take)
{
	bring_up(LINUX & ~F(VIRTIO_NET_F_MRG_RXBUF) & ~ALL_GUEST);
	rx_buffers(1, 1600);
	uint8_t frame[2000] = {0};
	/* Checksum still to do, but no GUEST_CSUM. */
	struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	host_frame(&h, frame, 100);
	/* Longer than the buffer: the tap cut it. */
	h = (struct virtio_net_hdr_v1){0};
	host_frame(&h, frame, sizeof(frame));
	ck_assert_uint_eq(fd_used_idx(&drv, NET_RXQ), 0);
	ck_assert_uint_eq(v.stats.rx_dropped, 2);
	/* The buffer is still there for the next one. */
	ck_assert_int_eq(be_log.recvs, 3);
	host_frame(&h, frame, 100);
	ck_assert_uint_eq(fd_used_idx(&drv, NET_RXQ), 1);
}
END_TEST

START_TEST(rx_read_in_flight_across_reset)
{
	bring_up(LINUX);
	rx_buffers(20, 4096);
	ck_assert_int_eq(be_log.recvs, 1);
	mmio_wr(drv.t, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(be_log.cancels, 0); /* not on the vCPU thread */
	bring_up(LINUX);
	ck_assert_int_eq(be_log.cancels, 1); /* the loop ends the old read */
	rx_buffers(20, 4096);
	ck_assert_int_eq(be_log.recvs, 1); /* which still holds the slot */
	uint8_t frame[100] = {0};
	struct virtio_net_hdr_v1 h = {0};
	host_frame(&h, frame, sizeof(frame)); /* it came anyway: dropped */
	ck_assert_uint_eq(fd_used_idx(&drv, NET_RXQ), 0);
	ck_assert_int_eq(be_log.recvs, 2); /* into the new driver's buffers */
	ck_assert_ptr_eq(be_log.recv_iov[0].iov_base, fd_at(&drv, BUFS + 20 * BUF_SIZE, 1));
	host_frame(&h, frame, sizeof(frame));
	ck_assert_uint_eq(fd_used_idx(&drv, NET_RXQ), 1);
}
END_TEST

START_TEST(link_down_drops_tx_and_stops_rx)
{
	bring_up(LINUX);
	virtio_net_set_link(&v, false);
	rx_buffers(20, 4096);
	ck_assert_int_eq(be_log.recvs, 0);
	uint8_t frame[60] = {0};
	struct virtio_net_hdr_v1 h = {0};
	guest_send(&h, frame, sizeof(frame), NULL);
	ck_assert_int_eq(be_log.sends, 0);
	ck_assert_uint_eq(fd_used_idx(&drv, NET_TXQ), 1); /* the guest never waits */
	ck_assert_uint_eq(v.stats.tx_dropped, 1);
}
END_TEST

START_TEST(malformed_ring_needs_reset)
{
	bring_up(LINUX);
	uint64_t gpa = MEM + 0x1000; /* outside guest memory */
	uint32_t len = 100;
	fd_post(&drv, NET_TXQ, 1, &gpa, &len, false);
	virtio_net_tx_kick(&v);
	ck_assert_uint_ne(mmio_rd(drv.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	ck_assert_int_eq(be_log.sends, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("net_hdr");
	tcase_add_test(tc, tx_parse_split_header);
	tcase_add_test(tc, tx_parse_refusals);
	tcase_add_test(tc, rx_fix_hdr_rules);
	suite_add_tcase(s, tc);
	tc = tcase_create("device");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_mac_features_and_link);
	tcase_add_test(tc, offloads_follow_the_driver);
	tcase_add_test(tc, tx_frame_to_backend_one_at_a_time);
	tcase_add_test(tc, tx_bad_header_dropped);
	tcase_add_test(tc, rx_waits_for_enough_buffers);
	tcase_add_test(tc, rx_merges_buffers);
	tcase_add_test(tc, rx_without_merging_one_chain_a_frame);
	tcase_add_test(tc, rx_drops_what_the_driver_cannot_take);
	tcase_add_test(tc, rx_read_in_flight_across_reset);
	tcase_add_test(tc, link_down_drops_tx_and_stops_rx);
	tcase_add_test(tc, malformed_ring_needs_reset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
