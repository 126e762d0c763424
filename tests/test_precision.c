/* test_precision.c - --precision single and "check": {"precision": "single"} (README
 * "Conventions"): a float32 build of examples/numpy_backprop.py passes every case in
 * cases/ under them and not without them, and a gradient with one element off by
 * 1e-2 relative still fails. */
#include <math.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "testutil.h"

#define FLOAT32 "'examples/numpy_backprop.py --float32'"

START_TEST(test_float32_passes)
{
	cli_run r = cli_gradcheck("--precision single --exec " FLOAT32 " cases/");
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(cli_last_line(r.out), " passed, 0 failed"));
	cli_free(&r);
	/* the same under float64's tolerances fails: the calibration is needed */
	r = cli_gradcheck("--exec " FLOAT32 " cases/");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "diagnosis (precision): every failure is as small "
	                             "as single-precision rounding"));
	cli_free(&r);
}
END_TEST

/* The case's check block says the same as the option, and only "single" or "double". */
START_TEST(test_check_block)
{
	char dir[] = "/tmp/gc_prec_XXXXXX", path[64], cmd[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/c.json", dir);
	snprintf(cmd, sizeof cmd, "sed 's/\"layers\"/\"check\": {\"precision\": \"single\"}, "
	         "\"layers\"/' cases/medium_16_32_32_8.json > %s", path);
	ck_assert_int_eq(system(cmd), 0);
	cli_run r = cli_gradcheck("--exec " FLOAT32 " %s", path);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	cli_free(&r);
	r = cli_gradcheck("--exec " FLOAT32 " cases/medium_16_32_32_8.json");
	ck_assert_int_eq(r.status, 1);
	cli_free(&r);

	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("{\"layers\": [1, 1], \"activations\": \"identity\", \"loss\": \"sse\", "
	      "\"data\": {}, \"check\": {\"precision\": \"half\"}}\n", fp);
	fclose(fp);
	r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, ":1:97: check.precision: expected \"double\" or "
	                             "\"single\", got \"half\""));
	cli_free(&r);
	r = cli_gradcheck("--precision half %s", path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--precision: expected double or single, got 'half'"));
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Element `which` of the float64 gradient of seed004 (0: the largest in magnitude;
 * 1: the smallest at least 1e-3 x the largest) times 1.01, checked with --precision
 * single: exactly that element fails. */
START_TEST(test_one_element_off)
{
	cli_run g = cli_gradcheck("grad cases/seed004_deep_relu.json");
	ck_assert_int_eq(g.status, 0);
	cJSON *doc = cJSON_Parse(g.out), *w, *m, *row, *x, *pick = NULL;
	double big = 0;
	ck_assert_ptr_nonnull(doc);
	w = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gradients"), "weights");
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(m, w) cJSON_ArrayForEach(row, m) cJSON_ArrayForEach(x, row) {
			double v = fabs(x->valuedouble);
			if (pass == 0)
				big = fmax(big, v);
			else if (_i == 0 ? v == big
			         : v >= 1e-3 * big && (!pick || v < fabs(pick->valuedouble)))
				pick = x;
		}
	ck_assert_ptr_nonnull(pick);
	cJSON_SetNumberValue(pick, pick->valuedouble * 1.01);
	char *text = cJSON_Print(doc);
	FILE *fp = fopen("/tmp/gc_prec_off.grad.json", "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	cli_run r = cli_gradcheck("--precision single --grad /tmp/gc_prec_off.grad.json "
	                          "cases/seed004_deep_relu.json");
	ck_assert_msg(r.status == 1, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, ": 1 of "));
	unlink("/tmp/gc_prec_off.grad.json");
	free(text);
	cJSON_Delete(doc);
	cli_free(&g);
	cli_free(&r);
}
END_TEST

static Suite *precision_suite(void)
{
	Suite *s = suite_create("precision");
	TCase *tc = tcase_create("precision");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_float32_passes);
	tcase_add_test(tc, test_check_block);
	tcase_add_loop_test(tc, test_one_element_off, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(precision_suite)
