/* virtio_blk: the virtio block device, with the I/O left to a backend. */
#include "virtio_blk.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <string.h>

#define FEATURES                                                                                   \
	((1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |                        \
	 (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |                    \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX))

static struct virtio_blk *of(void *dev)
{
	return dev;
}

static void config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_blk *b = of(dev);
	uint32_t max_sectors = b->capacity < UINT32_MAX ? (uint32_t)b->capacity : UINT32_MAX;
	struct virtio_blk_config c = {
		.capacity = b->capacity,
		.seg_max = VIRTIO_BLK_SEG_MAX,
		.blk_size = BLK_SECTOR,
		/* One segment per request, as large as the disk. */
		.max_discard_sectors = max_sectors,
		.max_discard_seg = 1,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = max_sectors,
		.max_write_zeroes_seg = 1,
		.write_zeroes_may_unmap = 1,
	};
	if (offset < sizeof(c))
		memcpy(data, (uint8_t *)&c + offset,
		       len < sizeof(c) - offset ? len : sizeof(c) - offset);
}

static int activate(void *dev, uint64_t features)
{
	struct virtio_blk *b = of(dev);
	(void)features; /* the queue took INDIRECT and EVENT_IDX already */
	b->active = true;
	b->broken = false;
	return 0;
}

/* Transport lock held, vCPU thread. The driver reset the device: stop
 * taking requests, and wait until the ones at the backend have completed,
 * so none of them is answered into the rings or buffers the driver now
 * reclaims. See the header for why the wait cannot deadlock. */
static void reset(void *dev)
{
	struct virtio_blk *b = of(dev);
	b->active = false;
	for (int i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++) {
		struct blk_slot *s = &b->slot[i];
		if (s->busy && !s->orphan) {
			s->orphan = true;
			b->orphans++;
		}
	}
	/* The lock is released while waiting: another vCPU may meanwhile
	 * bring the device up again and start new requests. Those are not
	 * orphans, so the wait ends with the ones this reset left behind. */
	while (b->orphans > 0 && !b->stopped)
		pthread_cond_wait(&b->drained, &b->transport.lock);
}

static void irq(void *dev)
{
	struct virtio_blk *b = of(dev);
	b->irq(b->opaque);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = config_read,
	.activate = activate,
	.reset = reset,
	.irq = irq,
};

void virtio_blk_init(struct virtio_blk *b, uint64_t size, unsigned allow, const char *id,
		     const struct guestmem *gm, struct blk_io *io, void (*irq_fn)(void *),
		     void *opaque)
{
	memset(b, 0, sizeof(*b));
	pthread_cond_init(&b->drained, NULL);
	uint64_t features = FEATURES;
	if (allow & BLK_REQ_RO)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= (allow & BLK_REQ_DISCARD ? 1ULL << VIRTIO_BLK_F_DISCARD : 0) |
			    (allow & BLK_REQ_WRITE_ZEROES ? 1ULL << VIRTIO_BLK_F_WRITE_ZEROES : 0);
	virtio_mmio_init(&b->transport, VIRTIO_ID_BLOCK, features, 1, VIRTIO_BLK_QUEUE_SIZE, gm,
			 &blk_ops, b);
	b->io = io;
	b->capacity = size / BLK_SECTOR;
	b->allow = allow & BLK_REQ_RO ? BLK_REQ_RO : allow;
	/* The spec's ID is zero-padded, and not terminated when full. */
	size_t idlen = strnlen(id, sizeof(b->id));
	memcpy(b->id, id, idlen);
	b->irq = irq_fn;
	b->opaque = opaque;
}

