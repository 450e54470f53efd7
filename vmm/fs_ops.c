/* fs_ops: the FUSE opcodes of the virtio-fs server, passed through to the
 * host directory under the confinement rules of fs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs.h"
#include "fs_ops.h"
#include "fs_table.h"

#define MAX_PAGES 128 /* largest READ/WRITE: 512 KiB, within FUSE_REQ_MAX_IOV */

static uint64_t timeout_of(const struct fs *fs)
{
	return fs->cache == FS_CACHE_NONE ? 0 : fs->cache == FS_CACHE_AUTO ? 1 : 86400;
}

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino,
		.size = st->st_size,
		.blocks = st->st_blocks,
		.atime = st->st_atim.tv_sec,
		.mtime = st->st_mtim.tv_sec,
		.ctime = st->st_ctim.tv_sec,
		.atimensec = st->st_atim.tv_nsec,
		.mtimensec = st->st_mtim.tv_nsec,
		.ctimensec = st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.nlink = st->st_nlink,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.rdev = st->st_rdev,
		.blksize = st->st_blksize,
	};
}

int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* "/proc/self/fd/N" for an inode: resolves to exactly that inode. */
static void proc_name(char *p, size_t len, int fd)
{
	snprintf(p, len, "%d", fd);
}

void proc_path(char *p, size_t len, int fd)
{
	snprintf(p, len, "/proc/self/fd/%d", fd);
}

/* One component beneath dirfd, never following a symlink on the host. */
static int open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

bool dot_or_dotdot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* Looks name up beneath parent and takes a guest reference on it. */
int do_lookup(struct fs *fs, struct fs_inode *parent, const char *name, struct fuse_entry_out *e)
{
	int fd = open_beneath(parent->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int err = stat_fd(fd, &st);
	if (err) {
		close(fd);
		return err;
	}
	uint64_t nodeid;
	err = fs_inode_add(fs, fd, &st, &nodeid);
	if (err)
		return err;
	uint64_t t = timeout_of(fs);
	*e = (struct fuse_entry_out){.nodeid = nodeid, .entry_valid = t, .attr_valid = t};
	fill_attr(&e->attr, &st);
	return 0;
}

uint32_t reply(struct call *c, int err, const void *p, uint32_t len)
{
	return fuse_req_reply(c->r, err, p, len);
}

static uint32_t op_init(struct call *c)
{
	const struct fuse_init_in *in = c->r->args;
	if (in->major < 7)
		return reply(c, -EPROTO, NULL, 0);
	uint64_t want = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_ATOMIC_O_TRUNC |
			FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_PARALLEL_DIROPS |
			FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS;
	if (c->fs->cache == FS_CACHE_ALWAYS)
		want |= FUSE_AUTO_INVAL_DATA;
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor
							       : FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in->max_readahead,
		.flags = (uint32_t)(in->flags & want),
		.max_background = 64,
		.congestion_threshold = 48,
		.max_write = MAX_PAGES * 4096,
		.time_gran = 1,
		.max_pages = MAX_PAGES,
	};
	if (in->major > 7)
		return reply(c, 0, &out, 8); /* only major/minor: it retries */
	uint32_t len = out.minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof(out);
	return reply(c, 0, &out, len);
}

static uint32_t op_lookup(struct call *c)
{
	struct fuse_entry_out e;
	const char *name = c->r->name;
	int err;
	if (!strcmp(name, ".") || (!strcmp(name, "..") && c->ino->root)) {
		/* The parent itself; `..` of the root stays at the root. */
		err = do_lookup(c->fs, c->ino, ".", &e);
	} else if (!strcmp(name, "..")) {
		err = -ENOENT; /* the kernel never asks; no way up */
	} else {
		err = do_lookup(c->fs, c->ino, name, &e);
	}
	return reply(c, err, &e, sizeof(e));
}

static uint32_t op_getattr(struct call *c)
{
	struct stat st;
	int err = stat_fd(c->ino->fd, &st);
	struct fuse_attr_out out = {.attr_valid = timeout_of(c->fs)};
	if (!err)
		fill_attr(&out.attr, &st);
	return reply(c, err, &out, sizeof(out));
}

