/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * kmodel: a model of the Linux remoteproc core (6.1 and 6.12) driving
 * rproc_sim devices, behind the daemon's struct kernel (daemon/kernel.h).
 *
 * The model keeps a small sysfs tree under a root directory so that
 * librproc's enumeration and rproc_device_new() work on it:
 *   ROOT/sys/class/remoteproc/remoteprocN -> ../../devices/platform/rproc_sim.K/remoteproc/remoteprocN
 *   ROOT/sys/devices/platform/rproc_sim.K/remoteproc/remoteprocN/{name,state,firmware,recovery,coredump}
 *   ROOT/sys/class/devcoredump/devcdN -> ../../devices/virtual/devcoredump/devcdN
 *   ROOT/sys/devices/virtual/devcoredump/devcdN/{failing_device,data}
 * The attribute files mirror the model (for rprocctl and for debugging);
 * the daemon reads and writes through the ops. Firmware is looked up as
 * ROOT/lib/firmware/NAME.
 *
 * Every rule is taken from the kernel source (drivers/remoteproc/, and
 * drivers/base/devcoredump.c) and checked against the real kernels by
 * tests/vm/model/compare.sh; docs/MODEL.md lists them.
 *
 * Synchronous: a crash is handled, and the kernel's recovery run, inside
 * kmodel_crash() unless asked to wait (KMODEL_CRASH_QUEUE, _HOLD_RECOVERY,
 * then kmodel_run_work()). An operation that would block on the rproc lock
 * (held by a recovery waiting for an inline coredump to be freed) calls the
 * block handler; if the dump is still there afterwards the model does what
 * the kernel does after 5 minutes: frees it unread, and counts it in
 * n_blocked. All calls are serialised by one mutex (callable from threads).
 *
 * Devices are named by a handle (the return of kmodel_add()), never reused;
 * its remoteprocN is kmodel_sysname(). Functions return 0 (or a value >= 0)
 * or a negative errno.
 */

#include <stdbool.h>
#include <stdio.h>

#include "kernel.h"

struct kmodel;

/* The kernel whose behaviour is modelled (they differ in attach-on-recovery). */
enum kmodel_kernel {
	KMODEL_KERNEL_6_1,
	KMODEL_KERNEL_6_12,
};

/* kmodel_add() flags: the rproc_sim module parameters. */
enum {
	KMODEL_DETACHED = 1 << 0,	    /* detached=1: running before Linux */
	KMODEL_ATTACH_ON_RECOVERY = 1 << 1, /* RPROC_FEAT_ATTACH_ON_RECOVERY */
	KMODEL_AUTO_BOOT = 1 << 2,	    /* rproc->auto_boot: boot/attach at registration */
};

struct kmodel_opts {
	const char *name;     /* the "name" attribute */
	unsigned flags;	      /* KMODEL_DETACHED, ... */
	int platform_id;      /* K of rproc_sim.K; -1: the lowest free one */
	const char *firmware; /* NULL: rproc-<name>-fw */
};

/* kmodel_crash() flags */
enum {
	KMODEL_CRASH_QUEUE = 1 << 0,	     /* only queue the crash work (state still running) */
	KMODEL_CRASH_HOLD_RECOVERY = 1 << 1, /* handle it (crashed) but queue the recovery */
};

enum kmodel_op {
	KMODEL_OP_START,
	KMODEL_OP_ATTACH,
	KMODEL_OP_STOP,
	KMODEL_OP_DETACH,
	_KMODEL_OP_MAX,
};

/* rproc_sim's counters: successful driver operations. */
struct kmodel_counters {
	unsigned prepare, load, start, stop, attach, detach;
};

/* Everything a test can check about one device. */
struct kmodel_info {
	const char *name;
	const char *sysname; /* remoteprocN */
	unsigned index;	     /* N */
	bool removed;
	enum rproc_state state;
	int power;	      /* the kernel's power refcount */
	const char *firmware; /* rproc->firmware (not the "unknown" sysfs shows while attached) */
	bool recovery_enabled;
	enum rproc_coredump_mode coredump;
	bool shutdown_on_release;
	bool hw_running;
	bool wedged;  /* offline or detached with a power reference held */
	bool stalled; /* a recovery waits for its inline coredump to be freed */
	struct kmodel_counters counters;
	unsigned n_start_while_up; /* start requests while running/attached/crashed */
	unsigned n_start_refonly;  /* start requests that only took a power reference */
	unsigned n_blocked;	   /* operations that would have blocked until the dump timeout */
	unsigned crashes;	   /* crash episodes handled */
	unsigned crashes_seen;	   /* of which observable (state read crashed, or a dump made) */
	int last_crash_type;	   /* the type of the last crash reported (0..2) */
	unsigned dumps;		   /* devcoredumps created */
	unsigned dumps_dropped;	   /* not created: one of this device was still pending */
	unsigned open_files;	   /* open chardev files (not fds) */
	int fail[_KMODEL_OP_MAX];  /* pending injected errors (rproc_sim's fail_* files) */
};

