/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocctl's rules without a bus or a terminal: the JSON writer (short and
 * pretty, escaping, invalid UTF-8), D-Bus values to JSON and to show's text,
 * the colour and pager decisions from the environment, the error texts and
 * exit codes of failed calls.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "json.h"
#include "output.h"
#include "props.h"
#include "rprocctl.h"

struct rprocctl_options arg = { .timeout_usec = UINT64_MAX };

/* ---- the JSON writer ----------------------------------------------------------- */

/* A writer on a memory stream; json_text() ends it and returns the text (free()). */
struct mem {
	FILE *f;
	char *buf;
	size_t len;
};

static void mem_open(struct mem *m, struct json *j, enum json_mode mode)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	json_init(j, m->f, mode);
}

static char *mem_close(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

static void write_sample(struct json *j)
{
	json_begin_object(j, NULL);
	json_string(j, "S", "q\"b\\n\nt\tc\x01");
	json_begin_array(j, "A");
	json_uint(j, NULL, 18446744073709551615ULL);
	json_int(j, NULL, -2);
	json_bool(j, NULL, true);
	json_null(j, NULL);
	json_string(j, NULL, NULL);
	json_end_array(j);
	json_begin_object(j, "E");
	json_end_object(j);
	json_begin_array(j, "F");
	json_end_array(j);
	json_begin_object(j, "O");
	json_double(j, "D", 0.5);
	json_end_object(j);
	json_end_object(j);
	json_finish(j);
}

static void test_json_short(void **state)
{
	struct mem m;
	struct json j;
	char *s;

	(void) state;
	mem_open(&m, &j, JSON_SHORT);
	write_sample(&j);
	s = mem_close(&m);
	assert_string_equal(s, "{\"S\":\"q\\\"b\\\\n\\nt\\tc\\u0001\","
			       "\"A\":[18446744073709551615,-2,true,null,null],"
			       "\"E\":{},\"F\":[],\"O\":{\"D\":0.5}}\n");
	free(s);
}

static void test_json_pretty(void **state)
{
	struct mem m;
	struct json j;
	char *s;

	(void) state;
	mem_open(&m, &j, JSON_PRETTY);
	write_sample(&j);
	/* a second document after json_finish() starts afresh (monitor's stream) */
	json_begin_array(&j, NULL);
	json_uint(&j, NULL, 1);
	json_end_array(&j);
	json_finish(&j);
	s = mem_close(&m);
	assert_string_equal(s, "{\n"
			       "  \"S\": \"q\\\"b\\\\n\\nt\\tc\\u0001\",\n"
			       "  \"A\": [\n"
			       "    18446744073709551615,\n"
			       "    -2,\n"
			       "    true,\n"
			       "    null,\n"
			       "    null\n"
			       "  ],\n"
			       "  \"E\": {},\n"
			       "  \"F\": [],\n"
			       "  \"O\": {\n"
			       "    \"D\": 0.5\n"
			       "  }\n"
			       "}\n"
			       "[\n"
			       "  1\n"
			       "]\n");
	free(s);
}

static void check_string(const char *in, const char *expected)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_write_string(f, in);
	fclose(f);
	assert_string_equal(buf, expected);
	free(buf);
}

