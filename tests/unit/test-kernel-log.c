/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /dev/kmsg records and naming what the remoteproc core logs (daemon/kernel-log.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel-log.h"

/* A record as 6.12 writes it for rproc_sim's remoteproc0 (CONFIG_REMOTEPROC_CDEV). */
static void test_parse_record(void **state)
{
	char buf[] = "3,1234,567890123,-;remoteproc remoteproc0: crash detected in m4: type "
		     "watchdog\n SUBSYSTEM=remoteproc\n DEVICE=c241:0\n";
	struct kmsg_record r;
	unsigned major = 0, minor = 0;
	const char *sysname = NULL;

	(void) state;
	assert_true(kmsg_record_is_remoteproc(buf, strlen(buf)));
	assert_int_equal(kmsg_record_parse(buf, strlen(buf), &r), 0);
	assert_int_equal(r.priority, 3);
	assert_true(r.seq == 1234);
	assert_true(r.usec == 567890123);
	assert_string_equal(r.message,
			    "remoteproc remoteproc0: crash detected in m4: type watchdog");
	assert_string_equal(r.subsystem, "remoteproc");
	assert_string_equal(r.device, "c241:0");
	assert_int_equal(kmsg_device_parse(r.device, &major, &minor, &sysname), 1);
	assert_int_equal(major, 241);
	assert_int_equal(minor, 0);
}

/* Future fields before ';' are ignored; continuation keys in any order. */
static void test_parse_extensions(void **state)
{
	char buf[] = "6,7,8,-,caller=T12;remoteproc remoteproc3: remote processor dsp is now "
		     "up\n DEVICE=+remoteproc:remoteproc3\n SUBSYSTEM=remoteproc\n";
	struct kmsg_record r;
	unsigned major, minor;
	const char *sysname = NULL;

	(void) state;
	assert_int_equal(kmsg_record_parse(buf, strlen(buf), &r), 0);
	assert_string_equal(r.device, "+remoteproc:remoteproc3");
	assert_int_equal(kmsg_device_parse(r.device, &major, &minor, &sysname), 2);
	assert_string_equal(sysname, "remoteproc3");
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"no semicolon\n",
		"3,1;missing fields\n",
		"x,1,2,-;not a number\n",
		"3,1,2,-;no newline",
		"99999999999,1,2,-;priority too big\n",
		"3,18446744073709551616,2,-;seq overflows\n",
	};
	struct kmsg_record r;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[128];

		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_int_equal(kmsg_record_parse(buf, strlen(buf), &r), -EBADMSG);
	}
}

