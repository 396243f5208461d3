/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channels and readiness on the host: rprocd against the kernel model, with
 * rpmsg channels laid out in the fake sysfs as virtio_rpmsg_bus lays them out
 * (the real bus is proven in the VM: tests/vm/daemon/channels.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core.h"
#include "harness.h"
#include "manager.h"
#include "util.h"

static struct harness *setup(void)
{
	struct harness *h = NULL;

	assert_int_equal(h_new_default(&h), 0);
	return h;
}

/* Announce channel NAME of core CORE (as the bus would: a device and its link). */
static void announce(struct harness *h, const char *core, const char *name, unsigned addr)
{
	const char *devpath = rproc_device_get_devpath(h_core(h, core)->dev);
	_cleanup_free_ char *dev = strdup_printf("virtio0.%s.-1.%u", name, addr);
	_cleanup_free_ char *dir = strdup_printf("%s%s/virtio0/%s", h->root, devpath, dev);
	_cleanup_free_ char *rel = strdup_printf("%s/virtio0/%s", devpath, dev);
	_cleanup_free_ char *a = strdup_printf("0x%x", addr);
	_cleanup_free_ char *link = strdup_printf("%s/sys/bus/rpmsg/devices/%s", h->root, dev);
	_cleanup_free_ char *f = NULL;

	assert_int_equal(mkdir_p(dir, 0755), 0);
	f = strdup_printf("%s/name", rel);
	assert_int_equal(h_write_file(h, f, name), 0);
	free(f);
	f = strdup_printf("%s/src", rel);
	assert_int_equal(h_write_file(h, f, a), 0);
	free(f);
	f = strdup_printf("%s/dst", rel);
	assert_int_equal(h_write_file(h, f, a), 0);
	assert_int_equal(mkdir_parents(link), 0);
	assert_int_equal(symlink(dir, link), 0);
	manager_channels_changed(h->m);
}

static void destroy(struct harness *h, const char *name, unsigned addr)
{
	_cleanup_free_ char *link =
		strdup_printf("%s/sys/bus/rpmsg/devices/virtio0.%s.-1.%u", h->root, name, addr);

	assert_int_equal(unlink(link), 0);
	manager_channels_changed(h->m);
}

static bool prop_is(struct harness *h, const char *core, const char *prop, const char *want)
{
	_cleanup_free_ char *v = h_get_property(h, core, prop);

	return v && streq(v, want);
}

/* Run the loop (timers included) until PROP is WANT, for at most 3 s. */
static bool wait_prop(struct harness *h, const char *core, const char *prop, const char *want)
{
	for (unsigned i = 0; i < 300; i++) {
		h_settle(h, true);
		if (prop_is(h, core, prop, want))
			return true;
		(void) sd_event_run(h->m->event, 10000);
	}
	return false;
}

static void test_ready_when(void **state)
{
	struct harness *h = setup();
	struct core *c;

	(void) state;
	assert_int_equal(h_core_file(h, "a", "[Core]\nFirmware=fw.elf\nReadyWhen=echo rpmsg-tty\n"),
			 0);
	assert_int_equal(h_core_file(h, "b", "[Core]\nFirmware=fw.elf\n"), 0);
	kmodel_add(h->km, "a", 0);
	kmodel_add(h->km, "b", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, 0), RPROC_STATE_RUNNING);
	/* Up is ready without ReadyWhen=; with it, not before its channels. */
	assert_true(prop_is(h, "b", "Ready", "yes"));
	assert_true(prop_is(h, "a", "Ready", "no"));
	assert_false(h->ready); /* READY=1 waits for readiness */
	announce(h, "a", "echo", 0x400);
	h_settle(h, true);
	assert_true(prop_is(h, "a", "Ready", "no"));
	c = h_core(h, "a");
	assert_int_equal(c->channels.n, 1);
	announce(h, "a", "rpmsg-tty", 0x401);
	assert_true(wait_prop(h, "a", "Ready", "yes"));
	assert_true(h->ready);
	assert_int_equal(h_core(h, "a")->channels.n, 2);
	assert_int_equal(h_core(h, "b")->channels.n, 0);
	/* A channel going away makes it not ready again; nothing else happens. */
	destroy(h, "echo", 0x400);
	assert_true(wait_prop(h, "a", "Ready", "no"));
	assert_int_equal(kmodel_state(h->km, 0), RPROC_STATE_RUNNING);
	h_free(h);
}

