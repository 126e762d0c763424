/* test_exec.c - the --exec runner: pipes without deadlocks, exit statuses, timeouts, no strays. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "testutil.h"
#include "exec.h"
#include "gradcheck.h"

#define MiB (1024 * 1024)

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Every byte value, NULs included, in a pattern that does not repeat every 256 bytes. */
static char *pattern(size_t n)
{
	char *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((i * 7 + (i >> 9)) & 0xff);
	return p;
}

static void run_ok(const char *cmd, const char *in, size_t in_len, double timeout, size_t max,
		   gc_exec_result *res)
{
	gc_error err = { 0 };
	int st = gc_exec_run(cmd, in, in_len, timeout, max, res, &err);

	ck_assert_msg(st == GC_OK, "%s: status %d: %s", cmd, st, err.msg);
	ck_assert_ptr_nonnull(res->out);
	ck_assert_ptr_nonnull(res->err_tail);
}

/* The runner reaped what it started: this process has no child left. */
static void assert_no_children(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

static void assert_clean_exit(const gc_exec_result *res)
{
	char buf[128];

	ck_assert_int_eq(res->exited, 1);
	ck_assert_int_eq(res->exit_code, 0);
	ck_assert_int_eq(res->signaled, 0);
	ck_assert_int_eq(res->timed_out, 0);
	ck_assert_int_eq(res->out_overflow, 0);
	ck_assert_ptr_null(gc_exec_describe(res, buf, sizeof buf));
}

START_TEST(test_cat_echoes_5mib)
{
	size_t n = 5 * MiB;
	char *in = pattern(n);
	gc_exec_result res;

	run_ok("cat", in, n, 60, 64 * MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(res.out_len, n);
	ck_assert(memcmp(res.out, in, n) == 0);
	ck_assert_int_eq(res.out[n], '\0');
	gc_exec_result_free(&res);
	free(in);
	assert_no_children();
}
END_TEST

START_TEST(test_writes_10mib_before_reading)
{
	size_t n = MiB;
	char *in = pattern(n);
	const char *tail = "1048576\n";
	gc_exec_result res;

	run_ok("head -c 10485760 /dev/zero | tr '\\0' x; wc -c", in, n, 60, 64 * MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(res.out_len, 10u * MiB + strlen(tail));
	for (size_t i = 0; i < 10u * MiB; i++)
		if (res.out[i] != 'x')
			ck_abort_msg("byte %zu is %d", i, res.out[i]);
	ck_assert_str_eq(res.out + 10 * MiB, tail);
	gc_exec_result_free(&res);
	free(in);
	assert_no_children();
}
END_TEST

START_TEST(test_exit_status)
{
	gc_exec_result res;
	char buf[64];

	run_ok("exit 3", NULL, 0, 10, MiB, &res);
	ck_assert_int_eq(res.exited, 1);
	ck_assert_int_eq(res.exit_code, 3);
	ck_assert_int_eq(res.signaled, 0);
	ck_assert_int_eq(res.timed_out, 0);
	ck_assert_uint_eq(res.out_len, 0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(gc_exec_describe(&res, buf, sizeof buf), "exit status 3");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_garbage_output_as_is)
{
	static const char want[] = { 0, (char)0xff, '{', 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', 1 };
	gc_exec_result res;

	run_ok("printf '\\000\\377{not json\\001'", NULL, 0, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(res.out_len, sizeof want);
	ck_assert(memcmp(res.out, want, sizeof want) == 0);
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_stderr_tail)
{
	gc_exec_result res;

	run_ok("echo out; echo oops >&2; exit 1", NULL, 0, 10, MiB, &res);
	ck_assert_int_eq(res.exited, 1);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert_str_eq(res.out, "out\n");
	ck_assert_str_eq(res.err_tail, "oops\n");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* 300 lines of 9 bytes: the last 2048 bytes hold 227 whole lines (227 * 9 = 2043)
 * and the end of line 72, which is dropped. */
START_TEST(test_stderr_tail_line_boundary)
{
	gc_exec_result res;

	run_ok("i=0; while [ $i -lt 300 ]; do printf 'line %03d\\n' $i >&2; i=$((i+1)); done",
	       NULL, 0, 20, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(strlen(res.err_tail), 2043);
	ck_assert(strncmp(res.err_tail, "line 073\n", 9) == 0);
	ck_assert_str_eq(res.err_tail + 2043 - 9, "line 299\n");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_stderr_tail_one_long_line)
{
	gc_exec_result res;

	run_ok("head -c 5000 /dev/zero | tr '\\0' e >&2; printf '!' >&2", NULL, 0, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(strlen(res.err_tail), 2048);
	ck_assert_int_eq(res.err_tail[0], 'e');
	ck_assert_int_eq(res.err_tail[2046], 'e');
	ck_assert_int_eq(res.err_tail[2047], '!');
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_timeout_kills)
{
	gc_exec_result res;
	char buf[64];
	double t0 = wall(), dt;

	run_ok("sleep 100", NULL, 0, 0.3, MiB, &res);
	dt = wall() - t0;
	ck_assert_int_eq(res.timed_out, 1);
	ck_assert_int_eq(res.signaled, 1);
	ck_assert_int_eq(res.signal, SIGKILL);
	ck_assert_msg(dt >= 0.3 && dt < 1.0, "took %g s", dt);
	ck_assert_msg(res.seconds >= 0.3 && res.seconds <= dt, "seconds %g", res.seconds);
	ck_assert_str_eq(gc_exec_describe(&res, buf, sizeof buf), "timed out after 0.3 s");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* Orphaned grandchildren go to init, which may not reap them here; as a subreaper this
 * process gets them, reaps them, and kill(-pgid, 0) then tells whether any is alive. */
static void become_subreaper(int on)
{
#ifdef __linux__
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0), 0);
#else
	(void)on;
#endif
}

static void assert_group_gone(pid_t pgid)
{
	int gone = 0;

	ck_assert_int_gt(pgid, 1);
	for (int i = 0; i < 200 && !gone; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		errno = 0;
		gone = kill(-pgid, 0) == -1 && errno == ESRCH;
		if (!gone)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	ck_assert_msg(gone, "process group %ld is still alive", (long)pgid);
}

START_TEST(test_timeout_kills_grandchildren)
{
	gc_exec_result res;
	double t0 = wall(), dt;

	become_subreaper(1);
	run_ok("echo $$; sleep 100 & sleep 100", NULL, 0, 0.3, MiB, &res);
	dt = wall() - t0;
	ck_assert_int_eq(res.timed_out, 1);
	ck_assert_msg(dt < 1.0, "took %g s", dt);
	assert_group_gone((pid_t)atol(res.out));
	become_subreaper(0);
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* The shell exits at once but a background job keeps stdout open: read until the deadline. */
START_TEST(test_grandchild_holding_stdout)
{
	gc_exec_result res;
	double t0 = wall(), dt;

	become_subreaper(1);
	run_ok("echo $$; sleep 100 &", NULL, 0, 0.3, MiB, &res);
	dt = wall() - t0;
	ck_assert_int_eq(res.timed_out, 1);
	ck_assert_int_eq(res.exited, 1);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_msg(dt < 1.0, "took %g s", dt);
	assert_group_gone((pid_t)atol(res.out));
	become_subreaper(0);
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* A background job that closed its output does not delay the result, and does not survive it. */
START_TEST(test_background_job_killed_after_exit)
{
	gc_exec_result res;
	double t0 = wall(), dt;

	become_subreaper(1);
	run_ok("sleep 100 >/dev/null 2>&1 & echo $$", NULL, 0, 20, MiB, &res);
	dt = wall() - t0;
	assert_clean_exit(&res);
	ck_assert_msg(dt < 1.0, "took %g s", dt);
	assert_group_gone((pid_t)atol(res.out));
	become_subreaper(0);
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_output_overflow)
{
	gc_exec_result res;
	char buf[64];

	run_ok("yes", NULL, 0, 20, MiB, &res);
	ck_assert_int_eq(res.out_overflow, 1);
	ck_assert_int_eq(res.timed_out, 0);
	ck_assert_int_eq(res.signaled, 1);
	ck_assert_int_eq(res.signal, SIGKILL);
	ck_assert_uint_eq(res.out_len, MiB);
	for (size_t i = 0; i < MiB; i++)
		if (res.out[i] != (i % 2 ? '\n' : 'y'))
			ck_abort_msg("byte %zu is %d", i, res.out[i]);
	ck_assert_str_eq(gc_exec_describe(&res, buf, sizeof buf), "output over 1 MiB");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_input_never_read)
{
	size_t n = 5 * MiB;
	char *in = pattern(n);
	gc_exec_result res;

	run_ok("exit 0", in, n, 20, MiB, &res);
	assert_clean_exit(&res);
	gc_exec_result_free(&res);

	run_ok("head -c 10", in, n, 20, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_uint_eq(res.out_len, 10);
	ck_assert(memcmp(res.out, in, 10) == 0);
	gc_exec_result_free(&res);
	free(in);
	assert_no_children();
}
END_TEST

START_TEST(test_stdin_closed_after_input)
{
	gc_exec_result res;

	run_ok("cat; echo end", "abc", 3, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_str_eq(res.out, "abcend\n");
	gc_exec_result_free(&res);

	run_ok("cat; echo end", NULL, 0, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_str_eq(res.out, "end\n");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_command_not_found)
{
	gc_exec_result res;
	char buf[64];

	run_ok("gc-no-such-command-4711 --grad", "{}", 2, 10, MiB, &res);
	ck_assert_int_eq(res.exited, 1);
	ck_assert_int_eq(res.exit_code, 127);
	ck_assert_ptr_nonnull(strstr(res.err_tail, "not found"));
	ck_assert_str_eq(gc_exec_describe(&res, buf, sizeof buf), "exit status 127");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* We ignore SIGPIPE; the program must not: `yes` dies quietly of it instead of
 * complaining "yes: standard output: Broken pipe". */
START_TEST(test_child_gets_default_sigpipe)
{
	gc_exec_result res;

	run_ok("yes | head -c 3", NULL, 0, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_str_eq(res.out, "y\ny");
	ck_assert_str_eq(res.err_tail, "");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

START_TEST(test_environment_cwd_and_fds)
{
	gc_exec_result res;
	char cwd[4096], want[4200], cmd[256];
	int fd = open("/dev/null", O_RDONLY);   /* deliberately not close-on-exec */

	ck_assert_int_ge(fd, 3);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(setenv("GC_EXEC_TEST", "hello world", 1), 0);
	snprintf(cmd, sizeof cmd,
		 "printf '%%s|' \"$GC_EXEC_TEST\"; pwd -P; [ -e /proc/self/fd/%d ] && echo leaked || echo closed",
		 fd);
	snprintf(want, sizeof want, "hello world|%s\nclosed\n", cwd);
	run_ok(cmd, NULL, 0, 10, MiB, &res);
	assert_clean_exit(&res);
	ck_assert_str_eq(res.out, want);
	gc_exec_result_free(&res);
	close(fd);
	unsetenv("GC_EXEC_TEST");
	assert_no_children();
}
END_TEST

START_TEST(test_invalid_arguments)
{
	gc_exec_result res;
	gc_error err = { 0 };

	ck_assert_int_eq(gc_exec_run(NULL, NULL, 0, 1, MiB, &res, &err), GC_EINVAL);
	ck_assert_ptr_null(res.out);
	ck_assert_int_eq(gc_exec_run("cat", NULL, 5, 1, MiB, &res, &err), GC_EINVAL);
	ck_assert_int_eq(gc_exec_run("cat", NULL, 0, 0, MiB, &res, &err), GC_EINVAL);
	ck_assert_int_eq(gc_exec_run("cat", NULL, 0, -1, MiB, &res, &err), GC_EINVAL);
	ck_assert_int_eq(gc_exec_run("cat", NULL, 0, NAN, MiB, &res, &err), GC_EINVAL);
	ck_assert_str_eq(err.msg, "the timeout must be a positive number of seconds");
	gc_exec_result_free(&res);
	gc_exec_result_free(NULL);
	assert_no_children();
}
END_TEST

START_TEST(test_no_timeout)
{
	gc_exec_result res;

	run_ok("echo hi", NULL, 0, INFINITY, 0, &res);
	assert_clean_exit(&res);
	ck_assert_str_eq(res.out, "hi\n");
	gc_exec_result_free(&res);
	assert_no_children();
}
END_TEST

/* Calls in different threads at once: each gets its own output and EOF. */
static void *run_in_thread(void *arg)
{
	size_t n = 256 * 1024 + (size_t)(long)arg * 1000;
	char *in = pattern(n);
	gc_exec_result res;
	gc_error err = { 0 };
	long ok = gc_exec_run("cat", in, n, 20, MiB, &res, &err) == GC_OK && res.exited
		  && res.exit_code == 0 && res.out_len == n && memcmp(res.out, in, n) == 0;

	gc_exec_result_free(&res);
	free(in);
	return (void *)ok;
}

START_TEST(test_concurrent_runs)
{
	pthread_t th[4];

	for (long round = 0; round < 5; round++) {
		for (long i = 0; i < 4; i++)
			ck_assert_int_eq(pthread_create(&th[i], NULL, run_in_thread, (void *)i), 0);
		for (int i = 0; i < 4; i++) {
			void *ok;

			ck_assert_int_eq(pthread_join(th[i], &ok), 0);
			ck_assert_msg(ok, "round %ld, thread %d", round, i);
		}
	}
	assert_no_children();
}
END_TEST

START_TEST(test_describe)
{
	gc_exec_result r = { 0 };
	char buf[64];

	r.exited = 1;
	ck_assert_ptr_null(gc_exec_describe(&r, buf, sizeof buf));
	r.exit_code = 2;
	ck_assert_str_eq(gc_exec_describe(&r, buf, sizeof buf), "exit status 2");
	r = (gc_exec_result){ .signaled = 1, .signal = 11 };
	ck_assert_str_eq(gc_exec_describe(&r, buf, sizeof buf), "killed by signal 11");
	r = (gc_exec_result){ .signaled = 1, .signal = 9, .timed_out = 1, .seconds = 30.004 };
	ck_assert_str_eq(gc_exec_describe(&r, buf, sizeof buf), "timed out after 30 s");
	r = (gc_exec_result){ .signaled = 1, .signal = 9, .out_overflow = 1, .out_len = 64u * MiB };
	ck_assert_str_eq(gc_exec_describe(&r, buf, sizeof buf), "output over 64 MiB");
	r.out_len = 1000;
	ck_assert_str_eq(gc_exec_describe(&r, buf, sizeof buf), "output over 1000 bytes");
}
END_TEST

Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("run");

	signal(SIGPIPE, SIG_IGN);   /* as main() does; the runner relies on it */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cat_echoes_5mib);
	tcase_add_test(tc, test_writes_10mib_before_reading);
	tcase_add_test(tc, test_exit_status);
	tcase_add_test(tc, test_garbage_output_as_is);
	tcase_add_test(tc, test_stderr_tail);
	tcase_add_test(tc, test_stderr_tail_line_boundary);
	tcase_add_test(tc, test_stderr_tail_one_long_line);
	tcase_add_test(tc, test_timeout_kills);
	tcase_add_test(tc, test_timeout_kills_grandchildren);
	tcase_add_test(tc, test_grandchild_holding_stdout);
	tcase_add_test(tc, test_background_job_killed_after_exit);
	tcase_add_test(tc, test_output_overflow);
	tcase_add_test(tc, test_input_never_read);
	tcase_add_test(tc, test_stdin_closed_after_input);
	tcase_add_test(tc, test_command_not_found);
	tcase_add_test(tc, test_child_gets_default_sigpipe);
	tcase_add_test(tc, test_environment_cwd_and_fds);
	tcase_add_test(tc, test_invalid_arguments);
	tcase_add_test(tc, test_no_timeout);
	tcase_add_test(tc, test_concurrent_runs);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(exec_suite)
