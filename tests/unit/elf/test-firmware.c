/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firmware validator on images built in memory: one test per outcome,
 * each asserting the exact code. Images are handed over in buffers of exactly
 * their size, so an ASan build catches any read past the end.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <gelf.h>

#include "elf-builder.h"
#include "rproc/firmware.h"
#include "test-util.h"

static const struct rproc_fw_expect expect_any = {
	.format = RPROC_FW_FORMAT_ELF,
	.elf_class = 0,
	.machine = -1,
};

/* Validate a copy of exactly size bytes, and check the caller's bytes are left alone. */
static int validate_bytes(const void *data, size_t size, const struct rproc_fw_expect *expect,
			  struct rproc_fw_info *ret_info)
{
	uint8_t *copy = malloc(size ? size : 1);
	int r;

	assert_non_null(copy);
	if (size)
		memcpy(copy, data, size);
	r = rproc_firmware_validate_buffer(copy, size, expect, ret_info);
	if (size)
		assert_memory_equal(copy, data, size);
	free(copy);
	return r;
}

static int validate_spec(const struct elf_spec *spec, const struct rproc_fw_expect *expect,
			 struct rproc_fw_info *ret_info)
{
	struct elf_image img;
	int r;

	assert_int_equal(elf_build(spec, &img), 0);
	r = validate_bytes(img.data, img.size, expect, ret_info);
	elf_image_free(&img);
	return r;
}

/* A spec with every optional part: .text, a valid .resource_table, build-id in both places. */
static void spec_full(struct elf_spec *spec, int elf_class)
{
	elf_spec_init(spec, elf_class);
	spec->text_section = true;
	spec->rsc = ELF_RSC_VALID;
	spec->build_id = elf_test_build_id;
	spec->build_id_len = sizeof(elf_test_build_id);
	spec->build_id_in_phdr = true;
	spec->build_id_in_section = true;
}

static uint64_t section_index(const struct elf_spec *spec, enum elf_section sec)
{
	int i = elf_builder_section_index(spec, sec);

	assert_true(i > 0);
	return (uint64_t) i;
}

/* Build spec with one override and validate it with no expectations. */
static int validate_with(struct elf_spec *spec, enum elf_field field, unsigned index,
			 uint64_t value)
{
	elf_spec_override(spec, field, index, value);
	return validate_spec(spec, &expect_any, NULL);
}

static void assert_build_id(const struct rproc_fw_info *info, const char *hex)
{
	char *s = rproc_fw_build_id_to_hex(info);

	assert_non_null(s);
	assert_string_equal(s, hex);
	free(s);
}

/* --- valid images --- */

static void test_valid_32(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;
	struct elf_image img;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(elf_build(&spec, &img), 0);
	memset(&info, 0xaa, sizeof(info));
	assert_int_equal(validate_bytes(img.data, img.size, &expect_any, &info), 0);
	assert_int_equal(info.size, img.size);
	assert_int_equal(info.format, RPROC_FW_FORMAT_ELF);
	assert_int_equal(info.elf_class, 32);
	assert_int_equal(info.machine, EM_ARM);
	assert_int_equal(info.entry, 0x1000);
	assert_int_equal(info.n_segments, 2);
	assert_int_equal(info.n_load, 1);
	assert_int_equal(info.load_memsz, 16);
	assert_int_equal(info.load_min_addr, 0x1000);
	assert_int_equal(info.load_max_addr, 0x1010);
	assert_true(info.has_resource_table);
	assert_int_equal(info.build_id_len, 20);
	assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
	elf_image_free(&img);
}

static void test_valid_64(void **state)
{
	static const uint8_t data[32] = { 0x1f, 0x20, 0x03, 0xd5 };
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 64);
	/* addresses above 4 GiB: the 64-bit fields must be read whole */
	spec.entry = UINT64_C(0x1000001000);
	spec.segs[0].paddr = UINT64_C(0x1000001000);
	elf_spec_add_seg(&spec, UINT64_C(0x1000002000), data, sizeof(data), 0x1000);
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.format, RPROC_FW_FORMAT_ELF);
	assert_int_equal(info.elf_class, 64);
	assert_int_equal(info.machine, EM_AARCH64);
	assert_int_equal(info.entry, UINT64_C(0x1000001000));
	assert_int_equal(info.n_segments, 3);
	assert_int_equal(info.n_load, 2);
	assert_int_equal(info.load_memsz, 16 + 0x1000);
	assert_int_equal(info.load_min_addr, UINT64_C(0x1000001000));
	assert_int_equal(info.load_max_addr, UINT64_C(0x1000003000));
	assert_true(info.has_resource_table);
	assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
}

static void test_valid_minimal(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* no sections at all: valid, but no resource table and no build-id */
	elf_spec_init(&spec, 32);
	assert_int_equal(validate_spec(&spec, NULL, &info), 0);
	assert_int_equal(info.elf_class, 32);
	assert_int_equal(info.n_segments, 1);
	assert_int_equal(info.n_load, 1);
	assert_false(info.has_resource_table);
	assert_int_equal(info.build_id_len, 0);
	assert_build_id(&info, "");
}

static void test_valid_without_resource_table(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 64);
	spec.rsc = ELF_RSC_NONE;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_false(info.has_resource_table);
	assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
}

static void test_valid_resource_table_with_entry(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* the one resource header ends exactly at the end of the table */
	spec_full(&spec, 32);
	spec.rsc = ELF_RSC_VALID_ONE;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_true(info.has_resource_table);
}

static void test_build_id_from_phdr(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* a PT_NOTE and no section headers at all */
	elf_spec_init(&spec, 64);
	spec.build_id = elf_test_build_id;
	spec.build_id_len = sizeof(elf_test_build_id);
	spec.build_id_in_phdr = true;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.n_segments, 2);
	assert_int_equal(info.n_load, 1);
	assert_int_equal(info.build_id_len, 20);
	assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
}

static void test_build_id_from_section(void **state)
{
	static const uint8_t id[8] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33 };
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* a .note.gnu.build-id section and no PT_NOTE */
	elf_spec_init(&spec, 32);
	spec.build_id = id;
	spec.build_id_len = sizeof(id);
	spec.build_id_in_section = true;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.n_segments, 1);
	assert_int_equal(info.build_id_len, 8);
	assert_build_id(&info, "deadbeef00112233");
}

static void test_build_id_too_long(void **state)
{
	uint8_t id[RPROC_FW_BUILD_ID_MAX + 1];
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t) i;

	/* RPROC_FW_BUILD_ID_MAX bytes are kept ... */
	elf_spec_init(&spec, 64);
	spec.build_id = id;
	spec.build_id_len = RPROC_FW_BUILD_ID_MAX;
	spec.build_id_in_phdr = true;
	spec.build_id_in_section = true;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.build_id_len, RPROC_FW_BUILD_ID_MAX);
	assert_memory_equal(info.build_id, id, RPROC_FW_BUILD_ID_MAX);

	/* ... one more is ignored, and the image is still valid */
	spec.build_id_len = sizeof(id);
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.build_id_len, 0);
	assert_build_id(&info, "");
}

