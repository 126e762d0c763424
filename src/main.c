/* main.c - the gradcheck command line (README "Command line"): parses options, runs
 * every case, writes the report and chooses the exit status. */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include "cleanup.h"
#include "fileio.h"
#include "gradfile.h"
#include "merge.h"
#include "model.h"
#include "net.h"
#include "progress.h"
#include "report_common.h"
#include "grade.h"
#include "runner.h"
#include "sandbox.h"
#ifdef GC_MPI
#include "mpi_dist.h"
#endif

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_ERROR = 2 };

static const char usage_text[] =
"Usage: gradcheck [check] [OPTIONS] CASE.json|DIR ...\n"
"  or:  gradcheck [check] [OPTIONS] --model CMD [CASE.json|DIR ...]\n"
"  or:  gradcheck grade --exec 'CMD {}' [OPTIONS] CASE.json|DIR ... -- SUBMISSION ...\n"
"  or:  gradcheck grad CASE.json\n"
"  or:  gradcheck resolve CASE.json\n"
"  or:  gradcheck merge [-o FILE] REPORT.json ...\n"
"  or:  gradcheck -h | --help | --version\n"
"\n"
"Checks the gradients of neural-network cases against central finite differences,\n"
"element by element.  DIR means every *.json file inside it, in sorted order.\n"
"\n"
"Commands:\n"
"  check            check every case (the default)\n"
"  grad             print the analytic gradient file of one case\n"
"  resolve          print the case with params, inputs and targets explicit\n"
"  merge            merge the JSON reports of --shard runs into one report\n"
"  grade            check every submission of a class, each in the sandbox,\n"
"                   and write a class report (README, \"Grading a class\")\n"
"\n"
"Options of check (a case's check block overrides the first four):\n"
"  --step H         first finite-difference step (default: per element,\n"
"                   cbrt(DBL_EPSILON) * max(1, |theta_i|)); steps H * 4^k are\n"
"                   tried when H cannot decide\n"
"  --rtol R         relative tolerance (default 1e-6)\n"
"  --atol A         absolute tolerance (default 0); an element passes when\n"
"                   |a - n| <= atol + noise + rtol * max(|a|, |n|), noise being\n"
"                   the rounding noise of its own finite difference\n"
"  --method M       central (default) or five-point (higher-order rule with an\n"
"                   error estimate)\n"
"  --precision P    double (default) or single: tolerances for code that computes\n"
"                   in float32 (rtol at least 1e-4, atol at least 64 FLT_EPSILON\n"
"                   x the case's largest gradient); a case's check block may say\n"
"                   \"precision\" too\n"
"  --exec CMD       check an external implementation: run /bin/sh -c CMD with the\n"
"                   resolved case on its stdin; it prints a gradient file (a\n"
"                   \"loss\" in it must match the case's; NaN and Infinity fail\n"
"                   their elements)\n"
"  --model CMD      check any program's gradient against finite differences of\n"
"                   its own loss: run /bin/sh -c CMD, which speaks the loss\n"
"                   protocol (README, \"Check any model\"); may be repeated\n"
"  --models FILE    --model for every line of FILE (blank lines and lines\n"
"                   starting with # are skipped)\n"
"  --grad FILE      check this gradient file instead of the built-in\n"
"                   backpropagation (one case only)\n"
"  --timeout S      time limit for each --exec run, and for each answer of a\n"
"                   --model program, in seconds (default 30)\n"
"  --run-timeout S  time limit for a whole --model run (default: none)\n"
"  --record DIR     write each case's gradient file to DIR/NAME.grad.json\n"
"                   (DIR is created when missing)\n"
"  --force          let --record replace a file whose content differs\n"
"  --golden DIR     compare gradients with DIR/NAME.grad.json too\n"
"  --format F       report format: text (default), json, junit, tap, html\n"
"  -o FILE          write the report to FILE (atomically); standard output\n"
"                   gets only the line 'N passed, M failed'\n"
"  --show N|all     worst elements listed per failing tensor (default 5)\n"
"  --jobs N         worker threads, or copies of a --model program, 1 to 1024\n"
"                   (default: the number of processors)\n"
"  --fast           a few random directional derivatives per tensor (with\n"
"                   --model: over the whole parameter vector) instead of\n"
"                   every element\n"
"  --sample N       check N random elements per tensor\n"
"  --seed S         seed for --fast and --sample (default 0)\n"
"  --shard K/N      check only shard K of N (1 <= K <= N <= 1000000); merge the\n"
"                   JSON reports with gradcheck merge\n"
"  --rank-timeout S\n"
"                   under mpirun (a make MPI=1 build): a rank waiting for\n"
"                   another gives up after as long as it worked on the case\n"
"                   plus S seconds (default 60) and ends the job\n"
"  --max-params N   refuse cases with more than N parameters (default 67108864)\n"
"  --max-values N   refuse cases whose batch x (sum of layer sizes) exceeds N\n"
"                   (default 67108864)\n"
"  --max-input-mib N\n"
"                   refuse JSON inputs (cases, gradient files, --exec output)\n"
"                   over N MiB (default 64)\n"
"\n"
"Sandbox of --exec and --model (on with --sandbox; README, Grading a class):\n"
"  --sandbox        run each program in bubblewrap (bwrap): no network,\n"
"                   read-only /usr, a private writable /tmp, none of your files,\n"
"                   an empty environment, its own processes only, and limits\n"
"  --allow-read PATH\n"
"                   also show PATH (read-only) in the sandbox; repeatable\n"
"  --env NAME       pass the environment variable NAME into the sandbox;\n"
"                   repeatable\n"
"  --limit-mem MIB  address space of each process (default 4096)\n"
"  --limit-procs N  processes and threads in the sandbox (default 64)\n"
"  --limit-cpu S    CPU seconds of each process (default 60)\n"
"  --limit-files N  open files of each process (default 256)\n"
"  --limit-fsize MIB\n"
"                   largest file a process may write (default 64)\n"
"  --limit-tmp MIB  size of the scratch folder /tmp, held in memory\n"
"                   (default 256)\n"
"  -h, --help       show this help and exit\n"
"  --version        show the version and exit\n"
"\n"
"Options of grade (besides those of check; --jobs counts submissions):\n"
"  --exec 'CMD {}'  run CMD for each submission, {} replaced by its path\n"
"  --submissions FILE\n"
"                   grade the submissions listed in FILE, one path a line\n"
"                   (blank lines and lines starting with # are skipped)\n"
"  --budget S       seconds for all the cases of one submission (default 300);\n"
"                   cases left when it is used up are errors\n"
"  --format F       class report: text (default), csv, json, or html (-o DIR:\n"
"                   DIR/index.html and one page per submission)\n"
"  --no-sandbox     run the submissions without the sandbox (only for code\n"
"                   you trust)\n"
"  Exit status: 0 every submission passed every case, 1 some did not, 2 usage\n"
"  error, a case that cannot be loaded, no sandbox, or the report not written.\n"
"\n"
"A case states how its code scales the loss with the keys reduction (sum,\n"
"batch_mean, mean), regularization ({l2, l1, half, divide_by, biases}), labels\n"
"and sample_layout (rows, columns); losses sse, half_sse, mse, cross_entropy,\n"
"binary_cross_entropy, logistic, hinge, multiclass_hinge (README, \"Case format\"\n"
"and \"Conventions\").\n"
"\n"
"Exit status: 0 every case passed, 1 a case failed, 2 usage error or a case\n"
"could not be loaded or run.\n";

