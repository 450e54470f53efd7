#!/usr/bin/env bash
# vmm-runtime's checks of a config that need no KVM: a memory limit above
# the host's RAM is refused by create and run with one error, on stderr
# and in the --log JSON, before anything is made (no state directory, no
# process). VMM_KERNEL and VMM_INITRD point nowhere, so a runtime that let
# such a config through would fail later, and differently, rather than
# boot a VM.
# usage: vmm-runtime-cli.sh VMM_RUNTIME
set -uo pipefail
rt=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VMM_KERNEL=$tmp/no-kernel VMM_INITRD=$tmp/no-initrd
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

root=$tmp/root log=$tmp/log.json
bundle=$(mkdir -p "$tmp/bundle/rootfs" && cd "$tmp/bundle" && pwd -P)
# config LIMIT: the bundle's config.json with that memory limit.
config() {
	printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["true"],"cwd":"/"},"linux":{"resources":{"memory":{"limit":%s}}}}' \
		"$1" >"$bundle/config.json"
}

# The host's RAM as sysinfo reports it (MemTotal is totalram in KiB).
host_mib=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo) / 1024))
pib=$((1 << 50))
config "$pib"
msg="$bundle/config.json: linux.resources.memory.limit: '$pib' ($((pib >> 20)) MiB) is more than this host's memory ($host_mib MiB)"

# refused CMD: `vmm-runtime CMD --bundle B ID` exits 1 with exactly the one
# line on stderr and as the last line of the JSON log, and leaves neither a
# state directory nor a process.
refused() {
	local cmd=$1 id=mem-$1 status
	: >"$log"
	"$rt" --root "$root" --log "$log" --log-format json "$cmd" --bundle "$bundle" "$id" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	local err logged
	err=$(cat "$tmp/err")
	logged=$(tail -n1 "$log" | python3 -c '
import json, re, sys
j = json.loads(sys.stdin.read())
ok = j["level"] == "error" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", j["time"])
print(j["msg"] if ok else "bad log line: %r" % j)' 2>&1)
	if [ "$status" != 1 ] || [ "$err" != "vmm-runtime: $msg" ] || [ -s "$tmp/out" ]; then
		fail "$cmd: status $status, stdout [$(cat "$tmp/out")], stderr [$err] (want: vmm-runtime: $msg)"
	elif [ "$logged" != "$msg" ]; then
		fail "$cmd: the log's last line: $logged"
	elif [ -e "$root/$id" ]; then
		fail "$cmd: $root/$id was left behind"
	elif pgrep -f -- "--root $root" >/dev/null; then
		fail "$cmd: a process was left behind: $(pgrep -a -f -- "--root $root")"
	else
		echo "ok: $cmd refused (status $status): $err"
	fi
}
refused create
refused run

# A limit the host has passes the check: create gets as far as the
# kernel, which is missing here, and undoes itself.
config $((256 << 20))
"$rt" --root "$root" create --bundle "$bundle" mem-fits >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [ "$status" = 0 ] || grep -q "more than this host's memory" "$tmp/err" ||
	! grep -q "no-kernel" "$tmp/err"; then
	fail "a 256 MiB limit: status $status: $(cat "$tmp/err")"
elif [ -e "$root/mem-fits" ]; then
	fail "a 256 MiB limit: $root/mem-fits was left behind"
else
	echo "ok: a 256 MiB limit passes the check (status $status): $(tail -n1 "$tmp/err")"
fi

[ "$fails" = 0 ] || { echo "vmm-runtime-cli: $fails failed"; exit 1; }
echo "vmm-runtime-cli: all passed"
