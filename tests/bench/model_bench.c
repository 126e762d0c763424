/* model_bench.c - `make bench`, the loss protocol (README, "Check any model").
 *
 *   free loss   a program whose loss costs nothing (model_free.py, N parameters):
 *               gradcheck's own CPU time per evaluation (this process runs the check
 *               in-process, so its getrusage excludes the program), against the
 *               program alone fed the same number of requests from a file (the
 *               Python floor: reading a request, answering a number);
 *   numpy MLP   model_mlp.py, 19 680 parameters: a full --model check on one copy,
 *               wall time, against the program alone answering the same requests
 *               from a file (its own loss evaluations), and the ratio; then two copies.
 *
 * Usage: model_bench [--python PYTHON] [--quick] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "model.h"

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* The requests of a full central-difference check of n parameters, at steps like the
 * core's, into a temporary file; returns its path. */
static char *request_file(size_t n)
{
	char *path = strdup("/tmp/gc_model_bench_XXXXXX");
	int fd = path ? mkstemp(path) : -1;
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!fp) {
		perror("bench: request file");
		exit(2);
	}
	fputs("i 0 0\n", fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "i %zu %.17g\ni %zu %.17g\n", i, 6.0554544523933395e-06, i,
		        -6.0554544523933395e-06);
	fputs("i 0 0\nq\n", fp);
	fclose(fp);
	return path;
}

/* Seconds of wall and CPU time of `cmd < file > /dev/null`. */
static void run_alone(const char *cmd, const char *file, double *secs, double *cpu_secs)
{
	char line[2048];
	double c0 = cpu(RUSAGE_CHILDREN), t0 = wall();

	snprintf(line, sizeof line, "%s < %s > /dev/null", cmd, file);
	if (system(line) != 0) {
		fprintf(stderr, "bench: '%s' failed\n", line);
		exit(2);
	}
	*secs = wall() - t0;
	*cpu_secs = cpu(RUSAGE_CHILDREN) - c0;
}

/* A --model check in this process: wall seconds and this process's own CPU seconds. */
static void run_check(const char *cmd, unsigned jobs, double *secs, double *own_cpu)
{
	gc_run_options ro;
	gc_case_outcome out;
	double c0 = cpu(RUSAGE_SELF), t0 = wall();

	memset(&ro, 0, sizeof ro);
	gc_options_init(&ro.check);
	ro.check.jobs = jobs;
	ro.timeout = 60;
	ro.run_timeout = INFINITY;
	ro.limits = gc_case_default_limits;
	if (gc_run_model(cmd, &ro, &out) != GC_OK || out.report.status != GC_CASE_PASS) {
		fprintf(stderr, "bench: '%s': %s\n", cmd, out.error ? out.error : "did not pass");
		exit(2);
	}
	*secs = wall() - t0;
	*own_cpu = cpu(RUSAGE_SELF) - c0;
	gc_case_outcome_free(&out);
}

int main(int argc, char **argv)
{
	const char *python = "/usr/bin/python3";
	int quick = 0;
	char cmd[1024];
	double t_alone, c_alone, t_check, c_check, t2, c2;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--python") == 0 && i + 1 < argc)
			python = argv[++i];
		else if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else {
			fputs("usage: model_bench [--python PYTHON] [--quick]\n", stderr);
			return 2;
		}
	}
	size_t n = quick ? 2000 : 100000;
	double evals = 2.0 * (double)n + 2;
	char *file = request_file(n);

	printf("\nloss protocol (--model), %s\n", python);
	snprintf(cmd, sizeof cmd, "%s tests/bench/model_free.py %zu", python, n);
	run_alone(cmd, file, &t_alone, &c_alone);
	run_check(cmd, 1, &t_check, &c_check);
	printf("  free loss, %zu evaluations: gradcheck's own cost %.2f us/eval (target <= 5); "
	       "the Python floor %.2f us/eval; wall %.2f us/eval through gradcheck, %.2f alone\n",
	       (size_t)evals, 1e6 * c_check / evals, 1e6 * c_alone / evals, 1e6 * t_check / evals,
	       1e6 * t_alone / evals);
	remove(file);
	free(file);

	n = 19680;
	evals = 2.0 * (double)n + 2;
	file = request_file(n);
	snprintf(cmd, sizeof cmd, "%s tests/bench/model_mlp.py", python);
	if (!quick) {
		run_alone(cmd, file, &t_alone, &c_alone);
		run_check(cmd, 1, &t_check, &c_check);
		run_check(cmd, 2, &t2, &c2);
		printf("  numpy MLP [100,150,30], %zu parameters: alone %.2f s (its own %zu loss "
		       "evaluations); gradcheck --jobs 1 %.2f s = %.2f x (target <= 1.2), own CPU "
		       "%.3f s; --jobs 2 %.2f s\n", n, t_alone, (size_t)evals, t_check,
		       t_check / t_alone, c_check, t2);
	}
	remove(file);
	free(file);
	return 0;
}
