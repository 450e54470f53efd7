/*
 * selfmem: the VMM's own memory stays in 4 KiB pages. Hosts commonly run
 * transparent huge pages in "always" mode, where the first touch of any
 * 2 MiB-aligned block of an anonymous mapping gets a whole huge page:
 * vmm's bss (static device tables, tens of MiB reserved, a few KiB used)
 * and each thread's 8 MiB stack then cost 2 MiB of RSS and of zeroing
 * apiece for a few pages used (measured: 3 such pages in a `vmm run`,
 * half of vmm's own PSS). Guest memory keeps MADV_HUGEPAGE (guestmem.c):
 * there huge pages pay off.
 */
#ifndef VMM_SELFMEM_H
#define VMM_SELFMEM_H

/* First thing in main, before any thread exists: the bss is marked
 * MADV_NOHUGEPAGE and new threads get stacks smaller than a huge page
 * (SELFMEM_STACK). Best effort: a failure leaves the defaults. */
void selfmem_setup(void);

/* The threads' stack size: well above what any VMM thread uses (the
 * deepest, the agent client, parses JSON), below 2 MiB. */
#define SELFMEM_STACK (1024 * 1024)

#endif
