/* report_json.c - the machine-readable JSON report (README "Reports"): the complete
 * record of a run, written (gc_report_json) and read back (gc_report_json_read) here,
 * so that a field is added in one file.  Numbers read back exactly; numbers that are not finite (a NaN
 * gradient, the infinite error of such an element) are written as null, since JSON
 * has no NaN or infinity.  A sharded run also writes every checked element, which
 * is what gc_merge_reports needs to rebuild the unsharded result. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "jsonutil.h"
#include "report.h"
#include "report_common.h"
#include "report_json.h"

#define GC_ELEMENT_FIELDS 8     /* [flat, analytic, numeric, abs, rel, est_err, step, verdict] */
#define GC_JSON_INT_MAX 9007199254740992.0      /* 2^53: larger integers are not exact */

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

/* A JSON string of s (NULL: "") with invalid UTF-8 replaced (a program's output). */
static cJSON *text_node(const char *s)
{
	char *fixed = gc_utf8_fix(s ? s : "");
	cJSON *node = fixed ? cJSON_CreateString(fixed) : NULL;

	free(fixed);
	return node;
}

static int add_string(cJSON *obj, const char *key, const char *s)
{
	return add_item(obj, key, text_node(s));
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

static cJSON *options_node(const gc_report_options *ro)
{
	const gc_options *o = &ro->check;
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
	rc |= add_item(obj, "show", ro->show == SIZE_MAX ? cJSON_CreateString("all")
	                                                : cJSON_CreateNumber((double)ro->show));
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

static cJSON *tensor_node(const gc_result *r, const gc_tensor_result *tr,
                          const gc_report_options *ro)
{
	const gc_options *o = &ro->check;
	cJSON *obj = cJSON_CreateObject(), *worst = cJSON_CreateArray();
	int fast = tr->directions;
	int five = o->method == GC_METHOD_FIVE_POINT;
	int rc = !obj || !worst;

	for (size_t w = 0; !rc && w < tr->n_worst && w < ro->show; w++)
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
	if (d->kind == GC_DIAG_SCALE || d->kind == GC_DIAG_LOSS_SCALE
	    || d->kind == GC_DIAG_REGULARIZATION)
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
static int add_result(cJSON *obj, const gc_result *r, const gc_report_options *o)
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

static cJSON *case_node(const gc_case_report *c, const gc_report_options *o)
{
	cJSON *obj = cJSON_CreateObject(), *notes = cJSON_CreateArray();
	int rc = !obj || !notes;

	for (size_t i = 0; !rc && i < c->n_notes; i++)
		rc = append(notes, text_node(c->notes[i]));
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
		if (c->digest)
			rc |= add_string(obj, "digest", c->digest);
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

static cJSON *report_node(const gc_case_report *cases, size_t n, const gc_report_options *o)
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

int gc_report_json(FILE *out, const gc_case_report *cases, size_t n,
                   const gc_report_options *o)
{
	gc_report_options defaults;
	cJSON *root;
	char *text;
	int rc = GC_OK;

	if (!o) {
		gc_report_options_init(&defaults);
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


/* ---- reading ------------------------------------------------------------------- */

/* Out of memory: reported without a position. */
static int oom(gc_jctx *j)
{
	j->err->file[0] = '\0';
	j->err->line = j->err->col = 0;
	gc_error_set(j->err, "out of memory");
	return GC_ENOMEM;
}

static const cJSON *get(gc_jctx *j, const cJSON *obj, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!m)
		gc_jfail(j, "missing key \"%s\"", key);
	return m;
}

static const cJSON *get_typed(gc_jctx *j, const cJSON *obj, const char *key,
                              cJSON_bool (*is)(const cJSON *), const char *what)
{
	const cJSON *m = get(j, obj, key);

	if (m && !is(m)) {
		gc_jpath_push_key(&j->path, key);
		gc_jfail(j, "expected %s, got %s", what, gc_json_kind(m));
		gc_jpath_pop(&j->path);
		return NULL;
	}
	return m;
}

static const char *get_string(gc_jctx *j, const cJSON *obj, const char *key)
{
	const cJSON *m = get_typed(j, obj, key, cJSON_IsString, "a string");

	return m ? m->valuestring : NULL;
}

/* obj[key] as an integer in [lo, hi]. */
static int get_integer(gc_jctx *j, const cJSON *obj, const char *key, double lo, double hi,
                       double *out)
{
	const cJSON *m = get(j, obj, key);
	int rc;

	if (!m)
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, key);
	rc = gc_json_integer(j, m, lo, hi, out);
	gc_jpath_pop(&j->path);
	return rc;
}

static int get_size(gc_jctx *j, const cJSON *obj, const char *key, double hi, size_t *out)
{
	double d;
	int rc = get_integer(j, obj, key, 0, hi, &d);

	if (rc == GC_OK)
		*out = (size_t)d;
	return rc;
}

/* A number, or null (JSON's spelling of a value that is not finite) read as if_null. */
static int nullable(gc_jctx *j, const cJSON *node, double if_null, double *out)
{
	if (cJSON_IsNull(node)) {
		*out = if_null;
		return GC_OK;
	}
	if (!cJSON_IsNumber(node))
		return gc_jfail(j, "expected a number or null, got %s", gc_json_kind(node));
	*out = node->valuedouble;
	return GC_OK;
}

static int get_nullable(gc_jctx *j, const cJSON *obj, const char *key, double if_null,
                        double *out)
{
	const cJSON *m = get(j, obj, key);
	int rc;

	if (!m)
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, key);
	rc = nullable(j, m, if_null, out);
	gc_jpath_pop(&j->path);
	return rc;
}

static int get_bool(gc_jctx *j, const cJSON *obj, const char *key, int *out)
{
	const cJSON *m = get_typed(j, obj, key, cJSON_IsBool, "true or false");

	if (!m)
		return GC_EINVAL;
	*out = cJSON_IsTrue(m);
	return GC_OK;
}

/* "K/N" with 1 <= K <= N and N >= 2. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
	int end = 0;

	if (s[0] < '0' || s[0] > '9' || sscanf(s, "%u/%u%n", k, n, &end) != 2 || s[end])
		return GC_EINVAL;
	return *k >= 1 && *k <= *n && *n >= 2 ? GC_OK : GC_EINVAL;
}

static int read_shard(gc_jctx *j, const cJSON *opt, gc_options *o)
{
	const cJSON *m = get(j, opt, "shard");
	int rc = GC_OK;

	if (!m)
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, "shard");
	if (cJSON_IsString(m) && parse_shard(m->valuestring, &o->shard_index, &o->shard_count))
		rc = gc_jfail(j, "expected \"K/N\" with 1 <= K <= N and N >= 2, got \"%s\"",
		              m->valuestring);
	else if (!cJSON_IsString(m) && !cJSON_IsNull(m))
		rc = gc_jfail(j, "expected \"K/N\" or null, got %s", gc_json_kind(m));
	gc_jpath_pop(&j->path);
	return rc;
}

/* A seed: a number up to 2^53, or a decimal string above it. */
static int read_seed(gc_jctx *j, const cJSON *opt, unsigned long *seed)
{
	const cJSON *m = get(j, opt, "seed");
	const char *s;
	double d;
	int rc = GC_OK;

	if (!m)
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, "seed");
	if (cJSON_IsString(m)) {
		for (s = m->valuestring; *s >= '0' && *s <= '9'; s++)
			;
		if (*s || !m->valuestring[0])
			rc = gc_jfail(j, "expected digits, got \"%s\"", m->valuestring);
		else
			*seed = strtoul(m->valuestring, NULL, 10);
	} else if ((rc = gc_json_integer(j, m, 0, GC_JSON_INT_MAX, &d)) == GC_OK) {
		*seed = (unsigned long)d;
	}
	gc_jpath_pop(&j->path);
	return rc;
}

static int read_method(gc_jctx *j, const cJSON *opt, gc_method *method)
{
	const char *s = get_string(j, opt, "method");

	if (!s)
		return GC_EINVAL;
	if (gc_method_parse(s, method) == GC_OK)
		return GC_OK;
	gc_jpath_push_key(&j->path, "method");
	gc_jfail(j, "expected \"central\" or \"five-point\", got \"%s\"", s);
	gc_jpath_pop(&j->path);
	return GC_EINVAL;
}

static int read_options(gc_jctx *j, const cJSON *opt, gc_report_options *ro)
{
	gc_options *o = &ro->check;
	const cJSON *m;
	double d;
	int rc;

	gc_report_options_init(ro);
	gc_jpath_push_key(&j->path, "options");
	if ((rc = read_shard(j, opt, o)) || (rc = get_nullable(j, opt, "step", 0, &o->step)) ||
	    (rc = get_nullable(j, opt, "rtol", 0, &o->rtol)) ||
	    (rc = get_nullable(j, opt, "atol", 0, &o->atol)) ||
	    (rc = get_nullable(j, opt, "sample", 0, &d)) ||
	    (rc = get_bool(j, opt, "fast", &o->fast)) || (rc = read_method(j, opt, &o->method)) ||
	    (rc = read_seed(j, opt, &o->seed)))
		return rc;
	o->sample = d > 0 ? (size_t)d : 0;
	if (!(m = get(j, opt, "show")))
		return GC_EINVAL;
	if (cJSON_IsString(m) && strcmp(m->valuestring, "all") == 0)
		ro->show = SIZE_MAX;
	else if ((rc = get_size(j, opt, "show", GC_JSON_INT_MAX, &ro->show)))
		return rc;
	gc_jpath_pop(&j->path);
	return GC_OK;
}

/* shape as [rows, cols], each at most n. */
static int read_shape(gc_jctx *j, const cJSON *shape, size_t n, double *rows, double *cols)
{
	int rc;

	gc_jpath_push_key(&j->path, "shape");
	if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2)
		return gc_jfail(j, "expected [rows, cols], got %s", gc_json_kind(shape));
	gc_jpath_push_index(&j->path, 0);
	rc = gc_json_integer(j, shape->child, 0, (double)n, rows);
	gc_jpath_pop(&j->path);
	if (rc)
		return rc;
	gc_jpath_push_index(&j->path, 1);
	rc = gc_json_integer(j, shape->child->next, 0, (double)n, cols);
	gc_jpath_pop(&j->path);
	gc_jpath_pop(&j->path);
	return rc;
}

/* Name, shape, offset, layer and matrix of a tensor of a case of n parameters whose
 * previous tensor ends at prev_end. */
static int read_layout(gc_jctx *j, const cJSON *node, size_t n, size_t prev_end, gc_tensor *t)
{
	const cJSON *matrix = cJSON_GetObjectItemCaseSensitive(node, "matrix");
	double rows, cols, offset, layer;
	int rc;

	if (!(t->name = get_string(j, node, "name")) || !get(j, node, "shape"))
		return GC_EINVAL;
	if ((rc = read_shape(j, cJSON_GetObjectItemCaseSensitive(node, "shape"), n, &rows, &cols)) ||
	    (rc = get_integer(j, node, "offset", 0, (double)n, &offset)) ||
	    (rc = get_integer(j, node, "layer", 0, 1e6, &layer)))
		return rc;
	if (matrix && (rc = get_bool(j, node, "matrix", &t->matrix)))
		return rc;
	t->rows = (size_t)rows;
	t->cols = (size_t)cols;
	t->offset = (size_t)offset;
	t->layer = (int)layer;
	if (t->offset < prev_end)
		return gc_jfail(j, "overlaps the tensor before it");
	if (t->cols && t->rows > (n - t->offset) / t->cols)
		return gc_jfail(j, "runs past the case's %zu parameters", n);
	return GC_OK;
}

/* One [flat, analytic, numeric, abs, rel, est_err, step, verdict] of tensor t into r. */
static int read_element(gc_jctx *j, const cJSON *node, const gc_tensor *t, gc_result *r)
{
	/* what null stands for in each numeric field: a NaN value, an infinite error */
	static const double if_null[] = { 0, NAN, NAN, INFINITY, INFINITY, NAN, NAN };
	double v[GC_ELEMENT_FIELDS - 1];
	const cJSON *item = node ? node->child : NULL;
	gc_verdict verdict;
	int rc;

	if (!cJSON_IsArray(node) || cJSON_GetArraySize(node) != GC_ELEMENT_FIELDS)
		return gc_jfail(j, "expected [flat, analytic, numeric, abs, rel, est_err, step, "
		                "verdict], got %s", gc_json_kind(node));
	for (size_t f = 0; f < GC_ELEMENT_FIELDS - 1; f++, item = item->next) {
		gc_jpath_push_index(&j->path, f);
		rc = f == 0 ? gc_json_integer(j, item, (double)t->offset,
		                              (double)(t->offset + t->rows * t->cols) - 1, &v[0])
		            : nullable(j, item, if_null[f], &v[f]);
		if (rc)
			return rc;
		gc_jpath_pop(&j->path);
	}
	gc_jpath_push_index(&j->path, GC_ELEMENT_FIELDS - 1);
	/* a report lists checked elements only */
	if (gc_verdict_parse(cJSON_GetStringValue(item), &verdict) != GC_OK ||
	    verdict == GC_ELEM_SKIPPED)
		return gc_jfail(j, "expected \"pass\", \"fail\" or \"kink\"");
	gc_jpath_pop(&j->path);
	gc_element *e = &r->elements[(size_t)v[0]];
	if (e->verdict != GC_ELEM_SKIPPED)
		return gc_jfail(j, "element %zu is listed twice", e->index);
	*e = (gc_element){ e->index, v[1], v[2], v[3], v[4], v[5], v[6], verdict };
	return GC_OK;
}

static int read_elements(gc_jctx *j, const cJSON *elems, const gc_tensor *t, gc_result *r)
{
	const cJSON *e;
	size_t k = 0;
	int rc;

	gc_jpath_push_key(&j->path, "elements");
	if (!cJSON_IsArray(elems))
		return gc_jfail(j, "expected an array, got %s", gc_json_kind(elems));
	cJSON_ArrayForEach(e, elems) {
		gc_jpath_push_index(&j->path, k++);
		if ((rc = read_element(j, e, t, r)))
			return rc;
		gc_jpath_pop(&j->path);
	}
	gc_jpath_pop(&j->path);
	return GC_OK;
}

/* One entry of a worst list (a failing element); directions: a direction's number,
 * not a theta index. */
static int read_worst_entry(gc_jctx *j, const cJSON *node, const gc_tensor *t, int directions,
                            gc_element *e)
{
	double flat;
	int rc;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	if (directions) {
		rc = get_size(j, node, "direction", GC_JSON_INT_MAX, &e->index);
	} else {
		rc = get_integer(j, node, "flat", (double)t->offset,
		                 (double)(t->offset + t->rows * t->cols) - 1, &flat);
		e->index = (size_t)flat;
		if (rc == GC_OK && !get_string(j, node, "index"))
			rc = GC_EINVAL;
	}
	if (rc || (rc = get_nullable(j, node, "analytic", NAN, &e->analytic)) ||
	    (rc = get_nullable(j, node, "numeric", NAN, &e->numeric)) ||
	    (rc = get_nullable(j, node, "abs", INFINITY, &e->abs_err)) ||
	    (rc = get_nullable(j, node, "rel", INFINITY, &e->rel_err)) ||
	    (rc = get_nullable(j, node, "step", NAN, &e->step)))
		return rc;
	e->est_err = 0;
	if (cJSON_GetObjectItemCaseSensitive(node, "est_err") &&
	    (rc = get_nullable(j, node, "est_err", NAN, &e->est_err)))
		return rc;
	e->verdict = GC_ELEM_FAIL;
	return GC_OK;
}

static int read_worst(gc_jctx *j, const cJSON *node, int directions, gc_tensor_result *tr)
{
	const cJSON *worst = get_typed(j, node, "worst", cJSON_IsArray, "an array"), *e;
	size_t w = 0;
	int rc;

	if (!worst)
		return GC_EINVAL;
	tr->n_worst = (size_t)cJSON_GetArraySize(worst);
	if (tr->n_worst && !(tr->worst = calloc(tr->n_worst, sizeof *tr->worst)))
		return oom(j);
	gc_jpath_push_key(&j->path, "worst");
	cJSON_ArrayForEach(e, worst) {
		gc_jpath_push_index(&j->path, w);
		if ((rc = read_worst_entry(j, e, &tr->tensor, directions, &tr->worst[w++])))
			return rc;
		gc_jpath_pop(&j->path);
	}
	gc_jpath_pop(&j->path);
	return GC_OK;
}

static int read_tensor(gc_jctx *j, const cJSON *node, const gc_options *o, size_t prev_end,
                       gc_result *r, gc_tensor_result *tr)
{
	const cJSON *elems;
	int rc;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	if ((rc = read_layout(j, node, r->n, prev_end, &tr->tensor)) ||
	    (rc = get_nullable(j, node, "max_rel", INFINITY, &tr->max_rel)) ||
	    (rc = get_nullable(j, node, "max_abs", INFINITY, &tr->max_abs)) ||
	    (rc = get_size(j, node, "checked", GC_JSON_INT_MAX, &tr->checked)) ||
	    (rc = get_size(j, node, "failed", GC_JSON_INT_MAX, &tr->failed)) ||
	    (rc = get_size(j, node, "kinks", GC_JSON_INT_MAX, &tr->kinks)) ||
	    (rc = get_size(j, node, "unreliable", GC_JSON_INT_MAX, &tr->unreliable)) ||
	    (o->fast && (rc = get_bool(j, node, "directions", &tr->directions))) ||
	    (rc = read_worst(j, node, tr->directions, tr)))
		return rc;
	if (o->fast)
		return GC_OK;
	elems = cJSON_GetObjectItemCaseSensitive(node, "elements");
	if (!elems && o->shard_count > 1)
		return gc_jfail(j, "missing key \"elements\" (the checked elements a shard's "
		                "report lists)");
	return elems ? read_elements(j, elems, &tr->tensor, r) : GC_OK;
}

static int read_diagnosis(gc_jctx *j, const cJSON *node, gc_diagnosis *d)
{
	const char *tensor, *kind, *detail;
	double layer;
	int rc = GC_OK;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	if (!(tensor = get_string(j, node, "tensor")) || !(kind = get_string(j, node, "kind")) ||
	    !(detail = get_string(j, node, "detail")))
		return GC_EINVAL;
	if (gc_diag_kind_parse(kind, &d->kind) != GC_OK) {
		gc_jpath_push_key(&j->path, "kind");
		return gc_jfail(j, "expected \"scale\", \"sign\", \"zero\", \"transpose\", "
		                "\"entry_layer\", \"regularization\", \"loss_scale\", "
		                "\"precision\" or \"weight_product\", got \"%s\"", kind);
	}
	snprintf(d->tensor, sizeof d->tensor, "%s", tensor);
	snprintf(d->detail, sizeof d->detail, "%s", detail);
	if (d->kind == GC_DIAG_SCALE || d->kind == GC_DIAG_LOSS_SCALE
	    || d->kind == GC_DIAG_REGULARIZATION)
		rc = get_nullable(j, node, "factor", NAN, &d->factor);
	if (d->kind == GC_DIAG_ENTRY_LAYER && (rc = get_integer(j, node, "layer", 0, 1e6, &layer)) == GC_OK)
		d->layer = (int)layer;
	return rc;
}

/* Optional integer field (absent: 0), for batch and outputs. */
static int get_optional_size(gc_jctx *j, const cJSON *obj, const char *key, size_t *out)
{
	*out = 0;
	return cJSON_GetObjectItemCaseSensitive(obj, key) ? get_size(j, obj, key, GC_JSON_INT_MAX, out)
	                                                  : GC_OK;
}

/* The result of a case of r->n parameters: totals, tensors, elements, diagnoses. */
static int read_result(gc_jctx *j, const cJSON *c, const gc_options *o, gc_result *r)
{
	const cJSON *tensors, *diags, *node;
	size_t t = 0, d = 0, end = 0;
	int rc;

	if ((rc = get_nullable(j, c, "atol_used", INFINITY, &r->atol_used)) ||
	    (rc = get_nullable(j, c, "rtol_used", INFINITY, &r->rtol_used)) ||
	    (rc = get_size(j, c, "checked", GC_JSON_INT_MAX, &r->checked)) ||
	    (rc = get_size(j, c, "failed", GC_JSON_INT_MAX, &r->failed)) ||
	    (rc = get_size(j, c, "kinks", GC_JSON_INT_MAX, &r->kinks)) ||
	    (rc = get_size(j, c, "unreliable", GC_JSON_INT_MAX, &r->unreliable)) ||
	    (rc = get_optional_size(j, c, "batch", &r->batch)) ||
	    (rc = get_optional_size(j, c, "outputs", &r->outputs)))
		return rc;
	if (!(tensors = get_typed(j, c, "tensors", cJSON_IsArray, "an array")) ||
	    !(diags = get_typed(j, c, "diagnoses", cJSON_IsArray, "an array")))
		return GC_EINVAL;
	if (!o->fast) {
		if (!(r->elements = calloc(r->n ? r->n : 1, sizeof *r->elements)))
			return oom(j);
		for (size_t i = 0; i < r->n; i++)
			r->elements[i] = (gc_element){ .index = i, .verdict = GC_ELEM_SKIPPED };
	}
	r->n_tensors = (size_t)cJSON_GetArraySize(tensors);
	r->n_diagnoses = (size_t)cJSON_GetArraySize(diags);
	if (!(r->tensors = calloc(r->n_tensors ? r->n_tensors : 1, sizeof *r->tensors)) ||
	    !(r->diagnoses = calloc(r->n_diagnoses ? r->n_diagnoses : 1, sizeof *r->diagnoses)))
		return oom(j);
	gc_jpath_push_key(&j->path, "tensors");
	cJSON_ArrayForEach(node, tensors) {
		gc_tensor_result *tr = &r->tensors[t];
		gc_jpath_push_index(&j->path, t++);
		if ((rc = read_tensor(j, node, o, end, r, tr)))
			return rc;
		gc_jpath_pop(&j->path);
		end = tr->tensor.offset + tr->tensor.rows * tr->tensor.cols;
	}
	gc_jpath_pop(&j->path);
	gc_jpath_push_key(&j->path, "diagnoses");
	cJSON_ArrayForEach(node, diags) {
		gc_jpath_push_index(&j->path, d);
		if ((rc = read_diagnosis(j, node, &r->diagnoses[d++])))
			return rc;
		gc_jpath_pop(&j->path);
	}
	gc_jpath_pop(&j->path);
	return GC_OK;
}

static int read_notes(gc_jctx *j, const cJSON *c, gc_case_report *cr)
{
	const cJSON *notes = get_typed(j, c, "notes", cJSON_IsArray, "an array"), *note;
	const char **out;
	size_t k = 0;

	if (!notes)
		return GC_EINVAL;
	if (!(out = calloc((size_t)cJSON_GetArraySize(notes) + 1, sizeof *out)))
		return oom(j);
	cr->notes = out;
	gc_jpath_push_key(&j->path, "notes");
	cJSON_ArrayForEach(note, notes) {
		gc_jpath_push_index(&j->path, k);
		if (!cJSON_IsString(note))
			return gc_jfail(j, "expected a string, got %s", gc_json_kind(note));
		gc_jpath_pop(&j->path);
		out[k++] = note->valuestring;
	}
	gc_jpath_pop(&j->path);
	cr->n_notes = k;
	return GC_OK;
}

/* A case's digest: 16 lowercase hex digits (case.h, gc_case_digest). */
static int read_digest(gc_jctx *j, const cJSON *c, const char **out)
{
	const char *s = get_string(j, c, "digest");
	size_t n = 0;

	if (!s)
		return GC_EINVAL;
	while (n < 17 && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
		n++;
	if (n != 16 || s[n]) {
		gc_jpath_push_key(&j->path, "digest");
		return gc_jfail(j, "expected 16 hexadecimal digits, got \"%s\"", s);
	}
	*out = s;
	return GC_OK;
}

static int read_case(gc_jctx *j, const cJSON *c, const gc_options *o, gc_case_report *cr)
{
	const char *status;
	gc_result *r;
	double n;
	int rc;

	if (!cJSON_IsObject(c))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(c));
	if (!(cr->name = get_string(j, c, "name")) || !(status = get_string(j, c, "status")))
		return GC_EINVAL;
	if (gc_case_status_parse(status, &cr->status) != GC_OK) {
		gc_jpath_push_key(&j->path, "status");
		return gc_jfail(j, "expected \"pass\", \"fail\" or \"error\", got \"%s\"", status);
	}
	if ((rc = read_notes(j, c, cr)))
		return rc;
	if (cr->status == GC_CASE_ERROR)
		return (cr->error = get_string(j, c, "error")) ? GC_OK : GC_EINVAL;
	if ((rc = get_integer(j, c, "params", 0, (double)(SIZE_MAX / sizeof(gc_element)), &n)) ||
	    (rc = get_nullable(j, c, "loss", NAN, &cr->loss)))
		return rc;
	cr->n_params = (size_t)n;
	if (cJSON_GetObjectItemCaseSensitive(c, "digest") && (rc = read_digest(j, c, &cr->digest)))
		return rc;
	if (!cJSON_GetObjectItemCaseSensitive(c, "atol_used"))
		return GC_OK;           /* written without a result */
	if (!(r = calloc(1, sizeof *r)))
		return oom(j);
	cr->result = r;
	r->n = cr->n_params;
	return read_result(j, c, o, r);
}

int gc_report_json_read(char *text, size_t len, const char *path, gc_json_report *out,
                        gc_error *err)
{
	gc_jctx j = { .text = text, .len = len, .err = err };
	const cJSON *tool, *opt, *cases, *c;
	size_t i = 0;
	int rc = GC_EINVAL;

	memset(out, 0, sizeof *out);
	out->text = text;
	out->len = len;
	memset(err, 0, sizeof *err);
	snprintf(err->file, sizeof err->file, "%s", path);
	if (!(out->root = gc_json_parse(text, len, err)))
		goto fail;
	tool = cJSON_GetObjectItemCaseSensitive(out->root, "tool");
	if (!cJSON_IsString(tool) || strcmp(tool->valuestring, "gradcheck") != 0) {
		gc_jfail(&j, "not a gradcheck JSON report (no \"tool\": \"gradcheck\")");
		goto fail;
	}
	if (!(out->version = get_string(&j, out->root, "version")) ||
	    !(opt = get_typed(&j, out->root, "options", cJSON_IsObject, "an object")) ||
	    !(cases = get_typed(&j, out->root, "cases", cJSON_IsArray, "an array")))
		goto fail;
	if ((rc = read_options(&j, opt, &out->options)))
		goto fail;
	out->n_cases = (size_t)cJSON_GetArraySize(cases);
	if (!(out->cases = calloc(out->n_cases ? out->n_cases : 1, sizeof *out->cases))) {
		rc = oom(&j);
		goto fail;
	}
	gc_jpath_push_key(&j.path, "cases");
	cJSON_ArrayForEach(c, cases) {
		gc_jpath_push_index(&j.path, i);
		if ((rc = read_case(&j, c, &out->options.check, &out->cases[i++])))
			goto fail;
		gc_jpath_pop(&j.path);
	}
	return GC_OK;
fail:
	gc_json_report_free(out);
	return rc;
}

int gc_report_json_load(const char *path, size_t max, gc_json_report *out, gc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	if ((rc = gc_json_read_file(path, max, &text, &len, err)) != GC_OK)
		return rc;
	return gc_report_json_read(text, len, path, out, err);
}

void gc_json_report_free(gc_json_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->cases && i < r->n_cases; i++) {
		gc_result_free((gc_result *)r->cases[i].result);
		free((void *)r->cases[i].notes);
	}
	free(r->cases);
	cJSON_Delete(r->root);
	free(r->text);
	memset(r, 0, sizeof *r);
}
