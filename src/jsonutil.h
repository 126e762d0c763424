/* jsonutil.h - generic JSON helpers (nothing here knows a case): reading files, parsing
 * with line:column errors, checked reads of numbers, vectors and matrices with key-path
 * messages, and exactly-readable number output. */
#ifndef GC_JSONUTIL_H
#define GC_JSONUTIL_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "jsonpos.h"

/* Reads the whole file at path (at most max bytes, checked before and while
 * reading) into a new NUL-terminated buffer *text (free with free()).  Sets
 * err->file to path. */
int gc_json_read_file(const char *path, size_t max, char **text, size_t *len, gc_error *err);

/* Parses text; on a syntax error (or trailing garbage) sets err->msg to
 * "invalid JSON (...)" and err->line/col, and returns NULL.  Free with cJSON_Delete. */
cJSON *gc_json_parse(const char *text, size_t len, gc_error *err);

/* gc_json_parse for files written by programs: the values NaN, Infinity and
 * -Infinity (as Python's json module writes them) parse, and gc_json_number reads
 * them under a gc_jctx with nonfinite set.  Positions in errors are those of text. */
cJSON *gc_json_parse_nonfinite(const char *text, size_t len, gc_error *err);

/* Validation state: the source text (for positions), the error, the current path. */
typedef struct gc_jctx {
	const char *text;
	size_t len;
	gc_error *err;
	gc_jpath path;
	int nonfinite;          /* numbers may be NaN or infinite: bare (gc_json_parse_nonfinite)
	                           or the strings "NaN", "Infinity", "-Infinity" */
} gc_jctx;

/* Sets j->err to "PATH: message" with line:col of the path's value; returns GC_EINVAL. */
int gc_jfail(gc_jctx *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "a string", "an array", ... for messages. */
const char *gc_json_kind(const cJSON *node);

/* Checks that node is an object whose keys are all in allowed (NULL-terminated) or
 * start with '_', and that no key repeats. */
int gc_json_check_keys(gc_jctx *j, const cJSON *node, const char *const *allowed);

/* Nonzero when node is a bare NaN, Infinity or -Infinity that
 * gc_json_parse_nonfinite read (and j->nonfinite is set). */
int gc_json_is_nonfinite(const gc_jctx *j, const cJSON *node);

/* A finite number at node (or any number, NaN included, when j->nonfinite). */
int gc_json_number(gc_jctx *j, const cJSON *node, double *out);

/* An integer in [lo, hi] at node. */
int gc_json_integer(gc_jctx *j, const cJSON *node, double lo, double hi, double *out);

/* A flat array of exactly n finite numbers; note ("b2: n_2") goes into messages. */
int gc_json_read_vector(gc_jctx *j, const cJSON *node, size_t n, const char *note, double *out);

/* A rows x cols matrix written as nested rows, or as a flat array when rows or cols
 * is 1, stored row-major into out.  When transposed is not NULL, a non-square matrix
 * given as cols x rows is accepted too: stored row-major as given, *transposed = 1. */
int gc_json_read_matrix(gc_jctx *j, const cJSON *node, size_t rows, size_t cols,
                        const char *note, double *out, int *transposed);

/* Shortest of %.15g, %.16g, %.17g that reads back as d exactly ("null" if not finite). */
void gc_json_format_double(double d, char buf[32]);

/* The same as a value, for messages: printf("%s", gc_json_num(x).s). */
typedef struct gc_json_numstr { char s[32]; } gc_json_numstr;
gc_json_numstr gc_json_num(double d);

/* New nodes whose numbers print so that they read back exactly (cJSON's own number
 * printing does not guarantee that); NULL when out of memory.  A number that is not
 * finite is null in reports (gc_json_exact_number); gradient files record it as the
 * string "NaN", "Infinity" or "-Infinity" (gc_json_recorded_number, and the vectors
 * and matrices), which gc_json_number reads back where nonfinite is set. */
cJSON *gc_json_exact_number(double d);
cJSON *gc_json_recorded_number(double d);
cJSON *gc_json_exact_vector(const double *v, size_t n);
cJSON *gc_json_exact_matrix(const double *v, size_t rows, size_t cols);     /* nested rows */

/* Replaces every number in the tree by its exact form.  Returns GC_OK, or GC_ENOMEM. */
int gc_json_make_exact(cJSON *node);

#endif
