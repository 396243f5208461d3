/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl's commands that talk to rprocd over D-Bus. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "json.h"
#include "librproc.h"
#include "output.h"
#include "props.h"
#include "rprocctl.h"
#include "util.h"

/* ---- list ------------------------------------------------------------------ */

struct core_row {
	char *name, *kname, *state, *path;
	bool managed;
};

static void rows_free(struct core_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].kname);
		free(rows[i].state);
		free(rows[i].path);
	}
	free(rows);
}

static bool matches(char **patterns, const char *name)
{
	if (!patterns || !*patterns)
		return true;
	for (char **p = patterns; *p; p++)
		if (fnmatch(*p, name, 0) == 0)
			return true;
	return false;
}

/* ListCores into rows, those whose name matches one of patterns (all without patterns). */
static int list_cores(sd_bus *bus, char **patterns, struct core_row **ret, size_t *ret_n,
		      int *exit_code)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct core_row *rows = NULL;
	const char *name, *kname, *state, *path;
	size_t n = 0;
	int managed, r;
	char text[512];

	r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "ListCores", &e, &reply, "");
	if (r < 0) {
		log_error("Failed to list cores: %s", bus_error_text(&e, r, text, sizeof(text)));
		*exit_code = bus_exit_code(&e, r);
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(sssbo)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(sssbo)", &name, &kname, &state, &managed,
						  &path)) > 0) {
		struct core_row *g;

		if (!matches(patterns, name))
			continue;
		g = reallocarray(rows, n + 1, sizeof(*rows));
		if (!g) {
			r = -ENOMEM;
			break;
		}
		rows = g;
		rows[n] = (struct core_row){ strdup(name), strdup(kname), strdup(state),
					     strdup(path), managed };
		n++;
		if (!rows[n - 1].name || !rows[n - 1].kname || !rows[n - 1].state ||
		    !rows[n - 1].path) {
			r = -ENOMEM;
			break;
		}
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		log_error("Bad reply from rprocd: %s", strerror(-r));
		rows_free(rows, n);
		*exit_code = EXIT_FAILED;
		return r;
	}
	*ret = rows;
	*ret_n = n;
	return 0;
}

/* s in a column of width w, coloured. */
static void print_cell(const char *s, int w, enum color c)
{
	int pad = w - (int) strlen(s);

	printf("%s%s%s%*s", color_on(c), s, color_end(c), pad > 0 ? pad : 0, "");
}

