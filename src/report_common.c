/* report_common.c - what the report writers share: element names, case counts and the
 * case status names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_common.h"

static const struct {
	const char *name;       /* JSON and HTML reports */
	const char *label;      /* the text report */
} case_statuses[] = {
	[GC_CASE_PASS] = { "pass", "PASS" },
	[GC_CASE_FAIL] = { "fail", "FAIL" },
	[GC_CASE_ERROR] = { "error", "ERROR" },
};

#define N_STATUSES (sizeof case_statuses / sizeof *case_statuses)

const char *gc_case_status_name(gc_case_status s)
{
	return (size_t)s < N_STATUSES ? case_statuses[s].name : "unknown";
}

const char *gc_case_status_label(gc_case_status s)
{
	return (size_t)s < N_STATUSES ? case_statuses[s].label : "UNKNOWN";
}

int gc_case_status_parse(const char *s, gc_case_status *out)
{
	for (size_t i = 0; i < N_STATUSES && s; i++) {
		if (strcmp(case_statuses[i].name, s) == 0) {
			*out = (gc_case_status)i;
			return GC_OK;
		}
	}
	return GC_EINVAL;
}

void gc_report_element_name(const gc_tensor *t, size_t index, char *buf, size_t size)
{
	size_t k = index - t->offset;

	if (t->cols == 1 && !t->matrix)
		snprintf(buf, size, "%s[%zu]", t->name, k);
	else
		snprintf(buf, size, "%s[%zu,%zu]", t->name, k / t->cols, k % t->cols);
}

size_t gc_report_shown(const gc_tensor_result *tr, const gc_report_options *o)
{
	size_t show = o ? o->show : GC_DEFAULT_SHOW;
	return tr->n_worst < show ? tr->n_worst : show;
}

void gc_report_count(const gc_case_report *cases, size_t n, size_t *passed, size_t *failed,
                     size_t *errors)
{
	*passed = *failed = *errors = 0;
	for (size_t i = 0; i < n; i++) {
		if (cases[i].status == GC_CASE_PASS)
			++*passed;
		else
			++*failed;
		if (cases[i].status == GC_CASE_ERROR)
			++*errors;
	}
}

size_t gc_utf8_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *gc_utf8_fix(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		size_t len = gc_utf8_len(s);
		if (len == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
		} else {
			memcpy(o, s, len);
			o += len;
			s += len;
		}
	}
	*o = '\0';
	return out;
}
