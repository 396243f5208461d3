/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocd: the remote processor manager daemon. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "log.h"
#include "manager.h"

static void help(void)
{
	printf("rprocd [OPTIONS…]\n\n"
	       "Manage the remote processors of the kernel's remoteproc framework.\n\n"
	       "  -h --help        show this help\n"
	       "     --version     show the version\n"
	       "  -d --debug       log debug messages\n"
	       "     --root=DIR    manage the system under DIR (its /sys, /dev, /etc,\n"
	       "                   /lib/firmware): for tests and image builds\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "help", no_argument, NULL, 'h' },
						 { "version", no_argument, NULL, 'V' },
						 { "debug", no_argument, NULL, 'd' },
						 { "root", required_argument, NULL, 'R' },
						 {} };
	const char *root = NULL;
	struct manager *m = NULL;
	int c, r, priority = LOG_INFO;

	while ((c = getopt_long(argc, argv, "hd", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			printf("rprocd %s\n", PACKAGE_VERSION);
			return 0;
		case 'd':
			priority = LOG_DEBUG;
			break;
		case 'R':
			if (optarg[0] != '/') {
				fprintf(stderr, "--root needs an absolute path\n");
				return 2;
			}
			root = optarg;
			break;
		default:
			return 2;
		}
	if (optind < argc) {
		fprintf(stderr, "rprocd takes no arguments\n");
		return 2;
	}
	log_setup(priority);
	/* Worker threads are short-lived and few: one malloc arena for all keeps RSS small. */
	mallopt(M_ARENA_MAX, 1);

	r = manager_new(root, NULL, &m);
	if (r < 0) {
		log_error_errno(r, "Failed to set up: %m");
		return 1;
	}
	r = manager_startup(m);
	if (r >= 0)
		r = manager_run(m);
	if (r < 0) {
		sd_notifyf(false, "STATUS=Failed: %s\nERRNO=%d", strerror(-r), -r);
		log_error_errno(r, "rprocd failed: %m");
	}
	manager_free(m);
	return r < 0 ? 1 : 0;
}
