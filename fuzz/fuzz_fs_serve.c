/* libFuzzer target: the virtio-fs FUSE server's operations (vmm/fs*.c) on
 * sequences of requests from a hostile guest, served on a scratch share
 * the way a worker serves them (fuse_req_parse, then fs_serve, or EINVAL
 * for a request that does not parse).
 *
 * Fixture, remade for every input (per process: a mkdtemp BASE):
 *   BASE/root/       the share: a ("hello"), b ("other"), dir/ holding c,
 *                    fifo (held open O_RDWR here, so no open of it can
 *                    block), abs -> BASE/outside/secret, up -> ../outside,
 *                    absdir -> BASE/outside, dir/upup -> ../../outside/secret
 *   BASE/outside/    the sentinel: secret ("SECRET"), never to be touched
 * A new struct fs (fs_open, 32 inodes, 8 handles) serves each input and is
 * closed after it, so nothing leaks from one input to the next.
 *
 * Input: byte 0 = the share (bit 0 read-only, bits 1-2 cache none / auto /
 * always); then up to 64 requests, each
 *   op    an opcode from optab (op % its size; some unknown ones too);
 *   ctl   bits 0-1 the writable buffers (16 + a byte; 4096; two buffers,
 *         200 + 7992; a byte % 24, often too small for a reply), bit 2 the
 *         arguments cut to (a byte) % (their length + 1), bit 3 a header
 *         len one too many, bit 4 the readable part split in two at a
 *         byte, bits 5-6 the caller (uid = gid: 0, 1000, 65534, 4 raw
 *         bytes), bit 7 raw values where a field is otherwise tamed;
 *   node  a node id: a byte < 0xe0 picks one of the ids the server gave
 *         in this input (the root first; the byte itself when there is
 *         none yet), else 8 raw bytes follow;
 *   then the opcode's struct, filled from the input (missing bytes read
 *   as zeros), with its file handles picked like node ids (from the OPEN,
 *   OPENDIR and CREATE answers, or raw), its node ids likewise, and names
 *   picked by a byte from a small alphabet (the fixture's names, ".",
 *   "..", "", names with '/', NAME_MAX and NAME_MAX + 1 bytes, raw bytes),
 *   symlink targets and xattr names from their own; WRITE's and
 *   SETXATTR's payload is (a byte, or two with ctl bit 7) input bytes.
 *   MKNOD's file type is tamed to regular, socket, /dev/null's char
 *   device, block 0:0 (or the directory and symlink types, refused): a
 *   FIFO made by the guest would block the first open of it, hanging the
 *   fuzzer instead of failing a check (the fixture's fifo stands in).
 *
 * Checks, abort() on a violation: every reply well formed (its header's
 * len is what was returned, inside the writable buffers, nothing written
 * past it, unique echoed, error 0 or a negative errno, an error alone;
 * EINVAL for what did not parse; nothing at all for FORGET); the inode and
 * handle tables after each request are those before plus exactly what the
 * replies gave out (LOOKUP-like entries, READDIRPLUS entries, handles)
 * less what FORGET and RELEASE took back, nothing left pinned, no inode
 * kept without a reference; LOOKUP of "." and ".." gives the node itself
 * (".." only of the root); inotify sees nothing at all in BASE/outside
 * nor beside the root, and no FIFO or device node opened (the fixture's
 * fifo and each one the guest got a node id for, watched by inode: they
 * stay inert on the host); after the
 * input the sentinel is unchanged and no fd is left open. Files are
 * capped at 1 MiB (RLIMIT_FSIZE) so FALLOCATE and friends stay cheap.
 *
 * Seeds (fuzz/seeds/fuzz_fs_serve/): a few valid request sequences in
 * this format, written by fuzz/fs_serve_seeds.py (python3
 * fuzz/fs_serve_seeds.py fuzz/seeds/fuzz_fs_serve), plus crashes found,
 * kept as they were. FUZZ_FS_TRACE=1 prints each request and its answer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sanitizer/asan_interface.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_REQ	   64
#define INODE_MAX  32
#define HANDLE_MAX 8
#define MAX_IDS	   16
#define SCRATCH	   65536 /* a worker's buffer (struct fs_worker) */
#define ARGS_MAX   (FUSE_REQ_IN_MAX + 64)
#define FILL	   0xee /* the writable buffers before the server writes */

static char base[64], root[96], outside[96], secret[128];
static struct fs fs;
static int ino_fd = -1, wd_base, wd_outside, fifo_fd = -1;
/* Watches on the share's FIFOs and device nodes themselves (by inode, not
 * by name: names move, and an open of an unlinked file is reported under
 * its old name): an IN_OPEN on any of them is a failure. */
static int special_wd[INODE_MAX + 1], nspecial;
static int fds_before;
static bool trace; /* FUZZ_FS_TRACE set: each request and its answer on stderr */

/* ---- the input ---- */

