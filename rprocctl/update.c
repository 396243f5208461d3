/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl update CORE FILE | CORE --confirm | CORE --rollback: A/B firmware updates. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "librproc.h"
#include "output.h"
#include "rprocctl.h"

/* UpdateCore(sh) with the file opened here: rprocd reads what this caller may read. */
static int call_update(sd_bus *bus, const char *core, int fd, sd_bus_error *e)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
					   "UpdateCore");
	if (r >= 0)
		r = sd_bus_message_append(m, "sh", core, fd);
	/* Answered when the trial boot is done: no time limit unless --timeout= */
	if (r >= 0)
		r = sd_bus_call(bus, m, bus_action_timeout(), e, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r;
}

/* Confirm (at once) or roll back (answered when the committed image has booted again). */
static int call_decision(sd_bus *bus, const char *core, const char *method, sd_bus_error *e)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE, method);
	if (r >= 0)
		r = sd_bus_message_append(m, "s", core);
	if (r >= 0)
		r = sd_bus_call(bus, m, bus_action_timeout(), e, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r;
}

int verb_update(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	const char *core = argv[1];
	char text[512];
	int fd = -1, r, code = EXIT_OK;

	if (arg.update_confirm + arg.update_rollback + (argc > 2) != 1) {
		log_error("update CORE FILE, or update CORE --confirm|--rollback");
		return EXIT_USAGE;
	}
	if (argc > 2 && arg.host) {
		log_error("update CORE FILE passes the file's descriptor: not through -H (copy the "
			  "file there and run rprocctl there)");
		return EXIT_USAGE;
	}
	if (argc > 2) {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			log_error("Failed to update %s: %s: %m", core, argv[2]);
			return EXIT_FAILED;
		}
	}
	if (bus_connect(&bus) < 0) {
		if (fd >= 0)
			close(fd);
		return EXIT_NO_DAEMON;
	}
	if (arg.update_confirm || arg.update_rollback)
		r = call_decision(bus, core,
				  arg.update_confirm ? "ConfirmCoreUpdate" : "RollbackCoreUpdate",
				  &e);
	else
		r = call_update(bus, core, fd, &e);
	if (r == -ETIMEDOUT && !bus_error_is_rprocd(&e) && bus_action_timeout() != UINT64_MAX) {
		char span[64];

		/* --timeout= ran out: rprocd goes on with the update, as with the actions */
		log_error("Failed to update %s: no answer within %s; rprocd goes on with it (see "
			  "rprocctl status %s)",
			  core, rproc_format_timespan(span, sizeof(span), arg.timeout_usec), core);
		code = EXIT_FAILED;
	} else if (r < 0) {
		log_error("Failed to update %s: %s", core,
			  bus_error_text(&e, r, text, sizeof(text)));
		code = bus_exit_code(&e, r);
	}
	if (fd >= 0)
		close(fd);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return code;
}
