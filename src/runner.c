/* runner.c - one case from file to verdict (see runner.h). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "exec.h"
#include "fileio.h"
#include "gradfile.h"
#include "jsonutil.h"
#include "loss.h"
#include "model.h"
#include "net.h"
#include "report_common.h"
#include "runner.h"

#define GC_EXPECT_SHOWN 3       /* mismatching elements named per expect check */

/* Appends a printf-formatted note; returns nonzero when out of memory. */
int gc_case_note(gc_case_outcome *out, const char *fmt, ...)
{
	char buf[1024];
	char **notes = realloc(out->notes, (out->n_notes + 1) * sizeof *notes);
	va_list ap;

	if (!notes)
		return GC_ENOMEM;
	out->notes = notes;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!(notes[out->n_notes] = strdup(buf)))
		return GC_ENOMEM;
	out->n_notes++;
	return GC_OK;
}

static int set_error(gc_case_outcome *out, const gc_error *err)
{
	char buf[2048];

	gc_error_format(err, buf, sizeof buf);
	free(out->error);
	out->error = strdup(buf);
	return out->error ? GC_OK : GC_ENOMEM;
}

/* A step of the check failed with rc (not GC_OK) and err: running out of memory ends
 * the run (GC_ENOMEM is returned); anything else makes the case an error. */
static int case_error(gc_case_outcome *out, int rc, const gc_error *err)
{
	return rc == GC_ENOMEM ? GC_ENOMEM : set_error(out, err);
}

/* The case name for a file that could not be loaded: its base name without .json. */
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".json") == 0)
		len -= 5;
	return strndup(base, len);
}

static gc_options case_options(const gc_run_options *ro, const gc_case *c)
{
	gc_options o = ro->check;

	if (c->check.has_step)
		o.step = c->check.step;
	if (c->check.has_rtol)
		o.rtol = c->check.rtol;
	if (c->check.has_atol)
		o.atol = c->check.atol;
	if (c->check.has_method)
		o.method = c->check.method;
	o.jobs = gc_options_jobs(&o);
	return o;
}

/* --precision single (README "Conventions"): float32 code rounds each gradient
 * element to about FLT_EPSILON times the case's largest gradient (3.1 of them at
 * most over cases/, measured with numpy_backprop.py --float32); the absolute
 * tolerance allows 64, the relative 1e-4, so an element 1e-2 off still fails. */
#define GC_SINGLE_ATOL 64.0
#define GC_SINGLE_RTOL 1e-4

static int single_tolerances(gc_options *o, const gc_net *net, const gc_case *c)
{
	double *g = malloc(c->n_params * sizeof *g), loss, scale = 0;
	int rc = g ? gc_net_gradient(net, &loss, g) : GC_ENOMEM;

	for (size_t i = 0; rc == GC_OK && i < c->n_params; i++)
		if (isfinite(g[i]))
			scale = fmax(scale, fabs(g[i]));
	free(g);
	o->atol = fmax(o->atol, GC_SINGLE_ATOL * FLT_EPSILON * scale);
	o->rtol = fmax(o->rtol, GC_SINGLE_RTOL);
	return rc;
}

/* After an "invalid JSON" error on a program's output: what the output begins with
 * (60 bytes, C-escaped) and where its messages belong. */
static void explain_not_json(gc_error *err, const char *out, size_t len)
{
	char head[256];
	size_t n = 0;

	if (strncmp(err->msg, "invalid JSON", 12) != 0 || len == 0)
		return;
	for (size_t i = 0; i < len && i < 60 && n + 5 < sizeof head; i++) {
		unsigned char ch = (unsigned char)out[i];
		if (ch == '\n')
			n += (size_t)snprintf(head + n, sizeof head - n, "\\n");
		else if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(head + n, sizeof head - n, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(head + n, sizeof head - n, "\\x%02x", ch);
		else
			head[n++] = (char)ch;
		head[n] = '\0';
	}
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof err->msg - used, "; the output begins \"%s\"%s: "
	         "standard output must hold only the gradient file, so print your own "
	         "messages to standard error", head, len > 60 ? "..." : "");
}

