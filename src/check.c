/* check.c - compare a claimed gradient with finite differences, element by element. */
#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_deriv.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

enum {
	GC_FAST_DIRECTIONS = 4,         /* random directions per tensor in fast mode */
	GC_CHUNK = 64,                  /* most work units a worker takes at a time */
	GC_UNITS_PER_THREAD = 64,       /* element mode: fewer units per thread cost more to
	                                   start than they save (a tiny network) */
	GC_PROGRESS_EVERY = 1000        /* units between progress callbacks */
};

typedef struct gc_job gc_job;

/* The caller's progress callback (gc_check_progress), serialised by gc_job.lock. */
typedef struct gc_watch {
	gc_progress_fn progress;
	void *arg;
} gc_watch;

/* Steps h0 * 4^k for k in [GC_LADDER_MIN, GC_LADDER_MAX]; see README.md, "Steps". */
enum { GC_LADDER_MIN = -6, GC_LADDER_MAX = 6, GC_LADDER = GC_LADDER_MAX - GC_LADDER_MIN + 1 };

/* The losses of one element's ladder rungs (central differences, element mode with
 * moved_many), evaluated in rounds over a chunk of elements (see run_chunk()). */
typedef struct gc_rungs {
	double loss[GC_LADDER][2];      /* rung k: [0] moved by +hp, [1] by -hm */
	int kink[GC_LADDER][2];
	unsigned have, want;            /* bit k: rung k evaluated; asked for */
} gc_rungs;

/* One worker's rungs of its current chunk and the moves of one round. */
typedef struct gc_batch {
	gc_rungs rungs[GC_CHUNK];
	unsigned char waiting[GC_CHUNK];        /* the element waits for rungs */
	size_t idx[2 * GC_LADDER * GC_CHUNK];
	double delta[2 * GC_LADDER * GC_CHUNK], loss[2 * GC_LADDER * GC_CHUNK];
	int kink[2 * GC_LADDER * GC_CHUNK];
} gc_batch;

/* Computes work unit u in worker w; theta is the worker's private copy (or NULL). */
typedef void (*gc_unit_fn)(gc_job *j, unsigned w, double *theta, size_t u);

struct gc_job {
	const gc_problem *p;
	const gc_options *o;
	gc_result *r;
	gc_unit_fn run;
	size_t n_units;
	const size_t *units;            /* (n_units) the unit numbers to compute; NULL: 0.. */
	const size_t *todo;             /* element mode: (n_units) element indices */
	const size_t *fast_tensor;      /* fast mode: (n_units / 4) tensor numbers */
	const signed char *dirs;        /* fast mode: (4n) directions, 4 blocks per tensor */
	const double *fast_h;           /* fast mode: (n_tensors) step per tensor */
	gc_element *fast_out;           /* fast mode: (n_units) one result per direction */
	size_t chunk;                   /* units a worker takes at a time */
	size_t min_per_thread;          /* units that justify one more thread */
	gc_batch *batch;                /* element mode with moved_many: (threads) */
	atomic_size_t next, done;
	atomic_int stop;
	gc_watch watch;                 /* the caller's progress callback, if any */
	pthread_mutex_t lock;           /* serialises progress callbacks */
	size_t reported;
};

typedef struct gc_worker {
	gc_job *job;
	unsigned id;
	double *theta;                  /* (n) private copy for the f path; NULL otherwise */
} gc_worker;

const char *gc_strerror(int status)
{
	switch (status) {
	case GC_OK: return "success";
	case GC_ENOMEM: return "out of memory";
	case GC_EINVAL: return "invalid argument";
	case GC_ETHREAD: return "a worker thread could not be started";
	case GC_EIO: return "a report could not be written";
	case GC_ESPREAD: return "sharing the work between processes failed";
	default: return "unknown error";
	}
}

void gc_options_init(gc_options *o)
{
	memset(o, 0, sizeof *o);
	o->step = 0;
	o->rtol = GC_DEFAULT_RTOL;
	o->atol = GC_DEFAULT_ATOL;
	o->method = GC_METHOD_CENTRAL;
	o->jobs = 0;
	o->sample = 0;
	o->fast = 0;
	o->seed = 0;
	o->shard_index = 0;
	o->shard_count = 0;
	o->spread = NULL;
}

unsigned gc_options_jobs(const gc_options *o)
{
	long np;

	if (o->jobs > 0)
		return o->jobs;
	np = sysconf(_SC_NPROCESSORS_ONLN);
	return np > 0 ? (unsigned)np : 1;
}

void gc_result_free(gc_result *r)
{
	if (!r)
		return;
	if (r->tensors)
		for (size_t t = 0; t < r->n_tensors; t++)
			free(r->tensors[t].worst);
	free(r->tensors);
	free(r->elements);
	free(r->diagnoses);
	free(r->theta);
	free(r);
}

/* ---- evaluation -------------------------------------------------------------- */

/* The loss with theta[i] moved by delta; ORs a crossed kink into *kink (moved path). */
static double eval_moved(gc_job *j, unsigned w, double *theta, size_t i, double delta, int *kink)
{
	const gc_problem *p = j->p;
	if (p->moved) {
		int k = 0;
		double v = p->moved(p->ctx, w, i, delta, &k);
		*kink |= k != 0;
		return v;
	}
	theta[i] = p->theta[i] + delta;
	double v = p->f(theta, p->ctx);
	theta[i] = p->theta[i];
	return v;
}

/* ---- one difference, judged ---------------------------------------------------- */

/* Rounding error of one evaluation of the loss, relative to |L| (README.md, "Tolerances"). */
#define GC_NOISE_EPS (4 * DBL_EPSILON)
/* The first difference settles an element only when it agrees with the claim to this
 * fraction of the tolerance and its noise is at most GC_QUICK_NOISE of it. */
