/* sandbox.h - run an untrusted command inside bubblewrap (`bwrap`) with rlimits
 * (README, "Grading a class": what the sandbox promises and what it does not).
 *
 * The sandbox is a wrapper around "spawn /bin/sh -c CMD": gc_sandbox_argv() turns a
 * command into the argument vector that runs it sandboxed, and the child calls
 * gc_sandbox_child_setup() between fork and execv.  gc_exec_run_sandboxed() (exec.h)
 * does both; any other spawner (a long-lived co-process) can do the same. */
#ifndef GC_SANDBOX_H
#define GC_SANDBOX_H

#include <stddef.h>
#include "error.h"

/* Defaults of the limits, documented in --help and README. */
#define GC_SANDBOX_MEM_MIB   4096UL   /* address space of each process */
#define GC_SANDBOX_PROCS     64UL     /* processes (and threads) in the sandbox */
#define GC_SANDBOX_CPU       60UL     /* CPU seconds of each process */
#define GC_SANDBOX_FILES     256UL    /* open files of each process */
#define GC_SANDBOX_FSIZE_MIB 64UL     /* largest file a process may write */
#define GC_SANDBOX_TMP_MIB   256UL    /* size of the scratch folder /tmp (held in memory) */
#define GC_SANDBOX_UID       65534    /* "nobody": the user inside, and outside when root */

typedef struct gc_sandbox {
	int enabled;
	const char *const *read_only;   /* extra paths shown read-only at the same path */
	size_t n_read_only;             /* (e.g. the submission; not owned) */
	const char *const *env;         /* names of environment variables passed through */
	size_t n_env;
	unsigned long mem_mib, procs, cpu_seconds, files, fsize_mib, tmp_mib;
} gc_sandbox;

/* Disabled, no paths, no variables, the default limits. */
void gc_sandbox_init(gc_sandbox *sb);

/*
 * Builds the NULL-terminated argument vector that runs `/bin/sh -c cmd` in the
 * sandbox: bwrap with new user, PID, network, IPC, UTS and cgroup namespaces, user
 * and group GC_SANDBOX_UID, no capabilities, a new session, dying with its parent;
 * /usr (and the /bin, /lib... links into it) and a few files of /etc read-only,
 * fresh /proc and /dev, a private writable tmpfs of tmp_mib at /tmp (HOME, TMPDIR), each of
 * read_only at its own absolute path, everything else absent; the working directory
 * is the caller's (an empty read-only folder unless one of read_only holds it); an
 * environment of PATH, HOME, TMPDIR and the variables named in env (those set);
 * prlimit sets the limits inside.  Paths in read_only must exist; they are made
 * absolute.  On success *argv is owned by the caller (gc_sandbox_argv_free).
 * Returns GC_OK, GC_ENOMEM, or GC_EINVAL with err->msg set (bwrap or prlimit not
 * found, a path that does not exist).
 */
int gc_sandbox_argv(const gc_sandbox *sb, const char *cmd, char ***argv, gc_error *err);
void gc_sandbox_argv_free(char **argv);

/* In the child, between fork and execv of the vector above: when running as root,
 * becomes GC_SANDBOX_UID (without supplementary groups), since the kernel does not
 * apply the process limit to root; changes to "/".  Async-signal-safe.  Returns 0,
 * or -1 when the identity could not be dropped (the child must not exec then). */
int gc_sandbox_child_setup(void);

/* Runs `true` in the sandbox; GC_OK when it works, otherwise GC_EINVAL (or GC_EIO,
 * GC_ENOMEM) with err->msg saying why (bwrap missing, no user namespaces, ...). */
int gc_sandbox_probe(const gc_sandbox *sb, gc_error *err);

struct gc_exec_result;
/* For a run that failed inside the sandbox, names the limit it most likely hit:
 * "CPU time limit (60 s)", "file size limit (64 MiB)", "memory limit (4096 MiB)",
 * "process limit (64)", "open files limit (256)"; NULL when none fits.  The first two
 * are certain (their signals); the others are read from the program's error output
 * (MemoryError, "Cannot allocate memory", "Cannot fork", ...). */
const char *gc_sandbox_describe(const gc_sandbox *sb, const struct gc_exec_result *res,
                                char *buf, size_t size);

#endif
