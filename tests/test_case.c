/* test_case.c - the case loader: every rule of README "Case format" as a malformed file
 * with its message and position, the documented parameter order, GSL-generated
 * values against numbers computed independently (numpy's MT19937 with GSL's seeding
 * and GSL's polar Box-Muller written out in Python), and resolve's exact round trip. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "case.h"
#include "jsonpos.h"

#define DIR "tests/data/case/"

static const struct bad_case {
	const char *file, *msg;
	long line, col;
} bad_cases[] = {
	{ "bad_syntax.json", "invalid JSON", 3, 3 },
	{ "bad_trailing.json", "unexpected text after", 1, 70 },
	{ "bad_empty.json", "invalid JSON (empty input)", 1, 1 },
	{ "bad_not_object.json", "a case must be a JSON object, got an array", 1, 1 },
	{ "bad_unknown_key.json", "layer: unknown key (did you mean \"layers\"?)", 6, 12 },
	{ "bad_unknown_nested.json", "init.sedd: unknown key (did you mean \"seed\"?)", 6, 20 },
	{ "bad_duplicate_key.json", "loss: key given 2 times", 4, 11 },
	{ "bad_name_type.json", "name: expected a string, got a number", 6, 11 },
	{ "bad_name_slash.json", "name: a name must be a file name: not empty, without '/'", 6, 11 },
	{ "bad_name_dotdot.json", "name: a name must be a file name", 6, 11 },
	{ "bad_name_ctl.json", "name: a name must be a file name", 6, 11 },
	{ "bad_name_empty.json", "name: a name must be a file name", 6, 11 },
	{ "bad_layers_missing.json", "layers: missing", 1, 1 },
	{ "bad_layers_type.json", "layers: expected an array of layer sizes, got a string", 2, 13 },
	{ "bad_layers_short.json", "layers: expected at least 2 sizes (input and output), got 1", 2, 13 },
	{ "bad_layers_zero.json", "layers[1]: expected an integer >= 1, got 0", 2, 17 },
	{ "bad_layers_negative.json", "layers[2]: expected an integer >= 1, got -3", 2, 20 },
	{ "bad_layers_fraction.json", "layers[1]: expected an integer >= 1, got 2.5", 2, 17 },
	{ "bad_act_missing.json", "activations: missing", 1, 1 },
	{ "bad_act_count.json", "activations: expected 2 activations (one per weight layer, len(layers) - 1), got 3", 3, 18 },
	{ "bad_act_unknown.json", "activations[1]: unknown activation \"sigmod\"", 3, 27 },
	{ "bad_act_type.json", "activations[1]: expected an activation name, got a number", 3, 27 },
	{ "bad_act_alpha_relu.json", "activations[1].alpha: only leaky_relu takes alpha", 3, 53 },
	{ "bad_act_object_key.json", "activations.slope: unknown key", 3, 50 },
	{ "bad_softmax_not_last.json", "activations[0]: softmax is allowed only in the last layer", 3, 19 },
	{ "bad_softmax_all.json", "activations: softmax is allowed only in the last layer", 3, 18 },
	{ "bad_loss_missing.json", "loss: missing", 1, 1 },
	{ "bad_loss_unknown.json", "loss: unknown loss \"l2\"", 4, 11 },
	{ "bad_ce_no_softmax.json", "loss: cross_entropy requires a softmax output layer, got sigmoid", 4, 11 },
	{ "bad_bce_no_sigmoid.json", "loss: binary_cross_entropy requires a sigmoid output layer, got softmax", 4, 11 },
	{ "bad_logistic_no_identity.json", "loss: logistic requires an identity output layer, got tanh", 4, 11 },
	{ "bad_bias_type.json", "bias: expected true or false, got a string", 6, 11 },
	{ "bad_layout_bad.json", "weight_layout: expected \"out_in\" or \"in_out\", got \"row_major\"", 6, 20 },
	{ "bad_weights_rows.json", "params.weights[1]: expected shape [3][4] (W2, out_in: n_2 x n_1), got [2][4]", 9, 7 },
	{ "bad_weights_in_out.json", "params.weights[1]: expected shape [4][3] (W2, in_out: n_1 x n_2), got [3][4]", 10, 7 },
	{ "bad_weights_element.json", "params.weights[1][1][2]: expected a number, got a string", 9, 29 },
	{ "bad_weights_inf.json", "params.weights[1][2][2]: number is not finite", 9, 44 },
	{ "bad_weights_ragged.json", "params.weights[1][1]: expected a row of 4 numbers (W2, out_in: n_2 x n_1, shape [3][4]), got 3", 9, 22 },
	{ "bad_weights_count.json", "params.weights: expected 2 matrices W1..W2 (one per weight layer), got 3", 7, 16 },
	{ "bad_weights_missing.json", "params.weights: missing", 6, 13 },
	{ "bad_biases_missing.json", "params.biases: missing (the case has biases", 6, 13 },
	{ "bad_biases_not_wanted.json", "params.biases: given, but the case has no biases", 12, 15 },
	{ "bad_biases_length.json", "params.biases[1]: expected 3 numbers (b2: n_2), got 2", 11, 30 },
	{ "bad_params_unknown.json", "params.weight: unknown key (did you mean \"weights\"?)", 6, 24 },
	{ "bad_inputs_width.json", "inputs[1]: expected a row of 4 numbers (B x n_0, shape [2][4]), got 3", 6, 28 },
	{ "bad_inputs_flat.json", "inputs: expected 4 numbers (n_0 = 4; a flat array is one sample), got 3; write one row per sample", 6, 13 },
	{ "bad_inputs_empty.json", "inputs: expected at least one sample, got []", 6, 13 },
	{ "bad_inputs_nan.json", "inputs[2]: number is not finite", 6, 20 },
	{ "bad_batch_mismatch.json", "targets: expected 2 samples (as in inputs), got 1", 6, 14 },
	{ "bad_no_data.json", "inputs: missing (give inputs and targets, or a data block", 1, 1 },
	{ "bad_targets_no_data.json", "targets: missing", 1, 1 },
	{ "bad_data_batch_mismatch.json", "data.batch: 2 does not match the 3 samples given in inputs", 5, 32 },
	{ "bad_batch_zero.json", "data.batch: expected an integer >= 1, got 0", 5, 32 },
	{ "bad_data_seed_negative.json", "data.seed: expected an integer from 0 to 4294967295, got -1", 5, 20 },
	{ "bad_targets_logistic.json", "targets[1]: logistic targets must be -1 or +1, got 0.5", 6, 18 },
	{ "bad_targets_bce.json", "targets[0][2]: binary_cross_entropy targets must be in [0, 1], got 2", 6, 22 },
	{ "bad_init_seed.json", "init.seed: expected an integer from 0 to 4294967295, got 1.5", 6, 20 },
	{ "bad_init_dist.json", "init.distribution: expected \"normal\", \"uniform\", \"xavier\" or \"he\", got \"gauss\"", 6, 28 },
	{ "bad_init_scale.json", "init.scale: expected a number >= 0, got -2", 6, 21 },
	{ "bad_check_step.json", "check.step: expected a number > 0, got -1e-05", 6, 21 },
	{ "bad_check_rtol.json", "check.rtol: expected a number > 0, got 0", 6, 21 },
	{ "bad_check_atol.json", "check.atol: expected a number, got a string", 6, 21 },
	{ "bad_check_method.json", "check.method: expected \"central\" or \"five-point\", got \"forward\"", 6, 23 },
	{ "bad_check_unknown.json", "check.tol: unknown key", 6, 20 },
	{ "bad_expect_output.json", "expect.output[1]: expected a row of 3 numbers (B x n_L, shape [2][3]), got 2", 6, 36 },
	{ "bad_expect_gradient.json", "expect.gradients.weights[1]: expected shape [3][4] (W2, out_in: n_2 x n_1), got [2][3]", 6, 46 },
	{ "bad_expect_loss.json", "expect.loss: expected a number, got a string", 6, 22 },
	{ "bad_expect_tolerance.json", "expect.tolerance: expected a number >= 0, got -1", 6, 27 },
	{ "bad_too_many_params.json", "layers: the network has more than 67108864 parameters (passed at W1, 100000000 x 100000000); refusing to allocate (--max-params raises the cap)", 1, 12 },
	{ "bad_too_many_values.json", "data.batch: 100000 samples through layers of 1003 units in all need more than 67108864 values; refusing to allocate (--max-values raises the cap)", 2, 20 },
};

START_TEST(test_bad_file)
{
	const struct bad_case *b = &bad_cases[_i];
	char path[256];
	gc_case *c = (gc_case *)1;
	gc_error err;

	snprintf(path, sizeof path, DIR "%s", b->file);
	ck_assert_int_ne(gc_case_load(path, &c, &err), 0);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.file, path);
	ck_assert_msg(strstr(err.msg, b->msg) != NULL, "%s: got \"%s\", want \"%s\"", b->file,
		      err.msg, b->msg);
	ck_assert_msg(err.line == b->line && err.col == b->col, "%s: got %ld:%ld, want %ld:%ld",
		      b->file, err.line, err.col, b->line, b->col);
}
END_TEST

static gc_case *load_ok(const char *path)
{
	gc_case *c = NULL;
	gc_error err;
	char buf[2048];

	if (gc_case_load(path, &c, &err)) {
		gc_error_format(&err, buf, sizeof buf);
		ck_abort_msg("%s", buf);
	}
	return c;
}

static gc_case *parse_ok(const char *text)
{
	gc_case *c = NULL;
	gc_error err;
	char buf[2048];

	if (gc_case_parse(text, strlen(text), "mem/test.json", &c, &err)) {
		gc_error_format(&err, buf, sizeof buf);
		ck_abort_msg("%s", buf);
	}
	return c;
}

static void assert_doubles(const double *got, const double *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "[%zu]: got %.17g, want %.17g", i, got[i], want[i]);
}

static void assert_tensor(const gc_case *c, size_t t, const char *name, size_t offset,
                          size_t rows, size_t cols, int layer)
{
	ck_assert_str_eq(c->tensors[t].name, name);
	ck_assert_uint_eq(c->tensors[t].offset, offset);
	ck_assert_uint_eq(c->tensors[t].rows, rows);
	ck_assert_uint_eq(c->tensors[t].cols, cols);
	ck_assert_int_eq(c->tensors[t].layer, layer);
}

START_TEST(test_seed003)
{
	gc_case *c = load_ok(DIR "seed003.json");
	const double theta[] = { 0.15, 0.2, 0.24, 0.3, 1, 1, -0.4, 0.5, 1 };
	const double x[] = { 0.5, 0.1 }, y[] = { 0.9 };
	size_t rows, cols;

	ck_assert_str_eq(c->name, "seed003");
	ck_assert_str_eq(c->path, DIR "seed003.json");
	ck_assert_uint_eq(c->n_layers, 2);
	ck_assert_uint_eq(c->sizes[0], 2);
	ck_assert_uint_eq(c->sizes[1], 2);
	ck_assert_uint_eq(c->sizes[2], 1);
	ck_assert_int_eq(c->act[0].kind, GC_ACT_SIGMOID);
	ck_assert_int_eq(c->act[1].kind, GC_ACT_SIGMOID);
	ck_assert_int_eq(c->layout, GC_LAYOUT_IN_OUT);
	ck_assert_int_eq(c->bias, 1);
	ck_assert_int_eq(c->loss, GC_LOSS_HALF_SSE);
	ck_assert_uint_eq(c->n_params, 9);
	assert_doubles(c->theta, theta, 9);
	ck_assert_uint_eq(c->n_tensors, 4);
	assert_tensor(c, 0, "W1", 0, 2, 2, 1);
	assert_tensor(c, 1, "b1", 4, 2, 1, 1);
	assert_tensor(c, 2, "W2", 6, 2, 1, 2);
	assert_tensor(c, 3, "b2", 8, 1, 1, 2);
	ck_assert_uint_eq(gc_case_weight_offset(c, 2), 6);
	ck_assert_uint_eq(gc_case_bias_offset(c, 1), 4);
	ck_assert_uint_eq(gc_case_bias_offset(c, 2), 8);
	gc_case_weight_shape(c, 2, &rows, &cols);
	ck_assert_uint_eq(rows, 2);
	ck_assert_uint_eq(cols, 1);
	ck_assert_uint_eq(c->batch, 1);
	assert_doubles(c->inputs, x, 2);
	assert_doubles(c->targets, y, 1);
	ck_assert(!c->check.has_step && !c->check.has_rtol && !c->check.has_atol && !c->check.has_method);
	/* expect: loss, and only W2 and b2 given */
	ck_assert(c->expect.has_loss);
	ck_assert(c->expect.loss == 0.011843);
	ck_assert(c->expect.tolerance == 1e-6);
	ck_assert_ptr_null(c->expect.output);
	for (size_t i = 0; i < 9; i++)
		ck_assert_int_eq(c->expect.gradient_given[i], i >= 6);
	ck_assert(c->expect.gradient[6] == -0.021869);
	ck_assert(c->expect.gradient[7] == -0.022037);
	ck_assert(c->expect.gradient[8] == -0.029155);
	ck_assert_ptr_nonnull(c->json);
	gc_case_free(c);
}
END_TEST

