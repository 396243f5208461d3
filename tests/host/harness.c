/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-id128.h>

#include "core.h"
#include "elf-builder.h"
#include "harness.h"
#include "kernel-events.h"
#include "log.h"
#include "util.h"
#include "worker.h"

/* devcoredump directories already handed to the daemon (udev says "add" once) */
static char delivered[64][256];
static size_t n_delivered;

/* ---- the kernel, wrapped: every request the daemon makes is checked first ---- */

struct h_dev_obs {
	char sysname[32];
	unsigned generation;
	bool last_crashed;
	bool any_read;
	unsigned crash_reads; /* reads into "crashed" from something else: transitions seen */
	int crashes_base;     /* the model's crash count at the first read (the core's birth) */
	bool first_crashed;   /* the first read showed "crashed": counted as found crashed */
	int dumps_base;	      /* dumps of earlier crashes pending then: each may count once */
	int crashes_at_read;  /* the model's crash count at the last read */
};

static struct h_dev_obs observations[256];
static size_t n_observations;
static struct harness *current;

static struct h_dev_obs *obs_for(struct harness *h, const char *sysname)
{
	for (size_t i = 0; i < n_observations; i++)
		if (observations[i].generation == h->generation &&
		    streq(observations[i].sysname, sysname))
			return &observations[i];
	if (n_observations == ELEMENTSOF(observations))
		return NULL;
	memset(&observations[n_observations], 0, sizeof(observations[0]));
	snprintf(observations[n_observations].sysname, sizeof(observations[0].sysname), "%s",
		 sysname);
	observations[n_observations].generation = h->generation;
	return &observations[n_observations++];
}

/* A device that went away and came back is another device: its count starts over. */
static void obs_forget(struct harness *h, const char *sysname)
{
	for (size_t i = 0; i < n_observations; i++)
		if (streq(observations[i].sysname, sysname))
			observations[i].generation = (unsigned) -1;
}

static const struct kernel *model(void)
{
	return kmodel_kernel(current->km);
}

static int kmodel_peek_state(struct kmodel *km, const char *sysname, enum rproc_state *ret)
{
	int id = kmodel_find(km, sysname);

	if (id < 0)
		return id;
	*ret = kmodel_state(km, id);
	return 0;
}

static unsigned kmodel_dumps_taken(struct kmodel *km, const char *sysname)
{
	struct kmodel_info info;
	int id = kmodel_find(km, sysname);

	return id >= 0 && kmodel_info(km, id, &info) >= 0 ? info.dumps : 0;
}

/* Which device each chardev fd the daemon opened is of. */
static struct {
	int fd;
	char sysname[32];
} fd_map[256];

static const char *kmodel_fd_sysname(struct kmodel *km, int fd)
{
	(void) km;
	for (size_t i = 0; i < ELEMENTSOF(fd_map); i++)
		if (fd_map[i].fd == fd && fd_map[i].sysname[0])
			return fd_map[i].sysname;
	return NULL;
}

static void violation(struct harness *h, const char *fmt, ...) _printf_(2, 3);
static void violation(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(h->violation, sizeof(h->violation), fmt, ap);
	va_end(ap);
}

static int w_read_state(void *u, struct rproc_device *dev, enum rproc_state *ret)
{
	int r = model()->ops->read_state(model()->userdata, dev, ret);
	struct h_dev_obs *o;

	if (r < 0)
		return r;
	o = obs_for(current, rproc_device_get_sysname(dev));
	if (o) {
		if (!o->any_read) {
			int id = kmodel_find(current->km, rproc_device_get_sysname(dev));

			o->crashes_base = id >= 0 ? kmodel_crashes(current->km, id) : 0;
			o->dumps_base = id >= 0 ? kmodel_dump_pending(current->km, id) : 0;
			o->first_crashed = *ret == RPROC_STATE_CRASHED;
		}
		if (*ret == RPROC_STATE_CRASHED && (!o->any_read || !o->last_crashed))
			o->crash_reads++;
		o->last_crashed = *ret == RPROC_STATE_CRASHED;
		o->any_read = true;
		{
			int id = kmodel_find(current->km, rproc_device_get_sysname(dev));

			o->crashes_at_read = id >= 0 ? kmodel_crashes(current->km, id) : 0;
		}
	}
	return r;
}
static int w_read_firmware(void *u, struct rproc_device *dev, char **ret)
{
	return model()->ops->read_firmware(model()->userdata, dev, ret);
}
static int w_read_recovery(void *u, struct rproc_device *dev, bool *ret)
{
	return model()->ops->read_recovery(model()->userdata, dev, ret);
}
static int w_read_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode *ret)
{
	return model()->ops->read_coredump(model()->userdata, dev, ret);
}
static int w_write_firmware(void *u, struct rproc_device *dev, const char *name)
{
	return model()->ops->write_firmware(model()->userdata, dev, name);
}
static int after_start(const char *sysname, int r);

static int w_write_recovery(void *u, struct rproc_device *dev, enum rproc_recovery_cmd cmd)
{
	int r = model()->ops->write_recovery(model()->userdata, dev, cmd);

	/* A recovery boots the firmware again: a faulty one crashes again. */
	return cmd == RPROC_RECOVERY_RECOVER ? after_start(rproc_device_get_sysname(dev), r) : r;
}
static int w_write_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode mode)
{
	return model()->ops->write_coredump(model()->userdata, dev, mode);
}

