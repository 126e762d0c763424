/* bench.c - `make bench`: how long a full gradient check of an MLP takes.
 *
 * For each network (tanh hidden layers, identity output, mse, xavier init, float64):
 *   naive     gc_check with only f = gc_net_fn (a full forward pass per evaluation),
 *             1 thread: what a plain finite-difference loop costs;
 *   incr-1    the incremental moved-loss hook (gc_net_moved_loss), 1 thread;
 *   incr-all  the same with one thread per processor;
 *   torch     torch.autograd.gradcheck (full mode, float64) on the same network, same
 *             numbers, when python3 can import torch (tests/bench/torch_bench.py).
 * Every C time covers the whole check: creating the net, the analytic gradient
 * and gc_check.  Small networks are repeated until 0.2 s have passed.  A naive run
 * estimated above NAIVE_CAP seconds checks a random sample of elements instead and
 * is scaled to all elements (marked *): every naive element costs the same two
 * full forward passes, so the scaling is fair.
 *
 * Usage: bench [--quick] [--incr-only] [--torch SCRIPT] [--python PYTHON]
 *   --quick      only the three smallest networks (a smoke test)
 *   --incr-only  only the incremental times (for profiling and tuning) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "case.h"
#include "gradcheck.h"
#include "net.h"

#define NAIVE_CAP 20.0          /* seconds a naive run may take before it is sampled */
#define MIN_TIME 0.2            /* small runs repeat until this many seconds */

typedef struct bench_net {
	const char *name;
	size_t sizes[4];
	size_t n_sizes;
	size_t batch;
	int torch;              /* time torch on it too */
} bench_net;

static const bench_net nets[] = {
	{ "tiny", { 4, 8, 1 }, 3, 4, 1 },
	{ "small", { 16, 32, 10 }, 3, 8, 1 },
	{ "medium", { 32, 64, 64, 10 }, 4, 16, 1 },
	{ "large", { 64, 128, 128, 10 }, 4, 32, 1 },
	{ "larger", { 128, 256, 256, 10 }, 4, 32, 0 },
};
#define N_NETS (sizeof nets / sizeof nets[0])

typedef struct bench_row {
	size_t params;
	double naive, incr1, incr_all, torch;   /* seconds; torch < 0: not run */
	int naive_sampled, ok, torch_ok;
} bench_row;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *layers_text(const bench_net *b, char *buf, size_t size)
{
	size_t used = 0;

	used += (size_t)snprintf(buf, size, "[");
	for (size_t k = 0; k < b->n_sizes && used < size; k++)
		used += (size_t)snprintf(buf + used, size - used, "%s%zu", k ? "," : "", b->sizes[k]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
	return buf;
}

static gc_case *make_case(const bench_net *b)
{
	char json[1024], layers[128], acts[128] = "";
	gc_case *c = NULL;
	gc_error err;

	for (size_t k = 1; k < b->n_sizes; k++)
		strcat(acts, k + 1 < b->n_sizes ? "\"tanh\"," : "\"identity\"");
	snprintf(json, sizeof json,
	         "{\"name\": \"%s\", \"layers\": %s, \"activations\": [%s], \"loss\": \"mse\","
	         " \"init\": {\"seed\": 1, \"distribution\": \"xavier\", \"scale\": 1},"
	         " \"data\": {\"seed\": 2, \"batch\": %zu}}",
	         b->name, layers_text(b, layers, sizeof layers), acts, b->batch);
	memset(&err, 0, sizeof err);
	if (gc_case_parse(json, strlen(json), "bench.json", &c, &err) != 0) {
		char msg[2048];
		gc_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "bench: %s\n", msg);
		return NULL;
	}
	return c;
}

/* One whole check: net, analytic gradient, gc_check.  sample > 0 checks that many
 * elements per tensor.  Returns seconds, or a negative number on error; *checked
 * gets the elements checked and *failed the failures. */
static double one_check(const gc_case *c, int naive, unsigned jobs, size_t sample,
                        size_t *checked, size_t *failed)
{
	double start = now(), loss, secs = -1;
	double *grad = malloc(c->n_params * sizeof *grad);
	gc_net *net = NULL;
	gc_result *r = NULL;
	gc_options o;

	if (!grad || gc_net_create(c, jobs, &net) != GC_OK || gc_net_gradient(net, &loss, grad))
		goto out;
	gc_options_init(&o);
	o.jobs = jobs;
	o.sample = sample;
	gc_problem p = {
		.n = c->n_params, .theta = c->theta, .grad = grad, .loss = loss,
		.f = gc_net_fn, .moved = naive ? NULL : gc_net_moved_loss,
		.moved_many = naive ? NULL : gc_net_moved_many, .ctx = net,
		.tensors = c->tensors, .n_tensors = c->n_tensors,
	};
	if (gc_check(&p, &o, &r) != GC_OK)
		goto out;
	secs = now() - start;
	*checked = r->checked;
	*failed = r->failed;
out:
	gc_result_free(r);
	gc_net_free(net);
	free(grad);
	return secs;
}

