/* error.h - where and why an input was rejected, for "gradcheck: FILE:LINE:COL: message". */
#ifndef GC_ERROR_H
#define GC_ERROR_H

#include <stddef.h>

typedef struct gc_error {
	char file[512];         /* the input's path; "" when there is none */
	long line, col;         /* 1-based; 0 when not known */
	char msg[1024];         /* lowercase, no trailing period; names the key path */
} gc_error;

/* Sets err->msg from a printf format; file, line and col are left as they are. */
void gc_error_set(gc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes "FILE:LINE:COL: msg", "FILE: msg" or "msg" into buf (as much as fits). */
void gc_error_format(const gc_error *err, char *buf, size_t size);

#endif
