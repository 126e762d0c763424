/* test_kernel.c - the fused kernel of the moved-loss hook (gc_net_moved_many)
 * against the per-element reference path (gc_net_moved_loss), bit for bit.
 *
 * For every case in cases/ and the networks of make bench (tanh, relu, leaky relu,
 * sigmoid with softmax + cross-entropy, ...), every element is moved by the
 * central-difference steps of the checking core and by larger moves (both sides
 * of the series' limit, relu kinks crossed), 64 elements per call as the core
 * does.  The default choice, then each instruction-set version this processor
 * runs, is forced in turn (moves of units of layer L-1 take the fused path's
 * rank-1 form in every one); the losses and kink flags must equal the reference's
 * exactly, and the fused path must really have computed most moves (not handed
 * them all back to the reference).  Then the whole check: gc_check with moved_many
 * (the step ladder's rungs evaluated in rounds over chunks of elements) must give
 * every element exactly what it gives with only the per-element hook, for one and
 * two threads.  A subnormal weight makes changes round to 0, which the kernel must
 * notice. */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "case.h"
#include "gradcheck.h"
#include "net.h"

#define MAX_CASES 256
#define CHUNK 64                /* elements per call, as the checking core's chunks */

static const struct { gc_kernel_isa isa; const char *name; } versions[] = {
	{ GC_KERNEL_AUTO, "auto" },     /* also the two-layer nets' rank-1 path */
	{ GC_KERNEL_GENERIC, "generic" },
	{ GC_KERNEL_AVX2, "avx2" },
	{ GC_KERNEL_AVX512, "avx512f" },
};
#define N_VERSIONS (sizeof versions / sizeof versions[0])

static gc_case *parse(const char *json)
{
	gc_case *c = NULL;
	gc_error err;

	memset(&err, 0, sizeof err);
	ck_assert_msg(gc_case_parse(json, strlen(json), "test.json", &c, &err) == 0, "%s",
	              err.msg);
	return c;
}

