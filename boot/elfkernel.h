/*
 * elfkernel: validates an uncompressed x86-64 Linux kernel (vmlinux, ELF64)
 * and lists what a loader copies: the PT_LOAD segments at their physical
 * addresses and the entry point. Booting it skips the decompressor: the
 * VMM jumps straight to the kernel's startup_64, whose physical address
 * the kernel's linker script puts in e_entry.
 */
#ifndef VMM_BOOT_ELFKERNEL_H
#define VMM_BOOT_ELFKERNEL_H

#include <stddef.h>
#include <stdint.h>

#define ELFK_MAX_SEGMENTS 16

enum elfk_error {
	ELFK_OK = 0,
	ELFK_ETOOSMALL, /* shorter than an ELF64 header */
	ELFK_EMAGIC,	/* no \x7fELF */
	ELFK_ECLASS,	/* not 64-bit little-endian ELF version 1 */
	ELFK_EMACHINE,	/* not x86-64 */
	ELFK_ETYPE,	/* not an executable (ET_EXEC) */
	ELFK_EPHDRS,	/* program header table outside the file, or odd entry size */
	ELFK_ESEGMENT,	/* a PT_LOAD's data past the file, filesz > memsz, or wrapping */
	ELFK_ENOLOAD,	/* no PT_LOAD segment */
	ELFK_ETOOMANY,	/* more than ELFK_MAX_SEGMENTS PT_LOAD segments */
	ELFK_EENTRY,	/* entry point outside every PT_LOAD's file data */
	ELFK_ERROR_COUNT,
};

struct elfk_segment {
	uint64_t paddr;	 /* where it goes in guest-physical memory */
	uint64_t offset; /* its bytes in the file ... */
	uint64_t filesz; /* ... this many; the rest up to memsz is zeroed */
	uint64_t memsz;
};

struct elfkernel {
	uint64_t entry; /* physical address of startup_64 */
	int nseg;
	struct elfk_segment seg[ELFK_MAX_SEGMENTS];
	uint64_t start, end; /* lowest paddr, highest paddr + memsz */
};

/* True if buf starts with the ELF magic (whatever follows). */
int elfk_is_elf(const uint8_t *buf, size_t len);

/*
 * Validates the ELF image in buf[0..len) and fills *out. Returns ELFK_OK or
 * the first check that failed. Pure: reads only buf, never past len; on
 * success every segment's file range lies inside buf and no paddr + memsz
 * wraps.
 */
int elfk_parse(const uint8_t *buf, size_t len, struct elfkernel *out);

const char *elfk_strerror(int err);

#endif