static void usage(int status)
{
	if (status == EXIT_PASS)
		fputs(usage_text, stdout);
	else
		fputs("Try 'gradcheck --help' for more information.\n", stderr);
	exit(status);
}

#define GC_MAX_JOBS 1024         /* --jobs */
#define GC_MAX_SHARDS 1000000    /* --shard K/N: N */
#define GC_STR_(x) #x
#define GC_STR(x) GC_STR_(x)

static void die_usage(const char *fmt, const char *arg)
{
	fputs("gradcheck: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(EXIT_ERROR);
}

static double parse_positive(const char *opt, const char *arg, int zero_ok)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || (v == 0 && !zero_ok)) {
		fprintf(stderr, "gradcheck: %s: expected a %s number, got '%s'\n", opt,
		        zero_ok ? "non-negative" : "positive", arg);
		usage(EXIT_ERROR);
	}
	return v;
}

static unsigned long parse_count(const char *opt, const char *arg, unsigned long min)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || !isdigit((unsigned char)arg[0]) || v < min) {
		fprintf(stderr, "gradcheck: %s: expected a whole number >= %lu, got '%s'\n", opt,
		        min, arg);
		usage(EXIT_ERROR);
	}
	return v;
}

static size_t parse_mib(const char *opt, const char *arg)
{
	unsigned long mib = parse_count(opt, arg, 1);

	if (mib > SIZE_MAX >> 21)
		die_usage("--max-input-mib: '%s' MiB is more than this machine can address", arg);
	return (size_t)mib << 20;
}

/* K/N: digits only (no sign, space or wrap-around), 1 <= K <= N <= GC_MAX_SHARDS. */
static void parse_shard(const char *arg, gc_options *o)
{
	unsigned long k = 0, n = 0;
	const char *p = arg;
	int ok = isdigit((unsigned char)*p);

	for (; ok && isdigit((unsigned char)*p) && k <= GC_MAX_SHARDS; p++)
		k = 10 * k + (unsigned long)(*p - '0');
	ok = ok && *p++ == '/' && isdigit((unsigned char)*p);
	for (; ok && isdigit((unsigned char)*p) && n <= GC_MAX_SHARDS; p++)
		n = 10 * n + (unsigned long)(*p - '0');
	if (!ok || *p || n > GC_MAX_SHARDS || k == 0 || k > n)
		die_usage("--shard: expected K/N with 1 <= K <= N <= " GC_STR(GC_MAX_SHARDS)
		          ", got '%s'", arg);
	o->shard_index = (unsigned)k;
	o->shard_count = (unsigned)n;
}

static gc_format parse_format(const char *arg)
{
	gc_format f = GC_FORMAT_TEXT;

	if (gc_format_parse(arg, &f) != GC_OK)
		die_usage("--format: expected text, json, junit, tap or html, got '%s'", arg);
	return f;
}

