/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Firmware staging, ownership rules and digest pinning (worker threads). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "firmware-stage.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#ifndef NFS_SUPER_MAGIC
#define NFS_SUPER_MAGIC 0x6969
#endif
#ifndef CIFS_SUPER_MAGIC
#define CIFS_SUPER_MAGIC 0xff534d42
#endif
#ifndef SMB2_SUPER_MAGIC
#define SMB2_SUPER_MAGIC 0xfe534d42
#endif
#include "util.h"

int fw_sha256_hex(const void *buf, size_t len, char hex[FW_DIGEST_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;

	if (EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -EIO;
	for (unsigned i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool fw_digest_is_valid(const char *s)
{
	if (!s || strncmp(s, FW_DIGEST_PREFIX, strlen(FW_DIGEST_PREFIX)) != 0)
		return false;
	s += strlen(FW_DIGEST_PREFIX);
	if (strlen(s) != FW_DIGEST_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return false;
	return true;
}

static int refuse(char **ret_why, const char *path, const struct stat *st, const char *what)
{
	*ret_why = strdup_printf("%s: %s (owner uid %u, gid %u, mode %04o); only root may "
				 "write a firmware image and the directories above it "
				 "(FirmwareStrictModes=no relaxes this)",
				 path, what, (unsigned) st->st_uid, (unsigned) st->st_gid,
				 (unsigned) (st->st_mode & 07777));
	return *ret_why ? -EPERM : -ENOMEM;
}

static int check_one(const char *path, char **ret_why)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(ret_why, path, &st, "not owned by root");
	if (st.st_mode & S_IWOTH)
		return refuse(ret_why, path, &st, "writable by others");
	if (st.st_mode & S_IWGRP)
		return refuse(ret_why, path, &st, "writable by its group");
	return 0;
}

int fw_check_owner(const char *root, const char *path, char **ret_why)
{
	_cleanup_free_ char *real = NULL, *real_root = NULL;
	size_t root_len;
	int r;

	*ret_why = NULL;
	real = realpath(path, NULL);
	real_root = realpath(root ? root : "/", NULL);
	if (!real || !real_root)
		return -errno;
	root_len = streq(real_root, "/") ? 0 : strlen(real_root);
	if (root_len > 0 && (strncmp(real, real_root, root_len) != 0 || real[root_len] != '/'))
		return -EXDEV; /* resolved outside the root: not this system's file */
	r = check_one(real, ret_why);
	/* Each directory up to the root (the root itself included). */
	for (char *slash = strrchr(real, '/'); r >= 0 && slash; slash = strrchr(real, '/')) {
		if ((size_t) (slash - real) < root_len)
			break;
		if (slash == real) {
			if (root_len == 0)
				r = check_one("/", ret_why);
			break;
		}
		*slash = '\0';
		r = check_one(real, ret_why);
	}
	return r;
}

static int fail(struct fw_stage *s, const char *step, int r)
{
	s->failed_step = step;
	return r;
}

/* The whole image, at most RPROC_FIRMWARE_SIZE_MAX bytes. */
static int read_image(int fd, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;
	struct statfs sfs;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	/* A file whose reads someone else answers (FUSE, NFS, CIFS) could hold the worker forever. */
	if (fstatfs(fd, &sfs) >= 0) {
		/* f_type is a signed int on 32-bit hosts; the magic numbers are 32-bit patterns. */
		uint32_t type = (uint32_t) sfs.f_type;

		if (type == (uint32_t) FUSE_SUPER_MAGIC || type == (uint32_t) NFS_SUPER_MAGIC ||
		    type == (uint32_t) CIFS_SUPER_MAGIC || type == (uint32_t) SMB2_SUPER_MAGIC)
			return -EREMOTE;
	}
	if ((uint64_t) st.st_size > RPROC_FIRMWARE_SIZE_MAX)
		return -EFBIG;
	size = (size_t) st.st_size + 1;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == size) {
			size_t grown = size * 2 > RPROC_FIRMWARE_SIZE_MAX + 1
					       ? RPROC_FIRMWARE_SIZE_MAX + 1
					       : size * 2;
			char *nb;

			if (size > RPROC_FIRMWARE_SIZE_MAX)
				return -EFBIG;
			nb = realloc(buf, grown);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			size = grown;
		}
		/* pread: the caller's file offset (an Update's fd is shared) stays where it was. */
		n = pread(fd, buf + len, size - len, (off_t) len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len > RPROC_FIRMWARE_SIZE_MAX)
		return -EFBIG;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static bool same_content(int dfd, const char *name, const char *buf, size_t len)
{
	_cleanup_free_ char *have = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t have_len = 0;

	return fd >= 0 && read_image(fd, &have, &have_len) >= 0 && have_len == len &&
	       memcmp(have, buf, len) == 0;
}

/* The valid image's bytes into dir as "sha256-HEX": a temporary file, renamed when whole. */
static int write_copy(struct fw_stage *s, const char *buf, size_t len)
{
	_cleanup_free_ char *tmp = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	struct stat st;
	int r;

	name = strdup_printf(FW_STAGE_PREFIX "%s", s->digest);
	if (!name)
		return fail(s, "staging", -ENOMEM);
	r = mkdir_p(s->dir, 0700);
	if (r < 0)
		return fail(s, "staging directory", r);
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(s, "staging directory", -errno);
	/* Staged before: kept only if it holds these very bytes (else it is replaced). */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t) st.st_size == len && same_content(dfd, name, buf, len)) {
		s->name = TAKE_PTR(name);
		return 0;
	}
	tmp = strdup_printf(".stage-%s-%d", s->digest, (int) gettid());
	if (!tmp)
		return fail(s, "staging", -ENOMEM);
	(void) unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0)
		return fail(s, "staging copy", -errno);
	r = write_all(fd, buf, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(fd)) < 0 && errno != EINTR)
		r = -errno;
	if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlinkat(dfd, tmp, 0);
		return fail(s, "staging copy", r);
	}
	(void) fsync(dfd);
	s->name = TAKE_PTR(name);
	return 0;
}

