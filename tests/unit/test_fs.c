/* Unit tests for the virtio-fs FUSE server (vmm/fs.c, fs_ops.c,
 * fs_table.c) on a scratch directory: requests built in plain memory,
 * parsed by fuse_req_parse and answered by fs_serve, no VM. The escape
 * attempts that need a raw FUSE request (forged node ids and handles,
 * `..` of the root, lookups through symlinks) are here. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check_main.h"
#include "fs.h"

static struct fs fs;
static char root[64];
static char outside[96];
static struct virtq_chain chain;
static struct fuse_req req;
static uint8_t inbuf[8192], outbuf[8192], scratch[65536];
static uint32_t caller_uid; /* the header's uid and gid */

/* One request: opcode on nodeid with args; returns the reply's error and
 * leaves the payload in outbuf + 16. */
static int call(uint32_t opcode, uint64_t nodeid, const void *args, uint32_t arglen)
{
	struct fuse_in_header h = {.len = (uint32_t)sizeof(h) + arglen,
				   .opcode = opcode,
				   .unique = 9,
				   .nodeid = nodeid,
				   .uid = caller_uid,
				   .gid = caller_uid};
	memcpy(inbuf, &h, sizeof(h));
	if (arglen)
		memcpy(inbuf + sizeof(h), args, arglen);
	memset(outbuf, 0xee, sizeof(outbuf));
	chain = (struct virtq_chain){
		.n = 2, .nread = 1, .read_len = h.len, .write_len = sizeof(outbuf)};
	chain.buf[0] = (struct virtq_buf){inbuf, h.len, false};
	chain.buf[1] = (struct virtq_buf){outbuf, sizeof(outbuf), true};
	ck_assert_int_eq(fuse_req_parse(&chain, &req), 0);
	uint32_t n = fs_serve(&fs, &req, scratch, sizeof(scratch));
	if (req.no_reply)
		return 0;
	struct fuse_out_header o;
	ck_assert_uint_ge(n, sizeof(o));
	memcpy(&o, outbuf, sizeof(o));
	ck_assert_uint_eq(o.len, n);
	ck_assert_uint_eq(o.unique, 9);
	return o.error;
}

static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	int err = call(FUSE_LOOKUP, parent, name, (uint32_t)strlen(name) + 1);
	if (!err)
		memcpy(e, outbuf + 16, sizeof(*e));
	return err;
}

/* OPEN or OPENDIR (opcode) of nodeid with flags, which must succeed: the
 * handle. */
static uint64_t open_handle(uint32_t opcode, uint64_t nodeid, uint32_t flags)
{
	struct fuse_open_in o = {.flags = flags};
	ck_assert_int_eq(call(opcode, nodeid, &o, sizeof(o)), 0);
	struct fuse_open_out oo;
	memcpy(&oo, outbuf + 16, sizeof(oo));
	return oo.fh;
}

static void mkfile(const char *name, const char *text)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", root, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup_share(bool ro, int inode_max)
{
	strcpy(root, "/tmp/test_fs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(outside, sizeof(outside), "%s.secret", root);
	FILE *f = fopen(outside, "w");
	fputs("SECRET", f);
	fclose(f);
	mkfile("a", "hello");
	mkfile("b", "other");
	char p[160];
	snprintf(p, sizeof(p), "%s/abs", root);
	ck_assert_int_eq(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/up", root);
	ck_assert_int_eq(symlink("..", p), 0);
	snprintf(p, sizeof(p), "%s/dir", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	char spec[128];
	snprintf(spec, sizeof(spec), "t=%s%s", root, ro ? ",ro" : "");
	static char specbuf[128];
	strcpy(specbuf, spec);
	char why[128];
	ck_assert_int_eq(fs_parse_spec(specbuf, &fs, why, sizeof(why)), 0);
	ck_assert_int_eq(fs_open(&fs, 1, inode_max, 8), 0);
}

static void setup(void)
{
	setup_share(false, 64);
}

static void teardown(void)
{
	fs_close(&fs);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(init_negotiates)
{
	struct fuse_init_in in = {.major = 7,
				  .minor = 36,
				  .max_readahead = 65536,
				  .flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS |
					   FUSE_POSIX_LOCKS | FUSE_MAX_PAGES};
	ck_assert_int_eq(call(FUSE_INIT, 0, &in, sizeof(in)), 0);
	struct fuse_init_out out;
	memcpy(&out, outbuf + 16, sizeof(out));
	ck_assert_uint_eq(out.major, 7);
	ck_assert_uint_eq(out.minor, 36);
	/* Only what the kernel offered, and no POSIX locks (not served). */
	ck_assert_uint_eq(out.flags, FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES);
	ck_assert_uint_ge(out.max_write, 65536);
}
END_TEST

START_TEST(lookup_getattr_and_dedup)
{
	struct fuse_entry_out e, e2;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	ck_assert_uint_eq(e.attr.size, 5);
	ck_assert(S_ISREG(e.attr.mode));
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e2), 0);
	ck_assert_uint_eq(e.nodeid, e2.nodeid);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "nothere", &e2), -ENOENT);
	struct fuse_getattr_in g = {0};
	ck_assert_int_eq(call(FUSE_GETATTR, e.nodeid, &g, sizeof(g)), 0);
	struct fuse_attr_out ao;
	memcpy(&ao, outbuf + 16, sizeof(ao));
	ck_assert_uint_eq(ao.attr.ino, e.attr.ino);
}
END_TEST

