/* test_readme.c - the doc test: every command block of README.md and examples/README.md
 * runs and prints what the block shows, so the READMEs cannot go stale.  The rules are
 * README's "Examples in this README are tested"; in short:
 *   - a fenced block whose first line starts with "$ " is a command block: each "$ " line
 *     is run by /bin/sh, the lines after it are its output (stdout and stderr together);
 *   - "..." alone on a line matches any number of lines, "..." inside a line any text;
 *   - <!-- no-run --> just before a block keeps it from running, <!-- file: NAME -->
 *     before a block writes the block's text to NAME for later blocks to use;
 *   - blocks run in order, per README, in a scratch copy of the top folder, with
 *     ./gradcheck the program under test.
 * One check test per block (tcase_add_loop_test); a failure names the README line. */
#include <limits.h>
#include <sys/stat.h>
#include "cli.h"
#include "testutil.h"

enum block_kind { BLOCK_RUN, BLOCK_FILE, BLOCK_INDENTED };

typedef struct block {
	const char *doc;        /* README path, relative to the top folder */
	size_t doc_index;       /* which scratch folder */
	int line;               /* 1-based line of the opening fence (or the indented line) */
	enum block_kind kind;
	char *file;             /* BLOCK_FILE: the name to write */
	char **lines;           /* the block's text lines, without the fences */
	int *line_no;           /* their line numbers in doc */
	size_t n;
} block;

