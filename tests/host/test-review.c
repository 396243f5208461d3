/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Regression tests for what the hostile review of the state-machine refactor
 * found (R1-R8), each failing before its fix: error replies and Reload()
 * answers with text that is not UTF-8, a crash right after boot taken for a
 * wedge, the start limit counted twice, a dump that never comes swallowing a
 * later crash, READY=1 sent by a reload during start-up, Requires= failing
 * when cores are hot-plugged in the "wrong" order, and a restart armed under
 * OnCrash=restart surviving a reload to OnCrash=leave; from the second
 * review (R9-R13): a rescan (udev overrun) reading a core whose write is in
 * flight, a Requires= waiting for an absent core holding READY=1, and a
 * driver reload that a rescan took for the same device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-errors.h"
#include "core.h"
#include "harness.h"
#include "util.h"

static struct harness *setup(void)
{
	struct harness *h = NULL;

	assert_int_equal(h_new_default(&h), 0);
	return h;
}

static void core_file(struct harness *h, const char *name, const char *text)
{
	assert_int_equal(h_core_file(h, name, text), 0);
}

static void set_kernel_fw(struct harness *h, int id, const char *name)
{
	assert_int_equal(h_external_firmware(h, id, name), 0);
}

static void kstart(struct harness *h, int id)
{
	assert_int_equal(h_external_request(h, id, RPROC_CMD_START), 0);
}

/* R1: a job error quoting a non-UTF-8 kernel firmware name: the call is never answered. */
static void test_r1_utf8_error_zero_replies(void **state)
{
	struct harness *h = setup();
	unsigned id;
	int dev;

	core_file(h, "a", "[Core]\nStart=no\n"); /* no Firmware=: the kernel's name is booted */
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	set_kernel_fw(h, dev, "bad-\xff.elf");
	id = h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(h_get_call(h, id)->replies, 1);
	h_free(h);
}

/* R1b: a drop-in whose file name is not UTF-8 makes the core invalid: Start is never answered. */
static void test_r1b_dropin_name(void **state)
{
	struct harness *h = setup();
	unsigned id;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\n");
	assert_int_equal(
		h_write_file(h, "/etc/rprocd/cores/a.core.d/\xff.conf", "[Core]\nStart=bogus\n"),
		0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_false(core_is_managed(h_core(h, "a")));
	id = h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(h_get_call(h, id)->replies, 1);
	h_free(h);
}

/* R2: Reload() answered with an error although the reload was applied. */
static void test_r2_reload_reply(void **state)
{
	struct harness *h = setup();
	unsigned id;
	int dev;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nStart=no\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_write_firmware(h, "bad-\xff.elf"), 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	set_kernel_fw(h, dev, "bad-\xff.elf");
	kstart(h, dev);		       /* someone else boots it */
	h_call(h, "a", "Start", NULL); /* its job reads the state: adopted */
	h_settle(h, true);
	core_file(h, "a", "[Core]\nFirmware=fw.elf\nStart=no\nDescription=changed\n");
	id = h_call_manager(h, "Reload");
	h_settle(h, true);
	assert_null(h_get_call(h, id)->error);
	h_free(h);
}

/* R3: false wedge: OnCrash=kernel + Coredump=inline, firmware crashing right after start. */
static void test_r3_false_wedge(void **state)
{
	struct harness *h = setup();
	unsigned id;
	int dev;

	core_file(h, "a",
		  "[Core]\nFirmware=fw.elf\nOnCrash=kernel\nCoredump=inline\n"
		  "CoredumpDirectory=/var/dumps\n");
	dev = kmodel_add(h->km, "a", 0);
	snprintf(h->crash_after_start, sizeof(h->crash_after_start), "%s",
		 kmodel_sysname(h->km, dev));
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	h->crash_after_start[0] = 0;
	h_deliver_dumps(h);
	h_settle(h, true);
	h_deliver_dumps(h);
	manager_poll(h->m);
	h_settle(h, true);
	h_call(h, "a", "Stop", NULL);
	h_settle(h, true);
	id = h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_false(h_core(h, "a")->wedged);
	assert_null(h_get_call(h, id)->error);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_int_equal(h_core(h, "a")->state, RPROC_STATE_RUNNING);
	h_free(h);
}

/* R4: a crash seen while waiting on Requires= arms the restart; JOB_FIRST arms it again. */
static void test_r4_double_limit(void **state)
{
	struct harness *h = setup();
	int da, db;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\n");
	core_file(h, "b",
		  "[Core]\nFirmware=fw.elf\nRequires=a\nOnCrash=restart\nRestartSec=1s\n"
		  "StartLimitBurst=1\nStartLimitIntervalSec=1h\n");
	da = kmodel_add(h->km, "a", 0);
	db = kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	set_kernel_fw(h, db, "fw.elf");
	kstart(h, db); /* b runs already (adopted) */
	h_daemon_kill(h);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, false); /* a's boot is slow: b waits */
	assert_int_equal(h_core(h, "b")->dep, DEP_WAITING);
	assert_int_equal(kmodel_crash(h->km, db, 1, KMODEL_CRASH_HOLD_RECOVERY), 0);
	manager_poll(h->m);
	h_settle(h, false);
	h_run_work(h, 0); /* a is up: b's first decision runs */
	h_settle(h, false);
	(void) da;
	assert_false(h_core(h, "b")->start_limit_hit);
	h_free(h);
}