START_TEST(test_nobias_out_in)
{
	gc_case *c = load_ok(DIR "nobias_out_in.json");
	const double theta[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const double x[] = { 0.5, -1, 2 }, y[] = { 0, 1 }, out[] = { 0.25, 0.75 };

	ck_assert_str_eq(c->name, "no bias, out_in");
	ck_assert_int_eq(c->layout, GC_LAYOUT_OUT_IN);
	ck_assert_int_eq(c->bias, 0);
	ck_assert_int_eq(c->act[0].kind, GC_ACT_LEAKY_RELU);
	ck_assert(c->act[0].alpha == 0.2);
	ck_assert_int_eq(c->act[1].kind, GC_ACT_SOFTMAX);
	ck_assert_int_eq(c->loss, GC_LOSS_CROSS_ENTROPY);
	ck_assert_uint_eq(c->n_params, 10);
	assert_doubles(c->theta, theta, 10);
	ck_assert_uint_eq(c->n_tensors, 2);
	assert_tensor(c, 0, "W1", 0, 2, 3, 1);
	assert_tensor(c, 1, "W2", 6, 2, 2, 2);
	ck_assert_uint_eq(gc_case_weight_offset(c, 2), 6);
	ck_assert_uint_eq(gc_case_bias_offset(c, 1), SIZE_MAX);
	ck_assert_uint_eq(c->batch, 1);
	assert_doubles(c->inputs, x, 3);
	assert_doubles(c->targets, y, 2);
	ck_assert(c->check.has_step && c->check.step == 1e-4);
	ck_assert(c->check.has_rtol && c->check.rtol == 1e-5);
	ck_assert(c->check.has_atol && c->check.atol == 1e-8);
	ck_assert(c->check.has_method && c->check.method == GC_METHOD_FIVE_POINT);
	ck_assert(!c->expect.has_loss);
	assert_doubles(c->expect.output, out, 2);
	ck_assert_ptr_null(c->expect.gradient);
	gc_case_free(c);
}
END_TEST

START_TEST(test_flat_weight)
{
	gc_case *c = load_ok(DIR "flat_w2.json");
	const double w2[] = { 0.1, 0.2, 0.3, 0.4, 0.5 }, y[] = { 0.5, 0.25 };

	ck_assert_str_eq(c->name, "flat_w2");
	ck_assert_int_eq(c->act[1].kind, GC_ACT_IDENTITY);      /* linear */
	ck_assert_uint_eq(c->n_params, 15 + 5 + 5 + 1);
	ck_assert(c->theta[5] == 6.0);           /* W1[1][0], row-major in in_out */
	assert_doubles(c->theta + gc_case_weight_offset(c, 2), w2, 5);
	ck_assert(c->theta[gc_case_bias_offset(c, 2)] == -1.0);
	ck_assert_uint_eq(c->batch, 2);
	ck_assert(c->inputs[3] == 4.0);
	assert_doubles(c->targets, y, 2);
	gc_case_free(c);
}
END_TEST

/* The same flat w_2 is accepted in out_in, where W2 is 1 x 5. */
START_TEST(test_flat_weight_out_in)
{
	gc_case *c = parse_ok("{\"layers\": [2, 5, 1], \"activations\": \"tanh\", \"loss\": \"sse\","
			      " \"bias\": false, \"params\": {\"weights\": [[[1, 2], [3, 4], [5, 6],"
			      " [7, 8], [9, 10]], [0.1, 0.2, 0.3, 0.4, 0.5]]},"
			      " \"inputs\": [[1, 2]], \"targets\": [[3]]}");
	const double theta[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.1, 0.2, 0.3, 0.4, 0.5 };

	ck_assert_str_eq(c->name, "test");      /* from "mem/test.json" */
	assert_tensor(c, 1, "W2", 10, 1, 5, 2);
	assert_doubles(c->theta, theta, 15);
	gc_case_free(c);
}
END_TEST

#define NET(extra) "{\"layers\": [1, 1, 1], \"activations\": \"tanh\", \"loss\": \"sse\"," \
	" \"data\": {}, " extra "}"

/* First values of gsl_rng_mt19937 seed 0 through GSL's polar gsl_ran_gaussian, computed
 * with numpy (MT19937 legacy seeding 4357, which numpy's first output 4293858116 and
 * 1000th output 1186927261 confirm against GSL's own test) and the polar method in Python. */
static const double gauss_seed0[] = {
	0.1339186081186759, -0.0881009918314384, 1.6744084062537739, 0.7336411072925795
};

START_TEST(test_init_normal_default)
{
	gc_case *c = parse_ok(NET("\"_x\": 0"));
	gc_case *c2 = parse_ok(NET("\"init\": {\"seed\": 0, \"distribution\": \"normal\", \"scale\": 2}"));

	/* W1, b1, W2, b2: biases are drawn too */
	ck_assert_uint_eq(c->n_params, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_double_eq_tol(c->theta[i], gauss_seed0[i], 1e-15);
		ck_assert(c2->theta[i] == 2 * c->theta[i]);
	}
	gc_case_free(c);
	gc_case_free(c2);
}
END_TEST

START_TEST(test_init_uniform)
{
	gc_case *c = parse_ok(NET("\"init\": {\"distribution\": \"uniform\", \"scale\": 0.5}"));

	/* 0.5 * (2 * u - 1) with u = 4293858116 / 2^32, 699692587 / 2^32 */
	ck_assert(c->theta[0] == 0.499741748906672);
	ck_assert(c->theta[1] == -0.3370901246089488);
	for (size_t i = 0; i < 4; i++)
		ck_assert(c->theta[i] >= -0.5 && c->theta[i] < 0.5);
	gc_case_free(c);
}
END_TEST

START_TEST(test_init_xavier_he)
{
	const char *x = "{\"layers\": [3, 2], \"activations\": \"tanh\", \"loss\": \"sse\", \"data\": {},"
			" \"init\": {\"distribution\": \"xavier\"}}";
	const char *h = "{\"layers\": [3, 2], \"activations\": \"tanh\", \"loss\": \"sse\", \"data\": {},"
			" \"init\": {\"distribution\": \"he\"}}";
	gc_case *cx = parse_ok(x), *ch = parse_ok(h);

	ck_assert_double_eq_tol(cx->theta[0], 0.08469756454690651, 1e-16);      /* sqrt(2/5) g */
	ck_assert_double_eq_tol(ch->theta[0], 0.10934408565149889, 1e-16);      /* sqrt(2/3) g */
	ck_assert(cx->theta[6] == 0 && cx->theta[7] == 0);
	ck_assert(ch->theta[6] == 0 && ch->theta[7] == 0);
	gc_case_free(cx);
	gc_case_free(ch);
}
END_TEST

START_TEST(test_init_deterministic)
{
	const char *t = "{\"layers\": [7, 5, 3], \"activations\": \"tanh\", \"loss\": \"sse\","
			" \"data\": {\"seed\": 3, \"batch\": 4}, \"init\": {\"seed\": 12345}}";
	gc_case *a = parse_ok(t), *b = parse_ok(t);

	ck_assert_uint_eq(a->n_params, 7 * 5 + 5 + 5 * 3 + 3);
	ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof *a->theta) == 0);
	ck_assert(memcmp(a->inputs, b->inputs, 4 * 7 * sizeof *a->inputs) == 0);
	ck_assert(memcmp(a->targets, b->targets, 4 * 3 * sizeof *a->targets) == 0);
	ck_assert(a->theta[0] != a->theta[1]);
	gc_case_free(a);
	gc_case_free(b);
}
END_TEST

