/* test_diagnose.c - planted gradient bugs get the diagnosis a student needs. */
#include "gradcheck.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAXN = 64 };

/* f = 1/2 sum w_i t_i^2, so the true gradient is n_i = w_i t_i (distinct, not symmetric). */
typedef struct fixture {
	size_t n;
	double w[MAXN], t[MAXN], g[MAXN];
} fixture;

static double half_quad(const double *t, void *ctx)
{
	const fixture *fx = ctx;
	double s = 0;
	for (size_t i = 0; i < fx->n; i++)
		s += 0.5 * fx->w[i] * t[i] * t[i];
	return s;
}

static void fixture_init(fixture *fx, size_t n)
{
	fx->n = n;
	for (size_t i = 0; i < n; i++) {
		fx->w[i] = 1 + 0.1 * (double)(i % 5);
		fx->t[i] = (0.3 + 0.17 * (double)i) * (i % 2 ? -1 : 1);
		fx->g[i] = fx->w[i] * fx->t[i];
	}
}

/* Checks fx (its planted g) over the tensors; batch and outputs name factors. */
static gc_result *run(fixture *fx, const gc_tensor *ts, size_t nt, size_t batch,
                      size_t outputs)
{
	gc_problem p = { .n = fx->n, .theta = fx->t, .grad = fx->g, .loss = 1,
	                 .f = half_quad, .ctx = fx, .tensors = ts, .n_tensors = nt,
	                 .batch = batch, .outputs = outputs };
	gc_options o;
	gc_options_init(&o);
	o.jobs = 2;
	gc_result *r = NULL;
	ck_assert_int_eq(gc_check(&p, &o, &r), GC_OK);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* A two-layer net's slices: W1 (2x3), b1 (2), W2 (1x2), b2 (1). */
static const gc_tensor two[4] = {
	{ "W1", 0, 2, 3, 1, 0 }, { "b1", 6, 2, 1, 1, 0 }, { "W2", 8, 1, 2, 2, 0 }, { "b2", 10, 1, 1, 2, 0 }
};

/* A three-layer net: W1 (3x2), b1 (3), W2 (2x3), b2 (2), W3 (1x2), b3 (1). */
static const gc_tensor three[6] = {
	{ "W1", 0, 3, 2, 1, 0 }, { "b1", 6, 3, 1, 1, 0 }, { "W2", 9, 2, 3, 2, 0 },
	{ "b2", 15, 2, 1, 2, 0 }, { "W3", 17, 1, 2, 3, 0 }, { "b3", 19, 1, 1, 3, 0 }
};

static void scale_slice(fixture *fx, const gc_tensor *t, double k)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		fx->g[t->offset + i] *= k;
}

/* Adds an offset that follows no pattern. */
static void garble_slice(fixture *fx, const gc_tensor *t)
{
	static const double junk[] = { 0.3, -0.7, 0.11, 0.5, -0.05, 0.9 };
	for (size_t i = 0; i < t->rows * t->cols; i++)
		fx->g[t->offset + i] += junk[i % 6];
}

START_TEST(test_kind_names)
{
	ck_assert_str_eq(gc_diag_kind_name(GC_DIAG_SCALE), "scale");
	ck_assert_str_eq(gc_diag_kind_name(GC_DIAG_SIGN), "sign");
	ck_assert_str_eq(gc_diag_kind_name(GC_DIAG_ZERO), "zero");
	ck_assert_str_eq(gc_diag_kind_name(GC_DIAG_TRANSPOSE), "transpose");
	ck_assert_str_eq(gc_diag_kind_name(GC_DIAG_ENTRY_LAYER), "entry_layer");
	ck_assert_int_eq(gc_diagnose(NULL, 0, 0), GC_EINVAL);
}
END_TEST

START_TEST(test_doubled)
{
	fixture fx;
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[2], 2);
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[2].failed, 2);
	ck_assert_uint_eq(r->n_diagnoses, 1);      /* layer 2 only: no entry layer */
	const gc_diagnosis *d = &r->diagnoses[0];
	ck_assert_int_eq(d->kind, GC_DIAG_SCALE);
	ck_assert_str_eq(d->tensor, "W2");
	ck_assert_int_eq(d->layer, 2);
	ck_assert_double_eq_tol(d->factor, 2, 1e-6);
	ck_assert_str_eq(d->detail, "W2 is 2 \xc3\x97 the true gradient (2)");
	gc_result_free(r);
}
END_TEST