#define GC_QUICK 0.1
#define GC_QUICK_NOISE 0.5
/* A spread between steps up to this many times the estimated noise is taken for noise. */
#define GC_NOISY 8

static double base_step(const gc_options *o, double x)
{
	return o->step > 0 ? o->step : cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
}

/* The steps of a central difference at x that are exact in floating point: the
 * moves are +hp and -hm. */
static void central_steps(double x, double h, double *hp, double *hm)
{
	*hp = (x + h) - x;
	*hm = x - (x - h);
}

/* A direction v (entries +-1) over one tensor's slice theta[off .. off+size). */
typedef struct gc_dir_params {
	const gc_problem *p;
	double *theta;
	size_t off, size;
	const signed char *v;
} gc_dir_params;

/* The loss at theta + x v. */
static double dir_eval(double x, void *params)
{
	gc_dir_params *dp = params;
	const double *base = dp->p->theta + dp->off;
	for (size_t k = 0; k < dp->size; k++)
		dp->theta[dp->off + k] = base[k] + x * dp->v[k];
	return dp->p->f(dp->theta, dp->p->ctx);
}

/* The line along which a derivative is taken: theta[i] (element) or a direction. */
typedef struct gc_line {
	gc_job *j;
	unsigned w;
	double *theta;                  /* the worker's copy, or NULL (moved path) */
	size_t i;                       /* element mode: the element */
	gc_dir_params *dir;             /* fast mode: the direction; NULL for an element */
	int kink;                       /* ORed by evaluations that crossed a kink */
	gc_rungs *rungs;                /* the element's rungs evaluated by its chunk; NULL:
	                                   each evaluation when it is needed */
	int waiting;                    /* a rung was missing: measure() stopped, to run
	                                   again once its chunk has evaluated the rung */
} gc_line;

static double line_at(gc_line *ln, double t)
{
	if (ln->dir)
		return dir_eval(t, ln->dir);
	return eval_moved(ln->j, ln->w, ln->theta, ln->i, t, &ln->kink);
}

static double line_fp(double x, void *params)
{
	return line_at(params, x);
}

/* The rounding error of a loss value l: 4 eps |l|, the caller's estimate, and at least
 * the smallest normal double (a loss of exactly 0 cannot resolve a subnormal slope). */
static double loss_noise(const gc_problem *p, double l)
{
	return fmax(fmax(GC_NOISE_EPS * fabs(l), p->noise), DBL_MIN);
}

/* One central difference (L(+hp) - L(-hm)) / (hp + hm).  For an element the steps are
 * exact: theta[i] +- h rounded to doubles first, divided by their true distance. */
typedef struct gc_probe {
	double d;                       /* the difference */
	double noise;                   /* its estimated rounding noise */
	double lp, lm, hp, hm;
	int kink;                       /* the move crossed a kink */
	int ok;                         /* finite and no kink: usable for a smooth estimate */
} gc_probe;

/* k >= 0: the difference is rung k of the ladder, whose losses come from ln->rungs
 * when its chunk evaluates them. */
static void probe(gc_line *ln, double h, int k, gc_probe *pr)
{
	const gc_problem *p = ln->j->p;
	double x = ln->dir ? 0 : p->theta[ln->i];

	pr->hp = pr->hm = h;
	if (!ln->dir)
		central_steps(x, h, &pr->hp, &pr->hm);
	ln->kink = 0;
	if (k >= 0 && ln->rungs) {
		pr->lp = ln->rungs->loss[k][0];
		pr->lm = ln->rungs->loss[k][1];
		ln->kink = ln->rungs->kink[k][0] || ln->rungs->kink[k][1];
	} else {
		pr->lp = line_at(ln, pr->hp);
		pr->lm = line_at(ln, -pr->hm);
	}
	pr->kink = ln->kink;
	if (!ln->dir && !p->moved && p->kink)
		pr->kink = p->kink(p->ctx, p->theta, ln->i, h) != 0;
	pr->d = (pr->lp - pr->lm) / (pr->hp + pr->hm);
	pr->noise = (loss_noise(p, pr->lp) + loss_noise(p, pr->lm)) / (pr->hp + pr->hm);
	pr->ok = !pr->kink && isfinite(pr->d) && isfinite(pr->noise);
}

/* The claim agrees with the estimate to a tenth of the tolerance itself. */
static int close_agreement(const gc_element *e, double atol, double rtol)
{
	return e->abs_err <= GC_QUICK * (atol + rtol * fmax(fabs(e->analytic), fabs(e->numeric)));
}

/* Fills e from the claim a, the estimate n, the noise of n and the spread of the
 * estimates between steps (README.md, "Verdicts"): with T = atol + noise +
 * rtol max(|a|, |n|),
 *   pass: |a - n| <= T and spread <= T, or |a - n| <= GC_QUICK (atol + rtol max(|a|, |n|))
 *         (a wrong claim that close to the estimate would be a coincidence);
 *   fail: |a - n| > T + 2 spread;  otherwise unreliable. */
static void decide(gc_element *e, double n, double noise, double spread, double atol, double rtol)
{
	double a = e->analytic;
	e->numeric = n;
	e->est_err = noise + spread;
	if (!isfinite(a) || !isfinite(n) || !isfinite(e->est_err)) {
		/* a NaN or infinity is a real defect, never a rounding artefact */
		e->abs_err = e->rel_err = INFINITY;
		e->verdict = GC_ELEM_FAIL;
		return;
	}
	double big = fmax(fabs(a), fabs(n));
	double tol = atol + noise + rtol * big;
	e->abs_err = fabs(a - n);
	e->rel_err = big > 0 ? e->abs_err / big : 0;
	if ((e->abs_err <= tol && spread <= tol) || close_agreement(e, atol, rtol))
		e->verdict = GC_ELEM_PASS;
	else if (e->abs_err > tol + 2 * spread)
		e->verdict = GC_ELEM_FAIL;
	else
		e->verdict = GC_ELEM_UNRELIABLE;
}

