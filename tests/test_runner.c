/*
 * test_runner.c - gc_run_case's error convention (gradcheck.h's header comment): a
 * problem with the case or a file makes the case an error with a message, running out
 * of memory ends the run with GC_ENOMEM.  Out of memory is planted by this program's
 * own strdup, which the library's calls bind to (it precedes libc's when linking):
 * it fails for the note --golden adds about a drifting tensor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "runner.h"

static int fail_golden_notes;   /* nonzero: strdup of a "golden: ..." note fails */

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if (fail_golden_notes && strncmp(s, "golden: ", 8) == 0)
		return NULL;
	d = malloc(n);
	return d ? memcpy(d, s, n) : NULL;
}

static char dir[64];

/* --golden DIR holding seed003's gradient with W2 doubled and b1 negated. */
static void setup(void)
{
	char cmd[512];

	snprintf(dir, sizeof dir, "/tmp/gc_test_runner_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cp tests/data/fixtures/seed003_buggy.grad.json %s/seed003.grad.json",
	         dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static gc_run_options golden_options(void)
{
	gc_run_options ro;

	memset(&ro, 0, sizeof ro);
	gc_options_init(&ro.check);
	ro.check.jobs = 1;
	ro.timeout = 30;
	ro.limits = gc_case_default_limits;
	ro.golden_dir = dir;
	return ro;
}

/* Without planted failures: two drift notes (b1 and W2), the case fails. */
START_TEST(test_golden_drift_notes)
{
	gc_run_options ro = golden_options();
	gc_case_outcome out;

	fail_golden_notes = 0;
	ck_assert_int_eq(gc_run_case("tests/data/case/seed003.json", &ro, &out), GC_OK);
	ck_assert_int_eq(out.report.status, GC_CASE_FAIL);
	ck_assert_ptr_null(out.error);
	ck_assert_uint_eq(out.n_notes, 2);
	ck_assert_ptr_nonnull(strstr(out.notes[0], "golden: b1 drifted in 2 of 2 elements"));
	ck_assert_ptr_nonnull(strstr(out.notes[1], "golden: W2 drifted in 2 of 2 elements"));
	gc_case_outcome_free(&out);
}
END_TEST

/* The note cannot be stored: GC_ENOMEM, not a case error with an empty message. */
START_TEST(test_golden_note_out_of_memory)
{
	gc_run_options ro = golden_options();
	gc_case_outcome out;
	int rc;

	fail_golden_notes = 1;
	rc = gc_run_case("tests/data/case/seed003.json", &ro, &out);
	fail_golden_notes = 0;
	ck_assert_int_eq(rc, GC_ENOMEM);
	ck_assert_ptr_null(out.error);
	gc_case_outcome_free(&out);
}
END_TEST

/* A missing golden file is the case's error, with the file named. */
START_TEST(test_golden_missing_file)
{
	gc_run_options ro = golden_options();
	gc_case_outcome out;

	ck_assert_int_eq(gc_run_case("cases/seed003_sigmoid_2_2_1.json", &ro, &out), GC_OK);
	ck_assert_int_eq(out.report.status, GC_CASE_ERROR);
	ck_assert_ptr_nonnull(out.error);
	ck_assert_ptr_nonnull(strstr(out.error, "seed003_sigmoid_2_2_1.grad.json: cannot open"));
	gc_case_outcome_free(&out);
}
END_TEST

static Suite *runner_suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_golden_drift_notes);
	tcase_add_test(tc, test_golden_note_out_of_memory);
	tcase_add_test(tc, test_golden_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(runner_suite)
