/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "librproc.h"

static void test_state_words(void **state)
{
	(void)state;
	assert_int_equal(rproc_state_from_string("offline"), RPROC_STATE_OFFLINE);
	assert_int_equal(rproc_state_from_string("running\n"), RPROC_STATE_RUNNING);
	assert_int_equal(rproc_state_from_string("detached"), RPROC_STATE_DETACHED);
	assert_int_equal(rproc_state_from_string("bogus"), RPROC_STATE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