static const uint8_t *in, *in_end;

static uint8_t u8(void)
{
	return in < in_end ? *in++ : 0;
}

static void take(void *dst, size_t n)
{
	size_t k = (size_t)(in_end - in) < n ? (size_t)(in_end - in) : n;
	memcpy(dst, in, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in += k;
}

/* Ids the server gave out in this input; the guest's to reuse. */
static uint64_t node_ids[MAX_IDS], fh_ids[MAX_IDS];
static int nnode, nfh;

static void remember(uint64_t *ids, int *n, uint64_t id)
{
	for (int i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	if (*n < MAX_IDS)
		ids[(*n)++] = id;
	else
		ids[1 + id % (MAX_IDS - 1)] = id; /* keep the root at 0 */
}

static uint64_t pick(const uint64_t *ids, int n)
{
	uint8_t b = u8();
	uint64_t raw = b;
	if (b >= 0xe0)
		take(&raw, sizeof(raw));
	else if (n > 0)
		raw = ids[b % n];
	return raw; /* with none given yet, the byte itself */
}

/* ---- names ---- */

static char long_ok[NAME_MAX + 1], long_bad[NAME_MAX + 2], link_ok[PATH_MAX],
	link_bad[PATH_MAX + 1], xlong[XATTR_NAME_MAX + 1];

/* Appends a NUL-terminated string to args: from table (n entries, the
 * last a raw one) by an input byte. */
static size_t put_str(uint8_t *args, size_t at, const char *const *table, size_t n)
{
	uint8_t b = u8() % n;
	const char *s = table[b];
	char raw[17];
	if (!s) {
		size_t len = u8() % 16;
		take(raw, len);
		raw[len] = '\0';
		s = raw;
	}
	size_t len = strlen(s) + 1;
	if (at + len > ARGS_MAX)
		return at;
	memcpy(args + at, s, len);
	return at + len;
}

static const char *names[] = {"a",	"b",	 "dir",	   "c",	      "fifo", "abs",  "up",
			      "absdir", "upup",	 "secret", "outside", ".",    "..",   "",
			      "a/b",	long_ok, long_bad, "new",     "/",    "root", NULL};
static const char *targets[] = {"a", "dir",   "..",	"../outside",
				"/", secret,  outside,	"/proc/self/fd/0",
				"",  link_ok, link_bad, NULL};
static const char *xnames[] = {"user.a",
			       "user.b",
			       "trusted.t",
			       "security.capability",
			       "system.posix_acl_access",
			       "user.",
			       "",
			       "user./../x",
			       xlong,
			       NULL};
#define N(t) (sizeof(t) / sizeof((t)[0]))

static size_t name(uint8_t *a, size_t at)
{
	return put_str(a, at, names, N(names));
}

/* ---- the fixture ---- */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_fs_serve: %s: %s\n", what, strerror(errno));
	abort();
}

static void write_file(int dirfd, const char *n, const char *text)
{
	int fd = openat(dirfd, n, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(n);
	close(fd);
}

/* rm -rf of name beneath dirfd, whatever modes the guest left. */
static void rm_tree(int dirfd, const char *n)
{
	if (unlinkat(dirfd, n, 0) == 0 || errno == ENOENT)
		return;
	fchmodat(dirfd, n, 0700, 0);
	int fd = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(n);
	DIR *d = fdopendir(fd);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rm_tree(fd, e->d_name);
	closedir(d);
	if (unlinkat(dirfd, n, AT_REMOVEDIR) < 0)
		die(n);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void make_fixture(void)
{
	int b = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b < 0)
		die(base);
	rm_tree(b, "root");
	if (mkdirat(b, "root", 0755) < 0)
		die("root");
	close(b);
	int r = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		die(root);
	write_file(r, "a", "hello");
	write_file(r, "b", "other");
	if (mkdirat(r, "dir", 0755) < 0 || mkfifoat(r, "fifo", 0644) < 0 ||
	    symlinkat(secret, r, "abs") < 0 || symlinkat("../outside", r, "up") < 0 ||
	    symlinkat(outside, r, "absdir") < 0)
		die("fixture");
	int d = openat(r, "dir", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		die("dir");
	close(r);
	write_file(d, "c", "inner");
	if (symlinkat("../../outside/secret", d, "upup") < 0)
		die("upup");
	char p[160];
	snprintf(p, sizeof(p), "%s/fifo", root);
	fifo_fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fifo_fd < 0)
		die("fifo");
	close(d);
	nspecial = 0;
	special_wd[nspecial++] = inotify_add_watch(ino_fd, p, IN_OPEN);
	if (special_wd[0] < 0)
		die("inotify_add_watch");
}

/* Watches the special files the guest has in the table now (MKNOD's,
 * RENAME_WHITEOUT's once looked up). */
static void watch_specials(void)
{
	for (int i = 1; i < fs.inodes_used; i++) { /* past it: never used, free */
		struct stat st;
		int fd = fs.inodes[i].fd;
		if (fd < 0 || fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
			continue;
		char p[32];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		int wd = inotify_add_watch(ino_fd, p, IN_OPEN);
		if (wd < 0)
			die("inotify_add_watch");
		bool known = false;
		for (int k = 0; k < nspecial; k++)
			known |= special_wd[k] == wd;
		if (!known && nspecial <= INODE_MAX)
			special_wd[nspecial++] = wd;
	}
}

/* What inotify saw since the last call: nothing in the sentinel, nothing
 * beside the root, no special file in the share opened. With check
 * false, only drains the queue. */
static void events(bool check)
{
	static char buf[65536] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = read(ino_fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const void *)p;
			p += sizeof(*e) + e->len;
			if (!check || (e->mask & IN_IGNORED))
				continue;
			if (e->mask & IN_Q_OVERFLOW) {
				fprintf(stderr, "inotify queue overflow\n");
				abort();
			}
			const char *nm = e->len ? e->name : "";
			if (e->wd == wd_outside ||
			    (e->wd == wd_base && (strcmp(nm, "root") ||
						  (e->mask & (IN_CREATE | IN_DELETE | IN_MOVE))))) {
				fprintf(stderr, "outside the share: event %#x on %s\n", e->mask,
					*nm ? nm : "(the directory)");
				abort();
			}
			for (int k = 0; k < nspecial; k++)
				if (e->wd == special_wd[k] && (e->mask & IN_OPEN)) {
					fprintf(stderr,
						"a FIFO or device node opened on the host\n");
					abort();
				}
		}
	}
}

/* The sentinel is as it was and nothing new sits beside the root. */
static void check_outside(void)
{
	const char *want[] = {"outside", "root"}, *want_out[] = {"secret"};
	const char *dirs[] = {base, outside};
	const char *const *w[] = {want, want_out};
	int nw[] = {2, 1};
	for (int k = 0; k < 2; k++) {
		DIR *d = opendir(dirs[k]);
		if (!d)
			die(dirs[k]);
		int seen = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			bool ok = false;
			for (int i = 0; i < nw[k]; i++)
				ok |= !strcmp(e->d_name, w[k][i]);
			if (!ok) {
				fprintf(stderr, "new beside the share: %s/%s\n", dirs[k],
					e->d_name);
				abort();
			}
			seen++;
		}
		closedir(d);
		if (seen != nw[k]) {
			fprintf(stderr, "gone from %s\n", dirs[k]);
			abort();
		}
	}
	struct stat st;
	char text[16] = {0};
	int fd = open(secret, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || read(fd, text, sizeof(text) - 1) < 0)
		die(secret);
	close(fd);
	if (strcmp(text, "SECRET") || (st.st_mode & 07777) != 0600 || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		fprintf(stderr, "the sentinel changed\n");
		abort();
	}
}

