/* fs_table: bounded inode and handle tables for the virtio-fs server. */
#include "fs_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "selfmem.h"

static int hash_of(const struct fs *fs, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;
	return (int)((h >> 17) % (uint64_t)fs->nhash);
}

/*
 * The tables are sized for the worst case (a guest holding its whole fd
 * budget: 128 Ki inodes, 6 MiB) but cost only what is used: they are
 * fresh anonymous memory, zero until touched, slots past the high-water
 * mark (inodes_used, handles_used) are free without being written, and
 * hash and chain links hold slot + 1 so that zero means none. In small
 * pages (selfmem_zalloc): a huge page would make the first slot cost 2 MiB.
 */
int fs_table_init(struct fs *fs, int inode_max, int handle_max)
{
	fs->ninodes = inode_max;
	fs->nhash = inode_max;
	fs->nhandles = handle_max;
	fs->inodes = selfmem_zalloc(sizeof(*fs->inodes) * (size_t)inode_max);
	fs->hash = selfmem_zalloc(sizeof(int) * (size_t)inode_max);
	fs->handles = selfmem_zalloc(sizeof(*fs->handles) * (size_t)handle_max);
	if (!fs->inodes || !fs->hash || !fs->handles)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	fs->inodes_used = 1; /* the root */
	fs->handles_used = 0;
	struct stat st;
	if (fstatat(fs->root_fd, "", &st, AT_EMPTY_PATH) < 0)
		return -errno;
	struct fs_inode *r = &fs->inodes[0];
	*r = (struct fs_inode){
		.fd = fs->root_fd, .nlookup = 1, .root = true, .dev = st.st_dev, .ino = st.st_ino};
	fs->hash[hash_of(fs, st.st_dev, st.st_ino)] = 0 + 1;
	fs->free_inode = 1;
	return 0;
}

void fs_table_free(struct fs *fs)
{
	if (fs->inodes)
		for (int i = 1; i < fs->inodes_used; i++)
			if (fs->inodes[i].fd >= 0)
				close(fs->inodes[i].fd);
	if (fs->handles)
		for (int i = 0; i < fs->handles_used; i++)
			if (fs->handles[i].fd >= 0)
				close(fs->handles[i].fd);
	selfmem_free(fs->inodes, sizeof(*fs->inodes) * (size_t)fs->ninodes);
	selfmem_free(fs->hash, sizeof(int) * (size_t)fs->nhash);
	selfmem_free(fs->handles, sizeof(*fs->handles) * (size_t)fs->nhandles);
	fs->inodes = NULL;
	fs->hash = NULL;
	fs->handles = NULL;
}

/* Lock held. Frees an inode nobody references or uses. */
static void drop_inode(struct fs *fs, int i)
{
	struct fs_inode *ino = &fs->inodes[i];
	if (ino->root || ino->nlookup > 0 || ino->busy > 0 || ino->fd < 0)
		return;
	int *p = &fs->hash[hash_of(fs, ino->dev, ino->ino)];
	while (*p != i + 1 && *p != 0)
		p = &fs->inodes[*p - 1].hnext;
	if (*p == i + 1)
		*p = ino->hnext;
	close(ino->fd);
	ino->fd = -1;
	ino->gen++;
	ino->hnext = 0;
	if (i < fs->free_inode)
		fs->free_inode = i;
}

static int inode_slot(const struct fs *fs, uint64_t nodeid, int *err)
{
	uint64_t idx = (nodeid & 0xffffffffULL) - 1;
	if ((nodeid & 0xffffffffULL) == 0 || idx >= (uint64_t)fs->ninodes) {
		*err = -EBADF;
		return -1;
	}
	if (idx >= (uint64_t)fs->inodes_used) { /* never used: free */
		*err = -ESTALE;
		return -1;
	}
	const struct fs_inode *ino = &fs->inodes[idx];
	if (ino->fd < 0 || ino->gen != (uint32_t)(nodeid >> 32)) {
		*err = -ESTALE;
		return -1;
	}
	return (int)idx;
}

