/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rproc-probe: a small command line over librproc for the real-kernel test
 * bench. Guest scripts (tests/vm/abi/) drive the kernel through it, so what
 * they check is what the library does.
 *
 * On a kernel error the errno's name (EBUSY, EINVAL, …) is printed on stdout
 * and a sentence on stderr, and the exit status is 1; usage errors exit 2.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "librproc.h"

#define EXIT_USAGE 2

static bool arg_debug;

static void log_to_stderr(void *userdata, int priority, const char *file, int line,
			  const char *func, const char *format, va_list args)
{
	fprintf(stderr, "librproc: %s:%d %s(): ", file, line, func);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

/* Report a negative errno from the library: the name on stdout, a sentence on stderr. */
static int report_errno(int r, const char *what)
{
	const char *name = strerrorname_np(-r);

	printf("%s\n", name ? name : "EUNKNOWN");
	fflush(stdout);
	fprintf(stderr, "rproc-probe: %s: %s\n", what, strerror(-r));
	return EXIT_FAILURE;
}

static int usage(void)
{
	fputs("usage: rproc-probe COMMAND [ARGS]\n"
	      "  list                             sysname name state devpath, one core a line\n"
	      "  state SYSNAME                    the state word\n"
	      "  read SYSNAME ATTR                one attribute\n"
	      "  write SYSNAME ATTR VALUE         firmware/recovery/coredump through their typed\n"
	      "                                   setters, other attributes as given\n"
	      "  write-raw SYSNAME ATTR VALUE     exactly VALUE, no checks by the library\n"
	      "  request SYSNAME start|stop|detach [--cdev]\n"
	      "  hold-cdev SYSNAME [--shutdown-on-release] [--start]\n"
	      "                                   open /dev/remoteprocN, print \"ready\", sleep "
	      "until killed\n"
	      "  cdev-flag SYSNAME [0|1]          read or set shutdown-on-release (opens and\n"
	      "                                   closes the node: with the flag set, that stops "
	      "the core)\n"
	      "  watch-state SYSNAME|DEVDIR TIMEOUT_MS [--epoll]\n"
	      "                                   read state; on each POLLPRI|POLLERR (poll or\n"
	      "                                   epoll) re-read it from offset 0: lines\n"
	      "                                   \"init STATE T\", \"wake N STATE T\", then\n"
	      "                                   \"end N T\" after TIMEOUT_MS (0: never) or\n"
	      "                                   \"gone ERRNO T\"; T: CLOCK_MONOTONIC seconds\n"
	      "Environment: RPROC_PROBE_DEBUG=1 shows the library's log.\n",
	      stderr);
	return EXIT_USAGE;
}

static int open_device(struct rproc_ctx *ctx, const char *sysname, struct rproc_device **ret)
{
	int r;

	r = rproc_device_new(ctx, sysname, ret);
	if (r < 0) {
		char what[128];

		snprintf(what, sizeof(what), "cannot open %s", sysname);
		return report_errno(r, what);
	}
	return EXIT_SUCCESS;
}

static int cmd_list(struct rproc_ctx *ctx)
{
	struct rproc_device **devs = NULL;
	size_t n = 0;
	int r;

	r = rproc_device_enumerate(ctx, &devs, &n);
	if (r < 0)
		return report_errno(r, "enumerating cores");

	for (size_t i = 0; i < n; i++) {
		enum rproc_state state;

		r = rproc_device_read_state(devs[i], &state);
		printf("%s %s %s %s\n", rproc_device_get_sysname(devs[i]),
		       rproc_device_get_name(devs[i]), r < 0 ? "?" : rproc_state_to_string(state),
		       rproc_device_get_devpath(devs[i]));
	}
	rproc_device_list_free(devs, n);
	return EXIT_SUCCESS;
}

static int cmd_state(struct rproc_device *dev)
{
	enum rproc_state state;
	int r;

	r = rproc_device_read_state(dev, &state);
	if (r < 0)
		return report_errno(r, "reading state");
	printf("%s\n", rproc_state_to_string(state));
	return EXIT_SUCCESS;
}

static int cmd_read(struct rproc_device *dev, const char *attr)
{
	char *value = NULL;
	int r;

	r = rproc_device_read_attr(dev, attr, &value);
	if (r < 0)
		return report_errno(r, "reading");
	printf("%s\n", value);
	free(value);
	return EXIT_SUCCESS;
}

static int cmd_write(struct rproc_device *dev, const char *attr, const char *value, bool raw)
{
	char what[128];
	int r;

	if (raw) {
		r = rproc_device_write_attr(dev, attr, value);
	} else if (strcmp(attr, "firmware") == 0) {
		r = rproc_device_write_firmware(dev, value);
	} else if (strcmp(attr, "recovery") == 0) {
		static const char *const words[_RPROC_RECOVERY_MAX] = {
			[RPROC_RECOVERY_ENABLED] = "enabled",
			[RPROC_RECOVERY_DISABLED] = "disabled",
			[RPROC_RECOVERY_RECOVER] = "recover",
		};
		int cmd = -1;

		for (int i = 0; i < _RPROC_RECOVERY_MAX; i++)
			if (strcmp(value, words[i]) == 0)
				cmd = i;
		if (cmd < 0) {
			fprintf(stderr,
				"rproc-probe: recovery takes enabled, disabled or recover\n");
			return EXIT_USAGE;
		}
		r = rproc_device_write_recovery(dev, cmd);
	} else if (strcmp(attr, "coredump") == 0) {
		enum rproc_coredump_mode mode = rproc_coredump_mode_from_string(value);

		if (mode == RPROC_COREDUMP_INVALID) {
			fprintf(stderr,
				"rproc-probe: coredump takes disabled, enabled or inline\n");
			return EXIT_USAGE;
		}
		r = rproc_device_write_coredump(dev, mode);
	} else {
		r = rproc_device_write_attr(dev, attr, value);
	}
	if (r < 0) {
		snprintf(what, sizeof(what), "writing \"%s\" to %s", value, attr);
		return report_errno(r, what);
	}
	return EXIT_SUCCESS;
}

static int parse_command(const char *s, enum rproc_command *ret)
{
	for (int i = 0; i < _RPROC_CMD_MAX; i++)
		if (strcmp(s, rproc_command_to_string(i)) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static int cmd_request(struct rproc_device *dev, int argc, char **argv)
{
	enum rproc_via via = RPROC_VIA_SYSFS;
	enum rproc_command cmd;
	char what[64];
	int r;

	if (argc < 1 || parse_command(argv[0], &cmd) < 0)
		return usage();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cdev") == 0)
			via = RPROC_VIA_CDEV;
		else
			return usage();
	}

	r = rproc_device_request(dev, cmd, via);
	if (r < 0) {
		snprintf(what, sizeof(what), "%s via %s", argv[0],
			 via == RPROC_VIA_CDEV ? "chardev" : "sysfs");
		return report_errno(r, what);
	}
	return EXIT_SUCCESS;
}

static int cmd_hold_cdev(struct rproc_device *dev, int argc, char **argv)
{
	bool shutdown_on_release = false, start = false;
	int fd, r;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--shutdown-on-release") == 0)
			shutdown_on_release = true;
		else if (strcmp(argv[i], "--start") == 0)
			start = true;
		else
			return usage();
	}

	fd = rproc_cdev_open(dev);
	if (fd < 0)
		return report_errno(fd, "opening the chardev");
	if (shutdown_on_release) {
		r = rproc_cdev_set_shutdown_on_release(fd, true);
		if (r < 0)
			return report_errno(r, "setting shutdown-on-release");
	}
	if (start) {
		r = rproc_cdev_request(fd, RPROC_CMD_START);
		if (r < 0)
			return report_errno(r, "start via chardev");
	}

	printf("ready\n");
	fflush(stdout);
	/* Hold the node open until killed; the kernel acts on release. */
	for (;;)
		pause();
}

static int cmd_cdev_flag(struct rproc_device *dev, int argc, char **argv)
{
	int fd, r, ret = EXIT_SUCCESS;
	bool flag;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "0") != 0 && strcmp(argv[0], "1") != 0))
		return usage();

	fd = rproc_cdev_open(dev);
	if (fd < 0)
		return report_errno(fd, "opening the chardev");
	if (argc == 1) {
		r = rproc_cdev_set_shutdown_on_release(fd, argv[0][0] == '1');
		if (r < 0)
			ret = report_errno(r, "setting shutdown-on-release");
	} else {
		r = rproc_cdev_get_shutdown_on_release(fd, &flag);
		if (r < 0)
			ret = report_errno(r, "reading shutdown-on-release");
		else
			printf("%d\n", flag);
	}
	close(fd);
	return ret;
}

