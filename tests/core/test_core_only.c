/* test_core_only.c - a program that uses only the checking core (gradcheck.h) links
 * with the core's objects, GSL and pthreads, without cJSON (make check-core builds it
 * without cJSON's flags and libraries, so a core file that needed cJSON would not link),
 * and checks known gradients with it. */
#include <math.h>
#include "testutil.h"
#include "gradcheck.h"

/* f(x, y) = x^2 y + 3 y: df/dx = 2 x y, df/dy = x^2 + 3. */
static double f(const double *t, void *ctx)
{
	(void)ctx;
	return t[0] * t[0] * t[1] + 3 * t[1];
}

START_TEST(test_core_right_and_wrong)
{
	const double theta[2] = { 1.5, -2.0 };
	const double right[2] = { 2 * 1.5 * -2.0, 1.5 * 1.5 + 3 };      /* -6, 5.25 */
	const double wrong[2] = { -6.0, 2 * 5.25 };
	gc_problem p = { .n = 2, .theta = theta, .grad = right, .loss = f(theta, NULL), .f = f };
	gc_options o;
	gc_result *r = NULL;

	gc_options_init(&o);
	o.jobs = 1;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->checked, 2);
	ck_assert_uint_eq(r->failed, 0);
	ck_assert_double_eq_tol(r->elements[1].numeric, 5.25, 1e-6);
	gc_result_free(r);
	p.grad = wrong;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_int_eq(r->elements[1].verdict, GC_ELEM_FAIL);
	ck_assert_str_eq(gc_verdict_name(r->elements[1].verdict), "fail");
	gc_result_free(r);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core_only");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_core_right_and_wrong);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(core_suite)
