/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Saving a devcoredump with the retention limits of its core (runs in a worker thread). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coredump-save.h"
#include "util.h"

#define COPY_BUFFER_SIZE (64 * 1024)
#define BOOT_ID_LEN	 32

static bool is_boot_id(const char *s, size_t n)
{
	if (n == strlen("unknown") && memcmp(s, "unknown", n) == 0)
		return true;
	if (n != BOOT_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool coredump_name_is_of_core(const char *filename, const char *core)
{
	const char *end, *p, *boot;
	size_t core_len;

	if (!filename || !core || !*core || !endswith(filename, ".core"))
		return false;
	/* Read from the right: usec, then the boot id; the rest is the core's name. */
	end = filename + strlen(filename) - strlen(".core");
	for (p = end; p > filename && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == end || p == filename || p[-1] != '-')
		return false;
	end = p - 1; /* the '-' before usec */
	for (boot = end; boot > filename && boot[-1] != '-'; boot--)
		;
	if (boot == filename || !is_boot_id(boot, (size_t) (end - boot)))
		return false;
	core_len = strlen(core);
	return (size_t) (boot - 1 - filename) == core_len && memcmp(filename, core, core_len) == 0;
}

struct dump_entry {
	char *name;
	int64_t mtime_nsec;
	uint64_t size; /* with its trace */
};

/* "NAME-BOOTID-USEC.trace" for the dump "NAME-BOOTID-USEC.core" */
static char *trace_name(const char *dump)
{
	size_t n = strlen(dump) - strlen(".core");

	return strdup_printf("%.*s.trace", (int) n, dump);
}

/* The trace beside a dump, if it is a regular file: its size, else 0. */
static uint64_t trace_size(int dfd, const char *dump)
{
	_cleanup_free_ char *t = trace_name(dump);
	struct stat st;

	if (!t || fstatat(dfd, t, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t) st.st_size;
}

/* Delete the trace beside a dump (only a regular file). */
static void remove_trace(int dfd, const char *dump)
{
	_cleanup_free_ char *t = trace_name(dump);
	struct stat st;

	if (t && fstatat(dfd, t, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		(void) unlinkat(dfd, t, 0);
}

/* This core's dumps, oldest first; v[first..n) still exist, their sizes add up to total. */
struct dump_list {
	struct dump_entry *v;
	size_t n, first;
	uint64_t total;
};

static void dump_list_free(struct dump_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static int cmp_dump(const void *a, const void *b)
{
	const struct dump_entry *x = a, *y = b;

	if (x->mtime_nsec != y->mtime_nsec)
		return x->mtime_nsec < y->mtime_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Only regular files named as dumps of core count: never another core's, a symlink, or a stranger. */
static int list_dumps(int dfd, const char *core, const char *skip, struct dump_list *l)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		struct dump_entry *nv;
		struct stat st;

		if (!coredump_name_is_of_core(de->d_name, core) || streq(de->d_name, skip))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		nv = reallocarray(l->v, l->n + 1, sizeof(*l->v));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->v[l->n].name = strdup(de->d_name);
		if (!l->v[l->n].name)
			return -ENOMEM;
		l->v[l->n].mtime_nsec =
			(int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		l->v[l->n].size = (uint64_t) st.st_size + trace_size(dfd, de->d_name);
		l->total += l->v[l->n++].size;
	}
	if (errno != 0)
		return -errno;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_dump);
	return 0;
}

/*
 * Delete the oldest dumps until one more file of new_size bytes fits the limits.
 * Returns 0 when it fits (or nothing is left to delete), or the errno of a
 * dump that could not be deleted.
 */
static int make_room(int dfd, struct dump_list *l, unsigned max_files, uint64_t max_use,
		     uint64_t new_size, unsigned *removed)
{
	while (l->first < l->n &&
	       (l->n - l->first + 1 > max_files || l->total + new_size > max_use)) {
		struct dump_entry *e = &l->v[l->first];
		struct stat st;

		/* Check again right before deleting: only a regular file is ever removed. */
		if (fstatat(dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -errno;
		} else if (S_ISREG(st.st_mode)) {
			if (unlinkat(dfd, e->name, 0) == 0)
				(*removed)++;
			else if (errno != ENOENT)
				return -errno;
		}
		remove_trace(dfd, e->name);
		/* Gone (or replaced by something that is not a dump): it no longer counts. */
		l->total -= e->size;
		l->first++;
	}
	return 0;
}

static int fail(struct coredump_save *s, const char *step, int r)
{
	s->failed_step = step;
	return r;
}

/* Copy from in into tmp in dfd, keeping the limits at every chunk. */
static int copy_dump(struct coredump_save *s, int in, int dfd, const char *tmp, struct dump_list *l,
		     unsigned max_files)
{
	_cleanup_free_ char *buf = malloc(COPY_BUFFER_SIZE);
	_cleanup_close_ int out = -1;
	int r;

	if (!buf)
		return fail(s, "coredump", -ENOMEM);
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return fail(s, "coredump write", -errno);
	for (;;) {
		ssize_t n = read(in, buf, COPY_BUFFER_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(s, "coredump read", -errno);
		if (n == 0)
			break;
		/*
		 * The size of a devcoredump is not known before it is read, so the limit
		 * is kept chunk by chunk: the dump never grows past max_use, and older
		 * dumps make way for it only as far as it has grown. A dump that
		 * exceeds max_use by itself may have cost older ones already; the
		 * newest dump is the one worth keeping, and the disk never fills.
		 */
		if ((uint64_t) n > s->max_use || s->size > s->max_use - (uint64_t) n)
			return fail(s, "coredump larger than CoredumpMaxUse=", -EFBIG);
		r = make_room(dfd, l, max_files, s->max_use, s->size + (uint64_t) n, &s->removed);
		if (r < 0)
			return fail(s, "coredump: deleting an older dump", r);
		r = write_all(out, buf, (size_t) n);
		if (r < 0)
			return fail(s, "coredump write", r);
		s->size += (uint64_t) n;
	}
	if (fsync(out) < 0)
		return fail(s, "coredump write", -errno);
	r = close(TAKE_FD(out));
	if (r < 0 && errno != EINTR)
		return fail(s, "coredump write", -errno);
	return 0;
}

/* The trace beside the dump just saved, if the limits leave room for it. */
static int save_trace(struct coredump_save *s, int dfd, struct dump_list *l, unsigned max_files)
{
	_cleanup_free_ char *name = trace_name(s->file), *tmp = NULL;
	_cleanup_close_ int out = -1;
	int r;

	if (!name || !(tmp = strdup_printf(".%s.tmp", name)))
		return -ENOMEM;
	/* A trace never costs an older dump: with no room left beside the new dump, it gives way. */
	if (s->trace_len > s->max_use || s->size > s->max_use - s->trace_len ||
	    l->total > s->max_use - s->size - s->trace_len)
		return -EFBIG;
	(void) max_files;
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return -errno;
	r = write_all(out, s->trace, s->trace_len);
	if (r >= 0 && fsync(out) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(out)) < 0 && errno != EINTR)
		r = -errno;
	if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlinkat(dfd, tmp, 0);
		return r;
	}
	s->trace_path = path_join(s->dir, name);
	return s->trace_path ? 0 : -ENOMEM;
}

/* Traces of this core whose dump is gone (deleted by hand, or a crash between two renames). */
static void remove_orphan_traces(int dfd, const char *core)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *dump = NULL;
		struct stat st;

		if (!endswith(de->d_name, ".trace"))
			continue;
		dump = strdup_printf("%.*s.core", (int) (strlen(de->d_name) - strlen(".trace")),
				     de->d_name);
		if (!dump || !coredump_name_is_of_core(dump, core) ||
		    fstatat(dfd, dump, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			(void) unlinkat(dfd, de->d_name, 0);
	}
}

static int save_from(struct coredump_save *s, int in)
{
	_cleanup_(dump_list_free) struct dump_list l = { 0 };
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	_cleanup_close_ int dfd = -1;
	unsigned max_files = s->max_files ?: 1; /* the new dump is always one */
	int r;

	if (!s->dir || !s->core || !s->file || !coredump_name_is_of_core(s->file, s->core) ||
	    strchr(s->file, '/'))
		return fail(s, "coredump", -EINVAL);
	r = mkdir_p(s->dir, 0700);
	if (r < 0)
		return fail(s, "coredump directory", r);
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(s, "coredump directory", -errno);
	tmp = strdup_printf(".%s.tmp", s->file);
	path = path_join(s->dir, s->file);
	if (!tmp || !path)
		return fail(s, "coredump", -ENOMEM);

	remove_orphan_traces(dfd, s->core);
	r = list_dumps(dfd, s->core, s->file, &l);
	if (r < 0)
		return fail(s, "coredump directory", r);
	/* Room for one more file, and within max_use already (the limits may have shrunk). */
	r = make_room(dfd, &l, max_files, s->max_use, 0, &s->removed);
	if (r < 0)
		return fail(s, "coredump: deleting an older dump", r);

	r = copy_dump(s, in, dfd, tmp, &l, max_files);
	if (r >= 0 && renameat(dfd, tmp, dfd, s->file) < 0)
		r = fail(s, "coredump write", -errno);
	if (r < 0) {
		(void) unlinkat(dfd, tmp, 0);
		return r;
	}
	s->path = TAKE_PTR(path);
	if (s->trace)
		s->trace_error = save_trace(s, dfd, &l, max_files);
	(void) fsync(dfd);
	return 0;
}

int coredump_save(struct coredump_save *s)
{
	_cleanup_free_ char *data = NULL;
	int in, r;

	s->failed_step = NULL;
	if (!s->src_dir)
		return fail(s, "coredump", -EINVAL);
	data = path_join(s->src_dir, "data");
	if (!data)
		return fail(s, "coredump", -ENOMEM);
	in = open(data, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fail(s, "coredump read", -errno);
	r = save_from(s, in);
	close(in);
	/* Whatever became of the copy: writing to data frees the kernel's (and lets recovery go on). */
	s->data_freed = write_string_file(data, "1") >= 0;
	return r;
}

void coredump_save_done(struct coredump_save *s)
{
	free(s->path);
	s->path = NULL;
	free(s->trace_path);
	s->trace_path = NULL;
}
