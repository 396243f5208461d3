/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rprocctl's offline commands: firmware and configuration checks through librproc. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "json.h"
#include "librproc.h"
#include "rprocctl.h"

static void print_fw_info(const char *file, const struct rproc_fw_info *i)
{
	const char *m = rproc_elf_machine_to_string(i->machine);
	char *bid = rproc_fw_build_id_to_hex(i);

	if (i->format == RPROC_FW_FORMAT_OPAQUE) {
		printf("%s: valid (opaque image, %" PRIu64 " bytes)\n", file, i->size);
		free(bid);
		return;
	}
	printf("%s: valid\n", file);
	printf("    format: ELF%d, machine %s (%u), entry 0x%" PRIx64 "\n", i->elf_class,
	       m ? m : "unknown", i->machine, i->entry);
	printf("  segments: %u loadable of %u, %" PRIu64 " bytes at 0x%" PRIx64 "-0x%" PRIx64 "\n",
	       i->n_load, i->n_segments, i->load_memsz, i->load_min_addr, i->load_max_addr);
	printf("  resource table: %s\n", i->has_resource_table ? "yes" : "no");
	printf("  build-id: %s\n", bid && *bid ? bid : "none");
	printf("      size: %" PRIu64 " bytes\n", i->size);
	free(bid);
}

static void json_fw_info(struct json *j, const char *file, int r, const struct rproc_fw_info *i)
{
	char *bid = rproc_fw_build_id_to_hex(i);

	json_begin_object(j, NULL);
	json_string(j, "file", file);
	json_bool(j, "valid", r == 0);
	if (r != 0) {
		json_string(j, "error", r > 0 ? rproc_fw_error_to_string(r) : "io-error");
		json_string(j, "message", r > 0 ? rproc_fw_error_describe(r) : strerror(-r));
	} else {
		json_string(j, "format", rproc_fw_format_to_string(i->format));
		json_uint(j, "size", i->size);
		if (i->format == RPROC_FW_FORMAT_ELF) {
			json_uint(j, "class", (uint64_t) i->elf_class);
			json_uint(j, "machine", i->machine);
			json_string(j, "machine_name", rproc_elf_machine_to_string(i->machine));
			json_uint(j, "entry", i->entry);
			json_uint(j, "segments", i->n_segments);
			json_uint(j, "loadable_segments", i->n_load);
			json_uint(j, "load_size", i->load_memsz);
			json_bool(j, "resource_table", i->has_resource_table);
			json_string(j, "build_id", bid && *bid ? bid : NULL);
		}
	}
	json_end_object(j);
	free(bid);
}

int verb_validate(int argc, char **argv)
{
	struct rproc_fw_expect expect = { .format = RPROC_FW_FORMAT_ELF, .machine = -1 };
	struct json j = { .f = stdout };
	int ret = EXIT_OK;

	if (argc < 2) {
		fprintf(stderr, "validate: name at least one firmware file\n");
		return EXIT_USAGE;
	}
	if (arg.opaque)
		expect.format = RPROC_FW_FORMAT_OPAQUE;
	if (arg.fw_class) {
		if (strcmp(arg.fw_class, "32") && strcmp(arg.fw_class, "64")) {
			fprintf(stderr, "validate: --class takes 32 or 64\n");
			return EXIT_USAGE;
		}
		expect.elf_class = atoi(arg.fw_class);
	}
	if (arg.fw_machine) {
		expect.machine = rproc_elf_machine_from_string(arg.fw_machine);
		if (expect.machine < 0) {
			fprintf(stderr, "validate: unknown ELF machine \"%s\"\n", arg.fw_machine);
			return EXIT_USAGE;
		}
	}

	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		struct rproc_fw_info info = {};
		int r = rproc_firmware_validate_path(argv[i], &expect, &info);

		if (r != 0)
			ret = EXIT_FAILED;
		if (arg.json)
			json_fw_info(&j, argv[i], r, &info);
		else if (r == 0)
			print_fw_info(argv[i], &info);
		else if (r > 0)
			printf("%s: invalid: %s (%s)\n", argv[i], rproc_fw_error_describe(r),
			       rproc_fw_error_to_string(r));
		else
			printf("%s: cannot be read: %s\n", argv[i], strerror(-r));
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
	return ret;
}

static int open_ctx(struct rproc_ctx **ctx)
{
	int r = rproc_ctx_new(arg.root, ctx);

	if (r < 0)
		fprintf(stderr, "cannot use root %s: %s\n", arg.root ? arg.root : "/",
			strerror(-r));
	return r;
}

static void print_diags(const struct rproc_config_diag *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *level = d[i].priority <= LOG_ERR ? "error" : "warning";

		if (d[i].line)
			printf("%s:%u: %s: %s\n", d[i].file ? d[i].file : "?", d[i].line, level,
			       d[i].message);
		else
			printf("%s: %s: %s\n", d[i].file ? d[i].file : "?", level, d[i].message);
	}
}

/* Keys in the order a file would have them. */
static void print_merged(const struct rproc_core_config *c)
{
	const char *section = NULL;

	for (int k = 0; k < _RPROC_KEY_MAX; k++) {
		const char *full = rproc_config_key_name((enum rproc_config_key) k);
		char *v = rproc_core_config_format_value(c, (enum rproc_config_key) k);
		const struct rproc_config_origin *o = &c->origin[k];
		const char *dot = strchr(full, '.');
		char line[512];

		if (!v)
			continue;
		if (!section || strncmp(section, full, (size_t) (dot - full)) != 0) {
			printf("%s[%.*s]\n", section ? "\n" : "", (int) (dot - full), full);
			section = full;
		}
		snprintf(line, sizeof(line), "%s=%s", dot + 1, v);
		if (o->file)
			printf("%-40s # %s:%u\n", line, o->file, o->line);
		else
			printf("%-40s # default\n", line);
		free(v);
	}
}

