/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel model pinned rule by rule (each rule is the kernel's; docs/MODEL.md). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kmodel.h"
#include "util.h"

struct fx {
	char *root;
	struct kmodel *m;
	const struct kernel *k;
	struct rproc_ctx *ctx;
};

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char t[] = "/tmp/kmodel-test-XXXXXX";

	assert_non_null(f);
	assert_non_null(mkdtemp(t));
	f->root = strdup(t);
	assert_int_equal(kmodel_new(f->root, &f->m), 0);
	if (getenv("KMODEL_TRACE"))
		kmodel_set_trace(f->m, stderr);
	f->k = kmodel_kernel(f->m);
	assert_int_equal(rproc_ctx_new(f->root, &f->ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kmodel_free(f->m);
	rproc_ctx_unref(f->ctx);
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->root);
	free(f);
	return 0;
}

/* A librproc device for the model's device id (as the daemon would have it). */
static struct rproc_device *dev_of(struct fx *f, int id)
{
	struct rproc_device *d = NULL;

	assert_int_equal(rproc_device_new(f->ctx, kmodel_sysname(f->m, id), &d), 0);
	return d;
}

static int add_booted(struct fx *f, const char *name, unsigned flags)
{
	char fw[64];
	int id;

	snprintf(fw, sizeof(fw), "rproc-%s-fw", name);
	assert_int_equal(kmodel_firmware_install(f->m, fw), 0);
	id = kmodel_add(f->m, name, flags);
	assert_true(id >= 0);
	return id;
}

static enum rproc_state rd_state(struct fx *f, struct rproc_device *d)
{
	enum rproc_state s = RPROC_STATE_INVALID;

	assert_int_equal(kernel_read_state(f->k, d, &s), 0);
	return s;
}

static struct kmodel_info info(struct fx *f, int id)
{
	struct kmodel_info i;

	assert_int_equal(kmodel_info(f->m, id, &i), 0);
	return i;
}

static void test_tree(void **state)
{
	struct fx *f = *state;
	struct rproc_device **devs;
	size_t n;

	assert_int_equal(kmodel_add(f->m, "a", 0), 0);
	assert_int_equal(kmodel_add(f->m, "b", KMODEL_DETACHED), 1);
	assert_int_equal(rproc_device_enumerate(f->ctx, &devs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rproc_device_get_sysname(devs[0]), "remoteproc0");
	assert_string_equal(rproc_device_get_name(devs[0]), "a");
	assert_string_equal(rproc_device_get_devpath(devs[0]),
			    "/sys/devices/platform/rproc_sim.0/remoteproc/remoteproc0");
	assert_string_equal(rproc_device_get_name(devs[1]), "b");
	assert_int_equal(rd_state(f, devs[1]), RPROC_STATE_DETACHED);
	/* the attribute files mirror the model */
	{
		enum rproc_state s;

		assert_int_equal(rproc_device_read_state(devs[1], &s), 0);
		assert_int_equal(s, RPROC_STATE_DETACHED);
	}
	rproc_device_list_free(devs, n);
}

static void test_ida(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	int a, b, c, fd;

	a = kmodel_add(f->m, "a", 0);
	b = kmodel_add(f->m, "b", 0);
	c = kmodel_add(f->m, "c", 0);
	assert_string_equal(kmodel_sysname(f->m, c), "remoteproc2");
	assert_int_equal(kmodel_remove(f->m, b), 0);
	/* lowest free index */
	b = kmodel_add(f->m, "b2", 0);
	assert_string_equal(kmodel_sysname(f->m, b), "remoteproc1");

	/* an open chardev keeps the index of a removed device */
	d = dev_of(f, a);
	fd = kernel_cdev_open(f->k, d);
	assert_true(fd >= 0);
	assert_true(kernel_cdev_is_device(f->k, fd, d));
	assert_int_equal(kmodel_remove(f->m, a), 0);
	assert_false(kernel_cdev_is_device(f->k, fd, d));
	a = kmodel_add(f->m, "a", 0);
	assert_string_equal(kmodel_sysname(f->m, a), "remoteproc3");
	kernel_cdev_close(f->k, fd);
	assert_int_equal(kmodel_remove(f->m, a), 0);
	a = kmodel_add(f->m, "a", 0);
	assert_string_equal(kmodel_sysname(f->m, a), "remoteproc0");
	rproc_device_unref(d);
}

static void test_boot_refcount(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	struct kmodel_info i;
	int id;

	id = kmodel_add(f->m, "m4", 0);
	d = dev_of(f, id);
	/* no firmware file */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), -ENOENT);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, id), 0);
	assert_int_equal(kmodel_firmware_install(f->m, "rproc-m4-fw"), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	i = info(f, id);
	assert_int_equal(i.counters.prepare, 1);
	assert_int_equal(i.counters.load, 1);
	assert_int_equal(i.counters.start, 1);
	assert_true(i.hw_running);
	/* a second start takes a reference */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_power(f->m, id), 2);
	assert_int_equal(info(f, id).n_start_while_up, 1);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), -EINVAL);
	i = info(f, id);
	assert_int_equal(i.counters.stop, 1);
	assert_int_equal(i.power, 0);
	/* not an ELF file */
	assert_int_equal(kmodel_firmware_install_flags(f->m, "bad", KMODEL_FW_NOT_ELF), 0);
	assert_int_equal(kernel_write_firmware(f->k, d, "bad"), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), -EINVAL);
	assert_int_equal(info(f, id).counters.prepare, 1);
	rproc_device_unref(d);
}

