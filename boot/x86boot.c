/* x86boot: lays out a bzImage, initramfs and boot structures for 64-bit entry. */
#include "x86boot.h"

#include <asm/bootparam.h>
#include <string.h>

#include "layout.h"
#include "mptable.h"

#define PAGE	      4096ULL
#define E820_RAM      1
#define E820_RESERVED 2

/* Page-table entry bits. */
#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

uint64_t x86boot_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

uint64_t x86boot_initrd_addr(uint64_t low_ram_end, uint32_t initrd_addr_max, uint64_t kernel_end,
			     uint64_t initrd_len)
{
	/* initrd_addr_max is the highest address the initrd may *occupy*. */
	uint64_t top = (uint64_t)initrd_addr_max + 1;
	if (top > low_ram_end)
		top = low_ram_end;
	if (initrd_len > top)
		return 0;
	uint64_t addr = (top - initrd_len) & ~(PAGE - 1);
	return addr >= kernel_end ? addr : 0;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];
	e->addr = addr;
	e->size = size;
	e->type = type;
}

/* RAM as the guest sees it: base memory, the reserved EBDA where the MP
 * table lives, RAM from 1 MiB, and RAM past 4 GiB if there is more. */
static void fill_e820(struct boot_params *bp, const struct guestmem *gm)
{
	add_e820(bp, 0, LAYOUT_EBDA, E820_RAM);
	add_e820(bp, LAYOUT_EBDA, LAYOUT_BASE_END - LAYOUT_EBDA, E820_RESERVED);
	add_e820(bp, LAYOUT_HIMEM, gm_low_end(gm) - LAYOUT_HIMEM, E820_RAM);
	for (int i = 1; i < gm->nregions; i++)
		add_e820(bp, gm->region[i].gpa, gm->region[i].size, E820_RAM);
}

/* Identity-map the first 4 GiB with 2 MiB pages: the boot protocol needs
 * the kernel, zero page and command line mapped; the decompressor builds
 * its own tables for anything else. */
static void write_page_tables(const struct guestmem *gm)
{
	uint64_t *pml4 = gm_ptr(gm, LAYOUT_PML4, PAGE);
	uint64_t *pdpt = gm_ptr(gm, LAYOUT_PDPT, PAGE);
	uint64_t *pd = gm_ptr(gm, LAYOUT_PD, PAGE * LAYOUT_PD_COUNT);
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < LAYOUT_PD_COUNT; i++)
		pdpt[i] = (LAYOUT_PD + i * PAGE) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512 * LAYOUT_PD_COUNT; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static void write_gdt(const struct guestmem *gm, struct boot_entry *entry)
{
	uint64_t *gdt = gm_ptr(gm, LAYOUT_GDT, 5 * sizeof(uint64_t));
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[BOOT_CS / 8] = x86boot_gdt_entry(0xa09b, 0, 0xfffff);  /* 64-bit code, flat */
	gdt[BOOT_DS / 8] = x86boot_gdt_entry(0xc093, 0, 0xfffff);  /* data, flat */
	gdt[BOOT_TSS / 8] = x86boot_gdt_entry(0x808b, 0, 0xfffff); /* busy TSS */
	entry->gdt_base = LAYOUT_GDT;
	entry->gdt_limit = 5 * sizeof(uint64_t) - 1;
}

const char *x86boot_parse_kernel(const uint8_t *buf, size_t len, struct kernel_image *k)
{
	memset(k, 0, sizeof(*k));
	k->buf = buf;
	k->len = len;
	if (elfk_is_elf(buf, len)) {
		k->format = KERNEL_ELF;
		int err = elfk_parse(buf, len, &k->elf);
		return err ? elfk_strerror(err) : NULL;
	}
	k->format = KERNEL_BZIMAGE;
	int err = bzimage_parse(buf, len, &k->bz);
	return err ? bzimage_strerror(err) : NULL;
}

/* Where a kernel was put: the first byte after it, and the initrd limit. */
struct placed {
	uint64_t end;
	uint32_t initrd_addr_max;
};

static int place_bzimage(const struct guestmem *gm, const struct kernel_image *k, struct placed *p)
{
	const struct bzimage *bz = &k->bz;
	/* The kernel needs init_size bytes from its load address (it
	 * decompresses in place); the file part must fit in that too. */
	uint64_t need = bz->init_size > bz->kernel_size ? bz->init_size : bz->kernel_size;
	uint8_t *dst = gm_ptr(gm, bz->load_addr, need);
	if (!dst || bz->load_addr + need > gm_low_end(gm))
		return BOOT_EKERNELFIT;
	memcpy(dst, k->buf + bz->kernel_offset, bz->kernel_size);
	p->end = bz->load_addr + need;
	p->initrd_addr_max = bz->initrd_addr_max;
	return BOOT_OK;
}

