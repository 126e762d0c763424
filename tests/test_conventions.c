/* test_conventions.c - the conventions of real course code (README "Conventions"):
 * each convention's loss against a hand-computed number; the example programs of
 * examples/conventions/ pass their cases (cases/conv_*.json) as written and fail with
 * their classic bug, diagnosed as a regularization term off by the coefficient worked
 * out by hand; the notes on a program's reported loss; the case keys' validation
 * errors. */
#include <math.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "testutil.h"

#define DIR "examples/conventions/"    /* the programs */
#define CASE "cases/conv_"              /* their cases: CASE NAME ".json" */

static char tmpdir[64];

/* Writes text to tmpdir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/gc_conv_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- the loss of each convention, by hand ----------------------------------------
 * One identity unit, w = 2, b = 1, inputs 1 and 2, targets 0 and 1: the outputs are
 * 3 and 5, the errors 3 and 4, sum e^2 = 25, sum w^2 = 4, with the bias 5. */
#define HAND_NET "\"layers\": [1, 1], \"activations\": \"identity\", " \
	"\"params\": {\"weights\": [[[2]]], \"biases\": [[1]]}"
#define HAND_T "\"inputs\": [[1], [2]], \"targets\": [[0], [1]]"

static const struct { const char *keys; double loss; } hand[] = {
	{ "\"loss\": \"sse\", " HAND_T, 25 },
	{ "\"loss\": \"sse\", \"reduction\": \"batch_mean\", " HAND_T, 12.5 },
	{ "\"loss\": \"half_sse\", \"reduction\": \"mean\", " HAND_T, 6.25 },
	{ "\"loss\": \"mse\", \"reduction\": \"sum\", " HAND_T, 25 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1}, " HAND_T, 25.4 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1, \"half\": true}, " HAND_T, 25.2 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1, \"divide_by\": \"batch\"}, " HAND_T,
	  25.2 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1, \"divide_by\": 10}, " HAND_T, 25.04 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1, \"biases\": true}, " HAND_T, 25.5 },
	{ "\"loss\": \"sse\", \"regularization\": {\"l1\": 0.3}, " HAND_T, 25.6 },
	/* (0.1 * 1/2 * 5 + 0.3 * 3) / 2 */
	{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1, \"l1\": 0.3, \"half\": true, "
	  "\"biases\": true, \"divide_by\": \"batch\"}, " HAND_T, 25.575 },
	/* samples as columns: inputs 1 x B, targets 1 x B */
	{ "\"loss\": \"sse\", \"sample_layout\": \"columns\", \"inputs\": [[1, 2]], "
	  "\"targets\": [[0, 1]]", 25 },
	/* hinge, t = -1 and +1: max(0, 1 + 3) + max(0, 1 - 5) = 4, over B = 2 */
	{ "\"loss\": \"hinge\", \"inputs\": [[1], [2]], \"targets\": [[-1], [1]]", 2 },
	{ "\"loss\": \"hinge\", \"reduction\": \"sum\", \"inputs\": [[1], [2]], "
	  "\"targets\": [[-1], [1]]", 4 },
};

START_TEST(test_hand_losses)
{
	char text[1024];
	make_tmpdir();
	snprintf(text, sizeof text, "{" HAND_NET ", %s}\n", hand[_i].keys);
	const char *path = write_file("hand.json", text);
	cli_run r = cli_gradcheck("--format json %s", path);
	cJSON *report = cJSON_Parse(r.out);
	ck_assert_msg(r.status == 0, "%s: exit %d: %s", hand[_i].keys, r.status, r.err);
	ck_assert_ptr_nonnull(report);
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
	double loss = cJSON_GetObjectItem(c, "loss")->valuedouble;
	ck_assert_msg(fabs(loss - hand[_i].loss) <= 1e-12 * hand[_i].loss, "%s: loss %.17g, "
	              "by hand %.17g", hand[_i].keys, loss, hand[_i].loss);
	cJSON_Delete(report);
	cli_free(&r);
	remove_tmpdir();
}
END_TEST

/* Two classes, W = [[2], [-1]], b = [1, 0]: scores [3, -1] and [5, -2]; labels 1, 0.
 * multiclass_hinge: max(0, 3 - (-1) + 1) + max(0, -2 - 5 + 1) = 5, over B = 2.
 * cross_entropy: (log(1 + e^4) + log(1 + e^-7)) / 2. */
