/* libFuzzer target: x86boot_parse_kernel (bzImage and ELF vmlinux parsers)
 * on arbitrary bytes, as a user's --kernel file reaches them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "x86boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the loader relies on must hold for every accepted image. */
static void check_bzimage(const struct bzimage *bz, size_t size)
{
	if (bz->kernel_offset + bz->kernel_size != size || bz->kernel_offset < 1024 ||
	    bz->kernel_size == 0 || bz->cmdline_size == 0 || bz->load_addr < BZ_DEFAULT_LOAD)
		abort();
}

static void check_elf(const struct elfkernel *e, size_t size)
{
	if (e->nseg < 1 || e->nseg > ELFK_MAX_SEGMENTS || e->start >= e->end)
		abort();
	int entry_found = 0;
	for (int i = 0; i < e->nseg; i++) {
		const struct elfk_segment *s = &e->seg[i];
		if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz ||
		    s->paddr < e->start || s->paddr + s->memsz > e->end ||
		    s->paddr + s->memsz < s->paddr)
			abort();
		entry_found |= e->entry >= s->paddr && e->entry - s->paddr < s->filesz;
	}
	if (!entry_found)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_image k;
	if (x86boot_parse_kernel(data, size, &k))
		return 0;
	if (k.format == KERNEL_BZIMAGE)
		check_bzimage(&k.bz, size);
	else if (k.format == KERNEL_ELF)
		check_elf(&k.elf, size);
	else
		abort();
	return 0;
}
