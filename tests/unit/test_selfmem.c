/* Unit tests for selfmem (vmm/selfmem.c): the VMM's own memory in small
 * pages. What is checked is what the kernel reports for the mappings
 * (/proc/self/smaps: VmFlags "nh" is MADV_NOHUGEPAGE), and the threads'
 * default stack size. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "selfmem.h"

/* The smaps entry of the mapping that holds addr: whether it exists and
 * whether its VmFlags carry "nh". */
static bool mapping_flags(const void *addr, bool *nohuge)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	bool in = false, found = false;
	*nohuge = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long from, to;
		if (sscanf(line, "%lx-%lx ", &from, &to) == 2) { /* a mapping's first line */
			in = (uintptr_t)addr >= from && (uintptr_t)addr < to;
			found |= in;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			*nohuge = strstr(line, " nh") != NULL;
			in = false;
		}
	}
	fclose(f);
	return found;
}

START_TEST(zalloc_is_zero_in_small_pages)
{
	size_t size = 8u << 20; /* several whole 2 MiB blocks */
	unsigned char *p = selfmem_zalloc(size);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < size; i += 4096)
		ck_assert_uint_eq(p[i] | p[i + 4095], 0);
	bool nohuge;
	ck_assert(mapping_flags(p, &nohuge));
	ck_assert_msg(nohuge, "the table's mapping is not MADV_NOHUGEPAGE");
	selfmem_free(p, size);
	ck_assert_msg(!mapping_flags(p, &nohuge), "selfmem_free left the mapping");
}
END_TEST

START_TEST(zalloc_refuses_zero_bytes)
{
	ck_assert_ptr_null(selfmem_zalloc(0));
	selfmem_free(NULL, 4096); /* a failed allocation's free: nothing */
}
END_TEST

/* Big enough to own pages of the bss that nothing else shares. */
static unsigned char big_static[4u << 20];

START_TEST(setup_marks_bss_and_sets_stack_size)
{
	selfmem_setup();
	bool nohuge;
	ck_assert(mapping_flags(big_static + sizeof(big_static) / 2, &nohuge));
	ck_assert_msg(nohuge, "the bss is not MADV_NOHUGEPAGE after selfmem_setup");
	pthread_attr_t attr;
	size_t stack = 0;
	ck_assert_int_eq(pthread_getattr_default_np(&attr), 0);
	ck_assert_int_eq(pthread_attr_getstacksize(&attr, &stack), 0);
	pthread_attr_destroy(&attr);
	ck_assert_uint_eq(stack, SELFMEM_STACK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("selfmem");
	TCase *tc = tcase_create("selfmem");
	tcase_add_test(tc, zalloc_is_zero_in_small_pages);
	tcase_add_test(tc, zalloc_refuses_zero_bytes);
	tcase_add_test(tc, setup_marks_bss_and_sets_stack_size);
	suite_add_tcase(s, tc);
	return check_run(s);
}