static void test_json_utf8(void **state)
{
	(void) state;
	check_string("é→€𝄞", "\"é→€𝄞\"");
	/* invalid bytes become the text \xNN */
	check_string("a\xff"
		     "b",
		     "\"a\\\\xffb\"");
	/* overlong '/', a lone continuation byte, a surrogate, beyond U+10FFFF, a cut-off sequence */
	check_string("\xc0\xaf", "\"\\\\xc0\\\\xaf\"");
	check_string("\x80", "\"\\\\x80\"");
	check_string("\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"");
	check_string("\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");
	check_string("\xe2\x82", "\"\\\\xe2\\\\x82\"");
	check_string("", "\"\"");
	check_string("\x7f", "\"\x7f\"");
}

static void test_json_mode(void **state)
{
	enum json_mode m;

	(void) state;
	assert_int_equal(json_mode_from_string(NULL, &m), 0);
	assert_int_equal(m, JSON_SHORT);
	assert_int_equal(json_mode_from_string("pretty", &m), 0);
	assert_int_equal(m, JSON_PRETTY);
	assert_int_equal(json_mode_from_string("off", &m), 0);
	assert_int_equal(m, JSON_OFF);
	assert_int_equal(json_mode_from_string("short", &m), 0);
	assert_int_equal(m, JSON_SHORT);
	assert_int_equal(json_mode_from_string("Pretty", &m), -EINVAL);
	assert_int_equal(json_mode_from_string("", &m), -EINVAL);
}

/* ---- properties ------------------------------------------------------------------ */

static sd_bus *bus;
static int sv[2] = { -1, -1 };

static int setup_bus(void **state)
{
	(void) state;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, sv[0], sv[0]) < 0 || sd_bus_start(bus) < 0)
		return -1;
	/* the dates of show's text */
	setenv("TZ", "UTC", 1);
	return 0;
}

static int teardown_bus(void **state)
{
	(void) state;
	bus = sd_bus_close_unref(bus);
	close(sv[1]);
	return 0;
}

/* An a{sv} as GetAll would send it, sealed and ready to read. */
static sd_bus_message *sample_properties(void)
{
	sd_bus_message *m = NULL;

	assert_true(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C") >= 0);
	assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Name", "s", "m4") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Description", "s", "") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Managed", "b", 1) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "CrashCount", "u", (uint32_t) 2) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "LastCrashTimestamp", "t",
					  (uint64_t) 1764756000123456ULL) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "NeverTimestamp", "t", (uint64_t) 0) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "LastCrashUSec", "t",
					  (uint64_t) 1764756000123456ULL) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "PollIntervalUSec", "t",
					  (uint64_t) 30000000) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "NoPollUSec", "t", UINT64_MAX) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Offset", "x", (int64_t) -5) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "ConfigFiles", "as", 2, "/etc/a.core",
					  "with space") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "ConfigWarnings", "as", 0) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Channels", "a(suuss)", 2, "rpmsg-tty",
					  (uint32_t) 1024, (uint32_t) 1025, "virtio0.x",
					  "/dev/ttyRPMSG0", "rpmsg_ns", (uint32_t) 53,
					  (uint32_t) 53, "virtio0.rpmsg_ns", "") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Pairs", "a(su)", 1, "k", (uint32_t) 7) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Dict", "a{su}", 1, "k", (uint32_t) 7) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	return m;
}

static void test_props_json(void **state)
{
	sd_bus_message *m = sample_properties();
	struct props p;
	struct mem mm;
	struct json j;
	char *s;

	(void) state;
	assert_int_equal(props_read(m, &p), 0);
	assert_int_equal(p.n, 15);
	assert_string_equal(props_str(&p, "Name"), "m4");
	assert_string_equal(props_str(&p, "Missing"), "");
	assert_int_equal(props_uint(&p, "CrashCount"), 2);
	assert_int_equal(props_uint(&p, "Managed"), 1);

	mem_open(&mm, &j, JSON_SHORT);
	props_json(&j, NULL, &p, NULL);
	json_finish(&j);
	s = mem_close(&mm);
	assert_string_equal(s, "{\"Name\":\"m4\",\"Description\":\"\",\"Managed\":true,"
			       "\"CrashCount\":2,\"LastCrashTimestamp\":1764756000123456,"
			       "\"NeverTimestamp\":0,\"LastCrashUSec\":1764756000123456,"
			       "\"PollIntervalUSec\":30000000,"
			       "\"NoPollUSec\":18446744073709551615,\"Offset\":-5,"
			       "\"ConfigFiles\":[\"/etc/a.core\",\"with space\"],"
			       "\"ConfigWarnings\":[],"
			       "\"Channels\":[{\"Name\":\"rpmsg-tty\",\"LocalAddress\":1024,"
			       "\"RemoteAddress\":1025,\"Device\":\"virtio0.x\","
			       "\"Node\":\"/dev/ttyRPMSG0\"},{\"Name\":\"rpmsg_ns\","
			       "\"LocalAddress\":53,\"RemoteAddress\":53,"
			       "\"Device\":\"virtio0.rpmsg_ns\",\"Node\":\"\"}],"
			       "\"Pairs\":[[\"k\",7]],\"Dict\":{\"k\":7}}\n");
	free(s);

	/* -p: only the properties named */
	{
		char *filter[] = { (char *) "State", (char *) "CrashCount", (char *) "Name", NULL };

		mem_open(&mm, &j, JSON_SHORT);
		props_json(&j, NULL, &p, filter);
		json_finish(&j);
		s = mem_close(&mm);
		assert_string_equal(s, "{\"Name\":\"m4\",\"CrashCount\":2}\n");
		free(s);
	}
	props_done(&p);
	sd_bus_message_unref(m);
}

