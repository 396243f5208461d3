/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * D-Bus properties as rprocctl reads them (GetAll, PropertiesChanged): every
 * value kept with its type, for the one JSON schema (numbers as numbers,
 * booleans as booleans, arrays as arrays, a struct as an object when its
 * fields have names, else as an array) and for `show`'s NAME=VALUE text.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json.h"

struct value {
	char type; /* the D-Bus type code: s o g b y n q i u x t d h a r e */
	union {
		char *str;    /* s, o, g */
		bool boolean; /* b */
		uint64_t u;   /* y, q, u, t */
		int64_t i;    /* n, i, x, h */
		double d;     /* d */
		struct {      /* a (array), r (struct), e (dict entry) */
			struct value *v;
			size_t n;
			char elem; /* a: the element's type code; '{' for a dictionary */
		} items;
	};
};

struct prop {
	char *name;
	char *signature; /* the variant's, e.g. "a(suuss)" */
	struct value v;
};

struct props {
	struct prop *v;
	size_t n;
};

/* Read the next complete value of m (a variant's content is read through). */
int value_read(sd_bus_message *m, struct value *ret);
void value_done(struct value *v);

/* Read an a{sv} (GetAll's reply, PropertiesChanged's second argument). */
int props_read(sd_bus_message *m, struct props *ret);
void props_done(struct props *p);

const struct prop *props_get(const struct props *p, const char *name);
/* The string property's text; "" when there is none or it is not a string. */
const char *props_str(const struct props *p, const char *name);
/* The number or boolean property's value; 0 when there is none. */
uint64_t props_uint(const struct props *p, const char *name);
/* The strings of an "as" property (NULL-free view; n = 0 when there is none). */
const struct value *props_strv(const struct props *p, const char *name, size_t *ret_n);

/* Write one property as "Name": value. */
void prop_json(struct json *j, const struct prop *p);
/* An object of the properties (only those named in filter, when it is not NULL). */
void props_json(struct json *j, const char *key, const struct props *p, char **filter);

/*
 * show's text for a value: strings as they are, booleans yes/no, numbers in
 * decimal, a *Timestamp (t, µs since the epoch; also LastCrashUSec, its
 * name in an older rprocd) as a local date ("" for 0),
 * a *USec (t) as a time span ("infinity" for UINT64_MAX), arrays as their
 * elements separated by spaces (an element with a space, a quote or a
 * backslash in double quotes, C-escaped), structs as "{ Field=value … }".
 * Returns a new string, NULL when out of memory.
 */
char *prop_format(const struct prop *p);
/* Nothing to show: an empty string or array, a zero *Timestamp. */
bool prop_is_empty(const struct prop *p);

/* "Wed 2026-12-03 10:00:00 UTC" for µs since the epoch, into buf; "" for 0. */
const char *format_timestamp(char *buf, size_t len, uint64_t usec);