typedef struct cli {
	gc_run_options run;
	gc_format format;
	const char *output;
	char **models;          /* --model commands, then those of --models files */
	size_t n_models;
	gc_sandbox sandbox;
	const char **read_only, **env;   /* --allow-read and --env, in order */
	size_t n_read_only, n_env;
	const char *sandbox_option;      /* the last option that tunes the sandbox, if any */
	int grading;                     /* the grade command */
	const char *format_arg;          /* --format as given */
	gc_class_format class_format;
	const char *submissions;         /* grade --submissions FILE */
	double budget;                   /* grade --budget */
	int no_sandbox;                  /* grade --no-sandbox */
	const char *grade_option;        /* the last option only grade takes, if any */
	double rank_timeout;    /* --rank-timeout: used only by the MPI build */
	size_t show;            /* --show (SIZE_MAX: all) */
} cli;

enum {
	OPT_STEP = 256, OPT_RTOL, OPT_ATOL, OPT_METHOD, OPT_PRECISION, OPT_EXEC, OPT_GRAD, OPT_TIMEOUT,
	OPT_RECORD, OPT_GOLDEN, OPT_FORCE, OPT_FORMAT, OPT_SHOW, OPT_JOBS, OPT_FAST,
	OPT_SAMPLE, OPT_SEED, OPT_SHARD, OPT_MAX_PARAMS, OPT_MAX_VALUES, OPT_MAX_INPUT,
	OPT_MODEL, OPT_MODELS, OPT_RUN_TIMEOUT,
	OPT_SANDBOX, OPT_ALLOW_READ, OPT_ENV, OPT_LIMIT_MEM, OPT_LIMIT_PROCS, OPT_LIMIT_CPU,
	OPT_LIMIT_FILES, OPT_LIMIT_FSIZE, OPT_LIMIT_TMP, OPT_SUBMISSIONS, OPT_BUDGET,
	OPT_NO_SANDBOX, OPT_RANK_TIMEOUT, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
	{"step", required_argument, NULL, OPT_STEP},
	{"rtol", required_argument, NULL, OPT_RTOL},
	{"atol", required_argument, NULL, OPT_ATOL},
	{"method", required_argument, NULL, OPT_METHOD},
	{"precision", required_argument, NULL, OPT_PRECISION},
	{"exec", required_argument, NULL, OPT_EXEC},
	{"grad", required_argument, NULL, OPT_GRAD},
	{"model", required_argument, NULL, OPT_MODEL},
	{"models", required_argument, NULL, OPT_MODELS},
	{"run-timeout", required_argument, NULL, OPT_RUN_TIMEOUT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"record", required_argument, NULL, OPT_RECORD},
	{"golden", required_argument, NULL, OPT_GOLDEN},
	{"force", no_argument, NULL, OPT_FORCE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"show", required_argument, NULL, OPT_SHOW},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"fast", no_argument, NULL, OPT_FAST},
	{"sample", required_argument, NULL, OPT_SAMPLE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"rank-timeout", required_argument, NULL, OPT_RANK_TIMEOUT},
	{"max-params", required_argument, NULL, OPT_MAX_PARAMS},
	{"max-values", required_argument, NULL, OPT_MAX_VALUES},
	{"max-input-mib", required_argument, NULL, OPT_MAX_INPUT},
	{"sandbox", no_argument, NULL, OPT_SANDBOX},
	{"allow-read", required_argument, NULL, OPT_ALLOW_READ},
	{"env", required_argument, NULL, OPT_ENV},
	{"limit-mem", required_argument, NULL, OPT_LIMIT_MEM},
	{"limit-procs", required_argument, NULL, OPT_LIMIT_PROCS},
	{"limit-cpu", required_argument, NULL, OPT_LIMIT_CPU},
	{"limit-files", required_argument, NULL, OPT_LIMIT_FILES},
	{"limit-fsize", required_argument, NULL, OPT_LIMIT_FSIZE},
	{"limit-tmp", required_argument, NULL, OPT_LIMIT_TMP},
	{"submissions", required_argument, NULL, OPT_SUBMISSIONS},
	{"budget", required_argument, NULL, OPT_BUDGET},
	{"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0}
};

static void add_model(cli *c, const char *cmd)
{
	char **models = realloc(c->models, (c->n_models + 1) * sizeof *models);

	if (!models || !(models[c->n_models] = strdup(cmd))) {
		fputs("gradcheck: out of memory\n", stderr);
		exit(EXIT_ERROR);
	}
	c->models = models;
	c->n_models++;
}

/* --models FILE: one command a line; blank lines and # comments skipped. */
static void add_model_list(cli *c, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, added = 0;
	ssize_t len;

	if (!fp) {
		fprintf(stderr, "gradcheck: %s: %s\n", path, strerror(errno));
		exit(EXIT_ERROR);
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *s = line;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		                   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#') {
			add_model(c, s);
			added++;
		}
	}
	free(line);
	if (ferror(fp) || added == 0) {
		fprintf(stderr, "gradcheck: %s: %s\n", path,
		        ferror(fp) ? strerror(errno) : "no commands in this file");
		exit(EXIT_ERROR);
	}
	fclose(fp);
}

static void add_string(const char ***list, size_t *n, const char *s)
{
	const char **l = realloc(*list, (*n + 1) * sizeof *l);

	if (!l) {
		fputs("gradcheck: out of memory\n", stderr);
		exit(EXIT_ERROR);
	}
	l[(*n)++] = s;
	*list = l;
}