START_TEST(dotdot_of_root_is_root)
{
	struct fuse_entry_out e, r;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "..", &e), 0);
	ck_assert_uint_eq(e.nodeid, FUSE_ROOT_ID);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, ".", &r), 0);
	ck_assert_uint_eq(r.nodeid, FUSE_ROOT_ID);
	struct fuse_entry_out d;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &d), 0);
	/* No way up from below either. */
	ck_assert_int_ne(lookup(d.nodeid, "..", &e), 0);
}
END_TEST

START_TEST(symlinks_not_followed_on_host)
{
	struct fuse_entry_out e, x;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "abs", &e), 0);
	ck_assert(S_ISLNK(e.attr.mode));
	ck_assert_int_eq(call(FUSE_READLINK, e.nodeid, NULL, 0), 0);
	ck_assert_int_eq(memcmp(outbuf + 16, outside, strlen(outside)), 0);
	/* Opening the symlink's node does not reach the target. */
	struct fuse_open_in o = {.flags = O_RDONLY};
	ck_assert_int_ne(call(FUSE_OPEN, e.nodeid, &o, sizeof(o)), 0);
	struct fuse_getxattr_in gx = {.size = 64};
	char gxa[sizeof(gx) + 16];
	memcpy(gxa, &gx, sizeof(gx));
	memcpy(gxa + sizeof(gx), "user.x", 7);
	ck_assert_int_ne(call(FUSE_GETXATTR, e.nodeid, gxa, sizeof(gx) + 7), 0);
	/* A lookup below a symlink to a directory is not a lookup in it. */
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "up", &e), 0);
	ck_assert(S_ISLNK(e.attr.mode));
	char name[96];
	snprintf(name, sizeof(name), "%s", strrchr(outside, '/') + 1);
	ck_assert_int_ne(lookup(e.nodeid, name, &x), 0);
}
END_TEST

START_TEST(forged_node_ids_refused)
{
	struct fuse_getattr_in g = {0};
	/* Never given out: out of range, unused slot, wrong generation. */
	ck_assert_int_eq(call(FUSE_GETATTR, 0, &g, sizeof(g)), -EBADF);
	ck_assert_int_eq(call(FUSE_GETATTR, 1000000, &g, sizeof(g)), -EBADF);
	ck_assert_int_eq(call(FUSE_GETATTR, 7, &g, sizeof(g)), -ESTALE);
	ck_assert_int_eq(call(FUSE_GETATTR, (5ULL << 32) | 1, &g, sizeof(g)), -ESTALE);
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	ck_assert_int_eq(call(FUSE_GETATTR, e.nodeid ^ (1ULL << 32), &g, sizeof(g)), -ESTALE);
	/* Forgotten (twice looked up above? no: once here): stale after. */
	struct fuse_forget_in f = {.nlookup = 1};
	ck_assert_int_eq(call(FUSE_FORGET, e.nodeid, &f, sizeof(f)), 0);
	ck_assert_int_eq(call(FUSE_GETATTR, e.nodeid, &g, sizeof(g)), -ESTALE);
	/* The slot reused for another file gets a new id. */
	struct fuse_entry_out e2;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "b", &e2), 0);
	ck_assert_uint_ne(e2.nodeid, e.nodeid);
	ck_assert_int_eq(call(FUSE_GETATTR, e.nodeid, &g, sizeof(g)), -ESTALE);
	/* LINK from a forged node, RENAME into a forged directory. */
	uint8_t la[sizeof(struct fuse_link_in) + 8];
	struct fuse_link_in li = {.oldnodeid = 0x4242};
	memcpy(la, &li, sizeof(li));
	memcpy(la + sizeof(li), "lnk", 4);
	ck_assert_int_ne(call(FUSE_LINK, FUSE_ROOT_ID, la, sizeof(li) + 4), 0);
	uint8_t ra[sizeof(struct fuse_rename_in) + 8];
	struct fuse_rename_in ri = {.newdir = 0x4343};
	memcpy(ra, &ri, sizeof(ri));
	memcpy(ra + sizeof(ri), "b\0c", 4);
	ck_assert_int_ne(call(FUSE_RENAME, FUSE_ROOT_ID, ra, sizeof(ri) + 4), 0);
	char p[160];
	snprintf(p, sizeof(p), "%s/b", root);
	ck_assert_int_eq(access(p, F_OK), 0);
	/* A forged file handle. */
	struct fuse_read_in rd = {.fh = 3, .size = 10};
	ck_assert_int_eq(call(FUSE_READ, FUSE_ROOT_ID, &rd, sizeof(rd)), -EBADF);
}
END_TEST

