/* test_sandbox.c - hostile --exec programs under --sandbox: each test asserts one
 * promise of README "Grading a class" (and, where it helps, that the same program
 * without the sandbox does the harm, so the test can fail). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"
#include "cli.h"

#define CASE "cases/seed003_sigmoid_2_2_1.json"

static char root[64];            /* /tmp/gc_sandbox_XXXXXX: sub/, golden/, other/ */
static char sub[128], golden[128], other[128];

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static void copy_file(const char *from, const char *to)
{
	char *text = cli_slurp(from);

	ck_assert_msg(text && *text, "cannot read %s", from);
	write_file(to, text);
	free(text);
}

/* Folders readable by everyone: as root the sandbox runs as nobody. */
static void setup(void)
{
	char path[256];

	snprintf(root, sizeof root, "/tmp/gc_sandbox_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	chmod(root, 0755);
	snprintf(sub, sizeof sub, "%s/sub", root);
	snprintf(golden, sizeof golden, "%s/golden", root);
	snprintf(other, sizeof other, "%s/other", root);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(mkdir(golden, 0755), 0);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	snprintf(path, sizeof path, "%s/backprop.py", sub);
	copy_file("examples/numpy_backprop.py", path);
	snprintf(path, sizeof path, "%s/seed003_sigmoid_2_2_1.grad.json", golden);
	write_file(path, "{\"gradients\": \"the answers\"}\n");
	snprintf(path, sizeof path, "%s/solution.txt", other);
	write_file(path, "another student's work\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes sub/run.sh: BODY, then the correct gradient (so a pass means BODY did no
 * harm it could detect). */
static void write_program(const char *body)
{
	char path[256], text[4096];

	snprintf(path, sizeof path, "%s/run.sh", sub);
	snprintf(text, sizeof text, "%s\nexec /usr/bin/python3 %s/backprop.py\n", body, sub);
	write_file(path, text);
}

/* gradcheck [--sandbox] --allow-read sub OPTIONS --exec 'sh sub/run.sh' CASE */
static cli_run run(int sandbox, const char *options)
{
	return cli_gradcheck("%s%s %s --exec 'sh %s/run.sh' " CASE,
	                     sandbox ? "--sandbox --allow-read " : "", sandbox ? sub : "", options, sub);
}

/* Processes whose command line mentions text (the sandbox's bwrap and the program);
 * with kill_them, sends each SIGKILL. */
static int find_processes(const char *text, int kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char path[300], buf[4096];
		FILE *fp;
		size_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		if (!(fp = fopen(path, "r")))
			continue;
		len = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		if (strstr(buf, text)) {
			n++;
			if (kill_them)
				kill((pid_t)atol(e->d_name), SIGKILL);
		}
	}
	closedir(d);
	return n;
}

static int count_processes(const char *text)
{
	return find_processes(text, 0);
}

static void assert_no_process_left(const char *text)
{
	for (int i = 0; i < 50 && count_processes(text) > 0; i++)
		usleep(20000);
	ck_assert_int_eq(count_processes(text), 0);
}

START_TEST(test_sandbox_runs_a_correct_program)
{
	cli_run r;

	write_program("");
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_str_eq(cli_last_line(r.out), "1 passed, 0 failed");
	cli_free(&r);
}
END_TEST

START_TEST(test_golden_other_submission_and_environment_are_invisible)
{
	char body[1024];
	cli_run r;

	snprintf(body, sizeof body,
	         "cat %s/seed003_sigmoid_2_2_1.grad.json && exit 3\n"
	         "cat %s/solution.txt && exit 4\n"
	         "[ -n \"$(ls %s | grep -v '^sub$')\" ] && exit 5\n"
	         "[ -n \"$SECRET_TOKEN\" ] && { echo \"token $SECRET_TOKEN\" >&2; exit 6; }\n"
	         "[ -e cases ] || [ -n \"$(ls -A .)\" ] || [ -e /root/.bashrc ] && exit 7\n",
	         golden, other, root);
	write_program(body);
	setenv("SECRET_TOKEN", "hunter2", 1);
	r = run(0, "");
	ck_assert_int_eq(r.status, 2);            /* outside the sandbox it reads the answers */
	ck_assert_ptr_nonnull(strstr(r.err, "exit status 3"));
	cli_free(&r);
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	/* --env passes exactly the variables named. */
	write_program("[ \"$SECRET_TOKEN\" = hunter2 ] || exit 8");
	r = run(1, "--env SECRET_TOKEN");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	unsetenv("SECRET_TOKEN");
}
END_TEST

START_TEST(test_writes_outside_scratch_fail)
{
	char body[1024], path[256];
	cli_run r;

	snprintf(body, sizeof body,
	         "echo x > %s/seed003_sigmoid_2_2_1.grad.json && exit 3\n"
	         "echo x > %s/planted && exit 4\n"
	         "echo x > %s/solution.txt && exit 5\n"
	         "echo x > planted && exit 6\n"
	         "echo x > /usr/planted && exit 7\n"
	         "echo scratch > /tmp/scratch && [ \"$(cat /tmp/scratch)\" = scratch ] || exit 8\n"
	         "echo home > \"$HOME/file\" && [ \"$HOME\" = /tmp ] || exit 9\n",
	         golden, sub, other);
	write_program(body);
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	snprintf(path, sizeof path, "%s/seed003_sigmoid_2_2_1.grad.json", golden);
	{
		char *text = cli_slurp(path);
		ck_assert_str_eq(text, "{\"gradients\": \"the answers\"}\n");
		free(text);
	}
	snprintf(path, sizeof path, "%s/planted", sub);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_ne(access("planted", F_OK), 0);
}
END_TEST

START_TEST(test_network_is_unreachable)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char body[512];
	cli_run r;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	snprintf(body, sizeof body,
	         "/usr/bin/python3 -c \"import socket; socket.create_connection(('127.0.0.1', %d), 2)\" "
	         "2>/dev/null && exit 3", ntohs(a.sin_port));
	write_program(body);
	r = run(0, "");                           /* outside, the grader's port answers */
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "exit status 3"));
	cli_free(&r);
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	close(s);
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(test_fork_bomb_is_contained)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char cmd[1024];
	int most = 0, wstatus;
	double start = now();
	pid_t pid;

	write_program("bomb() { bomb | bomb & }; bomb; sleep 100");
	snprintf(cmd, sizeof cmd, "%s --sandbox --limit-procs 24 --timeout 4 --allow-read %s "
	         "--exec 'sh %s/run.sh' " CASE " >/dev/null 2>&1", prog, sub, sub);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)0);
		_exit(127);
	}
	while (waitpid(pid, &wstatus, WNOHANG) == 0) {
		int n = count_processes(sub);

		if (n > most)
			most = n;
		/* The grader is unaffected: it can still start processes. */
		ck_assert_int_eq(system("true"), 0);
		usleep(20000);
	}
	ck_assert(WIFEXITED(wstatus));
	ck_assert_int_eq(WEXITSTATUS(wstatus), 2);     /* the case is an error: timed out */
	ck_assert_double_lt(now() - start, 15);
	/* Never more than the limit (plus bwrap's two processes), nothing left after. */
	ck_assert_int_le(most, 24 + 2);
	assert_no_process_left(sub);
}
END_TEST