/* Runs the --exec program on the resolved case and parses its gradient file. */
static int gradient_from_exec(const gc_run_options *ro, const gc_case *c, double *grad,
                              unsigned char *transposed, int *has_loss, double *loss,
                              gc_error *err)
{
	gc_exec_result res = {0};
	char *resolved = gc_case_resolve(c);
	char what[256];
	int rc;

	if (!resolved) {
		gc_error_set(err, "out of memory");
		return GC_ENOMEM;
	}
	if ((rc = gc_exec_run_sandboxed(ro->exec_cmd, ro->sandbox, resolved, strlen(resolved),
	                                ro->timeout, ro->limits.max_file, &res, err)) != GC_OK)
		goto out;
	if ((ro->sandbox && ro->sandbox->enabled &&
	     gc_sandbox_describe(ro->sandbox, &res, what, sizeof what)) ||
	    gc_exec_describe(&res, what, sizeof what)) {
		int tail = (int)strlen(res.err_tail);

		while (tail > 0 && res.err_tail[tail - 1] == '\n')
			tail--;
		gc_error_set(err, "--exec '%s' failed: %s%s%.*s", ro->exec_cmd, what,
		             tail ? "; its stderr ends with:\n" : "", tail, res.err_tail);
		rc = GC_EINVAL;
		goto out;
	}
	snprintf(what, sizeof what, "output of '%s'", ro->exec_cmd);
	rc = gc_gradfile_parse(res.out, res.out_len, what, c, grad, transposed, has_loss,
	                       loss, err);
	if (rc != 0)
		explain_not_json(err, res.out, res.out_len);
out:
	free(resolved);
	gc_exec_result_free(&res);
	return rc;
}

/* Fills grad with the gradient under test, and *has_loss, *loss with the loss its
 * gradient file reports (if any); a gc_status with err set when it cannot. */
static int gradient_under_test(const gc_run_options *ro, const gc_case *c, const gc_net *net,
                               double *grad, unsigned char *transposed, int *has_loss,
                               double *loss, gc_error *err)
{
	*has_loss = 0;
	if (ro->exec_cmd)
		return gradient_from_exec(ro, c, grad, transposed, has_loss, loss, err);
	if (ro->grad_path)
		return gc_gradfile_load(ro->grad_path, ro->limits.max_file, c, grad, transposed,
		                        has_loss, loss, err);
	int rc = gc_net_gradient(net, loss, grad);

	if (rc != GC_OK)
		gc_error_set(err, "%s", gc_strerror(rc));
	return rc;
}

static int near(double x, double k)
{
	return fabs(x - k) <= 1e-6 * fabs(k);
}

/* Names a ratio r of two losses when it is a factor a convention explains: the
 * explanation, or NULL. */
static const char *ratio_reason(const gc_case *c, double r, char *buf, size_t size)
{
	size_t B = c->batch, m = c->sizes[c->n_layers];
	gc_reduction rd = c->reduction_given ? c->reduction : gc_loss_default_reduction(c->loss);
	const char *red = gc_reduction_name(rd);
	/* only the factors the case's reduction can explain: summing over what it
	 * averages, or averaging over what it sums */
	int by_b = rd != GC_RED_SUM, by_m = rd == GC_RED_MEAN;
	struct { double k; int usable; const char *fmt; size_t n; } known[] = {
		{ (double)m, m > 1 && by_m, "does your code sum over the %zu outputs where the "
		  "case says reduction \"%s\"?", m },
		{ (double)B, B > 1 && by_b, "does your code sum over the %zu samples where the "
		  "case says reduction \"%s\"?", B },
		{ (double)B * (double)m, B > 1 && m > 1 && by_b && by_m, "does your code sum over "
		  "all %zu values where the case says reduction \"%s\"?", B * m },
		{ 1.0 / (double)m, m > 1 && !by_m, "does your code average over the %zu outputs "
		  "where the case says reduction \"%s\"?", m },
		{ 1.0 / (double)B, B > 1 && !by_b, "does your code average over the %zu samples "
		  "where the case says reduction \"%s\"?", B },
		{ 1.0 / ((double)B * (double)m), B > 1 && m > 1 && !by_b && !by_m, "does your code "
		  "average over all %zu values where the case says reduction \"%s\"?", B * m },
		{ 2.0, c->loss == GC_LOSS_HALF_SSE, "is the loss's 1/2 missing from your code "
		  "(the case's loss is half_sse, reduction \"%s\")?", 0 },
		{ 2.0, c->loss != GC_LOSS_HALF_SSE, "a factor 2: does the case state your code's "
		  "loss and reduction (\"%s\")?", 0 },
		{ 0.5, 1, "does your code halve a loss the case does not (use half_sse, or a "
		  "\"regularization\" with \"half\")?%.0s", 0 },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (!known[i].usable || !near(r, known[i].k))
			continue;
		if (known[i].n)
			snprintf(buf, size, known[i].fmt, known[i].n, red);
		else
			snprintf(buf, size, known[i].fmt, red);
		return buf;
	}
	return NULL;
}

