/* params.c - parameter-shaped values in JSON ({"weights": [...], "biases": [...]}), laid
 * out like a case's theta: the case's params, the expect block's gradient, gradient files. */
#include <stdio.h>
#include <string.h>
#include "params.h"

/* The note naming tensor t in messages: "W2, out_in: n_2 x n_1" or "b2: n_2". */
static void tensor_note(const gc_case *c, const gc_tensor *t, char *buf, size_t size)
{
	size_t k = (size_t)t->layer;

	if (t->name[0] == 'b')
		snprintf(buf, size, "%s: n_%zu", t->name, k);
	else if (c->layout == GC_LAYOUT_OUT_IN)
		snprintf(buf, size, "%s, out_in: n_%zu x n_%zu", t->name, k, k - 1);
	else
		snprintf(buf, size, "%s, in_out: n_%zu x n_%zu", t->name, k - 1, k);
}

static int read_tensor_list(gc_jctx *j, const cJSON *node, const gc_case *c, int biases,
                            double *out, unsigned char *given, unsigned char *transposed)
{
	const char *what = biases ? "vectors b1..b" : "matrices W1..W";
	const cJSON *item;
	size_t n, k = 0, per_layer = c->bias ? 2 : 1;

	if (!cJSON_IsArray(node))
		return gc_jfail(j, "expected an array of %zu %s%zu, got %s", c->n_layers, what,
				c->n_layers, gc_json_kind(node));
	n = (size_t)cJSON_GetArraySize(node);
	if (n != c->n_layers)
		return gc_jfail(j, "expected %zu %s%zu (one per weight layer), got %zu", c->n_layers,
				what, c->n_layers, n);
	cJSON_ArrayForEach(item, node) {
		size_t ti = k * per_layer + (biases ? 1 : 0);
		const gc_tensor *t = &c->tensors[ti];
		char note[96];
		int rc = 0, tr = 0;

		gc_jpath_push_index(&j->path, k);
		tensor_note(c, t, note, sizeof note);
		if (given && cJSON_IsNull(item)) {
			gc_jpath_pop(&j->path);
			k++;
			continue;
		}
		if (biases && cJSON_IsArray(item) && cJSON_IsArray(item->child))
			/* a column [[b1], [b2], ...] */
			rc = gc_json_read_matrix(j, item, t->rows, 1, note, out + t->offset, NULL);
		else if (biases)
			rc = gc_json_read_vector(j, item, t->rows, note, out + t->offset);
		else
			rc = gc_json_read_matrix(j, item, t->rows, t->cols, note, out + t->offset,
						 transposed ? &tr : NULL);
		if (rc)
			return GC_EINVAL;
		/* a matrix of one row or one column reads the same either way round: a
		 * [n][1] column for a [1][n] row is no transposition (README "Check your own implementation") */
		if (transposed)
			transposed[ti] = (unsigned char)(tr && t->rows != 1 && t->cols != 1);
		if (given)
			memset(given + t->offset, 1, t->rows * t->cols);
		gc_jpath_pop(&j->path);
		k++;
	}
	return 0;
}

int gc_params_read(gc_jctx *j, const cJSON *node, const gc_case *c, double *out,
                   unsigned char *given, unsigned char *transposed)
{
	static const char *const keys[] = { "weights", "biases", NULL };
	const cJSON *w, *b;

	if (gc_json_check_keys(j, node, keys))
		return GC_EINVAL;
	if (given)
		memset(given, 0, c->n_params);
	if (transposed)
		memset(transposed, 0, c->n_tensors);
	w = cJSON_GetObjectItemCaseSensitive(node, "weights");
	b = cJSON_GetObjectItemCaseSensitive(node, "biases");
	gc_jpath_push_key(&j->path, "weights");
	if (!w && !given)
		return gc_jfail(j, "missing (expected %zu matrices W1..W%zu)", c->n_layers, c->n_layers);
	if (w && read_tensor_list(j, w, c, 0, out, given, transposed))
		return GC_EINVAL;
	gc_jpath_pop(&j->path);
	gc_jpath_push_key(&j->path, "biases");
	if (b && !c->bias)
		return gc_jfail(j, "given, but the case has no biases (\"bias\": false)");
	if (!b && c->bias && !given)
		return gc_jfail(j, "missing (the case has biases; \"bias\": false turns them off)");
	if (b && read_tensor_list(j, b, c, 1, out, given, transposed))
		return GC_EINVAL;
	gc_jpath_pop(&j->path);
	return 0;
}

cJSON *gc_params_to_json(const gc_case *c, const double *v)
{
	cJSON *obj = cJSON_CreateObject(), *w = cJSON_CreateArray(), *b = NULL;

	if (c->bias)
		b = cJSON_CreateArray();
	if (!obj || !w || (c->bias && !b))
		goto fail;
	for (size_t t = 0; t < c->n_tensors; t++) {
		const gc_tensor *ten = &c->tensors[t];
		int is_bias = ten->name[0] == 'b';
		cJSON *x = is_bias && !c->bias_columns ? gc_json_exact_vector(v + ten->offset, ten->rows)
				   : gc_json_exact_matrix(v + ten->offset, ten->rows, ten->cols);
		if (!x || !cJSON_AddItemToArray(is_bias ? b : w, x)) {
			cJSON_Delete(x);
			goto fail;
		}
	}
	if (!cJSON_AddItemToObject(obj, "weights", w))
		goto fail;
	w = NULL;
	if (b && !cJSON_AddItemToObject(obj, "biases", b))
		goto fail;
	return obj;
fail:
	cJSON_Delete(w);
	cJSON_Delete(b);
	cJSON_Delete(obj);
	return NULL;
}
