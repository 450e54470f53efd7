/* fs_dir: directory listings and extended attributes for the virtio-fs
 * server. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_ops.h"
#include "fs_table.h"

/* One directory entry of a READDIR(PLUS) reply into the reply at off;
 * its guest reference is taken only once it is known to fit. Returns its
 * size, or 0 when it does not fit in room. */
static uint32_t put_dirent(struct call *c, bool plus, uint32_t off, uint32_t room,
			   const struct dirent64 *d)
{
	size_t namelen = strlen(d->d_name);
	uint32_t len = plus ? FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + namelen)
			    : FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
	if (len > room)
		return 0;
	uint8_t ent[FUSE_NAME_OFFSET_DIRENTPLUS + NAME_MAX + 8] = {0};
	struct fuse_dirent de = {.ino = d->d_ino,
				 .off = (uint64_t)d->d_off,
				 .namelen = (uint32_t)namelen,
				 .type = d->d_type};
	if (plus) {
		struct fuse_entry_out e = {0};
		/* `.` and `..` go without a node id: the kernel skips them. A
		 * failed lookup (gone meanwhile, table full) likewise. */
		if (!dot_or_dotdot(d->d_name) && do_lookup(c->fs, c->ino, d->d_name, &e) < 0)
			memset(&e, 0, sizeof(e));
		memcpy(ent, &e, sizeof(e));
		memcpy(ent + sizeof(e), &de, sizeof(de));
		memcpy(ent + FUSE_NAME_OFFSET_DIRENTPLUS, d->d_name, namelen);
	} else {
		memcpy(ent, &de, sizeof(de));
		memcpy(ent + FUSE_NAME_OFFSET, d->d_name, namelen);
	}
	fuse_req_out_write(c->r, (uint32_t)sizeof(struct fuse_out_header) + off, ent, len);
	return len;
}

uint32_t op_readdir(struct call *c)
{
	const struct fuse_read_in *in = c->r->args;
	bool plus = c->r->h.opcode == FUSE_READDIRPLUS;
	int err;
	struct fs_handle *h = fs_handle_get(c->fs, in->fh, &err);
	if (!h)
		return reply(c, err, NULL, 0);
	if (!h->dir) {
		fs_handle_put(c->fs, h);
		return reply(c, -ENOTDIR, NULL, 0);
	}
	/* Its entries are looked up under the request's inode: that must be
	 * the directory the handle reads, or the ids answered name other
	 * files (or none). */
	if (plus && (h->dev != c->ino->dev || h->ino != c->ino->ino)) {
		fs_handle_put(c->fs, h);
		return reply(c, -EBADF, NULL, 0);
	}
	err = 0;
	uint32_t room = c->r->outlen - (uint32_t)sizeof(struct fuse_out_header);
	if (in->size < room)
		room = in->size;
	uint32_t used = 0;
	pthread_mutex_lock(&h->lock);
	/* The offset is the d_off cookie of the last entry the guest got. */
	if ((uint64_t)h->pos != in->offset && lseek(h->fd, (off_t)in->offset, SEEK_SET) < 0)
		err = -errno;
	off_t last = (off_t)in->offset;
	bool full = false;
	/* A little more than fits, so the entry that does not is seen (size_t:
	 * a room near 4 GiB must not wrap to a tiny read). */
	size_t want = (size_t)room + 1024 < c->buflen ? (size_t)room + 1024 : c->buflen;
	while (!err && !full) {
		long n = syscall(SYS_getdents64, h->fd, c->buf, want);
		if (n < 0 && used == 0)
			err = -errno;
		if (n <= 0)
			break;
		for (long p = 0; p < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(c->buf + p);
			uint32_t len = put_dirent(c, plus, used, room - used, d);
			if (!len) {
				full = true;
				break;
			}
			used += len;
			last = d->d_off;
			p += d->d_reclen;
		}
	}
	/* getdents64 may have read past what fitted: go back to the entry
	 * after the last one sent. */
	if (!err) {
		lseek(h->fd, last, SEEK_SET);
		h->pos = last;
	} else {
		h->pos = -1;
	}
	pthread_mutex_unlock(&h->lock);
	fs_handle_put(c->fs, h);
	if (err)
		return reply(c, err, NULL, 0);
	return fuse_req_reply_len(c->r, used);
}

/* Extended attributes go by the /proc/self/fd path, which reaches the
 * inode without opening it (a device node stays closed). Not on
 * symlinks: their magic link could be followed on to the target. */
uint32_t op_getxattr(struct call *c)
{
	const struct fuse_getxattr_in *in = c->r->args;
	bool list = c->r->h.opcode == FUSE_LISTXATTR;
	char p[32];
	proc_path(p, sizeof(p), c->ino->fd);
	size_t size = in->size < c->buflen ? in->size : c->buflen;
	ssize_t n;
	if (c->ino->symlink)
		n = list ? 0 : (errno = ENODATA, -1);
	else if (list)
		n = listxattr(p, size ? (char *)c->buf : NULL, size);
	else
		n = getxattr(p, c->r->name, size ? c->buf : NULL, size);
	if (n < 0)
		return reply(c, -errno, NULL, 0);
	if (in->size == 0) {
		struct fuse_getxattr_out out = {.size = (uint32_t)n};
		return reply(c, 0, &out, sizeof(out));
	}
	return reply(c, 0, c->buf, (uint32_t)n);
}

uint32_t op_setxattr(struct call *c)
{
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (c->ino->symlink)
		return reply(c, -EPERM, NULL, 0);
	char p[32];
	proc_path(p, sizeof(p), c->ino->fd);
	int res;
	if (c->r->h.opcode == FUSE_SETXATTR) {
		const struct fuse_setxattr_in *in = c->r->args;
		res = setxattr(p, c->r->name, c->r->value, c->r->vsize, (int)in->flags);
	} else {
		res = removexattr(p, c->r->name);
	}
	return reply(c, res < 0 ? -errno : 0, NULL, 0);
}
