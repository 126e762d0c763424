/* net.h - the MLP harness: forward and backward passes of a gc_case's network,
 * and the incremental "loss with theta[i] moved" hook the checking core uses. */
#ifndef GC_NET_H
#define GC_NET_H

#include <stddef.h>
#include "case.h"
#include "net_kernel.h"

/* Forward state of the network at the case's theta, plus per-worker scratch.
 * Borrows the case: the case must outlive the net and its theta must not change. */
typedef struct gc_net gc_net;

/* Creates a net for c with scratch for `workers` concurrent workers (>= 1) and
 * runs the forward pass at c->theta.  Returns GC_OK, GC_ENOMEM, or GC_EINVAL for
 * a case the loader should have refused (a size over INT_MAX, which BLAS cannot
 * take, softmax before the last layer, a loss without its output activation). */
int gc_net_create(const gc_case *c, unsigned workers, gc_net **out);
void gc_net_free(gc_net *net);

/* The loss at c->theta (cached by gc_net_create). */
double gc_net_base_loss(const gc_net *net);

/* The regularization term's part of gc_net_base_loss (0 without one). */
double gc_net_reg_loss(const gc_net *net);

/* Forward pass at an arbitrary theta (laid out like c->theta); writes the network
 * output (B, n_L) to output when not NULL.  Allocates its own scratch, so it is
 * safe from any thread.  Returns NaN when out of memory. */
double gc_net_loss_at(const gc_net *net, const double *theta, double *output);

/* Analytic backpropagation at c->theta: writes the loss and the gradient
 * (n_params, laid out like theta).  Returns GC_OK or GC_ENOMEM. */
int gc_net_gradient(const gc_net *net, double *loss, double *grad);

/* gc_moved_fn: the loss with theta[i] moved by delta, recomputed from the layer
 * of parameter i upward; *kink (if not NULL) is set when a relu / leaky_relu
 * pre-activation of any sample changes sign.  ctx is the gc_net. */
double gc_net_moved_loss(void *ctx, unsigned worker, size_t i, double delta, int *kink);

/* gc_moved_many_fn: the losses of n moves, each exactly (bit for bit) what
 * gc_net_moved_loss gives; moves of the parameters of one unit of layer L-2, in
 * a row, share the fused kernel (README "Speed").  ctx is the gc_net. */
void gc_net_moved_many(void *ctx, unsigned worker, size_t n, const size_t *idx,
                       const double *delta, double *loss, int *kink);

/* Chooses the kernel version of gc_net_moved_many (created with GC_KERNEL_AUTO):
 * GC_KERNEL_REFERENCE computes every move by gc_net_moved_loss.  Returns GC_OK, or
 * GC_EINVAL when this processor cannot run isa or the net has no fused path (then
 * only REFERENCE and AUTO are accepted).  Not while moves are being evaluated. */
int gc_net_set_kernel(gc_net *net, gc_kernel_isa isa);

/* The kernel version gc_net_moved_many uses (GC_KERNEL_REFERENCE: none). */
gc_kernel_isa gc_net_kernel(const gc_net *net);

/* How many moves the fused kernel has computed so far (all workers; not counting
 * those redone by the reference path or left unchanged). */
size_t gc_net_fused_moves(const gc_net *net);

/* gc_fn: the loss at theta by a full forward pass.  ctx is the gc_net. */
double gc_net_fn(const double *theta, void *ctx);

/* The rounding error of one evaluation of the loss, estimated from the magnitudes of
 * the terms behind each output (a forward pass on |W|, |b|, |x|): for the squared-error
 * losses through the cancellation in y - t, for the log losses as the absolute error
 * of a log (README.md, "Tolerances"); for gc_problem.noise. */
double gc_net_noise(const gc_net *net);

/* gc_kink_fn: whether moving theta[i] by +-h crosses a relu kink.  ctx is the gc_net. */
int gc_net_kink(void *ctx, const double *theta, size_t i, double h);

/* The work of one gc_net_moved_loss call for a parameter of layer k (1..L), in
 * multiply-adds: the gc_problem cost of the tensors W_k and b_k. */
double gc_net_param_cost(const gc_case *c, size_t k);

#endif
