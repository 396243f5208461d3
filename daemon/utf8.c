/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/*
 * Invalid bytes become "\xNN" rather than U+FFFD: the bytes are what the
 * kernel (or a file name) holds, and an administrator who has to find or
 * fix the file a firmware attribute names needs to see them; U+FFFD would
 * make different bad names look the same. A literal "\x41" in valid text
 * stays as it is, so the escape can be ambiguous, but valid text, the normal
 * case, is never altered (PropertiesChanged compares rendered text).
 */

/* Is c a character sd-bus accepts (see utf8.h)? */
static bool unichar_is_valid(uint32_t c)
{
	if (c > 0x10ffff)
		return false;
	if (c >= 0xd800 && c <= 0xdfff) /* UTF-16 surrogates */
		return false;
	if (c >= 0xfdd0 && c <= 0xfdef) /* noncharacters */
		return false;
	if ((c & 0xfffe) == 0xfffe) /* U+xxFFFE, U+xxFFFF */
		return false;
	return true;
}

/* Length of the valid character at s, or 0. */
static size_t char_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0; /* a continuation byte, 0xc0/0xc1 (overlong), or 0xf5.. (beyond U+10FFFF) */
	}
	/* A NUL ends the string: it is never a continuation byte, so no read beyond it. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms of 3 and 4 bytes. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000))
		return 0;
	return unichar_is_valid(c) ? n : 0;
}

bool utf8_is_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p) {
		size_t n = char_len(p);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

char *utf8_escape_invalid(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s;
	size_t len = strlen(s);
	char *out, *o;

	/* At most four bytes out for each byte in. */
	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	for (o = out; *p;) {
		size_t n = char_len(p);

		if (n > 0) {
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 0xf];
		p++;
	}
	*o = 0;
	return out;
}

char *utf8_make_valid(char *s)
{
	char *t;

	if (!s || utf8_is_valid(s))
		return s;
	t = utf8_escape_invalid(s);
	free(s);
	return t;
}

int utf8_bus_reply_error(sd_bus_message *call, const sd_bus_error *e)
{
	char *text;
	int r;

	r = sd_bus_reply_method_error(call, e);
	if (r != -EINVAL || !e->message || utf8_is_valid(e->message))
		return r;
	text = utf8_escape_invalid(e->message);
	r = sd_bus_reply_method_errorf(call, e->name, "%s", text ? text : e->name);
	free(text);
	return r;
}

void bus_reply_failure(sd_bus_message *call, int r, const sd_bus_error *error)
{
	if (r >= 0)
		return;
	if (error && sd_bus_error_is_set(error))
		(void) utf8_bus_reply_error(call, error);
	else
		(void) sd_bus_reply_method_errno(call, r, NULL);
}

char *escape_control_bytes(const char *s, size_t n, bool keep_tab)
{
	char *e = malloc(n * 4 + 1);
	size_t k = 0;

	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if ((c < 0x20 && !(keep_tab && c == '\t')) || c == 0x7f)
			k += (size_t) snprintf(e + k, 5, "\\x%02x", c);
		else
			e[k++] = (char) c;
	}
	e[k] = '\0';
	return e;
}
