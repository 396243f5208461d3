/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "librproc.h"

static void test_booleans(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "on", "1", "y", "t" };
	static const char *const no[] = { "no", "No", "false", "off", "0", "n", "f" };

	(void) state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(rproc_parse_boolean(yes[i]), 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(rproc_parse_boolean(no[i]), 0);
	assert_int_equal(rproc_parse_boolean("maybe"), -EINVAL);
	assert_int_equal(rproc_parse_boolean(""), -EINVAL);
	assert_int_equal(rproc_parse_boolean("2"), -EINVAL);
	assert_int_equal(rproc_parse_boolean(NULL), -EINVAL);
}

static void check_span(const char *s, rproc_usec_t want)
{
	rproc_usec_t v = 12345;

	assert_int_equal(rproc_parse_timespan(s, &v), 0);
	assert_true(v == want);
}

static void test_timespans(void **state)
{
	rproc_usec_t v = 7;

	(void) state;
	check_span("500ms", 500000);
	check_span("2s", 2000000);
	check_span("2", 2000000);
	check_span("1min", 60000000);
	check_span("1m", 60000000);
	check_span("1min 30s", 90000000);
	check_span("1.5s", 1500000);
	check_span("0.25 s", 250000);
	check_span("10us", 10);
	check_span("3 msec", 3000);
	check_span("1h", 3600000000ULL);
	check_span("2d", 172800000000ULL);
	check_span("0", 0);
	check_span("infinity", RPROC_USEC_INFINITY);

	assert_int_equal(rproc_parse_timespan("", &v), -EINVAL);
	assert_int_equal(rproc_parse_timespan("fast", &v), -EINVAL);
	assert_int_equal(rproc_parse_timespan("5 parsecs", &v), -EINVAL);
	assert_int_equal(rproc_parse_timespan("-1s", &v), -EINVAL);
	assert_int_equal(rproc_parse_timespan("1sx", &v), -EINVAL);
	assert_int_equal(rproc_parse_timespan("99999999999999999999999s", &v), -ERANGE);
	assert_int_equal(rproc_parse_timespan("9999999999999w", &v), -ERANGE);
	assert_true(v == 7); /* untouched on failure */
}

static void test_format_timespan(void **state)
{
	char buf[64];

	(void) state;
	assert_string_equal(rproc_format_timespan(buf, sizeof(buf), 500000), "500ms");
	assert_string_equal(rproc_format_timespan(buf, sizeof(buf), 90000000), "1min 30s");
	assert_string_equal(rproc_format_timespan(buf, sizeof(buf), 0), "0");
	assert_string_equal(rproc_format_timespan(buf, sizeof(buf), RPROC_USEC_INFINITY),
			    "infinity");
	assert_string_equal(rproc_format_timespan(buf, sizeof(buf), 1500), "1ms 500us");
}

static void test_sizes(void **state)
{
	uint64_t v = 0;

	(void) state;
	assert_int_equal(rproc_parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(rproc_parse_size("512K", &v), 0);
	assert_true(v == 512 * 1024);
	assert_int_equal(rproc_parse_size("64M", &v), 0);
	assert_true(v == 64ULL << 20);
	assert_int_equal(rproc_parse_size("2G", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(rproc_parse_size("1MiB", &v), 0);
	assert_true(v == 1ULL << 20);
	assert_int_equal(rproc_parse_size("3k", &v), 0);
	assert_true(v == 3072);
	assert_int_equal(rproc_parse_size("10B", &v), 0);
	assert_true(v == 10);
	assert_int_equal(rproc_parse_size("", &v), -EINVAL);
	assert_int_equal(rproc_parse_size("-1", &v), -EINVAL);
	assert_int_equal(rproc_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(rproc_parse_size("1M2", &v), -EINVAL);
	assert_int_equal(rproc_parse_size("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(rproc_parse_size("20000000000E", &v), -ERANGE);
}

static void test_unsigned(void **state)
{
	unsigned v = 0;

	(void) state;
	assert_int_equal(rproc_parse_unsigned("17", &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(rproc_parse_unsigned("-1", &v), -EINVAL);
	assert_int_equal(rproc_parse_unsigned("1x", &v), -EINVAL);
	assert_int_equal(rproc_parse_unsigned("4294967296", &v), -ERANGE);
}

static void test_core_names(void **state)
{
	(void) state;
	assert_true(rproc_core_name_is_valid("m4"));
	assert_true(rproc_core_name_is_valid("r5f_0.main-domain@1:x"));
	assert_false(rproc_core_name_is_valid(""));
	assert_false(rproc_core_name_is_valid(NULL));
	assert_false(rproc_core_name_is_valid(".hidden"));
	assert_false(rproc_core_name_is_valid("-opt"));
	assert_false(rproc_core_name_is_valid("a/b"));
	assert_false(rproc_core_name_is_valid("a b"));
	assert_false(rproc_core_name_is_valid(
		"0123456789012345678901234567890123456789012345678901234567890123x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_booleans),	cmocka_unit_test(test_timespans),
		cmocka_unit_test(test_format_timespan), cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_unsigned),	cmocka_unit_test(test_core_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
