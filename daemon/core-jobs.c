/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A core's jobs, run one at a time: what each asks of the kernel in the state
 * the kernel is in when the job begins, the worker that makes the writes, and
 * what the result means. Jobs begin only from the manager's run queue; every
 * state a worker read goes through core_observe(); every call is answered
 * exactly once (job_free() answers a call nobody answered).
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bus-errors.h"
#include "core.h"
#include "kernel-events.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "utf8.h"
#include "util.h"
#include "worker.h"

static void work_done(struct work *w, bool abandoned);

static void job_reply_ok(struct job *j)
{
	if (j->msg && !j->replied)
		(void) sd_bus_reply_method_return(j->msg, NULL);
	j->replied = true;
}

static void job_reply_error(struct job *j, const char *name, const char *fmt, ...) _printf_(3, 4);
static void job_reply_error(struct job *j, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	if (!j->msg || j->replied)
		return;
	j->replied = true;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	/* Text quoting sysfs or file names may not be UTF-8: sd-bus would send nothing. */
	text = utf8_make_valid(text);
	if (sd_bus_reply_method_errorf(j->msg, name, "%s", text ? text : name) < 0)
		(void) sd_bus_reply_method_errorf(j->msg, name, "%s", name);
}

static struct job *job_free(struct job *j)
{
	if (!j)
		return NULL;
	/* The safety net of "one reply per call": a job dropped unanswered says so. */
	job_reply_error(j, BUS_ERROR_ABANDONED, "the operation was abandoned");
	sd_bus_message_unref(j->msg);
	free(j->firmware);
	if (j->update_fd >= 0)
		close(j->update_fd);
	free(j);
	return NULL;
}

static struct job *job_new(enum job_type type, sd_bus_message *msg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j) {
		j->type = type;
		j->msg = sd_bus_message_ref(msg);
		j->update_fd = -1;
	}
	return j;
}

void core_jobs_free(struct core *c)
{
	while (c->jobs) {
		struct job *j = c->jobs;

		c->jobs = j->next;
		job_free(j);
	}
	c->jobs_tail = NULL;
	c->n_jobs = 0;
	c->running = job_free(c->running);
}

/*
 * Queue a job; the queue is bounded so a flood of calls cannot exhaust memory.
 * The bound is for new calls only: a job that goes on (the second half of a
 * Restart, a validated SetFirmware, a fallback boot) is put back at the front
 * whatever the queue holds, or its caller would never be answered.
 */
static int core_enqueue(struct core *c, struct job *j, bool front)
{
	if (!front && c->n_jobs >= CORE_JOBS_MAX && j->msg)
		return -EBUSY;
	if (front) {
		j->next = c->jobs;
		c->jobs = j;
		if (!c->jobs_tail)
			c->jobs_tail = j;
	} else {
		j->next = NULL;
		if (c->jobs_tail)
			c->jobs_tail->next = j;
		else
			c->jobs = j;
		c->jobs_tail = j;
	}
	c->n_jobs++;
	c->queued_dispatch = true;
	core_changed(c);
	return 0;
}

static struct job *core_dequeue(struct core *c)
{
	struct job *j = c->jobs;

	if (!j)
		return NULL;
	c->jobs = j->next;
	if (!c->jobs)
		c->jobs_tail = NULL;
	c->n_jobs--;
	j->next = NULL;
	return j;
}

int core_queue_internal(struct core *c, enum job_type type)
{
	struct job *j;

	if (c->removed || c->manager->exiting)
		return -ESHUTDOWN;
	j = job_new(type, NULL);
	if (!j)
		return -ENOMEM;
	if (core_enqueue(c, j, false) < 0) {
		job_free(j);
		return -EBUSY;
	}
	return 0;
}

int core_queue_internal_method(struct core *c, enum core_method method)
{
	int r = core_queue_internal(c, JOB_METHOD);

	if (r >= 0)
		c->jobs_tail->method = method;
	return r;
}

/* What a finished work means for a user, e.g. "start: Invalid argument (EINVAL)". */
static char *work_error_text(const struct work *w, const char *firmware)
{
	char *s = NULL;
	int r;

	if (w->why && streq_ptr(w->failed_step, "staging"))
		r = asprintf(&s, "%s", w->why);
	else if (w->why)
		r = asprintf(&s, "firmware %s refused: %s", strempty(firmware), w->why);
	else if (w->still_crashed)
		r = asprintf(&s,
			     "%s: the kernel took it, but the core is still crashed: its recovery "
			     "failed (the kernel log has no new crash)",
			     w->failed_step);
	else if (w->still_up)
		r = asprintf(&s,
			     "stop: the kernel took it, but the core is still %s: another "
			     "holder keeps it powered (a second start, or the chardev of "
			     "another process)",
			     rproc_state_to_string(w->state_after));
	else if (w->wedged)
		r = asprintf(&s,
			     "the kernel accepted %s but the core stayed offline: a failed "
			     "recovery holds a power reference; reload the driver to clear it",
			     w->failed_step);
	else if (w->error > 0 && w->fw_changed)
		r = asprintf(&s,
			     "firmware %s changed between validation and boot and the new image "
			     "is refused: %s (%s); the core was stopped",
			     strempty(firmware), rproc_fw_error_describe(w->error),
			     rproc_fw_error_to_string(w->error));
	else if (w->error > 0)
		r = asprintf(&s, "firmware %s refused: %s (%s)", strempty(firmware),
			     rproc_fw_error_describe(w->error), rproc_fw_error_to_string(w->error));
	else if (streq_ptr(w->failed_step, "validate"))
		r = asprintf(&s, "firmware %s cannot be used: %s (%s)", strempty(firmware),
			     w->error == -EBADFD ? "not a regular file (a FIFO, socket or device "
						   "node), which the kernel skips"
						 : strerror(-w->error),
			     errno_name(w->error));
	else
		r = asprintf(&s, "%s: %s (%s)", strempty(w->failed_step), strerror(-w->error),
			     errno_name(w->error));
	return r < 0 ? NULL : s;
}

