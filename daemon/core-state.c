/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one owner of a core's kernel state. Every read of the kernel ends in
 * core_observe(), which records the transition and applies what follows from
 * it on this core; whatever crosses cores is left to the manager's run queue.
 */
#include <time.h>

#include "core.h"
#include "kernel-events.h"
#include "kernel-log.h"
#include "kernel.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

/*
 * A core that went down without rprocd may be in the kernel's recovery, which
 * reads "offline" for the whole firmware load and start: it is watched that
 * long, or its return would go unseen (nothing else announces it).
 */
#define CORE_WATCH_AFTER_DOWN_USEC (60ULL * 1000000)

void core_changed(struct core *c)
{
	c->queued_emit = true;
	manager_schedule(c->manager);
}

/* Did rprocd's own action bring the core from old to s? Then the job logs it. */
static bool caused_by(enum core_action cause, enum rproc_state old, enum rproc_state s)
{
	switch (cause) {
	case ACTION_BOOT:
	case ACTION_RECOVER:
		return core_state_is_up(s);
	case ACTION_ATTACH:
		return s == RPROC_STATE_ATTACHED;
	case ACTION_STOP:
		return s == RPROC_STATE_OFFLINE;
	case ACTION_DETACH:
		return s == RPROC_STATE_DETACHED;
	default:
		return false;
	}
}

void core_observe(struct core *c, enum rproc_state s, enum core_action cause)
{
	enum rproc_state old = c->state;
	bool first = !c->observed;

	if (c->removed)
		return;
	c->observed = true;
	if (s == old && !first)
		return;
	c->state = s;
	log_debug("%s: %s -> %s (%s%s)", c->name, rproc_state_to_string(old),
		  rproc_state_to_string(s), core_action_to_string(cause),
		  c->in_work ? ", read by a worker" : "");
	core_changed(c);
	/* Up again, whoever did it: whatever held the power reference let go. */
	if (core_state_is_up(s) && c->wedged) {
		c->wedged = false;
		core_log(c, LOG_NOTICE, NULL, 0, "up again: no longer wedged");
	}
	/* Stopped while crashed: the kernel makes no dump of that crash. */
	if (old == RPROC_STATE_CRASHED && s == RPROC_STATE_OFFLINE && cause == ACTION_STOP) {
		c->awaiting_dumps = 0;
		core_trace_forget_crashes(c);
	}

	if (first) {
		/*
		 * Found crashed: a crash this rprocd saw, whatever the policy makes
		 * of it. Handled after the log was opened, its record is pending:
		 * paired, not counted again. (None pending: from before, none comes.)
		 */
		if (s == RPROC_STATE_CRASHED) {
			core_crash_pair_pending(c);
			core_crashed(c, "found crashed", false);
		}
		return;
	}
	if (s == RPROC_STATE_CRASHED) {
		/*
		 * A read saw it first. Its "handling crash" record is in the log
		 * already (printed as the state is set): it must not count the
		 * crash again. Reading the log now also brings its type.
		 */
		if (cause != ACTION_KERNEL_LOG)
			core_crash_seen_first(c);
		core_crashed(c, "crashed", true);
		return;
	}
	if (caused_by(cause, old, s))
		return;
	if (old == RPROC_STATE_CRASHED && core_state_is_up(s))
		core_log(c, LOG_INFO, MESSAGE_CORE_RECOVERED, 0, "recovered");
	else if (core_state_is_up(old) && s == RPROC_STATE_OFFLINE) {
		c->origin = ORIGIN_NONE;
		c->watch_until_usec = now_usec(CLOCK_MONOTONIC) + CORE_WATCH_AFTER_DOWN_USEC;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_STOPPED, 0,
			 c->recovery_enabled ? "went offline without rprocd (stopped by someone "
					       "else, or the kernel is recovering it)"
					     : "stopped by someone else");
	} else if (core_state_is_up(old) && s == RPROC_STATE_DETACHED) {
		c->origin = ORIGIN_NONE;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_DETACHED, 0, "detached by someone else");
	} else if (!core_state_is_up(old) && core_state_is_up(s)) {
		c->origin = ORIGIN_ADOPTED;
		c->watch_until_usec = 0;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_ADOPTED, 0,
			 c->in_work ? "came up while rprocd waited to boot it (the kernel's "
				      "recovery ended): adopted, not booted again"
				    : "came up without rprocd (the kernel's recovery, or someone "
				      "else)");
	} else if (old == RPROC_STATE_CRASHED && s == RPROC_STATE_OFFLINE)
		/* Stopped, or the kernel's recovery under way: watch for its return. */
		c->watch_until_usec = now_usec(CLOCK_MONOTONIC) + CORE_WATCH_AFTER_DOWN_USEC;
}

