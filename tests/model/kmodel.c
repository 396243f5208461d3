/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A model of the Linux remoteproc core with rproc_sim devices (see kmodel.h).
 * The function names follow the kernel's (drivers/remoteproc/remoteproc_core.c,
 * remoteproc_sysfs.c, remoteproc_cdev.c, remoteproc_coredump.c,
 * drivers/base/devcoredump.c) so that each rule can be checked against them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmodel.h"
#include "util.h"

struct kdev;

struct devcd {
	unsigned n; /* devcdN */
	struct kdev *d;
	char *dir;  /* host path of ROOT/sys/devices/virtual/devcoredump/devcdN */
	char *link; /* host path of ROOT/sys/class/devcoredump/devcdN */
	char *content;
	size_t len;
	struct devcd *next;
};

/* An open file of a chardev (all dups share it): the kernel's struct file. */
struct ofile {
	dev_t st_dev;
	ino_t st_ino;
	struct kdev *d;
	unsigned refs;
	struct ofile *next;
};

struct kdev {
	struct kmodel *m;
	int id;
	char *name;
	char *sysname;
	char *devpath; /* /sys/devices/platform/rproc_sim.K/remoteproc/remoteprocN */
	unsigned index;
	int platform_id;
	bool removed; /* rproc->deleting, and the device is gone from sysfs */

	enum rproc_state state;
	int power;
	char *firmware;
	bool recovery_disabled;
	enum rproc_coredump_mode dump_conf;
	bool put_on_release;
	bool attach_on_recovery;
	bool dump_segments; /* rproc_sim adds its segment in prepare; cleanup empties the list */
	bool table; /* rproc->table_ptr: set by a boot from a firmware with a resource table */
	bool hw_running;
	int fail[_KMODEL_OP_MAX];

	bool crash_queued;    /* rproc_report_crash() queued the handler */
	bool recovery_queued; /* the handler set crashed, recovery not yet run */
	struct devcd *stall;  /* inline dump the recovery waits for (the lock is held) */

	struct kmodel_counters cnt;
	unsigned n_start_while_up, n_start_refonly, n_blocked;
	unsigned crashes, crashes_seen;
	int last_crash_type;
	bool cur_seen;
	unsigned dumps, dumps_dropped;
	unsigned open_files;
};

struct kmodel {
	pthread_mutex_t lock;
	char *root;
	enum kmodel_kernel kver;
	FILE *trace;
	struct kdev **devs;
	size_t n_devs;
	struct devcd *dumps;
	unsigned devcd_count;
	unsigned n_gone; /* sysfs directories of removed devices, kept aside */
	struct ofile *files;
	void (*block_fn)(struct kmodel *m, int id, void *u);
	void *block_u;
	void (*log_fn)(const char *record, size_t len, void *u);
	void *log_u;
	uint64_t log_seq;
	struct kernel kernel;
};

static const char *const op_names[_KMODEL_OP_MAX] = {
	[KMODEL_OP_START] = "start",
	[KMODEL_OP_ATTACH] = "attach",
	[KMODEL_OP_STOP] = "stop",
	[KMODEL_OP_DETACH] = "detach",
};

/* Tracing */

static void trace(struct kmodel *m, const char *fmt, ...) _printf_(2, 3);
static void trace(struct kmodel *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->trace)
		return;
	va_start(ap, fmt);
	fputs("kmodel: ", m->trace);
	vfprintf(m->trace, fmt, ap);
	fputc('\n', m->trace);
	fflush(m->trace);
	va_end(ap);
}

/* The kernel's answer as a word: "0" or the errno's name. */
static const char *ename(int r)
{
	return r == 0 ? "0" : errno_name(r);
}

static void trace_dev(struct kmodel *m, struct kdev *d, const char *what, int r)
{
	if (!m->trace)
		return;
	trace(m, "%s(#%d) %s -> %s [state=%s power=%d fw=%s rec=%s dump=%s sor=%d%s]", d->sysname,
	      d->id, what, ename(r), rproc_state_to_string(d->state), d->power, d->firmware,
	      d->recovery_disabled ? "disabled" : "enabled",
	      rproc_coredump_mode_to_string(d->dump_conf), d->put_on_release,
	      d->removed ? " removed" : "");
}

/* The tree */

static char *host_path(struct kmodel *m, const char *path)
{
	return strdup_printf("%s%s", m->root, path);
}

static int write_file(const char *dir, const char *name, const char *content, size_t len)
{
	_cleanup_free_ char *p = path_join(dir, name);
	_cleanup_close_ int fd = -1;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return negative_errno();
	if (write(fd, content, len) != (ssize_t) len)
		return -EIO;
	return 0;
}

static void write_attr(const char *dir, const char *name, const char *value)
{
	_cleanup_free_ char *s = strdup_printf("%s\n", value);

	if (s)
		(void) write_file(dir, name, s, strlen(s));
}

static int rm_rf(const char *path)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? negative_errno() : 0;
	dir = opendir(path);
	if (!dir)
		return negative_errno();
	while ((de = readdir(dir))) {
		_cleanup_free_ char *p = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		p = path_join(path, de->d_name);
		if (!p)
			return -ENOMEM;
		(void) rm_rf(p);
	}
	return rmdir(path) < 0 ? negative_errno() : 0;
}

static char *dev_dir(struct kmodel *m, struct kdev *d)
{
	return host_path(m, d->devpath);
}

/* The attribute files mirror the model: what sysfs shows (firmware reads "unknown" while attached). */
static void sync_files(struct kmodel *m, struct kdev *d)
{
	_cleanup_free_ char *dir = NULL;

	if (d->removed)
		return;
	dir = dev_dir(m, d);
	if (!dir)
		return;
	write_attr(dir, "state", rproc_state_to_string(d->state));
	write_attr(dir, "firmware", d->state == RPROC_STATE_ATTACHED ? "unknown" : d->firmware);
	write_attr(dir, "recovery", d->recovery_disabled ? "disabled" : "enabled");
	write_attr(dir, "coredump", rproc_coredump_mode_to_string(d->dump_conf));
}

