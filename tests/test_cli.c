/* test_cli.c - the command line: exit codes and report lines of README "Command
 * line" and "Reports", grad/resolve output against the seed notebooks' printed numbers. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "cli.h"
#include "testutil.h"

static size_t count_cases(void)
{
	DIR *d = opendir("cases");
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".json") && e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

START_TEST(test_demo_cases_pass)
{
	cli_run r = cli_gradcheck("cases/");
	char want[64];

	snprintf(want, sizeof want, "%zu passed, 0 failed", count_cases());
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(cli_last_line(r.out), want);
	ck_assert_ptr_nonnull(strstr(r.out, "PASS seed003_sigmoid_2_2_1: 9 parameters"));
	cli_free(&r);
}
END_TEST

START_TEST(test_help_documents_every_option)
{
	static const char *const options[] = {
		"--step", "--rtol", "--atol", "--method", "--exec", "--grad", "--timeout",
		"--record", "--force", "--golden", "--format", "-o FILE", "--show", "--jobs",
		"--fast", "--sample", "--seed", "--shard", "--help", "--version", "resolve",
		"grad", "merge"
	};
	cli_run r = cli_gradcheck("--help");

	ck_assert_int_eq(r.status, 0);
	for (size_t i = 0; i < sizeof options / sizeof *options; i++)
		ck_assert_msg(strstr(r.out, options[i]), "--help lacks %s", options[i]);
	cli_free(&r);
	r = cli_gradcheck("--version");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "gradcheck "));
	cli_free(&r);
}
END_TEST

/* -h is --help: the same text on standard output, exit 0, also after a command. */
START_TEST(test_h_is_help)
{
	cli_run help = cli_gradcheck("--help");
	static const char *const args[] = {"-h", "check -h", "merge -h", "-h cases/"};

	ck_assert_ptr_nonnull(strstr(help.out, "-h, --help"));
	for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
		cli_run r = cli_gradcheck("%s", args[i]);

		ck_assert_msg(r.status == 0, "'%s' exited %d: %s", args[i], r.status, r.err);
		ck_assert_str_eq(r.out, help.out);
		ck_assert_str_eq(r.err, "");
		cli_free(&r);
	}
	cli_free(&help);
}
END_TEST

START_TEST(test_usage_errors)
{
	static const char *const bad[] = {
		"--bogus cases/", "--rtol abc cases/", "--step 0 cases/", "--step -1 cases/",
		"--method simpson cases/", "--format xml cases/", "--shard 3/2 cases/",
		"--jobs 0 cases/", "", "--grad x.json cases/", "resolve", "grad a.json b.json",
		/* issue 18: no 24 GB of thread scratch, no wrap-around */
		"--jobs 10000000 cases/", "--jobs 1025 cases/", "--jobs -1 cases/",
		"--jobs ' 2' cases/", "--shard -1/-1 cases/", "--shard 1/-1 cases/",
		"--shard 4294967297/4294967298 cases/", "--shard 1/1000001 cases/",
		"--shard '1/2 ' cases/", "--shard +1/2 cases/", "--shard 1/2/3 cases/"
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cli_run r = cli_gradcheck("%s", bad[i]);
		ck_assert_msg(r.status == 2, "'%s' exited %d", bad[i], r.status);
		ck_assert_msg(strncmp(r.err, "gradcheck: ", 11) == 0, "'%s' said: %s", bad[i], r.err);
		cli_free(&r);
	}
}
END_TEST

START_TEST(test_bad_case_reported_others_run)
{
	char *bad = cli_temp_file("{\"layers\": [2, 1],\n \"activations\": \"tanh\",\n"
	                          " \"loss\": \"l2\", \"data\": {\"seed\": 1, \"batch\": 2}}\n",
	                          ".json");
	cli_run r = cli_gradcheck("%s cases/seed003_sigmoid_2_2_1.json", bad);
	char where[128];

	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(cli_last_line(r.out), "1 passed, 1 failed");
	ck_assert_ptr_nonnull(strstr(r.out, "PASS seed003_sigmoid_2_2_1"));
	snprintf(where, sizeof where, "gradcheck: %s:3:10: ", bad);
	ck_assert_msg(strstr(r.err, where), "stderr: %s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "loss"));
	cli_free(&r);
	unlink(bad);
	free(bad);
}
END_TEST

START_TEST(test_missing_and_malformed_files)
{
	char *broken = cli_temp_file("{\"layers\": [2, 1],\n  \"loss\": }\n", ".json");
	cli_run r = cli_gradcheck("no/such/case.json");
	char where[128];

	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "gradcheck: no/such/case.json: "));
	cli_free(&r);
	r = cli_gradcheck("%s", broken);
	ck_assert_int_eq(r.status, 2);
	snprintf(where, sizeof where, "gradcheck: %s:2:", broken);
	ck_assert_msg(strstr(r.err, where), "stderr: %s", r.err);
	cli_free(&r);
	unlink(broken);
	free(broken);
}
END_TEST

