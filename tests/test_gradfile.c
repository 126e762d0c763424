/* test_gradfile.c - gradient files (README "Check your own implementation"): reading,
 * shapes, transposed matrices, errors with key paths and positions, and the exact
 * print/parse round trip. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "case.h"
#include "gradfile.h"

#define MAX_FILE gc_case_default_limits.max_file

#define DIR "tests/data/grad/"

/* layers [3, 2, 2], out_in, biases: W1 2x3, b1 2, W2 2x2, b2 2; 14 parameters. */
static const char case_text[] =
	"{\"layers\": [3, 2, 2], \"activations\": \"tanh\", \"loss\": \"sse\", \"data\": {}}";
static const char case_nobias_text[] =
	"{\"layers\": [3, 2, 2], \"activations\": \"tanh\", \"loss\": \"sse\", \"data\": {},"
	" \"bias\": false}";

static gc_case *make_case(const char *text)
{
	gc_case *c = NULL;
	gc_error err;

	ck_assert_int_eq(gc_case_parse(text, strlen(text), "grad-test.json", &c, &err), 0);
	return c;
}

/* The files hold W1 = 1..6, W2 = 7..10, b1 = 11, 12, b2 = 13, 14; theta order is
 * W1, b1, W2, b2. */
static const double theta_order[14] = { 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14 };

static const struct bad_grad {
	const char *file, *msg;
	long line, col;
} bad_grads[] = {
	{ "bad_shape.grad.json", "gradients.weights[1]: expected shape [2][2] (W2, out_in: n_2 x n_1), got [5]", 6, 7 },
	{ "bad_inf.grad.json", "gradients.weights[1][1][0]: number is not finite", 6, 17 },
	{ "bad_no_biases.grad.json", "gradients.biases: missing", 3, 16 },
	{ "bad_count.grad.json", "gradients.weights: expected 2 matrices W1..W2 (one per weight layer), got 3", 4, 16 },
	{ "bad_bias_len.grad.json", "gradients.biases[1]: expected 2 numbers (b2: n_2), got 1", 8, 26 },
	{ "bad_string.grad.json", "gradients.weights[0][1][1]: expected a number, or \"NaN\", "
	  "\"Infinity\" or \"-Infinity\", got \"5\"", 5, 23 },
	{ "bad_unknown_key.grad.json", "grads: unknown key", 3, 12 },
	{ "bad_loss.grad.json", "loss: expected a number, got an array", 2, 11 },
	{ "bad_no_gradients.grad.json", "gradients: missing", 1, 1 },
	{ "bad_no_weights.grad.json", "gradients.weights: missing", 1, 15 },
	{ "bad_not_object.grad.json", "a gradient file must be a JSON object, got a string", 1, 1 },
};

START_TEST(test_bad_gradfile)
{
	const struct bad_grad *b = &bad_grads[_i];
	gc_case *c = make_case(case_text);
	double grad[14];
	unsigned char tr[4];
	int has_loss;
	double loss;
	char path[256];
	gc_error err;

	snprintf(path, sizeof path, DIR "%s", b->file);
	ck_assert_int_ne(gc_gradfile_load(path, MAX_FILE, c, grad, tr, &has_loss, &loss, &err), 0);
	ck_assert_str_eq(err.file, path);
	ck_assert_msg(strstr(err.msg, b->msg) != NULL, "%s: got \"%s\", want \"%s\"", b->file,
		      err.msg, b->msg);
	ck_assert_msg(err.line == b->line && err.col == b->col, "%s: got %ld:%ld, want %ld:%ld",
		      b->file, err.line, err.col, b->line, b->col);
	gc_case_free(c);
}
END_TEST

START_TEST(test_good)
{
	gc_case *c = make_case(case_text);
	double grad[14], loss = 0;
	unsigned char tr[4] = { 9, 9, 9, 9 };
	int has_loss = 0;
	gc_error err;

	ck_assert_int_eq(gc_gradfile_load(DIR "good.grad.json", MAX_FILE, c, grad, tr, &has_loss, &loss, &err), 0);
	ck_assert_int_eq(has_loss, 1);
	ck_assert(loss == 0.5);
	for (size_t i = 0; i < 14; i++)
		ck_assert(grad[i] == theta_order[i]);
	for (size_t t = 0; t < 4; t++)
		ck_assert_int_eq(tr[t], 0);
	gc_case_free(c);
}
END_TEST

