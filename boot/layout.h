/* layout: where the boot structures sit in guest physical memory. */
#ifndef VMM_BOOT_LAYOUT_H
#define VMM_BOOT_LAYOUT_H

/* All below 1 MiB, in RAM the kernel reclaims after boot. */
#define LAYOUT_GDT	   0x500  /* 5 descriptors: null, -, CS, DS, TSS */
#define LAYOUT_ZERO_PAGE   0x7000 /* struct boot_params, 4 KiB */
#define LAYOUT_STACK	   0x8ff0 /* initial rsp, grows down */
#define LAYOUT_PML4	   0x9000 /* identity page tables: PML4, */
#define LAYOUT_PDPT	   0xa000 /* one PDPT, */
#define LAYOUT_PD	   0xb000 /* and four PDs mapping 4 GiB in 2 MiB pages */
#define LAYOUT_PD_COUNT	   4
#define LAYOUT_CMDLINE	   0x20000 /* kernel command line */
#define LAYOUT_CMDLINE_MAX 0x10000
#define LAYOUT_EBDA	   0x9e000  /* reserved top of base memory, holding */
#define LAYOUT_MPTABLE	   0x9e000  /* the MP configuration table (< 7 KiB) */
#define LAYOUT_MPF	   0x9fc00  /* and its floating pointer, in the last KiB of base memory */
#define LAYOUT_BASE_END	   0xa0000  /* end of base memory (VGA hole follows) */
#define LAYOUT_HIMEM	   0x100000 /* RAM above the ISA hole starts here */

/* Selectors the 64-bit boot protocol requires (__BOOT_CS, __BOOT_DS). */
#define BOOT_CS	 0x10
#define BOOT_DS	 0x18
#define BOOT_TSS 0x20

#endif