int verb_list(int argc, char **argv)
{
	struct core_row *rows = NULL;
	sd_bus *bus = NULL;
	size_t n = 0;
	int code = EXIT_OK, w = 20;

	(void) argc;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	if (list_cores(bus, argv + 1, &rows, &n, &code) < 0)
		goto finish;
	pager_open();
	if (arg.json) {
		struct json j;

		json_init(&j, stdout, arg.json);
		json_begin_array(&j, NULL);
		for (size_t i = 0; i < n; i++) {
			json_begin_object(&j, NULL);
			json_string(&j, "Name", rows[i].name);
			json_string(&j, "KernelName", rows[i].kname);
			json_string(&j, "State", rows[i].state);
			json_bool(&j, "Managed", rows[i].managed);
			json_string(&j, "ObjectPath", rows[i].path);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_finish(&j);
		goto finish;
	}
	for (size_t i = 0; i < n; i++)
		if ((int) strlen(rows[i].name) >= w)
			w = (int) strlen(rows[i].name) + 1;
	if (!arg.no_legend)
		printf("%s%-*s %-10s %-8s %s%s\n", color_on(COLOR_BOLD), w, "CORE", "STATE",
		       "MANAGED", "KERNEL NAME", color_off());
	for (size_t i = 0; i < n; i++) {
		print_cell(rows[i].name, w + 1, COLOR_NORMAL);
		print_cell(rows[i].state, 11, state_color(rows[i].state));
		printf("%-8s %s\n", rows[i].managed ? "yes" : "no", rows[i].kname);
	}
	if (!arg.no_legend)
		printf("\n%zu core%s listed.\n", n, n == 1 ? "" : "s");
finish:
	rows_free(rows, n);
	sd_bus_flush_close_unref(bus);
	return code;
}

/* ---- status, show, is-running, is-ready ------------------------------------- */

/* The properties of each core named (in argv order); a failed one is NULL in ret. */
static int get_cores(sd_bus *bus, int n, char **names, struct props **ret)
{
	struct props *all = calloc((size_t) n, sizeof(*all));
	int code = EXIT_OK;

	if (!all) {
		log_error("Out of memory");
		return EXIT_FAILED;
	}
	for (int i = 0; i < n; i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		char *path = NULL, text[512];
		int c = EXIT_FAILED, r;

		if (bus_core_path(bus, names[i], &path, &c) < 0) {
			/* the first failure decides the exit code */
			if (code == EXIT_OK)
				code = c;
			continue;
		}
		r = bus_get_all(bus, path, CORE_IFACE, &all[i], &e);
		if (r < 0) {
			log_error("%s: %s", names[i], bus_error_text(&e, r, text, sizeof(text)));
			if (code == EXIT_OK)
				code = bus_exit_code(&e, r);
			all[i] = (struct props){};
		}
		sd_bus_error_free(&e);
		free(path);
	}
	*ret = all;
	return code;
}

static bool is_up(const char *state)
{
	return streq(state, "running") || streq(state, "attached");
}

/* Each string of an "as" property on a line of its own, every line labelled. */
static void print_strv_lines(const char *label, const struct props *p, const char *name,
			     enum color c)
{
	size_t n;
	const struct value *v = props_strv(p, name, &n);

	for (size_t i = 0; i < n; i++)
		printf("%13s %s%s%s\n", label, color_on(c), v[i].str, color_end(c));
}

static void print_status(const struct props *p)
{
	const char *fw = props_str(p, "Firmware"), *bid = props_str(p, "FirmwareBuildId");
	const char *origin = props_str(p, "Origin"), *err = props_str(p, "LastError");
	const char *state = props_str(p, "State"), *desc = props_str(p, "Description");
	const struct prop *channels = props_get(p, "Channels");
	uint64_t last_crash = props_get(p, "LastCrashTimestamp")
				      ? props_uint(p, "LastCrashTimestamp")
				      : props_uint(p, "LastCrashUSec");
	enum color sc = state_color(state);
	bool up = is_up(state);
	char when[128];
	size_t n;

	printf("%s%s%s %s%s%s\n", color_on(sc),
	       up			 ? "●"
	       : streq(state, "crashed") ? "×"
					 : "○",
	       color_end(sc), props_str(p, "Name"), *desc ? " - " : "", desc);
	printf("       State: %s%s%s%s%s%s%s", color_on(sc), state, color_end(sc),
	       *origin ? " (" : "", origin, *origin ? ")" : "",
	       up && props_get(p, "Ready") && !props_uint(p, "Ready") ? ", not ready" : "");
	if (props_uint(p, "Wedged"))
		printf(", %sWEDGED%s", color_on(COLOR_RED), color_off());
	else if (props_uint(p, "Busy"))
		printf(", busy");
	printf("\n");
	printf("    Firmware: %s", *fw ? fw : "-");
	if (*bid)
		printf(" (build-id %s)", bid);
	printf("\n");
	if (!streq(props_str(p, "ConfiguredFirmware"), fw))
		printf("  Configured: %s\n", *props_str(p, "ConfiguredFirmware")
						     ? props_str(p, "ConfiguredFirmware")
						     : "-");
	printf("      Kernel: %s (%s, %s)\n", props_str(p, "KernelName"), props_str(p, "SysName"),
	       props_str(p, "DevicePath"));
	if (props_uint(p, "Managed"))
		printf("     Managed: yes (Start=%s, OnCrash=%s)\n", props_str(p, "StartPolicy"),
		       props_str(p, "OnCrashPolicy"));
	else
		printf("     Managed: no (watched only)\n");
	printf("    Recovery: %s by the kernel; coredump %s\n", props_str(p, "Recovery"),
	       props_str(p, "Coredump"));
	printf("     Crashes: %" PRIu64 ", last %s", props_uint(p, "CrashCount"),
	       last_crash ? format_timestamp(when, sizeof(when), last_crash) : "never");
	if (*props_str(p, "CrashReason"))
		printf(" (%s)", props_str(p, "CrashReason"));
	if (props_uint(p, "StartLimitHit"))
		printf("; %sSTART LIMIT HIT%s", color_on(COLOR_RED), color_off());
	printf("\n");
	if (*props_str(p, "LastCoredump"))
		printf("    Coredump: %s\n", props_str(p, "LastCoredump"));
	if (*props_str(p, "FallbackReason"))
		printf("    Fallback: runs FallbackFirmware= because %s\n",
		       props_str(p, "FallbackReason"));
	if (streq(origin, "attached") && props_uint(p, "Managed") &&
	    streq(props_str(p, "OnCrashPolicy"), "kernel"))
		printf("  On a crash: the kernel reboots it from its firmware file, unless the "
		       "driver re-attaches (attach-on-recovery)\n");
	n = channels && channels->v.type == 'a' ? channels->v.items.n : 0;
	for (size_t i = 0; i < n; i++) {
		const struct value *c = &channels->v.items.v[i];

		/* (suuss): name, Linux's address, the remote's, the rpmsg device, its node */
		if (c->type != 'r' || c->items.n < 5 || c->items.v[0].type != 's' ||
		    c->items.v[1].type != 'u' || c->items.v[2].type != 'u' ||
		    c->items.v[3].type != 's' || c->items.v[4].type != 's')
			continue;
		printf("%s %s (0x%" PRIx64 " → 0x%" PRIx64 ", %s)%s%s\n",
		       i == 0 ? "    Channels:" : "             ", c->items.v[0].str,
		       c->items.v[1].u, c->items.v[2].u, c->items.v[3].str,
		       *c->items.v[4].str ? " " : "", c->items.v[4].str);
	}
	if (*err)
		printf("  Last error: %s%s%s\n", color_on(COLOR_RED), err, color_off());
	{
		size_t nf;
		const struct value *f = props_strv(p, "ConfigFiles", &nf);

		for (size_t i = 0; i < nf; i++)
			printf("%s%s\n", i == 0 ? "      Config: " : "              ", f[i].str);
	}
	print_strv_lines("Warning:", p, "ConfigWarnings", COLOR_YELLOW);
}

static void props_array_free(struct props *all, int n)
{
	for (int i = 0; all && i < n; i++)
		props_done(&all[i]);
	free(all);
}

int verb_status(int argc, char **argv)
{
	struct props *all = NULL;
	sd_bus *bus = NULL;
	int code, n = argc - 1;
	bool first = true;

	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	code = get_cores(bus, n, argv + 1, &all);
	if (!all)
		goto finish;
	pager_open();
	if (arg.json) {
		struct json j;

		json_init(&j, stdout, arg.json);
		json_begin_array(&j, NULL);
		for (int i = 0; i < n; i++)
			if (all[i].n)
				props_json(&j, NULL, &all[i], NULL);
		json_end_array(&j);
		json_finish(&j);
	}
	for (int i = 0; i < n; i++) {
		if (!all[i].n)
			continue;
		if (!arg.json) {
			if (!first)
				printf("\n");
			print_status(&all[i]);
			first = false;
		}
		if (code == EXIT_OK && !is_up(props_str(&all[i], "State")))
			code = EXIT_NOT_RUNNING;
	}
finish:
	props_array_free(all, n);
	sd_bus_flush_close_unref(bus);
	return code;
}

/* NAME=VALUE lines (or VALUE with --value) of the properties -p names (all without -p). */
static void print_show(const struct props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct prop *x = &p->v[i];
		char *s;

		if (arg.properties && !strv_contains(arg.properties, x->name))
			continue;
		/* Empty ones only with --all, or when -p names them. */
		if (!arg.all && !arg.properties && prop_is_empty(x))
			continue;
		s = prop_format(x);
		if (!s) {
			log_error("Out of memory");
			return;
		}
		if (arg.value)
			printf("%s\n", s);
		else
			printf("%s=%s\n", x->name, s);
		free(s);
	}
}

