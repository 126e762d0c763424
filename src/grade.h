/* grade.h - grade a class: every case for every submission, each program in the
 * sandbox, submissions side by side (README, "Grading a class"). */
#ifndef GC_GRADE_H
#define GC_GRADE_H

#include <stdio.h>
#include "runner.h"
#include "sandbox.h"

typedef struct gc_grade_options {
	gc_run_options run;     /* run.exec_cmd holds "{}" where the submission's path goes;
	                           run.sandbox: the class's sandbox (the submission is added) */
	unsigned jobs;          /* submissions graded at once (>= 1) */
	double budget;          /* seconds for all the cases of one submission (INFINITY: none) */
} gc_grade_options;

/* One submission's results. */
typedef struct gc_submission {
	char *id;               /* the path's last component: the row's name */
	char *path;             /* as given */
	char *error;            /* the submission could not be graded at all (no such path);
	                           NULL otherwise */
	gc_case_outcome *outcomes;      /* (n_cases), in the order of the cases */
	gc_case_report *reports;        /* (n_cases) views into outcomes, for report writers */
	size_t n_cases, passed, failed, errors;
	double seconds;         /* wall time of all its cases */
	char *first;            /* "CASE: what went wrong" for the first case that did not
	                           pass; NULL when every case passed */
} gc_submission;

typedef struct gc_class {
	gc_submission *subs;
	size_t n_subs;
	size_t n_cases;
	char **case_names;      /* (n_cases) from the first submission's outcomes */
} gc_class;

/* The id of a submission path: its last component, trailing slashes ignored.
 * Malloc'ed; NULL when out of memory. */
char *gc_grade_id(const char *path);

/* cmd with every "{}" replaced by path quoted for /bin/sh.  Malloc'ed, or NULL. */
char *gc_grade_command(const char *cmd, const char *path);

/* Grades n_subs submissions against n_cases case files.  Never stops on a bad
 * submission: whatever it does becomes error outcomes of its own cases.  Returns
 * GC_OK with *out filled (free with gc_class_free), GC_ENOMEM, or GC_ETHREAD with
 * err set. */
int gc_grade(const gc_grade_options *go, const char *const *cases, size_t n_cases,
             const char *const *subs, size_t n_subs, gc_class *out, gc_error *err);
void gc_class_free(gc_class *c);

/* The short reason of a case that did not pass, as in the class report's "first
 * diagnosis": the first diagnosis, note or failing tensor of a failed case; for an
 * error, the external program's failure ("memory limit (4096 MiB)") or the message's
 * first line.  Malloc'ed; NULL when out of memory or the case passed. */
char *gc_grade_reason(const gc_case_outcome *o);

/* ---- class reports (report_class.c) ---------------------------------------------- */

typedef enum gc_class_format { GC_CLASS_TEXT, GC_CLASS_CSV, GC_CLASS_JSON, GC_CLASS_HTML }
	gc_class_format;

/* "text", "csv", "json", "html"; the parser returns GC_OK or GC_EINVAL. */
int gc_class_format_parse(const char *s, gc_class_format *out);

/* The score of a submission in percent of its cases that passed. */
double gc_submission_score(const gc_submission *s);

/* Text: one row per submission, the distribution of diagnoses across the class, and
 * a last line "N submissions: P passed every case, F did not". */
int gc_class_text(FILE *out, const gc_class *c);
/* CSV (RFC 4180): id,score,passed,total,seconds,first_diagnosis. */
int gc_class_csv(FILE *out, const gc_class *c);
/* JSON: every submission with its whole per-case report (as --format json writes it). */
int gc_class_json(FILE *out, const gc_class *c, const gc_report_options *o);
/* HTML: DIR/index.html, a sortable overview, and DIR/ID.html, each submission's per-case
 * report.  DIR is created when missing; every file is written atomically. */
int gc_class_html(const char *dir, const gc_class *c, const gc_report_options *o, gc_error *err);

#endif
