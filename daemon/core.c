/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One remote processor: its kernel device, its configuration, and a queue of
 * jobs run one at a time (operations on one core are serialised; different
 * cores run concurrently, each write in a worker thread).
 */
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus-errors.h"
#include "core.h"
#include "log.h"
#include "util.h"
#include "manager.h"
#include "messages.h"
#include "worker.h"

enum job_type {
	JOB_FIRST,	   /* the first-seen decision */
	JOB_METHOD,	   /* Start, Stop, Attach, Detach, Recover */
	JOB_RESTART_STOP,  /* Restart, first half */
	JOB_RESTART_START, /* Restart, second half */
	JOB_SET_FIRMWARE,
	JOB_CRASH_RECOVER, /* OnCrash=restart after RestartSec= */
	JOB_EXIT,	   /* OnExit= at shutdown */
	JOB_RECONFIGURE,   /* reload: write the kernel settings again, nothing else */
};

struct job {
	struct job *next;
	enum job_type type;
	enum core_method method;
	char *firmware;	     /* JOB_SET_FIRMWARE */
	bool restart;	     /* JOB_SET_FIRMWARE: restart a running core */
	bool validated;	     /* JOB_SET_FIRMWARE: the image passed */
	sd_bus_message *msg; /* the call to answer, or NULL */
};

static void core_dispatch(struct core *c);
static void core_arm_restart(struct core *c);
static void core_count_crash(struct core *c, const char *what);

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

bool core_is_managed(const struct core *c)
{
	return c->config && c->config->valid && !c->config->masked;
}

bool core_is_busy(const struct core *c)
{
	return c->running || c->jobs;
}

static struct job *job_free(struct job *j)
{
	if (!j)
		return NULL;
	sd_bus_message_unref(j->msg);
	free(j->firmware);
	free(j);
	return NULL;
}

/* Load the kernel's view; returns true when the state changed. */
static bool core_read_kernel(struct core *c)
{
	enum rproc_state s = RPROC_STATE_INVALID;
	enum rproc_coredump_mode cd;
	char *fw = NULL;
	bool rec, changed;

	if (rproc_device_read_state(c->dev, &s) < 0)
		s = RPROC_STATE_INVALID;
	changed = s != c->state;
	c->state = s;
	if (rproc_device_read_firmware(c->dev, &fw) >= 0) {
		free(c->firmware);
		c->firmware = fw;
	}
	if (rproc_device_read_recovery(c->dev, &rec) >= 0)
		c->recovery_enabled = rec;
	if (rproc_device_read_coredump(c->dev, &cd) >= 0)
		c->coredump = cd;
	return changed;
}

static void core_set_error(struct core *c, const char *text)
{
	free(c->last_error);
	c->last_error = text ? strdup(text) : NULL;
}

int core_new(struct manager *m, const char *name, struct rproc_device *dev,
	     struct rproc_core_config *config, struct core **ret)
{
	struct core *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->n_ref = 1;
	c->manager = m;
	c->cdev_fd = -1;
	c->state = RPROC_STATE_INVALID;
	c->name = strdup(name);
	c->dev = rproc_device_ref(dev);
	c->config = config;
	if (!c->name) {
		core_unref(c);
		return -ENOMEM;
	}
	r = sd_bus_path_encode(CORE_PATH_PREFIX, name, &c->object_path);
	if (r < 0) {
		core_unref(c);
		return r;
	}
	if (config) {
		c->limit.burst = config->settings.start_limit_burst;
		c->limit.interval_usec = config->settings.start_limit_interval_usec;
	}
	core_read_kernel(c);
	*ret = c;
	return 0;
}

struct core *core_ref(struct core *c)
{
	if (c)
		c->n_ref++;
	return c;
}

struct core *core_unref(struct core *c)
{
	if (!c || --c->n_ref > 0)
		return NULL;
	while (c->jobs) {
		struct job *j = c->jobs;

		c->jobs = j->next;
		job_free(j);
	}
	job_free(c->running);
	sd_event_source_disable_unref(c->restart_timer);
	if (c->cdev_fd >= 0)
		close(c->cdev_fd);
	rproc_core_config_free(c->config);
	rproc_device_unref(c->dev);
	core_snapshot_free(c->emitted);
	free(c->name);
	free(c->object_path);
	free(c->firmware);
	free(c->firmware_override);
	free(c->build_id);
	free(c->last_error);
	free(c->fallback_reason);
	free(c->last_coredump);
	free(c);
	return NULL;
}

