/* c_backprop.c - a plain C11 backpropagation for `gradcheck --exec`.
 *
 * Reads a resolved case (README "Case format", as `gradcheck resolve` prints it) on
 * standard input and prints its gradient file (README "Check your own
 * implementation") on standard output.
 * Both weight layouts, with or without biases, any batch size; activations
 * identity/linear, sigmoid, tanh, relu, leaky_relu (both forms), softplus, softmax
 * (last layer); losses sse, half_sse, mse, cross_entropy, binary_cross_entropy,
 * logistic, hinge, multiclass_hinge; and the keys of README "Conventions":
 * reduction, regularization, labels, sample_layout, column biases.  Anything else is
 * reported on stderr with exit status 1.
 *
 * Build:
 *   cc -std=c11 -O2 -o c_backprop c_backprop.c $(pkg-config --cflags --libs libcjson) -lm
 * Run:
 *   ./gradcheck --exec examples/c_backprop cases/act_tanh.json
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

enum act { ACT_IDENTITY, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_SOFTPLUS,
	ACT_SOFTMAX };
enum loss { LOSS_SSE, LOSS_HALF_SSE, LOSS_MSE, LOSS_CE, LOSS_BCE, LOSS_LOGISTIC, LOSS_HINGE,
	LOSS_MULTICLASS_HINGE };
/* How the loss terms are combined: sum, divided by B, divided by B * m. */
enum reduction { RED_SUM, RED_BATCH_MEAN, RED_MEAN };

/* R = (l2 (1/2 if half) sum p^2 + l1 sum |p|) / divide_by over the weights, and the
 * biases when `biases` (README "Conventions"). */
struct regularization {
	double l2, l1;
	int half;
	int biases;
	double divide_by;       /* 1, B, or a training-set size N */
};

/* Every weight matrix is kept as (n_out, n_in), z = W a + b, whatever the layout. */
struct net {
	size_t L;               /* weight layers */
	size_t *n;              /* (L+1) sizes */
	enum act *act;          /* (L) */
	double *alpha;          /* (L) leaky_relu slopes */
	int bias;
	int in_out;
	enum loss loss;
	enum reduction reduction;
	struct regularization reg;
	int bias_columns;       /* biases written [[b1], [b2]]: answer the same way */
	double **W;             /* (L) each (n_k, n_{k-1}) */
	double **b;             /* (L) each (n_k); zeros when there are no biases */
	size_t B;
	double *x;              /* (B, n_0) */
	double *t;              /* (B, n_L) */
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("c_backprop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xcalloc(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		die("size overflow");
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

static size_t mul(size_t a, size_t b)
{
	if (b != 0 && a > SIZE_MAX / b)
		die("size overflow");
	return a * b;
}

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = xcalloc(cap, 1);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (len + 1 == cap) {
			cap = mul(cap, 2);
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory");
		}
	}
	if (ferror(f))
		die("cannot read standard input");
	buf[len] = '\0';
	return buf;
}

/* ------------------------------------------------------------ reading */

static const cJSON *need(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		die("missing key \"%s\"", key);
	return v;
}

static double number(const cJSON *v, const char *what)
{
	if (!cJSON_IsNumber(v))
		die("%s: expected a number", what);
	return v->valuedouble;
}

/* Reads every number of a (possibly nested) array, in order, into dst[0..n). */
static size_t read_numbers(const cJSON *v, double *dst, size_t n, size_t pos, const char *what)
{
	if (cJSON_IsNumber(v)) {
		if (pos >= n)
			die("%s: too many numbers", what);
		dst[pos] = v->valuedouble;
		return pos + 1;
	}
	if (!cJSON_IsArray(v))
		die("%s: expected an array of numbers", what);
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
		pos = read_numbers(e, dst, n, pos, what);
	return pos;
}

static void read_exact(const cJSON *v, double *dst, size_t n, const char *what)
{
	if (read_numbers(v, dst, n, 0, what) != n)
		die("%s: expected %zu numbers", what, n);
}