/* Names a factor k = (their loss - the data term) / the case's regularization term. */
static const char *reg_reason(const gc_case *c, double k)
{
	double D = c->reg.divide_by, B = (double)c->batch;

	if (near(k, 2.0))
		return "does the case say \"half\" where your code does not halve the term?";
	if (near(k, 0.5))
		return "does your code halve the term where the case does not say \"half\"?";
	if (D != 1 && near(k, D))
		return "does your code leave out the case's \"divide_by\"?";
	if (B > 1 && D != B && near(k, D / B))
		return "does your code divide by the batch size (\"divide_by\": \"batch\")?";
	return NULL;
}

/* A coefficient k of a tensor as a multiple of the case's lambda that code would
 * write ("2λ", "λ/5"), in buf; or k itself. */
static const char *lambda_form(const gc_case *c, double k, char *buf, size_t size)
{
	double lam = c->reg.l2, D = c->reg.divide_by, B = (double)c->batch;
	struct { double f; int usable; const char *fmt; double n; } forms[] = {
		{ 2, 1, "2\xce\xbb", 0 }, { 1, 1, "\xce\xbb", 0 }, { 0.5, 1, "\xce\xbb/2", 0 },
		{ 2 / D, D != 1, "2\xce\xbb/%.15g", D }, { 1 / D, D != 1, "\xce\xbb/%.15g", D },
		{ 0.5 / D, D != 1, "\xce\xbb/(2\xc2\xb7%.15g)", D },
		{ 2 / B, B > 1 && D != B, "2\xce\xbb/%.15g", B },
		{ 1 / B, B > 1 && D != B, "\xce\xbb/%.15g", B },
		{ 0.5 / B, B > 1 && D != B, "\xce\xbb/(2\xc2\xb7%.15g)", B },
	};
	for (size_t i = 0; lam > 0 && i < sizeof forms / sizeof forms[0]; i++)
		if (forms[i].usable && near(k, forms[i].f * lam)) {
			snprintf(buf, size, forms[i].fmt, forms[i].n);
			return buf;
		}
	snprintf(buf, size, "%.4g", k);
	return buf;
}

/* The tensor of c named name, or NULL. */
static const gc_tensor *case_tensor(const gc_case *c, const char *name)
{
	for (size_t k = 0; k < c->n_tensors; k++)
		if (strcmp(c->tensors[k].name, name) == 0)
			return &c->tensors[k];
	return NULL;
}

/* Rewrites each L1 diagnosis (a - n = c sign(theta)) with the case's own term: what
 * the case's L1 term's gradient is and what the gradient under test adds instead. */
