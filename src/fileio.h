/* fileio.h - writing files atomically, creating directories. */
#ifndef GC_FILEIO_H
#define GC_FILEIO_H

#include <stddef.h>
#include <stdio.h>
#include "error.h"

/* A file being written under a temporary name in the destination's folder; it
 * replaces the destination only on gc_atomic_commit, so a killed run never leaves
 * half a file; on SIGINT or SIGTERM the temporary file is removed (cleanup.h).  A
 * destination that is a symbolic link or not a regular file (/dev/null, a FIFO,
 * /dev/stdout) is written in place. */
typedef struct gc_atomic_file {
	FILE *fp;               /* write here */
	char *path;
	char *tmp_path;         /* NULL: written in place */
	int cleanup;            /* tmp_path's handle in the signal cleanup (cleanup.h); 0: none */
} gc_atomic_file;

int gc_atomic_open(gc_atomic_file *f, const char *path, gc_error *err);
/* Flushes, syncs and renames over the destination; closes in every case. */
int gc_atomic_commit(gc_atomic_file *f, gc_error *err);
/* Closes and removes the temporary file; accepts a file never opened. */
void gc_atomic_abort(gc_atomic_file *f);

/* Writes len bytes to path atomically. */
int gc_write_file_atomic(const char *path, const char *data, size_t len, gc_error *err);

/* Creates the directory path and its missing parents, like mkdir -p. */
int gc_mkdir_p(const char *path, gc_error *err);

#endif
