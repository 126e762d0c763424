/* net.c - the MLP harness: forward pass, backpropagation, and the incremental
 * "loss with theta[i] moved" hook.
 *
 * Every activation matrix is batch-major, row-major: z[k], a[k] are (B, n_k).
 * Parameters are read in place from theta through gsl_matrix views; theta is
 * never written.  The moved-loss hook recomputes only what a change of one
 * parameter touches: one column of its layer, a rank-1 update of the next
 * layer, full products above that. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include "net.h"

/* Per-worker buffers of the moved-loss hook (and of the full forward pass). */
typedef struct net_scratch {
	double *zc, *ac;        /* (B) moved unit: new pre-activations, new activations */
	double *z0c, *a0c;      /* (B) moved unit: cached pre-activations, activations */
	double *wcol;           /* (maxw) weights from the moved unit to the next layer */
	double *z[2], *a[2];    /* (B, maxw) ping-pong layers above the moved one */
} net_scratch;

struct gc_net {
	const gc_case *c;
	size_t L, B, maxw;      /* layers, batch, widest of n_1..n_L */
	size_t *woff, *boff;    /* (L+1) offsets of W_k, b_k in theta, k = 1..L */
	size_t *end;            /* (L+1) end[k]: first index past layer k's parameters */
	double **z, **a;        /* (L+1) cached layers at c->theta; a[0] = c->inputs */
	double *cache;          /* storage of z[1..L] and a[1..L] */
	double base_loss;
	unsigned workers;
	net_scratch *scratch;   /* (workers) */
	double *scratch_mem;
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

static double sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

/* log(1 + e^z) without overflow or loss of small values. */
static double softplus(double z)
{
	if (z > 0)
		return z + log1p(exp(-z));
	return log1p(exp(z));
}

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
			a[i] = sigmoid(z[i]);
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
			a[i] = softplus(z[i]);
		break;
	case GC_ACT_SOFTMAX:
		softmax_rows(rows, cols, z, a);
		break;
	}
}

/* a = f(z) for pre-activations z that moved (by a small amount) from cached
 * values z0 with activations a0.  Every activation of the moved path goes
 * through here, so a shortcut from (z0, a0) belongs here; for now it is the
 * plain activation. */
