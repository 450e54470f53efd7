/* byte_ring: a power-of-two byte FIFO handed out as iovecs. */
#include "byte_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int byte_ring_init(struct byte_ring *r, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	if (size < 2 || (size & (size - 1)))
		return -EINVAL;
	r->buf = malloc(size);
	if (!r->buf)
		return -ENOMEM;
	r->size = size;
	return 0;
}

void byte_ring_free(struct byte_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Up to len bytes from counter position pos, split at the end of buf. */
static int span(const struct byte_ring *r, uint32_t pos, uint32_t len, struct iovec iov[2])
{
	if (len == 0)
		return 0;
	uint32_t off = pos & (r->size - 1);
	uint32_t first = r->size - off < len ? r->size - off : len;
	iov[0] = (struct iovec){r->buf + off, first};
	if (first == len)
		return 1;
	iov[1] = (struct iovec){r->buf, len - first};
	return 2;
}

int byte_ring_data(const struct byte_ring *r, uint32_t max, struct iovec iov[2])
{
	uint32_t used = byte_ring_used(r);
	return span(r, r->rd, used < max ? used : max, iov);
}

int byte_ring_free_space(const struct byte_ring *r, struct iovec iov[2])
{
	return span(r, r->wr, byte_ring_space(r), iov);
}

void byte_ring_consume(struct byte_ring *r, uint32_t n)
{
	r->rd += n;
}

void byte_ring_produce(struct byte_ring *r, uint32_t n)
{
	r->wr += n;
}

/* Moves (*i, *off) forward past skip bytes of iov. */
static void seek(const struct iovec *iov, int n, int *i, size_t *off, size_t skip)
{
	while (*i < n && skip >= iov[*i].iov_len - *off) {
		skip -= iov[*i].iov_len - *off;
		(*i)++;
		*off = 0;
	}
	*off += skip;
}

void iov_copy(const struct iovec *dst, int ndst, size_t dst_off, const struct iovec *src, int nsrc,
	      size_t src_off, size_t len)
{
	int di = 0, si = 0;
	size_t doff = 0, soff = 0;
	seek(dst, ndst, &di, &doff, dst_off);
	seek(src, nsrc, &si, &soff, src_off);
	while (len && di < ndst && si < nsrc) {
		size_t dn = dst[di].iov_len - doff, sn = src[si].iov_len - soff;
		size_t n = dn < sn ? dn : sn;
		n = n < len ? n : len;
		memcpy((uint8_t *)dst[di].iov_base + doff, (const uint8_t *)src[si].iov_base + soff,
		       n);
		len -= n;
		seek(dst, ndst, &di, &doff, n);
		seek(src, nsrc, &si, &soff, n);
	}
}