START_TEST(test_hand_label_losses)
{
	static const char net[] = "{\"layers\": [1, 2], \"params\": {\"weights\": [[[2], [-1]]], "
		"\"biases\": [[1, 0]]}, \"inputs\": [[1], [2]], \"labels\": [1, 0], ";
	const struct { const char *keys; double loss; } cases[] = {
		{ "\"activations\": \"identity\", \"loss\": \"multiclass_hinge\"}", 2.5 },
		{ "\"activations\": \"softmax\", \"loss\": \"cross_entropy\"}",
		  (log1p(exp(4.0)) + log1p(exp(-7.0))) / 2 },
		{ "\"activations\": \"softmax\", \"loss\": \"cross_entropy\", \"reduction\": \"sum\"}",
		  log1p(exp(4.0)) + log1p(exp(-7.0)) },
	};
	char text[1024];
	make_tmpdir();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "%s%s\n", net, cases[i].keys);
		const char *path = write_file("labels.json", text);
		cli_run r = cli_gradcheck("--format json %s", path);
		cJSON *report = cJSON_Parse(r.out);
		ck_assert_msg(r.status == 0, "%s: exit %d: %s", cases[i].keys, r.status, r.err);
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
		double loss = cJSON_GetObjectItem(c, "loss")->valuedouble;
		ck_assert_msg(fabs(loss - cases[i].loss) <= 1e-12 * cases[i].loss, "%s: loss %.17g, "
		              "by hand %.17g", cases[i].keys, loss, cases[i].loss);
		cJSON_Delete(report);
		cli_free(&r);
	}
	remove_tmpdir();
}
END_TEST

/* Kinks: an l1 step across w = 0 (w = 1e-9, a step of about 6e-6), and a hinge at
 * its corner (w = 2, b = -1, x = 1, t = 1: 1 - t y = 0) pass as kinks; away from
 * them (w = 0.5; b = -0.5) nothing is a kink. */
START_TEST(test_kinks)
{
	const struct { const char *keys; int kinks_w, kinks_b; } cases[] = {
		{ "\"params\": {\"weights\": [[[1e-9]]], \"biases\": [[1]]}, \"loss\": \"sse\", "
		  "\"inputs\": [[1], [2]], \"targets\": [[0], [1]], \"regularization\": {\"l1\": 0.3}",
		  1, 0 },
		{ "\"params\": {\"weights\": [[[0.5]]], \"biases\": [[1]]}, \"loss\": \"sse\", "
		  "\"inputs\": [[1], [2]], \"targets\": [[0], [1]], \"regularization\": {\"l1\": 0.3}",
		  0, 0 },
		{ "\"params\": {\"weights\": [[[2]]], \"biases\": [[-1]]}, \"loss\": \"hinge\", "
		  "\"inputs\": [[1], [3]], \"targets\": [[1], [1]]", 1, 1 },
		{ "\"params\": {\"weights\": [[[2]]], \"biases\": [[-0.5]]}, \"loss\": \"hinge\", "
		  "\"inputs\": [[1], [3]], \"targets\": [[1], [1]]", 0, 0 },
	};
	char text[1024];
	make_tmpdir();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "{\"layers\": [1, 1], \"activations\": \"identity\", "
		         "%s}\n", cases[i].keys);
		const char *path = write_file("kink.json", text);
		cli_run r = cli_gradcheck("--format json %s", path);
		cJSON *report = cJSON_Parse(r.out);
		ck_assert_msg(r.status == 0, "%s: exit %d: %s%s", cases[i].keys, r.status, r.out,
		              r.err);
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
		const cJSON *t = cJSON_GetObjectItem(c, "tensors");
		ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "kinks")->valueint,
		                 cases[i].kinks_w);
		ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 1), "kinks")->valueint,
		                 cases[i].kinks_b);
		cJSON_Delete(report);
		cli_free(&r);
	}
	remove_tmpdir();
}
END_TEST

/* ---- the example programs --------------------------------------------------------
 * c: the coefficient of the bug's a - n = c W, worked out from each program's bug. */
