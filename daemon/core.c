/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A core as an object: lifetime, what it is, its errors and its log lines. */
#include <stdio.h>

#include "core.h"
#include "kernel-events.h"
#include "kernel.h"
#include "log.h"
#include "manager.h"
#include "util.h"

bool core_is_managed(const struct core *c)
{
	return c->config && c->config->valid && !c->config->masked;
}

bool core_is_busy(const struct core *c)
{
	return c->running || c->jobs;
}

bool core_is_settled(const struct core *c)
{
	/* Waiting for a core that is not there may last: READY=1 does not wait for it. */
	if (c->dep == DEP_WAITING && c->dep_absent)
		return !core_is_busy(c) && c->dumps_running == 0;
	/* READY=1 waits for readiness too, bounded by ReadyTimeoutSec=. */
	return c->decided && c->dep != DEP_WAITING && !core_is_busy(c) && c->dumps_running == 0 &&
	       !core_waits_ready(c);
}

void core_set_error(struct core *c, const char *text)
{
	c->config_error = false;
	if (streq_ptr(text, c->last_error))
		return;
	free(c->last_error);
	c->last_error = text ? strdup(text) : NULL;
	core_changed(c);
}

void core_set_config_error(struct core *c, const char *text)
{
	core_set_error(c, text);
	c->config_error = text != NULL;
}

const char *core_firmware_display(const struct core *c)
{
	/* A staged copy's name says nothing to a reader: the image it was made from does. */
	if (c->booted_name && c->firmware && strstr(c->firmware, "sha256-"))
		return c->booted_name;
	return c->firmware;
}

void core_log(struct core *c, int priority, const char *id, int error, const char *what)
{
	log_core_event(priority, id, c->name, rproc_state_to_string(c->state),
		       core_firmware_display(c), error, "%s", what ? what : "(out of memory)");
}

int core_new(struct manager *m, const char *name, struct rproc_device *dev,
	     const struct rproc_core_config *config, struct core **ret)
{
	struct core *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->n_ref = 1;
	c->manager = m;
	c->cdev_fd = -1;
	c->state = RPROC_STATE_INVALID;
	c->coredump = RPROC_COREDUMP_DISABLED;
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
	core_jobs_free(c);
	sd_event_source_disable_unref(c->restart_timer);
	sd_event_source_disable_unref(c->ready_timer);
	core_events_detach(c);
	kernel_cdev_close(c->manager->kernel, c->cdev_fd);
	rproc_device_unref(c->dev);
	core_snapshot_free(c->emitted);
	free(c->name);
	free(c->object_path);
	free(c->firmware);
	free(c->firmware_override);
	free(c->build_id);
	free(c->fw_digest);
	free(c->booted_name);
	free(c->last_error);
	free(c->fallback_reason);
	free(c->last_coredump);
	free(c->last_dump_dir);
	free(c->crash_reason);
	free(c->crash_reason_next);
	rpmsg_channels_clear(&c->channels);
	trace_buffer_done(&c->trace);
	core_trace_forget_crashes(c);
	core_update_done(c);
	core_forget_records(c);
	free(c);
	return NULL;
}
