/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration set, and reload as a transaction: the whole new set is
 * read and checked first (cycles included, whatever order devices come in),
 * each present core is matched against it, and only then is it swapped in.
 * Cores borrow their configuration from the set; the old set is freed after
 * the swap, when nothing points into it. Jobs take the settings they need
 * when they begin, and a job of a core that is no longer managed is answered
 * NotManaged when it comes to run.
 */
#include <stdio.h>
#include <time.h>

#include "core.h"
#include "kernel-events.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

void manager_configs_free(struct rproc_core_config **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rproc_core_config_free(l[i]);
	free(l);
}

/* The board [Match] Compatible=/Model= are matched against, for the debug log. */
static void log_board(const struct rproc_config_set *set)
{
	_cleanup_free_ char *compat = NULL;

	if (!set->board_compatible && !set->board_model) {
		log_debug("board: no device tree; [Match] Compatible=/Model= match nothing");
		return;
	}
	compat = strv_join(set->board_compatible, " ");
	log_debug("board: compatible %s, model %s", compat && *compat ? compat : "(none)",
		  set->board_model ? set->board_model : "(none)");
}

/*
 * The configuration set, loaded and checked by librproc (the same function
 * `rprocctl verify` uses); the program decides what to log: a core that is
 * not managed gets its first error, a managed one its other errors (a
 * Requires= naming no core: it will fail its dependency).
 */
int manager_load_config(struct manager *m, struct rproc_daemon_config **ret_daemon,
			struct rproc_core_config ***ret_cores, size_t *ret_n)
{
	struct rproc_config_set *set = NULL;
	int r;

	r = rproc_config_set_load(m->ctx, 0, &set);
	if (r < 0)
		return log_error_errno(r, "Failed to read the configuration: %m");
	log_board(set);
	if (!set->daemon->valid)
		log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, NULL, NULL, NULL, 0,
			       "rprocd.conf has errors; the lines in error are ignored");
	for (size_t i = 0; i < set->n_diags; i++)
		log_warning("%s", set->diags[i].message);
	for (size_t i = 0; i < set->n_cores; i++) {
		const struct rproc_core_config *c = set->cores[i];
		const struct rproc_config_diag *e;

		if (c->masked)
			continue;
		if (c->other_board) {
			log_debug("%s: %s is not for this board ([Match] Compatible=/Model=), "
				  "ignored",
				  c->name, strempty(c->path));
			continue;
		}
		if (!c->valid) {
			e = rproc_core_config_first_error(c);
			log_core_event(LOG_ERR, MESSAGE_CONFIG_ERROR, c->name, NULL, NULL, 0,
				       "%s:%u: %s; core not managed", e ? strempty(e->file) : "?",
				       e ? e->line : 0, e ? e->message : "invalid");
			continue;
		}
		for (size_t k = 0; k < c->n_diags; k++)
			if (c->diags[k].priority <= LOG_ERR)
				log_core_event(LOG_WARNING, MESSAGE_CONFIG_ERROR, c->name, NULL,
					       NULL, 0, "%s:%u: %s", strempty(c->diags[k].file),
					       c->diags[k].line, c->diags[k].message);
	}
	*ret_daemon = TAKE_PTR(set->daemon);
	*ret_cores = TAKE_PTR(set->cores);
	*ret_n = set->n_cores;
	set->n_cores = 0;
	rproc_config_set_free(set);
	return 0;
}

/* Is cfg already given to a core (other than the device being matched)? */
static bool config_taken(struct manager *m, const struct rproc_core_config *cfg,
			 const struct rproc_core_config **assigned, size_t n_assigned)
{
	if (assigned) {
		for (size_t i = 0; i < n_assigned; i++)
			if (assigned[i] == cfg)
				return true;
		return false;
	}
	for (size_t i = 0; i < m->n_cores; i++)
		if (m->cores[i]->config == cfg)
			return true;
	return false;
}

/*
 * The configuration for a kernel device: exactly one NAME.core of the set must
 * match. Two that match are a conflict: the device is left unmanaged and both
 * are told. assigned (n_assigned entries) lists what a reload has handed out
 * so far; NULL: the cores' current configurations.
 */
