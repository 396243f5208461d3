/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel log and sysfs notifications as hints for core_observe(); see kernel-events.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core.h"
#include "kernel-events.h"
#include "kernel-log.h"
#include "log.h"
#include "manager.h"
#include "util.h"

/* Larger than any record (the kernel's CONSOLE_EXT_LOG_MAX is 8 KiB); smaller reads fail. */
#define KMSG_BUF_SIZE (16 * 1024)
/* Records read per wakeup before other sources get their turn (the fd stays readable). */
#define KMSG_BATCH 256

static bool wants_kmsg(const struct manager *m)
{
	return m->config && (m->config->kernel_events == RPROC_KERNEL_EVENTS_AUTO ||
			     m->config->kernel_events == RPROC_KERNEL_EVENTS_KMSG);
}

static bool wants_sysfs(const struct manager *m)
{
	return m->config && (m->config->kernel_events == RPROC_KERNEL_EVENTS_AUTO ||
			     m->config->kernel_events == RPROC_KERNEL_EVENTS_SYSFS);
}

bool manager_kmsg_live(const struct manager *m)
{
	/*
	 * While an overrun waits for its re-read, a crash a read counts may
	 * still have its record in the ring: it is matched as usual, and the
	 * re-read forgets the matches whose records were lost.
	 */
	return m->kmsg_fd >= 0 && !m->kmsg_resync && !m->kmsg_lost;
}

uint64_t manager_poll_interval(const struct manager *m)
{
	uint64_t v = m->config ? m->config->poll_interval_usec : RPROC_POLL_INTERVAL_AUTO;

	if (v != RPROC_POLL_INTERVAL_AUTO)
		return v;
	return m->kmsg_fd >= 0 || (m->sysfs_notified && wants_sysfs(m))
		       ? RPROC_DEFAULT_SAFETY_POLL_INTERVAL_USEC
		       : RPROC_DEFAULT_POLL_INTERVAL_USEC;
}

char **manager_event_sources(const struct manager *m)
{
	char **l = NULL;

	if (m->kmsg_fd >= 0)
		(void) strv_extend(&l, "kmsg");
	if (m->sysfs_notified && wants_sysfs(m))
		(void) strv_extend(&l, "sysfs");
	if (manager_poll_interval(m) != RPROC_USEC_INFINITY)
		(void) strv_extend(&l, "poll");
	return l;
}

/* The core a remoteproc record's DEVICE= names. */
static struct core *core_of_device(struct manager *m, const char *device)
{
	const char *sysname = NULL;
	unsigned major = 0, minor = 0;

	switch (kmsg_device_parse(device, &major, &minor, &sysname)) {
	case 1:
		for (size_t i = 0; i < m->n_cores; i++) {
			struct core *c = m->cores[i];

			if (c->has_devnum && c->devnum_major == major && c->devnum_minor == minor)
				return c;
		}
		return NULL;
	case 2:
		return manager_find_core_by_sysname(m, sysname);
	default:
		return NULL;
	}
}

static void handle_record(struct manager *m, char *buf, size_t len)
{
	struct kmsg_record rec;
	struct rproc_log_info info;
	struct core *c;

	m->kmsg_records++;
	/* Most records are someone else's: one substring search rejects them. */
	if (!kmsg_record_is_remoteproc(buf, len))
		return;
	if (kmsg_record_parse(buf, len, &rec) < 0 || !streq_ptr(rec.subsystem, "remoteproc"))
		return;
	c = core_of_device(m, rec.device);
	if (!c)
		return;
	m->kmsg_matched++;
	rproc_log_classify(rec.message, &info);
	log_debug("%s: kernel log #%llu: %s (%s)", c->name, (unsigned long long) rec.seq,
		  rec.message, rproc_log_event_to_string(info.event));
	core_kernel_said(c, &info);
}

static void kmsg_close(struct manager *m)
{
	m->kmsg_source = sd_event_source_disable_unref(m->kmsg_source);
	if (m->kmsg_fd >= 0)
		close(m->kmsg_fd);
	m->kmsg_fd = -1;
	m->kmsg_lost = false;
	/*
	 * Records already read describe the past: they are still applied. Only
	 * what was expected from the log will not come, nor the type announced.
	 */
	for (size_t i = 0; i < m->n_cores; i++) {
		struct core *c = m->cores[i];

		if (c->crashes_unrecorded > c->crash_records)
			c->crashes_unrecorded = c->crash_records;
		free(c->crash_reason_next);
		c->crash_reason_next = NULL;
	}
}

