#!/usr/bin/env bash
# virtio-vsock through vmm boot --vsock CID,PATH, the host side as Unix
# sockets. vsock-test (tests/guest/vsock-test.c) runs in the guest and on
# the host and moves 8 concurrent streams of 8 MiB each way (64 MiB in each
# direction), checking every byte and printing checksums of all it sent
# and received; the two sides' checksums must cross-match.
#   - host-initiated: the host connects to PATH with "CONNECT 1234";
#   - guest-initiated: the guest connects to CID 2 port 5000, which the
#     VMM connects to PATH_5000;
#   - a guest connect to a host port nobody listens on fails at once;
#   - a stale socket left at PATH by a VMM that was killed is replaced,
#     and PATH is removed when the VMM ends.
# usage: vmm-vsock.sh VMM BZIMAGE INITRAMFS VSOCK_TEST
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3 vt=$4
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
n=${VSOCK_TEST_STREAMS:-8} bytes=${VSOCK_TEST_BYTES:-$((8 << 20))}
sock=$dir/v.sock
host=$dir/host

# Waits up to $2 seconds for pattern $1 in file $3.
wait_for() {
	for _ in $(seq $(($2 * 5))); do grep -q "$1" "$3" && return 0; sleep 0.2; done
	return 1
}

# The checksums of the "ok" line of a vsock-test output: "SENT RECEIVED".
sums() {
	sed -n 's/.*vsock-test: [a-z]* [0-9]* streams, [0-9]* bytes each way each: ok sent=\([0-9a-f]*\) received=\([0-9a-f]*\).*/\1 \2/p' "$1" | tr -d '\r'
}

# Both sides are ok and what one sent is what the other received.
check_sums() {
	local g h
	g=$(sums "$out") h=$(sums "$host")
	[ -n "$g" ] || fail "$1: no ok line from the guest"
	[ -n "$h" ] || { cat "$host"; fail "$1: no ok line from the host"; }
	[ "${g% *}" = "${h#* }" ] && [ "${g#* }" = "${h% *}" ] ||
		fail "$1: checksums do not match: guest sent/received $g, host sent/received $h"
	echo "$1: guest sent/received $g; host sent/received $h"
}

"$vmm" boot --kernel "$kernel" --initrd "$initrd" --vsock "3,$sock" --cmdline \
	"$base vmmtest=vsock-listen vsock_port=1234 vsock_n=$n vsock_bytes=$bytes" \
	</dev/null >"$out" 2>"$err" &
pid=$!
wait_for 'vsock-test: listening' 120 "$out" || { kill "$pid"; fail "host-initiated: the guest never listened"; }
timeout 900 "$vt" connect "hybrid:$sock:1234" "$n" "$bytes" >"$host" 2>&1 ||
	{ cat "$host"; kill "$pid"; fail "host-initiated: the host side failed"; }
wait "$pid"
status=$?
[ "$status" = 0 ] || fail "host-initiated: vmm exited $status"
grep -q 'VMM-TEST vsock done' "$out" || fail "host-initiated: the guest side failed"
check_sums "host-initiated"
[ -e "$sock" ] && fail "the VMM left $sock behind"
[ -s "$err" ] && fail "host-initiated: unexpected stderr"
echo "PASS: host-initiated: $n streams, $((n * bytes >> 20)) MiB each way, every byte checked"

"$vt" listen "unix:${sock}_5000" "$n" "$bytes" >"$host" 2>&1 &
hpid=$!
wait_for listening 30 "$host" || fail "guest-initiated: the host side never listened"
timeout 900 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --vsock "3,$sock" --cmdline \
	"$base vmmtest=vsock-connect vsock_port=5000 vsock_n=$n vsock_bytes=$bytes" \
	</dev/null >"$out" 2>"$err"
status=$?
wait "$hpid" || { cat "$host"; fail "guest-initiated: the host side failed"; }
[ "$status" = 0 ] || fail "guest-initiated: vmm exited $status"
grep -q 'VMM-TEST vsock done' "$out" || fail "guest-initiated: the guest side failed"
check_sums "guest-initiated"
echo "PASS: guest-initiated: $n streams, $((n * bytes >> 20)) MiB each way, every byte checked"

# A stale socket at PATH (its listener SIGKILLed) is taken over.
"$vt" listen "unix:$sock" 1 1 >"$host" 2>&1 &
hpid=$!
wait_for listening 30 "$host" || fail "stale: no listener"
kill -KILL "$hpid"
wait "$hpid" 2>/dev/null
[ -S "$sock" ] || fail "stale: no stale socket to test with"
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --vsock "3,$sock" --cmdline \
	"$base vmmtest=vsock-refused vsock_port=6000" </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "refused: vmm exited $status"
grep -q '^VMM-TEST vsock connect: Connection reset by peer' "$out" ||
	fail "refused: the guest's connect to a port nobody listens on did not fail with a reset"
[ -e "$sock" ] && fail "refused: the VMM left $sock behind"
echo "PASS: a stale socket is replaced; a connect to a closed host port is reset"
