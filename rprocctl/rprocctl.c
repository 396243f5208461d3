/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl: control rprocd, and check firmware and configuration offline. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "librproc.h"
#include "output.h"
#include "rprocctl.h"
#include "util.h"

struct rprocctl_options arg = { .timeout_usec = UINT64_MAX };

enum {
	VERB_BUS = 1 << 0,     /* talks to rprocd: -H applies */
	VERB_OFFLINE = 1 << 1, /* reads local files: -H is refused */
	VERB_LOCAL = 1 << 2,   /* the local journal: -H is refused */
};
/* (update CORE FILE passes a local file's descriptor: it refuses -H itself.) */

struct verb {
	const char *name;
	int min_args, max_args; /* counting the verb; -1: no limit */
	int (*fn)(int argc, char **argv);
	unsigned flags;
	const char *synopsis; /* after "rprocctl " */
	const char *summary;  /* one line, for the list of commands */
	const char *help;     /* what `rprocctl VERB --help` adds */
	const char *options;  /* the ids of its options (option_helps), separated by spaces */
};

static int verb_help(int argc, char **argv);

/* An option's line in a help text: the option, and what it does (continued lines after '\n'). */
struct option_help {
	const char *id;
	const char *option;
	const char *text;
	const char *where; /* the commands it is for, in the list of all options */
};

static const struct option_help option_helps[] = {
	{ "help", "-h --help", "show this help (after a command: the command's)" },
	{ "version", "   --version", "show the version" },
	{ "json", "   --json=MODE", "short (one line; also plain --json), pretty, or off" },
	{ "no-pager", "   --no-pager", "do not pipe the output into a pager" },
	{ "no-legend", "   --no-legend", "no header and footer", "list" },
	{ "quiet", "-q --quiet", "print less" },
	{ "host", "-H --host=[USER@]HOST", "talk to rprocd on HOST, through ssh" },
	{ "property", "-p --property=NAME", "only NAME (repeat, or NAME,NAME…)", "show" },
	{ "value", "   --value", "only the values, one per line", "show" },
	{ "all", "-a --all", "empty properties too", "show" },
	{ "timeout", "   --timeout=TIME",
	  "stop waiting for the answer after TIME (30s, 2min);\n"
	  "rprocd goes on with it. Default: wait until it is done",
	  "actions, update, reload" },
	{ "no-block", "   --no-block",
	  "return once rprocd has the request, without its outcome;\n"
	  "a failure then shows in `rprocctl status` (Last error)\n"
	  "and in the journal",
	  "actions" },
	{ "restart", "   --restart", "restart a running core with the new image now",
	  "set-firmware" },
	{ "ready", "   --ready", "until Ready (every ReadyWhen= channel announced)", "wait" },
	{ "wait-timeout", "   --timeout=TIME", "give up after TIME (30s, 2min) with exit status 3",
	  "wait" },
	{ "root", "   --root=DIR", "read configuration and firmware under DIR", "cat, verify" },
	{ "class", "   --class=32|64", "require this ELF class", "validate" },
	{ "machine", "   --machine=NAME", "require this ELF machine (ARM, AARCH64, RISCV, …)",
	  "validate" },
	{ "opaque", "   --opaque", "the image is opaque (a signed or vendor format)", "validate" },
	{ "follow", "-f --follow", "go on printing new lines (never paged)", "logs" },
	{ "lines", "-n --lines=N", "only the last N lines", "logs" },
	{ "confirm", "   --confirm", "commit the update on trial now", "update" },
	{ "rollback", "   --rollback", "roll the update on trial back now", "update" },
};

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xc0) != 0x80)
			w++;
	return w;
}

/* "  OPTION…PADDING TEXT", continuation lines of TEXT under its start. */
static void print_help_line(const char *left, const char *text)
{
	int pad = 24 - text_width(left);

	printf("  %s%*s ", left, pad > 0 ? pad : 0, "");
	if (pad <= 0)
		printf("\n%27s", "");
	for (const char *t = text, *nl; *t; t = nl ? nl + 1 : t + strlen(t)) {
		nl = strchr(t, '\n');
		printf("%s%.*s\n", t == text ? "" : "                           ",
		       nl ? (int) (nl - t) : (int) strlen(t), t);
	}
}

