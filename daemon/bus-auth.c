/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Privileged methods: asynchronous check of root or AdminGroup= on credentials from connection time. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "bus-auth.h"
#include "bus-errors.h"
#include "util.h"

/* GetConnectionCredentials sends group IDs as uint32. */
_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is not 32 bits");

/*
 * A query owns itself from bus_verify_admin_async() to its completion. Its
 * event sources are floating (the event owns them), so that they do not keep
 * the event alive: when the event is freed without exiting (a daemon torn
 * down from a test), the exit source's destroy callback releases the query.
 */
struct auth_query {
	sd_bus_message *msg;
	gid_t admin_gid;
	char *admin_group_name;
	bus_auth_done_t done;
	void *userdata;

	sd_bus_slot *slot;	  /* a bus: GetConnectionCredentials in flight */
	sd_event_source *defer;	  /* a direct connection: the decision, on the next iteration */
	sd_bus_error decision;	  /* a direct connection: what defer delivers */
	sd_event_source *on_exit; /* the loop exits before the answer: cancel */
};

/* Release what the query holds, not its event sources (borrowed, see above). */
static void auth_query_drop(struct auth_query *q)
{
	if (!q)
		return;
	sd_bus_slot_unref(q->slot);
	sd_bus_error_free(&q->decision);
	sd_bus_message_unref(q->msg);
	free(q->admin_group_name);
	free(q);
}

