/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The privilege check: the decision on IDs, a direct connection (SO_PEERCRED,
 * SO_PEERGROUPS) in this process and from a child that dropped to nobody, and
 * a private dbus-daemon's GetConnectionCredentials when one is installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-auth.h"
#include "bus-errors.h"
#include "test-util.h"
#include "util.h"

#define NOBODY	     65534
#define ADMIN_GID    4242 /* the child's supplementary group */
#define OTHER_GID    4243
#define ADMIN_NAME   "rproc-admins"
#define TEST_PATH    "/org/rprocd1/test"
#define TEST_IFACE   "org.rprocd1.Test"
#define EXIT_ALLOWED 0
#define EXIT_DENIED  10
#define EXIT_BROKEN  20

/* The serving side: a method whose handler asks bus_verify_admin_async(). */
struct server {
	sd_event *event;
	sd_bus *bus;
	gid_t admin_gid;
	unsigned n_started, n_done;
	char error_name[128];
	char error_message[512];
};

static void on_done(sd_bus_message *msg, void *userdata, const sd_bus_error *error)
{
	struct server *s = userdata;

	s->n_done++;
	s->error_name[0] = s->error_message[0] = 0;
	if (error) {
		snprintf(s->error_name, sizeof(s->error_name), "%s", error->name);
		snprintf(s->error_message, sizeof(s->error_message), "%s", error->message ?: "");
		/* (A message the test made itself cannot be replied to: that fails harmlessly.) */
		(void) sd_bus_reply_method_error(msg, error);
		return;
	}
	(void) sd_bus_reply_method_return(msg, NULL);
}

static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct server *s = userdata;
	unsigned before = s->n_done;
	int r;

	(void) error;
	r = bus_verify_admin_async(sd_bus_message_get_bus(m), m, s->admin_gid, ADMIN_NAME, on_done,
				   s);
	if (r < 0)
		return r;
	/* Never decided from inside the call. */
	assert_int_equal(s->n_done, before);
	s->n_started++;
	return 1;
}

static const sd_bus_vtable test_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Check", "", "", method_check, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static void server_init(struct server *s, gid_t admin_gid)
{
	memset(s, 0, sizeof(*s));
	s->admin_gid = admin_gid;
	assert_int_equal(sd_event_new(&s->event), 0);
}

/* Serve on a direct connection fd (we are the server end). */
static void server_take_fd(struct server *s, int fd)
{
	sd_id128_t id;

	assert_int_equal(sd_bus_new(&s->bus), 0);
	assert_int_equal(sd_bus_set_fd(s->bus, fd, fd), 0);
	assert_int_equal(sd_id128_randomize(&id), 0);
	assert_int_equal(sd_bus_set_server(s->bus, 1, id), 0);
	assert_true(sd_bus_start(s->bus) >= 0);
	assert_int_equal(sd_bus_attach_event(s->bus, s->event, 0), 0);
	assert_int_equal(
		sd_bus_add_object_vtable(s->bus, NULL, TEST_PATH, TEST_IFACE, test_vtable, s), 0);
}

static void server_done(struct server *s)
{
	s->bus = sd_bus_close_unref(s->bus);
	s->event = sd_event_unref(s->event);
}

/* Run the loop until the child exits; returns its exit status. */
static int serve_until_exit(struct server *s, pid_t pid)
{
	for (unsigned i = 0; i < 3000; i++) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			/* Let the loop finish what it has. */
			while (sd_event_run(s->event, 0) > 0)
				;
			return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_BROKEN + 1;
		}
		assert_true(sd_event_run(s->event, 10 * 1000) >= 0);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("the child did not finish");
	return -1;
}

/* In a child: become nobody with ADMIN_GID as a supplementary group. */
static void drop_to_nobody(void)
{
	gid_t groups[] = { ADMIN_GID };

	if (setgroups(1, groups) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		_exit(EXIT_BROKEN + 2);
}

/* In a child: call Check on bus (started), report allowed/denied as the exit status. */
static void __attribute__((noreturn)) call_check(sd_bus *bus, const char *destination)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, destination, TEST_PATH, TEST_IFACE, "Check", &error, NULL, "");
	if (r >= 0)
		_exit(EXIT_ALLOWED);
	if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
		_exit(EXIT_DENIED);
	fprintf(stderr, "child: %s: %s\n", strempty(error.name), strempty(error.message));
	_exit(EXIT_BROKEN + 3);
}

