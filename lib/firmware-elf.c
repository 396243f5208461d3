/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Firmware validation. The kernel's rproc_elf_sanity_check() trusts e_phnum
 * and e_shnum and oopses on images whose tables run past the end of the
 * file, so every check here is made on the raw header, without overflow,
 * before libelf is asked to read anything else.
 */
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#include "context-internal.h"
#include "rproc/firmware.h"

struct ehdr {
	int class;
	uint16_t machine;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
	uint32_t version;
	uint64_t entry, phoff, shoff;
};

struct range {
	uint64_t start, end;
};

/* struct resource_table of <linux/remoteproc.h>: ver, num, reserved[2], offset[num] */
#define RSC_TABLE_HDR_SIZE 16u
#define RSC_HDR_SIZE	   4u

static bool range_inside(uint64_t offset, uint64_t len, uint64_t size)
{
	return offset <= size && len <= size - offset;
}

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static int parse_ehdr(const uint8_t *b, size_t size, struct ehdr *h)
{
	if (size == 0)
		return RPROC_FW_E_EMPTY;
	if (memcmp(b, ELFMAG, size < SELFMAG ? size : SELFMAG) != 0)
		return RPROC_FW_E_NOT_ELF;
	if (size < EI_NIDENT)
		return RPROC_FW_E_TRUNCATED;

/* Both classes have the same fields at different widths; read them little-endian. */
#define READ_EHDR(type, bits)                          \
	do {                                           \
		type e;                                \
                                                       \
		if (size < sizeof(e))                  \
			return RPROC_FW_E_TRUNCATED;   \
		memcpy(&e, b, sizeof(e));              \
		h->class = bits;                       \
		h->machine = le16toh(e.e_machine);     \
		h->version = le32toh(e.e_version);     \
		h->entry = le##bits##toh(e.e_entry);   \
		h->phoff = le##bits##toh(e.e_phoff);   \
		h->shoff = le##bits##toh(e.e_shoff);   \
		h->ehsize = le16toh(e.e_ehsize);       \
		h->phentsize = le16toh(e.e_phentsize); \
		h->phnum = le16toh(e.e_phnum);         \
		h->shentsize = le16toh(e.e_shentsize); \
		h->shnum = le16toh(e.e_shnum);         \
		h->shstrndx = le16toh(e.e_shstrndx);   \
	} while (0)

	if (b[EI_CLASS] == ELFCLASS32)
		READ_EHDR(Elf32_Ehdr, 32);
	else if (b[EI_CLASS] == ELFCLASS64)
		READ_EHDR(Elf64_Ehdr, 64);
	else
		return RPROC_FW_E_BAD_CLASS;
#undef READ_EHDR

	if (b[EI_DATA] != ELFDATA2LSB)
		return RPROC_FW_E_BAD_ENDIAN;
	if (b[EI_VERSION] != EV_CURRENT || h->version != EV_CURRENT)
		return RPROC_FW_E_BAD_VERSION;
	return 0;
}