static void core_log(struct core *c, int priority, const char *id, int error, const char *what)
{
	log_core_event(priority, id, c->name, rproc_state_to_string(c->state), c->firmware, error,
		       "%s", what ? what : "(out of memory)");
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

static struct job *job_new(enum job_type type, sd_bus_message *msg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j) {
		j->type = type;
		j->msg = sd_bus_message_ref(msg);
	}
	return j;
}

static void job_reply_ok(struct job *j)
{
	if (j->msg)
		(void) sd_bus_reply_method_return(j->msg, NULL);
}

static void job_reply_error(struct job *j, const char *name, const char *fmt, ...) _printf_(3, 4);
static void job_reply_error(struct job *j, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	if (!j->msg)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	(void) sd_bus_reply_method_errorf(j->msg, name, "%s", text ? text : name);
}

/* The errno as its symbolic name where libc knows it ("EINVAL"). */
static const char *errno_name(int e)
{
	const char *n = strerrorname_np(abs_errno(e));

	return n ? n : "E?";
}

/* What a finished work means for a user, e.g. "start: Invalid argument (EINVAL)". */
static char *work_error_text(const struct work *w, const char *firmware)
{
	char *s = NULL;
	int r;

	if (w->still_up)
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

static const char *work_error_name(const struct work *w)
{
	if (w->wedged)
		return BUS_ERROR_WEDGED;
	if (streq_ptr(w->failed_step, "validate"))
		return BUS_ERROR_INVALID_FIRMWARE;
	if (streq_ptr(w->failed_step, "state"))
		return BUS_ERROR_INVALID_STATE;
	return BUS_ERROR_KERNEL;
}

static const char *firmware_to_boot(const struct core *c)
{
	if (c->firmware_override)
		return c->firmware_override;
	if (!c->config)
		return NULL;
	if (c->firmware_failed && c->config->fallback_firmware)
		return c->config->fallback_firmware;
	return c->config->firmware;
}

/* Can the configured image be given up for FallbackFirmware= now? */
static bool core_can_fall_back(const struct core *c, const char *firmware)
{
	return core_is_managed(c) && c->config->fallback_firmware && !c->firmware_override &&
	       !c->firmware_failed && firmware && streq_ptr(firmware, c->config->firmware);
}

/* Give up Firmware= until asked or reconfigured; reason says why. */
static void core_fall_back(struct core *c, const char *reason)
{
	c->firmware_failed = true;
	free(c->fallback_reason);
	c->fallback_reason = strdup_printf("%s: %s", c->config->firmware, reason);
	log_core_event(LOG_WARNING, MESSAGE_CORE_FALLBACK, c->name, rproc_state_to_string(c->state),
		       c->config->fallback_firmware, 0, "booting FallbackFirmware=%s: %s",
		       c->config->fallback_firmware, strempty(c->fallback_reason));
}

/* Explicit word from the operator or a new configuration: try Firmware= again. */
static void core_reset_fallback(struct core *c)
{
	c->firmware_failed = false;
	free(c->fallback_reason);
	c->fallback_reason = NULL;
}

static void core_after_decision(struct core *c)
{
	if (!c->decided) {
		c->decided = true;
		manager_state_changed(c->manager);
	}
}

static void work_done(struct work *w);

/* FDNAME of a core's chardev in systemd's file-descriptor store. */
static char *cdev_fdname(const struct core *c)
{
	return strdup_printf("rproc-%s", rproc_device_get_sysname(c->dev));
}

/*
 * BindLifetime=: hold the chardev with shutdown-on-release, and give systemd a
 * copy so that a deliberate restart of the service does not stop the core.
 */
void core_take_cdev(struct core *c, int fd)
{
	_cleanup_free_ char *msg = NULL, *name = cdev_fdname(c);
	int r;

	c->cdev_fd = fd;
	msg = name ? strdup_printf("FDSTORE=1\nFDNAME=%s", name) : NULL;
	if (!msg)
		return;
	r = sd_pid_notify_with_fds(0, false, msg, &fd, 1);
	if (r < 0)
		log_warning_errno(r, "%s: cannot store the chardev with the service manager: %m",
				  c->name);
}

/*
 * Let go of the chardev. With clear, first drop shutdown-on-release: the flag
 * belongs to the processor and would outlive every fd.
 */
void core_release_cdev(struct core *c, bool clear)
{
	_cleanup_free_ char *msg = NULL, *name = NULL;

	if (c->cdev_fd < 0)
		return;
	if (clear)
		(void) rproc_cdev_set_shutdown_on_release(c->cdev_fd, false);
	name = cdev_fdname(c);
	msg = name ? strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", name) : NULL;
	if (msg)
		(void) sd_notify(false, msg);
	close(c->cdev_fd);
	c->cdev_fd = -1;
}

static struct work *core_make_work(struct core *c, enum core_action action)
{
	struct work *w = work_new(c->manager->ctx, c->dev, action);
	const struct rproc_core_config *cfg = c->config;

	if (!w)
		return NULL;
	w->done = work_done;
	w->userdata = core_ref(c);
	if (action == ACTION_BOOT) {
		const char *fw = firmware_to_boot(c);

		if (fw && !(w->firmware = strdup(fw))) {
			core_unref(c);
			return work_free(w);
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
	if (core_read_kernel(c))
		core_emit_changes(c);

	switch (j->type) {
	case JOB_FIRST:
		a = core_first_action(c->config->settings.start, c->state);
		if (c->config->settings.start == RPROC_START_NO) {
			core_after_decision(c);
			return 0;
		}
		/* Crashed while nobody watched (rprocd was down): OnCrash= applies now. */
		if (c->state == RPROC_STATE_CRASHED &&
		    c->config->settings.on_crash == RPROC_CRASH_RESTART) {
			core_count_crash(c, "found crashed; restarting it as OnCrash=restart says");
			core_arm_restart(c);
		}
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
		core_emit_changes(c);
		if (core_state_is_up(c->state)) {
			j->type = JOB_RESTART_STOP;
			return job_begin(c, j);
		}
		job_reply_ok(j);
		return 0;
	case JOB_CRASH_RECOVER:
		if (c->state != RPROC_STATE_CRASHED)
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
		const char *what =
			j->type == JOB_METHOD ? core_method_to_string(j->method) : "Restart";

		job_reply_error(j, BUS_ERROR_INVALID_STATE,
				"%s is not possible while core %s is %s", what, c->name,
				rproc_state_to_string(c->state));
		return 0;
	}
	if (c->wedged && (a == ACTION_BOOT || a == ACTION_RECOVER)) {
		job_reply_error(j, BUS_ERROR_WEDGED,
				"core %s is wedged: a failed recovery holds a power reference; "
				"reload its driver",
				c->name);
		return 0;
	}

	w = core_make_work(c, a);
	if (!w) {
		job_reply_error(j, "org.freedesktop.DBus.Error.NoMemory", "out of memory");
		return 0;
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

	if (a == ACTION_NONE && j->type != JOB_SET_FIRMWARE && w->set_recovery < 0 &&
	    w->set_coredump < 0) {
		/* Nothing to write: answer now. */
		core_unref(c);
		work_free(w);
		if (j->type == JOB_FIRST)
			core_after_decision(c);
		job_reply_ok(j);
		return 0;
	}

	r = worker_start(c->manager->workers, w);
	if (r < 0) {
		job_reply_error(j, BUS_ERROR_BUSY, "cannot start a worker: %s", strerror(-r));
		core_unref(c);
		work_free(w);
		return 0;
	}
	return 1;
}

static void job_finish_first(struct core *c, struct work *w)
{
	if (w->error != 0)
		return;
	switch (w->action) {
	case ACTION_ADOPT:
		c->origin = ORIGIN_ADOPTED;
		core_log(c, LOG_INFO, MESSAGE_CORE_ADOPTED, 0,
			 "adopted: already up, left untouched");
		break;
	default:
		break;
	}
}

static void core_log_success(struct core *c, const struct work *w)
{
	_cleanup_free_ char *text = NULL;

	if (w->came_up) {
		c->origin = ORIGIN_ADOPTED;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_ADOPTED, 0,
			 "came up while rprocd waited to boot it (the kernel's recovery "
			 "ended): adopted, not booted again");
		return;
	}
	switch (w->action) {
	case ACTION_BOOT:
		c->origin = ORIGIN_BOOTED;
		c->booted_usec = w->end_usec;
		free(c->build_id);
		c->build_id = rproc_fw_build_id_to_hex(&w->fw_info);
		if (asprintf(&text, "booted %s in %llu ms", strempty(c->firmware),
			     (unsigned long long) (w->end_usec - w->begin_usec) / 1000) < 0)
			text = NULL;
		core_log(c, LOG_INFO, MESSAGE_CORE_BOOTED, 0, text ? text : "booted");
		break;
	case ACTION_ATTACH:
		c->origin = ORIGIN_ATTACHED;
		core_log(c, LOG_INFO, MESSAGE_CORE_ATTACHED, 0, "attached to the running core");
		break;
	case ACTION_STOP:
		c->origin = ORIGIN_NONE;
		core_log(c, LOG_INFO, MESSAGE_CORE_STOPPED, 0, "stopped");
		break;
	case ACTION_DETACH:
		c->origin = ORIGIN_NONE;
		core_log(c, LOG_INFO, MESSAGE_CORE_DETACHED, 0, "detached: the core keeps running");
		break;
	case ACTION_RECOVER:
		core_log(c, LOG_INFO, MESSAGE_CORE_RECOVERED, 0, "recovered");
		break;
	default:
		break;
	}
}

static void work_done(struct work *w)
{
	struct core *c = w->userdata;
	struct job *j = c->running;
	const char *fw = w->firmware ? w->firmware : w->kernel_firmware;

	c->running = NULL;
	if (!c->removed) {
		c->state = w->state_after;
		if (w->kernel_firmware) {
			free(c->firmware);
			c->firmware = TAKE_PTR(w->kernel_firmware);
		}
		if (w->set_recovery >= 0 && !(streq_ptr(w->failed_step, "recovery")))
			c->recovery_enabled = w->set_recovery;
		if (w->set_coredump >= 0 && !(streq_ptr(w->failed_step, "coredump")))
			c->coredump = (enum rproc_coredump_mode) w->set_coredump;
		if (w->cdev_fd >= 0) {
			core_release_cdev(c, false);
			core_take_cdev(c, w->cdev_fd);
			w->cdev_fd = -1;
		}
		/* A core that is down no longer needs binding to us. */
		if (c->cdev_fd >= 0 && !core_state_is_up(c->state) && w->error == 0 &&
		    (w->action == ACTION_STOP || w->action == ACTION_DETACH))
			core_release_cdev(c, true);
	}

	if (w->error != 0 && j && w->action == ACTION_BOOT && !w->wedged &&
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
		if (w->wedged) {
			c->wedged = true;
			core_log(c, LOG_ERR, MESSAGE_CORE_WEDGED, w->error > 0 ? 0 : w->error,
				 text);
		} else
			core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, w->error > 0 ? 0 : w->error,
				 text);
		if (j)
			job_reply_error(j, work_error_name(w), "%s", text ? text : "failed");
	} else if (j && j->type == JOB_SET_FIRMWARE && !j->validated) {
		/* The image passed: apply it now, at the front of the queue. */
		j->validated = true;
		core_enqueue(c, j, true);
		j = NULL;
	} else {
		if (j && j->type == JOB_FIRST)
			job_finish_first(c, w);
		else if (w->action == ACTION_BOOT || w->action == ACTION_ATTACH ||
			 w->action == ACTION_RECOVER)
			core_set_error(c, NULL);
		core_log_success(c, w);
		if (w->fw_changed) {
			core_set_error(c, "the firmware file changed between validation and boot");
			core_log(c, LOG_WARNING, MESSAGE_CORE_FAILED, 0,
				 "the firmware file changed between validation and boot");
		}
		if (j && j->type == JOB_RESTART_STOP) {
			j->type = JOB_RESTART_START;
			core_enqueue(c, j, true);
			j = NULL;
		} else if (j)
			job_reply_ok(j);
	}

	if (j && j->type == JOB_FIRST)
		core_after_decision(c);
	job_free(j);
	work_free(w);
	core_emit_changes(c);
	manager_state_changed(c->manager);
	core_dispatch(c);
	core_unref(c);
}

static void core_dispatch(struct core *c)
{
	while (!c->running && c->jobs) {
		struct job *j = core_dequeue(c);

		c->running = j;
		if (job_begin(c, j) > 0)
			return;
		c->running = NULL;
		job_free(j);
	}
	core_emit_changes(c);
	if (!c->running && c->manager->exiting)
		manager_check_exit(c->manager);
}

static int core_queue(struct core *c, struct job *j, sd_bus_error *error)
{
	if (c->manager->exiting) {
		job_free(j);
		return sd_bus_error_set(error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	}
	if (core_enqueue(c, j, false) < 0) {
		job_free(j);
		return sd_bus_error_setf(error, BUS_ERROR_BUSY,
					 "core %s has %u calls waiting already", c->name,
					 CORE_JOBS_MAX);
	}
	core_dispatch(c);
	return 1;
}

static int core_check_managed(struct core *c, sd_bus_error *error)
{
	if (core_is_managed(c))
		return 0;
	if (c->config && c->config->masked)
		return sd_bus_error_setf(error, BUS_ERROR_NOT_MANAGED, "core %s is masked",
					 c->name);
	if (c->config)
		return sd_bus_error_setf(error, BUS_ERROR_NOT_MANAGED,
					 "core %s has an invalid configuration: %s", c->name,
					 strempty(c->last_error));
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
	if (method == METHOD_START || method == METHOD_RECOVER) {
		start_limit_reset(&c->limit);
		c->start_limit_hit = false;
		sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	}
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
		job_free(j);
		return -ENOMEM;
	}
	j->restart = restart;
	return core_queue(c, j, error);
}

/* Dependencies of the first decision: Requires= must be up, After= must have decided. */
static enum dep_state core_dependencies(struct core *c, char **why)
{
	const struct rproc_core_config *cfg = c->config;

	for (char **n = cfg->requires; n && *n; n++) {
		struct core *d = manager_find_core(c->manager, *n);

		if (!d && c->manager->enumerating)
			return DEP_WAITING;
		if (!d || !core_is_managed(d)) {
			if (asprintf(why, "required core %s is not present or not managed", *n) < 0)
				*why = NULL;
			return DEP_FAILED;
		}
		if (!d->decided || core_is_busy(d))
			return DEP_WAITING;
		if (!core_state_is_up(d->state)) {
			if (asprintf(why, "required core %s is %s%s%s", *n,
				     rproc_state_to_string(d->state), d->last_error ? ": " : "",
				     strempty(d->last_error)) < 0)
				*why = NULL;
			return DEP_FAILED;
		}
	}
	for (char **n = cfg->after; n && *n; n++) {
		struct core *d = manager_find_core(c->manager, *n);

		if (d && core_is_managed(d) && (!d->decided || core_is_busy(d)))
			return DEP_WAITING;
	}
	return DEP_NONE;
}

void core_check_dependencies(struct core *c)
{
	_cleanup_free_ char *why = NULL;
	struct job *j;

	if (c->dep != DEP_WAITING)
		return;
	c->dep = core_dependencies(c, &why);
	if (c->dep == DEP_WAITING)
		return;
	if (c->dep == DEP_FAILED) {
		core_set_error(c, why);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, 0, why ? why : "dependency failed");
		core_after_decision(c);
		core_emit_changes(c);
		return;
	}
	j = job_new(JOB_FIRST, NULL);
	if (!j) {
		core_set_error(c, "out of memory");
		core_after_decision(c);
		return;
	}
	core_enqueue(c, j, false);
	core_dispatch(c);
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
				core_set_error(c, text);
		}
		c->decided = true;
		return;
	}
	c->dep = DEP_WAITING;
	core_check_dependencies(c);
}

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *c = userdata;
	struct job *j;

	(void) s;
	(void) usec;
	j = job_new(JOB_CRASH_RECOVER, NULL);
	if (!j || core_enqueue(c, j, false) < 0) {
		job_free(j);
		return 0;
	}
	core_dispatch(c);
	return 0;
}