/* --allow-read, --env and --limit-*: what the sandbox shows and allows. */
static void parse_sandbox_option(int opt, const char *arg, cli *c)
{
	gc_sandbox *sb = &c->sandbox;

	switch (opt) {
	case OPT_ALLOW_READ: add_string(&c->read_only, &c->n_read_only, arg); break;
	case OPT_ENV:
		if (!*arg || strchr(arg, '='))
			die_usage("--env: expected a variable name, got '%s'", arg);
		add_string(&c->env, &c->n_env, arg);
		break;
	case OPT_LIMIT_MEM: sb->mem_mib = parse_count("--limit-mem", arg, 1); break;
	case OPT_LIMIT_PROCS: sb->procs = parse_count("--limit-procs", arg, 1); break;
	case OPT_LIMIT_CPU: sb->cpu_seconds = parse_count("--limit-cpu", arg, 1); break;
	case OPT_LIMIT_FILES: sb->files = parse_count("--limit-files", arg, 1); break;
	case OPT_LIMIT_FSIZE: sb->fsize_mib = parse_count("--limit-fsize", arg, 1); break;
	case OPT_LIMIT_TMP: sb->tmp_mib = parse_count("--limit-tmp", arg, 1); break;
	}
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt)
			c->sandbox_option = o->name;
}

static void parse_option(int opt, const char *arg, cli *c)
{
	gc_options *o = &c->run.check;

	switch (opt) {
	case OPT_STEP: o->step = parse_positive("--step", arg, 0); break;
	case OPT_RTOL: o->rtol = parse_positive("--rtol", arg, 1); break;
	case OPT_ATOL:
		o->atol = parse_positive("--atol", arg, 1);
		break;
	case OPT_METHOD:
		if (gc_method_parse(arg, &o->method) != GC_OK)
			die_usage("--method: expected central or five-point, got '%s'", arg);
		break;
	case OPT_PRECISION:
		if (strcmp(arg, "single") != 0 && strcmp(arg, "double") != 0)
			die_usage("--precision: expected double or single, got '%s'", arg);
		c->run.single = strcmp(arg, "single") == 0;
		break;
	case OPT_EXEC: c->run.exec_cmd = arg; break;
	case OPT_GRAD: c->run.grad_path = arg; break;
	case OPT_MODEL: add_model(c, arg); break;
	case OPT_MODELS: add_model_list(c, arg); break;
	case OPT_RUN_TIMEOUT: c->run.run_timeout = parse_positive("--run-timeout", arg, 0); break;
	case OPT_TIMEOUT: c->run.timeout = parse_positive("--timeout", arg, 0); break;
	case OPT_RECORD: c->run.record_dir = arg; break;
	case OPT_GOLDEN: c->run.golden_dir = arg; break;
	case OPT_FORCE: c->run.force = 1; break;
	case OPT_FORMAT: c->format_arg = arg; break;
	case 'o': c->output = arg; break;
	case OPT_SHOW:
		c->show = strcmp(arg, "all") == 0 ? SIZE_MAX : parse_count("--show", arg, 0);
		break;
	case OPT_JOBS:
		/* each thread has its own scratch: an absurd count is refused, not allocated */
		if (parse_count("--jobs", arg, 1) > GC_MAX_JOBS)
			die_usage("--jobs: expected 1 to " GC_STR(GC_MAX_JOBS) " threads, got '%s'", arg);
		o->jobs = (unsigned)parse_count("--jobs", arg, 1);
		break;
	case OPT_FAST: o->fast = 1; break;
	case OPT_SAMPLE: o->sample = parse_count("--sample", arg, 1); break;
	case OPT_SEED: o->seed = parse_count("--seed", arg, 0); break;
	case OPT_SHARD: parse_shard(arg, o); break;
	case OPT_RANK_TIMEOUT: c->rank_timeout = parse_positive("--rank-timeout", arg, 1); break;
	case OPT_MAX_PARAMS: c->run.limits.max_params = parse_count("--max-params", arg, 1); break;
	case OPT_MAX_VALUES: c->run.limits.max_values = parse_count("--max-values", arg, 1); break;
	case OPT_MAX_INPUT: c->run.limits.max_file = parse_mib("--max-input-mib", arg); break;
	case OPT_SANDBOX: c->sandbox.enabled = 1; break;
	case OPT_ALLOW_READ: case OPT_ENV: case OPT_LIMIT_MEM: case OPT_LIMIT_PROCS:
	case OPT_LIMIT_CPU: case OPT_LIMIT_FILES: case OPT_LIMIT_FSIZE: case OPT_LIMIT_TMP:
		parse_sandbox_option(opt, arg, c);
		break;
	case OPT_SUBMISSIONS: c->submissions = arg; c->grade_option = "--submissions"; break;
	case OPT_BUDGET:
		c->budget = parse_positive("--budget", arg, 0);
		c->grade_option = "--budget";
		break;
	case OPT_NO_SANDBOX: c->no_sandbox = 1; c->grade_option = "--no-sandbox"; break;
	case 'h':
	case OPT_HELP: usage(EXIT_PASS); break;
	case OPT_VERSION: printf("gradcheck %s\n", GC_VERSION); exit(EXIT_PASS);
	default: usage(EXIT_ERROR);
	}
}