static void json_core_config(struct json *j, const struct rproc_core_config *c, int r)
{
	json_begin_object(j, NULL);
	json_string(j, "name", c->name);
	json_bool(j, "masked", c->masked);
	json_bool(j, "valid", r == 0);
	json_string(j, "path", c->path);
	json_begin_array(j, "dropins");
	for (char **d = c->dropins; d && *d; d++)
		json_string(j, NULL, *d);
	json_end_array(j);
	json_begin_object(j, "settings");
	for (int k = 0; k < _RPROC_KEY_MAX && !c->masked; k++) {
		char *v = rproc_core_config_format_value(c, (enum rproc_config_key) k);

		if (!v)
			continue;
		json_begin_object(j, rproc_config_key_name((enum rproc_config_key) k));
		json_string(j, "value", v);
		json_string(j, "file", c->origin[k].file);
		json_uint(j, "line", c->origin[k].line);
		json_end_object(j);
		free(v);
	}
	json_end_object(j);
	json_begin_array(j, "diagnostics");
	for (size_t i = 0; i < c->n_diags; i++) {
		json_begin_object(j, NULL);
		json_string(j, "level", c->diags[i].priority <= LOG_ERR ? "error" : "warning");
		json_string(j, "file", c->diags[i].file);
		json_uint(j, "line", c->diags[i].line);
		json_string(j, "message", c->diags[i].message);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* Load the daemon config, print its diagnostics; returns it (NULL on hard errors). */
static struct rproc_daemon_config *load_daemon_config(struct rproc_ctx *ctx, bool quiet, int *ret)
{
	struct rproc_daemon_config *d = NULL;
	int r = rproc_daemon_config_load(ctx, &d);

	if (r < 0 && r != -EBADMSG) {
		fprintf(stderr, "rprocd.conf: %s\n", strerror(-r));
		*ret = EXIT_FAILED;
		return NULL;
	}
	if (r == -EBADMSG)
		*ret = EXIT_FAILED;
	if (!quiet)
		print_diags(d->diags, d->n_diags);
	return d;
}

int verb_cat(int argc, char **argv)
{
	struct rproc_ctx *ctx = NULL;
	struct rproc_daemon_config *d;
	struct json j = { .f = stdout };
	int ret = EXIT_OK;

	if (argc < 2) {
		fprintf(stderr, "cat: name at least one core\n");
		return EXIT_USAGE;
	}
	if (open_ctx(&ctx) < 0)
		return EXIT_FAILED;
	d = load_daemon_config(ctx, arg.json, &ret);
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		struct rproc_core_config *c = NULL;
		int r = rproc_core_config_load(ctx, argv[i], d, &c);

		if (r < 0 && r != -EBADMSG) {
			fprintf(stderr, "%s: %s\n", argv[i],
				r == -ENOENT ? "no such core configuration" : strerror(-r));
			ret = r == -ENOENT || r == -EINVAL ? EXIT_NO_SUCH_CORE : EXIT_FAILED;
			continue;
		}
		if (r < 0)
			ret = EXIT_FAILED;
		if (arg.json)
			json_core_config(&j, c, r);
		else {
			printf("%s# %s: %s%s\n", i > 1 ? "\n" : "", c->name, c->path,
			       c->masked ? " (masked)" : "");
			for (char **dp = c->dropins; dp && *dp; dp++)
				printf("#     drop-in %s\n", *dp);
			for (char **dp = c->defaults_files; dp && *dp; dp++)
				printf("#     defaults from %s\n", *dp);
			print_diags(c->diags, c->n_diags);
			if (!c->masked)
				print_merged(c);
		}
		rproc_core_config_free(c);
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
	rproc_daemon_config_free(d);
	rproc_ctx_unref(ctx);
	return ret;
}

int verb_verify(int argc, char **argv)
{
	struct rproc_ctx *ctx = NULL;
	struct rproc_daemon_config *d;
	char **names = NULL;
	int ret = EXIT_OK, r;
	unsigned n_ok = 0, n_bad = 0, n_masked = 0;

	(void) argc;
	(void) argv;
	if (open_ctx(&ctx) < 0)
		return EXIT_FAILED;
	d = load_daemon_config(ctx, false, &ret);
	r = rproc_core_config_list(ctx, &names);
	if (r < 0) {
		fprintf(stderr, "cannot list cores: %s\n", strerror(-r));
		ret = EXIT_FAILED;
	}
	for (char **n = names; n && *n; n++) {
		struct rproc_core_config *c = NULL;

		r = rproc_core_config_load(ctx, *n, d, &c);
		if (r < 0 && r != -EBADMSG) {
			printf("%s: %s\n", *n, strerror(-r));
			n_bad++;
			ret = EXIT_FAILED;
			continue;
		}
		print_diags(c->diags, c->n_diags);
		if (c->masked)
			n_masked++;
		else if (r < 0) {
			n_bad++;
			ret = EXIT_FAILED;
		} else
			n_ok++;
		rproc_core_config_free(c);
	}
	printf("%u cores configured: %u valid, %u invalid (not managed), %u masked\n",
	       n_ok + n_bad + n_masked, n_ok, n_bad, n_masked);
	rproc_strv_free(names);
	rproc_daemon_config_free(d);
	rproc_ctx_unref(ctx);
	return ret;
}
