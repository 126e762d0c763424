/* test_net.c - the MLP harness against the seed notebooks' printed numbers, numpy,
 * central finite differences, and plain full forward passes. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "net.h"

/* ---- building cases by hand ------------------------------------------------- */

typedef struct net_spec {
	size_t L;
	size_t sizes[8];
	gc_act_kind act[7];
	gc_layout layout;
	int bias;
	gc_loss_kind loss;
	size_t batch;
} net_spec;

static gc_case *make_case(const net_spec *s)
{
	gc_case *c = calloc(1, sizeof *c);
	size_t n = 0;

	ck_assert_ptr_nonnull(c);
	c->n_layers = s->L;
	c->sizes = calloc(s->L + 1, sizeof *c->sizes);
	c->act = calloc(s->L, sizeof *c->act);
	ck_assert_ptr_nonnull(c->sizes);
	ck_assert_ptr_nonnull(c->act);
	memcpy(c->sizes, s->sizes, (s->L + 1) * sizeof *c->sizes);
	for (size_t k = 0; k < s->L; k++) {
		c->act[k].kind = s->act[k];
		c->act[k].alpha = 0.2;
		n += s->sizes[k] * s->sizes[k + 1] + (s->bias ? s->sizes[k + 1] : 0);
	}
	c->bias = s->bias;
	c->layout = s->layout;
	c->loss = s->loss;
	c->n_params = n;
	c->theta = calloc(n, sizeof *c->theta);
	c->batch = s->batch;
	c->inputs = calloc(s->batch * s->sizes[0], sizeof *c->inputs);
	c->targets = calloc(s->batch * s->sizes[s->L], sizeof *c->targets);
	ck_assert_ptr_nonnull(c->theta);
	ck_assert_ptr_nonnull(c->inputs);
	ck_assert_ptr_nonnull(c->targets);
	return c;
}

static void free_case(gc_case *c)
{
	if (!c)
		return;
	free(c->sizes);
	free(c->act);
	free(c->theta);
	free(c->inputs);
	free(c->targets);
	free(c);
}