static void test_ready_timeout_stop(void **state)
{
	struct harness *h = setup();

	(void) state;
	assert_int_equal(h_core_file(h, "a",
				     "[Core]\nFirmware=fw.elf\nReadyWhen=echo\n"
				     "ReadyTimeoutSec=50ms\nOnReadyTimeout=stop\n"),
			 0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	assert_true(wait_prop(h, "a", "State", "offline"));
	assert_true(prop_is(h, "a", "Ready", "no"));
	assert_non_null(h_core(h, "a")->last_error);
	assert_non_null(strstr(h_core(h, "a")->last_error, "no channel echo"));
	/* READY=1 waited no longer than the timeout. */
	assert_true(h->ready);
	h_free(h);
}

static void test_ready_timeout_restart_limit(void **state)
{
	struct harness *h = setup();
	struct kmodel_info info;

	(void) state;
	assert_int_equal(
		h_core_file(h, "a",
			    "[Core]\nFirmware=fw.elf\nReadyWhen=echo\nReadyTimeoutSec=20ms\n"
			    "StartLimitBurst=2\nStartLimitIntervalSec=1h\n"),
		0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	assert_true(wait_prop(h, "a", "StartLimitHit", "yes"));
	h_settle(h, true);
	/* Booted once, restarted twice (the burst), then left running, not ready. */
	assert_int_equal(kmodel_info(h->km, 0, &info), 0);
	assert_int_equal(info.state, RPROC_STATE_RUNNING);
	assert_int_equal(info.counters.start, 3);
	assert_true(prop_is(h, "a", "Ready", "no"));
	h_free(h);
}

/* Run the loop for ms milliseconds without running any work (writes stay "in flight"). */
static void spin(struct harness *h, unsigned ms)
{
	uint64_t end = now_usec(CLOCK_MONOTONIC) + ms * 1000ULL;

	while (now_usec(CLOCK_MONOTONIC) < end)
		(void) sd_event_run(h->m->event, 5000);
}

/* The timeout falls while the operator's Stop runs: the Stop decides, no restart (review). */
static void test_ready_timeout_during_stop(void **state)
{
	struct harness *h = setup();
	struct kmodel_info info;

	(void) state;
	assert_int_equal(
		h_core_file(h, "a",
			    "[Core]\nFirmware=fw.elf\nReadyWhen=echo\nReadyTimeoutSec=100ms\n"),
		0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, 0), RPROC_STATE_RUNNING);
	h_call(h, "a", "Stop", NULL);
	spin(h, 300); /* past the deadline, the Stop's write not done yet */
	h_settle(h, true);
	spin(h, 200);
	h_settle(h, true);
	assert_int_equal(kmodel_info(h->km, 0, &info), 0);
	assert_int_equal(info.state, RPROC_STATE_OFFLINE);
	assert_int_equal(info.counters.start, 1);
	h_free(h);
}

/* ReadyWhen= added by a reload to a core up for a while: its timeout counts from the reload. */
static void test_ready_when_added_by_reload(void **state)
{
	struct harness *h = setup();
	struct kmodel_info info;

	(void) state;
	assert_int_equal(h_core_file(h, "a", "[Core]\nFirmware=fw.elf\n"), 0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	spin(h, 300);
	assert_int_equal(
		h_core_file(h, "a",
			    "[Core]\nFirmware=fw.elf\nReadyWhen=echo\nReadyTimeoutSec=200ms\n"
			    "OnReadyTimeout=stop\n"),
		0);
	assert_int_equal(h_reload(h), 0);
	h_settle(h, true);
	assert_int_equal(kmodel_state(h->km, 0), RPROC_STATE_RUNNING);
	assert_true(wait_prop(h, "a", "State", "offline"));
	assert_int_equal(kmodel_info(h->km, 0, &info), 0);
	assert_int_equal(info.counters.start, 1);
	h_free(h);
}

/*
 * An invalid ReadyWhen= is ignored (not a strict key): the core is managed,
 * ready when up, the warning (ConfigWarnings) at its file:line.
 */
static void test_ready_when_invalid(void **state)
{
	struct harness *h = setup();
	const struct rproc_config_diag *d;

	(void) state;
	assert_int_equal(h_core_file(h, "a", "[Core]\nFirmware=fw.elf\nReadyWhen=a/b\n"), 0);
	kmodel_add(h->km, "a", 0);
	assert_int_equal(h_daemon_start(h), 0);
	h_settle(h, true);
	assert_true(prop_is(h, "a", "Managed", "yes"));
	assert_null(h_core(h, "a")->last_error);
	assert_true(wait_prop(h, "a", "Ready", "yes"));
	d = h_core(h, "a")->config->diags;
	assert_int_equal(h_core(h, "a")->config->n_diags, 1);
	assert_int_equal(d->priority, LOG_WARNING);
	assert_int_equal(d->line, 3);
	assert_non_null(strstr(d->message, "invalid value \"a/b\" for ReadyWhen=: not an rpmsg "
					   "channel name"));
	assert_non_null(strstr(d->message, "; ignored"));
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_when),
		cmocka_unit_test(test_ready_timeout_stop),
		cmocka_unit_test(test_ready_timeout_restart_limit),
		cmocka_unit_test(test_ready_when_invalid),
		cmocka_unit_test(test_ready_timeout_during_stop),
		cmocka_unit_test(test_ready_when_added_by_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