static void test_decision(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const gid_t gids[] = { 100, ADMIN_GID };

	(void) state;
	assert_int_equal(bus_auth_check_ids(0, false, NULL, 0, (gid_t) -1, NULL, &e), 0);
	assert_int_equal(bus_auth_check_ids(0, true, NULL, 0, ADMIN_GID, ADMIN_NAME, &e), 0);
	assert_int_equal(bus_auth_check_ids(1000, true, gids, 2, ADMIN_GID, ADMIN_NAME, &e), 0);
	assert_false(sd_bus_error_is_set(&e));

	assert_int_equal(bus_auth_check_ids(1000, true, gids, 2, (gid_t) -1, NULL, &e), -EACCES);
	assert_string_equal(e.name, SD_BUS_ERROR_ACCESS_DENIED);
	assert_string_equal(e.message, "changing remote processors needs root");
	sd_bus_error_free(&e);

	assert_int_equal(bus_auth_check_ids(1000, true, gids, 1, ADMIN_GID, ADMIN_NAME, &e),
			 -EACCES);
	assert_string_equal(
		e.message,
		"changing remote processors needs root or membership of group " ADMIN_NAME);
	sd_bus_error_free(&e);

	/* An old bus without UnixGroupIDs: only root, and the error says why. */
	assert_int_equal(bus_auth_check_ids(1000, false, NULL, 0, ADMIN_GID, ADMIN_NAME, &e),
			 -EACCES);
	assert_non_null(strstr(e.message, "UnixGroupIDs"));
	sd_bus_error_free(&e);
}

/* A direct connection in this process: our own uid and groups, from the socket. */
static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	int *result = userdata;

	(void) ret_error;
	*result = sd_bus_message_is_method_error(reply, NULL) ? EXIT_DENIED : EXIT_ALLOWED;
	return 0;
}

static void test_direct_self(void **state)
{
	struct server s;
	sd_bus *client = NULL;
	int sv[2], result = -1;

	(void) state;
	/* As ourselves, with our own egid as AdminGroup= (passes for root and anyone else). */
	server_init(&s, getegid());
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	server_take_fd(&s, sv[0]);
	assert_int_equal(sd_bus_new(&client), 0);
	assert_int_equal(sd_bus_set_fd(client, sv[1], sv[1]), 0);
	assert_int_equal(sd_bus_start(client), 0);
	assert_int_equal(sd_bus_attach_event(client, s.event, 0), 0);
	assert_int_equal(sd_bus_call_method_async(client, NULL, NULL, TEST_PATH, TEST_IFACE,
						  "Check", on_reply, &result, ""),
			 1);
	for (unsigned i = 0; i < 500 && result < 0; i++)
		assert_true(sd_event_run(s.event, 10 * 1000) >= 0);
	assert_int_equal(result, EXIT_ALLOWED);
	assert_int_equal(s.n_started, 1);
	assert_int_equal(s.n_done, 1);
	assert_string_equal(s.error_name, "");
	client = sd_bus_flush_close_unref(client);
	server_done(&s);
}

