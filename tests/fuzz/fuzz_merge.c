/* fuzz_merge.c - libFuzzer target: the report merger.  The input is split at its
 * first NUL byte into two report files (one when there is no NUL), written to
 * temporary files and merged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_temp(char *path, const uint8_t *data, size_t size)
{
	int fd = mkstemps(path, 5);
	int ok;

	if (fd < 0)
		return -1;
	ok = size == 0 || write(fd, data, size) == (ssize_t)size;
	close(fd);
	return ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char p1[] = "/tmp/gc_fuzz_merge_XXXXXX.json", p2[] = "/tmp/gc_fuzz_merge_XXXXXX.json";
	const char *paths[2] = { p1, p2 };
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n1 = nul ? (size_t)(nul - data) : size, n = nul ? 2 : 1;
	char *json = NULL;
	int status = -1;
	gc_error err;

	if (write_temp(p1, data, n1) == 0
	    && (n == 1 || write_temp(p2, nul + 1, size - n1 - 1) == 0)) {
		if (gc_merge_reports(paths, n, &json, &status, &err) == 0) {
			if (!json || status < 0 || status > 2)
				abort();
		} else if (!err.msg[0]) {
			abort();
		}
	}
	free(json);
	unlink(p1);
	if (n == 2)
		unlink(p2);
	return 0;
}
