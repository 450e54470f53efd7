#!/usr/bin/env bash
# The VMM's threads run under seccomp allowlists (vmm/sandbox.h): a system
# call outside its thread's list kills the whole VMM with SIGSYS rather
# than failing or succeeding. VMM_SECCOMP_TEST=KIND makes one thread of
# that kind call socket(AF_PACKET) once the guest runs (a line on stderr
# before the call, another with its result after it):
#   - for each kind (loop and vCPU threads under vmm boot, the virtio-fs
#     workers and the agent client under vmm run -v), vmm dies of SIGSYS
#     (status 159) right after the first line: the second never comes;
#   - the control, --no-seccomp: the same call returns (EPERM: the loop
#     and vCPU threads hold no CAP_NET_RAW, even as root) and the guest
#     runs to its end, so the hook is real and only the filter stops it;
#   - a vmm run killed that way leaves no VMM process behind.
# usage: vmm-seccomp.sh VMM BZIMAGE INITRAMFS
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
sigsys=$((128 + $(kill -l SYS)))

# $1: the kind; $2: its status; the call's two lines in $err.
killed() {
	local kind=$1 status=$2
	[ "$status" = "$sigsys" ] || fail "$kind: vmm exited $status, not $sigsys (SIGSYS)"
	grep -q "seccomp test: $kind thread calls socket(AF_PACKET)" "$err" ||
		fail "$kind: the test hook never ran"
	! grep -q 'seccomp test: socket(AF_PACKET) returned' "$err" ||
		fail "$kind: the forbidden call returned"
	echo "PASS: $kind thread: a forbidden call killed the VMM with SIGSYS"
}

for kind in loop vcpu; do
	VMM_SECCOMP_TEST=$kind timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" \
		--mem 128M --cmdline "$base" >"$out" 2>"$err"
	killed "$kind" $?
done

# Control: the same hook, no filters.
VMM_SECCOMP_TEST=loop timeout 300 "$vmm" boot --no-seccomp --kernel "$kernel" \
	--initrd "$initrd" --mem 128M --cmdline "$base" >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "--no-seccomp: vmm exited $status"
grep -q 'seccomp test: socket(AF_PACKET) returned -1 (Operation not permitted)' "$err" ||
	fail "--no-seccomp: the call did not return EPERM"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "--no-seccomp: the guest did not run to init"
echo "PASS: --no-seccomp: the same call returns (EPERM: no CAP_NET_RAW) and the guest runs on"

# vmm run: the fs workers (the volume's share) and the agent client.
root=$dir/rootfs
mkdir -p "$root/bin" "$root/tmp" "$dir/vol" "$dir/tmp"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for kind in fs client; do
	VMM_SECCOMP_TEST=$kind TMPDIR=$dir/tmp timeout 300 "$vmm" run --rootfs "$root" \
		-v "$dir/vol:/vol" -- sh -c 'echo hi >/vol/f' >"$out" 2>"$err"
	killed "$kind" $?
	[ ! -e "$dir/vol/f" ] || fail "$kind: the container ran on"
	pgrep -f "$dir/rootfs" >/dev/null && fail "$kind: a VMM process is left"
done
echo "PASS: every thread kind is confined"
