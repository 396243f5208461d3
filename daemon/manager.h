/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The manager: every core, the configuration set, the bus, the udev monitor,
 * and the run queue through which everything that crosses cores happens.
 *
 *   manager.c         lifetime, start-up, signals, the run queue, status, READY=1, exit
 *   manager-config.c  loading the configuration set and reload as a transaction
 *   manager-devices.c kernel devices: add, remove, rescan, poll, coredumps, fd store
 */

#include <libudev.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "kernel.h"
#include "librproc.h"

struct core;
struct worker_pool;

/* How the manager talks to the service manager (sd_notify), replaceable by tests. */
typedef int (*manager_notify_fn)(void *userdata, const char *text, const int *fds, size_t n_fds);

struct manager {
	/* bus-manager.c: the Manager's changing properties as last announced */
	struct {
		bool valid;
		uint32_t n_cores;
		uint64_t poll_interval;
		char *event_sources;
	} emitted;

	sd_event *event;
	sd_bus *bus;
	struct rproc_ctx *ctx;
	const struct kernel *kernel;
	struct worker_pool *workers;

	struct udev *udev;
	struct udev_monitor *monitor;
	sd_event_source *monitor_source;
	sd_event_source *poll_timer;
	sd_event_source *run_queue;
	sd_event_source *ready_timer;
	sd_bus_slot *object_manager_slot;

	struct rproc_daemon_config *config;
	gid_t admin_gid; /* (gid_t)-1: none */
	/* The configuration set: every NAME.core, valid or not. Cores borrow from it. */
	struct rproc_core_config **core_configs;
	size_t n_core_configs;
	char **conflicted; /* configurations that matched a device another one matched too */

	int *stored_fds; /* chardevs handed back by the fd store */
	char **stored_names;
	size_t n_stored_fds;

	struct core **cores; /* cores on the bus: one per kernel device */
	size_t n_cores;

	bool enumerating;	     /* start-up: not every device is known yet */
	bool ready;		     /* READY=1 sent */
	bool exiting;		     /* SIGTERM seen: no new work */
	bool name_owned;	     /* org.rprocd1 (or a test's own bus) */
	uint64_t ready_timeout_usec; /* READY=1 at the latest this long after start-up */
	char *status_text;

	/* manager-firmware.c: firmware staging, decided at start-up and reload */
	char *stage_dir;	   /* host path of the staging directory, NULL: no staging */
	char *stage_prefix;	   /* the kernel's name of a staged copy starts with this */
	char *stage_missing;	   /* FirmwareStaging=yes without a route: why boots fail */
	bool stage_gc_pending;	   /* a boot or stop finished: look for unused copies */
	bool update_prune_pending; /* an update committed or rolled back: unused images go */
	bool trace_state_used;	   /* core-trace.c: an earlier run's trace state was looked at */

	/* kernel-events.c */
	int kmsg_fd; /* the kernel log, or -1 */
	sd_event_source *kmsg_source;
	char *kmsg_buf;
	bool kmsg_lost;	     /* records lost (EPIPE) or the log closed: read every core */
	bool kmsg_resync;    /* inside that re-read */
	bool sysfs_notified; /* the kernel sent a POLLPRI on a state attribute */
	uint64_t kmsg_records, kmsg_matched, kmsg_overruns;

	/* core-trace.c */
	sd_event_source *trace_timer;

	/* manager-channels.c */
	bool channels_dirty; /* an rpmsg or tty device came or went: read the channels again */

	manager_notify_fn notify;
	void *notify_userdata;
#if RPROCD_TEST_HOOKS
	/* Test hook: SIGUSR2 blocks the loop (watchdog tests), from RPROCD_TEST_STALL=1. */
	bool test_stall;
#endif
};

/* root: the directory standing for "/" (NULL: the real one); kernel: NULL for the real one. */
int manager_new(const char *root, const struct kernel *kernel, struct manager **ret);
struct manager *manager_free(struct manager *m);
/* Start-up on the system bus, with signals, the udev monitor and the fd store. */
int manager_startup(struct manager *m);
/*
 * The pieces of start-up, for tests: load the configuration, take a bus that
 * is already connected (a test's private one), take stored chardev fds (owned
 * from now on), enumerate the kernel's devices.
 */
int manager_load(struct manager *m);
int manager_attach_bus(struct manager *m, sd_bus *bus);
void manager_set_stored_fds(struct manager *m, int *fds, char **names, size_t n);
int manager_enumerate(struct manager *m);
int manager_run(struct manager *m);
/* SIGTERM: apply OnExit= and exit when done. */
void manager_begin_exit(struct manager *m);

int manager_notify(struct manager *m, const char *text);

/* core-trace.c: the trace timer runs while a running core has a trace buffer. */
void manager_trace_arm(struct manager *m);

/* manager-channels.c: rpmsg channels may have changed; the run queue reads them all again. */
void manager_channels_changed(struct manager *m);
void manager_channels_run(struct manager *m);

/* manager-config.c: re-read the configuration; messages say what could not be applied now. */
int manager_load_config(struct manager *m, struct rproc_daemon_config **ret_daemon,
			struct rproc_core_config ***ret_cores, size_t *ret_n);
int manager_reload(struct manager *m, char ***ret_messages);
int manager_resolve_admin_group(struct manager *m);
const struct rproc_core_config *manager_match_config(struct manager *m, struct rproc_device *dev,
						     const struct rproc_core_config **assigned,
						     size_t n_assigned, char **ret_conflict);
void manager_configs_free(struct rproc_core_config **l, size_t n);

/* manager-devices.c: a kernel device appeared (enumeration, hotplug) or went away. */
int manager_add_device(struct manager *m, struct rproc_device *dev);
void manager_remove_device(struct manager *m, const char *sysname);
/* Events may have been lost (udev overrun): enumerate again, re-read every core. */
void manager_rescan(struct manager *m);
/* A devcoredump appeared (dir: its sysfs directory): hand it to the core it belongs to. */
void manager_coredump_added(struct manager *m, const char *dir);
void manager_scan_coredumps(struct manager *m);
/* The poll tick, now (tests), and arming the shared poll timer. */
void manager_poll(struct manager *m);
void manager_arm_poll(struct manager *m);
void manager_close_stored_fds(struct manager *m);

void manager_stage_setup(struct manager *m);
void manager_stage_gc(struct manager *m);
void manager_stage_done(struct manager *m);
struct core *manager_find_core(struct manager *m, const char *name);
struct core *manager_find_core_by_path(struct manager *m, const char *path);
struct core *manager_find_core_by_sysname(struct manager *m, const char *sysname);

/* Something changed: run the queue (dependencies, status, READY=1, exit) on the next iteration. */
void manager_schedule(struct manager *m);
/* Is nothing left for the run queue, no job, no worker? (tests) */
bool manager_is_idle(struct manager *m);
