/* test_setup.c - what a fresh machine and a newcomer rely on besides the program:
 * the Debian packages each make target asks for (and README "Two commands" lists),
 * checks that cannot run say SKIP instead of passing, and the sources cite README
 * sections (the repository's own documentation), never an outside document. */
#include "cli.h"
#include "testutil.h"

/* The program under test's build folder (B), from GRADCHECK=B/gradcheck. */
static void build_folder(char *buf, size_t size)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	const char *slash = strrchr(prog, '/');

	snprintf(buf, size, "%.*s", slash ? (int)(slash - prog) : 1, slash ? prog : ".");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The words of s (which it frees) sorted, one space apart (caller frees). */
static char *sorted_words(char *s)
{
	char *words[256], *save = NULL, *out = calloc(strlen(s) + 1, 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(out);
	for (char *w = strtok_r(s, " \t\n", &save); w && n < 256; w = strtok_r(NULL, " \t\n", &save))
		words[n++] = w;
	qsort(words, n, sizeof *words, cmp_str);
	for (size_t k = 0; k < n; k++) {
		if (k)
			strcat(out, " ");
		strcat(out, words[k]);
	}
	free(s);
	return out;
}

/* The packages `make TARGET` (with VARS) asks for on a machine that has none of them,
 * as a non-root user: a fake dpkg-query says nothing is installed and a fake id says
 * uid 1000, so the Makefile names what is missing and stops before it builds anything.
 * Returns the names sorted, one space apart (caller frees). */
static char *missing_packages(const char *vars, const char *target)
{
	char dir[] = "/tmp/gc_fakebin_XXXXXX", cmd[2048];
	const char *marker = "missing Debian packages:";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "printf '#!/bin/sh\nexit 1\n' >%s/dpkg-query && "
	         "printf '#!/bin/sh\necho 1000\n' >%s/id && chmod +x %s/dpkg-query %s/id", dir, dir, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH=%s:\"$PATH\" "
	         "make -s --no-print-directory %s %s", dir, vars, target);
	cli_run r = cli_sh(cmd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	const char *at = strstr(r.out, marker);
	ck_assert_msg(r.status != 0 && at, "make %s %s with no package installed did not stop "
	              "naming the missing ones:\n%s%s", vars, target, r.out, r.err);
	at += strlen(marker);
	char *list = strndup(at, strcspn(at, "(\n"));
	cli_free(&r);
	return sorted_words(list);
}

/* The backquoted package names that follow `label` in README.md, up to the next ')',
 * sorted, one space apart (caller frees). */
static char *readme_packages(const char *label)
{
	char *readme = cli_slurp("README.md");
	const char *at = strstr(readme, label);
	char buf[2048] = "";
	size_t n = 0;

	ck_assert_msg(at != NULL, "README.md has no '%s'", label);
	for (at += strlen(label); *at && *at != ')'; at++)
		if (*at == '`') {
			const char *end = strchr(at + 1, '`');
			ck_assert_ptr_nonnull(end);
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%.*s ", (int)(end - at - 1), at + 1);
			ck_assert_uint_lt(n, sizeof buf);
			at = end;
		}
	free(readme);
	return sorted_words(strdup(buf));
}

/* `make` alone asks only for the build packages, `make check` for those and the test
 * ones, `make MPI=1` adds Open MPI; README "Two commands" names the same lists. */
START_TEST(test_package_lists)
{
	char *build = missing_packages("MPI=", "all"), *deps = missing_packages("MPI=", "deps");
	char *check = missing_packages("MPI=", "deps-check"), *mpi = missing_packages("MPI=1", "deps");
	char *readme_build = readme_packages("(`BUILD_PACKAGES` in the Makefile: ");
	char *readme_test = readme_packages("(`TEST_PACKAGES`: ");
	char both[4096], with_mpi[2048];

	ck_assert_msg(strcmp(build, deps) == 0, "a plain make asks for '%s', more than the build "
	              "packages '%s'", build, deps);
	ck_assert_msg(strcmp(build, readme_build) == 0, "make asks for '%s', README \"Two commands\" "
	              "lists '%s'", build, readme_build);
	snprintf(both, sizeof both, "%s %s", readme_build, readme_test);
	char *readme_both = sorted_words(strdup(both));
	ck_assert_msg(strcmp(check, readme_both) == 0, "make check asks for '%s', README \"Two "
	              "commands\" lists '%s'", check, readme_both);
	snprintf(with_mpi, sizeof with_mpi, "%s libopenmpi-dev openmpi-bin", build);
	char *expect_mpi = sorted_words(strdup(with_mpi));
	ck_assert_str_eq(mpi, expect_mpi);
	free(build); free(deps); free(check); free(mpi);
	free(readme_build); free(readme_test); free(readme_both); free(expect_mpi);
}
END_TEST

/* Without a C++ compiler the install test's C++ check is skipped, not passed. */
START_TEST(test_install_cxx_check_skips_without_compiler)
{
	char b[512], cmd[1024];
	FILE *fp;
	char line[512];
	int skipped = 0, passed_anyway = 0;

	build_folder(b, sizeof b);
	snprintf(cmd, sizeof cmd, "CXX=/nonexistent/c++ B='%s' sh tests/install_test.sh 2>&1", b);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof line, fp)) {
		if (!strstr(line, "C++"))
			continue;
		if (strncmp(line, "ok - ", 5) == 0 && strstr(line, " # SKIP no C++ compiler"))
			skipped++;
		else if (strncmp(line, "ok - ", 5) == 0)
			passed_anyway++;
	}
	pclose(fp);
	ck_assert_msg(passed_anyway == 0, "the C++ check passed without a C++ compiler");
	ck_assert_msg(skipped == 1, "no '# SKIP no C++ compiler' line from tests/install_test.sh");
}
END_TEST

/* Comments, examples and READMEs cite README sections, not "SPEC" sections of a
 * document that is not in the repository. */
START_TEST(test_no_spec_citations)
{
	/* the bracket keeps this file from matching its own pattern */
	const char *cmd = "grep -rnIE 'SPE[C] *(§|section|[0-9])' src tests examples README.md "
	                  "Makefile mk doc 2>&1";
	FILE *fp = popen(cmd, "r");
	char found[2048] = "";
	size_t n;

	ck_assert_ptr_nonnull(fp);
	n = fread(found, 1, sizeof found - 1, fp);
	found[n] = '\0';
	pclose(fp);
	ck_assert_msg(n == 0, "citations of SPEC:\n%s", found);
}
END_TEST

static Suite *setup_suite(void)
{
	Suite *s = suite_create("setup");
	TCase *tc = tcase_create("setup");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_package_lists);
	tcase_add_test(tc, test_install_cxx_check_skips_without_compiler);
	tcase_add_test(tc, test_no_spec_citations);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(setup_suite)
