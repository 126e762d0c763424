/* merge.c - join the JSON reports of the shards of one run into the report the
 * unsharded run would have written.  Reading the reports is gc_report_json_read's
 * (report_json.c); this file checks that they are shards of one run and merges.
 *
 * A sharded report lists every element it checked, so the merge rebuilds each case's
 * full gc_result (unchecked elements SKIPPED), recomputes the tensor statistics and
 * worst lists the way the checker does, and reruns the diagnoses.  In fast mode a
 * shard checks whole tensors, so the tensors' statistics and worst lists are united
 * instead. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "case.h"
#include "jsonutil.h"
#include "merge.h"
#include "report.h"
#include "report_json.h"

typedef struct gc_shard {
	const char *path;
	gc_json_report rep;
	gc_jctx j;              /* positions and key paths for messages about this file */
} gc_shard;

typedef struct gc_merged_case {
	gc_case_report report;
	gc_result *result;
	const char **notes;     /* strings owned by the shards' reports */
} gc_merged_case;

/* Messages from now on name s's file, at the path set by the caller. */
static gc_jctx *use(gc_shard *s)
{
	snprintf(s->j.err->file, sizeof s->j.err->file, "%s", s->path);
	s->j.err->line = s->j.err->col = 0;
	s->j.path.depth = 0;
	return &s->j;
}

/* s's messages at cases[ci]. */
static gc_jctx *at_case(gc_shard *s, size_t ci)
{
	gc_jctx *j = use(s);

	gc_jpath_push_key(&j->path, "cases");
	gc_jpath_push_index(&j->path, ci);
	return j;
}

/* s's messages at options.shard. */
static gc_jctx *at_shard(gc_shard *s)
{
	gc_jctx *j = use(s);

	gc_jpath_push_key(&j->path, "options");
	gc_jpath_push_key(&j->path, "shard");
	return j;
}

/* Out of memory: reported without a position. */
static int oom(gc_error *err)
{
	memset(err, 0, sizeof *err);
	gc_error_set(err, "out of memory");
	return GC_ENOMEM;
}

/* ---- loading and matching the shards ----------------------------------------- */

static int load_shard(gc_shard *s, gc_error *err)
{
	int rc = gc_report_json_load(s->path, gc_case_default_limits.max_file, &s->rep, err);

	if (rc != GC_OK)
		return rc;
	s->j = (gc_jctx){ .text = s->rep.text, .len = s->rep.len, .err = err };
	if (s->rep.options.check.shard_count < 2)
		return gc_jfail(at_shard(s), "not the report of a shard (written without --shard K/N)");
	return GC_OK;
}

static int cmp_shard_k(const void *pa, const void *pb)
{
	const gc_shard *a = *(gc_shard *const *)pa, *b = *(gc_shard *const *)pb;
	unsigned ka = a->rep.options.check.shard_index, kb = b->rep.options.check.shard_index;

	return (ka > kb) - (ka < kb);
}

