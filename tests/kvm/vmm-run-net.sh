#!/usr/bin/env bash
# vmm run --net: the container's eth0 configured by the agent from the
# host's request, in a network namespace this test makes with a tap of its
# own (tap0: 169.254.3.1/24 link-local and fd00:3::1/64 ULA; nothing
# routes off the machine), on a busybox rootfs made here.
#   - tap=,mac=,ip=,ip6=,gw=,gw6=,mtu=1400: eth0 has that MAC, MTU and
#     both addresses, the default routes go through the gateways; the
#     guest pings the host over IPv4 and IPv6; TCP guest -> host over both,
#     and host -> guest (busybox nc both ends, the bytes checked);
#   - no mtu=: eth0 takes the tap's MTU (1450 here), no routes asked, none
#     added;
#   - --net none (the default): loopback only, up (127.0.0.1 answers).
# usage: vmm-run-net.sh VMM
set -uo pipefail
vmm=$1
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces and taps need root"; exit 77; }
modprobe tun 2>/dev/null
# The outer machine of scripts/with-kvm may have a /dev made before the
# module was loaded.
[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; } ||
	{ echo "SKIP: no /dev/net/tun"; exit 77; }
ns=vmmrunnet$$ tap=tap0
in_ns() { ip netns exec "$ns" "$@"; }
cleanup() {
	local p
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "SKIP: cannot make a network namespace"; exit 77; }
in_ns ip link set lo up &&
	in_ns ip tuntap add "$tap" mode tap &&
	in_ns ip addr add 169.254.3.1/24 dev "$tap" &&
	in_ns ip addr add fd00:3::1/64 dev "$tap" nodad &&
	in_ns ip link set "$tap" up || fail "cannot set up $tap"

root=$dir/rootfs
mkdir -p "$root/bin" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
chmod 1777 "$root/tmp"
bb=/bin/busybox

# The host's side: a listener per family (its stdin a sleep, so it ends
# when the guest closes, not at once), and a client that tries until the
# guest listens.
in_ns sh -c "sleep 300 2>/dev/null | $bb nc -l -p 5101 >$dir/h4" &
in_ns sh -c "sleep 300 2>/dev/null | $bb nc -l -p 5103 >$dir/h6" &
(for _ in $(seq 200); do
	echo host-to-guest | timeout 5 ip netns exec "$ns" $bb nc 169.254.3.2 5102 && exit 0
	sleep 0.5
done; exit 1) >"$dir/hsend" 2>&1 &
send_pid=$!

guest='(sleep 300 2>/dev/null | nc -l -p 5102 >/tmp/got) & l=$!
echo "mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu)"
ip addr show dev eth0
ip route show
ip -6 route show
ping -c 1 -W 20 169.254.3.1 >/dev/null && echo ping4 ok
ping6 -c 1 -W 20 fd00:3::1 >/dev/null && echo ping6 ok
echo guest-to-host-v4 | nc 169.254.3.1 5101 && echo tcp4 sent
echo guest-to-host-v6 | nc fd00:3::1 5103 && echo tcp6 sent
# Not wait $l: the subshell lives as long as its sleep.
for i in $(seq 300); do [ -s /tmp/got ] && break; sleep 0.2; done
kill $l 2>/dev/null
echo "got=$(cat /tmp/got)"'
timeout 600 ip netns exec "$ns" "$vmm" run --rootfs "$root" \
	--net "tap=$tap,mac=02:00:00:00:03:02,ip=169.254.3.2/24,ip6=fd00:3::2/64,gw=169.254.3.1,gw6=fd00:3::1,mtu=1400" \
	-- sh -c "$guest" </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "vmm run --net exited $status"
grep -q '^mac=02:00:00:00:03:02 mtu=1400$' "$out" || fail "eth0's MAC or MTU is not what was asked"
grep -q 'inet 169.254.3.2/24 ' "$out" || fail "eth0 has no 169.254.3.2/24"
grep -q 'inet6 fd00:3::2/64 ' "$out" || fail "eth0 has no fd00:3::2/64"
grep -q '^default via 169.254.3.1 dev eth0' "$out" || fail "no IPv4 default route via 169.254.3.1"
grep -q '^default via fd00:3::1 dev eth0' "$out" || fail "no IPv6 default route via fd00:3::1"
grep -q '^ping4 ok$' "$out" || fail "the guest could not ping 169.254.3.1"
grep -q '^ping6 ok$' "$out" || fail "the guest could not ping fd00:3::1"
grep -q '^tcp4 sent$' "$out" && [ "$(cat "$dir/h4")" = guest-to-host-v4 ] ||
	fail "TCP guest -> host over IPv4: the host got '$(cat "$dir/h4")'"
grep -q '^tcp6 sent$' "$out" && [ "$(cat "$dir/h6")" = guest-to-host-v6 ] ||
	fail "TCP guest -> host over IPv6: the host got '$(cat "$dir/h6")'"
grep -q '^got=host-to-guest$' "$out" || fail "TCP host -> guest: the guest got nothing"
wait "$send_pid" || { cat "$dir/hsend"; fail "the host's client never reached the guest"; }
echo "PASS: eth0 with the MAC, MTU, IPv4 and IPv6 addresses and default routes asked for;" \
	"ping both ways of addressing; TCP guest -> host (IPv4, IPv6) and host -> guest"

# No mtu=: the tap's. Nothing else asked: no address but link-local ones,
# no routes.
in_ns ip link set "$tap" mtu 1450 || fail "cannot set the tap's MTU"
timeout 300 ip netns exec "$ns" "$vmm" run --rootfs "$root" --net "tap=$tap" \
	-- sh -c 'echo "mtu=$(cat /sys/class/net/eth0/mtu) mac=$(cat /sys/class/net/eth0/address)"
ip -4 addr show dev eth0; ip route show; echo routes-end' </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "vmm run --net tap= exited $status"
grep -q '^mtu=1450 mac=52:54:00:12:34:56$' "$out" ||
	fail "eth0 does not have the tap's MTU (1450) and the default MAC"
grep -q 'inet ' "$out" && fail "eth0 has an IPv4 address nobody asked for"
[ "$(sed -n '/^routes-end/q;/^default\|^[0-9]/p' "$out")" = "" ] || fail "routes nobody asked for"
echo "PASS: without mtu=, eth0 has the tap's MTU (1450); no address or route unasked"

# The default: loopback only (the container's own namespace), up.
timeout 300 "$vmm" run --rootfs "$root" -- sh -c \
	'ls /sys/class/net; ping -c 1 -W 10 127.0.0.1 >/dev/null && echo ping-lo' \
	</dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "vmm run without --net exited $status"
[ "$(tr -s ' \n' ' ' <"$out")" = "lo ping-lo " ] || fail "without --net the guest has '$(cat "$out")'"
echo "PASS: without --net, loopback only, up"
