/* runner.h - checks one network case from file to verdict: load, obtain the gradient
 * under test (built-in backpropagation, an external program or a gradient file),
 * compare it with finite differences, check the expect block and golden files. */
#ifndef GC_RUNNER_H
#define GC_RUNNER_H

#include "case.h"
#include "gradcheck_report.h"
#include "sandbox.h"

typedef struct gc_run_options {
	gc_options check;       /* command-line values; a case's check block overrides */
	const char *exec_cmd;   /* --exec: external implementation, or NULL */
	double timeout;         /* --exec time limit, --model limit per answer, in seconds */
	double run_timeout;     /* --run-timeout: limit for a whole --model run (INFINITY: none) */
	const gc_sandbox *sandbox;  /* --sandbox: where --exec runs; NULL or disabled: directly */
	const char *grad_path;  /* --grad: a precomputed gradient file, or NULL */
	const char *record_dir; /* --record DIR, or NULL */
	const char *golden_dir; /* --golden DIR, or NULL */
	int force;              /* --force: --record may replace different files */
	int single;             /* --precision single: tolerances for float32 code */
	gc_case_limits limits;  /* caps on cases, gradient files and --exec output */
	gc_progress_fn progress;        /* optional: told how each case's check advances */
	void *progress_arg;
} gc_run_options;

/* What checking one case produced; report points into the other fields. */
typedef struct gc_case_outcome {
	gc_case_report report;
	char *name;
	char *error;
	gc_result *result;
	char **notes;
	size_t n_notes;
	gc_case *kase;          /* the loaded case (the result's tensor names point into it);
	                           NULL when it could not be loaded */
	gc_options used;        /* the options after the case's overrides */
	char *kept_record;      /* --record left this different file alone (no --force) */
	struct gc_model *model; /* --model: what the program announced (tensor names); or NULL */
	char digest[GC_CASE_DIGEST_LEN + 1];   /* sharded runs: gc_case_digest; else empty */
} gc_case_outcome;

/* Checks the case at path.  Every problem with the case or the implementation
 * under test becomes an error outcome (report.status GC_CASE_ERROR); the return
 * value is nonzero only when memory ran out. */
int gc_run_case(const char *path, const gc_run_options *ro, gc_case_outcome *out);

/* Appends a note (printf-formatted) to out: GC_OK or GC_ENOMEM. */
int gc_case_note(gc_case_outcome *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --golden: a note for each tensor whose gradient grad drifted from golden (read from
 * path) beyond the tolerances of out->result.  GC_OK or GC_ENOMEM. */
int gc_golden_notes(gc_case_outcome *out, const gc_tensor *tensors, size_t n_tensors,
                    const double *grad, const double *golden, const char *path);
void gc_case_outcome_free(gc_case_outcome *out);

#endif
