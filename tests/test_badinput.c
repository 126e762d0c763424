/* test_badinput.c - issue 7: every kind of bad input the README's "bad input -> what
 * you get" table lists ends with exit status 2 and one "gradcheck: FILE:LINE:COL:
 * message" line on standard error (no crash, no hang, no half-written output). */
#include <fcntl.h>
#include "cli.h"
#include "testutil.h"

#define SEED003 "cases/seed003_sigmoid_2_2_1.json"
#define REST "\"activations\": \"tanh\", \"loss\": \"sse\", \"data\": {\"seed\": 1, \"batch\": 2}"
#define GRAD(w, b) "{\"gradients\": {\"weights\": " w ", \"biases\": " b "}}"

typedef struct bad_input {
	const char *kind;
	const char *text;       /* written to a temporary FILE; NULL: no file */
	const char *args;       /* "%s" is FILE */
	const char *file;       /* the file the message names; NULL: FILE */
	const char *where;      /* "LINE:COL", NULL when the message has no position */
	const char *msg;        /* the start of the message */
} bad_input;

static const bad_input bad[] = {
	{ "empty file", "", "%s", NULL, "1:1", "invalid JSON (empty input)" },
	{ "syntax error", "{\"layers\": [2, 1],\n \"activations\": \"tanh\" \"loss\": \"sse\"}",
	  "%s", NULL, "2:24", "invalid JSON" },
	{ "text after the value", "{\"layers\": [2, 1], " REST "} x", "%s", NULL, "1:91",
	  "invalid JSON (unexpected text after the value)" },
	{ "NaN literal", "{\"layers\": [2, 1], " REST ", \"inputs\": [NaN, 1], \"targets\": [0]}",
	  "%s", NULL, "1:102", "invalid JSON (NaN and Infinity are not JSON numbers)" },
	{ "-Infinity literal", "[1, -Infinity]", "%s", NULL, "1:5",
	  "invalid JSON (NaN and Infinity are not JSON numbers)" },
	{ "control byte", "{\"layers\": [2,\x01 1]}", "%s", NULL, "1:15",
	  "invalid JSON (control character 0x01)" },
	{ "not an object", "[1, 2]", "%s", NULL, "1:1", "a case must be a JSON object, got an array" },
	{ "unknown key (typo)", "{\"layers\": [2, 1], " REST ", \"lyaers\": 3}", "%s", NULL, "1:101",
	  "lyaers: unknown key (did you mean \"layers\"?)" },
	{ "duplicate key", "{\"layers\": [2, 1], " REST ", \"layers\": [2, 1]}", "%s", NULL, "1:12",
	  "layers: key given 2 times" },
	{ "missing layers", "{" REST "}", "%s", NULL, "1:1", "layers: missing" },
	{ "zero layer size", "{\"layers\": [2, 0], " REST "}", "%s", NULL, "1:16",
	  "layers[1]: expected an integer >= 1, got 0" },
	{ "fractional layer size", "{\"layers\": [2, 1.5], " REST "}", "%s", NULL, "1:16",
	  "layers[1]: expected an integer >= 1, got 1.5" },
	{ "unknown activation", "{\"layers\": [2, 1], \"activations\": \"swish\", \"loss\": \"sse\"}",
	  "%s", NULL, "1:35", "activations: unknown activation \"swish\"" },
	{ "softmax not last", "{\"layers\": [2, 3, 2], \"activations\": [\"softmax\", \"identity\"],"
	  " \"loss\": \"sse\"}", "%s", NULL, "1:39",
	  "activations[0]: softmax is allowed only in the last layer" },
	{ "loss without its output", "{\"layers\": [2, 2], \"activations\": \"tanh\", "
	  "\"loss\": \"cross_entropy\"}", "%s", NULL, "1:51",
	  "loss: cross_entropy requires a softmax output layer, got tanh" },
	{ "infinite number (1e999)", "{\"layers\": [2, 1], \"activations\": \"tanh\", \"loss\": \"sse\",\n"
	  " \"params\": {\"weights\": [[[1, 1e999]]], \"biases\": [[0]]}, \"data\": {\"seed\": 1, \"batch\": 2}}",
	  "%s", NULL, "2:30", "params.weights[0][0][1]: number is not finite (too large for a double)" },
	{ "wrong weight shape", "{\"layers\": [2, 1], \"activations\": \"tanh\", \"loss\": \"sse\",\n"
	  " \"params\": {\"weights\": [[[1, 2, 3]]], \"biases\": [[0]]}, \"data\": {\"seed\": 1, \"batch\": 2}}",
	  "%s", NULL, "2:25", "params.weights[0]: expected shape [1][2] (W1, out_in: n_1 x n_0), got [1][3]" },
	{ "too many parameters", "{\"layers\": [100000, 100000, 1], " REST "}", "%s", NULL, "1:12",
	  "layers: the network has more than " },
	{ "batch too large", "{\"layers\": [2, 1], \"activations\": \"tanh\", \"loss\": \"sse\", "
	  "\"data\": {\"seed\": 1, \"batch\": 4000000000}}", "%s", NULL, "1:87",
	  "data.batch: 4000000000 samples through layers of 3 units in all need more than " },
	{ "missing file", NULL, "no/such/case.json", "no/such/case.json", NULL,
	  "cannot open: No such file or directory" },
	{ "endless input (/dev/zero)", NULL, "/dev/zero", "/dev/zero", NULL,
	  "file is larger than 64 MiB" },
	{ "gradient file: no gradients", "{\"loss\": 1}", "--grad %s " SEED003, NULL, "1:1",
	  "gradients: missing" },
	{ "gradient file: wrong shape", GRAD("[[[1, 2]], [[1], [2]]]", "[[1, 2], [3]]"),
	  "--grad %s " SEED003, NULL, "1:28",
	  "gradients.weights[0]: expected shape [2][2] (W1, in_out: n_0 x n_1), got [1][2]" },
	{ "gradient file: infinite number", GRAD("[[[1, 2], [3, 4]], [[1], [-1e400]]]", "[[1, 2], [3]]"),
	  "--grad %s " SEED003, NULL, "1:53",
	  "gradients.weights[1][1][0]: number is not finite (too large for a double)" },
	{ "gradient file: a string", GRAD("[[[1, 2], [3, \"4\"]], [[1], [2]]]", "[[1, 2], [3]]"),
	  "--grad %s " SEED003, NULL, "1:41", "gradients.weights[0][1][1]: expected a number, or "
	  "\"NaN\", \"Infinity\" or \"-Infinity\", got \"4\"" },
	{ "gradient file: biases missing", "{\"gradients\": {\"weights\": [[[1, 2], [3, 4]], [[1], [2]]]}}",
	  "--grad %s " SEED003, NULL, "1:15", "gradients.biases: missing" },
	{ "gradient file: tensor count", GRAD("[[[1, 2], [3, 4]]]", "[[1, 2], [3]]"),
	  "--grad %s " SEED003, NULL, "1:27",
	  "gradients.weights: expected 2 matrices W1..W2 (one per weight layer), got 1" },
	{ "--exec prints garbage", NULL, "--exec 'echo garbage' " SEED003, "output of 'echo garbage'",
	  "1:1", "invalid JSON" },
	{ "--exec prints nothing", NULL, "--exec true " SEED003, "output of 'true'", "1:1",
	  "invalid JSON (empty input)" },
	{ "--exec fails", NULL, "--exec 'exit 3' " SEED003, SEED003, NULL,
	  "--exec 'exit 3' failed: exit status 3" },
	{ "--exec crashes", NULL, "--exec 'kill -9 $$' " SEED003, SEED003, NULL,
	  "--exec 'kill -9 $$' failed: killed by signal 9" },
	{ "--exec hangs", NULL, "--timeout 0.5 --exec 'sleep 30' " SEED003, SEED003, NULL,
	  "--exec 'sleep 30' failed: timed out after 0.5 s" },
	{ "merge: not a report", NULL, "merge " SEED003, SEED003, "1:1",
	  "not a gradcheck JSON report (no \"tool\": \"gradcheck\")" },
	{ "merge: garbage", "{\"tool\": \"gradcheck\",\n  oops}", "merge %s", NULL, "2:4", "invalid JSON" },
};