void core_observe_attrs(struct core *c, char *firmware, int recovery, int coredump)
{
	if (c->removed) {
		free(firmware);
		return;
	}
	if (firmware) {
		if (!streq_ptr(firmware, c->firmware))
			core_changed(c);
		free(c->firmware);
		c->firmware = firmware;
	}
	if (recovery >= 0 && (bool) recovery != c->recovery_enabled) {
		c->recovery_enabled = recovery;
		core_changed(c);
	}
	if (coredump >= 0 && (enum rproc_coredump_mode) coredump != c->coredump) {
		c->coredump = (enum rproc_coredump_mode) coredump;
		core_changed(c);
	}
}

/* Firmware, recovery and coredump as the kernel has them now. */
static void core_refresh_attrs(struct core *c)
{
	const struct kernel *k = c->manager->kernel;
	enum rproc_coredump_mode cd;
	char *fw = NULL;
	bool rec;

	if (kernel_read_firmware(k, c->dev, &fw) < 0)
		fw = NULL;
	core_observe_attrs(c, fw, kernel_read_recovery(k, c->dev, &rec) >= 0 ? rec : -1,
			   kernel_read_coredump(k, c->dev, &cd) >= 0 ? (int) cd : -1);
}

void core_refresh(struct core *c)
{
	enum rproc_state s;

	if (c->removed)
		return;
	if (kernel_read_state(c->manager->kernel, c->dev, &s) < 0)
		s = RPROC_STATE_INVALID;
	core_refresh_attrs(c);
	core_observe(c, s, ACTION_NONE);
}

void core_watch_down(struct core *c)
{
	c->watch_until_usec = now_usec(CLOCK_MONOTONIC) + CORE_WATCH_AFTER_DOWN_USEC;
}

bool core_wants_poll(const struct core *c)
{
	return !c->removed &&
	       (core_state_can_change(c->state) ||
		(c->watch_until_usec && now_usec(CLOCK_MONOTONIC) < c->watch_until_usec));
}

void core_poll(struct core *c)
{
	enum rproc_state s;

	if (c->removed)
		return;
	/* The tick reads one attribute per core; the others only when the state moved. */
	if (kernel_read_state(c->manager->kernel, c->dev, &s) < 0)
		s = RPROC_STATE_INVALID;
	if (s != c->state)
		core_refresh_attrs(c);
	core_observe(c, s, ACTION_NONE);
}

bool core_crash_pair_pending(struct core *c)
{
	if (c->manager->kmsg_fd < 0)
		return false;
	manager_kmsg_drain(c->manager);
	/* A record not matched yet is this crash's. */
	if (c->crash_records <= c->crashes_unrecorded)
		return false;
	c->crashes_unrecorded++;
	return true;
}

void core_crash_seen_first(struct core *c)
{
	/* None pending: it is still to come, unless records were lost (an overrun). */
	if (!core_crash_pair_pending(c) && manager_kmsg_live(c->manager))
		c->crashes_unrecorded++;
}

