/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Specifiers as in systemd.unit(5), and board matching as systemd.network(5)'s [Match]. */
#include <fnmatch.h>

#include "conf-env.h"
#include "system-info.h"

static const struct {
	char letter;
	const char *what;
	const char *where; /* as the managed system has it, for messages */
	int (*read)(const struct rproc_ctx *ctx, char **ret);
} specifiers[_CONF_SPEC_MAX] = {
	[CONF_SPEC_HOSTNAME] = { 'H', "the host name", "/etc/hostname", sysinfo_hostname },
	[CONF_SPEC_MACHINE_ID] = { 'm', "the machine ID", "/etc/machine-id", sysinfo_machine_id },
	[CONF_SPEC_BOOT_ID] = { 'b', "the boot ID", "/proc/sys/kernel/random/boot_id",
				sysinfo_boot_id },
	[CONF_SPEC_RELEASE] = { 'v', "the kernel release",
				"/proc/sys/kernel/osrelease (or an image's one /lib/modules/*)",
				sysinfo_kernel_release },
};

int conf_env_init(struct conf_env *env, const struct rproc_ctx *ctx)
{
	int r;

	*env = (struct conf_env){ .ctx = ctx, .board_known = true };
	r = sysinfo_board(ctx, &env->compatible, &env->model);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* A running system without a device tree (ACPI): a board without values. */
		env->compatible = NULL;
		env->model = NULL;
		env->board_known = !ctx->image;
	}
	return 0;
}

void conf_env_done(struct conf_env *env)
{
	strv_free(env->compatible);
	free(env->model);
	for (int i = 0; i < _CONF_SPEC_MAX; i++)
		free(env->spec[i].value);
	*env = (struct conf_env){};
}

static int spec_value(struct conf_env *env, enum conf_specifier s, const char **ret)
{
	if (!env->spec[s].read) {
		int r = specifiers[s].read(env->ctx, &env->spec[s].value);

		if (r == -ENOMEM)
			return r;
		env->spec[s].read = true;
		env->spec[s].error = r < 0 ? r : 0;
	}
	*ret = env->spec[s].value;
	return env->spec[s].error;
}

static const char *reason(int error)
{
	return error == -ENOMEDIUM ? "it is not set yet (the first boot sets it)"
	       : error == -ENOENT  ? "it is not there"
	       : error == -EINVAL  ? "it holds no valid value"
				   : strerror(-error);
}

static char *why_unknown(enum conf_specifier s, int error)
{
	return strdup_printf("%%%c: %s cannot be read from %s: %s", specifiers[s].letter,
			     specifiers[s].what, specifiers[s].where, reason(error));
}

/* Append "%X (<where>: <why>)" for a specifier an image cannot tell. */
static int note_unresolved(char **notes, enum conf_specifier s, int error)
{
	char *n = strdup_printf("%s%s%%%c (%s: %s)", strempty(*notes), *notes ? ", " : "",
				specifiers[s].letter, specifiers[s].where, reason(error));

	if (!n)
		return -ENOMEM;
	free(*notes);
	*notes = n;
	return 0;
}

int conf_env_expand(struct conf_env *env, const char *value, char **ret, char **ret_why,
		    bool *ret_unresolved)
{
	_cleanup_free_ char *out = NULL, *notes = NULL;
	size_t len = 0, cap = strlen(value) + 1;
	bool unresolved = false;
	char seen[_CONF_SPEC_MAX + 1] = "";

	*ret_why = NULL;
	*ret_unresolved = false;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;

	for (const char *p = value; *p; p++) {
		const char *v = NULL;
		char one[2] = { *p, 0 };
		int s = -1, r;

		if (*p == '%') {
			p++;
			if (!*p) {
				*ret_why = strdup(
					"a lone '%' at the end (write %% for a percent sign)");
				return *ret_why ? -EINVAL : -ENOMEM;
			}
			if (*p == '%')
				v = "%";
			for (int i = 0; i < _CONF_SPEC_MAX && !v; i++)
				if (specifiers[i].letter == *p)
					s = i;
			if (!v && s < 0) {
				*ret_why = strdup_printf(
					"unknown specifier %%%c (known here: %%H %%m %%b %%v %%%%)",
					*p);
				return *ret_why ? -EINVAL : -ENOMEM;
			}
			if (!v) {
				r = spec_value(env, (enum conf_specifier) s, &v);
				if (r == -ENOMEM)
					return r;
				if (r < 0 && env->ctx->image) {
					/* Known only on the running system: checked there. */
					if (!strchr(seen, *p)) {
						seen[strlen(seen)] = *p;
						if (note_unresolved(&notes, (enum conf_specifier) s,
								    r) < 0)
							return -ENOMEM;
					}
					unresolved = true;
					continue;
				}
				if (r < 0) {
					*ret_why = why_unknown((enum conf_specifier) s, r);
					return *ret_why ? -EINVAL : -ENOMEM;
				}
			}
		} else
			v = one;

		if (len + strlen(v) + 1 > cap) {
			char *n;

			cap = (len + strlen(v) + 1) * 2;
			n = realloc(out, cap);
			if (!n)
				return -ENOMEM;
			out = n;
		}
		memcpy(out + len, v, strlen(v));
		len += strlen(v);
	}
	out[len] = 0;

	if (unresolved) {
		*ret = strdup(value);
		if (!*ret)
			return -ENOMEM;
		*ret_why = TAKE_PTR(notes);
		*ret_unresolved = true;
		return 0;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* One key: values is the board's (NULL-terminated, may be empty). */
static bool patterns_match(char *const *patterns, char *const *values)
{
	bool positive = false, match = false;

	if (!patterns || !*patterns)
		return true;
	for (char *const *p = patterns; *p; p++) {
		bool negated = (*p)[0] == '!';
		const char *glob = *p + negated;

		positive = positive || !negated;
		for (char *const *v = values; v && *v; v++)
			if (fnmatch(glob, *v, 0) == 0) {
				if (negated)
					return false;
				match = true;
			}
	}
	return positive ? match : true;
}

bool conf_board_matches(const struct conf_env *env, char *const *compatible, char *const *model)
{
	char *models[2] = { env->model, NULL };

	if (!env->board_known)
		return true;
	return patterns_match(compatible, env->compatible) && patterns_match(model, models);
}
