/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd's layering: first directory wins by file name, /dev/null masks, drop-ins sorted. */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "conf-parser.h"

/*
 * A symlink whose target is /dev/null (as the managed system sees it), the
 * node itself, or an empty regular file (size 0), as in systemd. host_path
 * is path on the host with its last link not followed.
 */
static bool is_mask(const struct rproc_ctx *ctx, const char *path, const char *host_path)
{
	struct stat st;
	char target[16];
	ssize_t n;

	if (lstat(host_path, &st) < 0)
		return false;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(host_path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (streq(target, "/dev/null"))
				return true;
		}
		if (ctx->root[0]) {
			/*
			 * An image may have no /dev/null: a chain of links is judged by
			 * where it ends in the image, not by the node found there.
			 */
			_cleanup_free_ char *host = NULL, *resolved = NULL;

			if (rproc_ctx_chase(ctx, path, RPROC_CHASE_NONEXISTENT, &host, &resolved) <
			    0)
				return false;
			if (streq(resolved, "/dev/null"))
				return true;
			if (stat(host, &st) < 0)
				return false;
		} else if (stat(host_path, &st) < 0)
			return false;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return true;
	return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

int conf_find_main(const struct rproc_ctx *ctx, const char *const *dirs, const char *name,
		   struct conf_main *ret)
{
	*ret = (struct conf_main){};

	for (const char *const *d = dirs; *d; d++) {
		_cleanup_free_ char *path = NULL, *host = NULL;
		struct stat st;
		int r;

		path = path_join(*d, name);
		if (!path)
			return -ENOMEM;
		/* Under a root, its links are resolved there (the host's are not the image's). */
		r = rproc_ctx_chase(ctx, path, RPROC_CHASE_NOFOLLOW, &host, NULL);
		if (r == -ENOMEM || r == -EINVAL)
			return r;
		if (r >= 0 && lstat(host, &st) < 0)
			r = negative_errno();
		if (r == -ENOENT)
			continue;
		if (r < 0)
			ret->error = r;
		else if (is_mask(ctx, path, host))
			ret->masked = true;
		else {
			/* Without a root the host path is the same either way. */
			if (ctx->root[0]) {
				free(host);
				host = NULL;
				r = rproc_ctx_chase(ctx, path, 0, &host, NULL);
				if (r == -ENOMEM)
					return r;
			}
			if (r >= 0 && stat(host, &st) < 0)
				r = negative_errno();
			if (r < 0)
				ret->error = r;
			else if (S_ISDIR(st.st_mode))
				ret->error = -EISDIR;
			else if (!S_ISREG(st.st_mode))
				ret->error = -EBADFD;
		}
		ret->path = TAKE_PTR(path);
		return 0;
	}
	return 0;
}

struct dropin {
	char *name;
	char *path;
	bool masked;
};

static int cmp_dropin(const void *a, const void *b)
{
	return strcmp(((const struct dropin *) a)->name, ((const struct dropin *) b)->name);
}

int conf_list_dropins(const struct rproc_ctx *ctx, const char *const *dirs, const char *name,
		      struct conf_diags *diags, char ***ret_paths)
{
	_cleanup_free_ char *dname = NULL;
	_cleanup_strv_free_ char **paths = NULL;
	struct dropin *list = NULL;
	size_t n = 0;
	int r = 0;

	dname = strdup_printf("%s.d", name);
	if (!dname)
		return -ENOMEM;

	for (const char *const *d = dirs; *d && r >= 0; d++) {
		_cleanup_free_ char *dir = NULL, *host = NULL;
		_cleanup_closedir_ DIR *dh = NULL;
		struct dirent *de;
		struct stat st;

		dir = path_join(*d, dname);
		if (!dir)
			return -ENOMEM;
		r = rproc_ctx_chase(ctx, dir, 0, &host, NULL);
		if (r == -ENOMEM || r == -EINVAL)
			break;
		if (r >= 0 && stat(host, &st) < 0)
			r = negative_errno();
		if (r < 0) {
			int e = -r;

			r = 0;
			if (e != ENOENT)
				r = conf_diag(diags, LOG_WARNING, dir, 0,
					      "drop-in directory cannot be read, ignored: %s",
					      strerror(e));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = conf_diag(diags, LOG_WARNING, dir, 0, "%s",
				      "is not a directory, drop-ins ignored");
			continue;
		}
		dh = opendir(host);
		if (!dh) {
			r = conf_diag(diags, LOG_WARNING, dir, 0,
				      "drop-in directory cannot be read, ignored: %s",
				      strerror(errno));
			continue;
		}
		while ((de = readdir(dh))) {
			_cleanup_free_ char *fhost = NULL;
			struct dropin *nl;
			bool seen = false;

			if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
				continue;
			for (size_t i = 0; i < n && !seen; i++)
				seen = streq(list[i].name, de->d_name);
			if (seen) /* a higher-priority directory has it */
				continue;

			nl = realloc(list, sizeof(*list) * (n + 1));
			if (!nl) {
				r = -ENOMEM;
				break;
			}
			list = nl;
			list[n] = (struct dropin){
				.name = strdup(de->d_name),
				.path = path_join(dir, de->d_name),
			};
			fhost = path_join(host, de->d_name);
			n++;
			if (!list[n - 1].name || !list[n - 1].path || !fhost) {
				r = -ENOMEM;
				break;
			}
			list[n - 1].masked = is_mask(ctx, list[n - 1].path, fhost);
		}
	}

	if (r >= 0) {
		if (n > 1)
			qsort(list, n, sizeof(*list), cmp_dropin);
		for (size_t i = 0; i < n && r >= 0; i++)
			if (!list[i].masked) {
				r = strv_push(&paths, list[i].path);
				list[i].path = NULL;
			}
	}
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].path);
	}
	free(list);
	if (r < 0)
		return r;
	*ret_paths = TAKE_PTR(paths);
	return 0;
}

int conf_list_names(const struct rproc_ctx *ctx, const char *const *dirs, const char *suffix,
		    char ***ret_names)
{
	_cleanup_strv_free_ char **names = NULL;
	size_t slen = strlen(suffix);
	int r;

	for (const char *const *d = dirs; *d; d++) {
		_cleanup_free_ char *host = NULL;
		_cleanup_closedir_ DIR *dh = NULL;
		struct dirent *de;

		r = rproc_ctx_chase(ctx, *d, 0, &host, NULL);
		if (r == -ENOMEM || r == -EINVAL)
			return r;
		if (r < 0)
			continue;
		dh = opendir(host);
		if (!dh)
			continue;
		while ((de = readdir(dh))) {
			size_t l = strlen(de->d_name);
			_cleanup_free_ char *nm = NULL;

			if (de->d_name[0] == '.' || l <= slen || !endswith(de->d_name, suffix))
				continue;
			/* A directory named NAME.core is listed: loading it reports the mistake. */
			nm = strndup(de->d_name, l - slen);
			if (!nm)
				return -ENOMEM;
			if (strv_contains(names, nm))
				continue;
			r = strv_push(&names, TAKE_PTR(nm));
			if (r < 0)
				return r;
		}
	}
	strv_sort(names);
	*ret_names = TAKE_PTR(names);
	return 0;
}
