/* merge.c - join the JSON reports of the shards of one run into the report the
 * unsharded run would have written.
 *
 * A sharded report lists every element it checked ("elements" per tensor), so the
 * merge rebuilds each case's full gc_result (unchecked elements SKIPPED), recomputes
 * the tensor statistics and worst lists the way the checker does, and reruns the
 * diagnoses.  In fast mode a shard checks whole tensors, so the tensors' statistics
 * and worst lists are united instead. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "case.h"
#include "jsonutil.h"
#include "merge.h"
#include "report.h"

#define GC_ELEMENT_FIELDS 8     /* [flat, analytic, numeric, abs, rel, est_err, step, verdict] */

typedef struct gc_shard {
	const char *path;
	char *text;
	size_t len;
	cJSON *root;
	gc_jctx j;              /* positions and key paths for messages about this file */
	unsigned k, n;          /* shard k of n */
	const cJSON *version, *options, *cases;
} gc_shard;

typedef struct gc_merged_case {
	gc_case_report report;
	gc_result *result;
	const char **notes;     /* strings owned by the shards' cJSON trees */
} gc_merged_case;

/* Messages from now on name s's file. */
static gc_jctx *use(gc_shard *s)
{
	snprintf(s->j.err->file, sizeof s->j.err->file, "%s", s->path);
	s->j.err->line = s->j.err->col = 0;
	return &s->j;
}

/* Out of memory: reported without a position; gc_merge_reports turns it into GC_ENOMEM. */
static int oom(gc_jctx *j)
{
	j->err->file[0] = '\0';
	j->err->line = j->err->col = 0;
	gc_error_set(j->err, "out of memory");
	return -1;
}

/* ---- checked reads of report fields ------------------------------------------ */

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

static int get_size(gc_jctx *j, const cJSON *obj, const char *key, double hi, size_t *out)
{
	const cJSON *m = get(j, obj, key);
	double d;
	int rc;

	if (!m)
		return -1;
	gc_jpath_push_key(&j->path, key);
	rc = gc_json_integer(j, m, 0, hi, &d);
	gc_jpath_pop(&j->path);
	if (rc == 0)
		*out = (size_t)d;
	return rc;
}

/* A number, or null (JSON's spelling of a non-finite value) read as if_null. */
static int nullable(gc_jctx *j, const cJSON *node, double if_null, double *out)
{
	if (cJSON_IsNull(node)) {
		*out = if_null;
		return 0;
	}
	if (!cJSON_IsNumber(node))
		return gc_jfail(j, "expected a number or null, got %s", gc_json_kind(node));
	*out = node->valuedouble;
	return 0;
}

static int get_nullable(gc_jctx *j, const cJSON *obj, const char *key, double if_null,
                        double *out)
{
	const cJSON *m = get(j, obj, key);
	int rc;

	if (!m)
		return -1;
	gc_jpath_push_key(&j->path, key);
	rc = nullable(j, m, if_null, out);
	gc_jpath_pop(&j->path);
	return rc;
}

/* "K/N" with 1 <= K <= N and N >= 2. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
	int end = 0;

	if (s[0] < '0' || s[0] > '9' || sscanf(s, "%u/%u%n", k, n, &end) != 2 || s[end])
		return -1;
	return *k >= 1 && *k <= *n && *n >= 2 ? 0 : -1;
}

/* ---- loading and matching the shards ----------------------------------------- */

