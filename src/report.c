#include "report.h"

void gc_report_element_name(const gc_tensor *t, size_t index, char *buf, size_t size)
{
	size_t k = index - t->offset;

	if (t->cols == 1 && !t->matrix)
		snprintf(buf, size, "%s[%zu]", t->name, k);
	else
		snprintf(buf, size, "%s[%zu,%zu]", t->name, k / t->cols, k % t->cols);
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

int gc_report_write(FILE *out, gc_format format, const gc_case_report *cases, size_t n,
                    const gc_options *o)
{
	switch (format) {
	case GC_FORMAT_TEXT:  return gc_report_text(out, cases, n, o);
	case GC_FORMAT_JSON:  return gc_report_json(out, cases, n, o);
	case GC_FORMAT_JUNIT: return gc_report_junit(out, cases, n, o);
	case GC_FORMAT_TAP:   return gc_report_tap(out, cases, n, o);
	case GC_FORMAT_HTML:  return gc_report_html(out, cases, n, o);
	}
	return GC_EINVAL;
}
