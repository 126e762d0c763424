/* test_model.c - `gradcheck check --model CMD`: the loss protocol's errors one by one,
 * the +-1 generator, the numpy adapter against gradients known by hand, identical
 * reports for any --jobs, merged shards equal to one run, golden files, no strays.
 * tests/data/model/fake.py is a program that misbehaves on request. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "testutil.h"
#include "cli.h"
#include "model.h"

#define FAKE "tests/data/model/fake.py"
#define QUAD "examples/model/quadratic.py"

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "'%s' not found in:\n%s", needle, hay);
}

/* ---- the generator ---------------------------------------------------------------- */

/* The reference splitmix64 (Vigna, splitmix64.c) seeded with 1234567 gives
 * 6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
 * 16408922859458223821: top bits 0, 0, 1, 0, 1. */
START_TEST(test_direction_reference)
{
	static const int want[5] = { 1, 1, -1, 1, -1 };

	for (size_t j = 0; j < 5; j++)
		ck_assert_int_eq(gc_model_direction_sign(1234567, j), want[j]);
}
END_TEST

/* ---- the header ------------------------------------------------------------------- */

static void header_fails(const char *text, const char *msg)
{
	gc_model *m = NULL;
	gc_error err = {0};

	ck_assert_int_ne(gc_model_parse_header(text, strlen(text), "cmd", &gc_case_default_limits,
	                                       &m, &err), 0);
	ck_assert_ptr_null(m);
	assert_contains(err.msg, msg);
}

START_TEST(test_header)
{
	const char *ok = "{\"tensors\": [{\"name\": \"W\", \"shape\": [2, 3, 2], \"layer\": 1},"
	                 " {\"name\": \"s\", \"shape\": []}], \"loss\": 2.5,"
	                 " \"theta\": [1,2,3,4,5,6,7,8,9,10,11,12,13], \"grad\": [0,0,0,0,0,0,0,0,0,0,0,0,1],"
	                 " \"batch\": 4}";
	gc_model *m = NULL;
	gc_error err = {0};

	ck_assert_int_eq(gc_model_parse_header(ok, strlen(ok), "python3 my model.py --x",
	                                       &gc_case_default_limits, &m, &err), 0);
	ck_assert_uint_eq(m->n, 13);
	ck_assert_uint_eq(m->n_tensors, 2);
	ck_assert_uint_eq(m->tensors[0].rows, 2);
	ck_assert_uint_eq(m->tensors[0].cols, 6);
	ck_assert_int_eq(m->tensors[0].matrix, 1);
	ck_assert_int_eq(m->tensors[0].layer, 1);
	ck_assert_uint_eq(m->tensors[1].offset, 12);
	ck_assert_uint_eq(m->tensors[1].rows, 1);
	ck_assert_int_eq(m->tensors[1].matrix, 0);
	ck_assert_uint_eq(m->batch, 4);
	ck_assert_double_eq(m->loss, 2.5);
	ck_assert_str_eq(m->name, "python3_my_model.py_--x");
	gc_model_free(m);

	header_fails("{\"loss\": 1, \"theta\": [1], \"grad\": [1]}", "tensors: required");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}], \"loss\": 1,"
	             " \"theta\": [1], \"grad\": [1, 2]}", "theta: expected 2 numbers");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [1]}, {\"name\": \"a\", \"shape\": [1]}],"
	             " \"loss\": 1, \"theta\": [1, 2], \"grad\": [1, 2]}", "names tensors[0] too");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [0]}], \"loss\": 1,"
	             " \"theta\": [], \"grad\": []}", "tensors[0].shape[0]");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [1]}], \"loss\": 1,"
	             " \"theta\": [1], \"grad\": [1], \"extra\": 1}", "extra");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [1]}], \"theta\": [1],"
	             " \"grad\": [1]}", "loss: required");
	header_fails("{\"tensors\": [{\"name\": \"a\", \"shape\": [1]}], \"loss\": 1,"
	             " \"theta\": [1], \"grad\": [1], \"name\": \"../x\"}", "name: expected a file name");
	header_fails("not json", "invalid JSON");
}
END_TEST

/* ---- protocol errors, one by one ---------------------------------------------------- */

static void fake_error(const char *mode, const char *opts, const char *msg)
{
	cli_run r = cli_gradcheck("--jobs 1 %s --model '" FAKE " %s'", opts, mode);

	ck_assert_msg(r.status == 2, "%s: exit %d\n%s%s", mode, r.status, r.out, r.err);
	assert_contains(r.err, msg);
	assert_contains(r.out, "ERROR ");
	cli_free(&r);
}

