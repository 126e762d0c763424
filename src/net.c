/* net.c - the MLP harness: forward pass, backpropagation, and the incremental
 * "loss with theta[i] moved" hook.
 *
 * Every activation matrix is batch-major, row-major: z[k], a[k] are (B, n_k).
 * Parameters are read in place from theta through gsl_matrix views; theta is
 * never written.  The moved-loss hook recomputes only what a change of one
 * parameter touches, as changes added to the cached layers: one column of its
 * layer, a rank-1 change of the next layer, then each sample's change carried
 * through the layers above (da W, with W read as (n_in, n_out): a transposed
 * copy for the out_in layout).  tanh and sigmoid of z0 + dz come from the cached
 * f(z0) by addition identities (see "changes of activations"), and many moves of
 * one unit go through the kernel of net_kernel.c together (see "the fused path").
 * Against a full forward pass the loss differs by rounding only (a few eps |L|,
 * tested in tests/test_incremental.c); timings are in tests/bench/. */
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include "loss.h"
#include "net.h"
#include "net_kernel.h"
#include "series.h"

/* Per-worker buffers of the moved-loss hook (and of the full forward pass), each
 * worker's in its own allocations. */
typedef struct net_scratch {
	double *dzc, *dac;      /* (B) moved unit: change of pre-activations, activations */
	double *z0c, *a0c;      /* (B) moved unit: cached pre-activations, activations */
	double *da;             /* (maxw) one sample's change of activations */
	double *row[2];         /* (maxw) one sample's change of pre-activations, ping-pong */
	double *z[2], *a[2];    /* (B, maxw) full pass: ping-pong layers; moved: the output */
	size_t *nz;             /* (maxw) indices of nonzero changes */
	double *mem;
	/* the fused path (workers only): */
	unsigned *ks;           /* (B, n_m) per sample, the units of layer m in the kernel's list */
	size_t *nks;            /* (B) their numbers */
	size_t ks_unit;         /* the moved unit they are for; SIZE_MAX: none yet */
	double *least;          /* (B) tanh, sigmoid: per sample, the least |W_m[u, k]| f'(z_k)
	                           over the listed units k (see fused_mid()) */
	double *fd;             /* (B, GC_FUSED_LANES) moved unit's change per sample and lane */
	double *fdz;            /* (nout, GC_FUSED_LANES) the kernel's output */
	double *frow;           /* (2 n_L) one output row: z, a */
	double *lz[2], *lda;    /* (maxw, GC_FUSED_LANES) the deep path's changes per lane */
	unsigned *lks;          /* (maxw) the deep path's units with a nonzero change */
	unsigned *iota;         /* (maxw) 0, 1, 2, ...: every unit */
	size_t fused_lanes;     /* moves the kernel computed (gc_net_fused_moves()) */
} net_scratch;

/* The fused path of the moved-loss hook for units of layer L-2 (README "Speed"):
 * layer m = L-1's cached coefficients in the kernel's form. */
typedef struct net_fused {
	int mid, rank1;         /* whether the path covers units of layer L-2, of L-1 */
	size_t deep_from;       /* and units of layers deep_from .. L-3 (the deep path: every
	                           layer from deep_from + 1 to L-1 is one lanes_layer()
	                           takes); L: none */
	int on;                 /* 0: forced to the reference path (gc_net_set_kernel) */
	gc_kernel k;            /* the kernel's version (k.run NULL: the reference path) */
	gc_kernel_isa isa;
	gc_fused_kind kind;
	double *c0, *c1, *c2;   /* (B, n_m) coefficients of layer m's units */
	double *tc[4];          /* (B, n_m) tanh, sigmoid: the Taylor coefficients */
	unsigned char *live;    /* (B, n_m) whether the unit's change can be nonzero */
	double *margin;         /* (B) relu: the least -z over inactive units (a move of the
	                           moved unit's activation by less than margin / max|W_m[u,:]|
	                           turns none on); INFINITY otherwise */
	double *wl;             /* (n_m, nout) W_L as (n_m, n_L), zero columns past n_L
	                           (n_m = n_{L-1} for both paths) */
	size_t nout;            /* n_L rounded up to even */
	int squares;            /* identity output, sse / half_sse / mse: squares_sample() */
	int z_only;             /* the loss reads only the output pre-activations (cross-
	                           entropies): no output activation is formed */
	int ce;                 /* the kernel sums the cross-entropy (net->lse set, n_L <= 10) */
	double *mem;
} net_fused;

struct gc_net {
	const gc_case *c;
	size_t L, B, maxw;      /* layers, batch, widest of n_1..n_L */
	size_t *woff, *boff;    /* (L+1) offsets of W_k, b_k in theta, k = 1..L */
	size_t *end;            /* (L+1) end[k]: first index past layer k's parameters */
	double **z, **a;        /* (L+1) cached layers at c->theta; a[0] = c->inputs */
	double *cache;          /* storage of z[1..L] and a[1..L] */
	const double **wio;     /* (L+1) W_k read as (n_{k-1}, n_k), k = 2..L */
	double *wt;             /* storage of the transposed W_k (out_in layout) */
	double **wmax;          /* (L+1) wmax[k][i] = max_v |wio[k][i][v]|, k = 2..L */
	double *wmax_mem;
	double data_loss;       /* the data term at c->theta */
	double reg_loss;        /* the regularization term at c->theta */
	double base_loss;       /* their sum */
	double *lse;            /* (B) cross-entropy with a finite cached output: each sample's
	                           logsumexp, from which moved rows take theirs (see
	                           moved_ce_loss()); NULL otherwise */
	unsigned workers;
	net_scratch *scratch;   /* (workers) */
	net_fused fused;
};

/* Where parameter i sits: layer k (from 1), unit u of layer k, input j (weights). */
typedef struct param_loc {
	size_t k, u, j;
	int bias;
} param_loc;

static int mul_size(size_t a, size_t b, size_t *out)
{
	if (b && a > SIZE_MAX / b)
		return -1;
	*out = a * b;
	return 0;
}

static int add_size(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

/* ---- activations ------------------------------------------------------------ */


static int act_has_kink(const gc_activation *f)
{
	return f->kind == GC_ACT_RELU || f->kind == GC_ACT_LEAKY_RELU;
}

static void softmax_rows(size_t rows, size_t cols, const double *z, double *a)
{
	for (size_t r = 0; r < rows; r++) {
		const double *zr = z + r * cols;
		double *ar = a + r * cols;
		double max = zr[0], sum = 0;
		for (size_t j = 1; j < cols; j++)
			if (zr[j] > max)
				max = zr[j];
		for (size_t j = 0; j < cols; j++) {
			ar[j] = exp(zr[j] - max);
			sum += ar[j];
		}
		for (size_t j = 0; j < cols; j++)
			ar[j] /= sum;
	}
}

/* a = f(z) for a (rows, cols) matrix; softmax works on each row. */
static void act_forward(const gc_activation *f, size_t rows, size_t cols,
                        const double *z, double *a)
{
	size_t n = rows * cols;

	switch (f->kind) {
	case GC_ACT_IDENTITY:
		if (a != z)
			memcpy(a, z, n * sizeof *a);
		break;
	case GC_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			a[i] = gc_sigmoid(z[i]);
		break;
	case GC_ACT_TANH:
		for (size_t i = 0; i < n; i++)
			a[i] = tanh(z[i]);
		break;
	case GC_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			a[i] = z[i] > 0 ? z[i] : 0.0;
		break;
	case GC_ACT_LEAKY_RELU:
		for (size_t i = 0; i < n; i++)
			a[i] = z[i] > 0 ? z[i] : f->alpha * z[i];
		break;
	case GC_ACT_SOFTPLUS:
		for (size_t i = 0; i < n; i++)
			a[i] = gc_softplus(z[i]);
		break;
	case GC_ACT_SOFTMAX:
		softmax_rows(rows, cols, z, a);
		break;
	}
}

/* dz = da * f'(z) (for softmax: the Jacobian-vector product of each row). */
static void act_backward(const gc_activation *f, size_t rows, size_t cols,
                         const double *z, const double *a, const double *da, double *dz)
{
	size_t n = rows * cols;

	switch (f->kind) {
	case GC_ACT_IDENTITY:
		memcpy(dz, da, n * sizeof *dz);
		break;
	case GC_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			dz[i] = da[i] * a[i] * (1.0 - a[i]);
		break;
	case GC_ACT_TANH:
		for (size_t i = 0; i < n; i++)
			dz[i] = da[i] * (1.0 - a[i] * a[i]);
		break;
	case GC_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			dz[i] = z[i] > 0 ? da[i] : 0.0;
		break;
	case GC_ACT_LEAKY_RELU:
		for (size_t i = 0; i < n; i++)
			dz[i] = z[i] > 0 ? da[i] : f->alpha * da[i];
		break;
	case GC_ACT_SOFTPLUS:
		for (size_t i = 0; i < n; i++)
			dz[i] = da[i] * gc_sigmoid(z[i]);
		break;
	case GC_ACT_SOFTMAX:
		for (size_t r = 0; r < rows; r++) {
			const double *ar = a + r * cols, *dar = da + r * cols;
			double dot = 0;
			for (size_t j = 0; j < cols; j++)
				dot += ar[j] * dar[j];
			for (size_t j = 0; j < cols; j++)
				dz[r * cols + j] = ar[j] * (dar[j] - dot);
		}
		break;
	}
}

/* ---- changes of activations ---------------------------------------------------- *
 * The moved path carries changes: dz = z - z0 and da = f(z0 + dz) - f(z0) for
 * cached z0, a0 = f(z0).  For tanh and sigmoid an addition identity gives da from
 * the cached a0 and dz alone, without a call to tanh() or exp(), when |dz| is
 * small (as it is for finite-difference steps).  It is still f evaluated at
 * z0 + dz: the series below are exact to below a rounding error of the result
 * for |dz| < GC_SMALL_DZ (series.h), and larger changes use the library function. */

/* tanh(d) for |d| < GC_SMALL_DZ: d - d^3/3 + 2d^5/15; the next term, 17d^7/315,
 * is below 1e-19 |d| there. */
static double tanh_small(double d)
{
	double d2 = d * d;
	return d * (1.0 - d2 * (1.0 / 3.0 - d2 * (2.0 / 15.0)));
}

/* expm1(x) for |x| < GC_SMALL_DZ: x + x^2/2 + ... + x^5/120; the next term is
 * below 2e-18 |x| there. */
static double expm1_small(double x)
{
	return x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 * (1.0 + x / 5.0))));
}