static int open_proc(struct call *c, int flags)
{
	char name[16];
	proc_name(name, sizeof(name), c->ino->fd);
	int fd = openat(c->fs->proc_fd, name, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* 0 when the O_PATH fd is a regular file, else -EISDIR for a directory,
 * link_err for a symlink and other_err for anything else. Checked before
 * any open on the host of an inode the guest names: opening a FIFO
 * blocks, and opening a device node the guest made (MKNOD runs as root
 * here) reaches the host's device. */
static int regular(int fd, int link_err, int other_err)
{
	struct stat st;
	int err = stat_fd(fd, &st);
	if (err)
		return err;
	if (S_ISREG(st.st_mode))
		return 0;
	return S_ISDIR(st.st_mode) ? -EISDIR : S_ISLNK(st.st_mode) ? link_err : other_err;
}

static int set_times(struct call *c, const struct fuse_setattr_in *in)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	if (in->valid & FATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_ATIME)
		ts[0] = (struct timespec){(time_t)in->atime, in->atimensec};
	if (in->valid & FATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_MTIME)
		ts[1] = (struct timespec){(time_t)in->mtime, in->mtimensec};
	if (c->ino->symlink)
		return utimensat(c->ino->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0
			       ? -errno
			       : 0;
	char name[16];
	proc_name(name, sizeof(name), c->ino->fd);
	return utimensat(c->fs->proc_fd, name, ts, 0) < 0 ? -errno : 0;
}

static uint32_t op_setattr(struct call *c)
{
	const struct fuse_setattr_in *in = c->r->args;
	int err = 0;
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (in->valid & FATTR_MODE) {
		char name[16];
		proc_name(name, sizeof(name), c->ino->fd);
		if (c->ino->symlink)
			err = -EOPNOTSUPP; /* as Linux answers for a symlink */
		else if (fchmodat(c->fs->proc_fd, name, in->mode & 07777, 0) < 0)
			err = -errno;
	}
	if (!err && (in->valid & (FATTR_UID | FATTR_GID))) {
		uid_t uid = in->valid & FATTR_UID ? in->uid : (uid_t)-1;
		gid_t gid = in->valid & FATTR_GID ? in->gid : (gid_t)-1;
		if (fchownat(c->ino->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			err = -errno;
	}
	if (!err && (in->valid & FATTR_SIZE)) {
		struct fs_handle *h = NULL;
		int fd = -1;
		if (in->valid & FATTR_FH)
			h = fs_handle_get(c->fs, in->fh, &err);
		if (h)
			fd = h->fd;
		else if (!err)
			err = regular(c->ino->fd, -EINVAL, -EINVAL);
		if (!h && !err)
			fd = open_proc(c, O_WRONLY | O_NONBLOCK);
		if (fd >= 0 && ftruncate(fd, (off_t)in->size) < 0)
			err = -errno;
		else if (fd < 0 && !err)
			err = fd;
		if (h)
			fs_handle_put(c->fs, h);
		else if (fd >= 0)
			close(fd);
	}
	if (!err && (in->valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)))
		err = set_times(c, in);
	if (err)
		return reply(c, err, NULL, 0);
	return op_getattr(c);
}

static uint32_t op_readlink(struct call *c)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(c->ino->fd, "", target, sizeof(target));
	if (n < 0)
		return reply(c, -errno, NULL, 0);
	return reply(c, 0, target, (uint32_t)n);
}

/* After making name beneath the parent: the caller owns it (we run as
 * root; the guest's credentials are in the header), and it is looked up. */
static uint32_t made(struct call *c, const char *name)
{
	if (geteuid() == 0)
		fchownat(c->ino->fd, name, c->r->h.uid, c->r->h.gid, AT_SYMLINK_NOFOLLOW);
	struct fuse_entry_out e;
	int err = do_lookup(c->fs, c->ino, name, &e);
	return reply(c, err, &e, sizeof(e));
}

static uint32_t op_make(struct call *c)
{
	const struct fuse_req *r = c->r;
	int err = 0;
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (dot_or_dotdot(r->name))
		return reply(c, -EEXIST, NULL, 0);
	if (r->h.opcode == FUSE_MKDIR) {
		const struct fuse_mkdir_in *in = r->args;
		err = mkdirat(c->ino->fd, r->name, in->mode & 07777);
	} else if (r->h.opcode == FUSE_MKNOD) {
		const struct fuse_mknod_in *in = r->args;
		err = mknodat(c->ino->fd, r->name, in->mode, in->rdev);
	} else {
		err = symlinkat(r->name2, c->ino->fd, r->name);
	}
	if (err < 0)
		return reply(c, -errno, NULL, 0);
	return made(c, r->name);
}

/* How the guest caches an open file: not at all for cache=none, across
 * opens for always. FOPEN_NOFLUSH (Linux 5.16+) spares the FLUSH round
 * trip on every close(): it would do nothing here, as writes are
 * synchronous pwritev whose errors the guest already got, and POSIX
 * locks stay in the guest (FUSE_POSIX_LOCKS is not offered). Older
 * kernels ignore the flag and get FLUSH answered 0. */
static uint32_t file_open_flags(const struct fs *fs)
{
	uint32_t f = FOPEN_NOFLUSH;
	if (fs->cache == FS_CACHE_NONE)
		f |= FOPEN_DIRECT_IO;
	else if (fs->cache == FS_CACHE_ALWAYS)
		f |= FOPEN_KEEP_CACHE;
	return f;
}

/* CREATE of a name that exists, without O_EXCL: opened as OPEN would
 * open it, only if it is a regular file. Looked up O_PATH and checked
 * first, then opened through /proc/self/fd (exactly that inode): opening
 * the name itself would open whatever is there, a FIFO or a device node
 * the guest made. */
static int open_existing(struct call *c, const char *name, int flags)
{
	int path = open_beneath(c->ino->fd, name, O_PATH, 0);
	if (path < 0)
		return path;
	int fd = regular(path, -ELOOP, -EACCES); /* as O_NOFOLLOW did */
	if (!fd) {
		char p[16];
		proc_name(p, sizeof(p), path);
		/* O_NOFOLLOW would refuse the magic link itself. */
		flags &= ~(O_NOFOLLOW | O_DIRECTORY);
		fd = openat(c->fs->proc_fd, p, flags | O_CLOEXEC);
		fd = fd < 0 ? -errno : fd;
	}
	close(path);
	return fd;
}

static uint32_t op_create(struct call *c)
{
	const struct fuse_create_in *in = c->r->args;
	const char *name = c->r->name;
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (dot_or_dotdot(name))
		return reply(c, -EISDIR, NULL, 0);
	int flags = (int)(in->flags & ~(uint32_t)(O_NOCTTY | O_DIRECT | O_PATH)) | O_CREAT;
	/* Exclusive first, so only a file made here is given to the caller;
	 * an existing one is opened as it is, unless O_EXCL was asked. */
	int fd = open_beneath(c->ino->fd, name, flags | O_EXCL, in->mode & 07777);
	bool made_here = fd >= 0;
	if (fd == -EEXIST && !(flags & O_EXCL))
		fd = open_existing(c, name, flags & ~O_CREAT);
	if (fd < 0)
		return reply(c, fd, NULL, 0);
	if (made_here && geteuid() == 0)
		fchown(fd, c->r->h.uid, c->r->h.gid);
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out = {0};
	int err = do_lookup(c->fs, c->ino, name, &out.e);
	if (err) {
		close(fd);
		return reply(c, err, NULL, 0);
	}
	err = fs_handle_new(c->fs, fd, NULL, &out.o.fh);
	if (err) {
		fs_inode_forget(c->fs, out.e.nodeid, 1);
		return reply(c, err, NULL, 0);
	}
	out.o.open_flags = file_open_flags(c->fs);
	return reply(c, 0, &out, sizeof(out));
}

static uint32_t op_remove(struct call *c)
{
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (dot_or_dotdot(c->r->name))
		return reply(c, -EINVAL, NULL, 0);
	int flags = c->r->h.opcode == FUSE_RMDIR ? AT_REMOVEDIR : 0;
	return reply(c, unlinkat(c->ino->fd, c->r->name, flags) < 0 ? -errno : 0, NULL, 0);
}

static uint32_t op_rename(struct call *c)
{
	const struct fuse_req *r = c->r;
	uint64_t newdir;
	unsigned flags = 0;
	if (r->h.opcode == FUSE_RENAME2) {
		const struct fuse_rename2_in *in = r->args;
		newdir = in->newdir;
		flags = in->flags;
	} else {
		newdir = ((const struct fuse_rename_in *)r->args)->newdir;
	}
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return reply(c, -EINVAL, NULL, 0);
	if (dot_or_dotdot(r->name) || dot_or_dotdot(r->name2))
		return reply(c, -EINVAL, NULL, 0);
	int err;
	struct fs_inode *nd = fs_inode_get(c->fs, newdir, &err);
	if (!nd)
		return reply(c, err, NULL, 0);
	err = renameat2(c->ino->fd, r->name, nd->fd, r->name2, flags) < 0 ? -errno : 0;
	fs_inode_put(c->fs, nd);
	return reply(c, err, NULL, 0);
}

static uint32_t op_link(struct call *c)
{
	const struct fuse_link_in *in = c->r->args;
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	if (dot_or_dotdot(c->r->name))
		return reply(c, -EEXIST, NULL, 0);
	int err;
	struct fs_inode *old = fs_inode_get(c->fs, in->oldnodeid, &err);
	if (!old)
		return reply(c, err, NULL, 0);
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc path works
	 * without it (AT_SYMLINK_FOLLOW follows only the magic link). */
	err = linkat(old->fd, "", c->ino->fd, c->r->name, AT_EMPTY_PATH) < 0 ? -errno : 0;
	if (err == -ENOENT || err == -EPERM) {
		char p[32];
		proc_path(p, sizeof(p), old->fd);
		err = old->symlink							   ? err
		      : linkat(AT_FDCWD, p, c->ino->fd, c->r->name, AT_SYMLINK_FOLLOW) < 0 ? -errno
											   : 0;
	}
	fs_inode_put(c->fs, old);
	if (err)
		return reply(c, err, NULL, 0);
	struct fuse_entry_out e;
	err = do_lookup(c->fs, c->ino, c->r->name, &e);
	return reply(c, err, &e, sizeof(e));
}

static uint32_t op_open(struct call *c)
{
	const struct fuse_open_in *in = c->r->args;
	bool dir = c->r->h.opcode == FUSE_OPENDIR;
	struct stat st;
	int err = stat_fd(c->ino->fd, &st);
	if (err)
		return reply(c, err, NULL, 0);
	/* Only regular files and directories are opened on the host: a
	 * device node or FIFO in the share is the guest's business. */
	if (dir && !S_ISDIR(st.st_mode))
		return reply(c, -ENOTDIR, NULL, 0);
	if (!dir && !S_ISREG(st.st_mode))
		return reply(c, S_ISDIR(st.st_mode) ? -EISDIR : -EACCES, NULL, 0);
	int flags;
	if (dir) {
		flags = O_RDONLY | O_DIRECTORY;
	} else {
		/* O_NOFOLLOW would refuse the /proc magic link itself; the
		 * node is known to be a regular file already. */
		flags = (int)(in->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_NOCTTY | O_DIRECT |
						      O_PATH | O_DIRECTORY | O_NOFOLLOW));
		if (c->fs->read_only &&
		    ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND))))
			return reply(c, -EROFS, NULL, 0);
	}
	int fd = open_proc(c, flags);
	if (fd < 0)
		return reply(c, fd, NULL, 0);
	struct fuse_open_out out = {0};
	err = fs_handle_new(c->fs, fd, dir ? c->ino : NULL, &out.fh);
	if (!dir)
		out.open_flags = file_open_flags(c->fs);
	else if (c->fs->cache != FS_CACHE_NONE)
		out.open_flags = FOPEN_CACHE_DIR;
	return reply(c, err, &out, sizeof(out));
}

