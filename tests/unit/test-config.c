/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <syslog.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "librproc.h"
#include "test-util.h"

struct fixture {
	char *root;
	struct rproc_ctx *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = test_root_new();
	assert_non_null(f->root);
	assert_int_equal(rproc_ctx_new(f->root, &f->ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rproc_ctx_unref(f->ctx);
	test_root_free(f->root);
	free(f);
	return 0;
}

static void put(struct fixture *f, const char *path, const char *text)
{
	assert_int_equal(test_write_str(f->root, path, text), 0);
}

/* root + path, for unlink() (a static buffer: use it at once). */
static const char *host_path(struct fixture *f, const char *path)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", f->root, path);
	return buf;
}

static struct rproc_core_config *load_ok(struct fixture *f, const char *name,
					 const struct rproc_daemon_config *d)
{
	struct rproc_core_config *c = NULL;
	int r = rproc_core_config_load(f->ctx, name, d, &c);

	if (r != 0 && c)
		for (size_t i = 0; i < c->n_diags; i++)
			print_error("diag: %s:%u: %s\n", c->diags[i].file, c->diags[i].line,
				    c->diags[i].message);
	assert_int_equal(r, 0);
	assert_non_null(c);
	assert_true(c->valid);
	return c;
}

/* Load a core that must be refused, and check the first error names file:line and a phrase. */
static void expect_error(struct fixture *f, const char *name, const char *file, unsigned line,
			 const char *phrase)
{
	struct rproc_core_config *c = NULL;
	const struct rproc_config_diag *e;

	assert_int_equal(rproc_core_config_load(f->ctx, name, NULL, &c), -EBADMSG);
	assert_non_null(c);
	assert_false(c->valid);
	e = rproc_core_config_first_error(c);
	assert_non_null(e);
	assert_int_equal(e->priority, LOG_ERR);
	assert_string_equal(e->file, file);
	assert_int_equal(e->line, line);
	if (!strstr(e->message, phrase))
		fail_msg("message \"%s\" does not contain \"%s\"", e->message, phrase);
	rproc_core_config_free(c);
}

static bool streq_or_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool has_warning(const struct rproc_core_config *c, const char *file, unsigned line,
			const char *phrase)
{
	for (size_t i = 0; i < c->n_diags; i++)
		if (c->diags[i].priority == LOG_WARNING && streq_or_null(c->diags[i].file, file) &&
		    c->diags[i].line == line && strstr(c->diags[i].message, phrase))
			return true;
	return false;
}

static void test_all_keys(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/etc/rprocd/cores/m4.core",
	    "# the M4 of the board\n"
	    "[Match]\n"
	    "Name=78000000.m4\n"
	    "DevicePath=/sys/devices/platform/soc/*\n"
	    "\n"
	    "[Core]\n"
	    "Description=Cortex-M4 sensor hub\n"
	    "Firmware=st/m4-app.elf\n"
	    "FallbackFirmware=st/m4-safe.elf\n"
	    "FirmwareClass=32\n"
	    "FirmwareMachine=ARM\n"
	    "FirmwareFormat=elf\n"
	    "Start=boot\n"
	    "Stop=detach\n"
	    "OnCrash=restart\n"
	    "OnExit=stop\n"
	    "RestartSec=250ms\n"
	    "StartLimitBurst=3\n"
	    "StartLimitIntervalSec=1min\n"
	    "SettleSec=2s\n"
	    "Coredump=inline\n"
	    "CoredumpDirectory=/var/lib/dumps\n"
	    "CoredumpMaxFiles=4\n"
	    "CoredumpMaxUse=16M\n"
	    "BindLifetime=yes\n"
	    "Requires=dsp gpu\n"
	    "After=dsp\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->name, "m4");
	assert_string_equal(c->match_name, "78000000.m4");
	assert_string_equal(c->match_device_path, "/sys/devices/platform/soc/*");
	assert_string_equal(c->description, "Cortex-M4 sensor hub");
	assert_string_equal(c->firmware, "st/m4-app.elf");
	assert_string_equal(c->fallback_firmware, "st/m4-safe.elf");
	assert_int_equal(c->firmware_class, 32);
	assert_int_equal(c->firmware_machine, 40);
	assert_int_equal(c->settings.firmware_format, RPROC_FW_FORMAT_ELF);
	assert_int_equal(c->settings.start, RPROC_START_BOOT);
	assert_int_equal(c->settings.stop, RPROC_STOP_DETACH);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_RESTART);
	assert_int_equal(c->settings.on_exit, RPROC_EXIT_STOP);
	assert_true(c->settings.restart_usec == 250000);
	assert_int_equal(c->settings.start_limit_burst, 3);
	assert_true(c->settings.start_limit_interval_usec == 60000000);
	assert_true(c->settings.settle_usec == 2000000);
	assert_int_equal(c->settings.coredump, RPROC_COREDUMP_INLINE);
	assert_string_equal(c->settings.coredump_directory, "/var/lib/dumps");
	assert_int_equal(c->settings.coredump_max_files, 4);
	assert_true(c->settings.coredump_max_use == 16ULL << 20);
	assert_true(c->settings.bind_lifetime);
	assert_string_equal(c->requires[0], "dsp");
	assert_string_equal(c->requires[1], "gpu");
	assert_null(c->requires[2]);
	assert_string_equal(c->after[0], "dsp");
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	assert_string_equal(c->origin[RPROC_KEY_FIRMWARE].file, "/etc/rprocd/cores/m4.core");
	assert_int_equal(c->origin[RPROC_KEY_FIRMWARE].line, 8);
	assert_int_equal(c->n_diags, 0);
	rproc_core_config_free(c);
}

static void test_defaults_without_files(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;
	char *v;

	put(f, "/usr/lib/rprocd/cores/dsp.core", "[Core]\n");
	c = load_ok(f, "dsp", NULL);
	assert_string_equal(c->match_name, "dsp");
	assert_null(c->match_device_path);
	assert_null(c->firmware);
	assert_int_equal(c->firmware_machine, -1);
	assert_int_equal(c->settings.start, RPROC_START_AUTO);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_KERNEL);
	assert_int_equal(c->settings.on_exit, RPROC_EXIT_LEAVE);
	assert_string_equal(c->settings.coredump_directory, RPROC_DEFAULT_COREDUMP_DIRECTORY);
	assert_null(c->origin[RPROC_KEY_START].file);
	v = rproc_core_config_format_value(c, RPROC_KEY_RESTART_SEC);
	assert_string_equal(v, "100ms");
	free(v);
	v = rproc_core_config_format_value(c, RPROC_KEY_START);
	assert_string_equal(v, "auto");
	free(v);
	assert_null(rproc_core_config_format_value(c, RPROC_KEY_POLL_INTERVAL_SEC));
	rproc_core_config_free(c);
}

static void test_first_directory_wins(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/usr/lib/rprocd/cores/m4.core", "[Core]\nFirmware=vendor.elf\nOnCrash=leave\n");
	put(f, "/usr/local/lib/rprocd/cores/m4.core", "[Core]\nFirmware=local.elf\n");
	put(f, "/run/rprocd/cores/m4.core", "[Core]\nFirmware=run.elf\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->path, "/run/rprocd/cores/m4.core");
	assert_string_equal(c->firmware, "run.elf");
	/* Files are not merged: the vendor file's OnCrash= is not applied. */
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_KERNEL);
	rproc_core_config_free(c);

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=admin.elf\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	assert_string_equal(c->firmware, "admin.elf");
	rproc_core_config_free(c);
}