START_TEST(read_write_readdir)
{
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	uint64_t fh = open_handle(FUSE_OPEN, e.nodeid, O_RDWR);
	uint8_t wa[sizeof(struct fuse_write_in) + 6];
	struct fuse_write_in w = {.fh = fh, .offset = 5, .size = 6};
	memcpy(wa, &w, sizeof(w));
	memcpy(wa + sizeof(w), " world", 6);
	ck_assert_int_eq(call(FUSE_WRITE, e.nodeid, wa, sizeof(wa)), 0);
	struct fuse_read_in r = {.fh = fh, .offset = 0, .size = 100};
	ck_assert_int_eq(call(FUSE_READ, e.nodeid, &r, sizeof(r)), 0);
	ck_assert_int_eq(memcmp(outbuf + 16, "hello world", 11), 0);
	struct fuse_out_header h;
	memcpy(&h, outbuf, sizeof(h));
	ck_assert_uint_eq(h.len, 16 + 11);
	struct fuse_release_in rel = {.fh = fh};
	ck_assert_int_eq(call(FUSE_RELEASE, e.nodeid, &rel, sizeof(rel)), 0);
	ck_assert_int_eq(call(FUSE_READ, e.nodeid, &r, sizeof(r)), -EBADF);

	fh = open_handle(FUSE_OPENDIR, FUSE_ROOT_ID, O_RDWR);
	int names = 0;
	uint64_t off = 0;
	for (int round = 0; round < 20; round++) {
		/* A small buffer: the listing continues across calls. */
		struct fuse_read_in rd = {.fh = fh, .offset = off, .size = 64};
		ck_assert_int_eq(call(FUSE_READDIR, FUSE_ROOT_ID, &rd, sizeof(rd)), 0);
		memcpy(&h, outbuf, sizeof(h));
		if (h.len == 16)
			break;
		for (uint32_t p = 16; p < h.len;) {
			struct fuse_dirent d;
			memcpy(&d, outbuf + p, sizeof(d));
			names++;
			off = d.off;
			p += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + d.namelen);
		}
	}
	ck_assert_int_eq(names, 7); /* . .. a b abs up dir */
}
END_TEST

/* A handle goes by its id alone: RELEASE after its node was forgotten (a
 * guest out of turn) still closes its fd; it used to fail ESTALE and keep
 * the fd until the share closed. */
START_TEST(release_after_forget_closes)
{
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	uint64_t fh = open_handle(FUSE_OPEN, e.nodeid, O_RDONLY);
	struct fuse_forget_in f = {.nlookup = 1};
	ck_assert_int_eq(call(FUSE_FORGET, e.nodeid, &f, sizeof(f)), 0);
	struct fuse_release_in rel = {.fh = fh};
	ck_assert_int_eq(call(FUSE_RELEASE, e.nodeid, &rel, sizeof(rel)), 0);
	ck_assert_int_eq(fs.handles[fh & 0xffffffff].fd, -1);
	struct fuse_read_in r = {.fh = fh, .size = 10};
	ck_assert_int_eq(call(FUSE_READ, FUSE_ROOT_ID, &r, sizeof(r)), -EBADF);
}
END_TEST

/* READDIRPLUS looks a directory handle's entries up under the request's
 * node: a handle of "dir" with the root's node id is refused, not listed
 * as if "dir"'s names were the root's. */
