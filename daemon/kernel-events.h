/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How rprocd learns that the kernel changed a core, without polling:
 *
 *  - the kernel log (/dev/kmsg): the remoteproc core logs every transition
 *    on the rproc device; a record of one of our cores is a hint to re-read
 *    it through core_observe() (sysfs stays the truth), and a crash record
 *    carries the crash type (CrashReason). An overrun (EPIPE) re-reads every
 *    core.
 *  - sysfs notification: poll(POLLPRI) on each core's "state". The kernel
 *    does not notify today (docs/kernel/ has the patch that makes it); the
 *    watch costs nothing where it never fires, so it is always armed, and the
 *    first notification is logged.
 *  - the safety poll (manager-devices.c): every PollIntervalSec=, 30 s by
 *    default while an event source works, 500 ms when none does.
 *
 * docs/EVENTS.md explains the choice of /dev/kmsg over the journal.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct manager;
struct core;

/* Open the sources KernelEvents= asks for (start-up and reload); logs what is used. */
void manager_events_setup(struct manager *m);
void manager_events_free(struct manager *m);
/* Tests: use fd (one record per read, as /dev/kmsg) as the kernel log; owned from now on. */
int manager_set_kmsg_fd(struct manager *m, int fd);
/* Read the records pending now (hints only: nothing is read from sysfs here). */
void manager_kmsg_drain(struct manager *m);
/* Records were lost (EPIPE): every core is read again from the run queue. */
void manager_kmsg_lost(struct manager *m);
/* Do kernel-log records count crashes now (the log is read and nothing was lost)? */
bool manager_kmsg_live(const struct manager *m);
/* The run queue's part: after an overrun a full re-read; each core's hints applied. */
void manager_events_run(struct manager *m);
/* The poll interval in effect (USEC_INFINITY: no poll). */
uint64_t manager_poll_interval(const struct manager *m);
/* What tells rprocd of changes now: "kmsg", "sysfs" (once the kernel notified), "poll". */
char **manager_event_sources(const struct manager *m);

/* A core's watch of its "state" attribute (POLLPRI) and its chardev number. */
void core_events_attach(struct core *c);
void core_events_detach(struct core *c);

/* One remoteproc record, matched to a core (tests feed it through the fd). */
struct rproc_log_info;
void core_kernel_said(struct core *c, const struct rproc_log_info *info);
/* Apply what the kernel log said (run queue; a core with a job waits for it). */
void core_apply_hints(struct core *c);
/* A read saw a crash before its record was applied: pair the two. */
void core_crash_seen_first(struct core *c);
/* Pair a crash with a record already read and not matched, if there is one. */
bool core_crash_pair_pending(struct core *c);
/* Crash records: drop the oldest, drop all; the type of the crash being counted (caller frees). */
void core_pop_record(struct core *c);
void core_forget_records(struct core *c);
char *core_take_crash_reason(struct core *c);
