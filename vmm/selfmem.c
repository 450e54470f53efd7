/* selfmem: the VMM's own memory in small pages; see selfmem.h. */
#include "selfmem.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* The linker's marks around the bss. */
extern char __bss_start[], _end[];

void selfmem_setup(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)__bss_start + page - 1) & ~(page - 1);
	uintptr_t to = ((uintptr_t)_end + page - 1) & ~(page - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_NOHUGEPAGE);
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) == 0) {
		if (pthread_attr_setstacksize(&attr, SELFMEM_STACK) == 0)
			pthread_setattr_default_np(&attr);
		pthread_attr_destroy(&attr);
	}
}

void *selfmem_zalloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

void selfmem_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}