/* The analytic gradient of seed 003 equals the numbers printed in the notebook. */
START_TEST(test_grad_matches_seed003)
{
	static const double w1[2][2] = {{0.001093, -0.001345}, {0.000219, -0.000269}};
	static const double w2[2] = {-0.021869, -0.022037};
	cli_run r = cli_gradcheck("grad cases/seed003_sigmoid_2_2_1.json");
	cJSON *g, *weights;

	ck_assert_int_eq(r.status, 0);
	g = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(g);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(g, "loss")->valuedouble, 0.011843, 1e-6);
	weights = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "gradients"), "weights");
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(
				cJSON_GetArrayItem(weights, 0), i), j)->valuedouble, w1[i][j], 1e-6);
	for (int i = 0; i < 2; i++)
		ck_assert_double_eq_tol(cJSON_GetArrayItem(cJSON_GetArrayItem(
			cJSON_GetArrayItem(weights, 1), i), 0)->valuedouble, w2[i], 1e-6);
	cJSON_Delete(g);
	cli_free(&r);
}
END_TEST

START_TEST(test_resolve_is_explicit)
{
	cli_run r = cli_gradcheck("resolve cases/init_default.json");
	cJSON *c;

	ck_assert_int_eq(r.status, 0);
	c = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(c);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(c, "params")));
	ck_assert(cJSON_IsArray(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "inputs"), 0)));
	ck_assert(cJSON_IsArray(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "targets"), 0)));
	cJSON_Delete(c);
	cli_free(&r);
}
END_TEST

/* Seed 003's gradient with one element moved by 1e-4 relative must fail (exit 1),
 * and the report names that element as the worst. */
START_TEST(test_one_element_off_fails)
{
	cli_run g = cli_gradcheck("grad cases/seed003_sigmoid_2_2_1.json");
	cJSON *doc = cJSON_Parse(g.out), *w;
	char *text, *path;

	ck_assert_ptr_nonnull(doc);
	w = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "gradients"), "weights"), 0), 1), 0);
	cJSON_SetNumberValue(w, w->valuedouble * (1 + 1e-4));
	text = cJSON_Print(doc);
	path = cli_temp_file(text, ".grad.json");
	cli_run r = cli_gradcheck("--grad %s cases/seed003_sigmoid_2_2_1.json", path);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(cli_last_line(r.out), "0 passed, 1 failed");
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL seed003_sigmoid_2_2_1"));
	ck_assert_ptr_nonnull(strstr(r.out, "W1: 1 of 4 elements fail"));
	ck_assert_ptr_nonnull(strstr(r.out, "    W1[1,0] "));
	cli_free(&r);
	cli_free(&g);
	unlink(path);
	free(path);
	free(text);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(test_expect_mismatch_fails)
{
	char *path = cli_temp_file(
		"{\"layers\": [2, 2, 1], \"activations\": \"sigmoid\", \"weight_layout\": \"in_out\",\n"
		" \"loss\": \"half_sse\",\n"
		" \"params\": {\"weights\": [[[0.15, 0.2], [0.24, 0.3]], [[-0.4], [0.5]]],\n"
		"            \"biases\": [[1, 1], [1]]},\n"
		" \"inputs\": [0.5, 0.1], \"targets\": [0.9],\n"
		" \"expect\": {\"loss\": 0.0119, \"tolerance\": 1e-6}}\n", ".json");
	cli_run r = cli_gradcheck("%s", path);

	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "expect: loss is 0.01184344"));
	cli_free(&r);
	unlink(path);
	free(path);
}
END_TEST

