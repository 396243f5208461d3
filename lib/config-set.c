/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration set: rprocd.conf and every NAME.core, read against one
 * board, and the checks that need them all. rprocd and `rprocctl verify`
 * both load it here, so that what verify passes is what the daemon accepts.
 */
#include <ctype.h>
#include <dirent.h>
#include <grp.h>
#include <stdio.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "conf-keys.h"
#include "rproc/firmware.h"

struct rproc_config_set *rproc_config_set_free(struct rproc_config_set *set)
{
	if (!set)
		return NULL;
	rproc_daemon_config_free(set->daemon);
	for (size_t i = 0; i < set->n_cores; i++)
		rproc_core_config_free(set->cores[i]);
	free(set->cores);
	strv_free(set->board_compatible);
	free(set->board_model);
	conf_diags_free(set->diags, set->n_diags);
	free(set);
	return NULL;
}

static void rproc_config_set_freep(struct rproc_config_set **s)
{
	rproc_config_set_free(*s);
}

/* Does the file take part in the checks across cores (it applies on this board)? */
static bool applies(const struct rproc_core_config *c)
{
	return c && !c->masked && !c->other_board;
}

/* Record a diagnostic on a core (not logged: the program reports the set as it decides). */
static int core_diag(struct rproc_core_config *c, int priority, enum rproc_config_key key,
		     const char *fmt, ...) _printf_(4, 5);
static int core_diag(struct rproc_core_config *c, int priority, enum rproc_config_key key,
		     const char *fmt, ...)
{
	struct conf_diags diags = { &c->diags, &c->n_diags, NULL };
	const struct rproc_config_origin *o = &c->origin[key];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = conf_diagv(&diags, priority, o->file ? o->file : c->path, o->file ? o->line : 0, fmt,
		       ap);
	va_end(ap);
	return r;
}

static ssize_t config_index(struct rproc_core_config **cfgs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (applies(cfgs[i]) && streq(cfgs[i]->name, name))
			return (ssize_t) i;
	return -1;
}

/* Depth-first from cfgs[at]: is there a path back to cfgs[target]? The path is left in path[]. */
static bool reaches(struct rproc_core_config **cfgs, size_t n, size_t at, size_t target, bool *seen,
		    size_t *path, size_t *depth)
{
	const struct rproc_core_config *c = cfgs[at];
	char **lists[2] = { c->requires, c->after };

	path[(*depth)++] = at;
	for (int k = 0; k < 2; k++)
		for (char **d = lists[k]; d && *d; d++) {
			ssize_t x = config_index(cfgs, n, *d);

			if (x < 0)
				continue;
			if ((size_t) x == target)
				return true;
			if (seen[x])
				continue;
			seen[x] = true;
			if (reaches(cfgs, n, (size_t) x, target, seen, path, depth))
				return true;
		}
	(*depth)--;
	return false;
}

int rproc_core_configs_check(struct rproc_core_config **cfgs, size_t n)
{
	_cleanup_free_ bool *seen = NULL;
	_cleanup_free_ size_t *path = NULL;

	if (n == 0)
		return 0;
	seen = calloc(n, sizeof(bool));
	path = calloc(n, sizeof(size_t));
	if (!seen || !path)
		return -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		struct rproc_core_config *c = cfgs[i];
		_cleanup_free_ char *text = NULL;
		const char *next;
		size_t depth = 0;
		int r;

		if (!applies(c))
			continue;
		memset(seen, 0, n * sizeof(bool));
		if (!reaches(cfgs, n, i, i, seen, path, &depth))
			continue;
		for (size_t k = 0; k < depth; k++) {
			char *t = strdup_printf("%s%s → ", strempty(text), cfgs[path[k]]->name);

			if (!t)
				return -ENOMEM;
			free(text);
			text = t;
		}
		/* At the line of the key that leads into the cycle. */
		next = depth > 1 ? cfgs[path[1]]->name : c->name;
		r = core_diag(c, LOG_ERR,
			      strv_contains(c->requires, next) ? RPROC_KEY_REQUIRES
							       : RPROC_KEY_AFTER,
			      "dependency cycle through Requires=/After=: %s%s", text, c->name);
		if (r < 0)
			return r;
		c->valid = false;
	}
	return 0;
}