static int load_shard(gc_shard *s, gc_error *err)
{
	const cJSON *tool, *shard;
	gc_jctx *j = &s->j;

	j->err = err;
	if (gc_json_read_file(s->path, gc_case_default_limits.max_file, &s->text, &s->len, err))
		return GC_EINVAL;
	s->root = gc_json_parse(s->text, s->len, err);
	if (!s->root)
		return GC_EINVAL;
	j->text = s->text;
	j->len = s->len;
	tool = cJSON_GetObjectItemCaseSensitive(s->root, "tool");
	if (!cJSON_IsString(tool) || strcmp(tool->valuestring, "gradcheck") != 0) {
		gc_jfail(j, "not a gradcheck JSON report (no \"tool\": \"gradcheck\")");
		return GC_EINVAL;
	}
	s->version = get_typed(j, s->root, "version", cJSON_IsString, "a string");
	s->options = s->version ? get_typed(j, s->root, "options", cJSON_IsObject, "an object") : NULL;
	s->cases = s->options ? get_typed(j, s->root, "cases", cJSON_IsArray, "an array") : NULL;
	if (!s->cases)
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, "options");
	if (!(shard = get(j, s->options, "shard")))
		return GC_EINVAL;
	gc_jpath_push_key(&j->path, "shard");
	if (!cJSON_IsString(shard)) {
		gc_jfail(j, "not the report of a shard (written without --shard K/N)");
		return GC_EINVAL;
	}
	if (parse_shard(shard->valuestring, &s->k, &s->n)) {
		gc_jfail(j, "expected \"K/N\" with 1 <= K <= N and N >= 2, got \"%s\"",
		         shard->valuestring);
		return GC_EINVAL;
	}
	j->path.depth = 0;
	return GC_OK;
}

static int cmp_shard_k(const void *pa, const void *pb)
{
	const gc_shard *a = *(gc_shard *const *)pa, *b = *(gc_shard *const *)pb;
	return (a->k > b->k) - (a->k < b->k);
}

/* Points s's messages at its options.shard. */
static gc_jctx *at_shard(gc_shard *s)
{
	gc_jctx *j = use(s);

	j->path.depth = 0;
	gc_jpath_push_key(&j->path, "options");
	gc_jpath_push_key(&j->path, "shard");
	return j;
}

/* Fills by_k with the shards in order 1..N; fails on mixed N, a repeat or a gap. */
static int order_shards(gc_shard *sh, size_t n, gc_shard **by_k, gc_error *err)
{
	unsigned total = sh[0].n;

	for (size_t i = 0; i < n; i++) {
		if (sh[i].n != total) {
			gc_jfail(at_shard(&sh[i]), "shard %u/%u, but %s is shard %u/%u: shards of "
			         "different runs", sh[i].k, sh[i].n, sh[0].path, sh[0].k, total);
			return GC_EINVAL;
		}
		by_k[i] = &sh[i];
	}
	qsort(by_k, n, sizeof *by_k, cmp_shard_k);
	for (size_t i = 1; i < n; i++) {
		if (by_k[i]->k == by_k[i - 1]->k) {
			gc_jfail(at_shard(by_k[i]), "shard %u/%u given twice (%s is shard %u/%u too)",
			         by_k[i]->k, total, by_k[i - 1]->path, by_k[i]->k, total);
			return GC_EINVAL;
		}
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || by_k[i]->k != i + 1) {
			if (i == n && n == total)
				break;
			err->file[0] = '\0';
			err->line = err->col = 0;
			gc_error_set(err, "shard %zu/%u is missing (got %zu report%s)", i + 1, total,
			             n, n == 1 ? "" : "s");
			return GC_EINVAL;
		}
	}
	return GC_OK;
}

static size_t count_keys_but_shard(const cJSON *obj)
{
	const cJSON *item;
	size_t n = 0;

	cJSON_ArrayForEach(item, obj)
		n += strcmp(item->string, "shard") != 0;
	return n;
}