START_TEST(test_protocol_errors)
{
	fake_error("die-before", "", "exited before announcing its tensors; it ended with exit "
	           "status 3; its stderr ends with:\nfake: cannot load the model");
	fake_error("die-mid", "", "stopped answering after 3 answers");
	fake_error("die-mid", "", "exit status 4; its stderr ends with:\nfake: crashed");
	fake_error("garbage", "", "(answer 3) is not a number: 'hello'");
	fake_error("nan", "", "(answer 3) is not a finite loss: 'nan'");
	fake_error("drift", "", "theta changed between requests: the loss at theta ('i 0 0') "
	           "was 36 before the other requests and 36.000000000999997 after them");
	fake_error("extra", "", "answered more lines than it was asked for: '1'");
	fake_error("bad-header", "", "header, column 41: theta: expected 3 numbers");
	fake_error("not-json", "", "header, column 1: invalid JSON");
	fake_error("exit-after-q", "", "ended with exit status 1 after 'q'");
	fake_error("announced-loss", "", "the loss at theta ('i 0 0') is 36, not the announced 37");
}
END_TEST

START_TEST(test_timeouts)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fake_error("silent", "--timeout 1", "no answer to 'i 0 6.0554544523139242e-06' within 1 s "
	           "(after 1 answers)");
	fake_error("slow", "--run-timeout 1", "the run took longer than --run-timeout 1 s");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec), 10.0);
}
END_TEST

START_TEST(test_copies_disagree)
{
	cli_run r = cli_gradcheck("--jobs 2 --model '" FAKE " random'");

	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "copies 1 and 2 of the program announced different headers");
	cli_free(&r);
}
END_TEST

/* A grandchild that outlives the program's answers is killed with its process group. */
START_TEST(test_no_strays)
{
	char pidfile[] = "/tmp/gc_model_pid_XXXXXX";
	int fd = mkstemp(pidfile);
	cli_run r = cli_gradcheck("--jobs 1 --model '" FAKE " background %s'", pidfile);
	char *text = cli_slurp(pidfile);
	long pid = atol(text);
	int gone = 0;

	ck_assert_int_eq(r.status, 0);
	ck_assert_int_gt(pid, 1);
	for (int k = 0; k < 200 && !gone; k++) {
		gone = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
		if (!gone)
			usleep(10000);
	}
	ck_assert_msg(gone, "process %ld still runs", pid);
	free(text);
	close(fd);
	unlink(pidfile);
	cli_free(&r);
}
END_TEST

/* ---- verdicts ----------------------------------------------------------------------- */

START_TEST(test_fake_verdicts)
{
	cli_run r = cli_gradcheck("--jobs 1 --model '" FAKE " ok'");

	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "PASS fake: 3 parameters, loss 36\n");
	cli_free(&r);
	/* the fake's gradient x 4: the scale diagnosis names the factor */
	r = cli_gradcheck("--jobs 1 --model '" FAKE " scale'");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "diagnosis (scale): b is 4 × the true gradient");
	cli_free(&r);
	/* `k` after a loss: element 1 (b[0]) is a kink, not a failure */
	r = cli_gradcheck("--jobs 1 --format json --model '" FAKE " kink'");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "\"kinks\":\t1");
	cli_free(&r);
}
END_TEST

/* The numpy adapter: L = 0.5 sum A^2 + 3 sum B^2 at B = (3, -2) has dL/dB = (18, -12);
 * --bug scale doubles it. */
START_TEST(test_numpy_adapter)
{
	cli_run r = cli_gradcheck("--model " QUAD);

	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "PASS quadratic: 8 parameters, loss 43.0625\n");
	cli_free(&r);
	r = cli_gradcheck("--model '" QUAD " --bug scale'");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "    B[0]                        36              18");
	assert_contains(r.out, "    B[1]                       -24             -12");
	assert_contains(r.out, "diagnosis (scale): B is 2 × the true gradient");
	cli_free(&r);
	/* --fast: the generator in C and in the adapter must agree, or this fails */
	r = cli_gradcheck("--fast --model " QUAD);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	r = cli_gradcheck("--fast --seed 7 --method five-point --model '" QUAD " --bug sign'");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "directions: 4 of 4 directions fail");
	cli_free(&r);
}
END_TEST

