/* disk: a --disk image behind virtio-blk, with its I/O on io_uring. */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

int disk_parse_spec(char *spec, struct disk *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = d->file = d->kick_fd = d->irq_fd = -1;
	d->path = spec;
	char *opt = strchr(spec, ',');
	if (!opt)
		return 0;
	if (strcmp(opt + 1, "ro"))
		return -1; /* spec left as it was, for the error message */
	*opt = '\0';
	d->read_only = true;
	return 0;
}

/* What fallocate can do on this file, tried on a range past its end
 * (KEEP_SIZE: nothing changes): DISCARD needs hole punching; WRITE_ZEROES
 * (which may be asked without deallocating) needs zeroing a range too. */
static unsigned probe(int fd, uint64_t size)
{
	const int keep = FALLOC_FL_KEEP_SIZE;
	unsigned allow = 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | keep, size, BLK_SECTOR) == 0) {
		allow |= BLK_REQ_DISCARD;
		if (fallocate(fd, FALLOC_FL_ZERO_RANGE | keep, size, BLK_SECTOR) == 0)
			allow |= BLK_REQ_WRITE_ZEROES;
	}
	return allow;
}

int disk_open(struct disk *d)
{
	const char *path = d->path;
	bool read_only = d->read_only;
	/* O_NONBLOCK so a FIFO or a device cannot hang the open; it is
	 * cleared once the file is known to be a disk. */
	d->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (d->fd < 0 || fstat(d->fd, &st) < 0) {
		/* The read-write open's refusals, each with what to do. EPERM:
		 * the file is immutable or append-only (chattr), which even
		 * root cannot open for writing. */
		const char *hint = "";
		if (!read_only && errno == EACCES)
			hint = " (add ,ro to use it read-only)";
		else if (!read_only && errno == EROFS)
			hint = ": the image is on a read-only mount; add ,ro to use it read-only";
		else if (!read_only && errno == EPERM)
			hint = ": the file is immutable or append-only; add ,ro to use it "
			       "read-only, or chattr -i -a it";
		fprintf(stderr, "vmm: disk %s: %s%s\n", path, strerror(errno), hint);
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(d->fd, 0, SEEK_END);
		st.st_size = end < 0 ? 0 : end;
	} else if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "vmm: disk %s: not a regular file or block device\n", path);
		goto fail;
	}
	/* Root opens a file read-write whatever its mode, so a read-only
	 * image (no w bit for anyone) would be written anyway: whoever made
	 * it read-only meant it to stay as it is. */
	if (!read_only && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) {
		fprintf(stderr,
			"vmm: disk %s: the image is read-only (mode %04o); add ,ro to use it "
			"read-only, or chmod u+w it\n",
			path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) & ~O_NONBLOCK);
	if (st.st_size == 0 || st.st_size % BLK_SECTOR) {
		fprintf(stderr, "vmm: disk %s: size %lld is not a positive multiple of 512 bytes\n",
			path, (long long)st.st_size);
		goto fail;
	}
	d->size = st.st_size;
	d->allow = read_only ? BLK_REQ_RO : probe(d->fd, d->size);
	return 0;
fail:
	close(d->fd);
	d->fd = -1;
	return -1;
}

/* Submits what is left of a read or write: the part of an entry a short
 * transfer stopped in (alone), else the untouched entries after it (the
 * request's own iovecs, so nothing is copied in the common case), on the
 * fixed file when the image could be registered, else on its fd. */
static void rw_submit(struct disk_op *o)
{
	struct disk *d = o->disk;
	const struct iovec *iov = o->part.iov_len ? &o->part : o->iov + o->next;
	int n = o->part.iov_len ? 1 : o->iovcnt - o->next;
	if (o->write && d->file >= 0)
		evloop_writev_fixed(d->loop, &o->op, d->file, iov, n, o->offset);
	else if (o->write)
		evloop_writev(d->loop, &o->op, d->fd, iov, n, o->offset);
	else if (d->file >= 0)
		evloop_readv_fixed(d->loop, &o->op, d->file, iov, n, o->offset);
	else
		evloop_readv(d->loop, &o->op, d->fd, iov, n, o->offset);
}

/* Moves past n bytes just transferred; false when nothing is left. */
static bool rw_advance(struct disk_op *o, size_t n)
{
	o->done += n;
	o->offset += n;
	while (n) {
		if (o->part.iov_len) {
			size_t take = n < o->part.iov_len ? n : o->part.iov_len;
			o->part.iov_base = (char *)o->part.iov_base + take;
			o->part.iov_len -= take;
			n -= take;
		} else if (n >= o->iov[o->next].iov_len) {
			n -= o->iov[o->next++].iov_len;
		} else {
			o->part = (struct iovec){(char *)o->iov[o->next].iov_base + n,
						 o->iov[o->next].iov_len - n};
			o->next++;
			n = 0;
		}
	}
	while (!o->part.iov_len && o->next < o->iovcnt && !o->iov[o->next].iov_len)
		o->next++;
	return o->part.iov_len || o->next < o->iovcnt;
}