/* s is a shard of the same run as ref: same version, options but the shard, cases. */
static int same_run(gc_shard *ref, gc_shard *s)
{
	gc_jctx *j = use(s);
	const cJSON *item, *other;

	if (strcmp(ref->version->valuestring, s->version->valuestring) != 0) {
		gc_jpath_push_key(&j->path, "version");
		return gc_jfail(j, "version %s, but %s was written by version %s",
		                s->version->valuestring, ref->path, ref->version->valuestring);
	}
	gc_jpath_push_key(&j->path, "options");
	cJSON_ArrayForEach(item, ref->options) {
		if (strcmp(item->string, "shard") == 0)
			continue;
		other = cJSON_GetObjectItemCaseSensitive(s->options, item->string);
		if (!other || !cJSON_Compare(item, other, 1)) {
			gc_jpath_push_key(&j->path, item->string);
			return gc_jfail(j, "differs from %s's: not shards of the same run", ref->path);
		}
	}
	if (count_keys_but_shard(ref->options) != count_keys_but_shard(s->options))
		return gc_jfail(j, "has options %s has not: not shards of the same run", ref->path);
	gc_jpath_pop(&j->path);
	gc_jpath_push_key(&j->path, "cases");
	if (cJSON_GetArraySize(ref->cases) != cJSON_GetArraySize(s->cases))
		return gc_jfail(j, "%d cases, but %s has %d: not shards of the same run",
		                cJSON_GetArraySize(s->cases), ref->path,
		                cJSON_GetArraySize(ref->cases));
	other = s->cases->child;
	size_t i = 0;
	cJSON_ArrayForEach(item, ref->cases) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(item, "name");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(other, "name");
		gc_jpath_push_index(&j->path, i);
		if (!cJSON_IsString(a) || !cJSON_IsString(b) || strcmp(a->valuestring, b->valuestring)) {
			gc_jpath_push_key(&j->path, "name");
			return gc_jfail(j, "case \"%s\", but %s has \"%s\" here: not shards of the "
			                "same run", cJSON_IsString(b) ? b->valuestring : "?", ref->path,
			                cJSON_IsString(a) ? a->valuestring : "?");
		}
		gc_jpath_pop(&j->path);
		other = other->next;
		i++;
	}
	j->path.depth = 0;
	return 0;
}

/* The options of the run, without the shard, from a shard's report. */
static int read_options(gc_shard *s, gc_options *o)
{
	gc_jctx *j = use(s);
	const cJSON *opt = s->options, *m;
	const char *method;
	double d;

	gc_options_init(o);
	gc_jpath_push_key(&j->path, "options");
	if (get_nullable(j, opt, "step", 0, &o->step) || get_nullable(j, opt, "rtol", 0, &o->rtol) ||
	    get_nullable(j, opt, "atol", 0, &o->atol) || get_nullable(j, opt, "sample", 0, &d))
		return -1;
	o->sample = d > 0 ? (size_t)d : 0;
	if (!(m = get_typed(j, opt, "fast", cJSON_IsBool, "true or false")))
		return -1;
	o->fast = cJSON_IsTrue(m);
	if (!(method = get_string(j, opt, "method")))
		return -1;
	if (gc_method_parse(method, &o->method) != GC_OK)
		o->method = GC_METHOD_CENTRAL;
	if (!(m = get(j, opt, "seed")))
		return -1;
	o->seed = cJSON_IsString(m) ? strtoul(m->valuestring, NULL, 10)
	                            : (unsigned long)fmax(0, fmin(m->valuedouble, 9007199254740992.0));
	if (!(m = get(j, opt, "show")))
		return -1;
	if (cJSON_IsString(m) && strcmp(m->valuestring, "all") == 0)
		o->show = SIZE_MAX;
	else if (get_size(j, opt, "show", 9007199254740992.0, &o->show))
		return -1;
	j->path.depth = 0;
	return 0;
}


static void add_totals(gc_result *r)
{
	r->checked = r->failed = r->kinks = r->unreliable = 0;
	for (size_t t = 0; t < r->n_tensors; t++) {
		r->checked += r->tensors[t].checked;
		r->failed += r->tensors[t].failed;
		r->kinks += r->tensors[t].kinks;
		r->unreliable += r->tensors[t].unreliable;
	}
}

/* ---- rebuilding a case ---------------------------------------------------------- */

/* obj[key] as an integer in [lo, hi]. */
static int get_integer(gc_jctx *j, const cJSON *obj, const char *key, double lo, double hi,
                       double *out)
{
	const cJSON *m = get(j, obj, key);
	int rc;

	if (!m)
		return -1;
	gc_jpath_push_key(&j->path, key);
	rc = gc_json_integer(j, m, lo, hi, out);
	gc_jpath_pop(&j->path);
	return rc;
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

static int read_tensor(gc_jctx *j, const cJSON *node, size_t n, size_t prev_end, gc_tensor *t)
{
	double rows, cols, offset, layer;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	if (!(t->name = get_string(j, node, "name")) || !get(j, node, "shape") ||
	    read_shape(j, cJSON_GetObjectItemCaseSensitive(node, "shape"), n, &rows, &cols) ||
	    get_integer(j, node, "offset", 0, (double)n, &offset) ||
	    get_integer(j, node, "layer", 0, 1e6, &layer))
		return -1;
	t->rows = (size_t)rows;
	t->cols = (size_t)cols;
	t->offset = (size_t)offset;
	t->layer = (int)layer;
	t->matrix = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(node, "matrix"));
	if (t->offset < prev_end)
		return gc_jfail(j, "overlaps the tensor before it");
	if (t->cols && t->rows > (n - t->offset) / t->cols)
		return gc_jfail(j, "runs past the case's %zu parameters", n);
	return 0;
}