/* The help lines of the options whose ids are in ids (separated by spaces). */
static void print_options(const char *ids)
{
	char id[32];

	for (const char *p = ids; sscanf(p, "%31s", id) == 1;
	     p = strchr(p, ' ') ? strchr(p, ' ') + 1 : "")
		for (size_t i = 0; i < ELEMENTSOF(option_helps); i++)
			if (streq(option_helps[i].id, id))
				print_help_line(option_helps[i].option, option_helps[i].text);
}

static const struct verb verbs[] = {
	{ "list", 1, -1, verb_list, VERB_BUS, "list [PATTERN…]",
	  "list the cores rprocd knows (names matching a glob PATTERN)",
	  "Every core rprocd knows, or those whose name matches one of the shell-style\n"
	  "PATTERNs: name, state, whether rprocd manages it, the kernel's name.\n",
	  "json no-legend no-pager host" },
	{ "status", 2, -1, verb_status, VERB_BUS, "status CORE…",
	  "show state, firmware, crashes, channels, configuration",
	  "State and origin (booted, attached, adopted), firmware and build-id, the kernel\n"
	  "device, policies, crashes, channels, the last error and the configuration files\n"
	  "of each CORE. Exit status 3 when a core is not running or attached.\n",
	  "json no-pager host" },
	{ "show", 1, -1, verb_show, VERB_BUS, "show [CORE…]",
	  "show properties (rprocd's own without CORE)",
	  "The D-Bus properties of each CORE as NAME=VALUE lines, or without CORE those of\n"
	  "rprocd itself (Version, NCores, EventSources, PollIntervalUSec). Empty values are\n"
	  "left out unless --all is given or -p names them.\n",
	  "property value all json no-pager host" },
	{ "is-running", 2, -1, verb_is, VERB_BUS, "is-running CORE…",
	  "exit 0 if every core is running or attached",
	  "Prints each CORE's state (unknown for one that does not exist). Exit status 0\n"
	  "when every CORE is running or attached, 3 when one is not, 4 when one does not\n"
	  "exist. -q prints nothing.\n",
	  "quiet json host" },
	{ "is-ready", 2, -1, verb_is, VERB_BUS, "is-ready CORE…",
	  "exit 0 if every core is ready (its ReadyWhen= channels there)",
	  "Prints ready or not-ready for each CORE (unknown for one that does not exist).\n"
	  "Exit status 0 when every CORE is ready (up, and every channel ReadyWhen= names\n"
	  "announced), 3 when one is not, 4 when one does not exist. -q prints nothing.\n",
	  "quiet json host" },
	{ "start", 2, -1, verb_action, VERB_BUS, "start CORE…", "boot or attach",
	  "Boot an offline CORE from its validated firmware, attach to a detached one,\n"
	  "recover a crashed one. Returns when the kernel has answered (a boot may wait\n"
	  "behind other operations on the core).\n",
	  "timeout no-block host" },
	{ "stop", 2, -1, verb_action, VERB_BUS, "stop CORE…",
	  "shut down (or detach, as Stop= says)",
	  "Shut CORE down, or detach it when it was attached and Stop=detach.\n",
	  "timeout no-block host" },
	{ "restart", 2, -1, verb_action, VERB_BUS, "restart CORE…", "stop, then start",
	  "Stop, then start CORE.\n", "timeout no-block host" },
	{ "attach", 2, -1, verb_action, VERB_BUS, "attach CORE…", "attach to a detached core",
	  "Attach to a detached CORE (one a bootloader started or Linux detached).\n",
	  "timeout no-block host" },
	{ "detach", 2, -1, verb_action, VERB_BUS, "detach CORE…",
	  "detach, leaving the core running",
	  "Detach from CORE and leave it running (a core Linux booted cannot be detached).\n",
	  "timeout no-block host" },
	{ "recover", 2, -1, verb_action, VERB_BUS, "recover CORE…", "recover a crashed core",
	  "Recover a crashed CORE now.\n", "timeout no-block host" },
	{ "set-firmware", 3, 3, verb_set_firmware, VERB_BUS, "set-firmware CORE FILE",
	  "boot FILE next (--restart: now)",
	  "Boot FILE (a name on the firmware search path) next time; it is validated first.\n"
	  "While CORE runs this is refused unless --restart is given. Lasts until the next\n"
	  "reload.\n",
	  "restart timeout no-block host" },
	{ "update", 2, 3, verb_update, VERB_BUS, "update CORE [FILE]",
	  "boot FILE on trial (--confirm, --rollback: decide now)",
	  "An A/B firmware update: boot FILE on trial; it is committed once CORE has run\n"
	  "UpdateConfirmSec=, or now with --confirm; --rollback goes back to the previous\n"
	  "image now. rprocd reads FILE through a descriptor rprocctl opens (the caller's\n"
	  "rights), so not with -H. Returns when the trial boot is done.\n",
	  "confirm rollback timeout host" },
	{ "reload", 1, 1, verb_reload, VERB_BUS, "reload", "re-read the configuration",
	  "Re-read the configuration; prints what waits for a restart of a core.\n",
	  "json timeout host" },
	{ "logs", 2, 2, verb_logs, VERB_LOCAL, "logs CORE",
	  "the firmware's own log (its trace buffer) from the journal",
	  "The lines of CORE's trace buffer rprocd forwarded to the journal, oldest first.\n",
	  "follow lines json no-pager" },
	{ "wait", 2, -1, verb_wait, VERB_BUS, "wait CORE…",
	  "block until each core is up (--ready: ready)",
	  "Block until every CORE is up (running or attached) or, with --ready, until it\n"
	  "is ready. For scripts and ExecStartPre=. With --timeout=, a core that is not\n"
	  "there yet is waited for too (exit status 4 if it never comes). Never paged.\n",
	  "ready wait-timeout host" },
	{ "monitor", 1, 1, verb_monitor, VERB_BUS, "monitor",
	  "print property changes as they happen",
	  "Print every change of a core's properties, and cores that come and go, until\n"
	  "interrupted. Never paged; -q leaves out the \"Monitoring\" notice.\n",
	  "json quiet host" },
	{ "validate", 2, -1, verb_validate, VERB_OFFLINE, "validate FILE…",
	  "check firmware images (no daemon needed)",
	  "Check firmware images as rprocd does before a boot. Exit status 1 when one is\n"
	  "invalid. -q prints only the invalid ones.\n",
	  "class machine opaque quiet json no-pager" },
	{ "cat", 2, -1, verb_cat, VERB_OFFLINE, "cat CORE…",
	  "show the merged configuration and its files (no daemon needed)",
	  "The merged configuration of each CORE, each value with the file and line it came\n"
	  "from. Its errors and warnings go to standard error.\n",
	  "root json no-pager" },
	{ "verify", 1, 1, verb_verify, VERB_OFFLINE, "verify",
	  "check every configuration file (no daemon needed)",
	  "Check rprocd.conf and every core's configuration; errors and warnings go to\n"
	  "standard error with FILE:LINE, a summary to standard output (not with -q).\n"
	  "Exit status 1 when something is invalid.\n",
	  "root quiet json no-pager" },
	{ "help", 1, 2, verb_help, 0, "help [COMMAND]", "show this help, or a command's",
	  "The list of commands and options, or what COMMAND does and which options it\n"
	  "takes.\n",
	  "" },
};

