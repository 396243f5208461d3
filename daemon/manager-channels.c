/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every core's rpmsg channels (the Channels property), read again from sysfs
 * when a udev event of the rpmsg or tty subsystem says something came or
 * went, when a core is found, and on a rescan. One pass over the bus covers
 * every core; a core whose channels changed emits PropertiesChanged and logs
 * which ones.
 */
#include <stdlib.h>

#include "core.h"
#include "log.h"
#include "manager.h"
#include "rpmsg-channels.h"
#include "util.h"

void manager_channels_changed(struct manager *m)
{
	m->channels_dirty = true;
	manager_schedule(m);
}

static void log_difference(struct core *c, const struct rpmsg_channels *now)
{
	for (size_t i = 0; i < now->n; i++) {
		const struct rpmsg_channel *n = &now->v[i];
		bool known = false;

		for (size_t k = 0; k < c->channels.n && !known; k++)
			known = streq(c->channels.v[k].device, n->device) &&
				streq_ptr(c->channels.v[k].node, n->node);
		if (!known)
			log_core_event(LOG_INFO, NULL, c->name, NULL, NULL, 0,
				       "rpmsg channel %s (0x%x → 0x%x, %s)%s%s", n->name, n->src,
				       n->dst, n->device, n->node ? " at " : "", strempty(n->node));
	}
	for (size_t k = 0; k < c->channels.n; k++) {
		const struct rpmsg_channel *o = &c->channels.v[k];
		bool kept = false;

		for (size_t i = 0; i < now->n && !kept; i++)
			kept = streq(now->v[i].device, o->device);
		if (!kept)
			log_core_event(LOG_INFO, NULL, c->name, NULL, NULL, 0,
				       "rpmsg channel %s (%s) gone", o->name, o->device);
	}
}

void manager_channels_run(struct manager *m)
{
	_cleanup_free_ const char **paths = NULL;
	struct rpmsg_channels *now = NULL;
	int r;

	if (!m->channels_dirty || m->n_cores == 0)
		return;
	m->channels_dirty = false;
	paths = calloc(m->n_cores, sizeof(*paths));
	now = calloc(m->n_cores, sizeof(*now));
	if (!paths || !now) {
		free(now);
		log_error("Out of memory reading the rpmsg channels");
		return;
	}
	for (size_t i = 0; i < m->n_cores; i++)
		paths[i] = rproc_device_get_devpath(m->cores[i]->dev);
	r = rpmsg_channels_read(m->ctx, paths, m->n_cores, now);
	if (r < 0) {
		/* Tried again at the next event, or the next rescan. */
		log_warning_errno(r, "Failed to read the rpmsg channels: %m");
		free(now);
		return;
	}
	for (size_t i = 0; i < m->n_cores; i++) {
		struct core *c = m->cores[i];

		if (!c->removed && !rpmsg_channels_equal(&c->channels, &now[i])) {
			log_difference(c, &now[i]);
			rpmsg_channels_clear(&c->channels);
			c->channels = now[i];
			now[i] = (struct rpmsg_channels){};
			core_changed(c);
		}
		rpmsg_channels_clear(&now[i]);
	}
	free(now);
}