static const struct {
	const char *prog, *name;
	double c;
	int with_biases;
	const char *w1;         /* W1's diagnosis, in the case's own lambda */
} progs[] = {
	/* lmbda/m instead of lmbda/n: 5/3 - 5/50000 */
	{ "nielsen_network2.py", "nielsen_network2", 5.0 / 3 - 5.0 / 50000, 0,
	  "W1's gradient is the true one plus 1.667 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb/(2\xc2\xb7" "50000)\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 5) has the "
	  "gradient \xce\xbb/50000\xc2\xb7W1 = 0.0001\xc2\xb7W1, yours adds \xce\xbb/3\xc2\xb7W1 "
	  "= 1.667\xc2\xb7W1: your code divides by the batch size where the case says "
	  "\"divide_by\"" },
	/* reg W where the gradient of reg W^2 is 2 reg W */
	{ "cs231n_two_layer.py", "cs231n_two_layer", -0.1, 0,
	  "W1's gradient is the true one plus -0.1 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.1) has the gradient "
	  "2\xce\xbb\xc2\xb7W1 = 0.2\xc2\xb7W1, yours adds \xce\xbb\xc2\xb7W1 = 0.1\xc2\xb7W1: "
	  "the gradient of \xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is 2\xce\xbbw (is the 2 missing?)" },
	/* 2 reg W where the gradient of 0.5 reg W^2 is reg W */
	{ "cs231n_two_layer.py --half", "cs231n_two_layer_half", 0.1, 0,
	  "W1's gradient is the true one plus 0.1 \xc3\x97 W1: the case's L2 term "
	  "\xc2\xbd\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.1) has the gradient "
	  "\xce\xbb\xc2\xb7W1 = 0.1\xc2\xb7W1, yours adds 2\xce\xbb\xc2\xb7W1 = 0.2\xc2\xb7W1: "
	  "the gradient of \xc2\xbd\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is \xce\xbbw, of "
	  "\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 2\xce\xbbw" },
	/* lambd W instead of lambd/m W, m = 5 */
	{ "ng_regularized.py", "ng_regularized", 0.7 - 0.7 / 5, 0,
	  "W1's gradient is the true one plus 0.56 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb/(2\xc2\xb7" "5)\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.7) has the gradient "
	  "\xce\xbb/5\xc2\xb7W1 = 0.14\xc2\xb7W1, yours adds \xce\xbb\xc2\xb7W1 = 0.7\xc2\xb7W1: "
	  "is the case's \"divide_by\" missing from your gradient?" },
	/* lambda W outside the 1/N, N = 4 */
	{ "half_inside_mean.py", "half_inside_mean", 0.3 - 0.3 / 4, 0,
	  "W1's gradient is the true one plus 0.225 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb/(2\xc2\xb7" "4)\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.3) has the gradient "
	  "\xce\xbb/4\xc2\xb7W1 = 0.075\xc2\xb7W1, yours adds \xce\xbb\xc2\xb7W1 = 0.3\xc2\xb7W1: "
	  "is the case's \"divide_by\" missing from your gradient?" },
	/* alpha p instead of 2 alpha p, biases too */
	{ "micrograd_svm.py", "micrograd_svm", -0.01, 1,
	  "W1's gradient is the true one plus -0.01 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.01, biases included) has the "
	  "gradient 2\xce\xbb\xc2\xb7W1 = 0.02\xc2\xb7W1, yours adds \xce\xbb\xc2\xb7W1 = "
	  "0.01\xc2\xb7W1: the gradient of \xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is 2\xce\xbbw "
	  "(is the 2 missing?)" },
};

START_TEST(test_program_passes)
{
	/* the case's expect block (torch autograd) agrees with gradcheck's loss and
	 * gradient, and the program as written passes */
	cli_run r = cli_gradcheck(CASE "%s.json", progs[_i].name);
	ck_assert_msg(r.status == 0, "%s: %s%s", progs[_i].name, r.out, r.err);
	cli_free(&r);
	r = cli_gradcheck("--exec '" DIR "%s' " CASE "%s.json", progs[_i].prog, progs[_i].name);
	ck_assert_msg(r.status == 0, "%s: %s%s", progs[_i].prog, r.out, r.err);
	ck_assert_str_eq(cli_last_line(r.out), "1 passed, 0 failed");
	cli_free(&r);
}
END_TEST

/* The reference implementation knows every key: it passes every convention case (the
 * programs' six, and L1, the multiclass hinge, reductions sum and mean). */
START_TEST(test_numpy_backprop)
{
	cli_run r = cli_gradcheck("--exec examples/numpy_backprop.py " CASE "*.json");
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_str_eq(cli_last_line(r.out), "10 passed, 0 failed");
	cli_free(&r);
}
END_TEST

