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
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "kernel.h"
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

void core_trace_forget_crashes(struct core *c)
{
	for (unsigned i = 0; i < c->n_crash_traces; i++)
		free(c->crash_traces[i].text);
	c->n_crash_traces = 0;
}

char *core_trace_take_crash(struct core *c, size_t *ret_len)
{
	char *text;

	*ret_len = 0;
	if (c->n_crash_traces == 0)
		return NULL;
	text = c->crash_traces[0].text;
	*ret_len = c->crash_traces[0].len;
	memmove(&c->crash_traces[0], &c->crash_traces[1],
		(c->n_crash_traces - 1) * sizeof(c->crash_traces[0]));
	c->n_crash_traces--;
	return text;
}

static void push_crash_trace(struct core *c, char *text, size_t len)
{
	if (c->n_crash_traces == ELEMENTSOF(c->crash_traces)) {
		/* Dumps that never came: the oldest goes. */
		free(c->crash_traces[0].text);
		memmove(&c->crash_traces[0], &c->crash_traces[1],
			(c->n_crash_traces - 1) * sizeof(c->crash_traces[0]));
		c->n_crash_traces--;
	}
	c->crash_traces[c->n_crash_traces].text = text;
	c->crash_traces[c->n_crash_traces].len = text ? len : 0;
	c->n_crash_traces++;
}

/*
 * A crash was counted: keep the buffer as the crash left it, to save beside
 * the coredump (core-coredump.c). The kernel keeps the crashed image's
 * memory until its recovery starts the core again (a recovery stops the
 * core and makes the dump before it starts it; Coredump=inline waits for
 * the dump to be read): trace0 is read now, and the read counts only if the
 * core is still down after it. Otherwise (the kernel was faster) the last
 * periodic read, at most TraceIntervalSec= old, is the closest to the crash.
 * Each crash with a dump to come gets an entry (none: no trace is saved).
 */
void core_trace_snapshot_crash(struct core *c)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	enum rproc_state after;
	size_t len = 0;

	if (c->removed || c->coredump == RPROC_COREDUMP_DISABLED || !core_is_managed(c) ||
	    c->config->settings.coredump == RPROC_COREDUMP_DISABLED)
		return;
	path = trace_path(c);
	if (path && read_full_file(path, TRACE_READ_MAX, &text, &len) >= 0 &&
	    kernel_read_state(c->manager->kernel, c->dev, &after) >= 0 &&
	    !core_state_is_up(after) && (len = strnlen(text, len)) > 0) {
		push_crash_trace(c, TAKE_PTR(text), len);
		return;
	}
	free(TAKE_PTR(text));
	if (c->trace.valid && c->trace.prev_len > 0) {
		text = malloc(c->trace.prev_len);
		if (text) {
			memcpy(text, c->trace.prev, c->trace.prev_len);
			push_crash_trace(c, TAKE_PTR(text), c->trace.prev_len);
			return;
		}
	}
	push_crash_trace(c, NULL, 0);
}

/*
 * Across a restart of rprocd: at a clean exit, what was given out of each
 * running core's buffer is saved (the snapshot and the position in it) in
 * the state directory, one file per core device, with the boot id; the next
 * run goes on from there for a core it finds running at its first look, in
 * the same boot. A core found down, then booted, starts afresh; the file is
 * used once. Not covered: a kill -9 (the buffer is forwarded again, once),
 * and a firmware restarted by someone else while rprocd was not running
 * whose new text starts as the old one did (taken as the same boot).
 */
#define TRACE_STATE_DIR	  "/var/lib/rprocd/trace"
#define TRACE_STATE_MAGIC "rprocd-trace 1\n"

static char *trace_state_path(const struct manager *m, const char *sysname)
{
	_cleanup_free_ char *p =
		sysname ? path_join(TRACE_STATE_DIR, sysname) : strdup(TRACE_STATE_DIR);
	char *host = NULL;

	if (!p || rproc_ctx_path(m->ctx, p, &host) < 0)
		return NULL;
	return host;
}

static int write_trace_state(const char *dir, const struct core *c, const char *boot_id)
{
	const char *sysname = rproc_device_get_sysname(c->dev);
	_cleanup_free_ char *header = NULL, *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r = 0;

	header = strdup_printf(TRACE_STATE_MAGIC "boot %s\ncore %s\npos %zu\nlen %zu\n\n", boot_id,
			       c->name, c->trace.pos, c->trace.prev_len);
	path = path_join(dir, sysname);
	tmp = strdup_printf("%s/.%s.tmp", dir, sysname);
	if (!header || !path || !tmp)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, header, strlen(header));
	if (r >= 0)
		r = write_all(fd, c->trace.prev, c->trace.prev_len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(fd)) < 0 && errno != EINTR)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void) unlink(tmp);
	return r;
}

