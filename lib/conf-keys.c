/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stddef.h>

#include "conf-keys.h"

enum conf_type {
	T_TEXT,	       /* free text */
	T_KERNEL_NAME, /* a kernel "name" attribute value */
	T_FIRMWARE,    /* a firmware name */
	T_ABS_GLOB,    /* an absolute path glob */
	T_ABS_PATH,
	T_BOOL,
	T_TIMESPAN,
	T_POLL, /* auto, a time span > 0, or 0/infinity/no: never */
	T_SIZE,
	T_UNSIGNED,
	T_UNSIGNED_POS, /* > 0 */
	T_ENUM,
	T_COREDUMP,
	T_FW_FORMAT,
	T_ELF_CLASS,
	T_ELF_MACHINE,
	T_CORE_LIST,
	T_CHANNEL_LIST, /* rpmsg channel names */
	T_GROUP,
};

enum conf_scope {
	SCOPE_CORE, /* [Match]/[Core] of NAME.core only; offset into rproc_core_config */
	SCOPE_SETTING, /* [Core] of NAME.core and [Defaults] of rprocd.conf; into rproc_core_settings */
	SCOPE_DAEMON, /* [Daemon] of rprocd.conf; into rproc_daemon_config */
};

static const char *const start_words[] = { "auto", "boot", "attach", "no", NULL };
static const char *const stop_words[] = { "shutdown", "detach", NULL };
static const char *const crash_words[] = { "kernel", "restart", "leave", NULL };
static const char *const exit_words[] = { "leave", "stop", "detach", NULL };
static const char *const events_words[] = { "auto", "kmsg", "sysfs", "no", NULL };
static const char *const ready_timeout_words[] = { "restart", "leave", "stop", NULL };

struct conf_key {
	enum rproc_config_key id;
	const char *full; /* "Section.Key" */
	const char *section;
	const char *name;
	enum conf_type type;
	enum conf_scope scope;
	size_t offset;
	const char *const *words;
};

#define CORE(k, sec, n, t, f)                                                                    \
	{                                                                                        \
		k, sec "." n, sec, n, t, SCOPE_CORE, offsetof(struct rproc_core_config, f), NULL \
	}
#define SET(k, n, t, f, w)                                         \
	{                                                          \
		k, "Core." n, "Core", n, t, SCOPE_SETTING,         \
			offsetof(struct rproc_core_settings, f), w \
	}
#define DMN(k, n, t, f, w)                                         \
	{                                                          \
		k, "Daemon." n, "Daemon", n, t, SCOPE_DAEMON,      \
			offsetof(struct rproc_daemon_config, f), w \
	}

