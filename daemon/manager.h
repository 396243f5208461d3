/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libudev.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "librproc.h"

struct core;
struct worker_pool;

struct manager {
	sd_event *event;
	sd_bus *bus;
	struct rproc_ctx *ctx;
	struct worker_pool *workers;

	struct udev *udev;
	struct udev_monitor *monitor;
	sd_event_source *monitor_source;
	sd_event_source *poll_timer;
	sd_bus_slot *object_manager_slot;

	struct rproc_daemon_config *config;
	gid_t admin_gid; /* (gid_t)-1: none */
	/* Every NAME.core, valid or not, loaded at start-up or reload. */
	struct rproc_core_config **core_configs;
	size_t n_core_configs;
	char **conflicted; /* configurations that matched a device another one matched too */

	int *stored_fds; /* chardevs handed back by the fd store */
	size_t n_stored_fds;

	struct core **cores; /* cores on the bus: one per kernel device */
	size_t n_cores;

	bool enumerating; /* start-up: not every device is known yet */
	bool ready;	  /* READY=1 sent */
	bool exiting;	  /* SIGTERM seen: no new work */
	bool name_owned;
	char *status_text;
	/* Test hook: SIGUSR2 blocks the loop (watchdog tests), from RPROCD_TEST_STALL=1. */
	bool test_stall;
};

int manager_new(const char *root, struct manager **ret);
struct manager *manager_free(struct manager *m);
int manager_startup(struct manager *m);
int manager_run(struct manager *m);

/* Re-read the configuration; messages say what could not be applied now. */
int manager_reload(struct manager *m, char ***ret_messages);

/* A kernel device appeared (enumeration, hotplug) or went away. */
int manager_add_device(struct manager *m, struct rproc_device *dev);
void manager_remove_device(struct manager *m, const char *sysname);

/* A devcoredump appeared (dir: its sysfs directory): hand it to the core it belongs to. */
void manager_coredump_added(struct manager *m, const char *dir);

struct core *manager_find_core(struct manager *m, const char *name);
struct core *manager_find_core_by_path(struct manager *m, const char *path);
struct core *manager_find_core_by_sysname(struct manager *m, const char *sysname);

/* Something changed: update STATUS=, send READY=1 once every core has decided, re-arm polling. */
void manager_state_changed(struct manager *m);
/* Arm the shared poll timer if any core can change by itself. */
void manager_arm_poll(struct manager *m);
/* A core has finished all work during shutdown: exit when all have. */
void manager_check_exit(struct manager *m);

/* Is the sender of m privileged: root or a member of AdminGroup=. */
int manager_check_privileged(struct manager *m, sd_bus_message *msg, sd_bus_error *error);
