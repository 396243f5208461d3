/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>

#include "conf-keys.h"

static const char *const config_dirs[] = {
	"/etc/rprocd", "/run/rprocd", "/usr/local/lib/rprocd", "/usr/lib/rprocd", NULL,
};

const char *const conf_core_dirs[] = {
	"/etc/rprocd/cores",
	"/run/rprocd/cores",
	"/usr/local/lib/rprocd/cores",
	"/usr/lib/rprocd/cores",
	NULL,
};

const char *const *rproc_config_dirs(void)
{
	return config_dirs;
}

static const char *const start_names[_RPROC_START_MAX] = { "auto", "boot", "attach", "no" };
static const char *const stop_names[_RPROC_STOP_MAX] = { "shutdown", "detach" };
static const char *const crash_names[_RPROC_CRASH_MAX] = { "kernel", "restart", "leave" };
static const char *const exit_names[_RPROC_EXIT_MAX] = { "leave", "stop", "detach" };
static const char *const ready_timeout_names[_RPROC_READY_TIMEOUT_MAX] = { "restart", "leave",
									   "stop" };

const char *rproc_start_policy_to_string(enum rproc_start_policy p)
{
	return (unsigned) p < _RPROC_START_MAX ? start_names[p] : NULL;
}

const char *rproc_stop_policy_to_string(enum rproc_stop_policy p)
{
	return (unsigned) p < _RPROC_STOP_MAX ? stop_names[p] : NULL;
}

const char *rproc_crash_policy_to_string(enum rproc_crash_policy p)
{
	return (unsigned) p < _RPROC_CRASH_MAX ? crash_names[p] : NULL;
}

const char *rproc_exit_policy_to_string(enum rproc_exit_policy p)
{
	return (unsigned) p < _RPROC_EXIT_MAX ? exit_names[p] : NULL;
}

const char *rproc_ready_timeout_policy_to_string(enum rproc_ready_timeout_policy p)
{
	return (unsigned) p < _RPROC_READY_TIMEOUT_MAX ? ready_timeout_names[p] : NULL;
}

const char *rproc_kernel_events_to_string(enum rproc_kernel_events e)
{
	static const char *const names[_RPROC_KERNEL_EVENTS_MAX] = { "auto", "kmsg", "sysfs",
								     "no" };

	return (unsigned) e < _RPROC_KERNEL_EVENTS_MAX ? names[e] : NULL;
}

struct rproc_core_config *rproc_core_config_free(struct rproc_core_config *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->name);
	free(cfg->match_name);
	free(cfg->match_device_path);
	strv_free(cfg->match_compatible);
	strv_free(cfg->match_model);
	free(cfg->description);
	free(cfg->firmware);
	free(cfg->fallback_firmware);
	strv_free(cfg->requires);
	strv_free(cfg->after);
	strv_free(cfg->ready_when);
	strv_free(cfg->firmware_digests);
	core_settings_done(&cfg->settings);
	free(cfg->path);
	strv_free(cfg->dropins);
	strv_free(cfg->defaults_files);
	conf_diags_free(cfg->diags, cfg->n_diags);
	free(cfg);
	return NULL;
}

static void rproc_core_config_freep(struct rproc_core_config **c)
{
	rproc_core_config_free(*c);
}

int rproc_core_config_list(struct rproc_ctx *ctx, char ***ret_names)
{
	return conf_list_names(ctx, conf_core_dirs, ".core", ret_names);
}

/* Take the daemon's [Defaults], with their origins pointing at our own copies of its files. */
static int inherit_defaults(struct rproc_core_config *cfg, const struct rproc_daemon_config *d)
{
	int r;

	if (!d) {
		core_settings_init(&cfg->settings);
		cfg->settings.coredump_directory = strdup(RPROC_DEFAULT_COREDUMP_DIRECTORY);
		return cfg->settings.coredump_directory ? 0 : -ENOMEM;
	}
	r = core_settings_copy(&cfg->settings, &d->defaults);
	if (r < 0)
		return r;
	for (int k = 0; k < _RPROC_KEY_MAX; k++) {
		const char *f = d->origin[k].file;
		size_t i;

		if (!f)
			continue;
		for (i = 0; cfg->defaults_files && cfg->defaults_files[i]; i++)
			if (streq(cfg->defaults_files[i], f))
				break;
		if (!cfg->defaults_files || !cfg->defaults_files[i]) {
			r = strv_extend(&cfg->defaults_files, f);
			if (r < 0)
				return r;
		}
		cfg->origin[k] =
			(struct rproc_config_origin){ cfg->defaults_files[i], d->origin[k].line };
	}
	return 0;
}

