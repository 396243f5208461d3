/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crashes: each one is counted once (core_observe() calls core_crashed() on
 * the transition into "crashed"), then OnCrash= decides: the kernel recovers,
 * rprocd recovers after RestartSec= within the start limit, or the core is
 * left; a crash right after rprocd booted Firmware= gives it up for
 * FallbackFirmware=.
 */
#include <time.h>

#include "core.h"
#include "kernel-events.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

bool core_can_fall_back(const struct core *c, const char *firmware)
{
	return core_is_managed(c) && c->config->fallback_firmware && !c->firmware_override &&
	       !c->firmware_failed && firmware && streq_ptr(firmware, c->config->firmware);
}

void core_fall_back(struct core *c, const char *reason)
{
	c->firmware_failed = true;
	free(c->fallback_reason);
	c->fallback_reason = strdup_printf("%s: %s", c->config->firmware, reason);
	log_core_event(LOG_WARNING, MESSAGE_CORE_FALLBACK, c->name, rproc_state_to_string(c->state),
		       c->config->fallback_firmware, 0, "booting FallbackFirmware=%s: %s",
		       c->config->fallback_firmware, strempty(c->fallback_reason));
	core_changed(c);
}

void core_reset_fallback(struct core *c)
{
	if (!c->firmware_failed && !c->fallback_reason)
		return;
	c->firmware_failed = false;
	free(c->fallback_reason);
	c->fallback_reason = NULL;
	core_changed(c);
}

void core_reset_start_limit(struct core *c)
{
	start_limit_reset(&c->limit);
	if (c->start_limit_hit)
		core_changed(c);
	c->start_limit_hit = false;
	sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *c = userdata;

	(void) s;
	(void) usec;
	(void) core_queue_internal(c, JOB_CRASH_RECOVER);
	return 0;
}

void core_arm_restart(struct core *c)
{
	const struct rproc_core_settings *s;
	int r;

	if (!core_is_managed(c) || c->manager->exiting)
		return;
	s = &c->config->settings;
	if (!start_limit_test(&c->limit, now_usec(CLOCK_MONOTONIC))) {
		c->start_limit_hit = true;
		core_changed(c);
		core_log(c, LOG_ERR, MESSAGE_CORE_START_LIMIT_HIT, 0,
			 "start limit hit: left crashed; Start or Recover resets the count");
		return;
	}
	if (c->restart_timer)
		r = sd_event_source_set_time_relative(c->restart_timer, s->restart_usec)
			    ?: sd_event_source_set_enabled(c->restart_timer, SD_EVENT_ONESHOT);
	else
		r = sd_event_add_time_relative(c->manager->event, &c->restart_timer,
					       CLOCK_MONOTONIC, s->restart_usec, 0,
					       on_restart_timer, c);
	if (r < 0)
		log_error_errno(r, "%s: cannot arm the restart timer: %m", c->name);
}

void core_count_crash(struct core *c, const char *what)
{
	c->crash_count++;
	c->last_crash_usec = now_usec(CLOCK_REALTIME);
	/* The type the kernel logged for this crash, if the log is read. */
	free(c->crash_reason);
	c->crash_reason = core_take_crash_reason(c);
	core_trace_snapshot_crash(c);
	core_changed(c);
	log_core_event_full(LOG_WARNING, MESSAGE_CORE_CRASHED, c->name,
			    rproc_state_to_string(c->state), core_firmware_display(c), 0,
			    c->crash_reason ? "RPROC_CRASH_REASON" : NULL, c->crash_reason,
			    "%s%s%s%s", what, c->crash_reason ? " (" : "",
			    strempty(c->crash_reason), c->crash_reason ? ")" : "");
	/* A candidate that crashes in its trial is not committed. */
	if (c->update.trial)
		core_update_rollback(c, "it crashed during its trial", true);
}

void core_crashed(struct core *c, const char *what, bool apply_policy)
{
	const struct rproc_core_settings *s;
	uint64_t now = now_usec(CLOCK_MONOTONIC);

	core_count_crash(c, what);
	if (c->coredump != RPROC_COREDUMP_DISABLED)
		c->awaiting_dumps++;
	/* Found crashed on first sight: the first decision applies OnCrash=, once. */
	/* Not managed now: a configuration that makes it managed applies OnCrash= then. */
	c->crash_policy_pending = !apply_policy || !core_is_managed(c);
	if (!core_is_managed(c) || !apply_policy)
		return;
	s = &c->config->settings;

	/* A crash right after rprocd booted Firmware= counts as a failed boot. */
	if (c->origin == ORIGIN_BOOTED && now - c->booted_usec <= s->settle_usec &&
	    core_can_fall_back(c, c->firmware)) {
		_cleanup_free_ char *why =
			strdup_printf("crashed %llu ms after boot (SettleSec=)",
				      (unsigned long long) (now - c->booted_usec) / 1000);

		core_fall_back(c, why ? why : "crashed right after boot");
		(void) core_queue_internal(c, JOB_RESTART_STOP);
		return;
	}
	if (s->on_crash == RPROC_CRASH_RESTART)
		core_arm_restart(c);
}
