/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A/B firmware updates with rollback (docs/UPDATES.md has the state diagram).
 *
 * Update(fd) copies a candidate, validated and pinned (firmware-stage.c),
 * into /var/lib/rprocd/images as sha256-HEX and boots it: the trial. It is
 * committed when it has been up (and ready, with ReadyWhen=) for
 * UpdateConfirmSec= without a crash; a failed boot, a crash, a readiness
 * timeout, a reboot or an operator's RollbackUpdate() in the window roll
 * back to the last committed image (or Firmware= when none). The decision
 * lives in /var/lib/rprocd/update/NAME, written atomically (write, fsync,
 * rename, fsync the directory), and the committed image is what boots next.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "firmware-stage.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

static char *state_path(const struct core *c)
{
	_cleanup_free_ char *p = path_join(UPDATE_STATE_DIR, c->name);
	char *host = NULL;

	if (!p || rproc_ctx_path(c->manager->ctx, p, &host) < 0)
		return NULL;
	return host;
}

char *core_update_image_path(const struct core *c, const char *digest)
{
	/* The path as the managed system sees it: Firmware= may be absolute with staging. */
	(void) c;
	return digest ? strdup_printf(UPDATE_IMAGE_DIR "/" FW_STAGE_PREFIX "%s",
				      digest + strlen(FW_DIGEST_PREFIX))
		      : NULL;
}

/* The state file, atomically: it says what boots after a crash of rprocd or a reboot. */
static int save_state(struct core *c)
{
	_cleanup_free_ char *path = state_path(c), *tmp = NULL, *text = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	if (!path)
		return -ENOMEM;
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	if (!c->update.committed && !c->update.trial) {
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	text = strdup_printf("rprocd-update 1\n%s%s%s%s%s%s%s%s%s",
			     c->update.committed ? "committed " : "", strempty(c->update.committed),
			     c->update.committed ? "\n" : "",
			     c->update.committed && c->update.committed_for ? "committed-for " : "",
			     c->update.committed ? strempty(c->update.committed_for) : "",
			     c->update.committed && c->update.committed_for ? "\n" : "",
			     c->update.trial ? "trial " : "", strempty(c->update.trial),
			     c->update.trial ? "\n" : "");
	/* ".NAME.tmp": a core name never starts with '.', so no core's state is hit. */
	tmp = strdup_printf("%s/.%s.tmp", dir, c->name);
	if (!text || !tmp)
		return -ENOMEM;
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(fd)) < 0 && errno != EINTR)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void) fsync(dfd);
	return 0;
}

static bool runs_image(const struct core *c, const char *digest);

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = v ? strdup(v) : NULL;
}

/* The images' paths, for firmware_to_boot(). */
static void refresh_paths(struct core *c)
{
	free(c->update.trial_image);
	free(c->update.committed_image);
	c->update.trial_image = core_update_image_path(c, c->update.trial);
	c->update.committed_image = core_update_image_path(c, c->update.committed);
}

static void disarm(struct core *c)
{
	c->update.timer = sd_event_source_disable_unref(c->update.timer);
	c->update.window_manual = false;
}

void core_update_done(struct core *c)
{
	disarm(c);
	free(c->update.committed);
	free(c->update.committed_for);
	free(c->update.trial);
	free(c->update.last_result);
	free(c->update.rolled_back);
	free(c->update.trial_image);
	free(c->update.committed_image);
	c->update = (struct core_update){};
}

const char *core_update_source(const struct core *c)
{
	if (c->update.trial)
		return "update-trial";
	if (c->firmware_override)
		return "set-firmware";
	if (c->firmware_failed && c->config && c->config->fallback_firmware)
		return "fallback";
	if (core_update_committed_applies(c))
		return "update-committed";
	return "config";
}

bool core_update_committed_applies(const struct core *c)
{
	/* Firmware= changed since the commit (a new release installed): the configuration wins. */
	/* Its image is an absolute path: without staging it cannot boot, Firmware= does. */
	return c->update.committed && c->config && c->manager->stage_dir &&
	       streq_ptr(c->update.committed_for, c->config->firmware);
}

static void result(struct core *c, int priority, const char *id, const char *fmt, ...)
	_printf_(4, 5);
static void result(struct core *c, int priority, const char *id, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	set_str(&c->update.last_result, text);
	core_log(c, priority, id, 0, text ? text : "update");
	core_changed(c);
}