static void test_firmware_attr(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d, *dd;
	_cleanup_free_ char *fw = NULL, *fw2 = NULL, *fw3 = NULL;
	int id, det;

	id = add_booted(f, "a", 0);
	det = kmodel_add(f->m, "b", KMODEL_DETACHED);
	d = dev_of(f, id);
	dd = dev_of(f, det);
	assert_int_equal(kernel_read_firmware(f->k, d, &fw), 0);
	assert_string_equal(fw, "rproc-a-fw");
	assert_int_equal(kernel_write_firmware(f->k, d, ""), -EINVAL);
	assert_int_equal(kernel_write_firmware(f->k, d, "\n"), -EINVAL);
	assert_int_equal(kernel_write_firmware(f->k, d, "sub/x.elf\n"), 0);
	assert_int_equal(kernel_read_firmware(f->k, d, &fw2), 0);
	assert_string_equal(fw2, "sub/x.elf");
	assert_int_equal(kernel_write_firmware(f->k, d, "rproc-a-fw"), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kernel_write_firmware(f->k, d, "x"), -EBUSY);
	assert_int_equal(kernel_write_firmware(f->k, d, "\n"), -EBUSY);
	/* detached: the name; attached: "unknown"; EBUSY in both */
	free(fw);
	assert_int_equal(kernel_read_firmware(f->k, dd, &fw), 0);
	assert_string_equal(fw, "rproc-b-fw");
	assert_int_equal(kernel_write_firmware(f->k, dd, "x"), -EBUSY);
	assert_int_equal(kernel_request(f->k, dd, RPROC_CMD_START), 0);
	assert_int_equal(kernel_read_firmware(f->k, dd, &fw3), 0);
	assert_string_equal(fw3, "unknown");
	assert_int_equal(kernel_write_firmware(f->k, dd, "x"), -EBUSY);
	rproc_device_unref(d);
	rproc_device_unref(dd);
}

static void test_attach_detach(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	struct kmodel_info i;
	int id;

	id = kmodel_add(f->m, "dsp", KMODEL_DETACHED);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_ATTACHED);
	i = info(f, id);
	assert_int_equal(i.counters.prepare, 1);
	assert_int_equal(i.counters.attach, 1);
	assert_int_equal(i.counters.load, 0);
	/* refcount on detach too */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_ATTACHED);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_DETACHED);
	i = info(f, id);
	assert_int_equal(i.counters.detach, 1);
	assert_true(i.hw_running);
	assert_int_equal(i.power, 0);
	/* stop of an attached core: offline, not detached */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_false(info(f, id).hw_running);
	rproc_device_unref(d);
}

