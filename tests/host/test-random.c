/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Randomised model-based tests of the daemon's logic: random sequences of
 * kernel events (crashes, someone else's start/stop/detach, hot-unplug and
 * re-plug, failed writes, slow writes), D-Bus calls, reloads with random
 * configuration changes (deletions, masks, cycles) and daemon restarts,
 * against the kernel model, with the invariants of harness.c checked after
 * every step. One sequence in four runs over a private dbus-daemon with
 * three client connections; the others over a direct connection. Three in
 * four feed the daemon the model's kernel log (one of those through a buffer
 * that loses records); with the log and no loss, every crash must be counted
 * exactly once with its type. A failure prints its seed; RPROCD_SEED=N
 * replays one sequence.
 *
 *   RPROCD_SEED=N            run this one sequence (verbose with RPROCD_HOST_VERBOSE=1)
 *   RPROCD_RANDOM_RUNS=N     fixed seeds 1..N (default 500)
 *   RPROCD_RANDOM_FRESH=N    and N fresh seeds from the clock (default 20)
 *   RPROCD_RANDOM_STEPS=N    steps per sequence (default 60)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "harness.h"
#include "util.h"

static uint64_t rng_state;
static bool verbose;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return n ? (unsigned) (rnd() % n) : 0;
}

static const char *const names[] = { "c0", "c1", "c2" };
#define N_NAMES 3

