/* Unit tests: image documents as vmm load reads them (vmm/image_meta.h). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "image_meta.h"

#define H1 "e3cc06e0da06480a9bbecfb2589321c58f772d0c5d5aa12dc2cc8aff7998f5c5"
#define H2 "1043e2f36213c7a439079daeda254f45d31e53c935a247a158c0b9a3a32c9ae8"
#define HC "e58498789ee3d68def8471808df3a4fc4ab21488aa7803394ec4ee62524940fc"

/* What Docker 20.10's `docker save` writes (tests/lib/layered-image.sh
 * makes the same shape). */
static const char docker_manifest[] =
	"[{\"Config\":\"" HC ".json\",\"RepoTags\":[\"layered:1\",\"reg.example/x/y:2\"],"
	"\"Layers\":[\"" H1 "/layer.tar\",\"" H2 "/layer.tar\"]}]";

/* An OCI layout's index.json and image manifest (skopeo, buildah,
 * `docker buildx --output type=oci` write these fields). */
static const char oci_index[] =
	"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
	"\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" H1 "\","
	"\"size\":611,\"annotations\":{\"org.opencontainers.image.ref.name\":\"layered-oci:1\"}}]}";
static const char oci_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	"\"digest\":\"sha256:" HC "\",\"size\":270},\"layers\":[{\"mediaType\":"
	"\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:" H1 "\","
	"\"size\":4099072},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
	"\"digest\":\"sha256:" H2 "\",\"size\":10240}]}";

/* An image config, cut to what docker writes around the fields we use. */
static const char image_config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
	"\"config\":{\"User\":\"app\",\"WorkingDir\":\"/data\",\"Env\":[\"PATH=/bin\"],"
	"\"Cmd\":[\"ls\"]},\"history\":[{\"created_by\":\"x\"}],"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" H1 "\",\"sha256:" H2 "\"]}}";

START_TEST(docker_save)
{
	struct docker_manifest m;
	char err[256] = "";
	ck_assert_int_eq(docker_manifest_parse(docker_manifest, strlen(docker_manifest), &m, err,
					       sizeof(err)),
			 0);
	ck_assert_str_eq(m.config, HC ".json");
	ck_assert_uint_eq(m.nlayers, 2);
	ck_assert_str_eq(m.layers[1], H2 "/layer.tar");
	ck_assert_uint_eq(m.ntags, 2);
	ck_assert_str_eq(m.tags[1], "reg.example/x/y:2");
	docker_manifest_free(&m);
	ck_assert_ptr_null(m.layers);

	/* An untagged image: docker writes null. Leading "./" is dropped. */
	const char *untagged = "[{\"Config\":\"./c.json\",\"RepoTags\":null,\"Layers\":[]}]";
	ck_assert_int_eq(docker_manifest_parse(untagged, strlen(untagged), &m, err, sizeof(err)),
			 0);
	ck_assert_str_eq(m.config, "c.json");
	ck_assert_uint_eq(m.nlayers, 0);
	ck_assert_uint_eq(m.ntags, 0);
	docker_manifest_free(&m);
}
END_TEST

/* doc must be refused by parse with an error containing want. */
#define REFUSED(parse, type, doc, want)                                                            \
	do {                                                                                       \
		type x_;                                                                           \
		char e_[256] = "";                                                                 \
		ck_assert_int_eq(parse(doc, strlen(doc), &x_, e_, sizeof(e_)), -1);                \
		ck_assert_msg(strstr(e_, want), "%s: error '%s', wanted '%s'", doc, e_, want);     \
	} while (0)

#define BAD_DOCKER(doc, want) REFUSED(docker_manifest_parse, struct docker_manifest, doc, want)

