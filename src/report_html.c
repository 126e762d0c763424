/*
 * report_html.c - one self-contained HTML page: per case the verdict, tables,
 * diagnoses and per tensor an inline-SVG heatmap of log10 relative error.
 *
 * The page is written as polyglot HTML (also well-formed XML) so that both
 * HTML and XML parsers accept it; it loads nothing from the network.  All
 * text that comes from users (case names, messages) goes through esc().
 */
#include <math.h>
#include <string.h>

#include "report.h"
#include "report_common.h"

#define CELL 14                 /* px per cell */
#define MAX_CELLS 60            /* per side before downsampling */
#define MARGIN_LEFT 40          /* room for row labels */
#define MARGIN_TOP 16           /* room for column labels */

/* Viridis sampled at 17 points: one colour per decade of rel, 1e-16 .. 1. */
static const char *const colours[17] = {
	"#440154", "#48186a", "#472d7b", "#424086", "#3b528b", "#33638d",
	"#2c728e", "#26828e", "#21918c", "#1fa088", "#28ae80", "#3fbc73",
	"#5ec962", "#84d44b", "#addc30", "#d8e219", "#fde725"
};

static const char css[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#555;--line:#ccc;"
	"--stripe:#f3f3f5;--pass:#1b6e2a;--fail:#b00020;--err:#8a4b00;--focus:#0057d9;"
	"--gap:#fff;--skip:#bbb}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#17181c;--fg:#e6e6e6;--muted:#aaa;"
	"--line:#444;--stripe:#22242a;--pass:#6fd483;--fail:#ff7a8a;--err:#f0b35a;"
	"--focus:#7fb2ff;--gap:#17181c;--skip:#666}}\n"
	"body{background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"
	"'Segoe UI',sans-serif;margin:0 auto;padding:1em 1.5em;max-width:75em}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:0 0 .3em}"
	"h3{font-size:1.05em;margin:1em 0 .3em}\n"
	".summary{font-size:1.2em;font-weight:600}.meta,.note{color:var(--muted)}\n"
	"section.case{border-top:2px solid var(--line);padding:1em 0}\n"
	".badge{display:inline-block;font-weight:700;padding:0 .45em;border:2px solid;"
	"border-radius:4px;margin-right:.4em}\n"
	".badge.pass{color:var(--pass)}.badge.fail{color:var(--fail)}.badge.error{color:var(--err)}\n"
	"table{border-collapse:collapse;margin:.4em 0;font-variant-numeric:tabular-nums}\n"
	"th,td{border:1px solid var(--line);padding:.15em .6em;text-align:right}\n"
	"th:first-child,td:first-child{text-align:left}thead th{background:var(--stripe)}\n"
	"tr.failing td,tr.failing th{font-weight:600}\n"
	".diagnoses li{margin:.2em 0}.kind{font-weight:700}.error-msg{color:var(--err);font-weight:600}\n"
	"code{font-family:ui-monospace,monospace}\n"
	"figure{margin:1em 0;display:inline-block;vertical-align:top;margin-right:2em}\n"
	"figcaption{font-weight:600;margin-bottom:.2em}\n"
	"svg text{fill:var(--fg);font:11px ui-monospace,monospace}\n"
	"svg.heatmap{overflow:visible}\n"
	"rect.c{stroke:var(--gap);stroke-width:1}\n"
	"rect.c:hover{stroke:var(--fg);stroke-width:2}\n"
	"rect.fo{fill:none;stroke:#000;stroke-width:2}rect.fi{fill:none;stroke:#fff;stroke-width:1}\n"
	"circle.k{fill:#fff;stroke:#000;stroke-width:1.2}\n"
	".hatch-bg{fill:var(--skip)}\n"
	"g.cell{cursor:default}g.cell:focus{outline:none}\n"
	"g.cell:focus rect.c,g.cell:hover rect.c{stroke:var(--focus);stroke-width:3}\n"
	"g.cell:focus rect.fo,g.cell:focus rect.fi{stroke:var(--focus);stroke-width:2}\n"
	"svg.heatmap:focus-visible,a:focus-visible{outline:3px solid var(--focus);outline-offset:3px}\n"
	".readout{font-family:ui-monospace,monospace;white-space:pre-wrap;min-height:1.4em;margin:.2em 0}\n"
	"a{color:var(--focus)}nav ol{padding-left:1.5em;margin:.3em 0}\n"
	"@media print{:root{--bg:#fff;--fg:#000;--muted:#333;--line:#999;--stripe:#eee;"
	"--gap:#fff;--skip:#bbb}body{max-width:none;padding:0;font-size:11pt}"
	"nav,.readout{display:none}"
	"figure,table{break-inside:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* Shows the hovered or focused cell's <title> under its heatmap.  Written
 * without '<' and '&' so the page stays well-formed XML. */
static const char script[] =
	"(function(){function show(e){var t=e.target;if(!t.closest)return;"
	"var c=t.closest('g.cell,rect.c');if(!c)return;var ti=c.querySelector('title');"
	"var f=c.closest('figure');if(!ti||!f)return;var r=f.querySelector('.readout');"
	"if(!r)return;r.hidden=false;r.textContent=ti.textContent;}"
	"document.addEventListener('mouseover',show);document.addEventListener('focusin',show);})();";

/* Writes s with HTML special characters escaped; control characters become '?', bytes
 * that are not UTF-8 U+FFFD. */
static void esc(FILE *out, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		size_t len = gc_utf8_len(s);
		if (len == 0) {
			fputs("&#xFFFD;", out);
			continue;
		}
		if (len > 1) {
			fwrite(s, 1, len, out);
			s += len - 1;
			continue;
		}
		switch (ch) {
		case '&':  fputs("&amp;", out); break;
		case '<':  fputs("&lt;", out); break;
		case '>':  fputs("&gt;", out); break;
		case '"':  fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
				fputc('?', out);
			else
				fputc(ch, out);
		}
	}
}