static void test_build_id_note_outside(void **state)
{
	static const uint64_t past[] = { UINT64_C(1) << 32, UINT64_C(1) << 63, UINT64_MAX };
	struct rproc_fw_info info;
	struct elf_image img;
	struct elf_spec spec;

	(void) state;
	/*
	 * A PT_NOTE that does not lie inside the file gives no build-id, however
	 * its size reads in a size_t: 2^32 + n is n on a 32-bit host. The kernel
	 * never reads a PT_NOTE, so the image itself is valid.
	 */
	for (int c = 32; c <= 64; c += 32) {
		elf_spec_init(&spec, c);
		spec.build_id = elf_test_build_id;
		spec.build_id_len = sizeof(elf_test_build_id);
		spec.build_id_in_phdr = true;
		assert_int_equal(elf_build(&spec, &img), 0);
		assert_int_equal(img.phnum, 2);
		/* the note as built is found ... */
		assert_int_equal(validate_bytes(img.data, img.size, &expect_any, &info), 0);
		assert_int_equal(info.build_id_len, 20);
		/* ... and is 36 bytes long: that is what a wrapped p_filesz would read as */
		for (size_t i = 0; i < sizeof(past) / sizeof(past[0]) && c == 64; i++) {
			assert_int_equal(elf_image_patch(&img, ELF_F_P_FILESZ, 1, 36 + past[i]), 0);
			assert_int_equal(validate_bytes(img.data, img.size, &expect_any, &info), 0);
			assert_int_equal(info.build_id_len, 0);
		}
		/* one byte past the end, in either class */
		assert_int_equal(elf_image_patch(&img, ELF_F_P_FILESZ, 1, img.size), 0);
		assert_int_equal(validate_bytes(img.data, img.size, &expect_any, &info), 0);
		assert_int_equal(info.build_id_len, 0);
		elf_image_free(&img);
	}
}

static void test_info_may_be_null(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_spec(&spec, NULL, NULL), 0);
	elf_spec_override(&spec, ELF_F_PHNUM, 0, 0);
	assert_int_equal(validate_spec(&spec, NULL, NULL), RPROC_FW_E_NO_PHDRS);
}

/* --- expectations --- */

static void test_expectations_met(void **state)
{
	struct rproc_fw_expect e32 = { RPROC_FW_FORMAT_ELF, 32, EM_ARM };
	struct rproc_fw_expect e64 = { RPROC_FW_FORMAT_ELF, 64, EM_AARCH64 };
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_spec(&spec, &e32, NULL), 0);
	spec_full(&spec, 64);
	assert_int_equal(validate_spec(&spec, &e64, NULL), 0);
}

static void test_class_mismatch(void **state)
{
	struct rproc_fw_expect expect = { RPROC_FW_FORMAT_ELF, 32, -1 };
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 64);
	assert_int_equal(validate_spec(&spec, &expect, &info), RPROC_FW_E_CLASS_MISMATCH);
	assert_int_equal(info.elf_class, 64);

	expect.elf_class = 64;
	spec_full(&spec, 32);
	assert_int_equal(validate_spec(&spec, &expect, &info), RPROC_FW_E_CLASS_MISMATCH);
	assert_int_equal(info.elf_class, 32);
}

static void test_machine_mismatch(void **state)
{
	struct rproc_fw_expect expect = { RPROC_FW_FORMAT_ELF, 0, EM_RISCV };
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_spec(&spec, &expect, &info), RPROC_FW_E_MACHINE_MISMATCH);
	assert_int_equal(info.machine, EM_ARM);

	/* right class, wrong machine */
	expect = (struct rproc_fw_expect){ RPROC_FW_FORMAT_ELF, 64, EM_ARM };
	spec_full(&spec, 64);
	assert_int_equal(validate_spec(&spec, &expect, &info), RPROC_FW_E_MACHINE_MISMATCH);
	assert_int_equal(info.machine, EM_AARCH64);

	/* 0 is a machine (EM_NONE), not "any": only -1 is */
	expect = (struct rproc_fw_expect){ RPROC_FW_FORMAT_ELF, 0, 0 };
	assert_int_equal(validate_spec(&spec, &expect, &info), RPROC_FW_E_MACHINE_MISMATCH);
	spec.machine = EM_NONE;
	assert_int_equal(validate_spec(&spec, &expect, &info), 0);
}

