/* progress.h - a one-line progress display on stderr for runs longer than a second,
 * shown only when stderr is a terminal. */
#ifndef GC_PROGRESS_H
#define GC_PROGRESS_H

#include <stddef.h>
#include <time.h>
#include "gradcheck.h"

typedef struct gc_progress {
	int enabled;            /* stderr is a terminal */
	int shown;              /* a line is on the screen */
	size_t cases, case_index;
	const char *path;
	struct timespec start, case_start, last;
} gc_progress;

/* Starts timing a run of `cases` cases.  Returns the callback for the checks
 * (gc_progress_update, to be called with p), or NULL when nothing is shown. */
gc_progress_fn gc_progress_start(gc_progress *p, size_t cases);
void gc_progress_case(gc_progress *p, size_t index, const char *path);
/* The progress callback; arg is the gc_progress. */
void gc_progress_update(void *arg, size_t done, size_t total);
/* Clears the line, if one is shown (before other output to stderr, and at the end). */
void gc_progress_clear(gc_progress *p);

#endif
