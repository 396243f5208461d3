/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel as rprocd sees it: every read and write of a core's state goes
 * through one of these calls. The daemon is given a struct kernel; rprocd
 * itself uses kernel_sysfs (librproc on /sys and /dev/remoteprocN), the host
 * tests a model of the remoteproc core (tests/model/). Identity (sysname,
 * name, device path) and enumeration stay with librproc's struct
 * rproc_device and the root directory of its context.
 *
 * Every call returns 0 or the kernel's negative errno, unchanged. Writes and
 * requests block for as long as the kernel takes (a whole firmware load):
 * the daemon makes them from worker threads only; reads do not block.
 */

#include <stdbool.h>

#include "librproc.h"

struct kernel_ops {
	int (*read_state)(void *userdata, struct rproc_device *dev, enum rproc_state *ret);
	int (*read_firmware)(void *userdata, struct rproc_device *dev, char **ret);
	int (*read_recovery)(void *userdata, struct rproc_device *dev, bool *ret_enabled);
	int (*read_coredump)(void *userdata, struct rproc_device *dev,
			     enum rproc_coredump_mode *ret);
	int (*write_firmware)(void *userdata, struct rproc_device *dev, const char *name);
	int (*write_recovery)(void *userdata, struct rproc_device *dev,
			      enum rproc_recovery_cmd cmd);
	int (*write_coredump)(void *userdata, struct rproc_device *dev,
			      enum rproc_coredump_mode mode);
	/* start, stop or detach through the "state" attribute */
	int (*request)(void *userdata, struct rproc_device *dev, enum rproc_command cmd);

	/* /dev/remoteprocN: an fd the caller owns until cdev_close() */
	int (*cdev_open)(void *userdata, struct rproc_device *dev);
	int (*cdev_request)(void *userdata, int fd, enum rproc_command cmd);
	int (*cdev_set_shutdown_on_release)(void *userdata, int fd, bool enable);
	/* Close an fd from cdev_open() (or a copy handed back by the fd store). */
	void (*cdev_close)(void *userdata, int fd);
	/* Is fd (from the fd store) an open chardev of exactly this device? */
	bool (*cdev_is_device)(void *userdata, int fd, struct rproc_device *dev);
};

struct kernel {
	const struct kernel_ops *ops;
	void *userdata;
};

/* The real kernel: librproc's sysfs and chardev calls. */
extern const struct kernel kernel_sysfs;

static inline int kernel_read_state(const struct kernel *k, struct rproc_device *dev,
				    enum rproc_state *ret)
{
	return k->ops->read_state(k->userdata, dev, ret);
}
static inline int kernel_read_firmware(const struct kernel *k, struct rproc_device *dev, char **ret)
{
	return k->ops->read_firmware(k->userdata, dev, ret);
}
static inline int kernel_read_recovery(const struct kernel *k, struct rproc_device *dev, bool *ret)
{
	return k->ops->read_recovery(k->userdata, dev, ret);
}
static inline int kernel_read_coredump(const struct kernel *k, struct rproc_device *dev,
				       enum rproc_coredump_mode *ret)
{
	return k->ops->read_coredump(k->userdata, dev, ret);
}
static inline int kernel_write_firmware(const struct kernel *k, struct rproc_device *dev,
					const char *name)
{
	return k->ops->write_firmware(k->userdata, dev, name);
}
static inline int kernel_write_recovery(const struct kernel *k, struct rproc_device *dev,
					enum rproc_recovery_cmd cmd)
{
	return k->ops->write_recovery(k->userdata, dev, cmd);
}
static inline int kernel_write_coredump(const struct kernel *k, struct rproc_device *dev,
					enum rproc_coredump_mode mode)
{
	return k->ops->write_coredump(k->userdata, dev, mode);
}
static inline int kernel_request(const struct kernel *k, struct rproc_device *dev,
				 enum rproc_command cmd)
{
	return k->ops->request(k->userdata, dev, cmd);
}
static inline int kernel_cdev_open(const struct kernel *k, struct rproc_device *dev)
{
	return k->ops->cdev_open(k->userdata, dev);
}
static inline int kernel_cdev_request(const struct kernel *k, int fd, enum rproc_command cmd)
{
	return k->ops->cdev_request(k->userdata, fd, cmd);
}
static inline int kernel_cdev_set_shutdown_on_release(const struct kernel *k, int fd, bool enable)
{
	return k->ops->cdev_set_shutdown_on_release(k->userdata, fd, enable);
}
static inline void kernel_cdev_close(const struct kernel *k, int fd)
{
	if (fd >= 0)
		k->ops->cdev_close(k->userdata, fd);
}
static inline bool kernel_cdev_is_device(const struct kernel *k, int fd, struct rproc_device *dev)
{
	return k->ops->cdev_is_device(k->userdata, fd, dev);
}
