/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "output.h"
#include "rprocctl.h"
#include "util.h"

/*
 * Errno values glibc names (strerrorname_np): up to EHWPOISON (133) on most
 * architectures, but MIPS goes to 1133 (EDQUOT); the kernel's MAX_ERRNO is 4095.
 */
#define ERRNO_MAX 4096

void bus_register_errors(void)
{
	static sd_bus_error_map map[ERRNO_MAX + 1];
	static char names[ERRNO_MAX][sizeof(BUS_ERROR_KERNEL_PREFIX) + 24];
	static bool done;
	size_t n = 0;

	if (done)
		return;
	done = true;
	for (int e = 1; e < ERRNO_MAX; e++) {
		const char *name = strerrorname_np(e);

		if (!name)
			continue;
		snprintf(names[n], sizeof(names[n]), "%s%s", BUS_ERROR_KERNEL_PREFIX, name);
		map[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP(names[n], e);
		n++;
	}
	map[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP_END;
	(void) sd_bus_error_add_map(map);
}

int bus_error_kernel_errno(const sd_bus_error *e)
{
	const char *suffix;

	if (!e || !e->name ||
	    strncmp(e->name, BUS_ERROR_KERNEL_PREFIX, strlen(BUS_ERROR_KERNEL_PREFIX)) != 0)
		return 0;
	suffix = e->name + strlen(BUS_ERROR_KERNEL_PREFIX);
	for (int i = 1; i < ERRNO_MAX; i++) {
		const char *name = strerrorname_np(i);

		if (name && streq(name, suffix))
			return i;
	}
	/* A name this libc does not know: still the kernel's refusal. */
	return EIO;
}

bool bus_error_is_rprocd(const sd_bus_error *e)
{
	return e && e->name &&
	       strncmp(e->name, "org.rprocd1.Error.", strlen("org.rprocd1.Error.")) == 0;
}

int bus_connect(sd_bus **ret)
{
	int r;

	bus_register_errors();
	if (arg.host)
		r = sd_bus_open_system_remote(ret, arg.host);
	else
		r = sd_bus_open_system(ret);
	if (r < 0) {
		if (arg.host)
			log_error("Failed to connect to the system bus of %s: %s", arg.host,
				  strerror(-r));
		else
			log_error("Failed to connect to the system bus: %s", strerror(-r));
	}
	return r;
}

int bus_exit_code(const sd_bus_error *e, int r)
{
	if (bus_error_kernel_errno(e))
		return EXIT_FAILED;
	if (sd_bus_error_has_name(e, "org.rprocd1.Error.NoSuchCore"))
		return EXIT_NO_SUCH_CORE;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
		return EXIT_DENIED;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NO_SERVER) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED))
		return EXIT_NO_DAEMON;
	/* sd-bus names a local failure "System.Error.<ERRNO>": the connection itself failed. */
	if (sd_bus_error_is_set(e) &&
	    strncmp(e->name, "System.Error.", strlen("System.Error.")) != 0)
		return EXIT_FAILED;
	if (sd_bus_error_is_set(e))
		r = -sd_bus_error_get_errno(e);
	if (r == -EACCES || r == -EPERM)
		return EXIT_DENIED;
	if (r == -ECONNREFUSED || r == -ECONNRESET || r == -ENOTCONN || r == -ENOENT ||
	    r == -EHOSTDOWN || r == -EHOSTUNREACH || r == -EPIPE || r == -ESHUTDOWN)
		return EXIT_NO_DAEMON;
	return EXIT_FAILED;
}

const char *bus_error_text(const sd_bus_error *e, int r, char *buf, size_t len)
{
	int k = bus_error_kernel_errno(e);

	if (e && e->message) {
		const char *name = k ? strerrorname_np(k) : NULL;
		char tag[40];

		snprintf(tag, sizeof(tag), "(%s)", name ? name : "");
		if (name && !strstr(e->message, tag))
			snprintf(buf, len, "%s %s", e->message, tag);
		else
			snprintf(buf, len, "%s", e->message);
	} else if (e && e->name)
		snprintf(buf, len, "%s", e->name);
	else
		snprintf(buf, len, "%s", strerror(r < 0 ? -r : EIO));
	/* -H: say where the connection went, ssh's own words are above */
	if (arg.host && bus_exit_code(e, r) == EXIT_NO_DAEMON) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (rprocd on %s, through ssh)", arg.host);
	}
	return buf;
}

int bus_get_core(sd_bus *bus, const char *name, char **ret, sd_bus_error *error)
{
	sd_bus_message *reply = NULL;
	const char *p;
	int r;

	r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "GetCore", error, &reply,
			       "s", name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0) {
		*ret = strdup(p);
		if (!*ret)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

int bus_core_path(sd_bus *bus, const char *name, char **ret, int *exit_code)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char text[512];
	int r;

	r = bus_get_core(bus, name, ret, &e);
	if (r < 0) {
		log_error("%s", bus_error_text(&e, r, text, sizeof(text)));
		*exit_code = bus_exit_code(&e, r);
	}
	sd_bus_error_free(&e);
	return r;
}

int bus_get_all(sd_bus *bus, const char *path, const char *iface, struct props *ret,
		sd_bus_error *error)
{
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(bus, DEST, path, "org.freedesktop.DBus.Properties", "GetAll", error,
			       &reply, "s", iface);
	if (r >= 0)
		r = props_read(reply, ret);
	sd_bus_message_unref(reply);
	return r;
}

uint64_t bus_action_timeout(void)
{
	/* sd-bus: UINT64_MAX waits without limit (0 would be its 25 s default). */
	if (!arg.timeout_set || arg.timeout_usec == 0)
		return UINT64_MAX;
	return arg.timeout_usec;
}
