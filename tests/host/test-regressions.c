/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Regression tests for the defects an outside review found on 135ac7b, each
 * on the host against the kernel model. Each one failed there (segfault,
 * lost crash, wrong dependency result, stale fd, …) and passes now.
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

static void core_file(struct harness *h, const char *name, const char *extra)
{
	_cleanup_free_ char *text =
		strdup_printf("[Core]\nFirmware=fw.elf\nRestartSec=0\n%s", extra ? extra : "");

	assert_int_equal(h_core_file(h, name, text), 0);
}

static enum rproc_state state_of(struct harness *h, int id)
{
	return kmodel_state(h->km, id);
}

static void assert_ok(struct harness *h)
{
	if (!h_check(h, true))
		fail_msg("invariant: %s", h->violation);
}

/* (1) Restart in flight, its NAME.core deleted, reload: the second half is answered, no crash. */
static void test_reload_during_restart(void **state)
{
	struct harness *h = setup();
	const struct h_call *call;
	unsigned id;
	int dev;

	core_file(h, "a", NULL);
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);

	id = h_call(h, "a", "Restart", NULL);
	h_settle(h, false); /* the stop is written, not finished */
	assert_int_equal(h_pending_works(h), 1);
	h_run_work(h, 0); /* stopped: the second half is queued */
	assert_int_equal(h_remove_file(h, "/etc/rprocd/cores/a.core"), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	call = h_get_call(h, id);
	assert_int_equal(call->replies, 1);
	assert_string_equal(call->error, BUS_ERROR_NOT_MANAGED);
	assert_false(core_is_managed(h_core(h, "a")));
	assert_ok(h);
	h_free(h);
}

/* (1) The same with the job still queued behind a slow one, and for a first boot. */
static void test_reload_with_queued_jobs(void **state)
{
	struct harness *h = setup();
	unsigned a, b;

	core_file(h, "a", NULL);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, false); /* first boot: work pending */
	a = h_call(h, "a", "Stop", NULL);
	b = h_call(h, "a", "Start", NULL);
	h_settle(h, false);
	assert_int_equal(h_remove_file(h, "/etc/rprocd/cores/a.core"), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(h_get_call(h, a)->replies, 1);
	assert_int_equal(h_get_call(h, b)->replies, 1);
	assert_string_equal(h_get_call(h, b)->error, BUS_ERROR_NOT_MANAGED);
	assert_ok(h);
	h_free(h);
}

/* (2) A reload adds a Start=no core while another waits on Requires= for a slow boot. */
static void test_reload_start_no_while_waiting(void **state)
{
	struct harness *h = setup();
	int da, db;

	core_file(h, "a", NULL);
	core_file(h, "b", "Requires=a\n");
	da = kmodel_add(h->km, "a", 0);
	db = kmodel_add(h->km, "b", 0);
	kmodel_add(h->km, "c", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, false); /* a's boot is slow: b waits */
	assert_int_equal(h_core(h, "b")->dep, DEP_WAITING);
	core_file(h, "c", "Start=no\n");
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, da), RPROC_STATE_RUNNING);
	assert_int_equal(state_of(h, db), RPROC_STATE_RUNNING);
	assert_true(core_is_managed(h_core(h, "c")));
	assert_ok(h);
	h_free(h);
}

