/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon on the host, without a kernel: a struct manager driven against
 * the kernel model (tests/model/), a private sd-bus connection over a
 * socketpair as its bus (real sd-bus on both ends), the worker pool in manual
 * mode (a kernel write runs when the test says: a "slow" write is one not run
 * yet), systemd's notify socket and fd store played by the harness, and
 * daemon restarts (killed, or stopped with SIGTERM's OnExit=) in process.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "kmodel.h"
#include "manager.h"

#define H_MAX_CALLS 4096

struct h_call {
	unsigned id;
	char *what; /* "Start m0", for messages */
	unsigned replies;
	char *error; /* D-Bus error name of the reply, or NULL */
};

struct harness {
	char *root;
	struct kmodel *km;
	struct kernel kernel; /* the model, wrapped: the harness sees every request */
	struct manager *m;    /* the daemon; NULL while it is down */
	sd_bus *client;	      /* the test's end of the daemon's bus (the first client) */
	/*
	 * With bus_daemon set before h_daemon_start(): a private dbus-daemon
	 * instead of a socketpair, the daemon owning org.rprocd1 on it, and
	 * several client connections that calls are spread over.
	 */
	bool bus_daemon;
	int bus_pid;
	char bus_address[300];
	sd_bus *clients[3];
	unsigned n_clients;
	unsigned generation;	     /* daemon instances so far */
	uint64_t ready_timeout_usec; /* the daemon's bound on READY=1 (default: an hour) */
	bool threads;		     /* real worker threads instead of the manual pool */

	/* systemd's side */
	bool ready;
	unsigned n_ready, n_reloading;
	int store_fds[64];
	char *store_names[64];
	size_t n_store;

	/* calls */
	struct h_call calls[H_MAX_CALLS];
	unsigned n_calls;

	/*
	 * The kernel log: with kmsg set before h_daemon_start(), the model's
	 * records reach the daemon through a SOCK_SEQPACKET pair (one record per
	 * read, as /dev/kmsg). kmsg_small keeps the socket's buffer tiny, so
	 * the oldest unread records are overwritten as in the kernel's ring,
	 * and the daemon is told as EPIPE would (kmsg_lost: this daemon
	 * instance lost some).
	 */
	bool kmsg;
	bool kmsg_small;
	int kmsg_wfd;
	int kmsg_overflow; /* set by the model's callback (any thread), taken by h_iterate() */
	bool kmsg_lost;
	unsigned kmsg_sent, kmsg_dropped;
	/* remoteprocN: the daemon instance its last "crash detected" record reached */
	unsigned crash_type_to[64];

	/* Fault: the firmware of this device crashes right after each start rprocd writes. */
	char crash_after_start[32];

	/* invariants the wrapper checks as the daemon talks to the kernel */
	unsigned starts_while_up;
	char violation[512];

	uint64_t seed;
	bool verbose;
	FILE *log;
};

int h_new(struct harness **ret);
/* h_new() with rprocd.conf (no periodic poll) and two valid images fw.elf, fw2.elf. */
int h_new_default(struct harness **ret);
struct harness *h_free(struct harness *h);

/* Files under the root */
int h_write_file(struct harness *h, const char *path, const char *content);
int h_remove_file(struct harness *h, const char *path);
int h_mask_core(struct harness *h, const char *name);
int h_write_firmware(struct harness *h, const char *name);
/* NAME.core with the given text. */
int h_core_file(struct harness *h, const char *name, const char *text);

/* Someone else (another root tool) writes to a model device, past rprocd. */
int h_external_request(struct harness *h, int id, enum rproc_command cmd);
int h_external_firmware(struct harness *h, int id, const char *name);

/* The daemon */
int h_daemon_start(struct harness *h);
/* kill -9: pending writes still happen in the kernel, nothing else does. */
void h_daemon_kill(struct harness *h);
/* SIGTERM: OnExit=, then exit. */
int h_daemon_stop(struct harness *h);
int h_reload(struct harness *h);

/* Run the loop (and with run_works, every pending kernel write) until nothing moves. */
void h_settle(struct harness *h, bool run_works);
/* One loop iteration without waiting; true when something ran. */
bool h_iterate(struct harness *h);
size_t h_pending_works(struct harness *h);
/* With threads: run the loop until the daemon is idle (bounded); false when it is not. */
bool h_wait_idle(struct harness *h);
void h_run_work(struct harness *h, size_t i);

/* D-Bus calls from the client side (asynchronous; replies counted). */
unsigned h_call(struct harness *h, const char *core, const char *method, const char *arg);
unsigned h_call_manager(struct harness *h, const char *method);
const struct h_call *h_get_call(struct harness *h, unsigned id);
/* A property of a core as the bus says it (the loop runs until the reply). */
char *h_get_property(struct harness *h, const char *core, const char *property);
/* Every core object on the bus (GetManagedObjects), name and State. */
int h_managed_objects(struct harness *h, char ***ret_names, char ***ret_states);

struct core *h_core(struct harness *h, const char *name);

/* The kernel log overran now (EPIPE on the daemon's next read). */
void h_kmsg_overrun(struct harness *h);

/* udev's events: a new devcoredump; a device gone (its counts start over). */
void h_deliver_dumps(struct harness *h);
void h_forget_device(struct harness *h, const char *sysname);

/* Check the invariants; false (and h->violation) when one is broken. */
bool h_check(struct harness *h, bool settled);