static void check_format(const struct props *p, const char *name, const char *expected, bool empty)
{
	const struct prop *x = props_get(p, name);
	char *s;

	assert_non_null(x);
	s = prop_format(x);
	assert_non_null(s);
	assert_string_equal(s, expected);
	assert_int_equal(prop_is_empty(x), empty);
	free(s);
}

static void test_props_show_text(void **state)
{
	sd_bus_message *m = sample_properties();
	struct props p;

	(void) state;
	assert_int_equal(props_read(m, &p), 0);
	check_format(&p, "Name", "m4", false);
	check_format(&p, "Description", "", true);
	check_format(&p, "Managed", "yes", false);
	check_format(&p, "CrashCount", "2", false);
	check_format(&p, "LastCrashTimestamp", "Wed 2025-12-03 10:00:00 UTC", false);
	check_format(&p, "NeverTimestamp", "", true);
	check_format(&p, "LastCrashUSec", "Wed 2025-12-03 10:00:00 UTC", false);
	check_format(&p, "PollIntervalUSec", "30s", false);
	check_format(&p, "NoPollUSec", "infinity", false);
	check_format(&p, "Offset", "-5", false);
	check_format(&p, "ConfigFiles", "/etc/a.core \"with space\"", false);
	check_format(&p, "ConfigWarnings", "", true);
	check_format(&p, "Channels",
		     "{ Name=rpmsg-tty LocalAddress=1024 RemoteAddress=1025 Device=virtio0.x "
		     "Node=/dev/ttyRPMSG0 } { Name=rpmsg_ns LocalAddress=53 RemoteAddress=53 "
		     "Device=virtio0.rpmsg_ns Node=\"\" }",
		     false);
	check_format(&p, "Pairs", "{ k 7 }", false);
	props_done(&p);
	sd_bus_message_unref(m);
}

