/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firmware's own log: a remote processor's trace buffer, which the
 * kernel shows in debugfs (remoteproc/remoteprocN/trace0) while the core
 * runs, forwarded line by line into the journal under the core's name
 * (SYSLOG_IDENTIFIER=NAME, RPROC_CORE=NAME, RPROC_SOURCE=firmware). The
 * kernel says nothing when the firmware writes there, so the buffers are
 * read every TraceIntervalSec= (1 s), and only while a running core has one:
 * a board without traces (or without debugfs) gets no wakeup for this.
 * trace-buffer.c decides what is new across appends, wrap-around and boots.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"
#include "log.h"
#include "manager.h"
#include "trace-buffer.h"
#include "util.h"

/* The firmware may have a bigger buffer, the kernel shows it all: read at most this much. */
#define TRACE_READ_MAX (1024 * 1024)

static uint64_t trace_interval(const struct manager *m)
{
	uint64_t v = m->config ? m->config->trace_interval_usec : RPROC_POLL_INTERVAL_AUTO;

	return v == RPROC_POLL_INTERVAL_AUTO ? RPROC_DEFAULT_TRACE_INTERVAL_USEC : v;
}

static char *trace_path(const struct core *c)
{
	_cleanup_free_ char *p = strdup_printf("/sys/kernel/debug/remoteproc/%s/trace0",
					       rproc_device_get_sysname(c->dev));
	char *host = NULL;

	if (!p || rproc_ctx_path(c->manager->ctx, p, &host) < 0)
		return NULL;
	return host;
}

/* Per read: a firmware that floods its buffer must not flood the journal (or stall the loop). */
#define TRACE_LINES_PER_READ 1000

struct forwarding {
	const struct core *core;
	unsigned lines, skipped;
};

static void forward(void *userdata, const char *line)
{
	struct forwarding *f = userdata;

	if (f->lines++ < TRACE_LINES_PER_READ)
		log_firmware_line(f->core->name, line);
	else
		f->skipped++;
}

static void core_trace_read(struct core *c)
{
	_cleanup_free_ char *path = trace_path(c), *text = NULL;
	struct forwarding f = { .core = c };
	size_t len = 0;
	int r;

	if (!path)
		return;
	r = read_full_file(path, TRACE_READ_MAX, &text, &len);
	if (r == -EFBIG) {
		log_debug("%s: trace buffer over %d bytes: not forwarded", c->name, TRACE_READ_MAX);
		c->has_trace = false;
		return;
	}
	if (r < 0) {
		/* Gone with the firmware (stopped, crashed, debugfs unmounted): nothing to forward. */
		c->has_trace = false;
		return;
	}
	/* The kernel shows the buffer up to its first NUL; a file read has no NUL inside. */
	len = strnlen(text, len);
	if (trace_buffer_feed(&c->trace, text, len, forward, &f) < 0)
		log_warning("%s: out of memory forwarding its trace buffer", c->name);
	if (f.skipped > 0)
		log_warning("%s: %u more lines of its trace buffer since the last read not "
			    "forwarded (at most %d per read)",
			    c->name, f.skipped, TRACE_LINES_PER_READ);
}

static int on_trace_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	(void) s, (void) usec;
	for (size_t i = 0; i < m->n_cores; i++)
		if (m->cores[i]->has_trace && core_state_is_up(m->cores[i]->state))
			core_trace_read(m->cores[i]);
	manager_trace_arm(m);
	return 0;
}

void manager_trace_arm(struct manager *m)
{
	bool any = false;
	uint64_t interval = trace_interval(m);
	int r;

	for (size_t i = 0; i < m->n_cores && !any; i++)
		any = m->cores[i]->has_trace && core_state_is_up(m->cores[i]->state);
	if (!any || interval == RPROC_USEC_INFINITY) {
		if (m->trace_timer)
			sd_event_source_set_enabled(m->trace_timer, SD_EVENT_OFF);
		return;
	}
	if (m->trace_timer) {
		int enabled = SD_EVENT_OFF;

		(void) sd_event_source_get_enabled(m->trace_timer, &enabled);
		if (enabled != SD_EVENT_OFF)
			return;
		r = sd_event_source_set_time_relative(m->trace_timer, interval)
			    ?: sd_event_source_set_enabled(m->trace_timer, SD_EVENT_ONESHOT);
	} else
		r = sd_event_add_time_relative(m->event, &m->trace_timer, CLOCK_MONOTONIC, interval,
					       0, on_trace_timer, m);
	if (r < 0)
		log_warning_errno(r, "Cannot arm the trace buffer timer: %m");
}

void core_trace_update(struct core *c)
{
	bool up = core_state_is_up(c->state) && !c->removed;

	if (!up) {
		/* Crashed: the firmware's last words may still be there (until a recovery). */
		if (c->has_trace && c->state == RPROC_STATE_CRASHED && !c->removed)
			core_trace_read(c);
		if (c->has_trace || c->trace.valid)
			trace_buffer_reset(&c->trace);
		c->has_trace = false;
		c->trace_up_since_usec = 0;
		return;
	}
	/* Up (again): a new boot of the firmware has a new buffer, read at once. */
	if (c->trace_up_since_usec != c->up_since_usec) {
		_cleanup_free_ char *path = trace_path(c);

		c->trace_up_since_usec = c->up_since_usec;
		trace_buffer_reset(&c->trace);
		c->has_trace = path && access(path, R_OK) == 0 &&
			       trace_interval(c->manager) != RPROC_USEC_INFINITY;
		if (c->has_trace)
			core_trace_read(c);
	}
}
