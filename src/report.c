/* report.c - gc_report_write: the format names and the dispatch to the writers. */
#include <string.h>
#include "report.h"

static const char *const format_names[] = {
	[GC_FORMAT_TEXT] = "text", [GC_FORMAT_JSON] = "json", [GC_FORMAT_JUNIT] = "junit",
	[GC_FORMAT_TAP] = "tap", [GC_FORMAT_HTML] = "html"
};

#define N_FORMATS (sizeof format_names / sizeof *format_names)

const char *gc_format_name(gc_format f)
{
	return (size_t)f < N_FORMATS ? format_names[f] : "unknown";
}

int gc_format_parse(const char *s, gc_format *out)
{
	for (size_t i = 0; i < N_FORMATS && s; i++) {
		if (strcmp(format_names[i], s) == 0) {
			*out = (gc_format)i;
			return GC_OK;
		}
	}
	return GC_EINVAL;
}

void gc_report_options_init(gc_report_options *o)
{
	gc_options_init(&o->check);
	o->show = GC_DEFAULT_SHOW;
}

int gc_report_write(FILE *out, gc_format format, const gc_case_report *cases, size_t n,
                    const gc_report_options *o)
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
