/*
 * test_report_json.c - the JSON report read back: write -> read -> write gives the same
 * bytes, for the report fixtures (tests/data/fixtures/, the .json files) and for reports of the
 * runs the other tests make (shards, --fast, five-point, --show all, --sample, errors),
 * and malformed reports are refused with the key path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "testutil.h"
#include "report.h"
#include "report_json.h"

/* Reads text as a report and writes it again; returns the new text (free with free). */
static char *rewrite(const char *text, const char *what)
{
	gc_json_report rep;
	gc_error err;
	char *copy = strdup(text), *out = NULL;
	size_t len;
	FILE *mem;
	int rc = gc_report_json_read(copy, strlen(copy), what, &rep, &err);

	ck_assert_msg(rc == GC_OK, "%s: %s:%ld:%ld: %s", what, err.file, err.line, err.col,
	              err.msg);
	mem = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(gc_report_json(mem, rep.cases, rep.n_cases, &rep.options), GC_OK);
	ck_assert_int_eq(fclose(mem), 0);
	gc_json_report_free(&rep);
	return out;
}

static void round_trip(const char *text, const char *what)
{
	char *again = rewrite(text, what);

	ck_assert_msg(strcmp(again, text) == 0, "%s: written again differently", what);
	free(again);
}

START_TEST(test_fixtures_round_trip)
{
	static const char *const files[] = { "tests/data/fixtures/demo.json",
	                                     "tests/data/fixtures/fail.json",
	                                     "tests/data/fixtures/error.json" };

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *text = cli_slurp(files[i]);
		ck_assert_msg(text[0] == '{', "%s missing", files[i]);
		round_trip(text, files[i]);
		free(text);
	}
}
END_TEST

/* Reports of runs with other options, from the program under test. */
START_TEST(test_runs_round_trip)
{
	static const char *const runs[] = {
		"--shard 1/3 cases/",
		"--shard 3/3 --grad tests/data/fixtures/seed003_buggy.grad.json tests/data/case/seed003.json",
		"--fast --seed 7 cases/",
		"--fast --shard 2/2 --grad tests/data/fixtures/seed003_buggy.grad.json tests/data/case/seed003.json",
		"--method five-point --show all --grad tests/data/fixtures/seed003_buggy.grad.json tests/data/case/seed003.json",
		"--sample 3 --seed 18446744073709551615 --rtol 1e-12 --atol 1e-300 cases/act_relu.json cases/seed002_batch_3_5_2.json",
		"--step 1e-4 --shard 2/5 cases/act_relu.json tests/data/case/bad_syntax.json",
	};

	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
		cli_run r = cli_gradcheck("--format json %s", runs[i]);
		ck_assert_msg(r.out[0] == '{', "%s: no report (%s)", runs[i], r.err);
		round_trip(r.out, runs[i]);
		cli_free(&r);
	}
}
END_TEST

/* A report with one field replaced (the first occurrence of from by to) is refused
 * with msg; the message starts with the key path. */
static void refused(const char *from, const char *to, const char *msg)
{
	char *text = cli_slurp("tests/data/fixtures/fail.json"), *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *bad = malloc(n);
	gc_json_report rep;
	gc_error err;

	ck_assert_msg(at != NULL, "no %s in fail.json", from);
	snprintf(bad, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	ck_assert_int_eq(gc_report_json_read(bad, strlen(bad), "fail.json", &rep, &err), GC_EINVAL);
	ck_assert_msg(strcmp(err.msg, msg) == 0, "got \"%s\", expected \"%s\"", err.msg, msg);
	ck_assert_str_eq(err.file, "fail.json");
	ck_assert_int_gt(err.line, 1);
	free(text);
}

START_TEST(test_malformed_refused)
{
	refused("\"method\":\t\"central\"", "\"method\":\t\"three-point\"",
	        "options.method: expected \"central\" or \"five-point\", got \"three-point\"");
	refused("\"status\":\t\"fail\"", "\"status\":\t\"FAIL\"",
	        "cases[0].status: expected \"pass\", \"fail\" or \"error\", got \"FAIL\"");
	refused("\"kind\":\t\"sign\"", "\"kind\":\t\"flip\"",
	        "cases[0].diagnoses[0].kind: expected \"scale\", \"sign\", \"zero\", "
	        "\"transpose\" or \"entry_layer\", got \"flip\"");
	refused("\"flat\":\t5", "\"flat\":\t9",
	        "cases[0].tensors[1].worst[0].flat: expected an integer from 4 to 5, got 9");
	refused("\"checked\":\t4,", "\"checked\":\t-4,",
	        "cases[0].tensors[0].checked: expected an integer >= 0, got -4");
}
END_TEST

static Suite *report_json_suite(void)
{
	Suite *s = suite_create("report_json");
	TCase *tc = tcase_create("read");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fixtures_round_trip);
	tcase_add_test(tc, test_runs_round_trip);
	tcase_add_test(tc, test_malformed_refused);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(report_json_suite)