/* A program that counts how many processes it can start: the limit, minus what
 * already runs in the sandbox. */
START_TEST(test_process_limit_counts)
{
	char path[256], body[512];
	const char *started;
	cli_run r;

	snprintf(path, sizeof path, "%s/forker.py", sub);
	write_file(path, "import os, sys, time\n"
	           "n = 0\n"
	           "while n < 500:\n"
	           "    try:\n"
	           "        pid = os.fork()\n"
	           "    except OSError:\n"
	           "        break\n"
	           "    if pid == 0:\n"
	           "        time.sleep(100)\n"
	           "        os._exit(0)\n"
	           "    n += 1\n"
	           "print('started', n, file=sys.stderr)\n"
	           "sys.exit(3)\n");
	snprintf(body, sizeof body, "exec /usr/bin/python3 %s", path);
	write_program(body);
	r = run(1, "--limit-procs 20");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg((started = strstr(r.err, "started ")), "%s", r.err);
	/* bwrap's init and the shells between prlimit and python count too. */
	ck_assert_int_ge(atoi(started + 8), 15);
	ck_assert_int_le(atoi(started + 8), 19);
	cli_free(&r);
	assert_no_process_left(sub);
}
END_TEST

START_TEST(test_huge_allocation_reported_as_memory_limit)
{
	cli_run r;

	write_program("/usr/bin/python3 -c 'bytearray(50 << 30)' || exit 1");
	r = run(1, "");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: memory limit (4096 MiB)"), "%s", r.err);
	cli_free(&r);
	r = run(1, "--limit-mem 1024");
	ck_assert_msg(strstr(r.err, "failed: memory limit (1024 MiB)"), "%s", r.err);
	cli_free(&r);
}
END_TEST

START_TEST(test_setsid_daemon_dies_with_the_run)
{
	char body[512], marker[32];
	cli_run r;

	snprintf(marker, sizeof marker, "sleep %d", 30000 + (int)(getpid() % 10000));
	snprintf(body, sizeof body, "setsid %s </dev/null >/dev/null 2>&1 &\n"
	         "(setsid sh -c '%s' </dev/null >/dev/null 2>&1 &)\nsleep 0.2", marker, marker);
	write_program(body);
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	assert_no_process_left(marker);
	/* Without the sandbox the daemons outlive the run. */
	r = run(0, "");
	{
		int left = count_processes(marker), status = r.status;

		find_processes(marker, 1);             /* before asserting: leave nothing behind */
		cli_free(&r);
		ck_assert_int_eq(status, 0);
		ck_assert_int_ge(left, 1);
	}
}
END_TEST