START_TEST(readdirplus_on_its_own_node_only)
{
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &e), 0);
	struct fuse_read_in rd = {.fh = open_handle(FUSE_OPENDIR, e.nodeid, 0), .size = 4096};
	ck_assert_int_eq(call(FUSE_READDIRPLUS, FUSE_ROOT_ID, &rd, sizeof(rd)), -EBADF);
	ck_assert_int_eq(call(FUSE_READDIRPLUS, e.nodeid, &rd, sizeof(rd)), 0);
	/* A plain READDIR looks nothing up: any node will do. */
	rd.offset = 0;
	ck_assert_int_eq(call(FUSE_READDIR, FUSE_ROOT_ID, &rd, sizeof(rd)), 0);
}
END_TEST

/* CREATE gives a new file to the caller, and leaves an existing one's
 * owner alone. */
START_TEST(create_owner)
{
	if (geteuid() != 0)
		return; /* chown needs root */
	caller_uid = 1234;
	uint8_t ca[sizeof(struct fuse_create_in) + 8] = {0};
	struct fuse_create_in ci = {.flags = O_WRONLY | O_CREAT, .mode = 0644};
	memcpy(ca, &ci, sizeof(ci));
	memcpy(ca + sizeof(ci), "a", 2);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 2), 0);
	memcpy(ca + sizeof(ci), "c", 2);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 2), 0);
	ci.flags |= O_EXCL;
	memcpy(ca, &ci, sizeof(ci));
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 2), -EEXIST);
	caller_uid = 0;
	struct stat st;
	char p[160];
	snprintf(p, sizeof(p), "%s/a", root);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_int_eq(st.st_size, 5);
	snprintf(p, sizeof(p), "%s/c", root);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_uint_eq(st.st_gid, 1234);
}
END_TEST

/* Only regular files and directories are opened on the host (fs.h): a
 * FIFO or a device node the guest made stays inert. CREATE of an existing
 * name opened whatever was there (a device node: a handle on a host
 * device; a FIFO: a worker blocked); SETATTR's truncate opened the node
 * to ftruncate it. Found by fuzz_fs_serve. */
START_TEST(special_files_never_opened)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/p", root);
	ck_assert_int_eq(mkfifo(p, 0666), 0);
	/* Held open both ways here, so a wrong open would not block. */
	int held = open(p, O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(held, 0);
	uint8_t ca[sizeof(struct fuse_create_in) + 8] = {0};
	struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = 0644};
	memcpy(ca, &ci, sizeof(ci));
	memcpy(ca + sizeof(ci), "p", 2);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 2), -EACCES);
	memcpy(ca + sizeof(ci), "dir", 4);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 4), -EISDIR);
	/* A regular file is still opened as it is, and not truncated. */
	memcpy(ca + sizeof(ci), "a", 2);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 2), 0);
	struct stat st;
	snprintf(p, sizeof(p), "%s/a", root);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	close(held);
	/* Nobody holds the FIFO now: an open for writing would fail ENXIO. */
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "p", &e), 0);
	struct fuse_setattr_in sa = {.valid = FATTR_SIZE, .size = 0};
	ck_assert_int_eq(call(FUSE_SETATTR, e.nodeid, &sa, sizeof(sa)), -EINVAL);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &e), 0);
	ck_assert_int_eq(call(FUSE_SETATTR, e.nodeid, &sa, sizeof(sa)), -EISDIR);
	if (geteuid() != 0)
		return; /* mknod of a device needs root */
	/* /dev/null's numbers: harmless if it were opened. */
	uint8_t ma[sizeof(struct fuse_mknod_in) + 8] = {0};
	struct fuse_mknod_in mi = {.mode = S_IFCHR | 0666, .rdev = makedev(1, 3)};
	memcpy(ma, &mi, sizeof(mi));
	memcpy(ma + sizeof(mi), "nul", 4);
	ck_assert_int_eq(call(FUSE_MKNOD, FUSE_ROOT_ID, ma, sizeof(mi) + 4), 0);
	memcpy(ca + sizeof(ci), "nul", 4);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 4), -EACCES);
}
END_TEST

START_TEST(unknown_opcode_enosys)
{
	ck_assert_int_eq(call(9999, FUSE_ROOT_ID, NULL, 0), -ENOSYS);
	ck_assert_int_eq(call(FUSE_GETLK, FUSE_ROOT_ID, NULL, 0), -ENOSYS);
}
END_TEST

START_TEST(inode_table_bounded)
{
	fs_close(&fs);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
	setup_share(false, 3); /* the root and two more */
	struct fuse_entry_out e1, e2, e3;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e1), 0);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "b", &e2), 0);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &e3), -ENFILE);
	struct fuse_forget_in f = {.nlookup = 1};
	ck_assert_int_eq(call(FUSE_FORGET, e1.nodeid, &f, sizeof(f)), 0);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &e3), 0);
}
END_TEST