static void explain_l1(gc_result *r, const gc_case *c)
{
	const gc_regularization *g = &c->reg;

	for (size_t i = 0; i < r->n_diagnoses; i++) {
		gc_diagnosis *d = &r->diagnoses[i];
		const gc_tensor *t = d->l1 ? case_tensor(c, d->tensor) : NULL;
		if (d->kind != GC_DIAG_REGULARIZATION || !t)
			continue;
		int covered = t->matrix || g->biases;
		double k_case = covered ? g->l1 / g->divide_by : 0, k_yours = k_case + d->factor;
		if (g->l1 == 0 || !covered) {
			snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus "
			         "%.4g \xc3\x97 sign(%s): your code adds an L1 term the case does not "
			         "state%s", d->tensor, d->factor, d->tensor, g->l1 == 0
			         ? "; if it is meant, state it: \"regularization\": {\"l1\": ...}"
			         : " for the biases (\"biases\": false)");
			continue;
		}
		const char *hint = "";
		if (fabs(k_yours) <= 1e-6 * k_case)
			hint = ": does your code leave the term out of the gradient?";
		else if (g->divide_by != 1 && near(k_yours, k_case * g->divide_by))
			hint = ": is the case's \"divide_by\" missing from your gradient?";
		else if (c->batch > 1 && near(k_yours, k_case / (double)c->batch))
			hint = ": your code divides by the batch size where the case does not";
		char term[64] = "";
		if (g->divide_by_kind != 0)
			snprintf(term, sizeof term, "/%.15g", g->divide_by);
		snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus %.4g "
		         "\xc3\x97 sign(%s): the case's L1 term \xce\xbc%s\xc2\xb7\xce\xa3|w| "
		         "(\xce\xbc = %.15g) has the gradient %.4g\xc2\xb7sign(%s), yours adds "
		         "%.4g\xc2\xb7sign(%s)%s", d->tensor, d->factor, d->tensor, term, g->l1,
		         k_case, d->tensor, k_yours, d->tensor, hint);
	}
}

/* Rewrites each regularization diagnosis with the case's own term (README
 * "Conventions"): what the case's L2 term's gradient is and what the gradient under
 * test adds instead, in multiples of the case's lambda. */
static void explain_regularization(gc_result *r, const gc_case *c)
{
	const gc_regularization *g = &c->reg;

	for (size_t i = 0; i < r->n_diagnoses; i++) {
		gc_diagnosis *d = &r->diagnoses[i];
		const gc_tensor *t = NULL;
		char want[64], got[64], term[96];
		if (d->kind != GC_DIAG_REGULARIZATION || d->l1 || g->l1 > 0)
			continue;
		for (size_t k = 0; k < c->n_tensors; k++)
			if (strcmp(c->tensors[k].name, d->tensor) == 0)
				t = &c->tensors[k];
		if (!t)
			continue;
		int covered = t->matrix || g->biases;
		double k_case = covered ? g->l2 * (g->half ? 1 : 2) / g->divide_by : 0;
		double k_yours = k_case + d->factor;
		if (g->l2 == 0) {
			snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus "
			         "%.4g \xc3\x97 %s: your code adds a regularization term the case does "
			         "not state; if it is meant, state it: \"regularization\": {\"l2\": "
			         "%.4g} (or {\"l2\": %.4g, \"half\": true})%s", d->tensor, d->factor,
			         d->tensor, d->factor / 2, d->factor,
			         t->matrix ? "" : ", with \"biases\": true");
			continue;
		}
		if (!covered) {
			snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus "
			         "%.4g \xc3\x97 %s: the case's regularization leaves the biases out "
			         "(\"biases\": false), your code regularizes %s too", d->tensor,
			         d->factor, d->tensor, d->tensor);
			continue;
		}
		if (g->divide_by_kind == 0)
			snprintf(term, sizeof term, "%s\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2",
			         g->half ? "\xc2\xbd" : "");
		else
			snprintf(term, sizeof term, "\xce\xbb/%s%.15g%s\xc2\xb7\xce\xa3w\xc2\xb2",
			         g->half ? "(2\xc2\xb7" : "", g->divide_by, g->half ? ")" : "");
		const char *hint = "";
		char yours[160];
		if (fabs(k_yours) <= 1e-6 * k_case)
			snprintf(yours, sizeof yours, "nothing");
		else
			snprintf(yours, sizeof yours, "%s\xc2\xb7%s = %.4g\xc2\xb7%s",
			         lambda_form(c, k_yours, got, sizeof got), d->tensor, k_yours, d->tensor);
		if (fabs(k_yours) <= 1e-6 * k_case)
			hint = t->matrix ? ": does your code leave the term out of the gradient?"
			     : ": does your code leave the biases out (the case says \"biases\": true)?";
		else if (near(k_yours, 2 * k_case))
			hint = ": the gradient of \xc2\xbd\xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is "
			       "\xce\xbbw, of \xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 2\xce\xbbw";
		else if (near(k_yours, k_case / 2))
			hint = ": the gradient of \xce\xbb\xc2\xb7\xce\xa3w\xc2\xb2 is 2\xce\xbbw "
			       "(is the 2 missing?)";
		else if (g->divide_by != 1 && near(k_yours, k_case * g->divide_by))
			hint = ": is the case's \"divide_by\" missing from your gradient?";
		else if (c->batch > 1 && g->divide_by != (double)c->batch
		         && near(k_yours, k_case * g->divide_by / (double)c->batch))
			hint = g->divide_by_kind == 0
			       ? ": your code divides by the batch size where the case does not"
			       : ": your code divides by the batch size where the case says "
			         "\"divide_by\"";
		/* a detail too long for the buffer ends cut, as every detail does */
		int len = snprintf(d->detail, sizeof d->detail, "%s's gradient is the true one plus %.4g "
		         "\xc3\x97 %s: the case's L2 term %s (\xce\xbb = %.15g%s) has the gradient "
		         "%s\xc2\xb7%s = %.4g\xc2\xb7%s, yours adds %s%s",
		         d->tensor, d->factor, d->tensor, term, g->l2,
		         g->biases ? ", biases included" : "",
		         lambda_form(c, k_case, want, sizeof want), d->tensor, k_case, d->tensor,
		         yours, hint);
		if (len < 0)
			snprintf(d->detail, sizeof d->detail, "%s: a regularization term's gradient "
			         "is off", d->tensor);
	}
}

