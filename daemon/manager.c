/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-manager.h"
#include "core.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "udev-monitor.h"
#include "util.h"
#include "worker.h"

static void close_stored_fds(struct manager *m);

static void core_configs_free(struct rproc_core_config **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rproc_core_config_free(l[i]);
	free(l);
}

int manager_new(const char *root, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->admin_gid = (gid_t) -1;
	r = rproc_ctx_new(root, &m->ctx);
	if (r < 0)
		goto fail;
	rproc_ctx_set_log_fn(m->ctx, log_librproc, NULL);
	rproc_ctx_set_log_priority(m->ctx, log_get_max_priority());
	r = sd_event_default(&m->event);
	if (r < 0)
		goto fail;
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
	for (size_t i = 0; i < m->n_cores; i++)
		core_unref(m->cores[i]);
	free(m->cores);
	core_configs_free(m->core_configs, m->n_core_configs);
	strv_free(m->conflicted);
	close_stored_fds(m);
	free(m->stored_fds);
	rproc_daemon_config_free(m->config);
	sd_event_source_disable_unref(m->poll_timer);
	udev_monitor_stop(m);
	sd_bus_slot_unref(m->object_manager_slot);
	sd_bus_flush_close_unref(m->bus);
	worker_pool_free(m->workers);
	sd_event_unref(m->event);
	rproc_ctx_unref(m->ctx);
	free(m->status_text);
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
	for (size_t i = 0; i < m->n_cores; i++)
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

/* Is a configuration used by a present core? */
static bool config_in_use(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_cores; i++)
		if (m->cores[i]->config && streq(m->cores[i]->config->name, name))
			return true;
	return false;
}

static int resolve_admin_group(struct manager *m)
{
	struct group *g;

	m->admin_gid = (gid_t) -1;
	if (!m->config->admin_group)
		return 0;
	errno = 0;
	g = getgrnam(m->config->admin_group);
	if (!g) {
		log_warning("AdminGroup=%s: no such group; only root may change cores",
			    m->config->admin_group);
		return 0;
	}
	m->admin_gid = g->gr_gid;
	return 0;
}

/* Load rprocd.conf and every NAME.core (errors are logged with file:line; nothing fatal). */
static int manager_load_config(struct manager *m, struct rproc_daemon_config **ret_daemon,
			       struct rproc_core_config ***ret_cores, size_t *ret_n)
{
	_cleanup_strv_free_ char **names = NULL;
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config **l = NULL;
	size_t n = 0;
	int r;

	r = rproc_daemon_config_load(m->ctx, &d);
	if (r == -EBADMSG)
		log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, NULL, NULL, NULL, 0,
			       "rprocd.conf has errors; built-in defaults stand in for them");
	else if (r < 0)
		return log_error_errno(r, "Failed to read rprocd.conf: %m");

	r = rproc_core_config_list(m->ctx, &names);
	if (r < 0) {
		rproc_daemon_config_free(d);
		return log_error_errno(r, "Failed to list core configurations: %m");
	}
	for (char **nm = names; nm && *nm; nm++) {
		struct rproc_core_config *c = NULL, **nl;

		r = rproc_core_config_load(m->ctx, *nm, d, &c);
		if (r < 0 && r != -EBADMSG) {
			log_warning_errno(r, "%s: cannot load configuration: %m", *nm);
			continue;
		}
		nl = realloc(l, sizeof(*l) * (n + 1));
		if (!nl) {
			rproc_core_config_free(c);
			core_configs_free(l, n);
			rproc_daemon_config_free(d);
			return -ENOMEM;
		}
		l = nl;
		l[n++] = c;
	}
	if (rproc_core_configs_check(l, n) < 0) {
		core_configs_free(l, n);
		rproc_daemon_config_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rproc_config_diag *e;

		if (l[i]->valid || l[i]->masked)
			continue;
		e = rproc_core_config_first_error(l[i]);
		log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, l[i]->name, NULL, NULL, 0,
			       "%s:%u: %s; core not managed", e ? strempty(e->file) : "?",
			       e ? e->line : 0, e ? e->message : "invalid");
	}
	*ret_daemon = d;
	*ret_cores = l;
	*ret_n = n;
	return 0;
}