/* (3) A reload adds a core whose Requires=/After= name a core enumerated after it. */
static void test_reload_requires_later_core(void **state)
{
	struct harness *h = setup();
	int da, db;

	da = kmodel_add(h->km, "a", 0); /* remoteproc0 */
	db = kmodel_add(h->km, "b", 0); /* remoteproc1 */
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, db), RPROC_STATE_OFFLINE);
	/* A reload brings a (earlier) requiring b (later), and b. */
	core_file(h, "a", "Requires=b\nAfter=b\n");
	core_file(h, "b", NULL);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_null(h_core(h, "a")->last_error);
	assert_int_equal(state_of(h, db), RPROC_STATE_RUNNING);
	assert_int_equal(state_of(h, da), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* (4) A crash right after start, seen first by the worker's read-back, is counted and handled. */
static void test_crash_seen_by_job(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "OnCrash=restart\nStartLimitBurst=2\nStartLimitIntervalSec=1h\n");
	dev = kmodel_add(h->km, "a", 0);
	snprintf(h->crash_after_start, sizeof(h->crash_after_start), "%s",
		 kmodel_sysname(h->km, dev));
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	/* Every boot crashes at once: counted each time, restarted until the limit. */
	assert_int_equal(h_core(h, "a")->crash_count, 3);
	assert_true(h_core(h, "a")->start_limit_hit);
	assert_int_equal(state_of(h, dev), RPROC_STATE_CRASHED);
	/* Fixed firmware: Start resets the limit, the core runs. */
	h->crash_after_start[0] = 0;
	h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* (4) A crash then at once a reload (its job reads the state first): counted, restarted. */
static void test_crash_then_reload(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "OnCrash=restart\n");
	dev = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(h_core(h, "a")->crash_count, 1);
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);
	/* And a crash seen by a method's job (SetFirmware reads the state when it begins). */
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	h_call(h, "a", "SetFirmware", "fw2.elf");
	h_settle(h, true);
	assert_int_equal(h_core(h, "a")->crash_count, 2);
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* (6) A non-UTF-8 firmware name in sysfs breaks neither GetManagedObjects nor the signals. */
static void test_non_utf8_sysfs_value(void **state)
{
	struct harness *h = setup();
	_cleanup_strv_free_ char **names = NULL, **states = NULL;
	int id;

	core_file(h, "a", "Start=no\n");
	id = kmodel_add(h->km, "a", 0);
	kmodel_add(h->km, "b", 0);
	/* Another root tool writes a name that is not UTF-8. */
	assert_int_equal(h_daemon_start(h), 0);
	assert_int_equal(h_external_firmware(h, id, "bad-\xff\xfe.elf"), 0);
	manager_rescan(h->m);
	h_settle(h, true);
	assert_int_equal(h_managed_objects(h, &names, &states), 0);
	assert_int_equal(strv_length(names), 2);
	assert_ok(h);
	h_free(h);
}

/* (7) Events lost (the monitor overran): a rescan finds what came and went. */
static void test_rescan_after_lost_events(void **state)
{
	struct harness *h = setup();
	int a, b;

	core_file(h, "a", NULL);
	core_file(h, "b", NULL);
	a = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	/* Unseen: a goes, b comes, a comes back under a new device. */
	assert_int_equal(kmodel_remove(h->km, a), 0);
	b = kmodel_add(h->km, "b", 0);
	a = kmodel_add(h->km, "a", 0);
	h_forget_device(h, kmodel_sysname(h->km, a));
	manager_rescan(h->m);
	h_settle(h, true);
	assert_non_null(h_core(h, "b"));
	assert_int_equal(state_of(h, b), RPROC_STATE_RUNNING);
	assert_int_equal(state_of(h, a), RPROC_STATE_RUNNING);
	assert_ok(h);
	h_free(h);
}

/* (8a) BindLifetime=: an old chardev closed after a new boot must not stop the new boot. */
static void test_bind_lifetime_old_fd(void **state)
{
	struct harness *h = setup();
	int id;

	core_file(h, "a", "BindLifetime=yes\n");
	id = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, id), RPROC_STATE_RUNNING);
	/* Someone else stops it; rprocd is asked to start it again. */
	assert_int_equal(h_external_request(h, id, RPROC_CMD_STOP), 0);
	manager_poll(h->m);
	h_settle(h, true);
	h_call(h, "a", "Start", NULL);
	h_settle(h, true);
	assert_int_equal(state_of(h, id), RPROC_STATE_RUNNING);
	assert_int_equal(h->n_store, 1);
	/* A restart of the service keeps it up; a stop of the core empties the store. */
	h_daemon_kill(h);
	assert_int_equal(state_of(h, id), RPROC_STATE_RUNNING);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(h->n_store, 1);
	h_call(h, "a", "Stop", NULL);
	h_settle(h, true);
	assert_int_equal(state_of(h, id), RPROC_STATE_OFFLINE);
	assert_int_equal(h->n_store, 0);
	assert_ok(h);
	h_free(h);
}

