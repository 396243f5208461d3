/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>

#include "context-internal.h"
#include "device-internal.h"
#include "rproc/kernel.h"

#define SYSFS_CLASS "/sys/class/remoteproc"
#define ATTR_MAX    4096

struct rproc_device {
	unsigned n_ref;
	struct rproc_ctx *ctx;
	char *sysname;
	unsigned index;
	char *name;
	char *devpath;	 /* as the managed system sees it */
	char *host_path; /* root + devpath */
	char *devnode;
};

/* "remoteproc" followed by a decimal number without leading zeros. */
static int parse_sysname(const char *sysname, unsigned *ret_index)
{
	const char *d;
	unsigned long v;
	char *end;

	if (!startswith(sysname, "remoteproc"))
		return -EINVAL;
	d = sysname + strlen("remoteproc");
	if (!isdigit((unsigned char) d[0]) || (d[0] == '0' && d[1]))
		return -EINVAL;
	errno = 0;
	v = strtoul(d, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	*ret_index = (unsigned) v;
	return 0;
}

struct rproc_device *rproc_device_ref(struct rproc_device *dev)
{
	if (dev)
		dev->n_ref++;
	return dev;
}

struct rproc_device *rproc_device_unref(struct rproc_device *dev)
{
	if (!dev || --dev->n_ref > 0)
		return NULL;
	rproc_ctx_unref(dev->ctx);
	free(dev->sysname);
	free(dev->name);
	free(dev->devpath);
	free(dev->host_path);
	free(dev->devnode);
	free(dev);
	return NULL;
}

static void rproc_device_unrefp(struct rproc_device **d)
{
	rproc_device_unref(*d);
}

int rproc_device_new(struct rproc_ctx *ctx, const char *sysname, struct rproc_device **ret)
{
	_cleanup_(rproc_device_unrefp) struct rproc_device *dev = NULL;
	_cleanup_free_ char *link = NULL;
	char real[PATH_MAX];
	const char *root = rproc_ctx_get_root(ctx);
	size_t rootlen = strlen(root);
	unsigned index;
	int r;

	if (!sysname || parse_sysname(sysname, &index) < 0)
		return -EINVAL;

	link = strdup_printf("%s" SYSFS_CLASS "/%s", root, sysname);
	if (!link)
		return -ENOMEM;
	if (!realpath(link, real))
		return errno == ENOENT ? -ENODEV : negative_errno();
	/* The device must lie inside the root, as the managed system sees it. */
	if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/')
		return -EXDEV;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->n_ref = 1;
	dev->ctx = rproc_ctx_ref(ctx);
	dev->index = index;
	dev->sysname = strdup(sysname);
	dev->host_path = strdup(real);
	dev->devpath = strdup(real + rootlen);
	dev->devnode = strdup_printf("/dev/%s", sysname);
	if (!dev->sysname || !dev->host_path || !dev->devpath || !dev->devnode)
		return -ENOMEM;

	/* Kernels before 5.4 have no "name": such a core has an empty name. */
	r = rproc_device_read_attr(dev, "name", &dev->name);
	if (r == -ENOENT)
		dev->name = strdup("");
	else if (r < 0)
		return r;
	if (!dev->name)
		return -ENOMEM;

	rproc_debug(ctx, "%s: name \"%s\" at %s", sysname, dev->name, dev->devpath);
	*ret = TAKE_PTR(dev);
	return 0;
}

static int cmp_device(const void *a, const void *b)
{
	const struct rproc_device *x = *(struct rproc_device *const *) a;
	const struct rproc_device *y = *(struct rproc_device *const *) b;

	return (x->index > y->index) - (x->index < y->index);
}

void rproc_device_list_free(struct rproc_device **devices, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rproc_device_unref(devices[i]);
	free(devices);
}

int rproc_device_enumerate(struct rproc_ctx *ctx, struct rproc_device ***ret_devices, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *dir = NULL;
	struct rproc_device **list = NULL;
	size_t n = 0;
	struct dirent *de;
	int r;

	r = rproc_ctx_path(ctx, SYSFS_CLASS, &dir);
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			return negative_errno();
		*ret_devices = NULL;
		*ret_n = 0;
		return 0;
	}

	while ((errno = 0, de = readdir(d))) {
		struct rproc_device *dev, **nl;
		unsigned idx;

		if (parse_sysname(de->d_name, &idx) < 0)
			continue;
		r = rproc_device_new(ctx, de->d_name, &dev);
		if (r == -ENODEV) /* removed while we looked */
			continue;
		if (r < 0) {
			rproc_warn(ctx, "%s: cannot open: %s", de->d_name, strerror(-r));
			continue;
		}
		nl = realloc(list, sizeof(*list) * (n + 1));
		if (!nl) {
			rproc_device_unref(dev);
			rproc_device_list_free(list, n);
			return -ENOMEM;
		}
		list = nl;
		list[n++] = dev;
	}
	if (errno) {
		r = negative_errno();
		rproc_device_list_free(list, n);
		return r;
	}

	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_device);
	*ret_devices = list;
	*ret_n = n;
	return 0;
}

