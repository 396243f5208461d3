/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* librproc: the kernel's remoteproc ABI, rprocd's configuration files and
 * firmware validation. Never prints; reports through the context's log callback.
 * An internal static library of rprocd, rprocctl and the tests: not installed,
 * no stable API or ABI (docs/LIBRARY.md says why and what a public one needs). */

#include "rproc/config.h"
#include "rproc/context.h"
#include "rproc/firmware.h"
#include "rproc/kernel.h"
