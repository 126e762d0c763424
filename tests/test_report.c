/* test_report.c - the JSON, JUnit and TAP writers on hand-built cases: a pass, a
 * fail with a scale diagnosis and a note, an error with a name and message that
 * need escaping, and a NaN element.  JUnit is validated with xmllint against
 * tests/data/junit.xsd, TAP parsed with Perl's TAP::Parser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "json_assert.h"
#include "testutil.h"
#include "report.h"
#include "report_common.h"

#define DATA "tests/data"

/* Case 1 "tiny # SKIP": W1 1x2, both pass; the name would be a TAP directive unescaped. */
static gc_element tiny_el[] = {
	{ 0, 1.5, 1.5, 0, 0, 0, 1e-5, GC_ELEM_PASS },
	{ 1, -2.0, -2.0000000001, 1e-10, 5e-11, 0, 1e-5, GC_ELEM_PASS },
};
static gc_tensor_result tiny_t[] = {
	{ { "W1", 0, 1, 2, 1, 0 }, 2, 0, 0, 5e-11, 1e-10, NULL, 0, 0, 0 },
};
static gc_result tiny_r = { 2, tiny_el, tiny_t, 1, NULL, 0, 2, 0, 0, 1e-9, 1e-6, 0, 0, 0, NULL };

/* Case 2 "scaled": W1 2x2 (element 1 a kink), W2 1x3 with analytic = 0.5 x numeric. */
static gc_element sc_el[] = {
	{ 0, 0.3, 0.3, 0, 0, 0, 1e-5, GC_ELEM_PASS },
	{ 1, 0.7, 0.1, 0.6, 0.857142857142857, 0, 1e-5, GC_ELEM_KINK },
	{ 2, -0.1, -0.1, 0, 0, 0, 1e-5, GC_ELEM_PASS },
	{ 3, 0.0, 0.0, 0, 0, 0, 1e-5, GC_ELEM_PASS },
	{ 4, 0.1, 0.2, 0.1, 0.5, 0, 1e-5, GC_ELEM_FAIL },
	{ 5, -0.2, -0.4, 0.2, 0.5, 0, 1e-5, GC_ELEM_FAIL },
	{ 6, 0.4, 0.8, 0.4, 0.5, 0, 1e-5, GC_ELEM_FAIL },
};
static gc_tensor_result sc_t[] = {
	{ { "W1", 0, 2, 2, 1, 0 }, 4, 0, 1, 0, 0, NULL, 0, 0, 0 },
	{ { "W2", 4, 1, 3, 2, 0 }, 3, 3, 0, 0.5, 0.4, sc_el + 4, 3, 0, 0 },
};
static gc_diagnosis sc_diag[] = {
	{ "W2", GC_DIAG_SCALE, 0.5, 2, "W2 is 0.5 x the true gradient (1/2)", 0 },
};
static gc_result sc_r = { 7, sc_el, sc_t, 2, sc_diag, 1, 7, 3, 1, 1e-9, 1e-6, 0, 0, 0, NULL };
static const char *const sc_notes[] = { "expect: loss 0.25 differs from 0.5" };

/* Case 4 "nan": b1 2x1, element 0 has a NaN analytic gradient. */
static gc_element nan_el[] = {
	{ 0, NAN, 0.5, INFINITY, INFINITY, 0, 1e-5, GC_ELEM_FAIL },
	{ 1, 0.25, 0.25, 0, 0, 0, 1e-5, GC_ELEM_PASS },
};
static gc_tensor_result nan_t[] = {
	{ { "b1", 0, 2, 1, 1, 0 }, 2, 1, 0, INFINITY, INFINITY, nan_el, 1, 0, 0 },
};
static gc_result nan_r = { 2, nan_el, nan_t, 1, NULL, 0, 2, 1, 0, 1e-9, 1e-6, 0, 0, 0, NULL };
/* a program's standard error, quoted in a note, with bytes that are not UTF-8 */
static const char *const nan_notes[] = { "stderr: \xff\xfe!" };

#define ESCAPE_NAME "a<b>&\"c\""
#define ERROR_MSG "cannot parse <x> & \x01y\xff: 'z'"
/* the message as reports write it: byte 0xFF is not UTF-8, so U+FFFD */
#define ERROR_MSG_UTF8 "cannot parse <x> & \x01y\xef\xbf\xbd: 'z'"

static gc_case_report cases[4];

