/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What configuration files are read against: the board (for [Match]
 * Compatible= and Model=) and the values of specifiers (%H, %m, %b, %v),
 * all read through the context's root. One per load of the configuration;
 * specifier values are read on first use.
 */

#include "context-internal.h"

enum conf_specifier {
	CONF_SPEC_HOSTNAME,   /* %H */
	CONF_SPEC_MACHINE_ID, /* %m */
	CONF_SPEC_BOOT_ID,    /* %b */
	CONF_SPEC_RELEASE,    /* %v */
	_CONF_SPEC_MAX,
};

struct conf_env {
	const struct rproc_ctx *ctx;
	bool board_known;  /* false: an image without a device tree (every board may apply) */
	char **compatible; /* the board's compatible entries; NULL when it has no device tree */
	char *model;	   /* NULL when none */
	struct {
		bool read;
		int error; /* negative errno when the value cannot be had */
		char *value;
	} spec[_CONF_SPEC_MAX];
};

/* Read the board. Returns 0 or -ENOMEM (an unreadable device tree is no device tree). */
int conf_env_init(struct conf_env *env, const struct rproc_ctx *ctx);
void conf_env_done(struct conf_env *env);

/*
 * conf_env_expand() - replace the specifiers of a value
 * @ret: the value with specifiers replaced; under an image root, when a
 *       specifier's value cannot be known there, the value as written
 * @ret_why: on -EINVAL, why; when unresolved, which specifiers and why
 *	      ("%b (/proc/sys/kernel/random/boot_id: it is not there)"); caller frees
 * @ret_unresolved: set when *ret still holds a specifier (image roots only)
 *
 * Returns 0; -EINVAL for an unknown specifier, a lone '%' at the end, or a
 * value the running system cannot give (an unset machine ID, an unreadable
 * host name); -ENOMEM.
 */
int conf_env_expand(struct conf_env *env, const char *value, char **ret, char **ret_why,
		    bool *ret_unresolved);

/*
 * conf_board_matches() - do [Match] Compatible= and Model= hold for the board
 * @compatible, @model: patterns (fnmatch(3) globs, "!" first: negated); NULL or empty: any
 *
 * For each key: no negated pattern may match a value of the board, and when
 * the key has patterns that are not negated, one of them must match one value
 * (compatible: any entry of the list). A board without a device tree has no
 * values: only negated patterns hold. An unknown board (image) matches all.
 */
bool conf_board_matches(const struct conf_env *env, char *const *compatible, char *const *model);
