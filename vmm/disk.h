/*
 * disk: one `--disk PATH[,ro]`: the image file, its virtio-blk device on
 * virtio-mmio, and the host side of it: requests carried out with io_uring
 * on the event loop (readv/writev at the request's offset, FLUSH as
 * fdatasync, DISCARD and WRITE_ZEROES as fallocate where the file system
 * can punch holes or zero ranges, as many in flight as the queue holds,
 * on the image registered as an io_uring fixed file), the queue kick as a
 * KVM ioeventfd and the interrupt as a KVM irqfd, both owned by the loop,
 * so a vCPU never waits for the disk.
 */
#ifndef VMM_DISK_H
#define VMM_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "evloop.h"
#include "kvm.h"
#include "virtio_blk.h"

struct disk;

struct disk_op {
	struct ev_op op;
	struct disk *disk;
	int slot;
	/* A read or write (rw) in progress: the request's iovecs (valid
	 * until it completes), the next whole entry to transfer, the rest of
	 * an entry a short transfer stopped in, and where it is. */
	bool rw, write;
	const struct iovec *iov;
	int iovcnt, next;
	struct iovec part;
	uint64_t offset;
	size_t done;
};

struct disk {
	const char *path;
	bool read_only;
	int fd;
	int file; /* fd's fixed-file slot in the loop's ring, or -1: use fd */
	uint64_t size;
	unsigned allow; /* BLK_REQ_*: read-only, or what the file can punch/zero */
	struct virtio_blk blk;
	struct blk_io io;
	struct evloop *loop;
	int kick_fd, irq_fd;
	uint64_t kick_buf;
	struct ev_op kick_op;
	struct disk_op ops[VIRTIO_BLK_QUEUE_SIZE];
	bool io_error_reported; /* a host I/O error was reported (once) */
};

/* Opens d->path (read-only with d->read_only) and checks its size, and
 * that an image opened read-write has a write permission bit (root would
 * open it anyway). Before any KVM work; on failure prints one line and
 * returns -1, with nothing left open. */
int disk_open(struct disk *d);

/* Parses "PATH[,ro]" into *d's path and read_only. Returns 0 or -1 (the
 * option is not one it knows). spec must outlive d. */
int disk_parse_spec(char *spec, struct disk *d);

/* Creates the device at MMIO base with interrupt gsi, wires the ioeventfd
 * and irqfd. On failure writes why and returns -errno. */
int disk_attach(struct disk *d, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
		uint64_t base, int gsi, char *why, size_t whylen);

/* Loop thread: starts listening for queue kicks. */
void disk_start(struct disk *d);

/* Loop thread, once the loop has ended: no more completions will come, so
 * a vCPU waiting in a device reset for them is released. */
void disk_stop(struct disk *d);

void disk_close(struct disk *d);

#endif
