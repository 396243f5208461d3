/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Saving devcoredumps: names, retention per core, the size limit while copying, freeing the source. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/time.h>
#include <cmocka.h>

#include "coredump-save.h"
#include "util.h"
#include "test-util.h"

#define BOOT "0123456789abcdef0123456789abcdef"

struct fixture {
	char *root;
	char src[512]; /* the fake devcdN: a data file */
	char dir[512]; /* CoredumpDirectory= */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = test_root_new();
	assert_non_null(f->root);
	snprintf(f->src, sizeof(f->src), "%s/sys/devcd1", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s/var/lib/rprocd/coredump", f->root);
	assert_int_equal(test_mkdir(f->root, "/sys/devcd1"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_root_free(f->root);
	free(f);
	return 0;
}

/* The source dump: size bytes of 'X' (a freed one reads "1"). */
static void make_source(struct fixture *f, size_t size)
{
	char *buf = malloc(size ?: 1);

	assert_non_null(buf);
	memset(buf, 'X', size);
	assert_int_equal(test_write(f->root, "/sys/devcd1/data", buf, size), 0);
	free(buf);
}

static bool source_freed(struct fixture *f)
{
	const char *s = test_read(f->root, "/sys/devcd1/data");

	return s && streq(s, "1");
}

static char *dir_file(struct fixture *f, const char *name)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return p;
}

/* An existing file in the dump directory, size bytes, modified at mtime (seconds). */
static void make_file(struct fixture *f, const char *name, size_t size, time_t mtime)
{
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	char *buf = calloc(1, size ?: 1);
	int fd;

	assert_non_null(buf);
	(void) test_mkdir(f->root, "/var/lib/rprocd/coredump");
	fd = open(dir_file(f, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t) size);
	close(fd);
	free(buf);
	assert_int_equal(utimensat(AT_FDCWD, dir_file(f, name), ts, AT_SYMLINK_NOFOLLOW), 0);
}

static bool exists(struct fixture *f, const char *name)
{
	struct stat st;

	return lstat(dir_file(f, name), &st) == 0;
}

static off_t file_size(struct fixture *f, const char *name)
{
	struct stat st;

	if (lstat(dir_file(f, name), &st) < 0)
		return -1;
	return st.st_size;
}

/* Entries of the dump directory (without . and ..). */
static unsigned count_entries(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static struct coredump_save save_of(struct fixture *f, const char *core, const char *file,
				    unsigned max_files, uint64_t max_use)
{
	return (struct coredump_save){
		.src_dir = f->src,
		.dir = f->dir,
		.core = core,
		.file = file,
		.max_files = max_files,
		.max_use = max_use,
	};
}

static void test_names(void **state)
{
	(void) state;
	assert_true(coredump_name_is_of_core("m4-" BOOT "-1700000000000000.core", "m4"));
	assert_true(coredump_name_is_of_core("m4-unknown-1.core", "m4"));
	assert_true(coredump_name_is_of_core("m4-1-" BOOT "-5.core", "m4-1"));
	assert_true(coredump_name_is_of_core("a-b-c-unknown-5.core", "a-b-c"));

	/* The prefix "m4-" of another core's dumps is not enough. */
	assert_false(coredump_name_is_of_core("m4-1-" BOOT "-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-1-unknown-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "-5.core", "m4-1"));
	assert_false(coredump_name_is_of_core("m4-unknown-5.core", "m4-unknown"));
	assert_true(coredump_name_is_of_core("m4-unknown-unknown-5.core", "m4-unknown"));
	assert_false(coredump_name_is_of_core("m4-unknown-unknown-5.core", "m4"));

	/* Malformed: boot id, usec, suffix, name. */
	assert_false(coredump_name_is_of_core("m4-0123456789ABCDEF0123456789ABCDEF-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-0123456789abcdef-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "0-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "-.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "-5x.core", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "-5.core.tmp", "m4"));
	assert_false(coredump_name_is_of_core(".m4-" BOOT "-5.core.tmp", "m4"));
	assert_false(coredump_name_is_of_core("m4-" BOOT "-5", "m4"));
	assert_false(coredump_name_is_of_core("-" BOOT "-5.core", ""));
	assert_false(coredump_name_is_of_core(BOOT "-5.core", "m4"));
	assert_false(coredump_name_is_of_core("m4" BOOT "-5.core", "m4"));
	assert_false(coredump_name_is_of_core(".core", "m4"));
	assert_false(coredump_name_is_of_core("", "m4"));
	assert_false(coredump_name_is_of_core(NULL, "m4"));
}

static void test_save(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 8, 1 << 20);

	/* The directory does not exist yet: it is made. */
	make_source(f, 200000);
	assert_int_equal(coredump_save(&s), 0);
	assert_null(s.failed_step);
	assert_string_equal(s.path, dir_file(f, "m4-" BOOT "-100.core"));
	assert_int_equal(s.size, 200000);
	assert_int_equal(s.removed, 0);
	assert_true(s.data_freed);
	assert_true(source_freed(f));
	assert_int_equal(file_size(f, "m4-" BOOT "-100.core"), 200000);
	assert_int_equal(count_entries(f), 1); /* no temporary file left */
	coredump_save_done(&s);
	assert_null(s.path);
}

/* Core m4's limits never touch the dumps of m4-1. */
static void test_prefix_collision(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 2, 1000);

	make_file(f, "m4-1-" BOOT "-1.core", 900, 1000);
	make_file(f, "m4-1-" BOOT "-2.core", 900, 1001);
	make_file(f, "m4-1-unknown-3.core", 900, 1002);
	make_file(f, "m4-" BOOT "-50.core", 300, 1003);
	make_file(f, "m4-" BOOT "-60.core", 300, 1004);
	make_source(f, 300);
	assert_int_equal(coredump_save(&s), 0);
	/* m4 had 2 dumps and may keep 2: its oldest made way; m4-1's 2700 bytes did not count. */
	assert_int_equal(s.removed, 1);
	assert_false(exists(f, "m4-" BOOT "-50.core"));
	assert_true(exists(f, "m4-" BOOT "-60.core"));
	assert_true(exists(f, "m4-" BOOT "-100.core"));
	assert_int_equal(file_size(f, "m4-1-" BOOT "-1.core"), 900);
	assert_int_equal(file_size(f, "m4-1-" BOOT "-2.core"), 900);
	assert_int_equal(file_size(f, "m4-1-unknown-3.core"), 900);
	coredump_save_done(&s);

	/* And the other way round: m4-1 with one file allowed keeps m4's dumps. */
	s = save_of(f, "m4-1", "m4-1-" BOOT "-200.core", 1, 1000);
	make_source(f, 10);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 3);
	assert_true(exists(f, "m4-1-" BOOT "-200.core"));
	assert_true(exists(f, "m4-" BOOT "-60.core"));
	assert_true(exists(f, "m4-" BOOT "-100.core"));
	assert_int_equal(count_entries(f), 3);
	coredump_save_done(&s);
}

static void test_limit_files(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 3, UINT64_MAX);

	/* mtime decides what is oldest, not the name. */
	make_file(f, "m4-" BOOT "-9.core", 10, 1003);
	make_file(f, "m4-" BOOT "-8.core", 10, 1002);
	make_file(f, "m4-unknown-7.core", 10, 1001);
	make_file(f, "m4-" BOOT "-6.core", 10, 1000);
	make_source(f, 10);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 2);
	assert_false(exists(f, "m4-" BOOT "-6.core"));
	assert_false(exists(f, "m4-unknown-7.core"));
	assert_true(exists(f, "m4-" BOOT "-8.core"));
	assert_true(exists(f, "m4-" BOOT "-9.core"));
	assert_true(exists(f, "m4-" BOOT "-100.core"));
	coredump_save_done(&s);

	/* CoredumpMaxFiles=0 keeps the new dump only. */
	s = save_of(f, "m4", "m4-" BOOT "-101.core", 0, UINT64_MAX);
	make_source(f, 10);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 3);
	assert_int_equal(count_entries(f), 1);
	assert_true(exists(f, "m4-" BOOT "-101.core"));
	coredump_save_done(&s);
}

/* Dumps dated after January 2038 are counted and sorted like any other. */
static void test_limit_files_after_2038(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 2, UINT64_MAX);
	struct stat st;

