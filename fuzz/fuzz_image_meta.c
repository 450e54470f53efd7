/* libFuzzer target: the JSON documents of an image a user loads (`docker
 * save` manifest.json, OCI index.json and image manifest, image config),
 * and the check that keeps a layer's entry paths inside the image. Every
 * parser gets the same bytes (a seed of one kind mutates into the
 * others); the path check gets them as a C string. Checks what image.c
 * relies on for an accepted document: paths that stay inside the archive,
 * digests of 64 hex digits, tags it can store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool hex64(const char *h)
{
	return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

/* Said independently of image_clean_path: relative, not the root, and
 * no ".." component. */
static bool inside(const char *p)
{
	if (!p[0] || p[0] == '/' || !strcmp(p, "."))
		return false;
	for (const char *c = p; c; c = strchr(c, '/')) {
		c += *c == '/';
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return false;
	}
	return true;
}

static void check_path(const char *p)
{
	char out[4096], again[4096], small[16];
	enum image_path why = image_clean_path(p, out, sizeof(out));
	/* A refusal's reason, as far as it can be said independently: the
	 * root is only "/" and "." and fits any buffer, ".." needs two dots,
	 * a path too long is long. */
	if (why == IMAGE_PATH_ROOT &&
	    (strspn(p, "/.") != strlen(p) || image_clean_path(p, small, 0) != IMAGE_PATH_ROOT))
		abort();
	if ((why == IMAGE_PATH_DOTDOT && !strstr(p, "..")) ||
	    (why == IMAGE_PATH_TOO_LONG && strlen(p) < sizeof(out)))
		abort();
	if (why != IMAGE_PATH_OK)
		return;
	if (!inside(out) || strlen(out) > strlen(p) || !strstr(p, out))
		abort();
	/* Clean is clean: a second pass changes nothing. */
	if (image_clean_path(out, again, sizeof(again)) != IMAGE_PATH_OK || strcmp(again, out))
		abort();
	/* A small buffer gives the same path or refuses it as too long (only
	 * a path that did not fit may be refused); it never cuts it short. */
	enum image_path s = image_clean_path(p, small, sizeof(small));
	if (s == IMAGE_PATH_OK ? strcmp(small, out) != 0
			       : s != IMAGE_PATH_TOO_LONG || strlen(p) < sizeof(small))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[256];

	struct docker_manifest dm;
	err[0] = '\0';
	if (docker_manifest_parse(text, size, &dm, err, sizeof(err)) == 0) {
		if (!dm.config || !inside(dm.config) || (dm.nlayers && !dm.layers))
			abort();
		for (size_t i = 0; i < dm.nlayers; i++)
			if (!dm.layers[i] || !inside(dm.layers[i]))
				abort();
		for (size_t i = 0; i < dm.ntags; i++)
			if (!dm.tags[i] || !image_tag_ok(dm.tags[i]))
				abort();
		docker_manifest_free(&dm);
	} else if (!err[0] || dm.config || dm.layers || dm.tags) {
		abort(); /* a refusal says why and leaves nothing to free */
	}

	struct oci_index x;
	err[0] = '\0';
	if (oci_index_parse(text, size, &x, err, sizeof(err)) == 0) {
		if (!hex64(x.manifest) || (x.ref && !image_tag_ok(x.ref)))
			abort();
		oci_index_free(&x);
	} else if (!err[0] || x.ref) {
		abort();
	}

	struct oci_manifest m;
	err[0] = '\0';
	if (oci_manifest_parse(text, size, &m, err, sizeof(err)) == 0) {
		if (!hex64(m.config) || !m.layers)
			abort();
		for (size_t i = 0; i < m.nlayers; i++)
			if (!hex64(m.layers[i]))
				abort();
		oci_manifest_free(&m);
	} else if (!err[0] || m.layers) {
		abort();
	}

	struct image_config c;
	err[0] = '\0';
	if (image_config_parse(text, size, &c, err, sizeof(err)) == 0) {
		if (!json_is_object(c.json) || (c.config && !json_is_object(c.config)) ||
		    !c.diff_ids)
			abort();
		for (size_t i = 0; i < c.ndiff_ids; i++)
			if (!hex64(c.diff_ids[i]))
				abort();
		image_config_free(&c);
	} else if (!err[0] || c.json || c.diff_ids) {
		abort();
	}

	char *s = malloc(size + 1); /* exact: ASan sees a read past the NUL */
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_path(s);
	free(s);
	return 0;
}
