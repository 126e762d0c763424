/* report_class.c - the class report of `gradcheck grade`: text, CSV, JSON, HTML
 * (README, "Grading a class"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "fileio.h"
#include "grade.h"

int gc_class_format_parse(const char *s, gc_class_format *out)
{
	static const char *const names[] = {
		[GC_CLASS_TEXT] = "text", [GC_CLASS_CSV] = "csv", [GC_CLASS_JSON] = "json",
		[GC_CLASS_HTML] = "html"
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (gc_class_format)i;
			return GC_OK;
		}
	}
	return GC_EINVAL;
}

double gc_submission_score(const gc_submission *s)
{
	return s->n_cases ? 100.0 * (double)s->passed / (double)s->n_cases : 0.0;
}

static int finish(FILE *out)
{
	return fflush(out) == 0 && !ferror(out) ? GC_OK : GC_EIO;
}

/* ---- distribution of diagnoses ------------------------------------------------- */

struct tally {
	char **what;            /* (n) distinct diagnoses, */
	size_t *count;          /* (n) and how many submissions have each */
	unsigned char *seen;    /* (n) counted for the submission being tallied */
	size_t n, cap;
};

/* Counts what once more, adding it when new.  Entries before from belong to earlier
 * submissions; from on, this submission's: those are not counted twice. */
static int tally_add(struct tally *t, const char *what, size_t from)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->what[i], what) == 0) {
			if (i < from && !t->seen[i]) {
				t->seen[i] = 1;
				t->count[i]++;
			}
			return GC_OK;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **w = realloc(t->what, cap * sizeof *w);
		size_t *c;
		unsigned char *seen;

		if (!w)
			return GC_ENOMEM;
		t->what = w;
		if (!(c = realloc(t->count, cap * sizeof *c)))
			return GC_ENOMEM;
		t->count = c;
		if (!(seen = realloc(t->seen, cap)))
			return GC_ENOMEM;
		t->seen = seen;
		t->cap = cap;
	}
	if (!(t->what[t->n] = strdup(what)))
		return GC_ENOMEM;
	t->count[t->n] = 1;
	t->seen[t->n++] = 1;
	return GC_OK;
}

static void tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->what[i]);
	free(t->what);
	free(t->count);
	free(t->seen);
}

/* Each distinct diagnosis of one submission (every diagnosis of its failed cases, or
 * the reason of a case that has none), counted once per submission. */
static int tally_submission(struct tally *t, const gc_submission *s)
{
	size_t from = t->n;

	if (t->n)
		memset(t->seen, 0, t->n);
	for (size_t k = 0; k < s->n_cases; k++) {
		const gc_case_outcome *o = &s->outcomes[k];
		const gc_result *r = o->report.result;
		size_t nd = o->report.status == GC_CASE_FAIL && r ? r->n_diagnoses : 0;

		if (o->report.status == GC_CASE_PASS)
			continue;
		for (size_t d = 0; d < (nd ? nd : 1); d++) {
			char *what = nd ? strdup(r->diagnoses[d].detail) : gc_grade_reason(o);
			int rc = what ? tally_add(t, what, from) : GC_ENOMEM;

			free(what);
			if (rc != GC_OK)
				return rc;
		}
	}
	return GC_OK;
}

static int tally_class(struct tally *t, const gc_class *c)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < c->n_subs; i++)
		if (tally_submission(t, &c->subs[i]) != GC_OK)
			return GC_ENOMEM;
	/* Most frequent first; ties in order of first appearance (insertion sort: stable). */
	for (size_t i = 1; i < t->n; i++) {
		for (size_t j = i; j > 0 && t->count[j - 1] < t->count[j]; j--) {
			char *w = t->what[j];
			size_t n = t->count[j];

			t->what[j] = t->what[j - 1];
			t->count[j] = t->count[j - 1];
			t->what[j - 1] = w;
			t->count[j - 1] = n;
		}
	}
	return GC_OK;
}

static size_t full_marks(const gc_class *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_subs; i++)
		n += c->subs[i].n_cases > 0 && c->subs[i].passed == c->subs[i].n_cases;
	return n;
}

/* ---- text ------------------------------------------------------------------------ */