/*
 * The kernel log: what drivers/remoteproc/remoteproc_core.c prints with
 * dev_info()/dev_err() on the rproc device, as a /dev/kmsg record (the
 * chardev's dev_t names the device, as with CONFIG_REMOTEPROC_CDEV).
 */
#define KMODEL_RPROC_MAJOR 240

static void klog(struct kmodel *m, struct kdev *d, int prio, const char *fmt, ...) _printf_(4, 5);
static void klog(struct kmodel *m, struct kdev *d, int prio, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *rec = NULL;
	va_list ap;
	int r;

	if (!m->log_fn)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	rec = strdup_printf("%d,%llu,%llu,-;remoteproc %s: %s\n SUBSYSTEM=remoteproc\n "
			    "DEVICE=c%u:%u\n",
			    prio, (unsigned long long) m->log_seq,
			    (unsigned long long) m->log_seq * 1000, d->sysname, msg,
			    KMODEL_RPROC_MAJOR, d->index);
	m->log_seq++;
	if (rec)
		m->log_fn(rec, strlen(rec), m->log_u);
}

static const char *crash_type_name(int type)
{
	static const char *const names[] = { "mmufault", "watchdog", "fatal error" };

	return type >= 0 && type < 3 ? names[type] : "unknown";
}

/* Lookups */

static struct kdev *dev_by_id(struct kmodel *m, int id)
{
	if (id < 0 || (size_t) id >= m->n_devs)
		return NULL;
	return m->devs[id];
}

/* What a librproc device names: whatever lives at its path now (-ENOENT: the files are gone). */
static struct kdev *dev_by_rproc(struct kmodel *m, struct rproc_device *dev)
{
	const char *p = rproc_device_get_devpath(dev);

	for (size_t i = 0; i < m->n_devs; i++)
		if (!m->devs[i]->removed && streq(m->devs[i]->devpath, p))
			return m->devs[i];
	return NULL;
}

static struct ofile *ofile_by_fd(struct kmodel *m, int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	for (struct ofile *f = m->files; f; f = f->next)
		if (f->st_dev == st.st_dev && f->st_ino == st.st_ino)
			return f;
	return NULL;
}

static unsigned dumps_of(struct kmodel *m, struct kdev *d)
{
	unsigned n = 0;

	for (struct devcd *c = m->dumps; c; c = c->next)
		n += c->d == d;
	return n;
}

/* ida: an index stays allocated until the device's last reference (open files, dumps) is gone. */
static bool index_in_use(struct kmodel *m, unsigned index)
{
	for (size_t i = 0; i < m->n_devs; i++) {
		struct kdev *d = m->devs[i];

		if (d->index == index && (!d->removed || d->open_files > 0 || dumps_of(m, d) > 0))
			return true;
	}
	return false;
}

static bool platform_id_in_use(struct kmodel *m, int id)
{
	for (size_t i = 0; i < m->n_devs; i++)
		if (!m->devs[i]->removed && m->devs[i]->platform_id == id)
			return true;
	return false;
}

/* Crash episodes */

static void mark_seen(struct kdev *d)
{
	if (d->crashes > 0 && !d->cur_seen) {
		d->cur_seen = true;
		d->crashes_seen++;
	}
}

/* The driver (rproc_sim) */

static int sim_take_failure(struct kdev *d, enum kmodel_op op)
{
	int e = d->fail[op];

	d->fail[op] = 0;
	return e > 0 ? -e : 0;
}

static void sim_prepare(struct kdev *d)
{
	d->dump_segments = true;
	d->cnt.prepare++;
}

static int sim_start(struct kdev *d)
{
	int r = sim_take_failure(d, KMODEL_OP_START);

	if (r)
		return r;
	d->hw_running = true;
	d->cnt.start++;
	return 0;
}

static int sim_stop(struct kdev *d)
{
	int r = sim_take_failure(d, KMODEL_OP_STOP);

	if (r)
		return r;
	d->hw_running = false;
	d->cnt.stop++;
	return 0;
}

static int sim_attach(struct kdev *d)
{
	int r = sim_take_failure(d, KMODEL_OP_ATTACH);

	if (r)
		return r;
	d->hw_running = true;
	d->cnt.attach++;
	return 0;
}

static int sim_detach(struct kdev *d)
{
	int r = sim_take_failure(d, KMODEL_OP_DETACH);

	if (r)
		return r;
	d->cnt.detach++;
	return 0;
}

/* rproc_resource_cleanup() and friends: the dump segment list is emptied, no table. */
static void resource_cleanup(struct kdev *d)
{
	d->dump_segments = false;
	d->table = false;
}

/* devcoredump */

static void devcd_free(struct kmodel *m, struct devcd *c, const char *why);

/* dev_coredumpm(): dropped if one of this device is still pending. */
static struct devcd *devcd_create(struct kmodel *m, struct kdev *d)
{
	_cleanup_free_ char *name = NULL, *vpath = NULL, *cpath = NULL, *target = NULL;
	struct devcd *c;

