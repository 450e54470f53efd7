/*
 * fs_table: the inode and handle tables of a --fs share (vmm/fs.h), shared
 * by fs.c and fs_ops.c. All functions take fs->lock themselves.
 *
 * A node id is (generation << 32) | (slot + 1), the root being slot 0 with
 * generation 0, so FUSE_ROOT_ID (1). A file handle is (generation << 32) |
 * slot. A get checks the slot is in use with that generation, and pins it
 * (busy) until the put: a FORGET or RELEASE racing with a request closes
 * the fd only once that request is done, so an fd number is never used
 * after it was closed (it might by then be another file, or a disk).
 */
#ifndef VMM_FS_TABLE_H
#define VMM_FS_TABLE_H

#include <sys/stat.h>

#include "fs.h"

/* Allocates the tables (inode_max >= 1, handle_max >= 1); slot 0 becomes
 * the root with root_fd. Returns 0 or -ENOMEM. */
int fs_table_init(struct fs *fs, int inode_max, int handle_max);
void fs_table_free(struct fs *fs);

/* The inode for nodeid, pinned (*err = 0); NULL with *err = -ESTALE (a freed or
 * forged id) or -EBADF (out of range). */
struct fs_inode *fs_inode_get(struct fs *fs, uint64_t nodeid, int *err);
void fs_inode_put(struct fs *fs, struct fs_inode *ino);

/* One more guest reference to the file fd (O_PATH, stat st) is open on:
 * the inode already known for (st_dev, st_ino) (fd is then closed), or a
 * new one taking fd. *nodeid gets its id. Returns 0, or -ENFILE when the
 * table is full (fd closed). */
int fs_inode_add(struct fs *fs, int fd, const struct stat *st, uint64_t *nodeid);

/* The guest dropped n references to nodeid (FORGET); an unknown id is
 * ignored, as FORGET has no reply. */
void fs_inode_forget(struct fs *fs, uint64_t nodeid, uint64_t n);

/* A new handle owning fd: a file's, or with dir, a directory's opened on
 * that inode (READDIRPLUS looks its entries up under it, so only that
 * inode's requests may use it). Returns 0 with *fh, or -ENFILE (fd
 * closed). */
int fs_handle_new(struct fs *fs, int fd, const struct fs_inode *dir, uint64_t *fh);
struct fs_handle *fs_handle_get(struct fs *fs, uint64_t fh, int *err);
void fs_handle_put(struct fs *fs, struct fs_handle *h);
/* RELEASE: the fd closes once no request uses it. Returns 0 or -EBADF. */
int fs_handle_release(struct fs *fs, uint64_t fh);

#endif
