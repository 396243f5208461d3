/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl: control rprocd, and check firmware and configuration offline. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "librproc.h"
#include "rprocctl.h"

struct rprocctl_options arg = { .timeout_usec = UINT64_MAX };

struct verb {
	const char *name;
	int min_args; /* including the verb */
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ "list", 1, verb_list, "list                  list every core rprocd knows" },
	{ "status", 2, verb_status,
	  "status CORE…          show state, firmware, crashes, configuration" },
	{ "start", 2, verb_action, "start CORE…           boot or attach" },
	{ "stop", 2, verb_action, "stop CORE…            shut down (or detach, as Stop= says)" },
	{ "restart", 2, verb_action, "restart CORE…         stop, then start" },
	{ "attach", 2, verb_action, "attach CORE…          attach to a detached core" },
	{ "detach", 2, verb_action, "detach CORE…          detach, leaving the core running" },
	{ "recover", 2, verb_action, "recover CORE…         recover a crashed core" },
	{ "set-firmware", 3, verb_set_firmware,
	  "set-firmware CORE FILE  boot FILE next (--restart: now)" },
	{ "reload", 1, verb_reload, "reload                re-read the configuration" },
	{ "update", 2, verb_update,
	  "update CORE FILE      boot FILE on trial; committed if it runs UpdateConfirmSec= "
	  "(--confirm, --rollback: decide now)" },
	{ "logs", 2, verb_logs,
	  "logs CORE             the firmware's own log (its trace buffer) from the journal" },
	{ "wait", 2, verb_wait,
	  "wait CORE…            block until each core is up (--ready: ready; --timeout=TIME)" },
	{ "monitor", 1, verb_monitor,
	  "monitor               print property changes as they happen" },
	{ "validate", 2, verb_validate,
	  "validate FILE…        check firmware images (no daemon needed)" },
	{ "cat", 2, verb_cat, "cat CORE…             show the merged configuration and its files" },
	{ "verify", 1, verb_verify, "verify                check every configuration file" },
};

static void help(void)
{
	printf("rprocctl [OPTIONS…] COMMAND …\n\n"
	       "Control the remote processors managed by rprocd.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  %s\n", verbs[i].help);
	printf("\nOptions:\n"
	       "  -h --help             show this help\n"
	       "     --version          show the version\n"
	       "     --json             machine-readable output\n"
	       "     --root DIR         offline commands: read configuration and firmware under "
	       "DIR\n"
	       "     --class 32|64      validate: require this ELF class\n"
	       "     --machine NAME     validate: require this ELF machine (ARM, AARCH64, RISCV, "
	       "…)\n"
	       "     --opaque           validate: the image is opaque (signed/vendor format)\n"
	       "     --restart          set-firmware: restart a running core with the new image\n"
	       "     --ready            wait: until Ready (every ReadyWhen= channel), not just up\n"
	       "     --timeout TIME     wait: give up after TIME (e.g. 30s, 2min; exit status "
	       "3)\n"
	       "  -f --follow           logs: go on printing new lines\n"
	       "  -n --lines N          logs: only the last N lines\n"
	       "     --confirm          update: commit the update on trial now\n"
	       "     --rollback         update: roll the update on trial back now\n");
}

static int parse_argv(int argc, char **argv)
{
	enum {
		ARG_VERSION = 0x100,
		ARG_JSON,
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
	unsigned n;
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "json", no_argument, NULL, ARG_JSON },
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
	int c;

	while ((c = getopt_long(argc, argv, "hfn:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("rprocctl %s\n", PACKAGE_VERSION);
			return 0;
		case ARG_JSON:
			arg.json = true;
			break;
		case ARG_ROOT:
			arg.root = optarg;
			break;
		case ARG_CONFIRM:
			arg.update_confirm = true;
			break;
		case ARG_ROLLBACK:
			arg.update_rollback = true;
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
		case 'f':
			arg.follow = true;
			break;
		case 'n':
			/*
			 * Not (unsigned) strtoul(): on 64-bit hosts that made
			 * 4294967296 lines 0, on 32-bit ones an error.
			 */
			if (rproc_parse_unsigned(optarg, &n) < 0) {
				fprintf(stderr, "rprocctl: invalid --lines \"%s\"\n", optarg);
				return -1;
			}
			arg.lines = n;
			break;
		case ARG_TIMEOUT: {
			rproc_usec_t t;

			if (rproc_parse_timespan(optarg, &t) < 0) {
				fprintf(stderr,
					"rprocctl: invalid --timeout \"%s\" (e.g. 30s, 2min)\n",
					optarg);
				return -1;
			}
			arg.timeout_usec = t == RPROC_USEC_INFINITY ? UINT64_MAX : t;
			break;
		}
		default:
			return -1;
		}
	return 1;
}

int main(int argc, char **argv)
{
	int r = parse_argv(argc, argv);
	int n;

	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	n = argc - optind;
	if (n < 1) {
		help();
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verbs[i].name, argv[optind]) != 0)
			continue;
		if (n < verbs[i].min_args) {
			fprintf(stderr, "rprocctl %s: too few arguments\n", verbs[i].name);
			return EXIT_USAGE;
		}
		return verbs[i].fn(n, argv + optind);
	}
	fprintf(stderr, "rprocctl: unknown command \"%s\"; see rprocctl --help\n", argv[optind]);
	return EXIT_USAGE;
}
