/* libFuzzer target: virtio-blk requests from a hostile guest, two ways.
 *
 * 1. blk_req_parse on chains built straight from the input (so no input
 *    is spent on ring layout, which fuzz_virtq covers), each buffer a heap
 *    block of exactly its length, so ASan sees any access past one; with
 *    any capacity and any flags. What it accepts is checked against the
 *    spec, said independently of the parser.
 * 2. The same requests posted on well-formed rings to a virtio_blk device
 *    over a RAM disk, with a script of kicks, completions (whole, short,
 *    failed, refused at start) and resets. The backend checks that every
 *    operation stays inside the disk and guest memory, that a read-only
 *    disk is never written, and that each is what the request's parse
 *    asked for; the driver side checks that every request is answered
 *    exactly once, with the status and used length its parse and its
 *    completion call for, and that the device never breaks on good rings.
 *
 * Input: byte 0 = flags (bit 0 read-only, 1 DISCARD, 2 WRITE_ZEROES, 3
 * INDIRECT_DESC, 4 EVENT_IDX); bytes 1-8 = the capacity for part 1 (any
 * u64, little-endian); byte 9 = the device's disk in sectors; then records,
 * each an op byte:
 *   op % 4 == 0  a request: buffers (1 + byte), readable ones (byte), each
 *                buffer's length (a byte below 0xc0 is the length; else
 *                its low 6 bits and the next byte: up to 16 KiB), then the
 *                readable buffers' bytes (missing input reads as zeros);
 *   op % 4 == 1  a kick (the device takes what is available);
 *   op % 4 == 2  the backend ends one operation (a byte: which, and how);
 *   op % 4 == 3  a reset (what is in flight ends first: the real reset
 *                waits for it) and the driver brings the device up again.
 * Bit 2 of a kick or a completion op makes the backend refuse the next
 * operations it is asked to start, until the next such op. */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "blk_req.h"
#include "guestmem.h"
#include "mmio_regs.h"
#include "virtio_blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM	(1024 * 1024) /* gm_alloc's minimum */
#define QSIZE	256
#define DESC	0x0000
#define AVAIL	0x1000
#define USED	0x2000
#define BUFS	0x4000 /* buffers and indirect tables from here to MEM */
#define MAXBUF	256
#define MAXDISK (255 * BLK_SECTOR)

static const uint8_t *in, *in_end;

static uint8_t next_byte(void)
{
	return in < in_end ? *in++ : 0;
}

/* A request as the input describes it. */
struct spec {
	int n, nread;
	uint32_t len[MAXBUF];
	const uint8_t *bytes; /* the readable buffers' contents, in order */
	size_t nbytes;
};

static bool read_spec(struct spec *s)
{
	s->n = 1 + next_byte();
	s->nread = next_byte() % (s->n + 1);
	size_t need = 0;
	for (int i = 0; i < s->n; i++) {
		uint32_t b = next_byte();
		s->len[i] = b < 0xc0 ? b : (b & 0x3f) << 8 | next_byte();
		if (i < s->nread)
			need += s->len[i];
	}
	s->bytes = in;
	s->nbytes = (size_t)(in_end - in) < need ? (size_t)(in_end - in) : need;
	in += s->nbytes;
	return s->n > 0;
}

/* The chain virtq_pop would make of the request, in heap blocks: the
 * readable buffers filled from the input, the writable ones with a
 * pattern. Zero-length buffers have no memory, as virtq gives them. */
static void heap_chain(const struct spec *s, struct virtq_chain *c)
{
	size_t at = 0;
	memset(c, 0, sizeof(*c));
	c->n = s->n;
	c->nread = s->nread;
	for (int i = 0; i < s->n; i++) {
		struct virtq_buf *b = &c->buf[i];
		b->len = s->len[i];
		b->writable = i >= s->nread;
		b->host = b->len ? malloc(b->len) : NULL;
		*(b->writable ? &c->write_len : &c->read_len) += b->len;
		if (!b->len)
			continue;
		if (b->writable)
			continue; /* what the device writes; nothing reads it first */
		memset(b->host, 0, b->len);
		if (at < s->nbytes) {
			size_t k = s->nbytes - at < b->len ? s->nbytes - at : b->len;
			memcpy(b->host, s->bytes + at, k);
		}
		at += b->len;
	}
}