/* The loop exits before the decision is delivered: done still runs, once, and nothing leaks. */
static void test_cancel_on_exit(void **state)
{
	struct server s;
	sd_bus_message *m = NULL;
	int sv[2];

	(void) state;
	server_init(&s, (gid_t) -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	server_take_fd(&s, sv[0]);
	assert_int_equal(
		sd_bus_message_new_method_call(s.bus, &m, NULL, TEST_PATH, TEST_IFACE, "Check"), 0);
	assert_int_equal(bus_verify_admin_async(s.bus, m, s.admin_gid, NULL, on_done, &s), 0);
	assert_int_equal(bus_verify_admin_async(s.bus, m, s.admin_gid, NULL, on_done, &s), 0);
	sd_bus_message_unref(m); /* the queries hold their own references */
	assert_int_equal(s.n_done, 0);
	close(sv[1]); /* (or sd-bus' own exit handler waits for a peer that never speaks) */
	assert_int_equal(sd_event_exit(s.event, 0), 0);
	assert_int_equal(sd_event_loop(s.event), 0);
	assert_int_equal(s.n_done, 2);
	assert_string_equal(s.error_name, BUS_ERROR_SHUTTING_DOWN);
	server_done(&s);

	/* The event is freed without exiting (a daemon torn down): answered once, nothing leaks. */
	server_init(&s, (gid_t) -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	server_take_fd(&s, sv[0]);
	assert_int_equal(
		sd_bus_message_new_method_call(s.bus, &m, NULL, TEST_PATH, TEST_IFACE, "Check"), 0);
	assert_int_equal(bus_verify_admin_async(s.bus, m, s.admin_gid, NULL, on_done, &s), 0);
	sd_bus_message_unref(m);
	close(sv[1]);
	server_done(&s);
	assert_int_equal(s.n_done, 1);
	assert_string_equal(s.error_name, BUS_ERROR_SHUTTING_DOWN);

	/* Without an event loop there is nobody to deliver a decision: refused at once. */
	server_init(&s, (gid_t) -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	server_take_fd(&s, sv[0]);
	sd_bus_detach_event(s.bus);
	assert_int_equal(
		sd_bus_message_new_method_call(s.bus, &m, NULL, TEST_PATH, TEST_IFACE, "Check"), 0);
	assert_int_equal(bus_verify_admin_async(s.bus, m, s.admin_gid, NULL, on_done, &s), -ENXIO);
	sd_bus_message_unref(m);
	assert_int_equal(s.n_done, 0);
	close(sv[1]);
	server_done(&s);
}

/* A direct connection from a child that became nobody (groups nobody + ADMIN_GID) before connecting. */
static int direct_as_nobody(gid_t admin_gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	struct server s;
	int lfd, fd, status;
	pid_t pid;

	/* An abstract socket: no file for nobody to be refused. */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "rprocd-test-bus-auth-%d", getpid());
	salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *) &sa, salen), 0);
	assert_int_equal(listen(lfd, 1), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sd_bus *bus = NULL;
		int c;

		drop_to_nobody();
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *) &sa, salen) < 0)
			_exit(EXIT_BROKEN + 4);
		if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, c, c) < 0 || sd_bus_start(bus) < 0)
			_exit(EXIT_BROKEN + 5);
		call_check(bus, NULL);
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_true(fd >= 0);
	close(lfd);
	server_init(&s, admin_gid);
	server_take_fd(&s, fd);
	status = serve_until_exit(&s, pid);
	assert_int_equal(s.n_done, s.n_started);
	server_done(&s);
	return status;
}

static void test_direct_nobody(void **state)
{
	(void) state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(direct_as_nobody((gid_t) -1), EXIT_DENIED);
	assert_int_equal(direct_as_nobody(OTHER_GID), EXIT_DENIED);
	/* The supplementary group, from SO_PEERGROUPS. */
	assert_int_equal(direct_as_nobody(ADMIN_GID), EXIT_ALLOWED);
	/* The primary group. */
	assert_int_equal(direct_as_nobody(NOBODY), EXIT_ALLOWED);
}

/* A private dbus-daemon, for GetConnectionCredentials. */
struct bus_daemon {
	char *dir;
	char address[512];
	pid_t pid;
};

static bool bus_daemon_start(struct bus_daemon *d)
{
	char config[1024], text[2048];
	int p[2];
	ssize_t n;

	if (access("/usr/bin/dbus-daemon", X_OK) < 0)
		return false;
	d->dir = test_root_new();
	assert_non_null(d->dir);
	assert_int_equal(chmod(d->dir, 0755), 0);
	snprintf(text, sizeof(text),
		 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
		 "1.0//EN\"\n"
		 " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		 "<busconfig>\n"
		 "  <type>session</type>\n"
		 "  <listen>unix:path=%s/bus</listen>\n"
		 "  <auth>EXTERNAL</auth>\n"
		 "  <policy context=\"default\">\n"
		 "    <allow user=\"*\"/>\n"
		 "    <allow send_destination=\"*\"/>\n"
		 "    <allow receive_sender=\"*\"/>\n"
		 "    <allow own=\"*\"/>\n"
		 "  </policy>\n"
		 "</busconfig>\n",
		 d->dir);
	assert_int_equal(test_write_str(d->dir, "bus.conf", text), 0);
	snprintf(config, sizeof(config), "--config-file=%s/bus.conf", d->dir);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		char fdarg[32];

		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Not our stdout (a reader would wait for it), and not past our death. */
		if (dup2(p[1], 3) < 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		snprintf(fdarg, sizeof(fdarg), "--print-address=3");
		execl("/usr/bin/dbus-daemon", "dbus-daemon", config, "--nofork", "--nopidfile",
		      fdarg, (char *) NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], d->address, sizeof(d->address) - 1);
	close(p[0]);
	if (n <= 0) {
		waitpid(d->pid, NULL, 0);
		test_root_free(d->dir);
		return false;
	}
	d->address[n] = 0;
	strstrip_trailing(d->address);
	return true;
}