int verb_show(int argc, char **argv)
{
	struct props *all = NULL;
	sd_bus *bus = NULL;
	int code = EXIT_OK, n = argc - 1;
	bool first = true;
	struct json j;

	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	json_init(&j, stdout, arg.json);
	if (n == 0) {
		/* No core: the Manager's properties, as systemctl show does. */
		sd_bus_error e = SD_BUS_ERROR_NULL;
		struct props p = {};
		char text[512];
		int r = bus_get_all(bus, MANAGER_PATH, MANAGER_IFACE, &p, &e);

		if (r < 0) {
			log_error("Failed to read rprocd's properties: %s",
				  bus_error_text(&e, r, text, sizeof(text)));
			code = bus_exit_code(&e, r);
		} else {
			pager_open();
			if (arg.json) {
				props_json(&j, NULL, &p, arg.properties);
				json_finish(&j);
			} else
				print_show(&p);
		}
		props_done(&p);
		sd_bus_error_free(&e);
		goto finish;
	}
	code = get_cores(bus, n, argv + 1, &all);
	if (!all)
		goto finish;
	pager_open();
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 0; i < n; i++) {
		if (!all[i].n)
			continue;
		if (arg.json)
			props_json(&j, NULL, &all[i], arg.properties);
		else {
			/* A blank line between cores, not with --value (one value per line). */
			if (!first && !arg.value)
				printf("\n");
			print_show(&all[i]);
		}
		first = false;
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
finish:
	props_array_free(all, n);
	sd_bus_flush_close_unref(bus);
	return code;
}

