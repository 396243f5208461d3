/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librproc's public structs look the same to a caller whatever it sets of
 * _FILE_OFFSET_BITS and _TIME_BITS: on 32-bit hosts (armhf) those change
 * off_t, ino_t and time_t, and librproc is built with both set to 64
 * (meson.build). A struct member of one of those types would make the
 * installed library read a caller's struct at the wrong offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "abi-layout.h"

static void test_flags_in_effect(void **state)
{
	(void) state;
	/* The library's own view: large files and a time_t past 2038 on every host. */
	assert_int_equal(sizeof(off_t), 8);
	assert_int_equal(sizeof(time_t), 8);
}

static void test_same_layout(void **state)
{
	const struct abi_entry *b = abi_layout_built, *p = abi_layout_plain;

	(void) state;
	print_message("plain caller: off_t %zu, time_t %zu bytes\n", p[0].a, p[0].b);
	for (b++, p++; b->what; b++, p++) {
		assert_non_null(p->what);
		assert_string_equal(b->what, p->what);
		print_message("%s: %zu %zu (plain caller: %zu %zu)\n", b->what, b->a, b->b, p->a,
			      p->b);
		assert_int_equal(b->a, p->a);
		assert_int_equal(b->b, p->b);
	}
	assert_null(p->what);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_in_effect),
		cmocka_unit_test(test_same_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
