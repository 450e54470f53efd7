/*
 * virtio_vsock: a virtio socket device (virtio 1.2, section 5.10) for
 * stream sockets between the guest and the host (CID 2). The device keeps
 * every connection's state, both directions' buffers and the credit-based
 * flow control; a backend (struct vsock_backend: Unix sockets on io_uring
 * in the VMM, a fake in the tests) moves the bytes on the host side and
 * reports each operation's end back through virtio_vsock_*() calls.
 *
 * Per connection: guest -> host bytes are copied out of the TX queue into
 * a VSOCK_BUF_SIZE ring (the buf_alloc we advertise, so a guest that keeps
 * to its credit never finds it full) and sent from there; host -> guest
 * bytes are received into a smaller ring and copied into the guest's RX
 * buffers as its credit allows. At most VSOCK_MAX_CONNS connections, so a
 * guest can pin at most 256 * 320 KiB of host memory. A TX buffer is thus returned at once and a
 * slow host reader never holds the queue from the other connections.
 *
 * The guest is hostile: a malformed packet, a credit overrun or a packet
 * for a connection in the wrong state resets that connection (RST), never
 * more; a malformed ring sets DEVICE_NEEDS_RESET.
 *
 * Threading: everything but the transport callbacks runs on the event
 * loop thread. The transport callbacks (config, activate, reset) run on
 * vCPU threads under the transport lock; a reset only marks the device and
 * wakes the loop, which then drops the connections (virtio_vsock_poll or
 * any other entry point). Backend calls never call back into the device
 * before they return.
 */
#ifndef VMM_DEVICES_VIRTIO_VSOCK_H
#define VMM_DEVICES_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "byte_ring.h"
#include "virtio_mmio.h"
#include "vsock_pkt.h"

#define VSOCK_HOST_CID	  2
#define VSOCK_QUEUE_SIZE  256
#define VSOCK_MAX_CONNS	  256
#define VSOCK_BUF_SIZE	  (256 * 1024) /* guest -> host buffer: the buf_alloc we advertise */
#define VSOCK_RX_BUF_SIZE (64 * 1024)  /* host -> guest buffer */
#define VSOCK_RST_BACKLOG 64	       /* RSTs owed to packets without a connection */
#define VSOCK_LOCAL_PORT0 0x40000000u  /* host ports for host-initiated connections */

enum { VSOCK_RXQ, VSOCK_TXQ, VSOCK_EVQ, VSOCK_NQUEUES };

enum vsock_conn_state {
	VSOCK_FREE,
	VSOCK_CONNECTING,  /* the guest asked; the backend connects on the host */
	VSOCK_REQUESTED,   /* the host asked; REQUEST sent, RESPONSE awaited */
	VSOCK_ESTABLISHED, /* bytes flow */
	VSOCK_CLOSING,	   /* over; an RST may be owed, the backend is closing */
};

/* Control packets a connection owes the guest. */
enum {
	VSOCK_OWE_REQUEST = 1,
	VSOCK_OWE_RESPONSE = 2,
	VSOCK_OWE_CREDIT_UPDATE = 4,
	VSOCK_OWE_CREDIT_REQUEST = 8,
	VSOCK_OWE_RST = 16,
};

struct vsock_conn {
	enum vsock_conn_state state;
	uint32_t local_port; /* the host side's port */
	uint32_t peer_port;  /* the guest's */
	void *host;	     /* the backend's; the device never looks at it */

	/* guest -> host */
	struct byte_ring tx;
	uint32_t recv_cnt; /* bytes taken from the guest */
	uint32_t fwd_cnt;  /* ... and sent on to the host: the credit we give */
	uint32_t fwd_told; /* fwd_cnt as the guest last heard it */
	bool sending;	   /* a backend send is in flight */
	bool wr_shut;	   /* the backend was told: no more bytes */

	/* host -> guest */
	struct byte_ring rx;
	uint32_t peer_buf_alloc, peer_fwd_cnt; /* the guest's credit */
	uint32_t rx_cnt;		       /* bytes put in the guest's RX queue */
	bool receiving;			       /* a backend recv is in flight */
	bool host_eof;			       /* the host side sends no more */
	bool shutdown_sent;		       /* ... and the guest was told */
	bool credit_requested;

