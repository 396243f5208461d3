/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.rprocd1.Core: one object per core under /org/rprocd1/core, found through a fallback vtable. */
#include <stdio.h>
#include <syslog.h>

#include "bus-auth.h"
#include "bus-errors.h"
#include "core.h"
#include "manager.h"
#include "utf8.h"
#include "util.h"

static const char *configured_firmware(const struct core *c)
{
	if (c->firmware_override)
		return c->firmware_override;
	return c->config ? c->config->firmware : NULL;
}

static const struct rproc_core_settings *managed_settings(const struct core *c)
{
	return core_is_managed(c) ? &c->config->settings : NULL;
}

static char *bool_str(bool b)
{
	return strdup(b ? "1" : "0");
}

/*
 * Every property of a core is rendered as text by one function; the getters
 * convert the text to the property's type, and PropertiesChanged is sent for
 * the properties whose text differs from what was last sent.
 */
static char *r_name(const struct core *c)
{
	return strdup(c->name);
}
static char *r_kernel_name(const struct core *c)
{
	return strdup(rproc_device_get_name(c->dev));
}
static char *r_sysname(const struct core *c)
{
	return strdup(rproc_device_get_sysname(c->dev));
}
static char *r_devpath(const struct core *c)
{
	return strdup(rproc_device_get_devpath(c->dev));
}
static char *r_description(const struct core *c)
{
	return strdup(c->config ? strempty(c->config->description) : "");
}
static char *r_state(const struct core *c)
{
	return strdup(rproc_state_to_string(c->state));
}
static char *r_managed(const struct core *c)
{
	return bool_str(core_is_managed(c));
}
static char *r_firmware(const struct core *c)
{
	return strdup(strempty(c->firmware));
}
static char *r_configured(const struct core *c)
{
	return strdup(strempty(configured_firmware(c)));
}
static char *r_fw_source(const struct core *c)
{
	return strdup(core_is_managed(c) ? core_update_source(c) : "");
}

static char *r_update_trial(const struct core *c)
{
	return strdup(strempty(c->update.trial));
}

static char *r_update_committed(const struct core *c)
{
	return strdup(strempty(c->update.committed));
}

static char *r_update_result(const struct core *c)
{
	return strdup(strempty(c->update.last_result));
}

static char *r_fw_digest(const struct core *c)
{
	return strdup(strempty(c->fw_digest));
}

