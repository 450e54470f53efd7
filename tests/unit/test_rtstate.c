/* Unit tests: vmm-runtime's state directory and its small parsers
 * (runtime-shim/rt.h), in a --root of the test's own. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "files.h"
#include "rt.h"

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/test_rtstate.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	rt.root = root;
	rt.log = NULL;
}

static void teardown(void)
{
	rm_rf(root);
}

/* A container whose pid-file process is pid. */
static void make(const char *id, pid_t pid)
{
	struct rt_container c;
	char err[256];
	ck_assert_int_eq(rt_make(id, &c, err, sizeof(err)), 0);
	c.pid = pid;
	c.state = json_pack("{s:s, s:i, s:I, s:s, s:s, s:b, s:b}", "id", id, "pid", (int)pid,
			    "pid_start", (json_int_t)rt_pid_start(pid), "bundle", "/b", "created",
			    "2026-11-28T00:00:00.000000000Z", "started", 0, "paused", 0);
	ck_assert_int_eq(rt_save(&c, err, sizeof(err)), 0);
	rt_close(&c);
}

START_TEST(lifecycle)
{
	struct rt_container c;
	char err[256];
	make("box", getpid());
	ck_assert_int_eq(rt_make("box", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "container with id box already exists");

	ck_assert_int_eq(rt_open("box", true, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(rt_status(&c), "created");
	json_object_set_new(c.state, "started", json_true());
	ck_assert_int_eq(rt_save(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(rt_status(&c), "running");
	json_t *st = rt_state_json(&c);
	ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "running");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "pid")), getpid());
	ck_assert_str_eq(json_string_value(json_object_get(st, "bundle")), "/b");
	ck_assert_str_eq(json_string_value(json_object_get(st, "ociVersion")), RT_OCI_VERSION);
	json_decref(st);
	json_object_set_new(c.state, "paused", json_true());
	ck_assert_str_eq(rt_status(&c), "paused");
	/* The shim's exit file: stopped, pid 0, whoever still runs. */
	int fd = openat(c.dir_fd, "exit", O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_str_eq(rt_status(&c), "stopped");
	st = rt_state_json(&c);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "pid")), 0);
	json_decref(st);
	rt_close(&c);
}
END_TEST

/* Nobody reaps the pid-file process: a zombie is stopped, and so is a
 * pid whose start time is not the one recorded (reused). */
START_TEST(stopped_without_a_reaper)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	make("z", child);
	struct rt_container c;
	char err[256];
	ck_assert_int_eq(rt_open("z", false, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(rt_status(&c), "created");
	kill(child, SIGKILL);
	for (int i = 0; i < 200 && rt_pid_start(child); i++)
		usleep(10000);
	ck_assert_str_eq(rt_status(&c), "stopped"); /* a zombie, not reaped yet */
	waitpid(child, NULL, 0);
	ck_assert_str_eq(rt_status(&c), "stopped");
	json_object_set_new(c.state, "pid", json_integer(getpid()));
	json_object_set_new(c.state, "pid_start", json_integer(1)); /* not ours */
	c.pid = getpid();
	ck_assert_str_eq(rt_status(&c), "stopped");
	rt_close(&c);
}
END_TEST

START_TEST(missing_and_bad)
{
	struct rt_container c;
	char err[256];
	ck_assert_int_eq(rt_open("nope", false, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "container nope does not exist");
	ck_assert_int_eq(rt_open("../etc", false, &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid container id"));
	ck_assert_int_eq(rt_make("a/b", &c, err, sizeof(err)), -1);
	/* A directory a create left without state.json is no container. */
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/half", root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(rt_open("half", false, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "container half does not exist");
}
END_TEST

/* Another command holds the container's lock: ours waits for it. */
START_TEST(lock_is_exclusive)
{
	make("l", getpid());
	struct rt_container c;
	char err[256];
	ck_assert_int_eq(rt_open("l", true, &c, err, sizeof(err)), 0);
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/l", root);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	rt_close(&c);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}
END_TEST

START_TEST(pid_file)
{
	char path[128], buf[32] = "";
	snprintf(path, sizeof(path), "%s/pid", root);
	char err[256];
	ck_assert_int_eq(rt_write_pid_file(path, 12345, err, sizeof(err)), 0);
	int fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	ck_assert_str_eq(buf, "12345"); /* digits only, no newline */
	ck_assert_int_eq(rt_write_pid_file("/nonexistent/dir/pid", 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--pid-file"));
}
END_TEST

START_TEST(signals)
{
	ck_assert_int_eq(rt_parse_signal("15"), SIGTERM);
	ck_assert_int_eq(rt_parse_signal("TERM"), SIGTERM);
	ck_assert_int_eq(rt_parse_signal("SIGKILL"), SIGKILL);
	ck_assert_int_eq(rt_parse_signal("sigusr1"), SIGUSR1);
	ck_assert_int_eq(rt_parse_signal("RTMIN+2"), SIGRTMIN + 2);
	ck_assert_int_eq(rt_parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
	ck_assert_int_eq(rt_parse_signal("FOO"), -1);
	ck_assert_int_eq(rt_parse_signal("0"), -1);
	ck_assert_int_eq(rt_parse_signal("99"), -1);
	ck_assert_int_eq(rt_parse_signal("9x"), -1);
	ck_assert_int_eq(rt_parse_signal(""), -1);
	ck_assert_int_eq(rt_parse_signal("RTMIN-1"), -1);
}
END_TEST

START_TEST(log_lines)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/log.json", root);
	rt.log = log;
	rt.log_json = true;
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	rt_error("container %s does not exist", "x");
	fclose(stderr);
	stderr = saved;
	json_error_t je;
	json_t *j = json_load_file(log, 0, &je);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(j, "msg")),
			 "container x does not exist");
	const char *t = json_string_value(json_object_get(j, "time"));
	struct tm tm;
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strptime(t, "%Y-%m-%dT%H:%M:%S", &tm));
	ck_assert_int_eq(t[strlen(t) - 1], 'Z');
	json_decref(j);
	rt.log = NULL;
}
END_TEST

/* The one-shot report of a forked child: a failure with why, success,
 * and a child that dies without a word. */
START_TEST(fork_report)
{
	char err[256], why[256];
	int fd;
	for (int round = 0; round < 3; round++) {
		pid_t pid = rt_fork_report(&fd, err, sizeof(err));
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (round == 0)
				rt_report(&fd, 7, "no such thing");
			else if (round == 1)
				rt_report(&fd, 0, "ignored on success");
			_exit(0);
		}
		int code = rt_read_report(fd, why, sizeof(why));
		waitpid(pid, NULL, 0);
		if (round == 0) {
			ck_assert_int_eq(code, 7);
			ck_assert_str_eq(why, "no such thing");
		} else if (round == 1) {
			ck_assert_int_eq(code, 0);
			ck_assert_str_eq(why, "");
		} else {
			ck_assert_int_eq(code, -1);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtstate");
	TCase *t = tcase_create("state");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, lifecycle);
	tcase_add_test(t, stopped_without_a_reaper);
	tcase_add_test(t, missing_and_bad);
	tcase_add_test(t, lock_is_exclusive);
	tcase_add_test(t, pid_file);
	tcase_add_test(t, signals);
	tcase_add_test(t, log_lines);
	tcase_add_test(t, fork_report);
	suite_add_tcase(s, t);
	return check_run(s);
}
