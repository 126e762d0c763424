/* fuzz_gradfile.c - libFuzzer target: the gradient file reader against two fixed
 * small cases (fuzz_cases.h: the first byte picks one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gradfile.h"
#include "fuzz_cases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gc_case *fixed_case(size_t i)
{
	static gc_case *c[2];
	gc_error err;

	if (!c[i] && gc_case_parse(gc_fuzz_case_text[i], strlen(gc_fuzz_case_text[i]),
				   "case.json", &c[i], &err))
		abort();
	return c[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gc_case *c = fixed_case(size > 0 && (data[0] & 1));
	char *text;
	double *grad;
	unsigned char *transposed;
	int has_loss = 0;
	double loss = 0;
	gc_error err;

	if (size > 0) {                     /* the selector byte is not part of the file */
		data++;
		size--;
	}
	text = malloc(size + 1);
	grad = malloc(c->n_params * sizeof *grad);
	transposed = malloc(c->n_tensors);
	if (text && grad && transposed) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (gc_gradfile_parse(text, size, "fuzz.grad.json", c, grad, transposed,
				      &has_loss, &loss, &err) != 0 && !err.msg[0])
			abort();
	}
	free(text);
	free(grad);
	free(transposed);
	return 0;
}
