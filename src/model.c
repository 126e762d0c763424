/* model.c - the loss protocol (README, "Check any model"): a program announces its
 * tensors, theta, gradient and loss in one JSON line, then answers "the loss with
 * theta_i moved by delta" (`i I DELTA`) and "the loss at theta + eps r" (`v SEED EPS`)
 * one a line.  The checking core asks for losses through its per-element hook; here
 * that hook looks answers up in a table.  A check runs in rounds: the core runs once
 * with the table, every value it misses is collected, the misses are sent to the
 * program's copies in pipelined blocks, and the core runs again, until it misses
 * nothing (central differences: two rounds when the first step settles every element,
 * one more per step the ladder of README.md, "Steps", climbs; five-point: three, since
 * GSL picks a second step from the first results).  So the report depends only on the answers, never on
 * which copy gave them or when. */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "exec.h"
#include "fileio.h"
#include "jsonutil.h"
#include "model.h"
#include "report_common.h"

#define GC_MODEL_DIRECTIONS 4   /* --fast: random directions over the whole theta */
#define GC_MODEL_ROUNDS 32      /* the core's step ladder needs at most about 20 */
#define GC_MODEL_BLOCK 512      /* requests given to a copy at a time */
#define GC_MODEL_WINDOW 4096    /* most requests a copy has unanswered */
#define GC_MODEL_GRACE 2.0      /* seconds a program may take to exit after `q` */
#define GC_MODEL_NAME_MAX 64

/* ---- the header ------------------------------------------------------------------ */

void gc_model_free(gc_model *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->theta);
	free(m->grad);
	free(m->tensors);
	if (m->names)
		for (size_t t = 0; t < m->n_tensors; t++)
			free(m->names[t]);
	free(m->names);
	free(m);
}

/* A file-name-safe name from the command: runs of other characters than letters,
 * digits, '.', '-' and '+' become one '_'. */
static char *name_from_command(const char *cmd)
{
	char *s = malloc(GC_MODEL_NAME_MAX + 1);
	size_t n = 0;

	if (!s)
		return NULL;
	for (const char *p = cmd; *p && n < GC_MODEL_NAME_MAX; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		         (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+';
		if (ok)
			s[n++] = *p;
		else if (n > 0 && s[n - 1] != '_')
			s[n++] = '_';
	}
	while (n > 0 && (s[n - 1] == '_' || s[n - 1] == '.'))
		n--;
	while (n > 0 && s[0] == '.') {
		memmove(s, s + 1, --n);
	}
	if (n == 0)
		memcpy(s, "model", n = 5);
	s[n] = '\0';
	return s;
}

static int valid_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > GC_MODEL_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '+' || *s == '_'))
			return 0;
	return 1;
}

static int read_count(gc_jctx *j, const cJSON *obj, const char *key, double lo, double hi,
                      size_t *out)
{
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;
	int rc;

	if (!node)
		return GC_OK;
	gc_jpath_push_key(&j->path, key);
	rc = gc_json_integer(j, node, lo, hi, &v);
	gc_jpath_pop(&j->path);
	if (rc == GC_OK)
		*out = (size_t)v;
	return rc;
}

/* One entry of "tensors": name, shape (rows = first size, cols = the product of the
 * others), layer. */
static int parse_tensor(gc_jctx *j, const cJSON *node, gc_model *m, size_t t, size_t *total,
                        size_t max_params)
{
	static const char *const keys[] = { "name", "shape", "layer", NULL };
	const cJSON *name, *shape, *dim;
	gc_tensor *ts = &m->tensors[t];
	size_t rows = 1, cols = 1, k = 0, layer = 0;

	if (gc_json_check_keys(j, node, keys) != GC_OK)
		return GC_EINVAL;
	name = cJSON_GetObjectItemCaseSensitive(node, "name");
	shape = cJSON_GetObjectItemCaseSensitive(node, "shape");
	if (!cJSON_IsString(name) || !name->valuestring[0]) {
		gc_jpath_push_key(&j->path, "name");
		return gc_jfail(j, name ? "expected a non-empty string" : "required");
	}
	for (size_t u = 0; u < t; u++) {
		if (strcmp(m->names[u], name->valuestring) == 0) {
			gc_jpath_push_key(&j->path, "name");
			return gc_jfail(j, "'%s' names tensors[%zu] too", name->valuestring, u);
		}
	}
	if (!(m->names[t] = strdup(name->valuestring))) {
		gc_error_set(j->err, "out of memory");
		return GC_ENOMEM;
	}
	if (!cJSON_IsArray(shape)) {
		gc_jpath_push_key(&j->path, "shape");
		return gc_jfail(j, shape ? "expected an array of sizes, got %s" : "required",
		                gc_json_kind(shape));
	}
	gc_jpath_push_key(&j->path, "shape");
	cJSON_ArrayForEach(dim, shape) {
		double v;

		gc_jpath_push_index(&j->path, k);
		if (gc_json_integer(j, dim, 1, (double)max_params, &v) != GC_OK)
			return GC_EINVAL;
		gc_jpath_pop(&j->path);
		if (k == 0)
			rows = (size_t)v;
		else if ((cols *= (size_t)v) > max_params)
			return gc_jfail(j, "more than %zu elements", max_params);
		k++;
	}
	if (rows > max_params / cols || rows * cols > max_params - *total)
		return gc_jfail(j, "the tensors have more than %zu elements (--max-params)",
		                max_params);
	gc_jpath_pop(&j->path);
	if (read_count(j, node, "layer", 1, 1e6, &layer) != GC_OK)
		return GC_EINVAL;
	*ts = (gc_tensor){ .name = m->names[t], .offset = *total, .rows = rows, .cols = cols,
	                   .layer = (int)layer, .matrix = k >= 2 };
	*total += rows * cols;
	return GC_OK;
}

