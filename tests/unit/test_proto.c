/* Unit tests for agent/proto.c: frames, decoding, the typed requests and
 * their errors, and whole messages over a socketpair. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "proto.h"

static char err[256];

static json_t *parse(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_ALLOW_NUL, &je);
	ck_assert_msg(j != NULL, "test JSON: %s", je.text);
	return j;
}

START_TEST(frames)
{
	const uint8_t *body = NULL;
	uint8_t f[8] = {3, 0, 0, 0, 'a', 'b', 'c', 'd'};
	ck_assert_int_eq(proto_frame(f, 3, &body), 0); /* no length yet */
	ck_assert_int_eq(proto_frame(f, 6, &body), 0); /* body not complete */
	ck_assert_int_eq(proto_frame(f, 8, &body), 3);
	ck_assert_ptr_eq(body, f + 4);
	uint8_t zero[4] = {0};
	ck_assert_int_eq(proto_frame(zero, 4, &body), -1);
	uint32_t big = PROTO_MAX_MSG + 1;
	uint8_t b[4] = {(uint8_t)big, (uint8_t)(big >> 8), (uint8_t)(big >> 16),
			(uint8_t)(big >> 24)};
	ck_assert_int_eq(proto_frame(b, 4, &body), -1);
}
END_TEST

START_TEST(decode_errors)
{
	const char *bad[] = {"{",	   "[1,2]",
			     "{\"id\":1}", "{\"type\":3}",
			     "\"hello\"",  "{\"type\":\"a\",\"type\":\"b\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_ptr_null(
			proto_decode((const uint8_t *)bad[i], strlen(bad[i]), err, sizeof(err)));
		ck_assert_msg(err[0], "no error for %s", bad[i]);
	}
	const char *ok = "{\"type\":\"hello\",\"version\":1}";
	json_t *j = proto_decode((const uint8_t *)ok, strlen(ok), err, sizeof(err));
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "hello");
	json_decref(j);
}
END_TEST

START_TEST(encode_round_trip)
{
	json_t *m = json_pack("{s:s, s:I, s:s}", "type", "wait", "id", (json_int_t)7, "container",
			      "c1");
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(proto_encode(m, &buf, &len), 0);
	const uint8_t *body;
	long n = proto_frame(buf, len, &body);
	ck_assert_int_eq(n + 4, (long)len);
	json_t *back = proto_decode(body, (size_t)n, err, sizeof(err));
	ck_assert(json_equal(m, back));
	free(buf);
	json_decref(m);
	json_decref(back);
}
END_TEST

