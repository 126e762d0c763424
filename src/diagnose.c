/* diagnose.c - name the pattern behind a failing tensor (factor, sign, zero, transpose,
 * a regularization term), patterns across tensors (one loss scale, the layer where an
 * error enters, a weight product, single-precision rounding).  A diagnosis names only
 * failing tensors (README "Diagnoses"). */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GC_LOOSE 10.0           /* diagnoses allow 10x rtol: a pattern, not a pass */
#define GC_FACTOR_TOL 1e-4      /* relative tolerance when naming a factor */
#define GC_LOOSE_ABS 1e-6       /* diagnoses' absolute tolerance, x the tensor's largest */
#define GC_SINGLE_NOISE 1e-4    /* failures below this x the tensor's largest gradient
                                   look like float32 rounding (about 840 FLT_EPSILON) */

static const char *const diag_kind_names[] = {
	[GC_DIAG_SCALE] = "scale", [GC_DIAG_SIGN] = "sign", [GC_DIAG_ZERO] = "zero",
	[GC_DIAG_TRANSPOSE] = "transpose", [GC_DIAG_ENTRY_LAYER] = "entry_layer",
	[GC_DIAG_REGULARIZATION] = "regularization", [GC_DIAG_LOSS_SCALE] = "loss_scale",
	[GC_DIAG_PRECISION] = "precision", [GC_DIAG_WEIGHT_PRODUCT] = "weight_product"
};

#define N_DIAG_KINDS (sizeof diag_kind_names / sizeof *diag_kind_names)

const char *gc_diag_kind_name(gc_diag_kind k)
{
	return (size_t)k < N_DIAG_KINDS ? diag_kind_names[k] : "unknown";
}

int gc_diag_kind_parse(const char *s, gc_diag_kind *out)
{
	for (size_t i = 0; i < N_DIAG_KINDS && s; i++) {
		if (strcmp(diag_kind_names[i], s) == 0) {
			*out = (gc_diag_kind)i;
			return GC_OK;
		}
	}
	return GC_EINVAL;
}

/* The view of one tensor the pattern tests read. */
typedef struct gc_view {
	const gc_element *e;    /* (size) the tensor's elements */
	const double *theta;    /* (size) the tensor's parameters, or NULL */
	size_t size, rows, cols;
	double atol, rtol;      /* rtol already loosened */
} gc_view;

static int close_to(double a, double n, double atol, double rtol)
{
	return fabs(a - n) <= atol + rtol * fmax(fabs(a), fabs(n));
}

static int usable(const gc_element *e)
{
	return e->verdict == GC_ELEM_PASS || e->verdict == GC_ELEM_FAIL;
}

static const char *name_of(const gc_tensor *t)
{
	return t->name ? t->name : "?";
}

static int is_zero(const gc_view *v)
{
	int moves = 0;
	for (size_t k = 0; k < v->size; k++) {
		if (!usable(&v->e[k]))
			continue;
		if (v->e[k].analytic != 0)
			return 0;
		moves |= fabs(v->e[k].numeric) > v->atol;
	}
	return moves;
}

/* Every usable a is close to k * n, and some n is beyond atol. */
static int is_multiple(const gc_view *v, double k)
{
	int moves = 0;
	for (size_t i = 0; i < v->size; i++) {
		const gc_element *e = &v->e[i];
		if (!usable(e))
			continue;
		if (!close_to(e->analytic, k * e->numeric, v->atol, v->rtol))
			return 0;
		moves |= fabs(e->numeric) > v->atol;
	}
	return moves;
}

/* The least-squares factor k in a = k n; 0 when n is all zero. */
static double fit_factor(const gc_view *v)
{
	double an = 0, nn = 0;
	for (size_t i = 0; i < v->size; i++) {
		if (!usable(&v->e[i]))
			continue;
		an += v->e[i].analytic * v->e[i].numeric;
		nn += v->e[i].numeric * v->e[i].numeric;
	}
	return nn > 0 ? an / nn : 0;
}