static int parse_array(gc_jctx *j, const cJSON *root, const char *key, size_t n, double *out,
                       int finite)
{
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, key);
	int rc;

	gc_jpath_push_key(&j->path, key);
	if (!node)
		return gc_jfail(j, "required");
	rc = gc_json_read_vector(j, node, n, "the sizes of the tensors", out);
	if (rc == GC_OK && finite)
		for (size_t i = 0; i < n; i++)
			if (!isfinite(out[i]))
				return gc_jfail(j, "element %zu is not finite", i);
	gc_jpath_pop(&j->path);
	return rc;
}

int gc_model_parse_header(const char *text, size_t len, const char *cmd,
                          const gc_case_limits *lim, gc_model **out, gc_error *err)
{
	static const char *const keys[] = { "name", "tensors", "loss", "theta", "grad", "batch",
	                                    "outputs", NULL };
	gc_jctx j = { .text = text, .len = len, .err = err };
	cJSON *root = gc_json_parse(text, len, err), *tensors, *item, *node;
	gc_model *m = calloc(1, sizeof *m);
	size_t total = 0, t = 0;
	int rc = GC_EINVAL;

	*out = NULL;
	if (!m) {
		gc_error_set(err, "out of memory");
		rc = GC_ENOMEM;
		goto out;
	}
	if (!root) {
		if (strcmp(err->msg, "out of memory") == 0)
			rc = GC_ENOMEM;
		goto out;
	}
	if (gc_json_check_keys(&j, root, keys) != GC_OK)
		goto out;
	tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
	gc_jpath_push_key(&j.path, "tensors");
	if (!cJSON_IsArray(tensors) || cJSON_GetArraySize(tensors) == 0) {
		gc_jfail(&j, tensors ? "expected a non-empty array of {\"name\", \"shape\"}"
		                     : "required: the list of {\"name\", \"shape\", \"layer\"}");
		goto out;
	}
	m->n_tensors = (size_t)cJSON_GetArraySize(tensors);
	m->tensors = calloc(m->n_tensors, sizeof *m->tensors);
	m->names = calloc(m->n_tensors, sizeof *m->names);
	if (!m->tensors || !m->names) {
		gc_error_set(err, "out of memory");
		rc = GC_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(item, tensors) {
		gc_jpath_push_index(&j.path, t);
		if ((rc = parse_tensor(&j, item, m, t, &total, lim->max_params)) != GC_OK)
			goto out;
		gc_jpath_pop(&j.path);
		t++;
	}
	gc_jpath_pop(&j.path);
	m->n = total;
	m->theta = malloc(total * sizeof *m->theta);
	m->grad = malloc(total * sizeof *m->grad);
	rc = GC_EINVAL;
	if (!m->theta || !m->grad) {
		gc_error_set(err, "out of memory");
		rc = GC_ENOMEM;
		goto out;
	}
	if (parse_array(&j, root, "theta", total, m->theta, 1) != GC_OK ||
	    parse_array(&j, root, "grad", total, m->grad, 0) != GC_OK)
		goto out;
	node = cJSON_GetObjectItemCaseSensitive(root, "loss");
	gc_jpath_push_key(&j.path, "loss");
	if (!node) {
		gc_jfail(&j, "required");
		goto out;
	}
	if (gc_json_number(&j, node, &m->loss) != GC_OK)
		goto out;
	gc_jpath_pop(&j.path);
	if (read_count(&j, root, "batch", 1, 1e15, &m->batch) != GC_OK ||
	    read_count(&j, root, "outputs", 1, 1e15, &m->outputs) != GC_OK)
		goto out;
	node = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (node) {
		gc_jpath_push_key(&j.path, "name");
		if (!cJSON_IsString(node) || !valid_name(node->valuestring)) {
			gc_jfail(&j, "expected a file name: letters, digits, '.', '-', '+', '_', "
			         "at most %d, not starting with '.'", GC_MODEL_NAME_MAX);
			goto out;
		}
		m->name = strdup(node->valuestring);
	} else {
		m->name = name_from_command(cmd);
	}
	if (!m->name) {
		gc_error_set(err, "out of memory");
		rc = GC_ENOMEM;
		goto out;
	}
	*out = m;
	m = NULL;
	rc = GC_OK;
out:
	cJSON_Delete(root);
	gc_model_free(m);
	return rc;
}

/* ---- the +-1 directions of `v SEED EPS` ------------------------------------------ */

static uint64_t splitmix64_at(uint64_t seed, size_t j)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL * ((uint64_t)j + 1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

int gc_model_direction_sign(uint64_t seed, size_t j)
{
	return splitmix64_at(seed, j) >> 63 ? -1 : 1;
}

/* The seed of direction d: 4 SEED + d (mod 2^64), so seeds 0, 1, ... never share one. */
static uint64_t direction_seed(unsigned long seed, size_t d)
{
	return (uint64_t)seed * GC_MODEL_DIRECTIONS + d;
}

/* ---- the table of answers -------------------------------------------------------- */

typedef struct answer {
	size_t i;               /* element (or direction) */
	uint64_t bits;          /* the move delta, bit for bit */
	double loss;
	unsigned char state;    /* 0 empty, 1 asked for, 2 answered */
	unsigned char kink;
} answer;

typedef struct request {
	size_t i;
	double delta;
} request;

typedef struct table {
	answer *slot;
	size_t cap, used;       /* cap a power of two */
	request *missing;       /* values the last core run asked for and did not find */
	size_t n_missing, cap_missing;
	double base;            /* stands in for a missing value */
	int nomem;
} table;

static uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof b);
	return b;
}

