/*
 * selfmem: the VMM's own memory stays in 4 KiB pages. Hosts commonly run
 * transparent huge pages in "always" mode, where the first touch of any
 * 2 MiB-aligned block of an anonymous mapping gets a whole huge page:
 * device tables (tens of MiB reserved for the worst case, a few KiB used)
 * and each thread's 8 MiB stack then cost 2 MiB of RSS and of zeroing
 * apiece for a few pages used (measured: 3 such pages in a `vmm run`,
 * half of vmm's own PSS). Guest memory keeps MADV_HUGEPAGE (guestmem.c):
 * there huge pages pay off.
 */
#ifndef VMM_SELFMEM_H
#define VMM_SELFMEM_H

#include <stddef.h>

/* First thing in main, before any thread exists: the bss (kept under
 * 2 MiB, see selfmem_zalloc) is marked MADV_NOHUGEPAGE and new threads get stacks smaller than a huge page
 * (SELFMEM_STACK). Best effort: a failure leaves the defaults. */
void selfmem_setup(void);

/* The threads' stack size: well above what any VMM thread uses (the
 * deepest, the agent client, parses JSON), below 2 MiB. */
#define SELFMEM_STACK (1024 * 1024)

/* Zeroed memory in small pages for the big tables (device state sized for
 * the worst case, a struct fs is 2 MiB of request slots): fresh anonymous
 * memory, so only the pages touched cost anything. These tables used to
 * be static, and the bss they made (38 MiB) could not be kept out of huge
 * pages: vmm is a static PIE, libc's own variables share that bss and are
 * written before main runs selfmem_setup. Keeping the bss under 2 MiB
 * leaves no whole huge page in it. Returns NULL with errno on failure. */
void *selfmem_zalloc(size_t size);

/* Returns memory from selfmem_zalloc; size as given to it. */
void selfmem_free(void *p, size_t size);

#endif