static void read_activation(const cJSON *v, enum act *act, double *alpha)
{
	const char *name = NULL;
	*alpha = 0.01;
	if (cJSON_IsString(v)) {
		name = v->valuestring;
	} else if (cJSON_IsObject(v)) {
		const cJSON *nm = need(v, "name"), *a = cJSON_GetObjectItemCaseSensitive(v, "alpha");
		name = cJSON_IsString(nm) ? nm->valuestring : NULL;
		if (a)
			*alpha = number(a, "activation alpha");
	}
	if (!name)
		die("activations: expected a name");
	if (!strcmp(name, "identity") || !strcmp(name, "linear"))
		*act = ACT_IDENTITY;
	else if (!strcmp(name, "sigmoid"))
		*act = ACT_SIGMOID;
	else if (!strcmp(name, "tanh"))
		*act = ACT_TANH;
	else if (!strcmp(name, "relu"))
		*act = ACT_RELU;
	else if (!strcmp(name, "leaky_relu"))
		*act = ACT_LEAKY_RELU;
	else if (!strcmp(name, "softplus"))
		*act = ACT_SOFTPLUS;
	else if (!strcmp(name, "softmax"))
		*act = ACT_SOFTMAX;
	else
		die("activation \"%s\" is not supported by this example", name);
}

static enum loss read_loss(const cJSON *v)
{
	static const char *const names[] = {"sse", "half_sse", "mse", "cross_entropy",
		"binary_cross_entropy", "logistic", "hinge", "multiclass_hinge"};
	if (!cJSON_IsString(v))
		die("loss: expected a name");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(v->valuestring, names[i]))
			return (enum loss)i;
	die("loss \"%s\" is not supported by this example", v->valuestring);
	return LOSS_SSE;
}

/* The case's "reduction", or the loss's own (README "Conventions"). */
static enum reduction read_reduction(enum loss loss, const cJSON *v)
{
	if (!v) {
		switch (loss) {
		case LOSS_MSE: case LOSS_BCE: return RED_MEAN;
		case LOSS_CE: case LOSS_HINGE: case LOSS_MULTICLASS_HINGE: return RED_BATCH_MEAN;
		default: return RED_SUM;
		}
	}
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "sum"))
		return RED_SUM;
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "batch_mean"))
		return RED_BATCH_MEAN;
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "mean"))
		return RED_MEAN;
	die("reduction: expected \"sum\", \"batch_mean\" or \"mean\"");
	return RED_SUM;
}

