#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "fileio.h"
#include "gradcheck.h"

static int fail_errno(gc_error *err, const char *path, const char *what)
{
	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = err->col = 0;
	gc_error_set(err, "%s: %s", what, strerror(errno));
	return GC_EIO;
}

/* A device, FIFO or socket (-o /dev/null) is written in place: renaming a file over
 * it would replace the device.  So is a symbolic link: renaming over the file it
 * names would leave whoever holds that file open (-o /dev/stdout, a link through
 * /proc/self/fd to the file the shell opened) writing to a file no longer there. */
static int open_in_place(gc_atomic_file *f, const char *path, gc_error *err)
{
	if (!(f->path = strdup(path))) {
		fail_errno(err, path, "cannot write");
		return GC_ENOMEM;
	}
	if (!(f->fp = fopen(path, "w"))) {
		fail_errno(err, path, "cannot write");
		gc_atomic_abort(f);
		return GC_EIO;
	}
	return GC_OK;
}

int gc_atomic_open(gc_atomic_file *f, const char *path, gc_error *err)
{
	struct stat st, lst;
	int exists = stat(path, &st) == 0;
	sigset_t saved;
	size_t n;
	int fd;

	memset(f, 0, sizeof *f);
	if (exists && (!S_ISREG(st.st_mode) || (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))))
		return open_in_place(f, path, err);
	f->path = strdup(path);
	n = f->path ? strlen(f->path) + sizeof ".tmp.XXXXXX" : 0;
	f->tmp_path = f->path ? malloc(n) : NULL;
	if (!f->path || !f->tmp_path) {
		gc_atomic_abort(f);
		fail_errno(err, path, "cannot write");
		return GC_ENOMEM;
	}
	snprintf(f->tmp_path, n, "%s.tmp.XXXXXX", f->path);
	gc_cleanup_hold(&saved);
	fd = mkstemp(f->tmp_path);
	if (fd >= 0)
		f->cleanup = gc_cleanup_file_add(f->tmp_path);
	gc_cleanup_release(&saved);
	if (fd < 0 || !(f->fp = fdopen(fd, "w"))) {
		fail_errno(err, path, "cannot write");
		if (fd >= 0)
			close(fd);
		else
			f->tmp_path[0] = '\0';       /* nothing to remove */
		gc_atomic_abort(f);
		return GC_EIO;
	}
	/* a replaced file keeps its mode (a 0600 report stays private); a new one is 0644 */
	fchmod(fd, exists ? st.st_mode & 07777 : 0644);
	return 0;
}

int gc_atomic_commit(gc_atomic_file *f, gc_error *err)
{
	int in_place = !f->tmp_path;
	int bad = fflush(f->fp) != 0 || ferror(f->fp) || (!in_place && fsync(fileno(f->fp)) != 0);

	if (fclose(f->fp) != 0)
		bad = 1;
	f->fp = NULL;
	if (bad || (!in_place && rename(f->tmp_path, f->path) != 0)) {
		fail_errno(err, f->path, "cannot write");
		gc_atomic_abort(f);
		return GC_EIO;
	}
	gc_cleanup_file_remove(f->cleanup);
	free(f->path);
	free(f->tmp_path);
	memset(f, 0, sizeof *f);
	return 0;
}

void gc_atomic_abort(gc_atomic_file *f)
{
	if (f->fp)
		fclose(f->fp);
	if (f->tmp_path && f->tmp_path[0])
		unlink(f->tmp_path);
	gc_cleanup_file_remove(f->cleanup);
	free(f->path);
	free(f->tmp_path);
	memset(f, 0, sizeof *f);
}

int gc_write_file_atomic(const char *path, const char *data, size_t len, gc_error *err)
{
	gc_atomic_file f;

	int rc = gc_atomic_open(&f, path, err);

	if (rc != GC_OK)
		return rc;
	if (fwrite(data, 1, len, f.fp) != len) {
		fail_errno(err, path, "cannot write");
		gc_atomic_abort(&f);
		return GC_EIO;
	}
	return gc_atomic_commit(&f, err);
}

int gc_mkdir_p(const char *path, gc_error *err)
{
	size_t n = strlen(path);
	char *p = strdup(path);
	struct stat st;
	int rc = GC_EIO;

	if (!p) {
		gc_error_set(err, "out of memory");
		return GC_ENOMEM;
	}
	/* every prefix that ends before a '/' (not the leading one), then the whole path */
	for (size_t i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			fail_errno(err, p, "cannot create directory");
			goto out;
		}
		p[i] = path[i];
	}
	int bad = stat(path, &st) != 0;
	if (!bad && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		bad = 1;
	}
	if (bad) {
		fail_errno(err, path, "cannot create directory");
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}
