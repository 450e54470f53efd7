/* bzimage: validates a Linux bzImage's setup header (boot protocol, x86). */
#ifndef VMM_BOOT_BZIMAGE_H
#define VMM_BOOT_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets and values from Documentation/arch/x86/boot.rst. */
#define BZ_HDR_OFFSET	 0x1f1	    /* start of the setup header */
#define BZ_BOOT_FLAG	 0xaa55	    /* at 0x1fe */
#define BZ_HDRS_MAGIC	 0x53726448 /* "HdrS" at 0x202 */
#define BZ_MIN_VERSION	 0x0206	    /* first protocol with cmdline_size */
#define BZ_LOADED_HIGH	 0x01	    /* loadflags: protected-mode code at 1 MiB */
#define BZ_XLF_KERNEL_64 0x0001	    /* xloadflags: 64-bit entry at +0x200 */
#define BZ_DEFAULT_LOAD	 0x100000   /* load address before protocol 2.10 */

enum bzimage_error {
	BZ_OK = 0,
	BZ_ETOOSMALL,	 /* file shorter than the two sectors holding the header */
	BZ_EBOOTFLAG,	 /* no 0xAA55 boot flag at 0x1fe */
	BZ_EMAGIC,	 /* no "HdrS" magic at 0x202 */
	BZ_EVERSION,	 /* boot protocol older than 2.06 */
	BZ_ESETUPSECTS,	 /* setup sectors run past the end of the file */
	BZ_ESYSSIZE,	 /* syssize zero, or larger than what follows setup */
	BZ_ENOTHIGH,	 /* not LOADED_HIGH: an old zImage */
	BZ_ENOT64,	 /* no 64-bit entry point (XLF_KERNEL_64 clear) */
	BZ_ECMDLINESIZE, /* cmdline_size is zero */
	BZ_ERROR_COUNT,
};

/* What a loader needs from a validated header. All sizes in bytes. */
struct bzimage {
	uint16_t version;	  /* boot protocol, e.g. 0x020f */
	size_t setup_size;	  /* real-mode part: (setup_sects + 1) * 512 */
	size_t hdr_end;		  /* end of the setup header within the file */
	size_t kernel_offset;	  /* protected-mode kernel starts here ... */
	size_t kernel_size;	  /* ... and is this long (to the file's end) */
	uint64_t load_addr;	  /* where to put it: pref_address (>= 2.10) */
	uint32_t initrd_addr_max; /* highest byte an initrd may occupy */
	uint32_t kernel_alignment;
	uint32_t cmdline_size; /* longest command line, without the NUL */
	uint32_t init_size;    /* memory the kernel needs from load_addr */
	bool relocatable;
};

/*
 * Validates the bzImage in buf[0..len) and fills *out. Returns BZ_OK or the
 * first check that failed; *out is unspecified on failure. Pure: reads only
 * buf, never past len.
 */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *out);

/* A one-line description of a bzimage_error, for "file: message". */
const char *bzimage_strerror(int err);

#endif
