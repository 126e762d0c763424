/* test_check.c - the checking core against functions whose gradients are known by hand. */
#include "gradcheck.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* ---- test functions ------------------------------------------------------------ */

/* f = sum c_i t_i^2 + t0 t1 + t2 t3 (needs n >= 4); df/dt_i = 2 c_i t_i + cross. */
typedef struct quad {
	size_t n;
	const double *c;
} quad;

static double quad_f(const double *t, void *ctx)
{
	const quad *q = ctx;
	double s = t[0] * t[1] + t[2] * t[3];
	for (size_t i = 0; i < q->n; i++)
		s += q->c[i] * t[i] * t[i];
	return s;
}

static void quad_grad(const quad *q, const double *t, double *g)
{
	for (size_t i = 0; i < q->n; i++)
		g[i] = 2 * q->c[i] * t[i];
	g[0] += t[1];
	g[1] += t[0];
	g[2] += t[3];
	g[3] += t[2];
}

/* f = exp(t0) sin(t1) + sin(t2 t3) + exp(-t4^2). */
static double trig_f(const double *t, void *ctx)
{
	(void)ctx;
	return exp(t[0]) * sin(t[1]) + sin(t[2] * t[3]) + exp(-t[4] * t[4]);
}

static void trig_grad(const double *t, double *g)
{
	g[0] = exp(t[0]) * sin(t[1]);
	g[1] = exp(t[0]) * cos(t[1]);
	g[2] = t[3] * cos(t[2] * t[3]);
	g[3] = t[2] * cos(t[2] * t[3]);
	g[4] = -2 * t[4] * exp(-t[4] * t[4]);
}

/* f = sum |t_i|, with a kink at 0. */
static double abs_f(const double *t, void *ctx)
{
	const size_t *n = ctx;
	double s = 0;
	for (size_t i = 0; i < *n; i++)
		s += fabs(t[i]);
	return s;
}

static int abs_kink(void *ctx, const double *t, size_t i, double h)
{
	(void)ctx;
	return fabs(t[i]) < h;
}

/* f = sum t_i (exactly 1 per element at t = 0). */
static double sum_f(const double *t, void *ctx)
{
	const size_t *n = ctx;
	double s = 0;
	for (size_t i = 0; i < *n; i++)
		s += t[i];
	return s;
}

/* f = sum t_i^2, but NaN when t0 is moved up from its value 1. */
static double nan_f(const double *t, void *ctx)
{
	const size_t *n = ctx;
	double s = 0;
	if (t[0] > 1)
		return NAN;
	for (size_t i = 0; i < *n; i++)
		s += t[i] * t[i];
	return s;
}

/* The moved hook for trig_f / abs_f: a per-worker copy of theta, moved and restored. */
typedef struct moved_ctx {
	const double *theta;
	size_t n;
	double (*f)(const double *, void *);
	void *fctx;
	double *scratch[8];     /* per worker */
	int used[8];            /* used[w]: worker w called the hook */
	int kinks_at_zero;
} moved_ctx;

static double moved_hook(void *ctx, unsigned worker, size_t i, double delta, int *kink)
{
	moved_ctx *m = ctx;
	double *t = m->scratch[worker];
	double x = m->theta[i];
	if (worker >= 8)
		return NAN;
	m->used[worker] = 1;
	memcpy(t, m->theta, m->n * sizeof *t);
	t[i] = x + delta;
	if (m->kinks_at_zero && kink && (x > 0) != (t[i] > 0))
		*kink = 1;
	return m->f(t, m->fctx);
}

static void moved_init(moved_ctx *m, const double *theta, size_t n,
                       double (*f)(const double *, void *), void *fctx)
{
	memset(m, 0, sizeof *m);
	m->theta = theta;
	m->n = n;
	m->f = f;
	m->fctx = fctx;
	for (int k = 0; k < 8; k++)
		m->scratch[k] = malloc(n * sizeof(double));
}

