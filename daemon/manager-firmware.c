/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Firmware staging, the manager's side: how the kernel reaches the staging
 * directory (decided at start-up and at every reload), and the removal of
 * staged copies no core uses any more. The copying is firmware-stage.c's,
 * in the boot's worker.
 *
 * The kernel reads firmware by name from its search path, in the initial
 * mount namespace, following symbolic links but refusing "..". Two routes
 * reach /run/rprocd/firmware:
 *   - the link /lib/firmware/rprocd -> /run/rprocd/firmware (packaged):
 *     a staged copy is "rprocd/sha256-HEX";
 *   - firmware_class.path=/run/rprocd/firmware (the integrator's choice,
 *     searched first): a staged copy is "sha256-HEX".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "firmware-stage.h"
#include "log.h"
#include "manager.h"
#include "util.h"

#define FW_CLASS_PATH_PARAM "/sys/module/firmware_class/parameters/path"
#define FW_STAGE_LINK	    "/lib/firmware/rprocd"

static bool names_stage_dir(const char *s)
{
	size_t n = strlen(FW_STAGE_DIR);

	return strncmp(s, FW_STAGE_DIR, n) == 0 && (s[n] == '\0' || streq(s + n, "/"));
}

/* The route the kernel takes to the staging directory: the prefix of a staged name, or NULL. */
static const char *stage_route(struct manager *m)
{
	_cleanup_free_ char *param = NULL, *value = NULL, *link = NULL;
	char target[4096];
	ssize_t n;

	if (rproc_ctx_path(m->ctx, FW_CLASS_PATH_PARAM, &param) >= 0 &&
	    read_full_file(param, 4096, &value, NULL) >= 0 && names_stage_dir(strstrip(value)))
		return "";
	/* The link itself; under --root, /lib/firmware may be a link in the root. */
	if (rproc_ctx_chase(m->ctx, FW_STAGE_LINK, RPROC_CHASE_NOFOLLOW, &link, NULL) < 0)
		return NULL;
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	return names_stage_dir(target) ? "rprocd/" : NULL;
}

void manager_stage_done(struct manager *m)
{
	free(m->stage_dir);
	free(m->stage_prefix);
	free(m->stage_missing);
	m->stage_dir = m->stage_prefix = m->stage_missing = NULL;
}

void manager_stage_setup(struct manager *m)
{
	enum rproc_firmware_staging mode =
		m->config ? m->config->firmware_staging : RPROC_FIRMWARE_STAGING_AUTO;
	bool was_on = m->stage_dir != NULL;
	const char *prefix;

	manager_stage_done(m);
	if (mode == RPROC_FIRMWARE_STAGING_NO) {
		if (was_on)
			log_notice("firmware staging off (FirmwareStaging=no): the kernel loads "
				   "images by their names");
		return;
	}
	prefix = stage_route(m);
	if (!prefix) {
		if (mode == RPROC_FIRMWARE_STAGING_YES) {
			m->stage_missing = strdup(
				"FirmwareStaging=yes, but the kernel cannot reach " FW_STAGE_DIR
				": install the link " FW_STAGE_LINK " -> " FW_STAGE_DIR
				" (or boot with firmware_class.path=" FW_STAGE_DIR ")");
			log_error("%s", strempty(m->stage_missing));
		} else
			log_notice("firmware staging off: no link " FW_STAGE_LINK
				   " -> " FW_STAGE_DIR " (nor firmware_class.path=" FW_STAGE_DIR
				   "); the kernel loads "
				   "images by their names, and a file replaced between the check "
				   "and the load is caught only afterwards");
		return;
	}
	if (rproc_ctx_path(m->ctx, FW_STAGE_DIR, &m->stage_dir) < 0 ||
	    !(m->stage_prefix = strdup(prefix))) {
		manager_stage_done(m);
		log_error("out of memory: firmware staging off");
		return;
	}
	if (!was_on)
		log_info("firmware staging on: images are checked and loaded as copies in "
			 "%s, which the kernel reads as %s…",
			 FW_STAGE_DIR, *prefix ? "rprocd/sha256-" : "sha256-");
	m->stage_gc_pending = true;
}

static bool stage_in_use(const struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_cores; i++) {
		const char *fw = m->cores[i]->firmware;

		/* By either route: the kernel keeps the name, and loads it again for a recovery. */
		if (fw && (streq(fw, name) || (startswith(fw, "rprocd/") && streq(fw + 7, name))))
			return true;
	}
	return false;
}

void manager_stage_gc(struct manager *m)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (!m->stage_gc_pending || !m->stage_dir)
		return;
	/* A boot in flight may be copying, or about to hand its copy to the kernel. */
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_is_busy(m->cores[i]))
			return;
	m->stage_gc_pending = false;
	d = opendir(m->stage_dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		bool tmp = strncmp(de->d_name, ".stage-", 7) == 0;

		if (!tmp && (strncmp(de->d_name, FW_STAGE_PREFIX, strlen(FW_STAGE_PREFIX)) != 0 ||
			     stage_in_use(m, de->d_name)))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_debug("removed the staged copy %s: no core uses it", de->d_name);
		else if (errno != ENOENT)
			log_warning_errno(-errno, "Cannot remove the staged copy %s/%s: %m",
					  m->stage_dir, de->d_name);
	}
}

/* Does a state file in UPDATE_STATE_DIR (of any core, present or not) name this image? */
static bool manager_update_state_refers(struct manager *m, const char *image)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	const char *hex = image + strlen(FW_STAGE_PREFIX);
	struct dirent *de;

	if (rproc_ctx_path(m->ctx, UPDATE_STATE_DIR, &dir) < 0)
		return true; /* unsure: keep */
	d = opendir(dir);
	if (!d)
		return errno != ENOENT;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = path_join(dir, de->d_name), *text = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (!path || read_full_file(path, 64 * 1024, &text, NULL) < 0)
			continue;
		if (strstr(text, hex))
			return true;
	}
	return false;
}

/* Update images (UPDATE_IMAGE_DIR) no core's state refers to, and copies cut short. */
void manager_update_prune(struct manager *m)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (!m->update_prune_pending)
		return;
	for (size_t i = 0; i < m->n_cores; i++)
		if (core_is_busy(m->cores[i]))
			return; /* an Update may be copying */
	m->update_prune_pending = false;
	if (rproc_ctx_path(m->ctx, UPDATE_IMAGE_DIR, &dir) < 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		bool keep = false;

		if (strncmp(de->d_name, ".stage-", 7) != 0) {
			if (strncmp(de->d_name, FW_STAGE_PREFIX, strlen(FW_STAGE_PREFIX)) != 0)
				continue;
			for (size_t i = 0; i < m->n_cores && !keep; i++) {
				const struct core_update *u = &m->cores[i]->update;
				const char *hex = de->d_name + strlen(FW_STAGE_PREFIX);

				keep = (u->committed && streq(u->committed + 7, hex)) ||
				       (u->trial && streq(u->trial + 7, hex));
			}
			/* A core not here now (unplugged) may come back: its state decides then. */
			if (!keep && manager_update_state_refers(m, de->d_name))
				keep = true;
		}
		if (keep)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_debug("removed the update image %s: nothing refers to it", de->d_name);
	}
}