/* At a kink the claim must lie between the one-sided slopes (L(+h) - L0) / h and
 * (L0 - L(-h)) / h, within the tolerance; numeric is the nearest point of that
 * interval.  Verdict GC_ELEM_KINK when it does, GC_ELEM_FAIL otherwise. */
static void judge_kink(gc_line *ln, const gc_probe *pr, gc_element *e, double atol, double rtol)
{
	double l0 = line_at(ln, 0);
	double up = (pr->lp - l0) / pr->hp, down = (l0 - pr->lm) / pr->hm;
	double lo = fmin(up, down), hi = fmax(up, down);
	const gc_problem *p = ln->j->p;
	double noise = (loss_noise(p, pr->lp) + 2 * loss_noise(p, l0) + loss_noise(p, pr->lm)) /
	               fmin(pr->hp, pr->hm);
	double a = e->analytic;

	decide(e, a < lo ? lo : a > hi ? hi : a, noise, 0, atol, rtol);
	if (e->verdict != GC_ELEM_FAIL)
		e->verdict = GC_ELEM_KINK;
	else
		e->verdict = GC_ELEM_FAIL;
}

/* Richardson's extrapolation of two central differences at h and 4h. */
static double richardson(double dh, double d4h)
{
	return (16 * dh - d4h) / 15;
}

/* F'(0) by GSL's 5-point rule; NaN (a failing element) when GSL gives up. */
static double deriv_five_point(gsl_function *F, double h, double *est)
{
	double res = NAN, abserr = 0;
	if (gsl_deriv_central(F, 0.0, h, &res, &abserr) != 0 || !isfinite(abserr)) {
		res = NAN;
		abserr = 0;
	}
	*est = abserr;
	return res;
}

/* The step of ladder rung k: h0 * 4^(k - GC_LADDER_ZERO). */
enum { GC_LADDER_ZERO = -GC_LADDER_MIN };

static double rung(double h0, int k)
{
	return ldexp(h0, 2 * (k - GC_LADDER_ZERO));
}

/* Adds rung k to the ladder; nonzero when it is usable.  When the element's rungs
 * come from its chunk and rung k is not among them yet, asks for it and marks the
 * line waiting (pr[k] is then unusable and measure() stops). */
static int climb(gc_line *ln, double h0, gc_probe *pr, int k)
{
	gc_rungs *rg = ln->rungs;

	if (rg && !(rg->have >> k & 1)) {
		rg->want |= 1u << k;
		ln->waiting = 1;
		pr[k] = (gc_probe){ .d = NAN, .noise = NAN, .lp = NAN, .lm = NAN };
		return 0;
	}
	probe(ln, rung(h0, k), k, &pr[k]);
	return pr[k].ok;
}

/* The best Richardson estimate over the usable rungs lo..hi (hi > lo): the one that
 * agrees best with its neighbour's.  Returns its lower rung. */
static int best_pair(const gc_probe *pr, int lo, int hi, double *n, double *noise, double *spread)
{
	int best = lo;
	*spread = INFINITY;
	*n = *noise = NAN;
	for (int k = lo; k < hi; k++) {
		double rk = richardson(pr[k].d, pr[k + 1].d), s;
		if (k + 1 < hi) {
			s = fabs(rk - richardson(pr[k + 1].d, pr[k + 2].d));
			/* when the differences grow as h^2 (x16 a rung, well above the noise),
			 * curvature drives them: R(h) - R(4h) is then 255 times R(h)'s error */
			double d1 = pr[k + 1].d - pr[k].d, d2 = pr[k + 2].d - pr[k + 1].d;
			if (fabs(d1) > 10 * (pr[k].noise + pr[k + 1].noise) && d2 / d1 >= 8 &&
			    d2 / d1 <= 32)
				s /= 255;
		} else if (k > lo)
			s = fabs(rk - richardson(pr[k - 1].d, pr[k].d));
		else
			s = fabs(pr[k].d - pr[k + 1].d);
		double nk = (16 * pr[k].noise + pr[k + 1].noise) / 15;
		if (s + nk < *spread + *noise || k == lo) {
			best = k;
			*spread = s;
			*n = rk;
			*noise = nk;
		}
	}
	return best;
}

/* Judges the claim e->analytic along ln, starting at step h0: one difference when it
 * settles the question, otherwise a ladder of steps h0 4^k with Richardson's
 * extrapolation, climbed towards smaller steps (curvature) or larger ones (rounding)
 * until the estimates agree well enough to decide (README.md, "Steps").  Returns
 * early, with ln->waiting set, when a rung its chunk evaluates is missing (the
 * ladder's first two climbs are asked for together); run again, it takes the same
 * path with the same losses. */
