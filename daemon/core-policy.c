/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core-policy.h"

const char *core_action_to_string(enum core_action a)
{
	static const char *const t[_ACTION_MAX] = {
		[ACTION_NONE] = "none",
		[ACTION_BOOT] = "boot",
		[ACTION_ATTACH] = "attach",
		[ACTION_ADOPT] = "adopt",
		[ACTION_STOP] = "stop",
		[ACTION_DETACH] = "detach",
		[ACTION_RECOVER] = "recover",
		[ACTION_REFUSE] = "refuse",
		[ACTION_KERNEL_LOG] = "kernel-log",
	};
	return (unsigned) a < _ACTION_MAX ? t[a] : NULL;
}

const char *core_origin_to_string(enum core_origin o)
{
	static const char *const t[_ORIGIN_MAX] = {
		[ORIGIN_NONE] = "",
		[ORIGIN_BOOTED] = "booted",
		[ORIGIN_ATTACHED] = "attached",
		[ORIGIN_ADOPTED] = "adopted",
	};
	return (unsigned) o < _ORIGIN_MAX ? t[o] : "";
}

const char *core_method_to_string(enum core_method m)
{
	static const char *const t[_METHOD_MAX] = {
		[METHOD_START] = "Start",     [METHOD_STOP] = "Stop",
		[METHOD_ATTACH] = "Attach",   [METHOD_DETACH] = "Detach",
		[METHOD_RECOVER] = "Recover",
	};
	return (unsigned) m < _METHOD_MAX ? t[m] : NULL;
}

enum core_action core_first_action(enum rproc_start_policy policy, enum rproc_state state)
{
	if (policy == RPROC_START_NO)
		return ACTION_NONE;

	switch (state) {
	case RPROC_STATE_DETACHED:
		/* Started by a bootloader: every policy but "no" attaches. */
		return ACTION_ATTACH;
	case RPROC_STATE_RUNNING:
	case RPROC_STATE_ATTACHED:
		return ACTION_ADOPT;
	case RPROC_STATE_OFFLINE:
		return policy == RPROC_START_ATTACH ? ACTION_NONE : ACTION_BOOT;
	default:
		/* crashed (OnCrash= decides, in core.c), suspended, deleted, invalid: no action */
		return ACTION_NONE;
	}
}

enum core_action core_method_action(enum core_method m, enum rproc_state state,
				    enum rproc_stop_policy stop)
{
	switch (m) {
	case METHOD_START:
		switch (state) {
		case RPROC_STATE_OFFLINE:
			return ACTION_BOOT;
		case RPROC_STATE_DETACHED:
			return ACTION_ATTACH;
		case RPROC_STATE_RUNNING:
		case RPROC_STATE_ATTACHED:
			return ACTION_NONE;
		case RPROC_STATE_CRASHED:
			/* "start" on a crashed core only pins a reference: recover instead. */
			return ACTION_RECOVER;
		default:
			return ACTION_REFUSE;
		}
	case METHOD_STOP:
		switch (state) {
		case RPROC_STATE_RUNNING:
		case RPROC_STATE_CRASHED:
			return ACTION_STOP;
		case RPROC_STATE_ATTACHED:
			return stop == RPROC_STOP_DETACH ? ACTION_DETACH : ACTION_STOP;
		case RPROC_STATE_OFFLINE:
		case RPROC_STATE_DETACHED:
			return ACTION_NONE;
		default:
			return ACTION_REFUSE;
		}
	case METHOD_ATTACH:
		switch (state) {
		case RPROC_STATE_DETACHED:
			return ACTION_ATTACH;
		case RPROC_STATE_ATTACHED:
			return ACTION_NONE;
		default:
			return ACTION_REFUSE;
		}
	case METHOD_DETACH:
		switch (state) {
		case RPROC_STATE_ATTACHED:
			return ACTION_DETACH;
		case RPROC_STATE_DETACHED:
			return ACTION_NONE;
		default:
			/* A core Linux booted cannot be detached (the kernel says EINVAL). */
			return ACTION_REFUSE;
		}
	case METHOD_RECOVER:
		return state == RPROC_STATE_CRASHED ? ACTION_RECOVER : ACTION_REFUSE;
	default:
		return ACTION_REFUSE;
	}
}

enum core_action core_exit_action(enum rproc_exit_policy policy, enum rproc_state state)
{
	switch (policy) {
	case RPROC_EXIT_STOP:
		return state == RPROC_STATE_RUNNING || state == RPROC_STATE_ATTACHED ||
				       state == RPROC_STATE_CRASHED
			       ? ACTION_STOP
			       : ACTION_NONE;
	case RPROC_EXIT_DETACH:
		/* Only an attached core can be detached; a booted one is left running. */
		return state == RPROC_STATE_ATTACHED ? ACTION_DETACH : ACTION_NONE;
	default:
		return ACTION_NONE;
	}
}

bool core_state_can_change(enum rproc_state s)
{
	return s == RPROC_STATE_RUNNING || s == RPROC_STATE_ATTACHED || s == RPROC_STATE_CRASHED;
}

bool core_state_is_up(enum rproc_state s)
{
	return s == RPROC_STATE_RUNNING || s == RPROC_STATE_ATTACHED;
}

bool core_kernel_recovery_enabled(enum rproc_crash_policy p)
{
	return p == RPROC_CRASH_KERNEL;
}

bool start_limit_test(struct start_limit *l, uint64_t now)
{
	if (l->interval_usec == 0 || l->burst == 0)
		return true;
	if (l->begin_usec == 0 || now < l->begin_usec || now - l->begin_usec > l->interval_usec) {
		l->begin_usec = now;
		l->count = 0;
	}
	if (l->count >= l->burst)
		return false;
	l->count++;
	return true;
}

void start_limit_reset(struct start_limit *l)
{
	l->begin_usec = 0;
	l->count = 0;
}
