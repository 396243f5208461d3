/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct manager;

/*
 * Hotplug of remoteproc devices through libudev: udev's events when udevd
 * runs, the kernel's otherwise (a device without udevd, the test VM).
 */
int udev_monitor_start(struct manager *m);
void udev_monitor_stop(struct manager *m);
