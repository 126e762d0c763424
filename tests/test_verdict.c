/* test_verdict.c - no false PASS, no false FAIL: the cases of issue 18 and a property
 * test over randomised scales, every activation and every loss (README.md, "Steps",
 * "Tolerances", "Verdicts", "Kinks"). */
#include "case.h"
#include "gradcheck.h"
#include "net.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_rng.h>

typedef struct checked {
	gc_case *c;
	gc_net *net;
	double *grad;           /* the exact (backpropagated) gradient, editable */
	double loss;
} checked;

static checked load(const char *json)
{
	checked k = { 0 };
	gc_error err;
	ck_assert_msg(gc_case_parse(json, strlen(json), "case.json", &k.c, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(gc_net_create(k.c, 2, &k.net), GC_OK);
	k.grad = malloc(k.c->n_params * sizeof *k.grad);
	ck_assert_int_eq(gc_net_gradient(k.net, &k.loss, k.grad), GC_OK);
	return k;
}

static gc_result *run(const checked *k, int fast, unsigned long seed)
{
	gc_options o;
	gc_options_init(&o);
	o.jobs = 2;
	o.fast = fast;
	o.seed = seed;
	gc_problem p = {
		.n = k->c->n_params, .theta = k->c->theta, .grad = k->grad, .loss = k->loss,
		.f = gc_net_fn, .moved = gc_net_moved_loss, .kink = gc_net_kink, .ctx = k->net,
		.tensors = k->c->tensors, .n_tensors = k->c->n_tensors,
		.noise = gc_net_noise(k->net),
	};
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	return r;
}

static void unload(checked *k)
{
	gc_net_free(k->net);
	gc_case_free(k->c);
	free(k->grad);
}

/* Raw pixels: moving W1 by h moves z by 1000 h, so the first step's truncation error
 * is 3.6e-5 relative (the old verdict: FAIL).  The correct gradient passes; one
 * element off by 1e-5 relative fails. */
START_TEST(test_pixels)
{
	checked k = load("{\"layers\":[1,1,1],\"activations\":[\"tanh\",\"identity\"],"
	                 "\"loss\":\"half_sse\",\"params\":{\"weights\":[[[0.0005]],[[1]]],"
	                 "\"biases\":[[0.1],[0]]},\"inputs\":[[1000]],\"targets\":[[0]]}");
	/* by hand: L = tanh(0.6)^2 / 2; dL/dW1 = tanh(0.6) (1 - tanh(0.6)^2) 1000 */
	double t = tanh(0.6);
	ck_assert_double_eq_tol(k.grad[0], t * (1 - t * t) * 1000, 1e-9);
	gc_result *r = run(&k, 0, 0);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->unreliable, 0);
	ck_assert_double_lt(r->elements[0].rel_err, 1e-8);
	gc_result_free(r);
	for (size_t i = 0; i < k.c->n_params; i++) {
		double g = k.grad[i];
		k.grad[i] = g * (1 + 1e-5);
		r = run(&k, 0, 0);
		ck_assert_msg(r->elements[i].verdict == GC_ELEM_FAIL, "element %zu", i);
		ck_assert_uint_eq(r->failed, 1);
		gc_result_free(r);
		k.grad[i] = g;
	}
	unload(&k);
}
END_TEST

/* --fast on relu networks: directions cross kinks; the correct gradient passes for
 * every seed (the old verdict: FAIL), and a wrong element is still found. */
START_TEST(test_fast_relu)
{
	checked k = load("{\"layers\":[20,64,64,5],\"activations\":[\"relu\",\"relu\",\"identity\"],"
	                 "\"loss\":\"mse\",\"init\":{\"seed\":1,\"distribution\":\"he\"},"
	                 "\"data\":{\"seed\":2,\"batch\":64}}");
	for (unsigned long seed = 0; seed < 4; seed++) {
		gc_result *r = run(&k, 1, seed);
		ck_assert_msg(r->failed == 0, "seed %lu", seed);
		gc_result_free(r);
	}
	size_t i = k.c->tensors[2].offset + 7;          /* W2 */
	k.grad[i] = k.grad[i] * (1 + 1e-3) + 1e-6;
	gc_result *r = run(&k, 1, 0);
	ck_assert_uint_eq(r->tensors[2].failed, 1);
	ck_assert(!r->tensors[2].directions);
	ck_assert_uint_eq(r->tensors[2].worst[0].index, i);
	gc_result_free(r);
	unload(&k);
}
END_TEST

/* An all-zero input row and zero biases put every b1 element at a relu kink: the
 * claim must lie between the one-sided slopes (the old verdict: b1 = 1000 passed). */
START_TEST(test_kink_judged)
{
	checked k = load("{\"layers\":[2,3,1],\"activations\":[\"relu\",\"identity\"],"
	                 "\"loss\":\"half_sse\",\"params\":{\"weights\":[[[0.5,-0.3],[0.2,0.8],"
	                 "[-0.7,0.1]],[[1,-2,0.5]]],\"biases\":[[0,0,0],[0]]},"
	                 "\"inputs\":[[0,0]],\"targets\":[[1]]}");
	size_t b1 = k.c->tensors[1].offset;
	gc_result *r = run(&k, 0, 0);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->tensors[1].kinks, 3);
	gc_result_free(r);
	/* dL/db1_j from above is (y - t) W2_j = -W2_j, from below 0 */
	k.grad[b1 + 1] = 2;             /* between 0 and 2: a valid one-sided slope */
	r = run(&k, 0, 0);
	ck_assert_int_eq(r->elements[b1 + 1].verdict, GC_ELEM_KINK);
	gc_result_free(r);
	for (size_t j = 0; j < 3; j++)
		k.grad[b1 + j] = 1000;
	r = run(&k, 0, 0);
	ck_assert_uint_eq(r->tensors[1].failed, 3);
	ck_assert_uint_eq(r->tensors[1].kinks, 0);
	gc_result_free(r);
	unload(&k);
}
END_TEST

