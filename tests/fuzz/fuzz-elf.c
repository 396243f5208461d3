/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the firmware validator. Besides "no crash, no read
 * outside the buffer", it checks that the answers agree with each other:
 * an accepted image has a loadable segment and a class, and asking for the
 * class and machine it reported does not change the verdict.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rproc/firmware.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static int validate(const uint8_t *data, size_t size, const struct rproc_fw_expect *expect,
		    struct rproc_fw_info *info)
{
	int r;

	/* zeroed padding, for the memcmp() of two answers */
	memset(info, 0, sizeof(*info));
	r = rproc_firmware_validate_buffer(data, size, expect, info);

	check(r == 0 || r == -ENOMEM || (r > 0 && r < _RPROC_FW_E_MAX));
	if (r > 0)
		check(strcmp(rproc_fw_error_to_string(r), "unknown") != 0);
	check(info->size == size);
	check(info->build_id_len <= RPROC_FW_BUILD_ID_MAX);
	return r;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/*
 * The kernel's find_table() on an image the validator accepted: every byte
 * it would read must lie inside the image. (FUZZ_ELF_KERNEL_MODEL=0 turns
 * this off.)
 */
static void kernel_find_table_stays_inside(const uint8_t *b, size_t size, int elf_class)
{
	static const char want[] = ".resource_table";
	bool is32 = elf_class == 32;
	uint64_t shoff = is32 ? le(b + 32, 4) : le(b + 40, 8);
	unsigned shentsize = is32 ? 40 : 64;
	unsigned shnum = (unsigned) le(b + (is32 ? 48 : 60), 2);
	unsigned shstrndx = (unsigned) le(b + (is32 ? 50 : 62), 2);
	uint64_t names;

	if (shnum == 0)
		return;
	/* name_table = elf_data + shdr[shstrndx].sh_offset, unchecked */
	check(shoff + (uint64_t) (shstrndx + 1) * shentsize <= size);
	names = le(b + shoff + (uint64_t) shstrndx * shentsize + (is32 ? 16 : 24), is32 ? 4 : 8);
	for (unsigned i = 0; i < shnum; i++) {
		const uint8_t *sh = b + shoff + (uint64_t) i * shentsize;
		uint64_t name = le(sh, 4);

		/* strcmp(name_table + name, ".resource_table") reads up to the first difference */
		for (size_t k = 0; k < sizeof(want); k++) {
			check(names <= size && name < size - names && k < size - names - name);
			if (b[names + name + k] != (uint8_t) want[k])
				break;
			if (k == sizeof(want) - 1)
				return; /* found: the kernel bounds-checks the table itself */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rproc_fw_expect opaque = { RPROC_FW_FORMAT_OPAQUE, 0, -1 };
	static const struct rproc_fw_expect arm32 = { RPROC_FW_FORMAT_ELF, 32, EM_ARM };
	static const struct rproc_fw_expect arm64 = { RPROC_FW_FORMAT_ELF, 64, EM_AARCH64 };
	struct rproc_fw_info info, again;
	struct rproc_fw_expect same;
	static int kernel_model = -1;
	char *hex;
	int r;

	if (kernel_model < 0)
		kernel_model = !getenv("FUZZ_ELF_KERNEL_MODEL") ||
			       strcmp(getenv("FUZZ_ELF_KERNEL_MODEL"), "0") != 0;

	r = validate(data, size, NULL, &info);
	if (r == 0) {
		check(info.format == RPROC_FW_FORMAT_ELF);
		check(info.elf_class == 32 || info.elf_class == 64);
		check(info.n_load >= 1 && info.n_load <= info.n_segments);
		check(info.load_min_addr <= info.load_max_addr);
		if (info.elf_class == 32)
			check(info.load_max_addr <= UINT64_C(1) << 32);

		same = (struct rproc_fw_expect){ RPROC_FW_FORMAT_ELF, info.elf_class,
						 (int) info.machine };
		check(validate(data, size, &same, &again) == 0);
		check(memcmp(&info, &again, sizeof(info)) == 0);

		same.elf_class = info.elf_class == 32 ? 64 : 32;
		check(validate(data, size, &same, &again) == RPROC_FW_E_CLASS_MISMATCH);
		same.elf_class = 0;
		same.machine = (int) ((info.machine + 1) & 0xffff);
		check(validate(data, size, &same, &again) == RPROC_FW_E_MACHINE_MISMATCH);

		if (kernel_model)
			kernel_find_table_stays_inside(data, size, info.elf_class);
	}

	hex = rproc_fw_build_id_to_hex(&info);
	check(hex && strlen(hex) == 2 * info.build_id_len);
	free(hex);

	validate(data, size, &arm32, &again);
	validate(data, size, &arm64, &again);

	/* opaque images: anything that is not empty */
	r = validate(data, size, &opaque, &again);
	check(r == (size == 0 ? RPROC_FW_E_EMPTY : 0));
	return 0;
}