/* relu pre-activation 1e-8 above zero: a step of ~6e-6 crosses it, so the steps shrink
 * below 1e-8 and W1 and b1 pass.  At exactly zero every step crosses: the claims are
 * judged between the one-sided slopes (kinks), and a claim outside them fails. */
START_TEST(test_kink_is_not_a_failure)
{
	char *path = cli_temp_file(
		"{\"layers\": [1, 1, 1], \"activations\": [\"relu\", \"identity\"], \"loss\": \"sse\",\n"
		" \"params\": {\"weights\": [[[1]], [[2]]], \"biases\": [[-0.99999999], [0]]},\n"
		" \"inputs\": [1], \"targets\": [3]}\n", ".json");
	cli_run r = cli_gradcheck("%s", path);

	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "0      0\n  b1       1 ") != NULL, "%s", r.out);
	cli_free(&r);
	unlink(path);
	free(path);

	/* z1 = 1 * 1 - 1 = 0 exactly: dL/db1 is 0 from below and 2 * 2 * (0 - 3) = -12 above */
	path = cli_temp_file(
		"{\"layers\": [1, 1, 1], \"activations\": [\"relu\", \"identity\"], \"loss\": \"sse\",\n"
		" \"params\": {\"weights\": [[[1]], [[2]]], \"biases\": [[-1], [0]]},\n"
		" \"inputs\": [1], \"targets\": [3]}\n", ".json");
	r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "0      1\n  b1       1 ") != NULL, "%s", r.out);
	cli_free(&r);
	char *grad = cli_temp_file("{\"gradients\": {\"weights\": [[[0]], [[0]]], "
	                           "\"biases\": [[-13], [-6]]}}", ".json");
	r = cli_gradcheck("--grad %s %s", grad, path);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.out, "b1: 1 of 1 elements fail") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "b1[0]                      -13      -11.99999") != NULL, "%s", r.out);
	cli_free(&r);
	unlink(grad);
	free(grad);
	unlink(path);
	free(path);
}
END_TEST

/* The exit status of "$GRADCHECK ARGS" with standard output redirected by REDIR. */
static int status_with_stdout(const char *args, const char *redir)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s %s 2>/dev/null </dev/null", prog, args, redir);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A report that cannot be written (disk full, standard output closed) is exit 2, never
 * 0: whatever the command (check, merge's output, --help, --version). */
START_TEST(test_stdout_lost)
{
	static const char *const args[] = {
		"cases/seed003_sigmoid_2_2_1.json", "--format json cases/seed003_sigmoid_2_2_1.json",
		"resolve cases/seed003_sigmoid_2_2_1.json", "grad cases/seed003_sigmoid_2_2_1.json",
		"--help", "--version"
	};
	ck_assert_int_eq(status_with_stdout(args[0], ">/dev/null"), 0);
	for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
		ck_assert_msg(status_with_stdout(args[i], ">/dev/full") == 2, "%s >/dev/full", args[i]);
		ck_assert_msg(status_with_stdout(args[i], ">&-") == 2, "%s >&-", args[i]);
	}
}
END_TEST

/* -o never replaces an input (cases, --grad, merge's shards) and keeps the mode of the
 * file it replaces; a FIFO named *.json in a case folder is skipped, not waited on. */