static void op_done(struct ev_op *op, int res)
{
	struct disk_op *o = container_of(op, struct disk_op, op);
	if (o->rw && res > 0) {
		/* A short transfer on a regular file stops where the file
		 * system did (no space left, say): go on with the rest, which
		 * either completes or fails with the reason. */
		if (rw_advance(o, (size_t)res)) {
			rw_submit(o);
			return;
		}
		res = (int)o->done;
	} else if (o->rw && res == 0) {
		res = (int)o->done; /* no progress (past the end): short, an error */
	}
	/* The guest gets VIRTIO_BLK_S_IOERR and its kernel logs an I/O
	 * error, but not why: say it here, once, so a full host file system
	 * (ENOSPC) or a failing host disk (EIO) is not a mystery. */
	if (res < 0 && !o->disk->io_error_reported) {
		o->disk->io_error_reported = true;
		fprintf(stderr, "vmm: disk %s: %s; the guest gets I/O errors\n", o->disk->path,
			strerror(-res));
	}
	virtio_blk_complete(&o->disk->blk, o->slot, res);
}

static int io_rw(struct blk_io *io, struct virtio_blk *b, int slot, bool write,
		 const struct iovec *iov, int iovcnt, uint64_t offset)
{
	struct disk *d = container_of(io, struct disk, io);
	struct disk_op *o = &d->ops[slot];
	(void)b;
	o->rw = true;
	o->write = write;
	o->iov = iov;
	o->iovcnt = iovcnt;
	o->next = 0;
	o->part = (struct iovec){0};
	o->offset = offset;
	o->done = 0;
	rw_submit(o);
	return 0;
}

static int io_flush(struct blk_io *io, struct virtio_blk *b, int slot)
{
	struct disk *d = container_of(io, struct disk, io);
	(void)b;
	d->ops[slot].rw = false;
	if (d->file >= 0)
		evloop_fdatasync_fixed(d->loop, &d->ops[slot].op, d->file);
	else
		evloop_fdatasync(d->loop, &d->ops[slot].op, d->fd);
	return 0;
}

static int io_discard(struct blk_io *io, struct virtio_blk *b, int slot, uint64_t offset,
		      uint64_t len, bool punch)
{
	struct disk *d = container_of(io, struct disk, io);
	(void)b;
	int mode = FALLOC_FL_KEEP_SIZE | (punch ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
	d->ops[slot].rw = false;
	if (d->file >= 0)
		evloop_fallocate_fixed(d->loop, &d->ops[slot].op, d->file, mode, offset, len);
	else
		evloop_fallocate(d->loop, &d->ops[slot].op, d->fd, mode, offset, len);
	return 0;
}

static void raise_irq(void *opaque)
{
	struct disk *d = opaque;
	/* Never blocks: an eventfd write only fails on counter overflow,
	 * and then the interrupt is pending anyway. */
	eventfd_write(d->irq_fd, 1);
}

static void arm_kick(struct disk *d);

static void kicked(struct ev_op *op, int res)
{
	struct disk *d = container_of(op, struct disk, kick_op);
	(void)res;
	virtio_blk_process(&d->blk);
	arm_kick(d);
}

static void arm_kick(struct disk *d)
{
	evloop_read(d->loop, &d->kick_op, d->kick_fd, &d->kick_buf, sizeof(d->kick_buf));
}

int disk_attach(struct disk *d, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
		uint64_t base, int gsi, char *why, size_t whylen)
{
	d->loop = loop;
	/* A fixed file saves the kernel an fd lookup and reference per
	 * request. Without one (a full table, an old kernel) the requests
	 * go on the fd: slower, not wrong, so nothing to report. */
	int file = evloop_register_file(loop, d->fd);
	d->file = file >= 0 ? file : -1;
	d->io = (struct blk_io){io_rw, io_flush, io_discard};
	for (int i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		d->ops[i] = (struct disk_op){.op = {op_done}, .disk = d, .slot = i};
	d->kick_op.complete = kicked;
	/* The serial number the guest sees (GET_ID): the image's name. */
	const char *name = strrchr(d->path, '/');
	virtio_blk_init(&d->blk, d->size, d->allow, name ? name + 1 : d->path, gm, &d->io,
			raise_irq, d);
	d->kick_fd = eventfd(0, EFD_CLOEXEC);
	d->irq_fd = eventfd(0, EFD_CLOEXEC);
	int err = d->kick_fd < 0 || d->irq_fd < 0 ? -errno : 0;
	if (!err)
		err = kvm_ioeventfd(kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0, d->kick_fd);
	if (!err)
		err = kvm_irqfd(kvm, gsi, d->irq_fd);
	if (err)
		snprintf(why, whylen, "disk %s: eventfds: %s", d->path, strerror(-err));
	return err;
}

void disk_start(struct disk *d)
{
	arm_kick(d);
}

void disk_stop(struct disk *d)
{
	virtio_blk_stop(&d->blk);
}

void disk_close(struct disk *d)
{
	int *fds[] = {&d->fd, &d->kick_fd, &d->irq_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