	if (dumps_of(m, d) > 0) {
		d->dumps_dropped++;
		trace(m, "%s: coredump dropped (one is pending)", d->sysname);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n = ++m->devcd_count;
	c->d = d;
	name = strdup_printf("devcd%u", c->n);
	vpath = strdup_printf("/sys/devices/virtual/devcoredump/%s", name);
	cpath = strdup_printf("/sys/class/devcoredump/%s", name);
	target = strdup_printf("../../..%s", d->devpath + strlen("/sys/devices"));
	c->content = strdup_printf("\177ELF kmodel coredump of %s (%s), crash %u, dump %u\n",
				   d->sysname, d->name, d->crashes, c->n);
	if (!name || !vpath || !cpath || !target || !c->content)
		goto fail;
	c->len = strlen(c->content);
	c->dir = host_path(m, vpath);
	c->link = host_path(m, cpath);
	if (!c->dir || !c->link || mkdir_p(c->dir, 0755) < 0)
		goto fail;
	{
		_cleanup_free_ char *fl = path_join(c->dir, "failing_device");
		_cleanup_free_ char *cdir = host_path(m, "/sys/class/devcoredump");
		_cleanup_free_ char *ctarget =
			strdup_printf("../../devices/virtual/devcoredump/%s", name);

		if (!fl || !cdir || !ctarget || symlink(target, fl) < 0 ||
		    write_file(c->dir, "data", c->content, c->len) < 0 || mkdir_p(cdir, 0755) < 0 ||
		    symlink(ctarget, c->link) < 0)
			goto fail;
	}
	c->next = m->dumps;
	m->dumps = c;
	d->dumps++;
	mark_seen(d);
	trace(m, "%s: coredump %s created", d->sysname, name);
	return c;
fail:
	if (c->dir)
		(void) rm_rf(c->dir);
	if (c->link)
		(void) unlink(c->link);
	free(c->dir);
	free(c->link);
	free(c->content);
	free(c);
	return NULL;
}

#define FW_MAGIC       "\177ELF kmodel firmware"
#define FW_MAGIC_NORSC FW_MAGIC " norsc\n"

/* request_firmware() and rproc_elf_sanity_check(): *ret_rsc for an image with a resource table */
static int request_firmware(struct kmodel *m, struct kdev *d, bool *ret_rsc)
{
	_cleanup_free_ char *p = NULL, *name = strdup_printf("/lib/firmware/%s", d->firmware);
	char magic[sizeof(FW_MAGIC_NORSC) - 1];
	struct rproc_ctx *ctx = NULL;
	struct stat st;
	int fd, r;
	ssize_t n;

	if (!name)
		return -ENOMEM;
	/* The kernel resolves links in its own root: an image's absolute links lead into it. */
	r = rproc_ctx_new(m->root, &ctx);
	if (r < 0)
		return r;
	r = rproc_ctx_chase(ctx, name, 0, &p, NULL);
	rproc_ctx_unref(ctx);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || stat(p, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	/* rproc_elf_sanity_check(): the magic is enough for the model */
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n < 4 || memcmp(magic, "\177ELF", 4) != 0)
		return -EINVAL;
	/* any other ELF file counts as one with a resource table, as the test firmware */
	*ret_rsc = !(n == (ssize_t) sizeof(magic) && memcmp(magic, FW_MAGIC_NORSC, n) == 0);
	return 0;
}

/* rproc_start(): load the segments (the loaded resource table becomes table_ptr), start. */
static int rproc_start(struct kdev *d, bool rsc)
{
	bool table = d->table;
	int r;

	d->cnt.load++;
	if (rsc)
		d->table = true;
	r = sim_start(d);
	if (r) {
		d->table = table; /* back to the cached table */
		return r;
	}
	d->state = RPROC_STATE_RUNNING;
	klog(d->m, d, 6, "remote processor %s is now up", d->name);
	return 0;
}

/* rproc_fw_boot() after request_firmware(): prepare, parse (the cached table), start. */
static int rproc_fw_boot(struct kdev *d, bool rsc)
{
	int r;

	klog(d->m, d, 6, "Booting fw image %s, size %zu", d->firmware, (size_t) 4096);
	sim_prepare(d);
	d->table = rsc;
	r = rproc_start(d, rsc);
	if (r)
		resource_cleanup(d);
	return r;
}

/* __rproc_attach() */
static int __rproc_attach(struct kdev *d)
{
	int r = sim_attach(d);

	if (r)
		return r;
	d->state = RPROC_STATE_ATTACHED;
	klog(d->m, d, 6, "remote processor %s is now attached", d->name);
	return 0;
}

/* rproc_attach(): prepare, the loaded table (rproc_sim has none), then __rproc_attach() */
static int rproc_attach(struct kdev *d)
{
	int r;

	sim_prepare(d);
	d->table = false;
	r = __rproc_attach(d);
	if (r)
		resource_cleanup(d);
	return r;
}

static int rproc_stop(struct kdev *d)
{
	int r = sim_stop(d);

	if (r)
		return r;
	d->state = RPROC_STATE_OFFLINE;
	klog(d->m, d, 6, "stopped remote processor %s", d->name);
	return 0;
}

static int __rproc_detach(struct kdev *d)
{
	int r;

	/*
	 * rproc_reset_rsc_table_on_detach(): a table without the clean copy
	 * that only an attach makes is a WARN_ON and EINVAL (a core Linux booted).
	 */
	if (d->table)
		return -EINVAL;
	r = sim_detach(d);
	if (r)
		return r;
	d->state = RPROC_STATE_DETACHED;
	klog(d->m, d, 6, "detached remote processor %s", d->name);
	return 0;
}

/* The second half of rproc_boot_recovery(), after the coredump. */
static int boot_recovery_finish(struct kmodel *m, struct kdev *d)
{
	bool rsc = false;
	int r = request_firmware(m, d, &rsc);

	if (r == 0)
		r = rproc_start(d, rsc);
	if (r)
		trace(m, "%s: recovery failed: %s (power reference kept)", d->sysname, ename(r));
	else
		trace(m, "%s: recovered", d->sysname);
	return r;
}

/* rproc_coredump(): nothing without a segment or with dumps disabled; inline waits for the free. */
static void rproc_coredump(struct kmodel *m, struct kdev *d)
{
	struct devcd *c;

	if (!d->dump_segments || d->dump_conf == RPROC_COREDUMP_DISABLED)
		return;
	c = devcd_create(m, d);
	if (c && d->dump_conf == RPROC_COREDUMP_INLINE) {
		d->stall = c;
		trace(m, "%s: recovery waits for devcd%u to be freed", d->sysname, c->n);
	}
}

static int rproc_boot_recovery(struct kmodel *m, struct kdev *d)
{
	int r = rproc_stop(d);

	if (r)
		return r;
	rproc_coredump(m, d);
	if (d->stall)
		return 0; /* goes on in devcd_free() */
	return boot_recovery_finish(m, d);
}

static int rproc_attach_recovery(struct kmodel *m, struct kdev *d)
{
	int r = __rproc_detach(d);

	if (r)
		return r;
	if (m->kver == KMODEL_KERNEL_6_1)
		return __rproc_attach(d);
	/* 6.12: the resources are released and rproc_attach() prepares again */
	resource_cleanup(d);
	return rproc_attach(d);
}

static void devcd_free(struct kmodel *m, struct devcd *c, const char *why)
{
	struct kdev *d = c->d;

	for (struct devcd **p = &m->dumps; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	(void) unlink(c->link);
	(void) rm_rf(c->dir);
	trace(m, "%s: devcd%u freed (%s)", d->sysname, c->n, why);
	if (d->stall == c) {
		d->stall = NULL;
		(void) boot_recovery_finish(m, d);
		sync_files(m, d);
	}
	free(c->dir);
	free(c->link);
	free(c->content);
	free(c);
}

/* A write to data (devcd_data_write) frees the dump: seen as a changed or missing data file. */
static void poll_dumps(struct kmodel *m)
{
	struct devcd *c = m->dumps, *next;

	for (; c; c = next) {
		_cleanup_free_ char *p = path_join(c->dir, "data");
		_cleanup_free_ char *s = NULL;
		size_t len = 0;

		next = c->next;
		if (!p)
			continue;
		if (read_full_file(p, 1 << 20, &s, &len) < 0 || len != c->len ||
		    memcmp(s, c->content, len) != 0) {
			devcd_free(m, c, "data written");
			next = m->dumps; /* the list changed: start over */
		}
	}
}

/*
 * mutex_lock(&rproc->lock): held by a recovery waiting for an inline dump.
 * The block handler may free it; else the 5-minute timer does.
 */
static void rproc_lock(struct kmodel *m, struct kdev *d)
{
	poll_dumps(m);
	while (d->stall) {
		if (m->block_fn) {
			void (*fn)(struct kmodel *, int, void *) = m->block_fn;

			pthread_mutex_unlock(&m->lock);
			fn(m, d->id, m->block_u);
			pthread_mutex_lock(&m->lock);
			poll_dumps(m);
		}
		if (d->stall) {
			d->n_blocked++;
			devcd_free(m, d->stall, "timeout: a writer blocked on it");
		}
	}
}

/* The core's entry points */

static int rproc_trigger_recovery(struct kmodel *m, struct kdev *d)
{
	rproc_lock(m, d);
	if (d->removed)
		return -ENODEV;
	if (d->state != RPROC_STATE_CRASHED)
		return 0;
	trace(m, "%s: recovering", d->sysname);
	klog(m, d, 3, "recovering %s", d->name);
	if (d->attach_on_recovery)
		return rproc_attach_recovery(m, d);
	return rproc_boot_recovery(m, d);
}

static void rproc_crash_handler_work(struct kmodel *m, struct kdev *d, bool hold_recovery)
{
	d->crash_queued = false;
	rproc_lock(m, d);
	if (d->removed)
		return;
	if (d->state == RPROC_STATE_CRASHED || d->state == RPROC_STATE_OFFLINE)
		return;
	d->state = RPROC_STATE_CRASHED;
	d->crashes++;
	d->cur_seen = false;
	trace(m, "%s: handling crash #%u", d->sysname, d->crashes);
	klog(m, d, 3, "handling crash #%u in %s", d->crashes, d->name);
	if (d->recovery_disabled)
		return;
	if (hold_recovery)
		d->recovery_queued = true;
	else
		(void) rproc_trigger_recovery(m, d);
}

static bool is_up(enum rproc_state s)
{
	return s == RPROC_STATE_RUNNING || s == RPROC_STATE_ATTACHED || s == RPROC_STATE_CRASHED;
}

static int rproc_boot(struct kmodel *m, struct kdev *d)
{
	int r;

	rproc_lock(m, d);
	if (d->removed)
		return -ENODEV;
	if (is_up(d->state))
		d->n_start_while_up++;
	if (++d->power > 1) {
		d->n_start_refonly++;
		return 0;
	}
	klog(m, d, 6, d->state == RPROC_STATE_DETACHED ? "attaching to %s" : "powering up %s",
	     d->name);
	if (d->state == RPROC_STATE_DETACHED)
		r = rproc_attach(d);
	else {
		bool rsc = false;

		r = request_firmware(m, d, &rsc);
		if (r == 0)
			r = rproc_fw_boot(d, rsc);
	}
	if (r)
		d->power--;
	return r;
}

static int rproc_shutdown(struct kmodel *m, struct kdev *d)
{
	int r;

	rproc_lock(m, d);
	if (!is_up(d->state))
		return -EINVAL;
	if (--d->power > 0)
		return 0;
	r = rproc_stop(d);
	if (r) {
		d->power++;
		return r;
	}
	resource_cleanup(d);
	return 0;
}

static int rproc_detach(struct kmodel *m, struct kdev *d)
{
	int r;

	rproc_lock(m, d);
	if (d->state != RPROC_STATE_ATTACHED)
		return -EINVAL;
	if (--d->power > 0)
		return 0;
	r = __rproc_detach(d);
	if (r) {
		d->power++;
		return r;
	}
	resource_cleanup(d);
	return 0;
}

static int do_command(struct kmodel *m, struct kdev *d, enum rproc_command cmd)
{
	switch (cmd) {
	case RPROC_CMD_START:
		return rproc_boot(m, d);
	case RPROC_CMD_STOP:
		return rproc_shutdown(m, d);
	case RPROC_CMD_DETACH:
		return rproc_detach(m, d);
	default:
		return -EINVAL;
	}
}

/* The ops */

#define LOCKED(m) pthread_mutex_lock(&(m)->lock)
#define UNLOCK(m) pthread_mutex_unlock(&(m)->lock)

static int op_read_state(void *u, struct rproc_device *dev, enum rproc_state *ret)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d)
		r = -ENOENT;
	else {
		*ret = d->state;
		if (d->state == RPROC_STATE_CRASHED)
			mark_seen(d);
	}
	UNLOCK(m);
	return r;
}