START_TEST(test_program_bug)
{
	cli_run r = cli_gradcheck("--format json --exec '" DIR "%s --bug' " CASE "%s.json",
	                          progs[_i].prog, progs[_i].name);
	cJSON *report = cJSON_Parse(r.out);
	const cJSON *c, *d, *t;
	size_t weights = 0, failing = 0;

	ck_assert_msg(r.status == 1, "%s --bug: exit %d: %s", progs[_i].prog, r.status, r.err);
	ck_assert_ptr_nonnull(report);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors")) {
		const char *name = cJSON_GetObjectItem(t, "name")->valuestring;
		int failed = cJSON_GetObjectItem(t, "failed")->valueint;
		if (name[0] == 'W' || progs[_i].with_biases)
			ck_assert_msg(failed > 0, "%s: %s passes", progs[_i].name, name);
		else
			ck_assert_msg(failed == 0, "%s: %s fails", progs[_i].name, name);
		weights += name[0] == 'W';
		failing += failed > 1;
	}
	/* one regularization diagnosis per failing tensor (of more than one element),
	 * with the coefficient of the bug, and nothing else */
	size_t n = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diagnoses")) {
		const char *kind = cJSON_GetObjectItem(d, "kind")->valuestring;
		double k = cJSON_GetObjectItem(d, "factor")->valuedouble;
		const char *tensor = cJSON_GetObjectItem(d, "tensor")->valuestring;
		ck_assert_msg(strcmp(kind, "regularization") == 0, "%s: diagnosis %s: %s",
		              progs[_i].name, kind, cJSON_GetObjectItem(d, "detail")->valuestring);
		if (strcmp(tensor, "W1") == 0)
			ck_assert_str_eq(cJSON_GetObjectItem(d, "detail")->valuestring, progs[_i].w1);
		/* it names a failing tensor */
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors"))
			if (strcmp(cJSON_GetObjectItem(t, "name")->valuestring, tensor) == 0)
				ck_assert_int_gt(cJSON_GetObjectItem(t, "failed")->valueint, 1);
		ck_assert_msg(fabs(k - progs[_i].c) <= 1e-6 * fabs(progs[_i].c), "%s: c = %.17g, "
		              "by hand %.17g", progs[_i].name, k, progs[_i].c);
		n++;
	}
	ck_assert_uint_eq(n, failing);
	ck_assert_uint_ge(n, weights);
	cJSON_Delete(report);
	cli_free(&r);
}
END_TEST

/* The four convention cases without a program of their own, with the classic slip
 * numpy_backprop.py plants: the regularization gradient divided by the batch size
 * once more (L1: mu sign(w) / B, so c = mu (1/B - 1); L2: 2 lambda w / B), or, for
 * the reductions, every gradient divided by B once more (one loss_scale of 1/B).
 * Every diagnosis has the planted kind and factor and names a failing tensor. */
static const struct {
	const char *name, *bug, *kind;
	double c;               /* the factor, by hand */
	const char *w1;         /* W1's diagnosis, or NULL */
} planted[] = {
	{ "l1_sum", "reg-batch", "regularization", 0.05 * (1.0 / 3 - 1),
	  "W1's gradient is the true one plus -0.03333 \xc3\x97 sign(W1): the case's L1 "
	  "term \xce\xbc\xc2\xb7\xce\xa3|w| (\xce\xbc = 0.05) has the gradient "
	  "0.05\xc2\xb7sign(W1), yours adds 0.01667\xc2\xb7sign(W1): your code divides by "
	  "the batch size where the case does not" },
	{ "multiclass_svm", "reg-batch", "regularization", 2 * 0.05 * (1.0 / 4 - 1),
	  "W1's gradient is the true one plus -0.075 \xc3\x97 W1: the case's L2 term "
	  "\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 (\xce\xbb = 0.05) has the gradient "
	  "2\xce\xbb\xc2\xb7W1 = 0.1\xc2\xb7W1, yours adds \xce\xbb/2\xc2\xb7W1 = "
	  "0.025\xc2\xb7W1: your code divides by the batch size where the case does not" },
	{ "half_mean", "batch-twice", "loss_scale", 1.0 / 4, NULL },
	{ "ce_sum_labels", "batch-twice", "loss_scale", 1.0 / 5, NULL },
};