static void parse_args(int argc, char **argv, cli *c, int grading)
{
	int opt;

	argv[0] = "gradcheck";  /* getopt's own messages start with it */
	memset(c, 0, sizeof *c);
	c->grading = grading;
	c->budget = 300;
	gc_options_init(&c->run.check);
	c->show = GC_DEFAULT_SHOW;
	c->run.timeout = 30;
	c->run.run_timeout = INFINITY;
	c->run.limits = gc_case_default_limits;
	c->format = GC_FORMAT_TEXT;
	gc_sandbox_init(&c->sandbox);
	c->rank_timeout = 60;
	while ((opt = getopt_long(argc, argv, "ho:", long_options, NULL)) != -1)
		parse_option(opt, optarg, c);
	if (!grading && c->grade_option)
		die_usage("%s applies to gradcheck grade", c->grade_option);
	if (grading && c->format_arg &&
	    gc_class_format_parse(c->format_arg, &c->class_format) != GC_OK)
		die_usage("--format: expected text, csv, json or html, got '%s'", c->format_arg);
	if (!grading && c->format_arg)
		c->format = parse_format(c->format_arg);
	c->sandbox.read_only = c->read_only;
	c->sandbox.n_read_only = c->n_read_only;
	c->sandbox.env = c->env;
	c->sandbox.n_env = c->n_env;
	c->run.sandbox = &c->sandbox;
}

/* Refuses to go on when the sandbox was asked for and cannot run here. */
static void require_sandbox(const cli *c)
{
	gc_error err = {0};

	if (gc_sandbox_probe(&c->sandbox, &err) != GC_OK) {
		fprintf(stderr, "gradcheck: %s\n", err.msg);
		exit(EXIT_ERROR);
	}
}

/* ---- case lists ---------------------------------------------------------------- */

typedef struct path_list {
	char **paths;
	size_t n, cap;
} path_list;

static void add_path(path_list *l, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
		if (!l->paths) {
			fputs("gradcheck: out of memory\n", stderr);
			exit(EXIT_ERROR);
		}
	}
	l->paths[l->n++] = path;
}

static int is_json_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".json") == 0;
}

/* Adds DIR's *.json files in sorted order; returns how many. */
static size_t add_dir(path_list *l, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_json_file, alphasort);

	if (n < 0) {
		fprintf(stderr, "gradcheck: %s: cannot read directory: %s\n", dir, strerror(errno));
		exit(EXIT_ERROR);
	}
	size_t added = 0;
	for (int i = 0; i < n; i++) {
		size_t size = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(size);
		struct stat st;

		if (!path) {
			fputs("gradcheck: out of memory\n", stderr);
			exit(EXIT_ERROR);
		}
		snprintf(path, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		         names[i]->d_name);
		free(names[i]);
		/* a FIFO, socket or device named *.json would block or never end: skipped */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "gradcheck: %s: skipped, not a regular file\n", path);
			free(path);
			continue;
		}
		add_path(l, path);
		added++;
	}
	free(names);
	return added;
}

static path_list collect_cases(int argc, char **argv)
{
	path_list l = {0};
	struct stat st;

	for (int i = 0; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (add_dir(&l, argv[i]) == 0) {
				fprintf(stderr, "gradcheck: %s: no *.json cases in this directory\n",
				        argv[i]);
				exit(EXIT_ERROR);
			}
		} else {
			char *path = strdup(argv[i]);
			if (!path) {
				fputs("gradcheck: out of memory\n", stderr);
				exit(EXIT_ERROR);
			}
			add_path(&l, path);
		}
	}
	return l;
}

static void free_paths(path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
}

/* ---- commands ------------------------------------------------------------------- */

static void print_summary(const gc_case_report *reports, size_t n)
{
	size_t passed, failed, errors;

	gc_report_count(reports, n, &passed, &failed, &errors);
	printf("%zu passed, %zu failed\n", passed, failed);
}

/* -o must not name one of the inputs (the same file by device and inode, however
 * spelled): the report would replace the case or shard it was made from. */
static void refuse_output_onto(const cli *c, const char *const *inputs, size_t n)
{
	struct stat out, in;

	if (!c->output || stat(c->output, &out) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev &&
		    in.st_ino == out.st_ino) {
			fprintf(stderr, "gradcheck: -o %s: is the input %s; refusing to overwrite it\n",
			        c->output, inputs[i]);
			exit(EXIT_ERROR);
		}
}

/* The options a report states: the command line's. */
static gc_report_options report_options(const cli *c)
{
	gc_report_options ro = { c->run.check, c->show };
	return ro;
}

/* Writes the report to -o FILE atomically (and the summary line to stdout), or to
 * stdout in the chosen format.  Returns nonzero when writing failed. */
static int write_report(const cli *c, const gc_case_report *reports, size_t n)
{
	const gc_report_options ro = report_options(c);
	gc_atomic_file f;
	gc_error err = {0};
	char msg[2048];

	if (!c->output)
		return gc_report_write(stdout, c->format, reports, n, &ro);
	if (gc_atomic_open(&f, c->output, &err) != 0)
		goto fail;
	if (gc_report_write(f.fp, c->format, reports, n, &ro) != GC_OK) {
		gc_atomic_abort(&f);
		snprintf(err.file, sizeof err.file, "%s", c->output);
		gc_error_set(&err, "cannot write the report");
		goto fail;
	}
	if (gc_atomic_commit(&f, &err) != 0)
		goto fail;
	print_summary(reports, n);
	return 0;
fail:
	gc_error_format(&err, msg, sizeof msg);
	fprintf(stderr, "gradcheck: %s\n", msg);
	return -1;
}

#ifdef GC_MPI
/* Ends the whole MPI job (every rank) after a failure of the job itself. */
static void mpi_fatal(gc_dist *dist, const char *msg)
{
	fprintf(stderr, "gradcheck: %s\n", msg);
	if (dist)
		gc_dist_abort(dist, EXIT_ERROR);
	exit(EXIT_ERROR);
}
#endif