/* Read up to max records; false when the log had to be closed. */
static bool kmsg_read(struct manager *m, unsigned max)
{
	for (unsigned n = 0; n < max && m->kmsg_fd >= 0; n++) {
		ssize_t l = read(m->kmsg_fd, m->kmsg_buf, KMSG_BUF_SIZE - 1);

		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0 && errno == EAGAIN)
			return true;
		if (l < 0 && errno == EPIPE) {
			/* The ring overwrote records we had not read: read every core again. */
			if (!m->kmsg_lost)
				log_warning("kernel log overrun: records were lost; reading every "
					    "core again");
			manager_kmsg_lost(m);
			continue;
		}
		if (l <= 0) {
			log_warning_errno(l < 0 ? errno : EIO,
					  "Reading the kernel log failed (%m): closed; the poll "
					  "takes over");
			kmsg_close(m);
			/* The poll's interval follows (manager_poll_interval()); read everything now. */
			sd_event_source_set_enabled(m->poll_timer, SD_EVENT_OFF);
			manager_kmsg_lost(m);
			return false;
		}
		m->kmsg_buf[l] = '\0';
		handle_record(m, m->kmsg_buf, (size_t) l);
	}
	return true;
}

void manager_kmsg_drain(struct manager *m)
{
	if (m->kmsg_fd >= 0)
		(void) kmsg_read(m, UINT32_MAX);
}

void manager_kmsg_lost(struct manager *m)
{
	m->kmsg_lost = true;
	m->kmsg_overruns++;
	manager_schedule(m);
}

static int on_kmsg(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;

	(void) s, (void) fd, (void) revents;
	(void) kmsg_read(m, KMSG_BATCH);
	return 0;
}

static int kmsg_take(struct manager *m, int fd)
{
	int r;

	if (!m->kmsg_buf) {
		m->kmsg_buf = malloc(KMSG_BUF_SIZE);
		if (!m->kmsg_buf)
			return -ENOMEM;
	}
	r = sd_event_add_io(m->event, &m->kmsg_source, fd, EPOLLIN, on_kmsg, m);
	if (r < 0)
		return r;
	/* Before the bus and the poll: a crash is seen before anything acts on stale state. */
	(void) sd_event_source_set_priority(m->kmsg_source, SD_EVENT_PRIORITY_NORMAL - 10);
	m->kmsg_fd = fd;
	return 0;
}

int manager_set_kmsg_fd(struct manager *m, int fd)
{
	int r;

	kmsg_close(m);
	r = kmsg_take(m, fd);
	if (r < 0)
		close(fd);
	return r;
}