/* At exit (the run's end; a crash leaves the fixture to look at). */
static void remove_base(void)
{
	rm_tree(AT_FDCWD, base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	trace = getenv("FUZZ_FS_TRACE");
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/fuzz_fs_serve.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		die("mkdtemp");
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	if (mkdir(root, 0755) < 0 || mkdir(outside, 0755) < 0)
		die("mkdir");
	int fd = open(secret, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "SECRET", 6) != 6)
		die(secret);
	close(fd);
	atexit(remove_base);
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino_fd < 0)
		die("inotify_init1");
	wd_base = inotify_add_watch(ino_fd, base, IN_ALL_EVENTS & ~(IN_CLOSE_NOWRITE));
	wd_outside = inotify_add_watch(ino_fd, outside, IN_ALL_EVENTS);
	if (wd_base < 0 || wd_outside < 0)
		die("inotify_add_watch");
	/* Files stay small: FALLOCATE, truncates and copies of raw sizes. */
	struct rlimit fsize = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_FSIZE, &fsize) < 0)
		die("RLIMIT_FSIZE");
	memset(long_ok, 'n', NAME_MAX);
	memset(long_bad, 'n', NAME_MAX + 1);
	memset(link_ok, 'l', PATH_MAX - 1);
	memset(link_bad, 'l', PATH_MAX);
	memcpy(xlong, "user.", 5);
	memset(xlong + 5, 'x', XATTR_NAME_MAX - 5);
	return 0;
}

/* ---- the tables: before and after each request ---- */

struct snap {
	bool live[INODE_MAX];
	uint32_t gen[INODE_MAX];
	uint64_t nlookup[INODE_MAX];
	bool hlive[HANDLE_MAX];
	uint32_t hgen[HANDLE_MAX];
};