static size_t slot_of(const table *tb, size_t i, uint64_t bits)
{
	size_t k = (size_t)splitmix64_at(bits, i) & (tb->cap - 1);

	while (tb->slot[k].state && (tb->slot[k].i != i || tb->slot[k].bits != bits))
		k = (k + 1) & (tb->cap - 1);
	return k;
}

static int table_grow(table *tb)
{
	table bigger = *tb;

	bigger.cap = tb->cap ? 2 * tb->cap : 1024;
	bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
	if (!bigger.slot)
		return GC_ENOMEM;
	for (size_t k = 0; k < tb->cap; k++)
		if (tb->slot[k].state)
			bigger.slot[slot_of(&bigger, tb->slot[k].i, tb->slot[k].bits)] = tb->slot[k];
	free(tb->slot);
	tb->slot = bigger.slot;
	tb->cap = bigger.cap;
	return GC_OK;
}

/* The entry for (i, delta), created (state 0) when new; NULL when out of memory. */
static answer *table_entry(table *tb, size_t i, double delta)
{
	uint64_t bits = bits_of(delta);
	size_t k;

	if (2 * (tb->used + 1) > tb->cap && table_grow(tb) != GC_OK)
		return NULL;
	k = slot_of(tb, i, bits);
	if (!tb->slot[k].state) {
		tb->slot[k] = (answer){ .i = i, .bits = bits };
		tb->used++;
	}
	return &tb->slot[k];
}

/* The core's per-element hook: a known answer, or the base loss after noting the miss. */
static double table_moved(void *ctx, unsigned worker, size_t i, double delta, int *kink)
{
	table *tb = ctx;
	answer *a = table_entry(tb, i, delta);

	(void)worker;
	if (!a) {
		tb->nomem = 1;
		return tb->base;
	}
	if (a->state == 2) {
		*kink = a->kink;
		return a->loss;
	}
	if (a->state == 0) {
		if (tb->n_missing == tb->cap_missing) {
			size_t cap = tb->cap_missing ? 2 * tb->cap_missing : 1024;
			request *p = realloc(tb->missing, cap * sizeof *p);

			if (!p) {
				tb->nomem = 1;
				return tb->base;
			}
			tb->missing = p;
			tb->cap_missing = cap;
		}
		tb->missing[tb->n_missing++] = (request){ i, delta };
		a->state = 1;
	}
	return tb->base;
}

static void table_free(table *tb)
{
	free(tb->slot);
	free(tb->missing);
}

/* ---- the program's copies -------------------------------------------------------- */

#define PROBE SIZE_MAX          /* a request for the loss at theta itself: `i 0 0` */

typedef struct copy {
	gc_coproc *cp;
	size_t *fifo;           /* (GC_MODEL_WINDOW + 2) ring of unanswered request numbers */
	size_t head, count;
	size_t answered;        /* lines taken after the header */
	double waiting_since;   /* when the oldest unanswered request was sent or answered */
	int probes;             /* probe answers seen */
	double probe_loss;      /* the first of them */
	char *header;           /* its header line (copies after the first) */
} copy;

