/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rpmsg-echo: send one message through a Linux rpmsg user interface and
 * wait for the remote side (rproc_sim) to echo it back. For the guest
 * scripts of the real-kernel test bench (tests/vm/abi/rpmsg.sh).
 *
 *   rpmsg-echo [-t MS] [-n COUNT] tty /dev/ttyRPMSGn MSG
 *   rpmsg-echo [-t MS] [-n COUNT] dev /dev/rpmsgN MSG
 *   rpmsg-echo [-t MS] [-n COUNT] ctrl /dev/rpmsg_ctrlN NAME DST MSG
 *
 * tty: the terminal is put in raw mode without echo first (a local echo of
 * the remote's echo would ping-pong for ever), MSG is written and as many
 * bytes are read back. dev: MSG is one rpmsg message, one message is read
 * back. ctrl: an endpoint NAME talking to the remote address DST is created
 * with RPMSG_CREATE_EPT_IOCTL, its /dev/rpmsgN found through
 * /sys/class/rpmsg/rpmsgN/{name,dst}, MSG echoed through it as for dev, and
 * the endpoint destroyed again (RPMSG_DESTROY_EPT_IOCTL); the node's name
 * is printed on stdout. With -n, COUNT messages "MSG N" (N from 0) are sent
 * (for dev and ctrl all of them before the first is read back, so that the
 * vrings wrap and Linux has to reclaim its tx buffers) and each must come
 * back, in order.
 *
 * Exit status 0 when exactly MSG came back within MS milliseconds (default
 * 5000), 1 when nothing or something else came back (what came is shown
 * on stderr) or a call failed, 2 on usage errors.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define MAX_NODES  256
/* A virtio-rpmsg buffer is 512 bytes with a 16-byte header. */
#define MAX_MSG 496

static int arg_timeout_ms = 5000;
static int arg_count = 1;

static int usage(void)
{
	fputs("usage: rpmsg-echo [-t MS] [-n COUNT] tty /dev/ttyRPMSGn MSG\n"
	      "       rpmsg-echo [-t MS] [-n COUNT] dev /dev/rpmsgN MSG\n"
	      "       rpmsg-echo [-t MS] [-n COUNT] ctrl /dev/rpmsg_ctrlN NAME DST MSG\n",
	      stderr);
	return EXIT_USAGE;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable before the deadline: 1 readable, 0 timed out, -errno */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, (int) left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EPIPE;
		return 1;
	}
}

static int compare(const char *want, const char *got, size_t len)
{
	if (len == strlen(want) && memcmp(want, got, len) == 0)
		return EXIT_SUCCESS;
	fprintf(stderr, "rpmsg-echo: sent '%s', got %zu bytes '%.*s'\n", want, len, (int) len, got);
	return EXIT_FAILURE;
}

/* The i-th message: MSG itself, or "MSG i" with -n */
static const char *nth_msg(const char *msg, int i, char *buf, size_t size)
{
	if (arg_count == 1)
		return msg;
	snprintf(buf, size, "%s %d", msg, i);
	return buf;
}

/* Write one message and read as many bytes back */
static int tty_roundtrip(int fd, const char *path, const char *msg)
{
	size_t want = strlen(msg), got = 0;
	char buf[MAX_MSG + 1];
	int64_t deadline;
	ssize_t n;
	int r;

	n = write(fd, msg, want);
	if (n != (ssize_t) want) {
		fprintf(stderr, "rpmsg-echo: write %s: %s\n", path,
			n < 0 ? strerror(errno) : "short");
		return EXIT_FAILURE;
	}
	deadline = now_ms() + arg_timeout_ms;
	while (got < want) {
		r = wait_readable(fd, deadline);
		if (r <= 0)
			break;
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += n;
	}
	return compare(msg, buf, got);
}

static int echo_tty(const char *path, const char *msg)
{
	char buf[MAX_MSG + 1];
	struct termios tio;
	int fd, r = EXIT_SUCCESS;

	if (strlen(msg) > MAX_MSG - 12)
		return usage();
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rpmsg-echo: open %s: %m\n", path);
		return EXIT_FAILURE;
	}
	if (tcgetattr(fd, &tio) < 0) {
		fprintf(stderr, "rpmsg-echo: tcgetattr %s: %m\n", path);
		close(fd);
		return EXIT_FAILURE;
	}
	cfmakeraw(&tio);
	tio.c_lflag &= ~(ECHO | ECHONL);
	if (tcsetattr(fd, TCSANOW, &tio) < 0 || tcflush(fd, TCIOFLUSH) < 0) {
		fprintf(stderr, "rpmsg-echo: raw mode on %s: %m\n", path);
		close(fd);
		return EXIT_FAILURE;
	}
	for (int i = 0; i < arg_count && r == EXIT_SUCCESS; i++)
		r = tty_roundtrip(fd, path, nth_msg(msg, i, buf, sizeof(buf)));
	close(fd);
	return r;
}