START_TEST(test_planted_bug)
{
	cli_run r = cli_gradcheck("--format json --exec 'examples/numpy_backprop.py --bug %s' "
	                          CASE "%s.json", planted[_i].bug, planted[_i].name);
	cJSON *report = cJSON_Parse(r.out);
	const cJSON *c, *d, *t;
	size_t n = 0;

	ck_assert_msg(r.status == 1, "%s: exit %d: %s", planted[_i].name, r.status, r.err);
	ck_assert_ptr_nonnull(report);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diagnoses")) {
		const char *tensor = cJSON_GetObjectItem(d, "tensor")->valuestring;
		const char *detail = cJSON_GetObjectItem(d, "detail")->valuestring;
		ck_assert_msg(strcmp(cJSON_GetObjectItem(d, "kind")->valuestring,
		                     planted[_i].kind) == 0, "%s: %s", planted[_i].name, detail);
		double k = cJSON_GetObjectItem(d, "factor")->valuedouble;
		ck_assert_msg(fabs(k - planted[_i].c) <= 1e-6 * fabs(planted[_i].c), "%s: factor "
		              "%.17g, by hand %.17g", planted[_i].name, k, planted[_i].c);
		if (planted[_i].w1 && strcmp(tensor, "W1") == 0)
			ck_assert_str_eq(detail, planted[_i].w1);
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "tensors"))
			if (strcmp(cJSON_GetObjectItem(t, "name")->valuestring, tensor) == 0)
				ck_assert_int_gt(cJSON_GetObjectItem(t, "failed")->valueint, 0);
		n++;
	}
	/* reg-batch: one per weight matrix (the biases pass); batch-twice: one in all */
	ck_assert_uint_eq(n, strcmp(planted[_i].bug, "reg-batch") == 0 ? 2 : 1);
	cJSON_Delete(report);
	cli_free(&r);
}
END_TEST

/* A gradient with the term lambda/(2N) sum p^2 over every parameter (lambda = 0.3,
 * N = 4: 0.075 p), checked against the case without the term and against the case
 * that leaves the biases out: the diagnosis says what the case does not state. */
START_TEST(test_unstated_regularization)
{
	cli_run r = cli_gradcheck("--grad tests/data/conventions/all_params.grad.json "
	                          "tests/data/conventions/unstated.json");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "diagnosis (regularization): W1's gradient is the "
	                             "true one plus 0.075 \xc3\x97 W1: your code adds a "
	                             "regularization term the case does not state; if it is "
	                             "meant, state it: \"regularization\": {\"l2\": 0.0375} "
	                             "(or {\"l2\": 0.075, \"half\": true})\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "b1: your code adds"));
	cli_free(&r);
	r = cli_gradcheck("--grad tests/data/conventions/all_params.grad.json "
	                  "tests/data/conventions/no_biases.json");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "diagnosis (regularization): b1's gradient is the "
	                             "true one plus 0.075 \xc3\x97 b1: the case's "
	                             "regularization leaves the biases out (\"biases\": false), "
	                             "your code regularizes b1 too\n"));
	ck_assert_ptr_null(strstr(r.out, "W1's gradient"));
	cli_free(&r);
}
END_TEST

/* ---- the loss a gradient file reports ----------------------------------------------
 * The hand network with sse has the gradient dL/dw = 2 (3 + 4 * 2) = 22, dL/db = 14;
 * with "l2": 0.1, dL/dw = 22.4. */