static void free_chain(struct virtq_chain *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->buf[i].host);
}

/* Part 1: what an accepted request may ask, from the spec (5.2.6). */
static int check_parse(const struct virtq_chain *c, uint64_t capacity, unsigned flags,
		       struct blk_req *r)
{
	int err = blk_req_parse(c, capacity, flags, r);
	const char *msg = blk_req_strerror(err);
	if (err < 0 || err >= BLK_REQ_ERROR_COUNT || !msg ||
	    !strcmp(msg, "unknown blk request error"))
		abort();
	const struct virtq_buf *last = &c->buf[c->n - 1];
	bool answerable = c->n >= 2 && last->writable && last->len >= 1;
	if ((err == BLK_REQ_ENOSTATUS) == answerable)
		abort(); /* no status exactly when there is nowhere to put one */
	if (err == BLK_REQ_ENOSTATUS)
		return err;
	if (r->status != last->host)
		abort();
	if (err)
		return err;
	bool ro = flags & BLK_REQ_RO;
	unsigned __int128 end = (unsigned __int128)r->sector * BLK_SECTOR + r->len;
	if (c->buf[0].writable || c->buf[0].len < 16 || r->ndata != c->n - 2 ||
	    r->data != &c->buf[1])
		abort();
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->len % BLK_SECTOR || end > (unsigned __int128)capacity * BLK_SECTOR ||
		    r->offset != r->sector * BLK_SECTOR || (r->type == VIRTIO_BLK_T_OUT && ro))
			abort();
		for (int i = 0; i < r->ndata; i++)
			if (r->data[i].writable != (r->type == VIRTIO_BLK_T_IN))
				abort();
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;
	case VIRTIO_BLK_T_GET_ID:
		for (int i = 0; i < r->ndata; i++)
			if (!r->data[i].writable)
				abort();
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
		if (ro || !(flags & (wz ? BLK_REQ_WRITE_ZEROES : BLK_REQ_DISCARD)) ||
		    r->ndata != 1 || r->data[0].writable || r->data[0].len != 16 ||
		    end > (unsigned __int128)capacity * BLK_SECTOR ||
		    r->offset != r->sector * BLK_SECTOR || (r->unmap && !wz))
			abort();
		break;
	}
	default:
		abort(); /* an unknown type must be UNSUPP */
	}
	return err;
}

/* ---- part 2: the device ---- */

static struct guestmem gm;
static struct virtio_blk dev;
static uint8_t disk[MAXDISK];
static uint64_t disk_size;
static unsigned allow;
static bool refuse; /* the backend refuses to start operations */

/* A request posted by the driver. */
struct posted {
	bool live; /* posted, not answered, not abandoned by a reset */
	int err;   /* its parse on the device's disk */
	struct blk_req r;
	uint8_t *status;
	bool started; /* the backend has it */
	bool done;    /* the backend ended it */
	bool ok;      /* ... with the whole length */
	uint64_t expect;
	int ndesc;
	uint16_t desc[MAXBUF];
	struct virtq_chain *heap; /* for r.data and the model's own parse */
};
static struct posted req[QSIZE]; /* by head */
static bool desc_used[QSIZE];
static uint64_t buf_next, buf_high; /* buf_high: what an input may have dirtied */
static uint16_t avail_idx, used_seen;
static int pending[QSIZE], npending; /* slots at the backend */

/* The driver forgets request p (answered, or reset away). */
static void drop(struct posted *p)
{
	if (!p->heap)
		return; /* never used: zero already */
	free_chain(p->heap);
	free(p->heap);
	memset(p, 0, sizeof(*p));
}