	/* 2033, 2039, 2040: a 32-bit time_t wraps the last two to 1901 and 1902, or fails */
	make_file(f, "m4-" BOOT "-1.core", 10, (time_t) INT64_C(2000000000));
	make_file(f, "m4-" BOOT "-2.core", 10, (time_t) INT64_C(2200000000));
	make_file(f, "m4-" BOOT "-3.core", 10, (time_t) INT64_C(2208988800));
	/* Needs a 64-bit time_t (test-abi) and a /tmp that keeps dates past 2038. */
	assert_int_equal(lstat(dir_file(f, "m4-" BOOT "-3.core"), &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, INT64_C(2208988800));
	make_source(f, 10);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 2);
	assert_false(exists(f, "m4-" BOOT "-1.core"));
	assert_false(exists(f, "m4-" BOOT "-2.core"));
	assert_true(exists(f, "m4-" BOOT "-3.core"));
	assert_true(exists(f, "m4-" BOOT "-100.core"));
	coredump_save_done(&s);
}

static void test_limit_size(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 100, 350000);

	make_file(f, "m4-" BOOT "-1.core", 100000, 1000);
	make_file(f, "m4-" BOOT "-2.core", 100000, 1001);
	make_file(f, "m4-" BOOT "-3.core", 100000, 1002);
	/* 300000 + 120000 > 350000: the oldest goes, and only it. */
	make_source(f, 120000);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 1);
	assert_int_equal(s.size, 120000);
	assert_false(exists(f, "m4-" BOOT "-1.core"));
	assert_true(exists(f, "m4-" BOOT "-2.core"));
	assert_true(exists(f, "m4-" BOOT "-3.core"));
	assert_int_equal(file_size(f, "m4-" BOOT "-100.core"), 120000);
	coredump_save_done(&s);

	/* Exactly max_use fits. */
	s = save_of(f, "m4", "m4-" BOOT "-101.core", 100, 350000);
	make_source(f, 350000);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 3);
	assert_int_equal(count_entries(f), 1);
	coredump_save_done(&s);
}

