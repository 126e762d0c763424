/* exec.c - run `/bin/sh -c CMD` with bytes on stdin, collect stdout and stderr's tail, under a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cleanup.h"
#include "exec.h"
#include "gradcheck.h"
#include "sandbox.h"

#define TAIL_MAX   2048         /* bytes of stderr kept */
#define TAIL_CAP   (4 * TAIL_MAX)
#define READ_CHUNK 65536        /* most bytes read or written per poll round */
#define CLOSE_MAX  65536        /* highest fd closed one by one when close_range is missing */

struct outbuf {
	char *p;
	size_t len, cap;
	size_t limit;            /* max_output, or SIZE_MAX - 2 for none */
};

/* The last bytes of stderr; after anything was dropped it holds at least TAIL_MAX + 1
 * bytes, so the byte before the kept tail is known when cutting at a line boundary. */
struct tail {
	char b[TAIL_CAP];
	size_t len;
};

struct run {
	pid_t pid;
	int fd_in, fd_out, fd_err;   /* our ends of the pipes; -1 once closed */
	const char *input;
	size_t input_len, input_off;
	double deadline;             /* CLOCK_MONOTONIC seconds; INFINITY for none */
	struct outbuf out;
	struct tail err;
	int timed_out, out_overflow;
	int keep_open;               /* co-process: stdin stays open when the input runs out */
	int cleanup;                 /* the group's handle in the signal cleanup (cleanup.h) */
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void set_sys_error(gc_error *err, const char *what, int errnum)
{
	char buf[256];

	if (strerror_r(errnum, buf, sizeof buf) != 0)
		snprintf(buf, sizeof buf, "error %d", errnum);
	gc_error_set(err, "cannot run the external program: %s: %s", what, buf);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);    /* not retried on EINTR: on Linux the fd is gone either way */
		*fd = -1;
	}
}

/* Makes *fd close-on-exec and at least 3, so that dup2 onto 0, 1, 2 in the child
 * never overwrites another pipe end (gradcheck may run with 0, 1 or 2 closed). */
static int fd_prepare(int *fd)
{
	if (*fd < 3) {
		int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);

		if (nfd < 0)
			return -1;
		close(*fd);
		*fd = nfd;
		return 0;
	}
	return fcntl(*fd, F_SETFD, FD_CLOEXEC);
}

static int make_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	if (fd_prepare(&fds[0]) < 0 || fd_prepare(&fds[1]) < 0) {
		int saved = errno;

		close_fd(&fds[0]);
		close_fd(&fds[1]);
		errno = saved;
		return -1;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Closes every fd >= 3, including pipe ends of calls running in other threads
 * that were not yet close-on-exec when we forked (they would keep EOF away). */
static void close_other_fds(long max_fd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	for (long fd = 3; fd < max_fd; fd++)
		close((int)fd);
}

/* In the child: only async-signal-safe calls from here on.  argv: the sandboxed
 * command (sandbox.h), or NULL for plain `/bin/sh -c cmd`. */
static _Noreturn void child_exec(const char *cmd, char *const *argv, const int fds[6],
				 long max_fd, const struct sigaction *dfl, const sigset_t *empty)
{
	setpgid(0, 0);
	if (dup2(fds[0], 0) < 0 || dup2(fds[3], 1) < 0 || dup2(fds[5], 2) < 0)
		_exit(127);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	close_other_fds(max_fd);
	sigaction(SIGPIPE, dfl, NULL);
	sigaction(SIGINT, dfl, NULL);   /* not gradcheck's cleanup (cleanup.h) */
	sigaction(SIGTERM, dfl, NULL);
	sigprocmask(SIG_SETMASK, empty, NULL);
	if (argv) {
		if (gc_sandbox_child_setup() == 0)
			execv(argv[0], argv);
		_exit(127);
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)0);
	_exit(127);
}