/* Compares the loss a gradient file reports with gradcheck's (README
 * "Conventions"): a note naming the ratio, or the difference, and what it suggests. */
static int check_program_loss(gc_case_outcome *out, const gc_case *c, const gc_net *net,
                              double theirs)
{
	double ours = gc_net_base_loss(net), reg = gc_net_reg_loss(net), data = ours - reg;
	double tol = 1e-6 * fmax(1.0, fabs(ours));
	char why[256];
	const char *reason = NULL;

	if (fabs(theirs - ours) <= tol)
		return GC_OK;
	if (!isfinite(theirs))
		return gc_case_note(out, "loss: your program reports a loss of %g; gradcheck's is %.10g",
		                theirs, ours);
	if (reg != 0 && fabs(theirs - data) <= tol)
		return gc_case_note(out, "loss: your program reports %.10g, gradcheck's is %.10g: yours "
		                "equals gradcheck's without the regularization term (%.6g); does "
		                "your code leave it out of the loss?", theirs, ours, reg);
	if (reg != 0 && (reason = reg_reason(c, (theirs - data) / reg)))
		return gc_case_note(out, "loss: your program reports %.10g, gradcheck's is %.10g: "
		                "your regularization term is %.4g \xc3\x97 the case's (%.6g): %s",
		                theirs, ours, (theirs - data) / reg, reg, reason);
	if (ours != 0 && isfinite(theirs / ours))
		reason = ratio_reason(c, theirs / ours, why, sizeof why);
	if (reason)
		return gc_case_note(out, "loss: your program reports %.10g, gradcheck's is %.10g: your "
		                "loss is %.3f \xc3\x97 gradcheck's: %s", theirs, ours,
		                theirs / ours, reason);
	if (theirs > ours)
		return gc_case_note(out, "loss: your program reports %.10g, gradcheck's is %.10g: it "
		                "differs by %.4g: a regularization term the case does not state?",
		                theirs, ours, theirs - ours);
	return gc_case_note(out, "loss: your program reports %.10g, gradcheck's is %.10g (%.4g "
	                "\xc3\x97 gradcheck's): does the case state your code's loss, reduction "
	                "and regularization?", theirs, ours, ours != 0 ? theirs / ours : 0.0);
}