/* (8b) A removed core's chardev leaves the fd store. */
static void test_bind_lifetime_removed(void **state)
{
	struct harness *h = setup();
	_cleanup_free_ char *sysname = NULL;
	int id;

	core_file(h, "a", "BindLifetime=yes\n");
	id = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(h->n_store, 1);
	sysname = strdup(kmodel_sysname(h->km, id));
	assert_int_equal(kmodel_remove(h->km, id), 0);
	manager_remove_device(h->m, sysname);
	h_settle(h, true);
	assert_int_equal(h->n_store, 0);
	h_free(h);
}

/* (8c) A stored fd of a device that went away is not taken for the one reusing its number. */
static void test_bind_lifetime_reused_number(void **state)
{
	struct harness *h = setup();
	struct kmodel_info info;
	int id, id2;

	core_file(h, "a", "BindLifetime=yes\n");
	id = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(h->n_store, 1);
	h_daemon_kill(h);
	/*
	 * While rprocd is down the device goes and another comes. (The kernel
	 * keeps remoteproc0 taken while the store holds its chardev open: the
	 * cdev pins the rproc device, so the newcomer is remoteproc1 — the
	 * stale fd must still leave the store, and never be taken for it.)
	 */
	assert_int_equal(kmodel_remove(h->km, id), 0);
	id2 = kmodel_add(h->km, "a", 0);
	h_forget_device(h, kmodel_sysname(h->km, id2));
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, id2), RPROC_STATE_RUNNING);
	/* The stale fd left the store; the new boot stored its own. */
	assert_int_equal(h->n_store, 1);
	assert_int_equal(kmodel_info(h->km, id2, &info), 0);
	assert_true(info.shutdown_on_release);
	assert_ok(h);
	h_free(h);
}

/* (10) One hung kernel write does not hold READY=1 hostage. */
static void test_ready_not_hostage(void **state)
{
	struct harness *h = setup();

	core_file(h, "a", NULL);
	core_file(h, "b", NULL);
	kmodel_add(h->km, "a", 0);
	kmodel_add(h->km, "b", 0);
	h->ready_timeout_usec = 1500000; /* long enough that settling never outlasts it */
	assert_int_equal(h_daemon_start(h), 0);
	/* Run b's boot only: a's write hangs. */
	h_settle(h, false);
	assert_int_equal(h_pending_works(h), 2);
	h_run_work(h, 1);
	h_settle(h, false);
	assert_false(h->ready);
	for (int i = 0; i < 1000 && !h->ready; i++)
		(void) sd_event_run(h->m->event, 10000);
	assert_true(h->ready);
	assert_int_equal(h_pending_works(h), 1);
	h_settle(h, true);
	assert_ok(h);
	h_free(h);
}

/* (12) A SIGHUP during shutdown queues no first boot. */
static void test_reload_during_shutdown(void **state)
{
	struct harness *h = setup();
	int id;

	core_file(h, "a", "Start=no\n");
	id = kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	manager_begin_exit(h->m);
	core_file(h, "a", NULL); /* would boot it */
	assert_int_equal(h_reload(h), -ESHUTDOWN);
	assert_int_equal(h_daemon_stop(h), 0);
	assert_int_equal(state_of(h, id), RPROC_STATE_OFFLINE);
	h_free(h);
}

/* The same logic with real worker threads (as rprocd runs): boot, crash, restart, stop. */
static void test_worker_threads(void **state)
{
	struct harness *h = setup();
	int dev;

	core_file(h, "a", "OnCrash=restart\nCoredump=enabled\nCoredumpDirectory=/var/dumps\n");
	dev = kmodel_add(h->km, "a", 0);
	h->threads = true;
	assert_int_equal(h_daemon_start(h), 0);
	assert_true(h_wait_idle(h));
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);
	assert_true(h->ready);
	assert_int_equal(kmodel_crash(h->km, dev, 1, 0), 0);
	manager_poll(h->m);
	assert_true(h_wait_idle(h));
	h_deliver_dumps(h);
	assert_true(h_wait_idle(h));
	h_deliver_dumps(h);
	assert_int_equal(state_of(h, dev), RPROC_STATE_RUNNING);
	assert_int_equal(h_core(h, "a")->crash_count, 1);
	assert_non_null(h_core(h, "a")->last_coredump);
	h_call(h, "a", "Stop", NULL);
	assert_true(h_wait_idle(h));
	assert_int_equal(state_of(h, dev), RPROC_STATE_OFFLINE);
	assert_int_equal(h_daemon_stop(h), 0);
	h_free(h);
}

