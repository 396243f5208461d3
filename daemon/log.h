/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Logging: structured journal entries when journald runs, a readable line on
 * stderr otherwise (the test VM). Thread-safe: workers log too.
 */

#include <stdarg.h>
#include <syslog.h>

#include "util.h"

void log_setup(int max_priority);
int log_get_max_priority(void);

/* Log and return -abs(error) (or 0 when error is 0). %m stands for strerror(error). */
int log_full_errno(int priority, int error, const char *fmt, ...) _printf_(3, 4);
/* A line of a core's own log (its trace buffer): in the journal under the core's name. */
void log_firmware_line(const char *core, const char *line);

#define log_debug(...)		  log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)		  log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)		  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...)	  log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)		  log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)	  log_full_errno(LOG_ERR, e, __VA_ARGS__)

/*
 * An event of one core: MESSAGE_ID, RPROC_CORE=, RPROC_STATE=, RPROC_FIRMWARE=
 * (when firmware is not NULL), ERRNO= (when error is not 0), one more field
 * key=value (when both are given) and the message.
 */
void log_core_event_full(int priority, const char *message_id, const char *core, const char *state,
			 const char *firmware, int error, const char *key, const char *value,
			 const char *fmt, ...) _printf_(9, 10);
#define log_core_event(priority, message_id, core, state, firmware, error, ...)             \
	log_core_event_full(priority, message_id, core, state, firmware, error, NULL, NULL, \
			    __VA_ARGS__)

/* The library's log callback (rproc_ctx_set_log_fn). */
void log_librproc(void *userdata, int priority, const char *file, int line, const char *func,
		  const char *format, va_list args);