/*
 * is-running CORE…, is-ready CORE…: prints each core's word (its State, or
 * ready / not-ready) unless -q; 0 when every core is, 3 when one is not, 4
 * when one does not exist (also printed "unknown"), as rprocctl(1) says.
 */
int verb_is(int argc, char **argv)
{
	bool ready = streq(argv[0], "is-ready");
	bool missing = false, not_there = false;
	int error_code = EXIT_OK;
	sd_bus *bus = NULL;
	struct json j;

	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	json_init(&j, stdout, arg.json);
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		char *path = NULL, *state = NULL, text[512];
		int c = EXIT_FAILED, r, yes = 0;
		bool ok;

		/* A core that does not exist is an answer (4, "unknown"): -q keeps it quiet. */
		r = bus_get_core(bus, argv[i], &path, &e);
		if (r < 0) {
			c = bus_exit_code(&e, r);
			if (!arg.quiet || c != EXIT_NO_SUCH_CORE)
				log_error("%s", bus_error_text(&e, r, text, sizeof(text)));
			sd_bus_error_free(&e);
		}
		if (r >= 0)
			r = sd_bus_get_property_string(bus, DEST, path, CORE_IFACE, "State", &e,
						       &state);
		if (r >= 0 && ready)
			r = sd_bus_get_property_trivial(bus, DEST, path, CORE_IFACE, "Ready", &e,
							'b', &yes);
		if (r < 0 && path) {
			log_error("%s: %s", argv[i], bus_error_text(&e, r, text, sizeof(text)));
			c = bus_exit_code(&e, r);
		}
		ok = r >= 0 && (ready ? yes : is_up(state));
		if (r < 0 && c == EXIT_NO_SUCH_CORE)
			missing = true;
		else if (r < 0 && error_code == EXIT_OK)
			error_code = c;
		else if (!ok)
			not_there = true;
		if (arg.json) {
			json_begin_object(&j, NULL);
			json_string(&j, "Name", argv[i]);
			json_string(&j, "State", r >= 0 ? state : NULL);
			json_bool(&j, ready ? "Ready" : "Running", ok);
			json_end_object(&j);
		} else if (!arg.quiet)
			printf("%s\n", r < 0	? "unknown"
				       : !ready ? state
				       : yes	? "ready"
						: "not-ready");
		sd_bus_error_free(&e);
		free(path);
		free(state);
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
	sd_bus_flush_close_unref(bus);
	/* Whatever kept rprocctl from asking outranks a missing core, which outranks "not yet". */
	if (error_code != EXIT_OK)
		return error_code;
	return missing ? EXIT_NO_SUCH_CORE : not_there ? EXIT_NOT_RUNNING : EXIT_OK;
}