/* buf: room for BUS_ERROR_KERNEL_PREFIX and an errno name */
static const char *work_error_name(const struct work *w, char *buf, size_t size)
{
	const char *e = w->error < 0 ? strerrorname_np(-w->error) : NULL;

	if (w->wedged)
		return BUS_ERROR_WEDGED;
	if (w->update_fd >= 0)
		return w->error > 0 || streq_ptr(w->failed_step, "validate") ||
				       streq_ptr(w->failed_step, "digest")
			       ? BUS_ERROR_INVALID_FIRMWARE
			       : BUS_ERROR_UPDATE_FAILED; /* the copy: no space, an I/O error */
	if (streq_ptr(w->failed_step, "validate") || streq_ptr(w->failed_step, "ownership") ||
	    streq_ptr(w->failed_step, "digest") || streq_ptr(w->failed_step, "staging"))
		return BUS_ERROR_INVALID_FIRMWARE;
	if (w->failed_step && startswith(w->failed_step, "staging"))
		return BUS_ERROR_UPDATE_FAILED; /* rprocd's own copy failed: the kernel was not asked */
	if (streq_ptr(w->failed_step, "state"))
		return BUS_ERROR_INVALID_STATE;
	snprintf(buf, size, BUS_ERROR_KERNEL_PREFIX "%s", e ? e : "Unknown");
	return buf;
}

const char *firmware_to_boot(const struct core *c)
{
	/* An update on trial, then SetFirmware()'s, the fallback, a committed update, Firmware=. */
	if (c->update.trial)
		return c->update.trial_image;
	if (c->firmware_override)
		return c->firmware_override;
	if (!c->config)
		return NULL;
	if (c->firmware_failed && c->config->fallback_firmware)
		return c->config->fallback_firmware;
	if (core_update_committed_applies(c))
		return c->update.committed_image;
	return c->config->firmware;
}

static void core_decided(struct core *c)
{
	if (!c->decided) {
		c->decided = true;
		core_changed(c);
	}
}

/* The work for an action, with the settings it needs taken now, as the job begins. */
static struct work *core_make_work(struct core *c, enum core_action action)
{
	struct work *w = work_new(c->manager->ctx, c->manager->kernel, c->dev, action);
	const struct rproc_core_config *cfg = c->config;

	if (!w)
		return NULL;
	w->done = work_done;
	w->userdata = core_ref(c);
	/* What the log said up to now: an "is now up" after this is the work's doing. */
	manager_kmsg_drain(c->manager);
	w->up_records = c->up_records;
	w->log_live = manager_kmsg_live(c->manager);
	if (action == ACTION_BOOT) {
		const char *fw = firmware_to_boot(c);

		if (fw && !(w->firmware = strdup(fw))) {
			core_unref(c);
			return work_free(w);
		}
	}
	/* How the image reaches the kernel, and what it must be (firmware-stage.h). */
	w->strict_modes = !c->manager->config || c->manager->config->firmware_strict_modes;
	if ((cfg && cfg->firmware_digests && !(w->digests = strv_copy(cfg->firmware_digests))) ||
	    (c->manager->stage_dir && (!(w->stage_dir = strdup(c->manager->stage_dir)) ||
				       !(w->stage_prefix = strdup(c->manager->stage_prefix)))) ||
	    (c->manager->stage_missing &&
	     !(w->stage_missing = strdup(c->manager->stage_missing)))) {
		core_unref(c);
		return work_free(w);
	}
	/* An update's image is booted only with the digest it was checked with. */
	if (action == ACTION_BOOT && w->firmware) {
		const char *pin = streq_ptr(w->firmware, c->update.trial_image) ? c->update.trial
				  : streq_ptr(w->firmware, c->update.committed_image)
					  ? c->update.committed
					  : NULL;

		/* It passed FirmwareDigest= when it was copied: now it must be those bytes. */
		if (pin) {
			strv_free(w->digests);
			w->digests = NULL;
			if (strv_extend(&w->digests, pin) < 0) {
				core_unref(c);
				return work_free(w);
			}
		}
	}
	if (cfg) {
		w->expect.format = cfg->settings.firmware_format;
		w->expect.elf_class = cfg->firmware_class;
		w->expect.machine = cfg->firmware_machine;
		w->via_cdev = cfg->settings.bind_lifetime &&
			      (action == ACTION_BOOT || action == ACTION_ATTACH);
	}
	return w;
}