static void measure(gc_line *ln, double h0, gc_element *e)
{
	const gc_result *r = ln->j->r;
	double atol = r->atol_used, rtol = r->rtol_used, a = e->analytic;
	gc_probe pr[GC_LADDER];
	int k = GC_LADDER_ZERO, lo, hi, top = GC_LADDER - 1;

	climb(ln, h0, pr, k);
	/* a crossed kink: shrink the step until the move no longer crosses it */
	while (!ln->waiting && pr[k].kink && k > 0) {
		k--;
		climb(ln, h0, pr, k);
	}
	if (ln->waiting)
		return;
	e->step = rung(h0, k);
	if (pr[k].kink) {
		judge_kink(ln, &pr[k], e, atol, rtol);
		return;
	}
	if (k < GC_LADDER_ZERO)
		top = k;                /* larger steps cross the kink */
	const gc_probe *p0 = &pr[k];
	if (p0->ok && a == 0 && p0->lp == p0->lm) {
		/* the loss does not move at all: a zero claim is exact (a dead unit) */
		decide(e, 0, 0, 0, atol, rtol);
		return;
	}
	double tol = atol + rtol * fmax(fabs(a), fabs(p0->d)) + p0->noise;
	if (!p0->ok || !isfinite(a) ||
	    (fabs(a - p0->d) <= GC_QUICK * tol && p0->noise <= GC_QUICK_NOISE * tol)) {
		decide(e, p0->d, p0->noise, 0, atol, rtol);
		return;
	}

	/* the ladder: one rung below and one above to start with */
	lo = hi = k;
	if (lo > 0 && climb(ln, h0, pr, lo - 1))
		lo--;
	if (hi < top && climb(ln, h0, pr, hi + 1))
		hi++;
	if (ln->waiting)
		return;
	if (lo == hi) {
		/* no second usable step: a difference that cannot be cross-checked */
		decide(e, p0->d, p0->noise, fabs(a - p0->d), atol, rtol);
		return;
	}
	for (;;) {
		double n, noise, spread;
		int best = best_pair(pr, lo, hi, &n, &noise, &spread);
		e->step = rung(h0, best);
		decide(e, n, noise, spread, atol, rtol);
		/* a pass must resolve the tolerance: its noise at most atol + rtol max(|a|, |n|) */
		int coarse = noise > atol + rtol * fmax(fabs(a), fabs(n)) &&
		             !close_agreement(e, atol, rtol);
		if (e->verdict == GC_ELEM_FAIL || (e->verdict == GC_ELEM_PASS && !coarse))
			return;
		/* larger steps when rounding noise explains the spread or blurs the
		 * tolerance, smaller ones when curvature does */
		int up = spread <= GC_NOISY * noise || coarse;
		if (up && hi < top && climb(ln, h0, pr, hi + 1))
			hi++;
		else if (!ln->waiting && !up && lo > 0 && climb(ln, h0, pr, lo - 1))
			lo--;
		else if (!ln->waiting && hi < top && climb(ln, h0, pr, hi + 1))
			hi++;
		else if (ln->waiting)
			return;
		else {
			/* no step resolves the tolerance: agreement within the noise is no pass */
			if (e->verdict == GC_ELEM_PASS && coarse)
				e->verdict = GC_ELEM_UNRELIABLE;
			return;
		}
	}
}

/* Checks element unit u; rg: its rungs when its chunk evaluates them (see
 * run_chunk()).  Returns nonzero when it waits for a rung. */
static int element_rungs(gc_job *j, unsigned w, double *theta, size_t u, gc_rungs *rg)
{
	const gc_problem *p = j->p;
	size_t i = j->todo[u];
	gc_element *e = &j->r->elements[i];
	gc_line ln = { j, w, theta, i, NULL, 0, rg, 0 };
	double h = base_step(j->o, p->theta[i]);

	if (j->o->method == GC_METHOD_FIVE_POINT) {
		gc_probe pr;
		probe(&ln, h, -1, &pr);
		if (!pr.kink) {
			gsl_function F = { line_fp, &ln };
			double est, n = deriv_five_point(&F, h, &est);
			e->step = h;
			decide(e, n, pr.noise, est, j->r->atol_used, j->r->rtol_used);
			return 0;
		}
	}
	measure(&ln, h, e);
	return ln.waiting;
}

static void element_unit(gc_job *j, unsigned w, double *theta, size_t u)
{
	element_rungs(j, w, theta, u, NULL);
}

static void fast_unit(gc_job *j, unsigned w, double *theta, size_t u)
{
	const gc_problem *p = j->p;
	size_t t = j->fast_tensor[u / GC_FAST_DIRECTIONS];
	size_t d = u % GC_FAST_DIRECTIONS;
	const gc_tensor *ts = &j->r->tensors[t].tensor;
	gc_dir_params dp = { p, theta, ts->offset, ts->rows * ts->cols,
	                     j->dirs + GC_FAST_DIRECTIONS * ts->offset + d * ts->rows * ts->cols };
	gc_element *e = &j->fast_out[u];
	gc_line ln = { j, w, theta, 0, &dp, 0, NULL, 0 };
	double h = j->fast_h[t];

	e->index = d;
	e->analytic = 0;
	for (size_t k = 0; k < dp.size; k++)
		e->analytic += p->grad[dp.off + k] * dp.v[k];
	if (j->o->method == GC_METHOD_FIVE_POINT) {
		gc_probe pr;
		probe(&ln, h, -1, &pr);
		gsl_function F = { dir_eval, &dp };
		double est, n = deriv_five_point(&F, h, &est);
		e->step = h;
		decide(e, n, pr.noise, est, j->r->atol_used, j->r->rtol_used);
	} else {
		measure(&ln, h, e);
	}
	memcpy(theta + dp.off, p->theta + dp.off, dp.size * sizeof *theta);
}

/* ---- worker pool ---------------------------------------------------------------- */

static void report_progress(gc_job *j, size_t count)
{
	size_t done = atomic_fetch_add(&j->done, count) + count;
	if (!j->watch.progress)
		return;
	if (done / GC_PROGRESS_EVERY == (done - count) / GC_PROGRESS_EVERY && done != j->n_units)
		return;
	pthread_mutex_lock(&j->lock);
	if (done > j->reported) {
		j->reported = done;
		j->watch.progress(j->watch.arg, done, j->n_units);
	}
	pthread_mutex_unlock(&j->lock);
}

/* Element units start..end-1 (central differences, moved_many): the ladder rungs the
 * elements ask for are evaluated in rounds, each round's moves of the whole chunk in
 * one moved_many call (README "Speed"): first every element's first step, then the
 * rungs those that are not settled ask for, until none waits.  Each element's
 * measure() runs again after every round it waited for, the same way up to where it
 * stopped, since its losses are the same. */
