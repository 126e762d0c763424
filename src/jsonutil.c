/* jsonutil.c - JSON reading and writing shared by cases and gradient files. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gradcheck.h"
#include "jsonutil.h"

#define GC_STR_(x) #x
#define GC_STR(x) GC_STR_(x)

static void too_large(gc_error *err, size_t max)
{
	if (max >= (size_t)1 << 20)
		gc_error_set(err, "file is larger than %zu MiB", max >> 20);
	else
		gc_error_set(err, "file is larger than %zu bytes", max);
}

static int read_stream(FILE *f, size_t max, char **text, size_t *len, gc_error *err)
{
	char *buf, *grown;
	size_t cap = 1 << 16, n = 0, got;

	buf = malloc(cap);
	if (!buf)
		goto oom;
	do {
		if (n + 1 == cap) {
			cap *= 2;
			grown = realloc(buf, cap);
			if (!grown)
				goto oom;
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			free(buf);
			too_large(err, max);
			return GC_EINVAL;
		}
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		gc_error_set(err, "cannot read: %s", strerror(errno));
		return GC_EIO;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
oom:
	free(buf);
	gc_error_set(err, "out of memory");
	return GC_ENOMEM;
}

int gc_json_read_file(const char *path, size_t max, char **text, size_t *len, gc_error *err)
{
	FILE *f;
	struct stat st;
	int rc;

	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = err->col = 0;
	f = fopen(path, "rb");
	if (!f) {
		gc_error_set(err, "cannot open: %s", strerror(errno));
		return GC_EIO;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		too_large(err, max);
		rc = GC_EINVAL;
	} else {
		rc = read_stream(f, max, text, len, err);
	}
	fclose(f);
	return rc;
}

static int only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return 0;
	return 1;
}

/* cJSON skips every byte below 0x20 as white space (a NUL too); JSON allows none but
 * tab, newline and carriage return, and inside strings none at all. */
