/* cleanup.h - what a signal must not leave behind (README "Bad input", SIGINT and
 * SIGTERM): the temporary files being written (fileio.c) and the process groups of
 * the programs running (exec.c).  A registry in fixed arrays of lock-free atomics, so
 * that gc_cleanup_run may be called from a signal handler in any thread while other
 * threads add and remove entries. */
#ifndef GC_CLEANUP_H
#define GC_CLEANUP_H

#include <signal.h>
#include <sys/types.h>

/* Registers the file at path (copied) for removal; returns a handle (>= 1) for
 * gc_cleanup_file_remove, or 0 when the registry is full or out of memory (the file
 * is then not removed on a signal).  Handle 0 is accepted everywhere as "none", so a
 * zeroed struct holds none. */
int gc_cleanup_file_add(const char *path);
/* Forgets the file (it was renamed or removed). */
void gc_cleanup_file_remove(int handle);

/* Registers the process group pgid to be killed; a handle, or 0 when full.  Remove it
 * before the group's leader is reaped (its pid could then be reused). */
int gc_cleanup_group_add(pid_t pgid);
void gc_cleanup_group_remove(int handle);

/* Around creating a file or process and registering it: a signal in between would
 * leave it behind.  hold blocks SIGINT and SIGTERM in this thread (saving the mask)
 * and makes gc_cleanup_run, running in another thread, wait for release (at most
 * GC_CLEANUP_WAIT_MS), which restores the mask. */
#define GC_CLEANUP_WAIT_MS 200
void gc_cleanup_hold(sigset_t *saved);
void gc_cleanup_release(const sigset_t *saved);

/* Async-signal-safe: kills (SIGKILL) every registered process group and removes every
 * registered file.  Entries it took stay taken (the process is about to end). */
void gc_cleanup_run(void);

#endif