/* Creates the pipes and forks; on success r->pid and our three ends are set. */
static int start_child(struct run *r, const char *cmd, char *const *argv, gc_error *err)
{
	int fds[6] = { -1, -1, -1, -1, -1, -1 };   /* in r/w, out r/w, err r/w */
	struct sigaction dfl;
	sigset_t empty, saved;
	long max_fd = sysconf(_SC_OPEN_MAX);
	int fork_errno;
	int status = GC_OK;

	if (max_fd < 0 || max_fd > CLOSE_MAX)
		max_fd = max_fd < 0 ? 1024 : CLOSE_MAX;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&empty);
	for (int i = 0; i < 3; i++) {
		if (make_pipe(&fds[2 * i]) < 0) {
			set_sys_error(err, "pipe", errno);
			status = GC_EIO;
			goto out;
		}
	}
	gc_cleanup_hold(&saved);        /* until the group is in the cleanup */
	r->pid = fork();
	fork_errno = errno;
	if (r->pid == 0)
		child_exec(cmd, argv, fds, max_fd, &dfl, &empty);
	if (r->pid > 0) {
		setpgid(r->pid, r->pid);   /* also here, so the group exists before we may kill it */
		r->cleanup = gc_cleanup_group_add(r->pid);
	}
	gc_cleanup_release(&saved);
	if (r->pid < 0) {
		set_sys_error(err, "fork", fork_errno);
		status = GC_EIO;
		goto out;
	}
	r->fd_in = fds[1];
	r->fd_out = fds[2];
	r->fd_err = fds[4];
	fds[1] = fds[2] = fds[4] = -1;
	if (set_nonblock(r->fd_in) < 0 || set_nonblock(r->fd_out) < 0 || set_nonblock(r->fd_err) < 0) {
		set_sys_error(err, "fcntl", errno);
		status = GC_EIO;   /* the caller kills and reaps the child */
	}
out:
	for (int i = 0; i < 6; i++)
		close_fd(&fds[i]);
	return status;
}

static void kill_group(const struct run *r)
{
	/* Before the child is reaped its pid cannot be reused, so -pid is still our group. */
	if (kill(-r->pid, SIGKILL) < 0 && errno == ESRCH)
		kill(r->pid, SIGKILL);   /* both setpgid calls failed: at least the shell */
}

/* Stops the run: kills the group and closes our pipe ends. */
static void abort_run(struct run *r)
{
	kill_group(r);
	close_fd(&r->fd_in);
	close_fd(&r->fd_out);
	close_fd(&r->fd_err);
}

/* Milliseconds for poll until the deadline (-1: none), at least 1 while time remains. */
static int poll_ms(const struct run *r, double now)
{
	double ms;

	if (isinf(r->deadline))
		return -1;
	ms = ceil((r->deadline - now) * 1000.0);
	if (ms < 1.0)
		return 1;
	return ms > (double)INT_MAX ? INT_MAX : (int)ms;
}

static void write_input(struct run *r)
{
	size_t n = r->input_len - r->input_off;
	ssize_t w;

	if (n > READ_CHUNK)
		n = READ_CHUNK;
	w = write(r->fd_in, r->input + r->input_off, n);
	if (w < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		close_fd(&r->fd_in);   /* EPIPE: the program stopped reading; that is its call */
		return;
	}
	r->input_off += (size_t)w;
	if (r->input_off == r->input_len && !r->keep_open)
		close_fd(&r->fd_in);
}

/* Ensures room for want more bytes plus a NUL. */
static int outbuf_reserve(struct outbuf *o, size_t want)
{
	size_t need = o->len + want + 1, cap = o->cap ? o->cap : READ_CHUNK;
	char *p;

	if (need <= o->cap)
		return GC_OK;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : 2 * cap;
	p = realloc(o->p, cap);
	if (!p)
		return GC_ENOMEM;
	o->p = p;
	o->cap = cap;
	return GC_OK;
}

/* Reads stdout; reads one byte past the limit to notice an overflow. */
static int read_output(struct run *r)
{
	struct outbuf *o = &r->out;
	size_t want = o->limit + 1 - o->len;
	ssize_t n;

	if (want > READ_CHUNK)
		want = READ_CHUNK;
	if (outbuf_reserve(o, want) != GC_OK)
		return GC_ENOMEM;
	n = read(r->fd_out, o->p + o->len, want);
	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			close_fd(&r->fd_out);
		return GC_OK;
	}
	if (n == 0) {
		close_fd(&r->fd_out);
		return GC_OK;
	}
	o->len += (size_t)n;
	if (o->len > o->limit) {
		o->len = o->limit;
		r->out_overflow = 1;
		abort_run(r);
	}
	return GC_OK;
}