static const char *find_control(const char *p, const char *end)
{
	for (; p < end; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return p;
	return NULL;
}

/* The nesting depth of arrays and objects just before at (strings skipped). */
static size_t depth_at(const char *p, const char *at)
{
	size_t depth = 0;

	for (; p < at; p++) {
		if (*p == '"') {
			for (p++; p < at && *p != '"'; p++)
				if (*p == '\\')
					p++;
		} else if (*p == '[' || *p == '{') {
			depth++;
		} else if ((*p == ']' || *p == '}') && depth > 0) {
			depth--;
		}
	}
	return depth;
}

/* Why cJSON stopped at p (text + len is the end), when a common reason fits. */
static const char *parse_hint(const char *text, size_t len, const char *p)
{
	static const char *const nonfinite[] = { "NaN", "nan", "Inf", "inf", "-NaN", "-nan",
						 "-Inf", "-inf" };
	size_t rest = (size_t)(text + len - p);

	for (size_t i = 0; i < sizeof nonfinite / sizeof *nonfinite; i++)
		if (rest >= strlen(nonfinite[i]) && memcmp(p, nonfinite[i], strlen(nonfinite[i])) == 0)
			return " (NaN and Infinity are not JSON numbers)";
	if (depth_at(text, p) >= CJSON_NESTING_LIMIT)
		return " (arrays and objects nested more than " GC_STR(CJSON_NESTING_LIMIT) " deep)";
	return "";
}

cJSON *gc_json_parse(const char *text, size_t len, gc_error *err)
{
	const char *end = NULL, *ctl;
	cJSON *root;

	err->line = err->col = 0;
	if (only_space(text, text + len)) {
		gc_error_set(err, "invalid JSON (empty input)");
		err->line = err->col = 1;
		return NULL;
	}
	if ((ctl = find_control(text, text + len))) {
		gc_error_set(err, "invalid JSON (control character 0x%02x)", (unsigned char)*ctl);
		gc_jsonpos_linecol(text, (size_t)(ctl - text), &err->line, &err->col);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root && only_space(end, text + len))
		return root;
	if (root) {
		gc_error_set(err, "invalid JSON (unexpected text after the value)");
		while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
			end++;
	}
	else
		gc_error_set(err, "invalid JSON%s",
			     end && end >= text && end <= text + len ? parse_hint(text, len, end) : "");
	cJSON_Delete(root);
	if (end && end >= text && end <= text + len)
		gc_jsonpos_linecol(text, (size_t)(end - text), &err->line, &err->col);
	return NULL;
}

/* gc_json_parse_nonfinite writes NaN, Infinity and -Infinity as these strings (a
 * DEL, which no file of ours holds, then a sign), padded to the token's length so
 * that positions stay.  A literal like 1e999 stays an error (too large a number). */
#define MARK "\x7f"

cJSON *gc_json_parse_nonfinite(const char *text, size_t len, gc_error *err)
{
	static const struct { const char *token, *with; } subst[] = {
		{ "NaN", "\"" MARK "\"" }, { "Infinity", "\"" MARK "+\"    " },
		{ "-Infinity", "\"" MARK "-\"     " },
	};
	char *copy = malloc(len + 1);
	char prev = 0;
	cJSON *root;

	if (!copy) {
		gc_error_set(err, "out of memory");
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (copy[i] == '"') {
			for (i++; i < len && copy[i] != '"'; i++)
				if (copy[i] == '\\')
					i++;
			prev = '"';
			continue;
		}
		if (prev == '[' || prev == ',' || prev == ':')
			for (size_t k = 0; k < sizeof subst / sizeof subst[0]; k++) {
				size_t n = strlen(subst[k].token);
				if (len - i >= n && memcmp(copy + i, subst[k].token, n) == 0) {
					memcpy(copy + i, subst[k].with, n);
					i += n - 1;
					break;
				}
			}
		if (copy[i] != ' ' && copy[i] != '\t' && copy[i] != '\n' && copy[i] != '\r')
			prev = copy[i];
	}
	root = gc_json_parse(copy, len, err);
	free(copy);
	return root;
}

int gc_jfail(gc_jctx *j, const char *fmt, ...)
{
	char path[256], msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gc_jpath_format(&j->path, path, sizeof path);
	if (path[0])
		gc_error_set(j->err, "%s: %s", path, msg);
	else
		gc_error_set(j->err, "%s", msg);
	j->err->line = j->err->col = 0;
	if (j->text)
		gc_jsonpos_locate(j->text, j->len, &j->path, &j->err->line, &j->err->col);
	return GC_EINVAL;
}

const char *gc_json_kind(const cJSON *node)
{
	if (cJSON_IsString(node))
		return "a string";
	if (cJSON_IsNumber(node))
		return "a number";
	if (cJSON_IsArray(node))
		return "an array";
	if (cJSON_IsObject(node))
		return "an object";
	if (cJSON_IsTrue(node))
		return "true";
	if (cJSON_IsFalse(node))
		return "false";
	if (cJSON_IsNull(node))
		return "null";
	return "an invalid value";
}

/* Edit distance of two short strings (longer ones count as far apart). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = d[0];
		d[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			diag = up;
			d[j] = best;
		}
	}
	return d[lb];
}

static int unknown_key(gc_jctx *j, const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (const char *const *a = allowed; *a; a++) {
		size_t d = edit_distance(key, *a);
		if (d < best_d) {
			best_d = d;
			best = *a;
		}
	}
	/* no near spelling: the key sharing the longest start ("grads" -> "gradients"),
	 * at least 4 characters of it, or all of a key of 3 or more ("reg") */
	size_t best_p = 0;
	for (const char *const *a = allowed; !best && *a; a++) {
		size_t p = 0;
		while (key[p] && key[p] == (*a)[p])
			p++;
		if ((p >= 4 || (p >= 3 && !key[p])) && p > best_p)
			best_p = p;
	}
	for (const char *const *a = allowed; !best && best_p && *a; a++)
		if (strncmp(key, *a, best_p) == 0)
			best = *a;
	gc_jpath_push_key(&j->path, key);
	if (best)
		gc_jfail(j, "unknown key (did you mean \"%s\"?)", best);
	else
		gc_jfail(j, "unknown key");
	gc_jpath_pop(&j->path);
	return GC_EINVAL;
}

int gc_json_check_keys(gc_jctx *j, const cJSON *node, const char *const *allowed)
{
	const cJSON *item;

	if (!cJSON_IsObject(node))
		return gc_jfail(j, "expected an object, got %s", gc_json_kind(node));
	cJSON_ArrayForEach(item, node) {
		const char *const *a;
		if (item->string[0] == '_')
			continue;
		for (a = allowed; *a && strcmp(*a, item->string) != 0; a++)
			;
		if (!*a)
			return unknown_key(j, item->string, allowed);
	}
	for (const char *const *a = allowed; *a; a++) {
		int seen = 0;
		cJSON_ArrayForEach(item, node)
			seen += strcmp(item->string, *a) == 0;
		if (seen > 1) {
			gc_jpath_push_key(&j->path, *a);
			gc_jfail(j, "key given %d times", seen);
			gc_jpath_pop(&j->path);
			return GC_EINVAL;
		}
	}
	return 0;
}

