/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf-builder.h"

/* Large enough for every test; keeps a mistaken filesz from allocating gigabytes. */
#define SEG_DATA_MAX (1024 * 1024)

const uint8_t elf_test_build_id[20] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
};

/* Thumb code: a branch-to-self and padding; contents do not matter to the validator. */
static const uint8_t default_code[16] = {
	0xfe, 0xe7, 0x00, 0xbf, 0x00, 0xbf, 0x00, 0xbf,
	0x00, 0xbf, 0x00, 0xbf, 0x00, 0xbf, 0x00, 0xbf,
};

void elf_spec_init(struct elf_spec *spec, int elf_class)
{
	memset(spec, 0, sizeof(*spec));
	spec->elf_class = elf_class;
	spec->machine = elf_class == 64 ? EM_AARCH64 : EM_ARM;
	spec->entry = 0x1000;
	elf_spec_add_seg(spec, 0x1000, default_code, sizeof(default_code), 0);
}

unsigned elf_spec_add_seg(struct elf_spec *spec, uint64_t paddr, const void *data, uint64_t filesz,
			  uint64_t memsz)
{
	unsigned i = spec->n_segs;

	if (i >= ELF_BUILDER_MAX_SEGS)
		abort();
	spec->segs[i] = (struct elf_seg){
		.type = PT_LOAD,
		.paddr = paddr,
		.data = data,
		.filesz = filesz,
		.memsz = memsz,
	};
	spec->n_segs++;
	return i;
}

void elf_spec_override(struct elf_spec *spec, enum elf_field field, unsigned index, uint64_t value)
{
	if (spec->n_overrides >= ELF_BUILDER_MAX_OVERRIDES)
		abort();
	spec->overrides[spec->n_overrides++] = (struct elf_override){ field, index, value };
}

static bool has_note(const struct elf_spec *spec)
{
	return spec->build_id && (spec->build_id_in_phdr || spec->build_id_in_section);
}

int elf_builder_section_index(const struct elf_spec *spec, enum elf_section sec)
{
	bool present[] = {
		[ELF_SEC_TEXT] = spec->text_section,
		[ELF_SEC_RSC] = spec->rsc != ELF_RSC_NONE,
		[ELF_SEC_NOTE] = spec->build_id && spec->build_id_in_section,
	};
	int idx = 1;

	if (!present[ELF_SEC_TEXT] && !present[ELF_SEC_RSC] && !present[ELF_SEC_NOTE])
		return -1;
	for (int s = ELF_SEC_TEXT; s < ELF_SEC_SHSTRTAB; s++) {
		if (s == (int) sec)
			return present[s] ? idx : -1;
		if (present[s])
			idx++;
	}
	return idx;
}

