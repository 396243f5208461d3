/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "librproc.h"

static void test_every_state_round_trips(void **state)
{
	(void) state;
	for (int s = 0; s < _RPROC_STATE_MAX; s++) {
		const char *w = rproc_state_to_string((enum rproc_state) s);

		assert_non_null(w);
		assert_int_equal(rproc_state_from_string(w), s);
	}
}

static void test_kernel_words(void **state)
{
	(void) state;
	assert_int_equal(rproc_state_from_string("offline\n"), RPROC_STATE_OFFLINE);
	assert_int_equal(rproc_state_from_string("suspended\n"), RPROC_STATE_SUSPENDED);
	assert_int_equal(rproc_state_from_string("running\n"), RPROC_STATE_RUNNING);
	assert_int_equal(rproc_state_from_string("crashed\n"), RPROC_STATE_CRASHED);
	assert_int_equal(rproc_state_from_string("deleted\n"), RPROC_STATE_DELETED);
	assert_int_equal(rproc_state_from_string("attached\n"), RPROC_STATE_ATTACHED);
	assert_int_equal(rproc_state_from_string("detached \n"), RPROC_STATE_DETACHED);
	assert_int_equal(rproc_state_from_string("invalid\n"), RPROC_STATE_INVALID);
}

static void test_unknown_is_invalid(void **state)
{
	(void) state;
	assert_int_equal(rproc_state_from_string(NULL), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string(""), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string("\n"), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string("runningx"), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string("run"), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string(" running"), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string("RUNNING"), RPROC_STATE_INVALID);
	assert_int_equal(rproc_state_from_string("running\nx"), RPROC_STATE_INVALID);
	assert_string_equal(rproc_state_to_string((enum rproc_state) 99), "invalid");
	assert_string_equal(rproc_state_to_string((enum rproc_state) - 1), "invalid");
}

static void test_coredump_and_command_words(void **state)
{
	(void) state;
	assert_int_equal(rproc_coredump_mode_from_string("inline\n"), RPROC_COREDUMP_INLINE);
	assert_int_equal(rproc_coredump_mode_from_string("enabled"), RPROC_COREDUMP_ENABLED);
	assert_int_equal(rproc_coredump_mode_from_string("disabled"), RPROC_COREDUMP_DISABLED);
	assert_int_equal(rproc_coredump_mode_from_string("on"), RPROC_COREDUMP_INVALID);
	assert_null(rproc_coredump_mode_to_string(RPROC_COREDUMP_INVALID));
	assert_string_equal(rproc_command_to_string(RPROC_CMD_START), "start");
	assert_string_equal(rproc_command_to_string(RPROC_CMD_STOP), "stop");
	assert_string_equal(rproc_command_to_string(RPROC_CMD_DETACH), "detach");
	assert_null(rproc_command_to_string(_RPROC_CMD_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_round_trips),
		cmocka_unit_test(test_kernel_words),
		cmocka_unit_test(test_unknown_is_invalid),
		cmocka_unit_test(test_coredump_and_command_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