static void moved_free(moved_ctx *m)
{
	for (int k = 0; k < 8; k++)
		free(m->scratch[k]);
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static int same_element(const gc_element *a, const gc_element *b)
{
	return a->index == b->index && same_bits(a->analytic, b->analytic) &&
	       same_bits(a->numeric, b->numeric) && same_bits(a->abs_err, b->abs_err) &&
	       same_bits(a->rel_err, b->rel_err) && same_bits(a->est_err, b->est_err) &&
	       same_bits(a->step, b->step) && a->verdict == b->verdict;
}

static gc_options opts(unsigned jobs)
{
	gc_options o;
	gc_options_init(&o);
	o.jobs = jobs;
	return o;
}

/* ---- basics ------------------------------------------------------------------------ */

START_TEST(test_defaults)
{
	gc_options o;
	memset(&o, 0xff, sizeof o);
	gc_options_init(&o);
	ck_assert(o.step == 0);
	ck_assert(o.rtol == 1e-6);
	ck_assert(o.atol == 0);
	ck_assert_int_eq(o.method, GC_METHOD_CENTRAL);
	ck_assert_uint_eq(o.jobs, 0);
	ck_assert_uint_eq(o.sample, 0);
	ck_assert_int_eq(o.fast, 0);
	ck_assert_uint_eq(o.seed, 0);
	ck_assert_uint_eq(o.shard_index, 0);
	ck_assert_uint_eq(o.shard_count, 0);
	ck_assert_str_eq(gc_strerror(GC_ENOMEM), "out of memory");
	ck_assert_str_eq(gc_strerror(GC_OK), "success");
	ck_assert_str_ne(gc_strerror(GC_EINVAL), gc_strerror(GC_ETHREAD));
	ck_assert_ptr_nonnull(gc_strerror(12345));
	gc_result_free(NULL);
}
END_TEST

START_TEST(test_quadratic_passes)
{
	double c[6] = { 1, 2, 3, 0.5, 0.25, 1.5 };
	double t[6] = { 0.7, -1.3, 2.5, 0.01, -4, 3 };
	quad q = { 6, c };
	double g[6];
	quad_grad(&q, t, g);
	/* by hand: 2 c_i t_i + cross terms */
	ck_assert_double_eq_tol(g[0], 1.4 - 1.3, 1e-15);
	ck_assert_double_eq_tol(g[2], 15 + 0.01, 1e-13);
	gc_problem p = { .n = 6, .theta = t, .grad = g, .loss = quad_f(t, &q), .f = quad_f,
	                 .ctx = &q };
	gc_options o = opts(1);
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->n, 6);
	ck_assert_uint_eq(r->checked, 6);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->n_tensors, 1);
	ck_assert_str_eq(r->tensors[0].tensor.name, "theta");
	ck_assert_uint_eq(r->tensors[0].tensor.rows, 6);
	ck_assert_uint_eq(r->tensors[0].tensor.cols, 1);
	ck_assert_uint_eq(r->n_diagnoses, 0);
	ck_assert(r->atol_used == 0);
	ck_assert(r->rtol_used == 1e-6);
	for (size_t i = 0; i < 6; i++) {
		const gc_element *e = &r->elements[i];
		ck_assert_uint_eq(e->index, i);
		ck_assert_int_eq(e->verdict, GC_ELEM_PASS);
		ck_assert(e->analytic == g[i]);
		ck_assert_double_lt(e->rel_err, 1e-8);
		ck_assert(e->step == cbrt(DBL_EPSILON) * fmax(1, fabs(t[i])));
		/* one difference settled it: est_err is its rounding noise, 4 eps |L| / h */
		ck_assert_double_gt(e->est_err, 0);
		ck_assert_double_lt(e->est_err, 4 * DBL_EPSILON * 2 * 40 / (2 * e->step) * 1.01);
	}
	ck_assert(r->elements[5].step == cbrt(DBL_EPSILON) * 3);
	ck_assert(r->elements[0].step == cbrt(DBL_EPSILON));
	ck_assert_double_lt(r->tensors[0].max_rel, 1e-8);
	gc_result_free(r);

	o.atol = 1e-9;
	o.step = 1e-3;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert(r->atol_used == 1e-9);
	ck_assert(r->elements[4].step == 1e-3);
	ck_assert_uint_eq(r->failed, 0);
	gc_result_free(r);
}
END_TEST

