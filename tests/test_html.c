/* test_html.c - the HTML report: structure, escaping, cells, downsampling.
 *
 * Six hand-built cases; the expected numbers below are counted by hand from
 * how the cases are built, not from the writer's output.  When the environment
 * variable GC_HTML_SAMPLE names a file, test_sample also writes the report
 * there (tests/html/browser_test.sh renders it in Chromium).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "gradcheck.h"
#include "report.h"

#define EVIL_NAME "<script>alert(\"x\")</script> & 'co'"
#define EVIL_ESCAPED "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"
#define SCALE_DETAIL "The analytic gradient of W2 is 0.5 times the numeric one: look for " \
	"a missing factor of 2 (for example in the derivative of the squared error)."

enum { BIG_R = 200, BIG_C = 150, BIG_N = BIG_R * BIG_C + BIG_R };

typedef struct fixture {
	gc_case_report cases[6];
	gc_result res[6];
	gc_element small[6], scale[18], evil[3], fast_worst[1];
	gc_element *big;
	gc_tensor_result t_small[2], t_scale[2], t_big[2], t_evil[1], t_fast[1];
	gc_diagnosis diag;
	gc_report_options opt;
} fixture;

static fixture fx;
static char path[64];

static void set_elem(gc_element *e, size_t index, double a, double n, double rel,
		     gc_verdict v)
{
	e->index = index;
	e->analytic = a;
	e->numeric = n;
	e->abs_err = a > n ? a - n : n - a;
	e->rel_err = rel;
	e->est_err = 0;
	e->step = 1e-5;
	e->verdict = v;
}

static gc_tensor_result tensor(const char *name, size_t offset, size_t rows, size_t cols,
			       int layer)
{
	gc_tensor_result tr;

	memset(&tr, 0, sizeof tr);
	tr.tensor = (gc_tensor){ name, offset, rows, cols, layer, 0 };
	tr.checked = rows * cols;
	return tr;
}

static void result(gc_result *r, size_t n, gc_element *el, gc_tensor_result *t, size_t nt)
{
	memset(r, 0, sizeof *r);
	r->n = n;
	r->elements = el;
	r->tensors = t;
	r->n_tensors = nt;
	r->rtol_used = 1e-6;
	r->atol_used = 1e-9;
	for (size_t i = 0; i < nt; i++) {
		r->checked += t[i].checked;
		r->failed += t[i].failed;
		r->kinks += t[i].kinks;
	}
}

static void add_case(size_t i, const char *name, gc_case_status st, gc_result *r)
{
	gc_case_report *c = &fx.cases[i];

	memset(c, 0, sizeof *c);
	c->name = name;
	c->status = st;
	c->result = r;
	c->n_params = r ? r->n : 0;
	c->loss = 0.75;
}

/* Case 1: W1 2x2 + b1 2, everything passes at rel 3e-10. */
static void build_small(void)
{
	for (size_t i = 0; i < 6; i++)
		set_elem(&fx.small[i], i, 0.1 * (double)(i + 1), 0.1 * (double)(i + 1), 3e-10,
			 GC_ELEM_PASS);
	fx.t_small[0] = tensor("W1", 0, 2, 2, 1);
	fx.t_small[1] = tensor("b1", 4, 2, 1, 1);
	fx.t_small[0].max_rel = fx.t_small[1].max_rel = 3e-10;
	result(&fx.res[0], 6, fx.small, fx.t_small, 2);
	add_case(0, "tiny-pass", GC_CASE_PASS, &fx.res[0]);
}

