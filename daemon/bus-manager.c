/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-manager.h"
#include "config.h"
#include "core.h"
#include "kernel-events.h"
#include "manager.h"
#include "utf8.h"
#include "util.h"

static int get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	(void) bus, (void) path, (void) interface, (void) property, (void) userdata, (void) error;
	return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int get_n_cores(sd_bus *bus, const char *path, const char *interface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	(void) bus, (void) path, (void) interface, (void) property, (void) error;
	return sd_bus_message_append(reply, "u", (uint32_t) m->n_cores);
}

static int get_event_sources(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	_cleanup_strv_free_ char **l = manager_event_sources(userdata);

	(void) bus, (void) path, (void) interface, (void) property, (void) error;
	return sd_bus_message_append_strv(reply, l);
}

static int get_poll_interval(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	(void) bus, (void) path, (void) interface, (void) property, (void) error;
	return sd_bus_message_append(reply, "t", (uint64_t) manager_poll_interval(userdata));
}

static int method_list_cores(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct manager *m = userdata;
	int r;

	(void) error;
	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(sssbo)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_cores; i++) {
		const struct core *c = m->cores[i];
		_cleanup_free_ char *kname =
			utf8_escape_invalid(strempty(rproc_device_get_name(c->dev)));

		if (!kname)
			return -ENOMEM;
		r = sd_bus_message_append(reply, "(sssbo)", c->name, kname,
					  rproc_state_to_string(c->state), core_is_managed(c),
					  c->object_path);
		if (r < 0)
			return r;
	}
	r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_get_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *name;
	struct core *c;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	c = manager_find_core(m, name);
	if (!c)
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_CORE, "no core named \"%s\"",
					 name);
	return sd_bus_reply_method_return(msg, "o", c->object_path);
}

static int reload_run(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_strv_free_ char **messages = NULL;
	int r;

	if (m->exiting)
		return sd_bus_error_set(error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	r = manager_reload(m, &messages);
	if (r < 0)
		return r;
	/* The messages quote file names and kernel names: neither need be UTF-8. */
	for (char **p = messages; p && *p; p++) {
		*p = utf8_make_valid(*p);
		if (!*p) {
			/* Keep the vector whole for strv_free(): drop the rest. */
			for (char **q = p + 1; *q; q++)
				free(*q);
			*p = NULL;
			return -ENOMEM;
		}
	}
	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_append_strv(reply, messages);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static void reload_authorised(sd_bus_message *msg, void *userdata, const sd_bus_error *denied)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	if (denied) {
		(void) utf8_bus_reply_error(msg, denied);
		return;
	}
	r = reload_run(userdata, msg, &error);
	bus_reply_failure(msg, r, &error);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	int r;

	(void) error;
	r = bus_verify_admin_async(sd_bus_message_get_bus(msg), msg, m->admin_gid,
				   m->config ? m->config->admin_group : NULL, reload_authorised, m);
	if (r < 0)
		return r;
	return 1; /* answered by reload_authorised() */
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("NCores", "u", get_n_cores, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("EventSources", "as", get_event_sources, 0, 0),
	SD_BUS_PROPERTY("PollIntervalUSec", "t", get_poll_interval, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("ListCores", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssbo)", cores),
				method_list_cores, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetCore", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", path),
				method_get_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", pending),
				method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int bus_manager_register(struct manager *m)
{
	return sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, MANAGER_INTERFACE,
					manager_vtable, m);
}
