/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel devices as cores: added at enumeration and hotplug, removed when the
 * kernel removes them, enumerated again after lost events; the shared poll
 * timer; devcoredumps routed to their core; chardevs from the fd store.
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core.h"
#include "kernel-events.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

/* The device's sysfs directory, which the kernel makes anew for each device. */
static int device_identity(struct manager *m, struct rproc_device *dev, dev_t *ret_dev,
			   ino_t *ret_ino)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;
	int r;

	r = rproc_ctx_path(m->ctx, rproc_device_get_devpath(dev), &p);
	if (r < 0)
		return r;
	if (stat(p, &st) < 0)
		return -errno;
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return 0;
}

static char *choose_name(struct manager *m, struct rproc_device *dev,
			 const struct rproc_core_config *cfg)
{
	const char *kn = rproc_device_get_name(dev);

	if (cfg)
		return strdup(cfg->name);
	if (rproc_core_name_is_valid(kn) && !manager_find_core(m, kn))
		return strdup(kn);
	/* Kernel names are not unique: a second "r5f" becomes "r5f@remoteproc3". */
	return strdup_printf("%s@%s", rproc_core_name_is_valid(kn) ? kn : "core",
			     rproc_device_get_sysname(dev));
}

void manager_set_stored_fds(struct manager *m, int *fds, char **names, size_t n)
{
	manager_close_stored_fds(m);
	free(m->stored_fds);
	strv_free(m->stored_names);
	m->stored_fds = fds;
	m->stored_names = names;
	m->n_stored_fds = n;
}

/*
 * The chardev fd the fd store gave back for this core: its name and the very
 * device node (a remoteprocN reused by another device is another node).
 */
static int take_stored_fd(struct manager *m, struct core *c)
{
	_cleanup_free_ char *name = core_cdev_fdname(c);

	for (size_t i = 0; name && i < m->n_stored_fds; i++) {
		int fd = m->stored_fds[i];

		if (fd < 0 || (m->stored_names && !streq_ptr(m->stored_names[i], name)))
			continue;
		if (!kernel_cdev_is_device(m->kernel, fd, c->dev))
			continue;
		m->stored_fds[i] = -1;
		return fd;
	}
	return -1;
}

/* Fds that matched no core: their cores are gone; out of the store with them. */
void manager_close_stored_fds(struct manager *m)
{
	for (size_t i = 0; i < m->n_stored_fds; i++) {
		_cleanup_free_ char *msg = NULL;

		if (m->stored_fds[i] < 0)
			continue;
		if (m->stored_names && m->stored_names[i]) {
			msg = strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", m->stored_names[i]);
			if (msg)
				(void) manager_notify(m, msg);
		}
		kernel_cdev_close(m->kernel, m->stored_fds[i]);
		m->stored_fds[i] = -1;
	}
}

int manager_add_device(struct manager *m, struct rproc_device *dev)
{
	_cleanup_free_ char *conflict = NULL, *name = NULL;
	const struct rproc_core_config *cfg;
	struct core *c = NULL, **nl;
	int r;

	if (manager_find_core_by_sysname(m, rproc_device_get_sysname(dev)))
		return 0;
	cfg = manager_match_config(m, dev, NULL, 0, &conflict);
	name = choose_name(m, dev, cfg);
	if (!name)
		return -ENOMEM;
	r = core_new(m, name, dev, cfg, &c);
	if (r < 0)
		return log_error_errno(r, "%s: cannot create core: %m",
				       rproc_device_get_sysname(dev));
	nl = realloc(m->cores, sizeof(*nl) * (m->n_cores + 1));
	if (!nl) {
		core_unref(c);
		return -ENOMEM;
	}
	m->cores = nl;
	m->cores[m->n_cores++] = c;
	(void) device_identity(m, dev, &c->sysfs_dev, &c->sysfs_ino);
	core_events_attach(c);

	if (conflict) {
		core_set_config_error(c, conflict);
		log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, c->name, NULL, NULL, 0,
			       "%s; not managed", c->last_error);
	}
	r = take_stored_fd(m, c);
	if (r >= 0) {
		/* Still bound to us across the restart: the store keeps its copy. */
		c->cdev_fd = r;
		log_core_event(LOG_INFO, NULL, c->name, NULL, NULL, 0,
			       "chardev (BindLifetime=) picked up from the fd store");
	}
	core_refresh(c);
	log_core_event(LOG_INFO, NULL, c->name, rproc_state_to_string(c->state),
		       core_firmware_display(c), 0, "found %s (kernel name \"%s\")%s",
		       rproc_device_get_sysname(dev), rproc_device_get_name(dev),
		       core_is_managed(c)		? ""
		       : c->config && c->config->masked ? ", masked"
							: ", not managed");
	if (m->bus)
		(void) sd_bus_emit_object_added(m->bus, c->object_path);
	core_start_first(c);
	/* A core found up (adopted, attached, a daemon restart) may have channels already. */
	manager_channels_changed(m);
	return 0;
}

