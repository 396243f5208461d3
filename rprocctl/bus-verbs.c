/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl's commands that talk to rprocd over D-Bus. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "json.h"
#include "rprocctl.h"

#define DEST	      "org.rprocd1"
#define MANAGER_PATH  "/org/rprocd1"
#define MANAGER_IFACE "org.rprocd1.Manager"
#define CORE_IFACE    "org.rprocd1.Core"

/* One property as read from GetAll, kept as text (and number where it is one). */
struct prop {
	char name[32];
	char type;  /* the D-Bus type's first letter; 'C' for a(suuss), Channels */
	char *text; /* "as": entries joined by '\n'; 'C': "name\tsrc\tdst\tdevice\tnode" lines */
	uint64_t number;
};

struct props {
	struct prop v[48];
	size_t n;
};

static void props_done(struct props *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	p->n = 0;
}

static const struct prop *prop_get(const struct props *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

static const char *prop_str(const struct props *p, const char *name)
{
	const struct prop *x = prop_get(p, name);

	return x && x->text ? x->text : "";
}

static uint64_t prop_num(const struct props *p, const char *name)
{
	const struct prop *x = prop_get(p, name);

	return x ? x->number : 0;
}

/* Channels, a(suuss): one line per channel, its fields separated by tabs. */
static int read_channels(sd_bus_message *m, char **ret)
{
	const char *name, *dev, *node;
	uint32_t src, dst;
	char *text = strdup("");
	int r;

	r = sd_bus_message_enter_container(m, 'a', "(suuss)");
	while (r >= 0 && text &&
	       (r = sd_bus_message_read(m, "(suuss)", &name, &src, &dst, &dev, &node)) > 0) {
		char *t = NULL;

		if (asprintf(&t, "%s%s%s\t%" PRIu32 "\t%" PRIu32 "\t%s\t%s", text,
			     *text ? "\n" : "", name, src, dst, dev, node) < 0)
			t = NULL;
		free(text);
		text = t;
	}
	if (r >= 0 && !text)
		r = -ENOMEM;
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}

/* One record of a 'C' property (read_channels()); false when it is not one. */
struct channel_record {
	char name[256], dev[512], node[512];
	unsigned long src, dst;
};

static bool parse_channel(const char *s, struct channel_record *c)
{
	*c = (struct channel_record){};
	return sscanf(s, "%255[^\t]\t%lu\t%lu\t%511[^\t]\t%511[^\t\n]", c->name, &c->src, &c->dst,
		      c->dev, c->node) >= 4;
}

/* Read one "{sv}" body (the caller has entered the dict entry). */
static int read_prop(sd_bus_message *m, struct prop *out)
{
	const char *name, *contents;
	char type;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	snprintf(out->name, sizeof(out->name), "%s", name);
	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r < 0)
		return r;
	out->type = contents[0];
	out->text = NULL;
	out->number = 0;
	switch (contents[0]) {
	case 's':
	case 'o': {
		const char *s;

		r = sd_bus_message_read_basic(m, contents[0], &s);
		if (r >= 0)
			out->text = strdup(s);
		break;
	}
	case 'b': {
		int b;

		r = sd_bus_message_read_basic(m, 'b', &b);
		out->number = (uint64_t) b;
		out->text = strdup(b ? "yes" : "no");
		break;
	}
	case 'u': {
		uint32_t u;

		r = sd_bus_message_read_basic(m, 'u', &u);
		out->number = u;
		if (asprintf(&out->text, "%" PRIu32, u) < 0)
			out->text = NULL;
		break;
	}
	case 't': {
		uint64_t t;

		r = sd_bus_message_read_basic(m, 't', &t);
		out->number = t;
		if (asprintf(&out->text, "%" PRIu64, t) < 0)
			out->text = NULL;
		break;
	}
	case 'a': {
		char **l = NULL;
		size_t len = 1;

		if (!strcmp(contents, "a(suuss)")) {
			r = read_channels(m, &out->text);
			out->type = 'C';
			break;
		}
		if (strcmp(contents, "as")) {
			r = sd_bus_message_skip(m, contents);
			out->type = '?';
			break;
		}

		r = sd_bus_message_read_strv(m, &l);
		for (char **i = l; r >= 0 && i && *i; i++)
			len += strlen(*i) + 1;
		out->text = calloc(1, len);
		for (char **i = l; out->text && i && *i; i++) {
			if (i != l)
				strcat(out->text, "\n");
			strcat(out->text, *i);
		}
		for (char **i = l; i && *i; i++)
			free(*i);
		free(l);
		out->type = 'a';
		break;
	}
	default:
		r = sd_bus_message_skip(m, contents);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Read an a{sv} into props. */
static int read_props(sd_bus_message *m, struct props *p)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (p->n >= sizeof(p->v) / sizeof(p->v[0])) {
			r = sd_bus_message_skip(m, "sv");
		} else
			r = read_prop(m, &p->v[p->n++]);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int bus_connect(sd_bus **bus)
{
	int r = sd_bus_open_system(bus);

	if (r < 0)
		fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
	return r;
}

/* Exit code for a failed call. */
static int exit_for_error(const sd_bus_error *e, int r)
{
	if (sd_bus_error_has_name(e, "org.rprocd1.Error.NoSuchCore"))
		return EXIT_NO_SUCH_CORE;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) || r == -EACCES || r == -EPERM)
		return EXIT_DENIED;
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		return EXIT_NO_DAEMON;
	return EXIT_FAILED;
}

