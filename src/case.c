/* case.c - the case file of README "Case format": validation with key-path errors, init
 * and data generation, and the resolved form.
 *
 * Generated values (GSL's gsl_rng_mt19937; seed s and s & 0xffffffff are the same
 * generator, and GSL maps seed 0 to 4357):
 *   init, when "params" is absent: one generator seeded with init.seed draws the
 *     parameters in theta order (W1 row-major in the case's layout, b1, W2, b2, ...).
 *       normal:  scale * gsl_ran_gaussian(r, 1)
 *       uniform: scale * (2 * gsl_rng_uniform(r) - 1), in [-scale, scale)
 *       xavier:  scale * sqrt(2 / (n_{k-1} + n_k)) * gsl_ran_gaussian(r, 1)
 *       he:      scale * sqrt(2 / n_{k-1}) * gsl_ran_gaussian(r, 1)
 *     biases are drawn like the weights for normal and uniform; for xavier and he
 *     they are zero and draw nothing.
 *   data, when "inputs" or "targets" is absent: one generator seeded with data.seed
 *     always draws the B x n_0 inputs first (gsl_ran_gaussian(r, 1), row-major), even
 *     when the inputs are given, so the targets do not depend on that; then targets,
 *     row-major: cross_entropy one class per sample (gsl_rng_uniform_int(r, n_L)),
 *     one-hot; binary_cross_entropy gsl_rng_uniform_int(r, 2) in {0, 1}; logistic
 *     2 * gsl_rng_uniform_int(r, 2) - 1 in {-1, +1}; otherwise gsl_ran_gaussian(r, 1).
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "case.h"
#include "jsonutil.h"
#include "loss.h"
#include "params.h"

/* The default caps; a build may lower them (make fuzz does). */
#ifndef GC_CASE_MAX_PARAMS
#define GC_CASE_MAX_PARAMS ((size_t)1 << 26)
#endif
#ifndef GC_CASE_MAX_VALUES
#define GC_CASE_MAX_VALUES ((size_t)1 << 26)
#endif

const gc_case_limits gc_case_default_limits = {
	.max_file = (size_t)64 << 20,
	.max_params = GC_CASE_MAX_PARAMS,
	.max_values = GC_CASE_MAX_VALUES,
};
#define MAX_INT 9007199254740992.0      /* 2^53: integers beyond are not exact */
#define MAX_SEED 4294967295.0

enum init_dist { INIT_NORMAL, INIT_UNIFORM, INIT_XAVIER, INIT_HE };

typedef struct loader {
	gc_jctx j;
	const cJSON *root;
	gc_case *c;
	const cJSON *inputs, *targets, *labels, *data;
	int inputs_flat, targets_flat;
	double data_seed;
	const gc_case_limits *lim;
} loader;

static const struct { const char *name; gc_act_kind kind; } act_names[] = {
	{ "identity", GC_ACT_IDENTITY }, { "linear", GC_ACT_IDENTITY },
	{ "sigmoid", GC_ACT_SIGMOID }, { "tanh", GC_ACT_TANH }, { "relu", GC_ACT_RELU },
	{ "leaky_relu", GC_ACT_LEAKY_RELU }, { "softplus", GC_ACT_SOFTPLUS },
	{ "softmax", GC_ACT_SOFTMAX },
};

static const char *const loss_names[] = {
	[GC_LOSS_SSE] = "sse", [GC_LOSS_HALF_SSE] = "half_sse", [GC_LOSS_MSE] = "mse",
	[GC_LOSS_CROSS_ENTROPY] = "cross_entropy",
	[GC_LOSS_BINARY_CROSS_ENTROPY] = "binary_cross_entropy", [GC_LOSS_LOGISTIC] = "logistic",
	[GC_LOSS_HINGE] = "hinge", [GC_LOSS_MULTICLASS_HINGE] = "multiclass_hinge",
};

static const char *const reduction_names[] = {
	[GC_RED_SUM] = "sum", [GC_RED_BATCH_MEAN] = "batch_mean", [GC_RED_MEAN] = "mean",
};

const char *gc_act_name(gc_act_kind k)
{
	for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
		if (act_names[i].kind == k)
			return act_names[i].name;
	return "unknown";
}

const char *gc_loss_name(gc_loss_kind k)
{
	if ((size_t)k < sizeof loss_names / sizeof loss_names[0])
		return loss_names[k];
	return "unknown";
}

const char *gc_reduction_name(gc_reduction r)
{
	if ((size_t)r < sizeof reduction_names / sizeof reduction_names[0])
		return reduction_names[r];
	return "unknown";
}

size_t gc_case_weight_offset(const gc_case *c, size_t k)
{
	return c->tensors[(k - 1) * (c->bias ? 2 : 1)].offset;
}

/* SIZE_MAX when the case has no biases. */
size_t gc_case_bias_offset(const gc_case *c, size_t k)
{
	return c->bias ? c->tensors[(k - 1) * 2 + 1].offset : SIZE_MAX;
}

void gc_case_weight_shape(const gc_case *c, size_t k, size_t *rows, size_t *cols)
{
	*rows = c->layout == GC_LAYOUT_OUT_IN ? c->sizes[k] : c->sizes[k - 1];
	*cols = c->layout == GC_LAYOUT_OUT_IN ? c->sizes[k - 1] : c->sizes[k];
}

