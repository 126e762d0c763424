/* test_merge.c - gc_merge_reports: three shard reports of a hand-built run merge into
 * exactly the report of the unsharded run (counts, maxima, worst lists, diagnoses,
 * summary, exit status), and inconsistent inputs are refused with clear messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "json_assert.h"
#include "testutil.h"
#include "merge.h"
#include "report.h"

#define SHARDS 3
#define SHOW 5

/* ---- a hand-built run ------------------------------------------------------------ */

/* Case A, 26 parameters: W1 4x3 right but for a kink at 3; b1 with two wrong
 * elements (13: a = 1.25 n, 15: a = 0.25 n); W2 2x4 at half the true gradient;
 * b2 with a NaN at 25. */
static const gc_tensor a_tensors[] = {
	{ "W1", 0, 4, 3, 1, 0 }, { "b1", 12, 4, 1, 1, 0 }, { "W2", 16, 2, 4, 2, 0 }, { "b2", 24, 2, 1, 2, 0 },
};
#define A_N 26

static const gc_tensor b_tensors[] = { { "theta", 0, 3, 1, 0, 0 } };
#define B_N 3

static void judge(gc_element *e, int kink)
{
	double big = fmax(fabs(e->analytic), fabs(e->numeric));

	if (!isfinite(e->analytic) || !isfinite(e->numeric)) {
		e->abs_err = e->rel_err = INFINITY;
		e->verdict = GC_ELEM_FAIL;
		return;
	}
	e->abs_err = fabs(e->analytic - e->numeric);
	e->rel_err = big > 0 ? e->abs_err / big : 0;
	e->verdict = kink ? GC_ELEM_KINK
	                  : e->abs_err <= 1e-9 + 1e-6 * big ? GC_ELEM_PASS : GC_ELEM_FAIL;
}

static void a_element(size_t i, gc_element *e)
{
	double n = 0.1 * (double)(i + 1) * (i % 2 ? -1 : 1), a = n;

	if (i == 3)
		a = n + 0.3;
	else if (i == 13)
		a = 1.25 * n;
	else if (i == 15)
		a = 0.25 * n;
	else if (i >= 16 && i < 24)
		a = 0.5 * n;
	else if (i == 25)
		a = NAN;
	*e = (gc_element){ i, a, n, 0, 0, 0, 1e-5, GC_ELEM_SKIPPED };
	judge(e, i == 3);
}

static void b_element(size_t i, gc_element *e)
{
	*e = (gc_element){ i, 1.0 + (double)i, 1.0 + (double)i, 0, 0, 0, 1e-5, GC_ELEM_SKIPPED };
	judge(e, 0);
}

/* Fills the statistics of tensor tr from elements e (written here independently of
 * merge.c: a plain loop, worst list by insertion, largest rel then lowest index). */
static void tensor_stats(gc_tensor_result *tr, const gc_element *e)
{
	size_t size = tr->tensor.rows * tr->tensor.cols;

	tr->worst = calloc(SHOW, sizeof *tr->worst);
	for (size_t k = 0; k < size; k++) {
		const gc_element *x = &e[tr->tensor.offset + k];
		if (x->verdict == GC_ELEM_SKIPPED)
			continue;
		tr->checked++;
		if (x->verdict == GC_ELEM_KINK) {
			tr->kinks++;
			continue;
		}
		tr->max_rel = fmax(tr->max_rel, x->rel_err);
		tr->max_abs = fmax(tr->max_abs, x->abs_err);
		if (x->verdict != GC_ELEM_FAIL)
			continue;
		tr->failed++;
		size_t at = tr->n_worst;
		while (at > 0 && tr->worst[at - 1].rel_err < x->rel_err)
			at--;
		if (at >= SHOW)
			continue;
		size_t keep = tr->n_worst < SHOW ? tr->n_worst : SHOW - 1;
		memmove(&tr->worst[at + 1], &tr->worst[at], (keep - at) * sizeof *x);
		tr->worst[at] = *x;
		if (tr->n_worst < SHOW)
			tr->n_worst++;
	}
}

/* The result of a case of n elements made by make, with only shard k's elements
 * checked (k = 0: all of them). */
