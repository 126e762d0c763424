/* test_grade.c - gradcheck grade: a generated class of 20 submissions (correct ones,
 * each planted bug of examples/numpy_backprop.py, broken and hostile ones) graded in
 * one run, the CSV compared with answers derived by hand from the cases' shapes;
 * the other report formats, the time budget, and the refusal without a sandbox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "testutil.h"
#include "cli.h"

/* A: 3-5-2, batch 4, biases, no square W.  B: 2-2-1, batch 1, biases, W1 square.
 * C: 4-5-1, batch 1, no biases. */
#define CASES "cases/seed002_batch_3_5_2.json cases/seed003_sigmoid_2_2_1.json " \
              "cases/seed000_sigmoid_4_5_1.json"
#define EXEC "--exec '/bin/sh {}/run.sh'"

static char root[64];            /* /tmp/gc_grade_XXXXXX: class/ID/, golden/ */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* class/ID/run.sh with body (NULL: none) and class/ID/backprop.py. */
static void add_submission(const char *id, const char *body)
{
	char dir[256], path[300], *py = cli_slurp("examples/numpy_backprop.py");

	snprintf(dir, sizeof dir, "%s/class/%s", root, id);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/backprop.py", dir);
	write_file(path, py);
	free(py);
	if (body) {
		snprintf(path, sizeof path, "%s/run.sh", dir);
		write_file(path, body);
	}
}

static const char *correct = "exec /usr/bin/python3 \"${0%/*}/backprop.py\"\n";

static void add_bug(const char *id, const char *bug)
{
	char body[256];

	snprintf(body, sizeof body, "exec /usr/bin/python3 \"${0%%/*}/backprop.py\" --bug %s\n", bug);
	add_submission(id, body);
}

