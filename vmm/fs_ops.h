/*
 * fs_ops: what the opcode files of the virtio-fs server (fs_ops.c, fs_dir.c)
 * share: the request being served and the helpers that keep the
 * confinement rules of fs.h in one place.
 */
#ifndef VMM_FS_OPS_H
#define VMM_FS_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs.h"

/* A request being served: the pinned inode and handle, released at the
 * end whatever happened. */
struct call {
	struct fs *fs;
	struct fuse_req *r;
	uint8_t *buf;
	size_t buflen;
	struct fs_inode *ino;
};

/* fstatat of an O_PATH fd itself, never following it. 0 or -errno. */
int stat_fd(int fd, struct stat *st);

/* "/proc/self/fd/N" for fd: resolves to exactly that inode (not for
 * symlinks: the magic link's target could be followed on). */
void proc_path(char *p, size_t len, int fd);

bool dot_or_dotdot(const char *name);

/* Looks name (one component) up beneath parent, without following a
 * symlink, and takes a guest reference on it. 0 or -errno. */
int do_lookup(struct fs *fs, struct fs_inode *parent, const char *name, struct fuse_entry_out *e);

/* Answers the call: error (0 or -errno), then payload when 0. */
uint32_t reply(struct call *c, int err, const void *p, uint32_t len);

/* fs_dir.c: READDIR/READDIRPLUS and the xattr opcodes. */
uint32_t op_readdir(struct call *c);
uint32_t op_getxattr(struct call *c);
uint32_t op_setxattr(struct call *c);

#endif
