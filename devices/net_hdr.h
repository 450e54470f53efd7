/*
 * net_hdr: the virtio-net packet header (virtio 1.2, section 5.1.6) on
 * both paths, as pure functions over chains and iovecs:
 *
 *   TX  net_tx_parse() takes a packet out of a popped transmit chain: the
 *       12-byte header read from the chain's readable bytes wherever the
 *       driver split it, checked against the negotiated features, and the
 *       frame after it as iovecs into guest memory.
 *   RX  net_rx_fix_hdr() makes the header the host side (a tap) wrote in
 *       front of a received frame fit what the driver negotiated, and sets
 *       num_buffers (the chains a merged packet spans, 5.1.6.4).
 *
 * With VIRTIO_F_VERSION_1 the header is always struct virtio_net_hdr_v1,
 * 12 bytes, num_buffers included (5.1.6.1), little-endian like the x86
 * host, so its fields are read and written as they are.
 */
#ifndef VMM_DEVICES_NET_HDR_H
#define VMM_DEVICES_NET_HDR_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtq.h"

#define NET_HDR_LEN	  12 /* sizeof(struct virtio_net_hdr_v1) */
#define NET_ETH_HLEN	  14
#define NET_VLAN_HLEN	  4
/* The largest frame either way: a 64 KiB GSO packet (IP's 16-bit total
 * length) behind an Ethernet header and one VLAN tag. */
#define NET_MAX_FRAME	  (65535 + NET_ETH_HLEN + NET_VLAN_HLEN)
/* The largest frame without GSO: an MTU of 1500. */
#define NET_MAX_MTU_FRAME (1500 + NET_ETH_HLEN + NET_VLAN_HLEN)

enum net_tx_error {
	NET_TX_OK = 0,
	NET_TX_EWRITABLE = 1, /* device-writable buffers in a transmit chain */
	NET_TX_ESHORT,	      /* fewer readable bytes than a header and an Ethernet header */
	NET_TX_ELONG,	      /* a frame longer than NET_MAX_FRAME */
	NET_TX_EFLAGS,	      /* flags other than NEEDS_CSUM, or NEEDS_CSUM without CSUM */
	NET_TX_ECSUM,	      /* csum_start + csum_offset + 2 past the frame */
	NET_TX_EGSO,	      /* a GSO type not negotiated, no gso_size, or no NEEDS_CSUM */
	NET_TX_ERROR_COUNT,
};

/* A transmit packet: the header (copied: the guest cannot change it after
 * the check) and the frame, as iovecs into the chain's buffers. */
struct net_tx_pkt {
	struct virtio_net_hdr_v1 hdr;
	uint32_t len; /* frame bytes, header excluded */
	int niov;
	struct iovec iov[VIRTQ_MAX_CHAIN];
};

/* Parses chain c under the negotiated features (VIRTIO_NET_F_CSUM and
 * HOST_* decide what the driver may ask of the device). Returns 0 with *p
 * filled (num_buffers zeroed), or a net_tx_error; the packet is then to be
 * dropped, the chain still given back. */
int net_tx_parse(const struct virtq_chain *c, uint64_t features, struct net_tx_pkt *p);

/* Fixes a received header for a driver with these features and sets
 * num_buffers to nbufs: without GUEST_CSUM the flags must be 0 (5.1.6.4.1),
 * so a frame that still needs its checksum cannot be delivered; a GSO type
 * the driver did not negotiate cannot be either. Returns 0, or -1 to drop
 * the frame. */
int net_rx_fix_hdr(struct virtio_net_hdr_v1 *h, uint64_t features, uint16_t nbufs);

const char *net_tx_strerror(int err);

#endif
