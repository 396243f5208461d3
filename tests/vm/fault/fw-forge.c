/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fw-forge: writes malformed firmware images for the fault matrix
 * (tests/vm/fault/firmware.sh), one file per defect, into DIR.
 *
 *   fw-forge DIR
 *
 * For each file it prints a line "FILE EXPECTED": EXPECTED is the name
 * (rproc_fw_error_to_string()) of the error rprocd's validator must refuse
 * the image with when the core asks FirmwareClass=64 and
 * FirmwareMachine=X86_64; "kernel:ERRNO" for an image the validator accepts
 * and the kernel's loader refuses on rproc_sim's 1 MiB memory at 0; "ok" for
 * the one good image.
 *
 * The images are built with tests/unit/elf's builder: a valid base image
 * (ELF64 x86-64, one PT_LOAD of 16 bytes at 0x1000, .text, a valid
 * .resource_table and a build-id section) with one defect each. Every file
 * written is checked with librproc's validator as well: a file the library
 * does not judge as expected is reported on stderr and the exit status is 3
 * (the files and lines are all written anyway).
 */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf-builder.h"
#include "rproc/firmware.h"

#define EXIT_USAGE    2
#define EXIT_MISMATCH 3

/* Where rproc_sim's memory ends (mem_size default 1 MiB at mem_base 0). */
#define SIM_MEM_END 0x100000

enum raw_kind {
	RAW_NONE,      /* an ELF image from the builder */
	RAW_EMPTY,     /* zero bytes */
	RAW_TEXT,      /* a text file */
	RAW_IDENT,     /* the first bytes of the ELF identification only */
	RAW_TOO_LARGE, /* the good image, extended (sparse) past the size limit */
};

struct forge_case {
	const char *file;
	int expect;	    /* enum rproc_fw_error; 0 when the validator accepts it */
	const char *kernel; /* expect 0: the kernel's errno name, NULL when it boots */
	enum raw_kind raw;
	int elf_class;	  /* 0 means 64 */
	bool no_sections; /* no section table: the last PT_LOAD's data ends the file */
	void (*make)(struct elf_spec *spec);
	void (*patch)(struct elf_image *img); /* after building */
	const char *why;
};

/* ---- defects: each changes the valid base image in one way ---- */

static void trunc_ehdr(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_TRUNCATE, 0, 40);
}

static void trunc_phdrs(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_TRUNCATE, 0, sizeof(Elf64_Ehdr) + 30);
}

static void cut_tail(struct elf_image *img)
{
	img->size -= 5;
}

static void phoff_outside(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_PHOFF, 0, 0x10000000);
}

static void phnum_huge(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_PHNUM, 0, 0xffff);
}

static void shoff_outside(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SHOFF, 0, 0xffffff00);
}

static void shnum_huge(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SHNUM, 0, 0xffff);
}

static void class_garbage(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_EI_CLASS, 0, 3);
}

static void class32(struct elf_spec *s)
{
	s->machine = EM_386;
}

static void machine_riscv(struct elf_spec *s)
{
	s->machine = EM_RISCV;
}

static void big_endian(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_EI_DATA, 0, ELFDATA2MSB);
}

static void ei_version(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_EI_VERSION, 0, EV_NONE);
}

static void e_version(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_VERSION, 0, 2);
}

static void ehsize(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_EHSIZE, 0, sizeof(Elf32_Ehdr));
}

static void phentsize(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_PHENTSIZE, 0, sizeof(Elf32_Phdr));
}

static void shentsize(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SHENTSIZE, 0, sizeof(Elf32_Shdr));
}

static void no_phdrs(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_PHNUM, 0, 0);
}

static void no_load(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_P_TYPE, 0, PT_NULL);
}

static void filesz_gt_memsz(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, 8);
}

static void memsz_wrap(struct elf_spec *s)
{
	/* 0x1000 + p_memsz wraps around 2^64 */
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, UINT64_C(0xfffffffffffff800));
}

static void addr32_wrap(struct elf_spec *s)
{
	/* 0xfffff000 + 0x2000 is past the 32-bit address space */
	s->machine = EM_386;
	elf_spec_override(s, ELF_F_P_PADDR, 0, 0xfffff000);
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, 0x2000);
}

static void seg_offset_outside(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_P_OFFSET, 0, 0xfffffff0);
}

static void seg_filesz_outside(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_P_FILESZ, 0, 0x80000);
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, 0x80000);
}

