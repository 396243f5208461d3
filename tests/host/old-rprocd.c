/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An rprocd before the by-name Manager methods (the development snapshots):
 * org.rprocd1 with Manager.GetCore and one Core object, core0, whose Start,
 * Stop, Restart, Attach, Detach and Recover only say on stdout that they were
 * called, and a State that is "running"; no StartCore & co., so a call by
 * name gets UnknownMethod. For
 * tests/host/rprocctl-fallback.sh: rprocctl falls back to GetCore +
 * Core.<Method> and reports the same outcome.
 *
 *   old-rprocd    (on $DBUS_SYSTEM_BUS_ADDRESS; READY on stdout once the name is owned)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define CORE0 "/org/rprocd1/core/core0"

static int get_core(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *name;
	int r;

	(void) userdata;
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	printf("GetCore %s\n", name);
	fflush(stdout);
	if (strcmp(name, "core0") != 0)
		return sd_bus_error_setf(error, "org.rprocd1.Error.NoSuchCore",
					 "no core named \"%s\"", name);
	return sd_bus_reply_method_return(m, "o", CORE0);
}

/* Start and the others: say so; Stop fails as the kernel would, with EBUSY. */
static int core_method(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *member = sd_bus_message_get_member(m);

	(void) userdata;
	printf("%s %s\n", member, sd_bus_message_get_path(m));
	fflush(stdout);
	if (strcmp(member, "Stop") == 0)
		return sd_bus_error_set(error, "org.rprocd1.Error.Kernel.EBUSY",
					"stop: Device or resource busy");
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetCore", "s", "o", get_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable core_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("State", "s", NULL, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Start", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Stop", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Restart", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Attach", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Detach", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Recover", "", "", core_method, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* core0's State: "running" (a const string property read through the userdata pointer). */
static const char *state = "running";

int main(void)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, "/org/rprocd1", "org.rprocd1.Manager",
					     manager_vtable, NULL);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, CORE0, "org.rprocd1.Core", core_vtable,
					     (void *) &state);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.rprocd1", 0);
	if (r < 0) {
		fprintf(stderr, "old-rprocd: %s\n", strerror(-r));
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			break;
	}
	sd_bus_flush_close_unref(bus);
	return r < 0 ? 1 : 0;
}