static void snapshot(struct snap *s)
{
	for (int i = 0; i < INODE_MAX; i++) {
		const struct fs_inode *ino = &fs.inodes[i];
		if (ino->busy) {
			fprintf(stderr, "inode %d left pinned\n", i);
			abort();
		}
		/* Slots past the high-water mark are free, never written. */
		s->live[i] = i < fs.inodes_used && ino->fd >= 0;
		s->gen[i] = ino->gen;
		s->nlookup[i] = ino->nlookup;
		if (i > 0 && s->live[i] && !ino->nlookup) {
			fprintf(stderr, "inode %d kept without a reference\n", i);
			abort();
		}
	}
	for (int i = 0; i < HANDLE_MAX; i++) {
		const struct fs_handle *h = &fs.handles[i];
		bool used = i < fs.handles_used; /* past it: free, never written */
		if (h->busy || (used && h->fd >= 0 && h->released)) {
			fprintf(stderr, "handle %d left pinned\n", i);
			abort();
		}
		s->hlive[i] = used && h->fd >= 0;
		s->hgen[i] = h->gen;
	}
}

/* What the replies say changed. */
struct expect {
	uint64_t add[64]; /* node ids given out (one reference each) */
	int nadd;
	int wild_add; /* references given in a reply cut short */
	uint64_t forget_id[8], forget_n[8];
	int nforget;
	uint64_t new_fh;
	bool has_new_fh, wild_fh;
	uint64_t released;
	bool has_released;
};

static int inode_of(uint64_t id, const struct snap *s)
{
	uint64_t slot = (id & 0xffffffffULL) - 1;
	if ((id & 0xffffffffULL) == 0 || slot >= INODE_MAX || !s->live[slot] ||
	    s->gen[slot] != (uint32_t)(id >> 32))
		return -1;
	return (int)slot;
}

static int handle_of(uint64_t fh, const struct snap *s)
{
	uint64_t slot = fh & 0xffffffffULL;
	if (slot >= HANDLE_MAX || !s->hlive[slot] || s->hgen[slot] != (uint32_t)(fh >> 32))
		return -1;
	return (int)slot;
}

static void table_fail(const char *what, int slot)
{
	fprintf(stderr, "tables: %s (slot %d)\n", what, slot);
	abort();
}

static void check_tables(const struct snap *b, const struct snap *a, struct expect *x)
{
	uint64_t want[INODE_MAX];
	for (int i = 0; i < INODE_MAX; i++)
		want[i] = b->live[i] ? b->nlookup[i] : 0;
	for (int k = 0; k < x->nforget; k++) {
		int i = inode_of(x->forget_id[k], b);
		if (i >= 0)
			want[i] -= x->forget_n[k] < want[i] ? x->forget_n[k] : want[i];
	}
	for (int k = 0; k < x->nadd; k++) {
		int i = inode_of(x->add[k], a);
		if (i < 0)
			table_fail("a node id given out is not in the table", -1);
		if (b->live[i] && b->gen[i] != a->gen[i])
			table_fail("a live inode changed generation", i);
		want[i]++;
	}
	if (!a->live[0])
		table_fail("the root is gone", 0);
	for (int i = 0; i < INODE_MAX; i++) {
		if (b->live[i] && a->live[i] && b->gen[i] != a->gen[i])
			table_fail("a live inode changed generation", i);
		uint64_t have = a->live[i] ? a->nlookup[i] : 0;
		if (have == want[i] + 1 && x->wild_add > 0)
			x->wild_add--;
		else if (have != want[i])
			table_fail(a->live[i] ? "references differ from the replies"
					      : "an inode the guest holds was freed",
				   i);
	}
	if (x->wild_add)
		table_fail("a reference went missing", -1);
	for (int i = 0; i < HANDLE_MAX; i++) {
		uint64_t fh = (uint64_t)b->hgen[i] << 32 | (uint64_t)i;
		bool w = b->hlive[i] && !(x->has_released && x->released == fh);
		bool fresh = a->hlive[i] && (!b->hlive[i] || a->hgen[i] != b->hgen[i]);
		if (a->hlive[i] && fresh) {
			uint64_t got = (uint64_t)a->hgen[i] << 32 | (uint64_t)i;
			if (x->has_new_fh && x->new_fh == got)
				x->has_new_fh = false;
			else if (x->wild_fh)
				x->wild_fh = false;
			else
				table_fail("a handle nobody was given", i);
			if (w)
				table_fail("a live handle was replaced", i);
		} else if (a->hlive[i] != w) {
			table_fail("handles differ from the replies", i);
		}
	}
	if (x->has_new_fh || x->wild_fh)
		table_fail("a handle given out is not in the table", -1);
}

/* ---- one request ---- */