static void run_chunk(gc_job *j, unsigned w, double *theta, size_t start, size_t end)
{
	const gc_problem *p = j->p;
	gc_batch *b = &j->batch[w];
	size_t count = end - start, waiting = count;

	for (size_t c = 0; c < count; c++) {
		b->rungs[c].have = 0;
		b->rungs[c].want = 1u << GC_LADDER_ZERO;
		b->waiting[c] = 1;
	}
	while (waiting) {
		size_t n = 0;
		for (size_t c = 0; c < count; c++) {
			gc_rungs *rg = &b->rungs[c];
			if (!b->waiting[c])
				continue;
			size_t u = j->units ? j->units[start + c] : start + c, i = j->todo[u];
			double h0 = base_step(j->o, p->theta[i]);
			for (int k = 0; k < GC_LADDER; k++) {
				double hp, hm;
				if (!((rg->want & ~rg->have) >> k & 1))
					continue;
				central_steps(p->theta[i], rung(h0, k), &hp, &hm);
				b->idx[n] = b->idx[n + 1] = i;
				b->delta[n] = hp;
				b->delta[n + 1] = -hm;
				n += 2;
			}
		}
		memset(b->kink, 0, n * sizeof *b->kink);
		p->moved_many(p->ctx, w, n, b->idx, b->delta, b->loss, b->kink);
		n = 0;
		waiting = 0;
		for (size_t c = 0; c < count; c++) {
			gc_rungs *rg = &b->rungs[c];
			if (!b->waiting[c])
				continue;
			for (int k = 0; k < GC_LADDER; k++) {
				if (!((rg->want & ~rg->have) >> k & 1))
					continue;
				for (int s = 0; s < 2; s++) {
					rg->loss[k][s] = b->loss[n + s];
					rg->kink[k][s] = b->kink[n + s];
				}
				n += 2;
			}
			rg->have |= rg->want;
			b->waiting[c] = element_rungs(j, w, theta, j->units ? j->units[start + c]
			                                                  : start + c, rg);
			waiting += b->waiting[c];
		}
	}
}

static void *worker_main(void *arg)
{
	gc_worker *w = arg;
	gc_job *j = w->job;
	while (!atomic_load(&j->stop)) {
		size_t start = atomic_fetch_add(&j->next, j->chunk);
		if (start >= j->n_units)
			break;
		size_t end = j->n_units - start < j->chunk ? j->n_units : start + j->chunk;
		if (j->batch)
			run_chunk(j, w->id, w->theta, start, end);
		else
			for (size_t u = start; u < end; u++)
				j->run(j, w->id, w->theta, j->units ? j->units[u] : u);
		report_progress(j, end - start);
	}
	return NULL;
}

static unsigned thread_count(const gc_options *o, size_t units, size_t min_per_thread)
{
	unsigned long jobs = gc_options_jobs(o);
	size_t most = min_per_thread > 1 ? units / min_per_thread + 1 : units;
	if (jobs > most)
		jobs = most;
	return jobs ? (unsigned)jobs : 1;
}

/* Runs j->run over every unit in o->jobs threads; need_copy gives each a copy of theta. */
static int run_pool(gc_job *j, int need_copy)
{
	const gc_problem *p = j->p;
	unsigned nt = thread_count(j->o, j->n_units, j->min_per_thread), started = 0;
	gc_worker *w = calloc(nt, sizeof *w);
	pthread_t *tid = calloc(nt, sizeof *tid);
	int rc = GC_OK, lock_ok = 0;

	if (j->n_units == 0)
		goto out;
	/* central differences of elements: each chunk's rungs in moved_many calls */
	int batched = j->run == element_unit && p->moved && p->moved_many
	              && j->o->method == GC_METHOD_CENTRAL;
	if (batched)
		j->batch = calloc(nt, sizeof *j->batch);
	if (!w || !tid || (batched && !j->batch)) {
		rc = GC_ENOMEM;
		goto out;
	}
	for (unsigned k = 0; k < nt; k++) {
		w[k].job = j;
		w[k].id = k;
		if (need_copy) {
			w[k].theta = malloc(p->n * sizeof *w[k].theta);
			if (!w[k].theta) {
				rc = GC_ENOMEM;
				goto out;
			}
			memcpy(w[k].theta, p->theta, p->n * sizeof *w[k].theta);
		}
	}
	atomic_init(&j->next, 0);
	atomic_init(&j->done, 0);
	atomic_init(&j->stop, 0);
	j->reported = 0;
	/* small problems: smaller chunks, so every thread gets work */
	j->chunk = j->n_units / (4 * (size_t)nt);
	j->chunk = j->chunk < 1 ? 1 : j->chunk > GC_CHUNK ? GC_CHUNK : j->chunk;
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		rc = GC_ETHREAD;
		goto out;
	}
	lock_ok = 1;
	if (nt == 1) {
		worker_main(&w[0]);
		goto out;
	}
	for (; started < nt; started++) {
		if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
			atomic_store(&j->stop, 1);
			rc = GC_ETHREAD;
			break;
		}
	}
	for (unsigned k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
out:
	if (lock_ok)
		pthread_mutex_destroy(&j->lock);
	if (w)
		for (unsigned k = 0; k < nt; k++)
			free(w[k].theta);
	free(j->batch);
	j->batch = NULL;
	free(w);
	free(tid);
	return rc;
}

/* ---- validation and set-up ---------------------------------------------------- */

static size_t tensor_size(const gc_tensor *t)
{
	return t->rows * t->cols;
}

static int valid_options(const gc_options *o)
{
	if (!isfinite(o->step) || o->step < 0)
		return 0;
	if (!isfinite(o->rtol) || o->rtol < 0 || !isfinite(o->atol) || o->atol < 0)
		return 0;
	if (o->method != GC_METHOD_CENTRAL && o->method != GC_METHOD_FIVE_POINT)
		return 0;
	if (o->shard_count == 0)
		return o->shard_index == 0;
	return o->shard_index >= 1 && o->shard_index <= o->shard_count;
}