START_TEST(test_halved_and_unknown_factor)
{
	fixture fx;
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[2], 0.5);
	gc_result *r = run(&fx, two, 4, 4, 1);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_SCALE);
	ck_assert_double_eq_tol(r->diagnoses[0].factor, 0.5, 1e-6);
	ck_assert_str_eq(r->diagnoses[0].detail, "W2 is 0.5 \xc3\x97 the true gradient (1/2)");
	gc_result_free(r);

	fixture_init(&fx, 11);
	scale_slice(&fx, &two[2], 1.37);
	r = run(&fx, two, 4, 4, 3);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_SCALE);
	ck_assert_double_eq_tol(r->diagnoses[0].factor, 1.37, 1e-6);
	ck_assert_str_eq(r->diagnoses[0].detail, "W2 is 1.37 \xc3\x97 the true gradient");
	gc_result_free(r);

	/* close to 1: enough digits to tell it from 1 (issue 18: "b1 is 1 x the true
	 * gradient" was printed for 1.001) */
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[1], 1.001);
	r = run(&fx, two, 4, 4, 3);
	ck_assert_uint_ge(r->n_diagnoses, 1);   /* and the entry layer */
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_SCALE);
	ck_assert_str_eq(r->diagnoses[0].detail, "b1 is 1.001 \xc3\x97 the true gradient");
	gc_result_free(r);
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[1], -0.9997);
	r = run(&fx, two, 4, 4, 3);
	ck_assert_uint_ge(r->n_diagnoses, 1);
	ck_assert_str_eq(r->diagnoses[0].detail, "b1 is -0.9997 \xc3\x97 the true gradient");
	gc_result_free(r);
}
END_TEST

START_TEST(test_one_over_batch)
{
	fixture fx;
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[0], 0.25);
	gc_result *r = run(&fx, two, 4, 4, 1);
	/* b1 passes, so the error does not enter at layer 1: the factor alone */
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_SCALE);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_str_eq(r->diagnoses[0].detail, "W1 is 0.25 \xc3\x97 the true gradient "
	                 "(1/batch: divided by the batch size once too often?)");
	gc_result_free(r);

	/* batch and outputs unknown: 0.25 is only a number */
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[0], 0.25);
	r = run(&fx, two, 4, 0, 0);
	ck_assert_str_eq(r->diagnoses[0].detail, "W1 is 0.25 \xc3\x97 the true gradient");
	gc_result_free(r);

	/* 1/outputs */
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[2], 1.0 / 3);
	r = run(&fx, two, 4, 1, 3);
	ck_assert_str_eq(r->diagnoses[0].detail, "W2 is 0.333 \xc3\x97 the true gradient "
	                 "(1/outputs: divided by the number of outputs once too often?)");
	gc_result_free(r);
}
END_TEST

START_TEST(test_sign_flip)
{
	fixture fx;
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[1], -1);
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[1].failed, 2);
	ck_assert_uint_ge(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_SIGN);
	ck_assert_str_eq(r->diagnoses[0].tensor, "b1");
	ck_assert(r->diagnoses[0].factor == 0);
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "b1 has the wrong sign"));
	gc_result_free(r);
}
END_TEST

START_TEST(test_zero)
{
	fixture fx;
	fixture_init(&fx, 11);
	scale_slice(&fx, &two[0], 0);
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[0].failed, 6);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_ZERO);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "W1's gradient is all zero"));
	gc_result_free(r);
}
END_TEST

START_TEST(test_square_transpose)
{
	gc_tensor ts[2] = { { "W1", 0, 3, 3, 1, 0 }, { "b1", 9, 3, 1, 1, 0 } };
	fixture fx;
	fixture_init(&fx, 12);
	double nt[9];
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 3; c++)
			nt[c * 3 + r] = fx.g[r * 3 + c];
	memcpy(fx.g, nt, sizeof nt);
	/* by hand: g[1] is now the true n[3] = w3 t3 = 1.3 * -0.81 */
	ck_assert_double_eq_tol(fx.g[1], -1.053, 1e-14);
	gc_result *r = run(&fx, ts, 2, 0, 0);
	ck_assert_uint_eq(r->tensors[0].failed, 6);     /* the diagonal is right */
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_TRANSPOSE);
	ck_assert_str_eq(r->diagnoses[0].detail, "W1 is transposed: the gradient has the "
	                 "other layout's [row,col] order; every layer of this network is "
	                 "square, so check that the case's \"weight_layout\" (out_in: "
	                 "W[out][in], in_out: W[in][out]) is the one your code uses");
	gc_result_free(r);
}
END_TEST

