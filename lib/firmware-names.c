/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <elf.h>
#include <strings.h>

#include "rproc/firmware.h"
#include "util.h"

static const struct {
	const char *name;
	const char *text;
} fw_errors[_RPROC_FW_E_MAX] = {
	[RPROC_FW_OK] = { "ok", "the image is valid" },
	[RPROC_FW_E_EMPTY] = { "empty", "the file is empty" },
	[RPROC_FW_E_NOT_ELF] = { "not-elf", "the file is not an ELF image" },
	[RPROC_FW_E_TRUNCATED] = { "truncated", "the file is shorter than its ELF header" },
	[RPROC_FW_E_BAD_CLASS] = { "bad-class", "the ELF class is neither 32- nor 64-bit" },
	[RPROC_FW_E_BAD_ENDIAN] = { "bad-endian", "the image is not little-endian" },
	[RPROC_FW_E_BAD_VERSION] = { "bad-version", "the ELF version is not current" },
	[RPROC_FW_E_BAD_HEADER_SIZE] = { "bad-header-size",
					 "an ELF header size field does not match the class" },
	[RPROC_FW_E_NO_PHDRS] = { "no-program-headers", "the image has no program headers" },
	[RPROC_FW_E_PHDRS_OUTSIDE] = { "program-headers-outside-file",
				       "the program headers lie outside the file" },
	[RPROC_FW_E_SHDRS_OUTSIDE] = { "section-headers-outside-file",
				       "the section headers lie outside the file" },
	[RPROC_FW_E_SEGMENT_OUTSIDE] = { "segment-outside-file",
					 "a loadable segment's data lies outside the file" },
	[RPROC_FW_E_SEGMENT_SIZE] = { "bad-segment-size",
				      "a loadable segment is larger in the file than in memory, or "
				      "does not fit the address space" },
	[RPROC_FW_E_SEGMENT_OVERLAP] = { "segments-overlap", "two loadable segments overlap" },
	[RPROC_FW_E_NO_LOAD] = { "no-loadable-segment", "the image has no loadable segment" },
	[RPROC_FW_E_CLASS_MISMATCH] = { "class-mismatch",
					"the ELF class is not the configured FirmwareClass=" },
	[RPROC_FW_E_MACHINE_MISMATCH] = { "machine-mismatch", "the ELF machine is not the "
							      "configured FirmwareMachine=" },
	[RPROC_FW_E_NOT_REGULAR] = { "not-regular-file", "the firmware is not a regular file" },
	[RPROC_FW_E_TOO_LARGE] = { "too-large", "the file is larger than 256 MiB" },
	[RPROC_FW_E_BAD_SECTIONS] = { "bad-sections", "a section lies outside the file or its "
						      "names are unreadable" },
	[RPROC_FW_E_BAD_RSC_TABLE] = { "bad-resource-table",
				       "the .resource_table section is malformed" },
};

const char *rproc_fw_error_to_string(int code)
{
	if (code < 0 || code >= _RPROC_FW_E_MAX)
		return "unknown";
	return fw_errors[code].name;
}

const char *rproc_fw_error_describe(int code)
{
	if (code < 0 || code >= _RPROC_FW_E_MAX)
		return "unknown firmware error";
	return fw_errors[code].text;
}

static const char *const fw_formats[_RPROC_FW_FORMAT_MAX] = {
	[RPROC_FW_FORMAT_ELF] = "elf",
	[RPROC_FW_FORMAT_OPAQUE] = "opaque",
};

enum rproc_fw_format rproc_fw_format_from_string(const char *s)
{
	for (int i = 0; s && i < _RPROC_FW_FORMAT_MAX; i++)
		if (streq(fw_formats[i], s))
			return (enum rproc_fw_format) i;
	return RPROC_FW_FORMAT_INVALID;
}

const char *rproc_fw_format_to_string(enum rproc_fw_format f)
{
	if ((unsigned) f >= _RPROC_FW_FORMAT_MAX)
		return NULL;
	return fw_formats[f];
}

/* Machines of remote processors seen in practice; names as in <elf.h> without EM_. */
static const struct {
	const char *name;
	unsigned machine;
} machines[] = {
	{ "NONE", EM_NONE },	   { "386", EM_386 },
	{ "I386", EM_386 },	   { "MIPS", EM_MIPS },
	{ "PPC", EM_PPC },	   { "PPC64", EM_PPC64 },
	{ "ARM", EM_ARM },	   { "SH", EM_SH },
	{ "ARC", EM_ARC },	   { "X86_64", EM_X86_64 },
	{ "XTENSA", EM_XTENSA },   { "TI_C6000", EM_TI_C6000 },
	{ "QDSP6", EM_QDSP6 },	   { "HEXAGON", EM_QDSP6 },
	{ "AARCH64", EM_AARCH64 }, { "MICROBLAZE", EM_MICROBLAZE },
	{ "ARCV2", 195 },	   { "RISCV", EM_RISCV },
	{ "BPF", EM_BPF },	   { "LOONGARCH", 258 },
};

int rproc_elf_machine_from_string(const char *s)
{
	unsigned long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(machines); i++)
		if (strcasecmp(machines[i].name, s) == 0 ||
		    (strncasecmp(s, "EM_", 3) == 0 && strcasecmp(machines[i].name, s + 3) == 0))
			return (int) machines[i].machine;
	if (!isdigit((unsigned char) s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffff)
		return -EINVAL;
	return (int) v;
}

const char *rproc_elf_machine_to_string(unsigned machine)
{
	for (size_t i = 0; i < ELEMENTSOF(machines); i++)
		if (machines[i].machine == machine)
			return machines[i].name;
	return NULL;
}

char *rproc_fw_build_id_to_hex(const struct rproc_fw_info *info)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = info->build_id_len > RPROC_FW_BUILD_ID_MAX ? 0 : info->build_id_len;
	char *s = malloc(n * 2 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = hex[info->build_id[i] >> 4];
		s[2 * i + 1] = hex[info->build_id[i] & 15];
	}
	s[n * 2] = 0;
	return s;
}
