/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Builds ELF images in memory for the firmware validator's tests and for the
 * fuzzers' seed corpora: either class, either byte order (little-endian
 * unless the spec says msb), on a host of either byte order: every field is
 * written byte by byte, never as a host structure.
 *
 * Layout of a built image, in file order:
 *   ELF header, program headers (PT_LOADs in the order given, then the
 *   PT_NOTE when the build-id is in a segment), the build-id note, the
 *   resource table and 8 zero bytes (so that a check that reads past the
 *   table's end finds zeroes, which look valid), the PT_LOAD data in the
 *   order given, .shstrtab, the section headers.
 * Sections, when any is asked for: [0] NULL, .text (the first PT_LOAD's
 * data), .resource_table, .note.gnu.build-id, .shstrtab. So the section
 * headers end the file when there are sections, and the last PT_LOAD's data
 * ends it when there are none: cutting off any byte breaks something.
 *
 * Overrides patch raw fields after building, in the order given, and any
 * truncation comes last; the patches of program and section headers find
 * them where they were built, and in the class and byte order they were
 * built with, whatever e_phoff, e_shoff, EI_CLASS or EI_DATA are patched to.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_BUILDER_MAX_SEGS	  8
#define ELF_BUILDER_MAX_OVERRIDES 8

struct elf_seg {
	uint32_t type;	  /* 0 means PT_LOAD */
	uint64_t paddr;	  /* p_vaddr too */
	const void *data; /* filesz bytes, or NULL for zeroes */
	uint64_t filesz;
	uint64_t memsz; /* 0 means filesz */
};

enum elf_rsc {
	ELF_RSC_NONE,
	ELF_RSC_VALID,	       /* ver 1, num 0, reserved 0 */
	ELF_RSC_VALID_ONE,     /* ver 1, num 1, one vendor resource header */
	ELF_RSC_VER2,	       /* ver 2 */
	ELF_RSC_RESERVED,      /* reserved[1] != 0 */
	ELF_RSC_NUM_TOO_LARGE, /* num 1 in a 16-byte table: no room for offset[0] */
	ELF_RSC_NUM_HUGE,      /* num 0x40000000: num * 4 wraps to 0 in 32 bits */
	ELF_RSC_BAD_OFFSET,    /* num 1, offset[0] past the table */
	ELF_RSC_SHORT,	       /* 8 bytes: shorter than the header */
	ELF_RSC_NOBITS,	       /* valid bytes, but SHT_NOBITS */
};

enum elf_field {
	/* ELF header; index unused */
	ELF_F_EI_CLASS,
	ELF_F_EI_DATA,
	ELF_F_EI_VERSION,
	ELF_F_VERSION,
	ELF_F_MACHINE,
	ELF_F_ENTRY,
	ELF_F_PHOFF,
	ELF_F_SHOFF,
	ELF_F_EHSIZE,
	ELF_F_PHENTSIZE,
	ELF_F_PHNUM,
	ELF_F_SHENTSIZE,
	ELF_F_SHNUM,
	ELF_F_SHSTRNDX,
	/* program header number index */
	ELF_F_P_TYPE,
	ELF_F_P_OFFSET,
	ELF_F_P_PADDR,
	ELF_F_P_FILESZ,
	ELF_F_P_MEMSZ,
	/* section header number index (see elf_builder_section_index()) */
	ELF_F_SH_NAME,
	ELF_F_SH_TYPE,
	ELF_F_SH_OFFSET,
	ELF_F_SH_SIZE,
	/* cut the image to value bytes (never grows it) */
	ELF_F_TRUNCATE,
};

struct elf_override {
	enum elf_field field;
	unsigned index;
	uint64_t value;
};

struct elf_spec {
	int elf_class; /* 32 or 64 */
	bool msb;      /* ELFDATA2MSB: every field big-endian; else ELFDATA2LSB */
	uint16_t machine;
	uint64_t entry;
	struct elf_seg segs[ELF_BUILDER_MAX_SEGS];
	unsigned n_segs;

	const uint8_t *build_id; /* GNU build-id descriptor, or NULL */
	size_t build_id_len;
	bool build_id_in_phdr;	  /* a PT_NOTE covering the note */
	bool build_id_in_section; /* a .note.gnu.build-id section */

	bool text_section; /* a .text section */
	enum elf_rsc rsc;  /* a .resource_table section */

	struct elf_override overrides[ELF_BUILDER_MAX_OVERRIDES];
	unsigned n_overrides;
};

struct elf_image {
	uint8_t *data;
	size_t size;
	int elf_class;	       /* as built */
	bool msb;	       /* as built: the byte order of patches */
	uint64_t phoff, shoff; /* as built: where overrides find the tables */
	unsigned phnum, shnum;
};

/* Sections are numbered as built; these name them for ELF_F_SH_* overrides. */
enum elf_section {
	ELF_SEC_TEXT,
	ELF_SEC_RSC,
	ELF_SEC_NOTE,
	ELF_SEC_SHSTRTAB,
};

/**
 * elf_spec_init() - a valid image: one PT_LOAD of 16 code bytes at 0x1000,
 * entry 0x1000, EM_ARM (32) or EM_AARCH64 (64), little-endian, no build-id,
 * no sections.
 */
void elf_spec_init(struct elf_spec *spec, int elf_class);

/** elf_spec_add_seg() - append a PT_LOAD; returns its program header index */
unsigned elf_spec_add_seg(struct elf_spec *spec, uint64_t paddr, const void *data, uint64_t filesz,
			  uint64_t memsz);

/** elf_spec_override() - append a raw patch applied after building */
void elf_spec_override(struct elf_spec *spec, enum elf_field field, unsigned index, uint64_t value);

/**
 * elf_builder_section_index() - the section header index of a section in
 * images built from spec, or -1 when the spec has no such section
 */
int elf_builder_section_index(const struct elf_spec *spec, enum elf_section sec);

/**
 * elf_build() - build the image described by spec
 * Returns 0 or a negative errno; free ret with elf_image_free().
 */
int elf_build(const struct elf_spec *spec, struct elf_image *ret);

/** elf_image_patch() - patch one raw field of a built image (as an override does) */
int elf_image_patch(struct elf_image *img, enum elf_field field, unsigned index, uint64_t value);

void elf_image_free(struct elf_image *img);

/* The build-id every test image uses unless it asks for another: 20 bytes 0x01..0x14. */
extern const uint8_t elf_test_build_id[20];
#define ELF_TEST_BUILD_ID_HEX "0102030405060708090a0b0c0d0e0f1011121314"
