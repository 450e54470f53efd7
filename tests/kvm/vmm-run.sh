#!/usr/bin/env bash
# vmm run --rootfs DIR -- CMD: a command in a container in a microVM, its
# stdio relayed and its status returned, on a busybox rootfs made here
# from Debian's static busybox.
#   - stdout and stderr apart, exit status 3; kill -9 -> 137;
#   - --boot-timer --exit-stats: the timeline's marks all there, in the
#     order of a run (bench/boot-time parses them), and the host cost;
#   - stdin piped in reaches the command (wc -l counts 2);
#   - 10 MiB of output arrives complete and in order (md5);
#   - SIGTERM to vmm run reaches the command (sleep) -> 143;
#   - inside: pid 1 is the container's init, the process is pid 2;
#     hostname, uid/gid, cwd and the environment exactly as asked;
#   - -t: an interactive shell on a terminal;
#   - a command that does not exist: one clear line and 127, as a shell;
#   - the rootfs is DIR itself over virtio-fs: a write inside lands in
#     DIR; --read-only: EROFS, DIR unchanged, and the share refuses writes
#     on the host side too; DIR as a plain IMAGE: writes go to an overlay;
#   - -v DIR:/data both ways; -v DIR:/data:ro refuses writes; a file
#     volume binds the one file; a symlink in the rootfs aiming a volume's
#     destination out of it stays inside;
#   - the guest panics under the running container: 255; the agent dies
#     before the container ran: 125; an agent that never connects is
#     stopped by --boot-timeout: 125; each with the reason and the console.
# usage: vmm-run.sh VMM
set -uo pipefail
vmm=$1
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
root=$dir/rootfs
mkdir -p "$root/bin" "$root/tmp" "$root/work"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
chmod 1777 "$root/tmp"
run() { timeout 300 "$vmm" run --rootfs "$root" "$@"; }

run -- sh -c 'echo out; echo err >&2; exit 3' >"$out" 2>"$err"
status=$?
[ "$status" = 3 ] || fail "exit 3: vmm run exited $status"
[ "$(cat "$out")" = out ] || fail "exit 3: stdout is not 'out'"
[ "$(cat "$err")" = err ] || fail "exit 3: stderr is not 'err'"
echo "PASS: stdout and stderr apart, exit status 3"

run --boot-timer --exit-stats -- true >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "timeline: vmm run exited $status"
marks="start loaded vm-created first-run first-exit init agent started exited stop done"
sed -n 's/^vmm: timeline-ns: //p' "$err" | tr ' ' '\n' | awk -F= -v want="$marks" '
	{ name[NR] = $1; ns[NR] = $2 }
	END {
		if (NR != split(want, w, " ")) exit 1
		for (i = 1; i <= NR; i++) if (name[i] != w[i] || (i > 1 && ns[i] < ns[i - 1])) exit 1
	}' || fail "timeline: marks missing or out of order: $(grep timeline-ns "$err")"
grep -Eq '^vmm: host: rss [0-9]+ KiB, pss [0-9]+ KiB, guest touched [0-9]+ KiB, vmm pss -?[0-9]+ KiB; cpu user [0-9.]+ ms, sys [0-9.]+ ms$' "$err" ||
	fail "exit stats: no host cost line: $(cat "$err")"
grep -Eq '^vmm: exits: [0-9]+ total' "$err" || fail "exit stats: no exits line"
echo "PASS: --boot-timer --exit-stats: the run's timeline in order and its host cost"

# vmm's own memory stays in small pages (vmm/selfmem.h): with THP in
# "always" mode, the only huge pages in a running vmm are guest memory's
# (the one mapping of --memory's size); its bss and a thread's stack had
# some before.
# huge PID: "SIZE KB" for each of PID's mappings holding huge pages.
huge() {
	python3 - "/proc/$1/smaps" <<'PY'
import re, sys
size = 0
for line in open(sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        size = int(m.group(2), 16) - int(m.group(1), 16)
    elif line.startswith("AnonHugePages:") and int(line.split()[1]) > 0:
        print(size, line.split()[1])
PY
}
if grep -q '\[always\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	run --memory 256M -- sleep 30 >"$out" 2>"$err" &
	runner=$!
	found=
	for _ in $(seq 100); do
		sleep 0.2
		pid=$(pgrep -n -x vmm) || continue
		found=$(huge "$pid" 2>/dev/null)
		[ -n "$found" ] || continue
		sleep 2 # the guest's memory is in: let the run's threads get going
		found=$(huge "$pid")
		break
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$runner"
	[ -n "$found" ] || fail "THP: no huge pages at all in vmm (guest memory has them)"
	others=$(awk '$1 != 268435456' <<<"$found")
	[ -z "$others" ] || fail "THP: huge pages outside guest memory (mapping size, kB): $others"
	echo "PASS: THP always: huge pages only in guest memory ($(awk '{print $2}' <<<"$found") kB)"
else
	echo "SKIP: THP is not in always mode here: no huge pages to keep out of vmm's own memory"
fi

run -- sh -c 'kill -9 $$' >"$out" 2>"$err"
status=$?
[ "$status" = 137 ] || fail "kill -9: vmm run exited $status, not 137"
echo "PASS: a command killed by SIGKILL -> 137"

printf 'a\nb\n' | run -- wc -l >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] && [ "$(tr -d ' ' <"$out")" = 2 ] || fail "stdin: wc -l gave '$(cat "$out")', status $status"
echo "PASS: stdin piped in reaches the command"