static int is_scaled(const gc_view *v, double *factor)
{
	double k = fit_factor(v);
	if (k == 0 || !isfinite(k))
		return 0;
	if (fabs(k - 1) <= GC_FACTOR_TOL || fabs(k + 1) <= GC_FACTOR_TOL)
		return 0;
	*factor = k;
	return is_multiple(v, k);
}

/* a[c*rows + r] matches n[r*cols + c] for every usable pair, and a is not simply n. */
static int is_transposed(const gc_view *v)
{
	size_t pairs = 0;
	int differs = 0;
	if (v->rows < 2 || v->cols < 2)
		return 0;
	for (size_t r = 0; r < v->rows; r++) {
		for (size_t c = 0; c < v->cols; c++) {
			const gc_element *ea = &v->e[c * v->rows + r];
			const gc_element *en = &v->e[r * v->cols + c];
			if (!usable(ea) || !usable(en))
				continue;
			if (!close_to(ea->analytic, en->numeric, v->atol, v->rtol))
				return 0;
			pairs++;
		}
	}
	for (size_t k = 0; k < v->size; k++)
		if (usable(&v->e[k]) &&
		    !close_to(v->e[k].analytic, v->e[k].numeric, v->atol, v->rtol))
			differs = 1;
	return pairs > 0 && differs;
}

/* Significant digits that show k apart from 1 and -1 ("1.0003", never "1"). */
static int factor_digits(double k)
{
	double off = fmin(fabs(k - 1), fabs(k + 1));
	int digits = 3;
	while (digits < 17 && off > 0 && off * pow(10, digits - 1) < 10 * fabs(k))
		digits++;
	return digits;
}

static double same(double x)
{
	return x;
}

static double sign_of(double x)
{
	return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
}

/* a - n = c term(theta) for every usable element (a regularization term's gradient
 * off by c theta for L2, by c sign(theta) for L1), with c term(theta) beyond atol
 * somewhere and explaining the differences to 1% (not noise that happens to fit);
 * c to *c. */
static int is_offset_by(const gc_view *v, double (*term)(double), double *c)
{
	double dt = 0, tt = 0, big = 0, rest = 0;
	int moves = 0;

	if (!v->theta)
		return 0;
	for (size_t i = 0; i < v->size; i++) {
		if (!usable(&v->e[i]))
			continue;
		dt += (v->e[i].analytic - v->e[i].numeric) * term(v->theta[i]);
		tt += term(v->theta[i]) * term(v->theta[i]);
	}
	if (!(tt > 0) || dt == 0 || !isfinite(dt / tt))
		return 0;
	*c = dt / tt;
	for (size_t i = 0; i < v->size; i++) {
		const gc_element *e = &v->e[i];
		double off = *c * term(v->theta[i]);
		if (!usable(e))
			continue;
		if (!close_to(e->analytic, e->numeric + off, v->atol, v->rtol))
			return 0;
		moves |= fabs(off) > v->atol;
		big = fmax(big, fabs(off));
		rest = fmax(rest, fabs(e->analytic - e->numeric - off));
	}
	return moves && rest <= 0.01 * big;
}

/* A weight matrix: flagged so, or named W... (callers building tensors by hand). */
static int is_weight(const gc_tensor *t)
{
	return t->matrix || (t->name && (t->name[0] == 'W' || t->name[0] == 'w'));
}

/* Nonzero when every weight matrix of r is square (a transposed gradient then has
 * the right shape, and only weight_layout tells the layouts apart). */
static int all_square(const gc_result *r)
{
	int any = 0;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		if (!is_weight(ts))
			continue;
		if (ts->rows != ts->cols)
			return 0;
		any = 1;
	}
	return any;
}