static void test_crash_recovery(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	struct kmodel_info i;
	bool rec;
	int id;

	id = add_booted(f, "a", 0);
	d = dev_of(f, id);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), -EINVAL); /* offline */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	i = info(f, id);
	assert_int_equal(i.crashes, 1);
	assert_int_equal(i.crashes_seen, 0); /* recovered before anyone looked, no dump */
	assert_int_equal(i.counters.prepare, 1);
	assert_int_equal(i.counters.load, 2);
	assert_int_equal(i.counters.start, 2);
	assert_int_equal(i.counters.stop, 1);
	assert_int_equal(i.power, 1);

	/* recovery disabled: stays crashed, EBUSY, start takes a reference */
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_DISABLED), 0);
	assert_int_equal(kernel_read_recovery(f->k, d, &rec), 0);
	assert_false(rec);
	assert_int_equal(kmodel_crash(f->m, id, 2, 0), 0);
	assert_int_equal(kmodel_crash(f->m, id, 2, 0), -EINVAL); /* crashed */
	assert_int_equal(info(f, id).crashes_seen, 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(info(f, id).crashes_seen, 1);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(info(f, id).crashes_seen, 1);
	assert_int_equal(kernel_write_firmware(f->k, d, "x"), -EBUSY);
	assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_ENABLED), -EBUSY);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_DETACH), -EINVAL);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(info(f, id).n_start_while_up, 1);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_RECOVER), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_power(f->m, id), 2);
	assert_int_equal(kernel_read_recovery(f->k, d, &rec), 0);
	assert_false(rec);
	/* enabled recovers now */
	assert_int_equal(kmodel_crash(f->m, id, 0, 0), 0);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_ENABLED), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	/* stop of a crashed core: offline once the references are gone */
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_DISABLED), 0);
	assert_int_equal(kmodel_crash(f->m, id, 0, 0), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_crashes(f->m, id), 4);
	rproc_device_unref(d);
}

static void test_wedge(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	int id;

	id = add_booted(f, "a", 0);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_firmware_remove(f->m, "rproc-a-fw"), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, id), 1);
	assert_true(info(f, id).wedged);
	assert_int_equal(kmodel_firmware_install(f->m, "rproc-a-fw"), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(info(f, id).n_start_while_up, 0);
	assert_int_equal(info(f, id).n_start_refonly, 1);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), -EINVAL);
	/* firmware is writable (offline) */
	assert_int_equal(kernel_write_firmware(f->k, d, "other"), 0);
	/* a failed start in the recovery wedges it the same way */
	id = add_booted(f, "b", 0);
	rproc_device_unref(d);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_START, EIO), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, id), 1);
	rproc_device_unref(d);
}

static char *dump_data_path(struct fx *f, int id)
{
	_cleanup_free_ char *dir = NULL;

	assert_int_equal(kmodel_dump_dir(f->m, id, &dir), 0);
	return path_join(dir, "data");
}

