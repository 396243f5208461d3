/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text for D-Bus: invalid UTF-8 is escaped, valid text is untouched, sd-bus accepts every result. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "utf8.h"

/* A bus object that can build messages (never connected to anything). */
static sd_bus *bus;
static int sv[2] = { -1, -1 };

static int setup_bus(void **state)
{
	(void) state;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, sv[0], sv[0]) < 0 || sd_bus_start(bus) < 0)
		return -1;
	return 0;
}

static int teardown_bus(void **state)
{
	(void) state;
	bus = sd_bus_close_unref(bus);
	close(sv[1]);
	return 0;
}

/* Does sd-bus take s as a string argument? */
static bool bus_accepts(const char *s)
{
	sd_bus_message *m = NULL;
	int r;

	assert_int_equal(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C"), 0);
	r = sd_bus_message_append(m, "s", s);
	sd_bus_message_unref(m);
	return r >= 0;
}

static void check_escape(const char *in, const char *expected)
{
	char *out = utf8_escape_invalid(in);

	assert_non_null(out);
	assert_string_equal(out, expected);
	assert_true(utf8_is_valid(out));
	assert_true(bus_accepts(out));
	assert_int_equal(utf8_is_valid(in), strcmp(in, expected) == 0);
	free(out);
}

static void test_valid_unchanged(void **state)
{
	static const char *const valid[] = {
		"",
		"plain-ascii.elf",
		"caf\xc3\xa9",		     /* U+00E9 */
		"\xe2\x82\xac 100",	     /* U+20AC */
		"\xf0\x9f\x98\x80",	     /* U+1F600 */
		"\xf4\x8f\xbf\xbd",	     /* U+10FFFD, the last valid */
		"\xef\xbf\xbd",		     /* U+FFFD */
		"\xef\xb7\x8f \xef\xb7\xb0", /* U+FDCF, U+FDF0: around the noncharacters */
		"\xed\x9f\xbf \xee\x80\x80", /* U+D7FF, U+E000: around the surrogates */
		"tab\there\nnewline \x01\x1f\x7f bell\a", /* control characters stay */
		"\\x41 looks like an escape",
	};
	char *s;

	(void) state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		check_escape(valid[i], valid[i]);
		/* utf8_make_valid() hands back the same string, no copy. */
		s = strdup(valid[i]);
		assert_non_null(s);
		assert_ptr_equal(utf8_make_valid(s), s);
		free(s);
	}
	assert_null(utf8_make_valid(NULL));
}