/* Names k when it is a factor a student would recognise; "" otherwise. */
static const char *factor_reason(double k, size_t batch, size_t outputs)
{
	struct { double value; const char *why; } known[] = {
		{ (double)batch, " (batch: multiplied by the batch size; is the loss's 1/batch "
		                 "missing from the gradient?)" },
		{ 1.0 / (double)batch, " (1/batch: divided by the batch size once too often?)" },
		{ (double)outputs, " (outputs: multiplied by the number of outputs; is the loss's "
		                   "1/outputs missing from the gradient?)" },
		{ 1.0 / (double)outputs, " (1/outputs: divided by the number of outputs once "
		                         "too often?)" },
		{ (double)batch * (double)outputs, " (batch x outputs: is the mean's "
		                                   "1/(batch x outputs) missing from the gradient?)" },
		{ 1.0 / ((double)batch * (double)outputs), " (1/(batch x outputs): divided by the "
		                                           "number of values averaged once too often?)" },
		{ 2.0, " (2)" },
		{ 0.5, " (1/2)" },
	};
	int known_b = batch > 1, known_m = outputs > 1;
	int usable_entry[] = { known_b, known_b, known_m, known_m, known_b && known_m,
	                       known_b && known_m, 1, 1 };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (usable_entry[i] && fabs(k - known[i].value) <= GC_FACTOR_TOL * known[i].value)
			return known[i].why;
	return "";
}

static void set_common(gc_diagnosis *d, const gc_tensor *t, gc_diag_kind kind)
{
	memset(d, 0, sizeof *d);
	snprintf(d->tensor, sizeof d->tensor, "%s", name_of(t));
	d->kind = kind;
	d->layer = t->layer;
}

/* The view of tensor tr, or 0 when it has a non-finite checked value or no elements. */
static int make_view(const gc_result *r, const gc_tensor_result *tr, gc_view *v)
{
	const gc_tensor *t = &tr->tensor;
	v->e = r->elements + t->offset;
	v->theta = r->theta ? r->theta + t->offset : NULL;
	v->size = t->rows * t->cols;
	v->rows = t->rows;
	v->cols = t->cols;
	v->atol = r->atol_used;
	v->rtol = GC_LOOSE * r->rtol_used;
	double big = 0;
	for (size_t k = 0; k < v->size; k++) {
		if (usable(&v->e[k]) && (!isfinite(v->e[k].analytic) || !isfinite(v->e[k].numeric)))
			return 0;
		if (usable(&v->e[k]))
			big = fmax(big, fabs(v->e[k].numeric));
	}
	/* a pattern, not a pass: elements far below the tensor's largest may carry the
	 * finite difference's noise */
	v->atol = fmax(v->atol, GC_LOOSE_ABS * big);
	return v->size > 0;
}

/* Writes the first pattern that fits tr into *d; returns 0 when none fits. */
static int diagnose_tensor(const gc_result *r, const gc_tensor_result *tr,
                           size_t batch, size_t outputs, gc_diagnosis *d)
{
	const char *name = name_of(&tr->tensor);
	gc_view v;
	double k = 0;

	if (!make_view(r, tr, &v))
		return 0;
	if (is_zero(&v)) {
		set_common(d, &tr->tensor, GC_DIAG_ZERO);
		snprintf(d->detail, sizeof d->detail, "%s's gradient is all zero although the loss "
		         "changes with %s: is its gradient never computed, never stored, or "
		         "cleared after backpropagation?", name, name);
	} else if (is_multiple(&v, -1.0)) {
		set_common(d, &tr->tensor, GC_DIAG_SIGN);
		snprintf(d->detail, sizeof d->detail, "%s has the wrong sign: its gradient is the "
		         "negative of the true one (a difference taken the wrong way round, such as "
		         "target - output for output - target?)", name);
	} else if (is_scaled(&v, &k)) {
		set_common(d, &tr->tensor, GC_DIAG_SCALE);
		d->factor = k;
		snprintf(d->detail, sizeof d->detail, "%s is %.*g \xc3\x97 the true gradient%s", name,
		         factor_digits(k), k, factor_reason(k, batch, outputs));
	} else if (is_transposed(&v)) {
		set_common(d, &tr->tensor, GC_DIAG_TRANSPOSE);
		if (all_square(r))
			snprintf(d->detail, sizeof d->detail, "%s is transposed: the gradient has the "
			         "other layout's [row,col] order; every layer of this network is "
			         "square, so check that the case's \"weight_layout\" (out_in: "
			         "W[out][in], in_out: W[in][out]) is the one your code uses", name);
		else
			snprintf(d->detail, sizeof d->detail, "%s is transposed: the gradient has the "
			         "other layout's [row,col] order", name);
	} else if (is_offset_by(&v, same, &k)) {
		set_common(d, &tr->tensor, GC_DIAG_REGULARIZATION);
		d->factor = k;
		snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus %.4g "
		         "\xc3\x97 %s: a regularization term's gradient is off (the gradient of "
		         "\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is 2\xce\xbbw, of "
		         "\xce\xbb/2\xc2\xb7\xce\xa3w\xc2\xb2 it is \xce\xbbw)", name, k, name);
	} else if (is_offset_by(&v, sign_of, &k)) {
		set_common(d, &tr->tensor, GC_DIAG_REGULARIZATION);
		d->factor = k;
		d->l1 = 1;
		snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus %.4g "
		         "\xc3\x97 sign(%s): an L1 term's gradient is off (the gradient of "
		         "\xce\xbc\xc2\xb7\xce\xa3|w| is \xce\xbc\xc2\xb7sign(w))", name, k, name);
	} else {
		return 0;
	}
	return 1;
}

