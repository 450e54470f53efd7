/*
 * image_meta: the JSON documents that describe a container image, parsed
 * from memory: a `docker save` archive's manifest.json, an OCI layout's
 * index.json and image manifest, and the image config; and the check that
 * a path inside an archive stays inside it. Pure (no files, no digests
 * computed), so it is unit-tested and fuzzed: image.c reads the files and
 * checks each blob against the digest found here.
 *
 * The documents come from whoever made the archive, so they are hostile.
 * Each parser checks every field image.c uses and refuses the document
 * with one error naming the first bad field ("Layers[1]: must be a
 * relative path inside the archive"); the caller prefixes the document's
 * name. Fields image.c does not use are not looked at, as docker ignores
 * them too. Duplicate keys and NUL bytes in strings are refused (jansson's
 * JSON_REJECT_DUPLICATES and its default).
 *
 * Contract for every *_parse: returns 0 with the struct filled (release it
 * with the matching *_free), or -1 with err set and the struct zeroed
 * (freeing it then is harmless).
 */
#ifndef VMM_IMAGE_META_H
#define VMM_IMAGE_META_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define IMAGE_HEX 65 /* a sha256 as 64 lowercase hex digits and a NUL */

/* Longest tag taken from an archive (RepoTags, the OCI ref name). */
#define IMAGE_TAG_MAX 255

/* d is "sha256:" and 64 lowercase hex digits: true, with the digits in
 * hex. Other algorithms are not supported (image ids are sha256). */
bool image_digest(const char *d, char hex[IMAGE_HEX]);

/*
 * A path inside an archive (a layer's entry, docker save's Config and
 * Layers, a hard link's target) made relative and checked: leading "/"
 * and "./" are dropped, and trailing "/". IMAGE_PATH_OK when out holds
 * the cleaned path, which never starts with "/" and has no ".."
 * component (symlinks on the way are the extractor's business: it
 * resolves inside the root). Otherwise the first of the reasons below
 * that applies, in their order, and out holds nothing to use. The length
 * that must fit in len counts the trailing "/": "abc/" needs 5 bytes.
 */
enum image_path {
	IMAGE_PATH_OK = 0,
	IMAGE_PATH_ROOT,     /* empty or "." once cleaned: the root itself */
	IMAGE_PATH_TOO_LONG, /* does not fit: cut short, it would name another file */
	IMAGE_PATH_DOTDOT,   /* a ".." component: it could leave the root */
};

enum image_path image_clean_path(const char *p, char *out, size_t len);

/* A tag as vmm keeps it: 1 to IMAGE_TAG_MAX printable ASCII characters,
 * no spaces (it is a JSON key and a column of `vmm images`). */
bool image_tag_ok(const char *t);

/* manifest.json of a docker save archive: an array of images, of which
 * the first is loaded (docker save of one image writes one). */
struct docker_manifest {
	char *config;  /* Config: its path in the archive, cleaned */
	char **layers; /* Layers: paths, cleaned, bottom first; nlayers */
	size_t nlayers;
	char **tags; /* RepoTags (absent or null: none); ntags */
	size_t ntags;
};

int docker_manifest_parse(const char *text, size_t len, struct docker_manifest *m, char *err,
			  size_t errlen);
void docker_manifest_free(struct docker_manifest *m);

/* index.json of an OCI image layout: its first manifest descriptor. */
struct oci_index {
	char manifest[IMAGE_HEX]; /* manifests[0].digest */
	bool nested;		  /* manifests[0] is an image index (multi-platform) */
	char *ref;		  /* its org.opencontainers.image.ref.name, or NULL */
};

int oci_index_parse(const char *text, size_t len, struct oci_index *x, char *err, size_t errlen);
void oci_index_free(struct oci_index *x);

/* An OCI image manifest: the config's and the layers' digests. */
struct oci_manifest {
	char config[IMAGE_HEX];
	char (*layers)[IMAGE_HEX]; /* bottom first; nlayers (may be 0) */
	size_t nlayers;
};

int oci_manifest_parse(const char *text, size_t len, struct oci_manifest *m, char *err,
		       size_t errlen);
void oci_manifest_free(struct oci_manifest *m);

/* An image config (docker and OCI share the format). */
struct image_config {
	json_t *json;		     /* the whole document, as the store keeps it */
	const json_t *config;	     /* its "config" object (run defaults), or NULL */
	char (*diff_ids)[IMAGE_HEX]; /* rootfs.diff_ids: each layer's uncompressed digest */
	size_t ndiff_ids;
};

int image_config_parse(const char *text, size_t len, struct image_config *c, char *err,
		       size_t errlen);
void image_config_free(struct image_config *c);

#endif