/* Roll back to the committed image (or Firmware=): the trial is over. */
void core_update_rollback(struct core *c, const char *why, bool restart)
{
	_cleanup_free_ char *trial = NULL;
	int r;

	/* Shutting down: nothing can be booted instead; the next run decides (the trial stays). */
	if (!c->update.trial || c->manager->exiting)
		return;
	trial = TAKE_PTR(c->update.trial);
	set_str(&c->update.rolled_back, trial);
	refresh_paths(c);
	disarm(c);
	r = save_state(c);
	if (r < 0)
		log_error_errno(r, "%s: cannot record the rollback of %s: %m", c->name, trial);
	result(c, LOG_ERR, MESSAGE_CORE_UPDATE_ROLLED_BACK,
	       "update to %s rolled back: %s; booting %s", trial, why,
	       c->update.committed ? c->update.committed : "Firmware=");
	c->manager->stage_gc_pending = true;
	core_update_prune(c);
	if (restart) {
		r = core_queue_internal(c, JOB_RESTART_STOP);
		if (r < 0)
			log_error_errno(r, "%s: cannot queue the restart that boots %s: %m",
					c->name,
					c->update.committed ? c->update.committed : "Firmware=");
	}
}

static int commit(struct core *c, const char *how)
{
	_cleanup_free_ char *old = TAKE_PTR(c->update.committed), *old_for = NULL;
	int r;

	old_for = TAKE_PTR(c->update.committed_for);
	c->update.committed = TAKE_PTR(c->update.trial);
	set_str(&c->update.committed_for, c->config ? c->config->firmware : NULL);
	r = save_state(c);
	if (r < 0) {
		/* Not on disk, the next boot would not run it: still on trial, and said so. */
		c->update.trial = TAKE_PTR(c->update.committed);
		c->update.committed = TAKE_PTR(old);
		free(c->update.committed_for);
		c->update.committed_for = TAKE_PTR(old_for);
		result(c, LOG_ERR, MESSAGE_CORE_FAILED,
		       "update to %s not committed: cannot record it: %s; still on trial",
		       c->update.trial, strerror(-r));
		return r;
	}
	refresh_paths(c);
	disarm(c);
	result(c, LOG_INFO, MESSAGE_CORE_UPDATE_COMMITTED, "update to %s committed (%s)%s",
	       c->update.committed, how, old ? "" : "; the first committed image");
	core_update_prune(c);
	return 0;
}

/* The candidate runs, booted by rprocd (not a core attached or adopted with something else). */
static bool trial_runs(const struct core *c)
{
	return c->update.trial && core_state_is_up(c->state) &&
	       streq_ptr(c->fw_digest, c->update.trial) && runs_image(c, c->update.trial);
}

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *c = userdata;

	(void) s, (void) usec;
	disarm(c);
	/* Not running it now (a Stop, a job under way): the window starts again later. */
	if (c->removed || core_is_busy(c) || !trial_runs(c))
		return 0;
	(void) commit(c, "it ran UpdateConfirmSec= without a crash");
	return 0;
}

/* The kernel's name of the staged copy of an update image. */
static bool runs_image(const struct core *c, const char *digest)
{
	_cleanup_free_ char *staged = NULL;

	if (!digest || !c->firmware)
		return false;
	staged = strdup_printf("%s" FW_STAGE_PREFIX "%s", strempty(c->manager->stage_prefix),
			       digest + strlen(FW_DIGEST_PREFIX));
	return staged && streq(c->firmware, staged);
}

/*
 * A rolled-back candidate that still runs (the kernel's own recovery
 * restarted it while the rollback's restart found the core coming up) is
 * replaced once more, when nothing else is under way.
 */
static void check_rolled_back(struct core *c)
{
	if (!c->update.rolled_back || core_is_busy(c) || !core_state_is_up(c->state))
		return;
	if (runs_image(c, c->update.rolled_back) &&
	    !streq_ptr(c->update.committed, c->update.rolled_back)) {
		log_core_event(LOG_NOTICE, MESSAGE_CORE_UPDATE_ROLLED_BACK, c->name,
			       rproc_state_to_string(c->state), core_firmware_display(c), 0,
			       "the rolled-back update %s came up again (the kernel's recovery); "
			       "restarting with %s",
			       c->update.rolled_back,
			       c->update.committed ? c->update.committed : "Firmware=");
		(void) core_queue_internal(c, JOB_RESTART_STOP);
	}
	/* Once per rollback: never a loop (the same bytes may be what boots now). */
	set_str(&c->update.rolled_back, NULL);
}