struct rproc_ctx *rproc_device_get_ctx(const struct rproc_device *dev)
{
	return dev->ctx;
}

const char *rproc_device_get_sysname(const struct rproc_device *dev)
{
	return dev->sysname;
}

unsigned rproc_device_get_index(const struct rproc_device *dev)
{
	return dev->index;
}

const char *rproc_device_get_name(const struct rproc_device *dev)
{
	return dev->name;
}

const char *rproc_device_get_devpath(const struct rproc_device *dev)
{
	return dev->devpath;
}

const char *rproc_device_get_devnode(const struct rproc_device *dev)
{
	return dev->devnode;
}

static int attr_path(const struct rproc_device *dev, const char *attr, char **ret)
{
	if (!attr || !*attr || strchr(attr, '/') || streq(attr, ".") || streq(attr, ".."))
		return -EINVAL;
	*ret = path_join(dev->host_path, attr);
	return *ret ? 0 : -ENOMEM;
}

int rproc_device_read_attr(struct rproc_device *dev, const char *attr, char **ret)
{
	_cleanup_free_ char *p = NULL;
	char *v;
	int r;

	r = attr_path(dev, attr, &p);
	if (r < 0)
		return r;
	r = read_full_file(p, ATTR_MAX, &v, NULL);
	if (r < 0)
		return r;
	*ret = strstrip_trailing(v);
	return 0;
}

int rproc_device_read_state(struct rproc_device *dev, enum rproc_state *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = rproc_device_read_attr(dev, "state", &s);
	if (r < 0)
		return r;
	*ret = rproc_state_from_string(s);
	if (*ret == RPROC_STATE_INVALID && !streq(s, "invalid"))
		rproc_debug(dev->ctx, "%s: unknown state \"%s\", taken as invalid", dev->sysname,
			    s);
	return 0;
}

int rproc_device_read_firmware(struct rproc_device *dev, char **ret)
{
	return rproc_device_read_attr(dev, "firmware", ret);
}

int rproc_device_read_recovery(struct rproc_device *dev, bool *ret_enabled)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = rproc_device_read_attr(dev, "recovery", &s);
	if (r < 0)
		return r;
	if (streq(s, "enabled"))
		*ret_enabled = true;
	else if (streq(s, "disabled"))
		*ret_enabled = false;
	else
		return -EBADMSG;
	return 0;
}

int rproc_device_read_coredump(struct rproc_device *dev, enum rproc_coredump_mode *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = rproc_device_read_attr(dev, "coredump", &s);
	if (r < 0)
		return r;
	*ret = rproc_coredump_mode_from_string(s);
	return *ret == RPROC_COREDUMP_INVALID ? -EBADMSG : 0;
}

int rproc_device_write_attr(struct rproc_device *dev, const char *attr, const char *value)
{
	_cleanup_free_ char *p = NULL;
	int r;

	r = attr_path(dev, attr, &p);
	if (r < 0)
		return r;
	r = write_string_file(p, value);
	rproc_debug(dev->ctx, "%s: write %s=\"%s\": %s", dev->sysname, attr, value,
		    r < 0 ? strerror(-r) : "ok");
	return r;
}

int rproc_device_write_firmware(struct rproc_device *dev, const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	return rproc_device_write_attr(dev, "firmware", name);
}

int rproc_device_write_recovery(struct rproc_device *dev, enum rproc_recovery_cmd cmd)
{
	static const char *const words[_RPROC_RECOVERY_MAX] = {
		[RPROC_RECOVERY_ENABLED] = "enabled",
		[RPROC_RECOVERY_DISABLED] = "disabled",
		[RPROC_RECOVERY_RECOVER] = "recover",
	};

	if ((unsigned) cmd >= _RPROC_RECOVERY_MAX)
		return -EINVAL;
	return rproc_device_write_attr(dev, "recovery", words[cmd]);
}

int rproc_device_write_coredump(struct rproc_device *dev, enum rproc_coredump_mode mode)
{
	const char *w = rproc_coredump_mode_to_string(mode);

	if (!w)
		return -EINVAL;
	return rproc_device_write_attr(dev, "coredump", w);
}

int rproc_device_request(struct rproc_device *dev, enum rproc_command cmd, enum rproc_via via)
{
	const char *w = rproc_command_to_string(cmd);
	_cleanup_close_ int fd = -1;

	if (!w)
		return -EINVAL;
	if (via == RPROC_VIA_SYSFS)
		return rproc_device_write_attr(dev, "state", w);

	fd = rproc_cdev_open(dev);
	if (fd < 0)
		return fd;
	return rproc_cdev_request(fd, cmd);
}
