/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The table of configuration keys shared by NAME.core and rprocd.conf. */

#include "conf-env.h"
#include "conf-parser.h"

/* What is being loaded, and where assignments go. */
struct conf_target {
	struct rproc_core_config *core;		/* set when loading NAME.core */
	struct rproc_daemon_config *daemon;	/* set when loading rprocd.conf */
	struct rproc_core_settings *settings;	/* core->settings or daemon->defaults */
	const struct rproc_core_settings *base; /* what an empty assignment resets to */
	struct rproc_config_origin *origin;
	struct conf_diags diags;
	struct conf_env *env;
	uint64_t *unresolved; /* bits of keys whose value keeps a specifier (image roots) */
	uint64_t assigned;    /* bits of keys the files being loaded set (an empty value clears) */
};

#define CONF_KEY_BIT(k) (UINT64_C(1) << (k))
_Static_assert(_RPROC_KEY_MAX <= 64, "a key's bit must fit in 64 bits");

/* conf_assignment_fn for conf_parse_file(), userdata a struct conf_target. */
int conf_assign(void *userdata, const char *file, unsigned line, const char *section,
		const char *key, const char *value);

void core_settings_init(struct rproc_core_settings *s);
int core_settings_copy(struct rproc_core_settings *dst, const struct rproc_core_settings *src);
void core_settings_done(struct rproc_core_settings *s);

/* The loaders, reading against env (the board, specifier values). */
int core_config_load(struct rproc_ctx *ctx, const char *name,
		     const struct rproc_daemon_config *defaults, struct conf_env *env,
		     struct rproc_core_config **ret);
int daemon_config_load(struct rproc_ctx *ctx, struct conf_env *env,
		       struct rproc_daemon_config **ret);
/* The directories of NAME.core files, highest priority first. */
extern const char *const conf_core_dirs[];

/* A key's value formatted as in a file; NULL when not set or not of this object. */
char *conf_format_value(const struct rproc_core_config *core,
			const struct rproc_daemon_config *daemon, enum rproc_config_key key);
