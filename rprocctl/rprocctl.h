/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json.h"

/* Exit codes, documented in rprocctl(1). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,      /* an operation failed, an image or a file is invalid */
	EXIT_USAGE = 2,	      /* wrong arguments */
	EXIT_NOT_RUNNING = 3, /* status, is-running, is-ready, wait: a core is not (yet) there */
	EXIT_NO_SUCH_CORE = 4,
	EXIT_NO_DAEMON = 5, /* rprocd is not reachable on the bus */
	EXIT_DENIED = 6,    /* not privileged */
};

struct rprocctl_options {
	enum json_mode json;
	bool no_pager;
	bool no_legend;		/* list: no header, no footer */
	bool quiet;		/* -q: no notices, is-running/is-ready print nothing */
	bool all;		/* show -a: empty properties too */
	bool value;		/* show --value */
	char **properties;	/* show -p, NULL-terminated (NULL: all) */
	bool no_block;		/* actions: do not wait for the outcome */
	const char *host;	/* -H [USER@]HOST: rprocd there, through ssh */
	const char *root;	/* offline commands: the root directory */
	const char *fw_class;	/* validate --class */
	const char *fw_machine; /* validate --machine */
	bool opaque;		/* validate --opaque */
	bool restart;		/* set-firmware --restart */
	bool ready;		/* wait --ready */
	bool timeout_set;	/* --timeout= was given */
	uint64_t timeout_usec;	/* wait, actions: UINT64_MAX when none */
	bool follow;		/* logs -f */
	unsigned lines;		/* logs -n (0: all) */
	bool update_confirm;	/* update --confirm */
	bool update_rollback;	/* update --rollback */
};

extern struct rprocctl_options arg;

/* Offline commands: librproc only, no daemon needed. */
int verb_validate(int argc, char **argv);
int verb_cat(int argc, char **argv);
int verb_verify(int argc, char **argv);

/* Commands that talk to rprocd. */
int verb_list(int argc, char **argv);
int verb_status(int argc, char **argv);
int verb_show(int argc, char **argv);
int verb_is(int argc, char **argv);
int verb_action(int argc, char **argv);
int verb_set_firmware(int argc, char **argv);
int verb_reload(int argc, char **argv);
int verb_monitor(int argc, char **argv);
int verb_wait(int argc, char **argv);
int verb_logs(int argc, char **argv);
int verb_update(int argc, char **argv);