static void act_moved(const gc_activation *f, size_t rows, size_t cols,
                      const double *z0, const double *a0, const double *z, double *a)
{
	(void)z0;
	(void)a0;
	act_forward(f, rows, cols, z, a);
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
			dz[i] = da[i] * sigmoid(z[i]);
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

/* Nonzero when some z and z0 lie on different sides of 0 (z > 0 against z <= 0). */
static int signs_differ(const double *z0, const double *z, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((z0[i] > 0) != (z[i] > 0))
			return 1;
	return 0;
}

/* ---- losses ----------------------------------------------------------------- */

/* The loss of output layer (z, a), both (B, m), against c->targets (SPEC 1). */
static double loss_value(const gc_net *net, const double *z, const double *a)
{
	const gc_case *c = net->c;
	size_t B = net->B, m = c->sizes[net->L], n = B * m;
	const double *t = c->targets;
	double sum = 0;

	switch (c->loss) {
	case GC_LOSS_SSE:
	case GC_LOSS_HALF_SSE:
	case GC_LOSS_MSE:
		for (size_t i = 0; i < n; i++)
			sum += (a[i] - t[i]) * (a[i] - t[i]);
		if (c->loss == GC_LOSS_HALF_SSE)
			return 0.5 * sum;
		if (c->loss == GC_LOSS_MSE)
			return sum / ((double)B * (double)m);
		return sum;
	case GC_LOSS_CROSS_ENTROPY:
		/* -t log softmax(z)_j = t (logsumexp(z) - z_j) */
		for (size_t b = 0; b < B; b++) {
			const double *zb = z + b * m, *tb = t + b * m;
			double max = zb[0], s = 0;
			for (size_t j = 1; j < m; j++)
				if (zb[j] > max)
					max = zb[j];
			for (size_t j = 0; j < m; j++)
				s += exp(zb[j] - max);
			double lse = max + log(s);
			for (size_t j = 0; j < m; j++)
				sum += tb[j] * (lse - zb[j]);
		}
		return sum / (double)B;
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		/* log sigmoid(z) = -softplus(-z), log(1 - sigmoid(z)) = -softplus(z) */
		for (size_t i = 0; i < n; i++)
			sum += t[i] * softplus(-z[i]) + (1.0 - t[i]) * softplus(z[i]);
		return sum / ((double)B * (double)m);
	case GC_LOSS_LOGISTIC:
		for (size_t i = 0; i < n; i++)
			sum += softplus(-t[i] * a[i]);
		return sum;
	}
	return NAN;
}

/* dz = dL/dz of the output layer; da is (B, m) scratch.  The losses that require
 * an output activation are fused with it. */
static void loss_backward(const gc_net *net, const double *z, const double *a,
                          double *da, double *dz)
{
	const gc_case *c = net->c;
	size_t B = net->B, m = c->sizes[net->L], n = B * m;
	const double *t = c->targets;
	double coef;

	switch (c->loss) {
	case GC_LOSS_SSE:
	case GC_LOSS_HALF_SSE:
	case GC_LOSS_MSE:
		coef = c->loss == GC_LOSS_HALF_SSE ? 1.0
		     : c->loss == GC_LOSS_SSE ? 2.0 : 2.0 / ((double)B * (double)m);
		for (size_t i = 0; i < n; i++)
			da[i] = coef * (a[i] - t[i]);
		act_backward(&c->act[net->L - 1], B, m, z, a, da, dz);
		break;
	case GC_LOSS_CROSS_ENTROPY:
		for (size_t b = 0; b < B; b++) {
			double tsum = 0;
			for (size_t j = 0; j < m; j++)
				tsum += t[b * m + j];
			for (size_t j = 0; j < m; j++)
				dz[b * m + j] = (a[b * m + j] * tsum - t[b * m + j]) / (double)B;
		}
		break;
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		coef = 1.0 / ((double)B * (double)m);
		for (size_t i = 0; i < n; i++)
			dz[i] = (a[i] - t[i]) * coef;
		break;
	case GC_LOSS_LOGISTIC:
		for (size_t i = 0; i < n; i++)
			dz[i] = -t[i] * sigmoid(-t[i] * a[i]);
		break;
	}
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

/* Doubles in one net_scratch: 4 B + maxw + 4 B maxw (overflow checked at create). */
static size_t scratch_doubles(const gc_net *net)
{
	return 4 * net->B + net->maxw + 4 * net->B * net->maxw;
}

static void scratch_init(const gc_net *net, double *mem, net_scratch *s)
{
	size_t B = net->B, big = B * net->maxw;

	s->zc = mem;
	s->ac = s->zc + B;
	s->z0c = s->ac + B;
	s->a0c = s->z0c + B;
	s->wcol = s->a0c + B;
	s->z[0] = s->wcol + net->maxw;
	s->a[0] = s->z[0] + big;
	s->z[1] = s->a[0] + big;
	s->a[1] = s->z[1] + big;
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
	return loss_value(net, s->z[cur], s->a[cur]);
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
 * (every row for softmax), evaluate the loss. */
static double moved_output(const gc_net *net, net_scratch *s, size_t u)
{
	const gc_activation *f = &net->c->act[net->L - 1];
	size_t B = net->B, m = net->c->sizes[net->L];
	double *z = s->z[0], *a = s->a[0];

	memcpy(z, net->z[net->L], B * m * sizeof *z);
	for (size_t b = 0; b < B; b++)
		z[b * m + u] = s->zc[b];
	if (f->kind == GC_ACT_SOFTMAX) {
		act_moved(f, B, m, net->z[net->L], net->a[net->L], z, a);
	} else {
		memcpy(a, net->a[net->L], B * m * sizeof *a);
		act_moved(f, B, 1, s->z0c, s->a0c, s->zc, s->ac);
		for (size_t b = 0; b < B; b++)
			a[b * m + u] = s->ac[b];
	}
	return loss_value(net, z, a);
}

/* The moved unit u is in hidden layer k: rank-1 update of layer k+1 by the change
 * of unit u's activations, full layers above, the loss. */
static double moved_hidden(const gc_net *net, net_scratch *s, size_t k, size_t u, int *kink)
{
	const gc_case *c = net->c;
	const double *theta = c->theta;
	size_t B = net->B, nk = c->sizes[k], m = k + 1, nm = c->sizes[m];
	double *d = s->ac;
	int changed = 0;

	act_moved(&c->act[k - 1], B, 1, s->z0c, s->a0c, s->zc, s->ac);
	for (size_t b = 0; b < B; b++) {
		d[b] -= s->a0c[b];
		changed |= d[b] != 0;
	}
	if (!changed)
		return net->base_loss;

	const double *w = theta + net->woff[m];
	for (size_t v = 0; v < nm; v++)
		s->wcol[v] = c->layout == GC_LAYOUT_OUT_IN ? w[v * nk + u] : w[u * nm + v];
	const double *z0 = net->z[m];
	double *z = s->z[0];
	for (size_t b = 0; b < B; b++)
		for (size_t v = 0; v < nm; v++)
			z[b * nm + v] = z0[b * nm + v] + d[b] * s->wcol[v];
	act_moved(&c->act[m - 1], B, nm, z0, net->a[m], z, s->a[0]);
	if (!*kink && act_has_kink(&c->act[m - 1]))
		*kink = signs_differ(z0, z, B * nm);

	size_t cur = 0;
	for (size_t l = m + 1; l <= net->L; l++) {
		size_t next = cur ^ 1;
		layer_forward(net, theta, l, s->a[cur], s->z[next], s->a[next]);
		if (!*kink && act_has_kink(&c->act[l - 1]))
			*kink = signs_differ(net->z[l], s->z[next], B * c->sizes[l]);
		cur = next;
	}
	return loss_value(net, s->z[cur], s->a[cur]);
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
		s->zc[b] = s->z0c[b] + (p.bias ? delta : delta * ap[b * nin + p.j]);
	}
	if (act_has_kink(&c->act[p.k - 1]))
		kinked = signs_differ(s->z0c, s->zc, B);
	if (p.k == net->L)
		loss = moved_output(net, s, p.u);
	else
		loss = moved_hidden(net, s, p.k, p.u, &kinked);
	if (kink)
		*kink = kinked;
	return loss;
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

/* Allocates the cache of z[1..L], a[1..L] and the workers' scratch. */
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

	/* 4 B + maxw + 4 B maxw, checked here once for scratch_doubles() */
	if (mul_size(net->B, net->maxw, &per) || mul_size(per, 4, &per)
	    || add_size(per, net->maxw, &per) || net->B > SIZE_MAX / 4
	    || add_size(per, 4 * net->B, &per) || mul_size(per, net->workers, &total)
	    || mul_size(total, sizeof(double), &total))
		return GC_ENOMEM;
	net->scratch_mem = malloc(total);
	net->scratch = calloc(net->workers, sizeof *net->scratch);
	if (!net->scratch_mem || !net->scratch)
		return GC_ENOMEM;
	for (unsigned w = 0; w < net->workers; w++)
		scratch_init(net, net->scratch_mem + (size_t)w * per, &net->scratch[w]);
	return GC_OK;
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
	net->base_loss = loss_value(net, net->z[net->L], net->a[net->L]);
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
	free(net->scratch);
	free(net->scratch_mem);
	free(net);
}

double gc_net_base_loss(const gc_net *net)
{
	return net->base_loss;
}

/* ---- public evaluations ------------------------------------------------------- */

double gc_net_loss_at(const gc_net *net, const double *theta, double *output)
{
	net_scratch s;
	double *mem = malloc(scratch_doubles(net) * sizeof *mem);
	double loss;

	if (!mem)
		return NAN;
	scratch_init(net, mem, &s);
	loss = forward_full(net, theta, &s, output);
	free(mem);
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

/* Kink flags of the moves +h and -h from the cached state of net. */
static int kink_either(const gc_net *net, size_t i, double h)
{
	net_scratch s;
	double *mem = malloc(scratch_doubles(net) * sizeof *mem);
	int up = 0, down = 0;

	if (!mem)
		return 0;
	scratch_init(net, mem, &s);
	moved_eval(net, &s, i, h, &up);
	moved_eval(net, &s, i, -h, &down);
	free(mem);
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
	*loss = net->base_loss;
	rc = GC_OK;
out:
	free(dz);
	free(da);
	return rc;
}
