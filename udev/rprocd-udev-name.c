/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rprocd-udev-name - the stable names of a remote processor or of an rpmsg
 * endpoint, for udev's IMPORT{program} (60-rprocd.rules, docs/UDEV.md).
 *
 *   rprocd-udev-name [--root DIR] DEVPATH
 *
 * DEVPATH is the device's path below /sys as udev's %p gives it. For a
 * remote processor (class remoteproc) it prints
 *
 *   RPROC_CORE=m4
 *   RPROC_LINK=remoteproc/by-name/m4
 *
 * for a class device below an rpmsg channel (rpmsg_tty's ttyRPMSGn,
 * rpmsg_char's rpmsgN) that lies below a remote processor
 *
 *   RPROC_CORE=m4
 *   RPROC_CHANNEL=rpmsg-tty
 *   RPROC_ADDR=0x400
 *   RPROC_LINK=rpmsg/m4/rpmsg-tty
 *   RPROC_LINK_FIRST=1                       (when no other channel of that
 *                                             name below the core has a lower
 *                                             remote address: the rules give
 *                                             it the higher link priority)
 *   RPROC_LINK_ADDR=rpmsg/m4/rpmsg-tty@0x400 (not without a remote address)
 *
 * and nothing for any other device (exit 0), the control device rpmsg_ctrlN
 * and endpoints made through it included. A rule alone cannot do this:
 * the core's name is an attribute of an ancestor several levels up, and
 * whether a channel's name is taken twice needs a look at its siblings.
 *
 * Names are escaped for a path component the way udev escapes labels for
 * /dev/disk/by-label (\xNN for every byte outside [A-Za-z0-9#+-.:=_]), and
 * '@' (our address separator) and a leading '.' are escaped too, so no
 * name yields '/', "." or "..". Plain libc; --root DIR reads DIR/sys
 * instead of /sys (tests).
 *
 * Exit status: 0 (also when there is nothing to print), 1 on errors, 2 on
 * usage errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RPMSG_ADDR_ANY 0xffffffffu

/* A channel: the rpmsg bus device a tty or rpmsg_char endpoint sits on. */
struct channel {
	char name[256];
	uint32_t dst;
	const char *sysname;
};

static bool path_append(char *path, size_t size, const char *component)
{
	size_t l = strlen(path);
	int n = snprintf(path + l, size - l, "/%s", component);

	return n >= 0 && (size_t) n < size - l;
}

/* Read a sysfs attribute of the device in @dir, without its trailing newline. */
static int attr_read(const char *dir, const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int) sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	if ((size_t) n == size - 1)
		return -EFBIG;
	/* An attribute is text: a NUL inside would cut the name short unseen. */
	if (memchr(buf, '\0', (size_t) n))
		return -EBADMSG;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/*
 * The subsystem of the device in @dir, from its "subsystem" link
 * (.../class/tty, .../bus/rpmsg): @ret_kind "class" or "bus", @ret_name
 * the subsystem. -ENOENT when @dir is no device (a class glue directory).
 */
static int subsystem_read(const char *dir, char *ret_kind, size_t kind_size, char *ret_name,
			  size_t name_size)
{
	char path[PATH_MAX], target[PATH_MAX], *name, *kind;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/subsystem", dir) >= (int) sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	name = strrchr(target, '/');
	if (!name)
		return -EBADMSG;
	*name++ = '\0';
	kind = strrchr(target, '/');
	kind = kind ? kind + 1 : target;
	if (strlen(kind) >= kind_size || strlen(name) >= name_size)
		return -ENAMETOOLONG;
	strcpy(ret_kind, kind);
	strcpy(ret_name, name);
	return 0;
}

static bool subsystem_is(const char *dir, const char *kind, const char *name)
{
	char k[16], n[64];

	return subsystem_read(dir, k, sizeof(k), n, sizeof(n)) >= 0 && !strcmp(k, kind) &&
	       !strcmp(n, name);
}

/*
 * Move @path (below @sysroot) to its parent device: up past the directories
 * that are no device (class glue directories such as "tty/"). -ENOENT at
 * the top.
 */
static int parent_device(const char *sysroot, char *path)
{
	size_t rootlen = strlen(sysroot);

	for (;;) {
		char *slash = strrchr(path, '/');
		char k[16], n[64];

		if (!slash || (size_t) (slash - path) <= rootlen)
			return -ENOENT;
		*slash = '\0';
		if (subsystem_read(path, k, sizeof(k), n, sizeof(n)) >= 0)
			return 0;
	}
}

/*
 * Escape @in for one path component into @out (@size bytes): the bytes
 * udev keeps in /dev/disk/by-label names pass, except '@'; a leading '.'
 * and everything else become \xNN. -EINVAL for an empty name,
 * -ENAMETOOLONG when the result is longer than NAME_MAX.
 */
static int name_escape(const char *in, char *out, size_t size)
{
	static const char plain[] = "#+-.:=_";
	size_t o = 0;

	if (!*in)
		return -EINVAL;
	for (size_t i = 0; in[i]; i++) {
		unsigned char c = (unsigned char) in[i];
		bool keep = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr(plain, c)) &&
			    !(i == 0 && c == '.');

		if (o + (keep ? 1 : 4) >= size || o + (keep ? 1 : 4) > NAME_MAX)
			return -ENAMETOOLONG;
		if (keep)
			out[o++] = (char) c;
		else
			o += (size_t) sprintf(out + o, "\\x%02x", c);
	}
	out[o] = '\0';
	return 0;
}

static int addr_parse(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t) v;
	return 0;
}

static int channel_read(const char *dir, struct channel *ret)
{
	char dst[32];
	int r;

	r = attr_read(dir, "name", ret->name, sizeof(ret->name));
	if (r < 0)
		return r;
	r = attr_read(dir, "dst", dst, sizeof(dst));
	if (r < 0)
		return r;
	r = addr_parse(dst, &ret->dst);
	if (r < 0)
		return r;
	ret->sysname = strrchr(dir, '/') + 1;
	return 0;
}

/* The order among channels of one name below one core: the lowest address first. */
static int channel_cmp(const struct channel *a, const struct channel *b)
{
	if (a->dst != b->dst)
		return a->dst < b->dst ? -1 : 1;
	return strcmp(a->sysname, b->sysname);
}

/*
 * Whether @ch (in @ch_dir) comes first among the rpmsg channels below the
 * core in @core_dir that have its name: those on the rpmsg bus whose real
 * path lies below the core's.
 */
static int channel_is_first(const char *sysroot, const char *core_dir, const char *ch_dir,
			    const struct channel *ch, bool *ret)
{
	char bus[PATH_MAX];
	size_t corelen = strlen(core_dir);
	struct dirent *de;
	bool first = true;
	DIR *d;

	if (snprintf(bus, sizeof(bus), "%s/bus/rpmsg/devices", sysroot) >= (int) sizeof(bus))
		return -ENAMETOOLONG;
	d = opendir(bus);
	if (!d)
		return -errno;
	while (first && (de = readdir(d))) {
		char link[PATH_MAX], real[PATH_MAX];
		struct channel other;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(link, sizeof(link), "%s/%s", bus, de->d_name) >= (int) sizeof(link))
			continue;
		/* gone meanwhile, or not below this core */
		if (!realpath(link, real) || strncmp(real, core_dir, corelen) != 0 ||
		    real[corelen] != '/' || !strcmp(real, ch_dir))
			continue;
		if (channel_read(real, &other) < 0 || strcmp(other.name, ch->name) != 0)
			continue;
		if (channel_cmp(&other, ch) < 0)
			first = false;
	}
	closedir(d);
	*ret = first;
	return 0;
}

