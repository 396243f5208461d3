/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Firmware search path, name resolution and end-to-end validation, all
 * under a temporary root directory.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "elf-builder.h"
#include "rproc/context.h"
#include "rproc/firmware.h"
#include "test-util.h"

#define RELEASE	      "6.1.0-rproc-test"
#define FW_CLASS_PATH "/sys/module/firmware_class/parameters/path"
#define OSRELEASE     "/proc/sys/kernel/osrelease"

struct fixture {
	char *root;
	struct rproc_ctx *ctx;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->root = test_root_new();
	if (!f->root || rproc_ctx_new(f->root, &f->ctx) < 0 ||
	    test_write_str(f->root, OSRELEASE, RELEASE "\n") < 0) {
		test_root_free(f->root);
		rproc_ctx_unref(f->ctx);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	rproc_ctx_unref(f->ctx);
	test_root_free(f->root);
	free(f);
	return 0;
}

static void assert_dirs(char **dirs, const char *const *expected)
{
	size_t i;

	assert_non_null(dirs);
	for (i = 0; expected[i]; i++) {
		assert_non_null(dirs[i]);
		assert_string_equal(dirs[i], expected[i]);
	}
	assert_null(dirs[i]);
}

static void assert_search_path(struct fixture *f, const char *const *expected)
{
	char **dirs = NULL;

	assert_int_equal(rproc_firmware_search_path(f->ctx, &dirs), 0);
	assert_dirs(dirs, expected);
	rproc_strv_free(dirs);
}

static const char *const default_dirs[] = {
	"/lib/firmware/updates/" RELEASE,
	"/lib/firmware/updates",
	"/lib/firmware/" RELEASE,
	"/lib/firmware",
	NULL,
};

static void test_search_path_default(void **state)
{
	struct fixture *f = *state;

	/* no firmware_class parameter file at all */
	assert_search_path(f, default_dirs);
}

static void test_search_path_custom(void **state)
{
	static const char *const expected[] = {
		"/opt/firmware",	 "/lib/firmware/updates/" RELEASE,
		"/lib/firmware/updates", "/lib/firmware/" RELEASE,
		"/lib/firmware",	 NULL,
	};
	struct fixture *f = *state;

	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, "/opt/firmware\n"), 0);
	assert_search_path(f, expected);
}

static void test_search_path_custom_unset(void **state)
{
	struct fixture *f = *state;

	/* the kernel shows an unset firmware_class.path as an empty line */
	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, "\n"), 0);
	assert_search_path(f, default_dirs);
	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, ""), 0);
	assert_search_path(f, default_dirs);
	/* the kernel builds "%s/%s" from it: a relative path is never meant */
	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, "relative/dir\n"), 0);
	assert_search_path(f, default_dirs);
}

/* Under a root that is not the host's, the host's release never stands in. */
static void assert_search_path_without_release(struct fixture *f)
{
	static const char *const expected[] = { "/lib/firmware/updates", "/lib/firmware", NULL };

	assert_search_path(f, expected);
}

static void test_search_path_release_missing(void **state)
{
	struct fixture *f = *state;
	char path[4096];
	static const char *const image[] = { "/lib/firmware/updates/6.12.9-image",
					     "/lib/firmware/updates", "/lib/firmware/6.12.9-image",
					     "/lib/firmware", NULL };

	snprintf(path, sizeof(path), "%s%s", f->root, OSRELEASE);
	assert_int_equal(unlink(path), 0);
	assert_search_path_without_release(f);
	/* An image's only kernel gives the release; two give none. */
	assert_int_equal(test_mkdir(f->root, "/lib/modules/6.12.9-image/kernel"), 0);
	assert_search_path(f, image);
	assert_int_equal(test_mkdir(f->root, "/lib/modules/6.1.0-old"), 0);
	assert_search_path_without_release(f);
}

