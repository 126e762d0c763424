/*
 * gradcheck_report.h - reports of checked cases: text, JSON, JUnit, TAP, HTML
 * (README.md, "Reports").  Separate from gradcheck.h so that a program using only
 * the checking core links without cJSON; the report writers need it.
 */
#ifndef GRADCHECK_REPORT_H
#define GRADCHECK_REPORT_H

#include <stdio.h>
#include "gradcheck.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gc_case_status { GC_CASE_PASS, GC_CASE_FAIL, GC_CASE_ERROR } gc_case_status;

/* One checked case, as the report writers see it.  All pointers are owned by
 * whoever built the struct; the writers only read. */
typedef struct gc_case_report {
	const char *name;
	gc_case_status status;
	const char *error;      /* GC_CASE_ERROR: the message; otherwise NULL */
	size_t n_params;
	double loss;
	const gc_result *result;        /* NULL when the case had an error */
	const char *const *notes;       /* other reasons the case failed ("expect: loss ...") */
	size_t n_notes;
	const char *digest;     /* a sharded run: the digest of the case's resolved content,
	                           which `merge` compares between shards (README "Reports");
	                           otherwise NULL */
} gc_case_report;

/* "pass", "fail", "error" as in JSON and HTML reports; the label "PASS", "FAIL", "ERROR"
 * as in the text report.  The parser returns GC_OK or GC_EINVAL. */
const char *gc_case_status_name(gc_case_status s);
const char *gc_case_status_label(gc_case_status s);
int gc_case_status_parse(const char *s, gc_case_status *out);

#define GC_DEFAULT_SHOW 5

/* What a report says besides the cases: the options they were checked with (a
 * JSON report lists them) and how many failing elements it lists per tensor. */
typedef struct gc_report_options {
	gc_options check;
	size_t show;            /* the worst failing elements listed per tensor (SIZE_MAX: all) */
} gc_report_options;

/* Fills *o with gc_options_init()'s defaults and show GC_DEFAULT_SHOW. */
void gc_report_options_init(gc_report_options *o);

typedef enum gc_format { GC_FORMAT_TEXT, GC_FORMAT_JSON, GC_FORMAT_JUNIT, GC_FORMAT_TAP,
                         GC_FORMAT_HTML } gc_format;

/* "text", "json", "junit", "tap", "html" as --format spells them; the parser returns
 * GC_OK or GC_EINVAL. */
const char *gc_format_name(gc_format f);
int gc_format_parse(const char *s, gc_format *out);

/* Writes a report of n cases to out.  The text format ends with the line
 * "N passed, M failed".  Returns GC_EIO when a write fails. */
int gc_report_write(FILE *out, gc_format format, const gc_case_report *cases, size_t n,
                    const gc_report_options *o);

#ifdef __cplusplus
}
#endif
#endif