static const uint32_t optab[] = {
	FUSE_LOOKUP,
	FUSE_LOOKUP,
	FUSE_FORGET,
	FUSE_GETATTR,
	FUSE_SETATTR,
	FUSE_READLINK,
	FUSE_SYMLINK,
	FUSE_MKNOD,
	FUSE_MKDIR,
	FUSE_UNLINK,
	FUSE_RMDIR,
	FUSE_RENAME,
	FUSE_LINK,
	FUSE_OPEN,
	FUSE_READ,
	FUSE_WRITE,
	FUSE_STATFS,
	FUSE_RELEASE,
	FUSE_FSYNC,
	FUSE_SETXATTR,
	FUSE_GETXATTR,
	FUSE_LISTXATTR,
	FUSE_REMOVEXATTR,
	FUSE_FLUSH,
	FUSE_INIT,
	FUSE_OPENDIR,
	FUSE_READDIR,
	FUSE_RELEASEDIR,
	FUSE_FSYNCDIR,
	FUSE_ACCESS,
	FUSE_CREATE,
	FUSE_CREATE,
	FUSE_INTERRUPT,
	FUSE_DESTROY,
	FUSE_BATCH_FORGET,
	FUSE_FALLOCATE,
	FUSE_READDIRPLUS,
	FUSE_RENAME2,
	FUSE_LSEEK,
	FUSE_COPY_FILE_RANGE,
	FUSE_SYNCFS,
	FUSE_GETLK,
	FUSE_IOCTL,
	FUSE_SETUPMAPPING,
	FUSE_TMPFILE,
	CUSE_INIT,
	0,
	0xffffffff,
};

/* Builds opcode op's arguments from the input into a; returns their
 * length. The fields the tables in x need are noted in *r_fh etc. */
struct built {
	uint64_t fh; /* RELEASE's */
	uint64_t forget_id[8], forget_n[8];
	int nforget;
};