static int check_tables(const struct ehdr *h, uint64_t size)
{
	bool is32 = h->class == 32;

	if (h->ehsize != (is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
		return RPROC_FW_E_BAD_HEADER_SIZE;
	if (h->phnum == 0)
		return RPROC_FW_E_NO_PHDRS;
	if (h->phentsize != (is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr)))
		return RPROC_FW_E_BAD_HEADER_SIZE;
	/* phnum and phentsize are 16-bit: their product cannot overflow. */
	if (!range_inside(h->phoff, (uint64_t) h->phnum * h->phentsize, size))
		return RPROC_FW_E_PHDRS_OUTSIDE;

	/* No section table at all is fine (the kernel then finds no resource table). */
	if (h->shnum == 0) {
		/* e_shnum 0 with a table means extended numbering, which the kernel does not know. */
		if (h->shoff != 0)
			return RPROC_FW_E_BAD_SECTIONS;
		return 0;
	}
	if (h->shentsize != (is32 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr)))
		return RPROC_FW_E_BAD_HEADER_SIZE;
	if (!range_inside(h->shoff, (uint64_t) h->shnum * h->shentsize, size))
		return RPROC_FW_E_SHDRS_OUTSIDE;
	if (h->shstrndx != SHN_UNDEF && h->shstrndx >= h->shnum)
		return RPROC_FW_E_BAD_SECTIONS;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static int check_segments(Elf *elf, const struct ehdr *h, uint64_t size, struct rproc_fw_info *info)
{
	_cleanup_free_ struct range *ranges = NULL;
	uint64_t addr_limit = h->class == 32 ? UINT64_C(1) << 32 : UINT64_MAX;
	size_t n = 0;

	ranges = calloc(h->phnum, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;

	info->n_segments = h->phnum;
	info->load_min_addr = UINT64_MAX;
	for (size_t i = 0; i < h->phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int) i, &ph))
			return RPROC_FW_E_PHDRS_OUTSIDE;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return RPROC_FW_E_SEGMENT_SIZE;
		if (!range_inside(ph.p_offset, ph.p_filesz, size))
			return RPROC_FW_E_SEGMENT_OUTSIDE;
		/* The kernel loads at the physical address: it must fit the class's address space. */
		if (ph.p_paddr >= addr_limit || ph.p_memsz > addr_limit - ph.p_paddr)
			return RPROC_FW_E_SEGMENT_SIZE;

		info->n_load++;
		info->load_memsz += ph.p_memsz;
		if (ph.p_paddr < info->load_min_addr)
			info->load_min_addr = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > info->load_max_addr)
			info->load_max_addr = ph.p_paddr + ph.p_memsz;
		if (ph.p_memsz > 0)
			ranges[n++] = (struct range){ ph.p_paddr, ph.p_paddr + ph.p_memsz };
	}
	if (info->n_load == 0) {
		info->load_min_addr = 0;
		return RPROC_FW_E_NO_LOAD;
	}

	qsort(ranges, n, sizeof(*ranges), cmp_range);
	for (size_t i = 1; i < n; i++)
		if (ranges[i].start < ranges[i - 1].end)
			return RPROC_FW_E_SEGMENT_OVERLAP;
	return 0;
}

/* The checks of the kernel's find_table() and rproc_handle_resources() header walk. */
static int check_resource_table(const uint8_t *b, uint64_t offset, uint64_t len)
{
	const uint8_t *t = b + offset;
	uint32_t num;

	if (len < RSC_TABLE_HDR_SIZE)
		return RPROC_FW_E_BAD_RSC_TABLE;
	if (le32_at(t) != 1 || le32_at(t + 8) != 0 || le32_at(t + 12) != 0)
		return RPROC_FW_E_BAD_RSC_TABLE;
	num = le32_at(t + 4);
	if ((uint64_t) num * 4 > len - RSC_TABLE_HDR_SIZE)
		return RPROC_FW_E_BAD_RSC_TABLE;
	for (uint32_t i = 0; i < num; i++) {
		uint32_t off = le32_at(t + RSC_TABLE_HDR_SIZE + 4 * (uint64_t) i);

		if (!range_inside(off, RSC_HDR_SIZE, len))
			return RPROC_FW_E_BAD_RSC_TABLE;
	}
	return 0;
}

static void take_build_id(Elf_Data *data, struct rproc_fw_info *info)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while (info->build_id_len == 0 && off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp((const char *) data->d_buf + name_off, "GNU", 4) == 0 &&
		    nh.n_descsz > 0 && nh.n_descsz <= RPROC_FW_BUILD_ID_MAX) {
			memcpy(info->build_id, (const char *) data->d_buf + desc_off, nh.n_descsz);
			info->build_id_len = nh.n_descsz;
		}
		off = next;
	}
}

/*
 * The kernel's find_table() walks every section from index 0 and compares
 * name_table + sh_name with ".resource_table", where name_table is the file
 * offset of section e_shstrndx (section 0 when e_shstrndx is 0) and neither is
 * bounded. strcmp() stops at a NUL or after sizeof(".resource_table") bytes:
 * those bytes must lie inside the file.
 */
#define RSC_NAME ".resource_table"