static int run_check(cli *c, int argc, char **argv)
{
	path_list cases;
	gc_case_outcome *outcomes = NULL;
	gc_case_report *reports = NULL;
	gc_progress progress = {0};
	size_t total = 0;
	int status = EXIT_PASS, root = 1;       /* root: this process prints and writes */
#ifdef GC_MPI
	gc_dist *dist;
	char msg[2048];
#endif

	if (argc == 0 && c->n_models == 0)
		die_usage("%s", "no cases given");
	if (c->run.exec_cmd && c->run.grad_path)
		die_usage("%s", "--exec and --grad exclude each other");
	if (!c->sandbox.enabled && c->sandbox_option)
		die_usage("--%s applies to --sandbox, which was not given", c->sandbox_option);
	if (c->sandbox.enabled && !c->run.exec_cmd && !c->n_models)
		die_usage("%s", "--sandbox applies to --exec and --model programs, and neither "
		          "was given");
	if (c->sandbox.enabled)
		require_sandbox(c);
	cases = collect_cases(argc, argv);
	if (c->run.grad_path && cases.n != 1)
		die_usage("%s", "--grad checks exactly one case");
	refuse_output_onto(c, (const char *const *)cases.paths, cases.n);
	refuse_output_onto(c, (const char *const *)&c->run.grad_path, 1);
	if (c->run.record_dir) {
		gc_error err = {0};
		char msg[2048];

		if (gc_mkdir_p(c->run.record_dir, &err) != 0) {
			gc_error_format(&err, msg, sizeof msg);
			fprintf(stderr, "gradcheck: %s\n", msg);
			status = EXIT_ERROR;
			goto out;
		}
	}
	total = cases.n + c->n_models;
	outcomes = calloc(total, sizeof *outcomes);
	reports = calloc(total, sizeof *reports);
	if (!outcomes || !reports) {
		fputs("gradcheck: out of memory\n", stderr);
		return EXIT_ERROR;
	}
#ifdef GC_MPI
	if (gc_dist_start(&c->run, c->rank_timeout, &dist, msg, sizeof msg) != 0)
		mpi_fatal(dist, msg);
	root = gc_dist_rank(dist) == 0;
#endif
	if (root) {
		c->run.progress = gc_progress_start(&progress, total);
		c->run.progress_arg = &progress;
	}
	for (size_t i = 0; i < total; i++) {
		const char *what = i < cases.n ? cases.paths[i] : c->models[i - cases.n];

		gc_progress_case(&progress, i, what);
#ifdef GC_MPI
		gc_dist_case_begin(dist, what);
#endif
		if ((i < cases.n ? gc_run_case(what, &c->run, &outcomes[i])
		                 : gc_run_model(what, &c->run, &outcomes[i])) != GC_OK) {
			fputs("gradcheck: out of memory\n", stderr);
			return EXIT_ERROR;
		}
#ifdef GC_MPI
		if (gc_dist_case_done(dist, &outcomes[i], msg, sizeof msg) != 0)
			mpi_fatal(dist, msg);
#endif
		reports[i] = outcomes[i].report;
		if (outcomes[i].error || outcomes[i].kept_record)
			gc_progress_clear(&progress);
		if (outcomes[i].error && root)
			fprintf(stderr, "gradcheck: %s\n", outcomes[i].error);
		if (outcomes[i].kept_record)
			fprintf(stderr, "gradcheck: %s: kept, it differs from this run "
			        "(--force replaces it)\n", outcomes[i].kept_record);
		if (reports[i].status == GC_CASE_ERROR)
			status = EXIT_ERROR;
		else if (reports[i].status == GC_CASE_FAIL && status == EXIT_PASS)
			status = EXIT_FAIL;
	}
	gc_progress_clear(&progress);
	if (root && write_report(c, reports, total) != 0)
		status = EXIT_ERROR;
#ifdef GC_MPI
	if (gc_dist_finish(dist, status, &status, msg, sizeof msg) != 0)
		mpi_fatal(dist, msg);
#endif
out:
	for (size_t i = 0; i < total; i++)
		gc_case_outcome_free(&outcomes[i]);
	for (size_t i = 0; i < c->n_models; i++)
		free(c->models[i]);
	free(c->models);
	free(outcomes);
	free(reports);
	free_paths(&cases);
	return status;
}

static gc_case *load_one(const cli *c, int argc, char **argv, const char *command)
{
	gc_case *cs;
	gc_error err = {0};
	char msg[2048];

	if (argc != 1)
		die_usage("%s takes exactly one case", command);
	if (gc_case_load_limited(argv[0], &c->run.limits, &cs, &err) != 0) {
		gc_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "gradcheck: %s\n", msg);
		exit(EXIT_ERROR);
	}
	return cs;
}

static int print_string(char *s)
{
	int ok = s && fputs(s, stdout) >= 0 && putchar('\n') != EOF;

	if (!s)
		fputs("gradcheck: out of memory\n", stderr);
	cJSON_free(s);
	return ok ? EXIT_PASS : EXIT_ERROR;
}

