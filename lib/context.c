/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "context-internal.h"

/* Links followed on one walk before it is a loop (the kernel's MAXSYMLINKS). */
#define CHASE_LINKS_MAX 40

int rproc_ctx_new(const char *root_dir, struct rproc_ctx **ret)
{
	struct rproc_ctx *ctx;
	size_t l;

	if (!ret)
		return -EINVAL;
	if (root_dir && root_dir[0] != '/')
		return -EINVAL;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->n_ref = 1;
	ctx->log_priority = LOG_INFO;
	ctx->root = strdup(root_dir ?: "");
	if (!ctx->root) {
		free(ctx);
		return -ENOMEM;
	}
	l = strlen(ctx->root);
	while (l > 0 && ctx->root[l - 1] == '/')
		ctx->root[--l] = 0;

	*ret = ctx;
	return 0;
}

struct rproc_ctx *rproc_ctx_ref(struct rproc_ctx *ctx)
{
	if (ctx)
		ctx->n_ref++;
	return ctx;
}

struct rproc_ctx *rproc_ctx_unref(struct rproc_ctx *ctx)
{
	if (!ctx || --ctx->n_ref > 0)
		return NULL;
	free(ctx->root);
	free(ctx);
	return NULL;
}

const char *rproc_ctx_get_root(const struct rproc_ctx *ctx)
{
	return ctx->root;
}

void rproc_ctx_set_image(struct rproc_ctx *ctx, int image)
{
	ctx->image = image;
}

void rproc_ctx_set_log_fn(struct rproc_ctx *ctx, rproc_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
}

void rproc_ctx_set_log_priority(struct rproc_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

int rproc_ctx_get_log_priority(const struct rproc_ctx *ctx)
{
	return ctx->log_priority;
}

int rproc_ctx_path(const struct rproc_ctx *ctx, const char *path, char **ret)
{
	char *p;

	if (!path || path[0] != '/')
		return -EINVAL;
	p = strdup_printf("%s%s", ctx->root, path);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* The target of the link name in dir_fd, NUL-terminated. */
static int readlinkat_malloc(int dir_fd, const char *name, char **ret)
{
	_cleanup_free_ char *buf = malloc(PATH_MAX);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = readlinkat(dir_fd, name, buf, PATH_MAX);
	if (n < 0)
		return negative_errno();
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* done += "/" + the n bytes of name */
static int append_component(char **done, const char *name, size_t n)
{
	size_t l = strlen(*done);
	char *d = realloc(*done, l + n + 2);

	if (!d)
		return -ENOMEM;
	d[l] = '/';
	memcpy(d + l + 1, name, n);
	d[l + n + 1] = 0;
	*done = d;
	return 0;
}

/* Replace *fd with nfd (taken). */
static void replace_fd(int *fd, int nfd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
}

/*
 * Walk path one component at a time under the root, never letting the host
 * kernel follow a link: each is read and resolved here, an absolute target
 * from the root again, and ".." stops at the root (systemd's chase() with
 * CHASE_PREFIX_ROOT). openat2(RESOLVE_IN_ROOT) would do this in the kernel
 * from 5.6 on, but it gives an fd and callers want a path; one walk
 * everywhere is one behaviour on every build host.
 */
static int chase_in_root(const struct rproc_ctx *ctx, const char *path, unsigned flags,
			 char **ret_resolved)
{
	_cleanup_free_ char *todo = NULL, *done = NULL;
	_cleanup_close_ int root_fd = -1, fd = -1;
	unsigned links = 0;
	bool missing = false;
	const char *p;
	int r;

	root_fd = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return negative_errno();
	fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return negative_errno();
	todo = strdup(path);
	done = strdup("");
	if (!todo || !done)
		return -ENOMEM;

	for (p = todo;;) {
		_cleanup_free_ char *name = NULL;
		const char *e;
		struct stat st;
		size_t n;
		bool last;
		int child;

		p += strspn(p, "/");
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t) (e - p);
		last = !e[strspn(e, "/")];
		if (n == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* "missing/..": the kernel says ENOENT; going back up
			 * from a name never looked at would skip its checks. */
			if (missing)
				return -ENOENT;
			/* At the root, ".." is the root. */
			if (*done) {
				*strrchr(done, '/') = 0;
				child = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (child < 0)
					return negative_errno();
				replace_fd(&fd, child);
			}
			p = e;
			continue;
		}
		if (missing) {
			/* Below a name that is not there: the rest as written. */
			r = append_component(&done, p, n);
			if (r < 0)
				return r;
			p = e;
			continue;
		}

		name = strndup(p, n);
		if (!name)
			return -ENOMEM;
		child = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0) {
			if (errno != ENOENT || !(flags & RPROC_CHASE_NONEXISTENT))
				return negative_errno();
			missing = true;
			r = append_component(&done, p, n);
			if (r < 0)
				return r;
			p = e;
			continue;
		}
		if (fstat(child, &st) < 0) {
			r = negative_errno();
			close(child);
			return r;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & RPROC_CHASE_NOFOLLOW))) {
			_cleanup_free_ char *target = NULL;
			char *next;

			close(child);
			if (++links > CHASE_LINKS_MAX)
				return -ELOOP;
			r = readlinkat_malloc(fd, name, &target);
			if (r < 0)
				return r;
			if (!*target)
				return -ENOENT; /* as the kernel answers for an empty link */
			if (target[0] == '/') {
				child = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
				if (child < 0)
					return negative_errno();
				replace_fd(&fd, child);
				done[0] = 0;
			}
			/* The target, then what followed the link; e is "" or starts with "/". */
			next = strdup_printf("%s%s", target, e);
			if (!next)
				return -ENOMEM;
			free(todo);
			p = todo = next;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(child);
			return -ENOTDIR;
		}
		replace_fd(&fd, child);
		r = append_component(&done, p, n);
		if (r < 0)
			return r;
		p = e;
	}

	if (!*done) {
		free(done);
		done = strdup("/");
		if (!done)
			return -ENOMEM;
	}
	*ret_resolved = TAKE_PTR(done);
	return 0;
}

int rproc_ctx_chase(const struct rproc_ctx *ctx, const char *path, unsigned flags, char **ret_host,
		    char **ret_path)
{
	_cleanup_free_ char *resolved = NULL;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (!ctx->root[0])
		/* The real system: the host kernel resolves it when it is used, as always. */
		resolved = strdup(path);
	else {
		r = chase_in_root(ctx, path, flags, &resolved);
		if (r < 0)
			return r;
	}
	if (!resolved)
		return -ENOMEM;
	if (ret_host) {
		*ret_host = strdup_printf("%s%s", ctx->root, resolved);
		if (!*ret_host)
			return -ENOMEM;
	}
	if (ret_path)
		*ret_path = TAKE_PTR(resolved);
	return 0;
}

void rproc_ctx_log(const struct rproc_ctx *ctx, int priority, const char *file, int line,
		   const char *func, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	ctx->log_fn(ctx->log_userdata, priority, file, line, func, format, ap);
	va_end(ap);
}