/* The tensors of the reference case into r->tensors. */
static int read_tensors(gc_jctx *j, const cJSON *tensors, gc_result *r)
{
	const cJSON *node;
	size_t t = 0, end = 0;

	r->n_tensors = (size_t)cJSON_GetArraySize(tensors);
	r->tensors = calloc(r->n_tensors ? r->n_tensors : 1, sizeof *r->tensors);
	if (!r->tensors)
		return oom(j);
	gc_jpath_push_key(&j->path, "tensors");
	cJSON_ArrayForEach(node, tensors) {
		gc_tensor *ts = &r->tensors[t].tensor;
		gc_jpath_push_index(&j->path, t);
		if (read_tensor(j, node, r->n, end, ts))
			return -1;
		gc_jpath_pop(&j->path);
		end = ts->offset + ts->rows * ts->cols;
		t++;
	}
	gc_jpath_pop(&j->path);
	return 0;
}

/* The layout of s's tensors equals the reference's (names, shapes, offsets, layers). */
static int same_tensors(gc_jctx *j, const cJSON *ref, const cJSON *tensors, const char *ref_path)
{
	static const char *const keys[] = { "name", "shape", "offset", "layer", "matrix" };
	const cJSON *a = ref->child, *b;
	size_t t = 0;

	gc_jpath_push_key(&j->path, "tensors");
	if (cJSON_GetArraySize(ref) != cJSON_GetArraySize(tensors))
		return gc_jfail(j, "%d tensors, but %s has %d: not shards of the same run",
		                cJSON_GetArraySize(tensors), ref_path, cJSON_GetArraySize(ref));
	cJSON_ArrayForEach(b, tensors) {
		gc_jpath_push_index(&j->path, t);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[k]);
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, keys[k]);
			if (!x || !y || !cJSON_Compare(x, y, 1)) {
				gc_jpath_push_key(&j->path, keys[k]);
				return gc_jfail(j, "differs from %s's: not shards of the same run",
				                ref_path);
			}
		}
		gc_jpath_pop(&j->path);
		a = a->next;
		t++;
	}
	gc_jpath_pop(&j->path);
	return 0;
}

/* A checked element's verdict (a shard lists no skipped elements). */
static int parse_verdict(const cJSON *node, gc_verdict *v)
{
	if (gc_verdict_parse(cJSON_GetStringValue(node), v) != GC_OK || *v == GC_ELEM_SKIPPED)
		return -1;
	return 0;
}

/* One [flat, analytic, numeric, abs, rel, est_err, step, verdict] of tensor t into r. */
static int read_element(gc_jctx *j, const cJSON *node, const gc_tensor *t, gc_result *r)
{
	/* what null stands for in each numeric field: a NaN value, an infinite error */
	static const double if_null[] = { 0, NAN, NAN, INFINITY, INFINITY, NAN, NAN };
	double v[GC_ELEMENT_FIELDS - 1];
	const cJSON *item = node ? node->child : NULL;
	gc_verdict verdict;

	if (!cJSON_IsArray(node) || cJSON_GetArraySize(node) != GC_ELEMENT_FIELDS)
		return gc_jfail(j, "expected [flat, analytic, numeric, abs, rel, est_err, step, "
		                "verdict], got %s", gc_json_kind(node));
	for (size_t f = 0; f < GC_ELEMENT_FIELDS - 1; f++, item = item->next) {
		gc_jpath_push_index(&j->path, f);
		int rc = f == 0 ? gc_json_integer(j, item, (double)t->offset,
		                                  (double)(t->offset + t->rows * t->cols) - 1, &v[0])
		                : nullable(j, item, if_null[f], &v[f]);
		if (rc)
			return -1;
		gc_jpath_pop(&j->path);
	}
	gc_jpath_push_index(&j->path, GC_ELEMENT_FIELDS - 1);
	if (parse_verdict(item, &verdict))
		return gc_jfail(j, "expected \"pass\", \"fail\" or \"kink\"");
	gc_jpath_pop(&j->path);
	gc_element *e = &r->elements[(size_t)v[0]];
	if (e->verdict != GC_ELEM_SKIPPED)
		return gc_jfail(j, "element %zu was checked by another shard too", e->index);
	*e = (gc_element){ e->index, v[1], v[2], v[3], v[4], v[5], v[6], verdict };
	return 0;
}

