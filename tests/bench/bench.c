/* bench.c - `make bench`: how long a full gradient check of an MLP takes.
 *
 * For each network (xavier init, float64; tanh hidden layers, identity output and
 * mse unless the row says otherwise):
 *   naive     gc_check with only f = gc_net_fn (a full forward pass per evaluation),
 *             1 thread: what a plain finite-difference loop costs (tanh rows only);
 *   incr-1    the incremental moved-loss hooks (gc_net_moved_loss, gc_net_moved_many
 *             with the fused kernel), 1 thread;
 *   incr-all  the same with one thread per processor;
 *   torch     torch.autograd.gradcheck (full mode, float64) on the same network, same
 *             numbers, when python3 can import torch (tests/bench/torch_bench.py): on
 *             Debian's reference BLAS and on its OpenBLAS (LD_LIBRARY_PATH);
 *   GFLOP/s   the fused kernel alone on layer L-2's moves, 1 thread.
 * Every C time covers the whole check: creating the net, the analytic gradient
 * and gc_check.  Small networks are repeated until 0.2 s have passed.  A naive run
 * estimated above NAIVE_CAP seconds checks a random sample of elements instead and
 * is scaled to all elements (marked *): every naive element costs the same two
 * full forward passes, so the scaling is fair.
 *
 * Usage: bench [--quick] [--incr-only] [--only NAME] [--torch SCRIPT] [--python PYTHON]
 *   --quick      only the three smallest networks (a smoke test)
 *   --incr-only  only the incremental times (for profiling and tuning)
 *   --only NAME  only the network NAME (tiny, small, ..., wide; for profiling) */
#include <float.h>
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
	size_t sizes[12];
	size_t n_sizes;
	size_t batch;
	int torch;              /* time torch on it too */
	int naive;              /* time the naive check too */
	const char *act, *out, *loss;   /* hidden and output activations, loss */
} bench_net;

static const bench_net nets[] = {
	{ "tiny", { 4, 8, 1 }, 3, 4, 1, 1, "tanh", "identity", "mse" },
	{ "small", { 16, 32, 10 }, 3, 8, 1, 1, "tanh", "identity", "mse" },
	{ "medium", { 32, 64, 64, 10 }, 4, 16, 1, 1, "tanh", "identity", "mse" },
	{ "large", { 64, 128, 128, 10 }, 4, 32, 1, 1, "tanh", "identity", "mse" },
	{ "larger", { 128, 256, 256, 10 }, 4, 32, 0, 1, "tanh", "identity", "mse" },
	{ "large-relu", { 64, 128, 128, 10 }, 4, 32, 0, 0, "relu", "identity", "mse" },
	{ "large-sigmoid-ce", { 64, 128, 128, 10 }, 4, 32, 0, 0, "sigmoid", "softmax",
	  "cross_entropy" },
	{ "deep", { 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10 }, 12, 32, 0, 0,
	  "tanh", "identity", "mse" },
	{ "wide", { 784, 512, 10 }, 3, 64, 0, 0, "tanh", "identity", "mse" },
};
#define N_NETS (sizeof nets / sizeof nets[0])