START_TEST(test_bad_input)
{
	const bad_input *b = &bad[_i];
	char *path = b->text ? cli_temp_file(b->text, ".json") : NULL;
	char args[1024], want[2048];
	const char *file = b->file ? b->file : path;
	cli_run r;

	snprintf(args, sizeof args, b->args, path);
	r = cli_gradcheck("%s", args);
	if (b->where)
		snprintf(want, sizeof want, "gradcheck: %s:%s: %s", file, b->where, b->msg);
	else
		snprintf(want, sizeof want, "gradcheck: %s: %s", file, b->msg);
	ck_assert_msg(r.status == 2, "%s: exit %d, stderr: %s", b->kind, r.status, r.err);
	ck_assert_msg(strstr(r.err, want), "%s: want \"%s\", stderr: %s", b->kind, want, r.err);
	cli_free(&r);
	if (path)
		unlink(path);
	free(path);
}
END_TEST

/* Deeper than cJSON's nesting limit: refused, said so, no stack overflow. */
START_TEST(test_deep_nesting)
{
	size_t depth = 100000;
	char *text = malloc(2 * depth + 2), *path, want[256];
	cli_run r;

	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	strcpy(text + 2 * depth, "\n");
	path = cli_temp_file(text, ".json");
	r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	snprintf(want, sizeof want, "gradcheck: %s:1:1001: invalid JSON (arrays and objects "
		 "nested more than 1000 deep)", path);
	ck_assert_msg(strstr(r.err, want), "stderr: %s", r.err);
	cli_free(&r);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

/* A NUL byte is not white space (cJSON would skip it). */
START_TEST(test_nul_byte)
{
	static const char text[] = "{\"layers\": [2,\0 1]}";
	char path[] = "/tmp/gc_test_XXXXXX.json", want[256];
	int fd = mkstemps(path, 5);
	cli_run r;

	ck_assert(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
	close(fd);
	r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	snprintf(want, sizeof want, "gradcheck: %s:1:15: invalid JSON (control character 0x00)", path);
	ck_assert_msg(strstr(r.err, want), "stderr: %s", r.err);
	cli_free(&r);
	unlink(path);
}
END_TEST

/* Refused from its size alone (a sparse file: nothing is read). */
START_TEST(test_file_too_large)
{
	char path[] = "/tmp/gc_test_XXXXXX.json", want[256];
	int fd = mkstemps(path, 5);
	cli_run r;

	ck_assert(fd >= 0 && ftruncate(fd, (off_t)65 << 20) == 0);
	close(fd);
	r = cli_gradcheck("%s", path);
	ck_assert_int_eq(r.status, 2);
	snprintf(want, sizeof want, "gradcheck: %s: file is larger than 64 MiB", path);
	ck_assert_msg(strstr(r.err, want), "stderr: %s", r.err);
	cli_free(&r);
	unlink(path);
}
END_TEST

/* A loss that overflows while stepping fails its elements; it is not an error. */
START_TEST(test_loss_overflow_is_per_element)
{
	char *path = cli_temp_file("{\"layers\": [1, 1], \"activations\": \"identity\", \"loss\": \"sse\","
				   " \"params\": {\"weights\": [[[1e200]]], \"biases\": [[0]]},"
				   " \"inputs\": [1e200], \"targets\": [0]}", ".json");
	cli_run r = cli_gradcheck("%s", path);

	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "W1: 1 of 1 elements fail"));
	ck_assert_str_eq(cli_last_line(r.out), "0 passed, 1 failed");
	cli_free(&r);
	unlink(path);
	free(path);
}
END_TEST

/* -o never leaves half a file: a run that fails to load writes nothing there. */
START_TEST(test_output_not_written_on_usage_error)
{
	char out[] = "/tmp/gc_test_out_XXXXXX";
	int fd = mkstemp(out);
	cli_run r;

	close(fd);
	unlink(out);
	r = cli_gradcheck("--bogus -o %s " SEED003, out);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(access(out, F_OK), -1);
	cli_free(&r);
}
END_TEST

Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("bad input");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof *bad));
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_file_too_large);
	tcase_add_test(tc, test_loss_overflow_is_per_element);
	tcase_add_test(tc, test_output_not_written_on_usage_error);
	suite_add_tcase(s, tc);
	return s;
}

GC_TEST_MAIN(badinput_suite)