static int note_transposed(gc_case_outcome *out, const gc_case *c,
                           const unsigned char *transposed)
{
	for (size_t t = 0; t < c->n_tensors; t++) {
		const gc_tensor *tn = &c->tensors[t];
		if (transposed[t] && gc_case_note(out, "%s was given with shape [%zu][%zu], the transpose "
		                              "of [%zu][%zu]", tn->name, tn->cols, tn->rows,
		                              tn->rows, tn->cols))
			return GC_ENOMEM;
	}
	return GC_OK;
}

/* Adds a note for each of the first few values that differ from the expected. */
static int compare_values(gc_case_outcome *out, const char *what, const double *got,
                          const double *want, const unsigned char *given, size_t n,
                          const gc_case *c, double tol)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		char name[64];

		if ((given && !given[i]) || fabs(got[i] - want[i]) <= tol)
			continue;
		if (++bad > GC_EXPECT_SHOWN)
			continue;
		if (c) {
			size_t t = 0;
			while (i >= c->tensors[t].offset + c->tensors[t].rows * c->tensors[t].cols)
				t++;
			gc_report_element_name(&c->tensors[t], i, name, sizeof name);
		} else {
			snprintf(name, sizeof name, "[%zu]", i);
		}
		if (gc_case_note(out, "expect: %s %s is %.10g, the case expects %.10g (tolerance %g)",
		             what, name, got[i], want[i], tol))
			return GC_ENOMEM;
	}
	if (bad > GC_EXPECT_SHOWN &&
	    gc_case_note(out, "expect: %zu more %s values differ", bad - GC_EXPECT_SHOWN, what))
		return GC_ENOMEM;
	return GC_OK;
}

/* single: the gradient under test comes from float32 code, and published float64
 * values get --precision single's absolute tolerance when it is the larger. */
static int check_expect(gc_case_outcome *out, const gc_case *c, const gc_net *net,
                        double loss, const double *grad, int single)
{
	const gc_case_expect *e = &c->expect;
	double gtol = single ? fmax(e->tolerance, out->used.atol) : e->tolerance;
	int rc = GC_OK;

	if (e->has_loss && !(fabs(loss - e->loss) <= e->tolerance))
		rc = gc_case_note(out, "expect: loss is %.10g, the case expects %.10g (tolerance %g)",
		              loss, e->loss, e->tolerance);
	if (rc == GC_OK && e->output) {
		size_t n = c->batch * c->sizes[c->n_layers];
		double *output = malloc(n * sizeof *output);

		if (!output)
			return GC_ENOMEM;
		gc_net_loss_at(net, c->theta, output);
		rc = compare_values(out, "output", output, e->output, NULL, n, NULL, e->tolerance);
		free(output);
	}
	if (rc == GC_OK && e->gradient)
		rc = compare_values(out, "gradient", grad, e->gradient, e->gradient_given,
		                    c->n_params, c, gtol);
	return rc;
}

/* DIR/NAME.grad.json, without doubling a '/' that ends DIR ("golden/"). */
static char *golden_path(const char *dir, const char *name)
{
	size_t len = strlen(dir), n = len + strlen(name) + sizeof "/.grad.json";
	char *p = malloc(n);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (p)
		snprintf(p, n, "%.*s%s%s.grad.json", (int)len, dir, len > 0 && dir[len - 1] == '/' ? "" : "/",
		         name);
	return p;
}

/* Two recordings of an element agree: equal (infinities too, NaN with NaN) or within
 * the tolerances; otherwise *rel is how far apart they are (infinite when one is not
 * finite). */
static int same_recording(double now, double then, const gc_result *r, double *rel)
{
	double d = fabs(now - then), big = fmax(fabs(now), fabs(then));

	if (now == then || (isnan(now) && isnan(then)) || d <= r->atol_used + r->rtol_used * big)
		return 1;
	*rel = isfinite(d / big) ? d / big : INFINITY;
	return 0;
}