int kmodel_new(const char *root, struct kmodel **ret);
struct kmodel *kmodel_free(struct kmodel *m);
void kmodel_set_kernel(struct kmodel *m, enum kmodel_kernel k);
void kmodel_set_trace(struct kmodel *m, FILE *f);
/* The ops table bound to this model (valid until kmodel_free). */
const struct kernel *kmodel_kernel(struct kmodel *m);
const char *kmodel_root(struct kmodel *m);

/* Devices: returns a handle >= 0. */
int kmodel_add(struct kmodel *m, const char *name, unsigned flags);
int kmodel_add_opts(struct kmodel *m, const struct kmodel_opts *o);
/* Hot-unplug (rproc_del): stops a core holding one power reference; the tree entry goes. */
int kmodel_remove(struct kmodel *m, int id);
/* The live device at remoteprocN, or -ENODEV. */
int kmodel_find(struct kmodel *m, const char *sysname);
const char *kmodel_sysname(struct kmodel *m, int id);
int kmodel_info(struct kmodel *m, int id, struct kmodel_info *ret);
enum rproc_state kmodel_state(struct kmodel *m, int id);
int kmodel_power(struct kmodel *m, int id);
int kmodel_crashes(struct kmodel *m, int id);
int kmodel_crashes_seen(struct kmodel *m, int id);

/* Firmware files under ROOT/lib/firmware: an ELF image with a resource table (as fw64.elf). */
int kmodel_firmware_install(struct kmodel *m, const char *name);
enum {
	KMODEL_FW_NO_RSC = 1 << 0,  /* without a resource table (fw64-norsc.elf) */
	KMODEL_FW_NOT_ELF = 1 << 1, /* refused by the ELF sanity check (EINVAL) */
};
int kmodel_firmware_install_flags(struct kmodel *m, const char *name, unsigned flags);
int kmodel_firmware_remove(struct kmodel *m, const char *name);

/* rproc_sim's crash file: EINVAL unless running or attached. type 0..2. */
int kmodel_crash(struct kmodel *m, int id, int type, unsigned flags);
/* Run queued crash handlers and recoveries (the kernel's workqueue). */
void kmodel_run_work(struct kmodel *m);
/* rproc_sim's fail_<op> files: the next such driver operation fails with -err, once; 0 cancels. */
int kmodel_fail(struct kmodel *m, int id, enum kmodel_op op, int err);

/* devcoredumps: the number pending (of device id, or of all with id < 0). */
int kmodel_dump_pending(struct kmodel *m, int id);
/* The directory ROOT/sys/class/devcoredump/devcdN of id's pending dump (caller frees). */
int kmodel_dump_dir(struct kmodel *m, int id, char **ret);
/* Free id's pending dump as a write to its data file does. */
int kmodel_dump_free(struct kmodel *m, int id);
/* The 5-minute timer: free every pending dump unread. */
void kmodel_dump_expire(struct kmodel *m);
/* Called (without the model's lock) when an operation would block on an inline dump. */
void kmodel_set_block_handler(struct kmodel *m, void (*fn)(struct kmodel *m, int id, void *u),
			      void *userdata);

/*
 * The kernel log: fn gets each record the remoteproc core would print, in
 * /dev/kmsg's format (called with the model's lock held: it must not call
 * back into the model).
 */
void kmodel_set_log(struct kmodel *m, void (*fn)(const char *record, size_t len, void *u),
		    void *userdata);

/* A copy of a chardev fd (as the fd store makes): close it with the ops' cdev_close. */
int kmodel_fd_dup(struct kmodel *m, int fd);
/* RPROC_GET_SHUTDOWN_ON_RELEASE on an open fd. */
int kmodel_cdev_get_shutdown_on_release(struct kmodel *m, int fd, bool *ret);