static void setup(void)
{
	cases[0] = (gc_case_report){ "tiny # SKIP", GC_CASE_PASS, NULL, 2, 0.1 + 0.2, &tiny_r,
	                             NULL, 0, NULL };
	cases[1] = (gc_case_report){ "scaled", GC_CASE_FAIL, NULL, 7, 0.25, &sc_r, sc_notes, 1, NULL };
	cases[2] = (gc_case_report){ ESCAPE_NAME, GC_CASE_ERROR, ERROR_MSG, 0, 0, NULL, NULL, 0, NULL };
	cases[3] = (gc_case_report){ "nan", GC_CASE_FAIL, NULL, 2, 1.0, &nan_r, nan_notes, 1, NULL };
}

static char *write_mem(gc_format format, const gc_report_options *o)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gc_report_write(f, format, cases, 4, o), GC_OK);
	fclose(f);
	return buf;
}

/* Writes the report to a new temporary file; returns its path (free it, unlink it). */
static char *write_tmp(gc_format format)
{
	char *path = strdup("/tmp/gc_test_report_XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gc_report_write(f, format, cases, 4, NULL), GC_OK);
	fclose(f);
	return path;
}

/* Runs cmd and returns its standard output (at most 4 KiB). */
static char *run(const char *cmd, int *status)
{
	static char out[4096];
	FILE *p = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	*status = pclose(p);
	return out;
}

static int have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd) == 0)
		return 1;
	fprintf(stderr, "test_report: %s not found, skipping this check\n", tool);
	return 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

START_TEST(json_top_level)
{
	char *text = write_mem(GC_FORMAT_JSON, NULL);
	cJSON *root = cJSON_Parse(text);
	const cJSON *o, *s;

	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(str(root, "tool"), "gradcheck");
	ck_assert_str_eq(str(root, "version"), GC_VERSION);
	o = at(root, "options");
	ck_assert(cJSON_IsNull(at(o, "step")));
	ck_assert(num(o, "rtol") == 1e-6);
	ck_assert(num(o, "atol") == 0);
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "atol_scaled"));
	ck_assert_str_eq(str(o, "method"), "central");
	ck_assert(cJSON_IsNull(at(o, "sample")));
	ck_assert(cJSON_IsFalse(at(o, "fast")));
	ck_assert(num(o, "seed") == 0);
	ck_assert(cJSON_IsNull(at(o, "shard")));
	ck_assert(num(o, "show") == 5);
	ck_assert_int_eq(cJSON_GetArraySize(at(root, "cases")), 4);
	s = at(root, "summary");
	ck_assert(num(s, "passed") == 1);
	ck_assert(num(s, "failed") == 3);      /* errors count as failed, as in the text report */
	ck_assert(num(s, "errors") == 1);
	cJSON_Delete(root);
	free(text);
}
END_TEST