static int check_pin(struct fw_stage *s)
{
	_cleanup_free_ char *allowed = NULL;

	if (!s->digests || !s->digests[0])
		return 0;
	for (char *const *d = s->digests; *d; d++)
		if (strcasecmp(*d + strlen(FW_DIGEST_PREFIX), s->digest) == 0)
			return 0;
	allowed = strv_join((char **) s->digests, ", ");
	s->why = strdup_printf("%s has digest " FW_DIGEST_PREFIX "%s, not one FirmwareDigest= "
			       "allows (%s)",
			       s->src ? s->src : "the image", s->digest, strempty(allowed));
	return fail(s, "digest", -EKEYREJECTED);
}

int fw_stage(struct fw_stage *s)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int own_fd = -1;
	size_t len = 0;
	int fd = s->src_fd, r;

	s->failed_step = NULL;
	s->fw_error = 0;
	if (fd < 0) {
		if (!s->src)
			return fail(s, "firmware", -EINVAL);
		_cleanup_free_ char *real = realpath(s->src, NULL);
		struct stat checked, opened;

		if (!real)
			return fail(s, "firmware read", -errno);
		if (s->strict) {
			/* The directories of the name as given (its links live there), then the real one. */
			_cleanup_free_ char *given_dir = strdup(s->given ?: s->src);
			char *slash = given_dir ? strrchr(given_dir, '/') : NULL;

			if (slash && slash != given_dir) {
				*slash = '\0';
				r = fw_check_owner(s->root, given_dir, &s->why);
				if (r < 0)
					return fail(s, "ownership", r);
			}
			r = fw_check_owner(s->root, real, &s->why);
			if (r < 0)
				return fail(s, "ownership", r);
		}
		/* What was checked is what is read: no link followed at the last step, same inode. */
		if (lstat(real, &checked) < 0)
			return fail(s, "firmware read", -errno);
		own_fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
		if (own_fd < 0)
			return fail(s, "firmware read", -errno);
		if (fstat(own_fd, &opened) < 0)
			return fail(s, "firmware read", -errno);
		if (opened.st_dev != checked.st_dev || opened.st_ino != checked.st_ino)
			return fail(s, "firmware read", -ESTALE);
		fd = own_fd;
	}
	r = read_image(fd, &buf, &len);
	if (r == -EFBIG) {
		/* Over RPROC_FIRMWARE_SIZE_MAX: the validator's verdict, as without staging. */
		s->fw_error = RPROC_FW_E_TOO_LARGE;
		s->failed_step = "validate";
		return RPROC_FW_E_TOO_LARGE;
	}
	if (r < 0)
		return fail(s, "firmware read", r);
	/* The identity of what was read (a file loaded by name is checked again after the boot). */
	{
		struct stat st;

		if (fstat(fd, &st) < 0)
			return fail(s, "firmware read", -errno);
		if (s->strict && own_fd >= 0 &&
		    ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		     (st.st_mode & (S_IWGRP | S_IWOTH)))) {
			r = refuse(&s->why, s->src, &st, "not root's alone");
			return fail(s, "ownership", r);
		}
		s->info.dev = st.st_dev;
		s->info.ino = st.st_ino;
		s->info.mtime_nsec = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	}
	r = fw_sha256_hex(buf, len, s->digest);
	if (r < 0)
		return fail(s, "digest", r);
	/* The pin first: an image nobody qualified is not even parsed. */
	r = check_pin(s);
	if (r < 0)
		return r;
	{
		dev_t dev = s->info.dev;
		ino_t ino = s->info.ino;
		int64_t mtime = s->info.mtime_nsec;

		r = rproc_firmware_validate_buffer(buf, len, s->expect, &s->info);
		s->info.dev = dev;
		s->info.ino = ino;
		s->info.mtime_nsec = mtime;
		s->info.size = len;
	}
	if (r < 0)
		return fail(s, "validate", r);
	if (r > 0) {
		s->fw_error = r;
		s->failed_step = "validate";
		return r;
	}
	if (!s->copy)
		return 0;
	return write_copy(s, buf, len);
}

void fw_stage_done(struct fw_stage *s)
{
	free(s->name);
	s->name = NULL;
	free(s->why);
	s->why = NULL;
}