/* The manager's own methods: ListCores, GetCore, Reload, and an unknown core. */
static void test_manager_methods(void **state)
{
	struct harness *h = setup();
	unsigned a, b, c;

	core_file(h, "a", NULL);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	a = h_call_manager(h, "ListCores");
	b = h_call_manager(h, "Reload");
	c = h_call(h, "nosuch", "Start", NULL);
	h_settle(h, true);
	assert_null(h_get_call(h, a)->error);
	assert_null(h_get_call(h, b)->error);
	assert_non_null(h_get_call(h, c)->error);
	assert_int_equal(h->n_reloading, 1);
	assert_ok(h);
	h_free(h);
}

/* A dependency that failed is judged again by a reload that fixes it (session 4). */
static void test_reload_fixes_failed_dependency(void **state)
{
	struct harness *h = setup();
	int a, b;

	(void) state;
	core_file(h, "a", "Requires=b\n");
	a = kmodel_add(h->km, "a", 0);
	b = kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, a), RPROC_STATE_OFFLINE);
	assert_non_null(h_core(h, "a")->last_error);
	core_file(h, "b", NULL);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, b), RPROC_STATE_RUNNING);
	assert_int_equal(state_of(h, a), RPROC_STATE_RUNNING);
	assert_null(h_core(h, "a")->last_error);
	assert_ok(h);
	h_free(h);
}

/* A kernel failure survives a reload; a configuration error does not (session 4). */
static void test_reload_keeps_kernel_failure(void **state)
{
	struct harness *h = setup();
	int a;

	(void) state;
	core_file(h, "a", NULL);
	a = kmodel_add(h->km, "a", 0);
	assert_int_equal(kmodel_fail(h->km, a, KMODEL_OP_START, 5), 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, a), RPROC_STATE_OFFLINE);
	assert_non_null(h_core(h, "a")->last_error);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_non_null(h_core(h, "a")->last_error);
	h_free(h);
}

/*
 * A reload where a later core's two files conflict and an earlier one's do
 * not: the conflict texts were held in a sparse array freed as a strv, which
 * stops at the first NULL (LeakSanitizer in the VM's config suite, session 5).
 */
static void test_reload_conflict_after_clean_core(void **state)
{
	struct harness *h = setup();
	int a, b;

	(void) state;
	core_file(h, "a", NULL);
	core_file(h, "b", NULL);
	a = kmodel_add(h->km, "a", 0);
	b = kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(state_of(h, b), RPROC_STATE_RUNNING);
	core_file(h, "other-b", "[Match]\nName=b\n");
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_null(h_core(h, "a")->last_error);
	assert_non_null(h_core(h, "b")->last_error);
	assert_non_null(strstr(h_core(h, "b")->last_error, "both match"));
	assert_int_equal(state_of(h, a), RPROC_STATE_RUNNING);
	assert_int_equal(state_of(h, b), RPROC_STATE_RUNNING);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_during_restart),
		cmocka_unit_test(test_reload_with_queued_jobs),
		cmocka_unit_test(test_reload_start_no_while_waiting),
		cmocka_unit_test(test_reload_requires_later_core),
		cmocka_unit_test(test_crash_seen_by_job),
		cmocka_unit_test(test_crash_then_reload),
		cmocka_unit_test(test_non_utf8_sysfs_value),
		cmocka_unit_test(test_rescan_after_lost_events),
		cmocka_unit_test(test_bind_lifetime_old_fd),
		cmocka_unit_test(test_bind_lifetime_removed),
		cmocka_unit_test(test_bind_lifetime_reused_number),
		cmocka_unit_test(test_ready_not_hostage),
		cmocka_unit_test(test_reload_during_shutdown),
		cmocka_unit_test(test_worker_threads),
		cmocka_unit_test(test_manager_methods),
		cmocka_unit_test(test_reload_fixes_failed_dependency),
		cmocka_unit_test(test_reload_keeps_kernel_failure),
		cmocka_unit_test(test_reload_conflict_after_clean_core),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
