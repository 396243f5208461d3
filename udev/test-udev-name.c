/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocd-udev-name on a fake /sys: remote processors with rpmsg channels,
 * their ttys and rpmsg_char endpoints, channels of one name twice, unsafe
 * names, and devices that are not below a remote processor. The helper
 * (the last argument) runs with --root on a temporary directory; arguments
 * before it are a command to run it with (a cross build's qemu-user).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define CORE0	"/devices/platform/rproc_sim.0/remoteproc/remoteproc0"
#define VIRTIO0 CORE0 "/rproc-virtio.0.auto/virtio1"
#define TTY0	VIRTIO0 "/virtio1.rpmsg-tty.-1.1024/tty/ttyRPMSG0"
#define RAW0	VIRTIO0 "/virtio1.rpmsg-raw.-1.1025/rpmsg/rpmsg0"
#define CTRL0	VIRTIO0 "/virtio1.rpmsg_ctrl.-1.4294967295/rpmsg/rpmsg_ctrl0"
#define CORE1	"/devices/platform/rproc_sim.1/remoteproc/remoteproc1"
#define VIRTIO1 CORE1 "/rproc-virtio.1.auto/virtio2"

/* The helper's command line: [wrapper…] helper --root ROOT [devpath] NULL */
static char **helper_argv;
static size_t helper_argc;
static char root[PATH_MAX];

static void mkdir_p(const char *path)
{
	char p[PATH_MAX];

	assert_true(strlen(path) < sizeof(p));
	strcpy(p, path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t) len);
	close(fd);
}

/* Format into BUF (PATH_MAX bytes), which must be large enough. */
__attribute__((format(printf, 2, 3))) static void path_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && n < PATH_MAX);
}

static void sys_path(char *buf, const char *devpath)
{
	path_fmt(buf, "%s/sys%s", root, devpath);
}

/* A device: its directory, "subsystem" -> /sys/KIND/SUBSYSTEM, on a bus also in bus/X/devices. */
static void device_add(const char *devpath, const char *kind, const char *subsystem)
{
	char dir[PATH_MAX], target[PATH_MAX], link[PATH_MAX];

	sys_path(dir, devpath);
	mkdir_p(dir);
	path_fmt(target, "%s/sys/%s/%s", root, kind, subsystem);
	mkdir_p(target);
	path_fmt(link, "%s/subsystem", dir);
	assert_int_equal(symlink(target, link), 0);
	if (!strcmp(kind, "bus")) {
		path_fmt(link, "%s/sys/bus/%s/devices", root, subsystem);
		mkdir_p(link);
		path_fmt(link, "%s/sys/bus/%s/devices%s", root, subsystem, strrchr(devpath, '/'));
		assert_int_equal(symlink(dir, link), 0);
	}
}

static void attr_set(const char *devpath, const char *attr, const char *text, size_t len)
{
	char path[PATH_MAX];

	sys_path(path, devpath);
	assert_true(strlen(path) + 1 + strlen(attr) < sizeof(path));
	strcat(path, "/");
	strcat(path, attr);
	write_file(path, text, len);
}

/* A remote processor NAME (as its attribute reads, with the newline). */
static void core_add(const char *devpath, const char *name)
{
	char platform[PATH_MAX];

	/* its platform device: two levels up, past the "remoteproc" glue directory */
	strcpy(platform, devpath);
	*strrchr(platform, '/') = '\0';
	*strrchr(platform, '/') = '\0';
	device_add(platform, "bus", "platform");
	device_add(devpath, "class", "remoteproc");
	attr_set(devpath, "name", name, strlen(name));
}

/* The virtio device of a core's rpmsg vdev (below its rproc-virtio platform device). */
static void vdev_add(const char *devpath)
{
	char platform[PATH_MAX];

	strcpy(platform, devpath);
	*strrchr(platform, '/') = '\0';
	device_add(platform, "bus", "platform");
	device_add(devpath, "bus", "virtio");
}

/* A channel on the rpmsg bus below VDEV (VDEV.NAME.-1.DST); its device path in RET. */
static void channel_add(const char *vdev, const char *name, unsigned dst, char *ret)
{
	char dstbuf[PATH_MAX];

	path_fmt(ret, "%s%s.%s.-1.%u", vdev, strrchr(vdev, '/'), name, dst);
	device_add(ret, "bus", "rpmsg");
	attr_set(ret, "name", name, strlen(name));
	path_fmt(dstbuf, "0x%x\n", dst);
	attr_set(ret, "dst", dstbuf, strlen(dstbuf));
	attr_set(ret, "src", "0x400\n", 6);
}