START_TEST(process_fields)
{
	json_t *j =
		parse("{\"args\":[\"sh\",\"-c\",\"true\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\","
		      "\"uid\":1000,\"gid\":100,\"additional_gids\":[10,20],\"terminal\":true}");
	struct proto_process p;
	ck_assert_int_eq(proto_process_parse(j, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.args[0], "sh");
	ck_assert_str_eq(p.args[2], "true");
	ck_assert_ptr_null(p.args[3]);
	ck_assert_str_eq(p.env[0], "A=1");
	ck_assert_ptr_null(p.env[1]);
	ck_assert_str_eq(p.cwd, "/tmp");
	ck_assert_uint_eq(p.uid, 1000);
	ck_assert_uint_eq(p.gid, 100);
	ck_assert_uint_eq(p.ngroups, 2);
	ck_assert_uint_eq(p.groups[1], 20);
	ck_assert(p.terminal);
	ck_assert(!p.no_new_privs);
	/* Back to JSON and parsed again: the same process. */
	json_t *again = proto_process_json(&p);
	struct proto_process q;
	ck_assert_int_eq(proto_process_parse(again, &q, err, sizeof(err)), 0);
	ck_assert_str_eq(q.args[1], "-c");
	ck_assert_uint_eq(q.uid, 1000);
	ck_assert_uint_eq(q.groups[0], 10);
	proto_process_free(&q);
	json_decref(again);
	proto_process_free(&p);
	json_decref(j);
}
END_TEST

/* Each bad process gives an error naming the field. */
START_TEST(process_errors)
{
	struct {
		const char *json, *field;
	} cases[] = {
		{"{}", "process.args"},
		{"{\"args\":[]}", "process.args"},
		{"{\"args\":[1]}", "process.args"},
		{"{\"args\":\"sh\"}", "process.args"},
		{"{\"args\":[\"a\\u0000b\"]}", "process.args"},
		{"{\"args\":[\"sh\"],\"env\":{}}", "process.env"},
		{"{\"args\":[\"sh\"],\"uid\":-1}", "process.uid"},
		{"{\"args\":[\"sh\"],\"gid\":\"0\"}", "process.gid"},
		{"{\"args\":[\"sh\"],\"cwd\":\"tmp\"}", "process.cwd"},
		{"{\"args\":[\"sh\"],\"terminal\":1}", "process.terminal"},
		{"{\"args\":[\"sh\"],\"additional_gids\":[\"x\"]}", "process.additional_gids"},
		{"[]", "process"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = parse(cases[i].json);
		struct proto_process p;
		err[0] = 0;
		ck_assert_int_eq(proto_process_parse(j, &p, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].field) == err, "%s: '%s'", cases[i].json, err);
		ck_assert_ptr_null(p.args);
		json_decref(j);
	}
}
END_TEST

START_TEST(rlimits)
{
	json_t *j = parse("{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
			  "\"soft\":100,\"hard\":200}]}");
	struct proto_process p;
	ck_assert_int_eq(proto_process_parse(j, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.nrlimits, 1);
	ck_assert_int_eq(p.rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert_uint_eq(p.rlimits[0].soft, 100);
	ck_assert_uint_eq(p.rlimits[0].hard, 200);
	json_t *back = proto_process_json(&p);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(back, "rlimits"), 0), "type")),
			 "RLIMIT_NOFILE");
	json_decref(back);
	proto_process_free(&p);
	json_decref(j);
	const char *bad[] = {"[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]",
			     "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]",
			     "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":-1,\"hard\":1}]",
			     "{\"type\":\"RLIMIT_NOFILE\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char s[256];
		snprintf(s, sizeof(s), "{\"args\":[\"sh\"],\"rlimits\":%s}", bad[i]);
		j = parse(s);
		ck_assert_int_eq(proto_process_parse(j, &p, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "process.rlimits"));
		json_decref(j);
	}
}
END_TEST

START_TEST(create_round_trip_and_errors)
{
	char *args[] = {"echo", "hi", NULL}, *env[] = {"PATH=/bin", NULL};
	struct proto_create c = {.container = "c-1",
				 .rootfs_source = "/dev/vda",
				 .rootfs_fstype = "ext4",
				 .rootfs_readonly = true,
				 .hostname = "box",
				 .process = {.args = args, .env = env, .cwd = "/"}};
	json_t *j = proto_create_json(&c);
	ck_assert_ptr_nonnull(j);
	struct proto_create d;
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.container, "c-1");
	ck_assert_str_eq(d.rootfs_source, "/dev/vda");
	ck_assert(d.rootfs_readonly);
	ck_assert_str_eq(d.hostname, "box");
	ck_assert_str_eq(d.process.args[1], "hi");
	proto_process_free(&d.process);

	json_object_set_new(j, "container", json_string("../x"));
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "container"));
	json_object_set_new(j, "container", json_string("ok"));
	json_object_set_new(json_object_get(j, "rootfs"), "source", json_string("/etc/passwd"));
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "rootfs.source"));
	json_t *rootfs = json_object_get(j, "rootfs");
	json_object_set_new(rootfs, "fstype", json_string("virtiofs"));
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "virtio-fs tag"));
	json_object_set_new(rootfs, "source", json_string("rootfs"));
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.rootfs_source, "rootfs");
	proto_process_free(&d.process);
	json_object_set_new(rootfs, "source", json_string("/dev/vda"));
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), -1);
	json_object_del(j, "rootfs");
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "rootfs"));
	json_decref(j);
}
END_TEST

/* A create with c's fields and mounts_json as its "mounts": the parse
 * result, with err set. */