static void test_coredump(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	_cleanup_free_ char *dir = NULL, *data = NULL, *link = NULL;
	char real[PATH_MAX];
	enum rproc_coredump_mode mode;
	int id;

	id = add_booted(f, "a", 0);
	d = dev_of(f, id);
	assert_int_equal(kernel_read_coredump(f->k, d, &mode), 0);
	assert_int_equal(mode, RPROC_COREDUMP_DISABLED);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	/* disabled: none */
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kmodel_dump_pending(f->m, -1), 0);
	assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_ENABLED), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 1);
	assert_int_equal(info(f, id).crashes_seen, 1);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	/* failing_device resolves to the device as librproc sees it */
	assert_int_equal(kmodel_dump_dir(f->m, id, &dir), 0);
	assert_string_equal(dir + strlen(f->root), "/sys/class/devcoredump/devcd1");
	link = path_join(dir, "failing_device");
	assert_non_null(realpath(link, real));
	assert_string_equal(real + strlen(f->root), rproc_device_get_devpath(d));
	/* a second dump while one is unread is dropped */
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 1);
	assert_int_equal(info(f, id).dumps_dropped, 1);
	assert_int_equal(info(f, id).crashes_seen, 1);
	assert_int_equal(info(f, id).crashes, 3);
	/* writing to data frees it */
	data = path_join(dir, "data");
	assert_int_equal(write_string_file(data, "1"), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 1);
	free(dir);
	assert_int_equal(kmodel_dump_dir(f->m, id, &dir), 0);
	assert_string_equal(dir + strlen(f->root), "/sys/class/devcoredump/devcd2");
	kmodel_dump_expire(f->m);
	assert_int_equal(kmodel_dump_pending(f->m, -1), 0);
	/* recovery disabled: the dump comes at "recover" */
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_DISABLED), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 0);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_RECOVER), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 1);
	kmodel_dump_expire(f->m);
	/* a stop of a crashed core makes none */
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(kmodel_dump_pending(f->m, id), 0);
	rproc_device_unref(d);
}

static void free_dump_handler(struct kmodel *m, int id, void *u)
{
	int *calls = u;

	(*calls)++;
	assert_int_equal(kmodel_dump_free(m, id), 0);
}

static void test_inline(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	_cleanup_free_ char *data = NULL;
	int id, calls = 0;

	id = add_booted(f, "a", 0);
	d = dev_of(f, id);
	assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_INLINE), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	/* the recovery waits for the dump: offline until it is freed */
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_true(info(f, id).stalled);
	assert_false(info(f, id).wedged);
	assert_int_equal(info(f, id).crashes_seen, 1);
	/* coredump_store takes no lock: offline, so accepted */
	assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_INLINE), 0);
	data = dump_data_path(f, id);
	assert_int_equal(write_string_file(data, "1"), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(info(f, id).n_blocked, 0);

	/* a write that needs the lock blocks: without a handler the dump times out */
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(info(f, id).n_blocked, 1);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, id), 0);
	assert_int_equal(kmodel_dump_pending(f->m, -1), 0);

	/* with a handler that frees it, nothing times out */
	kmodel_set_block_handler(f->m, free_dump_handler, &calls);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(info(f, id).n_blocked, 1);
	assert_int_equal(kmodel_power(f->m, id), 2);
	/* "recover" blocks its own writer */
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_DISABLED), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_RECOVER), 0);
	assert_int_equal(calls, 2);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	rproc_device_unref(d);
}

