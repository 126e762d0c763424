/* report_common.h - what the report writers share: element names and case counts. */
#ifndef GC_REPORT_COMMON_H
#define GC_REPORT_COMMON_H

#include <stddef.h>
#include "gradcheck_report.h"

/* "W2[1,0]" (a matrix) or "b1[3]" (a vector: one column, not t->matrix) for element
 * index of theta. */
void gc_report_element_name(const gc_tensor *t, size_t index, char *buf, size_t size);

/* How many of tr's worst elements a report lists: at most o->show (o NULL: the
 * default). */
size_t gc_report_shown(const gc_tensor_result *tr, const gc_report_options *o);

/* Counts of passing and failing (failed + error) cases. */
void gc_report_count(const gc_case_report *cases, size_t n, size_t *passed, size_t *failed,
                     size_t *errors);

/* The length (1 to 4) of the well-formed UTF-8 character at s, or 0 when the bytes
 * there are not one (stray continuation, overlong, surrogate, beyond U+10FFFF). */
size_t gc_utf8_len(const char *s);

/* A copy of s (malloc'ed; NULL when out of memory) in which every byte that starts no
 * well-formed UTF-8 character is replaced by U+FFFD: program output with byte 0xFF
 * must not make a JSON, TAP or HTML report invalid (README.md, "Reports"). */
char *gc_utf8_fix(const char *s);

#endif
