/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.rprocd1.Core: one object per core under /org/rprocd1/core, found through a fallback vtable. */
#include <stdio.h>

#include "bus-errors.h"
#include "core.h"
#include "manager.h"
#include "util.h"

/* Every emitted property, rendered as a string to notice what changed. */
static const char *const emitted_props[] = {
	"State", "Firmware", "ConfiguredFirmware", "FirmwareBuildId", "Origin", "Recovery",
	"Coredump", "CrashCount", "LastCrashUSec", "LastError", "StartLimitHit", "Managed",
	"Wedged", "Busy", "Description", "ConfigFiles", "StartPolicy", "OnCrashPolicy",
	"FallbackReason", "LastCoredump",
};
#define N_EMITTED ELEMENTSOF(emitted_props)

struct core_snapshot {
	char *v[N_EMITTED];
};

void core_snapshot_free(struct core_snapshot *s);
void core_snapshot_free(struct core_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < N_EMITTED; i++)
		free(s->v[i]);
	free(s);
}

static const char *configured_firmware(const struct core *c)
{
	if (c->firmware_override)
		return c->firmware_override;
	return c->config ? c->config->firmware : NULL;
}

static char *config_files(const struct core *c)
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

static char *render(const struct core *c, size_t i)
{
	const struct rproc_core_config *cfg = core_is_managed(c) ? c->config : NULL;

	switch (i) {
	case 0: return strdup(rproc_state_to_string(c->state));
	case 1: return strdup(strempty(c->firmware));
	case 2: return strdup(strempty(configured_firmware(c)));
	case 3: return strdup(strempty(c->build_id));
	case 4: return strdup(core_origin_to_string(c->origin));
	case 5: return strdup(c->recovery_enabled ? "enabled" : "disabled");
	case 6: return strdup(strempty(rproc_coredump_mode_to_string(c->coredump)));
	case 7: return strdup_printf("%u", c->crash_count);
	case 8: return strdup_printf("%llu", (unsigned long long)c->last_crash_usec);
	case 9: return strdup(strempty(c->last_error));
	case 10: return strdup(c->start_limit_hit ? "1" : "0");
	case 11: return strdup(core_is_managed(c) ? "1" : "0");
	case 12: return strdup(c->wedged ? "1" : "0");
	case 13: return strdup(core_is_busy(c) ? "1" : "0");
	case 14: return strdup(c->config ? strempty(c->config->description) : "");
	case 15: return config_files(c);
	case 16: return strdup(cfg ? rproc_start_policy_to_string(cfg->settings.start) : "");
	case 17: return strdup(cfg ? rproc_crash_policy_to_string(cfg->settings.on_crash) : "");
	case 18: return strdup(strempty(c->fallback_reason));
	case 19: return strdup(strempty(c->last_coredump));
	}
	return NULL;
}

void core_emit_changes(struct core *c)
{
	const char *changed[N_EMITTED + 1];
	size_t n = 0;

	if (c->removed)
		return;
	if (!c->emitted) {
		c->emitted = calloc(1, sizeof(*c->emitted));
		if (!c->emitted)
			return;
	}
	for (size_t i = 0; i < N_EMITTED; i++) {
		char *v = render(c, i);

		if (!v)
			continue;
		if (c->emitted->v[i] && strcmp(v, c->emitted->v[i]) == 0) {
			free(v);
			continue;
		}
		free(c->emitted->v[i]);
		c->emitted->v[i] = v;
		changed[n++] = emitted_props[i];
	}
	changed[n] = NULL;
	if (n > 0 && c->manager->bus)
		(void)sd_bus_emit_properties_changed_strv(c->manager->bus, c->object_path,
							  CORE_INTERFACE, (char **)changed);
}

#define STRING_GETTER(fn, expr)                                                                   \
	static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)                 \
	{                                                                                         \
		const struct core *c = userdata;                                                  \
		(void)bus, (void)path, (void)interface, (void)property, (void)error;              \
		return sd_bus_message_append(reply, "s", strempty(expr));                         \
	}

STRING_GETTER(get_name, c->name)
STRING_GETTER(get_kernel_name, rproc_device_get_name(c->dev))
STRING_GETTER(get_sysname, rproc_device_get_sysname(c->dev))
STRING_GETTER(get_device_path, rproc_device_get_devpath(c->dev))
STRING_GETTER(get_state, rproc_state_to_string(c->state))
STRING_GETTER(get_firmware, c->firmware)
STRING_GETTER(get_configured_firmware, configured_firmware(c))
STRING_GETTER(get_build_id, c->build_id)
STRING_GETTER(get_origin, core_origin_to_string(c->origin))
STRING_GETTER(get_recovery, c->recovery_enabled ? "enabled" : "disabled")
STRING_GETTER(get_coredump, rproc_coredump_mode_to_string(c->coredump))
STRING_GETTER(get_last_error, c->last_error)
STRING_GETTER(get_fallback_reason, c->fallback_reason)
STRING_GETTER(get_last_coredump, c->last_coredump)
STRING_GETTER(get_description, c->config ? c->config->description : NULL)
STRING_GETTER(get_start_policy, core_is_managed(c) ? rproc_start_policy_to_string(c->config->settings.start) : NULL)
STRING_GETTER(get_on_crash, core_is_managed(c) ? rproc_crash_policy_to_string(c->config->settings.on_crash) : NULL)