START_TEST(test_nothing_overwritten)
{
	char dir[] = "/tmp/gc_cli_dir_XXXXXX", path[256], fifo[256], out[256], link[256];
	struct stat st;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a.json", dir);
	snprintf(fifo, sizeof fifo, "%s/b.json", dir);
	snprintf(out, sizeof out, "%s/out.json", dir);
	snprintf(link, sizeof link, "%s/link.json", dir);
	char *text = cli_slurp("cases/seed003_sigmoid_2_2_1.json");
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);

	/* the case itself, by another spelling and through a symbolic link */
	ck_assert_int_eq(symlink(path, link), 0);
	const char *outs[] = { path, link };
	for (size_t k = 0; k < 2; k++) {
		cli_run r = cli_gradcheck("-o %s %s/./a.json", outs[k], dir);
		ck_assert_int_eq(r.status, 2);
		ck_assert_msg(strstr(r.err, "refusing to overwrite it") != NULL, "%s", r.err);
		cli_free(&r);
		char *now = cli_slurp(path);
		ck_assert_str_eq(now, text);
		free(now);
	}
	cli_run r = cli_gradcheck("--grad %s -o %s cases/seed003_sigmoid_2_2_1.json", path, path);
	ck_assert_int_eq(r.status, 2);
	cli_free(&r);

	/* merge -o onto one of its shards */
	r = cli_gradcheck("--shard 1/1 --format json -o %s %s", out, path);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	char *shard = cli_slurp(out);
	r = cli_gradcheck("merge -o %s %s", out, out);
	ck_assert_int_eq(r.status, 2);
	cli_free(&r);
	char *after = cli_slurp(out);
	ck_assert_str_eq(after, shard);
	free(after);
	free(shard);

	/* a private report stays private */
	ck_assert_int_eq(chmod(out, 0600), 0);
	r = cli_gradcheck("--format json -o %s %s", out, path);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	unlink(out);
	unlink(link);

	/* the folder holds a.json and a FIFO b.json: a.json is checked, b.json skipped */
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	r = cli_gradcheck("--timeout 5 %s", dir);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "1 passed, 0 failed") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.err, "b.json: skipped, not a regular file") != NULL, "%s", r.err);
	cli_free(&r);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
	free(text);
}
END_TEST

/* The null (minor 3) or full (minor 7) device: a node made in dir as root, so that
 * a -o that replaced it would not break the machine's own; /dev's otherwise (where
 * a user cannot replace anything). */
static void device_path(const char *dir, const char *name, unsigned minor, char *out,
                        size_t size)
{
	snprintf(out, size, "%s/%s", dir, name);
	if (geteuid() != 0 || mknod(out, S_IFCHR | 0666, makedev(1, minor)) != 0)
		snprintf(out, size, "/dev/%s", name);
}

/* -o onto a device writes to it (never renames a file over it) and reports a full
 * one; -o onto a symbolic link writes the file it names, keeping the link; -o naming
 * the file standard output goes to is standard output (nothing overwritten). */
START_TEST(test_output_onto_device_and_link)
{
	char dir[] = "/tmp/gc_cli_dev_XXXXXX", null[256], full[256], file[256], link[256];
	struct stat st;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	device_path(dir, "null", 3, null, sizeof null);
	device_path(dir, "full", 7, full, sizeof full);

	cli_run r = cli_gradcheck("-o %s cases/seed003_sigmoid_2_2_1.json", null);
	ck_assert_msg(r.status == 0, "%s", r.err);
	cli_free(&r);
	ck_assert_int_eq(stat(null, &st), 0);
	ck_assert_msg(S_ISCHR(st.st_mode), "-o %s replaced the device", null);
	r = cli_gradcheck("-o %s cases/seed003_sigmoid_2_2_1.json", full);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "No space left on device") != NULL, "%s", r.err);
	cli_free(&r);
	ck_assert_int_eq(stat(full, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));

	snprintf(file, sizeof file, "%s/report.txt", dir);
	snprintf(link, sizeof link, "%s/latest.txt", dir);
	FILE *fp = fopen(file, "w");
	fputs("old\n", fp);
	fclose(fp);
	ck_assert_int_eq(chmod(file, 0600), 0);
	ck_assert_int_eq(symlink("report.txt", link), 0);
	r = cli_gradcheck("-o %s cases/seed003_sigmoid_2_2_1.json", link);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	char *now = cli_slurp(file);
	ck_assert_msg(strstr(now, "1 passed, 0 failed") != NULL, "%s", now);
	free(now);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	/* standard output is a file here (cli_sh) */
	cli_run plain = cli_gradcheck("--format json cases/seed003_sigmoid_2_2_1.json");
	r = cli_gradcheck("--format json -o /dev/stdout cases/seed003_sigmoid_2_2_1.json");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, plain.out);
	cli_free(&r);
	cli_free(&plain);

	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* --record writes an infinite loss and gradient as "Infinity", and --golden reads
 * them back as the same values: no drift, no error. */