/* Checks that need the whole file and its drop-ins. */
static int check_core(struct rproc_core_config *cfg, struct conf_target *t,
		      const struct rproc_daemon_config *defaults)
{
	const struct rproc_config_origin *o;
	int r;

	/* A strict key left to an invalid [Defaults] value: what rprocd.conf meant is unknown. */
	for (int k = 0; defaults && k < _RPROC_KEY_MAX; k++) {
		const struct rproc_config_origin *bad = &defaults->invalid[k];

		if (!bad->file || (t->assigned & CONF_KEY_BIT(k)))
			continue;
		r = conf_diag(&t->diags, LOG_ERR, cfg->path, 0,
			      "%s= is invalid in [Defaults] at %s:%u and this core does not set "
			      "it itself",
			      strchr(rproc_config_key_name((enum rproc_config_key) k), '.') + 1,
			      bad->file, bad->line);
		if (r < 0)
			return r;
		cfg->valid = false;
	}

	if (cfg->fallback_firmware && cfg->firmware &&
	    streq(cfg->fallback_firmware, cfg->firmware)) {
		o = &cfg->origin[RPROC_KEY_FALLBACK_FIRMWARE];
		r = conf_diag(&t->diags, LOG_ERR, o->file, o->line,
			      "FallbackFirmware= names the same image as Firmware=");
		if (r < 0)
			return r;
		cfg->valid = false;
	}
	if (cfg->fallback_firmware && !cfg->firmware) {
		o = &cfg->origin[RPROC_KEY_FALLBACK_FIRMWARE];
		r = conf_diag(&t->diags, LOG_ERR, o->file, o->line,
			      "FallbackFirmware= needs Firmware=");
		if (r < 0)
			return r;
		cfg->valid = false;
	}
	if (!cfg->match_name) {
		cfg->match_name = strdup(cfg->name);
		if (!cfg->match_name)
			return -ENOMEM;
	}
	/* Not an error: the file is for other boards (a root file system shared by several). */
	if (!conf_board_matches(t->env, cfg->match_compatible, cfg->match_model)) {
		bool compat_fails = !conf_board_matches(t->env, cfg->match_compatible, NULL);

		o = &cfg->origin[compat_fails ? RPROC_KEY_MATCH_COMPATIBLE : RPROC_KEY_MATCH_MODEL];
		cfg->other_board = true;
		r = conf_diag(&t->diags, LOG_NOTICE, o->file, o->line,
			      "[Match] %s= does not match this board: the file does not apply here",
			      compat_fails ? "Compatible" : "Model");
		if (r < 0)
			return r;
	}
	return 0;
}

/* A NAME.core whose NAME cannot be a core's: reported at its path, never used. */
static int load_invalid_name(struct rproc_ctx *ctx, const char *name,
			     struct rproc_core_config **ret)
{
	_cleanup_(rproc_core_config_freep) struct rproc_core_config *cfg = NULL;
	_cleanup_free_ char *fname = NULL;
	struct conf_main main_file;
	struct conf_diags diags;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	fname = strdup_printf("%s.core", name);
	if (!cfg || !fname)
		return -ENOMEM;
	cfg->firmware_machine = -1;
	cfg->name = strdup(name);
	if (!cfg->name)
		return -ENOMEM;
	r = conf_find_main(ctx, conf_core_dirs, fname, &main_file);
	if (r < 0)
		return r;
	if (!main_file.path)
		return -ENOENT;
	cfg->path = main_file.path;
	diags = (struct conf_diags){ &cfg->diags, &cfg->n_diags, ctx };
	r = conf_diag(&diags, LOG_ERR, cfg->path, 0,
		      "\"%s\" is not a valid core name (up to 64 letters, digits and _.-@:, "
		      "not starting with . or -); file ignored",
		      name);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(cfg);
	return -EBADMSG;
}

int rproc_core_config_load(struct rproc_ctx *ctx, const char *name,
			   const struct rproc_daemon_config *defaults,
			   struct rproc_core_config **ret)
{
	struct conf_env env;
	int r;

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	r = conf_env_init(&env, ctx);
	if (r < 0)
		return r;
	r = core_config_load(ctx, name, defaults, &env, ret);
	conf_env_done(&env);
	return r;
}