static void core_handle_crash(struct core *c)
{
	const struct rproc_core_settings *s;
	uint64_t now = monotonic_usec();

	core_count_crash(c, "crashed");
	c->awaiting_dump = c->coredump != RPROC_COREDUMP_DISABLED;
	if (!core_is_managed(c))
		return;
	s = &c->config->settings;

	/* A crash right after rprocd booted Firmware= counts as a failed boot. */
	if (c->origin == ORIGIN_BOOTED && now - c->booted_usec <= s->settle_usec &&
	    core_can_fall_back(c, c->firmware)) {
		_cleanup_free_ char *why =
			strdup_printf("crashed %llu ms after boot (SettleSec=)",
				      (unsigned long long) (now - c->booted_usec) / 1000);
		struct job *j = job_new(JOB_RESTART_STOP, NULL);

		core_fall_back(c, why ? why : "crashed right after boot");
		if (j && core_enqueue(c, j, false) >= 0)
			core_dispatch(c);
		else
			job_free(j);
		return;
	}
	if (s->on_crash != RPROC_CRASH_RESTART || c->running)
		return;
	core_arm_restart(c);
}

/* A crash seen (now, or found on first sight): counted, stamped, logged. */
static void core_count_crash(struct core *c, const char *what)
{
	c->crash_count++;
	c->last_crash_usec = realtime_usec();
	core_log(c, LOG_WARNING, MESSAGE_CORE_CRASHED, 0, what);
}