/* 0 for rel == 0 or below 1e-15, 16 for rel >= 1 (and NaN), else 16 + floor(log10 rel). */
static int decade(double rel)
{
	if (isnan(rel) || rel >= 1.0)
		return 16;
	if (!(rel > 1e-16))
		return 0;
	int d = 16 + (int)floor(log10(rel));
	return d < 0 ? 0 : d > 16 ? 16 : d;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Elements of block (br0.., bc0..) of a tensor, rolled up. */
typedef struct block {
	size_t r0, r1, c0, c1;          /* rows r0..r1-1, cols c0..c1-1 of the tensor */
	size_t fails, kinks, checked;
	const gc_element *worst;        /* largest rel among fails, else checked, else kinks */
	gc_verdict verdict;             /* fail > kink > pass > skipped */
} block;

static int worse(const gc_element *a, const gc_element *b)
{
	return !b || isnan(a->rel_err) || a->rel_err > b->rel_err;
}

static void block_scan(const gc_element *el, size_t cols, block *b)
{
	const gc_element *worst_fail = NULL, *worst_pass = NULL, *worst_kink = NULL;

	b->fails = b->kinks = b->checked = 0;
	for (size_t r = b->r0; r < b->r1; r++) {
		for (size_t c = b->c0; c < b->c1; c++) {
			const gc_element *e = &el[r * cols + c];
			if (e->verdict == GC_ELEM_FAIL) {
				b->fails++;
				if (worse(e, worst_fail))
					worst_fail = e;
			} else if (e->verdict == GC_ELEM_KINK) {
				b->kinks++;
				if (worse(e, worst_kink))
					worst_kink = e;
			} else if (e->verdict == GC_ELEM_PASS || e->verdict == GC_ELEM_UNRELIABLE) {
				if (worse(e, worst_pass))
					worst_pass = e;
			}
			if (e->verdict != GC_ELEM_SKIPPED)
				b->checked++;
		}
	}
	b->worst = worst_fail ? worst_fail : worst_pass ? worst_pass : worst_kink;
	b->verdict = b->fails ? GC_ELEM_FAIL : b->kinks ? GC_ELEM_KINK
		   : b->checked ? GC_ELEM_PASS : GC_ELEM_SKIPPED;
}

/* "W3[0..3,3..5]" or "b1[4..7]": the block's index range, inclusive. */
static void block_name(const gc_tensor *t, const block *b, char *buf, size_t size)
{
	if (b->r1 - b->r0 == 1 && b->c1 - b->c0 == 1)
		gc_report_element_name(t, t->offset + b->r0 * t->cols + b->c0, buf, size);
	else if (t->cols == 1 && !t->matrix)
		snprintf(buf, size, "%s[%zu..%zu]", t->name, b->r0, b->r1 - 1);
	else
		snprintf(buf, size, "%s[%zu..%zu,%zu..%zu]", t->name, b->r0, b->r1 - 1,
			 b->c0, b->c1 - 1);
}

static void element_values(FILE *out, const gc_element *e)
{
	fprintf(out, "analytic %.6g\nnumeric %.6g\nabs %.6g\nrel %.6g", e->analytic,
		e->numeric, e->abs_err, e->rel_err);
}

static void cell_title(FILE *out, const gc_tensor *t, const block *b, const char *name)
{
	char wname[96];

	fputs("<title>", out);
	esc(out, name);
	if (b->r1 - b->r0 == 1 && b->c1 - b->c0 == 1) {
		fprintf(out, " (%s)\n", gc_verdict_name(b->verdict));
		if (b->worst)
			element_values(out, b->worst);
		else
			fputs("not checked", out);
	} else {
		fprintf(out, ": %zu elements, %zu checked, %zu failing, %zu kink%s",
			(b->r1 - b->r0) * (b->c1 - b->c0), b->checked, b->fails, b->kinks,
			plural(b->kinks));
		if (b->worst) {
			gc_report_element_name(t, b->worst->index, wname, sizeof wname);
			fputs("\nworst ", out);
			esc(out, wname);
			fprintf(out, " (%s)\n", gc_verdict_name(b->worst->verdict));
			element_values(out, b->worst);
		}
	}
	fputs("</title>", out);
}

static void write_cell(FILE *out, const gc_tensor *t, const block *b, size_t x, size_t y)
{
	char name[128];
	const char *v = gc_verdict_name(b->verdict);
	int focusable = b->verdict == GC_ELEM_FAIL || b->verdict == GC_ELEM_KINK;
	const char *fill = b->worst ? colours[decade(b->worst->rel_err)] : "url(#gc-hatch)";

	block_name(t, b, name, sizeof name);
	if (focusable) {
		fputs("<g class=\"cell\" tabindex=\"0\">", out);
		cell_title(out, t, b, name);
	}
	fprintf(out, "<rect class=\"c\" x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"%s\" "
		"data-index=\"", x, y, CELL, CELL, fill);
	esc(out, name);
	fprintf(out, "\" data-verdict=\"%s\"", v);
	if (b->r1 - b->r0 > 1 || b->c1 - b->c0 > 1)
		fprintf(out, " data-fails=\"%zu\" data-kinks=\"%zu\"", b->fails, b->kinks);
	if (b->worst)
		fprintf(out, " data-rel=\"%.6g\"", b->worst->rel_err);
	if (focusable) {
		fputs("/>", out);
	} else {
		fputs(">", out);
		cell_title(out, t, b, name);
		fputs("</rect>", out);
	}
	if (b->fails)
		fprintf(out, "<rect class=\"fo\" x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\"/>"
			"<rect class=\"fi\" x=\"%zu.5\" y=\"%zu.5\" width=\"%d\" height=\"%d\"/>",
			x + 1, y + 1, CELL - 2, CELL - 2, x + 2, y + 2, CELL - 5, CELL - 5);
	if (b->kinks)
		fprintf(out, "<circle class=\"k\" cx=\"%zu\" cy=\"%zu\" r=\"2.6\"/>",
			x + CELL / 2, y + CELL / 2);
	if (focusable)
		fputs("</g>", out);
	fputc('\n', out);
}

static size_t ceil_div(size_t a, size_t b)
{
	return a / b + (a % b != 0);
}

/* Label every step-th cell along an axis of n cells. */
static size_t label_step(size_t n)
{
	return n <= 12 ? 1 : n <= 30 ? 5 : 10;
}

static void write_axes(FILE *out, size_t nr, size_t nc, size_t br, size_t bc)
{
	size_t sr = label_step(nr), sc = label_step(nc);

	for (size_t j = 0; j < nc; j += sc)
		fprintf(out, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
			(size_t)MARGIN_LEFT + j * CELL + CELL / 2, MARGIN_TOP - 4, j * bc);
	for (size_t i = 0; i < nr; i += sr)
		fprintf(out, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">%zu</text>",
			MARGIN_LEFT - 4, (size_t)MARGIN_TOP + i * CELL + CELL - 3, i * br);
	fputc('\n', out);
}

static void write_heatmap(FILE *out, const gc_result *res, const gc_tensor_result *tr,
			  size_t case_no, size_t t_no)
{
	const gc_tensor *t = &tr->tensor;
	size_t rows = t->rows, cols = t->cols;
	size_t br = rows > MAX_CELLS ? ceil_div(rows, MAX_CELLS) : 1;
	size_t bc = cols > MAX_CELLS ? ceil_div(cols, MAX_CELLS) : 1;
	size_t nr = ceil_div(rows, br), nc = ceil_div(cols, bc);
	size_t w = MARGIN_LEFT + nc * CELL + 1, h = MARGIN_TOP + nr * CELL + 1;
	const gc_element *el = res->elements + t->offset;

	fprintf(out, "<figure class=\"tensor\" id=\"case-%zu-t%zu\" data-tensor=\"", case_no, t_no);
	esc(out, t->name);
	fprintf(out, "\" data-rows=\"%zu\" data-cols=\"%zu\" data-block-rows=\"%zu\" "
		"data-block-cols=\"%zu\" data-cells=\"%zu\" data-failed=\"%zu\">\n",
		rows, cols, br, bc, nr * nc, tr->failed);
	fputs("<figcaption>", out);
	esc(out, t->name);
	fprintf(out, " <span class=\"note\">(%zu &#215; %zu, %zu failing, %zu kink%s)</span>"
		"</figcaption>\n", rows, cols, tr->failed, tr->kinks, plural(tr->kinks));
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" width=\"%zu\" "
		"height=\"%zu\" viewBox=\"0 0 %zu %zu\" tabindex=\"0\" role=\"group\" aria-label=\"",
		w, h, w, h);
	esc(out, t->name);
	fprintf(out, ": heatmap of %zu by %zu, %zu failing, %zu kink%s, max rel %.3g\">\n",
		rows, cols, tr->failed, tr->kinks, plural(tr->kinks), tr->max_rel);
	write_axes(out, nr, nc, br, bc);
	for (size_t i = 0; i < nr; i++) {
		for (size_t j = 0; j < nc; j++) {
			block b = { i * br, (i + 1) * br, j * bc, (j + 1) * bc, 0, 0, 0, NULL,
				    GC_ELEM_SKIPPED };
			if (b.r1 > rows)
				b.r1 = rows;
			if (b.c1 > cols)
				b.c1 = cols;
			block_scan(el, cols, &b);
			write_cell(out, t, &b, MARGIN_LEFT + j * CELL, MARGIN_TOP + i * CELL);
		}
	}
	fputs("</svg>\n", out);
	if (br > 1 || bc > 1)
		fprintf(out, "<p class=\"note downsampled\">Downsampled: each cell is a block of "
			"%zu &#215; %zu elements coloured by its largest relative error; a block is "
			"outlined when any element in it fails.</p>\n", br, bc);
	fputs("<p class=\"readout\" aria-live=\"polite\" hidden=\"hidden\"></p>\n</figure>\n", out);
}