static void tail_append(struct tail *t, const char *s, size_t n)
{
	const size_t keep = TAIL_MAX + 1;

	if (t->len + n <= TAIL_CAP) {
		memcpy(t->b + t->len, s, n);
		t->len += n;
	} else if (n >= keep) {
		memcpy(t->b, s + n - keep, keep);
		t->len = keep;
	} else {
		size_t old = keep - n;   /* <= t->len since t->len + n > TAIL_CAP > keep */

		memmove(t->b, t->b + t->len - old, old);
		memcpy(t->b + old, s, n);
		t->len = keep;
	}
}

static void read_errors(struct run *r)
{
	char buf[4096];
	ssize_t n = read(r->fd_err, buf, sizeof buf);

	if (n > 0)
		tail_append(&r->err, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
		close_fd(&r->fd_err);
}

/* The last TAIL_MAX bytes, starting after a newline when they were cut mid-line. */
static char *tail_string(const struct tail *t)
{
	const char *s = t->b;
	size_t n = t->len;
	char *str;

	if (n > TAIL_MAX) {
		s += n - TAIL_MAX;
		n = TAIL_MAX;
		if (s[-1] != '\n') {
			const char *nl = memchr(s, '\n', n);

			if (nl && nl + 1 < s + n) {
				n -= (size_t)(nl + 1 - s);
				s = nl + 1;
			}
		}
	}
	str = malloc(n + 1);
	if (str) {
		memcpy(str, s, n);
		str[n] = '\0';
	}
	return str;
}

/* Feeds stdin and drains stdout and stderr until all three are closed, the deadline
 * passes or stdout overflows. */
static int pump(struct run *r, gc_error *err)
{
	while (r->fd_in >= 0 || r->fd_out >= 0 || r->fd_err >= 0) {
		struct pollfd p[3];
		int *fd[3];
		nfds_t n = 0;
		double now = now_seconds();
		int k;

		if (now >= r->deadline) {
			r->timed_out = 1;
			abort_run(r);
			break;
		}
		if (r->fd_in >= 0) {
			p[n] = (struct pollfd){ .fd = r->fd_in, .events = POLLOUT };
			fd[n++] = &r->fd_in;
		}
		if (r->fd_out >= 0) {
			p[n] = (struct pollfd){ .fd = r->fd_out, .events = POLLIN };
			fd[n++] = &r->fd_out;
		}
		if (r->fd_err >= 0) {
			p[n] = (struct pollfd){ .fd = r->fd_err, .events = POLLIN };
			fd[n++] = &r->fd_err;
		}
		k = poll(p, n, poll_ms(r, now));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			set_sys_error(err, "poll", errno);
			return GC_EIO;
		}
		for (nfds_t i = 0; i < n; i++) {
			/* An earlier handler may have aborted the run and closed this fd. */
			if (!p[i].revents || *fd[i] < 0)
				continue;
			if (fd[i] == &r->fd_in)
				write_input(r);
			else if (fd[i] == &r->fd_err)
				read_errors(r);
			else if (read_output(r) != GC_OK) {
				gc_error_set(err, "out of memory reading the external program's output");
				return GC_ENOMEM;
			}
		}
	}
	return GC_OK;
}

/* Waits, without reaping, until the shell has exited; kills the group at the deadline. */
static void wait_exit(struct run *r)
{
	long step_ns = 1000000;

	for (;;) {
		siginfo_t si;
		double left;

		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return;   /* ECHILD cannot happen for our unreaped child; do not spin */
		}
		if (si.si_pid != 0)
			return;
		left = r->deadline - now_seconds();
		if (left <= 0) {
			r->timed_out = 1;
			kill_group(r);
			return;
		}
		if (step_ns < 50000000)
			step_ns *= 2;
		struct timespec ts = { 0, step_ns };
		if (left < 1e-9 * (double)step_ns)
			ts.tv_nsec = (long)(left * 1e9) + 1;
		nanosleep(&ts, NULL);
	}
}

/* Reaps the shell, first taking its group out of the signal cleanup: once reaped, its
 * pid may be reused. */
