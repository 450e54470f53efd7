/* fake_bzimage: writes a minimal valid protocol-2.15 bzImage into memory. */
#ifndef VMM_TESTS_FAKE_BZIMAGE_H
#define VMM_TESTS_FAKE_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void put16(uint8_t *img, size_t off, uint16_t v)
{
	img[off] = v & 0xff;
	img[off + 1] = v >> 8;
}

static inline void put32(uint8_t *img, size_t off, uint32_t v)
{
	put16(img, off, v & 0xffff);
	put16(img, off + 2, v >> 16);
}

static inline void put64(uint8_t *img, size_t off, uint64_t v)
{
	put32(img, off, (uint32_t)v);
	put32(img, off + 4, (uint32_t)(v >> 32));
}

/* 4 setup sectors, the rest of len is the kernel; init_size 8 MiB. */
static inline void fake_bzimage(uint8_t *img, size_t len)
{
	memset(img, 0, len);
	img[0x1f1] = 4;					   /* setup_sects */
	put32(img, 0x1f4, (uint32_t)(len - 5 * 512) / 16); /* syssize */
	put16(img, 0x1fe, 0xaa55);			   /* boot_flag */
	img[0x200] = 0xeb;				   /* jmp short */
	img[0x201] = 0x6a;				   /* header ends at 0x26c */
	put32(img, 0x202, 0x53726448);			   /* "HdrS" */
	put16(img, 0x206, 0x020f);			   /* version */
	img[0x211] = 0x01;				   /* LOADED_HIGH */
	put32(img, 0x22c, 0x7fffffff);			   /* initrd_addr_max */
	put32(img, 0x230, 0x200000);			   /* kernel_alignment */
	img[0x234] = 1;					   /* relocatable */
	put16(img, 0x236, 0x0003);			   /* XLF_KERNEL_64 | above 4G */
	put32(img, 0x238, 2047);			   /* cmdline_size */
	put64(img, 0x258, 0x1000000);			   /* pref_address */
	put32(img, 0x260, 0x800000);			   /* init_size */
}

#endif