START_TEST(test_nonsquare_transpose)
{
	/* W2 stored as 2x3 but the gradient was written as the 3x2 transpose, row-major */
	fixture fx;
	fixture_init(&fx, 20);
	const gc_tensor *w2 = &three[2];
	double nt[6];
	for (size_t r = 0; r < 2; r++)
		for (size_t c = 0; c < 3; c++)
			nt[c * 2 + r] = fx.g[w2->offset + r * 3 + c];
	memcpy(fx.g + w2->offset, nt, sizeof nt);
	gc_result *r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_ge(r->tensors[2].failed, 2);
	ck_assert_uint_eq(r->n_diagnoses, 1);   /* layer 2 alone is wrong: no entry layer */
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_TRANSPOSE);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W2");
	ck_assert_int_eq(r->diagnoses[0].layer, 2);
	gc_result_free(r);
}
END_TEST

START_TEST(test_one_element_off)
{
	fixture fx;
	fixture_init(&fx, 11);
	fx.g[9] *= 3;       /* W2[0,1] */
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[2].failed, 1);
	ck_assert_uint_eq(r->tensors[2].worst[0].index, 9);
	ck_assert_uint_eq(r->n_diagnoses, 0);
	gc_result_free(r);

	/* a 1x1 tensor doubled is one failing element: reported by index, no "scale" */
	fixture_init(&fx, 11);
	fx.g[10] *= 2;      /* b2 */
	r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[3].failed, 1);
	ck_assert_uint_eq(r->tensors[3].worst[0].index, 10);
	ck_assert_uint_eq(r->n_diagnoses, 0);
	gc_result_free(r);

	/* two elements off by unrelated amounts: no pattern in W2, but b2 passes, so
	 * delta_2 is right and the product is what is wrong */
	fixture_init(&fx, 11);
	fx.g[8] *= 3;
	fx.g[9] *= 1.5;
	r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[2].failed, 2);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_WEIGHT_PRODUCT);
	gc_result_free(r);
}
END_TEST

START_TEST(test_entry_layer)
{
	fixture fx;
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[0]);
	garble_slice(&fx, &three[1]);
	garble_slice(&fx, &three[2]);
	garble_slice(&fx, &three[3]);
	gc_result *r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_gt(r->tensors[0].failed, 1);
	ck_assert_uint_eq(r->tensors[4].failed, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	const gc_diagnosis *d = &r->diagnoses[0];
	ck_assert_int_eq(d->kind, GC_DIAG_ENTRY_LAYER);
	ck_assert_int_eq(d->layer, 2);
	ck_assert_str_eq(d->tensor, "W2");      /* the first tensor of layer 2 */
	ck_assert_str_eq(d->detail, "the error enters when propagating into layer 2: "
	                 "layer 3 is right; check layer 2's activation derivative or the "
	                 "product with W3\xe1\xb5\x80");
	gc_result_free(r);

	/* only layer 1 wrong */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[0]);
	garble_slice(&fx, &three[1]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].layer, 1);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_str_eq(r->diagnoses[0].detail, "the error enters when propagating into "
	                 "layer 1: layers 2..3 are right; check layer 1's activation "
	                 "derivative or the product with W2\xe1\xb5\x80");
	gc_result_free(r);

	/* layers 1 and 3 wrong, 2 right: no single entry point */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[0]);
	garble_slice(&fx, &three[1]);
	garble_slice(&fx, &three[4]);
	garble_slice(&fx, &three[5]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 0);
	gc_result_free(r);

	/* b1 alone wrong: W1 passes, so delta_1 is not what is wrong; nothing to name */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[1]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 0);
	gc_result_free(r);

	/* W1 and b2 wrong, b1 and W2 right: once blamed on "layer 2"; now W1's product
	 * with the inputs, and nothing about layer 2 (b2 alone, W2 passes) */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[0]);
	garble_slice(&fx, &three[3]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_WEIGHT_PRODUCT);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_str_eq(r->diagnoses[0].detail, "b1 passes, so \xce\xb4" "1 (the gradient at "
	                 "layer 1's pre-activations) is right; W1 = \xce\xb4" "1 \xc3\x97 the inputs "
	                 "is wrong: check the product with the inputs (its transpose, its sum "
	                 "over the samples, which array is used)");
	gc_result_free(r);

	/* W2 alone wrong: the product with a1 */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[2]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_WEIGHT_PRODUCT);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W2");
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "product with the layer's input a1"));
	gc_result_free(r);

	/* every weight wrong, every bias right: three weight products, no entry layer */
	fixture_init(&fx, 20);
	garble_slice(&fx, &three[0]);
	garble_slice(&fx, &three[2]);
	garble_slice(&fx, &three[4]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 3);
	for (size_t d = 0; d < 3; d++)
		ck_assert_int_eq(r->diagnoses[d].kind, GC_DIAG_WEIGHT_PRODUCT);
	gc_result_free(r);

	/* every tensor wrong: the error enters at the output */
	fixture_init(&fx, 20);
	for (size_t t = 0; t < 6; t++)
		garble_slice(&fx, &three[t]);
	r = run(&fx, three, 6, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_ENTRY_LAYER);
	ck_assert_int_eq(r->diagnoses[0].layer, 3);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W3");
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "the loss derivative"));
	gc_result_free(r);
}
END_TEST