void gc_case_free(gc_case *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->path);
	free(c->sizes);
	free(c->act);
	free(c->theta);
	free(c->tensors);
	free(c->tensor_names);
	free(c->inputs);
	free(c->targets);
	free(c->labels);
	free(c->expect.output);
	free(c->expect.gradient);
	free(c->expect.gradient_given);
	cJSON_Delete(c->json);
	free(c);
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static char *dup_string(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int oom(loader *ld)
{
	ld->j.err->line = ld->j.err->col = 0;
	gc_error_set(ld->j.err, "out of memory");
	return GC_ENOMEM;
}

/* ---- structure ---------------------------------------------------------------- */

static int read_name(loader *ld, const char *path)
{
	const cJSON *node = get(ld->root, "name");
	const char *base, *end;

	if (node) {
		gc_jpath_push_key(&ld->j.path, "name");
		if (!cJSON_IsString(node))
			return gc_jfail(&ld->j, "expected a string, got %s", gc_json_kind(node));
		/* the name becomes --record's and --golden's DIR/NAME.grad.json */
		const char *s = node->valuestring;
		int bad = !*s || strstr(s, "..") != NULL;
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			bad |= *p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f;
		if (bad)
			return gc_jfail(&ld->j, "a name must be a file name: not empty, without '/', "
			                "'\\', \"..\" or control characters (it names --record and "
			                "--golden files)");
		gc_jpath_pop(&ld->j.path);
		ld->c->name = dup_string(node->valuestring, strlen(node->valuestring));
	} else {
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		end = base + strlen(base);
		if (end - base > 5 && strcmp(end - 5, ".json") == 0)
			end -= 5;
		if (end == base) {
			base = "case";
			end = base + 4;
		}
		ld->c->name = dup_string(base, (size_t)(end - base));
	}
	return ld->c->name ? 0 : oom(ld);
}

static int read_layers(loader *ld)
{
	const cJSON *node = get(ld->root, "layers"), *item;
	gc_case *c = ld->c;
	size_t n, k = 0;

	gc_jpath_push_key(&ld->j.path, "layers");
	if (!node)
		return gc_jfail(&ld->j, "missing (the layer sizes, input first, e.g. [2, 3, 1])");
	if (!cJSON_IsArray(node))
		return gc_jfail(&ld->j, "expected an array of layer sizes, got %s", gc_json_kind(node));
	n = (size_t)cJSON_GetArraySize(node);
	if (n < 2)
		return gc_jfail(&ld->j, "expected at least 2 sizes (input and output), got %zu", n);
	c->n_layers = n - 1;
	c->sizes = calloc(n, sizeof *c->sizes);
	if (!c->sizes)
		return oom(ld);
	cJSON_ArrayForEach(item, node) {
		double d;
		gc_jpath_push_index(&ld->j.path, k);
		if (gc_json_integer(&ld->j, item, 1, MAX_INT, &d))
			return GC_EINVAL;
		c->sizes[k++] = (size_t)d;
		gc_jpath_pop(&ld->j.path);
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int parse_act_name(loader *ld, const cJSON *node, gc_activation *a)
{
	if (!cJSON_IsString(node))
		return gc_jfail(&ld->j, "expected an activation name, got %s", gc_json_kind(node));
	for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
		if (strcmp(node->valuestring, act_names[i].name) == 0) {
			a->kind = act_names[i].kind;
			a->alpha = 0.01;
			return 0;
		}
	return gc_jfail(&ld->j, "unknown activation \"%s\" (expected identity, linear, sigmoid, "
			"tanh, relu, leaky_relu, softplus or softmax)", node->valuestring);
}

/* A name, or {"name": ..., "alpha": ...}. */
static int parse_act(loader *ld, const cJSON *node, gc_activation *a)
{
	static const char *const keys[] = { "name", "alpha", NULL };
	const cJSON *name, *alpha;

	if (!cJSON_IsObject(node))
		return parse_act_name(ld, node, a);
	if (gc_json_check_keys(&ld->j, node, keys))
		return GC_EINVAL;
	name = get(node, "name");
	alpha = get(node, "alpha");
	gc_jpath_push_key(&ld->j.path, "name");
	if (!name)
		return gc_jfail(&ld->j, "missing");
	if (parse_act_name(ld, name, a))
		return GC_EINVAL;
	gc_jpath_pop(&ld->j.path);
	if (alpha) {
		gc_jpath_push_key(&ld->j.path, "alpha");
		if (a->kind != GC_ACT_LEAKY_RELU)
			return gc_jfail(&ld->j, "only leaky_relu takes alpha");
		if (gc_json_number(&ld->j, alpha, &a->alpha))
			return GC_EINVAL;
		gc_jpath_pop(&ld->j.path);
	}
	return 0;
}

static int read_activations(loader *ld)
{
	const cJSON *node = get(ld->root, "activations"), *item;
	gc_case *c = ld->c;
	size_t L = c->n_layers, k = 0;

	gc_jpath_push_key(&ld->j.path, "activations");
	if (!node)
		return gc_jfail(&ld->j, "missing (one activation per weight layer, or one for all)");
	c->act = calloc(L, sizeof *c->act);
	if (!c->act)
		return oom(ld);
	if (!cJSON_IsArray(node)) {
		if (parse_act(ld, node, &c->act[0]))
			return GC_EINVAL;
		for (k = 1; k < L; k++)
			c->act[k] = c->act[0];
		if (L > 1 && c->act[0].kind == GC_ACT_SOFTMAX)
			return gc_jfail(&ld->j, "softmax is allowed only in the last layer, and a single "
					"name applies to all %zu layers", L);
	} else {
		if ((size_t)cJSON_GetArraySize(node) != L)
			return gc_jfail(&ld->j, "expected %zu activations (one per weight layer, "
					"len(layers) - 1), got %d", L, cJSON_GetArraySize(node));
		cJSON_ArrayForEach(item, node) {
			gc_jpath_push_index(&ld->j.path, k);
			if (parse_act(ld, item, &c->act[k]))
				return GC_EINVAL;
			if (c->act[k].kind == GC_ACT_SOFTMAX && k + 1 < L)
				return gc_jfail(&ld->j, "softmax is allowed only in the last layer");
			gc_jpath_pop(&ld->j.path);
			k++;
		}
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_bias_layout(loader *ld)
{
	const cJSON *bias = get(ld->root, "bias"), *layout = get(ld->root, "weight_layout");

	ld->c->bias = 1;
	if (bias) {
		gc_jpath_push_key(&ld->j.path, "bias");
		if (!cJSON_IsBool(bias))
			return gc_jfail(&ld->j, "expected true or false, got %s", gc_json_kind(bias));
		ld->c->bias = cJSON_IsTrue(bias);
		gc_jpath_pop(&ld->j.path);
	}
	ld->c->layout = GC_LAYOUT_OUT_IN;
	if (layout) {
		gc_jpath_push_key(&ld->j.path, "weight_layout");
		if (!cJSON_IsString(layout))
			return gc_jfail(&ld->j, "expected \"out_in\" or \"in_out\", got %s",
					gc_json_kind(layout));
		if (strcmp(layout->valuestring, "in_out") == 0)
			ld->c->layout = GC_LAYOUT_IN_OUT;
		else if (strcmp(layout->valuestring, "out_in") != 0)
			return gc_jfail(&ld->j, "expected \"out_in\" or \"in_out\", got \"%s\"",
					layout->valuestring);
		gc_jpath_pop(&ld->j.path);
	}
	return 0;
}

static int read_loss(loader *ld)
{
	const cJSON *node = get(ld->root, "loss");
	gc_case *c = ld->c;
	gc_act_kind out = c->act[c->n_layers - 1].kind;
	size_t i;

	gc_jpath_push_key(&ld->j.path, "loss");
	if (!node)
		return gc_jfail(&ld->j, "missing (sse, half_sse, mse, cross_entropy, "
				"binary_cross_entropy, logistic, hinge or multiclass_hinge)");
	if (!cJSON_IsString(node))
		return gc_jfail(&ld->j, "expected a loss name, got %s", gc_json_kind(node));
	for (i = 0; i < sizeof loss_names / sizeof loss_names[0]; i++)
		if (strcmp(node->valuestring, loss_names[i]) == 0)
			break;
	if (i == sizeof loss_names / sizeof loss_names[0])
		return gc_jfail(&ld->j, "unknown loss \"%s\" (expected sse, half_sse, mse, "
				"cross_entropy, binary_cross_entropy, logistic, hinge or "
				"multiclass_hinge)", node->valuestring);
	c->loss = (gc_loss_kind)i;
	if (c->loss == GC_LOSS_CROSS_ENTROPY && out != GC_ACT_SOFTMAX)
		return gc_jfail(&ld->j, "cross_entropy requires a softmax output layer, got %s",
				gc_act_name(out));
	if (c->loss == GC_LOSS_BINARY_CROSS_ENTROPY && out != GC_ACT_SIGMOID)
		return gc_jfail(&ld->j, "binary_cross_entropy requires a sigmoid output layer, got %s",
				gc_act_name(out));
	if ((c->loss == GC_LOSS_LOGISTIC || c->loss == GC_LOSS_HINGE
	     || c->loss == GC_LOSS_MULTICLASS_HINGE) && out != GC_ACT_IDENTITY)
		return gc_jfail(&ld->j, "%s requires an identity output layer, got %s",
				loss_names[c->loss], gc_act_name(out));
	gc_jpath_pop(&ld->j.path);
	c->reduction = gc_loss_default_reduction(c->loss);
	return 0;
}

/* A string that must be one of names[0..n); its index to *out. */
static int read_choice(loader *ld, const cJSON *node, const char *const *names, size_t n,
                       int *out)
{
	char list[160] = "";

	for (size_t i = 0; i < n; i++) {
		if (cJSON_IsString(node) && strcmp(node->valuestring, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
			 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	}
	if (cJSON_IsString(node))
		return gc_jfail(&ld->j, "expected %s, got \"%s\"", list, node->valuestring);
	return gc_jfail(&ld->j, "expected %s, got %s", list, gc_json_kind(node));
}

static int read_reduction(loader *ld)
{
	const cJSON *node = get(ld->root, "reduction");
	int r;

	if (!node)
		return 0;
	gc_jpath_push_key(&ld->j.path, "reduction");
	if (read_choice(ld, node, reduction_names, 3, &r))
		return GC_EINVAL;
	ld->c->reduction = (gc_reduction)r;
	ld->c->reduction_given = 1;
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_bool(loader *ld, const cJSON *obj, const char *key, int *out)
{
	const cJSON *x = get(obj, key);

	if (!x)
		return 0;
	gc_jpath_push_key(&ld->j.path, key);
	if (!cJSON_IsBool(x))
		return gc_jfail(&ld->j, "expected true or false, got %s", gc_json_kind(x));
	*out = cJSON_IsTrue(x);
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_nonnegative(loader *ld, const cJSON *obj, const char *key, double *out)
{
	const cJSON *x = get(obj, key);

	if (!x)
		return 0;
	gc_jpath_push_key(&ld->j.path, key);
	if (gc_json_number(&ld->j, x, out))
		return GC_EINVAL;
	if (*out < 0)
		return gc_jfail(&ld->j, "expected a number >= 0, got %s", gc_json_num(*out).s);
	gc_jpath_pop(&ld->j.path);
	return 0;
}

/* "divide_by": "none", "batch" or a training-set size N >= 1.  The batch size is
 * not known yet: read_regularization_batch() fills it in. */
static int read_divide_by(loader *ld, const cJSON *node)
{
	gc_regularization *r = &ld->c->reg;
	const cJSON *x = get(node, "divide_by");

	r->divide_by = 1.0;
	r->divide_by_kind = 0;
	if (!x)
		return 0;
	gc_jpath_push_key(&ld->j.path, "divide_by");
	if (cJSON_IsString(x) && strcmp(x->valuestring, "none") == 0) {
		r->divide_by_kind = 0;
	} else if (cJSON_IsString(x) && strcmp(x->valuestring, "batch") == 0) {
		r->divide_by_kind = 1;
	} else if (cJSON_IsNumber(x)) {
		if (gc_json_integer(&ld->j, x, 1, MAX_INT, &r->divide_by))
			return GC_EINVAL;
		r->divide_by_kind = 2;
	} else {
		return gc_jfail(&ld->j, "expected \"none\", \"batch\" or a training-set size "
				"N (an integer >= 1), got %s%s%s", cJSON_IsString(x) ? "\"" : "",
				cJSON_IsString(x) ? x->valuestring : gc_json_kind(x),
				cJSON_IsString(x) ? "\"" : "");
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_regularization(loader *ld)
{
	static const char *const keys[] = { "l2", "l1", "half", "divide_by", "biases", NULL };
	const cJSON *node = get(ld->root, "regularization");
	gc_regularization *r = &ld->c->reg;

	r->divide_by = 1.0;
	if (!node)
		return 0;
	gc_jpath_push_key(&ld->j.path, "regularization");
	if (gc_json_check_keys(&ld->j, node, keys)
	    || read_nonnegative(ld, node, "l2", &r->l2)
	    || read_nonnegative(ld, node, "l1", &r->l1)
	    || read_bool(ld, node, "half", &r->half)
	    || read_divide_by(ld, node)
	    || read_bool(ld, node, "biases", &r->biases))
		return GC_EINVAL;
	if (!get(node, "l2") && !get(node, "l1"))
		return gc_jfail(&ld->j, "gives neither \"l2\" nor \"l1\" (for example "
				"{\"l2\": 0.01} adds 0.01 \xc3\x97 \xce\xa3w\xc2\xb2)");
	if (get(node, "half") && !get(node, "l2")) {
		gc_jpath_push_key(&ld->j.path, "half");
		return gc_jfail(&ld->j, "halves the l2 term, but there is no \"l2\"");
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

/* ---- sizes and tensors -------------------------------------------------------- */

static int add_size(size_t *sum, size_t a, size_t b, size_t limit)
{
	if (b != 0 && a > limit / b)
		return GC_EINVAL;
	if (*sum > limit - a * b)
		return GC_EINVAL;
	*sum += a * b;
	return 0;
}

/* Counts the parameters (refusing more than the cap before anything is
 * allocated) and lays out the named tensors in theta. */
static int layout_tensors(loader *ld)
{
	gc_case *c = ld->c;
	size_t L = c->n_layers, off = 0, t = 0;

	c->n_params = 0;
	for (size_t k = 1; k <= L; k++)
		if (add_size(&c->n_params, c->sizes[k], c->sizes[k - 1], ld->lim->max_params)
		    || (c->bias && add_size(&c->n_params, c->sizes[k], 1, ld->lim->max_params))) {
			gc_jpath_push_key(&ld->j.path, "layers");
			return gc_jfail(&ld->j, "the network has more than %zu parameters (passed at "
					"W%zu, %zu x %zu); refusing to allocate (--max-params raises "
					"the cap)", ld->lim->max_params, k, c->sizes[k], c->sizes[k - 1]);
		}
	c->n_tensors = L * (c->bias ? 2 : 1);
	c->tensors = calloc(c->n_tensors, sizeof *c->tensors);
	c->tensor_names = calloc(c->n_tensors, sizeof *c->tensor_names);
	if (!c->tensors || !c->tensor_names)
		return oom(ld);
	for (size_t k = 1; k <= L; k++) {
		gc_tensor *w = &c->tensors[t];
		snprintf(c->tensor_names[t], sizeof c->tensor_names[t], "W%u", (unsigned)k);
		w->name = c->tensor_names[t++];
		w->offset = off;
		w->layer = (int)k;
		w->matrix = 1;
		gc_case_weight_shape(c, k, &w->rows, &w->cols);
		off += w->rows * w->cols;
		if (c->bias) {
			gc_tensor *b = &c->tensors[t];
			snprintf(c->tensor_names[t], sizeof c->tensor_names[t], "b%u", (unsigned)k);
			b->name = c->tensor_names[t++];
			b->offset = off;
			b->rows = c->sizes[k];
			b->cols = 1;
			b->layer = (int)k;
			off += c->sizes[k];
		}
	}
	return 0;
}

/* ---- params and init ---------------------------------------------------------- */

static double init_sd(const gc_case *c, enum init_dist dist, double scale, size_t k)
{
	double fan_in = (double)c->sizes[k - 1], fan_out = (double)c->sizes[k];

	if (dist == INIT_XAVIER)
		return scale * sqrt(2.0 / (fan_in + fan_out));
	if (dist == INIT_HE)
		return scale * sqrt(2.0 / fan_in);
	return scale;
}

static int draw_init(loader *ld, unsigned long seed, enum init_dist dist, double scale)
{
	gc_case *c = ld->c;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	if (!r)
		return oom(ld);
	gsl_rng_set(r, seed);
	for (size_t t = 0; t < c->n_tensors; t++) {
		const gc_tensor *ten = &c->tensors[t];
		double *v = c->theta + ten->offset, sd = init_sd(c, dist, scale, (size_t)ten->layer);
		size_t n = ten->rows * ten->cols;
		if (ten->name[0] == 'b' && (dist == INIT_XAVIER || dist == INIT_HE))
			continue;       /* theta is zeroed */
		for (size_t i = 0; i < n; i++)
			v[i] = dist == INIT_UNIFORM ? scale * (2.0 * gsl_rng_uniform(r) - 1.0)
						    : sd * gsl_ran_gaussian(r, 1.0);
	}
	gsl_rng_free(r);
	return 0;
}

static int read_init(loader *ld, int draw)
{
	static const char *const keys[] = { "seed", "distribution", "scale", NULL };
	static const char *const dists[] = { "normal", "uniform", "xavier", "he" };
	const cJSON *node = get(ld->root, "init"), *x;
	double seed = 0, scale = 1;
	int dist = INIT_NORMAL;

	if (node) {
		gc_jpath_push_key(&ld->j.path, "init");
		if (gc_json_check_keys(&ld->j, node, keys))
			return GC_EINVAL;
		if ((x = get(node, "seed"))) {
			gc_jpath_push_key(&ld->j.path, "seed");
			if (gc_json_integer(&ld->j, x, 0, MAX_SEED, &seed))
				return GC_EINVAL;
			gc_jpath_pop(&ld->j.path);
		}
		if ((x = get(node, "distribution"))) {
			gc_jpath_push_key(&ld->j.path, "distribution");
			for (dist = 0; dist < 4; dist++)
				if (cJSON_IsString(x) && strcmp(x->valuestring, dists[dist]) == 0)
					break;
			if (dist == 4)
				return gc_jfail(&ld->j, "expected \"normal\", \"uniform\", \"xavier\" "
						"or \"he\", got %s%s%s", cJSON_IsString(x) ? "\"" : "",
						cJSON_IsString(x) ? x->valuestring : gc_json_kind(x),
						cJSON_IsString(x) ? "\"" : "");
			gc_jpath_pop(&ld->j.path);
		}
		if ((x = get(node, "scale"))) {
			gc_jpath_push_key(&ld->j.path, "scale");
			if (gc_json_number(&ld->j, x, &scale))
				return GC_EINVAL;
			if (scale < 0)
				return gc_jfail(&ld->j, "expected a number >= 0, got %s", gc_json_num(scale).s);
			gc_jpath_pop(&ld->j.path);
		}
		gc_jpath_pop(&ld->j.path);
	}
	return draw ? draw_init(ld, (unsigned long)seed, (enum init_dist)dist, scale) : 0;
}

static int read_params(loader *ld)
{
	const cJSON *node = get(ld->root, "params");
	gc_case *c = ld->c;

	c->theta = calloc(c->n_params ? c->n_params : 1, sizeof *c->theta);
	if (!c->theta)
		return oom(ld);
	if (node) {
		gc_jpath_push_key(&ld->j.path, "params");
		if (gc_params_read(&ld->j, node, c, c->theta, NULL, NULL))
			return GC_EINVAL;
		gc_jpath_pop(&ld->j.path);
		const cJSON *b = get(node, "biases");
		c->bias_columns = b && cJSON_IsArray(b->child) && cJSON_IsArray(b->child->child);
	}
	return read_init(ld, node == NULL);
}

/* ---- inputs, targets and data ------------------------------------------------- */

/* The number of samples in an inputs/targets array of rows of width numbers. */
static int count_samples(loader *ld, const cJSON *node, size_t width, const char *sym,
                         size_t *batch, int *flat)
{
	size_t n;

	if (!cJSON_IsArray(node))
		return gc_jfail(&ld->j, "expected an array of samples (rows of %zu numbers), got %s",
				width, gc_json_kind(node));
	n = (size_t)cJSON_GetArraySize(node);
	if (n == 0)
		return gc_jfail(&ld->j, "expected at least one sample, got []");
	*flat = !cJSON_IsArray(node->child);
	*batch = *flat ? 1 : n;
	if (*flat && n != width)
		return gc_jfail(&ld->j, "expected %zu numbers (%s = %zu; a flat array is one sample), "
				"got %zu; write one row per sample", width, sym, width, n);
	return 0;
}

/* The same for "sample_layout": "columns": height rows of B numbers each. */
static int count_columns(loader *ld, const cJSON *node, size_t height, const char *sym,
                         size_t *batch, int *flat)
{
	size_t n;

	if (!cJSON_IsArray(node))
		return gc_jfail(&ld->j, "expected %zu rows of B numbers (%s x B: \"sample_layout\": "
				"\"columns\" puts one sample in each column), got %s", height, sym,
				gc_json_kind(node));
	n = (size_t)cJSON_GetArraySize(node);
	if (n == 0)
		return gc_jfail(&ld->j, "expected at least one sample, got []");
	*flat = !cJSON_IsArray(node->child);
	if (n != height)
		return gc_jfail(&ld->j, "expected %zu %s (%s = %zu; \"sample_layout\": \"columns\" "
				"puts one sample in each column), got %zu", height,
				*flat ? "numbers" : "rows", sym, height, n);
	*batch = *flat ? 1 : (size_t)cJSON_GetArraySize(node->child);
	if (*batch == 0)
		return gc_jfail(&ld->j, "expected at least one sample, got an empty row");
	return 0;
}

/* The number of samples in inputs or targets, in the case's sample layout. */
static int count_any(loader *ld, const cJSON *node, size_t width, const char *sym,
                     size_t *batch, int *flat)
{
	if (ld->c->columns)
		return count_columns(ld, node, width, sym, batch, flat);
	return count_samples(ld, node, width, sym, batch, flat);
}

static int read_sample_layout(loader *ld)
{
	static const char *const names[] = { "rows", "columns" };
	const cJSON *node = get(ld->root, "sample_layout");
	int v;

	if (!node)
		return 0;
	gc_jpath_push_key(&ld->j.path, "sample_layout");
	if (read_choice(ld, node, names, 2, &v))
		return GC_EINVAL;
	ld->c->columns = v;
	gc_jpath_pop(&ld->j.path);
	return 0;
}

/* "labels": B class indices, for cross_entropy and multiclass_hinge, instead of targets. */
static int count_labels(loader *ld, size_t *batch)
{
	const gc_case *c = ld->c;
	size_t n;

	gc_jpath_push_key(&ld->j.path, "labels");
	if (c->loss != GC_LOSS_CROSS_ENTROPY && c->loss != GC_LOSS_MULTICLASS_HINGE)
		return gc_jfail(&ld->j, "class labels go with cross_entropy or multiclass_hinge, "
				"not %s (give \"targets\")", gc_loss_name(c->loss));
	if (ld->targets)
		return gc_jfail(&ld->j, "give \"labels\" or \"targets\", not both");
	if (!cJSON_IsArray(ld->labels))
		return gc_jfail(&ld->j, "expected an array of class indices (0 to %zu), got %s",
				c->sizes[c->n_layers] - 1, gc_json_kind(ld->labels));
	n = (size_t)cJSON_GetArraySize(ld->labels);
	if (n == 0)
		return gc_jfail(&ld->j, "expected at least one sample, got []");
	*batch = n;
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_data_block(loader *ld, int batch_known)
{
	static const char *const keys[] = { "seed", "batch", NULL };
	const cJSON *x;
	double batch;

	ld->data_seed = 0;
	if (!ld->data)
		return 0;
	gc_jpath_push_key(&ld->j.path, "data");
	if (gc_json_check_keys(&ld->j, ld->data, keys))
		return GC_EINVAL;
	if ((x = get(ld->data, "seed"))) {
		gc_jpath_push_key(&ld->j.path, "seed");
		if (gc_json_integer(&ld->j, x, 0, MAX_SEED, &ld->data_seed))
			return GC_EINVAL;
		gc_jpath_pop(&ld->j.path);
	}
	if ((x = get(ld->data, "batch"))) {
		gc_jpath_push_key(&ld->j.path, "batch");
		if (gc_json_integer(&ld->j, x, 1, MAX_INT, &batch))
			return GC_EINVAL;
		if (batch_known && (size_t)batch != ld->c->batch)
			return gc_jfail(&ld->j, "%.0f does not match the %zu samples given in %s",
					batch, ld->c->batch, ld->inputs ? "inputs" : "targets");
		if (!batch_known)
			ld->c->batch = (size_t)batch;
		gc_jpath_pop(&ld->j.path);
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int find_batch(loader *ld)
{
	gc_case *c = ld->c;
	size_t bi = 0, bt = 0, sum = 0, total = 0;
	int too_big = 0;

	ld->inputs = get(ld->root, "inputs");
	ld->targets = get(ld->root, "targets");
	ld->labels = get(ld->root, "labels");
	ld->data = get(ld->root, "data");
	if (read_sample_layout(ld))
		return GC_EINVAL;
	if (ld->inputs) {
		gc_jpath_push_key(&ld->j.path, "inputs");
		if (count_any(ld, ld->inputs, c->sizes[0], "n_0", &bi, &ld->inputs_flat))
			return GC_EINVAL;
		gc_jpath_pop(&ld->j.path);
	}
	if (ld->labels) {
		if (count_labels(ld, &bt))
			return GC_EINVAL;
		if (ld->inputs && bt != bi) {
			gc_jpath_push_key(&ld->j.path, "labels");
			return gc_jfail(&ld->j, "expected %zu labels (one per sample in inputs), got %zu",
					bi, bt);
		}
		ld->targets = ld->labels;
	} else if (ld->targets) {
		gc_jpath_push_key(&ld->j.path, "targets");
		if (count_any(ld, ld->targets, c->sizes[c->n_layers], "n_L", &bt,
			      &ld->targets_flat))
			return GC_EINVAL;
		if (ld->inputs && bt != bi)
			return gc_jfail(&ld->j, "expected %zu samples (as in inputs), got %zu", bi, bt);
		gc_jpath_pop(&ld->j.path);
	}
	if (!ld->data && (!ld->inputs || !ld->targets)) {
		gc_jpath_push_key(&ld->j.path, ld->inputs ? "targets" : "inputs");
		return gc_jfail(&ld->j, "missing (give inputs and targets, or a data block "
				"{\"seed\": ..., \"batch\": ...} to generate them)");
	}
	c->batch = ld->inputs ? bi : ld->targets ? bt : 1;
	if (read_data_block(ld, ld->inputs || ld->targets))
		return GC_EINVAL;
	for (size_t k = 0; k <= c->n_layers && !too_big; k++)
		too_big = add_size(&sum, c->sizes[k], 1, ld->lim->max_values);
	if (too_big || add_size(&total, c->batch, sum, ld->lim->max_values)) {
		if (ld->inputs || ld->targets) {
			gc_jpath_push_key(&ld->j.path, ld->inputs ? "inputs" : "targets");
		} else {
			gc_jpath_push_key(&ld->j.path, "data");
			if (get(ld->data, "batch"))
				gc_jpath_push_key(&ld->j.path, "batch");
		}
		return gc_jfail(&ld->j, "%zu samples through layers of %s%zu units in all need more "
				"than %zu values; refusing to allocate (--max-values raises the cap)", c->batch, too_big ? "over " : "",
				too_big ? ld->lim->max_values : sum, ld->lim->max_values);
	}
	if (c->reg.divide_by_kind == 1)
		c->reg.divide_by = (double)c->batch;
	return 0;
}

static void draw_targets(gsl_rng *r, const gc_case *c, double *t)
{
	size_t B = c->batch, m = c->sizes[c->n_layers];

	for (size_t b = 0; b < B; b++) {
		double *row = t + b * m;
		if (c->loss == GC_LOSS_CROSS_ENTROPY || c->loss == GC_LOSS_MULTICLASS_HINGE) {
			memset(row, 0, m * sizeof *row);
			row[gsl_rng_uniform_int(r, m)] = 1.0;
			continue;
		}
		for (size_t j = 0; j < m; j++) {
			if (c->loss == GC_LOSS_BINARY_CROSS_ENTROPY)
				row[j] = (double)gsl_rng_uniform_int(r, 2);
			else if (c->loss == GC_LOSS_LOGISTIC || c->loss == GC_LOSS_HINGE)
				row[j] = 2.0 * (double)gsl_rng_uniform_int(r, 2) - 1.0;
			else
				row[j] = gsl_ran_gaussian(r, 1.0);
		}
	}
}

static int draw_data(loader *ld)
{
	gc_case *c = ld->c;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	size_t n = c->batch * c->sizes[0];

	if (!r)
		return oom(ld);
	gsl_rng_set(r, (unsigned long)ld->data_seed);
	for (size_t i = 0; i < n; i++) {
		double x = gsl_ran_gaussian(r, 1.0);
		if (!ld->inputs)
			c->inputs[i] = x;
	}
	if (!ld->targets)
		draw_targets(r, c, c->targets);
	gsl_rng_free(r);
	return 0;
}

/* Explicit targets must be valid for the loss. */
static int check_targets(loader *ld)
{
	const gc_case *c = ld->c;
	size_t m = c->sizes[c->n_layers];

	for (size_t i = 0; i < c->batch * m; i++) {
		double t = c->targets[i];
		const char *why = NULL;
		if ((c->loss == GC_LOSS_LOGISTIC || c->loss == GC_LOSS_HINGE) && t != 1.0 && t != -1.0)
			why = c->loss == GC_LOSS_HINGE ? "hinge targets must be -1 or +1"
						       : "logistic targets must be -1 or +1";
		else if (c->loss == GC_LOSS_MULTICLASS_HINGE && t != 0.0 && t != 1.0)
			why = "multiclass_hinge targets must be one-hot rows of 0 and 1 "
			      "(or give \"labels\")";
		else if (c->loss == GC_LOSS_BINARY_CROSS_ENTROPY && (t < 0.0 || t > 1.0))
			why = "binary_cross_entropy targets must be in [0, 1]";
		else if (c->loss == GC_LOSS_CROSS_ENTROPY && t < 0.0)
			why = "cross_entropy targets must be >= 0";
		if (!why)
			continue;
		gc_jpath_push_key(&ld->j.path, "targets");
		if (c->columns) {
			gc_jpath_push_index(&ld->j.path, i % m);
			if (!ld->targets_flat)
				gc_jpath_push_index(&ld->j.path, i / m);
		} else {
			if (!ld->targets_flat)
				gc_jpath_push_index(&ld->j.path, i / m);
			gc_jpath_push_index(&ld->j.path, i % m);
		}
		return gc_jfail(&ld->j, "%s, got %s", why, gc_json_num(t).s);
	}
	if (c->loss != GC_LOSS_MULTICLASS_HINGE)
		return 0;
	for (size_t b = 0; b < c->batch; b++) {
		double ones = 0;
		for (size_t j = 0; j < m; j++)
			ones += c->targets[b * m + j];
		if (ones == 1.0)
			continue;
		gc_jpath_push_key(&ld->j.path, "targets");
		if (!ld->targets_flat && !c->columns)
			gc_jpath_push_index(&ld->j.path, b);
		return gc_jfail(&ld->j, "multiclass_hinge targets must be one-hot: sample %zu has "
				"%.0f ones (or give \"labels\")", b, ones);
	}
	return 0;
}

/* The class indices of "labels" into c->labels and one-hot c->targets. */
static int read_labels(loader *ld)
{
	gc_case *c = ld->c;
	size_t m = c->sizes[c->n_layers], b = 0;
	const cJSON *item;

	c->labels = calloc(c->batch, sizeof *c->labels);
	if (!c->labels)
		return oom(ld);
	gc_jpath_push_key(&ld->j.path, "labels");
	cJSON_ArrayForEach(item, ld->labels) {
		double d;
		gc_jpath_push_index(&ld->j.path, b);
		if (gc_json_integer(&ld->j, item, 0, (double)(m - 1), &d))
			return GC_EINVAL;
		gc_jpath_pop(&ld->j.path);
		c->labels[b] = (size_t)d;
		c->targets[b * m + c->labels[b]] = 1.0;
		b++;
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_samples(loader *ld, const cJSON *node, const char *key, size_t width,
                        const char *sym, double *out)
{
	size_t B = ld->c->batch;
	char note[64];

	gc_jpath_push_key(&ld->j.path, key);
	if (!ld->c->columns) {
		snprintf(note, sizeof note, "B x %s", sym);
		if (gc_json_read_matrix(&ld->j, node, B, width, note, out, NULL))
			return GC_EINVAL;
	} else {
		/* width x B as written, transposed into the (B, width) rows used inside */
		double *tmp = malloc(B * width * sizeof *tmp);
		if (!tmp)
			return oom(ld);
		snprintf(note, sizeof note, "%s x B, samples as columns", sym);
		int rc = gc_json_read_matrix(&ld->j, node, width, B, note, tmp, NULL);
		for (size_t r = 0; rc == 0 && r < width; r++)
			for (size_t b = 0; b < B; b++)
				out[b * width + r] = tmp[r * B + b];
		free(tmp);
		if (rc)
			return GC_EINVAL;
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

/* After find_batch, which load() runs before read_params so that the size checks come
 * before any large allocation. */
static int read_inputs_targets(loader *ld)
{
	gc_case *c = ld->c;
	size_t m = c->sizes[c->n_layers];

	c->inputs = calloc(c->batch * c->sizes[0], sizeof *c->inputs);
	c->targets = calloc(c->batch * m, sizeof *c->targets);
	if (!c->inputs || !c->targets)
		return oom(ld);
	if (ld->inputs && read_samples(ld, ld->inputs, "inputs", c->sizes[0], "n_0", c->inputs))
		return GC_EINVAL;
	if (ld->labels && read_labels(ld))
		return GC_EINVAL;
	if (!ld->labels && ld->targets
	    && read_samples(ld, ld->targets, "targets", m, "n_L", c->targets))
		return GC_EINVAL;
	if (ld->targets && !ld->labels && check_targets(ld))
		return GC_EINVAL;
	if ((!ld->inputs || !ld->targets) && draw_data(ld))
		return GC_EINVAL;
	return 0;
}

/* ---- check and expect --------------------------------------------------------- */

static int positive(loader *ld, const cJSON *obj, const char *key, int *has, double *out)
{
	const cJSON *x = get(obj, key);

	*has = x != NULL;
	if (!x)
		return 0;
	gc_jpath_push_key(&ld->j.path, key);
	if (gc_json_number(&ld->j, x, out))
		return GC_EINVAL;
	if (!(*out > 0))
		return gc_jfail(&ld->j, "expected a number > 0, got %s", gc_json_num(*out).s);
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_check(loader *ld)
{
	static const char *const keys[] = { "step", "rtol", "atol", "method", "precision", NULL };
	const cJSON *node = get(ld->root, "check"), *m;
	gc_case_check *k = &ld->c->check;

	if (!node)
		return 0;
	gc_jpath_push_key(&ld->j.path, "check");
	if (gc_json_check_keys(&ld->j, node, keys)
	    || positive(ld, node, "step", &k->has_step, &k->step)
	    || positive(ld, node, "rtol", &k->has_rtol, &k->rtol)
	    || positive(ld, node, "atol", &k->has_atol, &k->atol))
		return GC_EINVAL;
	if ((m = get(node, "method"))) {
		gc_jpath_push_key(&ld->j.path, "method");
		k->has_method = 1;
		if (gc_method_parse(cJSON_GetStringValue(m), &k->method) != GC_OK)
			return gc_jfail(&ld->j, "expected \"central\" or \"five-point\", got %s%s%s",
					cJSON_IsString(m) ? "\"" : "",
					cJSON_IsString(m) ? m->valuestring : gc_json_kind(m),
					cJSON_IsString(m) ? "\"" : "");
		gc_jpath_pop(&ld->j.path);
	}
	if ((m = get(node, "precision"))) {
		const char *s = cJSON_GetStringValue(m);
		gc_jpath_push_key(&ld->j.path, "precision");
		k->has_precision = 1;
		if (!s || (strcmp(s, "single") != 0 && strcmp(s, "double") != 0))
			return gc_jfail(&ld->j, "expected \"double\" or \"single\", got %s%s%s",
					s ? "\"" : "", s ? s : gc_json_kind(m), s ? "\"" : "");
		k->single = strcmp(s, "single") == 0;
		gc_jpath_pop(&ld->j.path);
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_expect_gradients(loader *ld, const cJSON *node)
{
	gc_case_expect *e = &ld->c->expect;
	size_t n = ld->c->n_params ? ld->c->n_params : 1;

	e->gradient = calloc(n, sizeof *e->gradient);
	e->gradient_given = calloc(n, 1);
	if (!e->gradient || !e->gradient_given)
		return oom(ld);
	gc_jpath_push_key(&ld->j.path, "gradients");
	if (gc_params_read(&ld->j, node, ld->c, e->gradient, e->gradient_given, NULL))
		return GC_EINVAL;
	gc_jpath_pop(&ld->j.path);
	return 0;
}

static int read_expect(loader *ld)
{
	static const char *const keys[] = { "loss", "output", "gradients", "tolerance", NULL };
	const cJSON *node = get(ld->root, "expect"), *x;
	gc_case *c = ld->c;
	gc_case_expect *e = &c->expect;

	e->tolerance = 1e-6;
	if (!node)
		return 0;
	gc_jpath_push_key(&ld->j.path, "expect");
	if (gc_json_check_keys(&ld->j, node, keys))
		return GC_EINVAL;
	if ((x = get(node, "loss"))) {
		gc_jpath_push_key(&ld->j.path, "loss");
		if (gc_json_number(&ld->j, x, &e->loss))
			return GC_EINVAL;
		e->has_loss = 1;
		gc_jpath_pop(&ld->j.path);
	}
	if ((x = get(node, "output"))) {
		e->output = calloc(c->batch * c->sizes[c->n_layers], sizeof *e->output);
		if (!e->output)
			return oom(ld);
		if (read_samples(ld, x, "output", c->sizes[c->n_layers], "n_L", e->output))
			return GC_EINVAL;
	}
	if ((x = get(node, "gradients")) && read_expect_gradients(ld, x))
		return GC_EINVAL;
	if ((x = get(node, "tolerance"))) {
		gc_jpath_push_key(&ld->j.path, "tolerance");
		if (gc_json_number(&ld->j, x, &e->tolerance))
			return GC_EINVAL;
		if (e->tolerance < 0)
			return gc_jfail(&ld->j, "expected a number >= 0, got %s",
					gc_json_num(e->tolerance).s);
		gc_jpath_pop(&ld->j.path);
	}
	gc_jpath_pop(&ld->j.path);
	return 0;
}

/* ---- entry points ------------------------------------------------------------- */

static int load(loader *ld, const char *path)
{
	static const char *const keys[] = {
		"name", "layers", "activations", "bias", "weight_layout", "loss", "reduction",
		"regularization", "params", "init", "inputs", "targets", "labels",
		"sample_layout", "data", "check", "expect", NULL
	};

	if (!cJSON_IsObject(ld->root))
		return gc_jfail(&ld->j, "a case must be a JSON object, got %s", gc_json_kind(ld->root));
	if (gc_json_check_keys(&ld->j, ld->root, keys)
	    || read_name(ld, path) || read_layers(ld) || read_activations(ld)
	    || read_bias_layout(ld) || read_loss(ld) || read_reduction(ld)
	    || read_regularization(ld) || layout_tensors(ld) || find_batch(ld)
	    || read_check(ld) || read_params(ld) || read_inputs_targets(ld) || read_expect(ld))
		return GC_EINVAL;
	return 0;
}

static int parse_limited(const char *text, size_t len, const char *path,
                         const gc_case_limits *lim, gc_case **out, gc_error *err)
{
	loader ld = { .j = { .text = text, .len = len, .err = err }, .lim = lim };
	int rc = GC_EINVAL;

	*out = NULL;
	if (!path)
		path = "";
	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = err->col = 0;
	err->msg[0] = '\0';
	ld.c = calloc(1, sizeof *ld.c);
	if (!ld.c)
		return oom(&ld);
	ld.c->path = dup_string(path, strlen(path));
	if (!ld.c->path) {
		oom(&ld);
		goto out;
	}
	ld.c->json = gc_json_parse(text, len, err);
	if (!ld.c->json)
		goto out;
	ld.root = ld.c->json;
	if (load(&ld, path))
		goto out;
	*out = ld.c;
	ld.c = NULL;
	rc = 0;
out:
	gc_case_free(ld.c);
	return rc;
}

int gc_case_parse(const char *text, size_t len, const char *path, gc_case **out, gc_error *err)
{
	return parse_limited(text, len, path, &gc_case_default_limits, out, err);
}

int gc_case_load_limited(const char *path, const gc_case_limits *lim, gc_case **out,
                         gc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (gc_json_read_file(path, lim->max_file, &text, &len, err))
		return GC_EINVAL;
	rc = parse_limited(text, len, path, lim, out, err);
	free(text);
	return rc;
}

int gc_case_load(const char *path, gc_case **out, gc_error *err)
{
	return gc_case_load_limited(path, &gc_case_default_limits, out, err);
}

/* ---- resolve ------------------------------------------------------------------ */

static int set_key(cJSON *obj, const char *key, cJSON *value)
{
	if (!value)
		return GC_EINVAL;
	if (get(obj, key)) {
		if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value))
			return 0;
	} else if (cJSON_AddItemToObject(obj, key, value)) {
		return 0;
	}
	cJSON_Delete(value);
	return GC_EINVAL;
}

/* The (B, width) samples v as the case's layout writes them: B rows, or width rows
 * of B numbers ("sample_layout": "columns"). */
static cJSON *exact_samples(const gc_case *c, const double *v, size_t width)
{
	size_t B = c->batch;

	if (!c->columns)
		return gc_json_exact_matrix(v, B, width);
	double *t = malloc(B * width * sizeof *t);
	if (!t)
		return NULL;
	for (size_t b = 0; b < B; b++)
		for (size_t r = 0; r < width; r++)
			t[r * B + b] = v[b * width + r];
	cJSON *x = gc_json_exact_matrix(t, width, B);
	free(t);
	return x;
}

char *gc_case_resolve(const gc_case *c)
{
	cJSON *doc = cJSON_Duplicate(c->json, 1);
	char *text = NULL;

	/* The published answers stay with gradcheck: a program under test never sees them
	 * (README, "Grading a class"). */
	if (doc)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "expect");
	if (!doc || gc_json_make_exact(doc)
	    || set_key(doc, "params", gc_params_to_json(c, c->theta))
	    || set_key(doc, "inputs", exact_samples(c, c->inputs, c->sizes[0]))
	    || (!c->labels && set_key(doc, "targets", exact_samples(c, c->targets,
								   c->sizes[c->n_layers]))))
		goto out;
	text = cJSON_Print(doc);
out:
	cJSON_Delete(doc);
	return text;
}

/* FNV-1a, 64 bits, of n bytes at p continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n-- > 0; b++)
		h = (h ^ *b) * 1099511628211ULL;
	return h;
}

int gc_case_digest(const gc_case *c, char out[GC_CASE_DIGEST_LEN + 1])
{
	char *text = cJSON_PrintUnformatted(c->json);
	uint64_t h = 14695981039346656037ULL;

	if (!text)
		return GC_ENOMEM;
	/* the file as parsed, then the numbers resolve writes, as the bits they hold */
	h = fnv1a(h, text, strlen(text));
	cJSON_free(text);
	if (c->theta)
		h = fnv1a(h, c->theta, c->n_params * sizeof *c->theta);
	if (c->inputs)
		h = fnv1a(h, c->inputs, c->batch * c->sizes[0] * sizeof *c->inputs);
	if (c->targets)
		h = fnv1a(h, c->targets, c->batch * c->sizes[c->n_layers] * sizeof *c->targets);
	snprintf(out, GC_CASE_DIGEST_LEN + 1, "%016" PRIx64, h);
	return GC_OK;
}