START_TEST(test_nonfinite_record_golden)
{
	char dir[] = "/tmp/gc_cli_inf_XXXXXX", cmd[300];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	const char *overflow = "{\"name\": \"overflow\", \"layers\": [1, 1], \"activations\": "
		"\"identity\", \"loss\": \"half_sse\", \"params\": {\"weights\": [[[1e200]]], "
		"\"biases\": [[0]]}, \"inputs\": [[1e200]], \"targets\": [[0]]}";
	snprintf(cmd, sizeof cmd, "%s/overflow.json", dir);
	FILE *fp = fopen(cmd, "w");
	fputs(overflow, fp);
	fclose(fp);

	cli_run r = cli_gradcheck("--record %s %s/overflow.json", dir, dir);
	ck_assert_int_eq(r.status, 1);          /* an infinite gradient fails */
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "%s/overflow.grad.json", dir);
	char *recorded = cli_slurp(cmd);
	ck_assert_msg(strstr(recorded, "\"loss\":\t\"Infinity\"") != NULL, "%s", recorded);
	ck_assert_msg(strstr(recorded, "[[[\"Infinity\"]]]") != NULL, "%s", recorded);
	free(recorded);
	r = cli_gradcheck("--golden %s %s/overflow.json", dir, dir);
	ck_assert_msg(r.status == 1, "%s", r.err);
	ck_assert_msg(strstr(r.out, "golden:") == NULL, "%s", r.out);
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A loss of 1e30 (target 1e15) rounds away every difference: no element can be
 * decided, and such a case is an error, never a pass. */
START_TEST(test_nothing_decided)
{
	char *path = cli_temp_file("{\"layers\": [1, 1], \"activations\": \"identity\", "
	                           "\"loss\": \"sse\", \"params\": {\"weights\": [[[1]]], "
	                           "\"biases\": [[0]]}, \"inputs\": [[1]], \"targets\": [[1e15]]}",
	                           ".json");
	cli_run r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "nothing was decided: all 2 elements checked are unreliable")
	              != NULL, "%s", r.err);
	ck_assert_msg(strstr(r.out, "0 passed, 1 failed") != NULL, "%s", r.out);
	cli_free(&r);
	unlink(path);
	free(path);
}
END_TEST

/* A program whose stderr holds byte 0xFF: every report format stays valid UTF-8 (iconv
 * checks, independently of gradcheck's own code), the byte shown as U+FFFD. */
START_TEST(test_reports_are_utf8)
{
	static const char *const formats[] = { "text", "json", "junit", "tap", "html" };
	if (system("command -v iconv >/dev/null 2>&1") != 0) {
		printf("SKIP test_reports_are_utf8: iconv is not installed\n");
		ck_abort_msg("iconv is needed to check the reports' UTF-8");
	}
	for (size_t k = 0; k < sizeof formats / sizeof *formats; k++) {
		cli_run r = cli_gradcheck("--format %s --exec \"printf 'bad \\377 byte' >&2; exit 3\" "
		                          "cases/seed003_sigmoid_2_2_1.json", formats[k]);
		ck_assert_int_eq(r.status, 2);
		ck_assert_msg(strstr(r.out, k == 4 ? "bad &#xFFFD; byte" : "bad \xef\xbf\xbd byte") != NULL,
		              "%s: no U+FFFD", formats[k]);
		char *path = cli_temp_file(r.out, ".out");
		char cmd[512];
		snprintf(cmd, sizeof cmd, "iconv -f UTF-8 -t UTF-8 %s >/dev/null 2>&1", path);
		ck_assert_msg(system(cmd) == 0, "%s report is not UTF-8", formats[k]);
		unlink(path);
		free(path);
		cli_free(&r);
	}
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_demo_cases_pass);
	tcase_add_test(tc, test_help_documents_every_option);
	tcase_add_test(tc, test_h_is_help);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_bad_case_reported_others_run);
	tcase_add_test(tc, test_missing_and_malformed_files);
	tcase_add_test(tc, test_grad_matches_seed003);
	tcase_add_test(tc, test_resolve_is_explicit);
	tcase_add_test(tc, test_one_element_off_fails);
	tcase_add_test(tc, test_expect_mismatch_fails);
	tcase_add_test(tc, test_kink_is_not_a_failure);
	tcase_add_test(tc, test_stdout_lost);
	tcase_add_test(tc, test_nothing_overwritten);
	tcase_add_test(tc, test_output_onto_device_and_link);
	tcase_add_test(tc, test_nonfinite_record_golden);
	tcase_add_test(tc, test_nothing_decided);
	tcase_add_test(tc, test_reports_are_utf8);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(cli_suite)