/* Settings rprocd writes to the kernel for a managed core: recovery per OnCrash=, coredump mode. */
static void core_plan_settings(struct core *c, struct work *w)
{
	const struct rproc_core_settings *s = &c->config->settings;
	bool want_rec = core_kernel_recovery_enabled(s->on_crash);

	/*
	 * Writing "enabled" on a crashed core recovers it at once: for a core
	 * found crashed with OnCrash=kernel, that is the policy.
	 */
	if (want_rec != c->recovery_enabled)
		w->set_recovery = want_rec;
	if (c->state != RPROC_STATE_CRASHED && s->coredump != c->coredump)
		w->set_coredump = s->coredump;
}

static const char *job_what(const struct job *j)
{
	switch (j->type) {
	case JOB_METHOD:
		return core_method_to_string(j->method);
	case JOB_RESTART_STOP:
	case JOB_RESTART_START:
		return j->rollback ? "RollbackUpdate (the boot of the committed image)" : "Restart";
	case JOB_SET_FIRMWARE:
		return "SetFirmware";
	case JOB_UPDATE:
		return "Update";
	default:
		return "the operation";
	}
}

/* Decide what a job means now; returns 1 when a worker runs it, 0 when it is done. */
static int job_begin(struct core *c, struct job *j)
{
	enum core_action a = ACTION_NONE;
	struct work *w;
	int r;

	if (c->removed) {
		job_reply_error(j, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared", c->name);
		return 0;
	}
	/* The configuration may have changed since the job was queued: never run on stale settings. */
	if (!core_is_managed(c)) {
		job_reply_error(j, BUS_ERROR_NOT_MANAGED,
				"core %s is no longer managed (its configuration changed)",
				c->name);
		if (j->type == JOB_FIRST)
			core_decided(c);
		return 0;
	}
	core_refresh(c);
	if (c->removed) {
		job_reply_error(j, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared", c->name);
		return 0;
	}

	switch (j->type) {
	case JOB_FIRST:
		if (c->config->settings.start == RPROC_START_NO) {
			if (c->crash_policy_pending) {
				/* It crashed while not rprocd's to manage: not rprocd's run now. */
				c->origin = ORIGIN_NONE;
				core_changed(c);
				core_log(c, LOG_NOTICE, NULL, 0,
					 "found crashed; Start=no leaves it until asked");
			}
			c->crash_policy_pending = false;
			core_decided(c);
			return 0;
		}
		a = core_first_action(c->config->settings.start, c->state);
		/* Crashed while nobody watched (rprocd was down): OnCrash= applies now. */
		if (c->state == RPROC_STATE_CRASHED && c->crash_policy_pending &&
		    c->config->settings.on_crash == RPROC_CRASH_RESTART) {
			core_log(c, LOG_NOTICE, NULL, 0,
				 "found crashed; restarting it as OnCrash=restart says");
			core_arm_restart(c);
		}
		c->crash_policy_pending = false;
		break;
	case JOB_METHOD:
		a = core_method_action(j->method, c->state, c->config->settings.stop);
		break;
	case JOB_RESTART_STOP:
		a = core_method_action(METHOD_STOP, c->state, c->config->settings.stop);
		if (a == ACTION_REFUSE)
			break;
		if (a == ACTION_NONE) {
			/* Already down: go straight to the second half. */
			j->type = JOB_RESTART_START;
			return job_begin(c, j);
		}
		break;
	case JOB_RESTART_START:
		a = core_method_action(METHOD_START, c->state, c->config->settings.stop);
		break;
	case JOB_UPDATE:
		if (!j->validated) {
			/* The candidate is copied and checked by a worker. */
			a = ACTION_NONE;
			break;
		}
		/* On trial now (core_update_begin()): boot it; the caller hears how that went. */
		j->type = JOB_RESTART_STOP;
		j->update = true;
		return job_begin(c, j);
	case JOB_SET_FIRMWARE:
		if (!j->validated) {
			/* Validation reads the image: a worker does it. */
			a = ACTION_NONE;
			break;
		}
		if (core_state_is_up(c->state) && !j->restart) {
			job_reply_error(
				j, BUS_ERROR_INVALID_STATE,
				"core %s is %s: the firmware takes effect on the next boot; "
				"ask for a restart to boot it now",
				c->name, rproc_state_to_string(c->state));
			return 0;
		}
		free(c->firmware_override);
		c->firmware_override = TAKE_PTR(j->firmware);
		core_reset_fallback(c);
		core_changed(c);
		if (core_state_is_up(c->state)) {
			j->type = JOB_RESTART_STOP;
			return job_begin(c, j);
		}
		job_reply_ok(j);
		return 0;
	case JOB_CRASH_RECOVER:
		/* The policy may have changed since the timer was armed (reload). */
		if (c->state != RPROC_STATE_CRASHED ||
		    c->config->settings.on_crash != RPROC_CRASH_RESTART)
			return 0;
		a = ACTION_RECOVER;
		break;
	case JOB_EXIT:
		a = core_exit_action(c->config->settings.on_exit, c->state);
		break;
	case JOB_RECONFIGURE:
		if (c->config->settings.start == RPROC_START_NO)
			return 0;
		a = ACTION_NONE;
		break;
	}

	if (a == ACTION_REFUSE) {
		job_reply_error(j, BUS_ERROR_INVALID_STATE,
				"%s is not possible while core %s is %s", job_what(j), c->name,
				rproc_state_to_string(c->state));
		if (j->type == JOB_FIRST)
			core_decided(c);
		return 0;
	}
	/*
	 * Wedged: never retried by rprocd itself (no loop on a stuck core), but
	 * the operator's Start or Restart tries once more and finds out.
	 */
	if (c->wedged && (a == ACTION_BOOT || a == ACTION_RECOVER) &&
	    !(j->msg && (j->type == JOB_METHOD || j->type == JOB_RESTART_START ||
			 j->type == JOB_SET_FIRMWARE))) {
		job_reply_error(j, BUS_ERROR_WEDGED,
				"core %s is wedged: a failed recovery holds a power reference; "
				"reload its driver",
				c->name);
		if (j->type == JOB_FIRST)
			core_decided(c);
		return 0;
	}

	w = core_make_work(c, a);
	if (!w) {
		job_reply_error(j, "org.freedesktop.DBus.Error.NoMemory", "out of memory");
		if (j->type == JOB_FIRST)
			core_decided(c);
		return 0;
	}
	if (j->type == JOB_UPDATE) {
		w->action = ACTION_NONE;
		w->validate_only = true;
		w->update_fd = fcntl(j->update_fd, F_DUPFD_CLOEXEC, 3);
		if (w->update_fd < 0 ||
		    rproc_ctx_path(c->manager->ctx, UPDATE_IMAGE_DIR, &w->update_dir) < 0) {
			job_reply_error(j, "org.freedesktop.DBus.Error.NoMemory",
					"out of resources");
			core_unref(c);
			work_free(w);
			return 0;
		}
	}
	if (j->type == JOB_SET_FIRMWARE) {
		w->firmware = strdup(j->firmware);
		w->action = ACTION_NONE;
		w->validate_only = true;
		if (!w->firmware) {
			job_reply_error(j, "org.freedesktop.DBus.Error.NoMemory", "out of memory");
			core_unref(c);
			work_free(w);
			return 0;
		}
	}
	/* Start=no leaves a core alone until asked: then its settings go with the first boot. */
	if (j->type == JOB_FIRST || j->type == JOB_RECONFIGURE || a == ACTION_BOOT ||
	    a == ACTION_ATTACH)
		core_plan_settings(c, w);

	if (a == ACTION_NONE && j->type != JOB_SET_FIRMWARE && j->type != JOB_UPDATE &&
	    w->set_recovery < 0 && w->set_coredump < 0) {
		/* Nothing to write: answer now. */
		core_unref(c);
		work_free(w);
		if (j->type == JOB_FIRST)
			core_decided(c);
		job_reply_ok(j);
		return 0;
	}

	/*
	 * BindLifetime=: a chardev still held from an earlier boot goes first,
	 * its flag cleared, while the core is down. Closed after the new boot, it
	 * would stop the core just booted (the flag belongs to the processor, and
	 * the kernel acts on the release of any fd).
	 */
	if (w->via_cdev)
		core_release_cdev(c, true);

	r = worker_start(c->manager->workers, w);
	if (r < 0) {
		_cleanup_free_ char *text =
			strdup_printf("%s: cannot start a worker thread: %s; not done", job_what(j),
				      strerror(-r));

		/* Out of threads or memory: nothing was written; say so, and retry what is ours. */
		job_reply_error(j, BUS_ERROR_BUSY, "cannot start a worker: %s", strerror(-r));
		core_set_error(c, text);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, r, text);
		core_unref(c);
		work_free(w);
		if (j->type == JOB_FIRST)
			core_decided(c);
		if (j->type == JOB_CRASH_RECOVER)
			core_arm_restart(c);
		return 0;
	}
	return 1;
}

/* What a write that succeeded means for rprocd, before the state it left is observed. */
static void core_note_success(struct core *c, const struct work *w)
{
	if (w->came_up)
		return; /* core_observe() says it: adopted, not booted again */
	switch (w->action) {
	case ACTION_ADOPT:
		c->origin = ORIGIN_ADOPTED;
		break;
	case ACTION_BOOT:
		c->origin = ORIGIN_BOOTED;
		c->booted_usec = w->end_usec;
		c->watch_until_usec = 0;
		free(c->build_id);
		c->build_id = rproc_fw_build_id_to_hex(&w->fw_info);
		free(c->fw_digest);
		c->fw_digest = w->digest[0] ? strdup_printf("sha256:%s", w->digest) : NULL;
		free(c->booted_name);
		c->booted_name = w->firmware ? strdup(w->firmware) : NULL;
		break;
	case ACTION_ATTACH:
		c->origin = ORIGIN_ATTACHED;
		c->watch_until_usec = 0;
		break;
	case ACTION_STOP:
	case ACTION_DETACH:
		c->origin = ORIGIN_NONE;
		break;
	default:
		break;
	}
	core_changed(c);
}

/* The journal line of a write that succeeded, once the state it brought is recorded. */
static void core_log_success(struct core *c, const struct work *w)
{
	_cleanup_free_ char *text = NULL;

	if (w->came_up)
		return;
	switch (w->action) {
	case ACTION_ADOPT:
		core_log(c, LOG_INFO, MESSAGE_CORE_ADOPTED, 0,
			 "adopted: already up, left untouched");
		break;
	case ACTION_BOOT:
		if (asprintf(&text, "booted %s in %llu ms",
			     strempty(w->firmware ? w->firmware : c->firmware),
			     (unsigned long long) (w->end_usec - w->begin_usec) / 1000) < 0)
			text = NULL;
		core_log(c, LOG_INFO, MESSAGE_CORE_BOOTED, 0, text ? text : "booted");
		break;
	case ACTION_ATTACH:
		core_log(c, LOG_INFO, MESSAGE_CORE_ATTACHED, 0, "attached to the running core");
		break;
	case ACTION_STOP:
		core_log(c, LOG_INFO, MESSAGE_CORE_STOPPED, 0, "stopped");
		break;
	case ACTION_DETACH:
		core_log(c, LOG_INFO, MESSAGE_CORE_DETACHED, 0, "detached: the core keeps running");
		break;
	case ACTION_RECOVER:
		core_log(c, LOG_INFO, MESSAGE_CORE_RECOVERED, 0, "recovered");
		break;
	default:
		break;
	}
}

/*
 * Everything the work read goes to the one owner; the last read is the
 * write's result. A success is logged once the state it brought is recorded
 * (the journal entry carries that state and firmware).
 */
/* The kernel took a start or recover, and the core reads crashed after it. */
static bool up_then_crashed(const struct work *w)
{
	enum rproc_state last = w->n_seen > 0 ? w->seen[w->n_seen - 1] : RPROC_STATE_INVALID;

	return w->error == 0 && !w->came_up && last == RPROC_STATE_CRASHED &&
	       (w->action == ACTION_BOOT || w->action == ACTION_ATTACH ||
		w->action == ACTION_RECOVER);
}

/*
 * A recover the kernel took, and the core reads crashed after it: was it up
 * in between and crashed again, or did the kernel's recovery fail (a
 * driver's stop or start; recovery_store() ignores that)? Without the log
 * nobody can tell, and it is taken as up and crashed again. The recovery
 * runs inside the write, so its "is now up" record is in the log when the
 * write returns: none means it never came up. (A start is written only to
 * an offline or detached core: crashed after it is always a new crash.)
 */
static void check_still_crashed(struct core *c, struct work *w)
{
	if (!up_then_crashed(w) || w->action != ACTION_RECOVER || !w->log_live)
		return;
	manager_kmsg_drain(c->manager);
	if (!manager_kmsg_live(c->manager) || c->up_records != w->up_records)
		return;
	w->still_crashed = true;
	w->error = -EIO;
	w->failed_step = "recover";
}

static void core_observe_work(struct core *c, struct work *w, bool success)
{
	enum rproc_state last = w->n_seen > 0 ? w->seen[w->n_seen - 1] : RPROC_STATE_INVALID;

	c->in_work = true;
	for (unsigned i = 0; i + 1 < w->n_seen; i++)
		core_observe(c, w->seen[i], ACTION_NONE);
	core_observe_attrs(
		c, TAKE_PTR(w->kernel_firmware),
		w->set_recovery >= 0 && !streq_ptr(w->failed_step, "recovery") ? w->set_recovery
									       : -1,
		w->set_coredump >= 0 && !streq_ptr(w->failed_step, "coredump") ? w->set_coredump
									       : -1);
	/*
	 * The kernel brought the core up (the write succeeded) and it reads
	 * crashed already: it was up in between, and crashed again — a crash of
	 * its own, not the one it may have been recovered from.
	 */
	if (up_then_crashed(w)) {
		core_observe(
			c, w->action == ACTION_ATTACH ? RPROC_STATE_ATTACHED : RPROC_STATE_RUNNING,
			w->action);
		if (success)
			core_log_success(c, w);
		core_observe(c, last, ACTION_NONE);
	} else {
		if (w->n_seen > 0)
			core_observe(c, last, w->action);
		if (success)
			core_log_success(c, w);
	}
	c->in_work = false;
}

static void work_done(struct work *w, bool abandoned)
{
	struct core *c = w->userdata;
	struct job *j = c->running;
	_cleanup_free_ char *fw = strdup(strempty(w->firmware ? w->firmware : w->kernel_firmware));
	bool success;

	c->running = NULL;
	if (abandoned) {
		job_free(j);
		work_free(w);
		core_unref(c);
		return;
	}
	c->queued_dispatch = true;
	core_changed(c);
	if (c->removed) {
		if (j)
			job_reply_error(j, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared",
					c->name);
		job_free(j);
		work_free(w);
		core_unref(c);
		return;
	}

	check_still_crashed(c, w);
	success = w->error == 0 &&
		  !(j && (j->type == JOB_SET_FIRMWARE || j->type == JOB_UPDATE) && !j->validated);
	if (success)
		core_note_success(c, w);
	/* Staged copies the core no longer uses may go (the run queue looks). */
	if (w->action == ACTION_BOOT || w->action == ACTION_STOP)
		c->manager->stage_gc_pending = true;
	core_observe_work(c, w, success);

	if (w->cdev_fd >= 0) {
		core_take_cdev(c, w->cdev_fd);
		w->cdev_fd = -1;
	}
	/* A core that is down no longer needs binding to us. */
	if (c->cdev_fd >= 0 && !core_state_is_up(c->state) && w->error == 0 &&
	    (w->action == ACTION_STOP || w->action == ACTION_DETACH))
		core_release_cdev(c, true);

	if (w->error != 0 && w->action == ACTION_BOOT && c->update.trial &&
	    streq_ptr(w->firmware, c->update.trial_image)) {
		_cleanup_free_ char *text = work_error_text(w, fw);

		/* The candidate did not boot: back to the committed image, now (not a wedged core). */
		core_set_error(c, text);
		if (w->wedged)
			c->wedged = true;
		core_log(c, LOG_ERR, w->wedged ? MESSAGE_CORE_WEDGED : MESSAGE_CORE_FAILED,
			 w->error > 0 ? 0 : w->error, text);
		core_update_rollback(c, text ? text : "the candidate failed to boot", false);
		if (j)
			job_reply_error(j, BUS_ERROR_UPDATE_FAILED,
					"the candidate failed to boot: %s; "
					"rolled back",
					strempty(text));
		if (!w->wedged)
			(void) core_queue_internal(c, JOB_RESTART_START);
		else
			core_watch_down(c);
	} else if (w->error != 0 && j && w->action == ACTION_BOOT && !w->wedged &&
		   core_can_fall_back(c, w->firmware)) {
		_cleanup_free_ char *text = work_error_text(w, fw);

		/* Boot the fallback in the same job: the caller is answered after it. */
		core_set_error(c, text);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, w->error > 0 ? 0 : w->error, text);
		core_fall_back(c, text ? text : "boot failed");
		core_enqueue(c, j, true);
		j = NULL;
	} else if (w->error != 0) {
		_cleanup_free_ char *text = work_error_text(w, fw);

		core_set_error(c, text);
		/* Down after a failed boot or recovery: a kernel that recovers it is watched. */
		if (!core_state_is_up(c->state) &&
		    (w->action == ACTION_BOOT || w->action == ACTION_RECOVER))
			core_watch_down(c);
		if (w->wedged) {
			c->wedged = true;
			core_log(c, LOG_ERR, MESSAGE_CORE_WEDGED, w->error > 0 ? 0 : w->error,
				 text);
		} else
			core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, w->error > 0 ? 0 : w->error,
				 text);
		if (j) {
			char name[sizeof(BUS_ERROR_KERNEL_PREFIX) + 32];

			job_reply_error(j, work_error_name(w, name, sizeof(name)), "%s",
					text ? text : "failed");
		}
	} else if (j && j->type == JOB_SET_FIRMWARE && !j->validated) {
		/* The image passed: apply it now, at the front of the queue. */
		j->validated = true;
		core_enqueue(c, j, true);
		j = NULL;
	} else if (j && j->type == JOB_UPDATE && !j->validated) {
		_cleanup_free_ char *digest = strdup_printf("sha256:%s", w->digest);
		int r = digest ? core_update_begin(c, digest) : -ENOMEM;

		if (r < 0) {
			_cleanup_free_ char *text =
				strdup_printf("Update: cannot record the trial: %s", strerror(-r));

			core_set_error(c, text);
			job_reply_error(j, BUS_ERROR_UPDATE_FAILED, "%s", strempty(text));
		} else {
			log_core_event(LOG_INFO, MESSAGE_CORE_UPDATE_TRIAL, c->name,
				       rproc_state_to_string(c->state), core_firmware_display(c), 0,
				       "update %s staged and checked; booting it on trial", digest);
			/* Checked and recorded: boot it now, at the front of the queue. */
			j->validated = true;
			core_enqueue(c, j, true);
			j = NULL;
		}
	} else {
		if (w->action == ACTION_BOOT || w->action == ACTION_ATTACH ||
		    w->action == ACTION_RECOVER)
			core_set_error(c, NULL);
		if (w->fw_changed) {
			core_set_error(c, "the firmware file changed between validation and boot");
			core_log(c, LOG_WARNING, MESSAGE_CORE_FAILED, 0,
				 "the firmware file changed between validation and boot");
		}
		if (j && j->type == JOB_RESTART_STOP) {
			j->type = JOB_RESTART_START;
			core_enqueue(c, j, true);
			j = NULL;
		} else if (j && j->update &&
			   !(w->action == ACTION_BOOT && !w->came_up && c->update.trial &&
			     streq_ptr(w->firmware, c->update.trial_image))) {
			/* Attached, adopted, or someone else's boot: the candidate did not run. */
			core_update_rollback(c,
					     "the candidate was not booted (the core was attached "
					     "or came up by itself)",
					     false);
			job_reply_error(
				j, BUS_ERROR_UPDATE_FAILED,
				"core %s was not booted with the candidate (%s); rolled back",
				c->name, core_action_to_string(w->action));
		} else if (j)
			job_reply_ok(j);
	}

	if (j && j->type == JOB_FIRST)
		core_decided(c);
	job_free(j);
	work_free(w);
	core_unref(c);
}

