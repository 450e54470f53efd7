/* image_meta: image manifests, indexes and configs parsed from memory. */
#include "image_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"

#define OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define OCI_REF_NAME   "org.opencontainers.image.ref.name"

bool image_digest(const char *d, char hex[IMAGE_HEX])
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71 ||
	    strspn(d + 7, "0123456789abcdef") != 64)
		return false;
	memcpy(hex, d + 7, IMAGE_HEX);
	return true;
}

enum image_path image_clean_path(const char *p, char *out, size_t len)
{
	while (*p == '/' || (p[0] == '.' && p[1] == '/'))
		p += p[0] == '/' ? 1 : 2;
	if (!*p || !strcmp(p, "."))
		return IMAGE_PATH_ROOT;
	size_t n = strlen(p);
	if (n >= len)
		return IMAGE_PATH_TOO_LONG;
	memcpy(out, p, n + 1);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	/* Each component: the first, then each after a '/'. */
	for (char *c = out; c; c = strchr(c, '/')) {
		c += *c == '/';
		if (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == '\0'))
			return IMAGE_PATH_DOTDOT;
	}
	return IMAGE_PATH_OK;
}

bool image_tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > IMAGE_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return false;
	return true;
}

static json_t *load(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		errf(err, errlen, "not valid JSON: %s (line %d)", je.text, je.line);
	return j;
}

/* j[key] when present and not null; NULL when absent or null. A value of
 * another type than want is an error (-1), named where.key. */
static int member(const json_t *j, const char *key, json_type want, const char *where,
		  const char *what, const json_t **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(j, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != want)
		return errf(err, errlen, "%s%s: must be %s", where, key, what);
	*out = v;
	return 0;
}

/* A descriptor's digest (OCI: {"mediaType", "digest", "size"}). */
static int descriptor(const json_t *d, const char *where, char hex[IMAGE_HEX], char *err,
		      size_t errlen)
{
	if (!json_is_object(d))
		return errf(err, errlen, "%s: must be a descriptor (an object)", where);
	const json_t *dg = json_object_get(d, "digest");
	if (!dg)
		return errf(err, errlen, "%s.digest: missing", where);
	if (!image_digest(json_string_value(dg), hex))
		return errf(err, errlen, "%s.digest: must be sha256: and 64 lowercase hex digits",
			    where);
	return 0;
}

/* A path of a docker save archive, cleaned, as a new string. */
static int archive_path(const json_t *v, const char *where, char **out, char *err, size_t errlen)
{
	char buf[4096];
	if (!json_is_string(v))
		return errf(err, errlen, "%s: must be a string", where);
	if (image_clean_path(json_string_value(v), buf, sizeof(buf)) != IMAGE_PATH_OK)
		return errf(err, errlen, "%s: must be a relative path inside the archive", where);
	if (!(*out = strdup(buf)))
		return errf(err, errlen, "%s: out of memory", where);
	return 0;
}

/* An array of n things: a zeroed table of n (at least 1, so calloc never
 * answers NULL for 0). */
