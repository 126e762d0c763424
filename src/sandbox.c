/* sandbox.c - bubblewrap and rlimits around an untrusted command (see sandbox.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exec.h"
#include "gradcheck.h"
#include "sandbox.h"

#define MiB (1024UL * 1024UL)

/* The few files of /etc that programs need to start (the dynamic loader's cache,
 * user and group names, Python's site configuration); each only if present. */
static const char *const etc_files[] = {
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
	"/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime",
	"/etc/python3", "/etc/python3.11", "/etc/python3.12", "/etc/python3.13",
};

/* Top-level links into /usr on merged-/usr systems, or real folders on older ones. */
static const char *const usr_links[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };

/* The environment inside, besides --env: one thread per numeric library, since
 * submissions already run side by side. */
static const char *const base_env[][2] = {
	{ "PATH", "/usr/local/bin:/usr/bin:/bin" }, { "HOME", "/tmp" }, { "TMPDIR", "/tmp" },
	{ "OMP_NUM_THREADS", "1" }, { "OPENBLAS_NUM_THREADS", "1" }, { "MKL_NUM_THREADS", "1" },
};

void gc_sandbox_init(gc_sandbox *sb)
{
	memset(sb, 0, sizeof *sb);
	sb->mem_mib = GC_SANDBOX_MEM_MIB;
	sb->procs = GC_SANDBOX_PROCS;
	sb->cpu_seconds = GC_SANDBOX_CPU;
	sb->files = GC_SANDBOX_FILES;
	sb->fsize_mib = GC_SANDBOX_FSIZE_MIB;
	sb->tmp_mib = GC_SANDBOX_TMP_MIB;
}

struct args {
	char **v;
	size_t n, cap;
	int oom;
};