void core_dispatch(struct core *c)
{
	c->queued_dispatch = false;
	while (!c->running && c->jobs) {
		struct job *j = core_dequeue(c);

		c->running = j;
		if (job_begin(c, j) > 0)
			return;
		c->running = NULL;
		job_free(j);
		/* Done at once: another core may wait for this one (the next run judges it). */
		core_changed(c);
	}
}

static int core_queue(struct core *c, struct job *j, sd_bus_error *error)
{
	if (c->manager->exiting) {
		j->replied = true; /* the error goes back through the method handler */
		job_free(j);
		return sd_bus_error_set(error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	}
	if (core_enqueue(c, j, false) < 0) {
		j->replied = true;
		job_free(j);
		return sd_bus_error_setf(error, BUS_ERROR_BUSY,
					 "core %s has %u calls waiting already", c->name,
					 CORE_JOBS_MAX);
	}
	return 1;
}

int core_check_managed(struct core *c, sd_bus_error *error)
{
	if (c->removed)
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared",
					 c->name);
	if (core_is_managed(c))
		return 0;
	if (c->config && c->config->masked)
		return sd_bus_error_setf(error, BUS_ERROR_NOT_MANAGED, "core %s is masked",
					 c->name);
	if (c->config) {
		_cleanup_free_ char *why = utf8_escape_invalid(strempty(c->last_error));

		return sd_bus_error_setf(error, BUS_ERROR_NOT_MANAGED,
					 "core %s has an invalid configuration: %s", c->name,
					 strempty(why));
	}
	return sd_bus_error_setf(error, BUS_ERROR_NOT_MANAGED,
				 "core %s has no configuration: rprocd only watches it", c->name);
}