static int reap(struct run *r, int *wstatus)
{
	gc_cleanup_group_remove(r->cleanup);
	r->cleanup = 0;
	while (waitpid(r->pid, wstatus, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static void fill_status(gc_exec_result *res, int wstatus)
{
	if (WIFEXITED(wstatus)) {
		res->exited = 1;
		res->exit_code = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		res->signaled = 1;
		res->signal = WTERMSIG(wstatus);
	}
}

static int check_args(const char *cmd, const char *input, size_t input_len, double timeout,
		      gc_error *err)
{
	if (!cmd) {
		gc_error_set(err, "no command to run");
		return GC_EINVAL;
	}
	if (!input && input_len > 0) {
		gc_error_set(err, "no input for the external program");
		return GC_EINVAL;
	}
	if (isnan(timeout) || timeout <= 0) {
		gc_error_set(err, "the timeout must be a positive number of seconds");
		return GC_EINVAL;
	}
	return GC_OK;
}

int gc_exec_run(const char *cmd, const char *input, size_t input_len, double timeout,
		size_t max_output, gc_exec_result *res, gc_error *err)
{
	return gc_exec_run_sandboxed(cmd, NULL, input, input_len, timeout, max_output, res, err);
}

int gc_exec_run_sandboxed(const char *cmd, const gc_sandbox *sb, const char *input,
			  size_t input_len, double timeout, size_t max_output,
			  gc_exec_result *res, gc_error *err)
{
	struct run r = { .pid = -1, .fd_in = -1, .fd_out = -1, .fd_err = -1 };
	double start = now_seconds();
	char **argv = NULL;
	int status, wstatus = 0;

	memset(res, 0, sizeof *res);
	status = check_args(cmd, input, input_len, timeout, err);
	if (status != GC_OK)
		return status;
	if (sb && sb->enabled && (status = gc_sandbox_argv(sb, cmd, &argv, err)) != GC_OK)
		return status;
	r.input = input;
	r.input_len = input_len;
	r.deadline = start + timeout;
	r.out.limit = max_output && max_output < SIZE_MAX - 2 ? max_output : SIZE_MAX - 2;
	status = start_child(&r, cmd, argv, err);
	if (r.pid < 0)
		goto out;
	if (status == GC_OK && input_len == 0)
		close_fd(&r.fd_in);
	if (status == GC_OK)
		status = pump(&r, err);
	if (status != GC_OK)
		abort_run(&r);
	else if (!r.timed_out && !r.out_overflow)
		wait_exit(&r);
	kill_group(&r);   /* whatever is left of the group: background jobs of the shell */
	if (reap(&r, &wstatus) < 0 && status == GC_OK) {
		set_sys_error(err, "waitpid", errno);
		status = GC_EIO;
	}
	if (status != GC_OK)
		goto out;
	res->out = r.out.p ? r.out.p : malloc(1);
	r.out.p = NULL;
	res->err_tail = tail_string(&r.err);
	if (!res->out || !res->err_tail) {
		gc_error_set(err, "out of memory reading the external program's output");
		status = GC_ENOMEM;
		goto out;
	}
	res->out[r.out.len] = '\0';
	res->out_len = r.out.len;
	fill_status(res, wstatus);
	res->timed_out = r.timed_out;
	res->out_overflow = r.out_overflow;
	/* a timeout names the limit, not the wall time a loaded machine took past it */
	res->seconds = r.timed_out ? timeout : now_seconds() - start;
out:
	close_fd(&r.fd_in);
	close_fd(&r.fd_out);
	close_fd(&r.fd_err);
	free(r.out.p);
	gc_sandbox_argv_free(argv);
	if (status != GC_OK)
		gc_exec_result_free(res);
	return status;
}

void gc_exec_result_free(gc_exec_result *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err_tail);
	memset(res, 0, sizeof *res);
}

/* "64 MiB", "3 KiB" or "1000 bytes". */
static void format_size(char *buf, size_t size, size_t n)
{
	if (n > 0 && n % (1024 * 1024) == 0)
		snprintf(buf, size, "%zu MiB", n / (1024 * 1024));
	else if (n > 0 && n % 1024 == 0)
		snprintf(buf, size, "%zu KiB", n / 1024);
	else
		snprintf(buf, size, "%zu bytes", n);
}

const char *gc_exec_describe(const gc_exec_result *res, char *buf, size_t size)
{
	char sz[64];

	if (res->timed_out) {
		snprintf(buf, size, res->seconds >= 10 ? "timed out after %.0f s" : "timed out after %.1f s",
			 res->seconds);
	} else if (res->out_overflow) {
		format_size(sz, sizeof sz, res->out_len);
		snprintf(buf, size, "output over %s", sz);
	} else if (res->signaled) {
		snprintf(buf, size, "killed by signal %d", res->signal);
	} else if (res->exited && res->exit_code != 0) {
		snprintf(buf, size, "exit status %d", res->exit_code);
	} else if (!res->exited) {
		snprintf(buf, size, "did not run");
	} else {
		return NULL;
	}
	return buf;
}

/* ---- co-processes (`--model`): a long-lived program spoken to one line at a time ---- */

struct gc_coproc {
	struct run r;            /* r.input points at in; r.input_off bytes of it are written */
	char *in;
	size_t in_cap;
	size_t line_pos;         /* r.out.p[line_pos .. r.out.len): output not yet taken */
	int reaped;
};

int gc_coproc_start(const char *cmd, size_t max_pending, gc_coproc **out, gc_error *err)
{
	return gc_coproc_start_sandboxed(cmd, NULL, max_pending, out, err);
}

int gc_coproc_start_sandboxed(const char *cmd, const gc_sandbox *sb, size_t max_pending,
			      gc_coproc **out, gc_error *err)
{
	gc_coproc *cp;
	char **argv = NULL;
	int status;

	*out = NULL;
	if (!cmd) {
		gc_error_set(err, "no command to run");
		return GC_EINVAL;
	}
	if (sb && sb->enabled && (status = gc_sandbox_argv(sb, cmd, &argv, err)) != GC_OK)
		return status;
	cp = calloc(1, sizeof *cp);
	if (!cp) {
		gc_sandbox_argv_free(argv);
		gc_error_set(err, "out of memory");
		return GC_ENOMEM;
	}
	cp->r = (struct run){ .pid = -1, .fd_in = -1, .fd_out = -1, .fd_err = -1,
	                      .deadline = INFINITY, .keep_open = 1 };
	cp->r.out.limit = max_pending && max_pending < SIZE_MAX - 2 ? max_pending : SIZE_MAX - 2;
	status = start_child(&cp->r, cmd, argv, err);
	gc_sandbox_argv_free(argv);     /* only the child needed it */
	if (cp->r.pid < 0) {
		free(cp);
		return status;
	}
	if (status != GC_OK) {
		gc_coproc_free(cp);
		return status;
	}
	*out = cp;
	return GC_OK;
}

int gc_coproc_write(gc_coproc *cp, const char *s, size_t n)
{
	struct run *r = &cp->r;
	size_t left = r->input_len - r->input_off;

	if (r->input_off > 0) {          /* drop what is written already */
		memmove(cp->in, cp->in + r->input_off, left);
		r->input_off = 0;
		r->input_len = left;
	}
	if (left + n > cp->in_cap) {
		size_t cap = cp->in_cap ? cp->in_cap : 4096;
		char *p;

		while (cap < left + n)
			cap *= 2;
		if (!(p = realloc(cp->in, cap)))
			return GC_ENOMEM;
		cp->in = p;
		cp->in_cap = cap;
	}
	memcpy(cp->in + left, s, n);
	r->input = cp->in;
	r->input_len = left + n;
	return GC_OK;
}

size_t gc_coproc_unsent(const gc_coproc *cp)
{
	return cp->r.fd_in >= 0 ? cp->r.input_len - cp->r.input_off : 0;
}

/* Moves the output not yet taken to the front of the buffer. */
static void coproc_compact(gc_coproc *cp)
{
	struct outbuf *o = &cp->r.out;

	if (cp->line_pos == 0)
		return;
	memmove(o->p, o->p + cp->line_pos, o->len - cp->line_pos);
	o->len -= cp->line_pos;
	cp->line_pos = 0;
}

int gc_coproc_poll(gc_coproc *const *cps, size_t n, double timeout, gc_error *err)
{
	struct pollfd *p = malloc(3 * (n ? n : 1) * sizeof *p);
	struct { gc_coproc *cp; int *fd; } *who = malloc(3 * (n ? n : 1) * sizeof *who);
	nfds_t m = 0;
	int k, ms, status = GC_OK;

	if (!p || !who) {
		gc_error_set(err, "out of memory");
		status = GC_ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < n; c++) {
		struct run *r = &cps[c]->r;

		coproc_compact(cps[c]);
		if (r->fd_in >= 0 && r->input_off < r->input_len) {
			p[m] = (struct pollfd){ .fd = r->fd_in, .events = POLLOUT };
			who[m].cp = cps[c];
			who[m++].fd = &r->fd_in;
		}
		if (r->fd_out >= 0) {
			p[m] = (struct pollfd){ .fd = r->fd_out, .events = POLLIN };
			who[m].cp = cps[c];
			who[m++].fd = &r->fd_out;
		}
		if (r->fd_err >= 0) {
			p[m] = (struct pollfd){ .fd = r->fd_err, .events = POLLIN };
			who[m].cp = cps[c];
			who[m++].fd = &r->fd_err;
		}
	}
	if (m == 0)
		goto out;
	ms = timeout < 0 || isinf(timeout) ? -1 : timeout * 1000.0 > (double)INT_MAX ? INT_MAX
	     : (int)ceil(timeout * 1000.0);
	k = poll(p, m, ms);
	if (k < 0) {
		if (errno != EINTR) {
			set_sys_error(err, "poll", errno);
			status = GC_EIO;
		}
		goto out;
	}
	for (nfds_t i = 0; i < m; i++) {
		struct run *r = &who[i].cp->r;

		if (!p[i].revents || *who[i].fd < 0)
			continue;
		if (who[i].fd == &r->fd_in)
			write_input(r);
		else if (who[i].fd == &r->fd_err)
			read_errors(r);
		else if (read_output(r) != GC_OK) {
			gc_error_set(err, "out of memory reading the program's output");
			status = GC_ENOMEM;
			goto out;
		}
	}
out:
	free(p);
	free(who);
	return status;
}

char *gc_coproc_line(gc_coproc *cp, size_t *len)
{
	struct outbuf *o = &cp->r.out;
	char *s, *nl;
	size_t n;

	if (cp->line_pos >= o->len)
		return NULL;
	s = o->p + cp->line_pos;
	nl = memchr(s, '\n', o->len - cp->line_pos);
	if (!nl && cp->r.fd_out >= 0)
		return NULL;               /* not complete yet */
	n = nl ? (size_t)(nl - s) : o->len - cp->line_pos;
	cp->line_pos += n + (nl != NULL);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	s[n] = '\0';                       /* the newline, or the spare byte after the data */
	if (len)
		*len = n;
	return s;
}

int gc_coproc_eof(const gc_coproc *cp)
{
	return cp->r.fd_out < 0;
}

int gc_coproc_overflow(const gc_coproc *cp)
{
	return cp->r.out_overflow;
}

int gc_coproc_finish(gc_coproc *cp, double grace, gc_exec_result *res, gc_error *err)
{
	struct run *r = &cp->r;
	int status = GC_OK, wstatus = 0;

	memset(res, 0, sizeof *res);
	if (cp->reaped) {
		gc_error_set(err, "the program was already stopped");
		return GC_EINVAL;
	}
	close_fd(&r->fd_in);
	r->deadline = now_seconds() + (grace > 0 ? grace : 0);
	coproc_compact(cp);
	if (grace > 0)
		status = pump(r, err);
	else
		abort_run(r);
	if (status == GC_OK && !r->timed_out && !r->out_overflow && grace > 0)
		wait_exit(r);
	kill_group(r);
	if (reap(r, &wstatus) < 0 && status == GC_OK) {
		set_sys_error(err, "waitpid", errno);
		status = GC_EIO;
	}
	cp->reaped = 1;
	close_fd(&r->fd_out);
	close_fd(&r->fd_err);
	if (status != GC_OK)
		return status;
	if (!(res->err_tail = tail_string(&r->err)) || !(res->out = malloc(1))) {
		gc_exec_result_free(res);
		gc_error_set(err, "out of memory");
		return GC_ENOMEM;
	}
	res->out[0] = '\0';
	fill_status(res, wstatus);
	res->timed_out = r->timed_out;
	res->out_overflow = r->out_overflow;
	return GC_OK;
}

void gc_coproc_free(gc_coproc *cp)
{
	int wstatus;

	if (!cp)
		return;
	if (!cp->reaped) {
		abort_run(&cp->r);
		reap(&cp->r, &wstatus);
	}
	free(cp->in);
	free(cp->r.out.p);
	free(cp);
}