/* OnCrash=restart: recover after RestartSec=, unless the start limit is hit. */
static void core_arm_restart(struct core *c)
{
	const struct rproc_core_settings *s = &c->config->settings;
	int r;

	if (!start_limit_test(&c->limit, monotonic_usec())) {
		c->start_limit_hit = true;
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

/*
 * A core that went down without rprocd may be in the kernel's recovery, which
 * reads "offline" for the whole firmware load and start: it is watched that
 * long, or its return would go unseen (nothing else announces it).
 */
#define CORE_WATCH_AFTER_DOWN_USEC (60ULL * 1000000)

bool core_wants_poll(const struct core *c)
{
	return core_state_can_change(c->state) ||
	       (c->watch_until_usec && monotonic_usec() < c->watch_until_usec);
}

void core_poll(struct core *c)
{
	enum rproc_state old = c->state, now_state;

	if (c->removed)
		return;
	/* The tick reads one attribute per core; the others only when the state moved. */
	if (rproc_device_read_state(c->dev, &now_state) < 0 || now_state == old)
		return;
	core_read_kernel(c);

	if (c->state == RPROC_STATE_CRASHED)
		core_handle_crash(c);
	else if (old == RPROC_STATE_CRASHED && core_state_is_up(c->state))
		core_log(c, LOG_INFO, MESSAGE_CORE_RECOVERED, 0, "recovered");
	else if (core_state_is_up(old) && c->state == RPROC_STATE_OFFLINE && !c->running) {
		c->origin = ORIGIN_NONE;
		c->watch_until_usec = monotonic_usec() + CORE_WATCH_AFTER_DOWN_USEC;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_STOPPED, 0,
			 c->recovery_enabled ? "went offline without rprocd (stopped by someone "
					       "else, or the kernel is recovering it)"
					     : "stopped by someone else");
	} else if (old == RPROC_STATE_OFFLINE && core_state_is_up(c->state) && !c->running) {
		c->origin = ORIGIN_ADOPTED;
		c->watch_until_usec = 0;
		core_log(c, LOG_NOTICE, MESSAGE_CORE_ADOPTED, 0,
			 "came up without rprocd (the kernel's recovery, or someone else)");
	}
	core_emit_changes(c);
	manager_state_changed(c->manager);
}

static int read_boot_id(char *buf, size_t len)
{
	_cleanup_free_ char *s = NULL;
	size_t k = 0;
	int r;

	r = read_full_file("/proc/sys/kernel/random/boot_id", 64, &s, NULL);
	if (r < 0)
		return r;
	for (char *p = s; *p && k + 1 < len; p++)
		if (*p != '-' && *p != '\n')
			buf[k++] = *p;
	buf[k] = 0;
	return 0;
}

static void dump_done(struct work *w)
{
	struct core *c = w->userdata;

	if (w->error < 0) {
		_cleanup_free_ char *text = strdup_printf(
			"%s: %s (%s)", w->failed_step, strerror(-w->error), errno_name(w->error));

		core_set_error(c, text);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, w->error, text);
	} else {
		_cleanup_free_ char *text = strdup_printf(
			"coredump saved to %s (%llu bytes%s)", w->dump_path,
			(unsigned long long) w->dump_size,
			w->dump_removed ? ", older dumps removed for the limits" : "");

		free(c->last_coredump);
		c->last_coredump = TAKE_PTR(w->dump_path);
		core_log(c, LOG_INFO, MESSAGE_CORE_COREDUMP, 0, text);
	}
	work_free(w);
	core_emit_changes(c);
	manager_check_exit(c->manager);
	core_unref(c);
}

