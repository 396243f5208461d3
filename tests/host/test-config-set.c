/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocd with the configuration set of issue 16, on the host against the
 * kernel model: files for other boards, Requires= naming one, values ignored
 * by systemd's rule, strict keys, two files claiming one core, an empty file
 * that masks. What the library decides, the daemon must act on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "harness.h"
#include "util.h"

static struct harness *setup(void)
{
	struct harness *h = NULL;

	assert_int_equal(h_new_default(&h), 0);
	/* Board A: one compatible entry (h_write_file writes text, no NUL). */
	assert_int_equal(h_write_file(h, "/proc/device-tree/compatible", "acme,board-a"), 0);
	return h;
}

static void assert_ok(struct harness *h)
{
	if (!h_check(h, true))
		fail_msg("invariant: %s", h->violation);
}

/* One root file system, two boards: the file for this board configures the core. */
static void test_board_picks_the_file(void **state)
{
	struct harness *h = setup();
	int dev;

	(void) state;
	assert_int_equal(h_core_file(h, "m4-a",
				     "[Match]\nName=m4\nCompatible=acme,board-a\n[Core]\n"
				     "Firmware=fw.elf\n"),
			 0);
	assert_int_equal(h_core_file(h, "m4-b",
				     "[Match]\nName=m4\nCompatible=acme,board-b\n[Core]\n"
				     "Firmware=fw2.elf\n"),
			 0);
	/* Requires= a core whose file is for another board: fails at once, does not wait. */
	assert_int_equal(h_core_file(h, "dsp", "[Core]\nFirmware=fw.elf\nRequires=m4-b\n"), 0);
	dev = kmodel_add(h->km, "m4", 0);
	kmodel_add(h->km, "dsp", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	/* No conflict: m4-b is not for this board. The bus name is the file's NAME. */
	assert_non_null(h_core(h, "m4-a"));
	assert_true(core_is_managed(h_core(h, "m4-a")));
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_true(core_is_managed(h_core(h, "dsp")));
	assert_int_equal(h_core(h, "dsp")->dep, DEP_FAILED);
	assert_non_null(h_core(h, "dsp")->last_error);
	assert_non_null(strstr(h_core(h, "dsp")->last_error, "required core m4-b"));
	assert_ok(h);
	h_free(h);
}

/* Invalid values: ignored for most keys (managed, booted), fatal for strict ones. */
static void test_invalid_values(void **state)
{
	struct harness *h = setup();
	int a, b;

	(void) state;
	assert_int_equal(h_core_file(h, "a",
				     "[Core]\nFirmware=fw.elf\nOnCrash=leave\nOnCrash=explode\n"
				     "RestartSec=soon\n"),
			 0);
	assert_int_equal(h_core_file(h, "b", "[Core]\nFirmware=fw.elf\nStart=explode\n"), 0);
	a = kmodel_add(h->km, "a", 0);
	b = kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(core_is_managed(h_core(h, "a")));
	assert_int_equal(kmodel_state(h->km, a), RPROC_STATE_RUNNING);
	assert_int_equal(h_core(h, "a")->config->settings.on_crash, RPROC_CRASH_LEAVE);
	assert_int_equal(h_core(h, "a")->config->n_diags, 2);
	assert_false(core_is_managed(h_core(h, "b")));
	assert_int_equal(kmodel_state(h->km, b), RPROC_STATE_OFFLINE);
	assert_non_null(strstr(h_core(h, "b")->last_error,
			       "/etc/rprocd/cores/b.core:3: invalid value \"explode\" for Start="));
	assert_ok(h);
	h_free(h);
}

/* An empty file masks; two files with one Name= claim the core: neither is used. */
static void test_mask_and_claims(void **state)
{
	struct harness *h = setup();
	int m, c;

	(void) state;
	assert_int_equal(
		h_write_file(h, "/usr/lib/rprocd/cores/m.core", "[Core]\nFirmware=fw.elf\n"), 0);
	assert_int_equal(h_core_file(h, "m", ""), 0);
	assert_int_equal(h_core_file(h, "c", "[Core]\nFirmware=fw.elf\n"), 0);
	assert_int_equal(h_core_file(h, "c-twin", "[Match]\nName=c\n[Core]\nFirmware=fw2.elf\n"),
			 0);
	m = kmodel_add(h->km, "m", 0);
	c = kmodel_add(h->km, "c", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(h_core(h, "m")->config->masked);
	assert_int_equal(kmodel_state(h->km, m), RPROC_STATE_OFFLINE);
	assert_false(core_is_managed(h_core(h, "c")));
	assert_int_equal(kmodel_state(h->km, c), RPROC_STATE_OFFLINE);
	assert_non_null(strstr(h_core(h, "c")->last_error, "both match"));
	/* Fixing the twin and reloading takes the core. */
	assert_int_equal(h_core_file(h, "c-twin", "[Match]\nName=other\n"), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_true(core_is_managed(h_core(h, "c")));
	assert_int_equal(kmodel_state(h->km, c), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* Not on any build host: a daemon that asked the host kernel would not find these. */
#define NOT_ON_HOST "/rprocd-host-test-not-on-host"

static void link_in_root(struct harness *h, const char *path, const char *target)
{
	_cleanup_free_ char *p = strdup_printf("%s%s", h->root, path);

	assert_non_null(p);
	assert_int_equal(mkdir_parents(p), 0);
	assert_int_equal(symlink(target, p), 0);
}

/*
 * rprocd --root: the core file, its firmware and a mask are links to
 * absolute paths in the root (none of them on the host); they are resolved
 * there, as the kernel of that system would. The core boots from the root's
 * image.
 */
static void test_links_in_root(void **state)
{
	struct harness *h = setup();
	_cleanup_free_ char *fw = NULL, *moved = NULL;
	int dev, masked;

	(void) state;
	assert_int_equal(access(NOT_ON_HOST, F_OK), -1);
	/* The image h_new_default() wrote, moved where only a link leads. */
	fw = strdup_printf("%s/lib/firmware/fw.elf", h->root);
	moved = strdup_printf("%s" NOT_ON_HOST "/vendor/fw.elf", h->root);
	assert_non_null(fw);
	assert_non_null(moved);
	assert_int_equal(mkdir_parents(moved), 0);
	assert_int_equal(rename(fw, moved), 0);
	link_in_root(h, "/lib/firmware/m4.elf", NOT_ON_HOST "/vendor/fw.elf");
	assert_int_equal(h_write_file(h, NOT_ON_HOST "/cores/m4.core", "[Core]\nFirmware=m4.elf\n"),
			 0);
	link_in_root(h, "/etc/rprocd/cores/m4.core", NOT_ON_HOST "/cores/m4.core");
	assert_int_equal(
		h_write_file(h, "/usr/lib/rprocd/cores/dsp.core", "[Core]\nFirmware=fw2.elf\n"), 0);
	link_in_root(h, "/etc/rprocd/cores/dsp.core", NOT_ON_HOST "/mask");
	link_in_root(h, NOT_ON_HOST "/mask", "/dev/null");
	dev = kmodel_add(h->km, "m4", 0);
	masked = kmodel_add(h->km, "dsp", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(core_is_managed(h_core(h, "m4")));
	assert_null(h_core(h, "m4")->last_error);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_true(h_core(h, "dsp")->config->masked);
	assert_int_equal(kmodel_state(h->km, masked), RPROC_STATE_OFFLINE);
	assert_ok(h);
	h_free(h);
}

/* AdminGroup=: the gid comes from the configuration set's check (NSS for the running system). */
static void test_admin_group(void **state)
{
	struct harness *h = setup();

	(void) state;
	assert_int_equal(h_write_file(h, "/etc/rprocd/rprocd.conf",
				      "[Daemon]\nPollIntervalSec=1h\nAdminGroup=root\n"),
			 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(h->m->admin_gid == 0);
	assert_int_equal(
		h_write_file(h, "/etc/rprocd/rprocd.conf",
			     "[Daemon]\nPollIntervalSec=1h\nAdminGroup=rprocd-no-such-group-x\n"),
		0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_true(h->m->admin_gid == (gid_t) -1);
	assert_int_equal(h_write_file(h, "/etc/rprocd/rprocd.conf",
				      "[Daemon]\nPollIntervalSec=1h\nAdminGroup=root\n"),
			 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_true(h->m->admin_gid == 0);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_board_picks_the_file), cmocka_unit_test(test_invalid_values),
		cmocka_unit_test(test_mask_and_claims),	     cmocka_unit_test(test_links_in_root),
		cmocka_unit_test(test_admin_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
