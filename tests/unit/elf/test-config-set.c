/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration set (rproc_config_set_load()): the one verification path
 * of rprocd and `rprocctl verify`. Checks across cores and the firmware
 * check, under a temporary root with images the ELF builder makes.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <cmocka.h>

#include "elf-builder.h"
#include "librproc.h"
#include "test-util.h"

struct fixture {
	char *root;
	struct rproc_ctx *ctx;
	struct rproc_config_set *set;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->root = test_root_new();
	if (!f->root || rproc_ctx_new(f->root, &f->ctx) < 0 ||
	    test_write_str(f->root, "/proc/sys/kernel/osrelease", "6.1.0-test\n") < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rproc_config_set_free(f->set);
	rproc_ctx_unref(f->ctx);
	test_root_free(f->root);
	free(f);
	return 0;
}

/* root + path (a static buffer: use it at once). */
static const char *test_host(struct fixture *f, const char *path)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", f->root, path);
	return buf;
}

static void put(struct fixture *f, const char *path, const char *text)
{
	assert_int_equal(test_write_str(f->root, path, text), 0);
}

static void put_core(struct fixture *f, const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "/etc/rprocd/cores/%s.core", name);
	put(f, path, text);
}

/* An ELF32 ARM image the validator accepts. */
static void put_image(struct fixture *f, const char *path)
{
	struct elf_spec spec;
	struct elf_image img;

	elf_spec_init(&spec, 32);
	assert_int_equal(elf_build(&spec, &img), 0);
	assert_int_equal(test_write(f->root, path, img.data, img.size), 0);
	elf_image_free(&img);
}

static void load(struct fixture *f, unsigned flags)
{
	f->set = rproc_config_set_free(f->set);
	assert_int_equal(rproc_config_set_load(f->ctx, flags, &f->set), 0);
	assert_non_null(f->set);
	assert_non_null(f->set->daemon);
}

static const struct rproc_core_config *core(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->set->n_cores; i++)
		if (strcmp(f->set->cores[i]->name, name) == 0)
			return f->set->cores[i];
	fail_msg("no core %s in the set", name);
	return NULL;
}

static size_t n_at_least(const struct rproc_core_config *c, int priority)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_diags; i++)
		n += c->diags[i].priority <= priority;
	return n;
}

/* The core has a diagnostic of this priority at file:line whose message holds phrase. */
static void expect_diag(const struct rproc_core_config *c, int priority, const char *file,
			unsigned line, const char *phrase)
{
	for (size_t i = 0; i < c->n_diags; i++) {
		const struct rproc_config_diag *d = &c->diags[i];

		if (d->priority == priority && d->file && strcmp(d->file, file) == 0 &&
		    d->line == line && strstr(d->message, phrase))
			return;
	}
	for (size_t i = 0; i < c->n_diags; i++)
		print_error("  %d %s:%u: %s\n", c->diags[i].priority, c->diags[i].file,
			    c->diags[i].line, c->diags[i].message);
	fail_msg("%s: no diagnostic %d at %s:%u with \"%s\"", c->name, priority, file, line,
		 phrase);
}

static void test_bad_root(void **state)
{
	struct fixture *f = *state;
	struct rproc_config_set *set = NULL;
	struct rproc_ctx *ctx = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/nonexistent", f->root);
	assert_int_equal(rproc_ctx_new(path, &ctx), 0);
	assert_int_equal(rproc_config_set_load(ctx, 0, &set), -ENOENT);
	assert_null(set);
	rproc_ctx_unref(ctx);

	put(f, "/a-file", "x\n");
	snprintf(path, sizeof(path), "%s/a-file", f->root);
	assert_int_equal(rproc_ctx_new(path, &ctx), 0);
	assert_int_equal(rproc_config_set_load(ctx, 0, &set), -ENOTDIR);
	rproc_ctx_unref(ctx);

	/* A root with nothing configured is fine: no cores, built-in defaults. */
	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	assert_int_equal(f->set->n_cores, 0);
	assert_true(f->set->daemon->valid);
}