static int op_read_firmware(void *u, struct rproc_device *dev, char **ret)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d)
		r = -ENOENT;
	else {
		*ret = strdup(d->state == RPROC_STATE_ATTACHED ? "unknown" : d->firmware);
		if (!*ret)
			r = -ENOMEM;
	}
	UNLOCK(m);
	return r;
}

static int op_read_recovery(void *u, struct rproc_device *dev, bool *ret)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d)
		r = -ENOENT;
	else
		*ret = !d->recovery_disabled;
	UNLOCK(m);
	return r;
}

static int op_read_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode *ret)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d)
		r = -ENOENT;
	else
		*ret = d->dump_conf;
	UNLOCK(m);
	return r;
}

static int op_write_firmware(void *u, struct rproc_device *dev, const char *name)
{
	struct kmodel *m = u;
	struct kdev *d;
	size_t len;
	int r = 0;

	if (!name || !*name) /* librproc refuses it before the kernel */
		return -EINVAL;
	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d) {
		r = -ENOENT;
		goto out;
	}
	/* rproc_set_firmware() */
	rproc_lock(m, d);
	len = strcspn(name, "\n");
	if (d->state != RPROC_STATE_OFFLINE)
		r = -EBUSY;
	else if (len == 0)
		r = -EINVAL;
	else {
		char *p = strndup(name, len);

		if (!p)
			r = -ENOMEM;
		else {
			free(d->firmware);
			d->firmware = p;
		}
	}
	trace_dev(m, d, "write firmware", r);
	sync_files(m, d);
