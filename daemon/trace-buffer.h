/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A remote processor's trace buffer (debugfs remoteproc/remoteprocN/traceM)
 * read again and again: which lines are new. The buffer has no index: the
 * firmware appends text, may wrap around to the start (a ring), and starts
 * over when it boots. Snapshots are compared by position with the previous
 * one: an unchanged prefix means appended text; text changed before the
 * last forwarded position means the ring wrapped, and the new text is what
 * changed after that position followed by what changed from the start.
 * Only complete lines are given out; a partial one waits for its newline
 * (or is given out once it is TRACE_LINE_MAX long).
 */

#include <stdbool.h>
#include <stddef.h>

#define TRACE_LINE_MAX 1024

struct trace_buffer {
	char *prev; /* the last snapshot */
	size_t prev_len;
	size_t pos; /* in prev: just after the last line given out */
	bool valid; /* prev is from this boot of the firmware */
};

typedef void (*trace_line_fn)(void *userdata, const char *line);

/*
 * A new snapshot of len bytes (its text up to the first NUL, as the kernel
 * shows it). Calls fn once per new complete line, printable (control bytes
 * and invalid UTF-8 escaped as \xNN, at most TRACE_LINE_MAX bytes before
 * escaping). Returns the number of lines, or -ENOMEM.
 */
int trace_buffer_feed(struct trace_buffer *t, const char *buf, size_t len, trace_line_fn fn,
		      void *userdata);

/*
 * What an earlier run of rprocd had given out, to go on from there: the
 * snapshot it had and its position in it (clamped to len). -ENOMEM.
 */
int trace_buffer_restore(struct trace_buffer *t, const char *prev, size_t len, size_t pos);

/* The firmware booted again: the next snapshot is all new. */
void trace_buffer_reset(struct trace_buffer *t);
void trace_buffer_done(struct trace_buffer *t);