/* The messages out through an rpmsg char device, all of them, then as many back */
static int echo_fd(int fd, const char *path, const char *msg)
{
	char buf[MAX_MSG + 1], want[MAX_MSG + 1];
	const char *m;
	ssize_t n;
	int r;

	for (int i = 0; i < arg_count; i++) {
		m = nth_msg(msg, i, want, sizeof(want));
		n = write(fd, m, strlen(m));
		if (n != (ssize_t) strlen(m)) {
			fprintf(stderr, "rpmsg-echo: write %d to %s: %s\n", i, path,
				n < 0 ? strerror(errno) : "short");
			return EXIT_FAILURE;
		}
	}
	for (int i = 0; i < arg_count; i++) {
		m = nth_msg(msg, i, want, sizeof(want));
		r = wait_readable(fd, now_ms() + arg_timeout_ms);
		if (r < 0) {
			fprintf(stderr, "rpmsg-echo: poll %s: %s\n", path, strerror(-r));
			return EXIT_FAILURE;
		}
		if (r == 0) {
			fprintf(stderr, "rpmsg-echo: no reply %d on %s within %d ms\n", i, path,
				arg_timeout_ms);
			return EXIT_FAILURE;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "rpmsg-echo: read %s: %m\n", path);
			return EXIT_FAILURE;
		}
		if (compare(m, buf, n) != EXIT_SUCCESS)
			return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

static int echo_dev(const char *path, const char *msg)
{
	int fd, r;

	if (strlen(msg) > (arg_count == 1 ? MAX_MSG : MAX_MSG - 12))
		return usage();
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rpmsg-echo: open %s: %m\n", path);
		return EXIT_FAILURE;
	}
	r = echo_fd(fd, path, msg);
	close(fd);
	return r;
}

/* The rpmsgN endpoint devices in /sys/class/rpmsg (sorted numbers in nodes[]) */
static int list_nodes(int nodes[], int max)
{
	struct dirent *de;
	int n = 0, num;
	char extra;
	DIR *d;

	d = opendir("/sys/class/rpmsg");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max)
		if (sscanf(de->d_name, "rpmsg%d%c", &num, &extra) == 1)
			nodes[n++] = num;
	closedir(d);
	return n;
}

static bool in_list(int num, const int nodes[], int n)
{
	for (int i = 0; i < n; i++)
		if (nodes[i] == num)
			return true;
	return false;
}

static bool read_attr(int num, const char *attr, char *buf, size_t size)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/rpmsg/rpmsg%d/%s", num, attr);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int) size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The endpoint device that appeared since `before` with this name and destination */
static int find_new_node(const int before[], int n_before, const char *name, uint32_t dst)
{
	int nodes[MAX_NODES], n;
	char val[64];

	n = list_nodes(nodes, MAX_NODES);
	for (int i = 0; i < n; i++) {
		if (in_list(nodes[i], before, n_before))
			continue;
		if (!read_attr(nodes[i], "name", val, sizeof(val)) || strcmp(val, name))
			continue;
		if (!read_attr(nodes[i], "dst", val, sizeof(val)) || strtoul(val, NULL, 0) != dst)
			continue;
		return nodes[i];
	}
	return -1;
}

static int echo_ctrl(const char *ctrl, const char *name, const char *dst_s, const char *msg)
{
	struct rpmsg_endpoint_info info = { .src = RPMSG_ADDR_ANY };
	int before[MAX_NODES], n_before, num = -1, cfd, fd = -1, r = EXIT_FAILURE;
	char node[64], *end;
	unsigned long dst;
	int64_t deadline;

	errno = 0;
	dst = strtoul(dst_s, &end, 0);
	if (errno || *end || dst > UINT32_MAX || strlen(name) >= sizeof(info.name) ||
	    strlen(msg) > (arg_count == 1 ? MAX_MSG : MAX_MSG - 12))
		return usage();
	strncpy(info.name, name, sizeof(info.name) - 1);
	info.dst = (uint32_t) dst;

	cfd = open(ctrl, O_RDWR | O_CLOEXEC);
	if (cfd < 0) {
		fprintf(stderr, "rpmsg-echo: open %s: %m\n", ctrl);
		return EXIT_FAILURE;
	}
	n_before = list_nodes(before, MAX_NODES);
	if (ioctl(cfd, RPMSG_CREATE_EPT_IOCTL, &info) < 0) {
		fprintf(stderr, "rpmsg-echo: RPMSG_CREATE_EPT_IOCTL on %s: %m\n", ctrl);
		goto out;
	}
	/* devtmpfs creates the node as the device is added; give it a moment anyway. */
	deadline = now_ms() + 2000;
	while ((num = find_new_node(before, n_before, name, info.dst)) < 0 && now_ms() < deadline)
		usleep(10000);
	if (num < 0) {
		fprintf(stderr, "rpmsg-echo: no new rpmsg endpoint device %s for 0x%x\n", name,
			info.dst);
		goto out;
	}
	snprintf(node, sizeof(node), "/dev/rpmsg%d", num);
	while ((fd = open(node, O_RDWR | O_CLOEXEC)) < 0 && errno == ENOENT && now_ms() < deadline)
		usleep(10000);
	if (fd < 0) {
		fprintf(stderr, "rpmsg-echo: open %s: %m\n", node);
		goto out;
	}
	printf("%s\n", node);
	fflush(stdout);
	r = echo_fd(fd, node, msg);
	if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0) {
		fprintf(stderr, "rpmsg-echo: RPMSG_DESTROY_EPT_IOCTL on %s: %m\n", node);
		r = EXIT_FAILURE;
	}
out:
	if (fd >= 0)
		close(fd);
	close(cfd);
	return r;
}

int main(int argc, char *argv[])
{
	int i = 1;

	while (argc - i > 2 && argv[i][0] == '-') {
		if (strcmp(argv[i], "-t") == 0)
			arg_timeout_ms = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-n") == 0)
			arg_count = atoi(argv[i + 1]);
		else
			return usage();
		if (arg_timeout_ms <= 0 || arg_count <= 0 || arg_count > 100000)
			return usage();
		i += 2;
	}
	if (argc - i == 3 && strcmp(argv[i], "tty") == 0)
		return echo_tty(argv[i + 1], argv[i + 2]);
	if (argc - i == 3 && strcmp(argv[i], "dev") == 0)
		return echo_dev(argv[i + 1], argv[i + 2]);
	if (argc - i == 5 && strcmp(argv[i], "ctrl") == 0)
		return echo_ctrl(argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
	return usage();
}
