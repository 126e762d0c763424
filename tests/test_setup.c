/* test_setup.c - what a fresh machine and a newcomer rely on besides the program:
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
	tcase_add_test(tc, test_install_cxx_check_skips_without_compiler);
	tcase_add_test(tc, test_no_spec_citations);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(setup_suite)
