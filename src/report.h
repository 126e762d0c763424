/* report.h - the report writers behind gc_report_write, one file each. */
#ifndef GC_REPORT_H
#define GC_REPORT_H

#include <stdio.h>
#include "gradcheck.h"

/* Each returns GC_OK, GC_EIO (a write failed) or GC_ENOMEM. */
int gc_report_text(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o);
/* The text report of one case, without the closing summary line (JUnit and TAP embed it). */
int gc_report_text_case(FILE *out, const gc_case_report *c, const gc_options *o);
int gc_report_json(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o);
int gc_report_junit(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o);
int gc_report_tap(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o);
int gc_report_html(FILE *out, const gc_case_report *cases, size_t n, const gc_options *o);

/* "W2[1,0]" (a matrix) or "b1[3]" (a vector: one column, not t->matrix) for element
 * index of theta. */
void gc_report_element_name(const gc_tensor *t, size_t index, char *buf, size_t size);

/* Counts of passing and failing (failed + error) cases. */
void gc_report_count(const gc_case_report *cases, size_t n, size_t *passed, size_t *failed,
                     size_t *errors);

#endif