static void test_cycle(void **state)
{
	struct fixture *f = *state;

	put_core(f, "a", "[Core]\nRequires=b\n");
	put_core(f, "b", "[Core]\nDescription=b\nAfter=a\n");
	put_core(f, "c", "[Core]\nAfter=b\n");
	load(f, 0);
	assert_false(core(f, "a")->valid);
	assert_false(core(f, "b")->valid);
	expect_diag(core(f, "a"), LOG_ERR, "/etc/rprocd/cores/a.core", 2, "a → b → a");
	expect_diag(core(f, "b"), LOG_ERR, "/etc/rprocd/cores/b.core", 3, "b → a → b");
	/* Ordered after the cycle, not in it. */
	assert_true(core(f, "c")->valid);
	assert_int_equal(core(f, "c")->n_diags, 0);
}

static void test_unknown_requires(void **state)
{
	struct fixture *f = *state;

	put_core(f, "a", "[Core]\n# needs\nRequires=ghost b\nAfter=phantom\n");
	put_core(f, "b", "[Core]\n");
	put_core(f, "c", "[Core]\nRequires=masked\n");
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/masked.core", "/dev/null"), 0);
	load(f, 0);
	/* An error for verify; the core stays managed and fails its dependency (as before). */
	assert_true(core(f, "a")->valid);
	expect_diag(core(f, "a"), LOG_ERR, "/etc/rprocd/cores/a.core", 3,
		    "Requires=ghost names no core configuration");
	assert_int_equal(n_at_least(core(f, "a"), LOG_WARNING), 1);
	expect_diag(core(f, "c"), LOG_ERR, "/etc/rprocd/cores/c.core", 2, "masked core");
	assert_int_equal(core(f, "b")->n_diags, 0);
}

static void test_duplicate_claim(void **state)
{
	struct fixture *f = *state;

	put_core(f, "m4", "[Core]\nFirmware=a.elf\n");
	put_core(f, "m4-twin", "[Match]\n\nName=m4\n");
	put_core(f, "r5f-0", "[Match]\nName=r5f\nDevicePath=/sys/devices/*78000000*\n");
	put_core(f, "r5f-1", "[Match]\nName=r5f\nDevicePath=/sys/devices/*78400000*\n");
	load(f, 0);
	assert_false(core(f, "m4")->valid);
	assert_false(core(f, "m4-twin")->valid);
	/* Each names the other: the implicit Name= at the file, the explicit one at its line. */
	expect_diag(core(f, "m4"), LOG_ERR, "/etc/rprocd/cores/m4.core", 0,
		    "/etc/rprocd/cores/m4-twin.core also claims the kernel core \"m4\"");
	expect_diag(core(f, "m4-twin"), LOG_ERR, "/etc/rprocd/cores/m4-twin.core", 3,
		    "/etc/rprocd/cores/m4.core also claims");
	/* DevicePath= tells them apart. */
	assert_true(core(f, "r5f-0")->valid);
	assert_true(core(f, "r5f-1")->valid);

	/* The same DevicePath=: a conflict. A masked file claims nothing. */
	put_core(f, "r5f-1", "[Match]\nName=r5f\nDevicePath=/sys/devices/*78000000*\n");
	assert_int_equal(test_symlink(f->root, "/run/rprocd/cores/m4-twin.core", "/dev/null"), 0);
	put(f, "/etc/rprocd/cores/m4-twin.core", "");
	load(f, 0);
	assert_false(core(f, "r5f-0")->valid);
	expect_diag(core(f, "r5f-1"), LOG_ERR, "/etc/rprocd/cores/r5f-1.core", 2,
		    "claims the kernel core \"r5f\" at /sys/devices/*78000000*");
	assert_true(core(f, "m4")->valid);

	/* Files that could not be read (no [Match] known) claim their NAME. */
	assert_int_equal(test_mkdir(f->root, "/etc/rprocd/cores/dir.core"), 0);
	put_core(f, "dir-twin", "[Match]\nName=dir\n");
	put(f, "/etc/rprocd/cores/odd name.core", "[Match]\nName=dir\n");
	load(f, 0);
	assert_false(core(f, "dir")->valid);
	expect_diag(core(f, "dir-twin"), LOG_ERR, "/etc/rprocd/cores/dir-twin.core", 2,
		    "/etc/rprocd/cores/dir.core also claims the kernel core \"dir\"");
}

