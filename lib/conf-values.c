/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value syntax of systemd.syntax(7) and systemd.time(7), as far as rprocd uses it. */
#include <ctype.h>
#include <limits.h>
#include <strings.h>

#include "rproc/config.h"
#include "util.h"

int rproc_parse_boolean(const char *s)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

static const struct {
	const char *suffix;
	rproc_usec_t usec;
} time_units[] = {
	{ "seconds", RPROC_USEC_PER_SEC },
	{ "second", RPROC_USEC_PER_SEC },
	{ "sec", RPROC_USEC_PER_SEC },
	{ "s", RPROC_USEC_PER_SEC },
	{ "minutes", 60 * RPROC_USEC_PER_SEC },
	{ "minute", 60 * RPROC_USEC_PER_SEC },
	{ "min", 60 * RPROC_USEC_PER_SEC },
	{ "months", 2629800 * RPROC_USEC_PER_SEC },
	{ "month", 2629800 * RPROC_USEC_PER_SEC },
	{ "msec", RPROC_USEC_PER_MSEC },
	{ "ms", RPROC_USEC_PER_MSEC },
	{ "m", 60 * RPROC_USEC_PER_SEC },
	{ "hours", 3600 * RPROC_USEC_PER_SEC },
	{ "hour", 3600 * RPROC_USEC_PER_SEC },
	{ "hr", 3600 * RPROC_USEC_PER_SEC },
	{ "h", 3600 * RPROC_USEC_PER_SEC },
	{ "days", 86400 * RPROC_USEC_PER_SEC },
	{ "day", 86400 * RPROC_USEC_PER_SEC },
	{ "d", 86400 * RPROC_USEC_PER_SEC },
	{ "weeks", 604800 * RPROC_USEC_PER_SEC },
	{ "week", 604800 * RPROC_USEC_PER_SEC },
	{ "w", 604800 * RPROC_USEC_PER_SEC },
	{ "usec", 1 },
	{ "us", 1 },
	{ "\xcd\xbcs", 1 }, /* μs */
};

/* One "<number>[<unit>]" at *p; advances *p. */
static int parse_time_component(const char **p, rproc_usec_t *ret)
{
	const char *s = *p, *e;
	unsigned long long whole = 0, frac = 0, frac_div = 1;
	rproc_usec_t unit = RPROC_USEC_PER_SEC;
	size_t ulen = 0;

	if (!isdigit((unsigned char) *s) && *s != '.')
		return -EINVAL;
	for (e = s; isdigit((unsigned char) *e); e++) {
		if (whole > (ULLONG_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (unsigned) (*e - '0');
	}
	if (*e == '.') {
		e++;
		if (!isdigit((unsigned char) *e) && e - 1 == s)
			return -EINVAL;
		for (; isdigit((unsigned char) *e); e++)
			if (frac_div < 1000000ULL) {
				frac = frac * 10 + (unsigned) (*e - '0');
				frac_div *= 10;
			}
	}
	while (*e == ' ' || *e == '\t')
		e++;
	for (size_t i = 0; i < ELEMENTSOF(time_units); i++) {
		size_t l = strlen(time_units[i].suffix);

		if (strncmp(e, time_units[i].suffix, l) == 0 && !isalpha((unsigned char) e[l])) {
			unit = time_units[i].usec;
			ulen = l;
			break;
		}
	}
	if (ulen == 0 && isalpha((unsigned char) *e))
		return -EINVAL;

	if (whole > (UINT64_MAX - unit) / unit)
		return -ERANGE;
	/* frac < frac_div <= 1e6 and unit <= ~2.6e12: the product fits in 64 bits. */
	*ret = whole * unit + (frac * unit + frac_div / 2) / frac_div;
	*p = e + ulen;
	return 0;
}

int rproc_parse_timespan(const char *s, rproc_usec_t *ret)
{
	rproc_usec_t sum = 0;
	bool any = false;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char) *s))
		s++;
	if (strcmp(s, "infinity") == 0) {
		*ret = RPROC_USEC_INFINITY;
		return 0;
	}
	for (;;) {
		rproc_usec_t v;
		int r;

		while (isspace((unsigned char) *s))
			s++;
		if (!*s)
			break;
		r = parse_time_component(&s, &v);
		if (r < 0)
			return r;
		if (v > UINT64_MAX - 1 - sum)
			return -ERANGE;
		sum += v;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret = sum;
	return 0;
}

int rproc_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		char c;
		unsigned shift;
	} suffixes[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 },
			 { 'T', 40 }, { 'P', 50 }, { 'E', 60 } };
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char) *s))
		s++;
	if (!isdigit((unsigned char) *s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	while (*end == ' ')
		end++;
	if (*end) {
		bool found = false;

		for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
			if (toupper((unsigned char) *end) == suffixes[i].c) {
				shift = suffixes[i].shift;
				found = true;
				break;
			}
		if (found) {
			end++;
			if (*end == 'i' && end[1] == 'B')
				end += 2;
			else if (*end == 'B')
				end++;
		} else if (*end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t) v << shift;
	return 0;
}

int rproc_parse_unsigned(const char *s, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char) *s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > UINT_MAX)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = (unsigned) v;
	return 0;
}

char *rproc_format_timespan(char *buf, size_t len, rproc_usec_t usec)
{
	static const struct {
		const char *suffix;
		rproc_usec_t usec;
	} units[] = {
		{ "d", 86400 * RPROC_USEC_PER_SEC }, { "h", 3600 * RPROC_USEC_PER_SEC },
		{ "min", 60 * RPROC_USEC_PER_SEC },  { "s", RPROC_USEC_PER_SEC },
		{ "ms", RPROC_USEC_PER_MSEC },	     { "us", 1 },
	};
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = 0;
	if (usec == RPROC_USEC_INFINITY) {
		snprintf(buf, len, "infinity");
		return buf;
	}
	if (usec == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < ELEMENTSOF(units) && usec > 0 && used < len; i++) {
		rproc_usec_t n = usec / units[i].usec;
		int k;

		if (n == 0)
			continue;
		k = snprintf(buf + used, len - used, "%s%llu%s", used ? " " : "",
			     (unsigned long long) n, units[i].suffix);
		if (k < 0)
			break;
		used += (size_t) k;
		usec -= n * units[i].usec;
	}
	return buf;
}
