/* test_speedcli.c - the speed options from the command line: --jobs gives the same
 * report for any N, and --fast, --sample and --method five-point work on a network
 * large enough for them to matter (and catch a wrong gradient there). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "testutil.h"
#include "cli.h"

/* [32,64,64,10], tanh, tanh, identity, mse, batch 16: 6922 parameters. */
static const char big_case[] =
	"{\"name\": \"big\", \"layers\": [32, 64, 64, 10],"
	" \"activations\": [\"tanh\", \"tanh\", \"identity\"], \"loss\": \"mse\","
	" \"init\": {\"seed\": 1, \"distribution\": \"xavier\", \"scale\": 1},"
	" \"data\": {\"seed\": 2, \"batch\": 16}}\n";
enum { BIG_PARAMS = 32 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10 };
static const size_t big_sizes[6] = { 64 * 32, 64, 64 * 64, 64, 10 * 64, 10 };

static char *big_path, *bad_path;

/* The gradient file of the big case with every element of W2 doubled. */
static void write_bad_gradient(void)
{
	cli_run r = cli_gradcheck("grad '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	cJSON *g = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(g);
	cJSON *w2 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "gradients"),
	                                                   "weights"), 1);
	cJSON *row, *x;
	size_t n = 0;
	ck_assert_ptr_nonnull(w2);
	cJSON_ArrayForEach(row, w2)
		cJSON_ArrayForEach(x, row) {
			cJSON_SetNumberValue(x, 2 * x->valuedouble);
			n++;
		}
	ck_assert_uint_eq(n, 64 * 64);
	char *text = cJSON_Print(g);
	ck_assert_ptr_nonnull(text);
	bad_path = cli_temp_file(text, ".grad.json");
	cJSON_free(text);
	cJSON_Delete(g);
	cli_free(&r);
}

static void setup(void)
{
	big_path = cli_temp_file(big_case, ".json");
	write_bad_gradient();
}

static void teardown(void)
{
	unlink(big_path);
	unlink(bad_path);
	free(big_path);
	free(bad_path);
}

/* The JSON report's only case. */
static cJSON *only_case(cJSON *report)
{
	ck_assert_ptr_nonnull(report);
	cJSON *cases = cJSON_GetObjectItem(report, "cases");
	ck_assert_int_eq(cJSON_GetArraySize(cases), 1);
	return cJSON_GetArrayItem(cases, 0);
}

static double num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(obj, key);
	ck_assert_msg(cJSON_IsNumber(v), "no number %s", key);
	return v->valuedouble;
}

/* Runs ARGS with --jobs 1, 2 and 3 and checks the three outputs are the same;
 * returns the status. */
static int same_for_jobs(const char *args)
{
	cli_run r1 = cli_gradcheck("--jobs 1 %s", args);
	cli_run r2 = cli_gradcheck("--jobs 2 %s", args);
	cli_run r3 = cli_gradcheck("--jobs 3 %s", args);
	int status = r1.status;

	ck_assert_msg(strlen(r1.out) > 100, "%s: %s", args, r1.err);
	ck_assert_str_eq(r1.out, r2.out);
	ck_assert_str_eq(r1.out, r3.out);
	ck_assert_int_eq(r1.status, r2.status);
	ck_assert_int_eq(r1.status, r3.status);
	cli_free(&r1);
	cli_free(&r2);
	cli_free(&r3);
	return status;
}

START_TEST(test_jobs_same_report_cases)
{
	ck_assert_int_eq(same_for_jobs("--format json cases/"), 0);
	ck_assert_int_eq(same_for_jobs("--format json --method five-point cases/"), 0);
	ck_assert_int_eq(same_for_jobs("--format text --sample 3 --seed 9 cases/"), 0);

	cli_run r = cli_gradcheck("--jobs 2 --sample 2 cases/");
	ck_assert_int_eq(r.status, 0);
	const char *last = cli_last_line(r.out);
	ck_assert_msg(strstr(last, " passed, 0 failed") != NULL, "%s", last);
	cli_free(&r);
}
END_TEST

START_TEST(test_jobs_same_report_big)
{
	char args[512];

	snprintf(args, sizeof args, "--format json '%s'", big_path);
	ck_assert_int_eq(same_for_jobs(args), 0);
	snprintf(args, sizeof args, "--format json --grad '%s' '%s'", bad_path, big_path);
	ck_assert_int_eq(same_for_jobs(args), 1);
	snprintf(args, sizeof args, "--format json --fast --seed 4 '%s'", big_path);
	ck_assert_int_eq(same_for_jobs(args), 0);
}
END_TEST

