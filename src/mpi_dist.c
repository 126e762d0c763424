/* mpi_dist.c - one check run spread over the ranks of an MPI job (see mpi_dist.h and
 * README "On a cluster").  Compiled only by make MPI=1.
 *
 * Every rank runs every case.  gc_check asks share() which of its units this rank
 * computes (every rank computes the same assignment), then gather() moves the
 * results to rank 0.  Rank 0 receives: for each case, every other rank sends it its
 * element results (an ELEMS header and the DATA, from inside gc_check, when it got
 * that far) and then its case STATUS; at the end rank 0 sends each rank the EXIT
 * status.  Only fast mode's gather is answered (RESULT: every unit, so that every
 * rank makes the same choice of tensors to check element by element).  Messages
 * from one rank arrive in the order they were sent, so rank 0 reads each rank's
 * messages of a case in sequence, whatever point either reached: a rank whose case
 * failed before gc_check sends only its STATUS, and rank 0 drops the results of a
 * case it could not check itself (answering an empty RESULT where one is awaited).
 *
 * MPI calls return errors instead of aborting (MPI_ERRORS_RETURN), and every wait
 * polls with a deadline: the time the waiting rank has spent on the case so far plus
 * --rank-timeout (see deadline()).  A rank that dies is reported by mpirun itself,
 * which then ends the job. */
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "mpi_dist.h"
#include "report_common.h"

enum { TAG_ELEMS = 1, TAG_DATA, TAG_STATUS, TAG_EXIT, TAG_RESULT };

/* ELEMS: count elements follow in a DATA message, and with reply the sender waits for
 * a RESULT message of every unit (none when rank 0 could not check the case);
 * STATUS: count is 1 when the case had an error, whose message follows the header
 * in the same message. */
typedef struct msg_head {
	uint64_t case_no;
	uint64_t count;
	uint64_t reply;
} msg_head;

struct gc_dist {
	int rank, size;
	MPI_Datatype elem_type;         /* one gc_element, as bytes (one machine type) */
	gc_spread spread;
	double timeout;                 /* --rank-timeout */
	double t_start, t_case;         /* MPI_Wtime at the start, at the start of the case */
	double t_wait;                  /* when the current wait began */
	const char *what;               /* the current case, for messages */
	uint64_t case_no;
	/* the current gc_check's share */
	const gc_problem *p;
	const size_t *map;
	size_t n;
	unsigned *owner;                /* (n) the rank computing each unit */
	/* rank 0, current case */
	unsigned char *status_seen;     /* (size) STATUS already read (the rank skipped gc_check) */
	char *remote_error;             /* the first other rank's error, and that rank */
	int remote_rank;
	char fatal[2048];               /* set when this rank must end the job */
};