/* xorshift64*: uniform numbers in (-1, 1) for test data. */
static double uniform(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (double)((*state * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* Random parameters and inputs, and targets valid for the loss (not one-hot for
 * cross_entropy: rows of positive numbers with any sum). */
static void fill_random(gc_case *c, uint64_t seed)
{
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t nt = c->batch * c->sizes[c->n_layers];

	for (size_t i = 0; i < c->n_params; i++)
		c->theta[i] = uniform(&st);
	for (size_t i = 0; i < c->batch * c->sizes[0]; i++)
		c->inputs[i] = uniform(&st);
	for (size_t i = 0; i < nt; i++) {
		double r = uniform(&st);
		switch (c->loss) {
		case GC_LOSS_CROSS_ENTROPY:
		case GC_LOSS_BINARY_CROSS_ENTROPY:
			c->targets[i] = 0.5 * (r + 1.0);
			break;
		case GC_LOSS_LOGISTIC:
			c->targets[i] = r > 0 ? 1.0 : -1.0;
			break;
		default:
			c->targets[i] = r;
		}
	}
}

static gc_net *make_net(const gc_case *c, unsigned workers)
{
	gc_net *net = NULL;

	ck_assert_int_eq(gc_net_create(c, workers, &net), GC_OK);
	ck_assert_ptr_nonnull(net);
	return net;
}

static double *gradient_of(const gc_net *net, const gc_case *c, double *loss)
{
	double *g = malloc(c->n_params * sizeof *g);

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(gc_net_gradient(net, loss, g), GC_OK);
	return g;
}

static void assert_close(double got, double want, double tol, const char *what, size_t i)
{
	ck_assert_msg(fabs(got - want) <= tol, "%s[%zu]: got %.17g, want %.17g (tol %g)",
	              what, i, got, want, tol);
}

/* ---- seeds ------------------------------------------------------------------ */

/* Seed 003: [2,2,1], sigmoid, in_out, bias, half_sse, printed to 6 decimals. */
START_TEST(test_seed003)
{
	net_spec s = { 2, {2, 2, 1}, {GC_ACT_SIGMOID, GC_ACT_SIGMOID}, GC_LAYOUT_IN_OUT, 1,
	               GC_LOSS_HALF_SSE, 1 };
	gc_case *c = make_case(&s);
	const double theta[] = {0.15, 0.2, 0.24, 0.3, 1, 1, -0.4, 0.5, 1};
	/* dW1 (in_out, 2x2), db1, dW2, db2 */
	const double want[] = {0.001093, -0.001345, 0.000219, -0.000269, 0.002186, -0.00269,
	                       -0.021869, -0.022037, -0.029155};
	double out, loss;

	ck_assert_uint_eq(c->n_params, 9);
	memcpy(c->theta, theta, sizeof theta);
	c->inputs[0] = 0.5;
	c->inputs[1] = 0.1;
	c->targets[0] = 0.9;
	gc_net *net = make_net(c, 1);
	assert_close(gc_net_loss_at(net, c->theta, &out), 0.011843, 5e-7, "loss", 0);
	assert_close(out, 0.746095, 5e-7, "output", 0);
	double *g = gradient_of(net, c, &loss);
	assert_close(loss, 0.011843, 5e-7, "loss", 0);
	for (size_t i = 0; i < 9; i++)
		assert_close(g[i], want[i], 5e-7 + 1e-12, "grad", i);
	free(g);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* Seed 000: [4,5,1], sigmoid, no bias, in_out, half_sse, all-ones weights. */
START_TEST(test_seed000)
{
	net_spec s = { 2, {4, 5, 1}, {GC_ACT_SIGMOID, GC_ACT_SIGMOID}, GC_LAYOUT_IN_OUT, 0,
	               GC_LOSS_HALF_SSE, 1 };
	gc_case *c = make_case(&s);
	const double row[4] = {-1.06113639e-05, -2.12227277e-05, -3.18340916e-05, -4.24454555e-05};
	double out, loss;

	ck_assert_uint_eq(c->n_params, 25);
	for (size_t i = 0; i < 25; i++)
		c->theta[i] = 1.0;
	for (size_t i = 0; i < 4; i++)
		c->inputs[i] = 0.01 * (double)(i + 1);
	c->targets[0] = 1.0;
	gc_net *net = make_net(c, 1);
	gc_net_loss_at(net, c->theta, &out);
	assert_close(out, 0.93244675427215695, 1e-15, "output", 0);
	double *g = gradient_of(net, c, &loss);
	for (size_t r = 0; r < 4; r++)
		for (size_t u = 0; u < 5; u++)
			assert_close(g[r * 5 + u], row[r], 1e-8 * fabs(row[r]), "dW1", r * 5 + u);
	for (size_t u = 0; u < 5; u++)
		assert_close(g[20 + u], -0.00223387, 5e-9, "dW2", u);
	free(g);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* Seed 004: [1,6,6,6,6,6,1], relu x5, identity, out_in, bias, sse; parameters from
 * numpy np.random.seed(0) in the notebook's order, laid out W1, b1, ..., W6, b6. */
static const double seed004_theta[187] = {
	1.764052345967664, 0.40015720836722329, 0.9787379841057392, 2.2408931992014578,
	1.8675579901499675, -0.97727787987641102, 0.76103772514699342, 0.12167501649282841,
	0.44386323274542566, 0.33367432737426683, 1.4940790731576061, -0.20515826376580087,
	-0.85409573930172478, -2.5529898158340787, 0.65361859544036061, 0.86443619885950573,
	-0.74216502040644194, 2.2697546239876076, -1.4543656745987648, 0.045758517301446068,
	-0.1871838500258336, 1.5327792143584575, 1.469358769900285, 0.1549474256969163,
	0.37816251960217356, -0.88778574763011275, -1.980796468223927, -0.34791214932615261,
	0.15634896910398005, 1.2302906807277207, 1.2023798487844113, -0.38732681740795227,
	-0.30230275057533557, -1.0485529650670926, -1.4200179371789752, -1.7062701906250126,
	1.9507753952317897, -0.5096521817516535, -0.43807430161118638, -1.2527953600499262,
	0.77749035583191006, -1.6138978475579515, -0.21274028021396871, -0.89546656119367563,
	0.38690249785926201, -0.51080513756887302, -1.1806321841224121, -0.028182228338654868,
	0.42833187053041766, 0.066517222383167887, 0.30247189773978139, -0.63432209368096359,
	-0.36274116598713813, -0.67246044777595104, -0.35955316154054129, -0.81314628204445405,
	-1.7262826023316769, 0.17742614225375283, -0.40178093620826189, -1.6301983469660446,
	0.46278225552577418, -0.90729836438324218, 0.051945395796138952, 0.72909056217753687,
	0.12898291075741067, 1.1394006845433007, -1.2348258203536526, 0.402341641177549,
	-0.6848100909403132, -0.87079714918188178, -0.57884966476441546, -0.31155253212737266,
	0.056165342229745438, -1.1651498407833565, 0.9008264869541871, 0.46566243973045984,
	-1.5362436862772237, 1.4882521937955997, 1.8958891760305832, 1.1787795711596507,
	-0.17992483581235091, -1.0707526215105425, 1.0544517269311366, -0.40317694697317963,
	1.2224450703824274, 0.2082749780768603, 0.97663903648371275, 0.35636639717440188,
	0.70657316819194815, 0.010500020720820478, 1.7858704939058352, 0.12691209270361992,
	0.40198936344470165, 1.8831506970562544, -1.3477590611424464, -1.2704849984857336,
	0.96939670815801116, -1.1731234051141599, 1.9436211856492926, -0.41361898075974735,
	-0.74745481144075776, 1.9229420264803847, 1.4805147914344243, 1.8675589604265699,
	0.90604465827538527, -0.86122568505470254, 1.9100649530990337, -0.26800337095138038,
	0.80245639579639516, 0.94725196777374798, -0.15501009309083419, 0.61407937034608029,
	0.9222066715665268, 0.37642553115562943, -1.0994007905841945, 0.29823817420605597,
	1.3263858966870303, -0.69456785973136548, -0.14963454032767076, -0.43515355172163744,
	1.8492637284793418, 0.67229475701243546, 0.40746183624111043, -0.7699160744453164,
	0.53924919129181725, -0.67433266065737607, 0.031830558274351183, -0.63584607837888096,
	0.67643329494649973, 0.57659081661494094, -0.20829875557799488, 0.39600671266164528,
	-1.0930615087305058, -1.4912575927056055, 0.43939170126453692, 0.16667349537252904,
	0.63503143689210639, 2.3831447748639421, 0.94447948699041384, -0.91282222544415859,
	1.117016288095853, -1.3159074105115212, -0.46158460481470898, -0.068241605324631235,
	1.7133427216493666, -0.7447548220484399, -0.8264385386590144, -0.0984525244254323,
	-0.66347828636210737, 1.126635922106507, -1.0799315083634233, -1.1474686524111024,
	-0.43782004474443403, -0.4980324506923049, 1.9295320538169858, 0.94942080692576081,
	0.087551241385190895, -1.225435518830168, 0.84436297640154712, -1.0002153473895647,
	-1.5447710967776116, 1.1880297923523018, 0.31694261192484963, 0.92085882378081896,
	0.31872765294302119, 0.85683061190269116, -0.65102559330014687, -1.0342428417844647,
	0.68159451828162698, -0.80340966417384108, -0.68954977775020054, -0.45553250351734315,
	0.017479159025056729, -0.35399391125348395, -1.3749512934180188, -0.64361840283289051,
	-2.2234031522244266, 0.62523145102718747, -1.6020576556067476, -1.1043833394284506,
	0.95008841752558937, -0.15135720829769789, -0.10321885179355784, 0.41059850193837233,
	0.14404357116087799, 1.4542735069629751, 0.31306770165090136
};

START_TEST(test_seed004)
{
	net_spec s = { 6, {1, 6, 6, 6, 6, 6, 1},
	               {GC_ACT_RELU, GC_ACT_RELU, GC_ACT_RELU, GC_ACT_RELU, GC_ACT_RELU,
	                GC_ACT_IDENTITY}, GC_LAYOUT_OUT_IN, 1, GC_LOSS_SSE, 1 };
	gc_case *c = make_case(&s);
	/* the notebook's "Weight 0", "Bias 0" and "Weight 1" row 1 (3 decimals) */
	const double w1[6] = {-5.383, 5.937, 8.174, -4.66, -29.922, 0};
	const double b1[6] = {-4.486, 4.947, 6.812, -3.883, -24.935, 0};
	const double w2r1[6] = {-32.511, -6.799, -18.282, -34.148, -42.196, 0};
	double out, loss;

	ck_assert_uint_eq(c->n_params, 187);
	memcpy(c->theta, seed004_theta, sizeof seed004_theta);
	c->inputs[0] = 1.2;
	c->targets[0] = 20.0;
	gc_net *net = make_net(c, 1);
	gc_net_loss_at(net, c->theta, &out);
	assert_close(out, 1.907, 5e-4, "output", 0);
	assert_close(out, 1.906604997729403, 1e-12, "output (numpy)", 0);
	double *g = gradient_of(net, c, &loss);
	assert_close(loss, 327.371, 5e-4, "loss", 0);
	assert_close(loss, 327.3709427081906, 1e-10, "loss (numpy)", 0);
	for (size_t u = 0; u < 6; u++) {
		assert_close(g[u], w1[u], 5e-4 + 1e-9, "dW1", u);
		assert_close(g[6 + u], b1[u], 5e-4 + 1e-9, "db1", u);
		assert_close(g[12 + 6 + u], w2r1[u], 5e-4 + 1e-9, "dW2[1,:]", u);
	}
	free(g);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* ---- loss values against numpy ------------------------------------------------ */

/* [2,2] with W = I, b = 0: the output pre-activations are the inputs. */
static gc_case *identity_case(gc_loss_kind loss, gc_act_kind out)
{
	net_spec s = { 1, {2, 2}, {out}, GC_LAYOUT_OUT_IN, 1, loss, 2 };
	gc_case *c = make_case(&s);
	const double z[4] = {0.5, -1.0, 2.0, 0.25};

	c->theta[0] = c->theta[3] = 1.0;
	memcpy(c->inputs, z, sizeof z);
	return c;
}

START_TEST(test_loss_values)
{
	static const struct {
		gc_loss_kind loss;
		gc_act_kind out;
		double t[4];
		double want;
	} rows[] = {
		{GC_LOSS_SSE, GC_ACT_IDENTITY, {1, 0, 0, -1}, 6.8125},
		{GC_LOSS_HALF_SSE, GC_ACT_IDENTITY, {1, 0, 0, -1}, 3.40625},
		{GC_LOSS_MSE, GC_ACT_IDENTITY, {1, 0, 0, -1}, 1.703125},
		{GC_LOSS_CROSS_ENTROPY, GC_ACT_SOFTMAX, {0.2, 0.5, 1, 0}, 0.525606722513007},
		{GC_LOSS_BINARY_CROSS_ENTROPY, GC_ACT_SIGMOID, {1, 0, 0.3, 1}, 0.72255152565503655},
		{GC_LOSS_LOGISTIC, GC_ACT_IDENTITY, {1, -1, -1, 1}, 3.4902061026201454},
	};

	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		gc_case *c = identity_case(rows[r].loss, rows[r].out);
		memcpy(c->targets, rows[r].t, sizeof rows[r].t);
		gc_net *net = make_net(c, 1);
		assert_close(gc_net_base_loss(net), rows[r].want, 1e-14, "loss", r);
		gc_net_free(net);
		free_case(c);
	}
}
END_TEST

START_TEST(test_rejects_bad_cases)
{
	net_spec s = { 2, {2, 3, 2}, {GC_ACT_SOFTMAX, GC_ACT_SOFTMAX}, GC_LAYOUT_OUT_IN, 1,
	               GC_LOSS_CROSS_ENTROPY, 2 };
	gc_case *c = make_case(&s);
	gc_net *net = NULL;

	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_EINVAL);   /* softmax not last */
	c->act[0].kind = GC_ACT_TANH;
	c->act[1].kind = GC_ACT_IDENTITY;
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_EINVAL);   /* CE without softmax */
	c->act[1].kind = GC_ACT_SOFTMAX;
	ck_assert_int_eq(gc_net_create(c, 0, &net), GC_EINVAL);   /* no workers */
	c->n_params--;
	ck_assert_int_eq(gc_net_create(c, 1, &net), GC_EINVAL);   /* wrong size */
	ck_assert_ptr_null(net);
	free_case(c);
}
END_TEST

/* ---- analytic gradient against central differences ------------------------------ */

static const gc_act_kind hidden_acts[] = {
	GC_ACT_IDENTITY, GC_ACT_SIGMOID, GC_ACT_TANH, GC_ACT_RELU, GC_ACT_LEAKY_RELU, GC_ACT_SOFTPLUS
};
#define N_HIDDEN 6

static const struct {
	gc_loss_kind loss;
	gc_act_kind out;
} outputs[] = {
	{GC_LOSS_SSE, GC_ACT_IDENTITY}, {GC_LOSS_HALF_SSE, GC_ACT_TANH},
	{GC_LOSS_MSE, GC_ACT_SOFTPLUS}, {GC_LOSS_SSE, GC_ACT_SOFTMAX},
	{GC_LOSS_MSE, GC_ACT_LEAKY_RELU}, {GC_LOSS_CROSS_ENTROPY, GC_ACT_SOFTMAX},
	{GC_LOSS_BINARY_CROSS_ENTROPY, GC_ACT_SIGMOID}, {GC_LOSS_LOGISTIC, GC_ACT_IDENTITY},
	{GC_LOSS_HALF_SSE, GC_ACT_RELU}, {GC_LOSS_MSE, GC_ACT_SIGMOID},
};
#define N_OUTPUTS 10
#define N_FD_CONFIGS (N_HIDDEN * N_OUTPUTS * 4)

/* Config _i: hidden activation pair, output/loss pair, layout, bias. */
static net_spec fd_spec(int i)
{
	int h = i % N_HIDDEN, o = (i / N_HIDDEN) % N_OUTPUTS, rest = i / (N_HIDDEN * N_OUTPUTS);
	net_spec s = { 3, {3, 4, 5, 3}, {hidden_acts[h], hidden_acts[(h + 1) % N_HIDDEN],
	               outputs[o].out}, rest & 1 ? GC_LAYOUT_IN_OUT : GC_LAYOUT_OUT_IN,
	               !(rest & 2), outputs[o].loss, 3 };
	return s;
}

START_TEST(test_gradient_fd)
{
	net_spec s = fd_spec(_i);
	gc_case *c = make_case(&s);
	double loss, h = 1e-5;

	fill_random(c, (uint64_t)_i + 1);
	gc_net *net = make_net(c, 1);
	double *g = gradient_of(net, c, &loss);
	ck_assert_double_eq(loss, gc_net_fn(c->theta, net));
	double *th = malloc(c->n_params * sizeof *th);
	ck_assert_ptr_nonnull(th);
	memcpy(th, c->theta, c->n_params * sizeof *th);
	for (size_t i = 0; i < c->n_params; i++) {
		th[i] = c->theta[i] + h;
		double up = gc_net_fn(th, net);
		th[i] = c->theta[i] - h;
		double down = gc_net_fn(th, net);
		th[i] = c->theta[i];
		double n = (up - down) / (2 * h);
		ck_assert_msg(fabs(g[i] - n) <= 1e-8 + 1e-6 * fmax(fabs(g[i]), fabs(n)),
		              "config %d element %zu: analytic %.12g numeric %.12g", _i, i, g[i], n);
	}
	free(th);
	free(g);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* ---- incremental moved loss against full forward passes ------------------------- */

static const net_spec moved_specs[] = {
	{ 3, {3, 5, 4, 3}, {GC_ACT_TANH, GC_ACT_RELU, GC_ACT_SOFTMAX}, GC_LAYOUT_OUT_IN, 1,
	  GC_LOSS_CROSS_ENTROPY, 3 },
	{ 3, {2, 6, 6, 1}, {GC_ACT_RELU, GC_ACT_LEAKY_RELU, GC_ACT_IDENTITY}, GC_LAYOUT_IN_OUT, 1,
	  GC_LOSS_SSE, 4 },
	{ 2, {4, 3, 2}, {GC_ACT_SIGMOID, GC_ACT_SIGMOID}, GC_LAYOUT_OUT_IN, 0,
	  GC_LOSS_BINARY_CROSS_ENTROPY, 3 },
	{ 4, {3, 4, 4, 4, 2}, {GC_ACT_SOFTPLUS, GC_ACT_TANH, GC_ACT_RELU, GC_ACT_IDENTITY},
	  GC_LAYOUT_IN_OUT, 0, GC_LOSS_LOGISTIC, 5 },
	{ 2, {4, 5, 3}, {GC_ACT_RELU, GC_ACT_SOFTMAX}, GC_LAYOUT_IN_OUT, 1, GC_LOSS_MSE, 3 },
	{ 1, {3, 2}, {GC_ACT_TANH}, GC_LAYOUT_OUT_IN, 1, GC_LOSS_HALF_SSE, 2 },
};
#define N_MOVED (sizeof moved_specs / sizeof moved_specs[0])

START_TEST(test_moved_matches_full)
{
	gc_case *c = make_case(&moved_specs[_i]);
	const double h = 1e-5;

	fill_random(c, 100 + (uint64_t)_i);
	gc_net *net = make_net(c, 1);
	double base = gc_net_base_loss(net), scale = fmax(1.0, fabs(base));
	double *th = malloc(c->n_params * sizeof *th);
	ck_assert_ptr_nonnull(th);
	memcpy(th, c->theta, c->n_params * sizeof *th);
	ck_assert_double_eq(base, gc_net_fn(c->theta, net));
	for (size_t i = 0; i < c->n_params; i++) {
		int k;
		double mu = gc_net_moved_loss(net, 0, i, h, &k);
		double md = gc_net_moved_loss(net, 0, i, -h, &k);
		th[i] = c->theta[i] + h;
		double fu = gc_net_fn(th, net);
		th[i] = c->theta[i] - h;
		double fd = gc_net_fn(th, net);
		th[i] = c->theta[i];
		ck_assert_msg(fabs((mu - md) - (fu - fd)) <= 1e-12 * scale,
		              "net %d element %zu: moved diff %.17g full diff %.17g",
		              _i, i, mu - md, fu - fd);
		assert_close(mu, fu, 1e-13 * scale, "moved(+h)", i);
		ck_assert_double_eq(gc_net_moved_loss(net, 0, i, 0.0, NULL), base);
	}
	ck_assert(isnan(gc_net_moved_loss(net, 0, c->n_params, h, NULL)));
	ck_assert(isnan(gc_net_moved_loss(net, 1, 0, h, NULL)));
	free(th);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* ---- kinks -------------------------------------------------------------------- */

/* [1,2,1] relu, identity, out_in, bias, x = 1: z1 = (1e-9, 0.8). */
START_TEST(test_kink_first_layer)
{
	net_spec s = { 2, {1, 2, 1}, {GC_ACT_RELU, GC_ACT_IDENTITY}, GC_LAYOUT_OUT_IN, 1,
	               GC_LOSS_SSE, 1 };
	gc_case *c = make_case(&s);
	/* W1, b1, W2, b2 */
	const double theta[] = {1e-9, 0.8, 0, 0, 1.5, -0.7, 0.1};
	int k = -1;

	memcpy(c->theta, theta, sizeof theta);
	c->inputs[0] = 1.0;
	c->targets[0] = 0.3;
	gc_net *net = make_net(c, 1);
	ck_assert_int_ne(gc_net_kink(net, c->theta, 0, 1e-6), 0);      /* W1[0] */
	ck_assert_int_ne(gc_net_kink(net, c->theta, 2, 1e-6), 0);      /* b1[0] */
	ck_assert_int_eq(gc_net_kink(net, c->theta, 1, 1e-6), 0);      /* W1[1] */
	for (size_t i = 3; i < 7; i++)
		ck_assert_int_eq(gc_net_kink(net, c->theta, i, 1e-6), 0);
	ck_assert_int_eq(gc_net_kink(net, c->theta, 0, 1e-10), 0);     /* too small to cross */
	gc_net_moved_loss(net, 0, 0, 1e-6, &k);
	ck_assert_int_eq(k, 0);
	gc_net_moved_loss(net, 0, 0, -1e-6, &k);
	ck_assert_int_eq(k, 1);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* [1,2,2,1] relu, relu, identity: z1 = (0.5, 1), z2 = (1e-9, 0.45).  Parameters of
 * layer 1 cross the kink of layer 2; the fallback at a copied theta agrees. */
START_TEST(test_kink_layer_above)
{
	net_spec s = { 3, {1, 2, 2, 1}, {GC_ACT_RELU, GC_ACT_RELU, GC_ACT_IDENTITY},
	               GC_LAYOUT_OUT_IN, 1, GC_LOSS_SSE, 1 };
	gc_case *c = make_case(&s);
	/* W1 0-1, b1 2-3, W2 4-7, b2 8-9, W3 10-11, b3 12 */
	const double theta[] = {0.5, 1, 0, 0, 1, -0.5, 0.3, 0.2, 1e-9, 0.1, 1, 1, 0};
	const int want[13] = {1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0};

	memcpy(c->theta, theta, sizeof theta);
	c->inputs[0] = 1.0;
	gc_net *net = make_net(c, 1);
	double copy[13];
	memcpy(copy, theta, sizeof copy);
	for (size_t i = 0; i < 13; i++) {
		ck_assert_msg(!gc_net_kink(net, c->theta, i, 1e-6) == !want[i], "element %zu", i);
		ck_assert_msg(!gc_net_kink(net, copy, i, 1e-6) == !want[i], "copy, element %zu", i);
	}
	/* another point: with b2[0] = 1 nothing is near a kink */
	copy[8] = 1.0;
	for (size_t i = 0; i < 13; i++)
		ck_assert_int_eq(gc_net_kink(net, copy, i, 1e-6), 0);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* [1,1,1,1,1] relu x3, identity: z = (1, 1, ~1e-9).  W1 crosses the kink of layer
 * 3 through the full products above the rank-1 update. */
START_TEST(test_kink_two_layers_above)
{
	net_spec s = { 4, {1, 1, 1, 1, 1}, {GC_ACT_RELU, GC_ACT_RELU, GC_ACT_RELU, GC_ACT_IDENTITY},
	               GC_LAYOUT_OUT_IN, 1, GC_LOSS_SSE, 1 };
	gc_case *c = make_case(&s);
	/* W1 b1 W2 b2 W3 b3 W4 b4 */
	const double theta[] = {1, 0, 1, 0, 1, 1e-9 - 1.0, 2, 0};
	const int want[8] = {1, 1, 1, 1, 1, 1, 0, 0};
	int k;

	memcpy(c->theta, theta, sizeof theta);
	c->inputs[0] = 1.0;
	gc_net *net = make_net(c, 1);
	for (size_t i = 0; i < 8; i++)
		ck_assert_msg(!gc_net_kink(net, c->theta, i, 1e-6) == !want[i], "element %zu", i);
	gc_net_moved_loss(net, 0, 0, -1e-6, &k);
	ck_assert_int_eq(k, 1);
	gc_net_moved_loss(net, 0, 0, 1e-6, &k);
	ck_assert_int_eq(k, 0);
	gc_net_free(net);
	free_case(c);
}
END_TEST

/* ---- sharing ------------------------------------------------------------------ */

typedef struct worker_job {
	gc_net *net;
	unsigned worker;
	size_t n;
	double *out;    /* (2n) moved(+h), moved(-h) */
} worker_job;

static void *run_worker(void *arg)
{
	worker_job *j = arg;

	for (size_t i = 0; i < j->n; i++) {
		j->out[2 * i] = gc_net_moved_loss(j->net, j->worker, i, 1e-5, NULL);
		j->out[2 * i + 1] = gc_net_moved_loss(j->net, j->worker, i, -1e-5, NULL);
	}
	return NULL;
}

START_TEST(test_workers_share_net)
{
	gc_case *c = make_case(&moved_specs[0]);
	fill_random(c, 7);
	size_t n = c->n_params;
	double *saved = malloc(n * sizeof *saved);
	double *seq = malloc(2 * n * sizeof *seq);
	double *par[2] = {malloc(2 * n * sizeof(double)), malloc(2 * n * sizeof(double))};
	ck_assert(saved && seq && par[0] && par[1]);
	memcpy(saved, c->theta, n * sizeof *saved);
	gc_net *net = make_net(c, 2);

	worker_job alone = {net, 0, n, seq};
	run_worker(&alone);
	ck_assert_mem_eq(saved, c->theta, n * sizeof *saved);
	/* interleaved: worker 1 moves element i while worker 0 is mid-way through j */
	for (size_t i = 0; i < n; i++) {
		double a = gc_net_moved_loss(net, 1, i, 1e-5, NULL);
		double b = gc_net_moved_loss(net, 0, n - 1 - i, -1e-5, NULL);
		ck_assert_double_eq(a, seq[2 * i]);
		ck_assert_double_eq(b, seq[2 * (n - 1 - i) + 1]);
	}
	pthread_t t[2];
	worker_job jobs[2] = {{net, 0, n, par[0]}, {net, 1, n, par[1]}};
	for (int w = 0; w < 2; w++)
		ck_assert_int_eq(pthread_create(&t[w], NULL, run_worker, &jobs[w]), 0);
	for (int w = 0; w < 2; w++)
		pthread_join(t[w], NULL);
	ck_assert_mem_eq(par[0], seq, 2 * n * sizeof *seq);
	ck_assert_mem_eq(par[1], seq, 2 * n * sizeof *seq);
	ck_assert_mem_eq(saved, c->theta, n * sizeof *saved);

	gc_net_free(net);
	free(saved);
	free(seq);
	free(par[0]);
	free(par[1]);
	free_case(c);
}
END_TEST

Suite *net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_seed003);
	tcase_add_test(tc, test_seed000);
	tcase_add_test(tc, test_seed004);
	tcase_add_test(tc, test_loss_values);
	tcase_add_test(tc, test_rejects_bad_cases);
	tcase_add_loop_test(tc, test_gradient_fd, 0, N_FD_CONFIGS);
	tcase_add_loop_test(tc, test_moved_matches_full, 0, (int)N_MOVED);
	tcase_add_test(tc, test_kink_first_layer);
	tcase_add_test(tc, test_kink_layer_above);
	tcase_add_test(tc, test_kink_two_layers_above);
	tcase_add_test(tc, test_workers_share_net);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(net_suite)