static void test_props_bad_message(void **state)
{
	sd_bus_message *m = NULL;
	struct props p;

	(void) state;
	/* not an a{sv}: refused, nothing left behind */
	assert_true(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C") >= 0);
	assert_true(sd_bus_message_append(m, "as", 1, "x") >= 0);
	assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	assert_true(props_read(m, &p) < 0);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	sd_bus_message_unref(m);
}

/* ---- colours and the pager ----------------------------------------------------------- */

static void test_colors(void **state)
{
	(void) state;
	/* a terminal that is not dumb: on */
	assert_true(colors_decide(NULL, NULL, "xterm", true));
	assert_false(colors_decide(NULL, NULL, "xterm", false));
	assert_false(colors_decide(NULL, NULL, "dumb", true));
	assert_false(colors_decide(NULL, NULL, NULL, true));
	/* NO_COLOR (any value) turns them off, SYSTEMD_COLORS decides over everything */
	assert_false(colors_decide(NULL, "1", "xterm", true));
	assert_false(colors_decide(NULL, "", "xterm", true));
	assert_true(colors_decide("1", "1", "dumb", false));
	assert_true(colors_decide("yes", NULL, NULL, false));
	assert_true(colors_decide("256", NULL, NULL, false));
	assert_true(colors_decide("16", NULL, NULL, false));
	assert_true(colors_decide("24bit", NULL, NULL, false));
	assert_false(colors_decide("0", NULL, "xterm", true));
	assert_false(colors_decide("false", NULL, "xterm", true));
	/* a value systemd does not know: as if unset */
	assert_true(colors_decide("maybe", NULL, "xterm", true));
	assert_false(colors_decide("maybe", "1", "xterm", true));
	assert_int_equal(state_color("running"), COLOR_GREEN);
	assert_int_equal(state_color("attached"), COLOR_GREEN);
	assert_int_equal(state_color("crashed"), COLOR_RED);
	assert_int_equal(state_color("offline"), COLOR_NORMAL);
}

static void test_pager(void **state)
{
	struct pager_env tty = { .term = "xterm",
				 .stdout_tty = true,
				 .euid_is_session_owner = true };
	struct pager_env e;
	struct pager_plan p;

	(void) state;
	/* a session's owner on a terminal: pager, less, more (not $PAGER: no $SYSTEMD_PAGERSECURE) */
	e = tty;
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.use);
	assert_false(p.secure);
	assert_null(p.cmd);
	e.pager = "most";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.use);
	assert_null(p.cmd);
	/* never without a terminal, nor on a dumb one */
	e = tty;
	e.stdout_tty = false;
	e.pagersecure = "0";
	e.pager = "most";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	e = tty;
	e.term = "dumb";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	e.term = NULL;
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	/* "" or cat turn it off, $SYSTEMD_PAGER before $PAGER */
	e = tty;
	e.pager = "cat";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	e.pager = "";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	e.systemd_pager = "cat";
	e.pager = "most";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_false(p.use);
	/* $SYSTEMD_PAGERSECURE set: the user's pager, secure as it says */
	e = tty;
	e.pagersecure = "0";
	e.pager = "most";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.use);
	assert_false(p.secure);
	assert_string_equal(p.cmd, "most");
	e.systemd_pager = "less -R";
	e.pagersecure = "yes";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.secure);
	assert_string_equal(p.cmd, "less -R");
	/* not a boolean: secure, and said */
	e.pagersecure = "perhaps";
	assert_int_equal(pager_decide(&e, &p), -EINVAL);
	assert_true(p.use);
	assert_true(p.secure);
	/* not the session's owner, or sudo: secure, less only */
	e = tty;
	e.euid_is_session_owner = false;
	e.pager = "most";
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.secure);
	assert_null(p.cmd);
	e = tty;
	e.sudo = true;
	assert_int_equal(pager_decide(&e, &p), 0);
	assert_true(p.secure);
}

