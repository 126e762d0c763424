/*
 * gradcheck.h - check a claimed gradient against central finite differences.
 *
 * The checking core knows nothing of networks.  A caller describes a scalar
 * function of a parameter vector theta (either as f(theta) or as a per-element
 * hook "f with theta[i] moved by delta"), the gradient it claims, and optionally
 * named slices of theta ("tensors").  gc_check() returns, per element, the
 * numeric derivative, the absolute and relative error and a pass / fail / kink /
 * unreliable verdict, per tensor the summary statistics, and diagnoses of failing tensors.
 *
 * Reports of checked cases (text, JSON, JUnit, TAP, HTML) are in gradcheck_report.h;
 * this header and the core (check.c, diagnose.c, names.c) need only GSL and pthreads.
 *
 * Conventions: every function returns GC_OK (0) or a gc_status code and never
 * prints or exits.  Nothing here uses global state; distinct calls may run in
 * different threads at once.  Every *_free() accepts NULL.
 *
 * The same error convention holds in the whole code base, not only here: a function
 * that can fail returns a gc_status (GC_OK = 0 on success) or a pointer that is NULL
 * only when memory ran out.  A function that reads an input (a case, a gradient file,
 * a report, a program's output) also takes a gc_error *err, which it fills whenever it
 * does not return GC_OK: GC_EINVAL means the input was rejected, GC_EIO that it could
 * not be read or written, GC_ENOMEM that memory ran out (err then says "out of
 * memory").  Callers tell "this input is bad" from "we cannot go on" by GC_ENOMEM
 * alone; only main.c prints the message and picks the exit status.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_VERSION "0.1.0"

typedef enum gc_status {
	GC_OK = 0,
	GC_ENOMEM,      /* out of memory */
	GC_EINVAL,      /* invalid argument (sizes, options, tensor slices) */
	GC_ETHREAD,     /* a worker thread could not be started */
	GC_EIO,         /* a report could not be written */
	GC_ESPREAD      /* sharing the work between processes failed (gc_spread) */
} gc_status;

/* A short lowercase description of a status ("out of memory"); static storage. */
const char *gc_strerror(int status);

typedef enum gc_method {
	GC_METHOD_CENTRAL,      /* (f(x+h) - f(x-h)) / 2h */
	GC_METHOD_FIVE_POINT    /* gsl_deriv_central: 5-point rule with an error estimate */
} gc_method;

/* Defaults: see gc_options_init() and README.md, "Tolerances". */
#define GC_DEFAULT_RTOL 1e-6
#define GC_DEFAULT_ATOL 0         /* added to each element's own rounding noise */

typedef struct gc_options {
	double step;            /* > 0: first step h0; 0: per element, cbrt(eps) * max(1, |theta_i|);
	                           smaller or larger steps h0 * 4^k are tried when h0 cannot
	                           decide (README.md, "Steps") */
	double rtol;            /* element passes when abs <= atol + noise + rtol * max(|a|, |n|) */
	double atol;            /* noise: the estimated rounding noise of the element's own
	                           difference (README.md, "Tolerances") */
	gc_method method;
	unsigned jobs;          /* worker threads; 0: the number of processors */
	size_t sample;          /* > 0: check only this many elements per tensor, chosen at random */
	int fast;               /* nonzero: a few random directional derivatives per tensor */
	unsigned long seed;     /* seed for sample and fast */
	unsigned shard_index;   /* 1-based shard K of shard_count; 0/0 or 1/1: everything */
	unsigned shard_count;
	const struct gc_spread *spread; /* optional: share the work with other processes */
} gc_options;

/* Fills *o with the defaults: step 0, rtol GC_DEFAULT_RTOL, atol GC_DEFAULT_ATOL,
 * central method, jobs 0, no sample, not fast, seed 0, no shard, no spread. */
void gc_options_init(gc_options *o);

/* The number of worker threads o asks for: o->jobs, or when that is 0 the number of
 * processors online (at least 1). */
unsigned gc_options_jobs(const gc_options *o);

/* The loss at theta.  Must not modify theta.  Called from several threads at once
 * when jobs > 1, each with its own copy of theta. */
typedef double (*gc_fn)(const double *theta, void *ctx);

/* The loss at the problem's theta with theta[i] replaced by theta[i] + delta.
 * worker (0 <= worker < jobs) names the calling thread, so the hook can keep
 * per-thread scratch; calls with different workers run concurrently.  When
 * kink is not NULL, set *kink to nonzero if the move crossed a kink (a point
 * where the function is not differentiable, such as relu at 0). */
typedef double (*gc_moved_fn)(void *ctx, unsigned worker, size_t i, double delta, int *kink);

/* Optional, with a gc_moved_fn: the losses of n moves at once, each exactly as the
 * gc_moved_fn gives it (bit for bit): loss[k] is the loss with theta[idx[k]] moved
 * by delta[k] and kink[k] is set as *kink would be.  Lets the function share work
 * between moves (README "Speed"); worker as for gc_moved_fn. */
