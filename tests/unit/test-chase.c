/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rproc_ctx_chase(): paths of an image resolved in the image. Absolute link
 * targets start again at the root, ".." stops there, and nothing the host
 * has at the same path is ever looked at (the paths used here are not on
 * the host: the test checks that first).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "librproc.h"
#include "test-util.h"

/* Not on any build host: what a resolver that asks the host kernel would miss. */
#define NOT_ON_HOST "/rprocd-chase-test-not-on-host"

struct fixture {
	char *root;
	struct rproc_ctx *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(access(NOT_ON_HOST, F_OK), -1);
	f->root = test_root_new();
	assert_non_null(f->root);
	assert_int_equal(rproc_ctx_new(f->root, &f->ctx), 0);
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

static void put(struct fixture *f, const char *path, const char *text)
{
	assert_int_equal(test_write_str(f->root, path, text), 0);
}

static void link_to(struct fixture *f, const char *path, const char *target)
{
	assert_int_equal(test_symlink(f->root, path, target), 0);
}

/* path resolves to want (as the managed system sees it), and the host path is root + want. */
static void expect_chase(struct fixture *f, const char *path, unsigned flags, const char *want)
{
	char *host = NULL, *resolved = NULL, expect_host[4096];
	int r = rproc_ctx_chase(f->ctx, path, flags, &host, &resolved);

	if (r < 0)
		fail_msg("%s: %s", path, strerror(-r));
	assert_string_equal(resolved, want);
	snprintf(expect_host, sizeof(expect_host), "%s%s", f->root, want);
	assert_string_equal(host, expect_host);
	free(host);
	free(resolved);
}

static void expect_chase_error(struct fixture *f, const char *path, unsigned flags, int error)
{
	char *host = NULL;

	assert_int_equal(rproc_ctx_chase(f->ctx, path, flags, &host, NULL), error);
	assert_null(host);
}

static void test_plain_paths(void **state)
{
	struct fixture *f = *state;

	put(f, "/lib/firmware/m4.elf", "x");
	expect_chase(f, "/lib/firmware/m4.elf", 0, "/lib/firmware/m4.elf");
	expect_chase(f, "//lib/./firmware//m4.elf", 0, "/lib/firmware/m4.elf");
	expect_chase(f, "/", 0, "/");
	expect_chase(f, "/lib/firmware/", 0, "/lib/firmware");
	expect_chase_error(f, "/lib/firmware/none.elf", 0, -ENOENT);
	expect_chase_error(f, "/lib/firmware/m4.elf/x", 0, -ENOTDIR);
	expect_chase_error(f, "lib/firmware", 0, -EINVAL);
}

/* The review's cases: firmware, a core file and a drop-in directory linked absolutely. */
static void test_absolute_links_stay_in_root(void **state)
{
	struct fixture *f = *state;

	put(f, NOT_ON_HOST "/vendor/m4.elf", "image");
	link_to(f, "/lib/firmware/m4.elf", NOT_ON_HOST "/vendor/m4.elf");
	expect_chase(f, "/lib/firmware/m4.elf", 0, NOT_ON_HOST "/vendor/m4.elf");
	/* NOFOLLOW: the link itself, its directory resolved. */
	expect_chase(f, "/lib/firmware/m4.elf", RPROC_CHASE_NOFOLLOW, "/lib/firmware/m4.elf");

	/* A directory on the way that is an absolute link (merged /usr: /lib -> /usr/lib). */
	put(f, "/usr/lib/rprocd/cores/m4.core", "[Core]\n");
	link_to(f, "/lib2", "/usr/lib");
	expect_chase(f, "/lib2/rprocd/cores/m4.core", 0, "/usr/lib/rprocd/cores/m4.core");

	/* A chain: absolute, then relative from where the first one led. */
	link_to(f, "/etc/rprocd/cores/m4.core", "/etc/alternatives/m4.core");
	link_to(f, "/etc/alternatives/m4.core", "../../usr/lib/rprocd/cores/m4.core");
	expect_chase(f, "/etc/rprocd/cores/m4.core", 0, "/usr/lib/rprocd/cores/m4.core");
}

/* ".." never leaves the root, however many there are, in the path or in a link. */
static void test_dotdot_stays_in_root(void **state)
{
	struct fixture *f = *state;

	put(f, "/etc/passwd-of-image", "image");
	expect_chase(f, "/../../../etc/passwd-of-image", 0, "/etc/passwd-of-image");
	link_to(f, "/lib/firmware/esc.elf", "../../../../../../../../../etc/passwd-of-image");
	expect_chase(f, "/lib/firmware/esc.elf", 0, "/etc/passwd-of-image");
	/* The host has /etc/passwd; the image does not: no such file, never the host's. */
	link_to(f, "/lib/firmware/host.elf", "../../../../../../../../../etc/passwd");
	expect_chase_error(f, "/lib/firmware/host.elf", 0, -ENOENT);
	link_to(f, "/lib/firmware/host-abs.elf", "/../../etc/passwd");
	expect_chase_error(f, "/lib/firmware/host-abs.elf", 0, -ENOENT);
	/* ".." after a link goes up from where the link led, as the kernel does. */
	put(f, "/usr/share/fw/a/x", "x");
	link_to(f, "/fw", "/usr/share/fw/a");
	expect_chase(f, "/fw/../a/x", 0, "/usr/share/fw/a/x");
}

/* A mask's target in an image without /dev/null: NONEXISTENT says where it leads. */
static void test_nonexistent_and_loops(void **state)
{
	struct fixture *f = *state;

	link_to(f, "/etc/rprocd/cores/m4.core", "/dev/null");
	expect_chase_error(f, "/etc/rprocd/cores/m4.core", 0, -ENOENT);
	expect_chase(f, "/etc/rprocd/cores/m4.core", RPROC_CHASE_NONEXISTENT, "/dev/null");
	link_to(f, "/etc/rprocd/cores/rel.core", "../../../../../dev/./null");
	expect_chase(f, "/etc/rprocd/cores/rel.core", RPROC_CHASE_NONEXISTENT, "/dev/null");
	/* "missing/.." is ENOENT, as in the kernel: going back up past a name
	 * never looked at would let "/missing/../hostlink/x" reach the host */
	expect_chase_error(f, "/no/such/../dir", RPROC_CHASE_NONEXISTENT, -ENOENT);
	link_to(f, "/hostetc", "/etc");
	expect_chase_error(f, "/missing/../hostetc/passwd", RPROC_CHASE_NONEXISTENT, -ENOENT);

	link_to(f, "/loop/a", "b");
	link_to(f, "/loop/b", "/loop/a");
	expect_chase_error(f, "/loop/a", 0, -ELOOP);
}

/* The real system: the path as given, nothing looked at (the daemon's behaviour is unchanged). */
static void test_no_root(void **state)
{
	struct rproc_ctx *ctx = NULL;
	char *host = NULL, *resolved = NULL;

	(void) state;
	assert_int_equal(rproc_ctx_new(NULL, &ctx), 0);
	assert_int_equal(rproc_ctx_chase(ctx, NOT_ON_HOST "/../x", 0, &host, &resolved), 0);
	assert_string_equal(host, NOT_ON_HOST "/../x");
	assert_string_equal(resolved, NOT_ON_HOST "/../x");
	free(host);
	free(resolved);
	assert_int_equal(rproc_ctx_chase(ctx, "x", 0, &host, NULL), -EINVAL);
	rproc_ctx_unref(ctx);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_plain_paths),
		T(test_absolute_links_stay_in_root),
		T(test_dotdot_stays_in_root),
		T(test_nonexistent_and_loops),
		cmocka_unit_test(test_no_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
