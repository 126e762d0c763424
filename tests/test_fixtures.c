/*
 * test_fixtures.c - the reports of three runs, in every format, byte for byte
 * against files generated before the refactoring of issue 15 (tests/data/fixtures/).
 *
 *   demo   gradcheck cases/                        (make demo: every case passes)
 *   fail   gradcheck --grad tests/data/fixtures/seed003_buggy.grad.json
 *                    tests/data/case/seed003.json   (failing tensors, worst lists,
 *                                                    diagnoses, expect notes)
 *   error  gradcheck cases/seed003_sigmoid_2_2_1.json tests/data/case/bad_syntax.json
 *                    cases/act_relu.json            (a pass, an error, a pass)
 *
 * A change that is meant to change what a report says (a new field, another step
 * choice, other tolerances, a new version number) changes these files legitimately:
 * regenerate them with
 *
 *     make fixtures        (runs GC_FIXTURES_WRITE=1 tests/bin/test_fixtures)
 *
 * and check `git diff tests/data/fixtures/` shows exactly the intended change before
 * committing.  A refactoring must leave them untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "testutil.h"

static const struct run {
	const char *name;
	const char *args;
	int status;             /* the exit status the run must have */
} runs[] = {
	{ "demo", "cases/", 0 },
	{ "fail", "--grad tests/data/fixtures/seed003_buggy.grad.json tests/data/case/seed003.json",
	  1 },
	{ "error", "cases/seed003_sigmoid_2_2_1.json tests/data/case/bad_syntax.json "
	  "cases/act_relu.json", 2 },
};

static const char *const formats[] = { "text", "json", "junit", "tap", "html" };

#define N_RUNS (sizeof runs / sizeof runs[0])
#define N_FORMATS (sizeof formats / sizeof formats[0])

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_msg(fp != NULL, "cannot write %s", path);
	ck_assert(fputs(text, fp) >= 0);
	ck_assert(fclose(fp) == 0);
}

/* 1-based line of the first difference between a and b. */
static size_t first_diff_line(const char *a, const char *b)
{
	size_t line = 1;

	for (; *a && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	return line;
}

START_TEST(test_report_fixture)
{
	const struct run *r = &runs[_i / N_FORMATS];
	const char *format = formats[_i % N_FORMATS];
	char path[256];
	cli_run out = cli_gradcheck("--format %s %s", format, r->args);

	snprintf(path, sizeof path, "tests/data/fixtures/%s.%s", r->name, format);
	ck_assert_msg(out.status == r->status, "%s: exit status %d, expected %d", path,
	              out.status, r->status);
	if (getenv("GC_FIXTURES_WRITE")) {
		write_file(path, out.out);
	} else {
		char *want = cli_slurp(path);

		ck_assert_msg(want[0] != '\0', "%s is missing or empty (make fixtures)", path);
		ck_assert_msg(strcmp(out.out, want) == 0,
		              "%s: the report differs from line %zu on (see the header of "
		              "tests/test_fixtures.c)", path, first_diff_line(out.out, want));
		free(want);
	}
	cli_free(&out);
}
END_TEST

static Suite *fixtures_suite(void)
{
	Suite *s = suite_create("fixtures");
	TCase *tc = tcase_create("reports");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_report_fixture, 0, (int)(N_RUNS * N_FORMATS));
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(fixtures_suite)
