/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * rprocd's decisions, as pure functions of configuration and kernel state:
 * what to do when a core is first seen, what each D-Bus method means in
 * each state, and when restarts hit the start limit. No I/O here.
 */

#include <stdbool.h>
#include <stdint.h>

#include "librproc.h"

enum core_action {
	ACTION_NONE,   /* nothing to write: already there, or leave it */
	ACTION_BOOT,   /* write firmware (from offline), then start */
	ACTION_ATTACH, /* start from detached */
	ACTION_ADOPT,  /* track a running/attached core, write nothing */
	ACTION_STOP,
	ACTION_DETACH,
	ACTION_RECOVER,	   /* recovery=recover on a crashed core */
	ACTION_REFUSE,	   /* not possible in this state */
	ACTION_KERNEL_LOG, /* not an action: a state the kernel log reported */
	_ACTION_MAX,
};
const char *core_action_to_string(enum core_action a);

enum core_origin {
	ORIGIN_NONE,
	ORIGIN_BOOTED,
	ORIGIN_ATTACHED,
	ORIGIN_ADOPTED,
	_ORIGIN_MAX,
};
const char *core_origin_to_string(enum core_origin o);

enum core_method {
	METHOD_START,
	METHOD_STOP,
	METHOD_ATTACH,
	METHOD_DETACH,
	METHOD_RECOVER,
	_METHOD_MAX,
};
const char *core_method_to_string(enum core_method m);

/* The first-seen decision of Start=. */
enum core_action core_first_action(enum rproc_start_policy policy, enum rproc_state state);

/*
 * What a method asks of the kernel in a state. For METHOD_STOP on an attached
 * core, Stop= decides between shutting it down and detaching it.
 */
enum core_action core_method_action(enum core_method m, enum rproc_state state,
				    enum rproc_stop_policy stop);

/* The action on daemon exit (OnExit=) in a state. */
enum core_action core_exit_action(enum rproc_exit_policy policy, enum rproc_state state);

/* States in which the kernel may change a core's state by itself: poll those. */
bool core_state_can_change(enum rproc_state s);
/* Running or attached: the core executes and Linux talks to it. */
bool core_state_is_up(enum rproc_state s);

/* What the kernel's recovery attribute should say for OnCrash=. */
bool core_kernel_recovery_enabled(enum rproc_crash_policy p);

/*
 * Restart accounting of OnCrash=restart: at most burst restarts within
 * interval. Zero interval disables the limit.
 */
struct start_limit {
	uint64_t interval_usec;
	unsigned burst;
	uint64_t begin_usec;
	unsigned count;
};
/* Count one restart at now; false when it would exceed the limit. */
bool start_limit_test(struct start_limit *l, uint64_t now_usec);
void start_limit_reset(struct start_limit *l);
