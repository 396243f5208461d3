/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Text for D-Bus from anywhere (sysfs attributes, file names, messages that
 * quote them). sd-bus refuses a whole message when one string in it is not
 * valid UTF-8, so every such string passes through here first.
 *
 * "Valid" is what sd-bus accepts: well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without the Unicode noncharacters
 * U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF, which sd-bus rejects too. Control
 * characters are valid. Valid text is never changed.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* Does sd-bus accept s as a string? */
bool utf8_is_valid(const char *s);

/**
 * utf8_escape_invalid() - a copy of s that sd-bus accepts
 *
 * Every byte that is not part of a valid character becomes the four
 * characters "\xNN" (lowercase hex); everything else is copied as is.
 *
 * Return: a new string (free()), or NULL when out of memory.
 */
char *utf8_escape_invalid(const char *s);

/*
 * A copy of the n bytes at s with control bytes (tab too, unless keep_tab)
 * and DEL as \xNN, for text a firmware chose (no escape sequence reaches a
 * terminal, no newline splits a record). NULL when out of memory.
 */
char *escape_control_bytes(const char *s, size_t n, bool keep_tab);

/*
 * As utf8_escape_invalid(), but takes s: returns s itself when it is valid
 * (no copy), else the escaped copy with s freed. NULL in, NULL out; out of
 * memory: NULL, with s freed.
 */
char *utf8_make_valid(char *s);

/*
 * Answer call with error e; when sd-bus refuses e's text (it quotes a name
 * that is not UTF-8), with the escaped text. Every call gets its one reply.
 */
int utf8_bus_reply_error(sd_bus_message *call, const sd_bus_error *e);

/*
 * The reply of a method finished outside its handler (after an asynchronous
 * check): nothing when r >= 0 (it replied, or will), else error when set, else
 * the errno r.
 */
void bus_reply_failure(sd_bus_message *call, int r, const sd_bus_error *error);