static void test_mask(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c = NULL;
	char **names = NULL;

	put(f, "/usr/lib/rprocd/cores/m4.core", "[Core]\nFirmware=vendor.elf\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/x.conf", "[Core]\nStart=no\n");
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", "/dev/null"), 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	assert_null(c->firmware);
	assert_null(c->dropins);
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	rproc_core_config_free(c);

	/* A masked core is still listed: the daemon reports it as masked. */
	assert_int_equal(rproc_core_config_list(f->ctx, &names), 0);
	assert_string_equal(names[0], "m4");
	assert_null(names[1]);
	rproc_strv_free(names);

	/* A mask in a lower-priority directory does not mask a higher one. */
	put(f, "/run/rprocd/cores/m4.core", "[Core]\nFirmware=run.elf\n");
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/etc/rprocd/cores/m4.core", f->root);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(test_symlink(f->root, "/usr/local/lib/rprocd/cores/m4.core", "/dev/null"),
			 0);
	c = load_ok(f, "m4", NULL);
	assert_false(c->masked);
	assert_string_equal(c->firmware, "run.elf");
	rproc_core_config_free(c);
}

static void test_dropins_across_directories(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/usr/lib/rprocd/cores/m4.core",
	    "[Core]\nFirmware=base.elf\nRestartSec=1s\nRequires=a b\nOnCrash=leave\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/10-vendor.conf", "[Core]\nFirmware=vendor10.elf\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/30-vendor.conf", "[Core]\nFirmware=vendor30.elf\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/40-masked.conf", "[Core]\nStart=no\n");
	put(f, "/etc/rprocd/cores/m4.core.d/20-admin.conf",
	    "[Core]\nFirmware=admin20.elf\nRequires=\nRequires=c\n");
	put(f, "/run/rprocd/cores/m4.core.d/10-vendor.conf", "[Core]\nRestartSec=5s\n");
	put(f, "/etc/rprocd/cores/m4.core.d/50-reset.conf", "[Core]\nOnCrash=\n");
	put(f, "/etc/rprocd/cores/m4.core.d/README", "not a drop-in\n");
	assert_int_equal(
		test_symlink(f->root, "/etc/rprocd/cores/m4.core.d/40-masked.conf", "/dev/null"),
		0);

	c = load_ok(f, "m4", NULL);
	/* Order by file name across directories; /run's 10-vendor.conf hides /usr/lib's. */
	assert_string_equal(c->dropins[0], "/run/rprocd/cores/m4.core.d/10-vendor.conf");
	assert_string_equal(c->dropins[1], "/etc/rprocd/cores/m4.core.d/20-admin.conf");
	assert_string_equal(c->dropins[2], "/usr/lib/rprocd/cores/m4.core.d/30-vendor.conf");
	assert_string_equal(c->dropins[3], "/etc/rprocd/cores/m4.core.d/50-reset.conf");
	assert_null(c->dropins[4]);
	/* A later drop-in wins for a single value. */
	assert_string_equal(c->firmware, "vendor30.elf");
	assert_string_equal(c->origin[RPROC_KEY_FIRMWARE].file,
			    "/usr/lib/rprocd/cores/m4.core.d/30-vendor.conf");
	assert_true(c->settings.restart_usec == 5000000);
	/* The empty assignment reset the list before c was added. */
	assert_string_equal(c->requires[0], "c");
	assert_null(c->requires[1]);
	/* The masked drop-in was not applied; the empty OnCrash= went back to the default. */
	assert_int_equal(c->settings.start, RPROC_START_AUTO);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_KERNEL);
	rproc_core_config_free(c);
}

static void test_daemon_defaults(void **state)
{
	struct fixture *f = *state;
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config *c;

	put(f, "/usr/lib/rprocd/rprocd.conf",
	    "[Daemon]\nPollIntervalSec=200ms\nAdminGroup=rproc\n"
	    "[Defaults]\nOnCrash=restart\nRestartSec=2s\nCoredump=enabled\n");
	put(f, "/etc/rprocd/rprocd.conf.d/10-site.conf", "[Defaults]\nStartLimitBurst=9\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->poll_interval_usec == 200000);
	assert_string_equal(d->admin_group, "rproc");
	assert_string_equal(d->path, "/usr/lib/rprocd/rprocd.conf");
	assert_string_equal(d->dropins[0], "/etc/rprocd/rprocd.conf.d/10-site.conf");

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nRestartSec=3s\n");
	put(f, "/etc/rprocd/cores/m4.core.d/reset.conf", "[Core]\nRestartSec=\n");
	put(f, "/etc/rprocd/cores/dsp.core", "[Core]\nOnCrash=leave\n");
	c = load_ok(f, "m4", d);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_RESTART);
	assert_int_equal(c->settings.coredump, RPROC_COREDUMP_ENABLED);
	assert_int_equal(c->settings.start_limit_burst, 9);
	/* An empty assignment resets to what rprocd.conf gave, not to the built-in value. */
	assert_true(c->settings.restart_usec == 2000000);
	assert_string_equal(c->origin[RPROC_KEY_ON_CRASH].file, "/usr/lib/rprocd/rprocd.conf");
	assert_int_equal(c->origin[RPROC_KEY_ON_CRASH].line, 5);
	assert_string_equal(c->origin[RPROC_KEY_START_LIMIT_BURST].file,
			    "/etc/rprocd/rprocd.conf.d/10-site.conf");
	rproc_core_config_free(c);

	c = load_ok(f, "dsp", d);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_LEAVE);
	rproc_core_config_free(c);
	rproc_daemon_config_free(d);
}