int gc_class_text(FILE *out, const gc_class *c)
{
	struct tally t;
	int width = 2;
	size_t ok = full_marks(c);

	for (size_t i = 0; i < c->n_subs; i++) {
		int w = (int)strlen(c->subs[i].id);
		if (w > width)
			width = w;
	}
	fprintf(out, "%-*s  %5s  %6s  %7s  %s\n", width, "id", "score", "passed", "time",
	        "first diagnosis");
	for (size_t i = 0; i < c->n_subs; i++) {
		const gc_submission *s = &c->subs[i];
		char passed[48];

		snprintf(passed, sizeof passed, "%zu/%zu", s->passed, s->n_cases);
		fprintf(out, "%-*s  %5.1f  %6s  %6.1fs  %s\n", width, s->id, gc_submission_score(s),
		        passed, s->seconds, s->first ? s->first : "-");
	}
	if (tally_class(&t, c) != GC_OK) {
		tally_free(&t);
		return GC_ENOMEM;
	}
	if (t.n > 0) {
		fputs("\nDiagnoses across the class:\n", out);
		for (size_t i = 0; i < t.n; i++)
			fprintf(out, "%4zu submission%s: %s\n", t.count[i], t.count[i] == 1 ? "" : "s",
			        t.what[i]);
	}
	tally_free(&t);
	fprintf(out, "\n%zu submission%s: %zu passed every case, %zu did not\n", c->n_subs,
	        c->n_subs == 1 ? "" : "s", ok, c->n_subs - ok);
	return finish(out);
}

/* ---- CSV --------------------------------------------------------------------------- */

/* One RFC 4180 field: quoted when it holds a comma, quote or line break; a leading
 * = + - @ is prefixed with ' so that a spreadsheet does not run it as a formula. */
