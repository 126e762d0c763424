/* grade.c - every case for every submission, submissions side by side (see grade.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "grade.h"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *gc_grade_id(const char *path)
{
	size_t len = strlen(path), start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return strndup(path + start, len - start);
}

char *gc_grade_command(const char *cmd, const char *path)
{
	size_t quoted = 2, n = 0, len;
	char *out, *p;

	for (const char *s = path; *s; s++)
		quoted += *s == '\'' ? 4 : 1;      /* ' becomes '\'' */
	for (const char *s = cmd; (s = strstr(s, "{}")); s += 2)
		n++;
	len = strlen(cmd) - 2 * n + n * quoted + 1;
	if (!(out = malloc(len)))
		return NULL;
	p = out;
	for (const char *s = cmd; *s;) {
		if (s[0] == '{' && s[1] == '}') {
			*p++ = '\'';
			for (const char *q = path; *q; q++) {
				if (*q == '\'') {
					memcpy(p, "'\\''", 4);
					p += 4;
				} else {
					*p++ = *q;
				}
			}
			*p++ = '\'';
			s += 2;
		} else {
			*p++ = *s++;
		}
	}
	*p = '\0';
	return out;
}

/* The name a case file would have in a report when it is not run: base name without .json. */
static char *case_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".json") == 0)
		len -= 5;
	return strndup(base, len);
}

