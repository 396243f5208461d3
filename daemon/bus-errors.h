/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rprocd's D-Bus errors; each is documented in docs/DBUS.md. */
#define BUS_ERROR_NO_SUCH_CORE	   "org.rprocd1.Error.NoSuchCore"
#define BUS_ERROR_NOT_MANAGED	   "org.rprocd1.Error.NotManaged"
#define BUS_ERROR_BUSY		   "org.rprocd1.Error.Busy"
#define BUS_ERROR_INVALID_STATE	   "org.rprocd1.Error.InvalidState"
#define BUS_ERROR_INVALID_FIRMWARE "org.rprocd1.Error.InvalidFirmware"
/*
 * A kernel write failed: the errno's name follows, e.g.
 * "org.rprocd1.Error.Kernel.EBUSY" ("…Kernel.Unknown" for one without a name).
 */
#define BUS_ERROR_KERNEL_PREFIX	     "org.rprocd1.Error.Kernel."
#define BUS_ERROR_ABANDONED	     "org.rprocd1.Error.Abandoned"
#define BUS_ERROR_WEDGED	     "org.rprocd1.Error.Wedged"
#define BUS_ERROR_SHUTTING_DOWN	     "org.rprocd1.Error.ShuttingDown"
#define BUS_ERROR_START_LIMIT_HIT    "org.rprocd1.Error.StartLimitHit"
#define BUS_ERROR_UPDATE_FAILED	     "org.rprocd1.Error.UpdateFailed"
#define BUS_ERROR_UPDATE_IN_PROGRESS "org.rprocd1.Error.UpdateInProgress"
#define BUS_ERROR_NO_UPDATE	     "org.rprocd1.Error.NoUpdate"