static void test_machine_names(void **state)
{
	(void) state;
	assert_int_equal(rproc_elf_machine_from_string("ARM"), EM_ARM);
	assert_int_equal(rproc_elf_machine_from_string("arm"), EM_ARM);
	assert_int_equal(rproc_elf_machine_from_string("aarch64"), EM_AARCH64);
	assert_int_equal(rproc_elf_machine_from_string("AARCH64"), EM_AARCH64);
	assert_int_equal(rproc_elf_machine_from_string("EM_RISCV"), EM_RISCV);
	assert_int_equal(rproc_elf_machine_from_string("em_riscv"), EM_RISCV);
	assert_int_equal(rproc_elf_machine_from_string("RISCV"), EM_RISCV);
	assert_int_equal(rproc_elf_machine_from_string("X86_64"), EM_X86_64);
	assert_int_equal(rproc_elf_machine_from_string("HEXAGON"), EM_QDSP6);
	assert_int_equal(rproc_elf_machine_from_string("40"), 40);
	assert_int_equal(rproc_elf_machine_from_string("0"), 0);
	assert_int_equal(rproc_elf_machine_from_string("65535"), 65535);

	assert_int_equal(rproc_elf_machine_from_string("65536"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("99999999999999999999999"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("junk"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("EM_"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("EM_JUNK"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("ARM64"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("40x"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("0x28"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string("-1"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string(" 40"), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string(""), -EINVAL);
	assert_int_equal(rproc_elf_machine_from_string(NULL), -EINVAL);

	assert_string_equal(rproc_elf_machine_to_string(EM_ARM), "ARM");
	assert_string_equal(rproc_elf_machine_to_string(EM_RISCV), "RISCV");
	assert_null(rproc_elf_machine_to_string(9999));
}

/* --- not an ELF, or cut short --- */

static void test_empty(void **state)
{
	static const uint8_t one[1] = { 0 };
	struct rproc_fw_info info;

	(void) state;
	assert_int_equal(rproc_firmware_validate_buffer(NULL, 0, NULL, &info), RPROC_FW_E_EMPTY);
	assert_int_equal(info.size, 0);
	assert_int_equal(rproc_firmware_validate_buffer(one, 0, &expect_any, NULL),
			 RPROC_FW_E_EMPTY);
	assert_int_equal(rproc_firmware_validate_buffer(NULL, 1, NULL, NULL), -EINVAL);
}

static void test_not_elf(void **state)
{
	static const char text[] = "#!/bin/sh\necho this is not firmware\n";
	static const uint8_t bad_magic[64] = { 0x7f, 'E', 'L', 'G', ELFCLASS32, ELFDATA2LSB, 1 };

	(void) state;
	assert_int_equal(validate_bytes(text, sizeof(text) - 1, NULL, NULL), RPROC_FW_E_NOT_ELF);
	assert_int_equal(validate_bytes(bad_magic, sizeof(bad_magic), NULL, NULL),
			 RPROC_FW_E_NOT_ELF);
	assert_int_equal(validate_bytes("\x7f"
					"EX",
					3, NULL, NULL),
			 RPROC_FW_E_NOT_ELF);
	assert_int_equal(validate_bytes("M", 1, NULL, NULL), RPROC_FW_E_NOT_ELF);
}

static void test_magic_prefix_is_truncated(void **state)
{
	(void) state;
	/* the start of an ELF magic, cut short: truncated, not "not an ELF" */
	assert_int_equal(validate_bytes("\x7f", 1, NULL, NULL), RPROC_FW_E_TRUNCATED);
	assert_int_equal(validate_bytes("\x7f"
					"EL",
					3, NULL, NULL),
			 RPROC_FW_E_TRUNCATED);
	assert_int_equal(validate_bytes("\x7f"
					"ELF",
					4, NULL, NULL),
			 RPROC_FW_E_TRUNCATED);
}

static void test_truncated_header(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* e_ident complete, the rest of the header not */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_TRUNCATE, 0, EI_NIDENT), RPROC_FW_E_TRUNCATED);
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_TRUNCATE, 0, sizeof(Elf32_Ehdr) - 1),
			 RPROC_FW_E_TRUNCATED);
	/* long enough for a 32-bit header, not for a 64-bit one */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_TRUNCATE, 0, sizeof(Elf32_Ehdr)),
			 RPROC_FW_E_TRUNCATED);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_TRUNCATE, 0, sizeof(Elf64_Ehdr) - 1),
			 RPROC_FW_E_TRUNCATED);
}

static void test_bad_class(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_EI_CLASS, 0, ELFCLASSNONE),
			 RPROC_FW_E_BAD_CLASS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_EI_CLASS, 0, 3), RPROC_FW_E_BAD_CLASS);
	/* a 64-bit image that claims to be 32-bit: its header size gives it away */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_EI_CLASS, 0, ELFCLASS32),
			 RPROC_FW_E_BAD_HEADER_SIZE);
}

static void test_big_endian(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_EI_DATA, 0, ELFDATA2MSB),
			 RPROC_FW_E_BAD_ENDIAN);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_EI_DATA, 0, ELFDATANONE),
			 RPROC_FW_E_BAD_ENDIAN);
}

/*
 * Every class and byte order, built in memory. libelf reads the images in
 * their own byte order (so the builder wrote what it meant to); the validator
 * takes little-endian ones and refuses big-endian ones as the kernel does on
 * a little-endian host (rproc_elf_sanity_check(): firmware in the host's byte
 * order), whatever the byte order and word size of the host it runs on.
 */
static void test_byte_orders(void **state)
{
	(void) state;
	for (int c = 32; c <= 64; c += 32)
		for (int msb = 0; msb <= 1; msb++) {
			struct rproc_fw_info info;
			struct elf_image img;
			struct elf_spec spec;
			GElf_Ehdr eh;
			GElf_Phdr ph;
			Elf *elf;

			print_message("ELF%d %s\n", c, msb ? "MSB" : "LSB");
			spec_full(&spec, c);
			spec.msb = msb;
			spec.entry = c == 64 ? UINT64_C(0x1000001000) : 0x1000;
			assert_int_equal(elf_build(&spec, &img), 0);

			/* e_machine at offset 18 in both classes, in the image's byte order */
			assert_int_equal(img.data[18], msb ? 0 : spec.machine);
			assert_int_equal(img.data[19], msb ? spec.machine : 0);
			assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
			elf = elf_memory((char *) img.data, img.size);
			assert_non_null(elf);
			assert_non_null(gelf_getehdr(elf, &eh));
			assert_int_equal(gelf_getclass(elf), c == 32 ? ELFCLASS32 : ELFCLASS64);
			assert_int_equal(eh.e_ident[EI_DATA], msb ? ELFDATA2MSB : ELFDATA2LSB);
			assert_int_equal(eh.e_machine, spec.machine);
			assert_int_equal(eh.e_entry, spec.entry);
			assert_int_equal(eh.e_phnum, 2);
			assert_int_equal(eh.e_shnum, 5);
			assert_non_null(gelf_getphdr(elf, 0, &ph));
			assert_int_equal(ph.p_type, PT_LOAD);
			assert_int_equal(ph.p_paddr, 0x1000);
			assert_int_equal(ph.p_filesz, 16);
			elf_end(elf);

			memset(&info, 0xaa, sizeof(info));
			if (!msb) {
				assert_int_equal(
					validate_bytes(img.data, img.size, &expect_any, &info), 0);
				assert_int_equal(info.elf_class, c);
				assert_int_equal(info.machine, spec.machine);
				assert_int_equal(info.entry, spec.entry);
				assert_int_equal(info.load_min_addr, 0x1000);
				assert_true(info.has_resource_table);
				assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
			} else {
				assert_int_equal(
					validate_bytes(img.data, img.size, &expect_any, &info),
					RPROC_FW_E_BAD_ENDIAN);
				assert_int_equal(info.size, img.size);
				/* nothing of the header is reported as read */
				assert_int_equal(info.elf_class, 0);
				assert_int_equal(info.machine, 0);
				assert_int_equal(info.build_id_len, 0);
				/*
				 * Relabelled little-endian, the big-endian fields do not
				 * pass for valid ones: e_version reads 0x01000000.
				 */
				assert_int_equal(
					elf_image_patch(&img, ELF_F_EI_DATA, 0, ELFDATA2LSB), 0);
				assert_int_equal(
					validate_bytes(img.data, img.size, &expect_any, NULL),
					RPROC_FW_E_BAD_VERSION);
			}
			elf_image_free(&img);
		}
}

/*
 * The same on images the real toolchains linked (fixtures/, made by
 * fixtures/make-fixtures, committed: nothing runs at test time but the test,
 * so a cross build checks them too). RPROC_ELF_FIXTURES names the directory.
 */
