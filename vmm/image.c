/* image: the image store, docker save and OCI loading, layers with
 * whiteouts, on libarchive. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errf.h"
#include "files.h"
#include "image_meta.h"
#include "rootfs.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* ---- small file helpers ---- */

static json_t *read_json(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		snprintf(err, errlen, "%.*s: %s", 200, path, je.text);
	return j;
}

/* Manifests, indexes and configs are small (docker's largest configs, with
 * a long history, are a few hundred KiB): a bigger one is refused rather
 * than read whole into memory. */
#define MAX_DOC (16 << 20)

/* The whole of a JSON document from an image, for image_meta to parse.
 * Returns it (free it) with its length in *len, or NULL with err. */
static char *read_doc(const char *path, size_t *len, char *err, size_t errlen)
{
	char *buf = file_read_all(path, MAX_DOC, len);
	if (!buf && (errno == EINVAL || errno == EFBIG))
		snprintf(err, errlen, "%.200s: not a regular file of at most %d MiB", path,
			 MAX_DOC >> 20);
	else if (!buf)
		snprintf(err, errlen, "%.200s: %s", path,
			 errno == EIO ? "cannot read it" : strerror(errno));
	return buf;
}

/* Writes j to path through a temporary file and a rename; -1 with err
 * naming the file that could not be written. */
