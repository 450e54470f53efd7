#!/usr/bin/env bash
# LeakSanitizer on a whole `vmm boot`: the ASan+UBSan build's vmm
# (build-asan/, which scripts/test makes before the kvm stage) boots the
# marker initramfs with a disk, a vsock device, a virtio-fs share,
# --boot-timer, --boot-timeout and --exit-stats, so every device is set up
# and torn down. Without seccomp: LSan stops the threads with ptrace and
# reads /proc at exit, which the filters forbid. The run must end with 0
# and no sanitizer report, leaving nothing behind.
# usage: vmm-lsan.sh ASAN_VMM BZIMAGE INITRAMFS
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3
. "$(dirname "$0")/require-kvm.sh"
[ -x "$vmm" ] || {
	echo "SKIP: no ASan build of vmm at $vmm (cmake -S . -B build-asan -DVMM_SANITIZE=ON)"
	exit 77
}
. "$(dirname "$0")/guest-run.sh"
# An ASan binary answers help=1 with the sanitizer's flags: proof that a
# clean run below was checked at all.
ASAN_OPTIONS=help=1 "$vmm" --version >"$dir/help" 2>&1
grep -q 'Available flags for AddressSanitizer' "$dir/help" ||
	fail "$vmm is not built with AddressSanitizer"
head -c 1M /dev/zero >"$dir/disk.img"
mkdir "$dir/share"
ASAN_OPTIONS=detect_leaks=1 timeout 600 "$vmm" boot --no-seccomp --kernel "$kernel" \
	--initrd "$initrd" --cmdline "$base vmm_boot_timer=1" --disk "$dir/disk.img" \
	--vsock "3,$dir/v.sock" --fs "share=$dir/share" --boot-timer --boot-timeout 10m \
	--exit-stats </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "vmm exited $status, not 0"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "the guest did not get to init"
grep -Eq 'LeakSanitizer|AddressSanitizer|runtime error' "$err" && fail "a sanitizer report"
grep -q '^vmm: boot-timer: guest init after' "$err" || fail "no boot-timer line: did vmm run?"
[ -e "$dir/v.sock" ] && fail "the vsock socket was left behind"
echo "PASS: vmm boot under ASan/LSan: status 0, no leaks or other reports"
