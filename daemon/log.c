/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_priority = LOG_INFO;
static int use_journal = -1;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

void log_setup(int priority)
{
	struct stat st;
	const char *e = getenv("RPROCD_LOG_TARGET");

	max_priority = priority;
	if (e && strcmp(e, "console") == 0)
		use_journal = 0;
	else if (e && strcmp(e, "journal") == 0)
		use_journal = 1;
	else
		use_journal = stat("/run/systemd/journal/socket", &st) == 0;
}

int log_get_max_priority(void)
{
	return max_priority;
}

static void emit(int priority, const char *message_id, const char *core, const char *state,
		 const char *firmware, int error, const char *key, const char *value,
		 const char *msg)
{
	if (use_journal > 0) {
		char *f[9] = {};
		struct iovec iov[9];
		int n = 0;

		/* "m4: booted …", as systemd writes "unit: …": plain journalctl shows the core. */
		if ((core ? asprintf(&f[n++], "MESSAGE=%s: %s", core, msg)
			  : asprintf(&f[n++], "MESSAGE=%s", msg)) < 0 ||
		    asprintf(&f[n++], "PRIORITY=%d", priority) < 0 ||
		    asprintf(&f[n++], "SYSLOG_IDENTIFIER=rprocd") < 0 ||
		    (message_id && asprintf(&f[n++], "MESSAGE_ID=%s", message_id) < 0) ||
		    (core && asprintf(&f[n++], "RPROC_CORE=%s", core) < 0) ||
		    (state && asprintf(&f[n++], "RPROC_STATE=%s", state) < 0) ||
		    (firmware && asprintf(&f[n++], "RPROC_FIRMWARE=%s", firmware) < 0) ||
		    (error && asprintf(&f[n++], "ERRNO=%d", abs_errno(error)) < 0) ||
		    (key && value && asprintf(&f[n++], "%s=%s", key, value) < 0))
			f[--n] = NULL; /* asprintf left it undefined */
		else {
			for (int i = 0; i < n; i++)
				iov[i] = (struct iovec){ f[i], strlen(f[i]) };
			sd_journal_sendv(iov, n);
		}
		for (int i = 0; i < n; i++)
			free(f[i]);
		return;
	}
	pthread_mutex_lock(&stderr_lock);
	if (core)
		fprintf(stderr, "rprocd: %s: %s", core, msg);
	else
		fprintf(stderr, "rprocd: %s", msg);
	if (state || firmware || message_id || (key && value)) {
		fprintf(stderr, " [");
		if (state)
			fprintf(stderr, "state=%s", state);
		if (firmware)
			fprintf(stderr, "%sfirmware=%s", state ? " " : "", firmware);
		if (message_id)
			fprintf(stderr, "%sid=%.8s", state || firmware ? " " : "", message_id);
		if (key && value)
			fprintf(stderr, "%s%s=%s", state || firmware || message_id ? " " : "", key,
				value);
		fprintf(stderr, "]");
	}
	fputc('\n', stderr);
	pthread_mutex_unlock(&stderr_lock);
}

void log_firmware_line(const char *core, const char *line)
{
	if (use_journal > 0) {
		(void) sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", LOG_INFO,
				       "SYSLOG_IDENTIFIER=%s", core, "RPROC_CORE=%s", core,
				       "RPROC_SOURCE=firmware", NULL);
		return;
	}
	if (LOG_INFO > max_priority)
		return;
	pthread_mutex_lock(&stderr_lock);
	fprintf(stderr, "%s[firmware]: %s\n", core, line);
	pthread_mutex_unlock(&stderr_lock);
}

/* Format with %m meaning strerror(error). */
static char *format_message(int error, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static char *format_message(int error, const char *fmt, va_list ap)
{
	char *msg = NULL;
	int saved = errno;

	errno = abs_errno(error);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	errno = saved;
	return msg;
}

int log_full_errno(int priority, int error, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (priority <= max_priority) {
		va_start(ap, fmt);
		msg = format_message(error, fmt, ap);
		va_end(ap);
		if (msg)
			emit(priority, NULL, NULL, NULL, NULL, error, NULL, NULL, msg);
		free(msg);
	}
	return error == 0 ? 0 : -abs_errno(error);
}

void log_core_event_full(int priority, const char *message_id, const char *core, const char *state,
			 const char *firmware, int error, const char *key, const char *value,
			 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (priority > max_priority)
		return;
	va_start(ap, fmt);
	msg = format_message(error, fmt, ap);
	va_end(ap);
	if (msg)
		emit(priority, message_id, core, state, firmware, error, key, value, msg);
	free(msg);
}

__attribute__((format(printf, 6, 0))) void log_librproc(void *userdata, int priority,
							const char *file, int line,
							const char *func, const char *format,
							va_list args)
{
	char *msg = NULL;

	(void) userdata;
	(void) file;
	(void) line;
	(void) func;
	if (priority > max_priority)
		return;
	if (vasprintf(&msg, format, args) < 0)
		return;
	emit(priority, NULL, NULL, NULL, NULL, 0, NULL, NULL, msg);
	free(msg);
}