/* Two files for different boards: only the one for this board takes part. */
static void test_board_in_the_set(void **state)
{
	static const char compat[] = "acme,board-a\0ti,am625\0";
	struct fixture *f = *state;

	put_core(f, "m4-a", "[Match]\nName=m4\nCompatible=acme,board-a\n[Core]\nRequires=dsp\n");
	put_core(f, "m4-b", "[Match]\nName=m4\nCompatible=acme,board-b\n[Core]\nRequires=dsp\n");
	put_core(f, "dsp", "[Match]\nCompatible=acme,board-b\n");
	put_core(f, "x", "[Core]\nRequires=m4-b\n");

	/* An image without a device tree: the board is unknown, all apply. */
	rproc_ctx_set_image(f->ctx, 1);
	load(f, 0);
	assert_false(f->set->board_known);
	/* Different Compatible=: taken to be for different boards, not a conflict. */
	assert_true(core(f, "m4-a")->valid);
	assert_true(core(f, "m4-b")->valid);
	assert_int_equal(core(f, "m4-a")->n_diags, 0);
	assert_int_equal(core(f, "x")->n_diags, 0);
	/* The same conditions: a conflict on every board they match. */
	put_core(f, "m4-b", "[Match]\nName=m4\nCompatible=acme,board-a\n");
	load(f, 0);
	assert_false(core(f, "m4-a")->valid);
	assert_false(core(f, "m4-b")->valid);
	put_core(f, "m4-b", "[Match]\nName=m4\nCompatible=acme,board-b\n[Core]\nRequires=dsp\n");

	/* Board A: m4-b and dsp do not apply. */
	assert_int_equal(
		test_write(f->root, "/proc/device-tree/compatible", compat, sizeof(compat) - 1), 0);
	load(f, 0);
	assert_true(f->set->board_known);
	assert_string_equal(f->set->board_compatible[0], "acme,board-a");
	assert_string_equal(f->set->board_compatible[1], "ti,am625");
	assert_null(f->set->board_compatible[2]);
	assert_null(f->set->board_model);
	assert_true(core(f, "m4-b")->other_board);
	assert_true(core(f, "dsp")->other_board);
	assert_false(core(f, "m4-a")->other_board);
	expect_diag(core(f, "m4-a"), LOG_ERR, "/etc/rprocd/cores/m4-a.core", 5,
		    "Requires=dsp names a core whose file is not for this board");
	expect_diag(core(f, "x"), LOG_ERR, "/etc/rprocd/cores/x.core", 2,
		    "Requires=m4-b names a core whose file is not for this board");
	/* A file for another board is checked on its own (its errors count) but not as a part. */
	assert_int_equal(n_at_least(core(f, "m4-b"), LOG_WARNING), 0);
	expect_diag(core(f, "m4-b"), LOG_NOTICE, "/etc/rprocd/cores/m4-b.core", 3,
		    "does not match this board");
}

