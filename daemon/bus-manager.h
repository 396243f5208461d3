/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct manager;

#define MANAGER_INTERFACE "org.rprocd1.Manager"
#define MANAGER_PATH	  "/org/rprocd1"

/* org.rprocd1.Manager at /org/rprocd1. */
int bus_manager_register(struct manager *m);