/* The oldest "handling crash" record is applied. */
void core_pop_record(struct core *c)
{
	size_t n = ELEMENTSOF(c->record_reasons);

	if (c->crash_records == 0)
		return;
	free(c->record_reasons[0]);
	memmove(c->record_reasons, c->record_reasons + 1, sizeof(char *) * (n - 1));
	c->record_reasons[n - 1] = NULL;
	c->crash_records--;
}

void core_forget_records(struct core *c)
{
	while (c->crash_records > 0)
		core_pop_record(c);
}

/* The type of the crash being counted: its record's, or the last one announced. */
char *core_take_crash_reason(struct core *c)
{
	/* The record this crash is paired with: the last one a read took, or the oldest. */
	unsigned i = c->crashes_unrecorded > 0 ? c->crashes_unrecorded - 1 : 0;

	if (i < c->crash_records && i < ELEMENTSOF(c->record_reasons)) {
		if (!c->record_reasons[i])
			return NULL;
		return strdup(c->record_reasons[i]);
	}
	return TAKE_PTR(c->crash_reason_next);
}

void core_kernel_said(struct core *c, const struct rproc_log_info *info)
{
	switch (info->event) {
	case RPROC_LOG_CRASH_DETECTED:
		/* Printed before the crash is handled (and ignored when stopped meanwhile). */
		free(c->crash_reason_next);
		c->crash_reason_next = strdup(info->reason);
		return;
	case RPROC_LOG_UP:
	case RPROC_LOG_ATTACHED:
		c->up_records++;
		break;
	case RPROC_LOG_CRASH_HANDLING:
		/* Its type, announced just before: kept with it, for when it is counted. */
		if (c->crash_records < ELEMENTSOF(c->record_reasons))
			c->record_reasons[c->crash_records] = TAKE_PTR(c->crash_reason_next);
		c->crash_records++;
		break;
	case RPROC_LOG_RELEASING:
	case RPROC_LOG_AVAILABLE:
		/*
		 * A device under this number went or came: what the log said
		 * before was about the one that is gone (a driver reload reuses
		 * the number and the chardev's dev_t).
		 */
		core_forget_records(c);
		c->crashes_unrecorded = 0;
		free(c->crash_reason_next);
		c->crash_reason_next = NULL;
		break;
	default:
		if (!rproc_log_event_is_transition(info->event))
			return;
		break;
	}
	c->queued_refresh = true;
	manager_schedule(c->manager);
}

void core_apply_hints(struct core *c)
{
	bool refresh = c->queued_refresh;

	/* A job's worker reads the core back when it ends; the hints wait for that. */
	if (c->removed || c->running)
		return;
	c->queued_refresh = false;
	if (c->crash_records > 0)
		log_debug("%s: %u crash records, %u crashes counted from reads before them",
			  c->name, c->crash_records, c->crashes_unrecorded);
	while (c->crash_records > 0) {
		if (c->crashes_unrecorded > 0)
			c->crashes_unrecorded--; /* a read counted this one */
		else {
			enum rproc_state now;

			/* A crash no read saw: where is the core now? */
			if (kernel_read_state(c->manager->kernel, c->dev, &now) < 0)
				now = RPROC_STATE_INVALID;
			if (now == RPROC_STATE_OFFLINE || now == RPROC_STATE_DETACHED) {
				/*
				 * Over: a stop (rprocd's own, just done) ended it, or a
				 * recovery is under way (with a dump to come). Counted;
				 * OnCrash= has nothing to act on.
				 */
				core_count_crash(c, "crashed; down again before rprocd looked");
				if (c->coredump != RPROC_COREDUMP_DISABLED)
					c->awaiting_dumps++;
			} else if (c->state != RPROC_STATE_CRASHED)
				/* Still crashed, or the kernel recovered it already. */
				core_observe(c, RPROC_STATE_CRASHED, ACTION_KERNEL_LOG);
			else
				/* Before the first decision, OnCrash= waits for it. */
				core_crashed(c, "crashed again", !c->crash_policy_pending);
			refresh = true;
		}
		core_pop_record(c);
	}
	if (refresh)
		core_refresh(c);
}