static int kernel_section_name(const uint8_t *b, uint64_t size, uint64_t table, uint64_t name,
			       bool *ret_is_rsc)
{
	uint64_t pos, n;

	if (table > size || name > size - table)
		return RPROC_FW_E_BAD_SECTIONS;
	pos = table + name;
	n = size - pos < sizeof(RSC_NAME) ? size - pos : sizeof(RSC_NAME);
	if (n < sizeof(RSC_NAME) && !memchr(b + pos, 0, (size_t) n))
		return RPROC_FW_E_BAD_SECTIONS;
	*ret_is_rsc = n == sizeof(RSC_NAME) && memcmp(b + pos, RSC_NAME, sizeof(RSC_NAME)) == 0;
	return 0;
}

static int check_sections(Elf *elf, const uint8_t *b, const struct ehdr *h, uint64_t size,
			  struct rproc_fw_info *info)
{
	static const GElf_Shdr null_shdr;
	GElf_Shdr sh, names;
	Elf_Scn *scn;
	int r;

	if (h->shnum == 0)
		return 0;

	/* Every section with file contents must lie inside the file before any is read. */
	for (size_t i = 0; i < h->shnum; i++) {
		scn = elf_getscn(elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return RPROC_FW_E_BAD_SECTIONS;
		/* Section 0 is all zero (extended numbering is refused above). */
		if (i == 0 && memcmp(&sh, &null_shdr, sizeof(sh)) != 0)
			return RPROC_FW_E_BAD_SECTIONS;
		if (sh.sh_type != SHT_NOBITS && !range_inside(sh.sh_offset, sh.sh_size, size))
			return RPROC_FW_E_BAD_SECTIONS;
	}

	scn = elf_getscn(elf, h->shstrndx);
	if (!scn || !gelf_getshdr(scn, &names))
		return RPROC_FW_E_BAD_SECTIONS;
	for (size_t i = 0; i < h->shnum; i++) {
		bool is_rsc = false;

		scn = elf_getscn(elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return RPROC_FW_E_BAD_SECTIONS;
		r = kernel_section_name(b, size, names.sh_offset, sh.sh_name, &is_rsc);
		if (r)
			return r;
		if (is_rsc && !info->has_resource_table) {
			/* The kernel uses the first one it finds. */
			if (sh.sh_type == SHT_NOBITS)
				return RPROC_FW_E_BAD_RSC_TABLE;
			r = check_resource_table(b, sh.sh_offset, sh.sh_size);
			if (r)
				return r;
			info->has_resource_table = true;
		}
		if (sh.sh_type == SHT_NOTE && info->build_id_len == 0) {
			Elf_Data *d = elf_getdata(scn, NULL);

			if (d && d->d_type == ELF_T_NHDR)
				take_build_id(d, info);
		}
	}
	return 0;
}

static void find_build_id_in_phdrs(Elf *elf, const struct ehdr *h, uint64_t size,
				   struct rproc_fw_info *info)
{
	for (size_t i = 0; i < h->phnum && info->build_id_len == 0; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(elf, (int) i, &ph) || ph.p_type != PT_NOTE || ph.p_filesz == 0)
			continue;
		/*
		 * Inside the file before libelf is asked: its size is a size_t, and a
		 * p_filesz of 2^32 + n would read n bytes on a 32-bit host.
		 */
		if (!range_inside(ph.p_offset, ph.p_filesz, size))
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t) ph.p_offset, (size_t) ph.p_filesz,
					 ELF_T_NHDR);
		if (d)
			take_build_id(d, info);
	}
}

static int check_expectations(const struct rproc_fw_expect *expect,
			      const struct rproc_fw_info *info)
{
	if (!expect)
		return 0;
	if (expect->elf_class && expect->elf_class != info->elf_class)
		return RPROC_FW_E_CLASS_MISMATCH;
	if (expect->machine >= 0 && (unsigned) expect->machine != info->machine)
		return RPROC_FW_E_MACHINE_MISMATCH;
	return 0;
}

/* Validate an ELF image held in a writable buffer that libelf may read in place. */
static int validate_elf(uint8_t *b, size_t size, const struct rproc_fw_expect *expect,
			struct rproc_fw_info *info)
{
	struct ehdr h = {};
	Elf *elf;
	int r;

