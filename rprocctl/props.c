/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "librproc.h"
#include "props.h"
#include "util.h"

void value_done(struct value *v)
{
	switch (v->type) {
	case 's':
	case 'o':
	case 'g':
		free(v->str);
		break;
	case 'a':
	case 'r':
	case 'e':
		for (size_t i = 0; i < v->items.n; i++)
			value_done(&v->items.v[i]);
		free(v->items.v);
		break;
	default:
		break;
	}
	*v = (struct value){};
}

static int read_items(sd_bus_message *m, struct value *v)
{
	size_t cap = 0;
	int r;

	while ((r = sd_bus_message_at_end(m, false)) == 0) {
		if (v->items.n == cap) {
			struct value *n = reallocarray(v->items.v, cap ? cap * 2 : 4, sizeof(*n));

			if (!n)
				return -ENOMEM;
			v->items.v = n;
			cap = cap ? cap * 2 : 4;
		}
		v->items.v[v->items.n] = (struct value){};
		r = value_read(m, &v->items.v[v->items.n]);
		if (r < 0)
			return r;
		v->items.n++;
	}
	return r < 0 ? r : 0;
}

int value_read(sd_bus_message *m, struct value *ret)
{
	const char *contents;
	char type;
	int r;

	*ret = (struct value){};
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (r == 0)
		return -EBADMSG;
	switch (type) {
	case 'v':
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r >= 0)
			r = value_read(m, ret);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		return r < 0 ? r : 0;
	case 'a':
	case 'r':
	case 'e':
		r = sd_bus_message_enter_container(m, type, contents);
		if (r < 0)
			return r;
		ret->type = type;
		ret->items.elem = type == 'a' ? contents[0] : 0;
		r = read_items(m, ret);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0) {
			value_done(ret);
			return r;
		}
		return 0;
	case 's':
	case 'o':
	case 'g': {
		const char *s;

		r = sd_bus_message_read_basic(m, type, &s);
		if (r < 0)
			return r;
		ret->str = strdup(s);
		if (!ret->str)
			return -ENOMEM;
		break;
	}
	case 'b': {
		int b;

		r = sd_bus_message_read_basic(m, type, &b);
		ret->boolean = b;
		break;
	}
	case 'y': {
		uint8_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->u = x;
		break;
	}
	case 'q': {
		uint16_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->u = x;
		break;
	}
	case 'u': {
		uint32_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->u = x;
		break;
	}
	case 't': {
		uint64_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->u = x;
		break;
	}
	case 'n': {
		int16_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->i = x;
		break;
	}
	case 'i':
	case 'h': {
		int32_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->i = x;
		break;
	}
	case 'x': {
		int64_t x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->i = x;
		break;
	}
	case 'd': {
		double x;

		r = sd_bus_message_read_basic(m, type, &x);
		ret->d = x;
		break;
	}
	default:
		return -EBADMSG;
	}
	if (r < 0)
		return r;
	ret->type = type;
	return 0;
}

void props_done(struct props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].signature);
		value_done(&p->v[i].v);
	}
	free(p->v);
	*p = (struct props){};
}

static int read_prop(sd_bus_message *m, struct prop *out)
{
	const char *name, *contents;
	char type;
	int r;

	r = sd_bus_message_read_basic(m, 's', &name);
	if (r < 0)
		return r;
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (type != 'v')
		return -EBADMSG;
	out->name = strdup(name);
	out->signature = strdup(contents);
	if (!out->name || !out->signature)
		return -ENOMEM;
	return value_read(m, &out->v);
}

int props_read(sd_bus_message *m, struct props *ret)
{
	size_t cap = 0;
	int r;

	*ret = (struct props){};
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (ret->n == cap) {
			struct prop *n = reallocarray(ret->v, cap ? cap * 2 : 16, sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				break;
			}
			ret->v = n;
			cap = cap ? cap * 2 : 16;
		}
		ret->v[ret->n] = (struct prop){};
		r = read_prop(m, &ret->v[ret->n++]);
		if (r < 0)
			break;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		props_done(ret);
		return r;
	}
	return 0;
}

const struct prop *props_get(const struct props *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->v[i].name, name))
			return &p->v[i];
	return NULL;
}