static void test_toolchain_images(void **state)
{
	static const struct {
		const char *file;
		int elf_class;
		unsigned machine;
		bool msb;
		size_t size;
		const char *build_id;
	} images[] = {
		{ "fw32-lsb.elf", 32, EM_ARM, false, 432,
		  "f263cb54d9cee8fbbe2740585a4bdf77b321ddd6" },
		{ "fw32-msb.elf", 32, EM_ARM, true, 432, NULL },
		{ "fw64-lsb.elf", 64, EM_AARCH64, false, 608,
		  "c0bda7c65e4c3b3b0eb30e10d15361f750b13d47" },
		{ "fw64-msb.elf", 64, EM_AARCH64, true, 608, NULL },
	};
	const char *dir = getenv("RPROC_ELF_FIXTURES");
	char path[4096];

	(void) state;
	/* not a skip: without the images this test proves nothing */
	assert_non_null(dir);
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
		struct rproc_fw_expect other = { RPROC_FW_FORMAT_ELF, 96 - images[i].elf_class,
						 -1 };
		struct rproc_fw_info info;

		print_message("%s\n", images[i].file);
		snprintf(path, sizeof(path), "%s/%s", dir, images[i].file);
		memset(&info, 0xaa, sizeof(info));
		if (images[i].msb) {
			assert_int_equal(rproc_firmware_validate_path(path, &expect_any, &info),
					 RPROC_FW_E_BAD_ENDIAN);
			assert_int_equal(info.size, images[i].size);
			assert_int_equal(info.elf_class, 0);
			continue;
		}
		assert_int_equal(rproc_firmware_validate_path(path, &expect_any, &info), 0);
		assert_int_equal(info.size, images[i].size);
		assert_int_equal(info.format, RPROC_FW_FORMAT_ELF);
		assert_int_equal(info.elf_class, images[i].elf_class);
		assert_int_equal(info.machine, images[i].machine);
		assert_int_equal(info.entry, 0x1000);
		assert_int_equal(info.n_segments, 2);
		assert_int_equal(info.n_load, 1);
		assert_int_equal(info.load_min_addr, 0x1000);
		/* .text, padding, the 16-byte table and the 36-byte note */
		assert_int_equal(info.load_memsz, 0x3c);
		assert_true(info.has_resource_table);
		assert_build_id(&info, images[i].build_id);
		assert_int_equal(rproc_firmware_validate_path(path, &other, NULL),
				 RPROC_FW_E_CLASS_MISMATCH);
	}
}

static void test_bad_version(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_EI_VERSION, 0, EV_NONE),
			 RPROC_FW_E_BAD_VERSION);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_VERSION, 0, 2), RPROC_FW_E_BAD_VERSION);
}

static void test_bad_header_sizes(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_EHSIZE, 0, sizeof(Elf64_Ehdr)),
			 RPROC_FW_E_BAD_HEADER_SIZE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_EHSIZE, 0, sizeof(Elf64_Ehdr) + 1),
			 RPROC_FW_E_BAD_HEADER_SIZE);
	/* both kernels accept a wrong e_phentsize */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_PHENTSIZE, 0, sizeof(Elf32_Phdr) + 4),
			 RPROC_FW_E_BAD_HEADER_SIZE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHENTSIZE, 0, sizeof(Elf32_Phdr)),
			 RPROC_FW_E_BAD_HEADER_SIZE);
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SHENTSIZE, 0, sizeof(Elf64_Shdr)),
			 RPROC_FW_E_BAD_HEADER_SIZE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SHENTSIZE, 0, 0), RPROC_FW_E_BAD_HEADER_SIZE);
}

/* --- program headers --- */

static void test_no_program_headers(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_PHNUM, 0, 0), RPROC_FW_E_NO_PHDRS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHNUM, 0, 0), RPROC_FW_E_NO_PHDRS);
}

static void test_phnum_0xffff(void **state)
{
	struct elf_image img;
	struct elf_spec spec;

	(void) state;
	/* the image that oopses 6.1 and 6.12 in rproc_elf_load_segments */
	elf_spec_init(&spec, 32);
	elf_spec_override(&spec, ELF_F_PHNUM, 0, 0xffff);
	assert_int_equal(elf_build(&spec, &img), 0);
	assert_true(img.size < 512);
	assert_int_equal(validate_bytes(img.data, img.size, NULL, NULL), RPROC_FW_E_PHDRS_OUTSIDE);
	elf_image_free(&img);

	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHNUM, 0, 0xffff), RPROC_FW_E_PHDRS_OUTSIDE);

	/*
	 * The raw header check comes before everything else is looked at, here
	 * a broken section table. (libelf refuses such a table too, so without
	 * the validator's own check this image would be "bad-header-size".)
	 */
	spec_full(&spec, 32);
	elf_spec_override(&spec, ELF_F_SHENTSIZE, 0, 0);
	assert_int_equal(validate_with(&spec, ELF_F_PHNUM, 0, 0xffff), RPROC_FW_E_PHDRS_OUTSIDE);
}

/* Move the program header table to the end of the file: it then ends exactly at EOF. */
static void phdrs_to_end(struct elf_image *img)
{
	size_t len = img->phnum * (img->elf_class == 32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr));
	uint8_t *b = realloc(img->data, img->size + len);

	assert_non_null(b);
	memcpy(b + img->size, b + img->phoff, len);
	img->data = b;
	img->phoff = img->size;
	img->size += len;
	assert_int_equal(elf_image_patch(img, ELF_F_PHOFF, 0, img->phoff), 0);
}

static void test_phdrs_end_at_eof(void **state)
{
	struct elf_image img;
	struct elf_spec spec;

	(void) state;
	for (int c = 32; c <= 64; c += 32) {
		elf_spec_init(&spec, c);
		assert_int_equal(elf_build(&spec, &img), 0);
		phdrs_to_end(&img);
		/* the table's last byte is the file's last byte: fine */
		assert_int_equal(validate_bytes(img.data, img.size, NULL, NULL), 0);
		/* one byte less: outside */
		assert_int_equal(validate_bytes(img.data, img.size - 1, NULL, NULL),
				 RPROC_FW_E_PHDRS_OUTSIDE);
		/* one more header than the file holds */
		assert_int_equal(elf_image_patch(&img, ELF_F_PHNUM, 0, img.phnum + 1), 0);
		assert_int_equal(validate_bytes(img.data, img.size, NULL, NULL),
				 RPROC_FW_E_PHDRS_OUTSIDE);
		elf_image_free(&img);
	}
}

static void test_phoff_past_end(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_PHOFF, 0, 0x100000), RPROC_FW_E_PHDRS_OUTSIDE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHOFF, 0, 0x100000), RPROC_FW_E_PHDRS_OUTSIDE);
}

static void test_phoff_overflow(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* e_phoff + e_phnum * e_phentsize wraps around in 64 bits */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHOFF, 0, UINT64_MAX - 8),
			 RPROC_FW_E_PHDRS_OUTSIDE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_PHOFF, 0, UINT64_MAX),
			 RPROC_FW_E_PHDRS_OUTSIDE);
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_PHOFF, 0, UINT32_MAX - 8),
			 RPROC_FW_E_PHDRS_OUTSIDE);
}

/* --- section headers --- */