static int write_json(const char *path, const json_t *j, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return errf(err, errlen, "%.200s...: %s", path, strerror(ENAMETOOLONG));
	errno = 0;
	if (json_dump_file(j, tmp, JSON_INDENT(1) | JSON_SORT_KEYS)) {
		int e = errno;
		unlink(tmp);
		return errf(err, errlen, "%s: %s", tmp, e ? strerror(e) : "cannot write");
	}
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return errf(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}

static void to_hex(const uint8_t *d, size_t n, char *hex)
{
	for (size_t i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

/* Registers the decompression filters libarchive runs in this process.
 * support_filter_all would also take lzop, lrzip and grzip, which
 * libarchive hands to an external program found in PATH, fed the
 * archive's bytes: an image is user input, and vmm (and the runtime, as
 * root under dockerd) runs no program a PATH names on it. Such an
 * archive is then an unrecognised one. A filter whose support call warns
 * on a throwaway reader would be external in this build of libarchive,
 * and is left out the same way. */
static void support_filters(struct archive *a)
{
	static int (*const in_process[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,	  archive_read_support_filter_lzma,
		archive_read_support_filter_lzip, archive_read_support_filter_zstd,
		archive_read_support_filter_lz4,  archive_read_support_filter_compress,
	};
	for (size_t i = 0; i < sizeof(in_process) / sizeof(in_process[0]); i++) {
		struct archive *probe = archive_read_new();
		bool internal = probe && in_process[i](probe) == ARCHIVE_OK;
		archive_read_free(probe);
		if (internal)
			in_process[i](a);
	}
}

/* The compression the file at path starts with, when it is one libarchive
 * only decompresses with an external program (see support_filters): a
 * name for the message that refuses it. NULL otherwise. */
static const char *external_compression(const char *path)
{
	static const struct {
		const char *name;
		size_t len;
		const char *magic;
	} ext[] = {
		{"lzop", 9, "\x89LZO\0\r\n\x1a\n"},
		{"lrzip", 4, "LRZI"},
		{"grzip", 12, "GRZipII\0\x02\x04:)"},
	};
	char head[12];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (n >= (ssize_t)ext[i].len && !memcmp(head, ext[i].magic, ext[i].len))
			return ext[i].name;
	return NULL;
}

/* One line for an archive external_compression() names. */
static int refuse_external(const char *label, const char *how, char *err, size_t errlen)
{
	return errf(err, errlen,
		    "%s: compressed with %s, which only an external program decompresses; vmm "
		    "runs none (gzip, zstd, xz, bzip2 and lz4 are read in process)",
		    label, how);
}

int sha256_file(const char *path, bool decompressed, char hex[65])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	struct archive *a = archive_read_new();
	support_filters(a);
	archive_read_support_format_raw(a);
	if (!decompressed)
		archive_read_support_filter_none(a);
	struct archive_entry *e;
	int ok = archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK &&
		 archive_read_next_header(a, &e) == ARCHIVE_OK;
	if (ok && !decompressed) {
		/* The file's own bytes: plain reads. */
		archive_read_free(a);
		a = NULL;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		uint8_t buf[1 << 16];
		ssize_t n;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(&ctx, (size_t)n, buf);
		ok = fd >= 0 && n == 0;
		if (fd >= 0)
			close(fd);
	} else if (ok) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
			sha256_update(&ctx, len, buf);
		ok = r == ARCHIVE_EOF;
	}
	if (a)
		archive_read_free(a);
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_digest(&ctx, sizeof(d), d);
	to_hex(d, sizeof(d), hex);
	return ok ? 0 : -1;
}

/* ---- layers ---- */

/* How much of a layer's name (an entry's path, a whiteout's) a message
 * shows, and the buffer shown() needs: the name, "..." and its length. */
#define NAME_SHOWN 128
#define SHOWN_LEN  (NAME_SHOWN + 40)

/* name as a message shows it: whole when at most NAME_SHOWN bytes, else
 * its first NAME_SHOWN bytes, "..." and its length (in buf). A layer's
 * name may be longer than PATH_MAX, and messages go into 512-byte
 * buffers: shown whole, it would push out the words after it, which say
 * what is wrong. The cut backs off to the start of a UTF-8 sequence,
 * never leaving half a character. */
static const char *shown(const char *name, char buf[SHOWN_LEN])
{
	size_t len = strlen(name), n = NAME_SHOWN;
	if (len <= NAME_SHOWN)
		return name;
	for (int i = 0; i < 3 && ((unsigned char)name[n] & 0xc0) == 0x80; i++)
		n--;
	snprintf(buf, SHOWN_LEN, "%.*s... (%zu bytes)", (int)n, name, len);
	return buf;
}

/* The path of entry e of the tar at tar, cleaned into out
 * (image_clean_path): 1, out holds it; 0, the root itself (nothing to
 * do); -1, refused with err set: a ".." component (as docker refuses such
 * a layer rather than guess what it meant), or too long for out. */
static int entry_path(const char *tar, struct archive_entry *e, char *out, size_t len, char *err,
		      size_t errlen)
{
	const char *p = archive_entry_pathname(e);
	char b[SHOWN_LEN];
	switch (image_clean_path(p, out, len)) {
	case IMAGE_PATH_OK:
		return 1;
	case IMAGE_PATH_ROOT:
		return 0;
	case IMAGE_PATH_DOTDOT:
		return errf(err, errlen, "%s: entry %s leaves the image", tar, shown(p, b));
	case IMAGE_PATH_TOO_LONG:
		return errf(err, errlen, "%s: entry %s has too long a path", tar, shown(p, b));
	}
	return -1;
}

/* Opens dir/rel as a directory with dir as its root: symlinks resolve
 * inside dir, never outside it (openat2 RESOLVE_IN_ROOT). */
static int open_in_root(int root, const char *rel)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
}

/* rm -rf of name in the directory at fd. */
static int remove_at(int fd, const char *name)
{
	struct stat st;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(fd, name, 0);
	int d = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = d >= 0 ? fdopendir(d) : NULL;
	if (!dir) {
		if (d >= 0)
			close(d);
		return -1;
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r |= remove_at(dirfd(dir), e->d_name);
	closedir(dir);
	return r ? -1 : unlinkat(fd, name, AT_REMOVEDIR);
}

/* Empties the directory at fd. */
static int empty_dir(int fd)
{
	int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = d >= 0 ? fdopendir(d) : NULL;
	if (!dir)
		return -1;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r |= remove_at(dirfd(dir), e->d_name);
	closedir(dir);
	return r;
}

/*
 * archive_read_next_header, with the one warning that loses nothing taken
 * as success. Names are bytes, as docker and containerd extract them. vmm
 * never calls setlocale, so libarchive reads in the C locale: it copies
 * gnu and ustar names (and pax ones marked hdrcharset=BINARY) as they are,
 * and converts a pax header's UTF-8 records (path, linkpath, uname, gname)
 * to ASCII. Any other byte fails that; libarchive then keeps the record's
 * bytes, the name we want, and warns "Pathname can't be converted from
 * UTF-8 to current locale" (EILSEQ, which other format errors share: only
 * the text tells this case). A UTF-8 locale would be wrong: libarchive
 * then normalizes names to NFC, changing a decomposed name's bytes. Any
 * other reader warning means the entry is not what the archive says (a
 * malformed pax header, whose records, the name among them, are dropped;
 * a sparse map or an ACL it could not parse) and stops the load. One gap:
 * libarchive keeps one message per call, so such a warning in the same pax
 * header as a name it could not convert goes unseen.
 */
static int next_header(struct archive *a, struct archive_entry **e)
{
	int r = archive_read_next_header(a, e);
	const char *why = archive_error_string(a);
	if (r == ARCHIVE_WARN && archive_errno(a) == EILSEQ && why &&
	    strstr(why, "can't be converted"))
		return ARCHIVE_OK;
	return r;
}

/* Opens the tar at path; messages name it as label. */
static struct archive *open_tar(const char *path, const char *label, char *err, size_t errlen)
{
	const char *how = external_compression(path);
	if (how) {
		refuse_external(label, how, err, errlen);
		return NULL;
	}
	struct archive *a = archive_read_new();
	support_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s: %s", label, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Pass 1: the whiteouts remove what lower layers put in dir. */
static int apply_whiteouts(const char *layer, const char *label, int root, char *err, size_t errlen)
{
	struct archive *a = open_tar(layer, label, err, errlen);
	if (!a)
		return -1;
	struct archive_entry *e;
	int r, rc = 0;
	char path[PATH_MAX], b[SHOWN_LEN];
	while (rc == 0 && (r = next_header(a, &e)) == ARCHIVE_OK) {
		int c = entry_path(label, e, path, sizeof(path), err, errlen);
		if (c < 0) {
			rc = -1;
			break;
		}
		if (c == 0)
			continue;
		char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
			continue;
		if (slash)
			*slash = '\0';
		int dir = open_in_root(root, slash ? path : "");
		if (dir < 0)
			continue; /* nothing below to hide */
		if (!strcmp(base, WH_OPAQUE))
			rc = empty_dir(dir);
		else
			rc = remove_at(dir, base + strlen(WH_PREFIX));
		close(dir);
		if (rc)
			snprintf(err, errlen, "%s: whiteout %s: %s", label, shown(base, b),
				 strerror(errno));
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		snprintf(err, errlen, "%s: %s", label, archive_error_string(a));
		rc = -1;
	}
	archive_read_free(a);
	return rc;
}

/* Files kept without part of their metadata (xattrs the store's file
 * system cannot hold, say: libarchive's ARCHIVE_WARN): counted, the first
 * one's reason kept, and said once at the end, as containerd logs such an
 * entry and goes on. */
struct partial {
	int n;
	char first[256];
};

static void note_partial(struct partial *pt, const char *what, struct archive *w)
{
	if (pt->n++ == 0)
		snprintf(pt->first, sizeof(pt->first), "%s%s%s", what, *what ? ": " : "",
			 archive_error_string(w));
}

/* Extracts every entry but whiteouts into the current directory. */
static int extract_here(const char *path, const char *label, bool skip_whiteouts, char *err,
			size_t errlen)
{
	struct archive *a = open_tar(path, label, err, errlen);
	if (!a)
		return -1;
	struct archive *w = archive_write_disk_new();
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
		    ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_UNLINK |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	/* Owners are the entry's uid and gid numbers, as docker and
	 * containerd extract layers: no user lookup set, libarchive takes
	 * them as they are. The entry's user and group names mean the
	 * image's /etc/passwd, not the host's: the standard lookup would map
	 * a file of "root" numbered 4242 to the host's 0. */
	archive_write_disk_set_options(w, flags);
	struct archive_entry *e;
	int r, rc = 0;
	char clean[PATH_MAX], link[PATH_MAX], b[SHOWN_LEN];
	struct partial pt = {0};
	while (rc == 0 && (r = next_header(a, &e)) == ARCHIVE_OK) {
		int c = entry_path(label, e, clean, sizeof(clean), err, errlen);
		if (c < 0) { /* a layer's whiteout pass saw it first; not an archive's */
			rc = -1;
			break;
		}
		if (c == 0)
			continue; /* the root itself */
		const char *p = clean;
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		if (skip_whiteouts && !strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
			continue;
		archive_entry_set_pathname(e, p);
		const char *hl = archive_entry_hardlink(e);
		if (hl) {
			if (image_clean_path(hl, link, sizeof(link)) != IMAGE_PATH_OK) {
				snprintf(err, errlen, "%s: hard link %s leaves the image", label,
					 shown(p, b));
				rc = -1;
				break;
			}
			archive_entry_set_hardlink(e, link);
		}
		int hr = archive_write_header(w, e);
		if (hr < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s: %s: %s", label, shown(p, b),
				 archive_error_string(w));
			rc = -1;
			break;
		}
		if (hr == ARCHIVE_WARN)
			note_partial(&pt, shown(p, b), w);
		const void *buf;
		size_t len;
		la_int64_t off;
		int d, wr = ARCHIVE_OK;
		while ((d = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK &&
		       (wr = archive_write_data_block(w, buf, len, off)) >= ARCHIVE_OK)
			;
		/* A failed write (the store's file system full) fails the
		 * entry: a file cut short must not pass for the image's. */
		if (wr < ARCHIVE_OK) {
			snprintf(err, errlen, "%s: %s: %s", label, shown(p, b),
				 archive_errno(w) ? strerror(archive_errno(w))
						  : archive_error_string(w));
			rc = -1;
			break;
		}
		int fin = archive_write_finish_entry(w);
		if (fin < ARCHIVE_WARN || d < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s: %s: %s", label, shown(p, b),
				 archive_error_string(d < ARCHIVE_WARN ? a : w));
			rc = -1;
		} else if (fin == ARCHIVE_WARN && hr == ARCHIVE_OK) {
			note_partial(&pt, shown(p, b), w);
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		snprintf(err, errlen, "%s: %s", label, archive_error_string(a));
		rc = -1;
	}
	/* Directories' modes and times are set last, at the close: its
	 * failure is the layer's too (archive_write_free would drop it). */
	int cl = archive_write_close(w);
	if (rc == 0 && cl < ARCHIVE_WARN)
		rc = errf(err, errlen, "%s: %s", label, archive_error_string(w));
	else if (rc == 0 && cl == ARCHIVE_WARN)
		note_partial(&pt, "", w);
	if (rc == 0 && pt.n)
		fprintf(stderr, "vmm: %s: %d %s kept without part of %s metadata (%s%s)\n", label,
			pt.n, pt.n == 1 ? "file" : "files", pt.n == 1 ? "its" : "their",
			pt.n == 1 ? "" : "the first: ", pt.first);
	archive_write_free(w);
	archive_read_free(a);
	return rc;
}

/* Runs extract_here with dir as the current directory. */
static int extract_into(const char *path, const char *label, const char *dir, bool skip_whiteouts,
			char *err, size_t errlen)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (here < 0 || chdir(dir)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		if (here >= 0)
			close(here);
		return -1;
	}
	int rc = extract_here(path, label, skip_whiteouts, err, errlen);
	if (fchdir(here))
		rc = -1;
	close(here);
	return rc;
}

int layer_apply(const char *layer, const char *label, const char *dir, char *err, size_t errlen)
{
	if (!label)
		label = layer;
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	int rc = apply_whiteouts(layer, label, root, err, errlen);
	close(root);
	return rc ? rc : extract_into(layer, label, dir, true, err, errlen);
}

/* ---- the store ---- */

int store_open(struct image_store *s, char *err, size_t errlen)
{
	const char *env = getenv("VMM_STORE"), *home = getenv("HOME");
	if (env && strlen(env) >= sizeof(s->root))
		return errf(err, errlen, "VMM_STORE is longer than %zu bytes", sizeof(s->root) - 1);
	if (env && *env)
		snprintf(s->root, sizeof(s->root), "%s", env);
	else if (geteuid() == 0)
		snprintf(s->root, sizeof(s->root), "/var/lib/vmm");
	else
		snprintf(s->root, sizeof(s->root), "%s/.local/share/vmm", home ? home : ".");
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/images", s->root);
	if (mkdir_p(p))
		return errf(err, errlen, "image store %s: %s", s->root, strerror(errno));
	snprintf(p, sizeof(p), "%s/tmp", s->root);
	mkdir(p, 0700);
	return 0;
}

/* Holds the store's lock while tags change. */
static int lock_store(const struct image_store *s)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/.lock", s->root);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

static json_t *read_tags(const struct image_store *s)
{
	char p[PATH_MAX + 32], err[512];
	snprintf(p, sizeof(p), "%s/repositories.json", s->root);
	if (access(p, F_OK))
		return json_object();
	json_t *j = read_json(p, err, sizeof(err));
	return json_is_object(j) ? j : (json_decref(j), json_object());
}

static int write_tags(const struct image_store *s, const json_t *tags, char *err, size_t errlen)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/repositories.json", s->root);
	return write_json(p, tags, err, errlen);
}

/* "busybox" -> "busybox:latest". */
static void normal_tag(const char *ref, char *out, size_t len)
{
	const char *slash = strrchr(ref, '/');
	bool has_tag = strchr(slash ? slash : ref, ':') != NULL;
	snprintf(out, len, "%s%s", ref, has_tag ? "" : ":latest");
}

/* A blob of an OCI layout, checked against its digest (hex). */
static int oci_blob(const char *dir, const char *hex, char *path, size_t len, char *err,
		    size_t errlen)
{
	char got[IMAGE_HEX];
	snprintf(path, len, "%s/blobs/sha256/%s", dir, hex);
	if (sha256_file(path, false, got) || strcmp(got, hex))
		return errf(err, errlen, "blob sha256:%.12s...: %s", hex,
			    access(path, F_OK) ? "missing" : "digest mismatch");
	return 0;
}

/* Builds images/<id> from a config (the file at config_path, parsed as
 * cfg) and layer files (in order). */
static int install(struct image_store *s, const char *config_path, const struct image_config *cfg,
		   char **layers, int nlayers, bool check_diff_ids, char *id, char *err,
		   size_t errlen)
{
	if (sha256_file(config_path, false, id))
		return errf(err, errlen, "%s: %s", config_path, strerror(errno));
	/* Every layer checked first, even for an image we have: an archive
	 * with a bad layer is refused, whatever is in the store. */
	for (int i = 0; check_diff_ids && i < nlayers; i++) {
		char got[IMAGE_HEX], label[32];
		const char *how = external_compression(layers[i]);
		snprintf(label, sizeof(label), "layer %d", i + 1);
		if (how)
			return refuse_external(label, how, err, errlen);
		if (sha256_file(layers[i], true, got) || strcmp(got, cfg->diff_ids[i]))
			return errf(err, errlen, "layer %d: content does not match its digest",
				    i + 1);
	}
	char final[PATH_MAX + 80], work[PATH_MAX + 80], rootfs[PATH_MAX + 96];
	snprintf(final, sizeof(final), "%s/images/%s", s->root, id);
	if (access(final, F_OK) == 0)
		return 0; /* loaded before: the same config, the same layers */
	snprintf(work, sizeof(work), "%s/tmp/load-XXXXXX", s->root);
	if (!mkdtemp(work))
		return errf(err, errlen, "%s: %s", work, strerror(errno));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", work);
	int rc = mkdir(rootfs, 0755);
	for (int i = 0; rc == 0 && i < nlayers; i++) {
		struct stat st;
		stat(layers[i], &st);
		fprintf(stderr, "vmm: layer %d/%d (%.1f MB)\n", i + 1, nlayers,
			(double)st.st_size / 1e6);
		char label[32]; /* the layer's file is a scratch path: no name to the user */
		snprintf(label, sizeof(label), "layer %d", i + 1);
		rc = layer_apply(layers[i], label, rootfs, err, errlen);
	}
	char cfgpath[PATH_MAX + 96];
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", work);
	if (!rc)
		rc = write_json(cfgpath, cfg->json, err, errlen);
	if (!rc && rename(work, final) && errno != EEXIST && errno != ENOTEMPTY) {
		snprintf(err, errlen, "%s: %s", final, strerror(errno));
		rc = -1;
	}
	rm_rf(work); /* gone after the rename; or a loser of a race, or a failure */
	return rc;
}

static int tag_image(struct image_store *s, const char *tag, const char *id, char *err,
		     size_t errlen)
{
	char t[512];
	normal_tag(tag, t, sizeof(t));
	int lock = lock_store(s);
	json_t *tags = read_tags(s);
	json_object_set_new(tags, t, json_string(id));
	int rc = write_tags(s, tags, err, errlen);
	json_decref(tags);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* An image config at path, parsed; what is wrong names the file. */
static int read_config(const char *path, struct image_config *c, char *err, size_t errlen)
{
	size_t len;
	char why[400];
	char *text = read_doc(path, &len, err, errlen);
	if (!text)
		return -1;
	int rc = image_config_parse(text, len, c, why, sizeof(why));
	free(text);
	if (rc)
		snprintf(err, errlen, "%.200s: %s", path, why);
	return rc;
}

/* An OCI image layout in dir: index -> manifest -> config and layers. */
static int load_oci(struct image_store *s, const char *dir, const char *tag, char *id, char *err,
		    size_t errlen)
{
	char p[PATH_MAX + 64], why[400];
	struct oci_index index = {0};
	struct oci_manifest manifest = {0};
	struct image_config config = {0};
	char **layers = NULL, *text;
	size_t len;
	int rc = -1;
	snprintf(p, sizeof(p), "%s/index.json", dir);
	if (!(text = read_doc(p, &len, err, errlen)))
		return -1;
	rc = oci_index_parse(text, len, &index, why, sizeof(why));
	free(text);
	if (rc)
		return errf(err, errlen, "index.json: %s", why);
	rc = -1;
	char mpath[PATH_MAX + 80], cpath[PATH_MAX + 80];
	if (oci_blob(dir, index.manifest, mpath, sizeof(mpath), err, errlen))
		goto out;
	if (index.nested) {
		snprintf(err, errlen, "multi-platform OCI indexes are not supported yet");
		goto out;
	}
	if (!(text = read_doc(mpath, &len, err, errlen)))
		goto out;
	int bad = oci_manifest_parse(text, len, &manifest, why, sizeof(why));
	free(text);
	if (bad) {
		snprintf(err, errlen, "image manifest sha256:%.12s...: %s", index.manifest, why);
		goto out;
	}
	if (oci_blob(dir, manifest.config, cpath, sizeof(cpath), err, errlen) ||
	    read_config(cpath, &config, err, errlen))
		goto out;
	size_t n = manifest.nlayers;
	layers = calloc(n + 1, sizeof(*layers));
	for (size_t i = 0; layers && i < n; i++) {
		layers[i] = malloc(PATH_MAX + 80);
		if (!layers[i] ||
		    oci_blob(dir, manifest.layers[i], layers[i], PATH_MAX + 80, err, errlen))
			goto out;
	}
	/* The layer blobs were checked against the manifest's (compressed)
	 * digests; diff_ids are not checked again. */
	if (!layers || install(s, cpath, &config, layers, (int)n, false, id, err, errlen))
		goto out;
	rc = tag || index.ref ? tag_image(s, tag ? tag : index.ref, id, err, errlen) : 0;
out:
	for (size_t i = 0; layers && layers[i]; i++)
		free(layers[i]);
	free(layers);
	image_config_free(&config);
	oci_manifest_free(&manifest);
	oci_index_free(&index);
	return rc;
}

/* A `docker save` tree in dir: manifest.json names config and layers. */
static int load_docker(struct image_store *s, const char *dir, const char *tag, char *id, char *err,
		       size_t errlen)
{
	char p[PATH_MAX + 64], why[400];
	struct docker_manifest m;
	struct image_config config = {0};
	size_t len;
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	char *text = read_doc(p, &len, err, errlen);
	if (!text)
		return -1;
	int rc = docker_manifest_parse(text, len, &m, why, sizeof(why));
	free(text);
	if (rc)
		return errf(err, errlen, "manifest.json: %s", why);
	rc = -1;
	char **layers = NULL;
	char cpath[PATH_MAX + 80];
	snprintf(cpath, sizeof(cpath), "%s/%s", dir, m.config);
	if (read_config(cpath, &config, err, errlen))
		goto out;
	size_t n = m.nlayers;
	if (n != config.ndiff_ids) {
		snprintf(err, errlen, "the config's diff_ids do not match the layers");
		goto out;
	}
	layers = calloc(n + 1, sizeof(*layers));
	for (size_t i = 0; layers && i < n; i++) {
		if (!(layers[i] = malloc(PATH_MAX + 80))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		snprintf(layers[i], PATH_MAX + 80, "%s/%s", dir, m.layers[i]);
	}
	if (!layers || install(s, cpath, &config, layers, (int)n, true, id, err, errlen))
		goto out;
	rc = 0;
	if (tag)
		rc = tag_image(s, tag, id, err, errlen);
	for (size_t i = 0; !tag && !rc && i < m.ntags; i++)
		rc = tag_image(s, m.tags[i], id, err, errlen);
out:
	for (size_t i = 0; layers && layers[i]; i++)
		free(layers[i]);
	free(layers);
	image_config_free(&config);
	docker_manifest_free(&m);
	return rc;
}

static bool exists_in(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* Whether the archive at path may hold an image at its top (a docker
 * save's manifest.json, or an OCI archive's index.json and oci-layout),
 * from its headers alone: 1, 0, or -1 with err. So a plain rootfs tar
 * given to `vmm run` is told apart without being unpacked for nothing
 * first. Only a plain tar is scanned: libarchive skips its entries' data
 * by seeking. A compressed one would be decompressed whole to read its
 * headers, and again to unpack it: 1, found out by unpacking. */
static int holds_image(const char *path, char *err, size_t errlen)
{
	struct archive *a = open_tar(path, path, err, errlen);
	if (!a)
		return -1;
	struct archive_entry *e;
	char clean[64];
	bool manifest = false, index = false, layout = false, compressed = false;
	int r;
	while (!manifest && !(index && layout) && !compressed &&
	       (r = next_header(a, &e)) == ARCHIVE_OK) {
		compressed = archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
		const char *name = archive_entry_pathname(e);
		if (!name || image_clean_path(name, clean, sizeof(clean)) != IMAGE_PATH_OK)
			continue;
		manifest |= !strcmp(clean, "manifest.json");
		index |= !strcmp(clean, "index.json");
		layout |= !strcmp(clean, "oci-layout");
	}
	int rc = compressed || manifest || (index && layout) ? 1 : 0;
	if (!rc && r != ARCHIVE_EOF)
		rc = errf(err, errlen, "%s: %s", path, archive_error_string(a));
	archive_read_free(a);
	return rc;
}

int image_load(struct image_store *s, const char *path_in, const char *tag, char *id, char *err,
	       size_t errlen)
{
	/* Absolute: extraction runs with the scratch directory as cwd. */
	char path[PATH_MAX];
	struct stat st;
	if (!realpath(path_in, path) || stat(path, &st))
		return errf(err, errlen, "%s: %s", path_in, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (exists_in(path, "index.json") && exists_in(path, "oci-layout"))
			return load_oci(s, path, tag, id, err, errlen);
		if (exists_in(path, "manifest.json"))
			return load_docker(s, path, tag, id, err, errlen);
		return errf(err, errlen, "%s: not an OCI image layout or a docker save tree", path);
	}
	/* An archive: unpacked into scratch, then read as a tree. */
	int holds = holds_image(path, err, errlen);
	if (holds <= 0) {
		if (holds == 0)
			snprintf(err, errlen, "%s: not a docker save or OCI archive", path);
		return -1;
	}
	char work[PATH_MAX + 32];
	snprintf(work, sizeof(work), "%s/tmp/archive-XXXXXX", s->root);
	if (!mkdtemp(work))
		return errf(err, errlen, "%s: %s", work, strerror(errno));
	int rc = extract_into(path, path, work, false, err, errlen);
	if (rc == 0) {
		if (exists_in(work, "index.json") && exists_in(work, "oci-layout"))
			rc = load_oci(s, work, tag, id, err, errlen);
		else if (exists_in(work, "manifest.json"))
			rc = load_docker(s, work, tag, id, err, errlen);
		else {
			snprintf(err, errlen, "%s: not a docker save or OCI archive", path);
			rc = -1;
		}
	}
	rm_rf(work);
	return rc;
}

/* The id a name, an id or an id prefix stands for. */
static int lookup(struct image_store *s, const char *ref, char *id)
{
	char t[512];
	normal_tag(ref, t, sizeof(t));
	json_t *tags = read_tags(s);
	const char *hit = json_string_value(json_object_get(tags, t));
	int rc = -1;
	if (hit) {
		snprintf(id, 65, "%s", hit);
		rc = 0;
	} else {
		const char *r = strncmp(ref, "sha256:", 7) ? ref : ref + 7;
		size_t n = strlen(r);
		char p[PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/images", s->root);
		DIR *d = n >= 12 && strspn(r, "0123456789abcdef") == n ? opendir(p) : NULL;
		struct dirent *e;
		int found = 0;
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, r, n) && strlen(e->d_name) == 64) {
				memcpy(id, e->d_name, 65); /* 64 digits and the NUL */
				found++;
			}
		if (d)
			closedir(d);
		rc = found == 1 ? 0 : -1;
	}
	json_decref(tags);
	return rc;
}

static int from_store(struct image_store *s, const char *id, struct image *img, char *err,
		      size_t errlen)
{
	char p[PATH_MAX + 96];
	snprintf(img->id, sizeof(img->id), "%s", id);
	snprintf(img->rootfs, sizeof(img->rootfs), "%s/images/%s/rootfs", s->root, id);
	snprintf(p, sizeof(p), "%s/images/%s/config.json", s->root, id);
	json_t *c = read_json(p, err, errlen);
	if (!c)
		return -1;
	img->config = json_incref(json_object_get(c, "config"));
	json_decref(c);
	return 0;
}

int image_resolve(struct image_store *s, const char *ref, struct image *img, char *err,
		  size_t errlen)
{
	memset(img, 0, sizeof(*img));
	char id[65];
	struct stat st;
	if (strchr(ref, '/') || ref[0] == '.' || stat(ref, &st) == 0) {
		if (stat(ref, &st))
			return errf(err, errlen, "%s: %s", ref, strerror(errno));
		if (S_ISDIR(st.st_mode) && !exists_in(ref, "index.json") &&
		    !exists_in(ref, "manifest.json")) {
			snprintf(img->rootfs, sizeof(img->rootfs), "%s", ref); /* a plain rootfs */
			return 0;
		}
		/* An image: loaded (once; the id is the config's digest). */
		char e2[512];
		if (image_load(s, ref, NULL, id, e2, sizeof(e2)) == 0)
			return from_store(s, id, img, err, errlen);
		if (S_ISDIR(st.st_mode) || strstr(e2, "not a docker save") == NULL)
			return errf(err, errlen, "%s", e2);
		/* A plain rootfs tar: unpacked for this run only. */
		char abs[PATH_MAX];
		snprintf(img->scratch, sizeof(img->scratch), "%s/tmp/rootfs-XXXXXX", s->root);
		if (!realpath(ref, abs) || !mkdtemp(img->scratch) ||
		    layer_apply(abs, ref, img->scratch, err, errlen)) {
			if (!err[0])
				snprintf(err, errlen, "%s: %s", img->scratch, strerror(errno));
			image_release(img);
			return -1;
		}
		snprintf(img->rootfs, sizeof(img->rootfs), "%s", img->scratch);
		return 0;
	}
	if (lookup(s, ref, id))
		return errf(err, errlen,
			    "no image '%s' here (vmm images lists them; vmm load adds one)", ref);
	return from_store(s, id, img, err, errlen);
}

int image_disk(struct image_store *s, const struct image *img, char *path, size_t len, char *err,
	       size_t errlen)
{
	snprintf(path, len, "%s/images/%s/rootfs.img", s->root, img->id);
	if (access(path, F_OK) == 0)
		return 0;
	/* Made aside and renamed: a run never sees half an image, and two
	 * runs making it at once make the same one. */
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	if (rootfs_image(img->rootfs, tmp, err, errlen))
		return -1;
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void image_release(struct image *img)
{
	json_decref(img->config);
	img->config = NULL;
	if (img->scratch[0])
		rm_rf(img->scratch);
	img->scratch[0] = '\0';
}

int image_list(struct image_store *s, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	json_t *tags = read_tags(s);
	const char *k;
	json_t *v;
	printf("%-30s %-12s %s\n", "REPOSITORY", "TAG", "IMAGE ID");
	json_object_foreach(tags, k, v)
	{
		const char *colon = strrchr(k, ':');
		int n = colon ? (int)(colon - k) : (int)strlen(k);
		printf("%-30.*s %-12s %.12s\n", n, k, colon ? colon + 1 : "", json_string_value(v));
	}
	json_decref(tags);
	return 0;
}

int image_remove(struct image_store *s, const char *ref, char *err, size_t errlen)
{
	char id[65], t[512];
	if (lookup(s, ref, id))
		return errf(err, errlen, "no image '%s' here", ref);
	normal_tag(ref, t, sizeof(t));
	int lock = lock_store(s);
	json_t *tags = read_tags(s);
	bool by_tag = json_object_get(tags, t) != NULL;
	if (by_tag)
		json_object_del(tags, t);
	const char *k;
	json_t *v;
	void *tmp;
	bool still = false;
	json_object_foreach_safe(tags, tmp, k, v)
	{
		if (strcmp(json_string_value(v), id))
			continue;
		if (by_tag)
			still = true;
		else
			json_object_del(tags, k);
	}
	int rc = write_tags(s, tags, err, errlen);
	json_decref(tags);
	if (!rc && !still) {
		char p[PATH_MAX + 80];
		snprintf(p, sizeof(p), "%s/images/%s", s->root, id);
		if (rm_rf(p))
			rc = errf(err, errlen, "removing %s: %s", ref, strerror(errno));
	}
	if (lock >= 0)
		close(lock);
	if (!rc)
		printf("%s %.12s\n", still ? "Untagged" : "Deleted", id);
	return rc;
}