static void test_firmware(void **state)
{
	struct fixture *f = *state;
	const struct rproc_core_config *c;

	put_image(f, "/lib/firmware/good.elf");
	put_image(f, "/lib/firmware/6.1.0-test/by-release.elf");
	put(f, "/lib/firmware/text.elf", "not an image\n");
	assert_int_equal(test_mkdir(f->root, "/lib/firmware/dir.elf"), 0);
	put_core(f, "ok", "[Core]\nFirmware=good.elf\nFallbackFirmware=by-release.elf\n");
	put_core(f, "missing", "[Core]\nDescription=x\nFirmware=missing.elf\n");
	put_core(f, "invalid", "[Core]\nFirmware=text.elf\n");
	put_core(f, "machine", "[Core]\nFirmware=good.elf\nFirmwareMachine=RISCV\n");
	put_core(f, "class", "[Core]\nFirmware=good.elf\nFirmwareClass=64\n");
	put_core(f, "fallback", "[Core]\nFirmware=good.elf\nFallbackFirmware=dir.elf\n");
	put_core(f, "opaque", "[Core]\nFirmware=text.elf\nFirmwareFormat=opaque\n");
	put_core(f, "none", "[Core]\nStart=attach\n");

	/* Without the flag (rprocd at start-up): the images are not read. */
	load(f, 0);
	for (size_t i = 0; i < f->set->n_cores; i++)
		assert_int_equal(f->set->cores[i]->n_diags, 0);

	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	assert_int_equal(core(f, "ok")->n_diags, 0);
	assert_int_equal(core(f, "opaque")->n_diags, 0);
	assert_int_equal(core(f, "none")->n_diags, 0);
	c = core(f, "missing");
	expect_diag(c, LOG_ERR, "/etc/rprocd/cores/missing.core", 3,
		    "Firmware=missing.elf: no such file in the firmware search path "
		    "(/lib/firmware/updates/6.1.0-test /lib/firmware/updates "
		    "/lib/firmware/6.1.0-test /lib/firmware)");
	/* Still managed: rprocd finds out when it boots it (the image may be installed later). */
	assert_true(c->valid);
	expect_diag(core(f, "invalid"), LOG_ERR, "/etc/rprocd/cores/invalid.core", 2,
		    "/lib/firmware/text.elf is not a valid image: the file is not an ELF image "
		    "(not-elf)");
	expect_diag(core(f, "machine"), LOG_ERR, "/etc/rprocd/cores/machine.core", 2,
		    "(machine-mismatch)");
	expect_diag(core(f, "class"), LOG_ERR, "/etc/rprocd/cores/class.core", 2,
		    "(class-mismatch)");
	expect_diag(core(f, "fallback"), LOG_ERR, "/etc/rprocd/cores/fallback.core", 3,
		    "FallbackFirmware=dir.elf: no such file");
	assert_int_equal(n_at_least(core(f, "fallback"), LOG_WARNING), 1);
}

/* Under an image: a firmware name only the running system can resolve is not checked. */
static void test_firmware_unresolved(void **state)
{
	struct fixture *f = *state;

	rproc_ctx_set_image(f->ctx, 1);
	put_image(f, "/lib/firmware/m4-board7.elf");
	put(f, "/etc/hostname", "board7\n");
	put_core(f, "m4", "[Core]\nFirmware=m4-%H.elf\nFallbackFirmware=m4-%b.elf\n");
	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	assert_int_equal(n_at_least(core(f, "m4"), LOG_WARNING), 0);
	expect_diag(core(f, "m4"), LOG_NOTICE, "/etc/rprocd/cores/m4.core", 3, "%b");
	/* With the boot ID there (a test root), it is checked, and missing. */
	put(f, "/proc/sys/kernel/random/boot_id", "fedcba98-7654-3210-fedc-ba9876543210\n");
	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	expect_diag(core(f, "m4"), LOG_ERR, "/etc/rprocd/cores/m4.core", 3,
		    "FallbackFirmware=m4-fedcba9876543210fedcba9876543210.elf: no such file");
}

/* The daemon's configuration is part of the set; a core that cannot be read is reported. */
static void test_set_parts(void **state)
{
	struct fixture *f = *state;

	put(f, "/etc/rprocd/rprocd.conf", "[Defaults]\nStart=sometimes\n");
	put_core(f, "a", "[Core]\n");
	put_core(f, "b", "[Core]\nStart=no\n");
	load(f, 0);
	assert_false(f->set->daemon->valid);
	assert_false(core(f, "a")->valid);
	assert_true(core(f, "b")->valid);
	assert_int_equal(f->set->n_diags, 0);
}