static void bus_daemon_stop(struct bus_daemon *d)
{
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	test_root_free(d->dir);
}

static void server_connect(struct server *s, const char *address)
{
	assert_int_equal(sd_bus_new(&s->bus), 0);
	assert_true(sd_bus_set_address(s->bus, address) >= 0);
	assert_true(sd_bus_set_bus_client(s->bus, 1) >= 0);
	assert_true(sd_bus_start(s->bus) >= 0);
	assert_int_equal(sd_bus_attach_event(s->bus, s->event, 0), 0);
	assert_int_equal(
		sd_bus_add_object_vtable(s->bus, NULL, TEST_PATH, TEST_IFACE, test_vtable, s), 0);
}

/* A child on the bus calls Check on the server; as nobody or as root. */
static int bus_call(struct bus_daemon *d, gid_t admin_gid, bool as_nobody)
{
	const char *unique = NULL;
	struct server s;
	int status;
	pid_t pid;

	server_init(&s, admin_gid);
	server_connect(&s, d->address);
	/* The Hello reply names us. */
	for (unsigned i = 0; i < 500 && sd_bus_get_unique_name(s.bus, &unique) < 0; i++)
		assert_true(sd_event_run(s.event, 10 * 1000) >= 0);
	assert_non_null(unique);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sd_bus *bus = NULL;

		if (as_nobody)
			drop_to_nobody();
		if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, d->address) < 0 ||
		    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
			_exit(EXIT_BROKEN + 6);
		call_check(bus, unique);
	}
	status = serve_until_exit(&s, pid);
	assert_int_equal(s.n_done, s.n_started);
	server_done(&s);
	return status;
}

static void test_bus_daemon(void **state)
{
	struct bus_daemon d = { 0 };

	(void) state;
	if (!bus_daemon_start(&d))
		skip();
	/* Ourselves: root is allowed; anyone else (a package build) is not. */
	assert_int_equal(bus_call(&d, (gid_t) -1, false),
			 geteuid() == 0 ? EXIT_ALLOWED : EXIT_DENIED);
	if (geteuid() == 0) {
		assert_int_equal(bus_call(&d, (gid_t) -1, true), EXIT_DENIED);
		assert_int_equal(bus_call(&d, OTHER_GID, true), EXIT_DENIED);
		/* UnixGroupIDs: dbus-daemon's record of the caller's groups. */
		assert_int_equal(bus_call(&d, ADMIN_GID, true), EXIT_ALLOWED);
	}

	/* A sender the bus does not know: the credentials call fails, done still runs once. */
	{
		struct server s;
		sd_bus_message *m = NULL;

		server_init(&s, (gid_t) -1);
		server_connect(&s, d.address);
		assert_int_equal(sd_bus_message_new_method_call(s.bus, &m, NULL, TEST_PATH,
								TEST_IFACE, "Check"),
				 0);
		assert_int_equal(sd_bus_message_set_sender(m, ":1.9999"), 0);
		assert_int_equal(
			bus_verify_admin_async(s.bus, m, ADMIN_GID, ADMIN_NAME, on_done, &s), 0);
		sd_bus_message_unref(m);
		for (unsigned i = 0; i < 500 && s.n_done == 0; i++)
			assert_true(sd_event_run(s.event, 10 * 1000) >= 0);
		assert_int_equal(s.n_done, 1);
		assert_string_equal(s.error_name, SD_BUS_ERROR_ACCESS_DENIED);
		assert_non_null(strstr(s.error_message, "cannot tell who is calling"));
		server_done(&s);

		/* Torn down while GetConnectionCredentials is in flight: answered once, nothing leaks. */
		server_init(&s, (gid_t) -1);
		server_connect(&s, d.address);
		assert_int_equal(sd_bus_message_new_method_call(s.bus, &m, NULL, TEST_PATH,
								TEST_IFACE, "Check"),
				 0);
		assert_int_equal(sd_bus_message_set_sender(m, ":1.9999"), 0);
		assert_int_equal(
			bus_verify_admin_async(s.bus, m, ADMIN_GID, ADMIN_NAME, on_done, &s), 0);
		sd_bus_message_unref(m);
		server_done(&s);
		assert_int_equal(s.n_done, 1);
		assert_string_equal(s.error_name, BUS_ERROR_SHUTTING_DOWN);
	}
	bus_daemon_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision),       cmocka_unit_test(test_direct_self),
		cmocka_unit_test(test_cancel_on_exit), cmocka_unit_test(test_direct_nobody),
		cmocka_unit_test(test_bus_daemon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