/* The tensor of r named name (it must exist). */
static const gc_tensor_result *named(const gc_result *r, const char *name)
{
	for (size_t t = 0; t < r->n_tensors; t++)
		if (strcmp(r->tensors[t].tensor.name, name) == 0)
			return &r->tensors[t];
	ck_abort_msg("no tensor %s", name);
	return NULL;
}

/* Every set of broken tensors of the three-layer net, broken in four ways (garbled,
 * doubled, negated, zeroed): no diagnosis names a tensor that passes, entry_layer k
 * only when every tensor at and below layer k fails and every one above passes, and
 * weight_product only when W_k fails and b_k passes. */
START_TEST(test_never_blames_what_passes)
{
	for (unsigned how = 0; how < 4; how++) {
		for (unsigned broken = 1; broken < 64; broken++) {
			fixture fx;
			fixture_init(&fx, 20);
			for (size_t t = 0; t < 6; t++) {
				if (!(broken >> t & 1))
					continue;
				if (how == 0)
					garble_slice(&fx, &three[t]);
				else
					scale_slice(&fx, &three[t], how == 1 ? 2 : how == 2 ? -1 : 0);
			}
			gc_result *r = run(&fx, three, 6, 0, 0);
			for (size_t t = 0; t < 6; t++)
				ck_assert_msg((r->tensors[t].failed > 0) == (broken >> t & 1),
				              "how %u, broken %02x: %s", how, broken, three[t].name);
			for (size_t k = 0; k < r->n_diagnoses; k++) {
				const gc_diagnosis *d = &r->diagnoses[k];
				if (strcmp(d->tensor, "all") == 0) {    /* loss_scale */
					ck_assert_uint_eq(broken, 63);
					continue;
				}
				const gc_tensor_result *tr = named(r, d->tensor);
				ck_assert_msg(tr->failed > 0, "how %u, broken %02x: %s names %s, which "
				              "passes", how, broken, gc_diag_kind_name(d->kind), d->tensor);
				for (size_t t = 0; d->kind == GC_DIAG_ENTRY_LAYER && t < 6; t++)
					ck_assert_msg((r->tensors[t].failed > 0) == (three[t].layer <= d->layer),
					              "how %u, broken %02x: entry_layer %d, %s", how, broken,
					              d->layer, three[t].name);
				if (d->kind == GC_DIAG_WEIGHT_PRODUCT) {
					char bias[32];
					snprintf(bias, sizeof bias, "b%s", d->tensor + 1);
					ck_assert_uint_eq(named(r, bias)->failed, 0);
				}
			}
			gc_result_free(r);
		}
	}
}
END_TEST

/* The gradient of a regularization term off by c theta: a - n = c theta. */
START_TEST(test_regularization)
{
	fixture fx;
	fixture_init(&fx, 11);
	for (size_t i = 0; i < 6; i++)         /* W1: the true gradient + 0.05 W1 */
		fx.g[i] += 0.05 * fx.t[i];
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[0].failed, 6);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_REGULARIZATION);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_double_eq_tol(r->diagnoses[0].factor, 0.05, 1e-8);
	ck_assert_str_eq(gc_diag_kind_name(r->diagnoses[0].kind), "regularization");
	gc_result_free(r);

	/* without theta (a merged result) the pattern cannot be seen */
	fixture_init(&fx, 11);
	for (size_t i = 0; i < 6; i++)
		fx.g[i] += 0.05 * fx.t[i];
	r = run(&fx, two, 4, 0, 0);
	free(r->theta);
	r->theta = NULL;
	ck_assert_int_eq(gc_diagnose(r, 0, 0), GC_OK);
	for (size_t d = 0; d < r->n_diagnoses; d++)
		ck_assert_int_ne(r->diagnoses[d].kind, GC_DIAG_REGULARIZATION);
	gc_result_free(r);
}
END_TEST

