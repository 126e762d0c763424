/* cleanup.c - the registry of temporary files and process groups that a signal must
 * not leave behind (cleanup.h).  Each slot is FREE, then BUSY while a thread fills or
 * empties it, LIVE when registered, and TAKEN once gc_cleanup_run claimed it: moves
 * between states are compare-and-swaps, so the handler never reads a path that a
 * thread is freeing, and a thread never frees a path the handler is removing. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_POINTER_LOCK_FREE == 2,
               "the registry is read from a signal handler: its atomics must be lock-free");

#define FILE_SLOTS  1088        /* one --record/-o file per job (--jobs <= 1024) and some */
#define GROUP_SLOTS 2112        /* an --exec or --model program per job, and grade's */

enum { FREE, BUSY, LIVE, TAKEN };

static atomic_int file_state[FILE_SLOTS];
static char *_Atomic file_path[FILE_SLOTS];
static atomic_int group_state[GROUP_SLOTS];
static atomic_int group_id[GROUP_SLOTS];
static atomic_int holders;      /* threads between gc_cleanup_hold and _release */

/* Claims a FREE slot of state[n] (now BUSY); -1 when none is free. */
static int claim(atomic_int *state, int n)
{
	for (int i = 0; i < n; i++) {
		int expect = FREE;
		if (atomic_compare_exchange_strong(&state[i], &expect, BUSY))
			return i;
	}
	return -1;
}

int gc_cleanup_file_add(const char *path)
{
	char *copy = strdup(path);
	int i = copy ? claim(file_state, FILE_SLOTS) : -1;

	if (i < 0) {
		free(copy);
		return 0;
	}
	atomic_store(&file_path[i], copy);
	atomic_store(&file_state[i], LIVE);
	return i + 1;
}

void gc_cleanup_file_remove(int handle)
{
	int i = handle - 1, expect = LIVE;

	if (i < 0 || i >= FILE_SLOTS ||
	    !atomic_compare_exchange_strong(&file_state[i], &expect, BUSY))
		return;         /* TAKEN: gc_cleanup_run is removing it */
	free(atomic_exchange(&file_path[i], NULL));
	atomic_store(&file_state[i], FREE);
}

int gc_cleanup_group_add(pid_t pgid)
{
	int i = pgid > 0 ? claim(group_state, GROUP_SLOTS) : -1;

	if (i < 0)
		return 0;
	atomic_store(&group_id[i], (int)pgid);
	atomic_store(&group_state[i], LIVE);
	return i + 1;
}

void gc_cleanup_group_remove(int handle)
{
	int i = handle - 1, expect = LIVE;

	if (i >= 0 && i < GROUP_SLOTS &&
	    atomic_compare_exchange_strong(&group_state[i], &expect, FREE))
		atomic_store(&group_id[i], 0);
}

void gc_cleanup_hold(sigset_t *saved)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, saved);
	atomic_fetch_add(&holders, 1);
}

void gc_cleanup_release(const sigset_t *saved)
{
	atomic_fetch_sub(&holders, 1);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Waits until no thread holds, but not forever: a holder may wait for a lock that
 * the interrupted thread holds (inside malloc, say). */
static void wait_for_holders(void)
{
	const struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < GC_CLEANUP_WAIT_MS && atomic_load(&holders) > 0; i++)
		nanosleep(&ms, NULL);
}

void gc_cleanup_run(void)
{
	wait_for_holders();
	for (int i = 0; i < GROUP_SLOTS; i++) {
		int expect = LIVE;
		if (atomic_compare_exchange_strong(&group_state[i], &expect, TAKEN))
			kill(-(pid_t)atomic_load(&group_id[i]), SIGKILL);
	}
	for (int i = 0; i < FILE_SLOTS; i++) {
		int expect = LIVE;
		if (atomic_compare_exchange_strong(&file_state[i], &expect, TAKEN))
			unlink(atomic_load(&file_path[i]));
	}
}