/* tanh(z0 + dz) - t for t = tanh(z0) and |dz| < GC_SMALL_DZ: with tau = tanh(dz),
 * tanh(z0 + dz) = (t + tau) / (1 + t tau), so the change is tau (1 - t^2) / (1 + t tau). */
static inline double tanh_delta(double t, double dz)
{
	double tau = tanh_small(dz);
	return tau * ((1.0 - t) * (1.0 + t)) / (1.0 + t * tau);
}

/* sigmoid(z0 + dz) - s for s = sigmoid(z0) and |dz| < GC_SMALL_DZ: with m = e^-dz - 1,
 * sigmoid(z0 + dz) = s / (1 + (1 - s) m), so the change is -s (1 - s) m / (1 + (1 - s) m). */
static inline double sigmoid_delta(double s, double dz)
{
	double m = expm1_small(-dz), q = 1.0 - s;
	return -s * q * m / (1.0 + q * m);
}

/* The identities for n units, two at a time so that the compiler can use vector
 * instructions at -O2; the units whose change is not small are redone by
 * act_delta_plain() (see largest_change()). */
static void tanh_delta_row(size_t n, const double *restrict t, const double *restrict dz,
                           double *restrict da)
{
	size_t i = 0;
	for (; i + 2 <= n; i += 2) {
		da[i] = tanh_delta(t[i], dz[i]);
		da[i + 1] = tanh_delta(t[i + 1], dz[i + 1]);
	}
	for (; i < n; i++)
		da[i] = tanh_delta(t[i], dz[i]);
}

static void sigmoid_delta_row(size_t n, const double *restrict s, const double *restrict dz,
                              double *restrict da)
{
	size_t i = 0;
	for (; i + 2 <= n; i += 2) {
		da[i] = sigmoid_delta(s[i], dz[i]);
		da[i + 1] = sigmoid_delta(s[i + 1], dz[i + 1]);
	}
	for (; i < n; i++)
		da[i] = sigmoid_delta(s[i], dz[i]);
}

/* The larger of m and |x|, m when x is NaN (compiles to maxsd, without branches). */
static inline double max_abs(double m, double x)
{
	x = fabs(x);
	return x > m ? x : m;
}

/* max |dz| over n entries, ignoring NaNs (the identities give NaN for them, as
 * the functions would): a separate pass, because a branch inside the identity
 * loops would stop them from using vector instructions. */
static double largest_change(size_t n, const double *dz)
{
	double m0 = 0, m1 = 0;
	size_t i = 0;
	for (; i + 2 <= n; i += 2) {
		m0 = max_abs(m0, dz[i]);
		m1 = max_abs(m1, dz[i + 1]);
	}
	for (; i < n; i++)
		m0 = max_abs(m0, dz[i]);
	return m0 > m1 ? m0 : m1;
}

/* da = f(z0 + dz) - a0 by the activation itself, for every unit (all nonzero) or
 * for those with |dz| not below GC_SMALL_DZ (NaN included). */
static void act_delta_plain(const gc_activation *f, size_t n, const double *z0,
                            const double *a0, const double *dz, double *da, int all)
{
	for (size_t i = 0; i < n; i++) {
		if (!all && fabs(dz[i]) < GC_SMALL_DZ)
			continue;
		if (dz[i] == 0) {
			da[i] = 0.0;
			continue;
		}
		double z = z0[i] + dz[i], a;
		act_forward(f, 1, 1, &z, &a);
		da[i] = a - a0[i];
	}
}

/* da = f(z0 + dz) - a0 for n units of a hidden layer (never softmax).  dzmax is
 * max |dz| when the caller knows it, NaN otherwise. */
static void act_delta(const gc_activation *f, size_t n, const double *z0, const double *a0,
                      const double *dz, double *da, double dzmax)
{
	switch (f->kind) {
	case GC_ACT_IDENTITY:
		memcpy(da, dz, n * sizeof *da);
		break;
	case GC_ACT_TANH:
	case GC_ACT_SIGMOID:
		if (f->kind == GC_ACT_TANH)
			tanh_delta_row(n, a0, dz, da);
		else
			sigmoid_delta_row(n, a0, dz, da);
		if (isnan(dzmax))
			dzmax = largest_change(n, dz);
		if (!(dzmax < GC_SMALL_DZ))
			act_delta_plain(f, n, z0, a0, dz, da, 0);
		break;
	default:
		act_delta_plain(f, n, z0, a0, dz, da, 1);
		break;
	}
}

/* ---- losses ----------------------------------------------------------------- */

/* The loss itself is in loss.c (README "Case format", "Conventions"): the data
 * term sample by sample (gc_loss_sample()) and its reduction (gc_loss_total()),
 * so that the moved-loss paths sum sample by sample in the same order. */
static double loss_sample(const gc_net *net, size_t b, const double *z, const double *a,
                          double sum)
{
	return gc_loss_sample(net->c, b, z, a, sum);
}

static double loss_total(const gc_net *net, double sum)
{
	return gc_loss_total(net->c, sum);
}

/* The data term of the loss of output layer (z, a), both (B, m). */
static double loss_value(const gc_net *net, const double *z, const double *a)
{
	return gc_loss_value(net->c, z, a);
}

/* dz = dL/dz of the output layer; da is (B, m) scratch. */
static void loss_backward(const gc_net *net, const double *z, const double *a,
                          double *da, double *dz)
{
	const gc_case *c = net->c;

	if (!gc_loss_backward(c, z, a, da))
		act_backward(&c->act[net->L - 1], net->B, c->sizes[net->L], z, a, da, dz);
	else
		memcpy(dz, da, net->B * c->sizes[net->L] * sizeof *dz);
}

/* The data term of a moved output (z, a); sets *kink when the move crossed a
 * corner of the loss (hinge losses). */
static double moved_data_loss(const gc_net *net, const double *z, const double *a, int *kink)
{
	if (!*kink && gc_loss_has_corners(net->c))
		*kink = gc_loss_corner_crossed(net->c, net->a[net->L], a);
	return loss_value(net, z, a);
}

/* The cross-entropy of output rows moved by dz (B, n_L) from the cached ones, each
 * sample's logsumexp from its cached one (net->lse set). */
static double moved_ce_loss(const gc_net *net, const double *dz)
{
	size_t nL = net->c->sizes[net->L];
	const double *z0 = net->z[net->L], *p = net->a[net->L], *t = net->c->targets;
	double sum = 0;

	for (size_t b = 0; b < net->B; b++)
		sum = gc_loss_ce_moved(t + b * nL, z0 + b * nL, dz + b * nL, p + b * nL, net->lse[b],
		                       nL, sum);
	return loss_total(net, sum);
}

/* ---- layers ----------------------------------------------------------------- */

/* The shape of W_k in the case's layout. */
static void weight_shape(const gc_net *net, size_t k, size_t *rows, size_t *cols)
{
	size_t nin = net->c->sizes[k - 1], nout = net->c->sizes[k];

	*rows = net->c->layout == GC_LAYOUT_OUT_IN ? nout : nin;
	*cols = net->c->layout == GC_LAYOUT_OUT_IN ? nin : nout;
}

/* z = a_prev W^T + b (out_in) or a_prev W + b (in_out), then a = f(z). */
static void layer_forward(const gc_net *net, const double *theta, size_t k,
                          const double *a_prev, double *z, double *a)
{
	const gc_case *c = net->c;
	size_t B = net->B, nout = c->sizes[k];
	size_t rows, cols;
	double beta = 0.0;

	weight_shape(net, k, &rows, &cols);
	gsl_matrix_const_view A = gsl_matrix_const_view_array(a_prev, B, c->sizes[k - 1]);
	gsl_matrix_const_view W = gsl_matrix_const_view_array(theta + net->woff[k], rows, cols);
	gsl_matrix_view Z = gsl_matrix_view_array(z, B, nout);

	if (c->bias) {
		for (size_t b = 0; b < B; b++)
			memcpy(z + b * nout, theta + net->boff[k], nout * sizeof *z);
		beta = 1.0;
	}
	gsl_blas_dgemm(CblasNoTrans, c->layout == GC_LAYOUT_OUT_IN ? CblasTrans : CblasNoTrans,
	               1.0, &A.matrix, &W.matrix, beta, &Z.matrix);
	act_forward(&c->act[k - 1], B, nout, z, a);
}

/* ---- scratch ---------------------------------------------------------------- */

