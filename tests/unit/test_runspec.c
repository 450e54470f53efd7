/* Unit tests for vmm/runspec.c: Entrypoint/Cmd/Env/WorkingDir/User and
 * the run options, as docker run combines them, with users looked up in a
 * rootfs made here (and a symlink in it that must not reach the host). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "runspec.h"

static char root[64], outside[96];
static char err[256];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/runspec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	char etc[96];
	snprintf(etc, sizeof(etc), "%s/etc", root);
	mkdir(etc, 0755);
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
			  "app:x:1000:1001:app user:/home/app:/bin/sh\n"
			  "short:x:7\n");
	put("etc/group", "root:x:0:\nappgrp:x:1001:\nstaff:x:50:app\n");
	/* A host file the image must never get at through a symlink. */
	snprintf(outside, sizeof(outside), "%s.host-passwd", root);
	FILE *f = fopen(outside, "w");
	fputs("evil:x:4242:4242::/:/bin/sh\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", root, outside);
	ck_assert_int_eq(system(cmd), 0);
}

static json_t *config(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	ck_assert_msg(j != NULL, "%s", je.text);
	return j;
}

static void assert_list(char **got, const char *const *want)
{
	int i = 0;
	for (; want[i]; i++) {
		ck_assert_ptr_nonnull(got[i]);
		ck_assert_str_eq(got[i], want[i]);
	}
	ck_assert_ptr_null(got[i]);
}

START_TEST(image_defaults)
{
	json_t *c = config("{\"Entrypoint\":[\"/bin/tini\",\"--\"],\"Cmd\":[\"sh\"],"
			   "\"Env\":[\"PATH=/bin\",\"A=1\"],\"WorkingDir\":\"/srv\","
			   "\"User\":\"app\"}");
	struct run_opts o = {.hostname = "h1"};
	struct run_spec s;
	ck_assert_int_eq(runspec_build(c, root, &o, &s, err, sizeof(err)), 0);
	assert_list(s.args, (const char *[]){"/bin/tini", "--", "sh", NULL});
	assert_list(s.env,
		    (const char *[]){"PATH=/bin", "A=1", "HOSTNAME=h1", "HOME=/home/app", NULL});
	ck_assert_str_eq(s.cwd, "/srv");
	ck_assert_uint_eq(s.uid, 1000);
	ck_assert_uint_eq(s.gid, 1001);
	runspec_free(&s);
	json_decref(c);
}
END_TEST

START_TEST(options_override)
{
	json_t *c = config("{\"Entrypoint\":[\"/bin/tini\"],\"Cmd\":[\"sh\"],"
			   "\"Env\":[\"PATH=/bin\",\"A=1\"],\"User\":\"app\"}");
	char *cmd[] = {"echo", "hi"}, *env[] = {"A=2", "B=", "HOME=/x"};
	struct run_opts o = {.cmd = cmd,
			     .ncmd = 2,
			     .env = env,
			     .nenv = 3,
			     .workdir = "/w",
			     .user = "0:staff",
			     .hostname = "h"};
	struct run_spec s;
	ck_assert_int_eq(runspec_build(c, root, &o, &s, err, sizeof(err)), 0);
	assert_list(s.args, (const char *[]){"/bin/tini", "echo", "hi", NULL});
	assert_list(s.env,
		    (const char *[]){"PATH=/bin", "A=2", "B=", "HOME=/x", "HOSTNAME=h", NULL});
	ck_assert_str_eq(s.cwd, "/w");
	ck_assert_uint_eq(s.uid, 0);
	ck_assert_uint_eq(s.gid, 50);
	runspec_free(&s);
	/* --entrypoint replaces it and drops the image's Cmd; "" clears it. */
	o = (struct run_opts){.entrypoint = "/bin/date"};
	ck_assert_int_eq(runspec_build(c, root, &o, &s, err, sizeof(err)), 0);
	assert_list(s.args, (const char *[]){"/bin/date", NULL});
	runspec_free(&s);
	o = (struct run_opts){.entrypoint = "", .cmd = cmd, .ncmd = 1};
	ck_assert_int_eq(runspec_build(c, root, &o, &s, err, sizeof(err)), 0);
	assert_list(s.args, (const char *[]){"echo", NULL});
	runspec_free(&s);
	json_decref(c);
}
END_TEST

START_TEST(plain_rootfs)
{
	char *cmd[] = {"env"};
	struct run_opts o = {.cmd = cmd, .ncmd = 1, .user = "1000:1001", .hostname = "box"};
	struct run_spec s;
	ck_assert_int_eq(runspec_build(NULL, NULL, &o, &s, err, sizeof(err)), 0);
	assert_list(s.env, (const char *[]){"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
					    "/usr/bin:/sbin:/bin",
					    "HOSTNAME=box", "HOME=/", NULL});
	runspec_free(&s);
	o.tty = true;
	ck_assert_int_eq(runspec_build(NULL, NULL, &o, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.env[3], "TERM=xterm");
	ck_assert_str_eq(s.cwd, "/");
	ck_assert_uint_eq(s.uid, 1000);
	runspec_free(&s);
}
END_TEST

START_TEST(users)
{
	char *cmd[] = {"id"};
	struct run_opts o = {.cmd = cmd, .ncmd = 1};
	struct run_spec s;
	struct {
		const char *user;
		unsigned uid, gid;
	} ok[] = {{"1000", 1000, 1001},
		  {"4000", 4000, 0},
		  {"app:0", 1000, 0},
		  {"4000:appgrp", 4000, 1001},
		  {"root", 0, 0}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		o.user = ok[i].user;
		ck_assert_msg(runspec_build(NULL, root, &o, &s, err, sizeof(err)) == 0, "%s: %s",
			      ok[i].user, err);
		ck_assert_uint_eq(s.uid, ok[i].uid);
		ck_assert_uint_eq(s.gid, ok[i].gid);
		runspec_free(&s);
	}
	const char *bad[] = {"nobody", "app:nogroup", "short"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.user = bad[i];
		ck_assert_int_eq(runspec_build(NULL, root, &o, &s, err, sizeof(err)), -1);
		ck_assert_ptr_null(s.args);
	}
}
END_TEST

START_TEST(passwd_symlink_stays_inside)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	unlink(p);
	ck_assert_int_eq(symlink(outside, p), 0); /* absolute: resolved in the rootfs */
	char *cmd[] = {"id"};
	struct run_opts o = {.cmd = cmd, .ncmd = 1, .user = "evil"};
	struct run_spec s;
	ck_assert_int_eq(runspec_build(NULL, root, &o, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "user 'evil' is not in the image's /etc/passwd");
}
END_TEST

START_TEST(errors)
{
	struct run_opts o = {0};
	struct run_spec s;
	ck_assert_int_eq(runspec_build(NULL, NULL, &o, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no command"));
	json_t *c = config("{\"Cmd\":\"sh\"}");
	ck_assert_int_eq(runspec_build(c, NULL, &o, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the image's Cmd is not a list of strings");
	json_decref(c);
	c = config("{\"Cmd\":[\"sh\"],\"WorkingDir\":\"rel\"}");
	ck_assert_int_eq(runspec_build(c, NULL, &o, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not absolute"));
	json_decref(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runspec");
	TCase *tc = tcase_create("runspec");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, image_defaults);
	tcase_add_test(tc, options_override);
	tcase_add_test(tc, plain_rootfs);
	tcase_add_test(tc, users);
	tcase_add_test(tc, passwd_symlink_stays_inside);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	return check_run(s);
}
