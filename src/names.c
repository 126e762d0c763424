/* names.c - the names of the core's enums as reports and the command line spell them
 * (README.md, "Reports"): one table each, the parser beside the printer. */
#include <string.h>
#include "gradcheck.h"

#define N_OF(a) (sizeof (a) / sizeof *(a))

static const char *const method_names[] = {
	[GC_METHOD_CENTRAL] = "central", [GC_METHOD_FIVE_POINT] = "five-point"
};

static const char *const verdict_names[] = {
	[GC_ELEM_PASS] = "pass", [GC_ELEM_FAIL] = "fail", [GC_ELEM_KINK] = "kink",
	[GC_ELEM_SKIPPED] = "skipped", [GC_ELEM_UNRELIABLE] = "unreliable"
};

/* The index of s in names (n entries), or -1. */
static int find(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && s && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *gc_method_name(gc_method m)
{
	return (size_t)m < N_OF(method_names) ? method_names[m] : "unknown";
}

int gc_method_parse(const char *s, gc_method *out)
{
	int i = find(method_names, N_OF(method_names), s);

	if (i < 0)
		return GC_EINVAL;
	*out = (gc_method)i;
	return GC_OK;
}

const char *gc_verdict_name(gc_verdict v)
{
	return (size_t)v < N_OF(verdict_names) ? verdict_names[v] : "unknown";
}

int gc_verdict_parse(const char *s, gc_verdict *out)
{
	int i = find(verdict_names, N_OF(verdict_names), s);

	if (i < 0)
		return GC_EINVAL;
	*out = (gc_verdict)i;
	return GC_OK;
}
