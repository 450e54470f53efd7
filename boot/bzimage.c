/* bzimage: validates a Linux bzImage's setup header (boot protocol, x86). */
#include "bzimage.h"

#include "le.h"

/* Field offsets in the file (boot.rst, "The real-mode kernel header"). */
enum {
	OFF_SETUP_SECTS = 0x1f1,
	OFF_SYSSIZE = 0x1f4,
	OFF_BOOT_FLAG = 0x1fe,
	OFF_JUMP = 0x200,
	OFF_HEADER = 0x202,
	OFF_VERSION = 0x206,
	OFF_LOADFLAGS = 0x211,
	OFF_INITRD_ADDR_MAX = 0x22c,
	OFF_KERNEL_ALIGNMENT = 0x230,
	OFF_RELOCATABLE = 0x234,
	OFF_XLOADFLAGS = 0x236,
	OFF_CMDLINE_SIZE = 0x238,
	OFF_PREF_ADDRESS = 0x258,
	OFF_INIT_SIZE = 0x260,
	HDR_MIN_LEN = 0x400, /* the boot sector and the first setup sector */
};

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *out)
{
	if (len < HDR_MIN_LEN)
		return BZ_ETOOSMALL;
	if (le16(buf + OFF_BOOT_FLAG) != BZ_BOOT_FLAG)
		return BZ_EBOOTFLAG;
	if (le32(buf + OFF_HEADER) != BZ_HDRS_MAGIC)
		return BZ_EMAGIC;
	out->version = le16(buf + OFF_VERSION);
	if (out->version < BZ_MIN_VERSION)
		return BZ_EVERSION;

	/* The jump at 0x200 is "jmp short": its second byte is the offset of
	 * the header's end from 0x202, so the header always ends by 0x301,
	 * inside the first setup sector. */
	out->hdr_end = OFF_HEADER + buf[OFF_JUMP + 1];

	/* setup_sects == 0 means 4 for historical reasons. */
	size_t sects = buf[OFF_SETUP_SECTS] ? buf[OFF_SETUP_SECTS] : 4;
	out->setup_size = (sects + 1) * 512;
	if (out->setup_size >= len)
		return BZ_ESETUPSECTS;

	/* syssize counts 16-byte paragraphs of the protected-mode part. */
	out->kernel_offset = out->setup_size;
	out->kernel_size = len - out->setup_size;
	uint64_t sys = (uint64_t)le32(buf + OFF_SYSSIZE) * 16;
	if (sys == 0 || sys > out->kernel_size)
		return BZ_ESYSSIZE;

	if (!(buf[OFF_LOADFLAGS] & BZ_LOADED_HIGH))
		return BZ_ENOTHIGH;

	/* xloadflags exists from 2.12 on; before it, no 64-bit entry is
	 * promised. Fields past hdr_end read as absent. */
	uint16_t xlf = out->version >= 0x020c && out->hdr_end >= OFF_XLOADFLAGS + 2
			       ? le16(buf + OFF_XLOADFLAGS)
			       : 0;
	if (!(xlf & BZ_XLF_KERNEL_64))
		return BZ_ENOT64;

	out->cmdline_size = le32(buf + OFF_CMDLINE_SIZE);
	if (out->cmdline_size == 0)
		return BZ_ECMDLINESIZE;

	out->initrd_addr_max = le32(buf + OFF_INITRD_ADDR_MAX);
	out->kernel_alignment = le32(buf + OFF_KERNEL_ALIGNMENT);
	out->relocatable = buf[OFF_RELOCATABLE] != 0;
	bool has_210 = out->version >= 0x020a && out->hdr_end >= OFF_INIT_SIZE + 4;
	out->load_addr = has_210 ? le64(buf + OFF_PREF_ADDRESS) : BZ_DEFAULT_LOAD;
	out->init_size = has_210 ? le32(buf + OFF_INIT_SIZE) : 0;
	if (out->load_addr < BZ_DEFAULT_LOAD)
		out->load_addr = BZ_DEFAULT_LOAD;
	return BZ_OK;
}

const char *bzimage_strerror(int err)
{
	static const char *const msg[BZ_ERROR_COUNT] = {
		[BZ_OK] = "valid bzImage",
		[BZ_ETOOSMALL] = "not a bzImage: shorter than its 1024-byte header",
		[BZ_EBOOTFLAG] = "not a bzImage: no 0xAA55 boot flag at offset 0x1fe",
		[BZ_EMAGIC] = "not a bzImage: no \"HdrS\" magic at offset 0x202",
		[BZ_EVERSION] = "boot protocol older than 2.06 is not supported",
		[BZ_ESETUPSECTS] = "truncated bzImage: setup sectors run past the end of the file",
		[BZ_ESYSSIZE] =
			"truncated bzImage: syssize says the kernel is longer than the file",
		[BZ_ENOTHIGH] = "zImage (not loaded high) is not supported",
		[BZ_ENOT64] = "kernel has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)",
		[BZ_ECMDLINESIZE] = "setup header gives a zero cmdline_size",
	};
	if (err < 0 || err >= BZ_ERROR_COUNT)
		return "unknown bzImage error";
	return msg[err];
}