/* The invariant: rprocd never writes start to a core that is up (it would pin a refcount). */
static void check_start(const char *sysname)
{
	enum rproc_state s;

	if (kmodel_peek_state(current->km, sysname, &s) < 0)
		return;
	if (s == RPROC_STATE_RUNNING || s == RPROC_STATE_ATTACHED || s == RPROC_STATE_CRASHED) {
		current->starts_while_up++;
		violation(current, "%s: rprocd wrote start while the core was %s", sysname,
			  rproc_state_to_string(s));
	}
}

static int after_start(const char *sysname, int r)
{
	struct h_dev_obs *o = obs_for(current, sysname);
	int id;

	/*
	 * The kernel took the start: the core was up (a crash read next is a new
	 * one). With the kernel log the daemon can tell a recovery that failed
	 * (still in the crash last read) from that: so must the count.
	 */
	if (r >= 0 && o &&
	    (!current->kmsg || (id = kmodel_find(current->km, sysname)) < 0 ||
	     kmodel_state(current->km, id) != RPROC_STATE_CRASHED ||
	     kmodel_crashes(current->km, id) > o->crashes_at_read))
		o->last_crashed = false;

	if (r >= 0 && streq(current->crash_after_start, sysname) &&
	    (id = kmodel_find(current->km, sysname)) >= 0)
		(void) kmodel_crash(current->km, id, 1, 0);
	return r;
}

static int w_request(void *u, struct rproc_device *dev, enum rproc_command cmd)
{
	int r;

	if (cmd == RPROC_CMD_START)
		check_start(rproc_device_get_sysname(dev));
	r = model()->ops->request(model()->userdata, dev, cmd);
	return cmd == RPROC_CMD_START ? after_start(rproc_device_get_sysname(dev), r) : r;
}
static int w_cdev_open(void *u, struct rproc_device *dev)
{
	int fd = model()->ops->cdev_open(model()->userdata, dev);

	if (fd >= 0 && (size_t) fd < ELEMENTSOF(fd_map)) {
		fd_map[fd].fd = fd;
		snprintf(fd_map[fd].sysname, sizeof(fd_map[fd].sysname), "%s",
			 rproc_device_get_sysname(dev));
	}
	return fd;
}
static int w_cdev_request(void *u, int fd, enum rproc_command cmd)
{
	const char *sysname = kmodel_fd_sysname(current->km, fd);
	int r;

	if (cmd == RPROC_CMD_START && sysname)
		check_start(sysname);
	r = model()->ops->cdev_request(model()->userdata, fd, cmd);
	return cmd == RPROC_CMD_START && sysname ? after_start(sysname, r) : r;
}
static int w_cdev_set_sor(void *u, int fd, bool enable)
{
	return model()->ops->cdev_set_shutdown_on_release(model()->userdata, fd, enable);
}
static void w_cdev_close(void *u, int fd)
{
	if (fd >= 0 && (size_t) fd < ELEMENTSOF(fd_map))
		fd_map[fd].sysname[0] = 0;
	model()->ops->cdev_close(model()->userdata, fd);
}
static bool w_cdev_is_device(void *u, int fd, struct rproc_device *dev)
{
	return model()->ops->cdev_is_device(model()->userdata, fd, dev);
}

static const struct kernel_ops wrapped_ops = {
	.read_state = w_read_state,
	.read_firmware = w_read_firmware,
	.read_recovery = w_read_recovery,
	.read_coredump = w_read_coredump,
	.write_firmware = w_write_firmware,
	.write_recovery = w_write_recovery,
	.write_coredump = w_write_coredump,
	.request = w_request,
	.cdev_open = w_cdev_open,
	.cdev_request = w_cdev_request,
	.cdev_set_shutdown_on_release = w_cdev_set_sor,
	.cdev_close = w_cdev_close,
	.cdev_is_device = w_cdev_is_device,
};

/* ---- files under the root ---- */

static char *h_path(struct harness *h, const char *path)
{
	return strdup_printf("%s%s", h->root, path);
}

int h_write_file(struct harness *h, const char *path, const char *content)
{
	_cleanup_free_ char *p = h_path(h, path);
	_cleanup_close_ int fd = -1;
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_parents(p);
	if (r < 0)
		return r;
	(void) unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return write(fd, content, strlen(content)) == (ssize_t) strlen(content) ? 0 : -EIO;
}

int h_core_file(struct harness *h, const char *name, const char *text)
{
	_cleanup_free_ char *path = strdup_printf("/etc/rprocd/cores/%s.core", name);

	return path ? h_write_file(h, path, text) : -ENOMEM;
}

/* A device of the model as librproc opens it, for writes past rprocd. */
static int external_device(struct harness *h, int id, struct rproc_ctx **ret_ctx,
			   struct rproc_device **ret_dev)
{
	const char *sysname = kmodel_sysname(h->km, id);
	int r;

	if (!sysname)
		return -ENODEV;
	r = rproc_ctx_new(h->root, ret_ctx);
	if (r < 0)
		return r;
	r = rproc_device_new(*ret_ctx, sysname, ret_dev);
	if (r < 0)
		*ret_ctx = rproc_ctx_unref(*ret_ctx);
	return r;
}

