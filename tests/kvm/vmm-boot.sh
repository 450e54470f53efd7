#!/usr/bin/env bash
# vmm boot brings the project's guest kernel up to the marker init, which
# prints its line on the 8250 console and resets through the i8042; vmm
# then exits 0. Also checks that kvm-clock was found (CPUID hypervisor
# leaves) and that the command line reached the guest; then boots with 3
# vCPUs and checks all come online through the MP table.
# usage: vmm-boot.sh VMM BZIMAGE INITRAMFS
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3
. "$(dirname "$0")/require-kvm.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --mem 128M \
	--cmdline "console=ttyS0 reboot=k panic=-1 vmmtest=42" >"$out" 2>&1
status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" = 0 ] || fail "vmm exited $status"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "no marker line from the guest's init"
grep -q 'Kernel command line: .*vmmtest=42' "$out" || fail "command line did not reach the guest"
grep -q 'Hypervisor detected: KVM' "$out" || fail "guest did not detect KVM"
grep -q 'clocksource: Switched to clocksource kvm-clock' "$out" || fail "guest is not on kvm-clock"
grep -q 'reboot: Restarting system' "$out" || fail "guest did not reboot"
echo "PASS: vmm booted the guest kernel to init and ended on its reset"

# SMP through the MP table: every vCPU comes online.
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --mem 128M --cpus 3 >"$out" 2>&1
status=$?
cat "$out"
[ "$status" = 0 ] || fail "vmm --cpus 3 exited $status"
grep -q 'found SMP MP-table' "$out" || fail "guest did not find the MP table"
grep -q 'smp: Brought up 1 node, 3 CPUs' "$out" || fail "not all 3 vCPUs came online"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "no marker line with 3 vCPUs"
echo "PASS: 3 vCPUs online through the MP table"