static const char *const docs[] = {"README.md", "examples/README.md"};
#define N_DOCS (sizeof docs / sizeof *docs)
static char scratch[N_DOCS][64];
static block *blocks;
static size_t n_blocks;

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("test_readme: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* s without trailing spaces, tabs and carriage returns (a new string). */
static char *rtrim(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

/* Splits text into lines (no newlines); *n gets the count. */
static char **split_lines(const char *text, size_t *n)
{
	char **lines = NULL;
	size_t count = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		lines = xrealloc(lines, (count + 1) * sizeof *lines);
		lines[count++] = rtrim(text, len);
		text += len + (nl != NULL);
	}
	*n = count;
	return lines;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* "<!-- file: NAME -->" gives NAME; anything else NULL. */
static char *file_marker(const char *line)
{
	const char *p = strstr(line, "<!-- file: "), *end;

	if (p != line || !(end = strstr(line, " -->")))
		return NULL;
	p += strlen("<!-- file: ");
	return end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

static block *add_block(const char *doc, size_t d, int line, enum block_kind kind)
{
	blocks = xrealloc(blocks, (n_blocks + 1) * sizeof *blocks);
	block *b = &blocks[n_blocks++];

	memset(b, 0, sizeof *b);
	b->doc = doc;
	b->doc_index = d;
	b->line = line;
	b->kind = kind;
	return b;
}

static void block_add_line(block *b, const char *text, int line_no)
{
	b->lines = xrealloc(b->lines, (b->n + 1) * sizeof *b->lines);
	b->line_no = xrealloc(b->line_no, (b->n + 1) * sizeof *b->line_no);
	b->lines[b->n] = xstrndup(text, strlen(text));
	b->line_no[b->n++] = line_no;
}

/* Finds the command and file blocks of doc (and indented commands, which are errors). */
static void parse_doc(size_t d)
{
	char *text = cli_slurp(docs[d]);
	size_t n;
	char **lines = split_lines(text, &n);
	const char *prev = "";  /* the last non-blank line before the current one */

	for (size_t i = 0; i < n; i++) {
		if (strncmp(lines[i], "```", 3) != 0) {
			if (strncmp(lines[i], "    $ ", 6) == 0)
				add_block(docs[d], d, (int)i + 1, BLOCK_INDENTED);
			if (lines[i][0])
				prev = lines[i];
			continue;
		}
		size_t start = i + 1, end = start;
		while (end < n && strncmp(lines[end], "```", 3) != 0)
			end++;
		char *name = file_marker(prev);
		block *b = NULL;
		if (name) {
			b = add_block(docs[d], d, (int)i + 1, BLOCK_FILE);
			b->file = name;
		} else if (strcmp(prev, "<!-- no-run -->") != 0 && start < end &&
		           strncmp(lines[start], "$ ", 2) == 0) {
			b = add_block(docs[d], d, (int)i + 1, BLOCK_RUN);
		}
		for (size_t j = start; b && j < end; j++)
			block_add_line(b, lines[j], (int)j + 1);
		i = end;
		prev = "```";
	}
	free_lines(lines, n);
	free(text);
}

/* ---- matching ------------------------------------------------------------------- */

/* Whether text matches pattern, where each "..." in pattern matches any characters. */
static int line_matches(const char *pattern, const char *text)
{
	const char *dots = strstr(pattern, "...");

	if (!dots)
		return strcmp(pattern, text) == 0;
	size_t len = (size_t)(dots - pattern);
	if (strncmp(pattern, text, len) != 0)
		return 0;
	for (const char *t = text + len; ; t++) {
		if (line_matches(dots + 3, t))
			return 1;
		if (!*t)
			return 0;
	}
}

static int is_ellipsis(const char *line)
{
	while (*line == ' ')
		line++;
	return strcmp(line, "...") == 0;
}

typedef struct match_state {
	char **want, **got;
	size_t n_want, n_got;
	size_t fail_want, fail_got;     /* the furthest point reached before a mismatch */
	int failed;
} match_state;

/* Keeps the mismatch furthest into the expected lines; among those, one at a line of
 * output rather than at its end, the last such. */
static void note_failure(match_state *m, size_t w, size_t g)
{
	int real = g < m->n_got, was_real = m->fail_got < m->n_got;

	if (!m->failed || w > m->fail_want ||
	    (w == m->fail_want && (real > was_real || (real == was_real && g > m->fail_got)))) {
		m->fail_want = w;
		m->fail_got = g;
	}
	m->failed = 1;
}

static int match_from(match_state *m, size_t w, size_t g)
{
	if (w == m->n_want) {
		if (g == m->n_got)
			return 1;
		note_failure(m, w, g);
		return 0;
	}
	if (is_ellipsis(m->want[w])) {
		for (size_t k = g; k <= m->n_got; k++)
			if (match_from(m, w + 1, k))
				return 1;
		return 0;
	}
	if (g == m->n_got || !line_matches(m->want[w], m->got[g])) {
		note_failure(m, w, g);
		return 0;
	}
	return match_from(m, w + 1, g + 1);
}

/* ---- running -------------------------------------------------------------------- */

static const char *program(void)
{
	return getenv("GRADCHECK") ? getenv("GRADCHECK") : "./gradcheck";
}

/* A scratch folder holding a copy of the top folder (without .git and the build's
 * obj/, build/, tests/bin/): copies, not symlinks, so that a block may write anywhere
 * and a --sandbox run sees real folders.  ./gradcheck is a symlink to the program under
 * test; libgradcheck.a is the top folder's (make sanitize builds the plain one too), so
 * that the C examples link without sanitizers. */
static void make_scratch(char *dir, size_t size)
{
	char prog[PATH_MAX], cmd[PATH_MAX * 2 + 256], link[PATH_MAX];

	snprintf(dir, size, "/tmp/gc_readme_XXXXXX");
	if (!mkdtemp(dir) || !realpath(program(), prog)) {
		perror("test_readme: scratch folder");
		exit(2);
	}
	snprintf(cmd, sizeof cmd, "tar cf - --exclude=./.git --exclude=./obj --exclude=./build "
	         "--exclude=./tests/bin --exclude=./gradcheck . | tar xf - -C '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_readme: cannot copy the top folder to %s\n", dir);
		exit(2);
	}
	snprintf(link, sizeof link, "%s/gradcheck", dir);
	if (symlink(prog, link) != 0)
		perror(link);
}

/* The commands of a run block, and the index of each one's first output line. */
typedef struct command {
	char *text;             /* what /bin/sh runs (continuation lines joined) */
	size_t first, end;      /* its expected output: lines[first..end) */
	size_t line;            /* index of its "$ " line */
} command;

static size_t parse_commands(const block *b, command **out)
{
	command *cmds = NULL;
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (strncmp(b->lines[i], "$ ", 2) != 0) {
			if (n)
				cmds[n - 1].end = i + 1;
			continue;
		}
		cmds = xrealloc(cmds, (n + 1) * sizeof *cmds);
		command *c = &cmds[n++];
		size_t len = strlen(b->lines[i] + 2);
		c->text = xstrndup(b->lines[i] + 2, len);
		c->line = i;
		/* a line ending in a backslash continues on the next one */
		while (len && c->text[len - 1] == '\\' && i + 1 < b->n) {
			const char *next = b->lines[++i];
			if (strncmp(next, "> ", 2) == 0)
				next += 2;
			c->text = xrealloc(c->text, len + strlen(next) + 2);
			c->text[len] = '\n';
			strcpy(c->text + len + 1, next);
			len = strlen(c->text);
		}
		c->first = c->end = i + 1;
	}
	*out = cmds;
	return n;
}

/* Runs the commands in one shell in dir; returns each one's output (split at markers). */
static char **run_commands(const command *cmds, size_t n, const char *dir, size_t *n_out)
{
	char script[] = "/tmp/gc_readme_sh_XXXXXX", out[] = "/tmp/gc_readme_out_XXXXXX";
	char cmd[PATH_MAX * 2 + 128];
	int fs = mkstemp(script), fo = mkstemp(out);
	FILE *fp = fdopen(fs, "w");
	char *text, *p, **pieces = NULL;
	size_t count = 0;

	ck_assert(fp && fo >= 0);
	/* A reader's shell: not the settings of the make that runs this test (make sanitize's
	 * CFLAGS and build folder, exported by make, would reach a `make` in a block).  A
	 * marker before each command; $? survives it, for a command like `echo $?`. */
	fprintf(fp, "cd '%s' || exit 97\nunset MAKEFLAGS MFLAGS MAKELEVEL B CFLAGS LDFLAGS\nexec 2>&1\n", dir);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s\n%s\n", i ? "__gc_status=$?; printf '\\036\\n'; (exit $__gc_status)"
		                         : "printf '\\036\\n'", cmds[i].text);
	fclose(fp);
	snprintf(cmd, sizeof cmd, "timeout 600 /bin/sh %s </dev/null >%s 2>&1", script, out);
	if (system(cmd) == -1)
		perror("system");
	text = cli_slurp(out);
	close(fo);
	unlink(script);
	unlink(out);
	/* text = [before the first command] RS\n output-1 RS\n output-2 ... */
	p = strstr(text, "\036\n");
	while (p) {
		char *start = p + 2, *next = strstr(start, "\036\n");
		size_t len = next ? (size_t)(next - start) : strlen(start);

		pieces = xrealloc(pieces, (count + 1) * sizeof *pieces);
		pieces[count++] = xstrndup(start, len);
		p = next;
	}
	free(text);
	*n_out = count;
	return pieces;
}