const struct rproc_core_config *manager_match_config(struct manager *m, struct rproc_device *dev,
						     const struct rproc_core_config **assigned,
						     size_t n_assigned, char **ret_conflict)
{
	const struct rproc_core_config *found = NULL;

	*ret_conflict = NULL;
	for (size_t i = 0; i < m->n_core_configs; i++) {
		const struct rproc_core_config *c = m->core_configs[i];

		if (!c || c->masked ||
		    !rproc_core_config_matches(c, rproc_device_get_name(dev),
					       rproc_device_get_devpath(dev)))
			continue;
		if (config_taken(m, c, assigned, n_assigned))
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
			const struct rproc_core_config *c = m->core_configs[i];

			if (c && c->masked && streq(c->name, rproc_device_get_name(dev)) &&
			    !config_taken(m, c, assigned, n_assigned))
				return c;
		}
	return found;
}

int manager_reload(struct manager *m, char ***ret_messages)
{
	struct rproc_daemon_config *d = NULL, *old_d;
	struct rproc_core_config **l = NULL, **old_l;
	const struct rproc_core_config **assigned = NULL, **olds = NULL;
	_cleanup_strv_free_ char **messages = NULL;
	char **conflicts = NULL; /* one per core, sparse: not a strv */
	size_t n_conflicts = 0;
	size_t n = 0, old_n;
	struct timespec ts;
	int r, k;

	/* A SIGHUP (or Reload) during shutdown must not queue first boots. */
	if (m->exiting)
		return -ESHUTDOWN;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	{
		_cleanup_free_ char *msg = strdup_printf(
			"RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
			(unsigned long long) ts.tv_sec * 1000000ULL +
				(unsigned long long) ts.tv_nsec / 1000);

		(void) manager_notify(m, msg ? msg : "RELOADING=1");
	}
	r = manager_load_config(m, &d, &l, &n);
	if (r < 0)
		goto done;

	/* Phase 1: match every present core against the new set; nothing changes yet. */
	assigned = calloc(m->n_cores + 1, sizeof(*assigned));
	olds = calloc(m->n_cores + 1, sizeof(*olds));
	conflicts = calloc(m->n_cores + 1, sizeof(char *));
	n_conflicts = conflicts ? m->n_cores : 0;
	if (!assigned || !olds || !conflicts) {
		manager_configs_free(l, n);
		rproc_daemon_config_free(d);
		r = -ENOMEM;
		goto done;
	}
	old_l = m->core_configs;
	old_n = m->n_core_configs;
	m->core_configs = l;
	m->n_core_configs = n;
	strv_free(m->conflicted);
	m->conflicted = NULL;
	for (size_t i = 0; i < m->n_cores; i++)
		assigned[i] = manager_match_config(m, m->cores[i]->dev, assigned, i, &conflicts[i]);

	/* Phase 2: swap. Every core takes its new configuration (or none). */
	old_d = m->config;
	m->config = d;
	if (old_d->poll_interval_usec != d->poll_interval_usec ||
	    old_d->kernel_events != d->kernel_events) {
		sd_event_source_set_enabled(m->poll_timer, SD_EVENT_OFF);
		manager_events_setup(m);
	}
	/* Each core's change is its own: nothing below evaluates another core (the run queue does). */
	for (size_t i = 0; i < m->n_cores; i++) {
		struct core *c = m->cores[i];

		if (r >= 0 && assigned[i] && !streq(assigned[i]->name, c->name))
			r = strv_push(&messages, strdup_printf("%s: now configured by %s; its bus "
							       "name changes when the device is "
							       "re-added",
							       c->name, assigned[i]->name));
		olds[i] = c->config;
		/*
		 * Every core takes and applies the new set, error or not: the old
		 * one is freed below. The first error is kept (messages may be short).
		 */
		k = core_apply_config(c, olds[i], assigned[i], &messages);
		if (r >= 0)
			r = k;
		c->config = assigned[i];
		if (conflicts[i])
			core_set_config_error(c, conflicts[i]);
	}
	manager_configs_free(old_l, old_n);
	rproc_daemon_config_free(old_d);
	(void) manager_resolve_admin_group(m);
	manager_stage_setup(m);
	manager_schedule(m);
	if (r >= 0)
		log_info("configuration reloaded");
done:
	/* The end of RELOADING=1; before start-up is done, READY=1 is the run queue's to send. */
	if (m->ready) {
		_cleanup_free_ char *msg =
			strdup_printf("READY=1\nSTATUS=%s", strempty(m->status_text));

		(void) manager_notify(m, msg ? msg : "READY=1");
	}
	free(assigned);
	free(olds);
	for (size_t i = 0; conflicts && i < n_conflicts; i++)
		free(conflicts[i]);
	free(conflicts);
	if (r >= 0 && ret_messages)
		*ret_messages = TAKE_PTR(messages);
	return r;
}
