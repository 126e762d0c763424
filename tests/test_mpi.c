/* test_mpi.c - the MPI build under mpirun (README "On a cluster").
 *
 * gc_spread_assign's shares are checked against ranges derived by hand.  The rest
 * needs Open MPI: make check builds the MPI program and names it in GRADCHECK_MPI
 * when mpirun and the ompi-c package are there; otherwise those tests print SKIP.
 * With it, mpirun -np 1, 2 and 3 on cases/ and on --model programs must write byte
 * for byte the report of the plain program (GRADCHECK, the default build, itself tested against hand-derived and
 * published numbers elsewhere), every rank must exit with the same status, and a
 * rank whose program fails, that hangs or that dies must be named, never waited
 * for forever. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "gradcheck.h"
#include "testutil.h"

/* Every mpirun is bounded, so a hang fails the test instead of blocking make check.
 * Open MPI leaves memory to the operating system at exit, which LeakSanitizer (make
 * sanitize) would report as leaks of ours; the ranks run without leak detection (the
 * code they share with the plain program is leak-checked by the other tests). */
#define MPIRUN "ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --oversubscribe"

static const char *mpi_program(void)
{
	return getenv("GRADCHECK_MPI");
}

static const char *plain_program(void)
{
	return getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
}

/* Runs "PREFIX $GRADCHECK_MPI ARGS" (printf-formatted ARGS). */
static cli_run mpi_run(const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static cli_run mpi_run(const char *prefix, const char *fmt, ...)
{
	char args[4096], cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s %s %s", prefix, mpi_program(), args);
	return cli_sh(cmd);
}

/* ---- the share, by hand ------------------------------------------------------------ */

static void check_owners(const double *cost, size_t n, unsigned parts, const unsigned *want)
{
	unsigned owner[16];

	ck_assert_int_eq(gc_spread_assign(cost, n, parts, owner), GC_OK);
	for (size_t u = 0; u < n; u++)
		ck_assert_msg(owner[u] == want[u], "parts %u: unit %zu goes to %u, expected %u",
		              parts, u, owner[u], want[u]);
}

START_TEST(test_assign_by_cost)
{
	/* equal costs: 6 units in 3 ranges of 2 */
	const double ones[6] = { 1, 1, 1, 1, 1, 1 };
	const unsigned thirds[6] = { 0, 0, 1, 1, 2, 2 };
	/* seed003's tensors W1 (4 elements), b1 (2), W2 (2), b2 (1) with the costs of
	 * gc_net_param_cost, batch 1, layers [2, 2, 1]: layer 1 is 1 + 2*1 + n_2 = 4,
	 * layer 2 is 1 + 2*1 = 3; total 33, so thirds of 11: the middles 2, 6, 10 | 14,
	 * 18 | 22, 25.5, 28.5, 31.5 */
	const double seed003[9] = { 4, 4, 4, 4, 4, 4, 3, 3, 3 };
	const unsigned seed003_3[9] = { 0, 0, 0, 1, 1, 2, 2, 2, 2 };
	/* halves of 16.5: the middles 2 .. 14 | 18 .. 31.5 */
	const unsigned seed003_2[9] = { 0, 0, 0, 0, 1, 1, 1, 1, 1 };
	/* one expensive unit first: 10 of 14 in total; quarters of 3.5 */
	const double heavy[5] = { 10, 1, 1, 1, 1 };
	const unsigned heavy_4[5] = { 1, 3, 3, 3, 3 };
	/* more parts than units: some ranges stay empty */
	const unsigned ones_8[2] = { 2, 6 };
	const unsigned all_0[6] = { 0, 0, 0, 0, 0, 0 };
	unsigned owner[1];

	check_owners(ones, 6, 3, thirds);
	check_owners(ones, 6, 1, all_0);
	check_owners(seed003, 9, 3, seed003_3);
	check_owners(seed003, 9, 2, seed003_2);
	check_owners(heavy, 5, 4, heavy_4);
	check_owners(ones, 2, 8, ones_8);
	ck_assert_int_eq(gc_spread_assign(ones, 1, 0, owner), GC_EINVAL);
}
END_TEST

/* ---- under mpirun ------------------------------------------------------------------ */

static int have_mpi(void)
{
	if (mpi_program() && *mpi_program())
		return 1;
	printf("SKIP: test_mpi: GRADCHECK_MPI is not set (make check sets it when Open MPI is "
	       "installed: apt-get install libopenmpi-dev openmpi-bin)\n");
	return 0;
}

/* The same report from the plain program and from mpirun -np 1, 2, 3. */
static void check_identical(int np, const char *args, int want_status)
{
	char cmd[4096], prefix[128];
	cli_run plain, mpi;

	snprintf(cmd, sizeof cmd, "%s %s", plain_program(), args);
	plain = cli_sh(cmd);
	ck_assert_msg(plain.status == want_status, "plain %s: status %d\n%s", args, plain.status,
	              plain.err);
	snprintf(prefix, sizeof prefix, MPIRUN " -np %d", np);
	mpi = mpi_run(prefix, "%s", args);
	ck_assert_msg(mpi.status == want_status, "np %d %s: status %d\n%s", np, args, mpi.status,
	              mpi.err);
	ck_assert_msg(strcmp(plain.out, mpi.out) == 0, "np %d %s: the report differs:\n%s\n---\n%s",
	              np, args, plain.out, mpi.out);
	cli_free(&plain);
	cli_free(&mpi);
}

START_TEST(test_identical_np)
{
	if (!have_mpi())
		return;
	check_identical(_i, "--format json cases/", 0);
	/* --model: each rank runs its own copies of the program (--jobs per rank) and asks
	 * them for its share of the losses only */
	check_identical(_i, "--format json --model 'examples/model/quadratic.py --bug scale'", 1);
}
END_TEST

/* More options, on 3 ranks. */
START_TEST(test_identical_options)
{
	if (!have_mpi())
		return;
	check_identical(3, "--format json --fast cases/", 0);
	check_identical(3, "--format json --sample 3 --seed 7 cases/", 0);
	/* a failing case (seed 002's buggy gradient), text with every failing element */
	check_identical(3, "--show all --exec examples/seed002_batch.py "
	                "cases/seed002_batch_3_5_2.json", 1);
	check_identical(3, "--format json --fast --model 'examples/model/quadratic.py --bug "
	                "scale'", 1);
	check_identical(3, "--format json --jobs 2 --method five-point --model "
	                "examples/model/quadratic.py cases/seed003_sigmoid_2_2_1.json", 0);
}
END_TEST

/* Each rank appends "rank R status S" to DIR/ranks; returns that file's lines, sorted. */
static char *statuses(const char *gradcheck_args, int np, int *mpirun_status, char **err)
{
	char dir[] = "/tmp/gc_mpi_XXXXXX", prefix[512], path[600], cmd[1024];
	cli_run r, sorted;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(prefix, sizeof prefix, MPIRUN " -np %d sh -c '\"$0\" \"$@\"; echo rank "
	         "$OMPI_COMM_WORLD_RANK status $? >>%s/ranks'", np, dir);
	r = mpi_run(prefix, "%s", gradcheck_args);
	*mpirun_status = r.status;
	*err = strdup(r.err);
	snprintf(path, sizeof path, "%s/ranks", dir);
	snprintf(cmd, sizeof cmd, "sort %s", path);
	sorted = cli_sh(cmd);
	unlink(path);
	rmdir(dir);
	free(r.out);
	free(r.err);
	free(sorted.err);
	return sorted.out;
}

START_TEST(test_failing_case_exits_1_on_every_rank)
{
	char *err, *lines;
	int st;

	if (!have_mpi())
		return;
	lines = statuses("--exec examples/seed002_batch.py cases/seed002_batch_3_5_2.json", 3,
	                 &st, &err);
	ck_assert_str_eq(lines, "rank 0 status 1\nrank 1 status 1\nrank 2 status 1\n");
	free(lines);
	free(err);
}
END_TEST

/* The program under test fails on rank 1 only: the case is an error naming rank 1 and
 * the program's message, and every rank exits 2. */
START_TEST(test_program_failing_on_one_rank)
{
	const char *args = "--exec 'if [ $OMPI_COMM_WORLD_RANK = 1 ]; then echo boom >&2; "
	                   "exit 3; fi; exec examples/numpy_backprop.py' "
	                   "cases/seed003_sigmoid_2_2_1.json";
	char *err, *lines, *msg;
	int st;

	if (!have_mpi())
		return;
	lines = statuses(args, 3, &st, &err);
	ck_assert_str_eq(lines, "rank 0 status 2\nrank 1 status 2\nrank 2 status 2\n");
	msg = strstr(err, "gradcheck: rank 1: cases/seed003_sigmoid_2_2_1.json: --exec");
	ck_assert_msg(msg != NULL, "%s", err);
	ck_assert_msg(strstr(msg, "failed: exit status 3; its stderr ends with:\nboom\n"), "%s",
	              err);
	free(lines);
	free(err);
}
END_TEST

/* The --model program dies on rank 1 in the middle of its share: the error names rank
 * 1 and the request (element 1 or 2 of theta: with 3 elements of equal cost, rank 1's
 * share is elements 1 and 2), and every rank exits 2. */
START_TEST(test_model_failing_on_one_rank)
{
	char *err, *lines, *msg;
	int st;

	if (!have_mpi())
		return;
	lines = statuses("--jobs 1 --model 'if [ $OMPI_COMM_WORLD_RANK = 1 ]; then exec "
	                 "tests/data/model/fake.py die-mid; else exec tests/data/model/fake.py ok; "
	                 "fi'", 2, &st, &err);
	ck_assert_str_eq(lines, "rank 0 status 2\nrank 1 status 2\n");
	msg = strstr(err, "gradcheck: rank 1: --model '");
	ck_assert_msg(msg != NULL, "%s", err);
	ck_assert_msg(strstr(msg, "': stopped answering after 3 answers; no answer to 'i 1 ") ||
	              strstr(msg, "': stopped answering after 3 answers; no answer to 'i 2 "), "%s",
	              err);
	ck_assert_msg(strstr(msg, "it ended with exit status 4; its stderr ends with:\nfake: "
	                     "crashed\n"), "%s", err);
	free(lines);
	free(err);
}
END_TEST

/* Rank 2 stops (SIGSTOP) before checking: rank 0 gives up after --rank-timeout plus
 * its own time, names rank 2 and its share (4 of seed003's 9 elements, b1[1] to b2[0]:
 * see test_assign_by_cost), and ends the job with status 2. */
START_TEST(test_hung_rank_is_named)
{
	cli_run r;

	if (!have_mpi())
		return;
	r = mpi_run(MPIRUN " -np 3", "--rank-timeout 1 --exec 'if [ $OMPI_COMM_WORLD_RANK = 2 ]; "
	            "then kill -STOP $PPID; fi; exec examples/numpy_backprop.py' "
	            "cases/seed003_sigmoid_2_2_1.json");
	ck_assert_msg(r.status == 2, "status %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "gradcheck: rank 2 sent no results of "
	                     "cases/seed003_sigmoid_2_2_1.json within "), "%s", r.err);
	ck_assert_msg(strstr(r.err, " s (it died or hangs; its share: 4 of 9 elements, b1[1] to "
	                     "b2[0])\n"), "%s", r.err);
	cli_free(&r);
}
END_TEST

