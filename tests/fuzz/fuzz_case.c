/* fuzz_case.c - libFuzzer target: the case loader on arbitrary bytes.  Any input must
 * give either a case or a clean error (a message, no crash, no leak). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "case.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);      /* the loader expects a NUL after the text */
	gc_case *c = NULL;
	gc_error err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (gc_case_parse(text, size, "fuzz.json", &c, &err) == 0) {
		char *resolved = gc_case_resolve(c);
		cJSON_free(resolved);
		gc_case_free(c);
	} else if (!err.msg[0]) {
		abort();                        /* an error must say what went wrong */
	}
	free(text);
	return 0;
}