START_TEST(test_trig_passes_and_one_off_fails)
{
	double t[5] = { 0.3, 1.1, -0.8, 2.2, 0.6 };
	double g[5];
	trig_grad(t, g);
	/* numpy: exp(0.3)*cos(1.1) */
	ck_assert_double_eq_tol(g[1], 0.6122907195886297, 1e-14);
	gc_problem p = { .n = 5, .theta = t, .grad = g, .loss = trig_f(t, NULL), .f = trig_f };
	gc_options o = opts(2);
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 0);
	for (size_t i = 0; i < 5; i++)
		ck_assert_double_lt(r->elements[i].rel_err, 1e-8);
	gc_result_free(r);

	g[3] *= 1 + 1e-4;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_uint_eq(r->tensors[0].failed, 1);
	ck_assert_int_eq(r->elements[3].verdict, GC_ELEM_FAIL);
	ck_assert_uint_eq(r->tensors[0].n_worst, 1);
	ck_assert_uint_eq(r->tensors[0].worst[0].index, 3);
	ck_assert_double_eq_tol(r->tensors[0].worst[0].rel_err, 1e-4 / (1 + 1e-4), 1e-8);
	ck_assert_double_eq_tol(r->tensors[0].max_rel, 1e-4 / (1 + 1e-4), 1e-8);
	ck_assert_int_eq(r->elements[2].verdict, GC_ELEM_PASS);
	ck_assert_uint_eq(r->n_diagnoses, 0);   /* one element: no pattern */
	gc_result_free(r);
}
END_TEST

START_TEST(test_kink_callback)
{
	size_t n = 5;
	double t[5] = { 0.5, -2, 1e-7, -0.25, 0 };
	double g[5] = { 1, -1, 1, -1, 0.5 };
	gc_problem p = { .n = n, .theta = t, .grad = g, .loss = 2.75, .f = abs_f, .ctx = &n };
	gc_options o = opts(1);
	gc_result *r = NULL;

	/* without the kink callback the differences at 1e-7 are 1e-7 / h, which the ladder
	 * cannot tell from a smooth function's: the element fails (a function with kinks
	 * must say where they are) */
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_int_eq(r->elements[2].verdict, GC_ELEM_FAIL);
	gc_result_free(r);

	/* with it, steps shrink until the move no longer crosses 0: t2 passes; t4 sits at
	 * the kink, so its claim 0.5 is judged between the one-sided slopes -1 and 1 */
	p.kink = abs_kink;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->kinks, 1);
	ck_assert_uint_eq(r->checked, 5);
	ck_assert_uint_eq(r->tensors[0].kinks, 1);
	ck_assert_int_eq(r->elements[2].verdict, GC_ELEM_PASS);
	ck_assert_double_lt(r->elements[2].step, 1e-7);
	ck_assert_int_eq(r->elements[4].verdict, GC_ELEM_KINK);
	ck_assert(r->elements[4].numeric == 0.5);
	ck_assert_int_eq(r->elements[0].verdict, GC_ELEM_PASS);
	/* max_rel skips the kink */
	ck_assert_double_lt(r->tensors[0].max_rel, 1e-8);
	gc_result_free(r);

	/* a claim outside [-1, 1] at the kink fails, its numeric the nearest slope */
	g[4] = 1.5;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_uint_eq(r->kinks, 0);
	ck_assert_int_eq(r->elements[4].verdict, GC_ELEM_FAIL);
	ck_assert_double_eq_tol(r->elements[4].numeric, 1, 1e-6);
	gc_result_free(r);
}
END_TEST