static void print_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%lld.%09ld", (long long) ts.tv_sec, ts.tv_nsec);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the whole state file from offset 0 (what a waiter must do after each wake). */
static int read_state_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += n;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	return 0;
}

/*
 * watch-state: how a daemon would wait for state changes if the kernel
 * notified them (docs/kernel/). On a kernel without the notification no
 * wake must come; tests/vm/abi/state-notify.sh checks both.
 */
static int cmd_watch_state(struct rproc_ctx *ctx, int argc, char **argv)
{
	struct rproc_device *dev = NULL;
	char path[4096], state[64];
	int64_t deadline = 0;
	unsigned long wakes = 0;
	bool use_epoll = false;
	long timeout_ms;
	char *end;
	int fd, epfd = -1, r;

	if (argc < 2 || argc > 3)
		return usage();
	if (argc == 3) {
		if (strcmp(argv[2], "--epoll") != 0)
			return usage();
		use_epoll = true;
	}
	errno = 0;
	timeout_ms = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[1] || timeout_ms < 0)
		return usage();

	if (strchr(argv[0], '/')) {
		snprintf(path, sizeof(path), "%s/state", argv[0]);
	} else {
		r = open_device(ctx, argv[0], &dev);
		if (r != EXIT_SUCCESS)
			return r;
		snprintf(path, sizeof(path), "%s/state", rproc_device_get_devpath(dev));
		rproc_device_unref(dev);
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report_errno(-errno, path);
	r = read_state_fd(fd, state, sizeof(state));
	if (r < 0)
		return report_errno(r, path);
	if (use_epoll) {
		struct epoll_event ev = { .events = EPOLLPRI | EPOLLERR };

		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return report_errno(-errno, "epoll");
	}
	printf("init %s ", state);
	print_mono();
	putchar('\n');
	fflush(stdout);

	if (timeout_ms > 0)
		deadline = mono_ms() + timeout_ms;
	for (;;) {
		int wait_ms = -1;
		short revents = 0;

		if (deadline) {
			int64_t left = deadline - mono_ms();

			if (left <= 0)
				break;
			wait_ms = left > INT32_MAX ? INT32_MAX : (int) left;
		}
		if (use_epoll) {
			struct epoll_event ev;

			r = epoll_wait(epfd, &ev, 1, wait_ms);
			if (r > 0)
				revents = (ev.events & EPOLLPRI ? POLLPRI : 0) |
					  (ev.events & EPOLLERR ? POLLERR : 0);
		} else {
			struct pollfd pfd = { .fd = fd, .events = POLLPRI | POLLERR };

			r = poll(&pfd, 1, wait_ms);
			if (r > 0)
				revents = pfd.revents;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return report_errno(-errno, use_epoll ? "epoll_wait" : "poll");
		}
		if (r == 0 || !(revents & (POLLPRI | POLLERR)))
			continue;

		r = read_state_fd(fd, state, sizeof(state));
		if (r < 0) {
			const char *name = strerrorname_np(-r);

			printf("gone %s ", name ? name : "EUNKNOWN");
			print_mono();
			putchar('\n');
			fflush(stdout);
			return EXIT_SUCCESS;
		}
		printf("wake %lu %s ", ++wakes, state);
		print_mono();
		printf(" %s%s\n", revents & POLLPRI ? "PRI" : "", revents & POLLERR ? "|ERR" : "");
		fflush(stdout);
		/* A wake that a read does not clear would spin: give up. */
		if (wakes >= 10000) {
			fprintf(stderr, "rproc-probe: 10000 wakes: the wait does not clear\n");
			return EXIT_FAILURE;
		}
	}
	printf("end %lu ", wakes);
	print_mono();
	putchar('\n');
	if (epfd >= 0)
		close(epfd);
	close(fd);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct rproc_device *dev = NULL;
	struct rproc_ctx *ctx = NULL;
	const char *cmd;
	int r, ret;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	arg_debug = getenv("RPROC_PROBE_DEBUG") != NULL;

	r = rproc_ctx_new(NULL, &ctx);
	if (r < 0)
		return report_errno(r, "creating the library context");
	if (arg_debug) {
		rproc_ctx_set_log_fn(ctx, log_to_stderr, NULL);
		rproc_ctx_set_log_priority(ctx, 7 /* LOG_DEBUG */);
	}

	if (strcmp(cmd, "list") == 0) {
		ret = argc == 2 ? cmd_list(ctx) : usage();
		goto out;
	}
	if (strcmp(cmd, "watch-state") == 0) {
		ret = cmd_watch_state(ctx, argc - 2, argv + 2);
		goto out;
	}

	if (argc < 3) {
		ret = usage();
		goto out;
	}
	ret = open_device(ctx, argv[2], &dev);
	if (ret != EXIT_SUCCESS)
		goto out;

	if (strcmp(cmd, "state") == 0 && argc == 3)
		ret = cmd_state(dev);
	else if (strcmp(cmd, "read") == 0 && argc == 4)
		ret = cmd_read(dev, argv[3]);
	else if (strcmp(cmd, "write") == 0 && argc == 5)
		ret = cmd_write(dev, argv[3], argv[4], false);
	else if (strcmp(cmd, "write-raw") == 0 && argc == 5)
		ret = cmd_write(dev, argv[3], argv[4], true);
	else if (strcmp(cmd, "request") == 0)
		ret = cmd_request(dev, argc - 3, argv + 3);
	else if (strcmp(cmd, "hold-cdev") == 0)
		ret = cmd_hold_cdev(dev, argc - 3, argv + 3);
	else if (strcmp(cmd, "cdev-flag") == 0)
		ret = cmd_cdev_flag(dev, argc - 3, argv + 3);
	else
		ret = usage();

out:
	rproc_device_unref(dev);
	rproc_ctx_unref(ctx);
	return ret;
}