static void setup(void)
{
	char path[256];

	snprintf(root, sizeof root, "/tmp/gc_grade_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	chmod(root, 0755);
	snprintf(path, sizeof path, "%s/class", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/golden", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/golden/answers.txt", root);
	write_file(path, "the teacher's answers\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static void make_class(void)
{
	char body[512];

	for (int i = 1; i <= 6; i++) {
		char id[16];
		snprintf(id, sizeof id, "ok%d", i);
		add_submission(id, correct);
	}
	/* Passes only if it can read neither a classmate's folder nor the teacher's. */
	snprintf(body, sizeof body, "cat %s/class/ok1/run.sh && exit 9\n"
	         "cat %s/golden/answers.txt && exit 9\n%s", root, root, correct);
	add_submission("snoop", body);
	add_bug("double-last", "double-last");
	add_bug("sign", "sign");
	add_bug("sign2", "sign");
	add_bug("transpose", "transpose");
	add_bug("zero-bias", "zero-bias");
	add_bug("no-act-deriv-1", "no-act-deriv-1");
	add_bug("one-element", "one-element");
	add_bug("batch-twice", "batch-twice");
	add_submission("crash", "exit 3\n");
	add_submission("garbage", "echo garbage\n");
	add_submission("sleeper", "sleep 30\n");
	add_submission("hog", "/usr/bin/python3 -c 'bytearray(50 << 30)'\n");
	add_submission("empty", NULL);             /* no run.sh at all */
}

/* The known answer: id, score, passed (of 3), and what the first diagnosis says. */
static const struct answer {
	const char *id, *score;
	int passed;
	const char *first;      /* prefix of the first_diagnosis field (quoted when it holds
	                           a comma); "" for none */
} answers[] = {
	{ "batch-twice", "66.7", 2, "\"seed002_batch_3_5_2: every gradient is 0.25 \xc3\x97 the true one" },
	{ "crash", "0.0", 0, "seed002_batch_3_5_2: exit status 3" },
	{ "double-last", "0.0", 0, "seed002_batch_3_5_2: W2 is 2 \xc3\x97 the true gradient" },
	{ "empty", "0.0", 0, "seed002_batch_3_5_2: exit status 2" },
	{ "garbage", "0.0", 0, "\"seed002_batch_3_5_2: output of '/bin/sh '" },
	{ "hog", "0.0", 0, "seed002_batch_3_5_2: memory limit (4096 MiB)" },
	{ "no-act-deriv-1", "0.0", 0, "seed002_batch_3_5_2: the error enters when propagating "
	  "into layer 1" },
	{ "ok1", "100.0", 3, "" }, { "ok2", "100.0", 3, "" }, { "ok3", "100.0", 3, "" },
	{ "ok4", "100.0", 3, "" }, { "ok5", "100.0", 3, "" }, { "ok6", "100.0", 3, "" },
	{ "one-element", "0.0", 0, "seed002_batch_3_5_2: W1: 1 of 15 elements differ" },
	{ "sign", "0.0", 0, "\"seed002_batch_3_5_2: W1 has the wrong sign" },
	{ "sign2", "0.0", 0, "\"seed002_batch_3_5_2: W1 has the wrong sign" },
	{ "sleeper", "0.0", 0, "seed002_batch_3_5_2: timed out after 3.0 s" },
	{ "snoop", "100.0", 3, "" },
	{ "transpose", "66.7", 2, "\"seed003_sigmoid_2_2_1: W1 is transposed" },
	{ "zero-bias", "33.3", 1, "\"seed002_batch_3_5_2: b1's gradient is all zero" },
};

START_TEST(test_class_of_20_csv)
{
	size_t n = sizeof answers / sizeof *answers;
	char *line, *save = NULL;
	size_t row = 0;
	cli_run r;

	make_class();
	r = cli_gradcheck("grade --format csv --jobs 4 --timeout 3 " EXEC " " CASES " -- %s/class/*",
	                  root);
	ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);   /* some lost points */
	ck_assert_uint_eq(n, 20);
	line = strtok_r(r.out, "\n", &save);
	ck_assert_str_eq(line, "id,score,passed,total,seconds,first_diagnosis\r");
	while ((line = strtok_r(NULL, "\n", &save))) {
		const struct answer *a = &answers[row];
		char prefix[128], *comma;

		ck_assert_uint_lt(row, n);
		/* id,score,passed,total, then seconds (not compared), then the diagnosis. */
		snprintf(prefix, sizeof prefix, "%s,%s,%d,3,", a->id, a->score, a->passed);
		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "row %zu: got %s, want %s...",
		              row, line, prefix);
		comma = strchr(line + strlen(prefix), ',');
		ck_assert_ptr_nonnull(comma);
		ck_assert_msg(strncmp(comma + 1, a->first, strlen(a->first)) == 0 &&
		              (a->first[0] || strcmp(comma + 1, "\r") == 0),
		              "row %s: got %s, want %s", a->id, comma + 1, a->first);
		row++;
	}
	ck_assert_uint_eq(row, n);
	cli_free(&r);
}
END_TEST

START_TEST(test_class_reports_text_json_html)
{
	char path[256], *html;
	cJSON *doc, *subs, *summary, *s;
	cli_run r;

	make_class();
	/* Text: the distribution across the class; sign and sign2 share their diagnoses. */
	r = cli_gradcheck("grade --jobs 4 --timeout 3 " EXEC " " CASES " -- %s/class/*", root);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "   2 submissions: W1 has the wrong sign"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "   1 submission: memory limit (4096 MiB)"), "%s", r.out);
	ck_assert_str_eq(cli_last_line(r.out), "20 submissions: 7 passed every case, 13 did not");
	cli_free(&r);
	/* JSON: every submission with its whole per-case report. */
	snprintf(path, sizeof path, "%s/class.json", root);
	r = cli_gradcheck("grade --format json -o %s --jobs 4 --timeout 3 " EXEC " " CASES
	                  " -- %s/class/*", path, root);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "20 submissions: 7 passed every case, 13 did not\n");
	cli_free(&r);
	{
		char *text = cli_slurp(path);
		doc = cJSON_Parse(text);
		free(text);
	}
	ck_assert_ptr_nonnull(doc);
	subs = cJSON_GetObjectItem(doc, "submissions");
	summary = cJSON_GetObjectItem(doc, "summary");
	ck_assert_int_eq(cJSON_GetArraySize(subs), 20);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cases")), 3);
	ck_assert_int_eq(cJSON_GetObjectItem(summary, "full_marks")->valueint, 7);
	s = cJSON_GetArrayItem(subs, 19);                       /* zero-bias */
	ck_assert_str_eq(cJSON_GetObjectItem(s, "id")->valuestring, "zero-bias");
	ck_assert_int_eq(cJSON_GetObjectItem(s, "passed")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(s, "failed")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(s, "errors")->valueint, 0);
	s = cJSON_GetObjectItem(s, "report");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "cases")), 3);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "cases"), 2),
	                                     "status")->valuestring, "pass");
	cJSON_Delete(doc);
	/* HTML: an overview linking to one page per submission. */
	snprintf(path, sizeof path, "%s/html", root);
	r = cli_gradcheck("grade --format html -o %s --jobs 4 --timeout 3 " EXEC " " CASES
	                  " -- %s/class/*", path, root);
	ck_assert_int_eq(r.status, 1);
	cli_free(&r);
	snprintf(path, sizeof path, "%s/html/index.html", root);
	html = cli_slurp(path);
	ck_assert_ptr_nonnull(strstr(html, "<a href=\"zero-bias.html\">zero-bias</a>"));
	ck_assert_ptr_nonnull(strstr(html, "<table id=\"class\">"));
	free(html);
	snprintf(path, sizeof path, "%s/html/zero-bias.html", root);
	html = cli_slurp(path);
	ck_assert_ptr_nonnull(strstr(html, "1 passed, 2 failed"));
	free(html);
	if (system("command -v xmllint >/dev/null") == 0) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "xmllint --noout %s/html/index.html", root);
		ck_assert_int_eq(system(cmd), 0);
	} else {
		printf("SKIP: xmllint missing: index.html not checked for well-formedness\n");
	}
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(test_time_budget)
{
	double start = now();
	cli_run r;

	add_submission("sleeper", "sleep 30\n");
	r = cli_gradcheck("grade --format json --timeout 2 --budget 3 " EXEC " " CASES
	                  " -- %s/class/sleeper", root);
	ck_assert_int_eq(r.status, 1);
	ck_assert_double_lt(now() - start, 8);
	/* 2 s for the first case, the 1 s left for the second, none for the third. */
	ck_assert_msg(strstr(r.out, "timed out after 2.0 s"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "timed out after 1.0 s"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "not run: the time budget of 3 s per submission was used up"),
	              "%s", r.out);
	cli_free(&r);
}
END_TEST

