/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* librproc: the kernel's remoteproc ABI, rprocd's configuration files and
 * firmware validation. Never prints; reports through the context's log callback. */

#include "rproc/config.h"
#include "rproc/context.h"
#include "rproc/firmware.h"
#include "rproc/kernel.h"