START_TEST(test_moved_matches_f)
{
	double t[5] = { 0.3, 1.1, -0.8, 2.2, 0.6 };
	double g[5];
	trig_grad(t, g);
	g[1] = 0.61;        /* a wrong one too */
	moved_ctx m;
	moved_init(&m, t, 5, trig_f, NULL);
	gc_problem pf = { .n = 5, .theta = t, .grad = g, .loss = 1, .f = trig_f };
	gc_problem pm = { .n = 5, .theta = t, .grad = g, .loss = 1, .moved = moved_hook,
	                  .ctx = &m };
	gc_options o = opts(3);
	gc_result *rf = NULL, *rm = NULL;
	ck_assert_int_eq(gc_check(&pf, &o, &rf), GC_OK);
	ck_assert_int_eq(gc_check(&pm, &o, &rm), GC_OK);
	ck_assert((m.used[0] || m.used[1] || m.used[2]) && !m.used[3] && !m.used[4]);
	ck_assert_uint_eq(rf->failed, 1);
	for (size_t i = 0; i < 5; i++)
		ck_assert(same_element(&rf->elements[i], &rm->elements[i]));
	gc_result_free(rf);
	gc_result_free(rm);

	/* kinks through the hook: |x| with t2 at 0 */
	size_t n = 4;
	double ta[4] = { 0.5, -2, 0, -0.25 };
	double ga[4] = { 1, -1, 1, -1 };
	moved_ctx ma;
	moved_init(&ma, ta, 4, abs_f, &n);
	ma.kinks_at_zero = 1;
	gc_problem pa = { .n = 4, .theta = ta, .grad = ga, .loss = 1, .moved = moved_hook,
	                  .ctx = &ma };
	ck_assert_int_eq(gc_check(&pa, &o, &rm), GC_OK);
	ck_assert_uint_eq(rm->kinks, 1);
	ck_assert_uint_eq(rm->failed, 0);
	ck_assert_int_eq(rm->elements[2].verdict, GC_ELEM_KINK);
	gc_result_free(rm);
	moved_free(&m);
	moved_free(&ma);
}
END_TEST

START_TEST(test_five_point)
{
	double t[5] = { 0.3, 1.1, -0.8, 2.2, 0.6 };
	double g[5];
	trig_grad(t, g);
	gc_problem p = { .n = 5, .theta = t, .grad = g, .loss = 1, .f = trig_f };
	gc_options o = opts(2);
	o.method = GC_METHOD_FIVE_POINT;
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 0);
	int some_est = 0;
	for (size_t i = 0; i < 5; i++) {
		const gc_element *e = &r->elements[i];
		ck_assert_double_eq_tol(e->numeric, g[i], 1e-8);
		ck_assert(isfinite(e->est_err) && e->est_err >= 0);
		some_est |= e->est_err > 0;
	}
	ck_assert(some_est);
	gc_result_free(r);

	g[2] += 1e-3;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_int_eq(r->elements[2].verdict, GC_ELEM_FAIL);
	gc_result_free(r);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

typedef struct progress_log {
	size_t calls, last, total;
	int monotone;
} progress_log;

static void progress_cb(void *arg, size_t done, size_t total)
{
	progress_log *l = arg;
	if (done < l->last)
		l->monotone = 0;
	l->last = done;
	l->total = total;
	l->calls++;
}

