/* test_protocol.c - --exec and --grad end to end: a correct external program
 * passes, each planted bug fails with the right diagnosis kind, and every way an
 * external program can misbehave is a case error (exit 2) that names the problem. */
#include <cjson/cJSON.h>
#include "cli.h"
#include "testutil.h"

#define NUMPY "examples/numpy_backprop.py"
#define MEDIUM "cases/medium_16_32_32_8.json"

/* The diagnoses of the first case of a JSON report, as "tensor:kind" words. */
static int has_diagnosis(const cJSON *report, const char *tensor, const char *kind)
{
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0), *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diagnoses")) {
		if (strcmp(cJSON_GetObjectItem(d, "tensor")->valuestring, tensor) == 0 &&
		    strcmp(cJSON_GetObjectItem(d, "kind")->valuestring, kind) == 0)
			return 1;
	}
	return 0;
}

static cJSON *run_bug(const char *bug, const char *kase, int want_status)
{
	cli_run r = cli_gradcheck("--format json --exec '" NUMPY " --bug %s' %s", bug, kase);
	cJSON *report = cJSON_Parse(r.out);

	ck_assert_msg(r.status == want_status, "--bug %s: exit %d, stderr %s", bug, r.status, r.err);
	ck_assert_ptr_nonnull(report);
	cli_free(&r);
	return report;
}

START_TEST(test_correct_programs_pass)
{
	cli_run r = cli_gradcheck("--exec " NUMPY " cases/");

	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(cli_last_line(r.out), " passed, 0 failed"));
	cli_free(&r);
	/* built in a folder of its own: tests/bin is not there when only make sanitize ran */
	char dir[] = "/tmp/gc_c_backprop_XXXXXX", cmd[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cc -std=c11 -O2 -o %s/c_backprop examples/c_backprop.c "
	         "$(pkg-config --cflags --libs libcjson) -lm", dir);
	ck_assert_int_eq(system(cmd), 0);
	/* every case, the conventions' included */
	r = cli_gradcheck("--exec %s/c_backprop cases/", dir);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(cli_last_line(r.out), " passed, 0 failed"));
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_doubled_last_layer)
{
	cJSON *rep = run_bug("double-last", MEDIUM, 1);
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "cases"), 0), *d;

	ck_assert(has_diagnosis(rep, "W3", "scale"));
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diagnoses"))
		if (strcmp(cJSON_GetObjectItem(d, "kind")->valuestring, "scale") == 0)
			ck_assert_double_eq_tol(cJSON_GetObjectItem(d, "factor")->valuedouble, 2, 1e-6);
	cJSON_Delete(rep);
}
END_TEST

START_TEST(test_sign_flip)
{
	cJSON *rep = run_bug("sign", MEDIUM, 1);

	ck_assert(has_diagnosis(rep, "W1", "sign"));
	ck_assert(has_diagnosis(rep, "b3", "sign"));
	cJSON_Delete(rep);
}
END_TEST

START_TEST(test_transposed_square_weight)
{
	cJSON *rep = run_bug("transpose", MEDIUM, 1);

	ck_assert(has_diagnosis(rep, "W2", "transpose"));
	cJSON_Delete(rep);
}
END_TEST

START_TEST(test_zeroed_bias)
{
	cJSON *rep = run_bug("zero-bias", MEDIUM, 1);

	ck_assert(has_diagnosis(rep, "b1", "zero"));
	cJSON_Delete(rep);
}
END_TEST

START_TEST(test_missing_activation_derivative)
{
	cJSON *rep = run_bug("no-act-deriv-1", MEDIUM, 1);
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "cases"), 0), "diagnoses"), 0);

	ck_assert(has_diagnosis(rep, "W1", "entry_layer"));
	ck_assert_int_eq(cJSON_GetObjectItem(d, "layer")->valueint, 1);
	cJSON_Delete(rep);
}
END_TEST

START_TEST(test_one_element_reported_by_index)
{
	cJSON *rep = run_bug("one-element", MEDIUM, 1);
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "cases"), 0);
	const cJSON *w1 = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "tensors"), 0);
	const cJSON *worst = cJSON_GetArrayItem(cJSON_GetObjectItem(w1, "worst"), 0);

	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "diagnoses")), 0);
	ck_assert_int_eq(cJSON_GetObjectItem(w1, "failed")->valueint, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(worst, "index")->valuestring, "W1[0,0]");
	ck_assert_double_eq_tol(cJSON_GetObjectItem(worst, "rel")->valuedouble, 1e-3 / (1 + 1e-3), 1e-8);
	cJSON_Delete(rep);
}
END_TEST