int core_object_path(sd_bus *bus, const char *name, char **ret, int *exit_code)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *p;
	int r;

	r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "GetCore", &e, &reply, "s",
			       name);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", name, e.message ? e.message : strerror(-r));
		*exit_code = exit_for_error(&e, r);
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0)
		*ret = strdup(p);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* Call a method of a core (with one string argument, or none); returns an exit code. */
static int call_core(sd_bus *bus, const char *verb, const char *core, const char *method,
		     const char *string_arg)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *path = NULL;
	int code = EXIT_FAILED, r;

	if (core_object_path(bus, core, &path, &code) < 0)
		return code;
	if (string_arg)
		r = sd_bus_call_method(bus, DEST, path, CORE_IFACE, method, &e, NULL, "s",
				       string_arg);
	else
		r = sd_bus_call_method(bus, DEST, path, CORE_IFACE, method, &e, NULL, "");
	code = EXIT_OK;
	if (r < 0) {
		fprintf(stderr, "%s %s: %s\n", verb, core, e.message ? e.message : strerror(-r));
		code = exit_for_error(&e, r);
	}
	sd_bus_error_free(&e);
	free(path);
	return code;
}

int verb_list(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct json j = { .f = stdout };
	const char *name, *kname, *state, *path;
	sd_bus *bus = NULL;
	unsigned n = 0;
	int managed, r, ret = EXIT_OK;

	(void) argc, (void) argv;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "ListCores", &e, &reply, "");
	if (r < 0) {
		fprintf(stderr, "Cannot list cores: %s\n", e.message ? e.message : strerror(-r));
		ret = exit_for_error(&e, r);
		goto finish;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(sssbo)");
	if (r < 0)
		goto bad;
	if (arg.json)
		json_begin_array(&j, NULL);
	else
		printf("%-20s %-10s %-8s %s\n", "CORE", "STATE", "MANAGED", "KERNEL NAME");
	while ((r = sd_bus_message_read(reply, "(sssbo)", &name, &kname, &state, &managed, &path)) >
	       0) {
		if (arg.json) {
			json_begin_object(&j, NULL);
			json_string(&j, "name", name);
			json_string(&j, "kernel_name", kname);
			json_string(&j, "state", state);
			json_bool(&j, "managed", managed);
			json_string(&j, "object_path", path);
			json_end_object(&j);
		} else
			printf("%-20s %-10s %-8s %s\n", name, state, managed ? "yes" : "no", kname);
		n++;
	}
	if (r < 0)
		goto bad;
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	} else
		printf("\n%u core%s listed.\n", n, n == 1 ? "" : "s");
	goto finish;