/* Resolved cases with a trained (tiny) and a huge loss; the old atol of
 * 1e-9 max(1, |loss|) let an all-zero gradient pass on both. */
START_TEST(test_loss_scales)
{
	/* targets = output + (1.4e-10, -1e-10): L = 1.5e-20 */
	checked k = load("{\"layers\":[3,2,2],\"activations\":[\"tanh\",\"identity\"],"
	                 "\"loss\":\"half_sse\",\"params\":{\"weights\":[[[0.3,-0.2,0.1],"
	                 "[0.5,0.4,-0.6]],[[1,-1],[0.5,2]]],\"biases\":[[0.1,-0.1],[0,0]]},"
	                 "\"inputs\":[[0.5,-1,2]],\"targets\":[[0,0]]}");
	double out[2];
	gc_net_loss_at(k.net, k.c->theta, out);
	char json[1024];
	snprintf(json, sizeof json, "{\"layers\":[3,2,2],\"activations\":[\"tanh\",\"identity\"],"
	         "\"loss\":\"half_sse\",\"params\":{\"weights\":[[[0.3,-0.2,0.1],"
	         "[0.5,0.4,-0.6]],[[1,-1],[0.5,2]]],\"biases\":[[0.1,-0.1],[0,0]]},"
	         "\"inputs\":[[0.5,-1,2]],\"targets\":[[%.17g,%.17g]]}", out[0] + 1.4e-10,
	         out[1] - 1e-10);
	unload(&k);
	k = load(json);
	ck_assert_double_lt(k.loss, 1e-19);
	ck_assert_double_gt(k.loss, 1e-21);
	gc_result *r = run(&k, 0, 0);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->unreliable, 0);
	gc_result_free(r);
	for (int mode = 0; mode < 2; mode++) {
		double *saved = malloc(k.c->n_params * sizeof *saved);
		memcpy(saved, k.grad, k.c->n_params * sizeof *saved);
		for (size_t i = 0; i < k.c->n_params; i++)
			k.grad[i] = mode ? -k.grad[i] : 0;
		r = run(&k, 0, 0);
		ck_assert_msg(r->failed >= 10, "mode %d: %zu failed", mode, r->failed);
		gc_result_free(r);
		memcpy(k.grad, saved, k.c->n_params * sizeof *saved);
		free(saved);
	}
	unload(&k);

	/* targets 1e6 away: L = 2e12, dL/dW1 up to about 2000 */
	k = load("{\"layers\":[3,4,2],\"activations\":[\"tanh\",\"identity\"],\"loss\":\"sse\","
	         "\"params\":{\"weights\":[[[0.5,-1,0.3],[0.2,0.1,-0.4],[1,0.6,0.2],[-0.3,0.4,0.9]],"
	         "[[0.001,-0.0005,0.0002,0.0008],[-0.0003,0.0004,-0.0009,0.0001]]],"
	         "\"biases\":[[0,0.1,0,-0.1],[0,0]]},\"inputs\":[[0.5,-1,2]],"
	         "\"targets\":[[1e6,-1e6]]}");
	ck_assert_double_gt(k.loss, 1.9e12);
	double gmax = 0;
	for (size_t i = 0; i < 12; i++)
		gmax = fmax(gmax, fabs(k.grad[i]));
	ck_assert_double_gt(gmax, 1000);
	ck_assert_double_lt(gmax, 5000);
	/* at rtol 1e-6 the loss's own rounding (about 1e-3 here) cannot resolve every
	 * element: those are unreliable, none fails */
	r = run(&k, 0, 0);
	ck_assert_uint_eq(r->failed, 0);
	gc_result_free(r);
	/* all zero: no element whose true gradient is above the loss's rounding passes,
	 * and the tensor fails */
	double g[12];
	memcpy(g, k.grad, sizeof g);
	for (size_t i = 0; i < 12; i++)
		k.grad[i] = 0;
	r = run(&k, 0, 0);
	for (size_t i = 0; i < 12; i++)
		if (fabs(g[i]) > 10)
			ck_assert_msg(r->elements[i].verdict != GC_ELEM_PASS, "W1 element %zu (%g)", i, g[i]);
	ck_assert_uint_ge(r->tensors[0].failed, 9);
	gc_result_free(r);
	unload(&k);
}
END_TEST

