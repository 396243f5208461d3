/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct manager;

#define MANAGER_INTERFACE "org.rprocd1.Manager"
#define MANAGER_PATH	  "/org/rprocd1"

/* org.rprocd1.Manager at /org/rprocd1. */
int bus_manager_register(struct manager *m);
/* PropertiesChanged for the Manager's properties that changed since the last call. */
void bus_manager_emit_changes(struct manager *m);
void bus_manager_done(struct manager *m);
