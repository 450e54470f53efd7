#!/usr/bin/env bash
# Boots the project's guest kernel under QEMU -M microvm with KVM to the
# marker initramfs, proving the kernel config works independently of our
# VMM. usage: guest-kernel-qemu.sh BZIMAGE INITRAMFS
set -euo pipefail
kernel=$1 initrd=$2
. "$(dirname "$0")/require-kvm.sh"
[ -f "$kernel" ] || { echo "FAIL: no guest kernel at $kernel: run kernel/build"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# microvm has no i8042: reboot=t triple-faults and -no-reboot ends QEMU.
timeout 300 qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu host -m 256 -smp 2 \
	-kernel "$kernel" -initrd "$initrd" \
	-append 'console=ttyS0 reboot=t panic=-1' \
	-display none -monitor none -serial "file:$out" -no-reboot -nodefaults
status=$?
cat "$out"
[ "$status" = 0 ] || { echo "FAIL: qemu exited $status"; exit 1; }
grep -q '^VMM-GUEST-INIT-OK' "$out" || { echo "FAIL: no marker line from the guest"; exit 1; }
echo "PASS: guest kernel booted to the marker init under QEMU microvm + KVM"