int gc_json_is_nonfinite(const gc_jctx *j, const cJSON *node)
{
	return j->nonfinite && cJSON_IsString(node) && node->valuestring[0] == MARK[0];
}

/* Where j->nonfinite: NaN, Infinity or -Infinity, bare (marked by the parser) or as
 * the strings gradcheck records; sets *out and returns nonzero. */
static int nonfinite_value(const gc_jctx *j, const cJSON *node, double *out)
{
	const char *s = j->nonfinite ? cJSON_GetStringValue(node) : NULL;

	if (!s)
		return 0;
	if (gc_json_is_nonfinite(j, node))
		s = s[1] == '+' ? "Infinity" : s[1] == '-' ? "-Infinity" : "NaN";
	if (strcmp(s, "NaN") != 0 && strcmp(s, "Infinity") != 0 && strcmp(s, "-Infinity") != 0)
		return 0;
	*out = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
	return 1;
}

int gc_json_number(gc_jctx *j, const cJSON *node, double *out)
{
	if (nonfinite_value(j, node, out))
		return 0;
	if (j->nonfinite && cJSON_IsString(node))
		return gc_jfail(j, "expected a number, or \"NaN\", \"Infinity\" or \"-Infinity\", "
		                "got \"%s\"", node->valuestring);
	if (!cJSON_IsNumber(node))
		return gc_jfail(j, "expected a number, got %s", gc_json_kind(node));
	if (!isfinite(node->valuedouble))
		return gc_jfail(j, "number is not finite (too large for a double)");
	*out = node->valuedouble;
	return 0;
}

int gc_json_integer(gc_jctx *j, const cJSON *node, double lo, double hi, double *out)
{
	double d;

	if (gc_json_number(j, node, &d))
		return GC_EINVAL;
	if (d != floor(d) || d < lo || d > hi) {
		if (hi >= 9007199254740992.0)
			return gc_jfail(j, "expected an integer >= %.0f, got %s", lo, gc_json_num(d).s);
		return gc_jfail(j, "expected an integer from %.0f to %.0f, got %s", lo, hi,
				gc_json_num(d).s);
	}
	*out = d;
	return 0;
}

static const char *note_paren(const char *note, char *buf, size_t size)
{
	if (note && note[0])
		snprintf(buf, size, " (%s)", note);
	else
		buf[0] = '\0';
	return buf;
}

/* Reads the n numbers of array node (already known to hold n items) into out. */
static int read_numbers(gc_jctx *j, const cJSON *node, double *out)
{
	const cJSON *item;
	size_t i = 0;

	cJSON_ArrayForEach(item, node) {
		gc_jpath_push_index(&j->path, i);
		int rc = gc_json_number(j, item, &out[i]);
		gc_jpath_pop(&j->path);
		if (rc)
			return GC_EINVAL;
		i++;
	}
	return 0;
}

int gc_json_read_vector(gc_jctx *j, const cJSON *node, size_t n, const char *note, double *out)
{
	char paren[160];
	size_t got;

	note_paren(note, paren, sizeof paren);
	if (!cJSON_IsArray(node))
		return gc_jfail(j, "expected an array of %zu numbers%s, got %s", n, paren, gc_json_kind(node));
	got = (size_t)cJSON_GetArraySize(node);
	if (got != n)
		return gc_jfail(j, "expected %zu numbers%s, got %zu", n, paren, got);
	return read_numbers(j, node, out);
}

/* Row count of a nested matrix, whether every row is an array, and their common
 * length (*ragged when they differ). */
static size_t nested_shape(const cJSON *node, int *all_arrays, size_t *cols, int *ragged)
{
	const cJSON *row;
	size_t n = 0;

	*all_arrays = 1;
	*ragged = 0;
	*cols = 0;
	cJSON_ArrayForEach(row, node) {
		if (!cJSON_IsArray(row)) {
			*all_arrays = 0;
		} else {
			size_t m = (size_t)cJSON_GetArraySize(row);
			if (n == 0)
				*cols = m;
			else if (m != *cols)
				*ragged = 1;
		}
		n++;
	}
	return n;
}