/* ---- property test ------------------------------------------------------------------ */

static double log_uniform(gsl_rng *rng, double lo, double hi)
{
	return pow(10, log10(lo) + gsl_rng_uniform(rng) * (log10(hi) - log10(lo)));
}

static const char *const hidden_acts[] = { "identity", "sigmoid", "tanh", "relu",
                                           "leaky_relu", "softplus" };
static const char *const losses[] = { "sse", "half_sse", "mse", "cross_entropy",
                                      "binary_cross_entropy", "logistic" };

/* Appends a JSON array of n numbers scale * N(0,1)-ish to buf. */
static void numbers(char *buf, size_t size, gsl_rng *rng, size_t n, double scale)
{
	strcat(buf, "[");
	for (size_t i = 0; i < n; i++) {
		char num[40];
		snprintf(num, sizeof num, "%s%.17g", i ? "," : "", scale * (2 * gsl_rng_uniform(rng) - 1));
		ck_assert_uint_lt(strlen(buf) + strlen(num) + 2, size);
		strcat(buf, num);
	}
	strcat(buf, "]");
}

/* A random network: sizes, activations, a loss, parameters of scale 1e-4..1e4, inputs
 * of scale 1e-3..1e3, and for the squared-error losses targets placed so that the
 * loss is 1e-20..1e12. */
static char *random_case(gsl_rng *rng, int act, int loss)
{
	size_t L = 2 + gsl_rng_uniform_int(rng, 2), sizes[4], B = 1 + gsl_rng_uniform_int(rng, 3);
	size_t cap = 65536;
	char *buf = calloc(cap, 1);
	double pscale = log_uniform(rng, 1e-4, 1e4), xscale = log_uniform(rng, 1e-3, 1e3);
	const char *out_act = loss == 3 ? "softmax" : loss == 4 ? "sigmoid" : "identity";

	for (size_t l = 0; l <= L; l++)
		sizes[l] = 1 + gsl_rng_uniform_int(rng, 4);
	if (loss == 3 && sizes[L] < 2)
		sizes[L] = 2;
	snprintf(buf, cap, "{\"layers\":[%zu,%zu,%zu%s", sizes[0], sizes[1], sizes[2], L == 3 ? "," : "");
	if (L == 3)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%zu", sizes[3]);
	strcat(buf, "],\"activations\":[");
	for (size_t l = 1; l < L; l++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "\"%s\",", hidden_acts[act]);
	snprintf(buf + strlen(buf), cap - strlen(buf), "\"%s\"],\"loss\":\"%s\",\"params\":{\"weights\":[",
	         out_act, losses[loss]);
	for (size_t l = 1; l <= L; l++) {
		strcat(buf, l > 1 ? ",[" : "[");
		for (size_t r = 0; r < sizes[l]; r++) {
			if (r)
				strcat(buf, ",");
			/* scaled by the fan-in so that deep layers stay in range */
			numbers(buf, cap, rng, sizes[l - 1], pscale / sqrt((double)sizes[l - 1]));
		}
		strcat(buf, "]");
	}
	strcat(buf, "],\"biases\":[");
	for (size_t l = 1; l <= L; l++) {
		if (l > 1)
			strcat(buf, ",");
		numbers(buf, cap, rng, sizes[l], pscale);
	}
	strcat(buf, "]},\"inputs\":[");
	for (size_t b = 0; b < B; b++) {
		if (b)
			strcat(buf, ",");
		numbers(buf, cap, rng, sizes[0], xscale);
	}
	strcat(buf, "],\"targets\":[");
	for (size_t b = 0; b < B; b++) {
		strcat(buf, b ? ",[" : "[");
		for (size_t m = 0; m < sizes[L]; m++) {
			double t = loss == 3 ? (m == b % sizes[L]) : loss == 4 ? (double)((b + m) % 2)
			         : loss == 5 ? ((b + m) % 2 ? 1.0 : -1.0) : 0.0;
			snprintf(buf + strlen(buf), cap - strlen(buf), "%s%g", m ? "," : "", t);
		}
		strcat(buf, "]");
	}
	strcat(buf, "]}");
	return buf;
}