START_TEST(test_loss_notes)
{
	const struct { const char *keys, *grad; int status; const char *note; } cases[] = {
		{ "\"loss\": \"sse\"", "\"loss\": 25, \"gradients\": {\"weights\": [[[22]]], "
		  "\"biases\": [[14]]}", 0, NULL },
		{ "\"loss\": \"sse\", \"reduction\": \"batch_mean\"", "\"loss\": 25, \"gradients\": "
		  "{\"weights\": [[[11]]], \"biases\": [[7]]}", 1, "loss: your program reports 25, "
		  "gradcheck's is 12.5: your loss is 2.000 \xc3\x97 gradcheck's: does your code sum "
		  "over the 2 samples where the case says reduction \"batch_mean\"?" },
		{ "\"loss\": \"sse\"", "\"loss\": 12.5, \"gradients\": {\"weights\": [[[22]]], "
		  "\"biases\": [[14]]}", 1, "loss: your program reports 12.5, gradcheck's is 25: "
		  "your loss is 0.500 \xc3\x97 gradcheck's: does your code average over the 2 "
		  "samples where the case says reduction \"sum\"?" },
		{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1}", "\"loss\": 25, "
		  "\"gradients\": {\"weights\": [[[22.4]]], \"biases\": [[14]]}", 1, "loss: your "
		  "program reports 25, gradcheck's is 25.4: yours equals gradcheck's without the "
		  "regularization term (0.4); does your code leave it out of the loss?" },
		{ "\"loss\": \"sse\", \"regularization\": {\"l2\": 0.1}", "\"loss\": 25.2, "
		  "\"gradients\": {\"weights\": [[[22.4]]], \"biases\": [[14]]}", 1, "loss: your "
		  "program reports 25.2, gradcheck's is 25.4: your regularization term is 0.5 "
		  "\xc3\x97 the case's (0.4): does your code halve the term where the case does "
		  "not say \"half\"?" },
		{ "\"loss\": \"sse\"", "\"loss\": 25.0379, \"gradients\": {\"weights\": [[[22]]], "
		  "\"biases\": [[14]]}", 1, "loss: your program reports 25.0379, gradcheck's is 25: "
		  "it differs by 0.0379: a regularization term the case does not state?" },
	};
	char text[1024];
	make_tmpdir();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char kase[128];
		snprintf(text, sizeof text, "{" HAND_NET ", " HAND_T ", %s}\n", cases[i].keys);
		snprintf(kase, sizeof kase, "%s", write_file("note.json", text));
		snprintf(text, sizeof text, "{%s}\n", cases[i].grad);
		const char *grad = write_file("note.grad.json", text);
		cli_run r = cli_gradcheck("--format json --grad %s %s", grad, kase);
		cJSON *report = cJSON_Parse(r.out);
		ck_assert_msg(r.status == cases[i].status, "%s: exit %d: %s%s", cases[i].grad,
		              r.status, r.out, r.err);
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "cases"), 0);
		const cJSON *notes = cJSON_GetObjectItem(c, "notes");
		if (!cases[i].note) {
			ck_assert(!notes || cJSON_GetArraySize(notes) == 0);
		} else {
			ck_assert_int_eq(cJSON_GetArraySize(notes), 1);
			ck_assert_str_eq(cJSON_GetArrayItem(notes, 0)->valuestring, cases[i].note);
		}
		cJSON_Delete(report);
		cli_free(&r);
	}
	remove_tmpdir();
}
END_TEST

/* A program's output: NaN and -Infinity (as Python's json writes them) fail their
 * elements, named in the report, and the case is no error; text before the gradient
 * file is an error that shows it and says where messages belong. */
START_TEST(test_program_output)
{
	char text[512];
	make_tmpdir();
	snprintf(text, sizeof text, "{" HAND_NET ", " HAND_T ", \"loss\": \"sse\"}\n");
	char kase[128];
	snprintf(kase, sizeof kase, "%s", write_file("out.json", text));
	char nan_sh[128];
	snprintf(nan_sh, sizeof nan_sh, "%s", write_file("nan.sh", "cat > /dev/null\n"
		"echo '{\"loss\": 25, \"gradients\": {\"weights\": [[[NaN]]], \"biases\": "
		"[[-Infinity]]}}'\n"));
	cli_run r = cli_gradcheck("--exec 'sh %s' %s", nan_sh, kase);
	ck_assert_msg(r.status == 1, "exit %d: %s%s", r.status, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "    W1[0,0]                    nan              22"));
	ck_assert_ptr_nonnull(strstr(r.out, "    b1[0]                     -inf              14"));
	cli_free(&r);
	const char *chat = write_file("chat.sh", "cat > /dev/null\necho 'epoch 1: loss 25'\n"
		"echo '{\"gradients\": {\"weights\": [[[22]]], \"biases\": [[14]]}}'\n");
	r = cli_gradcheck("--exec 'sh %s' %s", chat, kase);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, ":1:1: invalid JSON; the output begins \"epoch 1: "
	                             "loss 25\\n{\\\"gradients\\\": {\\\"weights\\\": [[[22]]], "
	                             "\\\"biases\"...: standard output must hold only the "
	                             "gradient file, so print your own messages to standard "
	                             "error\n"));
	cli_free(&r);
	remove_tmpdir();
}
END_TEST