static gc_result *build(const gc_tensor *ts, size_t nt, size_t n,
                        void (*make)(size_t, gc_element *), unsigned k)
{
	gc_result *r = calloc(1, sizeof *r);

	r->n = n;
	r->elements = calloc(n, sizeof *r->elements);
	for (size_t i = 0; i < n; i++) {
		make(i, &r->elements[i]);
		if (k && i % SHARDS != k - 1)
			r->elements[i].verdict = GC_ELEM_SKIPPED;
	}
	r->tensors = calloc(nt, sizeof *r->tensors);
	r->n_tensors = nt;
	for (size_t t = 0; t < nt; t++) {
		r->tensors[t].tensor = ts[t];
		tensor_stats(&r->tensors[t], r->elements);
		r->checked += r->tensors[t].checked;
		r->failed += r->tensors[t].failed;
		r->kinks += r->tensors[t].kinks;
	}
	r->atol_used = 1e-9;
	r->rtol_used = 1e-6;
	ck_assert_int_eq(gc_diagnose(r, 0, 0), GC_OK);
	return r;
}

static const char *const a_notes[] = { "expect: loss 0.3 differs from 0.4" };
#define C_ERROR "exec: the program exited with status 3"

/* The cases of shard k (0: the unsharded run); free the results with free_run. */
#define DIGEST_A "0123456789abcdef"
#define DIGEST_B "fedcba9876543210"
#define DIGEST_C "00000000000000c0"

static void make_run(unsigned k, gc_case_report c[3])
{
	gc_result *a = build(a_tensors, 4, A_N, a_element, k);
	gc_result *b = build(b_tensors, 1, B_N, b_element, k);

	/* shards carry each case's digest; the unsharded run (k = 0) does not */
	c[0] = (gc_case_report){ "A", GC_CASE_FAIL, NULL, A_N, 0.1 + 0.2, a, a_notes, 1,
	                         k ? DIGEST_A : NULL };
	c[1] = (gc_case_report){ "B", GC_CASE_PASS, NULL, B_N, 1.5, b, NULL, 0,
	                         k ? DIGEST_B : NULL };
	/* C failed to run in shard 2 (and so in the unsharded run); other shards ran it */
	if (k == 0 || k == 2)
		c[2] = (gc_case_report){ "C", GC_CASE_ERROR, C_ERROR, 0, 0, NULL, NULL, 0, NULL };
	else
		c[2] = (gc_case_report){ "C", GC_CASE_PASS, NULL, B_N, 2.0,
		                         build(b_tensors, 1, B_N, b_element, k), NULL, 0,
		                         DIGEST_C };
}

static void free_run(gc_case_report *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gc_result_free((gc_result *)c[i].result);
}

static char dir[] = "/tmp/gc_test_merge_XXXXXX";
static char paths[8][600];

static void make_options(gc_report_options *o, unsigned k)
{
	gc_report_options_init(o);
	o->show = SHOW;
	o->check.shard_index = k;
	o->check.shard_count = k ? SHARDS : 0;
}

static void write_report(const char *path, const gc_case_report *c, size_t n,
                         const gc_report_options *o)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gc_report_json(f, c, n, o), GC_OK);
	ck_assert_int_eq(fclose(f), 0);
}

static char *report_text(const gc_case_report *c, size_t n, const gc_report_options *o)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(gc_report_json(f, c, n, o), GC_OK);
	fclose(f);
	return buf;
}

/* paths[1..3]: the shard reports; paths[0]: the unsharded report. */
static void setup(void)
{
	gc_case_report c[3];
	gc_report_options o;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (unsigned k = 0; k <= SHARDS; k++) {
		snprintf(paths[k], sizeof paths[k], "%s/shard%u.json", dir, k);
		make_run(k, c);
		make_options(&o, k);
		write_report(paths[k], c, 3, &o);
		free_run(c, 3);
	}
}

/* Removes the folder with every report a test wrote (some reuse a slot of paths). */
static void teardown(void)
{
	char cmd[64];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	memset(paths, 0, sizeof paths);
	strcpy(dir, "/tmp/gc_test_merge_XXXXXX");
}

