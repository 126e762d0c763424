/* test_names.c - the one name table per enum (method, verdict, case status, format):
 * the spellings of README.md ("Command line", "Reports"), and parse(name(x)) == x. */
#include <stddef.h>
#include "testutil.h"
#include "gradcheck_report.h"

START_TEST(test_method_names)
{
	gc_method m = GC_METHOD_FIVE_POINT;

	ck_assert_str_eq(gc_method_name(GC_METHOD_CENTRAL), "central");
	ck_assert_str_eq(gc_method_name(GC_METHOD_FIVE_POINT), "five-point");
	ck_assert_int_eq(gc_method_parse("central", &m), GC_OK);
	ck_assert_int_eq(m, GC_METHOD_CENTRAL);
	ck_assert_int_eq(gc_method_parse("five-point", &m), GC_OK);
	ck_assert_int_eq(m, GC_METHOD_FIVE_POINT);
	ck_assert_int_eq(gc_method_parse("five_point", &m), GC_EINVAL);
	ck_assert_int_eq(gc_method_parse("Central", &m), GC_EINVAL);
	ck_assert_int_eq(gc_method_parse("", &m), GC_EINVAL);
	ck_assert_int_eq(gc_method_parse(NULL, &m), GC_EINVAL);
	ck_assert_int_eq(m, GC_METHOD_FIVE_POINT);      /* untouched on failure */
}
END_TEST

START_TEST(test_verdict_names)
{
	static const char *const want[] = { "pass", "fail", "kink", "skipped" };
	static const gc_verdict v[] = { GC_ELEM_PASS, GC_ELEM_FAIL, GC_ELEM_KINK,
	                                GC_ELEM_SKIPPED };
	gc_verdict got;

	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(gc_verdict_name(v[i]), want[i]);
		ck_assert_int_eq(gc_verdict_parse(want[i], &got), GC_OK);
		ck_assert_int_eq(got, v[i]);
	}
	ck_assert_int_eq(gc_verdict_parse("PASS", &got), GC_EINVAL);
	ck_assert_int_eq(gc_verdict_parse(NULL, &got), GC_EINVAL);
}
END_TEST

START_TEST(test_case_status_names)
{
	static const char *const want[] = { "pass", "fail", "error" };
	static const char *const label[] = { "PASS", "FAIL", "ERROR" };
	static const gc_case_status s[] = { GC_CASE_PASS, GC_CASE_FAIL, GC_CASE_ERROR };
	gc_case_status got;

	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(gc_case_status_name(s[i]), want[i]);
		ck_assert_str_eq(gc_case_status_label(s[i]), label[i]);
		ck_assert_int_eq(gc_case_status_parse(want[i], &got), GC_OK);
		ck_assert_int_eq(got, s[i]);
	}
	ck_assert_int_eq(gc_case_status_parse("ERROR", &got), GC_EINVAL);
	ck_assert_int_eq(gc_case_status_parse("kink", &got), GC_EINVAL);
}
END_TEST

START_TEST(test_format_names)
{
	static const char *const want[] = { "text", "json", "junit", "tap", "html" };
	static const gc_format f[] = { GC_FORMAT_TEXT, GC_FORMAT_JSON, GC_FORMAT_JUNIT,
	                               GC_FORMAT_TAP, GC_FORMAT_HTML };
	gc_format got;

	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(gc_format_name(f[i]), want[i]);
		ck_assert_int_eq(gc_format_parse(want[i], &got), GC_OK);
		ck_assert_int_eq(got, f[i]);
	}
	ck_assert_int_eq(gc_format_parse("xml", &got), GC_EINVAL);
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, test_method_names);
	tcase_add_test(tc, test_verdict_names);
	tcase_add_test(tc, test_case_status_names);
	tcase_add_test(tc, test_format_names);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(names_suite)
