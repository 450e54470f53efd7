/* Unit tests for boot/bzimage.c on synthetic setup headers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage.h"
#include "check_main.h"
#include "fake_bzimage.h"

#define IMG_LEN 8192
static uint8_t img[IMG_LEN];

static void make_valid(void)
{
	fake_bzimage(img, IMG_LEN);
}

static int parse(size_t len)
{
	struct bzimage bz;
	return bzimage_parse(img, len, &bz);
}

START_TEST(valid_header_fills_fields)
{
	struct bzimage bz;
	make_valid();
	ck_assert_int_eq(bzimage_parse(img, IMG_LEN, &bz), BZ_OK);
	ck_assert_uint_eq(bz.version, 0x020f);
	ck_assert_uint_eq(bz.setup_size, 5 * 512);
	ck_assert_uint_eq(bz.kernel_offset, 5 * 512);
	ck_assert_uint_eq(bz.kernel_size, IMG_LEN - 5 * 512);
	ck_assert_uint_eq(bz.hdr_end, 0x26c);
	ck_assert_uint_eq(bz.load_addr, 0x1000000);
	ck_assert_uint_eq(bz.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_eq(bz.kernel_alignment, 0x200000);
	ck_assert_uint_eq(bz.cmdline_size, 2047);
	ck_assert_uint_eq(bz.init_size, 0x800000);
	ck_assert(bz.relocatable);
}
END_TEST

START_TEST(too_small)
{
	make_valid();
	ck_assert_int_eq(parse(0x3ff), BZ_ETOOSMALL);
	ck_assert_int_eq(parse(0), BZ_ETOOSMALL);
}
END_TEST

START_TEST(bad_boot_flag)
{
	make_valid();
	put16(img, 0x1fe, 0x55aa);
	ck_assert_int_eq(parse(IMG_LEN), BZ_EBOOTFLAG);
}
END_TEST

START_TEST(bad_magic)
{
	make_valid();
	img[0x205] = 'X';
	ck_assert_int_eq(parse(IMG_LEN), BZ_EMAGIC);
}
END_TEST

START_TEST(old_protocol)
{
	make_valid();
	put16(img, 0x206, 0x0205);
	ck_assert_int_eq(parse(IMG_LEN), BZ_EVERSION);
}
END_TEST

START_TEST(one_setup_sector)
{
	struct bzimage bz;
	make_valid();
	img[0x1f1] = 1;
	put32(img, 0x1f4, (IMG_LEN - 2 * 512) / 16);
	ck_assert_int_eq(bzimage_parse(img, IMG_LEN, &bz), BZ_OK);
	ck_assert_uint_eq(bz.kernel_offset, 0x400);
	/* Nothing after the setup sector: no kernel at all. */
	ck_assert_int_eq(parse(0x400), BZ_ESETUPSECTS);
}
END_TEST

START_TEST(setup_sects_zero_means_four)
{
	struct bzimage bz;
	make_valid();
	img[0x1f1] = 0;
	ck_assert_int_eq(bzimage_parse(img, IMG_LEN, &bz), BZ_OK);
	ck_assert_uint_eq(bz.setup_size, 5 * 512);
}
END_TEST

START_TEST(setup_sects_past_file)
{
	make_valid();
	img[0x1f1] = 200; /* 201 * 512 > 8192 */
	ck_assert_int_eq(parse(IMG_LEN), BZ_ESETUPSECTS);
}
END_TEST

START_TEST(syssize_checks)
{
	make_valid();
	put32(img, 0x1f4, 0);
	ck_assert_int_eq(parse(IMG_LEN), BZ_ESYSSIZE);
	make_valid();
	/* A truncated file: syssize promises more than is there. */
	ck_assert_int_eq(parse(IMG_LEN - 16), BZ_ESYSSIZE);
	put32(img, 0x1f4, 0xffffffff); /* no overflow in the *16 */
	ck_assert_int_eq(parse(IMG_LEN), BZ_ESYSSIZE);
}
END_TEST

START_TEST(not_loaded_high)
{
	make_valid();
	img[0x211] = 0;
	ck_assert_int_eq(parse(IMG_LEN), BZ_ENOTHIGH);
}
END_TEST

START_TEST(no_64bit_entry)
{
	make_valid();
	put16(img, 0x236, 0x0002);
	ck_assert_int_eq(parse(IMG_LEN), BZ_ENOT64);
	/* Protocol 2.11 has no xloadflags even if the bytes are set. */
	make_valid();
	put16(img, 0x206, 0x020b);
	ck_assert_int_eq(parse(IMG_LEN), BZ_ENOT64);
	/* A header that ends before xloadflags does not have them. */
	make_valid();
	img[0x201] = 0x30; /* ends at 0x232 */
	ck_assert_int_eq(parse(IMG_LEN), BZ_ENOT64);
}
END_TEST

START_TEST(zero_cmdline_size)
{
	make_valid();
	put32(img, 0x238, 0);
	ck_assert_int_eq(parse(IMG_LEN), BZ_ECMDLINESIZE);
}
END_TEST

START_TEST(low_pref_address_clamped)
{
	struct bzimage bz;
	make_valid();
	put64(img, 0x258, 0x1000);
	ck_assert_int_eq(bzimage_parse(img, IMG_LEN, &bz), BZ_OK);
	ck_assert_uint_eq(bz.load_addr, BZ_DEFAULT_LOAD);
}
END_TEST

START_TEST(every_error_has_its_own_message)
{
	for (int i = 0; i < BZ_ERROR_COUNT; i++) {
		ck_assert_ptr_nonnull(bzimage_strerror(i));
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(bzimage_strerror(i), bzimage_strerror(j));
	}
	ck_assert_str_eq(bzimage_strerror(-1), "unknown bzImage error");
	ck_assert_str_eq(bzimage_strerror(BZ_ERROR_COUNT), "unknown bzImage error");
}
END_TEST

/* The project's own guest kernel, when the build has made it. */
START_TEST(real_guest_kernel)
{
	const char *path = getenv("VMM_GUEST_BZIMAGE");
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (!f) {
		fprintf(stderr, "real_guest_kernel: no %s\n", path ? path : "VMM_GUEST_BZIMAGE");
		ck_abort_msg("guest bzImage missing: run kernel/build (scripts/setup does)");
	}
	static uint8_t buf[64 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct bzimage bz;
	ck_assert_int_eq(bzimage_parse(buf, n, &bz), BZ_OK);
	ck_assert_uint_ge(bz.version, 0x020f);
	ck_assert_uint_eq(bz.load_addr, 0x1000000);
	ck_assert_uint_gt(bz.init_size, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("header");
	tcase_add_test(tc, valid_header_fills_fields);
	tcase_add_test(tc, too_small);
	tcase_add_test(tc, bad_boot_flag);
	tcase_add_test(tc, bad_magic);
	tcase_add_test(tc, old_protocol);
	tcase_add_test(tc, one_setup_sector);
	tcase_add_test(tc, setup_sects_zero_means_four);
	tcase_add_test(tc, setup_sects_past_file);
	tcase_add_test(tc, syssize_checks);
	tcase_add_test(tc, not_loaded_high);
	tcase_add_test(tc, no_64bit_entry);
	tcase_add_test(tc, zero_cmdline_size);
	tcase_add_test(tc, low_pref_address_clamped);
	tcase_add_test(tc, every_error_has_its_own_message);
	suite_add_tcase(s, tc);
	TCase *real = tcase_create("real");
	tcase_add_test(real, real_guest_kernel);
	suite_add_tcase(s, real);
	return check_run(s);
}
