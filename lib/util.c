/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

void strv_free(char **l)
{
	if (!l)
		return;
	for (char **i = l; *i; i++)
		free(*i);
	free(l);
}

size_t strv_length(char *const *l)
{
	size_t n = 0;

	if (l)
		while (l[n])
			n++;
	return n;
}

int strv_push(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **m;

	m = realloc(*l, sizeof(char *) * (n + 2));
	if (!m) {
		free(s);
		return -ENOMEM;
	}
	m[n] = s;
	m[n + 1] = NULL;
	*l = m;
	return 0;
}

char **strv_copy(char *const *l)
{
	char **c = NULL;

	for (; l && *l; l++)
		if (strv_extend(&c, *l) < 0) {
			strv_free(c);
			return NULL;
		}
	return c;
}

int strv_extend(char ***l, const char *s)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	return strv_push(l, c);
}

bool strv_contains(char *const *l, const char *s)
{
	if (l)
		for (; *l; l++)
			if (streq(*l, s))
				return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l)
{
	if (strv_length(l) > 1)
		qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

char *strv_join(char *const *l, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *r, *p;

	for (char *const *i = l; i && *i; i++)
		len += strlen(*i) + seplen;
	r = p = malloc(len);
	if (!r)
		return NULL;
	*p = 0;
	for (char *const *i = l; i && *i; i++) {
		if (i != l)
			p = stpcpy(p, sep);
		p = stpcpy(p, *i);
	}
	return r;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip_trailing(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char) s[n - 1]))
		s[--n] = 0;
	return s;
}

char *strstrip(char *s)
{
	while (isspace((unsigned char) *s))
		s++;
	return strstrip_trailing(s);
}

int free_and_strdup(char **p, const char *s)
{
	char *c = NULL;

	if (s) {
		c = strdup(s);
		if (!c)
			return -ENOMEM;
	}
	free(*p);
	*p = c;
	return 0;
}

char *strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *r;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&r, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : r;
}

char *path_join(const char *dir, const char *name)
{
	size_t l = strlen(dir);

	if (l > 0 && dir[l - 1] == '/')
		return strdup_printf("%s%s", dir, name[0] == '/' ? name + 1 : name);
	return strdup_printf("%s%s%s", dir, name[0] == '/' ? "" : "/", name);
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, alloc = 0;

	struct stat st;

	/* O_NONBLOCK: a FIFO in place of a file must not hang the caller in open(). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;

	for (;;) {
		ssize_t n;

		if (alloc - size < 2) {
			size_t na = alloc ? alloc * 2 : 4096;
			char *nb;

			if (alloc > max + 1)
				return -EFBIG;
			nb = realloc(buf, na);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			alloc = na;
		}
		n = read(fd, buf + size, alloc - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		size += (size_t) n;
		if (size > max)
			return -EFBIG;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[size] = 0;
	/* Callers keep short values (sysfs attributes) for long: not in a 4 KiB buffer each. */
	if (alloc - size > 64) {
		char *nb = realloc(buf, size + 1);

		if (nb)
			buf = nb;
	}
	*ret = TAKE_PTR(buf);
	if (ret_size)
		*ret_size = size;
	return 0;
}

int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, buf, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		buf += k;
		n -= (size_t) k;
	}
	return 0;
}

int write_string_file(const char *path, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	if ((size_t) n != len)
		return -EIO;
	return 0;
}

static int mkdir_prefixes(char *p)
{
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return negative_errno();
			*c = '/';
		}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_prefixes(p);
	if (r < 0)
		return r;
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	return p ? mkdir_prefixes(p) : -ENOMEM;
}

uint64_t now_usec(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

const char *errno_name(int e)
{
	const char *n = strerrorname_np(abs_errno(e));

	return n ? n : "E?";
}