static void say(const char *fmt, ...) _printf_(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void write_config(struct harness *h, unsigned i)
{
	static const char *const start[] = { "auto", "boot", "attach", "no" };
	static const char *const crash[] = { "kernel", "restart", "leave" };
	static const char *const stop[] = { "shutdown", "detach" };
	static const char *const on_exit[] = { "leave", "stop", "detach" };
	static const char *const dump[] = { "disabled", "enabled", "inline" };
	static const char *const fw[] = { "fw-a.elf", "fw-b.elf", "fw-missing.elf" };
	_cleanup_free_ char *path = strdup_printf("/etc/rprocd/cores/%s.core", names[i]);
	_cleanup_free_ char *deps = NULL, *text = NULL;
	unsigned d = pick(8);

	if (d == 0)
		deps = strdup_printf("Requires=%s\n", names[pick(N_NAMES)]);
	else if (d == 1)
		deps = strdup_printf("After=%s\n", names[pick(N_NAMES)]);
	else if (d == 2)
		deps = strdup("Requires=ghost\n");
	text = strdup_printf("[Core]\nFirmware=%s\n%sStart=%s\nOnCrash=%s\nStop=%s\nOnExit=%s\n"
			     "Coredump=%s\nCoredumpDirectory=/var/lib/rprocd/coredump\n"
			     "RestartSec=0\nStartLimitBurst=3\nStartLimitIntervalSec=1h\n"
			     "SettleSec=%s\nBindLifetime=%s\n%s%s",
			     fw[pick(3)], pick(3) == 0 ? "FallbackFirmware=fw-b.elf\n" : "",
			     start[pick(4)], crash[pick(3)], stop[pick(2)], on_exit[pick(3)],
			     dump[pick(3)], pick(2) ? "0" : "1h", pick(3) == 0 ? "yes" : "no",
			     deps ? deps : "", pick(10) == 0 ? "Bogus=1\n" : "");
	(void) h_write_file(h, path, text);
	say("  config %s: %s", names[i], text);
}

static void change_config(struct harness *h)
{
	unsigned i = pick(N_NAMES), what = pick(6);
	_cleanup_free_ char *path = strdup_printf("/etc/rprocd/cores/%s.core", names[i]);

	switch (what) {
	case 0:
		say("  delete %s.core", names[i]);
		(void) h_remove_file(h, path);
		break;
	case 1:
		say("  mask %s", names[i]);
		(void) h_mask_core(h, names[i]);
		break;
	case 2: {
		/* A cycle through two cores. */
		unsigned k = (i + 1) % N_NAMES;
		_cleanup_free_ char *a =
			strdup_printf("[Core]\nFirmware=fw-a.elf\nRequires=%s\n", names[k]);
		_cleanup_free_ char *b =
			strdup_printf("[Core]\nFirmware=fw-a.elf\nAfter=%s\n", names[i]);
		_cleanup_free_ char *pk = strdup_printf("/etc/rprocd/cores/%s.core", names[k]);

		say("  cycle %s <-> %s", names[i], names[k]);
		(void) h_write_file(h, path, a);
		(void) h_write_file(h, pk, b);
		break;
	}
	default:
		write_config(h, i);
		break;
	}
}

/* A present device of the model, or -1. */
static int pick_device(struct harness *h, int *ids, size_t n_ids)
{
	int live[16];
	size_t n = 0;

	for (size_t i = 0; i < n_ids; i++)
		if (ids[i] >= 0 && kmodel_sysname(h->km, ids[i]) && n < ELEMENTSOF(live)) {
			struct kmodel_info info;

			if (kmodel_info(h->km, ids[i], &info) >= 0 && !info.removed)
				live[n++] = ids[i];
		}
	return n ? live[pick((unsigned) n)] : -1;
}

static void plug(struct harness *h, int *ids, unsigned i)
{
	struct rproc_device *dev = NULL;

	ids[i] = kmodel_add(h->km, names[i], pick(3) == 0 ? KMODEL_DETACHED : 0);
	say("  plug %s as %s", names[i], ids[i] >= 0 ? kmodel_sysname(h->km, ids[i]) : "?");
	if (ids[i] < 0 || !h->m)
		return;
	if (rproc_device_new(h->m->ctx, kmodel_sysname(h->km, ids[i]), &dev) >= 0) {
		manager_add_device(h->m, dev);
		rproc_device_unref(dev);
	}
}

static void settle_all(struct harness *h)
{
	kmodel_run_work(h->km);
	h_settle(h, true);
	h_deliver_dumps(h);
	h_settle(h, true);
	h_deliver_dumps(h);
	if (h->m)
		manager_rescan(h->m);
	h_settle(h, true);
}

static int run_sequence(uint64_t seed, unsigned steps)
{
	static const char *const methods[] = { "Start",	      "Stop",
					       "Restart",     "Attach",
					       "Detach",      "Recover",
					       "SetFirmware", "SetFirmwareAndRestart" };
	struct harness *h = NULL;
	int ids[N_NAMES] = { -1, -1, -1 };
	int ok = 1, r;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	if (h_new(&h) < 0)
		return -1;
	h->seed = seed;
	/* One sequence in four through a real dbus-daemon, with several clients. */
	h->bus_daemon = seed % 4 == 0;
	/*
	 * The kernel log in three sequences out of four (the others: the poll
	 * alone); in one of those, a buffer so small that records are lost.
	 */
	h->kmsg = seed % 4 != 1;
	h->kmsg_small = seed % 8 == 2;
	(void) h_write_file(h, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=1h\n");
	(void) h_write_firmware(h, "fw-a.elf");
	(void) h_write_firmware(h, "fw-b.elf");
	for (unsigned i = 0; i < N_NAMES; i++) {
		if (pick(4) != 0)
			write_config(h, i);
		if (pick(4) != 0) {
			ids[i] = kmodel_add(h->km, names[i], pick(3) == 0 ? KMODEL_DETACHED : 0);
			say("  device %s as %s", names[i],
			    ids[i] >= 0 ? kmodel_sysname(h->km, ids[i]) : "?");
		}
	}
	if ((r = h_daemon_start(h)) < 0) {
		fprintf(stderr, "seed %llu: the daemon did not start: %s\n",
			(unsigned long long) seed, strerror(-r));
		h_free(h);
		return 0;
	}

	for (unsigned step = 0; step < steps && ok; step++) {
		unsigned op = pick(20);
		int id = pick_device(h, ids, N_NAMES);

		switch (op) {
		case 0:
			if (id >= 0) {
				say("%u: crash %s", step, kmodel_sysname(h->km, id));
				(void) kmodel_crash(h->km, id, (int) pick(3), 0);
			}
			break;
		case 1:
			if (id >= 0) {
				static const enum rproc_command cmds[] = { RPROC_CMD_START,
									   RPROC_CMD_STOP,
									   RPROC_CMD_DETACH };
				enum rproc_command cmd = cmds[pick(3)];

				say("%u: someone else writes %s to %s", step,
				    rproc_command_to_string(cmd), kmodel_sysname(h->km, id));
				(void) h_external_request(h, id, cmd);
			}
			break;
		case 2:
			if (id >= 0) {
				_cleanup_free_ char *sysname = strdup(kmodel_sysname(h->km, id));

				say("%u: unplug %s", step, sysname);
				(void) kmodel_remove(h->km, id);
				if (h->m)
					manager_remove_device(h->m, sysname);
				h_forget_device(h, sysname);
			}
			break;
		case 3: {
			unsigned i = pick(N_NAMES);
			struct kmodel_info info;

			if (ids[i] < 0 || (kmodel_info(h->km, ids[i], &info) >= 0 && info.removed))
				plug(h, ids, i);
			break;
		}
		case 4:
			if (id >= 0) {
				say("%u: next driver op of %s fails", step,
				    kmodel_sysname(h->km, id));
				(void) kmodel_fail(h->km, id, (enum kmodel_op) pick(_KMODEL_OP_MAX),
						   pick(2) ? 5 /* EIO */ : 16 /* EBUSY */);
			}
			break;
		case 5:
		case 6:
		case 7: {
			const char *method = methods[pick(ELEMENTSOF(methods))];
			const char *core = names[pick(N_NAMES)];
			bool arg = startswith(method, "SetFirmware");

			say("%u: call %s %s", step, method, core);
			(void) h_call(h, core, method,
				      arg ? (pick(3) == 0 ? "fw-missing.elf" : "fw-b.elf") : NULL);
			break;
		}
		case 8:
			say("%u: reload", step);
			change_config(h);
			if (pick(2))
				(void) h_reload(h);
			else
				(void) h_call_manager(h, "Reload");
			break;
		case 9:
		case 10:
			if (h_pending_works(h) > 0) {
				size_t i = pick((unsigned) h_pending_works(h));

				say("%u: a kernel write completes", step);
				h_run_work(h, i);
			}
			break;
		case 11:
			say("%u: poll", step);
			if (h->m)
				manager_poll(h->m);
			break;
		case 12:
			if (pick(3) == 0) {
				bool graceful = pick(2);

				say("%u: daemon %s", step, graceful ? "stop/start" : "kill/start");
				if (graceful)
					(void) h_daemon_stop(h);
				else
					h_daemon_kill(h);
				if ((r = h_daemon_start(h)) < 0) {
					snprintf(h->violation, sizeof(h->violation),
						 "the daemon did not start again: %s",
						 strerror(-r));
					ok = 0;
				}
			}
			break;
		case 13:
			say("%u: udev: devcoredumps", step);
			h_deliver_dumps(h);
			break;
		case 16:
			/* A crash whose recovery the kernel has not run yet: reads land inside it. */
			if (id >= 0) {
				say("%u: crash %s, recovery pending", step,
				    kmodel_sysname(h->km, id));
				(void) kmodel_crash(h->km, id, (int) pick(3),
						    pick(2) ? KMODEL_CRASH_HOLD_RECOVERY
							    : KMODEL_CRASH_QUEUE);
			}
			break;
		case 17:
			say("%u: the kernel's workqueue runs", step);
			kmodel_run_work(h->km);
			break;
		case 19:
			say("%u: the kernel log overruns", step);
			h_kmsg_overrun(h);
			break;
		case 18:
			/* Another root tool writes a firmware name that is not UTF-8. */
			if (id >= 0) {
				say("%u: someone else writes a non-UTF-8 firmware name to %s", step,
				    kmodel_sysname(h->km, id));
				(void) h_external_firmware(h, id, "bad-\xff.elf");
			}
			break;
		default:
			for (unsigned k = pick(8); k > 0; k--)
				h_iterate(h);
			break;
		}
		if (!h_check(h, false))
			ok = 0;
		if (ok && step % 20 == 19) {
			settle_all(h);
			ok = h_check(h, true);
		}
	}
	if (ok) {
		settle_all(h);
		ok = h_check(h, true);
	}
	if (ok) {
		(void) h_daemon_stop(h);
		ok = h_check(h, true);
	}
	if (!ok)
		fprintf(stderr,
			"FAIL seed %llu: %s\n  replay: RPROCD_SEED=%llu RPROCD_HOST_VERBOSE=1 %s\n",
			(unsigned long long) seed, h->violation, (unsigned long long) seed,
			program_invocation_name);
	h_free(h);
	return ok;
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v ? (unsigned) strtoul(v, NULL, 10) : def;
}

int main(void)
{
	unsigned runs = env_uint("RPROCD_RANDOM_RUNS", 500),
		 fresh = env_uint("RPROCD_RANDOM_FRESH", 20);
	unsigned steps = env_uint("RPROCD_RANDOM_STEPS", 60), passed = 0, failed = 0;
	const char *one = getenv("RPROCD_SEED");

	verbose = getenv("RPROCD_HOST_VERBOSE") != NULL;
	if (one)
		return run_sequence(strtoull(one, NULL, 10), steps) == 1 ? 0 : 1;
	for (unsigned i = 0; i < runs + fresh; i++) {
		uint64_t seed = i < runs ? i + 1 : (uint64_t) time(NULL) * 1000 + i;
		int r = run_sequence(seed, steps);

		if (r == 1)
			passed++;
		else
			failed++;
		if (failed >= 5)
			break;
	}
	printf("random sequences: %u passed, %u failed (%u steps each)\n", passed, failed, steps);
	return failed ? 1 : 0;
}