/* R5: a dump that never comes (Stop of a crashed core) swallows the count of a later crash. */
static void test_r5_awaiting_hole(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a",
		  "[Core]\nFirmware=fw.elf\nOnCrash=restart\nRestartSec=1h\n"
		  "Coredump=enabled\nCoredumpDirectory=/var/dumps\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0); /* recovery disabled: stays crashed */
	manager_poll(h->m);
	h_settle(h, true);
	h_call(h, "a", "Stop", NULL); /* the operator stops it: no dump is ever made */
	h_settle(h, true);
	/* OnCrash=kernel now; a crash the kernel recovers between two polls. */
	core_file(h, "a",
		  "[Core]\nFirmware=fw.elf\nOnCrash=kernel\n"
		  "Coredump=enabled\nCoredumpDirectory=/var/dumps\n");
	assert_int_equal(h_reload(h), 0);
	h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_deliver_dumps(h);
	h_settle(h, true);
	h_deliver_dumps(h);
	h_settle(h, true);
	if (!h_check(h, true))
		fail_msg("invariant: %s", h->violation);
	assert_int_equal(h_core(h, "a")->crash_count, 2);
	h_free(h);
}

/* R6: a reload during start-up sends READY=1 before any core has settled. */
static void test_r6_ready_on_reload(void **state)
{
	struct harness *h = setup();

	core_file(h, "a", "[Core]\nFirmware=fw.elf\n");
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, false); /* a's boot is slow */
	assert_false(h->ready);
	assert_int_equal(h_reload(h), 0);
	assert_false(h->ready);
	h_free(h);
}

/* R7: hotplug in the "wrong" order: a core's Requires= fails for good. */
static void test_r7_hotplug_order(void **state)
{
	struct harness *h = setup();
	struct rproc_device *dev = NULL;
	int da, db;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nRequires=b\n");
	core_file(h, "b", "[Core]\nFirmware=fw.elf\n");
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	da = kmodel_add(h->km, "a", 0); /* the driver module loads after rprocd */
	assert_int_equal(rproc_device_new(h->m->ctx, kmodel_sysname(h->km, da), &dev), 0);
	manager_add_device(h->m, dev);
	rproc_device_unref(dev);
	h_iterate(h);
	db = kmodel_add(h->km, "b", 0); /* its uevent a moment later */
	assert_int_equal(rproc_device_new(h->m->ctx, kmodel_sysname(h->km, db), &dev), 0);
	manager_add_device(h->m, dev);
	rproc_device_unref(dev);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, da), RPROC_STATE_RUNNING);
	h_free(h);
}

/* R8: OnCrash=restart -> leave by reload while RestartSec= runs: recovered anyway. */
static void test_r8_reload_oncrash(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nOnCrash=restart\nRestartSec=50ms\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	manager_poll(h->m);
	h_settle(h, true);
	core_file(h, "a", "[Core]\nFirmware=fw.elf\nOnCrash=leave\n");
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	for (int i = 0; i < 30; i++) {
		(void) sd_event_run(h->m->event, 10000);
		h_settle(h, true);
	}
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_CRASHED);
	h_free(h);
}

/* ---- a udev overrun (ENOBUFS -> manager_rescan()) lands while a worker's write is in flight ---- */

static struct harness *cur;
static const struct kernel_ops *orig_ops;
static struct kernel_ops hooked_ops;
static enum rproc_command rescan_after_cmd;
static bool rescan_armed;

static int hooked_request(void *u, struct rproc_device *dev, enum rproc_command cmd)
{
	int r = orig_ops->request(u, dev, cmd);

	/* The worker thread has written; the loop handles the overrun before the completion. */
	if (rescan_armed && cmd == rescan_after_cmd) {
		rescan_armed = false;
		manager_rescan(cur->m);
	}
	return r;
}

