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

/* Writes the n cases with options o, reads that back, and writes again: same bytes. */
static void structs_round_trip(const gc_case_report *cases, size_t n,
                               const gc_report_options *o, const char *what)
{
	char *text = NULL;
	size_t len;
	FILE *mem = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(gc_report_json(mem, cases, n, o), GC_OK);
	ck_assert_int_eq(fclose(mem), 0);
	round_trip(text, what);
	free(text);
}

/* Every field the writer writes, each with a value other than its default, so a field
 * the reader skipped would be written again as its default and the bytes would differ:
 * every verdict, est_err, non-finite values (null), digests, scale and entry_layer diagnoses,
 * batch and outputs, notes, an error message with a byte that is not UTF-8, a NaN loss,
 * a case without a result, a seed above 2^53, a shard (elements listed), five-point,
 * --sample, --show all; then a --fast report with direction and element tensors. */
START_TEST(test_every_field_round_trip)
{
	static const char *const notes[] = { "expect: loss 1 != 2", "a second note" };
	gc_element el[7] = {
		{ 0, 1.5, 1.5, 0, 0, 1e-12, 6e-6, GC_ELEM_PASS },
		{ 1, -2, 2, 4, 1, 3e-11, 6e-6, GC_ELEM_FAIL },
		{ 2, 0.25, 0.5, 0.25, 0.5, 0, 1.5e-6, GC_ELEM_KINK },
		{ 3, 1e-20, 3e-20, 2e-20, 0.6666666666666666, 1e-19, 2.4e-5, GC_ELEM_UNRELIABLE },
		{ 4, 0, 0, 0, 0, 0, 0, GC_ELEM_SKIPPED },
		{ 5, NAN, 7, INFINITY, INFINITY, 2e-9, 6e-6, GC_ELEM_FAIL },
		{ 6, 3, 3.0000000000000004, 4.440892098500626e-16, 1.4802973661668753e-16,
		  5e-17, 1e-3, GC_ELEM_PASS },
	};
	gc_element w1_worst[1] = { el[1] }, b1_worst[1] = { el[5] };
	gc_tensor_result tr[2] = {
		{ .tensor = { "W1", 0, 2, 2, 1, 1 }, .checked = 3, .failed = 1, .kinks = 1,
		  .max_rel = 1, .max_abs = 4, .worst = w1_worst, .n_worst = 1, .unreliable = 1 },
		{ .tensor = { "b1", 4, 3, 1, 2, 0 }, .checked = 2, .failed = 1, .kinks = 0,
		  .max_rel = INFINITY, .max_abs = INFINITY, .worst = b1_worst, .n_worst = 1 },
	};
	gc_diagnosis dg[3] = {
		{ "W1", GC_DIAG_SCALE, 0.5, 1, "W1 is 0.5 x the true gradient", 0 },
		{ "b1", GC_DIAG_ENTRY_LAYER, 0, 2, "layer 2 and below wrong", 0 },
		{ "W1", GC_DIAG_SIGN, 0, 1, "W1 has the wrong sign", 0 },
	};
	gc_result r = { .n = 7, .elements = el, .tensors = tr, .n_tensors = 2, .diagnoses = dg,
	                .n_diagnoses = 3, .checked = 5, .failed = 2, .kinks = 1,
	                .atol_used = 1e-300, .rtol_used = 2e-7, .batch = 4, .outputs = 3,
	                .unreliable = 1 };
	gc_case_report cases[4] = {
		{ "full", GC_CASE_FAIL, NULL, 7, 2.5e-20, &r, notes, 2, "0123456789abcdef" },
		{ "broken", GC_CASE_ERROR, "cases/broken.json:3:7: bad \xff byte", 0, 0, NULL, NULL, 0,
		  NULL },
		{ "nan-loss", GC_CASE_PASS, NULL, 7, NAN, &r, NULL, 0, "fedcba9876543210" },
		{ "no-result", GC_CASE_PASS, NULL, 3, -1e12, NULL, notes + 1, 1, NULL },
	};
	gc_report_options o;

	gc_report_options_init(&o);
	o.check.step = 1e-4;
	o.check.rtol = 2e-7;
	o.check.atol = 1e-300;
	o.check.method = GC_METHOD_FIVE_POINT;
	o.check.sample = 5;
	o.check.seed = 18446744073709551557UL;
	o.check.shard_index = 2;
	o.check.shard_count = 3;
	o.show = SIZE_MAX;
	structs_round_trip(cases, 4, &o, "every field, sharded");

	/* fast: W1's counts are of directions, b1 was redone element by element */
	gc_element dir_worst[1] = { { 2, 1, -1, 2, 1, 0, 6e-6, GC_ELEM_FAIL } };
	tr[0].worst = dir_worst;
	tr[0].directions = 1;
	r.elements = NULL;
	o.check.fast = 1;
	o.check.method = GC_METHOD_CENTRAL;
	o.check.shard_index = o.check.shard_count = 0;
	o.show = 2;
	o.check.seed = 7;
	structs_round_trip(cases, 4, &o, "every field, fast");
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
	        "\"transpose\", \"entry_layer\", \"regularization\", \"loss_scale\", \"precision\" or \"weight_product\", got \"flip\"");
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
	tcase_add_test(tc, test_every_field_round_trip);
	tcase_add_test(tc, test_malformed_refused);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(report_json_suite)