/* The checked elements of shard case c into r->elements. */
static int read_elements(gc_jctx *j, const cJSON *c, gc_result *r)
{
	const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(c, "tensors"), *node, *elems, *e;
	size_t t = 0;

	gc_jpath_push_key(&j->path, "tensors");
	cJSON_ArrayForEach(node, tensors) {
		size_t k = 0;
		gc_jpath_push_index(&j->path, t);
		elems = get(j, node, "elements");
		if (!elems)
			return gc_jfail(j, "missing key \"elements\" (the checked elements a shard's "
			                "report lists)");
		gc_jpath_push_key(&j->path, "elements");
		if (!cJSON_IsArray(elems))
			return gc_jfail(j, "expected an array, got %s", gc_json_kind(elems));
		cJSON_ArrayForEach(e, elems) {
			gc_jpath_push_index(&j->path, k++);
			if (read_element(j, e, &r->tensors[t].tensor, r))
				return -1;
			gc_jpath_pop(&j->path);
		}
		gc_jpath_pop(&j->path);
		gc_jpath_pop(&j->path);
		t++;
	}
	gc_jpath_pop(&j->path);
	return 0;
}

static int read_worst_entry(gc_jctx *j, const cJSON *node, int directions, gc_element *e)
{
	const cJSON *est;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	if (get_size(j, node, directions ? "direction" : "flat", 9007199254740992.0, &e->index) ||
	    get_nullable(j, node, "analytic", NAN, &e->analytic) ||
	    get_nullable(j, node, "numeric", NAN, &e->numeric) ||
	    get_nullable(j, node, "abs", INFINITY, &e->abs_err) ||
	    get_nullable(j, node, "rel", INFINITY, &e->rel_err) ||
	    get_nullable(j, node, "step", NAN, &e->step))
		return -1;
	est = cJSON_GetObjectItemCaseSensitive(node, "est_err");
	e->est_err = 0;
	if (est && get_nullable(j, node, "est_err", NAN, &e->est_err))
		return -1;
	e->verdict = GC_ELEM_FAIL;
	return 0;
}

/* Fast mode: adds one shard's statistics and worst directions of tensor node to tr;
 * the worst lists gather in fails[*nfail] (grown as needed). */