/* The worked examples: each planted bug is found and diagnosed. */
START_TEST(test_conv_numpy)
{
	cli_run r = cli_gradcheck("--model examples/model/conv_numpy.py");

	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "PASS conv_numpy: 85 parameters");
	cli_free(&r);
	/* the flipped kernel: analytic [1,5] = (o 1, c 0, p 1, q 2) is the numeric value
	 * of its mirror [1,3] = (o 1, c 0, p 1, q 0), and the other way round */
	r = cli_gradcheck("--show all --format json --model 'examples/model/conv_numpy.py --bug flip'");
	ck_assert_int_eq(r.status, 1);
	cJSON *doc = cJSON_Parse(r.out), *t, *w, *e;
	double a5 = NAN, n5 = NAN, a3 = NAN, n3 = NAN;
	ck_assert_ptr_nonnull(doc);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "cases"), 0), "tensors")) {
		const char *name = cJSON_GetObjectItem(t, "name")->valuestring;
		int failed = cJSON_GetObjectItem(t, "failed")->valueint;

		ck_assert_int_eq(failed, strcmp(name, "conv1.weight") == 0 ? 48 : 0);
		w = cJSON_GetObjectItem(t, "worst");
		cJSON_ArrayForEach(e, w) {
			const char *idx = cJSON_GetObjectItem(e, "index")->valuestring;
			double a = cJSON_GetObjectItem(e, "analytic")->valuedouble;
			double n = cJSON_GetObjectItem(e, "numeric")->valuedouble;

			if (strcmp(idx, "conv1.weight[1,5]") == 0)
				a5 = a, n5 = n;
			if (strcmp(idx, "conv1.weight[1,3]") == 0)
				a3 = a, n3 = n;
		}
	}
	ck_assert_double_eq_tol(a5, n3, 1e-8);
	ck_assert_double_eq_tol(a3, n5, 1e-8);
	cJSON_Delete(doc);
	/* conv1.bias passes, so delta_1 is right: the product with the input is named,
	 * not an entry layer */
	assert_contains(r.out, "\"kind\":\t\"weight_product\"");
	cli_free(&r);
}
END_TEST

static int have_torch(void)
{
	return system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
}

/* The PyTorch adapter on gradients known by hand (tests/data/model/torch_known.py), and
 * the swish example whose custom backward forgets a term. */
START_TEST(test_torch)
{
	if (!have_torch()) {
		puts("SKIP test_torch: /usr/bin/python3 cannot import torch (python3-torch)");
		return;
	}
	cli_run r = cli_gradcheck("--jobs 1 --model tests/data/model/torch_known.py");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "PASS torch_known: 2 parameters, loss 34\n");
	cli_free(&r);
	r = cli_gradcheck("--jobs 1 --model 'tests/data/model/torch_known.py --bug'");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "    w[1]                      -156            -104");
	assert_contains(r.out, "    w[0]                      -108             -72");
	assert_contains(r.out, "diagnosis (scale): w is 1.5 × the true gradient");
	cli_free(&r);
	r = cli_gradcheck("--jobs 1 --model examples/model/swish_torch.py");
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	r = cli_gradcheck("--jobs 1 --model 'examples/model/swish_torch.py --bug forget'");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "  4.weight 2x8 ");
	assert_contains(r.out, "diagnosis (entry_layer): the error enters when propagating into layer 2: "
	                "layer 3 is right");
	cli_free(&r);
}
END_TEST

/* The C example (examples/model/softmax_c.c with gc_serve.h), built next to gradcheck. */
START_TEST(test_c_model)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char c_model[1024];
	const char *slash = strrchr(prog, '/');

	snprintf(c_model, sizeof c_model, "%.*sexamples/model/softmax_c",
	         slash ? (int)(slash - prog + 1) : 0, prog);
	ck_assert_msg(access(c_model, X_OK) == 0, "%s is not built", c_model);
	cli_run r = cli_gradcheck("--model %s", c_model);
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "PASS softmax_c: 15 parameters");
	cli_free(&r);
	r = cli_gradcheck("--fast --model %s", c_model);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	r = cli_gradcheck("--model '%s --bug batch'", c_model);
	ck_assert_int_eq(r.status, 1);
	/* W and c both 8 x: one loss-scale diagnosis, not one per tensor */
	assert_contains(r.out, "diagnosis (loss_scale): every gradient is 8 × the true one, so "
	                "your gradient is that of 8 × the case's loss (batch: multiplied by the "
	                "batch size");
	cli_free(&r);
}
END_TEST

/* --sandbox (README, "Grading a class") runs the copies in bubblewrap: the model's
 * folder must be shown with --allow-read.  As root the sandbox is user nobody, which
 * must be able to read that folder (README "The sandbox"), so the model runs from a
 * copy open to others: the checkout may be in a private folder such as /root. */