bad:
	fprintf(stderr, "Bad reply from rprocd: %s\n", strerror(-r));
	ret = EXIT_FAILED;
finish:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ret;
}

static int get_all(sd_bus *bus, const char *path, struct props *p, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(bus, DEST, path, "org.freedesktop.DBus.Properties", "GetAll", e,
			       &reply, "s", CORE_IFACE);
	if (r >= 0)
		r = read_props(reply, p);
	sd_bus_message_unref(reply);
	return r;
}

static void print_time(uint64_t usec)
{
	time_t t = (time_t) (usec / 1000000);
	struct tm tm;
	char buf[64];

	if (!usec) {
		printf("never");
		return;
	}
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm);
	printf("%s", buf);
}

static void print_status(const struct props *p)
{
	const char *fw = prop_str(p, "Firmware"), *bid = prop_str(p, "FirmwareBuildId");
	const char *files = prop_str(p, "ConfigFiles"), *origin = prop_str(p, "Origin");
	const char *err = prop_str(p, "LastError"), *state = prop_str(p, "State");
	const char *desc = prop_str(p, "Description");
	bool up = !strcmp(state, "running") || !strcmp(state, "attached");

	printf("%s %s%s%s\n",
	       up			  ? "●"
	       : strcmp(state, "crashed") ? "○"
					  : "×",
	       prop_str(p, "Name"), *desc ? " - " : "", desc);
	printf("       State: %s%s%s%s%s%s\n", state, *origin ? " (" : "", origin,
	       *origin ? ")" : "",
	       up && prop_get(p, "Ready") && !prop_num(p, "Ready") ? ", not ready" : "",
	       prop_num(p, "Wedged") ? ", WEDGED"
	       : prop_num(p, "Busy") ? ", busy"
				     : "");
	printf("    Firmware: %s", *fw ? fw : "-");
	if (*bid)
		printf(" (build-id %s)", bid);
	printf("\n");
	if (strcmp(prop_str(p, "ConfiguredFirmware"), fw))
		printf("  Configured: %s\n", *prop_str(p, "ConfiguredFirmware")
						     ? prop_str(p, "ConfiguredFirmware")
						     : "-");
	printf("      Kernel: %s (%s, %s)\n", prop_str(p, "KernelName"), prop_str(p, "SysName"),
	       prop_str(p, "DevicePath"));
	if (prop_num(p, "Managed"))
		printf("     Managed: yes (Start=%s, OnCrash=%s)\n", prop_str(p, "StartPolicy"),
		       prop_str(p, "OnCrashPolicy"));
	else
		printf("     Managed: no (watched only)\n");
	printf("    Recovery: %s by the kernel; coredump %s\n", prop_str(p, "Recovery"),
	       prop_str(p, "Coredump"));
	printf("     Crashes: %" PRIu64 ", last ", prop_num(p, "CrashCount"));
	print_time(prop_num(p, "LastCrashTimestamp"));
	if (*prop_str(p, "CrashReason"))
		printf(" (%s)", prop_str(p, "CrashReason"));
	printf("%s\n", prop_num(p, "StartLimitHit") ? "; START LIMIT HIT" : "");
	if (*prop_str(p, "LastCoredump"))
		printf("    Coredump: %s\n", prop_str(p, "LastCoredump"));
	if (*prop_str(p, "FallbackReason"))
		printf("    Fallback: runs FallbackFirmware= because %s\n",
		       prop_str(p, "FallbackReason"));
	if (!strcmp(origin, "attached") && prop_num(p, "Managed") &&
	    !strcmp(prop_str(p, "OnCrashPolicy"), "kernel"))
		printf("  On a crash: the kernel reboots it from its firmware file, unless the "
		       "driver re-attaches (attach-on-recovery)\n");
	for (const char *s = prop_str(p, "Channels"), *nl; *s; s = nl ? nl + 1 : "") {
		struct channel_record ch;

		nl = strchr(s, '\n');
		if (!parse_channel(s, &ch))
			continue;
		printf("%s %s (0x%lx → 0x%lx, %s)%s%s\n",
		       s == prop_str(p, "Channels") ? "    Channels:" : "             ", ch.name,
		       ch.src, ch.dst, ch.dev, *ch.node ? " " : "", ch.node);
	}
	if (*err)
		printf("  Last error: %s\n", err);
	if (*files) {
		const char *s = files;

		printf("      Config: ");
		for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1)
			printf("%.*s\n              ", (int) (nl - s), s);
		printf("%s\n", s);
	}
	for (const char *s = prop_str(p, "ConfigWarnings"), *nl; *s; s = nl ? nl + 1 : "") {
		nl = strchr(s, '\n');
		printf("     Warning: %.*s\n", nl ? (int) (nl - s) : (int) strlen(s), s);
	}
}

