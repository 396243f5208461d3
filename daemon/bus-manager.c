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

/*
 * By name, as systemd's StartUnit(): one call instead of GetCore() and a
 * call on the core. The name is checked first: an unknown core is
 * NoSuchCore before anyone is asked about authorisation.
 */
static int by_name(sd_bus_message *msg, struct manager *m, sd_bus_error *error,
		   enum core_call_kind kind, enum core_method method, bool restart)
{
	const char *name, *firmware;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	if (kind == CALL_SET_FIRMWARE) {
		r = sd_bus_message_read(msg, "s", &firmware);
		if (r < 0)
			return r;
	}
	if (kind == CALL_UPDATE) {
		int fd;

		r = sd_bus_message_read(msg, "h", &fd);
		if (r < 0)
			return r;
	}
	if (!manager_find_core(m, name))
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_CORE, "no core named \"%s\"",
					 name);
	return bus_core_call(msg, m, kind, method, restart, true);
}

static int method_start_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_METHOD, METHOD_START, false);
}

static int method_stop_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_METHOD, METHOD_STOP, false);
}

static int method_restart_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_RESTART, METHOD_START, false);
}

static int method_attach_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_METHOD, METHOD_ATTACH, false);
}

static int method_detach_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_METHOD, METHOD_DETACH, false);
}

static int method_recover_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_METHOD, METHOD_RECOVER, false);
}

static int method_set_core_firmware(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_SET_FIRMWARE, METHOD_START, false);
}

static int method_set_core_firmware_restart(sd_bus_message *msg, void *userdata,
					    sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_SET_FIRMWARE, METHOD_START, true);
}

static int method_update_core(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_UPDATE, METHOD_START, false);
}

static int method_confirm_core_update(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_CONFIRM_UPDATE, METHOD_START, false);
}

static int method_rollback_core_update(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return by_name(msg, userdata, error, CALL_ROLLBACK_UPDATE, METHOD_START, false);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("NCores", "u", get_n_cores, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("EventSources", "as", get_event_sources, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PollIntervalUSec", "t", get_poll_interval, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("ListCores", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssbo)", cores),
				method_list_cores, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetCore", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", path),
				method_get_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", pending),
				method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StartCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_start_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StopCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_stop_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RestartCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_restart_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("AttachCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_attach_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("DetachCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_detach_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RecoverCore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_recover_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetCoreFirmware", SD_BUS_ARGS("s", name, "s", firmware),
				SD_BUS_NO_RESULT, method_set_core_firmware,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UpdateCore", SD_BUS_ARGS("s", name, "h", image), SD_BUS_NO_RESULT,
				method_update_core, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ConfirmCoreUpdate", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_confirm_core_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RollbackCoreUpdate", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
				method_rollback_core_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetCoreFirmwareAndRestart", SD_BUS_ARGS("s", name, "s", firmware),
				SD_BUS_NO_RESULT, method_set_core_firmware_restart,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

void bus_manager_emit_changes(struct manager *m)
{
	_cleanup_strv_free_ char **l = manager_event_sources(m);
	_cleanup_free_ char *sources = strv_join(l, " ");
	uint64_t poll = manager_poll_interval(m);
	const char *changed[4];
	size_t n = 0;

	if (!sources)
		return;
	if (!m->emitted.valid || m->emitted.n_cores != m->n_cores)
		changed[n++] = "NCores";
	if (!m->emitted.valid || !streq_ptr(m->emitted.event_sources, sources))
		changed[n++] = "EventSources";
	if (!m->emitted.valid || m->emitted.poll_interval != poll)
		changed[n++] = "PollIntervalUSec";
	changed[n] = NULL;
	if (n == 0)
		return;
	/* The first call records what clients read at start-up: nothing to announce. */
	if (m->emitted.valid && m->bus)
		(void) sd_bus_emit_properties_changed_strv(m->bus, MANAGER_PATH, MANAGER_INTERFACE,
							   (char **) changed);
	m->emitted.valid = true;
	m->emitted.n_cores = (uint32_t) m->n_cores;
	m->emitted.poll_interval = poll;
	free(m->emitted.event_sources);
	m->emitted.event_sources = TAKE_PTR(sources);
}

void bus_manager_done(struct manager *m)
{
	free(m->emitted.event_sources);
	m->emitted.event_sources = NULL;
	m->emitted.valid = false;
}

int bus_manager_register(struct manager *m)
{
	return sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, MANAGER_INTERFACE,
					manager_vtable, m);
}
