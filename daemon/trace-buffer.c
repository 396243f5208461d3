/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace-buffer.h"
#include "utf8.h"
#include "util.h"

void trace_buffer_reset(struct trace_buffer *t)
{
	t->valid = false;
	t->pos = 0;
}

int trace_buffer_restore(struct trace_buffer *t, const char *prev, size_t len, size_t pos)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, prev, len);
	copy[len] = '\0';
	free(t->prev);
	t->prev = copy;
	t->prev_len = len;
	t->pos = pos < len ? pos : len;
	t->valid = true;
	return 0;
}

void trace_buffer_done(struct trace_buffer *t)
{
	free(t->prev);
	*t = (struct trace_buffer){};
}

/* One line out: control bytes (but tab) as \xNN, then invalid UTF-8 escaped. */
static int emit(const char *s, size_t n, trace_line_fn fn, void *userdata)
{
	_cleanup_free_ char *raw = NULL, *text = NULL;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0)
		return 0; /* an empty line says nothing */
	raw = escape_control_bytes(s, n, true);
	if (!raw)
		return -ENOMEM;
	text = utf8_escape_invalid(raw);
	if (!text)
		return -ENOMEM;
	fn(userdata, text);
	return 1;
}

/* Give out the complete lines of s[0..n); returns how many bytes were consumed. */
static int emit_lines(const char *s, size_t n, bool all, trace_line_fn fn, void *userdata,
		      size_t *consumed, unsigned *count)
{
	size_t start = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n' && i - start + 1 < TRACE_LINE_MAX)
			continue;
		r = emit(s + start, i - start + (s[i] == '\n' ? 0 : 1), fn, userdata);
		if (r < 0)
			return r;
		*count += (unsigned) r;
		start = i + 1;
	}
	if (all && start < n) {
		r = emit(s + start, n - start, fn, userdata);
		if (r < 0)
			return r;
		*count += (unsigned) r;
		start = n;
	}
	*consumed = start;
	return 0;
}

/* e (an end of changed text) moved to the end of its line, if a newline comes soon enough. */
static size_t line_end(const char *buf, size_t e, size_t limit)
{
	if (e == 0 || buf[e - 1] == '\n')
		return e;
	for (size_t j = e; j < limit && j < e + TRACE_LINE_MAX; j++)
		if (buf[j] == '\n')
			return j + 1;
	return e;
}

static bool changed(const struct trace_buffer *t, const char *buf, size_t i)
{
	return i >= t->prev_len || buf[i] != t->prev[i];
}

int trace_buffer_feed(struct trace_buffer *t, const char *buf, size_t len, trace_line_fn fn,
		      void *userdata)
{
	size_t tail_end = 0, head_end = 0, head_first = SIZE_MAX, tail_len, used = 0;
	_cleanup_free_ char *joined = NULL;
	unsigned count = 0;
	char *copy;
	int r;

	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	copy[len] = '\0';

	if (!t->valid || t->pos > len) {
		/* A new boot (or a buffer that shrank: the firmware started over): all of it. */
		r = emit_lines(buf, len, false, fn, userdata, &used, &count);
		t->pos = used;
		goto done;
	}
	/*
	 * What changed since the last snapshot is what was written: from pos
	 * on, and, when the ring wrapped, from its start too. The bytes after
	 * the last change are old text the writer has not reached.
	 */
	for (size_t i = t->pos; i < len; i++)
		if (changed(t, buf, i))
			tail_end = i + 1;
	for (size_t i = 0; i < t->pos && i < len; i++)
		if (changed(t, buf, i)) {
			if (head_first == SIZE_MAX)
				head_first = i;
			head_end = i + 1;
		}
	/* Lines are written whole: a change ends with its line, whose end may equal the old one. */
	head_end = line_end(buf, head_end, t->pos < len ? t->pos : len);
	tail_end = line_end(buf, tail_end, len);

	if (head_end > 0 && tail_end == 0) {
		/*
		 * Changed in place before pos, nothing after it: an old line
		 * rewritten (an uptime counter, say). Those lines, once.
		 */
		size_t from = head_first;

		while (from > 0 && buf[from - 1] != '\n')
			from--;
		r = emit_lines(buf + from, head_end - from, true, fn, userdata, &used, &count);
		goto done;
	}
	if (head_end > 0)
		tail_end = len; /* the ring wrapped: the writer went through the end first */
	tail_len = tail_end > t->pos ? tail_end - t->pos : 0;
	joined = calloc(1, tail_len + head_end + 1);
	if (!joined) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(joined, buf + t->pos, tail_len);
	memcpy(joined + tail_len, buf, head_end);
	/* Across a wrap, a partial line is given out as it is: its start is gone after. */
	r = emit_lines(joined, tail_len + head_end, head_end > 0, fn, userdata, &used, &count);
	t->pos = head_end > 0 ? head_end : t->pos + used;
done:
	free(t->prev);
	t->prev = copy;
	t->prev_len = len;
	t->valid = true;
	return r < 0 ? r : (int) count;
}
