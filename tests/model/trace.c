/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model-trace: a random (seeded) sequence of remoteproc operations on a few
 * rproc_sim cores, one normalised line per step: the operation, what it
 * returned, and the facts read back from every core. Run against the real
 * kernel (--backend sysfs, as root with rproc_sim loaded as --sim-params
 * says) and against the model (--backend model): the two traces must be
 * identical (tests/vm/model/compare.sh; docs/MODEL.md).
 *
 *   model-trace --sim-params
 *   model-trace --backend sysfs|model [--kernel 6.1|6.12] [--seed S] [--steps N]
 *               [--fw-src FILE] [--root DIR] [--verbose]
 *
 * Only facts that both kernels show deterministically are printed; the one
 * known difference (the prepare count of an attach-on-recovery) is part of
 * the model's parameters (--kernel).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/remoteproc_cdev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "kmodel.h"
#include "util.h"

#define NCORES	   4
#define NSLOTS	   2
#define GOOD_FW	   "good.elf"
#define MISSING_FW "missing.elf"

/* The cores: rproc_sim instance k, with its module parameters. */
static const struct {
	const char *name;
	bool detached;
	bool aor;
} cores[NCORES] = {
	{ "c0", false, false },
	{ "c1", true, false },
	{ "c2", true, true },
	{ "c3", false, true },
};

struct dumpinfo {
	char name[NAME_MAX + 1];
	int core; /* -1: no current core (its device is gone) */
};

struct backend {
	bool model;
	const char *root; /* "" for the real root */
	const struct kernel *k;
	struct rproc_ctx *ctx;
	struct kmodel *m;
	int ids[NCORES];
	struct rproc_device *dev[NCORES];
	int fds[NCORES][NSLOTS];
	const char *fw_src;
	bool verbose;
	/* the dump reaper (real kernel): frees new dumps of one core while a write blocks */
	pthread_t reaper;
	atomic_int reap_core; /* -1: idle */
	atomic_int reaped;
	atomic_bool reaper_stop;
	struct dumpinfo reap_known[64]; /* pending before the write: not the writer's */
	size_t n_reap_known;
	int model_reaped;
};

/* The kernel's answer as a word: "0" or the errno's name. */
static const char *ename(int r)
{
	return r == 0 ? "0" : errno_name(r);
}

