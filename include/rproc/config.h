/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Configuration: one NAME.core file per managed core and the daemon-wide
 * rprocd.conf, both layered as systemd does. Directories in priority order:
 * /etc/rprocd, /run/rprocd, /usr/local/lib/rprocd, /usr/lib/rprocd (under the
 * context's root). The first directory that has a file of a name wins; a
 * symlink to /dev/null masks it; drop-ins NAME.d/ *.conf are collected from
 * every directory, deduplicated by file name (first directory wins), sorted
 * by file name and applied in that order.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rproc/context.h"
#include "rproc/firmware.h"
#include "rproc/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t rproc_usec_t;
#define RPROC_USEC_INFINITY ((rproc_usec_t) UINT64_MAX)
#define RPROC_USEC_PER_SEC  ((rproc_usec_t) 1000000ULL)
#define RPROC_USEC_PER_MSEC ((rproc_usec_t) 1000ULL)

enum rproc_start_policy {
	RPROC_START_AUTO,   /* attach if detached, adopt if running, boot if offline */
	RPROC_START_BOOT,   /* boot from firmware; adopt if running */
	RPROC_START_ATTACH, /* only attach or adopt */
	RPROC_START_NO,	    /* leave it until asked */
	_RPROC_START_MAX,
};

enum rproc_stop_policy {
	RPROC_STOP_SHUTDOWN,
	RPROC_STOP_DETACH,
	_RPROC_STOP_MAX,
};

enum rproc_crash_policy {
	RPROC_CRASH_KERNEL,  /* the kernel's recovery acts; the daemon observes */
	RPROC_CRASH_RESTART, /* kernel recovery off; the daemon recovers */
	RPROC_CRASH_LEAVE,   /* kernel recovery off; leave it crashed */
	_RPROC_CRASH_MAX,
};

enum rproc_exit_policy {
	RPROC_EXIT_LEAVE,
	RPROC_EXIT_STOP,
	RPROC_EXIT_DETACH,
	_RPROC_EXIT_MAX,
};

/* OnReadyTimeout=: a core up for ReadyTimeoutSec= without its ReadyWhen= channels. */
enum rproc_ready_timeout_policy {
	RPROC_READY_TIMEOUT_RESTART, /* stop and boot it again, counted against the start limit */
	RPROC_READY_TIMEOUT_LEAVE,   /* report it, leave it running */
	RPROC_READY_TIMEOUT_STOP,    /* stop it */
	_RPROC_READY_TIMEOUT_MAX,
};

const char *rproc_start_policy_to_string(enum rproc_start_policy p);
const char *rproc_stop_policy_to_string(enum rproc_stop_policy p);
const char *rproc_crash_policy_to_string(enum rproc_crash_policy p);
const char *rproc_exit_policy_to_string(enum rproc_exit_policy p);
const char *rproc_ready_timeout_policy_to_string(enum rproc_ready_timeout_policy p);

/* Where a setting came from. file is NULL for a built-in default. */
struct rproc_config_origin {
	const char *file;
	unsigned line;
};

/* A diagnostic found while loading: a warning (ignored input) or an error. */
struct rproc_config_diag {
	int priority;  /* LOG_WARNING or LOG_ERR */
	char *file;    /* path as the managed system sees it */
	unsigned line; /* 0 when it concerns the whole file */
	char *message;
};

/* Settings that rprocd.conf [Defaults] may give every core. */
struct rproc_core_settings {
	enum rproc_start_policy start;
	enum rproc_stop_policy stop;
	enum rproc_crash_policy on_crash;
	enum rproc_exit_policy on_exit;
	rproc_usec_t restart_usec;		/* RestartSec= */
	unsigned start_limit_burst;		/* StartLimitBurst= */
	rproc_usec_t start_limit_interval_usec; /* StartLimitIntervalSec= */
	rproc_usec_t settle_usec;		/* SettleSec= */
	enum rproc_coredump_mode coredump;
	char *coredump_directory;
	unsigned coredump_max_files;
	uint64_t coredump_max_use;
	bool bind_lifetime;
	enum rproc_fw_format firmware_format;
	rproc_usec_t ready_timeout_usec; /* ReadyTimeoutSec= */
	enum rproc_ready_timeout_policy on_ready_timeout;
};

/* Keys, for origins and for listing the merged configuration. */
enum rproc_config_key {
	RPROC_KEY_MATCH_NAME,
	RPROC_KEY_MATCH_DEVICE_PATH,
	RPROC_KEY_DESCRIPTION,
	RPROC_KEY_FIRMWARE,
	RPROC_KEY_FALLBACK_FIRMWARE,
	RPROC_KEY_FIRMWARE_CLASS,
	RPROC_KEY_FIRMWARE_MACHINE,
	RPROC_KEY_FIRMWARE_FORMAT,
	RPROC_KEY_START,
	RPROC_KEY_STOP,
	RPROC_KEY_ON_CRASH,
	RPROC_KEY_ON_EXIT,
	RPROC_KEY_RESTART_SEC,
	RPROC_KEY_START_LIMIT_BURST,
	RPROC_KEY_START_LIMIT_INTERVAL_SEC,
	RPROC_KEY_SETTLE_SEC,
	RPROC_KEY_COREDUMP,
	RPROC_KEY_COREDUMP_DIRECTORY,
	RPROC_KEY_COREDUMP_MAX_FILES,
	RPROC_KEY_COREDUMP_MAX_USE,
	RPROC_KEY_BIND_LIFETIME,
	RPROC_KEY_REQUIRES,
	RPROC_KEY_AFTER,
	RPROC_KEY_POLL_INTERVAL_SEC,
	RPROC_KEY_ADMIN_GROUP,
	RPROC_KEY_KERNEL_EVENTS,
	RPROC_KEY_READY_WHEN,
	RPROC_KEY_READY_TIMEOUT_SEC,
	RPROC_KEY_ON_READY_TIMEOUT,
	RPROC_KEY_TRACE_INTERVAL_SEC,
	_RPROC_KEY_MAX,
};
/** rproc_config_key_name() - "Section.Key", e.g. "Core.Firmware" */
const char *rproc_config_key_name(enum rproc_config_key key);

/* What a key's value is, for typed output (rprocctl --json). */
enum rproc_config_kind {
	RPROC_CONFIG_KIND_STRING,   /* text, a name, a path, one of a set of words */
	RPROC_CONFIG_KIND_BOOLEAN,  /* yes or no */
	RPROC_CONFIG_KIND_UNSIGNED, /* a number */
	RPROC_CONFIG_KIND_SIZE,	    /* bytes (a K, M, G or T suffix in files) */
	RPROC_CONFIG_KIND_TIMESPAN, /* a time span, µs ("infinity": RPROC_USEC_INFINITY) */
	RPROC_CONFIG_KIND_POLL,	    /* "auto", or a time span */
	RPROC_CONFIG_KIND_LIST,	    /* words separated by spaces */
};
/**
 * rproc_config_key_kind() - how the value of key is typed, so that its
 * rproc_core_config_format_value() text can be read back as a number, a
 * boolean or a list. RPROC_CONFIG_KIND_STRING for an unknown key.
 */
enum rproc_config_kind rproc_config_key_kind(enum rproc_config_key key);

struct rproc_core_config {
	char *name;		 /* NAME of NAME.core */
	char *match_name;	 /* [Match] Name= (default: NAME) */
	char *match_device_path; /* [Match] DevicePath= glob, or NULL */
	char *description;
	char *firmware;
	char *fallback_firmware;
	int firmware_class;   /* 0, 32 or 64 */
	int firmware_machine; /* -1: any */
	char **requires;      /* NULL-terminated, may be NULL */
	char **after;
	char **ready_when; /* rpmsg channel names that make the core ready; may be NULL */
	struct rproc_core_settings settings;

	char *path;	       /* the NAME.core in effect (the mask when masked) */
	char **dropins;	       /* drop-ins in the order applied */
	char **defaults_files; /* rprocd.conf files whose [Defaults] apply */
	bool masked;
	bool valid; /* false: an error makes the core unmanaged */
	struct rproc_config_origin origin[_RPROC_KEY_MAX];
	struct rproc_config_diag *diags;
	size_t n_diags;
};

/* [Daemon] KernelEvents=: how rprocd learns that the kernel changed a core. */
enum rproc_kernel_events {
	RPROC_KERNEL_EVENTS_AUTO,  /* every source that works here */
	RPROC_KERNEL_EVENTS_KMSG,  /* the kernel log (/dev/kmsg) only */
	RPROC_KERNEL_EVENTS_SYSFS, /* poll(POLLPRI) on "state" only (a kernel that notifies) */
	RPROC_KERNEL_EVENTS_NO,	   /* none: the poll alone */
	_RPROC_KERNEL_EVENTS_MAX,
};
const char *rproc_kernel_events_to_string(enum rproc_kernel_events e);

struct rproc_daemon_config {
	/* [Daemon] PollIntervalSec=: RPROC_POLL_INTERVAL_AUTO, RPROC_USEC_INFINITY (never), or > 0 */
	rproc_usec_t poll_interval_usec;
	enum rproc_kernel_events kernel_events; /* [Daemon] KernelEvents= */
	/* [Daemon] TraceIntervalSec=: RPROC_POLL_INTERVAL_AUTO (1 s), RPROC_USEC_INFINITY (off) */
	rproc_usec_t trace_interval_usec;
	char *admin_group;		     /* [Daemon] AdminGroup= */
	struct rproc_core_settings defaults; /* [Defaults] */

	char *path;
	char **dropins;
	bool valid;
	struct rproc_config_origin origin[_RPROC_KEY_MAX];
	struct rproc_config_diag *diags;
	size_t n_diags;
};

/* Built-in defaults. */
/*
 * PollIntervalSec=auto: the safety poll's interval while an event source
 * works, and the poll's interval when none does.
 */
#define RPROC_POLL_INTERVAL_AUTO		0
#define RPROC_DEFAULT_SAFETY_POLL_INTERVAL_USEC (30 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_POLL_INTERVAL_USEC	(500 * RPROC_USEC_PER_MSEC)
#define RPROC_DEFAULT_RESTART_USEC		(100 * RPROC_USEC_PER_MSEC)
#define RPROC_DEFAULT_START_LIMIT_BURST		5
#define RPROC_DEFAULT_START_LIMIT_INTERVAL_USEC (10 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_SETTLE_USEC		(1 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_READY_TIMEOUT_USEC	(30 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_TRACE_INTERVAL_USEC	(1 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_COREDUMP_DIRECTORY	"/var/lib/rprocd/coredump"
#define RPROC_DEFAULT_COREDUMP_MAX_FILES	8
#define RPROC_DEFAULT_COREDUMP_MAX_USE		(64ULL * 1024 * 1024)

/** rproc_config_dirs() - the directories searched, highest priority first (static strings) */
const char *const *rproc_config_dirs(void);

/**
 * rproc_daemon_config_load() - read rprocd.conf and its drop-ins
 * @ret: always set on 0 and on -EBADMSG; free with rproc_daemon_config_free()
 *
 * Returns 0; -EBADMSG when a value is invalid (the diagnostics say where;
 * the fields hold built-in defaults for the settings that failed);
 * another negative errno when the files could not be read at all.
 */
int rproc_daemon_config_load(struct rproc_ctx *ctx, struct rproc_daemon_config **ret);
struct rproc_daemon_config *rproc_daemon_config_free(struct rproc_daemon_config *cfg);

/**
 * rproc_core_config_list() - the NAMEs of every NAME.core in any directory
 * Masked cores are listed too (loading them gives masked = true). Sorted.
 */
int rproc_core_config_list(struct rproc_ctx *ctx, char ***ret_names);

/**
 * rproc_core_config_load() - read NAME.core and its drop-ins
 * @defaults: the daemon's configuration (NULL: built-in defaults)
 * @ret: set on 0 and on -EBADMSG, free with rproc_core_config_free()
 *
 * Returns 0 (check ->masked), -EBADMSG when the core has an invalid setting
 * (->valid is false, ->diags says file:line) — also for a file whose NAME
 * cannot be a core's —, -ENOENT when no file of that name exists, -EINVAL for
 * an empty NAME or one with a '/', another negative errno on I/O errors.
 */
int rproc_core_config_load(struct rproc_ctx *ctx, const char *name,
			   const struct rproc_daemon_config *defaults,
			   struct rproc_core_config **ret);
struct rproc_core_config *rproc_core_config_free(struct rproc_core_config *cfg);

/**
 * rproc_core_configs_check() - checks across cores: a core whose Requires=/After=
 * lead back to itself is marked invalid, with an error naming the cycle at the
 * file:line of its Requires= (or After=). Masked and NULL entries are skipped.
 * Returns 0, or -ENOMEM.
 */
int rproc_core_configs_check(struct rproc_core_config **cfgs, size_t n);

/** rproc_core_config_first_error() - the first LOG_ERR diagnostic, or NULL */
const struct rproc_config_diag *rproc_core_config_first_error(const struct rproc_core_config *cfg);

/**
 * rproc_core_config_format_value() - a key's value as it would be written
 * in a file ("yes", "500ms", "64M", "m4 dsp"). NULL when the key does not
 * apply to cores. Caller frees.
 */
char *rproc_core_config_format_value(const struct rproc_core_config *cfg,
				     enum rproc_config_key key);

/** rproc_core_config_matches() - does a kernel core (name, devpath) match this config */
bool rproc_core_config_matches(const struct rproc_core_config *cfg, const char *kernel_name,
			       const char *devpath);

/** rproc_core_name_is_valid() - a NAME usable as a core name: [A-Za-z0-9_.-@:], 1–64 chars */
bool rproc_core_name_is_valid(const char *name);

/* Value parsers, shared with the daemon and rprocctl. Return 0 or -EINVAL/-ERANGE. */
int rproc_parse_boolean(const char *s); /* 1, 0 or -EINVAL */
int rproc_parse_timespan(const char *s, rproc_usec_t *ret);
int rproc_parse_size(const char *s, uint64_t *ret);
int rproc_parse_unsigned(const char *s, unsigned *ret);
/** rproc_format_timespan() - "500ms", "2s", "1min 30s", "infinity" into buf */
char *rproc_format_timespan(char *buf, size_t len, rproc_usec_t usec);

#ifdef __cplusplus
}
#endif