/*
 * The configuration for a kernel device: exactly one NAME.core must match.
 * Two that match are a conflict: the device is left unmanaged and both are told.
 */
static struct rproc_core_config *match_config(struct manager *m, struct rproc_device *dev,
					      char **ret_conflict)
{
	struct rproc_core_config *found = NULL;

	*ret_conflict = NULL;
	for (size_t i = 0; i < m->n_core_configs; i++) {
		struct rproc_core_config *c = m->core_configs[i];

		if (!c || c->masked ||
		    !rproc_core_config_matches(c, rproc_device_get_name(dev),
					       rproc_device_get_devpath(dev)))
			continue;
		if (config_in_use(m, c->name))
			continue; /* already bound to an earlier device */
		if (found) {
			const struct rproc_config_origin *a = &found->origin[RPROC_KEY_MATCH_NAME],
							 *b = &c->origin[RPROC_KEY_MATCH_NAME];

			/* At the [Match] Name= lines, or the files when the name is implicit. */
			*ret_conflict = strdup_printf(
				"%s:%u: this file and %s:%u both match %s (kernel name \"%s\"): "
				"add [Match] DevicePath= to tell them apart",
				b->file ? b->file : strempty(c->path), b->line,
				a->file ? a->file : strempty(found->path), a->line,
				rproc_device_get_sysname(dev), rproc_device_get_name(dev));
			(void) strv_extend(&m->conflicted, found->name);
			(void) strv_extend(&m->conflicted, c->name);
			return NULL;
		}
		found = c;
	}
	/* A masked configuration of this name still claims it: watched, never touched. */
	if (!found)
		for (size_t i = 0; i < m->n_core_configs; i++) {
			struct rproc_core_config *c = m->core_configs[i];

			if (c && c->masked && streq(c->name, rproc_device_get_name(dev)) &&
			    !config_in_use(m, c->name))
				return c;
		}
	return found;
}