/* The first tensor of layer L, preferring a weight ("W...") for the product hint. */
static const gc_tensor *layer_tensor(const gc_result *r, int layer, int prefer_weight)
{
	const gc_tensor *first = NULL;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		if (ts->layer != layer)
			continue;
		if (!prefer_weight)
			return ts;
		if (ts->name && (ts->name[0] == 'W' || ts->name[0] == 'w'))
			return ts;
		if (!first)
			first = ts;
	}
	return first;
}

/* Per layer 1..max: 1 when every tensor of the layer fails, 0 when every one
 * passes, -1 when they disagree.  NULL when out of memory. */
static int *layer_states(const gc_result *r, int max)
{
	int *fail = calloc((size_t)max + 1, sizeof *fail), *pass = calloc((size_t)max + 1, sizeof *pass);
	if (!fail || !pass) {
		free(fail);
		free(pass);
		return NULL;
	}
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		if (tr->tensor.layer <= 0)
			continue;
		if (tr->failed > 0)
			fail[tr->tensor.layer]++;
		else
			pass[tr->tensor.layer]++;
	}
	for (int l = 1; l <= max; l++)
		fail[l] = fail[l] && pass[l] ? -1 : fail[l] ? 1 : 0;
	free(pass);
	return fail;
}

/* Adds the entry-layer diagnosis when every tensor of layers 1..k fails and every
 * tensor of layers k+1..max passes (k = max: every layer is wrong, so the error
 * enters at the output).  A single wrong element is no pattern: it is reported by
 * index alone. */
static int diagnose_entry(const gc_result *r, gc_diagnosis *d)
{
	int max = 0, k = 0;
	if (r->failed < 2)
		return 0;
	for (size_t t = 0; t < r->n_tensors; t++)
		if (r->tensors[t].tensor.layer > max)
			max = r->tensors[t].tensor.layer;
	if (max < 2)
		return 0;
	int *state = layer_states(r, max);
	if (!state)
		return -1;
	while (k < max && state[k + 1] == 1)
		k++;
	int fits = k >= 1;
	for (int l = k + 1; fits && l <= max; l++)
		if (state[l] != 0)
			fits = 0;
	free(state);
	if (!fits)
		return 0;

	const gc_tensor *entry = layer_tensor(r, k, 0);
	set_common(d, entry, GC_DIAG_ENTRY_LAYER);
	d->layer = k;
	if (k == max) {
		snprintf(d->detail, sizeof d->detail, "every layer is wrong, so the error enters at "
		         "the output (layer %d): check the loss derivative dL/d\xc5\xb7 and the "
		         "output activation's derivative", k);
		return 1;
	}
	const gc_tensor *next = layer_tensor(r, k + 1, 1);
	char above[64], product[48];
	if (k + 1 == max)
		snprintf(above, sizeof above, "layer %d is right", max);
	else
		snprintf(above, sizeof above, "layers %d..%d are right", k + 1, max);
	if (next && next->name)
		snprintf(product, sizeof product, "%s\xe1\xb5\x80", next->name);
	else
		snprintf(product, sizeof product, "W%d\xe1\xb5\x80", k + 1);
	snprintf(d->detail, sizeof d->detail, "the error enters when propagating into layer %d: "
	         "%s; check layer %d's activation derivative or the product with %s",
	         k, above, k, product);
	return 1;
}

