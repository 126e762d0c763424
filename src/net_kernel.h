/* net_kernel.h - the fused kernel of the moved-loss hook (README "Speed").
 *
 * When a parameter of unit u in layer L-2 moves, every unit of layer m = L-1
 * changes and the output pre-activations change by (da_m) W_L.  The kernel takes
 * one sample and up to GC_FUSED_LANES moves of the same unit ("lanes", in vector
 * registers), each with its change d of unit u's activation, and computes, without
 * leaving registers, dz_m = d W_m[u, :], da_m = f(z_m + dz_m) - f(z_m) from the
 * cached per-unit coefficients, and the change dz_L = da_m W_L of the output
 * pre-activations.  Every operation is the one the reference path of net.c does,
 * in the same order, so the results are the same to the last bit. */
#ifndef GC_NET_KERNEL_H
#define GC_NET_KERNEL_H

#include <stddef.h>

#define GC_FUSED_LANES 16       /* most moves (lanes) per call */

/* How da_m is formed from dz and the coefficients c0, c1, c2 of a unit. */
typedef enum gc_fused_kind {
	GC_FUSED_IDENTITY,      /* da = dz */
	GC_FUSED_TANH,          /* c0 = t, c1 = (1 - t)(1 + t): tau = tanh(dz) by its series,
	                           da = tau c1 / (1 + c0 tau) */
	GC_FUSED_SIGMOID,       /* c0 = 1 - s, c1 = -s (1 - s): m = expm1(-dz) by its series,
	                           da = c1 m / (1 + c0 m) */
	GC_FUSED_PIECEWISE,     /* relu, leaky relu: c0 = z, c1 = f(z), c2 = slope at z:
	                           da = c2 (c0 + dz) - c1; a lane whose c0 + dz lies on the
	                           other side of 0 is bad */
	GC_FUSED_TAYLOR,        /* tanh, sigmoid when every |dz| < GC_TAYLOR_DZ: c0..c3 are
	                           the derivatives f1(z), f2(z)/2, f3(z)/6, f4(z)/24 and
	                           da = dz (c0 + dz (c1 + dz (c2 + dz c3))): no division */
	GC_FUSED_RANK1          /* the moved unit is in layer m = L-1 itself: dz_L = d wu,
	                           wu its row of W_L (nout long); ks, c0..c3 unused */
} gc_fused_kind;

/* Below this |dz| the degree-4 Taylor polynomial of tanh or sigmoid is exact to
 * 3e-20 relative (the next term is at most (2/15) dz^5 for tanh), far below the
 * rounding of the result (README "Speed"). */
#define GC_TAYLOR_DZ 2e-5

/* The instruction-set versions of the kernel (one binary carries all). */
typedef enum gc_kernel_isa {
	GC_KERNEL_AUTO,         /* the best one the processor runs */
	GC_KERNEL_REFERENCE,    /* no kernel: every move by the per-element path */
	GC_KERNEL_GENERIC,      /* plain x86-64 (SSE2) or any other processor */
	GC_KERNEL_AVX2,
	GC_KERNEL_AVX512
} gc_kernel_isa;

/* One sample's call. */
typedef struct gc_fused_call {
	gc_fused_kind kind;
	size_t lanes;                   /* 1..GC_FUSED_LANES */
	const double *d;                /* (GC_FUSED_LANES) unit u's change per lane; 0 past lanes */
	const double *wu;               /* (n_m) W_m[u, :] */
	const double *c0, *c1, *c2, *c3;        /* (n_m) layer m's coefficients, this sample */
	const unsigned *ks;             /* units of layer m whose change can be nonzero, */
	size_t nk;                      /* in increasing order */
	const double *wl;               /* (n_m, nout) W_L as (n_m, n_L), zero columns past n_L */
	size_t nout;                    /* n_L rounded up to even */
	int nonzero_known;              /* GC_FUSED_TAYLOR: the caller has shown that no lane's
	                                   da_m rounds to 0 for a listed unit, so the kernel
	                                   does not test it (see bad) */
	double *dz;                     /* out: (nout, GC_FUSED_LANES) dz_L[v] of lane p at
	                                   dz[v * GC_FUSED_LANES + p]; not written when sum is set */
	double *sum;                    /* (GC_FUSED_LANES) or NULL: the identity output with a
	                                   sum of squares; each lane's terms ((z0 + dz_L) - t)^2
	                                   of this sample are added to sum[p], v = 0 .. nl-1 in
	                                   order, as gc_loss_sample() adds them */
	const double *p;                /* (nl) or NULL: with sum, the cross-entropy of the
	                                   output, p its cached softmax: each lane's terms of
	                                   this sample (gc_loss_ce_moved() with lse) are added
	                                   to sum[p] instead of the squares; a lane with a
	                                   |dz_L| not below GC_SMALL_DZ is bad.  One pass
	                                   must hold every output: nout is 2, 4 or 10 */
	const double *lse;              /* with p: the cached logsumexp of this sample */
	const double *z0, *t;           /* (nl) with sum: the cached output and the targets */
	size_t nl;                      /* with sum: n_L */
	size_t samples;                 /* GC_FUSED_RANK1 with sum: this many samples in one
	                                   call, sample b's d at d + b GC_FUSED_LANES, its z0,
	                                   t and p at + b nl, its lse at + b (0 counts as 1) */
	unsigned char *bad;             /* out: (lanes) set for a lane whose da_m was 0 for a
	                                   listed unit or crossed 0 (the reference path redoes it) */
} gc_fused_call;