/* Take a configuration out of the manager's list (the core owns it from now on). */
static void take_config(struct manager *m, struct rproc_core_config *c)
{
	for (size_t i = 0; i < m->n_core_configs; i++)
		if (m->core_configs[i] == c)
			m->core_configs[i] = NULL;
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

/* The chardev fd the fd store gave back for this device, matched by device number. */
static int take_stored_fd(struct manager *m, struct rproc_device *dev)
{
	_cleanup_free_ char *node = NULL;
	struct stat st, fst;

	if (m->n_stored_fds == 0 ||
	    rproc_ctx_path(m->ctx, rproc_device_get_devnode(dev), &node) < 0 ||
	    stat(node, &st) < 0 || !S_ISCHR(st.st_mode))
		return -1;
	for (size_t i = 0; i < m->n_stored_fds; i++) {
		int fd = m->stored_fds[i];

		if (fd >= 0 && fstat(fd, &fst) == 0 && S_ISCHR(fst.st_mode) &&
		    fst.st_rdev == st.st_rdev) {
			m->stored_fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

static void load_stored_fds(struct manager *m)
{
	int n = sd_listen_fds(true);

	if (n <= 0)
		return;
	m->stored_fds = calloc((size_t) n, sizeof(int));
	if (!m->stored_fds) {
		for (int i = 0; i < n; i++)
			close(SD_LISTEN_FDS_START + i);
		return;
	}
	for (int i = 0; i < n; i++)
		m->stored_fds[i] = SD_LISTEN_FDS_START + i;
	m->n_stored_fds = (size_t) n;
	log_info("%d chardev%s handed back by the service manager", n, n == 1 ? "" : "s");
}

/* Fds that matched no core: their cores are gone. Closing them is all there is to do. */
static void close_stored_fds(struct manager *m)
{
	for (size_t i = 0; i < m->n_stored_fds; i++)
		if (m->stored_fds[i] >= 0) {
			close(m->stored_fds[i]);
			m->stored_fds[i] = -1;
		}
}

int manager_add_device(struct manager *m, struct rproc_device *dev)
{
	_cleanup_free_ char *conflict = NULL, *name = NULL;
	struct rproc_core_config *cfg;
	struct core *c = NULL, **nl;
	int r;

	if (manager_find_core_by_sysname(m, rproc_device_get_sysname(dev)))
		return 0;
	cfg = match_config(m, dev, &conflict);
	name = choose_name(m, dev, cfg);
	if (!name)
		return -ENOMEM;
	r = core_new(m, name, dev, cfg, &c);
	if (r < 0)
		return log_error_errno(r, "%s: cannot create core: %m",
				       rproc_device_get_sysname(dev));
	if (cfg)
		take_config(m, cfg);
	nl = realloc(m->cores, sizeof(*nl) * (m->n_cores + 1));
	if (!nl) {
		core_unref(c);
		return -ENOMEM;
	}
	m->cores = nl;
	m->cores[m->n_cores++] = c;

	if (conflict) {
		free(c->last_error);
		c->last_error = TAKE_PTR(conflict);
		log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, c->name, NULL, NULL, 0,
			       "%s; not managed", c->last_error);
	}
	r = take_stored_fd(m, dev);
	if (r >= 0) {
		/* Still bound to us across the restart: the store keeps its copy. */
		c->cdev_fd = r;
		log_core_event(LOG_INFO, NULL, c->name, NULL, NULL, 0,
			       "chardev (BindLifetime=) picked up from the fd store");
	}
	log_core_event(LOG_INFO, NULL, c->name, rproc_state_to_string(c->state), c->firmware, 0,
		       "found %s (kernel name \"%s\")%s", rproc_device_get_sysname(dev),
		       rproc_device_get_name(dev),
		       core_is_managed(c)		? ""
		       : c->config && c->config->masked ? ", masked"
							: ", not managed");
	if (m->bus)
		(void) sd_bus_emit_object_added(m->bus, c->object_path);
	core_start_first(c);
	core_emit_changes(c);
	manager_state_changed(m);
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
	/* Its configuration goes back to the pool for a device that comes later. */
	if (c->config) {
		struct rproc_core_config **nl =
			realloc(m->core_configs, sizeof(*nl) * (m->n_core_configs + 1));

		if (nl) {
			m->core_configs = nl;
			m->core_configs[m->n_core_configs++] = c->config;
			c->config = NULL;
		}
	}
	core_unref(c);
	manager_state_changed(m);
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
static void manager_scan_coredumps(struct manager *m)
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

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	(void) s;
	(void) usec;
	/* A core with a write in flight is read back by its worker. */
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_wants_poll(m->cores[i]) && !m->cores[i]->running)
			core_poll(m->cores[i]);
	manager_arm_poll(m);
	return 0;
}

void manager_arm_poll(struct manager *m)
{
	bool need = false;
	int r;

	for (size_t i = 0; i < m->n_cores && !need; i++)
		need = core_wants_poll(m->cores[i]);
	if (!need) {
		/* Nothing can change by itself: no timer, no wakeups. */
		sd_event_source_set_enabled(m->poll_timer, SD_EVENT_OFF);
		return;
	}
	if (m->poll_timer) {
		int enabled = SD_EVENT_OFF;

		sd_event_source_get_enabled(m->poll_timer, &enabled);
		if (enabled != SD_EVENT_OFF)
			return;
		r = sd_event_source_set_time_relative(m->poll_timer, m->config->poll_interval_usec);
		if (r >= 0)
			r = sd_event_source_set_enabled(m->poll_timer, SD_EVENT_ONESHOT);
	} else
		r = sd_event_add_time_relative(m->event, &m->poll_timer, CLOCK_MONOTONIC,
					       m->config->poll_interval_usec, 0, on_poll, m);
	if (r < 0)
		log_error_errno(r, "Failed to arm the poll timer: %m");
}

static void update_status(struct manager *m)
{
	unsigned n_up = 0, n_crashed = 0, n_offline = 0, n_other = 0;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < m->n_cores; i++) {
		enum rproc_state s = m->cores[i]->state;

		if (core_state_is_up(s))
			n_up++;
		else if (s == RPROC_STATE_CRASHED)
			n_crashed++;
		else if (s == RPROC_STATE_OFFLINE || s == RPROC_STATE_DETACHED)
			n_offline++;
		else
			n_other++;
	}
	text = strdup_printf("%zu core%s: %u running, %u crashed, %u offline%s", m->n_cores,
			     m->n_cores == 1 ? "" : "s", n_up, n_crashed, n_offline,
			     n_other ? ", some in other states" : "");
	if (!text || streq_ptr(text, m->status_text))
		return;
	free(m->status_text);
	m->status_text = TAKE_PTR(text);
	if (m->ready)
		sd_notifyf(false, "STATUS=%s", m->status_text);
}

void manager_state_changed(struct manager *m)
{
	bool all_decided = true;

	if (m->enumerating)
		return;
	for (size_t i = 0; i < m->n_cores; i++)
		core_check_dependencies(m->cores[i]);
	for (size_t i = 0; i < m->n_cores; i++)
		all_decided = all_decided && m->cores[i]->decided && !core_is_busy(m->cores[i]);
	update_status(m);
	manager_arm_poll(m);

	if (!m->ready && m->name_owned && all_decided) {
		m->ready = true;
		sd_notifyf(false, "READY=1\nSTATUS=%s", strempty(m->status_text));
		log_info("ready: %s", strempty(m->status_text));
	}
}

void manager_check_exit(struct manager *m)
{
	if (!m->exiting)
		return;
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_is_busy(m->cores[i]))
			return;
	if (worker_pool_running(m->workers) > 0)
		return;
	sd_event_exit(m->event, 0);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	(void) s;
	if (m->exiting)
		return 0;
	log_info("received %s: applying OnExit= and stopping", strsignal((int) si->ssi_signo));
	sd_notify(false, "STOPPING=1\nSTATUS=Applying OnExit= policies");
	m->exiting = true;
	for (size_t i = 0; i < m->n_cores; i++)
		core_queue_exit(m->cores[i]);
	manager_check_exit(m);
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
	if (r < 0)
		log_error_errno(r, "Reload failed: %m");
	for (char **msg = messages; msg && *msg; msg++)
		log_notice("%s", *msg);
	return 0;
}

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

