/* virtio_fs: the virtio-fs device, moving chains to a FUSE backend. */
#include "virtio_fs.h"

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <string.h>

#define FEATURES ((1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX))

static void config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_fs *f = dev;
	struct virtio_fs_config c = {.num_request_queues = VIRTIO_FS_NQUEUES - 1};
	memcpy(c.tag, f->tag, sizeof(c.tag));
	if (offset < sizeof(c))
		memcpy(data, (uint8_t *)&c + offset,
		       len < sizeof(c) - offset ? len : sizeof(c) - offset);
}

static int activate(void *dev, uint64_t features)
{
	struct virtio_fs *f = dev;
	(void)features;
	f->active = true;
	f->broken = false;
	return 0;
}

/* vCPU thread, transport lock held: stop taking requests and wait for the
 * backend to give back what it holds (see the header). */
static void reset(void *dev)
{
	struct virtio_fs *f = dev;
	f->active = false;
	for (int i = 0; i < VIRTIO_FS_SLOTS; i++) {
		struct fs_slot *s = &f->slot[i];
		if (s->busy && !s->orphan) {
			s->orphan = true;
			f->orphans++;
		}
	}
	while (f->orphans > 0 && !f->stopped)
		pthread_cond_wait(&f->drained, &f->transport.lock);
}

static void irq(void *dev)
{
	struct virtio_fs *f = dev;
	f->irq(f->opaque);
}

static const struct virtio_dev_ops fs_ops = {
	.config_read = config_read,
	.activate = activate,
	.reset = reset,
	.irq = irq,
};

void virtio_fs_init(struct virtio_fs *f, const char *tag, const struct guestmem *gm,
		    struct fs_backend *be, void (*irq_fn)(void *), void *opaque)
{
	memset(f, 0, sizeof(*f));
	pthread_cond_init(&f->drained, NULL);
	virtio_mmio_init(&f->transport, VIRTIO_ID_FS, FEATURES, VIRTIO_FS_NQUEUES,
			 VIRTIO_FS_QUEUE_SIZE, gm, &fs_ops, f);
	memcpy(f->tag, tag, strnlen(tag, sizeof(f->tag)));
	f->be = be;
	f->irq = irq_fn;
	f->opaque = opaque;
}

static int alloc_slot(struct virtio_fs *f)
{
	for (int i = 0; i < VIRTIO_FS_SLOTS; i++)
		if (!f->slot[i].busy)
			return i;
	return -1;
}

void virtio_fs_process(struct virtio_fs *f, int qi)
{
	if (qi < 0 || qi >= VIRTIO_FS_NQUEUES)
		return;
	struct virtq *q = &f->transport.queue[qi];
	bool broken = false;
	pthread_mutex_lock(&f->transport.lock);
	/* Each queue holds at most VIRTIO_FS_QUEUE_SIZE chains, so a slot is
	 * free whenever a chain can be popped; the check is for safety. */
	while (f->active && !f->broken && f->transport.queue_ready[qi]) {
		int i = alloc_slot(f);
		if (i < 0)
			break;
		struct fs_slot *s = &f->slot[i];
		int r = virtq_pop(q, &s->chain);
		if (r == 0 && q->event_idx) {
			/* 2.7.10: ask for the next kick, then look once more. */
			virtq_set_avail_event(q);
			r = virtq_pop(q, &s->chain);
		}
		if (r == 0)
			break;
		if (r < 0) {
			f->broken = broken = true;
			break;
		}
		s->busy = true;
		s->orphan = false;
		s->queue = qi;
		f->inflight++;
		f->be->submit(f->be, f, i);
	}
	pthread_mutex_unlock(&f->transport.lock);
	if (broken)
		virtio_mmio_needs_reset(&f->transport);
}

void virtio_fs_complete(struct virtio_fs *f, int i, uint32_t written)
{
	bool notify = false;
	if (i < 0 || i >= VIRTIO_FS_SLOTS)
		return;
	pthread_mutex_lock(&f->transport.lock);
	struct fs_slot *s = &f->slot[i];
	if (!s->busy) {
		pthread_mutex_unlock(&f->transport.lock);
		return;
	}
	s->busy = false;
	f->inflight--;
	if (s->orphan) {
		s->orphan = false;
		if (--f->orphans == 0)
			pthread_cond_broadcast(&f->drained);
	} else if (f->active) {
		struct virtq *q = &f->transport.queue[s->queue];
		virtq_push(q, s->chain.head, written);
		notify = virtq_should_notify(q);
	}
	pthread_mutex_unlock(&f->transport.lock);
	if (notify)
		virtio_mmio_signal_used(&f->transport);
}

void virtio_fs_stop(struct virtio_fs *f)
{
	pthread_mutex_lock(&f->transport.lock);
	f->stopped = true;
	pthread_cond_broadcast(&f->drained);
	pthread_mutex_unlock(&f->transport.lock);
}
