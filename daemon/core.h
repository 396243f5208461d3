/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One remote processor: its kernel device, the configuration it has now, what
 * the kernel last said about it, and a queue of jobs run one at a time.
 *
 * The state has one owner: core_observe() (core-state.c) is the only code that
 * writes c->state. Every read of the kernel ends there — a job's read, a
 * worker's read-back, the poll, hotplug, the fd store — and it applies what
 * follows from a transition: a crash is counted once and OnCrash= applied,
 * the origin and log follow, and the core is marked for the manager's run
 * queue. Consequences that cross cores (dependencies, READY=1, STATUS=, exit,
 * PropertiesChanged) run from that queue, once per event loop iteration, never
 * from inside another core's transition.
 *
 * The code is split by concept:
 *   core.c          object, names, errors, logging
 *   core-state.c    core_observe(): transitions, poll, refresh
 *   core-jobs.c     the job queue, what a job asks of the kernel, completions
 *   core-crash.c    crash counting, OnCrash=, RestartSec=, start limit, fallback
 *   core-deps.c     Requires=/After= of the first decision
 *   core-coredump.c devcoredumps: saving and counting
 *   core-cdev.c     BindLifetime=: the chardev and systemd's fd store
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "rpmsg-channels.h"
#include "trace-buffer.h"
#include <systemd/sd-event.h>

#include "core-policy.h"
#include "job.h"
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
	/* Borrowed from the manager's configuration set; NULL: not configured. */
	const struct rproc_core_config *config;
	struct rproc_device *dev;
	bool removed;
	dev_t sysfs_dev; /* the identity of its sysfs directory, for a rescan */
	ino_t sysfs_ino;

	/* What the kernel says, as last read; written by core_observe() only. */
	bool observed;		   /* state was read at least once */
	bool in_work;		   /* what is observed now was read by a worker of ours */
	bool crash_policy_pending; /* found crashed: OnCrash= waits for the first decision */
	enum rproc_state state;
	char *firmware;
	bool recovery_enabled;
	enum rproc_coredump_mode coredump;

	/* What rprocd knows. */
	char *firmware_override; /* SetFirmware(), until reload */
	char *build_id;		 /* of the image rprocd booted */
	char *fw_digest;	 /* "sha256:HEX" of the image rprocd booted */
	char *booted_name;	 /* the name (or path) of the image rprocd booted */
	enum core_origin origin;
	unsigned crash_count;
	uint64_t last_crash_usec; /* CLOCK_REALTIME */
	char *last_error;
	bool config_error; /* last_error comes from the configuration: a reload clears it */
	bool start_limit_hit;
	bool wedged;
	bool firmware_failed;	   /* Firmware= failed: boot FallbackFirmware= */
	char *fallback_reason;	   /* why the fallback runs ("" otherwise) */
	uint64_t booted_usec;	   /* CLOCK_MONOTONIC of the last boot rprocd did */
	uint64_t watch_until_usec; /* CLOCK_MONOTONIC: poll an offline core until then */
	unsigned awaiting_dumps;   /* crashes counted whose dump is still to come */
	char *last_coredump;	   /* the file of the last dump saved */
	char *last_dump_dir;	   /* the kernel's devcdN last seen, not to count it twice */
	unsigned dumps_running;	   /* dump copies in worker threads */
	bool decided;		   /* the first-seen decision is done */
	enum dep_state dep;
	bool dep_absent; /* waiting for a required core that is not present */
	struct start_limit limit;
	sd_event_source *restart_timer;
	int cdev_fd; /* BindLifetime=: the open chardev */

	/* kernel-events.c: what the kernel log and sysfs said, applied from the run queue. */
	sd_event_source *state_source; /* POLLPRI on "state" */
	unsigned devnum_major, devnum_minor;
	bool has_devnum;
	bool queued_refresh;	     /* read the core again */
	unsigned crash_records;	     /* "handling crash" records not applied yet */
	unsigned up_records;	     /* "is now up" / "is now attached" records read, ever */
	char *record_reasons[8];     /* the type each of those records announced (oldest first) */
	unsigned crashes_unrecorded; /* crashes counted from a read whose record is still to come */
	char *crash_reason_next;     /* the type in "crash detected", for the crash it announces */
	char *crash_reason;	     /* CrashReason: the type of the last crash ("" unknown) */
	struct rpmsg_channels channels; /* Channels: its rpmsg channels as sysfs shows them */
	/* core-ready.c */
	bool ready;		/* Ready: up, with every ReadyWhen= channel */
	bool was_up;		/* up at the last evaluation */
	bool ready_timed_out;	/* up for ReadyTimeoutSec= without them: OnReadyTimeout= done */
	uint64_t up_since_usec; /* CLOCK_MONOTONIC: when it came up */
	const struct rproc_core_config
		*ready_config;	    /* the configuration ready_config_usec is of */
	uint64_t ready_config_usec; /* CLOCK_MONOTONIC: when it took that configuration */
	sd_event_source *ready_timer;
	/* core-trace.c */
	struct trace_buffer trace;    /* its trace buffer as last read */
	bool has_trace;		      /* up, with a trace buffer in debugfs */
	uint64_t trace_up_since_usec; /* the boot (up_since_usec) the buffer is from */
	bool trace_seen; /* core_trace_update() ran: an earlier run's state is used or not */
	/*
	 * The buffer as each crash left it, oldest first, for the dumps to come
	 * (one per crash counted with a dump expected; the kernel keeps the
	 * first dump of crashes that come before it is read).
	 */
	struct {
		char *text;
		size_t len;
	} crash_traces[4];
	unsigned n_crash_traces;

	/* core-update.c: A/B updates */
	struct core_update {
		char *committed;     /* "sha256:HEX" of the committed image, or NULL */
		char *committed_for; /* the Firmware= it was committed over */
		char *trial;	     /* "sha256:HEX" of the candidate on trial, or NULL */
		char *committed_image, *trial_image; /* their paths */
		char *last_result; /* "update to … committed", "… rolled back: …" */
		char *rolled_back; /* the candidate last rolled back, until it no longer runs */
		sd_event_source *timer; /* the confirm window */
		bool window_manual; /* no timer (UpdateConfirmSec=infinity): the operator commits */
	} update;

	struct job *jobs, *jobs_tail;
	unsigned n_jobs;
	struct job *running;

	/* The manager's run queue: what this core has pending for it. */
	bool queued_dispatch; /* begin the next job */
	bool queued_emit;     /* send PropertiesChanged */

	/* Properties as last emitted, to send PropertiesChanged for what changed. */
	struct core_snapshot *emitted;
};

