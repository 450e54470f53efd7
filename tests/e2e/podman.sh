#!/usr/bin/env bash
# podman --runtime vmm-runtime: podman 4.3 and conmon drive vmm-runtime
# (create, start, state, delete; conmon holds the pid-file process): run
# with output and exit status, -i, and nothing left after --rm. Its own
# storage and run roots; no network (--network none), so nothing of the
# host's is touched.
# usage: podman.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../kvm/require-kvm.sh"
command -v podman >/dev/null || { echo "SKIP: no podman (scripts/setup installs it)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { if [ "$2" = "$3" ]; then pass "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
modprobe -q tun 2>/dev/null
pod=(podman --root "$dir/storage" --runroot "$dir/run" --cgroup-manager cgroupfs
	--events-backend file --runtime "$build/vmm-runtime")
"${pod[@]}" load -i "$build/busybox-image.tar" >/dev/null 2>"$dir/err" ||
	{ cat "$dir/err"; echo "FAIL: podman load"; exit 1; }
check "podman --runtime vmm-runtime run --rm busybox echo hi" hi \
	"$(timeout 300 "${pod[@]}" run --rm --network none busybox echo hi 2>"$dir/err")"
timeout 300 "${pod[@]}" run --rm --network none busybox sh -c 'exit 3' 2>>"$dir/err"
check "podman: the exit code comes through (3)" 3 "$?"
check "podman -i: stdin reaches the container" 2 \
	"$(printf 'a\nb\n' | timeout 300 "${pod[@]}" run --rm -i --network none busybox wc -l 2>>"$dir/err" | tr -d ' ')"
check "podman: nothing left after --rm" "0" "$("${pod[@]}" ps -aq | wc -l)"
check "podman: no vmm-runtime process left" 0 "$(pgrep -x vmm-runtime | wc -l)"
[ "$failures" = 0 ] || cat "$dir/err"
echo "podman e2e: $failures failed"
[ "$failures" = 0 ]