void manager_remove_device(struct manager *m, const char *sysname)
{
	struct core *c = manager_find_core_by_sysname(m, sysname);
	size_t i;

	if (!c)
		return;
	core_remove(c);
	if (m->bus)
		(void) sd_bus_emit_object_removed(m->bus, c->object_path);
	for (i = 0; i < m->n_cores && m->cores[i] != c; i++)
		;
	memmove(m->cores + i, m->cores + i + 1, sizeof(*m->cores) * (m->n_cores - i - 1));
	m->n_cores--;
	/* Its configuration stays in the set, free for a device that comes later. */
	c->config = NULL;
	core_unref(c);
	manager_schedule(m);
}

void manager_rescan(struct manager *m)
{
	struct rproc_device **devs = NULL;
	_cleanup_strv_free_ char **gone = NULL;
	size_t n = 0;
	int r;

	r = rproc_device_enumerate(m->ctx, &devs, &n);
	if (r < 0) {
		log_error_errno(r, "Failed to enumerate remote processors again: %m");
		return;
	}
	/*
	 * Vanished, or replaced by another device under the same remoteprocN (a
	 * driver reloaded while the events were lost: same number, same path,
	 * a new sysfs directory). Only the kernel's "no such device" means
	 * gone: a transient error (EMFILE, ENOMEM) must not remove a core, which
	 * would release its chardev and stop a BindLifetime= core.
	 */
	for (size_t i = 0; i < m->n_cores; i++) {
		struct core *c = m->cores[i];
		struct rproc_device *now = NULL;
		dev_t d;
		ino_t ino;

		r = rproc_device_new(m->ctx, rproc_device_get_sysname(c->dev), &now);
		if (r == -ENODEV ||
		    (r >= 0 &&
		     (!streq(rproc_device_get_devpath(now), rproc_device_get_devpath(c->dev)) ||
		      !streq(rproc_device_get_name(now), rproc_device_get_name(c->dev)) ||
		      (device_identity(m, now, &d, &ino) >= 0 &&
		       (d != c->sysfs_dev || ino != c->sysfs_ino)))))
			(void) strv_extend(&gone, rproc_device_get_sysname(c->dev));
		rproc_device_unref(now);
	}
	for (char **s = gone; s && *s; s++)
		manager_remove_device(m, *s);
	for (size_t k = 0; k < n; k++)
		manager_add_device(m, devs[k]);
	rproc_device_list_free(devs, n);
	/* A core with a write in flight is read back by its worker (as the poll leaves it). */
	for (size_t i = 0; i < m->n_cores; i++) {
		/* A watch dropped after a failed read is armed again (a no-op where it is). */
		core_events_attach(m->cores[i]);
		if (!m->cores[i]->running)
			core_refresh(m->cores[i]);
	}
	manager_scan_coredumps(m);
	manager_channels_changed(m);
}

void manager_coredump_added(struct manager *m, const char *dir)
{
	_cleanup_free_ char *link = path_join(dir, "failing_device");
	const char *root = rproc_ctx_get_root(m->ctx);
	char real[PATH_MAX];

	if (!link || !realpath(link, real))
		return;
	for (size_t i = 0; i < m->n_cores; i++) {
		const char *devpath = rproc_device_get_devpath(m->cores[i]->dev);

		/* Only dumps of our cores are touched: others belong to someone else. */
		if (strncmp(real, root, strlen(root)) == 0 && streq(real + strlen(root), devpath)) {
			core_coredump_added(m->cores[i], dir);
			return;
		}
	}
}

/* Dumps left unread (before rprocd ran, or while it restarted) would stall an inline recovery. */
void manager_scan_coredumps(struct manager *m)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (rproc_ctx_path(m->ctx, "/sys/class/devcoredump", &dir) < 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (!startswith(de->d_name, "devcd"))
			continue;
		p = path_join(dir, de->d_name);
		if (p)
			manager_coredump_added(m, p);
	}
}

void manager_poll(struct manager *m)
{
	/* A core with a write in flight is read back by its worker. */
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_wants_poll(m->cores[i]) && !m->cores[i]->running)
			core_poll(m->cores[i]);
	manager_schedule(m);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	(void) s;
	(void) usec;
	manager_poll(m);
	manager_arm_poll(m);
	return 0;
}

void manager_arm_poll(struct manager *m)
{
	bool need = false;
	int r;

	for (size_t i = 0; i < m->n_cores && !need; i++)
		need = core_wants_poll(m->cores[i]);
	if (!need || !m->config || manager_poll_interval(m) == RPROC_USEC_INFINITY) {
		/* Nothing can change by itself: no timer, no wakeups. */
		sd_event_source_set_enabled(m->poll_timer, SD_EVENT_OFF);
		return;
	}
	if (m->poll_timer) {
		int enabled = SD_EVENT_OFF;

		sd_event_source_get_enabled(m->poll_timer, &enabled);
		if (enabled != SD_EVENT_OFF)
			return;
		r = sd_event_source_set_time_relative(m->poll_timer, manager_poll_interval(m));
		if (r >= 0)
			r = sd_event_source_set_enabled(m->poll_timer, SD_EVENT_ONESHOT);
	} else
		r = sd_event_add_time_relative(m->event, &m->poll_timer, CLOCK_MONOTONIC,
					       manager_poll_interval(m), 0, on_poll, m);
	if (r < 0)
		log_error_errno(r, "Failed to arm the poll timer: %m");
}
