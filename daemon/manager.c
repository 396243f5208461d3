/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's life: start-up, signals, and the run queue. Everything that
 * crosses cores — beginning jobs, dependencies, PropertiesChanged, STATUS=,
 * READY=1, exit — runs from the run queue, a deferred event source that runs
 * once per loop iteration when something asked for it (manager_schedule()).
 * A core's transition never calls into another core.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus-manager.h"
#include "core.h"
#include "kernel-events.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "udev-monitor.h"
#include "util.h"
#include "worker.h"

/* READY=1 waits for every core's first decision, but never longer than this. */
#define READY_TIMEOUT_USEC (20ULL * 1000000)

static int sd_notify_fds(void *userdata, const char *text, const int *fds, size_t n_fds)
{
	(void) userdata;
	if (n_fds > 0)
		return sd_pid_notify_with_fds(0, false, text, fds, (unsigned) n_fds);
	return sd_notify(false, text);
}

int manager_notify(struct manager *m, const char *text)
{
	return m->notify ? m->notify(m->notify_userdata, text, NULL, 0) : 0;
}

static int on_run_queue(sd_event_source *s, void *userdata);

int manager_new(const char *root, const struct kernel *kernel, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->admin_gid = (gid_t) -1;
	m->kernel = kernel ? kernel : &kernel_sysfs;
	m->notify = sd_notify_fds;
	m->ready_timeout_usec = READY_TIMEOUT_USEC;
	r = rproc_ctx_new(root, &m->ctx);
	if (r < 0)
		goto fail;
	rproc_ctx_set_log_fn(m->ctx, log_librproc, NULL);
	rproc_ctx_set_log_priority(m->ctx, log_get_max_priority());
	r = sd_event_new(&m->event);
	if (r < 0)
		goto fail;
	m->kmsg_fd = -1;
	r = sd_event_add_defer(m->event, &m->run_queue, on_run_queue, m);
	if (r < 0)
		goto fail;
	(void) sd_event_source_set_enabled(m->run_queue, SD_EVENT_OFF);
	(void) sd_event_source_set_description(m->run_queue, "run-queue");
	r = worker_pool_new(m->event, &m->workers);
	if (r < 0)
		goto fail;
	*ret = m;
	return 0;
fail:
	manager_free(m);
	return r;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	/* Works still pending (a test's killed daemon) end first: they hold cores. */
	worker_pool_free(m->workers);
	m->workers = NULL;
	manager_events_free(m);
	for (size_t i = 0; i < m->n_cores; i++) {
		m->cores[i]->removed = true;
		core_unref(m->cores[i]);
	}
	free(m->cores);
	manager_configs_free(m->core_configs, m->n_core_configs);
	strv_free(m->conflicted);
	manager_close_stored_fds(m);
	free(m->stored_fds);
	strv_free(m->stored_names);
	rproc_daemon_config_free(m->config);
	sd_event_source_disable_unref(m->poll_timer);
	sd_event_source_disable_unref(m->trace_timer);
	sd_event_source_disable_unref(m->run_queue);
	sd_event_source_disable_unref(m->ready_timer);
	udev_monitor_stop(m);
	sd_bus_slot_unref(m->object_manager_slot);
	if (m->bus) {
		sd_bus_detach_event(m->bus);
		sd_bus_flush_close_unref(m->bus);
	}
	sd_event_unref(m->event);
	rproc_ctx_unref(m->ctx);
	free(m->status_text);
	bus_manager_done(m);
	manager_stage_done(m);
	free(m);
	return NULL;
}

struct core *manager_find_core(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_cores; i++)
		if (streq(m->cores[i]->name, name))
			return m->cores[i];
	return NULL;
}

struct core *manager_find_core_by_path(struct manager *m, const char *path)
{
	for (size_t i = 0; path && i < m->n_cores; i++)
		if (streq(m->cores[i]->object_path, path))
			return m->cores[i];
	return NULL;
}

struct core *manager_find_core_by_sysname(struct manager *m, const char *sysname)
{
	for (size_t i = 0; i < m->n_cores; i++)
		if (streq(rproc_device_get_sysname(m->cores[i]->dev), sysname))
			return m->cores[i];
	return NULL;
}