static int valid_tensors(const gc_tensor *t, size_t nt, size_t n)
{
	size_t end = 0;
	for (size_t k = 0; k < nt; k++) {
		if (t[k].cols != 0 && t[k].rows > SIZE_MAX / t[k].cols)
			return 0;
		if (t[k].offset != end || tensor_size(&t[k]) > n - end)
			return 0;
		end += tensor_size(&t[k]);
	}
	return end == n;
}

static int valid_problem(const gc_problem *p, const gc_options *o)
{
	if (!p || p->n == 0 || !p->theta || !p->grad || (!p->f && !p->moved))
		return 0;
	if (o->fast && !p->f)
		return 0;
	if (p->n > SIZE_MAX / sizeof(gc_element) || p->n > SIZE_MAX / GC_FAST_DIRECTIONS)
		return 0;
	if (p->tensors && p->n_tensors)
		return valid_tensors(p->tensors, p->n_tensors, p->n);
	return 1;
}

static int setup_tensors(gc_result *r, const gc_problem *p)
{
	static const char whole[] = "theta";
	size_t nt = p->tensors && p->n_tensors ? p->n_tensors : 1;
	r->tensors = calloc(nt, sizeof *r->tensors);
	if (!r->tensors)
		return GC_ENOMEM;
	r->n_tensors = nt;
	if (p->tensors && p->n_tensors) {
		for (size_t t = 0; t < nt; t++)
			r->tensors[t].tensor = p->tensors[t];
	} else {
		r->tensors[0].tensor = (gc_tensor){ whole, 0, p->n, 1, 0, 0 };
	}
	return GC_OK;
}

static int in_shard(const gc_options *o, size_t i)
{
	if (o->shard_count <= 1)
		return 1;
	return i % o->shard_count == o->shard_index - 1;
}

/* Marks with sel[i] = 1 the elements the sample chooses (every element without one). */
static int choose_sample(const gc_result *r, const gc_options *o, unsigned char *sel)
{
	size_t biggest = 0;
	int rc = GC_OK;
	size_t *src = NULL, *dst = NULL;
	gsl_rng *rng = NULL;

	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		size_t size = tensor_size(ts);
		if (o->sample == 0 || size <= o->sample) {
			memset(sel + ts->offset, 1, size);
		} else {
			memset(sel + ts->offset, 0, size);
			if (size > biggest)
				biggest = size;
		}
	}
	if (biggest == 0)
		goto out;
	src = malloc(biggest * sizeof *src);
	dst = malloc(o->sample * sizeof *dst);
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!src || !dst || !rng) {
		rc = GC_ENOMEM;
		goto out;
	}
	gsl_rng_set(rng, o->seed);
	for (size_t k = 0; k < biggest; k++)
		src[k] = k;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		size_t size = tensor_size(ts);
		if (size <= o->sample)
			continue;
		gsl_ran_choose(rng, dst, o->sample, src, size, sizeof *src);
		for (size_t k = 0; k < o->sample; k++)
			sel[ts->offset + dst[k]] = 1;
	}
out:
	gsl_rng_free(rng);
	free(src);
	free(dst);
	return rc;
}

/* ---- sharing with other processes ------------------------------------------------ */

int gc_spread_assign(const double *cost, size_t n, unsigned parts, unsigned *owner)
{
	double total = 0, before = 0;

	if (parts == 0)
		return GC_EINVAL;
	for (size_t u = 0; u < n; u++)
		total += cost[u];
	for (size_t u = 0; u < n; u++) {
		double mid = total > 0 ? (before + cost[u] / 2) / total : ((double)u + 0.5) / (double)n;
		double k = floor(mid * parts);

		owner[u] = k < parts ? (unsigned)k : parts - 1;
		before += cost[u];
	}
	return GC_OK;
}

/* Narrows the job's n_units units to those o->spread's share() gives this process:
 * *mine flags them and *units (which j->units then points to) lists them; the caller
 * frees both.  cost[u] is unit u's relative cost (NULL: all equal). */
static int spread_share(gc_job *j, const double *cost, unsigned char **mine, size_t **units)
{
	const gc_spread *sp = j->o->spread;
	size_t n = j->n_units, m = 0;
	double *ones = NULL;
	int rc;

	*mine = calloc(n ? n : 1, 1);
	*units = malloc((n ? n : 1) * sizeof **units);
	if (!cost && (ones = malloc((n ? n : 1) * sizeof *ones)))
		for (size_t u = 0; u < n; u++)
			ones[u] = 1;
	if (!*mine || !*units || (!cost && !ones)) {
		free(ones);
		return GC_ENOMEM;
	}
	rc = sp->share(sp->arg, j->p, j->todo, cost ? cost : ones, n, *mine);
	free(ones);
	if (rc)
		return rc;
	for (size_t u = 0; u < n; u++)
		if ((*mine)[u])
			(*units)[m++] = u;
	j->units = *units;
	j->n_units = m;
	return GC_OK;
}

/* Element mode: each unit's cost, from its tensor's (NULL when the problem gives none). */
static double *element_costs(const gc_problem *p, const gc_result *r, const size_t *todo,
                             size_t n)
{
	double *cost;

	if (!p->cost || !p->tensors || !p->n_tensors || !r->n_tensors)
		return NULL;
	cost = malloc((n ? n : 1) * sizeof *cost);
	for (size_t u = 0, t = 0; cost && u < n; u++) {
		while (todo[u] >= r->tensors[t].tensor.offset + tensor_size(&r->tensors[t].tensor))
			t++;
		cost[u] = p->cost[t];
	}
	return cost;
}

/* ---- summaries ---------------------------------------------------------------- */

