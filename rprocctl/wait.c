/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocctl wait CORE… [--ready] [--timeout=TIME]: block until every core is
 * up (running or attached), or with --ready until its Ready property is
 * true, for scripts and ExecStartPre=. Subscribed to PropertiesChanged
 * and the ObjectManager's signals before the first look, so no change
 * slips between the two. With --timeout= a core that is not on the bus (yet:
 * a driver that probes late, rprocd still starting, a module reloaded) is
 * waited for too; without it, a name no core has is an error at once, so a
 * typo does not wait for ever.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus.h"
#include "librproc.h"
#include "output.h"
#include "rprocctl.h"

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static bool owner_changed;

/* NameOwnerChanged for org.rprocd1: rprocd went or came; its objects are new. */
static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *name = NULL;

	(void) error;
	if (sd_bus_message_read(m, "s", &name) >= 0 && name && strcmp(name, DEST) == 0)
		*(bool *) userdata = true;
	return 0;
}

static int on_change(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) m, (void) error;
	*(bool *) userdata = true;
	return 0;
}

/* A reply that says the core is not there (any more): not an error while waiting for it. */
static bool error_is_gone(const sd_bus_error *e)
{
	return sd_bus_error_has_name(e, "org.rprocd1.Error.NoSuchCore") ||
	       sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	       sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE);
}

/*
 * 1: the core is where it is waited for, 0: not yet, -ENXIO: it is not on
 * the bus; other negative errno (with *exit_code). state: for a message.
 */
static int check(sd_bus *bus, const char *name, char **path, char **state, int *exit_code)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *s = NULL, text[512];
	int r, ready = 0;

	if (!*path) {
		r = bus_get_core(bus, name, path, &e);
		if (r < 0)
			goto fail;
	}
	r = sd_bus_get_property_string(bus, DEST, *path, CORE_IFACE, "State", &e, &s);
	if (r >= 0 && arg.ready)
		r = sd_bus_get_property_trivial(bus, DEST, *path, CORE_IFACE, "Ready", &e, 'b',
						&ready);
	if (r < 0) {
		free(s);
		goto fail;
	}
	free(*state);
	*state = s;
	if (arg.ready)
		return ready ? 1 : 0;
	return !strcmp(s, "running") || !strcmp(s, "attached");
fail:
	/* With --timeout=, rprocd itself not on the bus (yet: being started) is waited for too. */
	if (arg.timeout_set && (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
				sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))) {
		free(*path);
		*path = NULL;
		sd_bus_error_free(&e);
		*exit_code = EXIT_NO_DAEMON;
		return -ENXIO;
	}
	if (error_is_gone(&e)) {
		free(*path);
		*path = NULL;
		free(*state);
		*state = NULL;
		*exit_code = EXIT_NO_SUCH_CORE;
		if (!arg.timeout_set)
			log_error("%s", bus_error_text(&e, r, text, sizeof(text)));
		sd_bus_error_free(&e);
		return -ENXIO;
	}
	log_error("%s: %s", name, bus_error_text(&e, r, text, sizeof(text)));
	*exit_code = bus_exit_code(&e, r);
	sd_bus_error_free(&e);
	return r;
}

/* The exit code: 4 when a core never appeared, else 3. */
static int report_timeout(size_t n, char **names, char **paths, char **states, const bool *done)
{
	int code = EXIT_NOT_RUNNING;

	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		if (!paths[i]) {
			log_error("no core named \"%s\" after the timeout", names[i]);
			code = EXIT_NO_SUCH_CORE;
		} else
			log_error("%s is %s%s after the timeout", names[i],
				  states[i] ? states[i] : "unknown",
				  arg.ready ? ", not ready," : "");
	}
	return code;
}

int verb_wait(int argc, char **argv)
{
	size_t n = (size_t) argc - 1;
	char **paths = calloc(n, sizeof(char *)), **states = calloc(n, sizeof(char *));
	bool *done = calloc(n, sizeof(bool)), changed = false;
	uint64_t deadline = UINT64_MAX;
	sd_bus *bus = NULL;
	int r, code = EXIT_OK;

	if (!paths || !states || !done) {
		log_error("Out of memory");
		code = EXIT_FAILED;
		goto finish;
	}
	if (arg.timeout_usec != UINT64_MAX)
		deadline = arg.timeout_usec > UINT64_MAX - 1 - now_usec()
				   ? UINT64_MAX - 1
				   : now_usec() + arg.timeout_usec;
	if (bus_connect(&bus) < 0) {
		code = EXIT_NO_DAEMON;
		goto finish;
	}
	r = sd_bus_match_signal(bus, NULL, DEST, NULL, "org.freedesktop.DBus.Properties",
				"PropertiesChanged", on_change, &changed);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, DEST, MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
					on_change, &changed);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, DEST, MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
					on_change, &changed);
	/*
	 * A new rprocd announces its cores before it owns the name, so those
	 * signals never match: its taking the name is the cue to look again.
	 */
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "NameOwnerChanged", on_owner,
					&owner_changed);
	if (r < 0) {
		log_error("Failed to subscribe to rprocd's signals: %s", strerror(-r));
		code = bus_exit_code(NULL, r);
		goto finish;
	}
	for (;;) {
		bool all = true;

		if (owner_changed)
			/* Look every core up again with the new rprocd. */
			for (size_t i = 0; i < n; i++) {
				free(paths[i]);
				paths[i] = NULL;
			}
		changed = owner_changed = false;
		for (size_t i = 0; i < n; i++) {
			int c = EXIT_FAILED;

			if (done[i])
				continue;
			r = check(bus, argv[i + 1], &paths[i], &states[i], &c);
			if (r == -ENXIO && arg.timeout_set)
				r = 0; /* not there yet: waited for ("infinity" too) */
			if (r < 0) {
				code = c;
				goto finish;
			}
			done[i] = r > 0;
			all = all && done[i];
		}
		if (all)
			goto finish;
		if (now_usec() >= deadline) {
			code = report_timeout(n, argv + 1, paths, states, done);
			goto finish;
		}
		while (!changed && !owner_changed) {
			uint64_t t = now_usec();

			/* Before processing: a stream of signals must not push the timeout back. */
			if (t >= deadline)
				break;
			r = sd_bus_process(bus, NULL);
			if (r < 0) {
				log_error("Lost the bus: %s", strerror(-r));
				code = EXIT_NO_DAEMON;
				goto finish;
			}
			if (r > 0)
				continue;
			if (t >= deadline) {
				code = report_timeout(n, argv + 1, paths, states, done);
				goto finish;
			}
			r = sd_bus_wait(bus, deadline == UINT64_MAX ? UINT64_MAX : deadline - t);
			if (r < 0 && r != -EINTR) {
				log_error("Lost the bus: %s", strerror(-r));
				code = bus_exit_code(NULL, r);
				goto finish;
			}
		}
	}
finish:
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	for (size_t i = 0; states && i < n; i++)
		free(states[i]);
	free(paths);
	free(states);
	free(done);
	sd_bus_flush_close_unref(bus);
	return code;
}