static int kmsg_open(struct manager *m)
{
	_cleanup_free_ char *p = NULL;
	int fd, r;

	r = rproc_ctx_path(m->ctx, "/dev/kmsg", &p);
	if (r < 0)
		return r;
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Only what is logged from now on: the state read at start-up covers the past. */
	if (lseek(fd, 0, SEEK_END) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = kmsg_take(m, fd);
	if (r < 0)
		close(fd);
	return r;
}

void manager_events_setup(struct manager *m)
{
	char buf[64];
	uint64_t poll;
	int r = 0;

	/* A notification seen under KernelEvents=sysfs/auto says nothing once it is off. */
	if (!wants_sysfs(m))
		m->sysfs_notified = false;

	if (wants_kmsg(m) && m->kmsg_fd < 0)
		r = kmsg_open(m);
	else if (!wants_kmsg(m) && m->kmsg_fd >= 0)
		kmsg_close(m);
	for (size_t i = 0; i < m->n_cores; i++)
		if (wants_sysfs(m))
			core_events_attach(m->cores[i]);
		else
			core_events_detach(m->cores[i]);

	poll = manager_poll_interval(m);
	if (poll == RPROC_USEC_INFINITY)
		snprintf(buf, sizeof(buf), "no poll (PollIntervalSec=no)");
	else
		snprintf(buf, sizeof(buf), "a poll every %s",
			 rproc_format_timespan((char[32]){ 0 }, 32, poll));
	if (m->kmsg_fd >= 0)
		log_info("kernel events: the kernel log (/dev/kmsg)%s, and %s",
			 wants_sysfs(m) ? ", sysfs notifications where the kernel sends them" : "",
			 buf);
	else if (wants_kmsg(m))
		log_warning_errno(
			r,
			"kernel events: cannot read the kernel log (/dev/kmsg: %m)%s; "
			"%s",
			wants_sysfs(m) ? "; sysfs notifications where the kernel sends them" : "",
			buf);
	else
		log_info("kernel events: %s (KernelEvents=%s), and %s",
			 wants_sysfs(m) ? "sysfs notifications where the kernel sends them"
					: "none",
			 rproc_kernel_events_to_string(m->config->kernel_events), buf);
	manager_arm_poll(m);
}

void manager_events_free(struct manager *m)
{
	kmsg_close(m);
	free(m->kmsg_buf);
	m->kmsg_buf = NULL;
}

void manager_events_run(struct manager *m)
{
	bool resync = m->kmsg_lost;

	if (resync) {
		/*
		 * Every record still in the ring first: a crash whose record is
		 * there is counted from it; one whose record was lost is counted
		 * by the re-read below, which must not expect its record.
		 */
		log_debug("kernel log: re-reading every core after an overrun");
		m->kmsg_lost = false;
		m->kmsg_resync = true;
		manager_kmsg_drain(m);
	}
	for (size_t i = 0; i < m->n_cores; i++)
		core_apply_hints(m->cores[i]);
	if (resync) {
		/*
		 * What reads counted and the ring no longer holds will never be
		 * matched: only pending records can still be (a core with a job
		 * applies its records when the job ends).
		 */
		for (size_t i = 0; i < m->n_cores; i++) {
			struct core *c = m->cores[i];

			if (c->crashes_unrecorded > c->crash_records)
				c->crashes_unrecorded = c->crash_records;
		}
		manager_rescan(m);
		m->kmsg_resync = false;
	}
}

/* sysfs: poll(POLLPRI) on "state". */

static int on_state_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct core *c = userdata;
	struct manager *m = c->manager;
	char buf[64];
	ssize_t l;

	(void) s, (void) revents;
	/* Reading from the start re-arms the notification. */
	l = pread(fd, buf, sizeof(buf) - 1, 0);
	if (l < 0 && errno == EINTR)
		return 0; /* still pending: the loop comes back */
	if (l < 0) {
		/*
		 * ENODEV: the device went (its removal event follows). Anything
		 * else: the watch would fire again at once; the core is read the
		 * usual way, and the next rescan arms the watch again.
		 */
		log_full_errno(errno == ENODEV || errno == ENOENT ? LOG_DEBUG : LOG_WARNING, errno,
			       "%s: reading state after a notification failed, watch dropped: %m",
			       c->name);
		core_events_detach(c);
		c->queued_refresh = true;
		manager_schedule(m);
		return 0;
	}
	if (!m->sysfs_notified) {
		m->sysfs_notified = true;
		log_info("the kernel notifies state changes through sysfs (POLLPRI on state): "
			 "using them");
		manager_arm_poll(m);
	}
	/*
	 * That read is the closest to the change there is: it is what the core
	 * went through (a quick recovery may be past crashed by the next read).
	 * A core with a job in flight is read back by its worker.
	 */
	if (l > 0 && !c->running) {
		buf[l] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		core_observe(c, rproc_state_from_string(buf), ACTION_NONE);
	}
	c->queued_refresh = true;
	manager_schedule(m);
	return 0;
}

static void read_devnum(struct core *c)
{
	_cleanup_free_ char *dir = NULL, *p = NULL, *text = NULL;

	c->has_devnum = false;
	if (rproc_ctx_path(c->manager->ctx, rproc_device_get_devpath(c->dev), &dir) < 0)
		return;
	p = path_join(dir, "dev");
	if (p && read_full_file(p, 64, &text, NULL) >= 0 &&
	    sscanf(text, "%u:%u", &c->devnum_major, &c->devnum_minor) == 2)
		c->has_devnum = true;
}

void core_events_attach(struct core *c)
{
	_cleanup_free_ char *dir = NULL, *p = NULL;
	char buf[64];
	ssize_t armed;
	int fd, r;

	if (!c->has_devnum)
		read_devnum(c);
	if (c->state_source || c->removed || !wants_sysfs(c->manager))
		return;
	if (rproc_ctx_path(c->manager->ctx, rproc_device_get_devpath(c->dev), &dir) < 0)
		return;
	p = path_join(dir, "state");
	if (!p)
		return;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	/* A read arms it: kernfs reports POLLPRI for a change after the last read.
	 * What it read does not matter (the variable keeps _FORTIFY_SOURCE's
	 * warn_unused_result quiet, which a (void) cast does not). */
	armed = pread(fd, buf, sizeof(buf), 0);
	(void) armed;
	r = sd_event_add_io(c->manager->event, &c->state_source, fd, EPOLLPRI, on_state_notify, c);
	if (r < 0) {
		/* Not pollable (a plain file under a test's root): nothing to watch. */
		close(fd);
		return;
	}
	(void) sd_event_source_set_io_fd_own(c->state_source, true);
	(void) sd_event_source_set_priority(c->state_source, SD_EVENT_PRIORITY_NORMAL - 10);
}

void core_events_detach(struct core *c)
{
	c->state_source = sd_event_source_disable_unref(c->state_source);
}
