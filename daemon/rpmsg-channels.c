/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rpmsg-channels.h"
#include "utf8.h"
#include "util.h"

#define RPMSG_BUS "/sys/bus/rpmsg/devices"

/* The client drivers' class devices below a channel: rpmsg_tty, rpmsg_char and rpmsg_ctrl. */
static const char *const node_classes[] = { "tty", "rpmsg" };

static void channel_clear(struct rpmsg_channel *ch)
{
	free(ch->name);
	free(ch->device);
	free(ch->node);
	*ch = (struct rpmsg_channel){};
}

void rpmsg_channels_clear(struct rpmsg_channels *l)
{
	for (size_t i = 0; i < l->n; i++)
		channel_clear(&l->v[i]);
	free(l->v);
	*l = (struct rpmsg_channels){};
}

static int read_attr(const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *p = path_join(dir, name);
	char *text = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_full_file(p, 4096, &text, NULL);
	if (r < 0)
		return r;
	*ret = strstrip_trailing(text);
	return 0;
}

static int read_addr(const char *dir, const char *name, uint32_t *ret)
{
	_cleanup_free_ char *text = NULL;
	unsigned long v;
	char *end;
	int r;

	r = read_attr(dir, name, &text);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || end == text || *end || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t) v;
	return 0;
}

/* The /dev node of the first class device below the channel that has one. */
static char *find_node(const char *dir)
{
	for (size_t k = 0; k < ELEMENTSOF(node_classes); k++) {
		_cleanup_free_ char *cdir = path_join(dir, node_classes[k]);
		_cleanup_closedir_ DIR *d = cdir ? opendir(cdir) : NULL;
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			_cleanup_free_ char *sub = NULL, *uevent = NULL;

			if (de->d_name[0] == '.')
				continue;
			sub = path_join(cdir, de->d_name);
			if (!sub || read_attr(sub, "uevent", &uevent) < 0)
				continue;
			for (char *l = uevent; l && *l;) {
				char *nl = strchr(l, '\n');

				if (nl)
					*nl = '\0';
				if (startswith(l, "DEVNAME=") && l[8] && !strstr(l + 8, ".."))
					return strdup_printf("/dev/%s", l + 8);
				l = nl ? nl + 1 : NULL;
			}
		}
	}
	return NULL;
}

/* The firmware chose the name: no control bytes past this point (utf8.h). */
static int escape_controls(char **s)
{
	char *e = escape_control_bytes(*s, strlen(*s), false);

	if (!e)
		return -ENOMEM;
	free(*s);
	*s = e;
	return 0;
}

static int channel_read(const char *host_dir, const char *sysname, struct rpmsg_channel *ret)
{
	struct rpmsg_channel ch = {};
	int r;

	r = read_attr(host_dir, "name", &ch.name);
	if (r >= 0)
		r = escape_controls(&ch.name);
	if (r >= 0)
		r = read_addr(host_dir, "src", &ch.src);
	if (r >= 0)
		r = read_addr(host_dir, "dst", &ch.dst);
	if (r >= 0) {
		ch.device = strdup(sysname);
		r = ch.device ? escape_controls(&ch.device) : -ENOMEM;
	}
	if (r < 0) {
		channel_clear(&ch);
		return r;
	}
	ch.node = find_node(host_dir);
	*ret = ch;
	return 0;
}

static int channel_cmp(const void *a, const void *b)
{
	const struct rpmsg_channel *x = a, *y = b;

	return strcmp(x->device, y->device);
}

static int channels_push(struct rpmsg_channels *l, struct rpmsg_channel *ch)
{
	struct rpmsg_channel *v = realloc(l->v, sizeof(*v) * (l->n + 1));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *ch;
	*ch = (struct rpmsg_channel){};
	return 0;
}

int rpmsg_channels_read(const struct rproc_ctx *ctx, const char *const *devpaths, size_t n,
			struct rpmsg_channels *ret)
{
	_cleanup_free_ char *bus = NULL, *sys = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct rpmsg_channels *out;
	struct dirent *de;
	size_t rootlen;
	int r;

	if (rproc_ctx_path(ctx, RPMSG_BUS, &bus) < 0 || rproc_ctx_path(ctx, "/sys", &sys) < 0)
		return -ENOMEM;
	rootlen = strlen(sys) - strlen("/sys");
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	d = opendir(bus);
	/* No rpmsg bus (not built, or not loaded yet): no channels anywhere. */
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *link = NULL, *real = NULL;
		struct rpmsg_channel ch;

		if (de->d_name[0] == '.')
			continue;
		link = path_join(bus, de->d_name);
		if (!link) {
			r = -ENOMEM;
			goto fail;
		}
		real = realpath(link, NULL);
		if (!real || strlen(real) <= rootlen || strncmp(real, sys, rootlen) != 0)
			continue; /* gone meanwhile, or outside the root */
		for (size_t i = 0; i < n; i++) {
			size_t l = devpaths[i] ? strlen(devpaths[i]) : 0;

			if (l == 0 || strncmp(real + rootlen, devpaths[i], l) != 0 ||
			    real[rootlen + l] != '/')
				continue;
			r = channel_read(real, de->d_name, &ch);
			if (r == -ENOMEM)
				goto fail;
			if (r < 0)
				break; /* gone while read, or not an rpmsg device */
			r = channels_push(&out[i], &ch);
			if (r < 0) {
				channel_clear(&ch);
				goto fail;
			}
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].n > 1)
			qsort(out[i].v, out[i].n, sizeof(*out[i].v), channel_cmp);
		rpmsg_channels_clear(&ret[i]);
		ret[i] = out[i];
	}
	free(out);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		rpmsg_channels_clear(&out[i]);
	free(out);
	return r;
}

bool rpmsg_channels_equal(const struct rpmsg_channels *a, const struct rpmsg_channels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct rpmsg_channel *x = &a->v[i], *y = &b->v[i];

		if (!streq(x->name, y->name) || x->src != y->src || x->dst != y->dst ||
		    !streq(x->device, y->device) || !streq_ptr(x->node, y->node))
			return false;
	}
	return true;
}

char *rpmsg_channels_format(const struct rpmsg_channels *l)
{
	_cleanup_strv_free_ char **lines = NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct rpmsg_channel *c = &l->v[i];
		char *s = strdup_printf("%s 0x%x 0x%x %s %s", c->name, c->src, c->dst, c->device,
					c->node ? c->node : "-");

		if (!s || strv_push(&lines, s) < 0)
			return NULL;
	}
	return lines ? strv_join(lines, "\n") : strdup("");
}

const struct rpmsg_channel *rpmsg_channels_find(const struct rpmsg_channels *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}