START_TEST(json_cases)
{
	char *text = write_mem(GC_FORMAT_JSON, NULL);
	cJSON *root = cJSON_Parse(text);
	const cJSON *cs = at(root, "cases");
	const cJSON *tiny = cJSON_GetArrayItem(cs, 0), *sc = cJSON_GetArrayItem(cs, 1);
	const cJSON *err = cJSON_GetArrayItem(cs, 2), *w2, *w, *d, *w1;

	ck_assert_str_eq(str(tiny, "name"), "tiny # SKIP");
	ck_assert_str_eq(str(tiny, "status"), "pass");
	ck_assert(num(tiny, "loss") == 0.30000000000000004);    /* reads back exactly */
	ck_assert(num(tiny, "params") == 2);
	ck_assert_ptr_null(cJSON_GetObjectItem(tiny, "error"));
	ck_assert(num(cJSON_GetArrayItem(at(tiny, "tensors"), 0), "max_rel") == 5e-11);

	ck_assert_str_eq(str(sc, "status"), "fail");
	ck_assert(num(sc, "params") == 7);
	ck_assert(num(sc, "atol_used") == 1e-9);
	ck_assert(num(sc, "failed") == 3);
	ck_assert(num(sc, "kinks") == 1);
	w1 = cJSON_GetArrayItem(at(sc, "tensors"), 0);
	ck_assert(num(w1, "kinks") == 1 && num(w1, "failed") == 0 && num(w1, "checked") == 4);
	ck_assert_int_eq(cJSON_GetArraySize(at(w1, "worst")), 0);
	ck_assert_ptr_null(cJSON_GetObjectItem(w1, "elements"));       /* not sharded */
	w2 = cJSON_GetArrayItem(at(sc, "tensors"), 1);
	ck_assert_str_eq(str(w2, "name"), "W2");
	ck_assert(cJSON_GetArrayItem(at(w2, "shape"), 0)->valuedouble == 1);
	ck_assert(cJSON_GetArrayItem(at(w2, "shape"), 1)->valuedouble == 3);
	ck_assert(num(w2, "offset") == 4 && num(w2, "layer") == 2);
	ck_assert(num(w2, "max_rel") == 0.5 && num(w2, "max_abs") == 0.4);
	ck_assert(num(w2, "failed") == 3 && num(w2, "checked") == 3);
	ck_assert_int_eq(cJSON_GetArraySize(at(w2, "worst")), 3);
	w = cJSON_GetArrayItem(at(w2, "worst"), 2);
	ck_assert_str_eq(str(w, "index"), "W2[0,2]");
	ck_assert(num(w, "flat") == 6);
	ck_assert(num(w, "analytic") == 0.4 && num(w, "numeric") == 0.8);
	ck_assert(num(w, "abs") == 0.4 && num(w, "rel") == 0.5 && num(w, "step") == 1e-5);
	ck_assert_ptr_null(cJSON_GetObjectItem(w, "est_err"));         /* central method */
	d = cJSON_GetArrayItem(at(sc, "diagnoses"), 0);
	ck_assert_str_eq(str(d, "tensor"), "W2");
	ck_assert_str_eq(str(d, "kind"), "scale");
	ck_assert(num(d, "factor") == 0.5);
	ck_assert_str_eq(str(d, "detail"), "W2 is 0.5 x the true gradient (1/2)");
	ck_assert_ptr_null(cJSON_GetObjectItem(d, "layer"));
	ck_assert_str_eq(cJSON_GetArrayItem(at(sc, "notes"), 0)->valuestring, sc_notes[0]);

	ck_assert_str_eq(str(err, "name"), ESCAPE_NAME);
	ck_assert_str_eq(str(err, "status"), "error");
	ck_assert_str_eq(str(err, "error"), ERROR_MSG_UTF8);
	ck_assert_int_eq(cJSON_GetArraySize(at(err, "tensors")), 0);
	cJSON_Delete(root);
	free(text);
}
END_TEST

START_TEST(json_non_finite_is_null)
{
	char *text = write_mem(GC_FORMAT_JSON, NULL);
	cJSON *root = cJSON_Parse(text);
	const cJSON *nan = cJSON_GetArrayItem(at(root, "cases"), 3);
	const cJSON *b1 = cJSON_GetArrayItem(at(nan, "tensors"), 0);
	const cJSON *w = cJSON_GetArrayItem(at(b1, "worst"), 0);

	ck_assert_ptr_nonnull(root);    /* no "nan" or "inf" tokens */
	ck_assert(cJSON_IsNull(at(b1, "max_rel")) && cJSON_IsNull(at(b1, "max_abs")));
	ck_assert_str_eq(str(w, "index"), "b1[0]");
	ck_assert(cJSON_IsNull(at(w, "analytic")));
	ck_assert(num(w, "numeric") == 0.5);
	ck_assert(cJSON_IsNull(at(w, "abs")) && cJSON_IsNull(at(w, "rel")));
	cJSON_Delete(root);
	free(text);
}
END_TEST

/* Nonzero when every byte of s belongs to a well-formed UTF-8 character. */
static int valid_utf8(const char *s)
{
	for (size_t len; *s; s += len)
		if (!(len = gc_utf8_len(s)))
			return 0;
	return 1;
}

START_TEST(json_notes_are_utf8)
{
	char *text = write_mem(GC_FORMAT_JSON, NULL);
	cJSON *root = cJSON_Parse(text);
	const cJSON *nan = cJSON_GetArrayItem(at(root, "cases"), 3);

	ck_assert(valid_utf8(text));
	ck_assert_str_eq(cJSON_GetArrayItem(at(nan, "notes"), 0)->valuestring,
	                 "stderr: \xef\xbf\xbd\xef\xbf\xbd!");
	cJSON_Delete(root);
	free(text);
}
END_TEST

