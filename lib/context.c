/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "context-internal.h"

int rproc_ctx_new(const char *root_dir, struct rproc_ctx **ret)
{
	struct rproc_ctx *ctx;
	size_t l;

	if (!ret)
		return -EINVAL;
	if (root_dir && root_dir[0] != '/')
		return -EINVAL;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->n_ref = 1;
	ctx->log_priority = LOG_INFO;
	ctx->root = strdup(root_dir ?: "");
	if (!ctx->root) {
		free(ctx);
		return -ENOMEM;
	}
	l = strlen(ctx->root);
	while (l > 0 && ctx->root[l - 1] == '/')
		ctx->root[--l] = 0;

	*ret = ctx;
	return 0;
}

struct rproc_ctx *rproc_ctx_ref(struct rproc_ctx *ctx)
{
	if (ctx)
		ctx->n_ref++;
	return ctx;
}

struct rproc_ctx *rproc_ctx_unref(struct rproc_ctx *ctx)
{
	if (!ctx || --ctx->n_ref > 0)
		return NULL;
	free(ctx->root);
	free(ctx);
	return NULL;
}

const char *rproc_ctx_get_root(const struct rproc_ctx *ctx)
{
	return ctx->root;
}

void rproc_ctx_set_image(struct rproc_ctx *ctx, int image)
{
	ctx->image = image;
}

void rproc_ctx_set_log_fn(struct rproc_ctx *ctx, rproc_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
}

void rproc_ctx_set_log_priority(struct rproc_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

int rproc_ctx_get_log_priority(const struct rproc_ctx *ctx)
{
	return ctx->log_priority;
}

int rproc_ctx_path(const struct rproc_ctx *ctx, const char *path, char **ret)
{
	char *p;

	if (!path || path[0] != '/')
		return -EINVAL;
	p = strdup_printf("%s%s", ctx->root, path);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

void rproc_ctx_log(const struct rproc_ctx *ctx, int priority, const char *file, int line,
		   const char *func, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	ctx->log_fn(ctx->log_userdata, priority, file, line, func, format, ap);
	va_end(ap);
}
