/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf-keys.h"

struct rproc_daemon_config *rproc_daemon_config_free(struct rproc_daemon_config *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->admin_group);
	core_settings_done(&cfg->defaults);
	free(cfg->path);
	strv_free(cfg->dropins);
	conf_diags_free(cfg->diags, cfg->n_diags);
	free(cfg);
	return NULL;
}

static void rproc_daemon_config_freep(struct rproc_daemon_config **c)
{
	rproc_daemon_config_free(*c);
}

int rproc_daemon_config_load(struct rproc_ctx *ctx, struct rproc_daemon_config **ret)
{
	struct conf_env env;
	int r;

	r = conf_env_init(&env, ctx);
	if (r < 0)
		return r;
	r = daemon_config_load(ctx, &env, ret);
	conf_env_done(&env);
	return r;
}

int daemon_config_load(struct rproc_ctx *ctx, struct conf_env *env,
		       struct rproc_daemon_config **ret)
{
	_cleanup_(rproc_daemon_config_freep) struct rproc_daemon_config *cfg = NULL;
	uint64_t unresolved = 0; /* only firmware checks look at it, and no firmware key is here */
	bool use_main = false;
	struct rproc_core_settings base;
	struct conf_main main_file;
	struct conf_target t;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->valid = true;
	cfg->admin_gid = (gid_t) -1;
	cfg->poll_interval_usec = RPROC_POLL_INTERVAL_AUTO;
	cfg->trace_interval_usec = RPROC_POLL_INTERVAL_AUTO;
	cfg->kernel_events = RPROC_KERNEL_EVENTS_AUTO;
	cfg->firmware_staging = RPROC_FIRMWARE_STAGING_AUTO;
	cfg->firmware_strict_modes = true;
	core_settings_init(&cfg->defaults);
	cfg->defaults.coredump_directory = strdup(RPROC_DEFAULT_COREDUMP_DIRECTORY);
	if (!cfg->defaults.coredump_directory)
		return -ENOMEM;
	r = core_settings_copy(&base, &cfg->defaults);
	if (r < 0)
		return r;

	t = (struct conf_target){
		.daemon = cfg,
		.settings = &cfg->defaults,
		.base = &base,
		.origin = cfg->origin,
		.diags = { &cfg->diags, &cfg->n_diags, ctx },
		.env = env,
		.unresolved = &unresolved,
	};

	r = conf_find_main(ctx, rproc_config_dirs(), "rprocd.conf", &main_file);
	if (r < 0)
		goto finish;
	cfg->path = main_file.path;
	/* No rprocd.conf, or a masked one: built-in defaults, drop-ins still apply. */
	if (cfg->path && !main_file.masked) {
		if (main_file.error < 0) {
			cfg->valid = false;
			r = conf_diag(&t.diags, LOG_ERR, cfg->path, 0, "cannot be read: %s",
				      conf_read_error(-main_file.error));
			if (r < 0)
				goto finish;
		} else
			use_main = true;
	}
	r = conf_list_dropins(ctx, rproc_config_dirs(), "rprocd.conf", &t.diags, &cfg->dropins);
	if (r < 0)
		goto finish;

	/* Origins point at cfg->path and cfg->dropins: they live as long as cfg. */
	for (size_t i = !use_main; i <= strv_length(cfg->dropins); i++) {
		const char *file = i == 0 ? cfg->path : cfg->dropins[i - 1];
		_cleanup_free_ char *host = NULL;

		r = rproc_ctx_chase(ctx, file, 0, &host, NULL);
		if (r >= 0)
			r = conf_parse_file(host, file, conf_assign, &t, &t.diags);
		if (r == -EBADMSG)
			cfg->valid = false;
		else if (r == -ENOMEM)
			goto finish;
		else if (r < 0) {
			cfg->valid = false;
			r = conf_diag(&t.diags, LOG_ERR, file, 0, "cannot be read: %s",
				      conf_read_error(-r));
			if (r < 0)
				goto finish;
		}
	}
	r = cfg->valid ? 0 : -EBADMSG;
	*ret = TAKE_PTR(cfg);
finish:
	core_settings_done(&base);
	return r;
}
