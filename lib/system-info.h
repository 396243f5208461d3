/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the managed system says about itself, read under the context's root:
 * the test seam, and the image's own values when rprocctl looks at an image
 * (never the host's, except where the root is the host: gethostname() and
 * uname() then stand for the running system, as in systemd).
 *
 * Each returns 0 with a newly allocated string, -ENOENT when the system has
 * no such value (an image has no boot ID, a board without a device tree no
 * compatible), -ENOMEDIUM for a machine ID that is not set yet (an image's
 * empty or "uninitialized" /etc/machine-id), -EINVAL when the file holds
 * something malformed, -ENOMEM, or another negative errno.
 */

#include "context-internal.h"

/* The kernel's release: /proc/sys/kernel/osrelease; uname() on the host; an image's only /lib/modules/X. */
int sysinfo_kernel_release(const struct rproc_ctx *ctx, char **ret);
/* The host name: gethostname() on the host (unless unset: "(none)"), else the root's /etc/hostname. */
int sysinfo_hostname(const struct rproc_ctx *ctx, char **ret);
/* /etc/machine-id as 32 lowercase hex digits. */
int sysinfo_machine_id(const struct rproc_ctx *ctx, char **ret);
/* /proc/sys/kernel/random/boot_id as 32 lowercase hex digits (no dashes, as systemd's %b). */
int sysinfo_boot_id(const struct rproc_ctx *ctx, char **ret);

/* Where the device tree is read, in order (the first is a symlink to the second on Linux). */
#define SYSINFO_DT_DIRS                                              \
	{                                                            \
		"/proc/device-tree", "/sys/firmware/devicetree/base" \
	}

/*
 * The device tree's compatible list (NUL-separated in the file; empty entries
 * dropped) and model. Returns -ENOENT when neither file exists in either
 * directory (no device tree); a missing model alone gives *ret_model NULL.
 */
int sysinfo_board(const struct rproc_ctx *ctx, char ***ret_compatible, char **ret_model);
