/* gradfile.c - reading and writing gradient files; the matrix code is jsonutil's,
 * shared with the case loader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gradfile.h"
#include "jsonutil.h"
#include "params.h"

static int read_gradfile(gc_jctx *j, const cJSON *root, const gc_case *c, double *grad,
                         unsigned char *transposed, int *has_loss, double *loss)
{
	static const char *const keys[] = { "loss", "gradients", NULL };
	const cJSON *x;

	if (!cJSON_IsObject(root))
		return gc_jfail(j, "a gradient file must be a JSON object, got %s", gc_json_kind(root));
	if (gc_json_check_keys(j, root, keys))
		return GC_EINVAL;
	*has_loss = 0;
	if ((x = cJSON_GetObjectItemCaseSensitive(root, "loss"))) {
		gc_jpath_push_key(&j->path, "loss");
		if (gc_json_number(j, x, loss))
			return GC_EINVAL;
		*has_loss = 1;
		gc_jpath_pop(&j->path);
	}
	x = cJSON_GetObjectItemCaseSensitive(root, "gradients");
	gc_jpath_push_key(&j->path, "gradients");
	if (!x)
		return gc_jfail(j, "missing (expected {\"weights\": [...]%s})",
				c->bias ? ", \"biases\": [...]" : "");
	if (gc_params_read(j, x, c, grad, NULL, transposed))
		return GC_EINVAL;
	gc_jpath_pop(&j->path);
	return 0;
}

int gc_gradfile_parse(const char *text, size_t len, const char *path, const gc_case *c,
                      double *grad, unsigned char *transposed, int *has_loss, double *loss,
                      gc_error *err)
{
	gc_jctx j = { .text = text, .len = len, .err = err, .nonfinite = 1 };
	cJSON *root;
	unsigned char *flags = transposed;
	int rc = GC_EINVAL;

	snprintf(err->file, sizeof err->file, "%s", path ? path : "");
	err->line = err->col = 0;
	err->msg[0] = '\0';
	root = gc_json_parse_nonfinite(text, len, err);
	if (!root)
		return GC_EINVAL;
	if (!flags) {
		flags = malloc(c->n_tensors ? c->n_tensors : 1);
		if (!flags) {
			gc_error_set(err, "out of memory");
			goto out;
		}
	}
	rc = read_gradfile(&j, root, c, grad, flags, has_loss, loss);
out:
	if (flags != transposed)
		free(flags);
	cJSON_Delete(root);
	return rc;
}

int gc_gradfile_load(const char *path, size_t max_file, const gc_case *c, double *grad,
                     unsigned char *transposed, int *has_loss, double *loss, gc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (gc_json_read_file(path, max_file, &text, &len, err))
		return GC_EINVAL;
	rc = gc_gradfile_parse(text, len, path, c, grad, transposed, has_loss, loss, err);
	free(text);
	return rc;
}

char *gc_gradfile_print(const gc_case *c, double loss, const double *grad)
{
	cJSON *doc = cJSON_CreateObject(), *x = NULL;
	char *text = NULL;

	if (!doc)
		return NULL;
	x = gc_json_recorded_number(loss);
	if (!x || !cJSON_AddItemToObject(doc, "loss", x))
		goto out;
	x = gc_params_to_json(c, grad);
	if (!x || !cJSON_AddItemToObject(doc, "gradients", x))
		goto out;
	x = NULL;
	text = cJSON_Print(doc);
out:
	if (!text)
		cJSON_Delete(x);
	cJSON_Delete(doc);
	return text;
}
