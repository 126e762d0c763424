/*
 * gc_serve.h - serve a C model to `gradcheck check --model CMD` (README, "Check any
 * model"), with the library's own types: the tensors are gc_tensor slices of one
 * flat theta, the loss is a gc_fn.  Header only; include it in one file:
 *
 *     #include "gc_serve.h"
 *     gc_tensor t[] = { { "W", 0, 3, 4, 1, 1 }, { "b", 12, 3, 1, 1, 0 } };
 *     return gc_serve("softmax", t, 2, n, theta, grad, loss_fn, ctx, batch);
 *
 * gc_serve() writes the header line, then answers requests until `q` or the end of
 * its input: `i I DELTA` moves theta[I] in place, calls loss_fn and restores the old
 * value exactly; `v SEED EPS` moves every element by EPS r_j (r from splitmix64, as
 * README documents) and restores theta from a copy.  Requests are read with read(2)
 * as they come and all answers to what was read go out in one write(2), so gradcheck's
 * pipelining never waits.  Returns 0 after `q`, 1 on a bad request or a failed write.
 */
#ifndef GC_SERVE_H
#define GC_SERVE_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gradcheck.h"

static int gc_serve_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* r_j of `v SEED EPS`: +1 when the top bit of splitmix64's j-th output is 0. */
static double gc_serve_direction(uint64_t seed, size_t j)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL * ((uint64_t)j + 1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z >> 63 ? -1.0 : 1.0;
}

/* The header: {"name", "tensors", "loss", "theta", "grad"[, "batch"]}. */
static int gc_serve_header(FILE *out, const char *name, const gc_tensor *t, size_t nt,
                           size_t n, const double *theta, const double *grad, double loss,
                           size_t batch)
{
	fprintf(out, "{\"name\": \"%s\", \"tensors\": [", name);
	for (size_t k = 0; k < nt; k++) {
		fprintf(out, "%s{\"name\": \"%s\", \"shape\": ", k ? ", " : "", t[k].name);
		if (t[k].matrix || t[k].cols > 1)
			fprintf(out, "[%zu, %zu]", t[k].rows, t[k].cols);
		else
			fprintf(out, "[%zu]", t[k].rows);
		if (t[k].layer > 0)
			fprintf(out, ", \"layer\": %d", t[k].layer);
		fputc('}', out);
	}
	fprintf(out, "], \"loss\": %.17g", loss);
	const double *v[2] = { theta, grad };
	const char *key[2] = { "theta", "grad" };
	for (int a = 0; a < 2; a++) {
		fprintf(out, ", \"%s\": [", key[a]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%.17g", i ? ", " : "", v[a][i]);
		fputc(']', out);
	}
	if (batch)
		fprintf(out, ", \"batch\": %zu", batch);
	fputs("}\n", out);
	return fflush(out) == 0 ? 0 : -1;
}

static int gc_serve(const char *name, const gc_tensor *t, size_t nt, size_t n, double *theta,
                    const double *grad, gc_fn loss_fn, void *ctx, size_t batch)
{
	size_t cap = 1 << 16, len = 0, out_cap = 1 << 16, out_len = 0;
	char *in = malloc(cap), *out = malloc(out_cap);
	double *saved = malloc(n * sizeof *saved);
	int rc = 1;

	if (!in || !out || !saved ||
	    gc_serve_header(stdout, name, t, nt, n, theta, grad, loss_fn(theta, ctx), batch) != 0)
		goto done;
	for (;;) {
		ssize_t got = read(0, in + len, cap - len - 1);
		char *line = in, *nl;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;                          /* end of input: as good as `q` */
		len += (size_t)got;
		in[len] = '\0';
		while ((nl = memchr(line, '\n', len - (size_t)(line - in)))) {
			unsigned long long a;
			double d, loss;
			char c;

			*nl = '\0';
			if (out_cap - out_len < 64) {
				char *p = realloc(out, out_cap *= 2);
				if (!p)
					goto done;
				out = p;
			}
			if (sscanf(line, " %c %llu %lf", &c, &a, &d) == 3 && c == 'i' && a < n) {
				double old = theta[a];

				theta[a] = old + d;
				loss = loss_fn(theta, ctx);
				theta[a] = old;
			} else if (sscanf(line, " %c %llu %lf", &c, &a, &d) == 3 && c == 'v') {
				memcpy(saved, theta, n * sizeof *saved);
				for (size_t j = 0; j < n; j++)
					theta[j] += d * gc_serve_direction(a, j);
				loss = loss_fn(theta, ctx);
				memcpy(theta, saved, n * sizeof *saved);
			} else if (sscanf(line, " %c", &c) == 1 && c == 'q') {
				rc = gc_serve_write(out, out_len);
				goto done;
			} else {
				fprintf(stderr, "gc_serve: bad request '%s'\n", line);
				goto done;
			}
			out_len += (size_t)snprintf(out + out_len, out_cap - out_len, "%.17g\n", loss);
			line = nl + 1;
		}
		len -= (size_t)(line - in);
		memmove(in, line, len);
		if (len + 1 == cap) {
			char *p = realloc(in, cap *= 2);
			if (!p)
				goto done;
			in = p;
		}
		if (gc_serve_write(out, out_len) != 0)
			goto done;
		out_len = 0;
	}
	rc = 0;
done:
	free(in);
	free(out);
	free(saved);
	return rc;
}

#endif