static uint32_t op_release(struct call *c)
{
	const struct fuse_release_in *in = c->r->args;
	return reply(c, fs_handle_release(c->fs, in->fh), NULL, 0);
}

static uint32_t op_read(struct call *c)
{
	const struct fuse_read_in *in = c->r->args;
	int err;
	struct fs_handle *h = fs_handle_get(c->fs, in->fh, &err);
	if (!h)
		return reply(c, err, NULL, 0);
	struct iovec iov[FUSE_REQ_MAX_IOV];
	uint32_t room;
	int n = fuse_req_out_iov(c->r, in->size, iov, FUSE_REQ_MAX_IOV, &room);
	/* Straight into the guest's buffers. */
	ssize_t got = n ? preadv(h->fd, iov, n, (off_t)in->offset) : 0;
	err = got < 0 ? -errno : 0;
	fs_handle_put(c->fs, h);
	if (err)
		return reply(c, err, NULL, 0);
	return fuse_req_reply_len(c->r, (uint32_t)got);
}

static uint32_t op_write(struct call *c)
{
	const struct fuse_write_in *in = c->r->args;
	if (c->fs->read_only)
		return reply(c, -EROFS, NULL, 0);
	int err;
	struct fs_handle *h = fs_handle_get(c->fs, in->fh, &err);
	if (!h)
		return reply(c, err, NULL, 0);
	ssize_t done =
		c->r->nwdata ? pwritev(h->fd, c->r->wdata, c->r->nwdata, (off_t)in->offset) : 0;
	err = done < 0 ? -errno : 0;
	fs_handle_put(c->fs, h);
	struct fuse_write_out out = {.size = done < 0 ? 0 : (uint32_t)done};
	return reply(c, err, &out, sizeof(out));
}

