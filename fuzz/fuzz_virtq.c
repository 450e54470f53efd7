/* libFuzzer target: the virtqueue walker on rings a hostile guest wrote,
 * and the virtio-blk request parser on every chain it pops.
 * Input: 2 bytes of queue setup (size, features), then up to 64 KiB of the
 * 1 MiB guest memory: the rings (desc at 0, avail at 0x1000, used at
 * 0x2000) and whatever buffers and indirect tables the descriptors name.
 * The rest of guest memory stays zero (the target only ever writes zeros). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk_req.h"
#include "guestmem.h"
#include "virtq.h"

#define MEM   (1024 * 1024) /* gm_alloc's minimum */
#define INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DISK_SECTORS 2048 /* a 1 MiB disk */

/* What the blk device will rely on for a request the parser accepted. */
static void check_blk(const struct virtq_chain *c, bool read_only)
{
	struct blk_req r;
	unsigned allow = read_only ? BLK_REQ_RO : BLK_REQ_DISCARD | BLK_REQ_WRITE_ZEROES;
	int err = blk_req_parse(c, DISK_SECTORS, allow, &r);
	if (err == BLK_REQ_ENOSTATUS)
		return;
	if (!r.status || r.status != c->buf[c->n - 1].host || !c->buf[c->n - 1].writable)
		abort();
	if (err)
		return;
	if (r.ndata != c->n - 2 || (r.ndata && r.data != &c->buf[1]))
		abort();
	if (r.type == 11 || r.type == 13) { /* DISCARD, WRITE_ZEROES */
		if (read_only || r.offset + r.len > DISK_SECTORS * (uint64_t)BLK_SECTOR)
			abort();
	}
	if (r.type <= 1) { /* IN, OUT */
		if (r.offset % BLK_SECTOR || r.len % BLK_SECTOR ||
		    r.offset + r.len > DISK_SECTORS * (uint64_t)BLK_SECTOR ||
		    (r.type == 1 && read_only))
			abort();
		for (int i = 0; i < r.ndata; i++)
			if (r.data[i].writable != (r.type == 0))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guestmem gm;
	static struct virtq_chain chain;
	if (!gm.nregions && gm_alloc(&gm, MEM, false))
		abort();
	if (size < 2)
		return 0;
	uint8_t *ram = gm.region[0].host;
	memset(ram, 0, INPUT);
	memcpy(ram, data + 2, size - 2 < INPUT ? size - 2 : INPUT);

	struct virtq q = {
		.size = (uint16_t)(1u << (data[0] % 9)), /* 1..256: the rings fit */
		.desc_gpa = 0,
		.avail_gpa = 0x1000,
		.used_gpa = 0x2000,
		.indirect = data[1] & 1,
		.event_idx = data[1] & 2,
		.gm = &gm,
	};
	if (virtq_start(&q))
		abort(); /* a valid setup must start */
	/* As a device would: pop until empty or broken, pushing each chain. */
	for (int round = 0; round < 2 * 256 + 1; round++) {
		int r = virtq_pop(&q, &chain);
		if (r <= 0)
			break;
		if (chain.head >= q.size || chain.n < 1 || chain.n > VIRTQ_MAX_CHAIN ||
		    chain.nread > chain.n)
			abort();
		uint64_t rd = 0, wr = 0;
		for (int i = 0; i < chain.n; i++) {
			const struct virtq_buf *b = &chain.buf[i];
			if (b->len && (b->host < ram || b->host + b->len > ram + MEM))
				abort(); /* every buffer lies inside guest memory */
			if (b->writable != (i >= chain.nread))
				abort(); /* readable first, then writable */
			*(b->writable ? &wr : &rd) += b->len;
			if (b->len) /* touch both ends: ASan checks the range */
				b->host[0] = b->host[b->len - 1] = 0;
		}
		if (rd != chain.read_len || wr != chain.write_len)
			abort();
		check_blk(&chain, data[1] & 4);
		virtq_push(&q, chain.head, (uint32_t)chain.write_len);
		virtq_should_notify(&q);
		virtq_set_avail_event(&q);
	}
	return 0;
}