static void csv_field(FILE *out, const char *s)
{
	int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';

	if (!formula && !strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int gc_class_csv(FILE *out, const gc_class *c)
{
	fputs("id,score,passed,total,seconds,first_diagnosis\r\n", out);
	for (size_t i = 0; i < c->n_subs; i++) {
		const gc_submission *s = &c->subs[i];

		csv_field(out, s->id);
		fprintf(out, ",%.1f,%zu,%zu,%.1f,", gc_submission_score(s), s->passed, s->n_cases,
		        s->seconds);
		csv_field(out, s->first ? s->first : "");
		fputs("\r\n", out);
	}
	return finish(out);
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* The per-case report of one submission, as --format json writes it, parsed. */
static cJSON *submission_report(const gc_submission *s, const gc_report_options *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	cJSON *doc = NULL;

	if (!mem)
		return NULL;
	if (gc_report_write(mem, GC_FORMAT_JSON, s->reports, s->n_cases, o) != GC_OK) {
		fclose(mem);
		free(buf);
		return NULL;
	}
	if (fclose(mem) == 0)
		doc = cJSON_ParseWithLength(buf, len);
	free(buf);
	return doc;
}

static cJSON *class_json(const gc_class *c, const gc_report_options *o)
{
	cJSON *root = cJSON_CreateObject(), *cases, *subs, *summary, *diags;
	struct tally t;
	int ok = root != NULL;

	memset(&t, 0, sizeof t);
	ok = ok && (cases = cJSON_AddArrayToObject(root, "cases"));
	for (size_t i = 0; ok && i < c->n_cases; i++)
		ok = cJSON_AddItemToArray(cases, cJSON_CreateString(c->case_names[i]));
	ok = ok && (subs = cJSON_AddArrayToObject(root, "submissions"));
	for (size_t i = 0; ok && i < c->n_subs; i++) {
		const gc_submission *s = &c->subs[i];
		cJSON *js = cJSON_CreateObject(), *rep;

		ok = js && cJSON_AddItemToArray(subs, js)
		     && cJSON_AddStringToObject(js, "id", s->id)
		     && cJSON_AddStringToObject(js, "path", s->path)
		     && cJSON_AddNumberToObject(js, "score", round(gc_submission_score(s) * 10) / 10)
		     && cJSON_AddNumberToObject(js, "passed", (double)s->passed)
		     && cJSON_AddNumberToObject(js, "failed", (double)(s->failed - s->errors))
		     && cJSON_AddNumberToObject(js, "errors", (double)s->errors)
		     && cJSON_AddNumberToObject(js, "total", (double)s->n_cases)
		     && cJSON_AddNumberToObject(js, "seconds", round(s->seconds * 1000) / 1000)
		     && (s->first ? cJSON_AddStringToObject(js, "first_diagnosis", s->first)
		                  : cJSON_AddNullToObject(js, "first_diagnosis"))
		     && (s->error ? cJSON_AddStringToObject(js, "error", s->error)
		                  : cJSON_AddNullToObject(js, "error"))
		     && (rep = submission_report(s, o)) && cJSON_AddItemToObject(js, "report", rep);
	}
	ok = ok && tally_class(&t, c) == GC_OK;
	ok = ok && (summary = cJSON_AddObjectToObject(root, "summary"))
	     && cJSON_AddNumberToObject(summary, "submissions", (double)c->n_subs)
	     && cJSON_AddNumberToObject(summary, "full_marks", (double)full_marks(c))
	     && (diags = cJSON_AddArrayToObject(summary, "diagnoses"));
	for (size_t i = 0; ok && i < t.n; i++) {
		cJSON *d = cJSON_CreateObject();

		ok = d && cJSON_AddItemToArray(diags, d)
		     && cJSON_AddStringToObject(d, "diagnosis", t.what[i])
		     && cJSON_AddNumberToObject(d, "submissions", (double)t.count[i]);
	}
	tally_free(&t);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int gc_class_json(FILE *out, const gc_class *c, const gc_report_options *o)
{
	cJSON *root = class_json(c, o);
	char *text = root ? cJSON_Print(root) : NULL;
	int rc = GC_ENOMEM;

	if (text) {
		fputs(text, out);
		fputc('\n', out);
		rc = finish(out);
	}
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

/* ---- HTML ------------------------------------------------------------------------------ */

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&':  fputs("&amp;", out); break;
		case '<':  fputs("&lt;", out); break;
		case '>':  fputs("&gt;", out); break;
		case '"':  fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:   fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, out);
		}
	}
}

/* A file name for submission i: its id with characters other than letters, digits,
 * '.', '_' and '-' replaced by '_', not starting with '.', unique among the first i. */
static char *page_name(const gc_class *c, size_t i, char **names)
{
	const char *id = c->subs[i].id;
	size_t n = strlen(id);
	char *name = malloc(n + 32);

	if (!name)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		char ch = id[k];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		         (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || (ch == '.' && k > 0);
		name[k] = ok ? ch : '_';
	}
	snprintf(name + n, 32, ".html");
	for (size_t j = 0; j < i; j++) {
		if (strcmp(names[j], name) == 0) {
			snprintf(name + n, 32, "-%zu.html", i + 1);
			break;
		}
	}
	return name;
}

static const char class_css[] =
	"body{font-family:system-ui,sans-serif;margin:1.5rem;}"
	"table{border-collapse:collapse;}th,td{padding:.25rem .6rem;text-align:left;"
	"border-bottom:1px solid #8884;}th{cursor:pointer;user-select:none;}"
	"th[aria-sort=ascending]::after{content:' \\25B2';}"
	"th[aria-sort=descending]::after{content:' \\25BC';}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;}"
	"tr.full td:first-child{border-left:4px solid #2a2;}"
	"tr.partial td:first-child{border-left:4px solid #d80;}"
	"tr.none td:first-child{border-left:4px solid #c22;}";

/* Sorts the table by the clicked column; numbers (data-v) numerically.  Written
 * without '<' and '&' so the page stays well-formed XML. */
static const char class_script[] =
	"(function(){var t=document.getElementById('class');var hs=t.tHead.rows[0].cells;"
	"function key(r,i){var c=r.cells[i];var v=c.getAttribute('data-v');"
	"return v===null?c.textContent:parseFloat(v);}"
	"Array.prototype.forEach.call(hs,function(h,i){h.tabIndex=0;function go(){"
	"var d=h.getAttribute('aria-sort')==='ascending'?-1:1;"
	"Array.prototype.forEach.call(hs,function(o){o.removeAttribute('aria-sort');});"
	"h.setAttribute('aria-sort',d===1?'ascending':'descending');"
	"var rows=Array.prototype.slice.call(t.tBodies[0].rows);"
	"rows.sort(function(a,b){var x=key(a,i),y=key(b,i);return (x>y?1:x===y?0:-1)*d;});"
	"rows.forEach(function(r){t.tBodies[0].appendChild(r);});}"
	"h.addEventListener('click',go);h.addEventListener('keydown',function(e){"
	"if(e.key==='Enter')go();});});})();";

static int write_index(FILE *out, const gc_class *c, char **names)
{
	struct tally t;

	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	        "<meta name=\"color-scheme\" content=\"light dark\"/>\n"
	        "<meta name=\"generator\" content=\"gradcheck %s\"/>\n"
	        "<title>gradcheck class report</title>\n<style>%s</style>\n</head>\n<body>\n"
	        "<h1>gradcheck class report</h1>\n"
	        "<p id=\"summary\">%zu submissions, %zu cases each: %zu passed every case</p>\n",
	        GC_VERSION, class_css, c->n_subs, c->n_cases, full_marks(c));
	fputs("<table id=\"class\">\n<thead><tr><th scope=\"col\">id</th><th scope=\"col\">score</th>"
	      "<th scope=\"col\">passed</th><th scope=\"col\">total</th><th scope=\"col\">time (s)</th>"
	      "<th scope=\"col\">first diagnosis</th></tr></thead>\n<tbody>\n", out);
	for (size_t i = 0; i < c->n_subs; i++) {
		const gc_submission *s = &c->subs[i];
		double score = gc_submission_score(s);

		fprintf(out, "<tr class=\"%s\"><td><a href=\"", s->passed == s->n_cases ? "full"
		        : s->passed ? "partial" : "none");
		esc(out, names[i]);
		fputs("\">", out);
		esc(out, s->id);
		fprintf(out, "</a></td><td class=\"num\" data-v=\"%.1f\">%.1f</td>"
		        "<td class=\"num\" data-v=\"%zu\">%zu</td><td class=\"num\" data-v=\"%zu\">%zu</td>"
		        "<td class=\"num\" data-v=\"%.3f\">%.1f</td><td>", score, score, s->passed,
		        s->passed, s->n_cases, s->n_cases, s->seconds, s->seconds);
		esc(out, s->first ? s->first : "");
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
	if (tally_class(&t, c) != GC_OK) {
		tally_free(&t);
		return GC_ENOMEM;
	}
	if (t.n > 0) {
		fputs("<h2>Diagnoses across the class</h2>\n<ul id=\"diagnoses\">\n", out);
		for (size_t i = 0; i < t.n; i++) {
			fprintf(out, "<li>%zu submission%s: ", t.count[i], t.count[i] == 1 ? "" : "s");
			esc(out, t.what[i]);
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	tally_free(&t);
	fprintf(out, "<script>%s</script>\n</body>\n</html>\n", class_script);
	return finish(out);
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return p;
}

/* Writes one page atomically: the class index (s == NULL) or a submission's report. */
static int write_page(const char *path, const gc_class *c, char **names,
                      const gc_submission *s, const gc_report_options *o, gc_error *err)
{
	gc_atomic_file f;
	int rc;

	if (gc_atomic_open(&f, path, err) != 0)
		return GC_EIO;
	rc = s ? gc_report_write(f.fp, GC_FORMAT_HTML, s->reports, s->n_cases, o)
	       : write_index(f.fp, c, names);
	if (rc != GC_OK) {
		gc_atomic_abort(&f);
		snprintf(err->file, sizeof err->file, "%s", path);
		gc_error_set(err, rc == GC_ENOMEM ? "out of memory" : "cannot write the report");
		return rc;
	}
	return gc_atomic_commit(&f, err) == 0 ? GC_OK : GC_EIO;
}

int gc_class_html(const char *dir, const gc_class *c, const gc_report_options *o, gc_error *err)
{
	char **names = calloc(c->n_subs ? c->n_subs : 1, sizeof *names);
	char *path = NULL;
	int rc = GC_ENOMEM;

	if (!names)
		goto oom;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err->file, sizeof err->file, "%s", dir);
		gc_error_set(err, "cannot create the report folder: %s", strerror(errno));
		rc = GC_EIO;
		goto out;
	}
	for (size_t i = 0; i < c->n_subs; i++)
		if (!(names[i] = page_name(c, i, names)))
			goto oom;
	for (size_t i = 0; i < c->n_subs; i++) {
		if (!(path = join(dir, names[i])))
			goto oom;
		if ((rc = write_page(path, c, names, &c->subs[i], o, err)) != GC_OK)
			goto out;
		free(path);
		path = NULL;
	}
	if (!(path = join(dir, "index.html")))
		goto oom;
	rc = write_page(path, c, names, NULL, o, err);
	goto out;
oom:
	gc_error_set(err, "out of memory");
	rc = GC_ENOMEM;
out:
	free(path);
	for (size_t i = 0; names && i < c->n_subs; i++)
		free(names[i]);
	free(names);
	return rc;
}