/* ---- start, stop, …, set-firmware ------------------------------------------- */

struct action {
	const char *verb;
	const char *what;	 /* for messages: "start", "set the firmware of" */
	const char *by_name;	 /* the Manager's method, by core name */
	const char *core_method; /* the Core object's method */
};

static const struct action actions[] = {
	{ "start", "start", "StartCore", "Start" },
	{ "stop", "stop", "StopCore", "Stop" },
	{ "restart", "restart", "RestartCore", "Restart" },
	{ "attach", "attach", "AttachCore", "Attach" },
	{ "detach", "detach", "DetachCore", "Detach" },
	{ "recover", "recover", "RecoverCore", "Recover" },
	{ "set-firmware", "set the firmware of", "SetCoreFirmware", "SetFirmware" },
	{ "set-firmware --restart", "set the firmware of", "SetCoreFirmwareAndRestart",
	  "SetFirmwareAndRestart" },
};

/* An older rprocd has no by-name methods: found once, then GetCore + the Core's method. */
static bool by_name_unknown;

static int call_method(sd_bus *bus, const char *path, const char *iface, const char *method,
		       const char *core_arg, const char *string_arg, uint64_t timeout,
		       sd_bus_error *e, sd_bus_message **reply)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, DEST, path, iface, method);
	if (r >= 0 && core_arg)
		r = sd_bus_message_append(m, "s", core_arg);
	if (r >= 0 && string_arg)
		r = sd_bus_message_append(m, "s", string_arg);
	if (r >= 0)
		r = sd_bus_call(bus, m, timeout, e, reply);
	sd_bus_message_unref(m);
	return r;
}

/* Report a failed action; returns its exit code. */
static int action_failed(const struct action *a, const char *core, const sd_bus_error *e, int r)
{
	char text[512], span[64];

	/*
	 * Our own --timeout= (sd-bus's Timeout) or a lost reply, not an error
	 * rprocd sent: a kernel that refused with ETIMEDOUT arrives as
	 * Kernel.ETIMEDOUT, and the operation is over then.
	 */
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY)) {
		log_error("Failed to %s %s: rprocd went away without answering (restarted or "
			  "crashed); see rprocctl status %s",
			  a->what, core, core);
		return EXIT_NO_DAEMON;
	}
	if (r == -ETIMEDOUT && !bus_error_is_rprocd(e)) {
		if (bus_action_timeout() != UINT64_MAX)
			log_error("Failed to %s %s: no answer within %s; rprocd goes on with it "
				  "(see rprocctl status %s)",
				  a->what, core,
				  rproc_format_timespan(span, sizeof(span), arg.timeout_usec),
				  core);
		else
			log_error("Failed to %s %s: no answer from rprocd (%s); see rprocctl "
				  "status %s",
				  a->what, core, bus_error_text(e, r, text, sizeof(text)), core);
		return EXIT_FAILED;
	}
	log_error("Failed to %s %s: %s", a->what, core, bus_error_text(e, r, text, sizeof(text)));
	return bus_exit_code(e, r);
}

/*
 * --no-block: check that the core exists, send the call, and
 * return once rprocd has decided whether to take it, without its outcome.
 * Two Pings behind the call prove it: rprocd reads its messages in order, so
 * the first Ping's reply comes after rprocd asked the bus who the caller is,
 * and the bus answers that before it forwards the reply; the second Ping
 * reaches rprocd after the bus's answer, so its reply comes after rprocd's
 * decision. A refusal (by the bus's policy, or rprocd's: access, state, a
 * full queue) arrives before that reply and is reported, and so does the
 * outcome of an operation that failed at once; what happens later shows in
 * LastError and the journal.
 */
static int on_early_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void) error;
	if (sd_bus_message_is_method_error(m, NULL))
		(void) sd_bus_error_copy(userdata, sd_bus_message_get_error(m));
	return 0;
}