static void drop_all(void)
{
	for (int i = 0; i < QSIZE; i++)
		drop(&req[i]);
}

static uint8_t *ram(void)
{
	return gm.region[0].host;
}

static void in_guest(const struct iovec *iov, int n, uint64_t *total)
{
	*total = 0;
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		if (iov[i].iov_len && (p < ram() || p + iov[i].iov_len > ram() + MEM))
			abort();
		*total += iov[i].iov_len;
	}
}

/* The request the device put in slot s. */
static struct posted *of_slot(int s)
{
	if (s < 0 || s >= VIRTIO_BLK_QUEUE_SIZE || !dev.slot[s].busy)
		abort();
	struct posted *p = &req[dev.slot[s].head];
	if (!p->live || p->started || p->err)
		abort();
	return p;
}

static int start_op(int s, struct posted *p, uint64_t expect)
{
	if (refuse)
		return -EIO;
	p->started = true;
	p->expect = expect;
	pending[npending++] = s;
	return 0;
}

static int io_rw(struct blk_io *io, struct virtio_blk *d, int s, bool write,
		 const struct iovec *iov, int iovcnt, uint64_t offset)
{
	(void)io, (void)d;
	struct posted *p = of_slot(s);
	uint64_t total;
	in_guest(iov, iovcnt, &total);
	if (iovcnt != p->r.ndata || write != (p->r.type == VIRTIO_BLK_T_OUT) ||
	    (p->r.type != VIRTIO_BLK_T_OUT && p->r.type != VIRTIO_BLK_T_IN) ||
	    offset != p->r.offset || total != p->r.len || offset + total > disk_size ||
	    (write && (allow & BLK_REQ_RO)))
		abort();
	if (refuse)
		return -EIO;
	uint64_t at = offset;
	for (int i = 0; i < iovcnt; i++) {
		if (write)
			memcpy(disk + at, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, disk + at, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	return start_op(s, p, total);
}

static int io_flush(struct blk_io *io, struct virtio_blk *d, int s)
{
	(void)io, (void)d;
	struct posted *p = of_slot(s);
	if (p->r.type != VIRTIO_BLK_T_FLUSH)
		abort();
	return start_op(s, p, 0);
}

static int io_discard(struct blk_io *io, struct virtio_blk *d, int s, uint64_t offset, uint64_t len,
		      bool punch)
{
	(void)io, (void)d;
	struct posted *p = of_slot(s);
	bool wz = p->r.type == VIRTIO_BLK_T_WRITE_ZEROES;
	if ((p->r.type != VIRTIO_BLK_T_DISCARD && !wz) || offset != p->r.offset ||
	    len != p->r.len || offset + len > disk_size || (allow & BLK_REQ_RO) ||
	    !(allow & (wz ? BLK_REQ_WRITE_ZEROES : BLK_REQ_DISCARD)) ||
	    punch != (!wz || p->r.unmap))
		abort();
	if (refuse)
		return -EIO;
	memset(disk + offset, 0, len);
	return start_op(s, p, 0);
}

static struct blk_io io = {io_rw, io_flush, io_discard};

static void nop(void *o)
{
	(void)o;
}

/* As Linux: features the device offers and we want, one queue. */
static void bring_up(unsigned flags)
{
	uint64_t want = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_FLUSH |
			1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES |
			1ULL << VIRTIO_BLK_F_RO | 1ULL << VIRTIO_BLK_F_SEG_MAX |
			(flags & 8 ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0) |
			(flags & 16 ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0);
	uint64_t offered = 0;
	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_wr(&dev.transport, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
		offered |= (uint64_t)mmio_rd(&dev.transport, VIRTIO_MMIO_DEVICE_FEATURES)
			   << (32 * sel);
	}
	uint64_t f = want & offered;
	memset(ram(), 0, BUFS);
	drop_all();
	memset(desc_used, 0, sizeof(desc_used));
	buf_next = BUFS;
	avail_idx = used_seen = 0;
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 3);
	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_wr(&dev.transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		mmio_wr(&dev.transport, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> (32 * sel)));
	}
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0xb);
	mmio_queue(&dev.transport, 0, QSIZE, DESC, AVAIL, USED);
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0xf);
	if (mmio_rd(&dev.transport, VIRTIO_MMIO_STATUS) != 0xf || !dev.active)
		abort(); /* a good driver's bring-up must work */
}

