#!/usr/bin/env bash
# Detached containers: vmm run -d, then vmm ps, exec, logs, stop and rm on
# it, in run and store directories of the test's own.
#   - run -d prints the name and returns once the container started;
#   - exec runs more commands in the same container: their output, exit
#     status, stdin, a missing command (127), the container's processes;
#   - logs shows the container's own output; stop ends it with SIGTERM
#     (status 143 in ps); exec on a stopped one is a clear error; rm frees
#     the name; a name in use is refused.
# usage: vmm-detach.sh VMM
set -uo pipefail
vmm=$1
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
export VMM_RUN_DIR=$dir/run VMM_STORE=$dir/store
root=$dir/rootfs
mkdir -p "$root/bin" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
cleanup() { "$vmm" stop -t 1 web >/dev/null 2>&1; }
trap 'cleanup; rm -rf "$dir"' EXIT

timeout 300 "$vmm" run -d --name web --rootfs "$root" -- \
	sh -c 'echo started; exec sleep 1000' >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "run -d: exited $status"
[ "$(cat "$out")" = web ] || fail "run -d: did not print the name"
"$vmm" ps >"$out" 2>"$err"
grep -qE '^web +.*rootfs +running +sh -c' "$out" || fail "ps: web is not listed as running"
echo "PASS: run -d returns with the name; ps lists it running"

timeout 120 "$vmm" exec web sh -c 'echo from-exec; hostname; exit 7' >"$out" 2>"$err"
status=$?
[ "$status" = 7 ] || fail "exec: exited $status, not 7"
[ "$(head -n1 "$out")" = from-exec ] && [ "$(sed -n 2p "$out")" = web ] ||
	fail "exec: wrong output: $(cat "$out")"
printf 'x\ny\n' | timeout 120 "$vmm" exec -i web wc -l >"$out" 2>"$err"
[ "$(tr -d ' ' <"$out")" = 2 ] || fail "exec -i: wc -l gave '$(cat "$out")'"
timeout 120 "$vmm" exec web /no/such >"$out" 2>"$err"
status=$?
[ "$status" = 127 ] || fail "exec of a missing command: $status, not 127"
timeout 120 "$vmm" exec web ps -o pid,args >"$out" 2>"$err"
grep -qE '^ +1 +/init' "$out" && grep -qE '^ +2 +sleep 1000' "$out" ||
	fail "exec ps: not the container's processes: $(cat "$out")"
echo "PASS: exec in the running container: output, status 7, stdin, 127, its processes"

"$vmm" logs web >"$out" 2>"$err"
grep -qx started "$out" || fail "logs: no 'started'"
echo "PASS: logs shows the container's output"

timeout 120 "$vmm" run -d --name web --rootfs "$root" -- true >"$out" 2>"$err" &&
	fail "a second container named web was started"
grep -q 'a container named web is running' "$err" || fail "name in use: no clear error"
echo "PASS: a name in use is refused"

timeout 60 "$vmm" stop web >"$out" 2>"$err" || fail "stop failed"
"$vmm" ps >"$out"
grep -qE '^web +.*exited \(143\)' "$out" || fail "stop: ps does not say exited (143): $(cat "$out")"
timeout 60 "$vmm" exec web true >"$out" 2>"$err"
status=$?
[ "$status" = 125 ] && grep -q 'container web is not running' "$err" ||
	fail "exec on a stopped container: $status, $(cat "$err")"
"$vmm" rm web >"$out" 2>"$err" || fail "rm failed"
"$vmm" ps | grep -q '^web ' && fail "rm: still listed"
timeout 300 "$vmm" run -d --rm --name web --rootfs "$root" -- true >"$out" 2>"$err" ||
	fail "the name was not freed by rm"
echo "PASS: stop ends it (143), exec then fails clearly, rm frees the name"
