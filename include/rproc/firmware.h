/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Firmware files: the kernel's search path and a validator that is stricter
 * than the kernel's own ELF loader (which oopses on some malformed images).
 * Firmware files are untrusted input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rproc/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest firmware name rprocd accepts (the kernel's NAME_MAX per component). */
#define RPROC_FIRMWARE_NAME_MAX 255

/**
 * rproc_firmware_name_is_valid() - a name that may be written to "firmware"
 * Refuses empty names, names longer than RPROC_FIRMWARE_NAME_MAX, absolute
 * names, ".." or "." components, empty components and control characters.
 */
bool rproc_firmware_name_is_valid(const char *name);

/**
 * rproc_firmware_search_path() - the directories the kernel searches, in order
 * @ret_dirs: NULL-terminated array (free with rproc_strv_free()), as the managed
 * system sees them: firmware_class.path (when set), then
 * /lib/firmware/updates/$(release), /lib/firmware/updates,
 * /lib/firmware/$(release), /lib/firmware. The release is read from
 * <root>/proc/sys/kernel/osrelease; when that is missing, uname() gives it
 * for the host's own root ("/"), and under another root (an image) the only
 * directory of <root>/lib/modules does; when there is none or several, the
 * two directories with the release are left out (never the host's release).
 */
int rproc_firmware_search_path(struct rproc_ctx *ctx, char ***ret_dirs);

/**
 * rproc_firmware_resolve() - find a firmware file as the kernel would
 * @ret_path: the file's path as the managed system sees it (map it onto the
 * host with rproc_ctx_path())
 *
 * Returns 0, -EINVAL for an invalid name, -ENOENT when no directory has a
 * regular file of that name (-EISDIR when one had a directory of that name,
 * -EBADFD when one had a FIFO, socket or device node: the kernel skips both).
 */
int rproc_firmware_resolve(struct rproc_ctx *ctx, const char *name, char **ret_path);

void rproc_strv_free(char **strv);

enum rproc_fw_format {
	RPROC_FW_FORMAT_ELF,
	RPROC_FW_FORMAT_OPAQUE,
	_RPROC_FW_FORMAT_MAX,
	RPROC_FW_FORMAT_INVALID = -1,
};
enum rproc_fw_format rproc_fw_format_from_string(const char *s);
const char *rproc_fw_format_to_string(enum rproc_fw_format f);

/*
 * Why a firmware image was refused: positive codes, returned by the
 * validators beside negative errnos for I/O errors. Stable: the names are
 * shown to users and used in D-Bus error messages.
 */
enum rproc_fw_error {
	RPROC_FW_OK = 0,
	RPROC_FW_E_EMPTY = 1,	    /* "empty": zero bytes */
	RPROC_FW_E_NOT_ELF,	    /* "not-elf": no ELF magic */
	RPROC_FW_E_TRUNCATED,	    /* "truncated": shorter than the ELF header */
	RPROC_FW_E_BAD_CLASS,	    /* "bad-class": not ELFCLASS32/64 */
	RPROC_FW_E_BAD_ENDIAN,	    /* "bad-endian": not little-endian */
	RPROC_FW_E_BAD_VERSION,	    /* "bad-version": e_version/EI_VERSION not current */
	RPROC_FW_E_BAD_HEADER_SIZE, /* "bad-header-size": e_ehsize/e_phentsize/e_shentsize */
	RPROC_FW_E_NO_PHDRS,	    /* "no-program-headers" */
	RPROC_FW_E_PHDRS_OUTSIDE,   /* "program-headers-outside-file" */
	RPROC_FW_E_SHDRS_OUTSIDE,   /* "section-headers-outside-file" */
	RPROC_FW_E_SEGMENT_OUTSIDE, /* "segment-outside-file": PT_LOAD data past EOF */
	RPROC_FW_E_SEGMENT_SIZE, /* "bad-segment-size": p_filesz > p_memsz, or past the address space */
	RPROC_FW_E_SEGMENT_OVERLAP,  /* "segments-overlap": two PT_LOADs share addresses */
	RPROC_FW_E_NO_LOAD,	     /* "no-loadable-segment" */
	RPROC_FW_E_CLASS_MISMATCH,   /* "class-mismatch": not the configured 32/64 */
	RPROC_FW_E_MACHINE_MISMATCH, /* "machine-mismatch": not the configured e_machine */
	RPROC_FW_E_NOT_REGULAR,	     /* "not-regular-file" */
	RPROC_FW_E_TOO_LARGE,	     /* "too-large": over RPROC_FIRMWARE_SIZE_MAX */
	RPROC_FW_E_BAD_SECTIONS,     /* "bad-sections": a section outside the file, bad names */
	RPROC_FW_E_BAD_RSC_TABLE,    /* "bad-resource-table": .resource_table the kernel refuses */
	_RPROC_FW_E_MAX,
};
const char *rproc_fw_error_to_string(int code);
/** rproc_fw_error_describe() - a sentence for users, e.g. "program headers lie outside the file" */
const char *rproc_fw_error_describe(int code);

/* Images above this size are refused outright (the kernel reads them into memory). */
#define RPROC_FIRMWARE_SIZE_MAX (256ULL * 1024 * 1024)

/* What the configuration asks of an image. */
struct rproc_fw_expect {
	enum rproc_fw_format format;
	int elf_class; /* 0 for any, 32 or 64 */
	int machine;   /* -1 for any, else an e_machine number (0 is EM_NONE) */
};

#define RPROC_FW_BUILD_ID_MAX 64

struct rproc_fw_info {
	uint64_t size;
	enum rproc_fw_format format;
	int elf_class;		 /* 32 or 64; 0 for opaque images */
	unsigned machine;	 /* e_machine */
	uint64_t entry;		 /* e_entry */
	unsigned n_segments;	 /* program headers */
	unsigned n_load;	 /* PT_LOAD program headers */
	uint64_t load_memsz;	 /* sum of PT_LOAD p_memsz */
	uint64_t load_min_addr;	 /* lowest PT_LOAD p_paddr */
	uint64_t load_max_addr;	 /* highest PT_LOAD p_paddr + p_memsz */
	bool has_resource_table; /* a ".resource_table" section */
	size_t build_id_len;	 /* 0 when there is no GNU build-id */
	uint8_t build_id[RPROC_FW_BUILD_ID_MAX];
	/*
	 * Identity of the file that was validated, to notice a later swap.
	 * Fixed-width, not dev_t/ino_t: ino_t is 32 bits on 32-bit hosts unless
	 * the caller builds with _FILE_OFFSET_BITS=64, and this struct must not
	 * change with the caller's flags (tests/unit/test-abi.c).
	 */
	uint64_t dev;
	uint64_t ino;
	int64_t mtime_nsec;
};

/**
 * rproc_firmware_validate_buffer() - check an image held in memory
 * @expect: what the configuration asks (NULL: anything)
 * @ret_info: filled in as far as the image could be read (may be NULL)
 *
 * Never reads outside [buf, buf + size). Returns 0, or a positive
 * enum rproc_fw_error, or -ENOMEM.
 */
int rproc_firmware_validate_buffer(const void *buf, size_t size,
				   const struct rproc_fw_expect *expect,
				   struct rproc_fw_info *ret_info);

/**
 * rproc_firmware_validate_fd() - check an open file
 * Returns 0, a positive enum rproc_fw_error, or a negative errno for I/O.
 */
int rproc_firmware_validate_fd(int fd, const struct rproc_fw_expect *expect,
			       struct rproc_fw_info *ret_info);

/**
 * rproc_firmware_validate_path() - open a host path and check it
 * A directory gives RPROC_FW_E_NOT_REGULAR; a missing file -ENOENT.
 */
int rproc_firmware_validate_path(const char *path, const struct rproc_fw_expect *expect,
				 struct rproc_fw_info *ret_info);

/**
 * rproc_firmware_validate() - resolve a firmware name under the context's root and check it
 * @ret_path: (may be NULL) the resolved path as the managed system sees it
 */
int rproc_firmware_validate(struct rproc_ctx *ctx, const char *name,
			    const struct rproc_fw_expect *expect, struct rproc_fw_info *ret_info,
			    char **ret_path);

/** rproc_fw_build_id_to_hex() - lowercase hex of the build-id ("" when none); caller frees */
char *rproc_fw_build_id_to_hex(const struct rproc_fw_info *info);

/**
 * rproc_elf_machine_from_string() - "ARM", "AARCH64", "RISCV", "X86_64", …,
 * or a decimal number. Returns the e_machine value or -EINVAL.
 */
int rproc_elf_machine_from_string(const char *s);
/** rproc_elf_machine_to_string() - the name, or NULL when it has none here */
const char *rproc_elf_machine_to_string(unsigned machine);

#ifdef __cplusplus
}
#endif