static int run_grad(const cli *c, int argc, char **argv)
{
	gc_case *cs = load_one(c, argc, argv, "grad");
	gc_net *net = NULL;
	double *grad = malloc(cs->n_params * sizeof *grad);
	double loss;
	int status = EXIT_ERROR;

	if (grad && gc_net_create(cs, 1, &net) == GC_OK && gc_net_gradient(net, &loss, grad) == GC_OK)
		status = print_string(gc_gradfile_print(cs, loss, grad));
	else
		fputs("gradcheck: out of memory\n", stderr);
	gc_net_free(net);
	free(grad);
	gc_case_free(cs);
	return status;
}

static int run_resolve(const cli *c, int argc, char **argv)
{
	gc_case *cs = load_one(c, argc, argv, "resolve");
	int status = print_string(gc_case_resolve(cs));

	gc_case_free(cs);
	return status;
}

static int run_merge(const cli *c, int argc, char **argv)
{
	char *json = NULL;
	int exit_status;
	gc_error err = {0};
	char msg[2048];

	if (argc == 0)
		die_usage("%s", "merge needs the JSON reports of the shards");
	refuse_output_onto(c, (const char *const *)argv, (size_t)argc);
	if (gc_merge_reports((const char *const *)argv, (size_t)argc, &json, &exit_status,
	                     &err) != 0) {
		gc_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "gradcheck: %s\n", msg);
		return EXIT_ERROR;
	}
	if (c->output ? gc_write_file_atomic(c->output, json, strlen(json), &err) != 0
	              : fputs(json, stdout) < 0) {
		gc_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "gradcheck: %s\n", msg);
		exit_status = EXIT_ERROR;
	}
	free(json);
	return exit_status;
}

/* ---- grade ---------------------------------------------------------------------- */

/* --submissions FILE: one path a line; blank lines and # comments skipped. */
static void add_submission_list(path_list *l, const char *file)
{
	FILE *fp = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!fp) {
		fprintf(stderr, "gradcheck: %s: %s\n", file, strerror(errno));
		exit(EXIT_ERROR);
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *p = line, *copy;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		                   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!(copy = strdup(p))) {
			fputs("gradcheck: out of memory\n", stderr);
			exit(EXIT_ERROR);
		}
		add_path(l, copy);
	}
	if (ferror(fp)) {
		fprintf(stderr, "gradcheck: %s: %s\n", file, strerror(errno));
		exit(EXIT_ERROR);
	}
	free(line);
	fclose(fp);
}

/* The submissions after "--", then those of --submissions; every id once. */
static path_list collect_submissions(const cli *c, int n, char **paths)
{
	path_list l = {0};

	for (int i = 0; i < n; i++) {
		char *copy = strdup(paths[i]);

		if (!copy) {
			fputs("gradcheck: out of memory\n", stderr);
			exit(EXIT_ERROR);
		}
		add_path(&l, copy);
	}
	if (c->submissions)
		add_submission_list(&l, c->submissions);
	if (l.n == 0)
		die_usage("%s", "no submissions given (after --, or with --submissions FILE)");
	for (size_t i = 0; i < l.n; i++) {
		char *a = gc_grade_id(l.paths[i]);

		for (size_t j = 0; a && j < i; j++) {
			char *b = gc_grade_id(l.paths[j]);
			int same = b && strcmp(a, b) == 0;

			free(b);
			if (same) {
				fprintf(stderr, "gradcheck: submissions %s and %s have the same id '%s' "
				        "(the last part of the path)\n", l.paths[j], l.paths[i], a);
				exit(EXIT_ERROR);
			}
		}
		free(a);
	}
	return l;
}

/* Loads every case once, so that a broken case stops the grading before it starts. */
static void validate_cases(const cli *c, const path_list *cases)
{
	for (size_t i = 0; i < cases->n; i++) {
		gc_case *cs;
		gc_error err = {0};
		char msg[2048];

		if (gc_case_load_limited(cases->paths[i], &c->run.limits, &cs, &err) != 0) {
			gc_error_format(&err, msg, sizeof msg);
			fprintf(stderr, "gradcheck: %s\n", msg);
			exit(EXIT_ERROR);
		}
		gc_case_free(cs);
	}
}

static int write_class(const cli *c, const gc_class *cl, gc_error *err)
{
	const gc_report_options ro = report_options(c);
	gc_atomic_file f;
	FILE *out = stdout;
	int rc;

	if (c->class_format == GC_CLASS_HTML)
		return gc_class_html(c->output, cl, &ro, err);
	if (c->output && gc_atomic_open(&f, c->output, err) != 0)
		return GC_EIO;
	if (c->output)
		out = f.fp;
	switch (c->class_format) {
	case GC_CLASS_CSV: rc = gc_class_csv(out, cl); break;
	case GC_CLASS_JSON: rc = gc_class_json(out, cl, &ro); break;
	default: rc = gc_class_text(out, cl); break;
	}
	if (!c->output)
		return rc;
	if (rc != GC_OK) {
		gc_atomic_abort(&f);
		snprintf(err->file, sizeof err->file, "%s", c->output);
		gc_error_set(err, "cannot write the report");
		return rc;
	}
	return gc_atomic_commit(&f, err) == 0 ? GC_OK : GC_EIO;
}