typedef struct bench_row {
	size_t params;
	double naive, incr1, incr_all;  /* seconds */
	double torch, torch_ob;         /* torch on the system's BLAS, on OpenBLAS; < 0: not run */
	double gflops;                  /* the fused kernel's rate; NaN: no layer L-2 */
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
	char json[2048], layers[128], acts[512] = "";
	gc_case *c = NULL;
	gc_error err;

	for (size_t k = 1; k < b->n_sizes; k++)
		snprintf(acts + strlen(acts), sizeof acts - strlen(acts), "\"%s\"%s",
		         k + 1 < b->n_sizes ? b->act : b->out, k + 1 < b->n_sizes ? "," : "");
	snprintf(json, sizeof json,
	         "{\"name\": \"%s\", \"layers\": %s, \"activations\": [%s], \"loss\": \"%s\","
	         " \"init\": {\"seed\": 1, \"distribution\": \"xavier\", \"scale\": 1},"
	         " \"data\": {\"seed\": 2, \"batch\": %zu}}",
	         b->name, layers_text(b, layers, sizeof layers), acts, b->loss, b->batch);
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
		.moved_many = naive ? NULL : gc_net_moved_many, .kink = gc_net_kink, .ctx = net,
		.tensors = c->tensors, .n_tensors = c->n_tensors, .batch = c->batch,
		.outputs = c->sizes[c->n_layers], .noise = gc_net_noise(net),
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
		if (s < 0 || failed) {
			fprintf(stderr, "bench: %s: %s\n", c->name,
			        s < 0 ? "the check could not run" : "elements failed");
			*ok = 0;
		}
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

/* The fused kernel's rate on the central-difference moves of layer L-2's
 * parameters, one thread, in GFLOP/s: per move and sample, the change of layer
 * L-1 (n_{L-1} units, 8 operations each: the step and the Taylor polynomial) and
 * its product with W_L (2 n_{L-1} n_L).  NaN for networks without layer L-2. */
static double kernel_gflops(const gc_case *c)
{
	size_t L = c->n_layers, lo = 0, hi, moves, *idx = NULL;
	double *delta = NULL, *loss = NULL, secs = 0, rate = NAN;
	int *kink = NULL;
	gc_net *net = NULL;

	if (L < 3 || gc_net_create(c, 1, &net) != GC_OK)
		goto out;
	for (size_t k = 1; k < L - 2; k++)
		lo += c->sizes[k - 1] * c->sizes[k] + c->sizes[k];
	hi = lo + c->sizes[L - 3] * c->sizes[L - 2] + c->sizes[L - 2];
	moves = 2 * (hi - lo);
	idx = malloc(moves * sizeof *idx);
	delta = malloc(moves * sizeof *delta);
	loss = malloc(moves * sizeof *loss);
	kink = malloc(moves * sizeof *kink);
	if (!idx || !delta || !loss || !kink)
		goto out;
	for (size_t i = lo; i < hi; i++) {
		double x = c->theta[i], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
		idx[2 * (i - lo)] = idx[2 * (i - lo) + 1] = i;
		delta[2 * (i - lo)] = (x + h) - x;
		delta[2 * (i - lo) + 1] = -(x - (x - h));
	}
	size_t reps = 0;
	double start = now();
	do {
		for (size_t e = 0; e < moves; e += 128)
			gc_net_moved_many(net, 0, moves - e < 128 ? moves - e : 128, idx + e,
			                  delta + e, loss + e, kink + e);
		reps++;
		secs = now() - start;
	} while (secs < MIN_TIME);
	double nm = (double)c->sizes[L - 1], nL = (double)c->sizes[L];
	double flops = (double)moves * (double)c->batch * (8.0 * nm + 2.0 * nm * nL);
	rate = flops * (double)reps / secs / 1e9;
out:
	gc_net_free(net);
	free(idx);
	free(delta);
	free(loss);
	free(kink);
	return rate;
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

/* Debian's reference BLAS and OpenBLAS, for torch's BLAS calls whatever the system's
 * libblas.so.3 alternative is (installing libopenblas-dev makes it OpenBLAS) */
#define REFBLAS_DIR "/usr/lib/x86_64-linux-gnu/blas"
#define OPENBLAS_DIR "/usr/lib/x86_64-linux-gnu/openblas-pthread"

/* Runs the torch script over the torch networks with LD_LIBRARY_PATH=REFBLAS_DIR
 * (when Debian's reference BLAS is installed, else the system's BLAS) into
 * rows[i].torch, or with openblas LD_LIBRARY_PATH=OPENBLAS_DIR into rows[i].torch_ob. */
static void run_torch(gc_case **cases, bench_row *rows, const char *python, const char *script,
                      int openblas, char *version, size_t vsize)
{
	char dir[] = "/tmp/gc_bench_XXXXXX", cmd[8192], line[512];

	snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", python);
	if (!script || system(cmd) != 0 || (openblas && access(OPENBLAS_DIR, R_OK) != 0)
	    || !mkdtemp(dir))
		return;
	snprintf(cmd, sizeof cmd, "%s'%s' '%s'",
	         openblas ? "LD_LIBRARY_PATH=" OPENBLAS_DIR " "
	         : access(REFBLAS_DIR, R_OK) == 0 ? "LD_LIBRARY_PATH=" REFBLAS_DIR " " : "",
	         python, script);
	if (write_torch_cases(cases, N_NETS, dir, cmd, sizeof cmd) > 0) {
		fprintf(stderr, "bench: torch.autograd.gradcheck%s ...\n",
		        openblas ? " on OpenBLAS" : "");
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
					*(openblas ? &rows[i].torch_ob : &rows[i].torch) = secs;
					rows[i].torch_ok &= ok;
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

/* "12.3" or "-" (not run) into buf. */
static const char *cell(double v, const char *fmt, char *buf, size_t size)
{
	if (isnan(v) || v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, fmt, v);
	return buf;
}

static void print_table(const bench_row *rows, size_t n, unsigned np, const char *torch)
{
	char layers[128], kind[64], c[8][32];

	printf("\ngradcheck %s bench: full check of every element (central differences), "
	       "float64;\n%u processors; seconds per whole check (net, gradient, gc_check)\n\n",
	       GC_VERSION, np);
	printf("%-20s %-22s %3s %6s %9s %8s %8s %8s %8s %8s %7s %7s\n", "network", "hidden/out/loss",
	       "B", "params", "naive s", "incr-1 s", "incr-all", "naive/1", "torch s", "torchOB",
	       "tOB/1", "GFLOP/s");
	for (size_t i = 0; i < n; i++) {
		const bench_row *r = &rows[i];
		const bench_net *b = &nets[i];
		if (isnan(r->incr1))
			continue;
		snprintf(kind, sizeof kind, "%s/%s/%s", b->act, b->out,
		         strcmp(b->loss, "cross_entropy") == 0 ? "ce" : b->loss);
		cell(r->naive, "%.5f", c[0], sizeof c[0]);
		if (r->naive_sampled)
			strcat(c[0], "*");
		printf("%-20s %-22s %3zu %6zu %9s %8.5f %8.5f %8s %8s %8s %7s %7s%s\n",
		       layers_text(b, layers, sizeof layers), kind, b->batch, r->params, c[0],
		       r->incr1, r->incr_all, cell(r->naive / r->incr1, "%.0fx", c[1], sizeof c[1]),
		       cell(r->torch, "%.3f", c[2], sizeof c[2]),
		       cell(r->torch_ob, "%.3f", c[3], sizeof c[3]),
		       cell(r->torch_ob >= 0 ? r->torch_ob / r->incr1 : NAN, "%.0fx", c[4], sizeof c[4]),
		       cell(r->gflops, "%.1f", c[5], sizeof c[5]), r->ok ? "" : "  (a check failed!)");
	}
	printf("\nnaive/1: the naive check's time over incr-1's; tOB/1: torch on OpenBLAS over "
	       "incr-1.\nGFLOP/s: the fused kernel on layer L-2's moves, one thread "
	       "(per move and sample 8 n_(L-1) + 2 n_(L-1) n_L operations).\n");
	for (size_t i = 0; i < n; i++)
		if (rows[i].naive_sampled) {
			printf("*: naive time scaled from a random sample of elements "
			       "(each costs the same two full forward passes).\n");
			break;
		}
	if (torch[0]) {
		printf("torch: torch.autograd.gradcheck(fast_mode=False), float64, %s; torch s on "
		       "the reference BLAS\n(LD_LIBRARY_PATH=%s), torchOB on OpenBLAS "
		       "(LD_LIBRARY_PATH=%s).\n", torch, REFBLAS_DIR, OPENBLAS_DIR);
		for (size_t i = 0; i < n; i++)
			if ((rows[i].torch >= 0 || rows[i].torch_ob >= 0) && !rows[i].torch_ok) {
				printf("!: torch's gradcheck reported a mismatch.\n");
				break;
			}
	} else {
		printf("torch: python3 cannot import torch here, not timed.\n");
	}
}

/* OpenBLAS on one thread, as gradcheck runs it (src/main.c) */
void openblas_set_num_threads(int n) __attribute__((weak));

int main(int argc, char **argv)
{
	const char *script = NULL, *python = "python3", *only = NULL;
	size_t n = N_NETS;
	int incr_only = 0;
	gc_case *cases[N_NETS] = { 0 };
	bench_row rows[N_NETS];
	char torch[128] = "";
	unsigned np = processors();
	int status = 0;

	if (openblas_set_num_threads && !getenv("OPENBLAS_NUM_THREADS"))
		openblas_set_num_threads(1);
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--quick") == 0)
			n = 3;
		else if (strcmp(argv[a], "--incr-only") == 0)
			incr_only = 1;
		else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc)
			only = argv[++a];
		else if (strcmp(argv[a], "--torch") == 0 && a + 1 < argc)
			script = argv[++a];
		else if (strcmp(argv[a], "--python") == 0 && a + 1 < argc)
			python = argv[++a];
		else {
			fprintf(stderr, "usage: bench [--quick] [--incr-only] [--only NAME] "
			        "[--torch SCRIPT] [--python PYTHON]\n");
			return 2;
		}
	}
	for (size_t i = 0; i < n; i++) {
		bench_row *r = &rows[i];
		char layers[128];
		memset(r, 0, sizeof *r);
		r->torch = r->torch_ob = -1;
		r->ok = r->torch_ok = 1;
		if (!(cases[i] = make_case(&nets[i]))) {
			status = 1;
			break;
		}
		r->params = cases[i]->n_params;
		r->naive = r->incr1 = r->incr_all = r->gflops = NAN;
		if (only && strcmp(only, nets[i].name) != 0)
			continue;
		fprintf(stderr, "bench: %s ...\n", layers_text(&nets[i], layers, sizeof layers));
		r->naive = incr_only || !nets[i].naive ? NAN
		         : naive_time(cases[i], &r->naive_sampled, &r->ok);
		r->incr1 = timed(cases[i], 0, 1, &r->ok);
		r->incr_all = timed(cases[i], 0, np, &r->ok);
		r->gflops = kernel_gflops(cases[i]);
		status |= !r->ok;
	}
	if (status == 0) {
		if (!incr_only) {
			run_torch(cases, rows, python, script, 0, torch, sizeof torch);
			run_torch(cases, rows, python, script, 1, torch, sizeof torch);
		}
		print_table(rows, n, np, torch);
	}
	for (size_t i = 0; i < N_NETS; i++)
		gc_case_free(cases[i]);
	return status;
}