static int get_bool(sd_bus_message *reply, bool v)
{
	return sd_bus_message_append(reply, "b", v);
}

#define BOOL_GETTER(fn, expr)                                                                     \
	static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)                 \
	{                                                                                         \
		const struct core *c = userdata;                                                  \
		(void)bus, (void)path, (void)interface, (void)property, (void)error;              \
		return get_bool(reply, expr);                                                     \
	}

BOOL_GETTER(get_managed, core_is_managed(c))
BOOL_GETTER(get_start_limit_hit, c->start_limit_hit)
BOOL_GETTER(get_wedged, c->wedged)
BOOL_GETTER(get_busy, core_is_busy(c))

static int get_crash_count(sd_bus *bus, const char *path, const char *interface,
			   const char *property, sd_bus_message *reply, void *userdata,
			   sd_bus_error *error)
{
	const struct core *c = userdata;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	return sd_bus_message_append(reply, "u", c->crash_count);
}

static int get_last_crash(sd_bus *bus, const char *path, const char *interface,
			  const char *property, sd_bus_message *reply, void *userdata,
			  sd_bus_error *error)
{
	const struct core *c = userdata;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	return sd_bus_message_append(reply, "t", c->last_crash_usec);
}

static int get_config_files(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error)
{
	const struct core *c = userdata;
	int r;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	r = sd_bus_message_open_container(reply, 'a', "s");
	if (r < 0)
		return r;
	if (c->config && c->config->path) {
		r = sd_bus_message_append(reply, "s", c->config->path);
		for (char **d = c->config->dropins; r >= 0 && d && *d; d++)
			r = sd_bus_message_append(reply, "s", *d);
		if (r < 0)
			return r;
	}
	return sd_bus_message_close_container(reply);
}

static int method_common(sd_bus_message *m, void *userdata, sd_bus_error *error,
			 enum core_method method)
{
	struct core *c = userdata;
	int r;

	r = manager_check_privileged(c->manager, m, error);
	if (r < 0)
		return r;
	return core_queue_method(c, method, m, error);
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return method_common(m, userdata, error, METHOD_START);
}

static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return method_common(m, userdata, error, METHOD_STOP);
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return method_common(m, userdata, error, METHOD_ATTACH);
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return method_common(m, userdata, error, METHOD_DETACH);
}

static int method_recover(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return method_common(m, userdata, error, METHOD_RECOVER);
}

static int method_restart(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct core *c = userdata;
	int r;

	r = manager_check_privileged(c->manager, m, error);
	if (r < 0)
		return r;
	return core_queue_restart(c, m, error);
}

static int set_firmware(sd_bus_message *m, struct core *c, bool restart, sd_bus_error *error)
{
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = manager_check_privileged(c->manager, m, error);
	if (r < 0)
		return r;
	return core_queue_set_firmware(c, name, restart, m, error);
}

static int method_set_firmware(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_firmware(m, userdata, false, error);
}

static int method_set_firmware_restart(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_firmware(m, userdata, true, error);
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable core_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelName", "s", get_kernel_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("SysName", "s", get_sysname, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DevicePath", "s", get_device_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Description", "s", get_description, 0, EMITS),
	SD_BUS_PROPERTY("State", "s", get_state, 0, EMITS),
	SD_BUS_PROPERTY("Managed", "b", get_managed, 0, EMITS),
	SD_BUS_PROPERTY("Firmware", "s", get_firmware, 0, EMITS),
	SD_BUS_PROPERTY("ConfiguredFirmware", "s", get_configured_firmware, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareBuildId", "s", get_build_id, 0, EMITS),
	SD_BUS_PROPERTY("FallbackReason", "s", get_fallback_reason, 0, EMITS),
	SD_BUS_PROPERTY("Origin", "s", get_origin, 0, EMITS),
	SD_BUS_PROPERTY("Recovery", "s", get_recovery, 0, EMITS),
	SD_BUS_PROPERTY("Coredump", "s", get_coredump, 0, EMITS),
	SD_BUS_PROPERTY("CrashCount", "u", get_crash_count, 0, EMITS),
	SD_BUS_PROPERTY("LastCrashUSec", "t", get_last_crash, 0, EMITS),
	SD_BUS_PROPERTY("LastCoredump", "s", get_last_coredump, 0, EMITS),
	SD_BUS_PROPERTY("LastError", "s", get_last_error, 0, EMITS),
	SD_BUS_PROPERTY("StartLimitHit", "b", get_start_limit_hit, 0, EMITS),
	SD_BUS_PROPERTY("Wedged", "b", get_wedged, 0, EMITS),
	SD_BUS_PROPERTY("Busy", "b", get_busy, 0, EMITS),
	SD_BUS_PROPERTY("ConfigFiles", "as", get_config_files, 0, EMITS),
	SD_BUS_PROPERTY("StartPolicy", "s", get_start_policy, 0, EMITS),
	SD_BUS_PROPERTY("OnCrashPolicy", "s", get_on_crash, 0, EMITS),
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
	SD_BUS_VTABLE_END
};

int core_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
		     void **found, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct core *c;

	(void)bus, (void)interface, (void)error;
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

	(void)bus, (void)path, (void)error;
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