typedef struct session {
	const char *cmd;
	const gc_run_options *ro;
	copy *copies;
	size_t n_copies;
	double deadline;        /* of the whole run */
	gc_model *model;
	int fast;               /* requests are `v` ones */
	size_t done, total;     /* for progress */
	char *msg;              /* the error, once there is one */
	int nomem;              /* memory ran out: the run ends (not a case error) */
} session;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sets the session's error (the first one wins); returns -1. */
static int fail(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(session *s, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (s->msg)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s->msg = strdup(buf);
	if (!s->msg)
		s->msg = strdup("out of memory");
	return -1;
}

/* Memory ran out; returns -1. */
static int oom(session *s)
{
	s->nomem = 1;
	return fail(s, "out of memory");
}

/* "copy 2 of 3: " when there are several copies. */
static const char *which(const session *s, const copy *c, char *buf, size_t size)
{
	if (s->n_copies < 2)
		return "";
	snprintf(buf, size, "copy %zu of %zu: ", (size_t)(c - s->copies) + 1, s->n_copies);
	return buf;
}

/* The request as sent, for messages. */
static void request_text(const session *s, const request *r, char *buf, size_t size)
{
	if (!r)
		snprintf(buf, size, "i 0 0");
	else if (s->fast)
		snprintf(buf, size, "v %" PRIu64 " %.17g",
		         direction_seed(s->ro->check.seed, r->i), r->delta);
	else
		snprintf(buf, size, "i %zu %.17g", r->i, r->delta);
}

/* Stops c and describes how it ended: "; exit status 3; its stderr ends with: ...",
 * or "" when it exited cleanly (or was killed by us) without a word on stderr. */
static void describe_end(copy *c, double grace, char *buf, size_t size)
{
	gc_exec_result res;
	gc_error err = {0};
	char what[128];
	int tail;

	if (gc_coproc_finish(c->cp, grace, &res, &err) != GC_OK) {
		snprintf(buf, size, "; %s", err.msg);
		return;
	}
	if (res.timed_out || !gc_exec_describe(&res, what, sizeof what))
		what[0] = '\0';
	tail = (int)strlen(res.err_tail);
	while (tail > 0 && res.err_tail[tail - 1] == '\n')
		tail--;
	snprintf(buf, size, "%s%s%s%.*s", what[0] ? "; it ended with " : "", what,
	         tail ? "; its stderr ends with:\n" : "", tail, res.err_tail);
	gc_exec_result_free(&res);
}

static int fail_copy(session *s, copy *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* An error about copy c: the message, then how the program ended. */
static int fail_copy(session *s, copy *c, const char *fmt, ...)
{
	char msg[1024], who[64], end[2600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	describe_end(c, 0.2, end, sizeof end);
	return fail(s, "--model '%s': %s%s%s", s->cmd, which(s, c, who, sizeof who), msg, end);
}

static void progress(session *s, size_t count)
{
	size_t before = s->done;

	s->done += count;
	if (s->ro->progress && (s->done / 1000 != before / 1000 || s->done == s->total))
		s->ro->progress(s->ro->progress_arg, s->done, s->total);
}

/* Parses one answer: a finite number, then optionally `k`. */
static int parse_answer(const char *line, double *loss, int *kink)
{
	char *end;

	errno = 0;
	*loss = strtod(line, &end);
	if (end == line)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	*kink = *end == 'k';
	if (*kink)
		end++;
	while (*end == ' ' || *end == '\t')
		end++;
	return *end ? -1 : 0;
}

/* Handles one answer line of copy c for request number id (PROBE or into reqs). */
static int take_answer(session *s, copy *c, const char *line, size_t id, const request *reqs,
                       table *tb)
{
	double loss;
	int kink;
	char req[96];

	request_text(s, id == PROBE ? NULL : &reqs[id], req, sizeof req);
	if (parse_answer(line, &loss, &kink) != 0)
		return fail_copy(s, c, "the answer to '%s' (answer %zu) is not a number: '%.60s'",
		                 req, c->answered, line);
	if (!isfinite(loss))
		return fail_copy(s, c, "the answer to '%s' (answer %zu) is not a finite loss: '%.60s'",
		                 req, c->answered, line);
	if (id == PROBE) {
		double tol = 64 * DBL_EPSILON * fmax(1.0, fabs(s->model->loss));

		if (c->probes++ == 0) {
			c->probe_loss = loss;
			if (fabs(loss - s->model->loss) > tol)
				return fail_copy(s, c, "the loss at theta ('i 0 0') is %.17g, not the "
				                 "announced %.17g", loss, s->model->loss);
		} else if (loss != c->probe_loss) {
			return fail_copy(s, c, "theta changed between requests: the loss at theta "
			                 "('i 0 0') was %.17g before the other requests and %.17g after "
			                 "them (restore theta_i exactly after a move: keep the old value, "
			                 "do not subtract delta)", c->probe_loss, loss);
		}
		return 0;
	}
	answer *a = table_entry(tb, reqs[id].i, reqs[id].delta);
	if (!a)
		return oom(s);
	a->loss = loss;
	a->kink = (unsigned char)kink;
	a->state = 2;
	return 0;
}

/* Queues reqs[from .. to) for copy c, after a probe when probe is set. */
static int send_requests(session *s, copy *c, const request *reqs, size_t from, size_t to,
                         int probe)
{
	char *buf = malloc(64 * (to - from + 1));
	size_t n = 0, window = GC_MODEL_WINDOW + 2;
	int rc;

	if (!buf)
		return oom(s);
	if (c->count == 0)
		c->waiting_since = now_seconds();
	if (probe) {
		n += (size_t)sprintf(buf + n, "i 0 0\n");
		c->fifo[(c->head + c->count++) % window] = PROBE;
	}
	for (size_t k = from; k < to; k++) {
		if (s->fast)
			n += (size_t)sprintf(buf + n, "v %" PRIu64 " %.17g\n",
			                     direction_seed(s->ro->check.seed, reqs[k].i), reqs[k].delta);
		else
			n += (size_t)sprintf(buf + n, "i %zu %.17g\n", reqs[k].i, reqs[k].delta);
		c->fifo[(c->head + c->count++) % window] = k;
	}
	rc = gc_coproc_write(c->cp, buf, n);
	free(buf);
	return rc == GC_OK ? 0 : oom(s);
}

/* Takes every complete line of copy c; -1 on a protocol error. */
static int take_lines(session *s, copy *c, const request *reqs, table *tb, double now)
{
	size_t window = GC_MODEL_WINDOW + 2, taken = 0;
	char *line;

	while ((line = gc_coproc_line(c->cp, NULL))) {
		size_t id;

		if (c->count == 0)
			return fail_copy(s, c, "answered more lines than it was asked for: '%.60s'",
			                 line);
		id = c->fifo[c->head];
		c->head = (c->head + 1) % window;
		c->count--;
		c->answered++;
		if (take_answer(s, c, line, id, reqs, tb) != 0)
			return -1;
		taken += id != PROBE;
	}
	if (taken) {
		c->waiting_since = now;
		progress(s, taken);
	}
	return 0;
}

/* Gives reqs[0 .. n) to the copies in blocks as each has room (after one probe each
 * when probe is set) and takes every answer into tb.  -1 with s->msg on an error. */
static int exchange(session *s, const request *reqs, size_t n, int probe, table *tb)
{
	size_t next = 0, block = n / (4 * s->n_copies);
	gc_coproc **cps = malloc(s->n_copies * sizeof *cps);
	int rc = -1;

	if (!cps)
		return oom(s);
	block = block < 16 ? 16 : block > GC_MODEL_BLOCK ? GC_MODEL_BLOCK : block;
	for (size_t k = 0; k < s->n_copies; k++) {
		cps[k] = s->copies[k].cp;
		if (probe && send_requests(s, &s->copies[k], reqs, 0, 0, 1) != 0)
			goto out;
	}
	for (;;) {
		double now, wait;
		int busy = 0;
		gc_error err = {0};

		for (size_t k = 0; k < s->n_copies; k++) {
			copy *c = &s->copies[k];

			while (next < n && c->count + block <= GC_MODEL_WINDOW) {
				size_t to = n - next < block ? n : next + block;

				if (send_requests(s, c, reqs, next, to, 0) != 0)
					goto out;
				next = to;
			}
			busy |= c->count > 0;
		}
		if (!busy && next == n)
			break;
		now = now_seconds();
		if (now >= s->deadline) {
			fail(s, "--model '%s': the run took longer than --run-timeout %g s", s->cmd,
			     s->ro->run_timeout);
			goto out;
		}
		wait = s->deadline - now;
		for (size_t k = 0; k < s->n_copies; k++) {
			copy *c = &s->copies[k];
			double left = c->waiting_since + s->ro->timeout - now;
			char req[96];

			if (c->count == 0)
				continue;
			if (left <= 0) {
				size_t id = c->fifo[c->head];

				request_text(s, id == PROBE ? NULL : &reqs[id], req, sizeof req);
				fail_copy(s, c, "no answer to '%s' within %g s (after %zu answers); a "
				          "program must flush its output after answering the requests "
				          "it has read", req, s->ro->timeout, c->answered);
				goto out;
			}
			wait = fmin(wait, left);
		}
		if (gc_coproc_poll(cps, s->n_copies, wait, &err) != GC_OK) {
			fail(s, "--model '%s': %s", s->cmd, err.msg);
			goto out;
		}
		now = now_seconds();
		for (size_t k = 0; k < s->n_copies; k++) {
			copy *c = &s->copies[k];

			if (take_lines(s, c, reqs, tb, now) != 0)
				goto out;
			if (c->count > 0 && gc_coproc_eof(c->cp)) {
				char req[96];
				size_t id = c->fifo[c->head];

				request_text(s, id == PROBE ? NULL : &reqs[id], req, sizeof req);
				if (gc_coproc_overflow(c->cp))
					fail_copy(s, c, "wrote a line longer than %zu bytes",
					          s->ro->limits.max_file);
				else
					fail_copy(s, c, "stopped answering after %zu answers; no answer "
					          "to '%s'", c->answered, req);
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(cps);
	return rc;
}

/* Starts the copies and reads their headers; the first one's becomes s->model, and
 * every other must be the same line. */
static int start_copies(session *s)
{
	gc_coproc **cps = malloc(s->n_copies * sizeof *cps);
	size_t have = 0;
	double start = now_seconds();
	int rc = -1;

	if (!cps)
		return oom(s);
	for (size_t k = 0; k < s->n_copies; k++) {
		copy *c = &s->copies[k];
		gc_error err = {0};

		if (!(c->fifo = malloc((GC_MODEL_WINDOW + 2) * sizeof *c->fifo))) {
			oom(s);
			goto out;
		}
		if (gc_coproc_start_sandboxed(s->cmd, s->ro->sandbox, s->ro->limits.max_file,
		                              &c->cp, &err) != GC_OK) {
			fail(s, "--model '%s': %s", s->cmd, err.msg);
			goto out;
		}
		cps[k] = c->cp;
	}
	while (have < s->n_copies) {
		double now = now_seconds(), wait = fmin(start + s->ro->timeout, s->deadline) - now;
		gc_error err = {0};

		if (wait <= 0) {
			for (size_t k = 0; k < s->n_copies; k++)
				if (!s->copies[k].header) {
					fail_copy(s, &s->copies[k], "no header line within %g s",
					          fmin(s->ro->timeout, s->ro->run_timeout));
					goto out;
				}
		}
		if (gc_coproc_poll(cps, s->n_copies, wait, &err) != GC_OK) {
			fail(s, "--model '%s': %s", s->cmd, err.msg);
			goto out;
		}
		for (size_t k = 0; k < s->n_copies; k++) {
			copy *c = &s->copies[k];
			size_t len;
			char *line;

			if (c->header)
				continue;
			if (!(line = gc_coproc_line(c->cp, &len))) {
				if (gc_coproc_eof(c->cp)) {
					fail_copy(s, c, gc_coproc_overflow(c->cp) ? "its header line is "
					          "too long (--max-input-mib)" : "exited before announcing "
					          "its tensors");
					goto out;
				}
				continue;
			}
			if (!(c->header = strdup(line))) {
				oom(s);
				goto out;
			}
			have++;
			c->waiting_since = now_seconds();
		}
	}
	for (size_t k = 1; k < s->n_copies; k++) {
		if (strcmp(s->copies[k].header, s->copies[0].header) != 0) {
			fail(s, "--model '%s': copies 1 and %zu of the program announced different "
			     "headers (theta, gradient or loss); with --jobs N every copy must compute "
			     "the same numbers: seed its random numbers, or use --jobs 1", s->cmd, k + 1);
			goto out;
		}
	}
	gc_error err = {0};
	int st = gc_model_parse_header(s->copies[0].header, strlen(s->copies[0].header), s->cmd,
	                               &s->ro->limits, &s->model, &err);
	if (st == GC_ENOMEM) {
		oom(s);
		goto out;
	}
	if (st != GC_OK) {
		fail(s, "--model '%s': header, column %ld: %s", s->cmd, err.col, err.msg);
		goto out;
	}
	rc = 0;
out:
	free(cps);
	return rc;
}

/* Asks each copy for the loss at theta once more, sends `q` and waits for the exit. */
static int stop_copies(session *s, table *tb)
{
	if (exchange(s, NULL, 0, 1, tb) != 0)
		return -1;
	for (size_t k = 0; k < s->n_copies; k++)
		if (gc_coproc_write(s->copies[k].cp, "q\n", 2) != GC_OK)
			return oom(s);
	for (size_t k = 0; k < s->n_copies; k++) {
		copy *c = &s->copies[k];
		gc_exec_result res;
		gc_error err = {0};
		gc_coproc *cps[1] = { c->cp };
		char *line, who[64], what[128];

		while (gc_coproc_unsent(c->cp) > 0 && !gc_coproc_eof(c->cp))
			if (gc_coproc_poll(cps, 1, GC_MODEL_GRACE, &err) != GC_OK)
				break;
		if (gc_coproc_finish(c->cp, GC_MODEL_GRACE, &res, &err) != GC_OK)
			return fail(s, "--model '%s': %s", s->cmd, err.msg);
		line = gc_coproc_line(c->cp, NULL);
		if (line && *line) {
			gc_exec_result_free(&res);
			return fail(s, "--model '%s': %sanswered more lines than it was asked for: "
			            "'%.60s'", s->cmd, which(s, c, who, sizeof who), line);
		}
		if (!res.timed_out && gc_exec_describe(&res, what, sizeof what)) {
			fail(s, "--model '%s': %sended with %s after 'q'", s->cmd,
			     which(s, c, who, sizeof who), what);
			gc_exec_result_free(&res);
			return -1;
		}
		gc_exec_result_free(&res);
	}
	return 0;
}

/* ---- rounds ------------------------------------------------------------------------ */

/* Runs the core on p until it finds every value it asks for in tb. */
static int run_rounds(session *s, const gc_problem *p, const gc_options *o, table *tb,
                      gc_result **out)
{
	gc_options lo = *o;
	gc_spread share_only;

	lo.jobs = 1;            /* the hook is a table look-up: the copies do the work */
	if (o->spread) {        /* MPI (README "On a cluster"): the rounds ask only for this
	                           process's share; a last check, all found, gathers them */
		share_only = *o->spread;
		share_only.gather = NULL;
		lo.spread = &share_only;
	}
	tb->base = p->loss;
	for (int round = 0;; round++) {
		gc_result *r = NULL;
		int rc;

		tb->n_missing = 0;
		if ((rc = gc_check(p, &lo, &r)) != GC_OK || tb->nomem) {
			gc_result_free(r);
			return tb->nomem || rc == GC_ENOMEM ? oom(s) : fail(s, "%s", gc_strerror(rc));
		}
		if (tb->n_missing == 0 && lo.spread != o->spread) {
			gc_result_free(r);
			lo.spread = o->spread;
			round--;
			continue;
		}
		if (tb->n_missing == 0) {
			*out = r;
			return 0;
		}
		gc_result_free(r);
		if (round == GC_MODEL_ROUNDS)
			return fail(s, "--model '%s': the check still asked for new losses after %d "
			            "rounds", s->cmd, GC_MODEL_ROUNDS);
		s->total = s->done + tb->n_missing;
		if (exchange(s, tb->missing, tb->n_missing, 0, tb) != 0)
			return -1;
	}
}

/* Element by element: the core's own problem, with the tensors the program announced. */
static int check_elements(session *s, const gc_options *o, table *tb, gc_result **out)
{
	const gc_model *m = s->model;
	gc_problem p = {
		.n = m->n, .theta = m->theta, .grad = m->grad, .loss = m->loss,
		.moved = table_moved, .ctx = tb, .tensors = m->tensors, .n_tensors = m->n_tensors,
		.batch = m->batch, .outputs = m->outputs,
	};

	return run_rounds(s, &p, o, tb, out);
}

/* --fast: the loss along GC_MODEL_DIRECTIONS +-1 directions r_d over the whole theta,
 * as a problem of that many coefficients at 0 whose gradient is (grad . r_d); the step
 * is the core's fast-mode one, cbrt(eps) max(1, max |theta|), unless --step. */
static int check_fast(session *s, const gc_options *o, table *tb, gc_result **out)
{
	static const char name[] = "directions";
	const gc_model *m = s->model;
	double zero[GC_MODEL_DIRECTIONS] = {0}, dot[GC_MODEL_DIRECTIONS], big = 0;
	gc_tensor t = { name, 0, GC_MODEL_DIRECTIONS, 1, 0, 0 };
	gc_options fo = *o;

	for (size_t d = 0; d < GC_MODEL_DIRECTIONS; d++) {
		uint64_t seed = direction_seed(o->seed, d);

		dot[d] = 0;
		for (size_t j = 0; j < m->n; j++)
			dot[d] += gc_model_direction_sign(seed, j) * m->grad[j];
	}
	for (size_t j = 0; j < m->n; j++)
		big = fmax(big, fabs(m->theta[j]));
	fo.fast = 0;
	if (!(fo.step > 0))
		fo.step = cbrt(DBL_EPSILON) * fmax(1.0, big);
	gc_problem p = {
		.n = GC_MODEL_DIRECTIONS, .theta = zero, .grad = dot, .loss = m->loss,
		.moved = table_moved, .ctx = tb, .tensors = &t, .n_tensors = 1,
		.batch = m->batch, .outputs = m->outputs,
	};
	int rc = run_rounds(s, &p, &fo, tb, out);
	if (rc == 0 && *out)
		(*out)->tensors[0].directions = 1;      /* its elements are directions */
	return rc;
}

/* ---- golden files: {"loss": L, "gradients": {"NAME": [flat values], ...}} ---------- */

static char *golden_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + sizeof "/.grad.json";
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s.grad.json", dir, name);
	return p;
}

/* The program's gradient file (a new string, free with cJSON_free), or NULL. */
static char *model_gradfile(const gc_model *m)
{
	cJSON *doc = cJSON_CreateObject(), *grads = cJSON_CreateObject();
	char *text = NULL;
	int ok = doc && grads && cJSON_AddItemToObject(doc, "loss", gc_json_recorded_number(m->loss));

	ok = ok && cJSON_AddItemToObject(doc, "gradients", grads);
	if (!ok)
		cJSON_Delete(grads);
	for (size_t t = 0; ok && t < m->n_tensors; t++) {
		const gc_tensor *ts = &m->tensors[t];

		ok = cJSON_AddItemToObject(grads, ts->name, gc_json_exact_vector(m->grad + ts->offset,
		                                                                  ts->rows * ts->cols));
	}
	if (ok)
		text = cJSON_Print(doc);
	cJSON_Delete(doc);
	return text;
}

/* Reads the golden gradient at path into golden (m->n values, laid out like theta). */
static int read_golden(const char *path, const gc_model *m, size_t max, double *golden,
                       gc_error *err)
{
	char *text = NULL;
	size_t len;
	cJSON *root = NULL;
	gc_jctx j = { .err = err, .nonfinite = 1 };     /* as recorded: "NaN", "Infinity" */
	int rc;

	if ((rc = gc_json_read_file(path, max, &text, &len, err)) != GC_OK)
		return rc;
	snprintf(err->file, sizeof err->file, "%s", path);
	j.text = text;
	j.len = len;
	rc = GC_EINVAL;
	if (!(root = gc_json_parse(text, len, err))) {
		if (strcmp(err->msg, "out of memory") == 0)
			rc = GC_ENOMEM;
		goto out;
	}
	static const char *const keys[] = { "loss", "gradients", NULL };
	if (gc_json_check_keys(&j, root, keys) != GC_OK)
		goto out;
	const cJSON *grads = cJSON_GetObjectItemCaseSensitive(root, "gradients"), *item;
	gc_jpath_push_key(&j.path, "gradients");
	if (!cJSON_IsObject(grads)) {
		gc_jfail(&j, grads ? "expected an object of tensors, got %s" : "required",
		         gc_json_kind(grads));
		goto out;
	}
	cJSON_ArrayForEach(item, grads) {
		size_t t = 0;

		while (t < m->n_tensors && strcmp(m->tensors[t].name, item->string) != 0)
			t++;
		if (t == m->n_tensors) {
			gc_jpath_push_key(&j.path, item->string);
			gc_jfail(&j, "the program has no tensor of this name");
			goto out;
		}
	}
	for (size_t t = 0; t < m->n_tensors; t++) {
		const gc_tensor *ts = &m->tensors[t];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(grads, ts->name);

		gc_jpath_push_key(&j.path, ts->name);
		if (!v) {
			gc_jfail(&j, "missing");
			goto out;
		}
		if (gc_json_read_vector(&j, v, ts->rows * ts->cols, "the tensor's size",
		                        golden + ts->offset) != GC_OK)
			goto out;
		gc_jpath_pop(&j.path);
	}
	rc = GC_OK;
out:
	cJSON_Delete(root);
	free(text);
	return rc;
}

/* --golden: a note per tensor whose gradient drifted from DIR/NAME.grad.json beyond
 * the check's tolerance rule. */
static int check_golden(gc_case_outcome *out, const gc_run_options *ro, const gc_model *m,
                        gc_error *err)
{
	char *path = golden_path(ro->golden_dir, m->name);
	double *golden = malloc(m->n * sizeof *golden);
	int rc = GC_ENOMEM;

	if (!path || !golden) {
		gc_error_set(err, "out of memory");
		goto out;
	}
	if ((rc = read_golden(path, m, ro->limits.max_file, golden, err)) != GC_OK)
		goto out;
	if ((rc = gc_golden_notes(out, m->tensors, m->n_tensors, m->grad, golden, path)))
		gc_error_set(err, "out of memory");
out:
	free(path);
	free(golden);
	return rc;
}

/* --record: writes DIR/NAME.grad.json unless a different file is there (and not --force). */
static int record_gradient(gc_case_outcome *out, const gc_run_options *ro, const gc_model *m,
                           gc_error *err)
{
	char *path = golden_path(ro->record_dir, m->name);
	char *text = model_gradfile(m);
	char *old = NULL;
	size_t old_len;
	gc_error ignored;
	int rc = GC_ENOMEM;

	if (!path || !text) {
		gc_error_set(err, "out of memory");
		goto out;
	}
	if (!ro->force && gc_json_read_file(path, ro->limits.max_file, &old, &old_len, &ignored) == GC_OK &&
	    (old_len != strlen(text) || memcmp(old, text, old_len) != 0)) {
		out->kept_record = path;
		path = NULL;
		rc = GC_OK;
		goto out;
	}
	rc = gc_write_file_atomic(path, text, strlen(text), err);
out:
	free(path);
	cJSON_free(text);
	free(old);
	return rc;
}

/* ---- one --model run --------------------------------------------------------------- */

static int set_error_text(gc_case_outcome *out, const char *msg)
{
	free(out->error);
	out->error = strdup(msg);
	return out->error ? GC_OK : GC_ENOMEM;
}

static int set_error(gc_case_outcome *out, const gc_error *err)
{
	char buf[2048];

	gc_error_format(err, buf, sizeof buf);
	return set_error_text(out, buf);
}

int gc_run_model(const char *cmd, const gc_run_options *ro, gc_case_outcome *out)
{
	session s = { .cmd = cmd, .ro = ro };
	table tb = {0};
	gc_error err = {0};
	int rc = GC_OK;

	memset(out, 0, sizeof *out);
	out->used = ro->check;
	out->used.jobs = gc_options_jobs(&out->used);
	s.n_copies = out->used.jobs;
	s.fast = out->used.fast;
	s.deadline = now_seconds() + (ro->run_timeout > 0 ? ro->run_timeout : INFINITY);
	if (!(s.copies = calloc(s.n_copies, sizeof *s.copies))) {
		rc = GC_ENOMEM;
		goto out;
	}
	if (start_copies(&s) != 0 || exchange(&s, NULL, 0, 1, &tb) != 0)
		goto out;
	if ((out->used.fast ? check_fast(&s, &out->used, &tb, &out->result)
	                    : check_elements(&s, &out->used, &tb, &out->result)) != 0 ||
	    stop_copies(&s, &tb) != 0)
		goto out;
	if (ro->golden_dir && (rc = check_golden(out, ro, s.model, &err)) != GC_OK) {
		rc = rc == GC_ENOMEM ? rc : set_error(out, &err);
		goto out;
	}
	if (ro->record_dir && (rc = record_gradient(out, ro, s.model, &err)) != GC_OK)
		rc = rc == GC_ENOMEM ? rc : set_error(out, &err);
out:
	if (s.nomem)
		rc = GC_ENOMEM;
	else if (s.msg && rc == GC_OK)
		rc = set_error_text(out, s.msg);
	if (rc == GC_OK && !(out->name = s.model ? strdup(s.model->name) : name_from_command(cmd)))
		rc = GC_ENOMEM;
	if (out->error) {
		gc_result_free(out->result);
		out->result = NULL;
	}
	for (size_t k = 0; s.copies && k < s.n_copies; k++) {
		gc_coproc_free(s.copies[k].cp);
		free(s.copies[k].fifo);
		free(s.copies[k].header);
	}
	free(s.copies);
	free(s.msg);
	table_free(&tb);
	out->model = s.model;
	gc_case_report *r = &out->report;
	r->name = out->name;
	r->error = out->error;
	r->result = out->result;
	r->notes = (const char *const *)out->notes;
	r->n_notes = out->n_notes;
	r->n_params = s.model ? s.model->n : 0;
	r->loss = s.model ? s.model->loss : NAN;
	r->status = out->error ? GC_CASE_ERROR : (out->result && out->result->failed) ||
	            out->n_notes ? GC_CASE_FAIL : GC_CASE_PASS;
	return rc;
}
