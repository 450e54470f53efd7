/* fs: a --fs share: virtio-fs with the VMM as its FUSE server. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "fs_table.h"
#include "sandbox.h"

#define INODE_MAX  (1 << 17)
#define HANDLE_MAX 4096
#define FD_RESERVE 256 /* fds kept for everything else in the VMM */

void fs_init(struct fs *fs, const char *tag, const char *dir, bool read_only, enum fs_cache cache)
{
	memset(fs, 0, sizeof(*fs));
	fs->root_fd = fs->proc_fd = fs->irq_fd = -1;
	fs->kick_fd[0] = fs->kick_fd[1] = -1;
	fs->tag = tag;
	fs->dir = dir;
	fs->read_only = read_only;
	fs->cache = cache;
}

int fs_parse_spec(char *spec, struct fs *fs, char *why, size_t whylen)
{
	fs_init(fs, NULL, NULL, false, FS_CACHE_AUTO);
	char *eq = strchr(spec, '=');
	if (!eq || eq == spec)
		return errf(why, whylen, "'%s' is not TAG=HOSTDIR[,ro][,cache=none|auto|always]",
			    spec);
	*eq = '\0';
	fs->tag = spec;
	if (strlen(spec) > VIRTIO_FS_TAG_MAX)
		return errf(why, whylen, "tag '%s' is longer than %d bytes", spec,
			    VIRTIO_FS_TAG_MAX);
	fs->dir = eq + 1;
	char *opt = strchr(fs->dir, ',');
	if (opt)
		*opt++ = '\0';
	if (!*fs->dir)
		return errf(why, whylen, "tag '%s': no HOSTDIR", spec);
	while (opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strcmp(opt, "ro"))
			fs->read_only = true;
		else if (!strcmp(opt, "cache=none"))
			fs->cache = FS_CACHE_NONE;
		else if (!strcmp(opt, "cache=auto"))
			fs->cache = FS_CACHE_AUTO;
		else if (!strcmp(opt, "cache=always"))
			fs->cache = FS_CACHE_ALWAYS;
		else
			return errf(why, whylen, "tag '%s': unknown option '%s'", spec, opt);
		opt = next;
	}
	return 0;
}

