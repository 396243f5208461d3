/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Kernel writes block for a whole firmware load and boot, so each runs in a
 * thread of its own. The thread gets everything it needs in a struct work,
 * touches nothing else, and posts the finished work back to the event loop
 * through a pipe; the completion runs on the loop thread.
 */

#include <pthread.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "core-policy.h"
#include "kernel.h"
#include "librproc.h"

#define WORK_SEEN_MAX 4

struct work {
	/* Input, filled in on the loop thread. The device reference belongs to the work. */
	struct rproc_ctx *ctx;
	const struct kernel *kernel;
	struct rproc_device *dev;
	enum core_action action;
	char *firmware; /* ACTION_BOOT: the name to boot (NULL: the kernel's) */
	struct rproc_fw_expect expect;
	bool via_cdev;	    /* start through /dev/remoteprocN and keep it open */
	bool validate_only; /* only check firmware (SetFirmware): no kernel write */
	int set_recovery;   /* -1, or write recovery enabled (1) / disabled (0) first */
	int set_coredump;   /* -1, or an enum rproc_coredump_mode to write first */
	/*
	 * ACTION_BOOT and validate_only: firmware staging (firmware-stage.h). With
	 * stage_dir the kernel is given the staged copy's name, stage_prefix +
	 * "sha256-HEX"; without it, the file by its name.
	 */
	char *stage_dir;    /* host path of the staging directory, or NULL */
	char *stage_prefix; /* "rprocd/" (the /lib/firmware/rprocd link) or "" (firmware_class.path) */
	char *stage_missing; /* FirmwareStaging=yes without a route: why a boot must fail */
	bool strict_modes;   /* FirmwareStrictModes= */
	char **digests;	     /* FirmwareDigest= (NULL: any image) */
	int update_fd;	     /* validate_only for Update(): the candidate, copied into update_dir */
	char *update_dir;    /* host path of UPDATE_IMAGE_DIR */
	unsigned up_records; /* the core's "is now up/attached" records when it began (loop) */
	bool log_live;	     /* the kernel log was read, nothing lost, when it began (loop) */

	/* Coredump capture: no kernel write, runs beside the core's jobs (an inline
	 * dump holds the core's recovery until it is read). */
	char *dump_src;	 /* /sys/…/devcoredump/devcdN */
	char *dump_dir;	 /* host path of CoredumpDirectory= */
	char *dump_core; /* the core's name: its files are "<core>-<boot id>-<usec>.core" */
	char *dump_file; /* "<core>-<boot id>-<usec>.core" */
	unsigned dump_max_files;
	uint64_t dump_max_use;
	char *dump_trace; /* the crashed firmware's last trace, saved beside the dump */
	size_t dump_trace_len;

	/* Output, filled in by the worker. */
	char *dump_path; /* the file written */
	uint64_t dump_size;
	unsigned dump_removed;	 /* old dumps deleted for the limits */
	char *dump_trace_path;	 /* the trace written beside it, or NULL */
	int dump_trace_error;	 /* the dump saved, its trace not (negative errno) */
	char digest[65];	 /* sha256 (hex) of the image validated, "" if none */
	char *staged_name;	 /* the name the kernel was given for the staged copy */
	char *why;		 /* a failure's own sentence (ownership, digest), or NULL */
	int error;		 /* 0, a negative errno, or a positive enum rproc_fw_error */
	const char *failed_step; /* which write failed: "firmware", "start", … */
	bool wedged;		 /* start returned 0 but the core stayed offline */
	bool fw_changed;	 /* the file changed between validation and boot */
	bool came_up;		 /* ACTION_BOOT found the core up (the kernel's recovery ended) */
	bool still_up;		 /* ACTION_STOP: the kernel returned 0, the core still runs */
	bool still_crashed;	 /* start/recover taken, the core never left its crash */
	enum rproc_state state_before;
	enum rproc_state state_after;
	/* Every state the work read, in order: the loop hands each to core_observe(). */
	enum rproc_state seen[WORK_SEEN_MAX];
	unsigned n_seen;
	struct rproc_fw_info fw_info;
	char *fw_path;		       /* where the validated firmware was found */
	char *kernel_firmware;	       /* the firmware attribute after the operation */
	int cdev_fd;		       /* via_cdev: the open chardev, or -1 */
	uint64_t begin_usec, end_usec; /* CLOCK_MONOTONIC */

	/*
	 * Completion, on the loop thread. abandoned: the daemon is going away
	 * without completing it (tests: a killed daemon); only free what it holds.
	 */
	void (*done)(struct work *w, bool abandoned);
	void *userdata;

	/* The pool's: the thread running it and the stack it runs on (unmapped once joined). */
	pthread_t thread;
	void *stack;
};

struct worker_pool;

int worker_pool_new(sd_event *e, struct worker_pool **ret);
/*
 * Test seam: a manual pool starts no thread. worker_start() queues the work;
 * the test runs it when it chooses (a slow write is one not run yet).
 */
int worker_pool_new_manual(sd_event *e, struct worker_pool **ret);
size_t worker_pool_pending(const struct worker_pool *p);
struct work *worker_pool_pending_work(const struct worker_pool *p, size_t i);
/* Run pending work i in this thread and complete it. */
void worker_pool_run(struct worker_pool *p, size_t i);
/* Run every pending work (the kernel finishes writes a killed daemon made) and abandon it. */
void worker_pool_abandon(struct worker_pool *p);
struct worker_pool *worker_pool_free(struct worker_pool *p);
/* Start a thread for w; on failure w->done is not called. */
int worker_start(struct worker_pool *p, struct work *w);
unsigned worker_pool_running(const struct worker_pool *p);

struct work *work_new(struct rproc_ctx *ctx, const struct kernel *kernel, struct rproc_device *dev,
		      enum core_action action);
struct work *work_free(struct work *w);

/* Run w synchronously in the calling thread (the worker body; also used by tests). */
void work_execute(struct work *w);
