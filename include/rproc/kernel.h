/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel's remoteproc ABI: /sys/class/remoteproc/remoteprocN and
 * /dev/remoteprocN. Every function returns 0 (or a positive count) on
 * success and the kernel's negative errno, unchanged, on failure.
 * Writes to "state" and to the character device block for as long as the
 * kernel takes (a whole firmware load and boot): never call them from an
 * event loop thread.
 */

#include <stdbool.h>
#include <stddef.h>

#include "rproc/context.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rproc_state {
	RPROC_STATE_OFFLINE,
	RPROC_STATE_SUSPENDED,
	RPROC_STATE_RUNNING,
	RPROC_STATE_CRASHED,
	RPROC_STATE_DELETED,
	RPROC_STATE_ATTACHED,
	RPROC_STATE_DETACHED,
	RPROC_STATE_INVALID,
	_RPROC_STATE_MAX,
};

/**
 * rproc_state_from_string() - parse the kernel's word for a state
 * Trailing white space (the kernel's newline) is ignored. NULL, an empty
 * string or any unknown word gives RPROC_STATE_INVALID.
 */
enum rproc_state rproc_state_from_string(const char *s);
/** rproc_state_to_string() - the kernel's word; "invalid" for out-of-range values. */
const char *rproc_state_to_string(enum rproc_state state);

enum rproc_coredump_mode {
	RPROC_COREDUMP_DISABLED,
	RPROC_COREDUMP_ENABLED,
	RPROC_COREDUMP_INLINE,
	_RPROC_COREDUMP_MAX,
	RPROC_COREDUMP_INVALID = -1,
};
enum rproc_coredump_mode rproc_coredump_mode_from_string(const char *s);
const char *rproc_coredump_mode_to_string(enum rproc_coredump_mode mode);

/* Words accepted by the "recovery" attribute. */
enum rproc_recovery_cmd {
	RPROC_RECOVERY_ENABLED,
	RPROC_RECOVERY_DISABLED,
	RPROC_RECOVERY_RECOVER,
	_RPROC_RECOVERY_MAX,
};

/* Requests accepted by "state" and by the character device. */
enum rproc_command {
	RPROC_CMD_START,
	RPROC_CMD_STOP,
	RPROC_CMD_DETACH,
	_RPROC_CMD_MAX,
};
const char *rproc_command_to_string(enum rproc_command cmd);

/* A remoteproc device of the kernel, as found under the context's root. */
struct rproc_device;

/**
 * rproc_device_enumerate() - list /sys/class/remoteproc
 * @ret_devices: array of devices (free with rproc_device_list_free())
 * @ret_n: number of devices
 *
 * A missing /sys/class/remoteproc (no remoteproc support, no device) is an
 * empty list, not an error. Devices are sorted by index.
 */
int rproc_device_enumerate(struct rproc_ctx *ctx, struct rproc_device ***ret_devices,
			   size_t *ret_n);
void rproc_device_list_free(struct rproc_device **devices, size_t n);

/**
 * rproc_device_new() - open one device by its sysfs name ("remoteproc3")
 * Returns -ENODEV when it does not exist, -EINVAL for a malformed name.
 */
int rproc_device_new(struct rproc_ctx *ctx, const char *sysname, struct rproc_device **ret);
struct rproc_device *rproc_device_ref(struct rproc_device *dev);
struct rproc_device *rproc_device_unref(struct rproc_device *dev);

/** rproc_device_get_sysname() - "remoteprocN" */
const char *rproc_device_get_sysname(const struct rproc_device *dev);
/** rproc_device_get_index() - N of remoteprocN */
unsigned rproc_device_get_index(const struct rproc_device *dev);
/** rproc_device_get_name() - the "name" attribute, read when the device was opened */
const char *rproc_device_get_name(const struct rproc_device *dev);
/**
 * rproc_device_get_devpath() - the device's resolved sysfs path as the
 * managed system sees it ("/sys/devices/platform/…/remoteproc/remoteproc0")
 */
const char *rproc_device_get_devpath(const struct rproc_device *dev);
/** rproc_device_get_devnode() - "/dev/remoteprocN" (it may not exist) */
const char *rproc_device_get_devnode(const struct rproc_device *dev);

/**
 * rproc_device_read_attr() - read one attribute, trailing white space removed
 * @attr: "name", "state", "firmware", "recovery", "coredump", …
 */
int rproc_device_read_attr(struct rproc_device *dev, const char *attr, char **ret);
int rproc_device_read_state(struct rproc_device *dev, enum rproc_state *ret);
int rproc_device_read_firmware(struct rproc_device *dev, char **ret);
/** rproc_device_read_recovery() - *ret is true for "enabled" (-EBADMSG for other words) */
int rproc_device_read_recovery(struct rproc_device *dev, bool *ret_enabled);
int rproc_device_read_coredump(struct rproc_device *dev, enum rproc_coredump_mode *ret);

/**
 * rproc_device_write_attr() - write one attribute (bytes as given, no newline)
 */
int rproc_device_write_attr(struct rproc_device *dev, const char *attr, const char *value);
int rproc_device_write_firmware(struct rproc_device *dev, const char *name);
int rproc_device_write_recovery(struct rproc_device *dev, enum rproc_recovery_cmd cmd);
int rproc_device_write_coredump(struct rproc_device *dev, enum rproc_coredump_mode mode);

enum rproc_via {
	RPROC_VIA_SYSFS,
	RPROC_VIA_CDEV,
};

/**
 * rproc_device_request() - ask the kernel to start, stop or detach
 * @via: through the "state" attribute or through a fresh open of the
 * character device (closed again before returning)
 *
 * Blocks for the kernel's whole operation. The result says what the kernel
 * answered, not the new state: read the state back.
 */
int rproc_device_request(struct rproc_device *dev, enum rproc_command cmd, enum rproc_via via);

/**
 * rproc_cdev_open() - open /dev/remoteprocN read-write, close-on-exec
 * Returns the fd or a negative errno.
 */
int rproc_cdev_open(struct rproc_device *dev);
/** rproc_cdev_request() - write the exact command word (no newline) to an open chardev */
int rproc_cdev_request(int fd, enum rproc_command cmd);
/**
 * rproc_cdev_set_shutdown_on_release() - RPROC_SET_SHUTDOWN_ON_RELEASE
 * The flag belongs to the remote processor, not to the fd: once set, any
 * close of any fd on the node stops (or detaches) the core.
 */
int rproc_cdev_set_shutdown_on_release(int fd, bool enable);
int rproc_cdev_get_shutdown_on_release(int fd, bool *ret);

#ifdef __cplusplus
}
#endif