START_TEST(json_sharded_lists_elements)
{
	gc_report_options o;
	gc_report_options_init(&o);
	o.check.shard_index = 2;
	o.check.shard_count = 3;
	o.check.method = GC_METHOD_FIVE_POINT;
	o.show = SIZE_MAX;
	o.check.step = 1e-4;
	char *text = write_mem(GC_FORMAT_JSON, &o);
	cJSON *root = cJSON_Parse(text);
	const cJSON *opt = at(root, "options");
	const cJSON *sc = cJSON_GetArrayItem(at(root, "cases"), 1);
	const cJSON *w1 = cJSON_GetArrayItem(at(sc, "tensors"), 0), *e;

	ck_assert_str_eq(str(opt, "shard"), "2/3");
	ck_assert_str_eq(str(opt, "show"), "all");
	ck_assert_str_eq(str(opt, "method"), "five-point");
	ck_assert(num(opt, "step") == 1e-4);
	/* every checked element of W1, in order: [flat, a, n, abs, rel, est, step, verdict] */
	ck_assert_int_eq(cJSON_GetArraySize(at(w1, "elements")), 4);
	e = cJSON_GetArrayItem(at(w1, "elements"), 1);
	ck_assert_int_eq(cJSON_GetArraySize(e), 8);
	ck_assert(cJSON_GetArrayItem(e, 0)->valuedouble == 1);
	ck_assert(cJSON_GetArrayItem(e, 1)->valuedouble == 0.7);
	ck_assert(cJSON_GetArrayItem(e, 2)->valuedouble == 0.1);
	ck_assert(cJSON_GetArrayItem(e, 4)->valuedouble == 0.857142857142857);
	ck_assert_str_eq(cJSON_GetArrayItem(e, 7)->valuestring, "kink");
	/* five-point: est_err is written in worst lists */
	ck_assert(num(cJSON_GetArrayItem(at(cJSON_GetArrayItem(at(sc, "tensors"), 1), "worst"), 0),
	              "est_err") == 0);
	cJSON_Delete(root);
	free(text);
}
END_TEST

/* ---- JUnit --------------------------------------------------------------------- */