START_TEST(test_jobs_bit_identical)
{
	enum { N = 2500 };
	double *c = malloc(N * sizeof *c), *t = malloc(N * sizeof *t), *g = malloc(N * sizeof *g);
	for (size_t i = 0; i < N; i++) {
		c[i] = 0.5 + (double)(i % 7);
		t[i] = sin((double)i) * 3;
	}
	quad q = { N, c };
	quad_grad(&q, t, g);
	for (size_t i = 0; i < N; i += 97)
		g[i] *= 1.01;
	gc_tensor ts[3] = { { "W1", 0, 40, 50, 1, 0 }, { "b1", 2000, 40, 1, 1, 0 },
	                    { "W2", 2040, 460, 1, 2, 0 } };
	gc_problem p = { .n = N, .theta = t, .grad = g, .loss = quad_f(t, &q), .f = quad_f,
	                 .ctx = &q, .tensors = ts, .n_tensors = 3 };
	gc_result *r1 = NULL, *r3 = NULL;
	gc_options o1 = opts(1), o3 = opts(3);
	progress_log log = { 0, 0, 0, 1 };
	ck_assert_int_eq(gc_check(&p, &o1, &r1), GC_OK);
	ck_assert_int_eq(gc_check_progress(&p, &o3, progress_cb, &log, &r3), GC_OK);
	ck_assert_uint_eq(r1->failed, 26);          /* 0, 97, ..., 2425 */
	ck_assert_uint_eq(r3->failed, r1->failed);
	for (size_t i = 0; i < N; i++)
		ck_assert(same_element(&r1->elements[i], &r3->elements[i]));
	for (size_t k = 0; k < 3; k++) {
		ck_assert(same_bits(r1->tensors[k].max_rel, r3->tensors[k].max_rel));
		ck_assert_uint_eq(r1->tensors[k].n_worst, r3->tensors[k].n_worst);
		for (size_t w = 0; w < r1->tensors[k].n_worst; w++)
			ck_assert(same_element(&r1->tensors[k].worst[w], &r3->tensors[k].worst[w]));
	}
	ck_assert_uint_eq(r1->tensors[0].failed, 21);   /* 0, 97, ..., 1940 */
	ck_assert_uint_eq(r1->tensors[1].failed, 1);    /* 2037 */
	ck_assert_uint_eq(r1->tensors[2].failed, 4);    /* 2134, ..., 2425 */
	ck_assert_uint_eq(r1->tensors[1].worst[0].index, 2037);
	ck_assert_uint_ge(log.calls, 2);
	ck_assert_uint_le(log.calls, N / 1000 + 4);
	ck_assert_uint_eq(log.last, N);
	ck_assert_uint_eq(log.total, N);
	ck_assert(log.monotone);
	gc_result_free(r1);
	gc_result_free(r3);
	free(c);
	free(t);
	free(g);
}
END_TEST

/* ---- sample and shard ---------------------------------------------------------------- */

START_TEST(test_sample)
{
	enum { N = 30 };
	double t[N], g[N], c[N];
	for (size_t i = 0; i < N; i++) {
		c[i] = 1;
		t[i] = 0.1 * (double)i;
	}
	quad q = { N, c };
	quad_grad(&q, t, g);
	gc_tensor ts[3] = { { "A", 0, 4, 5, 1, 0 }, { "B", 20, 2, 1, 1, 0 }, { "C", 22, 8, 1, 2, 0 } };
	gc_problem p = { .n = N, .theta = t, .grad = g, .loss = 1, .f = quad_f, .ctx = &q,
	                 .tensors = ts, .n_tensors = 3 };
	gc_options o = opts(1);
	o.sample = 3;
	o.seed = 42;
	gc_result *r = NULL, *r2 = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	o.jobs = 3;
	ck_assert_int_eq(gc_check(&p, &o, &r2), GC_OK);

	/* the choice the spec describes: one mt19937 seeded 42, gsl_ran_choose per tensor
	 * larger than the sample, in tensor order */
	unsigned char want[N] = { 0 };
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	size_t src[20], dst[3];
	for (size_t k = 0; k < 20; k++)
		src[k] = k;
	gsl_ran_choose(rng, dst, 3, src, 20, sizeof *src);
	for (size_t k = 0; k < 3; k++)
		want[dst[k]] = 1;
	want[20] = want[21] = 1;        /* B has 2 <= 3 elements: all checked */
	gsl_ran_choose(rng, dst, 3, src, 8, sizeof *src);
	for (size_t k = 0; k < 3; k++)
		want[22 + dst[k]] = 1;
	gsl_rng_free(rng);

	for (size_t i = 0; i < N; i++) {
		ck_assert_int_eq(r->elements[i].verdict == GC_ELEM_SKIPPED, !want[i]);
		ck_assert(same_element(&r->elements[i], &r2->elements[i]));
	}
	ck_assert_uint_eq(r->tensors[0].checked, 3);
	ck_assert_uint_eq(r->tensors[1].checked, 2);
	ck_assert_uint_eq(r->tensors[2].checked, 3);
	ck_assert_uint_eq(r->checked, 8);
	ck_assert_uint_eq(r->failed, 0);
	gc_result_free(r);
	gc_result_free(r2);
}
END_TEST