static uint32_t op_statfs(struct call *c)
{
	struct statfs s;
	if (fstatfs(c->ino->fd, &s) < 0)
		return reply(c, -errno, NULL, 0);
	struct fuse_statfs_out out = {.st = {
					      .blocks = s.f_blocks,
					      .bfree = s.f_bfree,
					      .bavail = s.f_bavail,
					      .files = s.f_files,
					      .ffree = s.f_ffree,
					      .bsize = (uint32_t)s.f_bsize,
					      .namelen = (uint32_t)s.f_namelen,
					      .frsize = (uint32_t)s.f_frsize,
				      }};
	return reply(c, 0, &out, sizeof(out));
}

/* FSYNC, FSYNCDIR, FLUSH, FALLOCATE, LSEEK, COPY_FILE_RANGE: on a handle. */
static uint32_t op_on_handle(struct call *c, uint64_t fh)
{
	int err;
	const struct fuse_req *r = c->r;
	uint32_t op = r->h.opcode;
	if (c->fs->read_only && (op == FUSE_FALLOCATE || op == FUSE_COPY_FILE_RANGE))
		return reply(c, -EROFS, NULL, 0);
	struct fs_handle *h = fs_handle_get(c->fs, fh, &err);
	if (!h)
		return reply(c, err, NULL, 0);
	uint32_t n = 0;
	if (op == FUSE_FSYNC || op == FUSE_FSYNCDIR) {
		const struct fuse_fsync_in *in = r->args;
		err = ((in->fsync_flags & 1) ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
		n = reply(c, err, NULL, 0);
	} else if (op == FUSE_FLUSH) {
		n = reply(c, 0, NULL, 0);
	} else if (op == FUSE_FALLOCATE) {
		const struct fuse_fallocate_in *in = r->args;
		err = fallocate(h->fd, (int)in->mode, (off_t)in->offset, (off_t)in->length) < 0
			      ? -errno
			      : 0;
		n = reply(c, err, NULL, 0);
	} else if (op == FUSE_LSEEK) {
		const struct fuse_lseek_in *in = r->args;
		struct fuse_lseek_out out = {0};
		off_t o = -1;
		if (in->whence == SEEK_DATA || in->whence == SEEK_HOLE)
			o = lseek(h->fd, (off_t)in->offset, (int)in->whence);
		else
			errno = EINVAL;
		err = o < 0 ? -errno : 0;
		out.offset = (uint64_t)o;
		n = reply(c, err, &out, sizeof(out));
	} else { /* COPY_FILE_RANGE */
		const struct fuse_copy_file_range_in *in = r->args;
		struct fs_handle *out_h = fs_handle_get(c->fs, in->fh_out, &err);
		if (out_h) {
			loff_t a = (loff_t)in->off_in, b = (loff_t)in->off_out;
			ssize_t k = copy_file_range(h->fd, &a, out_h->fd, &b, in->len, 0);
			err = k < 0 ? -errno : 0;
			struct fuse_write_out out = {.size = k < 0 ? 0 : (uint32_t)k};
			fs_handle_put(c->fs, out_h);
			n = reply(c, err, &out, sizeof(out));
		} else {
			n = reply(c, err, NULL, 0);
		}
	}
	fs_handle_put(c->fs, h);
	return n;
}

static uint32_t op_access(struct call *c)
{
	const struct fuse_access_in *in = c->r->args;
	if (c->fs->read_only && (in->mask & W_OK))
		return reply(c, -EROFS, NULL, 0);
	if (c->ino->symlink)
		return reply(c, 0, NULL, 0);
	char name[16];
	proc_name(name, sizeof(name), c->ino->fd);
	int err = faccessat(c->fs->proc_fd, name, (int)in->mask, AT_EACCESS) < 0 ? -errno : 0;
	return reply(c, err, NULL, 0);
}

uint32_t fs_serve(struct fs *fs, struct fuse_req *r, uint8_t *buf, size_t buflen)
{
	struct call c = {fs, r, buf, buflen, NULL};
	uint32_t op = r->h.opcode;
	if (op == FUSE_FORGET) {
		const struct fuse_forget_in *in = r->args;
		fs_inode_forget(fs, r->h.nodeid, in->nlookup);
		return 0;
	}
	if (op == FUSE_BATCH_FORGET) {
		const struct fuse_batch_forget_in *in = r->args;
		const uint8_t *p = r->in + sizeof(*in);
		for (uint32_t i = 0; i < in->count; i++) {
			struct fuse_forget_one one;
			memcpy(&one, p + i * sizeof(one), sizeof(one));
			fs_inode_forget(fs, one.nodeid, one.nlookup);
		}
		return 0;
	}
	if (op == FUSE_INIT)
		return op_init(&c);
	if (op == FUSE_DESTROY || op == FUSE_SYNCFS)
		return reply(&c, op == FUSE_SYNCFS && syncfs(fs->root_fd) < 0 ? -errno : 0, NULL,
			     0);
	if (op == FUSE_INTERRUPT)
		return 0; /* every request runs to its end: nothing to interrupt */
	/* A handle goes by its id alone: a node id the guest has forgotten
	 * (or forged) must not keep the handle's fd open until the end. */
	if (op == FUSE_RELEASE || op == FUSE_RELEASEDIR)
		return op_release(&c);
	/* Everything else names an inode. */
	int err;
	c.ino = fs_inode_get(fs, r->h.nodeid, &err);
	if (!c.ino)
		return reply(&c, err, NULL, 0);
	uint32_t n;
	switch (op) {
	case FUSE_LOOKUP:
		n = op_lookup(&c);
		break;
	case FUSE_GETATTR:
		n = op_getattr(&c);
		break;
	case FUSE_SETATTR:
		n = op_setattr(&c);
		break;
	case FUSE_READLINK:
		n = op_readlink(&c);
		break;
	case FUSE_SYMLINK:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
		n = op_make(&c);
		break;
	case FUSE_CREATE:
		n = op_create(&c);
		break;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		n = op_remove(&c);
		break;
	case FUSE_RENAME:
	case FUSE_RENAME2:
		n = op_rename(&c);
		break;
	case FUSE_LINK:
		n = op_link(&c);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		n = op_open(&c);
		break;
	case FUSE_READ:
		n = op_read(&c);
		break;
	case FUSE_WRITE:
		n = op_write(&c);
		break;
	case FUSE_STATFS:
		n = op_statfs(&c);
		break;
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
	case FUSE_FLUSH:
	case FUSE_FALLOCATE:
	case FUSE_LSEEK:
		/* fh is the first field of each of these. */
		n = op_on_handle(&c, *(const uint64_t *)r->args);
		break;
	case FUSE_COPY_FILE_RANGE:
		n = op_on_handle(&c, ((const struct fuse_copy_file_range_in *)r->args)->fh_in);
		break;
	case FUSE_ACCESS:
		n = op_access(&c);
		break;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		n = op_readdir(&c);
		break;
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
		n = op_getxattr(&c);
		break;
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		n = op_setxattr(&c);
		break;
	default:
		n = reply(&c, -ENOSYS, NULL, 0);
		break;
	}
	fs_inode_put(fs, c.ino);
	return n;
}
