/* case.h - network cases: the JSON case file of README "Case format", loaded and expanded. */
#ifndef GC_CASE_H
#define GC_CASE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "gradcheck.h"

typedef enum gc_act_kind {
	GC_ACT_IDENTITY, GC_ACT_SIGMOID, GC_ACT_TANH, GC_ACT_RELU, GC_ACT_LEAKY_RELU,
	GC_ACT_SOFTPLUS, GC_ACT_SOFTMAX
} gc_act_kind;

typedef struct gc_activation {
	gc_act_kind kind;
	double alpha;           /* leaky_relu slope (default 0.01) */
} gc_activation;

typedef enum gc_loss_kind {
	GC_LOSS_SSE, GC_LOSS_HALF_SSE, GC_LOSS_MSE, GC_LOSS_CROSS_ENTROPY,
	GC_LOSS_BINARY_CROSS_ENTROPY, GC_LOSS_LOGISTIC, GC_LOSS_HINGE, GC_LOSS_MULTICLASS_HINGE
} gc_loss_kind;

/* How the loss's terms are combined: sum, (1/B) sum, (1/(B n_L)) sum. */
typedef enum gc_reduction { GC_RED_SUM, GC_RED_BATCH_MEAN, GC_RED_MEAN } gc_reduction;

/* The case's "regularization" block: R = (l2 (1/2 if half) sum w^2 + l1 sum |w|) / divide_by
 * over every weight element, and over the biases too when biases. */
typedef struct gc_regularization {
	double l2, l1;          /* 0 when not given */
	int half;
	double divide_by;       /* D: 1, the batch size B, or a training-set size N */
	int divide_by_kind;     /* 0 "none", 1 "batch", 2 N */
	int biases;
} gc_regularization;

typedef enum gc_layout {
	GC_LAYOUT_OUT_IN,       /* W_k is (n_k, n_{k-1}), z = W a + b */
	GC_LAYOUT_IN_OUT        /* W_k is (n_{k-1}, n_k), z = a W + b */
} gc_layout;

/* Per-case overrides of the command-line options (the case's "check" block). */
typedef struct gc_case_check {
	int has_step, has_rtol, has_atol, has_method, has_precision;
	double step, rtol, atol;
	gc_method method;
	int single;             /* "precision": "single" (float32 code) */
} gc_case_check;

/* Published reference values (the case's "expect" block). */
typedef struct gc_case_expect {
	int has_loss;
	double loss;
	double *output;         /* (batch, n_L) or NULL */
	double *gradient;       /* (n_params) laid out like theta, or NULL */
	unsigned char *gradient_given;  /* (n_params) 1 where expect gave that element */
	double tolerance;       /* absolute; default 1e-6 */
} gc_case_expect;

typedef struct gc_case {
	char *name;             /* "name" or the file name without .json */
	char *path;             /* the file it was loaded from */
	size_t n_layers;        /* L: weight layers */
	size_t *sizes;          /* (L+1) n_0 .. n_L */
	gc_activation *act;     /* (L) */
	int bias;
	gc_layout layout;
	gc_loss_kind loss;
	gc_reduction reduction; /* the case's, or the loss's own */
	int reduction_given;
	gc_regularization reg;

	size_t n_params;
	double *theta;          /* (n_params) W1, b1, W2, b2, ... each W_k row-major in layout */
	gc_tensor *tensors;     /* (n_tensors) views into theta named "W1", "b1", ... */
	size_t n_tensors;
	char (*tensor_names)[16];       /* storage for tensors[t].name */

	size_t batch;           /* B */
	double *inputs;         /* (B, n_0) */
	double *targets;        /* (B, n_L); one-hot when the case gave labels */
	size_t *labels;         /* (B) class indices when the case gave "labels", else NULL */
	int columns;            /* "sample_layout": "columns": inputs n_0 x B, targets n_L x B */
	int bias_columns;       /* the case wrote its biases as columns [[b1], [b2], ...] */

	gc_case_check check;
	gc_case_expect expect;

	cJSON *json;            /* the parsed file, kept for resolve */
} gc_case;

/* Caps on what a case may ask for, checked before anything is allocated. */
typedef struct gc_case_limits {
	size_t max_file;        /* bytes of any JSON input (case, gradient file, --exec output) */
	size_t max_params;      /* parameters */
	size_t max_values;      /* batch x (n_0 + ... + n_L) activations */
} gc_case_limits;

/* 64 MiB, 2^26 parameters, 2^26 values. */
extern const gc_case_limits gc_case_default_limits;

/* Loads and validates the case at path, expanding init and data with GSL's
 * generators.  On success *out owns a new case (free with gc_case_free).  On
 * failure fills err (file, line:col where known, key path in the message) and
 * returns GC_EINVAL (a rejected case), GC_EIO (unreadable) or GC_ENOMEM. */
int gc_case_load(const char *path, gc_case **out, gc_error *err);

/* gc_case_load with other limits than gc_case_default_limits. */
int gc_case_load_limited(const char *path, const gc_case_limits *lim, gc_case **out,
                         gc_error *err);

/* Same, from a buffer; path is used for the name and the messages. */
int gc_case_parse(const char *text, size_t len, const char *path, gc_case **out, gc_error *err);

void gc_case_free(gc_case *c);

/* The resolved case: the original JSON without expect (the answers are never shown
 * to a program under test), with explicit params, inputs (B rows) and
 * targets (B rows), numbers written so that they read back exactly.  Returns a new
 * string (free with cJSON_free) or NULL when out of memory. */
char *gc_case_resolve(const gc_case *c);

/* The digest of the case's resolved content, expect included (README "Reports"): 16
 * lowercase hex digits of FNV-1a 64 over the file as parsed (written without spaces)
 * and the bits of the parameters, inputs and targets it resolved to, so that shards run
 * on different case contents are told apart (a check against mistakes, not against
 * forgery).  GC_OK or GC_ENOMEM. */
#define GC_CASE_DIGEST_LEN 16
int gc_case_digest(const gc_case *c, char out[GC_CASE_DIGEST_LEN + 1]);

/* Offsets of W_k and b_k (k from 1) in theta, and the shape of W_k in the layout. */
size_t gc_case_weight_offset(const gc_case *c, size_t k);
size_t gc_case_bias_offset(const gc_case *c, size_t k);
void gc_case_weight_shape(const gc_case *c, size_t k, size_t *rows, size_t *cols);

const char *gc_act_name(gc_act_kind k);
const char *gc_loss_name(gc_loss_kind k);
const char *gc_reduction_name(gc_reduction r);

#endif