/* The resource table's bytes: ver, num, reserved[2], offset[num], then the entries. */
static size_t rsc_bytes(enum elf_rsc rsc, uint32_t out[6])
{
	memset(out, 0, 6 * sizeof(uint32_t));
	out[0] = 1;
	switch (rsc) {
	case ELF_RSC_NONE:
		return 0;
	case ELF_RSC_VALID:
	case ELF_RSC_NOBITS:
		return 16;
	case ELF_RSC_VALID_ONE:
		/* one offset; its 4-byte header (a vendor type) ends the table exactly */
		out[1] = 1;
		out[4] = 20;
		out[5] = 128;
		return 24;
	case ELF_RSC_VER2:
		out[0] = 2;
		return 16;
	case ELF_RSC_RESERVED:
		out[3] = 7;
		return 16;
	case ELF_RSC_NUM_TOO_LARGE:
		out[1] = 1;
		return 16;
	case ELF_RSC_NUM_HUGE:
		out[1] = 0x40000000;
		return 16;
	case ELF_RSC_BAD_OFFSET:
		/* the header at 21 would end at 25, one byte past the table */
		out[1] = 1;
		out[4] = 21;
		return 24;
	case ELF_RSC_SHORT:
		return 8;
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Store the low width bytes of value at b + off in the image's byte order. */
static void put(uint8_t *b, bool msb, uint64_t off, uint64_t value, size_t width)
{
	for (size_t i = 0; i < width; i++) {
		unsigned shift = 8 * (unsigned) (msb ? width - 1 - i : i);

		b[off + i] = (uint8_t) (value >> shift);
	}
}

/* One field of an ELF structure of type t that starts at base. */
#define PUT(b, msb, base, t, member, value) \
	put(b, msb, (base) + offsetof(t, member), (value), sizeof(((t *) 0)->member))

#define BY_CLASS(is32, t32, t64, member)                     \
	do {                                                 \
		if (is32) {                                  \
			off = offsetof(t32, member);         \
			width = sizeof(((t32 *) 0)->member); \
		} else {                                     \
			off = offsetof(t64, member);         \
			width = sizeof(((t64 *) 0)->member); \
		}                                            \
	} while (0)

int elf_image_patch(struct elf_image *img, enum elf_field field, unsigned index, uint64_t value)
{
	bool is32 = img->elf_class == 32;
	uint64_t base = 0, off = 0;
	size_t width = 0;

	switch (field) {
	case ELF_F_TRUNCATE:
		if (value < img->size)
			img->size = (size_t) value;
		return 0;
	case ELF_F_EI_CLASS:
		off = EI_CLASS;
		width = 1;
		break;
	case ELF_F_EI_DATA:
		off = EI_DATA;
		width = 1;
		break;
	case ELF_F_EI_VERSION:
		off = EI_VERSION;
		width = 1;
		break;
	case ELF_F_VERSION:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_version);
		break;
	case ELF_F_MACHINE:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_machine);
		break;
	case ELF_F_ENTRY:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_entry);
		break;
	case ELF_F_PHOFF:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_phoff);
		break;
	case ELF_F_SHOFF:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_shoff);
		break;
	case ELF_F_EHSIZE:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_ehsize);
		break;
	case ELF_F_PHENTSIZE:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_phentsize);
		break;
	case ELF_F_PHNUM:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_phnum);
		break;
	case ELF_F_SHENTSIZE:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_shentsize);
		break;
	case ELF_F_SHNUM:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_shnum);
		break;
	case ELF_F_SHSTRNDX:
		BY_CLASS(is32, Elf32_Ehdr, Elf64_Ehdr, e_shstrndx);
		break;
	case ELF_F_P_TYPE:
	case ELF_F_P_OFFSET:
	case ELF_F_P_PADDR:
	case ELF_F_P_FILESZ:
	case ELF_F_P_MEMSZ:
		if (index >= img->phnum)
			return -ERANGE;
		base = img->phoff +
		       (uint64_t) index * (is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr));
		if (field == ELF_F_P_TYPE)
			BY_CLASS(is32, Elf32_Phdr, Elf64_Phdr, p_type);
		else if (field == ELF_F_P_OFFSET)
			BY_CLASS(is32, Elf32_Phdr, Elf64_Phdr, p_offset);
		else if (field == ELF_F_P_PADDR)
			BY_CLASS(is32, Elf32_Phdr, Elf64_Phdr, p_paddr);
		else if (field == ELF_F_P_FILESZ)
			BY_CLASS(is32, Elf32_Phdr, Elf64_Phdr, p_filesz);
		else
			BY_CLASS(is32, Elf32_Phdr, Elf64_Phdr, p_memsz);
		break;
	case ELF_F_SH_NAME:
	case ELF_F_SH_TYPE:
	case ELF_F_SH_OFFSET:
	case ELF_F_SH_SIZE:
		if (index >= img->shnum)
			return -ERANGE;
		base = img->shoff +
		       (uint64_t) index * (is32 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr));
		if (field == ELF_F_SH_NAME)
			BY_CLASS(is32, Elf32_Shdr, Elf64_Shdr, sh_name);
		else if (field == ELF_F_SH_TYPE)
			BY_CLASS(is32, Elf32_Shdr, Elf64_Shdr, sh_type);
		else if (field == ELF_F_SH_OFFSET)
			BY_CLASS(is32, Elf32_Shdr, Elf64_Shdr, sh_offset);
		else
			BY_CLASS(is32, Elf32_Shdr, Elf64_Shdr, sh_size);
		break;
	default:
		return -EINVAL;
	}

	if (base + off + width > img->size)
		return -ERANGE;
	put(img->data, img->msb, base + off, value, width);
	return 0;
}

static void put_phdr(uint8_t *b, bool msb, bool is32, uint64_t at, uint32_t type, uint32_t flags,
		     uint64_t offset, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
#define PHDR(t)                                       \
	do {                                          \
		PUT(b, msb, at, t, p_type, type);     \
		PUT(b, msb, at, t, p_flags, flags);   \
		PUT(b, msb, at, t, p_offset, offset); \
		PUT(b, msb, at, t, p_vaddr, paddr);   \
		PUT(b, msb, at, t, p_paddr, paddr);   \
		PUT(b, msb, at, t, p_filesz, filesz); \
		PUT(b, msb, at, t, p_memsz, memsz);   \
		PUT(b, msb, at, t, p_align, 4);       \
	} while (0)

	if (is32)
		PHDR(Elf32_Phdr);
	else
		PHDR(Elf64_Phdr);
#undef PHDR
}