/* Whether diagnoses d[0..n) already say something about tensor name. */
static int has_diagnosis(const gc_diagnosis *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].tensor, name) == 0)
			return 1;
	return 0;
}

/* The bias tensor of weight tensor w's layer, or NULL. */
static const gc_tensor_result *bias_of(const gc_result *r, const gc_tensor *w)
{
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		if (ts != w && ts->layer == w->layer && !is_weight(ts))
			return &r->tensors[t];
	}
	return NULL;
}

/* W_k fails, b_k was checked and passes, and nothing else explains W_k: b_k's
 * gradient is delta_k summed over the batch, so delta_k is right and the product
 * with the layer's input is wrong.  Adds such diagnoses to d from *nd on. */
static void diagnose_products(const gc_result *r, gc_diagnosis *d, size_t *nd)
{
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		const gc_tensor *w = &tr->tensor;
		const gc_tensor_result *b;
		if (!is_weight(w) || w->layer <= 0 || tr->failed < 2 || !(b = bias_of(r, w))
		    || b->failed > 0 || b->checked == 0 || has_diagnosis(d, *nd, name_of(w)))
			continue;
		set_common(&d[*nd], w, GC_DIAG_WEIGHT_PRODUCT);
		if (w->layer == 1)
			snprintf(d[*nd].detail, sizeof d[*nd].detail, "%s passes, so \xce\xb4%d (the "
			         "gradient at layer 1's pre-activations) is right; %s = \xce\xb4%d "
			         "\xc3\x97 the inputs is wrong: check the product with the inputs "
			         "(its transpose, its sum over the samples, which array is used)",
			         name_of(&b->tensor), w->layer, name_of(w), w->layer);
		else
			snprintf(d[*nd].detail, sizeof d[*nd].detail, "%s passes, so \xce\xb4%d (the "
			         "gradient at layer %d's pre-activations) is right; %s = \xce\xb4%d "
			         "\xc3\x97 a%d is wrong: check the product with the layer's input "
			         "a%d (its transpose, its sum over the samples, whether it is the "
			         "activation and not the pre-activation)", name_of(&b->tensor),
			         w->layer, w->layer, name_of(w), w->layer, w->layer - 1, w->layer - 1);
		(*nd)++;
	}
}

/* When every tensor fails and each is the same factor k x its true gradient (a
 * scale diagnosis, or a tensor too small for one whose elements fit k), they
 * become one loss_scale diagnosis in d[0] and *nd is 1; returns whether it did. */
static int merge_loss_scale(const gc_result *r, gc_diagnosis *d, size_t *nd)
{
	size_t scaled = 0;

	if (*nd < 2 || !r->elements)
		return 0;
	for (size_t i = 0; i < *nd; i++)
		if (d[i].kind != GC_DIAG_SCALE
		    || fabs(d[i].factor - d[0].factor) > GC_FACTOR_TOL * fabs(d[0].factor))
			return 0;
	double k = d[0].factor;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		gc_view v;
		if (tr->failed == 0)
			return 0;
		if (has_diagnosis(d, *nd, name_of(&tr->tensor))) {
			scaled++;
			continue;
		}
		if (!make_view(r, tr, &v) || !is_multiple(&v, k))
			return 0;
	}
	if (scaled != *nd)
		return 0;
	memset(d, 0, sizeof *d);
	snprintf(d->tensor, sizeof d->tensor, "all");
	d->kind = GC_DIAG_LOSS_SCALE;
	d->factor = k;
	snprintf(d->detail, sizeof d->detail, "every gradient is %.*g \xc3\x97 the true one, "
	         "so your gradient is that of %.*g \xc3\x97 the case's loss%s: check the loss's "
	         "scaling (the case's reduction) rather than any layer", factor_digits(k), k,
	         factor_digits(k), k, factor_reason(k, r->batch, r->outputs));
	*nd = 1;
	return 1;
}

