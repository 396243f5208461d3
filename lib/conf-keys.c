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
	T_DIGEST_LIST, /* "sha256:HEX" */
	T_MATCH_LIST,  /* globs, quoted when they hold spaces; "!" first negates the assignment's */
};

enum conf_key_flags {
	/* An invalid value leaves the core unmanaged instead of being ignored. */
	KEY_STRICT = 1 << 0,
	/* %H, %m, %b, %v and %% are replaced (unknown ones are invalid). */
	KEY_SPECIFIERS = 1 << 1,
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
static const char *const staging_words[] = { "auto", "yes", "no", NULL };

struct conf_key {
	enum rproc_config_key id;
	const char *full; /* "Section.Key" */
	const char *section;
	const char *name;
	enum conf_type type;
	enum conf_scope scope;
	size_t offset;
	const char *const *words;
	unsigned flags;
};

#define CORE(k, sec, n, t, f, fl)                                                                 \
	{                                                                                         \
		k, sec "." n, sec, n, t, SCOPE_CORE, offsetof(struct rproc_core_config, f), NULL, \
			fl                                                                        \
	}
#define SET(k, n, t, f, w, fl)                                         \
	{                                                              \
		k, "Core." n, "Core", n, t, SCOPE_SETTING,             \
			offsetof(struct rproc_core_settings, f), w, fl \
	}
#define DMN(k, n, t, f, w)                                            \
	{                                                             \
		k, "Daemon." n, "Daemon", n, t, SCOPE_DAEMON,         \
			offsetof(struct rproc_daemon_config, f), w, 0 \
	}

/*
 * Strict: the keys that decide which core a file applies to, which image is
 * loaded and what it must be, and whether rprocd boots the core on its own
 * and after what. Ignoring an invalid one would boot another image, another
 * core, or a core too early; the defaults of every other key are safe.
 */
static const struct conf_key keys[] = {
	CORE(RPROC_KEY_MATCH_NAME, "Match", "Name", T_KERNEL_NAME, match_name, KEY_STRICT),
	CORE(RPROC_KEY_MATCH_DEVICE_PATH, "Match", "DevicePath", T_ABS_GLOB, match_device_path,
	     KEY_STRICT),
	CORE(RPROC_KEY_MATCH_COMPATIBLE, "Match", "Compatible", T_MATCH_LIST, match_compatible,
	     KEY_STRICT),
	CORE(RPROC_KEY_MATCH_MODEL, "Match", "Model", T_MATCH_LIST, match_model, KEY_STRICT),
	CORE(RPROC_KEY_DESCRIPTION, "Core", "Description", T_TEXT, description, KEY_SPECIFIERS),
	CORE(RPROC_KEY_FIRMWARE, "Core", "Firmware", T_FIRMWARE, firmware,
	     KEY_STRICT | KEY_SPECIFIERS),
	CORE(RPROC_KEY_FALLBACK_FIRMWARE, "Core", "FallbackFirmware", T_FIRMWARE, fallback_firmware,
	     KEY_STRICT | KEY_SPECIFIERS),
	CORE(RPROC_KEY_FIRMWARE_CLASS, "Core", "FirmwareClass", T_ELF_CLASS, firmware_class,
	     KEY_STRICT),
	CORE(RPROC_KEY_FIRMWARE_MACHINE, "Core", "FirmwareMachine", T_ELF_MACHINE, firmware_machine,
	     KEY_STRICT),
	SET(RPROC_KEY_FIRMWARE_FORMAT, "FirmwareFormat", T_FW_FORMAT, firmware_format, NULL,
	    KEY_STRICT),
	SET(RPROC_KEY_START, "Start", T_ENUM, start, start_words, KEY_STRICT),
	SET(RPROC_KEY_STOP, "Stop", T_ENUM, stop, stop_words, 0),
	SET(RPROC_KEY_ON_CRASH, "OnCrash", T_ENUM, on_crash, crash_words, 0),
	SET(RPROC_KEY_ON_EXIT, "OnExit", T_ENUM, on_exit, exit_words, 0),
	SET(RPROC_KEY_RESTART_SEC, "RestartSec", T_TIMESPAN, restart_usec, NULL, 0),
	SET(RPROC_KEY_START_LIMIT_BURST, "StartLimitBurst", T_UNSIGNED_POS, start_limit_burst, NULL,
	    0),
	SET(RPROC_KEY_START_LIMIT_INTERVAL_SEC, "StartLimitIntervalSec", T_TIMESPAN,
	    start_limit_interval_usec, NULL, 0),
	SET(RPROC_KEY_SETTLE_SEC, "SettleSec", T_TIMESPAN, settle_usec, NULL, 0),
	SET(RPROC_KEY_COREDUMP, "Coredump", T_COREDUMP, coredump, NULL, 0),
	SET(RPROC_KEY_COREDUMP_DIRECTORY, "CoredumpDirectory", T_ABS_PATH, coredump_directory, NULL,
	    KEY_SPECIFIERS),
	SET(RPROC_KEY_COREDUMP_MAX_FILES, "CoredumpMaxFiles", T_UNSIGNED, coredump_max_files, NULL,
	    0),
	SET(RPROC_KEY_COREDUMP_MAX_USE, "CoredumpMaxUse", T_SIZE, coredump_max_use, NULL, 0),
	SET(RPROC_KEY_BIND_LIFETIME, "BindLifetime", T_BOOL, bind_lifetime, NULL, 0),
	CORE(RPROC_KEY_REQUIRES, "Core", "Requires", T_CORE_LIST, requires, KEY_STRICT),
	CORE(RPROC_KEY_AFTER, "Core", "After", T_CORE_LIST, after, 0),
	CORE(RPROC_KEY_READY_WHEN, "Core", "ReadyWhen", T_CHANNEL_LIST, ready_when, 0),
	SET(RPROC_KEY_READY_TIMEOUT_SEC, "ReadyTimeoutSec", T_TIMESPAN, ready_timeout_usec, NULL,
	    0),
	SET(RPROC_KEY_ON_READY_TIMEOUT, "OnReadyTimeout", T_ENUM, on_ready_timeout,
	    ready_timeout_words, 0),
	DMN(RPROC_KEY_POLL_INTERVAL_SEC, "PollIntervalSec", T_POLL, poll_interval_usec, NULL),
	DMN(RPROC_KEY_ADMIN_GROUP, "AdminGroup", T_GROUP, admin_group, NULL),
	DMN(RPROC_KEY_KERNEL_EVENTS, "KernelEvents", T_ENUM, kernel_events, events_words),
	DMN(RPROC_KEY_TRACE_INTERVAL_SEC, "TraceIntervalSec", T_POLL, trace_interval_usec, NULL),
	/* Strict: an ignored pin would let any image run. */
	CORE(RPROC_KEY_FIRMWARE_DIGEST, "Core", "FirmwareDigest", T_DIGEST_LIST, firmware_digests,
	     KEY_STRICT),
	DMN(RPROC_KEY_FIRMWARE_STAGING, "FirmwareStaging", T_ENUM, firmware_staging, staging_words),
	DMN(RPROC_KEY_FIRMWARE_STRICT_MODES, "FirmwareStrictModes", T_BOOL, firmware_strict_modes,
	    NULL),
	SET(RPROC_KEY_UPDATE_CONFIRM_SEC, "UpdateConfirmSec", T_TIMESPAN, update_confirm_usec, NULL,
	    0),
};

static const struct conf_key *key_by_id(enum rproc_config_key id)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].id == id)
			return &keys[i];
	return NULL;
}