static void put_shdr(uint8_t *b, bool msb, bool is32, uint64_t at, uint32_t name, uint32_t type,
		     uint64_t flags, uint64_t addr, uint64_t offset, uint64_t size, uint64_t align)
{
#define SHDR(t)                                          \
	do {                                             \
		PUT(b, msb, at, t, sh_name, name);       \
		PUT(b, msb, at, t, sh_type, type);       \
		PUT(b, msb, at, t, sh_flags, flags);     \
		PUT(b, msb, at, t, sh_addr, addr);       \
		PUT(b, msb, at, t, sh_offset, offset);   \
		PUT(b, msb, at, t, sh_size, size);       \
		PUT(b, msb, at, t, sh_addralign, align); \
	} while (0)

	if (is32)
		SHDR(Elf32_Shdr);
	else
		SHDR(Elf64_Shdr);
#undef SHDR
}

/* Append name to the string table; returns its offset. */
static uint32_t strtab_add(char *tab, size_t *len, const char *name)
{
	uint32_t at = (uint32_t) *len;

	memcpy(tab + *len, name, strlen(name) + 1);
	*len += strlen(name) + 1;
	return at;
}

int elf_build(const struct elf_spec *spec, struct elf_image *ret)
{
	bool is32 = spec->elf_class == 32, msb = spec->msb;
	size_t ehsize = is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	size_t phentsize = is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	size_t shentsize = is32 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr);
	bool note = has_note(spec);
	bool note_phdr = note && spec->build_id_in_phdr;
	uint64_t seg_off[ELF_BUILDER_MAX_SEGS] = { 0 };
	uint64_t phoff, note_off = 0, note_size = 0, rsc_off = 0, strtab_off = 0, shoff = 0, off;
	uint32_t rsc[6];
	size_t rsc_size = rsc_bytes(spec->rsc, rsc);
	char strtab[128] = "";
	size_t strtab_len = 1;
	uint32_t name_text = 0, name_rsc = 0, name_note = 0, name_shstrtab = 0;
	unsigned phnum = spec->n_segs + (note_phdr ? 1 : 0), shnum = 0;
	int shstrndx = elf_builder_section_index(spec, ELF_SEC_SHSTRTAB);
	uint8_t *b;

	if (spec->elf_class != 32 && spec->elf_class != 64)
		return -EINVAL;
	if (spec->build_id_len > 255 || spec->n_segs > ELF_BUILDER_MAX_SEGS)
		return -EINVAL;

	if (shstrndx > 0) {
		if (spec->text_section)
			name_text = strtab_add(strtab, &strtab_len, ".text");
		if (spec->rsc != ELF_RSC_NONE)
			name_rsc = strtab_add(strtab, &strtab_len, ".resource_table");
		if (note && spec->build_id_in_section)
			name_note = strtab_add(strtab, &strtab_len, ".note.gnu.build-id");
		name_shstrtab = strtab_add(strtab, &strtab_len, ".shstrtab");
	}

	/* Lay the file out. */
	off = ehsize;
	phoff = off;
	off += (uint64_t) phnum * phentsize;
	if (note) {
		note_off = align_up(off, 4);
		note_size = 12 + 4 + align_up(spec->build_id_len, 4);
		off = note_off + note_size;
	}
	if (rsc_size) {
		rsc_off = align_up(off, 8);
		off = rsc_off + rsc_size + 8;
	}
	for (unsigned i = 0; i < spec->n_segs; i++) {
		if (spec->segs[i].filesz > SEG_DATA_MAX)
			return -EINVAL;
		seg_off[i] = align_up(off, 4);
		off = seg_off[i] + spec->segs[i].filesz;
	}
	if (shstrndx > 0) {
		shnum = (unsigned) shstrndx + 1;
		strtab_off = off;
		off += strtab_len;
		shoff = align_up(off, 8);
		off = shoff + (uint64_t) shnum * shentsize;
	}

	/* Bounded by SEG_DATA_MAX per segment: fits a size_t on every host. */
	b = calloc(1, (size_t) off);
	if (!b)
		return -ENOMEM;

	/* ELF header */
	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = is32 ? ELFCLASS32 : ELFCLASS64;
	b[EI_DATA] = msb ? ELFDATA2MSB : ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