out:
	UNLOCK(m);
	return r;
}

static int op_write_recovery(void *u, struct rproc_device *dev, enum rproc_recovery_cmd cmd)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	if ((unsigned) cmd >= _RPROC_RECOVERY_MAX)
		return -EINVAL;
	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d) {
		r = -ENOENT;
		goto out;
	}
	/* recovery_store(): the recovery's result is not returned */
	switch (cmd) {
	case RPROC_RECOVERY_ENABLED:
		d->recovery_disabled = false;
		(void) rproc_trigger_recovery(m, d);
		break;
	case RPROC_RECOVERY_DISABLED:
		d->recovery_disabled = true;
		break;
	default:
		(void) rproc_trigger_recovery(m, d);
		break;
	}
	/* The writer waits for a recovery it started that stalls on an inline dump. */
	if (cmd != RPROC_RECOVERY_DISABLED && d->stall)
		rproc_lock(m, d);
	trace_dev(m, d,
		  cmd == RPROC_RECOVERY_ENABLED	   ? "write recovery enabled"
		  : cmd == RPROC_RECOVERY_DISABLED ? "write recovery disabled"
						   : "write recovery recover",
		  r);
	sync_files(m, d);
out:
	UNLOCK(m);
	return r;
}

static int op_write_coredump(void *u, struct rproc_device *dev, enum rproc_coredump_mode mode)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r = 0;

	if ((unsigned) mode >= _RPROC_COREDUMP_MAX)
		return -EINVAL;
	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d) {
		r = -ENOENT;
		goto out;
	}
	/* coredump_store() takes no lock */
	if (d->state == RPROC_STATE_CRASHED)
		r = -EBUSY;
	else
		d->dump_conf = mode;
	trace_dev(m, d, "write coredump", r);
	sync_files(m, d);
out:
	UNLOCK(m);
	return r;
}

static int op_request(void *u, struct rproc_device *dev, enum rproc_command cmd)
{
	struct kmodel *m = u;
	struct kdev *d;
	int r;

	if ((unsigned) cmd >= _RPROC_CMD_MAX)
		return -EINVAL;
	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d)
		r = -ENOENT;
	else {
		r = do_command(m, d, cmd);
		if (m->trace) {
			char what[32];

			snprintf(what, sizeof(what), "sysfs %s", rproc_command_to_string(cmd));
			trace_dev(m, d, what, r);
		}
		sync_files(m, d);
	}
	UNLOCK(m);
	return r;
}

static int op_cdev_open(void *u, struct rproc_device *dev)
{
	struct kmodel *m = u;
	struct ofile *f = NULL;
	struct kdev *d;
	struct stat st;
	int fd = -1, r;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_rproc(m, dev);
	if (!d) {
		r = -ENOENT;
		goto out;
	}
	fd = memfd_create(d->sysname, MFD_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f || fstat(fd, &st) < 0) {
		r = -ENOMEM;
		free(f);
		close(fd);
		goto out;
	}
	f->st_dev = st.st_dev;
	f->st_ino = st.st_ino;
	f->d = d;
	f->refs = 1;
	f->next = m->files;
	m->files = f;
	d->open_files++;
	r = fd;
	trace(m, "%s: chardev opened (fd %d)", d->sysname, fd);
out:
	UNLOCK(m);
	return r;
}

static int op_cdev_request(void *u, int fd, enum rproc_command cmd)
{
	struct kmodel *m = u;
	struct ofile *f;
	int r;

	if ((unsigned) cmd >= _RPROC_CMD_MAX)
		return -EINVAL;
	LOCKED(m);
	poll_dumps(m);
	f = ofile_by_fd(m, fd);
	if (!f)
		r = -EBADF;
	else {
		r = do_command(m, f->d, cmd);
		if (m->trace) {
			char what[32];

			snprintf(what, sizeof(what), "cdev %s", rproc_command_to_string(cmd));
			trace_dev(m, f->d, what, r);
		}
		sync_files(m, f->d);
	}
	UNLOCK(m);
	return r;
}

static int op_cdev_set_sor(void *u, int fd, bool enable)
{
	struct kmodel *m = u;
	struct ofile *f;
	int r = 0;

	LOCKED(m);
	f = ofile_by_fd(m, fd);
	if (!f)
		r = -EBADF;
	else {
		f->d->put_on_release = enable;
		trace_dev(m, f->d,
			  enable ? "cdev shutdown-on-release 1" : "cdev shutdown-on-release 0", 0);
	}
	UNLOCK(m);
	return r;
}

