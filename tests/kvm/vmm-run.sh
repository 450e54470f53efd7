#!/usr/bin/env bash
# vmm run --rootfs DIR -- CMD: a command in a container in a microVM, its
# stdio relayed and its status returned, on a busybox rootfs made here
# from Debian's static busybox.
#   - stdout and stderr apart, exit status 3; kill -9 -> 137;
#   - stdin piped in reaches the command (wc -l counts 2);
#   - 10 MiB of output arrives complete and in order (md5);
#   - SIGTERM to vmm run reaches the command (sleep) -> 143;
#   - inside: pid 1 is the container's init, the process is pid 2;
#     hostname, uid/gid, cwd and the environment exactly as asked;
#   - -t: an interactive shell on a terminal;
#   - a command that does not exist: one clear line and 127, as a shell.
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