static int cmp_worst(const void *pa, const void *pb)
{
	const gc_element *a = pa, *b = pb;
	if (a->rel_err != b->rel_err)
		return a->rel_err > b->rel_err ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

void gc_tensor_keep_worst(gc_tensor_result *tr, gc_element *fails, size_t nfail)
{
	if (nfail == 0) {
		free(fails);
		return;
	}
	qsort(fails, nfail, sizeof *fails, cmp_worst);
	tr->n_worst = nfail;
	tr->worst = fails;
}

int gc_tensor_summarise(gc_tensor_result *tr, const gc_element *e, size_t n)
{
	size_t nfail = 0;
	gc_element *fails;

	tr->checked = tr->failed = tr->kinks = tr->unreliable = 0;
	tr->max_rel = tr->max_abs = 0;
	for (size_t k = 0; k < n; k++) {
		if (e[k].verdict == GC_ELEM_SKIPPED)
			continue;
		tr->checked++;
		if (e[k].verdict == GC_ELEM_KINK) {
			tr->kinks++;
			continue;
		}
		tr->unreliable += e[k].verdict == GC_ELEM_UNRELIABLE;
		nfail += e[k].verdict == GC_ELEM_FAIL;
		tr->max_rel = fmax(tr->max_rel, e[k].rel_err);
		tr->max_abs = fmax(tr->max_abs, e[k].abs_err);
	}
	tr->failed = nfail;
	if (nfail == 0)
		return GC_OK;
	fails = malloc(nfail * sizeof *fails);
	if (!fails)
		return GC_ENOMEM;
	for (size_t k = 0, m = 0; k < n; k++)
		if (e[k].verdict == GC_ELEM_FAIL)
			fails[m++] = e[k];
	gc_tensor_keep_worst(tr, fails, nfail);
	return GC_OK;
}

/* Summarises every tensor: from its directions in dirs (fast mode, where by_dir[t]) or
 * from its elements in r->elements; then the result's totals. */
static int summarise_all(gc_result *r, const gc_element *dirs, const unsigned char *by_dir)
{
	r->checked = r->failed = r->kinks = r->unreliable = 0;
	for (size_t t = 0; t < r->n_tensors; t++) {
		gc_tensor_result *tr = &r->tensors[t];
		int rc;
		tr->directions = by_dir && by_dir[t];
		if (tr->directions)
			rc = gc_tensor_summarise(tr, dirs + GC_FAST_DIRECTIONS * t, GC_FAST_DIRECTIONS);
		else if (r->elements)
			rc = gc_tensor_summarise(tr, r->elements + tr->tensor.offset,
			                         tensor_size(&tr->tensor));
		else
			rc = gc_tensor_summarise(tr, NULL, 0);
		if (rc)
			return rc;
		r->checked += tr->checked;
		r->failed += tr->failed;
		r->kinks += tr->kinks;
		r->unreliable += tr->unreliable;
	}
	return GC_OK;
}

/* ---- element mode ---------------------------------------------------------------- */

/* Checks the chosen elements of every tensor, or only of the tensors t with
 * only[t] (fast mode's fallback: whole tensors, the shard already applied). */
static int check_elements(gc_result *r, const gc_problem *p, const gc_options *o,
                          gc_watch watch, const unsigned char *only)
{
	unsigned char *sel = malloc(p->n), *mine = NULL;
	size_t *todo = NULL, *units = NULL, n_todo = 0;
	double *cost = NULL;
	int rc = GC_OK;

	r->elements = calloc(p->n, sizeof *r->elements);
	if (!sel || !r->elements) {
		rc = GC_ENOMEM;
		goto out;
	}
	rc = choose_sample(r, o, sel);
	if (rc)
		goto out;
	if (only)
		for (size_t t = 0; t < r->n_tensors; t++)
			if (!only[t])
				memset(sel + r->tensors[t].tensor.offset, 0,
				       tensor_size(&r->tensors[t].tensor));
	for (size_t i = 0; i < p->n; i++) {
		gc_element *e = &r->elements[i];
		e->index = i;
		e->analytic = p->grad[i];
		e->verdict = GC_ELEM_SKIPPED;
		sel[i] = sel[i] && (only || in_shard(o, i));
		n_todo += sel[i];
	}
	todo = malloc((n_todo ? n_todo : 1) * sizeof *todo);
	if (!todo) {
		rc = GC_ENOMEM;
		goto out;
	}
	for (size_t i = 0, m = 0; i < p->n; i++)
		if (sel[i])
			todo[m++] = i;

	gc_job job = { .p = p, .o = o, .r = r, .run = element_unit,
	               .n_units = n_todo, .todo = todo, .min_per_thread = GC_UNITS_PER_THREAD,
	               .watch = watch };
	if (o->spread) {
		cost = element_costs(p, r, todo, n_todo);
		rc = p->cost && !cost ? GC_ENOMEM : spread_share(&job, cost, &mine, &units);
	}
	if (rc == GC_OK)
		rc = run_pool(&job, !p->moved);
	if (rc == GC_OK && o->spread && o->spread->gather)
		rc = o->spread->gather(o->spread->arg, r->elements, todo, mine, n_todo, 0);
out:
	free(sel);
	free(todo);
	free(cost);
	free(mine);
	free(units);
	return rc;
}

/* ---- fast mode --------------------------------------------------------------------- */

/* A 32-bit mt19937 seed from the user's seed and a tensor number (splitmix64). */
static unsigned long tensor_seed(unsigned long seed, size_t t)
{
	uint64_t z = (uint64_t)seed + 0x9E3779B97F4A7C15ULL * ((uint64_t)t + 1);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (unsigned long)((z ^ (z >> 32)) & 0xffffffffULL);
}

/* Rademacher directions for every tensor and the step per tensor. */
static int make_directions(const gc_result *r, const gc_problem *p, const gc_options *o,
                           signed char *dirs, double *fast_h)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!rng)
		return GC_ENOMEM;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		size_t size = tensor_size(ts);
		double big = 0;
		for (size_t k = 0; k < size; k++)
			big = fmax(big, fabs(p->theta[ts->offset + k]));
		fast_h[t] = o->step > 0 ? o->step : cbrt(DBL_EPSILON) * fmax(1.0, big);
		gsl_rng_set(rng, tensor_seed(o->seed, t));
		signed char *v = dirs + GC_FAST_DIRECTIONS * ts->offset;
		for (size_t k = 0; k < GC_FAST_DIRECTIONS * size; k++)
			v[k] = gsl_rng_uniform_int(rng, 2) ? 1 : -1;
	}
	gsl_rng_free(rng);
	return GC_OK;
}

