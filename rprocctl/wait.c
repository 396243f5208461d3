/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocctl wait CORE… [--ready] [--timeout=TIME]: block until every core is
 * up (running or attached), or with --ready until its Ready property is
 * true, for scripts and ExecStartPre=. Subscribed to PropertiesChanged
 * before the first look, so no change slips between the two.
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

static int on_change(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) m, (void) error;
	*(bool *) userdata = true;
	return 0;
}

/* 1: the core is where it is waited for, 0: not yet; negative errno. state: for a message. */
static int check(sd_bus *bus, const char *path, char **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *s = NULL;
	int r, ready = 0;

	r = sd_bus_get_property_string(bus, DEST, path, CORE_IFACE, "State", &e, &s);
	if (r >= 0 && arg.ready)
		r = sd_bus_get_property_trivial(bus, DEST, path, CORE_IFACE, "Ready", &e, 'b',
						&ready);
	sd_bus_error_free(&e);
	if (r < 0) {
		free(s);
		return r;
	}
	free(*state);
	*state = s;
	if (arg.ready)
		return ready ? 1 : 0;
	return !strcmp(s, "running") || !strcmp(s, "attached");
}

static void report_timeout(size_t n, char **names, char **states, const bool *done)
{
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			log_error("%s is %s%s after the timeout", names[i],
				  states[i] ? states[i] : "unknown",
				  arg.ready ? ", not ready," : "");
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
	if (r < 0) {
		log_error("Failed to subscribe to rprocd's signals: %s", strerror(-r));
		code = bus_exit_code(NULL, r);
		goto finish;
	}
	for (size_t i = 0; i < n; i++) {
		r = bus_core_path(bus, argv[i + 1], &paths[i], &code);
		if (r < 0)
			goto finish;
	}
	for (;;) {
		bool all = true;

		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			r = check(bus, paths[i], &states[i]);
			if (r < 0) {
				log_error("%s: %s", argv[i + 1], strerror(-r));
				code = r == -ENOENT || r == -EBADR ? EXIT_NO_SUCH_CORE
								   : bus_exit_code(NULL, r);
				goto finish;
			}
			done[i] = r > 0;
			all = all && done[i];
		}
		if (all)
			goto finish;
		if (now_usec() >= deadline) {
			report_timeout(n, argv + 1, states, done);
			code = EXIT_NOT_RUNNING;
			goto finish;
		}
		while (!changed) {
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
				report_timeout(n, argv + 1, states, done);
				code = EXIT_NOT_RUNNING;
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
