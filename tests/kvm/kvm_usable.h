/* kvm_usable: decides whether a kvm-labelled test can run, or skips it. */
#ifndef VMM_TESTS_KVM_USABLE_H
#define VMM_TESTS_KVM_USABLE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KVM_TEST_SKIP 77 /* ctest SKIP_RETURN_CODE */

/*
 * Exits with KVM_TEST_SKIP and a reason unless /dev/kvm opens and the CPU
 * has hardware virtualisation (vmx or svm). A paravirtual /dev/kvm without
 * those flags runs real-mode code but hangs real guests, so it does not
 * count; scripts/with-kvm gives these tests an emulated machine instead.
 */
static inline void kvm_test_require(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: cannot open /dev/kvm (%m): run through scripts/with-kvm\n");
		exit(KVM_TEST_SKIP);
	}
	close(fd);
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int hw = 0;
	while (f && !hw && fgets(line, sizeof(line), f))
		hw = !strncmp(line, "flags", 5) && (strstr(line, " svm") || strstr(line, " vmx"));
	if (f)
		fclose(f);
	if (!hw) {
		printf("SKIP: /dev/kvm without vmx/svm (paravirtual KVM): run through "
		       "scripts/with-kvm\n");
		exit(KVM_TEST_SKIP);
	}
}

#endif
