/* fuse_req: parse FUSE requests out of virtio-fs chains, build replies. */
#include "fuse_req.h"

#include <limits.h>
#include <linux/limits.h>
#include <string.h>

enum str_kind {
	S_NONE,
	S_NAME,	 /* a directory entry: no '/', at most NAME_MAX */
	S_XNAME, /* an xattr name: at most XATTR_NAME_MAX, '/' allowed */
	S_LINK,	 /* a symlink target: at most PATH_MAX - 1 */
};

struct op_spec {
	uint16_t fixed; /* the opcode's struct, before any names */
	uint8_t s1, s2; /* the names after it */
};

/* What each opcode carries (the kernel's fs/fuse/dir.c and file.c: the
 * in_args it sends). Opcodes not listed are answered ENOSYS by the server
 * and need no parsing. INIT accepts a short struct: older kernels send 16
 * bytes. */
static const struct op_spec spec[] = {
	[FUSE_LOOKUP] = {0, S_NAME, S_NONE},
	[FUSE_FORGET] = {sizeof(struct fuse_forget_in), S_NONE, S_NONE},
	[FUSE_GETATTR] = {sizeof(struct fuse_getattr_in), S_NONE, S_NONE},
	[FUSE_SETATTR] = {sizeof(struct fuse_setattr_in), S_NONE, S_NONE},
	[FUSE_SYMLINK] = {0, S_NAME, S_LINK},
	[FUSE_MKNOD] = {sizeof(struct fuse_mknod_in), S_NAME, S_NONE},
	[FUSE_MKDIR] = {sizeof(struct fuse_mkdir_in), S_NAME, S_NONE},
	[FUSE_UNLINK] = {0, S_NAME, S_NONE},
	[FUSE_RMDIR] = {0, S_NAME, S_NONE},
	[FUSE_RENAME] = {sizeof(struct fuse_rename_in), S_NAME, S_NAME},
	[FUSE_LINK] = {sizeof(struct fuse_link_in), S_NAME, S_NONE},
	[FUSE_OPEN] = {sizeof(struct fuse_open_in), S_NONE, S_NONE},
	[FUSE_READ] = {sizeof(struct fuse_read_in), S_NONE, S_NONE},
	[FUSE_RELEASE] = {sizeof(struct fuse_release_in), S_NONE, S_NONE},
	[FUSE_FSYNC] = {sizeof(struct fuse_fsync_in), S_NONE, S_NONE},
	/* Without FUSE_SETXATTR_EXT the kernel sends the 8-byte form. */
	[FUSE_SETXATTR] = {FUSE_COMPAT_SETXATTR_IN_SIZE, S_XNAME, S_NONE},
	[FUSE_GETXATTR] = {sizeof(struct fuse_getxattr_in), S_XNAME, S_NONE},
	[FUSE_LISTXATTR] = {sizeof(struct fuse_getxattr_in), S_NONE, S_NONE},
	[FUSE_REMOVEXATTR] = {0, S_XNAME, S_NONE},
	[FUSE_FLUSH] = {sizeof(struct fuse_flush_in), S_NONE, S_NONE},
	[FUSE_INIT] = {16, S_NONE, S_NONE},
	[FUSE_OPENDIR] = {sizeof(struct fuse_open_in), S_NONE, S_NONE},
	[FUSE_READDIR] = {sizeof(struct fuse_read_in), S_NONE, S_NONE},
	[FUSE_RELEASEDIR] = {sizeof(struct fuse_release_in), S_NONE, S_NONE},
	[FUSE_FSYNCDIR] = {sizeof(struct fuse_fsync_in), S_NONE, S_NONE},
	[FUSE_ACCESS] = {sizeof(struct fuse_access_in), S_NONE, S_NONE},
	[FUSE_CREATE] = {sizeof(struct fuse_create_in), S_NAME, S_NONE},
	[FUSE_BATCH_FORGET] = {sizeof(struct fuse_batch_forget_in), S_NONE, S_NONE},
	[FUSE_FALLOCATE] = {sizeof(struct fuse_fallocate_in), S_NONE, S_NONE},
	[FUSE_READDIRPLUS] = {sizeof(struct fuse_read_in), S_NONE, S_NONE},
	[FUSE_RENAME2] = {sizeof(struct fuse_rename2_in), S_NAME, S_NAME},
	[FUSE_LSEEK] = {sizeof(struct fuse_lseek_in), S_NONE, S_NONE},
	[FUSE_COPY_FILE_RANGE] = {sizeof(struct fuse_copy_file_range_in), S_NONE, S_NONE},
	[FUSE_SYNCFS] = {sizeof(struct fuse_syncfs_in), S_NONE, S_NONE},
};