static char *merge(const char *const *p, size_t n, int *status, gc_error *err)
{
	char *json = NULL;
	int rc = gc_merge_reports(p, n, &json, status, err);

	if (rc) {
		ck_assert_ptr_null(json);
		return NULL;
	}
	ck_assert_ptr_nonnull(json);
	return json;
}

/* ---- merging --------------------------------------------------------------------- */

START_TEST(merged_equals_unsharded)
{
	/* shards given out of order */
	const char *p[] = { paths[3], paths[1], paths[2] };
	gc_case_report c[3];
	gc_report_options o;
	gc_error err;
	int status = -1;
	char *json = merge(p, 3, &status, &err);

	ck_assert_msg(json != NULL, "merge failed: %s:%ld:%ld: %s", err.file, err.line, err.col,
	              err.msg);
	make_run(0, c);
	make_options(&o, 0);
	char *want = report_text(c, 3, &o);
	ck_assert_str_eq(json, want);
	ck_assert_int_eq(status, 2);            /* C is an error */
	free(want);
	free(json);
	free_run(c, 3);
}
END_TEST

/* The merged numbers against values known from the construction of the run. */
START_TEST(merged_values)
{
	const char *p[] = { paths[1], paths[2], paths[3] };
	gc_error err;
	int status;
	char *json = merge(p, 3, &status, &err);
	cJSON *root = cJSON_Parse(json);
	const cJSON *a = cJSON_GetArrayItem(at(root, "cases"), 0);
	const cJSON *ts = at(a, "tensors"), *w2 = cJSON_GetArrayItem(ts, 2), *w, *d;
	const cJSON *b1 = cJSON_GetArrayItem(ts, 1), *b2 = cJSON_GetArrayItem(ts, 3);
	size_t k = 16;

	ck_assert(cJSON_IsNull(at(at(root, "options"), "shard")));
	ck_assert_str_eq(at(a, "status")->valuestring, "fail");
	ck_assert(num(a, "checked") == 26 && num(a, "failed") == 11 && num(a, "kinks") == 1);
	/* W2: all 8 fail at rel 0.5; the 5 worst are 16..20, from all three shards */
	ck_assert(num(w2, "failed") == 8 && num(w2, "checked") == 8 && num(w2, "max_rel") == 0.5);
	ck_assert_int_eq(cJSON_GetArraySize(at(w2, "worst")), SHOW);
	cJSON_ArrayForEach(w, at(w2, "worst"))
		ck_assert(num(w, "flat") == (double)k++);
	ck_assert_str_eq(at(cJSON_GetArrayItem(at(w2, "worst"), 0), "index")->valuestring, "W2[0,0]");
	ck_assert_ptr_null(cJSON_GetObjectItem(w2, "elements"));
	/* b1: 15 (rel 0.75) before 13 (rel 0.2) */
	ck_assert(num(b1, "failed") == 2);
	ck_assert_double_eq_tol(num(b1, "max_rel"), 0.75, 1e-12);
	ck_assert(num(cJSON_GetArrayItem(at(b1, "worst"), 0), "flat") == 15);
	ck_assert(num(cJSON_GetArrayItem(at(b1, "worst"), 1), "flat") == 13);
	ck_assert(cJSON_IsNull(at(b2, "max_rel")));
	/* the scale diagnosis needs W2's elements from every shard */
	d = cJSON_GetArrayItem(at(a, "diagnoses"), 0);
	ck_assert_str_eq(at(d, "kind")->valuestring, "scale");
	ck_assert_str_eq(at(d, "tensor")->valuestring, "W2");
	ck_assert_double_eq_tol(num(d, "factor"), 0.5, 1e-9);
	/* notes united: the same note from three shards is one note */
	ck_assert_int_eq(cJSON_GetArraySize(at(a, "notes")), 1);
	ck_assert_str_eq(at(cJSON_GetArrayItem(at(root, "cases"), 2), "error")->valuestring, C_ERROR);
	ck_assert(num(at(root, "summary"), "passed") == 1);
	ck_assert(num(at(root, "summary"), "failed") == 2);
	ck_assert(num(at(root, "summary"), "errors") == 1);
	cJSON_Delete(root);
	free(json);
}
END_TEST