/* rproc_cdev_release(): reads the state without the lock. */
static void rproc_cdev_release(struct kmodel *m, struct kdev *d)
{
	int r = 0;

	if (!d->put_on_release)
		return;
	poll_dumps(m);
	if (d->state == RPROC_STATE_RUNNING)
		r = rproc_shutdown(m, d);
	else if (d->state == RPROC_STATE_ATTACHED)
		r = rproc_detach(m, d);
	trace_dev(m, d, "cdev release", r);
	sync_files(m, d);
}

static void op_cdev_close(void *u, int fd)
{
	struct kmodel *m = u;
	struct ofile *f;

	if (fd < 0)
		return;
	LOCKED(m);
	f = ofile_by_fd(m, fd);
	close(fd);
	if (f && --f->refs == 0) {
		struct kdev *d = f->d;

		for (struct ofile **p = &m->files; *p; p = &(*p)->next)
			if (*p == f) {
				*p = f->next;
				break;
			}
		free(f);
		d->open_files--;
		trace(m, "%s: last close of a chardev file", d->sysname);
		rproc_cdev_release(m, d);
	}
	UNLOCK(m);
}

static bool op_cdev_is_device(void *u, int fd, struct rproc_device *dev)
{
	struct kmodel *m = u;
	struct ofile *f;
	bool r;

	LOCKED(m);
	f = ofile_by_fd(m, fd);
	r = f && !f->d->removed && f->d == dev_by_rproc(m, dev);
	UNLOCK(m);
	return r;
}

static const struct kernel_ops model_ops = {
	.read_state = op_read_state,
	.read_firmware = op_read_firmware,
	.read_recovery = op_read_recovery,
	.read_coredump = op_read_coredump,
	.write_firmware = op_write_firmware,
	.write_recovery = op_write_recovery,
	.write_coredump = op_write_coredump,
	.request = op_request,
	.cdev_open = op_cdev_open,
	.cdev_request = op_cdev_request,
	.cdev_set_shutdown_on_release = op_cdev_set_sor,
	.cdev_close = op_cdev_close,
	.cdev_is_device = op_cdev_is_device,
};

/* The public API */

int kmodel_new(const char *root, struct kmodel **ret)
{
	struct kmodel *m;
	_cleanup_free_ char *p = NULL;
	int r;

	if (!root || !ret)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->kver = KMODEL_KERNEL_6_12;
	m->root = strdup(root);
	m->kernel.ops = &model_ops;
	m->kernel.userdata = m;
	if (!m->root) {
		kmodel_free(m);
		return -ENOMEM;
	}
	/* the trailing slash of "/tmp/x/" would double in paths */
	while (strlen(m->root) > 1 && m->root[strlen(m->root) - 1] == '/')
		m->root[strlen(m->root) - 1] = 0;
	static const char *const dirs[] = { "/sys/class/remoteproc", "/sys/devices/platform",
					    "/sys/class/devcoredump", "/lib/firmware" };
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		free(p);
		p = host_path(m, dirs[i]);
		r = p ? mkdir_p(p, 0755) : -ENOMEM;
		if (r < 0) {
			kmodel_free(m);
			return r;
		}
	}
	*ret = m;
	return 0;
}