START_TEST(test_disk_fill_stopped)
{
	cli_run r;

	write_program("head -c 100M /dev/zero > /tmp/fill || exit 1");
	r = run(1, "--limit-fsize 8");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: file size limit (8 MiB)"), "%s", r.err);
	cli_free(&r);
	write_program("for i in 1 2 3 4 5 6; do head -c 6M /dev/zero > /tmp/fill$i || exit 1; done");
	r = run(1, "--limit-fsize 8 --limit-tmp 16");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: scratch folder full (16 MiB)"), "%s", r.err);
	cli_free(&r);
}
END_TEST

START_TEST(test_gigabyte_of_output_capped)
{
	double start = now();
	cli_run r;

	write_program("head -c 1G /dev/zero");
	r = run(1, "--max-input-mib 8");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: output over 8 MiB"), "%s", r.err);
	ck_assert_double_lt(now() - start, 20);
	cli_free(&r);
	assert_no_process_left(sub);
}
END_TEST

START_TEST(test_cpu_limit)
{
	cli_run r;

	write_program("while :; do :; done");
	r = run(1, "--limit-cpu 1 --timeout 20");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: CPU time limit (1 s)"), "%s", r.err);
	cli_free(&r);
}
END_TEST

START_TEST(test_expect_never_reaches_the_program)
{
	char body[512];
	cli_run r;

	/* seed003's case publishes expect.gradients; the program must not see them. */
	snprintf(body, sizeof body, "f=$(mktemp); cat > $f; grep -q '\"expect\"' $f && exit 3\n"
	         "/usr/bin/python3 %s/backprop.py < $f; s=$?; rm -f $f; exit $s", sub);
	write_program(body);
	r = run(1, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
	r = run(0, "");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	cli_free(&r);
}
END_TEST

START_TEST(test_sandbox_usage)
{
	cli_run r = cli_gradcheck("--sandbox " CASE);

	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--sandbox applies to --exec and --model programs"));
	cli_free(&r);
	r = cli_gradcheck("--sandbox --allow-read /no/such/folder --exec true " CASE);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "/no/such/folder: cannot show it in the sandbox"));
	cli_free(&r);
	r = cli_gradcheck("--sandbox --env A=B --exec true " CASE);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--env: expected a variable name"));
	cli_free(&r);
}
END_TEST

START_TEST(test_model_coprocess_sandboxed)
{
	char path[256], text[1024];
	cli_run r;

	snprintf(path, sizeof path, "%s/fake.py", sub);
	copy_file("tests/data/model/fake.py", path);
	snprintf(path, sizeof path, "%s/model.sh", sub);
	snprintf(text, sizeof text, "cat %s/seed003_sigmoid_2_2_1.grad.json >/dev/null && exit 3\n"
	         "[ -n \"$SECRET_TOKEN\" ] && exit 4\n"
	         "exec /usr/bin/python3 %s/fake.py ok\n", golden, sub);
	write_file(path, text);
	setenv("SECRET_TOKEN", "hunter2", 1);
	r = cli_gradcheck("--model 'sh %s/model.sh'", sub);        /* outside, it reads both */
	ck_assert_int_eq(r.status, 2);
	cli_free(&r);
	r = cli_gradcheck("--sandbox --allow-read %s --model 'sh %s/model.sh'", sub, sub);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_str_eq(cli_last_line(r.out), "1 passed, 0 failed");
	cli_free(&r);
	unsetenv("SECRET_TOKEN");
	assert_no_process_left(sub);
}
END_TEST

/* kill -STOP $PPID stopped gradcheck before --timeout could fire; in the sandbox the
 * program sees only its own processes, so stopping everything it can see stops nothing
 * of the grader's. */
START_TEST(test_cannot_signal_the_grader)
{
	double start = now();
	cli_run r;

	write_program("kill -STOP $PPID 1 2>/dev/null\n"
	              "for p in /proc/[0-9]*; do [ ${p#/proc/} = $$ ] || kill -STOP ${p#/proc/}; done\n"
	              "sleep 100");
	r = run(1, "--timeout 2");
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "failed: timed out after 2.0 s"), "%s", r.err);
	ck_assert_double_lt(now() - start, 10);
	cli_free(&r);
	assert_no_process_left(sub);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sandbox_runs_a_correct_program);
	tcase_add_test(tc, test_golden_other_submission_and_environment_are_invisible);
	tcase_add_test(tc, test_writes_outside_scratch_fail);
	tcase_add_test(tc, test_network_is_unreachable);
	tcase_add_test(tc, test_fork_bomb_is_contained);
	tcase_add_test(tc, test_process_limit_counts);
	tcase_add_test(tc, test_huge_allocation_reported_as_memory_limit);
	tcase_add_test(tc, test_setsid_daemon_dies_with_the_run);
	tcase_add_test(tc, test_disk_fill_stopped);
	tcase_add_test(tc, test_gigabyte_of_output_capped);
	tcase_add_test(tc, test_cpu_limit);
	tcase_add_test(tc, test_expect_never_reaches_the_program);
	tcase_add_test(tc, test_sandbox_usage);
	tcase_add_test(tc, test_model_coprocess_sandboxed);
	tcase_add_test(tc, test_cannot_signal_the_grader);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(sandbox_suite)
