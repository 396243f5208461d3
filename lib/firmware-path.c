/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "context-internal.h"
#include "rproc/firmware.h"
#include "system-info.h"

#define FW_CLASS_PATH_PARAM "/sys/module/firmware_class/parameters/path"

/* The kernel's fw_path[] after firmware_class.path: directory, and whether the release follows. */
static const struct {
	const char *dir;
	bool with_release;
} default_dirs[] = {
	{ "/lib/firmware/updates", true },
	{ "/lib/firmware/updates", false },
	{ "/lib/firmware", true },
	{ "/lib/firmware", false },
};

void rproc_strv_free(char **strv)
{
	strv_free(strv);
}

bool rproc_firmware_name_is_valid(const char *name)
{
	const char *c;
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > RPROC_FIRMWARE_NAME_MAX || name[0] == '/')
		return false;
	for (c = name; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			return false;

	/* Every component must be a real name: no "", ".", "..". */
	for (c = name;;) {
		const char *e = strchrnul(c, '/');
		size_t n = (size_t) (e - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!*e)
			break;
		c = e + 1;
	}
	return true;
}

int rproc_firmware_search_path(struct rproc_ctx *ctx, char ***ret_dirs)
{
	_cleanup_strv_free_ char **dirs = NULL;
	_cleanup_free_ char *p = NULL, *custom = NULL, *release = NULL;
	int r;

	r = rproc_ctx_path(ctx, FW_CLASS_PATH_PARAM, &p);
	if (r < 0)
		return r;
	/* firmware_class.path is optional: unset, unreadable or empty means none. */
	if (read_full_file(p, 4096, &custom, NULL) >= 0) {
		char *c = strstrip(custom);

		if (c[0] == '/') {
			r = strv_extend(&dirs, c);
			if (r < 0)
				return r;
		}
	}

	/* Unknown (an image without one kernel): the directories without a release remain. */
	r = sysinfo_kernel_release(ctx, &release);
	if (r == -ENOMEM)
		return r;

	for (size_t i = 0; i < ELEMENTSOF(default_dirs); i++) {
		char *d;

		if (default_dirs[i].with_release && !release)
			continue;
		d = default_dirs[i].with_release
			    ? strdup_printf("%s/%s", default_dirs[i].dir, release)
			    : strdup(default_dirs[i].dir);
		if (!d || strv_push(&dirs, d) < 0)
			return -ENOMEM;
	}

	*ret_dirs = TAKE_PTR(dirs);
	return 0;
}

int rproc_firmware_resolve(struct rproc_ctx *ctx, const char *name, char **ret_path)
{
	_cleanup_strv_free_ char **dirs = NULL;
	bool saw_dir = false, saw_other = false;
	int r;

	if (!rproc_firmware_name_is_valid(name))
		return -EINVAL;

	r = rproc_firmware_search_path(ctx, &dirs);
	if (r < 0)
		return r;

	for (char **d = dirs; *d; d++) {
		_cleanup_free_ char *path = NULL, *host = NULL;
		struct stat st;

		path = path_join(*d, name);
		if (!path)
			return -ENOMEM;
		/* An image's links lead into the image (/lib/firmware is often one). */
		r = rproc_ctx_chase(ctx, path, 0, &host, NULL);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || stat(host, &st) < 0)
			continue;
		/* The kernel reads only regular files and goes on to the next directory. */
		if (!S_ISREG(st.st_mode)) {
			saw_dir = saw_dir || S_ISDIR(st.st_mode);
			saw_other = saw_other || !S_ISDIR(st.st_mode);
			continue;
		}
		rproc_debug(ctx, "firmware %s found at %s", name, path);
		*ret_path = TAKE_PTR(path);
		return 0;
	}
	/* Say why nothing was found where something was there. */
	return saw_dir ? -EISDIR : saw_other ? -EBADFD : -ENOENT;
}