static void write_legend(FILE *out)
{
	int sw = 22, w = 17 * sw + 260;

	fprintf(out, "<figure class=\"legend\"><figcaption>Relative error |a &#8722; n| / "
		"max(|a|, |n|), one colour per decade</figcaption>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"44\" "
		"viewBox=\"0 0 %d 44\" role=\"img\" aria-label=\"Colour legend: dark purple for "
		"relative error 1e-16 or 0, through teal and green, to yellow for 1 and above; "
		"thick outline: failing; dot: kink; hatched: not checked\">\n", w, w);
	for (int k = 0; k < 17; k++)
		fprintf(out, "<rect x=\"%d\" y=\"2\" width=\"%d\" height=\"16\" fill=\"%s\"/>",
			k * sw, sw, colours[k]);
	for (int k = 0; k <= 16; k += 4)
		fprintf(out, "<text x=\"%d\" y=\"32\" text-anchor=\"%s\">%s</text>", k * sw + sw / 2,
			k == 0 ? "start" : "middle",
			k == 16 ? "&#8805;1" : k == 0 ? "&#8804;1e-16" :
			k == 4 ? "1e-12" : k == 8 ? "1e-8" : "1e-4");
	int x = 17 * sw + 16;
	fprintf(out, "\n<rect x=\"%d\" y=\"3\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
		"<rect class=\"fo\" x=\"%d\" y=\"4\" width=\"%d\" height=\"%d\"/>"
		"<rect class=\"fi\" x=\"%d.5\" y=\"5.5\" width=\"%d\" height=\"%d\"/>"
		"<text x=\"%d\" y=\"14\">failing</text>", x, CELL, CELL, colours[15],
		x + 1, CELL - 2, CELL - 2, x + 2, CELL - 5, CELL - 5, x + CELL + 4);
	x += 70;
	fprintf(out, "<rect x=\"%d\" y=\"3\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
		"<circle class=\"k\" cx=\"%d\" cy=\"%d\" r=\"2.6\"/>"
		"<text x=\"%d\" y=\"14\">kink</text>", x, CELL, CELL, colours[8],
		x + CELL / 2, 3 + CELL / 2, x + CELL + 4);
	x += 56;
	fprintf(out, "<rect x=\"%d\" y=\"3\" width=\"%d\" height=\"%d\" fill=\"url(#gc-hatch)\"/>"
		"<text x=\"%d\" y=\"14\">not checked</text>\n</svg></figure>\n",
		x, CELL, CELL, x + CELL + 4);
}