/* Doubles in one net_scratch: 4 B + 3 maxw + 4 B maxw (overflow checked at create). */
static size_t scratch_doubles(const gc_net *net)
{
	return 4 * net->B + 3 * net->maxw + 4 * net->B * net->maxw;
}

static void scratch_free(net_scratch *s)
{
	free(s->mem);
	free(s->nz);
	free(s->ks);
	free(s->nks);
	free(s->least);
	free(s->fd);
	free(s->lks);
	s->mem = NULL;
	s->nz = NULL;
	s->ks = NULL;
	s->nks = NULL;
	s->least = NULL;
	s->fd = NULL;
}

static int scratch_alloc(const gc_net *net, net_scratch *s)
{
	size_t B = net->B, big = B * net->maxw;

	memset(s, 0, sizeof *s);        /* the fused path's buffers: fused_scratch() */
	s->mem = malloc(scratch_doubles(net) * sizeof *s->mem);
	s->nz = malloc(net->maxw * sizeof *s->nz);
	if (!s->mem || !s->nz) {
		scratch_free(s);
		return GC_ENOMEM;
	}
	s->dzc = s->mem;
	s->dac = s->dzc + B;
	s->z0c = s->dac + B;
	s->a0c = s->z0c + B;
	s->da = s->a0c + B;
	s->row[0] = s->da + net->maxw;
	s->row[1] = s->row[0] + net->maxw;
	s->z[0] = s->row[1] + net->maxw;
	s->a[0] = s->z[0] + big;
	s->z[1] = s->a[0] + big;
	s->a[1] = s->z[1] + big;
	return GC_OK;
}

/* Full forward pass at theta with s's ping-pong buffers; the output to out if not NULL. */
static double forward_full(const gc_net *net, const double *theta, net_scratch *s, double *out)
{
	const double *a_prev = net->c->inputs;
	size_t L = net->L, cur = 0;

	for (size_t k = 1; k <= L; k++) {
		cur = k & 1;
		layer_forward(net, theta, k, a_prev, s->z[cur], s->a[cur]);
		a_prev = s->a[cur];
	}
	if (out)
		memcpy(out, s->a[cur], net->B * net->c->sizes[L] * sizeof *out);
	return loss_value(net, s->z[cur], s->a[cur]) + gc_reg_value(net->c, theta);
}

/* ---- moved loss --------------------------------------------------------------- */

