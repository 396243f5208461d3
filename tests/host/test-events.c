/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel log as rprocd's event source (daemon/kernel-events.c), on the
 * host against the kernel model, which prints what the remoteproc core
 * prints. The poll is an hour here: whatever the daemon learns, it learns
 * from the log (or from its own jobs).
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
#include "kernel-events.h"
#include "util.h"

static struct harness *start(const char *core_extra, unsigned flags, int *ret_dev)
{
	struct harness *h = NULL;
	_cleanup_free_ char *text = NULL;

	assert_int_equal(h_new_default(&h), 0);
	h->kmsg = true;
	text = strdup_printf("[Core]\nFirmware=fw.elf\nRestartSec=0\n%s", strempty(core_extra));
	assert_int_equal(h_core_file(h, "a", text), 0);
	*ret_dev = kmodel_add(h->km, "a", flags);
	assert_true(*ret_dev >= 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	return h;
}

static void assert_ok(struct harness *h)
{
	if (!h_check(h, true))
		fail_msg("invariant: %s", h->violation);
}

static unsigned crash_count(struct harness *h)
{
	return h_core(h, "a")->crash_count;
}

/* The kernel recovered the core before any read: only the log saw the crash. */
static void test_crash_recovered_before_any_read(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=kernel\n", 0, &dev);
	_cleanup_free_ char *reason = NULL, *st = NULL;

	(void) state;
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0); /* handled and recovered at once */
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	reason = h_get_property(h, "a", "CrashReason");
	assert_string_equal(reason, "watchdog");
	st = h_get_property(h, "a", "State");
	assert_string_equal(st, "running");
	assert_ok(h);
	h_free(h);
}

/* A read saw the crash first: its record is matched, not counted again. */
static void test_read_first_then_record(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=leave\n", 0, &dev);

	(void) state;
	assert_int_equal(kmodel_crash(h->km, dev, 2, 0), 0); /* recovery disabled: stays crashed */
	manager_poll(h->m); /* the read comes before the loop reads the log */
	assert_int_equal(crash_count(h), 1);
	assert_string_equal(h_core(h, "a")->crash_reason, "fatal error");
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	assert_ok(h);
	h_free(h);
}

/* Two crashes before the daemon looks: both counted, each with its own type. */
static void test_two_crashes_one_batch(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=kernel\n", 0, &dev);

	(void) state;
	assert_int_equal(kmodel_crash(h->km, dev, 0, 0), 0);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 2);
	assert_string_equal(h_core(h, "a")->crash_reason, "watchdog");
	assert_ok(h);
	h_free(h);
}

/* The record is there but the state reads running: a read in the kernel's recovery. */
static void test_crash_during_own_job(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=kernel\n", 0, &dev);

	(void) state;
	(void) h_call(h, "a", "Stop", NULL);
	h_settle(h, false); /* the stop is queued in the worker, not run */
	assert_int_equal(h_pending_works(h), 1);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0); /* crashed and recovered meanwhile */
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	assert_ok(h);
	h_free(h);
}

/* A crash just before the user's Stop ends it: counted, and not restarted behind the user. */
static void test_crash_then_own_stop(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=restart\n", 0, &dev);
	const struct h_call *call;
	unsigned id;

	(void) state;
	id = h_call(h, "a", "Stop", NULL);
	h_settle(h, false); /* the stop is queued in the worker, not run */
	assert_int_equal(h_pending_works(h), 1);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0); /* recovery disabled: crashed */
	h_settle(h, true);				     /* the stop stops the crashed core */
	call = h_get_call(h, id);
	assert_null(call->error);
	assert_int_equal(crash_count(h), 1);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_OFFLINE);
	assert_int_equal(h_core(h, "a")->state, RPROC_STATE_OFFLINE);
	assert_ok(h);
	h_free(h);
}

/* An overrun: the crash's records are lost, the re-read finds it crashed. */
static void test_overrun(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=leave\n", 0, &dev);
	int fd;

	(void) state;
	/* Nobody reads while the records are dropped. */
	fd = h->kmsg_wfd;
	h->kmsg_wfd = -1;
	assert_int_equal(kmodel_crash(h->km, dev, 0, 0), 0);
	h->kmsg_wfd = fd;
	h_kmsg_overrun(h);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	assert_true(h->m->kmsg_overruns == 1);
	/* The log keeps working: the next crash is counted from it. */
	assert_int_equal(h_call(h, "a", "Recover", NULL) > 0, 1);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_crash(h->km, dev, 2, 0), 0);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 2);
	assert_string_equal(h_core(h, "a")->crash_reason, "fatal error");
	h_free(h);
}