struct fs_inode *fs_inode_get(struct fs *fs, uint64_t nodeid, int *err)
{
	pthread_mutex_lock(&fs->lock);
	int i = inode_slot(fs, nodeid, err);
	struct fs_inode *ino = i < 0 ? NULL : &fs->inodes[i];
	if (ino) {
		ino->busy++;
		*err = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	return ino;
}

void fs_inode_put(struct fs *fs, struct fs_inode *ino)
{
	if (!ino)
		return;
	pthread_mutex_lock(&fs->lock);
	ino->busy--;
	drop_inode(fs, (int)(ino - fs->inodes));
	pthread_mutex_unlock(&fs->lock);
}

int fs_inode_add(struct fs *fs, int fd, const struct stat *st, uint64_t *nodeid)
{
	pthread_mutex_lock(&fs->lock);
	int h = hash_of(fs, st->st_dev, st->st_ino);
	int i = fs->hash[h] - 1;
	while (i >= 0 && (fs->inodes[i].dev != st->st_dev || fs->inodes[i].ino != st->st_ino))
		i = fs->inodes[i].hnext - 1;
	if (i >= 0) {
		close(fd); /* the same file under another name or again */
	} else {
		while (fs->free_inode < fs->inodes_used && fs->inodes[fs->free_inode].fd >= 0)
			fs->free_inode++;
		i = fs->free_inode;
		if (i == fs->inodes_used && i < fs->ninodes)
			fs->inodes_used++; /* a slot never used: zero, gen 0 */
		if (i >= fs->ninodes) {
			bool warn = !fs->warned_inodes;
			fs->warned_inodes = true;
			pthread_mutex_unlock(&fs->lock);
			close(fd);
			if (warn)
				fprintf(stderr,
					"vmm: fs %s: inode table full (%d): lookups fail with "
					"ENFILE until the guest forgets some\n",
					fs->tag, fs->ninodes);
			return -ENFILE;
		}
		struct fs_inode *ino = &fs->inodes[i];
		ino->fd = fd;
		ino->nlookup = 0;
		ino->busy = 0;
		ino->symlink = S_ISLNK(st->st_mode);
		ino->dev = st->st_dev;
		ino->ino = st->st_ino;
		ino->hnext = fs->hash[h];
		fs->hash[h] = i + 1;
	}
	fs->inodes[i].nlookup++;
	*nodeid = ((uint64_t)fs->inodes[i].gen << 32) | (uint64_t)(i + 1);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

void fs_inode_forget(struct fs *fs, uint64_t nodeid, uint64_t n)
{
	int err;
	pthread_mutex_lock(&fs->lock);
	int i = inode_slot(fs, nodeid, &err);
	if (i >= 0) {
		struct fs_inode *ino = &fs->inodes[i];
		ino->nlookup -= n < ino->nlookup ? n : ino->nlookup;
		drop_inode(fs, i);
	}
	pthread_mutex_unlock(&fs->lock);
}

int fs_handle_new(struct fs *fs, int fd, const struct fs_inode *dir, uint64_t *fh)
{
	pthread_mutex_lock(&fs->lock);
	int i = 0;
	while (i < fs->handles_used && fs->handles[i].fd >= 0)
		i++;
	if (i == fs->handles_used && i < fs->nhandles) {
		pthread_mutex_init(&fs->handles[i].lock, NULL); /* a slot never used */
		fs->handles_used++;
	}
	if (i == fs->nhandles) {
		bool warn = !fs->warned_handles;
		fs->warned_handles = true;
		pthread_mutex_unlock(&fs->lock);
		close(fd);
		if (warn)
			fprintf(stderr,
				"vmm: fs %s: handle table full (%d): opens fail with ENFILE\n",
				fs->tag, fs->nhandles);
		return -ENFILE;
	}
	struct fs_handle *h = &fs->handles[i];
	h->fd = fd;
	h->busy = 0;
	h->released = false;
	h->dir = dir != NULL;
	h->dev = dir ? dir->dev : 0;
	h->ino = dir ? dir->ino : 0;
	h->pos = 0;
	*fh = ((uint64_t)h->gen << 32) | (uint64_t)i;
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

static int handle_slot(const struct fs *fs, uint64_t fh, int *err)
{
	uint64_t idx = fh & 0xffffffffULL;
	if (idx >= (uint64_t)fs->handles_used) { /* past the table, or never used */
		*err = -EBADF;
		return -1;
	}
	const struct fs_handle *h = &fs->handles[idx];
	if (h->fd < 0 || h->released || h->gen != (uint32_t)(fh >> 32)) {
		*err = -EBADF;
		return -1;
	}
	return (int)idx;
}

/* Lock held. */
static void drop_handle(struct fs_handle *h)
{
	if (!h->released || h->busy > 0 || h->fd < 0)
		return;
	close(h->fd);
	h->fd = -1;
	h->gen++;
}

struct fs_handle *fs_handle_get(struct fs *fs, uint64_t fh, int *err)
{
	pthread_mutex_lock(&fs->lock);
	int i = handle_slot(fs, fh, err);
	struct fs_handle *h = i < 0 ? NULL : &fs->handles[i];
	if (h) {
		h->busy++;
		*err = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	return h;
}

void fs_handle_put(struct fs *fs, struct fs_handle *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&fs->lock);
	h->busy--;
	drop_handle(h);
	pthread_mutex_unlock(&fs->lock);
}

int fs_handle_release(struct fs *fs, uint64_t fh)
{
	int err = 0;
	pthread_mutex_lock(&fs->lock);
	int i = handle_slot(fs, fh, &err);
	if (i >= 0) {
		fs->handles[i].released = true;
		drop_handle(&fs->handles[i]);
	}
	pthread_mutex_unlock(&fs->lock);
	return err;
}
