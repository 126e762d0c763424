/* merge.h - "gradcheck merge": join the JSON reports of the shards of one run. */
#ifndef GC_MERGE_H
#define GC_MERGE_H

#include <stddef.h>
#include "error.h"

/* Merges the JSON reports of shards 1..N of one run (written by gc_report_json
 * with --shard K/N, in any order) into one JSON report whose verdicts, counts, max
 * errors, worst elements and diagnoses equal an unsharded run's.  Checks that the
 * inputs are shards of the same run: same tool version, same options but the shard,
 * same cases and tensors, every shard K/N exactly once with the same N.  A case that
 * is an error in any shard is an error in the merge; cases' notes are united.
 *
 * Returns GC_OK with a new report text in *json (free with free) and in
 * *exit_status 0, 1 or 2 as the unsharded run would have exited (README "Command line").
 * On a malformed or inconsistent input returns nonzero (GC_EINVAL; GC_ENOMEM when
 * memory ran out) and fills err: the file, line:col where known, and a message
 * naming the problem ("cases[2].tensors[0].elements[5]: ...", "shard 2/3 is
 * missing"). */
int gc_merge_reports(const char *const *paths, size_t n, char **json, int *exit_status,
                     gc_error *err);

#endif
