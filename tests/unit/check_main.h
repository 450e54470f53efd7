/* check_main: the main() every Check test program shares. */
#ifndef VMM_TESTS_CHECK_MAIN_H
#define VMM_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Runs suite s and returns the exit status: nonzero if any test failed. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