/* In fast mode a shard takes whole tensors: tensor t belongs to shard t % N + 1.  A
 * tensor with a direction that does not pass is checked element by element instead:
 * a kink along a direction cannot be judged, and a wrong tensor gets its elements
 * named (README.md, "Fast mode"). */
static int check_fast(gc_result *r, const gc_problem *p, const gc_options *o,
                      gc_watch watch)
{
	signed char *dirs = malloc(GC_FAST_DIRECTIONS * p->n);
	double *fast_h = malloc(r->n_tensors * sizeof *fast_h);
	size_t *tlist = malloc(r->n_tensors * sizeof *tlist);
	unsigned char *by_dir = calloc(r->n_tensors, 1), *redo = calloc(r->n_tensors, 1);
	gc_element *out = calloc(GC_FAST_DIRECTIONS * r->n_tensors, sizeof *out);
	unsigned char *mine = NULL;
	size_t nt = 0, n_redo = 0, *units = NULL;
	int rc = GC_OK;

	if (!dirs || !fast_h || !tlist || !by_dir || !redo || !out) {
		rc = GC_ENOMEM;
		goto out;
	}
	rc = make_directions(r, p, o, dirs, fast_h);
	if (rc)
		goto out;
	for (size_t t = 0; t < r->n_tensors; t++) {
		for (size_t d = 0; d < GC_FAST_DIRECTIONS; d++) {
			out[GC_FAST_DIRECTIONS * t + d].index = d;
			out[GC_FAST_DIRECTIONS * t + d].verdict = GC_ELEM_SKIPPED;
		}
		by_dir[t] = 1;
		if (tensor_size(&r->tensors[t].tensor) > 0 && in_shard(o, t))
			tlist[nt++] = t;
	}

	gc_element *work = calloc(GC_FAST_DIRECTIONS * (nt ? nt : 1), sizeof *work);
	if (!work) {
		rc = GC_ENOMEM;
		goto out;
	}
	gc_job job = { .p = p, .o = o, .r = r, .run = fast_unit,
	               .n_units = GC_FAST_DIRECTIONS * nt, .fast_tensor = tlist,
	               .dirs = dirs, .fast_h = fast_h, .fast_out = work,
	               .watch = watch };
	if (o->spread)
		rc = spread_share(&job, NULL, &mine, &units);
	if (rc == GC_OK)
		rc = run_pool(&job, 1);
	/* every process decides which tensors to redo element by element: all need all */
	if (rc == GC_OK && o->spread && o->spread->gather)
		rc = o->spread->gather(o->spread->arg, work, NULL, mine, GC_FAST_DIRECTIONS * nt, 1);
	for (size_t k = 0; rc == GC_OK && k < nt; k++) {
		size_t t = tlist[k];
		memcpy(&out[GC_FAST_DIRECTIONS * t], &work[GC_FAST_DIRECTIONS * k],
		       GC_FAST_DIRECTIONS * sizeof *work);
		for (size_t d = 0; d < GC_FAST_DIRECTIONS; d++)
			redo[t] |= out[GC_FAST_DIRECTIONS * t + d].verdict != GC_ELEM_PASS;
		if (redo[t]) {
			by_dir[t] = 0;
			n_redo++;
		}
	}
	free(work);
	if (rc)
		goto out;
	if (n_redo && (rc = check_elements(r, p, o, watch, redo)) != GC_OK)
		goto out;
	rc = summarise_all(r, out, by_dir);
out:
	free(dirs);
	free(fast_h);
	free(tlist);
	free(by_dir);
	free(redo);
	free(out);
	free(mine);
	free(units);
	return rc;
}

/* ---- entry point ---------------------------------------------------------------- */

int gc_check(const gc_problem *p, const gc_options *o, gc_result **out)
{
	return gc_check_progress(p, o, NULL, NULL, out);
}

int gc_check_progress(const gc_problem *p, const gc_options *o, gc_progress_fn progress,
                      void *progress_arg, gc_result **out)
{
	gc_watch watch = { progress, progress_arg };
	gc_options defaults;
	gc_result *r = NULL;
	int rc;

	if (!out)
		return GC_EINVAL;
	*out = NULL;
	if (!o) {
		gc_options_init(&defaults);
		o = &defaults;
	}
	if (!valid_options(o) || !valid_problem(p, o))
		return GC_EINVAL;
	r = calloc(1, sizeof *r);
	if (!r)
		return GC_ENOMEM;
	r->n = p->n;
	r->rtol_used = o->rtol;
	r->batch = p->batch;
	r->outputs = p->outputs;
	r->atol_used = o->atol;
	rc = setup_tensors(r, p);
	if (rc)
		goto out;
	if (!o->fast && (r->theta = malloc((p->n ? p->n : 1) * sizeof *r->theta)))
		memcpy(r->theta, p->theta, p->n * sizeof *r->theta);
	else if (!o->fast)
		rc = GC_ENOMEM;
	if (rc)
		goto out;
	if (o->fast)
		rc = check_fast(r, p, o, watch);
	else if ((rc = check_elements(r, p, o, watch, NULL)) == GC_OK)
		rc = summarise_all(r, NULL, NULL);
	if (rc)
		goto out;
	rc = gc_diagnose(r, p->batch, p->outputs);
out:
	if (rc)
		gc_result_free(r);
	else
		*out = r;
	return rc;
}