/* NaN, Infinity and -Infinity, as Python's json writes them, read as those values;
 * the same words as strings, or inside strings, do not. */
START_TEST(test_nonfinite)
{
	gc_case *c = make_case(case_text);
	double grad[14], loss = 0;
	int has_loss = 0;
	gc_error err;
	const char quoted[] = "{\"gradients\": {\"weights\": [[[1, 2, 3], [4, 5, 6]], "
		"[[7, 8], [\"NaN\", \"-Infinity\"]]], \"biases\": [[1, 2], [3, 4]]}, \"_c\": \"[NaN\"}";
	const char other[] = "{\"gradients\": {\"weights\": [[[1, 2, 3], [4, 5, 6]], "
		"[[7, 8], [\"nan\", 10]]], \"biases\": [[1, 2], [3, 4]]}}";
	const char in_key[] = "{\"_x, NaN\": 1, \"loss\": -Infinity, \"gradients\": "
		"{\"weights\": [[[1, 2, 3], [4, 5, 6]], [[7, 8], [9, 10]]], \"biases\": [[1, 2], [3, 4]]}}";

	ck_assert_int_eq(gc_gradfile_load(DIR "nonfinite.grad.json", MAX_FILE, c, grad, NULL,
					  &has_loss, &loss, &err), 0);
	/* theta order W1, b1, W2, b2: W2 = [[7, inf], [nan, -inf]] at 8..11 */
	ck_assert(grad[8] == 7);
	ck_assert(isinf(grad[9]) && grad[9] > 0);
	ck_assert(isnan(grad[10]));
	ck_assert(isinf(grad[11]) && grad[11] < 0);
	/* as gradcheck records them: the strings "NaN", "Infinity", "-Infinity" */
	ck_assert_int_eq(gc_gradfile_parse(quoted, strlen(quoted), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert(isnan(grad[10]));
	ck_assert(isinf(grad[11]) && grad[11] < 0);
	ck_assert_int_ne(gc_gradfile_parse(other, strlen(other), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert_str_eq(err.msg, "gradients.weights[1][1][0]: expected a number, or \"NaN\", "
	                 "\"Infinity\" or \"-Infinity\", got \"nan\"");
	/* a key no near spelling explains gets the key it starts like */
	const char grads[] = "{\"grads\": {\"weights\": []}}";
	ck_assert_int_ne(gc_gradfile_parse(grads, strlen(grads), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert_str_eq(err.msg, "grads: unknown key (did you mean \"gradients\"?)");
	ck_assert_int_eq(gc_gradfile_parse(in_key, strlen(in_key), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert(has_loss && isinf(loss) && loss < 0);
	gc_case_free(c);
}
END_TEST

/* Biases written as columns [[b1], [b2]] read like flat ones, in a case and in a
 * gradient file, and a case that wrote them so gets them back so. */
START_TEST(test_column_biases)
{
	gc_case *c = make_case("{\"layers\": [1, 2, 1], \"activations\": \"tanh\", \"loss\": "
			       "\"sse\", \"data\": {}, \"params\": {\"weights\": [[[1], [2]], "
			       "[[3, 4]]], \"biases\": [[[5], [6]], [[7]]]}}");
	const char col[] = "{\"gradients\": {\"weights\": [[[1], [2]], [[3, 4]]], "
		"\"biases\": [[[5], [6]], [[7]]]}}";
	const char flat[] = "{\"gradients\": {\"weights\": [[1, 2], [3, 4]], "
		"\"biases\": [[5, 6], [7]]}}";
	const double want[7] = { 1, 2, 5, 6, 3, 4, 7 };
	double grad[7], loss;
	int has_loss;
	gc_error err;

	ck_assert_int_eq(c->bias_columns, 1);
	ck_assert(memcmp(c->theta, want, sizeof want) == 0);
	ck_assert_int_eq(gc_gradfile_parse(col, strlen(col), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert(memcmp(grad, want, sizeof want) == 0);
	ck_assert_int_eq(gc_gradfile_parse(flat, strlen(flat), "mem", c, grad, NULL, &has_loss,
					   &loss, &err), 0);
	ck_assert(memcmp(grad, want, sizeof want) == 0);
	char *text = gc_gradfile_print(c, 1, grad);
	cJSON *doc = cJSON_Parse(text);
	cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gradients"), "biases");
	ck_assert(cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetArrayItem(b, 0), 1), 0)->valuedouble == 6);
	cJSON_Delete(doc);
	cJSON_free(text);
	text = gc_case_resolve(c);
	ck_assert_ptr_nonnull(strstr(text, "[[5], [6]]"));
	cJSON_free(text);
	gc_case_free(c);
}
END_TEST

/* W1 (2 x 3) given as 3 x 2: accepted, stored as given, flagged. */
START_TEST(test_transposed)
{
	gc_case *c = make_case(case_text);
	double grad[14], loss = 42;
	unsigned char tr[4];
	int has_loss = 1;
	gc_error err;
	const double w1_as_given[] = { 1, 4, 2, 5, 3, 6 };

	ck_assert_int_eq(gc_gradfile_load(DIR "transposed.grad.json", MAX_FILE, c, grad, tr, &has_loss, &loss,
					  &err), 0);
	ck_assert_int_eq(has_loss, 0);
	ck_assert(loss == 42);
	for (size_t i = 0; i < 6; i++)
		ck_assert(grad[i] == w1_as_given[i]);
	for (size_t i = 6; i < 14; i++)
		ck_assert(grad[i] == theta_order[i]);
	ck_assert_int_eq(tr[0], 1);
	ck_assert_int_eq(tr[1], 0);
	ck_assert_int_eq(tr[2], 0);
	ck_assert_int_eq(tr[3], 0);
	/* without a flag array, still accepted */
	ck_assert_int_eq(gc_gradfile_load(DIR "transposed.grad.json", MAX_FILE, c, grad, NULL, &has_loss,
					  &loss, &err), 0);
	gc_case_free(c);
}
END_TEST

/* A weight matrix of one column given as a row, and one of one row given as a column
 * ([n][1] for [1][n]): the same numbers in the same order, so no transposition is
 * flagged (that note failed the case); a true transposition still is (test_transposed). */
START_TEST(test_vector_weights_either_way)
{
	/* out_in, layers [1, 2, 1]: W1 is 2 x 1, W2 is 1 x 2 */
	gc_case *c = make_case("{\"layers\": [1, 2, 1], \"activations\": \"tanh\", \"loss\": "
			       "\"sse\", \"data\": {}}");
	const char swapped[] = "{\"gradients\": {\"weights\": [[[1, 2]], [[3], [4]]], "
		"\"biases\": [[5, 6], [[7]]]}}";
	const double want[7] = { 1, 2, 5, 6, 3, 4, 7 };
	double grad[7], loss;
	unsigned char tr[4] = { 9, 9, 9, 9 };
	int has_loss;
	gc_error err;

	ck_assert_int_eq(gc_gradfile_parse(swapped, strlen(swapped), "mem", c, grad, tr, &has_loss,
					   &loss, &err), 0);
	ck_assert(memcmp(grad, want, sizeof want) == 0);
	for (size_t t = 0; t < 4; t++)
		ck_assert_msg(tr[t] == 0, "tensor %zu flagged as transposed", t);
	gc_case_free(c);
}
END_TEST

START_TEST(test_biases_unwanted)
{
	gc_case *c = make_case(case_nobias_text);
	double grad[10];
	unsigned char tr[2];
	int has_loss;
	double loss;
	gc_error err;
	const char ok[] = "{\"gradients\": {\"weights\": [[[1, 2, 3], [4, 5, 6]], [[7, 8], [9, 10]]]}}";

	ck_assert_int_ne(gc_gradfile_load(DIR "good.grad.json", MAX_FILE, c, grad, tr, &has_loss, &loss, &err), 0);
	ck_assert_str_eq(err.msg, "gradients.biases: given, but the case has no biases (\"bias\": false)");
	ck_assert_int_eq(err.line, 9);
	ck_assert_int_eq(err.col, 15);
	ck_assert_int_eq(gc_gradfile_parse(ok, strlen(ok), "mem", c, grad, tr, &has_loss, &loss, &err), 0);
	ck_assert(grad[6] == 7 && grad[9] == 10);
	gc_case_free(c);
}
END_TEST

/* Values that need 17 significant digits (cJSON's printing loses some) read back
 * bit for bit; a non-finite value prints as null. */
START_TEST(test_print_round_trip)
{
	gc_case *c = make_case("{\"layers\": [5, 4, 3], \"activations\": \"tanh\", \"loss\": \"sse\","
			       " \"data\": {}, \"init\": {\"seed\": 77, \"scale\": 0.1}}");
	double *grad = c->theta, back[5 * 4 + 4 + 4 * 3 + 3], loss = 1.0 / 3.0, loss_back = 0;
	unsigned char tr[4];
	int has_loss = 0;
	gc_error err;
	char *text;

	ck_assert_uint_eq(c->n_params, sizeof back / sizeof back[0]);
	grad[3] = -0.0;
	grad[4] = 5e-324;
	grad[5] = 1.7976931348623157e308;
	text = gc_gradfile_print(c, loss, grad);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(gc_gradfile_parse(text, strlen(text), "printed", c, back, tr, &has_loss,
					   &loss_back, &err), 0);
	ck_assert_int_eq(has_loss, 1);
	ck_assert(memcmp(&loss_back, &loss, sizeof loss) == 0);
	ck_assert(memcmp(back, grad, sizeof back) == 0);
	ck_assert(signbit(back[3]));
	cJSON_free(text);

	/* non-finite elements and losses are written as strings and read back (--record,
	 * then --golden) */
	grad[0] = NAN;
	grad[1] = -INFINITY;
	text = gc_gradfile_print(c, loss, grad);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "[[\"NaN\", \"-Infinity\", "));
	ck_assert_int_eq(gc_gradfile_parse(text, strlen(text), "printed", c, back, tr, &has_loss,
					   &loss_back, &err), 0);
	ck_assert(isnan(back[0]) && back[1] == -INFINITY && back[2] == grad[2]);
	cJSON_free(text);
	grad[0] = grad[1] = 1;
	const double losses[] = { NAN, INFINITY, -INFINITY };
	const char *const spelled[] = { "\"NaN\"", "\"Infinity\"", "\"-Infinity\"" };
	for (size_t k = 0; k < 3; k++) {
		text = gc_gradfile_print(c, losses[k], grad);
		ck_assert_ptr_nonnull(text);
		ck_assert_ptr_nonnull(strstr(text, spelled[k]));
		ck_assert_int_eq(gc_gradfile_parse(text, strlen(text), "printed", c, back, tr,
		                                   &has_loss, &loss_back, &err), 0);
		ck_assert_int_eq(has_loss, 1);
		ck_assert(isnan(losses[k]) ? isnan(loss_back) : loss_back == losses[k]);
		cJSON_free(text);
	}
	const char *bad = "{\"loss\": \"inf\", \"gradients\": {}}";
	ck_assert_int_ne(gc_gradfile_parse(bad, strlen(bad), "bad", c, back, tr, &has_loss,
	                                   &loss_back, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "loss: expected a number, or \"NaN\""));
	gc_case_free(c);
}
END_TEST

/* The printed file has the shapes of the case's layout. */
START_TEST(test_print_shape)
{
	gc_case *c = make_case("{\"layers\": [3, 2], \"activations\": \"tanh\", \"loss\": \"sse\","
			       " \"data\": {}, \"weight_layout\": \"in_out\", \"bias\": false}");
	const double g[] = { 1, 2, 3, 4, 5, 0.1 };
	char *text = gc_gradfile_print(c, 2.5, g);
	cJSON *doc = cJSON_Parse(text), *w;

	ck_assert_ptr_nonnull(doc);
	ck_assert(cJSON_GetObjectItem(doc, "loss")->valuedouble == 2.5);
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gradients"), "biases"));
	w = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "gradients"), "weights"), 0);
	ck_assert_int_eq(cJSON_GetArraySize(w), 3);                        /* n_0 rows */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(w, 2)), 2); /* of n_1 */
	ck_assert(cJSON_GetArrayItem(cJSON_GetArrayItem(w, 2), 1)->valuedouble == 0.1);
	ck_assert_ptr_nonnull(strstr(text, "0.1]"));
	cJSON_Delete(doc);
	cJSON_free(text);
	gc_case_free(c);
}
END_TEST

static Suite *gradfile_suite(void)
{
	Suite *s = suite_create("gradfile");
	TCase *tc = tcase_create("gradfile");

	tcase_add_loop_test(tc, test_bad_gradfile, 0, (int)(sizeof bad_grads / sizeof bad_grads[0]));
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_transposed);
	tcase_add_test(tc, test_vector_weights_either_way);
	tcase_add_test(tc, test_nonfinite);
	tcase_add_test(tc, test_column_biases);
	tcase_add_test(tc, test_biases_unwanted);
	tcase_add_test(tc, test_print_round_trip);
	tcase_add_test(tc, test_print_shape);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(gradfile_suite)
