/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What rprocctl prints besides its results: diagnostics on stderr, each line
 * "rprocctl: …" (program_invocation_short_name); colours; the pager. The
 * decisions are pure functions of the environment, for the unit tests.
 */

#include <stdbool.h>

/* An error or a warning: "rprocctl: " and the message on stderr. Always printed. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A notice ("Monitoring rprocd…"): as log_error(), but -q silences it. */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Colours, as systemd decides them: $SYSTEMD_COLORS if set (a boolean, or
 * "16", "256", "24bit": on), else off if $NO_COLOR is set, else on when
 * standard output is a terminal and $TERM is set and not "dumb".
 */
bool colors_decide(const char *systemd_colors, const char *no_color, const char *term,
		   bool stdout_tty);
/* The decision for this process (made once, before a pager takes standard output). */
bool colors_enabled(void);

enum color {
	COLOR_NORMAL,
	COLOR_GREEN,
	COLOR_RED,
	COLOR_YELLOW,
	COLOR_BOLD,
	COLOR_GREY,
};
/* The escape sequence that starts c, "" when colours are off (and for COLOR_NORMAL). */
const char *color_on(enum color c);
/* The escape sequence that ends a colour, "" when colours are off. */
const char *color_off(void);
/* What ends color_on(c): as color_off(), "" for COLOR_NORMAL. */
const char *color_end(enum color c);
/* The colour of a core's State word: running and attached green, crashed red. */
enum color state_color(const char *state);

/*
 * The pager, as systemctl's: none when standard output is not a terminal,
 * $TERM is unset or "dumb", or $SYSTEMD_PAGER (else $PAGER) is "" or "cat".
 * $SYSTEMD_PAGER/$PAGER name the pager only when $SYSTEMD_PAGERSECURE is set;
 * without it, secure mode is on when the effective UID is not the owner of the
 * login session (or there is none) or $SUDO_UID is set, and then only less is
 * used. In secure mode less gets LESSSECURE=1. LESS is $SYSTEMD_LESS or
 * "FRSXMK"; LESSCHARSET is $SYSTEMD_LESSCHARSET or utf-8 in a UTF-8 locale.
 */
struct pager_env {
	const char *systemd_pager, *pager, *pagersecure, *term;
	bool stdout_tty;
	bool euid_is_session_owner; /* false also when there is no session */
	bool sudo;		    /* $SUDO_UID is set */
};

struct pager_plan {
	bool use;	 /* false: no pager */
	bool secure;	 /* LESSSECURE=1, and only less */
	const char *cmd; /* the user's pager (run with sh -c), or NULL: pager, less, more in turn */
};

/* The plan for env; negative errno when $SYSTEMD_PAGERSECURE is not a boolean (then: secure). */
int pager_decide(const struct pager_env *env, struct pager_plan *ret);

/* Start the pager if the plan says so (never with --no-pager); standard output goes to it. */
void pager_open(void);
/* Flush, close the pipe and wait for the pager to end. Safe to call when none was started. */
void pager_close(void);

/* "yes", "on", "true", "1" → 1; "no", "off", "false", "0" → 0; otherwise -EINVAL. */
int parse_boolean(const char *s);