int h_external_request(struct harness *h, int id, enum rproc_command cmd)
{
	const struct kernel *k = kmodel_kernel(h->km);
	struct rproc_ctx *ctx = NULL;
	struct rproc_device *dev = NULL;
	int r = external_device(h, id, &ctx, &dev);

	if (r < 0)
		return r;
	r = k->ops->request(k->userdata, dev, cmd);
	rproc_device_unref(dev);
	rproc_ctx_unref(ctx);
	return r;
}

int h_external_firmware(struct harness *h, int id, const char *name)
{
	const struct kernel *k = kmodel_kernel(h->km);
	struct rproc_ctx *ctx = NULL;
	struct rproc_device *dev = NULL;
	int r = external_device(h, id, &ctx, &dev);

	if (r < 0)
		return r;
	r = k->ops->write_firmware(k->userdata, dev, name);
	rproc_device_unref(dev);
	rproc_ctx_unref(ctx);
	return r;
}

int h_remove_file(struct harness *h, const char *path)
{
	_cleanup_free_ char *p = h_path(h, path);

	if (!p)
		return -ENOMEM;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

int h_mask_core(struct harness *h, const char *name)
{
	_cleanup_free_ char *rel = strdup_printf("/etc/rprocd/cores/%s.core", name);
	_cleanup_free_ char *p = rel ? h_path(h, rel) : NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_parents(p);
	if (r < 0)
		return r;
	(void) unlink(p);
	return symlink("/dev/null", p) < 0 ? -errno : 0;
}

int h_write_firmware(struct harness *h, const char *name)
{
	_cleanup_free_ char *rel = strdup_printf("/lib/firmware/%s", name);
	_cleanup_free_ char *p = rel ? h_path(h, rel) : NULL;
	_cleanup_close_ int fd = -1;
	struct elf_spec spec;
	struct elf_image img;
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_parents(p);
	if (r < 0)
		return r;
	elf_spec_init(&spec, 32);
	r = elf_build(&spec, &img);
	if (r < 0)
		return r;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	r = fd < 0 || write(fd, img.data, img.size) != (ssize_t) img.size ? -EIO : 0;
	elf_image_free(&img);
	return r;
}

/* ---- systemd's side: the notify socket and the fd store ---- */

static void store_remove(struct harness *h, const char *name)
{
	for (size_t i = 0; i < h->n_store;) {
		if (!streq(h->store_names[i], name)) {
			i++;
			continue;
		}
		kmodel_kernel(h->km)->ops->cdev_close(kmodel_kernel(h->km)->userdata,
						      h->store_fds[i]);
		free(h->store_names[i]);
		memmove(h->store_fds + i, h->store_fds + i + 1,
			sizeof(h->store_fds[0]) * (h->n_store - i - 1));
		memmove(h->store_names + i, h->store_names + i + 1,
			sizeof(h->store_names[0]) * (h->n_store - i - 1));
		h->n_store--;
	}
}

static int h_notify(void *userdata, const char *text, const int *fds, size_t n_fds)
{
	struct harness *h = userdata;
	const char *name = strstr(text, "FDNAME=");
	_cleanup_free_ char *fdname = NULL;

	if (name) {
		name += strlen("FDNAME=");
		fdname = strndup(name, strcspn(name, "\n"));
		if (!fdname)
			return -ENOMEM;
	}
	if (strstr(text, "READY=1")) {
		h->ready = true;
		h->n_ready++;
	}
	if (strstr(text, "RELOADING=1"))
		h->n_reloading++;
	if (strstr(text, "FDSTOREREMOVE=1") && fdname)
		store_remove(h, fdname);
	else if (strstr(text, "FDSTORE=1") && fdname) {
		for (size_t i = 0; i < n_fds && h->n_store < ELEMENTSOF(h->store_fds); i++) {
			int fd = kmodel_fd_dup(h->km, fds[i]);

			if (fd < 0)
				return fd;
			h->store_fds[h->n_store] = fd;
			h->store_names[h->n_store++] = strdup(fdname);
		}
	}
	return 0;
}

/* ---- the daemon ---- */

int h_new(struct harness **ret)
{
	struct harness *h = calloc(1, sizeof(*h));
	char tmpl[] = "/tmp/rprocd-host-XXXXXX";
	int r;

	if (!h)
		return -ENOMEM;
	if (!mkdtemp(tmpl)) {
		free(h);
		return -errno;
	}
	h->root = strdup(tmpl);
	r = kmodel_new(h->root, &h->km);
	if (r < 0) {
		free(h->root);
		free(h);
		return r;
	}
	n_delivered = 0;
	memset(fd_map, 0, sizeof(fd_map));
	h->kmsg_wfd = -1;
	/* RPROCD_MODEL_TRACE=1: the model says what the kernel does, on stderr. */
	if (getenv("RPROCD_MODEL_TRACE"))
		kmodel_set_trace(h->km, stderr);
	h->kernel.ops = &wrapped_ops;
	h->kernel.userdata = h;
	current = h;
	n_observations = 0;
	log_setup(getenv("RPROCD_HOST_DEBUG") ? LOG_DEBUG : LOG_CRIT);
	*ret = h;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void) st, (void) ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int h_new_default(struct harness **ret)
{
	struct harness *h = NULL;
	int r = h_new(&h);

	if (r < 0)
		return r;
	if ((r = h_write_file(h, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=1h\n")) <
		    0 ||
	    (r = h_write_firmware(h, "fw.elf")) < 0 || (r = h_write_firmware(h, "fw2.elf")) < 0) {
		h_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

struct harness *h_free(struct harness *h)
{
	if (!h)
		return NULL;
	h_daemon_kill(h);
	for (size_t i = 0; i < h->n_store; i++) {
		kmodel_kernel(h->km)->ops->cdev_close(kmodel_kernel(h->km)->userdata,
						      h->store_fds[i]);
		free(h->store_names[i]);
	}
	for (unsigned i = 0; i < h->n_calls; i++) {
		free(h->calls[i].what);
		free(h->calls[i].error);
	}
	if (h->bus_pid > 0) {
		kill(h->bus_pid, SIGTERM);
		(void) waitpid(h->bus_pid, NULL, 0);
	}
	kmodel_free(h->km);
	if (!getenv("RPROCD_HOST_KEEP"))
		(void) nftw(h->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(h->root);
	if (current == h)
		current = NULL;
	free(h);
	return NULL;
}

static int bus_pair(sd_event *e, sd_bus **ret_server, sd_bus **ret_client)
{
	_cleanup_(sd_bus_unrefp) sd_bus *s = NULL, *c = NULL;
	sd_id128_t id;
	int fds[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
		return -errno;
	r = sd_id128_randomize(&id);
	if (r >= 0)
		r = sd_bus_new(&s);
	if (r >= 0)
		r = sd_bus_set_fd(s, fds[0], fds[0]);
	else
		close(fds[0]);
	if (r >= 0)
		r = sd_bus_set_server(s, 1, id);
	if (r >= 0)
		r = sd_bus_attach_event(s, e, 0);
	if (r >= 0)
		r = sd_bus_start(s);
	if (r >= 0)
		r = sd_bus_new(&c);
	if (r >= 0)
		r = sd_bus_set_fd(c, fds[1], fds[1]);
	else
		close(fds[1]);
	if (r >= 0)
		r = sd_bus_attach_event(c, e, 0);
	if (r >= 0)
		r = sd_bus_start(c);
	if (r < 0)
		return r;
	*ret_server = TAKE_PTR(s);
	*ret_client = TAKE_PTR(c);
	return 0;
}

/* A private dbus-daemon under the root, started once per harness. */
static int bus_daemon_start(struct harness *h)
{
	_cleanup_free_ char *conf = strdup_printf("%s/bus.conf", h->root);
	_cleanup_free_ char *sock = strdup_printf("%s/bus", h->root);
	_cleanup_free_ char *text = NULL;
	int pid;

	if (h->bus_pid > 0)
		return 0;
	if (!conf || !sock || access("/usr/bin/dbus-daemon", X_OK) < 0)
		return -ENOENT;
	text = strdup_printf("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
			     "Configuration 1.0//EN\"\n"
			     " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
			     "<busconfig><type>session</type><listen>unix:path=%s</listen>"
			     "<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
			     "<allow own=\"*\"/><allow send_destination=\"*\"/>"
			     "<allow receive_sender=\"*\"/></policy></busconfig>\n",
			     sock);
	if (!text || h_write_file(h, "/bus.conf", text) < 0)
		return -EIO;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execl("/usr/bin/dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile",
		      "--config-file", conf, (char *) NULL);
		_exit(127);
	}
	h->bus_pid = pid;
	snprintf(h->bus_address, sizeof(h->bus_address), "unix:path=%s", sock);
	for (int i = 0; i < 400; i++) {
		struct stat st;

		if (stat(sock, &st) == 0)
			return 0;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

static int bus_connect(struct harness *h, sd_event *e, sd_bus **ret)
{
	_cleanup_(sd_bus_unrefp) sd_bus *b = NULL;
	int r;

	/* The socket file appears before dbus-daemon listens on it. */
	for (int i = 0; i < 400; i++) {
		_cleanup_(sd_bus_unrefp) sd_bus *probe = NULL;

		r = sd_bus_new(&probe);
		if (r >= 0)
			r = sd_bus_set_address(probe, h->bus_address);
		if (r >= 0)
			r = sd_bus_set_bus_client(probe, 1);
		if (r >= 0)
			r = sd_bus_start(probe);
		if (r >= 0)
			r = sd_bus_get_unique_name(probe, &(const char *){ NULL });
		if (r >= 0 || (r != -ECONNREFUSED && r != -ENOENT))
			break;
		usleep(5000);
	}
	if (r < 0)
		return r;
	r = sd_bus_new(&b);
	if (r >= 0)
		r = sd_bus_set_address(b, h->bus_address);
	if (r >= 0)
		r = sd_bus_set_bus_client(b, 1);
	if (r >= 0)
		r = sd_bus_start(b);
	if (r >= 0)
		r = sd_bus_attach_event(b, e, 0);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

static const char *destination(struct harness *h)
{
	return h->bus_daemon ? "org.rprocd1" : NULL;
}

/* The model's kernel log: one record per packet; a full buffer drops it, as an overrun. */
static void h_klog(const char *record, size_t len, void *userdata)
{
	struct harness *h = userdata;
	int fd = __atomic_load_n(&h->kmsg_wfd, __ATOMIC_SEQ_CST);

	if (fd < 0)
		return; /* no daemon reads the log: gone for it, as before its start */
	bool sent = send(fd, record, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
	const char *p = strstr(record, ";remoteproc remoteproc");
	unsigned index;

	/*
	 * Full: as the kernel's ring, overwrite the oldest records the daemon
	 * has not read (its next read fails with EPIPE), never the newest.
	 */
	for (unsigned k = 0; !sent && k < 64 && h->m && h->m->kmsg_fd >= 0; k++) {
		char junk[4096];

		if (recv(h->m->kmsg_fd, junk, sizeof(junk), MSG_DONTWAIT) < 0)
			break;
		__atomic_store_n(&h->kmsg_overflow, 1, __ATOMIC_SEQ_CST);
		h->kmsg_dropped++;
		sent = send(fd, record, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
	}
	if (!sent) {
		__atomic_store_n(&h->kmsg_overflow, 1, __ATOMIC_SEQ_CST);
		h->kmsg_dropped++;
	} else
		h->kmsg_sent++;
	/* Which daemon got the type of the last crash of the device (0: none did). */
	if (p && strstr(record, ": crash detected in ") &&
	    sscanf(p, ";remoteproc remoteproc%u:", &index) == 1 &&
	    index < ELEMENTSOF(h->crash_type_to))
		h->crash_type_to[index] = sent ? h->generation : 0;
}

void h_kmsg_overrun(struct harness *h)
{
	if (!h->m || h->kmsg_wfd < 0)
		return;
	/* An EPIPE alone loses nothing: the exact count must survive it. */
	manager_kmsg_lost(h->m);
}

static int kmsg_start(struct harness *h, struct manager *m)
{
	int sv[2], r;

	if (!h->kmsg)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (h->kmsg_small) {
		int size = 1; /* the kernel's minimum: a handful of records */

		(void) setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	r = manager_set_kmsg_fd(m, sv[0]);
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	h->kmsg_lost = false;
	__atomic_store_n(&h->kmsg_overflow, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->kmsg_wfd, sv[1], __ATOMIC_SEQ_CST);
	kmodel_set_log(h->km, h_klog, h);
	return 0;
}

static void kmsg_stop(struct harness *h)
{
	int fd = __atomic_exchange_n(&h->kmsg_wfd, -1, __ATOMIC_SEQ_CST);

	if (fd >= 0)
		close(fd);
}

int h_daemon_start(struct harness *h)
{
	_cleanup_(sd_bus_unrefp) sd_bus *server = NULL;
	struct manager *m = NULL;
	int *fds = NULL;
	char **names = NULL;
	int r;

	if (h->m)
		return -EALREADY;
	h->generation++;
	h->ready = false;
	r = manager_new(h->root, &h->kernel, &m);
	if (r < 0)
		return r;
	m->notify = h_notify;
	m->notify_userdata = h;
	/* Kernel writes run when the test says so (or in threads, as in rprocd). */
	if (!h->threads) {
		worker_pool_free(m->workers);
		m->workers = NULL;
		r = worker_pool_new_manual(m->event, &m->workers);
		if (r < 0) {
			manager_free(m);
			return r;
		}
	}
	m->ready_timeout_usec = h->ready_timeout_usec ? h->ready_timeout_usec : 3600ULL * 1000000;
	r = manager_load(m);
	if (r >= 0 && h->bus_daemon) {
		r = bus_daemon_start(h);
		if (r >= 0)
			r = bus_connect(h, m->event, &server);
		if (r >= 0)
			r = manager_attach_bus(m, server);
		if (r >= 0)
			/* The bus may not have seen the last instance go yet (a kill). */
			for (int k = 0; k < 200; k++) {
				r = sd_bus_request_name(server, "org.rprocd1", 0);
				if (r != -EEXIST)
					break;
				usleep(5000);
			}
		h->n_clients = 0;
		for (unsigned i = 0; r >= 0 && i < ELEMENTSOF(h->clients); i++) {
			r = bus_connect(h, m->event, &h->clients[i]);
			if (r >= 0)
				h->n_clients++;
		}
		h->client = h->n_clients > 0 ? h->clients[0] : NULL;
	} else if (r >= 0) {
		r = bus_pair(m->event, &server, &h->client);
		if (r >= 0)
			r = manager_attach_bus(m, server);
	}
	if (r < 0) {
		manager_free(m);
		return r;
	}
	m->name_owned = true;
	/* The fd store hands back copies; it keeps its own. */
	if (h->n_store > 0) {
		fds = calloc(h->n_store, sizeof(int));
		names = calloc(h->n_store + 1, sizeof(char *));
		for (size_t i = 0; fds && names && i < h->n_store; i++) {
			fds[i] = kmodel_fd_dup(h->km, h->store_fds[i]);
			names[i] = strdup(h->store_names[i]);
		}
		manager_set_stored_fds(m, fds, names, h->n_store);
	}
	h->m = m;
	/* The log before the devices, as rprocd opens it (no transition slips between). */
	r = kmsg_start(h, m);
	if (r < 0)
		return r;
	r = manager_enumerate(m);
	if (r < 0)
		return r;
	return 0;
}

void h_daemon_kill(struct harness *h)
{
	if (!h->m)
		return;
	/* A killed process says nothing more to systemd; its fds close, its writes finish. */
	h->m->notify = NULL;
	kmsg_stop(h);
	h->m = manager_free(h->m);
	if (h->n_clients > 0) {
		for (unsigned i = 0; i < h->n_clients; i++)
			h->clients[i] = sd_bus_flush_close_unref(h->clients[i]);
		h->n_clients = 0;
		h->client = NULL;
	} else
		h->client = sd_bus_flush_close_unref(h->client);
	/* Calls in flight die with the connection: the client sees an error, not a hang. */
	for (unsigned i = 0; i < h->n_calls; i++)
		if (h->calls[i].replies == 0) {
			h->calls[i].replies = 1;
			h->calls[i].error = strdup("(connection closed)");
		}
}

int h_daemon_stop(struct harness *h)
{
	int r;

	if (!h->m)
		return 0;
	manager_begin_exit(h->m);
	for (unsigned i = 0; i < 100000; i++) {
		h_iterate(h);
		if (h_pending_works(h) > 0)
			h_run_work(h, 0);
		if (sd_event_get_state(h->m->event) == SD_EVENT_FINISHED)
			break;
	}
	r = sd_event_get_state(h->m->event) == SD_EVENT_FINISHED ? 0 : -ETIMEDOUT;
	if (r < 0)
		violation(h, "daemon did not exit after SIGTERM");
	h_daemon_kill(h);
	return r;
}

int h_reload(struct harness *h)
{
	_cleanup_strv_free_ char **messages = NULL;

	if (!h->m)
		return -ESRCH;
	return manager_reload(h->m, &messages);
}

bool h_iterate(struct harness *h)
{
	int r;

	if (!h->m || sd_event_get_state(h->m->event) == SD_EVENT_FINISHED)
		return false;
	/* Records were dropped: the daemon's next read of the log fails with EPIPE. */
	if (__atomic_exchange_n(&h->kmsg_overflow, 0, __ATOMIC_SEQ_CST)) {
		h->kmsg_lost = true;
		h_kmsg_overrun(h);
	}
	r = sd_event_run(h->m->event, 0);
	return r > 0;
}

bool h_wait_idle(struct harness *h)
{
	for (unsigned i = 0; i < 1000 && h->m; i++) {
		if (manager_is_idle(h->m) && !h_iterate(h))
			return true;
		(void) sd_event_run(h->m->event, 10000);
	}
	return false;
}

size_t h_pending_works(struct harness *h)
{
	return h->m ? worker_pool_pending(h->m->workers) : 0;
}

void h_run_work(struct harness *h, size_t i)
{
	if (h->m)
		worker_pool_run(h->m->workers, i);
}

static bool calls_unanswered(struct harness *h)
{
	for (unsigned i = 0; i < h->n_calls; i++)
		if (h->calls[i].replies == 0)
			return true;
	return false;
}

void h_settle(struct harness *h, bool run_works)
{
	for (unsigned n = 0; n < 100000; n++) {
		bool moved = false;

		for (unsigned k = 0; k < 64 && h_iterate(h); k++)
			moved = true;
		if (run_works && h_pending_works(h) > 0) {
			h_run_work(h, 0);
			moved = true;
		}
		/* Through a dbus-daemon, a call or its reply may still be on its way. */
		for (unsigned k = 0; !moved && h->bus_daemon && h->m && h_pending_works(h) == 0 &&
				     calls_unanswered(h) && k < 200;
		     k++)
			moved = sd_event_run(h->m->event, 10000) > 0;
		if (!moved)
			return;
	}
	violation(h, "the daemon never settles");
}

/* ---- the client ---- */

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct h_call *call = userdata;

	call->replies++;
	if (sd_bus_message_is_method_error(reply, NULL)) {
		free(call->error);
		call->error = strdup(sd_bus_message_get_error(reply)->name);
	}
	if (call->replies > 1 && current)
		violation(current, "call %u (%s) answered %u times", call->id, call->what,
			  call->replies);
	return 0;
}

static unsigned h_call_path(struct harness *h, const char *path, const char *interface,
			    const char *method, const char *arg, const char *what)
{
	struct h_call *call;
	sd_bus *client;
	int r;

	if (!h->m || !h->client || h->n_calls >= H_MAX_CALLS)
		return 0;
	call = &h->calls[h->n_calls];
	call->id = ++h->n_calls;
	call->what = strdup(what);
	/* Several clients, where there is a bus: each call from the next one. */
	client = h->n_clients > 0 ? h->clients[call->id % h->n_clients] : h->client;
	if (arg)
		r = sd_bus_call_method_async(client, NULL, destination(h), path, interface, method,
					     on_reply, call, "s", arg);
	else
		r = sd_bus_call_method_async(client, NULL, destination(h), path, interface, method,
					     on_reply, call, "");
	if (r < 0) {
		call->replies = 1;
		call->error = strdup("(not sent)");
	}
	return call->id;
}

unsigned h_call(struct harness *h, const char *core, const char *method, const char *arg)
{
	_cleanup_free_ char *path = NULL, *what = strdup_printf("%s %s", method, core);

	if (sd_bus_path_encode(CORE_PATH_PREFIX, core, &path) < 0)
		return 0;
	return h_call_path(h, path, CORE_INTERFACE, method, arg, what ? what : method);
}

unsigned h_call_manager(struct harness *h, const char *method)
{
	return h_call_path(h, "/org/rprocd1", "org.rprocd1.Manager", method, NULL, method);
}

const struct h_call *h_get_call(struct harness *h, unsigned id)
{
	return id > 0 && id <= h->n_calls ? &h->calls[id - 1] : NULL;
}

struct h_reply {
	bool done;
	sd_bus_message *msg;
};

static int on_sync_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct h_reply *r = userdata;

	r->done = true;
	r->msg = sd_bus_message_ref(reply);
	return 0;
}

/* A call answered before it returns: the daemon shares this thread's loop. */
static sd_bus_message *h_call_wait(struct harness *h, const char *path, const char *interface,
				   const char *method, const char *types, const char *a1,
				   const char *a2)
{
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	struct h_reply rep = {};
	int r;

	if (!h->m)
		return NULL;
	if (types)
		r = sd_bus_call_method_async(h->client, &slot, destination(h), path, interface,
					     method, on_sync_reply, &rep, types, a1, a2);
	else
		r = sd_bus_call_method_async(h->client, &slot, destination(h), path, interface,
					     method, on_sync_reply, &rep, "");
	if (r < 0)
		return NULL;
	for (unsigned i = 0; i < 100000 && !rep.done; i++)
		if (!h_iterate(h))
			(void) sd_event_run(h->m->event, 1000);
	return rep.msg;
}

char *h_get_property(struct harness *h, const char *core, const char *property)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *path = NULL;
	const char *contents = NULL, *s = NULL;
	char type;
	int r;

	if (sd_bus_path_encode(CORE_PATH_PREFIX, core, &path) < 0)
		return NULL;
	reply = h_call_wait(h, path, "org.freedesktop.DBus.Properties", "Get", "ss", CORE_INTERFACE,
			    property);
	if (!reply || sd_bus_message_is_method_error(reply, NULL))
		return NULL;
	r = sd_bus_message_peek_type(reply, &type, &contents);
	if (r <= 0 || sd_bus_message_enter_container(reply, 'v', contents) < 0)
		return NULL;
	switch (contents[0]) {
	case 's':
		if (sd_bus_message_read(reply, "s", &s) < 0)
			return NULL;
		return strdup(s);
	case 'u': {
		uint32_t u;

		if (sd_bus_message_read(reply, "u", &u) < 0)
			return NULL;
		return strdup_printf("%u", u);
	}
	case 'b': {
		int b;

		if (sd_bus_message_read(reply, "b", &b) < 0)
			return NULL;
		return strdup(b ? "yes" : "no");
	}
	default:
		return strdup("?");
	}
}

int h_managed_objects(struct harness *h, char ***ret_names, char ***ret_states)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_strv_free_ char **names = NULL, **states = NULL;
	int r;

	reply = h_call_wait(h, "/org/rprocd1", "org.freedesktop.DBus.ObjectManager",
			    "GetManagedObjects", NULL, NULL, NULL);
	if (!reply)
		return -EIO;
	if (sd_bus_message_is_method_error(reply, NULL)) {
		violation(h, "GetManagedObjects failed: %s",
			  sd_bus_message_get_error(reply)->message);
		return -EIO;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read(reply, "o", &path);
		if (r < 0)
			break;
		r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
		while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
			const char *iface;

			r = sd_bus_message_read(reply, "s", &iface);
			if (r < 0)
				break;
			if (!streq(iface, CORE_INTERFACE)) {
				r = sd_bus_message_skip(reply, "a{sv}");
				if (r >= 0)
					r = sd_bus_message_exit_container(reply);
				continue;
			}
			r = sd_bus_message_enter_container(reply, 'a', "{sv}");
			while (r >= 0 &&
			       (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
				const char *prop, *v;

				r = sd_bus_message_read(reply, "s", &prop);
				if (r < 0)
					break;
				if (streq(prop, "Name") || streq(prop, "State")) {
					r = sd_bus_message_read(reply, "v", "s", &v);
					if (r >= 0)
						r = strv_extend(
							streq(prop, "Name") ? &names : &states, v);
				} else
					r = sd_bus_message_skip(reply, "v");
				if (r >= 0)
					r = sd_bus_message_exit_container(reply);
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r < 0)
		return r;
	*ret_names = TAKE_PTR(names);
	*ret_states = TAKE_PTR(states);
	return 0;
}

struct core *h_core(struct harness *h, const char *name)
{
	return h->m ? manager_find_core(h->m, name) : NULL;
}

/* ---- invariants ---- */

bool h_check(struct harness *h, bool settled)
{
	if (h->violation[0])
		return false;
	if (!h->m)
		return true;
	for (size_t i = 0; i < h->m->n_cores; i++) {
		struct core *c = h->m->cores[i];
		struct h_dev_obs *o = obs_for(h, rproc_device_get_sysname(c->dev));

		/* Every transition into "crashed" that a read showed is counted, once. */
		if (o && c->crash_count < o->crash_reads) {
			violation(h, "%s: %u crashes seen by reads, CrashCount %u", c->name,
				  o->crash_reads, c->crash_count);
			return false;
		}
	}
	if (!settled)
		return true;

	for (unsigned i = 0; i < h->n_calls; i++)
		if (h->calls[i].replies != 1) {
			violation(h, "call %u (%s) answered %u times once settled", h->calls[i].id,
				  h->calls[i].what, h->calls[i].replies);
			return false;
		}
	for (size_t i = 0; i < h->m->n_cores; i++) {
		struct core *c = h->m->cores[i];
		struct h_dev_obs *o = obs_for(h, rproc_device_get_sysname(c->dev));
		enum rproc_state s;

		/* Without the log, a crash is counted only from what the daemon saw. */
		if (o && !h->kmsg &&
		    c->crash_count >
			    o->crash_reads +
				    kmodel_dumps_taken(h->km, rproc_device_get_sysname(c->dev))) {
			violation(h, "%s: CrashCount %u, but only %u crashes seen and %u dumps",
				  c->name, c->crash_count, o->crash_reads,
				  kmodel_dumps_taken(h->km, rproc_device_get_sysname(c->dev)));
			return false;
		}
		if (kmodel_peek_state(h->km, rproc_device_get_sysname(c->dev), &s) < 0)
			continue;
		/*
		 * With the kernel log read and nothing lost: every crash the kernel
		 * handled since the core appeared is counted, exactly once, with the
		 * type it reported.
		 */
		if (o && o->any_read && h->kmsg && !h->m->exiting) {
			int id = kmodel_find(h->km, rproc_device_get_sysname(c->dev));
			struct kmodel_info info;

			if (id >= 0 && kmodel_info(h->km, id, &info) >= 0) {
				unsigned want = info.crashes - (unsigned) o->crashes_base +
						(o->first_crashed ? 1 : 0);
				static const char *const types[] = { "mmufault", "watchdog",
								     "fatal error" };

				/*
				 * Never more than happened (a dump left by an earlier
				 * crash counts it, once), even with records lost.
				 */
				if (c->crash_count > want + (unsigned) o->dumps_base ||
				    (!h->kmsg_lost && c->crash_count < want)) {
					violation(h,
						  "%s: the kernel handled %u crashes since it "
						  "appeared%s, "
						  "CrashCount %u",
						  c->name,
						  info.crashes - (unsigned) o->crashes_base,
						  o->first_crashed ? " (found crashed)" : "",
						  c->crash_count);
					return false;
				}
				if (!h->kmsg_lost && info.crashes > (unsigned) o->crashes_base &&
				    info.index < ELEMENTSOF(h->crash_type_to) &&
				    h->crash_type_to[info.index] == h->generation &&
				    !streq_ptr(c->crash_reason, types[info.last_crash_type % 3])) {
					violation(h,
						  "%s: CrashReason \"%s\", the kernel said \"%s\"",
						  c->name, strempty(c->crash_reason),
						  types[info.last_crash_type % 3]);
					return false;
				}
			}
		}
		/* OnCrash=restart: a crashed core is recovered unless the limit says no. */
		/* (Start=no leaves a core found crashed alone until asked: not ours yet.) */
		if (core_is_managed(c) && c->config->settings.on_crash == RPROC_CRASH_RESTART &&
		    !(c->config->settings.start == RPROC_START_NO && c->origin == ORIGIN_NONE) &&
		    s == RPROC_STATE_CRASHED && c->state == RPROC_STATE_CRASHED &&
		    !c->start_limit_hit && !c->wedged && !c->last_error && !h->m->exiting) {
			violation(h, "%s: crashed, OnCrash=restart, limit not hit, not restarted",
				  c->name);
			return false;
		}
	}
	/* The bus shows what the kernel has, once things settle. */
	{
		_cleanup_strv_free_ char **names = NULL, **states = NULL;

		if (h_managed_objects(h, &names, &states) < 0)
			return false;
		if (strv_length(names) != h->m->n_cores) {
			violation(h, "%zu objects on the bus, %zu cores", strv_length(names),
				  h->m->n_cores);
			return false;
		}
		for (size_t i = 0; names && names[i]; i++) {
			struct core *c = manager_find_core(h->m, names[i]);
			enum rproc_state s;

			if (!c) {
				violation(h, "bus object %s has no core", names[i]);
				return false;
			}
			if (kmodel_peek_state(h->km, rproc_device_get_sysname(c->dev), &s) >= 0 &&
			    !streq(states[i], rproc_state_to_string(s))) {
				violation(h, "%s: the bus says %s, the kernel %s", names[i],
					  states[i], rproc_state_to_string(s));
				return false;
			}
		}
	}
	return true;
}

void h_forget_device(struct harness *h, const char *sysname);
void h_forget_device(struct harness *h, const char *sysname)
{
	obs_forget(h, sysname);
}

/* ---- devcoredumps: udev's "add" once per dump; a write to data frees it ---- */

void h_deliver_dumps(struct harness *h);
void h_deliver_dumps(struct harness *h)
{
	for (int id = 0; id < 256; id++) {
		_cleanup_free_ char *dir = NULL, *data = NULL, *content = NULL;
		bool seen = false;

		if (!kmodel_sysname(h->km, id))
			continue;
		if (kmodel_dump_pending(h->km, id) <= 0 || kmodel_dump_dir(h->km, id, &dir) < 0)
			continue;
		data = path_join(dir, "data");
		/* rprocd wrote to data: the kernel frees the dump. */
		if (data && read_full_file(data, 64, &content, NULL) >= 0 &&
		    startswith(content, "1")) {
			kmodel_dump_free(h->km, id);
			for (size_t i = 0; i < n_delivered; i++)
				if (streq(delivered[i], dir))
					delivered[i][0] = 0;
			continue;
		}
		for (size_t i = 0; i < n_delivered && !seen; i++)
			seen = streq(delivered[i], dir);
		if (seen || !h->m)
			continue;
		if (n_delivered < ELEMENTSOF(delivered))
			snprintf(delivered[n_delivered++], sizeof(delivered[0]), "%s", dir);
		manager_coredump_added(h->m, dir);
	}
}