/* Data seed 7: eight inputs, then the targets (values from the Python model of GSL). */
static const double inputs_seed7[] = {
	-0.69152841085725, 0.37795906673044216, -0.34565555333199, -1.6947323116027022,
	-0.8730049247320258, -0.1376403528882611, 3.4004580023769972, 0.8011115701995314
};

START_TEST(test_data_cross_entropy)
{
	gc_case *c = parse_ok("{\"layers\": [2, 3], \"activations\": \"softmax\","
			      " \"loss\": \"cross_entropy\", \"data\": {\"seed\": 7, \"batch\": 4}}");
	const int cls[] = { 2, 0, 1, 1 };

	ck_assert_uint_eq(c->batch, 4);
	for (size_t i = 0; i < 8; i++)
		ck_assert_double_eq_tol(c->inputs[i], inputs_seed7[i], 1e-15);
	for (size_t b = 0; b < 4; b++) {
		double sum = 0;
		for (size_t j = 0; j < 3; j++) {
			double t = c->targets[b * 3 + j];
			ck_assert(t == 0.0 || t == 1.0);
			sum += t;
		}
		ck_assert(sum == 1.0);
		ck_assert(c->targets[b * 3 + (size_t)cls[b]] == 1.0);
	}
	gc_case_free(c);
}
END_TEST