START_TEST(test_shards)
{
	enum { N = 23 };
	double t[N], g[N], c[N];
	int seen[N] = { 0 };
	for (size_t i = 0; i < N; i++) {
		c[i] = 2;
		t[i] = cos((double)i);
	}
	quad q = { N, c };
	quad_grad(&q, t, g);
	gc_problem p = { .n = N, .theta = t, .grad = g, .loss = 1, .f = quad_f, .ctx = &q };
	for (unsigned k = 1; k <= 4; k++) {
		gc_options o = opts(2);
		o.shard_index = k;
		o.shard_count = 4;
		gc_result *r = NULL;
		ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
		size_t checked = 0;
		for (size_t i = 0; i < N; i++) {
			int in = r->elements[i].verdict != GC_ELEM_SKIPPED;
			ck_assert_int_eq(in, i % 4 == k - 1);
			seen[i] += in;
			checked += in;
		}
		ck_assert_uint_eq(r->checked, checked);
		ck_assert_uint_eq(checked, k <= 3 ? 6 : 5);    /* 23 = 6 + 6 + 6 + 5 */
		gc_result_free(r);
	}
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(seen[i], 1);

	/* 1/1 checks everything */
	gc_options o = opts(1);
	o.shard_index = o.shard_count = 1;
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->checked, N);
	gc_result_free(r);
}
END_TEST

/* ---- fast mode --------------------------------------------------------------------- */

START_TEST(test_fast)
{
	enum { N = 40 };
	double t[N], g[N], c[N];
	for (size_t i = 0; i < N; i++) {
		c[i] = 1 + (double)(i % 3);
		t[i] = sin(0.7 * (double)i);
	}
	quad q = { N, c };
	quad_grad(&q, t, g);
	gc_tensor ts[2] = { { "W1", 0, 5, 6, 1, 0 }, { "b1", 30, 10, 1, 1, 0 } };
	gc_problem p = { .n = N, .theta = t, .grad = g, .loss = 1, .f = quad_f, .ctx = &q,
	                 .tensors = ts, .n_tensors = 2 };
	gc_options o = opts(2);
	o.fast = 1;
	o.seed = 7;
	gc_result *r = NULL, *r1 = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_ptr_null(r->elements);
	ck_assert_uint_eq(r->tensors[0].checked, 4);
	ck_assert_uint_eq(r->tensors[1].checked, 4);
	ck_assert_uint_eq(r->checked, 8);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_double_lt(r->tensors[0].max_rel, 1e-8);
	ck_assert(r->tensors[0].directions && r->tensors[1].directions);
	gc_result_free(r);

	/* one wrong element shows in every direction; the tensor is then checked element
	 * by element, which names it */
	g[33] += 0.01;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	o.jobs = 1;
	ck_assert_int_eq(gc_check(&p, &o, &r1), GC_OK);
	ck_assert_uint_eq(r->tensors[0].failed, 0);
	ck_assert(r->tensors[0].directions);
	ck_assert(!r->tensors[1].directions);
	ck_assert_ptr_nonnull(r->elements);
	ck_assert_int_eq(r->elements[0].verdict, GC_ELEM_SKIPPED);
	ck_assert_uint_eq(r->tensors[1].checked, 10);
	ck_assert_uint_eq(r->tensors[1].failed, 1);
	ck_assert_uint_eq(r->tensors[1].n_worst, 1);
	ck_assert_uint_eq(r->tensors[1].worst[0].index, 33);
	ck_assert_double_eq_tol(fabs(r->tensors[1].worst[0].analytic -
	                             r->tensors[1].worst[0].numeric), 0.01, 1e-8);
	ck_assert(same_element(&r->tensors[1].worst[0], &r1->tensors[1].worst[0]));
	gc_result_free(r);
	gc_result_free(r1);

	/* with shards, fast mode splits whole tensors: tensor t goes to shard t % N + 1 */
	o.shard_count = 2;
	for (unsigned k = 1; k <= 2; k++) {
		o.shard_index = k;
		ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
		ck_assert_uint_eq(r->tensors[0].checked, k == 1 ? 4 : 0);
		ck_assert_uint_eq(r->tensors[1].checked, k == 2 ? 10 : 0);
		ck_assert_uint_eq(r->failed, k == 2 ? 1 : 0);
		gc_result_free(r);
	}
	o.shard_index = o.shard_count = 0;

	/* fast mode needs f */
	moved_ctx m;
	moved_init(&m, t, N, quad_f, &q);
	gc_problem pm = p;
	pm.f = NULL;
	pm.moved = moved_hook;
	pm.ctx = &m;
	ck_assert_int_eq(gc_check(&pm, &o, &r), GC_EINVAL);
	ck_assert_ptr_null(r);
	moved_free(&m);
}
END_TEST

