#!/usr/bin/env bash
# virtio-net through vmm boot --net tap=NAME, in a network namespace the
# test makes (tests/kvm/netns.sh: tap0 at 169.254.0.1/16; the guest is
# 169.254.0.2). net-test (tests/guest/net-test.c) runs on both sides:
#   - the guest configures eth0 and pings the host;
#   - TCP both ways at once: the guest sends NET_TEST_BYTES (256 MiB) to
#     the host's port 5001 while the host sends as much to the guest's
#     port 5003; every byte is checked by the receiver, and the checksums
#     of the two ends of each connection must match;
#   - 2000 small UDP datagrams, one a millisecond, guest to host: each
#     arrives, in order;
#   - TCP both ways at once over IPv6 (ULA fd00::1 and fd00::2),
#     NET_TEST_BYTES6 (32 MiB) each way, checked the same way;
#   - backpressure: a guest that gives no receive buffers (eth0 down) while
#     the host sends 3000 datagrams leaves them in the tap, which drops
#     what its queue cannot hold (its tx_dropped counts them), and once
#     eth0 is up again the guest reaches the host;
#   - the tap deleted under a running guest: one clear line on stderr, the
#     guest sees its carrier drop, and the VM runs on to a clean end.
# usage: vmm-net.sh VMM BZIMAGE INITRAMFS NET_TEST
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3 nt=$4
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
. "$(dirname "$0")/netns.sh"
trap 'netns_cleanup; rm -rf "$dir"' EXIT
bytes=${NET_TEST_BYTES:-$((256 << 20))} count=${NET_TEST_UDP:-2000}
bytes6=${NET_TEST_BYTES6:-$((32 << 20))}

# Waits up to $2 seconds for pattern $1 in file $3.
wait_for() {
	for _ in $(seq $(($2 * 5))); do grep -q "$1" "$3" && return 0; sleep 0.2; done
	return 1
}

# The checksum on the "ok" line of a net-test output: sum FILE "tcp-send"
# (the only one) or sum FILE "tcp-send BYTES" (the one of that size).
sum() {
	local what=$2
	[[ $what == *" "* ]] || what="$what [0-9]*"
	sed -n "s/.*net-test: $what bytes ok fnv=\([0-9a-f]*\).*/\1/p" "$1" | tr -d '\r'
}

# Waits for host helper $1, which should end with the VM: 30 s at most,
# then it is killed (a guest that failed never connects to it).
reap() {
	for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill "$1" 2>/dev/null
	wait "$1"
}

in_ns "$nt" tcp-recv 5001 "$bytes" >"$dir/h-recv" 2>&1 &
recv_pid=$!
in_ns "$nt" udp-recv 5002 "$count" >"$dir/h-udp" 2>&1 &
udp_pid=$!
in_ns "$nt" tcp-send "$guest_ip" 5003 "$bytes" >"$dir/h-send" 2>&1 &
send_pid=$!
in_ns "$nt" tcp-recv 5006 "$bytes6" >"$dir/h-recv6" 2>&1 &
recv6_pid=$!
in_ns "$nt" tcp-send "$guest_ip6" 5007 "$bytes6" >"$dir/h-send6" 2>&1 &
send6_pid=$!
start=$(date +%s)
timeout 1200 ip netns exec "$ns" "$vmm" boot --kernel "$kernel" --initrd "$initrd" \
	--net "tap=$tap" --cmdline "$base vmmtest=net net_host=$host_ip net_guest=$guest_ip \
net_bytes=$bytes net_udp=$count net_host6=$host_ip6 net_guest6=$guest_ip6 \
net_bytes6=$bytes6" </dev/null >"$out" 2>"$err"
status=$?
secs=$(($(date +%s) - start))
reap "$recv_pid" || { cat "$dir/h-recv"; fail "the host's TCP receiver failed"; }
reap "$send_pid" || { cat "$dir/h-send"; fail "the host's TCP sender failed"; }
reap "$udp_pid" || { cat "$dir/h-udp"; fail "the host's UDP receiver failed"; }
reap "$recv6_pid" || { cat "$dir/h-recv6"; fail "the host's IPv6 TCP receiver failed"; }
reap "$send6_pid" || { cat "$dir/h-send6"; fail "the host's IPv6 TCP sender failed"; }
[ "$status" = 0 ] || fail "vmm exited $status"
grep -q 'VMM-TEST net ping ok' "$out" || fail "the guest could not ping the host"
grep -q 'VMM-TEST net done' "$out" || fail "the guest side failed"
g_send=$(sum "$out" "tcp-send $bytes") h_recv=$(sum "$dir/h-recv" tcp-recv)
h_send=$(sum "$dir/h-send" tcp-send) g_recv=$(sum "$out" "tcp-recv $bytes")
[ -n "$g_send" ] && [ "$g_send" = "$h_recv" ] ||
	fail "guest to host: checksums '$g_send' (guest) and '$h_recv' (host) differ"