/* A class device (tty, rpmsg) below PARENT, in the class's glue directory. */
static void endpoint_add(const char *parent, const char *class, const char *name, char *ret)
{
	path_fmt(ret, "%s/%s/%s", parent, class, name);
	device_add(ret, "class", class);
}

static int setup(void **state)
{
	char dev[PATH_MAX], ch[PATH_MAX];
	char *tmp = getenv("TMPDIR");

	path_fmt(root, "%s/test-udev-name.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(root));

	core_add(CORE0, "m4\n");
	vdev_add(VIRTIO0);
	channel_add(VIRTIO0, "rpmsg-tty", 0x400, ch);
	endpoint_add(ch, "tty", "ttyRPMSG0", dev);
	channel_add(VIRTIO0, "rpmsg-raw", 0x401, ch);
	endpoint_add(ch, "rpmsg", "rpmsg0", dev);
	/* rpmsg_ctrl and an endpoint made through it (RPMSG_CREATE_EPT_IOCTL) */
	channel_add(VIRTIO0, "rpmsg_ctrl", 0xffffffff, ch);
	endpoint_add(ch, "rpmsg", "rpmsg_ctrl0", dev);
	endpoint_add(dev, "rpmsg", "rpmsg9", ch);
	attr_set(ch, "name", "rpmsg-raw\n", 10);
	/* a channel with no remote address */
	channel_add(VIRTIO0, "local", 0xffffffff, ch);
	endpoint_add(ch, "rpmsg", "rpmsg7", dev);

	/* dsp: "dup" twice, and an rpmsg-tty at a lower address than m4's */
	core_add(CORE1, "dsp\n");
	vdev_add(VIRTIO1);
	channel_add(VIRTIO1, "dup", 0x500, ch);
	endpoint_add(ch, "tty", "ttyRPMSG1", dev);
	channel_add(VIRTIO1, "dup", 0x401, ch);
	endpoint_add(ch, "tty", "ttyRPMSG2", dev);
	channel_add(VIRTIO1, "rpmsg-tty", 0x300, ch);
	endpoint_add(ch, "tty", "ttyRPMSG3", dev);

	/* hostile names */
	core_add("/devices/platform/rproc_sim.2/remoteproc/remoteproc2", "../a b/@\xc3\xbc\n");
	vdev_add(
		"/devices/platform/rproc_sim.2/remoteproc/remoteproc2/rproc-virtio.2.auto/virtio3");
	channel_add(
		"/devices/platform/rproc_sim.2/remoteproc/remoteproc2/rproc-virtio.2.auto/virtio3",
		"..\\x", 0x402, ch);
	endpoint_add(ch, "tty", "ttyRPMSG4", dev);
	core_add("/devices/platform/rproc_sim.3/remoteproc/remoteproc3", ".\n");
	core_add("/devices/platform/rproc_sim.4/remoteproc/remoteproc4", "\n");
	core_add("/devices/platform/rproc_sim.5/remoteproc/remoteproc5", "a\nb\n");
	core_add("/devices/platform/rproc_sim.6/remoteproc/remoteproc6", "");
	attr_set("/devices/platform/rproc_sim.6/remoteproc/remoteproc6", "name", "x\0y\n", 4);

	/* not below a remote processor */
	device_add("/devices/platform/serial8250", "bus", "platform");
	device_add("/devices/platform/serial8250/tty/ttyS0", "class", "tty");
	device_add("/devices/virtual/rpmsg-host", "bus", "virtio");
	channel_add("/devices/virtual/rpmsg-host", "rpmsg-tty", 0x400, ch);
	endpoint_add(ch, "tty", "ttyRPMSG5", dev);
	device_add("/devices/platform/other", "bus", "platform");
	attr_set("/devices/platform/other", "name", "m4\n", 3);
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	path_fmt(cmd, "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Run the helper with --root; its output in OUT, its exit status returned. */
static int run_helper(char *out, size_t size, const char *devpath)
{
	int pipefd[2], status;
	size_t n = 0;
	ssize_t k;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		helper_argv[helper_argc] = "--root";
		helper_argv[helper_argc + 1] = root;
		if (devpath && devpath[0] == '$')
			/* "$/devices/…": as udev runs it, the path in $DEVPATH */
			setenv("DEVPATH", devpath + 1, 1);
		else if (devpath)
			helper_argv[helper_argc + 2] = (char *) devpath;
		else
			unsetenv("DEVPATH");
		execvp(helper_argv[0], helper_argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((k = read(pipefd[0], out + n, size - 1 - n)) > 0)
		n += (size_t) k;
	close(pipefd[0]);
	out[n] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect(const char *devpath, const char *want)
{
	char out[4096];

	assert_int_equal(run_helper(out, sizeof(out), devpath), 0);
	assert_string_equal(out, want);
}

static void test_core(void **state)
{
	expect(CORE0, "RPROC_CORE=m4\nRPROC_LINK=remoteproc/by-name/m4\n");
	expect(CORE1, "RPROC_CORE=dsp\nRPROC_LINK=remoteproc/by-name/dsp\n");
}

static void test_tty(void **state)
{
	/* As udev runs it: the path in $DEVPATH (a channel name may hold spaces). */
	expect("$" TTY0,
	       "RPROC_CORE=m4\nRPROC_CHANNEL=rpmsg-tty\nRPROC_ADDR=0x400\n"
	       "RPROC_LINK=rpmsg/m4/rpmsg-tty\nRPROC_LINK_FIRST=1\nRPROC_LINK_ADDR=rpmsg/m4/"
	       "rpmsg-tty@0x400\n");
	expect(TTY0, "RPROC_CORE=m4\nRPROC_CHANNEL=rpmsg-tty\nRPROC_ADDR=0x400\n"
		     "RPROC_LINK=rpmsg/m4/rpmsg-tty\nRPROC_LINK_FIRST=1\nRPROC_LINK_ADDR=rpmsg/m4/"
		     "rpmsg-tty@0x400\n");
}

static void test_rpmsg_char(void **state)
{
	expect(RAW0, "RPROC_CORE=m4\nRPROC_CHANNEL=rpmsg-raw\nRPROC_ADDR=0x401\n"
		     "RPROC_LINK=rpmsg/m4/rpmsg-raw\nRPROC_LINK_FIRST=1\nRPROC_LINK_ADDR=rpmsg/m4/"
		     "rpmsg-raw@0x401\n");
}

/* Channels of one name: both claim the plain link, the lowest address first. */
static void test_duplicate(void **state)
{
	expect(VIRTIO1 "/virtio2.dup.-1.1280/tty/ttyRPMSG1",
	       "RPROC_CORE=dsp\nRPROC_CHANNEL=dup\nRPROC_ADDR=0x500\n"
	       "RPROC_LINK=rpmsg/dsp/dup\nRPROC_LINK_ADDR=rpmsg/dsp/dup@0x500\n");
	expect(VIRTIO1 "/virtio2.dup.-1.1025/tty/ttyRPMSG2",
	       "RPROC_CORE=dsp\nRPROC_CHANNEL=dup\nRPROC_ADDR=0x401\n"
	       "RPROC_LINK=rpmsg/dsp/dup\nRPROC_LINK_FIRST=1\nRPROC_LINK_ADDR=rpmsg/dsp/"
	       "dup@0x401\n");
	/* the same name below another core does not count */
	expect(VIRTIO1 "/virtio2.rpmsg-tty.-1.768/tty/ttyRPMSG3",
	       "RPROC_CORE=dsp\nRPROC_CHANNEL=rpmsg-tty\nRPROC_ADDR=0x300\n"
	       "RPROC_LINK=rpmsg/dsp/rpmsg-tty\nRPROC_LINK_FIRST=1\nRPROC_LINK_ADDR=rpmsg/dsp/"
	       "rpmsg-tty@0x300\n");
}

static void test_no_remote_address(void **state)
{
	expect(VIRTIO0 "/virtio1.local.-1.4294967295/rpmsg/rpmsg7",
	       "RPROC_CORE=m4\nRPROC_CHANNEL=local\nRPROC_LINK=rpmsg/m4/"
	       "local\nRPROC_LINK_FIRST=1\n");
}

static void test_escaped(void **state)
{
	expect("/devices/platform/rproc_sim.2/remoteproc/remoteproc2",
	       "RPROC_CORE=\\x2e.\\x2fa\\x20b\\x2f\\x40\\xc3\\xbc\n"
	       "RPROC_LINK=remoteproc/by-name/\\x2e.\\x2fa\\x20b\\x2f\\x40\\xc3\\xbc\n");
	expect("/devices/platform/rproc_sim.2/remoteproc/remoteproc2/rproc-virtio.2.auto/virtio3"
	       "/virtio3...\\x.-1.1026/tty/ttyRPMSG4",
	       "RPROC_CORE=\\x2e.\\x2fa\\x20b\\x2f\\x40\\xc3\\xbc\n"
	       "RPROC_CHANNEL=\\x2e.\\x5cx\nRPROC_ADDR=0x402\n"
	       "RPROC_LINK=rpmsg/\\x2e.\\x2fa\\x20b\\x2f\\x40\\xc3\\xbc/"
	       "\\x2e.\\x5cx\nRPROC_LINK_FIRST=1\n"
	       "RPROC_LINK_ADDR=rpmsg/\\x2e.\\x2fa\\x20b\\x2f\\x40\\xc3\\xbc/\\x2e.\\x5cx@0x402\n");
	expect("/devices/platform/rproc_sim.3/remoteproc/remoteproc3",
	       "RPROC_CORE=\\x2e\nRPROC_LINK=remoteproc/by-name/\\x2e\n");
	expect("/devices/platform/rproc_sim.5/remoteproc/remoteproc5",
	       "RPROC_CORE=a\\x0ab\nRPROC_LINK=remoteproc/by-name/a\\x0ab\n");
	/* an empty name: no link */
	expect("/devices/platform/rproc_sim.4/remoteproc/remoteproc4", "");
}

static void test_too_long(void **state)
{
	const char *dev = "/devices/platform/rproc_sim.7/remoteproc/remoteproc7";
	char name[300], out[4096];

	/* 64 bytes escaped to 256: one more than a path component may have */
	memset(name, '/', 64);
	strcpy(name + 64, "\n");
	core_add(dev, name);
	assert_int_equal(run_helper(out, sizeof(out), dev), 1);
	assert_string_equal(out, "");
	/* 63 fit */
	name[63] = '\n';
	name[64] = '\0';
	attr_set(dev, "name", name, 64);
	assert_int_equal(run_helper(out, sizeof(out), dev), 0);
	assert_non_null(strstr(out, "RPROC_LINK=remoteproc/by-name/\\x2f"));
}

/* Nothing to say: exit 0, no output. */
static void test_not_ours(void **state)
{
	expect("/devices/platform/serial8250/tty/ttyS0", "");
	expect("/devices/platform/serial8250", "");
	/* a channel, but no remote processor above it */
	expect("/devices/virtual/rpmsg-host/rpmsg-host.rpmsg-tty.-1.1024/tty/ttyRPMSG5", "");
	/* a device with a name attribute that is no remote processor */
	expect("/devices/platform/other", "");
	/* rpmsg_ctrl, and an endpoint made through it */
	expect(CTRL0, "");
	expect(CTRL0 "/rpmsg/rpmsg9", "");
	/* the channel device itself (bus rpmsg) */
	expect(VIRTIO0 "/virtio1.rpmsg-tty.-1.1024", "");
}

static void test_errors(void **state)
{
	char out[4096];

	/* a name with a NUL inside */
	assert_int_equal(run_helper(out, sizeof(out),
				    "/devices/platform/rproc_sim.6/remoteproc/remoteproc6"),
			 1);
	assert_string_equal(out, "");
	assert_int_equal(run_helper(out, sizeof(out), "/devices/platform/nonexistent"), 1);
	assert_int_equal(run_helper(out, sizeof(out), "/devices/../../etc"), 1);
	assert_int_equal(run_helper(out, sizeof(out), "devices/platform/serial8250"), 1);
	assert_int_equal(run_helper(out, sizeof(out), "/devices/./platform/serial8250"), 1);
	assert_int_equal(run_helper(out, sizeof(out), NULL), 2);
	assert_string_equal(out, "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_rpmsg_char),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_no_remote_address),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_errors),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s [WRAPPER…] PATH-OF-rprocd-udev-name\n", argv[0]);
		return 2;
	}
	/* Room for --root ROOT DEVPATH and the terminating NULL. */
	helper_argc = (size_t) argc - 1;
	helper_argv = calloc(helper_argc + 4, sizeof(char *));
	if (!helper_argv)
		return 1;
	memcpy(helper_argv, argv + 1, helper_argc * sizeof(char *));
	return cmocka_run_group_tests(tests, setup, teardown);
}