int core_queue_method(struct core *c, enum core_method method, sd_bus_message *msg,
		      sd_bus_error *error)
{
	struct job *j;
	int r;

	r = core_check_managed(c, error);
	if (r < 0)
		return r;
	j = job_new(JOB_METHOD, msg);
	if (!j)
		return -ENOMEM;
	j->method = method;
	/* An explicit Start or Recover is the operator's word: the crash count starts over. */
	if (method == METHOD_START || method == METHOD_RECOVER)
		core_reset_start_limit(c);
	return core_queue(c, j, error);
}

int core_queue_restart(struct core *c, sd_bus_message *msg, sd_bus_error *error)
{
	struct job *j;
	int r;

	r = core_check_managed(c, error);
	if (r < 0)
		return r;
	if (c->start_limit_hit)
		return sd_bus_error_setf(error, BUS_ERROR_START_LIMIT_HIT,
					 "core %s hit its start limit; Start or Recover resets it",
					 c->name);
	j = job_new(JOB_RESTART_STOP, msg);
	if (!j)
		return -ENOMEM;
	return core_queue(c, j, error);
}

/*
 * RollbackUpdate: the restart that boots the previous image is queued first,
 * with the caller's message (answered when that boot is done, as Restart is),
 * and the decision is made only once it is in the queue: a call refused
 * (Busy, shutting down) leaves the trial as it was. The operator's word
 * resets the start limit, as Start's does.
 */