START_TEST(docker_bad_fields)
{
	BAD_DOCKER("{", "not valid JSON");
	BAD_DOCKER("{}", "must be a JSON array");
	BAD_DOCKER("[]", "names no image");
	BAD_DOCKER("[1]", "[0]: must be an object");
	BAD_DOCKER("[{\"Layers\":[]}]", "[0].Config: must be a string");
	BAD_DOCKER("[{\"Config\":\"../c.json\",\"Layers\":[]}]",
		   "[0].Config: must be a relative path inside the archive");
	BAD_DOCKER("[{\"Config\":\"/\",\"Layers\":[]}]", "[0].Config: must be a relative path");
	BAD_DOCKER("[{\"Config\":\"c\"}]", "[0].Layers: missing");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":\"l\"}]", "[0].Layers: must be an array");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[\"a\",\"b/../../x\"]}]",
		   "[0].Layers[1]: must be a relative path inside the archive");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[7]}]", "[0].Layers[0]: must be a string");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":\"a:1\"}]",
		   "[0].RepoTags: must be an array");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":[\"a:1\",1]}]",
		   "[0].RepoTags[1]: must be a tag");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":[\"a b\"]}]",
		   "[0].RepoTags[0]: must be a tag");
	BAD_DOCKER("[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":[\"\"]}]",
		   "[0].RepoTags[0]: must be a tag");
	BAD_DOCKER("[{\"Config\":\"c\",\"Config\":\"d\",\"Layers\":[]}]", "duplicate");
	BAD_DOCKER("[{\"Config\":\"c\\u0000x\",\"Layers\":[]}]", "not valid JSON");
}
END_TEST

START_TEST(oci)
{
	struct oci_index x;
	struct oci_manifest m;
	char err[256] = "";
	ck_assert_int_eq(oci_index_parse(oci_index, strlen(oci_index), &x, err, sizeof(err)), 0);
	ck_assert_str_eq(x.manifest, H1);
	ck_assert(!x.nested);
	ck_assert_str_eq(x.ref, "layered-oci:1");
	oci_index_free(&x);
	const char *nested = "{\"manifests\":[{\"mediaType\":"
			     "\"application/vnd.oci.image.index.v1+json\","
			     "\"digest\":\"sha256:" H2 "\"}]}";
	ck_assert_int_eq(oci_index_parse(nested, strlen(nested), &x, err, sizeof(err)), 0);
	ck_assert(x.nested);
	ck_assert_ptr_null(x.ref);
	oci_index_free(&x);

	ck_assert_int_eq(
		oci_manifest_parse(oci_manifest, strlen(oci_manifest), &m, err, sizeof(err)), 0);
	ck_assert_str_eq(m.config, HC);
	ck_assert_uint_eq(m.nlayers, 2);
	ck_assert_str_eq(m.layers[0], H1);
	ck_assert_str_eq(m.layers[1], H2);
	oci_manifest_free(&m);
}
END_TEST

#define BAD_INDEX(doc, want)	REFUSED(oci_index_parse, struct oci_index, doc, want)
#define BAD_MANIFEST(doc, want) REFUSED(oci_manifest_parse, struct oci_manifest, doc, want)

START_TEST(oci_bad_fields)
{
	BAD_INDEX("[]", "must be a JSON object");
	BAD_INDEX("{}", "manifests: must name at least one manifest");
	BAD_INDEX("{\"manifests\":[]}", "manifests: must name at least one manifest");
	BAD_INDEX("{\"manifests\":{}}", "manifests: must be an array");
	BAD_INDEX("{\"manifests\":[\"sha256:" H1 "\"]}", "manifests[0]: must be a descriptor");
	BAD_INDEX("{\"manifests\":[{}]}", "manifests[0].digest: missing");
	/* Upper case, another algorithm, a short digest, a path in it. */
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:E3CC06E0DA06480A9BBECFB2589321C58F772D0C5D5"
		  "AA12DC2CC8AFF7998F5C5\"}]}",
		  "manifests[0].digest: must be sha256:");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha512:" H1 "\"}]}", "manifests[0].digest");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:e3cc\"}]}", "manifests[0].digest");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:../../../../../../../../../../../../../../"
		  "../../../../../../../../../etc/passwd\"}]}",
		  "manifests[0].digest");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:" H1 "\",\"mediaType\":1}]}",
		  "manifests[0].mediaType: must be a string");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:" H1 "\",\"annotations\":[]}]}",
		  "manifests[0].annotations: must be an object");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:" H1 "\",\"annotations\":"
		  "{\"org.opencontainers.image.ref.name\":2}}]}",
		  "ref.name: must be a string");
	BAD_INDEX("{\"manifests\":[{\"digest\":\"sha256:" H1 "\",\"annotations\":"
		  "{\"org.opencontainers.image.ref.name\":\"a\\nb\"}}]}",
		  "ref.name: must be a tag");

	BAD_MANIFEST("[7]", "must be a JSON object");
	BAD_MANIFEST("{\"layers\":[]}", "config: missing");
	BAD_MANIFEST("{\"config\":{\"digest\":\"md5:x\"},\"layers\":[]}", "config.digest: must be");
	BAD_MANIFEST("{\"config\":{\"digest\":\"sha256:" HC "\"}}", "layers: missing");
	BAD_MANIFEST("{\"config\":{\"digest\":\"sha256:" HC "\"},\"layers\":{}}",
		     "layers: must be an array");
	BAD_MANIFEST("{\"config\":{\"digest\":\"sha256:" HC "\"},\"layers\":[{\"digest\":"
		     "\"sha256:" H1 "\"},{\"size\":3}]}",
		     "layers[1].digest: missing");
}
END_TEST

