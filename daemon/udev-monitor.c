/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/stat.h>

#include "log.h"
#include "manager.h"
#include "udev-monitor.h"
#include "util.h"

/* As systemd's own monitors (udevd, networkd): 128 MiB. */
#define UDEV_MONITOR_RCVBUF (128 * 1024 * 1024)

static void handle_remoteproc(struct manager *m, struct udev_device *d, const char *action)
{
	const char *sysname = udev_device_get_sysname(d);
	struct rproc_device *dev = NULL;
	int r;

	if (!sysname || !startswith(sysname, "remoteproc"))
		return;
	if (streq(action, "remove")) {
		manager_remove_device(m, sysname);
		return;
	}
	if (!streq(action, "add"))
		return;
	r = rproc_device_new(m->ctx, sysname, &dev);
	if (r < 0) {
		log_warning_errno(r, "%s: added, but cannot be opened: %m", sysname);
		return;
	}
	manager_add_device(m, dev);
	rproc_device_unref(dev);
}

static void handle_device(struct manager *m, struct udev_device *d)
{
	const char *subsystem = udev_device_get_subsystem(d);
	const char *action = udev_device_get_action(d);

	if (subsystem && action && streq(subsystem, "remoteproc"))
		handle_remoteproc(m, d, action);
	else if (subsystem && action && streq(subsystem, "devcoredump") && streq(action, "add") &&
		 udev_device_get_syspath(d))
		manager_coredump_added(m, udev_device_get_syspath(d));
	else if (subsystem && (streq(subsystem, "rpmsg") || streq(subsystem, "tty")))
		/* A channel, or a client driver's device below one (ttyRPMSGn, rpmsgN). */
		manager_channels_changed(m);
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	static unsigned overruns;
	struct manager *m = userdata;
	bool lost = false;

	(void) s, (void) fd, (void) revents;
	/*
	 * Read until the socket is empty. libudev returns NULL with errno set:
	 * EAGAIN when nothing is left, ENOBUFS when the kernel dropped messages
	 * because the receive buffer was full (the socket's error is reported
	 * once; what arrived after it can still be read).
	 */
	for (;;) {
		struct udev_device *d;
		int e;

		errno = 0;
		d = udev_monitor_receive_device(m->monitor);
		if (d) {
			handle_device(m, d);
			udev_device_unref(d);
			continue;
		}
		e = errno;
		if (e == ENOBUFS) {
			lost = true;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e != 0 && e != EAGAIN && e != EWOULDBLOCK)
			/* The fd stays armed: whatever is still queued comes back to us. */
			log_full_errno(LOG_DEBUG, e, "Failed to receive a udev event: %m");
		break;
	}
	if (lost) {
		/* Which events are gone is unknown: enumerate everything again. */
		overruns++;
		log_warning("udev events were lost (receive buffer overrun, %u so far); "
			    "enumerating remote processors again",
			    overruns);
		manager_rescan(m);
	}
	return 0;
}

int udev_monitor_start(struct manager *m)
{
	struct stat st;
	const char *source;
	int r;

	m->udev = udev_new();
	if (!m->udev)
		return -ENOMEM;
	/* With udevd running, listen to it (devices are ready when it says so). */
	source = stat("/run/udev/control", &st) == 0 ? "udev" : "kernel";
	m->monitor = udev_monitor_new_from_netlink(m->udev, source);
	if (!m->monitor)
		return -errno ?: -EIO;
	r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "remoteproc", NULL);
	if (r < 0)
		return r;
	r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "devcoredump", NULL);
	if (r < 0)
		return r;
	/* rpmsg: the bus's channels and rpmsg_char's class devices; tty: rpmsg_tty's. */
	r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "rpmsg", NULL);
	if (r < 0)
		return r;
	r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "tty", NULL);
	if (r < 0)
		return r;
	/*
	 * A burst of events (many cores, or a flood of devcoredumps) must not
	 * overrun the socket. Above net.core.rmem_max this needs CAP_NET_ADMIN;
	 * without it the kernel's limit applies, and an overrun is recovered by
	 * enumerating again (on_monitor()).
	 */
	r = udev_monitor_set_receive_buffer_size(m->monitor, UDEV_MONITOR_RCVBUF);
	/*
	 * Forcing the size needs CAP_NET_ADMIN, which the unit does not grant: the
	 * default buffer stays, and an overrun is caught by a rescan (below).
	 */
	if (r < 0)
		log_full_errno(LOG_DEBUG, r,
			       "Cannot enlarge the udev monitor's receive buffer, an overrun "
			       "will be followed by a rescan: %m");
	r = udev_monitor_enable_receiving(m->monitor);
	if (r < 0)
		return r;
	r = sd_event_add_io(m->event, &m->monitor_source, udev_monitor_get_fd(m->monitor), EPOLLIN,
			    on_monitor, m);
	if (r < 0)
		return r;
	log_debug("listening to %s events for remoteproc devices", source);
	return 0;
}

void udev_monitor_stop(struct manager *m)
{
	m->monitor_source = sd_event_source_disable_unref(m->monitor_source);
	if (m->monitor)
		m->monitor = udev_monitor_unref(m->monitor);
	if (m->udev)
		m->udev = udev_unref(m->udev);
}