/* ---- validation of the case keys --------------------------------------------------
 * Each bad case is written as "{" HAND_NET ",\n\n " KEYS "}": the error names line 3
 * and the column where `at` (the offending value) starts. */
static const struct { const char *keys; const char *at, *msg; } bad[] = {
	{ "\"loss\": \"sse\", " HAND_T ", \"reduction\": \"avg\"", "\"avg\"",
	  "reduction: expected \"sum\", \"batch_mean\" or \"mean\", got \"avg\"" },
	{ "\"loss\": \"sse\", " HAND_T ", \"reduction\": 3", "3",
	  "reduction: expected \"sum\", \"batch_mean\" or \"mean\", got a number" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": []", "[]",
	  "regularization: expected an object, got an array" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l3\": 1}", "1}",
	  "regularization.l3: unknown key (did you mean \"l2\"?)" },
	{ "\"loss\": \"sse\", " HAND_T ", \"reg\": {\"l2\": 1}", "{",
	  "reg: unknown key (did you mean \"regularization\"?)" },
	{ "\"loss\": \"sse\", " HAND_T ", \"reduce\": \"sum\"", "\"sum\"",
	  "reduce: unknown key (did you mean \"reduction\"?)" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": -1}", "-1",
	  "regularization.l2: expected a number >= 0, got -1" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": 0.1, \"half\": 1}", "1}",
	  "regularization.half: expected true or false, got a number" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": 0.1, \"biases\": \"yes\"}",
	  "\"yes\"", "regularization.biases: expected true or false, got a string" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": 0.1, \"divide_by\": 0}",
	  "0}", "regularization.divide_by: expected an integer >= 1, got 0" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": 0.1, \"divide_by\": "
	  "\"batches\"}", "\"batches\"", "regularization.divide_by: expected \"none\", "
	  "\"batch\" or a training-set size N (an integer >= 1), got \"batches\"" },
	{ "\"loss\": \"sse\", " HAND_T ", \"sample_layout\": \"cols\"", "\"cols\"",
	  "sample_layout: expected \"rows\" or \"columns\", got \"cols\"" },
	{ "\"loss\": \"sse\", \"sample_layout\": \"columns\", " HAND_T, "[[1], [2]]",
	  "inputs: expected 1 rows (n_0 = 1; \"sample_layout\": \"columns\" puts "
	  "one sample in each column), got 2" },
	{ "\"loss\": \"sse\", \"inputs\": [[1], [2]], \"labels\": [0, 0]", "[0, 0]",
	  "labels: class labels go with "
	  "cross_entropy or multiclass_hinge, not sse (give \"targets\")" },
	{ "\"loss\": \"hinge\", \"inputs\": [[1], [2]], \"targets\": [[0], [1]]", "0]",
	  "targets[0][0]: hinge targets must be -1 or +1, got 0" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l1\": -0.1}", "-0.1",
	  "regularization.l1: expected a number >= 0, got -0.1" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l1\": \"a\"}", "\"a\"",
	  "regularization.l1: expected a number, got a string" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"l2\": 0.1, \"divide_by\": 2.5}",
	  "2.5", "regularization.divide_by: expected an integer >= 1, got 2.5" },
	{ "\"loss\": \"sse\", " HAND_T ", \"regularization\": {\"half\": true}", "{\"half\"",
	  "regularization: gives neither \"l2\" nor \"l1\" (for example {\"l2\": 0.01} adds "
	  "0.01 \xc3\x97 \xce\xa3w\xc2\xb2)" },
	{ "\"loss\": \"sse\", " HAND_T ", \"sample_layout\": 1", "1}",
	  "sample_layout: expected \"rows\" or \"columns\", got a number" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": [0, 1]", "1]}",
	  "labels[1]: expected an integer from 0 to 0, got 1" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": [0, -1]", "-1]",
	  "labels[1]: expected an integer from 0 to 0, got -1" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": [0, 0.5]", "0.5",
	  "labels[1]: expected an integer from 0 to 0, got 0.5" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": [0]", "[0]}",
	  "labels: expected 2 labels (one per sample in inputs), got 1" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": [0, 0], "
	  "\"targets\": [[1], [1]]", "[0, 0]", "labels: give \"labels\" or \"targets\", not both" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"labels\": \"0\"", "\"0\"",
	  "labels: expected an array of class indices (0 to 0), got a string" },
	{ "\"loss\": \"multiclass_hinge\", \"inputs\": [[1], [2]], \"targets\": [[1], [0.5]]",
	  "0.5", "targets[1][0]: multiclass_hinge targets must be one-hot rows of 0 and 1 (or "
	  "give \"labels\"), got 0.5" },
};