static void test_daemon_config_errors(void **state)
{
	struct fixture *f = *state;
	struct rproc_daemon_config *d = NULL;

	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_null(d->path);
	assert_true(d->poll_interval_usec == RPROC_POLL_INTERVAL_AUTO);
	assert_int_equal(d->kernel_events, RPROC_KERNEL_EVENTS_AUTO);
	rproc_daemon_config_free(d);

	/* 0, no and infinity: never poll; auto and an empty value: the default. */
	put(f, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=0\nKernelEvents=kmsg\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->poll_interval_usec == RPROC_USEC_INFINITY);
	assert_int_equal(d->kernel_events, RPROC_KERNEL_EVENTS_KMSG);
	rproc_daemon_config_free(d);
	put(f, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=no\nKernelEvents=no\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->poll_interval_usec == RPROC_USEC_INFINITY);
	assert_int_equal(d->kernel_events, RPROC_KERNEL_EVENTS_NO);
	rproc_daemon_config_free(d);
	put(f, "/etc/rprocd/rprocd.conf",
	    "[Daemon]\nPollIntervalSec=2s\nKernelEvents=sysfs\nPollIntervalSec=\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->poll_interval_usec == RPROC_POLL_INTERVAL_AUTO);
	assert_int_equal(d->kernel_events, RPROC_KERNEL_EVENTS_SYSFS);
	rproc_daemon_config_free(d);

	/* Invalid values are warnings, ignored: the keys keep their earlier values. */
	put(f, "/etc/rprocd/rprocd.conf",
	    "[Daemon]\nPollIntervalSec=soon\nAdminGroup=bad group\nKernelEvents=journal\n"
	    "[Defaults]\nFirmware=x.elf\n");
	put(f, "/etc/rprocd/rprocd.conf.d/10-first.conf", "[Daemon]\nKernelEvents=kmsg\n");
	put(f, "/etc/rprocd/rprocd.conf.d/20-then.conf", "[Daemon]\nKernelEvents=dmesg\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->valid);
	assert_int_equal(d->n_diags, 5);
	for (size_t i = 0; i < d->n_diags; i++)
		assert_int_equal(d->diags[i].priority, LOG_WARNING);
	assert_int_equal(d->diags[0].line, 2);
	assert_non_null(strstr(d->diags[0].message, "PollIntervalSec"));
	assert_non_null(strstr(d->diags[0].message, "; ignored"));
	assert_int_equal(d->diags[1].line, 3);
	assert_int_equal(d->diags[2].line, 4);
	assert_non_null(strstr(d->diags[2].message, "auto, kmsg, sysfs, no"));
	/* Firmware= is per core: in [Defaults] it is unknown, a warning. */
	assert_int_equal(d->diags[3].line, 6);
	assert_non_null(strstr(d->diags[3].message, "unknown key Firmware="));
	assert_string_equal(d->diags[4].file, "/etc/rprocd/rprocd.conf.d/20-then.conf");
	/* The invalid value did not replace the default, nor the earlier drop-in's value. */
	assert_true(d->poll_interval_usec == RPROC_POLL_INTERVAL_AUTO);
	assert_null(d->admin_group);
	assert_int_equal(d->kernel_events, RPROC_KERNEL_EVENTS_KMSG);
	assert_string_equal(d->origin[RPROC_KEY_KERNEL_EVENTS].file,
			    "/etc/rprocd/rprocd.conf.d/10-first.conf");
	rproc_daemon_config_free(d);

	/* A syntax error is an error (the line is ignored, the rest applies). */
	put(f, "/etc/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec 2s\nAdminGroup=rproc\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), -EBADMSG);
	assert_false(d->valid);
	assert_int_equal(d->diags[0].priority, LOG_ERR);
	assert_int_equal(d->diags[0].line, 2);
	assert_string_equal(d->admin_group, "rproc");
	rproc_daemon_config_free(d);
}

static void test_syntax(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/etc/rprocd/cores/m4.core",
	    "; a comment\n"
	    "  # another\n"
	    "[Core]\r\n"
	    "  Description  =  spaced out  \n"
	    "Requires=a \\\n"
	    "# a comment inside a continuation is skipped\n"
	    "  b \\\n"
	    "  c\n"
	    "X-Vendor=whatever\n"
	    "[X-Tooling]\n"
	    "Anything=goes\n"
	    "[Core]\n"
	    "Firmware=f.elf\\\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->description, "spaced out");
	assert_string_equal(c->requires[0], "a");
	assert_string_equal(c->requires[1], "b");
	assert_string_equal(c->requires[2], "c");
	/* A continuation running into the end of the file ends there. */
	assert_string_equal(c->firmware, "f.elf");
	assert_int_equal(c->n_diags, 0);
	assert_int_equal(c->origin[RPROC_KEY_REQUIRES].line, 5);
	rproc_core_config_free(c);
}

static void test_warnings_keep_core_managed(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/etc/rprocd/cores/m4.core",
	    "Firmware=outside.elf\n"
	    "[Core]\n"
	    "Frimware=typo.elf\n"
	    "[Kore]\n"
	    "Start=no\n"
	    "[Core]\n"
	    "PollIntervalSec=1s\n");
	put(f, "/etc/rprocd/cores/m4.core.d", "a file, not a directory\n");
	c = load_ok(f, "m4", NULL);
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core", 1, "outside of any section"));
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core", 3, "unknown key Frimware="));
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core", 5, "unknown section [Kore]"));
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core", 7, "unknown key PollIntervalSec="));
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core.d", 0, "not a directory"));
	assert_int_equal(c->n_diags, 5);
	assert_null(c->firmware);
	assert_int_equal(c->settings.start, RPROC_START_AUTO);
	rproc_core_config_free(c);
}

/* Strict keys: an invalid value leaves the core unmanaged (which core, which image, whether to boot). */
static void test_value_errors_strict(void **state)
{
	static const struct {
		const char *line;
		const char *phrase;
	} cases[] = {
		{ "Start=sometimes", "auto, boot, attach, no" },
		{ "FirmwareFormat=bin", "elf, opaque" },
		{ "Firmware=../../etc/shadow", "firmware name" },
		{ "Firmware=/lib/firmware/../abs.elf", "firmware name" },
		{ "Firmware=//abs.elf", "firmware name" },
		{ "FirmwareDigest=sha256:00", "64 hexadecimal digits" },
		{ "FirmwareDigest=md5:0123456789abcdef0123456789abcdef", "sha256:" },
		{ "FallbackFirmware=a//b", "firmware name" },
		{ "FirmwareClass=16", "32 or 64" },
		{ "FirmwareMachine=Z80-ish", "ELF machine" },
		{ "Requires=m4", "itself" },
		{ "Requires=good bad/name", "not a core name" },
		{ "Firmware=fw-%q.elf", "unknown specifier %q" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text), "# case %zu\n[Core]\nDescription=ok\n%s\n", i,
			 cases[i].line);
		put(f, "/etc/rprocd/cores/m4.core", text);
		expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 4, cases[i].phrase);
	}

	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nName=a/b\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "no '/'");
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nDevicePath=platform/*\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "absolute");
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nCompatible=\"ti,am62\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "Compatible=");
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nModel=!\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "Model=");
	/* A later valid assignment does not make up for it: what was meant is unknown. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nStart=noo\n");
	put(f, "/etc/rprocd/cores/m4.core.d/fix.conf", "[Core]\nStart=no\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "Start=");
}

/*
 * Every other key: systemd's rule. The invalid assignment is a warning at
 * file:line, ignored; the key keeps the value it had before that line.
 */