static int parse_mounts_json(const char *mounts_json, struct proto_create *d)
{
	char *args[] = {"true", NULL};
	struct proto_create c = {.container = "c",
				 .rootfs_source = "rootfs",
				 .rootfs_fstype = "virtiofs",
				 .process = {.args = args, .cwd = "/"}};
	json_t *j = proto_create_json(&c);
	ck_assert_ptr_nonnull(j);
	json_object_set_new(j, "mounts", parse(mounts_json));
	int rc = proto_create_parse(j, d, err, sizeof(err));
	if (rc == 0)
		proto_process_free(&d->process);
	json_decref(j);
	return rc;
}

START_TEST(create_mounts)
{
	char *args[] = {"true", NULL};
	struct proto_create c = {
		.container = "c",
		.rootfs_source = "rootfs",
		.rootfs_fstype = "virtiofs",
		.process = {.args = args, .cwd = "/"},
		.nmounts = 2,
		.mounts = {{.destination = "/data",
			    .type = "bind",
			    .source = "vol0/sub/dir",
			    .options = {"rbind", "ro", "rprivate"},
			    .noptions = 3},
			   {.destination = "/scratch",
			    .type = "tmpfs",
			    .options = {"nosuid", "mode=755", "noexec", "size=65536k"},
			    .noptions = 4}}};
	json_t *j = proto_create_json(&c);
	ck_assert_ptr_nonnull(j);
	static struct proto_create d;
	ck_assert_int_eq(proto_create_parse(j, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d.nmounts, 2);
	ck_assert_str_eq(d.mounts[0].destination, "/data");
	ck_assert_str_eq(d.mounts[0].source, "vol0/sub/dir");
	ck_assert_int_eq(d.mounts[0].noptions, 3);
	ck_assert_ptr_null(d.mounts[1].source);
	proto_process_free(&d.process);
	json_decref(j); /* d's strings were its */
	unsigned long flags, prop;
	char data[64], tag[37];
	const char *path;
	ck_assert_int_eq(proto_mount_flags(&c.mounts[0], &flags, &prop, data, sizeof(data)), 0);
	ck_assert_uint_eq(flags, MS_BIND | MS_REC | MS_RDONLY);
	ck_assert_uint_eq(prop, MS_PRIVATE | MS_REC);
	ck_assert_str_eq(data, "");
	ck_assert_int_eq(proto_mount_flags(&c.mounts[1], &flags, &prop, data, sizeof(data)), 0);
	ck_assert_uint_eq(flags, MS_NOSUID | MS_NOEXEC);
	ck_assert_uint_eq(prop, 0);
	ck_assert_str_eq(data, "mode=755,size=65536k");
	/* Later options win; the data must fit. */
	struct proto_mount m = {
		.type = "tmpfs", .options = {"ro", "rw", "mode=1777"}, .noptions = 3};
	ck_assert_int_eq(proto_mount_flags(&m, &flags, &prop, data, sizeof(data)), 0);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(proto_mount_flags(&m, &flags, &prop, data, 9), -1);
	ck_assert_int_eq(proto_mount_source("vol0/sub/dir", tag, &path), 0);
	ck_assert_str_eq(tag, "vol0");
	ck_assert_str_eq(path, "sub/dir");
	ck_assert_int_eq(proto_mount_source("rootfs", tag, &path), 0);
	ck_assert_str_eq(path, "");
	ck_assert_int_eq(proto_mount_source("/abs", tag, &path), -1);
	ck_assert_int_eq(proto_mount_source("bad tag/x", tag, &path), -1);

	/* No mounts at all is fine too. */
	ck_assert_int_eq(parse_mounts_json("[]", &d), 0);
	ck_assert_int_eq(d.nmounts, 0);

	/* Each bad one: -1 and the field named. */
	static const struct {
		const char *json, *field;
	} bad[] = {
		{"{}", "mounts"},
		{"[1]", "mounts[0]"},
		{"[{\"destination\":\"/a\",\"type\":\"overlay\"}]", "mounts[0].type"},
		{"[{\"destination\":\"/a\",\"type\":\"proc\"},{\"destination\":\"/b\"}]",
		 "mounts[1].type"},
		{"[{\"type\":\"proc\"}]", "mounts[0].destination"},
		{"[{\"destination\":\"a/b\",\"type\":\"proc\"}]", "mounts[0].destination"},
		{"[{\"destination\":\"/a/../../b\",\"type\":\"proc\"}]", "mounts[0].destination"},
		{"[{\"destination\":\"/a/./b\",\"type\":\"proc\"}]", "mounts[0].destination"},
		{"[{\"destination\":7,\"type\":\"proc\"}]", "mounts[0].destination"},
		{"[{\"destination\":\"/a\",\"type\":\"bind\"}]", "mounts[0].source"},
		{"[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/host/dir\"}]",
		 "mounts[0].source"},
		{"[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"no spaces\"}]",
		 "mounts[0].source"},
		{"[{\"destination\":\"/a\",\"type\":\"bind\","
		 "\"source\":\"a-tag-of-37-bytes-is-one-too-many-xxx\"}]",
		 "mounts[0].source"},
		{"[{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":\"ro\"}]",
		 "mounts[0].options"},
		{"[{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":[\"ro\",3]}]",
		 "mounts[0].options"},
		{"[{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":[\"\"]}]",
		 "mounts[0].options"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse_mounts_json(bad[i].json, &d) == -1, "%s parsed", bad[i].json);
		char want[80];
		snprintf(want, sizeof(want), "%s must be", bad[i].field);
		ck_assert_msg(strstr(err, want), "%s: error '%s'", bad[i].json, err);
	}

	/* At most PROTO_MAX_MOUNTS. */
	json_t *many = json_array();
	for (int i = 0; i <= PROTO_MAX_MOUNTS; i++)
		json_array_append_new(
			many, json_pack("{s:s, s:s}", "destination", "/t", "type", "tmpfs"));
	char *s = json_dumps(many, 0);
	ck_assert_int_eq(parse_mounts_json(s, &d), -1);
	ck_assert_ptr_nonnull(strstr(err, "mounts must be"));
	json_array_remove(many, 0);
	free(s);
	s = json_dumps(many, 0);
	ck_assert_int_eq(parse_mounts_json(s, &d), 0);
	ck_assert_int_eq(d.nmounts, PROTO_MAX_MOUNTS);
	free(s);
	json_decref(many);
}
END_TEST

START_TEST(ids)
{
	ck_assert(proto_valid_id("abc-1_2.3"));
	ck_assert(!proto_valid_id(""));
	ck_assert(!proto_valid_id("."));
	ck_assert(!proto_valid_id(".."));
	ck_assert(!proto_valid_id("a/b"));
	ck_assert(!proto_valid_id("a b"));
	char l[66];
	memset(l, 'a', 65);
	l[65] = 0;
	ck_assert(!proto_valid_id(l));
	l[64] = 0;
	ck_assert(proto_valid_id(l));
}
END_TEST

START_TEST(over_a_socket)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	json_t *m = proto_ok(42);
	ck_assert_int_eq(proto_send(sv[0], m), 0);
	json_t *r = proto_recv(sv[1], err, sizeof(err));
	ck_assert(json_equal(m, r));
	json_decref(r);
	/* A frame cut short by the peer going away. */
	ck_assert_int_eq(write(sv[0], "\x10\0\0\0{\"ty", 8), 8);
	close(sv[0]);
	ck_assert_ptr_null(proto_recv(sv[1], err, sizeof(err)));
	ck_assert_str_eq(err, "connection lost in a message");
	/* And then a clean EOF. */
	ck_assert_ptr_null(proto_recv(sv[1], err, sizeof(err)));
	ck_assert_str_eq(err, "");
	close(sv[1]);
	json_decref(m);
}
END_TEST

START_TEST(hello_versions)
{
	json_t *h = parse("{\"type\":\"hello\",\"version\":1}");
	ck_assert_int_eq(proto_check_hello(h, err, sizeof(err)), 0);
	json_decref(h);
	h = parse("{\"type\":\"hello\",\"version\":2}");
	ck_assert_int_eq(proto_check_hello(h, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unsupported protocol version 2 (this side speaks 1)");
	json_decref(h);
	h = parse("{\"type\":\"hello\",\"version\":\"1\"}");
	ck_assert_int_eq(proto_check_hello(h, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "version -1"));
	json_decref(h);
	h = parse("{\"type\":\"hello\"}");
	ck_assert_int_eq(proto_check_hello(h, err, sizeof(err)), -1);
	json_decref(h);
	/* The other side refused: its message is the reason. */
	h = proto_error(0, "no such container");
	ck_assert_int_eq(proto_check_hello(h, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such container");
	json_decref(h);
}
END_TEST

START_TEST(error_response)
{
	json_t *e = proto_error(3, "no container %s", "x");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "id")), 3);
	ck_assert(json_is_false(json_object_get(e, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "error")), "no container x");
	json_decref(e);
}
END_TEST

START_TEST(cidrs)
{
	struct proto_cidr c;
	char buf[64];
	ck_assert_int_eq(proto_parse_cidr("169.254.3.2/24", false, &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_int_eq(c.prefix, 24);
	ck_assert_int_eq(c.addr[0], 169);
	ck_assert_int_eq(c.addr[3], 2);
	proto_cidr_str(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "169.254.3.2/24");
	ck_assert_int_eq(proto_parse_cidr("fd00:3::2/64", false, &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_int_eq(c.prefix, 64);
	ck_assert_int_eq(c.addr[0], 0xfd);
	ck_assert_int_eq(c.addr[15], 2);
	proto_cidr_str(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fd00:3::2/64");
	ck_assert_int_eq(proto_parse_cidr("0.0.0.0/0", true, &c), 0);
	ck_assert_int_eq(proto_parse_cidr("10.1.0.0/16", true, &c), 0);
	ck_assert_int_eq(proto_parse_cidr("::/0", true, &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_int_eq(proto_parse_cidr("fd00:3::/64", true, &c), 0);
	ck_assert_int_eq(proto_parse_cidr("1.2.3.4/32", false, &c), 0);
	ck_assert_int_eq(proto_parse_cidr("::1/128", false, &c), 0);
	const char *bad[] = {
		"1.2.3.4",     "1.2.3.4/",    "1.2.3.4/33",   "1.2.3.4/-1",  "1.2.3.4/+8",
		"1.2.3.4/ 8",  "1.2.3.4/0x8", "1.2.3.4/8x",   "1.2.3/8",     "1.2.3.4.5/8",
		"::1/129",     "::1/1000",    "fd00::g/64",   "/24",	     "",
		"1.2.3.4/8/8", "01.2.3.4/8",  "fe80::1%1/64", "256.1.1.1/8", "1.2.3.4/0008",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(proto_parse_cidr(bad[i], false, &c) == -1, "took %s", bad[i]);
	/* A network: nothing after the prefix. */
	ck_assert_int_eq(proto_parse_cidr("10.1.0.1/16", true, &c), -1);
	ck_assert_int_eq(proto_parse_cidr("fd00:3::2/64", true, &c), -1);
	ck_assert_int_eq(proto_parse_cidr("0.0.0.1/0", true, &c), -1);
	uint8_t a[16];
	ck_assert_int_eq(proto_parse_ip("169.254.3.1", a), AF_INET);
	ck_assert_int_eq(proto_parse_ip("fd00:3::1", a), AF_INET6);
	ck_assert_int_eq(proto_parse_ip("169.254.3.1/24", a), -1);
	ck_assert_int_eq(proto_parse_ip("eth0", a), -1);
}
END_TEST

START_TEST(macs_and_names)
{
	uint8_t m[6];
	ck_assert_int_eq(proto_parse_mac("02:aB:00:12:34:56", m), 0);
	ck_assert_int_eq(m[1], 0xab);
	ck_assert_int_eq(m[5], 0x56);
	const char *bad[] = {"01:00:00:00:00:01",  "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00",
			     "02:00:00:00:00",	   "02-00-00-00-00-01", "02:00:00:00:00:0g",
			     "02:00:00:00:00:011", " 2:00:00:00:00:01", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(proto_parse_mac(bad[i], m) == -1, "took %s", bad[i]);
	ck_assert(proto_valid_ifname("eth0"));
	ck_assert(proto_valid_ifname("a23456789012345"));
	ck_assert(!proto_valid_ifname("a234567890123456"));
	ck_assert(!proto_valid_ifname(""));
	ck_assert(!proto_valid_ifname(".."));
	ck_assert(!proto_valid_ifname("eth0:1"));
	ck_assert(!proto_valid_ifname("a/b"));
	ck_assert(!proto_valid_ifname("a b"));
}
END_TEST

START_TEST(network_round_trip)
{
	json_t *j =
		parse("{\"type\":\"network\",\"interfaces\":[{\"name\":\"eth0\","
		      "\"mac\":\"02:00:00:00:00:01\",\"mtu\":1400,"
		      "\"addresses\":[\"169.254.3.2/24\",\"fd00:3::2/64\"]},{\"name\":\"eth1\"}],"
		      "\"routes\":[{\"destination\":\"default\",\"gateway\":\"169.254.3.1\","
		      "\"device\":\"eth0\"},{\"destination\":\"default\",\"gateway\":"
		      "\"fd00:3::1\",\"device\":\"eth0\"},{\"destination\":\"10.9.0.0/16\","
		      "\"device\":\"eth1\"}]}");
	struct proto_network n, m;
	ck_assert_int_eq(proto_network_parse(j, &n, err, sizeof(err)), 0);
	json_decref(j);
	ck_assert_int_eq(n.nifaces, 2);
	ck_assert_str_eq(n.ifaces[0].name, "eth0");
	ck_assert(n.ifaces[0].has_mac);
	ck_assert_int_eq(n.ifaces[0].mac[5], 1);
	ck_assert_int_eq(n.ifaces[0].mtu, 1400);
	ck_assert_int_eq(n.ifaces[0].naddrs, 2);
	ck_assert_int_eq(n.ifaces[0].addrs[1].family, AF_INET6);
	ck_assert(!n.ifaces[1].has_mac);
	ck_assert_int_eq(n.ifaces[1].mtu, 0);
	ck_assert_int_eq(n.ifaces[1].naddrs, 0);
	ck_assert_int_eq(n.nroutes, 3);
	ck_assert_int_eq(n.routes[0].dst.family, AF_INET);
	ck_assert_int_eq(n.routes[0].dst.prefix, 0);
	ck_assert(n.routes[0].has_gateway);
	ck_assert_int_eq(n.routes[0].gateway[3], 1);
	ck_assert_int_eq(n.routes[1].dst.family, AF_INET6);
	ck_assert(!n.routes[2].has_gateway);
	ck_assert_int_eq(n.routes[2].dst.prefix, 16);
	ck_assert_str_eq(n.routes[2].device, "eth1");
	/* What the host builds parses back to the same. */
	json_t *again = proto_network_json(&n);
	ck_assert_ptr_nonnull(again);
	ck_assert_str_eq(json_string_value(json_object_get(again, "type")), "network");
	ck_assert_int_eq(proto_network_parse(again, &m, err, sizeof(err)), 0);
	ck_assert_mem_eq(&n, &m, sizeof(n));
	json_decref(again);
	/* Routes are optional; no interfaces is a valid (empty) request. */
	j = parse("{\"type\":\"network\",\"interfaces\":[]}");
	ck_assert_int_eq(proto_network_parse(j, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n.nifaces + n.nroutes, 0);
	json_decref(j);
}
END_TEST

START_TEST(network_errors)
{
	static const struct {
		const char *json, *err;
	} cases[] = {
		{"{}", "interfaces must be an array of at most 8 interfaces"},
		{"{\"interfaces\":{}}", "interfaces must be an array"},
		{"{\"interfaces\":[{},{},{},{},{},{},{},{},{}]}", "interfaces must be an array"},
		{"{\"interfaces\":[3]}", "interfaces[0] must be an object"},
		{"{\"interfaces\":[{}]}", "interfaces[0].name must be an interface name"},
		{"{\"interfaces\":[{\"name\":7}]}", "interfaces[0].name must be a string"},
		{"{\"interfaces\":[{\"name\":\"averyveryverylong0\"}]}",
		 "interfaces[0].name must be an interface name"},
		{"{\"interfaces\":[{\"name\":\"e\"},{\"name\":\"e\"}]}",
		 "interfaces[1].name: e is configured twice"},
		{"{\"interfaces\":[{\"name\":\"e\",\"mac\":\"01:00:00:00:00:01\"}]}",
		 "interfaces[0].mac must be a unicast MAC address"},
		{"{\"interfaces\":[{\"name\":\"e\",\"mtu\":67}]}",
		 "interfaces[0].mtu must be an integer from 68 to 65535"},
		{"{\"interfaces\":[{\"name\":\"e\",\"mtu\":65536}]}", "interfaces[0].mtu must"},
		{"{\"interfaces\":[{\"name\":\"e\",\"mtu\":\"1500\"}]}", "interfaces[0].mtu must"},
		{"{\"interfaces\":[{\"name\":\"e\",\"addresses\":\"1.2.3.4/8\"}]}",
		 "interfaces[0].addresses must be an array of at most 16 addresses"},
		{"{\"interfaces\":[{\"name\":\"e\",\"addresses\":[\"1.2.3.4/8\",\"1.2.3.4\"]}]}",
		 "interfaces[0].addresses[1] must be an IPv4 or IPv6 address with its prefix"},
		{"{\"interfaces\":[{\"name\":\"e\",\"addresses\":[\"1.2.3.4/8\\u0000x\"]}]}",
		 "interfaces[0].addresses[0] must be"},
		{"{\"interfaces\":[],\"routes\":3}",
		 "routes must be an array of at most 32 routes"},
		{"{\"interfaces\":[],\"routes\":[[]]}", "routes[0] must be an object"},
		{"{\"interfaces\":[],\"routes\":[{\"device\":\"e\"}]}",
		 "routes[0].destination must be \"default\" or a network"},
		{"{\"interfaces\":[],\"routes\":[{\"destination\":\"default\",\"device\":\"e\"}]}",
		 "routes[0].destination must be a network (0.0.0.0/0 or ::/0) when there is no "
		 "gateway"},
		{"{\"interfaces\":[],\"routes\":[{\"destination\":\"10.0.0.1/8\","
		 "\"device\":\"e\"}]}",
		 "routes[0].destination must be \"default\" or a network (ADDR/N, no bits set"},
		{"{\"interfaces\":[],\"routes\":[{\"destination\":\"default\",\"gateway\":"
		 "\"1.2.3\",\"device\":\"e\"}]}",
		 "routes[0].gateway must be an IPv4 or IPv6 address"},
		{"{\"interfaces\":[],\"routes\":[{\"destination\":\"::/0\",\"gateway\":"
		 "\"1.2.3.4\",\"device\":\"e\"}]}",
		 "routes[0].gateway must be of the destination's address family"},
		{"{\"interfaces\":[],\"routes\":[{\"destination\":\"default\",\"gateway\":"
		 "\"1.2.3.4\"}]}",
		 "routes[0].device must be an interface name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = parse(cases[i].json);
		struct proto_network n;
		err[0] = 0;
		ck_assert_msg(proto_network_parse(j, &n, err, sizeof(err)) == -1, "took %s",
			      cases[i].json);
		ck_assert_msg(!strncmp(err, cases[i].err, strlen(cases[i].err)),
			      "%s: error '%s', want '%s'", cases[i].json, err, cases[i].err);
		json_decref(j);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");
	tcase_add_test(tc, frames);
	tcase_add_test(tc, decode_errors);
	tcase_add_test(tc, encode_round_trip);
	tcase_add_test(tc, process_fields);
	tcase_add_test(tc, process_errors);
	tcase_add_test(tc, rlimits);
	tcase_add_test(tc, create_round_trip_and_errors);
	tcase_add_test(tc, create_mounts);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, over_a_socket);
	tcase_add_test(tc, hello_versions);
	tcase_add_test(tc, error_response);
	tcase_add_test(tc, cidrs);
	tcase_add_test(tc, macs_and_names);
	tcase_add_test(tc, network_round_trip);
	tcase_add_test(tc, network_errors);
	suite_add_tcase(s, tc);
	return check_run(s);
}