int core_queue_rollback(struct core *c, sd_bus_message *msg, sd_bus_error *error)
{
	struct job *j;
	int r;

	r = core_check_managed(c, error);
	if (r < 0)
		return r;
	j = job_new(JOB_RESTART_STOP, msg);
	if (!j)
		return -ENOMEM;
	j->rollback = true;
	r = core_queue(c, j, error);
	if (r < 0)
		return r;
	core_reset_start_limit(c);
	core_update_rollback(c, "rolled back by the operator", false);
	return r;
}

int core_queue_set_firmware(struct core *c, const char *name, bool restart, sd_bus_message *msg,
			    sd_bus_error *error)
{
	struct job *j;
	int r;

	r = core_check_managed(c, error);
	if (r < 0)
		return r;
	if (!rproc_firmware_name_is_valid(name))
		return sd_bus_error_setf(
			error, BUS_ERROR_INVALID_FIRMWARE,
			"invalid firmware name: names are relative to the firmware "
			"search path, at most %d bytes, without \"..\" or control "
			"characters",
			RPROC_FIRMWARE_NAME_MAX);
	j = job_new(JOB_SET_FIRMWARE, msg);
	if (!j || !(j->firmware = strdup(name))) {
		if (j)
			j->replied = true; /* the handler's -ENOMEM is the reply */
		job_free(j);
		return -ENOMEM;
	}
	j->restart = restart;
	return core_queue(c, j, error);
}