static void write_tensor_table(FILE *out, const gc_result *res)
{
	fputs("<table class=\"tensors\"><thead><tr><th scope=\"col\">tensor</th>"
	      "<th scope=\"col\">shape</th><th scope=\"col\">checked</th>"
	      "<th scope=\"col\">max rel</th><th scope=\"col\">max abs</th>"
	      "<th scope=\"col\">failed</th><th scope=\"col\">kinks</th></tr></thead><tbody>\n", out);
	for (size_t t = 0; t < res->n_tensors; t++) {
		const gc_tensor_result *tr = &res->tensors[t];
		fprintf(out, "<tr data-tensor=\"");
		esc(out, tr->tensor.name);
		fprintf(out, "\"%s><th scope=\"row\">", tr->failed ? " class=\"failing\"" : "");
		esc(out, tr->tensor.name);
		fprintf(out, "</th><td>%zu &#215; %zu</td><td>%zu</td><td>%.3g</td><td>%.3g</td>"
			"<td>%zu</td><td>%zu</td></tr>\n", tr->tensor.rows, tr->tensor.cols,
			tr->checked, tr->max_rel, tr->max_abs, tr->failed, tr->kinks);
	}
	fputs("</tbody></table>\n", out);
}

static void write_worst(FILE *out, const gc_result *res, const gc_report_options *o)
{
	char name[96];
	int any = 0;

	for (size_t t = 0; t < res->n_tensors; t++)
		any |= gc_report_shown(&res->tensors[t], o) > 0;
	if (!any)
		return;
	fputs("<h3>Worst elements</h3>\n<table class=\"worst\"><thead><tr>"
	      "<th scope=\"col\">element</th><th scope=\"col\">analytic</th>"
	      "<th scope=\"col\">numeric</th><th scope=\"col\">abs</th><th scope=\"col\">rel</th>"
	      "</tr></thead><tbody>\n", out);
	for (size_t t = 0; t < res->n_tensors; t++) {
		const gc_tensor_result *tr = &res->tensors[t];
		for (size_t k = 0; k < gc_report_shown(tr, o); k++) {
			const gc_element *e = &tr->worst[k];
			if (res->elements)
				gc_report_element_name(&tr->tensor, e->index, name, sizeof name);
			else
				snprintf(name, sizeof name, "%s direction %zu", tr->tensor.name,
					 e->index);
			fputs("<tr><th scope=\"row\"><code>", out);
			esc(out, name);
			fprintf(out, "</code></th><td>%.6g</td><td>%.6g</td><td>%.6g</td>"
				"<td>%.6g</td></tr>\n", e->analytic, e->numeric, e->abs_err, e->rel_err);
		}
	}
	fputs("</tbody></table>\n", out);
}

