/* report_tap.c - TAP: a plan and one test line per case; a failing or error case
 * gets a YAML diagnostic block.  The header says "TAP version 13": the lines are
 * also valid TAP 14, and Perl's TAP::Parser (prove) rejects version 14. */
#include <math.h>
#include "report.h"
#include "report_common.h"

/* A test description: '#' would start a directive and '\' escapes it (TAP 14),
 * line breaks would end the line. */
static void tap_description(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		size_t len = gc_utf8_len(s);
		if (len != 1) {
			/* a whole character, or U+FFFD for a byte that is not UTF-8 */
			if (len == 0)
				fputs("\xef\xbf\xbd", out);
			else
				fwrite(s, 1, len, out);
			s += len ? len - 1 : 0;
			continue;
		}
		if (*s == '#' || *s == '\\')
			fputc('\\', out);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
}

/* A YAML double-quoted string.  In a list item (item), the space of ": " is written
 * \x20: TAP::Parser's YAML reader would take `- "a: b"` for a mapping. */
static void yaml_string(FILE *out, const char *s, int item)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		size_t len = gc_utf8_len((const char *)p);
		if (len != 1) {
			/* a whole character, or U+FFFD for a byte that is not UTF-8 */
			if (len == 0)
				fputs("\xef\xbf\xbd", out);
			else
				fwrite(p, 1, len, out);
			p += len ? len - 1 : 0;
		} else if (item && *p == ' ' && p > (const unsigned char *)s && p[-1] == ':')
			fputs("\\x20", out);
		else if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void yaml_number(FILE *out, double d)
{
	if (isnan(d))
		fputs(".nan", out);
	else if (isinf(d))
		fputs(d > 0 ? ".inf" : "-.inf", out);
	else
		fprintf(out, "%.6g", d);
}

static void yaml_message(FILE *out, const gc_case_report *c)
{
	const gc_result *r = c->result;
	size_t n_bad = 0;

	fputs("  message: ", out);
	if (c->status == GC_CASE_ERROR) {
		yaml_string(out, c->error ? c->error : "error", 0);
	} else if (r && r->failed > 0) {
		for (size_t t = 0; t < r->n_tensors; t++)
			n_bad += r->tensors[t].failed > 0;
		fprintf(out, "\"%zu of %zu %s fail in %zu of %zu tensors\"", r->failed, r->checked,
		        r->elements ? "elements" : "directions", n_bad, r->n_tensors);
	} else if (c->n_notes > 0) {
		yaml_string(out, c->notes[0], 0);
	} else {
		fputs("\"gradient check failed\"", out);
	}
	fputc('\n', out);
}

static void yaml_tensors(FILE *out, const gc_result *r)
{
	fputs("    tensors:\n", out);
	for (size_t t = 0; t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		if (tr->failed == 0)
			continue;
		fputs("      - name: ", out);
		yaml_string(out, tr->tensor.name, 0);
		fprintf(out, "\n        failed: %zu\n        checked: %zu\n        max_rel: ",
		        tr->failed, tr->checked);
		yaml_number(out, tr->max_rel);
		fputs("\n        max_abs: ", out);
		yaml_number(out, tr->max_abs);
		fputc('\n', out);
	}
}

static void yaml_diagnoses(FILE *out, const gc_result *r)
{
	fputs("    diagnoses:\n", out);
	for (size_t d = 0; d < r->n_diagnoses; d++) {
		const gc_diagnosis *g = &r->diagnoses[d];
		fputs("      - tensor: ", out);
		yaml_string(out, g->tensor, 0);
		fprintf(out, "\n        kind: %s\n        detail: ", gc_diag_kind_name(g->kind));
		yaml_string(out, g->detail, 0);
		fputc('\n', out);
	}
}

static void yaml_block(FILE *out, const gc_case_report *c)
{
	const gc_result *r = c->status == GC_CASE_ERROR ? NULL : c->result;

	fputs("  ---\n", out);
	yaml_message(out, c);
	fprintf(out, "  severity: %s\n", c->status == GC_CASE_ERROR ? "error" : "fail");
	if ((r && (r->failed > 0 || r->n_diagnoses > 0)) || c->n_notes > 0) {
		fputs("  data:\n", out);
		if (r && r->failed > 0)
			yaml_tensors(out, r);
		if (r && r->n_diagnoses > 0)
			yaml_diagnoses(out, r);
		if (c->n_notes > 0) {
			fputs("    notes:\n", out);
			for (size_t i = 0; i < c->n_notes; i++) {
				fputs("      - ", out);
				yaml_string(out, c->notes[i], 1);
				fputc('\n', out);
			}
		}
	}
	fputs("  ...\n", out);
}

int gc_report_tap(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o)
{
	(void)o;
	fprintf(out, "TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const gc_case_report *c = &cases[i];
		fprintf(out, "%s %zu - ", c->status == GC_CASE_PASS ? "ok" : "not ok", i + 1);
		tap_description(out, c->name);
		fputc('\n', out);
		if (c->status != GC_CASE_PASS)
			yaml_block(out, c);
		if (c->status != GC_CASE_ERROR && c->result && c->result->unreliable)
			fprintf(out, "# %zu of %zu checked unreliable (the finite differences could "
			        "not decide)\n", c->result->unreliable, c->result->checked);
	}
	return ferror(out) ? GC_EIO : GC_OK;
}