void manager_schedule(struct manager *m)
{
	if (m->run_queue)
		(void) sd_event_source_set_enabled(m->run_queue, SD_EVENT_ONESHOT);
}

static void update_status(struct manager *m)
{
	unsigned n_up = 0, n_crashed = 0, n_offline = 0, n_other = 0, n_waiting = 0;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < m->n_cores; i++) {
		enum rproc_state s = m->cores[i]->state;

		if (m->cores[i]->dep == DEP_WAITING && m->cores[i]->dep_absent)
			n_waiting++;

		if (core_state_is_up(s))
			n_up++;
		else if (s == RPROC_STATE_CRASHED)
			n_crashed++;
		else if (s == RPROC_STATE_OFFLINE || s == RPROC_STATE_DETACHED)
			n_offline++;
		else
			n_other++;
	}
	text = strdup_printf("%zu core%s: %u running, %u crashed, %u offline%s%s", m->n_cores,
			     m->n_cores == 1 ? "" : "s", n_up, n_crashed, n_offline,
			     n_other ? ", some in other states" : "",
			     n_waiting ? ", some waiting for a required core to appear" : "");
	if (!text || streq_ptr(text, m->status_text))
		return;
	free(m->status_text);
	m->status_text = TAKE_PTR(text);
	if (m->ready) {
		_cleanup_free_ char *msg = strdup_printf("STATUS=%s", m->status_text);

		if (msg)
			(void) manager_notify(m, msg);
	}
}

static void send_ready(struct manager *m, const char *why)
{
	_cleanup_free_ char *msg = NULL;

	if (m->ready || !m->name_owned)
		return;
	m->ready = true;
	m->ready_timer = sd_event_source_disable_unref(m->ready_timer);
	msg = strdup_printf("READY=1\nSTATUS=%s", strempty(m->status_text));
	(void) manager_notify(m, msg ? msg : "READY=1");
	log_info("ready%s: %s", strempty(why), strempty(m->status_text));
}

/*
 * How long READY=1 may wait: the boots' bound, plus the longest finite
 * ReadyTimeoutSec= of a core that waits for channels (READY=1 waits for
 * readiness, bounded by that timeout).
 */
static uint64_t ready_bound(const struct manager *m)
{
	uint64_t extra = 0;

	for (size_t i = 0; i < m->n_core_configs; i++) {
		const struct rproc_core_config *cfg = m->core_configs[i];
		uint64_t t;

		if (!cfg || !cfg->valid || cfg->masked || cfg->other_board || !cfg->ready_when ||
		    !cfg->ready_when[0])
			continue;
		t = cfg->settings.ready_timeout_usec;
		if (t != RPROC_USEC_INFINITY && t > extra)
			extra = t;
	}
	return m->ready_timeout_usec > UINT64_MAX - extra ? UINT64_MAX - 1
							  : m->ready_timeout_usec + extra;
}

static int on_ready_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;
	_cleanup_strv_free_ char **busy = NULL;
	_cleanup_free_ char *list = NULL, *why = NULL;

	(void) s, (void) usec;
	for (size_t i = 0; i < m->n_cores; i++)
		if (!core_is_settled(m->cores[i]))
			(void) strv_extend(&busy, m->cores[i]->name);
	list = strv_join(busy, ", ");
	why = strdup_printf(" (not waiting longer for %s)", strempty(list));
	send_ready(m, why);
	return 0;
}

bool manager_is_idle(struct manager *m)
{
	int enabled = SD_EVENT_OFF;

	if (m->run_queue)
		(void) sd_event_source_get_enabled(m->run_queue, &enabled);
	if (enabled != SD_EVENT_OFF || worker_pool_running(m->workers) > 0)
		return false;
	for (size_t i = 0; i < m->n_cores; i++)
		if (!core_is_settled(m->cores[i]) || m->cores[i]->queued_dispatch)
			return false;
	return true;
}

static void manager_check_exit(struct manager *m)
{
	if (!m->exiting)
		return;
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_is_busy(m->cores[i]) || m->cores[i]->dumps_running)
			return;
	if (worker_pool_running(m->workers) > 0)
		return;
	manager_trace_save(m);
	sd_event_exit(m->event, 0);
}