static void test_shnum_huge(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* oopses 6.1 in find_table */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SHNUM, 0, 0xff00), RPROC_FW_E_SHDRS_OUTSIDE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SHNUM, 0, 0xffff), RPROC_FW_E_SHDRS_OUTSIDE);
	/* even one section too many: the table ends the file */
	spec_full(&spec, 64);
	assert_int_equal(
		validate_with(&spec, ELF_F_SHNUM, 0, section_index(&spec, ELF_SEC_SHSTRTAB) + 2),
		RPROC_FW_E_SHDRS_OUTSIDE);
}

static void test_shoff_outside(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SHOFF, 0, 0x100000), RPROC_FW_E_SHDRS_OUTSIDE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SHOFF, 0, UINT64_MAX - 16),
			 RPROC_FW_E_SHDRS_OUTSIDE);
}

static void test_shstrndx_out_of_range(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* e_shstrndx == e_shnum */
	spec_full(&spec, 32);
	assert_int_equal(
		validate_with(&spec, ELF_F_SHSTRNDX, 0, section_index(&spec, ELF_SEC_SHSTRTAB) + 1),
		RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SHSTRNDX, 0, SHN_XINDEX),
			 RPROC_FW_E_BAD_SECTIONS);
	/*
	 * Only the NULL section, so no name is ever looked up, and e_shstrndx
	 * past it: the kernel's find_table() would read a header past the table.
	 */
	spec_full(&spec, 32);
	elf_spec_override(&spec, ELF_F_SHNUM, 0, 1);
	assert_int_equal(validate_with(&spec, ELF_F_SHSTRNDX, 0, 1), RPROC_FW_E_BAD_SECTIONS);
}

static void test_shstrndx_undef(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/*
	 * No section names: valid, but no resource table can be found (nor could
	 * the kernel); the build-id note is found by its section type.
	 */
	spec_full(&spec, 32);
	spec.build_id_in_phdr = false;
	elf_spec_override(&spec, ELF_F_SHSTRNDX, 0, SHN_UNDEF);
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_false(info.has_resource_table);
	assert_int_equal(info.build_id_len, sizeof(elf_test_build_id));
}

static void test_section0_is_checked(void **state)
{
	struct elf_spec spec;

	(void) state;
	/*
	 * The kernel's find_table() looks at every section from index 0, and
	 * takes section 0's sh_offset as the name table when e_shstrndx is 0;
	 * neither sh_name nor the name table's offset is bounded. The
	 * validator requires section 0 to be all zero and every name the
	 * kernel would read to lie inside the file.
	 */

	/* section 0's name 4 GiB past the name table */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SH_NAME, 0, 0xfffffff0),
			 RPROC_FW_E_BAD_SECTIONS);
	/* e_shstrndx 0, section 0 (the kernel's name table) 4 GiB past the file */
	spec_full(&spec, 64);
	elf_spec_override(&spec, ELF_F_SHSTRNDX, 0, SHN_UNDEF);
	assert_int_equal(validate_with(&spec, ELF_F_SH_OFFSET, 0, UINT64_C(0xfffffffffff0)),
			 RPROC_FW_E_BAD_SECTIONS);
	/* section 0 named .resource_table (7: after "\0.text\0"), over the ELF header */
	spec_full(&spec, 32);
	elf_spec_override(&spec, ELF_F_SH_NAME, 0, 7);
	assert_int_equal(validate_with(&spec, ELF_F_SH_SIZE, 0, 16), RPROC_FW_E_BAD_SECTIONS);
}

static void test_shnum_zero_with_shoff(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* extended section numbering, which the kernel does not know */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SHNUM, 0, 0), RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SHNUM, 0, 0), RPROC_FW_E_BAD_SECTIONS);
}

static void test_section_outside(void **state)
{
	struct elf_spec spec;
	unsigned text;

	(void) state;
	spec_full(&spec, 32);
	text = (unsigned) section_index(&spec, ELF_SEC_TEXT);
	assert_int_equal(validate_with(&spec, ELF_F_SH_OFFSET, text, 0x100000),
			 RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SH_SIZE, text, 0x100000),
			 RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SH_OFFSET, text, UINT64_MAX - 4),
			 RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SH_SIZE, text, UINT64_MAX),
			 RPROC_FW_E_BAD_SECTIONS);
	/* the resource table's bytes are checked before they are read */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SH_SIZE,
				       (unsigned) section_index(&spec, ELF_SEC_RSC), 0x100000),
			 RPROC_FW_E_BAD_SECTIONS);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_SH_OFFSET,
				       (unsigned) section_index(&spec, ELF_SEC_SHSTRTAB), 0x100000),
			 RPROC_FW_E_BAD_SECTIONS);
}

static void test_nobits_section_may_lie_outside(void **state)
{
	struct elf_spec spec;
	unsigned text;

	(void) state;
	/* SHT_NOBITS (.bss) has no file contents: its offset does not matter */
	spec_full(&spec, 32);
	text = (unsigned) section_index(&spec, ELF_SEC_TEXT);
	elf_spec_override(&spec, ELF_F_SH_TYPE, text, SHT_NOBITS);
	assert_int_equal(validate_with(&spec, ELF_F_SH_OFFSET, text, 0x100000), 0);
}

static void test_section_name_outside_strtab(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_SH_NAME,
				       (unsigned) section_index(&spec, ELF_SEC_TEXT), 0x10000),
			 RPROC_FW_E_BAD_SECTIONS);
}

/* --- loadable segments --- */

/* A spec without sections whose one PT_LOAD's data ends the file. */
static void spec_segment_last(struct elf_spec *spec, int elf_class)
{
	elf_spec_init(spec, elf_class);
	spec->segs[0].memsz = 0x100;
}

static void test_segment_end_at_eof(void **state)
{
	struct rproc_fw_info info;
	struct elf_image img;
	struct elf_spec spec;

	(void) state;
	for (int c = 32; c <= 64; c += 32) {
		spec_segment_last(&spec, c);
		assert_int_equal(elf_build(&spec, &img), 0);
		assert_int_equal(validate_bytes(img.data, img.size, NULL, &info), 0);
		assert_int_equal(info.load_memsz, 0x100);
		/* one byte more than the file has */
		assert_int_equal(elf_image_patch(&img, ELF_F_P_FILESZ, 0, 17), 0);
		assert_int_equal(validate_bytes(img.data, img.size, NULL, NULL),
				 RPROC_FW_E_SEGMENT_OUTSIDE);
		elf_image_free(&img);
	}
}

static void test_segment_past_eof(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_segment_last(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_P_OFFSET, 0, 0x10000),
			 RPROC_FW_E_SEGMENT_OUTSIDE);
	spec_segment_last(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_P_FILESZ, 0, 0x100),
			 RPROC_FW_E_SEGMENT_OUTSIDE);
	/* starting inside the file, ending 6 bytes past it (52 + 32 + 16 bytes in all) */
	spec_segment_last(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_P_OFFSET, 0, 90), RPROC_FW_E_SEGMENT_OUTSIDE);
}