static int unite_tensor(gc_jctx *j, const cJSON *node, gc_tensor_result *tr,
                        gc_element **fails, size_t *nfail)
{
	size_t checked, failed, kinks, unreliable, w = 0;
	double max_rel, max_abs;
	const cJSON *worst, *e, *dirs;

	if (get_size(j, node, "checked", 9007199254740992.0, &checked) ||
	    get_size(j, node, "failed", 9007199254740992.0, &failed) ||
	    get_size(j, node, "kinks", 9007199254740992.0, &kinks) ||
	    get_size(j, node, "unreliable", 9007199254740992.0, &unreliable) ||
	    get_nullable(j, node, "max_rel", INFINITY, &max_rel) ||
	    get_nullable(j, node, "max_abs", INFINITY, &max_abs) ||
	    !(worst = get_typed(j, node, "worst", cJSON_IsArray, "an array")))
		return -1;
	/* a tensor checked element by element after its directions (README.md, "Fast mode") */
	if (!(dirs = get_typed(j, node, "directions", cJSON_IsBool, "true or false")))
		return -1;
	if (checked || !tr->checked)
		tr->directions = cJSON_IsTrue(dirs);
	tr->checked += checked;
	tr->failed += failed;
	tr->kinks += kinks;
	tr->unreliable += unreliable;
	tr->max_rel = fmax(tr->max_rel, max_rel);
	tr->max_abs = fmax(tr->max_abs, max_abs);
	size_t more = (size_t)cJSON_GetArraySize(worst);
	gc_element *grown = realloc(*fails, (*nfail + more + 1) * sizeof **fails);
	if (!grown)
		return oom(j);
	*fails = grown;
	gc_jpath_push_key(&j->path, "worst");
	cJSON_ArrayForEach(e, worst) {
		gc_jpath_push_index(&j->path, w++);
		if (read_worst_entry(j, e, tr->directions, &(*fails)[*nfail]))
			return -1;
		gc_jpath_pop(&j->path);
		++*nfail;
	}
	gc_jpath_pop(&j->path);
	return 0;
}

/* Fast mode: unites tensor t of every shard case cs[0..ns). */
static int unite_fast(gc_shard **sh, const cJSON **cs, size_t ns, size_t t, gc_result *r,
                      size_t show)
{
	gc_tensor_result *tr = &r->tensors[t];
	gc_element *fails = NULL;
	size_t nfail = 0;

	for (size_t s = 0; s < ns; s++) {
		gc_jctx *j = &sh[s]->j;
		const cJSON *node = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cs[s], "tensors"),
		                                       (int)t);
		size_t depth = j->path.depth;
		gc_jpath_push_key(&j->path, "tensors");
		gc_jpath_push_index(&j->path, t);
		use(sh[s]);
		if (unite_tensor(j, node, tr, &fails, &nfail)) {
			free(fails);
			return -1;
		}
		j->path.depth = depth;
	}
	gc_tensor_keep_worst(tr, fails, nfail, show);
	return 0;
}

/* The notes of every shard's case, each distinct string once, in first-seen order. */
static int unite_notes(gc_shard **sh, const cJSON **cs, size_t ns, gc_merged_case *m)
{
	size_t cap = 0;

	for (size_t s = 0; s < ns; s++) {
		const cJSON *notes = get_typed(use(sh[s]), cs[s], "notes", cJSON_IsArray, "an array");
		if (!notes)
			return -1;
		cap += (size_t)cJSON_GetArraySize(notes);
	}
	m->notes = calloc(cap ? cap : 1, sizeof *m->notes);
	if (!m->notes)
		return oom(&sh[0]->j);
	for (size_t s = 0; s < ns; s++) {
		const cJSON *note;
		cJSON_ArrayForEach(note, cJSON_GetObjectItemCaseSensitive(cs[s], "notes")) {
			size_t k = 0;
			if (!cJSON_IsString(note))
				continue;
			while (k < m->report.n_notes && strcmp(m->notes[k], note->valuestring) != 0)
				k++;
			if (k == m->report.n_notes)
				m->notes[m->report.n_notes++] = note->valuestring;
		}
	}
	m->report.notes = m->notes;
	return 0;
}

/* Reads the parameters, tolerances and tensor layout of the reference case cs[0]
 * and checks that every other shard's case has the same. */
static int case_layout(gc_shard **sh, const cJSON **cs, size_t ns, gc_merged_case *m,
                       gc_result *r)
{
	gc_jctx *j = use(sh[0]);
	const cJSON *tensors;

	if (get_size(j, cs[0], "params", (double)(SIZE_MAX / sizeof(gc_element)), &r->n) ||
	    get_nullable(j, cs[0], "loss", NAN, &m->report.loss) ||
	    get_nullable(j, cs[0], "atol_used", INFINITY, &r->atol_used) ||
	    get_nullable(j, cs[0], "rtol_used", INFINITY, &r->rtol_used) ||
	    !(tensors = get_typed(j, cs[0], "tensors", cJSON_IsArray, "an array")) ||
	    read_tensors(j, tensors, r))
		return -1;
	m->report.n_params = r->n;
	for (size_t s = 1; s < ns; s++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(cs[s], "params");
		j = use(sh[s]);
		if (!p || !cJSON_Compare(p, cJSON_GetObjectItemCaseSensitive(cs[0], "params"), 1)) {
			gc_jpath_push_key(&j->path, "params");
			return gc_jfail(j, "differs from %s's: not shards of the same run", sh[0]->path);
		}
		if (!(tensors = get_typed(j, cs[s], "tensors", cJSON_IsArray, "an array")) ||
		    same_tensors(j, cJSON_GetObjectItemCaseSensitive(cs[0], "tensors"), tensors,
		                 sh[0]->path))
			return -1;
	}
	return 0;
}

