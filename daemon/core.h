/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "core-policy.h"
#include "librproc.h"

struct manager;
struct job;

#define CORE_INTERFACE	 "org.rprocd1.Core"
#define CORE_PATH_PREFIX "/org/rprocd1/core"
#define CORE_JOBS_MAX	 128

enum dep_state {
	DEP_NONE, /* no Requires=/After= left to wait for */
	DEP_WAITING,
	DEP_FAILED,
};

struct core {
	unsigned n_ref;
	struct manager *manager;
	char *name; /* name on the bus: NAME, or the kernel's */
	char *object_path;
	struct rproc_core_config *config; /* NULL: not managed, read-only */
	struct rproc_device *dev;
	bool removed;

	/* What the kernel says, as last read. */
	enum rproc_state state;
	char *firmware;
	bool recovery_enabled;
	enum rproc_coredump_mode coredump;

	/* What rprocd knows. */
	char *firmware_override; /* SetFirmware(), until reload */
	char *build_id;		 /* of the image rprocd booted */
	enum core_origin origin;
	unsigned crash_count;
	uint64_t last_crash_usec; /* CLOCK_REALTIME */
	char *last_error;
	bool start_limit_hit;
	bool wedged;
	bool firmware_failed;	   /* Firmware= failed: boot FallbackFirmware= */
	char *fallback_reason;	   /* why the fallback runs ("" otherwise) */
	uint64_t booted_usec;	   /* CLOCK_MONOTONIC of the last boot rprocd did */
	uint64_t watch_until_usec; /* CLOCK_MONOTONIC: poll an offline core until then */
	bool awaiting_dump;	   /* a crash was counted; its dump is still to come */
	char *last_coredump;	   /* the file of the last dump saved */
	bool decided;		   /* the first-seen decision is done */
	enum dep_state dep;
	struct start_limit limit;
	sd_event_source *restart_timer;
	int cdev_fd; /* BindLifetime=: the open chardev */

	struct job *jobs, *jobs_tail;
	unsigned n_jobs;
	struct job *running;

	/* Properties as last emitted, to send PropertiesChanged for what changed. */
	struct core_snapshot *emitted;
};

int core_new(struct manager *m, const char *name, struct rproc_device *dev,
	     struct rproc_core_config *config, struct core **ret);
struct core *core_ref(struct core *c);
struct core *core_unref(struct core *c);

/* Begin the first-seen decision (or wait for dependencies). */
void core_start_first(struct core *c);
/* Re-check dependencies of a waiting core (another core changed). */
void core_check_dependencies(struct core *c);
/* The device went away: fail pending calls, leave the bus. */
void core_remove(struct core *c);
/* Read the kernel's state now (loop thread: reads do not block) and react to changes. */
void core_poll(struct core *c);
/* Can the core change by itself now, so that the poll timer must watch it? */
bool core_wants_poll(const struct core *c);
/* BindLifetime=: own the chardev fd (and store a copy with systemd); let go of it. */
void core_take_cdev(struct core *c, int fd);
void core_release_cdev(struct core *c, bool clear_flag);

/* The kernel made a devcoredump of this core (dir: /sys/…/devcdN): save it, count the crash. */
void core_coredump_added(struct core *c, const char *dir);
/* Apply OnExit= (shutdown). Returns true when work was queued. */
bool core_queue_exit(struct core *c);
/*
 * Take a new configuration (reload; c->config was cleared, old is what it was);
 * messages say what waits for a restart of the core.
 */
int core_apply_config(struct core *c, const struct rproc_core_config *old,
		      struct rproc_core_config *config, char ***messages);

/* D-Bus: queue a method call; the reply is sent when the kernel has answered. */
int core_queue_method(struct core *c, enum core_method method, sd_bus_message *msg,
		      sd_bus_error *error);
int core_queue_restart(struct core *c, sd_bus_message *msg, sd_bus_error *error);
int core_queue_set_firmware(struct core *c, const char *name, bool restart, sd_bus_message *msg,
			    sd_bus_error *error);

bool core_is_managed(const struct core *c);
bool core_is_busy(const struct core *c);
/* Emit PropertiesChanged for every property that differs from what was last sent. */
void core_emit_changes(struct core *c);
void core_snapshot_free(struct core_snapshot *s);

extern const sd_bus_vtable core_vtable[];
int core_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		     void **found, sd_bus_error *error);
int core_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *error);
