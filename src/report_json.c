/* report_json.c - the machine-readable JSON report (README "Reports"): the complete
 * record of a run.  Numbers read back exactly; numbers that are not finite (a NaN
 * gradient, the infinite error of such an element) are written as null, since JSON
 * has no NaN or infinity.  A sharded run also writes every checked element, which
 * is what gc_merge_reports needs to rebuild the unsharded result. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "jsonutil.h"
#include "report.h"
#include "report_common.h"

/* Each add_* returns 0, or -1 when out of memory (the caller deletes the tree). */
static int add_item(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -1;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

static int append(cJSON *arr, cJSON *item)
{
	if (!item)
		return -1;
	if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

static int add_double(cJSON *obj, const char *key, double d)
{
	return add_item(obj, key, gc_json_exact_number(d));
}

static int add_size(cJSON *obj, const char *key, size_t n)
{
	return add_item(obj, key, cJSON_CreateNumber((double)n));
}

static int add_string(cJSON *obj, const char *key, const char *s)
{
	char *fixed = gc_utf8_fix(s ? s : "");
	int rc = fixed ? add_item(obj, key, cJSON_CreateString(fixed)) : -1;

	free(fixed);
	return rc;
}

/* Seeds above 2^53 do not fit a JSON number exactly: written as decimal strings. */
static cJSON *seed_node(unsigned long seed)
{
	char buf[32];

	if ((unsigned long long)seed <= (1ULL << 53))
		return cJSON_CreateNumber((double)seed);
	snprintf(buf, sizeof buf, "%lu", seed);
	return cJSON_CreateString(buf);
}

static cJSON *options_node(const gc_options *o)
{
	cJSON *obj = cJSON_CreateObject();
	char shard[48];
	int rc;

	if (!obj)
		return NULL;
	rc = add_item(obj, "step", o->step > 0 ? gc_json_exact_number(o->step) : cJSON_CreateNull());
	rc |= add_double(obj, "rtol", o->rtol);
	rc |= add_double(obj, "atol", o->atol);
	rc |= add_string(obj, "method", gc_method_name(o->method));
	rc |= add_item(obj, "sample", o->sample ? cJSON_CreateNumber((double)o->sample)
	                                        : cJSON_CreateNull());
	rc |= add_item(obj, "fast", cJSON_CreateBool(o->fast != 0));
	rc |= add_item(obj, "seed", seed_node(o->seed));
	if (o->shard_count > 1) {
		snprintf(shard, sizeof shard, "%u/%u", o->shard_index, o->shard_count);
		rc |= add_string(obj, "shard", shard);
	} else {
		rc |= add_item(obj, "shard", cJSON_CreateNull());
	}
	rc |= add_item(obj, "show", o->show == SIZE_MAX ? cJSON_CreateString("all")
	                                               : cJSON_CreateNumber((double)o->show));
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* One entry of a worst list.  fast: e->index is a direction number, not a theta index. */
static cJSON *worst_node(const gc_tensor *t, const gc_element *e, int fast, int five_point)
{
	cJSON *obj = cJSON_CreateObject();
	char name[96];
	int rc;

	if (!obj)
		return NULL;
	if (fast) {
		rc = add_size(obj, "direction", e->index);
	} else {
		gc_report_element_name(t, e->index, name, sizeof name);
		rc = add_string(obj, "index", name);
		rc |= add_size(obj, "flat", e->index);
	}
	rc |= add_double(obj, "analytic", e->analytic);
	rc |= add_double(obj, "numeric", e->numeric);
	rc |= add_double(obj, "abs", e->abs_err);
	rc |= add_double(obj, "rel", e->rel_err);
	if (five_point || e->est_err != 0)
		rc |= add_double(obj, "est_err", e->est_err);
	rc |= add_double(obj, "step", e->step);
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* [flat, analytic, numeric, abs, rel, est_err, step, verdict]: a checked element of
 * a sharded run, compact because there is one per parameter. */
static cJSON *element_node(const gc_element *e)
{
	cJSON *a = cJSON_CreateArray();
	int rc;

	if (!a)
		return NULL;
	rc = append(a, cJSON_CreateNumber((double)e->index));
	rc |= append(a, gc_json_exact_number(e->analytic));
	rc |= append(a, gc_json_exact_number(e->numeric));
	rc |= append(a, gc_json_exact_number(e->abs_err));
	rc |= append(a, gc_json_exact_number(e->rel_err));
	rc |= append(a, gc_json_exact_number(e->est_err));
	rc |= append(a, gc_json_exact_number(e->step));
	rc |= append(a, cJSON_CreateString(gc_verdict_name(e->verdict)));
	if (rc) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

static cJSON *elements_node(const gc_result *r, const gc_tensor *t)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t k = 0; a && k < t->rows * t->cols; k++) {
		const gc_element *e = &r->elements[t->offset + k];
		if (e->verdict != GC_ELEM_SKIPPED && append(a, element_node(e))) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *shape_node(const gc_tensor *t)
{
	cJSON *a = cJSON_CreateArray();

	if (a && (append(a, cJSON_CreateNumber((double)t->rows)) ||
	          append(a, cJSON_CreateNumber((double)t->cols)))) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

static cJSON *tensor_node(const gc_result *r, const gc_tensor_result *tr, const gc_options *o)
{
	cJSON *obj = cJSON_CreateObject(), *worst = cJSON_CreateArray();
	int fast = tr->directions;
	int five = o->method == GC_METHOD_FIVE_POINT;
	int rc = !obj || !worst;

	for (size_t w = 0; !rc && w < tr->n_worst; w++)
		rc = append(worst, worst_node(&tr->tensor, &tr->worst[w], fast, five));
	if (rc) {
		cJSON_Delete(worst);
		cJSON_Delete(obj);
		return NULL;
	}
	rc = add_string(obj, "name", tr->tensor.name);
	rc |= add_item(obj, "shape", shape_node(&tr->tensor));
	rc |= add_size(obj, "offset", tr->tensor.offset);
	rc |= add_item(obj, "layer", cJSON_CreateNumber(tr->tensor.layer));
	rc |= add_item(obj, "matrix", cJSON_CreateBool(tr->tensor.matrix));
	rc |= add_double(obj, "max_rel", tr->max_rel);
	rc |= add_double(obj, "max_abs", tr->max_abs);
	rc |= add_size(obj, "checked", tr->checked);
	rc |= add_size(obj, "failed", tr->failed);
	rc |= add_size(obj, "kinks", tr->kinks);
	rc |= add_size(obj, "unreliable", tr->unreliable);
	if (o->fast)
		rc |= add_item(obj, "directions", cJSON_CreateBool(fast));
	rc |= add_item(obj, "worst", worst);
	if (!rc && o->shard_count > 1 && !o->fast)
		rc = add_item(obj, "elements", elements_node(r, &tr->tensor));
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *diagnosis_node(const gc_diagnosis *d)
{
	cJSON *obj = cJSON_CreateObject();
	int rc;

	if (!obj)
		return NULL;
	rc = add_string(obj, "tensor", d->tensor);
	rc |= add_string(obj, "kind", gc_diag_kind_name(d->kind));
	rc |= add_string(obj, "detail", d->detail);
	if (d->kind == GC_DIAG_SCALE)
		rc |= add_double(obj, "factor", d->factor);
	if (d->kind == GC_DIAG_ENTRY_LAYER)
		rc |= add_item(obj, "layer", cJSON_CreateNumber(d->layer));
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* Adds the result's numbers, tensors and diagnoses to the case object. */
static int add_result(cJSON *obj, const gc_result *r, const gc_options *o)
{
	cJSON *tensors = cJSON_CreateArray(), *diags = cJSON_CreateArray();
	int rc = !tensors || !diags;

	for (size_t t = 0; !rc && r && t < r->n_tensors; t++)
		rc = append(tensors, tensor_node(r, &r->tensors[t], o));
	for (size_t d = 0; !rc && r && d < r->n_diagnoses; d++)
		rc = append(diags, diagnosis_node(&r->diagnoses[d]));
	if (rc) {
		cJSON_Delete(tensors);
		cJSON_Delete(diags);
		return -1;
	}
	if (r) {
		rc |= add_double(obj, "atol_used", r->atol_used);
		rc |= add_double(obj, "rtol_used", r->rtol_used);
		rc |= add_size(obj, "checked", r->checked);
		rc |= add_size(obj, "failed", r->failed);
		rc |= add_size(obj, "kinks", r->kinks);
		rc |= add_size(obj, "unreliable", r->unreliable);
		if (r->batch)
			rc |= add_size(obj, "batch", r->batch);
		if (r->outputs)
			rc |= add_size(obj, "outputs", r->outputs);
	}
	rc |= add_item(obj, "tensors", tensors);
	rc |= add_item(obj, "diagnoses", diags);
	return rc;
}

static cJSON *case_node(const gc_case_report *c, const gc_options *o)
{
	cJSON *obj = cJSON_CreateObject(), *notes = cJSON_CreateArray();
	int rc = !obj || !notes;

	for (size_t i = 0; !rc && i < c->n_notes; i++)
		rc = append(notes, cJSON_CreateString(c->notes[i] ? c->notes[i] : ""));
	if (rc) {
		cJSON_Delete(notes);
		cJSON_Delete(obj);
		return NULL;
	}
	rc = add_string(obj, "name", c->name);
	rc |= add_string(obj, "status", gc_case_status_name(c->status));
	if (c->status == GC_CASE_ERROR) {
		rc |= add_string(obj, "error", c->error ? c->error : "error");
	} else {
		rc |= add_size(obj, "params", c->n_params);
		rc |= add_double(obj, "loss", c->loss);
	}
	rc |= add_result(obj, c->status == GC_CASE_ERROR ? NULL : c->result, o);
	rc |= add_item(obj, "notes", notes);
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *summary_node(const gc_case_report *cases, size_t n)
{
	cJSON *obj = cJSON_CreateObject();
	size_t passed, failed, errors;
	int rc;

	if (!obj)
		return NULL;
	gc_report_count(cases, n, &passed, &failed, &errors);
	rc = add_size(obj, "passed", passed);
	rc |= add_size(obj, "failed", failed);
	rc |= add_size(obj, "errors", errors);
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *report_node(const gc_case_report *cases, size_t n, const gc_options *o)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	int rc = !root || !arr;

	for (size_t i = 0; !rc && i < n; i++)
		rc = append(arr, case_node(&cases[i], o));
	if (rc) {
		cJSON_Delete(arr);
		cJSON_Delete(root);
		return NULL;
	}
	rc = add_string(root, "tool", "gradcheck");
	rc |= add_string(root, "version", GC_VERSION);
	rc |= add_item(root, "options", options_node(o));
	rc |= add_item(root, "cases", arr);
	rc |= add_item(root, "summary", summary_node(cases, n));
	if (rc) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int gc_report_json(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o)
{
	gc_options defaults;
	cJSON *root;
	char *text;
	int rc = GC_OK;

	if (!o) {
		gc_options_init(&defaults);
		o = &defaults;
	}
	root = report_node(cases, n, o);
	text = root ? cJSON_Print(root) : NULL;
	if (!text)
		rc = GC_ENOMEM;
	else if (fputs(text, out) == EOF || fputc('\n', out) == EOF || ferror(out))
		rc = GC_EIO;
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}