/* Lines of s without trailing empty ones. */
static char **output_lines(const char *s, size_t *n)
{
	char **lines = split_lines(s, n);

	while (*n > 0 && lines[*n - 1][0] == '\0')
		free(lines[--*n]);
	return lines;
}

static void check_command(const block *b, const command *c, const char *output)
{
	size_t n_want = c->end - c->first, n_got;
	char **want = xrealloc(NULL, (n_want + 1) * sizeof *want);
	char **got = output_lines(output ? output : "", &n_got);
	match_state m = {0};

	for (size_t i = 0; i < n_want; i++)
		want[i] = b->lines[c->first + i];
	while (n_want > 0 && want[n_want - 1][0] == '\0')
		n_want--;
	m.want = want;
	m.got = got;
	m.n_want = n_want;
	m.n_got = n_got;
	if (!output || !match_from(&m, 0, 0)) {
		/* check's messages are limited to a few KiB: up to 30 lines around the mismatch */
		char shown[2500] = "";
		size_t used = 0, from = m.fail_got > 15 ? m.fail_got - 15 : 0;
		for (size_t i = from; i < n_got && i < from + 30 && used < sizeof shown - 200; i++)
			used += (size_t)snprintf(shown + used, sizeof shown - used, "    %.160s\n", got[i]);
		int at = m.fail_want < n_want ? b->line_no[c->first + m.fail_want]
		                              : b->line_no[c->line] + (int)(c->end - c->line);
		ck_abort_msg("%s:%d: the output of `%.200s` (%s:%d) differs:\n  expected: %.200s\n"
		             "  got:      %.200s\nits output from line %zu:\n%s",
		             b->doc, at, c->text, b->doc, b->line_no[c->line],
		             !output ? "(the shell ended before this command)"
		             : m.fail_want < n_want ? want[m.fail_want] : "(end of output)",
		             m.fail_got < n_got ? got[m.fail_got] : "(end of output)", from + 1, shown);
	}
	free(want);
	free_lines(got, n_got);
}

