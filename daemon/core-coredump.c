/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devcoredumps of a core: each is copied to CoredumpDirectory= by a worker
 * (reading it frees the kernel's copy and lets an inline recovery go on), and
 * a dump whose crash no read of the state saw counts that crash.
 */
#include <stdio.h>
#include <time.h>

#include "core.h"
#include "kernel-events.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"
#include "worker.h"

int read_boot_id(char *buf, size_t len)
{
	_cleanup_free_ char *s = NULL;
	size_t k = 0;
	int r;

	r = read_full_file("/proc/sys/kernel/random/boot_id", 64, &s, NULL);
	if (r < 0)
		return r;
	for (char *p = s; *p && k + 1 < len; p++)
		if (*p != '-' && *p != '\n')
			buf[k++] = *p;
	buf[k] = 0;
	return 0;
}

static void dump_done(struct work *w, bool abandoned)
{
	struct core *c = w->userdata;

	c->dumps_running--;
	if (abandoned) {
		work_free(w);
		core_unref(c);
		return;
	}
	if (w->error < 0) {
		_cleanup_free_ char *text = strdup_printf(
			"%s: %s (%s)", w->failed_step, strerror(-w->error), errno_name(w->error));

		core_set_error(c, text);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, w->error, text);
	} else {
		_cleanup_free_ char *text = strdup_printf(
			"coredump saved to %s (%llu bytes%s%s%s)", w->dump_path,
			(unsigned long long) w->dump_size,
			w->dump_removed ? ", older dumps removed for the limits" : "",
			w->dump_trace_path ? ", the firmware's last trace beside it" : "",
			w->dump_trace_error == -EFBIG ? ", no room for its trace" : "");

		if (w->dump_trace_error < 0 && w->dump_trace_error != -EFBIG)
			log_warning_errno(w->dump_trace_error,
					  "%s: cannot save the firmware's last trace beside %s: %m",
					  c->name, w->dump_path);
		free(c->last_coredump);
		c->last_coredump = TAKE_PTR(w->dump_path);
		core_log(c, LOG_INFO, MESSAGE_CORE_COREDUMP, 0, text);
	}
	core_changed(c);
	work_free(w);
	core_unref(c);
}

void core_coredump_added(struct core *c, const char *dir)
{
	const struct rproc_core_settings *s;
	char boot_id[40] = "unknown";
	struct work *w;
	int r;

	if (c->removed)
		return;
	/*
	 * The same dump again (a rescan, a dump left for someone else): the
	 * kernel keeps one pending per device and numbers them anew each time.
	 */
	if (streq_ptr(c->last_dump_dir, dir))
		return;
	free(c->last_dump_dir);
	c->last_dump_dir = strdup(dir);
	/* A crash no read of the state saw (the kernel recovered first): count it now. */
	if (c->awaiting_dumps > 0)
		c->awaiting_dumps--;
	else {
		/* The dumps of the crashes counted before never came: their traces are no one's. */
		core_trace_forget_crashes(c);
		/*
		 * Its "handling crash" record is in the kernel log already (printed
		 * before the dump is made) unless the crash came before rprocd read
		 * the log: a record not matched yet is this crash's, and is matched.
		 */
		if (c->manager->kmsg_fd >= 0) {
			manager_kmsg_drain(c->manager);
			if (c->crash_records > c->crashes_unrecorded)
				c->crashes_unrecorded++;
		}
		core_count_crash(c, "crashed (seen through its coredump)");
	}
	if (!core_is_managed(c))
		return;
	s = &c->config->settings;
	if (s->coredump == RPROC_COREDUMP_DISABLED)
		return;

	(void) read_boot_id(boot_id, sizeof(boot_id));
	w = work_new(c->manager->ctx, c->manager->kernel, c->dev, ACTION_NONE);
	if (!w)
		return;
	w->done = dump_done;
	w->userdata = core_ref(c);
	w->dump_src = strdup(dir);
	w->dump_core = strdup(c->name);
	w->dump_file = strdup_printf("%s-%s-%llu.core", c->name, boot_id,
				     (unsigned long long) now_usec(CLOCK_REALTIME));
	w->dump_max_files = s->coredump_max_files;
	w->dump_max_use = s->coredump_max_use;
	/* The crashed firmware's last trace: kept when the crash was counted (core-trace.c). */
	w->dump_trace = core_trace_take_crash(c, &w->dump_trace_len);
	r = rproc_ctx_path(c->manager->ctx, s->coredump_directory, &w->dump_dir);
	if (r >= 0 && (!w->dump_src || !w->dump_core || !w->dump_file))
		r = -ENOMEM;
	if (r >= 0)
		r = worker_start(c->manager->workers, w);
	if (r < 0) {
		log_error_errno(r, "%s: cannot save coredump %s: %m", c->name, dir);
		core_unref(c);
		work_free(w);
		return;
	}
	c->dumps_running++;
	core_changed(c);
}