START_TEST(test_data_binary_logistic_normal)
{
	gc_case *bce = parse_ok("{\"layers\": [2, 3], \"activations\": \"sigmoid\", \"loss\":"
				" \"binary_cross_entropy\", \"data\": {\"seed\": 7, \"batch\": 4}}");
	gc_case *lg = parse_ok("{\"layers\": [2, 3], \"activations\": \"linear\", \"loss\":"
			       " \"logistic\", \"data\": {\"seed\": 7, \"batch\": 4}}");
	gc_case *ms = parse_ok("{\"layers\": [2, 3], \"activations\": \"linear\", \"loss\":"
			       " \"mse\", \"data\": {\"seed\": 7, \"batch\": 4}}");
	const int bits[] = { 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0 };
	const double normal[] = { -0.5865900151696247, -1.4270165414147402, 0.19242627666288867 };

	for (size_t i = 0; i < 12; i++) {
		ck_assert(bce->targets[i] == bits[i]);
		ck_assert(lg->targets[i] == 2.0 * bits[i] - 1.0);
	}
	for (size_t i = 0; i < 3; i++)
		ck_assert_double_eq_tol(ms->targets[i], normal[i], 1e-15);
	gc_case_free(bce);
	gc_case_free(lg);
	gc_case_free(ms);
}
END_TEST

