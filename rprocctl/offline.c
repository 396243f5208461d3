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
#include "output.h"
#include "rprocctl.h"
#include "util.h"

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
	json_string(j, "File", file);
	json_bool(j, "Valid", r == 0);
	if (r != 0) {
		json_string(j, "Error", r > 0 ? rproc_fw_error_to_string(r) : "io-error");
		json_string(j, "Message", r > 0 ? rproc_fw_error_describe(r) : strerror(-r));
	} else {
		json_string(j, "Format", rproc_fw_format_to_string(i->format));
		json_uint(j, "Size", i->size);
		if (i->format == RPROC_FW_FORMAT_ELF) {
			json_uint(j, "Class", (uint64_t) i->elf_class);
			json_uint(j, "Machine", i->machine);
			json_string(j, "MachineName", rproc_elf_machine_to_string(i->machine));
			json_uint(j, "Entry", i->entry);
			json_uint(j, "Segments", i->n_segments);
			json_uint(j, "LoadableSegments", i->n_load);
			json_uint(j, "LoadSize", i->load_memsz);
			json_uint(j, "LoadMinAddress", i->load_min_addr);
			json_uint(j, "LoadMaxAddress", i->load_max_addr);
			json_bool(j, "ResourceTable", i->has_resource_table);
			json_string(j, "BuildId", bid && *bid ? bid : NULL);
		}
	}
	json_end_object(j);
	free(bid);
}

int verb_validate(int argc, char **argv)
{
	struct rproc_fw_expect expect = { .format = RPROC_FW_FORMAT_ELF, .machine = -1 };
	struct json j;
	int ret = EXIT_OK;

	json_init(&j, stdout, arg.json);
	if (argc < 2) {
		log_error("validate: name at least one firmware file");
		return EXIT_USAGE;
	}
	if (arg.opaque)
		expect.format = RPROC_FW_FORMAT_OPAQUE;
	if (arg.fw_class) {
		if (strcmp(arg.fw_class, "32") && strcmp(arg.fw_class, "64")) {
			log_error("--class takes 32 or 64, not \"%s\"", arg.fw_class);
			return EXIT_USAGE;
		}
		expect.elf_class = atoi(arg.fw_class);
	}
	if (arg.fw_machine) {
		expect.machine = rproc_elf_machine_from_string(arg.fw_machine);
		if (expect.machine < 0) {
			log_error("Unknown ELF machine \"%s\"", arg.fw_machine);
			return EXIT_USAGE;
		}
	}

	pager_open();
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		struct rproc_fw_info info = {};
		int r = rproc_firmware_validate_path(argv[i], &expect, &info);

		if (r != 0)
			ret = EXIT_FAILED;
		if (arg.json)
			json_fw_info(&j, argv[i], r, &info);
		else if (r == 0) {
			if (!arg.quiet)
				print_fw_info(argv[i], &info);
		} else if (r > 0)
			printf("%s: %sinvalid%s: %s (%s)\n", argv[i], color_on(COLOR_RED),
			       color_off(), rproc_fw_error_describe(r),
			       rproc_fw_error_to_string(r));
		else
			/* no verdict: a diagnostic */
			log_error("%s: cannot be read: %s", argv[i], strerror(-r));
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
		log_error("Cannot use root %s: %s", arg.root ? arg.root : "/", strerror(-r));
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
		log_error("Cannot use root %s: %s", arg.root,
			  r == -ENOENT ? "no such directory" : "not a directory");
	else if (r < 0)
		log_error("Cannot read the configuration: %s", strerror(-r));
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

		/* On standard error, with the prefix: what was found is not the output. */
		if (!d[i].file)
			log_error("%s: %s", level, d[i].message);
		else if (d[i].line)
			log_error("%s:%u: %s: %s", d[i].file, d[i].line, level, d[i].message);
		else
			log_error("%s: %s: %s", d[i].file, level, d[i].message);
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
		int w;

		if (!v)
			continue;
		if (!section || strncmp(section, full, (size_t) (dot - full)) != 0) {
			printf("%s[%.*s]\n", section ? "\n" : "", (int) (dot - full), full);
			section = full;
		}
		/* Whole, however long (a Description=, a list of channels), padded to 40. */
		w = printf("%s=%s", dot + 1, v);
		printf("%*s # ", w >= 0 && w < 40 ? 40 - w : 0, "");
		if (o->file)
			printf("%s:%u\n", o->file, o->line);
		else
			printf("default\n");
		free(v);
	}
}

