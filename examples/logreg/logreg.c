/*
 * logreg.c - a user's logistic regression whose hand-written gradient is
 * checked with libgradcheck, without any JSON.
 *
 * The model has 3 features and 8 samples; the weights w and the bias b live in
 * one parameter vector theta = [w0 w1 w2 | b], and the loss is the mean
 * logistic loss
 *
 *     L(theta) = 1/n sum_s log(1 + exp(-y_s (w . x_s + b))),   y_s in {-1, +1}.
 *
 * logreg_grad() carries a planted bug, the kind gradcheck exists to catch: it
 * averages the bias gradient over the batch but forgets to divide the weight
 * gradient by n.  gc_check() compares it with central finite differences of
 * logreg_loss(), element by element; the two named slices "w" and "b" let the
 * report say which tensor is wrong, and problem.batch lets the diagnosis name
 * the factor: "w is 8 × the true gradient (batch: ...)".
 *
 * Build against an installed gradcheck and run:
 *
 *     cc -std=c11 -Wall -Wextra -O2 logreg.c -o logreg \
 *         $(pkg-config --cflags --libs --static gradcheck)
 *     ./logreg        # exit status 1: the gradient check failed
 *
 * Fix the bug (divide grad[j] by N_SAMPLES too) and it prints PASS, exit 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gradcheck.h>
#include <gradcheck_report.h>

#define N_SAMPLES  8
#define N_FEATURES 3
#define N_PARAMS   (N_FEATURES + 1)     /* theta = [w (N_FEATURES) | b] */

struct dataset {
	double x[N_SAMPLES][N_FEATURES];
	double y[N_SAMPLES];            /* labels, -1 or +1 */
};

static struct dataset train = {
	.x = {
		{  0.5,  1.2, -0.3 }, { -1.1,  0.4,  0.8 }, {  0.9, -0.7,  0.2 },
		{  1.6,  0.3, -1.2 }, { -0.4, -1.5,  0.6 }, {  0.2,  0.9,  1.4 },
		{ -1.3,  0.1, -0.5 }, {  0.7, -0.2,  0.9 },
	},
	.y = { 1, -1, 1, 1, -1, 1, -1, 1 },
};

/* log(1 + exp(t)) without overflow for large t. */
static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
	return 1.0 / (1.0 + exp(-t));
}

/* w . x_s + b */
static double score(const double *theta, const struct dataset *d, size_t s)
{
	double z = theta[N_FEATURES];
	for (size_t j = 0; j < N_FEATURES; j++)
		z += theta[j] * d->x[s][j];
	return z;
}

/* The loss, in the form gc_check wants: f(theta, ctx). */
static double logreg_loss(const double *theta, void *ctx)
{
	const struct dataset *d = ctx;
	double sum = 0;
	for (size_t s = 0; s < N_SAMPLES; s++)
		sum += softplus(-d->y[s] * score(theta, d, s));
	return sum / N_SAMPLES;
}

/* The hand-written gradient of logreg_loss (with the planted bug). */
static void logreg_grad(const double *theta, const struct dataset *d, double *grad)
{
	memset(grad, 0, N_PARAMS * sizeof *grad);
	for (size_t s = 0; s < N_SAMPLES; s++) {
		double g = -d->y[s] * sigmoid(-d->y[s] * score(theta, d, s));
		for (size_t j = 0; j < N_FEATURES; j++)
			grad[j] += g * d->x[s][j];      /* BUG: should be g * x / N_SAMPLES */
		grad[N_FEATURES] += g / N_SAMPLES;
	}
}

int main(void)
{
	double theta[N_PARAMS] = { 0.5, -0.25, 0.75, 0.1 };
	double grad[N_PARAMS];
	const gc_tensor tensors[] = {
		{ .name = "w", .offset = 0, .rows = N_FEATURES, .cols = 1 },
		{ .name = "b", .offset = N_FEATURES, .rows = 1, .cols = 1 },
	};
	gc_report_options opt;          /* the check's options and the report's --show */
	gc_result *res = NULL;

	logreg_grad(theta, &train, grad);
	gc_report_options_init(&opt);   /* default tolerances, one thread per processor */
	gc_problem prob = {
		.n = N_PARAMS, .theta = theta, .grad = grad,
		.loss = logreg_loss(theta, &train),
		.f = logreg_loss, .ctx = &train,
		.tensors = tensors, .n_tensors = sizeof tensors / sizeof tensors[0],
		.batch = N_SAMPLES,     /* lets a diagnosis call a factor of 8 "the batch size" */
	};
	int rc = gc_check(&prob, &opt.check, &res);
	if (rc != GC_OK) {
		fprintf(stderr, "logreg: gc_check: %s\n", gc_strerror(rc));
		return 2;
	}

	gc_case_report report = {
		.name = "logreg", .status = res->failed ? GC_CASE_FAIL : GC_CASE_PASS,
		.n_params = N_PARAMS, .loss = prob.loss, .result = res,
	};
	rc = gc_report_write(stdout, GC_FORMAT_TEXT, &report, 1, &opt);
	int failed = res->failed > 0;
	fflush(stdout);         /* the report before the summary, also when both go to one file */
	for (size_t t = 0; t < res->n_tensors; t++)
		if (res->tensors[t].failed)
			fprintf(stderr, "logreg: gradient of %s is wrong in %zu of %zu elements\n",
			        res->tensors[t].tensor.name, res->tensors[t].failed,
			        res->tensors[t].checked);
	gc_result_free(res);
	if (rc != GC_OK) {
		fprintf(stderr, "logreg: report: %s\n", gc_strerror(rc));
		return 2;
	}
	return failed ? 1 : 0;
}