void core_coredump_added(struct core *c, const char *dir)
{
	const struct rproc_core_settings *s;
	char boot_id[40] = "unknown";
	struct work *w;
	int r;

	if (c->removed || !core_is_managed(c))
		return;
	s = &c->config->settings;
	if (s->coredump == RPROC_COREDUMP_DISABLED)
		return;
	/* A crash the poll did not see (the kernel recovered first): count it now. */
	if (!c->awaiting_dump) {
		c->crash_count++;
		c->last_crash_usec = realtime_usec();
		core_log(c, LOG_WARNING, MESSAGE_CORE_CRASHED, 0,
			 "crashed (seen through its coredump)");
	}
	c->awaiting_dump = false;

	(void) read_boot_id(boot_id, sizeof(boot_id));
	w = work_new(c->manager->ctx, c->dev, ACTION_NONE);
	if (!w)
		return;
	w->done = dump_done;
	w->userdata = core_ref(c);
	w->dump_src = strdup(dir);
	w->dump_prefix = strdup_printf("%s-", c->name);
	w->dump_file = strdup_printf("%s-%s-%llu.core", c->name, boot_id,
				     (unsigned long long) realtime_usec());
	w->dump_max_files = s->coredump_max_files;
	w->dump_max_use = s->coredump_max_use;
	r = rproc_ctx_path(c->manager->ctx, s->coredump_directory, &w->dump_dir);
	if (r >= 0 && (!w->dump_src || !w->dump_prefix || !w->dump_file))
		r = -ENOMEM;
	if (r >= 0)
		r = worker_start(c->manager->workers, w);
	if (r < 0) {
		log_error_errno(r, "%s: cannot save coredump %s: %m", c->name, dir);
		core_unref(c);
		work_free(w);
		return;
	}
	core_emit_changes(c);
}

