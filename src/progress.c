#include <stdio.h>
#include <unistd.h>
#include "progress.h"

#define GC_PROGRESS_DELAY 1.0   /* seconds before the first line */
#define GC_PROGRESS_PERIOD 0.1  /* seconds between updates */

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + 1e-9 * (double)(now.tv_nsec - t->tv_nsec);
}

gc_progress_fn gc_progress_start(gc_progress *p, size_t cases)
{
	p->enabled = isatty(STDERR_FILENO);
	p->shown = 0;
	p->cases = cases;
	p->case_index = 0;
	p->path = "";
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->case_start = p->last = p->start;
	return p->enabled ? gc_progress_update : NULL;
}

void gc_progress_case(gc_progress *p, size_t index, const char *path)
{
	p->case_index = index;
	p->path = path;
	clock_gettime(CLOCK_MONOTONIC, &p->case_start);
}

void gc_progress_update(void *arg, size_t done, size_t total)
{
	gc_progress *p = arg;
	double elapsed = seconds_since(&p->case_start), rate;

	if (seconds_since(&p->start) < GC_PROGRESS_DELAY ||
	    seconds_since(&p->last) < GC_PROGRESS_PERIOD)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	rate = elapsed > 0 ? (double)done / elapsed : 0;
	fprintf(stderr, "\rgradcheck: case %zu/%zu %s: %zu/%zu elements, %.0f/s, %.1f s left\033[K",
	        p->case_index + 1, p->cases, p->path, done, total, rate,
	        rate > 0 ? (double)(total - done) / rate : 0.0);
	p->shown = 1;
}

void gc_progress_clear(gc_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}
