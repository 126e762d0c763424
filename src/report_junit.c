/* report_junit.c - JUnit XML (the Ant/Jenkins schema CI viewers read): one testcase
 * per case; a failing case carries its text report in <failure>, an error case its
 * message in <error>.  Text is escaped, and bytes XML 1.0 cannot carry (control
 * characters, invalid UTF-8) become U+FFFD. */
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "report_common.h"

#define REPLACEMENT "\xef\xbf\xbd"      /* U+FFFD in UTF-8 */

/* Length of the valid UTF-8 sequence XML 1.0 allows at s, or 0. */
static size_t xml_char_len(const unsigned char *s)
{
	size_t len;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r';
	len = gc_utf8_len((const char *)s);
	if (len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return 0;       /* U+FFFE and U+FFFF, the non-characters XML excludes */
	return len;
}

/* Writes s escaped for XML text or (attr) an attribute value; oneline turns line
 * breaks into spaces. */
static void xml_escape(FILE *out, const char *s, int attr, int oneline)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t len = xml_char_len(p);
		if (len == 0) {
			fputs(REPLACEMENT, out);
			p++;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case '\n': case '\r': case '\t':
			if (oneline)
				fputc(' ', out);
			else if (attr)
				fprintf(out, "&#%d;", *p);
			else
				fputc(*p, out);
			break;
		default:
			fwrite(p, 1, len, out);
		}
		p += len;
	}
}

/* The one-line summary of a failing case: failing tensors, then diagnoses or notes. */
static void failure_message(FILE *out, const gc_case_report *c)
{
	const gc_result *r = c->result;
	const char *sep = "";

	for (size_t t = 0; r && t < r->n_tensors; t++) {
		const gc_tensor_result *tr = &r->tensors[t];
		if (tr->failed == 0)
			continue;
		fprintf(out, "%s%s: %zu of %zu %s fail", sep, tr->tensor.name, tr->failed,
		        tr->checked, tr->directions ? "directions" : "elements");
		sep = "; ";
	}
	for (size_t d = 0; r && d < r->n_diagnoses; d++) {
		fprintf(out, "%s%s", sep, r->diagnoses[d].detail);
		sep = "; ";
	}
	for (size_t i = 0; i < c->n_notes; i++) {
		fprintf(out, "%s%s", sep, c->notes[i]);
		sep = "; ";
	}
	if (!*sep)
		fputs("gradient check failed", out);
}

/* Writes the result of one case (message attribute and text body) as a child element. */
static int write_outcome(FILE *out, const gc_case_report *c, const gc_report_options *o)
{
	const char *tag = c->status == GC_CASE_ERROR ? "error" : "failure";
	char *msg = NULL, *body = NULL;
	size_t msg_len, body_len;
	FILE *m = open_memstream(&msg, &msg_len);
	FILE *b = open_memstream(&body, &body_len);
	int rc = GC_OK;

	if (!m || !b) {
		rc = GC_ENOMEM;
		goto out;
	}
	if (c->status == GC_CASE_ERROR)
		fputs(c->error ? c->error : "error", m);
	else
		failure_message(m, c);
	rc = gc_report_text_case(b, c, o);
	if (fclose(m) != 0 || fclose(b) != 0)
		rc = GC_ENOMEM;
	m = b = NULL;
	if (rc)
		goto out;
	fprintf(out, "      <%s message=\"", tag);
	xml_escape(out, msg, 1, 1);
	fprintf(out, "\" type=\"%s\">", c->status == GC_CASE_ERROR ? "error" : "gradient");
	xml_escape(out, body, 0, 0);
	fprintf(out, "</%s>\n", tag);
out:
	if (m)
		fclose(m);
	if (b)
		fclose(b);
	free(msg);
	free(body);
	return rc;
}

int gc_report_junit(FILE *out, const gc_case_report *cases, size_t n, const gc_report_options *o)
{
	size_t passed, failed, errors;
	int rc = GC_OK;

	gc_report_count(cases, n, &passed, &failed, &errors);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"gradcheck\" tests=\"%zu\" failures=\"%zu\" "
	        "errors=\"%zu\">\n", n, failed - errors, errors);
	fprintf(out, "  <testsuite name=\"gradcheck\" tests=\"%zu\" failures=\"%zu\" "
	        "errors=\"%zu\" skipped=\"0\">\n", n, failed - errors, errors);
	for (size_t i = 0; rc == GC_OK && i < n; i++) {
		const gc_case_report *c = &cases[i];
		fputs("    <testcase classname=\"gradcheck\" name=\"", out);
		xml_escape(out, c->name, 1, 0);
		if (c->status == GC_CASE_PASS && !(c->result && c->result->unreliable)) {
			fputs("\"/>\n", out);
			continue;
		}
		if (c->status == GC_CASE_PASS) {
			/* passed, with elements the finite differences could not decide */
			fprintf(out, "\">\n      <system-out>%zu of %zu checked unreliable "
			        "(the finite differences could not decide)</system-out>\n"
			        "    </testcase>\n", c->result->unreliable, c->result->checked);
			continue;
		}
		fputs("\">\n", out);
		rc = write_outcome(out, c, o);
		fputs("    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	if (rc == GC_OK && ferror(out))
		rc = GC_EIO;
	return rc;
}
