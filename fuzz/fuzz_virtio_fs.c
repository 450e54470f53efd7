/* libFuzzer target: the FUSE request parser and reply builder on chains a
 * hostile guest made. Input: segments, each [u16 len][u8 flags] then len
 * bytes (readable ones carry the bytes; writable ones only their length),
 * up to 64 segments; readable segments first as virtq_pop guarantees.
 * Checks what the server relies on: names NUL-terminated inside the
 * copied arguments and shaped as their kind requires, WRITE's payload
 * inside the readable buffers and exactly its size, replies inside the
 * writable buffers (ASan sees any overrun). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEG 64

static void check_name(const struct fuse_req *r, const char *s, bool file)
{
	if (!s)
		return;
	const char *in = (const char *)r->in;
	if (s < in || s >= in + r->arglen)
		abort();
	size_t len = strnlen(s, in + r->arglen - s);
	if (len == 0 || s + len >= in + r->arglen)
		abort();
	if (file && (len > 255 || memchr(s, '/', len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain c;
	static struct fuse_req r;
	static uint8_t mem[MAX_SEG][65536];
	memset(&c, 0, sizeof(c));
	size_t pos = 0;
	bool seen_write = false;
	while (pos + 3 <= size && c.n < MAX_SEG) {
		uint32_t len = data[pos] | (uint32_t)data[pos + 1] << 8;
		bool w = data[pos + 2] & 1;
		pos += 3;
		if (w)
			seen_write = true;
		else if (seen_write)
			w = true; /* virtq_pop never gives readable after writable */
		struct virtq_buf *b = &c.buf[c.n];
		b->host = mem[c.n];
		b->len = len;
		b->writable = w;
		if (!w) {
			size_t n = size - pos < len ? size - pos : len;
			memcpy(b->host, data + pos, n);
			memset(b->host + n, 0, len - n);
			pos += n;
			c.nread++;
			c.read_len += len;
		} else {
			c.write_len += len;
		}
		c.n++;
	}
	int err = fuse_req_parse(&c, &r);
	if (err == FUSE_REQ_ESHORT)
		return 0;
	if (err == 0) {
		bool xattr = r.h.opcode == FUSE_SETXATTR || r.h.opcode == FUSE_GETXATTR ||
			     r.h.opcode == FUSE_REMOVEXATTR;
		check_name(&r, r.name, !xattr);
		check_name(&r, r.name2, r.h.opcode != FUSE_SYMLINK);
		if (r.value && (r.value < r.in || r.value + r.vsize > r.in + r.arglen))
			abort();
		uint64_t sum = 0;
		for (int i = 0; i < r.nwdata; i++) {
			const uint8_t *p = r.wdata[i].iov_base;
			bool inside = false;
			for (int k = 0; k < c.nread; k++)
				inside |= p >= c.buf[k].host &&
					  p + r.wdata[i].iov_len <= c.buf[k].host + c.buf[k].len;
			if (!inside)
				abort();
			sum += r.wdata[i].iov_len;
		}
		if (sum != r.wlen)
			abort();
	}
	if (err != FUSE_REQ_ENOOUT && !r.no_reply) {
		static uint8_t payload[4096];
		fuse_req_reply(&r, 0, payload, (uint32_t)(size % sizeof(payload)));
		fuse_req_reply(&r, -2, NULL, 0);
		struct iovec iov[FUSE_REQ_MAX_IOV];
		uint32_t total;
		int n = fuse_req_out_iov(&r, UINT32_MAX, iov, FUSE_REQ_MAX_IOV, &total);
		for (int i = 0; i < n; i++)
			memset(iov[i].iov_base, 0, iov[i].iov_len);
		fuse_req_reply_len(&r, total);
	}
	return 0;
}