static int locate(const gc_net *net, size_t i, param_loc *p)
{
	size_t lo = 1, hi = net->L;

	if (i >= net->end[net->L])
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (i < net->end[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t nin = net->c->sizes[lo - 1], n = net->c->sizes[lo];
	p->k = lo;
	p->bias = net->c->bias && i >= net->boff[lo];
	if (p->bias) {
		p->u = i - net->boff[lo];
		p->j = 0;
	} else if (net->c->layout == GC_LAYOUT_OUT_IN) {
		p->u = (i - net->woff[lo]) / nin;
		p->j = (i - net->woff[lo]) % nin;
	} else {
		p->j = (i - net->woff[lo]) / n;
		p->u = (i - net->woff[lo]) % n;
	}
	return 0;
}

/* The moved unit is an output unit: copy the cached output, replace column u
 * (every row for softmax), evaluate the loss; a cross-entropy with cached
 * logsumexps from the change of column u alone. */
static double moved_output(const gc_net *net, net_scratch *s, size_t u, int *kink)
{
	const gc_activation *f = &net->c->act[net->L - 1];
	size_t B = net->B, m = net->c->sizes[net->L];
	double *z = s->z[0], *a = s->a[0];

	if (net->lse) {
		memset(z, 0, B * m * sizeof *z);
		for (size_t b = 0; b < B; b++)
			z[b * m + u] = s->dzc[b];
		return moved_ce_loss(net, z);
	}
	memcpy(z, net->z[net->L], B * m * sizeof *z);
	for (size_t b = 0; b < B; b++)
		z[b * m + u] = s->z0c[b] + s->dzc[b];
	if (f->kind == GC_ACT_SOFTMAX) {
		act_forward(f, B, m, z, a);
	} else {
		memcpy(a, net->a[net->L], B * m * sizeof *a);
		for (size_t b = 0; b < B; b++)
			act_forward(f, 1, 1, &z[b * m + u], &a[b * m + u]);
	}
	return moved_data_loss(net, z, a, kink);
}

/* Nonzero when some z0 and z0 + dz lie on different sides of 0. */
static int crossed(const double *z0, const double *dz, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((z0[i] > 0) != (z0[i] + dz[i] > 0))
			return 1;
	return 0;
}

/* dz += s0 w0 + s1 w1 + s2 w2 + s3 w3 over n entries, two at a time (vector
 * instructions at -O2). */
static void axpy4(size_t n, const double s[4], const double *restrict w0,
                  const double *restrict w1, const double *restrict w2,
                  const double *restrict w3, double *restrict dz)
{
	double s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
	size_t v = 0;

	for (; v + 2 <= n; v += 2) {
		dz[v] += (s0 * w0[v] + s1 * w1[v]) + (s2 * w2[v] + s3 * w3[v]);
		dz[v + 1] += (s0 * w0[v + 1] + s1 * w1[v + 1]) + (s2 * w2[v + 1] + s3 * w3[v + 1]);
	}
	for (; v < n; v++)
		dz[v] += (s0 * w0[v] + s1 * w1[v]) + (s2 * w2[v] + s3 * w3[v]);
}

/* dz = da W for one sample, W (nin, nout) row-major.  Rows with da = 0 add
 * nothing and are skipped; the others go four at a time, so each dz[v] is read
 * and written once per four rows. */
static void row_times_weights(const double *da, size_t nin, const double *w, size_t nout,
                              double *dz, size_t *nz)
{
	size_t cnt = 0, i = 0;

	for (size_t r = 0; r < nin; r++)
		if (da[r] != 0)
			nz[cnt++] = r;
	memset(dz, 0, nout * sizeof *dz);
	for (; i + 4 <= cnt; i += 4) {
		double s[4] = { da[nz[i]], da[nz[i + 1]], da[nz[i + 2]], da[nz[i + 3]] };
		axpy4(nout, s, w + nz[i] * nout, w + nz[i + 1] * nout, w + nz[i + 2] * nout,
		      w + nz[i + 3] * nout, dz);
	}
	for (; i < cnt; i++) {
		double s0 = da[nz[i]];
		const double *w0 = w + nz[i] * nout;
		for (size_t v = 0; v < nout; v++)
			dz[v] += s0 * w0[v];
	}
}

/* out = s w over n entries, two at a time (vector instructions at -O2). */
static void scale_row(size_t n, double s, const double *restrict w, double *restrict out)
{
	size_t v = 0;

	for (; v + 2 <= n; v += 2) {
		out[v] = s * w[v];
		out[v + 1] = s * w[v + 1];
	}
	for (; v < n; v++)
		out[v] = s * w[v];
}

/* Carries the change dz of sample b's pre-activations in layer l up to the output
 * and writes the change of sample b's output pre-activations to dzo.  dzmax:
 * max |dz| if known, else NaN. */
static void propagate_row(const gc_net *net, net_scratch *s, size_t l, size_t b,
                          double *dz, double dzmax, double *dzo, int *kink)
{
	const gc_case *c = net->c;
	size_t L = net->L;

	for (; l <= L; l++) {
		size_t n = c->sizes[l];
		const double *z0 = net->z[l] + b * n;
		if (!*kink && act_has_kink(&c->act[l - 1]))
			*kink = crossed(z0, dz, n);
		if (l == L)
			break;
		double *next = dz == s->row[0] ? s->row[1] : s->row[0];
		act_delta(&c->act[l - 1], n, z0, net->a[l] + b * n, dz, s->da, dzmax);
		row_times_weights(s->da, n, net->wio[l + 1], c->sizes[l + 1], next, s->nz);
		dz = next;
		dzmax = NAN;
	}
	memcpy(dzo, dz, c->sizes[L] * sizeof *dzo);
}

/* The data term of the output rows moved by dz (B, n_L): a cross-entropy with
 * cached logsumexps from the changes themselves, other losses from z0 + dz (formed
 * in dz's place) and the output activation in a. */
static double moved_rows_loss(const gc_net *net, double *dz, double *a, int *kink)
{
	size_t n = net->B * net->c->sizes[net->L];
	const double *z0 = net->z[net->L];

	if (net->lse)
		return moved_ce_loss(net, dz);
	for (size_t i = 0; i < n; i++)
		dz[i] = z0[i] + dz[i];
	act_forward(&net->c->act[net->L - 1], net->B, net->c->sizes[net->L], dz, a);
	return moved_data_loss(net, dz, a, kink);
}

/* The moved unit u is in hidden layer k: its change of activations, a rank-1
 * change of layer k+1, changes carried through the layers above sample by
 * sample, the loss. */
static double moved_hidden(const gc_net *net, net_scratch *s, size_t k, size_t u, int *kink)
{
	const gc_case *c = net->c;
	size_t B = net->B, L = net->L, m = k + 1, nm = c->sizes[m], nL = c->sizes[L];
	int changed = 0;

	act_delta(&c->act[k - 1], B, s->z0c, s->a0c, s->dzc, s->dac, NAN);
	for (size_t b = 0; b < B; b++)
		changed |= s->dac[b] != 0;
	if (!changed)
		return net->data_loss;

	const double *wrow = net->wio[m] + u * nm;
	double wmax = net->wmax[m][u];
	double *dz = s->z[0];
	for (size_t b = 0; b < B; b++) {
		double d = s->dac[b];
		if (d == 0) {
			memset(dz + b * nL, 0, nL * sizeof *dz);
			continue;
		}
		/* rounding is monotone, so max_v |d w_v| is exactly |d| max_v |w_v| */
		scale_row(nm, d, wrow, s->row[0]);
		propagate_row(net, s, m, b, s->row[0], fabs(d) * wmax, dz + b * nL, kink);
	}
	return moved_rows_loss(net, dz, s->a[0], kink);
}

static double moved_eval(const gc_net *net, net_scratch *s, size_t i, double delta, int *kink)
{
	const gc_case *c = net->c;
	param_loc p;
	int kinked = 0;
	double loss;

	if (locate(net, i, &p) != 0)
		return NAN;
	size_t B = net->B, nin = c->sizes[p.k - 1], n = c->sizes[p.k];
	const double *z0 = net->z[p.k], *a0 = net->a[p.k], *ap = net->a[p.k - 1];
	for (size_t b = 0; b < B; b++) {
		s->z0c[b] = z0[b * n + p.u];
		s->a0c[b] = a0[b * n + p.u];
		s->dzc[b] = p.bias ? delta : delta * ap[b * nin + p.j];
	}
	if (act_has_kink(&c->act[p.k - 1]))
		kinked = crossed(s->z0c, s->dzc, B);
	if (p.k == net->L)
		loss = moved_output(net, s, p.u, &kinked);
	else
		loss = moved_hidden(net, s, p.k, p.u, &kinked);
	loss += net->reg_loss + gc_reg_change(c, p.bias, c->theta[i], delta, &kinked);
	if (kink)
		*kink = kinked;
	return loss;
}

/* ---- the fused path ------------------------------------------------------------ *
 * Moves of parameters of one unit u of layer k = L-2 go to the kernel of
 * net_kernel.c up to GC_FUSED_LANES at a time, sample by sample; so do those of
 * layer L-1 (a rank-1 change of the output) and, when every layer between is
 * tanh, sigmoid or identity, of the layers below L-2 (the deep path: the kernel's
 * activation step and layer product, layer by layer).  Each lane
 * gives the numbers moved_eval() gives, to the last bit: the same operations in
 * the same order, the loss summed sample by sample (loss_sample()).  A lane the
 * kernel cannot do exactly (a relu kink crossed, a large change, a change that
 * rounds to 0) is redone by moved_eval(). */

/* da = f(z0 + dz) - a0 for one unit, as act_delta() gives it. */
static double act_delta_one(const gc_activation *f, double z0, double a0, double dz)
{
	double da;

	switch (f->kind) {
	case GC_ACT_IDENTITY:
		return dz;
	case GC_ACT_TANH:
		if (fabs(dz) < GC_SMALL_DZ)
			return tanh_delta(a0, dz);
		break;
	case GC_ACT_SIGMOID:
		if (fabs(dz) < GC_SMALL_DZ)
			return sigmoid_delta(a0, dz);
		break;
	default:
		break;
	}
	act_delta_plain(f, 1, &z0, &a0, &dz, &da, 1);
	return da;
}

/* The units of layer m = L-1 in the kernel's list for moved unit u: for each
 * sample, those whose change can be nonzero (live, and a nonzero weight from u). */
static void fused_lists(const gc_net *net, net_scratch *s, size_t u)
{
	size_t B = net->B, m = net->L - 1, nm = net->c->sizes[m];
	const double *wu = net->wio[m] + u * nm;
	int smooth = net->fused.kind == GC_FUSED_TANH || net->fused.kind == GC_FUSED_SIGMOID;

	if (s->ks_unit == u)
		return;
	for (size_t b = 0; b < B; b++) {
		const unsigned char *live = net->fused.live + b * nm;
		const double *slope = net->fused.tc[0] + b * nm;
		unsigned *ks = s->ks + b * nm;
		size_t cnt = 0;
		double least = INFINITY;
		for (size_t k = 0; k < nm; k++)
			if (live[k] && wu[k] != 0) {
				ks[cnt++] = (unsigned)k;
				if (smooth && fabs(wu[k] * slope[k]) < least)
					least = fabs(wu[k] * slope[k]);
			}
		s->nks[b] = cnt;
		s->least[b] = least;
	}
	s->ks_unit = u;
}

/* Below this |d| times the least |W_m[u, k]| f'(z_k) (tanh, sigmoid) the Taylor
 * polynomial's da_m of some listed unit might round to 0 (which the reference path
 * would skip): it is dz (f'(z) + O(dz)) with |dz| < GC_TAYLOR_DZ, so at least 0.99
 * |d W_m[u, k]| f'(z_k), far from the subnormals above this bound. */
#define GC_TAYLOR_NONZERO 1e-290

/* The kernel's call for sample b: d, the moved unit's change per lane; wu, its
 * weights into layer m = L-1 (L-2's moves) or its row of W_L (L-1's: the rank-1
 * change); wmax = max |wu| for tanh and sigmoid (the Taylor polynomial when every
 * |dz_m| is below GC_TAYLOR_DZ), NaN otherwise.  The output change goes to s->fdz,
 * or with the squares of the identity output straight into sum. */
static void fused_sample(const gc_net *net, net_scratch *s, size_t b, int mid, size_t P,
                         const double *d, const double *wu, double wmax, unsigned char *bad,
                         double sum[GC_FUSED_LANES])
{
	const net_fused *fu = &net->fused;
	size_t e = b * net->c->sizes[net->L - 1], nL = net->c->sizes[net->L];
	gc_fused_call call = {
		.kind = GC_FUSED_RANK1, .lanes = P, .d = d, .wu = wu, .wl = fu->wl,
		.nout = fu->nout, .dz = s->fdz, .bad = bad,
		.sum = fu->squares || fu->ce ? sum : NULL, .z0 = net->z[net->L] + b * nL,
		.t = net->c->targets + b * nL, .nl = nL,
		.p = fu->ce ? net->a[net->L] + b * nL : NULL, .lse = fu->ce ? net->lse + b : NULL,
	};
	double dmax = 0, dmin = INFINITY;

	if (!mid) {
		fu->k.run(&call);
		return;
	}
	/* every |dz_m| <= |d| max|wu| (rounding is monotone) */
	for (size_t p = 0; p < P; p++) {
		if (!bad[p])
			dmax = max_abs(dmax, d[p]);
		if (d[p] != 0 && fabs(d[p]) < dmin)
			dmin = fabs(d[p]);
	}
	call.kind = fu->kind;
	call.c0 = fu->c0 + e;
	call.c1 = fu->c1 + e;
	call.c2 = call.c3 = fu->c2 + e;
	call.ks = s->ks + e;
	call.nk = s->nks[b];
	if (dmax * wmax < GC_TAYLOR_DZ) {
		call.kind = GC_FUSED_TAYLOR;
		call.c0 = fu->tc[0] + e;
		call.c1 = fu->tc[1] + e;
		call.c2 = fu->tc[2] + e;
		call.c3 = fu->tc[3] + e;
		call.nonzero_known = dmin * s->least[b] >= GC_TAYLOR_NONZERO;
	}
	fu->k.run(&call);
}

/* The rank-1 moves of unit u of layer L-1 (its row wu of W_L) with the loss summed
 * in the kernel (the squares of the identity output, or the cross-entropy): every
 * sample in one call, each lane's sum into sum. */
static void fused_rank1_sums(const gc_net *net, net_scratch *s, size_t P, const double *wu,
                             unsigned char *bad, double sum[GC_FUSED_LANES])
{
	const net_fused *fu = &net->fused;
	gc_fused_call call = {
		.kind = GC_FUSED_RANK1, .lanes = P, .d = s->fd, .wu = wu, .wl = fu->wl,
		.nout = fu->nout, .bad = bad, .sum = sum, .z0 = net->z[net->L],
		.t = net->c->targets, .nl = net->c->sizes[net->L], .samples = net->B,
		.p = fu->ce ? net->a[net->L] : NULL, .lse = net->lse,
	};

	fu->k.run(&call);
}

/* How the kernel's activation step forms the change of a deep layer of activation f
 * (one lanes_layer() accepts). */
static gc_fused_kind lanes_kind(gc_act_kind f)
{
	switch (f) {
	case GC_ACT_TANH:
		return GC_FUSED_TANH;
	case GC_ACT_SIGMOID:
		return GC_FUSED_SIGMOID;
	case GC_ACT_RELU:
	case GC_ACT_LEAKY_RELU:
		return GC_FUSED_PIECEWISE;
	default:
		return GC_FUSED_IDENTITY;
	}
}

/* The deep path's lanes whose change may be carried on: nonzero, not bad. */
static void deep_active(size_t P, const double *d, const unsigned char *bad,
                        unsigned char *active)
{
	for (size_t p = 0; p < GC_FUSED_LANES; p++)
		active[p] = p < P && d[p] != 0 && !bad[p];
}

/* The units of ks (nk of them) whose change is nonzero in some good active lane, into
 * s->lks (row_times_weights() skips the others); a good lane where such a unit's
 * change is 0 is bad, since its reference path would skip that unit.  ks may be
 * s->lks itself.  Returns their number. */
static size_t deep_units(net_scratch *s, const unsigned *ks, size_t nk, const double *da,
                         const unsigned char *active, unsigned char *bad)
{
	size_t cnt = 0;

	for (size_t i = 0; i < nk; i++) {
		const double *row = da + (size_t)ks[i] * GC_FUSED_LANES;
		int any = 0;
		for (size_t p = 0; p < GC_FUSED_LANES; p++)
			any |= active[p] && !bad[p] && row[p] != 0;
		if (!any)
			continue;
		s->lks[cnt++] = ks[i];
		for (size_t p = 0; p < GC_FUSED_LANES; p++)
			if (active[p] && row[p] == 0)
				bad[p] = 1;
	}
	return cnt;
}

/* The units of deep layer l whose change can be nonzero in sample b: for relu those
 * active at the cached point (the others' change is 0 unless the move crosses the
 * kink, which makes the lane bad), otherwise every one.  Sets *ks; returns how many. */
static size_t deep_candidates(const gc_net *net, net_scratch *s, size_t l, size_t b,
                              const unsigned **ks)
{
	size_t n = net->c->sizes[l], cnt = 0;
	const double *z0 = net->z[l] + b * n;

	*ks = s->iota;
	if (net->c->act[l - 1].kind != GC_ACT_RELU)
		return n;
	for (size_t v = 0; v < n; v++)
		if (z0[v] > 0)
			s->lks[cnt++] = (unsigned)v;
	*ks = s->lks;
	return cnt;
}

/* Sample b's moves of a unit of layer m - 1 < L - 2 carried up to the output, every
 * lane at once, as moved_hidden() carries each: dz_m = d W_m[u, :] (scale_row()),
 * then layer by layer da (act_delta()) and the next dz (row_times_weights(), in the
 * kernel's layer function).  The output change goes to s->fdz; the lanes whose
 * reference path would go another way are set in bad. */
static void deep_sample(const gc_net *net, net_scratch *s, size_t b, size_t m, size_t P,
                        const double *d, const double *wu, unsigned char *bad)
{
	const gc_case *c = net->c;
	unsigned char active[GC_FUSED_LANES];
	double *dz = s->lz[0];

	deep_active(P, d, bad, active);
	for (size_t v = 0; v < c->sizes[m]; v++)
		for (size_t p = 0; p < GC_FUSED_LANES; p++)
			dz[v * GC_FUSED_LANES + p] = d[p] * wu[v];
	for (size_t l = m; l < net->L; l++) {
		const gc_activation *f = &c->act[l - 1];
		size_t n = c->sizes[l];
		double alpha = f->kind == GC_ACT_LEAKY_RELU ? f->alpha : 0.0;
		const unsigned *ks;
		size_t nk = deep_candidates(net, s, l, b, &ks);
		/* a change that vanished in some lane asks for the lanes' own lists */
		if (net->fused.k.delta(lanes_kind(f->kind), n, net->z[l] + b * n, net->a[l] + b * n,
		                       alpha, dz, s->lda, ks, nk, active, bad)) {
			nk = deep_units(s, ks, nk, s->lda, active, bad);
			ks = s->lks;
		}
		gc_layer_call call = {
			.da = s->lda, .nk = nk, .ks = ks, .w = net->wio[l + 1], .nout = c->sizes[l + 1],
			.dz = l + 1 == net->L ? s->fdz : dz == s->lz[0] ? s->lz[1] : s->lz[0],
		};
		net->fused.k.layer(&call);
		dz = call.dz;
	}
}

/* Moves P (<= GC_FUSED_LANES) of unit u of layer k (L-2: the kernel; L-1: the
 * rank-1 change dz_L = d W_L[u, :] of the output, as moved_hidden() forms it; below
 * L-2: the deep path): input j[p] (SIZE_MAX: the bias) by delta[p]; writes loss[p]
 * and kink[p]. */
static void fused_block(const gc_net *net, net_scratch *s, size_t k, size_t u, size_t P,
                        const size_t *idx, const size_t *j, const double *delta,
                        double *loss, int *kink)
{
	const gc_case *c = net->c;
	const net_fused *fu = &net->fused;
	size_t B = net->B, L = net->L, m = k + 1;
	size_t nin = c->sizes[k - 1], n = c->sizes[k], nm = c->sizes[m], nL = c->sizes[L];
	const gc_activation *fk = &c->act[k - 1], *fm = &c->act[m - 1], *fL = &c->act[L - 1];
	const double *x = net->a[k - 1], *wu = m < L ? net->wio[m] + u * nm : fu->wl + u * fu->nout;
	double wmax = net->wmax[m][u], sum[GC_FUSED_LANES];
	unsigned char bad[GC_FUSED_LANES] = { 0 }, changed[GC_FUSED_LANES] = { 0 };
	int smooth = m < L && (fm->kind == GC_ACT_TANH || fm->kind == GC_ACT_SIGMOID);
	int relu = m + 1 == L && fm->kind == GC_ACT_RELU, corners = gc_loss_has_corners(c);

	/* unit u's change per sample and lane (tanh, sigmoid below the series' limit and
	 * identity all lanes at once), and the lanes the kernel cannot do */
	int by_lanes = fk->kind == GC_ACT_TANH || fk->kind == GC_ACT_SIGMOID
	               || fk->kind == GC_ACT_IDENTITY;
	gc_fused_kind lanes_kind = fk->kind == GC_ACT_TANH ? GC_FUSED_TANH
	                         : fk->kind == GC_ACT_SIGMOID ? GC_FUSED_SIGMOID : GC_FUSED_IDENTITY;
	for (size_t b = 0; b < B; b++) {
		double z0 = net->z[k][b * n + u], a0 = net->a[k][b * n + u], dz[GC_FUSED_LANES];
		double *d = s->fd + b * GC_FUSED_LANES;
		for (size_t p = 0; p < GC_FUSED_LANES; p++)
			dz[p] = p >= P ? 0 : j[p] == SIZE_MAX ? delta[p] : delta[p] * x[b * nin + j[p]];
		if (by_lanes)
			fu->k.lanes(lanes_kind, a0, dz, d);
		for (size_t p = P; p < GC_FUSED_LANES; p++)
			d[p] = 0;
		for (size_t p = 0; p < P; p++) {
			if (act_has_kink(fk) && (z0 > 0) != (z0 + dz[p] > 0))
				bad[p] = 1;
			if (!by_lanes || !(fabs(dz[p]) < GC_SMALL_DZ))
				d[p] = act_delta_one(fk, z0, a0, dz[p]);
			if (d[p] == 0)
				continue;
			changed[p] = 1;
			double dmax = fabs(d[p]) * wmax;
			if ((smooth && !(dmax < GC_SMALL_DZ)) || (relu && !(dmax < fu->margin[b])))
				bad[p] = 1;
		}
	}
	size_t todo = 0;
	for (size_t p = 0; p < GC_FUSED_LANES; p++) {
		sum[p] = 0;
		todo += p < P && changed[p] && !bad[p];
	}
	int deep = m + 1 < L;
	if (todo && m + 1 == L)
		fused_lists(net, s, u);
	if (todo && m == L && (fu->squares || fu->ce)) {
		fused_rank1_sums(net, s, P, wu, bad, sum);
	} else if (todo) {
		double *zr = s->frow, *ar = s->frow + nL;
		for (size_t b = 0; b < B; b++) {
			const double *d = s->fd + b * GC_FUSED_LANES, *z0 = net->z[L] + b * nL;
			if (deep)
				deep_sample(net, s, b, m, P, d, wu, bad);
			else
				fused_sample(net, s, b, m < L, P, d, wu, wmax * (smooth ? 1 : NAN), bad,
				             sum);
			if (!deep && (fu->squares || fu->ce))
				continue;
			for (size_t p = 0; p < P; p++) {
				if (!changed[p] || bad[p])
					continue;
				if (net->lse) {
					for (size_t v = 0; v < nL; v++)
						zr[v] = d[p] == 0 ? 0.0 : s->fdz[v * GC_FUSED_LANES + p];
					sum[p] = gc_loss_ce_moved(c->targets + b * nL, z0, zr,
					                          net->a[L] + b * nL, net->lse[b], nL, sum[p]);
					continue;
				}
				if (d[p] == 0) {
					memcpy(zr, z0, nL * sizeof *zr);
				} else {
					for (size_t v = 0; v < nL; v++)
						zr[v] = z0[v] + s->fdz[v * GC_FUSED_LANES + p];
					if (act_has_kink(fL))
						for (size_t v = 0; v < nL; v++)
							if ((z0[v] > 0) != (zr[v] > 0))
								bad[p] = 1;
				}
				if (!fu->z_only)
					act_forward(fL, 1, nL, zr, ar);
				if (corners && gc_loss_corner_crossed_row(c, b, net->a[L] + b * nL, ar))
					bad[p] = 1;     /* moved_eval() reports the kink */
				sum[p] = loss_sample(net, b, zr, ar, sum[p]);
			}
		}
	}
	for (size_t p = 0; p < P; p++) {
		kink[p] = 0;
		if (bad[p]) {
			loss[p] = moved_eval(net, s, idx[p], delta[p], &kink[p]);
		} else {
			/* as moved_eval() adds the regularization term */
			double reg = net->reg_loss + gc_reg_change(c, j[p] == SIZE_MAX, c->theta[idx[p]],
			                                           delta[p], &kink[p]);
			loss[p] = (changed[p] ? loss_total(net, sum[p]) : net->data_loss) + reg;
		}
		s->fused_lanes += changed[p] && !bad[p];
	}
}

static int all_finite(const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return 0;
	return 1;
}

/* The doubles of net->cache: z[1..L] and a[1..L]. */
static size_t cache_cells(const gc_net *net)
{
	size_t cells = 0;

	for (size_t k = 1; k <= net->L; k++)
		cells += 2 * net->B * net->c->sizes[k];
	return cells;
}

/* The columns of the kernel's W_L: n_L rounded up to even, and for a cross-entropy the
 * kernel sums (n_L <= 10) to one pass's 2, 4 or 10. */
static size_t fused_nout(const gc_net *net)
{
	size_t nL = net->c->sizes[net->L];

	if (net->c->loss == GC_LOSS_CROSS_ENTROPY && nL <= 10)
		return nL <= 2 ? 2 : nL <= 4 ? 4 : 10;
	return nL + (nL & 1);
}

/* Whether the deep path can carry changes through layer l: tanh, sigmoid, relu, leaky
 * relu or identity (the kernel's activation step), its units countable by unsigned. */
static int lanes_layer(const gc_net *net, size_t l)
{
	gc_act_kind f = net->c->act[l - 1].kind;

	return (f == GC_ACT_TANH || f == GC_ACT_SIGMOID || f == GC_ACT_RELU
	        || f == GC_ACT_LEAKY_RELU || f == GC_ACT_IDENTITY)
	       && net->c->sizes[l] <= UINT_MAX;
}

/* The fused path's coefficients, lists and weights; k.run stays NULL (the
 * reference path) for nets it does not cover. */
static int fused_setup(gc_net *net)
{
	const gc_case *c = net->c;
	net_fused *fu = &net->fused;
	size_t L = net->L, B = net->B;

	fu->k = (gc_kernel){ 0 };
	fu->isa = GC_KERNEL_REFERENCE;
	fu->mid = fu->rank1 = fu->on = 0;
	if (L < 2 || !all_finite(c->theta, c->n_params) || !all_finite(net->cache, cache_cells(net))
	    || !all_finite(c->inputs, B * c->sizes[0]))
		return GC_OK;   /* NaN and infinity: the reference path's own handling */
	size_t m = L - 1, nm = c->sizes[m], nL = c->sizes[L];
	const gc_activation *f = &c->act[m - 1];
	fu->nout = fused_nout(net);
	fu->mid = L >= 3 && nm <= UINT_MAX;
	switch (f->kind) {
	case GC_ACT_IDENTITY:
		fu->kind = GC_FUSED_IDENTITY;
		break;
	case GC_ACT_TANH:
		fu->kind = GC_FUSED_TANH;
		break;
	case GC_ACT_SIGMOID:
		fu->kind = GC_FUSED_SIGMOID;
		break;
	case GC_ACT_RELU:
	case GC_ACT_LEAKY_RELU:
		fu->kind = GC_FUSED_PIECEWISE;
		break;
	default:
		fu->mid = 0;
		break;
	}
	/* (7 B nm + B, for the kernel) + nm nout doubles and B nm bytes: a few times the
	 * cached layers and weights, whose sizes were checked */
	size_t doubles, cells;
	if (mul_size(B, nm, &cells) || mul_size(cells, 7, &doubles)
	    || add_size(doubles, B + nm * fu->nout, &doubles) || doubles > SIZE_MAX / 9)
		return GC_ENOMEM;
	fu->mem = malloc(doubles * sizeof *fu->mem + B * nm);
	if (!fu->mem)
		return GC_ENOMEM;
	fu->wl = fu->mem;
	for (size_t i = 0; i < nm; i++)
		for (size_t v = 0; v < fu->nout; v++)
			fu->wl[i * fu->nout + v] = v < nL ? net->wio[L][i * nL + v] : 0.0;
	fu->squares = c->act[L - 1].kind == GC_ACT_IDENTITY
	              && (c->loss == GC_LOSS_SSE || c->loss == GC_LOSS_HALF_SSE
	                  || c->loss == GC_LOSS_MSE);
	fu->z_only = c->loss == GC_LOSS_CROSS_ENTROPY || c->loss == GC_LOSS_BINARY_CROSS_ENTROPY;
	fu->ce = net->lse && nL <= 10;
	fu->rank1 = fu->on = 1;
	fu->deep_from = L;
	if (fu->mid && L >= 4 && lanes_layer(net, L - 1) && lanes_layer(net, L - 2)) {
		size_t k = L - 3;
		while (k > 1 && lanes_layer(net, k))
			k--;
		fu->deep_from = k;
	}
	gc_fused_kernel(GC_KERNEL_AUTO, &fu->isa, &fu->k);
	if (!fu->mid)
		return GC_OK;
	fu->c0 = fu->wl + nm * fu->nout;
	fu->c1 = fu->c0 + B * nm;
	fu->c2 = fu->c1 + B * nm;
	for (int d = 0; d < 4; d++)
		fu->tc[d] = fu->c2 + (size_t)(d + 1) * B * nm;
	fu->margin = fu->tc[3] + B * nm;
	fu->live = (unsigned char *)(fu->margin + B);
	for (size_t b = 0; b < B; b++) {
		double margin = INFINITY;
		for (size_t i = 0; i < nm; i++) {
			size_t e = b * nm + i;
			double z = net->z[m][e], a = net->a[m][e], q = 1.0 - a;
			switch (fu->kind) {
			case GC_FUSED_TANH:
				/* tanh' = 1 - t^2 = p, tanh'' = -2tp, tanh''' = p(6t^2 - 2),
				 * tanh'''' = 8tp(2 - 3t^2) */
				fu->c0[e] = a;
				fu->c1[e] = (1.0 - a) * (1.0 + a);
				fu->tc[0][e] = fu->c1[e];
				fu->tc[1][e] = -a * fu->c1[e];
				fu->tc[2][e] = fu->c1[e] * (3.0 * a * a - 1.0) / 3.0;
				fu->tc[3][e] = a * fu->c1[e] * (2.0 - 3.0 * a * a) / 3.0;
				break;
			case GC_FUSED_SIGMOID:
				/* s' = s(1 - s) = p, s'' = p(1 - 2s), s''' = p(1 - 6s + 6s^2),
				 * s'''' = p(1 - 2s)(1 - 12s + 12s^2) */
				fu->c0[e] = q;
				fu->c1[e] = -a * q;
				fu->tc[0][e] = a * q;
				fu->tc[1][e] = a * q * (1.0 - 2.0 * a) / 2.0;
				fu->tc[2][e] = a * q * (1.0 - 6.0 * a + 6.0 * a * a) / 6.0;
				fu->tc[3][e] = a * q * (1.0 - 2.0 * a) * (1.0 - 12.0 * a + 12.0 * a * a) / 24.0;
				break;
			default:
				fu->c0[e] = z;
				fu->c1[e] = a;
				fu->c2[e] = z > 0 ? 1.0 : f->kind == GC_ACT_RELU ? 0.0 : f->alpha;
				break;
			}
			fu->live[e] = fu->kind == GC_FUSED_TANH || fu->kind == GC_FUSED_SIGMOID
			              ? fu->c1[e] != 0 : f->kind != GC_ACT_RELU || z > 0;
			if (f->kind == GC_ACT_RELU && !(z > 0) && !(-z >= margin))
				margin = -z;
		}
		fu->margin[b] = margin;
	}
	return GC_OK;
}

/* net->lse for a cross-entropy whose cached output rows and softmax are finite (moved
 * rows of others take the plain path, which gives their NaN or infinity). */
static int cross_entropy_setup(gc_net *net)
{
	size_t B = net->B, nL = net->c->sizes[net->L];

	if (net->c->loss != GC_LOSS_CROSS_ENTROPY || !all_finite(net->z[net->L], B * nL)
	    || !all_finite(net->a[net->L], B * nL))
		return GC_OK;
	net->lse = malloc(B * sizeof *net->lse);
	if (!net->lse)
		return GC_ENOMEM;
	for (size_t b = 0; b < B; b++)
		net->lse[b] = gc_logsumexp(net->z[net->L] + b * nL, nL);
	return GC_OK;
}

/* Per-worker buffers of the fused path. */
static int fused_scratch(const gc_net *net, net_scratch *s)
{
	size_t B = net->B, L = net->L;

	if (L < 2)
		return GC_OK;
	size_t nm = net->c->sizes[L - 1], nL = net->c->sizes[L], nout = fused_nout(net);
	if (net->maxw > SIZE_MAX / (4 * GC_FUSED_LANES * sizeof(double)))
		return GC_ENOMEM;
	s->ks = malloc(B * nm * sizeof *s->ks);
	s->nks = malloc(B * sizeof *s->nks);
	s->least = malloc(B * sizeof *s->least);
	s->fd = malloc((B * GC_FUSED_LANES + nout * GC_FUSED_LANES + 2 * nL
	                + 3 * net->maxw * GC_FUSED_LANES) * sizeof *s->fd);
	s->lks = malloc(2 * net->maxw * sizeof *s->lks);
	if (!s->ks || !s->nks || !s->least || !s->fd || !s->lks)
		return GC_ENOMEM;
	s->iota = s->lks + net->maxw;
	for (size_t v = 0; v < net->maxw; v++)
		s->iota[v] = (unsigned)v;
	s->fdz = s->fd + B * GC_FUSED_LANES;
	s->frow = s->fdz + nout * GC_FUSED_LANES;
	s->lz[0] = s->frow + 2 * nL;
	s->lz[1] = s->lz[0] + net->maxw * GC_FUSED_LANES;
	s->lda = s->lz[1] + net->maxw * GC_FUSED_LANES;
	s->ks_unit = SIZE_MAX;
	return GC_OK;
}

/* ---- creation ----------------------------------------------------------------- */

static int loss_output_ok(const gc_case *c)
{
	gc_act_kind out = c->act[c->n_layers - 1].kind;

	switch (c->loss) {
	case GC_LOSS_CROSS_ENTROPY:
		return out == GC_ACT_SOFTMAX;
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		return out == GC_ACT_SIGMOID;
	case GC_LOSS_LOGISTIC:
	case GC_LOSS_HINGE:
	case GC_LOSS_MULTICLASS_HINGE:
		return out == GC_ACT_IDENTITY;
	default:
		return 1;
	}
}

/* Checks the shapes and fills woff, boff, end and maxw; GC_EINVAL when the case
 * is inconsistent, GC_ENOMEM when its sizes overflow. */
static int net_layout(gc_net *net)
{
	const gc_case *c = net->c;
	size_t off = 0, cells;

	if (net->L < 1 || net->B < 1 || net->B > INT_MAX || !loss_output_ok(c))
		return GC_EINVAL;
	for (size_t k = 1; k <= net->L; k++) {
		size_t nin = c->sizes[k - 1], n = c->sizes[k];
		if (nin < 1 || n < 1 || nin > INT_MAX || n > INT_MAX)
			return GC_EINVAL;
		if (c->act[k - 1].kind == GC_ACT_SOFTMAX && k != net->L)
			return GC_EINVAL;
		net->woff[k] = off;
		if (mul_size(nin, n, &cells) || add_size(off, cells, &off))
			return GC_ENOMEM;
		net->boff[k] = off;
		if (c->bias && add_size(off, n, &off))
			return GC_ENOMEM;
		net->end[k] = off;
		if (n > net->maxw)
			net->maxw = n;
	}
	if (c->sizes[0] > INT_MAX || off != c->n_params)
		return GC_EINVAL;
	return GC_OK;
}

/* wmax[k][i]: the largest |weight| from unit i of layer k-1 into layer k, k >= 2. */
static int weights_max(gc_net *net)
{
	const gc_case *c = net->c;
	size_t cells = 0;

	net->wmax = calloc(net->L + 1, sizeof *net->wmax);
	for (size_t k = 2; k <= net->L; k++)
		cells += c->sizes[k - 1];
	net->wmax_mem = malloc((cells ? cells : 1) * sizeof *net->wmax_mem);
	if (!net->wmax || !net->wmax_mem)
		return GC_ENOMEM;
	double *p = net->wmax_mem;
	for (size_t k = 2; k <= net->L; k++) {
		size_t nin = c->sizes[k - 1], n = c->sizes[k];
		net->wmax[k] = p;
		for (size_t i = 0; i < nin; i++) {
			double m = 0;
			for (size_t v = 0; v < n; v++)
				m = max_abs(m, net->wio[k][i * n + v]);
			p[i] = m;
		}
		p += nin;
	}
	return GC_OK;
}

/* Points wio[k] at W_k read as (n_{k-1}, n_k) for k >= 2 (the layers the moved
 * path multiplies by): theta itself in the in_out layout, a transposed copy in
 * the out_in one; then fills wmax. */
static int weights_in_out(gc_net *net)
{
	const gc_case *c = net->c;
	size_t cells = 0;

	net->wio = calloc(net->L + 1, sizeof *net->wio);
	if (!net->wio)
		return GC_ENOMEM;
	if (c->layout == GC_LAYOUT_IN_OUT) {
		for (size_t k = 2; k <= net->L; k++)
			net->wio[k] = c->theta + net->woff[k];
		return weights_max(net);
	}
	for (size_t k = 2; k <= net->L; k++)
		cells += c->sizes[k - 1] * c->sizes[k];         /* <= n_params */
	net->wt = malloc((cells ? cells : 1) * sizeof *net->wt);
	if (!net->wt)
		return GC_ENOMEM;
	double *t = net->wt;
	for (size_t k = 2; k <= net->L; k++) {
		size_t nin = c->sizes[k - 1], n = c->sizes[k];
		const double *w = c->theta + net->woff[k];      /* (n, nin) */
		for (size_t i = 0; i < nin; i++)
			for (size_t v = 0; v < n; v++)
				t[i * n + v] = w[v * nin + i];
		net->wio[k] = t;
		t += nin * n;
	}
	return weights_max(net);
}

/* Allocates the cache of z[1..L], a[1..L], the workers' scratch and wio. */
static int net_alloc(gc_net *net)
{
	size_t cells = 0, layer, per, total;

	for (size_t k = 1; k <= net->L; k++) {
		if (mul_size(net->B, net->c->sizes[k], &layer) || add_size(cells, layer, &cells))
			return GC_ENOMEM;
	}
	if (mul_size(cells, 2, &cells) || mul_size(cells, sizeof(double), &total))
		return GC_ENOMEM;
	net->cache = malloc(total);
	if (!net->cache)
		return GC_ENOMEM;
	double *p = net->cache;
	net->a[0] = net->c->inputs;
	for (size_t k = 1; k <= net->L; k++) {
		net->z[k] = p;
		p += net->B * net->c->sizes[k];
		net->a[k] = p;
		p += net->B * net->c->sizes[k];
	}

	/* 4 B + 3 maxw + 4 B maxw, checked here once for scratch_doubles() */
	if (mul_size(net->B, net->maxw, &per) || mul_size(per, 4, &per)
	    || net->maxw > SIZE_MAX / 3 || add_size(per, 3 * net->maxw, &per)
	    || net->B > SIZE_MAX / 4 || add_size(per, 4 * net->B, &per)
	    || mul_size(per, sizeof(double), &total))
		return GC_ENOMEM;
	net->scratch = calloc(net->workers, sizeof *net->scratch);
	if (!net->scratch)
		return GC_ENOMEM;
	for (unsigned w = 0; w < net->workers; w++)
		if (scratch_alloc(net, &net->scratch[w]) != GC_OK
		    || fused_scratch(net, &net->scratch[w]) != GC_OK)
			return GC_ENOMEM;
	return weights_in_out(net);
}

int gc_net_create(const gc_case *c, unsigned workers, gc_net **out)
{
	gc_net *net = NULL;
	int rc = GC_ENOMEM;

	*out = NULL;
	if (!c || workers < 1 || c->n_layers < 1)
		return GC_EINVAL;
	net = calloc(1, sizeof *net);
	if (!net)
		goto out;
	net->c = c;
	net->L = c->n_layers;
	net->B = c->batch;
	net->workers = workers;
	net->woff = calloc(net->L + 1, sizeof *net->woff);
	net->boff = calloc(net->L + 1, sizeof *net->boff);
	net->end = calloc(net->L + 1, sizeof *net->end);
	net->z = calloc(net->L + 1, sizeof *net->z);
	net->a = calloc(net->L + 1, sizeof *net->a);
	if (!net->woff || !net->boff || !net->end || !net->z || !net->a)
		goto out;
	rc = net_layout(net);
	if (rc != GC_OK)
		goto out;
	rc = net_alloc(net);
	if (rc != GC_OK)
		goto out;
	for (size_t k = 1; k <= net->L; k++)
		layer_forward(net, c->theta, k, net->a[k - 1], net->z[k], net->a[k]);
	net->data_loss = loss_value(net, net->z[net->L], net->a[net->L]);
	net->reg_loss = gc_reg_value(c, c->theta);
	net->base_loss = net->data_loss + net->reg_loss;
	rc = cross_entropy_setup(net);
	if (rc == GC_OK)
		rc = fused_setup(net);
	if (rc != GC_OK)
		goto out;
	*out = net;
	net = NULL;
out:
	gc_net_free(net);
	return rc;
}

void gc_net_free(gc_net *net)
{
	if (!net)
		return;
	free(net->woff);
	free(net->boff);
	free(net->end);
	free(net->z);
	free(net->a);
	free(net->cache);
	free(net->lse);
	free(net->wio);
	free(net->wt);
	free(net->wmax);
	free(net->wmax_mem);
	free(net->fused.mem);
	if (net->scratch)
		for (unsigned w = 0; w < net->workers; w++)
			scratch_free(&net->scratch[w]);
	free(net->scratch);
	free(net);
}

double gc_net_base_loss(const gc_net *net)
{
	return net->base_loss;
}

double gc_net_reg_loss(const gc_net *net)
{
	return net->reg_loss;
}

/* ---- public evaluations ------------------------------------------------------- */

double gc_net_loss_at(const gc_net *net, const double *theta, double *output)
{
	net_scratch s;
	double loss;

	if (scratch_alloc(net, &s) != GC_OK)
		return NAN;
	loss = forward_full(net, theta, &s, output);
	scratch_free(&s);
	return loss;
}

double gc_net_fn(const double *theta, void *ctx)
{
	return gc_net_loss_at(ctx, theta, NULL);
}

double gc_net_moved_loss(void *ctx, unsigned worker, size_t i, double delta, int *kink)
{
	gc_net *net = ctx;

	if (worker >= net->workers)
		return NAN;
	return moved_eval(net, &net->scratch[worker], i, delta, kink);
}

void gc_net_moved_many(void *ctx, unsigned worker, size_t n, const size_t *idx,
                       const double *delta, double *loss, int *kink)
{
	gc_net *net = ctx;
	const net_fused *fu = &net->fused;
	size_t L = net->L, bl[GC_FUSED_LANES];
	net_scratch *s;

	if (worker >= net->workers) {
		for (size_t e = 0; e < n; e++)
			loss[e] = NAN;
		return;
	}
	s = &net->scratch[worker];
	for (size_t e = 0; e < n;) {
		param_loc p;
		if (!fu->on || locate(net, idx[e], &p) != 0
		    || !((p.k + 2 == L && fu->mid) || (p.k + 1 == L && fu->rank1)
		         || (p.k + 2 < L && p.k >= fu->deep_from))) {
			loss[e] = moved_eval(net, s, idx[e], delta[e], &kink[e]);
			e++;
			continue;
		}
		/* the following moves of the same unit, GC_FUSED_LANES at most */
		size_t P = 0;
		param_loc q = p;
		while (P < GC_FUSED_LANES && e + P < n && locate(net, idx[e + P], &q) == 0
		       && q.k == p.k && q.u == p.u) {
			bl[P] = q.bias ? SIZE_MAX : q.j;
			P++;
		}
		fused_block(net, s, p.k, p.u, P, idx + e, bl, delta + e, loss + e, kink + e);
		e += P;
	}
}

int gc_net_set_kernel(gc_net *net, gc_kernel_isa isa)
{
	net_fused *fu = &net->fused;

	if (!gc_fused_available(isa) || (!fu->rank1 && isa != GC_KERNEL_REFERENCE
	                                  && isa != GC_KERNEL_AUTO))
		return GC_EINVAL;
	fu->on = isa != GC_KERNEL_REFERENCE;
	if (fu->rank1) {
		fu->k = (gc_kernel){ 0 };
		if (fu->on)
			gc_fused_kernel(isa, &fu->isa, &fu->k);
	}
	return GC_OK;
}

size_t gc_net_fused_moves(const gc_net *net)
{
	size_t n = 0;

	for (unsigned w = 0; w < net->workers; w++)
		n += net->scratch[w].fused_lanes;
	return n;
}

gc_kernel_isa gc_net_kernel(const gc_net *net)
{
	return net->fused.on && net->fused.k.run ? net->fused.isa : GC_KERNEL_REFERENCE;
}

/* Kink flags of the moves +h and -h from the cached state of net. */
static int kink_either(const gc_net *net, size_t i, double h)
{
	net_scratch s;
	int up = 0, down = 0;

	if (scratch_alloc(net, &s) != GC_OK)
		return 0;
	moved_eval(net, &s, i, h, &up);
	moved_eval(net, &s, i, -h, &down);
	scratch_free(&s);
	return up || down;
}

int gc_net_kink(void *ctx, const double *theta, size_t i, double h)
{
	const gc_net *net = ctx;
	const gc_case *c = net->c;

	if (theta == c->theta || memcmp(theta, c->theta, c->n_params * sizeof *theta) == 0)
		return kink_either(net, i, h);

	/* Another point: a temporary net over a shallow copy of the case.  theta is
	 * only read, the cast just fits the case's field. */
	gc_case at = *c;
	gc_net *tmp = NULL;
	int kink = 0;
	at.theta = (double *)theta;
	if (gc_net_create(&at, 1, &tmp) == GC_OK)
		kink = kink_either(tmp, i, h);
	gc_net_free(tmp);
	return kink;
}

double gc_net_noise(const gc_net *net)
{
	const gc_case *c = net->c;
	size_t B = c->batch, m = c->sizes[c->n_layers], n = B * m, L = c->n_layers;
	double base = gc_net_base_loss(net), noise = 4 * DBL_EPSILON * fabs(base), sum = 0;
	double D = gc_loss_divisor(c);  /* the case's reduction (README "Conventions") */
	double *mag_theta = malloc(c->n_params * sizeof *mag_theta);
	double *mag_x = malloc(B * c->sizes[0] * sizeof *mag_x);
	double *y = malloc(n * sizeof *y), *mag = malloc(n * sizeof *mag);
	gc_activation *act = malloc(L * sizeof *act);
	gc_net *tmp = NULL;

	if (!mag_theta || !mag_x || !y || !mag || !act)
		goto out;
	for (size_t i = 0; i < c->n_params; i++)
		mag_theta[i] = fabs(c->theta[i]);
	for (size_t i = 0; i < B * c->sizes[0]; i++)
		mag_x[i] = fabs(c->inputs[i]);
	/* the magnitudes of the terms behind each output's pre-activation: a forward pass
	 * on |W|, |b|, |x| with an identity output layer */
	memcpy(act, c->act, L * sizeof *act);
	act[L - 1].kind = GC_ACT_IDENTITY;
	gc_case at = *c;
	at.theta = mag_theta;
	at.inputs = mag_x;
	at.act = act;
	at.loss = GC_LOSS_SSE;
	if (gc_net_create(&at, 1, &tmp) != GC_OK)
		goto out;
	gc_net_loss_at(net, c->theta, y);
	gc_net_loss_at(tmp, mag_theta, mag);
	/* each output carries an error of about eps * its terms' magnitudes; the loss moves
	 * by its derivative times that */
	for (size_t i = 0; i < n; i++) {
		double t = c->targets[i];
		switch (c->loss) {
		case GC_LOSS_SSE:
		case GC_LOSS_MSE: sum += 2 * fabs(y[i] - t) * (mag[i] + fabs(t)) / D; break;
		case GC_LOSS_HALF_SSE: sum += fabs(y[i] - t) * (mag[i] + fabs(t)) / D; break;
		case GC_LOSS_CROSS_ENTROPY: sum += fabs(t) * (1 + mag[i]) / D; break;
		default: sum += (1 + mag[i]) / D; break;
		}
	}
	noise += 4 * DBL_EPSILON * sum;
out:
	gc_net_free(tmp);
	free(mag_theta);
	free(mag_x);
	free(y);
	free(mag);
	free(act);
	return noise;
}

/* ---- backpropagation ---------------------------------------------------------- */

/* dW_k = dZ^T A_{k-1} (out_in) or A_{k-1}^T dZ (in_out); db_k = column sums of dZ. */
static void layer_param_grad(const gc_net *net, size_t k, const double *dz, double *grad)
{
	const gc_case *c = net->c;
	size_t B = net->B, nin = c->sizes[k - 1], n = c->sizes[k];
	gsl_matrix_const_view DZ = gsl_matrix_const_view_array(dz, B, n);
	gsl_matrix_const_view A = gsl_matrix_const_view_array(net->a[k - 1], B, nin);

	if (c->layout == GC_LAYOUT_OUT_IN) {
		gsl_matrix_view G = gsl_matrix_view_array(grad + net->woff[k], n, nin);
		gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &DZ.matrix, &A.matrix, 0.0, &G.matrix);
	} else {
		gsl_matrix_view G = gsl_matrix_view_array(grad + net->woff[k], nin, n);
		gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &A.matrix, &DZ.matrix, 0.0, &G.matrix);
	}
	if (!c->bias)
		return;
	double *db = grad + net->boff[k];
	memset(db, 0, n * sizeof *db);
	for (size_t b = 0; b < B; b++)
		for (size_t u = 0; u < n; u++)
			db[u] += dz[b * n + u];
}

