/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small streaming JSON writer for rprocctl --json: "short" puts a document
 * on one line, "pretty" indents it by two spaces. Strings are written as
 * valid UTF-8: a byte that is not part of a valid UTF-8 character becomes
 * the text \xNN (a backslash, 'x' and two lowercase hex digits), as rprocd
 * does on the bus.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum json_mode {
	JSON_OFF,
	JSON_SHORT,
	JSON_PRETTY,
};

/* "short", "pretty", "off" (NULL: short, as plain --json); negative errno if none of them. */
int json_mode_from_string(const char *s, enum json_mode *ret);

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

/* A writer on f for mode (JSON_PRETTY indents; anything else is short). */
void json_init(struct json *j, FILE *f, enum json_mode mode);

/* key is NULL for an element of an array or for the document itself. */
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *value); /* NULL → null */
void json_uint(struct json *j, const char *key, uint64_t value);
void json_int(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value); /* NaN, ±inf → null */
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);
/* End the document with a newline and flush. */
void json_finish(struct json *j);

/*
 * Write s as a JSON string literal (with its quotes) to f, invalid UTF-8
 * escaped as above.
 */
void json_write_string(FILE *f, const char *s);
