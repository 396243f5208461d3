/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Saving a devcoredump to CoredumpDirectory= with CoredumpMaxFiles= and
 * CoredumpMaxUse= applied to the dumps of one core. Runs in a worker thread:
 * no global state, no logging, only the struct it is given.
 *
 * A dump of core NAME is the regular file
 *
 *	NAME-BOOTID-USEC.core
 *
 * where BOOTID is 32 lowercase hex digits (the boot id without dashes) or
 * "unknown", and USEC the decimal CLOCK_REALTIME of the capture. NAME may
 * contain '-': a name is read from the right, so the dumps of "m4" and of
 * "m4-1" never mix. The firmware's trace buffer as the crash left it, when
 * there is one, is saved beside its dump as NAME-BOOTID-USEC.trace: it is
 * counted in CoredumpMaxUse= and deleted with its dump; it gives way (is
 * not written) rather than cost an older dump; a trace of this core whose
 * dump is gone is deleted.
 */

#include <stdbool.h>
#include <stdint.h>

struct coredump_save {
	/* Input: borrowed, must stay valid during coredump_save(). */
	const char *src_dir; /* /sys/…/devcoredump/devcdN: its "data" is read, then freed */
	const char *dir;     /* host path of CoredumpDirectory= (created 0700 if missing) */
	const char *core;    /* core name */
	const char *file;    /* "<core>-<boot id>-<usec>.core": must name a dump of core */
	unsigned max_files;  /* dumps of this core kept, the new one included (0 acts as 1) */
	uint64_t max_use;    /* bytes of dumps of this core, the new one included */
	const char *trace;   /* the last trace of the crashed firmware, or NULL */
	size_t trace_len;

	/* Output. */
	char *path;		 /* success: the file written (malloc'd; coredump_save_done()) */
	uint64_t size;		 /* bytes copied (on failure: until it stopped) */
	unsigned removed;	 /* older dumps of this core deleted for the limits */
	const char *failed_step; /* failure: a static string, e.g. "coredump read" */
	bool data_freed;	 /* "1" was written to data: the kernel let go of its copy */
	char *trace_path;	 /* the trace written beside the dump (malloc'd), or NULL */
	int trace_error; /* the dump saved, its trace not: a negative errno (-EFBIG: no room) */
};

/**
 * coredump_save() - copy a devcoredump into the dump directory of its core
 * @s: input set, outputs cleared by the caller (zero-initialised)
 *
 * Before copying, the oldest dumps of the core are deleted until the new one
 * fits under max_files; while copying, until the bytes written so far fit
 * under max_use with the dumps that remain. A dump larger than max_use by
 * itself is not kept: the copy stops there and the partial file is deleted.
 * Only regular files whose name is a dump of s->core are counted or deleted.
 *
 * Then the trace, if given, is written beside the dump (failures there are
 * only reported in trace_error: the dump is kept).
 *
 * Once the source's data could be opened, "1" is written to it in every case,
 * success or failure, so the kernel frees its copy (an unread inline dump
 * holds the core's recovery).
 *
 * Thread-safe (for distinct structs).
 *
 * Return: 0, or a negative errno with s->failed_step naming the step
 * (-EFBIG: "coredump larger than CoredumpMaxUse=").
 */
int coredump_save(struct coredump_save *s);

/* Free the outputs of coredump_save() (the inputs are borrowed). */
void coredump_save_done(struct coredump_save *s);

/**
 * coredump_name_is_of_core() - is @filename a dump of @core
 *
 * Exactly "<core>-<32 lowercase hex or 'unknown'>-<decimal usec>.core".
 */
bool coredump_name_is_of_core(const char *filename, const char *core);