static void on_exit_source_destroyed(void *userdata)
{
	struct auth_query *q = userdata;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

	/* The sources are going with the event: forget them, and still answer once. */
	q->defer = q->on_exit = NULL;
	q->slot = sd_bus_slot_unref(q->slot);
	(void) sd_bus_error_set(&error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	q->done(q->msg, q->userdata, &error);
	auth_query_drop(q);
}

/* Hand a new source to the event (it holds no reference on the event from now on). */
static int source_make_floating(sd_event_source *s)
{
	int r = sd_event_source_set_floating(s, 1);

	if (r < 0)
		return r;
	sd_event_source_unref(s);
	return 0;
}

/* Free a source of the query now (floating or, if that failed earlier, not). */
static void source_release(sd_event_source **s)
{
	if (!*s)
		return;
	(void) sd_event_source_set_destroy_callback(*s, NULL);
	if (sd_event_source_get_floating(*s) > 0) {
		/* Take the event's reference back, then drop it. */
		sd_event_source_ref(*s);
		(void) sd_event_source_set_floating(*s, 0);
	}
	*s = sd_event_source_disable_unref(*s);
}

static void auth_query_free(struct auth_query *q)
{
	if (!q)
		return;
	source_release(&q->defer);
	source_release(&q->on_exit);
	auth_query_drop(q);
}

static void auth_query_freep(struct auth_query **q)
{
	auth_query_free(*q);
}

/* The one way out of a query: the decision is delivered, and everything is released. */
static void auth_query_complete(struct auth_query *q, const sd_bus_error *error)
{
	/* Cancel what is still pending first: nothing can call back in after this. */
	q->slot = sd_bus_slot_unref(q->slot);
	source_release(&q->defer);
	source_release(&q->on_exit);
	q->done(q->msg, q->userdata, error);
	auth_query_drop(q);
}

int bus_auth_check_ids(uid_t uid, bool groups_known, const gid_t *gids, size_t n_gids,
		       gid_t admin_gid, const char *admin_group_name, sd_bus_error *error)
{
	if (uid == 0)
		return 0;
	if (admin_gid != (gid_t) -1 && groups_known)
		for (size_t i = 0; i < n_gids; i++)
			if (gids[i] == admin_gid)
				return 0;
	if (admin_gid != (gid_t) -1 && !groups_known)
		return sd_bus_error_setf(
			error, SD_BUS_ERROR_ACCESS_DENIED,
			"changing remote processors needs root or membership of "
			"group %s, but the bus does not report the caller's groups "
			"(no UnixGroupIDs): only root is allowed",
			strempty(admin_group_name));
	return sd_bus_error_setf(
		error, SD_BUS_ERROR_ACCESS_DENIED, "changing remote processors needs root%s%s",
		admin_group_name ? " or membership of group " : "", strempty(admin_group_name));
}

/* Credentials of a direct connection: SO_PEERCRED and SO_PEERGROUPS, never /proc. */
static int check_peer(struct auth_query *q, sd_bus *bus, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	_cleanup_free_ gid_t *all = NULL;
	const gid_t *gids = NULL;
	uid_t uid;
	gid_t gid;
	int r, n;

	r = sd_bus_get_owner_creds(
		bus, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
		&creds);
	if (r < 0 || sd_bus_creds_get_euid(creds, &uid) < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
					"cannot tell who is calling; access denied");
	if (sd_bus_creds_get_egid(creds, &gid) < 0)
		return bus_auth_check_ids(uid, false, NULL, 0, q->admin_gid, q->admin_group_name,
					  error);
	n = sd_bus_creds_get_supplementary_gids(creds, &gids);
	if (n < 0)
		n = 0; /* no SO_PEERGROUPS: the primary group still counts */
	all = calloc((size_t) n + 1, sizeof(gid_t));
	if (!all)
		return -ENOMEM;
	all[0] = gid;
	for (int i = 0; i < n; i++)
		all[i + 1] = gids[i];
	return bus_auth_check_ids(uid, true, all, (size_t) n + 1, q->admin_gid, q->admin_group_name,
				  error);
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct auth_query *q = userdata;

	(void) s;
	auth_query_complete(q, sd_bus_error_is_set(&q->decision) ? &q->decision : NULL);
	return 0;
}

static int on_loop_exit(sd_event_source *s, void *userdata)
{
	struct auth_query *q = userdata;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

	(void) s;
	(void) sd_bus_error_set(&error, BUS_ERROR_SHUTTING_DOWN, "rprocd is shutting down");
	auth_query_complete(q, &error);
	return 0;
}

/* Read GetConnectionCredentials' a{sv}: UnixUserID, and UnixGroupIDs when the bus has them. */
static int parse_credentials(sd_bus_message *reply, uid_t *ret_uid, gid_t **ret_gids, size_t *ret_n,
			     bool *ret_have_gids)
{
	bool have_uid = false;
	int r;

	*ret_have_gids = false;
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read(reply, "s", &key);
		if (r < 0)
			return r;
		if (streq(key, "UnixUserID")) {
			uint32_t u;

			r = sd_bus_message_read(reply, "v", "u", &u);
			if (r < 0)
				return r;
			*ret_uid = (uid_t) u;
			have_uid = true;
		} else if (streq(key, "UnixGroupIDs")) {
			const void *p;
			size_t size;

			r = sd_bus_message_enter_container(reply, 'v', "au");
			if (r < 0)
				return r;
			r = sd_bus_message_read_array(reply, 'u', &p, &size);
			if (r < 0)
				return r;
			free(*ret_gids);
			*ret_gids = NULL;
			if (size > 0) {
				*ret_gids = malloc(size);
				if (!*ret_gids)
					return -ENOMEM;
				memcpy(*ret_gids, p, size);
			}
			*ret_n = size / sizeof(uint32_t);
			*ret_have_gids = true;
			r = sd_bus_message_exit_container(reply);
			if (r < 0)
				return r;
		} else {
			r = sd_bus_message_skip(reply, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return r;
	return have_uid ? 0 : -ENODATA;
}

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct auth_query *q = userdata;
	_cleanup_free_ gid_t *gids = NULL;
	bool have_gids;
	size_t n = 0;
	uid_t uid = (uid_t) -1;
	int r;

	(void) ret_error;
	if (sd_bus_message_is_method_error(reply, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);

		(void) sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
					 "cannot tell who is calling (%s); access denied",
					 e && e->message ? e->message : "no credentials");
	} else {
		r = parse_credentials(reply, &uid, &gids, &n, &have_gids);
		if (r < 0)
			(void) sd_bus_error_set(&error, SD_BUS_ERROR_ACCESS_DENIED,
						"cannot tell who is calling; access denied");
		else
			(void) bus_auth_check_ids(uid, have_gids, gids, n, q->admin_gid,
						  q->admin_group_name, &error);
	}
	auth_query_complete(q, sd_bus_error_is_set(&error) ? &error : NULL);
	return 0;
}

int bus_verify_admin_async(sd_bus *bus, sd_bus_message *msg, gid_t admin_gid,
			   const char *admin_group_name, bus_auth_done_t done, void *userdata)
{
	_cleanup_(auth_query_freep) struct auth_query *q = NULL;
	sd_event *event;
	const char *sender;
	int r;

	if (!bus || !msg || !done)
		return -EINVAL;
	event = sd_bus_get_event(bus);
	if (!event)
		return -ENXIO;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->msg = sd_bus_message_ref(msg);
	q->admin_gid = admin_gid;
	q->done = done;
	q->userdata = userdata;
	if (admin_group_name) {
		q->admin_group_name = strdup(admin_group_name);
		if (!q->admin_group_name)
			return -ENOMEM;
	}

	/*
	 * Only a bus vouches for a sender name: on a direct connection the peer
	 * writes that header itself (and would answer the query itself), so the
	 * socket's credentials decide there, whatever the header says.
	 */
	sender = sd_bus_is_bus_client(bus) ? sd_bus_message_get_sender(msg) : NULL;
	if (sender) {
		r = sd_bus_call_method_async(bus, &q->slot, "org.freedesktop.DBus",
					     "/org/freedesktop/DBus", "org.freedesktop.DBus",
					     "GetConnectionCredentials", on_credentials, q, "s",
					     sender);
		if (r < 0)
			return r;
	} else {
		/* A bus always names the sender: without one, the peer is the other end of the socket. */
		if (sd_bus_is_bus_client(bus))
			r = sd_bus_error_set(&q->decision, SD_BUS_ERROR_ACCESS_DENIED,
					     "cannot tell who is calling; access denied");
		else
			r = check_peer(q, bus, &q->decision);
		if (r < 0 && !sd_bus_error_is_set(&q->decision))
			return r;
		r = sd_event_add_defer(event, &q->defer, on_defer, q);
		if (r < 0)
			return r;
		r = source_make_floating(q->defer);
		if (r < 0)
			return r;
	}
	r = sd_event_add_exit(event, &q->on_exit, on_loop_exit, q);
	/*
	 * Before sd-bus's own exit source (priority 0, added first), which
	 * flushes and closes the connection: the ShuttingDown answer must go out.
	 */
	if (r >= 0)
		r = sd_event_source_set_priority(q->on_exit, SD_EVENT_PRIORITY_IMPORTANT);
	if (r < 0)
		return r;
	r = source_make_floating(q->on_exit);
	if (r < 0)
		return r;
	/* From here on the query is released with its event at the latest. */
	r = sd_event_source_set_destroy_callback(q->on_exit, on_exit_source_destroyed);
	if (r < 0)
		return r;
	TAKE_PTR(q);
	return 0;
}
