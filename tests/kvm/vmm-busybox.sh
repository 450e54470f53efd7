#!/usr/bin/env bash
# vmm boot with the busybox test initramfs: what a user of the VMM sees.
# Each case boots the guest kernel and checks the console, the exit status
# and stderr: reboot -f ends with 0; --cpus and --mem reach the guest; the
# vmlinux of the same build boots too; stdin reaches a guest shell;
# poweroff -f on 2 vCPUs ends with 0; a guest panic ends with 3; SIGTERM stops the guest with 143; heavy console output
# arrives whole and in order; --boot-timer reports init.
# usage: vmm-busybox.sh VMM BZIMAGE VMLINUX INITRAMFS
set -uo pipefail
vmm=$1 bzimage=$2 vmlinux=$3 initrd=$4
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
base="$base vmm_boot_timer=1"
# boot KERNEL VMMTEST [vmm options...] < stdin: runs vmm, sets $status.
boot() {
	local kernel=$1 test=$2
	shift 2
	timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" \
		--cmdline "$base vmmtest=$test" "$@" >"$out" 2>"$err"
	status=$?
	sed -i 's/\r$//' "$out" # the guest tty's CR LF
}

boot "$bzimage" info --cpus 2 --mem 512M --boot-timer </dev/null
[ "$status" = 0 ] || fail "info: vmm exited $status, not 0"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "info: no marker line from init"
grep -q '^VMM-TEST nproc=2$' "$out" || fail "info: the guest does not see 2 CPUs"
kb=$(sed -n 's/^VMM-TEST MemTotal: *\([0-9]*\) kB$/\1/p' "$out")
# MemTotal is RAM less what the kernel keeps for itself: for 512 MiB of
# RAM that is well above 480 MiB and never above 512 MiB.
[ -n "$kb" ] && [ "$kb" -gt $((480 * 1024)) ] && [ "$kb" -le $((512 * 1024)) ] ||
	fail "info: MemTotal '${kb:-none}' kB is not about 512 MiB"
grep -q 'reboot: Restarting system' "$out" || fail "info: no reboot"
grep -Eq '^vmm: boot-timer: guest init after [0-9.]+ ms' "$err" || fail "info: no boot-timer line"
echo "PASS: busybox init, reboot -f -> 0; nproc 2; MemTotal $kb kB; boot-timer reported"

boot "$vmlinux" info </dev/null
[ "$status" = 0 ] || fail "vmlinux: vmm exited $status"
grep -q '^VMM-GUEST-INIT-OK' "$out" || fail "vmlinux: no marker line"
grep -q '^VMM-TEST nproc=1$' "$out" || fail "vmlinux: init did not run its commands"
echo "PASS: the uncompressed vmlinux boots to init"

echo "a line typed on the host" | boot "$bzimage" echo
[ "$status" = 0 ] || fail "echo: vmm exited $status"
grep -q '^VMM-TEST got: a line typed on the host' "$out" || fail "echo: stdin did not reach the guest"
echo "PASS: stdin reaches the guest's shell through the UART"

boot "$bzimage" poweroff --cpus 2 </dev/null
[ "$status" = 0 ] || fail "poweroff: vmm exited $status, not 0"
grep -q 'VMM-TEST powering off' "$out" || fail "poweroff: init did not get to poweroff"
grep -q 'reboot: System halted' "$out" || fail "poweroff: the guest did not halt"
[ -s "$err" ] && fail "poweroff: unexpected stderr"
echo "PASS: poweroff (all vCPUs halted) ends with status 0"

boot "$bzimage" panic </dev/null
[ "$status" = 3 ] || fail "panic: vmm exited $status, not 3"
grep -q 'Kernel panic - not syncing' "$out" || fail "panic: the guest did not panic"
[ "$(cat "$err")" = "vmm: guest kernel panicked" ] || fail "panic: stderr is not the one clear line"
echo "PASS: a guest panic ends with status 3 and one line"

timeout 300 "$vmm" boot --kernel "$bzimage" --initrd "$initrd" --cmdline "$base vmmtest=wait" \
	</dev/null >"$out" 2>"$err" &
pid=$!
for _ in $(seq 300); do grep -q 'VMM-TEST waiting' "$out" && break; sleep 1; done
grep -q 'VMM-TEST waiting' "$out" || fail "sigterm: the guest never got to wait"
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" = 143 ] || fail "sigterm: vmm exited $status, not 143"
[ "$(cat "$err")" = "vmm: stopping the guest on SIGTERM" ] || fail "sigterm: wrong stderr"
pgrep -x -P $$ vmm >/dev/null && fail "sigterm: a vmm process is left"
echo "PASS: SIGTERM stops the guest, status 143"

# Kept short: heavy serial traffic (tens of thousands of exits with
# interrupts) has frozen the emulated outer machine of scripts/with-kvm
# (nested SVM under TCG) a few times; see ARCHITECTURE.md.
boot "$bzimage" spam </dev/null
[ "$status" = 0 ] || fail "spam: vmm exited $status"
seq 1 500 >"$dir/want"
grep -E '^[0-9]+$' "$out" >"$dir/got"
cmp -s "$dir/want" "$dir/got" || fail "spam: console output lost or reordered ($(wc -l <"$dir/got") lines)"
[ -s "$err" ] && fail "spam: unexpected stderr"
echo "PASS: 500 lines of console output arrive whole and in order"