START_TEST(test_block)
{
	const block *b = &blocks[_i];
	const char *dir = scratch[b->doc_index];

	switch (b->kind) {
	case BLOCK_INDENTED:
		ck_abort_msg("%s:%d: an indented command: put it in a fenced block (```) so that "
		             "it is run, or mark the block <!-- no-run -->", b->doc, b->line);
		break;
	case BLOCK_FILE: {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, b->file);
		FILE *fp = fopen(path, "w");
		ck_assert_msg(fp != NULL, "%s:%d: cannot write %s", b->doc, b->line, b->file);
		for (size_t i = 0; i < b->n; i++)
			fprintf(fp, "%s\n", b->lines[i]);
		fclose(fp);
		break;
	}
	case BLOCK_RUN: {
		command *cmds;
		size_t n = parse_commands(b, &cmds), n_out;
		char **out = run_commands(cmds, n, dir, &n_out);

		for (size_t i = 0; i < n; i++)
			check_command(b, &cmds[i], i < n_out ? out[i] : NULL);
		for (size_t i = 0; i < n; i++)
			free(cmds[i].text);
		free(cmds);
		free_lines(out, n_out);
		break;
	}
	}
}
END_TEST

/* The matcher itself, on made-up outputs: it must be able to fail. */
START_TEST(test_matcher)
{
	char *want[] = {"PASS a: ... parameters", "...", "2 passed, 0 failed"};
	char *got_ok[] = {"PASS a: 9 parameters", "x", "y", "2 passed, 0 failed"};
	char *got_short[] = {"PASS a: 9 parameters", "2 passed, 0 failed"};
	char *got_bad[] = {"PASS a: 9 parameters", "x", "1 passed, 1 failed"};
	char *got_extra[] = {"PASS a: 9 parameters", "2 passed, 0 failed", "more"};
	match_state m = {want, got_ok, 3, 4, 0, 0, 0};

	ck_assert(match_from(&m, 0, 0));
	m = (match_state){want, got_short, 3, 2, 0, 0, 0};
	ck_assert(match_from(&m, 0, 0));
	m = (match_state){want, got_bad, 3, 3, 0, 0, 0};
	ck_assert(!match_from(&m, 0, 0));
	ck_assert_uint_eq(m.fail_want, 2);
	ck_assert_uint_eq(m.fail_got, 2);
	m = (match_state){want, got_extra, 3, 3, 0, 0, 0};
	ck_assert(!match_from(&m, 0, 0));
	ck_assert(line_matches("took ... s", "took 0.25 s"));
	ck_assert(!line_matches("took ... s", "took 0.25 ms!"));
	ck_assert(!line_matches("W1 2x2", "W1 2x3"));
	ck_assert(is_ellipsis("  ..."));
}
END_TEST

static Suite *readme_suite(void)
{
	Suite *s = suite_create("readme");
	TCase *tc = tcase_create("readme");

	for (size_t d = 0; d < N_DOCS; d++) {
		make_scratch(scratch[d], sizeof scratch[d]);
		parse_doc(d);
	}
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_matcher);
	tcase_add_loop_test(tc, test_block, 0, (int)n_blocks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(readme_suite());
	char cmd[256];

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (size_t d = 0; d < N_DOCS; d++) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch[d]);
		if (system(cmd) != 0)
			fprintf(stderr, "test_readme: could not remove %s\n", scratch[d]);
	}
	for (size_t i = 0; i < n_blocks; i++) {
		free(blocks[i].file);
		free_lines(blocks[i].lines, blocks[i].n);
		free(blocks[i].line_no);
	}
	free(blocks);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
