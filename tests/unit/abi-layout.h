/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * The layout of librproc's public structs as one compilation unit sees it:
 * sizes and alignments of the structs, offsets and sizes of their members.
 * abi-layout.c is compiled twice (tests/unit/meson.build), with different
 * large-file and time_t flags; test-abi compares the two tables.
 */
struct abi_entry {
	const char *what;
	size_t a, b; /* size and alignment, or offset and size */
};

/* As librproc itself is built (the project's flags). */
extern const struct abi_entry abi_layout_built[];
/* As a caller that sets neither _FILE_OFFSET_BITS nor _TIME_BITS sees it. */
extern const struct abi_entry abi_layout_plain[];