int gc_golden_notes(gc_case_outcome *out, const gc_tensor *tensors, size_t n_tensors,
                    const double *grad, const double *golden, const char *path)
{
	for (size_t t = 0; t < n_tensors; t++) {
		const gc_tensor *tn = &tensors[t];
		size_t drifted = 0, worst = tn->offset;
		double worst_rel = -1, rel;
		char name[64];

		for (size_t i = tn->offset; i < tn->offset + tn->rows * tn->cols; i++) {
			if (same_recording(grad[i], golden[i], out->result, &rel))
				continue;
			if (drifted++ == 0 || rel > worst_rel) {
				worst_rel = rel;
				worst = i;
			}
		}
		if (!drifted)
			continue;
		gc_report_element_name(tn, worst, name, sizeof name);
		if (gc_case_note(out, "golden: %s drifted in %zu of %zu elements from %s; worst %s "
		                 "is %.10g, recorded %.10g (rel %.3g)", tn->name, drifted,
		                 tn->rows * tn->cols, path, name, grad[worst], golden[worst],
		                 worst_rel))
			return GC_ENOMEM;
	}
	return GC_OK;
}

/* Compares grad with the recorded golden gradient under the check's tolerance rule;
 * adds a note per drifting tensor.  A gc_status with err set when the file is unusable;
 * GC_ENOMEM when memory ran out. */
static int check_golden(gc_case_outcome *out, const gc_run_options *ro, const gc_case *c,
                        const double *grad, gc_error *err)
{
	char *path = golden_path(ro->golden_dir, c->name);
	double *golden = malloc(c->n_params * sizeof *golden);
	unsigned char *transposed = calloc(c->n_tensors, 1);
	double loss;
	int has_loss, rc = GC_ENOMEM;

	if (!path || !golden || !transposed) {
		gc_error_set(err, "out of memory");
		goto out;
	}
	rc = gc_gradfile_load(path, ro->limits.max_file, c, golden, transposed, &has_loss, &loss, err);
	if (rc == GC_OK)
		rc = gc_golden_notes(out, c->tensors, c->n_tensors, grad, golden, path);
	if (rc == GC_ENOMEM)
		gc_error_set(err, "out of memory");
out:
	free(path);
	free(golden);
	free(transposed);
	return rc;
}

