/* test_incremental.c - the incremental moved loss (gc_net_moved_loss) against plain
 * full forward passes (gc_net_fn) on every case in cases/ and on saturated networks.
 *
 * The two are different computations of the same loss: the full pass forms every
 * product afresh with BLAS, the incremental one adds changes to cached layers and
 * gets tanh and sigmoid of z0 + dz from the cached f(z0) by addition identities.
 * They cannot agree to the last bit, and the numeric derivatives made from them
 * cannot agree to 1e-12 relative either: the full pass itself rounds the loss by a
 * few eps |L|, which divided by the 2h ~ 1.2e-5 of a central difference is ~1e-11 |L|
 * absolute, 1e-5 relative for a gradient element of 1e-6 (measured on cases/ and a
 * 26k-parameter MLP: up to 3e-5 relative, for the plain incremental pass without the
 * identities too).  So the bound is on the loss
 * scale: the two numeric derivatives may differ by 1e-12 relative plus
 * TOL_EPS eps max(1, |L|) / 2h, the rounding of a few loss evaluations.  The
 * largest difference seen on cases/ is 5.1 eps max(1, |L|) (a plain incremental
 * pass without the identities: 3.6). */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "case.h"
#include "net.h"

#define TOL_EPS 64.0            /* loss-scale tolerance in units of eps max(1, |L|) */
#define MAX_CASES 256

static char case_paths[MAX_CASES][512];
static int n_cases;