const char *rproc_config_key_name(enum rproc_config_key id)
{
	const struct conf_key *k = key_by_id(id);

	return k ? k->full : NULL;
}

enum rproc_config_kind rproc_config_key_kind(enum rproc_config_key id)
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
	case T_DIGEST_LIST:
	case T_MATCH_LIST:
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
		.update_confirm_usec = RPROC_DEFAULT_UPDATE_CONFIRM_USEC,
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

bool rproc_core_name_is_valid(const char *name)
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
	case T_DIGEST_LIST:
	case T_MATCH_LIST:
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
	case T_BOOL:
		*(bool *) f = k->id == RPROC_KEY_FIRMWARE_STRICT_MODES;
		return 0;
	default:
		return free_and_strdup(f, NULL);
	}
}

/*
 * Record an invalid value and return -EINVAL: conf_assign() then ignores the
 * assignment, or for a strict key fails the file (a core file: the core is
 * not managed; rprocd.conf: the cores that inherit the key are not).
 */
static int invalid(struct conf_target *t, const char *file, unsigned line, const struct conf_key *k,
		   const char *value, const char *why)
{
	int r;

	if (!(k->flags & KEY_STRICT))
		r = conf_diag(&t->diags, LOG_WARNING, file, line,
			      "invalid value \"%s\" for %s=: %s; ignored", value, k->name, why);
	else if (t->core)
		r = conf_diag(&t->diags, LOG_ERR, file, line, "invalid value \"%s\" for %s=: %s",
			      value, k->name, why);
	else
		r = conf_diag(&t->diags, LOG_ERR, file, line,
			      "invalid value \"%s\" for %s=: %s; cores that do not set %s= "
			      "themselves are not managed",
			      value, k->name, why, k->name);
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

static bool digest_is_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64)
		return false;
	for (s += 7; *s; s++)
		if (!isxdigit((unsigned char) *s))
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
	/* All words are checked first: an invalid one leaves the list as it was. */
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (k->type == T_CHANNEL_LIST && !channel_name_is_valid(w))
			return invalid(t, file, line, k, w,
				       "not an rpmsg channel name (1 to 31 printable bytes, no "
				       "'/')");
		if (k->type == T_CORE_LIST && !rproc_core_name_is_valid(w))
			return invalid(t, file, line, k, w, "not a core name");
		if (k->type == T_CORE_LIST && t->core && streq(w, t->core->name))
			return invalid(t, file, line, k, w, "a core cannot depend on itself");
		if (k->type == T_DIGEST_LIST && !digest_is_valid(w))
			return invalid(t, file, line, k, w,
				       "expected sha256: and 64 hexadecimal digits");
	}
	free(copy);
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	save = NULL;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (k->type == T_DIGEST_LIST)
			for (char *c = w; *c; c++)
				*c = (char) tolower((unsigned char) *c);
		if (!strv_contains(*l, w) && strv_extend(l, w) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Words of a [Match] list: separated by blanks, a word in double quotes may
 * hold blanks (\" and \\ inside quotes). Returns 0, -EINVAL (an unterminated
 * quote, an empty word) or -ENOMEM.
 */
static int split_quoted(const char *p, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;

	for (;;) {
		_cleanup_free_ char *w = NULL;
		size_t n = 0;

		p += strspn(p, " \t");
		if (!*p)
			break;
		w = malloc(strlen(p) + 1);
		if (!w)
			return -ENOMEM;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				w[n++] = *p;
			}
			if (*p != '"')
				return -EINVAL;
			p++;
			if (*p && *p != ' ' && *p != '\t')
				return -EINVAL;
		} else
			while (*p && *p != ' ' && *p != '\t')
				w[n++] = *p++;
		w[n] = 0;
		if (n == 0)
			return -EINVAL;
		if (strv_push(&l, TAKE_PTR(w)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* Compatible=, Model=: globs; "!" before the first word negates every word of the assignment. */
static int assign_match_list(struct conf_target *t, const char *file, unsigned line,
			     const struct conf_key *k, const char *value, char ***l)
{
	_cleanup_strv_free_ char **words = NULL;
	bool negate = value[0] == '!';
	int r;

	r = split_quoted(value + negate, &words);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !words)
		return invalid(t, file, line, k, value,
			       "expected blank-separated patterns, \"quoted\" when they hold "
			       "blanks, optionally after one \"!\"");
	for (char **w = words; *w; w++) {
		char *e = strdup_printf("%s%s", negate ? "!" : "", *w);

		if (!e || strv_push(l, e) < 0)
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
		/* Kernel names never hold these: a pattern was meant, and would match nothing. */
		if (value[0] == '!' || strpbrk(value, "*?[")) {
			r = conf_diag(
				&t->diags, LOG_WARNING, file, line,
				"%s=%s is compared literally, not as a pattern or a negation; "
				"use DevicePath= or Compatible= for patterns",
				k->name, value);
			if (r < 0)
				return r;
		}
		return free_and_strdup(f, value);
	case T_FIRMWARE:
		/* An absolute path is read by rprocd itself, so it needs firmware staging. */
		if (!rproc_firmware_name_is_valid(value[0] == '/' ? value + 1 : value))
			return invalid(t, file, line, k, value,
				       "a firmware name is relative to the firmware search path "
				       "(or an absolute path, with firmware staging), at most 255 "
				       "bytes, without \"..\" or control characters");
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
	case T_DIGEST_LIST:
		return assign_list(t, file, line, k, value, f);
	case T_GROUP:
		if (!group_name_is_valid(value))
			return invalid(t, file, line, k, value, "not a valid group name");
		return free_and_strdup(f, value);
	case T_MATCH_LIST:
		return assign_match_list(t, file, line, k, value, f);
	}
	return -EINVAL;
}

/* Replace the specifiers of a value, then assign it. */
static int assign_expanded(struct conf_target *t, const char *file, unsigned line,
			   const struct conf_key *k, const char *value, void *f)
{
	_cleanup_free_ char *expanded = NULL, *why = NULL;
	bool unresolved = false;
	int r;

	r = conf_env_expand(t->env, value, &expanded, &why, &unresolved);
	if (r == -EINVAL)
		return invalid(t, file, line, k, value, why);
	if (r < 0)
		return r;
	r = assign_value(t, file, line, k, expanded, f);
	if (r < 0)
		return r;
	if (unresolved) {
		r = conf_diag(&t->diags, LOG_NOTICE, file, line,
			      "%s=%s: this root cannot tell %s; the running system resolves the "
			      "value, and the checks that need it are left to it",
			      k->name, value, strempty(why));
		if (r < 0)
			return r;
		*t->unresolved |= CONF_KEY_BIT(k->id);
	} else
		*t->unresolved &= ~CONF_KEY_BIT(k->id);
	return 0;
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
		if (!*value)
			r = reset_field(t, k, f);
		else if (k->flags & KEY_SPECIFIERS)
			r = assign_expanded(t, file, line, k, value, f);
		else
			r = assign_value(t, file, line, k, value, f);
		if (r == -EINVAL) {
			/* Recorded by invalid(): a strict key fails the file, any other is ignored. */
			if (!(k->flags & KEY_STRICT))
				return 0;
			if (t->daemon && !t->core)
				t->daemon->invalid[k->id] =
					(struct rproc_config_origin){ file, line };
			return -EINVAL;
		}
		if (r < 0)
			return r;
		if (*value)
			t->assigned |= CONF_KEY_BIT(k->id);
		else {
			t->assigned &= ~CONF_KEY_BIT(k->id);
			*t->unresolved &= ~CONF_KEY_BIT(k->id);
		}
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

/* Each pattern with its own "!" when negated, quoted when it holds blanks or quotes. */
static char *format_match_list(char *const *l)
{
	_cleanup_strv_free_ char **words = NULL;

	if (!l)
		return NULL;
	for (char *const *p = l; *p; p++) {
		bool negated = (*p)[0] == '!';
		const char *w = *p + negated;
		char *e;

		if (strpbrk(w, " \t\"\\")) {
			size_t n = 0;

			e = malloc(strlen(w) * 2 + 4);
			if (!e)
				return NULL;
			if (negated)
				e[n++] = '!';
			e[n++] = '"';
			for (; *w; w++) {
				if (*w == '"' || *w == '\\')
					e[n++] = '\\';
				e[n++] = *w;
			}
			e[n++] = '"';
			e[n] = 0;
		} else
			e = strdup(*p);
		if (!e || strv_push(&words, e) < 0)
			return NULL;
	}
	return strv_join(words, " ");
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
	case T_DIGEST_LIST:
		return *(char **const *) f ? strv_join(*(char **const *) f, " ") : NULL;
	case T_MATCH_LIST:
		return format_match_list(*(char **const *) f);
	}
	return NULL;
}