int core_queue_update(struct core *c, int fd, sd_bus_message *msg, sd_bus_error *error)
{
	struct job *j;
	int r;

	r = core_check_managed(c, error);
	if (r < 0)
		return r;
	if (c->wedged)
		return sd_bus_error_setf(error, BUS_ERROR_WEDGED,
					 "core %s is wedged: a failed recovery holds a power "
					 "reference; reload its driver before updating",
					 c->name);
	if (!c->manager->stage_dir)
		return sd_bus_error_setf(
			error, BUS_ERROR_UPDATE_FAILED, "updates need firmware staging: %s",
			c->manager->stage_missing ? c->manager->stage_missing
						  : "install the link /lib/firmware/rprocd -> "
						    "/run/rprocd/firmware");
	/* One at a time: a second Update while one is queued or on trial is refused. */
	if (c->update.trial)
		return sd_bus_error_setf(
			error, BUS_ERROR_UPDATE_IN_PROGRESS,
			"update %s of core %s is on trial: confirm or roll it back "
			"first",
			c->update.trial, c->name);
	for (struct job *q = c->jobs; q; q = q->next)
		if (q->type == JOB_UPDATE)
			return sd_bus_error_setf(error, BUS_ERROR_UPDATE_IN_PROGRESS,
						 "an update of core %s is queued already", c->name);
	if (c->running && c->running->type == JOB_UPDATE)
		return sd_bus_error_setf(error, BUS_ERROR_UPDATE_IN_PROGRESS,
					 "an update of core %s is under way", c->name);
	j = job_new(JOB_UPDATE, msg);
	if (!j)
		return -ENOMEM;
	j->update_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (j->update_fd < 0) {
		r = -errno;
		j->replied = true;
		job_free(j);
		return r;
	}
	return core_queue(c, j, error);
}

