/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A core's rpmsg channels, as sysfs shows them: every device on the rpmsg
 * bus whose device path lies under the core's (the remoteproc core makes the
 * virtio device a child of the rproc device, virtio_rpmsg_bus its channels
 * children of that). The Linux device of a client driver (rpmsg_tty's
 * ttyRPMSGn, rpmsg_char's rpmsgN, rpmsg_ctrl's rpmsg_ctrlN) is a class
 * device below the channel's: its /dev node is the channel's node.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "librproc.h"

struct rpmsg_channel {
	char *name;   /* the announced name: "rpmsg-tty" */
	uint32_t src; /* Linux's address */
	uint32_t dst; /* the remote's address (RPMSG_ADDR_ANY: none) */
	char *device; /* the rpmsg device: "virtio0.rpmsg-tty.-1.1024" */
	char *node;   /* "/dev/ttyRPMSG0", or NULL when no driver made one */
};

struct rpmsg_channels {
	struct rpmsg_channel *v;
	size_t n;
};

/*
 * Read the channels of every core at once (one pass over the bus):
 * devpaths[i] is core i's device path as rproc_device_get_devpath() gives it;
 * ret[i] receives its channels, sorted by device name. Devices that vanish
 * while being read are skipped. 0 or a negative errno (ret untouched).
 */
int rpmsg_channels_read(const struct rproc_ctx *ctx, const char *const *devpaths, size_t n,
			struct rpmsg_channels *ret);

void rpmsg_channels_clear(struct rpmsg_channels *l);
bool rpmsg_channels_equal(const struct rpmsg_channels *a, const struct rpmsg_channels *b);

/* One line per channel, "name src dst device node" (for logs and change detection). */
char *rpmsg_channels_format(const struct rpmsg_channels *l);

/* The channel of that name, or NULL. */
const struct rpmsg_channel *rpmsg_channels_find(const struct rpmsg_channels *l, const char *name);