static const struct conf_key keys[] = {
	CORE(RPROC_KEY_MATCH_NAME, "Match", "Name", T_KERNEL_NAME, match_name),
	CORE(RPROC_KEY_MATCH_DEVICE_PATH, "Match", "DevicePath", T_ABS_GLOB, match_device_path),
	CORE(RPROC_KEY_DESCRIPTION, "Core", "Description", T_TEXT, description),
	CORE(RPROC_KEY_FIRMWARE, "Core", "Firmware", T_FIRMWARE, firmware),
	CORE(RPROC_KEY_FALLBACK_FIRMWARE, "Core", "FallbackFirmware", T_FIRMWARE,
	     fallback_firmware),
	CORE(RPROC_KEY_FIRMWARE_CLASS, "Core", "FirmwareClass", T_ELF_CLASS, firmware_class),
	CORE(RPROC_KEY_FIRMWARE_MACHINE, "Core", "FirmwareMachine", T_ELF_MACHINE,
	     firmware_machine),
	SET(RPROC_KEY_FIRMWARE_FORMAT, "FirmwareFormat", T_FW_FORMAT, firmware_format, NULL),
	SET(RPROC_KEY_START, "Start", T_ENUM, start, start_words),
	SET(RPROC_KEY_STOP, "Stop", T_ENUM, stop, stop_words),
	SET(RPROC_KEY_ON_CRASH, "OnCrash", T_ENUM, on_crash, crash_words),
	SET(RPROC_KEY_ON_EXIT, "OnExit", T_ENUM, on_exit, exit_words),
	SET(RPROC_KEY_RESTART_SEC, "RestartSec", T_TIMESPAN, restart_usec, NULL),
	SET(RPROC_KEY_START_LIMIT_BURST, "StartLimitBurst", T_UNSIGNED_POS, start_limit_burst,
	    NULL),
	SET(RPROC_KEY_START_LIMIT_INTERVAL_SEC, "StartLimitIntervalSec", T_TIMESPAN,
	    start_limit_interval_usec, NULL),
	SET(RPROC_KEY_SETTLE_SEC, "SettleSec", T_TIMESPAN, settle_usec, NULL),
	SET(RPROC_KEY_COREDUMP, "Coredump", T_COREDUMP, coredump, NULL),
	SET(RPROC_KEY_COREDUMP_DIRECTORY, "CoredumpDirectory", T_ABS_PATH, coredump_directory,
	    NULL),
	SET(RPROC_KEY_COREDUMP_MAX_FILES, "CoredumpMaxFiles", T_UNSIGNED, coredump_max_files, NULL),
	SET(RPROC_KEY_COREDUMP_MAX_USE, "CoredumpMaxUse", T_SIZE, coredump_max_use, NULL),
	SET(RPROC_KEY_BIND_LIFETIME, "BindLifetime", T_BOOL, bind_lifetime, NULL),
	CORE(RPROC_KEY_REQUIRES, "Core", "Requires", T_CORE_LIST, requires),
	CORE(RPROC_KEY_AFTER, "Core", "After", T_CORE_LIST, after),
	CORE(RPROC_KEY_READY_WHEN, "Core", "ReadyWhen", T_CHANNEL_LIST, ready_when),
	SET(RPROC_KEY_READY_TIMEOUT_SEC, "ReadyTimeoutSec", T_TIMESPAN, ready_timeout_usec, NULL),
	SET(RPROC_KEY_ON_READY_TIMEOUT, "OnReadyTimeout", T_ENUM, on_ready_timeout,
	    ready_timeout_words),
	DMN(RPROC_KEY_POLL_INTERVAL_SEC, "PollIntervalSec", T_POLL, poll_interval_usec, NULL),
	DMN(RPROC_KEY_ADMIN_GROUP, "AdminGroup", T_GROUP, admin_group, NULL),
	DMN(RPROC_KEY_KERNEL_EVENTS, "KernelEvents", T_ENUM, kernel_events, events_words),
	DMN(RPROC_KEY_TRACE_INTERVAL_SEC, "TraceIntervalSec", T_POLL, trace_interval_usec, NULL),
};

static const struct conf_key *key_by_id(enum rproc_config_key id)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].id == id)
			return &keys[i];
	return NULL;
}

_public_ const char *rproc_config_key_name(enum rproc_config_key id)
{
	const struct conf_key *k = key_by_id(id);

	return k ? k->full : NULL;
}

_public_ enum rproc_config_kind rproc_config_key_kind(enum rproc_config_key id)
{
	const struct conf_key *k = key_by_id(id);

	switch (k ? k->type : T_TEXT) {
	case T_BOOL:
		return RPROC_CONFIG_KIND_BOOLEAN;
	case T_UNSIGNED:
	case T_UNSIGNED_POS:
	case T_ELF_CLASS:
		return RPROC_CONFIG_KIND_UNSIGNED;
	case T_SIZE:
		return RPROC_CONFIG_KIND_SIZE;
	case T_TIMESPAN:
		return RPROC_CONFIG_KIND_TIMESPAN;
	case T_POLL:
		return RPROC_CONFIG_KIND_POLL;
	case T_CORE_LIST:
	case T_CHANNEL_LIST:
		return RPROC_CONFIG_KIND_LIST;
	case T_TEXT:
	case T_KERNEL_NAME:
	case T_FIRMWARE:
	case T_ABS_GLOB:
	case T_ABS_PATH:
	case T_GROUP:
	case T_ENUM:
	case T_COREDUMP:
	case T_FW_FORMAT:
	case T_ELF_MACHINE:
		break;
	}
	return RPROC_CONFIG_KIND_STRING;
}

static const char *const *enum_words(const struct conf_key *k)
{
	static const char *const coredump_words[] = { "disabled", "enabled", "inline", NULL };
	static const char *const format_words[] = { "elf", "opaque", NULL };

	if (k->type == T_COREDUMP)
		return coredump_words;
	if (k->type == T_FW_FORMAT)
		return format_words;
	return k->words;
}

