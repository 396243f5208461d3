/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readiness: running is not ready. A core with ReadyWhen= is ready once it is
 * up and every channel named there exists (Channels, manager-channels.c);
 * without ReadyWhen= it is ready when it is up. A managed core up for
 * ReadyTimeoutSec= without its channels gets OnReadyTimeout=: a restart that
 * counts against the start limit as a crash does, a stop, or a report only.
 * Evaluated from the run queue after the channels were read, so every change
 * of state or channels is seen.
 */
#include <stdlib.h>

#include "core.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

static char **ready_when(const struct core *c)
{
	return core_is_managed(c) && c->config->ready_when && c->config->ready_when[0]
		       ? c->config->ready_when
		       : NULL;
}

/* The ReadyWhen= channels the core does not have, space-separated; NULL: none missing. */
static char *missing_channels(const struct core *c)
{
	_cleanup_strv_free_ char **l = NULL;

	char *s;

	for (char **n = ready_when(c); n && *n; n++)
		if (!rpmsg_channels_find(&c->channels, *n) && strv_extend(&l, *n) < 0)
			return strdup("(out of memory)");
	if (!l)
		return NULL;
	s = strv_join(l, " ");
	/* Out of memory must not look like nothing missing. */
	return s ? s : strdup("?");
}

bool core_waits_ready(const struct core *c)
{
	return ready_when(c) && core_state_is_up(c->state) && !c->ready && !c->ready_timed_out;
}

static int on_ready_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *c = userdata;
	_cleanup_free_ char *missing = NULL, *text = NULL;
	const struct rproc_core_settings *set;

	(void) s, (void) usec;
	/* An operation under way (a Stop, a Restart) decides; the timer is armed again after it. */
	if (!core_waits_ready(c) || core_is_busy(c))
		return 0;
	set = &c->config->settings;
	missing = missing_channels(c);
	c->ready_timed_out = true;
	text = strdup_printf("not ready %s after coming up: no channel %s (ReadyTimeoutSec=); %s",
			     rproc_format_timespan((char[32]){ 0 }, 32, set->ready_timeout_usec),
			     strempty(missing),
			     set->on_ready_timeout == RPROC_READY_TIMEOUT_RESTART ? "restarting it"
			     : set->on_ready_timeout == RPROC_READY_TIMEOUT_STOP  ? "stopping it"
										  : "left running");
	core_set_error(c, text);
	core_log(c, LOG_ERR, MESSAGE_CORE_NOT_READY, 0, text);
	core_changed(c);
	/* A candidate that never gets ready is not committed: roll back instead. */
	if (c->update.trial) {
		core_update_rollback(c, "it did not get ready (ReadyTimeoutSec=)", true);
		return 0;
	}
	switch (set->on_ready_timeout) {
	case RPROC_READY_TIMEOUT_RESTART:
		/* A firmware that never gets ready must not be booted forever. */
		if (!start_limit_test(&c->limit, now_usec(CLOCK_MONOTONIC))) {
			c->start_limit_hit = true;
			core_log(c, LOG_ERR, MESSAGE_CORE_START_LIMIT_HIT, 0,
				 "start limit hit: left running, not ready; Start or Restart "
				 "resets the count");
			break;
		}
		(void) core_queue_internal(c, JOB_RESTART_STOP);
		break;
	case RPROC_READY_TIMEOUT_STOP:
		(void) core_queue_internal_method(c, METHOD_STOP);
		break;
	default:
		break;
	}
	return 0;
}

static void arm_timer(struct core *c)
{
	uint64_t base = c->up_since_usec > c->ready_config_usec ? c->up_since_usec
								: c->ready_config_usec,
		 t;
	uint64_t timeout = c->config->settings.ready_timeout_usec;
	int r;

	if (timeout == RPROC_USEC_INFINITY)
		return;
	t = base > UINT64_MAX - timeout ? UINT64_MAX - 1 : base + timeout;
	if (c->ready_timer)
		r = sd_event_source_set_time(c->ready_timer, t)
			    ?: sd_event_source_set_enabled(c->ready_timer, SD_EVENT_ONESHOT);
	else
		r = sd_event_add_time(c->manager->event, &c->ready_timer, CLOCK_MONOTONIC, t, 0,
				      on_ready_timeout, c);
	if (r < 0)
		log_error_errno(r, "%s: cannot arm the readiness timeout: %m", c->name);
}

void core_ready_update(struct core *c)
{
	bool up = core_state_is_up(c->state) && !c->removed;
	_cleanup_free_ char *missing = NULL;
	bool ready;

	if (up && !c->was_up) {
		c->up_since_usec = now_usec(CLOCK_MONOTONIC);
		c->ready_timed_out = false;
	}
	/*
	 * A new configuration (a reload) counts its ReadyTimeoutSec= from now: a
	 * core up for hours is not restarted at once for a ReadyWhen= just added.
	 */
	if (c->config != c->ready_config) {
		c->ready_config = c->config;
		c->ready_config_usec = now_usec(CLOCK_MONOTONIC);
		c->ready_timed_out = false;
	}
	c->was_up = up;
	missing = up ? missing_channels(c) : NULL;
	ready = up && !missing;
	if (ready != c->ready) {
		c->ready = ready;
		core_changed(c);
		if (ready && ready_when(c)) {
			_cleanup_free_ char *names = strv_join(ready_when(c), " ");
			_cleanup_free_ char *text = strdup_printf(
				"ready: channel %s there %llu ms after coming up", strempty(names),
				(unsigned long long) (now_usec(CLOCK_MONOTONIC) -
						      c->up_since_usec) /
					1000);

			core_log(c, LOG_INFO, MESSAGE_CORE_READY, 0, text);
		}
	}
	if (core_waits_ready(c) && !core_is_busy(c))
		arm_timer(c);
	else if (c->ready_timer)
		sd_event_source_set_enabled(c->ready_timer, SD_EVENT_OFF);
}
