/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real kernel behind struct kernel: librproc on /sys/class/remoteproc and /dev/remoteprocN. */
#include <sys/stat.h>
#include <unistd.h>

#include "device-internal.h"
#include "kernel.h"
#include "util.h"

static int k_read_state(void *u, struct rproc_device *dev, enum rproc_state *ret)
{
	return rproc_device_read_state(dev, ret);
}
static int k_read_firmware(void *u, struct rproc_device *dev, char **ret)
{
	return rproc_device_read_firmware(dev, ret);
}
static int k_read_recovery(void *u, struct rproc_device *dev, bool *ret)
{
	return rproc_device_read_recovery(dev, ret);
}
static int k_read_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode *ret)
{
	return rproc_device_read_coredump(dev, ret);
}
static int k_write_firmware(void *u, struct rproc_device *dev, const char *name)
{
	return rproc_device_write_firmware(dev, name);
}
static int k_write_recovery(void *u, struct rproc_device *dev, enum rproc_recovery_cmd cmd)
{
	return rproc_device_write_recovery(dev, cmd);
}
static int k_write_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode mode)
{
	return rproc_device_write_coredump(dev, mode);
}
static int k_request(void *u, struct rproc_device *dev, enum rproc_command cmd)
{
	return rproc_device_request(dev, cmd, RPROC_VIA_SYSFS);
}
static int k_cdev_open(void *u, struct rproc_device *dev)
{
	return rproc_cdev_open(dev);
}
static int k_cdev_request(void *u, int fd, enum rproc_command cmd)
{
	return rproc_cdev_request(fd, cmd);
}
static int k_cdev_set_sor(void *u, int fd, bool enable)
{
	return rproc_cdev_set_shutdown_on_release(fd, enable);
}
static void k_cdev_close(void *u, int fd)
{
	(void) close(fd);
}

/*
 * The very node the fd was opened on: its device number, and its inode, since
 * a remoteprocN that went away and came back (another device, the same
 * number) gets a new node in devtmpfs.
 */
static bool k_cdev_is_device(void *u, int fd, struct rproc_device *dev)
{
	_cleanup_free_ char *node = NULL;
	struct stat st, fst;

	if (rproc_ctx_path(rproc_device_get_ctx(dev), rproc_device_get_devnode(dev), &node) < 0 ||
	    stat(node, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	return fstat(fd, &fst) == 0 && S_ISCHR(fst.st_mode) && fst.st_rdev == st.st_rdev &&
	       fst.st_dev == st.st_dev && fst.st_ino == st.st_ino;
}

static const struct kernel_ops sysfs_ops = {
	.read_state = k_read_state,
	.read_firmware = k_read_firmware,
	.read_recovery = k_read_recovery,
	.read_coredump = k_read_coredump,
	.write_firmware = k_write_firmware,
	.write_recovery = k_write_recovery,
	.write_coredump = k_write_coredump,
	.request = k_request,
	.cdev_open = k_cdev_open,
	.cdev_request = k_cdev_request,
	.cdev_set_shutdown_on_release = k_cdev_set_sor,
	.cdev_close = k_cdev_close,
	.cdev_is_device = k_cdev_is_device,
};

const struct kernel kernel_sysfs = { .ops = &sysfs_ops, .userdata = NULL };
