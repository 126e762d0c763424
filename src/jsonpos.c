/* jsonpos.c - a small scanner that walks valid JSON text along a key path.  This is
 * the only hand-written JSON scanning in gradcheck; parsing itself is cJSON's. */
#include <stdio.h>
#include <string.h>
#include "jsonpos.h"

typedef struct scan {
	const char *p, *end;
} scan;

void gc_jpath_push_key(gc_jpath *p, const char *key)
{
	if (p->depth < GC_JPATH_MAX)
		p->step[p->depth] = (gc_jpath_step){ key, 0 };
	p->depth++;
}

void gc_jpath_push_index(gc_jpath *p, size_t index)
{
	if (p->depth < GC_JPATH_MAX)
		p->step[p->depth] = (gc_jpath_step){ NULL, index };
	p->depth++;
}

void gc_jpath_pop(gc_jpath *p)
{
	if (p->depth > 0)
		p->depth--;
}

void gc_jpath_format(const gc_jpath *p, char *buf, size_t size)
{
	size_t used = 0, n = p->depth < GC_JPATH_MAX ? p->depth : GC_JPATH_MAX;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const gc_jpath_step *s = &p->step[i];
		int w;
		if (s->key)
			w = snprintf(buf + used, size - used, "%s%s", i ? "." : "", s->key);
		else
			w = snprintf(buf + used, size - used, "[%zu]", s->index);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void gc_jsonpos_linecol(const char *text, size_t offset, long *line, long *col)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < offset; i++)
		if (text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	/* an editor does not show the UTF-8 byte order mark */
	if (start == 0 && offset >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		start = 3;
	*col = (long)(offset - start) + 1;
}

static void skip_ws(scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At an opening quote: moves past the closing one. */
static int skip_string(scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\')
			s->p++;
		else if (*s->p == '"') {
			s->p++;
			return 0;
		}
	}
	return -1;
}

static int skip_value(scan *s)
{
	int depth = 0;

	skip_ws(s);
	if (s->p >= s->end)
		return -1;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p != '{' && *s->p != '[') {
		while (s->p < s->end && !strchr(",]} \t\n\r", *s->p))
			s->p++;
		return 0;
	}
	do {
		if (s->p >= s->end)
			return -1;
		if (*s->p == '"') {
			if (skip_string(s))
				return -1;
			continue;
		}
		if (*s->p == '{' || *s->p == '[')
			depth++;
		else if (*s->p == '}' || *s->p == ']')
			depth--;
		s->p++;
	} while (depth > 0);
	return 0;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	*out = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (v == 16)
			return -1;
		*out = *out * 16 + v;
	}
	return 0;
}

static size_t utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes one escape sequence at s->p (just after the backslash) into out. */
static size_t decode_escape(scan *s, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned cp, lo;

	if (s->p >= s->end)
		return 0;
	if (*s->p != 'u') {
		hit = strchr(from, *s->p);
		s->p++;
		if (!hit)
			return 0;
		out[0] = to[hit - from];
		return 1;
	}
	if (hex4(s->p + 1, s->end, &cp))
		return 0;
	s->p += 5;
	if (cp >= 0xD800 && cp < 0xDC00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u'
	    && hex4(s->p + 2, s->end, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		s->p += 6;
	}
	return utf8_encode(cp, out);
}

/* At an opening quote: compares the decoded string with key, moves past it. */
static int key_equals(scan *s, const char *key)
{
	size_t klen = strlen(key), k = 0;
	int same = 1;

	for (s->p++; s->p < s->end && *s->p != '"';) {
		char buf[4];
		size_t n = 1;
		if (*s->p == '\\') {
			s->p++;
			n = decode_escape(s, buf);
		} else {
			buf[0] = *s->p++;
		}
		if (!same || n == 0 || k + n > klen || memcmp(key + k, buf, n) != 0)
			same = 0;
		else
			k += n;
	}
	if (s->p < s->end)
		s->p++;
	return same && k == klen;
}

/* Skips the value under the cursor and the comma after it; -1 when no member follows. */
static int skip_member(scan *s)
{
	if (skip_value(s))
		return -1;
	skip_ws(s);
	if (s->p >= s->end || *s->p != ',')
		return -1;
	s->p++;
	return 0;
}

/* At '{': moves to the value of key; -1 when the key is absent. */
static int enter_key(scan *s, const char *key)
{
	s->p++;
	for (;;) {
		int hit;
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return -1;
		hit = key_equals(s, key);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		skip_ws(s);
		if (hit)
			return 0;
		if (skip_member(s))
			return -1;
	}
}

/* At '[': moves to element index; -1 when the array is shorter. */
static int enter_index(scan *s, size_t index)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']')
		return -1;
	for (size_t i = 0;; i++) {
		skip_ws(s);
		if (i == index)
			return s->p < s->end ? 0 : -1;
		if (skip_member(s))
			return -1;
	}
}

size_t gc_jsonpos_locate(const char *text, size_t len, const gc_jpath *p, long *line, long *col)
{
	scan s = { text, text + len };
	size_t n = p->depth < GC_JPATH_MAX ? p->depth : GC_JPATH_MAX, found = 0;
	const char *at;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		s.p += 3;
	skip_ws(&s);
	at = s.p;
	for (; found < n; found++) {
		const gc_jpath_step *step = &p->step[found];
		int rc;
		if (s.p >= s.end)
			break;
		if (step->key)
			rc = *s.p == '{' ? enter_key(&s, step->key) : -1;
		else
			rc = *s.p == '[' ? enter_index(&s, step->index) : -1;
		if (rc)
			break;
		at = s.p;
	}
	gc_jsonpos_linecol(text, (size_t)(at - text), line, col);
	return found;
}
