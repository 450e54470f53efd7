/*
 * fs: one `--fs TAG=HOSTDIR[,ro][,cache=none|auto|always]`: a virtio-fs
 * device whose FUSE server is the VMM itself, passing requests through to
 * HOSTDIR (no external virtiofsd).
 *
 * Confinement. The guest names files only by node ids we gave it and by
 * single path components; it never gets to send us a path. Each inode we
 * know is held as an O_PATH fd, and a lookup is one openat2() of one
 * component beneath its parent's fd with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS and O_NOFOLLOW, so a symlink
 * is never followed on the host (it is returned as the symlink itself) and
 * `..` cannot leave the parent; `.` and `..` are answered without the host
 * (`..` of the root is the root). Node ids and file handles carry a
 * generation, so a forged or stale one is refused (EBADF / ESTALE), never
 * taken for another file. Operations that have no *at form for an O_PATH
 * fd (open, chmod, truncate, xattrs) go through /proc/self/fd/N, which
 * resolves to exactly that inode; they are refused on symlinks, whose
 * magic-link target could be followed further. Only regular files and
 * directories are ever opened on the host (a device node the guest made
 * stays inert). `ro` is checked here, on the host side, for every
 * modifying opcode and every open for writing.
 *
 * Bounds. The inode and handle tables have a fixed size derived from
 * RLIMIT_NOFILE (raised to fs.nr_open when privileged, else to its hard
 * limit); an inode is closed when the
 * guest FORGETs its last lookup and no request is using it, a handle on
 * RELEASE. A full table answers ENFILE and says so once on stderr: a guest
 * that floods lookups gets errors, the VMM keeps its fds.
 *
 * Threads. The queue kicks arrive on the event loop, which only pops
 * chains (virtio_fs_process); the requests themselves run on a small pool
 * of worker threads (FS_WORKERS), which write the replies straight into
 * guest memory and complete them (push + irqfd) themselves. A worker pool
 * rather than io_uring because most of the work is syscalls io_uring does
 * not have or runs on its own worker threads anyway (openat2 on O_PATH
 * fds, getdents64, fchownat, xattrs by path, renameat2, linkat), and a
 * blocking call on a slow file system must stall neither the loop (the
 * console, the other devices) nor the other requests. READ and WRITE use
 * preadv/pwritev on the guest's own buffers: no bounce buffer.
 */
#ifndef VMM_FS_H
#define VMM_FS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "evloop.h"
#include "fuse_req.h"
#include "kvm.h"
#include "virtio_fs.h"

#define FS_WORKERS 4
#define FS_MAX	   8 /* --fs options */

enum fs_cache {
	FS_CACHE_NONE,	 /* no caching in the guest: host changes show at once */
	FS_CACHE_AUTO,	 /* 1 s attribute and entry timeouts */
	FS_CACHE_ALWAYS, /* long timeouts, page cache kept across opens */
};

struct fs_inode {
	int fd;		  /* O_PATH; -1 when the slot is free */
	uint32_t gen;	  /* bumped when the slot is freed */
	uint64_t nlookup; /* the guest's references (LOOKUP, CREATE, ...) */
	int busy;	  /* requests using fd right now */
	bool root;	  /* never freed */
	bool symlink;	  /* S_ISLNK: no /proc/self/fd path operations */
	dev_t dev;
	ino_t ino;
	int hnext; /* next in the (dev, ino) hash chain, as slot + 1; 0 at the end */
};

struct fs_handle {
	int fd;	      /* -1 when free */
	uint32_t gen; /* bumped when the slot is freed */
	int busy;
	bool released; /* RELEASE came while busy: close when idle */
	bool dir;
	dev_t dev; /* a directory's: the inode it was opened on */
	ino_t ino;
	pthread_mutex_t lock; /* a directory's read position */
	off_t pos;
};

struct fs_worker {
	struct fs *fs;
	pthread_t thread;
	bool started;
	struct fuse_req req;
	uint8_t buf[65536]; /* getdents64 and xattr values */
};

struct fs {
	/* From the command line. */
	const char *tag, *dir;
	bool read_only;
	enum fs_cache cache;
	/* Host side. */
	int root_fd, proc_fd; /* HOSTDIR (O_PATH); /proc/self/fd */
	pthread_mutex_t lock; /* the tables */
	struct fs_inode *inodes;
	int ninodes, inodes_used, *hash, nhash, free_inode;
	struct fs_handle *handles;
	int nhandles, handles_used;
	bool warned_inodes, warned_handles;
	/* The work queue: slots waiting for a worker. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	int queue[VIRTIO_FS_SLOTS], qhead, qlen;
	bool quit;
	struct fs_worker *workers;
	/* The device and its wiring. */
	struct virtio_fs dev;
	struct fs_backend be;
	struct evloop *loop;
	int kick_fd[VIRTIO_FS_NQUEUES], irq_fd;
	uint64_t kick_buf[VIRTIO_FS_NQUEUES];
	struct ev_op kick_op[VIRTIO_FS_NQUEUES];
};

/* A share set up in code rather than from a spec (vmm run's rootfs and
 * volumes): tag (1 to 36 bytes) and dir must outlive fs. */
void fs_init(struct fs *fs, const char *tag, const char *dir, bool read_only, enum fs_cache cache);

/* Parses "TAG=HOSTDIR[,ro][,cache=none|auto|always]" into *fs (tag 1 to
 * 36 bytes). spec is modified and must outlive fs. Returns 0, or -1 with
 * a reason in why. */
int fs_parse_spec(char *spec, struct fs *fs, char *why, size_t whylen);

/* Opens HOSTDIR and sets up the tables, before any KVM work. inode_max
 * and handle_max bound the tables; 0 means a 1/nshares part of
 * RLIMIT_NOFILE (raised as far as allowed) less a reserve. On failure
 * prints one line and returns -1. */
int fs_open(struct fs *fs, int nshares, int inode_max, int handle_max);

/* Answers one parsed request (the FUSE server, without the device; the
 * unit tests call it directly). Returns the bytes written into the reply
 * buffers, 0 for requests that get no reply. Any thread. */
uint32_t fs_serve(struct fs *fs, struct fuse_req *r, uint8_t *buf, size_t buflen);

/* Creates the device at MMIO base with interrupt gsi, wires two
 * ioeventfds and the irqfd, and starts the workers. On failure writes why
 * and returns -errno. */
int fs_attach(struct fs *fs, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
	      uint64_t base, int gsi, char *why, size_t whylen);

/* Loop thread: starts listening for queue kicks. */
void fs_start(struct fs *fs);

/* Once the loop has ended: stops the workers (each finishes its request)
 * and releases a device reset waiting for them. */
void fs_stop(struct fs *fs);

void fs_close(struct fs *fs);

#endif
