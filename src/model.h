/* model.h - `gradcheck check --model CMD`: check any program's gradient against finite
 * differences of its own loss, over the loss protocol (README, "Check any model"). */
#ifndef GC_MODEL_H
#define GC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "gradcheck.h"
#include "runner.h"

/* What a program announced in its first line. */
typedef struct gc_model {
	char *name;             /* "name", or made from the command */
	size_t n;               /* parameters */
	double *theta;          /* (n) */
	double *grad;           /* (n) the program's gradient */
	double loss;            /* the program's loss at theta */
	gc_tensor *tensors;     /* (n_tensors) slices of theta; names point into names */
	size_t n_tensors;
	char **names;           /* (n_tensors) owned */
	size_t batch, outputs;  /* optional, name scale factors in diagnoses (0: unknown) */
} gc_model;

void gc_model_free(gc_model *m);

/* Parses and validates a header line (README, "Check any model").  cmd makes the name
 * when the header has none.  Returns GC_OK, or GC_EINVAL (err: column in the header,
 * key path) or GC_ENOMEM. */
int gc_model_parse_header(const char *text, size_t len, const char *cmd,
                          const gc_case_limits *lim, gc_model **out, gc_error *err);

/* The +-1 direction of `v SEED EPS`: r_j = +1 when the top bit of the j-th (from 0)
 * output of splitmix64 seeded with SEED is 0, else -1. */
int gc_model_direction_sign(uint64_t seed, size_t j);

/* Checks the program run by `/bin/sh -c cmd` with ro's options: ro->check.jobs copies
 * side by side, ro->timeout per answer, ro->run_timeout for the whole run.  Every
 * problem with the program becomes an error outcome; returns GC_OK, or GC_ENOMEM when
 * memory ran out (the run ends).  out->model owns what the report's names point into. */
int gc_run_model(const char *cmd, const gc_run_options *ro, gc_case_outcome *out);

#endif
