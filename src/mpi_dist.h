/* mpi_dist.h - the MPI build (make MPI=1): one check run spread over the ranks of an
 * mpirun or srun job (README "On a cluster").  Every rank runs every case; gc_check
 * computes a cost-balanced share of the elements on each rank (gc_spread), rank 0
 * gathers the element results and writes the report, and every rank exits with rank
 * 0's status.  Waits for another rank are bounded: a rank that waits longer than
 * its own work on the case took plus --rank-timeout seconds aborts the job.
 *
 * The functions return 0, or -1 with a message in msg ("rank 2 sent no results
 * ..."); the caller prints it and calls gc_dist_abort. */
#ifndef GC_MPI_DIST_H
#define GC_MPI_DIST_H

#include <stddef.h>
#include "runner.h"

typedef struct gc_dist gc_dist;

/* Joins the MPI job (a job of one rank when not started by mpirun) and prepares ro
 * for this rank: the gc_spread hook, --jobs defaulting to the processors per rank on
 * this node, and on ranks other than 0 no --record.  On success *out owns the job
 * (gc_dist_finish ends it). */
int gc_dist_start(gc_run_options *ro, double rank_timeout, gc_dist **out, char *msg,
                  size_t len);

/* 0 on the rank that prints and writes the report. */
int gc_dist_rank(const gc_dist *d);

/* Before each case: what it is (a case file or a --model command), for messages;
 * borrowed until the case is done. */
void gc_dist_case_begin(gc_dist *d, const char *what);

/* After each case, on every rank: tells rank 0 how the case went here; on rank 0,
 * an error on another rank makes the case an error ("rank R: its message"). */
int gc_dist_case_done(gc_dist *d, gc_case_outcome *out, char *msg, size_t len);

/* Every rank returns rank 0's exit status; ends MPI and frees d. */
int gc_dist_finish(gc_dist *d, int status, int *exit_status, char *msg, size_t len);

/* Ends the whole job with status (MPI_Abort); does not return. */
void gc_dist_abort(gc_dist *d, int status);

#endif