void core_settings_init(struct rproc_core_settings *s)
{
	*s = (struct rproc_core_settings){
		.start = RPROC_START_AUTO,
		.stop = RPROC_STOP_SHUTDOWN,
		.on_crash = RPROC_CRASH_KERNEL,
		.on_exit = RPROC_EXIT_LEAVE,
		.restart_usec = RPROC_DEFAULT_RESTART_USEC,
		.start_limit_burst = RPROC_DEFAULT_START_LIMIT_BURST,
		.start_limit_interval_usec = RPROC_DEFAULT_START_LIMIT_INTERVAL_USEC,
		.settle_usec = RPROC_DEFAULT_SETTLE_USEC,
		.coredump = RPROC_COREDUMP_DISABLED,
		.coredump_max_files = RPROC_DEFAULT_COREDUMP_MAX_FILES,
		.coredump_max_use = RPROC_DEFAULT_COREDUMP_MAX_USE,
		.bind_lifetime = false,
		.firmware_format = RPROC_FW_FORMAT_ELF,
		.ready_timeout_usec = RPROC_DEFAULT_READY_TIMEOUT_USEC,
		.on_ready_timeout = RPROC_READY_TIMEOUT_RESTART,
	};
}

int core_settings_copy(struct rproc_core_settings *dst, const struct rproc_core_settings *src)
{
	*dst = *src;
	dst->coredump_directory = NULL;
	return free_and_strdup(&dst->coredump_directory, src->coredump_directory);
}

void core_settings_done(struct rproc_core_settings *s)
{
	free(s->coredump_directory);
	s->coredump_directory = NULL;
}

static bool core_name_char(char c)
{
	return isalnum((unsigned char) c) || strchr("_.-@:", c);
}

_public_ bool rproc_core_name_is_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *c = name; *c; c++)
		if (!core_name_char(*c))
			return false;
	return true;
}

static bool group_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-' || isdigit((unsigned char) s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char) *s) && !strchr("_-.", *s))
			return false;
	return true;
}

static void *field_of(const struct conf_target *t, const struct conf_key *k)
{
	switch (k->scope) {
	case SCOPE_CORE:
		return (char *) t->core + k->offset;
	case SCOPE_SETTING:
		return (char *) t->settings + k->offset;
	case SCOPE_DAEMON:
		return (char *) t->daemon + k->offset;
	}
	return NULL;
}

/* Reset a field to what an empty assignment means. */
static int reset_field(struct conf_target *t, const struct conf_key *k, void *f)
{
	if (k->scope == SCOPE_SETTING) {
		const void *b = (const char *) t->base + k->offset;

		if (k->type == T_ABS_PATH)
			return free_and_strdup(f, *(char *const *) b);
		memcpy(f, b,
		       k->type == T_SIZE || k->type == T_TIMESPAN ? sizeof(uint64_t)
		       : k->type == T_BOOL			  ? sizeof(bool)
								  : sizeof(int));
		return 0;
	}
	switch (k->type) {
	case T_CORE_LIST:
	case T_CHANNEL_LIST:
		strv_free(*(char ***) f);
		*(char ***) f = NULL;
		return 0;
	case T_ELF_CLASS:
		*(int *) f = 0;
		return 0;
	case T_ELF_MACHINE:
		*(int *) f = -1;
		return 0;
	case T_POLL:
		*(rproc_usec_t *) f = RPROC_POLL_INTERVAL_AUTO;
		return 0;
	case T_ENUM:
		*(int *) f = 0;
		return 0;
	default:
		return free_and_strdup(f, NULL);
	}
}

static int invalid(struct conf_target *t, const char *file, unsigned line, const struct conf_key *k,
		   const char *value, const char *why)
{
	int r = conf_diag(&t->diags, LOG_ERR, file, line, "invalid value \"%s\" for %s=: %s", value,
			  k->name, why);

	return r < 0 ? r : -EINVAL;
}

static int parse_enum(const char *const *words, const char *value)
{
	for (int i = 0; words[i]; i++)
		if (streq(words[i], value))
			return i;
	return -1;
}

/* As the kernel takes them: at most 31 bytes (RPMSG_NAME_SIZE), printable, no blank or '/'. */
static bool channel_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 31)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char) *s) || *s == '/')
			return false;
	return true;
}