run -- sh -c 'yes 0123456789abcdef | head -c 10485760' >"$out" 2>"$err"
status=$?
want=$(yes 0123456789abcdef | head -c 10485760 | md5sum)
[ "$status" = 0 ] || fail "10 MiB: vmm run exited $status"
[ "$(md5sum <"$out")" = "$want" ] || fail "10 MiB: output of $(stat -c %s "$out") bytes does not match"
echo "PASS: 10 MiB of output complete and in order"

"$vmm" run --rootfs "$root" -- sh -c 'echo ready; exec sleep 1000' >"$out" 2>"$err" &
pid=$!
for _ in $(seq 300); do grep -q ready "$out" && break; sleep 0.2; done
grep -q ready "$out" || { kill -KILL "$pid"; fail "SIGTERM: the command never started"; }
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "SIGTERM: vmm run still running 20 s later"; }
wait "$pid"
status=$?
[ "$status" = 143 ] || fail "SIGTERM: vmm run exited $status, not 143"
echo "PASS: SIGTERM to vmm run ends the command: 143"

run --hostname box -u 1000:1001 -w /work -- sh -c \
	'echo "pid=$$ ppid=$PPID init=$(cat /proc/1/comm)"; echo "host=$(hostname)";
	 echo "ids=$(id -u):$(id -g)"; echo "cwd=$(pwd)"' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "inside: vmm run exited $status"
grep -qx 'pid=2 ppid=1 init=init' "$out" || fail "inside: not pid 2 under the container's init"
grep -qx 'host=box' "$out" || fail "inside: hostname"
grep -qx 'ids=1000:1001' "$out" || fail "inside: uid/gid"
grep -qx 'cwd=/work' "$out" || fail "inside: cwd"
run --ulimit nofile=100:200 -- sh -c 'echo "nofile=$(ulimit -n):$(ulimit -Hn)"' >"$out" 2>"$err"
grep -qx 'nofile=100:200' "$out" || fail "inside: --ulimit nofile=100:200 gave: $(cat "$out")"
# env itself as the command: exactly what it was given, nothing a shell adds.
run --hostname box -e FOO=bar -e 'EMPTY=' -- env >"$out" 2>"$err"
printf '%s\n' PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FOO=bar EMPTY= \
	HOSTNAME=box HOME=/root >"$dir/env.want"
cmp -s "$dir/env.want" "$out" || { diff "$dir/env.want" "$out"; fail "inside: environment"; }
echo "PASS: pid 1 is the container's init; hostname, ids, cwd, env and rlimits as asked"

# -t: a shell on a terminal (script(1) gives vmm run one), fed two lines.
printf 'echo $((6 * 7)) $TERM\nexit 5\n' |
	timeout 300 script -qec "$vmm run -t --rootfs $root -- sh" /dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 5 ] || fail "-t: exited $status, not 5"
tr -d '\r' <"$out" | grep -qx '42 xterm' || fail "-t: no answer from the shell on its terminal"
echo "PASS: -t gives the command a terminal: an interactive shell answers and exits 5"

run -- /no/such/command >"$out" 2>"$err"
status=$?
[ "$status" = 127 ] || fail "missing command: vmm run exited $status, not 127"
grep -q 'exec /no/such/command: No such file or directory' "$err" ||
	fail "missing command: no clear message"
echo "PASS: a missing command is reported: $(head -n1 "$err")"

# The rootfs is DIR itself: what the container writes is in DIR.
run -- sh -c 'echo from-guest >/tmp/by-container' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "rootfs: vmm run exited $status"
[ "$(cat "$root/tmp/by-container" 2>/dev/null)" = from-guest ] || fail "rootfs: the write is not in DIR"
echo "PASS: --rootfs DIR is shared: a write in the container appears in DIR"