void core_remove(struct core *c)
{
	c->removed = true;
	sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	while (c->jobs) {
		struct job *j = core_dequeue(c);

		job_reply_error(j, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared", c->name);
		job_free(j);
	}
	/* A running job is answered when its worker comes back (core_ref keeps c alive). */
	log_core_event(LOG_NOTICE, NULL, c->name, NULL, NULL, 0, "removed by the kernel");
}

bool core_queue_exit(struct core *c)
{
	struct job *j;

	while (c->jobs) {
		j = core_dequeue(c);
		job_reply_error(j, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
		job_free(j);
	}
	sd_event_source_set_enabled(c->restart_timer, SD_EVENT_OFF);
	if (!core_is_managed(c) || c->removed)
		return c->running != NULL;
	j = job_new(JOB_EXIT, NULL);
	if (!j)
		return c->running != NULL;
	core_enqueue(c, j, false);
	core_dispatch(c);
	return core_is_busy(c);
}

int core_apply_config(struct core *c, const struct rproc_core_config *old,
		      struct rproc_core_config *config, char ***messages)
{
	bool was_managed = old && old->valid && !old->masked;
	struct job *j;

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
	if (!core_is_managed(c)) {
		core_start_first(c); /* records the configuration error */
		return 0;
	}
	core_set_error(c, NULL);
	if (!was_managed) {
		/* Newly managed: the first-seen policy applies as at start-up. */
		c->decided = false;
		core_start_first(c);
		return 0;
	}
	/* Kernel settings (recovery, coredump) apply now; a new image on the next boot. */
	if (core_state_is_up(c->state) && config->firmware && c->firmware &&
	    strcmp(config->firmware, c->firmware) != 0) {
		char *msg = strdup_printf("%s: Firmware=%s takes effect when the core restarts "
					  "(running %s)",
					  c->name, config->firmware, c->firmware);

		if (!msg || strv_push(messages, msg) < 0)
			return -ENOMEM;
	}
	j = job_new(JOB_RECONFIGURE, NULL);
	if (!j)
		return -ENOMEM;
	core_enqueue(c, j, false);
	core_dispatch(c);
	return 0;
}
