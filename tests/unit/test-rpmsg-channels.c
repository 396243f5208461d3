/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/rpmsg-channels.c against a fake sysfs laid out as 6.1 and 6.12 lay it out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "librproc.h"
#include "rpmsg-channels.h"
#include "test-util.h"
#include "util.h"

#define CORE0 "/sys/devices/platform/sim.0/remoteproc/remoteproc1"
#define CORE1 "/sys/devices/platform/sim.1/remoteproc/remoteproc10"

struct fixture {
	char *root;
	struct rproc_ctx *ctx;
};

/* A channel device under DIR, on the bus, with NODE (class/name/devname) or none. */
static void channel(struct fixture *f, const char *dir, const char *dev, const char *name,
		    const char *src, const char *dst, const char *node)
{
	_cleanup_free_ char *p = strdup_printf("%s/%s", dir, dev);
	_cleanup_free_ char *link = strdup_printf("/sys/bus/rpmsg/devices/%s", dev);
	_cleanup_free_ char *target = strdup_printf("../../../..%s", p);
	_cleanup_free_ char *n = strdup_printf("%s/name", p), *s = strdup_printf("%s/src", p),
			    *d = strdup_printf("%s/dst", p);

	assert_int_equal(test_write_str(f->root, n, name), 0);
	assert_int_equal(test_write_str(f->root, s, src), 0);
	assert_int_equal(test_write_str(f->root, d, dst), 0);
	assert_int_equal(test_symlink(f->root, link, target), 0);
	if (node) {
		_cleanup_free_ char *class = strdup(node), *ue = NULL, *text = NULL;
		char *slash = strchr(class, '/');

		assert_non_null(slash);
		*slash = '\0';
		ue = strdup_printf("%s/%s/%s/uevent", p, class, slash + 1);
		text = strdup_printf("MAJOR=5\nMINOR=3\nDEVNAME=%s\n", slash + 1);
		assert_int_equal(test_write_str(f->root, ue, text), 0);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = test_root_new();
	assert_non_null(f->root);
	assert_int_equal(rproc_ctx_new(f->root, &f->ctx), 0);
	assert_int_equal(test_mkdir(f->root, "/sys/bus/rpmsg/devices"), 0);
	assert_int_equal(test_mkdir(f->root, CORE0), 0);
	assert_int_equal(test_mkdir(f->root, CORE1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rproc_ctx_unref(f->ctx);
	test_root_free(f->root);
	free(f);
	return 0;
}

static void test_two_cores(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = { CORE0, CORE1, NULL };
	struct rpmsg_channels l[3] = {};
	_cleanup_free_ char *text = NULL;

	/* 6.1: virtio below the rproc's vdev device; 6.12: below rproc-virtio.N.auto. */
	channel(f, CORE0 "/remoteproc1#vdev0buffer/virtio0", "virtio0.rpmsg-tty.-1.1024",
		"rpmsg-tty", "0x400", "0x400", "tty/ttyRPMSG0");
	channel(f, CORE0 "/remoteproc1#vdev0buffer/virtio0", "virtio0.rpmsg-raw.-1.1025",
		"rpmsg-raw", "0x401", "0x401\n", "rpmsg/rpmsg3");
	channel(f, CORE0 "/remoteproc1#vdev0buffer/virtio0", "virtio0.rpmsg_ns.53.53", "rpmsg_ns",
		"0x35", "0x35", NULL);
	/* remoteproc10 starts with "remoteproc1": not core 0's. */
	channel(f, CORE1 "/rproc-virtio.1.auto/virtio1", "virtio1.echo.-1.1024", "echo", "0x400",
		"0xffffffff", NULL);

	assert_int_equal(rpmsg_channels_read(f->ctx, paths, 3, l), 0);
	assert_int_equal(l[0].n, 3);
	assert_string_equal(l[0].v[0].device, "virtio0.rpmsg-raw.-1.1025");
	assert_string_equal(l[0].v[0].name, "rpmsg-raw");
	assert_int_equal(l[0].v[0].src, 0x401);
	assert_int_equal(l[0].v[0].dst, 0x401);
	assert_string_equal(l[0].v[0].node, "/dev/rpmsg3");
	assert_string_equal(l[0].v[1].name, "rpmsg-tty");
	assert_string_equal(l[0].v[1].node, "/dev/ttyRPMSG0");
	assert_string_equal(l[0].v[2].name, "rpmsg_ns");
	assert_null(l[0].v[2].node);
	assert_int_equal(l[1].n, 1);
	assert_string_equal(l[1].v[0].name, "echo");
	assert_int_equal(l[1].v[0].dst, 0xffffffffu);
	assert_int_equal(l[2].n, 0);
	assert_non_null(rpmsg_channels_find(&l[0], "rpmsg-tty"));
	assert_null(rpmsg_channels_find(&l[0], "echo"));
	text = rpmsg_channels_format(&l[1]);
	assert_string_equal(text, "echo 0x400 0xffffffff virtio1.echo.-1.1024 -");
	assert_false(rpmsg_channels_equal(&l[0], &l[1]));
	assert_true(rpmsg_channels_equal(&l[0], &l[0]));
	for (size_t i = 0; i < 3; i++)
		rpmsg_channels_clear(&l[i]);
}

static void test_bad_and_missing(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = { CORE0 };
	struct rpmsg_channels l = {};

	/* No bus directory at all: nothing, no error. */
	test_root_free(f->root);
	f->root = test_root_new();
	rproc_ctx_unref(f->ctx);
	assert_int_equal(rproc_ctx_new(f->root, &f->ctx), 0);
	assert_int_equal(rpmsg_channels_read(f->ctx, paths, 1, &l), 0);
	assert_int_equal(l.n, 0);

	/* A garbled address and a dangling link are skipped; the good one stays. */
	channel(f, CORE0 "/v/virtio0", "virtio0.a.-1.1024", "a", "0x400", "0x400", NULL);
	channel(f, CORE0 "/v/virtio0", "virtio0.b.-1.1025", "b", "banana", "0x400", NULL);
	assert_int_equal(
		test_symlink(f->root, "/sys/bus/rpmsg/devices/gone", "../../../devices/nowhere"),
		0);
	assert_int_equal(rpmsg_channels_read(f->ctx, paths, 1, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "a");

	/* Control bytes a firmware put in a name come out as \xNN (no escape sequences). */
	channel(f, CORE0 "/v/virtio0", "virtio0.c.-1.1026", "red\x1b[31m\tx", "0x403", "0x403",
		NULL);
	assert_int_equal(rpmsg_channels_read(f->ctx, paths, 1, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1].name, "red\\x1b[31m\\x09x");

	/* A second read replaces the first. */
	assert_int_equal(test_write_str(f->root, CORE0 "/v/virtio0/virtio0.b.-1.1025/src", "0x402"),
			 0);
	assert_int_equal(rpmsg_channels_read(f->ctx, paths, 1, &l), 0);
	assert_int_equal(l.n, 3);
	rpmsg_channels_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_cores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_and_missing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