static char *r_build_id(const struct core *c)
{
	return strdup(strempty(c->build_id));
}
static char *r_fallback(const struct core *c)
{
	return strdup(strempty(c->fallback_reason));
}
static char *r_origin(const struct core *c)
{
	return strdup(core_origin_to_string(c->origin));
}
static char *r_recovery(const struct core *c)
{
	return strdup(c->recovery_enabled ? "enabled" : "disabled");
}
static char *r_coredump(const struct core *c)
{
	return strdup(strempty(rproc_coredump_mode_to_string(c->coredump)));
}
static char *r_crash_count(const struct core *c)
{
	return strdup_printf("%u", c->crash_count);
}
static char *r_last_crash(const struct core *c)
{
	return strdup_printf("%llu", (unsigned long long) c->last_crash_usec);
}
static char *r_crash_reason(const struct core *c)
{
	return strdup(strempty(c->crash_reason));
}
static char *r_last_coredump(const struct core *c)
{
	return strdup(strempty(c->last_coredump));
}
static char *r_last_error(const struct core *c)
{
	return strdup(strempty(c->last_error));
}
static char *r_limit_hit(const struct core *c)
{
	return bool_str(c->start_limit_hit);
}
static char *r_wedged(const struct core *c)
{
	return bool_str(c->wedged);
}
static char *r_busy(const struct core *c)
{
	return bool_str(core_is_busy(c));
}
static char *r_config_files(const struct core *c)
{
	_cleanup_strv_free_ char **l = NULL;

	if (!c->config || !c->config->path)
		return strdup("");
	if (strv_extend(&l, c->config->path) < 0)
		return NULL;
	for (char **d = c->config->dropins; d && *d; d++)
		if (strv_extend(&l, *d) < 0)
			return NULL;
	return strv_join(l, "\n");
}
static char *r_config_warnings(const struct core *c)
{
	_cleanup_strv_free_ char **l = NULL;

	for (size_t i = 0; c->config && i < c->config->n_diags; i++) {
		const struct rproc_config_diag *d = &c->config->diags[i];
		_cleanup_free_ char *s = NULL;

		if (d->priority <= LOG_ERR)
			continue;
		s = strdup_printf("%s:%u: %s", strempty(d->file), d->line, d->message);
		if (!s || strv_push(&l, TAKE_PTR(s)) < 0)
			return NULL;
	}
	return l ? strv_join(l, "\n") : strdup("");
}
static char *r_ready(const struct core *c)
{
	return bool_str(c->ready);
}
static char *r_channels(const struct core *c)
{
	return rpmsg_channels_format(&c->channels);
}
static int append_channels(sd_bus_message *reply, const struct core *c)
{
	int r = sd_bus_message_open_container(reply, 'a', "(suuss)");

	for (size_t i = 0; r >= 0 && i < c->channels.n; i++) {
		const struct rpmsg_channel *ch = &c->channels.v[i];
		_cleanup_free_ char *name = utf8_make_valid(strdup(ch->name)),
				    *dev = utf8_make_valid(strdup(ch->device)),
				    *node = utf8_make_valid(strdup(strempty(ch->node)));

		r = name && dev && node ? sd_bus_message_append(reply, "(suuss)", name, ch->src,
								ch->dst, dev, node)
					: -ENOMEM;
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}
static char *r_start_policy(const struct core *c)
{
	const struct rproc_core_settings *s = managed_settings(c);

	return strdup(s ? rproc_start_policy_to_string(s->start) : "");
}
static char *r_on_crash(const struct core *c)
{
	const struct rproc_core_settings *s = managed_settings(c);

	return strdup(s ? rproc_crash_policy_to_string(s->on_crash) : "");
}

static const struct core_property {
	const char *name;
	const char *type;		       /* s, b, u, t, or as (entries separated by '\n') */
	char *(*render)(const struct core *c); /* as text: compared for PropertiesChanged */
	bool is_const;
	int (*append)(sd_bus_message *reply, const struct core *c); /* other types */
} properties[] = {
	{ "Name", "s", r_name, true },
	{ "KernelName", "s", r_kernel_name, true },
	{ "SysName", "s", r_sysname, true },
	{ "DevicePath", "s", r_devpath, true },
	{ "Description", "s", r_description, false },
	{ "State", "s", r_state, false },
	{ "Managed", "b", r_managed, false },
	{ "Firmware", "s", r_firmware, false },
	{ "ConfiguredFirmware", "s", r_configured, false },
	{ "FirmwareBuildId", "s", r_build_id, false },
	{ "FirmwareDigest", "s", r_fw_digest, false },
	{ "FirmwareSource", "s", r_fw_source, false },
	{ "UpdateTrial", "s", r_update_trial, false },
	{ "UpdateCommitted", "s", r_update_committed, false },
	{ "LastUpdateResult", "s", r_update_result, false },
	{ "FallbackReason", "s", r_fallback, false },
	{ "Origin", "s", r_origin, false },
	{ "Recovery", "s", r_recovery, false },
	{ "Coredump", "s", r_coredump, false },
	{ "CrashCount", "u", r_crash_count, false },
	{ "LastCrashTimestamp", "t", r_last_crash, false },
	{ "CrashReason", "s", r_crash_reason, false },
	{ "LastCoredump", "s", r_last_coredump, false },
	{ "LastError", "s", r_last_error, false },
	{ "StartLimitHit", "b", r_limit_hit, false },
	{ "Wedged", "b", r_wedged, false },
	{ "Busy", "b", r_busy, false },
	{ "ConfigFiles", "as", r_config_files, false },
	{ "ConfigWarnings", "as", r_config_warnings, false },
	{ "StartPolicy", "s", r_start_policy, false },
	{ "OnCrashPolicy", "s", r_on_crash, false },
	{ "Channels", "a(suuss)", r_channels, false, append_channels },
	{ "Ready", "b", r_ready, false },
};
#define N_PROPERTIES ELEMENTSOF(properties)

struct core_snapshot {
	char *v[N_PROPERTIES];
};

void core_snapshot_free(struct core_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < N_PROPERTIES; i++)
		free(s->v[i]);
	free(s);
}