/* A space-separated list of core names (Requires=, After=) or channel names (ReadyWhen=). */
static int assign_list(struct conf_target *t, const char *file, unsigned line,
		       const struct conf_key *k, const char *value, char ***l)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL, *w;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (k->type == T_CHANNEL_LIST && !channel_name_is_valid(w))
			return invalid(t, file, line, k, w,
				       "not an rpmsg channel name (1 to 31 printable bytes, no "
				       "'/')");
		if (k->type == T_CORE_LIST && !rproc_core_name_is_valid(w))
			return invalid(t, file, line, k, w, "not a core name");
		if (k->type == T_CORE_LIST && t->core && streq(w, t->core->name))
			return invalid(t, file, line, k, w, "a core cannot depend on itself");
		if (!strv_contains(*l, w) && strv_extend(l, w) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int assign_value(struct conf_target *t, const char *file, unsigned line,
			const struct conf_key *k, const char *value, void *f)
{
	uint64_t u64;
	unsigned u;
	int r;

	switch (k->type) {
	case T_TEXT:
		return free_and_strdup(f, value);
	case T_KERNEL_NAME:
		if (strchr(value, '/'))
			return invalid(t, file, line, k, value, "a kernel name has no '/'");
		return free_and_strdup(f, value);
	case T_FIRMWARE:
		if (!rproc_firmware_name_is_valid(value))
			return invalid(
				t, file, line, k, value,
				"a firmware name is relative to the firmware search path, at "
				"most 255 bytes, without \"..\" or control characters");
		return free_and_strdup(f, value);
	case T_ABS_GLOB:
	case T_ABS_PATH:
		if (value[0] != '/')
			return invalid(t, file, line, k, value, "not an absolute path");
		if (k->type == T_ABS_PATH && strstr(value, "/../"))
			return invalid(t, file, line, k, value, "the path contains \"..\"");
		return free_and_strdup(f, value);
	case T_BOOL:
		r = rproc_parse_boolean(value);
		if (r < 0)
			return invalid(t, file, line, k, value, "expected yes or no");
		*(bool *) f = r;
		return 0;
	case T_POLL:
		if (streq(value, "auto")) {
			*(rproc_usec_t *) f = RPROC_POLL_INTERVAL_AUTO;
			return 0;
		}
		if (rproc_parse_boolean(value) == 0) {
			*(rproc_usec_t *) f = RPROC_USEC_INFINITY;
			return 0;
		}
		if (rproc_parse_timespan(value, &u64) < 0)
			return invalid(
				t, file, line, k, value,
				"expected auto, no, or a time span such as 500ms, 30s or 1min");
		*(rproc_usec_t *) f = u64 == 0 ? RPROC_USEC_INFINITY : u64;
		return 0;
	case T_TIMESPAN:
		if (rproc_parse_timespan(value, &u64) < 0)
			return invalid(t, file, line, k, value,
				       "expected a time span such as 500ms, 2s or 1min");
		*(rproc_usec_t *) f = u64;
		return 0;
	case T_SIZE:
		if (rproc_parse_size(value, &u64) < 0)
			return invalid(t, file, line, k, value,
				       "expected a size such as 4096, 512K or 64M");
		*(uint64_t *) f = u64;
		return 0;
	case T_UNSIGNED:
	case T_UNSIGNED_POS:
		if (rproc_parse_unsigned(value, &u) < 0)
			return invalid(t, file, line, k, value, "expected a non-negative integer");
		if (k->type == T_UNSIGNED_POS && u == 0)
			return invalid(t, file, line, k, value, "must be at least 1");
		*(unsigned *) f = u;
		return 0;
	case T_ENUM:
	case T_COREDUMP:
	case T_FW_FORMAT: {
		const char *const *w = enum_words(k);
		_cleanup_free_ char *expected = strv_join((char *const *) w, ", ");

		r = parse_enum(w, value);
		if (r < 0)
			return invalid(t, file, line, k, value,
				       expected ? expected : "unknown word");
		*(int *) f = r;
		return 0;
	}
	case T_ELF_CLASS:
		if (streq(value, "32") || streq(value, "64")) {
			*(int *) f = atoi(value);
			return 0;
		}
		return invalid(t, file, line, k, value, "expected 32 or 64");
	case T_ELF_MACHINE:
		r = rproc_elf_machine_from_string(value);
		if (r < 0)
			return invalid(
				t, file, line, k, value,
				"expected an ELF machine name (ARM, AARCH64, RISCV, …) or number");
		*(int *) f = r;
		return 0;
	case T_CORE_LIST:
		return assign_list(t, file, line, k, value, f);
	case T_CHANNEL_LIST:
		return assign_list(t, file, line, k, value, f);
	case T_GROUP:
		if (!group_name_is_valid(value))
			return invalid(t, file, line, k, value, "not a valid group name");
		return free_and_strdup(f, value);
	}
	return -EINVAL;
}

/* The section a key of this scope is written in, for the file being loaded. */
static const char *key_section(const struct conf_target *t, const struct conf_key *k)
{
	if (k->scope == SCOPE_SETTING && !t->core)
		return "Defaults";
	return k->section;
}

static bool scope_applies(const struct conf_target *t, const struct conf_key *k)
{
	if (k->scope == SCOPE_CORE)
		return t->core;
	if (k->scope == SCOPE_DAEMON)
		return !t->core;
	return true;
}

int conf_assign(void *userdata, const char *file, unsigned line, const char *section,
		const char *key, const char *value)
{
	struct conf_target *t = userdata;
	bool section_known = false;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const struct conf_key *k = &keys[i];
		void *f;

		if (!scope_applies(t, k) || !streq(key_section(t, k), section))
			continue;
		section_known = true;
		if (!streq(k->name, key))
			continue;

		f = field_of(t, k);
		r = *value ? assign_value(t, file, line, k, value, f) : reset_field(t, k, f);
		if (r < 0)
			return r;
		t->origin[k->id] = (struct rproc_config_origin){ file, line };
		return 0;
	}

	if (!section_known) {
		/* X- sections are for extensions and are ignored silently, as in systemd. */
		if (startswith(section, "X-"))
			return 0;
		return conf_diag(&t->diags, LOG_WARNING, file, line,
				 "unknown section [%s], %s= ignored", section, key);
	}
	if (startswith(key, "X-"))
		return 0;
	return conf_diag(&t->diags, LOG_WARNING, file, line, "unknown key %s= in [%s], ignored",
			 key, section);
}

