/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "output.h"
#include "rprocctl.h"

static void log_va(const char *fmt, va_list ap)
{
	/* One write per line where stdio allows: the pager may share stderr. */
	fflush(stdout);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(fmt, ap);
	va_end(ap);
}

void log_notice(const char *fmt, ...)
{
	va_list ap;

	if (arg.quiet)
		return;
	va_start(ap, fmt);
	log_va(fmt, ap);
	va_end(ap);
}

int parse_boolean(const char *s)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -EINVAL;
}

static bool term_is_dumb(const char *term)
{
	return !term || !*term || !strcmp(term, "dumb");
}

bool colors_decide(const char *systemd_colors, const char *no_color, const char *term,
		   bool stdout_tty)
{
	if (systemd_colors) {
		int b = parse_boolean(systemd_colors);

		if (b >= 0)
			return b;
		if (!strcmp(systemd_colors, "16") || !strcmp(systemd_colors, "256") ||
		    !strcmp(systemd_colors, "24bit"))
			return true;
		/* not a value systemd knows: decide as if it were unset */
	}
	if (no_color)
		return false;
	return stdout_tty && !term_is_dumb(term);
}

static int colors_cached = -1;

bool colors_enabled(void)
{
	if (colors_cached < 0)
		colors_cached = colors_decide(getenv("SYSTEMD_COLORS"), getenv("NO_COLOR"),
					      getenv("TERM"), isatty(STDOUT_FILENO));
	return colors_cached;
}

const char *color_on(enum color c)
{
	if (!colors_enabled())
		return "";
	switch (c) {
	case COLOR_GREEN:
		return "\x1b[0;1;32m";
	case COLOR_RED:
		return "\x1b[0;1;31m";
	case COLOR_YELLOW:
		return "\x1b[0;1;33m";
	case COLOR_BOLD:
		return "\x1b[0;1;39m";
	case COLOR_GREY:
		return "\x1b[0;2;39m";
	case COLOR_NORMAL:
		break;
	}
	return "";
}

const char *color_off(void)
{
	return colors_enabled() ? "\x1b[0m" : "";
}

const char *color_end(enum color c)
{
	return c == COLOR_NORMAL ? "" : color_off();
}

enum color state_color(const char *state)
{
	if (!strcmp(state, "running") || !strcmp(state, "attached"))
		return COLOR_GREEN;
	if (!strcmp(state, "crashed"))
		return COLOR_RED;
	if (!strcmp(state, "invalid") || !strcmp(state, "deleted"))
		return COLOR_YELLOW;
	return COLOR_NORMAL;
}

int pager_decide(const struct pager_env *env, struct pager_plan *ret)
{
	const char *user = env->systemd_pager ? env->systemd_pager : env->pager;
	int secure = 0, r = 0;

	*ret = (struct pager_plan){};
	if (!env->stdout_tty || term_is_dumb(env->term))
		return 0;
	/* "" or cat: no pager, whatever else is set */
	if (user && (!*user || !strcmp(user, "cat")))
		return 0;
	if (env->pagersecure) {
		secure = parse_boolean(env->pagersecure);
		if (secure < 0) {
			r = secure;
			secure = 1;
		}
		/* The user set both: their pager is trusted (in secure mode they vouch for it). */
		ret->cmd = user;
	} else
		/* Without $SYSTEMD_PAGERSECURE the user's pager is ignored (systemd 252's rule). */
		secure = !env->euid_is_session_owner || env->sudo;
	ret->use = true;
	ret->secure = secure;
	return r;
}

static pid_t pager_pid;
static int saved_stdout = -1, saved_stderr = -1;