void core_emit_changes(struct core *c)
{
	const char *changed[N_PROPERTIES + 1];
	size_t n = 0;

	if (c->removed)
		return;
	if (!c->emitted) {
		c->emitted = calloc(1, sizeof(*c->emitted));
		if (!c->emitted)
			return;
	}
	for (size_t i = 0; i < N_PROPERTIES; i++) {
		char *v;

		if (properties[i].is_const)
			continue;
		v = utf8_make_valid(properties[i].render(c));
		if (!v)
			continue;
		if (c->emitted->v[i] && strcmp(v, c->emitted->v[i]) == 0) {
			free(v);
			continue;
		}
		free(c->emitted->v[i]);
		c->emitted->v[i] = v;
		changed[n++] = properties[i].name;
	}
	changed[n] = NULL;
	if (n > 0 && c->manager->bus)
		(void) sd_bus_emit_properties_changed_strv(c->manager->bus, c->object_path,
							   CORE_INTERFACE, (char **) changed);
}

static int append_as(sd_bus_message *reply, const char *text)
{
	int r = sd_bus_message_open_container(reply, 'a', "s");

	for (const char *p = text; r >= 0 && *p;) {
		const char *nl = strchrnul(p, '\n');
		_cleanup_free_ char *item = strndup(p, (size_t) (nl - p));

		r = item ? sd_bus_message_append(reply, "s", item) : -ENOMEM;
		p = *nl ? nl + 1 : nl;
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int get_property(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct core *c = userdata;

	(void) bus, (void) path, (void) interface, (void) error;
	for (size_t i = 0; i < N_PROPERTIES; i++) {
		const struct core_property *p = &properties[i];
		_cleanup_free_ char *v = NULL;

		if (!streq(p->name, property))
			continue;
		if (p->append)
			return p->append(reply, c);
		v = utf8_make_valid(p->render(c));
		if (!v)
			return -ENOMEM;
		switch (p->type[0]) {
		case 'b':
			return sd_bus_message_append(reply, "b", (int) streq(v, "1"));
		case 'u':
			return sd_bus_message_append(reply, "u", (uint32_t) strtoul(v, NULL, 10));
		case 't':
			return sd_bus_message_append(reply, "t", (uint64_t) strtoull(v, NULL, 10));
		case 'a':
			return append_as(reply, v);
		default:
			return sd_bus_message_append(reply, "s", v);
		}
	}
	return -ENOENT;
}

/*
 * Methods that change a core are authorised first (asynchronously, see
 * bus-auth.h); the core is looked up again when the decision is in, because
 * it may have gone meanwhile. The Manager's by-name methods (StartCore(s)…)
 * go the same way, with the core named by their first argument.
 */
struct core_call {
	struct manager *manager;
	enum core_call_kind kind;
	enum core_method method; /* CALL_METHOD */
	bool restart;		 /* CALL_SET_FIRMWARE */
	bool by_name;		 /* the core is the message's first argument, not its object */
};

/* ConfirmUpdate/RollbackUpdate: a managed core, and rprocd not on its way out. */
static int update_decision_allowed(struct core *c, sd_bus_error *error)
{
	if (c->manager->exiting)
		return sd_bus_error_set(error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	return core_check_managed(c, error);
}

static int core_call_run(struct core_call *call, sd_bus_message *msg, sd_bus_error *error)
{
	const char *name = NULL, *firmware = NULL;
	struct core *c;
	int r;

	r = sd_bus_message_rewind(msg, true);
	if (r < 0)
		return r;
	if (call->by_name) {
		r = sd_bus_message_read(msg, "s", &name);
		if (r < 0)
			return r;
		c = manager_find_core(call->manager, name);
	} else
		c = manager_find_core_by_path(call->manager, sd_bus_message_get_path(msg));
	if (!c || c->removed)
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_CORE, "core %s has disappeared",
					 name ? name : strempty(sd_bus_message_get_path(msg)));
	switch (call->kind) {
	case CALL_METHOD:
		return core_queue_method(c, call->method, msg, error);
	case CALL_RESTART:
		return core_queue_restart(c, msg, error);
	case CALL_SET_FIRMWARE:
		r = sd_bus_message_read(msg, "s", &firmware);
		if (r < 0)
			return r;
		return core_queue_set_firmware(c, firmware, call->restart, msg, error);
	case CALL_UPDATE: {
		int fd;

		r = sd_bus_message_read(msg, "h", &fd);
		if (r < 0)
			return r;
		return core_queue_update(c, fd, msg, error);
	}
	case CALL_CONFIRM_UPDATE:
		r = update_decision_allowed(c, error);
		if (r < 0)
			return r;
		r = core_update_confirm(c);
		if (r == -ENOENT)
			return sd_bus_error_setf(error, BUS_ERROR_NO_UPDATE,
						 "core %s has no update on trial", c->name);
		if (r == -EAGAIN)
			return sd_bus_error_setf(
				error, BUS_ERROR_INVALID_STATE,
				"core %s is %s: an update is confirmed while it runs", c->name,
				rproc_state_to_string(c->state));
		return sd_bus_reply_method_return(msg, NULL);
	case CALL_ROLLBACK_UPDATE:
		r = update_decision_allowed(c, error);
		if (r < 0)
			return r;
		if (!c->update.trial)
			return sd_bus_error_setf(error, BUS_ERROR_NO_UPDATE,
						 "core %s has no update on trial", c->name);
		return core_queue_rollback(c, msg, error);
	}
	return -EINVAL;
}

static void core_call_authorised(sd_bus_message *msg, void *userdata, const sd_bus_error *denied)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ struct core_call *call = userdata;
	int r;

	if (denied) {
		(void) utf8_bus_reply_error(msg, denied);
		return;
	}
	/* Queued (1): the job replies when the kernel has answered. */
	r = core_call_run(call, msg, &error);
	bus_reply_failure(msg, r, &error);
}

int bus_core_call(sd_bus_message *m, struct manager *mgr, enum core_call_kind kind,
		  enum core_method method, bool restart, bool by_name)
{
	struct core_call *call;
	int r;

	call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	*call = (struct core_call){
		.manager = mgr,
		.kind = kind,
		.method = method,
		.restart = restart,
		.by_name = by_name,
	};
	r = bus_verify_admin_async(sd_bus_message_get_bus(m), m, mgr->admin_gid,
				   mgr->config ? mgr->config->admin_group : NULL,
				   core_call_authorised, call);
	if (r < 0) {
		free(call);
		return r;
	}
	return 1; /* the reply comes later */
}

static int core_call_start(sd_bus_message *m, struct core *c, enum core_call_kind kind,
			   enum core_method method, bool restart)
{
	return bus_core_call(m, c->manager, kind, method, restart, false);
}

static int method_common(sd_bus_message *m, void *userdata, enum core_method method)
{
	return core_call_start(m, userdata, CALL_METHOD, method, false);
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return method_common(m, userdata, METHOD_START);
}

static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return method_common(m, userdata, METHOD_STOP);
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return method_common(m, userdata, METHOD_ATTACH);
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return method_common(m, userdata, METHOD_DETACH);
}