/* Inputs given: the targets drawn are the same as when both are generated; and the
 * other way round. */
START_TEST(test_data_partial)
{
	gc_case *both = parse_ok("{\"layers\": [2, 3], \"activations\": \"sigmoid\", \"loss\":"
				 " \"binary_cross_entropy\", \"data\": {\"seed\": 7}}");
	gc_case *in = parse_ok("{\"layers\": [2, 3], \"activations\": \"sigmoid\", \"loss\":"
			       " \"binary_cross_entropy\", \"data\": {\"seed\": 7},"
			       " \"inputs\": [[9, 8]]}");
	gc_case *tg = parse_ok("{\"layers\": [2, 3], \"activations\": \"sigmoid\", \"loss\":"
			       " \"binary_cross_entropy\", \"data\": {\"seed\": 7, \"batch\": 1},"
			       " \"targets\": [0, 1, 0]}");

	ck_assert_uint_eq(both->batch, 1);
	ck_assert(in->inputs[0] == 9 && in->inputs[1] == 8);
	ck_assert(memcmp(in->targets, both->targets, 3 * sizeof(double)) == 0);
	ck_assert(memcmp(tg->inputs, both->inputs, 2 * sizeof(double)) == 0);
	ck_assert(tg->targets[0] == 0 && tg->targets[1] == 1 && tg->targets[2] == 0);
	gc_case_free(both);
	gc_case_free(in);
	gc_case_free(tg);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(gc_act_name(GC_ACT_IDENTITY), "identity");
	ck_assert_str_eq(gc_act_name(GC_ACT_LEAKY_RELU), "leaky_relu");
	ck_assert_str_eq(gc_act_name(GC_ACT_SOFTMAX), "softmax");
	ck_assert_str_eq(gc_loss_name(GC_LOSS_HALF_SSE), "half_sse");
	ck_assert_str_eq(gc_loss_name(GC_LOSS_BINARY_CROSS_ENTROPY), "binary_cross_entropy");
	ck_assert_str_eq(gc_loss_name(GC_LOSS_LOGISTIC), "logistic");
}
END_TEST