# The agent raises the share's read-ahead to the VMM's largest READ.
run -- sh -c 'cat /sys/class/bdi/$(awk '"'"'$5 == "/" { print $3 }'"'"' /proc/self/mountinfo)/read_ahead_kb' \
	>"$out" 2>"$err"
[ "$(cat "$out")" = 512 ] || fail "read-ahead: the rootfs share's is $(cat "$out"), not 512"
echo "PASS: the rootfs share's read-ahead is 512 KiB"

# --read-only: the mount and the share both refuse writes (the container,
# root in its VM, remounts its root read-write: vmm itself still says
# EROFS). The mount points (/proc, /sys, /dev) are there from the runs
# above: a read-only root needs them.
before=$(cd "$root" && find . | sort | md5sum)
run --read-only -- sh -c 'echo x >/ro-file; echo "root=$?";
	mount -o remount,rw / && echo remounted;
	echo x >/ro-file; echo "share=$?"' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "--read-only: vmm run exited $status"
grep -qx 'root=1' "$out" && grep -qx 'share=1' "$out" && grep -qx remounted "$out" ||
	fail "--read-only: writes did not fail"
[ "$(grep -c 'Read-only file system' "$err")" = 2 ] || fail "--read-only: not EROFS both times"
[ "$(cd "$root" && find . | sort | md5sum)" = "$before" ] || fail "--read-only: DIR changed"
echo "PASS: --read-only: EROFS in the mount and from the share itself, DIR unchanged"

# The same DIR as a plain rootfs IMAGE: an overlay on a read-only share.
timeout 300 "$vmm" run "$root" sh -c 'echo x >/tmp/overlaid && cat /tmp/overlaid' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] && [ "$(cat "$out")" = x ] || fail "plain IMAGE: status $status"
[ -e "$root/tmp/overlaid" ] && fail "plain IMAGE: the write reached the directory"
echo "PASS: a directory as IMAGE: writes go to an overlay, the directory stays as it was"

# -v: both ways, read-only, a file.
vol=$dir/vol
mkdir -p "$vol" && echo from-host >"$vol/in" && echo sibling >"$dir/sibling"
echo line1 >"$dir/app.conf"
run -v "$vol:/data" -v "$dir/app.conf:/etc/app.conf" -- sh -c 'cat /data/in;
	echo from-container >/data/out; cat /etc/app.conf; echo line2 >>/etc/app.conf;
	ls /etc' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "-v: vmm run exited $status"
[ "$(cat "$out")" = "$(printf 'from-host\nline1\napp.conf')" ] || fail "-v: the container saw: $(cat "$out")"
[ "$(cat "$vol/out" 2>/dev/null)" = from-container ] || fail "-v: the container's write is not on the host"
[ "$(cat "$dir/app.conf")" = "$(printf 'line1\nline2')" ] || fail "-v file: the append is not on the host"
echo "PASS: -v DIR:/data and -v FILE:/etc/app.conf read and write both ways, the file alone"

before=$(cd "$vol" && find . -type f -exec md5sum {} + | sort | md5sum)
run -v "$vol:/data:ro" -- sh -c 'cat /data/in; echo x >/data/in; echo "over=$?";
	echo x >/data/new; echo "new=$?"' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "-v :ro: vmm run exited $status"
[ "$(cat "$out")" = "$(printf 'from-host\nover=1\nnew=1')" ] || fail "-v :ro: the container saw: $(cat "$out")"
grep -q 'Read-only file system' "$err" || fail "-v :ro: not EROFS"
[ "$(cd "$vol" && find . -type f -exec md5sum {} + | sort | md5sum)" = "$before" ] ||
	fail "-v :ro: the host directory changed"
echo "PASS: -v DIR:/data:ro: writes fail with EROFS, nothing changes on the host"

# A symlink in the (untrusted) rootfs aiming the destination out of it:
# resolved inside the root, so the mount point is made in DIR.
ln -s /../../../run "$root/escape"
run -v "$vol:/escape/x" -- sh -c 'cat /run/x/in' >"$out" 2>"$err"
status=$?
rm "$root/escape"
[ "$status" = 0 ] || fail "escape: vmm run exited $status"
[ "$(cat "$out")" = from-host ] || fail "escape: the volume is not at the root's /run/x"
[ -d "$root/run/x" ] || fail "escape: the mount point was not made inside DIR"
echo "PASS: /escape -> /../../../run in the rootfs: -v X:/escape/x lands on the root's own /run/x"