/* Requires= must name a core configured for this board, or the core fails its dependency. */
static int check_requires(struct rproc_config_set *set)
{
	for (size_t i = 0; i < set->n_cores; i++) {
		struct rproc_core_config *c = set->cores[i];

		if (!applies(c))
			continue;
		for (char **req = c->requires; req && *req; req++) {
			const struct rproc_core_config *d = NULL;
			const char *why;
			int r;

			for (size_t k = 0; k < set->n_cores && !d; k++)
				if (set->cores[k] && streq(set->cores[k]->name, *req))
					d = set->cores[k];
			if (d && applies(d))
				continue;
			why = !d	  ? "names no core configuration"
			      : d->masked ? "names a masked core"
					  : "names a core whose file is not for this board";
			r = core_diag(c, LOG_ERR, RPROC_KEY_REQUIRES,
				      "Requires=%s %s: the core will fail its dependency", *req,
				      why);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static bool same_board_conditions(const struct rproc_core_config *a,
				  const struct rproc_core_config *b)
{
	size_t n = strv_length(a->match_compatible);

	if (n != strv_length(b->match_compatible) ||
	    strv_length(a->match_model) != strv_length(b->match_model))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strv_contains(b->match_compatible, a->match_compatible[i]))
			return false;
	for (char **m = a->match_model; m && *m; m++)
		if (!strv_contains(b->match_model, *m))
			return false;
	return true;
}

/*
 * Two files that claim one kernel core by the same Name= and DevicePath=:
 * whichever core of that name appears, both match it (rprocd would refuse
 * it then). Overlapping DevicePath= globs are found when the core appears.
 */
static int check_claims(struct rproc_config_set *set)
{
	for (size_t i = 0; i < set->n_cores; i++)
		for (size_t k = i + 1; k < set->n_cores; k++) {
			struct rproc_core_config *a = set->cores[i], *b = set->cores[k];
			struct rproc_core_config *pair[2] = { a, b };
			/* A file that could not be read claims its NAME, as in matching. */
			const char *name = a->match_name ?: a->name;

			if (!applies(a) || !applies(b) || !streq(name, b->match_name ?: b->name) ||
			    !streq_ptr(a->match_device_path, b->match_device_path))
				continue;
			/* With the board unknown, other [Match] Compatible=/Model= mean other boards. */
			if (!set->board_known && !same_board_conditions(a, b))
				continue;
			for (int p = 0; p < 2; p++) {
				const struct rproc_core_config *o = pair[1 - p];
				const struct rproc_config_origin *on =
					&o->origin[RPROC_KEY_MATCH_NAME];
				int r;

				r = core_diag(
					pair[p], LOG_ERR, RPROC_KEY_MATCH_NAME,
					"%s also claims the kernel core \"%s\"%s%s (the same "
					"[Match] Name= and DevicePath=): neither file is used; "
					"tell them apart with DevicePath= or Compatible=",
					on->file ? on->file : o->path, name,
					a->match_device_path ? " at " : "",
					strempty(a->match_device_path));
				if (r < 0)
					return r;
				pair[p]->valid = false;
			}
		}
	return 0;
}

static int check_one_firmware(struct rproc_ctx *ctx, struct rproc_core_config *c,
			      enum rproc_config_key key, const char *name)
{
	struct rproc_fw_expect expect = {
		.format = c->settings.firmware_format,
		.elf_class = c->firmware_class,
		.machine = c->firmware_machine,
	};
	const char *k = strchr(rproc_config_key_name(key), '.') + 1;
	_cleanup_strv_free_ char **dirs = NULL;
	_cleanup_free_ char *path = NULL, *where = NULL, *resolved = NULL, *shown = NULL;
	int r;

	if (!name || (c->unresolved & CONF_KEY_BIT(key)))
		return 0;
	if (name[0] == '/') {
		/* An absolute Firmware= (firmware staging): the file itself, under the root. */
		_cleanup_free_ char *host = NULL;

		path = strdup(name);
		if (!path)
			return -ENOMEM;
		r = rproc_ctx_chase(ctx, name, 0, &host, NULL);
		if (r >= 0)
			r = rproc_firmware_validate_path(host, &expect, NULL);
		if (r == -ENOENT || r == -EISDIR || r == -EBADFD)
			return core_diag(c, LOG_ERR, key, "%s=%s: no such file", k, name);
	} else
		r = rproc_firmware_validate(ctx, name, &expect, NULL, &path);
	if (r == 0 || r == -ENOMEM)
		return r;
	/* The file judged, where a link led (under a root: in the image). */
	if (path && ctx->root[0] && rproc_ctx_chase(ctx, path, 0, NULL, &resolved) >= 0 &&
	    !streq(resolved, path)) {
		shown = strdup_printf("%s (a link to %s)", path, resolved);
		if (!shown)
			return -ENOMEM;
	}
	if (r == -ENOENT || r == -EISDIR || r == -EBADFD) {
		r = rproc_firmware_search_path(ctx, &dirs);
		if (r < 0)
			return r;
		where = strv_join(dirs, " ");
		if (!where)
			return -ENOMEM;
		return core_diag(c, LOG_ERR, key,
				 "%s=%s: no such file in the firmware search path (%s)", k, name,
				 where);
	}
	if (r > 0)
		return core_diag(c, LOG_ERR, key, "%s=%s: %s is not a valid image: %s (%s)", k,
				 name, shown ?: strempty(path), rproc_fw_error_describe(r),
				 rproc_fw_error_to_string(r));
	return core_diag(c, LOG_ERR, key, "%s=%s: %s cannot be read: %s", k, name,
			 shown ?: path ?: "the firmware", strerror(-r));
}

static int check_firmware(struct rproc_ctx *ctx, struct rproc_config_set *set)
{
	for (size_t i = 0; i < set->n_cores; i++) {
		struct rproc_core_config *c = set->cores[i];
		int r;

		if (!applies(c))
			continue;
		r = check_one_firmware(ctx, c, RPROC_KEY_FIRMWARE, c->firmware);
		if (r >= 0)
			r = check_one_firmware(ctx, c, RPROC_KEY_FALLBACK_FIRMWARE,
					       c->fallback_firmware);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A group of group(5)'s file at host: 1 with its gid, 0 when the file has none of that name. */
static int group_file_lookup(const char *host, const char *name, gid_t *ret_gid)
{
	_cleanup_free_ char *text = NULL;
	size_t n = strlen(name);
	char *line, *save = NULL;
	int r;

	r = read_full_file(host, 16 * 1024 * 1024, &text, NULL);
	if (r < 0)
		return r;
	/* NAME:PASSWORD:GID:MEMBERS */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long gid;
		char *gid_field, *end;

		if (strncmp(line, name, n) != 0 || line[n] != ':')
			continue;
		gid_field = strchr(line + n + 1, ':');
		if (!gid_field)
			continue;
		gid_field++;
		if (!isdigit((unsigned char) gid_field[0])) /* as glibc: no sign, no blank */
			continue;
		errno = 0;
		gid = strtoul(gid_field, &end, 10);
		if (errno || end == gid_field || (*end != ':' && *end) || gid >= (gid_t) -1)
			continue;
		*ret_gid = (gid_t) gid;
		return 1;
	}
	return 0;
}

/*
 * A group that systemd-sysusers creates at boot: a "g NAME" or "u NAME" line
 * (a user brings its group) in the image's sysusers.d. 1 with the file that
 * declares it, 0 when none does.
 */
static int sysusers_declares(struct rproc_ctx *ctx, const char *name, char **ret_file)
{
	static const char *const dirs[] = { "/etc/sysusers.d", "/run/sysusers.d",
					    "/usr/local/lib/sysusers.d", "/usr/lib/sysusers.d" };

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *host = NULL;
		_cleanup_(closedirp) DIR *dir = NULL;
		struct dirent *de;

		if (rproc_ctx_chase(ctx, dirs[i], 0, &host, NULL) < 0)
			continue;
		dir = opendir(host);
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			_cleanup_free_ char *path = NULL, *file = NULL, *text = NULL;
			char *line, *save = NULL;
			size_t l = strlen(de->d_name);

			if (l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
				continue;
			if (asprintf(&path, "%s/%s", dirs[i], de->d_name) < 0)
				return -ENOMEM;
			if (rproc_ctx_chase(ctx, path, 0, &file, NULL) < 0 ||
			    read_full_file(file, 1024 * 1024, &text, NULL) < 0)
				continue;
			for (line = strtok_r(text, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char type[4], who[257];

				if (sscanf(line, " %3s %256s", type, who) != 2)
					continue;
				if ((streq(type, "g") || streq(type, "u")) && streq(who, name)) {
					*ret_file = TAKE_PTR(path);
					return 1;
				}
			}
		}
	}
	return 0;
}

/* A group through NSS (the running system's view): 1 with its gid, 0 when there is none. */
static int group_nss_lookup(const char *name, gid_t *ret_gid)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 4096;

	for (;;) {
		struct group grp, *found = NULL;
		char *nb = realloc(buf, size);
		int e;

		if (!nb)
			return -ENOMEM;
		buf = nb;
		e = getgrnam_r(name, &grp, buf, size, &found);
		if (e == ERANGE && size < 1024 * 1024) {
			size *= 2;
			continue;
		}
		if (found) {
			*ret_gid = found->gr_gid;
			return 1;
		}
		/* getgrnam_r(3): these mean "not found" on one libc or another. */
		if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
			return 0;
		return -e;
	}
}

/*
 * AdminGroup= must name a group, or only root may change cores. For an
 * image, its own /etc/group decides (NSS would answer for the build host);
 * for the running system (rprocd, even under a test --root: its callers are
 * this system's processes), NSS. The gid is kept for rprocd's checks.
 */
static int check_admin_group(struct rproc_ctx *ctx, struct rproc_config_set *set)
{
	struct rproc_daemon_config *d = set->daemon;
	struct conf_diags diags = { &d->diags, &d->n_diags, ctx };
	const struct rproc_config_origin *o = &d->origin[RPROC_KEY_ADMIN_GROUP];
	const char *file = o->file ? o->file : d->path;
	gid_t gid = (gid_t) -1;
	int r;

	d->admin_gid = (gid_t) -1;
	if (!d->admin_group)
		return 0;
	if (ctx->image && ctx->root[0]) {
		_cleanup_free_ char *host = NULL, *declared = NULL;

		r = rproc_ctx_chase(ctx, "/etc/group", 0, &host, NULL);
		if (r >= 0)
			r = group_file_lookup(host, d->admin_group, &gid);
		if (r == -ENOMEM)
			return r;
		/* Not (yet) in /etc/group: nss-altfiles' /usr/lib/group, or sysusers.d at first boot. */
		if (r <= 0) {
			_cleanup_free_ char *alt = NULL;
			int k = rproc_ctx_chase(ctx, "/usr/lib/group", 0, &alt, NULL);

			if (k >= 0)
				k = group_file_lookup(alt, d->admin_group, &gid);
			if (k == -ENOMEM)
				return k;
			if (k > 0)
				r = k;
		}
		if (r <= 0) {
			int k = sysusers_declares(ctx, d->admin_group, &declared);

			if (k == -ENOMEM)
				return k;
			if (k > 0)
				return conf_diag(
					&diags, LOG_NOTICE, file, o->line,
					"AdminGroup=%s: not in the image's /etc/group, created "
					"at boot by %s",
					d->admin_group, declared);
		}
		if (r == -ENOENT)
			return conf_diag(&diags, LOG_WARNING, file, o->line,
					 "AdminGroup=%s: the image has no /etc/group; only root "
					 "may change cores",
					 d->admin_group);
		if (r < 0)
			return conf_diag(&diags, LOG_WARNING, file, o->line,
					 "AdminGroup=%s: the image's /etc/group cannot be read "
					 "(%s); only root may change cores",
					 d->admin_group, conf_read_error(-r));
		if (r == 0)
			return conf_diag(&diags, LOG_WARNING, file, o->line,
					 "AdminGroup=%s: no such group in the image's /etc/group; "
					 "only root may change cores",
					 d->admin_group);
	} else {
		r = group_nss_lookup(d->admin_group, &gid);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return conf_diag(&diags, LOG_WARNING, file, o->line,
					 "AdminGroup=%s: the group cannot be looked up (%s); only "
					 "root may change cores",
					 d->admin_group, strerror(-r));
		if (r == 0)
			return conf_diag(&diags, LOG_WARNING, file, o->line,
					 "AdminGroup=%s: no such group; only root may change cores",
					 d->admin_group);
	}
	d->admin_gid = gid;
	return 0;
}

static int set_diag(struct rproc_config_set *set, int priority, const char *fmt, ...)
	_printf_(3, 4);
static int set_diag(struct rproc_config_set *set, int priority, const char *fmt, ...)
{
	struct conf_diags diags = { &set->diags, &set->n_diags, NULL };
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = conf_diagv(&diags, priority, NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

int rproc_config_set_load(struct rproc_ctx *ctx, unsigned flags, struct rproc_config_set **ret)
{
	_cleanup_(rproc_config_set_freep) struct rproc_config_set *set = NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct conf_env env;
	int r;

	/* A root that is not there would read as an empty configuration: refuse it. */
	if (ctx->root[0]) {
		struct stat st;

		if (stat(ctx->root, &st) < 0)
			return negative_errno();
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}

	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	r = conf_env_init(&env, ctx);
	if (r < 0)
		return r;
	set->board_known = env.board_known;
	for (char **c = env.compatible; c && *c && r >= 0; c++)
		r = strv_extend(&set->board_compatible, *c);
	if (r >= 0 && env.model && !(set->board_model = strdup(env.model)))
		r = -ENOMEM;

	if (r >= 0) {
		r = daemon_config_load(ctx, &env, &set->daemon);
		if (r == -EBADMSG)
			r = 0;
	}
	if (r >= 0)
		r = check_admin_group(ctx, set);
	if (r >= 0)
		r = rproc_core_config_list(ctx, &names);
	for (char **nm = names; r >= 0 && nm && *nm; nm++) {
		struct rproc_core_config *c = NULL, **nl;

		r = core_config_load(ctx, *nm, set->daemon, &env, &c);
		if (r < 0 && r != -EBADMSG && r != -ENOMEM) {
			r = set_diag(set, LOG_ERR, "%s: cannot load the configuration: %s", *nm,
				     strerror(-r));
			continue;
		}
		if (r == -ENOMEM)
			break;
		nl = realloc(set->cores, sizeof(*nl) * (set->n_cores + 1));
		if (!nl) {
			rproc_core_config_free(c);
			r = -ENOMEM;
			break;
		}
		set->cores = nl;
		set->cores[set->n_cores++] = c;
		r = 0;
	}
	conf_env_done(&env);
	if (r < 0)
		return r;

	r = rproc_core_configs_check(set->cores, set->n_cores);
	if (r >= 0)
		r = check_requires(set);
	if (r >= 0)
		r = check_claims(set);
	if (r >= 0 && (flags & RPROC_CONFIG_SET_CHECK_FIRMWARE))
		r = check_firmware(ctx, set);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(set);
	return 0;
}