static int action_no_block(sd_bus *bus, const struct action *a, const char *core,
			   const char *string_arg)
{
	sd_bus_error e = SD_BUS_ERROR_NULL, early = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	sd_bus_slot *slot = NULL;
	char *path = NULL;
	int code = EXIT_FAILED, r;

	/* No look at Managed here: rprocd decides, after the caller's access, as without --no-block. */
	r = bus_get_core(bus, core, &path, &e);
	if (r < 0) {
		code = action_failed(a, core, &e, r);
		goto finish;
	}
	r = sd_bus_message_new_method_call(bus, &m, DEST, path, CORE_IFACE, a->core_method);
	if (r >= 0 && string_arg)
		r = sd_bus_message_append(m, "s", string_arg);
	if (r >= 0)
		r = sd_bus_call_async(bus, &slot, m, on_early_reply, &early, UINT64_MAX);
	for (int i = 0; r >= 0 && i < 2; i++)
		r = sd_bus_call_method(bus, DEST, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
				       &e, NULL, "");
	/* What arrived before the last Ping's reply: a refusal, if any. */
	while (r >= 0 && (r = sd_bus_process(bus, NULL)) > 0)
		;
	if (r < 0)
		code = action_failed(a, core, &e, r);
	else if (sd_bus_error_is_set(&early))
		code = action_failed(a, core, &early, -sd_bus_error_get_errno(&early));
	else
		code = EXIT_OK;
finish:
	sd_bus_slot_unref(slot);
	sd_bus_message_unref(m);
	sd_bus_error_free(&early);
	sd_bus_error_free(&e);
	free(path);
	return code;
}

static int run_action(sd_bus *bus, const struct action *a, const char *core, const char *string_arg)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t timeout = bus_action_timeout();
	char *path = NULL;
	int code = EXIT_FAILED, r;

	if (arg.no_block)
		return action_no_block(bus, a, core, string_arg);
	if (!by_name_unknown) {
		r = call_method(bus, MANAGER_PATH, MANAGER_IFACE, a->by_name, core, string_arg,
				timeout, &e, NULL);
		if (r >= 0)
			return EXIT_OK;
		if (!sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD)) {
			code = action_failed(a, core, &e, r);
			sd_bus_error_free(&e);
			return code;
		}
		by_name_unknown = true;
		sd_bus_error_free(&e);
	}
	r = bus_get_core(bus, core, &path, &e);
	if (r >= 0)
		r = call_method(bus, path, CORE_IFACE, a->core_method, NULL, string_arg, timeout,
				&e, NULL);
	code = r < 0 ? action_failed(a, core, &e, r) : EXIT_OK;
	sd_bus_error_free(&e);
	free(path);
	return code;
}

static const struct action *action_by_verb(const char *verb)
{
	for (size_t i = 0; i < ELEMENTSOF(actions); i++)
		if (streq(actions[i].verb, verb))
			return &actions[i];
	return NULL;
}

/* start, stop, restart, attach, detach, recover: the method of the verb's name. */
int verb_action(int argc, char **argv)
{
	const struct action *a = action_by_verb(argv[0]);
	sd_bus *bus = NULL;
	int code = EXIT_OK;

	if (!a)
		return EXIT_USAGE;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	/* Operations on different cores run concurrently in rprocd; ask one after another here. */
	for (int i = 1; i < argc; i++) {
		int c = run_action(bus, a, argv[i], NULL);

		if (c != EXIT_OK && code == EXIT_OK)
			code = c;
	}
	sd_bus_flush_close_unref(bus);
	return code;
}

int verb_set_firmware(int argc, char **argv)
{
	const struct action *a =
		action_by_verb(arg.restart ? "set-firmware --restart" : "set-firmware");
	sd_bus *bus = NULL;
	int code;

	(void) argc;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	code = run_action(bus, a, argv[1], argv[2]);
	sd_bus_flush_close_unref(bus);
	return code;
}

/* ---- reload ------------------------------------------------------------------ */