/* Others' records are rejected by the cheap test, even one that mentions remoteproc. */
static void test_filter(void **state)
{
	static const char *const other[] = {
		"6,1,2,-;remoteproc: not a device record\n",
		"6,1,2,-;rproc_sim rproc_sim.0: x\n SUBSYSTEM=platform\n "
		"DEVICE=+platform:rproc_sim.0\n",
		"6,1,2,-;devcoredump devcd1: x\n SUBSYSTEM=devcoredump\n "
		"DEVICE=+devcoredump:devcd1\n",
		"6,1,2,-;x\n SUBSYSTEM=remoteproc_other\n",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_false(kmsg_record_is_remoteproc(other[i], strlen(other[i])));
}

static void test_devices(void **state)
{
	unsigned major, minor;
	const char *sysname;

	(void) state;
	assert_int_equal(kmsg_device_parse(NULL, &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("b8:0", &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("c241", &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("c241:0x", &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("+remoteproc:", &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("+platform:x", &major, &minor, &sysname), 0);
	assert_int_equal(kmsg_device_parse("n3", &major, &minor, &sysname), 0);
}

/* Every message of drivers/remoteproc/remoteproc_core.c (6.1 and 6.12) that rprocd names. */
static void test_classify(void **state)
{
	static const struct {
		const char *message;
		enum rproc_log_event event;
	} cases[] = {
		{ "remoteproc remoteproc0: crash detected in m4: type mmufault",
		  RPROC_LOG_CRASH_DETECTED },
		{ "remoteproc remoteproc0: handling crash #7 in m4", RPROC_LOG_CRASH_HANDLING },
		{ "remoteproc remoteproc0: recovering m4", RPROC_LOG_RECOVERING },
		{ "remoteproc remoteproc0: powering up m4", RPROC_LOG_POWERING_UP },
		{ "remoteproc remoteproc0: attaching to m4", RPROC_LOG_ATTACHING },
		{ "remoteproc remoteproc0: Booting fw image rproc-m4-fw, size 4096",
		  RPROC_LOG_BOOTING },
		{ "remoteproc remoteproc0: remote processor m4 is now up", RPROC_LOG_UP },
		{ "remoteproc remoteproc0: remote processor m4 is now attached",
		  RPROC_LOG_ATTACHED },
		{ "remoteproc remoteproc0: stopped remote processor m4", RPROC_LOG_STOPPED },
		{ "remoteproc remoteproc0: detached remote processor m4", RPROC_LOG_DETACHED },
		{ "remoteproc remoteproc0: m4 is available", RPROC_LOG_AVAILABLE },
		{ "remoteproc remoteproc0: releasing m4", RPROC_LOG_RELEASING },
		{ "remoteproc remoteproc0: can't start rproc m4: -5", RPROC_LOG_OTHER },
		{ "remoteproc remoteproc0: request_firmware failed: -2", RPROC_LOG_OTHER },
	};
	struct rproc_log_info info;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rproc_log_classify(cases[i].message, &info);
		assert_int_equal(info.event, cases[i].event);
		assert_non_null(rproc_log_event_to_string(info.event));
	}
	rproc_log_classify("remoteproc remoteproc0: handling crash #7 in m4", &info);
	assert_int_equal(info.crash_no, 7);
	assert_true(rproc_log_event_is_transition(info.event));
	/* The kernel's count is 32-bit: larger numbers are not one, on any host. */
	rproc_log_classify("remoteproc remoteproc0: handling crash #4294967295 in m4", &info);
	assert_int_equal(info.crash_no, 4294967295u);
	rproc_log_classify("remoteproc remoteproc0: handling crash #4294967296 in m4", &info);
	assert_int_equal(info.event, RPROC_LOG_CRASH_HANDLING);
	assert_int_equal(info.crash_no, 0);
	rproc_log_classify("remoteproc remoteproc0: handling crash #99999999999999999999 in m4",
			   &info);
	assert_int_equal(info.crash_no, 0);
	rproc_log_classify("remoteproc remoteproc0: powering up m4", &info);
	assert_false(rproc_log_event_is_transition(info.event));
}

/* The crash type, also when the core's name looks like the message. */
static void test_crash_reason(void **state)
{
	static const struct {
		const char *message, *reason;
	} cases[] = {
		{ "remoteproc remoteproc0: crash detected in m4: type watchdog", "watchdog" },
		{ "remoteproc remoteproc0: crash detected in m4: type fatal error", "fatal error" },
		{ "remoteproc remoteproc0: crash detected in m4: type unknown", "unknown" },
		{ "remoteproc remoteproc0: crash detected in a: type b: type mmufault",
		  "mmufault" },
		{ "remoteproc remoteproc0: crash detected in m4", "unknown" },
		{ "remoteproc remoteproc0: crash detected in m4: type "
		  "a-type-name-far-longer-than-the-field-holds",
		  "a-type-name-far-longer-than-the" },
	};
	struct rproc_log_info info;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rproc_log_classify(cases[i].message, &info);
		assert_int_equal(info.event, RPROC_LOG_CRASH_DETECTED);
		assert_string_equal(info.reason, cases[i].reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_record), cmocka_unit_test(test_parse_extensions),
		cmocka_unit_test(test_parse_bad),    cmocka_unit_test(test_filter),
		cmocka_unit_test(test_devices),	     cmocka_unit_test(test_classify),
		cmocka_unit_test(test_crash_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