static void assert_same_case(const gc_case *a, const gc_case *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_uint_eq(a->n_params, b->n_params);
	ck_assert_uint_eq(a->batch, b->batch);
	ck_assert_int_eq(a->layout, b->layout);
	ck_assert_int_eq(a->bias, b->bias);
	ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
	ck_assert(memcmp(a->inputs, b->inputs, a->batch * a->sizes[0] * sizeof(double)) == 0);
	ck_assert(memcmp(a->targets, b->targets,
			 a->batch * a->sizes[a->n_layers] * sizeof(double)) == 0);
}

/* Generated values need 17 digits; cJSON's own printing loses about one in ten. */
START_TEST(test_resolve_round_trip)
{
	const char *t = "{\"name\": \"rt\", \"layers\": [6, 9, 4], \"activations\": [\"tanh\","
			" \"softmax\"], \"weight_layout\": \"in_out\", \"loss\": \"cross_entropy\","
			" \"init\": {\"seed\": 99, \"scale\": 0.37}, \"data\": {\"seed\": 5, \"batch\": 7},"
			" \"expect\": {\"loss\": 0.1234567890123456789}}";
	gc_case *a = parse_ok(t), *b;
	char *text = gc_case_resolve(a);
	cJSON *doc;
	const cJSON *item;
	const char *order[] = { "name", "layers", "activations", "weight_layout", "loss", "init",
				"data", "params", "inputs", "targets" };
	size_t k = 0;

	ck_assert_ptr_nonnull(text);
	b = parse_ok(text);
	assert_same_case(a, b);
	ck_assert(a->expect.has_loss);
	ck_assert(!b->expect.has_loss);         /* a program under test never sees expect */
	doc = cJSON_Parse(text);
	cJSON_ArrayForEach(item, doc)
		ck_assert_str_eq(item->string, order[k++]);
	ck_assert_uint_eq(k, 10);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "inputs")), 7);
	cJSON_Delete(doc);
	cJSON_free(text);
	gc_case_free(a);
	gc_case_free(b);
}
END_TEST