# A mount the agent cannot make: the whole reason comes back, exit 125.
run -v "$vol:/bin/sh" -- true >"$out" 2>"$err"
status=$?
[ "$status" = 125 ] || fail "bad mount point: vmm run exited $status, not 125"
grep -qx 'vmm run: create: mount point /bin/sh: not a directory' "$err" ||
	fail "bad mount point: no clear message"
echo "PASS: a directory volume onto a file: $(head -n1 "$err")"

# The guest dies while the container runs (the agent, its PID 1, with it):
# here a real panic the container causes (panic_on_oom, then it eats the
# guest's memory). 255, the VM's reason, and the console's last lines.
# The eater runs from /dev (the agent's tmpfs; /dev/shm is noexec): from
# the rootfs share, its own text is what the kernel evicts and faults back
# in near the end, a thrash that can hold the OOM (and the panic) off for
# minutes.
timeout 600 "$vmm" run --rootfs "$root" -- sh -c \
	'echo 1 >/proc/sys/vm/panic_on_oom && cp /bin/busybox /dev/busybox && echo armed &&
	 exec /dev/busybox tail /dev/zero' >"$out" 2>"$err"
status=$?
[ "$status" = 255 ] || fail "panic under the container: status $status, not 255: $(cat "$err")"
[ "$(cat "$out")" = armed ] || fail "panic under the container: stdout $(cat "$out")"
grep -qx 'vmm: guest kernel panicked' "$err" || fail "panic under the container: no reason line"
grep -qx 'vmm run: the VM stopped (status 3) while the container ran' "$err" ||
	fail "panic under the container: no clear line: $(cat "$err")"
grep -q 'Kernel panic' "$err" || fail "panic under the container: the console's lines are not shown"
echo "PASS: the guest panics under the container: 255 and $(grep -c . "$err") lines on stderr, the console's included"

# The agent dies before the container ran: an initramfs whose init exits
# at once (the kernel panics: init was killed). 125, one reason, and the
# console's last lines.
mkdir -p "$dir/badinit/bin"
cp /bin/busybox "$dir/badinit/bin/busybox"
printf '#!/bin/busybox sh\nexit 7\n' >"$dir/badinit/init"
chmod 755 "$dir/badinit/init"
(cd "$dir/badinit" && find . | cpio -o -H newc --quiet | gzip) >"$dir/badinit.cpio.gz"
timeout 600 "$vmm" run --initrd "$dir/badinit.cpio.gz" --rootfs "$root" -- true >"$out" 2>"$err"
status=$?
[ "$status" = 125 ] || fail "agent dies: status $status, not 125: $(cat "$err")"
grep -qx 'vmm run: the VM ended before its agent was ready' "$err" ||
	fail "agent dies: no clear line: $(cat "$err")"
grep -q 'Attempted to kill init' "$err" || fail "agent dies: the console's lines are not shown: $(cat "$err")"
echo "PASS: the agent dies before the container ran: 125, the reason and the console's last lines"

# The guest never connects its agent (an init that only sleeps): the boot
# timeout stops the VM. 125, the reason, and the console's last lines.
mkdir -p "$dir/hang/bin"
cp /bin/busybox "$dir/hang/bin/busybox"
printf '#!/bin/busybox sh\necho init-that-hangs\nexec /bin/busybox sleep 100000\n' >"$dir/hang/init"
chmod 755 "$dir/hang/init"
(cd "$dir/hang" && find . | cpio -o -H newc --quiet | gzip) >"$dir/hang.cpio.gz"
timeout 600 "$vmm" run --boot-timeout 5 --initrd "$dir/hang.cpio.gz" --rootfs "$root" -- true \
	>"$out" 2>"$err"
status=$?
[ "$status" = 125 ] || fail "agent never connects: status $status, not 125: $(cat "$err")"
grep -qx "vmm: the guest's agent did not connect within 5 s" "$err" ||
	fail "agent never connects: no reason line: $(cat "$err")"
grep -q 'init-that-hangs' "$err" || fail "agent never connects: the console's lines are not shown"
echo "PASS: an agent that never connects: stopped after --boot-timeout 5, 125, the reason and the console"
"$vmm" run --boot-timeout 0 --rootfs "$root" -- true >"$out" 2>"$err"
status=$?
[ "$status" = 2 ] && [ "$(cat "$err")" = "vmm run: --boot-timeout: '0' is not a duration from 1 s to 24h (N, Ns, Nm or Nh)" ] ||
	fail "--boot-timeout 0: status $status: $(cat "$err")"
echo "PASS: --boot-timeout 0: a usage error, one line"