/* A dump larger than CoredumpMaxUse= stops at the limit: the directory never holds more. */
static void test_oversize(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 8, 100000);

	make_file(f, "m4-1-" BOOT "-1.core", 500000, 1000); /* another core's, over m4's limit */
	make_file(f, "notes.txt", 1000, 1000);
	make_source(f, 4 << 20);
	assert_int_equal(coredump_save(&s), -EFBIG);
	assert_string_equal(s.failed_step, "coredump larger than CoredumpMaxUse=");
	assert_null(s.path);
	assert_true(s.size <= 100000);
	assert_true(s.data_freed);
	assert_true(source_freed(f));
	assert_false(exists(f, "m4-" BOOT "-100.core"));
	assert_false(exists(f, ".m4-" BOOT "-100.core.tmp"));
	assert_int_equal(file_size(f, "m4-1-" BOOT "-1.core"), 500000);
	assert_true(exists(f, "notes.txt"));
	assert_int_equal(count_entries(f), 2);

	/* CoredumpMaxUse=0 keeps no dump with anything in it. */
	s = save_of(f, "m4", "m4-" BOOT "-101.core", 8, 0);
	make_source(f, 1);
	assert_int_equal(coredump_save(&s), -EFBIG);
	assert_true(source_freed(f));
	assert_int_equal(count_entries(f), 2);
}

/* Nothing in the directory but regular files named as this core's dumps is counted or deleted. */
static void test_foreign_files(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 1, 10);
	char target[1024];

	make_file(f, "README", 5000, 1000);
	make_file(f, "m4-xyz.core", 5000, 1000);
	make_file(f, "m4-" BOOT "-1.core.bak", 5000, 1000);
	make_file(f, ".m4-" BOOT "-2.core.tmp", 5000, 1000); /* another copy in progress */
	make_file(f, "M4-" BOOT "-3.core", 5000, 1000);
	make_file(f, "m4-1-" BOOT "-4.core", 5000, 1000);
	snprintf(target, sizeof(target), "%s/README", f->dir);
	assert_int_equal(symlink(target, dir_file(f, "m4-" BOOT "-5.core")), 0);
	assert_int_equal(mkdir(dir_file(f, "m4-" BOOT "-6.core"), 0755), 0);
	make_source(f, 10);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 0);
	assert_int_equal(count_entries(f), 9);
	assert_int_equal(file_size(f, "README"), 5000);
	assert_int_equal(file_size(f, ".m4-" BOOT "-2.core.tmp"), 5000);
	assert_int_equal(file_size(f, "m4-1-" BOOT "-4.core"), 5000);
	assert_true(exists(f, "m4-" BOOT "-5.core"));
	assert_true(exists(f, "m4-" BOOT "-6.core"));
	coredump_save_done(&s);
}