static void *table(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

int docker_manifest_parse(const char *text, size_t len, struct docker_manifest *m, char *err,
			  size_t errlen)
{
	memset(m, 0, sizeof(*m));
	json_t *j = load(text, len, err, errlen);
	if (!j)
		return -1;
	const json_t *e = json_array_get(j, 0), *ls, *tags;
	char where[48];
	if (!json_is_array(j)) {
		errf(err, errlen, "must be a JSON array of images");
		goto bad;
	}
	if (!e) {
		errf(err, errlen, "names no image");
		goto bad;
	}
	if (!json_is_object(e)) {
		errf(err, errlen, "[0]: must be an object");
		goto bad;
	}
	if (archive_path(json_object_get(e, "Config"), "[0].Config", &m->config, err, errlen) ||
	    member(e, "Layers", JSON_ARRAY, "[0].", "an array", &ls, err, errlen) ||
	    member(e, "RepoTags", JSON_ARRAY, "[0].", "an array", &tags, err, errlen))
		goto bad;
	if (!ls) {
		errf(err, errlen, "[0].Layers: missing");
		goto bad;
	}
	m->nlayers = json_array_size(ls);
	if (!(m->layers = table(m->nlayers, sizeof(*m->layers)))) {
		errf(err, errlen, "[0].Layers: out of memory");
		goto bad;
	}
	for (size_t i = 0; i < m->nlayers; i++) {
		snprintf(where, sizeof(where), "[0].Layers[%zu]", i);
		if (archive_path(json_array_get(ls, i), where, &m->layers[i], err, errlen))
			goto bad;
	}
	m->ntags = json_array_size(tags);
	if (!(m->tags = table(m->ntags, sizeof(*m->tags)))) {
		errf(err, errlen, "[0].RepoTags: out of memory");
		goto bad;
	}
	for (size_t i = 0; i < m->ntags; i++) {
		const char *t = json_string_value(json_array_get(tags, i));
		if (!t || !image_tag_ok(t)) {
			errf(err, errlen,
			     "[0].RepoTags[%zu]: must be a tag (1 to %d printable characters, "
			     "no spaces)",
			     i, IMAGE_TAG_MAX);
			goto bad;
		}
		if (!(m->tags[i] = strdup(t))) {
			errf(err, errlen, "[0].RepoTags: out of memory");
			goto bad;
		}
	}
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	docker_manifest_free(m);
	return -1;
}

void docker_manifest_free(struct docker_manifest *m)
{
	free(m->config);
	for (size_t i = 0; m->layers && i < m->nlayers; i++)
		free(m->layers[i]);
	free(m->layers);
	for (size_t i = 0; m->tags && i < m->ntags; i++)
		free(m->tags[i]);
	free(m->tags);
	memset(m, 0, sizeof(*m));
}

int oci_index_parse(const char *text, size_t len, struct oci_index *x, char *err, size_t errlen)
{
	memset(x, 0, sizeof(*x));
	json_t *j = load(text, len, err, errlen);
	if (!j)
		return -1;
	const json_t *ms, *d, *mt, *ann, *ref;
	if (!json_is_object(j)) {
		errf(err, errlen, "must be a JSON object");
		goto bad;
	}
	if (member(j, "manifests", JSON_ARRAY, "", "an array", &ms, err, errlen))
		goto bad;
	if (!(d = json_array_get(ms, 0))) {
		errf(err, errlen, "manifests: must name at least one manifest");
		goto bad;
	}
	if (descriptor(d, "manifests[0]", x->manifest, err, errlen) ||
	    member(d, "mediaType", JSON_STRING, "manifests[0].", "a string", &mt, err, errlen) ||
	    member(d, "annotations", JSON_OBJECT, "manifests[0].", "an object", &ann, err,
		   errlen) ||
	    member(ann, OCI_REF_NAME, JSON_STRING, "manifests[0].annotations.", "a string", &ref,
		   err, errlen))
		goto bad;
	x->nested = mt && !strcmp(json_string_value(mt), OCI_INDEX_TYPE);
	if (ref && !image_tag_ok(json_string_value(ref))) {
		errf(err, errlen,
		     "manifests[0].annotations." OCI_REF_NAME
		     ": must be a tag (1 to %d printable characters, no spaces)",
		     IMAGE_TAG_MAX);
		goto bad;
	}
	if (ref && !(x->ref = strdup(json_string_value(ref)))) {
		errf(err, errlen, "out of memory");
		goto bad;
	}
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	oci_index_free(x);
	return -1;
}

void oci_index_free(struct oci_index *x)
{
	free(x->ref);
	memset(x, 0, sizeof(*x));
}

int oci_manifest_parse(const char *text, size_t len, struct oci_manifest *m, char *err,
		       size_t errlen)
{
	memset(m, 0, sizeof(*m));
	json_t *j = load(text, len, err, errlen);
	if (!j)
		return -1;
	const json_t *cfg, *ls;
	char where[32];
	if (!json_is_object(j)) {
		errf(err, errlen, "must be a JSON object");
		goto bad;
	}
	if (!(cfg = json_object_get(j, "config"))) {
		errf(err, errlen, "config: missing");
		goto bad;
	}
	if (descriptor(cfg, "config", m->config, err, errlen) ||
	    member(j, "layers", JSON_ARRAY, "", "an array", &ls, err, errlen))
		goto bad;
	if (!ls) {
		errf(err, errlen, "layers: missing");
		goto bad;
	}
	m->nlayers = json_array_size(ls);
	if (!(m->layers = table(m->nlayers, sizeof(*m->layers)))) {
		errf(err, errlen, "layers: out of memory");
		goto bad;
	}
	for (size_t i = 0; i < m->nlayers; i++) {
		snprintf(where, sizeof(where), "layers[%zu]", i);
		if (descriptor(json_array_get(ls, i), where, m->layers[i], err, errlen))
			goto bad;
	}
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	oci_manifest_free(m);
	return -1;
}

void oci_manifest_free(struct oci_manifest *m)
{
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int image_config_parse(const char *text, size_t len, struct image_config *c, char *err,
		       size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (!(c->json = load(text, len, err, errlen)))
		return -1;
	const json_t *rootfs, *ids;
	if (!json_is_object(c->json)) {
		errf(err, errlen, "must be a JSON object");
		goto bad;
	}
	if (member(c->json, "config", JSON_OBJECT, "", "an object", &c->config, err, errlen) ||
	    member(c->json, "rootfs", JSON_OBJECT, "", "an object", &rootfs, err, errlen) ||
	    member(rootfs, "diff_ids", JSON_ARRAY, "rootfs.", "an array", &ids, err, errlen))
		goto bad;
	if (!ids) {
		errf(err, errlen, rootfs ? "rootfs.diff_ids: missing" : "rootfs: missing");
		goto bad;
	}
	c->ndiff_ids = json_array_size(ids);
	if (!(c->diff_ids = table(c->ndiff_ids, sizeof(*c->diff_ids)))) {
		errf(err, errlen, "rootfs.diff_ids: out of memory");
		goto bad;
	}
	for (size_t i = 0; i < c->ndiff_ids; i++)
		if (!image_digest(json_string_value(json_array_get(ids, i)), c->diff_ids[i])) {
			errf(err, errlen,
			     "rootfs.diff_ids[%zu]: must be sha256: and 64 lowercase hex digits",
			     i);
			goto bad;
		}
	return 0;
bad:
	image_config_free(c);
	return -1;
}

void image_config_free(struct image_config *c)
{
	json_decref(c->json);
	free(c->diff_ids);
	memset(c, 0, sizeof(*c));
}
