/* jsonpos.h - key paths into a JSON document, and where their values start in the text.
 * cJSON does not record positions, so errors found after parsing walk the (already
 * valid) text along the path to report line:column. */
#ifndef GC_JSONPOS_H
#define GC_JSONPOS_H

#include <stddef.h>

#define GC_JPATH_MAX 16

/* One step of a path: an object key (key != NULL) or an array index. */
typedef struct gc_jpath_step {
	const char *key;        /* not owned */
	size_t index;
} gc_jpath_step;

/* A path such as params.weights[1][0][2].  Steps beyond GC_JPATH_MAX are counted
 * in depth (so pushes and pops stay balanced) but not recorded. */
typedef struct gc_jpath {
	size_t depth;
	gc_jpath_step step[GC_JPATH_MAX];
} gc_jpath;

void gc_jpath_push_key(gc_jpath *p, const char *key);
void gc_jpath_push_index(gc_jpath *p, size_t index);
void gc_jpath_pop(gc_jpath *p);

/* Writes "params.weights[1][0][2]" ("" for the root) into buf. */
void gc_jpath_format(const gc_jpath *p, char *buf, size_t size);

/* Finds the value at path p in the JSON text (which must be valid JSON) and sets
 * *line and *col (1-based) to its first character.  When only a prefix of the path
 * exists (a missing key), the position is that of the deepest value found.  Returns
 * the number of steps found (p->depth when the whole path was found). */
size_t gc_jsonpos_locate(const char *text, size_t len, const gc_jpath *p, long *line, long *col);

/* Line and column (1-based, columns in bytes) of text + offset. */
void gc_jsonpos_linecol(const char *text, size_t offset, long *line, long *col);

#endif