static void test_value_errors_ignored(void **state)
{
	static const struct {
		const char *line;
		const char *phrase;
	} cases[] = {
		{ "Stop=halt", "shutdown, detach" },
		{ "OnCrash=panic", "kernel, restart, leave" },
		{ "OnExit=explode", "leave, stop, detach" },
		{ "Coredump=yes", "disabled, enabled, inline" },
		{ "BindLifetime=perhaps", "yes or no" },
		{ "RestartSec=soon", "time span" },
		{ "StartLimitIntervalSec=-5s", "time span" },
		{ "SettleSec=1fortnight", "time span" },
		{ "StartLimitBurst=0", "at least 1" },
		{ "StartLimitBurst=many", "non-negative integer" },
		{ "CoredumpMaxFiles=-1", "non-negative integer" },
		{ "CoredumpMaxUse=lots", "size" },
		{ "CoredumpDirectory=relative/dir", "absolute" },
		{ "CoredumpDirectory=/var/../etc", "\"..\"" },
		{ "CoredumpDirectory=/var/%z", "unknown specifier %z" },
		{ "Description=100%", "a lone '%'" },
		{ "After=bad/name", "not a core name" },
		{ "After=m4", "itself" },
		{ "ReadyWhen=a/b", "rpmsg channel name" },
		{ "ReadyTimeoutSec=never", "time span" },
		{ "OnReadyTimeout=panic", "restart, leave, stop" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rproc_core_config *c;
		char text[512];

		snprintf(text, sizeof(text), "# case %zu\n[Core]\nDescription=ok\n%s\n", i,
			 cases[i].line);
		put(f, "/etc/rprocd/cores/m4.core", text);
		c = load_ok(f, "m4", NULL);
		assert_int_equal(c->n_diags, 1);
		if (!has_warning(c, "/etc/rprocd/cores/m4.core", 4, cases[i].phrase) ||
		    !strstr(c->diags[0].message, "; ignored"))
			fail_msg("case %zu: %s:%u: %s", i, c->diags[0].file, c->diags[0].line,
				 c->diags[0].message);
		rproc_core_config_free(c);
	}
}

/* The value before the ignored line stands: an earlier line, a drop-in, rprocd.conf, built-in. */
static void test_ignored_value_keeps_earlier(void **state)
{
	struct fixture *f = *state;
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config *c;

	put(f, "/etc/rprocd/rprocd.conf", "[Defaults]\nRestartSec=2s\nOnExit=stop\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	put(f, "/usr/lib/rprocd/cores/m4.core",
	    "[Core]\nOnCrash=restart\nOnCrash=sometimes\nRestartSec=later\nAfter=a\n"
	    "After=b c/d\nDescription=before\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/50-bad.conf",
	    "[Core]\nOnExit=explode\nDescription=%\nStartLimitBurst=0\n");
	c = load_ok(f, "m4", d);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_RESTART);
	assert_int_equal(c->origin[RPROC_KEY_ON_CRASH].line, 2);
	/* rprocd.conf's values, with their origin. */
	assert_true(c->settings.restart_usec == 2 * RPROC_USEC_PER_SEC);
	assert_string_equal(c->origin[RPROC_KEY_RESTART_SEC].file, "/etc/rprocd/rprocd.conf");
	assert_int_equal(c->settings.on_exit, RPROC_EXIT_STOP);
	/* A list keeps what it had: no part of the invalid assignment is added. */
	assert_string_equal(c->after[0], "a");
	assert_null(c->after[1]);
	assert_string_equal(c->description, "before");
	assert_int_equal(c->settings.start_limit_burst, RPROC_DEFAULT_START_LIMIT_BURST);
	assert_null(c->origin[RPROC_KEY_START_LIMIT_BURST].file);
	assert_int_equal(c->n_diags, 6);
	assert_true(has_warning(c, "/usr/lib/rprocd/cores/m4.core", 3, "OnCrash="));
	assert_true(has_warning(c, "/usr/lib/rprocd/cores/m4.core.d/50-bad.conf", 4,
				"StartLimitBurst="));
	rproc_core_config_free(c);
	rproc_daemon_config_free(d);
}

/*
 * rprocd.conf [Defaults] with an invalid value of a strict key: an error
 * there, and the cores that take the key from it are not managed (what the
 * file meant, Start=no perhaps, is unknown); a core that sets it is fine.
 */
static void test_defaults_strict_invalid(void **state)
{
	struct fixture *f = *state;
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config *c = NULL;
	const struct rproc_config_diag *e;

	put(f, "/etc/rprocd/rprocd.conf",
	    "[Defaults]\nStart=manual\nOnCrash=sometimes\nFirmwareFormat=signed\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), -EBADMSG);
	assert_false(d->valid);
	assert_int_equal(d->n_diags, 3);
	assert_int_equal(d->diags[0].priority, LOG_ERR);
	assert_non_null(strstr(d->diags[0].message, "cores that do not set Start= themselves"));
	assert_int_equal(d->diags[1].priority, LOG_WARNING);
	assert_int_equal(d->diags[2].priority, LOG_ERR);
	assert_int_equal(d->invalid[RPROC_KEY_START].line, 2);
	assert_null(d->invalid[RPROC_KEY_ON_CRASH].file);
	assert_int_equal(d->defaults.start, RPROC_START_AUTO);

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=m4.elf\n");
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", d, &c), -EBADMSG);
	assert_false(c->valid);
	e = rproc_core_config_first_error(c);
	assert_string_equal(e->file, "/etc/rprocd/cores/m4.core");
	assert_int_equal(e->line, 0);
	assert_string_equal(e->message, "FirmwareFormat= is invalid in [Defaults] at "
					"/etc/rprocd/rprocd.conf:4 and this core does not set it "
					"itself");
	assert_int_equal(c->n_diags, 2);
	assert_string_equal(c->diags[1].message, "Start= is invalid in [Defaults] at "
						 "/etc/rprocd/rprocd.conf:2 and this core does not "
						 "set it itself");
	rproc_core_config_free(c);

	/* Both set in the core (one in a drop-in): managed. An empty Start= sets nothing. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nStart=no\n");
	put(f, "/etc/rprocd/cores/m4.core.d/f.conf", "[Core]\nFirmwareFormat=opaque\n");
	c = load_ok(f, "m4", d);
	assert_int_equal(c->settings.start, RPROC_START_NO);
	rproc_core_config_free(c);
	put(f, "/etc/rprocd/cores/m4.core.d/g.conf", "[Core]\nStart=\n");
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", d, &c), -EBADMSG);
	rproc_core_config_free(c);
	rproc_daemon_config_free(d);
}

static void test_syntax_errors(void **state)
{
	struct fixture *f = *state;
	char *big;

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware a.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "missing '='");
	put(f, "/etc/rprocd/cores/m4.core", "[Core\nFirmware=a.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 1, "section header");
	put(f, "/etc/rprocd/cores/m4.core", "[]\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 1, "section header");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\n=value\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "without a key");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nDescription=caf\xc3\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "UTF-8");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nDescription=bell\a\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "control characters");
	assert_int_equal(test_write(f->root, "/etc/rprocd/cores/m4.core", "[Core]\n\nA=b\0c\n", 12),
			 0);
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 3, "NUL");

	/* A very long line is refused, and the lines after it still parse. */
	big = malloc(100000);
	assert_non_null(big);
	strcpy(big, "[Core]\nDescription=");
	memset(big + strlen(big), 'x', 70000);
	strcpy(big + strlen("[Core]\nDescription=") + 70000, "\nStart=sideways\n");
	put(f, "/etc/rprocd/cores/m4.core", big);
	free(big);
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "longer than");

	/* Errors in drop-ins name the drop-in. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=a.elf\n");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/50-bad.conf", "\n\n[Core]\nStart=sometimes\n");
	expect_error(f, "m4", "/usr/lib/rprocd/cores/m4.core.d/50-bad.conf", 4, "Start=");
}

/* A FIFO at root/path (parent directories created). */
static void fifo(struct fixture *f, const char *path)
{
	char host[4096], dir[4096];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(test_mkdir(f->root, dir), 0);
	snprintf(host, sizeof(host), "%s%s", f->root, path);
	assert_int_equal(mkfifo(host, 0644), 0);
}

static bool listed(char **names, const char *name)
{
	for (char **n = names; n && *n; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

static void test_unusable_files(void **state)
{
	struct fixture *f = *state;
	char **names = NULL;

	/* A symlink loop. */
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/loop.core", "loop2.core"), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/loop2.core", "loop.core"), 0);
	expect_error(f, "loop", "/etc/rprocd/cores/loop.core", 0, "cannot be read");
	/* A directory where a file should be. */
	assert_int_equal(test_mkdir(f->root, "/etc/rprocd/cores/dir.core"), 0);
	expect_error(f, "dir", "/etc/rprocd/cores/dir.core", 0, "directory");
	/* A dangling drop-in. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\n");
	assert_int_equal(
		test_symlink(f->root, "/etc/rprocd/cores/m4.core.d/x.conf", "/nonexistent"), 0);
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core.d/x.conf", 0, "cannot be read");
	/* FIFOs as a file and as a drop-in: refused at once, nobody waits for a writer. */
	fifo(f, "/etc/rprocd/cores/fifo.core");
	expect_error(f, "fifo", "/etc/rprocd/cores/fifo.core", 0, "not a regular file");
	put(f, "/etc/rprocd/cores/dsp.core", "[Core]\n");
	fifo(f, "/etc/rprocd/cores/dsp.core.d/x.conf");
	expect_error(f, "dsp", "/etc/rprocd/cores/dsp.core.d/x.conf", 0, "not a regular file");
	/* Listed, so that the daemon reports them rather than skipping them silently. */
	assert_int_equal(rproc_core_config_list(f->ctx, &names), 0);
	assert_true(listed(names, "dir"));
	assert_true(listed(names, "fifo"));
	for (char **n = names; *n; n++)
		free(*n);
	free(names);
}

static void test_cross_key_checks(void **state)
{
	struct fixture *f = *state;

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=a.elf\nFallbackFirmware=a.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 3, "same image");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFallbackFirmware=b.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "needs Firmware=");
}

