/* loss.c - the losses of a case and its regularization term (see loss.h and
 * README "Losses", "Conventions").
 *
 * Every data term is a raw sum over samples b and outputs j divided by the
 * case's reduction: 1 (sum), B (batch_mean) or B n_L (mean), and halved for
 * half_sse (the divisions are written as in version 0.1, so that the default
 * conventions give the same bits).  multiclass_hinge sums over j != y_b, y_b the sample's class (the
 * one-hot target's 1; labels are stored as one-hot targets). */
#include <math.h>
#include "loss.h"

gc_reduction gc_loss_default_reduction(gc_loss_kind k)
{
	switch (k) {
	case GC_LOSS_SSE:
	case GC_LOSS_HALF_SSE:
	case GC_LOSS_LOGISTIC:
		return GC_RED_SUM;
	case GC_LOSS_CROSS_ENTROPY:
	case GC_LOSS_HINGE:
	case GC_LOSS_MULTICLASS_HINGE:
		return GC_RED_BATCH_MEAN;
	case GC_LOSS_MSE:
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		return GC_RED_MEAN;
	}
	return GC_RED_SUM;
}

/* The reduction's divisor of the raw sum: 1, B or B n_L (a hand-built case
 * without reduction_given gets the loss's own). */
double gc_loss_divisor(const gc_case *c)
{
	double B = (double)c->batch, m = (double)c->sizes[c->n_layers];
	gc_reduction r = c->reduction_given ? c->reduction : gc_loss_default_reduction(c->loss);

	return r == GC_RED_BATCH_MEAN ? B : r == GC_RED_MEAN ? B * m : 1.0;
}


/* The class of sample row t (m one-hot entries): the index of the largest. */
static size_t class_of(const double *t, size_t m)
{
	size_t y = 0;

	for (size_t j = 1; j < m; j++)
		if (t[j] > t[y])
			y = j;
	return y;
}

/* logsumexp of the row z + dz (dz NULL: of z). */
static double logsumexp(const double *z, const double *dz, size_t m)
{
	double max = -INFINITY, s = 0;

	for (size_t j = 0; j < m; j++) {
		double x = dz ? z[j] + dz[j] : z[j];
		if (j == 0 || x > max)
			max = x;
	}
	for (size_t j = 0; j < m; j++)
		s += exp((dz ? z[j] + dz[j] : z[j]) - max);
	return max + log(s);
}

double gc_logsumexp(const double *z, size_t m)
{
	return logsumexp(z, NULL, m);
}

double gc_loss_ce_moved(const double *t, const double *z0, const double *dz, const double *p,
                        double lse, size_t m, double sum)
{
	double r = 0;
	int small = 1;

	for (size_t j = 0; j < m; j++) {
		small &= fabs(dz[j]) < GC_SMALL_DZ;
		r += p[j] * GC_EXPM1_SERIES(dz[j]);
	}
	lse = small ? lse + GC_LOG1P_SERIES(r) : logsumexp(z0, dz, m);
	for (size_t j = 0; j < m; j++)
		sum += t[j] * (lse - (z0[j] + dz[j]));
	return sum;
}

double gc_loss_sample(const gc_case *c, size_t b, const double *z, const double *a, double sum)
{
	size_t m = c->sizes[c->n_layers];
	const double *t = c->targets + b * m;

	switch (c->loss) {
	case GC_LOSS_SSE:
	case GC_LOSS_HALF_SSE:
	case GC_LOSS_MSE:
		for (size_t i = 0; i < m; i++)
			sum += (a[i] - t[i]) * (a[i] - t[i]);
		return sum;
	case GC_LOSS_CROSS_ENTROPY: {
		/* -t log softmax(z)_j = t (logsumexp(z) - z_j) */
		double lse = gc_logsumexp(z, m);
		for (size_t j = 0; j < m; j++)
			sum += t[j] * (lse - z[j]);
		return sum;
	}
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		/* log sigmoid(z) = -softplus(-z), log(1 - sigmoid(z)) = -softplus(z) */
		for (size_t i = 0; i < m; i++)
			sum += t[i] * gc_softplus(-z[i]) + (1.0 - t[i]) * gc_softplus(z[i]);
		return sum;
	case GC_LOSS_LOGISTIC:
		for (size_t i = 0; i < m; i++)
			sum += gc_softplus(-t[i] * a[i]);
		return sum;
	case GC_LOSS_HINGE:
		for (size_t i = 0; i < m; i++)
			sum += fmax(0.0, 1.0 - t[i] * a[i]);
		return sum;
	case GC_LOSS_MULTICLASS_HINGE: {
		size_t y = class_of(t, m);
		for (size_t j = 0; j < m; j++)
			if (j != y)
				sum += fmax(0.0, a[j] - a[y] + 1.0);
		return sum;
	}
	}
	return NAN;
}

double gc_loss_total(const gc_case *c, double sum)
{
	sum /= gc_loss_divisor(c);
	return c->loss == GC_LOSS_HALF_SSE ? 0.5 * sum : sum;
}

double gc_loss_value(const gc_case *c, const double *z, const double *a)
{
	size_t m = c->sizes[c->n_layers];
	double sum = 0;

	for (size_t b = 0; b < c->batch; b++)
		sum = gc_loss_sample(c, b, z + b * m, a + b * m, sum);
	return gc_loss_total(c, sum);
}