/* A sentence for a diagnosis that came without one. */
static void diag_fallback(FILE *out, const gc_diagnosis *d)
{
	switch (d->kind) {
	case GC_DIAG_SCALE:
		fprintf(out, "The analytic gradient is %.6g times the numeric one.", d->factor);
		break;
	case GC_DIAG_SIGN:
		fputs("The analytic gradient has the wrong sign.", out);
		break;
	case GC_DIAG_ZERO:
		fputs("The analytic gradient is all zero but the numeric one is not.", out);
		break;
	case GC_DIAG_TRANSPOSE:
		fputs("The analytic gradient is the numeric one transposed.", out);
		break;
	case GC_DIAG_ENTRY_LAYER:
		fprintf(out, "The error enters at layer %d: the layers above it are right.",
			d->layer);
		break;
	case GC_DIAG_REGULARIZATION:
		fprintf(out, "The analytic gradient is the numeric one plus %.6g times the "
			"%s: a regularization term's gradient is off.", d->factor,
			d->l1 ? "parameters' signs" : "parameters");
		break;
	case GC_DIAG_LOSS_SCALE:
		fprintf(out, "Every gradient is %.6g times the true one: the loss is scaled "
			"differently.", d->factor);
		break;
	case GC_DIAG_PRECISION:
		fputs("Every failure is as small as single-precision rounding.", out);
		break;
	case GC_DIAG_WEIGHT_PRODUCT:
		fputs("The bias gradient of this layer passes, so the product with the "
		      "layer's input is wrong.", out);
		break;
	}
}

