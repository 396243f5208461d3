/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /dev/kmsg records and naming what the remoteproc core logged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-log.h"
#include "util.h"

static bool parse_u64(const char *s, const char *end, uint64_t *ret)
{
	uint64_t v = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t) (*s - '0');
	}
	*ret = v;
	return true;
}

int kmsg_record_parse(char *buf, size_t len, struct kmsg_record *ret)
{
	char *end = buf + len, *semi, *nl, *p, *f[3];
	uint64_t v[3];

	*ret = (struct kmsg_record){ 0 };
	semi = memchr(buf, ';', len);
	if (!semi)
		return -EBADMSG;
	/* PRI,SEQ,TS_USEC,FLAGS[,more…]; */
	p = buf;
	for (int i = 0; i < 3; i++) {
		char *comma = memchr(p, ',', (size_t) (semi - p));

		if (!comma)
			return -EBADMSG;
		f[i] = p;
		if (!parse_u64(f[i], comma, &v[i]))
			return -EBADMSG;
		p = comma + 1;
	}
	if (v[0] > 0xffffffffU)
		return -EBADMSG;
	ret->priority = (unsigned) v[0];
	ret->seq = v[1];
	ret->usec = v[2];

	ret->message = semi + 1;
	nl = memchr(semi + 1, '\n', (size_t) (end - (semi + 1)));
	if (!nl) {
		/* A record always ends in a newline; tolerate a buffer that does not. */
		if (end > buf && end[-1] == '\0')
			return 0;
		return -EBADMSG;
	}
	*nl = '\0';
	/* Continuation lines: " KEY=VALUE\n". */
	for (p = nl + 1; p < end && *p == ' ';) {
		char *line = p + 1, *eol = memchr(line, '\n', (size_t) (end - line));

		if (!eol)
			eol = end;
		if (eol < end)
			*eol = '\0';
		else
			break; /* not terminated: cannot be cut in place safely */
		if (startswith(line, "SUBSYSTEM="))
			ret->subsystem = line + strlen("SUBSYSTEM=");
		else if (startswith(line, "DEVICE="))
			ret->device = line + strlen("DEVICE=");
		p = eol + 1;
	}
	return 0;
}

bool kmsg_record_is_remoteproc(const char *buf, size_t len)
{
	static const char key[] = "\n SUBSYSTEM=remoteproc\n";

	return memmem(buf, len, key, sizeof(key) - 1) != NULL;
}

static const char *const event_names[_RPROC_LOG_MAX] = {
	[RPROC_LOG_OTHER] = "other",
	[RPROC_LOG_CRASH_DETECTED] = "crash-detected",
	[RPROC_LOG_CRASH_HANDLING] = "crash-handling",
	[RPROC_LOG_RECOVERING] = "recovering",
	[RPROC_LOG_POWERING_UP] = "powering-up",
	[RPROC_LOG_ATTACHING] = "attaching",
	[RPROC_LOG_BOOTING] = "booting",
	[RPROC_LOG_UP] = "up",
	[RPROC_LOG_ATTACHED] = "attached",
	[RPROC_LOG_STOPPED] = "stopped",
	[RPROC_LOG_DETACHED] = "detached",
	[RPROC_LOG_AVAILABLE] = "available",
	[RPROC_LOG_RELEASING] = "releasing",
};

const char *rproc_log_event_to_string(enum rproc_log_event e)
{
	return e >= 0 && e < _RPROC_LOG_MAX ? event_names[e] : NULL;
}

bool rproc_log_event_is_transition(enum rproc_log_event e)
{
	switch (e) {
	case RPROC_LOG_CRASH_HANDLING:
	case RPROC_LOG_UP:
	case RPROC_LOG_ATTACHED:
	case RPROC_LOG_STOPPED:
	case RPROC_LOG_DETACHED:
	case RPROC_LOG_RECOVERING:
		return true;
	default:
		return false;
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

void rproc_log_classify(const char *message, struct rproc_log_info *ret)
{
	const char *m = strstr(message, ": "), *t;

	*ret = (struct rproc_log_info){ .event = RPROC_LOG_OTHER };
	/* dev_printk's prefix: "<class> <device>: ". */
	m = m ? m + 2 : message;

	if (startswith(m, "crash detected in ")) {
		/* The name may contain ": type " itself: the type is after the last one. */
		const char *last = NULL;

		for (t = m; (t = strstr(t, ": type ")); t++)
			last = t;
		ret->event = RPROC_LOG_CRASH_DETECTED;
		snprintf(ret->reason, sizeof(ret->reason), "%s",
			 last ? last + strlen(": type ") : "unknown");
	} else if (startswith(m, "handling crash #")) {
		char *end;
		unsigned long long n;

		/*
		 * unsigned long is 32 bits on armhf, where strtoul() saturates a
		 * larger number to ULONG_MAX, which would pass for a count.
		 */
		errno = 0;
		n = strtoull(m + strlen("handling crash #"), &end, 10);
		ret->event = RPROC_LOG_CRASH_HANDLING;
		ret->crash_no =
			errno == 0 && startswith(end, " in ") && n <= UINT32_MAX ? (unsigned) n : 0;
	} else if (startswith(m, "recovering "))
		ret->event = RPROC_LOG_RECOVERING;
	else if (startswith(m, "powering up "))
		ret->event = RPROC_LOG_POWERING_UP;
	else if (startswith(m, "attaching to "))
		ret->event = RPROC_LOG_ATTACHING;
	else if (startswith(m, "Booting fw image "))
		ret->event = RPROC_LOG_BOOTING;
	else if (startswith(m, "remote processor ") && ends_with(m, " is now up"))
		ret->event = RPROC_LOG_UP;
	else if (startswith(m, "remote processor ") && ends_with(m, " is now attached"))
		ret->event = RPROC_LOG_ATTACHED;
	else if (startswith(m, "stopped remote processor "))
		ret->event = RPROC_LOG_STOPPED;
	else if (startswith(m, "detached remote processor "))
		ret->event = RPROC_LOG_DETACHED;
	else if (startswith(m, "releasing "))
		ret->event = RPROC_LOG_RELEASING;
	else if (ends_with(m, " is available"))
		ret->event = RPROC_LOG_AVAILABLE;
}

int kmsg_device_parse(const char *device, unsigned *major, unsigned *minor, const char **sysname)
{
	unsigned a, b;
	int n = 0;

	if (!device)
		return 0;
	if (device[0] == 'c' && sscanf(device + 1, "%u:%u%n", &a, &b, &n) == 2 &&
	    device[1 + n] == '\0') {
		*major = a;
		*minor = b;
		return 1;
	}
	if (startswith(device, "+remoteproc:") && device[strlen("+remoteproc:")]) {
		*sysname = device + strlen("+remoteproc:");
		return 2;
	}
	return 0;
}
