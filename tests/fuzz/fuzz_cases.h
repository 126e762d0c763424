/* fuzz_cases.h - the fixed cases gradient-file inputs are read against, shared by
 * fuzz_gradfile.c and tests/test_regress.c.  An input's first byte picks the case
 * (its low bit; '0' and '1' keep seed files printable), the rest is the file. */
#ifndef GC_FUZZ_CASES_H
#define GC_FUZZ_CASES_H

static const char *const gc_fuzz_case_text[2] = {
	/* W1 2x3, b1 2, W2 2x2, b2 2: tests/data/grad/ is written for this one */
	"{\"layers\": [3, 2, 2], \"activations\": \"tanh\", \"loss\": \"sse\","
	" \"data\": {\"seed\": 1, \"batch\": 2}}",
	/* no biases, in_out, non-square W1 3x2 and W2 2x1 */
	"{\"layers\": [3, 2, 1], \"activations\": \"tanh\", \"loss\": \"mse\", \"bias\": false,"
	" \"weight_layout\": \"in_out\", \"data\": {\"seed\": 1, \"batch\": 2}}",
};

#endif
