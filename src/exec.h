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
	double seconds;              /* wall time (the limit when timed out) */
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
 * be waited for).  Distinct calls may run in different threads at once; the only shared
 * state is the signal cleanup's registry (cleanup.h), where each running program's
 * process group is listed until it is reaped.
 *
 * Returns GC_OK when the program ran, whatever its exit status (the caller judges, e.g.
 * with gc_exec_describe), with *res filled; GC_EINVAL (cmd NULL, input NULL with
 * input_len > 0, timeout NaN or <= 0), GC_ENOMEM or GC_EIO (a pipe, fork or poll failed)
 * with err->msg set and *res zeroed otherwise.
 */
int gc_exec_run(const char *cmd, const char *input, size_t input_len, double timeout,
		size_t max_output, gc_exec_result *res, gc_error *err);

struct gc_sandbox;
/* gc_exec_run with the command inside the sandbox sb (sandbox.h) when sb is not NULL
 * and enabled: the program is then bwrap, which runs /bin/sh -c cmd inside; killing
 * the group kills bwrap, and with it everything in the sandbox's PID namespace.
 * Besides gc_exec_run's errors, GC_EINVAL when the sandbox's command line cannot be
 * built (bwrap missing, a read-only path that does not exist). */
int gc_exec_run_sandboxed(const char *cmd, const struct gc_sandbox *sb, const char *input,
			  size_t input_len, double timeout, size_t max_output,
			  gc_exec_result *res, gc_error *err);

/* Frees the buffers and zeroes *res; accepts NULL and a zeroed struct. */
void gc_exec_result_free(gc_exec_result *res);

/* Writes one line describing a failed run into buf and returns buf: "timed out after 30 s",
 * "output over 64 MiB", "killed by signal 9", "exit status 3" (in that priority); returns
 * NULL when the program exited with status 0 and was not killed ("did not run" for a
 * zeroed struct).  Sizes print as "N MiB", "N KiB" or "N bytes". */
const char *gc_exec_describe(const gc_exec_result *res, char *buf, size_t size);

/*
 * Co-processes (`--model`): a program that stays alive and is spoken to one line at a
 * time.  gc_coproc_start is the one place where such programs are started: like
 * gc_exec_run, `/bin/sh -c cmd` in a new process group with three non-blocking pipes
 * and nothing else inherited.  The caller queues input with gc_coproc_write, lets
 * gc_coproc_poll move bytes (it never blocks on a pipe, so a program that writes while
 * we write cannot deadlock), takes complete output lines with gc_coproc_line and ends
 * with gc_coproc_finish.  gc_coproc_free always kills the process group and reaps the
 * child if gc_coproc_finish did not.  Not thread-safe: one thread drives its
 * co-processes; SIGPIPE must be ignored as for gc_exec_run.
 */
typedef struct gc_coproc gc_coproc;

/* Starts cmd.  Output not yet taken may grow to max_pending bytes (0: no limit); past
 * it the group is killed and gc_coproc_overflow says so. */
int gc_coproc_start(const char *cmd, size_t max_pending, gc_coproc **out, gc_error *err);
/* The same inside the sandbox sb (sandbox.h) when sb is not NULL and enabled: the
 * co-process and everything it starts die with it; GC_EINVAL when the sandbox's
 * command line cannot be built. */
int gc_coproc_start_sandboxed(const char *cmd, const struct gc_sandbox *sb,
			      size_t max_pending, gc_coproc **out, gc_error *err);

/* Queues n bytes for the program's stdin; GC_ENOMEM when out of memory. */
int gc_coproc_write(gc_coproc *cp, const char *s, size_t n);

/* Bytes queued but not yet taken by the program (0 once its stdin is closed). */
size_t gc_coproc_unsent(const gc_coproc *cp);

/* One round for n co-processes: waits up to timeout seconds (negative or INFINITY:
 * no limit) until one of their pipes is ready, then writes queued input and reads
 * stdout and stderr.  Returns at once when no pipe is left open.  GC_OK, GC_ENOMEM or
 * GC_EIO (with err set). */
int gc_coproc_poll(gc_coproc *const *cps, size_t n, double timeout, gc_error *err);

/* The next complete line of stdout without its newline (and '\r'), NUL-terminated, or
 * NULL when none is complete; at end of output, a last unterminated line too.  The
 * string lives until the next gc_coproc_poll or gc_coproc_free. */
char *gc_coproc_line(gc_coproc *cp, size_t *len);

/* Nonzero once the program's stdout is closed (it exited, or was killed). */
int gc_coproc_eof(const gc_coproc *cp);
/* Nonzero when its output outgrew max_pending and it was killed. */
int gc_coproc_overflow(const gc_coproc *cp);

/* Closes the program's stdin and waits up to grace seconds (0: not at all) for it to
 * exit while reading what it still writes (its lines stay available to
 * gc_coproc_line); then kills what is left of its process group and reaps it.  On
 * GC_OK *res holds the exit status, timed_out (it outlived the grace) and the tail of
 * stderr (res->out is empty); free it with gc_exec_result_free. */
int gc_coproc_finish(gc_coproc *cp, double grace, gc_exec_result *res, gc_error *err);

/* Kills and reaps the program unless gc_coproc_finish did; frees cp.  Accepts NULL. */
void gc_coproc_free(gc_coproc *cp);

#endif
