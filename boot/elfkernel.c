/* elfkernel: validates a vmlinux (ELF64, x86-64) and lists its segments. */
#include "elfkernel.h"

#include <elf.h>
#include <string.h>

#include "le.h"

/* Offsets in the ELF64 header and program header (System V gABI, ELF-64
 * Object File Format). Read byte by byte with le.h: no alignment assumed. */
enum {
	EH_TYPE = 16,
	EH_MACHINE = 18,
	EH_VERSION = 20,
	EH_ENTRY = 24,
	EH_PHOFF = 32,
	EH_PHENTSIZE = 54,
	EH_PHNUM = 56,
	EH_SIZE = 64,
	PH_TYPE = 0,
	PH_OFFSET = 8,
	PH_PADDR = 24,
	PH_FILESZ = 32,
	PH_MEMSZ = 40,
	PH_SIZE = 56,
};

int elfk_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

int elfk_parse(const uint8_t *buf, size_t len, struct elfkernel *out)
{
	if (len < EH_SIZE)
		return ELFK_ETOOSMALL;
	if (!elfk_is_elf(buf, len))
		return ELFK_EMAGIC;
	if (buf[EI_CLASS] != ELFCLASS64 || buf[EI_DATA] != ELFDATA2LSB ||
	    buf[EI_VERSION] != EV_CURRENT || le32(buf + EH_VERSION) != EV_CURRENT)
		return ELFK_ECLASS;
	if (le16(buf + EH_MACHINE) != EM_X86_64)
		return ELFK_EMACHINE;
	if (le16(buf + EH_TYPE) != ET_EXEC)
		return ELFK_ETYPE;

	uint64_t phoff = le64(buf + EH_PHOFF);
	uint64_t phnum = le16(buf + EH_PHNUM);
	if (le16(buf + EH_PHENTSIZE) != PH_SIZE || phoff > len || phnum > (len - phoff) / PH_SIZE)
		return ELFK_EPHDRS;

	memset(out, 0, sizeof(*out));
	out->entry = le64(buf + EH_ENTRY);
	out->start = UINT64_MAX;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + i * PH_SIZE;
		if (le32(ph + PH_TYPE) != PT_LOAD)
			continue;
		struct elfk_segment s = {
			.paddr = le64(ph + PH_PADDR),
			.offset = le64(ph + PH_OFFSET),
			.filesz = le64(ph + PH_FILESZ),
			.memsz = le64(ph + PH_MEMSZ),
		};
		/* Written so that nothing can overflow: each subtraction is
		 * guarded by the comparison before it. */
		if (s.offset > len || s.filesz > len - s.offset || s.filesz > s.memsz ||
		    s.memsz > UINT64_MAX - s.paddr)
			return ELFK_ESEGMENT;
		if (s.memsz == 0)
			continue;
		if (out->nseg == ELFK_MAX_SEGMENTS)
			return ELFK_ETOOMANY;
		out->seg[out->nseg++] = s;
		if (s.paddr < out->start)
			out->start = s.paddr;
		if (s.paddr + s.memsz > out->end)
			out->end = s.paddr + s.memsz;
	}
	if (!out->nseg)
		return ELFK_ENOLOAD;
	for (int i = 0; i < out->nseg; i++) {
		const struct elfk_segment *s = &out->seg[i];
		if (out->entry >= s->paddr && out->entry - s->paddr < s->filesz)
			return ELFK_OK;
	}
	return ELFK_EENTRY;
}

const char *elfk_strerror(int err)
{
	static const char *const msg[ELFK_ERROR_COUNT] = {
		[ELFK_OK] = "valid vmlinux",
		[ELFK_ETOOSMALL] = "truncated ELF: shorter than its 64-byte header",
		[ELFK_EMAGIC] = "not an ELF file",
		[ELFK_ECLASS] = "not a 64-bit little-endian ELF (version 1)",
		[ELFK_EMACHINE] = "ELF file is not for x86-64",
		[ELFK_ETYPE] = "ELF file is not an executable (ET_EXEC)",
		[ELFK_EPHDRS] = "truncated ELF: program headers run past the end of the file",
		[ELFK_ESEGMENT] = "truncated or malformed ELF: bad loadable segment",
		[ELFK_ENOLOAD] = "ELF file has no loadable segment",
		[ELFK_ETOOMANY] = "ELF file has too many loadable segments for a kernel",
		[ELFK_EENTRY] = "ELF entry point is outside the loadable segments",
	};
	if (err < 0 || err >= ELFK_ERROR_COUNT)
		return "unknown ELF error";
	return msg[err];
}