	uint32_t guest_shutdown; /* VIRTIO_VSOCK_SHUTDOWN_* the guest sent */
	unsigned owed;		 /* VSOCK_OWE_* */
	bool backend_open;	 /* virtio_vsock_closed() not yet called */
	struct vsock_conn *next; /* on the RX service list */
	bool listed;
};

/* The host side. Each call starts something and returns; none calls back
 * into the device before returning. */
struct vsock_backend {
	/* The guest connects to host port c->local_port: start connecting
	 * and return 0, then virtio_vsock_connect_done(); or return -errno
	 * if it cannot even start (the guest gets an RST, no close()). */
	int (*connect)(struct vsock_backend *b, struct vsock_conn *c);
	/* The guest accepted a connection the host asked for. */
	void (*accepted)(struct vsock_backend *b, struct vsock_conn *c);
	/* Write these bytes to the host (any prefix), then virtio_vsock_sent().
	 * One at a time per connection. */
	void (*send)(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n);
	/* Read from the host into these buffers, then virtio_vsock_received()
	 * (0 bytes: end of stream). One at a time per connection. */
	void (*recv)(struct vsock_backend *b, struct vsock_conn *c, const struct iovec *iov, int n);
	/* The guest sends no more and all it sent was sent: half-close. */
	void (*shutdown_write)(struct vsock_backend *b, struct vsock_conn *c);
	/* The connection is over: end what is in flight (their results are
	 * still reported, and ignored), close, then virtio_vsock_closed(). */
	void (*close)(struct vsock_backend *b, struct vsock_conn *c);
};

struct virtio_vsock {
	struct virtio_mmio transport;
	uint64_t cid;
	struct vsock_backend *be;
	bool active;	    /* DRIVER_OK seen since the last reset; transport lock */
	unsigned gen;	    /* resets so far; transport lock */
	unsigned gen_seen;  /* the resets the loop has acted on */
	bool broken;	    /* a queue was malformed: waiting for a reset */
	bool broken_told;   /* ... and DEVICE_NEEDS_RESET was set */
	uint32_t next_port; /* for host-initiated connections */
	struct vsock_conn conn[VSOCK_MAX_CONNS];
	struct vsock_conn *head, *tail; /* the RX service list */
	struct vsock_hdr rst[VSOCK_RST_BACKLOG];
	int nrst;
	struct virtq_chain chain;   /* scratch */
	void (*irq)(void *opaque);  /* raise the interrupt line */
	void (*wake)(void *opaque); /* have the loop call virtio_vsock_poll */
	void *opaque;
};

/* Sets up the device for guest CID cid (3 to 0xfffffffe). */
void virtio_vsock_init(struct virtio_vsock *v, uint64_t cid, const struct guestmem *gm,
		       struct vsock_backend *be, void (*irq)(void *), void (*wake)(void *),
		       void *opaque);

/* Frees the connections' buffers. The backend must be done with them. */
void virtio_vsock_destroy(struct virtio_vsock *v);

/* The guest kicked the TX queue (packets to take) / the RX queue (buffers
 * to fill). Loop thread. */
void virtio_vsock_tx_kick(struct virtio_vsock *v);
void virtio_vsock_rx_kick(struct virtio_vsock *v);

/* Acts on a device reset (drops every connection). Loop thread. */
void virtio_vsock_poll(struct virtio_vsock *v);

/* The host connects to guest port port; host is the backend's handle.
 * Returns the connection (the guest's answer comes as accepted() or
 * close()), or NULL when the guest driver is not running or there are too
 * many connections. Loop thread. */
struct vsock_conn *virtio_vsock_host_connect(struct virtio_vsock *v, uint32_t port, void *host);

/* Results of backend calls: 0 or -errno; bytes or -errno. Loop thread. */
void virtio_vsock_connect_done(struct virtio_vsock *v, struct vsock_conn *c, int err);
void virtio_vsock_sent(struct virtio_vsock *v, struct vsock_conn *c, int res);
void virtio_vsock_received(struct virtio_vsock *v, struct vsock_conn *c, int res);
void virtio_vsock_closed(struct virtio_vsock *v, struct vsock_conn *c);

#endif