const char *props_str(const struct props *p, const char *name)
{
	const struct prop *x = props_get(p, name);

	if (!x || (x->v.type != 's' && x->v.type != 'o' && x->v.type != 'g'))
		return "";
	return x->v.str;
}

uint64_t props_uint(const struct props *p, const char *name)
{
	const struct prop *x = props_get(p, name);

	if (!x)
		return 0;
	switch (x->v.type) {
	case 'b':
		return x->v.boolean;
	case 'y':
	case 'q':
	case 'u':
	case 't':
		return x->v.u;
	case 'n':
	case 'i':
	case 'x':
		return x->v.i < 0 ? 0 : (uint64_t) x->v.i;
	default:
		return 0;
	}
}

const struct value *props_strv(const struct props *p, const char *name, size_t *ret_n)
{
	const struct prop *x = props_get(p, name);

	if (!x || x->v.type != 'a' || x->v.items.elem != 's') {
		*ret_n = 0;
		return NULL;
	}
	*ret_n = x->v.items.n;
	return x->v.items.v;
}

/* Struct properties whose fields have names: those are JSON objects, and "Field=value" in show. */
static const struct {
	const char *property, *signature;
	const char *fields[8];
} named_structs[] = {
	{ "Channels", "a(suuss)", { "Name", "LocalAddress", "RemoteAddress", "Device", "Node" } },
};

static const char *const *struct_fields(const struct prop *p)
{
	for (size_t i = 0; p && i < ELEMENTSOF(named_structs); i++)
		if (streq(named_structs[i].property, p->name) &&
		    streq(named_structs[i].signature, p->signature))
			return named_structs[i].fields;
	return NULL;
}

static void value_json(struct json *j, const char *key, const struct value *v,
		       const char *const *fields)
{
	switch (v->type) {
	case 's':
	case 'o':
	case 'g':
		json_string(j, key, v->str);
		break;
	case 'b':
		json_bool(j, key, v->boolean);
		break;
	case 'y':
	case 'q':
	case 'u':
	case 't':
		json_uint(j, key, v->u);
		break;
	case 'n':
	case 'i':
	case 'x':
	case 'h':
		json_int(j, key, v->i);
		break;
	case 'd':
		json_double(j, key, v->d);
		break;
	case 'a':
		/* a dictionary with string keys is an object */
		if (v->items.elem == '{' && v->items.n > 0 && v->items.v[0].items.n == 2 &&
		    v->items.v[0].items.v[0].type == 's') {
			json_begin_object(j, key);
			for (size_t i = 0; i < v->items.n; i++)
				value_json(j, v->items.v[i].items.v[0].str,
					   &v->items.v[i].items.v[1], NULL);
			json_end_object(j);
			break;
		}
		json_begin_array(j, key);
		for (size_t i = 0; i < v->items.n; i++)
			value_json(j, NULL, &v->items.v[i], fields);
		json_end_array(j);
		break;
	case 'r':
		if (fields) {
			json_begin_object(j, key);
			for (size_t i = 0; i < v->items.n; i++) {
				char other[32];

				if (i < 8 && fields[i])
					value_json(j, fields[i], &v->items.v[i], NULL);
				else {
					snprintf(other, sizeof(other), "Field%zu", i);
					value_json(j, other, &v->items.v[i], NULL);
				}
			}
			json_end_object(j);
			break;
		}
		/* A struct without names is an array. */
		/* fall through */
	case 'e':
		json_begin_array(j, key);
		for (size_t i = 0; i < v->items.n; i++)
			value_json(j, NULL, &v->items.v[i], NULL);
		json_end_array(j);
		break;
	default:
		json_null(j, key);
	}
}

void prop_json(struct json *j, const struct prop *p)
{
	value_json(j, p->name, &p->v, struct_fields(p));
}

void props_json(struct json *j, const char *key, const struct props *p, char **filter)
{
	json_begin_object(j, key);
	for (size_t i = 0; i < p->n; i++)
		if (!filter || strv_contains(filter, p->v[i].name))
			prop_json(j, &p->v[i]);
	json_end_object(j);
}

