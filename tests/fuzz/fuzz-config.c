/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the configuration parser: the input is written as
 * /etc/rprocd/rprocd.conf and as /etc/rprocd/cores/f.core under one
 * temporary root per process, and both are loaded (the core with the
 * daemon's [Defaults]), then the whole set as rprocd loads it. The root has
 * a host name, a machine ID and a device tree, so that specifiers and
 * [Match] Compatible=/Model= are exercised. Every diagnostic of a file must
 * name it; log messages are formatted to catch bad format strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "rproc/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static char root[64];
static char core_path[sizeof(root) + 64], conf_path[sizeof(root) + 64];
static struct rproc_ctx *ctx;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(p);
}

static void cleanup_root(void)
{
	ctx = rproc_ctx_unref(ctx);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void log_fn(void *userdata, int priority, const char *file, int line, const char *func,
		   const char *format, va_list args) __attribute__((format(printf, 6, 0)));

static void log_fn(void *userdata, int priority, const char *file, int line, const char *func,
		   const char *format, va_list args)
{
	char buf[1024];

	(void) userdata;
	(void) priority;
	(void) file;
	(void) line;
	(void) func;
	vsnprintf(buf, sizeof(buf), format, args);
}

static void put(const char *path, const char *data, size_t size)
{
	char p[sizeof(root) + 128];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, path);
	f = fopen(p, "we");
	check(f);
	check(fwrite(data, 1, size, f) == size);
	check(fclose(f) == 0);
}

static void setup_once(void)
{
	static const char *const dirs[] = { "/proc", "/proc/device-tree", "/proc/sys",
					    "/proc/sys/kernel", "/proc/sys/kernel/random" };
	static const char compat[] = "acme,board-a\0ti,am625\0";
	static const char model[] = "Acme Board A\0";
	char dir[sizeof(root) + 64];

	if (ctx)
		return;
	/* tmpfs when there is one: rewriting a file on ext4 forces a flush at every close */
	snprintf(root, sizeof(root), "%s/rprocd-fuzz-config-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	check(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/etc", root);
	check(mkdir(dir, 0755) == 0);
	snprintf(dir, sizeof(dir), "%s/etc/rprocd", root);
	check(mkdir(dir, 0755) == 0);
	snprintf(dir, sizeof(dir), "%s/etc/rprocd/cores", root);
	check(mkdir(dir, 0755) == 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s%s", root, dirs[i]);
		check(mkdir(dir, 0755) == 0);
	}
	put("/etc/hostname", "fuzzhost\n", 9);
	put("/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 33);
	put("/proc/sys/kernel/random/boot_id", "fedcba98-7654-3210-fedc-ba9876543210\n", 37);
	put("/proc/sys/kernel/osrelease", "6.1.0-fuzz\n", 11);
	put("/proc/device-tree/compatible", compat, sizeof(compat) - 1);
	put("/proc/device-tree/model", model, sizeof(model) - 1);
	snprintf(core_path, sizeof(core_path), "%s/etc/rprocd/cores/f.core", root);
	snprintf(conf_path, sizeof(conf_path), "%s/etc/rprocd/rprocd.conf", root);
	check(rproc_ctx_new(root, &ctx) == 0);
	rproc_ctx_set_log_fn(ctx, log_fn, NULL);
	rproc_ctx_set_log_priority(ctx, LOG_DEBUG);
	atexit(cleanup_root);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	/* no O_TRUNC: ext4 flushes a file truncated to zero and rewritten when it is closed */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	size_t done = 0;

	check(fd >= 0);
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t) done);

		check(n > 0);
		done += (size_t) n;
	}
	check(ftruncate(fd, (off_t) size) == 0);
	check(close(fd) == 0);
}

static void check_diags(const struct rproc_config_diag *diags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		check(diags[i].priority == LOG_ERR || diags[i].priority == LOG_WARNING ||
		      diags[i].priority == LOG_NOTICE);
		check(diags[i].file && diags[i].message);
		check(strlen(diags[i].message) < 64 * 1024);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rproc_daemon_config *dcfg = NULL;
	struct rproc_core_config *cfg = NULL;
	int r;

	setup_once();

	write_file(conf_path, data, size);
	r = rproc_daemon_config_load(ctx, &dcfg);
	check(r == 0 || r == -EBADMSG);
	if (r == 0 || r == -EBADMSG) {
		check(dcfg);
		check(dcfg->valid == (r == 0));
		check_diags(dcfg->diags, dcfg->n_diags);
	}

	write_file(core_path, data, size);
	r = rproc_core_config_load(ctx, "f", r == 0 ? dcfg : NULL, &cfg);
	check(r == 0 || r == -EBADMSG);
	if (r == 0 || r == -EBADMSG) {
		check(cfg);
		check(cfg->valid == (r == 0));
		check(r == 0 || rproc_core_config_first_error(cfg));
		check_diags(cfg->diags, cfg->n_diags);
		for (int k = 0; k < _RPROC_KEY_MAX; k++)
			free(rproc_core_config_format_value(cfg, (enum rproc_config_key) k));
	}

	rproc_core_config_free(cfg);
	rproc_daemon_config_free(dcfg);

	/* The set: the same files, and the checks across cores (one core: no claims, no cycle). */
	{
		struct rproc_config_set *set = NULL;

		check(rproc_config_set_load(ctx, 0, &set) == 0);
		check(set->n_cores == 1 && set->n_diags == 0);
		check(set->board_known && set->board_compatible && set->board_model);
		check(set->cores[0]->valid || rproc_core_config_first_error(set->cores[0]));
		check_diags(set->cores[0]->diags, set->cores[0]->n_diags);
		check_diags(set->daemon->diags, set->daemon->n_diags);
		rproc_config_set_free(set);
	}
	return 0;
}
