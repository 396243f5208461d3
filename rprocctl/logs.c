/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocctl logs CORE [-f] [-n N]: the firmware's own log, the trace buffer
 * lines rprocd forwarded to the journal (RPROC_CORE=CORE,
 * RPROC_SOURCE=firmware), oldest first; -f follows.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "output.h"
#include "rprocctl.h"
#include "util.h"

static int print_entry(sd_journal *j, const char *core)
{
	const void *data;
	size_t len;
	uint64_t usec = 0;
	time_t t;
	struct tm tm;
	char when[32];
	int r;

	r = sd_journal_get_data(j, "MESSAGE", &data, &len);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	(void) sd_journal_get_realtime_usec(j, &usec);
	/* data is "MESSAGE=…", not NUL-terminated */
	data = (const char *) data + strlen("MESSAGE=");
	len -= strlen("MESSAGE=");
	if (arg.json) {
		struct json js;
		char *text = strndup(data, len);

		if (!text)
			return -ENOMEM;
		/* One document per line: {"Core":…,"Timestamp":µs,"Message":…} */
		json_init(&js, stdout, arg.json);
		json_begin_object(&js, NULL);
		json_string(&js, "Core", core);
		json_uint(&js, "Timestamp", usec);
		json_string(&js, "Message", text);
		json_end_object(&js);
		json_finish(&js);
		free(text);
		return 0;
	}
	t = (time_t) (usec / 1000000);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%b %d %H:%M:%S", &tm);
	printf("%s %s: %.*s\n", when, core, (int) len, (const char *) data);
	return 0;
}

/*
 * The system journal is readable by root and the groups journald grants it
 * to; anyone else sees only their own entries, so rprocd's would be missing
 * without a word. Say so, as journalctl does.
 */
static void hint_if_unprivileged(void)
{
	static const char *const groups[] = { "systemd-journal", "adm", "wheel" };
	gid_t *list = NULL;
	int n;

	if (geteuid() == 0)
		return;
	n = getgroups(0, NULL);
	if (n > 0) {
		list = calloc((size_t) n, sizeof(gid_t));
		n = list ? getgroups(n, list) : -1;
	}
	for (size_t i = 0; i < ELEMENTSOF(groups); i++) {
		struct group *g = getgrnam(groups[i]);

		if (!g)
			continue;
		if (g->gr_gid == getegid())
			goto done;
		for (int k = 0; k < n; k++)
			if (list[k] == g->gr_gid)
				goto done;
	}
	log_notice("Hint: you are not in the systemd-journal or adm group, so the firmware's log "
		   "(in the system journal) is not shown to you");
done:
	free(list);
}

int verb_logs(int argc, char **argv)
{
	const char *core = argv[1];
	char *m_core = NULL;
	sd_journal *j = NULL;
	int r, code = EXIT_OK;

	(void) argc;
	if (asprintf(&m_core, "RPROC_CORE=%s", core) < 0)
		return EXIT_FAILED;
	if (!arg.quiet)
		hint_if_unprivileged();
	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
	if (r >= 0)
		r = sd_journal_add_match(j, m_core, 0);
	if (r >= 0)
		r = sd_journal_add_match(j, "RPROC_SOURCE=firmware", 0);
	/* Those fields anyone can send: only entries from rprocd itself (root) count. */
	if (r >= 0)
		r = sd_journal_add_match(j, "_UID=0", 0);
	if (r < 0) {
		log_error("Failed to read the journal: %s", strerror(-r));
		code = EXIT_FAILED;
		goto finish;
	}
	if (arg.lines > 0) {
		r = sd_journal_seek_tail(j);
		if (r >= 0)
			r = sd_journal_previous_skip(j, (uint64_t) arg.lines + 1);
		if (r >= 0 && (unsigned) r <= arg.lines)
			r = sd_journal_seek_head(j); /* fewer than N: all of them */
	} else
		r = sd_journal_seek_head(j);
	/* -f never pages: the pager would hold the lines until the end. */
	if (!arg.follow)
		pager_open();
	for (;;) {
		while (r >= 0 && (r = sd_journal_next(j)) > 0)
			r = print_entry(j, core);
		if (r < 0) {
			log_error("Failed to read the journal: %s", strerror(-r));
			code = EXIT_FAILED;
			break;
		}
		if (!arg.follow)
			break;
		fflush(stdout);
		r = sd_journal_wait(j, UINT64_MAX);
	}
finish:
	sd_journal_close(j);
	free(m_core);
	return code;
}
