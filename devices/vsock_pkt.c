/* vsock_pkt: virtio-vsock packet headers in and out of descriptor chains. */
#include "vsock_pkt.h"

#include <string.h>

#include "byte_ring.h"

/* The chain's readable (or writable) buffers as iovecs; returns how many. */
static int chain_iov(const struct virtq_chain *c, bool writable, struct iovec *iov)
{
	int from = writable ? c->nread : 0, to = writable ? c->n : c->nread;
	for (int i = from; i < to; i++)
		iov[i - from] = (struct iovec){c->buf[i].host, c->buf[i].len};
	return to - from;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

int vsock_pkt_parse(const struct virtq_chain *c, struct vsock_hdr *h)
{
	if (c->nread < c->n)
		return -VSOCK_PKT_EWRITABLE;
	if (c->read_len < VSOCK_HDR_SIZE)
		return -VSOCK_PKT_ESHORT;
	struct iovec iov[VIRTQ_MAX_CHAIN];
	int n = chain_iov(c, false, iov);
	uint8_t b[VSOCK_HDR_SIZE];
	iov_copy(&(struct iovec){b, sizeof(b)}, 1, 0, iov, n, 0, sizeof(b));
	*h = (struct vsock_hdr){
		.src_cid = get64(b),
		.dst_cid = get64(b + 8),
		.src_port = get32(b + 16),
		.dst_port = get32(b + 20),
		.len = get32(b + 24),
		.type = get16(b + 28),
		.op = get16(b + 30),
		.flags = get32(b + 32),
		.buf_alloc = get32(b + 36),
		.fwd_cnt = get32(b + 40),
	};
	if (h->len > c->read_len - VSOCK_HDR_SIZE)
		return -VSOCK_PKT_ELEN;
	return 0;
}

void vsock_pkt_read_payload(const struct virtq_chain *c, const struct iovec *dst, int ndst,
			    uint32_t len)
{
	struct iovec iov[VIRTQ_MAX_CHAIN];
	int n = chain_iov(c, false, iov);
	iov_copy(dst, ndst, 0, iov, n, VSOCK_HDR_SIZE, len);
}

int64_t vsock_pkt_room(const struct virtq_chain *c)
{
	return (int64_t)c->write_len - VSOCK_HDR_SIZE;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint32_t vsock_pkt_write(const struct virtq_chain *c, const struct vsock_hdr *h,
			 const struct iovec *src, int nsrc)
{
	uint8_t b[VSOCK_HDR_SIZE];
	put64(b, h->src_cid);
	put64(b + 8, h->dst_cid);
	put32(b + 16, h->src_port);
	put32(b + 20, h->dst_port);
	put32(b + 24, h->len);
	put16(b + 28, h->type);
	put16(b + 30, h->op);
	put32(b + 32, h->flags);
	put32(b + 36, h->buf_alloc);
	put32(b + 40, h->fwd_cnt);
	struct iovec iov[VIRTQ_MAX_CHAIN];
	int n = chain_iov(c, true, iov);
	iov_copy(iov, n, 0, &(struct iovec){b, sizeof(b)}, 1, 0, sizeof(b));
	iov_copy(iov, n, VSOCK_HDR_SIZE, src, nsrc, 0, h->len);
	return VSOCK_HDR_SIZE + h->len;
}

const char *vsock_pkt_strerror(int err)
{
	static const char *const msg[VSOCK_PKT_ERROR_COUNT] = {
		[VSOCK_PKT_OK] = "no error",
		[VSOCK_PKT_ESHORT] = "packet shorter than its header",
		[VSOCK_PKT_ELEN] = "payload length beyond the packet",
		[VSOCK_PKT_EWRITABLE] = "device-writable buffer in a TX packet",
	};
	if (err < 0)
		err = -err;
	return err < VSOCK_PKT_ERROR_COUNT ? msg[err] : "unknown error";
}