/* Fills by_k with the shards in order 1..N; fails on mixed N, a repeat or a gap. */
static int order_shards(gc_shard *sh, size_t n, gc_shard **by_k, gc_error *err)
{
	unsigned total = sh[0].rep.options.check.shard_count;

	for (size_t i = 0; i < n; i++) {
		const gc_options *o = &sh[i].rep.options.check;
		if (o->shard_count != total)
			return gc_jfail(at_shard(&sh[i]), "shard %u/%u, but %s is shard %u/%u: "
			                "shards of different runs", o->shard_index, o->shard_count,
			                sh[0].path, sh[0].rep.options.check.shard_index, total);
		by_k[i] = &sh[i];
	}
	qsort(by_k, n, sizeof *by_k, cmp_shard_k);
	for (size_t i = 1; i < n; i++) {
		unsigned k = by_k[i]->rep.options.check.shard_index;
		if (k == by_k[i - 1]->rep.options.check.shard_index)
			return gc_jfail(at_shard(by_k[i]), "shard %u/%u given twice (%s is shard "
			                "%u/%u too)", k, total, by_k[i - 1]->path, k, total);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || by_k[i]->rep.options.check.shard_index != i + 1) {
			if (i == n && n == total)
				break;
			memset(err, 0, sizeof *err);
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
	const cJSON *ropt = cJSON_GetObjectItemCaseSensitive(ref->rep.root, "options");
	const cJSON *sopt = cJSON_GetObjectItemCaseSensitive(s->rep.root, "options");
	gc_jctx *j = use(s);
	const cJSON *item, *other;

	if (strcmp(ref->rep.version, s->rep.version) != 0) {
		gc_jpath_push_key(&j->path, "version");
		return gc_jfail(j, "version %s, but %s was written by version %s", s->rep.version,
		                ref->path, ref->rep.version);
	}
	gc_jpath_push_key(&j->path, "options");
	cJSON_ArrayForEach(item, ropt) {
		if (strcmp(item->string, "shard") == 0)
			continue;
		other = cJSON_GetObjectItemCaseSensitive(sopt, item->string);
		if (!other || !cJSON_Compare(item, other, 1)) {
			gc_jpath_push_key(&j->path, item->string);
			return gc_jfail(j, "differs from %s's: not shards of the same run", ref->path);
		}
	}
	if (count_keys_but_shard(ropt) != count_keys_but_shard(sopt))
		return gc_jfail(j, "has options %s has not: not shards of the same run", ref->path);
	gc_jpath_pop(&j->path);
	gc_jpath_push_key(&j->path, "cases");
	if (ref->rep.n_cases != s->rep.n_cases)
		return gc_jfail(j, "%zu cases, but %s has %zu: not shards of the same run",
		                s->rep.n_cases, ref->path, ref->rep.n_cases);
	for (size_t i = 0; i < ref->rep.n_cases; i++) {
		const char *a = ref->rep.cases[i].name, *b = s->rep.cases[i].name;
		if (strcmp(a, b) != 0) {
			gc_jpath_push_index(&j->path, i);
			gc_jpath_push_key(&j->path, "name");
			return gc_jfail(j, "case \"%s\", but %s has \"%s\" here: not shards of the "
			                "same run", b, ref->path, a);
		}
		a = ref->rep.cases[i].digest;
		b = s->rep.cases[i].digest;
		if (a && b && strcmp(a, b) != 0) {
			gc_jpath_push_index(&j->path, i);
			gc_jpath_push_key(&j->path, "digest");
			return gc_jfail(j, "case \"%s\" has digest %s, but %s has %s: the shards ran "
			                "different contents of the case", s->rep.cases[i].name, b,
			                ref->path, a);
		}
	}
	return GC_OK;
}

/* ---- merging a case ------------------------------------------------------------- */

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

/* Shard s's result of case ci has the reference's parameters and tensor layout. */
static int same_layout(gc_shard *ref, gc_shard *s, size_t ci)
{
	const gc_case_report *a = &ref->rep.cases[ci], *b = &s->rep.cases[ci];
	gc_jctx *j = at_case(s, ci);

	if (a->n_params != b->n_params) {
		gc_jpath_push_key(&j->path, "params");
		return gc_jfail(j, "differs from %s's: not shards of the same run", ref->path);
	}
	gc_jpath_push_key(&j->path, "tensors");
	if (a->result->n_tensors != b->result->n_tensors)
		return gc_jfail(j, "%zu tensors, but %s has %zu: not shards of the same run",
		                b->result->n_tensors, ref->path, a->result->n_tensors);
	for (size_t t = 0; t < a->result->n_tensors; t++) {
		const gc_tensor *x = &a->result->tensors[t].tensor, *y = &b->result->tensors[t].tensor;
		const char *key = strcmp(x->name, y->name) ? "name"
		                  : x->rows != y->rows || x->cols != y->cols ? "shape"
		                  : x->offset != y->offset ? "offset"
		                  : x->layer != y->layer ? "layer"
		                  : !x->matrix != !y->matrix ? "matrix" : NULL;
		if (key) {
			gc_jpath_push_index(&j->path, t);
			gc_jpath_push_key(&j->path, key);
			return gc_jfail(j, "differs from %s's: not shards of the same run", ref->path);
		}
	}
	return GC_OK;
}

/* The position of element i in the "elements" list of tensor t of shard result r. */
static size_t listed_at(const gc_result *r, const gc_tensor *t, size_t i)
{
	size_t k = 0;

	for (size_t x = t->offset; x < i; x++)
		k += r->elements[x].verdict != GC_ELEM_SKIPPED;
	return k;
}

/* Full mode: the shards' checked elements into r->elements, then each tensor's
 * statistics and worst list recomputed. */
static int unite_elements(gc_shard **sh, size_t ns, size_t ci, gc_result *r)
{
	r->elements = calloc(r->n ? r->n : 1, sizeof *r->elements);
	if (!r->elements)
		return oom(sh[0]->j.err);
	for (size_t i = 0; i < r->n; i++)
		r->elements[i] = (gc_element){ .index = i, .verdict = GC_ELEM_SKIPPED };
	for (size_t s = 0; s < ns; s++) {
		const gc_result *sr = sh[s]->rep.cases[ci].result;
		for (size_t t = 0; t < sr->n_tensors; t++) {
			const gc_tensor *tn = &sr->tensors[t].tensor;
			for (size_t i = tn->offset; i < tn->offset + tn->rows * tn->cols; i++) {
				if (sr->elements[i].verdict == GC_ELEM_SKIPPED)
					continue;
				if (r->elements[i].verdict != GC_ELEM_SKIPPED) {
					gc_jctx *j = at_case(sh[s], ci);
					gc_jpath_push_key(&j->path, "tensors");
					gc_jpath_push_index(&j->path, t);
					gc_jpath_push_key(&j->path, "elements");
					gc_jpath_push_index(&j->path, listed_at(sr, tn, i));
					return gc_jfail(j, "element %zu was checked by another shard too", i);
				}
				r->elements[i] = sr->elements[i];
			}
		}
	}
	for (size_t t = 0; t < r->n_tensors; t++) {
		gc_tensor_result *tr = &r->tensors[t];
		if (gc_tensor_summarise(tr, r->elements + tr->tensor.offset,
		                        tr->tensor.rows * tr->tensor.cols))
			return oom(sh[0]->j.err);
	}
	return GC_OK;
}

/* Fast mode: each tensor's counts and maxima summed over the shards, worst lists united. */
static int unite_fast(gc_shard **sh, size_t ns, size_t ci, gc_result *r)
{
	for (size_t t = 0; t < r->n_tensors; t++) {
		gc_tensor_result *tr = &r->tensors[t];
		gc_element *fails = NULL;
		size_t nfail = 0, cap = 1;

		for (size_t s = 0; s < ns; s++)
			cap += sh[s]->rep.cases[ci].result->tensors[t].n_worst;
		if (!(fails = malloc(cap * sizeof *fails)))
			return oom(sh[0]->j.err);
		for (size_t s = 0; s < ns; s++) {
			const gc_tensor_result *x = &sh[s]->rep.cases[ci].result->tensors[t];
			/* a tensor checked element by element after its directions
			 * (README.md, "Fast mode") */
			if (x->checked || !tr->checked)
				tr->directions = x->directions;
			tr->checked += x->checked;
			tr->failed += x->failed;
			tr->kinks += x->kinks;
			tr->unreliable += x->unreliable;
			tr->max_rel = fmax(tr->max_rel, x->max_rel);
			tr->max_abs = fmax(tr->max_abs, x->max_abs);
			if (x->n_worst)   /* worst is NULL when empty */
				memcpy(fails + nfail, x->worst, x->n_worst * sizeof *fails);
			nfail += x->n_worst;
		}
		gc_tensor_keep_worst(tr, fails, nfail);
	}
	return GC_OK;
}

/* Rebuilds the full result of case ci from the shards' results. */
static int rebuild_result(gc_shard **sh, size_t ns, size_t ci, const gc_options *o,
                          gc_merged_case *m)
{
	const gc_case_report *ref = &sh[0]->rep.cases[ci];
	gc_result *r;
	int rc;

	for (size_t s = 0; s < ns; s++) {
		if (!sh[s]->rep.cases[ci].result)
			return gc_jfail(at_case(sh[s], ci), "missing key \"atol_used\"");
		if (s > 0 && (rc = same_layout(sh[0], sh[s], ci)))
			return rc;
	}
	if (!(r = calloc(1, sizeof *r)))
		return oom(sh[0]->j.err);
	m->result = r;
	m->report.result = r;
	m->report.n_params = ref->n_params;
	m->report.loss = ref->loss;
	r->n = ref->n_params;
	r->atol_used = ref->result->atol_used;
	r->rtol_used = ref->result->rtol_used;
	r->batch = ref->result->batch;
	r->outputs = ref->result->outputs;
	r->n_tensors = ref->result->n_tensors;
	if (!(r->tensors = calloc(r->n_tensors ? r->n_tensors : 1, sizeof *r->tensors)))
		return oom(sh[0]->j.err);
	for (size_t t = 0; t < r->n_tensors; t++)
		r->tensors[t].tensor = ref->result->tensors[t].tensor;
	rc = o->fast ? unite_fast(sh, ns, ci, r) : unite_elements(sh, ns, ci, r);
	if (rc)
		return rc;
	add_totals(r);
	if (gc_diagnose(r, r->batch, r->outputs))
		return oom(sh[0]->j.err);
	return GC_OK;
}

/* The notes of every shard's case, each distinct string once, in first-seen order. */
static int unite_notes(gc_shard **sh, size_t ns, size_t ci, gc_merged_case *m)
{
	size_t cap = 1;

	for (size_t s = 0; s < ns; s++)
		cap += sh[s]->rep.cases[ci].n_notes;
	if (!(m->notes = calloc(cap, sizeof *m->notes)))
		return oom(sh[0]->j.err);
	for (size_t s = 0; s < ns; s++) {
		const gc_case_report *c = &sh[s]->rep.cases[ci];
		for (size_t i = 0; i < c->n_notes; i++) {
			size_t k = 0;
			while (k < m->report.n_notes && strcmp(m->notes[k], c->notes[i]) != 0)
				k++;
			if (k == m->report.n_notes)
				m->notes[m->report.n_notes++] = c->notes[i];
		}
	}
	m->report.notes = m->notes;
	return GC_OK;
}

/* Merges case ci: an error in any shard (the first, in shard order) is the case's. */
static int merge_case(gc_shard **sh, size_t ns, size_t ci, const gc_options *o,
                      gc_merged_case *m)
{
	const char *error = NULL;
	int rc;

	for (size_t s = 0; s < ns && !error; s++)
		if (sh[s]->rep.cases[ci].status == GC_CASE_ERROR)
			error = sh[s]->rep.cases[ci].error;
	m->report.name = sh[0]->rep.cases[ci].name;
	if ((rc = unite_notes(sh, ns, ci, m)))
		return rc;
	if (error) {
		m->report.status = GC_CASE_ERROR;
		m->report.error = error;
		return GC_OK;
	}
	rc = rebuild_result(sh, ns, ci, o, m);
	m->report.status = rc == GC_OK && (m->result->failed > 0 || m->report.n_notes > 0)
	                   ? GC_CASE_FAIL : GC_CASE_PASS;
	return rc;
}

/* ---- the merge ------------------------------------------------------------------- */

static int write_merged(const gc_merged_case *mc, size_t nc, const gc_report_options *o,
                        char **json, int *exit_status)
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
	gc_report_options o;
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
		rc = oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sh[i].path = paths[i];
		if ((rc = load_shard(&sh[i], err)))
			goto out;
	}
	if ((rc = order_shards(sh, n, by_k, err)))
		goto out;
	for (size_t i = 1; i < n; i++)
		if ((rc = same_run(by_k[0], by_k[i])))
			goto out;
	o = by_k[0]->rep.options;
	o.check.shard_index = o.check.shard_count = 0;
	nc = by_k[0]->rep.n_cases;
	if (!(mc = calloc(nc ? nc : 1, sizeof *mc))) {
		rc = oom(err);
		goto out;
	}
	for (size_t c = 0; c < nc; c++)
		if ((rc = merge_case(by_k, n, c, &o.check, &mc[c])))
			goto out;
	rc = write_merged(mc, nc, &o, json, exit_status);
	if (rc) {
		memset(err, 0, sizeof *err);
		gc_error_set(err, "cannot write the merged report: %s", gc_strerror(rc));
	}
out:
	for (size_t c = 0; mc && c < nc; c++) {
		gc_result_free(mc[c].result);
		free(mc[c].notes);
	}
	free(mc);
	for (size_t i = 0; sh && i < n; i++)
		gc_json_report_free(&sh[i].rep);
	free(sh);
	free(by_k);
	return rc;
}
