/* virtq: the device side of a split virtqueue over guest memory. */
#include "virtq.h"

#include <linux/virtio_ring.h>
#include <string.h>

/* Ring layout (2.7.5, 2.7.6, 2.7.8): sizes in bytes for a queue of n. */
#define DESC_SIZE      16
#define AVAIL_BYTES(n) (4 + 2 * (uint64_t)(n) + 2) /* flags, idx, ring, used_event */
#define USED_BYTES(n)  (4 + 8 * (uint64_t)(n) + 2) /* flags, idx, ring, avail_event */
#define RING_HDR       4			   /* flags and idx before each ring */
#define USED_ELEM      8

/* A descriptor as read, once, from guest memory. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Guest-shared fields are read and written with relaxed atomics: exactly
 * one access each, never torn or repeated by the compiler. x86 is
 * little-endian like the virtio 1.x rings. */
static uint16_t rd16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static void wr16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static void wr32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

int virtq_start(struct virtq *q)
{
	if (q->size == 0 || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)))
		return -VIRTQ_ESIZE;
	/* Alignment: descriptor table 16, available ring 2, used ring 4. */
	if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
		return -VIRTQ_ERING;
	q->desc = gm_ptr(q->gm, q->desc_gpa, (uint64_t)DESC_SIZE * q->size);
	q->avail = gm_ptr(q->gm, q->avail_gpa, AVAIL_BYTES(q->size));
	q->used = gm_ptr(q->gm, q->used_gpa, USED_BYTES(q->size));
	if (!q->desc || !q->avail || !q->used) {
		q->desc = q->avail = q->used = NULL;
		return -VIRTQ_ERING;
	}
	q->last_avail = q->used_idx = q->signalled = 0;
	q->signalled_valid = false;
	return VIRTQ_OK;
}

void virtq_reset(struct virtq *q)
{
	const struct guestmem *gm = q->gm;
	memset(q, 0, sizeof(*q));
	q->gm = gm;
}

static void read_desc(const uint8_t *table, uint16_t i, struct desc *d)
{
	/* One copy: later checks see the same values whatever the guest
	 * writes meanwhile. */
	memcpy(d, table + (size_t)i * DESC_SIZE, sizeof(*d));
}

/* Adds one buffer to the chain, keeping readable before writable. */
static int add_buf(const struct virtq *q, struct virtq_chain *c, const struct desc *d)
{
	if (c->n == VIRTQ_MAX_CHAIN)
		return -VIRTQ_ELOOP;
	bool writable = d->flags & VRING_DESC_F_WRITE;
	/* 2.7.4.2: the driver places device-writable buffers after all the
	 * device-readable ones. */
	if (!writable && c->n > c->nread)
		return -VIRTQ_EORDER;
	uint8_t *host = NULL;
	if (d->len) {
		host = gm_ptr(q->gm, d->addr, d->len);
		if (!host)
			return -VIRTQ_EADDR;
	}
	c->buf[c->n++] = (struct virtq_buf){host, d->len, writable};
	if (writable) {
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

/* Walks the chain from head; see the header for the bounds. */
static int walk(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const uint8_t *table = q->desc;
	uint32_t tsize = q->size;
	uint32_t budget = q->size; /* descriptors left to visit in this table */
	bool in_indirect = false;
	uint16_t i = head;
	c->head = head;
	c->n = c->nread = 0;
	c->read_len = c->write_len = 0;
	for (;;) {
		if (budget-- == 0)
			return -VIRTQ_ELOOP;
		struct desc d;
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: only when negotiated, never with NEXT, never
			 * inside an indirect table, a whole number of entries. */
			if (!q->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    d.len == 0 || d.len % DESC_SIZE || d.len / DESC_SIZE > VIRTQ_MAX_CHAIN)
				return -VIRTQ_EINDIRECT;
			table = gm_ptr(q->gm, d.addr, d.len);
			if (!table)
				return -VIRTQ_EINDIRECT;
			tsize = budget = d.len / DESC_SIZE;
			in_indirect = true;
			i = 0;
			continue;
		}
		int err = add_buf(q, c, &d);
		if (err)
			return err;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= tsize)
			return -VIRTQ_ENEXT;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	/* 2.7.13.3 / 2.7.13.4: the driver writes the ring entry, then (after
	 * a barrier) idx. Acquire here pairs with that: the entry and the
	 * descriptors it names are read after idx. */
	uint16_t avail_idx = __atomic_load_n((const uint16_t *)(q->avail + 2), __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return -VIRTQ_EAVAIL;
	uint16_t head = rd16(q->avail + RING_HDR + 2 * (q->last_avail % q->size));
	q->last_avail++;
	if (head >= q->size)
		return -VIRTQ_EHEAD;
	int err = walk(q, head, c);
	return err ? err : 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *e = q->used + RING_HDR + USED_ELEM * (q->used_idx % q->size);
	wr32(e, head);
	wr32(e + 4, written);
	q->used_idx++;
	/* 2.7.8.2: the element must be visible before the new idx. */
	__atomic_store_n((uint16_t *)(q->used + 2), q->used_idx, __ATOMIC_RELEASE);
}

void virtq_push_n(struct virtq *q, const uint16_t *head, const uint32_t *written, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t *e =
			q->used + RING_HDR + USED_ELEM * ((uint16_t)(q->used_idx + i) % q->size);
		wr32(e, head[i]);
		wr32(e + 4, written[i]);
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	__atomic_store_n((uint16_t *)(q->used + 2), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
	if (q->signalled_valid && q->signalled == q->used_idx)
		return false; /* nothing new since the last interrupt */
	/* 2.7.10 / 2.7.7.2: our used idx store must be visible before we
	 * read whether the driver wants an interrupt, or a driver that just
	 * re-enabled them and saw the old idx would wait for ever. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled;
	bool valid = q->signalled_valid;
	q->signalled = q->used_idx;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(rd16(q->avail) & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = rd16(q->avail + RING_HDR + 2 * q->size);
	/* Interrupt if used_event lies in (old, new]: vring_need_event. */
	return !valid || (uint16_t)(q->used_idx - used_event - 1) < (uint16_t)(q->used_idx - old);
}

void virtq_set_avail_event(struct virtq *q)
{
	wr16(q->used + RING_HDR + USED_ELEM * q->size, q->last_avail);
	/* 2.7.10: the driver must see avail_event before we look at avail
	 * idx again, which the caller does next (virtq_pop). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

const char *virtq_strerror(int err)
{
	static const char *const msg[VIRTQ_ERROR_COUNT] = {
		[VIRTQ_OK] = "ok",
		[VIRTQ_ESIZE] = "queue size is 0, too large or not a power of 2",
		[VIRTQ_ERING] = "a ring is outside guest memory or misaligned",
		[VIRTQ_EAVAIL] = "available index ran ahead by more than the queue size",
		[VIRTQ_EHEAD] = "chain head index out of range",
		[VIRTQ_ENEXT] = "descriptor next index out of range",
		[VIRTQ_ELOOP] = "descriptor chain loops or is too long",
		[VIRTQ_EADDR] = "buffer outside guest memory",
		[VIRTQ_EINDIRECT] = "bad indirect descriptor table",
		[VIRTQ_EORDER] = "device-readable buffer after a device-writable one",
	};
	if (err < 0)
		err = -err;
	return err < VIRTQ_ERROR_COUNT ? msg[err] : "unknown virtqueue error";
}