START_TEST(test_refuses_without_sandbox)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char cmd[1024];
	cli_run r;

	add_submission("ok", correct);
	/* No bwrap on PATH: the sandbox cannot run, so grade refuses... */
	snprintf(cmd, sizeof cmd, "env PATH=/nonexistent %s grade --format csv " EXEC " " CASES
	         " -- %s/class/ok", prog, root);
	{
		char out[256], full[1400];
		int st;

		snprintf(out, sizeof out, "%s/out.txt", root);
		snprintf(full, sizeof full, "%s >%s 2>&1", cmd, out);
		st = system(full);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 2);
		r.out = cli_slurp(out);
		ck_assert_msg(strstr(r.out, "the sandbox needs bwrap, which is not installed "
		                     "(Debian package bubblewrap)"), "%s", r.out);
		ck_assert_msg(strstr(r.out, "--no-sandbox runs them unprotected"), "%s", r.out);
		free(r.out);
		/* ... unless told to run them unprotected. */
		snprintf(full, sizeof full, "env PATH=/nonexistent %s grade --no-sandbox --format csv "
		         EXEC " " CASES " -- %s/class/ok >%s 2>&1", prog, root, out);
		st = system(full);
		ck_assert(WIFEXITED(st));
		r.out = cli_slurp(out);
		ck_assert_msg(WEXITSTATUS(st) == 0, "%s", r.out);
		ck_assert_ptr_nonnull(strstr(r.out, "ok,100.0,3,3,"));
		free(r.out);
	}
}
END_TEST

START_TEST(test_grade_usage)
{
	cli_run r = cli_gradcheck("grade " CASES " -- x");

	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "grade needs --exec 'CMD {}'"));
	cli_free(&r);
	r = cli_gradcheck("grade " EXEC " " CASES);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no submissions given"));
	cli_free(&r);
	r = cli_gradcheck("grade --format tap " EXEC " " CASES " -- x");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "expected text, csv, json or html"));
	cli_free(&r);
	r = cli_gradcheck("grade --format html " EXEC " " CASES " -- x");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "give it with -o DIR"));
	cli_free(&r);
	r = cli_gradcheck("grade " EXEC " " CASES " -- a/x b/x");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "have the same id 'x'"));
	cli_free(&r);
	r = cli_gradcheck("--budget 3 " CASES);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--budget applies to gradcheck grade"));
	cli_free(&r);
	r = cli_gradcheck("grade " EXEC " cases/no_such_case.json -- x");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no_such_case.json"));
	cli_free(&r);
}
END_TEST

START_TEST(test_submission_list_file)
{
	char list[256], text[512];
	cli_run r;

	add_submission("ok", correct);
	add_bug("sign", "sign");
	snprintf(list, sizeof list, "%s/list.txt", root);
	snprintf(text, sizeof text, "# the class\n%s/class/ok\n\n  %s/class/sign  \n", root, root);
	write_file(list, text);
	r = cli_gradcheck("grade --format csv --submissions %s " EXEC " cases/seed003_sigmoid_2_2_1.json",
	                  list);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\nok,100.0,1,1,"));
	ck_assert_ptr_nonnull(strstr(r.out, "\nsign,0.0,0,1,"));
	cli_free(&r);
}
END_TEST

static Suite *grade_suite(void)
{
	Suite *s = suite_create("grade");
	TCase *tc = tcase_create("class");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_class_of_20_csv);
	tcase_add_test(tc, test_class_reports_text_json_html);
	tcase_add_test(tc, test_time_budget);
	tcase_add_test(tc, test_refuses_without_sandbox);
	tcase_add_test(tc, test_grade_usage);
	tcase_add_test(tc, test_submission_list_file);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(grade_suite)