int core_new(struct manager *m, const char *name, struct rproc_device *dev,
	     const struct rproc_core_config *config, struct core **ret);
struct core *core_ref(struct core *c);
struct core *core_unref(struct core *c);

bool core_is_managed(const struct core *c);
bool core_is_busy(const struct core *c);
/* Has the core nothing pending that would change it: decided, no job, no dump copy. */
bool core_is_settled(const struct core *c);

/* core.c: errors and logging */
void core_set_error(struct core *c, const char *text);
/* An error of the configuration (file:line, a conflict, a dependency): a reload clears it. */
void core_set_config_error(struct core *c, const char *text);
/* The firmware for a reader: the image rprocd booted rather than its staged copy's name. */
const char *core_firmware_display(const struct core *c);
void core_log(struct core *c, int priority, const char *message_id, int error, const char *what);

/* core-state.c: the one owner of c->state */
void core_observe(struct core *c, enum rproc_state s, enum core_action cause);
/* Kernel attributes besides the state (NULL/-1: not read). */
void core_observe_attrs(struct core *c, char *firmware_take, int recovery, int coredump);
/* Read everything from the kernel now (loop thread: reads do not block). */
void core_refresh(struct core *c);
/* The poll tick: read the state; the rest only when it moved. */
void core_poll(struct core *c);
/* Watch a core that went down for a while (the kernel's recovery reads offline). */
void core_watch_down(struct core *c);
/* Can the core change by itself now, so that the poll timer must watch it? */
bool core_wants_poll(const struct core *c);
/* Mark for PropertiesChanged (and the manager's status) from the run queue. */
void core_changed(struct core *c);

/* core-jobs.c */
/* Free the queue and the running job (calls not answered are answered). */
void core_jobs_free(struct core *c);
void core_start_first(struct core *c);
void core_remove(struct core *c);
/* Begin queued jobs (from the run queue only). */
void core_dispatch(struct core *c);
/* Apply OnExit= (shutdown). Returns true when work was queued. */
bool core_queue_exit(struct core *c);
/* Take a new configuration (reload). Messages say what waits for a restart of the core. */
int core_apply_config(struct core *c, const struct rproc_core_config *old,
		      const struct rproc_core_config *config, char ***messages);