static void json_channels(struct json *j, const char *key, const char *text)
{
	json_begin_array(j, key);
	for (const char *s = text, *nl; *s; s = nl ? nl + 1 : "") {
		struct channel_record ch;

		nl = strchr(s, '\n');
		if (!parse_channel(s, &ch))
			continue;
		json_begin_object(j, NULL);
		json_string(j, "Name", ch.name);
		json_uint(j, "LocalAddress", ch.src);
		json_uint(j, "RemoteAddress", ch.dst);
		json_string(j, "Device", ch.dev);
		json_string(j, "Node", ch.node);
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_props(struct json *j, const char *key, const struct props *p)
{
	json_begin_object(j, key);
	for (size_t i = 0; i < p->n; i++) {
		const struct prop *x = &p->v[i];

		if (x->type == 'C')
			json_channels(j, x->name, x->text ? x->text : "");
		else if (x->type == '?')
			continue;
		else if (x->type == 'b')
			json_bool(j, x->name, x->number);
		else if (x->type == 'u' || x->type == 't')
			json_uint(j, x->name, x->number);
		else if (x->type == 'a') {
			const char *s = x->text ? x->text : "";

			json_begin_array(j, x->name);
			while (*s) {
				const char *nl = strchr(s, '\n');
				char *item = strndup(s, nl ? (size_t) (nl - s) : strlen(s));

				json_string(j, NULL, item);
				free(item);
				s = nl ? nl + 1 : s + strlen(s);
			}
			json_end_array(j);
		} else
			json_string(j, x->name, x->text ? x->text : "");
	}
	json_end_object(j);
}

int verb_status(int argc, char **argv)
{
	struct json j = { .f = stdout };
	sd_bus *bus = NULL;
	int ret = EXIT_OK;

	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		struct props p = {};
		char *path = NULL;
		int code = EXIT_FAILED, r;

		if (core_object_path(bus, argv[i], &path, &code) < 0) {
			ret = code;
			continue;
		}
		r = get_all(bus, path, &p, &e);
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], e.message ? e.message : strerror(-r));
			ret = exit_for_error(&e, r);
		} else {
			const char *s = prop_str(&p, "State");

			if (arg.json)
				json_props(&j, NULL, &p);
			else {
				if (i > 1)
					printf("\n");
				print_status(&p);
			}
			if (ret == EXIT_OK && strcmp(s, "running") && strcmp(s, "attached"))
				ret = EXIT_NOT_RUNNING;
		}
		props_done(&p);
		sd_bus_error_free(&e);
		free(path);
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
	sd_bus_flush_close_unref(bus);
	return ret;
}

/* start, stop, restart, attach, detach, recover: the method of the verb's name. */
int verb_action(int argc, char **argv)
{
	static const struct {
		const char *verb, *method;
	} map[] = {
		{ "start", "Start" },	{ "stop", "Stop" },	{ "restart", "Restart" },
		{ "attach", "Attach" }, { "detach", "Detach" }, { "recover", "Recover" },
	};
	const char *method = NULL;
	sd_bus *bus = NULL;
	int ret = EXIT_OK;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].verb, argv[0]))
			method = map[i].method;
	if (!method)
		return EXIT_USAGE;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	/* Operations on different cores run concurrently in rprocd; ask one after another here. */
	for (int i = 1; i < argc; i++) {
		int code = call_core(bus, argv[0], argv[i], method, NULL);

		if (code != EXIT_OK)
			ret = code;
	}
	sd_bus_flush_close_unref(bus);
	return ret;
}