/* Rank 1 is killed: mpirun notices, names the rank and ends the job. */
START_TEST(test_dead_rank_ends_the_job)
{
	cli_run r;

	if (!have_mpi())
		return;
	r = mpi_run(MPIRUN " -np 3", "--exec 'if [ $OMPI_COMM_WORLD_RANK = 1 ]; then kill -9 $PPID; "
	            "fi; exec examples/numpy_backprop.py' cases/seed003_sigmoid_2_2_1.json");
	ck_assert_msg(r.status != 0 && r.status != 124, "status %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "process rank 1 with PID"), "%s", r.err);
	ck_assert_msg(strstr(r.err, "exited on signal 9"), "%s", r.err);
	cli_free(&r);
}
END_TEST

static Suite *mpi_suite(void)
{
	Suite *s = suite_create("mpi");
	TCase *share = tcase_create("share");
	TCase *tc = tcase_create("mpirun");

	/* mpirun refuses root unless told; the CI container runs as root */
	setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
	setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
	tcase_add_test(share, test_assign_by_cost);
	suite_add_tcase(s, share);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_identical_np, 1, 4);
	tcase_add_test(tc, test_identical_options);
	tcase_add_test(tc, test_model_failing_on_one_rank);
	tcase_add_test(tc, test_failing_case_exits_1_on_every_rank);
	tcase_add_test(tc, test_program_failing_on_one_rank);
	tcase_add_test(tc, test_hung_rank_is_named);
	tcase_add_test(tc, test_dead_rank_ends_the_job);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(mpi_suite)