/* Whole cases for what HAND_NET fixes: column biases of the wrong shape, the hinge
 * losses on an output that is not the identity. */
static const struct { const char *text, *msg; } bad_whole[] = {
	{ "{\"layers\": [1, 2], \"activations\": \"identity\", \"loss\": \"sse\", \"params\": "
	  "{\"weights\": [[[2], [-1]]], \"biases\": [[[1], [0], [3]]]}, \"inputs\": [[1]], "
	  "\"targets\": [[1, 0]]}", ":1:110: params.biases[0]: expected shape [2][1] (b1: n_1), "
	  "got [3][1]" },
	{ "{\"layers\": [1, 2], \"activations\": \"identity\", \"loss\": \"sse\", \"params\": "
	  "{\"weights\": [[[2], [-1]]], \"biases\": [[[1], [0, 2]]]}, \"inputs\": [[1]], "
	  "\"targets\": [[1, 0]]}", ":1:116: params.biases[0][1]: expected a row of 1 numbers "
	  "(b1: n_1, shape [2][1]), got 2" },
	{ "{\"layers\": [1, 2], \"activations\": \"sigmoid\", \"loss\": \"multiclass_hinge\", "
	  "\"data\": {\"seed\": 1, \"batch\": 2}}", ":1:54: loss: multiclass_hinge requires an "
	  "identity output layer, got sigmoid" },
	{ "{\"layers\": [1, 1], \"activations\": \"tanh\", \"loss\": \"hinge\", "
	  "\"data\": {\"seed\": 1, \"batch\": 2}}", ":1:51: loss: hinge requires an identity "
	  "output layer, got tanh" },
};

START_TEST(test_bad_whole_case)
{
	make_tmpdir();
	const char *path = write_file("bad.json", bad_whole[_i].text);
	cli_run r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, bad_whole[_i].msg) != NULL, "want %s\ngot  %s",
	              bad_whole[_i].msg, r.err);
	cli_free(&r);
	remove_tmpdir();
}
END_TEST

START_TEST(test_bad_keys)
{
	char text[1024], want[1024], line[512];
	make_tmpdir();
	snprintf(text, sizeof text, "{" HAND_NET ",\n\n %s}\n", bad[_i].keys);
	snprintf(line, sizeof line, " %s}", bad[_i].keys);
	const char *at = strstr(line, bad[_i].at);
	ck_assert_ptr_nonnull(at);
	const char *path = write_file("bad.json", text);
	cli_run r = cli_gradcheck("%s", path);
	ck_assert_msg(r.status == 2, "%s: exit %d", bad[_i].keys, r.status);
	snprintf(want, sizeof want, "gradcheck: %s:3:%d: %s\n", path,
	         (int)(at - line) + 1, bad[_i].msg);
	ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "want %sgot  %s", want, r.err);
	cli_free(&r);
	remove_tmpdir();
}
END_TEST

static Suite *conventions_suite(void)
{
	Suite *s = suite_create("conventions");
	TCase *tc = tcase_create("conventions");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hand_losses, 0, (int)(sizeof hand / sizeof hand[0]));
	tcase_add_test(tc, test_hand_label_losses);
	tcase_add_test(tc, test_kinks);
	tcase_add_loop_test(tc, test_program_passes, 0, (int)(sizeof progs / sizeof progs[0]));
	tcase_add_loop_test(tc, test_program_bug, 0, (int)(sizeof progs / sizeof progs[0]));
	tcase_add_test(tc, test_numpy_backprop);
	tcase_add_loop_test(tc, test_planted_bug, 0, (int)(sizeof planted / sizeof planted[0]));
	tcase_add_test(tc, test_unstated_regularization);
	tcase_add_test(tc, test_loss_notes);
	tcase_add_test(tc, test_program_output);
	tcase_add_loop_test(tc, test_bad_keys, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_loop_test(tc, test_bad_whole_case, 0,
	                    (int)(sizeof bad_whole / sizeof bad_whole[0]));
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(conventions_suite)
