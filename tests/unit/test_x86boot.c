/* Unit tests for boot/x86boot.c: a synthetic kernel loaded into plain memory. */
#include <asm/bootparam.h>
#include <check.h>

#include "check_main.h"
#include "fake_bzimage.h"
#include "fake_elf.h"
#include "layout.h"
#include "mptable.h"
#include "x86boot.h"

#define IMG_LEN 16384
static uint8_t img[IMG_LEN];
static uint8_t initrd[10000];
static struct guestmem gm;

static void setup(void)
{
	fake_bzimage(img, IMG_LEN);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(gm_alloc(&gm, 64 << 20, false), 0);
}

static void teardown(void)
{
	gm_free(&gm);
}

static struct kernel_image kimg;

static int load(const char *cmdline, struct boot_entry *e)
{
	ck_assert_ptr_null(x86boot_parse_kernel(img, IMG_LEN, &kimg));
	struct boot_input in = {&kimg, initrd, sizeof(initrd), cmdline, 2};
	return x86boot_load(&gm, &in, e);
}

START_TEST(loads_kernel_initrd_and_zero_page)
{
	struct boot_entry e;
	img[5 * 512] = 0xab; /* first byte of the protected-mode kernel */
	ck_assert_int_eq(load("console=ttyS0 hello", &e), BOOT_OK);
	ck_assert_uint_eq(e.rip, 0x1000000 + 0x200);
	ck_assert_uint_eq(e.rsi, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(e.cr3, LAYOUT_PML4);
	ck_assert_uint_eq(*(uint8_t *)gm_ptr(&gm, 0x1000000, 1), 0xab);

	const struct boot_params *bp = gm_ptr(&gm, LAYOUT_ZERO_PAGE, sizeof(*bp));
	ck_assert_uint_eq(bp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_str_eq(gm_ptr(&gm, LAYOUT_CMDLINE, 20), "console=ttyS0 hello");

	/* The initrd sits page-aligned at the top of RAM, intact. */
	ck_assert_uint_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	ck_assert_uint_eq(bp->hdr.ramdisk_image % 4096, 0);
	ck_assert_uint_le(bp->hdr.ramdisk_image + sizeof(initrd), 64 << 20);
	ck_assert_uint_gt(bp->hdr.ramdisk_image + sizeof(initrd), (64 << 20) - 4096);
	ck_assert_mem_eq(gm_ptr(&gm, bp->hdr.ramdisk_image, sizeof(initrd)), initrd,
			 sizeof(initrd));

	/* e820: base RAM, reserved EBDA, RAM from 1 MiB to the end. */
	ck_assert_uint_eq(bp->e820_entries, 3);
	ck_assert_uint_eq(bp->e820_table[0].addr, 0);
	ck_assert_uint_eq(bp->e820_table[0].size, LAYOUT_EBDA);
	ck_assert_uint_eq(bp->e820_table[0].type, 1);
	ck_assert_uint_eq(bp->e820_table[1].type, 2);
	ck_assert_uint_eq(bp->e820_table[2].addr, LAYOUT_HIMEM);
	ck_assert_uint_eq(bp->e820_table[2].addr + bp->e820_table[2].size, 64 << 20);
}
END_TEST

START_TEST(page_tables_identity_map_4g)
{
	struct boot_entry e;
	ck_assert_int_eq(load("", &e), BOOT_OK);
	const uint64_t *pml4 = gm_ptr(&gm, e.cr3, 4096);
	uint64_t pdpt_addr = pml4[0] & ~0xfffULL;
	const uint64_t *pdpt = gm_ptr(&gm, pdpt_addr, 4096);
	/* Walk a few addresses the way the MMU would. */
	const uint64_t probes[] = {0, 0x1000000 + 0x200, 0x3fffffff, 0x40000000, 0xfffff000};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint64_t va = probes[i];
		uint64_t pdpte = pdpt[(va >> 30) & 511];
		ck_assert(pdpte & 1);
		const uint64_t *pd = gm_ptr(&gm, pdpte & ~0xfffULL, 4096);
		uint64_t pde = pd[(va >> 21) & 511];
		ck_assert(pde & 0x80); /* 2 MiB page */
		ck_assert_uint_eq((pde & ~0x1fffffULL) | (va & 0x1fffff), va);
	}
}
END_TEST

START_TEST(gdt_has_boot_selectors)
{
	struct boot_entry e;
	ck_assert_int_eq(load("", &e), BOOT_OK);
	const uint64_t *gdt = gm_ptr(&gm, e.gdt_base, e.gdt_limit + 1);
	ck_assert_uint_eq(gdt[BOOT_CS / 8], 0x00af9b000000ffffULL);
	ck_assert_uint_eq(gdt[BOOT_DS / 8], 0x00cf93000000ffffULL);
	ck_assert_uint_eq(x86boot_gdt_entry(0xa09b, 0x12345678, 0xfffff), 0x12af9b345678ffffULL);
}
END_TEST

START_TEST(errors)
{
	struct boot_entry e;
	char longcmd[4000];
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = 0;
	ck_assert_int_eq(load(longcmd, &e), BOOT_ECMDLINE);

	img[0x1fe] = 0;
	ck_assert_str_eq(x86boot_parse_kernel(img, IMG_LEN, &kimg), bzimage_strerror(BZ_EBOOTFLAG));
	img[0x1fe] = 0x55;

	/* A kernel that wants more memory than there is. */
	put32(img, 0x260, 60 << 20);
	ck_assert_int_eq(load("", &e), BOOT_EKERNELFIT);
	put32(img, 0x260, 0x800000);

	/* An initrd that cannot fit above the kernel. */
	ck_assert_ptr_null(x86boot_parse_kernel(img, IMG_LEN, &kimg));
	struct boot_input in = {&kimg, initrd, 50 << 20, "", 1};
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_EINITRDFIT);
	ck_assert_str_ne(x86boot_strerror(BOOT_EINITRDFIT), x86boot_strerror(BOOT_EKERNELFIT));
	in.initrd_len = sizeof(initrd);
	in.ncpus = 0;
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_ECPUS);
	in.ncpus = MPTABLE_MAX_CPUS + 1;
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_ECPUS);
}
END_TEST