/* The number of times needle occurs in s. */
static size_t occurrences(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(show_limits_listed_elements)
{
	gc_report_options o;
	char *text;
	cJSON *root;

	gc_report_options_init(&o);
	ck_assert_uint_eq(o.show, 5);
	ck_assert(o.check.rtol == 1e-6);
	/* "scaled" has three failing W2 elements */
	text = write_mem(GC_FORMAT_TEXT, NULL);
	ck_assert_uint_eq(occurrences(text, "    W2[0,"), 3);
	free(text);
	o.show = 1;
	text = write_mem(GC_FORMAT_TEXT, &o);
	ck_assert_uint_eq(occurrences(text, "    W2[0,"), 1);
	ck_assert_ptr_nonnull(strstr(text, "W2: 3 of 3 elements fail, worst:"));
	free(text);
	text = write_mem(GC_FORMAT_HTML, &o);
	ck_assert_uint_eq(occurrences(text, "<code>W2[0,"), 1);
	free(text);
	text = write_mem(GC_FORMAT_JSON, &o);
	root = cJSON_Parse(text);
	const cJSON *w2 = cJSON_GetArrayItem(at(cJSON_GetArrayItem(at(root, "cases"), 1), "tensors"), 1);
	ck_assert_int_eq(cJSON_GetArraySize(at(w2, "worst")), 1);
	ck_assert(num(at(root, "options"), "show") == 1);
	cJSON_Delete(root);
	free(text);
	o.show = 0;
	text = write_mem(GC_FORMAT_TEXT, &o);
	ck_assert_ptr_null(strstr(text, "worst:"));
	ck_assert_ptr_nonnull(strstr(text, "diagnosis (scale)"));
	free(text);
}
END_TEST

START_TEST(junit_validates_against_schema)
{
	char *path, cmd[512];
	int status;

	if (!have("xmllint"))
		return;
	path = write_tmp(GC_FORMAT_JUNIT);
	snprintf(cmd, sizeof cmd, "xmllint --noout --schema %s/junit.xsd %s 2>&1", DATA, path);
	const char *out = run(cmd, &status);
	ck_assert_msg(status == 0, "xmllint: %s", out);
	unlink(path);
	free(path);
}
END_TEST

static const char *xpath(const char *file, const char *expr)
{
	char cmd[512];
	int status;

	snprintf(cmd, sizeof cmd, "xmllint --xpath '%s' %s 2>&1", expr, file);
	const char *out = run(cmd, &status);
	ck_assert_msg(status == 0, "xmllint --xpath %s: %s", expr, out);
	size_t len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		((char *)out)[len - 1] = '\0';
	return out;
}

START_TEST(junit_counts_and_escaping)
{
	char *path;

	if (!have("xmllint"))
		return;
	path = write_tmp(GC_FORMAT_JUNIT);
	ck_assert_str_eq(xpath(path, "count(/testsuites/testsuite/testcase)"), "4");
	ck_assert_str_eq(xpath(path, "count(//testcase/failure)"), "2");
	ck_assert_str_eq(xpath(path, "count(//testcase/error)"), "1");
	ck_assert_str_eq(xpath(path, "string(/testsuites/@tests)"), "4");
	ck_assert_str_eq(xpath(path, "string(/testsuites/@failures)"), "2");
	ck_assert_str_eq(xpath(path, "string(//testsuite/@errors)"), "1");
	ck_assert_str_eq(xpath(path, "string(//testcase[3]/@name)"), ESCAPE_NAME);
	/* the control character and the invalid byte became U+FFFD */
	ck_assert_str_eq(xpath(path, "string(//testcase[3]/error/@message)"),
	                 "cannot parse <x> & \xef\xbf\xbdy\xef\xbf\xbd: 'z'");
	ck_assert_str_eq(xpath(path, "string(//testcase[2]/failure/@message)"),
	                 "W2: 3 of 3 elements fail; W2 is 0.5 x the true gradient (1/2); "
	                 "expect: loss 0.25 differs from 0.5");
	ck_assert_str_eq(xpath(path, "string(//testcase[2]/failure/@type)"), "gradient");
	/* the body is the case's text report */
	ck_assert_ptr_nonnull(strstr(xpath(path, "string(//testcase[2]/failure)"), "FAIL scaled"));
	ck_assert_ptr_nonnull(strstr(xpath(path, "string(//testcase[2]/failure)"), "W2[0,2]"));
	ck_assert_str_eq(xpath(path, "count(//testcase[1]/*)"), "0");
	unlink(path);
	free(path);
}
END_TEST

/* ---- TAP ----------------------------------------------------------------------- */

START_TEST(tap_parses)
{
	char *path, cmd[512];
	int status;

	if (!have("perl") || system("perl -MTAP::Parser -e 1 2>/dev/null") != 0) {
		fprintf(stderr, "test_report: TAP::Parser not available, skipping\n");
		return;
	}
	path = write_tmp(GC_FORMAT_TAP);
	snprintf(cmd, sizeof cmd, "perl %s/report/tap_summary.pl %s 2>&1", DATA, path);
	const char *out = run(cmd, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out,
		"plan 1..4\n"
		"good_plan 1\n"
		"passed 1\n"
		"failed 2,3,4\n"
		"directives 0\n"
		"parse_errors 0\n"
		"yaml 2 fail W2:3/3 scale notes=1 msg=3 of 7 elements fail in 1 of 2 tensors\n"
		"yaml 3 error notes=0 msg=cannot parse <x> & \x01y\xef\xbf\xbd: 'z'\n"
		"yaml 4 fail b1:1/2 notes=1 msg=1 of 2 elements fail in 1 of 1 tensors\n");
	unlink(path);
	free(path);
}
END_TEST

START_TEST(tap_lines)
{
	char *text = write_mem(GC_FORMAT_TAP, NULL);

	ck_assert_ptr_nonnull(strstr(text, "TAP version 13\n1..4\nok 1 - tiny \\# SKIP\n"
	                                   "not ok 2 - scaled\n  ---\n"));
	ck_assert_ptr_nonnull(strstr(text, "not ok 3 - " ESCAPE_NAME "\n"));
	ck_assert_ptr_nonnull(strstr(text, "        max_rel: .inf\n"));
	free(text);
}
END_TEST

Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("writers");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, json_top_level);
	tcase_add_test(tc, json_cases);
	tcase_add_test(tc, json_non_finite_is_null);
	tcase_add_test(tc, json_notes_are_utf8);
	tcase_add_test(tc, json_sharded_lists_elements);
	tcase_add_test(tc, show_limits_listed_elements);
	tcase_add_test(tc, junit_validates_against_schema);
	tcase_add_test(tc, junit_counts_and_escaping);
	tcase_add_test(tc, tap_parses);
	tcase_add_test(tc, tap_lines);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(report_suite)
