/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the remoteproc core says in the kernel log. It never notifies a state
 * change through sysfs, but it logs every one with dev_info()/dev_err() on
 * the rproc device, and each /dev/kmsg record carries that device's
 * SUBSYSTEM= and DEVICE= (Documentation/ABI/testing/dev-kmsg). Pure
 * functions: parsing a record and naming the event; no I/O.
 *
 * The messages, identical in 6.1 and 6.12 (drivers/remoteproc/remoteproc_core.c):
 *   "crash detected in %s: type %s"        rproc_report_crash(), state still up
 *   "handling crash #%u in %s"             the crash work, just after state = crashed
 *   "recovering %s"                        rproc_trigger_recovery()
 *   "powering up %s" / "attaching to %s"   rproc_boot()
 *   "Booting fw image %s, size %zd"
 *   "remote processor %s is now up" / "... is now attached"
 *   "stopped remote processor %s" / "detached remote processor %s"
 *   "%s is available" / "releasing %s"     rproc_add() / the release of the device
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One /dev/kmsg record, parsed in place (the pointers point into the buffer). */
struct kmsg_record {
	unsigned priority; /* syslog priority and facility */
	uint64_t seq;
	uint64_t usec; /* the kernel's timestamp */
	const char *message;
	const char *subsystem; /* SUBSYSTEM=, or NULL */
	const char *device;    /* DEVICE=, or NULL */
};

/*
 * Parse a record of len bytes (one read() of /dev/kmsg), writing NULs into
 * buf: returns 0, or -EBADMSG when it is not a record.
 */
int kmsg_record_parse(char *buf, size_t len, struct kmsg_record *ret);

/* Is this record about a remoteproc device? Cheap: one substring search, no parsing. */
bool kmsg_record_is_remoteproc(const char *buf, size_t len);

enum rproc_log_event {
	RPROC_LOG_OTHER, /* a message that says nothing about the state */
	RPROC_LOG_CRASH_DETECTED,
	RPROC_LOG_CRASH_HANDLING,
	RPROC_LOG_RECOVERING,
	RPROC_LOG_POWERING_UP,
	RPROC_LOG_ATTACHING,
	RPROC_LOG_BOOTING,
	RPROC_LOG_UP,
	RPROC_LOG_ATTACHED,
	RPROC_LOG_STOPPED,
	RPROC_LOG_DETACHED,
	RPROC_LOG_AVAILABLE,
	RPROC_LOG_RELEASING,
	_RPROC_LOG_MAX,
};

struct rproc_log_info {
	enum rproc_log_event event;
	char reason[32];   /* RPROC_LOG_CRASH_DETECTED: the crash type ("watchdog", ...) */
	unsigned crash_no; /* RPROC_LOG_CRASH_HANDLING: the kernel's crash counter */
};

/*
 * Name the event of a remoteproc record's message ("remoteproc remoteproc0:
 * crash detected in m4: type watchdog"); the dev_printk prefix is skipped.
 */
void rproc_log_classify(const char *message, struct rproc_log_info *ret);
const char *rproc_log_event_to_string(enum rproc_log_event e);
/* Does the event mean the state may have changed (worth a read)? */
bool rproc_log_event_is_transition(enum rproc_log_event e);

/*
 * DEVICE= of a remoteproc record: "c<major>:<minor>" (the chardev, when
 * CONFIG_REMOTEPROC_CDEV) or "+remoteproc:<sysname>". Returns 1 with the
 * major and minor numbers, 2 with sysname pointing into device, or 0 when
 * neither.
 */
int kmsg_device_parse(const char *device, unsigned *major, unsigned *minor, const char **sysname);