static void test_attach_recovery(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	_cleanup_free_ char *fw = NULL;
	struct kmodel_info i;
	int id;

	/* an attached core without the feature is recovered by booting the firmware */
	id = add_booted(f, "a", KMODEL_DETACHED);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kernel_read_firmware(f->k, d, &fw), 0);
	assert_string_equal(fw, "rproc-a-fw");
	i = info(f, id);
	assert_int_equal(i.counters.stop, 1);
	assert_int_equal(i.counters.start, 1);
	assert_int_equal(i.counters.load, 1);
	rproc_device_unref(d);

	/* with it: detach + attach; 6.12 prepares again, 6.1 does not */
	for (int k = 0; k < 2; k++) {
		kmodel_set_kernel(f->m, k ? KMODEL_KERNEL_6_12 : KMODEL_KERNEL_6_1);
		id = kmodel_add(f->m, k ? "c" : "b", KMODEL_DETACHED | KMODEL_ATTACH_ON_RECOVERY);
		d = dev_of(f, id);
		assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
		assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_ENABLED), 0);
		assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
		assert_int_equal(rd_state(f, d), RPROC_STATE_ATTACHED);
		i = info(f, id);
		assert_int_equal(i.counters.detach, 1);
		assert_int_equal(i.counters.attach, 2);
		assert_int_equal(i.counters.stop, 0);
		assert_int_equal(i.counters.prepare, k ? 2 : 1);
		assert_int_equal(i.dumps, 0); /* no coredump on attach recovery */
		assert_int_equal(i.crashes_seen, 0);
		/* a failed attach leaves it detached with the reference held */
		assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_ATTACH, EIO), 0);
		assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
		assert_int_equal(rd_state(f, d), RPROC_STATE_DETACHED);
		assert_int_equal(kmodel_power(f->m, id), 1);
		assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
		assert_int_equal(rd_state(f, d), RPROC_STATE_DETACHED);
		rproc_device_unref(d);
	}

	/*
	 * A core Linux booted from a firmware with a resource table cannot be
	 * detached by the recovery (EINVAL in rproc_reset_rsc_table_on_detach):
	 * it stays crashed, the reference held; stop takes it offline.
	 */
	id = add_booted(f, "d", KMODEL_ATTACH_ON_RECOVERY);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(info(f, id).counters.detach, 0);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_RECOVER), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	/* without a resource table it comes back attached */
	assert_int_equal(kmodel_firmware_install_flags(f->m, "rproc-d-fw", KMODEL_FW_NO_RSC), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_ATTACHED);
	/* a boot recovery of an attached core loads the table: the next attach recovery fails */
	rproc_device_unref(d);
	id = add_booted(f, "e", KMODEL_DETACHED);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	rproc_device_unref(d);
}

static void test_cdev(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d, *dd;
	int id, det, fd, fd2, fd3;
	bool v;

	id = add_booted(f, "a", 0);
	det = kmodel_add(f->m, "b", KMODEL_DETACHED);
	d = dev_of(f, id);
	dd = dev_of(f, det);
	fd = kernel_cdev_open(f->k, d);
	assert_true(fd >= 0);
	assert_true(kernel_cdev_is_device(f->k, fd, d));
	assert_false(kernel_cdev_is_device(f->k, fd, dd));
	assert_false(kernel_cdev_is_device(f->k, 0, d));
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_START), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kernel_cdev_set_shutdown_on_release(f->k, fd, true), 0);
	/* a copy (the fd store) shares the open file: only the last close releases */
	fd2 = kmodel_fd_dup(f->m, fd);
	assert_true(fd2 >= 0 && fd2 != fd);
	assert_true(kernel_cdev_is_device(f->k, fd2, d));
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	kernel_cdev_close(f->k, fd2);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	/* the flag is the processor's and persists: another open and close stops it */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	fd = kernel_cdev_open(f->k, d);
	assert_int_equal(kmodel_cdev_get_shutdown_on_release(f->m, fd, &v), 0);
	assert_true(v);
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	/* a start through a fresh open (sysfs-less request) is undone by its own close */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	fd = kernel_cdev_open(f->k, d);
	fd3 = kernel_cdev_open(f->k, d);
	assert_int_equal(kernel_cdev_set_shutdown_on_release(f->k, fd3, false), 0);
	kernel_cdev_close(f->k, fd3);
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	/* refcount: release with two references drops one */
	fd = kernel_cdev_open(f->k, d);
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_START), 0);
	assert_int_equal(kernel_cdev_set_shutdown_on_release(f->k, fd, true), 0);
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_power(f->m, id), 1);
	/* crashed core: release leaves it */
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_DISABLED), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	fd = kernel_cdev_open(f->k, d);
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	/* attached: detached on release */
	fd = kernel_cdev_open(f->k, dd);
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_START), 0);
	assert_int_equal(rd_state(f, dd), RPROC_STATE_ATTACHED);
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_STOP + 7), -EINVAL);
	assert_int_equal(kernel_cdev_set_shutdown_on_release(f->k, fd, true), 0);
	kernel_cdev_close(f->k, fd);
	assert_int_equal(rd_state(f, dd), RPROC_STATE_DETACHED);
	assert_int_equal(info(f, det).open_files, 0);
	rproc_device_unref(d);
	rproc_device_unref(dd);
}

