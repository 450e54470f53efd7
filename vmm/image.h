/*
 * image: container images on the host. A store (VMM_STORE, default
 * /var/lib/vmm as root, else ~/.local/share/vmm) holds each image once,
 * named by its id (the sha256 of its config):
 *
 *   images/<id>/config.json   the image config (Entrypoint, Cmd, Env, ...)
 *   images/<id>/rootfs/       its layers applied in order, whiteouts and
 *                             opaque directories honoured (libarchive)
 *   images/<id>/rootfs.img    the same as an ext4 image, made by the first
 *                             run and shared read-only by every run
 *   repositories.json         {"name:tag": "<id>"}
 *
 * Loading reads a `docker save` tarball or an OCI image layout (a
 * directory, or a tar of one), checks every layer's digest before using
 * it, and builds the rootfs in a scratch directory renamed into place, so
 * a failed load leaves nothing behind. Runs never change an image: they
 * write to an overlay in the guest.
 */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct image_store {
	char root[PATH_MAX / 2]; /* room left for the paths below it */
};

/* What `vmm run` needs from an image. */
struct image {
	char id[65];		/* empty for a plain rootfs */
	char rootfs[PATH_MAX];	/* a directory */
	json_t *config;		/* the config's "config" object, or NULL */
	char scratch[PATH_MAX]; /* a directory to remove after the run, or "" */
};

/* Finds (and makes) the store. Returns 0, or -1 with err. */
int store_open(struct image_store *s, char *err, size_t errlen);

/* Loads the image at path into the store and tags it with its own tags
 * (docker save), or with tag when given. Prints progress on stderr.
 * Writes the id into id (65 bytes). Returns 0, or -1 with err. */
int image_load(struct image_store *s, const char *path, const char *tag, char *id, char *err,
	       size_t errlen);

/* Resolves IMAGE as `vmm run` takes it: a path (an OCI layout directory,
 * a docker save or OCI archive, loaded first; a plain rootfs directory;
 * a plain rootfs tar, unpacked into scratch), else a name[:tag] in the
 * store, else an id or a prefix of one (12 digits at least). Returns 0,
 * or -1 with err. */
int image_resolve(struct image_store *s, const char *ref, struct image *img, char *err,
		  size_t errlen);

/* The image's root file system as an ext4 image for a read-only disk
 * (images/<id>/rootfs.img), made the first time it is asked for: runs
 * share it and write to an overlay in the guest. Returns 0 with its path,
 * or -1 with err. */
int image_disk(struct image_store *s, const struct image *img, char *path, size_t len, char *err,
	       size_t errlen);

/* Frees img's config and removes its scratch directory, if any. */
void image_release(struct image *img);

/* `vmm images`: one line per tag (REPOSITORY TAG ID). */
int image_list(struct image_store *s, char *err, size_t errlen);

/* `vmm rmi`: removes a tag, and the image once no tag names it; an id
 * removes the image and its tags. Returns 0, or -1 with err. */
int image_remove(struct image_store *s, const char *ref, char *err, size_t errlen);

/* Applies one layer (a tar, optionally compressed) onto dir: whiteouts
 * (.wh.NAME) remove what lower layers put there, an opaque marker
 * (.wh..wh..opq) empties its directory first; entries are extracted with
 * owners, modes, times, xattrs and hard links, never outside dir (no
 * absolute paths, no "..", nothing through a symlink). Messages (err, and
 * one line on stderr when files were kept without metadata the store's
 * file system cannot hold, such as xattrs) name the layer as label, or as
 * its path when label is NULL. Returns 0, or -1 with err. */
int layer_apply(const char *layer, const char *label, const char *dir, char *err, size_t errlen);

/* The sha256 of a file, or of its decompressed contents when it is
 * compressed (gzip, zstd, ...), as 64 hex digits. Returns 0 or -1. */
int sha256_file(const char *path, bool decompressed, char hex[65]);

#endif