static int run_grade(cli *c, int argc, char **argv, int n_subs, char **subs)
{
	gc_grade_options go;
	path_list cases, subl;
	gc_class cl;
	gc_error err = {0};
	char msg[2048];
	size_t full = 0;
	int status;

	if (!c->run.exec_cmd || !strstr(c->run.exec_cmd, "{}"))
		die_usage("%s", "grade needs --exec 'CMD {}' ({} is replaced by each submission's path)");
	if (c->run.grad_path || c->n_models || c->run.record_dir || c->run.check.shard_count > 1)
		die_usage("%s", "grade takes no --grad, --model, --record or --shard");
	if (c->no_sandbox && (c->sandbox.enabled || c->sandbox_option))
		die_usage("%s", "--no-sandbox excludes --sandbox and the options that tune it");
	if (c->class_format == GC_CLASS_HTML && !c->output)
		die_usage("%s", "--format html writes a folder: give it with -o DIR");
	if (argc == 0)
		die_usage("%s", "no cases given");
	cases = collect_cases(argc, argv);
	subl = collect_submissions(c, n_subs, subs);
	refuse_output_onto(c, (const char *const *)cases.paths, cases.n);
	refuse_output_onto(c, (const char *const *)subl.paths, subl.n);
	validate_cases(c, &cases);
	c->sandbox.enabled = !c->no_sandbox;
	status = EXIT_ERROR;
	if (c->sandbox.enabled && gc_sandbox_probe(&c->sandbox, &err) != GC_OK) {
		fprintf(stderr, "gradcheck: %s\ngradcheck: grade runs submissions only in the sandbox; "
		        "--no-sandbox runs them unprotected, as you\n", err.msg);
		goto out;
	}
	memset(&go, 0, sizeof go);
	go.run = c->run;
	go.jobs = gc_options_jobs(&c->run.check);
	go.budget = c->budget;
	if (gc_grade(&go, (const char *const *)cases.paths, cases.n,
	             (const char *const *)subl.paths, subl.n, &cl, &err) != GC_OK) {
		fprintf(stderr, "gradcheck: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < cl.n_subs; i++)
		full += cl.subs[i].passed == cl.n_cases;
	status = full == cl.n_subs ? EXIT_PASS : EXIT_FAIL;
	if (write_class(c, &cl, &err) != GC_OK) {
		gc_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "gradcheck: %s\n", msg);
		status = EXIT_ERROR;
	} else if (c->output) {
		printf("%zu submission%s: %zu passed every case, %zu did not\n", cl.n_subs,
		       cl.n_subs == 1 ? "" : "s", full, cl.n_subs - full);
	}
	gc_class_free(&cl);
out:
	free_paths(&cases);
	free_paths(&subl);
	return status;
}

/* SIGINT, SIGTERM: kill the running programs' process groups, remove the temporary
 * files being written, exit 128 + the signal's number (130, 143): README "Bad input". */
static void on_stop_signal(int sig)
{
	gc_cleanup_run();
	_exit(128 + sig);
}

/* Installs on_stop_signal for SIGINT and SIGTERM, unless they were ignored when we
 * started (a background job of a shell without job control keeps ignoring SIGINT). */
static void catch_stop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

/* -o /dev/stdout, or the file standard output already goes to: writing it through a
 * second open file would overwrite the summary line (or be overwritten by it). */
static int names_standard_output(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && fstat(STDOUT_FILENO, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int run_command(int argc, char **argv)
{
	const char *command = "check";
	int n_subs = 0, status;
	char **subs = NULL;
	cli c;

	signal(SIGPIPE, SIG_IGN);       /* a closed --exec pipe is an error, not a death */
	catch_stop_signals();
	gsl_set_error_handler_off();
	if (argc > 1 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "grad") == 0 ||
	                 strcmp(argv[1], "resolve") == 0 || strcmp(argv[1], "merge") == 0)) {
		command = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "grade") == 0) {
		/* The submissions follow the first "--"; options and cases come before it. */
		command = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--") == 0) {
				subs = argv + i + 1;
				n_subs = argc - i - 1;
				argv[i] = NULL;
				argc = i;
				break;
			}
		}
	}
	parse_args(argc, argv, &c, subs != NULL || strcmp(command, "grade") == 0);
	if (c.output && names_standard_output(c.output))
		c.output = NULL;
	argc -= optind;
	argv += optind;
	if (strcmp(command, "grad") == 0)
		return run_grad(&c, argc, argv);
	if (strcmp(command, "resolve") == 0)
		return run_resolve(&c, argc, argv);
	if (strcmp(command, "merge") == 0)
		return run_merge(&c, argc, argv);
	if (strcmp(command, "grade") == 0)
		status = run_grade(&c, argc, argv, n_subs, subs);
	else
		status = run_check(&c, argc, argv);
	free(c.read_only);
	free(c.env);
	return status;
}

/* Nothing lost: output that could not reach standard output (closed, disk full) is an
 * error, never exit 0, whichever way the program ends (README.md, "Bad input"). */
static void check_stdout(void)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	int err = errno;

	if (fclose(stdout) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (bad) {
		fprintf(stderr, "gradcheck: standard output: %s\n", strerror(err ? err : EIO));
		_exit(EXIT_ERROR);
	}
}

/* OpenBLAS (GSL's CBLAS, README "Speed"): one thread unless OPENBLAS_NUM_THREADS says
 * otherwise.  The check's own threads (--jobs) share the work; OpenBLAS's would
 * only spin beside them between the few small products of a case. */
void openblas_set_num_threads(int n) __attribute__((weak));

int main(int argc, char **argv)
{
	atexit(check_stdout);
	if (openblas_set_num_threads && !getenv("OPENBLAS_NUM_THREADS"))
		openblas_set_num_threads(1);
	return run_command(argc, argv);
}