static void overlap(struct elf_spec *s)
{
	static const uint8_t data[16] = { 0xaa };

	elf_spec_add_seg(s, 0x1008, data, sizeof(data), 0);
}

static void overlap_nested(struct elf_spec *s)
{
	static const uint8_t data[16] = { 0xbb };

	/* the first segment covers 0x1000-0x2000 in memory; the second lies inside */
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, 0x1000);
	elf_spec_add_seg(s, 0x1800, data, sizeof(data), 0);
}

static void shstrndx(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SHSTRNDX, 0, 0x100);
}

static void sec0_not_null(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SH_TYPE, 0, SHT_PROGBITS);
}

static void shname_outside(struct elf_spec *s)
{
	/* find_table() would read name_table + sh_name unbounded */
	elf_spec_override(s, ELF_F_SH_NAME, (unsigned) elf_builder_section_index(s, ELF_SEC_TEXT),
			  0x7ffffff0);
}

static void section_outside(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_SH_OFFSET, (unsigned) elf_builder_section_index(s, ELF_SEC_TEXT),
			  0x10000000);
}

static void shnum0_shoff(struct elf_spec *s)
{
	/* e_shnum 0 with a section table: extended numbering, unknown to the kernel */
	elf_spec_override(s, ELF_F_SHNUM, 0, 0);
}

static void rsc_ver2(struct elf_spec *s)
{
	s->rsc = ELF_RSC_VER2;
}

static void rsc_short(struct elf_spec *s)
{
	s->rsc = ELF_RSC_SHORT;
}

static void rsc_num_huge(struct elf_spec *s)
{
	s->rsc = ELF_RSC_NUM_HUGE;
}

static void rsc_bad_offset(struct elf_spec *s)
{
	s->rsc = ELF_RSC_BAD_OFFSET;
}

static void rsc_nobits(struct elf_spec *s)
{
	s->rsc = ELF_RSC_NOBITS;
}

static void outside_mem(struct elf_spec *s)
{
	elf_spec_override(s, ELF_F_P_PADDR, 0, 2 * SIM_MEM_END);
}

static void memsz_beyond_mem(struct elf_spec *s)
{
	/* fits any address space, not the device's memory */
	elf_spec_override(s, ELF_F_P_MEMSZ, 0, 2 * SIM_MEM_END);
}