typedef void (*gc_moved_many_fn)(void *ctx, unsigned worker, size_t n, const size_t *idx,
                                 const double *delta, double *loss, int *kink);

/* Optional for gc_fn callers: nonzero when moving theta[i] by +-h from theta crosses
 * a kink of the function. */
typedef int (*gc_kink_fn)(void *ctx, const double *theta, size_t i, double h);

/* A named slice theta[offset .. offset + rows*cols), stored row-major.  layer is
 * the layer number (1 = nearest the input) for the entry-layer diagnosis; 0 when
 * the slice belongs to no layer. */
typedef struct gc_tensor {
	const char *name;       /* not owned: must outlive the call that uses it */
	size_t offset;
	size_t rows, cols;
	int layer;
	int matrix;             /* nonzero: indexed [row,col] even with one column; otherwise
	                           a one-column slice is a vector, indexed [i] */
} gc_tensor;

typedef struct gc_problem {
	size_t n;               /* number of parameters */
	const double *theta;    /* (n) the point at which the gradient is checked */
	const double *grad;     /* (n) the claimed (analytic) gradient */
	double loss;            /* the loss at theta (reported) */
	gc_fn f;                /* at least one of f and moved; fast mode needs f */
	gc_moved_fn moved;      /* preferred for element-by-element checks when given */
	gc_moved_many_fn moved_many;    /* optional with moved: central differences of a
	                                   chunk of elements in one call */
	gc_kink_fn kink;        /* optional, used with f */
	void *ctx;              /* passed to the three callbacks */
	const gc_tensor *tensors;   /* slices in increasing offset order covering 0..n; */
	size_t n_tensors;           /* NULL/0: one tensor "theta" of n x 1 */
	size_t batch;           /* optional, names scale factors in diagnoses (0: unknown) */
	size_t outputs;         /* optional, likewise */
	double noise;           /* optional: the rounding error of one evaluation of the loss
	                           (0: 4 eps |L|); see README.md, "Tolerances" */
	const double *cost;     /* (n_tensors) optional: relative cost of one loss evaluation
	                           with an element of each tensor moved, for gc_spread */
} gc_problem;

typedef enum gc_verdict {
	GC_ELEM_PASS,
	GC_ELEM_FAIL,
	GC_ELEM_KINK,           /* every step crossed a kink and the claim lies between the two
	                           one-sided slopes (outside them is GC_ELEM_FAIL) */
	GC_ELEM_SKIPPED,        /* not checked (sample, shard or fast mode) */
	GC_ELEM_UNRELIABLE      /* the finite differences could not decide: neither pass nor fail */
} gc_verdict;

typedef struct gc_element {
	size_t index;           /* index into theta (fast mode: the direction's number) */
	double analytic;        /* a: the claimed gradient */
	double numeric;         /* n: the finite difference (Richardson's extrapolation of two
	                           steps when one did not settle it; at a kink the nearest
	                           point between the one-sided slopes) */
	double abs_err;         /* |a - n| */
	double rel_err;         /* |a - n| / max(|a|, |n|), 0 when both are 0 */
	double est_err;         /* the estimated error of n: rounding noise plus the spread
	                           between steps (five-point: plus the rule's estimate) */
	double step;            /* the step h used (the smaller one of a Richardson pair) */
	gc_verdict verdict;
} gc_element;

/* Sharing one check between processes (the MPI build: README "On a cluster").
 * gc_check gives share() its n work units in order: unit u is element map[u] of p
 * (map is NULL in fast mode, where units are directions) and costs cost[u] relative
 * to the others; share() sets mine[u] nonzero for the units this process computes.
 * After computing them, gc_check calls gather(): it sends this process's units and,
 * where this process writes the report (on every process when `everywhere`, as fast
 * mode's choice of tensors to check element by element needs), fills in the others:
 * unit u's result is out[map ? map[u] : u].  Both return GC_OK or a nonzero status,
 * which gc_check returns.  Without gather (NULL), the result holds this process's
 * units only. */
typedef struct gc_spread {
	int (*share)(void *arg, const gc_problem *p, const size_t *map, const double *cost,
	             size_t n, unsigned char *mine);
	int (*gather)(void *arg, gc_element *out, const size_t *map, const unsigned char *mine,
	              size_t n, int everywhere);
	void *arg;
} gc_spread;

/* The share the MPI build's gc_spread uses (README "On a cluster"): the n units in
 * `parts` consecutive ranges of equal cost, unit u going to the part whose slice
 * [k, k+1) x total/parts of the running cost holds the middle of u's cost, so no
 * part is more than one unit's cost off its fair share.  Writes owner[u] in
 * 0 .. parts-1 (non-decreasing).  Returns GC_OK or GC_EINVAL (no parts). */
int gc_spread_assign(const double *cost, size_t n, unsigned parts, unsigned *owner);

