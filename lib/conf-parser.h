/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context-internal.h"
#include "rproc/config.h"

/* Diagnostics collected while loading one configuration object. */
struct conf_diags {
	struct rproc_config_diag **v;
	size_t *n;
	const struct rproc_ctx *ctx;
};

/* Record (and log through the context) a diagnostic. Returns -ENOMEM or 0. */
int conf_diag(struct conf_diags *d, int priority, const char *file, unsigned line, const char *fmt,
	      ...) _printf_(5, 6);
void conf_diags_free(struct rproc_config_diag *v, size_t n);
/* Why a configuration file cannot be read, for "cannot be read: %s" (error > 0). */
const char *conf_read_error(int error);

/*
 * Called for each assignment. Returns 0, -EINVAL when the value is invalid
 * (the callback has recorded why), or another negative errno to abort.
 */
typedef int (*conf_assignment_fn)(void *userdata, const char *file, unsigned line,
				  const char *section, const char *key, const char *value);

/* Longest logical line (after continuation lines are joined). */
#define CONF_LINE_MAX (32u * 1024u)
/* Largest configuration file. */
#define CONF_FILE_MAX (1024u * 1024u)

/*
 * conf_parse_file() - parse one file in systemd.syntax(7)
 * @host_path: where to read it
 * @file: the name diagnostics give (the path as the managed system sees it)
 *
 * Syntax errors are recorded as LOG_ERR diagnostics. Returns 0 when the file
 * had no error, -EBADMSG when it had one (all assignments that were valid
 * were still passed on), another negative errno when it could not be read.
 */
int conf_parse_file(const char *host_path, const char *file, conf_assignment_fn fn, void *userdata,
		    struct conf_diags *diags);

/* Find the main file: the first of dirs/name that exists. */
struct conf_main {
	char *path;  /* as the managed system sees it; NULL when none */
	bool masked; /* a symlink to /dev/null or an empty file in the winning directory */
	int error;   /* negative errno when the winning entry cannot be used */
};
int conf_find_main(const struct rproc_ctx *ctx, const char *const *dirs, const char *name,
		   struct conf_main *ret);

/*
 * Drop-ins dir/name.d/ *.conf of every dir: deduplicated by file name (the
 * first directory wins), sorted by file name, masked ones left out.
 * Problems (a drop-in directory that is a file, an unreadable directory)
 * are recorded as diagnostics.
 */
int conf_list_dropins(const struct rproc_ctx *ctx, const char *const *dirs, const char *name,
		      struct conf_diags *diags, char ***ret_paths);

/* Names "X" of every dir/X<suffix> (regular files, links), deduplicated and sorted. */
int conf_list_names(const struct rproc_ctx *ctx, const char *const *dirs, const char *suffix,
		    char ***ret_names);