/* The diagnostics as elements of the array being written: {"Level","File","Line","Message"}. */
static void json_diag_items(struct json *j, const struct rproc_config_diag *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_begin_object(j, NULL);
		json_string(j, "Level", diag_level(d[i].priority));
		json_string(j, "File", d[i].file);
		json_uint(j, "Line", d[i].line);
		json_string(j, "Message", d[i].message);
		json_end_object(j);
	}
}

static void json_diags(struct json *j, const char *key, const struct rproc_config_diag *d, size_t n)
{
	json_begin_array(j, key);
	json_diag_items(j, d, n);
	json_end_array(j);
}

static void json_strv(struct json *j, const char *key, char **l)
{
	json_begin_array(j, key);
	for (char **i = l; i && *i; i++)
		json_string(j, NULL, *i);
	json_end_array(j);
}

/*
 * A key's value typed as rprocctl(1) says: numbers (sizes in bytes, time
 * spans in µs) as numbers, yes/no as booleans, lists as arrays; the text
 * as a file would have it when it does not read back (never, but safe).
 */
static void json_setting_value(struct json *j, enum rproc_config_key k, const char *text)
{
	uint64_t u;
	rproc_usec_t t;
	char *end;
	int b;

	switch (rproc_config_key_kind(k)) {
	case RPROC_CONFIG_KIND_BOOLEAN:
		b = rproc_parse_boolean(text);
		if (b >= 0) {
			json_bool(j, "Value", b);
			return;
		}
		break;
	case RPROC_CONFIG_KIND_UNSIGNED:
		errno = 0;
		u = strtoull(text, &end, 10);
		if (!errno && end != text && !*end) {
			json_uint(j, "Value", u);
			return;
		}
		break;
	case RPROC_CONFIG_KIND_SIZE:
		if (rproc_parse_size(text, &u) >= 0) {
			json_uint(j, "Value", u);
			return;
		}
		break;
	case RPROC_CONFIG_KIND_POLL:
		if (streq(text, "auto"))
			break;
		/* fall through */
	case RPROC_CONFIG_KIND_TIMESPAN:
		if (rproc_parse_timespan(text, &t) >= 0) {
			json_uint(j, "Value", t);
			return;
		}
		break;
	case RPROC_CONFIG_KIND_LIST: {
		/* words separated by spaces; "…" around one with a space, \" and \\ inside */
		char *w = malloc(strlen(text) + 1);
		const char *p = text;

		if (!w)
			break;
		json_begin_array(j, "Value");
		while (*p) {
			size_t n = 0;
			bool quoted = false;

			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p)
				break;
			for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
				if (*p == '"')
					quoted = !quoted;
				else if (quoted && *p == '\\' && p[1])
					w[n++] = *++p;
				else
					w[n++] = *p;
			}
			w[n] = 0;
			json_string(j, NULL, w);
		}
		json_end_array(j);
		free(w);
		return;
	}
	case RPROC_CONFIG_KIND_STRING:
		break;
	}
	json_string(j, "Value", text);
}

