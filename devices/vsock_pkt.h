/*
 * vsock_pkt: virtio-vsock packets (virtio 1.2, section 5.10.6) as they sit
 * in descriptor chains: the 44-byte little-endian header, then the payload.
 * Pure code over popped chains (struct virtq_chain), unit-tested and fuzzed.
 *
 * A driver may split a packet over buffers anywhere (Linux 6.1 puts the
 * header and the payload in two descriptors, later kernels in one), so
 * nothing here assumes a layout.
 */
#ifndef VMM_DEVICES_VSOCK_PKT_H
#define VMM_DEVICES_VSOCK_PKT_H

#include <stdint.h>
#include <sys/uio.h>

#include "virtq.h"

#define VSOCK_HDR_SIZE	  44
#define VSOCK_MAX_PAYLOAD (64 * 1024) /* most payload we put in one RX packet */

/* The header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

enum vsock_pkt_error {
	VSOCK_PKT_OK = 0,
	VSOCK_PKT_ESHORT = 1, /* fewer readable bytes than a header */
	VSOCK_PKT_ELEN,	      /* header len beyond the readable bytes after it */
	VSOCK_PKT_EWRITABLE,  /* a device-writable buffer in a TX packet */
	VSOCK_PKT_ERROR_COUNT,
};

/* Reads the header of a TX chain (driver to device). Returns 0, with
 * h->len payload bytes following the header in the chain, or
 * -vsock_pkt_error. */
int vsock_pkt_parse(const struct virtq_chain *c, struct vsock_hdr *h);

/* Copies the first len payload bytes of a parsed TX chain into dst (which
 * holds at least len bytes). */
void vsock_pkt_read_payload(const struct virtq_chain *c, const struct iovec *dst, int ndst,
			    uint32_t len);

/* The payload bytes an RX chain (device-writable buffers) has room for
 * after a header; -1 when the header itself does not fit. */
int64_t vsock_pkt_room(const struct virtq_chain *c);

/* Writes h and h->len payload bytes from src into an RX chain with room
 * for them. Returns the bytes written, for the used ring. */
uint32_t vsock_pkt_write(const struct virtq_chain *c, const struct vsock_hdr *h,
			 const struct iovec *src, int nsrc);

const char *vsock_pkt_strerror(int err);

#endif
