/*
 * softmax_c.c - a C model served to `gradcheck check --model` with gc_serve.h.
 *
 * Softmax regression: 3 classes, 4 features, a batch of B = 8 samples,
 *   L = -(1/B) sum_b log softmax(W x_b + c)[y_b],
 *   dL/dW = (1/B) sum_b (p_b - onehot(y_b)) x_b^T,  dL/dc = (1/B) sum_b (p_b - onehot(y_b)).
 * `--bug batch` plants a gradient that forgets the 1/B: it is B times too large.
 *
 *   cc -std=c11 -Isrc -o softmax_c examples/model/softmax_c.c -lm
 *   ./gradcheck --model './softmax_c --bug batch'
 */
#include <math.h>
#include <string.h>
#include "gc_serve.h"

enum { K = 3, D = 4, B = 8, N = K * D + K };

typedef struct data {
	double x[B][D];
	int y[B];
} data;

/* The probabilities of sample b under theta = (W (K x D), c (K)). */
static void probs(const double *theta, const double *x, double p[K])
{
	double big = -INFINITY, sum = 0;

	for (int k = 0; k < K; k++) {
		p[k] = theta[K * D + k];
		for (int j = 0; j < D; j++)
			p[k] += theta[k * D + j] * x[j];
		big = fmax(big, p[k]);
	}
	for (int k = 0; k < K; k++)
		sum += p[k] = exp(p[k] - big);
	for (int k = 0; k < K; k++)
		p[k] /= sum;
}

static double loss(const double *theta, void *ctx)
{
	const data *d = ctx;
	double l = 0, p[K];

	for (int b = 0; b < B; b++) {
		probs(theta, d->x[b], p);
		l -= log(p[d->y[b]]);
	}
	return l / B;
}

static void gradient(const double *theta, const data *d, int bug, double *g)
{
	double p[K];

	memset(g, 0, N * sizeof *g);
	for (int b = 0; b < B; b++) {
		probs(theta, d->x[b], p);
		p[d->y[b]] -= 1;
		for (int k = 0; k < K; k++) {
			for (int j = 0; j < D; j++)
				g[k * D + j] += p[k] * d->x[b][j];
			g[K * D + k] += p[k];
		}
	}
	if (!bug)
		for (int i = 0; i < N; i++)
			g[i] /= B;
}

int main(int argc, char **argv)
{
	int bug = argc == 3 && strcmp(argv[1], "--bug") == 0 && strcmp(argv[2], "batch") == 0;
	uint64_t s = 42;
	double theta[N], grad[N];
	data d;
	gc_tensor t[2] = { { "W", 0, K, D, 1, 1 }, { "c", K * D, K, 1, 1, 0 } };

	if (argc != 1 && !bug) {
		fputs("usage: softmax_c [--bug batch]\n", stderr);
		return 2;
	}
	for (int i = 0; i < N + B * D + B; i++) {       /* fixed pseudo-random numbers */
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
		if (i < N)
			theta[i] = u;
		else if (i < N + B * D)
			d.x[(i - N) / D][(i - N) % D] = 4 * u;
		else
			d.y[i - N - B * D] = (int)(s >> 62) % K;
	}
	gradient(theta, &d, bug, grad);
	return gc_serve("softmax_c", t, 2, N, theta, grad, loss, &d, B);
}