static const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static void help(void)
{
	pager_open();
	printf("rprocctl [OPTIONS…] COMMAND …\n\n"
	       "Control the remote processors managed by rprocd.\n\n%sCommands:%s\n",
	       color_on(COLOR_BOLD), color_off());
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		print_help_line(verbs[i].synopsis, verbs[i].summary);
	printf("\n%sOptions:%s\n", color_on(COLOR_BOLD), color_off());
	for (size_t i = 0; i < ELEMENTSOF(option_helps); i++) {
		const struct option_help *o = &option_helps[i];
		char *text = NULL;

		if (streq(o->id, "wait-timeout"))
			continue; /* --timeout once, for both */
		if (o->where &&
		    asprintf(&text, "%s: %s", streq(o->id, "timeout") ? "wait, actions" : o->where,
			     streq(o->id, "timeout")
				     ? "give up (wait) or stop waiting (actions) after TIME"
				     : o->text) < 0)
			text = NULL;
		print_help_line(o->option, text ? text : o->text);
		free(text);
	}
	printf("\nThe actions are start, stop, restart, attach, detach, recover, set-firmware.\n"
	       "`rprocctl COMMAND --help` or `rprocctl help COMMAND` tells more; see "
	       "rprocctl(1).\n");
}

static void verb_usage(const struct verb *v)
{
	pager_open();
	printf("rprocctl [OPTIONS…] %s\n\n%s", v->synopsis, v->help);
	if (*v->options) {
		printf("\n%sOptions:%s\n", color_on(COLOR_BOLD), color_off());
		print_options(v->options);
	}
}