static void test_search_path_release_empty(void **state)
{
	struct fixture *f = *state;

	/* An empty osrelease gives no release; blanks around one are not part of it. */
	assert_int_equal(test_write_str(f->root, OSRELEASE, "\n"), 0);
	assert_search_path_without_release(f);
	assert_int_equal(test_write_str(f->root, OSRELEASE, "  " RELEASE "\n"), 0);
	assert_search_path(f, default_dirs);
}

/* Resolve name; NULL expected means it must fail with err. */
static void assert_resolves(struct fixture *f, const char *name, const char *expected, int err)
{
	char *path = NULL;
	int r = rproc_firmware_resolve(f->ctx, name, &path);

	if (expected) {
		assert_int_equal(r, 0);
		assert_non_null(path);
		assert_string_equal(path, expected);
	} else {
		assert_int_equal(r, err);
		assert_null(path);
	}
	free(path);
}

static void test_resolve_order(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, "/opt/fw\n"), 0);

	/* add the file to each directory, from the last searched to the first */
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.elf", "x"), 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/m4.elf", 0);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/" RELEASE "/m4.elf", "x"), 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/" RELEASE "/m4.elf", 0);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/updates/m4.elf", "x"), 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/updates/m4.elf", 0);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/updates/" RELEASE "/m4.elf", "x"),
			 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/updates/" RELEASE "/m4.elf", 0);
	assert_int_equal(test_write_str(f->root, "/opt/fw/m4.elf", "x"), 0);
	assert_resolves(f, "m4.elf", "/opt/fw/m4.elf", 0);
}

static void test_resolve_skips_directory(void **state)
{
	struct fixture *f = *state;

	/* the kernel reads only regular files and goes on to the next directory */
	assert_int_equal(test_mkdir(f->root, "/lib/firmware/updates/" RELEASE "/dsp.bin"), 0);
	assert_int_equal(test_mkdir(f->root, "/lib/firmware/updates/dsp.bin"), 0);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/dsp.bin", "x"), 0);
	assert_resolves(f, "dsp.bin", "/lib/firmware/dsp.bin", 0);
}

static void test_resolve_only_directory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(test_mkdir(f->root, "/lib/firmware/dsp.bin"), 0);
	assert_resolves(f, "dsp.bin", NULL, -EISDIR);
}

static void test_resolve_skips_fifo(void **state)
{
	struct fixture *f = *state;
	char path[4096];

	assert_int_equal(test_mkdir(f->root, "/lib/firmware/updates"), 0);
	snprintf(path, sizeof(path), "%s/lib/firmware/updates/m4.elf", f->root);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_resolves(f, "m4.elf", NULL, -EBADFD);
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.elf", "x"), 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/m4.elf", 0);
}

static void test_resolve_symlink(void **state)
{
	struct fixture *f = *state;

	/* the kernel follows links: a link to a regular file counts, a dangling one does not */
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4-v2.elf", "x"), 0);
	assert_int_equal(test_symlink(f->root, "/lib/firmware/updates/m4.elf", "../m4-v2.elf"), 0);
	assert_resolves(f, "m4.elf", "/lib/firmware/updates/m4.elf", 0);
	assert_int_equal(test_symlink(f->root, "/lib/firmware/updates/gone.elf", "../none"), 0);
	assert_resolves(f, "gone.elf", NULL, -ENOENT);
}

static void test_resolve_subdirectory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(test_write_str(f->root, "/lib/firmware/qcom/sm8250/adsp.mbn", "x"), 0);
	assert_resolves(f, "qcom/sm8250/adsp.mbn", "/lib/firmware/qcom/sm8250/adsp.mbn", 0);
	assert_resolves(f, "qcom/sm8250", NULL, -EISDIR);
	assert_resolves(f, "qcom/adsp.mbn", NULL, -ENOENT);
}

static void test_resolve_missing(void **state)
{
	struct fixture *f = *state;

	assert_resolves(f, "rproc-m4-fw", NULL, -ENOENT);
	/* a search directory that does not exist is no error */
	assert_int_equal(test_write_str(f->root, FW_CLASS_PATH, "/nonexistent\n"), 0);
	assert_resolves(f, "rproc-m4-fw", NULL, -ENOENT);
}