static void test_segment_offset_overflow(void **state)
{
	struct elf_spec spec;

	(void) state;
	/* p_offset + p_filesz wraps around */
	spec_segment_last(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_P_OFFSET, 0, UINT64_MAX - 4),
			 RPROC_FW_E_SEGMENT_OUTSIDE);
	spec_segment_last(&spec, 64);
	elf_spec_override(&spec, ELF_F_P_MEMSZ, 0, UINT64_MAX);
	assert_int_equal(validate_with(&spec, ELF_F_P_FILESZ, 0, UINT64_MAX - 8),
			 RPROC_FW_E_SEGMENT_OUTSIDE);
	spec_segment_last(&spec, 32);
	elf_spec_override(&spec, ELF_F_P_MEMSZ, 0, UINT32_MAX);
	assert_int_equal(validate_with(&spec, ELF_F_P_FILESZ, 0, UINT32_MAX),
			 RPROC_FW_E_SEGMENT_OUTSIDE);
}

static void test_segment_filesz_exceeds_memsz(void **state)
{
	struct elf_spec spec;

	(void) state;
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_P_MEMSZ, 0, 15), RPROC_FW_E_SEGMENT_SIZE);
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_P_MEMSZ, 0, 0), RPROC_FW_E_SEGMENT_SIZE);
}

static void test_segment_memsz_enormous(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* 4 GiB - 1 at 0x1000 does not fit a 32-bit address space */
	spec_full(&spec, 32);
	assert_int_equal(validate_with(&spec, ELF_F_P_MEMSZ, 0, UINT32_MAX),
			 RPROC_FW_E_SEGMENT_SIZE);

	/* ending exactly at 4 GiB fits; one byte more does not */
	spec_full(&spec, 32);
	spec.segs[0].paddr = 0xfffff000;
	spec.segs[0].memsz = 0x1000;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.load_max_addr, UINT64_C(0x100000000));
	spec.segs[0].memsz = 0x1001;
	assert_int_equal(validate_spec(&spec, &expect_any, NULL), RPROC_FW_E_SEGMENT_SIZE);

	/* a 64-bit segment whose end wraps around */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_P_MEMSZ, 0, UINT64_MAX),
			 RPROC_FW_E_SEGMENT_SIZE);
}

static void test_segments_overlap(void **state)
{
	struct elf_spec spec;

	(void) state;
	elf_spec_init(&spec, 32);
	spec.segs[0].memsz = 0x100;
	elf_spec_add_seg(&spec, 0x10ff, NULL, 0, 0x100);
	assert_int_equal(validate_spec(&spec, &expect_any, NULL), RPROC_FW_E_SEGMENT_OVERLAP);

	/* given in descending address order, one inside the other */
	elf_spec_init(&spec, 64);
	spec.segs[0].paddr = 0x8000;
	elf_spec_add_seg(&spec, 0x2000, NULL, 0, 0x1000);
	elf_spec_add_seg(&spec, 0x1000, NULL, 0, 0x8000);
	assert_int_equal(validate_spec(&spec, &expect_any, NULL), RPROC_FW_E_SEGMENT_OVERLAP);

	/* the same address twice */
	elf_spec_init(&spec, 32);
	elf_spec_add_seg(&spec, 0x1000, NULL, 0, 4);
	assert_int_equal(validate_spec(&spec, &expect_any, NULL), RPROC_FW_E_SEGMENT_OVERLAP);
}

static void test_segments_adjacent(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* given in descending address order */
	elf_spec_init(&spec, 32);
	spec.segs[0].paddr = 0x1100;
	spec.segs[0].memsz = 0x100;
	elf_spec_add_seg(&spec, 0x1000, NULL, 0, 0x100);
	/* an empty PT_LOAD occupies no addresses, even inside another */
	elf_spec_add_seg(&spec, 0x1080, NULL, 0, 0);
	assert_int_equal(validate_spec(&spec, &expect_any, &info), 0);
	assert_int_equal(info.n_load, 3);
	assert_int_equal(info.load_memsz, 0x200);
	assert_int_equal(info.load_min_addr, 0x1000);
	assert_int_equal(info.load_max_addr, 0x1200);
}

static void test_no_loadable_segment(void **state)
{
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	/* only a PT_NOTE: both kernels "run" this */
	spec_full(&spec, 32);
	spec.n_segs = 0;
	assert_int_equal(validate_spec(&spec, &expect_any, &info), RPROC_FW_E_NO_LOAD);
	assert_int_equal(info.n_segments, 1);
	assert_int_equal(info.n_load, 0);

	/* the PT_LOAD turned into a PT_NULL */
	spec_full(&spec, 64);
	assert_int_equal(validate_with(&spec, ELF_F_P_TYPE, 0, PT_NULL), RPROC_FW_E_NO_LOAD);
}

/* --- resource table --- */

static void test_bad_resource_table(void **state)
{
	static const enum elf_rsc bad[] = {
		ELF_RSC_VER2,	    ELF_RSC_RESERVED, ELF_RSC_NUM_TOO_LARGE, ELF_RSC_NUM_HUGE,
		ELF_RSC_BAD_OFFSET, ELF_RSC_SHORT,    ELF_RSC_NOBITS,
	};
	struct rproc_fw_info info;
	struct elf_spec spec;

	(void) state;
	for (int c = 32; c <= 64; c += 32)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			spec_full(&spec, c);
			spec.rsc = bad[i];
			print_message("class %d, resource table variant %d\n", c, (int) bad[i]);
			assert_int_equal(validate_spec(&spec, &expect_any, &info),
					 RPROC_FW_E_BAD_RSC_TABLE);
			assert_false(info.has_resource_table);
		}
}

/* --- truncation at every length --- */

static void check_every_truncation(const struct elf_spec *spec)
{
	struct elf_image img;

	assert_int_equal(elf_build(spec, &img), 0);
	assert_int_equal(validate_bytes(img.data, img.size, &expect_any, NULL), 0);
	for (size_t len = 0; len < img.size; len++) {
		int r = validate_bytes(img.data, len, &expect_any, NULL);

		if (r <= 0 || r >= _RPROC_FW_E_MAX)
			fail_msg("class %d image cut to %zu of %zu bytes: %d", spec->elf_class, len,
				 img.size, r);
	}
	elf_image_free(&img);
}

static void test_truncated_everywhere(void **state)
{
	struct elf_spec spec;

	(void) state;
	for (int c = 32; c <= 64; c += 32) {
		spec_full(&spec, c);
		check_every_truncation(&spec);
		spec_full(&spec, c);
		spec.rsc = ELF_RSC_VALID_ONE;
		elf_spec_add_seg(&spec, 0x2000, "data", 4, 0x10);
		check_every_truncation(&spec);
		/* no section headers: the segment data ends the file */
		spec_segment_last(&spec, c);
		check_every_truncation(&spec);
	}
}