/* An L1 term's gradient off by c sign(theta): a regularization diagnosis marked l1,
 * and no layer diagnosis (b1 passes, but W1's product with the input is not wrong). */
START_TEST(test_l1_regularization)
{
	fixture fx;
	fixture_init(&fx, 11);
	for (size_t i = 0; i < 6; i++)         /* W1: the true gradient + 0.05 sign(W1) */
		fx.g[i] += fx.t[i] > 0 ? 0.05 : -0.05;
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->tensors[0].failed, 6);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_REGULARIZATION);
	ck_assert_int_eq(r->diagnoses[0].l1, 1);
	ck_assert_str_eq(r->diagnoses[0].tensor, "W1");
	ck_assert_double_eq_tol(r->diagnoses[0].factor, 0.05, 1e-8);
	gc_result_free(r);

	/* an L2 offset is not taken for an L1 one */
	fixture_init(&fx, 11);
	for (size_t i = 0; i < 6; i++)
		fx.g[i] += 0.05 * fx.t[i];
	r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].l1, 0);
	gc_result_free(r);
}
END_TEST

/* Every tensor the same factor: one loss_scale diagnosis instead of one per tensor
 * and an "error enters at the output". */
START_TEST(test_loss_scale)
{
	fixture fx;
	fixture_init(&fx, 11);
	for (size_t t = 0; t < 4; t++)
		scale_slice(&fx, &two[t], 3);
	gc_result *r = run(&fx, two, 4, 4, 3);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_LOSS_SCALE);
	ck_assert_str_eq(gc_diag_kind_name(r->diagnoses[0].kind), "loss_scale");
	ck_assert_double_eq_tol(r->diagnoses[0].factor, 3, 1e-6);
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "(outputs: multiplied by the "
	                             "number of outputs"));
	gc_result_free(r);

	/* different factors: per tensor, not one loss scale */
	fixture_init(&fx, 11);
	for (size_t t = 0; t < 4; t++)
		scale_slice(&fx, &two[t], t == 3 ? 2 : 3);
	r = run(&fx, two, 4, 4, 3);
	for (size_t d = 0; d < r->n_diagnoses; d++)
		ck_assert_int_ne(r->diagnoses[d].kind, GC_DIAG_LOSS_SCALE);
	gc_result_free(r);
}
END_TEST

/* Failures as small as float32 rounding: a precision hint; one element 1e-2 off: none. */
START_TEST(test_precision)
{
	fixture fx;
	fixture_init(&fx, 11);
	for (size_t i = 0; i < 11; i++)
		fx.g[i] = (double)(float)fx.g[i] + (i % 2 ? 3e-6 : -2e-6);
	gc_result *r = run(&fx, two, 4, 0, 0);
	ck_assert_uint_gt(r->failed, 1);
	ck_assert_uint_eq(r->n_diagnoses, 1);
	ck_assert_int_eq(r->diagnoses[0].kind, GC_DIAG_PRECISION);
	ck_assert_str_eq(gc_diag_kind_name(r->diagnoses[0].kind), "precision");
	ck_assert_ptr_nonnull(strstr(r->diagnoses[0].detail, "--precision single"));
	gc_result_free(r);

	fixture_init(&fx, 11);
	fx.g[2] *= 1.01;
	fx.g[4] *= 1.01;
	r = run(&fx, two, 4, 0, 0);
	for (size_t d = 0; d < r->n_diagnoses; d++)
		ck_assert_int_ne(r->diagnoses[d].kind, GC_DIAG_PRECISION);
	gc_result_free(r);
}
END_TEST

/* ---- results built by hand ---------------------------------------------------------- */

static void set_elem(gc_element *e, size_t i, double a, double n, gc_verdict v)
{
	memset(e, 0, sizeof *e);
	e->index = i;
	e->analytic = a;
	e->numeric = n;
	e->abs_err = fabs(a - n);
	e->rel_err = e->abs_err / fmax(fabs(a), fabs(n));
	e->verdict = v;
}