static int verb_help(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		help();
		return EXIT_OK;
	}
	v = verb_find(argv[1]);
	if (!v) {
		log_error("Unknown command \"%s\"; see rprocctl --help", argv[1]);
		return EXIT_USAGE;
	}
	verb_usage(v);
	return EXIT_OK;
}

/* -p NAME[,NAME…], repeatable. */
static int add_properties(const char *s)
{
	char *copy = strdup(s), *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (strv_extend(&arg.properties, w) < 0) {
			free(copy);
			return -ENOMEM;
		}
	free(copy);
	return 0;
}

/* 1: go on, 0: done (help or version printed), -1: usage error (said why). */
static int parse_argv(int argc, char **argv, bool *ret_help)
{
	enum {
		ARG_VERSION = 0x100,
		ARG_JSON,
		ARG_NO_PAGER,
		ARG_NO_LEGEND,
		ARG_VALUE,
		ARG_NO_BLOCK,
		ARG_ROOT,
		ARG_CLASS,
		ARG_MACHINE,
		ARG_OPAQUE,
		ARG_RESTART,
		ARG_READY,
		ARG_TIMEOUT,
		ARG_CONFIRM,
		ARG_ROLLBACK,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "json", optional_argument, NULL, ARG_JSON },
		{ "no-pager", no_argument, NULL, ARG_NO_PAGER },
		{ "no-legend", no_argument, NULL, ARG_NO_LEGEND },
		{ "quiet", no_argument, NULL, 'q' },
		{ "host", required_argument, NULL, 'H' },
		{ "property", required_argument, NULL, 'p' },
		{ "value", no_argument, NULL, ARG_VALUE },
		{ "all", no_argument, NULL, 'a' },
		{ "no-block", no_argument, NULL, ARG_NO_BLOCK },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "class", required_argument, NULL, ARG_CLASS },
		{ "machine", required_argument, NULL, ARG_MACHINE },
		{ "opaque", no_argument, NULL, ARG_OPAQUE },
		{ "restart", no_argument, NULL, ARG_RESTART },
		{ "ready", no_argument, NULL, ARG_READY },
		{ "timeout", required_argument, NULL, ARG_TIMEOUT },
		{ "confirm", no_argument, NULL, ARG_CONFIRM },
		{ "rollback", no_argument, NULL, ARG_ROLLBACK },
		{ "follow", no_argument, NULL, 'f' },
		{ "lines", required_argument, NULL, 'n' },
		{}
	};
	unsigned n;
	int c;

	/* getopt's own messages would carry argv[0], a build path perhaps: ours carry the prefix. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hqafn:p:H:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			*ret_help = true;
			break;
		case ARG_VERSION:
			printf("rprocctl %s\n", PACKAGE_VERSION);
			return 0;
		case ARG_JSON:
			if (json_mode_from_string(optarg, &arg.json) < 0) {
				log_error("--json takes short, pretty or off, not \"%s\"", optarg);
				return -1;
			}
			break;
		case ARG_NO_PAGER:
			arg.no_pager = true;
			break;
		case ARG_NO_LEGEND:
			arg.no_legend = true;
			break;
		case 'q':
			arg.quiet = true;
			break;
		case 'H':
			arg.host = optarg;
			break;
		case 'p':
			if (add_properties(optarg) < 0) {
				log_error("Out of memory");
				return -1;
			}
			break;
		case ARG_VALUE:
			arg.value = true;
			break;
		case 'a':
			arg.all = true;
			break;
		case ARG_NO_BLOCK:
			arg.no_block = true;
			break;
		case ARG_ROOT:
			arg.root = optarg;
			break;
		case ARG_CLASS:
			arg.fw_class = optarg;
			break;
		case ARG_MACHINE:
			arg.fw_machine = optarg;
			break;
		case ARG_OPAQUE:
			arg.opaque = true;
			break;
		case ARG_RESTART:
			arg.restart = true;
			break;
		case ARG_READY:
			arg.ready = true;
			break;
		case ARG_CONFIRM:
			arg.update_confirm = true;
			break;
		case ARG_ROLLBACK:
			arg.update_rollback = true;
			break;
		case 'f':
			arg.follow = true;
			break;
		case 'n':
			/*
			 * Not (unsigned) strtoul(): on 64-bit hosts that made
			 * 4294967296 lines 0, on 32-bit ones an error.
			 */
			if (rproc_parse_unsigned(optarg, &n) < 0) {
				log_error("Invalid --lines \"%s\"", optarg);
				return -1;
			}
			arg.lines = n;
			break;
		case ARG_TIMEOUT: {
			rproc_usec_t t;

			if (rproc_parse_timespan(optarg, &t) < 0) {
				log_error("Invalid --timeout \"%s\" (e.g. 30s, 2min)", optarg);
				return -1;
			}
			arg.timeout_usec = t == RPROC_USEC_INFINITY ? UINT64_MAX : t;
			arg.timeout_set = true;
			break;
		}
		case ':':
			log_error("Option %s needs an argument", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				log_error("Unknown option -%c; see rprocctl --help", optopt);
			else
				log_error("Unknown option %s; see rprocctl --help",
					  argv[optind - 1]);
			return -1;
		}
	return 1;
}

