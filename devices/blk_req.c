/* blk_req: parses virtio-blk requests out of descriptor chains. */
#include "blk_req.h"

#include <linux/virtio_blk.h>
#include <string.h>

#define HDR_LEN 16 /* struct virtio_blk_outhdr */

/* Sectors [sector, sector + len / 512) inside a disk of capacity sectors,
 * without overflow. */
static bool in_range(uint64_t sector, uint64_t len, uint64_t capacity)
{
	uint64_t n = len / BLK_SECTOR;
	return sector <= capacity && n <= capacity - sector;
}

static int check_data(const struct blk_req *r, bool writable)
{
	for (int i = 0; i < r->ndata; i++)
		if (r->data[i].writable != writable)
			return BLK_REQ_EDIR;
	return BLK_REQ_OK;
}

/* The one segment of a DISCARD or WRITE_ZEROES (5.2.6.2). */
static int parse_segment(struct blk_req *r, uint64_t capacity, unsigned flags)
{
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	if (!(flags & (wz ? BLK_REQ_WRITE_ZEROES : BLK_REQ_DISCARD)))
		return BLK_REQ_EUNSUPP;
	int err = check_data(r, false);
	if (err)
		return err;
	if (flags & BLK_REQ_RO)
		return BLK_REQ_ERO;
	struct virtio_blk_discard_write_zeroes seg;
	if (r->ndata != 1 || r->data[0].len != sizeof(seg))
		return BLK_REQ_ESEGMENT;
	memcpy(&seg, r->data[0].host, sizeof(seg));
	/* Only WRITE_ZEROES has a flag, and it is UNMAP. */
	if (seg.flags & ~(wz ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0u))
		return BLK_REQ_EUNSUPP;
	r->sector = seg.sector;
	r->len = (uint64_t)seg.num_sectors * BLK_SECTOR;
	r->unmap = seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if (!in_range(r->sector, r->len, capacity))
		return BLK_REQ_ERANGE;
	r->offset = r->sector * BLK_SECTOR;
	return BLK_REQ_OK;
}

int blk_req_parse(const struct virtq_chain *c, uint64_t capacity, unsigned flags, struct blk_req *r)
{
	memset(r, 0, sizeof(*r));
	if (c->n < 2)
		return BLK_REQ_ENOSTATUS; /* a header and a status at the least */
	const struct virtq_buf *last = &c->buf[c->n - 1];
	if (!last->writable || last->len < 1)
		return BLK_REQ_ENOSTATUS;
	r->status = last->host;
	const struct virtq_buf *hdr = &c->buf[0];
	if (hdr->writable || hdr->len < HDR_LEN)
		return BLK_REQ_ENOHDR;
	struct virtio_blk_outhdr h;
	memcpy(&h, hdr->host, sizeof(h)); /* once: the guest may rewrite it */
	r->type = h.type;
	r->sector = h.sector;
	r->data = &c->buf[1];
	r->ndata = c->n - 2;
	for (int i = 0; i < r->ndata; i++)
		r->len += r->data[i].len;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = r->type == VIRTIO_BLK_T_OUT;
		int err = check_data(r, !out);
		if (err)
			return err;
		if (out && (flags & BLK_REQ_RO))
			return BLK_REQ_ERO;
		if (r->len % BLK_SECTOR)
			return BLK_REQ_EALIGN;
		if (!in_range(r->sector, r->len, capacity))
			return BLK_REQ_ERANGE;
		r->offset = r->sector * BLK_SECTOR;
		return BLK_REQ_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		return BLK_REQ_OK; /* no data; the sector is ignored (5.2.6.2) */
	case VIRTIO_BLK_T_GET_ID:
		return check_data(r, true);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_segment(r, capacity, flags);
	default:
		return BLK_REQ_EUNSUPP;
	}
}

uint8_t blk_req_status(int err)
{
	if (err == BLK_REQ_OK)
		return VIRTIO_BLK_S_OK;
	return err == BLK_REQ_EUNSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

const char *blk_req_strerror(int err)
{
	static const char *const msg[BLK_REQ_ERROR_COUNT] = {
		[BLK_REQ_OK] = "ok",
		[BLK_REQ_ENOSTATUS] = "no writable status byte at the end of the chain",
		[BLK_REQ_ENOHDR] = "no readable 16-byte request header",
		[BLK_REQ_EUNSUPP] = "unsupported request type",
		[BLK_REQ_EDIR] = "data buffers in the wrong direction",
		[BLK_REQ_EALIGN] = "data length is not a whole number of sectors",
		[BLK_REQ_ERANGE] = "sectors past the end of the disk",
		[BLK_REQ_ERO] = "write to a read-only disk",
		[BLK_REQ_ESEGMENT] = "discard or write-zeroes data is not one 16-byte segment",
	};
	return err >= 0 && err < BLK_REQ_ERROR_COUNT ? msg[err] : "unknown blk request error";
}