#define NSPEC (sizeof(spec) / sizeof(spec[0]))

/* Copies len readable bytes from offset off of the chain into dst. The
 * caller has checked off + len <= c->read_len. */
static void gather(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	uint8_t *d = dst;
	for (int i = 0; i < c->nread && len > 0; i++) {
		uint32_t blen = c->buf[i].len;
		if (off >= blen) {
			off -= blen;
			continue;
		}
		uint64_t n = blen - off < len ? blen - off : len;
		memcpy(d, c->buf[i].host + off, n);
		d += n;
		len -= n;
		off = 0;
	}
}

/* The readable bytes from off to the end, as iovecs in place. */
static int readable_iov(const struct virtq_chain *c, uint64_t off, struct iovec *iov, int max)
{
	int n = 0;
	for (int i = 0; i < c->nread; i++) {
		uint32_t blen = c->buf[i].len;
		if (off >= blen) {
			off -= blen;
			continue;
		}
		if (n == max)
			return -1;
		iov[n++] = (struct iovec){c->buf[i].host + off, blen - off};
		off = 0;
	}
	return n;
}

/* Takes one NUL-terminated string of kind k at *pos; advances *pos past
 * its NUL. Returns it, or NULL if it is not a valid one. */
static const char *take_str(struct fuse_req *r, uint32_t *pos, enum str_kind k)
{
	if (*pos >= r->arglen)
		return NULL;
	const char *s = (const char *)r->in + *pos;
	size_t max = r->arglen - *pos;
	size_t len = strnlen(s, max);
	if (len == max || len == 0)
		return NULL; /* unterminated or empty */
	size_t limit = k == S_LINK ? PATH_MAX - 1 : k == S_XNAME ? XATTR_NAME_MAX : NAME_MAX;
	if (len > limit || (k == S_NAME && memchr(s, '/', len)))
		return NULL;
	*pos += (uint32_t)len + 1;
	return s;
}

static int parse_args(struct fuse_req *r)
{
	uint32_t op = r->h.opcode;
	if (op >= NSPEC || (!spec[op].fixed && spec[op].s1 == S_NONE))
		return 0; /* no arguments we read (READLINK, STATFS, unknown) */
	const struct op_spec *s = &spec[op];
	if (r->arglen < s->fixed)
		return FUSE_REQ_EARGS;
	r->args = r->in;
	uint32_t pos = s->fixed;
	if (s->s1 != S_NONE && !(r->name = take_str(r, &pos, s->s1)))
		return FUSE_REQ_ENAME;
	if (s->s2 != S_NONE && !(r->name2 = take_str(r, &pos, s->s2)))
		return FUSE_REQ_ENAME;
	if (op == FUSE_SETXATTR) {
		const struct fuse_setxattr_in *x = r->args;
		if (x->size > r->arglen - pos)
			return FUSE_REQ_EARGS;
		r->value = r->in + pos;
		r->vsize = x->size;
	} else if (op == FUSE_BATCH_FORGET) {
		const struct fuse_batch_forget_in *b = r->args;
		if (b->count > (r->arglen - pos) / sizeof(struct fuse_forget_one))
			return FUSE_REQ_EARGS;
	}
	return 0;
}