int core_config_load(struct rproc_ctx *ctx, const char *name,
		     const struct rproc_daemon_config *defaults, struct conf_env *env,
		     struct rproc_core_config **ret)
{
	_cleanup_(rproc_core_config_freep) struct rproc_core_config *cfg = NULL;
	_cleanup_free_ char *fname = NULL;
	struct conf_main main_file;
	struct rproc_core_settings base;
	struct conf_target t;
	int r;

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	if (!rproc_core_name_is_valid(name))
		return load_invalid_name(ctx, name, ret);

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->firmware_machine = -1;
	cfg->valid = true;
	cfg->name = strdup(name);
	fname = strdup_printf("%s.core", name);
	if (!cfg->name || !fname)
		return -ENOMEM;
	r = inherit_defaults(cfg, defaults);
	if (r < 0)
		return r;

	t = (struct conf_target){
		.core = cfg,
		.settings = &cfg->settings,
		.base = &base,
		.origin = cfg->origin,
		.diags = { &cfg->diags, &cfg->n_diags, ctx },
		.env = env,
		.unresolved = &cfg->unresolved,
	};

	r = conf_find_main(ctx, conf_core_dirs, fname, &main_file);
	if (r < 0)
		return r;
	cfg->path = main_file.path;
	if (!cfg->path)
		return -ENOENT;
	if (main_file.masked) {
		cfg->masked = true;
		rproc_debug(ctx, "core %s is masked by %s", name, cfg->path);
		*ret = TAKE_PTR(cfg);
		return 0;
	}
	if (main_file.error < 0) {
		r = conf_diag(&t.diags, LOG_ERR, cfg->path, 0, "cannot be read: %s",
			      conf_read_error(-main_file.error));
		if (r < 0)
			return r;
		cfg->valid = false;
		*ret = TAKE_PTR(cfg);
		return -EBADMSG;
	}

	r = conf_list_dropins(ctx, conf_core_dirs, fname, &t.diags, &cfg->dropins);
	if (r < 0)
		return r;

	/* An empty assignment resets a setting to what rprocd.conf gave. */
	r = core_settings_copy(&base, &cfg->settings);
	if (r < 0)
		return r;

	for (size_t i = 0; i <= strv_length(cfg->dropins) && r >= 0; i++) {
		const char *file = i == 0 ? cfg->path : cfg->dropins[i - 1];
		_cleanup_free_ char *host = NULL;

		r = rproc_ctx_chase(ctx, file, 0, &host, NULL);
		if (r >= 0)
			r = conf_parse_file(host, file, conf_assign, &t, &t.diags);
		if (r == -EBADMSG) {
			cfg->valid = false;
			r = 0;
		} else if (r < 0 && r != -ENOMEM) {
			/* Unreadable (permissions, a loop, vanished): the core is not managed. */
			cfg->valid = false;
			r = conf_diag(&t.diags, LOG_ERR, file, 0, "cannot be read: %s",
				      conf_read_error(-r));
		}
	}
	core_settings_done(&base);
	if (r < 0)
		return r;

	r = check_core(cfg, &t, defaults);
	if (r < 0)
		return r;

	r = cfg->valid ? 0 : -EBADMSG;
	*ret = TAKE_PTR(cfg);
	return r;
}

const struct rproc_config_diag *rproc_core_config_first_error(const struct rproc_core_config *cfg)
{
	for (size_t i = 0; i < cfg->n_diags; i++)
		if (cfg->diags[i].priority <= LOG_ERR)
			return &cfg->diags[i];
	return NULL;
}

char *rproc_core_config_format_value(const struct rproc_core_config *cfg, enum rproc_config_key key)
{
	return conf_format_value(cfg, NULL, key);
}

bool rproc_core_config_matches(const struct rproc_core_config *cfg, const char *kernel_name,
			       const char *devpath)
{
	const char *want = cfg->match_name ? cfg->match_name : cfg->name;

	if (cfg->other_board || !kernel_name || !streq(want, kernel_name))
		return false;
	if (cfg->match_device_path)
		return devpath && fnmatch(cfg->match_device_path, devpath, 0) == 0;
	return true;
}