/* Exit status 1 when cases fail but none is an error; 0 when all pass. */
START_TEST(merged_exit_status)
{
	gc_case_report c[3];
	gc_report_options o;
	gc_error err;
	int status;

	for (unsigned k = 1; k <= SHARDS; k++) {
		make_run(k, c);
		make_options(&o, k);
		snprintf(paths[4 + k], sizeof paths[0], "%s/two%u.json", dir, k);
		write_report(paths[4 + k], c, 2, &o);               /* A fails, B passes */
		if (k == 1) {
			snprintf(paths[4], sizeof paths[0], "%s/b1.json", dir);
			write_report(paths[4], c + 1, 1, &o);       /* B alone, shard 1 */
		}
		free_run(c, 3);
	}
	const char *p[] = { paths[5], paths[6], paths[7] };
	char *json = merge(p, 3, &status, &err);
	ck_assert_ptr_nonnull(json);
	ck_assert_int_eq(status, 1);
	free(json);
	/* B alone, in three shards: every case passes */
	for (unsigned k = 2; k <= SHARDS; k++) {
		make_run(k, c);
		make_options(&o, k);
		snprintf(paths[4 + k], sizeof paths[0], "%s/b%u.json", dir, k);
		write_report(paths[4 + k], c + 1, 1, &o);
		free_run(c, 3);
	}
	const char *q[] = { paths[4], paths[6], paths[7] };
	json = merge(q, 3, &status, &err);
	ck_assert_ptr_nonnull(json);
	ck_assert_int_eq(status, 0);
	free(json);
}
END_TEST

/* ---- fast mode: shards take whole tensors ------------------------------------------ */

static const gc_tensor f_tensors[] = {
	{ "W1", 0, 2, 2, 1, 0 }, { "b1", 4, 2, 1, 1, 0 }, { "W2", 6, 1, 2, 2, 0 }, { "b2", 8, 1, 1, 2, 0 },
};

/* Tensor t in fast mode: 3 directions; W2 fails two (rel 0.9, 0.4), b2 one (rel 0.2). */
static void fast_tensor(size_t t, gc_tensor_result *tr)
{
	static const double rel[4][3] = { { 0, 1e-9, 0 }, { 0, 0, 0 }, { 0.4, 0, 0.9 },
	                                  { 0.2, 0, 0 } };
	memset(tr, 0, sizeof *tr);
	tr->tensor = f_tensors[t];
	tr->checked = 3;
	tr->worst = calloc(3, sizeof *tr->worst);
	for (size_t d = 0; d < 3; d++) {
		tr->max_rel = fmax(tr->max_rel, rel[t][d]);
		tr->max_abs = fmax(tr->max_abs, rel[t][d] / 2);
		if (rel[t][d] < 0.1)
			continue;
		tr->failed++;
		tr->worst[tr->n_worst++] = (gc_element){ d, 1 - rel[t][d], 1, rel[t][d], rel[t][d],
		                                         0, 1e-4, GC_ELEM_FAIL };
	}
	if (tr->n_worst == 2 && tr->worst[0].rel_err < tr->worst[1].rel_err) {
		gc_element x = tr->worst[0];
		tr->worst[0] = tr->worst[1];
		tr->worst[1] = x;
	}
}

/* Shard k (0: all) of the fast run: tensor t belongs to shard t % 3 + 1. */
static gc_result *fast_result(unsigned k)
{
	gc_result *r = calloc(1, sizeof *r);

	r->n = 9;
	r->n_tensors = 4;
	r->tensors = calloc(4, sizeof *r->tensors);
	for (size_t t = 0; t < 4; t++) {
		if (k == 0 || t % SHARDS == k - 1)
			fast_tensor(t, &r->tensors[t]);
		else
			r->tensors[t].tensor = f_tensors[t];
		r->tensors[t].directions = 1;   /* as gc_check leaves a fast tensor */
		r->checked += r->tensors[t].checked;
		r->failed += r->tensors[t].failed;
	}
	r->atol_used = 1e-9;
	r->rtol_used = 1e-6;
	ck_assert_int_eq(gc_diagnose(r, 0, 0), GC_OK);
	return r;
}