/* Writes DIR/NAME.grad.json unless a different file is there (and not --force). */
static int record_gradient(gc_case_outcome *out, const gc_run_options *ro, const gc_case *c,
                           double loss, const double *grad, gc_error *err)
{
	char *path = golden_path(ro->record_dir, c->name);
	char *text = gc_gradfile_print(c, loss, grad);
	char *old = NULL;
	size_t old_len;
	gc_error ignored;
	int rc = GC_ENOMEM;

	if (!path || !text) {
		gc_error_set(err, "out of memory");
		goto out;
	}
	if (!ro->force && gc_json_read_file(path, ro->limits.max_file, &old, &old_len, &ignored) == 0 &&
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

static void finish_report(gc_case_outcome *out, const gc_case *c, double loss)
{
	gc_case_report *r = &out->report;

	r->name = out->name;
	r->error = out->error;
	r->result = out->result;
	r->notes = (const char *const *)out->notes;
	r->n_notes = out->n_notes;
	r->n_params = c ? c->n_params : 0;
	r->loss = loss;
	r->digest = out->digest[0] ? out->digest : NULL;
	if (out->error)
		r->status = GC_CASE_ERROR;
	else if ((out->result && out->result->failed) || out->n_notes > 0)
		r->status = GC_CASE_FAIL;
	else
		r->status = GC_CASE_PASS;
}

int gc_run_case(const char *path, const gc_run_options *ro, gc_case_outcome *out)
{
	gc_case *c = NULL;
	gc_net *net = NULL;
	double *grad = NULL, *cost = NULL;
	unsigned char *transposed = NULL;
	gc_error err;
	double loss = NAN, their_loss = NAN;
	int has_loss = 0, rc = GC_OK, single;

	memset(out, 0, sizeof *out);
	memset(&err, 0, sizeof err);
	if ((rc = gc_case_load_limited(path, &ro->limits, &c, &err)) != GC_OK) {
		out->name = name_from_path(path);
		rc = out->name ? case_error(out, rc, &err) : GC_ENOMEM;
		goto out;
	}
	out->used = case_options(ro, c);
	/* shards name what they ran, so that merge refuses shards of different contents */
	if (out->used.shard_count > 1 && (rc = gc_case_digest(c, out->digest)) != GC_OK)
		goto out;
	if (!(out->name = strdup(c->name)) ||
	    !(grad = malloc(c->n_params * sizeof *grad)) ||
	    !(transposed = calloc(c->n_tensors, 1))) {
		rc = GC_ENOMEM;
		goto out;
	}
	if ((rc = gc_net_create(c, out->used.jobs, &net)) != GC_OK) {
		gc_error_set(&err, "the network cannot be evaluated: %s", gc_strerror(rc));
		rc = case_error(out, rc, &err);
		goto out;
	}
	loss = gc_net_base_loss(net);
	if ((rc = gradient_under_test(ro, c, net, grad, transposed, &has_loss, &their_loss,
	                              &err)) != GC_OK) {
		rc = case_error(out, rc, &err);
		goto out;
	}
	single = c->check.has_precision ? c->check.single : ro->single;
	if (single && (rc = single_tolerances(&out->used, net, c)) != GC_OK) {
		gc_error_set(&err, "%s", gc_strerror(rc));
		rc = case_error(out, rc, &err);
		goto out;
	}
	if (!(cost = malloc(c->n_tensors * sizeof *cost))) {
		rc = GC_ENOMEM;
		goto out;
	}
	for (size_t t = 0; t < c->n_tensors; t++)
		cost[t] = gc_net_param_cost(c, (size_t)c->tensors[t].layer);
	gc_problem p = {
		.n = c->n_params, .theta = c->theta, .grad = grad, .loss = loss,
		.f = gc_net_fn, .moved = gc_net_moved_loss, .moved_many = gc_net_moved_many,
		.kink = gc_net_kink, .ctx = net,
		.tensors = c->tensors, .n_tensors = c->n_tensors,
		.batch = c->batch, .outputs = c->sizes[c->n_layers], .noise = gc_net_noise(net),
		.cost = cost,
	};
	if ((rc = gc_check_progress(&p, &out->used, ro->progress, ro->progress_arg,
	                            &out->result)) != GC_OK) {
		gc_error_set(&err, "%s", gc_strerror(rc));
		rc = case_error(out, rc, &err);
		goto out;
	}
	/* a case where nothing was decided is no pass (a shard may hold none of a case) */
	if (out->used.shard_count <= 1 && out->result->checked == out->result->unreliable) {
		if (out->result->checked == 0)
			gc_error_set(&err, "nothing was checked");
		else
			gc_error_set(&err, "nothing was decided: all %zu elements checked are "
			             "unreliable (the finite differences cannot resolve this "
			             "gradient)", out->result->checked);
		rc = case_error(out, GC_EINVAL, &err);
		goto out;
	}
	explain_regularization(out->result, c);
	explain_l1(out->result, c);
	if ((rc = note_transposed(out, c, transposed)) != GC_OK ||
	    (has_loss && (ro->exec_cmd || ro->grad_path)
	     && (rc = check_program_loss(out, c, net, their_loss)) != GC_OK) ||
	    (rc = check_expect(out, c, net, loss, grad, single)) != GC_OK)
		goto out;
	if (ro->golden_dir && (rc = check_golden(out, ro, c, grad, &err)) != GC_OK) {
		rc = case_error(out, rc, &err);
		goto out;
	}
	if (ro->record_dir && (rc = record_gradient(out, ro, c, loss, grad, &err)) != GC_OK)
		rc = case_error(out, rc, &err);
out:
	finish_report(out, c, loss);
	out->kase = c;
	free(grad);
	free(cost);
	free(transposed);
	gc_net_free(net);
	return rc;
}

void gc_case_outcome_free(gc_case_outcome *out)
{
	if (!out)
		return;
	free(out->name);
	free(out->error);
	free(out->kept_record);
	gc_result_free(out->result);
	gc_case_free(out->kase);
	gc_model_free(out->model);
	for (size_t i = 0; i < out->n_notes; i++)
		free(out->notes[i]);
	free(out->notes);
	memset(out, 0, sizeof *out);
}