static int method_recover(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return method_common(m, userdata, METHOD_RECOVER);
}

static int method_restart(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return core_call_start(m, userdata, CALL_RESTART, METHOD_START, false);
}

static int set_firmware(sd_bus_message *m, struct core *c, bool restart)
{
	const char *name;
	int r;

	/* A malformed call is refused before anyone is asked about it. */
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	return core_call_start(m, c, CALL_SET_FIRMWARE, METHOD_START, restart);
}

static int method_update(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	int fd, r;

	(void) error;
	r = sd_bus_message_read(m, "h", &fd);
	if (r < 0)
		return r;
	return core_call_start(m, userdata, CALL_UPDATE, METHOD_START, false);
}

static int method_confirm_update(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return core_call_start(m, userdata, CALL_CONFIRM_UPDATE, METHOD_START, false);
}

static int method_rollback_update(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return core_call_start(m, userdata, CALL_ROLLBACK_UPDATE, METHOD_START, false);
}

static int method_set_firmware(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return set_firmware(m, userdata, false);
}

static int method_set_firmware_restart(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	return set_firmware(m, userdata, true);
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable core_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelName", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("SysName", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DevicePath", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Description", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("State", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Managed", "b", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Firmware", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("ConfiguredFirmware", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareBuildId", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareDigest", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareSource", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("UpdateTrial", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("UpdateCommitted", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("LastUpdateResult", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("FallbackReason", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Origin", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Recovery", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Coredump", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("CrashCount", "u", get_property, 0, EMITS),
	SD_BUS_PROPERTY("LastCrashTimestamp", "t", get_property, 0, EMITS),
	SD_BUS_PROPERTY("CrashReason", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("LastCoredump", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("LastError", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("StartLimitHit", "b", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Wedged", "b", get_property, 0, EMITS),
	SD_BUS_PROPERTY("Busy", "b", get_property, 0, EMITS),
	SD_BUS_PROPERTY("ConfigFiles", "as", get_property, 0, EMITS),
	SD_BUS_PROPERTY("ConfigWarnings", "as", get_property, 0, EMITS),
	SD_BUS_PROPERTY("StartPolicy", "s", get_property, 0, EMITS),
	SD_BUS_PROPERTY("OnCrashPolicy", "s", get_property, 0, EMITS),
	/* name, Linux's address, the remote's, the rpmsg device, its /dev node ("" if none) */
	SD_BUS_PROPERTY("Channels", "a(suuss)", get_property, 0, EMITS),
	/* up, and every ReadyWhen= channel is there (up alone without ReadyWhen=) */
	SD_BUS_PROPERTY("Ready", "b", get_property, 0, EMITS),
	SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Restart", "", "", method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Attach", "", "", method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Detach", "", "", method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Recover", "", "", method_recover, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetFirmware", SD_BUS_ARGS("s", firmware), SD_BUS_NO_RESULT,
				method_set_firmware, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetFirmwareAndRestart", SD_BUS_ARGS("s", firmware),
				SD_BUS_NO_RESULT, method_set_firmware_restart,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Update", SD_BUS_ARGS("h", image), SD_BUS_NO_RESULT, method_update,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ConfirmUpdate", "", "", method_confirm_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RollbackUpdate", "", "", method_rollback_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int core_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		     void **found, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct core *c;

	(void) bus, (void) interface, (void) error;
	c = manager_find_core_by_path(m, path);
	if (!c)
		return 0;
	*found = c;
	return 1;
}

int core_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *error)
{
	struct manager *m = userdata;
	char **l;

	(void) bus, (void) path, (void) error;
	l = calloc(m->n_cores + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_cores; i++) {
		l[i] = strdup(m->cores[i]->object_path);
		if (!l[i]) {
			strv_free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 0;
}