typedef void (*gc_fused_fn)(const gc_fused_call *c);

/* One layer of the deep path, for moves of units below layer L-2: the change
 * dz = da W of a layer's pre-activations for the GC_FUSED_LANES moves of one sample,
 * from the change da of the layer below, over the units whose change is nonzero in
 * the order row_times_weights() of net.c adds them (by fours, then one by one), so
 * that each lane is the reference path's to the last bit. */
typedef struct gc_layer_call {
	const double *da;               /* (n_in, GC_FUSED_LANES): unit k's change in lane p
	                                   at da[k GC_FUSED_LANES + p] */
	const unsigned *ks;             /* the units whose change is nonzero, increasing */
	size_t nk;
	const double *w;                /* (n_in, nout) row-major */
	size_t nout;
	double *dz;                     /* out: (nout, GC_FUSED_LANES), output v of lane p at
	                                   dz[v GC_FUSED_LANES + p] */
} gc_layer_call;

typedef void (*gc_layer_fn)(const gc_layer_call *c);

/* The deep path's activation step: da = f(z0 + dz) - a0 for the n units of a layer
 * in every lane (dz, da (n, GC_FUSED_LANES) as in gc_layer_call; z0, a0 (n) the
 * cached pre-activations and activations), kind GC_FUSED_TANH or GC_FUSED_SIGMOID
 * (the lanes function's operations), GC_FUSED_PIECEWISE (relu, leaky relu with slope
 * alpha below 0: slope (z0 + dz) - a0) or GC_FUSED_IDENTITY (da = dz).  An active lane
 * the reference path would take another way is set in bad: tanh and sigmoid with a
 * |dz| not below GC_SMALL_DZ, relu with a z0 + dz on the other side of 0 (a kink),
 * and a NaN.  Returns nonzero when the da of a unit of the list ks (nk units, those
 * whose change the caller expects nonzero) is 0 in an active lane. */
typedef int (*gc_delta_fn)(gc_fused_kind kind, size_t n, const double *z0, const double *a0,
                           double alpha, const double *dz, double *da, const unsigned *ks,
                           size_t nk, const unsigned char *active, unsigned char *bad);

/* The moved unit's own change in one sample, all GC_FUSED_LANES lanes at once:
 * d[p] = f(z + dz[p]) - a for a = f(z) by the addition identity of kind (tanh,
 * sigmoid; the one net.c uses below its series limit, in the same operations) or
 * d = dz (identity).  The caller redoes the lanes whose dz is not small. */
typedef void (*gc_lanes_fn)(gc_fused_kind kind, double a, const double *dz, double *d);

/* One instruction-set version's functions. */
typedef struct gc_kernel {
	gc_fused_fn run;
	gc_lanes_fn lanes;
	gc_layer_fn layer;
	gc_delta_fn delta;
} gc_kernel;

/* The functions of isa's version (AUTO: the best available) in *k: 0, or -1 (*k all
 * NULL) when this processor cannot run it or isa is GC_KERNEL_REFERENCE.  *chosen
 * (if not NULL) names the version. */
int gc_fused_kernel(gc_kernel_isa isa, gc_kernel_isa *chosen, gc_kernel *k);

/* Nonzero when this processor runs isa's version. */
int gc_fused_available(gc_kernel_isa isa);

#endif