/* The most fds a process may have (fs.nr_open), or 0. */
static rlim_t nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long long n = 0;
	if (f) {
		if (fscanf(f, "%llu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return (rlim_t)n;
}

/* The fd budget: RLIMIT_NOFILE raised as far as we may (to fs.nr_open
 * when privileged, as virtiofsd does: a guest holding a tree of tens of
 * thousands of files in its cache holds as many inodes here; else to the
 * hard limit), less a reserve for the rest of the VMM (disks, sockets,
 * eventfds). */
static int fd_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	rlim_t max = nr_open();
	if (rl.rlim_max != RLIM_INFINITY && max > rl.rlim_max) {
		struct rlimit want = {max, max};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	long n = rl.rlim_cur == RLIM_INFINITY ? INODE_MAX * 2L : (long)rl.rlim_cur;
	return n > 2 * FD_RESERVE ? (int)(n - FD_RESERVE) : FD_RESERVE;
}

int fs_open(struct fs *fs, int nshares, int inode_max, int handle_max)
{
	fs->root_fd = open(fs->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0) {
		fprintf(stderr, "vmm: fs %s: %s: %s\n", fs->tag, fs->dir, strerror(errno));
		return -1;
	}
	fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->proc_fd < 0) {
		fprintf(stderr, "vmm: fs %s: /proc/self/fd: %s\n", fs->tag, strerror(errno));
		return -1;
	}
	if (!inode_max || !handle_max) {
		/* Each share gets a slice of the budget: 7/8 for inodes. */
		int budget = fd_budget() / (nshares > 0 ? nshares : 1);
		inode_max = budget * 7 / 8 < INODE_MAX ? budget * 7 / 8 : INODE_MAX;
		handle_max = budget / 8 < HANDLE_MAX ? budget / 8 : HANDLE_MAX;
		if (inode_max < 16 || handle_max < 16) {
			inode_max = inode_max < 16 ? 16 : inode_max;
			handle_max = handle_max < 16 ? 16 : handle_max;
		}
	}
	int err = fs_table_init(fs, inode_max, handle_max);
	if (err) {
		fprintf(stderr, "vmm: fs %s: %s\n", fs->tag, strerror(-err));
		return -1;
	}
	pthread_mutex_init(&fs->qlock, NULL);
	pthread_cond_init(&fs->qcond, NULL);
	return 0;
}

/* Transport lock held (see fs_backend): queue the slot for a worker. */
static void submit(struct fs_backend *be, struct virtio_fs *dev, int slot)
{
	struct fs *fs = container_of(be, struct fs, be);
	(void)dev;
	pthread_mutex_lock(&fs->qlock);
	/* At most VIRTIO_FS_SLOTS are busy at once, so the queue has room. */
	fs->queue[(fs->qhead + fs->qlen) % VIRTIO_FS_SLOTS] = slot;
	fs->qlen++;
	pthread_cond_signal(&fs->qcond);
	pthread_mutex_unlock(&fs->qlock);
}

static uint32_t serve_slot(struct fs_worker *w, int slot)
{
	struct fs *fs = w->fs;
	struct fuse_req *r = &w->req;
	int err = fuse_req_parse(&fs->dev.slot[slot].chain, r);
	if (err == FUSE_REQ_ESHORT || err == FUSE_REQ_ENOOUT || (err && r->no_reply))
		return 0; /* nothing to answer with, or nothing to answer */
	if (err)
		return fuse_req_reply(r, -EINVAL, NULL, 0);
	sandbox_test_hook(SANDBOX_FS);
	return fs_serve(fs, r, w->buf, sizeof(w->buf));
}

static void *worker(void *arg)
{
	struct fs_worker *w = arg;
	struct fs *fs = w->fs;
	int err = sandbox_confine(SANDBOX_FS);
	if (err) {
		/* No way back to the VM from here, and a share without its
		 * workers would hang the guest: end the VMM. */
		fprintf(stderr, "vmm: fs %s: seccomp: %s (--no-seccomp runs without)\n", fs->tag,
			strerror(-err));
		_exit(1);
	}
	for (;;) {
		pthread_mutex_lock(&fs->qlock);
		while (!fs->qlen && !fs->quit)
			pthread_cond_wait(&fs->qcond, &fs->qlock);
		if (fs->quit) {
			pthread_mutex_unlock(&fs->qlock);
			return NULL;
		}
		int slot = fs->queue[fs->qhead];
		fs->qhead = (fs->qhead + 1) % VIRTIO_FS_SLOTS;
		fs->qlen--;
		pthread_mutex_unlock(&fs->qlock);
		virtio_fs_complete(&fs->dev, slot, serve_slot(w, slot));
	}
}

static void raise_irq(void *opaque)
{
	struct fs *fs = opaque;
	eventfd_write(fs->irq_fd, 1);
}

static void arm_kick(struct fs *fs, int q)
{
	evloop_read(fs->loop, &fs->kick_op[q], fs->kick_fd[q], &fs->kick_buf[q],
		    sizeof(fs->kick_buf[q]));
}

static void kicked(struct fs *fs, int q)
{
	virtio_fs_process(&fs->dev, q);
	arm_kick(fs, q);
}

static void kicked0(struct ev_op *op, int res)
{
	(void)res;
	kicked(container_of(op, struct fs, kick_op[0]), 0);
}

static void kicked1(struct ev_op *op, int res)
{
	(void)res;
	kicked(container_of(op, struct fs, kick_op[1]), 1);
}

int fs_attach(struct fs *fs, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
	      uint64_t base, int gsi, char *why, size_t whylen)
{
	/* /proc/self/fd is this process's: an fd on it opened before a fork
	 * (vmm run -d daemonizes after fs_open) names the parent's table,
	 * which is gone once the parent exits. */
	int proc = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0) {
		int e = errno;
		snprintf(why, whylen, "/proc/self/fd: %s", strerror(e));
		return -e;
	}
	if (fs->proc_fd >= 0)
		close(fs->proc_fd);
	fs->proc_fd = proc;
	fs->loop = loop;
	fs->be.submit = submit;
	fs->kick_op[0].complete = kicked0;
	fs->kick_op[1].complete = kicked1;
	virtio_fs_init(&fs->dev, fs->tag, gm, &fs->be, raise_irq, fs);
	int err = 0;
	for (int q = 0; q < VIRTIO_FS_NQUEUES && !err; q++) {
		fs->kick_fd[q] = eventfd(0, EFD_CLOEXEC);
		err = fs->kick_fd[q] < 0 ? -errno
					 : kvm_ioeventfd(kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
							 (uint64_t)q, fs->kick_fd[q]);
	}
	if (!err) {
		fs->irq_fd = eventfd(0, EFD_CLOEXEC);
		err = fs->irq_fd < 0 ? -errno : kvm_irqfd(kvm, gsi, fs->irq_fd);
	}
	if (!err) {
		fs->workers = calloc(FS_WORKERS, sizeof(*fs->workers));
		err = fs->workers ? 0 : -ENOMEM;
	}
	/* Workers take no signals: this runs before the VM blocks its stop
	 * signals, and a SIGTERM left to a worker would kill the VMM
	 * instead of reaching the loop's signalfd. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	for (int i = 0; i < FS_WORKERS && !err; i++) {
		fs->workers[i].fs = fs;
		err = -pthread_create(&fs->workers[i].thread, NULL, worker, &fs->workers[i]);
		fs->workers[i].started = !err;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err)
		snprintf(why, whylen, "fs %s: %s", fs->tag, strerror(-err));
	return err;
}

void fs_start(struct fs *fs)
{
	for (int q = 0; q < VIRTIO_FS_NQUEUES; q++)
		arm_kick(fs, q);
}

void fs_stop(struct fs *fs)
{
	if (!fs->workers)
		return;
	pthread_mutex_lock(&fs->qlock);
	fs->quit = true;
	pthread_cond_broadcast(&fs->qcond);
	pthread_mutex_unlock(&fs->qlock);
	for (int i = 0; i < FS_WORKERS; i++)
		if (fs->workers[i].started)
			pthread_join(fs->workers[i].thread, NULL);
	free(fs->workers);
	fs->workers = NULL;
	virtio_fs_stop(&fs->dev);
}

void fs_close(struct fs *fs)
{
	fs_stop(fs);
	fs_table_free(fs);
	int *fds[] = {&fs->root_fd, &fs->proc_fd, &fs->kick_fd[0], &fs->kick_fd[1], &fs->irq_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