/* Seconds per whole check, repeating small ones; *ok cleared on failures. */
static double timed(const gc_case *c, int naive, unsigned jobs, int *ok)
{
	double total = 0;
	size_t reps = 0, checked, failed;

	do {
		double s = one_check(c, naive, jobs, 0, &checked, &failed);
		if (s < 0 || failed)
			*ok = 0;
		if (s < 0)
			return NAN;
		total += s;
		reps++;
	} while (total < MIN_TIME);
	return total / (double)reps;
}

/* Seconds of one full forward pass (the unit of a naive check). */
static double forward_seconds(const gc_case *c)
{
	gc_net *net = NULL;
	double start, secs = NAN;
	size_t reps = 0;

	if (gc_net_create(c, 1, &net) != GC_OK)
		return NAN;
	start = now();
	do {
		gc_net_fn(c->theta, net);
		reps++;
	} while (now() - start < 0.05);
	secs = (now() - start) / (double)reps;
	gc_net_free(net);
	return secs;
}

/* Elements checked with sample k per tensor. */
static size_t sampled_elements(const gc_case *c, size_t k)
{
	size_t n = 0;

	for (size_t t = 0; t < c->n_tensors; t++) {
		size_t size = c->tensors[t].rows * c->tensors[t].cols;
		n += size < k ? size : k;
	}
	return n;
}

static double naive_time(const gc_case *c, int *sampled, int *ok)
{
	double fwd = forward_seconds(c);
	size_t budget, k = 1, checked, failed;

	*sampled = 0;
	if (!(2.0 * (double)c->n_params * fwd > NAIVE_CAP))
		return timed(c, 1, 1, ok);
	/* the largest per-tensor sample whose elements fit half the cap */
	budget = (size_t)(NAIVE_CAP / 2 / (2.0 * fwd));
	while (sampled_elements(c, 2 * k) <= budget && 2 * k < c->n_params)
		k *= 2;
	*sampled = 1;
	double s = one_check(c, 1, 1, k, &checked, &failed);
	if (s < 0 || checked == 0) {
		*ok = 0;
		return NAN;
	}
	if (failed)
		*ok = 0;
	return s * (double)c->n_params / (double)checked;
}

static unsigned processors(void)
{
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	return np > 0 ? (unsigned)np : 1;
}

/* Writes the resolved cases of the torch networks into dir; returns how many. */
static size_t write_torch_cases(gc_case **cases, size_t n, const char *dir, char *args,
                                size_t size)
{
	size_t count = 0, used = strlen(args);

	for (size_t i = 0; i < n; i++) {
		char path[512];
		if (!nets[i].torch || !cases[i])
			continue;
		char *text = gc_case_resolve(cases[i]);
		snprintf(path, sizeof path, "%s/%s.json", dir, nets[i].name);
		FILE *fp = text ? fopen(path, "w") : NULL;
		if (fp) {
			fputs(text, fp);
			if (fclose(fp) == 0) {
				used += (size_t)snprintf(args + used, used < size ? size - used : 0,
				                         " '%s'", path);
				count++;
			}
		}
		cJSON_free(text);
	}
	return used < size ? count : 0;
}

/* Runs the torch script over the torch networks; fills rows[i].torch. */
static void run_torch(gc_case **cases, bench_row *rows, const char *python, const char *script,
                      char *version, size_t vsize)
{
	char dir[] = "/tmp/gc_bench_XXXXXX", cmd[8192], line[512];

	snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", python);
	if (!script || system(cmd) != 0 || !mkdtemp(dir))
		return;
	snprintf(cmd, sizeof cmd, "'%s' '%s'", python, script);
	if (write_torch_cases(cases, N_NETS, dir, cmd, sizeof cmd) > 0) {
		fprintf(stderr, "bench: torch.autograd.gradcheck ...\n");
		FILE *pp = popen(cmd, "r");
		while (pp && fgets(line, sizeof line, pp)) {
			char name[64];
			double secs;
			int ok;
			if (line[0] == '#') {
				snprintf(version, vsize, "%.100s", line + 2);
				version[strcspn(version, "\n")] = '\0';
				continue;
			}
			if (sscanf(line, "%63s %lf %d", name, &secs, &ok) != 3)
				continue;
			for (size_t i = 0; i < N_NETS; i++)
				if (strcmp(nets[i].name, name) == 0) {
					rows[i].torch = secs;
					rows[i].torch_ok = ok;
				}
		}
		if (pp)
			pclose(pp);
	}
	for (size_t i = 0; i < N_NETS; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s.json", dir, nets[i].name);
		unlink(path);
	}
	rmdir(dir);
}

