/* report_json.h - the JSON report read back: what gc_report_json writes (README.md,
 * "Reports"), parsed into the structures it was written from, so that writing what was
 * read gives the same text again.  gc_merge_reports reads the shards' reports with it. */
#ifndef GC_REPORT_JSON_H
#define GC_REPORT_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "gradcheck_report.h"

typedef struct gc_json_report {
	char *text;             /* the source (positions for later messages: see gc_jctx) */
	size_t len;
	cJSON *root;            /* the parsed text; the strings below point into it */
	const char *version;
	gc_report_options options;      /* check.shard_index/shard_count 0/0 when "shard"
	                                   is null */
	gc_case_report *cases;  /* (n_cases) results and notes arrays owned */
	size_t n_cases;
} gc_json_report;

/* Reads a JSON report from text (len bytes, taken over: freed by gc_json_report_free,
 * also on failure).  path names the input in messages.  Every field the writer writes
 * is checked (type, range, names of statuses, verdicts, methods and diagnosis kinds);
 * a case's result has every element, those not listed GC_ELEM_SKIPPED (NULL in fast
 * mode).  A report of a shard of a full (not --fast) run must list its elements.
 * Returns GC_OK, or GC_EINVAL / GC_ENOMEM with err filled (file, line:col, key path). */
int gc_report_json_read(char *text, size_t len, const char *path, gc_json_report *out,
                        gc_error *err);

/* The same, from the file at path (at most max bytes): GC_EIO when it cannot be read. */
int gc_report_json_load(const char *path, size_t max, gc_json_report *out, gc_error *err);

void gc_json_report_free(gc_json_report *r);

#endif