char *conf_format_value(const struct rproc_core_config *core,
			const struct rproc_daemon_config *daemon, enum rproc_config_key id)
{
	const struct conf_key *k = key_by_id(id);
	struct conf_target t = {
		.core = (struct rproc_core_config *) core,
		.daemon = (struct rproc_daemon_config *) daemon,
		.settings = core     ? (struct rproc_core_settings *) &core->settings
			    : daemon ? (struct rproc_core_settings *) &daemon->defaults
				     : NULL,
	};
	const void *f;
	char buf[64];

	if (!k || !scope_applies(&t, k))
		return NULL;
	f = field_of(&t, k);

	switch (k->type) {
	case T_TEXT:
	case T_KERNEL_NAME:
	case T_FIRMWARE:
	case T_ABS_GLOB:
	case T_ABS_PATH:
	case T_GROUP:
		return *(char *const *) f ? strdup(*(char *const *) f) : NULL;
	case T_BOOL:
		return strdup(*(const bool *) f ? "yes" : "no");
	case T_POLL:
		if (*(const rproc_usec_t *) f == RPROC_POLL_INTERVAL_AUTO)
			return strdup("auto");
		return strdup(rproc_format_timespan(buf, sizeof(buf), *(const rproc_usec_t *) f));
	case T_TIMESPAN:
		return strdup(rproc_format_timespan(buf, sizeof(buf), *(const rproc_usec_t *) f));
	case T_SIZE: {
		static const char suffix[] = "KMGT";
		uint64_t v = *(const uint64_t *) f;
		int i = -1;

		while (v && v % 1024 == 0 && i < 3) {
			v /= 1024;
			i++;
		}
		if (i < 0)
			return strdup_printf("%llu", (unsigned long long) v);
		return strdup_printf("%llu%c", (unsigned long long) v, suffix[i]);
	}
	case T_UNSIGNED:
	case T_UNSIGNED_POS:
		return strdup_printf("%u", *(const unsigned *) f);
	case T_ENUM:
	case T_COREDUMP:
	case T_FW_FORMAT: {
		const char *const *w = enum_words(k);
		int v = *(const int *) f;

		for (int i = 0; w[i]; i++)
			if (i == v)
				return strdup(w[i]);
		return NULL;
	}
	case T_ELF_CLASS:
		return *(const int *) f ? strdup_printf("%d", *(const int *) f) : NULL;
	case T_ELF_MACHINE: {
		int m = *(const int *) f;
		const char *n;

		if (m < 0)
			return NULL;
		n = rproc_elf_machine_to_string((unsigned) m);
		return n ? strdup(n) : strdup_printf("%d", m);
	}
	case T_CORE_LIST:
	case T_CHANNEL_LIST:
		return *(char **const *) f ? strv_join(*(char **const *) f, " ") : NULL;
	}
	return NULL;
}