/* da = dZ_k W_k (out_in) or dZ_k W_k^T (in_out): the gradient of a_{k-1}. */
static void layer_input_grad(const gc_net *net, size_t k, const double *dz, double *da)
{
	const gc_case *c = net->c;
	size_t B = net->B, rows, cols;

	weight_shape(net, k, &rows, &cols);
	gsl_matrix_const_view DZ = gsl_matrix_const_view_array(dz, B, c->sizes[k]);
	gsl_matrix_const_view W = gsl_matrix_const_view_array(c->theta + net->woff[k], rows, cols);
	gsl_matrix_view DA = gsl_matrix_view_array(da, B, c->sizes[k - 1]);

	gsl_blas_dgemm(CblasNoTrans, c->layout == GC_LAYOUT_OUT_IN ? CblasNoTrans : CblasTrans,
	               1.0, &DZ.matrix, &W.matrix, 0.0, &DA.matrix);
}

int gc_net_gradient(const gc_net *net, double *loss, double *grad)
{
	const gc_case *c = net->c;
	size_t L = net->L, B = net->B, cells;
	double *dz = NULL, *da = NULL;
	int rc = GC_ENOMEM;

	if (mul_size(B, net->maxw, &cells) || cells > SIZE_MAX / sizeof(double))
		goto out;
	dz = malloc(cells * sizeof *dz);
	da = malloc(cells * sizeof *da);
	if (!dz || !da)
		goto out;
	loss_backward(net, net->z[L], net->a[L], da, dz);
	for (size_t k = L; k >= 1; k--) {
		layer_param_grad(net, k, dz, grad);
		if (k == 1)
			break;
		layer_input_grad(net, k, dz, da);
		act_backward(&c->act[k - 2], B, c->sizes[k - 1], net->z[k - 1], net->a[k - 1], da, dz);
	}
	gc_reg_gradient(c, c->theta, grad);
	*loss = net->base_loss;
	rc = GC_OK;
out:
	free(dz);
	free(da);
	return rc;
}

/* ---- cost of the moved loss, for sharing work (README "On a cluster") ------------ */

/* Multiply-adds of gc_net_moved_loss per sample for a parameter of layer k < L: the
 * moved unit, the rank-1 change of layer k+1, each layer above carried through the
 * next one's weights, the output and the loss; for k = L the output and the loss. */
double gc_net_param_cost(const gc_case *c, size_t k)
{
	size_t L = c->n_layers;
	double cost = 1 + 2.0 * (double)c->sizes[L];

	if (k < L) {
		cost += (double)c->sizes[k + 1];
		for (size_t l = k + 1; l < L; l++)
			cost += (double)c->sizes[l] * (1.0 + (double)c->sizes[l + 1]);
	}
	return cost * (double)c->batch;
}