static int is_json(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* Fills case_paths with cases/ *.json, sorted; returns how many. */
static int list_cases(void)
{
	struct dirent **names = NULL;
	int n = scandir("cases", &names, is_json, alphasort);

	n_cases = 0;
	for (int k = 0; k < n; k++) {
		if (n_cases < MAX_CASES)
			snprintf(case_paths[n_cases++], sizeof case_paths[0], "cases/%s",
			         names[k]->d_name);
		free(names[k]);
	}
	free(names);
	return n_cases;
}

static gc_case *load(const char *path)
{
	gc_case *c = NULL;
	gc_error err;

	memset(&err, 0, sizeof err);
	ck_assert_msg(gc_case_load(path, &c, &err) == 0, "%s: %s", path, err.msg);
	return c;
}

static gc_case *parse(const char *json)
{
	gc_case *c = NULL;
	gc_error err;

	memset(&err, 0, sizeof err);
	ck_assert_msg(gc_case_parse(json, strlen(json), "test.json", &c, &err) == 0, "%s",
	              err.msg);
	return c;
}

/* The step the checking core uses for element x (gc_options step 0, or the case's). */
static double step_for(const gc_case *c, double x)
{
	if (c->check.has_step)
		return c->check.step;
	return cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
}

/* Every element's central difference, incremental against full forward passes. */
static void check_numeric_gradients(const gc_case *c, const char *what)
{
	gc_net *net = NULL;
	double *th = malloc(c->n_params * sizeof *th);

	ck_assert_ptr_nonnull(th);
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	memcpy(th, c->theta, c->n_params * sizeof *th);
	double L = gc_net_base_loss(net), scale = fmax(1.0, fabs(L));
	ck_assert_double_eq_tol(L, gc_net_fn(c->theta, net), 4 * DBL_EPSILON * scale);
	for (size_t i = 0; i < c->n_params; i++) {
		double x = c->theta[i], h = step_for(c, x);
		double hp = (x + h) - x, hm = x - (x - h);
		double mu = gc_net_moved_loss(net, 0, i, hp, NULL);
		double md = gc_net_moved_loss(net, 0, i, -hm, NULL);
		th[i] = x + hp;
		double fu = gc_net_fn(th, net);
		th[i] = x - hm;
		double fd = gc_net_fn(th, net);
		th[i] = x;
		double n_incr = (mu - md) / (hp + hm), n_full = (fu - fd) / (hp + hm);
		double tol = 1e-12 * fabs(n_full) + TOL_EPS * DBL_EPSILON * scale / (hp + hm);
		ck_assert_msg(fabs(n_incr - n_full) <= tol,
		              "%s element %zu: incremental %.17g full %.17g (%.2g eps of the loss)",
		              what, i, n_incr, n_full,
		              fabs((mu - md) - (fu - fd)) / (DBL_EPSILON * scale));
	}
	free(th);
	gc_net_free(net);
}

/* Loss values at moves from tiny to large: both branches of the identities. */
static void check_values(const gc_case *c, const char *what)
{
	static const double moves[] = { 1e-9, 1e-5, 9e-4, 1.1e-3, 0.05, 1.5 };
	gc_net *net = NULL;
	double *th = malloc(c->n_params * sizeof *th);

	ck_assert_ptr_nonnull(th);
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	memcpy(th, c->theta, c->n_params * sizeof *th);
	double L = gc_net_base_loss(net);
	for (size_t m = 0; m < sizeof moves / sizeof moves[0]; m++)
		for (size_t i = 0; i < c->n_params; i++)
			for (int sign = -1; sign <= 1; sign += 2) {
				double d = sign * moves[m];
				double mv = gc_net_moved_loss(net, 0, i, d, NULL);
				th[i] = c->theta[i] + d;
				double full = gc_net_fn(th, net);
				th[i] = c->theta[i];
				double scale = fmax(1.0, fmax(fabs(L), fabs(full)));
				ck_assert_msg(fabs(mv - full) <= TOL_EPS * DBL_EPSILON * scale,
				              "%s element %zu moved by %g: incremental %.17g full %.17g",
				              what, i, d, mv, full);
			}
	free(th);
	gc_net_free(net);
}

START_TEST(test_cases_numeric_gradients)
{
	gc_case *c = load(case_paths[_i]);
	check_numeric_gradients(c, case_paths[_i]);
	gc_case_free(c);
}
END_TEST

START_TEST(test_cases_values)
{
	gc_case *c = load(case_paths[_i]);
	check_values(c, case_paths[_i]);
	gc_case_free(c);
}
END_TEST

START_TEST(test_cases_found)
{
	ck_assert_int_ge(n_cases, 20);
}
END_TEST

/* Large weights: many tanh and sigmoid units near saturation, where 1 - t^2 and
 * 1 - s lose digits; and a zero input column (changes of exactly 0). */
static const char *const saturated[] = {
	"{\"layers\": [6, 12, 12, 3], \"activations\": [\"sigmoid\", \"tanh\", \"identity\"],"
	" \"loss\": \"sse\", \"init\": {\"seed\": 3, \"distribution\": \"normal\", \"scale\": 4},"
	" \"data\": {\"seed\": 5, \"batch\": 5}}",
	"{\"layers\": [5, 9, 7, 4], \"activations\": [\"tanh\", \"sigmoid\", \"sigmoid\"],"
	" \"loss\": \"binary_cross_entropy\", \"weight_layout\": \"in_out\","
	" \"init\": {\"seed\": 8, \"distribution\": \"uniform\", \"scale\": 6},"
	" \"data\": {\"seed\": 2, \"batch\": 4}}",
	"{\"layers\": [2, 3, 2], \"activations\": [\"tanh\", \"softmax\"],"
	" \"loss\": \"cross_entropy\","
	" \"params\": {\"weights\": [[[40, 0], [0, -35], [0.5, 0]], [[1, -2, 3], [-1, 2, 0.5]]],"
	"              \"biases\": [[0, 0, 0], [0.1, -0.1]]},"
	" \"inputs\": [[1, 0], [-1, 0], [0, 1]], \"targets\": [[1, 0], [0, 1], [1, 0]]}",
	"{\"layers\": [4, 8, 6, 12], \"activations\": [\"sigmoid\", \"tanh\", \"softmax\"],"
	" \"loss\": \"cross_entropy\", \"init\": {\"seed\": 4, \"distribution\": \"normal\","
	" \"scale\": 3}, \"data\": {\"seed\": 6, \"batch\": 5}}",
};
#define N_SATURATED (sizeof saturated / sizeof saturated[0])

START_TEST(test_saturated)
{
	gc_case *c = parse(saturated[_i]);
	check_numeric_gradients(c, "saturated");
	check_values(c, "saturated");
	gc_case_free(c);
}
END_TEST

/* The identities must not be an approximation that only holds near the cached
 * point: a net whose hidden changes all exceed the small-change range still
 * matches (they go to the library functions), and so does one where every change
 * is tiny.  [1, 1, 1]: z1 = 2x, a1 = tanh(z1), out = 3 a1; hand-derived values. */
START_TEST(test_one_unit_by_hand)
{
	gc_case *c = parse("{\"layers\": [1, 1, 1], \"activations\": [\"tanh\", \"identity\"],"
	                   " \"loss\": \"half_sse\", \"bias\": false,"
	                   " \"params\": {\"weights\": [[[2]], [[3]]]},"
	                   " \"inputs\": [[0.25]], \"targets\": [[0]]}");
	gc_net *net = NULL;
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	/* loss = 0.5 (3 tanh(w1 x))^2; move w1 (element 0) by d: 4.5 tanh^2((2 + d) / 4) */
	static const double moves[] = { 1e-7, -3e-5, 2e-3, 0.4 };
	for (size_t m = 0; m < 4; m++) {
		double d = moves[m], t = tanh((2 + d) * 0.25);
		ck_assert_double_eq_tol(gc_net_moved_loss(net, 0, 0, d, NULL), 4.5 * t * t,
		                        8 * DBL_EPSILON);
	}
	gc_net_free(net);
	gc_case_free(c);
}
END_TEST

/* A moved cross-entropy takes its logsumexp from the cached one by series while every
 * change of the output is below 1e-3 and from exp() and log() above: both against
 * the loss by hand.  [1, 2] without biases, softmax output, target class 1: the loss
 * is log(e^(w0 x) + e^(w1 x)) - w1 x, and a move d of w0 changes z0 by d x. */
START_TEST(test_cross_entropy_by_hand)
{
	gc_case *c = parse("{\"layers\": [1, 2], \"activations\": [\"softmax\"],"
	                   " \"loss\": \"cross_entropy\", \"bias\": false,"
	                   " \"params\": {\"weights\": [[[0.75], [-1.5]]]},"
	                   " \"inputs\": [[2]], \"targets\": [[0, 1]]}");
	gc_net *net = NULL;
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_OK);
	static const double moves[] = { 1e-7, -3e-5, 4.9e-4, -2e-3, 0.4 };
	for (size_t m = 0; m < 5; m++) {
		double z0 = (0.75 + moves[m]) * 2, z1 = -3;
		double want = z0 + log1p(exp(z1 - z0)) - z1;
		ck_assert_double_eq_tol(gc_net_moved_loss(net, 0, 0, moves[m], NULL), want,
		                        8 * DBL_EPSILON * want);
	}
	gc_net_free(net);
	gc_case_free(c);
}
END_TEST

static Suite *incremental_suite(void)
{
	Suite *s = suite_create("incremental");
	TCase *tc = tcase_create("incremental");

	tcase_set_timeout(tc, 600);
	list_cases();
	tcase_add_test(tc, test_cases_found);
	tcase_add_loop_test(tc, test_cases_numeric_gradients, 0, n_cases);
	tcase_add_loop_test(tc, test_cases_values, 0, n_cases);
	tcase_add_loop_test(tc, test_saturated, 0, (int)N_SATURATED);
	tcase_add_test(tc, test_one_unit_by_hand);
	tcase_add_test(tc, test_cross_entropy_by_hand);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(incremental_suite)