int verb_set_firmware(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int ret;

	(void) argc;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	ret = call_core(bus, argv[0], argv[1],
			arg.restart ? "SetFirmwareAndRestart" : "SetFirmware", argv[2]);
	sd_bus_flush_close_unref(bus);
	return ret;
}

int verb_reload(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	char **pending = NULL;
	int ret = EXIT_OK, r;

	(void) argc, (void) argv;
	if (bus_connect(&bus) < 0)
		return EXIT_NO_DAEMON;
	r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "Reload", &e, &reply, "");
	if (r < 0) {
		fprintf(stderr, "reload: %s\n", e.message ? e.message : strerror(-r));
		ret = exit_for_error(&e, r);
	} else if (sd_bus_message_read_strv(reply, &pending) >= 0) {
		for (char **i = pending; i && *i; i++) {
			printf("%s\n", *i);
			free(*i);
		}
		free(pending);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ret;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct props p = {};
	const char *iface, *path = sd_bus_message_get_path(m);
	const char *name = strrchr(path, '/');
	char *decoded = NULL;
	int r;

	(void) userdata, (void) error;
	if (sd_bus_path_decode(path, "/org/rprocd1/core", &decoded) > 0)
		name = decoded;
	else
		name = name ? name + 1 : path;
	r = sd_bus_message_read(m, "s", &iface);
	if (r < 0 || strcmp(iface, CORE_IFACE))
		goto finish;
	r = read_props(m, &p);
	if (r < 0)
		goto finish;
	if (arg.json) {
		struct json j = { .f = stdout };

		/* One object per line: {"core":…,"changed":{…}} */
		json_begin_object(&j, NULL);
		json_string(&j, "core", name);
		json_props(&j, "changed", &p);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("%s:", name);
		for (size_t i = 0; i < p.n; i++) {
			const char *t = p.v[i].text ? p.v[i].text : "";

			if (p.v[i].type == 'C') {
				/* Channels: their names, comma-separated */
				printf(" %s=", p.v[i].name);
				for (const char *s = t, *nl; *s; s = nl ? nl + 1 : "") {
					nl = strchr(s, '\n');
					printf("%s%.*s", s == t ? "" : ",",
					       (int) strcspn(s, "\t\n"), s);
				}
				continue;
			}
			printf(" %s=%s", p.v[i].name, strchr(t, '\n') ? "[…]" : t);
		}
		printf("\n");
		fflush(stdout);
	}
finish:
	props_done(&p);
	free(decoded);
	return 0;
}

static int on_interfaces(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *path = NULL;
	char *decoded = NULL;

	(void) userdata, (void) error;
	if (sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (sd_bus_path_decode(path, "/org/rprocd1/core", &decoded) <= 0)
		return 0;
	if (arg.json)
		printf("{\"core\":\"%s\",\"event\":\"%s\"}\n", decoded,
		       strcmp(sd_bus_message_get_member(m), "InterfacesAdded") ? "removed"
									       : "added");
	else
		printf("%s: %s\n", decoded,
		       strcmp(sd_bus_message_get_member(m), "InterfacesAdded") ? "removed"
									       : "added");
	fflush(stdout);
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
		fprintf(stderr, "Cannot subscribe to rprocd's signals: %s\n", strerror(-r));
		sd_bus_flush_close_unref(bus);
		return EXIT_FAILED;
	}
	if (!arg.json)
		fprintf(stderr, "Monitoring rprocd; ^C ends.\n");
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0)
			break;
	}
	sd_bus_flush_close_unref(bus);
	return r == -ECONNRESET ? EXIT_NO_DAEMON : EXIT_FAILED;
}
