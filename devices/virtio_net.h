/*
 * virtio_net: a virtio network device (virtio 1.2, section 5.1) with one
 * receive and one transmit queue, its MAC address and link status in
 * config space, checksum and segmentation offloads both ways and merged
 * receive buffers. Frames move through a backend (struct net_backend: a
 * tap on io_uring in the VMM, a fake in the tests) that takes one frame
 * at a time each way, the virtio-net header in front of it, and reports
 * back through virtio_net_received() / virtio_net_sent().
 *
 * Backpressure: the device asks the backend to read only when the
 * driver's receive buffers can hold any frame that may come (one chain,
 * or with MRG_RXBUF enough chains for NET_MAX_FRAME), and reads straight
 * into them, so while the guest gives no buffers the frames wait in the
 * host (the tap's own bounded queue), never here. A transmit chain goes
 * to the backend as it is and back to the guest when the write ended; a
 * slow host holds the transmit queue, never the loop.
 *
 * The guest is hostile: a malformed transmit header drops that frame
 * (counted); a malformed ring sets DEVICE_NEEDS_RESET.
 *
 * Threading: everything but the transport callbacks runs on the event
 * loop thread. The transport callbacks (config, activate, reset) run on
 * vCPU threads under the transport lock; activate and reset only record
 * and wake the loop, which then sets the backend's offloads (activate) or
 * forgets the queues (reset). Backend calls never call back into the
 * device before they return.
 */
#ifndef VMM_DEVICES_VIRTIO_NET_H
#define VMM_DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net_hdr.h"
#include "virtio_mmio.h"

#define VIRTIO_NET_QUEUE_SIZE 256
/* Receive buffers held for one read: as many iovecs as a readv takes, and
 * at most NET_RX_CHAIN_IOV from one chain (Linux uses 1, or 19 for big
 * packets without MRG_RXBUF). */
#define NET_RX_IOV_MAX	      1024
#define NET_RX_CHAIN_IOV      64

enum { NET_RXQ, NET_TXQ, NET_NQUEUES };

/* The offloads the host side can take on receive (VIRTIO_NET_F_GUEST_*
 * bits) are what the backend says at init; on transmit a tap takes any. */
struct net_backend {
	/* Sets the host side's receive offloads to the VIRTIO_NET_F_GUEST_*
	 * bits of features (the driver's). Synchronous; 0 or -errno. */
	int (*set_offload)(struct net_backend *b, uint64_t features);
	/* Read one frame, header first, into iov; then virtio_net_received()
	 * with its length or -errno. One at a time. */
	void (*recv)(struct net_backend *b, const struct iovec *iov, int n);
	/* Write one frame, header first; then virtio_net_sent(). One at a
	 * time. */
	void (*send)(struct net_backend *b, const struct iovec *iov, int n);
	/* End the read in flight now (the driver that gave its buffers reset
	 * and may reuse that memory); its result still comes, and is ignored. */
	void (*cancel_recv)(struct net_backend *b);
};

/* A popped receive chain waiting for a frame. */
struct net_rx_chain {
	uint16_t head;
	uint16_t niov;
	uint32_t len; /* its writable bytes */
};

struct net_stats {
	uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped, tx_errors;
};

struct virtio_net {
	struct virtio_mmio transport;
	struct net_backend *be;
	uint8_t mac[6];
	/* Transport lock. */
	bool active;	   /* DRIVER_OK seen since the last reset */
	unsigned gen;	   /* resets and activations so far */
	uint64_t features; /* negotiated, at the last activation */
	bool link_up;
	/* Loop thread. */
	unsigned gen_seen; /* the gen the loop acted on */
	bool offload_set;  /* the backend's offloads match features */
	bool broken;	   /* a queue was malformed: waiting for a reset */
	bool broken_told;
	uint32_t rx_need; /* bytes a read must have room for */
	struct net_rx_chain rx[VIRTIO_NET_QUEUE_SIZE];
	int rx_n; /* chains held, in pop order */
	struct iovec rx_iov[NET_RX_IOV_MAX];
	int rx_niov;
	uint64_t rx_bytes;
	uint64_t rx_offered;	   /* bytes the read in flight may fill */
	bool receiving, sending;   /* a backend call is in flight */
	bool pushed_rx, pushed_tx; /* used buffers since entering */
	bool link_changed;	   /* ... and the driver is yet to hear */
	unsigned recv_gen, send_gen;
	uint16_t tx_head;
	struct iovec tx_iov[VIRTQ_MAX_CHAIN + 1];
	struct net_tx_pkt tx;
	struct net_stats stats;
	struct virtq_chain chain;   /* scratch */
	void (*irq)(void *opaque);  /* raise the interrupt line */
	void (*wake)(void *opaque); /* have the loop call virtio_net_poll */
	void *opaque;
};

/* Sets up the device with MAC mac, offering the receive offloads in
 * guest_offloads (VIRTIO_NET_F_GUEST_CSUM, _TSO4, _TSO6, _ECN, _UFO: what
 * the backend's host side can do) and HOST_UFO if host_ufo. The link
 * starts up. */
void virtio_net_init(struct virtio_net *v, const uint8_t mac[6], uint64_t guest_offloads,
		     bool host_ufo, const struct guestmem *gm, struct net_backend *be,
		     void (*irq)(void *), void (*wake)(void *), void *opaque);

/* The guest kicked the receive queue (buffers) / the transmit queue
 * (frames). Loop thread. */
void virtio_net_rx_kick(struct virtio_net *v);
void virtio_net_tx_kick(struct virtio_net *v);

/* Acts on an activation or a reset. Loop thread. */
void virtio_net_poll(struct virtio_net *v);

/* Results of backend calls: frame length with header, or -errno. Loop
 * thread. */
void virtio_net_received(struct virtio_net *v, int res);
void virtio_net_sent(struct virtio_net *v, int res);

/* The host side's link went up or down (a config interrupt tells a
 * running driver). While down no frame is read, and transmitted ones are
 * dropped at once so the guest never waits. Loop thread. */
void virtio_net_set_link(struct virtio_net *v, bool up);

#endif