int gc_loss_backward(const gc_case *c, const double *z, const double *a, double *d)
{
	size_t B = c->batch, m = c->sizes[c->n_layers], n = B * m;
	const double *t = c->targets;
	double D = gc_loss_divisor(c), coef;

	(void)z;
	switch (c->loss) {
	case GC_LOSS_SSE:
	case GC_LOSS_HALF_SSE:
	case GC_LOSS_MSE:
		coef = (c->loss == GC_LOSS_HALF_SSE ? 1.0 : 2.0) / D;
		for (size_t i = 0; i < n; i++)
			d[i] = coef * (a[i] - t[i]);
		return 0;
	case GC_LOSS_CROSS_ENTROPY:
		for (size_t b = 0; b < B; b++) {
			double tsum = 0;
			for (size_t j = 0; j < m; j++)
				tsum += t[b * m + j];
			for (size_t j = 0; j < m; j++)
				d[b * m + j] = (a[b * m + j] * tsum - t[b * m + j]) / D;
		}
		return 1;
	case GC_LOSS_BINARY_CROSS_ENTROPY:
		coef = 1.0 / D;
		for (size_t i = 0; i < n; i++)
			d[i] = (a[i] - t[i]) * coef;
		return 1;
	case GC_LOSS_LOGISTIC:
		for (size_t i = 0; i < n; i++)
			d[i] = -t[i] * gc_sigmoid(-t[i] * a[i]) / D;
		return 1;
	case GC_LOSS_HINGE:
		for (size_t i = 0; i < n; i++)
			d[i] = 1.0 - t[i] * a[i] > 0 ? -t[i] / D : 0.0;
		return 0;
	case GC_LOSS_MULTICLASS_HINGE:
		coef = 1.0 / D;
		for (size_t b = 0; b < B; b++) {
			const double *ab = a + b * m;
			double *db = d + b * m;
			size_t y = class_of(t + b * m, m);
			for (size_t j = 0; j < m; j++)
				db[j] = 0.0;
			for (size_t j = 0; j < m; j++)
				if (j != y && ab[j] - ab[y] + 1.0 > 0) {
					db[j] += coef;
					db[y] -= coef;
				}
		}
		return 0;
	}
	return 0;
}

int gc_loss_has_corners(const gc_case *c)
{
	return c->loss == GC_LOSS_HINGE || c->loss == GC_LOSS_MULTICLASS_HINGE;
}

int gc_loss_corner_crossed_row(const gc_case *c, size_t b, const double *a0, const double *a)
{
	size_t m = c->sizes[c->n_layers];
	const double *t = c->targets + b * m;

	if (c->loss == GC_LOSS_HINGE) {
		for (size_t i = 0; i < m; i++)
			if ((1.0 - t[i] * a0[i] > 0) != (1.0 - t[i] * a[i] > 0))
				return 1;
		return 0;
	}
	if (c->loss != GC_LOSS_MULTICLASS_HINGE)
		return 0;
	size_t y = class_of(t, m);
	for (size_t j = 0; j < m; j++)
		if (j != y && (a0[j] - a0[y] + 1.0 > 0) != (a[j] - a[y] + 1.0 > 0))
			return 1;
	return 0;
}

int gc_loss_corner_crossed(const gc_case *c, const double *a0, const double *a)
{
	size_t m = c->sizes[c->n_layers];

	if (!gc_loss_has_corners(c))
		return 0;
	for (size_t b = 0; b < c->batch; b++)
		if (gc_loss_corner_crossed_row(c, b, a0 + b * m, a + b * m))
			return 1;
	return 0;
}

/* ---- regularization -------------------------------------------------------------- */

static int reg_active(const gc_case *c)
{
	return c->reg.l2 != 0 || c->reg.l1 != 0;
}

/* The l2 coefficient in front of w^2, with half and the divisor applied. */
static double l2_coef(const gc_case *c)
{
	return c->reg.l2 * (c->reg.half ? 0.5 : 1.0) / c->reg.divide_by;
}

static double l1_coef(const gc_case *c)
{
	return c->reg.l1 / c->reg.divide_by;
}

/* R at theta: the sums over every regularized element. */
static double reg_sum(const gc_case *c, const double *theta)
{
	double s2 = 0, s1 = 0;

	for (size_t t = 0; t < c->n_tensors; t++) {
		const gc_tensor *ts = &c->tensors[t];
		if (!ts->matrix && !c->reg.biases)
			continue;
		for (size_t i = ts->offset; i < ts->offset + ts->rows * ts->cols; i++) {
			s2 += theta[i] * theta[i];
			s1 += fabs(theta[i]);
		}
	}
	return l2_coef(c) * s2 + l1_coef(c) * s1;
}

double gc_reg_value(const gc_case *c, const double *theta)
{
	return reg_active(c) ? reg_sum(c, theta) : 0.0;
}

double gc_reg_change(const gc_case *c, int bias, double w, double delta, int *kink)
{
	if (!reg_active(c) || (bias && !c->reg.biases))
		return 0.0;
	double v = w + delta;
	if (kink && c->reg.l1 != 0 && ((w > 0) != (v > 0) || (w < 0) != (v < 0)))
		*kink = 1;
	/* (w + d)^2 - w^2 = d (2w + d), exact to rounding for small d */
	return l2_coef(c) * delta * (2.0 * w + delta) + l1_coef(c) * (fabs(v) - fabs(w));
}

void gc_reg_gradient(const gc_case *c, const double *theta, double *grad)
{
	if (!reg_active(c))
		return;
	double k2 = 2.0 * l2_coef(c), k1 = l1_coef(c);
	for (size_t t = 0; t < c->n_tensors; t++) {
		const gc_tensor *ts = &c->tensors[t];
		if (!ts->matrix && !c->reg.biases)
			continue;
		for (size_t i = ts->offset; i < ts->offset + ts->rows * ts->cols; i++) {
			double w = theta[i];
			grad[i] += k2 * w + k1 * (w > 0 ? 1.0 : w < 0 ? -1.0 : 0.0);
		}
	}
}
