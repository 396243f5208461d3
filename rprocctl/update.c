/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl update CORE FILE | CORE --confirm | CORE --rollback: A/B firmware updates. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rprocctl.h"

#define DEST	"org.rprocd1"
#define MANAGER "/org/rprocd1"
#define IFACE	"org.rprocd1.Manager"

/* UpdateCore(sh) with the file opened here: rprocd reads what this caller may read. */
static int call_update(sd_bus *bus, const char *core, const char *file, sd_bus_error *e)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int fd, r;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER, IFACE, "UpdateCore");
	if (r >= 0)
		r = sd_bus_message_append(m, "sh", core, fd);
	/* Answered when the trial boot is done: no timeout of our own. */
	if (r >= 0)
		r = sd_bus_call(bus, m, UINT64_MAX, e, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	close(fd);
	return r;
}

int verb_update(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	const char *core = argv[1];
	int r, code = EXIT_OK;

	if (arg.update_confirm + arg.update_rollback + (argc > 2) != 1) {
		fprintf(stderr,
			"rprocctl: update CORE FILE, or update CORE --confirm|--rollback\n");
		return EXIT_USAGE;
	}
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		fprintf(stderr, "rprocctl: cannot reach the system bus: %s\n", strerror(-r));
		return EXIT_NO_DAEMON;
	}
	if (arg.update_confirm || arg.update_rollback)
		r = sd_bus_call_method(bus, DEST, MANAGER, IFACE,
				       arg.update_confirm ? "ConfirmCoreUpdate"
							  : "RollbackCoreUpdate",
				       &e, NULL, "s", core);
	else
		r = call_update(bus, core, argv[2], &e);
	if (r < 0) {
		fprintf(stderr, "rprocctl: update %s: %s\n", core,
			e.message ? e.message : strerror(-r));
		code = sd_bus_error_has_name(&e, "org.rprocd1.Error.NoSuchCore") ? EXIT_NO_SUCH_CORE
		       : sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED)	 ? EXIT_DENIED
										 : EXIT_FAILED;
	}
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return code;
}
