/* cli.h - running the gradcheck program from check tests (tests run from the top
 * folder; make check sets GRADCHECK to the program under test). */
#ifndef GC_TESTS_CLI_H
#define GC_TESTS_CLI_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cli_run {
	int status;             /* exit status, or -1 when it did not exit normally */
	char *out, *err;        /* standard output and error, NUL-terminated */
} cli_run;

static inline char *cli_slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return strdup("");
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc((size_t)n + 1, 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n)
		buf[0] = '\0';
	fclose(fp);
	return buf;
}

/* Runs the shell command cmd (one simple command: the redirections apply to its
 * last part) with its standard input empty and its outputs captured. */
static inline cli_run cli_sh(const char *cmd)
{
	char full[16384], out_path[] = "/tmp/gc_cli_out_XXXXXX", err_path[] = "/tmp/gc_cli_err_XXXXXX";
	cli_run r;
	int fo = mkstemp(out_path), fe = mkstemp(err_path), st;

	snprintf(full, sizeof full, "%s >%s 2>%s </dev/null", cmd, out_path, err_path);
	st = system(full);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r.out = cli_slurp(out_path);
	r.err = cli_slurp(err_path);
	close(fo);
	close(fe);
	unlink(out_path);
	unlink(err_path);
	return r;
}

/* Runs "$GRADCHECK ARGS" (ARGS printf-formatted, passed through /bin/sh). */
static inline cli_run cli_gradcheck(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline cli_run cli_gradcheck(const char *fmt, ...)
{
	const char *prog = getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
	char args[4096], cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s %s", prog, args);
	return cli_sh(cmd);
}

static inline void cli_free(cli_run *r)
{
	free(r->out);
	free(r->err);
}

/* The last line of s (without its newline), in a static buffer. */
static inline const char *cli_last_line(const char *s)
{
	static char line[512];
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		n--;
	size_t start = n;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(line, sizeof line, "%.*s", (int)(n - start), s + start);
	return line;
}

/* Writes text to a new temporary file named like "/tmp/gc_XXXXXX.json"; returns its path. */
static inline char *cli_temp_file(const char *text, const char *suffix)
{
	char *path = malloc(64);
	int fd;

	snprintf(path, 64, "/tmp/gc_test_XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

#endif
