/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers for unit tests: a temporary root directory with files, links and dirs in it. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int test_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(p);
}

/* mkdtemp a root; returns a malloc'd path. */
static inline char *test_root_new(void)
{
	char t[] = "/tmp/rproc-test-XXXXXX";
	char *d = mkdtemp(t);

	return d ? strdup(d) : NULL;
}

static inline void test_root_free(char *root)
{
	if (root) {
		nftw(root, test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		free(root);
	}
}

/* mkdir -p root/path */
static inline int test_mkdir(const char *root, const char *path)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s/%s", root, path[0] == '/' ? path + 1 : path);

	if (n < 0 || (size_t) n >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write root/path with len bytes of data (creating parent directories). */
static inline int test_write(const char *root, const char *path, const void *data, size_t len)
{
	char buf[4096], dir[4096];
	char *slash;
	FILE *f;

	snprintf(buf, sizeof(buf), "%s/%s", root, path[0] == '/' ? path + 1 : path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (test_mkdir(root, dir) < 0)
			return -errno;
	}
	f = fopen(buf, "we");
	if (!f)
		return -errno;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static inline int test_write_str(const char *root, const char *path, const char *s)
{
	return test_write(root, path, s, strlen(s));
}

/* Symlink root/path -> target (target taken verbatim). */
static inline int test_symlink(const char *root, const char *path, const char *target)
{
	char buf[4096], dir[4096];
	char *slash;

	snprintf(buf, sizeof(buf), "%s/%s", root, path[0] == '/' ? path + 1 : path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		test_mkdir(root, dir);
	}
	return symlink(target, buf) < 0 ? -errno : 0;
}

/* Read root/path into a static buffer (tests only). */
static inline const char *test_read(const char *root, const char *path)
{
	static char out[8192];
	char buf[4096];
	ssize_t n;
	int fd;

	snprintf(buf, sizeof(buf), "%s/%s", root, path[0] == '/' ? path + 1 : path);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, out, sizeof(out) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	out[n] = 0;
	return out;
}