START_TEST(test_sandboxed)
{
	char dir[] = "/tmp/gc_sandboxed_XXXXXX", prog[4096], cmd[8192];
	const char *gc = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";

	ck_assert_ptr_nonnull(realpath(gc, prog));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "mkdir %s/examples && cp -R examples/model %s/examples/ && "
	         "chmod -R a+rX %s", dir, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "cd %s && %s --jobs 1 --sandbox --allow-read examples --model "
	         QUAD, dir, prog);
	cli_run r = cli_sh(cmd);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.out, "PASS quadratic: 8 parameters");
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "cd %s && %s --jobs 1 --sandbox --model " QUAD, dir, prog);
	r = cli_sh(cmd);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "exited before announcing its tensors; it ended with exit status 127");
	cli_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- same report for any --jobs; shards merge into one run ------------------------- */

static void same_for_jobs(const char *opts)
{
	cli_run a = cli_gradcheck("--jobs 1 --format json %s", opts);
	cli_run b = cli_gradcheck("--jobs 3 --format json %s", opts);

	ck_assert_int_eq(a.status, b.status);
	ck_assert_int_ne(a.status, 2);
	ck_assert_str_eq(a.out, b.out);
	cli_free(&a);
	cli_free(&b);
}

START_TEST(test_jobs_identical)
{
	same_for_jobs("--model '" QUAD " --bug scale'");
	same_for_jobs("--method five-point --model '" QUAD " --bug scale' --model '" FAKE " kink'");
	same_for_jobs("--fast --model '" QUAD " --bug sign'");
	same_for_jobs("--sample 2 --seed 3 --model '" QUAD " --bug scale'");
}
END_TEST

START_TEST(test_shards_merge)
{
	char *paths[3];
	cli_run one = cli_gradcheck("--format json --model '" QUAD " --bug scale' --model '"
	                            FAKE " scale'");

	ck_assert_int_eq(one.status, 1);
	for (int k = 0; k < 3; k++) {
		paths[k] = cli_temp_file("", ".json");
		cli_run r = cli_gradcheck("--format json -o %s --shard %d/3 --model '" QUAD
		                          " --bug scale' --model '" FAKE " scale'", paths[k], k + 1);
		ck_assert_int_eq(r.status, 1);
		cli_free(&r);
	}
	cli_run m = cli_gradcheck("merge %s %s %s", paths[0], paths[1], paths[2]);
	ck_assert_int_eq(m.status, 1);
	ck_assert_str_eq(m.out, one.out);
	for (int k = 0; k < 3; k++) {
		unlink(paths[k]);
		free(paths[k]);
	}
	cli_free(&m);
	cli_free(&one);
}
END_TEST

/* ---- golden files, list files ------------------------------------------------------- */

START_TEST(test_golden_record)
{
	char dir[] = "/tmp/gc_model_golden_XXXXXX";
	char path[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cli_run r = cli_gradcheck("--record %s --model " QUAD, dir);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	snprintf(path, sizeof path, "%s/quadratic.grad.json", dir);
	char *text = cli_slurp(path);
	assert_contains(text, "\"B\":\t[18, -12]");     /* dL/dB = 6 B */
	free(text);
	r = cli_gradcheck("--golden %s --model " QUAD, dir);
	ck_assert_int_eq(r.status, 0);
	cli_free(&r);
	r = cli_gradcheck("--golden %s --model '" QUAD " --bug scale'", dir);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "golden: B drifted in 2 of 2 elements");
	cli_free(&r);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_model_list)
{
	char *list = cli_temp_file("# two models\n" QUAD "\n\n  " FAKE " ok\n", ".txt");
	cli_run r = cli_gradcheck("--models %s --format tap", list);

	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "1..2\n");
	assert_contains(r.out, "ok 1 - quadratic");
	assert_contains(r.out, "ok 2 - fake");
	cli_free(&r);
	unlink(list);
	free(list);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_direction_reference);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_protocol_errors);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_copies_disagree);
	tcase_add_test(tc, test_no_strays);
	tcase_add_test(tc, test_fake_verdicts);
	tcase_add_test(tc, test_numpy_adapter);
	tcase_add_test(tc, test_conv_numpy);
	tcase_add_test(tc, test_torch);
	tcase_add_test(tc, test_c_model);
	tcase_add_test(tc, test_sandboxed);
	tcase_add_test(tc, test_jobs_identical);
	tcase_add_test(tc, test_shards_merge);
	tcase_add_test(tc, test_golden_record);
	tcase_add_test(tc, test_model_list);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(model_suite)
