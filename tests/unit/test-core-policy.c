/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocd's decisions that need no kernel: first-seen action, methods per state, start limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core-policy.h"

static void test_first_action_auto(void **state)
{
	(void) state;
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_OFFLINE), ACTION_BOOT);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_DETACHED), ACTION_ATTACH);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_RUNNING), ACTION_ADOPT);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_ATTACHED), ACTION_ADOPT);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_CRASHED), ACTION_NONE);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_INVALID), ACTION_NONE);
	assert_int_equal(core_first_action(RPROC_START_AUTO, RPROC_STATE_DELETED), ACTION_NONE);
}

static void test_first_action_policies(void **state)
{
	(void) state;
	/* attach: never boot */
	assert_int_equal(core_first_action(RPROC_START_ATTACH, RPROC_STATE_OFFLINE), ACTION_NONE);
	assert_int_equal(core_first_action(RPROC_START_ATTACH, RPROC_STATE_DETACHED),
			 ACTION_ATTACH);
	assert_int_equal(core_first_action(RPROC_START_ATTACH, RPROC_STATE_RUNNING), ACTION_ADOPT);
	/* boot: boot or adopt */
	assert_int_equal(core_first_action(RPROC_START_BOOT, RPROC_STATE_OFFLINE), ACTION_BOOT);
	assert_int_equal(core_first_action(RPROC_START_BOOT, RPROC_STATE_RUNNING), ACTION_ADOPT);
	/* no: nothing, whatever the state */
	for (int s = 0; s < _RPROC_STATE_MAX; s++)
		assert_int_equal(core_first_action(RPROC_START_NO, (enum rproc_state) s),
				 ACTION_NONE);
}

static void test_start_writes_only_from_offline_or_detached(void **state)
{
	(void) state;
	/* The refcount trap: "start" on a running core pins a reference. Never write it. */
	for (int s = 0; s < _RPROC_STATE_MAX; s++) {
		enum core_action a =
			core_method_action(METHOD_START, (enum rproc_state) s, RPROC_STOP_SHUTDOWN);

		if (a == ACTION_BOOT)
			assert_int_equal(s, RPROC_STATE_OFFLINE);
		if (a == ACTION_ATTACH)
			assert_int_equal(s, RPROC_STATE_DETACHED);
	}
	assert_int_equal(core_method_action(METHOD_START, RPROC_STATE_RUNNING, RPROC_STOP_SHUTDOWN),
			 ACTION_NONE);
	assert_int_equal(core_method_action(METHOD_START, RPROC_STATE_CRASHED, RPROC_STOP_SHUTDOWN),
			 ACTION_RECOVER);
	assert_int_equal(core_method_action(METHOD_START, RPROC_STATE_DELETED, RPROC_STOP_SHUTDOWN),
			 ACTION_REFUSE);
}

static void test_stop_detach_attach(void **state)
{
	(void) state;
	assert_int_equal(core_method_action(METHOD_STOP, RPROC_STATE_ATTACHED, RPROC_STOP_DETACH),
			 ACTION_DETACH);
	assert_int_equal(core_method_action(METHOD_STOP, RPROC_STATE_ATTACHED, RPROC_STOP_SHUTDOWN),
			 ACTION_STOP);
	assert_int_equal(core_method_action(METHOD_STOP, RPROC_STATE_RUNNING, RPROC_STOP_DETACH),
			 ACTION_STOP);
	assert_int_equal(core_method_action(METHOD_STOP, RPROC_STATE_OFFLINE, RPROC_STOP_SHUTDOWN),
			 ACTION_NONE);
	assert_int_equal(core_method_action(METHOD_STOP, RPROC_STATE_CRASHED, RPROC_STOP_SHUTDOWN),
			 ACTION_STOP);
	/* A core Linux booted cannot be detached. */
	assert_int_equal(
		core_method_action(METHOD_DETACH, RPROC_STATE_RUNNING, RPROC_STOP_SHUTDOWN),
		ACTION_REFUSE);
	assert_int_equal(
		core_method_action(METHOD_DETACH, RPROC_STATE_ATTACHED, RPROC_STOP_SHUTDOWN),
		ACTION_DETACH);
	assert_int_equal(
		core_method_action(METHOD_DETACH, RPROC_STATE_DETACHED, RPROC_STOP_SHUTDOWN),
		ACTION_NONE);
	assert_int_equal(
		core_method_action(METHOD_ATTACH, RPROC_STATE_OFFLINE, RPROC_STOP_SHUTDOWN),
		ACTION_REFUSE);
	assert_int_equal(
		core_method_action(METHOD_ATTACH, RPROC_STATE_DETACHED, RPROC_STOP_SHUTDOWN),
		ACTION_ATTACH);
	assert_int_equal(
		core_method_action(METHOD_RECOVER, RPROC_STATE_RUNNING, RPROC_STOP_SHUTDOWN),
		ACTION_REFUSE);
	assert_int_equal(
		core_method_action(METHOD_RECOVER, RPROC_STATE_CRASHED, RPROC_STOP_SHUTDOWN),
		ACTION_RECOVER);
}