static int on_run_queue(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;
	bool all_settled = true;

	(void) s;
	if (m->enumerating)
		return 0;
	/* What the kernel log and sysfs said: each core read again where it may have changed. */
	manager_events_run(m);
	/* Hold references: nothing below removes a core, but be robust to it. */
	for (size_t i = 0; i < m->n_cores; i++)
		core_check_dependencies(m->cores[i]);
	for (size_t i = 0; i < m->n_cores; i++)
		if (m->cores[i]->queued_dispatch)
			core_dispatch(m->cores[i]);
	manager_channels_run(m);
	for (size_t i = 0; i < m->n_cores; i++) {
		core_ready_update(m->cores[i]);
		core_update_check(m->cores[i]);
		core_trace_update(m->cores[i]);
	}
	manager_trace_state_done(m);
	manager_trace_arm(m);
	for (size_t i = 0; i < m->n_cores; i++) {
		struct core *c = m->cores[i];

		if (c->queued_emit) {
			c->queued_emit = false;
			core_emit_changes(c);
		}
		all_settled = all_settled && core_is_settled(c);
	}
	bus_manager_emit_changes(m);
	manager_stage_gc(m);
	manager_update_prune(m);
	update_status(m);
	manager_arm_poll(m);
	if (all_settled)
		send_ready(m, NULL);
	manager_check_exit(m);
	return 0;
}

void manager_begin_exit(struct manager *m)
{
	if (m->exiting)
		return;
	(void) manager_notify(m, "STOPPING=1\nSTATUS=Applying OnExit= policies");
	m->exiting = true;
	for (size_t i = 0; i < m->n_cores; i++)
		core_queue_exit(m->cores[i]);
	manager_schedule(m);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	(void) s;
	if (m->exiting)
		return 0;
	log_info("received %s: applying OnExit= and stopping", strsignal((int) si->ssi_signo));
	manager_begin_exit(m);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	_cleanup_strv_free_ char **messages = NULL;
	struct manager *m = userdata;
	int r;

	(void) s;
	(void) si;
	r = manager_reload(m, &messages);
	if (r == -ESHUTDOWN)
		log_notice("reload ignored: rprocd is shutting down");
	else if (r < 0)
		log_error_errno(r, "Reload failed: %m");
	for (char **msg = messages; msg && *msg; msg++)
		log_notice("%s", *msg);
	return 0;
}

#if RPROCD_TEST_HOOKS
static int on_sigusr2(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	(void) s;
	(void) si;
	if (!m->test_stall)
		return 0;
	/* Test hook (RPROCD_TEST_STALL=1): a loop that stops answering, for watchdog tests. */
	log_warning("test hook: stalling the event loop");
	for (;;)
		pause();
	return 0;
}
#endif

/*
 * The gid of AdminGroup=, as the configuration set found it: a group that is
 * not there was reported at its line by the one check `rprocctl verify`
 * makes too (rproc_config_set_load()).
 */
int manager_resolve_admin_group(struct manager *m)
{
	m->admin_gid = m->config ? m->config->admin_gid : (gid_t) -1;
	return 0;
}

int manager_load(struct manager *m)
{
	int r;

	r = manager_load_config(m, &m->config, &m->core_configs, &m->n_core_configs);
	if (r < 0)
		return r;
	return manager_resolve_admin_group(m);
}

int manager_attach_bus(struct manager *m, sd_bus *bus)
{
	int r;

	m->bus = sd_bus_ref(bus);
	r = sd_bus_add_object_manager(m->bus, &m->object_manager_slot, "/org/rprocd1");
	if (r < 0)
		return log_error_errno(r, "Failed to add the object manager: %m");
	r = bus_manager_register(m);
	if (r < 0)
		return log_error_errno(r, "Failed to register the manager object: %m");
	r = sd_bus_add_fallback_vtable(m->bus, NULL, CORE_PATH_PREFIX, CORE_INTERFACE, core_vtable,
				       core_object_find, m);
	if (r < 0)
		return log_error_errno(r, "Failed to register core objects: %m");
	r = sd_bus_add_node_enumerator(m->bus, NULL, CORE_PATH_PREFIX, core_node_enumerator, m);
	if (r < 0)
		return log_error_errno(r, "Failed to register the core enumerator: %m");
	if (!sd_bus_get_event(m->bus)) {
		r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
		if (r < 0)
			return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	}
	return 0;
}