static void test_dependency_cycles(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c[4];
	const struct rproc_config_diag *e;

	put(f, "/etc/rprocd/cores/a.core", "[Core]\nFirmware=a.elf\nRequires=b\n");
	put(f, "/etc/rprocd/cores/b.core", "[Core]\nAfter=c\n");
	put(f, "/etc/rprocd/cores/c.core", "[Core]\n# c closes the loop\nRequires=a\n");
	put(f, "/etc/rprocd/cores/d.core", "[Core]\nRequires=a\n");
	c[0] = load_ok(f, "a", NULL);
	c[1] = load_ok(f, "b", NULL);
	c[2] = load_ok(f, "c", NULL);
	c[3] = load_ok(f, "d", NULL);
	assert_int_equal(rproc_core_configs_check(c, 4), 0);
	for (int i = 0; i < 3; i++)
		assert_false(c[i]->valid);
	/* d only depends on the cycle: it stays valid (it waits on a, which never starts). */
	assert_true(c[3]->valid);
	e = rproc_core_config_first_error(c[0]);
	assert_non_null(e);
	assert_string_equal(e->file, "/etc/rprocd/cores/a.core");
	assert_int_equal(e->line, 3);
	assert_string_equal(e->message, "dependency cycle through Requires=/After=: a → b → c → a");
	e = rproc_core_config_first_error(c[2]);
	assert_int_equal(e->line, 3);
	assert_string_equal(e->message, "dependency cycle through Requires=/After=: c → a → b → c");
	e = rproc_core_config_first_error(c[1]);
	assert_int_equal(e->line, 2);
	for (int i = 0; i < 4; i++)
		rproc_core_config_free(c[i]);
	assert_int_equal(rproc_core_configs_check(NULL, 0), 0);
}

static void test_one_bad_core_leaves_others(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;
	char **names = NULL;

	put(f, "/etc/rprocd/cores/bad.core", "[Core]\nStart=whenever\n");
	put(f, "/usr/lib/rprocd/cores/good.core", "[Core]\nFirmware=good.elf\n");
	put(f, "/run/rprocd/cores/other.core", "[Core]\nStart=attach\n");
	put(f, "/etc/rprocd/cores/not-a-core.txt", "ignored\n");
	assert_int_equal(rproc_core_config_list(f->ctx, &names), 0);
	assert_string_equal(names[0], "bad");
	assert_string_equal(names[1], "good");
	assert_string_equal(names[2], "other");
	assert_null(names[3]);
	rproc_strv_free(names);

	expect_error(f, "bad", "/etc/rprocd/cores/bad.core", 2, "Start=");
	c = load_ok(f, "good", NULL);
	assert_string_equal(c->firmware, "good.elf");
	rproc_core_config_free(c);
	c = load_ok(f, "other", NULL);
	assert_int_equal(c->settings.start, RPROC_START_ATTACH);
	rproc_core_config_free(c);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c = NULL;

	assert_int_equal(rproc_core_config_load(f->ctx, "missing", NULL, &c), -ENOENT);
	assert_null(c);
	assert_int_equal(rproc_core_config_load(f->ctx, "../etc/passwd", NULL, &c), -EINVAL);
	assert_int_equal(rproc_core_config_load(f->ctx, "", NULL, &c), -EINVAL);
	assert_null(c);
	/* A file whose name cannot be a core's is reported at its path. */
	put(f, "/usr/lib/rprocd/cores/m4 copy.core", "[Core]\n");
	expect_error(f, "m4 copy", "/usr/lib/rprocd/cores/m4 copy.core", 0,
		     "not a valid core name");
	assert_int_equal(rproc_core_config_load(f->ctx, "-x", NULL, &c), -ENOENT);
	assert_null(c);
}

static void test_matching(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	put(f, "/etc/rprocd/cores/r5f-0.core",
	    "[Match]\nName=r5f\nDevicePath=/sys/devices/platform/bus@f4000/*78000000.r5f*\n");
	c = load_ok(f, "r5f-0", NULL);
	assert_true(rproc_core_config_matches(
		c, "r5f", "/sys/devices/platform/bus@f4000/78000000.r5f/remoteproc/remoteproc1"));
	assert_false(rproc_core_config_matches(
		c, "r5f", "/sys/devices/platform/bus@f4000/78400000.r5f/remoteproc/remoteproc2"));
	assert_false(
		rproc_core_config_matches(c, "m4", "/sys/devices/platform/bus@f4000/78000000.r5f"));
	assert_false(rproc_core_config_matches(c, "r5f", NULL));
	rproc_core_config_free(c);

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\n");
	c = load_ok(f, "m4", NULL);
	assert_true(rproc_core_config_matches(c, "m4", "/sys/devices/anything"));
	assert_false(rproc_core_config_matches(c, "m40", "/sys/devices/anything"));
	rproc_core_config_free(c);
}

static void test_key_names(void **state)
{
	(void) state;
	assert_string_equal(rproc_config_key_name(RPROC_KEY_FIRMWARE), "Core.Firmware");
	assert_string_equal(rproc_config_key_name(RPROC_KEY_MATCH_DEVICE_PATH), "Match.DevicePath");
	assert_string_equal(rproc_config_key_name(RPROC_KEY_POLL_INTERVAL_SEC),
			    "Daemon.PollIntervalSec");
	for (int k = 0; k < _RPROC_KEY_MAX; k++)
		assert_non_null(rproc_config_key_name((enum rproc_config_key) k));
	assert_null(rproc_config_key_name(_RPROC_KEY_MAX));
}