static int fail(gc_dist *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(gc_dist *d, const char *fmt, ...)
{
	va_list ap;

	if (d->fatal[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(d->fatal, sizeof d->fatal, fmt, ap);
	va_end(ap);
	return -1;
}

static int mpi_ok(gc_dist *d, int rc, const char *call)
{
	char text[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (rc == MPI_SUCCESS)
		return 1;
	MPI_Error_string(rc, text, &len);
	fail(d, "rank %d: %s failed: %.*s", d->rank, call, len, text);
	return 0;
}

static const char *case_path(const gc_dist *d)
{
	return d->what ? d->what : "?";
}

/* The moment a wait that starts now gives up: the time spent since `since`, plus
 * --rank-timeout, from now; twice that on the other ranks, so that rank 0, which
 * can name the rank that is late, gives up first. */
static double deadline(gc_dist *d, double since)
{
	double now = MPI_Wtime();

	d->t_wait = now;
	return now + (d->rank ? 2 : 1) * (now - since + d->timeout);
}

static void nap(long *us)
{
	struct timespec ts = { 0, *us * 1000 };

	nanosleep(&ts, NULL);
	if (*us < 20000)
		*us *= 2;
}

/* Waits until a message from peer is there; 0, or -1 (timed out: *late set). */
static int probe(gc_dist *d, int peer, double until, MPI_Status *st, int *late)
{
	int flag = 0;
	long us = 50;

	*late = 0;
	for (;;) {
		if (!mpi_ok(d, MPI_Iprobe(peer, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st), "MPI_Iprobe"))
			return -1;
		if (flag)
			return 0;
		if (MPI_Wtime() > until) {
			*late = 1;
			return -1;
		}
		nap(&us);
	}
}

/* Completes a request; 0, or -1 (timed out: *late set). */
static int complete(gc_dist *d, MPI_Request *req, double until, int *late)
{
	int flag = 0;
	long us = 50;

	*late = 0;
	for (;;) {
		if (!mpi_ok(d, MPI_Test(req, &flag, MPI_STATUS_IGNORE), "MPI_Test"))
			return -1;
		if (flag)
			return 0;
		if (MPI_Wtime() > until) {
			*late = 1;
			return -1;
		}
		nap(&us);
	}
}

/* Sends count items of type to rank dest; 0 or -1. */
static int send_to(gc_dist *d, int dest, const void *buf, size_t count, MPI_Datatype type,
                   int tag, double until, const char *what)
{
	MPI_Request req;
	int late;

	if (count > INT32_MAX)
		return fail(d, "rank %d: %s of %s: %zu items are too many for one MPI message",
		            d->rank, what, case_path(d), count);
	if (!mpi_ok(d, MPI_Isend(buf, (int)count, type, dest, tag, MPI_COMM_WORLD, &req),
	            "MPI_Isend"))
		return -1;
	if (complete(d, &req, until, &late) == 0)
		return 0;
	if (late)
		fail(d, "rank %d: rank %d took no %s of %s within %.0f s (it died or hangs)", d->rank,
		     dest, what, case_path(d), until - d->t_wait);
	return -1;
}

static int send_root(gc_dist *d, const void *buf, size_t count, MPI_Datatype type, int tag,
                     double until, const char *what)
{
	return send_to(d, 0, buf, count, type, tag, until, what);
}

/* Receives the message probed in st from peer into a new buffer (*len bytes). */
static int recv_bytes(gc_dist *d, int peer, const MPI_Status *st, char **buf, int *len)
{
	MPI_Status st2 = *st;

	if (!mpi_ok(d, MPI_Get_count(&st2, MPI_BYTE, len), "MPI_Get_count"))
		return -1;
	*buf = malloc((size_t)*len + 1);
	if (!*buf)
		return fail(d, "rank %d: out of memory", d->rank);
	if (!mpi_ok(d, MPI_Recv(*buf, *len, MPI_BYTE, peer, st->MPI_TAG, MPI_COMM_WORLD,
	                        MPI_STATUS_IGNORE), "MPI_Recv")) {
		free(*buf);
		return -1;
	}
	(*buf)[*len] = '\0';
	return 0;
}

/* Names the first and last element of peer's share, for messages. */
static void describe_share(const gc_dist *d, int peer, char *buf, size_t size)
{
	size_t first = SIZE_MAX, last = 0, count = 0;
	char a[96], b[96];

	for (size_t u = 0; u < d->n; u++)
		if (d->owner[u] == (unsigned)peer) {
			first = first == SIZE_MAX ? u : first;
			last = u;
			count++;
		}
	if (!count || !d->map) {
		snprintf(buf, size, "%zu of %zu %s", count, d->n, d->map ? "elements" : "directions");
		return;
	}
	for (int k = 0; k < 2; k++) {
		size_t i = d->map[k ? last : first], t = 0;
		char *name = k ? b : a;

		if (!d->p->tensors || !d->p->n_tensors) {
			snprintf(name, sizeof a, "theta[%zu]", i);
			continue;
		}
		while (i >= d->p->tensors[t].offset + d->p->tensors[t].rows * d->p->tensors[t].cols)
			t++;
		gc_report_element_name(&d->p->tensors[t], i, name, sizeof a);
	}
	snprintf(buf, size, "%zu of %zu elements, %s to %s", count, d->n, a, b);
}

/* Reads a STATUS message of peer (probed in st). */
static int take_status(gc_dist *d, int peer, const MPI_Status *st)
{
	char *buf;
	int len;
	msg_head h;

	if (recv_bytes(d, peer, st, &buf, &len) != 0)
		return -1;
	if ((size_t)len < sizeof h) {
		free(buf);
		return fail(d, "rank %d sent a short status message", peer);
	}
	memcpy(&h, buf, sizeof h);
	if (h.case_no != d->case_no) {
		free(buf);
		return fail(d, "rank %d is out of step: it sent the status of case %llu during "
		            "case %llu (%s)", peer, (unsigned long long)h.case_no + 1,
		            (unsigned long long)d->case_no + 1, case_path(d));
	}
	d->status_seen[peer] = 1;
	if (h.count && !d->remote_error) {
		d->remote_error = strdup(buf + sizeof h);
		d->remote_rank = peer;
		if (!d->remote_error) {
			free(buf);
			return fail(d, "rank 0: out of memory");
		}
	}
	free(buf);
	return 0;
}

/* Receives peer's element results (ELEMS probed in st) into *elems (*count of them). */
static int take_elements(gc_dist *d, int peer, const MPI_Status *st, double until,
                         gc_element **elems, size_t *count, int *reply)
{
	MPI_Request req;
	msg_head h;
	char *buf;
	int len, late;

	*elems = NULL;
	if (recv_bytes(d, peer, st, &buf, &len) != 0)
		return -1;
	if ((size_t)len != sizeof h) {
		free(buf);
		return fail(d, "rank %d sent a malformed result header", peer);
	}
	memcpy(&h, buf, sizeof h);
	free(buf);
	if (h.case_no != d->case_no)
		return fail(d, "rank %d is out of step: it sent the results of case %llu during "
		            "case %llu (%s)", peer, (unsigned long long)h.case_no + 1,
		            (unsigned long long)d->case_no + 1, case_path(d));
	*count = h.count;
	*reply = h.reply != 0;
	*elems = malloc((h.count ? h.count : 1) * sizeof **elems);
	if (!*elems)
		return fail(d, "rank 0: out of memory for the results of rank %d", peer);
	if (!mpi_ok(d, MPI_Irecv(*elems, (int)h.count, d->elem_type, peer, TAG_DATA,
	                         MPI_COMM_WORLD, &req), "MPI_Irecv"))
		return -1;
	if (complete(d, &req, until, &late) == 0)
		return 0;
	if (late)
		fail(d, "rank %d sent only part of its results of %s within %.0f s (it died or "
		     "hangs)", peer, case_path(d), until - d->t_wait);
	return -1;
}

/* ---- the gc_spread hooks -------------------------------------------------------- */

static int dist_share(void *arg, const gc_problem *p, const size_t *map, const double *cost,
                      size_t n, unsigned char *mine)
{
	gc_dist *d = arg;
	unsigned *owner = realloc(d->owner, (n ? n : 1) * sizeof *owner);
	int rc;

	if (!owner) {
		fail(d, "rank %d: out of memory", d->rank);
		return GC_ENOMEM;
	}
	d->owner = owner;
	d->p = p;
	d->map = map;
	d->n = n;
	rc = gc_spread_assign(cost, n, (unsigned)d->size, owner);
	if (rc) {
		fail(d, "rank %d: %s", d->rank, gc_strerror(rc));
		return rc;
	}
	for (size_t u = 0; u < n; u++)
		mine[u] = owner[u] == (unsigned)d->rank;
	return GC_OK;
}

/* Receives rank 0's RESULT: every unit (or none, when rank 0 could not check). */
static int receive_all(gc_dist *d, gc_element *out, const size_t *map, size_t n, double until)
{
	MPI_Status st;
	gc_element *all;
	int count, late;

	if (probe(d, 0, until, &st, &late) != 0) {
		if (late)
			fail(d, "rank %d: rank 0 sent no results of %s back within %.0f s (it died or "
			     "hangs)", d->rank, case_path(d), until - d->t_wait);
		return -1;
	}
	if (st.MPI_TAG != TAG_RESULT)
		return fail(d, "rank %d is out of step: message tag %d from rank 0 during %s",
		            d->rank, st.MPI_TAG, case_path(d));
	if (!mpi_ok(d, MPI_Get_count(&st, d->elem_type, &count), "MPI_Get_count"))
		return -1;
	all = malloc((n ? n : 1) * sizeof *all);
	if (!all)
		return fail(d, "rank %d: out of memory", d->rank);
	if (!mpi_ok(d, MPI_Recv(all, count, d->elem_type, 0, TAG_RESULT, MPI_COMM_WORLD,
	                        MPI_STATUS_IGNORE), "MPI_Recv")) {
		free(all);
		return -1;
	}
	if ((size_t)count == n)
		for (size_t u = 0; u < n; u++)
			out[map ? map[u] : u] = all[u];
	free(all);
	return 0;
}

static int gather_send(gc_dist *d, gc_element *out, const size_t *map,
                       const unsigned char *mine, size_t n, int everywhere)
{
	size_t count = 0;
	gc_element *buf;
	msg_head h;
	double until = deadline(d, d->t_case);
	int rc;

	for (size_t u = 0; u < n; u++)
		count += mine[u] != 0;
	buf = malloc((count ? count : 1) * sizeof *buf);
	if (!buf)
		return fail(d, "rank %d: out of memory", d->rank);
	for (size_t u = 0, k = 0; u < n; u++)
		if (mine[u])
			buf[k++] = out[map ? map[u] : u];
	h.case_no = d->case_no;
	h.count = count;
	h.reply = everywhere != 0;
	rc = send_root(d, &h, sizeof h, MPI_BYTE, TAG_ELEMS, until, "results");
	if (rc == 0)
		rc = send_root(d, buf, count, d->elem_type, TAG_DATA, until, "results");
	free(buf);
	return rc == 0 && everywhere ? receive_all(d, out, map, n, until) : rc;
}

static int gather_root(gc_dist *d, gc_element *out, const size_t *map, size_t n)
{
	size_t size = (size_t)d->size;
	gc_element **got = calloc(size, sizeof *got), *all = NULL;
	size_t *count = calloc(size, sizeof *count), *next = calloc(size, sizeof *next);
	unsigned char *reply = calloc(size, 1);
	double until = deadline(d, d->t_case);
	int rc = -1, any_reply = 0;

	if (!got || !count || !next || !reply) {
		fail(d, "rank 0: out of memory");
		goto out;
	}
	for (int r = 1; r < d->size; r++) {
		MPI_Status st;
		char share[256];
		size_t want = 0;
		int late;

		for (size_t u = 0; u < n; u++)
			want += d->owner[u] == (unsigned)r;
		if (probe(d, r, until, &st, &late) != 0) {
			if (late) {
				describe_share(d, r, share, sizeof share);
				fail(d, "rank %d sent no results of %s within %.0f s (it died or hangs; "
				     "its share: %s)", r, case_path(d), until - d->t_wait, share);
			}
			goto out;
		}
		if (st.MPI_TAG == TAG_STATUS) {         /* its case failed before gc_check */
			if (take_status(d, r, &st) != 0)
				goto out;
			continue;
		}
		if (st.MPI_TAG != TAG_ELEMS) {
			fail(d, "rank %d is out of step: message tag %d during %s", r, st.MPI_TAG,
			     case_path(d));
			goto out;
		}
		int wants;
		if (take_elements(d, r, &st, until, &got[r], &count[r], &wants) != 0)
			goto out;
		reply[r] = (unsigned char)wants;
		any_reply |= wants;
		if (count[r] != want) {
			fail(d, "rank %d sent %zu results of %s, its share is %zu elements: the ranks "
			     "disagree about the case", r, count[r], case_path(d), want);
			goto out;
		}
	}
	for (size_t u = 0; u < n; u++) {
		unsigned r = d->owner[u];
		if (r != 0 && got[r])
			out[map ? map[u] : u] = got[r][next[r]++];
	}
	if (any_reply) {        /* the ranks that asked get every unit back */
		if (!(all = malloc((n ? n : 1) * sizeof *all))) {
			fail(d, "rank 0: out of memory");
			goto out;
		}
		for (size_t u = 0; u < n; u++)
			all[u] = out[map ? map[u] : u];
		for (int r = 1; r < d->size; r++)
			if (reply[r] && send_to(d, r, all, n, d->elem_type, TAG_RESULT, until,
			                        "results") != 0)
				goto out;
	}
	rc = 0;
out:
	for (size_t r = 0; got && r < size; r++)
		free(got[r]);
	free(got);
	free(all);
	free(count);
	free(next);
	free(reply);
	return rc;
}

static int dist_gather(void *arg, gc_element *out, const size_t *map, const unsigned char *mine,
                       size_t n, int everywhere)
{
	gc_dist *d = arg;
	int rc;

	if (n != d->n) {
		fail(d, "rank %d: gather of %zu units after a share of %zu", d->rank, n, d->n);
		return GC_ESPREAD;
	}
	rc = d->rank ? gather_send(d, out, map, mine, n, everywhere) : gather_root(d, out, map, n);
	d->p = NULL;
	d->map = NULL;
	return rc ? GC_ESPREAD : GC_OK;
}

/* ---- the job ------------------------------------------------------------------- */

static int fatal_message(gc_dist *d, char *msg, size_t len)
{
	snprintf(msg, len, "%s", d->fatal);
	return -1;
}

int gc_dist_start(gc_run_options *ro, double rank_timeout, gc_dist **out, char *msg,
                  size_t len)
{
	gc_dist *d = calloc(1, sizeof *d);
	int provided, local_size = 1;
	MPI_Comm local;

	*out = NULL;
	if (!d) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		snprintf(msg, len, "MPI_Init_thread failed");
		free(d);
		return -1;
	}
	*out = d;
	d->timeout = rank_timeout;
	d->t_start = d->t_case = MPI_Wtime();
	if (!mpi_ok(d, MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
	            "MPI_Comm_set_errhandler") ||
	    !mpi_ok(d, MPI_Comm_rank(MPI_COMM_WORLD, &d->rank), "MPI_Comm_rank") ||
	    !mpi_ok(d, MPI_Comm_size(MPI_COMM_WORLD, &d->size), "MPI_Comm_size") ||
	    !mpi_ok(d, MPI_Type_contiguous((int)sizeof(gc_element), MPI_BYTE, &d->elem_type),
	            "MPI_Type_contiguous") ||
	    !mpi_ok(d, MPI_Type_commit(&d->elem_type), "MPI_Type_commit") ||
	    !mpi_ok(d, MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank,
	                                   MPI_INFO_NULL, &local), "MPI_Comm_split_type") ||
	    !mpi_ok(d, MPI_Comm_size(local, &local_size), "MPI_Comm_size") ||
	    !mpi_ok(d, MPI_Comm_free(&local), "MPI_Comm_free"))
		return fatal_message(d, msg, len);
	if (ro->check.jobs == 0) {      /* the processors of this node, shared by its ranks */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		long per_rank = cpus > 0 ? cpus / local_size : 1;
		ro->check.jobs = per_rank > 1 ? (unsigned)per_rank : 1;
	}
	if (d->size == 1)
		return 0;
	d->status_seen = calloc((size_t)d->size, 1);
	if (!d->status_seen) {
		fail(d, "rank %d: out of memory", d->rank);
		return fatal_message(d, msg, len);
	}
	d->spread = (gc_spread){ .share = dist_share, .gather = dist_gather, .arg = d };
	ro->check.spread = &d->spread;
	if (d->rank != 0)
		ro->record_dir = NULL;
	return 0;
}

int gc_dist_rank(const gc_dist *d)
{
	return d->rank;
}

void gc_dist_case_begin(gc_dist *d, const char *what)
{
	d->what = what;
}

static int case_done_root(gc_dist *d, gc_case_outcome *out)
{
	double until = deadline(d, d->t_case);

	for (int r = 1; r < d->size; r++) {
		while (!d->status_seen[r]) {
			MPI_Status st;
			gc_element *dropped;
			size_t count;
			int late, wants;

			if (probe(d, r, until, &st, &late) != 0) {
				if (late)
					fail(d, "rank %d sent no status of %s within %.0f s (it died or hangs)",
					     r, case_path(d), until - d->t_wait);
				return -1;
			}
			if (st.MPI_TAG == TAG_STATUS) {
				if (take_status(d, r, &st) != 0)
					return -1;
			} else if (st.MPI_TAG == TAG_ELEMS) {   /* rank 0 could not check this case */
				if (take_elements(d, r, &st, until, &dropped, &count, &wants) != 0) {
					free(dropped);
					return -1;
				}
				free(dropped);
				if (wants && send_to(d, r, NULL, 0, d->elem_type, TAG_RESULT, until,
				                     "results") != 0)
					return -1;
			} else {
				return fail(d, "rank %d is out of step: message tag %d after %s", r,
				            st.MPI_TAG, case_path(d));
			}
		}
	}
	if (d->remote_error && !out->error) {
		size_t n = strlen(d->remote_error) + 32;

		if (!(out->error = malloc(n)))
			return fail(d, "rank 0: out of memory");
		snprintf(out->error, n, "rank %d: %s", d->remote_rank, d->remote_error);
		out->report.status = GC_CASE_ERROR;
		out->report.error = out->error;
		out->report.result = NULL;      /* the other rank's elements are missing */
	}
	free(d->remote_error);
	d->remote_error = NULL;
	memset(d->status_seen, 0, (size_t)d->size);
	return 0;
}

static int case_done_other(gc_dist *d, const gc_case_outcome *out)
{
	size_t text = out->error ? strlen(out->error) + 1 : 0;
	char *buf = malloc(sizeof(msg_head) + text);
	msg_head h = { d->case_no, out->error != NULL, 0 };
	int rc;

	if (!buf)
		return fail(d, "rank %d: out of memory", d->rank);
	memcpy(buf, &h, sizeof h);
	if (text)
		memcpy(buf + sizeof h, out->error, text);
	rc = send_root(d, buf, sizeof h + text, MPI_BYTE, TAG_STATUS, deadline(d, d->t_case),
	               "status");
	free(buf);
	return rc;
}

int gc_dist_case_done(gc_dist *d, gc_case_outcome *out, char *msg, size_t len)
{
	if (d->size > 1 && !d->fatal[0])
		(void)(d->rank ? case_done_other(d, out) : case_done_root(d, out));
	if (d->fatal[0])
		return fatal_message(d, msg, len);
	d->case_no++;
	d->t_case = MPI_Wtime();
	d->what = NULL;
	return 0;
}

int gc_dist_finish(gc_dist *d, int status, int *exit_status, char *msg, size_t len)
{
	int32_t code = status;
	int late;

	*exit_status = status;
	if (d->size > 1 && d->rank == 0) {
		double until = deadline(d, d->t_case);
		for (int r = 1; r < d->size; r++) {
			MPI_Request req;
			if (!mpi_ok(d, MPI_Isend(&code, 1, MPI_INT32_T, r, TAG_EXIT, MPI_COMM_WORLD, &req),
			            "MPI_Isend"))
				return fatal_message(d, msg, len);
			if (complete(d, &req, until, &late) != 0) {
				if (late)
					fail(d, "rank %d did not take the exit status within %.0f s (it died "
					     "or hangs)", r, until - d->t_wait);
				return fatal_message(d, msg, len);
			}
		}
	} else if (d->size > 1) {
		double until = deadline(d, d->t_start);
		MPI_Status st;
		if (probe(d, 0, until, &st, &late) != 0) {
			if (late)
				fail(d, "rank %d: rank 0 sent no exit status within %.0f s (it died or "
				     "hangs)", d->rank, until - d->t_wait);
			return fatal_message(d, msg, len);
		}
		if (!mpi_ok(d, MPI_Recv(&code, 1, MPI_INT32_T, 0, TAG_EXIT, MPI_COMM_WORLD,
		                        MPI_STATUS_IGNORE), "MPI_Recv"))
			return fatal_message(d, msg, len);
		*exit_status = code;
	}
	MPI_Type_free(&d->elem_type);
	MPI_Finalize();
	free(d->owner);
	free(d->status_seen);
	free(d->remote_error);
	free(d);
	return 0;
}

void gc_dist_abort(gc_dist *d, int status)
{
	(void)d;
	MPI_Abort(MPI_COMM_WORLD, status);
	exit(status);
}