/* Explicit values are replaced in place; a flat B = 1 array comes back as one row. */
START_TEST(test_resolve_seed003)
{
	gc_case *a = load_ok(DIR "seed003.json"), *b;
	char *text = gc_case_resolve(a);
	cJSON *doc = cJSON_Parse(text);
	const cJSON *in = cJSON_GetObjectItem(doc, "inputs");
	const cJSON *w2 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "params"),
								  "weights"), 1);

	ck_assert(cJSON_IsArray(in) && cJSON_GetArraySize(in) == 1);
	ck_assert(cJSON_IsArray(in->child) && cJSON_GetArraySize(in->child) == 2);
	ck_assert_int_eq(cJSON_GetArraySize(w2), 2);            /* in_out: [2][1] */
	ck_assert_str_eq(doc->child->string, "_source");
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "weight_layout")->valuestring, "in_out");
	ck_assert_ptr_nonnull(strstr(text, "0.15"));
	ck_assert_ptr_null(strstr(text, "0.1499999"));
	ck_assert(gc_case_parse(text, strlen(text), DIR "seed003.json", &b, &(gc_error){ 0 }) == 0);
	assert_same_case(a, b);
	cJSON_Delete(doc);
	cJSON_free(text);
	gc_case_free(a);
	gc_case_free(b);
}
END_TEST

START_TEST(test_file_too_large)
{
	char path[] = "/tmp/gc_test_case_XXXXXX";
	int fd = mkstemp(path);
	gc_case *c;
	gc_error err;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (64 << 20) + 1), 0);
	close(fd);
	ck_assert_int_ne(gc_case_load(path, &c, &err), 0);
	unlink(path);
	ck_assert_str_eq(err.msg, "file is larger than 64 MiB");
	ck_assert_str_eq(err.file, path);
}
END_TEST