START_TEST(test_hand_built)
{
	/* W (2x2, layer 1): doubled, except a kink with a wild value and a skipped one */
	gc_element el[5];
	set_elem(&el[0], 0, 2.0, 1.0, GC_ELEM_FAIL);
	set_elem(&el[1], 1, -6.0 * (1 + 5e-6), -3.0, GC_ELEM_FAIL);  /* noise beyond rtol */
	set_elem(&el[2], 2, 100.0, 0.5, GC_ELEM_KINK);
	set_elem(&el[3], 3, 0.0, 0.0, GC_ELEM_SKIPPED);
	set_elem(&el[4], 4, 1.0, 1.0, GC_ELEM_PASS);
	gc_tensor_result tr[2];
	memset(tr, 0, sizeof tr);
	tr[0].tensor = (gc_tensor){ "Wa", 0, 2, 2, 1, 0 };
	tr[0].checked = 3;
	tr[0].failed = 2;
	tr[0].kinks = 1;
	tr[1].tensor = (gc_tensor){ "ba", 4, 1, 1, 2, 0 };
	tr[1].checked = 1;
	gc_result r = { .n = 5, .elements = el, .tensors = tr, .n_tensors = 2,
	                .checked = 4, .failed = 2, .kinks = 1, .atol_used = 1e-9,
	                .rtol_used = 1e-6 };
	ck_assert_int_eq(gc_diagnose(&r, 2, 1), GC_OK);
	ck_assert_uint_eq(r.n_diagnoses, 2);
	ck_assert_int_eq(r.diagnoses[0].kind, GC_DIAG_SCALE);
	ck_assert_double_eq_tol(r.diagnoses[0].factor, 2.000009, 1e-12);   /* (2 + 3 * 6.00003) / 10 */
	ck_assert_str_eq(r.diagnoses[0].detail, "Wa is 2 \xc3\x97 the true gradient (batch: "
	                 "multiplied by the batch size; is the loss's 1/batch missing from "
	                 "the gradient?)");
	ck_assert_int_eq(r.diagnoses[1].kind, GC_DIAG_ENTRY_LAYER);
	/* no weight in layer 2: the hint names its first tensor */
	ck_assert_ptr_nonnull(strstr(r.diagnoses[1].detail, "product with ba\xe1\xb5\x80"));

	/* recomputing replaces the old diagnoses; a NaN blocks the pattern */
	set_elem(&el[1], 1, NAN, -3.0, GC_ELEM_FAIL);
	ck_assert_int_eq(gc_diagnose(&r, 2, 1), GC_OK);
	ck_assert_uint_eq(r.n_diagnoses, 1);
	ck_assert_int_eq(r.diagnoses[0].kind, GC_DIAG_ENTRY_LAYER);

	/* fast mode: no elements, so only the entry layer can be named */
	r.elements = NULL;
	ck_assert_int_eq(gc_diagnose(&r, 0, 0), GC_OK);
	ck_assert_uint_eq(r.n_diagnoses, 1);
	ck_assert_int_eq(r.diagnoses[0].kind, GC_DIAG_ENTRY_LAYER);
	ck_assert_int_eq(r.diagnoses[0].layer, 1);
	ck_assert_str_eq(r.diagnoses[0].tensor, "Wa");

	tr[0].failed = 0;
	ck_assert_int_eq(gc_diagnose(&r, 0, 0), GC_OK);
	ck_assert_uint_eq(r.n_diagnoses, 0);
	ck_assert_ptr_null(r.diagnoses);

	/* a slice outside the elements */
	r.elements = el;
	tr[1].tensor.rows = 2;
	ck_assert_int_eq(gc_diagnose(&r, 0, 0), GC_EINVAL);
}
END_TEST

Suite *diagnose_suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("patterns");
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_doubled);
	tcase_add_test(tc, test_halved_and_unknown_factor);
	tcase_add_test(tc, test_one_over_batch);
	tcase_add_test(tc, test_sign_flip);
	tcase_add_test(tc, test_zero);
	tcase_add_test(tc, test_square_transpose);
	tcase_add_test(tc, test_nonsquare_transpose);
	tcase_add_test(tc, test_one_element_off);
	tcase_add_test(tc, test_entry_layer);
	tcase_add_test(tc, test_regularization);
	tcase_add_test(tc, test_l1_regularization);
	tcase_add_test(tc, test_loss_scale);
	tcase_add_test(tc, test_precision);
	tcase_add_test(tc, test_hand_built);
	tcase_add_test(tc, test_never_blames_what_passes);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(diagnose_suite)