int manager_reload(struct manager *m, char ***ret_messages)
{
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config **l = NULL, **olds;
	_cleanup_strv_free_ char **messages = NULL;
	size_t n = 0;
	int r;

	sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
	r = manager_load_config(m, &d, &l, &n);
	if (r < 0) {
		sd_notify(false, "READY=1");
		return r;
	}
	if (d->poll_interval_usec != m->config->poll_interval_usec)
		sd_event_source_set_enabled(m->poll_timer, SD_EVENT_OFF);
	rproc_daemon_config_free(m->config);
	m->config = d;
	resolve_admin_group(m);
	core_configs_free(m->core_configs, m->n_core_configs);
	m->core_configs = l;
	m->n_core_configs = n;
	strv_free(m->conflicted);
	m->conflicted = NULL;

	/* Every present core takes its new configuration (or none); first let go of the old ones. */
	olds = calloc(m->n_cores + 1, sizeof(*olds));
	if (!olds)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_cores; i++)
		olds[i] = TAKE_PTR(m->cores[i]->config);
	for (size_t i = 0; i < m->n_cores && r >= 0; i++) {
		struct core *c = m->cores[i];
		_cleanup_free_ char *conflict = NULL;
		struct rproc_core_config *cfg;

		cfg = match_config(m, c->dev, &conflict);
		if (cfg)
			take_config(m, cfg);
		if (cfg && !streq(cfg->name, c->name))
			r = strv_push(&messages, strdup_printf("%s: now configured by %s; its bus "
							       "name changes when the device is "
							       "re-added",
							       c->name, cfg->name));
		if (r >= 0)
			r = core_apply_config(c, olds[i], cfg, &messages);
		if (r >= 0 && conflict) {
			free(c->last_error);
			c->last_error = TAKE_PTR(conflict);
		}
		core_emit_changes(c);
	}
	for (size_t i = 0; i < m->n_cores; i++)
		rproc_core_config_free(olds[i]);
	free(olds);
	if (r < 0)
		return r;
	manager_state_changed(m);
	sd_notifyf(false, "READY=1\nSTATUS=%s", strempty(m->status_text));
	log_info("configuration reloaded");
	if (ret_messages)
		*ret_messages = TAKE_PTR(messages);
	return 0;
}