START_TEST(config)
{
	struct image_config c;
	char err[256] = "";
	ck_assert_int_eq(
		image_config_parse(image_config, strlen(image_config), &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.ndiff_ids, 2);
	ck_assert_str_eq(c.diff_ids[1], H2);
	ck_assert_str_eq(json_string_value(json_object_get(c.config, "User")), "app");
	ck_assert_str_eq(json_string_value(json_object_get(c.json, "os")), "linux");
	image_config_free(&c);
	/* A config with no run defaults (docker import) and no layers. */
	const char *bare = "{\"config\":null,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	ck_assert_int_eq(image_config_parse(bare, strlen(bare), &c, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.config);
	ck_assert_uint_eq(c.ndiff_ids, 0);
	image_config_free(&c);
}
END_TEST

#define BAD_CONFIG(doc, want) REFUSED(image_config_parse, struct image_config, doc, want)

START_TEST(config_bad_fields)
{
	BAD_CONFIG("", "not valid JSON");
	BAD_CONFIG("[]", "must be a JSON object");
	BAD_CONFIG("{}", "rootfs: missing");
	BAD_CONFIG("{\"rootfs\":[]}", "rootfs: must be an object");
	BAD_CONFIG("{\"rootfs\":{}}", "rootfs.diff_ids: missing");
	BAD_CONFIG("{\"rootfs\":{\"diff_ids\":\"sha256:" H1 "\"}}",
		   "rootfs.diff_ids: must be an array");
	BAD_CONFIG("{\"rootfs\":{\"diff_ids\":[\"sha256:" H1 "\",null]}}",
		   "rootfs.diff_ids[1]: must be sha256:");
	BAD_CONFIG("{\"config\":[],\"rootfs\":{\"diff_ids\":[]}}", "config: must be an object");
}
END_TEST

/* The one check that keeps every extracted entry inside the image, and
 * why it refuses a path (image.c tells the root from an escape by it). */
START_TEST(clean_path)
{
	char out[64];
	static const struct {
		const char *in, *out; /* out: the cleaned path, for IMAGE_PATH_OK */
		enum image_path why;
	} cases[] = {
		{"a/b", "a/b", IMAGE_PATH_OK},
		{"/etc/passwd", "etc/passwd", IMAGE_PATH_OK},
		{"./bin/sh", "bin/sh", IMAGE_PATH_OK},
		{".//./a/", "a", IMAGE_PATH_OK},
		{"a//b/", "a//b", IMAGE_PATH_OK},
		{"dir/", "dir", IMAGE_PATH_OK},
		{"..a/b..", "..a/b..", IMAGE_PATH_OK},
		{"a/...", "a/...", IMAGE_PATH_OK},
		{".wh..wh..opq", ".wh..wh..opq", IMAGE_PATH_OK},
		{"", NULL, IMAGE_PATH_ROOT},
		{".", NULL, IMAGE_PATH_ROOT},
		{"./", NULL, IMAGE_PATH_ROOT},
		{"/", NULL, IMAGE_PATH_ROOT},
		{"//./", NULL, IMAGE_PATH_ROOT},
		{"/.", NULL, IMAGE_PATH_ROOT},
		{"..", NULL, IMAGE_PATH_DOTDOT},
		{"../x", NULL, IMAGE_PATH_DOTDOT},
		{"a/..", NULL, IMAGE_PATH_DOTDOT},
		{"a/../b", NULL, IMAGE_PATH_DOTDOT},
		{"./../x", NULL, IMAGE_PATH_DOTDOT},
		{"/a/b/../../../x", NULL, IMAGE_PATH_DOTDOT},
		{"a/../", NULL, IMAGE_PATH_DOTDOT},
		{"../", NULL, IMAGE_PATH_DOTDOT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum image_path why = image_clean_path(cases[i].in, out, sizeof(out));
		ck_assert_msg(why == cases[i].why, "'%s': reason %d, want %d", cases[i].in, why,
			      cases[i].why);
		if (cases[i].out)
			ck_assert_str_eq(out, cases[i].out);
	}
	/* A path that does not fit is refused, not shortened: "a/b/.." cut
	 * to fit would be another file. */
	char small[4];
	ck_assert_int_eq(image_clean_path("abcd", small, sizeof(small)), IMAGE_PATH_TOO_LONG);
	ck_assert_int_eq(image_clean_path("/abc", small, sizeof(small)), IMAGE_PATH_OK);
	ck_assert_str_eq(small, "abc");
	ck_assert_int_eq(image_clean_path("a", small, 0), IMAGE_PATH_TOO_LONG);
	/* Its trailing "/" counts, though cleaning drops it. */
	ck_assert_int_eq(image_clean_path("abc/", small, sizeof(small)), IMAGE_PATH_TOO_LONG);
	/* The reasons in their order: the root fits any buffer, and a path
	 * too long is that even with a ".." in it. */
	ck_assert_int_eq(image_clean_path("/./", small, 0), IMAGE_PATH_ROOT);
	ck_assert_int_eq(image_clean_path("../x", small, sizeof(small)), IMAGE_PATH_TOO_LONG);
	ck_assert_int_eq(image_clean_path("../", small, sizeof(small)), IMAGE_PATH_DOTDOT);
}
END_TEST

START_TEST(digests_and_tags)
{
	char hex[IMAGE_HEX];
	ck_assert(image_digest("sha256:" H1, hex));
	ck_assert_str_eq(hex, H1);
	ck_assert(!image_digest(NULL, hex));
	ck_assert(!image_digest("sha256:" H1 "0", hex));
	ck_assert(!image_digest("sha256: " H1, hex));
	ck_assert(!image_digest("SHA256:" H1, hex));
	ck_assert(image_tag_ok("busybox"));
	ck_assert(image_tag_ok("registry:5000/a/b:v1.2"));
	ck_assert(!image_tag_ok(""));
	ck_assert(!image_tag_ok("a\tb"));
	ck_assert(!image_tag_ok("caf\xc3\xa9"));
	char long_tag[IMAGE_TAG_MAX + 2];
	memset(long_tag, 'a', sizeof(long_tag) - 1);
	long_tag[IMAGE_TAG_MAX + 1] = '\0';
	ck_assert(!image_tag_ok(long_tag));
	long_tag[IMAGE_TAG_MAX] = '\0';
	ck_assert(image_tag_ok(long_tag));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image_meta");
	TCase *t = tcase_create("image_meta");
	tcase_add_test(t, docker_save);
	tcase_add_test(t, docker_bad_fields);
	tcase_add_test(t, oci);
	tcase_add_test(t, oci_bad_fields);
	tcase_add_test(t, config);
	tcase_add_test(t, config_bad_fields);
	tcase_add_test(t, clean_path);
	tcase_add_test(t, digests_and_tags);
	suite_add_tcase(s, t);
	return check_run(s);
}
