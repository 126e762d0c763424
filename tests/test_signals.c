/*
 * test_signals.c - SIGINT and SIGTERM leave nothing behind (README "Bad input"): the
 * program exits 130 / 143, the --exec or --model program it was running is killed with
 * its process group, the report named by -o keeps its old contents, and the temporary
 * files being written (X.tmp.XXXXXX) are removed.  Whether a process still runs is
 * read from /proc and kill(pid, 0), for the pid the program wrote itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "testutil.h"
#include "cleanup.h"
#include "exec.h"
#include "gradcheck.h"
#include "fileio.h"

static void nap(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static char *temp_dir(void)
{
	char *dir = strdup("/tmp/gc_signals_XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

/* The names in dir, sorted, separated by spaces. */
static void list_dir(const char *dir, char *out, size_t size)
{
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ' '", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	pclose(p);
}

static void remove_dir(char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(dir);
}

/* The pid in file path once it exists (the program writes it under another name and
 * renames it), waiting up to 30 s. */
static pid_t wait_pid_file(const char *path)
{
	for (int i = 0; i < 1500; i++) {
		char *text = cli_slurp(path);
		long pid = strtol(text, NULL, 10);
		free(text);
		if (pid > 0)
			return (pid_t)pid;
		nap();
	}
	ck_abort_msg("%s never appeared", path);
	return -1;
}

/* /proc/PID/name into buf (NUL-terminated; /proc files show a size of 0, so read
 * until the end); returns the bytes read. */
static size_t proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	size_t n = 0, got;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, name);
	if ((fp = fopen(path, "rb"))) {
		while (n < size - 1 && (got = fread(buf + n, 1, size - 1 - n, fp)) > 0)
			n += got;
		fclose(fp);
	}
	buf[n] = '\0';
	return n;
}

/* Nonzero while pid runs a command line that holds token (a zombie does not run; a
 * pid reused by another program does not count). */
static int runs(pid_t pid, const char *token)
{
	char stat[1024], cmd[4096], *state;
	size_t n;
	int alive;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	proc_file(pid, "stat", stat, sizeof stat);
	state = strrchr(stat, ')');
	alive = state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
	n = proc_file(pid, "cmdline", cmd, sizeof cmd);
	for (size_t i = 0; i < n; i++)          /* arguments are NUL-separated */
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	return alive && strstr(cmd, token) != NULL;
}

/* Waits up to 5 s for pid to stop running token. */
static int stops(pid_t pid, const char *token)
{
	for (int i = 0; i < 250; i++) {
		if (!runs(pid, token))
			return 1;
		nap();
	}
	return 0;
}

/* Reaps child within 30 s (then kills it); returns its wait status. */
static int reap_within(pid_t child)
{
	int st = 0;

	for (int i = 0; i < 1500; i++) {
		pid_t w = waitpid(child, &st, WNOHANG);
		if (w == child)
			return st;
		nap();
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	ck_abort_msg("pid %ld did not end within 30 s of the signal", (long)child);
	return st;
}

/* gradcheck -o DIR/report.json --exec PROGRAM (a sleep that wrote its pid), stopped
 * by sig while the program runs. */
static void stop_run(int sig, const char *how)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char *dir = temp_dir(), *pids = temp_dir();
	char report[256], pidfile[256], token[64], cmd[1024], names[256];
	pid_t gc, sleeper;
	int st, fd;
	FILE *fp;

	snprintf(report, sizeof report, "%s/report.json", dir);
	snprintf(pidfile, sizeof pidfile, "%s/pid", pids);
	snprintf(token, sizeof token, "47.%ld%d", (long)getpid(), sig);
	fp = fopen(report, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("old report\n", fp);
	fclose(fp);
	/* sh -c: $$ is the shell, which becomes the sleep */
	snprintf(cmd, sizeof cmd, "echo $$ > %s.$$ && mv %s.$$ %s && exec sleep %s",
	         pidfile, pidfile, pidfile, token);
	gc = fork();
	ck_assert_int_ge(gc, 0);
	if (gc == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (strcmp(how, "model") == 0)
			execl(prog, prog, "--jobs", "1", "--format", "json", "-o", report, "--model", cmd,
			      "cases/act_tanh.json", (char *)0);
		else
			execl(prog, prog, "--format", "json", "-o", report, "--exec", cmd,
			      "cases/act_tanh.json", "cases/act_relu.json", (char *)0);
		_exit(127);
	}
	sleeper = wait_pid_file(pidfile);
	ck_assert_msg(runs(sleeper, token), "the %s program (pid %ld) is not running", how,
	              (long)sleeper);
	ck_assert_int_eq(kill(gc, sig), 0);
	st = reap_within(gc);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig,
	              "%s, signal %d: expected exit %d, got %s %d", how, sig, 128 + sig,
	              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st)
	                                                               : WTERMSIG(st));
	ck_assert_msg(stops(sleeper, token), "%s, signal %d: the program (pid %ld) still runs",
	              how, sig, (long)sleeper);
	char *text = cli_slurp(report);
	ck_assert_str_eq(text, "old report\n");
	free(text);
	list_dir(dir, names, sizeof names);
	ck_assert_str_eq(names, "report.json ");
	remove_dir(dir);
	remove_dir(pids);
}

START_TEST(test_sigint_exec)
{
	stop_run(SIGINT, "exec");
}
END_TEST