/* An error outcome for a case that was not run. */
static int not_run(gc_case_outcome *o, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int not_run(gc_case_outcome *o, const char *path, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	memset(o, 0, sizeof *o);
	o->name = case_name(path);
	o->error = strdup(buf);
	if (!o->name || !o->error)
		return GC_ENOMEM;
	o->report.name = o->name;
	o->report.error = o->error;
	o->report.status = GC_CASE_ERROR;
	o->report.loss = NAN;
	return GC_OK;
}

/* The text after "failed: " up to "; its stderr" or the line's end. */
static char *exec_failure(const char *e)
{
	const char *p = strstr(e, "' failed: ");
	size_t n;

	if (!p)
		return NULL;
	p += strlen("' failed: ");
	n = strcspn(p, ";\n");
	return strndup(p, n);
}

char *gc_grade_reason(const gc_case_outcome *o)
{
	const gc_case_report *r = &o->report;
	char buf[512];

	if (r->status == GC_CASE_PASS)
		return NULL;
	if (r->status == GC_CASE_ERROR) {
		const char *e = r->error ? r->error : "error";
		char *x = exec_failure(e);

		return x ? x : strndup(e, strcspn(e, "\n"));
	}
	if (r->result && r->result->n_diagnoses > 0)
		return strdup(r->result->diagnoses[0].detail);
	if (r->n_notes > 0)
		return strdup(r->notes[0]);
	if (r->result) {
		for (size_t t = 0; t < r->result->n_tensors; t++) {
			const gc_tensor_result *tr = &r->result->tensors[t];

			if (tr->failed) {
				snprintf(buf, sizeof buf, "%s: %zu of %zu elements differ", tr->tensor.name,
				         tr->failed, tr->checked);
				return strdup(buf);
			}
		}
	}
	return strdup("failed");
}

/* The class's sandbox plus the submission's own path, read-only. */
static int submission_sandbox(const gc_sandbox *class_sb, const char *abs, gc_sandbox *sb,
                              const char ***paths)
{
	*sb = *class_sb;
	*paths = malloc((class_sb->n_read_only + 1) * sizeof **paths);
	if (!*paths)
		return GC_ENOMEM;
	for (size_t i = 0; i < class_sb->n_read_only; i++)
		(*paths)[i] = class_sb->read_only[i];
	(*paths)[class_sb->n_read_only] = abs;
	sb->read_only = *paths;
	sb->n_read_only = class_sb->n_read_only + 1;
	return GC_OK;
}

static int grade_one(const gc_grade_options *go, const char *const *cases, size_t n_cases,
                     const char *path, gc_submission *s)
{
	gc_run_options ro = go->run;
	gc_sandbox sb;
	const char **paths = NULL;
	char *abs = NULL, *cmd = NULL;
	double start = now_seconds();
	int rc = GC_ENOMEM;

	s->n_cases = n_cases;
	if (!(s->id = gc_grade_id(path)) || !(s->path = strdup(path)) ||
	    !(s->outcomes = calloc(n_cases ? n_cases : 1, sizeof *s->outcomes)) ||
	    !(s->reports = calloc(n_cases ? n_cases : 1, sizeof *s->reports)))
		goto out;
	if (!(abs = realpath(path, NULL))) {
		char msg[1024];

		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		if (!(s->error = strdup(msg)))
			goto out;
		for (size_t i = 0; i < n_cases; i++)
			if (not_run(&s->outcomes[i], cases[i], "submission %s", msg) != GC_OK)
				goto out;
	} else {
		if (!(cmd = gc_grade_command(go->run.exec_cmd, abs)))
			goto out;
		ro.exec_cmd = cmd;
		if (go->run.sandbox && go->run.sandbox->enabled) {
			if (submission_sandbox(go->run.sandbox, abs, &sb, &paths) != GC_OK)
				goto out;
			ro.sandbox = &sb;
		}
		ro.check.jobs = 1;      /* the parallelism is across submissions */
		for (size_t i = 0; i < n_cases; i++) {
			double left = go->budget - (now_seconds() - start);

			if (left <= 0) {
				if (not_run(&s->outcomes[i], cases[i], "%s: not run: the time budget of "
				            "%g s per submission was used up", cases[i], go->budget) != GC_OK)
					goto out;
				continue;
			}
			ro.timeout = fmin(go->run.timeout, left);
			if (gc_run_case(cases[i], &ro, &s->outcomes[i]) != GC_OK)
				goto out;
		}
	}
	for (size_t i = 0; i < n_cases; i++) {
		s->reports[i] = s->outcomes[i].report;
		if (s->reports[i].status == GC_CASE_PASS)
			s->passed++;
		else
			s->failed++;
		if (s->reports[i].status == GC_CASE_ERROR)
			s->errors++;
		if (!s->first && s->reports[i].status != GC_CASE_PASS) {
			char *why = gc_grade_reason(&s->outcomes[i]);
			size_t n;

			if (!why)
				goto out;
			n = strlen(s->outcomes[i].name) + strlen(why) + 3;
			if ((s->first = malloc(n)))
				snprintf(s->first, n, "%s: %s", s->outcomes[i].name, why);
			free(why);
			if (!s->first)
				goto out;
		}
	}
	rc = GC_OK;
out:
	s->seconds = now_seconds() - start;
	free(abs);
	free(cmd);
	free(paths);
	return rc;
}

struct pool {
	const gc_grade_options *go;
	const char *const *cases, *const *subs;
	size_t n_cases, n_subs, next;
	gc_submission *out;
	int rc;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&p->lock);
		i = p->rc == GC_OK ? p->next++ : p->n_subs;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n_subs)
			return NULL;
		rc = grade_one(p->go, p->cases, p->n_cases, p->subs[i], &p->out[i]);
		if (rc != GC_OK) {
			pthread_mutex_lock(&p->lock);
			p->rc = rc;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

int gc_grade(const gc_grade_options *go, const char *const *cases, size_t n_cases,
             const char *const *subs, size_t n_subs, gc_class *out, gc_error *err)
{
	struct pool p = { .go = go, .cases = cases, .subs = subs, .n_cases = n_cases,
	                  .n_subs = n_subs, .rc = GC_OK };
	unsigned n_threads = go->jobs < 1 ? 1 : go->jobs;
	pthread_t *threads;
	unsigned started = 0;

	memset(out, 0, sizeof *out);
	if (n_threads > n_subs)
		n_threads = n_subs ? (unsigned)n_subs : 1;
	out->subs = calloc(n_subs ? n_subs : 1, sizeof *out->subs);
	out->case_names = calloc(n_cases ? n_cases : 1, sizeof *out->case_names);
	threads = calloc(n_threads, sizeof *threads);
	out->n_subs = n_subs;
	out->n_cases = n_cases;
	if (!out->subs || !out->case_names || !threads) {
		free(threads);
		gc_class_free(out);
		gc_error_set(err, "out of memory");
		return GC_ENOMEM;
	}
	p.out = out->subs;
	pthread_mutex_init(&p.lock, NULL);
	for (; started < n_threads; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0)
		worker(&p);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&p.lock);
	free(threads);
	for (size_t i = 0; i < n_cases && p.rc == GC_OK && n_subs > 0; i++)
		if (!(out->case_names[i] = strdup(out->subs[0].outcomes[i].name)))
			p.rc = GC_ENOMEM;
	if (p.rc != GC_OK) {
		gc_class_free(out);
		gc_error_set(err, "out of memory");
	}
	return p.rc;
}

void gc_class_free(gc_class *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->subs && i < c->n_subs; i++) {
		gc_submission *s = &c->subs[i];

		for (size_t k = 0; s->outcomes && k < s->n_cases; k++)
			gc_case_outcome_free(&s->outcomes[k]);
		free(s->outcomes);
		free(s->reports);
		free(s->id);
		free(s->path);
		free(s->error);
		free(s->first);
	}
	for (size_t i = 0; c->case_names && i < c->n_cases; i++)
		free(c->case_names[i]);
	free(c->case_names);
	free(c->subs);
	memset(c, 0, sizeof *c);
}
