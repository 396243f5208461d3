/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * librproc context: the root directory every kernel, configuration and
 * firmware path is resolved under, and the log callback through which the
 * library reports. The library never prints.
 */

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rproc_ctx;

/**
 * rproc_log_fn - receives the library's log messages
 * @userdata: the pointer given to rproc_ctx_set_log_fn()
 * @priority: a syslog priority (LOG_ERR … LOG_DEBUG)
 * @file, @line, @func: where in the library the message was raised
 * @format, @args: the message
 */
typedef void (*rproc_log_fn)(void *userdata, int priority, const char *file, int line,
			     const char *func, const char *format, va_list args);

/**
 * rproc_ctx_new() - create a library context
 * @root_dir: directory that stands for "/" (NULL or "/" for the real system)
 * @ret: the new context, with one reference
 *
 * Returns: 0 or a negative errno.
 */
int rproc_ctx_new(const char *root_dir, struct rproc_ctx **ret);
struct rproc_ctx *rproc_ctx_ref(struct rproc_ctx *ctx);
/** rproc_ctx_unref() - drop a reference; returns NULL. */
struct rproc_ctx *rproc_ctx_unref(struct rproc_ctx *ctx);

/** rproc_ctx_get_root() - the root directory, without a trailing slash ("" for "/"). */
const char *rproc_ctx_get_root(const struct rproc_ctx *ctx);

/**
 * rproc_ctx_set_image() - say whether the root is an OS image rather than a running system
 *
 * An image has no device tree under /proc or /sys, no boot ID, and maybe no
 * machine ID yet (it is set on the first boot). With this set, what only a
 * running system can tell is left open instead of being an error: files with
 * [Match] Compatible= or Model= are taken to apply (the board is unknown),
 * and a value with a specifier that cannot be known (%b, an unset %m) is kept
 * as written and noted. Default: false (the daemon's view of its own system).
 */
void rproc_ctx_set_image(struct rproc_ctx *ctx, int image);

/**
 * rproc_ctx_set_log_fn() - set where library messages go (default: nowhere)
 * Messages above the priority set with rproc_ctx_set_log_priority() (default
 * LOG_INFO) are not formatted at all.
 */
void rproc_ctx_set_log_fn(struct rproc_ctx *ctx, rproc_log_fn fn, void *userdata);
void rproc_ctx_set_log_priority(struct rproc_ctx *ctx, int priority);
int rproc_ctx_get_log_priority(const struct rproc_ctx *ctx);

/**
 * rproc_ctx_path() - map a path of the managed system onto the host
 * @path: an absolute path as the managed system sees it ("/sys/class/…")
 * @ret: newly allocated root + path
 *
 * Links on the way are left to the host kernel: right for sysfs and the
 * daemon's own state, whose links are relative or made by rprocd. Files of
 * the managed system's (configuration, firmware) go through rproc_ctx_chase().
 *
 * Returns: 0, -EINVAL for a relative path, -ENOMEM.
 */
int rproc_ctx_path(const struct rproc_ctx *ctx, const char *path, char **ret);

/* Flags of rproc_ctx_chase(). */
enum {
	/* A link as the last component is not followed (lstat()'s view). */
	RPROC_CHASE_NOFOLLOW = 1 << 0,
	/* A missing component is not an error: it and the rest are kept as written. */
	RPROC_CHASE_NONEXISTENT = 1 << 1,
};

/**
 * rproc_ctx_chase() - map a path of the managed system onto the host, links resolved in the root
 * @path: an absolute path as the managed system sees it ("/lib/firmware/m4.elf")
 * @flags: RPROC_CHASE_*
 * @ret_host: the host path, root + the resolved path (NULL: not wanted)
 * @ret_path: the resolved path as the managed system sees it (NULL: not wanted)
 *
 * Under a root (an image, a test tree), every symlink on the way is resolved
 * in the root, as the managed system would: an absolute target starts again
 * at the root, ".." never leaves it. The host path that comes out had no
 * link below the root when it was walked: the host kernel cannot follow one
 * out of it unless the tree changes between the walk and the use (so run
 * verify on a tree only trusted users can write while it runs). For
 * the real system ("/") the path is returned as given (a component not
 * there is found when the host path is used, and ret_path is not resolved).
 *
 * Returns: 0, -EINVAL for a relative path, -ENOMEM, or what the walk meets
 * (-ENOENT, -ENOTDIR, -ELOOP after 40 links, -EACCES).
 */
int rproc_ctx_chase(const struct rproc_ctx *ctx, const char *path, unsigned flags, char **ret_host,
		    char **ret_path);

#ifdef __cplusplus
}
#endif