/* Not on any build host: what a lookup that asks the host kernel would miss. */
#define NOT_ON_HOST "/rprocd-set-test-not-on-host"

/*
 * An image's firmware links (IMAGE/lib/firmware/m4.elf -> /usr/lib/firmware/…)
 * are followed in the image: its file is found and judged, never the host's.
 */
static void test_firmware_links_in_image(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(access(NOT_ON_HOST, F_OK), -1);
	rproc_ctx_set_image(f->ctx, 1);
	put_image(f, NOT_ON_HOST "/vendor/m4.elf");
	assert_int_equal(
		test_symlink(f->root, "/lib/firmware/m4.elf", NOT_ON_HOST "/vendor/m4.elf"), 0);
	/* An absolute Firmware= whose directory is a link. */
	assert_int_equal(test_symlink(f->root, "/opt/fw", NOT_ON_HOST "/vendor"), 0);
	/* The core file itself an absolute link. */
	put(f, NOT_ON_HOST "/cores/m4.core",
	    "[Core]\nFirmware=m4.elf\nFallbackFirmware=/opt/fw/m4.elf\n");
	assert_int_equal(
		test_symlink(f->root, "/etc/rprocd/cores/m4.core", NOT_ON_HOST "/cores/m4.core"),
		0);
	/* ".." out of the root stays in it: the image's file. */
	assert_int_equal(test_symlink(f->root, "/lib/firmware/esc.elf",
				      "../../../../../../../../.." NOT_ON_HOST "/vendor/m4.elf"),
			 0);
	put_core(f, "esc", "[Core]\nFirmware=esc.elf\n");
	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	assert_true(core(f, "m4")->valid);
	assert_string_equal(core(f, "m4")->path, "/etc/rprocd/cores/m4.core");
	assert_string_equal(core(f, "m4")->firmware, "m4.elf");
	assert_int_equal(core(f, "m4")->n_diags, 0);
	assert_int_equal(core(f, "esc")->n_diags, 0);

	/* What is judged is the image's file: an invalid one is named where the link led. */
	put(f, NOT_ON_HOST "/vendor/bad.elf", "not an image\n");
	assert_int_equal(
		test_symlink(f->root, "/lib/firmware/bad.elf", NOT_ON_HOST "/vendor/bad.elf"), 0);
	put_core(f, "bad", "[Core]\nFirmware=bad.elf\n");
	/* The host has /etc/passwd (any file is a valid opaque image); the image has none. */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	assert_int_equal(test_symlink(f->root, "/lib/firmware/host.bin", "/etc/passwd"), 0);
	assert_int_equal(test_symlink(f->root, "/lib/firmware/host-up.bin",
				      "../../../../../../../etc/passwd"),
			 0);
	put_core(f, "host", "[Core]\nFirmware=host.bin\nFirmwareFormat=opaque\n");
	put_core(f, "host-up",
		 "[Core]\nFirmware=host-up.bin\nFallbackFirmware=/etc/"
		 "passwd\nFirmwareFormat=opaque\n");
	load(f, RPROC_CONFIG_SET_CHECK_FIRMWARE);
	expect_diag(core(f, "bad"), LOG_ERR, "/etc/rprocd/cores/bad.core", 2,
		    "Firmware=bad.elf: /lib/firmware/bad.elf (a link to " NOT_ON_HOST
		    "/vendor/bad.elf) is not a valid image");
	expect_diag(core(f, "host"), LOG_ERR, "/etc/rprocd/cores/host.core", 2,
		    "Firmware=host.bin: no such file in the firmware search path");
	expect_diag(core(f, "host-up"), LOG_ERR, "/etc/rprocd/cores/host-up.core", 2,
		    "Firmware=host-up.bin: no such file in the firmware search path");
	expect_diag(core(f, "host-up"), LOG_ERR, "/etc/rprocd/cores/host-up.core", 3,
		    "FallbackFirmware=/etc/passwd: no such file");
	assert_int_equal(core(f, "m4")->n_diags, 0);
}

