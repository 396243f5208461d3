/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rproc/kernel.h"

/* The context a device was opened in (no new reference). */
struct rproc_ctx *rproc_device_get_ctx(const struct rproc_device *dev);
