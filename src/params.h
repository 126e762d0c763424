/* params.h - parameter-shaped values in JSON: {"weights": [W1, ...], "biases": [b1, ...]}
 * in a case's layout (README.md, "Case format"), read into and written from vectors laid
 * out like the case's theta. */
#ifndef GC_PARAMS_H
#define GC_PARAMS_H

#include <cjson/cJSON.h>
#include "case.h"
#include "jsonutil.h"

/* Reads the "weights" (L matrices W_k in c's layout) and "biases" (L flat vectors
 * b_k; required when c->bias, refused otherwise) of the object node into out, laid
 * out like c->theta.  The object may have no other keys (except "_...").  given:
 * when not NULL, either array may be absent and entries may be null (not given);
 * given[i] is set to 1 for each element read, 0 otherwise.  transposed: when not
 * NULL, (c->n_tensors) flags as for gc_json_read_matrix. */
int gc_params_read(gc_jctx *j, const cJSON *node, const gc_case *c, double *out,
                   unsigned char *given, unsigned char *transposed);

/* {"weights": [...], "biases": [...]} of a parameter-shaped vector v in c's layout
 * (biases only when c->bias), numbers exact; NULL when out of memory. */
cJSON *gc_params_to_json(const gc_case *c, const double *v);

#endif