static void add(struct args *a, const char *s)
{
	char *copy;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		char **v = realloc(a->v, cap * sizeof *v);

		if (!v) {
			a->oom = 1;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (!(copy = strdup(s))) {
		a->oom = 1;
		return;
	}
	a->v[a->n++] = copy;
	a->v[a->n] = NULL;
}

static void addf(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(struct args *a, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	add(a, buf);
}

/* The first executable NAME in PATH (or the standard folders), malloc'ed; NULL if none. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	if (!(copy = strdup(path)))
		return NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(dir) + strlen(name) + 2;
		char *p = malloc(n);

		if (!p)
			break;
		snprintf(p, n, "%s/%s", dir, name);
		if (dir[0] == '/' && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static void add_system(struct args *a, const gc_sandbox *sb)
{
	struct stat st;
	char target[PATH_MAX];

	add(a, "--ro-bind"); add(a, "/usr"); add(a, "/usr");
	for (size_t i = 0; i < sizeof usr_links / sizeof *usr_links; i++) {
		const char *p = usr_links[i];
		ssize_t n;

		if (lstat(p, &st) != 0)
			continue;
		if (S_ISLNK(st.st_mode) && (n = readlink(p, target, sizeof target - 1)) > 0) {
			target[n] = '\0';
			add(a, "--symlink"); add(a, target); add(a, p);
		} else if (S_ISDIR(st.st_mode)) {
			add(a, "--ro-bind"); add(a, p); add(a, p);
		}
	}
	for (size_t i = 0; i < sizeof etc_files / sizeof *etc_files; i++) {
		add(a, "--ro-bind-try"); add(a, etc_files[i]); add(a, etc_files[i]);
	}
	add(a, "--proc"); add(a, "/proc");
	add(a, "--dev"); add(a, "/dev");
	addf(a, "--size"); addf(a, "%lu", sb->tmp_mib * MiB);
	add(a, "--tmpfs"); add(a, "/tmp");
}

static int add_read_only(struct args *a, const gc_sandbox *sb, gc_error *err)
{
	for (size_t i = 0; i < sb->n_read_only; i++) {
		char *abs = realpath(sb->read_only[i], NULL);

		if (!abs) {
			gc_error_set(err, "%s: cannot show it in the sandbox: %s", sb->read_only[i],
			             strerror(errno));
			return GC_EINVAL;
		}
		add(a, "--ro-bind"); add(a, abs); add(a, abs);
		free(abs);
	}
	return GC_OK;
}

static void add_environment(struct args *a, const gc_sandbox *sb)
{
	add(a, "--clearenv");
	for (size_t i = 0; i < sizeof base_env / sizeof *base_env; i++) {
		add(a, "--setenv"); add(a, base_env[i][0]); add(a, base_env[i][1]);
	}
	for (size_t i = 0; i < sb->n_env; i++) {
		const char *v = getenv(sb->env[i]);

		if (v) {
			add(a, "--setenv"); add(a, sb->env[i]); add(a, v);
		}
	}
}

static int is_within(const char *path, const char *folder)
{
	size_t n = strlen(folder);

	if (n > 0 && folder[n - 1] == '/')
		n--;
	return strncmp(path, folder, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The working directory gets an empty read-only folder of its own unless it is / or the
 * scratch /tmp, or an --allow-read path shows it.  A folder made with --dir would do on
 * the read-only root, but under /tmp it would sit in the writable scratch. */
static int needs_empty_folder(const char *cwd, const gc_sandbox *sb)
{
	if (strcmp(cwd, "/") == 0 || strcmp(cwd, "/tmp") == 0)
		return 0;
	for (size_t i = 0; i < sb->n_read_only; i++) {
		char *abs = realpath(sb->read_only[i], NULL);
		int shown = abs && is_within(cwd, abs);

		free(abs);
		if (shown)
			return 0;
	}
	return 1;
}

int gc_sandbox_argv(const gc_sandbox *sb, const char *cmd, char ***argv, gc_error *err)
{
	struct args a = {0};
	char *bwrap = find_program("bwrap"), *prlimit = find_program("prlimit");
	char *cwd = getcwd(NULL, 0);
	int rc = GC_OK, empty_cwd;

	*argv = NULL;
	if (!bwrap || !prlimit) {
		gc_error_set(err, "the sandbox needs %s, which is not installed (Debian package %s)",
		             bwrap ? "prlimit" : "bwrap", bwrap ? "util-linux" : "bubblewrap");
		rc = GC_EINVAL;
		goto out;
	}
	add(&a, bwrap);
	add(&a, "--unshare-all"); add(&a, "--unshare-user");
	addf(&a, "--uid"); addf(&a, "%d", GC_SANDBOX_UID);
	addf(&a, "--gid"); addf(&a, "%d", GC_SANDBOX_UID);
	add(&a, "--cap-drop"); add(&a, "ALL");
	add(&a, "--die-with-parent"); add(&a, "--new-session");
	add(&a, "--hostname"); add(&a, "sandbox");
	add_system(&a, sb);
	empty_cwd = cwd && cwd[0] == '/' && needs_empty_folder(cwd, sb);
	/* The allowed paths under it are bound before it turns read-only. */
	if (empty_cwd) {
		add(&a, "--tmpfs"); add(&a, cwd);
	}
	if ((rc = add_read_only(&a, sb, err)) != GC_OK)
		goto out;
	if (empty_cwd) {
		add(&a, "--remount-ro"); add(&a, cwd);
	}
	if (cwd && cwd[0] == '/') {
		add(&a, "--chdir"); add(&a, cwd);
	}
	add(&a, "--remount-ro"); add(&a, "/");
	add_environment(&a, sb);
	add(&a, prlimit);
	addf(&a, "--as=%lu", sb->mem_mib * MiB);
	addf(&a, "--nproc=%lu", sb->procs);
	/* Soft limit first: SIGXCPU names the cause; the hard one a second later kills. */
	addf(&a, "--cpu=%lu:%lu", sb->cpu_seconds, sb->cpu_seconds + 1);
	addf(&a, "--nofile=%lu", sb->files);
	addf(&a, "--fsize=%lu", sb->fsize_mib * MiB);
	add(&a, "--core=0");
	add(&a, "--");
	add(&a, "/bin/sh"); add(&a, "-c"); add(&a, cmd);
	if (a.oom) {
		gc_error_set(err, "out of memory");
		rc = GC_ENOMEM;
	}
out:
	free(bwrap);
	free(prlimit);
	free(cwd);
	if (rc == GC_OK)
		*argv = a.v;
	else
		gc_sandbox_argv_free(a.v);
	return rc;
}

void gc_sandbox_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

int gc_sandbox_child_setup(void)
{
	if (getuid() == 0 || geteuid() == 0) {
		if (setgroups(0, NULL) != 0 || setgid(GC_SANDBOX_UID) != 0 ||
		    setuid(GC_SANDBOX_UID) != 0 || getuid() == 0 || geteuid() == 0)
			return -1;
	}
	return chdir("/") == 0 ? 0 : -1;
}

int gc_sandbox_probe(const gc_sandbox *sb, gc_error *err)
{
	gc_exec_result res;
	char what[128];
	int rc = gc_exec_run_sandboxed("true", sb, NULL, 0, 30, 65536, &res, err);

	if (rc != GC_OK)
		return rc;
	if (gc_exec_describe(&res, what, sizeof what)) {
		size_t n = strlen(res.err_tail);

		while (n > 0 && res.err_tail[n - 1] == '\n')
			n--;
		gc_error_set(err, "the sandbox (bubblewrap) cannot run here: %s%s%.*s", what,
		             n ? ": " : "", (int)n, res.err_tail);
		rc = GC_EINVAL;
	}
	gc_exec_result_free(&res);
	return rc;
}

/* Signal sig ended the program: killed by it, or the shell exited with 128 + sig. */
static int ended_by(const gc_exec_result *res, int sig)
{
	return (res->signaled && res->signal == sig) || (res->exited && res->exit_code == 128 + sig);
}

const char *gc_sandbox_describe(const gc_sandbox *sb, const gc_exec_result *res,
                                char *buf, size_t size)
{
	static const char *const memory[] = {
		"MemoryError", "Cannot allocate memory", "Unable to allocate", "bad_alloc",
		"out of memory", "Out of memory", "memory exhausted",
	};
	static const char *const fork[] = {
		"Cannot fork", "fork: Resource temporarily unavailable", "fork: retry",
		"can't start new thread", "Resource temporarily unavailable",
	};
	const char *tail = res->err_tail ? res->err_tail : "";

	if (res->timed_out || res->out_overflow || (res->exited && res->exit_code == 0))
		return NULL;
	if (ended_by(res, SIGXCPU)) {
		snprintf(buf, size, "CPU time limit (%lu s)", sb->cpu_seconds);
		return buf;
	}
	if (strstr(tail, "No space left on device")) {
		snprintf(buf, size, "scratch folder full (%lu MiB)", sb->tmp_mib);
		return buf;
	}
	if (ended_by(res, SIGXFSZ) || strstr(tail, "File too large") ||
	    strstr(tail, "File size limit exceeded")) {
		snprintf(buf, size, "file size limit (%lu MiB)", sb->fsize_mib);
		return buf;
	}
	for (size_t i = 0; i < sizeof memory / sizeof *memory; i++) {
		if (strstr(tail, memory[i])) {
			snprintf(buf, size, "memory limit (%lu MiB)", sb->mem_mib);
			return buf;
		}
	}
	for (size_t i = 0; i < sizeof fork / sizeof *fork; i++) {
		if (strstr(tail, fork[i])) {
			snprintf(buf, size, "process limit (%lu)", sb->procs);
			return buf;
		}
	}
	if (strstr(tail, "Too many open files")) {
		snprintf(buf, size, "open files limit (%lu)", sb->files);
		return buf;
	}
	return NULL;
}
