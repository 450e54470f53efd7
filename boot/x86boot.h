/*
 * x86boot: loads a kernel (a bzImage, or an uncompressed ELF vmlinux) and an
 * initramfs into guest memory and lays out the zero page, e820 map, command
 * line, GDT and identity page tables for a 64-bit direct entry
 * (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"). Pure code over
 * struct guestmem: no KVM, no files.
 */
#ifndef VMM_BOOT_X86BOOT_H
#define VMM_BOOT_X86BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "bzimage.h"
#include "elfkernel.h"
#include "guestmem.h"

/* What the vCPU must be set to: 64-bit mode, paging on, interrupts off. */
struct boot_entry {
	uint64_t rip; /* kernel's 64-bit entry */
	uint64_t rsi; /* the zero page */
	uint64_t rsp;
	uint64_t cr3; /* PML4 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

enum kernel_format { KERNEL_BZIMAGE = 1, KERNEL_ELF };

/* A validated kernel file. */
struct kernel_image {
	enum kernel_format format;
	const uint8_t *buf; /* the whole file */
	size_t len;
	struct bzimage bz;    /* KERNEL_BZIMAGE */
	struct elfkernel elf; /* KERNEL_ELF */
};

/* Longest command line for a vmlinux, which carries no setup header to say:
 * x86's COMMAND_LINE_SIZE less the NUL. */
#define X86BOOT_ELF_CMDLINE_MAX 2047

/* Recognises buf as a vmlinux (by the ELF magic) or else a bzImage and
 * validates it. Returns NULL, or the one-line reason it cannot be booted
 * (for "kernel PATH: reason"). */
const char *x86boot_parse_kernel(const uint8_t *buf, size_t len, struct kernel_image *k);

struct boot_input {
	const struct kernel_image *kernel;
	const uint8_t *initrd; /* NULL for none */
	size_t initrd_len;
	const char *cmdline;
	int ncpus; /* CPUs listed in the MP table, 1..MPTABLE_MAX_CPUS */
};

enum boot_error {
	BOOT_OK = 0,
	BOOT_ECMDLINE,	 /* command line longer than the kernel accepts */
	BOOT_EKERNELFIT, /* kernel (init_size, or a segment) past the end of low RAM */
	BOOT_EKERNELLOW, /* a vmlinux segment below 1 MiB, over the boot structures */
	BOOT_EINITRDFIT, /* initramfs does not fit between kernel and its max */
	BOOT_EMEMSMALL,	 /* guest RAM too small to hold the boot structures */
	BOOT_ECPUS,	 /* CPU count outside 1..MPTABLE_MAX_CPUS */
	BOOT_ERROR_COUNT,
};

/* Loads in->kernel (and in->initrd) into gm and fills *entry. Returns a
 * boot_error. */
int x86boot_load(struct guestmem *gm, const struct boot_input *in, struct boot_entry *entry);

const char *x86boot_strerror(int err);

/* Where the initramfs goes: as high as possible below both the end of low
 * RAM and initrd_addr_max, page aligned, above kernel_end. 0 if it cannot. */
uint64_t x86boot_initrd_addr(uint64_t low_ram_end, uint32_t initrd_addr_max, uint64_t kernel_end,
			     uint64_t initrd_len);

/* A GDT descriptor (Intel SDM vol. 3, 3.4.5) from its parts. */
uint64_t x86boot_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

#endif