	r = parse_ehdr(b, size, &h);
	if (r)
		return r;
	info->elf_class = h.class;
	info->machine = h.machine;
	info->entry = h.entry;
	r = check_tables(&h, size);
	if (r)
		return r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTRECOVERABLE;
	elf = elf_memory((char *) b, size);
	if (!elf)
		return -ENOMEM;
	if (elf_kind(elf) != ELF_K_ELF)
		r = RPROC_FW_E_NOT_ELF;
	if (!r)
		r = check_segments(elf, &h, size, info);
	if (!r)
		r = check_sections(elf, b, &h, size, info);
	if (!r) {
		find_build_id_in_phdrs(elf, &h, size, info);
		r = check_expectations(expect, info);
	}
	elf_end(elf);
	return r;
}

static int validate_image(uint8_t *b, size_t size, const struct rproc_fw_expect *expect,
			  struct rproc_fw_info *info)
{
	info->size = size;
	if (size == 0)
		return RPROC_FW_E_EMPTY;
	if (size > RPROC_FIRMWARE_SIZE_MAX)
		return RPROC_FW_E_TOO_LARGE;
	if (expect && expect->format == RPROC_FW_FORMAT_OPAQUE) {
		info->format = RPROC_FW_FORMAT_OPAQUE;
		return 0;
	}
	info->format = RPROC_FW_FORMAT_ELF;
	return validate_elf(b, size, expect, info);
}

int rproc_firmware_validate_buffer(const void *buf, size_t size,
				   const struct rproc_fw_expect *expect,
				   struct rproc_fw_info *ret_info)
{
	_cleanup_free_ uint8_t *copy = NULL;
	struct rproc_fw_info info = {};
	int r;

	if (!buf && size > 0)
		return -EINVAL;
	if (size > 0 && size <= RPROC_FIRMWARE_SIZE_MAX) {
		copy = malloc(size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, size);
	}
	r = validate_image(copy, size, expect, &info);
	if (ret_info)
		*ret_info = info;
	return r;
}

int rproc_firmware_validate_fd(int fd, const struct rproc_fw_expect *expect,
			       struct rproc_fw_info *ret_info)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct rproc_fw_info info = {};
	struct stat st;
	size_t size = 0;
	int r;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	info.dev = st.st_dev;
	info.ino = st.st_ino;
	info.mtime_nsec = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	info.size = (uint64_t) st.st_size;

	if (!S_ISREG(st.st_mode))
		r = RPROC_FW_E_NOT_REGULAR;
	else if (st.st_size == 0)
		r = RPROC_FW_E_EMPTY;
	else if ((uint64_t) st.st_size > RPROC_FIRMWARE_SIZE_MAX)
		r = RPROC_FW_E_TOO_LARGE;
	else if (expect && expect->format == RPROC_FW_FORMAT_OPAQUE) {
		info.format = RPROC_FW_FORMAT_OPAQUE;
		r = 0;
	} else {
		/* Read, not mmap: a file truncated under us must not SIGBUS the daemon. */
		buf = malloc((size_t) st.st_size);
		if (!buf)
			return -ENOMEM;
		while (size < (size_t) st.st_size) {
			ssize_t n = pread(fd, buf + size, (size_t) st.st_size - size, (off_t) size);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return negative_errno();
			if (n == 0)
				break;
			size += (size_t) n;
		}
		r = validate_image(buf, size, expect, &info);
	}
	if (ret_info)
		*ret_info = info;
	return r;
}

int rproc_firmware_validate_path(const char *path, const struct rproc_fw_expect *expect,
				 struct rproc_fw_info *ret_info)
{
	_cleanup_close_ int fd = -1;

	/* O_NONBLOCK: opening a FIFO must not hang the caller. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	return rproc_firmware_validate_fd(fd, expect, ret_info);
}

int rproc_firmware_validate(struct rproc_ctx *ctx, const char *name,
			    const struct rproc_fw_expect *expect, struct rproc_fw_info *ret_info,
			    char **ret_path)
{
	_cleanup_free_ char *path = NULL, *host = NULL;
	int r;

	r = rproc_firmware_resolve(ctx, name, &path);
	if (r < 0)
		return r;
	r = rproc_ctx_chase(ctx, path, 0, &host, NULL);
	if (r >= 0)
		r = rproc_firmware_validate_path(host, expect, ret_info);
	if (r != 0)
		rproc_debug(ctx, "firmware %s (%s) refused: %s", name, path,
			    r > 0 ? rproc_fw_error_describe(r) : strerror(-r));
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return r;
}