static void test_remove(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d, *d2;
	enum rproc_state s;
	_cleanup_free_ char *fw = NULL;
	int id, id2, fd;

	id = add_booted(f, "a", 0);
	id2 = add_booted(f, "b", 0);
	d = dev_of(f, id);
	d2 = dev_of(f, id2);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kernel_request(f->k, d2, RPROC_CMD_START), 0);
	assert_int_equal(kernel_request(f->k, d2, RPROC_CMD_START), 0);
	fd = kernel_cdev_open(f->k, d);
	assert_int_equal(kmodel_remove(f->m, id), 0);
	assert_int_equal(kmodel_remove(f->m, id), -ENODEV);
	assert_int_equal(info(f, id).state, RPROC_STATE_OFFLINE);
	assert_int_equal(info(f, id).counters.stop, 1);
	/* the files are gone */
	assert_int_equal(kernel_read_state(f->k, d, &s), -ENOENT);
	assert_int_equal(kernel_read_firmware(f->k, d, &fw), -ENOENT);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), -ENOENT);
	assert_int_equal(kernel_write_coredump(f->k, d, RPROC_COREDUMP_ENABLED), -ENOENT);
	assert_int_equal(kernel_cdev_open(f->k, d), -ENOENT);
	assert_int_equal(rproc_device_read_state(d, &s), -ENOENT);
	/* an fd still open: start is ENODEV (deleting), stop EINVAL */
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_START), -ENODEV);
	assert_int_equal(kernel_cdev_request(f->k, fd, RPROC_CMD_STOP), -EINVAL);
	kernel_cdev_close(f->k, fd);
	/* with two references the core is not stopped */
	assert_int_equal(kmodel_remove(f->m, id2), 0);
	assert_int_equal(info(f, id2).state, RPROC_STATE_RUNNING);
	assert_int_equal(info(f, id2).power, 1);
	assert_int_equal(kmodel_find(f->m, "remoteproc0"), -ENODEV);
	rproc_device_unref(d);
	rproc_device_unref(d2);
}

static void test_fail(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d, *dd;
	int id, det;

	id = add_booted(f, "a", 0);
	det = kmodel_add(f->m, "b", KMODEL_DETACHED);
	d = dev_of(f, id);
	dd = dev_of(f, det);
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_START, 5000), -ERANGE);
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_START, ENOSPC), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), -ENOSPC);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, id), 0);
	assert_int_equal(info(f, id).counters.prepare, 1);
	assert_int_equal(info(f, id).counters.load, 1);
	assert_int_equal(info(f, id).counters.start, 0);
	/* once */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_STOP, EIO), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), -EIO);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_power(f->m, id), 1);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	/* 0 cancels */
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_START, EIO), 0);
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_START, 0), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	/* attach and detach */
	assert_int_equal(kmodel_fail(f->m, det, KMODEL_OP_ATTACH, EAGAIN), 0);
	assert_int_equal(kernel_request(f->k, dd, RPROC_CMD_START), -EAGAIN);
	assert_int_equal(rd_state(f, dd), RPROC_STATE_DETACHED);
	assert_int_equal(kmodel_power(f->m, det), 0);
	assert_int_equal(kernel_request(f->k, dd, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_fail(f->m, det, KMODEL_OP_DETACH, EIO), 0);
	assert_int_equal(kernel_request(f->k, dd, RPROC_CMD_DETACH), -EIO);
	assert_int_equal(rd_state(f, dd), RPROC_STATE_ATTACHED);
	assert_int_equal(kmodel_power(f->m, det), 1);
	/* a failed stop in a recovery leaves the core crashed */
	assert_int_equal(kmodel_fail(f->m, id, KMODEL_OP_STOP, EIO), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, 0), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(kernel_write_recovery(f->k, d, RPROC_RECOVERY_RECOVER), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	rproc_device_unref(d);
	rproc_device_unref(dd);
}

static void test_queued_crash(void **state)
{
	struct fx *f = *state;
	struct rproc_device *d;
	int id;

	id = add_booted(f, "a", 0);
	d = dev_of(f, id);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	/* queued: still running until the work runs; a stop first makes it a no-op */
	assert_int_equal(kmodel_crash(f->m, id, 1, KMODEL_CRASH_QUEUE), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	kmodel_run_work(f->m);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_crashes(f->m, id), 0);
	/* crashed, recovery queued: a state read sees it */
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_START), 0);
	assert_int_equal(kmodel_crash(f->m, id, 1, KMODEL_CRASH_HOLD_RECOVERY), 0);
	assert_int_equal(rd_state(f, d), RPROC_STATE_CRASHED);
	assert_int_equal(kmodel_crashes_seen(f->m, id), 1);
	kmodel_run_work(f->m);
	assert_int_equal(rd_state(f, d), RPROC_STATE_RUNNING);
	/* a stop while the recovery is queued: offline, the recovery then does nothing */
	assert_int_equal(kmodel_crash(f->m, id, 1, KMODEL_CRASH_HOLD_RECOVERY), 0);
	assert_int_equal(kernel_request(f->k, d, RPROC_CMD_STOP), 0);
	kmodel_run_work(f->m);
	assert_int_equal(rd_state(f, d), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_crashes(f->m, id), 2);
	assert_int_equal(kmodel_crashes_seen(f->m, id), 1);
	rproc_device_unref(d);
}

