/* report.h - the report writers behind gc_report_write, one file each (their shared
 * helpers: report_common.h). */
#ifndef GC_REPORT_H
#define GC_REPORT_H

#include <stdio.h>
#include "gradcheck_report.h"

/* Each returns GC_OK, GC_EIO (a write failed) or GC_ENOMEM. */
int gc_report_text(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o);
/* The text report of one case, without the closing summary line (JUnit and TAP embed it). */
int gc_report_text_case(FILE *out, const gc_case_report *c, const gc_report_options *o);
int gc_report_json(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o);
int gc_report_junit(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o);
int gc_report_tap(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o);
int gc_report_html(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o);

#endif