START_TEST(test_big_full)
{
	cli_run r = cli_gradcheck("--format json '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	cJSON *rep = cJSON_Parse(r.out);
	cJSON *c = only_case(rep);
	ck_assert_double_eq(num(c, "params"), BIG_PARAMS);
	ck_assert_double_eq(num(c, "checked"), BIG_PARAMS);
	ck_assert_double_eq(num(c, "failed"), 0);
	cJSON_Delete(rep);
	cli_free(&r);
}
END_TEST

START_TEST(test_big_sample)
{
	cli_run r = cli_gradcheck("--format json --sample 7 --seed 5 '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	cJSON *rep = cJSON_Parse(r.out);
	cJSON *c = only_case(rep), *t;
	size_t k = 0;
	ck_assert_double_eq(num(c, "checked"), 6 * 7);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors")) {
		ck_assert_double_eq(num(t, "checked"), 7);
		ck_assert_uint_lt(k, 6);
		k++;
	}
	ck_assert_uint_eq(k, 6);
	cJSON_Delete(rep);
	cli_free(&r);

	/* every element of a tensor no larger than the sample */
	r = cli_gradcheck("--format json --sample 64 '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	rep = cJSON_Parse(r.out);
	c = only_case(rep);
	ck_assert_double_eq(num(c, "checked"), 6 * 64 - (64 - 10));
	cJSON_Delete(rep);
	cli_free(&r);
}
END_TEST

START_TEST(test_big_fast)
{
	cli_run r = cli_gradcheck("--format json --fast '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	cJSON *rep = cJSON_Parse(r.out);
	cJSON *c = only_case(rep), *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors")) {
		ck_assert_double_eq(num(t, "checked"), 4);
		ck_assert_double_eq(num(t, "failed"), 0);
	}
	cJSON_Delete(rep);
	cli_free(&r);
}
END_TEST

START_TEST(test_big_five_point)
{
	cli_run r = cli_gradcheck("--format json --method five-point '%s'", big_path);
	ck_assert_int_eq(r.status, 0);
	cJSON *rep = cJSON_Parse(r.out);
	cJSON *c = only_case(rep), *t;
	ck_assert_double_eq(num(c, "checked"), BIG_PARAMS);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors")) {
		ck_assert_double_eq(num(t, "failed"), 0);
		ck_assert_double_le(num(t, "max_abs"), 1e-8);
	}
	cJSON_Delete(rep);
	cli_free(&r);
}
END_TEST

/* W2 doubled: every mode finds it, only W2 fails, and the full check says "scale". */
static void expect_w2_caught(const char *mode, int full)
{
	cli_run r = cli_gradcheck("--format json %s --grad '%s' '%s'", mode, bad_path, big_path);
	ck_assert_msg(r.status == 1, "%s: status %d, %s", mode, r.status, r.err);
	cJSON *rep = cJSON_Parse(r.out);
	cJSON *c = only_case(rep), *t, *d;
	size_t k = 0;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors")) {
		double failed = num(t, "failed");
		if (k == 2)
			ck_assert_msg(failed >= 1, "%s: W2 not caught", mode);
		else
			ck_assert_msg(failed == 0, "%s: tensor %zu failed", mode, k);
		if (k == 2 && full)
			ck_assert_double_eq(failed, big_sizes[2]);
		k++;
	}
	int scale = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diagnoses")) {
		const cJSON *kind = cJSON_GetObjectItem(d, "kind");
		const cJSON *tensor = cJSON_GetObjectItem(d, "tensor");
		if (cJSON_IsString(kind) && strcmp(kind->valuestring, "scale") == 0 &&
		    cJSON_IsString(tensor) && strcmp(tensor->valuestring, "W2") == 0)
			scale = 1;
	}
	if (full)
		ck_assert_msg(scale, "%s: no scale diagnosis for W2", mode);
	cJSON_Delete(rep);
	cli_free(&r);
}

START_TEST(test_big_wrong_gradient)
{
	expect_w2_caught("", 1);
	expect_w2_caught("--method five-point", 1);
	expect_w2_caught("--sample 3 --seed 1", 0);
	expect_w2_caught("--fast --seed 2", 0);
}
END_TEST

static Suite *speedcli_suite(void)
{
	Suite *s = suite_create("speedcli");
	TCase *tc = tcase_create("speedcli");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_jobs_same_report_cases);
	tcase_add_test(tc, test_jobs_same_report_big);
	tcase_add_test(tc, test_big_full);
	tcase_add_test(tc, test_big_sample);
	tcase_add_test(tc, test_big_fast);
	tcase_add_test(tc, test_big_five_point);
	tcase_add_test(tc, test_big_wrong_gradient);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(speedcli_suite)
