/*
 * blk_req: parses a virtio-blk request (virtio 1.2, section 5.2.6) from a
 * popped descriptor chain: the 16-byte header in the first buffer, the
 * data buffers, and the status byte in the last one. Pure: it decides what
 * a request asks and whether it may, not how it is carried out.
 *
 * Layout accepted, as Linux and Firecracker's guests lay it out: the first
 * buffer device-readable and at least 16 bytes (the header: type, ioprio,
 * sector); the last buffer device-writable and at least 1 byte (its first
 * byte is the status); the buffers between are the data.
 */
#ifndef VMM_DEVICES_BLK_REQ_H
#define VMM_DEVICES_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define BLK_SECTOR   512
#define BLK_ID_BYTES 20 /* VIRTIO_BLK_ID_BYTES */

enum blk_req_error {
	BLK_REQ_OK = 0,
	BLK_REQ_ENOSTATUS, /* no writable last buffer for the status: cannot answer */
	BLK_REQ_ENOHDR,	   /* first buffer not a readable 16-byte header */
	BLK_REQ_EUNSUPP,   /* a request type we do not do (answer UNSUPP) */
	BLK_REQ_EDIR,	   /* data buffers in the wrong direction for the type */
	BLK_REQ_EALIGN,	   /* data length not a whole number of sectors */
	BLK_REQ_ERANGE,	   /* sectors past the end of the disk */
	BLK_REQ_ERO,	   /* a write to a read-only disk */
	BLK_REQ_ESEGMENT,  /* DISCARD/WRITE_ZEROES data is not one 16-byte segment */
	BLK_REQ_ERROR_COUNT,
};

/* What the disk allows, for blk_req_parse. */
enum {
	BLK_REQ_RO = 1,		  /* read-only: OUT, DISCARD, WRITE_ZEROES refused */
	BLK_REQ_DISCARD = 2,	  /* DISCARD offered (VIRTIO_BLK_F_DISCARD) */
	BLK_REQ_WRITE_ZEROES = 4, /* WRITE_ZEROES offered */
};

struct blk_req {
	uint32_t type;	 /* VIRTIO_BLK_T_* */
	uint64_t sector; /* from the header */
	uint64_t offset; /* sector * 512: the byte offset in the image */
	const struct virtq_buf *data;
	int ndata;	 /* data buffers, from c->buf[1] */
	uint64_t len;	 /* their total length; for DISCARD and WRITE_ZEROES,
			  * the length of the range the segment names */
	bool unmap;	 /* WRITE_ZEROES may deallocate */
	uint8_t *status; /* where the status goes; NULL with BLK_REQ_ENOSTATUS */
};

/*
 * Parses chain c for a disk of capacity sectors that allows what flags
 * (BLK_REQ_*) say. Returns BLK_REQ_OK with *r filled, or an error; except
 * for BLK_REQ_ENOSTATUS, r->status is then valid and the request is
 * answered with blk_req_status(err). DISCARD and WRITE_ZEROES take one
 * segment (we offer max_*_seg = 1) and put its range in sector/offset/len.
 */
int blk_req_parse(const struct virtq_chain *c, uint64_t capacity, unsigned flags,
		  struct blk_req *r);

/* The VIRTIO_BLK_S_* status that answers a parse error. */
uint8_t blk_req_status(int err);

const char *blk_req_strerror(int err);

#endif