/* With a coarse first step the central difference along a direction is off by
 * h^2 f'''/6, about 1e-5 relative here: the ladder's Richardson extrapolation
 * removes that, and the five-point rule is exact to h^4; both pass. */
START_TEST(test_fast_five_point)
{
	double t[5] = { 0.3, 1.1, -0.8, 2.2, 0.6 };
	double g[5];
	trig_grad(t, g);
	gc_problem p = { .n = 5, .theta = t, .grad = g, .loss = 1, .f = trig_f };
	gc_options o = opts(1);
	o.fast = 1;
	o.step = 1e-2;
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_uint_eq(r->unreliable, 0);
	ck_assert_double_lt(r->tensors[0].max_rel, 1e-6);
	gc_result_free(r);

	o.method = GC_METHOD_FIVE_POINT;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_double_lt(r->tensors[0].max_rel, 1e-7);
	gc_result_free(r);
}
END_TEST

/* ---- failures ---------------------------------------------------------------------- */

START_TEST(test_nan_loss)
{
	size_t n = 3;
	double t[3] = { 1, 2, 3 };
	double g[3] = { 2, 4, 6 };
	gc_problem p = { .n = 3, .theta = t, .grad = g, .loss = 14, .f = nan_f, .ctx = &n };
	gc_options o = opts(1);
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_int_eq(r->elements[0].verdict, GC_ELEM_FAIL);
	ck_assert(isnan(r->elements[0].numeric));
	ck_assert(r->elements[0].abs_err == INFINITY);
	ck_assert(r->elements[0].rel_err == INFINITY);
	ck_assert_int_eq(r->elements[1].verdict, GC_ELEM_PASS);
	ck_assert_uint_eq(r->tensors[0].worst[0].index, 0);
	gc_result_free(r);

	o.method = GC_METHOD_FIVE_POINT;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_int_eq(r->elements[0].verdict, GC_ELEM_FAIL);
	gc_result_free(r);

	/* a NaN analytic value fails too */
	g[0] = NAN;
	t[0] = 0.5;
	o.method = GC_METHOD_CENTRAL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert(r->elements[0].rel_err == INFINITY);
	gc_result_free(r);
}
END_TEST

START_TEST(test_worst_order)
{
	enum { N = 10 };
	size_t n = N;
	double t[N] = { 0 }, g[N];
	for (size_t i = 0; i < N; i++)
		g[i] = i % 2 ? 2 : 1.5;     /* true gradient 1: rel 0.5 or 1/3 */
	g[4] = 1;                       /* correct */
	gc_problem p = { .n = N, .theta = t, .grad = g, .loss = 0, .f = sum_f, .ctx = &n };
	gc_options o = opts(1);
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 9);
	ck_assert(r->elements[1].numeric == 1);   /* exact steps: exactly 1 */
	ck_assert(r->elements[1].rel_err == 0.5);
	/* every failure, worst first; ties: lower index first */
	ck_assert_uint_eq(r->tensors[0].n_worst, 9);
	size_t want[9] = { 1, 3, 5, 7, 9, 0, 2, 6, 8 };
	for (size_t k = 0; k < 9; k++)
		ck_assert_uint_eq(r->tensors[0].worst[k].index, want[k]);
	ck_assert_double_eq_tol(r->tensors[0].worst[8].rel_err, 1.0 / 3, 1e-15);
	gc_result_free(r);
}
END_TEST

START_TEST(test_exact_steps)
{
	/* f(t) = t: with exact steps, (L+ - L-) / (hp + hm) is exactly 1 */
	double t[6] = { 0.1, 0.3, -0.7, 1.1, 12.345, -3e5 }, g = 1;
	size_t n = 1;
	for (size_t i = 0; i < 6; i++) {
		gc_problem p = { .n = 1, .theta = &t[i], .grad = &g, .f = sum_f, .ctx = &n };
		gc_options o = opts(1);
		gc_result *r = NULL;
		ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
		ck_assert(r->elements[0].numeric == 1);
		ck_assert(r->elements[0].rel_err == 0);
		gc_result_free(r);
	}
}
END_TEST