/* Optional integer field (absent: 0), for batch and outputs. */
static size_t optional_size(const cJSON *c, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsNumber(m) && m->valuedouble >= 0 && m->valuedouble < 1e15
	       ? (size_t)m->valuedouble : 0;
}

/* Rebuilds the full result of one case from the shards' cases cs[0..ns). */
static int rebuild_result(gc_shard **sh, const cJSON **cs, size_t ns, const gc_options *o,
                          gc_merged_case *m)
{
	gc_result *r = calloc(1, sizeof *r);

	if (!r)
		return oom(&sh[0]->j);
	m->result = r;
	m->report.result = r;
	if (case_layout(sh, cs, ns, m, r))
		return -1;
	if (o->fast) {
		for (size_t t = 0; t < r->n_tensors; t++)
			if (unite_fast(sh, cs, ns, t, r, o->show))
				return -1;
	} else {
		r->elements = calloc(r->n ? r->n : 1, sizeof *r->elements);
		if (!r->elements)
			return oom(&sh[0]->j);
		for (size_t i = 0; i < r->n; i++)
			r->elements[i] = (gc_element){ .index = i, .verdict = GC_ELEM_SKIPPED };
		for (size_t s = 0; s < ns; s++)
			if (read_elements(use(sh[s]), cs[s], r))
				return -1;
		for (size_t t = 0; t < r->n_tensors; t++) {
			gc_tensor_result *tr = &r->tensors[t];
			if (gc_tensor_summarise(tr, r->elements + tr->tensor.offset,
			              tr->tensor.rows * tr->tensor.cols, o->show))
				return oom(&sh[0]->j);
		}
	}
	add_totals(r);
	r->batch = optional_size(cs[0], "batch");
	r->outputs = optional_size(cs[0], "outputs");
	if (gc_diagnose(r, r->batch, r->outputs))
		return oom(&sh[0]->j);
	return 0;
}

/* Merges case number ci, whose objects in the shards (in order 1..N) are cs. */
static int merge_case(gc_shard **sh, const cJSON **cs, size_t ns, size_t ci,
                      const gc_options *o, gc_merged_case *m)
{
	const cJSON *error = NULL;
	int rc = 0;

	for (size_t s = 0; s < ns; s++) {
		gc_jctx *j = use(sh[s]);
		const char *status;
		gc_case_status st;
		j->path.depth = 0;
		gc_jpath_push_key(&j->path, "cases");
		gc_jpath_push_index(&j->path, ci);
		if (!cJSON_IsObject(cs[s]))
			return gc_jfail(j, "expected an object, got %s", gc_json_kind(cs[s]));
		if (!(status = get_string(j, cs[s], "status")))
			return -1;
		if (strcmp(status, "error") == 0 && !error &&
		    !(error = get_typed(j, cs[s], "error", cJSON_IsString, "a string")))
			return -1;
		if (gc_case_status_parse(status, &st) != GC_OK) {
			gc_jpath_push_key(&j->path, "status");
			return gc_jfail(j, "expected \"pass\", \"fail\" or \"error\", got \"%s\"", status);
		}
	}
	m->report.name = cJSON_GetObjectItemCaseSensitive(cs[0], "name")->valuestring;
	if (unite_notes(sh, cs, ns, m))
		return -1;
	if (error) {
		m->report.status = GC_CASE_ERROR;
		m->report.error = error->valuestring;
	} else {
		rc = rebuild_result(sh, cs, ns, o, m);
		m->report.status = rc == 0 && (m->result->failed > 0 || m->report.n_notes > 0)
		                   ? GC_CASE_FAIL : GC_CASE_PASS;
	}
	for (size_t s = 0; s < ns; s++)
		sh[s]->j.path.depth = 0;
	return rc;
}

