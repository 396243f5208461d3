/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * BindLifetime=: rprocd holds /dev/remoteprocN with shutdown-on-release set,
 * so the core stops when rprocd dies, and gives systemd's fd store a copy so
 * that a deliberate restart of the service does not stop it.
 *
 * The flag belongs to the processor, not to the fd, and the kernel acts on
 * the release of any fd: so there is never more than one held per core, an
 * old one is let go (flag cleared) before a new boot, and one that belongs to
 * a device that went away leaves the fd store too.
 */
#include <stdio.h>

#include "core.h"
#include "kernel.h"
#include "log.h"
#include "manager.h"
#include "util.h"

char *core_cdev_fdname(const struct core *c)
{
	return strdup_printf("rproc-%s", rproc_device_get_sysname(c->dev));
}

void core_take_cdev(struct core *c, int fd)
{
	_cleanup_free_ char *msg = NULL, *name = core_cdev_fdname(c);
	struct manager *m = c->manager;
	int r;

	if (c->cdev_fd >= 0 && c->cdev_fd != fd)
		core_release_cdev(c, false);
	c->cdev_fd = fd;
	msg = name ? strdup_printf("FDSTORE=1\nFDNAME=%s", name) : NULL;
	if (!msg || !m->notify)
		return;
	r = m->notify(m->notify_userdata, msg, &fd, 1);
	if (r < 0)
		log_warning_errno(r, "%s: cannot store the chardev with the service manager: %m",
				  c->name);
}

void core_release_cdev(struct core *c, bool clear)
{
	_cleanup_free_ char *msg = NULL, *name = NULL;
	const struct kernel *k = c->manager->kernel;

	if (c->cdev_fd < 0)
		return;
	if (clear)
		(void) kernel_cdev_set_shutdown_on_release(k, c->cdev_fd, false);
	name = core_cdev_fdname(c);
	msg = name ? strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", name) : NULL;
	if (msg)
		(void) manager_notify(c->manager, msg);
	kernel_cdev_close(k, c->cdev_fd);
	c->cdev_fd = -1;
}