const char *format_timestamp(char *buf, size_t len, uint64_t usec)
{
	time_t t = (time_t) (usec / 1000000);
	struct tm tm;

	if (len == 0)
		return buf;
	buf[0] = 0;
	if (usec == 0 || !localtime_r(&t, &tm))
		return buf;
	if (strftime(buf, len, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		buf[0] = 0;
	return buf;
}

/*
 * A point in time (µs since the epoch), shown as a date: *Timestamp, as
 * systemd has it, and LastCrashUSec, the name an older rprocd gives
 * LastCrashTimestamp.
 */
static bool is_timestamp(const char *name)
{
	return name && (endswith(name, "Timestamp") || streq(name, "LastCrashUSec"));
}

/* Append text to a growing string (NULL stays NULL: out of memory). */
static void append(char **s, const char *text)
{
	size_t a, b;
	char *n;

	if (!*s)
		return;
	a = strlen(*s);
	b = strlen(text);
	n = realloc(*s, a + b + 1);
	if (!n) {
		free(*s);
		*s = NULL;
		return;
	}
	memcpy(n + a, text, b + 1);
	*s = n;
}

/* An element of a list: quoted and C-escaped when it has a space, a quote or a backslash. */
static void append_word(char **s, const char *w)
{
	char c[8];

	if (!*w || strpbrk(w, " \t\n\"\\")) {
		append(s, "\"");
		for (const char *p = w; *p; p++) {
			if (*p == '"' || *p == '\\')
				snprintf(c, sizeof(c), "\\%c", *p);
			else if (*p == '\n')
				snprintf(c, sizeof(c), "\\n");
			else if (*p == '\t')
				snprintf(c, sizeof(c), "\\t");
			else
				snprintf(c, sizeof(c), "%c", *p);
			append(s, c);
		}
		append(s, "\"");
	} else
		append(s, w);
}

static void append_value(char **s, const struct value *v, const char *name,
			 const char *const *fields, bool in_list)
{
	char buf[128];

	switch (v->type) {
	case 's':
	case 'o':
	case 'g':
		if (in_list)
			append_word(s, v->str);
		else
			append(s, v->str);
		return;
	case 'b':
		append(s, v->boolean ? "yes" : "no");
		return;
	case 't':
		if (is_timestamp(name)) {
			format_timestamp(buf, sizeof(buf), v->u);
			if (in_list)
				append_word(s, buf);
			else
				append(s, buf);
			return;
		}
		if (name && strstr(name, "USec")) {
			rproc_format_timespan(buf, sizeof(buf), v->u);
			if (in_list)
				append_word(s, buf);
			else
				append(s, buf);
			return;
		}
		/* fall through */
	case 'y':
	case 'q':
	case 'u':
		snprintf(buf, sizeof(buf), "%" PRIu64, v->u);
		append(s, buf);
		return;
	case 'n':
	case 'i':
	case 'x':
	case 'h':
		snprintf(buf, sizeof(buf), "%" PRId64, v->i);
		append(s, buf);
		return;
	case 'd':
		snprintf(buf, sizeof(buf), "%g", v->d);
		append(s, buf);
		return;
	case 'a':
		for (size_t i = 0; i < v->items.n; i++) {
			if (i > 0)
				append(s, " ");
			append_value(s, &v->items.v[i], NULL, fields, true);
		}
		return;
	case 'r':
	case 'e':
		append(s, "{");
		for (size_t i = 0; i < v->items.n; i++) {
			append(s, " ");
			if (fields && i < 8 && fields[i]) {
				append(s, fields[i]);
				append(s, "=");
			}
			append_value(s, &v->items.v[i], NULL, NULL, true);
		}
		append(s, " }");
		return;
	default:
		return;
	}
}

char *prop_format(const struct prop *p)
{
	char *s = strdup("");

	append_value(&s, &p->v, p->name, struct_fields(p), false);
	return s;
}

bool prop_is_empty(const struct prop *p)
{
	switch (p->v.type) {
	case 's':
	case 'o':
	case 'g':
		return !*p->v.str;
	case 'a':
		return p->v.items.n == 0;
	case 't':
		return is_timestamp(p->name) && p->v.u == 0;
	default:
		return false;
	}
}