int core_queue_method(struct core *c, enum core_method method, sd_bus_message *msg,
		      sd_bus_error *error);
int core_queue_restart(struct core *c, sd_bus_message *msg, sd_bus_error *error);
int core_queue_rollback(struct core *c, sd_bus_message *msg, sd_bus_error *error);
int core_queue_update(struct core *c, int fd, sd_bus_message *msg, sd_bus_error *error);
/* NotManaged (unconfigured, masked) as a D-Bus error: 0, or the error set. */
int core_check_managed(struct core *c, sd_bus_error *error);
int core_queue_set_firmware(struct core *c, const char *name, bool restart, sd_bus_message *msg,
			    sd_bus_error *error);
/* Queue a job without a caller (crash recovery, fallback). */
int core_queue_internal(struct core *c, enum job_type type);
/* A method on rprocd's own account (no caller to answer): OnReadyTimeout=stop. */
int core_queue_internal_method(struct core *c, enum core_method method);

/* core-trace.c: forward the trace buffer of a core that came up (from the run queue). */
void core_trace_update(struct core *c);
void core_trace_snapshot_crash(struct core *c);

/* core-update.c */
#define UPDATE_STATE_DIR "/var/lib/rprocd/update"
#define UPDATE_IMAGE_DIR "/var/lib/rprocd/images"
char *core_update_image_path(const struct core *c, const char *digest);
void core_update_load(struct core *c);
void core_update_done(struct core *c);
void core_update_check(struct core *c);
int core_update_begin(struct core *c, const char *digest);
int core_update_confirm(struct core *c);
void core_update_rollback(struct core *c, const char *why, bool restart);
void core_update_prune(struct core *c);
bool core_update_committed_applies(const struct core *c);
const char *core_update_source(const struct core *c);
void manager_update_prune(struct manager *m);
/* The oldest crash's trace for its dump (owned by the caller; NULL if none). */
char *core_trace_take_crash(struct core *c, size_t *ret_len);
void core_trace_forget_crashes(struct core *c);
void manager_trace_save(struct manager *m);
void manager_trace_state_done(struct manager *m);
/* The boot id without dashes (32 hex digits) into buf; a negative errno. */
int read_boot_id(char *buf, size_t len);

/* core-ready.c: Ready and ReadyWhen=, evaluated from the run queue. */
void core_ready_update(struct core *c);
/* Up with ReadyWhen= channels missing, ReadyTimeoutSec= not over: READY=1 waits. */
bool core_waits_ready(const struct core *c);
const char *firmware_to_boot(const struct core *c);

/* core-crash.c: a crash counted, stamped, logged; core_crashed() also applies OnCrash=. */
void core_count_crash(struct core *c, const char *what);
void core_crashed(struct core *c, const char *what, bool apply_policy);
void core_arm_restart(struct core *c);
void core_reset_start_limit(struct core *c);
bool core_can_fall_back(const struct core *c, const char *firmware);
void core_fall_back(struct core *c, const char *reason);
void core_reset_fallback(struct core *c);

/* core-deps.c */
void core_check_dependencies(struct core *c);

/* core-coredump.c: the kernel made a devcoredump of this core (dir: /sys/…/devcdN) */
void core_coredump_added(struct core *c, const char *dir);

/* core-cdev.c: BindLifetime= */
void core_take_cdev(struct core *c, int fd);
void core_release_cdev(struct core *c, bool clear_flag);
char *core_cdev_fdname(const struct core *c);

/* bus-core.c */
void core_emit_changes(struct core *c);
void core_snapshot_free(struct core_snapshot *s);

extern const sd_bus_vtable core_vtable[];

/* bus-core.c: a method that changes a core, authorised, then queued (returns 1: answered later). */
enum core_call_kind {
	CALL_METHOD,
	CALL_RESTART,
	CALL_SET_FIRMWARE,
	CALL_UPDATE,
	CALL_CONFIRM_UPDATE,
	CALL_ROLLBACK_UPDATE,
};
int bus_core_call(sd_bus_message *m, struct manager *mgr, enum core_call_kind kind,
		  enum core_method method, bool restart, bool by_name);
int core_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		     void **found, sd_bus_error *error);
int core_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *error);
