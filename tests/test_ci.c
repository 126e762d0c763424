/* test_ci.c - what CI pipelines rely on: --record / --golden, -o written atomically,
 * --shard with merge equal to an unsharded run, reports in every format. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"
#include "testutil.h"

#define SEED3 "cases/seed003_sigmoid_2_2_1.json"

static char *make_temp_dir(void)
{
	char *dir = strdup("/tmp/gc_ci_XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void remove_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *read_text(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return cli_slurp(path);
}

/* Replaces the first occurrence of from by to in the file dir/name. */
static void edit_file(const char *dir, const char *name, const char *from, const char *to)
{
	char path[512], *text = read_text(dir, name), *at = strstr(text, from);
	FILE *fp;

	ck_assert_ptr_nonnull(at);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	fprintf(fp, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	fclose(fp);
	free(text);
}

START_TEST(test_record_then_golden)
{
	char *dir = make_temp_dir();
	cli_run r = cli_gradcheck("--record %s " SEED3, dir);
	char *recorded;

	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	recorded = read_text(dir, "seed003_sigmoid_2_2_1.grad.json");
	ck_assert_ptr_nonnull(strstr(recorded, "\"gradients\""));
	r = cli_gradcheck("--golden %s " SEED3, dir);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);

	/* drift: W2[1,0] recorded as -0.03 while the gradient is -0.022037 */
	edit_file(dir, "seed003_sigmoid_2_2_1.grad.json", "-0.0220", "-0.0300");
	r = cli_gradcheck("--golden %s " SEED3, dir);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "golden: W2 drifted in 1 of 2 elements"), "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "worst W2[1,0]"));
	cli_free(&r);

	/* --record keeps the different file, and says so, unless --force */
	r = cli_gradcheck("--record %s " SEED3, dir);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "kept"));
	cli_free(&r);
	char *kept = read_text(dir, "seed003_sigmoid_2_2_1.grad.json");
	ck_assert_ptr_nonnull(strstr(kept, "-0.0300"));
	r = cli_gradcheck("--record %s --force " SEED3, dir);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	char *forced = read_text(dir, "seed003_sigmoid_2_2_1.grad.json");
	ck_assert_str_eq(forced, recorded);
	free(kept);
	free(forced);
	free(recorded);
	remove_dir(dir);
	free(dir);
}
END_TEST

/* --record creates its folder and its parents; a folder written with a final '/'
 * gives paths with a single one, both in the file system and in messages. */
START_TEST(test_record_creates_folder)
{
	char *dir = make_temp_dir(), sub[512], path[600];
	cli_run r;
	struct stat st;

	snprintf(sub, sizeof sub, "%s/new/golden/", dir);
	r = cli_gradcheck("--record %s " SEED3, sub);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	cli_free(&r);
	snprintf(path, sizeof path, "%sseed003_sigmoid_2_2_1.grad.json", sub);
	ck_assert_msg(stat(path, &st) == 0 && S_ISREG(st.st_mode), "%s not written", path);

	/* a kept record and a drifting golden file are named as DIR/NAME, not DIR//NAME */
	edit_file(dir, "new/golden/seed003_sigmoid_2_2_1.grad.json", "-0.0220", "-0.0300");
	r = cli_gradcheck("--record %s " SEED3, sub);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, path) && !strstr(r.err, "//"), "%s", r.err);
	cli_free(&r);
	r = cli_gradcheck("--golden %s " SEED3, sub);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, path) && !strstr(r.out, "//"), "%s", r.out);
	cli_free(&r);

	/* a folder that cannot be created is a usage-level error: exit 2, nothing run */
	snprintf(sub, sizeof sub, "%s/new/golden/seed003_sigmoid_2_2_1.grad.json/x", dir);
	r = cli_gradcheck("--record %s " SEED3, sub);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "cannot create directory: Not a directory"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	cli_free(&r);
	remove_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_missing_golden_is_an_error)
{
	char *dir = make_temp_dir();
	cli_run r = cli_gradcheck("--golden %s " SEED3, dir);
	char want[512];

	ck_assert_int_eq(r.status, 2);
	snprintf(want, sizeof want, "%s/seed003_sigmoid_2_2_1.grad.json", dir);
	ck_assert_msg(strstr(r.err, want), "%s", r.err);
	cli_free(&r);
	remove_dir(dir);
	free(dir);
}
END_TEST

/* A run killed before it finishes leaves the previous report untouched and no
 * temporary file behind. */
START_TEST(test_killed_run_keeps_old_report)
{
	char *dir = make_temp_dir();
	char path[512], cmd[1024];
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	FILE *fp;

	snprintf(path, sizeof path, "%s/report.json", dir);
	fp = fopen(path, "w");
	fputs("old report\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof cmd, "%s --format json -o %s --exec 'sleep 20' cases/ "
	         ">/dev/null 2>&1 & pid=$!; sleep 0.5; kill $pid; wait $pid", prog, path);
	ck_assert_int_ne(system(cmd), 0);
	char *text = read_text(dir, "report.json");
	ck_assert_str_eq(text, "old report\n");
	free(text);
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
	ck_assert_int_eq(system(cmd), 0);
	remove_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_output_file_and_summary)
{
	char *dir = make_temp_dir();
	cli_run r = cli_gradcheck("--format json -o %s/r.json " SEED3, dir);
	char *text = read_text(dir, "r.json");
	cJSON *doc = cJSON_Parse(text);

	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "1 passed, 0 failed\n");
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "passed")->valueint, 1);
	cJSON_Delete(doc);
	free(text);
	cli_free(&r);
	remove_dir(dir);
	free(dir);
}
END_TEST

