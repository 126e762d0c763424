/* report_text.c - the human-readable report (README "Reports"). */
#include "report.h"
#include "report_common.h"

static void format_shape(const gc_tensor *t, char *buf, size_t size)
{
	if (t->cols == 1 && !t->matrix)
		snprintf(buf, size, "%zu", t->rows);
	else
		snprintf(buf, size, "%zux%zu", t->rows, t->cols);
}

static void print_tensor_table(FILE *out, const gc_result *r)
{
	fprintf(out, "  %-8s %-9s %-9s %-9s %8s %6s\n",
	        "tensor", "shape", "max rel", "max abs", "failed", "kinks");
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		char shape[48];

		format_shape(&tr->tensor, shape, sizeof shape);
		fprintf(out, "  %-8s %-9s %-9.2e %-9.2e %8zu %6zu\n", tr->tensor.name, shape,
		        tr->max_rel, tr->max_abs, tr->failed, tr->kinks);
	}
}

static void print_worst(FILE *out, const gc_result *r, const gc_report_options *o)
{
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		int fast = tr->directions;

		if (tr->unreliable)
			fprintf(out, "  %s: %zu of %zu %s unreliable (the finite differences could not "
			        "decide)\n", tr->tensor.name, tr->unreliable, tr->checked,
			        fast ? "directions" : "elements");
		size_t shown = gc_report_shown(tr, o);
		if (shown == 0)
			continue;
		fprintf(out, "  %s: %zu of %zu %s fail, worst:\n", tr->tensor.name, tr->failed,
		        tr->checked, fast ? "directions" : "elements");
		fprintf(out, "    %-14s %15s %15s %10s %10s\n",
		        "index", "analytic", "numeric", "abs", "rel");
		for (size_t w = 0; w < shown; w++) {
			const gc_element *e = &tr->worst[w];
			char name[64];

			if (fast)
				snprintf(name, sizeof name, "direction %zu", e->index);
			else
				gc_report_element_name(&tr->tensor, e->index, name, sizeof name);
			fprintf(out, "    %-14s %15.8g %15.8g %10.3g %10.3g\n", name, e->analytic,
			        e->numeric, e->abs_err, e->rel_err);
		}
	}
}

/* s with every byte that is not UTF-8 written as U+FFFD (a program's stderr). */
static void put_utf8(FILE *out, const char *s)
{
	for (; *s; s++) {
		size_t len = gc_utf8_len(s);
		if (len == 0) {
			fputs("\xef\xbf\xbd", out);
		} else {
			fwrite(s, 1, len, out);
			s += len - 1;
		}
	}
}

int gc_report_text_case(FILE *out, const gc_case_report *c, const gc_report_options *o)
{
	fprintf(out, "%s ", gc_case_status_label(c->status));
	put_utf8(out, c->name);
	if (c->status == GC_CASE_ERROR) {
		fputs(": ", out);
		put_utf8(out, c->error ? c->error : "error");
		fputc('\n', out);
		return ferror(out) ? GC_EIO : GC_OK;
	}
	fprintf(out, ": %zu parameters, loss %.10g\n", c->n_params, c->loss);
	if (c->result) {
		print_tensor_table(out, c->result);
		print_worst(out, c->result, o);
		for (size_t d = 0; d < c->result->n_diagnoses; d++)
			fprintf(out, "  diagnosis (%s): %s\n",
			        gc_diag_kind_name(c->result->diagnoses[d].kind),
			        c->result->diagnoses[d].detail);
	}
	for (size_t i = 0; i < c->n_notes; i++) {
		fputs("  ", out);
		put_utf8(out, c->notes[i]);
		fputc('\n', out);
	}
	return ferror(out) ? GC_EIO : GC_OK;
}

int gc_report_text(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o)
{
	size_t passed, failed, errors;

	for (size_t i = 0; i < n; i++)
		if (gc_report_text_case(out, &cases[i], o) != GC_OK)
			return GC_EIO;
	gc_report_count(cases, n, &passed, &failed, &errors);
	fprintf(out, "%zu passed, %zu failed\n", passed, failed);
	return ferror(out) ? GC_EIO : GC_OK;
}