struct kmodel *kmodel_free(struct kmodel *m)
{
	if (!m)
		return NULL;
	while (m->files) {
		struct ofile *f = m->files;

		m->files = f->next;
		free(f);
	}
	while (m->dumps) {
		struct devcd *c = m->dumps;

		m->dumps = c->next;
		free(c->dir);
		free(c->link);
		free(c->content);
		free(c);
	}
	for (size_t i = 0; i < m->n_devs; i++) {
		free(m->devs[i]->name);
		free(m->devs[i]->sysname);
		free(m->devs[i]->devpath);
		free(m->devs[i]->firmware);
		free(m->devs[i]);
	}
	free(m->devs);
	free(m->root);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

void kmodel_set_kernel(struct kmodel *m, enum kmodel_kernel k)
{
	LOCKED(m);
	m->kver = k;
	UNLOCK(m);
}

void kmodel_set_trace(struct kmodel *m, FILE *f)
{
	LOCKED(m);
	m->trace = f;
	UNLOCK(m);
}

const struct kernel *kmodel_kernel(struct kmodel *m)
{
	return &m->kernel;
}

const char *kmodel_root(struct kmodel *m)
{
	return m->root;
}

void kmodel_set_log(struct kmodel *m, void (*fn)(const char *record, size_t len, void *u),
		    void *userdata)
{
	LOCKED(m);
	m->log_fn = fn;
	m->log_u = userdata;
	UNLOCK(m);
}

void kmodel_set_block_handler(struct kmodel *m, void (*fn)(struct kmodel *m, int id, void *u),
			      void *userdata)
{
	LOCKED(m);
	m->block_fn = fn;
	m->block_u = userdata;
	UNLOCK(m);
}

static int add_locked(struct kmodel *m, const struct kmodel_opts *o)
{
	_cleanup_free_ char *dir = NULL, *link = NULL, *target = NULL;
	struct kdev *d, **nd;
	unsigned index = 0;
	int pid = o->platform_id, r;

	if (!o->name || !*o->name || strchr(o->name, '\n'))
		return -EINVAL;
	while (index_in_use(m, index))
		index++;
	if (pid < 0)
		for (pid = 0; platform_id_in_use(m, pid); pid++)
			;
	else if (platform_id_in_use(m, pid))
		return -EEXIST;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	nd = realloc(m->devs, sizeof(*nd) * (m->n_devs + 1));
	if (!nd) {
		free(d);
		return -ENOMEM;
	}
	m->devs = nd;
	d->m = m;
	d->id = (int) m->n_devs;
	m->devs[m->n_devs++] = d;
	d->index = index;
	d->platform_id = pid;
	d->name = strdup(o->name);
	d->sysname = strdup_printf("remoteproc%u", index);
	d->devpath = strdup_printf("/sys/devices/platform/rproc_sim.%d/remoteproc/remoteproc%u",
				   pid, index);
	d->firmware = o->firmware ? strdup(o->firmware) : strdup_printf("rproc-%s-fw", o->name);
	d->dump_conf = RPROC_COREDUMP_DISABLED;
	d->attach_on_recovery = o->flags & KMODEL_ATTACH_ON_RECOVERY;
	if (o->flags & KMODEL_DETACHED) {
		d->state = RPROC_STATE_DETACHED;
		d->hw_running = true;
	}
	if (!d->name || !d->sysname || !d->devpath || !d->firmware)
		return -ENOMEM; /* the device stays, removed */

	dir = dev_dir(m, d);
	link = strdup_printf("%s/sys/class/remoteproc/%s", m->root, d->sysname);
	target =
		strdup_printf("../../devices/platform/rproc_sim.%d/remoteproc/%s", pid, d->sysname);
	if (!dir || !link || !target)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	write_attr(dir, "name", d->name);
	{
		_cleanup_free_ char *devnum = strdup_printf("%u:%u", KMODEL_RPROC_MAJOR, d->index);

		if (devnum)
			write_attr(dir, "dev", devnum);
	}
	(void) unlink(link);
	if (symlink(target, link) < 0)
		return negative_errno();
	klog(m, d, 6, "%s is available", d->name);
	/* rproc_add(): auto_boot boots (or attaches) the core; a failure leaves it as it was */
	if (o->flags & KMODEL_AUTO_BOOT)
		r = rproc_boot(m, d);
	trace_dev(m, d, "added", 0);
	sync_files(m, d);
	return d->id;
}

int kmodel_add_opts(struct kmodel *m, const struct kmodel_opts *o)
{
	int r;

	LOCKED(m);
	r = add_locked(m, o);
	UNLOCK(m);
	return r;
}

int kmodel_add(struct kmodel *m, const char *name, unsigned flags)
{
	struct kmodel_opts o = { .name = name, .flags = flags, .platform_id = -1 };

	return kmodel_add_opts(m, &o);
}

/* rproc_del(): deleting, cancel the crash work, one rproc_shutdown(), then the files go. */
int kmodel_remove(struct kmodel *m, int id)
{
	_cleanup_free_ char *link = NULL, *pdir = NULL;
	struct kdev *d;
	int r;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_id(m, id);
	if (!d || d->removed) {
		UNLOCK(m);
		return -ENODEV;
	}
	d->crash_queued = false;
	d->recovery_queued = false;
	/* the flag is set first: a recovery still waiting for the lock gives up */
	rproc_lock(m, d);
	d->removed = true;
	r = rproc_shutdown(m, d);
	trace_dev(m, d, "removed (rproc_shutdown)", r);
	klog(m, d, 6, "releasing %s", d->name);
	link = strdup_printf("%s/sys/class/remoteproc/%s", m->root, d->sysname);
	pdir = strdup_printf("%s/sys/devices/platform/rproc_sim.%d", m->root, d->platform_id);
	if (link)
		(void) unlink(link);
	/*
	 * Kept aside, not deleted: kernfs never hands a new device the inode of
	 * a removed one at once, a filesystem that recycles inodes would (and
	 * rprocd tells a re-added device by its directory's inode).
	 */
	if (pdir) {
		_cleanup_free_ char *gone = strdup_printf("%s/.gone", m->root);
		_cleanup_free_ char *to = strdup_printf("%s/.gone/%u", m->root, m->n_gone++);

		if (!gone || !to || (mkdir(gone, 0755) < 0 && errno != EEXIST) ||
		    rename(pdir, to) < 0)
			(void) rm_rf(pdir);
	}
	UNLOCK(m);
	return 0;
}

int kmodel_find(struct kmodel *m, const char *sysname)
{
	int r = -ENODEV;

	LOCKED(m);
	for (size_t i = 0; i < m->n_devs; i++)
		if (!m->devs[i]->removed && streq(m->devs[i]->sysname, sysname))
			r = m->devs[i]->id;
	UNLOCK(m);
	return r;
}

const char *kmodel_sysname(struct kmodel *m, int id)
{
	struct kdev *d;

	LOCKED(m);
	d = dev_by_id(m, id);
	UNLOCK(m);
	return d ? d->sysname : NULL;
}

int kmodel_info(struct kmodel *m, int id, struct kmodel_info *ret)
{
	struct kdev *d;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_id(m, id);
	if (!d) {
		UNLOCK(m);
		return -ENODEV;
	}
	*ret = (struct kmodel_info){
		.name = d->name,
		.sysname = d->sysname,
		.index = d->index,
		.removed = d->removed,
		.state = d->state,
		.power = d->power,
		.firmware = d->firmware,
		.recovery_enabled = !d->recovery_disabled,
		.coredump = d->dump_conf,
		.shutdown_on_release = d->put_on_release,
		.hw_running = d->hw_running,
		.wedged = d->power > 0 &&
			  (d->state == RPROC_STATE_OFFLINE || d->state == RPROC_STATE_DETACHED) &&
			  !d->stall,
		.stalled = d->stall != NULL,
		.counters = d->cnt,
		.n_start_while_up = d->n_start_while_up,
		.n_start_refonly = d->n_start_refonly,
		.n_blocked = d->n_blocked,
		.crashes = d->crashes,
		.crashes_seen = d->crashes_seen,
		.last_crash_type = d->last_crash_type,
		.dumps = d->dumps,
		.dumps_dropped = d->dumps_dropped,
		.open_files = d->open_files,
	};
	memcpy(ret->fail, d->fail, sizeof(ret->fail));
	UNLOCK(m);
	return 0;
}

enum rproc_state kmodel_state(struct kmodel *m, int id)
{
	struct kmodel_info i;