int fuse_req_parse(const struct virtq_chain *c, struct fuse_req *r)
{
	r->arglen = 0;
	r->args = NULL;
	r->name = r->name2 = NULL;
	r->value = NULL;
	r->vsize = 0;
	r->nwdata = 0;
	r->wlen = 0;
	r->out = &c->buf[c->nread];
	r->nout = c->n - c->nread;
	r->outlen = c->write_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->write_len;
	r->no_reply = false;
	memset(&r->h, 0, sizeof(r->h));
	if (c->read_len < sizeof(r->h))
		return FUSE_REQ_ESHORT;
	gather(c, 0, &r->h, sizeof(r->h));
	r->no_reply = r->h.opcode == FUSE_FORGET || r->h.opcode == FUSE_BATCH_FORGET;
	int err = 0;
	if (r->h.len != c->read_len) {
		err = FUSE_REQ_ELEN;
	} else if (r->h.opcode == FUSE_WRITE) {
		/* Only the header and fuse_write_in are copied; the payload is
		 * used in place. */
		uint64_t hdr = sizeof(r->h) + sizeof(struct fuse_write_in);
		if (c->read_len < hdr) {
			err = FUSE_REQ_EARGS;
		} else {
			r->arglen = sizeof(struct fuse_write_in);
			gather(c, sizeof(r->h), r->in, r->arglen);
			r->args = r->in;
			const struct fuse_write_in *w = r->args;
			int n = readable_iov(c, hdr, r->wdata, FUSE_REQ_MAX_IOV);
			if (n < 0)
				err = FUSE_REQ_EIOV;
			else if (c->read_len - hdr != w->size)
				err = FUSE_REQ_EARGS;
			r->nwdata = err ? 0 : n;
			r->wlen = err ? 0 : w->size;
		}
	} else if (c->read_len - sizeof(r->h) > FUSE_REQ_IN_MAX) {
		err = FUSE_REQ_EBIG;
	} else {
		r->arglen = (uint32_t)(c->read_len - sizeof(r->h));
		gather(c, sizeof(r->h), r->in, r->arglen);
		err = parse_args(r);
	}
	if (!err && !r->no_reply && r->outlen < sizeof(struct fuse_out_header))
		err = FUSE_REQ_ENOOUT;
	return err;
}

uint32_t fuse_req_out_write(const struct fuse_req *r, uint32_t off, const void *data, uint32_t len)
{
	const uint8_t *s = data;
	uint32_t done = 0;
	for (int i = 0; i < r->nout && done < len; i++) {
		uint32_t blen = r->out[i].len;
		if (off >= blen) {
			off -= blen;
			continue;
		}
		uint32_t n = blen - off < len - done ? blen - off : len - done;
		memcpy(r->out[i].host + off, s + done, n);
		done += n;
		off = 0;
	}
	return done;
}

uint32_t fuse_req_reply_len(const struct fuse_req *r, uint32_t len)
{
	struct fuse_out_header o = {
		.len = (uint32_t)sizeof(o) + len, .error = 0, .unique = r->h.unique};
	if (r->outlen < sizeof(o) || len > r->outlen - sizeof(o))
		return 0;
	fuse_req_out_write(r, 0, &o, sizeof(o));
	return o.len;
}

uint32_t fuse_req_reply(const struct fuse_req *r, int error, const void *payload, uint32_t len)
{
	if (r->outlen < sizeof(struct fuse_out_header))
		return 0;
	if (error)
		len = 0;
	uint32_t room = r->outlen - (uint32_t)sizeof(struct fuse_out_header);
	if (len > room)
		len = room;
	struct fuse_out_header o = {
		.len = (uint32_t)sizeof(o) + len, .error = error, .unique = r->h.unique};
	fuse_req_out_write(r, 0, &o, sizeof(o));
	if (len)
		fuse_req_out_write(r, sizeof(o), payload, len);
	return o.len;
}

int fuse_req_out_iov(const struct fuse_req *r, uint32_t max, struct iovec *iov, int maxiov,
		     uint32_t *total)
{
	uint32_t off = sizeof(struct fuse_out_header), got = 0;
	int n = 0;
	for (int i = 0; i < r->nout && got < max && n < maxiov; i++) {
		uint32_t blen = r->out[i].len;
		if (off >= blen) {
			off -= blen;
			continue;
		}
		uint32_t len = blen - off < max - got ? blen - off : max - got;
		iov[n++] = (struct iovec){r->out[i].host + off, len};
		got += len;
		off = 0;
	}
	*total = got;
	return n;
}

const char *fuse_req_strerror(int err)
{
	static const char *const msg[FUSE_REQ_ERROR_COUNT] = {
		[FUSE_REQ_OK] = "ok",
		[FUSE_REQ_ESHORT] = "shorter than a fuse_in_header",
		[FUSE_REQ_ELEN] = "header length disagrees with the chain",
		[FUSE_REQ_EBIG] = "arguments too large",
		[FUSE_REQ_EARGS] = "arguments too short for the opcode",
		[FUSE_REQ_ENAME] = "bad name",
		[FUSE_REQ_EIOV] = "too many buffers",
		[FUSE_REQ_ENOOUT] = "no room for a reply",
	};
	return err >= 0 && err < FUSE_REQ_ERROR_COUNT ? msg[err] : "unknown error";
}