/* Seed 002's backpropagation_batch: mse_der divides by B instead of B*m, so W2 and
 * b2 are m/B = 1/2 of the truth, and every layer is wrong from the output down. */
START_TEST(test_seed002_program)
{
	cli_run r = cli_gradcheck("--format json --exec examples/seed002_batch.py "
	                          "cases/seed002_batch_3_5_2.json");
	cJSON *rep = cJSON_Parse(r.out);

	ck_assert_int_eq(r.status, 1);
	ck_assert(has_diagnosis(rep, "W2", "scale"));
	ck_assert(has_diagnosis(rep, "b2", "scale"));
	ck_assert(has_diagnosis(rep, "W2", "entry_layer"));
	cJSON_Delete(rep);
	cli_free(&r);
}
END_TEST

/* Seed 001's L_prime forgets the sigmoid in P: every layer is wrong, the output's too. */
START_TEST(test_seed001_program)
{
	cli_run r = cli_gradcheck("--exec examples/seed001_lprime.py "
	                          "cases/seed001_logistic_2_3_1.json");

	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "the error enters at the output (layer 2)"));
	cli_free(&r);
}
END_TEST

static void expect_case_error(const char *exec, const char *extra, const char *message)
{
	cli_run r = cli_gradcheck("%s --exec '%s' cases/seed003_sigmoid_2_2_1.json "
	                          "cases/act_tanh.json", extra, exec);

	ck_assert_msg(r.status == 2, "%s: exit %d", exec, r.status);
	ck_assert_str_eq(cli_last_line(r.out), "0 passed, 2 failed");
	ck_assert_msg(strstr(r.err, message), "%s: stderr lacks '%s': %s", exec, message, r.err);
	cli_free(&r);
}

START_TEST(test_program_failures_are_case_errors)
{
	expect_case_error("echo garbage", "", "invalid JSON");
	expect_case_error("echo oops >&2; exit 3", "", "exit status 3");
	expect_case_error("echo oops >&2; exit 3", "", "oops");
	/* a sleep of this test's own, so that another test run's cannot match below */
	char sleeper[64], pgrep[96];
	snprintf(sleeper, sizeof sleeper, "exec sleep 37.%ld", (long)getpid());
	snprintf(pgrep, sizeof pgrep, "pgrep -f '[s]leep 37.%ld$' >/dev/null", (long)getpid());
	expect_case_error(sleeper, "--timeout 0.3", "timed out");
	char *wrong_shape = cli_temp_file("{\"gradients\": {\"weights\": [[1]], \"biases\": []}}",
	                                  ".grad.json");
	char cat[128];
	snprintf(cat, sizeof cat, "cat %s", wrong_shape);
	expect_case_error(cat, "", "gradients.weights");
	unlink(wrong_shape);
	free(wrong_shape);
	expect_case_error("yes", "", "output over");
	/* the timed-out program's process group is gone: pgrep exits 1 (no match), not 0
	 * (still running) nor 127 (pgrep missing: procps, which make check installs) */
	int st = system(pgrep);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s exited %d (0: the timed-out "
	              "program still runs; 127: pgrep is not installed)", pgrep,
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

START_TEST(test_grad_file_wrong_shape)
{
	char *path = cli_temp_file("{\"gradients\": {\"weights\": [[[1, 2]], [[3], [4]]],"
	                           " \"biases\": [[0, 0], [0]]}}\n", ".grad.json");
	cli_run r = cli_gradcheck("--grad %s cases/seed003_sigmoid_2_2_1.json", path);

	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "W1"));
	cli_free(&r);
	unlink(path);
	free(path);
}
END_TEST

static Suite *protocol_suite(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = tcase_create("protocol");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_correct_programs_pass);
	tcase_add_test(tc, test_doubled_last_layer);
	tcase_add_test(tc, test_sign_flip);
	tcase_add_test(tc, test_transposed_square_weight);
	tcase_add_test(tc, test_zeroed_bias);
	tcase_add_test(tc, test_missing_activation_derivative);
	tcase_add_test(tc, test_one_element_reported_by_index);
	tcase_add_test(tc, test_seed002_program);
	tcase_add_test(tc, test_seed001_program);
	tcase_add_test(tc, test_program_failures_are_case_errors);
	tcase_add_test(tc, test_grad_file_wrong_shape);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(protocol_suite)