static void hook(struct harness *h, enum rproc_command cmd)
{
	cur = h;
	orig_ops = h->kernel.ops;
	hooked_ops = *orig_ops;
	hooked_ops.request = hooked_request;
	h->kernel.ops = &hooked_ops;
	rescan_after_cmd = cmd;
	rescan_armed = true;
}

/* Start: the boot is taken for "came up without rprocd", then "went offline": Origin lost. */
static void test_r9_rescan_during_boot(void **state)
{
	struct harness *h = setup();
	unsigned id;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nStart=no\n");
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	hook(h, RPROC_CMD_START);
	id = h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_null(h_get_call(h, id)->error);
	assert_int_equal(h_core(h, "a")->origin, ORIGIN_BOOTED);
	h_free(h);
}

/* A crash right after the boot: counted twice (the replayed work re-enters "crashed"). */
static void test_r10_rescan_during_boot_crash(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nStart=no\nOnCrash=leave\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	snprintf(h->crash_after_start, sizeof(h->crash_after_start), "%s",
		 kmodel_sysname(h->km, dev));
	hook(h, RPROC_CMD_START);
	h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(h_core(h, "a")->crash_count, kmodel_crashes(h->km, dev));
	h_free(h);
}

/* Stop of a crashed core: the replayed "crashed" after the rescan's "offline" is a phantom crash. */
static void test_r11_rescan_during_stop(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nOnCrash=leave\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	manager_poll(h->m);
	h_settle(h, true);
	assert_int_equal(h_core(h, "a")->crash_count, 1);
	hook(h, RPROC_CMD_STOP);
	h_call(h, "a", "Stop", NULL);
	h_settle(h, true);
	assert_int_equal(h_core(h, "a")->crash_count, 1);
	h_free(h);
}

/* ---- waiting Requires= ---- */

/* b Requires=a, a configured, its driver never loads: READY=1 never comes (only the timeout). */
static void test_r12_waiting_requires_ready(void **state)
{
	struct harness *h = setup();

	core_file(h, "a", "[Core]\nFirmware=fw.elf\n");
	core_file(h, "b", "[Core]\nFirmware=fw.elf\nRequires=a\n");
	kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(h->ready);
	h_free(h);
}

/* ---- a driver reload whose events were lost: the same sysname, devpath and name ---- */
static void test_r13_rescan_driver_reload(void **state)
{
	struct harness *h = setup();
	int a, a2;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\n");
	a = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, a), RPROC_STATE_RUNNING);
	h_core(h, "a")->crash_count = 7; /* a marker: the old core's record */
	assert_int_equal(kmodel_remove(h->km, a), 0);
	a2 = kmodel_add(h->km, "a", 0);
	h_forget_device(h, kmodel_sysname(h->km, a2));
	manager_rescan(h->m);
	h_settle(h, true);
	/* As with the udev events seen: a new device, a first decision, booted, a new record. */
	assert_int_equal(kmodel_state(h->km, a2), RPROC_STATE_RUNNING);
	assert_int_equal(h_core(h, "a")->crash_count, 0);
	h_free(h);
}

/* R14: a BindLifetime= boot that finds the core brought up meanwhile binds it all the same. */
static void test_r14_bind_lifetime_came_up(void **state)
{
	struct harness *h = setup();
	struct kmodel_info info;
	int dev;

	core_file(h, "a", "[Core]\nFirmware=fw.elf\nBindLifetime=yes\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, false); /* the boot decided on "offline", its write not made yet */
	assert_int_equal(h_pending_works(h), 1);
	set_kernel_fw(h, dev, "fw.elf");
	kstart(h, dev); /* someone else boots it first */
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_info(h->km, dev, &info), 0);
	assert_true(info.shutdown_on_release);
	assert_int_equal(h->n_store, 1);
	assert_int_equal(info.n_start_while_up, 0);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r1_utf8_error_zero_replies),
		cmocka_unit_test(test_r1b_dropin_name),
		cmocka_unit_test(test_r2_reload_reply),
		cmocka_unit_test(test_r3_false_wedge),
		cmocka_unit_test(test_r4_double_limit),
		cmocka_unit_test(test_r5_awaiting_hole),
		cmocka_unit_test(test_r6_ready_on_reload),
		cmocka_unit_test(test_r7_hotplug_order),
		cmocka_unit_test(test_r8_reload_oncrash),
		cmocka_unit_test(test_r9_rescan_during_boot),
		cmocka_unit_test(test_r10_rescan_during_boot_crash),
		cmocka_unit_test(test_r11_rescan_during_stop),
		cmocka_unit_test(test_r12_waiting_requires_ready),
		cmocka_unit_test(test_r13_rescan_driver_reload),
		cmocka_unit_test(test_r14_bind_lifetime_came_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