START_TEST(test_missing_file)
{
	gc_case *c;
	gc_error err;

	ck_assert_int_ne(gc_case_load(DIR "no_such_file.json", &c, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	ck_assert_int_eq(err.line, 0);
}
END_TEST

/* Keys starting with '_' are ignored at every level, and errors in buffers still
 * carry positions. */
START_TEST(test_comment_keys_and_position)
{
	gc_case *c = parse_ok("{\"_a\": 1, \"layers\": [1, 1], \"activations\": {\"name\": \"leaky_relu\","
			      " \"_b\": 2}, \"loss\": \"sse\", \"data\": {\"_c\": 3},"
			      " \"init\": {\"_d\": 4}, \"check\": {\"_e\": 5}, \"expect\": {\"_f\": 6}}");
	const char *bad = "{\"layers\": [1, 1],\n \"activations\": \"tanh\", \"loss\": \"sse\",\n"
			  " \"inputs\": [[1], [2]],\n \"targets\": [[1], [true]]}";
	gc_error err;
	gc_case *d;

	ck_assert(c->act[0].alpha == 0.01);
	gc_case_free(c);
	ck_assert_int_ne(gc_case_parse(bad, strlen(bad), "x.json", &d, &err), 0);
	ck_assert_str_eq(err.msg, "targets[1][0]: expected a number, got true");
	ck_assert_int_eq(err.line, 4);
	ck_assert_int_eq(err.col, 20);
}
END_TEST

/* jsonpos on its own: strings with brackets, escapes, keys with escapes. */
START_TEST(test_jsonpos)
{
	const char *t = "{\"a]\": \"x{[\\\"\", \"k\\u00e9y\": [1, {\"b\": null},\n"
			"   [true, \"q\\\\\"]], \"z\": -1.5e3}";
	gc_jpath p = { 0 };
	long line, col;
	char buf[64];

	gc_jpath_push_key(&p, "k\xc3\xa9y");
	gc_jpath_push_index(&p, 2);
	gc_jpath_push_index(&p, 1);
	ck_assert_uint_eq(gc_jsonpos_locate(t, strlen(t), &p, &line, &col), 3);
	ck_assert_int_eq(line, 2);
	ck_assert_int_eq(col, 11);
	gc_jpath_format(&p, buf, sizeof buf);
	ck_assert_str_eq(buf, "k\xc3\xa9y[2][1]");
	gc_jpath_pop(&p);
	gc_jpath_pop(&p);
	gc_jpath_push_index(&p, 1);
	gc_jpath_push_key(&p, "b");
	ck_assert_uint_eq(gc_jsonpos_locate(t, strlen(t), &p, &line, &col), 3);
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(col, 39);
	p.depth = 0;
	gc_jpath_push_key(&p, "z");
	ck_assert_uint_eq(gc_jsonpos_locate(t, strlen(t), &p, &line, &col), 1);
	ck_assert_int_eq(line, 2);
	ck_assert_int_eq(col, 25);
	p.depth = 0;
	gc_jpath_push_key(&p, "missing");
	ck_assert_uint_eq(gc_jsonpos_locate(t, strlen(t), &p, &line, &col), 0);
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(col, 1);
}
END_TEST

static Suite *case_suite(void)
{
	Suite *s = suite_create("case");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, test_seed003);
	tcase_add_test(tc, test_nobias_out_in);
	tcase_add_test(tc, test_flat_weight);
	tcase_add_test(tc, test_flat_weight_out_in);
	tcase_add_test(tc, test_init_normal_default);
	tcase_add_test(tc, test_init_uniform);
	tcase_add_test(tc, test_init_xavier_he);
	tcase_add_test(tc, test_init_deterministic);
	tcase_add_test(tc, test_data_cross_entropy);
	tcase_add_test(tc, test_data_binary_logistic_normal);
	tcase_add_test(tc, test_data_partial);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_resolve_round_trip);
	tcase_add_test(tc, test_resolve_seed003);
	tcase_add_test(tc, test_file_too_large);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_comment_keys_and_position);
	tcase_add_test(tc, test_jsonpos);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(case_suite)