/* An empty file masks like a symlink to /dev/null (systemd's rule), a drop-in too. */
static void test_mask_empty_file(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c = NULL;

	put(f, "/usr/lib/rprocd/cores/m4.core", "[Core]\nFirmware=vendor.elf\n");
	put(f, "/etc/rprocd/cores/m4.core", "");
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	assert_null(c->firmware);
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	rproc_core_config_free(c);

	/* A symlink to an empty file masks too. */
	put(f, "/etc/rprocd/empty", "");
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", "../empty"), 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	rproc_core_config_free(c);

	/* One newline is not empty: a file with nothing in it, which configures the core. */
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	put(f, "/etc/rprocd/cores/m4.core", "\n");
	c = load_ok(f, "m4", NULL);
	assert_false(c->masked);
	assert_null(c->firmware);
	rproc_core_config_free(c);

	/* An empty drop-in hides the vendor's drop-in of that name. */
	put(f, "/usr/lib/rprocd/cores/m4.core.d/10-start.conf", "[Core]\nStart=no\n");
	put(f, "/etc/rprocd/cores/m4.core.d/10-start.conf", "");
	put(f, "/usr/lib/rprocd/cores/m4.core.d/20-crash.conf", "[Core]\nOnCrash=leave\n");
	c = load_ok(f, "m4", NULL);
	assert_int_equal(c->settings.start, RPROC_START_AUTO);
	assert_int_equal(c->settings.on_crash, RPROC_CRASH_LEAVE);
	assert_string_equal(c->dropins[0], "/usr/lib/rprocd/cores/m4.core.d/20-crash.conf");
	assert_null(c->dropins[1]);
	rproc_core_config_free(c);

	/* An empty rprocd.conf masks it: built-in defaults, its drop-ins still apply. */
	put(f, "/usr/lib/rprocd/rprocd.conf", "[Daemon]\nPollIntervalSec=2s\n");
	put(f, "/etc/rprocd/rprocd.conf", "");
	{
		struct rproc_daemon_config *d = NULL;

		assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
		assert_true(d->poll_interval_usec == RPROC_POLL_INTERVAL_AUTO);
		rproc_daemon_config_free(d);
	}
}

/* Name= is compared literally: what looks like a pattern or a negation is warned about. */
static void test_name_glob_warning(void **state)
{
	static const char *const suspicious[] = { "r5f*", "!m4", "r5f?", "r5f[01]" };
	struct fixture *f = *state;
	struct rproc_core_config *c;

	for (size_t i = 0; i < sizeof(suspicious) / sizeof(suspicious[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "[Match]\n# %zu\nName=%s\n", i, suspicious[i]);
		put(f, "/etc/rprocd/cores/r5f.core", text);
		c = load_ok(f, "r5f", NULL);
		assert_string_equal(c->match_name, suspicious[i]);
		assert_true(has_warning(c, "/etc/rprocd/cores/r5f.core", 3, "compared literally"));
		assert_false(rproc_core_config_matches(c, "r5f", "/sys/devices/x"));
		assert_true(rproc_core_config_matches(c, suspicious[i], "/sys/devices/x"));
		rproc_core_config_free(c);
	}
	put(f, "/etc/rprocd/cores/r5f.core", "[Match]\nName=78000000.r5f\n");
	c = load_ok(f, "r5f", NULL);
	assert_int_equal(c->n_diags, 0);
	rproc_core_config_free(c);
}

#define MACHINE_ID "0123456789abcdef0123456789abcdef"
#define BOOT_ID	   "fedcba98-7654-3210-fedc-ba9876543210"

static void fake_identity(struct fixture *f)
{
	put(f, "/etc/hostname", "# set by the image\n  board-7  \n");
	put(f, "/etc/machine-id", MACHINE_ID "\n");
	put(f, "/proc/sys/kernel/random/boot_id", BOOT_ID "\n");
	put(f, "/proc/sys/kernel/osrelease", "6.12.9-test\n");
}

/* %H %m %b %v %% in the keys that take them, read under the root (never the host's). */
static void test_specifiers(void **state)
{
	struct fixture *f = *state;
	struct rproc_daemon_config *d = NULL;
	struct rproc_core_config *c;

	fake_identity(f);
	put(f, "/etc/rprocd/rprocd.conf", "[Defaults]\nCoredumpDirectory=/var/dumps/%H\n");
	put(f, "/etc/rprocd/cores/m4.core",
	    "[Match]\n"
	    "DevicePath=/sys/devices/%H/*\n"
	    "[Core]\n"
	    "Description=%H %m %b %v 100%%\n"
	    "Firmware=%H/fw-%v.elf\n"
	    "FallbackFirmware=safe-%m.elf\n"
	    "ReadyWhen=tty%H\n");
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	c = load_ok(f, "m4", d);
	assert_string_equal(c->description, "board-7 " MACHINE_ID
					    " fedcba9876543210fedcba9876543210 6.12.9-test 100%");
	assert_string_equal(c->firmware, "board-7/fw-6.12.9-test.elf");
	assert_string_equal(c->fallback_firmware, "safe-" MACHINE_ID ".elf");
	assert_string_equal(c->settings.coredump_directory, "/var/dumps/board-7");
	/* Keys without specifiers take '%' as it is. */
	assert_string_equal(c->match_device_path, "/sys/devices/%H/*");
	assert_string_equal(c->ready_when[0], "tty%H");
	assert_int_equal(c->n_diags, 0);
	assert_true(c->unresolved == 0);
	rproc_core_config_free(c);

	/* Per key: CoredumpDirectory= in the core file, expanded there. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nCoredumpDirectory=/d/%m/%%b\n");
	c = load_ok(f, "m4", d);
	assert_string_equal(c->settings.coredump_directory, "/d/" MACHINE_ID "/%b");
	rproc_core_config_free(c);
	rproc_daemon_config_free(d);
}

/* A value the running system cannot give: the key's rule for invalid values applies. */
static void test_specifier_errors(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	fake_identity(f);
	put(f, "/etc/machine-id", "uninitialized\n");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw-%m.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "not set yet");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nDescription=%m\nDescription=id %m\n");
	c = load_ok(f, "m4", NULL);
	assert_null(c->description);
	assert_true(has_warning(c, "/etc/rprocd/cores/m4.core", 3, "machine ID cannot be read"));
	rproc_core_config_free(c);

	assert_int_equal(unlink(host_path(f, "/etc/hostname")), 0);
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=%H.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "%H: the host name cannot be read");
	put(f, "/etc/hostname", "not a host name!\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "no valid value");

	/* Unknown specifiers and a lone '%' are invalid; "%%" is a percent sign. */
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw-%n.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "unknown specifier %n");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw.elf%\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "lone '%'");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw%%.elf\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->firmware, "fw%.elf");
	rproc_core_config_free(c);
}

/*
 * An image (rprocctl --root): what only a running system knows is noted and
 * left as written; what the image has is used; unknown specifiers stay errors.
 */