int manager_check_privileged(struct manager *m, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	const gid_t *gids = NULL;
	uid_t uid;
	gid_t gid;
	int r, n;

	r = sd_bus_query_sender_creds(msg,
				      SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
					      SD_BUS_CREDS_SUPPLEMENTARY_GIDS |
					      SD_BUS_CREDS_AUGMENT,
				      &creds);
	if (r < 0)
		return r;
	r = sd_bus_creds_get_euid(creds, &uid);
	if (r < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
					"cannot tell who is calling; access denied");
	if (uid == 0)
		return 0;
	if (m->admin_gid != (gid_t) -1) {
		if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == m->admin_gid)
			return 0;
		n = sd_bus_creds_get_supplementary_gids(creds, &gids);
		for (int i = 0; i < n; i++)
			if (gids[i] == m->admin_gid)
				return 0;
	}
	return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
				 "changing remote processors needs root%s%s",
				 m->config->admin_group ? " or membership of group " : "",
				 strempty(m->config->admin_group));
}

static int connect_bus(struct manager *m)
{
	int r;

	r = sd_bus_open_system(&m->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
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
	r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	return 0;
}

int manager_startup(struct manager *m)
{
	struct rproc_device **devs = NULL;
	size_t n = 0;
	sigset_t ss;
	int r;

	r = manager_load_config(m, &m->config, &m->core_configs, &m->n_core_configs);
	if (r < 0)
		return r;
	resolve_admin_group(m);
	m->test_stall = getenv("RPROCD_TEST_STALL") && streq(getenv("RPROCD_TEST_STALL"), "1");

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGUSR2);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGUSR2, on_sigusr2, m)) < 0)
		return log_error_errno(r, "Failed to set up signal handling: %m");
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0)
		log_warning_errno(r, "Failed to enable the watchdog: %m");

	r = connect_bus(m);
	if (r < 0)
		return r;

	/* The monitor starts before enumerating, so no device slips between the two. */
	r = udev_monitor_start(m);
	if (r < 0)
		log_warning_errno(r, "Failed to start the udev monitor, hotplug not seen: %m");

	load_stored_fds(m);
	r = rproc_device_enumerate(m->ctx, &devs, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to enumerate remote processors: %m");
	/* Dependencies are judged once every present core is known. */
	m->enumerating = true;
	for (size_t i = 0; i < n; i++)
		manager_add_device(m, devs[i]);
	m->enumerating = false;
	rproc_device_list_free(devs, n);
	close_stored_fds(m);
	manager_scan_coredumps(m);

	/* Configured cores the kernel does not have (yet): say so once. */
	for (size_t i = 0; i < m->n_core_configs; i++)
		if (m->core_configs[i] && !m->core_configs[i]->masked &&
		    !strv_contains(m->conflicted, m->core_configs[i]->name))
			log_info("%s: configured, no matching kernel core yet",
				 m->core_configs[i]->name);

	r = sd_bus_request_name(m->bus, "org.rprocd1", 0);
	if (r < 0)
		return log_error_errno(r, "Failed to acquire org.rprocd1 on the system bus: %m");
	m->name_owned = true;
	manager_state_changed(m);
	return 0;
}

int manager_run(struct manager *m)
{
	return sd_event_loop(m->event);
}
