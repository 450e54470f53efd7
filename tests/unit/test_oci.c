/* Unit tests: config.json as vmm-runtime reads it (runtime-shim/oci.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check_main.h"
#include "mounts.h"
#include "oci.h"

/* What Docker 20.10 writes, cut to the fields that matter. */
static const char docker_config[] =
	"{\"ociVersion\":\"1.0.2-dev\","
	"\"process\":{\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[10,20]},"
	"\"args\":[\"sh\",\"-c\",\"echo hi\"],"
	"\"env\":[\"PATH=/usr/bin:/bin\",\"HOSTNAME=abc\"],\"cwd\":\"/work\","
	"\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024}],"
	"\"consoleSize\":{\"height\":40,\"width\":120},\"terminal\":true,"
	"\"apparmorProfile\":\"docker-default\",\"oomScoreAdj\":0,\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"/var/lib/docker/overlay2/x/merged\",\"readonly\":true},"
	"\"hostname\":\"abc\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/var/lib/docker/c/hosts\","
	"\"options\":[\"rbind\",\"rprivate\"]}],"
	"\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/dockerd\",\"args\":[\"libnetwork-setkey\","
	"\"-exec-root=/var/run/docker\",\"abc\",\"def\"],\"timeout\":5}]},"
	"\"linux\":{\"resources\":{\"memory\":{\"limit\":268435456},"
	"\"cpu\":{\"quota\":150000,\"period\":100000,\"shares\":1024}},"
	"\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"network\"},{\"type\":\"uts\"},"
	"{\"type\":\"pid\"},{\"type\":\"ipc\"}],"
	"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"},\"maskedPaths\":[\"/proc/kcore\"]},"
	"\"annotations\":{\"a\":\"b\"}}";