static int alloc_slot(struct virtio_blk *b)
{
	for (int i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		if (!b->slot[i].busy)
			return i;
	return -1;
}

/* Copies the ID into the request's writable data buffers. */
static uint32_t write_id(const struct virtio_blk *b, const struct blk_req *r)
{
	uint32_t done = 0;
	for (int i = 0; i < r->ndata && done < BLK_ID_BYTES; i++) {
		uint32_t n =
			r->data[i].len < BLK_ID_BYTES - done ? r->data[i].len : BLK_ID_BYTES - done;
		memcpy(r->data[i].host, b->id + done, n);
		done += n;
	}
	return done;
}

/* Lock held. Starts one parsed request; returns true if it was answered
 * at once (pushed), false if the backend has it. */
static bool start(struct virtio_blk *b, struct virtq *q, const struct blk_req *r, uint16_t head)
{
	uint8_t status = VIRTIO_BLK_S_IOERR;
	uint32_t written = 0;
	if (r->type == VIRTIO_BLK_T_GET_ID) {
		written = write_id(b, r);
		status = VIRTIO_BLK_S_OK;
	} else if (r->type != VIRTIO_BLK_T_FLUSH && r->len == 0) {
		status = VIRTIO_BLK_S_OK; /* nothing to move, zero or punch */
	} else if (r->ndata <= VIRTIO_BLK_SEG_MAX) {
		int i = alloc_slot(b);
		struct blk_slot *s = &b->slot[i];
		*s = (struct blk_slot){.busy = true, .head = head, .status = r->status};
		bool write = r->type == VIRTIO_BLK_T_OUT;
		int err;
		if (r->type == VIRTIO_BLK_T_FLUSH) {
			err = b->io->flush(b->io, b, i);
		} else if (r->type == VIRTIO_BLK_T_DISCARD ||
			   r->type == VIRTIO_BLK_T_WRITE_ZEROES) {
			bool punch = r->type == VIRTIO_BLK_T_DISCARD || r->unmap;
			err = b->io->discard(b->io, b, i, r->offset, r->len, punch);
		} else {
			for (int k = 0; k < r->ndata; k++)
				s->iov[k] = (struct iovec){r->data[k].host, r->data[k].len};
			s->written = write ? 0 : (uint32_t)r->len;
			s->expect = r->len;
			err = b->io->rw(b->io, b, i, write, s->iov, r->ndata, r->offset);
		}
		if (!err) {
			b->inflight++;
			return false;
		}
		s->busy = false;
	}
	*r->status = status;
	virtq_push(q, head, written + 1);
	return true;
}

/* After the lock is dropped: raise the interrupt if asked. */
static void finish(struct virtio_blk *b, bool notify, bool broken)
{
	if (broken)
		virtio_mmio_needs_reset(&b->transport);
	else if (notify)
		virtio_mmio_signal_used(&b->transport);
}

void virtio_blk_process(struct virtio_blk *b)
{
	struct virtq *q = &b->transport.queue[0];
	bool pushed = false, broken = false, notify = false;
	pthread_mutex_lock(&b->transport.lock);
	while (b->active && !b->broken && b->inflight < VIRTIO_BLK_QUEUE_SIZE) {
		int r = virtq_pop(q, &b->chain);
		if (r == 0 && q->event_idx) {
			/* 2.7.10: ask to be told about the next one, then look
			 * once more so one made meanwhile is not missed. */
			virtq_set_avail_event(q);
			r = virtq_pop(q, &b->chain);
		}
		if (r == 0)
			break;
		if (r < 0) {
			b->broken = broken = true;
			break;
		}
		struct blk_req req;
		int err = blk_req_parse(&b->chain, b->capacity, b->allow, &req);
		if (err == BLK_REQ_ENOSTATUS) {
			virtq_push(q, b->chain.head, 0); /* nothing to answer with */
			pushed = true;
		} else if (err) {
			*req.status = blk_req_status(err);
			virtq_push(q, b->chain.head, 1);
			pushed = true;
		} else {
			pushed |= start(b, q, &req, b->chain.head);
		}
	}
	if (pushed && !broken)
		notify = virtq_should_notify(q);
	pthread_mutex_unlock(&b->transport.lock);
	finish(b, notify, broken);
}

void virtio_blk_complete(struct virtio_blk *b, int i, int result)
{
	bool notify = false, more;
	if (i < 0 || i >= VIRTIO_BLK_QUEUE_SIZE)
		return;
	pthread_mutex_lock(&b->transport.lock);
	struct blk_slot *s = &b->slot[i];
	if (!s->busy) {
		pthread_mutex_unlock(&b->transport.lock);
		return;
	}
	s->busy = false;
	b->inflight--;
	if (s->orphan) {
		/* The driver reset the device since: the reset is waiting for
		 * this, and nothing may be written into the rings. */
		s->orphan = false;
		if (--b->orphans == 0)
			pthread_cond_broadcast(&b->drained);
	} else if (b->active) {
		bool ok = result >= 0 && (uint64_t)result == s->expect;
		*s->status = ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		virtq_push(&b->transport.queue[0], s->head, (ok ? s->written : 0) + 1);
		notify = virtq_should_notify(&b->transport.queue[0]);
	}
	more = b->active;
	pthread_mutex_unlock(&b->transport.lock);
	finish(b, notify, false);
	if (more)
		virtio_blk_process(b); /* a full queue may have waited for a slot */
}

void virtio_blk_stop(struct virtio_blk *b)
{
	pthread_mutex_lock(&b->transport.lock);
	b->stopped = true;
	pthread_cond_broadcast(&b->drained);
	pthread_mutex_unlock(&b->transport.lock);
}