static uint64_t guest_alloc(uint64_t len, uint64_t align)
{
	uint64_t at = (buf_next + align - 1) / align * align;
	if (at + len > MEM)
		return 0;
	buf_next = at + len;
	buf_high = buf_next > buf_high ? buf_next : buf_high;
	return at;
}

static void put_desc(uint8_t *table, int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct vring_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};
	memcpy(table + 16 * i, &d, sizeof(d));
}

/* Posts request s if its buffers and descriptors fit (a driver short of
 * room waits; here the request is dropped). */
static void post(const struct spec *s, bool indirect)
{
	int need = indirect ? 1 : s->n;
	int free_desc[MAXBUF], nfree = 0;
	for (int i = 0; i < QSIZE && nfree < need; i++)
		if (!desc_used[i])
			free_desc[nfree++] = i;
	if (nfree < need)
		return;
	uint64_t gpa[MAXBUF], table = 0;
	for (int i = 0; i < s->n; i++)
		if (!(gpa[i] = s->len[i] ? guest_alloc(s->len[i], 1) : BUFS))
			return;
	if (indirect && !(table = guest_alloc(16 * (uint64_t)s->n, 16)))
		return;
	uint16_t head = (uint16_t)free_desc[0];
	struct posted *p = &req[head];
	drop(p);
	if (!(p->heap = malloc(sizeof(*p->heap))))
		return;
	heap_chain(s, p->heap);
	/* The guest's copy of the buffers: the same bytes. */
	for (int i = 0; i < s->nread; i++)
		if (s->len[i])
			memcpy(ram() + gpa[i], p->heap->buf[i].host, s->len[i]);
	uint8_t *t = indirect ? ram() + table : ram() + DESC;
	for (int i = 0; i < s->n; i++) {
		uint16_t flags = (i >= s->nread ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < s->n ? VRING_DESC_F_NEXT : 0);
		int at = indirect ? i : free_desc[i];
		int next = indirect ? i + 1 : (i + 1 < s->n ? free_desc[i + 1] : 0);
		put_desc(t, at, gpa[i], s->len[i], flags, (uint16_t)next);
	}
	if (indirect)
		put_desc(ram() + DESC, head, table, 16 * (uint32_t)s->n, VRING_DESC_F_INDIRECT, 0);
	p->ndesc = need;
	for (int i = 0; i < need; i++) {
		p->desc[i] = (uint16_t)free_desc[i];
		desc_used[free_desc[i]] = true;
	}
	/* The model: the device's parse, on its capacity and flags. */
	p->err = blk_req_parse(p->heap, dev.capacity, dev.allow, &p->r);
	p->status = p->err == BLK_REQ_ENOSTATUS ? NULL : ram() + gpa[s->n - 1];
	if (p->status)
		*p->status = 0xee; /* no VIRTIO_BLK_S_*: an answer must change it */
	p->live = true;
	uint8_t *avail = ram() + AVAIL;
	memcpy(avail + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
	__atomic_store_n((uint16_t *)(avail + 2), avail_idx, __ATOMIC_RELEASE);
}

/* Takes the device's new used entries and checks each answer. */
static void reap(void)
{
	if (dev.broken)
		abort(); /* the rings are good */
	uint8_t *used = ram() + USED;
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	if ((uint16_t)(idx - used_seen) > QSIZE)
		abort();
	for (; used_seen != idx; used_seen++) {
		struct vring_used_elem e;
		memcpy(&e, used + 4 + 8 * (used_seen % QSIZE), sizeof(e));
		if (e.id >= QSIZE || !req[e.id].live)
			abort(); /* answered twice, or never posted */
		struct posted *p = &req[e.id];
		uint32_t want_len = 1;
		uint8_t want = blk_req_status(p->err);
		if (p->err == BLK_REQ_ENOSTATUS) {
			want_len = 0;
		} else if (!p->err) {
			const struct blk_req *r = &p->r;
			uint64_t data = p->heap->write_len - p->heap->buf[p->heap->n - 1].len;
			if (r->type == VIRTIO_BLK_T_GET_ID) {
				want_len =
					(data < BLK_ID_BYTES ? (uint32_t)data : BLK_ID_BYTES) + 1;
			} else if (r->type != VIRTIO_BLK_T_FLUSH && r->len == 0) {
				want = VIRTIO_BLK_S_OK;
			} else if (!p->done) {
				/* Not started (too many buffers, or refused). */
				want = VIRTIO_BLK_S_IOERR;
			} else {
				want = p->ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
				if (p->ok && r->type == VIRTIO_BLK_T_IN)
					want_len += (uint32_t)r->len;
			}
		}
		if (e.len != want_len || (p->status && *p->status != want))
			abort();
		if (p->started && !p->done)
			abort(); /* answered while the backend still had it */
		p->live = false;
		for (int i = 0; i < p->ndesc; i++)
			desc_used[p->desc[i]] = false;
	}
}

/* The backend ends the k-th operation it has, how: whole, short, failed. */
static void complete(int k, int how)
{
	int s = pending[k];
	pending[k] = pending[--npending];
	struct posted *p = &req[dev.slot[s].head];
	if (!p->started || p->done)
		abort();
	int64_t result = how == 2 ? (int64_t)p->expect - 1 : how == 3 ? -EIO : (int64_t)p->expect;
	p->done = true;
	p->ok = result == (int64_t)p->expect;
	virtio_blk_complete(&dev, s, (int)result);
	reap();
}

static void complete_all(void)
{
	while (npending)
		complete(npending - 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!gm.nregions && gm_alloc(&gm, MEM, false))
		abort();
	if (size < 10)
		return 0;
	in = data + 10;
	in_end = data + size;
	unsigned flags = data[0];
	uint64_t cap1;
	memcpy(&cap1, data + 1, 8);
	disk_size = (uint64_t)data[9] * BLK_SECTOR;
	allow = flags & 7;
	memset(disk, 0x5a, disk_size); /* a loop here was most of the time */
	memset(ram(), 0, buf_high);    /* not all of it: most inputs touch little */
	buf_high = BUFS;
	drop_all();
	npending = 0;
	refuse = false;
	virtio_blk_init(&dev, disk_size, allow, "fuzz-disk-id-20bytes", &gm, &io, nop, NULL);
	bring_up(flags);

	static struct virtq_chain c;
	struct spec s;
	for (int steps = 0; steps < 256 && in < in_end; steps++) {
		uint8_t op = next_byte();
		switch (op % 4) {
		case 0:
			if (!read_spec(&s))
				break;
			heap_chain(&s, &c);
			struct blk_req r;
			check_parse(&c, cap1, flags & 7, &r);
			free_chain(&c);
			post(&s, (flags & 8) && (op & 8));
			break;
		case 1:
			refuse ^= (op & 4) != 0;
			virtio_blk_process(&dev);
			reap();
			break;
		case 2: {
			refuse ^= (op & 4) != 0;
			uint8_t b = next_byte();
			if (npending)
				complete(b % npending, b >> 6);
			break;
		}
		case 3:
			complete_all();
			mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0);
			reap();
			if (dev.inflight || dev.active)
				abort();
			bring_up(flags);
			break;
		}
	}
	/* The driver waits for every answer: each request posted gets one. */
	refuse = false;
	virtio_blk_process(&dev);
	reap();
	complete_all();
	for (int i = 0; i < QSIZE; i++)
		if (req[i].live)
			abort();
	mmio_wr(&dev.transport, VIRTIO_MMIO_STATUS, 0);
	drop_all();
	return 0;
}
