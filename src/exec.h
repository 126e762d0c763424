/* exec.h - run an external implementation (`--exec CMD`): bytes in on stdin, bytes out of stdout. */
#ifndef GC_EXEC_H
#define GC_EXEC_H

#include <stddef.h>
#include "error.h"

/*
 * The outcome of one run.  After gc_exec_run() returns GC_OK, out and err_tail are
 * never NULL; both are owned by the struct: release them with gc_exec_result_free().
 * Exactly one of exited / signaled is set (timed_out and out_overflow come with either:
 * the program may have exited on its own before we killed a straggler).
 */
typedef struct gc_exec_result {
	char *out; size_t out_len;   /* stdout bytes as written (may hold NULs), NUL-terminated;
	                              * on out_overflow, the first max_output bytes */
	char *err_tail;              /* last <= 2 KiB of stderr, NUL-terminated, starting at a line
	                              * boundary where possible; "" when nothing was written */
	int exited; int exit_code;   /* normal exit and its code (127: the shell found no command) */
	int signaled; int signal;    /* killed by a signal */
	int timed_out;               /* we killed it after the timeout */
	int out_overflow;            /* stdout exceeded max_output: we killed it */
	double seconds;              /* wall time */
} gc_exec_result;

/*
 * Runs `/bin/sh -c cmd` in a new process group, with input_len bytes of input on its
 * stdin (closed after them; the program may exit without reading them all), collecting
 * stdout up to max_output bytes (0: no limit) and the tail of stderr.  After timeout
 * seconds (> 0; INFINITY for none), or as soon as stdout exceeds max_output, the whole
 * process group is killed with SIGKILL.  Stdin is written while stdout and stderr are
 * read, so a program that writes before it reads, or never reads, cannot deadlock.
 *
 * The program inherits the environment and the working directory; it gets no other file
 * descriptor than the three pipes, an empty signal mask and SIGPIPE at its default.
 * The child is always reaped; once the shell has exited, whatever is left of its process
 * group (background jobs that closed their output) is killed too.  A grandchild that keeps
 * stdout open keeps us reading until the deadline, then it is killed (timed_out).
 *
 * The caller must ignore SIGPIPE (main() sets it to SIG_IGN): writing to a program that
 * stopped reading then fails with EPIPE, which is taken as "the program is done with its
 * input", instead of killing gradcheck.  SIGCHLD must not be SIG_IGN (the child could not
 * be waited for).  No global state: distinct calls may run in different threads at once.
 *
 * Returns GC_OK when the program ran, whatever its exit status (the caller judges, e.g.
 * with gc_exec_describe), with *res filled; GC_EINVAL (cmd NULL, input NULL with
 * input_len > 0, timeout NaN or <= 0), GC_ENOMEM or GC_EIO (a pipe, fork or poll failed)
 * with err->msg set and *res zeroed otherwise.
 */
int gc_exec_run(const char *cmd, const char *input, size_t input_len, double timeout,
		size_t max_output, gc_exec_result *res, gc_error *err);

/* Frees the buffers and zeroes *res; accepts NULL and a zeroed struct. */
void gc_exec_result_free(gc_exec_result *res);

/* Writes one line describing a failed run into buf and returns buf: "timed out after 30 s",
 * "output over 64 MiB", "killed by signal 9", "exit status 3" (in that priority); returns
 * NULL when the program exited with status 0 and was not killed ("did not run" for a
 * zeroed struct).  Sizes print as "N MiB", "N KiB" or "N bytes". */
const char *gc_exec_describe(const gc_exec_result *res, char *buf, size_t size);

#endif