int main(int argc, char **argv)
{
	const struct verb *v;
	bool want_help = false;
	int r, n, code;

	r = parse_argv(argc, argv, &want_help);
	if (r <= 0) {
		code = r < 0 ? EXIT_USAGE : EXIT_OK;
		goto finish;
	}
	n = argc - optind;
	if (want_help) {
		/* `rprocctl VERB --help`: the verb's help; otherwise the whole list. */
		v = n > 0 ? verb_find(argv[optind]) : NULL;
		if (v)
			verb_usage(v);
		else
			help();
		code = EXIT_OK;
		goto finish;
	}
	/* No command: list, as systemctl lists units. */
	v = n > 0 ? verb_find(argv[optind]) : verb_find("list");
	if (!v) {
		log_error("Unknown command \"%s\"; see rprocctl --help", argv[optind]);
		code = EXIT_USAGE;
		goto finish;
	}
	if (n == 0) {
		static char *list_argv[] = { (char *) "list", NULL };

		code = v->fn(1, list_argv);
		goto finish;
	}
	if (n < v->min_args || (v->max_args >= 0 && n > v->max_args)) {
		log_error("%s arguments for %s; usage: rprocctl %s",
			  n < v->min_args ? "Too few" : "Too many", v->name, v->synopsis);
		code = EXIT_USAGE;
		goto finish;
	}
	if (arg.host && (v->flags & (VERB_OFFLINE | VERB_LOCAL))) {
		log_error("%s reads %s, not rprocd: -H does not apply", v->name,
			  v->flags & VERB_LOCAL ? "the local journal" : "local files");
		code = EXIT_USAGE;
		goto finish;
	}
	code = v->fn(n, argv + optind);
finish:
	pager_close();
	strv_free(arg.properties);
	return code;
}