/* Every failing element is within GC_SINGLE_NOISE of its tensor's largest gradient:
 * the differences look like float32 rounding rather than a mistake. */
static int diagnose_precision(const gc_result *r, gc_diagnosis *d)
{
	double worst = 0;
	const gc_tensor *first = NULL;

	if (!r->elements || r->failed == 0)
		return 0;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		const gc_element *e = r->elements + tr->tensor.offset;
		size_t size = tr->tensor.rows * tr->tensor.cols;
		double scale = 0;
		if (tr->failed == 0)
			continue;
		for (size_t i = 0; i < size; i++)
			if (usable(&e[i]))
				scale = fmax(scale, fmax(fabs(e[i].analytic), fabs(e[i].numeric)));
		for (size_t i = 0; i < size; i++) {
			if (e[i].verdict != GC_ELEM_FAIL)
				continue;
			if (!isfinite(e[i].abs_err) || e[i].abs_err > GC_SINGLE_NOISE * scale)
				return 0;
			worst = fmax(worst, e[i].rel_err);
		}
		if (!first)
			first = &tr->tensor;
	}
	if (r->failed < 2)
		return 0;
	set_common(d, first, GC_DIAG_PRECISION);
	snprintf(d->detail, sizeof d->detail, "every failure is as small as single-precision "
	         "rounding (worst rel %.2g): if your code computes in float32, check with "
	         "--precision single (or \"check\": {\"precision\": \"single\"})", worst);
	return 1;
}

/* Nonzero when d[0..n) are all regularization diagnoses: the regularization term's
 * gradient is off, which is no layer's fault (no entry_layer, no weight_product). */
static int only_regularization(const gc_diagnosis *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].kind != GC_DIAG_REGULARIZATION)
			return 0;
	return n > 0;
}

int gc_diagnose(gc_result *r, size_t batch, size_t outputs)
{
	if (!r || (r->n_tensors && !r->tensors))
		return GC_EINVAL;
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor *ts = &r->tensors[t].tensor;
		if (ts->cols && ts->rows > (size_t)-1 / ts->cols)
			return GC_EINVAL;
		if (r->elements && (ts->offset > r->n || ts->rows * ts->cols > r->n - ts->offset))
			return GC_EINVAL;
	}
	free(r->diagnoses);
	r->diagnoses = NULL;
	r->n_diagnoses = 0;

	gc_diagnosis *d = calloc(2 * r->n_tensors + 2, sizeof *d);
	if (!d)
		return GC_ENOMEM;
	/* failures as small as float32 rounding are that, not a pattern of a bug: a
	 * layer diagnosis would blame a layer for rounding */
	int precision = diagnose_precision(r, &d[0]);
	size_t nd = (size_t)precision;
	for (size_t t = 0; !precision && r->elements && t < r->n_tensors; t++)
		if (r->tensors[t].failed > 1 &&
		    diagnose_tensor(r, &r->tensors[t], batch, outputs, &d[nd]))
			nd++;
	if (!precision && !merge_loss_scale(r, d, &nd) && !only_regularization(d, nd)) {
		int entry = diagnose_entry(r, &d[nd]);
		if (entry < 0) {
			free(d);
			return GC_ENOMEM;
		}
		nd += (size_t)entry;
		diagnose_products(r, d, &nd);
	}
	if (nd == 0) {
		free(d);
		return GC_OK;
	}
	r->diagnoses = d;
	r->n_diagnoses = nd;
	return GC_OK;
}