/* From the run queue: arm the confirm window once the candidate is up (and ready). */
void core_update_check(struct core *c)
{
	uint64_t window;
	int r;

	if (c->removed || !core_is_managed(c))
		return;
	if (!c->update.trial) {
		check_rolled_back(c);
		return;
	}
	/* Settled, and the candidate is not what runs: the trial is over (a Stop, a refusal). */
	if (!core_is_busy(c) && !trial_runs(c)) {
		core_update_rollback(
			c,
			core_state_is_up(c->state)
				? "the core runs another image"
				: "the candidate stopped running before its window ended",
			false);
		return;
	}
	if (core_is_busy(c) || (c->config->ready_when && c->config->ready_when[0] && !c->ready)) {
		/* Down (a Stop), busy, not the candidate, or not ready yet: the window waits. */
		disarm(c);
		return;
	}
	if (c->update.timer || c->update.window_manual)
		return;
	window = c->config->settings.update_confirm_usec;
	if (window == RPROC_USEC_INFINITY) {
		/* UpdateConfirmSec=infinity: only the operator commits. */
		c->update.window_manual = true;
		log_core_event(
			LOG_INFO, MESSAGE_CORE_UPDATE_TRIAL, c->name,
			rproc_state_to_string(c->state), core_firmware_display(c), 0,
			"running update %s; committed when confirmed (UpdateConfirmSec=infinity)",
			c->update.trial);
		return;
	}
	r = sd_event_add_time_relative(c->manager->event, &c->update.timer, CLOCK_MONOTONIC, window,
				       0, on_confirm_timer, c);
	if (r < 0) {
		log_error_errno(r, "%s: cannot arm the update's confirm window: %m", c->name);
		c->update.window_manual = true; /* said once; the operator decides */
		return;
	}
	if (window == 0)
		return;
	log_core_event(LOG_INFO, MESSAGE_CORE_UPDATE_TRIAL, c->name,
		       rproc_state_to_string(c->state), core_firmware_display(c), 0,
		       "running update %s; committed after %s without a crash", c->update.trial,
		       rproc_format_timespan((char[32]){ 0 }, 32, window));
}

int core_update_begin(struct core *c, const char *digest)
{
	int r;

	disarm(c);
	set_str(&c->update.trial, digest);
	if (!c->update.trial)
		return -ENOMEM;
	refresh_paths(c);
	r = save_state(c);
	if (r < 0) {
		free(c->update.trial);
		c->update.trial = NULL;
		refresh_paths(c);
		return r;
	}
	set_str(&c->update.last_result, NULL);
	core_reset_fallback(c);
	core_changed(c);
	return 0;
}

int core_update_confirm(struct core *c)
{
	if (!c->update.trial)
		return -ENOENT;
	if (core_is_busy(c) || !trial_runs(c))
		return -EAGAIN;
	return commit(c, "confirmed by the operator");
}

/* Images no state refers to any more (an older committed one, rolled-back candidates). */
void core_update_prune(struct core *c)
{
	c->manager->update_prune_pending = true;
}

static bool parse_digest_line(const char *line, const char *key, char **ret)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0 || line[n] != ' ')
		return false;
	free(*ret);
	*ret = strdup(line + n + 1);
	return true;
}

/* At the first decision: what an earlier run decided, and a trial cut short. */
void core_update_load(struct core *c)
{
	_cleanup_free_ char *path = state_path(c), *text = NULL;
	char *save = NULL;

	if (!path || read_full_file(path, 64 * 1024, &text, NULL) < 0)
		return;
	if (strncmp(text, "rprocd-update 1\n", 16) != 0) {
		log_warning("%s: %s is not an update state file; ignored", c->name, path);
		return;
	}
	for (char *l = strtok_r(text + 16, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!parse_digest_line(l, "committed", &c->update.committed) &&
		    !parse_digest_line(l, "committed-for", &c->update.committed_for) &&
		    !parse_digest_line(l, "trial", &c->update.trial))
			log_warning("%s: %s: unknown line \"%s\"; ignored", c->name, path, l);
	if ((c->update.committed && !fw_digest_is_valid(c->update.committed)) ||
	    (c->update.trial && !fw_digest_is_valid(c->update.trial))) {
		log_error("%s: %s names an invalid digest; updates forgotten", c->name, path);
		core_update_done(c);
		return;
	}
	for (char *p = c->update.committed; p && *p; p++)
		*p = (char) tolower((unsigned char) *p);
	for (char *p = c->update.trial; p && *p; p++)
		*p = (char) tolower((unsigned char) *p);
	refresh_paths(c);
	if (!c->update.trial)
		return;
	/*
	 * A trial an earlier run did not finish: still running the candidate
	 * (rprocd was killed or restarted) goes on, the window from the start;
	 * anything else (a reboot, a crash while nobody watched) rolls back.
	 */
	if (core_state_is_up(c->state) && runs_image(c, c->update.trial)) {
		free(c->fw_digest);
		c->fw_digest = strdup(c->update.trial);
		log_core_event(LOG_NOTICE, MESSAGE_CORE_UPDATE_TRIAL, c->name,
			       rproc_state_to_string(c->state), core_firmware_display(c), 0,
			       "the trial of update %s goes on after a restart of rprocd",
			       c->update.trial);
		return;
	}
	core_update_rollback(c,
			     core_state_is_up(c->state)
				     ? "rprocd restarted and the core does not run the candidate"
				     : "the candidate was not running when rprocd started (a "
				       "reboot, or a crash while rprocd was down)",
			     false);
}