static void msleep(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* splitmix64 */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static unsigned pick(unsigned n)
{
	return (unsigned) (rnd() % n);
}

static void die(const char *fmt, ...) _printf_(1, 2);
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("model-trace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Paths under the backend's root */
static char *rpath(struct backend *b, const char *fmt, ...) _printf_(2, 3);
static char *rpath(struct backend *b, const char *fmt, ...)
{
	_cleanup_free_ char *p = NULL;
	va_list ap;
	char *r;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	if (!p)
		die("out of memory");
	r = strdup_printf("%s%s", b->root, p);
	if (!r)
		die("out of memory");
	return r;
}

static int write_str(const char *path, const char *s)
{
	return write_string_file(path, s);
}

/* The real kernel's rproc_sim control files */
static char *sim_file(struct backend *b, int k, const char *f)
{
	return rpath(b, "/sys/bus/platform/devices/rproc_sim.%d/%s", k, f);
}

/* ---- devices ---- */

static void find_devices(struct backend *b)
{
	struct rproc_device **devs;
	size_t n;
	int r;

	for (int k = 0; k < NCORES; k++)
		b->dev[k] = rproc_device_unref(b->dev[k]);
	r = rproc_device_enumerate(b->ctx, &devs, &n);
	if (r < 0)
		die("enumerate: %s", strerror(-r));
	for (size_t i = 0; i < n; i++) {
		const char *p = rproc_device_get_devpath(devs[i]);

		for (int k = 0; k < NCORES; k++) {
			char needle[32];

			snprintf(needle, sizeof(needle), "/rproc_sim.%d/", k);
			if (strstr(p, needle))
				b->dev[k] = rproc_device_ref(devs[i]);
		}
	}
	rproc_device_list_free(devs, n);
	for (int k = 0; k < NCORES; k++)
		if (!b->dev[k])
			die("rproc_sim.%d has no remoteproc device (load rproc_sim with "
			    "--sim-params)",
			    k);
	/* devtmpfs creates the nodes a little later */
	if (!b->model)
		for (int k = 0; k < NCORES; k++) {
			_cleanup_free_ char *node =
				rpath(b, "%s", rproc_device_get_devnode(b->dev[k]));

			for (int i = 0; i < 200 && access(node, F_OK) < 0; i++)
				msleep(10);
		}
}

static void add_model_devices(struct backend *b)
{
	for (int k = 0; k < NCORES; k++) {
		struct kmodel_opts o = {
			.name = cores[k].name,
			.flags = (cores[k].detached ? KMODEL_DETACHED : 0) |
				 (cores[k].aor ? KMODEL_ATTACH_ON_RECOVERY : 0),
			.platform_id = k,
		};

		b->ids[k] = kmodel_add_opts(b->m, &o);
		if (b->ids[k] < 0)
			die("kmodel_add: %s", strerror(-b->ids[k]));
	}
}

/* ---- firmware files ---- */

static int fw_install(struct backend *b, const char *name)
{
	_cleanup_free_ char *dst = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len;
	FILE *f;
	int r;

	if (b->model)
		return kmodel_firmware_install(b->m, name);
	r = read_full_file(b->fw_src, 16 << 20, &data, &len);
	if (r < 0)
		return r;
	dst = rpath(b, "/lib/firmware/%s", name);
	f = fopen(dst, "we");
	if (!f)
		return -errno;
	r = fwrite(data, 1, len, f) == len ? 0 : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

static int fw_remove(struct backend *b, const char *name)
{
	_cleanup_free_ char *p = rpath(b, "/lib/firmware/%s", name);

	if (unlink(p) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- devcoredumps: read from the tree on both backends ---- */

static size_t list_dumps(struct backend *b, struct dumpinfo *out, size_t max)
{
	_cleanup_free_ char *dir = rpath(b, "/sys/class/devcoredump");
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;

	if (b->model)
		(void) kmodel_dump_pending(b->m, -1); /* notices frees */
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		_cleanup_free_ char *link = NULL;
		char real[PATH_MAX];

		if (!startswith(de->d_name, "devcd"))
			continue;
		memcpy(out[n].name, de->d_name, sizeof(out[n].name));
		out[n].core = -1;
		link = strdup_printf("%s/%s/failing_device", dir, de->d_name);
		if (link && realpath(link, real))
			for (int k = 0; k < NCORES; k++)
				if (streq(real + strlen(b->root),
					  rproc_device_get_devpath(b->dev[k])))
					out[n].core = k;
		n++;
	}
	return n;
}

static unsigned count_dumps(struct backend *b, int core)
{
	struct dumpinfo di[64];
	size_t n = list_dumps(b, di, 64);
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c += di[i].core == core;
	return c;
}

static bool dump_known(const struct dumpinfo *before, size_t nb, const char *name)
{
	for (size_t i = 0; i < nb; i++)
		if (streq(before[i].name, name))
			return true;
	return false;
}

/* Free a dump as userspace does (a write to data), and wait until it is gone. */
static int free_dump(struct backend *b, const char *name)
{
	_cleanup_free_ char *data = rpath(b, "/sys/class/devcoredump/%s/data", name);
	_cleanup_free_ char *dir = rpath(b, "/sys/class/devcoredump/%s", name);
	int r;

	r = write_str(data, "1");
	if (r < 0)
		return r;
	if (b->model) {
		(void) kmodel_dump_pending(b->m, -1);
		return 0;
	}
	for (uint64_t t = now_ms(); access(dir, F_OK) == 0; msleep(2))
		if (now_ms() - t > 5000)
			return -ETIMEDOUT;
	return 0;
}

/* A new dump of core k (not in before), waiting up to ms on the real kernel. */
static bool wait_new_dump(struct backend *b, int k, const struct dumpinfo *before, size_t nb,
			  unsigned ms, char *ret_name, size_t len)
{
	uint64_t t0 = now_ms();

	for (;;) {
		struct dumpinfo di[64];
		size_t n = list_dumps(b, di, 64);

		for (size_t i = 0; i < n; i++)
			if (di[i].core == k && !dump_known(before, nb, di[i].name)) {
				if (strlen(di[i].name) >= len)
					continue;
				memcpy(ret_name, di[i].name, strlen(di[i].name) + 1);
				return true;
			}
		if (b->model || now_ms() - t0 > ms)
			return false;
		msleep(2);
	}
}

/* The reaper: while a write blocks on an inline dump of core k, free it. */
static void *reaper_main(void *p)
{
	struct backend *b = p;

	while (!atomic_load(&b->reaper_stop)) {
		int k = atomic_load(&b->reap_core);

		if (k >= 0) {
			struct dumpinfo di[64];
			size_t n = list_dumps(b, di, 64);

			for (size_t i = 0; i < n; i++) {
				_cleanup_free_ char *data = NULL;

				if (di[i].core != k ||
				    dump_known(b->reap_known, b->n_reap_known, di[i].name))
					continue;
				data = rpath(b, "/sys/class/devcoredump/%s/data", di[i].name);
				if (write_str(data, "1") == 0)
					atomic_fetch_add(&b->reaped, 1);
			}
		}
		msleep(5);
	}
	return NULL;
}

static void model_block_handler(struct kmodel *m, int id, void *u)
{
	struct backend *b = u;

	if (kmodel_dump_free(m, id) == 0)
		b->model_reaped++;
}

/* ---- facts ---- */

static int read_counters(struct backend *b, int k, struct kmodel_counters *c)
{
	_cleanup_free_ char *p = NULL, *s = NULL;
	int r;

	if (b->model) {
		struct kmodel_info i;

		r = kmodel_info(b->m, b->ids[k], &i);
		if (r == 0)
			*c = i.counters;
		return r;
	}
	p = sim_file(b, k, "counters");
	r = read_full_file(p, 4096, &s, NULL);
	if (r < 0)
		return r;
	if (sscanf(s, "prepare=%u load=%u start=%u stop=%u attach=%u detach=%u", &c->prepare,
		   &c->load, &c->start, &c->stop, &c->attach, &c->detach) != 6)
		return -EBADMSG;
	return 0;
}

static int read_hw_running(struct backend *b, int k)
{
	_cleanup_free_ char *p = NULL, *s = NULL;
	int r;

	if (b->model) {
		struct kmodel_info i;

		r = kmodel_info(b->m, b->ids[k], &i);
		return r < 0 ? r : i.hw_running;
	}
	p = sim_file(b, k, "hw_running");
	r = read_full_file(p, 64, &s, NULL);
	return r < 0 ? r : atoi(s);
}

static int held_fd(struct backend *b, int k)
{
	for (int s = 0; s < NSLOTS; s++)
		if (b->fds[k][s] >= 0)
			return b->fds[k][s];
	return -1;
}

static void print_facts(struct backend *b)
{
	struct dumpinfo di[64];
	size_t n = list_dumps(b, di, 64);
	unsigned orphans = 0;

	for (int k = 0; k < NCORES; k++) {
		struct rproc_device *d = b->dev[k];
		_cleanup_free_ char *fw = NULL;
		enum rproc_state st = RPROC_STATE_INVALID;
		enum rproc_coredump_mode cd = RPROC_COREDUMP_INVALID;
		struct kmodel_counters c = { 0 };
		bool rec = false;
		unsigned dumps = 0;
		int r, fd;

		for (size_t i = 0; i < n; i++)
			dumps += di[i].core == k;
		printf(" | %s %s", cores[k].name, rproc_device_get_sysname(d));
		r = kernel_read_state(b->k, d, &st);
		printf(" %s", r < 0 ? ename(r) : rproc_state_to_string(st));
		r = kernel_read_firmware(b->k, d, &fw);
		printf(" fw=%s", r < 0 ? ename(r) : fw);
		r = kernel_read_recovery(b->k, d, &rec);
		printf(" rec=%s", r < 0 ? ename(r) : rec ? "on" : "off");
		r = kernel_read_coredump(b->k, d, &cd);
		printf(" cd=%s", r < 0 ? ename(r) : rproc_coredump_mode_to_string(cd));
		printf(" hw=%d", read_hw_running(b, k));
		r = read_counters(b, k, &c);
		if (r < 0)
			printf(" cnt=%s", ename(r));
		else
			printf(" cnt=%u/%u/%u/%u/%u/%u", c.prepare, c.load, c.start, c.stop,
			       c.attach, c.detach);
		printf(" dumps=%u", dumps);
		fd = held_fd(b, k);
		if (fd >= 0) {
			bool v = false;

			r = b->model ? kmodel_cdev_get_shutdown_on_release(b->m, fd, &v)
				     : rproc_cdev_get_shutdown_on_release(fd, &v);
			printf(" sor=%s", r < 0 ? ename(r) : v ? "1" : "0");
		}
	}
	for (size_t i = 0; i < n; i++)
		orphans += di[i].core < 0;
	printf(" | orphan-dumps=%u\n", orphans);
	fflush(stdout);
}

/* ---- settling the real kernel's asynchronous crash handling ---- */

/* Take and release the rproc lock: a firmware write of the current name (EBUSY unless offline). */
static void lock_barrier(struct backend *b, int k)
{
	_cleanup_free_ char *fw = NULL;

	if (b->model)
		return;
	if (kernel_read_firmware(b->k, b->dev[k], &fw) < 0)
		return;
	(void) kernel_write_firmware(b->k, b->dev[k], fw);
}

static int read_fail(struct backend *b, int k, const char *file)
{
	_cleanup_free_ char *p = NULL, *s = NULL;

	if (b->model) {
		struct kmodel_info i;

		if (kmodel_info(b->m, b->ids[k], &i) < 0)
			return -1;
		return streq(file, "fail_stop") ? i.fail[KMODEL_OP_STOP] : i.fail[KMODEL_OP_START];
	}
	p = sim_file(b, k, file);
	return read_full_file(p, 64, &s, NULL) < 0 ? -1 : atoi(s);
}

/* /dev/kmsg from now on (the real kernel), to see where the crash work is. */
static int kmsg_open(struct backend *b)
{
	int fd;

	if (b->model)
		return -1;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		(void) lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait until the crash work is done with the core or holds its lock for the
 * recovery: with recovery off the state reads crashed (nothing follows);
 * with it on, rproc_trigger_recovery() logged "recovering NAME" under the
 * lock, so a write that takes the lock (lock_barrier) waits for the end.
 */
static void wait_crash_handled(struct backend *b, int k, bool rec, int kmsg)
{
	_cleanup_free_ char *needle = strdup_printf(": recovering %s\n", cores[k].name);
	uint64_t t0 = now_ms();
	char buf[1024];

	if (b->model)
		return;
	for (;;) {
		enum rproc_state st;
		ssize_t n;

		if (!rec) {
			if (kernel_read_state(b->k, b->dev[k], &st) == 0 &&
			    st == RPROC_STATE_CRASHED)
				return;
		} else
			while ((n = read(kmsg, buf, sizeof(buf) - 1)) > 0 ||
			       (n < 0 && errno == EPIPE)) {
				if (n <= 0)
					continue;
				buf[n] = 0;
				if (strstr(buf, needle))
					return;
			}
		if (now_ms() - t0 > 5000) {
			fprintf(stderr, "model-trace: crash of %s not handled within 5 s\n",
				cores[k].name);
			return;
		}
		msleep(1);
	}
}

/* ---- the operations ---- */

static const char *const cmd_words[] = { "start", "stop", "detach" };

static int do_crash(struct backend *b, int k, int type, char *note, size_t notelen)
{
	struct dumpinfo before[64];
	size_t nb = list_dumps(b, before, 64);
	enum rproc_coredump_mode cd = RPROC_COREDUMP_DISABLED;
	bool rec = true;
	char name[NAME_MAX + 1];
	int r;

	int fail_pending = read_fail(b, k, "fail_stop");
	unsigned had_dump = count_dumps(b, k);
	_cleanup_close_ int kmsg = kmsg_open(b);

	(void) kernel_read_coredump(b->k, b->dev[k], &cd);
	(void) kernel_read_recovery(b->k, b->dev[k], &rec);
	if (b->model)
		r = kmodel_crash(b->m, b->ids[k], type, 0);
	else {
		_cleanup_free_ char *p = sim_file(b, k, "crash");
		char v[8];

		snprintf(v, sizeof(v), "%d", type);
		r = write_str(p, v);
	}
	if (r < 0)
		return r;
	wait_crash_handled(b, k, rec, kmsg);
	/*
	 * An inline dump stalls the recovery (holding the lock) until it is
	 * freed; there is none when the stop failed or one is still pending.
	 */
	if (cd == RPROC_COREDUMP_INLINE && rec && !cores[k].aor && fail_pending <= 0 &&
	    had_dump == 0) {
		if (wait_new_dump(b, k, before, nb, 5000, name, sizeof(name))) {
			printf("  stalled on an inline dump");
			print_facts(b);
			r = free_dump(b, name);
			snprintf(note, notelen, " (inline dump freed: %s)", ename(r));
		} else
			snprintf(note, notelen, " (no inline dump)");
	}
	lock_barrier(b, k);
	return 0;
}

static int do_fail(struct backend *b, int k, enum kmodel_op op, int err)
{
	static const char *const files[] = { "fail_start", "fail_attach", "fail_stop",
					     "fail_detach" };
	_cleanup_free_ char *p = NULL;
	char v[16];

	if (b->model)
		return kmodel_fail(b->m, b->ids[k], op, err);
	p = sim_file(b, k, files[op]);
	snprintf(v, sizeof(v), "%d", err);
	return write_str(p, v);
}

static int do_recovery(struct backend *b, int k, enum rproc_recovery_cmd cmd, char *note,
		       size_t notelen)
{
	int r, reaped;

	if (b->model) {
		b->model_reaped = 0;
		r = kernel_write_recovery(b->k, b->dev[k], cmd);
		reaped = b->model_reaped;
	} else {
		enum rproc_coredump_mode cd = RPROC_COREDUMP_DISABLED;

		/* only an inline dump blocks the writer; an enabled one stays */
		(void) kernel_read_coredump(b->k, b->dev[k], &cd);
		b->n_reap_known = list_dumps(b, b->reap_known, 64);
		atomic_store(&b->reaped, 0);
		atomic_store(&b->reap_core, cd == RPROC_COREDUMP_INLINE ? k : -1);
		r = kernel_write_recovery(b->k, b->dev[k], cmd);
		atomic_store(&b->reap_core, -1);
		msleep(10); /* let a reaper pass end */
		reaped = atomic_load(&b->reaped);
		if (reaped) /* the freed dump's directory goes asynchronously */
			for (uint64_t t = now_ms(); now_ms() - t < 2000; msleep(2)) {
				struct dumpinfo di[64];
				size_t n = list_dumps(b, di, 64);
				bool left = false;

				for (size_t i = 0; i < n; i++)
					left |= di[i].core == k &&
						!dump_known(b->reap_known, b->n_reap_known,
							    di[i].name);
				if (!left)
					break;
			}
	}
	if (reaped)
		snprintf(note, notelen, " (the write blocked on an inline dump, freed)");
	return r;
}

static void close_slot(struct backend *b, int k, int s)
{
	kernel_cdev_close(b->k, b->fds[k][s]);
	b->fds[k][s] = -1;
}

static int cdev_fresh(struct backend *b, int k, int cmd)
{
	int fd = kernel_cdev_open(b->k, b->dev[k]);
	int r;

	if (fd < 0)
		return fd;
	r = kernel_cdev_request(b->k, fd, cmd);
	kernel_cdev_close(b->k, fd);
	return r;
}

static int flag_fresh(struct backend *b, int k, bool v)
{
	int fd = kernel_cdev_open(b->k, b->dev[k]);
	int r;

	if (fd < 0)
		return fd;
	r = kernel_cdev_set_shutdown_on_release(b->k, fd, v);
	kernel_cdev_close(b->k, fd);
	return r;
}

static int do_replug(struct backend *b, char *note, size_t notelen)
{
	for (int k = 0; k < NCORES; k++)
		for (int s = 0; s < NSLOTS; s++)
			if (b->fds[k][s] >= 0)
				close_slot(b, k, s);
	if (b->model) {
		for (int k = NCORES - 1; k >= 0; k--) {
			int r = kmodel_remove(b->m, b->ids[k]);

			if (r < 0)
				return r;
		}
		add_model_devices(b);
	} else {
		char cmd[PATH_MAX + 256];
		const char *ko = getenv("RPROC_SIM_KO");

		if (!ko)
			die("replug needs RPROC_SIM_KO");
		snprintf(cmd, sizeof(cmd),
			 "rmmod rproc_sim && insmod '%s' names=c0,c1,c2,c3 detached=0,1,1,0 "
			 "attach_on_recovery=0,0,1,1",
			 ko);
		if (system(cmd) != 0)
			return -EIO;
	}
	find_devices(b);
	snprintf(note, notelen, " -> %s %s %s %s", rproc_device_get_sysname(b->dev[0]),
		 rproc_device_get_sysname(b->dev[1]), rproc_device_get_sysname(b->dev[2]),
		 rproc_device_get_sysname(b->dev[3]));
	return 0;
}

static void step(struct backend *b, unsigned i)
{
	int k = (int) pick(NCORES);
	unsigned op = pick(1000);
	char what[128], note[160] = "";
	int r = 0;

	if (op < 300) { /* sysfs start/stop/detach, start more often */
		int cmd = op < 180 ? 0 : op < 260 ? 1 : 2;

		snprintf(what, sizeof(what), "sysfs-%s %s", cmd_words[cmd], cores[k].name);
		r = kernel_request(b->k, b->dev[k], cmd);
	} else if (op < 360) {
		int cmd = (int) pick(3);

		snprintf(what, sizeof(what), "cdev-%s %s", cmd_words[cmd], cores[k].name);
		r = cdev_fresh(b, k, cmd);
	} else if (op < 400) {
		int s = (int) pick(NSLOTS);

		snprintf(what, sizeof(what), "open %s.%d", cores[k].name, s);
		if (b->fds[k][s] >= 0)
			snprintf(note, sizeof(note), " (already open)");
		else {
			r = kernel_cdev_open(b->k, b->dev[k]);
			if (r >= 0) {
				b->fds[k][s] = r;
				r = 0;
			}
		}
	} else if (op < 420) {
		int s = (int) pick(NSLOTS), o = 1 - s;

		snprintf(what, sizeof(what), "dup %s.%d->%d", cores[k].name, s, o);
		if (b->fds[k][s] < 0 || b->fds[k][o] >= 0)
			snprintf(note, sizeof(note), " (nothing to do)");
		else {
			r = b->model ? kmodel_fd_dup(b->m, b->fds[k][s])
				     : fcntl(b->fds[k][s], F_DUPFD_CLOEXEC, 3);
			if (r >= 0) {
				b->fds[k][o] = r;
				r = 0;
			} else if (!b->model)
				r = -errno;
		}
	} else if (op < 460) {
		int s = (int) pick(NSLOTS);

		snprintf(what, sizeof(what), "close %s.%d", cores[k].name, s);
		if (b->fds[k][s] < 0)
			snprintf(note, sizeof(note), " (not open)");
		else
			close_slot(b, k, s);
	} else if (op < 500) {
		int s = (int) pick(NSLOTS), cmd = (int) pick(4) % 3;

		snprintf(what, sizeof(what), "held-%s %s.%d", cmd_words[cmd], cores[k].name, s);
		if (b->fds[k][s] < 0)
			snprintf(note, sizeof(note), " (not open)");
		else
			r = kernel_cdev_request(b->k, b->fds[k][s], cmd);
	} else if (op < 540) {
		int s = (int) pick(NSLOTS);
		bool v = pick(3) != 0;

		snprintf(what, sizeof(what), "held-flag %s.%d %d", cores[k].name, s, v);
		if (b->fds[k][s] < 0)
			snprintf(note, sizeof(note), " (not open)");
		else
			r = kernel_cdev_set_shutdown_on_release(b->k, b->fds[k][s], v);
	} else if (op < 550) {
		bool v = pick(2);

		snprintf(what, sizeof(what), "fresh-flag %s %d", cores[k].name, v);
		r = flag_fresh(b, k, v);
	} else if (op < 610) {
		static const char *const names[] = { GOOD_FW, MISSING_FW, NULL, "\n", "" };
		unsigned w = pick(ELEMENTSOF(names));
		_cleanup_free_ char *def = strdup_printf("rproc-%s-fw", cores[k].name);
		const char *name = names[w] ? names[w] : def;

		snprintf(what, sizeof(what), "firmware %s '%s'", cores[k].name,
			 streq(name, "\n") ? "\\n" : name);
		r = kernel_write_firmware(b->k, b->dev[k], name);
	} else if (op < 670) {
		static const char *const words[] = { "enabled", "disabled", "recover" };
		unsigned w = pick(3);

		snprintf(what, sizeof(what), "recovery %s %s", cores[k].name, words[w]);
		r = do_recovery(b, k, w, note, sizeof(note));
	} else if (op < 730) {
		unsigned w = (pick(5) + 1) % 3; /* enabled and inline more often */

		snprintf(what, sizeof(what), "coredump %s %s", cores[k].name,
			 rproc_coredump_mode_to_string(w));
		r = kernel_write_coredump(b->k, b->dev[k], w);
	} else if (op < 860) {
		int type = (int) pick(3);

		snprintf(what, sizeof(what), "crash %s %d", cores[k].name, type);
		r = do_crash(b, k, type, note, sizeof(note));
	} else if (op < 900) {
		static const int errs[] = { EIO, ENOSPC, EAGAIN };
		enum kmodel_op fop = pick(_KMODEL_OP_MAX);
		int e = errs[pick(3)];

		snprintf(what, sizeof(what), "fail %s %s %s", cores[k].name,
			 fop == KMODEL_OP_START	   ? "start"
			 : fop == KMODEL_OP_ATTACH ? "attach"
			 : fop == KMODEL_OP_STOP   ? "stop"
						   : "detach",
			 ename(-e));
		r = do_fail(b, k, fop, e);
	} else if (op < 940) {
		bool install = pick(2);
		_cleanup_free_ char *def = strdup_printf("rproc-%s-fw", cores[k].name);
		const char *name = pick(2) ? GOOD_FW : def;

		snprintf(what, sizeof(what), "%s %s", install ? "fw-install" : "fw-remove", name);
		r = install ? fw_install(b, name) : fw_remove(b, name);
	} else if (op < 990) {
		struct dumpinfo di[64];
		size_t n = list_dumps(b, di, 64);
		unsigned freed = 0;

		snprintf(what, sizeof(what), "free-dumps");
		for (size_t j = 0; j < n; j++) {
			int q = free_dump(b, di[j].name);

			if (q < 0)
				r = q;
			else
				freed++;
		}
		snprintf(note, sizeof(note), " (%u)", freed);
	} else {
		snprintf(what, sizeof(what), "replug");
		r = do_replug(b, note, sizeof(note));
	}
	printf("%u: %s -> %s%s", i, what, ename(r), note);
	print_facts(b);
}

static void usage(void)
{
	fputs("usage: model-trace --sim-params\n"
	      "       model-trace --backend sysfs|model [--kernel 6.1|6.12] [--seed S] [--steps "
	      "N]\n"
	      "                   [--fw-src FILE] [--root DIR] [--trace]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "steps", required_argument, NULL, 'n' },
		{ "fw-src", required_argument, NULL, 'f' },
		{ "root", required_argument, NULL, 'r' },
		{ "sim-params", no_argument, NULL, 'p' },
		{ "trace", no_argument, NULL, 't' },
		{},
	};
	struct backend b = { .reap_core = -1 };
	const char *backend = NULL, *kernel = NULL, *root = NULL;
	char tmp[] = "/tmp/model-trace-XXXXXX";
	unsigned long long seed = 1;
	unsigned steps = 100;
	bool trace = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
		switch (c) {
		case 'b':
			backend = optarg;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			steps = (unsigned) strtoul(optarg, NULL, 0);
			break;
		case 'f':
			b.fw_src = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'p':
			printf("names=c0,c1,c2,c3 detached=0,1,1,0 attach_on_recovery=0,0,1,1\n");
			return 0;
		case 't':
			trace = true;
			break;
		default:
			usage();
		}
	if (!backend)
		usage();
	for (int k = 0; k < NCORES; k++)
		for (int s = 0; s < NSLOTS; s++)
			b.fds[k][s] = -1;
	rng_state = seed;

	if (streq(backend, "model")) {
		b.model = true;
		if (!root) {
			if (!mkdtemp(tmp))
				die("mkdtemp: %m");
			root = tmp;
		}
		b.root = root;
		r = kmodel_new(root, &b.m);
		if (r < 0)
			die("kmodel_new: %s", strerror(-r));
		if (trace)
			kmodel_set_trace(b.m, stderr);
		if (!kernel) {
			struct utsname u;

			kernel = uname(&u) == 0 && startswith(u.release, "6.1.") ? "6.1" : "6.12";
		}
		if (streq(kernel, "6.1"))
			kmodel_set_kernel(b.m, KMODEL_KERNEL_6_1);
		else if (streq(kernel, "6.12"))
			kmodel_set_kernel(b.m, KMODEL_KERNEL_6_12);
		else
			die("--kernel 6.1 or 6.12");
		kmodel_set_block_handler(b.m, model_block_handler, &b);
		b.k = kmodel_kernel(b.m);
		add_model_devices(&b);
		for (int k = 0; k < NCORES; k++) {
			_cleanup_free_ char *fw = strdup_printf("rproc-%s-fw", cores[k].name);

			if (fw_install(&b, fw) < 0)
				die("cannot install firmware");
		}
		if (fw_install(&b, GOOD_FW) < 0)
			die("cannot install firmware");
	} else if (streq(backend, "sysfs")) {
		if (root && !streq(root, "/"))
			die("the sysfs backend works on / only");
		b.root = "";
		root = "/";
		b.k = &kernel_sysfs;
		if (!b.fw_src)
			die("--fw-src is needed with the real kernel");
		/* the same starting point as the model: every firmware file there, no missing.elf */
		for (int k = 0; k < NCORES; k++) {
			_cleanup_free_ char *fw = strdup_printf("rproc-%s-fw", cores[k].name);

			if (fw_install(&b, fw) < 0)
				die("cannot install firmware from %s", b.fw_src);
		}
		if (fw_install(&b, GOOD_FW) < 0 || fw_remove(&b, MISSING_FW) < 0)
			die("cannot install firmware from %s", b.fw_src);
		if (pthread_create(&b.reaper, NULL, reaper_main, &b) != 0)
			die("pthread_create");
	} else
		usage();

	r = rproc_ctx_new(root, &b.ctx);
	if (r < 0)
		die("rproc_ctx_new: %s", strerror(-r));
	find_devices(&b);

	printf("model-trace seed=%llu steps=%u\n0: init -> 0", seed, steps);
	print_facts(&b);
	for (unsigned i = 1; i <= steps; i++)
		step(&b, i);

	for (int k = 0; k < NCORES; k++)
		for (int s = 0; s < NSLOTS; s++)
			if (b.fds[k][s] >= 0)
				close_slot(&b, k, s);
	if (!b.model) {
		atomic_store(&b.reaper_stop, true);
		pthread_join(b.reaper, NULL);
	}
	for (int k = 0; k < NCORES; k++)
		rproc_device_unref(b.dev[k]);
	rproc_ctx_unref(b.ctx);
	if (b.model) {
		kmodel_free(b.m);
		if (root == tmp) {
			char cmd[64];
			int rc;

			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
			/* Best effort; a variable, as _FORTIFY_SOURCE warns on (void). */
			rc = system(cmd);
			(void) rc;
		}
	}
	return 0;
}
