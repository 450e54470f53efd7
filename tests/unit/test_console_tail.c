/* Unit tests for console_log_tail (vmm/console.c): the end of a guest's
 * console log for an error report: whole lines only, CR dropped, control
 * characters (a hostile guest's terminal escapes) shown as '?', no
 * trailing newline, "" for a missing or empty file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "console.h"

static char path[] = "/tmp/test_console_tail.XXXXXX";

static void write_log(const char *data, size_t n)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void teardown(void)
{
	unlink(path);
	strcpy(path, "/tmp/test_console_tail.XXXXXX");
}

START_TEST(whole_file_when_it_fits)
{
	const char log[] = "Linux version 6.1\r\nKernel panic - not syncing\r\n\r\n";
	write_log(log, sizeof(log) - 1);
	char out[256];
	console_log_tail(path, out, sizeof(out));
	ck_assert_str_eq(out, "Linux version 6.1\nKernel panic - not syncing");
}
END_TEST

START_TEST(a_cut_first_line_is_dropped)
{
	const char log[] = "first line, long enough to be cut\nsecond\nthird\n";
	write_log(log, sizeof(log) - 1);
	char out[12]; /* the last 11 bytes: "cond\nthird\n", a cut line first */
	console_log_tail(path, out, sizeof(out));
	ck_assert_str_eq(out, "third");
	char out2[16]; /* 15 bytes: "t\nsecond\nthird\n" */
	console_log_tail(path, out2, sizeof(out2));
	ck_assert_str_eq(out2, "second\nthird");
}
END_TEST

START_TEST(control_characters_are_shown_as_question_marks)
{
	const char log[] = "\x1b]0;owned\x07title\tok\x7f\x01\n";
	write_log(log, sizeof(log) - 1);
	char out[64];
	console_log_tail(path, out, sizeof(out));
	ck_assert_str_eq(out, "?]0;owned?title\tok??");
}
END_TEST

START_TEST(missing_or_empty_is_empty)
{
	char out[64] = "junk";
	console_log_tail("/nonexistent/console.log", out, sizeof(out));
	ck_assert_str_eq(out, "");
	write_log("", 0);
	strcpy(out, "junk");
	console_log_tail(path, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("console_tail");
	TCase *tc = tcase_create("tail");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, whole_file_when_it_fits);
	tcase_add_test(tc, a_cut_first_line_is_dropped);
	tcase_add_test(tc, control_characters_are_shown_as_question_marks);
	tcase_add_test(tc, missing_or_empty_is_empty);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