void core_start_first(struct core *c)
{
	if (!core_is_managed(c)) {
		if (c->config && !c->config->masked) {
			const struct rproc_config_diag *e =
				rproc_core_config_first_error(c->config);
			_cleanup_free_ char *text = NULL;

			if (e && asprintf(&text, "%s:%u: %s", strempty(e->file), e->line,
					  e->message) >= 0)
				core_set_config_error(c, text);
		}
		c->dep = DEP_NONE;
		core_decided(c);
		return;
	}
	/* An update an earlier run committed (or left on trial) decides what boots. */
	if (!c->update.committed && !c->update.trial)
		core_update_load(c);
	c->decided = false;
	c->dep = DEP_WAITING;
	core_changed(c);
}

void core_remove(struct core *c)
{
	c->removed = true;
	sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	core_events_detach(c);
	while (c->jobs) {
		struct job *j = core_dequeue(c);

		job_reply_error(j, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared", c->name);
		job_free(j);
	}
	c->jobs_tail = NULL;
	/* Its chardev belongs to a device that is gone: out of the fd store too. */
	core_release_cdev(c, false);
	/* A running job is answered when its worker comes back (core_ref keeps c alive). */
	log_core_event(LOG_NOTICE, NULL, c->name, NULL, NULL, 0, "removed by the kernel");
	manager_schedule(c->manager);
}

bool core_queue_exit(struct core *c)
{
	struct job *j;

	while (c->jobs) {
		j = core_dequeue(c);
		job_reply_error(j, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
		job_free(j);
	}
	c->jobs_tail = NULL;
	sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	if (!core_is_managed(c) || c->removed)
		return c->running != NULL;
	j = job_new(JOB_EXIT, NULL);
	if (!j)
		return c->running != NULL;
	core_enqueue(c, j, false);
	return true;
}

int core_apply_config(struct core *c, const struct rproc_core_config *old,
		      const struct rproc_core_config *config, char ***messages)
{
	bool was_managed = old && old->valid && !old->masked;

	if (!old || !config || !streq_ptr(old->firmware, config->firmware) ||
	    !streq_ptr(old->fallback_firmware, config->fallback_firmware))
		core_reset_fallback(c);
	c->config = config;
	free(c->firmware_override);
	c->firmware_override = NULL;
	if (config) {
		c->limit.burst = config->settings.start_limit_burst;
		c->limit.interval_usec = config->settings.start_limit_interval_usec;
	}
	if (!config || config->settings.on_crash != RPROC_CRASH_RESTART)
		sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	core_changed(c);
	if (!core_is_managed(c)) {
		sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
		core_start_first(c); /* records the configuration error */
		return 0;
	}
	/* A kernel failure stays until the core does better: the reload did not touch it. */
	if (c->config_error)
		core_set_error(c, NULL);
	if (!was_managed || c->dep == DEP_FAILED) {
		/*
		 * Newly managed, or its dependencies failed (the new configuration
		 * may name others): the first-seen policy applies as at start-up,
		 * to a crashed core too (its OnCrash= ran under another
		 * configuration, or not at all).
		 */
		if (c->state == RPROC_STATE_CRASHED)
			c->crash_policy_pending = true;
		core_start_first(c);
		return 0;
	}
	/* Kernel settings (recovery, coredump) apply now; a new image on the next boot. */
	if (core_state_is_up(c->state) && config->firmware && c->firmware &&
	    strcmp(config->firmware, c->firmware) != 0) {
		char *msg = utf8_make_valid(
			strdup_printf("%s: Firmware=%s takes effect when the core restarts "
				      "(running %s)",
				      c->name, config->firmware, c->firmware));

		if (!msg || strv_push(messages, msg) < 0)
			return -ENOMEM;
	}
	/* Now OnCrash=restart, and crashed under another policy: the new one applies. */
	if (c->state == RPROC_STATE_CRASHED && config->settings.on_crash == RPROC_CRASH_RESTART &&
	    old->settings.on_crash != RPROC_CRASH_RESTART)
		core_arm_restart(c);
	return core_queue_internal(c, JOB_RECONFIGURE) == -ENOMEM ? -ENOMEM : 0;
}