/* Pages of [p, p + len) in memory. */
static size_t resident_pages(const void *p, size_t len)
{
	static unsigned char vec[4096];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = (uintptr_t)p & ~(page - 1);
	len += (uintptr_t)p - from;
	size_t n = (len + page - 1) / page, in = 0;
	ck_assert_uint_le(n, sizeof(vec));
	ck_assert_int_eq(mincore((void *)from, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	return in;
}

/* The tables are sized for a whole fd budget (128 Ki inodes, 6 MiB) but
 * cost only what is used: a share with three files looked up holds one
 * page of its inode table and a few of its hash, not all of them (they
 * were all written at open before). */
START_TEST(tables_cost_what_is_used)
{
	fs_close(&fs);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
	setup_share(false, 1 << 17);
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "b", &e), 0);
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "dir", &e), 0);
	size_t inodes = sizeof(*fs.inodes) * (size_t)fs.ninodes;
	ck_assert_uint_ge(inodes, 6u << 20);
	ck_assert_uint_le(resident_pages(fs.inodes, inodes), 1);
	ck_assert_uint_le(resident_pages(fs.hash, sizeof(int) * (size_t)fs.nhash), 4);
	/* And a forged id past the slots ever used is stale, as any free one. */
	ck_assert_int_eq(call(FUSE_GETATTR, ((uint64_t)0 << 32) | 5000,
			      &(struct fuse_getattr_in){0}, sizeof(struct fuse_getattr_in)),
			 -ESTALE);
}
END_TEST

START_TEST(read_only_refuses_changes)
{
	fs_close(&fs);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
	setup_share(true, 64);
	uint8_t ca[sizeof(struct fuse_create_in) + 8] = {0};
	struct fuse_create_in ci = {.flags = O_WRONLY | O_CREAT, .mode = 0644};
	memcpy(ca, &ci, sizeof(ci));
	memcpy(ca + sizeof(ci), "new", 4);
	ck_assert_int_eq(call(FUSE_CREATE, FUSE_ROOT_ID, ca, sizeof(ci) + 4), -EROFS);
	uint8_t ma[sizeof(struct fuse_mkdir_in) + 8] = {0};
	memcpy(ma + sizeof(struct fuse_mkdir_in), "nd", 3);
	ck_assert_int_eq(call(FUSE_MKDIR, FUSE_ROOT_ID, ma, sizeof(struct fuse_mkdir_in) + 3),
			 -EROFS);
	ck_assert_int_eq(call(FUSE_UNLINK, FUSE_ROOT_ID, "a", 2), -EROFS);
	struct fuse_entry_out e;
	ck_assert_int_eq(lookup(FUSE_ROOT_ID, "a", &e), 0);
	struct fuse_open_in o = {.flags = O_WRONLY};
	ck_assert_int_eq(call(FUSE_OPEN, e.nodeid, &o, sizeof(o)), -EROFS);
	o.flags = O_RDONLY;
	ck_assert_int_eq(call(FUSE_OPEN, e.nodeid, &o, sizeof(o)), 0);
	struct fuse_setattr_in sa = {.valid = FATTR_SIZE, .size = 0};
	ck_assert_int_eq(call(FUSE_SETATTR, e.nodeid, &sa, sizeof(sa)), -EROFS);
	char p[160];
	snprintf(p, sizeof(p), "%s/new", root);
	ck_assert_int_ne(access(p, F_OK), 0);
	struct stat st;
	snprintf(p, sizeof(p), "%s/a", root);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fs");
	TCase *t = tcase_create("server");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, init_negotiates);
	tcase_add_test(t, lookup_getattr_and_dedup);
	tcase_add_test(t, dotdot_of_root_is_root);
	tcase_add_test(t, symlinks_not_followed_on_host);
	tcase_add_test(t, forged_node_ids_refused);
	tcase_add_test(t, read_write_readdir);
	tcase_add_test(t, release_after_forget_closes);
	tcase_add_test(t, readdirplus_on_its_own_node_only);
	tcase_add_test(t, create_owner);
	tcase_add_test(t, special_files_never_opened);
	tcase_add_test(t, unknown_opcode_enosys);
	tcase_add_test(t, inode_table_bounded);
	tcase_add_test(t, tables_cost_what_is_used);
	tcase_add_test(t, read_only_refuses_changes);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
