/* loss.h - the loss of a case as a separate piece (README "Losses" and
 * "Conventions"): the data term with its reduction, its derivative at the
 * output, the corners of the hinge losses, and the regularization term.  The
 * network harness (net.c) calls these; nothing here knows about layers. */
#ifndef GC_LOSS_H
#define GC_LOSS_H

#include <math.h>
#include <stddef.h>
#include "case.h"
#include "series.h"

/* The logistic function, without overflow for either sign of z (the output
 * activation and the logistic loss share it). */
static inline double gc_sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

/* log(1 + e^z) without overflow or loss of small values. */
static inline double gc_softplus(double z)
{
	if (z > 0)
		return z + log1p(exp(-z));
	return log1p(exp(z));
}

/* The reduction a loss uses when the case does not say (README "Conventions"). */
gc_reduction gc_loss_default_reduction(gc_loss_kind k);

/* The reduction's divisor of the raw sum: 1, B or B n_L. */
double gc_loss_divisor(const gc_case *c);

/* The data term of c's loss for the output layer (z, a), both (B, n_L), against
 * c->targets, with c's reduction: gc_loss_total() of the gc_loss_sample() sums. */
double gc_loss_value(const gc_case *c, const double *z, const double *a);

/* Adds the raw loss terms of sample b (output row z, a, both (n_L)) to sum. */
double gc_loss_sample(const gc_case *c, size_t b, const double *z, const double *a, double sum);

/* logsumexp of one row of m pre-activations, as the cross-entropy forms it. */
double gc_logsumexp(const double *z, size_t m);

/* Adds the cross-entropy terms of a sample whose output pre-activations z0 moved by
 * dz to sum, as gc_loss_sample() adds those of z0 + dz, from the cached p =
 * softmax(z0) and lse = logsumexp(z0) when every |dz_j| < GC_SMALL_DZ:
 * logsumexp(z0 + dz) = lse + log1p(sum_j p_j expm1(dz_j)), by the series of series.h,
 * without a call to exp() or log().  Larger changes take gc_logsumexp(z0 + dz). */
double gc_loss_ce_moved(const double *t, const double *z0, const double *dz, const double *p,
                        double lse, size_t m, double sum);

/* The data term from the raw sum over every sample (the reduction applied). */
double gc_loss_total(const gc_case *c, double sum);

/* The derivative of the data term at the output.  Writes dL/dz to d and returns 1
 * for the losses fused with their output activation (cross_entropy,
 * binary_cross_entropy, logistic); otherwise writes dL/da and returns 0. */
int gc_loss_backward(const gc_case *c, const double *z, const double *a, double *d);

/* Nonzero when the loss has corners (hinge, multiclass_hinge). */
int gc_loss_has_corners(const gc_case *c);

/* Nonzero when some hinge term is active at one of the outputs a0, a (both
 * (B, n_L)) and inactive at the other: a step between them crossed a corner. */
int gc_loss_corner_crossed(const gc_case *c, const double *a0, const double *a);

/* The same for sample b alone (rows a0, a of n_L). */
int gc_loss_corner_crossed_row(const gc_case *c, size_t b, const double *a0, const double *a);

/* The regularization term R of c at theta (0 without a regularization block). */
double gc_reg_value(const gc_case *c, const double *theta);

/* R's change when one parameter moves from w to w + delta; bias: whether it is a
 * bias.  Sets *kink when an l1 term's step crosses w = 0 (kink may be NULL). */
double gc_reg_change(const gc_case *c, int bias, double w, double delta, int *kink);

/* Adds dR/dtheta to grad (laid out like theta). */
void gc_reg_gradient(const gc_case *c, const double *theta, double *grad);

#endif
