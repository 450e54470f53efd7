/*
 * virtq: the device side of a split virtqueue (virtio 1.2, section 2.7),
 * as pure code over guest memory: no KVM, no fds, so it is unit-tested on
 * rings laid out in plain memory and fuzzed.
 *
 * The driver (the guest) is hostile. Every address it gives is translated
 * through gm_ptr(); every descriptor is read once into a local copy, so a
 * guest changing the ring under us cannot make a checked value unchecked;
 * a chain is bounded by the queue size (and an indirect table by its own
 * length and VIRTQ_MAX_CHAIN); a malformed chain is an error for the
 * caller to answer with DEVICE_NEEDS_RESET, never a crash.
 *
 * Threading: one thread (the event loop) owns a queue. The guest's vCPUs
 * run concurrently; the memory-ordering points are commented with the
 * spec section that asks for them.
 */
#ifndef VMM_DEVICES_VIRTQ_H
#define VMM_DEVICES_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"

#define VIRTQ_MAX_SIZE	32768 /* largest queue size (2.7: Queue Size) */
#define VIRTQ_MAX_CHAIN 512   /* most buffers in one chain, indirect ones included */

enum virtq_error {
	VIRTQ_OK = 0,
	VIRTQ_ESIZE = 1, /* queue size 0, above the maximum, or not a power of 2 */
	VIRTQ_ERING,	 /* a ring outside guest memory or misaligned (2.7) */
	VIRTQ_EAVAIL,	 /* avail idx ran more than a queue size ahead */
	VIRTQ_EHEAD,	 /* a head index not below the queue size */
	VIRTQ_ENEXT,	 /* a next index not below the queue size */
	VIRTQ_ELOOP,	 /* a chain longer than the queue (a loop) or VIRTQ_MAX_CHAIN */
	VIRTQ_EADDR,	 /* a buffer outside guest memory */
	VIRTQ_EINDIRECT, /* bad indirect table: size, nesting, NEXT with INDIRECT, off */
	VIRTQ_EORDER,	 /* a device-readable buffer after a device-writable one */
	VIRTQ_ERROR_COUNT,
};

/* One buffer of a chain, translated. */
struct virtq_buf {
	uint8_t *host; /* gm_ptr of the buffer; NULL only when len is 0 */
	uint32_t len;
	bool writable; /* device-writable (VRING_DESC_F_WRITE) */
};

/* A popped descriptor chain: first the device-readable buffers, then the
 * device-writable ones. */
struct virtq_chain {
	uint16_t head; /* what virtq_push() gives back */
	int n, nread;  /* buffers in all; how many of them are readable */
	uint64_t read_len, write_len;
	struct virtq_buf buf[VIRTQ_MAX_CHAIN];
};

struct virtq {
	/* Set by the transport from the driver's registers. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	const struct guestmem *gm;

	/* Set by virtq_start(): host views of the rings. */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail; /* next avail ring slot to take */
	uint16_t used_idx;   /* next used ring slot to fill */
	uint16_t signalled;  /* used_idx at the last notification (EVENT_IDX) */
	bool signalled_valid;
};

/* Validates size and ring addresses (sizes and alignment per 2.7) and
 * translates the rings. Call when the driver sets QueueReady. Returns 0 or
 * -virtq_error. */
int virtq_start(struct virtq *q);

/* Back to the state before virtq_start (device reset). Keeps gm. */
void virtq_reset(struct virtq *q);

/* Pops the next available chain into *c. Returns 1 with a chain, 0 when
 * the driver has made none available, or -virtq_error for a malformed
 * ring or chain (then the queue is no longer usable). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Puts chain head on the used ring with written bytes (2.7.8). */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* Puts n chains on the used ring and publishes them with one idx store, so
 * the driver sees all of them or none (a merged receive packet, 5.1.6.4). */
void virtq_push_n(struct virtq *q, const uint16_t *head, const uint32_t *written, int n);

/* Whether the driver wants an interrupt for what was pushed since the
 * last call that returned true (2.7.7.2 / 2.7.10: VIRTQ_AVAIL_F_NO_INTERRUPT,
 * or used_event with EVENT_IDX). */
bool virtq_should_notify(struct virtq *q);

/* With EVENT_IDX, asks the driver to notify us when it makes more than
 * what we have consumed available (writes avail_event, 2.7.10). */
void virtq_set_avail_event(struct virtq *q);

const char *virtq_strerror(int err);

#endif
