/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requires= and After= of the first decision. Evaluated from the manager's run
 * queue only, once every core of the configuration set has its configuration
 * (start-up, reload), so the order in which devices are enumerated never
 * matters.
 */
#include <stdio.h>

#include "core.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "messages.h"
#include "util.h"

/* Is a configuration of this name in the set (a core that may still appear)? */
static bool name_configured(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_core_configs; i++) {
		const struct rproc_core_config *cfg = m->core_configs[i];

		if (cfg && streq(cfg->name, name) && cfg->valid && !cfg->masked &&
		    !cfg->other_board)
			return true;
	}
	return false;
}

/* Requires= must be up, After= must have decided. */
static enum dep_state core_dependencies(struct core *c, char **why)
{
	const struct rproc_core_config *cfg = c->config;

	for (char **n = cfg->requires; n && *n; n++) {
		struct core *d = manager_find_core(c->manager, *n);

		/*
		 * Not here yet, but configured: its driver may come later (a module
		 * loaded after rprocd, hotplug in any order). Wait, and say so.
		 */
		if (!d && (c->manager->enumerating || name_configured(c->manager, *n))) {
			_cleanup_free_ char *text =
				strdup_printf("waiting for required core %s to appear", *n);

			core_set_config_error(c, text);
			c->dep_absent = !c->manager->enumerating;
			return DEP_WAITING;
		}
		if (!d || !core_is_managed(d)) {
			if (asprintf(why, "required core %s is %s", *n,
				     !name_configured(c->manager, *n)
					     ? "not configured or not valid"
				     : !d ? "not present"
					  : "not managed") < 0)
				*why = NULL;
			return DEP_FAILED;
		}
		if (!d->decided || d->dep == DEP_WAITING || core_is_busy(d))
			return DEP_WAITING;
		if (!core_state_is_up(d->state)) {
			if (asprintf(why, "required core %s is %s%s%s", *n,
				     rproc_state_to_string(d->state), d->last_error ? ": " : "",
				     strempty(d->last_error)) < 0)
				*why = NULL;
			return DEP_FAILED;
		}
	}
	for (char **n = cfg->after; n && *n; n++) {
		struct core *d = manager_find_core(c->manager, *n);

		if (d && core_is_managed(d) &&
		    (!d->decided || d->dep == DEP_WAITING || core_is_busy(d)))
			return DEP_WAITING;
	}
	return DEP_NONE;
}

void core_check_dependencies(struct core *c)
{
	_cleanup_free_ char *why = NULL;

	if (c->dep != DEP_WAITING || c->removed)
		return;
	if (!core_is_managed(c)) {
		c->dep = DEP_NONE;
		c->decided = true;
		core_changed(c);
		return;
	}
	c->dep_absent = false;
	c->dep = core_dependencies(c, &why);
	if (c->dep == DEP_WAITING)
		return;
	core_changed(c);
	core_set_error(c, NULL);
	if (c->dep == DEP_FAILED) {
		core_set_config_error(c, why);
		core_log(c, LOG_ERR, MESSAGE_CORE_FAILED, 0, why ? why : "dependency failed");
		c->decided = true;
		return;
	}
	if (core_queue_internal(c, JOB_FIRST) < 0) {
		core_set_error(c, "cannot queue the first decision");
		c->decided = true;
	}
}