/* --- files --- */

struct files {
	char *root;
	char path[4096];
};

static int files_setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->root = test_root_new();
	if (!f->root) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int files_teardown(void **state)
{
	struct files *f = *state;

	test_root_free(f->root);
	free(f);
	return 0;
}

static const char *files_path(struct files *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->root, name);
	return f->path;
}

static void test_path_valid(void **state)
{
	struct files *f = *state;
	struct rproc_fw_info info;
	struct elf_image img;
	struct elf_spec spec;
	struct stat st;
	int fd;

	spec_full(&spec, 32);
	assert_int_equal(elf_build(&spec, &img), 0);
	assert_int_equal(test_write(f->root, "fw.elf", img.data, img.size), 0);
	assert_int_equal(stat(files_path(f, "fw.elf"), &st), 0);

	assert_int_equal(rproc_firmware_validate_path(f->path, &expect_any, &info), 0);
	assert_int_equal(info.size, img.size);
	assert_int_equal(info.elf_class, 32);
	assert_true(info.has_resource_table);
	assert_build_id(&info, ELF_TEST_BUILD_ID_HEX);
	assert_int_equal(info.dev, st.st_dev);
	assert_int_equal(info.ino, st.st_ino);
	assert_int_equal(info.mtime_nsec,
			 (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);

	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(rproc_firmware_validate_fd(fd, &expect_any, &info), 0);
	assert_int_equal(info.ino, st.st_ino);
	close(fd);
	elf_image_free(&img);
}

static void test_path_after_2038(void **state)
{
	/* 2040-01-01T00:00:00Z, and a second past the 32-bit time_t's end */
	static const int64_t when[] = { INT64_C(2208988800), INT64_C(2147483648) };
	struct files *f = *state;
	struct rproc_fw_info info;
	struct elf_image img;
	struct elf_spec spec;

	/* On a 32-bit time_t host fstat() fails with EOVERFLOW: the firmware would not load. */
	spec_full(&spec, 32);
	assert_int_equal(elf_build(&spec, &img), 0);
	assert_int_equal(test_write(f->root, "late.elf", img.data, img.size), 0);
	elf_image_free(&img);
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		struct timespec ts[2] = { { .tv_sec = (time_t) when[i], .tv_nsec = 5 },
					  { .tv_sec = (time_t) when[i], .tv_nsec = 5 } };

		struct stat st;

		assert_int_equal(utimensat(AT_FDCWD, files_path(f, "late.elf"), ts, 0), 0);
		/* Needs a 64-bit time_t (test-abi) and a /tmp that keeps dates past 2038. */
		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_mtim.tv_sec, when[i]);
		assert_int_equal(rproc_firmware_validate_path(f->path, &expect_any, &info), 0);
		assert_int_equal(info.mtime_nsec, when[i] * 1000000000 + 5);
	}
}

static void test_path_malformed(void **state)
{
	struct files *f = *state;
	struct elf_image img;
	struct elf_spec spec;

	elf_spec_init(&spec, 32);
	elf_spec_override(&spec, ELF_F_PHNUM, 0, 0xffff);
	assert_int_equal(elf_build(&spec, &img), 0);
	assert_int_equal(test_write(f->root, "oops.elf", img.data, img.size), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "oops.elf"), NULL, NULL),
			 RPROC_FW_E_PHDRS_OUTSIDE);
	elf_image_free(&img);

	assert_int_equal(test_write(f->root, "empty", "", 0), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "empty"), NULL, NULL),
			 RPROC_FW_E_EMPTY);
}

static void test_path_opaque(void **state)
{
	static const struct rproc_fw_expect opaque = { RPROC_FW_FORMAT_OPAQUE, 0, -1 };
	static const char signed_blob[] = "SIGNED-VENDOR-IMAGE\x00\x01\x02";
	struct files *f = *state;
	struct rproc_fw_info info;

	/* a non-ELF image: only existence, type and size are checked */
	assert_int_equal(test_write(f->root, "tee.bin", signed_blob, sizeof(signed_blob)), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "tee.bin"), &opaque, &info), 0);
	assert_int_equal(info.format, RPROC_FW_FORMAT_OPAQUE);
	assert_int_equal(info.size, sizeof(signed_blob));
	assert_int_equal(info.elf_class, 0);
	assert_int_equal(info.n_load, 0);
	/* the same file as ELF is refused */
	assert_int_equal(rproc_firmware_validate_path(f->path, &expect_any, NULL),
			 RPROC_FW_E_NOT_ELF);
	/* and so is the buffer */
	assert_int_equal(validate_bytes(signed_blob, sizeof(signed_blob), &opaque, &info), 0);
	assert_int_equal(info.format, RPROC_FW_FORMAT_OPAQUE);

	/* opaque still refuses an empty file and a directory */
	assert_int_equal(test_write(f->root, "empty.bin", "", 0), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "empty.bin"), &opaque, NULL),
			 RPROC_FW_E_EMPTY);
	assert_int_equal(rproc_firmware_validate_buffer(signed_blob, 0, &opaque, NULL),
			 RPROC_FW_E_EMPTY);
	assert_int_equal(test_mkdir(f->root, "opaque.d"), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "opaque.d"), &opaque, NULL),
			 RPROC_FW_E_NOT_REGULAR);
}

static void test_path_directory(void **state)
{
	struct files *f = *state;

	assert_int_equal(test_mkdir(f->root, "fw.d"), 0);
	assert_int_equal(rproc_firmware_validate_path(files_path(f, "fw.d"), &expect_any, NULL),
			 RPROC_FW_E_NOT_REGULAR);
}

static void test_path_fifo(void **state)
{
	struct files *f = *state;

	/* opening a FIFO with no writer must not block: a hang fails by alarm */
	assert_int_equal(mkfifo(files_path(f, "fifo"), 0600), 0);
	alarm(10);
	assert_int_equal(rproc_firmware_validate_path(f->path, &expect_any, NULL),
			 RPROC_FW_E_NOT_REGULAR);
	alarm(0);
}

static void test_path_missing(void **state)
{
	struct files *f = *state;

	assert_int_equal(rproc_firmware_validate_path(files_path(f, "missing"), NULL, NULL),
			 -ENOENT);
	assert_int_equal(rproc_firmware_validate_fd(-1, NULL, NULL), -EBADF);
}

static void test_path_too_large(void **state)
{
	static const struct rproc_fw_expect opaque = { RPROC_FW_FORMAT_OPAQUE, 0, -1 };
	struct files *f = *state;
	struct rproc_fw_info info;
	int fd;

	/* sparse: refused on its size, before anything is read */
	fd = open(files_path(f, "huge"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RPROC_FIRMWARE_SIZE_MAX + 1), 0);
	close(fd);
	assert_int_equal(rproc_firmware_validate_path(f->path, &expect_any, &info),
			 RPROC_FW_E_TOO_LARGE);
	assert_int_equal(info.size, RPROC_FIRMWARE_SIZE_MAX + 1);
	assert_int_equal(rproc_firmware_validate_path(f->path, &opaque, NULL),
			 RPROC_FW_E_TOO_LARGE);
}

