/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Who may change remote processors: root, or a member of AdminGroup=.
 *
 * The IDs come from records taken when the caller connected, never from
 * /proc at check time (a PID can be reused, and a caller can exec something
 * else after sending): on a bus, dbus-daemon's own record through
 * org.freedesktop.DBus.GetConnectionCredentials; on a direct connection,
 * SO_PEERCRED and SO_PEERGROUPS of the socket. The bus query is asynchronous,
 * so the event loop never waits for it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/*
 * The decision, on the loop thread: error NULL means allowed; otherwise the
 * error to answer msg with. msg and userdata are the ones given to
 * bus_verify_admin_async(); msg stays referenced during the call only.
 */
typedef void (*bus_auth_done_t)(sd_bus_message *msg, void *userdata, const sd_bus_error *error);

/**
 * bus_verify_admin_async() - decide whether the sender of @msg is privileged
 * @bus: the connection @msg came on; it must be attached to an sd-event loop
 * @msg: the method call
 * @admin_gid: the group of AdminGroup=, or (gid_t)-1 for none
 * @admin_group_name: its name, for the error message (NULL: none configured)
 * @done: called with the decision
 * @userdata: passed to @done
 *
 * On success, @done is called exactly once, always later from the event loop
 * and never from inside this function: with the decision, with an error when
 * the credentials could not be had (the caller went away, the bus failed), or
 * with org.rprocd1.Error.ShuttingDown when the loop exits first. A reply
 * arriving after that is ignored. Nothing is left allocated once @done has
 * returned. @userdata must stay valid until then. If the event is freed
 * without exiting (a daemon torn down by a test), @done is called from
 * sd_event_unref() with org.rprocd1.Error.ShuttingDown: on an error, @done
 * should only answer @msg and free what @userdata holds for the call.
 *
 * Call it from the method handler and return 1 from there: the reply is sent
 * by @done (or later by whatever @done queues).
 *
 * Return: 0, or a negative errno; then @done is never called.
 */
int bus_verify_admin_async(sd_bus *bus, sd_bus_message *msg, gid_t admin_gid,
			   const char *admin_group_name, bus_auth_done_t done, void *userdata);

/**
 * bus_auth_check_ids() - the decision on IDs from a trusted record
 * @uid: the caller's (effective) user ID
 * @groups_known: false when the record has no groups (an old bus without
 *                UnixGroupIDs): then only root passes
 * @gids: its group IDs (primary and supplementary)
 * @n_gids: how many
 * @admin_gid: the group of AdminGroup=, or (gid_t)-1 for none
 * @admin_group_name: its name, for the error message
 * @error: set when denied
 *
 * Return: 0 when allowed, or -EACCES with @error set.
 */
int bus_auth_check_ids(uid_t uid, bool groups_known, const gid_t *gids, size_t n_gids,
		       gid_t admin_gid, const char *admin_group_name, sd_bus_error *error);