int manager_enumerate(struct manager *m)
{
	struct rproc_device **devs = NULL;
	size_t n = 0;
	int r;

	r = rproc_device_enumerate(m->ctx, &devs, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to enumerate remote processors: %m");
	/* Dependencies are judged once every present core is known. */
	m->enumerating = true;
	for (size_t i = 0; i < n; i++)
		manager_add_device(m, devs[i]);
	m->enumerating = false;
	rproc_device_list_free(devs, n);
	manager_close_stored_fds(m);
	manager_scan_coredumps(m);

	/* Configured cores the kernel does not have (yet): say so once. */
	for (size_t i = 0; i < m->n_core_configs; i++) {
		const struct rproc_core_config *cfg = m->core_configs[i];
		bool used = false;

		for (size_t k = 0; k < m->n_cores && !used; k++)
			used = m->cores[k]->config == cfg;
		if (cfg && !cfg->masked && !cfg->other_board && !used &&
		    !strv_contains(m->conflicted, cfg->name))
			log_info("%s: configured, no matching kernel core yet", cfg->name);
	}
	r = sd_event_add_time_relative(m->event, &m->ready_timer, CLOCK_MONOTONIC, ready_bound(m),
				       0, on_ready_timeout, m);
	if (r < 0) {
		/* Nothing would bound the wait: do not wait. */
		log_warning_errno(
			r, "Failed to arm the READY=1 timeout, not waiting for the cores: %m");
		send_ready(m, " (no timeout could be armed)");
	}
	manager_schedule(m);
	return 0;
}

static void load_stored_fds(struct manager *m)
{
	char **names = NULL;
	int *fds, n = sd_listen_fds_with_names(true, &names);

	if (n <= 0)
		return;
	fds = calloc((size_t) n, sizeof(int));
	if (!fds) {
		for (int i = 0; i < n; i++)
			close(SD_LISTEN_FDS_START + i);
		strv_free(names);
		return;
	}
	for (int i = 0; i < n; i++)
		fds[i] = SD_LISTEN_FDS_START + i;
	log_info("%d chardev%s handed back by the service manager", n, n == 1 ? "" : "s");
	manager_set_stored_fds(m, fds, names, (size_t) n);
}

int manager_startup(struct manager *m)
{
	sigset_t ss;
	int r;

	r = manager_load(m);
	if (r < 0)
		return r;
#if RPROCD_TEST_HOOKS
	m->test_stall = getenv("RPROCD_TEST_STALL") && streq(getenv("RPROCD_TEST_STALL"), "1");
#endif

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
#if RPROCD_TEST_HOOKS
	sigaddset(&ss, SIGUSR2);
#endif
	sigprocmask(SIG_BLOCK, &ss, NULL);
	if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m)) < 0)
		return log_error_errno(r, "Failed to set up signal handling: %m");
#if RPROCD_TEST_HOOKS
	r = sd_event_add_signal(m->event, NULL, SIGUSR2, on_sigusr2, m);
	if (r < 0)
		return log_error_errno(r, "Failed to set up signal handling: %m");
#endif
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0)
		log_warning_errno(r, "Failed to enable the watchdog: %m");

	{
		_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;

		r = sd_bus_open_system(&bus);
		if (r < 0)
			return log_error_errno(r, "Failed to connect to the system bus: %m");
		r = manager_attach_bus(m, bus);
		if (r < 0)
			return r;
	}

	manager_stage_setup(m);
	/* Update images an earlier run left behind (a copy cut short) go once nothing runs. */
	m->update_prune_pending = true;
	/* The kernel log is opened before enumerating, so no transition slips between the two. */
	manager_events_setup(m);
	/* The monitor starts before enumerating, so no device slips between the two. */
	r = udev_monitor_start(m);
	if (r < 0)
		log_warning_errno(r, "Failed to start the udev monitor, hotplug not seen: %m");

	load_stored_fds(m);
	r = manager_enumerate(m);
	if (r < 0)
		return r;

	r = sd_bus_request_name(m->bus, "org.rprocd1", 0);
	if (r < 0)
		return log_error_errno(r, "Failed to acquire org.rprocd1 on the system bus: %m");
	m->name_owned = true;
	manager_schedule(m);
	return 0;
}

int manager_run(struct manager *m)
{
	return sd_event_loop(m->event);
}