/* Any failure after the source was opened still frees the kernel's copy. */
static void test_failures_free_data(void **state)
{
	struct fixture *f = *state;
	struct coredump_save s;

	/* The directory cannot be made (a file is in the way). */
	assert_int_equal(test_write_str(f->root, "/var/lib/rprocd/coredump", "file"), 0);
	s = save_of(f, "m4", "m4-" BOOT "-100.core", 8, 1 << 20);
	make_source(f, 100);
	assert_true(coredump_save(&s) < 0);
	assert_string_equal(s.failed_step, "coredump directory");
	assert_true(source_freed(f));
	assert_int_equal(unlink(f->dir), 0);

	/* A file name that is not a dump of the core is refused (retention could not see it). */
	s = save_of(f, "m4", "m4-1-" BOOT "-100.core", 8, 1 << 20);
	make_source(f, 100);
	assert_int_equal(coredump_save(&s), -EINVAL);
	assert_true(source_freed(f));
	s = save_of(f, "m4", "../m4-" BOOT "-100.core", 8, 1 << 20);
	make_source(f, 100);
	assert_int_equal(coredump_save(&s), -EINVAL);
	assert_true(source_freed(f));

	/* No source: nothing to read, nothing to free. */
	s = save_of(f, "m4", "m4-" BOOT "-100.core", 8, 1 << 20);
	s.src_dir = "/nonexistent/devcd9";
	assert_int_equal(coredump_save(&s), -ENOENT);
	assert_string_equal(s.failed_step, "coredump read");
	assert_false(s.data_freed);
}

/* The firmware's last trace beside its dump: written, counted, deleted with it, or given way. */
static void test_trace(void **state)
{
	struct fixture *f = *state;
	static const char trace[] = "boot 1\nlast words\n";
	struct coredump_save s = save_of(f, "m4", "m4-" BOOT "-100.core", 2, 1000);
	const char *t;

	s.trace = trace;
	s.trace_len = strlen(trace);
	make_source(f, 300);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.trace_error, 0);
	assert_string_equal(s.trace_path, dir_file(f, "m4-" BOOT "-100.trace"));
	t = test_read(f->root, "/var/lib/rprocd/coredump/m4-" BOOT "-100.trace");
	assert_non_null(t);
	assert_string_equal(t, trace);
	assert_int_equal(count_entries(f), 2); /* no temporary file left */
	coredump_save_done(&s);
	assert_null(s.trace_path);

	/* A trace is not a dump: it does not count as a file. A trace of this core whose
	 * dump is gone is deleted; another core's never. */
	make_file(f, "m4-" BOOT "-5.trace", 10, 900);
	make_file(f, "m4-1-" BOOT "-5.trace", 10, 900);
	s = save_of(f, "m4", "m4-" BOOT "-101.core", 2, 1000);
	make_source(f, 300);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 0);
	assert_null(s.trace_path); /* none given */
	assert_true(exists(f, "m4-" BOOT "-100.trace"));
	assert_false(exists(f, "m4-" BOOT "-5.trace"));
	assert_true(exists(f, "m4-1-" BOOT "-5.trace"));
	coredump_save_done(&s);

	/* Its size counts: 300+18 + 300 + 400 > 1000, and the oldest dump goes with its trace. */
	s = save_of(f, "m4", "m4-" BOOT "-102.core", 5, 1000);
	s.trace = trace;
	s.trace_len = strlen(trace);
	make_source(f, 400);
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.removed, 1);
	assert_false(exists(f, "m4-" BOOT "-100.core"));
	assert_false(exists(f, "m4-" BOOT "-100.trace"));
	assert_true(exists(f, "m4-" BOOT "-101.core"));
	assert_true(exists(f, "m4-" BOOT "-102.trace"));
	coredump_save_done(&s);

	/* No room beside the new dump without deleting an older one: the trace gives way. */
	s = save_of(f, "m4", "m4-" BOOT "-103.core", 5, 1000);
	s.trace = trace;
	s.trace_len = strlen(trace);
	make_source(f, 580); /* 418 + 580 fits once 101 went; 18 more would cost 102 */
	assert_int_equal(coredump_save(&s), 0);
	assert_int_equal(s.trace_error, -EFBIG);
	assert_null(s.trace_path);
	assert_int_equal(s.removed, 1); /* room for the dump itself only: 101 went */
	assert_int_equal(file_size(f, "m4-" BOOT "-103.core"), 580);
	assert_false(exists(f, "m4-" BOOT "-103.trace"));
	assert_true(exists(f, "m4-" BOOT "-102.trace"));
	coredump_save_done(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		T(test_save),
		T(test_prefix_collision),
		T(test_limit_files),
		T(test_limit_files_after_2038),
		T(test_limit_size),
		T(test_oversize),
		T(test_foreign_files),
		T(test_failures_free_data),
		T(test_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