static void json_core_config(struct json *j, const struct rproc_core_config *c)
{
	json_begin_object(j, NULL);
	json_string(j, "Name", c->name);
	json_string(j, "Path", c->path);
	json_strv(j, "DropIns", c->dropins);
	json_strv(j, "DefaultsFiles", c->defaults_files);
	json_bool(j, "Masked", c->masked);
	json_bool(j, "OtherBoard", c->other_board);
	json_bool(j, "Valid", c->valid);
	json_begin_object(j, "Settings");
	for (int k = 0; k < _RPROC_KEY_MAX && !c->masked; k++) {
		char *v = rproc_core_config_format_value(c, (enum rproc_config_key) k);

		if (!v)
			continue;
		json_begin_object(j, rproc_config_key_name((enum rproc_config_key) k));
		json_setting_value(j, (enum rproc_config_key) k, v);
		json_string(j, "Text", v);
		/* null, null: the built-in default */
		json_string(j, "File", c->origin[k].file);
		if (c->origin[k].file)
			json_uint(j, "Line", c->origin[k].line);
		else
			json_null(j, "Line");
		json_end_object(j);
		free(v);
	}
	json_end_object(j);
	json_diags(j, "Diagnostics", c->diags, c->n_diags);
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
	struct json j;
	int ret = EXIT_OK;

	json_init(&j, stdout, arg.json);
	if (argc < 2) {
		log_error("cat: name at least one core");
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
	/* rprocd.conf's own (its defaults apply to every core): on standard error in
	 * both modes, as cat's document is per core, so that exit 1 is explained. */
	print_diags(set->daemon->diags, set->daemon->n_diags);
	pager_open();
	if (arg.json)
		json_begin_array(&j, NULL);
	for (int i = 1; i < argc; i++) {
		const struct rproc_core_config *c = set_find(set, argv[i]);

		if (!c) {
			log_error("%s: no such core configuration", argv[i]);
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
	struct json j;

	(void) argv;
	json_init(&j, stdout, arg.json);
	if (argc > 1) {
		log_error("verify: takes no arguments (it checks every file; see --root)");
		return EXIT_USAGE;
	}
	if (open_ctx(&ctx) < 0)
		return EXIT_FAILED;
	if (load_set(ctx, RPROC_CONFIG_SET_CHECK_FIRMWARE, &set) < 0) {
		rproc_ctx_unref(ctx);
		return EXIT_FAILED;
	}

	count_diags(set->daemon->diags, set->daemon->n_diags, &errors, &warnings);
	count_diags(set->diags, set->n_diags, &errors, &warnings);
	for (size_t i = 0; i < set->n_cores; i++)
		count_diags(set->cores[i]->diags, set->cores[i]->n_diags, &errors, &warnings);
	if (!arg.json) {
		print_diags(set->daemon->diags, set->daemon->n_diags);
		print_diags(set->diags, set->n_diags);
		for (size_t i = 0; i < set->n_cores; i++)
			print_diags(set->cores[i]->diags, set->cores[i]->n_diags);
	}
	pager_open();
	if (arg.json) {
		/* {"Diagnostics":[…],"Board":{…},"Cores":[{"Name":…,…}],"NFiles":…,…} */
		json_begin_object(&j, NULL);
		/* rprocd.conf's and those of the checks across cores, in one array */
		json_begin_array(&j, "Diagnostics");
		json_diag_items(&j, set->daemon->diags, set->daemon->n_diags);
		json_diag_items(&j, set->diags, set->n_diags);
		json_end_array(&j);
		json_begin_object(&j, "Board");
		json_bool(&j, "Known", set->board_known);
		json_strv(&j, "Compatible", set->board_compatible);
		json_string(&j, "Model", set->board_model);
		json_end_object(&j);
		json_begin_array(&j, "Cores");
	} else if (!arg.quiet)
		print_board(set);
	for (size_t i = 0; i < set->n_cores; i++) {
		const struct rproc_core_config *c = set->cores[i];
		const char *what = c->masked	    ? "masked"
				   : c->other_board ? "not for this board"
				   : c->valid	    ? "managed"
						    : "not managed";

		if (arg.json) {
			json_begin_object(&j, NULL);
			json_string(&j, "Name", c->name);
			json_string(&j, "Path", c->path);
			json_bool(&j, "Masked", c->masked);
			json_bool(&j, "OtherBoard", c->other_board);
			json_bool(&j, "Valid", c->valid);
			json_diags(&j, "Diagnostics", c->diags, c->n_diags);
			json_end_object(&j);
		} else if (!arg.quiet)
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
	if (arg.json) {
		json_end_array(&j);
		json_uint(&j, "NFiles", set->n_cores);
		json_uint(&j, "NManaged", n_ok);
		json_uint(&j, "NNotManaged", n_bad);
		json_uint(&j, "NMasked", n_masked);
		json_uint(&j, "NOtherBoard", n_other);
		json_uint(&j, "NErrors", errors);
		json_uint(&j, "NWarnings", warnings);
		json_end_object(&j);
		json_finish(&j);
	} else if (!arg.quiet)
		printf("%zu core files: %u managed, %u not managed, %u masked, %u not for this "
		       "board; %u errors, %u warnings\n",
		       set->n_cores, n_ok, n_bad, n_masked, n_other, errors, warnings);
	rproc_config_set_free(set);
	rproc_ctx_unref(ctx);
	return errors || warnings ? EXIT_FAILED : EXIT_OK;
}