/* Print the properties of the remote processor in @dir. */
static int core_print(const char *dir)
{
	char name[4096], esc[NAME_MAX + 1];
	int r;

	r = attr_read(dir, "name", name, sizeof(name));
	if (r < 0)
		return r;
	r = name_escape(name, esc, sizeof(esc));
	if (r == -EINVAL)
		return 0; /* no name, no link */
	if (r < 0)
		return r;
	printf("RPROC_CORE=%s\nRPROC_LINK=remoteproc/by-name/%s\n", esc, esc);
	return 0;
}

/*
 * Print the properties of the class device in @dir if its parent device is
 * an rpmsg channel below a remote processor; nothing otherwise.
 */
static int endpoint_print(const char *sysroot, const char *dir)
{
	char ch_dir[PATH_MAX], core_dir[PATH_MAX], core_name[4096];
	char core_esc[NAME_MAX + 1], ch_esc[NAME_MAX + 1], addr[16];
	struct channel ch;
	bool first = false;
	int r;

	strcpy(ch_dir, dir);
	/*
	 * The parent must be the channel itself: an endpoint made through
	 * /dev/rpmsg_ctrlN hangs below the control device and belongs to the
	 * program that made it, not to a channel the remote announced.
	 */
	if (parent_device(sysroot, ch_dir) < 0 || !subsystem_is(ch_dir, "bus", "rpmsg"))
		return 0;
	strcpy(core_dir, ch_dir);
	do {
		if (parent_device(sysroot, core_dir) < 0)
			return 0; /* not below a remote processor */
	} while (!subsystem_is(core_dir, "class", "remoteproc"));

	r = channel_read(ch_dir, &ch);
	if (r < 0)
		return r;
	r = attr_read(core_dir, "name", core_name, sizeof(core_name));
	if (r < 0)
		return r;
	r = name_escape(core_name, core_esc, sizeof(core_esc));
	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	r = name_escape(ch.name, ch_esc, sizeof(ch_esc));
	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	snprintf(addr, sizeof(addr), "0x%x", (unsigned) ch.dst);
	if (strlen(ch_esc) + 1 + strlen(addr) > NAME_MAX)
		return -ENAMETOOLONG;
	r = channel_is_first(sysroot, core_dir, ch_dir, &ch, &first);
	if (r < 0)
		return r;

	printf("RPROC_CORE=%s\nRPROC_CHANNEL=%s\n", core_esc, ch_esc);
	if (ch.dst != RPMSG_ADDR_ANY)
		printf("RPROC_ADDR=%s\n", addr);
	printf("RPROC_LINK=rpmsg/%s/%s\n", core_esc, ch_esc);
	if (first)
		printf("RPROC_LINK_FIRST=1\n");
	/* no remote address, nothing stable to tell it by */
	if (ch.dst != RPMSG_ADDR_ANY)
		printf("RPROC_LINK_ADDR=rpmsg/%s/%s@%s\n", core_esc, ch_esc, addr);
	return 0;
}