static void write_diagnoses(FILE *out, const gc_result *res)
{
	if (!res->n_diagnoses)
		return;
	fputs("<h3>Diagnoses</h3>\n<ul class=\"diagnoses\">\n", out);
	for (size_t i = 0; i < res->n_diagnoses; i++) {
		const gc_diagnosis *d = &res->diagnoses[i];
		const char *kind = gc_diag_kind_name(d->kind);
		char tensor[sizeof d->tensor + 1];

		memcpy(tensor, d->tensor, sizeof d->tensor);
		tensor[sizeof d->tensor] = '\0';
		fputs("<li class=\"diag\" data-kind=\"", out);
		esc(out, kind);
		fputs("\" data-tensor=\"", out);
		esc(out, tensor);
		fputs("\"><span class=\"kind\">", out);
		esc(out, kind);
		fputs("</span> (<code>", out);
		esc(out, tensor);
		fputs("</code>): <span class=\"detail\">", out);
		if (memchr(d->detail, '\0', sizeof d->detail) && d->detail[0])
			esc(out, d->detail);
		else
			diag_fallback(out, d);
		fputs("</span></li>\n", out);
	}
	fputs("</ul>\n", out);
}

static void write_heatmaps(FILE *out, const gc_result *res, size_t case_no)
{
	if (!res->elements) {
		fputs("<p class=\"note\">Fast mode compares random directional derivatives, not "
		      "single elements, so there is no per-element heatmap.</p>\n", out);
		return;
	}
	fputs("<h3>Heatmaps</h3>\n", out);
	write_legend(out);
	fputs("<div class=\"heatmaps\">\n", out);
	for (size_t t = 0; t < res->n_tensors; t++) {
		const gc_tensor *tn = &res->tensors[t].tensor;
		if (tn->rows && tn->cols && tn->rows <= res->n / tn->cols &&
		    tn->offset <= res->n - tn->rows * tn->cols)
			write_heatmap(out, res, &res->tensors[t], case_no, t);
	}
	fputs("</div>\n", out);
}