static void test_invalid_escaped(void **state)
{
	char *s;

	(void) state;
	/* A firmware name another tool wrote. */
	check_escape("fw-\xff.elf", "fw-\\xff.elf");
	check_escape("\xfe\xff", "\\xfe\\xff");
	/* Lone continuation bytes. */
	check_escape("\x80", "\\x80");
	check_escape("a\xbf"
		     "b",
		     "a\\xbfb");
	/* Overlong encodings (of NUL, '/', U+07FF, U+FFFF). */
	check_escape("\xc0\x80", "\\xc0\\x80");
	check_escape("\xc1\xbf", "\\xc1\\xbf");
	check_escape("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	check_escape("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");
	check_escape("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf");
	/* UTF-16 surrogates encoded as UTF-8 (CESU-8). */
	check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");
	check_escape("\xed\xbf\xbf", "\\xed\\xbf\\xbf");
	/* Beyond U+10FFFF. */
	check_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	check_escape("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	check_escape("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80");
	/* Truncated sequences, at the end and in the middle. */
	check_escape("ab\xe2\x82", "ab\\xe2\\x82");
	check_escape("\xe2\x82z", "\\xe2\\x82z");
	check_escape("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
	check_escape("\xc3", "\\xc3");
	/* The bytes after a bad lead are taken on their own: a valid character there survives. */
	check_escape("\xe2\xc3\xa9", "\\xe2\xc3\xa9");
	/* Noncharacters, which sd-bus refuses although they are well-formed. */
	check_escape("\xef\xbf\xbe", "\\xef\\xbf\\xbe");
	check_escape("\xef\xbf\xbf", "\\xef\\xbf\\xbf");
	check_escape("\xef\xb7\x90", "\\xef\\xb7\\x90");
	check_escape("\xef\xb7\xaf", "\\xef\\xb7\\xaf");
	check_escape("\xf0\x9f\xbf\xbf", "\\xf0\\x9f\\xbf\\xbf");
	check_escape("\xf4\x8f\xbf\xbe", "\\xf4\\x8f\\xbf\\xbe");

	/* utf8_make_valid() replaces an invalid string (and frees it: ASan would say). */
	s = strdup("x\xff");
	assert_non_null(s);
	s = utf8_make_valid(s);
	assert_string_equal(s, "x\\xff");
	free(s);
}

static size_t encode(uint32_t c, char *buf)
{
	if (c < 0x80) {
		buf[0] = (char) c;
		return 1;
	}
	if (c < 0x800) {
		buf[0] = (char) (0xc0 | (c >> 6));
		buf[1] = (char) (0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		buf[0] = (char) (0xe0 | (c >> 12));
		buf[1] = (char) (0x80 | ((c >> 6) & 0x3f));
		buf[2] = (char) (0x80 | (c & 0x3f));
		return 3;
	}
	buf[0] = (char) (0xf0 | (c >> 18));
	buf[1] = (char) (0x80 | ((c >> 12) & 0x3f));
	buf[2] = (char) (0x80 | ((c >> 6) & 0x3f));
	buf[3] = (char) (0x80 | (c & 0x3f));
	return 4;
}

/* utf8_is_valid() and sd-bus agree on every code point near a boundary and on a sample of the rest. */
static void test_agrees_with_sd_bus(void **state)
{
	static const uint32_t edges[] = { 0x80,	  0x800,   0xd800,  0xe000,  0xfdd0,   0xfdf0,
					  0xfffe, 0x10000, 0x1fffe, 0x2fffe, 0x10fffe, 0x110000 };
	char buf[8];

	(void) state;
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
		for (uint32_t c = edges[e] - 40; c < edges[e] + 40; c++) {
			if (c == 0 || c > 0x1fffff)
				continue;
			buf[encode(c, buf)] = 0;
			assert_int_equal(utf8_is_valid(buf), bus_accepts(buf));
		}
	srand(1);
	for (unsigned i = 0; i < 20000; i++) {
		uint32_t c = 1 + (uint32_t) rand() % 0x10ffff;

		buf[encode(c, buf)] = 0;
		assert_int_equal(utf8_is_valid(buf), bus_accepts(buf));
	}
}

/* Random bytes: the result is always accepted, and escaping is idempotent. */
static void test_random_bytes(void **state)
{
	char in[24];

	(void) state;
	srand(2);
	for (unsigned i = 0; i < 20000; i++) {
		size_t n = (size_t) rand() % (sizeof(in) - 1);
		char *out, *again;

		for (size_t k = 0; k < n; k++) {
			/* Mostly high bytes, where the trouble is. */
			int b = rand() % 4 ? 0x80 + rand() % 0x80 : 1 + rand() % 0x7f;

			in[k] = (char) b;
		}
		in[n] = 0;
		out = utf8_escape_invalid(in);
		assert_non_null(out);
		assert_true(utf8_is_valid(out));
		assert_true(bus_accepts(out));
		assert_int_equal(bus_accepts(in), utf8_is_valid(in));
		if (utf8_is_valid(in))
			assert_string_equal(out, in);
		again = utf8_escape_invalid(out);
		assert_non_null(again);
		assert_string_equal(again, out);
		free(again);
		free(out);
	}
}

/* An error that quotes a name that is not UTF-8 still gets its reply, escaped. */
static void test_reply_error(void **state)
{
	sd_bus *server = NULL, *client = NULL;
	sd_bus_message *call = NULL, *reply = NULL;
	uint64_t cookie;
	sd_id128_t id;
	int p[2], r;

	(void) state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	assert_int_equal(sd_bus_new(&server), 0);
	assert_int_equal(sd_bus_set_fd(server, p[0], p[0]), 0);
	assert_int_equal(sd_id128_randomize(&id), 0);
	assert_int_equal(sd_bus_set_server(server, 1, id), 0);
	assert_int_equal(sd_bus_start(server), 0);
	assert_int_equal(sd_bus_new(&client), 0);
	assert_int_equal(sd_bus_set_fd(client, p[1], p[1]), 0);
	assert_int_equal(sd_bus_start(client), 0);
	assert_int_equal(sd_bus_message_new_method_call(client, &call, NULL, "/a", "a.b", "C"), 0);
	/* With a cookie: a reply is expected. */
	assert_int_equal(sd_bus_send(client, call, &cookie), 1);
	call = sd_bus_message_unref(call);
	/* Both ends in this thread: take turns until the call arrives. */
	for (unsigned i = 0; i < 1000 && !call; i++) {
		(void) sd_bus_process(client, NULL);
		r = sd_bus_process(server, &call);
		assert_true(r >= 0);
		if (call && !sd_bus_message_is_method_call(call, "a.b", "C"))
			call = sd_bus_message_unref(call);
		if (!call && r == 0)
			(void) sd_bus_wait(server, 1000);
	}
	assert_non_null(call);
	{
		static const char text[] = { 'f', 'w', '-', (char) 0xff, 0 };
		const sd_bus_error bad =
			SD_BUS_ERROR_MAKE_CONST("org.rprocd1.Error.InvalidFirmware", text);

		assert_true(sd_bus_reply_method_error(call, &bad) < 0);
		assert_true(utf8_bus_reply_error(call, &bad) >= 0);
	}
	call = sd_bus_message_unref(call);
	for (unsigned i = 0; i < 1000 && !reply; i++) {
		(void) sd_bus_process(server, NULL);
		r = sd_bus_process(client, &reply);
		assert_true(r >= 0);
		if (reply && !sd_bus_message_is_method_error(reply, NULL))
			reply = sd_bus_message_unref(reply);
		if (!reply && r == 0)
			(void) sd_bus_wait(client, 1000);
	}
	assert_non_null(reply);
	assert_string_equal(sd_bus_message_get_error(reply)->name,
			    "org.rprocd1.Error.InvalidFirmware");
	assert_string_equal(sd_bus_message_get_error(reply)->message, "fw-\\xff");
	sd_bus_message_unref(reply);
	sd_bus_close_unref(client);
	sd_bus_close_unref(server);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_unchanged),	   cmocka_unit_test(test_invalid_escaped),
		cmocka_unit_test(test_agrees_with_sd_bus), cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_reply_error),
	};
	return cmocka_run_group_tests(tests, setup_bus, teardown_bus);
}