/* After the first look: what an earlier run saved and no core took is stale. */
void manager_trace_state_done(struct manager *m)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (m->trace_state_used)
		return;
	m->trace_state_used = true;
	dir = trace_state_path(m, NULL);
	d = dir ? opendir(dir) : NULL;
	while (d && (de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			(void) unlinkat(dirfd(d), de->d_name, 0);
}

void manager_trace_save(struct manager *m)
{
	_cleanup_free_ char *dir = trace_state_path(m, NULL);
	_cleanup_closedir_ DIR *d = NULL;
	char boot_id[40];
	struct dirent *de;
	bool any = false;
	int r;

	if (!dir)
		return;
	/* What an earlier run left is stale now: only this run's view counts. */
	d = opendir(dir);
	while (d && (de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			(void) unlinkat(dirfd(d), de->d_name, 0);
	for (size_t i = 0; i < m->n_cores; i++) {
		const struct core *c = m->cores[i];

		if (!c->has_trace || !c->trace.valid || c->removed || !core_state_is_up(c->state))
			continue;
		/* The name is a line of the file: one with control bytes is not saved. */
		if (strpbrk(c->name, "\n\r"))
			continue;
		if (!any) {
			if (read_boot_id(boot_id, sizeof(boot_id)) < 0)
				return;
			r = mkdir_p(dir, 0700);
			if (r < 0) {
				log_warning_errno(
					r, "Cannot save the trace buffers' state in %s: %m", dir);
				return;
			}
			any = true;
		}
		r = write_trace_state(dir, c, boot_id);
		if (r < 0)
			log_warning_errno(r, "%s: cannot save its trace buffer's state: %m",
					  c->name);
	}
}

/* "KEY DIGITS\n" at *p: the number, and *p past the newline. */
static bool parse_field(const char **p, const char *key, size_t *ret)
{
	unsigned long long v;
	char *end;

	if (strncmp(*p, key, strlen(key)) != 0)
		return false;
	*p += strlen(key);
	if (!isdigit((unsigned char) **p))
		return false;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno != 0 || *end != '\n' || v > SIZE_MAX)
		return false;
	*ret = (size_t) v;
	*p = end + 1;
	return true;
}

/* An earlier run's state for this core, if it is of this boot and this core: used once. */
static void core_trace_restore(struct core *c)
{
	_cleanup_free_ char *path = trace_state_path(c->manager, rproc_device_get_sysname(c->dev));
	_cleanup_free_ char *text = NULL, *expect = NULL;
	char boot_id[40];
	size_t len = 0, pos, prev_len;
	const char *body;
	int r;

	if (!path)
		return;
	r = read_full_file(path, TRACE_READ_MAX + 4096, &text, &len);
	(void) unlink(path);
	if (r < 0 || read_boot_id(boot_id, sizeof(boot_id)) < 0)
		return;
	expect = strdup_printf(TRACE_STATE_MAGIC "boot %s\ncore %s\n", boot_id, c->name);
	if (!expect || len < strlen(expect) || memcmp(text, expect, strlen(expect)) != 0)
		return;
	body = text + strlen(expect);
	/* Exactly "pos N\nlen N\n\n", then len bytes. */
	if (!parse_field(&body, "pos ", &pos) || !parse_field(&body, "len ", &prev_len) ||
	    *body != '\n')
		return;
	body++;
	if ((size_t) (text + len - body) != prev_len || pos > prev_len)
		return;
	if (trace_buffer_restore(&c->trace, body, prev_len, pos) >= 0)
		log_debug("%s: going on with its trace buffer where the last run of rprocd left it",
			  c->name);
}

void core_trace_update(struct core *c)
{
	bool up = core_state_is_up(c->state) && !c->removed;
	/* Only at rprocd's first look at the cores: a core added later is a new device. */
	bool first = !c->trace_seen && !c->manager->trace_state_used;

	c->trace_seen = true;

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
		/* Up at rprocd's first look: maybe the boot an earlier run forwarded already. */
		if (c->has_trace && first)
			core_trace_restore(c);
		if (c->has_trace)
			core_trace_read(c);
	}
}