/* --- names of the codes --- */

static void test_error_names(void **state)
{
	static const char *const names[_RPROC_FW_E_MAX] = {
		[RPROC_FW_OK] = "ok",
		[RPROC_FW_E_EMPTY] = "empty",
		[RPROC_FW_E_NOT_ELF] = "not-elf",
		[RPROC_FW_E_TRUNCATED] = "truncated",
		[RPROC_FW_E_BAD_CLASS] = "bad-class",
		[RPROC_FW_E_BAD_ENDIAN] = "bad-endian",
		[RPROC_FW_E_BAD_VERSION] = "bad-version",
		[RPROC_FW_E_BAD_HEADER_SIZE] = "bad-header-size",
		[RPROC_FW_E_NO_PHDRS] = "no-program-headers",
		[RPROC_FW_E_PHDRS_OUTSIDE] = "program-headers-outside-file",
		[RPROC_FW_E_SHDRS_OUTSIDE] = "section-headers-outside-file",
		[RPROC_FW_E_SEGMENT_OUTSIDE] = "segment-outside-file",
		/* firmware.h's comment says "segment-filesz-exceeds-memsz" */
		[RPROC_FW_E_SEGMENT_SIZE] = "bad-segment-size",
		[RPROC_FW_E_SEGMENT_OVERLAP] = "segments-overlap",
		[RPROC_FW_E_NO_LOAD] = "no-loadable-segment",
		[RPROC_FW_E_CLASS_MISMATCH] = "class-mismatch",
		[RPROC_FW_E_MACHINE_MISMATCH] = "machine-mismatch",
		[RPROC_FW_E_NOT_REGULAR] = "not-regular-file",
		[RPROC_FW_E_TOO_LARGE] = "too-large",
		[RPROC_FW_E_BAD_SECTIONS] = "bad-sections",
		[RPROC_FW_E_BAD_RSC_TABLE] = "bad-resource-table",
	};

	(void) state;
	for (int code = 0; code < _RPROC_FW_E_MAX; code++) {
		const char *name = rproc_fw_error_to_string(code);
		const char *text = rproc_fw_error_describe(code);

		print_message("code %d: %s\n", code, name ? name : "(null)");
		assert_non_null(names[code]);
		assert_non_null(name);
		assert_string_equal(name, names[code]);
		assert_non_null(text);
		assert_true(strlen(text) > 8);
		assert_string_not_equal(text, "unknown firmware error");
		for (int other = 0; other < code; other++) {
			assert_string_not_equal(name, rproc_fw_error_to_string(other));
			assert_string_not_equal(text, rproc_fw_error_describe(other));
		}
	}
	assert_string_equal(rproc_fw_error_to_string(_RPROC_FW_E_MAX), "unknown");
	assert_string_equal(rproc_fw_error_to_string(-ENOENT), "unknown");
	assert_string_equal(rproc_fw_error_describe(_RPROC_FW_E_MAX), "unknown firmware error");
	assert_string_equal(rproc_fw_error_describe(-1), "unknown firmware error");
}

static void test_format_names(void **state)
{
	(void) state;
	assert_int_equal(rproc_fw_format_from_string("elf"), RPROC_FW_FORMAT_ELF);
	assert_int_equal(rproc_fw_format_from_string("opaque"), RPROC_FW_FORMAT_OPAQUE);
	assert_int_equal(rproc_fw_format_from_string("ELF"), RPROC_FW_FORMAT_INVALID);
	assert_int_equal(rproc_fw_format_from_string(""), RPROC_FW_FORMAT_INVALID);
	assert_int_equal(rproc_fw_format_from_string(NULL), RPROC_FW_FORMAT_INVALID);
	assert_string_equal(rproc_fw_format_to_string(RPROC_FW_FORMAT_OPAQUE), "opaque");
	assert_null(rproc_fw_format_to_string(_RPROC_FW_FORMAT_MAX));
	assert_null(rproc_fw_format_to_string(RPROC_FW_FORMAT_INVALID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_32),
		cmocka_unit_test(test_valid_64),
		cmocka_unit_test(test_valid_minimal),
		cmocka_unit_test(test_valid_without_resource_table),
		cmocka_unit_test(test_valid_resource_table_with_entry),
		cmocka_unit_test(test_build_id_from_phdr),
		cmocka_unit_test(test_build_id_from_section),
		cmocka_unit_test(test_build_id_too_long),
		cmocka_unit_test(test_build_id_note_outside),
		cmocka_unit_test(test_info_may_be_null),
		cmocka_unit_test(test_expectations_met),
		cmocka_unit_test(test_class_mismatch),
		cmocka_unit_test(test_machine_mismatch),
		cmocka_unit_test(test_machine_names),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_magic_prefix_is_truncated),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_bad_class),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_byte_orders),
		cmocka_unit_test(test_toolchain_images),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_header_sizes),
		cmocka_unit_test(test_no_program_headers),
		cmocka_unit_test(test_phnum_0xffff),
		cmocka_unit_test(test_phdrs_end_at_eof),
		cmocka_unit_test(test_phoff_past_end),
		cmocka_unit_test(test_phoff_overflow),
		cmocka_unit_test(test_shnum_huge),
		cmocka_unit_test(test_shoff_outside),
		cmocka_unit_test(test_shstrndx_out_of_range),
		cmocka_unit_test(test_shstrndx_undef),
		cmocka_unit_test(test_section0_is_checked),
		cmocka_unit_test(test_shnum_zero_with_shoff),
		cmocka_unit_test(test_section_outside),
		cmocka_unit_test(test_nobits_section_may_lie_outside),
		cmocka_unit_test(test_section_name_outside_strtab),
		cmocka_unit_test(test_segment_end_at_eof),
		cmocka_unit_test(test_segment_past_eof),
		cmocka_unit_test(test_segment_offset_overflow),
		cmocka_unit_test(test_segment_filesz_exceeds_memsz),
		cmocka_unit_test(test_segment_memsz_enormous),
		cmocka_unit_test(test_segments_overlap),
		cmocka_unit_test(test_segments_adjacent),
		cmocka_unit_test(test_no_loadable_segment),
		cmocka_unit_test(test_bad_resource_table),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_path_valid),
		cmocka_unit_test(test_path_after_2038),
		cmocka_unit_test(test_path_malformed),
		cmocka_unit_test(test_path_opaque),
		cmocka_unit_test(test_path_directory),
		cmocka_unit_test(test_path_fifo),
		cmocka_unit_test(test_path_missing),
		cmocka_unit_test(test_path_too_large),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_format_names),
	};

	return cmocka_run_group_tests(tests, files_setup, files_teardown);
}