static int flag(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* The "regularization" object; needs net->B for "divide_by": "batch". */
static void read_regularization(struct net *net, const cJSON *root)
{
	const cJSON *reg = cJSON_GetObjectItemCaseSensitive(root, "regularization");
	net->reg = (struct regularization){ 0, 0, 0, 0, 1.0 };
	if (!reg)
		return;
	const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(reg, "l2");
	const cJSON *l1 = cJSON_GetObjectItemCaseSensitive(reg, "l1");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(reg, "divide_by");
	net->reg.l2 = l2 ? number(l2, "regularization.l2") : 0.0;
	net->reg.l1 = l1 ? number(l1, "regularization.l1") : 0.0;
	net->reg.half = flag(reg, "half");
	net->reg.biases = flag(reg, "biases");
	if (cJSON_IsString(by) && !strcmp(by->valuestring, "batch"))
		net->reg.divide_by = (double)net->B;
	else if (by && !(cJSON_IsString(by) && !strcmp(by->valuestring, "none")))
		net->reg.divide_by = number(by, "regularization.divide_by");
}

static void read_shape(struct net *net, const cJSON *root)
{
	const cJSON *layers = need(root, "layers"), *e;
	int count = cJSON_GetArraySize(layers);
	if (!cJSON_IsArray(layers) || count < 2)
		die("layers: expected at least two sizes");
	net->L = (size_t)count - 1;
	net->n = xcalloc(net->L + 1, sizeof *net->n);
	size_t k = 0;
	cJSON_ArrayForEach(e, layers) {
		double v = number(e, "layers");
		if (v < 1 || v > 1e9 || v != floor(v))
			die("layers: bad size");
		net->n[k++] = (size_t)v;
	}
	net->act = xcalloc(net->L, sizeof *net->act);
	net->alpha = xcalloc(net->L, sizeof *net->alpha);
	const cJSON *acts = need(root, "activations");
	if (cJSON_IsArray(acts)) {
		if ((size_t)cJSON_GetArraySize(acts) != net->L)
			die("activations: expected %zu", net->L);
		k = 0;
		cJSON_ArrayForEach(e, acts) {
			read_activation(e, &net->act[k], &net->alpha[k]);
			k++;
		}
	} else {
		for (k = 0; k < net->L; k++)
			read_activation(acts, &net->act[k], &net->alpha[k]);
	}
	const cJSON *bias = cJSON_GetObjectItemCaseSensitive(root, "bias");
	net->bias = !bias || cJSON_IsTrue(bias);
	const cJSON *layout = cJSON_GetObjectItemCaseSensitive(root, "weight_layout");
	net->in_out = layout && cJSON_IsString(layout) && !strcmp(layout->valuestring, "in_out");
	net->loss = read_loss(need(root, "loss"));
	for (k = 0; k + 1 < net->L; k++)
		if (net->act[k] == ACT_SOFTMAX)
			die("softmax is only for the last layer");
	net->reduction = read_reduction(net->loss, cJSON_GetObjectItemCaseSensitive(root, "reduction"));
}

/* W_k in the case's layout -> (n_out, n_in) row-major. */
static double *read_weight(const cJSON *v, size_t n_out, size_t n_in, int in_out)
{
	size_t count = mul(n_out, n_in);
	double *raw = xcalloc(count, sizeof *raw), *w = xcalloc(count, sizeof *w);
	read_exact(v, raw, count, "params.weights");
	for (size_t i = 0; i < n_out; i++)
		for (size_t j = 0; j < n_in; j++)
			w[i * n_in + j] = in_out ? raw[j * n_out + i] : raw[i * n_in + j];
	free(raw);
	return w;
}

static void read_params(struct net *net, const cJSON *root)
{
	const cJSON *params = need(root, "params");
	const cJSON *ws = need(params, "weights");
	const cJSON *bs = net->bias ? need(params, "biases") : NULL;
	if ((size_t)cJSON_GetArraySize(ws) != net->L || (bs && (size_t)cJSON_GetArraySize(bs) != net->L))
		die("params: expected %zu layers", net->L);
	net->W = xcalloc(net->L, sizeof *net->W);
	net->b = xcalloc(net->L, sizeof *net->b);
	for (size_t k = 0; k < net->L; k++) {
		net->W[k] = read_weight(cJSON_GetArrayItem(ws, (int)k), net->n[k + 1], net->n[k], net->in_out);
		net->b[k] = xcalloc(net->n[k + 1], sizeof *net->b[k]);
		if (bs)
			read_exact(cJSON_GetArrayItem(bs, (int)k), net->b[k], net->n[k + 1], "params.biases");
	}
	net->bias_columns = bs && cJSON_IsArray(cJSON_GetArrayItem(cJSON_GetArrayItem(bs, 0), 0));
}

/* A (cols, rows) matrix, row-major, transposed in place into (rows, cols). */
static void transpose(double *a, size_t rows, size_t cols)
{
	double *copy = xcalloc(mul(rows, cols), sizeof *copy);
	memcpy(copy, a, rows * cols * sizeof *a);
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			a[r * cols + c] = copy[c * rows + r];
	free(copy);
}

/* Class labels as one-hot rows of t (B, m). */
static void read_labels(struct net *net, const cJSON *labels)
{
	size_t m = net->n[net->L], s = 0;
	const cJSON *e;
	if ((size_t)cJSON_GetArraySize(labels) != net->B)
		die("labels: expected %zu", net->B);
	cJSON_ArrayForEach(e, labels) {
		double label = number(e, "labels");
		if (label < 0 || label >= (double)m || label != floor(label))
			die("labels: expected a class in 0..%zu", m - 1);
		net->t[s++ * m + (size_t)label] = 1.0;
	}
}

/* inputs (B, n_0) and targets (B, n_L); "sample_layout": "columns" gives them as
 * (n_0, B) and (n_L, B). */
static void read_data(struct net *net, const cJSON *root)
{
	const cJSON *layout = cJSON_GetObjectItemCaseSensitive(root, "sample_layout");
	int columns = cJSON_IsString(layout) && !strcmp(layout->valuestring, "columns");
	const cJSON *in = need(root, "inputs");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
	const cJSON *first = cJSON_GetArrayItem(in, 0);
	size_t n0 = net->n[0], m = net->n[net->L];
	if (columns)
		net->B = cJSON_IsArray(first) ? (size_t)cJSON_GetArraySize(first) : 1;
	else
		net->B = cJSON_IsArray(first) ? (size_t)cJSON_GetArraySize(in) : 1;
	net->x = xcalloc(mul(net->B, n0), sizeof *net->x);
	net->t = xcalloc(mul(net->B, m), sizeof *net->t);
	read_exact(in, net->x, net->B * n0, "inputs");
	if (labels) {
		read_labels(net, labels);
	} else {
		read_exact(need(root, "targets"), net->t, net->B * m, "targets");
		if (columns)
			transpose(net->t, net->B, m);
	}
	if (columns)
		transpose(net->x, net->B, n0);
}

/* ------------------------------------------------------------ the network */

static double sigmoid(double z)
{
	/* Two branches so that exp never overflows. */
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

static double act_forward(enum act act, double alpha, double z)
{
	switch (act) {
	case ACT_SIGMOID: return sigmoid(z);
	case ACT_TANH: return tanh(z);
	case ACT_RELU: return z > 0 ? z : 0.0;
	case ACT_LEAKY_RELU: return z > 0 ? z : alpha * z;
	case ACT_SOFTPLUS: return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
	case ACT_IDENTITY: case ACT_SOFTMAX: break;
	}
	return z;
}

/* f'(z), given a = f(z). */
static double act_deriv(enum act act, double alpha, double z, double a)
{
	switch (act) {
	case ACT_SIGMOID: return a * (1.0 - a);
	case ACT_TANH: return 1.0 - a * a;
	case ACT_RELU: return z > 0 ? 1.0 : 0.0;
	case ACT_LEAKY_RELU: return z > 0 ? 1.0 : alpha;
	case ACT_SOFTPLUS: return sigmoid(z);
	case ACT_IDENTITY: case ACT_SOFTMAX: break;
	}
	return 1.0;
}

/* a = softmax(z) over the n units of one sample. */
static void softmax(const double *z, double *a, size_t n)
{
	double max = z[0], sum = 0.0;
	for (size_t i = 1; i < n; i++)
		max = z[i] > max ? z[i] : max;
	for (size_t i = 0; i < n; i++) {
		a[i] = exp(z[i] - max);
		sum += a[i];
	}
	for (size_t i = 0; i < n; i++)
		a[i] /= sum;
}

/* z[k] and a[k+1] for k = 0..L-1, each (B, n_{k+1}); a[0] is the input. */
static void forward(const struct net *net, double **z, double **a)
{
	for (size_t k = 0; k < net->L; k++) {
		size_t ni = net->n[k], no = net->n[k + 1];
		for (size_t s = 0; s < net->B; s++) {
			const double *in = a[k] + s * ni;
			double *zs = z[k] + s * no, *as = a[k + 1] + s * no;
			for (size_t i = 0; i < no; i++) {
				double sum = net->b[k][i];
				for (size_t j = 0; j < ni; j++)
					sum += net->W[k][i * ni + j] * in[j];
				zs[i] = sum;
				as[i] = act_forward(net->act[k], net->alpha[k], sum);
			}
			if (net->act[k] == ACT_SOFTMAX)
				softmax(zs, as, no);
		}
	}
}

/* multiclass_hinge for one sample: sum over j != label of max(0, y_j - y_label + 1),
 * its gradient added to dy; the label is where the one-hot t is 1. */
static double multiclass_hinge(const double *y, const double *t, double *dy, size_t m)
{
	size_t label = 0;
	double total = 0.0;
	for (size_t j = 1; j < m; j++)
		if (t[j] > t[label])
			label = j;
	for (size_t j = 0; j < m; j++) {
		double margin = y[j] - y[label] + 1.0;
		if (j != label && margin > 0) {
			total += margin;
			dy[j] += 1.0;
			dy[label] -= 1.0;
		}
	}
	return total;
}

/* The loss's terms summed over every sample and output, their gradient into dy. */
static double loss_terms(const struct net *net, const double *y, double *dy)
{
	size_t m = net->n[net->L], count = net->B * m;
	double total = 0.0;
	if (net->loss == LOSS_MULTICLASS_HINGE) {
		for (size_t s = 0; s < net->B; s++)
			total += multiclass_hinge(y + s * m, net->t + s * m, dy + s * m, m);
		return total;
	}
	for (size_t i = 0; i < count; i++) {
		double p = y[i], t = net->t[i];
		switch (net->loss) {
		case LOSS_SSE: case LOSS_MSE: total += (p - t) * (p - t); dy[i] = 2.0 * (p - t); break;
		case LOSS_HALF_SSE: total += 0.5 * (p - t) * (p - t); dy[i] = p - t; break;
		case LOSS_CE:
			if (t != 0) {
				total -= t * log(p);
				dy[i] = -t / p;
			}
			break;
		case LOSS_BCE:
			total -= t * log(p) + (1.0 - t) * log1p(-p);
			dy[i] = -t / p + (1.0 - t) / (1.0 - p);
			break;
		case LOSS_LOGISTIC: {
			double u = -t * p;      /* log(1 + e^u), computed without overflow */
			total += u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
			dy[i] = -t * sigmoid(u);
			break;
		}
		case LOSS_HINGE:
			if (1.0 - t * p > 0) {
				total += 1.0 - t * p;
				dy[i] = -t;
			}
			break;
		case LOSS_MULTICLASS_HINGE: break;
		}
	}
	return total;
}

/* The loss, and dL/dy into dy (B, m): the terms combined by the case's reduction. */
static double loss_and_grad(const struct net *net, const double *y, double *dy)
{
	size_t m = net->n[net->L], count = net->B * m;
	double divide_by = net->reduction == RED_MEAN ? (double)count
	                 : net->reduction == RED_BATCH_MEAN ? (double)net->B : 1.0;
	double total = loss_terms(net, y, dy);
	for (size_t i = 0; i < count; i++)
		dy[i] /= divide_by;
	return total / divide_by;
}

/* Adds the regularization term of p[0..n) to the loss it returns and its gradient
 * to g. */
static double regularize(const struct regularization *reg, const double *p, double *g, size_t n)
{
	double l2 = reg->half ? 0.5 * reg->l2 : reg->l2, term = 0.0;
	for (size_t i = 0; i < n; i++) {
		double sign = p[i] > 0 ? 1.0 : p[i] < 0 ? -1.0 : 0.0;
		term += l2 * p[i] * p[i] + reg->l1 * fabs(p[i]);
		g[i] += (2.0 * l2 * p[i] + reg->l1 * sign) / reg->divide_by;
	}
	return term / reg->divide_by;
}

/* dL/dz of layer k for sample s, from dL/da; softmax mixes the sample's units. */
static void act_backward(const struct net *net, size_t k, size_t s, double **z, double **a,
                         const double *da, double *dz)
{
	size_t no = net->n[k + 1], at = s * no;
	if (net->act[k] == ACT_SOFTMAX) {
		double dot = 0.0;       /* dz = a * (da - <da, a>) */
		for (size_t i = 0; i < no; i++)
			dot += da[at + i] * a[k + 1][at + i];
		for (size_t i = 0; i < no; i++)
			dz[at + i] = a[k + 1][at + i] * (da[at + i] - dot);
		return;
	}
	for (size_t i = 0; i < no; i++)
		dz[at + i] = da[at + i] * act_deriv(net->act[k], net->alpha[k], z[k][at + i],
		                                    a[k + 1][at + i]);
}

/* Fills dW[k] (n_k, n_{k-1}) and db[k] (n_k); returns the loss. */
static double backward(const struct net *net, double **dW, double **db)
{
	size_t L = net->L, B = net->B;
	double **z = xcalloc(L, sizeof *z), **a = xcalloc(L + 1, sizeof *a);
	a[0] = net->x;
	for (size_t k = 0; k < L; k++) {
		z[k] = xcalloc(mul(B, net->n[k + 1]), sizeof **z);
		a[k + 1] = xcalloc(mul(B, net->n[k + 1]), sizeof **a);
	}
	forward(net, z, a);
	double *da = xcalloc(mul(B, net->n[L]), sizeof *da);
	double loss = loss_and_grad(net, a[L], da);
	for (size_t k = L; k-- > 0;) {
		size_t ni = net->n[k], no = net->n[k + 1];
		double *dz = xcalloc(mul(B, no), sizeof *dz);
		double *da_prev = xcalloc(mul(B, ni), sizeof *da_prev);
		for (size_t s = 0; s < B; s++) {
			act_backward(net, k, s, z, a, da, dz);
			for (size_t i = 0; i < no; i++) {
				size_t at = s * no + i;
				db[k][i] += dz[at];
				for (size_t j = 0; j < ni; j++) {
					dW[k][i * ni + j] += dz[at] * a[k][s * ni + j];
					da_prev[s * ni + j] += net->W[k][i * ni + j] * dz[at];
				}
			}
		}
		free(dz);
		free(da);
		da = da_prev;
	}
	free(da);
	for (size_t k = 0; k < L; k++) {
		free(z[k]);
		free(a[k + 1]);
	}
	free(z);
	free(a);
	for (size_t k = 0; k < L; k++) {
		loss += regularize(&net->reg, net->W[k], dW[k], mul(net->n[k + 1], net->n[k]));
		if (net->reg.biases)
			loss += regularize(&net->reg, net->b[k], db[k], net->n[k + 1]);
	}
	return loss;
}

/* ------------------------------------------------------------ writing */

/* v as [v0, v1] or, as a column, [[v0], [v1]]. */
static void print_vector(const double *v, size_t n, int column)
{
	putchar('[');
	for (size_t i = 0; i < n; i++)
		printf(column ? "%s[%.17g]" : "%s%.17g", i ? ", " : "", v[i]);
	putchar(']');
}

/* dW (n_out, n_in) printed in the case's layout. */
static void print_weight(const double *dw, size_t n_out, size_t n_in, int in_out)
{
	size_t rows = in_out ? n_in : n_out, cols = in_out ? n_out : n_in;
	putchar('[');
	for (size_t r = 0; r < rows; r++) {
		fputs(r ? ", [" : "[", stdout);
		for (size_t c = 0; c < cols; c++) {
			double v = in_out ? dw[c * n_in + r] : dw[r * n_in + c];
			printf("%s%.17g", c ? ", " : "", v);
		}
		putchar(']');
	}
	putchar(']');
}

static void print_gradients(const struct net *net, double loss, double **dW, double **db)
{
	printf("{\"loss\": %.17g, \"gradients\": {\"weights\": [", loss);
	for (size_t k = 0; k < net->L; k++) {
		if (k)
			fputs(", ", stdout);
		print_weight(dW[k], net->n[k + 1], net->n[k], net->in_out);
	}
	putchar(']');
	if (net->bias) {
		fputs(", \"biases\": [", stdout);
		for (size_t k = 0; k < net->L; k++) {
			if (k)
				fputs(", ", stdout);
			print_vector(db[k], net->n[k + 1], net->bias_columns);
		}
		putchar(']');
	}
	puts("}}");
}

static void net_free(struct net *net)
{
	for (size_t k = 0; net->W && k < net->L; k++) {
		free(net->W[k]);
		free(net->b[k]);
	}
	free(net->W);
	free(net->b);
	free(net->n);
	free(net->act);
	free(net->alpha);
	free(net->x);
	free(net->t);
}

int main(void)
{
	char *text = read_all(stdin);
	cJSON *root = cJSON_Parse(text);
	if (!root)
		die("standard input is not JSON (near \"%.20s\")", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
	struct net net = {0};
	read_shape(&net, root);
	read_params(&net, root);
	read_data(&net, root);
	read_regularization(&net, root);

	double **dW = xcalloc(net.L, sizeof *dW), **db = xcalloc(net.L, sizeof *db);
	for (size_t k = 0; k < net.L; k++) {
		dW[k] = xcalloc(mul(net.n[k + 1], net.n[k]), sizeof **dW);
		db[k] = xcalloc(net.n[k + 1], sizeof **db);
	}
	double loss = backward(&net, dW, db);
	print_gradients(&net, loss, dW, db);

	for (size_t k = 0; k < net.L; k++) {
		free(dW[k]);
		free(db[k]);
	}
	free(dW);
	free(db);
	net_free(&net);
	cJSON_Delete(root);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}
