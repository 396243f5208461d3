/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syntax of systemd.syntax(7): sections, comments, continuation lines. */
#include <stdarg.h>

#include "conf-parser.h"

const char *conf_read_error(int error)
{
	switch (error) {
	case EISDIR:
		return "it is a directory";
	case EBADFD:
		return "not a regular file (a FIFO, socket or device node)";
	case ELOOP:
		return "too many levels of symbolic links (a symlink loop?)";
	case ENOENT:
		return "no such file (a dangling symlink?)";
	default:
		return strerror(error);
	}
}

int conf_diag(struct conf_diags *d, int priority, const char *file, unsigned line, const char *fmt,
	      ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = conf_diagv(d, priority, file, line, fmt, ap);
	va_end(ap);
	return r;
}

int conf_diagv(struct conf_diags *d, int priority, const char *file, unsigned line, const char *fmt,
	       va_list ap)
{
	struct rproc_config_diag *nv, *e;
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;

	nv = realloc(*d->v, sizeof(**d->v) * (*d->n + 1));
	if (!nv) {
		free(msg);
		return -ENOMEM;
	}
	*d->v = nv;
	e = &nv[*d->n];
	*e = (struct rproc_config_diag){
		.priority = priority,
		.file = file ? strdup(file) : NULL,
		.line = line,
		.message = msg,
	};
	if (file && !e->file) {
		free(msg);
		return -ENOMEM;
	}
	(*d->n)++;

	if (line > 0)
		rproc_log(d->ctx, priority, "%s:%u: %s", strempty(file), line, msg);
	else
		rproc_log(d->ctx, priority, "%s: %s", strempty(file), msg);
	return 0;
}

void conf_diags_free(struct rproc_config_diag *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].message);
	}
	free(v);
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_char_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0; /* overlong, surrogates */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Text must be UTF-8 without control characters other than tab (values go onto D-Bus). */
static bool line_is_text(const char *line)
{
	const unsigned char *s = (const unsigned char *) line;

	while (*s) {
		size_t n;

		if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
		n = utf8_char_len(s);
		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

struct parse_state {
	const char *file;
	conf_assignment_fn fn;
	void *userdata;
	struct conf_diags *diags;
	char *section;
	bool failed;
};

#define parse_error(st, line, ...) \
	((st)->failed = true, conf_diag((st)->diags, LOG_ERR, (st)->file, line, __VA_ARGS__))

static int parse_logical_line(struct parse_state *st, unsigned line, char *l)
{
	char *eq, *key, *value;
	int r;

	l = strstrip(l);
	if (!*l || *l == '#' || *l == ';')
		return 0;

	if (!line_is_text(l))
		return parse_error(st, line, "line contains control characters or invalid UTF-8");

	if (*l == '[') {
		size_t n = strlen(l);
		char *name;

		if (n < 3 || l[n - 1] != ']')
			return parse_error(st, line, "invalid section header \"%s\"", l);
		name = strndup(l + 1, n - 2);
		if (!name)
			return -ENOMEM;
		if (strpbrk(name, "[]")) {
			free(name);
			return parse_error(st, line, "invalid section header \"%s\"", l);
		}
		free(st->section);
		st->section = name;
		return 0;
	}

	eq = strchr(l, '=');
	if (!eq)
		return parse_error(st, line, "missing '=' in \"%s\"", l);
	*eq = 0;
	key = strstrip(l);
	value = strstrip(eq + 1);
	if (!*key)
		return parse_error(st, line, "assignment without a key");
	if (!st->section)
		return conf_diag(st->diags, LOG_WARNING, st->file, line,
				 "assignment to %s= outside of any section, ignored", key);

	r = st->fn(st->userdata, st->file, line, st->section, key, value);
	if (r == -EINVAL) {
		st->failed = true;
		return 0;
	}
	return r;
}

static int finish_line(struct parse_state *st, unsigned line, char *logical, size_t len,
		       bool too_long)
{
	logical[len] = 0;
	if (too_long)
		return parse_error(st, line, "line longer than %u bytes", CONF_LINE_MAX);
	return parse_logical_line(st, line, logical);
}

int conf_parse_file(const char *host_path, const char *file, conf_assignment_fn fn, void *userdata,
		    struct conf_diags *diags)
{
	_cleanup_free_ char *buf = NULL, *logical = NULL;
	struct parse_state st = {
		.file = file,
		.fn = fn,
		.userdata = userdata,
		.diags = diags,
	};
	size_t size, llen = 0;
	unsigned lineno = 0, first_line = 0;
	bool in_line = false, too_long = false;
	char *p, *end;
	int r = 0;

	r = read_full_file(host_path, CONF_FILE_MAX, &buf, &size);
	if (r == -EFBIG) {
		conf_diag(diags, LOG_ERR, file, 0, "file is larger than %u bytes", CONF_FILE_MAX);
		return -EBADMSG;
	}
	if (r < 0)
		return r;
	if (memchr(buf, 0, size)) {
		const char *nul = memchr(buf, 0, size);
		unsigned l = 1;

		for (const char *c = buf; c < nul; c++)
			l += *c == '\n';
		conf_diag(diags, LOG_ERR, file, l, "%s", "binary data (a NUL byte) in a text file");
		return -EBADMSG;
	}

	logical = malloc(CONF_LINE_MAX + 1);
	if (!logical)
		return -ENOMEM;

	for (p = buf; p < buf + size && r >= 0; p = end + 1) {
		char *nl = memchr(p, '\n', (size_t) (buf + size - p));
		size_t n;
		bool cont;

		end = nl ? nl : buf + size;
		*end = 0;
		lineno++;
		n = (size_t) (end - p);
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = 0;

		/* Comment lines inside a continuation are skipped, as systemd does. */
		if (in_line && (p[strspn(p, " \t")] == '#' || p[strspn(p, " \t")] == ';'))
			continue;
		if (!in_line) {
			first_line = lineno;
			llen = 0;
			too_long = false;
			in_line = true;
		}

		cont = n > 0 && p[n - 1] == '\\';
		if (cont)
			p[n - 1] = ' ';
		if (llen + n > CONF_LINE_MAX)
			too_long = true;
		else {
			memcpy(logical + llen, p, n);
			llen += n;
		}
		if (cont)
			continue;

		in_line = false;
		r = finish_line(&st, first_line, logical, llen, too_long);
	}
	/* A continuation that ran into the end of the file ends there. */
	if (r >= 0 && in_line)
		r = finish_line(&st, first_line, logical, llen, too_long);

	free(st.section);
	if (r < 0)
		return r;
	return st.failed ? -EBADMSG : 0;
}
