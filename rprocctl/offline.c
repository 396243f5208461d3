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

/* Under --root the configuration is an image's: what only a running system knows is left open. */
static int open_ctx(struct rproc_ctx **ctx)
{
	int r = rproc_ctx_new(arg.root, ctx);

	if (r < 0) {
		fprintf(stderr, "cannot use root %s: %s\n", arg.root ? arg.root : "/",
			strerror(-r));
		return r;
	}
	if (arg.root)
		rproc_ctx_set_image(*ctx, true);
	return 0;
}

/* The configuration set, as rprocd loads it; prints why when it cannot be had. */
static int load_set(struct rproc_ctx *ctx, unsigned flags, struct rproc_config_set **ret)
{
	int r = rproc_config_set_load(ctx, flags, ret);

	if (r < 0 && arg.root && (r == -ENOENT || r == -ENOTDIR))
		fprintf(stderr, "cannot use root %s: %s\n", arg.root,
			r == -ENOENT ? "no such directory" : "not a directory");
	else if (r < 0)
		fprintf(stderr, "cannot read the configuration: %s\n", strerror(-r));
	return r;
}

static const char *diag_level(int priority)
{
	return priority <= LOG_ERR ? "error" : priority <= LOG_WARNING ? "warning" : "note";
}

static void print_diags(const struct rproc_config_diag *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *level = diag_level(d[i].priority);

		if (!d[i].file)
			printf("%s: %s\n", level, d[i].message);
		else if (d[i].line)
			printf("%s:%u: %s: %s\n", d[i].file, d[i].line, level, d[i].message);
		else
			printf("%s: %s: %s\n", d[i].file, level, d[i].message);
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

static void json_core_config(struct json *j, const struct rproc_core_config *c)
{
	json_begin_object(j, NULL);
	json_string(j, "name", c->name);
	json_bool(j, "masked", c->masked);
	json_bool(j, "valid", c->valid);
	json_bool(j, "other_board", c->other_board);
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
		json_string(j, "level", diag_level(c->diags[i].priority));
		json_string(j, "file", c->diags[i].file);
		json_uint(j, "line", c->diags[i].line);
		json_string(j, "message", c->diags[i].message);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static const struct rproc_core_config *set_find(const struct rproc_config_set *set,
						const char *name)
{
	for (size_t i = 0; i < set->n_cores; i++)
		if (strcmp(set->cores[i]->name, name) == 0)
			return set->cores[i];
	return NULL;
}

int verb_cat(int argc, char **argv)
{
	struct rproc_ctx *ctx = NULL;
	struct rproc_config_set *set = NULL;
	struct json j = { .f = stdout };
	int ret = EXIT_OK;

	if (argc < 2) {
		fprintf(stderr, "cat: name at least one core\n");
		return EXIT_USAGE;
	}
	if (open_ctx(&ctx) < 0)
		return EXIT_FAILED;
	if (load_set(ctx, 0, &set) < 0) {
		rproc_ctx_unref(ctx);
		return EXIT_FAILED;
	}
	if (!set->daemon->valid)
		ret = EXIT_FAILED;
	if (!arg.json)
		print_diags(set->daemon->diags, set->daemon->n_diags);
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		const struct rproc_core_config *c = set_find(set, argv[i]);

		if (!c) {
			fprintf(stderr, "%s: no such core configuration\n", argv[i]);
			ret = EXIT_NO_SUCH_CORE;
			continue;
		}
		if (!c->valid && ret == EXIT_OK)
			ret = EXIT_FAILED;
		if (arg.json)
			json_core_config(&j, c);
		else {
			printf("%s# %s: %s%s\n", i > 1 ? "\n" : "", c->name, c->path,
			       c->masked	? " (masked)"
			       : c->other_board ? " (not for this board)"
						: "");
			for (char **dp = c->dropins; dp && *dp; dp++)
				printf("#     drop-in %s\n", *dp);
			for (char **dp = c->defaults_files; dp && *dp; dp++)
				printf("#     defaults from %s\n", *dp);
			print_diags(c->diags, c->n_diags);
			if (!c->masked)
				print_merged(c);
		}
	}
	if (arg.json) {
		json_end_array(&j);
		json_finish(&j);
	}
	rproc_config_set_free(set);
	rproc_ctx_unref(ctx);
	return ret;
}

static void print_board(const struct rproc_config_set *set)
{
	if (!set->board_known) {
		printf("board: unknown (no device tree under %s): files with [Match] Compatible= "
		       "or Model= are checked as if they applied\n",
		       arg.root ? arg.root : "/");
		return;
	}
	if (!set->board_compatible && !set->board_model) {
		printf("board: no device tree: files with [Match] Compatible= or Model= do not "
		       "apply\n");
		return;
	}
	printf("board:");
	for (char **c = set->board_compatible; c && *c; c++)
		printf(" \"%s\"", *c);
	printf("%s%s%s\n", set->board_model ? ", model \"" : "", set->board_model ?: "",
	       set->board_model ? "\"" : "");
}

/* Count the diagnostics of priority at most LOG_ERR and LOG_WARNING. */
static void count_diags(const struct rproc_config_diag *d, size_t n, unsigned *errors,
			unsigned *warnings)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i].priority <= LOG_ERR)
			(*errors)++;
		else if (d[i].priority <= LOG_WARNING)
			(*warnings)++;
	}
}

/*
 * The image-build QA check: the daemon's own loading and checks of the
 * whole set, plus every firmware image. Fails on errors and on warnings:
 * each warning is input rprocd ignores, and an image should not ship any.
 */
int verb_verify(int argc, char **argv)
{
	struct rproc_ctx *ctx = NULL;
	struct rproc_config_set *set = NULL;
	unsigned n_ok = 0, n_bad = 0, n_masked = 0, n_other = 0, errors = 0, warnings = 0;

	(void) argv;
	if (argc > 1) {
		fprintf(stderr, "verify: takes no arguments (it checks every file; see --root)\n");
		return EXIT_USAGE;
	}
	if (open_ctx(&ctx) < 0)
		return EXIT_FAILED;
	if (load_set(ctx, RPROC_CONFIG_SET_CHECK_FIRMWARE, &set) < 0) {
		rproc_ctx_unref(ctx);
		return EXIT_FAILED;
	}

	print_diags(set->daemon->diags, set->daemon->n_diags);
	count_diags(set->daemon->diags, set->daemon->n_diags, &errors, &warnings);
	print_diags(set->diags, set->n_diags);
	count_diags(set->diags, set->n_diags, &errors, &warnings);
	for (size_t i = 0; i < set->n_cores; i++) {
		const struct rproc_core_config *c = set->cores[i];

		print_diags(c->diags, c->n_diags);
		count_diags(c->diags, c->n_diags, &errors, &warnings);
	}

	print_board(set);
	for (size_t i = 0; i < set->n_cores; i++) {
		const struct rproc_core_config *c = set->cores[i];
		const char *what = c->masked	    ? "masked"
				   : c->other_board ? "not for this board"
				   : c->valid	    ? "managed"
						    : "not managed";

		printf("%s: %s: %s\n", c->name, c->path, what);
		if (c->masked)
			n_masked++;
		else if (c->other_board)
			n_other++;
		else if (c->valid)
			n_ok++;
		else
			n_bad++;
	}
	printf("%zu core files: %u managed, %u not managed, %u masked, %u not for this board; "
	       "%u errors, %u warnings\n",
	       set->n_cores, n_ok, n_bad, n_masked, n_other, errors, warnings);
	rproc_config_set_free(set);
	rproc_ctx_unref(ctx);
	return errors || warnings ? EXIT_FAILED : EXIT_OK;
}
