/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/firmware-stage.c: digests, ownership rules, pinning and the staged copy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "firmware-stage.h"
#include "util.h"
#include "test-util.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char *root;
	char src[512], dir[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = test_root_new();
	assert_non_null(f->root);
	assert_int_equal(chmod(f->root, 0755), 0);
	snprintf(f->src, sizeof(f->src), "%s/lib/firmware/m4.bin", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s/run/rprocd/firmware", f->root);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.bin", "abc"), 0);
	assert_int_equal(chmod(f->src, 0644), 0);
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

static const struct rproc_fw_expect opaque = { .format = RPROC_FW_FORMAT_OPAQUE, .machine = -1 };
static const struct rproc_fw_expect elf = { .format = RPROC_FW_FORMAT_ELF, .machine = -1 };

static struct fw_stage stage_of(struct fixture *f, bool copy)
{
	return (struct fw_stage){
		.src = f->src,
		.root = f->root,
		.dir = f->dir,
		.strict = true,
		.copy = copy,
		.src_fd = -1,
		.expect = &opaque,
	};
}

static unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_digest(void **state)
{
	char hex[FW_DIGEST_HEX_LEN + 1];

	(void) state;
	assert_int_equal(fw_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, ABC_SHA256);
	assert_int_equal(fw_sha256_hex("", 0, hex), 0);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(fw_digest_is_valid("sha256:" ABC_SHA256));
	assert_true(fw_digest_is_valid(
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(fw_digest_is_valid("sha256:" ABC_SHA256 "0"));
	assert_false(fw_digest_is_valid("sha512:" ABC_SHA256));
	assert_false(fw_digest_is_valid(
		"sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(fw_digest_is_valid(NULL));
}

/* The copy is named by its digest, holds the bytes read, and is the only file left. */
static void test_stage_copy(void **state)
{
	struct fixture *f = *state;
	struct fw_stage s = stage_of(f, true);
	char path[1024];
	const char *text;
	struct stat st;

	assert_int_equal(fw_stage(&s), 0);
	assert_string_equal(s.digest, ABC_SHA256);
	assert_string_equal(s.name, "sha256-" ABC_SHA256);
	snprintf(path, sizeof(path), "%s/%s", f->dir, s.name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	text = test_read(f->root, "/run/rprocd/firmware/sha256-" ABC_SHA256);
	assert_non_null(text);
	assert_string_equal(text, "abc");
	assert_int_equal(count_entries(f->dir), 1);
	fw_stage_done(&s);

	/* The original changes afterwards: the copy does not. */
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.bin", "abd"), 0);
	assert_string_equal(test_read(f->root, "/run/rprocd/firmware/sha256-" ABC_SHA256), "abc");

	/* Staged again (the same bytes): the same name, still one file per image. */
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.bin", "abc"), 0);
	s = stage_of(f, true);
	assert_int_equal(fw_stage(&s), 0);
	assert_string_equal(s.name, "sha256-" ABC_SHA256);
	assert_int_equal(count_entries(f->dir), 1);
	fw_stage_done(&s);
}

/* An image the validator refuses never gets a staged name. */
static void test_stage_invalid(void **state)
{
	struct fixture *f = *state;
	struct fw_stage s = stage_of(f, true);

	s.expect = &elf;
	assert_true(fw_stage(&s) > 0);
	assert_true(s.fw_error > 0);
	assert_string_equal(s.failed_step, "validate");
	assert_null(s.name);
	assert_int_equal(count_entries(f->dir), 0);
	fw_stage_done(&s);
}

static void test_pinning(void **state)
{
	struct fixture *f = *state;
	char *ok[] = { "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		       "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		       NULL };
	char *other[] = { "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			  NULL };
	struct fw_stage s = stage_of(f, true);

	s.digests = ok;
	assert_int_equal(fw_stage(&s), 0);
	fw_stage_done(&s);

	s = stage_of(f, true);
	s.digests = other;
	s.expect = &elf; /* not even parsed: the pin comes first */
	assert_int_equal(fw_stage(&s), -EKEYREJECTED);
	assert_string_equal(s.failed_step, "digest");
	assert_non_null(s.why);
	assert_non_null(strstr(s.why, "sha256:" ABC_SHA256));
	assert_non_null(strstr(s.why, other[0]));
	assert_null(s.name);
	fw_stage_done(&s);
}

static void test_strict_modes(void **state)
{
	struct fixture *f = *state;
	struct fw_stage s = stage_of(f, true);
	char dir[600];

	/* A file its group may write. */
	assert_int_equal(chmod(f->src, 0664), 0);
	assert_int_equal(fw_stage(&s), -EPERM);
	assert_string_equal(s.failed_step, "ownership");
	assert_non_null(strstr(s.why, f->src));
	assert_non_null(strstr(s.why, "writable by its group"));
	assert_non_null(strstr(s.why, "0664"));
	assert_int_equal(count_entries(f->dir), 0);
	fw_stage_done(&s);

	/* Relaxed: FirmwareStrictModes=no. */
	s = stage_of(f, true);
	s.strict = false;
	assert_int_equal(fw_stage(&s), 0);
	fw_stage_done(&s);
	assert_int_equal(chmod(f->src, 0644), 0);

	/* A directory above it anyone may write: its path is named. */
	snprintf(dir, sizeof(dir), "%s/lib", f->root);
	assert_int_equal(chmod(dir, 0777), 0);
	s = stage_of(f, true);
	assert_int_equal(fw_stage(&s), -EPERM);
	assert_non_null(strstr(s.why, "writable by others"));
	assert_non_null(strstr(s.why, dir));
	fw_stage_done(&s);
	assert_int_equal(chmod(dir, 0755), 0);

	/* Through a symbolic link: the directories of the target are the ones checked. */
	assert_int_equal(test_mkdir(f->root, "/opt/open"), 0);
	snprintf(dir, sizeof(dir), "%s/opt/open", f->root);
	assert_int_equal(test_write_str(f->root, "/opt/open/real.bin", "abc"), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(unlink(f->src), 0);
	assert_int_equal(symlink("../../opt/open/real.bin", f->src), 0);
	s = stage_of(f, true);
	assert_int_equal(fw_stage(&s), -EPERM);
	assert_non_null(strstr(s.why, dir));
	fw_stage_done(&s);
}

/* Without a copy: read, hashed and validated from one open file, nothing written. */
static void test_no_copy(void **state)
{
	struct fixture *f = *state;
	struct fw_stage s = stage_of(f, false);

	assert_int_equal(fw_stage(&s), 0);
	assert_string_equal(s.digest, ABC_SHA256);
	assert_null(s.name);
	assert_int_equal(s.info.size, 3);
	assert_int_equal(count_entries(f->dir), 0);
	fw_stage_done(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest), T(test_stage_copy),
		T(test_stage_invalid),	       T(test_pinning),
		T(test_strict_modes),	       T(test_no_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