[ -n "$h_send" ] && [ "$h_send" = "$g_recv" ] ||
	fail "host to guest: checksums '$h_send' (host) and '$g_recv' (guest) differ"
grep -q "udp-recv $count datagrams in order" "$dir/h-udp" || { cat "$dir/h-udp"; fail "UDP"; }
grep -q 'VMM-TEST net6 done' "$out" || fail "the guest side failed over IPv6"
g_send6=$(sum "$out" "tcp-send $bytes6") g_recv6=$(sum "$out" "tcp-recv $bytes6")
h_recv6=$(sum "$dir/h-recv6" tcp-recv) h_send6=$(sum "$dir/h-send6" tcp-send)
[ -n "$g_send6" ] && [ "$g_send6" = "$h_recv6" ] ||
	fail "IPv6 guest to host: checksums '$g_send6' (guest) and '$h_recv6' (host) differ"
[ -n "$h_send6" ] && [ "$h_send6" = "$g_recv6" ] ||
	fail "IPv6 host to guest: checksums '$h_send6' (host) and '$g_recv6' (guest) differ"
[ -s "$err" ] && fail "unexpected stderr"
echo "PASS: ping; TCP $((bytes >> 20)) MiB each way at once, every byte checked" \
	"(guest->host fnv=$g_send, host->guest fnv=$h_send); $count UDP datagrams in order;" \
	"IPv6 TCP $((bytes6 >> 20)) MiB each way (fnv=$g_send6, $h_send6) ($secs s in all)"

# Backpressure: no receive buffers, frames stay in the tap. The guest
# waits for a line on its console, written through a FIFO.
mkfifo "$dir/in"
ip netns exec "$ns" "$vmm" boot --kernel "$kernel" --initrd "$initrd" --net "tap=$tap" \
	--cmdline "$base vmmtest=net-stall net_host=$host_ip net_guest=$guest_ip" \
	<"$dir/in" >"$out" 2>"$err" &
pid=$!
exec 3>"$dir/in"
wait_for 'VMM-TEST net down' 120 "$out" || { kill "$pid"; fail "stall: eth0 never went down"; }
# eth0 is down, so the guest answers no ARP: give the host its MAC.
in_ns ip neigh replace "$guest_ip" lladdr 52:54:00:12:34:56 dev "$tap" nud permanent
before=$(in_ns cat "/sys/class/net/$tap/statistics/tx_dropped")
in_ns "$nt" udp-send "$guest_ip" 5010 3000 >"$dir/h-udp" 2>&1 ||
	{ kill "$pid"; cat "$dir/h-udp"; fail "stall: the host could not send"; }
after=$(in_ns cat "/sys/class/net/$tap/statistics/tx_dropped")
echo go >&3
exec 3>&-
timeout 300 tail --pid="$pid" -f /dev/null
wait "$pid"
status=$?
[ "$status" = 0 ] || fail "stall: vmm exited $status"
[ "$after" -gt "$before" ] || fail "stall: the tap dropped nothing ($before, $after): who held the frames?"
grep -q 'VMM-TEST net up again' "$out" || fail "stall: the guest could not reach the host afterwards"
[ -s "$err" ] && fail "stall: unexpected stderr"
echo "PASS: a guest without receive buffers: 3000 datagrams sent, the tap dropped" \
	"$((after - before)) it could not hold; the guest reached the host afterwards"

# The tap deleted under a running guest.
ip netns exec "$ns" "$vmm" boot --kernel "$kernel" --initrd "$initrd" --net "tap=$tap" \
	--cmdline "$base vmmtest=net-link" </dev/null >"$out" 2>"$err" &
pid=$!
wait_for 'VMM-TEST net carrier=1' 120 "$out" || { kill "$pid"; fail "link: the guest's link never came up"; }
in_ns ip link del "$tap" || { kill "$pid"; fail "link: cannot delete $tap"; }
timeout 300 tail --pid="$pid" -f /dev/null
wait "$pid"
status=$?
[ "$status" = 0 ] || fail "link: vmm exited $status"
grep -q 'VMM-TEST net now carrier=0' "$out" || fail "link: the guest's carrier did not drop"
grep -q "^vmm: net $tap: read: .*; the guest's link is down$" "$err" ||
	fail "link: no clear message on stderr"
echo "PASS: the tap deleted: '$(head -1 "$err")'; the guest saw its carrier drop and ran on"