static size_t build_args(uint32_t op, uint8_t ctl, uint64_t nodeid, uint8_t *a, struct built *bt)
{
	bool raw = ctl & 0x80;
	size_t at = 0;
#define FIXED(type, var)                                                                           \
	type var;                                                                                  \
	take(&var, sizeof(var))
#define PUT(var)                                                                                   \
	do {                                                                                       \
		memcpy(a, &var, sizeof(var));                                                      \
		at = sizeof(var);                                                                  \
	} while (0)
	switch (op) {
	case FUSE_READLINK:
	case FUSE_STATFS:
	case FUSE_DESTROY:
		return 0;
	case FUSE_LOOKUP:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		return name(a, 0);
	case FUSE_FORGET: {
		struct fuse_forget_in f = {.nlookup = raw ? 0 : u8() % 4};
		if (raw)
			take(&f.nlookup, sizeof(f.nlookup));
		bt->forget_id[0] = nodeid;
		bt->forget_n[0] = f.nlookup;
		bt->nforget = 1;
		PUT(f);
		return at;
	}
	case FUSE_BATCH_FORGET: {
		uint8_t c = u8();
		struct fuse_batch_forget_in f = {.count = raw ? c : c % 8u};
		PUT(f);
		for (int i = 0; i < c % 8; i++) {
			struct fuse_forget_one one = {.nodeid = pick(node_ids, nnode),
						      .nlookup = u8() % 4};
			memcpy(a + at, &one, sizeof(one));
			at += sizeof(one);
			bt->forget_id[i] = one.nodeid;
			bt->forget_n[i] = one.nlookup;
		}
		bt->nforget = c % 8;
		return at;
	}
	case FUSE_GETATTR: {
		FIXED(struct fuse_getattr_in, g);
		g.fh = pick(fh_ids, nfh);
		PUT(g);
		return at;
	}
	case FUSE_SETATTR: {
		FIXED(struct fuse_setattr_in, s);
		s.fh = pick(fh_ids, nfh);
		PUT(s);
		return at;
	}
	case FUSE_SYMLINK:
		at = name(a, 0);
		return put_str(a, at, targets, N(targets));
	case FUSE_MKNOD: {
		static const mode_t types[] = {0,	S_IFREG, S_IFSOCK, S_IFCHR,
					       S_IFDIR, S_IFLNK, S_IFBLK,  S_IFREG};
		FIXED(struct fuse_mknod_in, m);
		m.mode = (m.mode & 07777) | types[(m.mode >> 12) & 7];
		m.rdev = S_ISCHR(m.mode) ? makedev(1, 3) : 0;
		PUT(m);
		return name(a, at);
	}
	case FUSE_MKDIR: {
		FIXED(struct fuse_mkdir_in, m);
		PUT(m);
		return name(a, at);
	}
	case FUSE_RENAME: {
		struct fuse_rename_in r = {.newdir = pick(node_ids, nnode)};
		PUT(r);
		at = name(a, at);
		return name(a, at);
	}
	case FUSE_RENAME2: {
		struct fuse_rename2_in r = {.newdir = pick(node_ids, nnode)};
		uint8_t f = u8();
		r.flags = f & 7;
		if (raw)
			take(&r.flags, sizeof(r.flags));
		PUT(r);
		at = name(a, at);
		return name(a, at);
	}
	case FUSE_LINK: {
		struct fuse_link_in l = {.oldnodeid = pick(node_ids, nnode)};
		PUT(l);
		return name(a, at);
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		FIXED(struct fuse_open_in, o);
		PUT(o);
		return at;
	}
	case FUSE_CREATE: {
		FIXED(struct fuse_create_in, c);
		PUT(c);
		return name(a, at);
	}
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: {
		FIXED(struct fuse_read_in, r);
		r.fh = pick(fh_ids, nfh);
		if (!raw)
			r.size %= 16384;
		PUT(r);
		return at;
	}
	case FUSE_WRITE: {
		FIXED(struct fuse_write_in, w);
		w.fh = pick(fh_ids, nfh);
		uint32_t len = raw ? (uint32_t)u8() << 8 | u8() : u8();
		if (!(ctl & 4))
			w.size = len;
		PUT(w);
		take(a + at, len);
		return at + len;
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR: {
		FIXED(struct fuse_release_in, r);
		r.fh = bt->fh = pick(fh_ids, nfh);
		PUT(r);
		return at;
	}
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR: {
		FIXED(struct fuse_fsync_in, f);
		f.fh = pick(fh_ids, nfh);
		PUT(f);
		return at;
	}
	case FUSE_FLUSH: {
		FIXED(struct fuse_flush_in, f);
		f.fh = pick(fh_ids, nfh);
		PUT(f);
		return at;
	}
	case FUSE_SETXATTR: {
		struct fuse_setxattr_in x;
		take(&x, FUSE_COMPAT_SETXATTR_IN_SIZE);
		uint32_t len = raw ? (uint32_t)u8() << 8 | u8() : u8();
		if (!(ctl & 4))
			x.size = len;
		memcpy(a, &x, FUSE_COMPAT_SETXATTR_IN_SIZE);
		at = put_str(a, FUSE_COMPAT_SETXATTR_IN_SIZE, xnames, N(xnames));
		take(a + at, len);
		return at + len;
	}
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR: {
		FIXED(struct fuse_getxattr_in, g);
		if (!raw)
			g.size %= 1024;
		PUT(g);
		return op == FUSE_GETXATTR ? put_str(a, at, xnames, N(xnames)) : at;
	}
	case FUSE_REMOVEXATTR:
		return put_str(a, 0, xnames, N(xnames));
	case FUSE_INIT: {
		FIXED(struct fuse_init_in, i);
		if (!raw)
			i.major = 7;
		PUT(i);
		return at;
	}
	case FUSE_ACCESS: {
		FIXED(struct fuse_access_in, x);
		PUT(x);
		return at;
	}
	case FUSE_INTERRUPT: {
		FIXED(struct fuse_interrupt_in, x);
		PUT(x);
		return at;
	}
	case FUSE_FALLOCATE: {
		FIXED(struct fuse_fallocate_in, f);
		f.fh = pick(fh_ids, nfh);
		PUT(f);
		return at;
	}
	case FUSE_LSEEK: {
		FIXED(struct fuse_lseek_in, l);
		l.fh = pick(fh_ids, nfh);
		if (!raw)
			l.whence %= 5;
		PUT(l);
		return at;
	}
	case FUSE_COPY_FILE_RANGE: {
		FIXED(struct fuse_copy_file_range_in, c);
		c.fh_in = pick(fh_ids, nfh);
		c.nodeid_out = pick(node_ids, nnode);
		c.fh_out = pick(fh_ids, nfh);
		PUT(c);
		return at;
	}
	case FUSE_SYNCFS: {
		FIXED(struct fuse_syncfs_in, s);
		PUT(s);
		return at;
	}
	default: /* unknown or unserved: some raw bytes */
		at = u8() % 64;
		take(a, at);
		return at;
	}
#undef FIXED
#undef PUT
}

static uint8_t *rbuf, *wbuf[2], *flat, *scratch;
static struct virtq_chain chain;
static struct fuse_req req;

static bool untouched(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

static void reply_fail(uint32_t op, const char *what)
{
	fprintf(stderr, "reply to opcode %u: %s\n", op, what);
	abort();
}

/* One request from the input; false when the input has ended. */
static bool one_request(uint64_t unique)
{
	if (in >= in_end)
		return false;
	static uint8_t args[ARGS_MAX];
	uint32_t op = optab[u8() % N(optab)];
	uint8_t ctl = u8();
	uint64_t nodeid = pick(node_ids, nnode);
	struct built bt = {0};
	size_t arglen = build_args(op, ctl, nodeid, args, &bt);
	if (ctl & 4)
		arglen = u8() % (arglen + 1);
	uint32_t uid;
	switch ((ctl >> 5) & 3) {
	case 0:
		uid = 0;
		break;
	case 1:
		uid = 1000;
		break;
	case 2:
		uid = 65534;
		break;
	default:
		take(&uid, sizeof(uid));
	}
	struct fuse_in_header h = {.len = (uint32_t)(sizeof(h) + arglen + !!(ctl & 8)),
				   .opcode = op,
				   .unique = unique,
				   .nodeid = nodeid,
				   .uid = uid,
				   .gid = uid,
				   .pid = 42};
	size_t rlen = sizeof(h) + arglen;
	memcpy(rbuf, &h, sizeof(h));
	memcpy(rbuf + sizeof(h), args, arglen);

	/* The chain: readable part in one or two buffers, then the writable. */
	memset(&chain, 0, sizeof(chain));
	size_t split = (ctl & 16) ? u8() % (rlen + 1) : rlen;
	uint32_t wlen[2] = {0, 0};
	int nw = 1;
	switch (ctl & 3) {
	case 0:
		wlen[0] = 16 + u8();
		break;
	case 1:
		wlen[0] = 4096;
		break;
	case 2:
		wlen[0] = 200, wlen[1] = 7992, nw = 2;
		break;
	default:
		wlen[0] = u8() % 24;
	}
	/* Each buffer a heap block of exactly its length (ASan's redzones). */
	uint8_t *r0 = malloc(split ? split : 1), *r1 = malloc(rlen - split ? rlen - split : 1);
	memcpy(r0, rbuf, split);
	memcpy(r1, rbuf + split, rlen - split);
	int n = 0;
	chain.buf[n++] = (struct virtq_buf){r0, (uint32_t)split, false};
	if (rlen - split)
		chain.buf[n++] = (struct virtq_buf){r1, (uint32_t)(rlen - split), false};
	chain.nread = n;
	chain.read_len = rlen;
	for (int i = 0; i < nw; i++) {
		wbuf[i] = malloc(wlen[i] ? wlen[i] : 1);
		memset(wbuf[i], FILL, wlen[i]);
		chain.buf[n++] = (struct virtq_buf){wbuf[i], wlen[i], true};
		chain.write_len += wlen[i];
	}
	chain.n = n;

	struct snap before, after;
	snapshot(&before);
	/* As serve_slot in vmm/fs.c. */
	int perr = fuse_req_parse(&chain, &req);
	uint32_t got;
	if (perr == FUSE_REQ_ESHORT || perr == FUSE_REQ_ENOOUT || (perr && req.no_reply))
		got = 0;
	else if (perr)
		got = fuse_req_reply(&req, -EINVAL, NULL, 0);
	else {
		/* The server reads nothing past the arguments it was given. */
		ASAN_POISON_MEMORY_REGION(req.in + req.arglen, sizeof(req.in) - req.arglen);
		got = fs_serve(&fs, &req, scratch, SCRATCH);
		ASAN_UNPOISON_MEMORY_REGION(req.in, sizeof(req.in));
	}
	snapshot(&after);

	/* The reply, flattened. */
	uint32_t total = wlen[0] + wlen[1];
	memcpy(flat, wbuf[0], wlen[0]);
	if (nw == 2)
		memcpy(flat + wlen[0], wbuf[1], wlen[1]);
	struct fuse_out_header o = {0};
	bool silent = op == FUSE_FORGET || op == FUSE_BATCH_FORGET || perr == FUSE_REQ_ESHORT ||
		      total < sizeof(o) || (op == FUSE_INTERRUPT && !perr);
	if (got == 0) {
		if (!silent)
			reply_fail(op, "no reply");
		if (!untouched(flat, total))
			reply_fail(op, "no reply, but the buffers were written");
	} else {
		if (silent)
			reply_fail(op, "a reply to what gets none");
		if (got < sizeof(o) || got > total)
			reply_fail(op, "length outside the buffers");
		memcpy(&o, flat, sizeof(o));
		if (o.len != got || o.unique != unique)
			reply_fail(op, "header disagrees");
		if (o.error > 0 || o.error < -133 || (o.error && got != sizeof(o)))
			reply_fail(op, "bad error");
		if (perr && o.error != -EINVAL)
			reply_fail(op, "an unparsed request not answered EINVAL");
		if (!untouched(flat + got, total - got))
			reply_fail(op, "written past its length");
	}

	if (trace)
		fprintf(stderr, "op %u node %#llx arglen %zu parse %d: %u bytes, error %d\n", op,
			(unsigned long long)nodeid, arglen, perr, got, got ? o.error : 0);
	events(true);
	watch_specials();

	/* What the reply gave out and took back. */
	struct expect x = {0};
	bool ok = got >= sizeof(o) && o.error == 0 && !perr;
	const uint8_t *pay = flat + sizeof(o);
	uint32_t plen = got >= sizeof(o) ? got - (uint32_t)sizeof(o) : 0;
	struct fuse_entry_out e;
	if (!perr && (op == FUSE_FORGET || op == FUSE_BATCH_FORGET)) {
		x.nforget = bt.nforget;
		memcpy(x.forget_id, bt.forget_id, sizeof(x.forget_id));
		memcpy(x.forget_n, bt.forget_n, sizeof(x.forget_n));
	}
	bool entry_op = op == FUSE_LOOKUP || op == FUSE_MKNOD || op == FUSE_MKDIR ||
			op == FUSE_SYMLINK || op == FUSE_LINK || op == FUSE_CREATE;
	if (ok && entry_op) {
		if (plen >= sizeof(e)) {
			memcpy(&e, pay, sizeof(e));
			x.add[x.nadd++] = e.nodeid;
			remember(node_ids, &nnode, e.nodeid);
			if (op == FUSE_LOOKUP &&
			    (!strcmp(req.name, ".") || !strcmp(req.name, "..")) &&
			    (e.nodeid != nodeid ||
			     (!strcmp(req.name, "..") && nodeid != FUSE_ROOT_ID)))
				reply_fail(op, "\".\" or \"..\" is not the node itself");
		} else {
			x.wild_add = 1;
		}
	}
	if (ok && (op == FUSE_OPEN || op == FUSE_OPENDIR || op == FUSE_CREATE)) {
		size_t off = op == FUSE_CREATE ? sizeof(e) : 0;
		struct fuse_open_out oo;
		if (plen >= off + sizeof(oo)) {
			memcpy(&oo, pay + off, sizeof(oo));
			x.new_fh = oo.fh;
			x.has_new_fh = true;
			remember(fh_ids, &nfh, oo.fh);
		} else {
			x.wild_fh = true;
		}
	}
	if (ok && (op == FUSE_RELEASE || op == FUSE_RELEASEDIR)) {
		if (handle_of(bt.fh, &before) < 0)
			reply_fail(op, "released a handle not open");
		x.released = bt.fh;
		x.has_released = true;
	} else if (!perr && got && (op == FUSE_RELEASE || op == FUSE_RELEASEDIR) &&
		   handle_of(bt.fh, &before) >= 0 && inode_of(nodeid, &before) >= 0) {
		reply_fail(op, "refused to release an open handle");
	}
	if (ok && (op == FUSE_READDIR || op == FUSE_READDIRPLUS)) {
		bool plus = op == FUSE_READDIRPLUS;
		size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
		for (uint32_t p = 0; p < plen;) {
			struct fuse_dirent d;
			if (p + hdr > plen)
				reply_fail(op, "an entry cut short");
			if (plus)
				memcpy(&e, pay + p, sizeof(e));
			memcpy(&d, pay + p + (plus ? sizeof(e) : 0), sizeof(d));
			size_t len = FUSE_DIRENT_ALIGN(hdr + d.namelen);
			if (!d.namelen || d.namelen > NAME_MAX || p + len > plen ||
			    memchr(pay + p + hdr, '/', d.namelen) ||
			    memchr(pay + p + hdr, 0, d.namelen))
				reply_fail(op, "a malformed entry");
			if (plus && e.nodeid) {
				if (x.nadd == N(x.add))
					reply_fail(op, "more entries than fit");
				x.add[x.nadd++] = e.nodeid;
				remember(node_ids, &nnode, e.nodeid);
			}
			p += (uint32_t)len;
		}
	}
	check_tables(&before, &after, &x);

	free(r0);
	free(r1);
	for (int i = 0; i < nw; i++)
		free(wbuf[i]);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!scratch) {
		/* Here, not in LLVMFuzzerInitialize: libFuzzer installs its
		 * own SIGXFSZ handler after that (a write past the cap must
		 * fail with EFBIG, not end the run). */
		signal(SIGXFSZ, SIG_IGN);
		rbuf = malloc(sizeof(struct fuse_in_header) + ARGS_MAX);
		flat = malloc(8192);
		scratch = malloc(SCRATCH);
	}
	if (size < 1)
		return 0;
	in = data + 1;
	in_end = data + size;
	make_fixture();
	fds_before = count_fds();
	static const enum fs_cache caches[] = {FS_CACHE_NONE, FS_CACHE_AUTO, FS_CACHE_ALWAYS,
					       FS_CACHE_AUTO};
	fs_init(&fs, "fuzz", root, data[0] & 1, caches[(data[0] >> 1) & 3]);
	if (fs_open(&fs, 1, INODE_MAX, HANDLE_MAX) < 0)
		abort();
	node_ids[0] = FUSE_ROOT_ID;
	nnode = 1;
	nfh = 0;
	events(false); /* the fixture's own making */
	for (int i = 0; i < MAX_REQ && one_request(0x1000 + (uint64_t)i); i++)
		;
	fs_close(&fs);
	events(true);
	close(fifo_fd);
	if (count_fds() != fds_before - 1) {
		fprintf(stderr, "fds left open: %d, were %d\n", count_fds(), fds_before - 1);
		abort();
	}
	check_outside();
	return 0;
}
