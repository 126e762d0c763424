/* gradfile.h - gradient files (README "Check your own implementation"):
 *   {"loss": L, "gradients": {"weights": [G_1 ... G_L], "biases": [g_1 ... g_L]}} */
#ifndef GC_GRADFILE_H
#define GC_GRADFILE_H

#include <stddef.h>
#include "case.h"
#include "error.h"

/* Parses a gradient file for case c.  grad: (c->n_params) filled like theta.
 * *has_loss / *loss from the optional "loss".  transposed: (c->n_tensors) flags, set
 * where a weight matrix was given in the transposed shape (a non-square W given as
 * cols x rows is accepted, flattened row-major as given, and flagged, so the checker
 * can diagnose a transposed gradient).  Errors: missing gradients/weights, wrong count
 * of tensors, wrong shape (the message names the tensor), non-numbers, NaN/inf,
 * biases given when the case has none or missing when it has them, unknown keys
 * (except "_..." keys).  err gets file/line/col as for cases.  Returns GC_OK, GC_EINVAL,
 * GC_EIO (unreadable) or GC_ENOMEM. */
int gc_gradfile_parse(const char *text, size_t len, const char *path, const gc_case *c,
                      double *grad, unsigned char *transposed, int *has_loss, double *loss,
                      gc_error *err);

/* The same, reading the file at path (at most max_file bytes). */
int gc_gradfile_load(const char *path, size_t max_file, const gc_case *c, double *grad,
                     unsigned char *transposed, int *has_loss, double *loss, gc_error *err);

/* The gradient file text of grad for case c, every number written so that it reads
 * back exactly (a non-finite value is written as null).  A new string (free with
 * cJSON_free), NULL when out of memory. */
char *gc_gradfile_print(const gc_case *c, double loss, const double *grad);

#endif