START_TEST(test_sigterm_exec)
{
	stop_run(SIGTERM, "exec");
}
END_TEST

START_TEST(test_sigterm_model)
{
	stop_run(SIGTERM, "model");
}
END_TEST

/* The handler gradcheck's main installs: the cleanup, then exit 128 + sig. */
static void on_signal(int sig)
{
	gc_cleanup_run();
	_exit(128 + sig);
}

/* A temporary file being written (gc_atomic_open) and a co-process running when
 * SIGTERM arrives: both gone after, and a file already committed stays. */
START_TEST(test_temp_files_and_groups_cleaned)
{
	char *dir = temp_dir();
	char done[256], writing[256], pidfile[256], cmd[1024], token[64], names[256];
	int ready[2], st;
	pid_t child, sleeper;
	char byte;

	snprintf(done, sizeof done, "%s/done.json", dir);
	snprintf(writing, sizeof writing, "%s/writing.json", dir);
	snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
	snprintf(token, sizeof token, "53.%ld", (long)getpid());
	snprintf(cmd, sizeof cmd, "echo $$ > %s.$$ && mv %s.$$ %s && exec sleep %s",
	         pidfile, pidfile, pidfile, token);
	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		gc_atomic_file f;
		gc_coproc *cp;
		gc_error err = {0};

		signal(SIGTERM, on_signal);
		signal(SIGPIPE, SIG_IGN);
		if (gc_write_file_atomic(done, "{}\n", 3, &err) != GC_OK ||
		    gc_atomic_open(&f, writing, &err) != GC_OK || fputs("{\"half", f.fp) < 0 ||
		    fflush(f.fp) != 0 || gc_coproc_start(cmd, 0, &cp, &err) != GC_OK)
			_exit(3);
		while (access(pidfile, F_OK) != 0)
			nap();
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	sleeper = wait_pid_file(pidfile);
	list_dir(dir, names, sizeof names);
	ck_assert_msg(strstr(names, "writing.json.tmp."), "no temporary file: %s", names);
	ck_assert_msg(runs(sleeper, token), "pid %ld token %s", (long)sleeper, token);
	ck_assert_int_eq(kill(child, SIGTERM), 0);
	st = reap_within(child);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143);
	ck_assert_msg(stops(sleeper, token), "the co-process (pid %ld) still runs", (long)sleeper);
	list_dir(dir, names, sizeof names);
	ck_assert_str_eq(names, "done.json pid ");
	remove_dir(dir);
}
END_TEST

/* A thread that creates a file under gc_cleanup_hold and registers it 40 ms later. */
struct holder {
	char path[256];
	atomic_int holding;
};

static void *create_while_held(void *arg)
{
	struct holder *h = arg;
	sigset_t saved;
	int fd;

	gc_cleanup_hold(&saved);
	atomic_store(&h->holding, 1);
	fd = mkstemp(h->path);
	nap();
	nap();
	gc_cleanup_file_add(h->path);
	close(fd);
	gc_cleanup_release(&saved);
	return NULL;
}

/* A signal between creating a temporary file and registering it (in another thread)
 * must not leave the file: gc_cleanup_run waits for the registration. */
START_TEST(test_cleanup_waits_for_holder)
{
	char *dir = temp_dir(), names[256];
	struct holder h = { .holding = 0 };
	pthread_t t;

	snprintf(h.path, sizeof h.path, "%s/report.tmp.XXXXXX", dir);
	ck_assert_int_eq(pthread_create(&t, NULL, create_while_held, &h), 0);
	while (!atomic_load(&h.holding))
		sched_yield();
	gc_cleanup_run();
	pthread_join(t, NULL);
	list_dir(dir, names, sizeof names);
	ck_assert_str_eq(names, "");
	remove_dir(dir);
}
END_TEST

/* Handles: 0 is "none" everywhere, a removed entry is not cleaned, a full registry
 * says so with 0. */
START_TEST(test_registry_handles)
{
	char *dir = temp_dir(), path[256], names[256];
	int h[3];
	FILE *fp;

	gc_cleanup_file_remove(0);
	gc_cleanup_group_remove(0);
	ck_assert_int_eq(gc_cleanup_group_add(0), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/f%d", dir, i);
		fp = fopen(path, "w");
		fclose(fp);
		h[i] = gc_cleanup_file_add(path);
		ck_assert_int_gt(h[i], 0);
	}
	gc_cleanup_file_remove(h[1]);
	gc_cleanup_run();               /* no group registered: kills nothing */
	list_dir(dir, names, sizeof names);
	ck_assert_str_eq(names, "f1 ");
	/* taken by gc_cleanup_run: removing them now does nothing */
	gc_cleanup_file_remove(h[0]);
	int n = 0;
	while (gc_cleanup_file_add("/nonexistent/x") > 0)
		n++;
	ck_assert_int_gt(n, 1024);      /* a --record file per job (--jobs <= 1024) */
	remove_dir(dir);
}
END_TEST

static Suite *signals_suite(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sigint_exec);
	tcase_add_test(tc, test_sigterm_exec);
	tcase_add_test(tc, test_sigterm_model);
	tcase_add_test(tc, test_temp_files_and_groups_cleaned);
	tcase_add_test(tc, test_cleanup_waits_for_holder);
	tcase_add_test(tc, test_registry_handles);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(signals_suite)
