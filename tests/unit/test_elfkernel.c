/* Unit tests for boot/elfkernel.c: each check on a synthetic ELF, and the real vmlinux. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_main.h"
#include "elfkernel.h"
#include "fake_elf.h"

static uint8_t img[FAKE_ELF_LEN];
static struct elfkernel k;

static void setup(void)
{
	fake_elf(img);
}

static Elf64_Ehdr *eh(void)
{
	return (Elf64_Ehdr *)img;
}

START_TEST(valid_lists_loadable_segments)
{
	ck_assert(elfk_is_elf(img, sizeof(img)));
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_OK);
	ck_assert_int_eq(k.nseg, 1); /* the PT_NOTE is not loaded */
	ck_assert_uint_eq(k.entry, FAKE_ELF_PADDR + 0x40);
	ck_assert_uint_eq(k.seg[0].paddr, FAKE_ELF_PADDR); /* physical, not virtual */
	ck_assert_uint_eq(k.seg[0].offset, FAKE_ELF_OFFSET);
	ck_assert_uint_eq(k.seg[0].filesz, FAKE_ELF_FILESZ);
	ck_assert_uint_eq(k.seg[0].memsz, FAKE_ELF_MEMSZ);
	ck_assert_uint_eq(k.start, FAKE_ELF_PADDR);
	ck_assert_uint_eq(k.end, FAKE_ELF_PADDR + FAKE_ELF_MEMSZ);
}
END_TEST

START_TEST(header_checks)
{
	ck_assert_int_eq(elfk_parse(img, 63, &k), ELFK_ETOOSMALL);
	img[1] = 'X';
	ck_assert(!elfk_is_elf(img, sizeof(img)));
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EMAGIC);
	fake_elf(img);
	img[EI_CLASS] = ELFCLASS32;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ECLASS);
	fake_elf(img);
	img[EI_DATA] = ELFDATA2MSB;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ECLASS);
	fake_elf(img);
	eh()->e_machine = EM_AARCH64;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EMACHINE);
	fake_elf(img);
	eh()->e_type = ET_DYN;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ETYPE);
}
END_TEST

START_TEST(program_header_table_bounds)
{
	eh()->e_phentsize = 32;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EPHDRS);
	fake_elf(img);
	eh()->e_phoff = sizeof(img) - 60; /* two entries do not fit */
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EPHDRS);
	eh()->e_phoff = UINT64_MAX - 8; /* would wrap */
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EPHDRS);
	fake_elf(img);
	eh()->e_phnum = 0xffff;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EPHDRS);
}
END_TEST

START_TEST(segment_checks)
{
	/* Truncated: the segment's data runs past the end of the file. */
	ck_assert_int_eq(elfk_parse(img, sizeof(img) - 1, &k), ELFK_ESEGMENT);
	fake_elf_phdr(img, 1)->p_offset = UINT64_MAX - 100;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ESEGMENT);
	fake_elf(img);
	fake_elf_phdr(img, 1)->p_memsz = FAKE_ELF_FILESZ - 1;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ESEGMENT);
	fake_elf(img);
	fake_elf_set_paddr(img, UINT64_MAX - 4096); /* paddr + memsz wraps */
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ESEGMENT);
	fake_elf(img);
	fake_elf_phdr(img, 1)->p_type = PT_NOTE;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_ENOLOAD);
}
END_TEST

START_TEST(too_many_segments)
{
	static uint8_t big[sizeof(Elf64_Ehdr) + 20 * sizeof(Elf64_Phdr)];
	fake_elf(img);
	memcpy(big, img, sizeof(Elf64_Ehdr));
	((Elf64_Ehdr *)big)->e_phnum = 20;
	for (int i = 0; i < 20; i++)
		*((Elf64_Phdr *)(big + sizeof(Elf64_Ehdr)) + i) = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_paddr = FAKE_ELF_PADDR + i * 4096, .p_memsz = 4096};
	ck_assert_int_eq(elfk_parse(big, sizeof(big), &k), ELFK_ETOOMANY);
}
END_TEST

START_TEST(entry_must_be_in_file_data)
{
	eh()->e_entry = FAKE_ELF_PADDR + FAKE_ELF_FILESZ; /* in .bss */
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EENTRY);
	eh()->e_entry = 0;
	ck_assert_int_eq(elfk_parse(img, sizeof(img), &k), ELFK_EENTRY);
}
END_TEST

START_TEST(every_error_has_its_own_message)
{
	for (int i = 0; i < ELFK_ERROR_COUNT; i++)
		for (int j = i + 1; j < ELFK_ERROR_COUNT; j++)
			ck_assert_str_ne(elfk_strerror(i), elfk_strerror(j));
	ck_assert_str_eq(elfk_strerror(ELFK_ERROR_COUNT), "unknown ELF error");
	ck_assert_str_eq(elfk_strerror(-1), "unknown ELF error");
}
END_TEST

/* The project's own guest vmlinux, when the build has made it. */
START_TEST(real_guest_vmlinux)
{
	const char *path = getenv("VMM_GUEST_VMLINUX");
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (!f)
		ck_abort_msg("guest vmlinux %s missing: run kernel/build (scripts/setup does)",
			     path ? path : "(VMM_GUEST_VMLINUX unset)");
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	uint8_t *buf = malloc(n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	ck_assert_int_eq(elfk_parse(buf, n, &k), ELFK_OK);
	ck_assert_uint_eq(k.start, 0x1000000); /* CONFIG_PHYSICAL_START */
	ck_assert_uint_eq(k.entry, 0x1000000); /* startup_64 opens .text */
	ck_assert_int_ge(k.nseg, 2);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elfkernel");
	TCase *tc = tcase_create("elfkernel");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, valid_lists_loadable_segments);
	tcase_add_test(tc, header_checks);
	tcase_add_test(tc, program_header_table_bounds);
	tcase_add_test(tc, segment_checks);
	tcase_add_test(tc, too_many_segments);
	tcase_add_test(tc, entry_must_be_in_file_data);
	tcase_add_test(tc, every_error_has_its_own_message);
	tcase_add_test(tc, real_guest_vmlinux);
	suite_add_tcase(s, tc);
	return check_run(s);
}