static void write_case(FILE *out, const gc_case_report *c, size_t case_no,
                       const gc_report_options *o)
{
	const char *st = gc_case_status_name(c->status);
	const gc_result *res = c->status == GC_CASE_ERROR ? NULL : c->result;

	fprintf(out, "<section class=\"case %s\" id=\"case-%zu\" data-status=\"%s\" "
		"data-name=\"", st, case_no, st);
	esc(out, c->name);
	fprintf(out, "\">\n<h2><span class=\"badge %s\">", st);
	fputs(c->status == GC_CASE_PASS ? "&#10003; PASS" : c->status == GC_CASE_FAIL ?
	      "&#10007; FAIL" : "! ERROR", out);
	fputs("</span> ", out);
	esc(out, c->name);
	fputs("</h2>\n", out);
	if (c->status == GC_CASE_ERROR) {
		fputs("<p class=\"error-msg\">", out);
		esc(out, c->error ? c->error : "unknown error");
		fputs("</p>\n", out);
	}
	if (res)
		fprintf(out, "<p class=\"meta\">%zu parameters, loss %.6g, %zu checked, %zu failed, "
			"%zu kink%s, %zu unreliable; rtol %.3g, atol %.3g + noise</p>\n", c->n_params,
			c->loss, res->checked, res->failed, res->kinks, plural(res->kinks),
			res->unreliable, res->rtol_used, res->atol_used);
	if (c->n_notes) {
		fputs("<ul class=\"notes\">\n", out);
		for (size_t i = 0; i < c->n_notes; i++) {
			fputs("<li>", out);
			esc(out, c->notes[i]);
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	if (res) {
		write_diagnoses(out, res);
		write_tensor_table(out, res);
		write_worst(out, res, o);
		write_heatmaps(out, res, case_no);
	}
	fputs("</section>\n", out);
}

static void write_head(FILE *out)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n"
		"<head>\n<meta charset=\"utf-8\"/>\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
		"<meta name=\"color-scheme\" content=\"light dark\"/>\n"
		"<meta name=\"generator\" content=\"gradcheck %s\"/>\n"
		"<title>gradcheck report</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		GC_VERSION, css);
	/* Shared definitions, referenced by every heatmap as url(#gc-hatch). */
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\" "
	      "style=\"position:absolute\" aria-hidden=\"true\"><defs>"
	      "<pattern id=\"gc-hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"4\" height=\"4\"/>"
	      "<rect width=\"1.5\" height=\"4\" fill=\"#777\"/></pattern></defs></svg>\n", out);
}

static void write_top(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o)
{
	size_t passed, failed, errors;

	gc_report_count(cases, n, &passed, &failed, &errors);
	fprintf(out, "<header>\n<h1>gradcheck report</h1>\n"
		"<p class=\"summary\" id=\"summary\">%zu passed, %zu failed</p>\n", passed, failed);
	fprintf(out, "<p class=\"meta\">%zu case%s, %zu with errors; gradcheck %s", n,
		plural(n), errors, GC_VERSION);
	if (o)
		fprintf(out, "; rtol %.3g, atol %.3g + noise", o->check.rtol, o->check.atol);
	fputs("</p>\n</header>\n", out);
	if (n < 2)
		return;
	fputs("<nav aria-label=\"cases\"><ol>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<li><a href=\"#case-%zu\">", i + 1);
		esc(out, cases[i].name);
		fprintf(out, "</a> %s</li>\n", gc_case_status_label(cases[i].status));
	}
	fputs("</ol></nav>\n", out);
}

int gc_report_html(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o)
{
	write_head(out);
	write_top(out, cases, n, o);
	fputs("<main>\n", out);
	for (size_t i = 0; i < n; i++)
		write_case(out, &cases[i], i + 1, o);
	fprintf(out, "</main>\n<script>%s</script>\n</body>\n</html>\n", script);
	/* ferror is sticky, so one check covers every write above. */
	if (fflush(out) != 0 || ferror(out))
		return GC_EIO;
	return GC_OK;
}