/* Recover taken by the kernel whose recovery failed (the driver's stop): an error, no crash. */
static void test_recover_that_failed(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=leave\n", 0, &dev);
	const struct h_call *call;
	unsigned id;

	(void) state;
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	assert_int_equal(kmodel_fail(h->km, dev, KMODEL_OP_STOP, 5), 0);
	id = h_call(h, "a", "Recover", NULL);
	h_settle(h, true);
	call = h_get_call(h, id);
	assert_int_equal(call->replies, 1);
	assert_non_null(call->error);
	assert_non_null(strstr(h_core(h, "a")->last_error, "still crashed"));
	assert_int_equal(crash_count(h), 1);
	assert_ok(h);
	h_free(h);
}

/* A stop that only dropped someone else's power reference of a crashed core. */
static void test_stop_crashed_second_reference(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=leave\n", 0, &dev);
	const struct h_call *call;
	unsigned id;

	(void) state;
	assert_int_equal(h_external_request(h, dev, RPROC_CMD_START), 0); /* power 2 */
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_settle(h, true);
	id = h_call(h, "a", "Stop", NULL);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_CRASHED);
	call = h_get_call(h, id);
	assert_non_null(call->error);
	assert_non_null(strstr(h_core(h, "a")->last_error, "still crashed"));
	h_free(h);
}

/* Crashed, masked before its restart, unmasked: OnCrash=restart applies as at start-up. */
static void test_unmask_crashed(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=restart\n", 0, &dev);

	(void) state;
	/* Counted while managed (the restart armed), masked before the restart runs. */
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	manager_poll(h->m);
	assert_int_equal(crash_count(h), 1);
	assert_int_equal(h_mask_core(h, "a"), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_CRASHED);
	assert_int_equal(
		h_core_file(h, "a", "[Core]\nFirmware=fw.elf\nRestartSec=0\nOnCrash=restart\n"), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, dev), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* A driver reload under the same number: the old device's records are not the new one's. */
static void test_records_of_replaced_device(void **state)
{
	int dev;
	struct harness *h = start("OnCrash=leave\n", 0, &dev);
	struct rproc_device *d = NULL;
	int dev2;

	(void) state;
	/* The crash is handled (its records printed), then the device goes at once. */
	assert_int_equal(kmodel_crash(h->km, dev, 1, KMODEL_CRASH_HOLD_RECOVERY), 0);
	assert_int_equal(kmodel_remove(h->km, dev), 0);
	dev2 = kmodel_add(h->km, "a", 0);
	assert_string_equal(kmodel_sysname(h->km, dev2), kmodel_sysname(h->km, dev));
	/* udev's events come before the loop reads the log. */
	manager_remove_device(h->m, kmodel_sysname(h->km, dev2));
	h_forget_device(h, kmodel_sysname(h->km, dev2));
	assert_int_equal(rproc_device_new(h->m->ctx, kmodel_sysname(h->km, dev2), &d), 0);
	assert_int_equal(manager_add_device(h->m, d), 0);
	rproc_device_unref(d);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 0);
	assert_null(h_core(h, "a")->crash_reason);
	assert_ok(h);
	h_free(h);
}

/* The poll: 30 s with the log, 500 ms without, none with PollIntervalSec=no. */
static void test_poll_interval(void **state)
{
	int dev;
	struct harness *h = NULL;
	_cleanup_strv_free_ char **sources = NULL;

	(void) state;
	assert_int_equal(h_new(&h), 0);
	h->kmsg = true;
	assert_int_equal(h_write_file(h, "/etc/rprocd/rprocd.conf", "[Daemon]\n"), 0);
	assert_int_equal(h_write_firmware(h, "fw.elf"), 0);
	assert_int_equal(h_core_file(h, "a", "[Core]\nFirmware=fw.elf\n"), 0);
	dev = kmodel_add(h->km, "a", 0);
	assert_true(dev >= 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(manager_poll_interval(h->m) == 30 * 1000000ULL);
	sources = manager_event_sources(h->m);
	assert_true(strv_contains(sources, "kmsg"));
	assert_true(strv_contains(sources, "poll"));
	assert_false(strv_contains(sources, "sysfs")); /* a plain file: never notified */
	h_daemon_kill(h);

	h->kmsg = false;
	assert_int_equal(h_daemon_start(h), 0);
	assert_true(manager_poll_interval(h->m) == 500 * 1000ULL);
	h_daemon_kill(h);

	h->kmsg = true;
	assert_int_equal(
		h_write_file(h, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=no\n"), 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(manager_poll_interval(h->m) == UINT64_MAX);
	/* No poll, and the crash is still seen. */
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_settle(h, true);
	assert_int_equal(crash_count(h), 1);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_recovered_before_any_read),
		cmocka_unit_test(test_read_first_then_record),
		cmocka_unit_test(test_two_crashes_one_batch),
		cmocka_unit_test(test_crash_during_own_job),
		cmocka_unit_test(test_crash_then_own_stop),
		cmocka_unit_test(test_overrun),
		cmocka_unit_test(test_recover_that_failed),
		cmocka_unit_test(test_stop_crashed_second_reference),
		cmocka_unit_test(test_unmask_crashed),
		cmocka_unit_test(test_records_of_replaced_device),
		cmocka_unit_test(test_poll_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