static void test_resolve_invalid_name(void **state)
{
	struct fixture *f = *state;

	/* a file that "../m4.elf" would reach from /lib/firmware/updates exists */
	assert_int_equal(test_write_str(f->root, "/lib/firmware/m4.elf", "x"), 0);
	assert_resolves(f, "../m4.elf", NULL, -EINVAL);
	assert_resolves(f, "/lib/firmware/m4.elf", NULL, -EINVAL);
	assert_resolves(f, "", NULL, -EINVAL);
	assert_resolves(f, NULL, NULL, -EINVAL);
}

static void test_name_is_valid(void **state)
{
	char name[RPROC_FIRMWARE_NAME_MAX + 2];

	(void) state;
	assert_true(rproc_firmware_name_is_valid("rproc-m4-fw"));
	assert_true(rproc_firmware_name_is_valid("qcom/adsp.mbn"));
	assert_true(rproc_firmware_name_is_valid("a/b/c.elf"));
	assert_true(rproc_firmware_name_is_valid(".hidden"));
	assert_true(rproc_firmware_name_is_valid("..x"));
	assert_true(rproc_firmware_name_is_valid("x.."));
	assert_true(rproc_firmware_name_is_valid("with space.bin"));

	assert_false(rproc_firmware_name_is_valid(NULL));
	assert_false(rproc_firmware_name_is_valid(""));
	assert_false(rproc_firmware_name_is_valid("/abs"));
	assert_false(rproc_firmware_name_is_valid("/"));
	assert_false(rproc_firmware_name_is_valid(".."));
	assert_false(rproc_firmware_name_is_valid("."));
	assert_false(rproc_firmware_name_is_valid("../x"));
	assert_false(rproc_firmware_name_is_valid("a/../b"));
	assert_false(rproc_firmware_name_is_valid("a/.."));
	assert_false(rproc_firmware_name_is_valid("a//b"));
	assert_false(rproc_firmware_name_is_valid("./x"));
	assert_false(rproc_firmware_name_is_valid("x/."));
	assert_false(rproc_firmware_name_is_valid("x/./y"));
	assert_false(rproc_firmware_name_is_valid("x/"));
	assert_false(rproc_firmware_name_is_valid("a\nb"));
	assert_false(rproc_firmware_name_is_valid("a\tb"));
	assert_false(rproc_firmware_name_is_valid("\x1b[31m"));
	assert_false(rproc_firmware_name_is_valid("del\x7f"));

	/* 255 bytes is the longest */
	memset(name, 'a', sizeof(name));
	name[RPROC_FIRMWARE_NAME_MAX] = 0;
	assert_int_equal(strlen(name), 255);
	assert_true(rproc_firmware_name_is_valid(name));
	name[RPROC_FIRMWARE_NAME_MAX] = 'a';
	name[RPROC_FIRMWARE_NAME_MAX + 1] = 0;
	assert_int_equal(strlen(name), 256);
	assert_false(rproc_firmware_name_is_valid(name));
}

static void write_image(struct fixture *f, const char *path, const struct elf_spec *spec)
{
	struct elf_image img;

	assert_int_equal(elf_build(spec, &img), 0);
	assert_int_equal(test_write(f->root, path, img.data, img.size), 0);
	elf_image_free(&img);
}