int verb_reload(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	char **pending = NULL, text[512];
	int code = EXIT_OK, r;

	(void) argc, (void) argv;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	r = call_method(bus, MANAGER_PATH, MANAGER_IFACE, "Reload", NULL, NULL,
			bus_action_timeout(), &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, &pending);
	if (r < 0) {
		log_error("Failed to reload: %s", bus_error_text(&e, r, text, sizeof(text)));
		code = bus_exit_code(&e, r);
	} else if (arg.json) {
		struct json j;

		json_init(&j, stdout, arg.json);
		json_begin_array(&j, NULL);
		for (char **i = pending; i && *i; i++)
			json_string(&j, NULL, *i);
		json_end_array(&j);
		json_finish(&j);
	} else
		for (char **i = pending; i && *i; i++)
			printf("%s\n", *i);
	strv_free(pending);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return code;
}

/* ---- monitor ------------------------------------------------------------------ */

static char *core_name_of(const char *path)
{
	char *decoded = NULL;
	const char *slash = strrchr(path, '/');

	if (sd_bus_path_decode(path, CORE_PATH, &decoded) > 0)
		return decoded;
	return strdup(slash ? slash + 1 : path);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct props p = {};
	const char *iface;
	char *name;
	int r;

	(void) userdata, (void) error;
	name = core_name_of(sd_bus_message_get_path(m));
	if (!name)
		return 0;
	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0 || !streq(iface, CORE_IFACE))
		goto finish;
	r = props_read(m, &p);
	if (r < 0)
		goto finish;
	if (arg.json) {
		struct json j;

		/* One document per event: {"Core":…,"Event":"changed","Changed":{…}} */
		json_init(&j, stdout, arg.json);
		json_begin_object(&j, NULL);
		json_string(&j, "Core", name);
		json_string(&j, "Event", "changed");
		props_json(&j, "Changed", &p, NULL);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("%s:", name);
		for (size_t i = 0; i < p.n; i++) {
			const struct prop *x = &p.v[i];
			char *s;

			if (streq(x->name, "Channels") && x->v.type == 'a') {
				/* Channels: their names, comma-separated */
				printf(" %s=", x->name);
				for (size_t k = 0; k < x->v.items.n; k++) {
					const struct value *c = &x->v.items.v[k];

					if (c->type == 'r' && c->items.n > 0 &&
					    c->items.v[0].type == 's')
						printf("%s%s", k ? "," : "", c->items.v[0].str);
				}
				continue;
			}
			if (x->v.type == 'a' && x->v.items.n > 1) {
				printf(" %s=[…]", x->name);
				continue;
			}
			s = prop_format(x);
			printf(" %s=%s", x->name, s ? s : "");
			free(s);
		}
		printf("\n");
		fflush(stdout);
	}
finish:
	props_done(&p);
	free(name);
	return 0;
}

static int on_interfaces(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *path = NULL, *event;
	char *decoded = NULL;

	(void) userdata, (void) error;
	if (sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (sd_bus_path_decode(path, CORE_PATH, &decoded) <= 0)
		return 0;
	event = streq(sd_bus_message_get_member(m), "InterfacesAdded") ? "added" : "removed";
	if (arg.json) {
		struct json j;

		json_init(&j, stdout, arg.json);
		json_begin_object(&j, NULL);
		json_string(&j, "Core", decoded);
		json_string(&j, "Event", event);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("%s: %s\n", decoded, event);
		fflush(stdout);
	}
	free(decoded);
	return 0;
}

int verb_monitor(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int r;

	(void) argc, (void) argv;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	r = sd_bus_match_signal(bus, NULL, DEST, NULL, "org.freedesktop.DBus.Properties",
				"PropertiesChanged", on_properties_changed, NULL);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, DEST, MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
					on_interfaces, NULL);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, DEST, MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
					on_interfaces, NULL);
	if (r < 0) {
		log_error("Failed to subscribe to rprocd's signals: %s", strerror(-r));
		sd_bus_flush_close_unref(bus);
		return bus_exit_code(NULL, r);
	}
	log_notice("Monitoring rprocd; ^C ends.");
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			break;
	}
	log_error("Lost the bus: %s", strerror(-r));
	sd_bus_flush_close_unref(bus);
	return r == -ECONNRESET ? EXIT_NO_DAEMON : EXIT_FAILED;
}
