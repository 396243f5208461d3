/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/remoteproc_cdev.h>
#include <sys/ioctl.h>

#include "context-internal.h"
#include "device-internal.h"

int rproc_cdev_open(struct rproc_device *dev)
{
	_cleanup_free_ char *p = NULL;
	int fd, r;

	r = rproc_ctx_path(rproc_device_get_ctx(dev), rproc_device_get_devnode(dev), &p);
	if (r < 0)
		return r;
	fd = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	return fd;
}

int rproc_cdev_request(int fd, enum rproc_command cmd)
{
	const char *w = rproc_command_to_string(cmd);
	ssize_t n;

	if (!w || fd < 0)
		return -EINVAL;
	/* The chardev compares the exact bytes: no newline, no NUL. */
	do
		n = write(fd, w, strlen(w));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	return (size_t) n == strlen(w) ? 0 : -EIO;
}

int rproc_cdev_set_shutdown_on_release(int fd, bool enable)
{
	__s32 v = enable;

	if (ioctl(fd, RPROC_SET_SHUTDOWN_ON_RELEASE, &v) < 0)
		return negative_errno();
	return 0;
}

int rproc_cdev_get_shutdown_on_release(int fd, bool *ret)
{
	__s32 v = 0;

	if (ioctl(fd, RPROC_GET_SHUTDOWN_ON_RELEASE, &v) < 0)
		return negative_errno();
	*ret = v != 0;
	return 0;
}