/* rprocd.conf's diagnostics (the daemon's part of the set) of this priority holding phrase. */
static size_t daemon_diags(struct fixture *f, int priority, const char *phrase)
{
	size_t n = 0;

	for (size_t i = 0; i < f->set->daemon->n_diags; i++) {
		const struct rproc_config_diag *d = &f->set->daemon->diags[i];

		if (d->priority == priority && strstr(d->message, phrase))
			n++;
	}
	return n;
}

/* AdminGroup= names a group of the image's /etc/group (an image), or of NSS (the system). */
static void test_admin_group(void **state)
{
	struct fixture *f = *state;
	const struct rproc_config_diag *d;

	put(f, "/etc/rprocd/rprocd.conf",
	    "[Daemon]\n# who may change cores\nAdminGroup=rprocadm\n");
	rproc_ctx_set_image(f->ctx, 1);
	/* No /etc/group in the image. */
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 1);
	assert_int_equal(daemon_diags(f, LOG_WARNING, "the image has no /etc/group"), 1);
	assert_true(f->set->daemon->admin_gid == (gid_t) -1);

	/* Missing from it: a warning at the line of the assignment. */
	put(f, "/etc/group", "root:x:0:\nrprocadmins:x:990:\nrproc:x:991:\n+rprocadm::992:\n");
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 1);
	d = &f->set->daemon->diags[0];
	assert_int_equal(d->priority, LOG_WARNING);
	assert_string_equal(d->file, "/etc/rprocd/rprocd.conf");
	assert_int_equal(d->line, 3);
	assert_string_equal(d->message, "AdminGroup=rprocadm: no such group in the image's "
					"/etc/group; only root may change cores");
	assert_true(f->set->daemon->valid);
	assert_true(f->set->daemon->admin_gid == (gid_t) -1);

	/* There (the file reached through an absolute link, as /etc/group may be): no warning. */
	put(f, NOT_ON_HOST "/group", "root:x:0:\nrprocadm:x:993:user1,user2\n");
	assert_int_equal(unlink(test_host(f, "/etc/group")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/group", NOT_ON_HOST "/group"), 0);
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 0);
	assert_true(f->set->daemon->admin_gid == 993);

	/* In a drop-in: the diagnostic is at the drop-in's line. */
	put(f, "/etc/rprocd/rprocd.conf.d/50-group.conf", "[Daemon]\nAdminGroup=ghost\n");
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 1);
	assert_string_equal(f->set->daemon->diags[0].file,
			    "/etc/rprocd/rprocd.conf.d/50-group.conf");
	assert_int_equal(f->set->daemon->diags[0].line, 2);

	/* The running system (not an image, a test root as rprocd --root has): NSS. */
	rproc_ctx_set_image(f->ctx, 0);
	put(f, "/etc/rprocd/rprocd.conf.d/50-group.conf", "[Daemon]\nAdminGroup=root\n");
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 0);
	assert_true(f->set->daemon->admin_gid == 0);
	put(f, "/etc/rprocd/rprocd.conf.d/50-group.conf",
	    "[Daemon]\nAdminGroup=rprocd-no-such-group-x\n");
	load(f, 0);
	assert_int_equal(daemon_diags(f, LOG_WARNING,
				      "AdminGroup=rprocd-no-such-group-x: no such group; only root "
				      "may change cores"),
			 1);
	assert_true(f->set->daemon->admin_gid == (gid_t) -1);

	/* No AdminGroup=: nothing to check. */
	put(f, "/etc/rprocd/rprocd.conf.d/50-group.conf", "[Daemon]\nAdminGroup=\n");
	load(f, 0);
	assert_int_equal(f->set->daemon->n_diags, 0);
	assert_true(f->set->daemon->admin_gid == (gid_t) -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_root),
		T(test_cycle),
		T(test_unknown_requires),
		T(test_duplicate_claim),
		T(test_board_in_the_set),
		T(test_firmware),
		T(test_firmware_unresolved),
		T(test_set_parts),
		T(test_firmware_links_in_image),
		T(test_admin_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
