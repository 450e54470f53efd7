/*
 * A real-mode guest through raw KVM ioctls: writes a byte to an I/O port
 * and halts. Proves the /dev/kvm we were given runs guest code and reports
 * exits the way the VMM relies on.
 */
#include <check.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_main.h"
#include "kvm_usable.h"

#define GUEST_BASE 0x1000
#define TEST_PORT  0x3f8 /* any port: KVM hands every one to userspace */

START_TEST(out_then_hlt)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(kvm, 0);
	ck_assert_int_eq(ioctl(kvm, KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ck_assert_int_ge(vm, 0);

	uint8_t *mem =
		mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	const uint8_t code[] = {
		0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
		0xb0, 0x5a,	  /* mov al, 0x5a */
		0xee,		  /* out dx, al */
		0xb0, 0xa5,	  /* mov al, 0xa5 */
		0xee,		  /* out dx, al */
		0xf4,		  /* hlt */
	};
	memcpy(mem, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = 0x1000,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	ck_assert_int_eq(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region), 0);

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(vcpu, 0);
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ck_assert_int_ge(run_size, (int)sizeof(struct kvm_run));
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ck_assert_ptr_ne(run, MAP_FAILED);

	struct kvm_sregs sregs;
	ck_assert_int_eq(ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ck_assert_int_eq(ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	struct kvm_regs regs = {.rip = GUEST_BASE, .rflags = 0x2};
	ck_assert_int_eq(ioctl(vcpu, KVM_SET_REGS, &regs), 0);

	const uint8_t want[] = {0x5a, 0xa5};
	for (size_t i = 0; i < sizeof(want); i++) {
		ck_assert_int_eq(ioctl(vcpu, KVM_RUN, 0), 0);
		ck_assert_uint_eq(run->exit_reason, KVM_EXIT_IO);
		ck_assert_uint_eq(run->io.direction, KVM_EXIT_IO_OUT);
		ck_assert_uint_eq(run->io.port, TEST_PORT);
		ck_assert_uint_eq(run->io.size, 1);
		ck_assert_uint_eq(run->io.count, 1);
		ck_assert_uint_eq(((uint8_t *)run)[run->io.data_offset], want[i]);
	}
	ck_assert_int_eq(ioctl(vcpu, KVM_RUN, 0), 0);
	ck_assert_uint_eq(run->exit_reason, KVM_EXIT_HLT);
	ck_assert_int_eq(ioctl(vcpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, GUEST_BASE + sizeof(code));

	munmap(run, run_size);
	munmap(mem, 0x1000);
	close(vcpu);
	close(vm);
	close(kvm);
}
END_TEST

int main(void)
{
	kvm_test_require();
	Suite *s = suite_create("kvm_realmode");
	TCase *tc = tcase_create("realmode");
	tcase_add_test(tc, out_then_hlt);
	suite_add_tcase(s, tc);
	return check_run(s);
}
