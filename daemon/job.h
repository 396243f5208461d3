/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A core's jobs: what rprocd was asked to do, run one at a time per core (core-jobs.c). */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "core-policy.h"

enum job_type {
	JOB_FIRST,	   /* the first-seen decision */
	JOB_METHOD,	   /* Start, Stop, Attach, Detach, Recover */
	JOB_RESTART_STOP,  /* Restart, first half */
	JOB_RESTART_START, /* Restart, second half */
	JOB_SET_FIRMWARE,
	JOB_CRASH_RECOVER, /* OnCrash=restart after RestartSec= */
	JOB_EXIT,	   /* OnExit= at shutdown */
	JOB_RECONFIGURE,   /* reload: write the kernel settings again, nothing else */
	JOB_UPDATE,	   /* Update(): copy and check the candidate, then restart with it */
};

struct job {
	struct job *next;
	enum job_type type;
	enum core_method method;
	char *firmware;	     /* JOB_SET_FIRMWARE */
	bool restart;	     /* JOB_SET_FIRMWARE: restart a running core */
	bool validated;	     /* JOB_SET_FIRMWARE, JOB_UPDATE: the image passed */
	int update_fd;	     /* JOB_UPDATE: the candidate, from the caller (-1 otherwise) */
	bool update;	     /* the restart that boots an update's candidate */
	bool rollback;	     /* the restart that boots the committed image after RollbackUpdate */
	sd_bus_message *msg; /* the call to answer, or NULL */
	bool replied;
};
