/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/trace-buffer.c: new lines of a trace buffer read again and again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "trace-buffer.h"
#include "util.h"

struct sink {
	char **lines;
};

static void collect(void *userdata, const char *line)
{
	struct sink *s = userdata;

	assert_int_equal(strv_extend(&s->lines, line), 0);
}

/* Feed text (its bytes, len given: it may hold NULs); returns the lines joined by '|'. */
static char *feed(struct trace_buffer *t, const char *text, size_t len)
{
	struct sink s = {};
	char *j;
	int n = trace_buffer_feed(t, text, len, collect, &s);

	assert_true(n >= 0);
	assert_int_equal((size_t) n, strv_length(s.lines));
	j = s.lines ? strv_join(s.lines, "|") : strdup("");
	strv_free(s.lines);
	return j;
}

#define FEED(t, text, want)                                            \
	do {                                                           \
		_cleanup_free_ char *_g = feed(t, text, strlen(text)); \
		assert_string_equal(_g, want);                         \
	} while (0)

static void test_append_and_partial(void **state)
{
	struct trace_buffer t = {};

	(void) state;
	FEED(&t, "", "");
	FEED(&t, "boot banner\nhalf", "boot banner");
	FEED(&t, "boot banner\nhalf", ""); /* nothing new, nothing repeated */
	FEED(&t, "boot banner\nhalf a line\nthird\r\n", "half a line|third");
	FEED(&t, "boot banner\nhalf a line\nthird\r\n", "");
	FEED(&t, "boot banner\nhalf a line\nthird\r\n\n\nfourth\n", "fourth"); /* no empty lines */
	trace_buffer_done(&t);
}

/* A later run of rprocd goes on from the snapshot and position an earlier one saved. */
static void test_restore(void **state)
{
	struct trace_buffer t = {}, u = {};

	(void) state;
	FEED(&t, "boot\none\npart", "boot|one");
	assert_int_equal(trace_buffer_restore(&u, t.prev, t.prev_len, t.pos), 0);
	FEED(&u, "boot\none\npartial\ntwo\n", "partial|two");
	/* A position past the snapshot is clamped: nothing is given out twice. */
	assert_int_equal(trace_buffer_restore(&u, "a\nb\n", 4, 99), 0);
	FEED(&u, "a\nb\nc\n", "c");
	trace_buffer_done(&t);
	trace_buffer_done(&u);
}

static void test_restart(void **state)
{
	struct trace_buffer t = {};

	(void) state;
	FEED(&t, "one\ntwo\n", "one|two");
	/* The firmware booted again: the same text is a new log. */
	trace_buffer_reset(&t);
	FEED(&t, "one\n", "one");
	FEED(&t, "one\nthree\n", "three");
	trace_buffer_done(&t);
}

static void test_wrap(void **state)
{
	struct trace_buffer t = {};

	(void) state;
	/* A 16-byte ring, nothing after its text yet (the kernel shows up to a NUL). */
	FEED(&t, "aaaa\nbbbb\ncc", "aaaa|bbbb");
	/* "c\nddd\n" written at 12: through the end and on at the start, over "aa". */
	FEED(&t, "d\naa\nbbbb\nccc\ndd", "ccc|ddd");
	/* Written on after the wrap point: only that; the old text after it is not new. */
	FEED(&t, "d\nee\nbbbb\nccc\ndd", "ee");
	FEED(&t, "d\nee\nbbbb\nccc\ndd", "");
	trace_buffer_done(&t);

	/* Periodic lines over old ones of the same shape: whole lines, not the changed bytes. */
	FEED(&t, "temp=24 ok\nxx", "temp=24 ok");
	FEED(&t, "temp=24 ok\nxxtemp=25 ok\n", "xxtemp=25 ok");
	FEED(&t, "temp=26 ok\nxxtemp=25 ok\n", "temp=26 ok"); /* wrapped over the first */
	trace_buffer_done(&t);

	/* A line rewritten in place (an uptime counter): that line once, nothing else again. */
	FEED(&t, "up 2\nboot ok\nsensor a\n", "up 2|boot ok|sensor a");
	FEED(&t, "up 3\nboot ok\nsensor a\n", "up 3");
	FEED(&t, "up 3\nboot ok\nsensor a\nsensor b\n", "sensor b");
	trace_buffer_done(&t);
}

static void test_junk(void **state)
{
	struct trace_buffer t = {};
	char big[3000];
	_cleanup_free_ char *g = NULL;

	(void) state;
	/* Control bytes and invalid UTF-8 come out escaped, valid UTF-8 as it is. */
	FEED(&t, "bell\a here\ncaf\xc3\xa9 \xff\xfe\n", "bell\\x07 here|café \\xff\\xfe");
	trace_buffer_reset(&t);
	/* No newline at all: given out in TRACE_LINE_MAX pieces, the rest waits. */
	memset(big, 'x', sizeof(big));
	g = feed(&t, big, sizeof(big));
	assert_int_equal(strlen(g), 2 * TRACE_LINE_MAX + 1);
	trace_buffer_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_partial),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_junk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