START_TEST(fast_merged_equals_unsharded)
{
	gc_report_options o;
	gc_error err;
	int status;

	for (unsigned k = 0; k <= SHARDS; k++) {
		gc_result *r = fast_result(k);
		gc_case_report c = { "F", GC_CASE_FAIL, NULL, 9, 0.5, r, NULL, 0, NULL };
		make_options(&o, k);
		o.check.fast = 1;
		o.check.seed = 42;
		snprintf(paths[4 + k], sizeof paths[0], "%s/fast%u.json", dir, k);
		write_report(paths[4 + k], &c, 1, &o);
		gc_result_free(r);
	}
	const char *p[] = { paths[5], paths[6], paths[7] };
	char *json = merge(p, 3, &status, &err);
	ck_assert_msg(json != NULL, "%s: %s", err.file, err.msg);
	FILE *f = fopen(paths[4], "r");
	char want[16384];
	size_t len = fread(want, 1, sizeof want - 1, f);
	fclose(f);
	want[len] = '\0';
	ck_assert_str_eq(json, want);
	ck_assert_int_eq(status, 1);
	ck_assert_ptr_nonnull(strstr(json, "\"direction\":\t2"));
	free(json);
}
END_TEST

/* ---- refused inputs ---------------------------------------------------------------- */

static void expect_failure(const char *const *p, size_t n, const char *file, const char *msg)
{
	gc_error err;
	int status;
	char *json = merge(p, n, &status, &err);

	ck_assert_msg(json == NULL, "merge succeeded, expected: %s", msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "message \"%s\" lacks \"%s\"", err.msg, msg);
	ck_assert_str_eq(err.file, file);
}

START_TEST(missing_shard)
{
	const char *p[] = { paths[1], paths[3] };
	expect_failure(p, 2, "", "shard 2/3 is missing (got 2 reports)");
	const char *q[] = { paths[2], paths[1] };
	expect_failure(q, 2, "", "shard 3/3 is missing");
}
END_TEST

START_TEST(duplicate_shard)
{
	const char *p[] = { paths[1], paths[2], paths[1] };
	expect_failure(p, 3, paths[1], "options.shard: shard 1/3 given twice");
}
END_TEST

START_TEST(unsharded_input)
{
	const char *p[] = { paths[1], paths[0], paths[2] };
	expect_failure(p, 3, paths[0], "options.shard: not the report of a shard");
}
END_TEST

START_TEST(different_cases)
{
	gc_case_report c[3];
	gc_report_options o;

	make_run(3, c);
	make_options(&o, 3);
	snprintf(paths[4], sizeof paths[4], "%s/other.json", dir);
	write_report(paths[4], c, 2, &o);
	const char *p[] = { paths[1], paths[2], paths[4] };
	expect_failure(p, 3, paths[4], "cases: 2 cases, but");
	/* same count, another name */
	c[1].name = "renamed";
	write_report(paths[4], c, 3, &o);
	expect_failure(p, 3, paths[4], "cases[1].name: case \"renamed\", but");
	free_run(c, 3);
}
END_TEST

/* Shard 3 ran another content of case B (same name, same layout): refused. */
START_TEST(different_contents)
{
	gc_case_report c[3];
	gc_report_options o;

	make_run(3, c);
	make_options(&o, 3);
	c[1].digest = "fedcba9876543211";
	snprintf(paths[4], sizeof paths[4], "%s/content.json", dir);
	write_report(paths[4], c, 3, &o);
	const char *p[] = { paths[1], paths[2], paths[4] };
	expect_failure(p, 3, paths[4], "cases[1].digest: case \"B\" has digest "
	               "fedcba9876543211, but ");
	expect_failure(p, 3, paths[4], " has fedcba9876543210: the shards ran different "
	               "contents of the case");
	/* a digest that is not 16 hex digits is refused when read */
	c[1].digest = "FEDCBA9876543210";
	write_report(paths[4], c, 3, &o);
	expect_failure(p, 3, paths[4], "cases[1].digest: expected 16 hexadecimal digits, got "
	               "\"FEDCBA9876543210\"");
	free_run(c, 3);
}
END_TEST