static const struct forge_case cases[] = {
	{ "empty.elf", RPROC_FW_E_EMPTY, .raw = RAW_EMPTY, .why = "zero bytes" },
	{ "text.elf", RPROC_FW_E_NOT_ELF, .raw = RAW_TEXT, .why = "a text file" },
	{ "ident-short.elf", RPROC_FW_E_TRUNCATED, .raw = RAW_IDENT, .why = "cut inside e_ident" },
	{ "trunc-ehdr.elf", RPROC_FW_E_TRUNCATED, .make = trunc_ehdr,
	  .why = "cut inside the ELF header" },
	{ "trunc-phdrs.elf", RPROC_FW_E_PHDRS_OUTSIDE, .make = trunc_phdrs,
	  .why = "cut inside the program headers" },
	{ "trunc-data.elf", RPROC_FW_E_SEGMENT_OUTSIDE, .no_sections = true, .patch = cut_tail,
	  .why = "cut inside the last segment's data" },
	{ "trunc-shdrs.elf", RPROC_FW_E_SHDRS_OUTSIDE, .patch = cut_tail,
	  .why = "cut inside the section headers" },
	{ "phoff-outside.elf", RPROC_FW_E_PHDRS_OUTSIDE, .make = phoff_outside,
	  .why = "e_phoff past the end" },
	{ "phnum-huge.elf", RPROC_FW_E_PHDRS_OUTSIDE, .make = phnum_huge,
	  .why = "e_phnum 0xffff (oopses 6.1 and 6.12)" },
	{ "shoff-outside.elf", RPROC_FW_E_SHDRS_OUTSIDE, .make = shoff_outside,
	  .why = "e_shoff past the end" },
	{ "shnum-huge.elf", RPROC_FW_E_SHDRS_OUTSIDE, .make = shnum_huge,
	  .why = "e_shnum 0xffff (oopses 6.1)" },
	{ "class-garbage.elf", RPROC_FW_E_BAD_CLASS, .make = class_garbage, .why = "EI_CLASS 3" },
	{ "class32.elf", RPROC_FW_E_CLASS_MISMATCH, .elf_class = 32, .make = class32,
	  .why = "a valid ELF32 i386 image for a FirmwareClass=64 core" },
	{ "machine.elf", RPROC_FW_E_MACHINE_MISMATCH, .make = machine_riscv,
	  .why = "a valid RISC-V image for a FirmwareMachine=X86_64 core" },
	{ "big-endian.elf", RPROC_FW_E_BAD_ENDIAN, .make = big_endian, .why = "EI_DATA MSB" },
	{ "ei-version.elf", RPROC_FW_E_BAD_VERSION, .make = ei_version, .why = "EI_VERSION 0" },
	{ "e-version.elf", RPROC_FW_E_BAD_VERSION, .make = e_version, .why = "e_version 2" },
	{ "ehsize.elf", RPROC_FW_E_BAD_HEADER_SIZE, .make = ehsize,
	  .why = "e_ehsize of ELF32 in ELF64" },
	{ "phentsize.elf", RPROC_FW_E_BAD_HEADER_SIZE, .make = phentsize,
	  .why = "e_phentsize 32 (the kernel accepts it)" },
	{ "shentsize.elf", RPROC_FW_E_BAD_HEADER_SIZE, .make = shentsize, .why = "e_shentsize 40" },
	{ "no-phdrs.elf", RPROC_FW_E_NO_PHDRS, .make = no_phdrs, .why = "e_phnum 0" },
	{ "no-load.elf", RPROC_FW_E_NO_LOAD, .make = no_load,
	  .why = "only a PT_NULL (the kernel boots nothing)" },
	{ "filesz-gt-memsz.elf", RPROC_FW_E_SEGMENT_SIZE, .make = filesz_gt_memsz,
	  .why = "p_filesz 16 > p_memsz 8" },
	{ "memsz-wrap.elf", RPROC_FW_E_SEGMENT_SIZE, .make = memsz_wrap,
	  .why = "p_paddr + p_memsz wraps 64 bits" },
	{ "addr32-wrap.elf", RPROC_FW_E_SEGMENT_SIZE, .elf_class = 32, .make = addr32_wrap,
	  .why = "ELF32 segment past 4 GiB" },
	{ "seg-offset-outside.elf", RPROC_FW_E_SEGMENT_OUTSIDE, .make = seg_offset_outside,
	  .why = "p_offset past the end" },
	{ "seg-filesz-outside.elf", RPROC_FW_E_SEGMENT_OUTSIDE, .make = seg_filesz_outside,
	  .why = "p_filesz past the end" },
	{ "overlap.elf", RPROC_FW_E_SEGMENT_OVERLAP, .make = overlap,
	  .why = "two PT_LOADs share 8 bytes" },
	{ "overlap-nested.elf", RPROC_FW_E_SEGMENT_OVERLAP, .make = overlap_nested,
	  .why = "a PT_LOAD inside another's p_memsz" },
	{ "shstrndx.elf", RPROC_FW_E_BAD_SECTIONS, .make = shstrndx,
	  .why = "e_shstrndx past e_shnum" },
	{ "sec0-not-null.elf", RPROC_FW_E_BAD_SECTIONS, .make = sec0_not_null,
	  .why = "section 0 is PROGBITS" },
	{ "shname-outside.elf", RPROC_FW_E_BAD_SECTIONS, .make = shname_outside,
	  .why = "a section name far outside the file" },
	{ "section-outside.elf", RPROC_FW_E_BAD_SECTIONS, .make = section_outside,
	  .why = "a section's data outside the file" },
	{ "shnum0-shoff.elf", RPROC_FW_E_BAD_SECTIONS, .make = shnum0_shoff,
	  .why = "e_shnum 0 with e_shoff set" },
	{ "rsc-ver2.elf", RPROC_FW_E_BAD_RSC_TABLE, .make = rsc_ver2,
	  .why = "resource table version 2" },
	{ "rsc-short.elf", RPROC_FW_E_BAD_RSC_TABLE, .make = rsc_short,
	  .why = "resource table of 8 bytes" },
	{ "rsc-num-huge.elf", RPROC_FW_E_BAD_RSC_TABLE, .make = rsc_num_huge,
	  .why = "resource table num 0x40000000" },
	{ "rsc-bad-offset.elf", RPROC_FW_E_BAD_RSC_TABLE, .make = rsc_bad_offset,
	  .why = "a resource entry past the table" },
	{ "rsc-nobits.elf", RPROC_FW_E_BAD_RSC_TABLE, .make = rsc_nobits,
	  .why = "resource table SHT_NOBITS" },
	{ "too-large.elf", RPROC_FW_E_TOO_LARGE, .raw = RAW_TOO_LARGE, .why = "257 MiB (sparse)" },
	{ "outside-mem.elf", 0, "EINVAL", .make = outside_mem,
	  .why = "a segment outside the device memory" },
	{ "memsz-beyond-mem.elf", 0, "EINVAL", .make = memsz_beyond_mem,
	  .why = "p_memsz 2 MiB in 1 MiB of device memory" },
	{ "good.elf", 0, NULL, .why = "valid: boots" },
};