static void print_table(const bench_row *rows, size_t n, unsigned np, const char *torch)
{
	char layers[128], tcol[32], tratio[32];

	printf("\ngradcheck %s bench: full check of every element (central differences), "
	       "tanh hidden layers,\nidentity output, mse, float64; %u processors; "
	       "seconds per whole check (net, gradient, gc_check)\n\n", GC_VERSION, np);
	printf("%-20s %4s %7s %10s %9s %9s %12s %12s %9s %9s %12s\n", "network", "B", "params",
	       "naive s", "incr-1 s", "incr-all", "naive/incr-1", "naive/all", "us/param",
	       "torch s", "torch/all");
	for (size_t i = 0; i < n; i++) {
		const bench_row *r = &rows[i];
		if (r->torch >= 0) {
			snprintf(tcol, sizeof tcol, "%.4f%s", r->torch, r->torch_ok ? "" : "!");
			snprintf(tratio, sizeof tratio, "%.0fx", r->torch / r->incr_all);
		} else {
			snprintf(tcol, sizeof tcol, "-");
			snprintf(tratio, sizeof tratio, "-");
		}
		printf("%-20s %4zu %7zu %9.5f%s %9.5f %9.5f %11.0fx %11.0fx %9.2f %9s %12s%s\n",
		       layers_text(&nets[i], layers, sizeof layers), nets[i].batch, r->params,
		       r->naive, r->naive_sampled ? "*" : " ", r->incr1, r->incr_all,
		       r->naive / r->incr1, r->naive / r->incr_all, 1e6 * r->incr1 / (double)r->params,
		       tcol, tratio, r->ok ? "" : "  (a check failed!)");
	}
	printf("\nus/param: incr-1 microseconds per parameter (two loss evaluations).\n");
	for (size_t i = 0; i < n; i++)
		if (rows[i].naive_sampled) {
			printf("*: naive time scaled from a random sample of elements "
			       "(each costs the same two full forward passes).\n");
			break;
		}
	if (torch[0]) {
		printf("torch: torch.autograd.gradcheck(fast_mode=False), float64, %s; "
		       "not run on the largest network (minutes).\n", torch);
		for (size_t i = 0; i < n; i++)
			if (rows[i].torch >= 0 && !rows[i].torch_ok) {
				printf("!: torch's gradcheck reported a mismatch.\n");
				break;
			}
	} else {
		printf("torch: python3 cannot import torch here, not timed.\n");
	}
}

int main(int argc, char **argv)
{
	const char *script = NULL, *python = "python3";
	size_t n = N_NETS;
	int incr_only = 0;
	gc_case *cases[N_NETS] = { 0 };
	bench_row rows[N_NETS];
	char torch[128] = "";
	unsigned np = processors();
	int status = 0;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--quick") == 0)
			n = 3;
		else if (strcmp(argv[a], "--incr-only") == 0)
			incr_only = 1;
		else if (strcmp(argv[a], "--torch") == 0 && a + 1 < argc)
			script = argv[++a];
		else if (strcmp(argv[a], "--python") == 0 && a + 1 < argc)
			python = argv[++a];
		else {
			fprintf(stderr, "usage: bench [--quick] [--incr-only] [--torch SCRIPT] "
			        "[--python PYTHON]\n");
			return 2;
		}
	}
	for (size_t i = 0; i < n; i++) {
		bench_row *r = &rows[i];
		char layers[128];
		memset(r, 0, sizeof *r);
		r->torch = -1;
		r->ok = 1;
		if (!(cases[i] = make_case(&nets[i]))) {
			status = 1;
			break;
		}
		r->params = cases[i]->n_params;
		fprintf(stderr, "bench: %s ...\n", layers_text(&nets[i], layers, sizeof layers));
		r->naive = incr_only ? NAN : naive_time(cases[i], &r->naive_sampled, &r->ok);
		r->incr1 = timed(cases[i], 0, 1, &r->ok);
		r->incr_all = timed(cases[i], 0, np, &r->ok);
		status |= !r->ok;
	}
	if (status == 0) {
		if (!incr_only)
			run_torch(cases, rows, python, script, torch, sizeof torch);
		print_table(rows, n, np, torch);
	}
	for (size_t i = 0; i < N_NETS; i++)
		gc_case_free(cases[i]);
	return status;
}
