/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rprocctl's side of the bus: the connection (local or -H), errors, core lookups. */

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "props.h"

#define DEST	      "org.rprocd1"
#define MANAGER_PATH  "/org/rprocd1"
#define MANAGER_IFACE "org.rprocd1.Manager"
#define CORE_IFACE    "org.rprocd1.Core"
#define CORE_PATH     "/org/rprocd1/core"

/* The kernel's refusal of a write, org.rprocd1.Error.Kernel.<ERRNO NAME> (e.g. ….Kernel.EBUSY). */
#define BUS_ERROR_KERNEL_PREFIX "org.rprocd1.Error.Kernel."

/*
 * Teach sd-bus the rprocd errors (org.rprocd1.Error.Kernel.<ERRNO> as that
 * errno), so that a failed call returns the kernel's errno. Once per process.
 */
void bus_register_errors(void);

/* The errno named by a Kernel.<ERRNO> error (EBUSY for ….Kernel.EBUSY), 0 for any other. */
int bus_error_kernel_errno(const sd_bus_error *e);

/* An error rprocd sent (org.rprocd1.Error.*), not one of sd-bus or the bus. */
bool bus_error_is_rprocd(const sd_bus_error *e);

/* The system bus here, or on arg.host through ssh; on failure says why and returns < 0. */
int bus_connect(sd_bus **ret);

/* The exit code for a failed call (rprocctl(1), EXIT STATUS). */
int bus_exit_code(const sd_bus_error *e, int r);

/*
 * The text of a failed call: the error's message (with " (ENAME)" added to a
 * Kernel.<ENAME> error that does not name it), or strerror(-r). Into buf.
 */
const char *bus_error_text(const sd_bus_error *e, int r, char *buf, size_t len);

/* GetCore: the object path of a core (*ret, free()); says nothing. */
int bus_get_core(sd_bus *bus, const char *name, char **ret, sd_bus_error *error);

/*
 * GetCore: the object path of a core (*ret, free()). On failure says why and
 * returns < 0 with the exit code in *exit_code.
 */
int bus_core_path(sd_bus *bus, const char *name, char **ret, int *exit_code);

/* GetAll of iface at path into props. */
int bus_get_all(sd_bus *bus, const char *path, const char *iface, struct props *ret,
		sd_bus_error *error);

/* The timeout for calls that wait for an operation: --timeout=, else none (UINT64_MAX). */
uint64_t bus_action_timeout(void);