static void test_specifiers_image(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;
	char v[64];

	rproc_ctx_set_image(f->ctx, 1);
	put(f, "/etc/hostname", "imagehost\n");
	put(f, "/etc/machine-id", "");
	assert_int_equal(test_mkdir(f->root, "/lib/modules/6.1.0-image"), 0);
	put(f, "/etc/rprocd/cores/m4.core",
	    "[Core]\nFirmware=fw-%b.elf\nFallbackFirmware=%H-%v.elf\nDescription=%m on %b\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->firmware, "fw-%b.elf");
	assert_string_equal(c->fallback_firmware, "imagehost-6.1.0-image.elf");
	assert_string_equal(c->description, "%m on %b");
	assert_true(c->unresolved ==
		    ((UINT64_C(1) << RPROC_KEY_FIRMWARE) | (UINT64_C(1) << RPROC_KEY_DESCRIPTION)));
	assert_int_equal(c->n_diags, 2);
	assert_int_equal(c->diags[0].priority, LOG_NOTICE);
	assert_int_equal(c->diags[0].line, 2);
	assert_non_null(strstr(c->diags[0].message, "%b (/proc/sys/kernel/random/boot_id"));
	assert_non_null(strstr(c->diags[1].message, "%m (/etc/machine-id: it is not set yet"));
	rproc_core_config_free(c);

	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw-%b-%y.elf\n");
	expect_error(f, "m4", "/etc/rprocd/cores/m4.core", 2, "unknown specifier %y");

	/* The image's values when it has them. */
	put(f, "/etc/machine-id", MACHINE_ID "\n");
	put(f, "/etc/rprocd/cores/m4.core", "[Core]\nFirmware=fw-%m.elf\n");
	c = load_ok(f, "m4", NULL);
	snprintf(v, sizeof(v), "fw-%s.elf", MACHINE_ID);
	assert_string_equal(c->firmware, v);
	assert_true(c->unresolved == 0);
	rproc_core_config_free(c);
}

/* A board: /proc/device-tree (or /sys/firmware/devicetree/base) compatible and model. */
static void fake_board(struct fixture *f, const char *dir)
{
	static const char compat[] = "acme,board-a\0ti,am625\0";
	static const char model[] = "Acme Board A\0";
	char path[256];

	snprintf(path, sizeof(path), "%s/compatible", dir);
	assert_int_equal(test_write(f->root, path, compat, sizeof(compat) - 1), 0);
	snprintf(path, sizeof(path), "%s/model", dir);
	assert_int_equal(test_write(f->root, path, model, sizeof(model) - 1), 0);
}

/* Load m4.core with this [Match] text; does it apply to the board? */
static bool board_applies(struct fixture *f, const char *match)
{
	struct rproc_core_config *c;
	char text[512];
	bool applies;

	snprintf(text, sizeof(text), "[Match]\n%s\n[Core]\nFirmware=m4.elf\n", match);
	put(f, "/etc/rprocd/cores/m4.core", text);
	c = load_ok(f, "m4", NULL);
	applies = !c->other_board;
	/* Not an error: a file for other boards is noted and matches no core. */
	for (size_t i = 0; i < c->n_diags; i++)
		assert_int_equal(c->diags[i].priority, LOG_NOTICE);
	assert_int_equal(c->n_diags, applies ? 0 : 1);
	assert_true(rproc_core_config_matches(c, "m4", "/sys/devices/x") == applies);
	rproc_core_config_free(c);
	return applies;
}

static void test_match_board(void **state)
{
	struct fixture *f = *state;

	fake_board(f, "/proc/device-tree");
	assert_true(board_applies(f, "Compatible=ti,am625"));
	assert_true(board_applies(f, "Compatible=acme,board-a"));
	assert_true(board_applies(f, "Compatible=ti,am62*"));
	/* Several values: any of them, against any entry of the board's list. */
	assert_true(board_applies(f, "Compatible=foo,bar acme,board-a"));
	assert_false(board_applies(f, "Compatible=acme,board-b foo,*"));
	/* "!": none may match. */
	assert_true(board_applies(f, "Compatible=!acme,board-b"));
	assert_false(board_applies(f, "Compatible=!acme,board-a"));
	assert_false(board_applies(f, "Compatible=!foo ti,*"));
	/* Several lines: the lists are merged; positives and negations together. */
	assert_true(board_applies(f, "Compatible=ti,*\nCompatible=!acme,board-b"));
	assert_false(board_applies(f, "Compatible=ti,*\nCompatible=!acme,*"));
	/* An empty assignment resets the list. */
	assert_true(board_applies(f, "Compatible=foo\nCompatible=\nCompatible=acme,*"));
	/* Model=: quoted when it holds blanks; globs. */
	assert_true(board_applies(f, "Model=\"Acme Board A\""));
	assert_true(board_applies(f, "Model=Acme*"));
	assert_true(board_applies(f, "Model=\"Acme Board B\" \"Acme Board A\""));
	assert_false(board_applies(f, "Model=\"Acme Board B\""));
	assert_false(board_applies(f, "Model=!\"Acme Board ?\""));
	/* Several keys: all must match. */
	assert_true(board_applies(f, "Compatible=ti,am625\nModel=Acme*"));
	assert_false(board_applies(f, "Compatible=ti,am625\nModel=Other*"));
	assert_false(board_applies(f, "Compatible=ti,am64*\nModel=Acme*"));
	/* Name= and DevicePath= still decide which core, board keys whether the file applies. */
	assert_true(board_applies(f, "Name=m4\nCompatible=ti,*"));
}

static void test_match_board_sources(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;
	char *v;

	/* /sys/firmware/devicetree/base when /proc/device-tree is not there. */
	fake_board(f, "/sys/firmware/devicetree/base");
	assert_true(board_applies(f, "Compatible=ti,am625\nModel=\"Acme Board A\""));
	assert_false(board_applies(f, "Compatible=ti,am64*"));

	/* The notice names the key that failed, at its line. */
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nCompatible=ti,*\nModel=Other\n");
	c = load_ok(f, "m4", NULL);
	assert_true(c->other_board);
	assert_int_equal(c->diags[0].line, 3);
	assert_non_null(strstr(c->diags[0].message, "Model= does not match this board"));
	v = rproc_core_config_format_value(c, RPROC_KEY_MATCH_COMPATIBLE);
	assert_string_equal(v, "ti,*");
	free(v);
	rproc_core_config_free(c);
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nModel=!\"Acme \\\"A\\\"\" B*\n");
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->match_model[0], "!Acme \"A\"");
	assert_string_equal(c->match_model[1], "!B*");
	v = rproc_core_config_format_value(c, RPROC_KEY_MATCH_MODEL);
	assert_string_equal(v, "!\"Acme \\\"A\\\"\" !B*");
	free(v);
	rproc_core_config_free(c);
}

static void test_match_board_none(void **state)
{
	struct fixture *f = *state;

	/* No device tree (an ACPI machine): positive patterns match nothing, negations hold. */
	assert_false(board_applies(f, "Compatible=ti,*"));
	assert_true(board_applies(f, "Compatible=!ti,*"));
	assert_false(board_applies(f, "Model=*"));
	assert_true(board_applies(f, "Name=m4"));

	/* An image without one: the board is unknown, every file is taken to apply. */
	rproc_ctx_set_image(f->ctx, 1);
	assert_true(board_applies(f, "Compatible=ti,*"));
	assert_true(board_applies(f, "Compatible=!ti,*\nModel=Other"));
	/* An image root with a device tree (a test root, or rprocctl on the device): used. */
	fake_board(f, "/proc/device-tree");
	assert_false(board_applies(f, "Compatible=!ti,*"));
}