START_TEST(initrd_addr)
{
	/* Capped by initrd_addr_max (inclusive) and by RAM, page aligned. */
	ck_assert_uint_eq(x86boot_initrd_addr(1ULL << 30, 0x0fffffff, 0x2000000, 4096), 0x0ffff000);
	ck_assert_uint_eq(x86boot_initrd_addr(64 << 20, 0x7fffffff, 0x2000000, 5000),
			  (64 << 20) - 8192);
	ck_assert_uint_eq(x86boot_initrd_addr(64 << 20, 0x7fffffff, 0x3fff000, 8192), 0);
	ck_assert_uint_eq(x86boot_initrd_addr(64 << 20, 0x7fffffff, 0, UINT64_MAX), 0);
}
END_TEST

START_TEST(loads_vmlinux_segments_and_builds_zero_page)
{
	static uint8_t elf[FAKE_ELF_LEN];
	fake_elf(elf);
	ck_assert_ptr_null(x86boot_parse_kernel(elf, sizeof(elf), &kimg));
	ck_assert_int_eq(kimg.format, KERNEL_ELF);
	uint8_t *bss = gm_ptr(&gm, FAKE_ELF_PADDR + FAKE_ELF_FILESZ, 16);
	memset(bss, 0x77, 16); /* must come out zeroed */
	struct boot_input in = {&kimg, initrd, sizeof(initrd), "root=x", 3};
	struct boot_entry e;
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_OK);
	ck_assert_uint_eq(e.rip, FAKE_ELF_PADDR + 0x40); /* e_entry, as is */
	ck_assert_mem_eq(gm_ptr(&gm, FAKE_ELF_PADDR, FAKE_ELF_FILESZ), elf + FAKE_ELF_OFFSET,
			 FAKE_ELF_FILESZ);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(bss[i], 0);

	/* No setup header in a vmlinux: the loader supplies what the kernel reads. */
	const struct boot_params *bp = gm_ptr(&gm, LAYOUT_ZERO_PAGE, sizeof(*bp));
	ck_assert_uint_eq(bp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_str_eq(gm_ptr(&gm, LAYOUT_CMDLINE, 7), "root=x");
	ck_assert_uint_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	ck_assert_uint_ge(bp->hdr.ramdisk_image, FAKE_ELF_PADDR + FAKE_ELF_MEMSZ);
	ck_assert_uint_eq(bp->e820_entries, 3);

	/* A segment over the boot structures, or past the end of RAM. */
	fake_elf_set_paddr(elf, 0x8000);
	ck_assert_ptr_null(x86boot_parse_kernel(elf, sizeof(elf), &kimg));
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_EKERNELLOW);
	fake_elf_set_paddr(elf, (64 << 20) - 4096); /* memsz runs past RAM */
	ck_assert_ptr_null(x86boot_parse_kernel(elf, sizeof(elf), &kimg));
	ck_assert_int_eq(x86boot_load(&gm, &in, &e), BOOT_EKERNELFIT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("x86boot");
	TCase *tc = tcase_create("x86boot");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_kernel_initrd_and_zero_page);
	tcase_add_test(tc, page_tables_identity_map_4g);
	tcase_add_test(tc, gdt_has_boot_selectors);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, initrd_addr);
	tcase_add_test(tc, loads_vmlinux_segments_and_builds_zero_page);
	suite_add_tcase(s, tc);
	return check_run(s);
}
