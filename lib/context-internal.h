/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "rproc/context.h"
#include "util.h"

struct rproc_ctx {
	unsigned n_ref;
	char *root; /* "" for "/", else without trailing slash */
	rproc_log_fn log_fn;
	void *log_userdata;
	int log_priority;
	bool image; /* the root is an OS image, not a running system */
};

void rproc_ctx_log(const struct rproc_ctx *ctx, int priority, const char *file, int line,
		   const char *func, const char *format, ...) _printf_(6, 7);

#define rproc_log(ctx, prio, ...)                                                            \
	do {                                                                                 \
		const struct rproc_ctx *_c_ = (ctx);                                         \
		if (_c_ && _c_->log_fn && (prio) <= _c_->log_priority)                       \
			rproc_ctx_log(_c_, prio, __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)
#define rproc_debug(ctx, ...) rproc_log(ctx, LOG_DEBUG, __VA_ARGS__)
#define rproc_info(ctx, ...)  rproc_log(ctx, LOG_INFO, __VA_ARGS__)
#define rproc_warn(ctx, ...)  rproc_log(ctx, LOG_WARNING, __VA_ARGS__)
#define rproc_err(ctx, ...)   rproc_log(ctx, LOG_ERR, __VA_ARGS__)