START_TEST(docker)
{
	struct oci_config c;
	char err[256] = "";
	ck_assert_int_eq(
		oci_config_parse(docker_config, strlen(docker_config), &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.oci_version, "1.0.2-dev");
	ck_assert_str_eq(c.root_path, "/var/lib/docker/overlay2/x/merged");
	ck_assert(c.root_readonly);
	ck_assert_str_eq(c.process.args[2], "echo hi");
	ck_assert_ptr_null(c.process.args[3]);
	ck_assert_str_eq(c.process.env[1], "HOSTNAME=abc");
	ck_assert_str_eq(c.process.cwd, "/work");
	ck_assert_int_eq(c.process.uid, 1000);
	ck_assert_int_eq(c.process.ngroups, 2);
	ck_assert_int_eq(c.process.groups[1], 20);
	ck_assert(c.process.terminal && c.process.no_new_privs);
	ck_assert_int_eq(c.process.nrlimits, 1);
	ck_assert_int_eq(c.process.rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert_int_eq(c.process.rlimits[0].soft, 1024);
	ck_assert_int_eq(c.process.rlimits[0].hard, 2048);
	ck_assert_uint_eq(c.console_rows, 40);
	ck_assert_uint_eq(c.console_cols, 120);
	ck_assert_str_eq(c.hostname, "abc");
	ck_assert_int_eq(c.nmounts, 2);
	ck_assert_str_eq(c.mounts[1].destination, "/etc/hosts");
	ck_assert_str_eq(c.mounts[1].type, "bind");
	ck_assert_str_eq(c.mounts[1].options[0], "rbind");
	ck_assert_int_eq(c.nhooks[OCI_PRESTART], 1);
	ck_assert_str_eq(c.hooks[OCI_PRESTART][0].args[0], "libnetwork-setkey");
	ck_assert_int_eq(c.hooks[OCI_PRESTART][0].timeout, 5);
	ck_assert(c.netns);
	ck_assert_ptr_null(c.netns_path);
	ck_assert_int_eq(oci_vcpus(&c, 8), 2); /* ceil(1.5) */
	ck_assert_int_eq(oci_vcpus(&c, 1), 1);
	ck_assert_uint_eq(oci_memory(&c, 1 << 30), 268435456);
	oci_config_free(&c);
}
END_TEST

/* A minimal valid config with one top-level field set to value (JSON). */
static int parse_with(const char *key, const char *value, char *err, size_t errlen)
{
	json_t *j = json_pack("{s:s, s:{s:s}, s:{s:[s]}}", "ociVersion", "1.1.0", "root", "path",
			      "rootfs", "process", "args", "true");
	json_object_set_new(j, key, json_loads(value, JSON_DECODE_ANY, NULL));
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	struct oci_config c;
	int rc = oci_config_parse(text, strlen(text), &c, err, errlen);
	free(text);
	if (rc == 0)
		oci_config_free(&c);
	return rc;
}

#define BAD(key, value, needle)                                                                    \
	do {                                                                                       \
		char e_[256] = "";                                                                 \
		ck_assert_int_eq(parse_with(key, value, e_, sizeof(e_)), -1);                      \
		ck_assert_msg(strstr(e_, needle), "%s=%s: '%s' lacks '%s'", key, value, e_,        \
			      needle);                                                             \
	} while (0)

START_TEST(bad_fields)
{
	char err[256];
	ck_assert_int_eq(parse_with("hostname", "\"ok\"", err, sizeof(err)), 0);
	BAD("ociVersion", "\"2.0.0\"", "ociVersion: 2.0.0 is not supported");
	BAD("ociVersion", "1", "ociVersion: must be a string");
	BAD("process", "{\"args\":\"sh\"}", "process.args: must be an array");
	BAD("process", "{\"args\":[]}", "process.args: must name the program");
	BAD("process", "{\"args\":[1]}", "process.args[0]: must be a string");
	BAD("process", "{\"args\":[\"sh\"],\"cwd\":\"rel\"}", "process.cwd: must be an absolute");
	BAD("process", "{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}", "process.user.uid");
	BAD("process", "{\"args\":[\"sh\"],\"terminal\":\"yes\"}", "process.terminal");
	BAD("process", "{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOPE\"}]}",
	    "rlimits[0].type: not a known resource");
	BAD("process",
	    "{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,"
	    "\"hard\":1}]}",
	    "soft: above hard");
	BAD("root", "{\"readonly\":true}", "root.path: missing");
	BAD("root", "[]", "root: must be an object");
	BAD("hostname", "\"a/b\"", "hostname");
	BAD("mounts", "[{\"destination\":\"rel\"}]", "mounts[0].destination: must be an absolute");
	BAD("mounts", "{}", "mounts: must be an array");
	BAD("hooks", "{\"prestart\":[{\"path\":\"rel\"}]}", "hooks.prestart[0].path");
	BAD("hooks", "{\"poststop\":[{\"path\":\"/x\",\"timeout\":0}]}", "timeout");
	BAD("linux", "{\"namespaces\":[{\"type\":\"network\",\"path\":\"rel\"}]}",
	    "linux.namespaces[0].path");
	BAD("linux", "{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}",
	    "linux.resources.memory.limit");
	BAD("annotations", "[]", "annotations: must be an object");
}
END_TEST

START_TEST(not_json)
{
	struct oci_config c;
	char err[256];
	ck_assert_int_eq(oci_config_parse("{", 1, &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
	ck_assert_int_eq(oci_config_parse("[]", 2, &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "must be a JSON object"));
	const char dup[] = "{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.0.0\"}";
	ck_assert_int_eq(oci_config_parse(dup, strlen(dup), &c, err, sizeof(err)), -1);
	ck_assert_int_eq(oci_config_parse("{\"ociVersion\":\"1.0.0\"}", 22, &c, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "root: missing"));
	ck_assert_int_eq(oci_config_load("/nonexistent/config.json", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/config.json: does not exist");
}
END_TEST

START_TEST(netns_and_sizes)
{
	const char j[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
			 "\"process\":{\"args\":[\"x\"],\"rlimits\":[{\"type\":\"RLIMIT_CORE\","
			 "\"soft\":-1,\"hard\":-1}]},"
			 "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":"
			 "\"/var/run/netns/x\"}],\"resources\":{\"memory\":{\"limit\":1024}}}}";
	struct oci_config c;
	char err[256];
	ck_assert_int_eq(oci_config_parse(j, strlen(j), &c, err, sizeof(err)), 0);
	ck_assert(c.netns);
	ck_assert_str_eq(c.netns_path, "/var/run/netns/x");
	ck_assert_int_eq(oci_vcpus(&c, 4), 1);
	ck_assert_uint_eq(oci_memory(&c, 1 << 30), 128ULL << 20); /* at least 128 MiB */
	ck_assert(c.process.rlimits[0].soft == RLIM_INFINITY);
	ck_assert_str_eq(c.process.cwd, "/");
	ck_assert_ptr_null(c.process.env[0]);
	oci_config_free(&c);
}
END_TEST

/* A limit that is not whole pages (Kubernetes' "300M" is 300000000
 * bytes) is rounded down to them: guest RAM is mapped in pages, and
 * gm_alloc refuses any other size. */
START_TEST(memory_pages)
{
	const char j[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
			 "\"process\":{\"args\":[\"x\"]},"
			 "\"linux\":{\"resources\":{\"memory\":{\"limit\":300000000}}}}";
	struct oci_config c;
	char err[256];
	ck_assert_int_eq(oci_config_parse(j, strlen(j), &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(oci_memory(&c, 1 << 30), 300000000 - 300000000 % 4096);
	oci_config_free(&c);
}
END_TEST

/* Docker's mounts: the agent's own dropped, cgroup as cgroup2, a host
 * directory a share, files staged in one share, a second bind of the same
 * directory the same share (read-only only if every bind is). */
START_TEST(mounts_plan)
{
	char dir[] = "/tmp/test_oci.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char file[64], text[4096], err[256];
	snprintf(file, sizeof(file), "%s/hosts", dir);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"x\"]"
		 "},"
		 "\"mounts\":["
		 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		 "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
		 "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"%s\"},"
		 "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
		 "\"options\":[\"ro\"]},"
		 "{\"destination\":\"/"
		 "data\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"ro\"]},"
		 "{\"destination\":\"/etc/hosts\",\"type\":\"none\",\"source\":\"%s\","
		 "\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/again\",\"type\":\"bind\",\"source\":\"%s\"}]}",
		 dir, dir, file, dir);
	struct oci_config c;
	ck_assert_int_eq(oci_config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
	static struct rt_mounts m;
	ck_assert_int_eq(rt_mounts_plan(&c, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.nmounts, 4);
	ck_assert_str_eq(m.mounts[0].type, "cgroup2");
	ck_assert_str_eq(m.mounts[0].options[0], "ro");
	ck_assert_str_eq(m.mounts[1].destination, "/data");
	ck_assert_str_eq(m.mounts[1].source, "v0");
	ck_assert_str_eq(m.mounts[2].type, "bind");
	ck_assert_str_eq(m.mounts[2].source, "files/f0");
	ck_assert_str_eq(m.mounts[3].source, "v0");
	ck_assert_int_eq(m.nshares, 2);
	ck_assert_str_eq(m.shares[0].dir, dir);
	ck_assert(!m.shares[0].ro); /* /again is read-write */
	ck_assert_str_eq(m.shares[1].tag, "files");
	ck_assert_ptr_null(m.shares[1].dir);
	ck_assert(m.shares[1].ro);
	ck_assert_int_eq(m.nfiles, 1);
	ck_assert_str_eq(m.files[0].source, file);
	oci_config_free(&c);

	/* A missing source names the mount. */
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"x\"]"
		 "},"
		 "\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"%s/nope\"}]}",
		 dir);
	ck_assert_int_eq(oci_config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_mounts_plan(&c, &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "mounts[0].source"));
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	oci_config_free(&c);
	unlink(file);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oci");
	TCase *t = tcase_create("config");
	tcase_add_test(t, docker);
	tcase_add_test(t, bad_fields);
	tcase_add_test(t, not_json);
	tcase_add_test(t, netns_and_sizes);
	tcase_add_test(t, memory_pages);
	tcase_add_test(t, mounts_plan);
	suite_add_tcase(s, t);
	return check_run(s);
}