/* The built-in pager of last resort: copy standard input to standard output. */
static void __attribute__((noreturn)) pager_fallback(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (write(STDOUT_FILENO, buf, (size_t) n) != n)
			_exit(EXIT_FAILURE);
	_exit(n < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static void __attribute__((noreturn)) pager_child(const struct pager_plan *plan, pid_t parent)
{
	const char *less = getenv("SYSTEMD_LESS"), *charset = getenv("SYSTEMD_LESSCHARSET");

	/* $LESS and $LESSCHARSET of the user do not apply, as with systemd's tools. */
	setenv("LESS", less ? less : "FRSXMK", 1);
	if (!charset && setlocale(LC_CTYPE, "") && !strcmp(nl_langinfo(CODESET), "UTF-8"))
		charset = "utf-8";
	if (charset)
		setenv("LESSCHARSET", charset, 1);
	/* less turns secure mode on for any non-empty value, "0" included. */
	if (plan->secure)
		setenv("LESSSECURE", "1", 1);
	else
		unsetenv("LESSSECURE");
	/* The pager goes when rprocctl does. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(EXIT_FAILURE);
	if (plan->cmd) {
		/*
		 * As systemd: the command's words run directly, so a pager that
		 * is not there falls through to the built-in one (through sh it
		 * would "succeed" and lose the output).
		 */
		char *copy = strdup(plan->cmd), *argv[16], *save = NULL;
		size_t n = 0;

		for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && n < 15;
		     w = strtok_r(NULL, " \t", &save))
			argv[n++] = w;
		argv[n] = NULL;
		if (n > 0)
			execvp(argv[0], argv);
	} else {
		/* Debian's alternative for pagers is "pager"; only less has a secure mode. */
		if (!plan->secure)
			execlp("pager", "pager", (char *) NULL);
		execlp("less", "less", (char *) NULL);
		if (!plan->secure)
			execlp("more", "more", (char *) NULL);
	}
	pager_fallback();
}

void pager_open(void)
{
	struct pager_env env = {
		.systemd_pager = getenv("SYSTEMD_PAGER"),
		.pager = getenv("PAGER"),
		.pagersecure = getenv("SYSTEMD_PAGERSECURE"),
		.term = getenv("TERM"),
		.stdout_tty = isatty(STDOUT_FILENO),
		.sudo = getenv("SUDO_UID") != NULL,
	};
	struct pager_plan plan;
	pid_t parent = getpid();
	uid_t owner;
	int fd[2];

	if (arg.no_pager || pager_pid > 0)
		return;
	/* Before standard output goes to the pager: the terminal decides the colours. */
	(void) colors_enabled();
	env.euid_is_session_owner = sd_pid_get_owner_uid(0, &owner) >= 0 && owner == geteuid();
	if (pager_decide(&env, &plan) < 0)
		log_error("$SYSTEMD_PAGERSECURE is not a boolean, paging in secure mode");
	if (!plan.use)
		return;
	fflush(stdout);
	if (pipe2(fd, O_CLOEXEC) < 0) {
		log_error("Cannot start the pager: %m");
		return;
	}
	pager_pid = fork();
	if (pager_pid < 0) {
		log_error("Cannot start the pager: %m");
		pager_pid = 0;
		close(fd[0]);
		close(fd[1]);
		return;
	}
	if (pager_pid == 0) {
		/* With standard input closed, pipe2() gave 0 as the read end. */
		if (fd[0] == STDIN_FILENO)
			(void) fcntl(STDIN_FILENO, F_SETFD, 0);
		else if (dup2(fd[0], STDIN_FILENO) < 0)
			_exit(EXIT_FAILURE);
		/* O_CLOEXEC closes them only at a successful exec: the built-in
		 * fallback must not hold the write end, or it never sees EOF. */
		if (fd[0] != STDIN_FILENO)
			close(fd[0]);
		close(fd[1]);
		pager_child(&plan, parent);
	}
	saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (dup2(fd[1], STDOUT_FILENO) < 0)
		log_error("Cannot write to the pager: %m");
	/* Messages on a terminal go through the pager too, so they do not garble its screen. */
	if (isatty(STDERR_FILENO)) {
		saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		(void) dup2(fd[1], STDERR_FILENO);
	}
	if (fd[0] != STDIN_FILENO)
		close(fd[0]);
	else
		/* Not ours to read: back to a closed standard input. */
		close(STDIN_FILENO);
	close(fd[1]);
}

void pager_close(void)
{
	if (pager_pid <= 0)
		return;
	fflush(stdout);
	fflush(stderr);
	/* The pager sees the end of its input once no copy of the pipe is left. */
	if (saved_stdout >= 0) {
		(void) dup2(saved_stdout, STDOUT_FILENO);
		close(saved_stdout);
		saved_stdout = -1;
	} else
		close(STDOUT_FILENO);
	if (saved_stderr >= 0) {
		(void) dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	(void) kill(pager_pid, SIGCONT);
	while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
		;
	pager_pid = 0;
}