static void spec_base(struct elf_spec *spec, const struct forge_case *c)
{
	int elf_class = c->elf_class ? c->elf_class : 64;

	elf_spec_init(spec, elf_class);
	spec->machine = elf_class == 64 ? EM_X86_64 : EM_386;
	if (c->no_sections)
		return;
	spec->text_section = true;
	spec->rsc = ELF_RSC_VALID;
	spec->build_id = elf_test_build_id;
	spec->build_id_len = sizeof(elf_test_build_id);
	spec->build_id_in_section = true;
}

static int write_all(int fd, const void *buf, size_t size)
{
	const uint8_t *p = buf;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		size -= (size_t) n;
	}
	return 0;
}

static int forge(int dirfd, const struct forge_case *c)
{
	static const char text[] = "This is not firmware: a text file in /lib/firmware.\n";
	struct elf_image img = {};
	struct elf_spec spec;
	int fd, r = 0;

	spec_base(&spec, c);
	if (c->make)
		c->make(&spec);
	if (c->raw == RAW_NONE || c->raw == RAW_IDENT || c->raw == RAW_TOO_LARGE) {
		r = elf_build(&spec, &img);
		if (r < 0)
			return r;
		if (c->patch)
			c->patch(&img);
	}

	fd = openat(dirfd, c->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	switch (c->raw) {
	case RAW_EMPTY:
		break;
	case RAW_TEXT:
		r = write_all(fd, text, sizeof(text) - 1);
		break;
	case RAW_IDENT:
		r = write_all(fd, img.data, EI_NIDENT - 6);
		break;
	case RAW_TOO_LARGE:
		r = write_all(fd, img.data, img.size);
		if (r == 0 && ftruncate(fd, (off_t) RPROC_FIRMWARE_SIZE_MAX + 1024 * 1024) < 0)
			r = -errno;
		break;
	case RAW_NONE:
		r = write_all(fd, img.data, img.size);
		break;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
out:
	elf_image_free(&img);
	return r;
}

int main(int argc, char **argv)
{
	const struct rproc_fw_expect expect = {
		.format = RPROC_FW_FORMAT_ELF,
		.elf_class = 64,
		.machine = EM_X86_64,
	};
	bool mismatch = false;
	int dirfd;

	if (argc != 2) {
		fputs("usage: fw-forge DIR\n"
		      "  writes malformed firmware images into DIR and prints \"FILE EXPECTED\"\n"
		      "  for each (EXPECTED: the validator's error name, kernel:ERRNO or ok)\n",
		      stderr);
		return EXIT_USAGE;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "fw-forge: %s: %s\n", argv[1], strerror(errno));
		return EXIT_FAILURE;
	}

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct forge_case *c = &cases[i];
		char path[4096];
		int r;

		r = forge(dirfd, c);
		if (r < 0) {
			fprintf(stderr, "fw-forge: %s: %s\n", c->file, strerror(-r));
			close(dirfd);
			return EXIT_FAILURE;
		}
		if (c->expect)
			printf("%s %s\n", c->file, rproc_fw_error_to_string(c->expect));
		else if (c->kernel)
			printf("%s kernel:%s\n", c->file, c->kernel);
		else
			printf("%s ok\n", c->file);

		/* The library must judge the file as this table says. */
		snprintf(path, sizeof(path), "%s/%s", argv[1], c->file);
		r = rproc_firmware_validate_path(path, &expect, NULL);
		if (r != c->expect) {
			fprintf(stderr, "fw-forge: %s (%s): validator says %s, expected %s\n",
				c->file, c->why, r < 0 ? strerror(-r) : rproc_fw_error_to_string(r),
				rproc_fw_error_to_string(c->expect));
			mismatch = true;
		}
	}
	close(dirfd);
	fflush(stdout);
	return mismatch ? EXIT_MISMATCH : EXIT_SUCCESS;
}