static int place_elf(const struct guestmem *gm, const struct kernel_image *k, struct placed *p)
{
	const struct elfkernel *e = &k->elf;
	/* Below 1 MiB live the boot structures; above low RAM is nothing. */
	if (e->start < LAYOUT_HIMEM)
		return BOOT_EKERNELLOW;
	if (e->end > gm_low_end(gm))
		return BOOT_EKERNELFIT;
	for (int i = 0; i < e->nseg; i++) {
		const struct elfk_segment *s = &e->seg[i];
		uint8_t *dst = gm_ptr(gm, s->paddr, s->memsz);
		if (!dst)
			return BOOT_EKERNELFIT;
		memcpy(dst, k->buf + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz); /* .bss */
	}
	p->end = e->end;
	/* What every x86-64 bzImage header says (protocol >= 2.03). */
	p->initrd_addr_max = 0x7fffffff;
	return BOOT_OK;
}

/* The zero page's setup header. For a bzImage, the file's own header, as
 * the protocol asks of a loader; a vmlinux has none, so the fields the
 * kernel reads are filled in as a bzImage would carry them. */
static void fill_setup_header(struct boot_params *bp, const struct kernel_image *k)
{
	if (k->format == KERNEL_BZIMAGE) {
		size_t hdr_len = k->bz.hdr_end - BZ_HDR_OFFSET;
		if (hdr_len > sizeof(bp->hdr)) /* a newer header than we know */
			hdr_len = sizeof(bp->hdr);
		memcpy(&bp->hdr, k->buf + BZ_HDR_OFFSET, hdr_len);
		bp->hdr.code32_start = (uint32_t)k->bz.load_addr;
	} else {
		bp->hdr.boot_flag = BZ_BOOT_FLAG;
		bp->hdr.header = BZ_HDRS_MAGIC;
		bp->hdr.version = 0x020f;
		bp->hdr.loadflags = BZ_LOADED_HIGH;
		bp->hdr.kernel_alignment = 0x1000000;
		bp->hdr.cmdline_size = X86BOOT_ELF_CMDLINE_MAX;
		bp->hdr.initrd_addr_max = 0x7fffffff;
	}
	bp->hdr.type_of_loader = 0xff; /* undefined loader */
	bp->hdr.loadflags |= 0x80;     /* CAN_USE_HEAP */
	bp->hdr.heap_end_ptr = 0xfe00;
}

int x86boot_load(struct guestmem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	const struct kernel_image *k = in->kernel;
	size_t cmdlen = in->cmdline ? strlen(in->cmdline) : 0;
	uint32_t cmdmax =
		k->format == KERNEL_BZIMAGE ? k->bz.cmdline_size : X86BOOT_ELF_CMDLINE_MAX;
	if (cmdlen > cmdmax || cmdlen >= LAYOUT_CMDLINE_MAX)
		return BOOT_ECMDLINE;
	if (gm_low_end(gm) < LAYOUT_HIMEM + PAGE)
		return BOOT_EMEMSMALL;
	if (mptable_write(gm, in->ncpus))
		return BOOT_ECPUS;

	struct placed placed;
	int err = k->format == KERNEL_BZIMAGE ? place_bzimage(gm, k, &placed)
					      : place_elf(gm, k, &placed);
	if (err)
		return err;

	uint64_t initrd_addr = 0;
	if (in->initrd) {
		initrd_addr = x86boot_initrd_addr(gm_low_end(gm), placed.initrd_addr_max,
						  placed.end, in->initrd_len);
		uint8_t *idst = initrd_addr ? gm_ptr(gm, initrd_addr, in->initrd_len) : NULL;
		if (!idst)
			return BOOT_EINITRDFIT;
		memcpy(idst, in->initrd, in->initrd_len);
	}

	char *cmd = gm_ptr(gm, LAYOUT_CMDLINE, cmdlen + 1);
	memcpy(cmd, in->cmdline ? in->cmdline : "", cmdlen);
	cmd[cmdlen] = '\0';

	struct boot_params *bp = gm_ptr(gm, LAYOUT_ZERO_PAGE, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	fill_setup_header(bp, k);
	bp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	bp->hdr.ramdisk_image = (uint32_t)initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)in->initrd_len;
	fill_e820(bp, gm);

	write_page_tables(gm);
	write_gdt(gm, entry);
	/* A bzImage's 64-bit entry is startup_64 of its decompressor, 0x200
	 * into the protected-mode part; a vmlinux's is the kernel's own. */
	entry->rip = k->format == KERNEL_BZIMAGE ? k->bz.load_addr + 0x200 : k->elf.entry;
	entry->rsi = LAYOUT_ZERO_PAGE;
	entry->rsp = LAYOUT_STACK;
	entry->cr3 = LAYOUT_PML4;
	return BOOT_OK;
}

const char *x86boot_strerror(int err)
{
	static const char *const msg[BOOT_ERROR_COUNT] = {
		[BOOT_OK] = "loaded",
		[BOOT_ECMDLINE] = "command line longer than the kernel accepts",
		[BOOT_EKERNELFIT] = "kernel does not fit in guest memory: give the VM more memory",
		[BOOT_EKERNELLOW] =
			"kernel asks to be loaded below 1 MiB, where the boot structures are",
		[BOOT_EINITRDFIT] =
			"initramfs does not fit in guest memory: give the VM more memory",
		[BOOT_EMEMSMALL] = "guest memory too small for the boot structures",
		[BOOT_ECPUS] = "CPU count out of range for the MP table",
	};
	return err >= 0 && err < BOOT_ERROR_COUNT ? msg[err] : "unknown boot error";
}
