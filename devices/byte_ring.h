/*
 * byte_ring: a fixed-size FIFO of bytes (a power of two), with its data
 * and its free space handed out as at most two iovecs each, so an io_uring
 * readv/writev or a copy from guest buffers fills or drains it in place.
 *
 * Counters run freely and wrap (u32 arithmetic), so used = wr - rd even
 * across the wrap. Not thread-safe: one owner.
 */
#ifndef VMM_DEVICES_BYTE_RING_H
#define VMM_DEVICES_BYTE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct byte_ring {
	uint8_t *buf;
	uint32_t size; /* a power of two */
	uint32_t rd, wr;
};

/* Allocates a ring of size bytes (a power of two, at least 2). Returns 0
 * or -ENOMEM / -EINVAL. */
int byte_ring_init(struct byte_ring *r, uint32_t size);
void byte_ring_free(struct byte_ring *r);

static inline uint32_t byte_ring_used(const struct byte_ring *r)
{
	return r->wr - r->rd;
}

static inline uint32_t byte_ring_space(const struct byte_ring *r)
{
	return r->size - byte_ring_used(r);
}

/* The first at most max bytes of data, as 0 to 2 iovecs; returns how
 * many. Consume them with byte_ring_consume(). */
int byte_ring_data(const struct byte_ring *r, uint32_t max, struct iovec iov[2]);

/* The free space, as 0 to 2 iovecs; returns how many. Mark what was
 * filled with byte_ring_produce(). */
int byte_ring_free_space(const struct byte_ring *r, struct iovec iov[2]);

/* n bytes (at most used / space) leave / enter the ring. */
void byte_ring_consume(struct byte_ring *r, uint32_t n);
void byte_ring_produce(struct byte_ring *r, uint32_t n);

/* Copies between iovec lists: len bytes from src (skipping src_off bytes
 * of it) to dst (skipping dst_off bytes). Both must hold that many; the
 * caller checks. */
void iov_copy(const struct iovec *dst, int ndst, size_t dst_off, const struct iovec *src, int nsrc,
	      size_t src_off, size_t len);

#endif
