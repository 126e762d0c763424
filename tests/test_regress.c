/* test_regress.c - every input the fuzzers ever crashed on (tests/fuzz/regress/TARGET/)
 * goes through the same parser as in its fuzz target and must end cleanly: a case or
 * a report when the file name starts with "valid_", otherwise an error with a message
 * (and no crash, leak or out-of-memory: make sanitize runs this under ASan). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "case.h"
#include "gradfile.h"
#include "jsonutil.h"
#include "merge.h"
#include "fuzz/fuzz_cases.h"

#define REGRESS "tests/fuzz/regress/"

typedef int (*run_fn)(const char *text, size_t len, gc_error *err);

static int run_case(const char *text, size_t len, gc_error *err)
{
	gc_case *c = NULL;
	int rc = gc_case_parse(text, len, "regress.json", &c, err);

	if (rc == 0) {
		char *resolved = gc_case_resolve(c);
		ck_assert_ptr_nonnull(resolved);
		cJSON_free(resolved);
	}
	gc_case_free(c);
	return rc;
}

/* First byte: which fixed case (fuzz_cases.h); the rest: the gradient file. */
static int run_gradfile(const char *text, size_t len, gc_error *err)
{
	const char *ct = gc_fuzz_case_text[len > 0 && (text[0] & 1)];
	gc_case *c = NULL;
	double *grad;
	unsigned char *transposed;
	int has_loss, rc;
	double loss;

	ck_assert_int_eq(gc_case_parse(ct, strlen(ct), "case.json", &c, err), 0);
	grad = malloc(c->n_params * sizeof *grad);
	transposed = malloc(c->n_tensors);
	ck_assert(grad && transposed);
	if (len > 0) {
		text++;
		len--;
	}
	rc = gc_gradfile_parse(text, len, "regress.grad.json", c, grad, transposed,
			       &has_loss, &loss, err);
	free(grad);
	free(transposed);
	gc_case_free(c);
	return rc;
}

static void write_temp(char *path, const char *data, size_t len)
{
	int fd = mkstemps(path, 5);

	ck_assert_int_ne(fd, -1);
	ck_assert(len == 0 || write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Split at the first NUL byte into one or two report files, as fuzz_merge does. */
static int run_merge(const char *text, size_t len, gc_error *err)
{
	char p1[] = "/tmp/gc_regress_XXXXXX.json", p2[] = "/tmp/gc_regress_XXXXXX.json";
	const char *paths[2] = { p1, p2 };
	const char *nul = memchr(text, '\0', len);
	size_t n1 = nul ? (size_t)(nul - text) : len, n = nul ? 2 : 1;
	char *json = NULL;
	int status = -1, rc;

	write_temp(p1, text, n1);
	if (nul)
		write_temp(p2, nul + 1, len - n1 - 1);
	rc = gc_merge_reports(paths, n, &json, &status, err);
	if (rc == 0)
		ck_assert(json && status >= 0 && status <= 2);
	free(json);
	unlink(p1);
	if (nul)
		unlink(p2);
	return rc;
}

static size_t run_dir(const char *target, run_fn run)
{
	char dir[256], path[512];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(dir, sizeof dir, REGRESS "%s", target);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d))) {
		char *text = NULL;
		size_t len = 0;
		gc_error err = { .msg = "" };
		int valid = strncmp(e->d_name, "valid_", 6) == 0, rc;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ck_assert_msg(gc_json_read_file(path, gc_case_default_limits.max_file, &text, &len, &err) == 0,
			      "%s: %s", path, err.msg);
		rc = run(text, len, &err);
		if (valid)
			ck_assert_msg(rc == 0, "%s: expected to load, got: %s", path, err.msg);
		else
			ck_assert_msg(rc != 0 && err.msg[0] && !strstr(err.msg, "out of memory"),
				      "%s: expected a clean error, got rc %d: '%s'", path, rc, err.msg);
		free(text);
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(test_regress_case)
{
	run_dir("case", run_case);
}
END_TEST

START_TEST(test_regress_gradfile)
{
	run_dir("gradfile", run_gradfile);
}
END_TEST

START_TEST(test_regress_merge)
{
	run_dir("merge", run_merge);
}
END_TEST

Suite *regress_suite(void)
{
	Suite *s = suite_create("regress");
	TCase *tc = tcase_create("fuzz regressions");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_regress_case);
	tcase_add_test(tc, test_regress_gradfile);
	tcase_add_test(tc, test_regress_merge);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(regress_suite)