/* ---- the merge ------------------------------------------------------------------- */

static int merge_all(gc_shard **by_k, size_t ns, gc_merged_case *mc, size_t nc,
                     const gc_options *o)
{
	const cJSON **cs = malloc(ns * sizeof *cs);

	if (!cs)
		return oom(&by_k[0]->j);
	for (size_t s = 0; s < ns; s++)
		cs[s] = by_k[s]->cases->child;
	for (size_t c = 0; c < nc; c++) {
		if (merge_case(by_k, cs, ns, c, o, &mc[c])) {
			free(cs);
			return -1;
		}
		for (size_t s = 0; s < ns; s++)
			cs[s] = cs[s]->next;
	}
	free(cs);
	return 0;
}

static int write_merged(const gc_merged_case *mc, size_t nc, const gc_options *o, char **json,
                        int *exit_status)
{
	gc_case_report *reports = calloc(nc ? nc : 1, sizeof *reports);
	size_t len;
	FILE *mem;
	int rc;

	if (!reports)
		return GC_ENOMEM;
	*exit_status = 0;
	for (size_t c = 0; c < nc; c++) {
		reports[c] = mc[c].report;
		if (reports[c].status == GC_CASE_ERROR)
			*exit_status = 2;
		else if (reports[c].status == GC_CASE_FAIL && *exit_status == 0)
			*exit_status = 1;
	}
	mem = open_memstream(json, &len);
	if (!mem) {
		free(reports);
		return GC_ENOMEM;
	}
	rc = gc_report_json(mem, reports, nc, o);
	if (fclose(mem) != 0 && rc == GC_OK)
		rc = GC_ENOMEM;
	if (rc) {
		free(*json);
		*json = NULL;
	}
	free(reports);
	return rc;
}

int gc_merge_reports(const char *const *paths, size_t n, char **json, int *exit_status,
                     gc_error *err)
{
	gc_shard *sh = NULL, **by_k = NULL;
	gc_merged_case *mc = NULL;
	size_t nc = 0;
	gc_options o;
	int rc = GC_EINVAL;

	*json = NULL;
	*exit_status = 2;
	memset(err, 0, sizeof *err);
	if (n == 0) {
		gc_error_set(err, "no reports to merge");
		return GC_EINVAL;
	}
	sh = calloc(n, sizeof *sh);
	by_k = calloc(n, sizeof *by_k);
	if (!sh || !by_k) {
		rc = GC_ENOMEM;
		gc_error_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sh[i].path = paths[i];
		if (load_shard(&sh[i], err))
			goto out;
	}
	if (order_shards(sh, n, by_k, err))
		goto out;
	for (size_t i = 1; i < n; i++)
		if (same_run(by_k[0], by_k[i]))
			goto out;
	if (read_options(by_k[0], &o))
		goto out;
	nc = (size_t)cJSON_GetArraySize(by_k[0]->cases);
	mc = calloc(nc ? nc : 1, sizeof *mc);
	if (!mc) {
		rc = GC_ENOMEM;
		gc_error_set(err, "out of memory");
		goto out;
	}
	if (merge_all(by_k, n, mc, nc, &o))
		goto out;
	rc = write_merged(mc, nc, &o, json, exit_status);
	if (rc) {
		memset(err, 0, sizeof *err);
		gc_error_set(err, "cannot write the merged report: %s", gc_strerror(rc));
	}
out:
	if (rc == GC_EINVAL && strcmp(err->msg, "out of memory") == 0)
		rc = GC_ENOMEM;
	for (size_t c = 0; mc && c < nc; c++) {
		gc_result_free(mc[c].result);
		free(mc[c].notes);
	}
	free(mc);
	for (size_t i = 0; sh && i < n; i++) {
		cJSON_Delete(sh[i].root);
		free(sh[i].text);
	}
	free(sh);
	free(by_k);
	return rc;
}