static void test_auto_boot(void **state)
{
	struct fx *f = *state;
	int a, b, c;

	assert_int_equal(kmodel_firmware_install(f->m, "rproc-a-fw"), 0);
	a = kmodel_add(f->m, "a", KMODEL_AUTO_BOOT);
	b = kmodel_add(f->m, "b", KMODEL_AUTO_BOOT | KMODEL_DETACHED);
	c = kmodel_add(f->m, "c", KMODEL_AUTO_BOOT); /* no firmware */
	assert_int_equal(kmodel_state(f->m, a), RPROC_STATE_RUNNING);
	assert_int_equal(kmodel_state(f->m, b), RPROC_STATE_ATTACHED);
	assert_int_equal(kmodel_state(f->m, c), RPROC_STATE_OFFLINE);
	assert_int_equal(kmodel_power(f->m, c), 0);
	{
		struct kmodel_opts o = { .name = "d", .platform_id = 7, .firmware = "x/y.elf" };
		struct rproc_device *d;
		_cleanup_free_ char *fw = NULL;

		assert_int_equal(kmodel_add_opts(f->m, &o), 3);
		assert_int_equal(kmodel_add_opts(f->m, &o), -EEXIST);
		d = dev_of(f, 3);
		assert_string_equal(rproc_device_get_devpath(d),
				    "/sys/devices/platform/rproc_sim.7/remoteproc/remoteproc3");
		assert_int_equal(kernel_read_firmware(f->k, d, &fw), 0);
		assert_string_equal(fw, "x/y.elf");
		rproc_device_unref(d);
	}
}

struct thread_arg {
	struct fx *f;
	struct rproc_device *d;
	enum rproc_state s;
	int r;
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 100; i++)
		a->r = kernel_read_state(a->f->k, a->d, &a->s);
	return NULL;
}

static void test_thread(void **state)
{
	struct fx *f = *state;
	struct thread_arg a = { .f = f };
	pthread_t t;
	int id;

	id = add_booted(f, "a", 0);
	a.d = dev_of(f, id);
	assert_int_equal(pthread_create(&t, NULL, thread_fn, &a), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(kernel_request(f->k, a.d, RPROC_CMD_START), 0);
		assert_int_equal(kernel_request(f->k, a.d, RPROC_CMD_STOP), 0);
	}
	pthread_join(t, NULL);
	assert_int_equal(a.r, 0);
	rproc_device_unref(a.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ida, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_refcount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_attr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wedge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coredump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
