/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <sys/utsname.h>

#include "system-info.h"

/* The root is the host itself: what the kernel says now is the running system's answer. */
static bool root_is_host(const struct rproc_ctx *ctx)
{
	return !ctx->root[0];
}

/* The first line of a small file under the root, without surrounding white space. */
static int read_line(const struct rproc_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ char *host = NULL, *text = NULL;
	char *s;
	int r;

	/* An image's /etc/machine-id may be a link, to a path in the image. */
	r = rproc_ctx_chase(ctx, path, 0, &host, NULL);
	if (r < 0)
		return r;
	r = read_full_file(host, 4096, &text, NULL);
	if (r < 0)
		return r == -EFBIG ? -EINVAL : r;
	s = strstrip(text);
	s[strcspn(s, "\n")] = 0;
	strstrip_trailing(s);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* 128-bit ID: 32 hex digits, with the dashes of a UUID allowed; lowercase, no dashes. */
static int id128_normalize(const char *s, char **ret)
{
	char out[33];
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char) *s) || n >= 32)
			return -EINVAL;
		out[n++] = (char) tolower((unsigned char) *s);
	}
	if (n != 32)
		return -EINVAL;
	out[n] = 0;
	/* All zero is not an ID (systemd refuses it too). */
	if (strspn(out, "0") == 32)
		return -EINVAL;
	*ret = strdup(out);
	return *ret ? 0 : -ENOMEM;
}

static bool only_one_subdir(const char *host_dir, char **ret)
{
	_cleanup_closedir_ DIR *d = opendir(host_dir);
	struct dirent *de;
	char *found = NULL;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (found) {
			free(found);
			return false;
		}
		found = strdup(de->d_name);
		if (!found)
			return false;
	}
	*ret = found;
	return found != NULL;
}

int sysinfo_kernel_release(const struct rproc_ctx *ctx, char **ret)
{
	_cleanup_free_ char *modules = NULL;
	struct utsname u;
	int r;

	r = read_line(ctx, "/proc/sys/kernel/osrelease", ret);
	if (r != -ENOENT && r != -EISDIR && r != -EBADFD) {
		if (r == 0 && !**ret) {
			free(*ret);
			*ret = NULL;
			r = -EINVAL;
		}
		if (r == 0 || !root_is_host(ctx))
			return r;
	}
	if (root_is_host(ctx)) {
		if (uname(&u) < 0)
			return negative_errno();
		*ret = strdup(u.release);
		return *ret ? 0 : -ENOMEM;
	}
	/* An image: the kernel it ships, when it ships exactly one. */
	r = rproc_ctx_chase(ctx, "/lib/modules", 0, &modules, NULL);
	if (r == -ENOMEM)
		return r;
	return r >= 0 && only_one_subdir(modules, ret) ? 0 : -ENOENT;
}

static bool hostname_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char) *s) && *s != '-' && *s != '.')
			return false;
	return true;
}

int sysinfo_hostname(const struct rproc_ctx *ctx, char **ret)
{
	_cleanup_free_ char *host = NULL, *text = NULL;
	char buf[HOST_NAME_MAX + 1];
	char *line, *save = NULL;
	int r;

	if (root_is_host(ctx)) {
		if (gethostname(buf, sizeof(buf)) < 0)
			return negative_errno();
		buf[sizeof(buf) - 1] = 0;
		/* The kernel's "(none)": not set yet, /etc/hostname says what it will be. */
		if (*buf && !streq(buf, "(none)")) {
			if (!hostname_is_valid(buf))
				return -EINVAL;
			*ret = strdup(buf);
			return *ret ? 0 : -ENOMEM;
		}
	}
	/* hostname(5): the first line that is not a comment. */
	r = rproc_ctx_chase(ctx, "/etc/hostname", 0, &host, NULL);
	if (r < 0)
		return r;
	r = read_full_file(host, 4096, &text, NULL);
	if (r < 0)
		return r == -EFBIG ? -EINVAL : r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = strstrip(line);
		if (!*line || *line == '#')
			continue;
		if (!hostname_is_valid(line))
			return -EINVAL;
		*ret = strdup(line);
		return *ret ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

int sysinfo_machine_id(const struct rproc_ctx *ctx, char **ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_line(ctx, "/etc/machine-id", &s);
	if (r < 0)
		return r;
	/* Images ship it empty or "uninitialized": the first boot sets it. */
	if (!*s || streq(s, "uninitialized"))
		return -ENOMEDIUM;
	return id128_normalize(s, ret);
}

int sysinfo_boot_id(const struct rproc_ctx *ctx, char **ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_line(ctx, "/proc/sys/kernel/random/boot_id", &s);
	if (r < 0)
		return r;
	return id128_normalize(s, ret);
}

/* A device tree property under one of the directories; -ENOENT when none has it. */
static int read_dt_property(const struct rproc_ctx *ctx, const char *name, char **ret,
			    size_t *ret_size)
{
	static const char *const dirs[] = SYSINFO_DT_DIRS;
	int r = -ENOENT;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *path = NULL, *host = NULL;

		path = path_join(dirs[i], name);
		if (!path)
			return -ENOMEM;
		/* /proc/device-tree is a link to /sys/firmware/devicetree/base: in the root. */
		r = rproc_ctx_chase(ctx, path, 0, &host, NULL);
		if (r >= 0)
			r = read_full_file(host, 64 * 1024, ret, ret_size);
		if (r != -ENOENT)
			return r;
	}
	return r;
}

int sysinfo_board(const struct rproc_ctx *ctx, char ***ret_compatible, char **ret_model)
{
	_cleanup_strv_free_ char **compatible = NULL;
	_cleanup_free_ char *text = NULL, *model = NULL;
	size_t size = 0;
	int r, rm;

	r = read_dt_property(ctx, "compatible", &text, &size);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0)
		/* "vendor,board\0vendor,soc\0" */
		for (size_t at = 0; at < size;) {
			size_t l = strnlen(text + at, size - at);

			if (l > 0) {
				char *e = strndup(text + at, l);

				if (!e || strv_push(&compatible, e) < 0)
					return -ENOMEM;
			}
			at += l + 1;
		}
	rm = read_dt_property(ctx, "model", &model, NULL);
	if (rm < 0 && rm != -ENOENT)
		return rm;
	if (r == -ENOENT && rm == -ENOENT)
		return -ENOENT;
	if (model && !*model) {
		free(model);
		model = NULL;
	}
	*ret_compatible = TAKE_PTR(compatible);
	*ret_model = TAKE_PTR(model);
	return 0;
}