static void test_exit_actions(void **state)
{
	(void) state;
	assert_int_equal(core_exit_action(RPROC_EXIT_LEAVE, RPROC_STATE_RUNNING), ACTION_NONE);
	assert_int_equal(core_exit_action(RPROC_EXIT_STOP, RPROC_STATE_RUNNING), ACTION_STOP);
	assert_int_equal(core_exit_action(RPROC_EXIT_STOP, RPROC_STATE_OFFLINE), ACTION_NONE);
	assert_int_equal(core_exit_action(RPROC_EXIT_DETACH, RPROC_STATE_ATTACHED), ACTION_DETACH);
	/* Detach on exit leaves a booted core running rather than stopping it. */
	assert_int_equal(core_exit_action(RPROC_EXIT_DETACH, RPROC_STATE_RUNNING), ACTION_NONE);
}

static void test_state_classes(void **state)
{
	(void) state;
	assert_true(core_state_can_change(RPROC_STATE_RUNNING));
	assert_true(core_state_can_change(RPROC_STATE_ATTACHED));
	assert_true(core_state_can_change(RPROC_STATE_CRASHED));
	assert_false(core_state_can_change(RPROC_STATE_OFFLINE));
	assert_false(core_state_can_change(RPROC_STATE_DETACHED));
	assert_true(core_state_is_up(RPROC_STATE_ATTACHED));
	assert_false(core_state_is_up(RPROC_STATE_CRASHED));
	assert_true(core_kernel_recovery_enabled(RPROC_CRASH_KERNEL));
	assert_false(core_kernel_recovery_enabled(RPROC_CRASH_RESTART));
	assert_false(core_kernel_recovery_enabled(RPROC_CRASH_LEAVE));
}

static void test_start_limit(void **state)
{
	struct start_limit l = { .interval_usec = 10000000, .burst = 3 };
	uint64_t t = 1000000;

	(void) state;
	assert_true(start_limit_test(&l, t));
	assert_true(start_limit_test(&l, t + 1));
	assert_true(start_limit_test(&l, t + 2));
	assert_false(start_limit_test(&l, t + 3));
	assert_false(start_limit_test(&l, t + 9000000));
	/* After the interval the window starts over. */
	assert_true(start_limit_test(&l, t + 10000001));
	start_limit_reset(&l);
	assert_true(start_limit_test(&l, t + 10000002));
	assert_true(start_limit_test(&l, t + 10000003));
	assert_true(start_limit_test(&l, t + 10000004));
	assert_false(start_limit_test(&l, t + 10000005));

	/* No interval: no limit. */
	l = (struct start_limit){ .interval_usec = 0, .burst = 1 };
	for (int i = 0; i < 10; i++)
		assert_true(start_limit_test(&l, t + (uint64_t) i));
}

static void test_names(void **state)
{
	(void) state;
	assert_string_equal(core_origin_to_string(ORIGIN_BOOTED), "booted");
	assert_string_equal(core_origin_to_string(ORIGIN_ADOPTED), "adopted");
	assert_string_equal(core_origin_to_string(ORIGIN_NONE), "");
	assert_string_equal(core_action_to_string(ACTION_ATTACH), "attach");
	assert_string_equal(core_method_to_string(METHOD_RECOVER), "Recover");
	assert_null(core_action_to_string(_ACTION_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_action_auto),
		cmocka_unit_test(test_first_action_policies),
		cmocka_unit_test(test_start_writes_only_from_offline_or_detached),
		cmocka_unit_test(test_stop_detach_attach),
		cmocka_unit_test(test_exit_actions),
		cmocka_unit_test(test_state_classes),
		cmocka_unit_test(test_start_limit),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
