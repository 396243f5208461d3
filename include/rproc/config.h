/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Configuration: one NAME.core file per managed core and the daemon-wide
 * rprocd.conf, both layered as systemd does. Directories in priority order:
 * /etc/rprocd, /run/rprocd, /usr/local/lib/rprocd, /usr/lib/rprocd (under the
 * context's root). The first directory that has a file of a name wins; a
 * symlink to /dev/null or an empty file (size 0) masks it; drop-ins NAME.d/
 * *.conf are collected from every directory, deduplicated by file name (first
 * directory wins), sorted by file name and applied in that order.
 *
 * Invalid values follow systemd's rule: reported at file:line and ignored,
 * the key keeps its earlier value, except for the strict keys (which core,
 * which image, whether to start it: see rprocd.core(5)), whose invalid value
 * leaves the core unmanaged.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/*
 * A diagnostic found while loading. LOG_ERR: an error (the core is not
 * managed, or it cannot work as written: a Requires= naming no core, a
 * firmware that is missing or invalid). LOG_WARNING: input that was ignored
 * (an unknown key, an invalid value of a key that is not strict). LOG_NOTICE:
 * information (a file not for this board, a value only the running system
 * can tell). `rprocctl verify` fails on errors and warnings.
 */
struct rproc_config_diag {
	int priority;  /* LOG_ERR, LOG_WARNING or LOG_NOTICE */
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
	rproc_usec_t update_confirm_usec; /* UpdateConfirmSec= */
};

/* Keys, for origins and for listing the merged configuration. */
enum rproc_config_key {
	RPROC_KEY_MATCH_NAME,
	RPROC_KEY_MATCH_DEVICE_PATH,
	RPROC_KEY_MATCH_COMPATIBLE,
	RPROC_KEY_MATCH_MODEL,
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
	RPROC_KEY_FIRMWARE_DIGEST,
	RPROC_KEY_FIRMWARE_STAGING,
	RPROC_KEY_FIRMWARE_STRICT_MODES,
	RPROC_KEY_UPDATE_CONFIRM_SEC,
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
	RPROC_CONFIG_KIND_LIST,	    /* words separated by spaces; one with a space, a quote or a
				       backslash in double quotes, \" and \\ escaped (a "!" before
				       the quote stays the word's) */
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
	char **match_compatible; /* [Match] Compatible= globs ("!" first: negated), may be NULL */
	char **match_model;	 /* [Match] Model= globs, likewise */
	char *description;
	char *firmware;
	char *fallback_firmware;
	int firmware_class;   /* 0, 32 or 64 */
	int firmware_machine; /* -1: any */
	char **requires;      /* NULL-terminated, may be NULL */
	char **after;
	char **ready_when;	 /* rpmsg channel names that make the core ready; may be NULL */
	char **firmware_digests; /* FirmwareDigest=: "sha256:HEX" the image must have; may be NULL */
	struct rproc_core_settings settings;

	char *path;	       /* the NAME.core in effect (the mask when masked) */
	char **dropins;	       /* drop-ins in the order applied */
	char **defaults_files; /* rprocd.conf files whose [Defaults] apply */
	bool masked;
	bool valid;	  /* false: an error makes the core unmanaged */
	bool other_board; /* [Match] Compatible=/Model= exclude this board: the file does not apply */
	uint64_t
		unresolved; /* bit (1 << key): the value keeps a specifier only the running system knows */
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

/* [Daemon] FirmwareStaging=: whether images are copied before the kernel loads them. */
enum rproc_firmware_staging {
	RPROC_FIRMWARE_STAGING_AUTO, /* where the kernel can reach the staging directory */
	RPROC_FIRMWARE_STAGING_YES,  /* always: a boot fails without the route */
	RPROC_FIRMWARE_STAGING_NO,   /* never: the kernel loads the file by its name */
	_RPROC_FIRMWARE_STAGING_MAX,
};

struct rproc_daemon_config {
	/* [Daemon] PollIntervalSec=: RPROC_POLL_INTERVAL_AUTO, RPROC_USEC_INFINITY (never), or > 0 */
	rproc_usec_t poll_interval_usec;
	enum rproc_kernel_events kernel_events; /* [Daemon] KernelEvents= */
	/* [Daemon] TraceIntervalSec=: RPROC_POLL_INTERVAL_AUTO (1 s), RPROC_USEC_INFINITY (off) */
	rproc_usec_t trace_interval_usec;
	char *admin_group;			      /* [Daemon] AdminGroup= */
	enum rproc_firmware_staging firmware_staging; /* [Daemon] FirmwareStaging= */
	bool firmware_strict_modes;		      /* [Daemon] FirmwareStrictModes= */
	struct rproc_core_settings defaults;	      /* [Defaults] */
	/* AdminGroup='s gid as rproc_config_set_load() found it; (gid_t) -1: none, or not found */
	gid_t admin_gid;

	char *path;
	char **dropins;
	bool valid; /* false: an error (syntax, an unreadable file, an invalid strict key) */
	struct rproc_config_origin origin[_RPROC_KEY_MAX];
	/* [Defaults] strict keys given an invalid value: where (file NULL: none). A core that
	 * does not set the key itself is not managed. */
	struct rproc_config_origin invalid[_RPROC_KEY_MAX];
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
#define RPROC_DEFAULT_UPDATE_CONFIRM_USEC	(30 * RPROC_USEC_PER_SEC)
#define RPROC_DEFAULT_COREDUMP_DIRECTORY	"/var/lib/rprocd/coredump"
#define RPROC_DEFAULT_COREDUMP_MAX_FILES	8
#define RPROC_DEFAULT_COREDUMP_MAX_USE		(64ULL * 1024 * 1024)

/** rproc_config_dirs() - the directories searched, highest priority first (static strings) */
const char *const *rproc_config_dirs(void);

/**
 * rproc_daemon_config_load() - read rprocd.conf and its drop-ins
 * @ret: always set on 0 and on -EBADMSG; free with rproc_daemon_config_free()
 *
 * Returns 0 (warnings, such as ignored invalid values, are in ->diags);
 * -EBADMSG when there are errors (a syntax error, an unreadable file, an
 * invalid value of a strict key in [Defaults]); the lines in error are
 * ignored and the keys keep their earlier values. Another negative errno when
 * the files could not be read at all.
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
 * The board ([Match] Compatible=, Model=) and specifiers are read under the
 * context's root. Checks across cores (cycles, Requires=, two files claiming
 * one core) are rproc_config_set_load()'s.
 *
 * Returns 0 (check ->masked, ->other_board), -EBADMSG when the core has an
 * error that leaves it unmanaged (->valid is false, ->diags says file:line) —
 * also for a file whose NAME cannot be a core's —, -ENOENT when no file of
 * that name exists, -EINVAL for an empty NAME or one with a '/', another
 * negative errno on I/O errors.
 */
int rproc_core_config_load(struct rproc_ctx *ctx, const char *name,
			   const struct rproc_daemon_config *defaults,
			   struct rproc_core_config **ret);
struct rproc_core_config *rproc_core_config_free(struct rproc_core_config *cfg);

/**
 * rproc_core_configs_check() - dependency cycles: a core whose Requires=/After=
 * lead back to itself is marked invalid, with an error naming the cycle at the
 * file:line of its Requires= (or After=). Masked, NULL and other boards'
 * entries are skipped. Returns 0, or -ENOMEM. (rproc_config_set_load() runs it.)
 */
int rproc_core_configs_check(struct rproc_core_config **cfgs, size_t n);

/* What rproc_config_set_load() checks besides the files themselves. */
enum rproc_config_set_flags {
	/* Resolve and validate every Firmware= and FallbackFirmware= (reads the images). */
	RPROC_CONFIG_SET_CHECK_FIRMWARE = 1 << 0,
};

/* The whole configuration as rprocd uses it. */
struct rproc_config_set {
	struct rproc_daemon_config *daemon;
	struct rproc_core_config **cores; /* one per NAME.core, sorted by NAME */
	size_t n_cores;
	bool board_known;	 /* false: an image root without a device tree */
	char **board_compatible; /* the device tree's compatible entries (NULL: none) */
	char *board_model;
	struct rproc_config_diag *diags; /* about no one file (a core that cannot be loaded) */
	size_t n_diags;
};

/**
 * rproc_config_set_load() - read and check the whole configuration
 * @flags: enum rproc_config_set_flags
 *
 * The one verification path of rprocd and `rprocctl verify`: rprocd.conf,
 * every NAME.core, then the checks across the set, which record their
 * diagnostics on the cores concerned: dependency cycles (the cores in one
 * are not managed), Requires= naming no configuration for this board (an
 * error; the core is managed and fails its dependency), two files claiming
 * one kernel core by the same [Match] Name= and DevicePath= (neither is
 * managed), and with RPROC_CONFIG_SET_CHECK_FIRMWARE the firmware found under
 * the root and valid. Files not for this board take no part in the checks
 * across cores; with the board unknown (an image root), all do, but two files
 * with different Compatible=/Model= are taken to be for different boards.
 *
 * Returns 0, -ENOENT or -ENOTDIR when the root is missing or not a
 * directory, -ENOMEM, or another negative errno when a directory could not be
 * listed. Free with rproc_config_set_free().
 */
int rproc_config_set_load(struct rproc_ctx *ctx, unsigned flags, struct rproc_config_set **ret);
struct rproc_config_set *rproc_config_set_free(struct rproc_config_set *set);

/** rproc_core_config_first_error() - the first LOG_ERR diagnostic, or NULL */
const struct rproc_config_diag *rproc_core_config_first_error(const struct rproc_core_config *cfg);

/**
 * rproc_core_config_format_value() - a key's value as it would be written
 * in a file ("yes", "500ms", "64M", "m4 dsp"). NULL when the key does not
 * apply to cores. Caller frees.
 */
char *rproc_core_config_format_value(const struct rproc_core_config *cfg,
				     enum rproc_config_key key);

/**
 * rproc_core_config_matches() - does a kernel core (name, devpath) match this config
 * A file for another board (->other_board) matches nothing.
 */
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