/* Case 2: W1 2x3 passes except a kink at W1[1,1]; W2 3x4 is 0.5 x numeric. */
static void build_scale(void)
{
	for (size_t i = 0; i < 6; i++)
		set_elem(&fx.scale[i], i, 0.2, 0.2, 1e-12, i == 4 ? GC_ELEM_KINK : GC_ELEM_PASS);
	for (size_t k = 0; k < 12; k++) {
		double n = 0.25 * (double)(k + 1);
		set_elem(&fx.scale[6 + k], 6 + k, 0.5 * n, n, 0.5, GC_ELEM_FAIL);
	}
	fx.t_scale[0] = tensor("W1", 0, 2, 3, 1);
	fx.t_scale[0].kinks = 1;
	fx.t_scale[0].checked = 5;
	fx.t_scale[0].max_rel = 1e-12;
	fx.t_scale[1] = tensor("W2", 6, 3, 4, 2);
	fx.t_scale[1].failed = 12;
	fx.t_scale[1].max_rel = 0.5;
	fx.t_scale[1].max_abs = 1.5;
	fx.t_scale[1].worst = &fx.scale[17];
	fx.t_scale[1].n_worst = 1;
	result(&fx.res[1], 18, fx.scale, fx.t_scale, 2);
	memset(&fx.diag, 0, sizeof fx.diag);
	strcpy(fx.diag.tensor, "W2");
	fx.diag.kind = GC_DIAG_SCALE;
	fx.diag.factor = 0.5;
	fx.diag.layer = 2;
	snprintf(fx.diag.detail, sizeof fx.diag.detail, "%s", SCALE_DETAIL);
	fx.res[1].diagnoses = &fx.diag;
	fx.res[1].n_diagnoses = 1;
	add_case(1, "scale-bug", GC_CASE_FAIL, &fx.res[1]);
}

/* Case 3: W1 200x150 (drawn as 50x50 blocks of 4x3) and b1 200 (50 blocks of 4).
 * Fails at W1[5,4] and W1[5,5] (one block), W1[100,100], W1[199,149]; a kink at
 * W1[50,50]; W1 rows 0..3, cols 0..2 (block 0,0) skipped. */
static void build_big(void)
{
	static const size_t fails[4][2] = { { 5, 4 }, { 5, 5 }, { 100, 100 }, { 199, 149 } };

	fx.big = calloc(BIG_N, sizeof *fx.big);
	ck_assert_ptr_nonnull(fx.big);
	for (size_t i = 0; i < BIG_N; i++)
		set_elem(&fx.big[i], i, 1.0, 1.0, 1e-9, GC_ELEM_PASS);
	for (size_t r = 0; r < 4; r++)
		for (size_t c = 0; c < 3; c++)
			fx.big[r * BIG_C + c].verdict = GC_ELEM_SKIPPED;
	for (size_t k = 0; k < 4; k++) {
		size_t i = fails[k][0] * BIG_C + fails[k][1];
		set_elem(&fx.big[i], i, -1.0, 1.0, 2.0, GC_ELEM_FAIL);
	}
	fx.big[50 * BIG_C + 50].verdict = GC_ELEM_KINK;
	fx.t_big[0] = tensor("W1", 0, BIG_R, BIG_C, 1);
	fx.t_big[0].checked = BIG_R * BIG_C - 12 - 1;
	fx.t_big[0].failed = 4;
	fx.t_big[0].kinks = 1;
	fx.t_big[0].max_rel = 2.0;
	fx.t_big[0].max_abs = 2.0;
	fx.t_big[1] = tensor("b1", BIG_R * BIG_C, BIG_R, 1, 1);
	fx.t_big[1].max_rel = 1e-9;
	result(&fx.res[2], BIG_N, fx.big, fx.t_big, 2);
	add_case(2, "wide", GC_CASE_FAIL, &fx.res[2]);
}

static void fixture_build(void)
{
	memset(&fx, 0, sizeof fx);
	gc_report_options_init(&fx.opt);
	build_small();
	build_scale();
	build_big();

	add_case(3, "broken.json", GC_CASE_ERROR, NULL);
	fx.cases[3].error = "broken.json:3:5: layers: expected an array";

	for (size_t i = 0; i < 3; i++)
		set_elem(&fx.evil[i], i, 1.0, 1.0, 0.0, GC_ELEM_PASS);
	fx.t_evil[0] = tensor("theta", 0, 3, 1, 0);
	result(&fx.res[4], 3, fx.evil, fx.t_evil, 1);
	add_case(4, EVIL_NAME, GC_CASE_PASS, &fx.res[4]);

	fx.t_fast[0] = tensor("W1", 0, 2, 2, 1);
	fx.t_fast[0].checked = 3;
	result(&fx.res[5], 4, NULL, fx.t_fast, 1);
	add_case(5, "fast", GC_CASE_PASS, &fx.res[5]);
}

