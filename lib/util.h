/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal helpers of librproc: cleanup attributes, string vectors, files. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a _cleanup_ scope. */
#define TAKE_PTR(p)                      \
	({                               \
		__typeof__(p) _p_ = (p); \
		(p) = NULL;              \
		_p_;                     \
	})
#define TAKE_FD(fd)              \
	({                       \
		int _fd_ = (fd); \
		(fd) = -1;       \
		_fd_;            \
	})

static inline void freep(void *p)
{
	free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

void strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Append a copy of s; returns 0 or -ENOMEM. */
/* A copy of l (NULL for NULL); NULL with errno ENOMEM on failure (check l first). */
char **strv_copy(char *const *l);
int strv_extend(char ***l, const char *s);
/* Append s itself (taking ownership even on failure). */
int strv_push(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
void strv_sort(char **l);
/* Words joined by sep; caller frees. */
char *strv_join(char *const *l, const char *sep);

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return streq(a, b);
}
static inline const char *strempty(const char *s)
{
	return s ?: "";
}
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
/* Remove trailing white space in place; returns s. */
char *strstrip_trailing(char *s);
/* Skip leading and cut trailing white space in place; returns the start. */
char *strstrip(char *s);
/* Replace *p with a copy of s (NULL clears). Returns 0 or -ENOMEM. */
int free_and_strdup(char **p, const char *s);
/* printf into a fresh string, or NULL. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
/* dir + "/" + name */
char *path_join(const char *dir, const char *name);

/*
 * Read a small file (sysfs attribute, config file) completely.
 * Fails with -EFBIG above max bytes, -EISDIR for a directory and -EBADFD for
 * anything else that is not a regular file (a FIFO never blocks the caller).
 * The result is NUL-terminated;
 * ret_size (optional) excludes the NUL.
 */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
/* Write the bytes of value to an existing file (O_WRONLY, no O_CREAT), in one write(). */
/* All n bytes to fd, across short writes and EINTR: 0 or a negative errno. */
int write_all(int fd, const char *buf, size_t n);
int write_string_file(const char *path, const char *value);
/* Create path and its missing parents (parents 0755, path itself mode); an existing one is fine. */
int mkdir_p(const char *path, mode_t mode);
/* Create the missing parents of path (0755), not path itself. */
int mkdir_parents(const char *path);

/* The errno (either sign) as its symbolic name where libc knows it ("EINVAL"), else "E?". */
const char *errno_name(int e);

/* The time of a clock (CLOCK_MONOTONIC, CLOCK_REALTIME) in microseconds. */
uint64_t now_usec(clockid_t clock);

static inline int abs_errno(int e)
{
	return e < 0 ? -e : e;
}

/* Errno of the last failure, never 0 (an I/O path that failed without errno gives -EIO). */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}