static void test_parse_boolean(void **state)
{
	(void) state;
	assert_int_equal(parse_boolean("yes"), 1);
	assert_int_equal(parse_boolean("ON"), 1);
	assert_int_equal(parse_boolean("1"), 1);
	assert_int_equal(parse_boolean("false"), 0);
	assert_int_equal(parse_boolean("0"), 0);
	assert_int_equal(parse_boolean(""), -EINVAL);
	assert_int_equal(parse_boolean("2"), -EINVAL);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_bus_errors(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char buf[256];

	(void) state;
	bus_register_errors();
	/* the kernel's errno through the map, and named in the text once */
	assert_int_equal(sd_bus_error_set(&e, "org.rprocd1.Error.Kernel.EBUSY",
					  "start: Device or resource busy"),
			 -EBUSY);
	assert_int_equal(bus_error_kernel_errno(&e), EBUSY);
	assert_string_equal(bus_error_text(&e, -EBUSY, buf, sizeof(buf)),
			    "start: Device or resource busy (EBUSY)");
	assert_int_equal(bus_exit_code(&e, -EBUSY), EXIT_FAILED);
	sd_bus_error_free(&e);
	assert_int_equal(sd_bus_error_set(&e, "org.rprocd1.Error.Kernel.EIO",
					  "start: Input/output error (EIO)"),
			 -EIO);
	assert_string_equal(bus_error_text(&e, -EIO, buf, sizeof(buf)),
			    "start: Input/output error (EIO)");
	sd_bus_error_free(&e);
	/* EPERM from the kernel is a failure, not "access denied" */
	assert_int_equal(sd_bus_error_set(&e, "org.rprocd1.Error.Kernel.EPERM", "stop: no"),
			 -EPERM);
	assert_int_equal(bus_exit_code(&e, -EPERM), EXIT_FAILED);
	sd_bus_error_free(&e);
	/* an errno name this libc does not know is still the kernel's refusal */
	sd_bus_error_set(&e, "org.rprocd1.Error.Kernel.ENOTANERRNO", "x");
	assert_int_equal(bus_error_kernel_errno(&e), EIO);
	sd_bus_error_free(&e);
	/* the documented exit codes */
	sd_bus_error_set(&e, "org.rprocd1.Error.NoSuchCore", "no core named \"x\"");
	assert_int_equal(bus_error_kernel_errno(&e), 0);
	assert_int_equal(bus_exit_code(&e, -EIO), EXIT_NO_SUCH_CORE);
	assert_string_equal(bus_error_text(&e, -EIO, buf, sizeof(buf)), "no core named \"x\"");
	sd_bus_error_free(&e);
	sd_bus_error_set(&e, SD_BUS_ERROR_ACCESS_DENIED, "denied");
	assert_int_equal(bus_exit_code(&e, -EACCES), EXIT_DENIED);
	sd_bus_error_free(&e);
	sd_bus_error_set(&e, SD_BUS_ERROR_SERVICE_UNKNOWN, "gone");
	assert_int_equal(bus_exit_code(&e, -EHOSTDOWN), EXIT_NO_DAEMON);
	sd_bus_error_free(&e);
	sd_bus_error_set(&e, "org.rprocd1.Error.InvalidState", "running");
	assert_int_equal(bus_exit_code(&e, -EIO), EXIT_FAILED);
	sd_bus_error_free(&e);
	/* sd-bus's own names for a connection that failed (ssh to -H's host, say) */
	sd_bus_error_set_errno(&e, ENOTCONN);
	assert_string_equal(e.name, "System.Error.ENOTCONN");
	assert_int_equal(bus_exit_code(&e, -ENOTCONN), EXIT_NO_DAEMON);
	sd_bus_error_free(&e);
	sd_bus_error_set_errno(&e, EINVAL);
	assert_int_equal(bus_exit_code(&e, -EINVAL), EXIT_FAILED);
	sd_bus_error_free(&e);
	assert_int_equal(bus_exit_code(&e, -ECONNREFUSED), EXIT_NO_DAEMON);
	assert_int_equal(bus_exit_code(&e, -EPERM), EXIT_DENIED);
	assert_string_equal(bus_error_text(&e, -ENOENT, buf, sizeof(buf)),
			    "No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_short),
		cmocka_unit_test(test_json_pretty),
		cmocka_unit_test(test_json_utf8),
		cmocka_unit_test(test_json_mode),
		cmocka_unit_test(test_props_json),
		cmocka_unit_test(test_props_show_text),
		cmocka_unit_test(test_props_bad_message),
		cmocka_unit_test(test_colors),
		cmocka_unit_test(test_pager),
		cmocka_unit_test(test_parse_boolean),
		cmocka_unit_test(test_bus_errors),
	};

	return cmocka_run_group_tests(tests, setup_bus, teardown_bus);
}