#define EHDR(t)                                                                                \
	do {                                                                                   \
		PUT(b, msb, 0, t, e_type, ET_EXEC);                                            \
		PUT(b, msb, 0, t, e_machine, spec->machine);                                   \
		PUT(b, msb, 0, t, e_version, EV_CURRENT);                                      \
		PUT(b, msb, 0, t, e_entry, spec->entry);                                       \
		PUT(b, msb, 0, t, e_phoff, phoff);                                             \
		PUT(b, msb, 0, t, e_shoff, shoff);                                             \
		PUT(b, msb, 0, t, e_ehsize, ehsize);                                           \
		PUT(b, msb, 0, t, e_phentsize, phentsize);                                     \
		PUT(b, msb, 0, t, e_phnum, phnum);                                             \
		PUT(b, msb, 0, t, e_shentsize, shnum ? shentsize : 0);                         \
		PUT(b, msb, 0, t, e_shnum, shnum);                                             \
		PUT(b, msb, 0, t, e_shstrndx, shstrndx > 0 ? (unsigned) shstrndx : SHN_UNDEF); \
	} while (0)
	if (is32)
		EHDR(Elf32_Ehdr);
	else
		EHDR(Elf64_Ehdr);
#undef EHDR

	/* Program headers and segment data */
	for (unsigned i = 0; i < spec->n_segs; i++) {
		const struct elf_seg *s = &spec->segs[i];

		put_phdr(b, msb, is32, phoff + i * phentsize, s->type ? s->type : PT_LOAD,
			 PF_R | PF_X, seg_off[i], s->paddr, s->filesz,
			 s->memsz ? s->memsz : s->filesz);
		if (s->data && s->filesz)
			memcpy(b + seg_off[i], s->data, (size_t) s->filesz);
	}
	if (note_phdr)
		put_phdr(b, msb, is32, phoff + spec->n_segs * phentsize, PT_NOTE, PF_R, note_off, 0,
			 note_size, note_size);

	/* The GNU build-id note: namesz, descsz, type, "GNU\0", descriptor */
	if (note) {
		put(b, msb, note_off, 4, 4);
		put(b, msb, note_off + 4, spec->build_id_len, 4);
		put(b, msb, note_off + 8, NT_GNU_BUILD_ID, 4);
		memcpy(b + note_off + 12, "GNU", 4);
		if (spec->build_id_len)
			memcpy(b + note_off + 16, spec->build_id, spec->build_id_len);
	}
	/* The firmware's words, in the firmware's byte order. */
	for (size_t i = 0; i < rsc_size / 4; i++)
		put(b, msb, rsc_off + 4 * i, rsc[i], 4);

	/* Sections */
	if (shnum) {
		unsigned idx = 1;

		if (spec->text_section) {
			uint64_t addr = spec->n_segs ? spec->segs[0].paddr : 0;
			uint64_t size = spec->n_segs ? spec->segs[0].filesz : 0;
			uint64_t at = spec->n_segs ? seg_off[0] : ehsize;

			put_shdr(b, msb, is32, shoff + idx++ * shentsize, name_text, SHT_PROGBITS,
				 SHF_ALLOC | SHF_EXECINSTR, addr, at, size, 4);
		}
		if (spec->rsc != ELF_RSC_NONE)
			put_shdr(b, msb, is32, shoff + idx++ * shentsize, name_rsc,
				 spec->rsc == ELF_RSC_NOBITS ? SHT_NOBITS : SHT_PROGBITS, SHF_ALLOC,
				 0, rsc_off, rsc_size, 8);
		if (note && spec->build_id_in_section)
			put_shdr(b, msb, is32, shoff + idx++ * shentsize, name_note, SHT_NOTE,
				 SHF_ALLOC, 0, note_off, note_size, 4);
		memcpy(b + strtab_off, strtab, strtab_len);
		put_shdr(b, msb, is32, shoff + idx * shentsize, name_shstrtab, SHT_STRTAB, 0, 0,
			 strtab_off, strtab_len, 1);
	}

	*ret = (struct elf_image){
		.data = b,
		.size = (size_t) off,
		.elf_class = spec->elf_class,
		.msb = msb,
		.phoff = phoff,
		.shoff = shoff,
		.phnum = phnum,
		.shnum = shnum,
	};

	/* Truncation last, whatever order it was given in: patches need the bytes. */
	for (unsigned i = 0; i < spec->n_overrides; i++) {
		const struct elf_override *o = &spec->overrides[i];
		int r;

		if (o->field == ELF_F_TRUNCATE)
			continue;
		r = elf_image_patch(ret, o->field, o->index, o->value);
		if (r < 0) {
			elf_image_free(ret);
			return r;
		}
	}
	for (unsigned i = 0; i < spec->n_overrides; i++)
		if (spec->overrides[i].field == ELF_F_TRUNCATE)
			elf_image_patch(ret, ELF_F_TRUNCATE, 0, spec->overrides[i].value);
	return 0;
}

void elf_image_free(struct elf_image *img)
{
	free(img->data);
	img->data = NULL;
	img->size = 0;
}