START_TEST(different_options)
{
	gc_case_report c[3];
	gc_report_options o;

	make_run(3, c);
	make_options(&o, 3);
	o.check.rtol = 1e-5;
	snprintf(paths[4], sizeof paths[4], "%s/rtol.json", dir);
	write_report(paths[4], c, 3, &o);
	free_run(c, 3);
	const char *p[] = { paths[1], paths[2], paths[4] };
	expect_failure(p, 3, paths[4], "options.rtol: differs from");
}
END_TEST

START_TEST(mixed_shard_counts)
{
	gc_case_report c[3];
	gc_report_options o;

	make_run(3, c);
	make_options(&o, 3);
	o.check.shard_count = 4;
	snprintf(paths[4], sizeof paths[4], "%s/of4.json", dir);
	write_report(paths[4], c, 3, &o);
	free_run(c, 3);
	const char *p[] = { paths[1], paths[2], paths[4] };
	expect_failure(p, 3, paths[4], "shard 3/4, but");
}
END_TEST

/* Shard 2's elements relabelled as shard 3: element 1 is then checked twice. */
START_TEST(overlapping_elements)
{
	gc_case_report c[3];
	gc_report_options o;

	make_run(2, c);
	make_options(&o, 3);
	snprintf(paths[4], sizeof paths[4], "%s/overlap.json", dir);
	write_report(paths[4], c, 3, &o);
	free_run(c, 3);
	const char *p[] = { paths[1], paths[2], paths[4] };
	expect_failure(p, 3, paths[4], "cases[0].tensors[0].elements[0]: element 1 was checked "
	               "by another shard too");
}
END_TEST

START_TEST(garbage_input)
{
	const char *garbage = "tests/data/report/garbage.json";
	gc_error err;
	int status;

	if (access(garbage, R_OK) != 0) {
		fprintf(stderr, "test_merge: %s not found (run from the top of the repository)\n",
		        garbage);
		return;
	}
	const char *p[] = { paths[1], garbage, paths[2] };
	ck_assert_ptr_null(merge(p, 3, &status, &err));
	ck_assert_str_eq(err.file, garbage);
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid JSON"));
	ck_assert_int_eq(err.line, 3);
	ck_assert_int_ge(err.col, 3);          /* within "oops" (cJSON stops inside it) */
	ck_assert_int_le(err.col, 6);
	ck_assert_int_eq(status, 2);

	const char *q[] = { paths[1], "/nonexistent/shard.json" };
	ck_assert_ptr_null(merge(q, 2, &status, &err));
	ck_assert_str_eq(err.file, "/nonexistent/shard.json");
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
}
END_TEST

/* A malformed element names its key path and position. */
START_TEST(malformed_element)
{
	FILE *f;
	char *text;
	size_t len;

	f = fopen(paths[2], "r");
	text = calloc(1, 1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[len] = '\0';
	char *e = strstr(text, "\"pass\"]");      /* the first element's verdict */
	ck_assert_ptr_nonnull(e);
	memcpy(e, "\"PASS\"", 6);
	f = fopen(paths[2], "w");
	fputs(text, f);
	fclose(f);
	free(text);
	const char *p[] = { paths[1], paths[2], paths[3] };
	gc_error err;
	int status;
	ck_assert_ptr_null(merge(p, 3, &status, &err));
	ck_assert_str_eq(err.msg, "cases[0].tensors[0].elements[0][7]: expected \"pass\", "
	                 "\"fail\" or \"kink\"");
	ck_assert_int_gt(err.line, 1);
	ck_assert_int_gt(err.col, 1);
}
END_TEST

Suite *merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *tc = tcase_create("merge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, merged_equals_unsharded);
	tcase_add_test(tc, merged_values);
	tcase_add_test(tc, merged_exit_status);
	tcase_add_test(tc, fast_merged_equals_unsharded);
	tcase_add_test(tc, missing_shard);
	tcase_add_test(tc, duplicate_shard);
	tcase_add_test(tc, unsharded_input);
	tcase_add_test(tc, different_cases);
	tcase_add_test(tc, different_contents);
	tcase_add_test(tc, different_options);
	tcase_add_test(tc, mixed_shard_counts);
	tcase_add_test(tc, overlapping_elements);
	tcase_add_test(tc, garbage_input);
	tcase_add_test(tc, malformed_element);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(merge_suite)
