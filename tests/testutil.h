/* testutil.h - shared by the check test programs: one suite per file, and a main. */
#ifndef GC_TESTUTIL_H
#define GC_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Defines main() running the suite made by make_suite; exits non-zero on failure. */
#define GC_TEST_MAIN(make_suite)                                      \
	int main(void)                                                \
	{                                                             \
		SRunner *sr = srunner_create(make_suite());           \
		srunner_run_all(sr, CK_NORMAL);                       \
		int failed = srunner_ntests_failed(sr);               \
		srunner_free(sr);                                     \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;          \
	}

#endif