START_TEST(test_invalid)
{
	double t[6] = { 1, 2, 3, 4, 5, 6 }, g[6] = { 0 }, c[6] = { 1, 1, 1, 1, 1, 1 };
	quad q = { 6, c };
	gc_problem p = { .n = 6, .theta = t, .grad = g, .f = quad_f, .ctx = &q };
	gc_options o = opts(1);
	gc_result *r = (gc_result *)&o;   /* must be reset to NULL */

	gc_tensor gap[2] = { { "A", 0, 2, 1, 1, 0 }, { "B", 3, 3, 1, 1, 0 } };
	gc_tensor overlap[2] = { { "A", 0, 2, 2, 1, 0 }, { "B", 3, 3, 1, 1, 0 } };
	gc_tensor short_[2] = { { "A", 0, 2, 1, 1, 0 }, { "B", 2, 3, 1, 1, 0 } };
	gc_tensor longer[2] = { { "A", 0, 2, 1, 1, 0 }, { "B", 2, 5, 1, 1, 0 } };
	gc_tensor order[2] = { { "B", 2, 4, 1, 1, 0 }, { "A", 0, 2, 1, 1, 0 } };
	gc_tensor huge[2] = { { "A", 0, SIZE_MAX / 2, 4, 1, 0 }, { "B", 0, 6, 1, 1, 0 } };
	gc_tensor ok[2] = { { "A", 0, 2, 1, 1, 0 }, { "B", 2, 2, 2, 2, 0 } };
	const gc_tensor *bad[] = { gap, overlap, short_, longer, order, huge };
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		p.tensors = bad[k];
		p.n_tensors = 2;
		ck_assert_int_eq(gc_check(&p, &o, &r), GC_EINVAL);
		ck_assert_ptr_null(r);
	}
	p.tensors = ok;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_str_eq(r->tensors[1].tensor.name, "B");
	ck_assert_uint_eq(r->tensors[1].tensor.rows, 2);
	ck_assert_int_eq(r->tensors[1].tensor.layer, 2);
	gc_result_free(r);

	gc_problem nofn = p;
	nofn.f = NULL;
	ck_assert_int_eq(gc_check(&nofn, &o, &r), GC_EINVAL);
	gc_problem empty = p;
	empty.n = 0;
	ck_assert_int_eq(gc_check(&empty, &o, &r), GC_EINVAL);
	ck_assert_int_eq(gc_check(NULL, &o, &r), GC_EINVAL);
	ck_assert_int_eq(gc_check(&p, &o, NULL), GC_EINVAL);

	gc_options bo = o;
	bo.shard_index = 3;
	bo.shard_count = 2;
	ck_assert_int_eq(gc_check(&p, &bo, &r), GC_EINVAL);
	bo.shard_index = 0;
	ck_assert_int_eq(gc_check(&p, &bo, &r), GC_EINVAL);
	bo = o;
	bo.rtol = -1;
	ck_assert_int_eq(gc_check(&p, &bo, &r), GC_EINVAL);
	bo = o;
	bo.step = NAN;
	ck_assert_int_eq(gc_check(&p, &bo, &r), GC_EINVAL);
	ck_assert_ptr_null(r);
}
END_TEST

Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_quadratic_passes);
	tcase_add_test(tc, test_trig_passes_and_one_off_fails);
	tcase_add_test(tc, test_kink_callback);
	tcase_add_test(tc, test_moved_matches_f);
	tcase_add_test(tc, test_five_point);
	tcase_add_test(tc, test_jobs_bit_identical);
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_shards);
	tcase_add_test(tc, test_fast);
	tcase_add_test(tc, test_fast_five_point);
	tcase_add_test(tc, test_nan_loss);
	tcase_add_test(tc, test_worst_order);
	tcase_add_test(tc, test_exact_steps);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(check_suite)