static int same(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* Moves every element by +-scale (scale 0: the core's central steps); returns the
 * moves the kernel computed over all versions. */
static size_t compare_moves(const gc_case *c, const char *what, double scale)
{
	size_t n = c->n_params, moves = 2 * n, fused = 0;
	size_t *idx = malloc(moves * sizeof *idx);
	double *delta = malloc(moves * sizeof *delta), *ref = malloc(moves * sizeof *ref);
	double *got = malloc(moves * sizeof *got);
	int *rk = malloc(moves * sizeof *rk), *gk = malloc(moves * sizeof *gk);
	gc_net *net = NULL;

	ck_assert(idx && delta && ref && got && rk && gk);
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	for (size_t i = 0; i < n; i++) {
		double x = c->theta[i];
		double h = scale > 0 ? scale
		         : c->check.has_step ? c->check.step : cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
		idx[2 * i] = idx[2 * i + 1] = i;
		delta[2 * i] = (x + h) - x;
		delta[2 * i + 1] = -(x - (x - h));
		for (int s = 0; s < 2; s++) {
			rk[2 * i + s] = 0;
			ref[2 * i + s] = gc_net_moved_loss(net, 0, i, delta[2 * i + s], &rk[2 * i + s]);
		}
	}
	for (size_t v = 0; v < N_VERSIONS; v++) {
		if (gc_net_set_kernel(net, versions[v].isa) != GC_OK)
			continue;
		size_t before = gc_net_fused_moves(net);
		for (size_t e = 0; e < moves; e += 2 * CHUNK) {
			size_t cnt = moves - e < 2 * CHUNK ? moves - e : 2 * CHUNK;
			memset(gk + e, 0, cnt * sizeof *gk);
			gc_net_moved_many(net, 0, cnt, idx + e, delta + e, got + e, gk + e);
		}
		for (size_t e = 0; e < moves; e++)
			ck_assert_msg(same(got[e], ref[e]) && !gk[e] == !rk[e],
			              "%s, %s, element %zu moved by %g: kernel %.17g kink %d, "
			              "reference %.17g kink %d", what, versions[v].name, idx[e],
			              delta[e], got[e], gk[e], ref[e], rk[e]);
		fused += gc_net_fused_moves(net) - before;
	}
	gc_net_free(net);
	free(idx);
	free(delta);
	free(ref);
	free(got);
	free(rk);
	free(gk);
	return fused;
}

/* gc_check of c's backpropagated gradient (with every fourth element off by 1e-4
 * relative when planted, so that failures and the ladder's other paths are covered
 * too) with moved_many or without it. */
static gc_result *check_case(const gc_case *c, gc_net *net, const double *grad, int many,
                             unsigned jobs)
{
	gc_options o;
	gc_result *r = NULL;

	gc_options_init(&o);
	o.jobs = jobs;
	if (c->check.has_step)
		o.step = c->check.step;
	if (c->check.has_rtol)
		o.rtol = c->check.rtol;
	if (c->check.has_atol)
		o.atol = c->check.atol;
	if (c->check.has_method)
		o.method = c->check.method;
	gc_problem p = {
		.n = c->n_params, .theta = c->theta, .grad = grad, .loss = gc_net_base_loss(net),
		.f = gc_net_fn, .moved = gc_net_moved_loss, .moved_many = many ? gc_net_moved_many : NULL,
		.kink = gc_net_kink, .ctx = net, .tensors = c->tensors, .n_tensors = c->n_tensors,
		.noise = gc_net_noise(net),
	};
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	return r;
}

/* The whole check's elements with moved_many equal those without, bit for bit. */
static void compare_checks(const gc_case *c, const char *what)
{
	gc_net *net = NULL;
	double loss, *grad = malloc(c->n_params * sizeof *grad);

	ck_assert(grad);
	ck_assert_int_eq(gc_net_create(c, 2, &net), GC_OK);
	ck_assert_int_eq(gc_net_gradient(net, &loss, grad), GC_OK);
	for (int planted = 0; planted < 2; planted++) {
		if (planted)
			for (size_t i = 0; i < c->n_params; i += 4)
				grad[i] *= 1 + 1e-4;
		gc_result *ref = check_case(c, net, grad, 0, 1);
		for (unsigned jobs = 1; jobs <= 2; jobs++) {
			gc_result *r = check_case(c, net, grad, 1, jobs);
			for (size_t i = 0; i < c->n_params; i++) {
				const gc_element *a = &r->elements[i], *b = &ref->elements[i];
				ck_assert_msg(a->verdict == b->verdict && same(a->numeric, b->numeric)
				              && same(a->step, b->step) && same(a->est_err, b->est_err)
				              && same(a->abs_err, b->abs_err),
				              "%s%s, %u threads, element %zu: verdict %d numeric %.17g step "
				              "%g est %g with moved_many, verdict %d numeric %.17g step %g "
				              "est %g without", what, planted ? " (planted errors)" : "",
				              jobs, i, a->verdict, a->numeric, a->step, a->est_err,
				              b->verdict, b->numeric, b->step, b->est_err);
			}
			ck_assert_int_eq(r->failed, ref->failed);
			gc_result_free(r);
		}
		gc_result_free(ref);
	}
	gc_net_free(net);
	free(grad);
}

static void compare_all(const gc_case *c, const char *what)
{
	static const double scales[] = { 0, 1e-9, 9e-4, 1.1e-3, 0.05, 1.5 };
	for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++)
		compare_moves(c, what, scales[s]);
	compare_checks(c, what);
}

static int is_json(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

START_TEST(every_case_in_cases)
{
	struct dirent **names = NULL;
	int n = scandir("cases", &names, is_json, alphasort);

	ck_assert_int_gt(n, 0);
	for (int k = 0; k < n; k++) {
		char path[600];
		gc_case *c = NULL;
		gc_error err;
		snprintf(path, sizeof path, "cases/%s", names[k]->d_name);
		memset(&err, 0, sizeof err);
		ck_assert_msg(gc_case_load(path, &c, &err) == 0, "%s: %s", path, err.msg);
		compare_all(c, path);
		gc_case_free(c);
		free(names[k]);
	}
	free(names);
}
END_TEST

/* An MLP like make bench's: layers, hidden activation, output activation, loss. */
static gc_case *mlp(const char *layers, int hidden, const char *act, const char *out,
                    const char *loss, int batch)
{
	char json[2048], acts[512] = "";
	for (int k = 0; k < hidden; k++)
		snprintf(acts + strlen(acts), sizeof acts - strlen(acts), "\"%s\", ", act);
	snprintf(json, sizeof json,
	         "{\"name\": \"mlp\", \"layers\": %s, \"activations\": [%s\"%s\"], \"loss\": \"%s\","
	         " \"init\": {\"seed\": 1, \"distribution\": \"xavier\", \"scale\": 1},"
	         " \"data\": {\"seed\": 2, \"batch\": %d}}", layers, acts, out, loss, batch);
	return parse(json);
}

static const struct {
	const char *layers;
	int hidden;
	const char *act, *out, *loss;
	int batch;
} nets[] = {
	{ "[16, 32, 10]", 1, "tanh", "identity", "mse", 8 },
	{ "[32, 64, 64, 10]", 2, "tanh", "identity", "mse", 16 },
	{ "[64, 128, 128, 10]", 2, "tanh", "identity", "mse", 32 },
	{ "[32, 64, 64, 10]", 2, "relu", "identity", "mse", 16 },
	{ "[32, 64, 64, 10]", 2, "leaky_relu", "identity", "half_sse", 16 },
	{ "[32, 64, 64, 10]", 2, "sigmoid", "softmax", "cross_entropy", 16 },
	{ "[16, 24, 24, 3]", 2, "tanh", "softmax", "cross_entropy", 8 },
	{ "[16, 24, 24, 2]", 2, "sigmoid", "softmax", "cross_entropy", 8 },
	{ "[16, 24, 24, 12]", 2, "relu", "softmax", "cross_entropy", 8 },
	{ "[32, 64, 64, 1]", 2, "tanh", "sigmoid", "binary_cross_entropy", 16 },
	{ "[32, 64, 64, 3]", 2, "identity", "relu", "sse", 16 },
	{ "[8, 16, 16, 16, 5]", 3, "softplus", "identity", "mse", 4 },
	{ "[8, 12, 12, 12, 12, 12, 5]", 5, "tanh", "identity", "mse", 6 },
	{ "[8, 12, 12, 12, 12, 11]", 4, "sigmoid", "softmax", "cross_entropy", 6 },
	{ "[6, 10, 10, 10, 10, 3]", 4, "identity", "sigmoid", "binary_cross_entropy", 5 },
	{ "[8, 16, 16, 16, 16, 5]", 4, "relu", "identity", "mse", 6 },
	{ "[8, 16, 16, 16, 16, 4]", 4, "leaky_relu", "softmax", "cross_entropy", 6 },
	{ "[32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10]", 10, "tanh", "identity", "mse", 32 },
};

START_TEST(bench_nets)
{
	gc_case *c = mlp(nets[_i].layers, nets[_i].hidden, nets[_i].act, nets[_i].out,
	                 nets[_i].loss, nets[_i].batch);
	char what[256];
	snprintf(what, sizeof what, "%s %s/%s/%s", nets[_i].layers, nets[_i].act, nets[_i].out,
	         nets[_i].loss);
	size_t fused = compare_moves(c, what, 0);
	/* the fused path covers three or more layers, the hidden activations but softplus */
	if (c->n_layers >= 3 && strcmp(nets[_i].act, "softplus") != 0)
		ck_assert_msg(fused > c->n_params / 4, "%s: the kernel computed only %zu moves",
		              what, fused);
	if (c->n_params < 10000)
		compare_all(c, what);
	else
		compare_checks(c, what);
	gc_case_free(c);
}
END_TEST

/* A subnormal weight into layer L-1: W2[0, u] = 1e-320 for every unit u of layer 1,
 * so a move of W1[u, j] changes unit 0 of layer 2 by a product that rounds to 0,
 * which the reference path skips (regrouping its sums by four) and the Taylor kernel
 * must notice instead of adding the 0. */
START_TEST(subnormal_weight)
{
	gc_case *c = mlp("[16, 32, 32, 10]", 2, "tanh", "identity", "mse", 8);
	size_t w2 = c->sizes[0] * c->sizes[1] + c->sizes[1];   /* W2 (out_in) after W1, b1 */
	size_t rank1 = 2 * (c->sizes[1] * c->sizes[2] + c->sizes[2]), expected = 0;

	for (size_t u = 0; u < c->sizes[1]; u++)
		c->theta[w2 + u] = 1e-320;
	/* every move of W1 and b1 is handed back; every one of W2 and b2 is computed */
	for (size_t v = 0; v < N_VERSIONS; v++)
		expected += gc_fused_available(versions[v].isa) ? rank1 : 0;
	ck_assert_uint_eq(compare_moves(c, "subnormal weight", 0), expected);
	gc_case_free(c);
}
END_TEST

/* Below layer L-2 the change of a unit can be 0 in every lane: W2[0, u] = 0 in a
 * four-layer net of identity layers (no series limit, so large moves stay on the
 * deep path and a regrouped sum shows in the loss), so that a move of W1 or b1
 * changes unit 0 of layer 2 by 0.  Its unit lists must skip that unit, as the
 * reference path does. */
START_TEST(zero_weight_deep)
{
	gc_case *c = mlp("[6, 37, 37, 37, 5]", 3, "identity", "identity", "mse", 4);
	size_t w2 = c->sizes[0] * c->sizes[1] + c->sizes[1];

	for (size_t u = 0; u < c->sizes[1]; u++)
		c->theta[w2 + u] = 0;
	ck_assert_uint_gt(compare_moves(c, "zero weight, deep", 0), 0);
	ck_assert_uint_gt(compare_moves(c, "zero weight, deep", 0.05), 0);
	ck_assert_uint_gt(compare_moves(c, "zero weight, deep", 1.5), 0);
	gc_case_free(c);
}
END_TEST

/* Forcing a version: each one this processor runs is accepted, the reference too. */
START_TEST(versions_forced)
{
	gc_case *c = mlp("[4, 8, 8, 2]", 2, "tanh", "identity", "mse", 4);
	gc_net *net = NULL;

	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	ck_assert_int_ne(gc_net_kernel(net), GC_KERNEL_REFERENCE);
	for (size_t v = 0; v < N_VERSIONS; v++) {
		int ok = gc_fused_available(versions[v].isa);
		ck_assert_int_eq(gc_net_set_kernel(net, versions[v].isa), ok ? GC_OK : GC_EINVAL);
		if (versions[v].isa == GC_KERNEL_AUTO)
			ck_assert_int_ne(gc_net_kernel(net), GC_KERNEL_REFERENCE);
		else if (ok)
			ck_assert_int_eq(gc_net_kernel(net), versions[v].isa);
		printf("kernel version %s: %s\n", versions[v].name, ok ? "tested" : "SKIP (not this processor)");
	}
	ck_assert_int_eq(gc_net_set_kernel(net, GC_KERNEL_REFERENCE), GC_OK);
	ck_assert_int_eq(gc_net_kernel(net), GC_KERNEL_REFERENCE);
	gc_net_free(net);
	gc_case_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("kernel");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, versions_forced);
	tcase_add_test(tc, subnormal_weight);
	tcase_add_test(tc, zero_weight_deep);
	tcase_add_loop_test(tc, bench_nets, 0, sizeof nets / sizeof nets[0]);
	tcase_add_test(tc, every_case_in_cases);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(suite)