/* Shards 1..3 of a run with a failing case, merged, give the unsharded report. */
START_TEST(test_shards_merge_to_whole)
{
	char *dir = make_temp_dir();
	const char *bug = "--exec 'examples/numpy_backprop.py --bug no-act-deriv-1' "
	                  "cases/medium_16_32_32_8.json cases/seed004_deep_relu.json";
	cli_run r = cli_gradcheck("--format json -o %s/whole.json %s", dir, bug);

	ck_assert_int_eq(r.status, 1);
	cli_free(&r);
	for (int k = 1; k <= 3; k++) {
		r = cli_gradcheck("--shard %d/3 --format json -o %s/s%d.json %s", k, dir, k, bug);
		ck_assert_int_le(r.status, 1);
		cli_free(&r);
	}
	r = cli_gradcheck("merge -o %s/merged.json %s/s3.json %s/s1.json %s/s2.json", dir, dir,
	                  dir, dir);
	ck_assert_int_eq(r.status, 1);
	cli_free(&r);
	char *whole = read_text(dir, "whole.json"), *merged = read_text(dir, "merged.json");
	ck_assert_str_eq(merged, whole);
	free(whole);
	free(merged);
	remove_dir(dir);
	free(dir);
}
END_TEST

/* Shards run on different contents of a case (a target, or only its expect block,
 * changed between the runs) are refused by merge: exit 2, the digests named. */
START_TEST(test_merge_refuses_changed_case)
{
	static const char *const edits[][2] = {
		{ "[0.9, 0.97]", "[0.8, 0.97]" },               /* what the program sees */
		{ "\"tolerance\": 1e-10", "\"tolerance\": 1e-9" },  /* only gradcheck reads */
	};

	for (size_t e = 0; e < 2; e++) {
		char *dir = make_temp_dir(), cmd[1024];
		snprintf(cmd, sizeof cmd, "cp cases/act_tanh.json %s/tanh.json", dir);
		ck_assert_int_eq(system(cmd), 0);
		cli_run r = cli_gradcheck("--shard 1/2 --format json -o %s/s1.json %s/tanh.json",
		                          dir, dir);
		ck_assert_int_eq(r.status, 0);
		cli_free(&r);
		edit_file(dir, "tanh.json", edits[e][0], edits[e][1]);
		r = cli_gradcheck("--shard 2/2 --format json -o %s/s2.json %s/tanh.json", dir, dir);
		ck_assert_int_le(r.status, 1);
		cli_free(&r);
		r = cli_gradcheck("merge -o %s/merged.json %s/s1.json %s/s2.json", dir, dir, dir);
		ck_assert_int_eq(r.status, 2);
		ck_assert_msg(strstr(r.err, "/s2.json:") && strstr(r.err, ": cases[0].digest: case "
		              "\"tanh\" has digest ") && strstr(r.err, ": the shards ran different "
		              "contents of the case\n"), "%s", r.err);
		cli_free(&r);
		snprintf(cmd, sizeof cmd, "test ! -e %s/merged.json", dir);
		ck_assert_int_eq(system(cmd), 0);
		remove_dir(dir);
		free(dir);
	}
}
END_TEST

START_TEST(test_every_format_on_the_demo)
{
	static const char *const formats[] = {"text", "json", "junit", "tap", "html"};
	char *dir = make_temp_dir();

	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
		cli_run r = cli_gradcheck("--format %s -o %s/report.%s cases/", formats[i], dir,
		                          formats[i]);
		ck_assert_int_eq(r.status, 0);
		cli_free(&r);
	}
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "xmllint --noout --schema tests/data/junit.xsd "
	         "%s/report.junit 2>/dev/null", dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "perl tests/data/report/tap_summary.pl %s/report.tap "
	         ">/dev/null", dir);
	ck_assert_int_eq(system(cmd), 0);
	remove_dir(dir);
	free(dir);
}
END_TEST

static Suite *ci_suite(void)
{
	Suite *s = suite_create("ci");
	TCase *tc = tcase_create("ci");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_record_then_golden);
	tcase_add_test(tc, test_record_creates_folder);
	tcase_add_test(tc, test_missing_golden_is_an_error);
	tcase_add_test(tc, test_killed_run_keeps_old_report);
	tcase_add_test(tc, test_output_file_and_summary);
	tcase_add_test(tc, test_shards_merge_to_whole);
	tcase_add_test(tc, test_merge_refuses_changed_case);
	tcase_add_test(tc, test_every_format_on_the_demo);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(ci_suite)