typedef struct gc_tensor_result {
	gc_tensor tensor;
	size_t checked;         /* elements (or directions) compared */
	size_t failed;
	size_t kinks;
	double max_rel, max_abs;        /* over checked elements that are not kinks */
	gc_element *worst;      /* every failing element, worst (largest rel) first (reports
	                           list the first few: gc_report_write's show) */
	size_t n_worst;
	size_t unreliable;      /* elements (or directions) neither passed nor failed */
	int directions;         /* nonzero: the counts and worst list are of random directions
	                           (fast mode), not elements */
} gc_tensor_result;

typedef enum gc_diag_kind {
	GC_DIAG_SCALE,          /* analytic = factor x numeric */
	GC_DIAG_SIGN,           /* analytic = -numeric */
	GC_DIAG_ZERO,           /* analytic all zero, numeric not */
	GC_DIAG_TRANSPOSE,      /* analytic equals numeric read in the other layout */
	GC_DIAG_ENTRY_LAYER,    /* layers above `layer` right, it and those below wrong */
	GC_DIAG_REGULARIZATION, /* analytic - numeric = factor x the parameter itself */
	GC_DIAG_LOSS_SCALE,     /* every tensor is the same factor x its true gradient */
	GC_DIAG_PRECISION,      /* every failure is as small as single-precision rounding */
	GC_DIAG_WEIGHT_PRODUCT  /* W_k fails while b_k passes: delta_k is right */
} gc_diag_kind;

typedef struct gc_diagnosis {
	char tensor[32];        /* tensor name ("W2"); for entry_layer the first wrong tensor */
	gc_diag_kind kind;
	double factor;          /* scale, loss_scale: k; regularization: c in a - n = c theta
	                           (c sign(theta) when l1); otherwise 0 */
	int layer;              /* entry_layer: k; otherwise the tensor's layer */
	char detail[512];       /* one sentence a person can act on */
	int l1;                 /* regularization: an L1 term's gradient (c sign(theta)) */
} gc_diagnosis;

typedef struct gc_result {
	size_t n;
	gc_element *elements;   /* (n) every element, GC_ELEM_SKIPPED where not checked;
	                           NULL in fast mode unless a tensor was checked element
	                           by element */
	gc_tensor_result *tensors;
	size_t n_tensors;
	gc_diagnosis *diagnoses;
	size_t n_diagnoses;
	size_t checked, failed, kinks;
	double atol_used;       /* the absolute tolerance added to each element's noise */
	double rtol_used;
	size_t batch, outputs;  /* copied from the problem, for gc_diagnose */
	size_t unreliable;      /* elements (or directions) neither passed nor failed */
	double *theta;          /* (n) a copy of the problem's theta for the regularization
	                           diagnosis; NULL when not known (merged results) */
} gc_result;

/* Checks p->grad against finite differences of the problem.  On success *out owns
 * a new result (free with gc_result_free) and the return value is GC_OK whether
 * or not elements failed; (*out)->failed says that. */
int gc_check(const gc_problem *p, const gc_options *o, gc_result **out);

/* For progress displays: called now and then from worker threads (serialised by
 * the library) with the number of elements (or directions) done and the total. */
typedef void (*gc_progress_fn)(void *arg, size_t done, size_t total);

/* gc_check, calling progress(progress_arg, ...) as the work advances (progress may
 * be NULL). */
int gc_check_progress(const gc_problem *p, const gc_options *o, gc_progress_fn progress,
                      void *progress_arg, gc_result **out);
void gc_result_free(gc_result *r);

/* Recomputes the diagnoses of r from its elements (gc_check does this already;
 * callers that build or merge results themselves use it). */
int gc_diagnose(gc_result *r, size_t batch, size_t outputs);

/* For callers that build or merge results themselves: recomputes tr's counts,
 * maxima and worst list (worst first) from the tensor's n elements e (skipped ones
 * included).  Returns GC_OK or GC_ENOMEM. */
int gc_tensor_summarise(gc_tensor_result *tr, const gc_element *e, size_t n);

/* Sorts the nfail failing elements in fails (malloc'ed) worst first and makes them
 * tr's worst list; takes ownership of fails. */
void gc_tensor_keep_worst(gc_tensor_result *tr, gc_element *fails, size_t nfail);

/* The name of a kind as in JSON reports: "scale", "sign", "zero", "transpose",
 * "entry_layer", "regularization", "loss_scale", "precision", "weight_product". */
const char *gc_diag_kind_name(gc_diag_kind k);
/* The kind of such a name: GC_OK, or GC_EINVAL for any other string (or NULL). */
int gc_diag_kind_parse(const char *s, gc_diag_kind *out);

/* Names as reports and the command line spell them: "central", "five-point"; "pass",
 * "fail", "kink", "skipped", "unreliable" ("unknown" for a value outside the enum).  The parsers
 * return GC_OK and set *out, or GC_EINVAL for any other string (or NULL). */
const char *gc_method_name(gc_method m);
int gc_method_parse(const char *s, gc_method *out);
const char *gc_verdict_name(gc_verdict v);
int gc_verdict_parse(const char *s, gc_verdict *out);

#ifdef __cplusplus
}
#endif
#endif