static bool devpath_valid(const char *devpath)
{
	if (devpath[0] != '/' || devpath[1] == '\0')
		return false;
	for (const char *p = devpath; p; p = strchr(p + 1, '/'))
		if (!strncmp(p, "/../", 4) || !strcmp(p, "/..") || !strncmp(p, "/./", 3) ||
		    !strcmp(p, "/.") || !strncmp(p, "//", 2))
			return false;
	return true;
}

/* rpmsgN */
static bool sysname_is_endpoint(const char *sysname)
{
	if (strncmp(sysname, "rpmsg", 5) != 0 || !sysname[5])
		return false;
	return strspn(sysname + 5, "0123456789") == strlen(sysname + 5);
}

static int run(const char *root, const char *devpath)
{
	char sysroot[PATH_MAX], dir[PATH_MAX], kind[16], subsystem[64];
	int r;

	if (!devpath_valid(devpath))
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/sys", root ? root : "") >= (int) sizeof(dir))
		return -ENAMETOOLONG;
	if (!realpath(dir, sysroot))
		return -errno;
	strcpy(dir, sysroot);
	if (!path_append(dir, sizeof(dir), devpath + 1))
		return -ENAMETOOLONG;

	r = subsystem_read(dir, kind, sizeof(kind), subsystem, sizeof(subsystem));
	if (r < 0)
		return r;
	if (strcmp(kind, "class") != 0)
		return 0;
	if (!strcmp(subsystem, "remoteproc"))
		return core_print(dir);
	if (!strcmp(subsystem, "tty"))
		return endpoint_print(sysroot, dir);
	/* rpmsg_char's endpoints, not the control device rpmsg_ctrlN */
	if (!strcmp(subsystem, "rpmsg") && sysname_is_endpoint(strrchr(dir, '/') + 1))
		return endpoint_print(sysroot, dir);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: rprocd-udev-name [--root DIR] [DEVPATH]\n"
		   "Print the stable names (udev properties) of a remote processor or of an\n"
		   "rpmsg endpoint below one; DEVPATH as udev's %%p (/devices/...), by default\n"
		   "$DEVPATH as udev sets it.\n");
}

int main(int argc, char **argv)
{
	const char *root = NULL, *devpath;
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			root = argv[i] + 7;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			usage(stderr);
			return 2;
		}
	}
	/*
	 * From udev, the device path comes in $DEVPATH: on a command line it
	 * would be split at spaces the firmware put in a channel name.
	 */
	if (argc - i > 1 || (argc - i == 0 && !getenv("DEVPATH"))) {
		usage(stderr);
		return 2;
	}
	devpath = argc - i == 1 ? argv[i] : getenv("DEVPATH");
	r = run(root, devpath);
	if (r < 0) {
		fprintf(stderr, "rprocd-udev-name: %s: %s\n", devpath, strerror(-r));
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "rprocd-udev-name: writing the properties failed\n");
		return 1;
	}
	return 0;
}