/*
 * Layering: the winning file's [Match] decides, with its drop-ins; a file for
 * other boards does not bring back the lower directory's file of that name.
 */
static void test_match_board_layering(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c;

	fake_board(f, "/proc/device-tree");
	put(f, "/usr/lib/rprocd/cores/m4.core", "[Core]\nFirmware=vendor.elf\n");
	put(f, "/etc/rprocd/cores/m4.core", "[Match]\nCompatible=acme,board-b\n[Core]\n");
	c = load_ok(f, "m4", NULL);
	assert_true(c->other_board);
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	assert_null(c->firmware);
	rproc_core_config_free(c);

	/* A drop-in can restrict a vendor file to boards, or widen it with an empty value. */
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	put(f, "/etc/rprocd/cores/m4.core.d/board.conf", "[Match]\nModel=\"Acme Board B\"\n");
	c = load_ok(f, "m4", NULL);
	assert_true(c->other_board);
	assert_string_equal(c->firmware, "vendor.elf");
	rproc_core_config_free(c);
	put(f, "/etc/rprocd/cores/m4.core.d/board.conf", "[Match]\nModel=\n");
	put(f, "/usr/lib/rprocd/cores/m4.core", "[Match]\nModel=Other\n[Core]\nFirmware=v.elf\n");
	c = load_ok(f, "m4", NULL);
	assert_false(c->other_board);
	rproc_core_config_free(c);
}

/*
 * Under a root (an image), links in it lead into it: a core file, rprocd.conf
 * and a drop-in directory linked to absolute paths the host does not have,
 * masks whose /dev/null the image does not have, a link out with "..".
 */
#define NOT_ON_HOST "/rprocd-config-test-not-on-host"
static void test_links_in_root(void **state)
{
	struct fixture *f = *state;
	struct rproc_core_config *c = NULL;
	struct rproc_daemon_config *d = NULL;
	char **names = NULL;

	assert_int_equal(access(NOT_ON_HOST, F_OK), -1);
	put(f, NOT_ON_HOST "/m4.core", "[Core]\nFirmware=image.elf\n");
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", NOT_ON_HOST "/m4.core"),
			 0);
	put(f, NOT_ON_HOST "/m4.core.d/10-start.conf", "[Core]\nStart=no\n");
	assert_int_equal(
		test_symlink(f->root, "/etc/rprocd/cores/m4.core.d", NOT_ON_HOST "/m4.core.d"), 0);
	c = load_ok(f, "m4", NULL);
	assert_false(c->masked);
	assert_string_equal(c->path, "/etc/rprocd/cores/m4.core");
	assert_string_equal(c->firmware, "image.elf");
	assert_string_equal(c->dropins[0], "/etc/rprocd/cores/m4.core.d/10-start.conf");
	assert_int_equal(c->settings.start, RPROC_START_NO);
	rproc_core_config_free(c);

	/* The directory of core files itself a link. */
	put(f, NOT_ON_HOST "/cores/dsp.core", "[Core]\nFirmware=dsp.elf\n");
	assert_int_equal(test_symlink(f->root, "/run/rprocd/cores", NOT_ON_HOST "/cores"), 0);
	assert_int_equal(rproc_core_config_list(f->ctx, &names), 0);
	assert_string_equal(names[0], "dsp");
	assert_string_equal(names[1], "m4");
	assert_null(names[2]);
	rproc_strv_free(names);
	c = load_ok(f, "dsp", NULL);
	assert_string_equal(c->firmware, "dsp.elf");
	rproc_core_config_free(c);

	put(f, NOT_ON_HOST "/rprocd.conf", "[Daemon]\nPollIntervalSec=7s\n");
	assert_int_equal(
		test_symlink(f->root, "/etc/rprocd/rprocd.conf", NOT_ON_HOST "/rprocd.conf"), 0);
	assert_int_equal(rproc_daemon_config_load(f->ctx, &d), 0);
	assert_true(d->poll_interval_usec == 7 * RPROC_USEC_PER_SEC);
	rproc_daemon_config_free(d);

	/* A link out of the root with "..": the image's file, or none; never the host's. */
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core",
				      "../../../../../../../../.." NOT_ON_HOST "/m4.core"),
			 0);
	c = load_ok(f, "m4", NULL);
	assert_string_equal(c->firmware, "image.elf");
	rproc_core_config_free(c);
	put(f, "/usr/lib/rprocd/cores/x.core", "[Core]\n");
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/x.core",
				      "../../../../../../../../../etc/hostname"),
			 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "x", NULL, &c), -EBADMSG);
	assert_string_equal(c->path, "/etc/rprocd/cores/x.core");
	assert_non_null(strstr(c->diags[0].message, "no such file"));
	rproc_core_config_free(c);
	c = NULL;

	/*
	 * Masks in an image without /dev/null: the link text, a chain of links and a
	 * relative link that end at /dev/null, a drop-in masked by a chain.
	 */
	assert_int_equal(access(host_path(f, "/dev"), F_OK), -1);
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", "/dev/null"), 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	rproc_core_config_free(c);
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", NOT_ON_HOST "/mask"),
			 0);
	assert_int_equal(test_symlink(f->root, NOT_ON_HOST "/mask", "/dev/null"), 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	rproc_core_config_free(c);
	assert_int_equal(unlink(host_path(f, "/etc/rprocd/cores/m4.core")), 0);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/m4.core", "../../../dev/null"),
			 0);
	assert_int_equal(rproc_core_config_load(f->ctx, "m4", NULL, &c), 0);
	assert_true(c->masked);
	rproc_core_config_free(c);

	put(f, "/usr/lib/rprocd/cores/dsp.core.d/10-start.conf", "[Core]\nStart=no\n");
	c = load_ok(f, "dsp", NULL);
	assert_int_equal(c->settings.start, RPROC_START_NO);
	rproc_core_config_free(c);
	assert_int_equal(test_symlink(f->root, "/etc/rprocd/cores/dsp.core.d/10-start.conf",
				      NOT_ON_HOST "/mask"),
			 0);
	c = load_ok(f, "dsp", NULL);
	assert_int_equal(c->settings.start, RPROC_START_AUTO);
	assert_null(c->dropins);
	rproc_core_config_free(c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_all_keys),
		T(test_defaults_without_files),
		T(test_first_directory_wins),
		T(test_mask),
		T(test_dropins_across_directories),
		T(test_daemon_defaults),
		T(test_daemon_config_errors),
		T(test_syntax),
		T(test_warnings_keep_core_managed),
		T(test_value_errors_strict),
		T(test_value_errors_ignored),
		T(test_ignored_value_keeps_earlier),
		T(test_defaults_strict_invalid),
		T(test_syntax_errors),
		T(test_unusable_files),
		T(test_cross_key_checks),
		T(test_one_bad_core_leaves_others),
		T(test_load_errors),
		T(test_matching),
		T(test_key_names),
		T(test_dependency_cycles),
		T(test_mask_empty_file),
		T(test_name_glob_warning),
		T(test_specifiers),
		T(test_specifier_errors),
		T(test_specifiers_image),
		T(test_match_board),
		T(test_match_board_sources),
		T(test_match_board_none),
		T(test_match_board_layering),
		T(test_links_in_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
