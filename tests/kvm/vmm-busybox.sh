#!/usr/bin/env bash
# vmm boot with the busybox test initramfs: what a user of the VMM sees.
# Each case boots the guest kernel and checks the console, the exit status
# and stderr: reboot -f ends with 0; --cpus and --mem reach the guest; the
# vmlinux of the same build boots too; stdin reaches a guest shell;
# poweroff -f on 2 vCPUs ends with 0 (under a generous --boot-timeout);
# a guest panic ends with 3, and so does a triple fault (reboot=t); a
# guest whose init never writes the boot-timer port is stopped by
# --boot-timeout with 4; SIGTERM stops the guest with 143; heavy console
# output arrives whole and in order; a console reader that goes away
# neither kills vmm nor stops the guest; --boot-timer reports init.
# usage: vmm-busybox.sh VMM BZIMAGE VMLINUX INITRAMFS
set -uo pipefail
vmm=$1 bzimage=$2 vmlinux=$3 initrd=$4
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
base_no_timer=$base
base="$base vmm_boot_timer=1"
# [extra=PARAMS] boot KERNEL VMMTEST [vmm options...] < stdin: runs vmm,
# sets $status; PARAMS go on the kernel command line after the rest.
boot() {
	local kernel=$1 test=$2
	shift 2
	timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" \
		--cmdline "$base vmmtest=$test${extra:+ $extra}" "$@" >"$out" 2>"$err"
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

# Under a --boot-timeout it easily makes (init writes the boot-timer port):
# the timer never fires, and says nothing (no --boot-timer).
boot "$bzimage" poweroff --cpus 2 --boot-timeout 10m </dev/null
[ "$status" = 0 ] || fail "poweroff: vmm exited $status, not 0"
grep -q 'VMM-TEST powering off' "$out" || fail "poweroff: init did not get to poweroff"
grep -q 'reboot: System halted' "$out" || fail "poweroff: the guest did not halt"
[ -s "$err" ] && fail "poweroff: unexpected stderr"
echo "PASS: poweroff (all vCPUs halted) ends with status 0, within its --boot-timeout"

# Without vmm_boot_timer=1 the init never writes the boot-timer port: to
# vmm the guest never boots, and it waits forever.
timeout 300 "$vmm" boot --kernel "$bzimage" --initrd "$initrd" \
	--cmdline "$base_no_timer vmmtest=wait" --boot-timeout 5 </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 4 ] || fail "boot-timeout: vmm exited $status, not 4"
[ "$(cat "$err")" = "vmm: guest did not boot within 5 s" ] ||
	fail "boot-timeout: stderr is not the one clear line"
echo "PASS: a guest that never boots is stopped by --boot-timeout: status 4 and one line"

boot "$bzimage" panic </dev/null
[ "$status" = 3 ] || fail "panic: vmm exited $status, not 3"
grep -q 'Kernel panic - not syncing' "$out" || fail "panic: the guest did not panic"
[ "$(cat "$err")" = "vmm: guest kernel panicked" ] || fail "panic: stderr is not the one clear line"
echo "PASS: a guest panic ends with status 3 and one line"

# reboot=t: Linux reboots by a triple fault, which KVM reports as a
# shutdown: vmm cannot tell it from a crash, so status 3.
extra=reboot=t boot "$bzimage" info </dev/null
[ "$status" = 3 ] || fail "triple fault: vmm exited $status, not 3"
grep -q 'reboot: Restarting system' "$out" || fail "triple fault: the guest did not reboot"
grep -q 'Kernel panic' "$out" && fail "triple fault: the guest panicked instead"
[ "$(cat "$err")" = "vmm: guest triple fault (CPU shutdown)" ] ||
	fail "triple fault: stderr is not the one clear line"
echo "PASS: a guest triple fault ends with status 3 and one line"

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

# The console's reader goes away: stdout is a FIFO whose reader (head)
# exits after the first line; then the guest, told on stdin, writes more
# and a block to its disk. vmm must neither die of SIGPIPE nor stop the
# guest: status 0, the block written, one line about the dropped output.
mkfifo "$dir/in" "$dir/console"
head -c 1M /dev/zero >"$dir/pipe.img"
exec 3<>"$dir/in"
head -n1 <"$dir/console" >"$dir/first" &
reader=$!
timeout 300 "$vmm" boot --kernel "$bzimage" --initrd "$initrd" --cmdline "$base vmmtest=pipe" \
	--disk "$dir/pipe.img" <"$dir/in" >"$dir/console" 2>"$err" &
pid=$!
wait "$reader"
echo "the reader is gone" >&3
wait "$pid"
status=$?
exec 3>&-
[ "$status" = 0 ] || fail "pipe: vmm exited $status, not 0"
[ -s "$dir/first" ] || fail "pipe: the reader got no line"
[ "$(head -c 37 "$dir/pipe.img")" = "written after the console reader went" ] ||
	fail "pipe: the guest did not run on to write its disk"
grep -Eqx 'vmm: console output: Broken pipe; [0-9]+ bytes of guest output dropped' "$err" &&
	[ "$(wc -l <"$err")" = 1 ] || fail "pipe: stderr is not the one line about dropped output"
echo "PASS: a console reader that goes away: the guest runs on, status 0, one line"