	return kmodel_info(m, id, &i) < 0 ? RPROC_STATE_INVALID : i.state;
}

int kmodel_power(struct kmodel *m, int id)
{
	struct kmodel_info i;
	int r = kmodel_info(m, id, &i);

	return r < 0 ? r : i.power;
}

int kmodel_crashes(struct kmodel *m, int id)
{
	struct kmodel_info i;
	int r = kmodel_info(m, id, &i);

	return r < 0 ? r : (int) i.crashes;
}

int kmodel_crashes_seen(struct kmodel *m, int id)
{
	struct kmodel_info i;
	int r = kmodel_info(m, id, &i);

	return r < 0 ? r : (int) i.crashes_seen;
}

int kmodel_firmware_install(struct kmodel *m, const char *name)
{
	return kmodel_firmware_install_flags(m, name, 0);
}

int kmodel_firmware_install_flags(struct kmodel *m, const char *name, unsigned flags)
{
	_cleanup_free_ char *p = NULL, *dir = NULL;
	const char *content = flags & KMODEL_FW_NOT_ELF	 ? "not an ELF file\n"
			      : flags & KMODEL_FW_NO_RSC ? FW_MAGIC_NORSC
							 : FW_MAGIC "\n";
	char *slash;
	int r;

	if (!name || !*name || strstr(name, ".."))
		return -EINVAL;
	p = strdup_printf("%s/lib/firmware/%s", m->root, name);
	if (!p)
		return -ENOMEM;
	dir = strdup(p);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	*slash = 0;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	return write_file(dir, slash + 1, content, strlen(content));
}

int kmodel_firmware_remove(struct kmodel *m, const char *name)
{
	_cleanup_free_ char *p = strdup_printf("%s/lib/firmware/%s", m->root, name);

	if (!p)
		return -ENOMEM;
	return unlink(p) < 0 ? negative_errno() : 0;
}

int kmodel_crash(struct kmodel *m, int id, int type, unsigned flags)
{
	struct kdev *d;
	int r = 0;

	LOCKED(m);
	poll_dumps(m);
	d = dev_by_id(m, id);
	if (!d || d->removed)
		r = -ENODEV; /* the sim's crash file is gone */
	else if (d->state != RPROC_STATE_RUNNING && d->state != RPROC_STATE_ATTACHED)
		r = -EINVAL; /* crash_store(): Linux only notices crashes of a core it runs */
	else {
		d->hw_running = false;
		d->last_crash_type = type;
		trace(m, "%s: crash detected: type %d", d->sysname, type);
		klog(m, d, 3, "crash detected in %s: type %s", d->name, crash_type_name(type));
		if (flags & KMODEL_CRASH_QUEUE)
			d->crash_queued = true;
		else
			rproc_crash_handler_work(m, d, flags & KMODEL_CRASH_HOLD_RECOVERY);
		trace_dev(m, d, "crash", 0);
		sync_files(m, d);
	}
	UNLOCK(m);
	return r;
}

void kmodel_run_work(struct kmodel *m)
{
	LOCKED(m);
	poll_dumps(m);
	for (size_t i = 0; i < m->n_devs; i++) {
		struct kdev *d = m->devs[i];

		if (!d->crash_queued && !d->recovery_queued)
			continue;
		if (d->crash_queued)
			rproc_crash_handler_work(m, d, false);
		if (d->recovery_queued) {
			d->recovery_queued = false;
			(void) rproc_trigger_recovery(m, d);
		}
		trace_dev(m, d, "work run", 0);
		sync_files(m, d);
	}
	UNLOCK(m);
}

int kmodel_fail(struct kmodel *m, int id, enum kmodel_op op, int err)
{
	struct kdev *d;
	int r = 0;

	if ((unsigned) op >= _KMODEL_OP_MAX)
		return -EINVAL;
	err = abs(err);
	if (err > 4095)
		return -ERANGE;
	LOCKED(m);
	d = dev_by_id(m, id);
	if (!d || d->removed)
		r = -ENODEV;
	else {
		d->fail[op] = err;
		trace(m, "%s: fail_%s = %d", d->sysname, op_names[op], err);
	}
	UNLOCK(m);
	return r;
}

int kmodel_dump_pending(struct kmodel *m, int id)
{
	int n = 0;

	LOCKED(m);
	poll_dumps(m);
	for (struct devcd *c = m->dumps; c; c = c->next)
		n += id < 0 || c->d->id == id;
	UNLOCK(m);
	return n;
}

int kmodel_dump_dir(struct kmodel *m, int id, char **ret)
{
	int r = -ENOENT;

	LOCKED(m);
	poll_dumps(m);
	for (struct devcd *c = m->dumps; c; c = c->next)
		if (c->d->id == id) {
			*ret = strdup(c->link);
			r = *ret ? 0 : -ENOMEM;
			break;
		}
	UNLOCK(m);
	return r;
}

int kmodel_dump_free(struct kmodel *m, int id)
{
	int r = -ENOENT;

	LOCKED(m);
	poll_dumps(m);
	for (struct devcd *c = m->dumps; c; c = c->next)
		if (c->d->id == id) {
			devcd_free(m, c, "freed");
			r = 0;
			break;
		}
	UNLOCK(m);
	return r;
}

void kmodel_dump_expire(struct kmodel *m)
{
	LOCKED(m);
	while (m->dumps)
		devcd_free(m, m->dumps, "timeout");
	UNLOCK(m);
}

int kmodel_fd_dup(struct kmodel *m, int fd)
{
	struct ofile *f;
	int r;

	LOCKED(m);
	f = ofile_by_fd(m, fd);
	if (!f)
		r = -EBADF;
	else {
		r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (r < 0)
			r = negative_errno();
		else
			f->refs++;
	}
	UNLOCK(m);
	return r;
}

int kmodel_cdev_get_shutdown_on_release(struct kmodel *m, int fd, bool *ret)
{
	struct ofile *f;
	int r = 0;

	LOCKED(m);
	f = ofile_by_fd(m, fd);
	if (!f)
		r = -EBADF;
	else
		*ret = f->d->put_on_release;
	UNLOCK(m);
	return r;
}