/* The first row that is not an array of cols items; reported at that row. */
static int bad_row(gc_jctx *j, const cJSON *node, size_t rows, size_t cols, const char *note)
{
	const cJSON *row;
	size_t i = 0;
	int rc = 0;

	cJSON_ArrayForEach(row, node) {
		gc_jpath_push_index(&j->path, i);
		if (!cJSON_IsArray(row))
			rc = gc_jfail(j, "expected a row of %zu numbers (%s%sshape [%zu][%zu]), got %s",
				      cols, note ? note : "", note ? ", " : "", rows, cols, gc_json_kind(row));
		else if ((size_t)cJSON_GetArraySize(row) != cols)
			rc = gc_jfail(j, "expected a row of %zu numbers (%s%sshape [%zu][%zu]), got %d",
				      cols, note ? note : "", note ? ", " : "", rows, cols,
				      cJSON_GetArraySize(row));
		gc_jpath_pop(&j->path);
		if (rc)
			return rc;
		i++;
	}
	return gc_jfail(j, "expected shape [%zu][%zu]", rows, cols);
}

static int read_rows(gc_jctx *j, const cJSON *node, double *out, size_t cols)
{
	const cJSON *row;
	size_t i = 0;

	cJSON_ArrayForEach(row, node) {
		gc_jpath_push_index(&j->path, i);
		int rc = read_numbers(j, row, out + i * cols);
		gc_jpath_pop(&j->path);
		if (rc)
			return GC_EINVAL;
		i++;
	}
	return 0;
}

int gc_json_read_matrix(gc_jctx *j, const cJSON *node, size_t rows, size_t cols,
                        const char *note, double *out, int *transposed)
{
	char paren[160];
	size_t n, m;
	int all_arrays, ragged;

	if (transposed)
		*transposed = 0;
	note_paren(note, paren, sizeof paren);
	if (!cJSON_IsArray(node))
		return gc_jfail(j, "expected an array of shape [%zu][%zu]%s, got %s",
				rows, cols, paren, gc_json_kind(node));
	n = nested_shape(node, &all_arrays, &m, &ragged);
	if (n == 0)
		return gc_jfail(j, "expected shape [%zu][%zu]%s, got []", rows, cols, paren);
	if (!cJSON_IsArray(node->child)) {
		/* a flat array: allowed when one dimension is 1 */
		if ((rows == 1 && n == cols) || (cols == 1 && n == rows))
			return read_numbers(j, node, out);
		if (all_arrays || n != rows)
			return gc_jfail(j, "expected shape [%zu][%zu]%s, got [%zu]", rows, cols, paren, n);
	}
	if (all_arrays && !ragged) {
		if (n == rows && m == cols)
			return read_rows(j, node, out, cols);
		if (transposed && rows != cols && n == cols && m == rows) {
			*transposed = 1;
			return read_rows(j, node, out, rows);
		}
		return gc_jfail(j, "expected shape [%zu][%zu]%s, got [%zu][%zu]", rows, cols, paren, n, m);
	}
	if (n == rows)
		return bad_row(j, node, rows, cols, note);
	return gc_jfail(j, "expected shape [%zu][%zu]%s, got %zu rows of different lengths",
			rows, cols, paren, n);
}

void gc_json_format_double(double d, char buf[32])
{
	if (!isfinite(d)) {
		strcpy(buf, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

gc_json_numstr gc_json_num(double d)
{
	gc_json_numstr n;

	gc_json_format_double(d, n.s);
	return n;
}

cJSON *gc_json_exact_number(double d)
{
	char buf[32];

	if (!isfinite(d))
		return cJSON_CreateNull();
	gc_json_format_double(d, buf);
	return cJSON_CreateRaw(buf);
}

cJSON *gc_json_recorded_number(double d)
{
	if (isfinite(d))
		return gc_json_exact_number(d);
	return cJSON_CreateString(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
}

cJSON *gc_json_exact_vector(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		cJSON *x = gc_json_recorded_number(v[i]);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

cJSON *gc_json_exact_matrix(const double *v, size_t rows, size_t cols)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < rows; i++) {
		cJSON *row = gc_json_exact_vector(v + i * cols, cols);
		if (!row || !cJSON_AddItemToArray(a, row)) {
			cJSON_Delete(row);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

int gc_json_make_exact(cJSON *node)
{
	cJSON *item = node ? node->child : NULL, *next;

	for (; item; item = next) {
		next = item->next;
		if (cJSON_IsNumber(item)) {
			cJSON *x = gc_json_exact_number(item->valuedouble);
			if (!x)
				return GC_ENOMEM;
			/* the replacement takes over the member's key */
			x->string = item->string;
			x->type |= item->type & cJSON_StringIsConst;
			item->string = NULL;
			cJSON_ReplaceItemViaPointer(node, item, x);
		} else if (gc_json_make_exact(item)) {
			return GC_ENOMEM;
		}
	}
	return 0;
}