/* For the squared-error losses, moves the targets so that the loss is about target_loss. */
static char *place_targets(const char *json, double target_loss, gsl_rng *rng)
{
	checked k = load(json);
	size_t B = k.c->batch, m = k.c->sizes[k.c->n_layers];
	double *out = malloc(B * m * sizeof *out);
	gc_net_loss_at(k.net, k.c->theta, out);
	/* half_sse of offsets d: B m d^2 / 2; sse and mse within a factor of 2 B m */
	double d = sqrt(2 * target_loss / (double)(B * m));
	char *buf = malloc(strlen(json) + B * m * 30 + 16);
	const char *tgt = strstr(json, "\"targets\":");
	size_t head = (size_t)(tgt - json);
	memcpy(buf, json, head);
	buf[head] = '\0';
	strcat(buf, "\"targets\":[");
	for (size_t b = 0; b < B; b++) {
		strcat(buf, b ? ",[" : "[");
		for (size_t j = 0; j < m; j++)
			sprintf(buf + strlen(buf), "%s%.17g", j ? "," : "",
			        out[b * m + j] + d * (gsl_rng_uniform(rng) < 0.5 ? -1 : 1));
		strcat(buf, "]");
	}
	strcat(buf, "]}");
	free(out);
	unload(&k);
	return buf;
}

START_TEST(test_property)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 18);
	size_t trials = 0, skipped = 0;
	for (int loss = 0; loss < 6; loss++) {
		for (int act = 0; act < 6; act++) {
			for (int rep = 0; rep < 4; rep++) {
				char *json = random_case(rng, act, loss);
				if (loss <= 2) {
					char *placed = place_targets(json, log_uniform(rng, 1e-20, 1e12), rng);
					free(json);
					json = placed;
				}
				checked k = load(json);
				size_t worst = 0;
				for (size_t i = 0; i < k.c->n_params; i++)
					if (fabs(k.grad[i]) > fabs(k.grad[worst]))
						worst = i;
				/* the change a 1e-4 error makes over the largest step (h0 4^6),
				 * against the loss's rounding */
				double e_loss = fmax(fmax(4 * DBL_EPSILON * fabs(k.loss),
				                          gc_net_noise(k.net)), DBL_MIN);
				double reach = 1e-4 * fabs(k.grad[worst]) * 0.025 *
				               fmax(1, fabs(k.c->theta[worst]));
				if (!isfinite(k.loss) || !(reach > 100 * e_loss) ||
				    !(gc_net_noise(k.net) <= 1e-7 * fabs(k.loss))) {
					/* saturated (no difference could resolve the perturbation), or
					 * a loss below the rounding of the outputs it comes from (the
					 * backpropagated gradient is itself rounding noise) */
					skipped++;
					unload(&k);
					free(json);
					continue;
				}
				gc_result *r = run(&k, 0, 0);
				ck_assert_msg(r->failed == 0, "exact gradient fails: %s (loss %g)", json, k.loss);
				gc_result_free(r);
				k.grad[worst] *= 1 + 1e-4;
				r = run(&k, 0, 0);
				ck_assert_msg(r->elements[worst].verdict == GC_ELEM_FAIL,
				              "element %zu x (1 + 1e-4) does not fail (%d): %s (loss %g)",
				              worst, r->elements[worst].verdict, json, k.loss);
				gc_result_free(r);
				unload(&k);
				free(json);
				trials++;
			}
		}
	}
	ck_assert_msg(trials > 100, "%zu trials, %zu skipped", trials, skipped);
	gsl_rng_free(rng);
}
END_TEST

static Suite *verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("verdict");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pixels);
	tcase_add_test(tc, test_fast_relu);
	tcase_add_test(tc, test_kink_judged);
	tcase_add_test(tc, test_loss_scales);
	tcase_add_test(tc, test_property);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(verdict_suite)
