/*
 * fuse_req: FUSE requests as virtio-fs carries them (virtio 1.2, section
 * 5.11.6): one descriptor chain per request, the device-readable part
 * holding struct fuse_in_header and the opcode's arguments, the
 * device-writable part receiving struct fuse_out_header and the reply.
 * Pure code over a popped chain (no fds, no host calls), so it is
 * unit-tested in plain memory and fuzzed.
 *
 * The guest is hostile: fuse_req_parse() checks the header's length
 * against the chain, each opcode's fixed argument size, and that every
 * name is NUL-terminated inside the arguments, non-empty, without '/',
 * and at most NAME_MAX bytes (a symlink target at most PATH_MAX), before
 * anyone uses them. The arguments are copied once into req->in, so a
 * guest rewriting its buffers meanwhile cannot change a checked value;
 * WRITE's payload is the exception: it is described in place as iovecs
 * (req->wdata), so a write goes from guest memory to the file without a
 * bounce buffer, and READ's reply space likewise (fuse_req_out_iov).
 */
#ifndef VMM_DEVICES_FUSE_REQ_H
#define VMM_DEVICES_FUSE_REQ_H

#include <linux/fuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtq.h"

/* The largest argument block we copy: a SETXATTR value (XATTR_SIZE_MAX)
 * plus its header and name. WRITE's payload is not copied. */
#define FUSE_REQ_IN_MAX	 (65536 + 4096)
#define FUSE_REQ_MAX_IOV 256 /* WRITE payload / READ reply buffers */

enum fuse_req_error {
	FUSE_REQ_OK = 0,
	FUSE_REQ_ESHORT = 1, /* fewer readable bytes than a header, or than header.len */
	FUSE_REQ_ELEN,	     /* header.len disagrees with the readable bytes */
	FUSE_REQ_EBIG,	     /* arguments larger than FUSE_REQ_IN_MAX */
	FUSE_REQ_EARGS,	     /* the opcode's fixed arguments do not fit */
	FUSE_REQ_ENAME,	     /* a name missing, unterminated, empty, too long or with '/' */
	FUSE_REQ_EIOV,	     /* WRITE payload or reply in more than FUSE_REQ_MAX_IOV buffers */
	FUSE_REQ_ENOOUT,     /* no room for even a fuse_out_header: cannot be answered */
	FUSE_REQ_ERROR_COUNT,
};

struct fuse_req {
	struct fuse_in_header h;
	/* The arguments after the header, copied: args of arglen bytes. */
	uint8_t in[FUSE_REQ_IN_MAX];
	uint32_t arglen;
	/* Parsed per opcode: the fixed struct is at in (args), names follow. */
	const void *args;
	const char *name, *name2; /* NULL when the opcode has none */
	const uint8_t *value;	  /* SETXATTR's value, vsize bytes */
	uint32_t vsize;
	/* WRITE's payload in guest memory, wlen bytes (== fuse_write_in.size). */
	struct iovec wdata[FUSE_REQ_MAX_IOV];
	int nwdata;
	uint32_t wlen;
	/* The device-writable buffers, outlen bytes in all. */
	const struct virtq_buf *out;
	int nout;
	uint32_t outlen;
	bool no_reply; /* FORGET and BATCH_FORGET are never answered */
};

/* Parses chain c into *r. Returns 0 or a fuse_req_error. On any error
 * but ESHORT/ELEN/EBIG, r->h and the reply buffers are set, so the
 * request can still be answered (with EINVAL) unless ENOOUT. */
int fuse_req_parse(const struct virtq_chain *c, struct fuse_req *r);

/* Writes len bytes of data at offset off (from the start of the writable
 * part) into the reply buffers. Returns the bytes written (less when the
 * buffers end). */
uint32_t fuse_req_out_write(const struct fuse_req *r, uint32_t off, const void *data, uint32_t len);

/* Answers r: a fuse_out_header with error (0 or -errno) followed, when
 * error is 0, by len bytes of payload (more than fit is cut: the caller
 * checks the space first where that matters). Returns the bytes written,
 * for virtq_push. */
uint32_t fuse_req_reply(const struct fuse_req *r, int error, const void *payload, uint32_t len);

/* Answers r with a header for len payload bytes the caller has already
 * put after it (READ, READDIR). Returns the bytes written. */
uint32_t fuse_req_reply_len(const struct fuse_req *r, uint32_t len);

/* The reply space after the out header, at most max bytes, as iovecs in
 * guest memory (for preadv straight into the guest). Returns the iovec
 * count (0 when there is no space); *total gets the bytes covered. */
int fuse_req_out_iov(const struct fuse_req *r, uint32_t max, struct iovec *iov, int maxiov,
		     uint32_t *total);

const char *fuse_req_strerror(int err);

#endif