static void test_validate_end_to_end(void **state)
{
	struct rproc_fw_expect expect = { RPROC_FW_FORMAT_ELF, 32, EM_ARM };
	struct fixture *f = *state;
	struct rproc_fw_info info;
	struct elf_spec spec;
	char *path = NULL, *hex;

	elf_spec_init(&spec, 32);
	spec.rsc = ELF_RSC_VALID;
	spec.build_id = elf_test_build_id;
	spec.build_id_len = sizeof(elf_test_build_id);
	spec.build_id_in_section = true;
	write_image(f, "/lib/firmware/" RELEASE "/rproc-m4-fw", &spec);

	assert_int_equal(rproc_firmware_validate(f->ctx, "rproc-m4-fw", &expect, &info, &path), 0);
	assert_string_equal(path, "/lib/firmware/" RELEASE "/rproc-m4-fw");
	assert_int_equal(info.elf_class, 32);
	assert_int_equal(info.machine, EM_ARM);
	assert_int_equal(info.n_load, 1);
	assert_true(info.has_resource_table);
	hex = rproc_fw_build_id_to_hex(&info);
	assert_string_equal(hex, ELF_TEST_BUILD_ID_HEX);
	free(hex);
	free(path);
	path = NULL;

	/* ret_path may be NULL */
	assert_int_equal(rproc_firmware_validate(f->ctx, "rproc-m4-fw", NULL, NULL, NULL), 0);

	/* a refusal still says which file was refused */
	expect.machine = EM_RISCV;
	assert_int_equal(rproc_firmware_validate(f->ctx, "rproc-m4-fw", &expect, &info, &path),
			 RPROC_FW_E_MACHINE_MISMATCH);
	assert_string_equal(path, "/lib/firmware/" RELEASE "/rproc-m4-fw");
	free(path);
	path = NULL;
}

static void test_validate_end_to_end_refusals(void **state)
{
	struct fixture *f = *state;
	struct elf_spec spec;
	char *path = NULL;

	/* the first file found is the one validated, even when a later one is fine */
	elf_spec_init(&spec, 64);
	write_image(f, "/lib/firmware/dsp.elf", &spec);
	elf_spec_override(&spec, ELF_F_PHNUM, 0, 0xffff);
	write_image(f, "/lib/firmware/updates/dsp.elf", &spec);
	assert_int_equal(rproc_firmware_validate(f->ctx, "dsp.elf", NULL, NULL, &path),
			 RPROC_FW_E_PHDRS_OUTSIDE);
	assert_string_equal(path, "/lib/firmware/updates/dsp.elf");
	free(path);
	path = NULL;

	assert_int_equal(test_write_str(f->root, "/lib/firmware/text.bin", "not firmware\n"), 0);
	assert_int_equal(rproc_firmware_validate(f->ctx, "text.bin", NULL, NULL, NULL),
			 RPROC_FW_E_NOT_ELF);
	assert_int_equal(test_write(f->root, "/lib/firmware/empty.bin", "", 0), 0);
	assert_int_equal(rproc_firmware_validate(f->ctx, "empty.bin", NULL, NULL, NULL),
			 RPROC_FW_E_EMPTY);

	/* errors of resolution leave ret_path alone */
	assert_int_equal(rproc_firmware_validate(f->ctx, "missing.elf", NULL, NULL, &path),
			 -ENOENT);
	assert_null(path);
	assert_int_equal(test_mkdir(f->root, "/lib/firmware/dir.elf"), 0);
	assert_int_equal(rproc_firmware_validate(f->ctx, "dir.elf", NULL, NULL, &path), -EISDIR);
	assert_null(path);
	assert_int_equal(rproc_firmware_validate(f->ctx, "../dsp.elf", NULL, NULL, &path), -EINVAL);
	assert_null(path);
}

#define fixture_test(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		fixture_test(test_search_path_default),
		fixture_test(test_search_path_custom),
		fixture_test(test_search_path_custom_unset),
		fixture_test(test_search_path_release_missing),
		fixture_test(test_search_path_release_empty),
		fixture_test(test_resolve_order),
		fixture_test(test_resolve_skips_directory),
		fixture_test(test_resolve_only_directory),
		fixture_test(test_resolve_skips_fifo),
		fixture_test(test_resolve_symlink),
		fixture_test(test_resolve_subdirectory),
		fixture_test(test_resolve_missing),
		fixture_test(test_resolve_invalid_name),
		cmocka_unit_test(test_name_is_valid),
		fixture_test(test_validate_end_to_end),
		fixture_test(test_validate_end_to_end_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