static char *report_text;

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "rb");
	char *buf = NULL;
	long len;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void setup(void)
{
	int fd;
	FILE *f;

	fixture_build();
	strcpy(path, "/tmp/gc_test_html_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gc_report_html(f, fx.cases, 6, &fx.opt), GC_OK);
	ck_assert_int_eq(fclose(f), 0);
	report_text = slurp(path);
}

static void teardown(void)
{
	unlink(path);
	free(report_text);
	report_text = NULL;
	free(fx.big);
	fx.big = NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Counts <rect ...> tags that contain attr, e.g. data-verdict="fail". */
static size_t count_rects(const char *from, const char *to, const char *attr)
{
	size_t n = 0;

	for (const char *p = strstr(from, "<rect "); p && (!to || p < to);
	     p = strstr(p + 1, "<rect ")) {
		const char *end = strchr(p, '>');
		ck_assert_ptr_nonnull(end);
		const char *a = strstr(p, attr);
		if (a && a < end)
			n++;
	}
	return n;
}

/* The text of the <figure> with the given id, as [*from, *to). */
static void figure(const char *id, const char **from, const char **to)
{
	char key[64];

	snprintf(key, sizeof key, "<figure class=\"tensor\" id=\"%s\"", id);
	*from = strstr(report_text, key);
	ck_assert_msg(*from != NULL, "no figure %s", id);
	*to = strstr(*from, "</figure>");
	ck_assert_ptr_nonnull(*to);
}

/* Sum of data-fails="k" over the cells in [from, to). */
static size_t sum_fails(const char *from, const char *to)
{
	size_t sum = 0;

	for (const char *p = strstr(from, "data-fails=\""); p && p < to;
	     p = strstr(p + 1, "data-fails=\""))
		sum += strtoul(p + strlen("data-fails=\""), NULL, 10);
	return sum;
}

static int run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t len;

	ck_assert_ptr_nonnull(p);
	len = fread(out, 1, size - 1, p);
	out[len] = '\0';
	return pclose(p);
}

START_TEST(test_well_formed_xml)
{
	char cmd[160], out[4096];

	snprintf(cmd, sizeof cmd, "xmllint --noout '%s' 2>&1", path);
	ck_assert_msg(run(cmd, out, sizeof out) == 0, "xmllint (XML): %.600s", out);
	ck_assert_str_eq(out, "");
}
END_TEST

/* libxml2's HTML parser is HTML 4: it reports every HTML5 and SVG tag as
 * "Tag x invalid".  Any other message is a real error. */
START_TEST(test_well_formed_html)
{
	char cmd[160];
	static char out[1 << 20];

	snprintf(cmd, sizeof cmd, "xmllint --html --noout '%s' 2>&1", path);
	ck_assert_int_eq(run(cmd, out, sizeof out), 0);
	size_t errors = count(out, "error :");
	size_t invalid_tags = 0;
	for (const char *p = strstr(out, "error : Tag "); p; p = strstr(p + 1, "error : Tag ")) {
		const char *nl = strchr(p, '\n');
		const char *inv = strstr(p, " invalid");
		if (inv && (!nl || inv < nl))
			invalid_tags++;
	}
	ck_assert_msg(errors == invalid_tags, "xmllint --html: %.600s", out);
}
END_TEST

START_TEST(test_failing_cells)
{
	/* 12 in W2 of scale-bug; 3 blocks (4 elements) in W1 of wide. */
	ck_assert_uint_eq(count_rects(report_text, NULL, "data-verdict=\"fail\""), 15);
	ck_assert_uint_eq(count_rects(report_text, NULL, "data-verdict=\"kink\""), 2);
	ck_assert_uint_eq(count_rects(report_text, NULL, "data-verdict=\"skipped\""), 1);
	/* Every failing cell is outlined, and so is the sample in each of 4 legends. */
	ck_assert_uint_eq(count_rects(report_text, NULL, "class=\"fo\""), 15 + 4);
}
END_TEST

START_TEST(test_cells_per_tensor)
{
	const char *from, *to;

	figure("case-1-t0", &from, &to);
	ck_assert_uint_eq(count_rects(from, to, "class=\"c\""), 4);
	figure("case-1-t1", &from, &to);
	ck_assert_uint_eq(count_rects(from, to, "class=\"c\""), 2);
	figure("case-2-t1", &from, &to);
	ck_assert_uint_eq(count_rects(from, to, "class=\"c\""), 12);
	const char *ds = strstr(from, "Downsampled");
	ck_assert(!ds || ds > to);
	ck_assert_ptr_nonnull(strstr(from, "data-index=\"W2[2,3]\""));

	figure("case-3-t0", &from, &to);
	ck_assert_uint_eq(count_rects(from, to, "class=\"c\""), 50 * 50);
	ck_assert_uint_eq(count_rects(from, to, "data-verdict=\"fail\""), 3);
	ck_assert_uint_eq(sum_fails(from, to), 4);
	ds = strstr(from, "Downsampled");
	ck_assert(ds && ds < to);
	ck_assert_ptr_nonnull(strstr(from, "4 &#215; 3 elements"));
	/* The block holding W1[5,4] and W1[5,5] keeps both failures and rel 2. */
	const char *blk = strstr(from, "data-index=\"W1[4..7,3..5]\" data-verdict=\"fail\" "
				 "data-fails=\"2\" data-kinks=\"0\" data-rel=\"2\"");
	ck_assert(blk && blk < to);
	blk = strstr(from, "data-index=\"W1[0..3,0..2]\" data-verdict=\"skipped\"");
	ck_assert(blk && blk < to);
	blk = strstr(from, "data-index=\"W1[196..199,147..149]\" data-verdict=\"fail\"");
	ck_assert(blk && blk < to);

	figure("case-3-t1", &from, &to);
	ck_assert_uint_eq(count_rects(from, to, "class=\"c\""), 50);
	blk = strstr(from, "data-index=\"b1[196..199]\" data-verdict=\"pass\"");
	ck_assert(blk && blk < to);
}
END_TEST

START_TEST(test_cell_title_and_colour)
{
	/* W2[1,0] is element 4 of W2: numeric 0.25 * 5, analytic half of it; rel 0.5 is
	 * the decade [0.1, 1), viridis at 15/16. */
	ck_assert_ptr_nonnull(strstr(report_text,
		"<title>W2[1,0] (fail)\nanalytic 0.625\nnumeric 1.25\nabs 0.625\nrel 0.5</title>"
		"<rect class=\"c\" x=\"40\" y=\"30\" width=\"14\" height=\"14\" fill=\"#d8e219\" "
		"data-index=\"W2[1,0]\" data-verdict=\"fail\""));
	/* rel 3e-10 is the decade [1e-10, 1e-9): viridis at 6/16. */
	ck_assert_ptr_nonnull(strstr(report_text, "fill=\"#2c728e\" data-index=\"W1[0,0]\" "
				     "data-verdict=\"pass\" data-rel=\"3e-10\"><title>W1[0,0] (pass)"));
	/* rel 0 takes the lowest colour. */
	ck_assert_ptr_nonnull(strstr(report_text, "fill=\"#440154\" data-index=\"theta[2]\""));
	ck_assert_ptr_nonnull(strstr(report_text, "data-index=\"W1[1,1]\" data-verdict=\"kink\""));
	/* Failing and kink cells are keyboard-focusable groups with a title. */
	ck_assert_uint_eq(count(report_text, "<g class=\"cell\" tabindex=\"0\"><title>"), 12 + 1 + 3 + 1);
}
END_TEST

START_TEST(test_escaping)
{
	ck_assert_ptr_null(strstr(report_text, EVIL_NAME));
	ck_assert_ptr_null(strstr(report_text, "alert(\"x\")"));
	ck_assert_uint_eq(count(report_text, EVIL_ESCAPED), 3);     /* nav, section, h2 */
	ck_assert_uint_eq(count(report_text, "<script"), 1);
}
END_TEST

START_TEST(test_self_contained)
{
	const char *ns = "http://www.w3.org/2000/svg\"";
	size_t http = count(report_text, "http://"), https = count(report_text, "https://");

	ck_assert_uint_eq(https, 0);
	ck_assert_uint_eq(http, count(report_text, ns));
	ck_assert_uint_ge(http, 1);
	ck_assert_ptr_null(strstr(report_text, "src="));
	ck_assert_ptr_null(strstr(report_text, "@import"));
	ck_assert_ptr_null(strstr(report_text, "<link"));
	ck_assert_ptr_null(strstr(report_text, "@font-face"));
	ck_assert_uint_eq(count(report_text, "url("), count(report_text, "url(#gc-hatch)"));
}
END_TEST

START_TEST(test_text)
{
	ck_assert_ptr_nonnull(strstr(report_text,
				     "<p class=\"summary\" id=\"summary\">3 passed, 3 failed</p>"));
	ck_assert_ptr_nonnull(strstr(report_text, SCALE_DETAIL));
	ck_assert_ptr_nonnull(strstr(report_text, "data-kind=\"scale\" data-tensor=\"W2\""));
	ck_assert_ptr_nonnull(strstr(report_text, "broken.json:3:5: layers: expected an array"));
	ck_assert_ptr_nonnull(strstr(report_text,
				     "<th scope=\"row\">W2</th><td>3 &#215; 4</td><td>12</td>"
				     "<td>0.5</td><td>1.5</td><td>12</td><td>0</td>"));
	ck_assert_ptr_nonnull(strstr(report_text, "<code>W2[2,3]</code></th><td>1.5</td>"
				     "<td>3</td><td>1.5</td><td>0.5</td>"));
	ck_assert_ptr_nonnull(strstr(report_text, "Fast mode compares"));
	ck_assert_ptr_nonnull(strstr(report_text, "prefers-color-scheme:dark"));
	ck_assert_ptr_nonnull(strstr(report_text, "@media print"));
	ck_assert_uint_eq(count(report_text, "<section class=\"case "), 6);
	ck_assert_uint_eq(count(report_text, "data-status=\"error\""), 1);
	/* No heatmap for the error case or the fast case: 2 + 2 + 2 + 1 figures. */
	ck_assert_uint_eq(count(report_text, "<figure class=\"tensor\""), 7);
}
END_TEST

START_TEST(test_write_error)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		return;         /* no /dev/full here */
	ck_assert_int_eq(gc_report_html(f, fx.cases, 6, &fx.opt), GC_EIO);
	fclose(f);
}
END_TEST

START_TEST(test_sample)
{
	const char *p = getenv("GC_HTML_SAMPLE");
	FILE *f;

	if (!p || !*p)
		return;
	f = fopen(p, "w");
	ck_assert_msg(f != NULL, "cannot write %s", p);
	ck_assert_int_eq(gc_report_html(f, fx.cases, 6, &fx.opt), GC_OK);
	ck_assert_int_eq(fclose(f), 0);
}
END_TEST

Suite *html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_well_formed_xml);
	tcase_add_test(tc, test_well_formed_html);
	tcase_add_test(tc, test_failing_cells);
	tcase_add_test(tc, test_cells_per_tensor);
	tcase_add_test(tc, test_cell_title_and_colour);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_self_contained);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_sample);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(html_suite)
